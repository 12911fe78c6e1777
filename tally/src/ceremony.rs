//! The ceremonies as the officials and observers run them (`tabella ceremony …`), and the
//! message names and loading rules shared with the trustees' commands (`tabella trustee …`).
//!
//! Every ceremony message is a JSON document in a [`MessageStore`]: a directory carried between
//! air-gapped machines, or the ceremony service over HTTP (`tabella ceremony serve`). The store
//! is write-once, and everything a command reads it checks again: nothing is trusted because of
//! where it came from.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{anyhow, bail, Context as _};
use clap::{Args, Subcommand};
use serde::de::DeserializeOwned;
use serde::Serialize;
use tabella_crypto::ceremony::{
    combine, finalize, Announcement, CeremonyOutcome, CeremonyParams, CheckMessage, DealerMessage,
    PartialDecryptionMessage, TallyOutcome, TallyRequest,
};

use crate::messages::server::{self, ServerConfig};
use crate::messages::{
    open_store, wait_for, DirStore, MessageStore, Stored, ValidatingStore, Validator,
};

/// The ceremony parameters, written by the officials.
pub const CEREMONY: &str = "ceremony.json";
/// The tally request, written by the officials.
pub const TALLY_REQUEST: &str = "tally-request.json";

/// Trustee `i`'s dealer message.
pub fn dealer_name(i: u32) -> String {
    format!("dealer-{i}.json")
}

/// Trustee `j`'s check message.
pub fn check_name(j: u32) -> String {
    format!("check-{j}.json")
}

/// Trustee `j`'s partial decryption.
pub fn partial_name(j: u32) -> String {
    format!("partial-{j}.json")
}

/// Where a command finds the ceremony's messages: a directory or the ceremony service.
#[derive(Debug, Clone, Args)]
pub struct Location {
    /// Directory of ceremony message files (offline ceremonies: carry it between machines).
    #[arg(
        long,
        value_name = "DIR",
        required_unless_present = "url",
        conflicts_with = "url"
    )]
    pub dir: Option<PathBuf>,

    /// URL of the ceremony service, e.g. http://127.0.0.1:8080.
    #[arg(long, value_name = "URL")]
    pub url: Option<String>,

    /// Seconds to wait for messages that other trustees have not published yet.
    #[arg(long, value_name = "SECONDS", default_value_t = 0)]
    pub wait: u64,
}

impl Location {
    /// A directory location (for tests and the demo).
    pub fn dir(path: impl Into<PathBuf>) -> Self {
        Self {
            dir: Some(path.into()),
            url: None,
            wait: 0,
        }
    }

    /// A service location.
    pub fn url(url: impl Into<String>) -> Self {
        Self {
            dir: None,
            url: Some(url.into()),
            wait: 0,
        }
    }

    /// Opens the store, with the officials' token for admin documents when given. A directory
    /// refuses what the service would refuse: every new message is checked before it is written.
    pub fn open(&self, token: Option<String>) -> anyhow::Result<Box<dyn MessageStore>> {
        if let (Some(dir), None) = (&self.dir, &self.url) {
            let store: Arc<dyn MessageStore> = Arc::new(DirStore::open(dir)?);
            return Ok(Box::new(ValidatingStore::new(store, validator())));
        }
        Ok(open_store(self.dir.as_deref(), self.url.as_deref(), token)?)
    }
}

