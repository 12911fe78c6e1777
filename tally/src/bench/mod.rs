//! `tabella bench …`: workloads for measuring Tabella on this machine.
//!
//! `tabella bench record` synthesizes a complete, valid election record of any size with
//! [`tabella_crypto::record::synth`] (a whole election run in memory from a seed: key ceremony,
//! credentials, ballots with receipts, spoiled and superseded ballots, tally) and writes it to a
//! directory, streaming `ballots.jsonl` to disk; `--verify` then runs `tabella verify` on it in a
//! fresh process, so that the time and peak memory printed are the verifier's alone.

use std::fs::File;
use std::io::{BufWriter, IsTerminal as _, Write as _};
use std::path::{Component, Path, PathBuf};
use std::time::Instant;

use anyhow::Context as _;
use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use tabella_crypto::manifest::{Contest, ContestStyle, Manifest, Selection};
use tabella_crypto::record::synth::{synthesize, RecordSink, SynthError, SynthOptions};
use tabella_crypto::record::BALLOTS;

use crate::verify::size;

pub mod credentials;

/// `tabella bench …`.
#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Synthesize a complete, valid election record (every voter casts a P10 ballot by default;
    /// some spoil one first, some vote twice) for benchmarking `tabella verify`.
    Record(RecordArgs),
    /// Measure credentials at scale: the registrar generating codes, keys and letters, and the
    /// service importing the public keys through HTTP (default: a million voters).
    Credentials(credentials::CredentialsArgs),
}

/// `tabella bench record`.
#[derive(Debug, Args)]
pub struct RecordArgs {
    /// Eligible voters; each casts a ballot.
    #[arg(long)]
    pub voters: u64,
    /// The directory to write the record to: created if missing, refused if not empty.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// The seed of everything: the same options give the same record, byte for byte.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// A manifest (JSON) instead of the default: one plurality contest of 10 options ("P10").
    #[arg(long, value_name = "FILE")]
    pub manifest: Option<PathBuf>,
    /// Trustees in the key ceremony.
    #[arg(long, default_value_t = 5)]
    pub trustees: u32,
    /// Trustees needed to decrypt.
    #[arg(long, default_value_t = 3)]
    pub threshold: u32,
    /// Trustees (numbered from 1) absent from the tally; `--absent` alone for none.
    #[arg(long, value_delimiter = ',', num_args = 0.., default_values_t = [2])]
    pub absent: Vec<u32>,
    /// Every k-th voter (from the first) spoils a ballot before casting; 0 for none.
    #[arg(long, default_value_t = 50, value_name = "K")]
    pub spoil_every: u64,
    /// Every k-th voter (from the second) votes again at the end; 0 for none.
    #[arg(long, default_value_t = 33, value_name = "K")]
    pub revote_every: u64,
    /// Then run `tabella verify DIR` on the record in a fresh process (its time and peak memory
    /// are the verifier's alone); the exit status is the verifier's.
    #[arg(long)]
    pub verify: bool,
}

/// Runs a `tabella bench` command; returns whether it succeeded (for `--verify`, whether the
/// record verified).
///
/// # Errors
/// Bad options, an unreadable manifest, a non-empty output directory, or a failed write.
pub fn run(command: &BenchCommand) -> anyhow::Result<bool> {
    match command {
        BenchCommand::Record(args) => record(args),
        BenchCommand::Credentials(args) => credentials::run(args),
    }
}

/// The default benchmark manifest, "P10": one plurality contest of 10 options, as in the
/// crypto crate's ballot benchmarks.
pub fn p10() -> Manifest {
    Manifest {
        title: "bench".into(),
        contests: vec![Contest {
            id: "c".into(),
            title: "Contest".into(),
            style: ContestStyle::Plurality,
            selections: (0..10)
                .map(|i| Selection {
                    id: format!("s{i}"),
                    label: format!("Option {i}"),
                })
                .collect(),
        }],
        booth: None,
        contact: None,
        translations: Default::default(),
    }
}

/// The number of board entries `synthesize` writes: one cast per voter, one spoiled ballot per
/// voter `k ≡ 0 (mod spoil_every)`, one more cast per voter `k ≡ 1 (mod revote_every)`.
fn planned_entries(voters: u64, spoil_every: u64, revote_every: u64) -> u64 {
    let spoiled = match spoil_every {
        0 => 0,
        s => voters.div_ceil(s),
    };
    let revotes = match revote_every {
        0 | 1 => 0,
        r if voters >= 2 => (voters - 2) / r + 1,
        _ => 0,
    };
    voters + spoiled + revotes
}

