//! Tabella's web ballot. The Leptos booth, tracker, observer verifier and officials' dashboard
//! arrive with issue 7; today this crate only proves that the crypto crate links into it.

pub use tabella_crypto as crypto;
