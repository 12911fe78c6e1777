//! `tabella demo`: a whole election on embedded defaults, through the real HTTP API.
//!
//! The demo starts the election service (`tabella serve`) on 127.0.0.1 with an SQLite database in
//! a data directory, then plays every part through HTTP as separate clients: the officials create
//! the election, the trustees run the key ceremony (each with its own client), a registrar makes
//! the voters' credentials off the server (letters, e-mails) and the officials import the public
//! list, the simulated voters cast ballots concurrently (some challenge a ballot first, some vote
//! twice),
//! the officials close the election, the present trustees decrypt the aggregate, and the results
//! are printed. The election record (spec/record.md) is then exported into a directory that
//! outlives the demo (`--record`, by default `tabella-record` in the current directory) and
//! verified with the independent verifier (every check of spec/verification.md); the demo prints
//! the `tabella verify` command that re-checks it. Unless `--no-serve`, the service then keeps
//! serving until Ctrl-C so the board can be browsed.
//!
//! The service anchors the election on a chain (spec/anchoring.md): by default the embedded
//! chain (revm running the registry's compiled bytecode), whose state the demo keeps next to the
//! record (`<record>-chain`, or `chain` in `--data-dir`), or a real node with `--rpc-url`;
//! `--no-chain` turns anchoring off. The demo prints each anchor transaction as it lands, has one
//! voter cast through the contract instead of the board (fallback casting, from a development
//! account other than the operator's), moves the development chain's clock to the registered
//! close, and checks the record against the chain's evidence.
//!
//! The voters' choices and encryptions come from `--seed` (printed, so a run can be replayed);
//! credential codes and every key are drawn from the operating system, as in a real election.

mod chain;
mod credentials;
pub mod stop;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};
use clap::{Args, ValueEnum};
use rand::RngCore;
use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha20Rng;
use secrecy::SecretString;
use tabella_crypto::ballot::ElectionContext;
use tabella_crypto::board::merkle;
use tabella_crypto::ceremony::{CeremonyParams, TrusteeIdentity, MAX_TRUSTEES};
use tabella_crypto::manifest::{ContestStyle, Manifest};

use crate::ceremony::{publish, CEREMONY};
use crate::client::ElectionClient;
use crate::messages::{HttpStore, MessageStore};
use crate::service::{self, Limits, ServiceConfig};
use crate::simulate::{self, SimulationParams};
pub use stop::{Signal, Stop, Waited};

/// Options of `tabella demo`.
#[derive(Debug, Clone, PartialEq, Eq, Args)]
pub struct DemoOptions {
    /// Number of voters who cast a ballot.
    #[arg(long, value_name = "N", default_value_t = 1000)]
    pub voters: u64,

    /// Seed of the voters' choices and encryptions, for a reproducible run (random when absent).
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,

    /// Which contests the demo election holds.
    #[arg(long, value_enum, default_value_t = ContestSet::All)]
    pub contests: ContestSet,

    /// Number of trustees in the key ceremony.
    #[arg(long, value_name = "N", default_value_t = 5)]
    pub trustees: u32,

    /// Number of trustees needed to decrypt the tally.
    #[arg(long, value_name = "T", default_value_t = 3)]
    pub threshold: u32,

    /// Number of trustees who take part in the key ceremony but are missing at the tally.
    #[arg(long, value_name = "K", default_value_t = 0)]
    pub absent: u32,

    /// Voters casting at the same time.
    #[arg(long, value_name = "C", default_value_t = 8)]
    pub concurrency: usize,

    /// Directory for the service's database, board key and the voters' receipts (default: a
    /// fresh temporary directory, removed at the end).
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,

    /// Directory to write the election record to; it must be new or empty, and is kept (default:
    /// tabella-record in the current directory, or the first of tabella-record-2,
    /// tabella-record-3, … that is new or empty).
    #[arg(long, value_name = "DIR")]
    pub record: Option<PathBuf>,

    /// Address the service listens on.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:0")]
    pub listen: String,

    /// Stop the service once the election is verified instead of serving until Ctrl-C.
    #[arg(long)]
    pub no_serve: bool,

    /// Anchor nothing: run the demo without a chain.
    #[arg(long, conflicts_with_all = ["rpc_url", "signer_key_file", "registry"])]
    pub no_chain: bool,

    /// Anchor on the chain behind this Ethereum JSON-RPC endpoint instead of the embedded
    /// chain (a development node such as Hardhat's: the demo moves its clock to the close).
    #[arg(long, value_name = "URL", requires = "signer_key_file")]
    pub rpc_url: Option<String>,

    /// With --rpc-url: the operator's key (hex), an account the node has funded.
    #[arg(long, value_name = "FILE")]
    pub signer_key_file: Option<PathBuf>,

