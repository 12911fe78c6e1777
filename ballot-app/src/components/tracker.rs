//! The tracker (`/tracker`): what became of my ballot (counted, replaced by a later ballot,
//! challenged, not on the board), and is it under the signed and the anchored root?
//!
//! The browser checks every proof itself with `tabella-crypto`: the service's account of the
//! ballot (`GET /v1/board/track`, checked by [`crate::verdict::check`]: the ballot's bytes, its
//! credential's signature and proofs, and a replacement's), the tree head's signature under the
//! election's board key, the audit paths of the ballot (and of the one that replaced it) to the
//! signed root, and, when the service anchors on a chain, the audit path to the root of the
//! latest anchored checkpoint and that the board at its head extends that checkpoint. It says
//! plainly what it cannot check: that nothing later replaced a counted ballot (the observer page
//! checks the whole board), and the chain itself.

use leptos::prelude::*;
use leptos::task::spawn_local;
use rand_core::OsRng;
use tabella_crypto::api::{AnchorItem, AnchorKind, AnchorState};
use tabella_crypto::ballot::TrackingCode;
use tabella_crypto::board::{
    verify_consistency, verify_inclusion, BoardKey, ConsistencyProof, SignedTreeHead,
};

use super::alert::Alert;
use super::booth::{inclusion_proof, load_election};
use super::challenge_check::ChallengeCheck;
use crate::error::ApiError;
use crate::history::{self, Alarm, Outcome};
use crate::paths;
use crate::verdict::{self, Verdict};
use crate::web::{api, browser};

/// The outcome shown in `#track-result[data-status]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Status {
    Included,
    NotFound,
    Error,
}

impl Status {
    fn as_str(self) -> &'static str {
        match self {
            Status::Included => "included",
            Status::NotFound => "not-found",
            Status::Error => "error",
        }
    }
}

/// One thing checked (or not), in words.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Line {
    ok: bool,
    text: String,
}

/// Whether the ballot is under the latest anchored checkpoint (`#track-result[data-anchored]`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Anchored {
    /// Under the root of an anchored checkpoint, checked.
    Yes,
    /// Not yet: newer than the latest anchored checkpoint, or none is anchored yet.
    NotYet,
    /// This service does not anchor, or did not say.
    Off,
}

impl Anchored {
    fn as_str(self) -> &'static str {
        match self {
            Anchored::Yes => "yes",
            Anchored::NotYet => "not-yet",
            Anchored::Off => "off",
        }
    }
}

/// Everything the tracker found for one tracking code.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Tracked {
    /// The tracking code asked about, grouped for reading.
    code: String,
    status: Status,
    verdict: Option<Verdict>,
    anchored: Anchored,
    summary: String,
    /// What the anchoring adds to the summary, in words.
    anchoring: Option<String>,
    checked: Vec<Line>,
    not_checked: Vec<String>,
    /// The board showed this browser two histories: the two signed heads, as JSON.
    alarm: Option<(String, String)>,
}

impl Tracked {
    fn new(code: &TrackingCode) -> Self {
        Self {
            code: paths::grouped(code),
            status: Status::Error,
            verdict: None,
            anchored: Anchored::Off,
            summary: String::new(),
            anchoring: None,
            checked: Vec::new(),
            not_checked: Vec::new(),
            alarm: None,
        }
    }

    fn pass(&mut self, text: impl Into<String>) {
        self.checked.push(Line {
            ok: true,
            text: text.into(),
        });
    }

    fn fail(mut self, text: impl Into<String>) -> Self {
        let text = text.into();
        self.checked.push(Line {
            ok: false,
            text: text.clone(),
        });
        self.status = Status::Error;
        self.verdict = None;
        self.summary = format!("Something did not check out: {text}");
        self
    }
}

