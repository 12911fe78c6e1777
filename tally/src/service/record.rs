//! The election record's documents (spec/record.md), produced by one function for everyone who
//! needs their bytes: `tabella election export`, which downloads them from the service and
//! writes them to a directory, and the service itself, which computes the record digest it
//! anchors on chain with the result ([`RecordIndex::anchored_digest`]). Both go through
//! [`produce`], so both hash exactly the same bytes: there is no second serializer.

use std::io::Write;

use anyhow::{anyhow, bail};
use serde::Serialize;
use sha2::{Digest as _, Sha256};
use tabella_crypto::ballot::ElectionId;
use tabella_crypto::board::receipt::SignedTreeHead;
use tabella_crypto::record::{
    Anchors, CredentialList, RecordFile, RecordIndex, Results, SignedElectionParameters, ANCHORS,
    BALLOTS, CREDENTIALS, ELECTION, INDEX, RECORD_FORMAT, RESULTS, TREE_HEAD,
};

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
    files.sort_by(|a, b| a.path.cmp(&b.path));
    let index = RecordIndex {
        format: RECORD_FORMAT.to_string(),
        election_id,
        files,
    };
    let index_bytes = document_bytes(&index)?;
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

    #[test]
    fn documents_are_pretty_json_with_a_final_newline() {
        let bytes = document_bytes(&serde_json::json!({"a": 1})).unwrap();
        assert_eq!(bytes, b"{\n  \"a\": 1\n}\n");
    }
}
