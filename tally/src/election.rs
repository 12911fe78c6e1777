//! `tabella election …`: the officials' commands against a running election service.
//!
//! Each command is one call of the service's HTTP API ([`crate::client::ElectionClient`]); the
//! service decides what is allowed when, and its refusals (a wrong state, a missing key
//! ceremony, a different credential list) are printed as it words them, with its error code. The
//! administrative commands send the officials' token (`--token` or `TABELLA_ADMIN_TOKEN`).
//!
//! The life of an election: `create` (then the trustees' key ceremony, `tabella trustee …` and
//! `tabella ceremony create`), `import-credentials` (the public credential list a registrar made
//! offline with `tabella credentials generate`; the service never sees a code), perhaps
//! `replace-credential`, `open`, voting, `close` (the service verifies and adds the counted
//! ballots), the trustees' partial decryptions, `tally`; `status` at any time, and `export` of
//! the election record (spec/record.md) once the election is tallied.

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write as _};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context as _};
use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use secrecy::{ExposeSecret as _, SecretString};
use tabella_crypto::board::receipt::SignedTreeHead;
use tabella_crypto::manifest::Manifest;
use tabella_crypto::record::{
    Anchors, ChainEvidence, CredentialList, Outcome, Report, SignedElectionParameters,
    VerifyOptions, ANCHORS, INDEX,
};

use crate::api::{
    AnchorKind, AnchorState, AnchoringStatus, CredentialReplacement, ElectionInfo, ElectionState,
    PublicCredentialList, Results,
};
use crate::client::{ClientError, ElectionClient};
use crate::durable::sync_dir;
use crate::service::record::{self, RecordSink, RecordSource};

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
    /// Import the public credential list a registrar made offline (`tabella credentials
    /// generate` writes it as credentials.json); idempotent with the same list.
    ImportCredentials {
        /// The service and the officials' token.
        #[command(flatten)]
        admin: AdminArgs,
        /// The public credential list (credentials.json of the registrar's directory).
        #[arg(long, value_name = "FILE")]
        list: PathBuf,
    },
    /// Replace one voter's lost or compromised credential before voting opens, with the
    /// replacement `tabella credentials replace` wrote (replacement-N.json); in order.
    ReplaceCredential {
        /// The service and the officials' token.
        #[command(flatten)]
        admin: AdminArgs,
        /// The replacement (replacement-N.json of the registrar's directory).
        #[arg(long, value_name = "FILE")]
        replacement: PathBuf,
    },
    /// Open voting (needs the credential list and a complete key ceremony).
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
    /// Download the election record of a tallied election into a new directory, and verify it
    /// (every check of `tabella verify`).
    Export {
        /// The service.
        #[command(flatten)]
        service: ServiceArgs,
        /// The directory to write (created; an existing one must be empty).
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        /// When the service anchors on chain: how long to wait for the result's anchor
        /// transaction, which anchors.json must name, in seconds.
        #[arg(long, value_name = "SECS", default_value_t = DEFAULT_ANCHOR_WAIT.as_secs())]
        anchor_wait: u64,
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
        ElectionCommand::ImportCredentials { admin, list } => import_credentials(admin, list),
        ElectionCommand::ReplaceCredential { admin, replacement } => {
            replace_credential(admin, replacement)
        }
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
            print_anchoring(&client.anchoring()?);
            Ok(())
        }
        ElectionCommand::Export {
            service,
            out,
            anchor_wait,
        } => {
            let client = ElectionClient::new(&service.url, None)?;
            let summary = export_with(
                &client,
                out,
                ExportOptions {
                    anchor_wait: Duration::from_secs(*anchor_wait),
                    chain: None,
                },
            )?;
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
        "  4. registrar:     tabella credentials generate --election {} --roll ROLL.csv --out \
         CREDENTIALS-DIR --title TITLE --booth-url URL (offline)",
        info.election_id
    );
    println!(
        "     officials:     tabella election import-credentials --url {} --list \
         CREDENTIALS-DIR/credentials.json",
        client.base_url()
    );
    println!(
        "  5. officials:     tabella election open --url {}",
        client.base_url()
    );
    Ok(())
}

