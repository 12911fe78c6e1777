//! The JSON documents of the election service's HTTP API (spec/api.md), shared by the service
//! (`tabella serve`), its command-line clients and the web ballot (`tabella-ballot-app`), so
//! every side reads and writes exactly the same shapes.
//!
//! Binary values travel as lowercase hex (keys, hashes, ids) or standard base64 with padding
//! (ballots). Every document refuses unknown fields, so a typo in a client is an error rather
//! than a silently ignored value.

use crate::ballot::{ElectionId, SpoiledBallot, TrackingCode};
use crate::board::receipt::{BoardKey, EntryKind};
use crate::elgamal::PublicKey;
use crate::manifest::Manifest;
use serde::{Deserialize, Serialize};

/// The documents the service shares with the election record (spec/record.md): the credential
/// list, the results, and an entry's status.
pub use crate::record::{
    ContestResult, CredentialList, EntryStatus, RecordEntry, Results, SelectionResult,
    SignedElectionParameters,
};

/// The documents a registrar makes offline and the officials upload (spec/credentials.md §7):
/// the public credential list and a credential replacement.
pub use crate::credential::{CredentialReplacement, PublicCredentialList};

/// The life of an election on the service. It only moves forward.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ElectionState {
    /// Created: the key ceremony runs and the credential list is imported. No ballot is
    /// accepted.
    Setup,
    /// Voting: ballots are accepted.
    Open,
    /// Voting is over: the counted ballots are verified and aggregated, then the trustees
    /// decrypt the aggregate.
    Closed,
    /// The totals are decrypted and published.
    Tallied,
}

impl ElectionState {
    /// The state's name as stored and shown (`setup`, `open`, `closed`, `tallied`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Setup => "setup",
            Self::Open => "open",
            Self::Closed => "closed",
            Self::Tallied => "tallied",
        }
    }

    /// The state named `name`.
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "setup" => Some(Self::Setup),
            "open" => Some(Self::Open),
            "closed" => Some(Self::Closed),
            "tallied" => Some(Self::Tallied),
            _ => None,
        }
    }
}

impl std::fmt::Display for ElectionState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `POST /v1/election`: create the election from a manifest.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateElection {
    /// The election's manifest (contests, selections, rules).
    pub manifest: Manifest,
}

/// Counts of board entries.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BoardCounts {
    /// Entries on the board (cast and spoiled ballots).
    pub size: u64,
    /// Ballots that count: the last cast ballot of each credential.
    pub counted: u64,
    /// Cast ballots replaced by a later ballot of the same credential.
    pub superseded: u64,
    /// Spoiled (challenged) ballots, published and never counted.
    pub spoiled: u64,
}

/// Progress of the verification and aggregation of the counted ballots at close.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Aggregation {
    /// Counted ballots verified and added so far.
    pub done: u64,
    /// Counted ballots to verify and add.
    pub total: u64,
    /// Whether the aggregate is complete and the tally request published.
    pub complete: bool,
}

/// `GET /v1/election`: the election as the service sees it.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ElectionInfo {
    /// The election id.
    pub election_id: ElectionId,
    /// Where the election is in its life.
    pub state: ElectionState,
    /// The manifest.
    pub manifest: Manifest,
    /// SHA-256 of the manifest's canonical encoding (hex).
    pub manifest_hash: String,
    /// The key that signs the board's tree heads and receipts.
    pub board_key: BoardKey,
    /// The joint election key, once the key ceremony is complete and voting is open.
    pub joint_key: Option<PublicKey>,
    /// The key ceremony's id, once `ceremony.json` is published.
    pub ceremony_id: Option<String>,
    /// Number of eligible voters (credential keys), once the credential list is imported.
    pub voters: Option<u64>,
    /// SHA-256 of the sorted list of credential keys (hex), once the credential list is
    /// imported.
    pub credentials_digest: Option<String>,
    /// Board counts.
    pub board: BoardCounts,
    /// Aggregation progress, once the election is closed.
    pub aggregation: Option<Aggregation>,
}

/// One voter's credential code, as the registrar issued it (`codes.csv` of `tabella credentials
/// generate`): what the voter's letter or e-mail carries. The service never sees one.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IssuedCredential {
    /// The voter's id from the roll.
    pub voter_id: String,
    /// The credential code (21 characters, spec/credentials.md §2).
    pub code: String,
}

/// The answer of `PUT /v1/election/credentials` (the body is a [`PublicCredentialList`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CredentialsImported {
    /// Number of credential keys: the eligible voters.
    pub voters: u64,
    /// The list's digest (hex), as in [`CredentialList::digest`].
    pub credentials_digest: String,
    /// `true` when this exact list (same digest) was already imported: nothing changed.
    pub already_imported: bool,
}

