//! The cast ballot's receipt.

use leptos::prelude::*;
use tabella_crypto::board::Receipt;

use crate::paths;
use crate::web::browser::{blob_url, copy_text, local_time, print_page, revoke_url};

/// A checked receipt, as shown.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ReceiptView {
    /// The tracking code, grouped in fours for reading.
    tracking_code: String,
    index: u64,
    size: u64,
    json: String,
    /// The receipt in words, for the text download.
    text: String,
    /// The size of the signed tree the inclusion was checked in, or why it was not.
    included: Result<u64, String>,
}

impl ReceiptView {
    /// The view of a receipt whose signatures were checked, for the election `title`.
    pub(crate) fn new(receipt: &Receipt, included: Result<u64, String>, title: &str) -> Self {
        let tracking_code = paths::grouped(&receipt.tracking_code);
        let received = local_time(receipt.tree_head.head.timestamp);
        let tracker = web_sys::window()
            .and_then(|w| w.location().origin().ok())
            .map(|origin| format!("{origin}/tracker"))
            .unwrap_or_else(|| "the Track page".to_owned());
        let text = format!(
            "Receipt for your ballot\r\n\r\nElection: {title}\r\nTracking code: {tracking_code}\r\nEntry on the public board: {}\r\nReceived: {received}\r\n\r\nYour ballot is encrypted: this receipt does not show how you voted.\r\nCheck what became of your ballot at any time at {tracker}\r\nwith your tracking code. If you vote again with the same voting code,\r\nyour new ballot replaces this one.\r\n",
            receipt.index
        );
        Self {
            tracking_code,
            index: receipt.index,
            size: receipt.tree_head.head.size,
            // The receipt's own types serialise infallibly (hex strings and numbers).
            json: serde_json::to_string_pretty(receipt).unwrap_or_default(),
            text,
            included,
        }
    }
}

/// `#receipt`: the tracking code grouped for reading (with copy and print), the board index,
/// that the signatures were checked, and the receipt to download in words (`.txt`) or, for
/// experts, as JSON (`a#receipt-download`).
#[component]
pub(crate) fn Receipted(
    /// The receipt, once cast.
    receipt: RwSignal<Option<ReceiptView>>,
) -> impl IntoView {
    let Some(view) = receipt.get_untracked() else {
        return ().into_any();
    };
    let json_url = blob_url(view.json.as_bytes(), "application/json").ok();
    let text_url = blob_url(view.text.as_bytes(), "text/plain;charset=utf-8").ok();
    for url in [json_url.clone(), text_url.clone()].into_iter().flatten() {
        on_cleanup(move || revoke_url(&url));
    }
    let stem = format!(
        "tabella-receipt-{}",
        view.tracking_code
            .replace(' ', "")
            .get(..16)
            .unwrap_or("ballot")
    );
    let inclusion = match &view.included {
        Ok(size) => format!(
            "Your ballot is on the signed public board of {size} entries: your browser checked the proof."
        ),
        Err(why) => format!(
            "Its place on the public board could not be checked just now ({why}); check it later on the Track page."
        ),
    };
    let copied = RwSignal::new(None::<&'static str>);
    let code = view.tracking_code.clone();
    let copy = move |_| {
        let code = code.replace(' ', "");
        leptos::task::spawn_local(async move {
            let said = if copy_text(&code).await {
                "The tracking code is copied."
            } else {
                "This browser did not let the page copy; select the code and copy it yourself."
            };
            copied.set(Some(said));
        });
    };
    view! {
        <section id="receipt" aria-labelledby="receipt-heading">
            <div class="panel">
                <h2 id="receipt-heading" tabindex="-1">"Your ballot is cast"</h2>
                <p>"Your tracking code"</p>
                <p><code id="receipt-tracking-code" class="hex big">{view.tracking_code.clone()}</code></p>
            </div>
            <div class="actions">
                <button id="receipt-copy" type="button" on:click=copy>"Copy the tracking code"</button>
                <button id="receipt-print" type="button" on:click=move |_| print_page()>"Print this receipt"</button>
            </div>
            <p role="status" id="receipt-copied">{move || copied.get()}</p>
            <p>"Entry on the public board: " <span id="receipt-index">{view.index}</span></p>
            <p class="ok">
                {format!(
                    "Your browser checked the election service's signatures on this receipt and on the board it names ({} entries).",
                    view.size
                )}
            </p>
            <p class=if view.included.is_ok() { "ok" } else { "warning" }>{inclusion}</p>
            <p>
                <a id="receipt-download-text" href=text_url.unwrap_or_default() download=format!("{stem}.txt")>
                    "Download your receipt"
                </a>
                " (or, for experts, "
                <a id="receipt-download" href=json_url.unwrap_or_default() download=format!("{stem}.json")>
                    "the signed receipt as JSON"
                </a>
                ")"
            </p>
            <p>
                "Keep the tracking code or the receipt. On the " <a href="/tracker">"Track a ballot"</a>
                " page you can check at any time what became of your ballot. You may vote again (reload this page and enter your code): only your last ballot counts."
            </p>
        </section>
    }
    .into_any()
}