fn record(args: &RecordArgs) -> anyhow::Result<bool> {
    let manifest = match &args.manifest {
        None => p10(),
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("could not read the manifest {}", path.display()))?;
            Manifest::from_json(&text)
                .with_context(|| format!("{} is not a valid manifest", path.display()))?
        }
    };
    check_trustees(args)?;
    prepare_out(&args.out)?;
    let options = SynthOptions {
        manifest,
        voters: args.voters,
        trustees: args.trustees,
        threshold: args.threshold,
        absent: args.absent.clone(),
        spoil_every: args.spoil_every,
        revote_every: args.revote_every,
        replaced: 0,
        seed: args.seed,
    };
    let entries = planned_entries(args.voters, args.spoil_every, args.revote_every);
    let bar = if std::io::stderr().is_terminal() {
        let bar = ProgressBar::with_draw_target(Some(entries), ProgressDrawTarget::stderr());
        bar.set_style(
            ProgressStyle::with_template(
                "{msg} {pos}/{len} entries ({per_sec}, eta {eta}) [{wide_bar}]",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar.set_message("key ceremony and credentials");
        bar
    } else {
        ProgressBar::hidden()
    };
    let started = Instant::now();
    let mut sink = DirSink::new(&args.out);
    let result = synthesize(&options, &mut sink, |done| {
        if done == 0 || bar.position() == 0 {
            bar.set_message("ballots");
        }
        bar.set_position(done);
    });
    bar.finish_and_clear();
    let synthesized = result.map_err(|error| match error {
        SynthError::Options(reason) => anyhow::anyhow!("impossible options: {reason}"),
        SynthError::Sink(error) => error,
        other => anyhow::anyhow!("{other}"),
    })?;
    let ballots_bytes = sink.finish()?;
    let elapsed = started.elapsed();
    let files = crate::verify::files_under(&args.out)?;
    let mut bytes = 0u64;
    for path in &files {
        bytes += std::fs::metadata(args.out.join(path))
            .with_context(|| format!("could not inspect {}", args.out.join(path).display()))?
            .len();
    }
    println!(
        "Wrote a record of {} voters, {} board entries ({} counted) to {}",
        args.voters,
        entries,
        synthesized.results.ballots_counted,
        args.out.display()
    );
    println!(
        "  {} files, {} ({BALLOTS}: {}), in {:.2} s",
        files.len(),
        size(bytes),
        size(ballots_bytes),
        elapsed.as_secs_f64()
    );
    let command = format!("tabella verify {}", args.out.display());
    if !args.verify {
        println!("Check it with: {command}");
        return Ok(true);
    }
    println!("Running {command} in a fresh process:");
    println!();
    // Flush before the child writes to the same stdout.
    std::io::stdout()
        .flush()
        .context("could not write to stdout")?;
    let exe = std::env::current_exe().context("could not find the tabella executable")?;
    let status = std::process::Command::new(exe)
        .arg("verify")
        .arg(&args.out)
        .status()
        .context("could not run tabella verify")?;
    Ok(status.success())
}

/// Refuses a tally that could not happen (before hours of work): absent trustees must exist,
/// be distinct, and leave at least the threshold present.
fn check_trustees(args: &RecordArgs) -> anyhow::Result<()> {
    let mut absent = args.absent.clone();
    absent.sort_unstable();
    absent.dedup();
    if absent.len() != args.absent.len() {
        anyhow::bail!("--absent names a trustee twice");
    }
    if let Some(j) = absent.iter().find(|&&j| j == 0 || j > args.trustees) {
        anyhow::bail!("--absent {j}: trustees are numbered 1 to {}", args.trustees);
    }
    let present = args.trustees as usize - absent.len();
    if present < args.threshold as usize {
        anyhow::bail!(
            "only {present} of {} trustees would be present, fewer than the threshold {}",
            args.trustees,
            args.threshold
        );
    }
    Ok(())
}

/// Creates `out` if missing; refuses a directory that holds anything, or a file.
fn prepare_out(out: &Path) -> anyhow::Result<()> {
    if out.exists() {
        if !out.is_dir() {
            anyhow::bail!("{} exists and is not a directory", out.display());
        }
        let mut entries =
            std::fs::read_dir(out).with_context(|| format!("could not list {}", out.display()))?;
        if entries.next().is_some() {
            anyhow::bail!(
                "{} is not empty: give a new or empty directory for the record",
                out.display()
            );
        }
        Ok(())
    } else {
        std::fs::create_dir_all(out).with_context(|| format!("could not create {}", out.display()))
    }
}

/// Writes a record into a directory: each document as a new file, `ballots.jsonl` streamed
/// through a buffer (the ballots are never all in memory).
struct DirSink {
    dir: PathBuf,
    ballots: Option<BufWriter<File>>,
    ballots_bytes: u64,
}

impl DirSink {
    fn new(dir: &Path) -> Self {
        Self {
            dir: dir.to_path_buf(),
            ballots: None,
            ballots_bytes: 0,
        }
    }

    /// `path` under the directory; only plain relative paths (no `..`, no root).
    fn resolve(&self, path: &str) -> anyhow::Result<PathBuf> {
        let relative = Path::new(path);
        if path.is_empty()
            || !relative
                .components()
                .all(|c| matches!(c, Component::Normal(_)))
        {
            anyhow::bail!("refusing to write {path:?} outside the record directory");
        }
        Ok(self.dir.join(relative))
    }

    /// Creates a new file (never overwrites), with its parent directories.
    fn create(&self, path: &str) -> anyhow::Result<File> {
        let file = self.resolve(path)?;
        if let Some(parent) = file.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("could not create {}", parent.display()))?;
        }
        File::options()
            .write(true)
            .create_new(true)
            .open(&file)
            .with_context(|| format!("could not create {}", file.display()))
    }

    /// Flushes `ballots.jsonl` (creating it empty if no entry was written); returns its size.
    fn finish(mut self) -> anyhow::Result<u64> {
        let writer = match self.ballots.take() {
            Some(writer) => writer,
            None => BufWriter::new(self.create(BALLOTS)?),
        };
        let file = writer
            .into_inner()
            .map_err(|e| e.into_error())
            .with_context(|| format!("could not write {}", self.dir.join(BALLOTS).display()))?;
        file.sync_all()
            .with_context(|| format!("could not write {}", self.dir.join(BALLOTS).display()))?;
        Ok(self.ballots_bytes)
    }
}