/// Reads and parses a message, `None` when it is not there.
pub fn load<T: DeserializeOwned>(
    store: &dyn MessageStore,
    name: &str,
) -> anyhow::Result<Option<T>> {
    match store.get(name)? {
        None => Ok(None),
        Some(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .with_context(|| format!("{name} in {} is not a valid message", store.describe())),
    }
}

/// Reads a message that must be there.
pub fn require<T: DeserializeOwned>(
    store: &dyn MessageStore,
    name: &str,
    hint: &str,
) -> anyhow::Result<T> {
    load(store, name)?.ok_or_else(|| anyhow!("{name} is not in {} yet: {hint}", store.describe()))
}

/// Publishes a message (idempotently: the same bytes again are fine).
pub fn publish<T: Serialize>(
    store: &dyn MessageStore,
    name: &str,
    value: &T,
) -> anyhow::Result<Stored> {
    let mut bytes = serde_json::to_vec_pretty(value)?;
    bytes.push(b'\n');
    store
        .put(name, &bytes)
        .with_context(|| format!("could not publish {name} to {}", store.describe()))
}

/// Waits up to `seconds` for `names` (no wait when 0); missing names are not an error here.
pub fn wait_up_to(store: &dyn MessageStore, names: &[String], seconds: u64) -> anyhow::Result<()> {
    if seconds == 0 {
        return Ok(());
    }
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    match wait_for(
        store,
        &refs,
        Duration::from_secs(seconds),
        Duration::from_millis(500),
    ) {
        Ok(()) | Err(crate::messages::StoreError::TimedOut { .. }) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// The ceremony parameters, checked.
pub fn load_params(store: &dyn MessageStore) -> anyhow::Result<CeremonyParams> {
    let params: CeremonyParams = require(
        store,
        CEREMONY,
        "the officials create the ceremony first (`tabella ceremony create`)",
    )?;
    params
        .validate(&mut rand::rngs::OsRng)
        .context("ceremony.json is invalid")?;
    Ok(params)
}

/// Loads the messages named `name(1..=n)`, listing the missing ones.
fn load_all<T: DeserializeOwned>(
    store: &dyn MessageStore,
    n: u32,
    name: fn(u32) -> String,
) -> anyhow::Result<(Vec<T>, Vec<u32>)> {
    let mut found = Vec::new();
    let mut missing = Vec::new();
    for i in 1..=n {
        match load(store, &name(i))? {
            Some(m) => found.push(m),
            None => missing.push(i),
        }
    }
    Ok((found, missing))
}

/// Every dealer message (all `n` are needed to go on).
pub fn load_dealers(
    store: &dyn MessageStore,
    params: &CeremonyParams,
    wait: u64,
) -> anyhow::Result<Vec<DealerMessage>> {
    let n = params.trustee_count() as u32;
    wait_up_to(store, &(1..=n).map(dealer_name).collect::<Vec<_>>(), wait)?;
    let (dealers, missing) = load_all(store, n, dealer_name)?;
    if !missing.is_empty() {
        bail!(
            "waiting for the dealer messages of trustee(s) {}: every trustee deals before shares can be checked (retry later, or pass --wait SECONDS)",
            list(&missing)
        );
    }
    Ok(dealers)
}

/// The key ceremony's messages and its outcome, recomputed from scratch. The key ceremony is
/// complete once every trustee's dealer and check messages are published.
pub struct KeyCeremony {
    /// The parameters.
    pub params: CeremonyParams,
    /// The dealer messages.
    pub dealers: Vec<DealerMessage>,
    /// The check messages.
    pub checks: Vec<CheckMessage>,
    /// The outcome.
    pub outcome: CeremonyOutcome,
}

impl KeyCeremony {
    /// Loads every message and resolves the ceremony.
    pub fn load(store: &dyn MessageStore, wait: u64) -> anyhow::Result<Self> {
        let params = load_params(store)?;
        let dealers = load_dealers(store, &params, wait)?;
        let n = params.trustee_count() as u32;
        wait_up_to(store, &(1..=n).map(check_name).collect::<Vec<_>>(), wait)?;
        let (checks, missing) = load_all(store, n, check_name)?;
        if !missing.is_empty() {
            bail!(
                "the key ceremony is not complete: waiting for the check messages of trustee(s) {}",
                list(&missing)
            );
        }
        let outcome = finalize(&params, &dealers, &checks, &mut rand::rngs::OsRng)
            .context("the key ceremony failed")?;
        Ok(Self {
            params,
            dealers,
            checks,
            outcome,
        })
    }
}

/// A list of trustee indices, for messages.
pub fn list(indices: &[u32]) -> String {
    indices
        .iter()
        .map(u32::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// `tabella ceremony …`: the officials' and observers' side.
#[derive(Debug, Subcommand)]
pub enum CeremonyCommand {
    /// Fix a key ceremony from the trustees' announcements and publish it (officials).
    Create {
        /// Where to publish.
        #[command(flatten)]
        location: Location,
        /// Number of trustees needed to decrypt the tally.
        #[arg(long, value_name = "T")]
        threshold: u32,
        /// Each trustee's announcement file (from `tabella trustee init`), in trustee order.
        #[arg(long = "announcement", value_name = "FILE", required = true)]
        announcements: Vec<PathBuf>,
        /// The officials' token for the ceremony service.
        #[arg(long, env = "TABELLA_ADMIN_TOKEN", hide_env_values = true)]
        token: Option<String>,
    },
    /// Show the state of the ceremonies and, once the key ceremony is complete, its outcome.
    Status {
        /// Where the messages are.
        #[command(flatten)]
        location: Location,
        /// Also write the key ceremony's outcome (JSON) to this file.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// Publish what the trustees are asked to decrypt (officials).
    Request {
        /// Where to publish.
        #[command(flatten)]
        location: Location,
        /// The tally request file: the aggregates under the joint key.
        #[arg(long, value_name = "FILE")]
        request: PathBuf,
        /// The officials' token for the ceremony service.
        #[arg(long, env = "TABELLA_ADMIN_TOKEN", hide_env_values = true)]
        token: Option<String>,
    },
    /// Verify the partial decryptions and combine any threshold of them into the totals.
    Combine {
        /// Where the messages are.
        #[command(flatten)]
        location: Location,
        /// Also write the result (JSON) to this file.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// Serve a ceremony directory over HTTP for trustees' `--url` (until Ctrl-C).
    Serve {
        /// The directory of ceremony messages (created if missing).
        #[arg(long, value_name = "DIR")]
        dir: PathBuf,
        /// Address to listen on.
        #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8080")]
        listen: String,
        /// The officials' token; without it, nobody can publish ceremony.json or
        /// tally-request.json over HTTP.
        #[arg(long, env = "TABELLA_ADMIN_TOKEN", hide_env_values = true)]
        token: Option<String>,
    },
}

/// Runs a `tabella ceremony` command.
pub fn run(command: &CeremonyCommand) -> anyhow::Result<()> {
    match command {
        CeremonyCommand::Create {
            location,
            threshold,
            announcements,
            token,
        } => {
            let store = location.open(token.clone())?;
            let params = create(&*store, *threshold, announcements)?;
            println!(
                "Ceremony {} published to {}: election {}, {} trustees, threshold {}.",
                params.id(),
                store.describe(),
                params.election_id,
                params.trustee_count(),
                params.threshold
            );
            for (i, a) in params.trustees.iter().enumerate() {
                println!(
                    "  trustee {}: {} (identity key {})",
                    i + 1,
                    a.name,
                    hex::encode(a.identity_key.to_bytes())
                );
            }
            Ok(())
        }
        CeremonyCommand::Status { location, out } => {
            let store = location.open(None)?;
            print_status(&*store, out.as_deref())
        }
        CeremonyCommand::Request {
            location,
            request,
            token,
        } => {
            let store = location.open(token.clone())?;
            let text = std::fs::read_to_string(request)
                .with_context(|| format!("could not read {}", request.display()))?;
            let request: TallyRequest = serde_json::from_str(&text)
                .with_context(|| format!("{} is not a tally request", request.display()))?;
            publish_request(&*store, &request)?;
            println!(
                "Tally request {} published to {}: {} aggregate totals, largest possible total {}.",
                request.digest(),
                store.describe(),
                request.items.len(),
                request.max_count
            );
            Ok(())
        }
        CeremonyCommand::Combine { location, out } => {
            let store = location.open(None)?;
            let result = combine_store(&*store, location.wait)?;
            print_tally(&result);
            if let Some(path) = out {
                write_json(path, &result)?;
            }
            Ok(())
        }
        CeremonyCommand::Serve { dir, listen, token } => serve(dir, listen, token.clone()),
    }
}

/// Checks the announcements and publishes `ceremony.json`.
pub fn create(
    store: &dyn MessageStore,
    threshold: u32,
    announcement_files: &[PathBuf],
) -> anyhow::Result<CeremonyParams> {
    let mut announcements = Vec::with_capacity(announcement_files.len());
    for path in announcement_files {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("could not read {}", path.display()))?;
        let a: Announcement = serde_json::from_str(&text)
            .with_context(|| format!("{} is not a trustee announcement", path.display()))?;
        announcements.push(a);
    }
    let Some(first) = announcements.first() else {
        bail!("a ceremony needs at least one trustee announcement");
    };
    let params = CeremonyParams::new(
        first.election_id,
        threshold,
        announcements,
        &mut rand::rngs::OsRng,
    )
    .context("the ceremony cannot be created")?;
    publish(store, CEREMONY, &params)?;
    Ok(params)
}

/// Checks a tally request against the key ceremony's outcome and publishes it.
pub fn publish_request(store: &dyn MessageStore, request: &TallyRequest) -> anyhow::Result<()> {
    let ceremony = KeyCeremony::load(store, 0)?;
    request
        .validate(&ceremony.outcome)
        .context("the tally request does not fit the key ceremony")?;
    publish(store, TALLY_REQUEST, request)?;
    Ok(())
}

/// Verifies and combines the published partial decryptions.
pub fn combine_store(store: &dyn MessageStore, wait: u64) -> anyhow::Result<TallyOutcome> {
    let ceremony = KeyCeremony::load(store, 0)?;
    let request: TallyRequest = require(
        store,
        TALLY_REQUEST,
        "the officials publish it once the election is closed (`tabella ceremony request`)",
    )?;
    let names: Vec<String> = ceremony
        .outcome
        .qualified
        .iter()
        .map(|&j| partial_name(j))
        .collect();
    wait_up_to(store, &names, wait)?;
    let mut partials: Vec<PartialDecryptionMessage> = Vec::new();
    for name in &names {
        if let Some(p) = load(store, name)? {
            partials.push(p);
        }
    }
    Ok(combine(
        &ceremony.params,
        &ceremony.outcome,
        &request,
        &partials,
        &mut rand::rngs::OsRng,
    )?)
}

fn print_tally(result: &TallyOutcome) {
    println!("Tally request {}", result.request);
    println!(
        "combined     trustees {} (Lagrange interpolation of their verified shares)",
        list(&result.combined)
    );
    if !result.spare.is_empty() {
        println!("also valid   trustees {} (not needed)", list(&result.spare));
    }
    for r in &result.rejected {
        println!("refused      trustee {}: {}", r.trustee, r.reason);
    }
    if !result.absent.is_empty() {
        println!("absent       trustees {}", list(&result.absent));
    }
    let width = result
        .totals
        .iter()
        .map(|(l, _)| l.len())
        .max()
        .unwrap_or(0);
    for (label, total) in &result.totals {
        println!("  {label:<width$}  {total:>10}");
    }
}

fn print_status(store: &dyn MessageStore, out: Option<&Path>) -> anyhow::Result<()> {
    let params = load_params(store)?;
    let n = params.trustee_count() as u32;
    println!(
        "Ceremony {} ({}): election {}, {} trustees, threshold {}",
        params.id(),
        store.describe(),
        params.election_id,
        n,
        params.threshold
    );
    let present = store.list()?;
    let has = |name: String| present.binary_search(&name).is_ok();
    for (i, a) in params.trustees.iter().enumerate() {
        let j = i as u32 + 1;
        let mark = |b: bool| if b { "yes" } else { "no " };
        println!(
            "  trustee {j:>2} {:<20} dealt {}  checked {}  decrypted {}",
            a.name,
            mark(has(dealer_name(j))),
            mark(has(check_name(j))),
            mark(has(partial_name(j))),
        );
    }
    match KeyCeremony::load(store, 0) {
        Ok(ceremony) => {
            let o = &ceremony.outcome;
            println!("key ceremony complete");
            println!("  joint key   {}", hex::encode(o.joint_key.to_bytes()));
            println!("  qualified   trustees {}", list(&o.qualified));
            for d in &o.disqualified {
                println!("  disqualified trustee {}: {}", d.trustee, d.fault);
            }
            if let Some(path) = out {
                write_json(path, o)?;
                println!("  outcome written to {}", path.display());
            }
        }
        Err(e) => println!("key ceremony not complete: {e:#}"),
    }
    if has(TALLY_REQUEST.to_owned()) {
        println!("tally request published");
    }
    Ok(())
}

/// Writes a JSON document to a file.
pub fn write_json<T: Serialize>(path: &Path, value: &T) -> anyhow::Result<()> {
    let mut bytes = serde_json::to_vec_pretty(value)?;
    bytes.push(b'\n');
    std::fs::write(path, bytes).with_context(|| format!("could not write {}", path.display()))
}

/// What the ceremony service accepts: each document is checked against those before it, so a
/// malformed, unsigned or misplaced message is refused at the door with the reason.
pub fn validator() -> Validator {
    Arc::new(|name: &str, bytes: &[u8], store: &dyn MessageStore| {
        validate_document(name, bytes, store).map_err(|e| format!("{e:#}"))
    })
}

/// `N` of `{prefix}N.json`, in its canonical spelling only (`dealer-01.json` is not a message).
fn numbered(name: &str, prefix: &str) -> Option<u32> {
    let n: u32 = name
        .strip_prefix(prefix)?
        .strip_suffix(".json")?
        .parse()
        .ok()?;
    (format!("{prefix}{n}.json") == name).then_some(n)
}

fn parse<T: DeserializeOwned>(name: &str, bytes: &[u8]) -> anyhow::Result<T> {
    serde_json::from_slice(bytes).with_context(|| format!("{name} is not a valid message"))
}

fn validate_document(name: &str, bytes: &[u8], store: &dyn MessageStore) -> anyhow::Result<()> {
    let rng = &mut rand::rngs::OsRng;
    if name == CEREMONY {
        let params: CeremonyParams = parse(name, bytes)?;
        return Ok(params.validate(rng)?);
    }
    if name == TALLY_REQUEST {
        let request: TallyRequest = parse(name, bytes)?;
        let ceremony = KeyCeremony::load(store, 0)?;
        return Ok(request.validate(&ceremony.outcome)?);
    }
    if let Some(i) = numbered(name, "dealer-") {
        let m: DealerMessage = parse(name, bytes)?;
        if m.dealer != i {
            bail!(
                "{name} must hold trustee {i}'s dealer message, not trustee {}'s",
                m.dealer
            );
        }
        let params = load_params(store)?;
        return m
            .validate(&params, rng)
            .map_err(|e| anyhow!("dealer message refused: {e}"));
    }
    if let Some(j) = numbered(name, "check-") {
        let m: CheckMessage = parse(name, bytes)?;
        if m.trustee != j {
            bail!(
                "{name} must hold trustee {j}'s check message, not trustee {}'s",
                m.trustee
            );
        }
        let params = load_params(store)?;
        return m
            .validate(&params, rng)
            .map_err(|e| anyhow!("check message refused: {e}"));
    }
    if let Some(j) = numbered(name, "partial-") {
        let m: PartialDecryptionMessage = parse(name, bytes)?;
        if m.trustee != j {
            bail!(
                "{name} must hold trustee {j}'s partial decryption, not trustee {}'s",
                m.trustee
            );
        }
        let ceremony = KeyCeremony::load(store, 0)?;
        let request: TallyRequest = require(store, TALLY_REQUEST, "no tally has been requested")?;
        return m
            .validate(&ceremony.params, &ceremony.outcome, &request, rng)
            .map_err(|e| anyhow!("partial decryption refused: {e}"));
    }
    bail!("{name} is not a ceremony message name (ceremony.json, dealer-N.json, check-N.json, tally-request.json, partial-N.json)")
}

/// The service configuration for a ceremony directory.
pub fn server_config(token: Option<String>) -> ServerConfig {
    ServerConfig {
        admin_token: token,
        admin_names: vec![CEREMONY.to_owned(), TALLY_REQUEST.to_owned()],
        validator: validator(),
        ..ServerConfig::default()
    }
}

fn serve(dir: &Path, listen: &str, token: Option<String>) -> anyhow::Result<()> {
    let store: Arc<dyn MessageStore> = Arc::new(DirStore::open(dir)?);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("could not start the service runtime")?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .with_context(|| format!("could not listen on {listen}"))?;
        let addr = listener.local_addr()?;
        println!(
            "Ceremony service for {} on http://{addr} (Ctrl-C to stop){}",
            dir.display(),
            if token.is_some() { "" } else { "; no admin token: ceremony.json and tally-request.json cannot be published over HTTP" }
        );
        let router = server::router(store, server_config(token));
        server::serve(listener, router, async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
        .context("the ceremony service failed")
    })
}
