//! The results page (`/results`): anyone can read the published results, contest by contest,
//! each on its own scale (a bar chart and, beside it, the same figures as a table), with shares
//! and who leads where the contest's rule says. No verification needed first; the observer page
//! verifies (it is linked).

use leptos::prelude::*;
use leptos::task::spawn_local;
use tabella_crypto::api::ElectionState;

use super::alert::Alert;
use super::table::DataTable;
use super::totals_chart::value_axis;
use crate::chart::{nice_ceiling, scale};
use crate::outcome::{self, Contest};
use crate::web::{api, browser};

/// Layout of one contest's chart, in SVG units (it scales with the page through its
/// `viewBox`).
const WIDTH: f64 = 640.0;
const LABEL: f64 = 190.0;
const BAR: f64 = 22.0;
const GAP: f64 = 8.0;
const AXIS: f64 = 24.0;
const RIGHT: f64 = 90.0;

/// What the page shows.
#[derive(Clone, Debug, PartialEq)]
enum Shown {
    Loading,
    /// Not published yet, in words.
    NotYet(String),
    Published {
        title: String,
        ballots: u64,
        contests: Vec<Contest>,
    },
}

/// The results page.
#[component]
pub(crate) fn ResultsPage() -> impl IntoView {
    browser::set_title("Results");
    let error = RwSignal::new(None::<String>);
    let shown = RwSignal::new(Shown::Loading);
    spawn_local(async move {
        match load().await {
            Ok(s) => shown.set(s),
            Err(e) => {
                error.set(Some(e));
                shown.set(Shown::NotYet(
                    "The results could not be fetched just now. Reload the page to try again."
                        .to_owned(),
                ));
            }
        }
    });
    view! {
        <h1>"Results"</h1>
        <Alert error />
        {move || match shown.get() {
            Shown::Loading => view! { <p role="status">"Fetching the results…"</p> }.into_any(),
            Shown::NotYet(words) => {
                view! { <p id="results-not-yet" class="notice">{words}</p> }.into_any()
            }
            Shown::Published { title, ballots, contests } => {
                view! {
                    <section id="results" aria-labelledby="results-heading">
                        <h2 id="results-heading">{title}</h2>
                        <p id="results-ballots">
                            {format!("{ballots} ballots were counted.")}
                        </p>
                        <p>
                            "These are the results the election published. Anyone can check them independently on the "
                            <a href="/observer">"Verify the election"</a>
                            " page."
                        </p>
                        {contests.into_iter().map(|c| view! { <ContestResults contest=c /> }).collect_view()}
                    </section>
                }
                    .into_any()
            }
        }}
    }
}

/// Fetches the election and, once tallied, its results.
async fn load() -> Result<Shown, String> {
    let info = api::election().await.map_err(|e| e.words())?;
    let title = info.manifest.title.clone();
    let not_yet = match info.state {
        ElectionState::Setup => Some("Voting has not opened yet. The results are published here once the votes are counted."),
        ElectionState::Open => Some("Voting is open. The results are published here once voting has closed and the votes are counted."),
        ElectionState::Closed => Some("Voting has closed and the votes are being counted. The results are published here as soon as the count is done."),
        ElectionState::Tallied => None,
    };
    if let Some(words) = not_yet {
        return Ok(Shown::NotYet(words.to_owned()));
    }
    let results = api::results().await.map_err(|e| e.words())?;
    let contests = outcome::summarize(&info.manifest, &results).map_err(|e| e.to_string())?;
    Ok(Shown::Published {
        title,
        ballots: results.ballots_counted,
        contests,
    })
}

/// One contest: its title, who leads, a chart on its own scale and the table of figures.
#[component]
pub(crate) fn ContestResults(contest: Contest) -> impl IntoView {
    let id = format!("result-{}", contest.id);
    let heading = format!("{id}-heading");
    let labelled_by = heading.clone();
    let table = format!("{id}-table");
    let unit = contest.unit;
    let rows = contest
        .rows
        .iter()
        .map(|r| {
            view! {
                <tr class=if r.leads { "leads" } else { "" } data-selection=r.id.clone()>
                    <th scope="row">
                        {r.label.clone()}
                        {r.leads.then_some(view! { <span class="tag">" (leads)"</span> })}
                    </th>
                    <td class="number total">{r.total}</td>
                    <td class="number">{format!("{:.1} %", r.percent)}</td>
                </tr>
            }
        })
        .collect_view();
    let headers: &'static [&'static str] = match unit {
        "votes" => &["Option", "Votes", "Share"],
        "approvals" => &["Option", "Approvals", "Share"],
        _ => &["Option", "Points", "Share"],
    };
    view! {
        <section id=id class="contest-results" aria-labelledby=labelled_by>
            <h3 id=heading>{contest.title.clone()}</h3>
            <p class="leading"><strong>{contest.leading.clone()}</strong></p>
            <Chart contest=contest.clone() />
            <DataTable id=table caption=format!("{}: the same figures as the chart", contest.title) headers>
                {rows}
            </DataTable>
            <p class="help">{format!("Share: {}.", contest.share_means)}</p>
        </section>
    }
}

/// A contest's totals as horizontal bars, on the contest's own scale; the leading options'
/// bars are marked by a pattern as well as a colour (and named in the table).
#[component]
fn Chart(contest: Contest) -> impl IntoView {
    let max = contest.rows.iter().map(|r| r.total).max().unwrap_or(0);
    let top = nice_ceiling(max);
    let plot = WIDTH - LABEL - RIGHT;
    let mut y = 0.0;
    let bars = contest
        .rows
        .iter()
        .map(|r| {
            let bar_y = y;
            y += BAR + GAP;
            let length = scale(r.total, top, plot);
            view! {
                <g class=if r.leads { "bar leads" } else { "bar" }>
                    <text x=LABEL - 8.0 y=bar_y + BAR * 0.7 text-anchor="end">{r.label.clone()}</text>
                    <rect x=LABEL y=bar_y width=format!("{length:.1}") height=BAR></rect>
                    <text x=LABEL + length + 6.0 y=bar_y + BAR * 0.7 class="value">
                        {format!("{} ({:.1} %)", r.total, r.percent)}
                    </text>
                </g>
            }
        })
        .collect_view();
    let height = y + AXIS;
    let axis = value_axis(top, LABEL, plot, y);
    let title_id = format!("chart-{}-title", contest.id);
    let labelled_by = title_id.clone();
    view! {
        <svg
            class="chart results-chart"
            role="img"
            aria-labelledby=labelled_by
            viewBox=format!("0 0 {WIDTH} {height:.0}")
            preserveAspectRatio="xMinYMin meet"
        >
            <title id=title_id>
                {format!("{}: {} per option, as bars (the table below has the same figures)", contest.title, contest.unit)}
            </title>
            <g class="axis">{axis}</g>
            {bars}
        </svg>
    }
}
