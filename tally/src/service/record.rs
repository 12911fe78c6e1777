//! The election record's documents (spec/record.md), produced by one function for everyone who
//! needs their bytes: `tabella election export`, which downloads them from the service and
//! writes them to a directory; the service itself, which computes the record digest it anchors
//! on chain with the result ([`RecordIndex::anchored_digest`]); and the service's record route
//! (`GET /v1/record/{path}`, [`RecordCache`]), which serves the same documents. All go through
//! [`produce`] (and [`with_anchors`], which adds `anchors.json` to its index the way `produce`
//! does), so all hash exactly the same bytes: there is no second serializer.

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::Arc;

use anyhow::{anyhow, bail};
use axum::body::Bytes;
use serde::Serialize;
use sha2::{Digest as _, Sha256};
use tabella_crypto::ballot::ElectionId;
use tabella_crypto::board::receipt::SignedTreeHead;
use tabella_crypto::record::{
    Anchors, CredentialList, RecordFile, RecordIndex, Results, SignedElectionParameters, ANCHORS,
    BALLOTS, CREDENTIALS, ELECTION, INDEX, RECORD_FORMAT, RESULTS, TREE_HEAD,
};

use super::error::AppError;
use super::store::DbStore;
use super::{AppState, Election};
use crate::messages::MessageStore as _;

/// Where the documents of a record come from: the service's HTTP API (export) or its database
/// (the service).
pub trait RecordSource {
    /// `election.json`: the signed election parameters.
    fn parameters(&mut self) -> anyhow::Result<SignedElectionParameters>;
    /// `credentials.json`: the credential list.
    fn credentials(&mut self) -> anyhow::Result<CredentialList>;
    /// The names of the ceremony messages, sorted.
    fn ceremony_names(&mut self) -> anyhow::Result<Vec<String>>;
    /// The bytes of the ceremony message `name`, as published.
    fn ceremony_message(&mut self, name: &str) -> anyhow::Result<Vec<u8>>;
    /// Writes `ballots.jsonl` (every board entry with its receipt, by index) to `out`; returns
    /// its number of lines.
    fn ballots(&mut self, out: &mut dyn Write) -> anyhow::Result<u64>;
    /// `tree-head.json`: the board's final signed tree head (fixed at the close).
    fn tree_head(&mut self) -> anyhow::Result<SignedTreeHead>;
    /// `results.json`.
    fn results(&mut self) -> anyhow::Result<Results>;
    /// `anchors.json`, when the record has one.
    fn anchors(&mut self) -> anyhow::Result<Option<Anchors>>;
}

/// Where the documents go: files in a directory (export) or nowhere, only hashed (the service).
pub trait RecordSink {
    /// Stores the document `path` (a record path such as `ceremony/dealer-1.json`).
    fn document(&mut self, path: &str, bytes: &[u8]) -> anyhow::Result<()>;
    /// Stores the streamed document `path`, whose bytes `fill` writes; answers what `fill`
    /// answers.
    fn stream(
        &mut self,
        path: &str,
        fill: &mut dyn FnMut(&mut dyn Write) -> anyhow::Result<u64>,
    ) -> anyhow::Result<u64>;
}

/// A sink that stores nothing: [`produce`] still describes every document (size and SHA-256).
#[derive(Debug, Default)]
pub struct DigestOnly;

impl RecordSink for DigestOnly {
    fn document(&mut self, _path: &str, _bytes: &[u8]) -> anyhow::Result<()> {
        Ok(())
    }

    fn stream(
        &mut self,
        _path: &str,
        fill: &mut dyn FnMut(&mut dyn Write) -> anyhow::Result<u64>,
    ) -> anyhow::Result<u64> {
        fill(&mut std::io::sink())
    }
}

/// A sink that keeps every document in memory, except `ballots.jsonl`, which it only describes
/// (its size and SHA-256 are in the index; the board serves its bytes).
#[derive(Debug, Default)]
pub struct MemorySink {
    /// Every document but `ballots.jsonl`, by record path (`record.json` included).
    pub documents: BTreeMap<String, Vec<u8>>,
}

