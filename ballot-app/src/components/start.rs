//! The start page (`/`): what the election is, when voting closes (in the voter's time zone),
//! how many questions, whom to contact, what happens to the voter's data, and a "Start now"
//! button to the booth (the GOV.UK start page pattern).

use leptos::prelude::*;
use leptos::task::spawn_local;
use tabella_crypto::api::{ElectionInfo, ElectionState};

use super::alert::Alert;
use crate::web::{api, browser};

/// What the start page knows.
#[derive(Clone, Debug)]
struct Known {
    info: ElectionInfo,
    /// When voting closes on chain (Unix seconds), when the service anchors.
    closes_at: Option<u64>,
}

/// The start page.
#[component]
pub(crate) fn Start() -> impl IntoView {
    browser::set_title("Vote");
    let error = RwSignal::new(None::<String>);
    let about = RwSignal::new(None::<Known>);
    spawn_local(async move {
        match api::election().await {
            Ok(info) => {
                let closes_at = api::anchoring().await.ok().and_then(|a| a.closes_at);
                about.set(Some(Known { info, closes_at }));
            }
            Err(e) => error.set(Some(e.words())),
        }
    });
    view! {
        <Alert error />
        {move || about.get().map(|a| view! { <Introduction about=a /> })}
    }
}

/// The election, introduced.
#[component]
fn Introduction(about: Known) -> impl IntoView {
    let manifest = about.info.manifest.clone();
    let questions = manifest.contests.len();
    let closes = match (about.info.state, about.closes_at) {
        (ElectionState::Closed | ElectionState::Tallied, _) => "Voting has closed.".to_owned(),
        (_, Some(seconds)) => format!(
            "Voting closes on {}.",
            browser::local_time(seconds.saturating_mul(1000))
        ),
        (_, None) => "Voting closes when the election officials close it.".to_owned(),
    };
    let state = match about.info.state {
        ElectionState::Setup => Some("Voting has not opened yet. Come back when it opens."),
        ElectionState::Open => None,
        ElectionState::Closed => {
            Some("Voting has closed. The results are published once the votes are counted.")
        }
        ElectionState::Tallied => Some("Voting has closed and the results are published."),
    };
    let contact = manifest
        .contact
        .clone()
        .unwrap_or_else(|| "the election officials".to_owned());
    view! {
        <section id="start" aria-labelledby="start-heading">
            <h1 id="start-heading">{manifest.title.clone()}</h1>
            <p class="lead">"Use this service to vote in this election, from your own device."</p>
            <p id="start-closes"><strong>{closes}</strong></p>
            {state.map(|s| view! { <p id="start-state" class="notice">{s}</p> })}
            <h2>"Before you start"</h2>
            <ul>
                <li>"You need the voting code from your letter or e-mail."</li>
                <li id="start-questions">
                    {if questions == 1 {
                        "There is 1 question on the ballot:".to_owned()
                    } else {
                        format!("There are {questions} questions on the ballot:")
                    }}
                    <ul>
                        {manifest
                            .contests
                            .iter()
                            .map(|c| view! { <li>{c.title.clone()}</li> })
                            .collect_view()}
                    </ul>
                </li>
                <li>"It takes a few minutes. You can change your choices before you cast your ballot, and you may vote again later: only your last ballot counts."</li>
            </ul>
            {(about.info.state == ElectionState::Open)
                .then_some(view! {
                    <p>
                        <a id="start-now" href="/booth" role="button" class="button start">
                            "Start now"
                        </a>
                    </p>
                })}
            {(about.info.state == ElectionState::Tallied)
                .then_some(view! {
                    <p>
                        <a id="start-results" href="/results">"See the results"</a>
                    </p>
                })}
            <h2>"What happens to your data"</h2>
            <p id="start-data">
                "Your choices are encrypted on this device before they leave it: nobody, not even the election officials, can see how you voted. The encrypted ballot is published on the public board with its tracking code, so that anyone can check it is counted; the board does not show your name. Only the totals of all ballots are ever decrypted, by the election's trustees together. This page stores nothing about you on this device; the Track page remembers only the last public board it saw."
            </p>
            <h2>"Help"</h2>
            <p id="start-contact">
                {format!("If you have lost your voting code or something goes wrong, contact {contact}.")}
                " The " <a href="/glossary">"glossary"</a> " explains the words this service uses."
            </p>
        </section>
    }
}
