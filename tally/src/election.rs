//! `tabella election …`: the officials' commands against a running election service.
//!
//! Each command is one call of the service's HTTP API ([`crate::client::ElectionClient`]); the
//! service decides what is allowed when, and its refusals (a wrong state, a missing key
//! ceremony, a different roll) are printed as it words them, with its error code. The
//! administrative commands send the officials' token (`--token` or `TABELLA_ADMIN_TOKEN`).
//!
//! The life of an election: `create` (then the trustees' key ceremony, `tabella trustee …` and
//! `tabella ceremony create`), `import-roll` (which writes each voter's credential code, once),
//! `open`, voting, `close` (the service verifies and adds the counted ballots), the trustees'
//! partial decryptions, `tally`; `status` and `export` at any time.

use std::collections::HashSet;
use std::fs::{File, OpenOptions};
use std::io::{BufRead as _, BufReader, BufWriter, Seek as _, SeekFrom, Write as _};
use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context as _};
use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use secrecy::{ExposeSecret as _, SecretString};
use serde::Serialize;
use tabella_crypto::board::merkle::{leaf_hash, MerkleTree};
use tabella_crypto::board::receipt::{EntryKind, SignedTreeHead};
use tabella_crypto::group::text;
use tabella_crypto::manifest::Manifest;

use crate::api::{BoardEntry, ElectionInfo, EntryStatus, IssuedCredential, Results};
use crate::client::{ClientError, ElectionClient};

/// The default address of the election service.
pub const DEFAULT_URL: &str = "http://127.0.0.1:8080";

/// Where the election service is.
#[derive(Debug, Clone, Args)]
pub struct ServiceArgs {
    /// URL of the election service.
    #[arg(long, value_name = "URL", env = "TABELLA_URL", default_value = DEFAULT_URL)]
    pub url: String,
}

/// Where the election service is, and the officials' token.
#[derive(Debug, Clone, Args)]
pub struct AdminArgs {
    /// Where the election service is.
    #[command(flatten)]
    pub service: ServiceArgs,

    /// The officials' admin token of the election service.
    #[arg(
        long,
        value_name = "TOKEN",
        env = "TABELLA_ADMIN_TOKEN",
        hide_env_values = true,
        value_parser = parse_secret
    )]
    pub token: Option<SecretString>,
}

fn parse_secret(text: &str) -> Result<SecretString, std::convert::Infallible> {
    Ok(SecretString::from(text))
}

