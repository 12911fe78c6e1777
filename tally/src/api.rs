//! The JSON documents of the election service's HTTP API (spec/api.md). They live in
//! [`tabella_crypto::api`], shared with the web ballot; this module re-exports them for the
//! service ([`crate::service`]) and its clients ([`crate::client`]).

pub use tabella_crypto::api::*;