impl RecordSink for MemorySink {
    fn document(&mut self, path: &str, bytes: &[u8]) -> anyhow::Result<()> {
        self.documents.insert(path.to_owned(), bytes.to_vec());
        Ok(())
    }

    fn stream(
        &mut self,
        _path: &str,
        fill: &mut dyn FnMut(&mut dyn Write) -> anyhow::Result<u64>,
    ) -> anyhow::Result<u64> {
        fill(&mut std::io::sink())
    }
}

/// The bytes of a JSON document of the record: pretty JSON with a final newline.
///
/// # Errors
/// A value that does not serialize (none of the record's types fail).
pub fn document_bytes<T: Serialize>(value: &T) -> serde_json::Result<Vec<u8>> {
    let mut bytes = serde_json::to_vec_pretty(value)?;
    bytes.push(b'\n');
    Ok(bytes)
}

/// The trustee `j` of a ceremony message named `partial-j.json`.
pub fn partial_trustee(name: &str) -> Option<u32> {
    name.strip_prefix("partial-")?
        .strip_suffix(".json")?
        .parse()
        .ok()
}

/// What [`produce`] made.
#[derive(Debug, Clone)]
pub struct Produced {
    /// `record.json`: every other document, described.
    pub index: RecordIndex,
    /// The bytes of `record.json`.
    pub index_bytes: Vec<u8>,
    /// The final tree head the record holds.
    pub head: SignedTreeHead,
    /// The results the record holds.
    pub results: Results,
    /// Lines of `ballots.jsonl`.
    pub entries: u64,
    /// Ceremony messages in the record.
    pub ceremony_messages: u64,
    /// Partial decryptions of trustees the results name as absent, which arrived after the
    /// tally and are left out.
    pub late_partials: Vec<u32>,
}

impl Produced {
    /// The tally digest the chain anchors: SHA-256 of the record's `results.json`.
    pub fn tally_digest(&self) -> anyhow::Result<[u8; 32]> {
        self.index
            .files
            .iter()
            .find(|f| f.path == RESULTS)
            .map(|f| f.sha256)
            .ok_or_else(|| anyhow!("the record lists no {RESULTS}"))
    }
}

/// A writer that hashes and counts what goes through it.
struct HashingWriter<'a> {
    inner: &'a mut dyn Write,
    hasher: Sha256,
    size: u64,
}

impl Write for HashingWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        let written = buf.get(..n).unwrap_or(buf);
        self.hasher.update(written);
        self.size += written.len() as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// Produces every document of the record of a tallied election, in the layout of
