//! Complete synthetic election records, for tests, test vectors and benchmarks (feature `synth`).
//!
//! [`synthesize`] runs a whole election in memory from a seed: board key, key ceremony (every
//! trustee deals and checks), credentials (drawn directly, without codes: see
//! [`CredentialSecret::insecure_from_seed`]), ballots with receipts (a few voters spoil a ballot
//! first, a few vote twice), the final tree head, the aggregates, the present trustees' partial
//! decryptions and the results, and writes every file of the record to a [`RecordSink`]. It is
//! deterministic: the same options give the same record, byte for byte.
//!
//! [`reindex`] and [`reseal`] repair a record after a test changes it, so that a test can aim at
//! exactly one check: `reindex` recomputes `record.json`; `reseal` also recomputes everything the
//! board signs (tracking codes, receipts, the final tree head, the results' board root).

use rand_chacha::ChaCha20Rng;
use rand_core::{RngCore, SeedableRng};
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::types::{
    credentials_digest, CredentialList, ElectionParameters, EntryStatus, RecordEntry, RecordFile,
    RecordIndex, Results, RECORD_FORMAT,
};
use super::{
    check_path, dealer_path, partial_path, BALLOTS, CEREMONY, CREDENTIALS, ELECTION, INDEX,
    RESULTS, TALLY_REQUEST, TREE_HEAD,
};
use crate::ballot::{ElectionContext, ElectionId, SpoiledBallot};
use crate::board::{
    leaf_hash, BoardSigningKey, EntryKind, MerkleFrontier, SignedTreeHead, TreeHead,
};
use crate::ceremony::{
    self, check_shares, deal, partial_decrypt, CeremonyParams, KeyShare, TallyRequest,
    TrusteeIdentity,
};
use crate::credential::{CredentialReplacement, CredentialSecret};
use crate::elgamal::Ciphertext;
use crate::group::text;
use crate::manifest::{Contest, ContestStyle, Manifest};

/// Where a synthetic record goes.
pub trait RecordSink {
    /// The sink's error.
    type Error;
    /// Writes the whole file `path` (a path of the record, e.g. `ceremony/dealer-1.json`).
    fn write(&mut self, path: &str, bytes: &[u8]) -> Result<(), Self::Error>;
    /// Appends one line (with its newline) to `ballots.jsonl`.
    fn append_ballots(&mut self, line: &[u8]) -> Result<(), Self::Error>;
}

/// An in-memory record: path → bytes (`ballots.jsonl` included).
pub type Files = std::collections::BTreeMap<String, Vec<u8>>;

impl RecordSink for Files {
    type Error = std::convert::Infallible;

    fn write(&mut self, path: &str, bytes: &[u8]) -> Result<(), Self::Error> {
        self.insert(path.to_string(), bytes.to_vec());
        Ok(())
    }

    fn append_ballots(&mut self, line: &[u8]) -> Result<(), Self::Error> {
        self.entry(BALLOTS.to_string())
            .or_default()
            .extend_from_slice(line);
        Ok(())
    }
}

/// What to synthesize.
#[derive(Clone, Debug)]
pub struct SynthOptions {
    /// The manifest.
    pub manifest: Manifest,
    /// Eligible voters; each casts a ballot.
    pub voters: u64,
    /// Trustees in the key ceremony.
    pub trustees: u32,
    /// The threshold.
    pub threshold: u32,
    /// Trustees (1-based) who do not take part in the tally.
    pub absent: Vec<u32>,
    /// Every `k`-th voter (from the first) spoils a ballot before casting; 0 for none.
    pub spoil_every: u64,
    /// Every `k`-th voter (from the second) votes again at the end; 0 for none.
    pub revote_every: u64,
    /// The first `replaced` voters had their credential replaced before voting opened: the list
    /// first uploaded had another key for each, replaced one by one (credentials.md §7) by the
    /// key they vote with; `credentials.json` records the replacements.
    pub replaced: u64,
    /// The seed of everything.
    pub seed: u64,
}

/// The secrets behind a synthetic record, so that tests can re-sign what they change.
pub struct Synthesized {
    /// The board's signing key.
    pub board: BoardSigningKey,
    /// The trustees' identities, trustee `i` at `i − 1`.
    pub trustees: Vec<TrusteeIdentity>,
    /// The voters' credential secrets, by voter.
    pub credentials: Vec<CredentialSecret>,
    /// The results written to `results.json`.
    pub results: Results,
    /// The totals of the counted ballots' plaintexts, per contest and selection.
    pub expected_totals: Vec<Vec<u64>>,
}

