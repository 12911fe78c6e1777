//! The footer: which booth this is.

use leptos::prelude::*;

use super::app::BoothState;
use crate::web::integrity::BoothCheck;

/// `#booth-digest` and `#booth-digest-status`: the digest of the booth this browser runs,
/// computed here from `booth.json` and every file it lists, and whether the election's
/// manifest publishes it.
#[component]
pub(crate) fn Footer() -> impl IntoView {
    let state = expect_context::<BoothState>().0;
    let digest = move || match state.get() {
        BoothCheck::Checking => "checking…".to_owned(),
        BoothCheck::NotServed => "unknown".to_owned(),
        BoothCheck::Broken(_) => "does not match its file list".to_owned(),
        BoothCheck::Computed { digest, .. } => digest.to_hex(),
    };
    let published = move || match state.get() {
        BoothCheck::Checking => None,
        BoothCheck::Computed {
            published: Some(true),
            ..
        } => Some("true"),
        _ => Some("false"),
    };
    let status = move || {
        match state.get() {
        BoothCheck::Checking => "Checking the files of this booth…".to_owned(),
        BoothCheck::NotServed => "This server publishes no list of the booth's files, so this booth cannot be identified.".to_owned(),
        BoothCheck::Broken(why) => format!("Warning: the booth's files do not match their list ({why}). Do not vote with this page; tell the election officials."),
        BoothCheck::Computed { published: Some(true), .. } => "This is the booth the election publishes.".to_owned(),
        BoothCheck::Computed { published: Some(false), .. } => "Warning: the election does not publish this booth. Do not vote with this page; tell the election officials.".to_owned(),
        BoothCheck::Computed { published: None, .. } => "No election is published on this service yet to compare it with.".to_owned(),
    }
    };
    view! {
        <footer class="site">
            <p>
                "Booth fingerprint (SHA-256 of the files this page runs, computed in your browser; see the "
                <a href="/glossary#booth-fingerprint">"glossary"</a>
                "): "
                <code id="booth-digest" class="hex">{digest}</code>
            </p>
            <p id="booth-digest-status" role="status" data-published=published>{status}</p>
        </footer>
    }
}
