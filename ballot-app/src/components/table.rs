//! A table of figures: caption, column headers, and sideways scrolling on narrow screens.

use leptos::prelude::*;

/// A captioned table whose columns are headed `headers`, with the rows as its children, in a
/// box that scrolls sideways when the screen is narrower than the table. The box takes the
/// keyboard focus (and is named by the caption), so it can be scrolled without a mouse.
#[component]
pub(crate) fn DataTable(
    /// The table element's id (the browser tests find tables by it).
    #[prop(into)]
    id: String,
    /// What the table shows: its caption, read first by screen readers (unique in the page: it
    /// also names the scrolling box).
    #[prop(into)]
    caption: String,
    /// The column headers, in order.
    headers: &'static [&'static str],
    /// The rows (`<tr>` elements).
    children: Children,
) -> impl IntoView {
    let heads = headers
        .iter()
        .map(|h| view! { <th scope="col">{*h}</th> })
        .collect_view();
    let label = caption.clone();
    view! {
        <div class="scroll" tabindex="0" role="region" aria-label=label>
            <table id=id>
                <caption>{caption}</caption>
                <thead>
                    <tr>{heads}</tr>
                </thead>
                <tbody>{children()}</tbody>
            </table>
        </div>
    }
}
