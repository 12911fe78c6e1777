//! The officials' dashboard (`/officials`): the election's state, turnout, the board, the
//! anchoring, the ceremonies and the booth, with the open / close / tally steps.
//!
//! The admin token is typed into a password field and kept in this page's memory only: never
//! stored, never put in a URL.

use leptos::prelude::*;
use leptos::task::spawn_local;
use tabella_crypto::api::{AdminStatus, AnchorItem, CeremonyProgress, ElectionState};

use super::alert::Alert;
use super::results::ContestResults;
use super::table::DataTable;
use super::turnout_chart::TurnoutChart;
use crate::chart::{clock, percent};
use crate::outcome::{self, Contest};
use crate::web::api::{self, AdminAction};
use crate::web::browser;

impl AdminAction {
    fn label(self) -> &'static str {
        match self {
            AdminAction::Open => "Open voting",
            AdminAction::Close => "Close voting",
            AdminAction::Tally => "Tally",
        }
    }

    fn warning(self) -> &'static str {
        match self {
            AdminAction::Open => {
                "Open voting now? The voter list and the election key are then fixed for good."
            }
            AdminAction::Close => {
                "Close voting now? No voter can vote after this, and voting cannot be opened again. This cannot be undone."
            }
            AdminAction::Tally => {
                "Combine the trustees' partial decryptions and publish the results now?"
            }
        }
    }

    /// Whether the step makes sense in `state` (the service decides; this only greys out).
    fn allowed(self, state: Option<ElectionState>) -> bool {
        self.why_not(state).is_none()
    }

    /// Why the step cannot be taken in `state`, in words (shown under a disabled button).
    fn why_not(self, state: Option<ElectionState>) -> Option<&'static str> {
        use ElectionState::{Closed, Open, Setup, Tallied};
        match (self, state) {
            (_, None) => Some("No election has been created yet."),
            (AdminAction::Open, Some(Setup))
            | (AdminAction::Close, Some(Open))
            | (AdminAction::Tally, Some(Closed)) => None,
            (AdminAction::Open, Some(Open)) => Some("Voting is already open."),
            (AdminAction::Open, Some(Closed | Tallied)) => {
                Some("Voting has closed; it cannot open again.")
            }
            (AdminAction::Close, Some(Setup)) => Some("Voting has not opened yet."),
            (AdminAction::Close, Some(Closed | Tallied)) => Some("Voting is already closed."),
            (AdminAction::Tally, Some(Setup | Open)) => Some("Close voting first."),
            (AdminAction::Tally, Some(Tallied)) => Some("The results are already published."),
        }
    }

    /// Whether the step cannot be undone and ends something for good (styled as a warning).
    fn destructive(self) -> bool {
        matches!(self, AdminAction::Close)
    }

    /// The button's id.
    fn id(self) -> &'static str {
        match self {
            AdminAction::Open => "open-election",
            AdminAction::Close => "close-election",
            AdminAction::Tally => "tally-election",
        }
    }
}

