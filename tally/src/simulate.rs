//! `tabella simulate`: many voters casting ballots against a running election service.
//!
//! The voters are those of a credentials file, as `tabella credentials generate` writes it
//! (`voter_id,code`). Each voter's device is simulated in full: it derives the credential from
//! the code, encrypts and proves its choices, and sometimes challenges (spoils) one ballot or
//! casts twice. Then `--concurrency` threads cast every ballot over HTTP, check every receipt
//! the board returns, and time every request.
//!
//! All ballots are prepared before the first is cast (phase 1, on every core), so phase 2
//! measures the service and not the encryption; for very large runs mind the memory: each ballot
//! is [`ElectionContext::ballot_len`] bytes.
//!
//! The choices and the encryption randomness come from one seed (`--seed`, printed when drawn),
//! with a [`ChaCha20Rng`] stream per voter (its position in the file, plus 1). Replaying a seed
//! against the same election re-submits identical ballots: the board answers with the very same
//! receipts, and the report counts them as re-submissions.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context as _};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use rand::RngCore;
use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha20Rng;
use rayon::prelude::*;
use tabella_crypto::ballot::{ElectionContext, ElectionId, SpoiledBallot, TrackingCode};
use tabella_crypto::board::receipt::{BoardKey, EntryKind, Receipt};
use tabella_crypto::credential::{CredentialCode, CredentialSecret};
use tabella_crypto::manifest::Manifest;

use crate::api::{ElectionState, IssuedCredential};
use crate::client::{ClientError, ElectionClient};

/// Options of `tabella simulate`.
#[derive(Debug, Clone, PartialEq, Eq, Args)]
pub struct SimulateOptions {
    /// URL of the election service, e.g. http://127.0.0.1:8080.
    #[arg(long, value_name = "URL", env = "TABELLA_URL")]
    pub url: String,

    /// The voters' credentials: a CSV file with the columns voter_id and code, such as the
    /// `codes.csv` that `tabella credentials generate` writes.
    #[arg(long, value_name = "FILE")]
    pub credentials: PathBuf,

    /// Number of voters who vote: the first N of the file (default: all of them).
    #[arg(long, value_name = "N")]
    pub voters: Option<u64>,

    /// Number of ballots in flight at once (one HTTP client per thread).
    #[arg(long, value_name = "C", default_value_t = 8,
          value_parser = clap::value_parser!(u32).range(1..=1024))]
    pub concurrency: u32,

    /// Write every receipt the board returns to this file, one JSON document per line (the file
    /// must not exist).
    #[arg(long, value_name = "FILE")]
    pub receipts: Option<PathBuf>,

    /// Seed of the voters' choices and encryption randomness, for a reproducible run (random when
    /// absent, and printed).
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,

    /// Share of voters who challenge (spoil) one ballot before casting, in percent.
    #[arg(long, value_name = "P", default_value_t = 0,
          value_parser = clap::value_parser!(u8).range(0..=100))]
    pub spoil_percent: u8,

    /// Share of voters who cast an earlier ballot and then a final one (only the last counts),
    /// in percent.
    #[arg(long, value_name = "P", default_value_t = 0,
          value_parser = clap::value_parser!(u8).range(0..=100))]
    pub revote_percent: u8,
}

/// What a simulation does, apart from who votes and where.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SimulationParams {
    /// Number of ballots in flight at once (threads, each with its own HTTP client).
    pub concurrency: usize,
    /// Seed of the choices and encryption randomness.
    pub seed: u64,
    /// Share of voters who spoil one ballot before casting, in percent (0 to 100).
    pub spoil_percent: u8,
    /// Share of voters who cast twice, in percent (0 to 100).
    pub revote_percent: u8,
    /// No progress bars and no output.
    pub quiet: bool,
}

impl Default for SimulationParams {
    fn default() -> Self {
        Self {
            concurrency: 8,
            seed: 0,
            spoil_percent: 0,
            revote_percent: 0,
            quiet: false,
        }
    }
}

/// Latency percentiles of a set of requests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LatencySummary {
    /// Number of requests measured.
    pub count: u64,
    /// Median.
    pub p50: Duration,
    /// 90th percentile.
    pub p90: Duration,
    /// 99th percentile.
    pub p99: Duration,
    /// Slowest.
    pub max: Duration,
    /// Mean.
    pub mean: Duration,
}

