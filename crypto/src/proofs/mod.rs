//! Zero-knowledge proofs, all Fiat–Shamir via merlin transcripts (spec/crypto.md §6).
//!
//! - [`schnorr`]: proof of knowledge of a discrete log.
//! - [`disjunctive`]: disjunctive Chaum–Pedersen proofs ("one of these DH tuples"); with one
//!   branch it is the Chaum–Pedersen DLEQ proof. Ballots use it for 0/1 and 0..k selections,
//!   contest sums and plurality unit vectors.
//! - [`linking`]: a ciphertext and a Pedersen commitment hold the same value.
//! - [`range`]: aggregated Bulletproofs range proofs for any intervals `[a, b]`.
//!
//! Provers take the caller's transcript (already bound to the context and statement); verifiers
//! add their equations to an accumulator checked by one multiscalar multiplication.

pub mod disjunctive;
pub mod linking;
pub(crate) mod msm;
pub mod range;
pub mod schnorr;
#[cfg(test)]
mod tests;

use crate::group::EncodingError;

/// Why a proof was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProofError {
    /// The proof bytes are malformed.
    #[error(transparent)]
    Encoding(#[from] EncodingError),
    /// The proof has a different number of branches than its statement.
    #[error("{proof}: the proof has {found} branches but the statement has {expected}")]
    WrongBranchCount {
        /// Which proof.
        proof: &'static str,
        /// Branches in the statement.
        expected: usize,
        /// Branches in the proof.
        found: usize,
    },
    /// The proof's verification equations do not hold.
    #[error("{proof}: the proof does not verify")]
    EquationsFailed {
        /// Which proof.
        proof: &'static str,
    },
    /// The Bulletproofs range proof does not verify: a value is outside its interval.
    #[error("range proof does not verify: a value is outside its allowed interval")]
    RangeProofFailed,
    /// An interval is empty (`a > b`) or a value lies outside its interval at proving time.
    #[error("value {value} is outside the interval [{lo}, {hi}]")]
    ValueOutsideInterval {
        /// The value.
        value: u64,
        /// Lower bound.
        lo: u64,
        /// Upper bound.
        hi: u64,
    },
    /// Too many values for one aggregated range proof.
    #[error("{count} ranges in one proof; at most {max} are supported")]
    TooManyRanges {
        /// How many were asked for.
        count: usize,
        /// The limit.
        max: usize,
    },
    /// The witness does not satisfy the statement (a prover-side misuse).
    #[error("{proof}: the witness does not satisfy the statement")]
    WitnessMismatch {
        /// Which proof.
        proof: &'static str,
    },
}
