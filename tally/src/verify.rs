//! `tabella verify RECORD_DIR`: re-checks an election record from its files alone, with the
//! verifier of `tabella_crypto::record` (spec/verification.md).
//!
//! This module does the I/O the verifier leaves out: it reads `record.json`, hands over every
//! listed document, streams `ballots.jsonl` in chunks, and reports files in the directory that
//! the index does not list. [`run`] is the command: the checks with their outcomes, the counts,
//! the results, the time and peak memory, or the report as JSON.

use std::fmt::Write as _;
use std::io::{IsTerminal as _, Read, Write as _};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use clap::Args;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use tabella_crypto::board::BoardKey;
use tabella_crypto::booth::{BoothDigest, BoothManifest, BOOTH_MANIFEST};
use tabella_crypto::group::text;
use tabella_crypto::record::{
    Anchors, ChainEvidence, CheckReport, Outcome, RecordIndex, RecordVerifier, Report, Results,
    VerifyOptions, ANCHORS, BALLOTS, INDEX,
};

use crate::chain::{read_evidence, ChainArgs};

/// Bytes of `ballots.jsonl` read at a time.
const CHUNK: usize = 1 << 20;

/// `tabella verify RECORD_DIR`.
#[derive(Debug, Args)]
#[command(after_long_help = VERIFY_HELP)]
pub struct VerifyArgs {
    /// The election record's directory (the one holding record.json).
    #[arg(value_name = "RECORD_DIR")]
    pub record: PathBuf,
    /// Print the verifier's report as JSON on stdout and nothing else there (no progress bar,
    /// no time or memory figures: see below).
    #[arg(long)]
    pub json: bool,
    /// The board key you expect, as 64 lowercase hex digits (from the election's publication or
    /// the chain): a record signed by any other key fails V3.
    #[arg(long, value_name = "HEX", value_parser = parse_board_key)]
    pub board_key: Option<BoardKey>,
    /// The chain the election is anchored on (checks V20 and V21): `--chain-dir` for the
    /// embedded chain, `--rpc-url` for any Ethereum node, and `--registry` to pin the contract.
    #[command(flatten)]
    pub chain: ChainArgs,
    /// The web ballot to compare with the booth digest the manifest publishes (V22): a built
    /// booth's directory (holding booth.json), or an election service's URL (http:// or
    /// https://), whose booth.json and every file it lists are fetched. Every file is checked
    /// against booth.json before the digest is computed.
    #[arg(long, value_name = "DIR_OR_URL")]
    pub booth: Option<String>,
}

const VERIFY_HELP: &str = "\
Every check of spec/verification.md (V1 to V22) is run on the files alone, trusting no server;
V20 and V21 compare the record with the chain when one is given (--chain-dir or --rpc-url),
and V22 the manifest's booth digest with a booth when one is given (--booth DIR or URL: the
booth a service serves, or one built from source); they are reported skipped otherwise.
The human output lists each check with its outcome (pass, FAIL, skipped), how many items it
checked and, for a failure or a skip, the first reason; then the counts, the election id, the
board key, the record digest, the results (only when every check passes), the elapsed time and
the peak memory (VmHWM, on Linux).

--json prints exactly the verifier's report (checks, counts, election id, board key, record
digest, and the results when every check passes) on stdout. It holds nothing about the machine
or the run, so every observer who checks the same record gets the same bytes and can compare
them; the time and peak memory appear only in the human output.

Exit status: 0 when every check passes; 1 when a check fails or could not run, with a last line
`FAILED Vn (title): reason` naming the first failed check (on stdout, or on stderr with --json);
1 also when the record cannot be read at all (not a directory, no record.json), with the reason
on stderr; 2 for a bad command line.";

