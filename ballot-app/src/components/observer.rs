//! The observer page (`/observer`): the election record verified in the browser.
//!
//! The record comes from the service (`GET /v1/record/…`) or from a folder on the observer's
//! disk; either way the browser runs the same streaming verifier as `tabella verify`
//! (`RecordVerifier`, spec/verification.md), feeding `ballots.jsonl` in chunks and yielding to
//! the page between them so the progress bar moves. The booth digest computed in the footer is
//! the booth V22 compares with the manifest. V20 and V21 read the chain, which a browser cannot.

use std::collections::BTreeMap;

use leptos::prelude::*;
use leptos::task::spawn_local;
use rand_core::OsRng;
use tabella_crypto::api::ElectionState;
use tabella_crypto::booth::BoothDigest;
use tabella_crypto::record::{
    Outcome, RecordVerifier, Report, Results, VerifyOptions, BALLOTS, INDEX,
};
use wasm_bindgen::JsCast;

use super::alert::Alert;
use super::app::BoothState;
use super::table::DataTable;
use super::totals_chart::TotalsChart;
use crate::error::ApiError;
use crate::explain::explain;
use crate::paths;
use crate::web::api;
use crate::web::browser::{self, blob_bytes, next_tick, paint, relative_path};
use crate::web::integrity::BoothCheck;

/// How much of `ballots.jsonl` the verifier gets at a time: a few lines.
const CHUNK: usize = 32 * 1024;

/// Ballots the verifier checks together. The page is frozen while a batch is checked, so a
/// batch is kept small: 16 ballots' proofs rather than the verifier's default 256, so that the
/// progress bar moves and the page answers between batches.
const BATCH: usize = 16;

/// The progress bar's scale: documents take the first tenth, ballots the rest.
const PROGRESS_MAX: f64 = 1000.0;

/// Where the record comes from.
enum Source {
    /// `GET /v1/record/{path}` on this service.
    Service,
    /// Files picked from a folder, by record path.
    Folder(BTreeMap<String, web_sys::File>),
}

impl Source {
    /// The whole file at `path`, `None` when it is not there.
    async fn read(&self, path: &str) -> Result<Option<Vec<u8>>, String> {
        match self {
            Source::Service => match api::record_file(path).await {
                Ok(bytes) => Ok(Some(bytes)),
                Err(e) if e.is_not_found() || matches!(e, ApiError::Status(404)) => Ok(None),
                Err(e) => Err(e.words()),
            },
            Source::Folder(files) => match files.get(path) {
                Some(file) => blob_bytes(file, None).await.map(Some),
                None => Ok(None),
            },
        }
    }
}

/// Where the verification is.
#[derive(Clone, Debug, PartialEq)]
struct Progress {
    value: f64,
    text: String,
}

