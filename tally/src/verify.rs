//! `tabella verify RECORD_DIR`: re-checks an election record from its files alone, with the
//! verifier of `tabella_crypto::record` (spec/verification.md).
//!
//! This module does the I/O the verifier leaves out: it reads `record.json`, hands over every
//! listed document, streams `ballots.jsonl` in chunks, and reports files in the directory that
//! the index does not list.

use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use tabella_crypto::record::{RecordVerifier, Report, VerifyOptions, BALLOTS, INDEX};

/// Bytes of `ballots.jsonl` read at a time.
const CHUNK: usize = 1 << 20;

/// Verifies the record in `dir`. `progress(done, total)` is called as `ballots.jsonl` is read
/// (bytes read, bytes listed).
///
/// Fails only when the directory or a file cannot be read at all; everything wrong with the
/// record's contents is in the [`Report`].
pub fn verify_dir(
    dir: &Path,
    options: VerifyOptions,
    mut progress: impl FnMut(u64, u64),
) -> anyhow::Result<Report> {
    if !dir.is_dir() {
        anyhow::bail!(
            "{} is not a directory: give the directory of an election record (it holds {INDEX})",
            dir.display()
        );
    }
    let index_path = dir.join(INDEX);
    let index = std::fs::read(&index_path).with_context(|| {
        format!(
            "could not read {}: is {} an election record?",
            index_path.display(),
            dir.display()
        )
    })?;
    let mut verifier = RecordVerifier::new(&index, options, &mut rand::rngs::OsRng);
    let listed = verifier.documents();
    for path in &listed {
        let file = dir.join(path);
        match std::fs::read(&file) {
            Ok(bytes) => verifier.document(path, &bytes),
            // A missing listed file is a V1 failure, reported by `finish`.
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
            Err(error) => {
                return Err(error).with_context(|| format!("could not read {}", file.display()))
            }
        }
    }
    for path in files_under(dir)? {
        if path != INDEX && path != BALLOTS && !listed.contains(&path) {
            verifier.unlisted_file(&path);
        }
    }
    let total = verifier.ballots_size().unwrap_or(0);
    let ballots = dir.join(BALLOTS);
    match std::fs::File::open(&ballots) {
        Ok(mut file) => {
            let mut buffer = vec![0u8; CHUNK];
            let mut done = 0u64;
            loop {
                let n = match file.read(&mut buffer) {
                    Ok(0) => break,
                    Ok(n) => n,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                    Err(e) => {
                        return Err(e)
                            .with_context(|| format!("could not read {}", ballots.display()))
                    }
                };
                verifier.ballots(&buffer[..n]);
                done += n as u64;
                progress(done, total);
            }
        }
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
        Err(error) => {
            return Err(error).with_context(|| format!("could not read {}", ballots.display()))
        }
    }
    Ok(verifier.finish())
}

/// Every file under `dir`, as record paths (`ceremony/dealer-1.json`), sorted.
fn files_under(dir: &Path) -> anyhow::Result<Vec<String>> {
    let mut out = Vec::new();
    let mut stack: Vec<(PathBuf, String)> = vec![(dir.to_path_buf(), String::new())];
    while let Some((path, prefix)) = stack.pop() {
        let entries = std::fs::read_dir(&path)
            .with_context(|| format!("could not list {}", path.display()))?;
        for entry in entries {
            let entry = entry.with_context(|| format!("could not list {}", path.display()))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let relative = format!("{prefix}{name}");
            let kind = entry
                .file_type()
                .with_context(|| format!("could not inspect {}", entry.path().display()))?;
            if kind.is_dir() {
                stack.push((entry.path(), format!("{relative}/")));
            } else {
                out.push(relative);
            }
        }
    }
    out.sort();
    Ok(out)
}