/// Reads a JSON document the registrar wrote.
fn read_document<T: serde::de::DeserializeOwned>(path: &Path, what: &str) -> anyhow::Result<T> {
    let bytes =
        std::fs::read(path).with_context(|| format!("could not read {}", path.display()))?;
    serde_json::from_slice(&bytes).with_context(|| format!("{} is not {what}", path.display()))
}

fn import_credentials(admin: &AdminArgs, list_path: &Path) -> anyhow::Result<()> {
    let list: PublicCredentialList = read_document(
        list_path,
        "a public credential list (credentials.json of `tabella credentials generate`)",
    )?;
    let client = admin_client(admin)?;
    let started = Instant::now();
    let imported = client
        .import_credentials(&list)
        .map_err(|e| explain(e, &client))?;
    if imported.already_imported {
        println!("This credential list was already imported: nothing changed.");
    } else {
        println!(
            "Credential list imported in {:.1?}: {} voters are eligible.",
            started.elapsed(),
            imported.voters
        );
    }
    println!("voters              {}", imported.voters);
    println!("credentials digest  {}", imported.credentials_digest);
    println!(
        "Compare this digest with the one the registrar published: it is signed when voting \
         opens and anchored on chain."
    );
    Ok(())
}

fn replace_credential(admin: &AdminArgs, path: &Path) -> anyhow::Result<()> {
    let replacement: CredentialReplacement = read_document(
        path,
        "a credential replacement (replacement-N.json of `tabella credentials replace`)",
    )?;
    let client = admin_client(admin)?;
    let replaced = client
        .replace_credential(&replacement)
        .map_err(|e| explain(e, &client))?;
    if replaced.already_applied {
        println!("This replacement was already made: nothing changed.");
    } else {
        println!(
            "Credential replaced: key {} left the list, key {} entered it.",
            replacement.removed, replacement.added
        );
    }
    println!(
        "credentials digest  {} (was {})",
        replaced.credentials_digest, replaced.previous_digest
    );
    println!("replacements        {}", replaced.replacements);
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
        _ => println!("voters       credential list not imported yet"),
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

/// Prints where the election is anchored on chain, and how far.
pub fn print_anchoring(status: &AnchoringStatus) {
    if !status.enabled {
        println!("anchoring    off (the service anchors nothing on a chain)");
        return;
    }
    let done = status
        .items
        .iter()
        .filter(|i| matches!(i.state, AnchorState::Done | AnchorState::Superseded))
        .count();
    println!(
        "anchoring    {done} of {} anchors on chain {} in the registry {} (operator {}); lag {:.1} s",
        status.items.len(),
        status
            .chain_id
            .map_or_else(|| "(not reached yet)".to_string(), |id| id.to_string()),
        status.contract.as_deref().unwrap_or("(not known yet)"),
        status.operator.as_deref().unwrap_or("?"),
        status.lag_seconds
    );
    if let Some(closes_at) = status.closes_at {
        println!(
            "closes       on chain at {} (Unix time {closes_at})",
            crate::service::anchor::utc(closes_at)
        );
    }
    for item in &status.items {
        let what = match (item.kind, item.size) {
            (AnchorKind::Checkpoint, Some(size)) => format!("checkpoint {size}"),
            (kind, _) => kind.as_str().to_string(),
        };
        let detail = match (&item.transaction, &item.last_error) {
            (Some(tx), _) => format!(
                "block {} gas {} tx {tx}",
                item.block_number.map_or("?".to_string(), |b| b.to_string()),
                item.gas_used.map_or("?".to_string(), |g| g.to_string())
            ),
            (None, Some(error)) => format!("{} attempt(s); last error: {error}", item.attempts),
            (None, None) => String::new(),
        };
        println!("  {what:<16} {:<10} {detail}", item.state.as_str());
    }
}

/// What [`export`] wrote and verified.
#[derive(Debug, Clone)]
pub struct ExportSummary {
    /// The record's directory.
    pub dir: PathBuf,
    /// Every file of the record (its path in the record, `ceremony/dealer-1.json`) and its size
    /// in bytes, sorted by path as `record.json` lists them, then `record.json` itself.
    pub files: Vec<(String, u64)>,
    /// The record digest (hex): what identifies the whole record ([`RecordIndex::digest`](tabella_crypto::record::RecordIndex::digest)).
    pub record_digest: String,
    /// When the record holds `anchors.json`: the digest the chain anchors with the result
    /// ([`RecordIndex::anchored_digest`](tabella_crypto::record::RecordIndex::anchored_digest), the record digest without `anchors.json`).
    pub anchored_digest: Option<String>,
    /// The Merkle root of the board (hex), as the final tree head in `tree-head.json` signs it.
    pub root: String,
    /// Ceremony messages written.
    pub ceremony_messages: u64,
    /// Partial decryptions the service holds from trustees the results name as absent: they
    /// arrived after the tally, played no part in it, and are left out of the record.
    pub late_partials: Vec<u32>,
    /// Whether the verification compared the record with the chain's evidence (V20, V21).
    pub chain_checked: bool,
    /// The verifier's report on the written directory (every check passed).
    pub report: Report,
}

impl ExportSummary {
    /// Prints the summary for a person.
    pub fn print(&self) {
        println!("Election record written to {}:", self.dir.display());
        let width = self.files.iter().map(|(p, _)| p.len()).max().unwrap_or(0);
        for (path, size) in &self.files {
            println!("  {path:<width$}  {:>10}", human_size(*size));
        }
        let c = &self.report.counts;
        println!("record digest  {}", self.record_digest);
        if let Some(anchored) = &self.anchored_digest {
            println!("anchored       {anchored} (the record digest without anchors.json, as published on chain)");
        }
        println!(
            "verified       all {} checks of spec/verification.md pass{}: {} board entries ({} \
             counted, {} superseded, {} spoiled) under the signed root {}, {} credentials, {} \
             trustees, {} partial decryptions",
            self.report.checks.len(),
            if self.chain_checked {
                ", against the chain too"
            } else {
                ""
            },
            c.entries,
            c.counted,
            c.superseded,
            c.spoiled,
            self.root,
            c.credentials,
            c.trustees,
            c.partial_decryptions
        );
        if !self.late_partials.is_empty() {
            println!(
                "note           partial decryptions of trustee(s) {} arrived after the tally and \
                 are not part of it: left out",
                crate::ceremony::list(&self.late_partials)
            );
        }
        println!(
            "re-check       tabella verify {}",
            shell_word(&self.dir.display().to_string())
        );
    }
}

/// One line: where, how much, and what was verified.
impl std::fmt::Display for ExportSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let total: u64 = self.files.iter().map(|(_, size)| size).sum();
        let c = &self.report.counts;
        write!(
            f,
            "{}: {} files, {}; {} board entries ({} counted) under the signed root {}, {} \
             credentials, {} ceremony messages; record digest {}; all {} checks pass{}",
            self.dir.display(),
            self.files.len(),
            human_size(total),
            c.entries,
            c.counted,
            self.root,
            c.credentials,
            self.ceremony_messages,
            self.record_digest,
            self.report.checks.len(),
            if self.chain_checked {
                " (against the chain too)"
            } else {
                ""
            }
        )?;
        if !self.late_partials.is_empty() {
            write!(
                f,
                " (late partial decryptions of trustee(s) {} left out)",
                crate::ceremony::list(&self.late_partials)
            )?;
        }
        Ok(())
    }
}