/// The tracker page.
#[component]
pub(crate) fn Tracker() -> impl IntoView {
    browser::set_title("Track a ballot");
    let input = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let result = RwSignal::new(None::<Tracked>);

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        // A new question clears the old answer first: an old result never stays on screen
        // next to a new error.
        result.set(None);
        let code = match paths::tracking_code(&input.get_untracked()) {
            Ok(code) => code,
            Err(e) => {
                error.set(Some(e));
                return;
            }
        };
        error.set(None);
        busy.set(true);
        spawn_local(async move {
            let tracked = track(&code).await;
            busy.set(false);
            match tracked {
                Ok(t) => result.set(Some(t)),
                Err(e) => {
                    error.set(Some(e.words()));
                    let mut t = Tracked::new(&code);
                    t.summary = e.words();
                    result.set(Some(t));
                }
            }
        });
    };

    view! {
        <h1>"Track your ballot"</h1>
        <p>
            "Enter the tracking code your booth showed (or that is in your receipt). Your browser fetches the proofs from the election service and checks them itself."
        </p>
        <form on:submit=submit class="inline">
            <label for="tracking-input">"Tracking code"</label>
            <input
                id="tracking-input"
                type="text"
                autocomplete="off"
                spellcheck="false"
                class="hex"
                prop:value=move || input.get()
                on:input=move |ev| input.set(event_target_value(&ev))
            />
            <button id="track-button" type="submit" class="primary" disabled=move || busy.get()>
                "Check"
            </button>
        </form>
        <Alert error />
        <p role="status">{move || busy.get().then_some("Fetching and checking the proofs…")}</p>
        {move || {
            result
                .get()
                .map(|t| {
                    view! {
                        <section
                            id="track-result"
                            data-status=t.status.as_str()
                            data-verdict=t.verdict.map_or("none", |v| v.as_str())
                            data-anchored=t.anchored.as_str()
                            aria-labelledby="track-heading"
                        >
                            <h2 id="track-heading">"Result for tracking code"</h2>
                            <p>
                                <code id="track-code" class="hex">{t.code}</code>
                            </p>
                            <p
                                id="track-verdict"
                                class=if t.verdict.is_some_and(|v| v.counts()) { "ok" } else { "warning" }
                            >
                                {t.summary}
                            </p>
                            {t.anchoring.map(|a| view! { <p id="track-anchoring">{a}</p> })}
                            {t.alarm
                                .map(|(kept, now)| {
                                    view! {
                                        <div id="history-alarm" class="alarm" role="alert">
                                            <h3>"The board has shown this browser two different histories"</h3>
                                            <p>
                                                "A board that is honest only ever adds ballots. This one showed you, before and now, two boards that cannot both be true. Report it to the election's observers, with these two heads, which the board signed:"
                                            </p>
                                            <details open>
                                                <summary>"The two signed board heads"</summary>
                                                <pre id="history-kept">{kept}</pre>
                                                <pre id="history-now">{now}</pre>
                                            </details>
                                        </div>
                                    }
                                })}
                            <h3>"What your browser checked"</h3>
                            <ul id="track-checks" class="checks">
                                {t.checked
                                    .into_iter()
                                    .map(|l| {
                                        view! {
                                            <li data-ok=l.ok.to_string() class=if l.ok { "ok" } else { "failed" }>
                                                <span class="mark" aria-hidden="true">{if l.ok { "✓ " } else { "✗ " }}</span>
                                                {l.text}
                                            </li>
                                        }
                                    })
                                    .collect_view()}
                            </ul>
                            <h3>"What it did not check"</h3>
                            <ul id="track-not-checked">
                                {t.not_checked.into_iter().map(|s| view! { <li>{s}</li> }).collect_view()}
                            </ul>
                        </section>
                    }
                })
        }}
        <ChallengeCheck />
    }
}