impl LatencySummary {
    /// The summary of `samples` (sorted in place). Percentiles are nearest-rank: the `p`th
    /// percentile is the smallest sample with at least `p`% of the samples at or below it. No
    /// samples give all zeros.
    pub fn from_samples(samples: &mut [Duration]) -> Self {
        samples.sort_unstable();
        let Some(&max) = samples.last() else {
            return Self::default();
        };
        let count = samples.len() as u64;
        let total: Duration = samples.iter().sum();
        let mean = Duration::from_secs_f64(total.as_secs_f64() / count as f64);
        Self {
            count,
            p50: nearest_rank(samples, 50),
            p90: nearest_rank(samples, 90),
            p99: nearest_rank(samples, 99),
            max,
            mean,
        }
    }
}

/// The nearest-rank `p`th percentile of sorted, non-empty `sorted`.
fn nearest_rank(sorted: &[Duration], p: u64) -> Duration {
    let n = sorted.len() as u64;
    let rank = (p * n).div_ceil(100).clamp(1, n);
    sorted.get(rank as usize - 1).copied().unwrap_or_default()
}

/// What a simulation did and measured.
#[derive(Debug, Clone)]
pub struct SimulationReport {
    /// Number of voters.
    pub voters: u64,
    /// Cast ballots the board accepted (earlier and final ones, re-submissions included).
    pub ballots_cast: u64,
    /// Spoiled ballots the board accepted (re-submissions included).
    pub ballots_spoiled: u64,
    /// Accepted ballots that were already on the board (the board answered with the receipt it
    /// gave before).
    pub resubmitted: u64,
    /// Refused requests, by the service's error code (`http_<status>` for answers that are not
    /// the service's).
    pub rejected: BTreeMap<String, u64>,
    /// The whole run, preparation included.
    pub wall: Duration,
    /// Phase 1: deriving credentials and encrypting every ballot.
    pub preparing: Duration,
    /// Phase 2: casting.
    pub casting: Duration,
    /// Accepted requests per second over the casting phase.
    pub throughput: f64,
    /// Latency of every cast and spoil request, refused ones included.
    pub latency: LatencySummary,
    /// Per contest, per selection: the sum of each voter's last accepted cast ballot's choices,
    /// that is the tally the election must produce if no other ballot is cast with these
    /// credentials.
    pub expected: Vec<Vec<u64>>,
    /// The counted receipts: each voter's last accepted cast ballot's, in voter order.
    pub receipts: Vec<Receipt>,
}

impl SimulationReport {
    /// Prints a compact summary for a person.
    pub fn print(&self) {
        let ms = |d: Duration| format!("{:.1} ms", d.as_secs_f64() * 1e3);
        println!("voters       {}", self.voters);
        println!(
            "accepted     {} cast, {} spoiled ({} re-submissions of a ballot already on the board)",
            self.ballots_cast, self.ballots_spoiled, self.resubmitted
        );
        if self.rejected.is_empty() {
            println!("rejected     none");
        } else {
            let total: u64 = self.rejected.values().sum();
            let list: Vec<String> = self
                .rejected
                .iter()
                .map(|(code, n)| format!("{n} {code}"))
                .collect();
            println!("rejected     {total} ({})", list.join(", "));
        }
        println!(
            "counted      {} receipts (each voter's last accepted ballot)",
            self.receipts.len()
        );
        println!(
            "casting      {:.1?}, {:.1} ballots/s (preparing {:.1?}, total {:.1?})",
            self.casting, self.throughput, self.preparing, self.wall
        );
        println!(
            "latency      p50 {}, p90 {}, p99 {}, max {}, mean {} ({} requests)",
            ms(self.latency.p50),
            ms(self.latency.p90),
            ms(self.latency.p99),
            ms(self.latency.max),
            ms(self.latency.mean),
            self.latency.count
        );
    }
}

/// One encrypted ballot, ready to send.
struct Prepared {
    bytes: Vec<u8>,
    tracking_code: TrackingCode,
}

/// What one voter's device prepared.
struct VoterPlan {
    /// A challenged ballot and its opening.
    spoil: Option<(Prepared, SpoiledBallot)>,
    /// Cast ballots in order, with their choices; the last one is meant to count.
    cast: Vec<(Prepared, Vec<Vec<u64>>)>,
}