/// `text` as one word for a POSIX shell: as is when it is plain, in single quotes otherwise.
pub fn shell_word(text: &str) -> String {
    let plain = !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:@%+=,".contains(c));
    if plain {
        text.to_string()
    } else {
        format!("'{}'", text.replace('\'', r"'\''"))
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

/// Fails unless `out` does not exist or is an empty directory (nothing is created).
pub fn check_new_or_empty(out: &Path) -> anyhow::Result<()> {
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
    }
    Ok(())
}

/// Creates `out` (a new or empty directory, see [`check_new_or_empty`]).
fn prepare_dir(out: &Path) -> anyhow::Result<()> {
    check_new_or_empty(out)?;
    std::fs::create_dir_all(out).with_context(|| format!("could not create {}", out.display()))
}

/// How long [`export`] waits, by default, for the result's anchor transaction when the
/// service anchors on chain.
pub const DEFAULT_ANCHOR_WAIT: Duration = Duration::from_secs(120);

/// The election record's documents as the service's HTTP API serves them.
struct ClientSource<'a> {
    client: &'a ElectionClient,
    anchors: Option<Anchors>,
}

impl RecordSource for ClientSource<'_> {
    fn parameters(&mut self) -> anyhow::Result<SignedElectionParameters> {
        Ok(self.client.election_parameters()?)
    }

    fn credentials(&mut self) -> anyhow::Result<CredentialList> {
        Ok(self.client.credentials()?)
    }

    fn ceremony_names(&mut self) -> anyhow::Result<Vec<String>> {
        Ok(self.client.ceremony_messages()?)
    }

    fn ceremony_message(&mut self, name: &str) -> anyhow::Result<Vec<u8>> {
        self.client
            .ceremony_message(name)?
            .ok_or_else(|| anyhow!("the service lists the ceremony message {name} but has none"))
    }

    fn ballots(&mut self, out: &mut dyn std::io::Write) -> anyhow::Result<u64> {
        Ok(self.client.record_ballots(out)?)
    }

    fn tree_head(&mut self) -> anyhow::Result<SignedTreeHead> {
        Ok(self.client.head()?)
    }

    fn results(&mut self) -> anyhow::Result<Results> {
        Ok(self.client.results()?)
    }

    fn anchors(&mut self) -> anyhow::Result<Option<Anchors>> {
        Ok(self.anchors.take())
    }
}