/// Fetches and checks everything about `code`.
async fn track(code: &TrackingCode) -> Result<Tracked, ApiError> {
    let mut t = Tracked::new(code);
    let election = match load_election().await {
        Ok(election) => election,
        Err(why) => return Ok(t.fail(why)),
    };
    let parameters = &election.signed.parameters;
    let key = parameters.board_key;
    let contact = parameters.manifest.contact.clone();
    t.pass("The election's settings carry the election board's signature.".to_owned());

    // What became of the ballot, as the service tells it; checked below before it is shown.
    let answer = match api::track(code).await {
        Ok(answer) => answer,
        Err(e) if e.is_not_found() => {
            t.status = Status::NotFound;
            t.summary = "No ballot with this tracking code is on the board. Check that you typed                  it as your booth showed it; a ballot is on the board as soon as you have its                  receipt."
                .to_owned();
            t.not_checked.push(
                "The service says the code is not on the board; the browser cannot see the whole board to confirm it (the observer page can, once the record is published).".to_owned(),
            );
            return Ok(t);
        }
        Err(e) => return Err(e),
    };
    // The anchoring status, then the head: every checkpoint the status reports as done is of a
    // board no larger than the head's, and the head covers every entry of the answer.
    let anchoring = api::anchoring().await;
    let head: SignedTreeHead = api::head().await?;
    if head.head.election != parameters.election_id {
        return Ok(t.fail("The board's signed summary is for another election."));
    }
    if let Err(e) = head.verify(&key) {
        return Ok(t.fail(format!("The board's signed summary: {e}.")));
    }
    let size = head.head.size;
    t.pass(format!(
        "The public board, now {size} entries, carries the election board's signature."
    ));
    // The board never shows this browser a history that does not extend what it showed before.
    match remember(&head, &key).await {
        Remembered::Checked(line) => t.pass(line),
        Remembered::NotChecked(line) => t.not_checked.push(line),
        Remembered::Alarm(alarm) => {
            let json = |h: &SignedTreeHead| serde_json::to_string_pretty(h).unwrap_or_default();
            t.alarm = alarm
                .evidence
                .as_deref()
                .map(|(kept, now)| (json(kept), json(now)));
            return Ok(t.fail(alarm.words));
        }
    }
    if size < answer.size {
        return Ok(t.fail(format!(
            "The service described a board of {} entries, but its signed head has only {size}.",
            answer.size
        )));
    }
    let checked = match verdict::check(&answer, code, &election.ctx, &mut OsRng) {
        Ok(checked) => checked,
        Err(refused) => return Ok(t.fail(refused.0)),
    };
    checked.lines.into_iter().for_each(|l| t.pass(l));
    let index = checked.index;
    if let Err(e) = included(code, index, size, &head).await {
        return Ok(t.fail(e));
    }
    t.pass(format!(
        "Your ballot is entry {index} of the {size} entries on the signed board: the proof that it is there holds."
    ));
    if let (Some(later), Verdict::Replaced { index: at, .. }) =
        (checked.replaced_by, checked.verdict)
    {
        if let Err(e) = included(&later, at, size, &head).await {
            return Ok(t.fail(e));
        }
        t.pass(format!(
            "The ballot that replaced yours is entry {at} of the same signed board: the proof holds."
        ));
    }
    t.status = Status::Included;
    t.verdict = Some(checked.verdict);
    t.summary = checked
        .verdict
        .words(contact.as_deref(), browser::local_time);
    if checked.verdict.counts() {
        t.not_checked.push(
            "That no later ballot with your voting code replaced this one: only the whole board shows that. The observer page checks the whole board once the results are published.".to_owned(),
        );
    }
    if matches!(checked.verdict, Verdict::Replaced { .. }) {
        t.not_checked.push(
            "The time shown is when the election service says it received the later ballot; it is not signed.".to_owned(),
        );
    }

    let anchoring = match anchoring {
        Ok(anchoring) => anchoring,
        Err(e) => {
            t.not_checked.push(format!(
                "Anchoring on a chain: the service did not say ({}).",
                e.words()
            ));
            t.not_checked.push(chain_note());
            return Ok(t);
        }
    };
    if !anchoring.enabled {
        t.not_checked
            .push("This service does not anchor the board on a chain.".to_owned());
        return Ok(t);
    }
    let latest = anchoring
        .items
        .iter()
        .filter(|i| i.kind == AnchorKind::Checkpoint && i.state == AnchorState::Done)
        .filter_map(|i| Some((i.size?, i)))
        .max_by_key(|(size, _)| *size);
    t.anchored = Anchored::NotYet;
    let not_yet = "Your ballot is not yet in a checkpoint of the board published on the public chain; check again after the next checkpoint.";
    match latest {
        None => t.anchoring = Some(format!("{not_yet} (No checkpoint is published yet.)")),
        Some((anchored, _)) if anchored > size => t.anchoring = Some(format!(
            "The latest published checkpoint (of {anchored} entries) is newer than the board's head just fetched ({size}); check again."
        )),
        Some((anchored, _)) if index >= anchored => t.anchoring = Some(format!(
            "{not_yet} (The latest has {anchored} entries; yours is entry {index}.)"
        )),
        Some((anchored, item)) => {
            match anchored_inclusion(code, index, anchored, size, &head, item, anchoring.chain_id).await {
                Ok(lines) => lines.into_iter().for_each(|l| t.pass(l)),
                Err(e) => return Ok(t.fail(e)),
            }
            t.anchored = Anchored::Yes;
            t.anchoring = Some(
                "Your ballot is in a checkpoint of the board published on the public chain."
                    .to_owned(),
            );
        }
    }
    t.not_checked.push(chain_note());
    Ok(t)
}