/// Parses `--board-key`: exactly 64 lowercase hex digits encoding a valid Ed25519 key.
fn parse_board_key(s: &str) -> Result<BoardKey, String> {
    let bytes: [u8; 32] = text::from_hex("board key", s).map_err(|_| {
        format!(
            "expected 64 lowercase hex digits (a 32-byte Ed25519 key), got {} characters{}",
            s.chars().count(),
            if s.bytes().any(|b| b.is_ascii_uppercase()) {
                " with upper-case letters"
            } else {
                ""
            }
        )
    })?;
    BoardKey::from_bytes(&bytes).map_err(|_| {
        "not a valid board key: the 32 bytes are not a canonical Ed25519 point of large order"
            .to_string()
    })
}

/// How far [`verify_dir_with`] is through `ballots.jsonl`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Progress {
    /// Bytes of `ballots.jsonl` read so far.
    pub bytes: u64,
    /// The size `record.json` lists for `ballots.jsonl` (0 if it lists none).
    pub total: u64,
    /// Board entries checked so far.
    pub entries: u64,
}

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
    verify_dir_with(dir, options, |p| progress(p.bytes, p.total))
}

/// [`verify_dir`], reporting also the entries checked so far: once with 0 bytes after the
/// documents are read (before `ballots.jsonl`), then after each chunk of `ballots.jsonl`.
pub fn verify_dir_with(
    dir: &Path,
    options: VerifyOptions,
    mut progress: impl FnMut(Progress),
) -> anyhow::Result<Report> {
    if !dir.is_dir() {
        let what = if dir.exists() {
            "is not a directory"
        } else {
            "does not exist"
        };
        anyhow::bail!(
            "{} {what}: give the directory of an election record (it holds {INDEX})",
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
        // No more than the listed size and one byte (enough to see that a file is longer), and
        // only regular files: a listed directory or device is a missing file (V1).
        let limit = verifier.listed_size(path).unwrap_or(0).saturating_add(1);
        // A missing listed file is a V1 failure, reported by `finish`.
        if let Some(handle) = open_regular(&file)? {
            let mut bytes = Vec::new();
            handle
                .take(limit)
                .read_to_end(&mut bytes)
                .with_context(|| format!("could not read {}", file.display()))?;
            verifier.document(path, &bytes);
        }
    }
    for path in files_under(dir)? {
        if path != INDEX && path != BALLOTS && !listed.contains(&path) {
            verifier.unlisted_file(&path);
        }
    }
    let total = verifier.ballots_size().unwrap_or(0);
    progress(Progress {
        bytes: 0,
        total,
        entries: 0,
    });
    let ballots = dir.join(BALLOTS);
    if let Some(file) = open_regular(&ballots)? {
        // Present, even if empty; never read beyond one byte more than listed.
        verifier.ballots(&[]);
        let mut file = file.take(total.saturating_add(1));
        let mut buffer = vec![0u8; CHUNK];
        let mut done = 0u64;
        loop {
            let n = match file.read(&mut buffer) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    return Err(e).with_context(|| format!("could not read {}", ballots.display()))
                }
            };
            verifier.ballots(&buffer[..n]);
            done += n as u64;
            progress(Progress {
                bytes: done,
                total,
                entries: verifier.entries_checked(),
            });
        }
    }
    Ok(verifier.finish())
}

/// Opens `path` if it is a regular file (following symbolic links); `None` if it does not exist
/// or is something else (a directory, a device).
fn open_regular(path: &Path) -> anyhow::Result<Option<std::fs::File>> {
    match std::fs::metadata(path) {
        Ok(meta) if meta.is_file() => std::fs::File::open(path)
            .map(Some)
            .with_context(|| format!("could not read {}", path.display())),
        Ok(_) => Ok(None),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(error) => Err(error).with_context(|| format!("could not read {}", path.display())),
    }
}