/// spec/record.md, from `source` into `sink`, `record.json` last:
///
/// - `election.json`, `credentials.json`;
/// - `ceremony/<name>` for every ceremony message, except the partial decryptions of trustees
///   the results name as absent (they arrived after the tally);
/// - `ballots.jsonl`, then `tree-head.json`, whose size must be its number of lines;
/// - `results.json`, and `anchors.json` when the source has one;
/// - `record.json`.
///
/// # Errors
/// The source's or the sink's errors, and a tree head that does not cover exactly the entries.
pub fn produce(
    election_id: ElectionId,
    source: &mut dyn RecordSource,
    sink: &mut dyn RecordSink,
) -> anyhow::Result<Produced> {
    let parameters = source.parameters()?;
    let results = source.results()?;
    let credentials = source.credentials()?;
    let names = source.ceremony_names()?;
    let mut files = Vec::new();
    let put = |files: &mut Vec<RecordFile>,
               sink: &mut dyn RecordSink,
               path: &str,
               bytes: &[u8]|
     -> anyhow::Result<()> {
        sink.document(path, bytes)?;
        files.push(RecordFile::describe(path, bytes));
        Ok(())
    };
    put(&mut files, sink, ELECTION, &document_bytes(&parameters)?)?;
    put(
        &mut files,
        sink,
        CREDENTIALS,
        &document_bytes(&credentials)?,
    )?;
    let mut late_partials = Vec::new();
    let mut ceremony_messages = 0u64;
    for name in &names {
        if let Some(j) = partial_trustee(name).filter(|j| results.absent.contains(j)) {
            late_partials.push(j);
            continue;
        }
        let bytes = source.ceremony_message(name)?;
        put(&mut files, sink, &format!("ceremony/{name}"), &bytes)?;
        ceremony_messages += 1;
    }
    let mut ballots = None;
    let entries = sink.stream(BALLOTS, &mut |out| {
        let mut hashing = HashingWriter {
            inner: out,
            hasher: Sha256::new(),
            size: 0,
        };
        let lines = source.ballots(&mut hashing)?;
        hashing.flush()?;
        ballots = Some(RecordFile {
            path: BALLOTS.to_string(),
            size: hashing.size,
            sha256: hashing.hasher.finalize().into(),
        });
        Ok(lines)
    })?;
    files.extend(ballots);
    // The election is tallied, so the board no longer grows: its final tree head covers
    // exactly the entries.
    let head = source.tree_head()?;
    if head.head.size != entries {
        bail!(
            "the board's final tree head covers {} entries but the ballots hold {entries}",
            head.head.size
        );
    }
    put(&mut files, sink, TREE_HEAD, &document_bytes(&head)?)?;
    put(&mut files, sink, RESULTS, &document_bytes(&results)?)?;
    if let Some(anchors) = source.anchors()? {
        put(&mut files, sink, ANCHORS, &document_bytes(&anchors)?)?;
    }
    let (index, index_bytes) = index_of(election_id, files)?;
    sink.document(INDEX, &index_bytes)?;
    Ok(Produced {
        index,
        index_bytes,
        head,
        results,
        entries,
        ceremony_messages,
        late_partials,
    })
}

/// `record.json` listing `files` (sorted here), and its bytes.
fn index_of(
    election_id: ElectionId,
    mut files: Vec<RecordFile>,
) -> serde_json::Result<(RecordIndex, Vec<u8>)> {
    files.sort_by(|a, b| a.path.cmp(&b.path));
    let index = RecordIndex {
        format: RECORD_FORMAT.to_string(),
        election_id,
        files,
    };
    let bytes = document_bytes(&index)?;
    Ok((index, bytes))
}

/// The index of a record with `anchors` (the bytes of its `anchors.json`, or none) in place of
/// whatever `anchors.json` `index` lists: exactly the `record.json` [`produce`] writes when its
/// source answers these anchors, every other document being the same.
///
/// # Errors
/// None in practice (the index always serializes).
pub fn with_anchors(
    index: &RecordIndex,
    anchors: Option<&[u8]>,
) -> serde_json::Result<(RecordIndex, Vec<u8>)> {
    let mut files: Vec<RecordFile> = index
        .files
        .iter()
        .filter(|f| f.path != ANCHORS)
        .cloned()
        .collect();
    files.extend(anchors.map(|bytes| RecordFile::describe(ANCHORS, bytes)));
    index_of(index.election_id, files)
}

// ---- The record from the service's own database -----------------------------------------------

/// The election record's documents from the service's own database (blocking: run it on a
/// blocking thread, as [`produce`] is).
pub struct DbSource {
    state: Arc<AppState>,
    election: Arc<Election>,
    runtime: tokio::runtime::Handle,
}

impl DbSource {
    /// The record of `election` on the service `state`; must be made inside the runtime.
    pub fn new(state: &Arc<AppState>, election: &Arc<Election>) -> Self {
        Self {
            state: Arc::clone(state),
            election: Arc::clone(election),
            runtime: tokio::runtime::Handle::current(),
        }
    }

    fn block<T>(&self, f: impl std::future::Future<Output = T>) -> T {
        self.runtime.block_on(f)
    }
}

impl RecordSource for DbSource {
    fn parameters(&mut self) -> anyhow::Result<SignedElectionParameters> {
        self.block(self.state.stored_parameters(&self.election))?
            .ok_or_else(|| anyhow::anyhow!("the election parameters are not stored"))
    }

