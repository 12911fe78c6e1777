//! The streaming record verifier: the numbered checks of spec/verification.md.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use rand_chacha::ChaCha20Rng;
use rand_core::{CryptoRngCore, SeedableRng};
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::chain::{trustee_keys_digest, ChainEvidence};
use super::types::{
    credentials_digest, Anchors, CredentialList, EntryStatus, FallbackBallot, RecordEntry,
    RecordIndex, RejectedFallbackBallot, Results, SignedElectionParameters, RECORD_FORMAT,
};
use super::{
    check_path, dealer_path, partial_path, ANCHORS, BALLOTS, CEREMONY, CREDENTIALS, ELECTION,
    INDEX, RESULTS, TALLY_REQUEST, TREE_HEAD,
};
use crate::ballot::{Ballot, ElectionContext, ElectionId, SpoiledBallot};
use crate::board::merkle::MerkleFrontier;
use crate::board::{
    leaf_hash, BoardKey, BoardSignature, EntryKind, SignedTreeHead, TreeHead, EMPTY_ROOT,
};
use crate::booth::BoothDigest;
use crate::ceremony::{
    self, CeremonyOutcome, CeremonyParams, CheckMessage, DealerMessage, PartialDecryptionMessage,
    TallyOutcome, TallyRequest,
};
use crate::credential::replay_backwards;
use crate::elgamal::Ciphertext;
use crate::group::text;
use crate::manifest::Manifest;
use crate::PROTOCOL_VERSION;

/// Ballots verified together in one batch (one multiscalar multiplication, split over the
/// threads with the `parallel` feature).
const BATCH: usize = 256;

/// The longest line of `ballots.jsonl` the verifier accepts: the service takes ballots of up to
/// 256 KiB, a third more in base64, plus the receipt and an opening; anything longer is not a
/// board entry.
const MAX_LINE: usize = 1 << 20;

/// Queued line bytes that trigger a batch before [`BATCH`] lines are queued.
const MAX_QUEUED: usize = 32 << 20;

/// Why V20 and V21 are skipped without chain evidence.
const NO_CHAIN: &str = "no chain was given (tabella verify --rpc-url or --chain-dir)";

/// Why V22 is skipped without a booth.
const NO_BOOTH: &str = "no booth was given (tabella verify --booth DIR or URL)";

/// One numbered check of spec/verification.md.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[non_exhaustive]
pub enum Check {
    /// The record's index and files.
    V1,
    /// The election parameters.
    V2,
    /// The board's signature on the parameters.
    V3,
    /// The credential list.
    V4,
    /// The key ceremony's parameters.
    V5,
    /// The key ceremony's messages and outcome.
    V6,
    /// The joint key.
    V7,
    /// Board entries are well formed.
    V8,
    /// Eligibility.
    V9,
    /// Ballot signatures and proofs.
    V10,
    /// Spoiled ballots' openings.
    V11,
    /// Receipts and the board's history.
    V12,
    /// The counting rule.
    V13,
    /// The final tree head.
    V14,
    /// The aggregates.
    V15,
    /// The partial decryptions.
    V16,
    /// The combination.
    V17,
    /// The results.
    V18,
    /// The chain anchors.
    V19,
    /// The record against the registry contract.
    V20,
    /// The ballots cast on chain.
    V21,
    /// The booth against the manifest.
    V22,
}

impl Check {
    /// Every check, in order.
    pub const ALL: [Check; 22] = [
        Check::V1,
        Check::V2,
        Check::V3,
        Check::V4,
        Check::V5,
        Check::V6,
        Check::V7,
        Check::V8,
        Check::V9,
        Check::V10,
        Check::V11,
        Check::V12,
        Check::V13,
        Check::V14,
        Check::V15,
        Check::V16,
        Check::V17,
        Check::V18,
        Check::V19,
        Check::V20,
        Check::V21,
        Check::V22,
    ];

    /// The check's number (`V7` is 7).
    pub fn number(self) -> u8 {
        self as u8 + 1
    }

    /// `"V7"`.
    pub fn id(self) -> String {
        format!("V{}", self.number())
    }

    /// The check's title, as in spec/verification.md.
    pub fn title(self) -> &'static str {
        match self {
            Check::V1 => "record index: every file present, with its size and SHA-256",
            Check::V2 => "election parameters: protocol, manifest and its hash",
            Check::V3 => "the board's signature on the election parameters",
            Check::V4 => "credential list: sorted, distinct, matching count and digest",
            Check::V5 => "key ceremony parameters: trustees, threshold, announcements",
            Check::V6 => "key ceremony messages: commitments, proofs, complaints",
            Check::V7 => "joint key: the key ceremony's outcome",
            Check::V8 => "board entries: well formed, for this election, tracking codes",
            Check::V9 => "eligibility: every ballot's credential is on the list",
            Check::V10 => "ballot signatures and validity proofs",
            Check::V11 => "spoiled ballots: openings reproduce the ciphertexts",
            Check::V12 => "receipts: signed, and every tree head matches the rebuilt board",
            Check::V13 => "counting rule: the last cast ballot of each credential counts",
            Check::V14 => "final tree head: signed, covering exactly the board",
            Check::V15 => "aggregates: the tally request adds up the counted ballots",
            Check::V16 => "partial decryptions: signatures and decryption proofs",
            Check::V17 => "combination: the totals decrypt from the partial decryptions",
            Check::V18 => "results: every published figure recomputed",
            Check::V19 => "chain anchors: checkpoints and fallback ballots match the board",
            Check::V20 => {
                "registry contract: creation, checkpoints and result agree with the record"
            }
            Check::V21 => {
                "fallback ballots: every ballot cast on chain is on the board or rightly refused"
            }
            Check::V22 => "booth: the web ballot given is the one the manifest publishes",
        }
    }

    /// Whether the check compares the record with the chain ([`VerifyOptions::chain`]): V20 and
    /// V21. Without chain evidence they are skipped, and the record still verifies
    /// ([`Report::passed`]).
    pub fn needs_chain(self) -> bool {
        matches!(self, Check::V20 | Check::V21)
    }

    /// Whether the check compares the manifest with a booth ([`VerifyOptions::booth`]): V22.
    /// Without a booth it is skipped, and the record still verifies ([`Report::passed`]).
    pub fn needs_booth(self) -> bool {
        matches!(self, Check::V22)
    }

    fn slot(self) -> usize {
        self as usize
    }
}

/// How a check ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// Every item passed.
    Passed,
    /// At least one item failed.
    Failed,
    /// It could not run because a check it depends on failed.
    Skipped,
}

/// The result of one check.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CheckReport {
    /// The check.
    pub check: Check,
    /// Its title.
    pub title: &'static str,
    /// Passed, failed or skipped.
    pub outcome: Outcome,
    /// How many items it checked (ballots, messages, figures, …).
    pub items: u64,
    /// How many of them failed.
    pub failures: u64,
    /// The first failure, why it was skipped, or a note.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// What the record holds, as counted by the verifier.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    /// Board entries.
    pub entries: u64,
    /// Counted ballots.
    pub counted: u64,
    /// Superseded ballots.
    pub superseded: u64,
    /// Spoiled ballots.
    pub spoiled: u64,
    /// Eligible credentials.
    pub credentials: u64,
    /// Trustees.
    pub trustees: u64,
    /// Trustees that qualified in the key ceremony.
    pub qualified: u64,
    /// Partial decryptions.
    pub partial_decryptions: u64,
}

/// The verifier's findings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Report {
    /// The election, from the record's index.
    pub election_id: Option<ElectionId>,
    /// The record digest (hex), from the record's index.
    pub record_digest: Option<String>,
    /// The board key the record is signed with (hex).
    pub board_key: Option<String>,
    /// Every check, in order.
    pub checks: Vec<CheckReport>,
    /// What the record holds.
    pub counts: Counts,
    /// The results, when the record verifies ([`passed`](Self::passed)).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub results: Option<Results>,
    /// What the chain evidence says, when some was given ([`VerifyOptions::chain`]); `None`:
    /// V20 and V21 were not run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chain: Option<ChainSummary>,
    /// The digest of the booth the record was compared with, when one was given
    /// ([`VerifyOptions::booth`]); `None`: V22 was not run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub booth: Option<BoothDigest>,
}

impl Report {
    /// Whether the record verifies: every check passed, except that V20 and V21
    /// ([`Check::needs_chain`]) may be skipped when no chain evidence was given (then
    /// [`chain`](Self::chain) is `None`: the record verifies, its anchoring is not checked), and
    /// V22 ([`Check::needs_booth`]) when no booth was given (then [`booth`](Self::booth) is
    /// `None`: no booth was compared with the manifest).
    pub fn passed(&self) -> bool {
        self.first_failure().is_none()
    }

    /// Whether `check` was left out for want of an input: V20 and V21 without chain evidence,
    /// V22 without a booth.
    pub fn not_asked(&self, check: Check) -> bool {
        (check.needs_chain() && self.chain.is_none())
            || (check.needs_booth() && self.booth.is_none())
    }

    /// The lowest-numbered failed check, else the lowest-numbered skipped one, leaving out the
    /// checks not asked for ([`not_asked`](Self::not_asked)).
    pub fn first_failure(&self) -> Option<&CheckReport> {
        let counts = |c: &&CheckReport| !self.not_asked(c.check);
        self.checks
            .iter()
            .filter(counts)
            .find(|c| c.outcome == Outcome::Failed)
            .or_else(|| {
                self.checks
                    .iter()
                    .filter(counts)
                    .find(|c| c.outcome == Outcome::Skipped)
            })
    }
}

/// What the chain evidence says about the election (spec/verification.md §1): reported, with
/// the disputes, which the verifier counts and does not judge.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ChainSummary {
    /// The chain id the evidence was read from.
    pub chain_id: u64,
    /// The registry contract.
    pub contract: String,
    /// Whether the registry knows the election.
    pub registered: bool,
    /// Checkpoints on chain.
    pub checkpoints: u64,
    /// Ballots cast through the contract.
    pub fallback_ballots: u64,
    /// The transaction that published the result, if published.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result_transaction: Option<String>,
    /// The end of the challenge window (Unix seconds, block time), once the result is published.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub challenge_ends_at: Option<u64>,
    /// Disputes filed against the result (reported, never judged: V20 does not fail on them).
    pub disputes: u64,
}

impl ChainSummary {
    fn of(chain: &ChainEvidence) -> Self {
        Self {
            chain_id: chain.chain_id,
            contract: chain.contract.clone(),
            registered: chain.election.is_some(),
            checkpoints: chain.checkpoints.len() as u64,
            fallback_ballots: chain.fallback.len() as u64,
            result_transaction: chain.result.as_ref().map(|r| r.transaction.clone()),
            challenge_ends_at: chain.result.as_ref().map(|r| r.challenge_ends_at),
            disputes: chain.result.as_ref().map_or(0, |r| r.disputes.len() as u64),
        }
    }
}

