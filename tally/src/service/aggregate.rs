//! Close and tally: the streaming verification and homomorphic aggregation of the counted
//! ballots, the tally request for the trustees, and the combination of their partial
//! decryptions into the results.
//!
//! Counted ballots are read from the database in pages of [`PAGE`] by board index, each page
//! batch-verified on every core and folded into the running sums, so memory stays flat however
//! many ballots there are.

use std::sync::Arc;

use anyhow::{anyhow, bail, Context as _};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use tabella_crypto::ballot::Ballot;
use tabella_crypto::ceremony::{TallyOutcome, TallyRequest};
use tabella_crypto::elgamal::Ciphertext;

use super::store::{DbStore, RESULTS};
use super::{AppState, Election};
use crate::api::{Aggregation, Results};
use crate::ceremony::{self, KeyCeremony, TALLY_REQUEST};

/// Counted ballots verified and added per page.
pub const PAGE: u32 = 512;

/// Starts (or resumes, after a restart) the aggregation of a closed election in the background.
pub async fn resume(state: &Arc<AppState>, election: &Arc<Election>) -> anyhow::Result<()> {
    let total = election.board.view.read().await.counted.len() as u64;
    let done = state.db.document(TALLY_REQUEST).await?.is_some() || total == 0;
    set_progress(
        election,
        Aggregation {
            done: if done { total } else { 0 },
            total,
            complete: done,
        },
    );
    if !done {
        let (state, election) = (Arc::clone(state), Arc::clone(election));
        tokio::spawn(async move {
            if let Err(error) = aggregate(&state, &election, total).await {
                tracing::error!(error = format!("{error:#}"), "aggregation failed");
            }
        });
    }
    Ok(())
}

fn set_progress(election: &Election, progress: Aggregation) {
    if let Ok(mut slot) = election.aggregation.lock() {
        *slot = Some(progress);
    }
}

/// The aggregation's progress, if the election is closed.
pub fn progress(election: &Election) -> Option<Aggregation> {
    election.aggregation.lock().ok().and_then(|a| *a)
}

async fn aggregate(state: &AppState, election: &Election, total: u64) -> anyhow::Result<()> {
    let open = election
        .open
        .get()
        .cloned()
        .ok_or_else(|| anyhow!("the election was never opened"))?;
    let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len} ({per_sec}, eta {eta})")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar.set_message("verifying and adding ballots");
    let shape: Vec<usize> = open
        .ctx
        .manifest()
        .contests
        .iter()
        .map(|c| c.selections.len())
        .collect();
    let mut sums: Vec<Vec<Ciphertext>> =
        shape.iter().map(|&n| vec![Ciphertext::zero(); n]).collect();
    let mut after = None;
    let mut done = 0u64;
    tracing::info!(
        ballots = total,
        "verifying and aggregating the counted ballots"
    );
    loop {
        let page = state.db.counted_ballots(after, PAGE).await?;
        let Some(&(last, _)) = page.last() else { break };
        let open = Arc::clone(&open);
        let count = page.len() as u64;
        let page_sums =
            tokio::task::spawn_blocking(move || -> anyhow::Result<Vec<Vec<Ciphertext>>> {
                let ballots = page
                    .iter()
                    .map(|(index, bytes)| {
                        Ballot::from_bytes(bytes, &open.ctx)
                            .with_context(|| format!("board entry {index} does not decode"))
                    })
                    .collect::<anyhow::Result<Vec<_>>>()?;
                if let Err(e) = open
                    .ctx
                    .verify_batch_parallel(&ballots, &mut rand::rngs::OsRng)
                {
                    let named: Vec<String> = e
                        .failures
                        .iter()
                        .map(|(i, reason)| format!("entry {}: {reason}", page[*i].0))
                        .collect();
                    bail!("counted ballots fail verification: {}", named.join("; "));
                }
                Ok(open
                    .ctx
                    .manifest()
                    .contests
                    .iter()
                    .enumerate()
                    .map(|(c, contest)| {
                        (0..contest.selections.len())
                            .map(|s| {
                                Ciphertext::sum(
                                    ballots.iter().filter_map(|b| b.ciphertexts(c)?.get(s)),
                                )
                            })
                            .collect()
                    })
                    .collect())
            })
            .await
            .context("the verification task failed")??;
        for (acc, page) in sums.iter_mut().zip(&page_sums) {
            for (a, p) in acc.iter_mut().zip(page) {
                *a = Ciphertext::sum([&*a, p]);
            }
        }
        done += count;
        bar.set_position(done);
        set_progress(
            election,
            Aggregation {
                done,
                total,
                complete: false,
            },
        );
        after = Some(last);
    }
    bar.finish_and_clear();
    if done != total {
        bail!("read {done} counted ballots where the board counts {total}");
    }
    // The tally request: the aggregates, under the key ceremony's joint key.
    let store = DbStore::new(state.db.clone(), state.runtime.clone());
    let manifest = open.ctx.manifest().clone();
    let request = tokio::task::spawn_blocking(move || -> anyhow::Result<TallyRequest> {
        let key = KeyCeremony::load(&store, 0)?;
        let request = TallyRequest::for_sums(
            key.params.id(),
            key.outcome.joint_key,
            &manifest,
            total,
            &sums,
        );
        request
            .validate(&key.outcome)
            .context("the aggregate does not make a valid tally request")?;
        ceremony::publish(&store, TALLY_REQUEST, &request)?;
        Ok(request)
    })
    .await
    .context("the tally request task failed")??;
    tracing::info!(request = %request.digest(), ballots = total, "aggregation complete: tally request published");
    set_progress(
        election,
        Aggregation {
            done,
            total,
            complete: true,
        },
    );
    Ok(())
}

/// Combines the trustees' partial decryptions into the results (nothing to decrypt when no
/// ballot counts).
pub async fn tally(state: &AppState, election: &Election) -> anyhow::Result<Results> {
    let (counted, root, size) = {
        let view = election.board.view.read().await;
        (view.counted.len() as u64, view.tree.root(), view.tree.len())
    };
    let outcome: Option<TallyOutcome> = if counted == 0 {
        None
    } else {
        let store = DbStore::new(state.db.clone(), state.runtime.clone());
        Some(
            tokio::task::spawn_blocking(move || ceremony::combine_store(&store, 0))
                .await
                .context("the tally task failed")??,
        )
    };
    Ok(Results::from_tally(
        election.id,
        &election.manifest,
        counted,
        outcome.as_ref(),
        &root,
        size,
    ))
}

/// The stored results, if the election is tallied.
pub async fn stored_results(state: &AppState) -> anyhow::Result<Option<Results>> {
    match state.db.document(RESULTS).await? {
        Some(bytes) => Ok(Some(
            serde_json::from_slice(&bytes).context("the stored results are corrupt")?,
        )),
        None => Ok(None),
    }
}