/// `tabella verify`: verifies the record, prints the report, and returns whether every check
/// passed.
///
/// # Errors
/// When the record cannot be read at all, or stdout cannot be written.
pub fn run(args: &VerifyArgs) -> anyhow::Result<bool> {
    let started = Instant::now();
    let draw = !args.json && std::io::stderr().is_terminal();
    let bar = ballots_bar();
    let chain = chain_evidence(&args.record, &args.chain)?;
    if let (Some(evidence), false) = (&chain, args.json) {
        eprintln!(
            "read the registry {} on chain {}: {} checkpoints, {} fallback ballots, {}",
            evidence.contract,
            evidence.chain_id,
            evidence.checkpoints.len(),
            evidence.fallback.len(),
            if evidence.result.is_some() {
                "the result"
            } else {
                "no result"
            }
        );
    }
    let booth = match &args.booth {
        Some(source) => {
            let digest = booth_digest(source)?;
            if !args.json {
                eprintln!("read the booth at {source}: digest {digest}");
            }
            Some(digest)
        }
        None => None,
    };
    let options = VerifyOptions {
        board_key: args.board_key,
        chain,
        booth,
    };
    // When the first chunk of ballots.jsonl was read, for the rate of entries.
    let mut streaming: Option<Instant> = None;
    let report = verify_dir_with(&args.record, options, |p| {
        if bar.length() != Some(p.total.max(p.bytes)) {
            bar.set_length(p.total.max(p.bytes));
        }
        bar.set_position(p.bytes);
        let since = *streaming.get_or_insert_with(Instant::now);
        let seconds = since.elapsed().as_secs_f64();
        if p.entries > 0 && seconds > 0.0 {
            let rate = p.entries as f64 / seconds;
            bar.set_message(format!("{} entries, {rate:.0} entries/s", p.entries));
        } else {
            bar.set_message("setting up (V2-V7)");
        }
        if draw && bar.is_hidden() {
            // Shown once its length is known.
            bar.set_draw_target(ProgressDrawTarget::stderr());
        }
    });
    bar.finish_and_clear();
    let report = report?;
    let elapsed = started.elapsed();
    let mut out = std::io::stdout().lock();
    if args.json {
        let mut json =
            serde_json::to_string_pretty(&report).context("could not encode the report as JSON")?;
        json.push('\n');
        out.write_all(json.as_bytes())
            .and_then(|()| out.flush())
            .context("could not write the report to stdout")?;
        if let Some(failure) = report.first_failure() {
            eprintln!("{}", verdict(failure));
        }
    } else {
        let text = render(&args.record, &report, elapsed, peak_memory_bytes());
        out.write_all(text.as_bytes())
            .and_then(|()| out.flush())
            .context("could not write the report to stdout")?;
    }
    Ok(report.passed())
}

/// The digest of the booth at `source` (`tabella verify --booth`): a directory holding
/// `booth.json` and every file it lists, or an election service's base URL, from which
/// `booth.json` and every listed file are fetched (`GET {url}/{path}`). Every file is checked
/// against `booth.json` first: the digest is that of the files as they are.
///
/// # Errors
/// A directory or service that does not hold a booth, or a file that is not the one
/// `booth.json` lists.
pub fn booth_digest(source: &str) -> anyhow::Result<BoothDigest> {
    if source.starts_with("http://") || source.starts_with("https://") {
        let client = crate::client::ElectionClient::new(source, None)?;
        let list = client
            .booth_file(BOOTH_MANIFEST)
            .with_context(|| format!("{source} serves no booth ({BOOTH_MANIFEST})"))?;
        let manifest = BoothManifest::from_json(&list)
            .with_context(|| format!("the {BOOTH_MANIFEST} {source} serves is not valid"))?;
        for file in &manifest.files {
            let bytes = client
                .booth_file(&file.path)
                .with_context(|| format!("could not fetch {} from {source}", file.path))?;
            file.check(&bytes)
                .with_context(|| format!("the booth {source} serves is not consistent"))?;
        }
        Ok(manifest.digest())
    } else {
        let booth = crate::service::booth::read_dir(Path::new(source))?;
        Ok(booth.manifest.digest())
    }
}

