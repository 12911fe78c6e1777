//! Tabella's anchoring contract and its Rust bindings arrive with issue 6.