fn progress(len: u64, message: &'static str, quiet: bool) -> ProgressBar {
    if quiet {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(len);
    bar.set_style(
        ProgressStyle::with_template("{msg:>22} [{bar:40}] {pos}/{len} ({per_sec}, eta {eta})")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar.set_message(message);
    bar
}

/// Phase 1 for one voter: credential, then the spoiled, earlier and final ballots.
fn prepare_voter(
    ctx: &ElectionContext,
    params: &SimulationParams,
    index: usize,
    voter: &IssuedCredential,
) -> anyhow::Result<VoterPlan> {
    let mut rng = ChaCha20Rng::seed_from_u64(params.seed);
    rng.set_stream(index as u64 + 1);
    let code = CredentialCode::parse(&voter.code).map_err(|e| {
        anyhow!(
            "voter {:?} (line {} of the voters): the code is not a credential code: {e}",
            voter.voter_id,
            index + 2
        )
    })?;
    let secret = CredentialSecret::derive(&code, &ctx.election_id().0);
    let manifest: &Manifest = ctx.manifest();
    let encrypt = |rng: &mut ChaCha20Rng| {
        let choices = crate::demo::random_choices(manifest, rng);
        let (ballot, secrets) = ctx
            .encrypt_ballot(&choices, &secret, rng)
            .with_context(|| format!("voter {:?} could not encrypt a ballot", voter.voter_id))?;
        let prepared = Prepared {
            bytes: ballot.to_bytes().to_vec(),
            tracking_code: ballot.tracking_code(),
        };
        anyhow::Ok((prepared, choices, secrets))
    };
    let mut plan = VoterPlan {
        spoil: None,
        cast: Vec::new(),
    };
    if rng.next_u64() % 100 < u64::from(params.spoil_percent) {
        let (prepared, _, secrets) = encrypt(&mut rng)?;
        plan.spoil = Some((prepared, SpoiledBallot::reveal(secrets)));
    }
    if rng.next_u64() % 100 < u64::from(params.revote_percent) {
        let (prepared, choices, _) = encrypt(&mut rng)?;
        plan.cast.push((prepared, choices));
    }
    let (prepared, choices, _) = encrypt(&mut rng)?;
    plan.cast.push((prepared, choices));
    Ok(plan)
}

/// What one casting thread measured.
#[derive(Default)]
struct WorkerTally {
    cast: u64,
    spoiled: u64,
    resubmitted: u64,
    rejected: BTreeMap<String, u64>,
    latencies: Vec<Duration>,
    /// Per voter handled: its index, and its last accepted cast ballot (which one, and the
    /// receipt).
    counted: Vec<(usize, usize, Receipt)>,
}

/// What the casting threads share.
struct Casting<'a> {
    url: &'a str,
    voters: &'a [IssuedCredential],
    plans: &'a [VoterPlan],
    election_id: ElectionId,
    board_key: BoardKey,
    next: AtomicUsize,
    stop: AtomicBool,
    bar: ProgressBar,
}

impl Casting<'_> {
    /// One thread: take voters until none is left (or another thread failed).
    fn worker(&self, receipts: mpsc::SyncSender<Receipt>) -> anyhow::Result<WorkerTally> {
        let client = ElectionClient::new(self.url, None)?;
        let mut tally = WorkerTally::default();
        loop {
            if self.stop.load(Ordering::Relaxed) {
                return Ok(tally);
            }
            let index = self.next.fetch_add(1, Ordering::Relaxed);
            let (Some(plan), Some(voter)) = (self.plans.get(index), self.voters.get(index)) else {
                return Ok(tally);
            };
            if let Err(error) = self.vote(&client, index, voter, plan, &mut tally, &receipts) {
                self.stop.store(true, Ordering::Relaxed);
                return Err(error);
            }
            self.bar.inc(1);
        }
    }

    /// One voter: spoil, then cast each ballot in order.
    fn vote(
        &self,
        client: &ElectionClient,
        index: usize,
        voter: &IssuedCredential,
        plan: &VoterPlan,
        tally: &mut WorkerTally,
        receipts: &mpsc::SyncSender<Receipt>,
    ) -> anyhow::Result<()> {
        if let Some((prepared, opening)) = &plan.spoil {
            let started = Instant::now();
            let answer = client.spoil(&prepared.bytes, opening);
            tally.latencies.push(started.elapsed());
            if let Some(receipt) = self.judge(answer, prepared, EntryKind::Spoiled, voter, tally)? {
                tally.spoiled += 1;
                send(receipts, receipt)?;
            }
        }
        let mut counted = None;
        for (which, (prepared, _)) in plan.cast.iter().enumerate() {
            let started = Instant::now();
            let answer = client.cast(&prepared.bytes);
            tally.latencies.push(started.elapsed());
            if let Some(receipt) = self.judge(answer, prepared, EntryKind::Cast, voter, tally)? {
                tally.cast += 1;
                counted = Some((which, receipt.clone()));
                send(receipts, receipt)?;
            }
        }
        if let Some((which, receipt)) = counted {
            tally.counted.push((index, which, receipt));
        }
        Ok(())
    }

    /// The receipt of an accepted ballot, checked; `None` for a refusal (counted); an error for
    /// a bad receipt or a service out of reach.
    fn judge(
        &self,
        answer: Result<(Receipt, bool), ClientError>,
        prepared: &Prepared,
        kind: EntryKind,
        voter: &IssuedCredential,
        tally: &mut WorkerTally,
    ) -> anyhow::Result<Option<Receipt>> {
        let (receipt, created) = match answer {
            Ok(answer) => answer,
            Err(ClientError::Api { code, .. }) => {
                *tally.rejected.entry(code).or_default() += 1;
                return Ok(None);
            }
            Err(ClientError::UnexpectedAnswer { status, .. }) => {
                *tally.rejected.entry(format!("http_{status}")).or_default() += 1;
                return Ok(None);
            }
            Err(error) => {
                return Err(anyhow::Error::new(error).context(format!(
                    "voter {:?}'s {} ballot {} could not be sent",
                    voter.voter_id,
                    kind.as_str(),
                    prepared.tracking_code
                )))
            }
        };
        let bad = |what: String| {
            anyhow!(
                "the board's receipt for voter {:?}'s {} ballot {} is wrong: {what}",
                voter.voter_id,
                kind.as_str(),
                prepared.tracking_code
            )
        };
        receipt
            .verify(&self.board_key)
            .map_err(|e| bad(format!("{e} (board key {})", self.board_key)))?;
        if receipt.tracking_code != prepared.tracking_code {
            return Err(bad(format!(
                "it names ballot {} instead",
                receipt.tracking_code
            )));
        }
        if receipt.kind != kind {
            return Err(bad(format!(
                "it records the ballot as {}",
                receipt.kind.as_str()
            )));
        }
        if *receipt.election() != self.election_id {
            return Err(bad(format!(
                "it is for election {}, not {}",
                receipt.election(),
                self.election_id
            )));
        }
        if !created {
            tally.resubmitted += 1;
        }
        Ok(Some(receipt))
    }
}