/// `tabella election …`: the officials' side of an election on the election service.
#[derive(Debug, Subcommand)]
pub enum ElectionCommand {
    /// Create the election from a manifest (idempotent with the same manifest).
    Create {
        /// The service and the officials' token.
        #[command(flatten)]
        admin: AdminArgs,
        /// The election manifest (JSON): title, contests, selections, rules.
        #[arg(long, value_name = "FILE")]
        manifest: PathBuf,
    },
    /// Import the voter roll and write each voter's credential code to a new file (mode 0600).
    ImportRoll {
        /// The service and the officials' token.
        #[command(flatten)]
        admin: AdminArgs,
        /// The voter roll: CSV with a header line naming a voter_id column.
        #[arg(long, value_name = "FILE.csv")]
        roll: PathBuf,
        /// Where to write the voters' codes (voter_id,code); must not exist. The service keeps
        /// no copy: this file is the only one.
        #[arg(long, value_name = "FILE")]
        codes_out: PathBuf,
    },
    /// Open voting (needs the roll and a complete key ceremony).
    Open {
        /// The service and the officials' token.
        #[command(flatten)]
        admin: AdminArgs,
    },
    /// Close voting, then wait while the service verifies and adds the counted ballots.
    Close {
        /// The service and the officials' token.
        #[command(flatten)]
        admin: AdminArgs,
    },
    /// Combine the trustees' partial decryptions and publish the results.
    Tally {
        /// The service and the officials' token.
        #[command(flatten)]
        admin: AdminArgs,
        /// Also write the results (JSON) to this file.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// Show the election: state, voters, board, aggregation, keys.
    Status {
        /// The service.
        #[command(flatten)]
        service: ServiceArgs,
    },
    /// Download the election record into a new directory, and check it.
    Export {
        /// The service.
        #[command(flatten)]
        service: ServiceArgs,
        /// The directory to write (created; an existing one must be empty).
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
    },
}

/// Runs a `tabella election` command.
///
/// # Errors
/// The service's refusal (printed as the service words it), an unreachable service, or a local
/// file that cannot be read or written.
pub fn run(command: &ElectionCommand) -> anyhow::Result<()> {
    match command {
        ElectionCommand::Create { admin, manifest } => create(admin, manifest),
        ElectionCommand::ImportRoll {
            admin,
            roll,
            codes_out,
        } => import_roll(admin, roll, codes_out),
        ElectionCommand::Open { admin } => {
            let client = admin_client(admin)?;
            let info = client.open().map_err(|e| explain(e, &client))?;
            println!(
                "Election {} is {}: {} voters can vote at {}.",
                info.election_id,
                info.state,
                info.voters.map_or("the".to_string(), |n| n.to_string()),
                client.base_url()
            );
            Ok(())
        }
        ElectionCommand::Close { admin } => close(admin),
        ElectionCommand::Tally { admin, out } => {
            let client = admin_client(admin)?;
            let results = client.tally().map_err(|e| explain(e, &client))?;
            print_results(&results);
            if let Some(path) = out {
                crate::ceremony::write_json(path, &results)?;
                println!("results written to {}", path.display());
            }
            Ok(())
        }
        ElectionCommand::Status { service } => {
            let client = ElectionClient::new(&service.url, None)?;
            let info = client.election()?;
            print_status(&client, &info);
            Ok(())
        }
        ElectionCommand::Export { service, out } => {
            let client = ElectionClient::new(&service.url, None)?;
            let summary = export(&client, out)?;
            summary.print();
            Ok(())
        }
    }
}

fn admin_client(admin: &AdminArgs) -> anyhow::Result<ElectionClient> {
    let token = admin
        .token
        .as_ref()
        .map(|token| token.expose_secret().to_owned());
    Ok(ElectionClient::new(&admin.service.url, token)?)
}

/// The service's refusal, with a hint when it is about a missing token.
fn explain(error: ClientError, client: &ElectionClient) -> anyhow::Error {
    if error.code() == Some("unauthorized") {
        let hint = if client.has_admin_token() {
            "the service did not accept the officials' admin token"
        } else {
            "this is an officials' command: pass the admin token with --token or \
             TABELLA_ADMIN_TOKEN"
        };
        return anyhow::Error::new(error).context(hint);
    }
    error.into()
}

fn create(admin: &AdminArgs, manifest_path: &Path) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(manifest_path)
        .with_context(|| format!("could not read {}", manifest_path.display()))?;
    let manifest = Manifest::from_json(&text)
        .with_context(|| format!("{} is not a valid manifest", manifest_path.display()))?;
    let client = admin_client(admin)?;
    let (info, created) = client.create(&manifest).map_err(|e| explain(e, &client))?;
    if created {
        println!("Election created at {}.", client.base_url());
    } else {
        println!(
            "The election already exists at {} with this very manifest: nothing changed.",
            client.base_url()
        );
    }
    println!("election id    {}", info.election_id);
    println!(
        "manifest       {} ({} contests), hash {}",
        info.manifest.title,
        info.manifest.contests.len(),
        info.manifest_hash
    );
    println!("board key      {}", info.board_key);
    println!("state          {}", info.state);
    println!();
    println!("Next steps:");
    println!(
        "  1. each trustee:  tabella trustee init --election {} --name NAME --key KEY.json \
         --announcement ANNOUNCEMENT.json",
        info.election_id
    );
    println!(
        "  2. officials:     tabella ceremony create --url {} --threshold T --announcement \
         ANNOUNCEMENT.json …",
        client.base_url()
    );
    println!(
        "  3. each trustee:  tabella trustee deal --url {url} --key KEY.json, then tabella \
         trustee check --url {url} --key KEY.json",
        url = client.base_url()
    );
    println!(
        "  4. officials:     tabella election import-roll --url {} --roll ROLL.csv --codes-out \
         CODES.csv",
        client.base_url()
    );
    println!(
        "  5. officials:     tabella election open --url {}",
        client.base_url()
    );
    Ok(())
}