    fn credentials(&mut self) -> anyhow::Result<CredentialList> {
        self.block(super::credentials::credential_list(&self.state))
            .map_err(|e| anyhow::anyhow!(e.message))
    }

    fn ceremony_names(&mut self) -> anyhow::Result<Vec<String>> {
        let store = DbStore::new(self.state.db.clone(), self.runtime.clone());
        Ok(store.list()?)
    }

    fn ceremony_message(&mut self, name: &str) -> anyhow::Result<Vec<u8>> {
        self.block(self.state.db.document(name))?
            .ok_or_else(|| anyhow::anyhow!("the ceremony message {name} is not stored"))
    }

    fn ballots(&mut self, out: &mut dyn std::io::Write) -> anyhow::Result<u64> {
        let size = self.block(self.election.board.view.read()).tree.len();
        let mut start = 0;
        let mut lines = 0;
        while start < size {
            let (bytes, next, count) = self
                .block(super::routes::record_page(
                    &self.state,
                    &self.election,
                    start,
                    size,
                ))
                .map_err(|e| anyhow::anyhow!(e.message))?;
            if next == start {
                break;
            }
            out.write_all(&bytes)?;
            lines += count;
            start = next;
        }
        Ok(lines)
    }

    fn tree_head(&mut self) -> anyhow::Result<SignedTreeHead> {
        self.block(self.state.final_head(&self.election))
    }

    fn results(&mut self) -> anyhow::Result<Results> {
        self.block(super::aggregate::stored_results(&self.state))?
            .ok_or_else(|| anyhow::anyhow!("the results are not stored"))
    }

    fn anchors(&mut self) -> anyhow::Result<Option<Anchors>> {
        // The record is produced without anchors.json: the anchored digest leaves it out, and
        // the record route adds it as it stands at each request ([`with_anchors`]).
        Ok(None)
    }
}

// ---- The record route's documents -------------------------------------------------------------

/// The documents of a tallied election's record that never change: everything but
/// `anchors.json` (which grows as anchoring proceeds) and `ballots.jsonl` (streamed from the
/// board, and only described here).
#[derive(Debug)]
struct RecordBase {
    /// `record.json` without `anchors.json`.
    index: RecordIndex,
    /// Every document but `record.json` and `ballots.jsonl`, by record path.
    documents: BTreeMap<String, Bytes>,
}

/// One consistent view of the record: its `record.json` and the `anchors.json` it lists, read
/// at the same moment.
#[derive(Debug, Clone)]
pub struct RecordSnapshot {
    /// `record.json`.
    pub index: Arc<RecordIndex>,
    /// Its bytes.
    pub index_bytes: Bytes,
    /// The `anchors.json` it lists, if any.
    pub anchors: Option<Bytes>,
    documents: Arc<RecordBase>,
}

impl RecordSnapshot {
    /// The bytes of the listed document `path`, other than `ballots.jsonl` (streamed by the
    /// board route): `record.json`, `anchors.json`, or a fixed document.
    pub fn document(&self, path: &str) -> Option<Bytes> {
        match path {
            INDEX => Some(self.index_bytes.clone()),
            ANCHORS => self.anchors.clone(),
            _ => self.documents.documents.get(path).cloned(),
        }
    }

    /// The SHA-256 `record.json` lists for `path` (`record.json` itself: its own hash).
    pub fn sha256(&self, path: &str) -> Option<[u8; 32]> {
        if path == INDEX {
            return Some(Sha256::digest(&self.index_bytes).into());
        }
        self.index
            .files
            .iter()
            .find(|f| f.path == path)
            .map(|f| f.sha256)
    }
}

/// The most `anchors.json` versions kept for `?sha256=` (a handful ever exist after the tally).
const MAX_ANCHOR_VERSIONS: usize = 64;