/// Why a synthetic record could not be made.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SynthError<E> {
    /// The options are impossible (a bad manifest or threshold, too many absent trustees…).
    #[error("{0}")]
    Options(String),
    /// The sink failed.
    #[error("could not write the record")]
    Sink(E),
}

/// A fixed timestamp base: 2026-01-01T00:00:00Z in milliseconds.
const EPOCH_MS: u64 = 1_767_225_600_000;

/// The `k`-th deterministic valid choice for a contest.
pub fn choices_for(contest: &Contest, k: u64) -> Vec<u64> {
    let n = contest.selections.len();
    let at = (k % n as u64) as usize;
    let mut v = vec![0u64; n];
    match contest.style {
        ContestStyle::Plurality => v[at] = 1,
        ContestStyle::Approval { min, max } => {
            let span = u64::from(max - min) + 1;
            let count = u64::from(min) + (k / n as u64) % span;
            for j in 0..count as usize {
                v[(at + j) % n] = 1;
            }
        }
        ContestStyle::Score { max_score } => {
            for (j, x) in v.iter_mut().enumerate() {
                *x = (k + j as u64) % (max_score + 1);
            }
        }
        ContestStyle::Cumulative {
            max_per_selection,
            budget,
        } => {
            let mut left = k % (budget + 1);
            for j in 0..n {
                let give = left.min(max_per_selection);
                v[(at + j) % n] = give;
                left -= give;
            }
        }
    }
    v
}

fn choices(manifest: &Manifest, k: u64) -> Vec<Vec<u64>> {
    manifest
        .contests
        .iter()
        .enumerate()
        .map(|(c, contest)| choices_for(contest, k.wrapping_add(c as u64 * 7)))
        .collect()
}

fn json<T: Serialize>(value: &T) -> Vec<u8> {
    let mut bytes = serde_json::to_vec_pretty(value).unwrap_or_default();
    bytes.push(b'\n');
    bytes
}

fn seeded(seed: u64, stream: u64, index: u64) -> ChaCha20Rng {
    let mut s = [0u8; 32];
    s[..8].copy_from_slice(&seed.to_le_bytes());
    s[8..16].copy_from_slice(&stream.to_le_bytes());
    s[16..24].copy_from_slice(&index.to_le_bytes());
    ChaCha20Rng::from_seed(s)
}

/// One planned board entry.
#[derive(Clone, Copy)]
struct Plan {
    voter: u64,
    kind: EntryKind,
    status: EntryStatus,
    /// Which of the voter's ballots (0 first cast or spoil, 1 the next…), for its choices.
    round: u64,
}

fn plan(options: &SynthOptions) -> Vec<Plan> {
    let mut plan = Vec::new();
    let revotes = |k: u64| options.revote_every > 0 && k % options.revote_every == 1;
    for k in 0..options.voters {
        if options.spoil_every > 0 && k % options.spoil_every == 0 {
            plan.push(Plan {
                voter: k,
                kind: EntryKind::Spoiled,
                status: EntryStatus::Spoiled,
                round: 1,
            });
        }
        plan.push(Plan {
            voter: k,
            kind: EntryKind::Cast,
            status: if revotes(k) {
                EntryStatus::Superseded
            } else {
                EntryStatus::Counted
            },
            round: 0,
        });
    }
    for k in (0..options.voters).filter(|&k| revotes(k)) {
        plan.push(Plan {
            voter: k,
            kind: EntryKind::Cast,
            status: EntryStatus::Counted,
            round: 2,
        });
    }
    plan
}

struct Digests {
    files: Vec<RecordFile>,
}

impl Digests {
    fn write<S: RecordSink>(
        &mut self,
        sink: &mut S,
        path: &str,
        bytes: &[u8],
    ) -> Result<(), SynthError<S::Error>> {
        self.files.push(RecordFile::describe(path, bytes));
        sink.write(path, bytes).map_err(SynthError::Sink)
    }
}

