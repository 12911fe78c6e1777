#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![warn(missing_docs)]
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod challenge;
pub mod chart;
pub mod error;
pub mod explain;
pub mod helper;
pub mod history;
pub mod outcome;
pub mod paths;
pub mod rules;
pub mod stats;
pub mod verdict;

#[cfg(target_arch = "wasm32")]
mod components;
#[cfg(target_arch = "wasm32")]
mod web;

pub use tabella_crypto as crypto;

/// The WebAssembly entry point: mounts the app on the page's `<body>`.
#[cfg(target_arch = "wasm32")]
#[wasm_bindgen::prelude::wasm_bindgen(start)]
pub fn start() {
    // The same module runs the booth's helper in a Web Worker, which has no page to mount on.
    if web_sys::window().is_none() {
        return;
    }
    leptos::mount::mount_to_body(components::app::App);
}

/// The booth's helper, started by `app/worker.js` in its Web Worker.
#[cfg(target_arch = "wasm32")]
pub use web::worker::worker_main;