fn send(receipts: &mpsc::SyncSender<Receipt>, receipt: Receipt) -> anyhow::Result<()> {
    receipts
        .send(receipt)
        .map_err(|_| anyhow!("the receipts could not be written; stopping"))
}

/// Runs a simulation: `voters` vote at the election service at `client_url`, as `params` says,
/// and every receipt the board returns is written to `receipts` as one JSON line.
///
/// Refusals by the service are counted in the report, not fatal.
///
/// # Errors
/// The election is not open or has no joint key; a voter's code is not a credential code; the
/// service is out of reach or its answer is unreadable; a receipt does not verify under the
/// board key or does not match its ballot; `receipts` cannot be written.
pub fn simulate(
    client_url: &str,
    voters: &[IssuedCredential],
    params: &SimulationParams,
    receipts: &mut dyn Write,
) -> anyhow::Result<SimulationReport> {
    if params.concurrency == 0 {
        bail!("the concurrency must be at least 1");
    }
    if params.spoil_percent > 100 || params.revote_percent > 100 {
        bail!("the spoil and re-vote shares are percentages, from 0 to 100");
    }
    let started = Instant::now();
    let client = ElectionClient::new(client_url, None)?;
    let info = client
        .election()
        .context("could not read the election from the service")?;
    let state = match info.state {
        ElectionState::Open => None,
        ElectionState::Setup => Some("still in set-up (`tabella election open` opens it)"),
        ElectionState::Closed => Some("closed"),
        ElectionState::Tallied => Some("closed and tallied"),
    };
    if let Some(state) = state {
        bail!(
            "the election at {} is {state}: ballots can only be cast while it is open",
            client.base_url()
        );
    }
    let Some(joint_key) = info.joint_key else {
        bail!(
            "the election at {} is open but publishes no joint election key, so ballots cannot \
             be encrypted",
            client.base_url()
        );
    };
    let ctx = ElectionContext::new(info.election_id, info.manifest.clone(), joint_key)
        .context("the service's manifest is not valid")?;
    for (index, voter) in voters.iter().enumerate() {
        if CredentialCode::parse(&voter.code).is_err() {
            bail!(
                "voter {:?} (voter {} of {}) has a code that is not a credential code",
                voter.voter_id,
                index + 1,
                voters.len()
            );
        }
    }
    if !params.quiet {
        println!(
            "election     {} at {} ({} contests, ballots of {} bytes)",
            info.election_id,
            client.base_url(),
            ctx.manifest().contests.len(),
            ctx.ballot_len()
        );
        println!(
            "simulation   {} voters, concurrency {}, {}% spoil a ballot, {}% vote twice",
            voters.len(),
            params.concurrency,
            params.spoil_percent,
            params.revote_percent
        );
    }

    // Phase 1: every voter's device derives its credential and encrypts, on every core.
    let bar = progress(voters.len() as u64, "preparing ballots", params.quiet);
    let phase = Instant::now();
    let plans: Vec<VoterPlan> = voters
        .par_iter()
        .enumerate()
        .map(|(index, voter)| {
            let plan = prepare_voter(&ctx, params, index, voter);
            bar.inc(1);
            plan
        })
        .collect::<anyhow::Result<_>>()?;
    bar.finish_and_clear();
    let preparing = phase.elapsed();

    // Phase 2: `concurrency` threads cast; this thread writes the receipts.
    let casting = Casting {
        url: client.base_url(),
        voters,
        plans: &plans,
        election_id: info.election_id,
        board_key: info.board_key,
        next: AtomicUsize::new(0),
        stop: AtomicBool::new(false),
        bar: progress(voters.len() as u64, "casting", params.quiet),
    };
    let threads = params.concurrency.min(voters.len()).max(1);
    let phase = Instant::now();
    let (tallies, write_result) = std::thread::scope(|scope| {
        let (sender, receiver) = mpsc::sync_channel::<Receipt>(4096);
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                let sender = sender.clone();
                let casting = &casting;
                scope.spawn(move || casting.worker(sender))
            })
            .collect();
        drop(sender);
        let mut write_result = Ok(());
        for receipt in receiver.iter() {
            let line = serde_json::to_vec(&receipt).map_err(std::io::Error::other);
            if let Err(error) = line.and_then(|mut line| {
                line.push(b'\n');
                receipts.write_all(&line)
            }) {
                write_result = Err(error);
                casting.stop.store(true, Ordering::Relaxed);
                break;
            }
        }
        // Dropping the receiver (on a write error) makes the workers' sends fail: they stop.
        drop(receiver);
        let tallies: Vec<anyhow::Result<WorkerTally>> = handles
            .into_iter()
            .map(|handle| {
                handle
                    .join()
                    .unwrap_or_else(|_| Err(anyhow!("a casting thread panicked")))
            })
            .collect();
        (tallies, write_result)
    });
    let casting_time = phase.elapsed();
    casting.bar.finish_and_clear();
    write_result
        .and_then(|()| receipts.flush())
        .context("could not write the receipts")?;
    // The first real error, rather than the "stopping" of the threads it stopped.
    let mut merged = WorkerTally::default();
    let mut errors = Vec::new();
    for tally in tallies {
        match tally {
            Ok(t) => {
                merged.cast += t.cast;
                merged.spoiled += t.spoiled;
                merged.resubmitted += t.resubmitted;
                for (code, n) in t.rejected {
                    *merged.rejected.entry(code).or_default() += n;
                }
                merged.latencies.extend(t.latencies);
                merged.counted.extend(t.counted);
            }
            Err(error) => errors.push(error),
        }
    }
    if let Some(error) = errors.into_iter().next() {
        let done = merged.cast + merged.spoiled;
        return Err(error.context(format!(
            "the simulation stopped after {done} accepted ballots"
        )));
    }

    merged.counted.sort_by_key(|(index, _, _)| *index);
    let mut expected: Vec<Vec<u64>> = ctx
        .manifest()
        .contests
        .iter()
        .map(|c| vec![0; c.selections.len()])
        .collect();
    let mut counted_receipts = Vec::with_capacity(merged.counted.len());
    for (index, which, receipt) in merged.counted {
        if let Some((_, choices)) = plans.get(index).and_then(|p| p.cast.get(which)) {
            for (sum, choice) in expected.iter_mut().zip(choices) {
                for (x, v) in sum.iter_mut().zip(choice) {
                    *x += v;
                }
            }
        }
        counted_receipts.push(receipt);
    }
    let accepted = merged.cast + merged.spoiled;
    let seconds = casting_time.as_secs_f64();
    Ok(SimulationReport {
        voters: voters.len() as u64,
        ballots_cast: merged.cast,
        ballots_spoiled: merged.spoiled,
        resubmitted: merged.resubmitted,
        rejected: merged.rejected,
        wall: started.elapsed(),
        preparing,
        casting: casting_time,
        throughput: if seconds > 0.0 {
            accepted as f64 / seconds
        } else {
            0.0
        },
        latency: LatencySummary::from_samples(&mut merged.latencies),
        expected,
        receipts: counted_receipts,
    })
}