/// Creates the codes file: new (never replacing a file), readable by its owner only.
fn create_codes_file(path: &Path) -> anyhow::Result<File> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    options.open(path).map_err(|error| {
        if error.kind() == std::io::ErrorKind::AlreadyExists {
            anyhow!(
                "{} already exists: the codes file is never replaced (the codes in it may be the \
                 only copy); choose another name",
                path.display()
            )
        } else {
            anyhow::Error::new(error).context(format!("could not create {}", path.display()))
        }
    })
}

/// Writes `voter_id,code` lines to the codes file and syncs it to disk.
fn write_codes(file: File, path: &Path, codes: &[IssuedCredential]) -> anyhow::Result<()> {
    let context = || {
        format!(
            "could not write the voters' codes to {}: the service keeps no copy, so keep this \
             terminal open and free disk space, or the roll must be imported into a new election",
            path.display()
        )
    };
    let mut writer = csv::Writer::from_writer(BufWriter::new(file));
    writer
        .write_record(["voter_id", "code"])
        .with_context(context)?;
    for credential in codes {
        writer
            .write_record([credential.voter_id.as_str(), credential.code.as_str()])
            .with_context(context)?;
    }
    let file = writer
        .into_inner()
        .map_err(|e| anyhow!("{}", e.error()))
        .with_context(context)?
        .into_inner()
        .map_err(|e| e.into_error())
        .with_context(context)?;
    file.sync_all().with_context(context)?;
    sync_parent(path);
    Ok(())
}

/// Creates `path` (mode 0600, never replacing a file) and writes the codes to it.
///
/// # Errors
/// An existing file, or one that cannot be created or written.
pub fn write_codes_file(path: &Path, codes: &[IssuedCredential]) -> anyhow::Result<()> {
    let file = create_codes_file(path)?;
    write_codes(file, path, codes)
}

/// Makes a new file's directory entry durable (best effort: not every system can).
fn sync_parent(path: &Path) {
    #[cfg(unix)]
    if let Some(parent) = path.parent() {
        let parent = if parent.as_os_str().is_empty() {
            Path::new(".")
        } else {
            parent
        };
        if let Ok(dir) = File::open(parent) {
            let _ = dir.sync_all();
        }
    }
}

fn import_roll(admin: &AdminArgs, roll: &Path, codes_out: &Path) -> anyhow::Result<()> {
    if codes_out.exists() {
        bail!(
            "{} already exists: the codes file is never replaced (the codes in it may be the \
             only copy); choose another name",
            codes_out.display()
        );
    }
    let csv = std::fs::read(roll).with_context(|| format!("could not read {}", roll.display()))?;
    let client = admin_client(admin)?;
    // Create the file before asking for the codes: they are returned once, and must have a
    // place to go.
    let file = create_codes_file(codes_out)?;
    let imported = match client.import_roll(&csv) {
        Ok(imported) => imported,
        Err(error) => {
            drop(file);
            let _ = std::fs::remove_file(codes_out);
            return Err(explain(error, &client));
        }
    };
    if imported.already_imported {
        drop(file);
        let _ = std::fs::remove_file(codes_out);
        println!(
            "This roll was already imported: no new codes were issued (the codes were returned \
             once, by the first import), and {} was not written.",
            codes_out.display()
        );
    } else {
        write_codes(file, codes_out, &imported.codes)?;
        println!(
            "Roll imported: {} credential codes written to {} (readable by you only).",
            imported.codes.len(),
            codes_out.display()
        );
        println!(
            "  Print each voter's letter from it, then keep it offline or destroy it: the \
             service keeps no copy."
        );
    }
    println!("voters              {}", imported.voters);
    println!("roll digest         {}", imported.roll_digest);
    println!("credentials digest  {}", imported.credentials_digest);
    Ok(())
}