/// Reads the registry's evidence for the record's election when a chain is named: the registry
/// is `--registry`, or else the contract the record's `anchors.json` names.
///
/// # Errors
/// When the chain cannot be reached or read, or no registry can be found; what the chain says
/// (or does not say) about the election is for V20 and V21 to judge.
pub fn chain_evidence(record: &Path, args: &ChainArgs) -> anyhow::Result<Option<ChainEvidence>> {
    if !args.given() {
        return Ok(None);
    }
    let index_path = record.join(INDEX);
    let index: RecordIndex = serde_json::from_slice(
        &std::fs::read(&index_path)
            .with_context(|| format!("could not read {}", index_path.display()))?,
    )
    .with_context(|| format!("{} is not a record index", index_path.display()))?;
    let address = match args.registry {
        Some(address) => address,
        None => {
            let path = record.join(ANCHORS);
            let anchors: Anchors =
                serde_json::from_slice(&std::fs::read(&path).with_context(|| {
                    format!(
                        "the record has no readable {ANCHORS} to name the registry: give --registry"
                    )
                })?)
                .with_context(|| format!("{} is not an anchors document", path.display()))?;
            crate::chain::parse_address(&anchors.contract).map_err(|err| {
                anyhow::anyhow!("{ANCHORS} names a bad registry address ({err}): give --registry")
            })?
        }
    };
    let runtime = crate::chain::runtime()?;
    runtime.block_on(async {
        let chain = args
            .connect()
            .await?
            .ok_or_else(|| anyhow::anyhow!("no chain given"))?;
        read_evidence(&chain, address, &index.election_id)
            .await
            .map(Some)
    })
}

