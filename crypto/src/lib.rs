#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![warn(missing_docs)]
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod api;
pub mod ballot;
pub mod board;
pub mod booth;
pub mod ceremony;
pub mod credential;
pub mod elgamal;
pub mod group;
pub mod keystore;
pub mod manifest;
pub mod proofs;
pub mod record;
mod transcript;

pub use transcript::PROTOCOL_VERSION;

// The unit tests also run in headless Chromium (`cargo xtask test`, step browser-crypto): each
// test module imports wasm-bindgen-test's attribute as `test` on that target.
#[cfg(all(test, target_arch = "wasm32", target_os = "unknown"))]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);