/// The dashboard page.
#[component]
pub(crate) fn Officials() -> impl IntoView {
    browser::set_title("Officials");
    let token = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let status = RwSignal::new(None::<AdminStatus>);
    let busy = RwSignal::new(false);
    let confirm = RwSignal::new(None::<AdminAction>);
    let done = RwSignal::new(None::<String>);
    // The published results, once tallied.
    let results = RwSignal::new(None::<Vec<Contest>>);

    let load = move || {
        let t = token.get_untracked();
        if t.is_empty() {
            error.set(Some("Enter the admin token first.".to_owned()));
            return;
        }
        busy.set(true);
        spawn_local(async move {
            let answer = api::admin_status(&t).await;
            busy.set(false);
            match answer {
                Ok(s) => {
                    error.set(None);
                    let tallied = s
                        .election
                        .as_ref()
                        .filter(|e| e.state == ElectionState::Tallied)
                        .map(|e| e.manifest.clone());
                    status.set(Some(s));
                    results.set(None);
                    if let Some(manifest) = tallied {
                        match api::results().await {
                            Ok(r) => match outcome::summarize(&manifest, &r) {
                                Ok(c) => results.set(Some(c)),
                                Err(e) => error.set(Some(e.to_string())),
                            },
                            Err(e) => error.set(Some(e.words())),
                        }
                    }
                }
                Err(e) => {
                    status.set(None);
                    error.set(Some(e.words()));
                }
            }
        });
    };
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        done.set(None);
        load();
    };
    let run = move |action: AdminAction| {
        confirm.set(None);
        let t = token.get_untracked();
        busy.set(true);
        spawn_local(async move {
            let answer = api::admin_action(action, &t).await;
            busy.set(false);
            match answer {
                Ok(()) => {
                    error.set(None);
                    done.set(Some(format!("{}: done.", action.label())));
                    load();
                }
                Err(e) => error.set(Some(e.words())),
            }
        });
    };

    let state = move || {
        status.with(|s| {
            s.as_ref()
                .and_then(|s| s.election.as_ref())
                .map(|e| e.state)
        })
    };
    let action_button = move |action: AdminAction| {
        let why_id = format!("{}-why", action.id());
        view! {
            <div class="action">
                <button
                    id=action.id()
                    type="button"
                    class=if action.destructive() { "warning" } else { "" }
                    aria-describedby=why_id.clone()
                    disabled=move || busy.get() || !action.allowed(state())
                    on:click=move |_| {
                        done.set(None);
                        confirm.set(Some(action));
                        browser::focus("confirm-heading");
                    }
                >
                    {action.label()}
                </button>
                <p id=why_id class="help">
                    {move || action.why_not(state()).unwrap_or_default()}
                </p>
            </div>
        }
    };
    // Escape, or Cancel, closes the question and puts the focus back on the step's button.
    let cancel = move || {
        if let Some(action) = confirm.get_untracked() {
            confirm.set(None);
            browser::focus(action.id());
        }
    };

    view! {
        <h1>"Officials' dashboard"</h1>
        <form on:submit=submit class="inline">
            <label for="admin-token">"Admin token"</label>
            <input
                id="admin-token"
                type="password"
                autocomplete="off"
                prop:value=move || token.get()
                on:input=move |ev| token.set(event_target_value(&ev))
            />
            <button id="dashboard-load" type="submit" class="primary" disabled=move || busy.get()>
                {move || if status.with(Option::is_some) { "Refresh" } else { "Load the dashboard" }}
            </button>
        </form>
        <p class="help">"The token stays in this page's memory: it is not stored, and is forgotten when you leave the page."</p>
        <Alert error />
        <p role="status">{move || done.get()}</p>
        {move || {
            status
                .get()
                .map(|s| {
                    view! {
                        <Dashboard status=s />
                        {move || {
                            results
                                .get()
                                .map(|contests| {
                                    view! {
                                        <section id="dashboard-results" aria-labelledby="dashboard-results-heading">
                                            <h2 id="dashboard-results-heading">"Results"</h2>
                                            {contests
                                                .into_iter()
                                                .map(|c| view! { <ContestResults contest=c /> })
                                                .collect_view()}
                                        </section>
                                    }
                                })
                        }}
                        <section aria-labelledby="actions-heading">
                            <h2 id="actions-heading">"Steps"</h2>
                            <div class="actions">
                                {action_button(AdminAction::Open)}
                                {action_button(AdminAction::Close)}
                                {action_button(AdminAction::Tally)}
                            </div>
                        </section>
                    }
                })
        }}
        {move || {
            confirm
                .get()
                .map(|action| {
                    view! {
                        <section
                            id="confirm"
                            class=if action.destructive() { "confirm destructive" } else { "confirm" }
                            role="alertdialog"
                            aria-labelledby="confirm-heading"
                            aria-describedby="confirm-text"
                            on:keydown=move |ev| {
                                if ev.key() == "Escape" {
                                    ev.prevent_default();
                                    cancel();
                                }
                            }
                        >
                            <h2 id="confirm-heading" tabindex="-1">
                                {if action.destructive() {
                                    format!("{}: this cannot be undone", action.label())
                                } else {
                                    action.label().to_owned()
                                }}
                            </h2>
                            <p id="confirm-text">{action.warning()}</p>
                            <div class="actions">
                                <button
                                    id="confirm-action"
                                    type="button"
                                    class=if action.destructive() { "warning" } else { "primary" }
                                    on:click=move |_| run(action)
                                >
                                    {format!("Yes: {}", action.label().to_lowercase())}
                                </button>
                                <button id="cancel-action" type="button" on:click=move |_| cancel()>
                                    "Cancel (Esc)"
                                </button>
                            </div>
                        </section>
                    }
                })
        }}
    }
}

