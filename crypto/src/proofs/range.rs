//! Aggregated Bulletproofs range proofs for arbitrary intervals `[a, b]` (spec/crypto.md §6.5).
//!
//! For a Pedersen commitment `V = v·G + s·H` and an interval `[a, b]`, the prover shows
//! `v − a ∈ [0, 2ⁿ)` for `V − a·G` (blinding `s`) and `b − v ∈ [0, 2ⁿ)` for `b·G − V`
//! (blinding `−s`), hence `a ≤ v ≤ b` (as `2ⁿ⁺¹ < ℓ`). All intervals of a statement go into one
//! aggregated proof, padded to a power of two with the public commitment `H` (value 0,
//! blinding 1). `n` is the smallest of 8, 16, 32, 64 with `b − a < 2ⁿ` for every interval.
//!
//! The verifier derives every commitment it checks from the ballot's own commitments and the
//! public bounds: the prover never supplies them.

use bulletproofs::RangeProof as Bulletproof;
use curve25519_dalek::ristretto::{CompressedRistretto, RistrettoPoint};
use curve25519_dalek::scalar::Scalar;
use merlin::Transcript;

use super::msm::WeightRng;
use super::ProofError;
use crate::group::{
    bulletproof_gens, g_table, pedersen_gens, EncodingError, Reader, MAX_AGGREGATED_RANGES,
};
use crate::transcript::{labels, TranscriptProtocol};

/// An inclusive interval `[lo, hi]` of allowed values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Interval {
    /// Smallest allowed value.
    pub lo: u64,
    /// Largest allowed value.
    pub hi: u64,
}

impl Interval {
    /// `[lo, hi]`.
    pub const fn new(lo: u64, hi: u64) -> Self {
        Self { lo, hi }
    }
}

/// The bit width and aggregation size of a range proof over some intervals.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RangeShape {
    /// Bits per value (8, 16, 32 or 64).
    pub bits: usize,
    /// Values in the aggregated proof (a power of two).
    pub values: usize,
}

impl RangeShape {
    /// The shape used for these intervals.
    pub fn for_intervals(
        intervals: impl IntoIterator<Item = Interval>,
    ) -> Result<Self, ProofError> {
        let mut count = 0usize;
        let mut widest = 0u64;
        for i in intervals {
            if i.lo > i.hi {
                return Err(ProofError::ValueOutsideInterval {
                    value: i.lo,
                    lo: i.lo,
                    hi: i.hi,
                });
            }
            widest = widest.max(i.hi - i.lo);
            count += 1;
        }
        let values = (2 * count).max(1).next_power_of_two();
        if values > MAX_AGGREGATED_RANGES {
            return Err(ProofError::TooManyRanges {
                count: 2 * count,
                max: MAX_AGGREGATED_RANGES,
            });
        }
        let bits = [8usize, 16, 32]
            .into_iter()
            .find(|&b| widest < (1u64 << b))
            .unwrap_or(64);
        Ok(Self { bits, values })
    }

    /// Encoded proof length: `32·(9 + 2·log₂(bits·values))`.
    pub fn proof_len(&self) -> usize {
        let k = (self.bits * self.values).trailing_zeros() as usize;
        32 * (9 + 2 * k)
    }
}

/// An aggregated range proof over a list of intervals.
#[derive(Clone, Debug)]
pub struct RangeProof {
    proof: Bulletproof,
    shape: RangeShape,
}

impl PartialEq for RangeProof {
    fn eq(&self, other: &Self) -> bool {
        self.shape == other.shape && self.proof.to_bytes() == other.proof.to_bytes()
    }
}
impl Eq for RangeProof {}

fn bind(t: &mut Transcript, intervals: &[Interval], shape: RangeShape) {
    t.domain_sep(labels::RANGE, intervals.len() as u64);
    t.append_u64(b"bits", shape.bits as u64);
    for i in intervals {
        t.append_u64(b"lo", i.lo);
        t.append_u64(b"hi", i.hi);
    }
}