/// Reads a credentials file: CSV with a header line naming (at least) the columns `voter_id`
/// and `code`.
///
/// # Errors
/// The file cannot be read, is not CSV, lacks a column, has an empty field or a voter twice.
pub fn read_credentials(path: &Path) -> anyhow::Result<Vec<IssuedCredential>> {
    let file = File::open(path).with_context(|| format!("could not open {}", path.display()))?;
    parse_credentials(file, &path.display().to_string())
}

/// [`read_credentials`] from any reader; `source` names it in errors.
pub fn parse_credentials(reader: impl Read, source: &str) -> anyhow::Result<Vec<IssuedCredential>> {
    let mut csv = csv::ReaderBuilder::new()
        .has_headers(true)
        .trim(csv::Trim::All)
        .from_reader(reader);
    let headers = csv
        .headers()
        .with_context(|| format!("{source} is not a readable CSV file"))?
        .clone();
    let column = |name: &str| {
        headers.iter().position(|h| h == name).ok_or_else(|| {
            anyhow!(
                "{source} has no {name} column: a credentials file starts with the header line \
                 `voter_id,code` (as `codes.csv` of `tabella credentials generate` has it)"
            )
        })
    };
    let (id_column, code_column) = (column("voter_id")?, column("code")?);
    let mut seen = std::collections::HashSet::new();
    let mut voters = Vec::new();
    for record in csv.records() {
        let record = record.with_context(|| format!("{source} is not valid CSV"))?;
        let line = record.position().map_or(0, |p| p.line());
        let field = |i: usize, name: &str| match record.get(i) {
            Some(value) if !value.is_empty() => Ok(value.to_string()),
            _ => Err(anyhow!("{source}, line {line}: the {name} is missing")),
        };
        let voter_id = field(id_column, "voter_id")?;
        let code = field(code_column, "code")?;
        if !seen.insert(voter_id.clone()) {
            bail!("{source}, line {line}: voter {voter_id:?} appears twice");
        }
        voters.push(IssuedCredential { voter_id, code });
    }
    Ok(voters)
}