/// Synthesizes a complete, valid record into `sink`; `progress` is called with the number of
/// board entries written so far.
pub fn synthesize<S: RecordSink>(
    options: &SynthOptions,
    sink: &mut S,
    mut progress: impl FnMut(u64),
) -> Result<Synthesized, SynthError<S::Error>> {
    let bad = |e: String| SynthError::Options(e);
    let mut rng = seeded(options.seed, 0, 0);
    let mut election = [0u8; 32];
    rng.fill_bytes(&mut election);
    let election = ElectionId(election);
    let board = BoardSigningKey::generate(&mut rng);
    let mut digests = Digests { files: Vec::new() };

    // The key ceremony.
    let trustees: Vec<TrusteeIdentity> = (0..options.trustees)
        .map(|_| TrusteeIdentity::generate(&mut rng))
        .collect();
    let announcements = trustees
        .iter()
        .enumerate()
        .map(|(i, t)| t.announce(election, &format!("Trustee {}", i + 1), &mut rng))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| bad(e.to_string()))?;
    let params = CeremonyParams::new(election, options.threshold, announcements, &mut rng)
        .map_err(|e| bad(e.to_string()))?;
    let dealers = trustees
        .iter()
        .map(|t| deal(&params, t, &mut rng))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| bad(e.to_string()))?;
    let checks = trustees
        .iter()
        .map(|t| check_shares(&params, t, &dealers, &mut rng).map(|(m, _)| m))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| bad(e.to_string()))?;
    let outcome =
        ceremony::finalize(&params, &dealers, &checks, &mut rng).map_err(|e| bad(e.to_string()))?;
    digests.write(sink, CEREMONY, &json(&params))?;
    for (m, c) in dealers.iter().zip(&checks) {
        digests.write(sink, &dealer_path(m.dealer), &json(m))?;
        digests.write(sink, &check_path(c.trustee), &json(c))?;
    }

    // Credentials and parameters.
    let credentials: Vec<CredentialSecret> = (0..options.voters)
        .map(|k| {
            let mut seed = [0u8; 32];
            seeded(options.seed, 1, k).fill_bytes(&mut seed);
            CredentialSecret::insecure_from_seed(&seed)
        })
        .collect();
    let mut keys: Vec<[u8; 32]> = credentials.iter().map(|c| c.public().to_bytes()).collect();
    keys.sort_unstable();
    keys.dedup();
    let mut sorted: Vec<_> = credentials.iter().map(CredentialSecret::public).collect();
    sorted.sort_unstable_by_key(|k| k.to_bytes());
    sorted.dedup();
    // The lost first keys of the replaced voters, on the list first uploaded.
    let lost: Vec<CredentialSecret> = (0..options.replaced.min(options.voters))
        .map(|k| {
            let mut seed = [0u8; 32];
            seeded(options.seed, 9, k).fill_bytes(&mut seed);
            CredentialSecret::insecure_from_seed(&seed)
        })
        .collect();
    let mut uploaded: Vec<[u8; 32]> = credentials
        .iter()
        .skip(lost.len())
        .chain(&lost)
        .map(|c| c.public().to_bytes())
        .collect();
    uploaded.sort_unstable();
    uploaded.dedup();
    let mut replacements = Vec::with_capacity(lost.len());
    for (old, new) in lost.iter().zip(&credentials) {
        let r = CredentialReplacement::new(election, &uploaded, old.public(), new.public())
            .map_err(|e| bad(format!("a credential replacement: {e}")))?;
        r.apply(&election, &mut uploaded)
            .map_err(|e| bad(format!("a credential replacement: {e}")))?;
        replacements.push(r);
    }
    if uploaded != keys {
        return Err(bad(
            "the replacements do not lead to the voters' keys".into()
        ));
    }
    let list = CredentialList {
        credentials: sorted,
        digest: credentials_digest(&keys),
        replacements,
    };
    let parameters = ElectionParameters {
        protocol: crate::PROTOCOL_VERSION,
        election_id: election,
        manifest_hash: options.manifest.hash(),
        manifest: options.manifest.clone(),
        board_key: board.public(),
        ceremony_id: params.id(),
        trustees: options.trustees,
        threshold: options.threshold,
        joint_key: outcome.joint_key,
        credentials: keys.len() as u64,
        credentials_digest: list.digest,
    }
    .sign(&board);
    let ctx = ElectionContext::new(election, options.manifest.clone(), outcome.joint_key)
        .map_err(|e| bad(e.to_string()))?;
    digests.write(sink, ELECTION, &json(&parameters))?;
    digests.write(sink, CREDENTIALS, &json(&list))?;

    // The board (the file exists even when no ballot is cast).
    sink.append_ballots(b"").map_err(SynthError::Sink)?;
    let plan = plan(options);
    let shape: Vec<usize> = options
        .manifest
        .contests
        .iter()
        .map(|c| c.selections.len())
        .collect();
    let mut sums: Vec<Vec<Ciphertext>> =
        shape.iter().map(|&n| vec![Ciphertext::zero(); n]).collect();
    let mut expected: Vec<Vec<u64>> = shape.iter().map(|&n| vec![0; n]).collect();
    let mut frontier = MerkleFrontier::new();
    let mut hasher = Sha256::new();
    let mut ballots_bytes = 0u64;
    let mut size = 0u64;
    let mut counted = 0u64;
    let mut head = None;
    const CHUNK: usize = 512;
    for (chunk_no, chunk) in plan.chunks(CHUNK).enumerate() {
        let encrypt = |(i, p): (usize, &Plan)| {
            let index = (chunk_no * CHUNK + i) as u64;
            let mut rng = seeded(options.seed, 2, index);
            let choices = choices(
                &options.manifest,
                p.voter.wrapping_mul(3).wrapping_add(p.round),
            );
            let credential = &credentials[p.voter as usize];
            ctx.encrypt_ballot(&choices, credential, &mut rng)
                .map(|(ballot, secrets)| (ballot, secrets, choices))
        };
        #[cfg(feature = "parallel")]
        let encrypted: Vec<_> = {
            use rayon::prelude::*;
            chunk.par_iter().enumerate().map(encrypt).collect()
        };
        #[cfg(not(feature = "parallel"))]
        let encrypted: Vec<_> = chunk.iter().enumerate().map(encrypt).collect();
        for (p, result) in chunk.iter().zip(encrypted) {
            let (ballot, secrets, choices) = result.map_err(|e| bad(e.to_string()))?;
            let index = size;
            let code = ballot.tracking_code();
            frontier.push(code.0);
            size += 1;
            let tree_head = board.sign_tree_head(TreeHead {
                election,
                size,
                root: frontier.root(),
                timestamp: EPOCH_MS + index * 10,
            });
            let receipt = board.sign_receipt(code, index, p.kind, tree_head.clone());
            head = Some(tree_head);
            let opening = (p.kind == EntryKind::Spoiled).then(|| SpoiledBallot::reveal(secrets));
            if p.status == EntryStatus::Counted {
                counted += 1;
                for (c, values) in choices.iter().enumerate() {
                    for (s, v) in values.iter().enumerate() {
                        expected[c][s] += v;
                        if let Some(ct) = ballot.ciphertexts(c).and_then(|cts| cts.get(s)) {
                            sums[c][s] = Ciphertext::sum([&sums[c][s], ct]);
                        }
                    }
                }
            }
            let entry = RecordEntry {
                index,
                tracking_code: code,
                kind: p.kind,
                status: p.status,
                credential: *ballot.credential(),
                ballot: ballot.to_base64(),
                opening,
                receipt,
            };
            let mut line = serde_json::to_vec(&entry).map_err(|e| bad(e.to_string()))?;
            line.push(b'\n');
            hasher.update(&line);
            ballots_bytes += line.len() as u64;
            sink.append_ballots(&line).map_err(SynthError::Sink)?;
        }
        progress(size);
    }
    let ballots_digest: [u8; 32] = hasher.finalize().into();
    let final_head = board.sign_tree_head(TreeHead {
        election,
        size,
        root: frontier.root(),
        timestamp: head.as_ref().map_or(EPOCH_MS, |h| h.head.timestamp) + 1_000,
    });
    digests.write(sink, TREE_HEAD, &json(&final_head))?;

    // The tally.
    let tally = if counted == 0 {
        None
    } else {
        let request = TallyRequest::for_sums(
            params.id(),
            outcome.joint_key,
            &options.manifest,
            counted,
            &sums,
        );
        digests.write(sink, TALLY_REQUEST, &json(&request))?;
        let mut partials = Vec::new();
        for (i, identity) in trustees.iter().enumerate() {
            let j = i as u32 + 1;
            if options.absent.contains(&j) {
                continue;
            }
            let share = KeyShare::derive(&params, &outcome, &dealers, identity)
                .map_err(|e| bad(e.to_string()))?;
            let partial = partial_decrypt(
                &params,
                &outcome,
                &request,
                identity,
                &share,
                &mut rng,
                |_| {},
            )
            .map_err(|e| bad(e.to_string()))?;
            digests.write(sink, &partial_path(j), &json(&partial))?;
            partials.push(partial);
        }
        Some(
            ceremony::combine(&params, &outcome, &request, &partials, &mut rng)
                .map_err(|e| bad(e.to_string()))?,
        )
    };
    let results = Results::from_tally(
        election,
        &options.manifest,
        counted,
        tally.as_ref(),
        &final_head.head.root,
        final_head.head.size,
    );
    digests.write(sink, RESULTS, &json(&results))?;

    // The index, last.
    let mut files = digests.files;
    files.push(RecordFile {
        path: BALLOTS.to_string(),
        size: ballots_bytes,
        sha256: ballots_digest,
    });
    files.sort_by(|a, b| a.path.cmp(&b.path));
    let index = RecordIndex {
        format: RECORD_FORMAT.to_string(),
        election_id: election,
        files,
    };
    sink.write(INDEX, &json(&index)).map_err(SynthError::Sink)?;
    Ok(Synthesized {
        board,
        trustees,
        credentials,
        results,
        expected_totals: expected,
    })
}