/// Writes the record's documents into a new directory (created at the first document), each
/// synced as it is written.
struct DirSink<'a> {
    dir: &'a Path,
    created: bool,
}

impl DirSink<'_> {
    /// Creates `path` (a record path such as `ceremony/dealer-1.json`), never replacing a file.
    fn create(&mut self, path: &str) -> anyhow::Result<(PathBuf, File)> {
        if !self.created {
            prepare_dir(self.dir)?;
            self.created = true;
        }
        let file_path = self.dir.join(path);
        if let Some(parent) = file_path.parent().filter(|p| *p != self.dir) {
            if !parent.is_dir() {
                std::fs::create_dir(parent)
                    .with_context(|| format!("could not create {}", parent.display()))?;
            }
        }
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&file_path)
            .with_context(|| format!("could not create {}", file_path.display()))?;
        Ok((file_path, file))
    }
}

impl RecordSink for DirSink<'_> {
    fn document(&mut self, path: &str, bytes: &[u8]) -> anyhow::Result<()> {
        let (file_path, mut file) = self.create(path)?;
        file.write_all(bytes)
            .and_then(|()| file.sync_all())
            .with_context(|| format!("could not write {}", file_path.display()))
    }

    fn stream(
        &mut self,
        path: &str,
        fill: &mut dyn FnMut(&mut dyn std::io::Write) -> anyhow::Result<u64>,
    ) -> anyhow::Result<u64> {
        let (file_path, file) = self.create(path)?;
        let mut writer = BufWriter::new(file);
        let lines = fill(&mut writer)?;
        writer
            .into_inner()
            .map_err(|e| e.into_error())
            .and_then(|file| file.sync_all())
            .with_context(|| format!("could not write {}", file_path.display()))?;
        Ok(lines)
    }
}

