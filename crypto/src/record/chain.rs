//! What an EVM chain says about an election (spec/record.md §4.9, spec/anchoring.md): the
//! registry contract's view of one election, read by the caller (the `tabella` binary reads it
//! from the embedded chain or over JSON-RPC) and handed to the verifier as plain data, so the
//! verifier stays pure (no I/O) and builds for wasm32.
//!
//! Also the digests the chain anchors that the record alone defines:
//! [`trustee_keys_digest`], [`RecordIndex::anchored_digest`](super::RecordIndex::anchored_digest)
//! and the tally digest (the SHA-256 of `results.json`, as listed in `record.json`).

use serde::{Deserialize, Serialize};

use super::types::hex32;
use crate::ceremony::{Canonical, CeremonyParams};

/// Domain separator of [`trustee_keys_digest`].
pub const TRUSTEE_KEYS_DOMAIN: &[u8] = b"tabella/v1/trustee-keys";

/// The digest of the trustees' keys that the registry stores at election creation:
///
/// ```text
/// SHA-256( u64(len(domain)) ‖ "tabella/v1/trustee-keys" ‖ election_id ‖ u32(threshold)
///          ‖ u32(n) ‖ for each trustee in index order: identity_key (32 bytes) )
/// ```
pub fn trustee_keys_digest(params: &CeremonyParams) -> [u8; 32] {
    let mut w = Canonical::new(TRUSTEE_KEYS_DOMAIN);
    w.fixed(&params.election_id.0);
    w.u32(params.threshold);
    w.u32(params.trustees.len() as u32);
    for trustee in &params.trustees {
        w.fixed(&trustee.identity_key.to_bytes());
    }
    w.sha256()
}

/// The registry's state for one election, as read from the chain.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChainEvidence {
    /// The chain id (EIP-155) the evidence was read from (`eth_chainId`).
    pub chain_id: u64,
    /// The registry contract's address, `0x` and 40 lowercase hex digits.
    pub contract: String,
    /// The election's creation, or `None` when the registry does not know the election.
    pub election: Option<ChainElection>,
    /// Every checkpoint, in the order the contract stored them.
    pub checkpoints: Vec<ChainCheckpoint>,
    /// Every fallback ballot, in the order the contract stored them.
    pub fallback: Vec<ChainFallbackBallot>,
    /// The published result, if any.
    pub result: Option<ChainResult>,
}

/// `ElectionCreated`: what the registry bound when the election was created.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChainElection {
    /// The creating transaction, `0x` and 64 lowercase hex digits.
    pub transaction: String,
    /// The operator's address (the creator), `0x` and 40 lowercase hex digits.
    pub operator: String,
    /// The chain id the creation was bound to.
    pub chain_id: u64,
    /// The manifest hash.
    #[serde(with = "hex32")]
    pub manifest_hash: [u8; 32],
    /// The credential list's digest.
    #[serde(with = "hex32")]
    pub credentials_digest: [u8; 32],
    /// [`trustee_keys_digest`].
    #[serde(with = "hex32")]
    pub trustee_keys_digest: [u8; 32],
    /// The joint election key (compressed ristretto255).
    #[serde(with = "hex32")]
    pub joint_key: [u8; 32],
    /// The board's Ed25519 public key.
    #[serde(with = "hex32")]
    pub board_key: [u8; 32],
    /// Voting opens (Unix seconds, block time).
    pub opens_at: u64,
    /// Voting closes (Unix seconds, block time): fallback casting ends, publishing may begin.
    pub closes_at: u64,
    /// The challenge window after the result, in seconds.
    pub challenge_period: u64,
}

/// `Checkpointed`: a signed tree head the operator anchored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChainCheckpoint {
    /// The checkpoint transaction.
    pub transaction: String,
    /// The tree size.
    pub size: u64,
    /// The Merkle root at that size.
    #[serde(with = "hex32")]
    pub root: [u8; 32],
    /// The signed tree head's timestamp (Unix milliseconds).
    pub timestamp_ms: u64,
    /// The board's Ed25519 signature on the tree head (64 bytes, lowercase hex).
    pub signature: String,
}

/// `FallbackBallotCast`: a ballot a voter cast through the contract.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChainFallbackBallot {
    /// The casting transaction.
    pub transaction: String,
    /// Its position in the contract's list of fallback ballots for the election (from 0).
    pub chain_index: u64,
    /// The digest the contract stored: `SHA-256(0x00 ‖ ballot)`, the ballot's tracking code.
    #[serde(with = "hex32")]
    pub digest: [u8; 32],
    /// The ballot bytes from the event (canonical ballot encoding), standard padded base64 as
    /// in `ballots.jsonl`.
    pub ballot: String,
}

/// `ResultPublished` (and the disputes filed against it).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChainResult {
    /// The publishing transaction.
    pub transaction: String,
    /// The tally digest: SHA-256 of `results.json`.
    #[serde(with = "hex32")]
    pub tally_digest: [u8; 32],
    /// The record digest without `anchors.json`
    /// ([`RecordIndex::anchored_digest`](super::RecordIndex::anchored_digest)).
    #[serde(with = "hex32")]
    pub record_digest: [u8; 32],
    /// The final tree head's size.
    pub final_size: u64,
    /// The final tree head's root.
    #[serde(with = "hex32")]
    pub final_root: [u8; 32],
    /// The end of the challenge window (Unix seconds, block time).
    pub challenge_ends_at: u64,
    /// The disputes filed, in order.
    pub disputes: Vec<ChainDispute>,
}

/// `DisputeFiled`: someone disputes the result, pointing at evidence by its digest.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChainDispute {
    /// The dispute transaction.
    pub transaction: String,
    /// Who filed it.
    pub challenger: String,
    /// The digest of the evidence.
    #[serde(with = "hex32")]
    pub evidence_digest: [u8; 32],
}
