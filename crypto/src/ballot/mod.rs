//! Encrypted ballots: encryption with validity proofs, the canonical encoding, single and batch
//! verification, and Benaloh spoiling (spec/crypto.md §8–§10).
//!
//! A ballot holds, per contest in manifest order, one ciphertext per selection and the proofs
//! that the contest's rules hold; it carries the voter's credential key and is signed with it.
//! Every proof's transcript binds the protocol version, election id, manifest hash, joint key and
//! credential key, so a ballot copied onto another credential or election fails to verify.

mod context;
mod encoding;
pub(crate) mod prove;
mod spoil;
mod verify;

#[cfg(test)]
mod tests;

pub use context::{ElectionContext, ElectionId};
pub use encoding::{Ballot, TrackingCode, BALLOT_VERSION};
pub use prove::{BallotSecrets, SIGNATURE_CONTEXT};
pub use spoil::SpoiledBallot;
pub use verify::BatchVerificationError;

use crate::credential::CredentialError;
use crate::group::EncodingError;
use crate::manifest::ChoiceError;
use crate::proofs::ProofError;

/// Why a ballot could not be made, decoded or verified.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BallotError {
    /// The ballot bytes are malformed.
    #[error("malformed ballot: {0}")]
    Encoding(#[from] EncodingError),
    /// The ballot is for another election.
    #[error("ballot is for election {found}, not {expected}")]
    WrongElection {
        /// This election's id (hex).
        expected: String,
        /// The ballot's election id (hex).
        found: String,
    },
    /// The ballot's version byte is not one this implementation verifies.
    #[error("ballot format version {0} is not supported (expected {BALLOT_VERSION})")]
    UnsupportedVersion(u8),
    /// The credential key is malformed, or the signature does not verify under it.
    #[error("ballot signature: {0}")]
    Credential(#[from] CredentialError),
    /// The signature does not verify under the ballot's credential key.
    #[error("the ballot's signature does not verify under its credential key")]
    SignatureInvalid,
    /// A contest's validity proofs do not verify.
    #[error("contest `{contest}`: validity proof rejected: {source}")]
    ContestProofRejected {
        /// Contest id.
        contest: String,
        /// The proof failure.
        source: ProofError,
    },
    /// The choices break the manifest's rules (when encrypting or checking a spoiled ballot).
    #[error(transparent)]
    InvalidChoices(#[from] ChoiceError),
    /// A spoiled ballot's revealed choices or randomness do not reproduce its ciphertexts.
    #[error("contest `{contest}`, selection `{selection}`: the revealed choice and randomness do not reproduce the encrypted ballot")]
    SpoiledOpeningMismatch {
        /// Contest id.
        contest: String,
        /// Selection id.
        selection: String,
    },
    /// A spoiled ballot's revealed data has the wrong shape for the manifest.
    #[error("spoiled ballot reveals {found} values where the ballot has {expected}")]
    SpoiledShapeMismatch {
        /// Values the ballot encrypts.
        expected: usize,
        /// Values revealed.
        found: usize,
    },
}