/// The record route's cache: the fixed documents, made once (the first request after the
/// tally), and every `anchors.json` a served `record.json` listed, so that a client can fetch
/// the very one its `record.json` lists (`GET /v1/record/anchors.json?sha256=HEX`) even after
/// anchoring moved on.
#[derive(Debug, Default)]
pub struct RecordCache {
    base: tokio::sync::OnceCell<Arc<RecordBase>>,
    latest: std::sync::Mutex<Option<RecordSnapshot>>,
    /// The `anchors.json` versions listed so far, oldest first.
    anchors: std::sync::Mutex<std::collections::VecDeque<([u8; 32], Bytes)>>,
}

impl RecordCache {
    /// The record as it stands now: `record.json` listing the `anchors.json` read now (when the
    /// service anchors). Only for a tallied election.
    ///
    /// # Errors
    /// A storage failure, or the anchors not readable (`409 not_anchored_yet`).
    pub async fn snapshot(
        &self,
        state: &Arc<AppState>,
        election: &Arc<Election>,
    ) -> Result<RecordSnapshot, AppError> {
        let base = self
            .base
            .get_or_try_init(|| async {
                let mut source = DbSource::new(state, election);
                let id = election.id;
                let (produced, sink) = tokio::task::spawn_blocking(move || {
                    let mut sink = MemorySink::default();
                    produce(id, &mut source, &mut sink).map(|p| (p, sink))
                })
                .await
                .map_err(AppError::internal)?
                .map_err(|e| AppError::internal(format!("the election record: {e:#}")))?;
                let documents = sink
                    .documents
                    .into_iter()
                    .filter(|(path, _)| path != INDEX)
                    .map(|(path, bytes)| (path, Bytes::from(bytes)))
                    .collect();
                Ok::<_, AppError>(Arc::new(RecordBase {
                    index: produced.index,
                    documents,
                }))
            })
            .await?;
        let anchors = match &state.anchoring {
            Some(anchoring) => Some(Bytes::from(
                document_bytes(&anchoring.anchors().await?).map_err(AppError::internal)?,
            )),
            None => None,
        };
        if let Ok(latest) = self.latest.lock() {
            if let Some(snapshot) = latest.as_ref().filter(|s| s.anchors == anchors) {
                return Ok(snapshot.clone());
            }
        }
        let (index, index_bytes) =
            with_anchors(&base.index, anchors.as_deref()).map_err(AppError::internal)?;
        let snapshot = RecordSnapshot {
            index: Arc::new(index),
            index_bytes: Bytes::from(index_bytes),
            anchors: anchors.clone(),
            documents: Arc::clone(base),
        };
        if let Some(bytes) = anchors {
            let sha256: [u8; 32] = Sha256::digest(&bytes).into();
            if let Ok(mut versions) = self.anchors.lock() {
                if !versions.iter().any(|(s, _)| *s == sha256) {
                    if versions.len() >= MAX_ANCHOR_VERSIONS {
                        versions.pop_front();
                    }
                    versions.push_back((sha256, bytes));
                }
            }
        }
        if let Ok(mut latest) = self.latest.lock() {
            *latest = Some(snapshot.clone());
        }
        Ok(snapshot)
    }

