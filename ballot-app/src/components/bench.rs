//! The bench page (`/bench`): P10 ballot encryption timed in this browser.
//!
//! P10 is one plurality contest `c` of 10 options. The page makes its own election (a joint
//! key and an election id drawn here), derives one credential once (Argon2id, not timed), then
//! times `ElectionContext::encrypt_ballot` (encryption, every proof, the signature) with
//! `performance.now()`, K times, after one untimed warm-up run that also builds the joint key's
//! table. `?runs=K` starts it at once.

use leptos::prelude::*;
use leptos::task::spawn_local;
use rand_core::{OsRng, RngCore};
use tabella_crypto::ballot::{ElectionContext, ElectionId};
use tabella_crypto::credential::{CredentialCode, CredentialSecret};
use tabella_crypto::elgamal::SecretKey;
use tabella_crypto::manifest::Manifest;

use super::alert::Alert;
use crate::stats::{summarise, Summary};
use crate::web::browser::{self, next_tick, now_ms, paint, query_param};

/// Runs when none are asked for.
const DEFAULT_RUNS: usize = 20;
/// Most runs one click may ask for.
const MAX_RUNS: usize = 1000;
/// Options of the P10 contest.
const OPTIONS: usize = 10;

/// What the bench measured.
#[derive(Clone, Debug, PartialEq)]
struct Measured {
    summary: Summary,
    warmup_ms: f64,
    samples: Vec<f64>,
}

/// The bench page.
#[component]
pub(crate) fn Bench() -> impl IntoView {
    browser::set_title("Bench");
    let requested = query_param("runs").and_then(|r| r.parse::<usize>().ok());
    let runs = RwSignal::new(requested.unwrap_or(DEFAULT_RUNS).clamp(1, MAX_RUNS));
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let done = RwSignal::new(0usize);
    let measured = RwSignal::new(None::<Measured>);

    let start = move || {
        if busy.get_untracked() {
            return;
        }
        let k = runs.get_untracked();
        busy.set(true);
        done.set(0);
        measured.set(None);
        error.set(None);
        spawn_local(async move {
            let result = bench(k, done).await;
            busy.set(false);
            match result {
                Ok(m) => measured.set(Some(m)),
                Err(e) => error.set(Some(e)),
            }
        });
    };
    if requested.is_some() {
        start();
    }

    view! {
        <h1>"Ballot encryption bench"</h1>
        <p>
            "Times the encryption of a P10 ballot (one contest, choose 1 of 10 options) with every proof and the signature, in this browser, with this page's own WebAssembly."
        </p>
        <form
            class="inline"
            on:submit=move |ev: leptos::ev::SubmitEvent| {
                ev.prevent_default();
                start();
            }
        >
            <label for="bench-runs">"Runs"</label>
            <input
                id="bench-runs"
                type="number"
                min="1"
                max=MAX_RUNS.to_string()
                prop:value=move || runs.get().to_string()
                on:input=move |ev| {
                    if let Ok(k) = event_target_value(&ev).trim().parse::<usize>() {
                        runs.set(k.clamp(1, MAX_RUNS));
                    }
                }
            />
            <button id="bench-run" type="submit" class="primary" disabled=move || busy.get()>
                "Run"
            </button>
        </form>
        <label for="bench-progress">"Runs done"</label>
        <progress id="bench-progress" max=move || runs.get() value=move || done.get()></progress>
        <Alert error />
        {move || {
            measured
                .get()
                .map(|m| {
                    let s = m.summary;
                    view! {
                        <p
                            id="bench-result"
                            role="status"
                            data-median-ms=format!("{:.3}", s.median)
                            data-p90-ms=format!("{:.3}", s.p90)
                            data-min-ms=format!("{:.3}", s.min)
                            data-runs=s.runs.to_string()
                            data-warmup-ms=format!("{:.3}", m.warmup_ms)
                        >
                            {format!(
                                "{} runs: median {:.1} ms, 90th percentile {:.1} ms, fastest {:.1} ms (warm-up run, with the key table: {:.1} ms).",
                                s.runs, s.median, s.p90, s.min, m.warmup_ms
                            )}
                        </p>
                        <details>
                            <summary>"Every run (ms)"</summary>
                            <p>{m.samples.iter().map(|t| format!("{t:.1}")).collect::<Vec<_>>().join(", ")}</p>
                        </details>
                    }
                })
        }}
    }
}

/// The P10 manifest (through JSON, so fields the manifest gains later keep their defaults).
fn p10() -> Result<Manifest, String> {
    let selections: Vec<serde_json::Value> = (0..OPTIONS)
        .map(|i| serde_json::json!({"id": format!("s{i}"), "label": format!("Option {i}")}))
        .collect();
    let manifest = serde_json::json!({
        "title": "P10 bench",
        "contests": [{"id": "c", "title": "Choose one", "style": {"type": "plurality"}, "selections": selections}],
    });
    serde_json::from_value(manifest).map_err(|e| e.to_string())
}

/// Sets up the bench election and times `k` encryptions.
async fn bench(k: usize, done: RwSignal<usize>) -> Result<Measured, String> {
    let joint_key = SecretKey::generate(&mut OsRng).public_key();
    let mut id = [0u8; 32];
    OsRng.fill_bytes(&mut id);
    let ctx = ElectionContext::new(ElectionId(id), p10()?, joint_key).map_err(|e| e.to_string())?;
    // One real credential, derived once and not timed: the bench measures encrypt + prove.
    let credential = CredentialSecret::derive(&CredentialCode::generate(&mut OsRng), &id);
    paint().await;

    let choice = |i: usize| -> Vec<Vec<u64>> {
        vec![(0..OPTIONS).map(|j| u64::from(j == i % OPTIONS)).collect()]
    };
    let start = now_ms();
    ctx.encrypt_ballot(&choice(0), &credential, &mut OsRng)
        .map_err(|e| e.to_string())?;
    let warmup_ms = now_ms() - start;
    next_tick().await;

    let mut samples = Vec::with_capacity(k);
    for i in 0..k {
        let choices = choice(i);
        let start = now_ms();
        let made = ctx.encrypt_ballot(&choices, &credential, &mut OsRng);
        let elapsed = now_ms() - start;
        made.map_err(|e| e.to_string())?;
        samples.push(elapsed);
        done.set(i + 1);
        next_tick().await;
    }
    let summary = summarise(&samples).ok_or("no timings")?;
    Ok(Measured {
        summary,
        warmup_ms,
        samples,
    })
}
