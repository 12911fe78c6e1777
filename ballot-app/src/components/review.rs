//! The review screen.

use leptos::prelude::*;
use tabella_crypto::manifest::Contest;

use crate::rules::{self, Entry};

/// `#review`: every contest with the choices in words and a "Change" link to it
/// (`#change-{contest}`, the GOV.UK "check your answers" pattern), `#back-button` to change
/// them all and `#encrypt-button` to encrypt.
#[component]
pub(crate) fn Review(
    /// The contests, in ballot order.
    contests: Vec<Contest>,
    /// The entries, one row per contest.
    entries: RwSignal<Vec<Vec<Entry>>>,
    /// When the voter's earlier ballot (with the same code) was received, in their words, if
    /// they have voted before: casting this one replaces it.
    earlier: Option<String>,
    /// Back to the choices.
    on_back: Callback<()>,
    /// Back to the choices of one contest (its position).
    on_change: Callback<usize>,
    /// Encrypt these choices.
    on_encrypt: Callback<()>,
) -> impl IntoView {
    let rows = entries.get_untracked();
    let items = contests
        .iter()
        .enumerate()
        .map(|(i, contest)| {
            let values: Vec<u64> = rows
                .get(i)
                .map(|row| row.iter().filter_map(|e| e.value()).collect())
                .unwrap_or_default();
            let lines = rules::describe(contest, &values);
            view! {
                <li>
                    <span class="contest-title">{contest.title.clone()}</span>
                    <ul>{lines.into_iter().map(|l| view! { <li>{l}</li> }).collect_view()}</ul>
                    <a
                        id=format!("change-{}", contest.id)
                        href=format!("#contest-{}", contest.id)
                        on:click=move |ev| {
                            ev.prevent_default();
                            on_change.run(i);
                        }
                    >
                        "Change"
                        <span class="visually-hidden">{format!(" your choices for {}", contest.title)}</span>
                    </a>
                </li>
            }
        })
        .collect_view();
    view! {
        <section id="review" aria-labelledby="review-heading">
            <h2 id="review-heading" tabindex="-1">"Check your choices"</h2>
            {earlier
                .map(|when| {
                    view! {
                        <div id="replaces-earlier" class="warning-text" role="note">
                            <strong>
                                {format!(
                                    "You have already voted with this code (on {when}). If you cast this ballot, it replaces your earlier one: only your last ballot counts."
                                )}
                            </strong>
                        </div>
                    }
                })}
            <ul class="review">{items}</ul>
            <div class="actions">
                <button id="back-button" type="button" on:click=move |_| on_back.run(())>
                    "Change my choices"
                </button>
                <button id="encrypt-button" type="button" class="primary" on:click=move |_| on_encrypt.run(())>
                    "Encrypt my ballot"
                </button>
            </div>
        </section>
    }
}
