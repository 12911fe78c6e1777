//! Event-loop and timing glue.
//!
//! The cryptography runs on the page's only thread. Before and between long steps the pages
//! `await` [`paint`] or [`next_tick`], so the browser can draw the progress bar and answer the
//! keyboard before the next step blocks it again.

use js_sys::{Function, Promise, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

/// Waits `ms` milliseconds (a `setTimeout` task): everything queued before it runs first.
pub(crate) async fn sleep(ms: i32) {
    let promise = Promise::new(&mut |resolve: Function, _reject: Function| {
        if let Some(window) = web_sys::window() {
            if window
                .set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms)
                .is_ok()
            {
                return;
            }
        }
        // No window or timer: resolve at once rather than never.
        let _ = resolve.call0(&JsValue::UNDEFINED);
    });
    let _ = JsFuture::from(promise).await;
}

/// Yields to the event loop once (input events, timers, network callbacks).
pub(crate) async fn next_tick() {
    sleep(0).await;
}

/// Waits until the browser has drawn the page as it is now: the next animation frame, then a
/// task after it. A hidden page draws no frames, so there it only yields.
pub(crate) async fn paint() {
    let visible = web_sys::window()
        .and_then(|w| w.document())
        .is_some_and(|d| d.visibility_state() == web_sys::VisibilityState::Visible);
    if visible {
        let promise = Promise::new(&mut |resolve: Function, _reject: Function| {
            let scheduled = web_sys::window()
                .map(|w| w.request_animation_frame(&resolve).is_ok())
                .unwrap_or(false);
            if !scheduled {
                let _ = resolve.call0(&JsValue::UNDEFINED);
            }
        });
        let _ = JsFuture::from(promise).await;
    }
    next_tick().await;
}

/// `performance.now()`: milliseconds, sub-millisecond resolution where the browser allows.
pub(crate) fn now_ms() -> f64 {
    web_sys::window()
        .and_then(|w| w.performance())
        .map_or(0.0, |p| p.now())
}

/// The page's query parameter `name`.
pub(crate) fn query_param(name: &str) -> Option<String> {
    let search = web_sys::window()?.location().search().ok()?;
    let params = web_sys::UrlSearchParams::new_with_str(&search).ok()?;
    params.get(name)
}

/// A `blob:` URL holding `bytes` as `mime`, for a download link. Revoke it with
/// [`revoke_url`] when the link goes away.
pub(crate) fn blob_url(bytes: &[u8], mime: &str) -> Result<String, JsValue> {
    let parts = js_sys::Array::new();
    parts.push(&Uint8Array::from(bytes));
    let options = web_sys::BlobPropertyBag::new();
    options.set_type(mime);
    let blob = web_sys::Blob::new_with_u8_array_sequence_and_options(&parts, &options)?;
    web_sys::Url::create_object_url_with_blob(&blob)
}

/// Frees a URL made by [`blob_url`].
pub(crate) fn revoke_url(url: &str) {
    let _ = web_sys::Url::revoke_object_url(url);
}

/// The bytes of a `Blob` (or `File`), or of the part `start..end` of it.
pub(crate) async fn blob_bytes(
    blob: &web_sys::Blob,
    range: Option<(f64, f64)>,
) -> Result<Vec<u8>, String> {
    let part = match range {
        Some((start, end)) => blob
            .slice_with_f64_and_f64(start, end)
            .map_err(|e| js_text(&e))?,
        None => blob.clone(),
    };
    let buffer = JsFuture::from(part.array_buffer())
        .await
        .map_err(|e| js_text(&e))?;
    Ok(Uint8Array::new(&buffer).to_vec())
}

/// A JavaScript error as text (for logs and details, never shown raw to voters).
pub(crate) fn js_text(value: &JsValue) -> String {
    value
        .dyn_ref::<js_sys::Error>()
        .map(|e| String::from(e.message()))
        .or_else(|| value.as_string())
        .unwrap_or_else(|| format!("{value:?}"))
}

/// Moves the keyboard focus to the element `id` (a section's heading, after the page changed
/// under the voter), once the browser has drawn it.
pub(crate) fn focus(id: impl Into<String>) {
    let id: String = id.into();
    leptos::task::spawn_local(async move {
        next_tick().await;
        let element = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.get_element_by_id(&id))
            .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok());
        if let Some(element) = element {
            let _ = element.focus();
        }
    });
}

/// Sets the document's title (what a screen reader announces on navigation).
pub(crate) fn set_title(title: &str) {
    if let Some(document) = web_sys::window().and_then(|w| w.document()) {
        document.set_title(&format!("{title} · Tabella"));
    }
}

