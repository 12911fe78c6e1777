//! The election record (spec/record.md) and its independent verifier (spec/verification.md).
//!
//! An election record is a directory of JSON documents, with the bulletin board as JSON Lines,
//! from which anyone can re-check the whole election without trusting any server:
//!
//! | file | type | what it holds |
//! |---|---|---|
//! | `record.json` | [`RecordIndex`] | format, election, every other file with its size and SHA-256 |
//! | `election.json` | [`SignedElectionParameters`] | protocol, manifest, board key, ceremony, joint key, credential digest; signed by the board |
//! | `credentials.json` | [`CredentialList`] | the eligible credential keys |
//! | `ceremony/ceremony.json` | [`CeremonyParams`](crate::ceremony::CeremonyParams) | the trustees and the threshold |
//! | `ceremony/dealer-N.json`, `ceremony/check-N.json` | key ceremony messages | commitments, proofs, encrypted shares, complaints |
//! | `ballots.jsonl` | [`RecordEntry`] per line | every cast, superseded and spoiled ballot with its receipt |
//! | `tree-head.json` | [`SignedTreeHead`](crate::board::SignedTreeHead) | the board's final signed tree head |
//! | `ceremony/tally-request.json` | [`TallyRequest`](crate::ceremony::TallyRequest) | the aggregates |
//! | `ceremony/partial-N.json` | [`PartialDecryptionMessage`](crate::ceremony::PartialDecryptionMessage) | partial decryptions with proofs |
//! | `results.json` | [`Results`] | the tally |
//! | `anchors.json` (optional) | [`Anchors`] | chain references: checkpoints, fallback ballots taken and refused |
//!
//! The verifier ([`RecordVerifier`]) does no I/O: the caller hands it the documents, then the
//! bytes of `ballots.jsonl` in chunks of any size, and asks for the [`Report`]. Ballots are
//! checked in batches as they stream by, so memory does not grow with the number of ballots (it
//! grows with the number of credentials, which the verifier must hold to check eligibility).
//!
//! Given what the registry contract holds for the election ([`ChainEvidence`], read by the
//! caller: the verifier does no I/O), it also compares the record with the chain (V20, V21).

mod chain;
pub(crate) mod types;
mod verify;

#[cfg(any(test, feature = "synth"))]
pub mod synth;
#[cfg(test)]
mod tests;

pub use chain::{
    trustee_keys_digest, ChainCheckpoint, ChainDispute, ChainElection, ChainEvidence,
    ChainFallbackBallot, ChainResult, TRUSTEE_KEYS_DOMAIN,
};
pub use types::{
    credentials_digest, AnchoredCheckpoint, Anchors, ContestResult, CredentialList,
    ElectionParameters, EntryStatus, FallbackBallot, RecordEntry, RecordFile, RecordIndex,
    RejectedFallbackBallot, Results, SelectionResult, SignedElectionParameters, PARAMETERS_DOMAIN,
    RECORD_DOMAIN, RECORD_FORMAT,
};
pub use verify::{
    ChainSummary, Check, CheckReport, Counts, Outcome, RecordVerifier, Report, VerifyOptions,
};

/// The index of the record.
pub const INDEX: &str = "record.json";
/// The signed election parameters.
pub const ELECTION: &str = "election.json";
/// The credential list.
pub const CREDENTIALS: &str = "credentials.json";
/// The board, one entry per line.
pub const BALLOTS: &str = "ballots.jsonl";
/// The board's final signed tree head.
pub const TREE_HEAD: &str = "tree-head.json";
/// The results.
pub const RESULTS: &str = "results.json";
/// The chain anchors (optional).
pub const ANCHORS: &str = "anchors.json";
/// The key ceremony's parameters.
pub const CEREMONY: &str = "ceremony/ceremony.json";
/// The tally request (absent when no ballot counts).
pub const TALLY_REQUEST: &str = "ceremony/tally-request.json";

/// The path of trustee `i`'s dealer message.
pub fn dealer_path(i: u32) -> String {
    format!("ceremony/dealer-{i}.json")
}

/// The path of trustee `j`'s check message.
pub fn check_path(j: u32) -> String {
    format!("ceremony/check-{j}.json")
}

/// The path of trustee `j`'s partial decryption.
pub fn partial_path(j: u32) -> String {
    format!("ceremony/partial-{j}.json")
}
