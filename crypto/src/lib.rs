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