/// The figures of an [`AdminStatus`].
#[component]
fn Dashboard(
    /// What the service says.
    status: AdminStatus,
) -> impl IntoView {
    let Some(election) = status.election.clone() else {
        return view! { <p id="election-state">"No election has been created on this service yet."</p> }
            .into_any();
    };
    let voters = election.voters.unwrap_or(0);
    let voted = status.turnout.last().map_or(0, |p| p.voters);
    let board = election.board;
    let aggregation = election.aggregation.map(|a| {
        format!(
            "{} of {} counted ballots verified and added{}",
            a.done,
            a.total,
            if a.complete {
                "; the tally request is published"
            } else {
                ""
            }
        )
    });
    let anchor_rows = status.anchoring.items.iter().map(anchor_row).collect_view();
    view! {
        <section aria-labelledby="election-heading">
            <h2 id="election-heading">{election.manifest.title.clone()}</h2>
            <dl class="figures">
                <div><dt>"State"</dt><dd id="election-state">{election.state.as_str()}</dd></div>
                <div><dt>"Board entries"</dt><dd id="board-size">{board.size}</dd></div>
                <div><dt>"Eligible voters"</dt><dd id="voters">{election.voters.map_or_else(|| "not imported".to_owned(), |v| v.to_string())}</dd></div>
                <div><dt>"Turnout"</dt><dd id="turnout">{format!("{voted} ({})", percent(voted, voters))}</dd></div>
                <div><dt>"Counted / superseded / spoiled"</dt><dd>{format!("{} / {} / {}", board.counted, board.superseded, board.spoiled)}</dd></div>
            </dl>
            {aggregation.map(|a| view! { <p>"Aggregation: " {a}</p> })}
            <p>"Election id: " <code class="hex">{election.election_id.to_hex()}</code></p>
        </section>
        <section aria-labelledby="turnout-heading">
            <h2 id="turnout-heading">"Turnout over time"</h2>
            <TurnoutChart points=status.turnout.clone() />
        </section>
        <Ceremony progress=status.ceremony.clone() />
        <section aria-labelledby="anchoring-heading">
            <h2 id="anchoring-heading">"Checkpoints and anchor transactions"</h2>
            {if status.anchoring.enabled {
                format!(
                    "Chain id {}, registry {}; oldest item waiting: {:.0} s.",
                    status.anchoring.chain_id.map_or_else(|| "unknown".to_owned(), |c| c.to_string()),
                    status.anchoring.contract.clone().unwrap_or_else(|| "not deployed yet".to_owned()),
                    status.anchoring.lag_seconds
                )
            } else {
                "This service does not anchor on a chain.".to_owned()
            }}
            <DataTable
                id="checkpoints-table"
                caption="The anchoring queue, in the order items are sent"
                headers=&["What", "State", "Board size", "Transaction", "Block", "Gas", "Anchored (UTC)"]
            >
                {anchor_rows}
            </DataTable>
        </section>
        <section aria-labelledby="booth-heading">
            <h2 id="booth-heading">"Booth"</h2>
            {match &status.booth {
                None => "This service serves no booth.".to_owned(),
                Some(b) => format!(
                    "Serving the booth {}; {}",
                    b.digest,
                    match b.published {
                        Some(true) => "the election's manifest publishes it.",
                        Some(false) => "WARNING: the election's manifest publishes another booth.",
                        None => "no election yet.",
                    }
                ),
            }}
        </section>
    }
    .into_any()
}

fn anchor_row(item: &AnchorItem) -> impl IntoView {
    let dash = || "—".to_owned();
    view! {
        <tr data-kind=item.kind.as_str() data-state=item.state.as_str()>
            <td>{item.kind.as_str()}</td>
            <td>
                {item.state.as_str()}
                {item.last_error.clone().map(|e| format!(" ({e})"))}
            </td>
            <td class="num">{item.size.map_or_else(dash, |s| s.to_string())}</td>
            <td><code class="hex">{item.transaction.clone().unwrap_or_else(dash)}</code></td>
            <td class="num">{item.block_number.map_or_else(dash, |b| b.to_string())}</td>
            <td class="num">{item.gas_used.map_or_else(dash, |g| g.to_string())}</td>
            <td>{item.anchored_at.map_or_else(dash, clock)}</td>
        </tr>
    }
}

/// `#ceremony-progress`: the key ceremony and, after the close, the tally ceremony.
#[component]
fn Ceremony(
    /// The ceremony's progress.
    progress: CeremonyProgress,
) -> impl IntoView {
    let n = progress.trustees;
    let of = |k: u32| match n {
        Some(n) => format!("{k} of {n}"),
        None => k.to_string(),
    };
    let steps = vec![
        (
            "Trustees and threshold",
            match (progress.trustees, progress.threshold) {
                (Some(n), Some(t)) => format!("{t} of {n} trustees needed to decrypt"),
                _ => "ceremony.json not published yet".to_owned(),
            },
        ),
        (
            "Trustees who sent their shares of the key (dealer messages)",
            of(progress.dealers),
        ),
        (
            "Trustees who checked the shares they received (check messages)",
            of(progress.checks),
        ),
        (
            "Election key, made from the trustees' shares (joint key)",
            if progress.joint_key {
                "known".to_owned()
            } else {
                "not yet".to_owned()
            },
        ),
        (
            "Trustees who helped decrypt the results (partial decryptions)",
            match progress.threshold {
                Some(t) => format!("{} (at least {t} needed)", progress.partials),
                None => progress.partials.to_string(),
            },
        ),
    ];
    view! {
        <section aria-labelledby="ceremony-heading">
            <h2 id="ceremony-heading">"Ceremonies"</h2>
            <dl id="ceremony-progress" class="figures" data-joint-key=progress.joint_key.to_string()>
                {steps
                    .into_iter()
                    .map(|(k, v)| view! { <div><dt>{k}</dt><dd>{v}</dd></div> })
                    .collect_view()}
            </dl>
            <details>
                <summary>{format!("{} published messages", progress.messages.len())}</summary>
                <ul>{progress.messages.into_iter().map(|m| view! { <li><code>{m}</code></li> }).collect_view()}</ul>
            </details>
        </section>
    }
}
