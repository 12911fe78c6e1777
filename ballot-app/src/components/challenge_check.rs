//! `#check-challenge` on the tracker: a challenged ballot's file, from the booth on another
//! device, re-checked here with the same WebAssembly code ([`crate::challenge::recheck`]), and
//! whether the board published it as challenged.

use leptos::prelude::*;
use leptos::task::spawn_local;
use rand_core::OsRng;
use tabella_crypto::board::receipt::EntryKind;
use wasm_bindgen::JsCast;

use super::booth::load_election;
use crate::challenge::{self, Rechecked};
use crate::paths;
use crate::web::api;
use crate::web::browser::blob_bytes;

/// What the check found.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Found {
    /// The file checks out; and what the board says of the ballot.
    Ok(Rechecked, String),
    /// Why it does not.
    Refused(String),
}

/// The tracker's section for a challenged ballot's file.
#[component]
pub(crate) fn ChallengeCheck() -> impl IntoView {
    let found = RwSignal::new(None::<Found>);
    let busy = RwSignal::new(false);
    let pick = move |ev: leptos::ev::Event| {
        let file = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
            .and_then(|input| input.files())
            .and_then(|list| list.item(0));
        let Some(file) = file else {
            return;
        };
        found.set(None);
        busy.set(true);
        spawn_local(async move {
            let result = check(&file).await;
            busy.set(false);
            found.set(Some(result));
        });
    };
    view! {
        <section id="check-challenge" aria-labelledby="check-challenge-heading">
            <h2 id="check-challenge-heading">"Check a challenged ballot"</h2>
            <p>
                "If you challenged a ballot, the booth let you download it. Choose that file here, ideally on another device, to check that the booth encrypted exactly the choices it showed you."
            </p>
            <label for="challenge-file">"Challenged ballot file"</label>
            <input id="challenge-file" type="file" accept=".json,application/json" on:change=pick />
            <p role="status">{move || busy.get().then_some("Checking the file…")}</p>
            {move || {
                found
                    .get()
                    .map(|f| match f {
                        Found::Ok(r, board) => view! {
                            <div id="challenge-result" data-ok="true">
                                <p class="ok">
                                    "This challenged ballot checks out: re-encrypting its choices with its randomness gives exactly the encrypted ballot, and its proofs and signature verify."
                                </p>
                                <p>
                                    "Tracking code: "
                                    <code id="challenge-code" class="hex">{paths::grouped(&r.tracking_code)}</code>
                                </p>
                                <ul id="challenge-choices" class="review">
                                    {r.choices
                                        .into_iter()
                                        .map(|(title, lines)| view! {
                                            <li><span class="contest-title">{title}</span>": "{lines.join(", ")}</li>
                                        })
                                        .collect_view()}
                                </ul>
                                <p id="challenge-board">{board}</p>
                            </div>
                        }
                        .into_any(),
                        Found::Refused(why) => view! {
                            <div id="challenge-result" data-ok="false">
                                <p class="warning">{why}</p>
                            </div>
                        }
                        .into_any(),
                    })
            }}
        </section>
    }
}

/// Reads and checks the file, then asks the board about the ballot.
async fn check(file: &web_sys::File) -> Found {
    let bytes = match blob_bytes(file, None).await {
        Ok(bytes) => bytes,
        Err(e) => return Found::Refused(format!("The file could not be read: {e}")),
    };
    let election = match load_election().await {
        Ok(election) => election,
        Err(why) => return Found::Refused(why),
    };
    let rechecked = match challenge::recheck(&bytes, &election.ctx, &mut OsRng) {
        Ok(r) => r,
        Err(why) => return Found::Refused(why),
    };
    let board = match api::track(&rechecked.tracking_code).await {
        Ok(answer) if answer.entry.kind == EntryKind::Spoiled => format!(
            "The public board shows it as challenged (entry {}): it is never counted.",
            answer.entry.index
        ),
        Ok(answer) => format!(
            "WARNING: the public board shows this ballot as cast (entry {}), not as challenged. Tell the election officials.",
            answer.entry.index
        ),
        Err(e) if e.is_not_found() => {
            "The public board does not show this ballot: the booth did not publish the challenge."
                .to_owned()
        }
        Err(e) => format!("The board could not be asked about it ({}).", e.words()),
    };
    Found::Ok(rechecked, board)
}