fn close(admin: &AdminArgs) -> anyhow::Result<()> {
    let client = admin_client(admin)?;
    let info = client.close().map_err(|e| explain(e, &client))?;
    println!(
        "Election {} is {}: no more ballots are accepted ({} counted).",
        info.election_id, info.state, info.board.counted
    );
    let bar = ProgressBar::new(info.aggregation.map_or(info.board.counted, |a| a.total));
    bar.set_style(
        ProgressStyle::with_template("{msg:>28} [{bar:40}] {pos}/{len} ({per_sec}, eta {eta})")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar.set_message("verifying and adding ballots");
    let info = client.wait_for_aggregation(|aggregation| {
        bar.set_length(aggregation.total);
        bar.set_position(aggregation.done);
    });
    bar.finish_and_clear();
    let info = info?;
    let total = info.aggregation.map_or(0, |a| a.total);
    println!("All {total} counted ballots are verified and added; the tally request is published.");
    println!(
        "Next: each trustee runs `tabella trustee decrypt --url {} --key KEY.json`, then the \
         officials run `tabella election tally --url {}`.",
        client.base_url(),
        client.base_url()
    );
    Ok(())
}

/// Prints the results with a bar per selection.
pub fn print_results(results: &Results) {
    const WIDTH: u64 = 40;
    println!(
        "Results of election {}: {} ballots counted",
        results.election_id, results.ballots_counted
    );
    println!();
    for contest in &results.contests {
        println!("{}", contest.title);
        let top = contest
            .selections
            .iter()
            .map(|s| s.total)
            .max()
            .unwrap_or(0)
            .max(1);
        let width = contest
            .selections
            .iter()
            .map(|s| s.label.chars().count())
            .max()
            .unwrap_or(0);
        for selection in &contest.selections {
            let bar = "█".repeat((selection.total.saturating_mul(WIDTH) / top) as usize);
            println!(
                "  {:<width$}  {:>7}  {}",
                selection.label, selection.total, bar
            );
        }
        println!();
    }
    println!(
        "trustees     combined {}{}",
        crate::ceremony::list(&results.combined),
        if results.absent.is_empty() {
            String::new()
        } else {
            format!("; absent {}", crate::ceremony::list(&results.absent))
        }
    );
    println!(
        "board        root {} at size {}",
        results.board_root, results.board_size
    );
}

fn print_status(client: &ElectionClient, info: &ElectionInfo) {
    println!("election     {} at {}", info.election_id, client.base_url());
    println!(
        "manifest     {} ({} contests), hash {}",
        info.manifest.title,
        info.manifest.contests.len(),
        info.manifest_hash
    );
    println!("state        {}", info.state);
    match (info.voters, &info.credentials_digest) {
        (Some(voters), Some(digest)) => {
            println!("voters       {voters} (credentials digest {digest})")
        }
        (Some(voters), None) => println!("voters       {voters}"),
        _ => println!("voters       roll not imported yet"),
    }
    let b = &info.board;
    println!(
        "board        {} entries: {} counted, {} superseded by a re-vote, {} spoiled",
        b.size, b.counted, b.superseded, b.spoiled
    );
    match info.aggregation {
        Some(a) if a.complete => println!(
            "aggregation  complete: {} counted ballots verified and added",
            a.total
        ),
        Some(a) => println!(
            "aggregation  running: {} of {} counted ballots verified and added",
            a.done, a.total
        ),
        None => println!("aggregation  not started (it runs when voting closes)"),
    }
    match &info.joint_key {
        Some(key) => println!("joint key    {}", hex::encode(key.to_bytes())),
        None => println!("joint key    none yet (the key ceremony is not complete)"),
    }
    match &info.ceremony_id {
        Some(id) => println!("ceremony     {id}"),
        None => println!("ceremony     not created yet (`tabella ceremony create`)"),
    }
    println!("board key    {}", info.board_key);
}

/// What [`export`] wrote and checked.
#[derive(Debug, Clone)]
pub struct ExportSummary {
    /// The record's directory.
    pub dir: PathBuf,
    /// Every file written (relative to `dir`) and its size in bytes, in the order written.
    pub files: Vec<(PathBuf, u64)>,
    /// Board entries in `ballots.jsonl` (the size of the tree head in `tree-head.json`).
    pub entries: u64,
    /// Of those, the counted ballots.
    pub counted: u64,
    /// The Merkle root of the entries (hex), checked against the signed tree head.
    pub root: String,
    /// Credentials on the list.
    pub credentials: u64,
    /// Ceremony messages written.
    pub ceremony_messages: u64,
    /// Whether the results were exported (the election is tallied).
    pub tallied: bool,
    /// Entries the board received while the record was being written, left out so that the
    /// record matches its tree head.
    pub left_out: u64,
}

impl ExportSummary {
    /// Prints the summary for a person.
    pub fn print(&self) {
        println!("Election record written to {}:", self.dir.display());
        let width = self
            .files
            .iter()
            .map(|(p, _)| p.display().to_string().len())
            .max()
            .unwrap_or(0);
        for (path, size) in &self.files {
            println!(
                "  {:<width$}  {:>10}",
                path.display().to_string(),
                human_size(*size)
            );
        }
        println!(
            "checked      the tree head is signed by the board key; the Merkle root of the {} \
             entries of ballots.jsonl is the signed root {}",
            self.entries, self.root
        );
        println!(
            "checked      every tracking code is its ballot's leaf hash; the {} counted ballots' \
             credentials are all among the {} on the list",
            self.counted, self.credentials
        );
        if self.left_out > 0 {
            println!(
                "note         {} entries arrived while exporting and are left out (the board is \
                 still open); export a closed election for its final record",
                self.left_out
            );
        }
        if !self.tallied {
            println!("note         the election is not tallied yet: no results.json");
        }
    }
}

/// One line: where, how much, and what was checked.
impl std::fmt::Display for ExportSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let total: u64 = self.files.iter().map(|(_, size)| size).sum();
        write!(
            f,
            "{}: {} files, {}; {} board entries ({} counted) matching the signed root {}, {} \
             credentials, {} ceremony messages, {}; all checked",
            self.dir.display(),
            self.files.len(),
            human_size(total),
            self.entries,
            self.counted,
            self.root,
            self.credentials,
            self.ceremony_messages,
            if self.tallied {
                "results"
            } else {
                "no results yet"
            }
        )?;
        if self.left_out > 0 {
            write!(
                f,
                " ({} entries that arrived while exporting left out)",
                self.left_out
            )?;
        }
        Ok(())
    }
}

fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64;
    let mut unit = "B";
    for u in UNITS {
        if value < 1024.0 {
            break;
        }
        value /= 1024.0;
        unit = u;
    }
    format!("{value:.1} {unit}")
}

/// An empty directory at `out`: created, or an existing empty one.
fn prepare_dir(out: &Path) -> anyhow::Result<()> {
    if out.exists() {
        if !out.is_dir() {
            bail!("{} exists and is not a directory", out.display());
        }
        let mut entries = std::fs::read_dir(out)
            .with_context(|| format!("could not read the directory {}", out.display()))?;
        if entries.next().is_some() {
            bail!(
                "{} is not empty: the record goes into a new or empty directory, so nothing is \
                 mixed or replaced",
                out.display()
            );
        }
        return Ok(());
    }
    std::fs::create_dir_all(out).with_context(|| format!("could not create {}", out.display()))
}

/// Writes a new file under the record directory and syncs it.
struct RecordWriter<'a> {
    dir: &'a Path,
    files: Vec<(PathBuf, u64)>,
}

impl RecordWriter<'_> {
    fn bytes(&mut self, relative: &str, bytes: &[u8]) -> anyhow::Result<()> {
        let path = self.dir.join(relative);
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .with_context(|| format!("could not create {}", path.display()))?;
        file.write_all(bytes)
            .and_then(|()| file.sync_all())
            .with_context(|| format!("could not write {}", path.display()))?;
        self.files
            .push((PathBuf::from(relative), bytes.len() as u64));
        Ok(())
    }

    fn json<T: Serialize>(&mut self, relative: &str, value: &T) -> anyhow::Result<()> {
        let mut bytes = serde_json::to_vec_pretty(value)?;
        bytes.push(b'\n');
        self.bytes(relative, &bytes)
    }
}