/// Recomputes `record.json` from the other files (after a test changed one).
pub fn reindex(files: &mut Files) {
    let Some(index) = files
        .get(INDEX)
        .and_then(|b| serde_json::from_slice::<RecordIndex>(b).ok())
    else {
        return;
    };
    let mut listed: Vec<RecordFile> = files
        .iter()
        .filter(|(path, _)| path.as_str() != INDEX)
        .map(|(path, bytes)| RecordFile::describe(path.clone(), bytes))
        .collect();
    listed.sort_by(|a, b| a.path.cmp(&b.path));
    let index = RecordIndex {
        files: listed,
        ..index
    };
    files.insert(INDEX.to_string(), json(&index));
}

/// Re-signs everything the board signs after a test changed the record: each entry's tracking
/// code (from its ballot), its receipt (with the rebuilt root at its size, same timestamp), the
/// final tree head, the results' board root and size; then [`reindex`]. Entries that do not
/// parse are kept as they are.
pub fn reseal(files: &mut Files, board: &BoardSigningKey) {
    let Some(election) = files
        .get(INDEX)
        .and_then(|b| serde_json::from_slice::<RecordIndex>(b).ok())
        .map(|i| i.election_id)
    else {
        return;
    };
    let mut frontier = MerkleFrontier::new();
    let mut out = Vec::new();
    let mut last: Option<SignedTreeHead> = None;
    for line in files
        .get(BALLOTS)
        .map(|b| {
            b.split(|&c| c == b'\n')
                .filter(|l| !l.is_empty())
                .map(<[u8]>::to_vec)
                .collect::<Vec<_>>()
        })
        .unwrap_or_default()
    {
        match serde_json::from_slice::<RecordEntry>(&line) {
            Ok(mut entry) => {
                if let Ok(bytes) = text::from_base64("ballot", &entry.ballot) {
                    entry.tracking_code.0 = leaf_hash(&bytes);
                }
                frontier.push(entry.tracking_code.0);
                let mut head = entry.receipt.tree_head.head;
                head.election = election;
                head.size = frontier.len();
                head.root = frontier.root();
                let signed = board.sign_tree_head(head);
                entry.receipt = board.sign_receipt(
                    entry.tracking_code,
                    entry.index,
                    entry.kind,
                    signed.clone(),
                );
                last = Some(signed);
                let mut bytes = serde_json::to_vec(&entry).unwrap_or_default();
                bytes.push(b'\n');
                out.extend_from_slice(&bytes);
            }
            Err(_) => {
                frontier.push(leaf_hash(&line));
                out.extend_from_slice(&line);
                out.push(b'\n');
            }
        }
    }
    files.insert(BALLOTS.to_string(), out);
    if let Some(mut head) = files
        .get(TREE_HEAD)
        .and_then(|b| serde_json::from_slice::<SignedTreeHead>(b).ok())
    {
        head.head.size = frontier.len();
        head.head.root = frontier.root();
        if let Some(last) = &last {
            head.head.timestamp = head.head.timestamp.max(last.head.timestamp);
        }
        let head = board.sign_tree_head(head.head);
        files.insert(TREE_HEAD.to_string(), json(&head));
    }
    if let Some(mut results) = files
        .get(RESULTS)
        .and_then(|b| serde_json::from_slice::<Results>(b).ok())
    {
        results.board_root = hex::encode(frontier.root());
        results.board_size = frontier.len();
        files.insert(RESULTS.to_string(), json(&results));
    }
    reindex(files);
}