/// The path of a file picked from a folder (`webkitRelativePath`, which web-sys does not bind),
/// falling back to its name.
pub(crate) fn relative_path(file: &web_sys::File) -> String {
    js_sys::Reflect::get(file, &JsValue::from_str("webkitRelativePath"))
        .ok()
        .and_then(|v| v.as_string())
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| file.name())
}

/// The browser's language (`navigator.language`), `en` when it says none.
pub(crate) fn language() -> String {
    web_sys::window()
        .and_then(|w| js_sys::Reflect::get(&w, &JsValue::from_str("navigator")).ok())
        .and_then(|n| js_sys::Reflect::get(&n, &JsValue::from_str("language")).ok())
        .and_then(|l| l.as_string())
        .filter(|l| !l.is_empty())
        .unwrap_or_else(|| "en".to_owned())
}

/// A time (milliseconds since the Unix epoch) as the voter reads it: the date and the time in
/// their language and time zone, the zone named (`4 December 2026 at 23:41:07 GMT+1`).
pub(crate) fn local_time(ms: u64) -> String {
    let date = js_sys::Date::new(&JsValue::from_f64(ms as f64));
    let options = js_sys::Object::new();
    let _ = js_sys::Reflect::set(&options, &"dateStyle".into(), &"long".into());
    let _ = js_sys::Reflect::set(&options, &"timeStyle".into(), &"long".into());
    date.to_locale_string(&language(), &options).into()
}

/// The value kept under `name` in this origin's `localStorage`, if any (and if the browser lets
/// the page use it).
pub(crate) fn stored(name: &str) -> Option<String> {
    let storage = web_sys::window()?.local_storage().ok()??;
    storage.get_item(name).ok()?
}

/// Keeps `value` under `name` in `localStorage`; `false` when the browser does not let the page.
pub(crate) fn store(name: &str, value: &str) -> bool {
    web_sys::window()
        .and_then(|w| w.local_storage().ok().flatten())
        .is_some_and(|s| s.set_item(name, value).is_ok())
}

/// Puts `text` on the clipboard (`navigator.clipboard.writeText`); `false` when the browser
/// offers no clipboard to the page or refuses the write.
pub(crate) async fn copy_text(text: &str) -> bool {
    let Some(window) = web_sys::window() else {
        return false;
    };
    let clipboard = js_sys::Reflect::get(&window, &JsValue::from_str("navigator"))
        .and_then(|n| js_sys::Reflect::get(&n, &JsValue::from_str("clipboard")));
    let Ok(clipboard) = clipboard else {
        return false;
    };
    let write = js_sys::Reflect::get(&clipboard, &JsValue::from_str("writeText"))
        .ok()
        .and_then(|f| f.dyn_into::<Function>().ok());
    let Some(promise) = write
        .and_then(|f| f.call1(&clipboard, &JsValue::from_str(text)).ok())
        .and_then(|p| p.dyn_into::<Promise>().ok())
    else {
        return false;
    };
    JsFuture::from(promise).await.is_ok()
}

/// Opens the browser's print dialogue (`window.print()`).
pub(crate) fn print_page() {
    if let Some(window) = web_sys::window() {
        let _ = window.print();
    }
}

/// Adds an entry to the browser's history for the booth's step `step` (same address), so that
/// Back returns to the previous step; with `replace`, names the current entry instead.
pub(crate) fn history_step(step: &str, replace: bool) {
    let Some(window) = web_sys::window() else {
        return;
    };
    let Ok(history) = js_sys::Reflect::get(&window, &JsValue::from_str("history")) else {
        return;
    };
    let state = js_sys::Object::new();
    let _ = js_sys::Reflect::set(&state, &"boothStep".into(), &step.into());
    let method = if replace { "replaceState" } else { "pushState" };
    if let Some(f) = js_sys::Reflect::get(&history, &JsValue::from_str(method))
        .ok()
        .and_then(|f| f.dyn_into::<Function>().ok())
    {
        let _ = f.call2(&history, &state, &JsValue::from_str(""));
    }
}

/// The booth step a history entry names (a `popstate` event's state), if any.
pub(crate) fn history_step_of(event: &web_sys::Event) -> Option<String> {
    let state = js_sys::Reflect::get(event, &JsValue::from_str("state")).ok()?;
    js_sys::Reflect::get(&state, &JsValue::from_str("boothStep"))
        .ok()?
        .as_string()
}
