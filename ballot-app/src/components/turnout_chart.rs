//! Turnout over time as a line chart (SVG).

use leptos::prelude::*;
use tabella_crypto::api::TurnoutPoint;

use crate::chart::{clock, nice_ceiling, ticks, Plot};

const WIDTH: f64 = 640.0;
const HEIGHT: f64 = 260.0;

/// `svg#turnout-chart`: voters, cast ballots (re-votes included) and spoiled ballots by the end
/// of each minute in which the board grew.
#[component]
pub(crate) fn TurnoutChart(
    /// The series, oldest first.
    points: Vec<TurnoutPoint>,
) -> impl IntoView {
    let max = points
        .iter()
        .map(|p| p.cast.max(p.voters).max(p.spoiled))
        .max()
        .unwrap_or(0);
    let plot = Plot {
        left: 48.0,
        top: 12.0,
        width: WIDTH - 48.0 - 16.0,
        height: HEIGHT - 12.0 - 44.0,
        x_min: points.first().map_or(0, |p| p.minute),
        x_max: points.last().map_or(0, |p| p.minute),
        y_top: nice_ceiling(max),
    };
    let bottom = plot.top + plot.height;
    let grid = ticks(plot.y_top)
        .into_iter()
        .map(|t| {
            let y = plot.y(t);
            view! {
                <g class="tick">
                    <line x1=plot.left x2=plot.left + plot.width y1=y y2=y></line>
                    <text x=plot.left - 6.0 y=y + 4.0 text-anchor="end">{t}</text>
                </g>
            }
        })
        .collect_view();
    // A line through the points, and a dot on each (so a single minute still shows).
    let line = |class: &'static str, pick: fn(&TurnoutPoint) -> u64| {
        let pts = plot.polyline(points.iter().map(|p| (p.minute, pick(p))));
        let dots = points
            .iter()
            .map(|p| {
                let (x, y) = (plot.x(p.minute), plot.y(pick(p)));
                view! { <circle class=class cx=format!("{x:.1}") cy=format!("{y:.1}") r="3"></circle> }
            })
            .collect_view();
        view! {
            <g class="series">
                <polyline class=class points=pts></polyline>
                {dots}
            </g>
        }
    };
    let first = points.first().map(|p| clock(p.minute)).unwrap_or_default();
    let last = points.last().map(|p| clock(p.minute)).unwrap_or_default();
    view! {
        <svg
            id="turnout-chart"
            class="chart"
            role="img"
            aria-labelledby="turnout-chart-title"
            viewBox=format!("0 0 {WIDTH} {HEIGHT}")
        >
            <title id="turnout-chart-title">
                {if points.is_empty() {
                    "Turnout over time: no ballots yet".to_owned()
                } else {
                    format!("Turnout over time, {first} to {last} UTC")
                }}
            </title>
            <g class="axis">{grid}</g>
            {line("cast", |p| p.cast)}
            {line("voters", |p| p.voters)}
            {line("spoiled", |p| p.spoiled)}
            <text x=plot.left y=bottom + 18.0>{first.clone()}</text>
            <text x=plot.left + plot.width y=bottom + 18.0 text-anchor="end">{last.clone()}</text>
            <g class="legend" transform=format!("translate({:.0},{:.0})", plot.left, bottom + 36.0)>
                <rect class="cast" x="0" y="-9" width="12" height="4"></rect>
                <text x="16" y="0">"cast ballots"</text>
                <rect class="voters" x="130" y="-9" width="12" height="4"></rect>
                <text x="146" y="0">"voters"</text>
                <rect class="spoiled" x="220" y="-9" width="12" height="4"></rect>
                <text x="236" y="0">"spoiled"</text>
                <text x="320" y="0">"(times in UTC)"</text>
            </g>
        </svg>
    }
}