/// What the verifier is told beyond the record.
#[derive(Clone, Debug, Default)]
pub struct VerifyOptions {
    /// The board key the observer expects (from the election's publication or the chain). When
    /// given, a record signed by another key fails V3.
    pub board_key: Option<BoardKey>,
    /// What the registry contract holds for the election, read by the caller (`tabella verify
    /// --rpc-url` or `--chain-dir`). When given, V20 and V21 compare the record with it;
    /// without it they are skipped (and the record can still verify: [`Report::passed`]).
    pub chain: Option<ChainEvidence>,
    /// The digest of the booth (web ballot) the observer ran or fetched
    /// ([`BoothManifest::digest`](crate::booth::BoothManifest::digest), `tabella verify
    /// --booth`). When given, V22 compares it with the booth digest the manifest publishes;
    /// without it V22 is skipped (and the record can still verify).
    pub booth: Option<BoothDigest>,
}

#[derive(Default)]
struct Tally {
    items: u64,
    failures: u64,
    first: Option<String>,
    skipped: Option<String>,
    note: Option<String>,
}

/// Per credential: its last cast entry and the entry marked counted.
#[derive(Clone, Copy)]
struct Voter {
    last_cast: u64,
    counted: u64,
}

const NONE: u64 = u64::MAX;

struct Pending {
    index: u64,
    ballot: Ballot,
    opening: Option<SpoiledBallot>,
}

/// The election as the checks V2–V7 established it.
struct Setup {
    parameters: SignedElectionParameters,
    ctx: ElectionContext,
    /// Sorted credential keys (empty if V4 failed).
    credentials: Vec<[u8; 32]>,
    voters: Vec<Voter>,
    /// The ceremony and its outcome (if V5–V7 passed).
    ceremony: Option<(CeremonyParams, CeremonyOutcome)>,
}

/// Checks an election record (spec/verification.md) from its documents and a stream of its
/// ballots, with no I/O of its own.
///
/// 1. [`RecordVerifier::new`] with the bytes of `record.json`;
/// 2. [`document`](Self::document) for every other listed file except `ballots.jsonl`
///    ([`documents`](Self::documents) lists them);
/// 3. [`ballots`](Self::ballots) with the bytes of `ballots.jsonl`, in chunks of any size;
/// 4. [`finish`](Self::finish) for the [`Report`].
pub struct RecordVerifier {
    options: VerifyOptions,
    rng: ChaCha20Rng,
    tallies: Vec<Tally>,
    index: Option<RecordIndex>,
    listed: BTreeMap<String, (u64, [u8; 32])>,
    supplied: BTreeSet<String>,
    documents: BTreeMap<String, Vec<u8>>,
    setup: Option<Option<Setup>>,
    /// Lines per batch ([`BATCH`] unless [`with_batch_size`](Self::with_batch_size) said).
    batch: usize,
    // Streaming state.
    line: Vec<u8>,
    /// Complete lines waiting for [`Self::process_lines`] (`None`: a line over [`MAX_LINE`]).
    lines: Vec<Option<Vec<u8>>>,
    /// Bytes in `lines`.
    queued: usize,
    /// Whether any bytes of `ballots.jsonl` were handed over (or its absence reported).
    ballots_seen: bool,
    overlong: bool,
    hasher: Sha256,
    ballot_bytes: u64,
    frontier: MerkleFrontier,
    last_timestamp: u64,
    pending: Vec<Pending>,
    sums: Vec<Vec<Ciphertext>>,
    /// Every tracking code so far and its entry (32 bytes and an index per entry: the one part
    /// of the state that grows with the board).
    seen_codes: HashMap<[u8; 32], u64>,
    counts: Counts,
    anchors: Option<Anchors>,
    next_checkpoint: usize,
    fallback: BTreeMap<u64, [u8; 32]>,
    /// The tracking codes `anchors.json` lists as refused, and the board entry holding each, if
    /// any (its index and kind).
    refused: BTreeMap<[u8; 32], Option<(u64, EntryKind)>>,
    /// The board sizes the chain evidence names (checkpoints, the result's final head), and the
    /// rebuilt root at each once the board reached it (V20).
    chain_sizes: BTreeSet<u64>,
    chain_roots: BTreeMap<u64, [u8; 32]>,
}

impl RecordVerifier {
    /// Starts verifying the record whose `record.json` holds `index` (V1). `rng` seeds the
    /// random weights of batch verification; it must be unpredictable to whoever made the
    /// record.
    pub fn new(index: &[u8], options: VerifyOptions, rng: &mut impl CryptoRngCore) -> Self {
        let mut seed = [0u8; 32];
        rng.fill_bytes(&mut seed);
        let mut v = Self {
            options,
            rng: ChaCha20Rng::from_seed(seed),
            tallies: Check::ALL.iter().map(|_| Tally::default()).collect(),
            index: None,
            listed: BTreeMap::new(),
            supplied: BTreeSet::new(),
            documents: BTreeMap::new(),
            setup: None,
            batch: BATCH,
            line: Vec::new(),
            lines: Vec::new(),
            queued: 0,
            ballots_seen: false,
            overlong: false,
            hasher: Sha256::new(),
            ballot_bytes: 0,
            frontier: MerkleFrontier::new(),
            last_timestamp: 0,
            pending: Vec::new(),
            sums: Vec::new(),
            seen_codes: HashMap::new(),
            counts: Counts::default(),
            anchors: None,
            next_checkpoint: 0,
            fallback: BTreeMap::new(),
            refused: BTreeMap::new(),
            chain_sizes: BTreeSet::new(),
            chain_roots: BTreeMap::new(),
        };
        match &v.options.chain {
            None => {
                v.skip(Check::V20, NO_CHAIN);
                v.skip(Check::V21, NO_CHAIN);
            }
            Some(chain) => {
                let sizes = chain
                    .checkpoints
                    .iter()
                    .map(|c| c.size)
                    .chain(chain.result.as_ref().map(|r| r.final_size));
                v.chain_sizes = sizes.collect();
            }
        }
        if v.options.booth.is_none() {
            v.skip(Check::V22, NO_BOOTH);
        }
        v.read_index(index);
        v
    }

    /// Records each failure of `problems`, one check of `items` items (at least one per
    /// problem).
    fn conclude(&mut self, check: Check, items: u64, problems: Vec<String>) {
        let t = &mut self.tallies[check.slot()];
        t.items += items.max(problems.len() as u64);
        t.failures += problems.len() as u64;
        if t.first.is_none() {
            t.first = problems.into_iter().next();
        }
    }

    /// Pushes one leaf onto the rebuilt board, keeping its root at the sizes the chain names.
    fn push_leaf(&mut self, leaf: [u8; 32]) {
        self.frontier.push(leaf);
        let size = self.frontier.len();
        if self.chain_sizes.contains(&size) {
            self.chain_roots.insert(size, self.frontier.root());
        }
    }

    fn fail(&mut self, check: Check, reason: impl Into<String>) {
        let t = &mut self.tallies[check.slot()];
        t.items += 1;
        t.failures += 1;
        if t.first.is_none() {
            t.first = Some(reason.into());
        }
    }

    fn pass(&mut self, check: Check) {
        self.tallies[check.slot()].items += 1;
    }

    fn skip(&mut self, check: Check, why: impl Into<String>) {
        let t = &mut self.tallies[check.slot()];
        if t.skipped.is_none() {
            t.skipped = Some(why.into());
        }
    }

    fn note(&mut self, check: Check, note: impl Into<String>) {
        self.tallies[check.slot()].note = Some(note.into());
    }

    fn failed(&self, check: Check) -> bool {
        let t = &self.tallies[check.slot()];
        t.failures > 0 || t.skipped.is_some()
    }

    fn read_index(&mut self, bytes: &[u8]) {
        let index: RecordIndex = match serde_json::from_slice(bytes) {
            Ok(index) => index,
            Err(e) => return self.fail(Check::V1, format!("{INDEX} is not a record index: {e}")),
        };
        if index.format != RECORD_FORMAT {
            self.fail(
                Check::V1,
                format!(
                    "{INDEX} is in format {:?}; this verifier reads {RECORD_FORMAT:?}",
                    index.format
                ),
            );
        }
        let mut previous: Option<&str> = None;
        let mut bad = Vec::new();
        for file in &index.files {
            if !known_path(&file.path) {
                bad.push(format!(
                    "{INDEX} lists {:?}, which is not a file of an election record",
                    file.path
                ));
            }
            if previous.is_some_and(|p| p >= file.path.as_str()) {
                bad.push(format!(
                    "{INDEX} lists its files out of order or twice (at {:?})",
                    file.path
                ));
            }
            previous = Some(&file.path);
        }
        for path in [ELECTION, CREDENTIALS, CEREMONY, BALLOTS, TREE_HEAD, RESULTS] {
            if !index.files.iter().any(|f| f.path == path) {
                bad.push(format!(
                    "the record has no {path} (it is not listed in {INDEX})"
                ));
            }
        }
        match bad.into_iter().next() {
            Some(reason) => self.fail(Check::V1, reason),
            None => self.pass(Check::V1),
        }
        self.listed = index
            .files
            .iter()
            .map(|f| (f.path.clone(), (f.size, f.sha256)))
            .collect();
        self.index = Some(index);
    }

    /// The record digest (hex) from `record.json`, if it parsed.
    pub fn record_digest(&self) -> Option<String> {
        self.index.as_ref().map(|i| hex::encode(i.digest()))
    }

    /// The files the caller must pass to [`document`](Self::document): every listed file but
    /// `ballots.jsonl`.
    pub fn documents(&self) -> Vec<String> {
        self.listed
            .keys()
            .filter(|p| p.as_str() != BALLOTS && known_path(p))
            .cloned()
            .collect()
    }

    /// The size `record.json` gives a file: callers read no more than this (and one byte, to
    /// notice a longer file).
    pub fn listed_size(&self, path: &str) -> Option<u64> {
        self.listed.get(path).map(|(size, _)| *size)
    }

    /// The size `record.json` gives `ballots.jsonl`, for progress bars.
    pub fn ballots_size(&self) -> Option<u64> {
        self.listed.get(BALLOTS).map(|(size, _)| *size)
    }

    /// Reports a file found in the record directory that `record.json` does not list (V1).
    pub fn unlisted_file(&mut self, path: &str) {
        self.fail(
            Check::V1,
            format!("{path} is in the record directory but not listed in {INDEX}"),
        );
    }