/// The observer page.
#[component]
pub(crate) fn Observer() -> impl IntoView {
    browser::set_title("Verify the election");
    let booth = expect_context::<BoothState>().0;
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let progress = RwSignal::new(Progress {
        value: 0.0,
        text: String::new(),
    });
    let report = RwSignal::new(None::<Report>);

    let start = move |source: Source| {
        if busy.get_untracked() {
            return;
        }
        busy.set(true);
        error.set(None);
        report.set(None);
        spawn_local(async move {
            // The footer's digest first: V22 compares the booth this page runs with the manifest.
            let digest = loop {
                match booth.try_get_untracked() {
                    Some(BoothCheck::Checking) => browser::sleep(50).await,
                    Some(check) => break check.digest(),
                    None => return,
                }
            };
            let outcome = verify(source, digest, progress).await;
            busy.set(false);
            match outcome {
                Ok(r) => report.set(Some(r)),
                Err(e) => error.set(Some(e)),
            }
        });
    };

    // `webkitdirectory` (pick a whole folder) is not a standard attribute the view knows.
    let folder = NodeRef::<leptos::html::Input>::new();
    Effect::new(move |_| {
        if let Some(input) = folder.get() {
            let _ = input.set_attribute("webkitdirectory", "");
        }
    });
    // Whether this service has a record yet, said before anyone presses the button.
    let record_state = RwSignal::new(None::<String>);
    spawn_local(async move {
        let said = match api::election().await {
            Ok(info) => match info.state {
                ElectionState::Tallied => "This service's election is counted: its record is ready to verify.".to_owned(),
                ElectionState::Setup => "There is no election record to verify yet: voting has not opened. The record is published once voting has closed and the votes are counted.".to_owned(),
                ElectionState::Open => "There is no election record to verify yet: voting is open. The record is published once voting has closed and the votes are counted.".to_owned(),
                ElectionState::Closed => "There is no election record to verify yet: voting has closed and the votes are being counted. The record is published as soon as the count is done.".to_owned(),
            },
            Err(e) => format!("This service did not say whether its record is ready ({}); you can still open a record folder.", e.words()),
        };
        record_state.set(Some(said));
    });
    let fetch = move |_| start(Source::Service);
    let pick = move |ev: leptos::ev::Event| {
        let Some(input) = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
        else {
            return;
        };
        let Some(list) = input.files() else {
            return;
        };
        let mut files = BTreeMap::new();
        for i in 0..list.length() {
            if let Some(file) = list.item(i) {
                if let Some(path) = paths::record_path(&relative_path(&file)) {
                    files.insert(path, file);
                }
            }
        }
        if !files.contains_key(INDEX) {
            error.set(Some(format!(
                "That folder has no {INDEX} at its top: choose the record's own folder."
            )));
            return;
        }
        start(Source::Folder(files));
    };

    view! {
        <h1>"Verify the election"</h1>
        <p>
            "Your browser checks the whole election record from scratch, with the same verifier as the "
            <code>"tabella verify"</code>
            " command: every signature, every ballot's proofs, the board's tree, the key ceremony, the tally and its decryption proofs."
        </p>
        <p id="observer-record-state">{move || record_state.get()}</p>
        <div class="actions">
            <button id="observer-fetch" type="button" class="primary" disabled=move || busy.get() on:click=fetch>
                "Fetch this service's record"
            </button>
        </div>
        <p>
            <label for="observer-files">"Or open a record folder from your device"</label>
            <input
                id="observer-files"
                type="file"
                multiple=true
                node_ref=folder
                disabled=move || busy.get()
                on:change=pick
            />
        </p>
        <label for="observer-progress">"Verification progress"</label>
        <progress id="observer-progress" max=PROGRESS_MAX value=move || progress.get().value></progress>
        <p role="status">{move || progress.get().text}</p>
        <Alert error />
        {move || report.get().map(|r| view! { <ReportView report=r /> })}
    }
}

/// Runs the verifier over `source`.
async fn verify(
    source: Source,
    booth: Option<BoothDigest>,
    progress: RwSignal<Progress>,
) -> Result<Report, String> {
    let say = |value: f64, text: String| progress.set(Progress { value, text });
    say(0.0, format!("Reading {INDEX}…"));
    paint().await;
    let Some(index) = source.read(INDEX).await? else {
        return Err(format!("The record has no {INDEX}."));
    };
    let options = VerifyOptions {
        booth,
        ..VerifyOptions::default()
    };
    let mut verifier = RecordVerifier::new(&index, options, &mut OsRng).with_batch_size(BATCH);
    if let Source::Folder(files) = &source {
        for path in files.keys() {
            if path != INDEX && verifier.listed_size(path).is_none() {
                verifier.unlisted_file(path);
            }
        }
    }
    let documents = verifier.documents();
    let count = documents.len().max(1) as f64;
    for (i, path) in documents.iter().enumerate() {
        say(
            PROGRESS_MAX * 0.1 * i as f64 / count,
            format!("Checking {path} ({} of {})…", i + 1, documents.len()),
        );
        next_tick().await;
        if let Some(bytes) = source.read(path).await? {
            verifier.document(path, &bytes);
        }
    }
    if let Some(total) = verifier.ballots_size() {
        let total_f = (total as f64).max(1.0);
        let mut fed = 0u64;
        let feed = |verifier: &mut RecordVerifier, chunk: &[u8], fed: &mut u64| {
            verifier.ballots(chunk);
            *fed += chunk.len() as u64;
            say(
                PROGRESS_MAX * (0.1 + 0.9 * (*fed as f64 / total_f).min(1.0)),
                format!(
                    "Checking the ballots: {} entries so far ({} of {} KiB)…",
                    verifier.entries_checked(),
                    *fed / 1024,
                    total / 1024
                ),
            );
        };
        match &source {
            Source::Service => {
                say(PROGRESS_MAX * 0.1, format!("Fetching {BALLOTS}…"));
                next_tick().await;
                if let Some(bytes) = source.read(BALLOTS).await? {
                    if bytes.is_empty() {
                        verifier.ballots(&[]);
                    }
                    for chunk in bytes.chunks(CHUNK) {
                        feed(&mut verifier, chunk, &mut fed);
                        next_tick().await;
                    }
                }
            }
            Source::Folder(files) => {
                if let Some(file) = files.get(BALLOTS) {
                    let size = file.size();
                    if size == 0.0 {
                        verifier.ballots(&[]);
                    }
                    let mut start = 0.0;
                    while start < size {
                        let end = (start + CHUNK as f64).min(size);
                        let chunk = blob_bytes(file, Some((start, end))).await?;
                        feed(&mut verifier, &chunk, &mut fed);
                        start = end;
                        next_tick().await;
                    }
                }
            }
        }
    }
    say(
        PROGRESS_MAX,
        "Finishing: the tally and its proofs…".to_owned(),
    );
    paint().await;
    let report = verifier.finish();
    say(
        PROGRESS_MAX,
        format!("Done: {} board entries checked.", report.counts.entries),
    );
    Ok(report)
}