impl RecordSink for DirSink {
    type Error = anyhow::Error;

    fn write(&mut self, path: &str, bytes: &[u8]) -> Result<(), Self::Error> {
        let mut file = self.create(path)?;
        file.write_all(bytes)
            .with_context(|| format!("could not write {}", self.dir.join(path).display()))
    }

    fn append_ballots(&mut self, line: &[u8]) -> Result<(), Self::Error> {
        let writer = match &mut self.ballots {
            Some(writer) => writer,
            None => self
                .ballots
                .insert(BufWriter::with_capacity(1 << 20, self.create(BALLOTS)?)),
        };
        writer
            .write_all(line)
            .with_context(|| format!("could not write {}", self.dir.join(BALLOTS).display()))?;
        self.ballots_bytes += line.len() as u64;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tabella_crypto::record::synth::Files;

    #[test]
    fn planned_entries_match_the_synthesized_board() {
        for (voters, spoil, revote) in [
            (0, 50, 33),
            (1, 50, 33),
            (2, 50, 33),
            (8, 3, 2),
            (9, 1, 1),
            (10, 0, 0),
            (7, 7, 7),
        ] {
            let options = SynthOptions {
                manifest: p10(),
                voters,
                trustees: 3,
                threshold: 2,
                absent: vec![],
                spoil_every: spoil,
                revote_every: revote,
                replaced: 0,
                seed: 3,
            };
            let mut files = Files::new();
            let mut last = 0;
            synthesize(&options, &mut files, |n| last = n).expect("valid options");
            let lines = files
                .get(BALLOTS)
                .map_or(0, |b| b.iter().filter(|&&c| c == b'\n').count() as u64);
            assert_eq!(
                planned_entries(voters, spoil, revote),
                lines,
                "{voters} voters, spoil every {spoil}, revote every {revote}"
            );
            assert_eq!(last, lines);
        }
    }

    #[test]
    fn sink_refuses_paths_outside_the_directory() {
        let sink = DirSink::new(Path::new("/nonexistent"));
        for bad in ["", "../x", "/etc/passwd", "a/../../b"] {
            assert!(sink.resolve(bad).is_err(), "{bad}");
        }
        assert!(sink.resolve("ceremony/dealer-1.json").is_ok());
    }
}
