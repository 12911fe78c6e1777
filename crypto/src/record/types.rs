//! The documents of an election record (spec/record.md). Every document refuses unknown fields;
//! binary values are lowercase hex (keys, hashes, ids) or standard padded base64 (ballots).

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::ballot::{ElectionId, SpoiledBallot, TrackingCode};
use crate::board::{BoardKey, BoardSignature, BoardSigningKey, EntryKind, Receipt};
use crate::ceremony::{Canonical, CeremonyId, TallyOutcome};
use crate::credential::{CredentialKey, CredentialReplacement};
use crate::elgamal::PublicKey;
use crate::manifest::{Manifest, ManifestHash};

/// The value of [`RecordIndex::format`] this verifier reads.
pub const RECORD_FORMAT: &str = "tabella-record/1";

/// Domain separator of the record digest ([`RecordIndex::digest`]).
pub const RECORD_DOMAIN: &[u8] = b"tabella/v1/record";

/// Domain separator of the board's signature on the election parameters
/// ([`ElectionParameters::signing_message`]).
pub const PARAMETERS_DOMAIN: &[u8] = b"tabella/v1/election-parameters";

/// `#[serde(with = "hex32")]`: 32 bytes as exactly 64 lowercase hex digits.
pub(crate) use crate::group::hex32;

/// `record.json`: what the record holds. Its [`digest`](Self::digest) identifies the whole record
/// (it is what the chain anchors).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordIndex {
    /// [`RECORD_FORMAT`].
    pub format: String,
    /// The election.
    pub election_id: ElectionId,
    /// Every other file of the record, sorted by path.
    pub files: Vec<RecordFile>,
}

/// One file of the record.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordFile {
    /// The path inside the record directory, with `/` separators (`ceremony/dealer-1.json`).
    pub path: String,
    /// Its length in bytes.
    pub size: u64,
    /// SHA-256 of its bytes.
    #[serde(with = "hex32")]
    pub sha256: [u8; 32],
}

impl RecordFile {
    /// Describes the file `path` holding `bytes`.
    pub fn describe(path: impl Into<String>, bytes: &[u8]) -> Self {
        Self {
            path: path.into(),
            size: bytes.len() as u64,
            sha256: Sha256::digest(bytes).into(),
        }
    }
}

impl RecordIndex {
    /// The record digest (spec/record.md §5):
    ///
    /// ```text
    /// SHA-256( len(RECORD_DOMAIN) ‖ RECORD_DOMAIN ‖ len(format) ‖ format ‖ election id
    ///          ‖ u32(files) ‖ for each file: len(path) ‖ path ‖ u64(size) ‖ sha256 )
    /// ```
    /// with lengths and counts little-endian (`u64` lengths, `u32` count).
    pub fn digest(&self) -> [u8; 32] {
        self.digest_of(self.files.iter())
    }

    /// The digest the chain anchors with the result (spec/record.md §5): the record digest
    /// computed as if `anchors.json` were not listed. `anchors.json` names the very transaction
    /// that publishes this digest, so it cannot be covered by it.
    pub fn anchored_digest(&self) -> [u8; 32] {
        self.digest_of(self.files.iter().filter(|f| f.path != super::ANCHORS))
    }

    fn digest_of<'a>(&self, files: impl Iterator<Item = &'a RecordFile> + Clone) -> [u8; 32] {
        let mut w = Canonical::new(RECORD_DOMAIN);
        w.bytes(self.format.as_bytes());
        w.fixed(&self.election_id.0);
        w.u32(files.clone().count() as u32);
        for file in files {
            w.bytes(file.path.as_bytes());
            w.u64(file.size);
            w.fixed(&file.sha256);
        }
        w.sha256()
    }
}

/// The public parameters of an election, fixed when voting opens and signed by the board.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ElectionParameters {
    /// The protocol version ([`PROTOCOL_VERSION`](crate::PROTOCOL_VERSION)); it fixes the group
    /// (ristretto255), the hash (SHA-256), the signatures (Ed25519), the generators and every
    /// encoding.
    pub protocol: u64,
    /// The election.
    pub election_id: ElectionId,
    /// The manifest: contests, selections and their rules.
    pub manifest: Manifest,
    /// SHA-256 of the manifest's canonical encoding (spec/crypto.md §7).
    pub manifest_hash: ManifestHash,
    /// The key that signs these parameters, the tree heads and the receipts.
    pub board_key: BoardKey,
    /// The key ceremony that made the joint key.
    pub ceremony_id: CeremonyId,
    /// The number of trustees.
    pub trustees: u32,
    /// How many of them must take part in the tally.
    pub threshold: u32,
    /// The joint election key.
    pub joint_key: PublicKey,
    /// The number of eligible credentials.
    pub credentials: u64,
    /// [`credentials_digest`] of the credential list.
    #[serde(with = "hex32")]
    pub credentials_digest: [u8; 32],
}