impl RangeProof {
    /// Proves `lo ≤ vᵢ ≤ hi` for each `(vᵢ, sᵢ, [lo, hi])`, where `Vᵢ = vᵢ·G + sᵢ·H`.
    pub(crate) fn prove(
        t: &mut Transcript,
        items: &[(u64, Scalar, Interval)],
        rng: &mut impl WeightRng,
    ) -> Result<Self, ProofError> {
        let intervals: Vec<Interval> = items.iter().map(|(_, _, i)| *i).collect();
        let shape = RangeShape::for_intervals(intervals.iter().copied())?;
        let mut values = Vec::with_capacity(shape.values);
        let mut blindings = Vec::with_capacity(shape.values);
        for (v, s, i) in items {
            if *v < i.lo || *v > i.hi {
                return Err(ProofError::ValueOutsideInterval {
                    value: *v,
                    lo: i.lo,
                    hi: i.hi,
                });
            }
            values.extend([v - i.lo, i.hi - v]);
            blindings.extend([*s, -s]);
        }
        values.resize(shape.values, 0);
        blindings.resize(shape.values, Scalar::ONE);
        bind(t, &intervals, shape);
        let (proof, _) = Bulletproof::prove_multiple_with_rng(
            bulletproof_gens(),
            &pedersen_gens(),
            t,
            &values,
            &blindings,
            shape.bits,
            rng,
        )
        .map_err(|_| ProofError::RangeProofFailed)?;
        Ok(Self { proof, shape })
    }

    /// Verifies that each commitment `Vᵢ` opens to a value in its interval.
    pub(crate) fn verify(
        &self,
        t: &mut Transcript,
        items: &[(RistrettoPoint, Interval)],
        rng: &mut impl WeightRng,
    ) -> Result<(), ProofError> {
        let intervals: Vec<Interval> = items.iter().map(|(_, i)| *i).collect();
        let shape = RangeShape::for_intervals(intervals.iter().copied())?;
        if shape != self.shape {
            return Err(ProofError::RangeProofFailed);
        }
        let mut commitments: Vec<CompressedRistretto> = Vec::with_capacity(shape.values);
        for (v, i) in items {
            let lo = v - g_table() * &Scalar::from(i.lo);
            let hi = g_table() * &Scalar::from(i.hi) - v;
            commitments.extend([lo.compress(), hi.compress()]);
        }
        commitments.resize(
            shape.values,
            CompressedRistretto(crate::group::h_compressed()),
        );
        bind(t, &intervals, shape);
        self.proof
            .verify_multiple_with_rng(
                bulletproof_gens(),
                &pedersen_gens(),
                t,
                &commitments,
                shape.bits,
                rng,
            )
            .map_err(|_| ProofError::RangeProofFailed)
    }

    /// The proof's shape.
    pub fn shape(&self) -> RangeShape {
        self.shape
    }

    /// # Layout
    /// The `bulletproofs` crate's encoding: `A ‖ S ‖ T₁ ‖ T₂ ‖ t_x ‖ t̃ ‖ ẽ ‖ (Lᵢ ‖ Rᵢ)* ‖ a ‖ b`,
    /// `32·(9 + 2·log₂(n·m))` bytes.
    pub fn write(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.proof.to_bytes());
    }

    /// Reads a proof of the given shape: exact length, canonical scalars. (Points are decompressed,
    /// and non-canonical ones rejected, during verification.)
    pub(crate) fn read(reader: &mut Reader<'_>, shape: RangeShape) -> Result<Self, ProofError> {
        let bytes = reader.take(shape.proof_len(), "range proof")?;
        let proof =
            Bulletproof::from_bytes(bytes).map_err(|_| EncodingError::NonCanonicalScalar {
                what: "range proof",
            })?;
        Ok(Self { proof, shape })
    }
}