/// Downloads the election record from the service into `out` (a new or empty directory), then
/// checks what it wrote:
///
/// - `election.json` (the [`ElectionInfo`]) and `credentials.json` (the credential list, whose
///   digest must be the election's);
/// - `ceremony/<name>` for every ceremony message;
/// - `ballots.jsonl`, every board entry by index;
/// - `tree-head.json`, a signed tree head of exactly those entries: its signature verifies under
///   the board key, it is this election's, and the Merkle root rebuilt from `ballots.jsonl`
///   (each tracking code checked to be its ballot's leaf hash) equals its root;
/// - `results.json` once the election is tallied (its board root checked as well).
///
/// Every counted entry's credential must be on the credential list. If the board grows while
/// the record is written, the entries beyond the tree head are left out.
///
/// # Errors
/// A directory that is not empty, a service out of reach, a file that cannot be written, or a
/// check that fails.
pub fn export(client: &ElectionClient, out: &Path) -> anyhow::Result<ExportSummary> {
    prepare_dir(out)?;
    let mut writer = RecordWriter {
        dir: out,
        files: Vec::new(),
    };

    let info = client.election()?;
    writer.json("election.json", &info)?;

    let credentials = client.credentials()?;
    writer.json("credentials.json", &credentials)?;
    if let Some(digest) = &info.credentials_digest {
        if *digest != credentials.digest {
            bail!(
                "the credential list's digest {} is not the election's credentials digest {digest}",
                credentials.digest
            );
        }
    }

    let names = client.ceremony_messages()?;
    if !names.is_empty() {
        std::fs::create_dir(out.join("ceremony"))
            .with_context(|| format!("could not create {}", out.join("ceremony").display()))?;
    }
    for name in &names {
        let bytes = client
            .ceremony_message(name)?
            .ok_or_else(|| anyhow!("the service lists the ceremony message {name} but has none"))?;
        writer.bytes(&format!("ceremony/{name}"), &bytes)?;
    }

    // The board only grows: a head read before the stream covers no more than the stream holds,
    // and a head read after covers all of it unless ballots arrived in between.
    let before = client.head()?;
    let ballots_path = out.join("ballots.jsonl");
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create_new(true)
        .open(&ballots_path)
        .with_context(|| format!("could not create {}", ballots_path.display()))?;
    let mut buffered = BufWriter::new(file);
    let lines = client.record_ballots(&mut buffered)?;
    let mut file = buffered
        .into_inner()
        .map_err(|e| e.into_error())
        .with_context(|| format!("could not write {}", ballots_path.display()))?;
    let after = client.head()?;
    let head: SignedTreeHead = if after.head.size <= lines {
        after
    } else {
        before
    };
    if head.head.size > lines {
        bail!(
            "the board's signed tree head covers {} entries but the service streamed only {lines}",
            head.head.size
        );
    }
    head.verify(&info.board_key)
        .context("the board's tree head does not verify under the election's board key")?;
    if head.head.election != info.election_id {
        bail!(
            "the board's tree head is for election {}, not {}",
            head.head.election,
            info.election_id
        );
    }

    // Rebuild the tree from the file, as a verifier will.
    let eligible: HashSet<&str> = credentials.credentials.iter().map(String::as_str).collect();
    file.seek(SeekFrom::Start(0))
        .with_context(|| format!("could not read back {}", ballots_path.display()))?;
    let mut reader = BufReader::new(&file);
    let mut tree = MerkleTree::new();
    let (mut counted, mut offset, mut line) = (0u64, 0u64, String::new());
    while tree.len() < head.head.size {
        line.clear();
        let n = reader
            .read_line(&mut line)
            .with_context(|| format!("could not read back {}", ballots_path.display()))?;
        if n == 0 {
            break;
        }
        offset += n as u64;
        let index = tree.len();
        let at = || format!("ballots.jsonl, entry {index}");
        let entry: BoardEntry = serde_json::from_str(&line)
            .with_context(|| format!("{} is not a board entry", at()))?;
        if entry.index != index {
            bail!("{}: it says it is entry {}", at(), entry.index);
        }
        let bytes =
            text::from_base64("ballot", &entry.ballot).map_err(|e| anyhow!("{}: {e}", at()))?;
        let leaf = leaf_hash(&bytes);
        if leaf != entry.tracking_code.0 {
            bail!(
                "{}: the tracking code {} is not the ballot's leaf hash {}",
                at(),
                entry.tracking_code,
                hex::encode(leaf)
            );
        }
        match (entry.kind, entry.status, &entry.opening) {
            (EntryKind::Spoiled, EntryStatus::Spoiled, Some(_)) => {}
            (EntryKind::Cast, EntryStatus::Counted, None) => {
                if !eligible.contains(entry.credential.as_str()) {
                    bail!(
                        "{}: the counted ballot's credential {} is not on the credential list",
                        at(),
                        entry.credential
                    );
                }
                counted += 1;
            }
            (EntryKind::Cast, EntryStatus::Superseded, None) => {}
            (kind, status, opening) => bail!(
                "{}: a {} entry marked {:?} {} an opening",
                at(),
                kind.as_str(),
                status,
                if opening.is_some() { "with" } else { "without" }
            ),
        }
        tree.push(leaf);
    }
    if tree.len() != head.head.size {
        bail!(
            "ballots.jsonl holds {} entries, fewer than the {} of the tree head",
            tree.len(),
            head.head.size
        );
    }
    let root = tree.root();
    if root != head.head.root {
        bail!(
            "the Merkle root of the {} entries of ballots.jsonl is {}, not the signed root {}",
            tree.len(),
            hex::encode(root),
            hex::encode(head.head.root)
        );
    }
    drop(reader);
    let left_out = lines - head.head.size;
    if left_out > 0 {
        file.set_len(offset)
            .with_context(|| format!("could not write {}", ballots_path.display()))?;
    }
    file.sync_all()
        .with_context(|| format!("could not write {}", ballots_path.display()))?;
    writer.files.push((PathBuf::from("ballots.jsonl"), offset));
    writer.json("tree-head.json", &head)?;

    let tallied = match client.results() {
        Ok(results) => {
            if results.election_id != info.election_id {
                bail!(
                    "the results are for election {}, not {}",
                    results.election_id,
                    info.election_id
                );
            }
            if results.board_size <= tree.len() {
                let at = tree.root_at(results.board_size)?;
                if hex::encode(at) != results.board_root {
                    bail!(
                        "the results cover the board at size {} with root {}, but the record's \
                         root at that size is {}",
                        results.board_size,
                        results.board_root,
                        hex::encode(at)
                    );
                }
            }
            writer.json("results.json", &results)?;
            true
        }
        Err(error) if error.code() == Some("not_tallied") => false,
        Err(error) => return Err(error.into()),
    };
    sync_parent(&out.join("election.json"));

    Ok(ExportSummary {
        dir: out.to_path_buf(),
        files: writer.files,
        entries: tree.len(),
        counted,
        root: hex::encode(root),
        credentials: credentials.credentials.len() as u64,
        ceremony_messages: names.len() as u64,
        tallied,
        left_out,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use clap::{CommandFactory, Parser};

    /// A stand-in for the `tabella` binary's command line.
    #[derive(Debug, Parser)]
    struct Cli {
        #[command(subcommand)]
        command: ElectionCommand,
    }

    fn parse(args: &[&str]) -> Result<ElectionCommand, clap::Error> {
        Cli::try_parse_from(std::iter::once("election").chain(args.iter().copied()))
            .map(|cli| cli.command)
    }

    #[test]
    fn command_line_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn every_subcommand_parses() {
        // Without TABELLA_URL in the environment the default address applies; with it, its
        // value. Either way `--url` wins.
        let command = parse(&[
            "create",
            "--manifest",
            "m.json",
            "--url",
            "http://h:1",
            "--token",
            "s3cret",
        ])
        .unwrap();
        let ElectionCommand::Create { admin, manifest } = &command else {
            panic!("{command:?}");
        };
        assert_eq!(admin.service.url, "http://h:1");
        assert_eq!(admin.token.as_ref().unwrap().expose_secret(), "s3cret");
        assert_eq!(manifest, &PathBuf::from("m.json"));
        // The token never shows in Debug.
        assert!(!format!("{command:?}").contains("s3cret"));

        let command = parse(&[
            "import-roll",
            "--roll",
            "roll.csv",
            "--codes-out",
            "codes.csv",
            "--url",
            "http://h:1",
        ])
        .unwrap();
        assert!(matches!(
            &command,
            ElectionCommand::ImportRoll { roll, codes_out, .. }
                if roll == Path::new("roll.csv") && codes_out == Path::new("codes.csv")
        ));
        for name in ["open", "close"] {
            assert!(parse(&[name, "--url", "http://h:1"]).is_ok(), "{name}");
        }
        let command = parse(&["tally", "--out", "r.json", "--url", "http://h:1"]).unwrap();
        assert!(matches!(
            &command,
            ElectionCommand::Tally { out: Some(out), .. } if out == Path::new("r.json")
        ));
        let command = parse(&["status", "--url", "http://h:1"]).unwrap();
        assert!(
            matches!(&command, ElectionCommand::Status { service } if service.url == "http://h:1")
        );
        let command = parse(&["export", "--out", "record", "--url", "http://h:1"]).unwrap();
        assert!(matches!(
            &command,
            ElectionCommand::Export { out, .. } if out == Path::new("record")
        ));
    }

    #[test]
    fn the_url_defaults_to_the_local_service() {
        if std::env::var_os("TABELLA_URL").is_some() {
            return;
        }
        let command = parse(&["status"]).unwrap();
        assert!(
            matches!(&command, ElectionCommand::Status { service } if service.url == DEFAULT_URL)
        );
    }

    #[test]
    fn required_arguments_are_required() {
        for args in [
            &["create"][..],
            &["import-roll", "--roll", "r.csv"],
            &["import-roll", "--codes-out", "c.csv"],
            &["export"],
            &["status", "--token", "x"],
            &["frobnicate"],
        ] {
            assert!(parse(args).is_err(), "{args:?}");
        }
    }

    fn codes() -> Vec<IssuedCredential> {
        vec![
            IssuedCredential {
                voter_id: "alice".into(),
                code: "EPD-WP9-3QR-7P2-YEX-DJM-RZZ".into(),
            },
            IssuedCredential {
                voter_id: "bob, jr".into(),
                code: "000-000-000-000-000-000-000".into(),
            },
        ]
    }

    #[test]
    fn the_codes_file_is_private_and_readable_as_a_credentials_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("codes.csv");
        write_codes_file(&path, &codes()).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.starts_with("voter_id,code\n"), "{text}");
        // `tabella simulate --credentials` reads it back.
        let back = crate::simulate::read_credentials(&path).unwrap();
        assert_eq!(back, codes());
    }

    #[test]
    fn the_codes_file_never_replaces_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("codes.csv");
        std::fs::write(&path, "earlier codes\n").unwrap();
        let error = write_codes_file(&path, &codes()).unwrap_err();
        assert!(error.to_string().contains("already exists"), "{error}");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "earlier codes\n");
    }

    #[test]
    fn import_roll_refuses_an_existing_codes_file_before_calling_the_service() {
        let dir = tempfile::tempdir().unwrap();
        let codes = dir.path().join("codes.csv");
        std::fs::write(&codes, "x").unwrap();
        let admin = AdminArgs {
            // Nothing listens there: an attempt to call would be a different error.
            service: ServiceArgs {
                url: "http://127.0.0.1:1".into(),
            },
            token: None,
        };
        let error = import_roll(&admin, &dir.path().join("missing-roll.csv"), &codes).unwrap_err();
        assert!(error.to_string().contains("already exists"), "{error}");
    }

    #[test]
    fn export_refuses_a_directory_that_is_not_empty() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("old.json"), "{}").unwrap();
        let client = ElectionClient::new("http://127.0.0.1:1", None).unwrap();
        let error = export(&client, dir.path()).unwrap_err();
        assert!(error.to_string().contains("is not empty"), "{error}");
        // An empty directory is fine up to the first request (nothing listens there).
        let empty = dir.path().join("record");
        std::fs::create_dir(&empty).unwrap();
        let error = export(&client, &empty).unwrap_err();
        assert!(
            format!("{error:#}").contains("could not reach"),
            "{error:#}"
        );
    }

    #[test]
    fn sizes_read_well() {
        assert_eq!(human_size(0), "0 B");
        assert_eq!(human_size(1023), "1023 B");
        assert_eq!(human_size(1536), "1.5 KiB");
        assert_eq!(human_size(5 * 1024 * 1024), "5.0 MiB");
    }
}