    /// Hands over one listed document (any file but `ballots.jsonl`), checking its size and
    /// SHA-256 against `record.json` (V1).
    pub fn document(&mut self, path: &str, bytes: &[u8]) {
        match self.listed.get(path).copied() {
            None => self.unlisted_file(path),
            // Listed, but no record file: V1 already failed on the index.
            Some(_) if !known_path(path) || path == BALLOTS => {}
            Some((size, sha256)) => {
                self.supplied.insert(path.to_string());
                if bytes.len() as u64 != size || <[u8; 32]>::from(Sha256::digest(bytes)) != sha256 {
                    self.fail(
                        Check::V1,
                        format!(
                            "{path} is not the file {INDEX} lists: {} bytes with SHA-256 {}, \
                             where the index says {size} bytes with SHA-256 {}",
                            bytes.len(),
                            hex::encode(Sha256::digest(bytes)),
                            hex::encode(sha256)
                        ),
                    );
                } else {
                    self.pass(Check::V1);
                }
                self.documents.insert(path.to_string(), bytes.to_vec());
            }
        }
    }

    fn parse<T: serde::de::DeserializeOwned>(&mut self, check: Check, path: &str) -> Option<T> {
        let bytes = self.documents.get(path)?;
        match serde_json::from_slice(bytes) {
            Ok(value) => Some(value),
            Err(e) => {
                self.fail(check, format!("{path} could not be read: {e}"));
                None
            }
        }
    }

    fn require<T: serde::de::DeserializeOwned>(&mut self, check: Check, path: &str) -> Option<T> {
        if !self.documents.contains_key(path) {
            self.fail(check, format!("the record has no {path}"));
            return None;
        }
        self.parse(check, path)
    }

    /// V2–V7, once, before the first ballot.
    fn ensure_setup(&mut self) {
        if self.setup.is_none() {
            let setup = self.run_setup();
            if let Some(s) = &setup {
                self.sums = s
                    .ctx
                    .manifest()
                    .contests
                    .iter()
                    .map(|c| vec![Ciphertext::zero(); c.selections.len()])
                    .collect();
            }
            self.setup = Some(setup);
            self.read_anchors();
        }
    }

    fn run_setup(&mut self) -> Option<Setup> {
        let Some(election) = self.index.as_ref().map(|i| i.election_id) else {
            for check in &Check::ALL[1..] {
                self.skip(*check, "record.json could not be read (V1)");
            }
            return None;
        };
        // V2: parameters.
        let parameters: SignedElectionParameters = match self.require(Check::V2, ELECTION) {
            Some(p) => p,
            None => {
                for check in &Check::ALL[2..] {
                    self.skip(*check, "the election parameters could not be read (V2)");
                }
                return None;
            }
        };
        let p = &parameters.parameters;
        if p.protocol != PROTOCOL_VERSION {
            self.fail(
                Check::V2,
                format!(
                    "the record is for protocol version {}; this verifier checks version {PROTOCOL_VERSION}",
                    p.protocol
                ),
            );
        }
        if p.election_id != election {
            self.fail(
                Check::V2,
                format!(
                    "{ELECTION} is for election {}, but {INDEX} for election {election}",
                    p.election_id
                ),
            );
        }
        let hash = p.manifest.hash();
        if hash != p.manifest_hash {
            self.fail(
                Check::V2,
                format!(
                    "the manifest hashes to {}, not to the manifest hash {} in {ELECTION}",
                    hex::encode(hash.0),
                    hex::encode(p.manifest_hash.0)
                ),
            );
        }
        let ctx = match ElectionContext::new(p.election_id, p.manifest.clone(), p.joint_key) {
            Ok(ctx) => ctx,
            Err(e) => {
                self.fail(Check::V2, format!("the manifest is not valid: {e}"));
                for check in &Check::ALL[2..] {
                    self.skip(*check, "the election parameters are not valid (V2)");
                }
                return None;
            }
        };
        // MANIFEST-5: every total the signed electorate can produce is within the tally's bound.
        if let Err(e) = p.manifest.check_capacity(p.credentials) {
            self.fail(
                Check::V2,
                format!(
                    "the manifest cannot be tallied for the {} credentials {ELECTION} fixes: {e}",
                    p.credentials
                ),
            );
        }
        self.pass(Check::V2);
        self.check_booth(&p.manifest);

        // V3: the board's signature.
        if let Some(expected) = self.options.board_key {
            if expected != p.board_key {
                self.fail(
                    Check::V3,
                    format!(
                        "the record is signed with board key {}, not the expected board key {expected}",
                        p.board_key
                    ),
                );
            }
        }
        if parameters.signature_holds() {
            self.pass(Check::V3);
        } else {
            self.fail(
                Check::V3,
                format!(
                    "the signature on {ELECTION} does not verify under its board key {}",
                    p.board_key
                ),
            );
        }

        // V4: credentials.
        let credentials = self.check_credentials(&parameters);
        let voters = vec![
            Voter {
                last_cast: NONE,
                counted: NONE,
            };
            credentials.len()
        ];
        self.counts.credentials = credentials.len() as u64;

        // V5–V7: the key ceremony.
        let ceremony = self.check_ceremony(&parameters);
        // What only the setup reads need not stay in memory while the ballots stream by (the
        // credential list is the largest document).
        self.documents
            .retain(|path, _| path.as_str() != CREDENTIALS && !is_key_ceremony_message(path));
        Some(Setup {
            parameters,
            ctx,
            credentials,
            voters,
            ceremony,
        })
    }

    /// V22: the booth given is the one the manifest publishes.
    fn check_booth(&mut self, manifest: &Manifest) {
        let Some(given) = self.options.booth else {
            return;
        };
        match manifest.booth {
            Some(published) if published == given => self.pass(Check::V22),
            Some(published) => self.fail(
                Check::V22,
                format!(
                    "the booth given has digest {given}, but the manifest publishes booth digest \
                     {published}"
                ),
            ),
            None => self.fail(
                Check::V22,
                format!(
                    "the manifest publishes no booth digest, so it vouches for no booth, yet a \
                     booth with digest {given} was given"
                ),
            ),
        }
    }

    fn check_credentials(&mut self, parameters: &SignedElectionParameters) -> Vec<[u8; 32]> {
        let p = &parameters.parameters;
        let Some(list) = self.require::<CredentialList>(Check::V4, CREDENTIALS) else {
            return Vec::new();
        };
        let keys: Vec<[u8; 32]> = list.credentials.iter().map(|k| k.to_bytes()).collect();
        let mut ok = true;
        if let Some(k) = keys.windows(2).position(|w| w[0] >= w[1]) {
            ok = false;
            self.fail(
                Check::V4,
                format!(
                    "the credential list is not strictly sorted: key {} is not below key {}",
                    k + 1,
                    k + 2
                ),
            );
        }
        let digest = credentials_digest(&keys);
        if digest != list.digest {
            ok = false;
            self.fail(
                Check::V4,
                format!(
                    "the credential keys hash to {}, not to the digest {} in {CREDENTIALS}",
                    hex::encode(digest),
                    hex::encode(list.digest)
                ),
            );
        }
        if digest != p.credentials_digest || keys.len() as u64 != p.credentials {
            ok = false;
            self.fail(
                Check::V4,
                format!(
                    "{CREDENTIALS} has {} keys with digest {}, but {ELECTION} fixes {} keys with digest {}",
                    keys.len(),
                    hex::encode(digest),
                    p.credentials,
                    hex::encode(p.credentials_digest)
                ),
            );
        }
        // CRED-LIST-3: the replacements lead back from this list to the list first uploaded.
        // A broken history fails V4, but the signed list itself stays usable (V9, V13).
        if !list.replacements.is_empty() {
            match replay_backwards(&p.election_id, &keys, &list.replacements) {
                Ok(first) => self.note(
                    Check::V4,
                    format!(
                        "{} credential(s) replaced before voting opened; the list first \
                         uploaded had digest {}",
                        list.replacements.len(),
                        hex::encode(first)
                    ),
                ),
                Err((number, reason)) => self.fail(
                    Check::V4,
                    format!(
                        "{CREDENTIALS}, replacement {number} of {}: {reason}",
                        list.replacements.len()
                    ),
                ),
            }
            self.tallies[Check::V4.slot()].items += list.replacements.len() as u64;
        }
        self.tallies[Check::V4.slot()].items += keys.len() as u64;
        if ok {
            keys
        } else {
            Vec::new()
        }
    }

