//! The tracker (`/tracker`): is my ballot on the board, under the signed and the anchored root?
//!
//! The browser checks every proof itself with `tabella-crypto`: the tree head's signature
//! under the election's board key, the ballot's audit path to the signed root, and, when the
//! service anchors on a chain, the audit path to the root of the latest anchored checkpoint and
//! that the board at its head extends that checkpoint. It says plainly what it cannot check:
//! the chain itself.

use leptos::prelude::*;
use leptos::task::spawn_local;
use tabella_crypto::api::{AnchorItem, AnchorKind, AnchorState};
use tabella_crypto::ballot::TrackingCode;
use tabella_crypto::board::{
    verify_consistency, verify_inclusion, ConsistencyProof, SignedTreeHead,
};

use super::alert::Alert;
use super::booth::inclusion_proof;
use crate::error::ApiError;
use crate::paths;
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

/// Everything the tracker found for one tracking code.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Tracked {
    status: Status,
    summary: String,
    checked: Vec<Line>,
    not_checked: Vec<String>,
}

impl Tracked {
    fn new() -> Self {
        Self {
            status: Status::Error,
            summary: String::new(),
            checked: Vec::new(),
            not_checked: Vec::new(),
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
        let code = match paths::tracking_code(&input.get_untracked()) {
            Ok(code) => code,
            Err(e) => {
                error.set(Some(e));
                return;
            }
        };
        error.set(None);
        result.set(None);
        busy.set(true);
        spawn_local(async move {
            let tracked = track(&code).await;
            busy.set(false);
            match tracked {
                Ok(t) => result.set(Some(t)),
                Err(e) => {
                    error.set(Some(e.words()));
                    let mut t = Tracked::new();
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
                        <section id="track-result" data-status=t.status.as_str() aria-labelledby="track-heading">
                            <h2 id="track-heading">"Result"</h2>
                            <p class=if t.status == Status::Included { "ok" } else { "warning" }>{t.summary}</p>
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
    }
}

/// Fetches and checks everything about `code`.
async fn track(code: &TrackingCode) -> Result<Tracked, ApiError> {
    let mut t = Tracked::new();
    let signed = api::parameters().await?;
    if !signed.signature_holds() {
        return Ok(t.fail("The election parameters do not carry the board's signature."));
    }
    let key = signed.parameters.board_key;
    let election = signed.parameters.election_id;
    t.pass(format!(
        "The election's parameters are signed by its board key {key}."
    ));

    // The anchoring status before the head: every checkpoint it reports as done is then of a
    // board no larger than the head's.
    let anchoring = api::anchoring().await;
    let head: SignedTreeHead = api::head().await?;
    if head.head.election != election {
        return Ok(t.fail("The board's tree head is for another election."));
    }
    if let Err(e) = head.verify(&key) {
        return Ok(t.fail(format!("The board's tree head: {e}.")));
    }
    let size = head.head.size;
    t.pass(format!(
        "The board's current tree head (size {size}, root {}) carries the board's signature.",
        hex::encode(head.head.root)
    ));

    let answer = match api::inclusion(code, size).await {
        Ok(answer) => answer,
        Err(e) if e.is_not_found() => {
            t.status = Status::NotFound;
            t.summary = format!(
                "No ballot with this tracking code is on the board of {size} entries. Check the code; a ballot cast a moment ago is on the board as soon as you have its receipt."
            );
            t.not_checked.push(
                "The service says the code is not on the board; the browser cannot see the whole board to confirm it (the observer page can, once the record is published).".to_owned(),
            );
            return Ok(t);
        }
        Err(e) => return Err(e),
    };
    let index = answer.index;
    let proof = match inclusion_proof(index, size, &answer.path) {
        Ok(proof) => proof,
        Err(e) => return Ok(t.fail(e)),
    };
    if let Err(e) = verify_inclusion(&code.0, index, size, &proof, &head.head.root) {
        return Ok(t.fail(format!(
            "The audit path does not lead to the signed root of size {size}: {e}."
        )));
    }
    t.pass(format!(
        "Your ballot is entry {index}: its audit path leads to the signed root of the board of {size} entries."
    ));
    t.status = Status::Included;
    t.summary = format!("Your ballot is on the board, entry {index} of {size}.");

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
    match latest {
        None => t.not_checked.push(
            "No checkpoint of the board is anchored on the chain yet; check again later.".to_owned(),
        ),
        Some((anchored, _)) if anchored > size => t.not_checked.push(format!(
            "The latest anchored checkpoint (of {anchored} entries) is newer than the board's head just fetched ({size}); check again."
        )),
        Some((anchored, _)) if index >= anchored => t.not_checked.push(format!(
            "Your ballot is newer than the latest anchored checkpoint (of {anchored} entries); check again after the next checkpoint."
        )),
        Some((anchored, item)) => {
            match anchored_inclusion(code, index, anchored, size, &head, item, anchoring.chain_id).await {
                Ok(lines) => lines.into_iter().for_each(|l| t.pass(l)),
                Err(e) => return Ok(t.fail(e)),
            }
        }
    }
    t.not_checked.push(chain_note());
    Ok(t)
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
        .ok_or("The anchored checkpoint has no readable root.")?;
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
        format!("The audit path does not lead to the root of the checkpoint of {anchored} entries {where_}: {e}.")
    })?;
    let mut lines = vec![format!(
        "Your ballot is under the root {} of the checkpoint of {anchored} entries {where_}.",
        hex::encode(root)
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
            format!("The signed board does not extend the anchored checkpoint: {e}.")
        })?;
        lines.push(format!(
            "The signed board of {size} entries extends the anchored checkpoint of {anchored} entries (consistency proof): the board has only appended since."
        ));
    } else {
        // anchored == size: the anchored root must be the signed root itself.
        if root != head.head.root {
            return Err("The anchored checkpoint's root differs from the board's signed root of the same size.".to_owned());
        }
        lines.push(
            "The anchored checkpoint's root is the board's signed root of the same size."
                .to_owned(),
        );
    }
    Ok(lines)
}
