//! The group layer: Ristretto255 points and scalars, their canonical encodings, and the fixed
//! generators (spec/crypto.md §2–§3).

mod encoding;
mod generators;

pub use encoding::{
    decode_point, decode_point_nonidentity, decode_scalar, fixed, serde_element, text, Element,
    EncodingError,
};
pub(crate) use encoding::{hex32, serde_hex, Reader};
pub(crate) use generators::{bulletproof_gens, g_table, h_compressed, h_table, pedersen_gens};
pub use generators::{g, h, H_LABEL, MAX_AGGREGATED_RANGES};

/// The canonical encoding of `H`, pinned here and in the spec.
#[cfg(test)]
pub(crate) const H_HEX: &str = "320f77cf335947fb6ca3f7f9ed211af85b58c73f127894679915e03d595a8a31";

pub use curve25519_dalek::ristretto::{CompressedRistretto, RistrettoPoint};
pub use curve25519_dalek::scalar::Scalar;
