//! A challenged (spoiled) ballot, opened.

use leptos::prelude::*;
use tabella_crypto::api::SpoilBallot;
use tabella_crypto::ballot::{SpoiledBallot, TrackingCode};
use tabella_crypto::manifest::Manifest;

use crate::rules;
use crate::web::browser::{blob_url, revoke_url};

/// What the opening of a challenged ballot shows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct SpoiledView {
    tracking_code: String,
    /// Per contest: its title and the revealed choices in words.
    choices: Vec<(String, Vec<String>)>,
    /// Per contest: its title and every revealed nonce and blinding (hex).
    randomness: Vec<(String, Vec<String>)>,
    /// The challenged ballot as a file (its bytes and opening: the `SpoilBallot` document), to
    /// re-check on another device.
    file: String,
    /// Whether the opening reproduces the ballot, checked in this browser.
    pub(crate) ok: bool,
    /// Its board index, once published.
    pub(crate) index: Option<u64>,
}

impl SpoiledView {
    /// The view of `opening`, the opening of the ballot `code`.
    pub(crate) fn new(
        manifest: &Manifest,
        code: &TrackingCode,
        ballot: &str,
        opening: &SpoiledBallot,
        ok: bool,
    ) -> Self {
        let choices = manifest
            .contests
            .iter()
            .zip(&opening.choices)
            .map(|(c, values)| (c.title.clone(), rules::describe(c, values)))
            .collect();
        let randomness = manifest
            .contests
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let mut values: Vec<String> = opening
                    .nonces
                    .get(i)
                    .map(|r| r.iter().map(|n| format!("nonce {n}")).collect())
                    .unwrap_or_default();
                if let Some(blindings) = opening.blindings.get(i) {
                    values.extend(blindings.iter().map(|b| format!("blinding {b}")));
                }
                (c.title.clone(), values)
            })
            .collect();
        // The document's own types serialise infallibly (strings and numbers).
        let file = serde_json::to_string_pretty(&SpoilBallot {
            ballot: ballot.to_owned(),
            opening: opening.clone(),
        })
        .unwrap_or_default();
        Self {
            file,
            tracking_code: crate::paths::grouped(code),
            choices,
            randomness,
            ok,
            index: None,
        }
    }
}

/// `#spoiled`: the challenged ballot's tracking code, revealed choices and randomness, whether
/// the opening checked out here (`#spoiled-check[data-ok]`), its board index, and
/// `#start-again`.
#[component]
pub(crate) fn Spoiled(
    /// The opened ballot.
    spoiled: RwSignal<Option<SpoiledView>>,
    /// Back to the choices, with the same credential.
    on_start_again: Callback<()>,
) -> impl IntoView {
    let shown = move || spoiled.get();
    view! {
        <section id="spoiled" aria-labelledby="spoiled-heading">
            <h2 id="spoiled-heading" tabindex="-1">"Your challenged ballot, opened"</h2>
            {move || {
                shown()
                    .map(|v| {
                        let ok = v.ok;
                        view! {
                            <p>
                                "Tracking code: " <code id="spoiled-tracking-code" class="hex">{v.tracking_code.clone()}</code>
                            </p>
                            <p id="spoiled-check" data-ok=ok.to_string() class=if ok { "ok" } else { "warning" }>
                                {if ok {
                                    "Checked in your browser: re-encrypting these choices with this randomness gives exactly the encrypted ballot, and its proofs and signature verify."
                                } else {
                                    "The opening does NOT match the encrypted ballot. Do not cast a ballot from this device."
                                }}
                            </p>
                            <h3>"What the encrypted ballot held"</h3>
                            <ul id="spoiled-choices" class="review">
                                {v.choices
                                    .iter()
                                    .map(|(title, lines)| {
                                        view! {
                                            <li>
                                                <span class="contest-title">{title.clone()}</span>
                                                ": "
                                                {lines.join(", ")}
                                            </li>
                                        }
                                    })
                                    .collect_view()}
                            </ul>
                            <ChallengeFile file=v.file.clone() code=v.tracking_code.clone() />
                            <h3>"The randomness that was used"</h3>
                            <div id="spoiled-randomness" class="randomness">
                                {v.randomness
                                    .iter()
                                    .map(|(contest, values)| {
                                        view! {
                                            <p>
                                                <span class="contest-title">{contest.clone()}</span>
                                                {values
                                                    .iter()
                                                    .map(|h| view! { <code class="hex">{h.clone()}</code> })
                                                    .collect_view()}
                                            </p>
                                        }
                                    })
                                    .collect_view()}
                            </div>
                            <p>
                                {match v.index {
                                    Some(index) => view! {
                                        "Published on the board as a spoiled ballot, entry "
                                        <span id="spoiled-index">{index}</span>
                                        ". It will never be counted."
                                    }
                                        .into_any(),
                                    None => view! { "Not published on the board." }.into_any(),
                                }}
                            </p>
                        }
                    })
            }}
            <p>"This ballot can never be cast. Start again to encrypt your choices afresh, then cast or challenge again."</p>
            <button id="start-again" type="button" class="primary" on:click=move |_| on_start_again.run(())>
                "Start again"
            </button>
        </section>
    }
}

/// `a#spoiled-download`: the challenged ballot as a file, to re-check on another device (the
/// Track page accepts it).
#[component]
fn ChallengeFile(file: String, code: String) -> impl IntoView {
    let url = blob_url(file.as_bytes(), "application/json").ok();
    if let Some(url) = url.clone() {
        on_cleanup(move || revoke_url(&url));
    }
    let name = format!(
        "tabella-challenged-ballot-{}.json",
        code.replace(' ', "").get(..16).unwrap_or("ballot")
    );
    view! {
        <p>
            <a id="spoiled-download" href=url.unwrap_or_default() download=name>
                "Download the challenged ballot"
            </a>
            " to check it on another device: open the "
            <a href="/tracker#check-challenge">"Track a ballot"</a>
            " page there and choose the file."
        </p>
    }
}
