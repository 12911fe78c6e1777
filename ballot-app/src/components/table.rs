//! A table of figures: caption, column headers, and sideways scrolling on narrow screens.

use leptos::prelude::*;

/// A captioned table whose columns are headed `headers`, with the rows as its children, in a
/// box that scrolls sideways when the screen is narrower than the table.
#[component]
pub(crate) fn DataTable(
    /// The table element's id (the browser tests find tables by it).
    #[prop(into)]
    id: String,
    /// What the table shows: its caption, read first by screen readers.
    caption: &'static str,
    /// The column headers, in order.
    headers: &'static [&'static str],
    /// The rows (`<tr>` elements).
    children: Children,
) -> impl IntoView {
    let heads = headers
        .iter()
        .map(|h| view! { <th scope="col">{*h}</th> })
        .collect_view();
    view! {
        <div class="scroll">
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
