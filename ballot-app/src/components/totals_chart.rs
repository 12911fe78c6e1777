//! The results as a horizontal bar chart (SVG).

use leptos::prelude::*;
use tabella_crypto::record::Results;

use crate::chart::{nice_ceiling, scale, ticks};

/// Layout, in SVG units (the chart scales to the page's width through its `viewBox`).
const WIDTH: f64 = 640.0;
const LABEL: f64 = 190.0;
const BAR: f64 = 22.0;
const GAP: f64 = 8.0;
const HEADING: f64 = 30.0;
const AXIS: f64 = 24.0;
const RIGHT: f64 = 56.0;

/// `svg#totals-chart`: one bar per option, grouped by contest, every contest on the same scale.
#[component]
pub(crate) fn TotalsChart(
    /// The verified results.
    results: Results,
) -> impl IntoView {
    let max = results
        .contests
        .iter()
        .flat_map(|c| c.selections.iter().map(|s| s.total))
        .max()
        .unwrap_or(0);
    let top = nice_ceiling(max);
    let plot = WIDTH - LABEL - RIGHT;
    let mut y = 0.0;
    let mut groups = Vec::new();
    for contest in &results.contests {
        let heading_y = y + HEADING - 10.0;
        y += HEADING;
        let bars = contest
            .selections
            .iter()
            .map(|s| {
                let bar_y = y;
                y += BAR + GAP;
                let length = scale(s.total, top, plot);
                view! {
                    <g class="bar">
                        <text x=LABEL - 8.0 y=bar_y + BAR * 0.7 text-anchor="end">{s.label.clone()}</text>
                        <rect x=LABEL y=bar_y width=format!("{length:.1}") height=BAR></rect>
                        <text x=LABEL + length + 6.0 y=bar_y + BAR * 0.7 class="value">{s.total}</text>
                    </g>
                }
            })
            .collect_view();
        groups.push(view! {
            <g class="contest">
                <text x="0" y=heading_y class="heading">{contest.title.clone()}</text>
                {bars}
            </g>
        });
    }
    let height = y + AXIS;
    let axis = value_axis(top, LABEL, plot, y);
    view! {
        <svg
            id="totals-chart"
            class="chart"
            role="img"
            aria-labelledby="totals-chart-title"
            viewBox=format!("0 0 {WIDTH} {height:.0}")
            preserveAspectRatio="xMinYMin meet"
        >
            <title id="totals-chart-title">"Totals per option, as bars (the table below has the same figures)"</title>
            <g class="axis">{axis}</g>
            {groups}
        </svg>
    }
}

/// The vertical grid lines and labels of a horizontal bar chart's value axis: from `left`,
/// `extent` long for values 0 to `top`, lines down to `bottom`, labels under it.
pub(crate) fn value_axis(top: u64, left: f64, extent: f64, bottom: f64) -> impl IntoView {
    ticks(top)
        .into_iter()
        .map(|t| {
            let x = left + scale(t, top, extent);
            view! {
                <g class="tick">
                    <line x1=x x2=x y1="0" y2=bottom></line>
                    <text x=x y=bottom + 16.0 text-anchor="middle">{t}</text>
                </g>
            }
        })
        .collect_view()
}