    /// The registry contract's address (0x…); default: the service deploys one.
    #[arg(long, value_name = "0xADDRESS")]
    pub registry: Option<String>,

    /// Serve this built web ballot (`cargo xtask booth` writes it to `target/booth/dist`): the
    /// service publishes its digest in the manifest, and the demo keeps voting open for people
    /// to vote in it at the printed address with spare credential codes.
    #[arg(long, value_name = "DIR")]
    pub booth: Option<PathBuf>,

    /// With --booth: keep voting open this many seconds for people to vote in the booth, then
    /// close and count, without waiting for Enter at a terminal (so the demo can run as a
    /// background service). SIGTERM or Ctrl-C stops the demo at any time and removes its
    /// temporary files.
    #[arg(long, value_name = "SECONDS", requires = "booth")]
    pub hold_open: Option<u64>,

    /// With --booth: credential codes kept back from the simulated voters, printed for people
    /// to vote in the booth.
    #[arg(long, value_name = "N", default_value_t = 3)]
    pub spare_codes: u64,

    /// E-mail the voters their codes through this SMTP server (`smtp://host:port` with
    /// STARTTLS, `smtps://` with TLS; `?tls=none` for a loopback relay only). Without it, the
    /// e-mails are written as files into the registrar's outbox.
    #[arg(long, value_name = "URL")]
    pub smtp_url: Option<String>,

    /// With --smtp-url: a PEM certificate to trust as well (a private CA or a test server's).
    #[arg(long, value_name = "FILE", requires = "smtp_url")]
    pub smtp_ca_file: Option<PathBuf>,
}

impl Default for DemoOptions {
    fn default() -> Self {
        Self {
            voters: 1000,
            seed: None,
            contests: ContestSet::All,
            trustees: 5,
            threshold: 3,
            absent: 0,
            concurrency: 8,
            data_dir: None,
            record: None,
            listen: "127.0.0.1:0".to_string(),
            no_serve: false,
            no_chain: false,
            rpc_url: None,
            signer_key_file: None,
            registry: None,
            booth: None,
            hold_open: None,
            spare_codes: 3,
            smtp_url: None,
            smtp_ca_file: None,
        }
    }
}

impl DemoOptions {
    /// The seed of this run: `--seed` when given, otherwise a fresh one from the operating system.
    ///
    /// Call it once and report the value, so the run can be replayed with `--seed`.
    pub fn resolve_seed(&self) -> u64 {
        self.seed.unwrap_or_else(|| rand::rngs::OsRng.next_u64())
    }

    /// The random number generator of a run with this `seed`.
    pub fn rng(seed: u64) -> ChaCha20Rng {
        ChaCha20Rng::seed_from_u64(seed)
    }

    fn check(&self) -> anyhow::Result<()> {
        if self.voters == 0 {
            bail!("the demo needs at least one voter (--voters 1 or more)");
        }
        if self.trustees == 0 || self.trustees as usize > MAX_TRUSTEES {
            bail!("--trustees must be between 1 and {MAX_TRUSTEES}");
        }
        if self.threshold == 0 || self.threshold > self.trustees {
            bail!(
                "--threshold must be between 1 and the number of trustees ({})",
                self.trustees
            );
        }
        if self.absent > self.trustees {
            bail!(
                "--absent cannot exceed the number of trustees ({})",
                self.trustees
            );
        }
        if self.concurrency == 0 {
            bail!("--concurrency must be at least 1");
        }
        if self.booth.is_some() && self.spare_codes >= self.voters {
            bail!(
                "--spare-codes ({}) must leave at least one of the {} voters to the simulation",
                self.spare_codes,
                self.voters
            );
        }
        Ok(())
    }
}

/// The contests of the demo election.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ContestSet {
    /// Plurality contests only (choose one): every selection is proved with 0/1 proofs.
    Plurality,
    /// Every contest style the crypto core supports, ranged selections and their range proofs
    /// included.
    All,
}

/// The default name of the demo's record directory, in the current directory.
pub const DEFAULT_RECORD_DIR: &str = "tabella-record";

/// The directory the demo writes its record to: `--record`, which must be new or empty; else
/// [`DEFAULT_RECORD_DIR`] in the current directory, or the first of `tabella-record-2`,
/// `tabella-record-3`, … that is new or empty. Nothing is created here.
///
/// # Errors
/// A `--record` directory that is not empty, or no free default name.
pub fn record_dir(opts: &DemoOptions) -> anyhow::Result<PathBuf> {
    match &opts.record {
        Some(dir) => {
            crate::election::check_new_or_empty(dir)
                .context("choose another --record directory")?;
            Ok(dir.clone())
        }
        None => free_record_dir(Path::new("")),
    }
}