impl ElectionParameters {
    /// The bytes the board signs:
    ///
    /// ```text
    /// len ‖ PARAMETERS_DOMAIN ‖ u64(protocol) ‖ election id ‖ manifest hash ‖ board key
    ///   ‖ ceremony id ‖ u32(trustees) ‖ u32(threshold) ‖ joint key ‖ u64(credentials)
    ///   ‖ credentials digest
    /// ```
    /// (little-endian integers, `u64` length before the domain). The manifest is bound through
    /// its hash, which the verifier recomputes.
    pub fn signing_message(&self) -> Vec<u8> {
        let mut w = Canonical::new(PARAMETERS_DOMAIN);
        w.u64(self.protocol);
        w.fixed(&self.election_id.0);
        w.fixed(&self.manifest_hash.0);
        w.fixed(&self.board_key.to_bytes());
        w.fixed(&self.ceremony_id.0);
        w.u32(self.trustees);
        w.u32(self.threshold);
        w.fixed(&self.joint_key.to_bytes());
        w.u64(self.credentials);
        w.fixed(&self.credentials_digest);
        w.as_slice().to_vec()
    }

    /// Signs the parameters with the board key.
    pub fn sign(self, key: &BoardSigningKey) -> SignedElectionParameters {
        let signature = key.sign(&self.signing_message());
        SignedElectionParameters {
            parameters: self,
            signature,
        }
    }
}

/// `election.json`: the parameters with the board's signature.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignedElectionParameters {
    /// The parameters.
    pub parameters: ElectionParameters,
    /// The board's signature on [`ElectionParameters::signing_message`].
    pub signature: BoardSignature,
}

impl SignedElectionParameters {
    /// Whether the signature verifies under the parameters' own board key (`verify_strict`).
    pub fn signature_holds(&self) -> bool {
        self.parameters
            .board_key
            .verify(&self.parameters.signing_message(), &self.signature)
    }
}

pub use crate::credential::credentials_digest;

/// `credentials.json` (and `GET /v1/election/credentials`): the public list of eligible
/// credential keys.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CredentialList {
    /// The credential keys, sorted by their bytes, each once.
    pub credentials: Vec<CredentialKey>,
    /// [`credentials_digest`] of the keys in this order.
    #[serde(with = "hex32")]
    pub digest: [u8; 32],
    /// The credentials replaced before voting opened, in the order they were replaced
    /// (credentials.md §7, CRED-LIST-2): replayed backwards from this list they lead to the list
    /// first uploaded. Absent from the JSON when there were none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub replacements: Vec<CredentialReplacement>,
}

/// Whether a board entry counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EntryStatus {
    /// The last cast ballot of its credential: it counts.
    Counted,
    /// A cast ballot replaced by a later ballot of the same credential.
    Superseded,
    /// A challenged ballot: published with its opening, never counted.
    Spoiled,
}

impl EntryStatus {
    /// `"counted"`, `"superseded"` or `"spoiled"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Counted => "counted",
            Self::Superseded => "superseded",
            Self::Spoiled => "spoiled",
        }
    }
}

/// One line of `ballots.jsonl`: a board entry with the receipt the board gave for it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordEntry {
    /// Position on the board (the Merkle leaf index), from 0.
    pub index: u64,
    /// The ballot's tracking code: the Merkle leaf hash of its bytes.
    pub tracking_code: TrackingCode,
    /// Cast or spoiled.
    pub kind: EntryKind,
    /// Counted, superseded or spoiled (at the close of voting).
    pub status: EntryStatus,
    /// The ballot's credential key.
    pub credential: CredentialKey,
    /// The ballot's canonical bytes, base64.
    pub ballot: String,
    /// The opening of a spoiled ballot.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub opening: Option<SpoiledBallot>,
    /// The board's signed receipt.
    pub receipt: Receipt,
}

/// One decrypted total.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SelectionResult {
    /// Selection id.
    pub id: String,
    /// Selection label.
    pub label: String,
    /// The decrypted total.
    pub total: u64,
}