/// What comparing a signed head with the one this browser kept found.
enum Remembered {
    /// The same board, or one that extends it (proved): a line for the checks.
    Checked(String),
    /// Could not be checked now (why), or nothing is kept yet.
    NotChecked(String),
    /// Two histories.
    Alarm(Box<Alarm>),
}

/// Compares `head` (signature checked) with the largest head of this election this browser has
/// seen (kept in `localStorage`), fetching the consistency proof between them, and keeps the
/// larger (spec/api.md §4.11).
async fn remember(head: &SignedTreeHead, key: &BoardKey) -> Remembered {
    let name = format!("tabella/board-head/{}", head.head.election.to_hex());
    let kept: Option<SignedTreeHead> =
        browser::stored(&name).and_then(|text| serde_json::from_str(&text).ok());
    let path = match history::proof_needed(kept.as_ref(), head) {
        None => None,
        Some((from, to)) => match api::consistency(from, to).await {
            Ok(answer) => match paths::hashes(&answer.path) {
                Ok(path) => Some(path),
                Err(e) => return Remembered::NotChecked(format!("The board's history: {e}")),
            },
            // The board no longer has the entries it showed before: it cannot prove a thing.
            Err(e) if e.code() == Some("bad_request") && from == head.head.size => None,
            Err(e) => {
                return Remembered::NotChecked(format!(
                    "That the board extends what it showed this browser before: the proof could not be fetched ({}).",
                    e.words()
                ))
            }
        },
    };
    match history::compare(kept.as_ref(), head, key, path) {
        Ok((outcome, keep)) => {
            let stored = serde_json::to_string(&keep)
                .ok()
                .is_some_and(|json| browser::store(&name, &json));
            let line = match outcome {
                Outcome::First if stored => return Remembered::NotChecked(
                    "This browser had not seen this board before; it now remembers it, and will check next time that the board has only grown since.".to_owned(),
                ),
                Outcome::First => return Remembered::NotChecked(
                    "This browser does not let the page remember the board, so it cannot check that the board only grows between your visits.".to_owned(),
                ),
                Outcome::Same => "The board is the one this browser saw before.".to_owned(),
                Outcome::Extends { from, to } => format!(
                    "The board of {to} entries extends the board of {from} entries this browser saw before: it has only added ballots since (the proof holds)."
                ),
                Outcome::Older { size, kept } => format!(
                    "This browser saw a larger board before ({kept} entries), and it extends this one of {size} (the proof holds)."
                ),
            };
            Remembered::Checked(line)
        }
        Err(alarm) if alarm.evidence.is_none() => {
            browser::store(&name, &serde_json::to_string(head).unwrap_or_default());
            Remembered::NotChecked(alarm.words)
        }
        Err(alarm) => Remembered::Alarm(Box::new(alarm)),
    }
}