    fn check_ceremony(
        &mut self,
        parameters: &SignedElectionParameters,
    ) -> Option<(CeremonyParams, CeremonyOutcome)> {
        let p = &parameters.parameters;
        let skip_after = |v: &mut Self, from: usize, why: &str| {
            for check in &Check::ALL[from..] {
                if matches!(
                    check,
                    Check::V6 | Check::V7 | Check::V15 | Check::V16 | Check::V17
                ) {
                    v.skip(*check, why.to_string());
                }
            }
        };
        // V5.
        let Some(params) = self.require::<CeremonyParams>(Check::V5, CEREMONY) else {
            skip_after(
                self,
                5,
                "the key ceremony's parameters could not be read (V5)",
            );
            return None;
        };
        let mut ok = true;
        if let Err(e) = params.validate(&mut self.rng) {
            ok = false;
            self.fail(Check::V5, format!("{CEREMONY} is not valid: {e}"));
        }
        if params.election_id != p.election_id {
            ok = false;
            self.fail(
                Check::V5,
                format!(
                    "the key ceremony is for election {}, not {}",
                    params.election_id, p.election_id
                ),
            );
        }
        if params.id() != p.ceremony_id {
            ok = false;
            self.fail(
                Check::V5,
                format!(
                    "{CEREMONY} is ceremony {}, but {ELECTION} names ceremony {}",
                    params.id(),
                    p.ceremony_id
                ),
            );
        }
        if params.trustee_count() as u64 != u64::from(p.trustees) || params.threshold != p.threshold
        {
            ok = false;
            self.fail(
                Check::V5,
                format!(
                    "the key ceremony has {} trustees with threshold {}, but {ELECTION} says {} with threshold {}",
                    params.trustee_count(),
                    params.threshold,
                    p.trustees,
                    p.threshold
                ),
            );
        }
        self.counts.trustees = params.trustee_count() as u64;
        if !ok {
            skip_after(self, 5, "the key ceremony's parameters are not valid (V5)");
            return None;
        }
        self.tallies[Check::V5.slot()].items += params.trustee_count() as u64;

        // V6.
        let n = params.trustee_count() as u32;
        let mut dealers = Vec::new();
        let mut checks = Vec::new();
        for i in 1..=n {
            let path = dealer_path(i);
            if self.documents.contains_key(&path) {
                if let Some(m) = self.parse::<DealerMessage>(Check::V6, &path) {
                    if m.dealer != i {
                        self.fail(
                            Check::V6,
                            format!("{path} is the message of dealer {}", m.dealer),
                        );
                    }
                    dealers.push(m);
                }
            }
            let path = check_path(i);
            if self.documents.contains_key(&path) {
                if let Some(m) = self.parse::<CheckMessage>(Check::V6, &path) {
                    if m.trustee != i {
                        self.fail(
                            Check::V6,
                            format!("{path} is the message of trustee {}", m.trustee),
                        );
                    }
                    checks.push(m);
                }
            }
        }
        let strangers: Vec<(String, u32)> = self
            .documents
            .keys()
            .filter_map(|path| trustee_of(path).map(|k| (path.clone(), k)))
            .filter(|(_, k)| *k == 0 || *k > n)
            .collect();
        for (path, k) in strangers {
            self.fail(
                Check::V6,
                format!("{path} names trustee {k}, but the ceremony has trustees 1 to {n}"),
            );
        }
        for m in &dealers {
            if let Err(reason) = m.validate(&params, &mut self.rng) {
                self.fail(Check::V6, format!("{}: {reason}", dealer_path(m.dealer)));
            }
        }
        for m in &checks {
            if let Err(reason) = m.validate(&params, &mut self.rng) {
                self.fail(Check::V6, format!("{}: {reason}", check_path(m.trustee)));
            }
        }
        let outcome = match ceremony::finalize(&params, &dealers, &checks, &mut self.rng) {
            Ok(outcome) => outcome,
            Err(e) => {
                self.fail(Check::V6, format!("the key ceremony does not resolve: {e}"));
                skip_after(self, 6, "the key ceremony did not resolve (V6)");
                return None;
            }
        };
        self.tallies[Check::V6.slot()].items += (dealers.len() + checks.len()) as u64;
        self.counts.qualified = outcome.qualified.len() as u64;
        if !outcome.disqualified.is_empty() {
            let named: Vec<String> = outcome
                .disqualified
                .iter()
                .map(|d| format!("trustee {} ({})", d.trustee, d.fault))
                .collect();
            self.note(Check::V6, format!("disqualified: {}", named.join("; ")));
        }
        if self.failed(Check::V6) {
            skip_after(self, 6, "the key ceremony's messages are not valid (V6)");
            return None;
        }

        // V7.
        if outcome.joint_key != p.joint_key {
            self.fail(
                Check::V7,
                format!(
                    "the key ceremony's joint key is {}, but the ballots are encrypted under {}",
                    hex::encode(outcome.joint_key.to_bytes()),
                    hex::encode(p.joint_key.to_bytes())
                ),
            );
            skip_after(self, 7, "the joint key is not the ceremony's (V7)");
            return None;
        }
        self.pass(Check::V7);
        Some((params, outcome))
    }

    /// Checks ballots in batches of `lines` (at least 1) instead of 256. The report is the
    /// same; smaller batches verify somewhat slower but give control back sooner: a
    /// [`ballots`](Self::ballots) call does at most one batch's work per complete line it
    /// hands over, so a browser page that yields between calls stays responsive.
    #[must_use]
    pub fn with_batch_size(mut self, lines: usize) -> Self {
        self.batch = lines.max(1);
        self
    }

    /// Hands over the next bytes of `ballots.jsonl` (any chunking). Complete lines are checked
    /// in batches of 256 (or [`with_batch_size`](Self::with_batch_size)) as they arrive. Call it at least once, with an empty chunk for an
    /// empty file: a listed `ballots.jsonl` never handed over is missing (V1).
    pub fn ballots(&mut self, chunk: &[u8]) {
        self.ensure_setup();
        self.ballots_seen = true;
        self.hasher.update(chunk);
        self.ballot_bytes += chunk.len() as u64;
        let mut rest = chunk;
        while let Some(pos) = rest.iter().position(|&b| b == b'\n') {
            let (head, tail) = rest.split_at(pos);
            if self.overlong || self.line.len() + head.len() > MAX_LINE {
                self.overlong = false;
                self.line = Vec::new();
                self.lines.push(None);
            } else {
                let mut line = std::mem::take(&mut self.line);
                line.extend_from_slice(head);
                self.queued += line.len();
                self.lines.push(Some(line));
            }
            if self.lines.len() >= self.batch || self.queued >= MAX_QUEUED {
                self.process_lines();
            }
            rest = tail.get(1..).unwrap_or_default();
        }
        if !self.overlong {
            if self.line.len() + rest.len() > MAX_LINE {
                self.overlong = true;
                self.line = Vec::new();
            } else {
                self.line.extend_from_slice(rest);
            }
        }
    }

    /// Board entries checked so far.
    pub fn entries_checked(&self) -> u64 {
        self.counts.entries
    }

    /// Checks the queued lines: what each line needs alone (parsing, decoding, the receipt's
    /// signatures) on every thread, then in order what depends on the entries before it, then
    /// the batch of ballot proofs.
    fn process_lines(&mut self) {
        let lines = std::mem::take(&mut self.lines);
        self.queued = 0;
        let first = self.counts.entries;
        let (ctx, key) = match &self.setup {
            Some(Some(setup)) => (
                Some(&setup.ctx),
                Some(&setup.parameters.parameters.board_key),
            ),
            _ => (None, None),
        };
        let parse = |(k, line): (usize, &Option<Vec<u8>>)| {
            parse_line(first + k as u64, line.as_deref(), ctx, key)
        };
        #[cfg(feature = "parallel")]
        let parsed: Vec<Parsed> = {
            use rayon::prelude::*;
            lines.par_iter().enumerate().map(parse).collect()
        };
        #[cfg(not(feature = "parallel"))]
        let parsed: Vec<Parsed> = lines.iter().enumerate().map(parse).collect();
        drop(lines);
        for p in parsed {
            self.entry(p);
        }
        self.flush();
    }

    fn entry(&mut self, parsed: Parsed) {
        let Parsed {
            index,
            leaf,
            entry,
            problem,
            ballot,
            receipt,
        } = parsed;
        self.counts.entries += 1;
        self.push_leaf(leaf);
        self.check_checkpoints(index + 1);
        if !matches!(self.setup, Some(Some(_))) {
            return;
        }
        let entry = match entry {
            Ok(entry) => entry,
            Err(reason) => {
                self.fail(Check::V8, reason);
                self.check_fallback(index, None);
                return;
            }
        };
        let at = |what: String| format!("{BALLOTS}, entry {index}: {what}");
        match problem {
            None => self.pass(Check::V8),
            Some(first) => self.fail(Check::V8, first),
        }
        match entry.status {
            EntryStatus::Counted => self.counts.counted += 1,
            EntryStatus::Superseded => self.counts.superseded += 1,
            EntryStatus::Spoiled => self.counts.spoiled += 1,
        }

        // V9: eligibility.
        let credential = entry.credential.to_bytes();
        let voter = self.voter_of(&credential);
        match voter {
            Some(_) => self.pass(Check::V9),
            None if self.failed(Check::V4) => {
                self.skip(Check::V9, "the credential list is not valid (V4)")
            }
            None => self.fail(
                Check::V9,
                at(format!(
                    "its credential {} is not on the credential list",
                    entry.credential
                )),
            ),
        }

        // V12: the receipt.
        self.check_receipt(index, &entry, leaf, receipt);

        // V13: the counting rule (incrementally; completed in `finish`).
        self.count(index, &entry, voter);

        // V19: a fallback ballot said to be here, or one said to be refused.
        self.check_fallback(index, Some(&entry));
        if let Some(held @ None) = self.refused.get_mut(&leaf) {
            *held = Some((index, entry.kind));
        }

        // V10, V11 (batched); the aggregate.
        if let Some(ballot) = ballot {
            if entry.status == EntryStatus::Counted {
                for (c, sums) in self.sums.iter_mut().enumerate() {
                    if let Some(cts) = ballot.ciphertexts(c) {
                        for (acc, ct) in sums.iter_mut().zip(cts) {
                            *acc = Ciphertext::sum([&*acc, ct]);
                        }
                    }
                }
            }
            self.pending.push(Pending {
                index,
                ballot,
                opening: entry.opening,
            });
        }
    }

    fn voter_of(&self, credential: &[u8; 32]) -> Option<usize> {
        match &self.setup {
            Some(Some(setup)) => setup.credentials.binary_search(credential).ok(),
            _ => None,
        }
    }

    fn check_receipt(
        &mut self,
        index: u64,
        entry: &RecordEntry,
        leaf: [u8; 32],
        signatures: Result<(), String>,
    ) {
        let Some(Some(setup)) = &self.setup else {
            return;
        };
        let election = setup.parameters.parameters.election_id;
        let at = |what: String| format!("{BALLOTS}, entry {index}: the receipt {what}");
        let r = &entry.receipt;
        let head = &r.tree_head.head;
        let root = self.frontier.root();
        let problem = if r.tracking_code != entry.tracking_code || r.tracking_code.0 != leaf {
            Some(at(format!("is for tracking code {}", r.tracking_code)))
        } else if r.index != index {
            Some(at(format!("is for entry {}", r.index)))
        } else if r.kind != entry.kind {
            Some(at(format!("is for a {} ballot", r.kind.as_str())))
        } else if head.election != election {
            Some(at(format!("is for election {}", head.election)))
        } else if head.size != index + 1 {
            Some(at(format!(
                "carries a tree head of size {}, not {}",
                head.size,
                index + 1
            )))
        } else if head.root != root {
            Some(at(format!(
                "carries the root {} for size {}, but the board's entries give {}",
                hex::encode(head.root),
                head.size,
                hex::encode(root)
            )))
        } else if head.timestamp < self.last_timestamp {
            Some(at(format!(
                "is dated {} ms, before the previous receipt ({} ms)",
                head.timestamp, self.last_timestamp
            )))
        } else if let Err(e) = signatures {
            Some(at(format!("does not verify: {e}")))
        } else {
            None
        };
        self.last_timestamp = self.last_timestamp.max(head.timestamp);
        match problem {
            Some(p) => self.fail(Check::V12, p),
            None => self.pass(Check::V12),
        }
    }

