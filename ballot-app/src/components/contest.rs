//! One contest of the ballot, with its rule and live feedback.

use leptos::prelude::*;
use tabella_crypto::manifest::{Contest, ContestStyle};

use crate::rules::{self, Entry};

/// The id of the input of option `selection` of contest `contest`.
pub(crate) fn option_id(contest: &str, selection: &str) -> String {
    format!("sel-{contest}-{selection}")
}

/// The id of a contest's first input (where a link to the contest moves the focus).
pub(crate) fn first_option_id(contest: &Contest) -> Option<String> {
    contest
        .selections
        .first()
        .map(|s| option_id(&contest.id, &s.id))
}

/// `fieldset#contest-{id}`: the contest's title, its rule (`.contest-rule`), one input per
/// selection (`#sel-{contest}-{selection}`: radio buttons, checkboxes or number fields) and a
/// live line (`.contest-feedback`) saying whether the rule holds.
#[component]
pub(crate) fn ContestForm(
    /// The contest's position in the manifest.
    index: usize,
    /// The contest.
    contest: Contest,
    /// The whole ballot's entries, one row per contest.
    entries: RwSignal<Vec<Vec<Entry>>>,
) -> impl IntoView {
    let id = format!("contest-{}", contest.id);
    let rule_id = format!("{id}-rule");
    let feedback_id = format!("{id}-feedback");
    let described = format!("{rule_id} {feedback_id}");
    let feedback = {
        let contest = contest.clone();
        Memo::new(move |_| {
            entries.with(|rows| {
                rows.get(index)
                    .map(|row| rules::feedback(&contest, row))
                    .unwrap_or_else(|| rules::feedback(&contest, &[]))
            })
        })
    };
    let set = move |j: usize, entry: Entry, exclusive: bool| {
        entries.update(|rows| {
            if let Some(row) = rows.get_mut(index) {
                if exclusive {
                    row.iter_mut().for_each(|e| *e = Entry::Value(0));
                }
                if let Some(e) = row.get_mut(j) {
                    *e = entry;
                }
            }
        });
    };
    let value = move |j: usize| {
        entries.with(|rows| {
            rows.get(index)
                .and_then(|row| row.get(j))
                .copied()
                .unwrap_or(Entry::Value(0))
        })
    };
    let style = contest.style;
    let group = format!("choice-{}", contest.id);
    let inputs = contest
        .selections
        .iter()
        .enumerate()
        .map(|(j, selection)| {
            let input_id = option_id(&contest.id, &selection.id);
            let label = selection.label.clone();
            let input = match style {
                ContestStyle::Plurality => view! {
                    <input
                        type="radio"
                        id=input_id.clone()
                        name=group.clone()
                        prop:checked=move || value(j) == Entry::Value(1)
                        on:change=move |_| set(j, Entry::Value(1), true)
                    />
                }
                .into_any(),
                ContestStyle::Approval { .. } => view! {
                    <input
                        type="checkbox"
                        id=input_id.clone()
                        prop:checked=move || value(j) == Entry::Value(1)
                        on:change=move |ev| {
                            let on = event_target_checked(&ev);
                            set(j, Entry::Value(u64::from(on)), false)
                        }
                    />
                }
                .into_any(),
                ContestStyle::Score { .. } | ContestStyle::Cumulative { .. } => {
                    // The field keeps what the voter typed; only the entry is parsed.
                    let initial = match value(j) {
                        Entry::Value(v) => v.to_string(),
                        Entry::Unreadable => String::new(),
                    };
                    view! {
                        <input
                            type="number"
                            inputmode="numeric"
                            id=input_id.clone()
                            min="0"
                            max=style.max_per_selection().to_string()
                            step="1"
                            value=initial
                            on:input=move |ev| set(j, rules::parse_points(&event_target_value(&ev)), false)
                        />
                    }
                    .into_any()
                }
            };
            let class = if style.is_ranged() { "selection ranged" } else { "selection" };
            view! {
                <li class=class>
                    {input}
                    <label for=input_id>{label}</label>
                </li>
            }
        })
        .collect_view();
    view! {
        <fieldset id=id class="contest" aria-describedby=described>
            <legend>{contest.title.clone()}</legend>
            <p class="contest-rule" id=rule_id>{rules::rule_text(&style)}</p>
            <ul class="selections">{inputs}</ul>
            <p
                class=move || {
                    if feedback.with(|f| f.valid) { "contest-feedback" } else { "contest-feedback needs-attention" }
                }
                id=feedback_id
                role="status"
            >
                {move || feedback.with(|f| f.message.clone())}
            </p>
        </fieldset>
    }
}