/// When the service anchors on chain: waits (up to `wait`) until the result is anchored, and
/// answers `anchors.json` and the record digest the service anchored; `None` when the service
/// does not anchor.
fn anchored_result(
    client: &ElectionClient,
    wait: Duration,
) -> anyhow::Result<Option<(Anchors, String)>> {
    let started = Instant::now();
    let mut said = false;
    loop {
        let status = client.anchoring()?;
        if !status.enabled {
            return Ok(None);
        }
        let result = status
            .items
            .iter()
            .find(|item| item.kind == AnchorKind::Result);
        if let Some(item) = result.filter(|item| item.state == AnchorState::Done) {
            let digest = item
                .record_digest
                .clone()
                .ok_or_else(|| anyhow!("the service's anchored result names no record digest"))?;
            let anchors = client.anchors()?.ok_or_else(|| {
                anyhow!("the service anchors on chain but serves no anchors.json")
            })?;
            if anchors.result_transaction.is_none() {
                bail!("the service's anchors.json names no result transaction although the result is anchored");
            }
            return Ok(Some((anchors, digest)));
        }
        if started.elapsed() >= wait {
            let why = match result {
                None => "the service has not queued it yet".to_string(),
                Some(item) => format!(
                    "its transaction is {}{}",
                    item.state.as_str(),
                    item.last_error
                        .as_deref()
                        .map(|e| format!(" (last error: {e})"))
                        .unwrap_or_default()
                ),
            };
            bail!(
                "the result is not anchored on chain yet after {:.0?}: {why}. The record's \
                 anchors.json must name the result's transaction; see GET /v1/anchoring, then \
                 export again (or wait longer with --anchor-wait)",
                started.elapsed()
            );
        }
        if !said {
            eprintln!("waiting for the result's anchor transaction on chain …");
            said = true;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Downloads the election record of a tallied election from the service into `out` (a new or
/// empty directory), in the layout of spec/record.md ([`record::produce`], the very function
/// the service computes the anchored record digest with), then verifies it with the
/// independent verifier ([`crate::verify::verify_dir`], every check of spec/verification.md):
///
/// - `election.json`, the election parameters the board signed when voting opened;
/// - `credentials.json`, the credential list;
/// - `ceremony/<name>` for every ceremony message: the key ceremony's, the tally request and
///   the partial decryptions (those of trustees the results name as absent, which arrived after
///   the tally, are left out);
/// - `ballots.jsonl`, every board entry with its receipt, by index;
/// - `tree-head.json`, the board's final signed tree head, fixed at the close;
/// - `results.json`;
/// - `anchors.json` when the service anchors on chain: export then waits (up to
///   `anchor_wait`) until the result is anchored, so that `anchors.json` names the result's
///   transaction, and checks that the record it wrote has the digest the service anchored;
/// - `record.json` last: every other file with its size and SHA-256.
///
/// Every file is synced to disk as it is written.
///
/// # Errors
/// A directory that is not empty, an election that is not tallied (the record is complete only
/// after the tally), a result not anchored within `anchor_wait`, a service out of reach, a file
/// that cannot be written, a record whose digest is not the one anchored, or a record that
/// does not verify (the failing check's number and its detail; the directory is left for
/// inspection).
pub fn export(client: &ElectionClient, out: &Path) -> anyhow::Result<ExportSummary> {
    export_with(client, out, ExportOptions::default())
}

/// How [`export_with`] exports.
#[derive(Clone, Debug)]
pub struct ExportOptions {
    /// When the service anchors on chain: how long to wait for the result's anchor transaction.
    pub anchor_wait: Duration,
    /// The registry's evidence for the election, read from the chain by the caller: the
    /// verification then also compares the record with the chain (V20, V21).
    pub chain: Option<ChainEvidence>,
}

impl Default for ExportOptions {
    fn default() -> Self {
        Self {
            anchor_wait: DEFAULT_ANCHOR_WAIT,
            chain: None,
        }
    }
}

/// [`export`] with options: how long to wait for the result's anchor, and the chain's evidence
/// to verify the record against.
///
/// # Errors
/// As [`export`], and a record that disagrees with the chain's evidence.
pub fn export_with(
    client: &ElectionClient,
    out: &Path,
    options: ExportOptions,
) -> anyhow::Result<ExportSummary> {
    let ExportOptions { anchor_wait, chain } = options;
    let chain_checked = chain.is_some();
    check_new_or_empty(out)?;
    let info = client.election()?;
    if info.state != ElectionState::Tallied {
        bail!(
            "the election is not tallied yet: the record is complete only after the tally (the \
             election is {}; export it once `tabella election tally` has published the results)",
            info.state
        );
    }
    let anchored = anchored_result(client, anchor_wait)?;
    let (anchors, anchored_digest) = match anchored {
        Some((anchors, digest)) => (Some(anchors), Some(digest)),
        None => (None, None),
    };
    let mut source = ClientSource { client, anchors };
    let mut sink = DirSink {
        dir: out,
        created: false,
    };
    let produced = record::produce(info.election_id, &mut source, &mut sink)?;
    sync_dir(&out.join("ceremony"));
    sync_dir(out);
    if let Some(expected) = anchored_digest {
        let digest = hex::encode(produced.index.anchored_digest());
        if digest != expected {
            bail!(
                "the record written to {} has the digest {digest} (without anchors.json), but \
                 the service anchored {expected}: the service served other documents than those \
                 it anchored (the directory is left for inspection)",
                out.display()
            );
        }
    }

    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template(
            "{msg:>22} [{bar:40}] {bytes}/{total_bytes} ({bytes_per_sec}, eta {eta})",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    bar.set_message("verifying the record");
    let report = crate::verify::verify_dir(
        out,
        VerifyOptions {
            board_key: Some(info.board_key),
            chain,
            booth: None,
        },
        |done, total| {
            bar.set_length(total);
            bar.set_position(done);
        },
    );
    bar.finish_and_clear();
    let report = report?;
    if let Some(failed) = report.first_failure() {
        bail!(
            "the record written to {} does not verify: check {} ({}) {}: {} (see \
             spec/verification.md; the directory is left for inspection)",
            out.display(),
            failed.check.id(),
            failed.title,
            match failed.outcome {
                Outcome::Skipped => "was skipped",
                _ => "failed",
            },
            failed.detail.as_deref().unwrap_or("no detail")
        );
    }

    let mut listed: Vec<(String, u64)> = produced
        .index
        .files
        .iter()
        .map(|f| (f.path.clone(), f.size))
        .collect();
    listed.push((INDEX.to_string(), produced.index_bytes.len() as u64));
    Ok(ExportSummary {
        dir: out.to_path_buf(),
        files: listed,
        record_digest: hex::encode(produced.index.digest()),
        anchored_digest: produced
            .index
            .files
            .iter()
            .any(|f| f.path == ANCHORS)
            .then(|| hex::encode(produced.index.anchored_digest())),
        root: hex::encode(produced.head.head.root),
        ceremony_messages: produced.ceremony_messages,
        late_partials: produced.late_partials,
        chain_checked,
        report,
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
            "import-credentials",
            "--list",
            "dir/credentials.json",
            "--url",
            "http://h:1",
        ])
        .unwrap();
        assert!(matches!(
            &command,
            ElectionCommand::ImportCredentials { list, .. }
                if list == Path::new("dir/credentials.json")
        ));
        let command = parse(&["replace-credential", "--replacement", "r.json"]).unwrap();
        assert!(matches!(
            &command,
            ElectionCommand::ReplaceCredential { replacement, .. }
                if replacement == Path::new("r.json")
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
            &["import-credentials"],
            &["replace-credential"],
            &["import-roll", "--roll", "r.csv"],
            &["export"],
            &["status", "--token", "x"],
            &["frobnicate"],
        ] {
            assert!(parse(args).is_err(), "{args:?}");
        }
    }

    #[test]
    fn import_credentials_refuses_a_file_that_is_not_a_list_before_calling_the_service() {
        let dir = tempfile::tempdir().unwrap();
        let admin = AdminArgs {
            // Nothing listens there: an attempt to call would be a different error.
            service: ServiceArgs {
                url: "http://127.0.0.1:1".into(),
            },
            token: None,
        };
        let roll = dir.path().join("roll.csv");
        std::fs::write(&roll, "voter_id\nv1\n").unwrap();
        let error = import_credentials(&admin, &roll).unwrap_err();
        assert!(
            format!("{error:#}").contains("is not a public credential list"),
            "{error:#}"
        );
        let error = replace_credential(&admin, &dir.path().join("missing.json")).unwrap_err();
        assert!(format!("{error:#}").contains("could not read"), "{error:#}");
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
        // Nothing is created before the service has answered that the record is complete.
        let missing = dir.path().join("new-record");
        let error = export(&client, &missing).unwrap_err();
        assert!(
            format!("{error:#}").contains("could not reach"),
            "{error:#}"
        );
        assert!(!missing.exists());
    }

    #[test]
    fn shell_words_are_quoted_only_when_needed() {
        assert_eq!(shell_word("tabella-record-2"), "tabella-record-2");
        assert_eq!(shell_word("/tmp/x/record"), "/tmp/x/record");
        assert_eq!(shell_word("my record"), "'my record'");
        assert_eq!(shell_word("it's"), r"'it'\''s'");
        assert_eq!(shell_word(""), "''");
    }

    #[test]
    fn sizes_read_well() {
        assert_eq!(human_size(0), "0 B");
        assert_eq!(human_size(1023), "1023 B");
        assert_eq!(human_size(1536), "1.5 KiB");
        assert_eq!(human_size(5 * 1024 * 1024), "5.0 MiB");
    }
}