    fn count(&mut self, index: u64, entry: &RecordEntry, voter: Option<usize>) {
        let code = entry.tracking_code.0;
        let at = |what: String| format!("{BALLOTS}, entry {index}: {what}");
        let mut problems = Vec::new();
        // No ballot twice, whatever its kind: the board is idempotent, so a tracking code seen
        // again is a replay (a voter's earlier ballot brought back), or a spoiled ballot, whose
        // choices are public, cast (or a cast one spoiled).
        if let Some(first) = self.seen_codes.insert(code, index) {
            problems.push(at(format!(
                "the ballot of entry {first} is on the board again (a board takes each ballot once)"
            )));
        }
        let v4_failed = self.failed(Check::V4);
        match (voter, self.setup.as_mut()) {
            (Some(v), Some(Some(setup))) => {
                if let (EntryKind::Cast, Some(state)) = (entry.kind, setup.voters.get_mut(v)) {
                    state.last_cast = index;
                    if entry.status == EntryStatus::Counted {
                        if state.counted != NONE {
                            problems.push(at(format!(
                                "credential {} has two counted ballots (entries {} and {index})",
                                entry.credential, state.counted
                            )));
                        }
                        state.counted = index;
                    }
                }
            }
            _ if v4_failed => {
                self.skip(Check::V13, "the credential list is not valid (V4)");
            }
            // An ineligible credential fails V9; it has no counting state.
            _ => {}
        }
        match problems.into_iter().next() {
            Some(p) => self.fail(Check::V13, p),
            None => self.pass(Check::V13),
        }
    }

    /// V19: the anchored checkpoints of the board at `size` entries.
    fn check_checkpoints(&mut self, size: u64) {
        let root = self.frontier.root();
        let mut problems = Vec::new();
        if let Some(anchors) = &self.anchors {
            while let Some(cp) = anchors.checkpoints.get(self.next_checkpoint) {
                if cp.size > size {
                    break;
                }
                if cp.size == size && cp.root != root {
                    problems.push(format!(
                        "the checkpoint in transaction {} anchors root {} at size {size}, but the board's root there is {}",
                        cp.transaction,
                        hex::encode(cp.root),
                        hex::encode(root)
                    ));
                }
                self.next_checkpoint += 1;
            }
        }
        for p in problems {
            self.fail(Check::V19, p);
        }
    }

    /// V19: a fallback ballot the anchors place at entry `index`.
    fn check_fallback(&mut self, index: u64, entry: Option<&RecordEntry>) {
        if let Some(code) = self.fallback.remove(&index) {
            let holds =
                entry.is_some_and(|e| e.tracking_code.0 == code && e.kind == EntryKind::Cast);
            if !holds {
                self.fail(
                    Check::V19,
                    format!(
                        "the fallback ballot {} cast on chain is not the cast entry {index} of the board",
                        hex::encode(code)
                    ),
                );
            }
        }
    }

    /// Verifies the pending batch (V10) and the spoiled ballots' openings (V11).
    fn flush(&mut self) {
        if self.pending.is_empty() {
            return;
        }
        let pending = std::mem::take(&mut self.pending);
        let Some(Some(setup)) = &self.setup else {
            return;
        };
        let ballots: Vec<Ballot> = pending.iter().map(|p| p.ballot.clone()).collect();
        #[cfg(feature = "parallel")]
        let result = setup.ctx.verify_batch_parallel(&ballots, &mut self.rng);
        #[cfg(not(feature = "parallel"))]
        let result = setup.ctx.verify_batch(&ballots, &mut self.rng);
        let failures: BTreeMap<usize, String> = match result {
            Ok(()) => BTreeMap::new(),
            Err(e) => e
                .failures
                .into_iter()
                .map(|(i, reason)| (i, reason.to_string()))
                .collect(),
        };
        let mut v10 = Vec::new();
        let mut v11 = Vec::new();
        for (i, p) in pending.iter().enumerate() {
            match failures.get(&i) {
                Some(reason) => v10.push(Err(format!("{BALLOTS}, entry {}: {reason}", p.index))),
                None => {
                    v10.push(Ok(()));
                    if let Some(opening) = &p.opening {
                        v11.push(
                            setup
                                .ctx
                                .check_opening(&p.ballot, opening)
                                .map_err(|e| format!("{BALLOTS}, entry {}: {e}", p.index)),
                        );
                    }
                }
            }
        }
        for (check, results) in [(Check::V10, v10), (Check::V11, v11)] {
            for r in results {
                match r {
                    Ok(()) => self.pass(check),
                    Err(reason) => self.fail(check, reason),
                }
            }
        }
    }

    /// Runs the remaining checks and reports.
    pub fn finish(mut self) -> Report {
        self.ensure_setup();
        self.process_lines();
        if !self.line.is_empty() || self.overlong {
            let index = self.counts.entries;
            self.fail(
                Check::V8,
                format!(
                    "{BALLOTS}, entry {index}: the file ends in the middle of a line (truncated?)"
                ),
            );
            let line = std::mem::take(&mut self.line);
            self.push_leaf(leaf_hash(&line));
            self.counts.entries += 1;
        }
        self.finish_files();
        let chain = self.options.chain.take();
        if let Some(Some(setup)) = self.setup.take() {
            self.finish_counting(&setup);
            let head = self.check_final_head(&setup);
            let tally = self.check_tally(&setup);
            let results = self.check_results(&setup, head.as_ref(), tally.as_ref());
            self.finish_anchors();
            if let Some(chain) = &chain {
                self.check_registry(&setup, chain);
                self.check_chain_ballots(&setup, chain);
            }
            return self.report(Some(&setup), results, chain.as_ref());
        }
        self.report(None, None, chain.as_ref())
    }

    fn finish_files(&mut self) {
        let missing: Vec<String> = self
            .listed
            .keys()
            .filter(|p| p.as_str() != BALLOTS && !self.supplied.contains(*p))
            .cloned()
            .collect();
        for path in missing {
            self.fail(
                Check::V1,
                format!("{path} is listed in {INDEX} but missing from the record"),
            );
        }
        if let Some((size, sha256)) = self.listed.get(BALLOTS).copied() {
            if !self.ballots_seen {
                self.fail(
                    Check::V1,
                    format!("{BALLOTS} is listed in {INDEX} but missing from the record"),
                );
                return;
            }
            let digest: [u8; 32] = std::mem::take(&mut self.hasher).finalize().into();
            if size != self.ballot_bytes || digest != sha256 {
                let reason = format!(
                    "{BALLOTS} is not the file {INDEX} lists: {} bytes with SHA-256 {}, where the \
                     index says {size} bytes with SHA-256 {}",
                    self.ballot_bytes,
                    hex::encode(digest),
                    hex::encode(sha256)
                );
                self.fail(Check::V1, reason);
            } else {
                self.pass(Check::V1);
            }
        }
    }

    fn finish_counting(&mut self, setup: &Setup) {
        for (k, voter) in setup.voters.iter().enumerate() {
            if voter.last_cast != voter.counted {
                let credential = setup
                    .credentials
                    .get(k)
                    .map(hex::encode)
                    .unwrap_or_default();
                let reason = if voter.counted == NONE {
                    format!(
                        "credential {credential}: its last cast ballot, entry {}, is not marked counted",
                        voter.last_cast
                    )
                } else {
                    format!(
                        "credential {credential}: entry {} is marked counted, but its last cast ballot is entry {}",
                        voter.counted, voter.last_cast
                    )
                };
                self.fail(Check::V13, reason);
            }
        }
    }

    fn check_final_head(&mut self, setup: &Setup) -> Option<SignedTreeHead> {
        let head: SignedTreeHead = self.require(Check::V14, TREE_HEAD)?;
        let p = &setup.parameters.parameters;
        let root = self.frontier.root();
        let h = &head.head;
        let problem = if h.election != p.election_id {
            Some(format!("{TREE_HEAD} is for election {}", h.election))
        } else if h.size != self.counts.entries {
            Some(format!(
                "{TREE_HEAD} covers {} entries, but {BALLOTS} holds {}",
                h.size, self.counts.entries
            ))
        } else if h.root != root {
            Some(format!(
                "{TREE_HEAD} has root {}, but the {} entries of {BALLOTS} give {}",
                hex::encode(h.root),
                h.size,
                hex::encode(root)
            ))
        } else if h.timestamp < self.last_timestamp {
            Some(format!(
                "{TREE_HEAD} is dated {} ms, before the last receipt ({} ms)",
                h.timestamp, self.last_timestamp
            ))
        } else if head.verify(&p.board_key).is_err() {
            Some(format!(
                "the signature on {TREE_HEAD} does not verify under the board key"
            ))
        } else {
            None
        };
        match problem {
            Some(p) => {
                self.fail(Check::V14, p);
                None
            }
            None => {
                self.pass(Check::V14);
                Some(head)
            }
        }
    }

    /// V15–V17: the aggregates, the partial decryptions and their combination. `None` when no
    /// ballot counts (nothing to decrypt) or when a check failed.
    fn check_tally(&mut self, setup: &Setup) -> Option<Option<TallyOutcome>> {
        let Some((params, outcome)) = &setup.ceremony else {
            return None;
        };
        let counted = self.counts.counted;
        if counted == 0 {
            let mut extra: Vec<String> = self
                .documents
                .keys()
                .filter(|p| p.as_str() == TALLY_REQUEST || p.starts_with("ceremony/partial-"))
                .cloned()
                .collect();
            if !extra.is_empty() {
                extra.sort();
                self.fail(
                    Check::V15,
                    format!(
                        "no ballot counts, so there is nothing to decrypt, yet the record has {}",
                        extra.join(", ")
                    ),
                );
                self.skip(
                    Check::V16,
                    "the record's tally documents are not its ballots' (V15)",
                );
                self.skip(
                    Check::V17,
                    "the record's tally documents are not its ballots' (V15)",
                );
                return None;
            }
            self.pass(Check::V15);
            self.note(Check::V15, "no ballot counts: nothing to decrypt");
            self.note(Check::V16, "no ballot counts: nothing to decrypt");
            self.note(Check::V17, "no ballot counts: nothing to decrypt");
            return Some(None);
        }
        let request: TallyRequest = match self.require(Check::V15, TALLY_REQUEST) {
            Some(r) => r,
            None => {
                self.skip(Check::V16, "the tally request could not be read (V15)");
                self.skip(Check::V17, "the tally request could not be read (V15)");
                return None;
            }
        };
        let expected = TallyRequest::for_sums(
            outcome.ceremony,
            outcome.joint_key,
            setup.ctx.manifest(),
            counted,
            &self.sums,
        );
        let max_count = expected.max_count;
        let mut problems = Vec::new();
        if let Err(e) = request.validate(outcome) {
            problems.push(format!("the tally request is not valid: {e}"));
        }
        if request.ceremony != outcome.ceremony {
            problems.push(format!(
                "the tally request is for key ceremony {}, not {}",
                request.ceremony, outcome.ceremony
            ));
        }
        if request.joint_key != outcome.joint_key {
            problems.push("the tally request names another joint key".to_string());
        }
        if request.max_count != max_count {
            problems.push(format!(
                "the tally request bounds the totals by {}, but {counted} counted ballots give {max_count}",
                request.max_count
            ));
        }
        if request.items.len() != expected.items.len() {
            problems.push(format!(
                "the tally request has {} aggregates, but the manifest has {} selections",
                request.items.len(),
                expected.items.len()
            ));
        }
        for (item, want) in request.items.iter().zip(&expected.items) {
            let (label, ct) = (&want.label, &want.ciphertext);
            if item.label != *label {
                problems.push(format!(
                    "the tally request's aggregate {:?} stands where {label:?} should",
                    item.label
                ));
            } else if item.ciphertext != *ct {
                problems.push(format!(
                    "the aggregate {label:?} is not the sum of the counted ballots' ciphertexts"
                ));
            }
        }
        self.tallies[Check::V15.slot()].items += expected.items.len() as u64;
        if !problems.is_empty() {
            for p in problems {
                self.fail(Check::V15, p);
            }
            self.skip(
                Check::V16,
                "the aggregates are not the counted ballots' (V15)",
            );
            self.skip(
                Check::V17,
                "the aggregates are not the counted ballots' (V15)",
            );
            return None;
        }

        // V16.
        let n = params.trustee_count() as u32;
        let mut partials = Vec::new();
        for j in 1..=n {
            let path = partial_path(j);
            if !self.documents.contains_key(&path) {
                continue;
            }
            let Some(m) = self.parse::<PartialDecryptionMessage>(Check::V16, &path) else {
                continue;
            };
            if m.trustee != j {
                self.fail(
                    Check::V16,
                    format!("{path} is the partial decryption of trustee {}", m.trustee),
                );
                continue;
            }
            match m.validate(params, outcome, &request, &mut self.rng) {
                Ok(()) => {
                    self.pass(Check::V16);
                    partials.push(m);
                }
                Err(reason) => self.fail(Check::V16, format!("{path}: {reason}")),
            }
        }
        self.counts.partial_decryptions = partials.len() as u64;
        if self.failed(Check::V16) {
            self.skip(Check::V17, "a partial decryption is not valid (V16)");
            return None;
        }

        // V17.
        match ceremony::combine(params, outcome, &request, &partials, &mut self.rng) {
            Ok(tally) => {
                self.tallies[Check::V17.slot()].items += tally.totals.len() as u64;
                Some(Some(tally))
            }
            Err(e) => {
                self.fail(Check::V17, format!("the totals cannot be decrypted: {e}"));
                None
            }
        }
    }