/// The progress bar over the bytes of `ballots.jsonl`, hidden until given a draw target.
fn ballots_bar() -> ProgressBar {
    let bar = ProgressBar::hidden();
    bar.set_style(
        ProgressStyle::with_template(
            "{prefix} {binary_bytes}/{binary_total_bytes}, {msg}, eta {eta} [{wide_bar}]",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar.set_prefix(BALLOTS);
    bar
}

/// The last line for a record that does not verify: the first failed (else skipped) check in
/// plain words.
pub fn verdict(check: &CheckReport) -> String {
    let detail = check.detail.as_deref().unwrap_or("no reason given");
    match check.outcome {
        Outcome::Skipped => format!(
            "FAILED {} ({}): could not be checked: {detail}",
            check.check.id(),
            check.title
        ),
        Outcome::Failed | Outcome::Passed => {
            format!("FAILED {} ({}): {detail}", check.check.id(), check.title)
        }
    }
}

/// The human report.
fn render(dir: &Path, report: &Report, elapsed: Duration, peak: Option<u64>) -> String {
    let mut s = String::new();
    // Writing to a String cannot fail.
    let _ = write_report(&mut s, dir, report, elapsed, peak);
    s
}

fn write_report(
    s: &mut String,
    dir: &Path,
    report: &Report,
    elapsed: Duration,
    peak: Option<u64>,
) -> std::fmt::Result {
    writeln!(s, "Verifying the election record in {}", dir.display())?;
    writeln!(s)?;
    let items = report
        .checks
        .iter()
        .map(|c| c.items.to_string().len())
        .max()
        .unwrap_or(1)
        .max("items".len());
    writeln!(
        s,
        "  {:<3}  {:<7}  {:>items$}  check",
        "", "outcome", "items"
    )?;
    // Where the title starts, for the detail lines under it.
    let indent = 2 + 3 + 2 + 7 + 2 + items + 2;
    for c in &report.checks {
        let outcome = match c.outcome {
            Outcome::Passed => "pass",
            Outcome::Failed => "FAIL",
            Outcome::Skipped => "skipped",
        };
        writeln!(
            s,
            "  {:<3}  {outcome:<7}  {:>items$}  {}",
            c.check.id(),
            c.items,
            c.title
        )?;
        if let Some(detail) = &c.detail {
            let line = match c.outcome {
                Outcome::Failed => format!("{} of {} failed; first: {detail}", c.failures, c.items),
                Outcome::Skipped => format!("skipped: {detail}"),
                Outcome::Passed => format!("note: {detail}"),
            };
            writeln!(s, "{:indent$}{line}", "")?;
        }
    }
    writeln!(s)?;
    let n = &report.counts;
    let rows = [
        ("board entries", n.entries),
        ("  counted", n.counted),
        ("  superseded", n.superseded),
        ("  spoiled", n.spoiled),
        ("credentials", n.credentials),
        ("trustees", n.trustees),
        ("  qualified", n.qualified),
        ("partial decryptions", n.partial_decryptions),
    ];
    let width = rows
        .iter()
        .map(|(_, v)| v.to_string().len())
        .max()
        .unwrap_or(1);
    for (label, value) in rows {
        writeln!(s, "{label:<20} {value:>width$}")?;
    }
    writeln!(s)?;
    let unknown = || "unknown (record.json could not be read)".to_string();
    writeln!(
        s,
        "election       {}",
        report.election_id.map_or_else(unknown, |id| id.to_string())
    )?;
    writeln!(
        s,
        "board key      {}",
        report
            .board_key
            .clone()
            .unwrap_or_else(|| "unknown (the election parameters did not verify)".to_string())
    )?;
    writeln!(
        s,
        "record digest  {}",
        report.record_digest.clone().unwrap_or_else(unknown)
    )?;
    if let Some(booth) = &report.booth {
        writeln!(s, "booth digest   {booth}")?;
    }
    writeln!(s)?;
    if report.passed() {
        if let Some(results) = &report.results {
            write_results(s, results)?;
        }
    }
    writeln!(s, "time           {:.2} s", elapsed.as_secs_f64())?;
    if let Some(bytes) = peak {
        writeln!(s, "peak memory    {} ({bytes} bytes, VmHWM)", size(bytes))?;
    }
    writeln!(s)?;
    match report.first_failure() {
        None => writeln!(s, "{}", passed_line(report)),
        Some(failure) => writeln!(s, "{}", verdict(failure)),
    }
}

/// The last line for a record that verifies: how many checks hold, and which were not run for
/// want of an input (the chain, a booth).
pub fn passed_line(report: &Report) -> String {
    let skipped = report
        .checks
        .iter()
        .filter(|c| c.outcome == Outcome::Skipped)
        .count();
    if skipped == 0 {
        return format!(
            "PASSED: all {} checks hold; every figure above is recomputed from the record{}.",
            report.checks.len(),
            if report.chain.is_some() {
                " and the chain"
            } else {
                ""
            }
        );
    }
    let mut not_run = Vec::new();
    if report.chain.is_none() {
        not_run.push(
            "V20 and V21 were not run (no chain given: --chain-dir or --rpc-url compares the \
             record with the chain)",
        );
    }
    if report.booth.is_none() {
        not_run.push(
            "V22 was not run (no booth given: --booth DIR or URL compares a booth with the \
             digest the manifest publishes)",
        );
    }
    format!(
        "PASSED: {} of {} checks hold; {}.",
        report.checks.len() - skipped,
        report.checks.len(),
        not_run.join("; ")
    )
}

/// The results: per contest, each selection's total with a bar.
fn write_results(s: &mut String, results: &Results) -> std::fmt::Result {
    const BAR: u64 = 40;
    writeln!(s, "Results: {} ballots counted", results.ballots_counted)?;
    writeln!(s)?;
    for contest in &results.contests {
        writeln!(s, "{} ({})", contest.title, contest.id)?;
        let top = contest
            .selections
            .iter()
            .map(|x| x.total)
            .max()
            .unwrap_or(0)
            .max(1);
        let label = contest
            .selections
            .iter()
            .map(|x| x.label.chars().count())
            .max()
            .unwrap_or(0);
        let total = contest
            .selections
            .iter()
            .map(|x| x.total.to_string().len())
            .max()
            .unwrap_or(1);
        for selection in &contest.selections {
            let bar = "█".repeat((selection.total.saturating_mul(BAR) / top) as usize);
            let row = format!(
                "  {:<label$}  {:>total$}  {bar}",
                selection.label, selection.total
            );
            writeln!(s, "{}", row.trim_end())?;
        }
        writeln!(s)?;
    }
    let list = |v: &[u32]| v.iter().map(u32::to_string).collect::<Vec<_>>().join(", ");
    if !results.combined.is_empty() {
        write!(s, "decrypted by trustees {}", list(&results.combined))?;
        if !results.absent.is_empty() {
            write!(s, "; absent {}", list(&results.absent))?;
        }
        writeln!(s)?;
        writeln!(s)?;
    }
    Ok(())
}

/// A size in bytes for people: `812 B`, `3.4 KiB`, `45.6 MiB`, `1.23 GiB`.
pub fn size(bytes: u64) -> String {
    const KIB: f64 = 1024.0;
    let b = bytes as f64;
    if bytes < 1024 {
        format!("{bytes} B")
    } else if b < KIB * KIB {
        format!("{:.1} KiB", b / KIB)
    } else if b < KIB * KIB * KIB {
        format!("{:.1} MiB", b / (KIB * KIB))
    } else {
        format!("{:.2} GiB", b / (KIB * KIB * KIB))
    }
}

/// The process's peak resident set size so far (VmHWM), where the system reports it (Linux).
#[cfg(target_os = "linux")]
pub fn peak_memory_bytes() -> Option<u64> {
    parse_vm_hwm(&std::fs::read_to_string("/proc/self/status").ok()?)
}

/// The process's peak resident set size so far: unknown on this system.
#[cfg(not(target_os = "linux"))]
pub fn peak_memory_bytes() -> Option<u64> {
    None
}

/// `VmHWM:   123456 kB` in `/proc/self/status`, in bytes.
#[cfg(any(target_os = "linux", test))]
fn parse_vm_hwm(status: &str) -> Option<u64> {
    let value = status.lines().find_map(|l| l.strip_prefix("VmHWM:"))?;
    let kib: u64 = value.trim().strip_suffix("kB")?.trim().parse().ok()?;
    kib.checked_mul(1024)
}

/// Every file under `dir`, as record paths (`ceremony/dealer-1.json`), sorted.
pub fn files_under(dir: &Path) -> anyhow::Result<Vec<String>> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use tabella_crypto::board::BoardSigningKey;

    #[test]
    fn board_key_parses_strictly() {
        let key = BoardSigningKey::generate(&mut rand::rngs::OsRng).public();
        let hex = key.to_string();
        assert_eq!(parse_board_key(&hex), Ok(key));
        for bad in [
            String::new(),
            hex[..62].to_string(),
            format!("{hex}00"),
            hex.to_uppercase(),
            format!(" {hex}"),
            format!("0x{hex}"),
        ] {
            let error = parse_board_key(&bad).expect_err("not a board key");
            assert!(error.contains("64 lowercase hex digits"), "{error}");
        }
        // The identity point (small order) is rejected as a key.
        let mut identity = [0u8; 32];
        identity[0] = 1;
        let error = parse_board_key(&hex::encode(identity)).expect_err("small order");
        assert!(error.contains("not a valid board key"), "{error}");
    }

    #[test]
    fn peak_memory_reads_vm_hwm() {
        let status = "Name:\ttabella\nVmPeak:\t  20000 kB\nVmHWM:\t    1234 kB\nVmRSS:\t 1000 kB\n";
        assert_eq!(parse_vm_hwm(status), Some(1234 * 1024));
        assert_eq!(parse_vm_hwm("VmRSS:\t 1000 kB\n"), None);
        assert_eq!(parse_vm_hwm("VmHWM:\t lots kB\n"), None);
        #[cfg(target_os = "linux")]
        assert!(peak_memory_bytes().is_some_and(|b| b > 0));
    }

    #[test]
    fn sizes_read_naturally() {
        assert_eq!(size(812), "812 B");
        assert_eq!(size(3 * 1024 + 400), "3.4 KiB");
        assert_eq!(size(45 * 1024 * 1024 + 600 * 1024), "45.6 MiB");
        assert_eq!(size(1_320_702_444), "1.23 GiB");
    }
}
