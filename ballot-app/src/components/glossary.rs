//! The glossary (`/glossary`): the few words the voter pages cannot avoid, in plain English.

use leptos::prelude::*;

use crate::web::browser;

/// The terms: `(anchor id, term, meaning)`.
const TERMS: &[(&str, &str, &str)] = &[
    (
        "voting-code",
        "Voting code",
        "The code in your letter or e-mail. It lets you vote, so keep it to yourself. If you vote more than once with it, only your last ballot counts.",
    ),
    (
        "tracking-code",
        "Tracking code",
        "A 64-character code the booth shows for your encrypted ballot. With it you (or anyone) can check on the Track page that your ballot is on the public board and whether it counts. It does not show how you voted.",
    ),
    (
        "challenge",
        "Challenge",
        "A way to check the booth. Instead of casting your encrypted ballot, you ask the booth to open it: your browser shows what it holds and checks it matches your choices. A challenged ballot is published and never counted; you then vote again, and the booth encrypts your ballot afresh.",
    ),
    (
        "public-board",
        "Public board",
        "The list of every encrypted ballot the election received, published so that anyone can check it. Ballots are only ever added to it; the Track page warns you if the board ever shows you a different past.",
    ),
    (
        "receipt",
        "Receipt",
        "The election service's signed statement that it stored your ballot on the board, with its entry number. Keep it, or keep your tracking code.",
    ),
    (
        "encrypted",
        "Encrypted",
        "Locked so that nobody can read it. Your choices are encrypted on your own device before they leave it.",
    ),
    (
        "trustees",
        "Trustees",
        "People who each hold part of the election's key. Only enough of them together can decrypt, and they only ever decrypt the totals of all ballots, never one ballot.",
    ),
    (
        "checkpoint",
        "Checkpoint",
        "A fingerprint of the public board published on a public blockchain from time to time, so that nobody, the election service included, can change the board's past unnoticed.",
    ),
    (
        "booth-fingerprint",
        "Booth fingerprint",
        "A number computed from the files of the voting page you are using. The election publishes the fingerprint of its booth; the page shows at the bottom whether they match, so you can tell you are using the real one.",
    ),
];

/// The glossary page.
#[component]
pub(crate) fn Glossary() -> impl IntoView {
    browser::set_title("Glossary");
    view! {
        <h1>"Words used in this service"</h1>
        <dl id="glossary" class="glossary">
            {TERMS
                .iter()
                .map(|(id, term, meaning)| {
                    view! {
                        <div>
                            <dt id=*id>{*term}</dt>
                            <dd>{*meaning}</dd>
                        </div>
                    }
                })
                .collect_view()}
        </dl>
    }
}