    fn check_results(
        &mut self,
        setup: &Setup,
        head: Option<&SignedTreeHead>,
        tally: Option<&Option<TallyOutcome>>,
    ) -> Option<Results> {
        let results = self.require::<Results>(Check::V18, RESULTS)?;
        let (Some(head), Some(tally)) = (head, tally) else {
            self.skip(
                Check::V18,
                "the results cannot be recomputed: an earlier check failed",
            );
            return None;
        };
        let p = &setup.parameters.parameters;
        let expected = Results::from_tally(
            p.election_id,
            &p.manifest,
            self.counts.counted,
            tally.as_ref(),
            &head.head.root,
            head.head.size,
        );
        let mut problems = Vec::new();
        if results.election_id != expected.election_id {
            problems.push(format!("{RESULTS} is for election {}", results.election_id));
        }
        if results.ballots_counted != expected.ballots_counted {
            problems.push(format!(
                "{RESULTS} says {} ballots were counted; the board counts {}",
                results.ballots_counted, expected.ballots_counted
            ));
        }
        if results.board_root != expected.board_root || results.board_size != expected.board_size {
            problems.push(format!(
                "{RESULTS} covers the board at size {} with root {}; the final tree head has size {} and root {}",
                results.board_size, results.board_root, expected.board_size, expected.board_root
            ));
        }
        if results.combined != expected.combined || results.absent != expected.absent {
            problems.push(format!(
                "{RESULTS} names trustees {:?} as combined and {:?} as absent; the partial decryptions give {:?} and {:?}",
                results.combined, results.absent, expected.combined, expected.absent
            ));
        }
        if results.contests.len() != expected.contests.len() {
            problems.push(format!(
                "{RESULTS} has {} contests; the manifest has {}",
                results.contests.len(),
                expected.contests.len()
            ));
        }
        for (got, want) in results.contests.iter().zip(&expected.contests) {
            if got.id != want.id || got.title != want.title {
                problems.push(format!(
                    "{RESULTS} has contest {:?} ({:?}) where the manifest has {:?} ({:?})",
                    got.id, got.title, want.id, want.title
                ));
                continue;
            }
            if got.selections.len() != want.selections.len() {
                problems.push(format!(
                    "{RESULTS}, contest {:?}: {} selections; the manifest has {}",
                    want.id,
                    got.selections.len(),
                    want.selections.len()
                ));
                continue;
            }
            for (g, w) in got.selections.iter().zip(&want.selections) {
                if g.id != w.id || g.label != w.label {
                    problems.push(format!(
                        "{RESULTS}, contest {:?}: selection {:?} ({:?}) where the manifest has {:?} ({:?})",
                        want.id, g.id, g.label, w.id, w.label
                    ));
                } else if g.total != w.total {
                    problems.push(format!(
                        "{RESULTS}, contest {:?}, selection {:?}: the published total is {}, the decrypted total is {}",
                        want.id, w.id, g.total, w.total
                    ));
                }
            }
        }
        let figures = expected
            .contests
            .iter()
            .map(|c| c.selections.len() as u64)
            .sum::<u64>();
        self.tallies[Check::V18.slot()].items += figures;
        if problems.is_empty() && results == expected {
            Some(expected)
        } else {
            if problems.is_empty() {
                problems.push(format!("{RESULTS} differs from the recomputed results"));
            }
            for p in problems {
                self.fail(Check::V18, p);
            }
            None
        }
    }

    fn finish_anchors(&mut self) {
        let Some(anchors) = &self.anchors else {
            return;
        };
        let entries = self.counts.entries;
        let mut problems = Vec::new();
        if let Some(cp) = anchors.checkpoints.get(self.next_checkpoint) {
            if cp.size > entries {
                problems.push(format!(
                    "the checkpoint in transaction {} anchors size {}, but the board has only {entries} entries",
                    cp.transaction, cp.size
                ));
            }
        }
        for (index, code) in std::mem::take(&mut self.fallback) {
            problems.push(format!(
                "the fallback ballot {} cast on chain should be board entry {index}, but the board has only {entries} entries",
                hex::encode(code)
            ));
        }
        for (code, held) in &self.refused {
            if let Some((index, EntryKind::Cast)) = held {
                problems.push(format!(
                    "the fallback ballot {} is listed as refused, yet the board holds it as cast entry {index}",
                    hex::encode(code)
                ));
            }
        }
        let items =
            (anchors.checkpoints.len() + anchors.fallback.len() + anchors.rejected.len()) as u64;
        for p in problems {
            self.fail(Check::V19, p);
        }
        self.tallies[Check::V19.slot()].items += items;
    }

    /// V19's checks of `anchors.json` itself, before the ballots stream by.
    fn read_anchors(&mut self) {
        if !self.documents.contains_key(ANCHORS) {
            self.note(
                Check::V19,
                "the record has no anchors.json: nothing anchored",
            );
            return;
        }
        let Some(anchors) = self.parse::<Anchors>(Check::V19, ANCHORS) else {
            return;
        };
        let mut problems = Vec::new();
        if !is_hex_prefixed(&anchors.contract, 20) {
            problems.push(format!(
                "the contract address {:?} is not 0x and 40 lowercase hex digits",
                anchors.contract
            ));
        }
        let mut transactions = vec![&anchors.election_transaction];
        transactions.extend(anchors.checkpoints.iter().map(|c| &c.transaction));
        transactions.extend(anchors.fallback.iter().map(|f| &f.transaction));
        transactions.extend(anchors.rejected.iter().map(|r| &r.transaction));
        transactions.extend(anchors.result_transaction.iter());
        for tx in transactions {
            if !is_hex_prefixed(tx, 32) {
                problems.push(format!(
                    "the transaction hash {tx:?} is not 0x and 64 lowercase hex digits"
                ));
            }
        }
        if anchors
            .checkpoints
            .windows(2)
            .any(|w| w[0].size >= w[1].size)
        {
            problems.push("the checkpoints' sizes do not strictly grow".to_string());
        }
        for cp in &anchors.checkpoints {
            if cp.size == 0 && cp.root != EMPTY_ROOT {
                problems.push(format!(
                    "the checkpoint of size 0 in transaction {} has a root other than the empty tree's",
                    cp.transaction
                ));
            }
        }
        // Each position in the contract's list once, whether taken or refused.
        let mut positions = BTreeSet::new();
        let listed = anchors
            .fallback
            .iter()
            .map(|f| (f.chain_index, &f.transaction))
            .chain(
                anchors
                    .rejected
                    .iter()
                    .map(|r| (r.chain_index, &r.transaction)),
            );
        for (position, tx) in listed {
            if !positions.insert(position) {
                problems.push(format!(
                    "two fallback ballots are said to be the contract's fallback ballot {position} (again in transaction {tx})"
                ));
            }
        }
        // Two casts of the same bytes name the same entry; different bytes never do.
        let mut fallback = BTreeMap::new();
        let mut entry_of: BTreeMap<[u8; 32], u64> = BTreeMap::new();
        for f in &anchors.fallback {
            let code = f.tracking_code.0;
            if let Some(other) = fallback.insert(f.index, code) {
                if other != code {
                    problems.push(format!(
                        "two different fallback ballots, {} and {}, are said to be board entry {}",
                        hex::encode(other),
                        hex::encode(code),
                        f.index
                    ));
                }
            }
            if let Some(other) = entry_of.insert(code, f.index) {
                if other != f.index {
                    problems.push(format!(
                        "the fallback ballot {} is said to be both board entry {other} and board entry {}",
                        hex::encode(code),
                        f.index
                    ));
                }
            }
        }
        let mut refused = BTreeMap::new();
        for r in &anchors.rejected {
            if r.reason.trim().is_empty() {
                problems.push(format!(
                    "the fallback ballot refused in transaction {} gives no reason",
                    r.transaction
                ));
            }
            if let Some(index) = entry_of.get(&r.tracking_code.0) {
                problems.push(format!(
                    "the fallback ballot {} is listed both as refused and as board entry {index}",
                    r.tracking_code
                ));
            }
            refused.insert(r.tracking_code.0, None);
        }
        for p in problems {
            self.fail(Check::V19, p);
        }
        self.refused = refused;
        self.next_checkpoint = anchors
            .checkpoints
            .iter()
            .take_while(|c| c.size == 0)
            .count();
        self.fallback = fallback;
        self.anchors = Some(anchors);
    }

