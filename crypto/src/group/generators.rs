//! The fixed generators of the protocol, derived from labelled hashes (spec/crypto.md §3).
//!
//! - `G` is the Ristretto255 basepoint.
//! - `H` = `RistrettoPoint::hash_from_bytes::<Sha512>(b"tabella/v1/generator/H")` (RFC 9496 §4.3.4
//!   one-way map of a SHA-512 digest): nobody knows `log_G H`.
//! - Pedersen commitments for range proofs use `(G, H)`; the Bulletproofs vector generators are the
//!   `bulletproofs` crate's own (SHAKE256 chains), whose discrete-log relations nobody knows either.
//!
//! The election public key is never used as a Pedersen generator: the trustees jointly know its log.

use std::sync::OnceLock;

use bulletproofs::{BulletproofGens, PedersenGens};
use curve25519_dalek::constants::{RISTRETTO_BASEPOINT_POINT, RISTRETTO_BASEPOINT_TABLE};
use curve25519_dalek::ristretto::{RistrettoBasepointTable, RistrettoPoint};
use sha2::Sha512;

/// The label hashed to `H`.
pub const H_LABEL: &[u8] = b"tabella/v1/generator/H";

/// The largest number of values one aggregated range proof may carry.
pub const MAX_AGGREGATED_RANGES: usize = 64;

/// `G`, the Ristretto255 basepoint.
pub fn g() -> RistrettoPoint {
    RISTRETTO_BASEPOINT_POINT
}

/// A precomputed table for constant-time multiplication by `G`.
pub(crate) fn g_table() -> &'static RistrettoBasepointTable {
    RISTRETTO_BASEPOINT_TABLE
}

/// `H`, the second generator, hashed from [`H_LABEL`].
pub fn h() -> RistrettoPoint {
    static H: OnceLock<RistrettoPoint> = OnceLock::new();
    *H.get_or_init(|| RistrettoPoint::hash_from_bytes::<Sha512>(H_LABEL))
}

/// The canonical encoding of `H`.
pub(crate) fn h_compressed() -> [u8; 32] {
    static H: OnceLock<[u8; 32]> = OnceLock::new();
    *H.get_or_init(|| h().compress().to_bytes())
}

/// A precomputed table for constant-time multiplication by `H`.
pub(crate) fn h_table() -> &'static RistrettoBasepointTable {
    static T: OnceLock<RistrettoBasepointTable> = OnceLock::new();
    T.get_or_init(|| RistrettoBasepointTable::create(&h()))
}

/// The Pedersen generators `(B, B_blinding) = (G, H)` for value commitments.
pub(crate) fn pedersen_gens() -> PedersenGens {
    PedersenGens {
        B: g(),
        B_blinding: h(),
    }
}

/// The Bulletproofs generators: 64-bit ranges, up to [`MAX_AGGREGATED_RANGES`] values per proof.
pub(crate) fn bulletproof_gens() -> &'static BulletproofGens {
    static GENS: OnceLock<BulletproofGens> = OnceLock::new();
    GENS.get_or_init(|| BulletproofGens::new(64, MAX_AGGREGATED_RANGES))
}

#[cfg(test)]
mod tests {
    use super::*;
    use curve25519_dalek::traits::IsIdentity;
    #[cfg(all(target_arch = "wasm32", target_os = "unknown"))]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn h_is_fixed_and_independent_of_g() {
        // Pinned in spec/crypto.md §3.
        assert_eq!(hex::encode(h().compress().as_bytes()), crate::group::H_HEX,);
        assert_ne!(h(), g());
        assert!(!h().is_identity());
    }
}
