//! The credential code form.

use leptos::prelude::*;

/// `#credential-code` and `#credential-submit`: the voter types the code from their letter.
/// While `checking`, the code is being stretched into the voter's key (Argon2id, 16 MiB) and
/// looked up on the voter list: the form says so and waits.
#[component]
pub(crate) fn CodeForm(
    /// Whether the code is being checked.
    checking: RwSignal<bool>,
    /// Called with the code as typed.
    on_submit: Callback<String>,
) -> impl IntoView {
    let code = RwSignal::new(String::new());
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if !checking.get_untracked() {
            on_submit.run(code.get_untracked());
        }
    };
    view! {
        <section aria-labelledby="code-heading">
            <h2 id="code-heading">"Your credential code"</h2>
            <form on:submit=submit>
                <label for="credential-code">"Credential code"</label>
                <p id="credential-code-help" class="help">
                    "The 21 characters on your voting letter. Spaces and hyphens do not matter, nor does upper or lower case."
                </p>
                <input
                    id="credential-code"
                    name="credential-code"
                    type="text"
                    autocomplete="off"
                    autocapitalize="characters"
                    spellcheck="false"
                    aria-describedby="credential-code-help"
                    prop:value=move || code.get()
                    on:input=move |ev| code.set(event_target_value(&ev))
                />
                <button id="credential-submit" type="submit" class="primary" disabled=move || checking.get()>
                    "Continue"
                </button>
            </form>
            <p role="status" class="busy" hidden=move || !checking.get()>
                "Checking your code… this takes a moment on purpose, so that codes cannot be guessed quickly."
            </p>
        </section>
    }
}
