//! Folding verification equations into one multiscalar multiplication (spec/crypto.md §6.1).
//!
//! Every sigma-protocol check in the crate has the form `Σ sᵢ·Pᵢ = 0`. Instead of evaluating
//! each, a verifier multiplies each equation by a fresh random weight and adds them up; one
//! variable-time multiscalar multiplication then checks them all. A false equation survives the
//! random combination with probability 2⁻¹²⁸ (the weights are 128-bit). Terms on the fixed generators `G` and `H`, and on
//! repeated keys (the election key), are merged, so a batch of ballots costs one term per key.

use curve25519_dalek::ristretto::{CompressedRistretto, RistrettoPoint};
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::{IsIdentity, VartimeMultiscalarMul};
use rand_core::{CryptoRng, RngCore};

use crate::group::{g, h, Element};

/// A point of a verification equation.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Base<'a> {
    /// The generator `G`.
    G,
    /// The generator `H`.
    H,
    /// A point that recurs across equations (a key): its terms are merged.
    Keyed(&'a Element),
    /// Any other point.
    Point(&'a Element),
}

/// Random weights for the folded equations: a CSPRNG that the prover cannot predict.
pub(crate) trait WeightRng: RngCore + CryptoRng {}
impl<T: RngCore + CryptoRng> WeightRng for T {}

/// Accumulated terms of weighted verification equations, checked by one multiscalar
/// multiplication.
#[derive(Clone, Default)]
pub(crate) struct Msm {
    g: Scalar,
    h: Scalar,
    keyed: Vec<(CompressedRistretto, RistrettoPoint, Scalar)>,
    scalars: Vec<Scalar>,
    points: Vec<RistrettoPoint>,
}

impl Msm {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// A uniformly random 128-bit weight for the next equation. A false equation then survives
    /// the combination with probability at most 2⁻¹²⁸; the short weights halve the work of the
    /// terms they multiply alone (the proofs' commitments).
    pub(crate) fn weight(rng: &mut impl WeightRng) -> Scalar {
        let mut bytes = [0u8; 32];
        rng.fill_bytes(&mut bytes[..16]);
        Scalar::from_bytes_mod_order(bytes)
    }

    /// Adds `s·P` to the combined equation.
    pub(crate) fn push(&mut self, s: Scalar, base: Base<'_>) {
        match base {
            Base::G => self.g += s,
            Base::H => self.h += s,
            Base::Keyed(e) => self.push_keyed(e.bytes, e.point, s),
            Base::Point(e) => {
                self.scalars.push(s);
                self.points.push(e.point);
            }
        }
    }

    /// Adds `s·P` to the merged term of the key `P` (encoded as `bytes`).
    fn push_keyed(&mut self, bytes: CompressedRistretto, point: RistrettoPoint, s: Scalar) {
        match self.keyed.iter_mut().find(|(b, _, _)| *b == bytes) {
            Some((_, _, acc)) => *acc += s,
            None => self.keyed.push((bytes, point, s)),
        }
    }

    /// Adds every term of another accumulator.
    pub(crate) fn absorb(&mut self, other: &Msm) {
        self.g += other.g;
        self.h += other.h;
        for (bytes, point, s) in &other.keyed {
            self.push_keyed(*bytes, *point, *s);
        }
        self.scalars.extend_from_slice(&other.scalars);
        self.points.extend_from_slice(&other.points);
    }

    /// Whether every accumulated equation holds (with overwhelming probability).
    pub(crate) fn holds(&self) -> bool {
        let scalars = self
            .scalars
            .iter()
            .chain(self.keyed.iter().map(|(_, _, s)| s))
            .chain([&self.g, &self.h]);
        let points = self
            .points
            .iter()
            .chain(self.keyed.iter().map(|(_, p, _)| p))
            .copied()
            .chain([g(), h()]);
        RistrettoPoint::vartime_multiscalar_mul(scalars, points).is_identity()
    }
}