    /// Whether `anchors.json` is in the record but could not be read (a V19 failure).
    fn anchors_unreadable(&self) -> bool {
        self.anchors.is_none() && self.documents.contains_key(ANCHORS)
    }

    /// The rebuilt board's root at `size`, if the board reached it and the chain names it.
    fn chain_root_at(&self, size: u64) -> Option<[u8; 32]> {
        if size == 0 {
            Some(EMPTY_ROOT)
        } else {
            self.chain_roots.get(&size).copied()
        }
    }

    /// V20: the record against the registry's creation, checkpoints and result.
    fn check_registry(&mut self, setup: &Setup, chain: &ChainEvidence) {
        if self.anchors_unreadable() {
            self.skip(Check::V20, "anchors.json could not be read (V19)");
            return;
        }
        let Some(anchors) = &self.anchors else {
            let problem = format!(
                "the record has no anchors.json, so it names no anchoring, yet contract {} on chain {} was given",
                chain.contract, chain.chain_id
            );
            return self.conclude(Check::V20, 1, vec![problem]);
        };
        let Some(ceremony) = self
            .documents
            .get(CEREMONY)
            .and_then(|b| serde_json::from_slice::<CeremonyParams>(b).ok())
        else {
            self.skip(
                Check::V20,
                "the key ceremony's parameters could not be read (V5)",
            );
            return;
        };
        let p = &setup.parameters.parameters;
        let mut problems = Vec::new();
        let mut items = 0u64;

        // 1. The chain and the contract.
        items += 1;
        if anchors.chain_id != chain.chain_id {
            problems.push(format!(
                "anchors.json names chain {}, but the chain evidence is from chain {}",
                anchors.chain_id, chain.chain_id
            ));
        }
        if !anchors.contract.eq_ignore_ascii_case(&chain.contract) {
            problems.push(format!(
                "anchors.json names contract {}, but the chain evidence is from contract {}",
                anchors.contract, chain.contract
            ));
        }

        // 2. The registration.
        items += 1;
        match &chain.election {
            None => problems.push(format!(
                "the election is not registered with contract {} on chain {}",
                chain.contract, chain.chain_id
            )),
            Some(e) => {
                if !e
                    .transaction
                    .eq_ignore_ascii_case(&anchors.election_transaction)
                {
                    problems.push(format!(
                        "the election was registered in transaction {}, but anchors.json names transaction {}",
                        e.transaction, anchors.election_transaction
                    ));
                }
                if e.chain_id != chain.chain_id {
                    problems.push(format!(
                        "the registration is bound to chain {}, but the chain evidence is from chain {}",
                        e.chain_id, chain.chain_id
                    ));
                }
                let bound = [
                    (
                        "manifest hash",
                        e.manifest_hash,
                        p.manifest_hash.0,
                        ELECTION,
                    ),
                    (
                        "credentials digest",
                        e.credentials_digest,
                        p.credentials_digest,
                        CREDENTIALS,
                    ),
                    (
                        "trustee keys digest",
                        e.trustee_keys_digest,
                        trustee_keys_digest(&ceremony),
                        CEREMONY,
                    ),
                    ("joint key", e.joint_key, p.joint_key.to_bytes(), ELECTION),
                    ("board key", e.board_key, p.board_key.to_bytes(), ELECTION),
                ];
                for (what, on_chain, in_record, file) in bound {
                    if on_chain != in_record {
                        problems.push(format!(
                            "the registry holds the {what} {}, but {file} gives {}",
                            hex::encode(on_chain),
                            hex::encode(in_record)
                        ));
                    }
                }
            }
        }

        // 3. The checkpoints: each a signed tree head of the board, each listed in anchors.json.
        if let Some(w) = chain
            .checkpoints
            .windows(2)
            .find(|w| w[0].size >= w[1].size)
        {
            problems.push(format!(
                "the chain's checkpoints do not strictly grow: size {} in transaction {} follows size {}",
                w[1].size, w[1].transaction, w[0].size
            ));
        }
        let entries = self.counts.entries;
        let listed: HashMap<String, (u64, [u8; 32])> = anchors
            .checkpoints
            .iter()
            .map(|a| (a.transaction.to_ascii_lowercase(), (a.size, a.root)))
            .collect();
        for cp in &chain.checkpoints {
            items += 1;
            match self.chain_root_at(cp.size) {
                None => problems.push(format!(
                    "the checkpoint in transaction {} anchors size {}, but the board has only {entries} entries",
                    cp.transaction, cp.size
                )),
                Some(root) if root != cp.root => problems.push(format!(
                    "the checkpoint in transaction {} anchors root {} at size {}, but the board's root there is {}",
                    cp.transaction,
                    hex::encode(cp.root),
                    cp.size,
                    hex::encode(root)
                )),
                Some(_) => {}
            }
            let signature = text::from_hex_vec("checkpoint signature", &cp.signature)
                .ok()
                .and_then(|b| BoardSignature::from_bytes(&b).ok());
            match signature {
                None => problems.push(format!(
                    "the checkpoint in transaction {} carries a signature that is not 64 bytes of lowercase hex",
                    cp.transaction
                )),
                Some(signature) => {
                    let head = SignedTreeHead {
                        head: TreeHead {
                            election: p.election_id,
                            size: cp.size,
                            root: cp.root,
                            timestamp: cp.timestamp_ms,
                        },
                        signature,
                    };
                    if head.verify(&p.board_key).is_err() {
                        problems.push(format!(
                            "the board's signature on the checkpoint in transaction {} (size {}) does not verify under the record's board key",
                            cp.transaction, cp.size
                        ));
                    }
                }
            }
            match listed.get(&cp.transaction.to_ascii_lowercase()) {
                None => problems.push(format!(
                    "the chain holds a checkpoint of size {} in transaction {} that anchors.json does not list",
                    cp.size, cp.transaction
                )),
                Some((size, root)) if (*size, *root) != (cp.size, cp.root) => {
                    problems.push(format!(
                        "the checkpoint in transaction {} anchors size {} with root {} on chain, but anchors.json says size {size} with root {}",
                        cp.transaction,
                        cp.size,
                        hex::encode(cp.root),
                        hex::encode(root)
                    ))
                }
                Some(_) => {}
            }
        }
        let on_chain: BTreeSet<String> = chain
            .checkpoints
            .iter()
            .map(|c| c.transaction.to_ascii_lowercase())
            .collect();
        for a in &anchors.checkpoints {
            if !on_chain.contains(&a.transaction.to_ascii_lowercase()) {
                problems.push(format!(
                    "anchors.json lists a checkpoint of size {} in transaction {} that the chain does not hold",
                    a.size, a.transaction
                ));
            }
        }

        // 4. The result.
        items += 1;
        let mut note = None;
        match &chain.result {
            None => problems.push("no result is published on chain for this election".to_string()),
            Some(r) => {
                match &anchors.result_transaction {
                    Some(tx) if tx.eq_ignore_ascii_case(&r.transaction) => {}
                    Some(tx) => problems.push(format!(
                        "the result was published in transaction {}, but anchors.json names transaction {tx}",
                        r.transaction
                    )),
                    None => problems.push(format!(
                        "the result was published in transaction {}, but anchors.json names no result transaction",
                        r.transaction
                    )),
                }
                match self.listed.get(RESULTS) {
                    Some((_, sha256)) if *sha256 == r.tally_digest => {}
                    Some((_, sha256)) => problems.push(format!(
                        "the result on chain has tally digest {}, but results.json hashes to {}",
                        hex::encode(r.tally_digest),
                        hex::encode(sha256)
                    )),
                    None => problems.push(
                        "the result on chain has a tally digest, but the record has no results.json"
                            .to_string(),
                    ),
                }
                if let Some(index) = &self.index {
                    let anchored = index.anchored_digest();
                    if anchored != r.record_digest {
                        problems.push(format!(
                            "the result on chain has record digest {}, but the record (without anchors.json) has digest {}",
                            hex::encode(r.record_digest),
                            hex::encode(anchored)
                        ));
                    }
                }
                let root = self.frontier.root();
                if (r.final_size, r.final_root) != (entries, root) {
                    problems.push(format!(
                        "the result on chain names a final tree head of size {} with root {}, but the board has {entries} entries with root {}",
                        r.final_size,
                        hex::encode(r.final_root),
                        hex::encode(root)
                    ));
                }
                match chain.checkpoints.last() {
                    None => problems.push(format!(
                        "the result's final tree head (size {}) is not checkpointed: the chain holds no checkpoint",
                        r.final_size
                    )),
                    Some(cp) if (cp.size, cp.root) != (r.final_size, r.final_root) => {
                        problems.push(format!(
                            "the result's final tree head (size {}, root {}) is not the last checkpoint (size {}, root {})",
                            r.final_size,
                            hex::encode(r.final_root),
                            cp.size,
                            hex::encode(cp.root)
                        ))
                    }
                    Some(_) => {}
                }
                let disputes = if r.disputes.is_empty() {
                    "no dispute filed".to_string()
                } else {
                    let txs: Vec<&str> =
                        r.disputes.iter().map(|d| d.transaction.as_str()).collect();
                    format!(
                        "{} dispute(s) filed, reported and not judged: {}",
                        r.disputes.len(),
                        txs.join(", ")
                    )
                };
                note = Some(format!(
                    "{} checkpoints; result in transaction {}, challenge window until {} (Unix seconds); {disputes}",
                    chain.checkpoints.len(),
                    r.transaction,
                    r.challenge_ends_at
                ));
            }
        }
        self.conclude(Check::V20, items, problems);
        if let Some(note) = note {
            self.note(Check::V20, note);
        }
    }