/// Checks that `code` is entry `index` under the signed root of `head` (of `size` entries).
async fn included(
    code: &TrackingCode,
    index: u64,
    size: u64,
    head: &SignedTreeHead,
) -> Result<(), String> {
    let answer = api::inclusion(code, size).await.map_err(|e| e.words())?;
    if answer.index != index {
        return Err(format!(
            "The service places tracking code {code} at entry {} in one answer and {index} in another.",
            answer.index
        ));
    }
    let proof = inclusion_proof(index, size, &answer.path)?;
    verify_inclusion(&code.0, index, size, &proof, &head.head.root).map_err(|e| {
        format!(
            "The proof that entry {index} is on the signed board of {size} entries does not hold: {e}."
        )
    })
}

fn chain_note() -> String {
    "The chain itself: a browser cannot read it, so the transaction, block and chain id above are as reported by the election service. `tabella verify --rpc-url URL` checks them against the chain.".to_owned()
}

/// Checks the ballot under the anchored checkpoint of `anchored` entries, and that the signed
/// head of `size` entries extends that checkpoint.
async fn anchored_inclusion(
    code: &TrackingCode,
    index: u64,
    anchored: u64,
    size: u64,
    head: &SignedTreeHead,
    item: &AnchorItem,
    chain_id: Option<u64>,
) -> Result<Vec<String>, String> {
    let root = item
        .root
        .as_deref()
        .and_then(|r| {
            let mut root = [0u8; 32];
            hex::decode_to_slice(r, &mut root).ok().map(|()| root)
        })
        .ok_or("The published checkpoint cannot be read.")?;
    let where_ = format!(
        "anchored in transaction {} in block {} on chain id {} (as reported by the service)",
        item.transaction.as_deref().unwrap_or("(unknown)"),
        item.block_number
            .map_or_else(|| "(unknown)".to_owned(), |b| b.to_string()),
        chain_id.map_or_else(|| "(unknown)".to_owned(), |c| c.to_string()),
    );
    let answer = api::inclusion(code, anchored)
        .await
        .map_err(|e| e.words())?;
    let proof = inclusion_proof(index, anchored, &answer.path)?;
    verify_inclusion(&code.0, index, anchored, &proof, &root).map_err(|e| {
        format!("The proof that your ballot is in the checkpoint of {anchored} entries {where_} does not hold: {e}.")
    })?;
    let mut lines = vec![format!(
        "Your ballot is in the checkpoint of {anchored} entries {where_}.",
    )];
    if anchored < size {
        let answer = api::consistency(anchored, size)
            .await
            .map_err(|e| e.words())?;
        let path = paths::hashes(&answer.path)?;
        let proof = ConsistencyProof {
            old_size: anchored,
            new_size: size,
            path,
        };
        verify_consistency(anchored, size, &root, &head.head.root, &proof).map_err(|e| {
            format!("The signed board does not extend the published checkpoint: {e}.")
        })?;
        lines.push(format!(
            "The signed board of {size} entries extends the published checkpoint of {anchored} entries: the board has only added ballots since (the proof holds)."
        ));
    } else {
        // anchored == size: the anchored root must be the signed root itself.
        if root != head.head.root {
            return Err(
                "The published checkpoint and the signed board of the same size differ.".to_owned(),
            );
        }
        lines.push("The published checkpoint is the signed board of the same size.".to_owned());
    }
    Ok(lines)
}