/// The answer of `POST /v1/election/credentials/replacements` (the body is a
/// [`CredentialReplacement`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CredentialReplaced {
    /// Number of credential keys (unchanged by a replacement).
    pub voters: u64,
    /// The list's digest before the replacement (hex).
    pub previous_digest: String,
    /// The list's digest now (hex).
    pub credentials_digest: String,
    /// How many credentials have been replaced so far, this one included.
    pub replacements: u64,
    /// `true` when this replacement had already been applied: nothing changed.
    pub already_applied: bool,
}

/// `POST /v1/election/ballots`: cast a ballot.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CastBallot {
    /// The ballot's canonical bytes, base64.
    pub ballot: String,
}

/// `POST /v1/election/spoiled`: publish a challenged (Benaloh) ballot with its opening.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpoilBallot {
    /// The ballot's canonical bytes, base64.
    pub ballot: String,
    /// The revealed choices and randomness.
    pub opening: SpoiledBallot,
}

/// One entry of the bulletin board.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BoardEntry {
    /// Position on the board (the Merkle leaf index), from 0.
    pub index: u64,
    /// The ballot's tracking code (its leaf hash).
    pub tracking_code: TrackingCode,
    /// Cast or spoiled.
    pub kind: EntryKind,
    /// Whether it counts (as of now).
    pub status: EntryStatus,
    /// The ballot's credential key (hex).
    pub credential: String,
    /// The ballot's canonical bytes, base64.
    pub ballot: String,
    /// The opening of a spoiled ballot.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub opening: Option<SpoiledBallot>,
    /// When the board received it, in milliseconds since the Unix epoch.
    pub received_at: u64,
}

/// `GET /v1/board/entries?start=N&limit=M`: a page of the board.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BoardPage {
    /// The entries, by index.
    pub entries: Vec<BoardEntry>,
    /// The `start` of the next page, or `None` when this page reaches the end of the board.
    pub next: Option<u64>,
    /// The board's size when the page was read.
    pub size: u64,
}

/// `GET /v1/board/track/{tracking_code}`: what became of one ballot (spec/api.md, API-TRACK-1).
///
/// The tracker checks what it can of it: each entry's tracking code is the leaf hash of its
/// ballot bytes, the ballot is signed by the entry's credential, both are under the signed root;
/// a replacement is a later cast ballot under the same credential. That no later ballot
/// replaces a counted one, it cannot check without the whole board (the observer page can).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrackAnswer {
    /// Where the election is in its life when the service answered.
    pub state: ElectionState,
    /// The board's size when the service answered; both entries are below it.
    pub size: u64,
    /// The ballot's entry.
    pub entry: BoardEntry,
    /// The later ballot that replaced it (its credential's last cast ballot) when
    /// [`BoardEntry::status`] is superseded, else absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replaced_by: Option<BoardEntry>,
}

/// `GET /v1/board/inclusion/{tracking_code}?size=N`: where a ballot is, and the proof.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InclusionAnswer {
    /// The ballot's index on the board.
    pub index: u64,
    /// The tree size the proof is for.
    pub size: u64,
    /// The tree's root at that size (hex).
    pub root: String,
    /// The audit path (hex hashes), RFC 9162 order.
    pub path: Vec<String>,
}

/// `GET /v1/board/consistency?from=A&to=B`: proof that the board at `to` extends the board at
/// `from`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsistencyAnswer {
    /// The smaller size.
    pub from: u64,
    /// The larger size.
    pub to: u64,
    /// The root at `from` (hex).
    pub from_root: String,
    /// The root at `to` (hex).
    pub to_root: String,
    /// The consistency path (hex hashes), RFC 9162 order.
    pub path: Vec<String>,
}

/// The body of every error answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// A stable, machine-readable code (spec/api.md lists them all).
    pub error: String,
    /// What went wrong, in words a person can act on.
    pub message: String,
}

/// The answer of `GET /v1/anchoring` (spec/api.md §12): where and how far the service has
/// anchored the election on an EVM chain.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnchoringStatus {
    /// Whether the service anchors at all (`tabella serve --embedded-chain` or `--rpc-url`).
    pub enabled: bool,
    /// The chain id (EIP-155), once the chain has answered.
    pub chain_id: Option<u64>,
    /// The registry contract's address (`0x` and 40 lowercase hex digits), once known.
    pub contract: Option<String>,
    /// The operator's address: the account that sends the anchoring transactions.
    pub operator: Option<String>,
    /// When voting closes on chain (Unix seconds, block time), once the election is registered.
    pub closes_at: Option<u64>,
    /// The age of the oldest item not anchored yet, in seconds (0 when none).
    pub lag_seconds: f64,
    /// Every item of the anchoring queue, in the order they are sent.
    pub items: Vec<AnchorItem>,
}