/// The first of `base/tabella-record`, `base/tabella-record-2`, … that is new or empty.
fn free_record_dir(base: &Path) -> anyhow::Result<PathBuf> {
    const TRIES: u32 = 1000;
    for n in 1..=TRIES {
        let dir = base.join(if n == 1 {
            DEFAULT_RECORD_DIR.to_string()
        } else {
            format!("{DEFAULT_RECORD_DIR}-{n}")
        });
        if crate::election::check_new_or_empty(&dir).is_ok() {
            return Ok(dir);
        }
    }
    bail!(
        "{DEFAULT_RECORD_DIR} to {DEFAULT_RECORD_DIR}-{TRIES} all hold records in {}: remove \
         old ones or give --record DIR",
        if base.as_os_str().is_empty() {
            Path::new(".")
        } else {
            base
        }
        .display()
    )
}

/// The embedded chain's directory of a demo whose data directory is temporary: next to the
/// record, `<record>-chain`, so that the record can be checked against it afterwards.
pub fn chain_dir_for(record_dir: &Path) -> PathBuf {
    let mut name = record_dir
        .file_name()
        .map_or_else(|| DEFAULT_RECORD_DIR.into(), |n| n.to_os_string());
    name.push("-chain");
    record_dir.with_file_name(name)
}

/// The embedded default manifest of the demo election.
pub const DEFAULT_MANIFEST: &str = include_str!("manifest.json");

/// Share of voters who challenge (Benaloh) one encryption before casting, in percent.
const SPOIL_PERCENT: u8 = 2;
/// Share of voters who cast twice (only the last ballot counts), in percent.
const REVOTE_PERCENT: u8 = 3;
/// Receipts whose inclusion the demo checks against a signed tree head, as voters' trackers do.
const TRACKED_RECEIPTS: usize = 25;

/// The demo manifest for a contest set.
pub fn manifest(contests: ContestSet) -> anyhow::Result<Manifest> {
    let mut manifest =
        Manifest::from_json(DEFAULT_MANIFEST).context("the embedded demo manifest is invalid")?;
    if contests == ContestSet::Plurality {
        manifest
            .contests
            .retain(|c| c.style == ContestStyle::Plurality);
        let kept: std::collections::BTreeSet<String> =
            manifest.contests.iter().map(|c| c.id.clone()).collect();
        for translation in manifest.translations.values_mut() {
            translation.contests.retain(|id, _| kept.contains(id));
        }
    }
    manifest.validate()?;
    Ok(manifest)
}

/// Random valid choices for every contest of `manifest`.
pub fn random_choices(manifest: &Manifest, rng: &mut impl RngCore) -> Vec<Vec<u64>> {
    manifest
        .contests
        .iter()
        .map(|contest| {
            let n = contest.selections.len();
            // Voters lean towards the first options, so the result is not a flat line.
            let pick = |rng: &mut dyn RngCore| {
                let a = rng.next_u64() % n as u64;
                let b = rng.next_u64() % n as u64;
                a.min(b) as usize
            };
            match contest.style {
                ContestStyle::Plurality => {
                    let mut v = vec![0; n];
                    v[pick(rng)] = 1;
                    v
                }
                ContestStyle::Approval { min, max } => {
                    let span = u64::from(max - min) + 1;
                    let k = u64::from(min) + rng.next_u64() % span;
                    let mut v = vec![0; n];
                    while v.iter().sum::<u64>() < k {
                        v[pick(rng)] = 1;
                    }
                    v
                }
                ContestStyle::Score { max_score } => (0..n)
                    .map(|j| (rng.next_u64() % (max_score + 1)).saturating_sub(j as u64 % 2))
                    .collect(),
                ContestStyle::Cumulative {
                    max_per_selection,
                    budget,
                } => {
                    let mut v = vec![0; n];
                    let points = rng.next_u64() % (budget + 1);
                    for _ in 0..points {
                        let j = pick(rng);
                        if v[j] < max_per_selection {
                            v[j] += 1;
                        }
                    }
                    v
                }
            }
        })
        .collect()
}

/// Voting is open and the simulated voters have voted: what [`DemoHooks::voting_open`] gets.
#[derive(Debug)]
pub struct VotingOpen<'a> {
    /// The service's base URL (`http://127.0.0.1:PORT`).
    pub url: &'a str,
    /// The officials' admin token.
    pub admin_token: &'a str,
    /// The election's manifest, as the service publishes it.
    pub manifest: &'a Manifest,
    /// Credential codes no simulated voter used (`--spare-codes`; none without `--booth`).
    pub spare_codes: &'a [crate::api::IssuedCredential],
    /// Ends a wait early when SIGTERM or Ctrl-C comes.
    pub stop: &'a Stop,
}

/// The error [`DemoHooks::voting_open`] returns when a signal stopped the demo while voting was
/// held open: the demo then stops its service and removes its temporary files, and `run`
/// answers `Ok`.
#[derive(Debug, thiserror::Error)]
#[error("stopped by {}", .0.name())]
pub struct Stopped(pub Signal);