/// One contest's results.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContestResult {
    /// Contest id.
    pub id: String,
    /// Contest title.
    pub title: String,
    /// Totals per selection, in manifest order.
    pub selections: Vec<SelectionResult>,
}

/// `results.json` (and `GET /v1/election/results`): the decrypted tally.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Results {
    /// The election.
    pub election_id: ElectionId,
    /// Ballots counted.
    pub ballots_counted: u64,
    /// Per contest, in manifest order.
    pub contests: Vec<ContestResult>,
    /// The trustees whose partial decryptions were combined (1-based indices).
    pub combined: Vec<u32>,
    /// The qualified trustees who sent no partial decryption.
    pub absent: Vec<u32>,
    /// The root of the board the tally covers (hex).
    pub board_root: String,
    /// The board size the tally covers.
    pub board_size: u64,
}

impl Results {
    /// The results of `manifest` from the tally's decrypted totals, in manifest order, and the
    /// trustees it combined and found absent; every total 0 and no trustee named when `tally`
    /// is `None` (no ballot counts, nothing to decrypt). The service publishes these at the
    /// tally, and the verifier recomputes them (V18).
    pub fn from_tally(
        election_id: ElectionId,
        manifest: &Manifest,
        ballots_counted: u64,
        tally: Option<&TallyOutcome>,
        board_root: &[u8; 32],
        board_size: u64,
    ) -> Self {
        let mut totals = tally
            .into_iter()
            .flat_map(|t| t.totals.iter().map(|(_, v)| *v));
        Self {
            election_id,
            ballots_counted,
            contests: manifest
                .contests
                .iter()
                .map(|c| ContestResult {
                    id: c.id.clone(),
                    title: c.title.clone(),
                    selections: c
                        .selections
                        .iter()
                        .map(|s| SelectionResult {
                            id: s.id.clone(),
                            label: s.label.clone(),
                            total: totals.next().unwrap_or(0),
                        })
                        .collect(),
                })
                .collect(),
            combined: tally.map(|t| t.combined.clone()).unwrap_or_default(),
            absent: tally.map(|t| t.absent.clone()).unwrap_or_default(),
            board_root: hex::encode(board_root),
            board_size,
        }
    }
}

/// `anchors.json`: where the election is anchored on an EVM chain.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Anchors {
    /// The chain id (EIP-155).
    pub chain_id: u64,
    /// The registry contract's address, `0x` and 40 lowercase hex digits.
    pub contract: String,
    /// The transaction that registered the election, `0x` and 64 lowercase hex digits.
    pub election_transaction: String,
    /// The board's checkpoints, by growing size.
    pub checkpoints: Vec<AnchoredCheckpoint>,
    /// Ballots cast through the contract, which the board must hold.
    pub fallback: Vec<FallbackBallot>,
    /// Ballots cast through the contract that the board refused, with the reason.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rejected: Vec<RejectedFallbackBallot>,
    /// The transaction that published the result, once published.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result_transaction: Option<String>,
}

/// A ballot cast through the contract that the board did not take (not a valid ballot of this
/// election: it does not decode, its signature or proofs fail, or its credential is not on the
/// list). The verifier re-checks that it is indeed invalid.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RejectedFallbackBallot {
    /// The casting transaction.
    pub transaction: String,
    /// Its position in the contract's list of fallback ballots for the election (from 0).
    pub chain_index: u64,
    /// `SHA-256(0x00 ‖ ballot)`, as the contract stored it.
    pub tracking_code: TrackingCode,
    /// Why the board refused it, in words.
    pub reason: String,
}

/// A signed tree head's size and root as anchored by a checkpoint transaction.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnchoredCheckpoint {
    /// The tree size.
    pub size: u64,
    /// The Merkle root at that size.
    #[serde(with = "hex32")]
    pub root: [u8; 32],
    /// The checkpoint transaction.
    pub transaction: String,
}

/// A ballot cast through the contract (fallback casting) and where the board put it. Two
/// fallback ballots with the same bytes (or one the board already held) name the same entry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FallbackBallot {
    /// The casting transaction.
    pub transaction: String,
    /// Its position in the contract's list of fallback ballots for the election (from 0).
    pub chain_index: u64,
    /// The board entry that holds the ballot.
    pub index: u64,
    /// The ballot's tracking code.
    pub tracking_code: TrackingCode,
}