/// What an item of the anchoring queue anchors.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AnchorKind {
    /// The election's registration (`createElection`), when voting opens.
    Election,
    /// A signed tree head of the board (`checkpoint`).
    Checkpoint,
    /// The result (`publishResult`), after the tally.
    Result,
}

impl AnchorKind {
    /// Its name in the API and in metrics labels.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Election => "election",
            Self::Checkpoint => "checkpoint",
            Self::Result => "result",
        }
    }

    /// The kind named `name`.
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "election" => Some(Self::Election),
            "checkpoint" => Some(Self::Checkpoint),
            "result" => Some(Self::Result),
            _ => None,
        }
    }
}

/// Where an item of the anchoring queue stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AnchorState {
    /// Not sent yet.
    Pending,
    /// A transaction may be on its way: the chain is checked before anything is sent again.
    Sending,
    /// Anchored: its transaction is on chain.
    Done,
    /// A checkpoint a later, larger checkpoint on chain already covers.
    Superseded,
}

impl AnchorState {
    /// Its name in the API and in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Sending => "sending",
            Self::Done => "done",
            Self::Superseded => "superseded",
        }
    }

    /// The state named `name`.
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "pending" => Some(Self::Pending),
            "sending" => Some(Self::Sending),
            "done" => Some(Self::Done),
            "superseded" => Some(Self::Superseded),
            _ => None,
        }
    }
}

/// One item of the anchoring queue.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnchorItem {
    /// What it anchors.
    pub kind: AnchorKind,
    /// Where it stands.
    pub state: AnchorState,
    /// The tree size of a checkpoint, or the final size of the result.
    pub size: Option<u64>,
    /// The Merkle root (hex) of a checkpoint, or the final root of the result.
    pub root: Option<String>,
    /// The result's tally digest (hex): SHA-256 of the record's `results.json`.
    pub tally_digest: Option<String>,
    /// The result's record digest (hex): the record's digest without `anchors.json`.
    pub record_digest: Option<String>,
    /// The transaction, once sent (`0x` and 64 lowercase hex digits).
    pub transaction: Option<String>,
    /// The block that holds it.
    pub block_number: Option<u64>,
    /// The gas it used.
    pub gas_used: Option<u64>,
    /// Attempts to send it so far.
    pub attempts: u64,
    /// The last error, in words (cleared once anchored).
    pub last_error: Option<String>,
    /// When it was queued (Unix milliseconds).
    pub queued_at: u64,
    /// When it was found anchored (Unix milliseconds).
    pub anchored_at: Option<u64>,
}

/// The answer of `GET /v1/admin/status` (admin token; spec/api.md §13): everything the
/// officials' dashboard shows in one document.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdminStatus {
    /// The election, as `GET /v1/election` answers (`None` before `POST /v1/election`).
    pub election: Option<ElectionInfo>,
    /// Turnout over time: one point per minute in which the board grew, oldest first, with
    /// running totals.
    pub turnout: Vec<TurnoutPoint>,
    /// How far the key ceremony (and, after the close, the tally ceremony) has come.
    pub ceremony: CeremonyProgress,
    /// The anchoring queue, as `GET /v1/anchoring` answers.
    pub anchoring: AnchoringStatus,
    /// The booth this service serves, when it serves one (`tabella serve --booth DIR`).
    pub booth: Option<BoothStatus>,
}

/// One point of the turnout series.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TurnoutPoint {
    /// The start of the minute (Unix milliseconds, a multiple of 60,000).
    pub minute: u64,
    /// Cast ballots on the board by the end of that minute (re-votes included).
    pub cast: u64,
    /// Spoiled (challenged) ballots on the board by the end of that minute.
    pub spoiled: u64,
    /// Distinct credentials that had cast a ballot by the end of that minute: the voters.
    pub voters: u64,
}

/// The ceremonies' progress, from the published ceremony messages.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CeremonyProgress {
    /// The number of trustees, once `ceremony.json` is published.
    pub trustees: Option<u32>,
    /// How many must take part in the tally, once `ceremony.json` is published.
    pub threshold: Option<u32>,
    /// Trustees whose dealer message is published.
    pub dealers: u32,
    /// Trustees whose check message is published.
    pub checks: u32,
    /// Whether the joint key is fixed: the key ceremony is complete and voting has opened (it
    /// is then `ElectionInfo.joint_key`). Before, `dealers` and `checks` say how far the key
    /// ceremony has come.
    pub joint_key: bool,
    /// Trustees whose partial decryption is published (late ones included).
    pub partials: u32,
    /// The names of every published ceremony message, sorted (`tally-request.json` included).
    pub messages: Vec<String>,
}

/// The booth a service serves.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BoothStatus {
    /// The digest of the served files (spec/booth.md).
    pub digest: crate::booth::BoothDigest,
    /// Whether the election's manifest publishes that same digest (`None` before the election
    /// exists).
    pub published: Option<bool>,
}