/// The ballots cast while [`DemoHooks::voting_open`] held voting open, for the demo's tally
/// check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BoothBallots {
    /// The choices (manifest order) of each ballot cast meanwhile that counts, e.g. by a test
    /// driving the booth: the demo's check covers them exactly.
    Known(Vec<Vec<Vec<u64>>>),
    /// People may have voted in the booth: their choices are secret, so the demo checks only
    /// that the tally covers the simulated voters' choices (the verifier still checks every
    /// ballot, and that the decryption is right).
    Unknown,
}

/// The election is over: its record exported and verified. What [`DemoHooks::finished`] gets.
#[derive(Debug)]
pub struct Finished<'a> {
    /// The service's base URL, still serving.
    pub url: &'a str,
    /// The officials' admin token.
    pub admin_token: &'a str,
    /// The published results.
    pub results: &'a crate::api::Results,
    /// Where the record was written.
    pub record_dir: &'a Path,
}

/// What happens at the demo's two pauses: while voting is open (after the simulated voters),
/// and once the record is verified (before the service stops or keeps serving). `tabella demo`
/// prints where to vote and, at a terminal, waits for Enter; the browser tests drive the booth.
pub trait DemoHooks {
    /// Voting is open. Returns the ballots cast meanwhile.
    ///
    /// # Errors
    /// Ends the demo with that error.
    fn voting_open(&mut self, open: &VotingOpen<'_>) -> anyhow::Result<BoothBallots>;

    /// The election is over and its record verified. Nothing by default.
    ///
    /// # Errors
    /// Ends the demo with that error.
    fn finished(&mut self, done: &Finished<'_>) -> anyhow::Result<()> {
        let _ = done;
        Ok(())
    }
}

/// `tabella demo`'s hooks: with a booth, print where and with which codes to vote; hold voting
/// open for `--hold-open` seconds, or, when a person is at the terminal and the service keeps
/// serving, until Enter.
struct Console {
    interactive: bool,
    hold_open: Option<Duration>,
}

impl DemoHooks for Console {
    fn voting_open(&mut self, open: &VotingOpen<'_>) -> anyhow::Result<BoothBallots> {
        if open.spare_codes.is_empty() {
            return Ok(BoothBallots::Known(Vec::new()));
        }
        println!(
            "booth        vote in your browser at {}/booth with one of these credential codes:",
            open.url
        );
        for code in open.spare_codes {
            println!("               {}", code.code);
        }
        println!(
            "             track a ballot at {0}/tracker; officials' dashboard at {0}/officials (admin token {1})",
            open.url, open.admin_token
        );
        if let Some(hold) = self.hold_open {
            println!(
                "             Voting stays open for {} s, then closes and is counted (SIGTERM or Ctrl-C stops the demo).",
                hold.as_secs()
            );
            return match open.stop.wait(Some(hold)) {
                Waited::Elapsed => Ok(BoothBallots::Unknown),
                Waited::Stopped(signal) => Err(Stopped(signal).into()),
            };
        }
        if !self.interactive {
            return Ok(BoothBallots::Known(Vec::new()));
        }
        println!("             Voting stays open: press Enter to close it and count.");
        let mut line = String::new();
        std::io::stdin()
            .read_line(&mut line)
            .context("could not read the terminal")?;
        Ok(BoothBallots::Unknown)
    }
}

/// Runs the demo election described by `opts`, as `tabella demo` does: with `--booth`, it
/// prints where to vote and, at a terminal (unless `--no-serve`), holds voting open until Enter.
///
/// # Errors
///
/// Any step of the election that fails, and any check that does not pass: the decrypted tally
/// must equal the tally of the choices the simulated voters made, and the exported record must
/// pass every check of the independent verifier.
pub fn run(opts: &DemoOptions) -> anyhow::Result<()> {
    use std::io::IsTerminal as _;
    let mut console = Console {
        interactive: !opts.no_serve && opts.booth.is_some() && std::io::stdin().is_terminal(),
        hold_open: opts.hold_open.map(Duration::from_secs),
    };
    run_with(opts, &mut console)
}

/// Runs the demo election described by `opts`, calling `hooks` while voting is open and once
/// the record is verified.
///
/// # Errors
///
/// As [`run`]; the ballots [`DemoHooks::voting_open`] reports are part of the tally check.
pub fn run_with(opts: &DemoOptions, hooks: &mut dyn DemoHooks) -> anyhow::Result<()> {
    opts.check()?;
    let record_dir = record_dir(opts)?;
    let started = Instant::now();
    let seed = opts.resolve_seed();
    println!("Tabella demonstration election (seed {seed}; replay the voters' choices with --seed {seed})");
    println!();

    // The service, on embedded defaults: SQLite in a data directory.
    let temp;
    let data_dir = match &opts.data_dir {
        Some(dir) => {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("could not create {}", dir.display()))?;
            dir.clone()
        }
        None => {
            temp = tempfile::Builder::new()
                .prefix("tabella-demo-")
                .tempdir()
                .context("could not create a temporary data directory")?;
            temp.path().to_path_buf()
        }
    };
    let stop = Stop::watch(opts.data_dir.is_none().then(|| data_dir.clone()))?;
    if data_dir.join(service::DATABASE_FILE).exists() {
        bail!(
            "{} already holds an election; give the demo an empty --data-dir",
            data_dir.display()
        );
    }
    let mut token = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut token);
    let token = hex::encode(token);
    // The embedded chain's state outlives a temporary data directory: the record is checked
    // against it afterwards.
    let chain_dir = match &opts.data_dir {
        Some(dir) => service::chain_dir(dir),
        None => chain_dir_for(&record_dir),
    };
    let mut chain = chain::DemoChain::open(opts, &chain_dir)?;
    let anchoring = chain.as_mut().map(|c| c.service_config()).transpose()?;
    let service = service::spawn(
        ServiceConfig {
            database_url: service::sqlite_url(&data_dir),
            board_key: service::load_or_create_board_key(&data_dir.join(service::BOARD_KEY_FILE))?,
            admin_token: Some(SecretString::from(token.clone())),
            limits: Limits::default(),
            anchoring,
            booth: opts
                .booth
                .as_deref()
                .map(|dir| {
                    service::Booth::load(dir).with_context(|| {
                        format!("refusing to serve the booth in {}", dir.display())
                    })
                })
                .transpose()?,
        },
        &opts.listen,
    )?;
    let url = service.url();
    println!(
        "service      {url} (SQLite database in {})",
        data_dir.display()
    );
    match &chain {
        Some(chain) => println!("chain        {}", chain.describe()),
        None => println!("chain        none (--no-chain): nothing is anchored"),
    }

    // Officials: create the election.
    let officials = ElectionClient::new(&url, Some(token.clone()))?;
    let manifest = manifest(opts.contests)?;
    let (info, _) = officials.create(&manifest)?;
    let election_id = info.election_id;
    println!(
        "election     {election_id}: {} ({} contests, manifest {})",
        manifest.title,
        manifest.contests.len(),
        info.manifest_hash
    );
    println!("board key    {}", info.board_key);

    // Trustees: identities and announcements; officials publish the ceremony; then each
    // trustee deals and checks through its own client, all at once.
    let identities: Vec<TrusteeIdentity> = (0..opts.trustees)
        .map(|_| TrusteeIdentity::generate(&mut rand::rngs::OsRng))
        .collect();
    let announcements = identities
        .iter()
        .enumerate()
        .map(|(i, id)| id.announce(election_id, &trustee_name(i), &mut rand::rngs::OsRng))
        .collect::<Result<Vec<_>, _>>()?;
    let params = CeremonyParams::new(
        election_id,
        opts.threshold,
        announcements,
        &mut rand::rngs::OsRng,
    )?;
    let officials_store = HttpStore::new(&url, Some(token.clone()))?;
    publish(&officials_store, CEREMONY, &params)?;
    let key_started = Instant::now();
    trustees_step(&url, &identities, |store, identity| {
        crate::trustee::deal_step(store, identity)?;
        crate::trustee::check_step(store, identity, 600)
    })?;
    println!(
        "trustees     {} ({}), threshold {}: key ceremony {} over HTTP in {:.1?}, every share checked",
        opts.trustees,
        (0..identities.len()).map(trustee_name).collect::<Vec<_>>().join(", "),
        opts.threshold,
        params.id(),
        key_started.elapsed()
    );

    // The registrar, off the server: every code drawn and every key derived here, letters
    // printed and e-mails sent; only the public credential list goes to the service.
    let codes =
        credentials::registrar_step(opts, &data_dir, &manifest, &url, election_id, &officials)?;
    let info = officials.open()?;
    let joint = info
        .joint_key
        .context("the open election publishes no joint key")?;
    println!("joint key    {}", hex::encode(joint.to_bytes()));
    let ctx = ElectionContext::new(election_id, info.manifest.clone(), joint)
        .context("the service's manifest is not valid")?;

    // On chain: the registration lands, then one voter casts through the contract instead of
    // the board (fallback casting); the others vote over HTTP.
    // With a booth, the last codes are kept for people to vote with.
    let spare = if opts.booth.is_some() {
        usize::try_from(opts.spare_codes).unwrap_or(usize::MAX)
    } else {
        0
    };
    let (mut codes, spare_codes) = codes.split_at(codes.len().saturating_sub(spare));
    let mut fallback_choices = None;
    if let Some(chain) = &mut chain {
        chain.wait_for(&officials, crate::api::AnchorKind::Election, None)?;
        chain.print_registry(&officials)?;
        if let Some((voter, rest)) = codes.split_last().filter(|(_, rest)| !rest.is_empty()) {
            let mut rng = DemoOptions::rng(seed ^ 0xfa11_bac4);
            let choices = random_choices(&manifest, &mut rng);
            chain.cast_fallback(&officials, &ctx, voter, &choices, &mut rng)?;
            fallback_choices = Some(choices);
            codes = rest;
        }
    }
    println!();

    // Voters: each derives its credential from its code, encrypts, proves, signs and casts.
    let receipts_path = data_dir.join("receipts.jsonl");
    let mut receipts = std::io::BufWriter::new(
        std::fs::File::create(&receipts_path)
            .with_context(|| format!("could not create {}", receipts_path.display()))?,
    );
    let report = simulate::simulate(
        &url,
        codes,
        &SimulationParams {
            concurrency: opts.concurrency,
            seed,
            spoil_percent: SPOIL_PERCENT,
            revote_percent: REVOTE_PERCENT,
            quiet: false,
        },
        &mut receipts,
    )?;
    std::io::Write::flush(&mut receipts)?;
    if !report.rejected.is_empty() {
        bail!(
            "the board refused ballots of honest voters: {:?}",
            report.rejected
        );
    }
    report.print();
    let booth_ballots = match hooks.voting_open(&VotingOpen {
        url: &url,
        admin_token: &token,
        manifest: &info.manifest,
        spare_codes,
        stop: &stop,
    }) {
        Ok(ballots) => ballots,
        Err(e) => {
            if let Some(Stopped(signal)) = e.downcast_ref::<Stopped>() {
                println!();
                println!(
                    "Stopped by {} while voting was open: the election is not counted.",
                    signal.name()
                );
                service.shutdown()?;
                if opts.data_dir.is_none() {
                    println!("The demo's temporary files are removed.");
                }
                return Ok(());
            }
            return Err(e);
        }
    };
    println!();

    // Officials close; the service verifies and aggregates the counted ballots. On chain, not
    // before the registered close: the development chain's clock moves there.
    if let Some(chain) = &mut chain {
        chain.print_new(&officials)?;
        chain.advance_to_close(&officials)?;
    }
    officials.close()?;
    let bar = progress(report.voters, "verifying ballots");
    let close_started = Instant::now();
    let closed = officials.wait_for_aggregation(|a| {
        bar.set_length(a.total);
        bar.set_position(a.done);
    })?;
    bar.finish_and_clear();
    println!(
        "close        {} counted ballots verified and added in {:.1?}; board {} entries ({} superseded, {} spoiled)",
        closed.board.counted,
        close_started.elapsed(),
        closed.board.size,
        closed.board.superseded,
        closed.board.spoiled
    );
    if let Some(chain) = &mut chain {
        if let Some(anchors) = officials.anchors()? {
            for taken in &anchors.fallback {
                println!(
                    "fallback     the ballot cast through the contract (chain index {}) is on the board as entry {}",
                    taken.chain_index, taken.index
                );
            }
            for refused in &anchors.rejected {
                println!(
                    "fallback     the ballot cast through the contract (chain index {}) was refused: {}",
                    refused.chain_index, refused.reason
                );
            }
        }
        chain.wait_for(
            &officials,
            crate::api::AnchorKind::Checkpoint,
            Some(closed.board.size),
        )?;
    }

    // Tally: the present trustees decrypt the aggregate; any `threshold` of them suffice.
    let present = (opts.trustees - opts.absent) as usize;
    trustees_step(&url, &identities[..present], |store, identity| {
        crate::trustee::decrypt_step(store, identity, 600, false)
    })?;
    let results = officials.tally()?;
    println!(
        "tally        combined trustees {} by Lagrange interpolation; absent: {}",
        crate::ceremony::list(&results.combined),
        if results.absent.is_empty() {
            "none".to_string()
        } else {
            crate::ceremony::list(&results.absent)
        }
    );
    if let Some(chain) = &mut chain {
        chain.wait_for(&officials, crate::api::AnchorKind::Result, None)?;
    }
    println!();
    crate::election::print_results(&results);

    // Check: the decrypted tally equals what the voters chose (over HTTP and through the
    // contract).
    let mut expected = report.expected.clone();
    if let Some(choices) = &fallback_choices {
        for (sums, contest) in expected.iter_mut().zip(choices) {
            for (sum, choice) in sums.iter_mut().zip(contest) {
                *sum += choice;
            }
        }
    }
    let decrypted: Vec<Vec<u64>> = results
        .contests
        .iter()
        .map(|c| c.selections.iter().map(|s| s.total).collect())
        .collect();
    match &booth_ballots {
        BoothBallots::Known(ballots) => {
            for ballot in ballots {
                for (sums, contest) in expected.iter_mut().zip(ballot) {
                    for (sum, choice) in sums.iter_mut().zip(contest) {
                        *sum += choice;
                    }
                }
            }
            if decrypted != expected {
                bail!(
                    "the decrypted tally {decrypted:?} differs from the voters' choices {expected:?}"
                );
            }
        }
        BoothBallots::Unknown => {
            let covers = decrypted.len() == expected.len()
                && decrypted
                    .iter()
                    .zip(&expected)
                    .all(|(d, e)| d.len() == e.len() && d.iter().zip(e).all(|(d, e)| d >= e));
            if !covers {
                bail!(
                    "the decrypted tally {decrypted:?} does not cover the simulated voters' choices {expected:?}"
                );
            }
        }
    }

    // The record, exported and verified from its files alone (every check of
    // spec/verification.md); voters' receipts checked against the board.
    // Verified against the chain too: the registry's evidence, read once the result landed.
    let evidence = chain
        .as_ref()
        .map(|c| c.evidence(&officials, election_id))
        .transpose()?;
    let on_chain = evidence
        .as_ref()
        .map(|e| (e.checkpoints.len(), e.fallback.len()));
    let summary = crate::election::export_with(
        &officials,
        &record_dir,
        crate::election::ExportOptions {
            chain: evidence,
            ..crate::election::ExportOptions::default()
        },
    )?;
    if !summary.report.passed() || summary.report.results.as_ref() != Some(&results) {
        bail!(
            "the record in {} does not verify to the published results",
            record_dir.display()
        );
    }
    let head = officials.head()?;
    head.verify(&info.board_key)?;
    let step = (report.receipts.len() / TRACKED_RECEIPTS).max(1);
    let mut tracked = 0;
    for receipt in report.receipts.iter().step_by(step) {
        let proof = officials.inclusion(&receipt.tracking_code, Some(head.head.size))?;
        let path = proof
            .path
            .iter()
            .map(|h| {
                hex::decode(h)
                    .ok()
                    .and_then(|b| <[u8; 32]>::try_from(b).ok())
                    .context("the service sent a malformed proof")
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        receipt.verify(&info.board_key)?;
        merkle::verify_inclusion(
            &receipt.tracking_code.0,
            receipt.index,
            head.head.size,
            &merkle::InclusionProof {
                index: receipt.index,
                tree_size: head.head.size,
                path,
            },
            &head.head.root,
        )?;
        tracked += 1;
    }
    println!("record       {summary}");
    println!(
        "tracking     {tracked} receipts checked: signed by the board, and included under the signed root {} (size {})",
        hex::encode(head.head.root),
        head.head.size
    );
    if let Some((checkpoints, fallback)) = on_chain {
        println!(
            "chain check  the record agrees with the registry (V20, V21): the registration, {checkpoints} checkpoint(s), {fallback} fallback ballot(s), the result's digests and final head"
        );
    }
    match booth_ballots {
        BoothBallots::Unknown => println!(
            "check        decrypted tally covers the simulated voters' choices (ballots cast in the booth are secret): yes"
        ),
        BoothBallots::Known(_) => {
            println!("check        decrypted tally equals the voters' choices: yes");
        }
    }
    println!("total time   {:.1?}", started.elapsed());
    println!();
    let dir = crate::election::shell_word(&record_dir.display().to_string());
    println!("The election record is in {dir}. Anyone can re-check it from its files alone:");
    println!("  tabella verify {dir}");
    println!("  (from the source tree: cargo run --release -p tabella-tally --bin tabella -- verify {dir})");
    if let Some(chain_dir) = chain.as_ref().and_then(|c| c.embedded_dir()) {
        let chain_dir = crate::election::shell_word(&chain_dir.display().to_string());
        println!("and against the embedded chain's state:");
        println!("  tabella verify {dir} --chain-dir {chain_dir}");
    }

    hooks.finished(&Finished {
        url: &url,
        admin_token: &token,
        results: &results,
        record_dir: &record_dir,
    })?;

    if opts.no_serve {
        return service.shutdown();
    }
    println!();
    println!("The service keeps running at {url} (board: {url}/v1/board/entries, results: {url}/v1/election/results). Ctrl-C or SIGTERM stops it.");
    if opts.booth.is_some() {
        println!("In the browser: verify the record at {url}/observer, track a ballot at {url}/tracker, officials' dashboard at {url}/officials.");
    }
    if let Waited::Stopped(signal) = stop.wait(None) {
        println!("Stopped by {}.", signal.name());
    }
    service.shutdown()?;
    if opts.data_dir.is_none() {
        println!("The demo's temporary files are removed.");
    }
    Ok(())
}

/// Runs `step` for every trustee at once, each with its own HTTP client, as separate trustees'
/// machines would.
fn trustees_step(
    url: &str,
    identities: &[TrusteeIdentity],
    step: impl Fn(&dyn MessageStore, &TrusteeIdentity) -> anyhow::Result<String> + Sync,
) -> anyhow::Result<()> {
    let step = Arc::new(&step);
    std::thread::scope(|scope| {
        let handles: Vec<_> = identities
            .iter()
            .enumerate()
            .map(|(i, identity)| {
                let step = Arc::clone(&step);
                scope.spawn(move || -> anyhow::Result<()> {
                    let store = HttpStore::new(url, None)?;
                    step(&store, identity)
                        .with_context(|| format!("trustee {} ({})", i + 1, trustee_name(i)))?;
                    Ok(())
                })
            })
            .collect();
        handles.into_iter().try_for_each(|h| {
            h.join()
                .map_err(|_| anyhow::anyhow!("a trustee thread panicked"))?
        })
    })
}

fn trustee_name(i: usize) -> String {
    match TRUSTEE_NAMES.get(i) {
        Some(name) => (*name).to_string(),
        None => format!("{} {}", TRUSTEE_NAMES[i % TRUSTEE_NAMES.len()], i + 1),
    }
}

fn progress(len: u64, message: &'static str) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new(len);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{msg:>22} [{bar:40}] {pos}/{len} ({per_sec}, eta {eta})",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    bar.set_message(message);
    bar
}

const TRUSTEE_NAMES: [&str; 7] = [
    "Ada", "Boole", "Church", "Dijkstra", "Euclid", "Fermat", "Gauss",
];

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use rand::RngCore;

    #[test]
    fn the_demo_ballot_is_translated_completely_for_either_contest_set() {
        for set in [ContestSet::All, ContestSet::Plurality] {
            let m = manifest(set).expect("a valid manifest");
            assert_eq!(
                m.translations
                    .keys()
                    .map(String::as_str)
                    .collect::<Vec<_>>(),
                ["ar", "de", "fr"]
            );
            for t in m.translations.values() {
                assert_eq!(t.contests.len(), m.contests.len(), "{set:?}");
            }
        }
        let fr = manifest(ContestSet::All)
            .expect("a manifest")
            .translated("fr");
        assert_eq!(fr.contests[0].title, "Maire (un seul choix)");
    }

    #[test]
    fn same_seed_gives_same_random_stream() {
        let (mut a, mut b) = (DemoOptions::rng(7), DemoOptions::rng(7));
        assert_eq!(a.next_u64(), b.next_u64());
        assert_ne!(
            DemoOptions::rng(7).next_u64(),
            DemoOptions::rng(8).next_u64()
        );
    }

    #[test]
    fn the_default_record_directory_skips_records_already_there() {
        let base = tempfile::tempdir().unwrap();
        assert_eq!(
            free_record_dir(base.path()).unwrap(),
            base.path().join("tabella-record")
        );
        // An empty directory is taken as it is.
        std::fs::create_dir(base.path().join("tabella-record")).unwrap();
        assert_eq!(
            free_record_dir(base.path()).unwrap(),
            base.path().join("tabella-record")
        );
        // One holding a record is not.
        std::fs::write(base.path().join("tabella-record/record.json"), "{}").unwrap();
        assert_eq!(
            free_record_dir(base.path()).unwrap(),
            base.path().join("tabella-record-2")
        );
        std::fs::create_dir(base.path().join("tabella-record-2")).unwrap();
        std::fs::write(base.path().join("tabella-record-2/x"), "").unwrap();
        assert_eq!(
            free_record_dir(base.path()).unwrap(),
            base.path().join("tabella-record-3")
        );
    }

    #[test]
    fn a_record_directory_that_is_not_empty_is_refused() {
        let base = tempfile::tempdir().unwrap();
        std::fs::write(base.path().join("old.json"), "{}").unwrap();
        let opts = DemoOptions {
            record: Some(base.path().to_path_buf()),
            ..DemoOptions::default()
        };
        let error = record_dir(&opts).unwrap_err();
        assert!(format!("{error:#}").contains("is not empty"), "{error:#}");
        let fresh = base.path().join("new");
        let opts = DemoOptions {
            record: Some(fresh.clone()),
            ..DemoOptions::default()
        };
        assert_eq!(record_dir(&opts).unwrap(), fresh);
        assert!(!fresh.exists(), "nothing is created before the export");
    }

    #[test]
    fn given_seed_is_used_as_is() {
        let opts = DemoOptions {
            seed: Some(42),
            ..DemoOptions::default()
        };
        assert_eq!(opts.resolve_seed(), 42);
    }
}
