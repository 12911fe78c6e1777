//! Turnout over time as a line chart (SVG), and the same figures as a table. The three series
//! differ by line pattern and marker shape as well as by colour (solid with circles, dashed
//! with squares, dotted with diamonds), so the chart reads without colour.

use leptos::prelude::*;
use tabella_crypto::api::TurnoutPoint;

use super::table::DataTable;
use crate::chart::{clock, nice_ceiling, ticks, Plot};

/// A series' marker.
#[derive(Clone, Copy)]
enum Marker {
    Circle,
    Square,
    Diamond,
}

impl Marker {
    fn at(self, class: &'static str, x: f64, y: f64) -> AnyView {
        match self {
            Marker::Circle => view! {
                <circle class=class cx=format!("{x:.1}") cy=format!("{y:.1}") r="3.5"></circle>
            }
            .into_any(),
            Marker::Square => view! {
                <rect class=class x=format!("{:.1}", x - 3.5) y=format!("{:.1}", y - 3.5) width="7" height="7"></rect>
            }
            .into_any(),
            Marker::Diamond => view! {
                <polygon
                    class=class
                    points=format!("{x:.1},{:.1} {:.1},{y:.1} {x:.1},{:.1} {:.1},{y:.1}", y - 4.5, x + 4.5, y + 4.5, x - 4.5)
                ></polygon>
            }
            .into_any(),
        }
    }
}

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
    let line = |class: &'static str, pick: fn(&TurnoutPoint) -> u64, marker: Marker| {
        let pts = plot.polyline(points.iter().map(|p| (p.minute, pick(p))));
        let dots = points
            .iter()
            .map(|p| marker.at(class, plot.x(p.minute), plot.y(pick(p))))
            .collect_view();
        view! {
            <g class="series">
                <polyline class=class points=pts></polyline>
                {dots}
            </g>
        }
    };
    let rows = points
        .iter()
        .map(|p| {
            view! {
                <tr>
                    <th scope="row">{clock(p.minute)}</th>
                    <td class="num">{p.voters}</td>
                    <td class="num">{p.cast}</td>
                    <td class="num">{p.spoiled}</td>
                </tr>
            }
        })
        .collect_view();
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
            {line("cast", |p| p.cast, Marker::Circle)}
            {line("voters", |p| p.voters, Marker::Square)}
            {line("spoiled", |p| p.spoiled, Marker::Diamond)}
            <text x=plot.left y=bottom + 18.0>{first.clone()}</text>
            <text x=plot.left + plot.width y=bottom + 18.0 text-anchor="end">{last.clone()}</text>
            <g class="legend" transform=format!("translate({:.0},{:.0})", plot.left, bottom + 36.0)>
                <g class="series">
                    <line class="cast" x1="0" x2="24" y1="-4" y2="-4"></line>
                    {Marker::Circle.at("cast", 12.0, -4.0)}
                </g>
                <text x="30" y="0">"cast ballots"</text>
                <g class="series">
                    <line class="voters" x1="130" x2="154" y1="-4" y2="-4"></line>
                    {Marker::Square.at("voters", 142.0, -4.0)}
                </g>
                <text x="160" y="0">"voters"</text>
                <g class="series">
                    <line class="spoiled" x1="220" x2="244" y1="-4" y2="-4"></line>
                    {Marker::Diamond.at("spoiled", 232.0, -4.0)}
                </g>
                <text x="250" y="0">"challenged"</text>
                <text x="320" y="0">"(times in UTC)"</text>
            </g>
        </svg>
        <DataTable
            id="turnout-table"
            caption="The same figures as the chart, by the end of each minute (UTC)"
            headers=&["Minute (UTC)", "Voters", "Cast ballots", "Challenged"]
        >
            {rows}
        </DataTable>
    }
}