    /// The `anchors.json` with SHA-256 `sha256`, if a `record.json` this service served listed
    /// it.
    pub fn anchors_version(&self, sha256: &[u8; 32]) -> Option<Bytes> {
        let versions = self.anchors.lock().ok()?;
        versions
            .iter()
            .find(|(s, _)| s == sha256)
            .map(|(_, bytes)| bytes.clone())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn partial_decryption_names_give_their_trustee() {
        assert_eq!(partial_trustee("partial-3.json"), Some(3));
        assert_eq!(partial_trustee("partial-12.json"), Some(12));
        assert_eq!(partial_trustee("dealer-3.json"), None);
        assert_eq!(partial_trustee("partial-.json"), None);
        assert_eq!(partial_trustee("tally-request.json"), None);
    }

    /// A record source over the files of a synthetic record, with `anchors`.
    struct FilesSource {
        files: tabella_crypto::record::synth::Files,
        anchors: Option<Anchors>,
    }

    impl FilesSource {
        fn parse<T: serde::de::DeserializeOwned>(&self, path: &str) -> anyhow::Result<T> {
            Ok(serde_json::from_slice(&self.files[path])?)
        }
    }

    impl RecordSource for FilesSource {
        fn parameters(&mut self) -> anyhow::Result<SignedElectionParameters> {
            self.parse(ELECTION)
        }
        fn credentials(&mut self) -> anyhow::Result<CredentialList> {
            self.parse(CREDENTIALS)
        }
        fn ceremony_names(&mut self) -> anyhow::Result<Vec<String>> {
            Ok(self
                .files
                .keys()
                .filter_map(|p| p.strip_prefix("ceremony/"))
                .map(str::to_owned)
                .collect())
        }
        fn ceremony_message(&mut self, name: &str) -> anyhow::Result<Vec<u8>> {
            Ok(self.files[&format!("ceremony/{name}")].clone())
        }
        fn ballots(&mut self, out: &mut dyn Write) -> anyhow::Result<u64> {
            let bytes = &self.files[BALLOTS];
            out.write_all(bytes)?;
            Ok(bytes.iter().filter(|&&b| b == b'\n').count() as u64)
        }
        fn tree_head(&mut self) -> anyhow::Result<SignedTreeHead> {
            self.parse(TREE_HEAD)
        }
        fn results(&mut self) -> anyhow::Result<Results> {
            self.parse(RESULTS)
        }
        fn anchors(&mut self) -> anyhow::Result<Option<Anchors>> {
            Ok(self.anchors.clone())
        }
    }

    #[test]
    fn anchors_added_to_an_index_give_the_index_produce_writes_with_them() {
        use tabella_crypto::record::synth::{synthesize, Files, SynthOptions};
        let mut files = Files::new();
        synthesize(
            &SynthOptions {
                manifest: crate::bench::p10(),
                voters: 3,
                trustees: 2,
                threshold: 2,
                absent: vec![],
                spoil_every: 2,
                revote_every: 0,
                replaced: 0,
                seed: 5,
            },
            &mut files,
            |_| {},
        )
        .unwrap();
        let anchors = Anchors {
            chain_id: 31337,
            contract: format!("0x{}", "12".repeat(20)),
            election_transaction: format!("0x{}", "34".repeat(32)),
            checkpoints: vec![],
            fallback: vec![],
            rejected: vec![],
            result_transaction: Some(format!("0x{}", "56".repeat(32))),
        };
        let produce_with = |anchors: Option<Anchors>| {
            let mut source = FilesSource {
                files: files.clone(),
                anchors,
            };
            let mut sink = MemorySink::default();
            let produced = produce(ElectionId([9; 32]), &mut source, &mut sink).unwrap();
            (produced, sink)
        };
        let (without, without_sink) = produce_with(None);
        let (with, with_sink) = produce_with(Some(anchors.clone()));
        let anchors_bytes = document_bytes(&anchors).unwrap();
        assert_eq!(with_sink.documents[ANCHORS], anchors_bytes);
        assert!(!without_sink.documents.contains_key(BALLOTS));
        // Adding anchors.json to the index made without it gives the index made with it, byte
        // for byte; and taking it out again gives the first.
        let (index, bytes) = with_anchors(&without.index, Some(&anchors_bytes)).unwrap();
        assert_eq!(bytes, with.index_bytes);
        assert_eq!(index.anchored_digest(), without.index.anchored_digest());
        let (_, back) = with_anchors(&index, None).unwrap();
        assert_eq!(back, without.index_bytes);
        // Replacing one anchors.json with another.
        let mut later = anchors;
        later.result_transaction = None;
        let later_bytes = document_bytes(&later).unwrap();
        let (_, replaced) = with_anchors(&index, Some(&later_bytes)).unwrap();
        let (direct, _) = produce_with(Some(later));
        assert_eq!(replaced, direct.index_bytes);
    }

    #[test]
    fn documents_are_pretty_json_with_a_final_newline() {
        let bytes = document_bytes(&serde_json::json!({"a": 1})).unwrap();
        assert_eq!(bytes, b"{\n  \"a\": 1\n}\n");
    }
}
