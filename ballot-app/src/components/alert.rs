//! The page's alert: service errors and mistakes, in words.

use leptos::prelude::*;

/// `[role=alert]#error`: every page shows its errors here, in plain words (never raw JSON).
/// Hidden while there is nothing to say.
#[component]
pub(crate) fn Alert(
    /// The message to show, if any.
    error: RwSignal<Option<String>>,
) -> impl IntoView {
    view! {
        <p id="error" class="error" role="alert" hidden=move || error.with(Option::is_none)>
            {move || error.get()}
        </p>
    }
}