/// The first `wanted` voters (all when `None`).
///
/// # Errors
/// When there are fewer than `wanted`, or none.
pub fn select_voters(
    mut voters: Vec<IssuedCredential>,
    wanted: Option<u64>,
    source: &str,
) -> anyhow::Result<Vec<IssuedCredential>> {
    let available = voters.len() as u64;
    match wanted {
        Some(0) => bail!("--voters must be at least 1"),
        Some(n) if n > available => {
            bail!("{source} holds {available} voters, fewer than the {n} asked for with --voters")
        }
        Some(n) => voters.truncate(n as usize),
        None if available == 0 => bail!("{source} holds no voters"),
        None => {}
    }
    Ok(voters)
}

/// Creates `path` for writing, refusing to replace an existing file.
fn create_new(path: &Path, what: &str) -> anyhow::Result<File> {
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(|error| {
            if error.kind() == std::io::ErrorKind::AlreadyExists {
                anyhow!(
                    "{} already exists: {what} never replaces a file; choose another name or \
                     move it away",
                    path.display()
                )
            } else {
                anyhow::Error::new(error).context(format!("could not create {}", path.display()))
            }
        })
}

/// Runs `tabella simulate`.
///
/// # Errors
/// See [`simulate`], [`read_credentials`] and [`select_voters`]; an existing receipts file.
pub fn run(opts: &SimulateOptions) -> anyhow::Result<()> {
    let source = opts.credentials.display().to_string();
    let voters = select_voters(read_credentials(&opts.credentials)?, opts.voters, &source)?;
    // Refuse an existing receipts file before any work.
    let receipts_file = match &opts.receipts {
        Some(path) => Some((create_new(path, "the simulation")?, path)),
        None => None,
    };
    let seed = opts.seed.unwrap_or_else(|| rand::rngs::OsRng.next_u64());
    println!("seed         {seed} (replay with --seed {seed})");
    let params = SimulationParams {
        concurrency: opts.concurrency as usize,
        seed,
        spoil_percent: opts.spoil_percent,
        revote_percent: opts.revote_percent,
        quiet: false,
    };
    let report = match receipts_file {
        Some((file, path)) => {
            let mut writer = BufWriter::new(file);
            let report = match simulate(&opts.url, &voters, &params, &mut writer) {
                Ok(report) => report,
                Err(error) => {
                    // A receipts file with nothing in it is removed, so the same command can be
                    // run again; one with receipts is kept: they are the board's signed word.
                    drop(writer);
                    if std::fs::metadata(path).is_ok_and(|m| m.len() == 0) {
                        let _ = std::fs::remove_file(path);
                    }
                    return Err(error);
                }
            };
            let file = writer
                .into_inner()
                .map_err(|e| e.into_error())
                .with_context(|| format!("could not write {}", path.display()))?;
            file.sync_all()
                .with_context(|| format!("could not write {}", path.display()))?;
            report.print();
            println!(
                "receipts     {} written to {}",
                report.ballots_cast + report.ballots_spoiled,
                path.display()
            );
            report
        }
        None => {
            let report = simulate(&opts.url, &voters, &params, &mut std::io::sink())?;
            report.print();
            report
        }
    };
    if !report.rejected.is_empty() {
        println!(
            "note         the service refused some ballots; the counted receipts and expected \
             totals leave them out"
        );
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn ms(v: u64) -> Duration {
        Duration::from_millis(v)
    }

    #[test]
    fn percentiles_are_nearest_rank() {
        // 1..=100 ms, shuffled: the pth percentile is p ms.
        let mut samples: Vec<Duration> = (1..=100).rev().map(ms).collect();
        samples.swap(3, 70);
        let s = LatencySummary::from_samples(&mut samples);
        assert_eq!(s.count, 100);
        assert_eq!(
            (s.p50, s.p90, s.p99, s.max),
            (ms(50), ms(90), ms(99), ms(100))
        );
        assert_eq!(s.mean, Duration::from_micros(50_500));

        // 10 samples: p50 is the 5th, p90 the 9th, p99 the 10th.
        let mut samples: Vec<Duration> = [7, 1, 9, 3, 5, 2, 10, 4, 8, 6].map(ms).to_vec();
        let s = LatencySummary::from_samples(&mut samples);
        assert_eq!((s.p50, s.p90, s.p99, s.max), (ms(5), ms(9), ms(10), ms(10)));
        assert_eq!(s.mean, Duration::from_micros(5_500));
    }

    #[test]
    fn one_or_no_sample() {
        let s = LatencySummary::from_samples(&mut [ms(42)]);
        assert_eq!(s.count, 1);
        assert_eq!(
            (s.p50, s.p90, s.p99, s.max, s.mean),
            (ms(42), ms(42), ms(42), ms(42), ms(42))
        );
        assert_eq!(
            LatencySummary::from_samples(&mut []),
            LatencySummary::default()
        );
    }

    const GOOD: &str =
        "voter_id,code\nalice,EPD-WP9-3QR-7P2-YEX-DJM-RZZ\nbob , 0000000000000000000000 \n";

    #[test]
    fn a_credentials_file_reads_in_order() {
        let voters = parse_credentials(GOOD.as_bytes(), "codes.csv").unwrap();
        assert_eq!(
            voters,
            vec![
                IssuedCredential {
                    voter_id: "alice".into(),
                    code: "EPD-WP9-3QR-7P2-YEX-DJM-RZZ".into()
                },
                IssuedCredential {
                    voter_id: "bob".into(),
                    code: "0000000000000000000000".into()
                },
            ]
        );
        // Other columns, in any order, are ignored.
        let voters =
            parse_credentials("name,code,voter_id\nA,c1,a\nB,c2,b\n".as_bytes(), "x").unwrap();
        assert_eq!(voters.len(), 2);
        assert_eq!(
            (voters[1].voter_id.as_str(), voters[1].code.as_str()),
            ("b", "c2")
        );
    }

    #[test]
    fn a_credentials_file_without_its_columns_is_refused() {
        for (text, missing) in [
            ("voter,code\na,b\n", "voter_id"),
            ("voter_id\na\n", "code"),
            ("voter_id;code\na;b\n", "voter_id"),
            ("", "voter_id"),
        ] {
            let error = parse_credentials(text.as_bytes(), "codes.csv").unwrap_err();
            let message = format!("{error:#}");
            assert!(
                message.contains(&format!("codes.csv has no {missing} column")),
                "{text:?}: {message}"
            );
        }
    }

    #[test]
    fn a_credentials_file_with_holes_or_twins_is_refused() {
        let error = parse_credentials("voter_id,code\na,\n".as_bytes(), "f").unwrap_err();
        assert!(
            format!("{error:#}").contains("f, line 2: the code is missing"),
            "{error:#}"
        );
        let error = parse_credentials("voter_id,code\na,x\na,y\n".as_bytes(), "f").unwrap_err();
        assert!(
            format!("{error:#}").contains("line 3: voter \"a\" appears twice"),
            "{error:#}"
        );
        let error = parse_credentials("voter_id,code\na,x,extra\n".as_bytes(), "f").unwrap_err();
        assert!(format!("{error:#}").contains("not valid CSV"), "{error:#}");
    }

    #[test]
    fn fewer_voters_than_asked_is_an_error() {
        let voters = parse_credentials(GOOD.as_bytes(), "codes.csv").unwrap();
        assert_eq!(
            select_voters(voters.clone(), None, "codes.csv")
                .unwrap()
                .len(),
            2
        );
        assert_eq!(
            select_voters(voters.clone(), Some(1), "codes.csv").unwrap()[0].voter_id,
            "alice"
        );
        let error = select_voters(voters.clone(), Some(3), "codes.csv").unwrap_err();
        assert_eq!(
            error.to_string(),
            "codes.csv holds 2 voters, fewer than the 3 asked for with --voters"
        );
        assert!(select_voters(voters, Some(0), "codes.csv").is_err());
        assert!(select_voters(Vec::new(), None, "codes.csv").is_err());
    }

    #[test]
    fn an_existing_receipts_file_is_never_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("receipts.jsonl");
        std::fs::write(&path, "keep me\n").unwrap();
        let error = create_new(&path, "the simulation").unwrap_err();
        assert!(error.to_string().contains("already exists"), "{error}");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "keep me\n");
        let fresh = dir.path().join("new.jsonl");
        create_new(&fresh, "the simulation").unwrap();
        assert!(fresh.exists());
    }

    #[test]
    fn bad_parameters_are_refused_before_any_request() {
        let params = SimulationParams {
            concurrency: 0,
            ..SimulationParams::default()
        };
        // Port 1 would refuse the connection: the error must come first.
        let error = simulate("http://127.0.0.1:1", &[], &params, &mut std::io::sink()).unwrap_err();
        assert!(error.to_string().contains("concurrency"), "{error}");
        let params = SimulationParams {
            spoil_percent: 101,
            ..SimulationParams::default()
        };
        assert!(simulate("http://127.0.0.1:1", &[], &params, &mut std::io::sink()).is_err());
    }

    #[test]
    fn an_unreachable_service_is_a_clear_error() {
        let error = simulate(
            "http://127.0.0.1:1",
            &[],
            &SimulationParams::default(),
            &mut std::io::sink(),
        )
        .unwrap_err();
        let message = format!("{error:#}");
        assert!(
            message.contains("could not reach the election service at http://127.0.0.1:1"),
            "{message}"
        );
    }
}