    /// V21: every ballot cast on chain is listed in `anchors.json`, as a board entry (which V19
    /// ties to the board) or as refused, and a refused one is indeed not a valid ballot.
    fn check_chain_ballots(&mut self, setup: &Setup, chain: &ChainEvidence) {
        if self.anchors_unreadable() {
            self.skip(Check::V21, "anchors.json could not be read (V19)");
            return;
        }
        let anchors = self.anchors.take();
        let (taken, refused): (&[FallbackBallot], &[RejectedFallbackBallot]) = match &anchors {
            Some(a) => (&a.fallback, &a.rejected),
            None => (&[], &[]),
        };
        // What anchors.json says of each position in the contract's list (the first claim; V19
        // fails on a second).
        let mut claims: BTreeMap<u64, Claim<'_>> = BTreeMap::new();
        for f in taken {
            claims.entry(f.chain_index).or_insert(Claim::Taken(f));
        }
        for r in refused {
            claims.entry(r.chain_index).or_insert(Claim::Refused(r));
        }
        let mut problems = Vec::new();
        let mut judged_refused = 0u64;
        for (k, c) in chain.fallback.iter().enumerate() {
            let k = k as u64;
            if c.chain_index != k {
                problems.push(format!(
                    "the chain evidence is inconsistent: fallback ballot {k} (transaction {}) says it is fallback ballot {}",
                    c.transaction, c.chain_index
                ));
                continue;
            }
            let bytes = match text::from_base64("ballot", &c.ballot) {
                Ok(bytes) => bytes,
                Err(e) => {
                    problems.push(format!(
                        "the chain evidence is inconsistent: fallback ballot {k} (transaction {}) is not base64: {e}",
                        c.transaction
                    ));
                    continue;
                }
            };
            let code = leaf_hash(&bytes);
            if code != c.digest {
                problems.push(format!(
                    "the chain evidence is inconsistent: fallback ballot {k} (transaction {}) has digest {}, but its bytes hash to {}",
                    c.transaction,
                    hex::encode(c.digest),
                    hex::encode(code)
                ));
                continue;
            }
            let Some(claim) = claims.get(&k) else {
                problems.push(format!(
                    "the ballot cast on chain in transaction {} (fallback ballot {k}, tracking code {}) is neither on the board nor refused in anchors.json",
                    c.transaction,
                    hex::encode(code)
                ));
                continue;
            };
            let (tx, claimed) = claim.transaction_and_code();
            if !tx.eq_ignore_ascii_case(&c.transaction) {
                problems.push(format!(
                    "fallback ballot {k} was cast on chain in transaction {}, but anchors.json names transaction {tx}",
                    c.transaction
                ));
            } else if claimed != code {
                problems.push(format!(
                    "fallback ballot {k} on chain has tracking code {}, but anchors.json says {}",
                    hex::encode(code),
                    hex::encode(claimed)
                ));
            } else if let Claim::Refused(r) = claim {
                judged_refused += 1;
                match self.judge_refused(setup, &bytes, code) {
                    Refusal::Right => {}
                    Refusal::Wrong => problems.push(format!(
                        "fallback ballot {k} (transaction {}, tracking code {}) was refused as {:?}, but it is a valid ballot of this election",
                        c.transaction,
                        hex::encode(code),
                        r.reason
                    )),
                    Refusal::Unknown(why) => self.skip(Check::V21, why),
                }
            }
        }
        let held = chain.fallback.len() as u64;
        for (k, claim) in claims.range(held..) {
            let (tx, _) = claim.transaction_and_code();
            problems.push(format!(
                "anchors.json lists fallback ballot {k} (transaction {tx}) that the chain does not hold"
            ));
        }
        self.conclude(Check::V21, held, problems);
        self.note(
            Check::V21,
            format!(
                "{held} ballots cast on chain, {judged_refused} of them refused and re-checked invalid"
            ),
        );
        self.anchors = anchors;
    }

    /// Whether a ballot refused by the board (V21) is indeed not a valid ballot of the election:
    /// it does not decode for this election, its signature or proofs fail, it is a spoiled
    /// ballot of the board (which can never be cast), or its credential is not on the list.
    fn judge_refused(&mut self, setup: &Setup, bytes: &[u8], code: [u8; 32]) -> Refusal {
        let Ok(ballot) = Ballot::from_bytes(bytes, &setup.ctx) else {
            return Refusal::Right;
        };
        if setup.ctx.verify_ballot(&ballot, &mut self.rng).is_err() {
            return Refusal::Right;
        }
        if let Some(Some((_, EntryKind::Spoiled))) = self.refused.get(&code) {
            return Refusal::Right;
        }
        if self.failed(Check::V4) {
            return Refusal::Unknown(
                "whether a refused fallback ballot's credential is eligible cannot be judged: the credential list is not valid (V4)",
            );
        }
        let credential = ballot.credential().to_bytes();
        if setup.credentials.binary_search(&credential).is_err() {
            return Refusal::Right;
        }
        Refusal::Wrong
    }

    fn report(
        mut self,
        setup: Option<&Setup>,
        results: Option<Results>,
        chain: Option<&ChainEvidence>,
    ) -> Report {
        let checks: Vec<CheckReport> = Check::ALL
            .iter()
            .zip(std::mem::take(&mut self.tallies))
            .map(|(check, t)| {
                let outcome = if t.failures > 0 {
                    Outcome::Failed
                } else if t.skipped.is_some() {
                    Outcome::Skipped
                } else {
                    Outcome::Passed
                };
                CheckReport {
                    check: *check,
                    title: check.title(),
                    outcome,
                    items: t.items,
                    failures: t.failures,
                    detail: match outcome {
                        Outcome::Failed => t.first,
                        Outcome::Skipped => t.skipped,
                        Outcome::Passed => t.note,
                    },
                }
            })
            .collect();
        let mut report = Report {
            election_id: self.index.as_ref().map(|i| i.election_id),
            record_digest: self.index.as_ref().map(|i| hex::encode(i.digest())),
            board_key: setup.map(|s| s.parameters.parameters.board_key.to_string()),
            checks,
            counts: self.counts,
            results: None,
            chain: chain.map(ChainSummary::of),
            booth: self.options.booth,
        };
        if report.passed() {
            report.results = results;
        }
        report
    }
}

/// What `anchors.json` says became of a ballot cast on chain (V21).
enum Claim<'a> {
    /// On the board.
    Taken(&'a FallbackBallot),
    /// Refused.
    Refused(&'a RejectedFallbackBallot),
}

impl Claim<'_> {
    fn transaction_and_code(&self) -> (&str, [u8; 32]) {
        match self {
            Claim::Taken(f) => (&f.transaction, f.tracking_code.0),
            Claim::Refused(r) => (&r.transaction, r.tracking_code.0),
        }
    }
}

/// V21's verdict on a refused fallback ballot.
enum Refusal {
    /// It is not a valid ballot of the election: rightly refused.
    Right,
    /// It is a valid ballot of the election.
    Wrong,
    /// It cannot be told (why).
    Unknown(&'static str),
}

/// What can be learned from one line of `ballots.jsonl` alone.
struct Parsed {
    index: u64,
    /// The Merkle leaf the line stands for: the ballot's hash, else the claimed tracking code,
    /// else the hash of the line.
    leaf: [u8; 32],
    /// The entry, or why the line is not one (a V8 failure).
    entry: Result<RecordEntry, String>,
    /// The first V8 problem of a parsed entry.
    problem: Option<String>,
    /// The decoded ballot.
    ballot: Option<Ballot>,
    /// The receipt's two signatures (V12).
    receipt: Result<(), String>,
}

fn parse_line(
    index: u64,
    line: Option<&[u8]>,
    ctx: Option<&ElectionContext>,
    key: Option<&BoardKey>,
) -> Parsed {
    let at = |what: String| format!("{BALLOTS}, entry {index}: {what}");
    let unusable = |leaf: [u8; 32], reason: String| Parsed {
        index,
        leaf,
        entry: Err(reason),
        problem: None,
        ballot: None,
        receipt: Ok(()),
    };
    let Some(line) = line else {
        return unusable(
            leaf_hash(b""),
            at(format!("the line is longer than {MAX_LINE} bytes")),
        );
    };
    let (Some(ctx), Some(key)) = (ctx, key) else {
        return unusable(leaf_hash(line), String::new());
    };
    let entry: RecordEntry = match serde_json::from_slice(line) {
        Ok(entry) => entry,
        Err(e) => return unusable(leaf_hash(line), at(format!("not a board entry: {e}"))),
    };
    let bytes = text::from_base64("ballot", &entry.ballot);
    let leaf = match &bytes {
        Ok(b) => leaf_hash(b),
        Err(_) => entry.tracking_code.0,
    };
    let mut problems = Vec::new();
    if entry.index != index {
        problems.push(at(format!("it says it is entry {}", entry.index)));
    }
    let ballot = match bytes {
        Err(e) => {
            problems.push(at(format!("the ballot is not base64: {e}")));
            None
        }
        Ok(bytes) => {
            if leaf != entry.tracking_code.0 {
                problems.push(at(format!(
                    "the tracking code {} is not the ballot's hash {}",
                    entry.tracking_code,
                    hex::encode(leaf)
                )));
            }
            match Ballot::from_bytes(&bytes, ctx) {
                Ok(ballot) => Some(ballot),
                Err(e) => {
                    problems.push(at(format!("the ballot does not decode: {e}")));
                    None
                }
            }
        }
    };
    if let Some(ballot) = &ballot {
        if ballot.credential() != &entry.credential {
            problems.push(at(format!(
                "it names credential {}, but the ballot is signed by {}",
                entry.credential,
                ballot.credential()
            )));
        }
    }
    let shape_ok = matches!(
        (entry.kind, entry.status, &entry.opening),
        (EntryKind::Spoiled, EntryStatus::Spoiled, Some(_))
            | (
                EntryKind::Cast,
                EntryStatus::Counted | EntryStatus::Superseded,
                None
            )
    );
    if !shape_ok {
        problems.push(at(format!(
            "a {} entry marked {} {} an opening",
            entry.kind.as_str(),
            entry.status.as_str(),
            if entry.opening.is_some() {
                "with"
            } else {
                "without"
            }
        )));
    }
    let receipt = entry.receipt.verify(key).map_err(|e| e.to_string());
    Parsed {
        index,
        leaf,
        entry: Ok(entry),
        problem: problems.into_iter().next(),
        ballot,
        receipt,
    }
}

/// Whether `s` is `0x` followed by `2·bytes` lowercase hex digits.
fn is_hex_prefixed(s: &str, bytes: usize) -> bool {
    s.strip_prefix("0x").is_some_and(|h| {
        h.len() == 2 * bytes
            && h.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    })
}

/// The trustee a ceremony file names (`ceremony/dealer-3.json` → 3).
fn trustee_of(path: &str) -> Option<u32> {
    let stem = path.strip_prefix("ceremony/")?.strip_suffix(".json")?;
    let (_, n) = stem
        .strip_prefix("dealer-")
        .map(|n| ("dealer", n))
        .or_else(|| stem.strip_prefix("check-").map(|n| ("check", n)))
        .or_else(|| stem.strip_prefix("partial-").map(|n| ("partial", n)))?;
    if n.is_empty() || n.starts_with('0') || !n.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    n.parse().ok()
}

/// Whether `path` is a dealer or check message of the key ceremony.
fn is_key_ceremony_message(path: &str) -> bool {
    path.starts_with("ceremony/dealer-") || path.starts_with("ceremony/check-")
}

/// Whether `path` is one of the files a record may hold.
fn known_path(path: &str) -> bool {
    matches!(
        path,
        ELECTION | CREDENTIALS | CEREMONY | BALLOTS | TREE_HEAD | RESULTS | ANCHORS | TALLY_REQUEST
    ) || trustee_of(path).is_some()
}