fn outcome_name(outcome: Outcome) -> &'static str {
    match outcome {
        Outcome::Passed => "passed",
        Outcome::Failed => "failed",
        Outcome::Skipped => "skipped",
    }
}

/// The verdict, the numbered checks and the totals.
#[component]
fn ReportView(
    /// The verifier's report.
    report: Report,
) -> impl IntoView {
    let passed = report.passed();
    let verdict = if passed {
        format!(
            "The record verifies: every check that can run in a browser passed ({} board entries, {} counted).",
            report.counts.entries, report.counts.counted
        )
    } else {
        match report.first_failure() {
            Some(c) => format!(
                "The record does NOT verify. First problem: {} ({}){}",
                c.check.id(),
                c.title,
                c.detail
                    .as_deref()
                    .map(|d| format!(": {d}"))
                    .unwrap_or_default()
            ),
            None => "The record does NOT verify.".to_owned(),
        }
    };
    let chain_skipped = report.chain.is_none();
    let rows = report
        .checks
        .iter()
        .map(|c| {
            let outcome = outcome_name(c.outcome);
            let detail = if c.check.needs_chain() && chain_skipped {
                "Not run in the browser: it reads the chain. Run `tabella verify --rpc-url URL` for it.".to_owned()
            } else {
                c.detail.clone().unwrap_or_default()
            };
            view! {
                <tr data-check=c.check.id() data-outcome=outcome class=outcome>
                    <th scope="row">{c.check.id()}</th>
                    <td class="meaning">{explain(c.check)}</td>
                    <td>{c.title}</td>
                    <td class="outcome">{outcome}</td>
                    <td class="num">{c.items}</td>
                    <td class="detail">{detail}</td>
                </tr>
            }
        })
        .collect_view();
    let results: Option<Results> = report.results.clone();
    view! {
        <section aria-labelledby="verdict-heading">
            <h2 id="verdict-heading">"Verdict"</h2>
            <p id="observer-verdict" data-passed=passed.to_string() class=if passed { "ok" } else { "failed" }>
                {verdict}
            </p>
            {report
                .record_digest
                .clone()
                .map(|d| view! { <p>"Record digest: " <code class="hex">{d}</code></p> })}
            <p class="note">
                "V20 and V21 compare the record with the chain; a browser cannot read a chain, so they are not run here."
            </p>
        </section>
        <section aria-labelledby="checks-heading">
            <h2 id="checks-heading">"The checks"</h2>
            <DataTable
                id="checks-table"
                caption="The numbered checks of the verification spec, as run in this browser"
                headers=&["Check", "What it means", "Precisely", "Outcome", "Items", "Message"]
            >
                {rows}
            </DataTable>
        </section>
        {match results {
            Some(results) => view! { <Totals results /> }.into_any(),
            None => view! {
                <p>"Totals are shown only for a record that verifies."</p>
            }
                .into_any(),
        }}
    }
}

/// The results as a chart and a table.
#[component]
fn Totals(
    /// The verified results.
    results: Results,
) -> impl IntoView {
    let rows = results
        .contests
        .iter()
        .flat_map(|c| {
            c.selections.iter().map(move |s| {
                view! {
                    <tr data-contest=c.id.clone() data-selection=s.id.clone()>
                        <td>{c.title.clone()}</td>
                        <th scope="row">{s.label.clone()}</th>
                        <td class="total num">{s.total}</td>
                    </tr>
                }
            })
        })
        .collect_view();
    view! {
        <section aria-labelledby="totals-heading">
            <h2 id="totals-heading">"Results"</h2>
            <p>{format!("{} ballots counted.", results.ballots_counted)}</p>
            <TotalsChart results=results.clone() />
            <DataTable
                id="totals-table"
                caption="Totals per option (the same figures as the chart)"
                headers=&["Contest", "Option", "Total"]
            >
                {rows}
            </DataTable>
        </section>
    }
}
