//! `tabella demo`: a whole election, in memory, on embedded defaults.
//!
//! The run draws every random value from one [`ChaCha20Rng`], so a run with `--seed` is
//! reproducible; without it a fresh seed is drawn from the operating system and printed, so any
//! run can be replayed. A 64-bit seed is fine for a demonstration and nothing else: a real
//! election never derives its secrets from a seed.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context as _};
use clap::{Args, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use rand::RngCore;
use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha20Rng;
use rayon::prelude::*;
use tabella_crypto::ballot::{Ballot, ElectionContext, ElectionId, SpoiledBallot};
use tabella_crypto::board::merkle::{self, MerkleTree};
use tabella_crypto::ceremony::{
    check_shares, combine, deal, finalize, partial_decrypt, CeremonyOutcome, CeremonyParams,
    DealerMessage, KeyShare, PartialDecryptionMessage, TallyItem, TallyRequest, TrusteeIdentity,
    MAX_TRUSTEES,
};
use tabella_crypto::credential::{CredentialCode, CredentialKey, CredentialSecret};
use tabella_crypto::elgamal::Ciphertext;
use tabella_crypto::manifest::{ContestStyle, Manifest};

/// Options of `tabella demo`.
#[derive(Debug, Clone, PartialEq, Eq, Args)]
pub struct DemoOptions {
    /// Number of voters who cast a ballot.
    #[arg(long, value_name = "N", default_value_t = 1000)]
    pub voters: u64,

    /// Seed of every random choice of the run, for a reproducible run (random when absent).
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

/// The embedded default manifest of the demo election.
pub const DEFAULT_MANIFEST: &str = include_str!("manifest.json");

/// Share of voters who challenge (Benaloh) one encryption before casting, in percent.
const SPOIL_PERCENT: u64 = 2;
/// Share of voters who cast twice (only the last ballot counts), in percent.
const REVOTE_PERCENT: u64 = 3;
/// Ballots per batch-verification chunk.
const BATCH: usize = 256;

/// The demo manifest for a contest set.
pub fn manifest(contests: ContestSet) -> anyhow::Result<Manifest> {
    let mut manifest =
        Manifest::from_json(DEFAULT_MANIFEST).context("the embedded demo manifest is invalid")?;
    if contests == ContestSet::Plurality {
        manifest
            .contests
            .retain(|c| c.style == ContestStyle::Plurality);
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

/// What one simulated voter did.
struct VoterRun {
    credential: CredentialKey,
    /// Ballots cast, in order; the last one counts.
    cast: Vec<Vec<u8>>,
    /// Challenged (spoiled) ballots with their openings, already checked by the voter's device.
    spoiled: Vec<Vec<u8>>,
    /// The choices of the counted ballot.
    final_choices: Vec<Vec<u64>>,
    encrypt_time: Duration,
    encryptions: u32,
}

fn progress(len: u64, message: &'static str) -> ProgressBar {
    let bar = ProgressBar::new(len);
    bar.set_style(
        ProgressStyle::with_template("{msg:>22} [{bar:40}] {pos}/{len} ({per_sec}, eta {eta})")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar.set_message(message);
    bar
}

fn simulate_voter(ctx: &ElectionContext, seed: u64, index: u64) -> anyhow::Result<VoterRun> {
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    rng.set_stream(index + 1);
    let code = CredentialCode::generate(&mut rng);
    // The voter's device derives the credential from the code on the letter.
    let secret = CredentialSecret::derive(&code, &ctx.election_id().0);
    let manifest = ctx.manifest();
    let mut run = VoterRun {
        credential: secret.public(),
        cast: Vec::new(),
        spoiled: Vec::new(),
        final_choices: Vec::new(),
        encrypt_time: Duration::ZERO,
        encryptions: 0,
    };
    let encrypt = |choices: &[Vec<u64>], rng: &mut ChaCha20Rng, run: &mut VoterRun| {
        let start = Instant::now();
        let out = ctx.encrypt_ballot(choices, &secret, rng);
        run.encrypt_time += start.elapsed();
        run.encryptions += 1;
        out.with_context(|| format!("voter {index} could not encrypt a ballot"))
    };
    if rng.next_u64() % 100 < SPOIL_PERCENT {
        // Benaloh challenge: encrypt, then ask the device to open it; anyone can check it.
        let choices = random_choices(manifest, &mut rng);
        let (ballot, secrets) = encrypt(&choices, &mut rng, &mut run)?;
        let opening = SpoiledBallot::reveal(secrets);
        ctx.verify_spoiled(&ballot, &opening, &mut rng)
            .with_context(|| format!("voter {index}'s challenged ballot did not check out"))?;
        run.spoiled.push(ballot.to_bytes().to_vec());
    }
    if rng.next_u64() % 100 < REVOTE_PERCENT {
        let choices = random_choices(manifest, &mut rng);
        let (ballot, _) = encrypt(&choices, &mut rng, &mut run)?;
        run.cast.push(ballot.to_bytes().to_vec());
    }
    let choices = random_choices(manifest, &mut rng);
    let (ballot, _) = encrypt(&choices, &mut rng, &mut run)?;
    run.cast.push(ballot.to_bytes().to_vec());
    run.final_choices = choices;
    Ok(run)
}

/// Runs the demo election described by `opts`.
///
/// # Errors
///
/// Any step of the election that fails, and any check of the result that does not pass: the
/// decrypted tally must equal the tally of the choices the simulated voters made.
pub fn run(opts: &DemoOptions) -> anyhow::Result<()> {
    if opts.voters == 0 {
        bail!("the demo needs at least one voter (--voters 1 or more)");
    }
    if opts.trustees == 0 || opts.trustees as usize > MAX_TRUSTEES {
        bail!("--trustees must be between 1 and {MAX_TRUSTEES}");
    }
    if opts.threshold == 0 || opts.threshold > opts.trustees {
        bail!(
            "--threshold must be between 1 and the number of trustees ({})",
            opts.trustees
        );
    }
    if opts.absent > opts.trustees {
        bail!(
            "--absent cannot exceed the number of trustees ({})",
            opts.trustees
        );
    }
    let seed = opts.resolve_seed();
    let mut rng = DemoOptions::rng(seed);
    println!("Tabella demonstration election (seed {seed}; replay with --seed {seed})");
    println!();

    // 1. Set-up: manifest, election id, and the trustees' key ceremony.
    let manifest = manifest(opts.contests)?;
    let mut id = [0u8; 32];
    rng.fill_bytes(&mut id);
    let election_id = ElectionId(id);
    let trustees = Trustees::key_ceremony(election_id, opts.trustees, opts.threshold, &mut rng)?;
    let ctx = ElectionContext::new(election_id, manifest, trustees.outcome.joint_key)
        .context("the demo manifest was refused")?;
    println!("election     {}", election_id);
    println!(
        "trustees     {} ({}), threshold {}: key ceremony {}, every share checked, no complaint",
        opts.trustees,
        trustees.names(1..=opts.trustees),
        opts.threshold,
        trustees.params.id()
    );
    println!(
        "manifest     {} ({} contests, hash {})",
        ctx.manifest().title,
        ctx.manifest().contests.len(),
        hex::encode(ctx.manifest_hash().0)
    );
    println!("joint key    {}", hex::encode(ctx.joint_key().to_bytes()));
    println!(
        "ballot size  {} bytes, whatever the choices",
        ctx.ballot_len()
    );
    println!();

    // 2. Voting: each voter's device derives its credential, encrypts, proves and signs.
    let bar = progress(opts.voters, "voters voting");
    let started = Instant::now();
    let voters: Vec<VoterRun> = (0..opts.voters)
        .into_par_iter()
        .map(|i| {
            let run = simulate_voter(&ctx, seed, i);
            bar.inc(1);
            run
        })
        .collect::<anyhow::Result<_>>()?;
    bar.finish_and_clear();
    let voting_time = started.elapsed();

    // 3. The board: eligibility, append-only Merkle log, last ballot per credential counts.
    let eligible: HashSet<CredentialKey> = voters.iter().map(|v| v.credential).collect();
    let mut board = MerkleTree::new();
    let mut counted: HashMap<CredentialKey, usize> = HashMap::new();
    let mut entries: Vec<Vec<u8>> = Vec::new();
    let (mut superseded, mut spoiled) = (0usize, 0usize);
    for voter in &voters {
        for bytes in &voter.spoiled {
            let ballot = Ballot::from_bytes(bytes, &ctx)?;
            board.push(ballot.tracking_code().0);
            entries.push(bytes.clone());
            spoiled += 1;
        }
        for bytes in &voter.cast {
            let ballot = Ballot::from_bytes(bytes, &ctx)?;
            if !eligible.contains(ballot.credential()) {
                bail!(
                    "ballot {} has an ineligible credential",
                    ballot.tracking_code()
                );
            }
            board.push(ballot.tracking_code().0);
            entries.push(bytes.clone());
            if counted
                .insert(*ballot.credential(), entries.len() - 1)
                .is_some()
            {
                superseded += 1;
            }
        }
    }
    let root = board.root();

    // 4. Close: verify every counted ballot (batches, in parallel) and aggregate homomorphically.
    let mut counted_indices: Vec<usize> = counted.values().copied().collect();
    counted_indices.sort_unstable();
    let bar = progress(counted_indices.len() as u64, "verifying ballots");
    let started = Instant::now();
    let contests = ctx.manifest().contests.len();
    let partials: Vec<Vec<Vec<Ciphertext>>> = counted_indices
        .par_chunks(BATCH)
        .map(|chunk| {
            let mut rng = ChaCha20Rng::from_entropy();
            let ballots: Vec<Ballot> = chunk
                .iter()
                .map(|&i| Ballot::from_bytes(&entries[i], &ctx))
                .collect::<Result<_, _>>()?;
            ctx.verify_batch(&ballots, &mut rng)
                .map_err(|e| anyhow!("ballot verification failed at close: {e}"))?;
            let sums = (0..contests)
                .map(|c| {
                    let n = ctx.manifest().contests[c].selections.len();
                    (0..n)
                        .map(|s| {
                            Ciphertext::sum(ballots.iter().filter_map(|b| b.ciphertexts(c)?.get(s)))
                        })
                        .collect()
                })
                .collect();
            bar.inc(chunk.len() as u64);
            Ok(sums)
        })
        .collect::<anyhow::Result<_>>()?;
    bar.finish_and_clear();
    let verify_time = started.elapsed();
    let aggregate: Vec<Vec<Ciphertext>> = (0..contests)
        .map(|c| {
            let n = ctx.manifest().contests[c].selections.len();
            (0..n)
                .map(|s| Ciphertext::sum(partials.iter().map(|p| &p[c][s])))
                .collect()
        })
        .collect();

    // 5. Tally: the present trustees decrypt the aggregates only, each share proved; any
    //    `threshold` valid shares are combined, then bounded discrete logs give the counts.
    let started = Instant::now();
    let voters_counted = counted_indices.len() as u64;
    let present: Vec<u32> = (1..=opts.trustees - opts.absent).collect();
    let absent: Vec<u32> = (opts.trustees - opts.absent + 1..=opts.trustees).collect();
    let request = TallyRequest {
        ceremony: trustees.params.id(),
        joint_key: trustees.outcome.joint_key,
        max_count: ctx
            .manifest()
            .contests
            .iter()
            .map(|c| voters_counted.saturating_mul(c.style.max_per_selection()))
            .max()
            .unwrap_or(0),
        items: ctx
            .manifest()
            .contests
            .iter()
            .zip(&aggregate)
            .flat_map(|(contest, sums)| {
                contest
                    .selections
                    .iter()
                    .zip(sums)
                    .map(|(selection, ct)| TallyItem {
                        label: format!("{}/{}", contest.id, selection.id),
                        ciphertext: *ct,
                    })
            })
            .collect(),
    };
    println!(
        "tally        {} aggregate totals to decrypt; present: {}; absent: {}",
        request.items.len(),
        trustees.names(present.iter().copied()),
        if absent.is_empty() {
            "none".to_owned()
        } else {
            trustees.names(absent.iter().copied())
        }
    );
    let partials = trustees.partial_decryptions(&request, &present, &mut rng)?;
    let outcome = combine(
        &trustees.params,
        &trustees.outcome,
        &request,
        &partials,
        &mut rng,
    )
    .context("the tally ceremony failed")?;
    let mut totals = outcome.totals.iter().map(|(_, v)| *v);
    let results: Vec<Vec<u64>> = ctx
        .manifest()
        .contests
        .iter()
        .map(|c| totals.by_ref().take(c.selections.len()).collect())
        .collect();
    println!(
        "             combined the shares of trustees {} by Lagrange interpolation ({} partial decryptions verified)",
        crate::ceremony::list(&outcome.combined),
        present.len() * request.items.len()
    );
    let tally_time = started.elapsed();

    // 6. Check: the decrypted tally equals the tally of what the voters chose.
    let mut expected: Vec<Vec<u64>> = ctx
        .manifest()
        .contests
        .iter()
        .map(|c| vec![0; c.selections.len()])
        .collect();
    for voter in &voters {
        for (e, choice) in expected.iter_mut().zip(&voter.final_choices) {
            for (x, v) in e.iter_mut().zip(choice) {
                *x += v;
            }
        }
    }
    if results != expected {
        bail!("the decrypted tally {results:?} differs from the voters' choices {expected:?}");
    }

    // An inclusion proof for one counted ballot, as a voter's tracker would check it.
    let probe = counted_indices[(rng.next_u64() % counted_indices.len() as u64) as usize];
    let leaf = merkle::leaf_hash(&entries[probe]);
    let proof = board.inclusion_proof(probe as u64, board.len())?;
    merkle::verify_inclusion(&leaf, probe as u64, board.len(), &proof, &root)?;

    print_results(&ctx, &results);
    let encryptions: u32 = voters.iter().map(|v| v.encryptions).sum();
    let encrypt_total: Duration = voters.iter().map(|v| v.encrypt_time).sum();
    println!("board        {} entries ({} counted, {} superseded by a re-vote, {} spoiled by a Benaloh challenge)", board.len(), counted.len(), superseded, spoiled);
    println!("board root   {} (size {})", hex::encode(root), board.len());
    println!("tracking     ballot {} is on the board: inclusion proof of {} hashes checked against the root", hex::encode(leaf), proof.path.len());
    println!(
        "timing       voting {:.1?} ({} encryptions, {:.2} ms each incl. proofs; credential derivation extra), verification {:.1?} ({:.3} ms per ballot), tally {:.1?}",
        voting_time,
        encryptions,
        encrypt_total.as_secs_f64() * 1e3 / f64::from(encryptions.max(1)),
        verify_time,
        verify_time.as_secs_f64() * 1e3 / voters_counted as f64,
        tally_time,
    );
    println!("check        decrypted tally equals the voters' choices: yes");
    Ok(())
}

/// The demo's trustees: each one's identity, and the public messages of the key ceremony.
struct Trustees {
    params: CeremonyParams,
    identities: Vec<TrusteeIdentity>,
    dealers: Vec<DealerMessage>,
    outcome: CeremonyOutcome,
}

impl Trustees {
    /// Runs the whole key ceremony: announcements, dealing, checking, and the outcome.
    fn key_ceremony(
        election_id: ElectionId,
        n: u32,
        threshold: u32,
        rng: &mut ChaCha20Rng,
    ) -> anyhow::Result<Self> {
        let identities: Vec<TrusteeIdentity> =
            (0..n).map(|_| TrusteeIdentity::generate(rng)).collect();
        let announcements = identities
            .iter()
            .zip(TRUSTEE_NAMES.iter().cycle())
            .enumerate()
            .map(|(i, (id, name))| {
                let name = if i < TRUSTEE_NAMES.len() {
                    (*name).to_owned()
                } else {
                    format!("{name} {}", i + 1)
                };
                id.announce(election_id, &name, rng)
            })
            .collect::<Result<Vec<_>, _>>()?;
        let params = CeremonyParams::new(election_id, threshold, announcements, rng)?;
        let dealers = identities
            .iter()
            .map(|id| deal(&params, id, rng))
            .collect::<Result<Vec<_>, _>>()?;
        let mut checks = Vec::with_capacity(identities.len());
        for id in &identities {
            let (check, report) = check_shares(&params, id, &dealers, rng)?;
            if !check.complaints.is_empty() {
                bail!(
                    "trustee {} complained: {:?}",
                    report.trustee,
                    report.verdicts
                );
            }
            checks.push(check);
        }
        let outcome = finalize(&params, &dealers, &checks, rng)?;
        Ok(Self {
            params,
            identities,
            dealers,
            outcome,
        })
    }

    fn names(&self, indices: impl IntoIterator<Item = u32>) -> String {
        indices
            .into_iter()
            .filter_map(|i| self.params.trustee(i).ok())
            .map(|a| a.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Each present trustee recomputes its key share from the public messages and decrypts.
    fn partial_decryptions(
        &self,
        request: &TallyRequest,
        present: &[u32],
        rng: &mut ChaCha20Rng,
    ) -> anyhow::Result<Vec<PartialDecryptionMessage>> {
        present
            .iter()
            .map(|&j| {
                let identity = &self.identities[j as usize - 1];
                let share = KeyShare::derive(&self.params, &self.outcome, &self.dealers, identity)?;
                Ok(partial_decrypt(
                    &self.params,
                    &self.outcome,
                    request,
                    identity,
                    &share,
                    rng,
                    |_| {},
                )?)
            })
            .collect()
    }
}

const TRUSTEE_NAMES: [&str; 7] = [
    "Ada", "Boole", "Church", "Dijkstra", "Euclid", "Fermat", "Gauss",
];

fn print_results(ctx: &ElectionContext, results: &[Vec<u64>]) {
    const WIDTH: u64 = 40;
    for (contest, counts) in ctx.manifest().contests.iter().zip(results) {
        println!("{}", contest.title);
        let top = counts.iter().copied().max().unwrap_or(0).max(1);
        let label_width = contest
            .selections
            .iter()
            .map(|s| s.label.chars().count())
            .max()
            .unwrap_or(0);
        for (selection, count) in contest.selections.iter().zip(counts) {
            let bar = "█".repeat((count * WIDTH / top) as usize);
            println!("  {:<label_width$}  {:>7}  {}", selection.label, count, bar);
        }
        println!();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::RngCore;

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
    fn given_seed_is_used_as_is() {
        let opts = DemoOptions {
            seed: Some(42),
            ..DemoOptions::default()
        };
        assert_eq!(opts.resolve_seed(), 42);
    }
}
