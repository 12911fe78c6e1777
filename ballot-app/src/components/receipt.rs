//! The cast ballot's receipt.

use leptos::prelude::*;
use tabella_crypto::board::Receipt;

use crate::web::browser::{blob_url, revoke_url};

/// A checked receipt, as shown.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ReceiptView {
    tracking_code: String,
    index: u64,
    size: u64,
    json: String,
    /// The size of the signed tree the inclusion was checked in, or why it was not.
    included: Result<u64, String>,
}

impl ReceiptView {
    /// The view of a receipt whose signatures were checked.
    pub(crate) fn new(receipt: &Receipt, included: Result<u64, String>) -> Self {
        Self {
            tracking_code: receipt.tracking_code.to_string(),
            index: receipt.index,
            size: receipt.tree_head.head.size,
            // The receipt's own types serialise infallibly (hex strings and numbers).
            json: serde_json::to_string_pretty(receipt).unwrap_or_default(),
            included,
        }
    }
}

/// `#receipt`: the tracking code, the board index, that the signatures were checked, and a
/// download link for the receipt (`a#receipt-download`, a `blob:` URL of its JSON).
#[component]
pub(crate) fn Receipted(
    /// The receipt, once cast.
    receipt: RwSignal<Option<ReceiptView>>,
) -> impl IntoView {
    let Some(view) = receipt.get_untracked() else {
        return ().into_any();
    };
    let url = blob_url(view.json.as_bytes(), "application/json").ok();
    if let Some(url) = url.clone() {
        on_cleanup(move || revoke_url(&url));
    }
    let file = format!(
        "tabella-receipt-{}.json",
        view.tracking_code.get(..16).unwrap_or("ballot")
    );
    let inclusion = match &view.included {
        Ok(size) => format!(
            "Your ballot is in the board's signed tree of {size} entries: its audit path was checked in your browser."
        ),
        Err(why) => format!(
            "Its place in the board's tree could not be checked just now ({why}); check it later on the Track page."
        ),
    };
    view! {
        <section id="receipt" aria-labelledby="receipt-heading">
            <h2 id="receipt-heading" tabindex="-1">"Your ballot is cast"</h2>
            <p>
                "Tracking code: " <code id="receipt-tracking-code" class="hex">{view.tracking_code.clone()}</code>
            </p>
            <p>"Entry on the public board: " <span id="receipt-index">{view.index}</span></p>
            <p class="ok">
                {format!(
                    "The election service's signatures on this receipt and on its tree head (of {} entries) were checked in your browser.",
                    view.size
                )}
            </p>
            <p class=if view.included.is_ok() { "ok" } else { "warning" }>{inclusion}</p>
            <p>
                <a id="receipt-download" href=url.unwrap_or_default() download=file>
                    "Download your receipt (JSON)"
                </a>
            </p>
            <p>
                "Keep the tracking code or the receipt. On the " <a href="/tracker">"Track a ballot"</a>
                " page you can check at any time that your ballot is on the board. You may vote again (reload this page and enter your code): only your last cast ballot counts."
            </p>
        </section>
    }
    .into_any()
}
