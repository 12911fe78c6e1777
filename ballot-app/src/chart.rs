//! Scales for the SVG charts (the observer's totals, the officials' turnout): pure arithmetic,
//! so the pages only draw.
//!
//! Counts are whole numbers, so axes run from 0 to a "nice" ceiling (1, 2 or 5 times a power of
//! ten) with whole-number ticks.

/// The smallest of 1, 2, 5, 10, 20, 50, … that is at least `max` (1 when `max` is 0).
pub fn nice_ceiling(max: u64) -> u64 {
    let mut power: u64 = 1;
    loop {
        for m in [1, 2, 5] {
            let candidate = power.saturating_mul(m);
            if candidate >= max {
                return candidate;
            }
        }
        if power > u64::MAX / 10 {
            return u64::MAX;
        }
        power *= 10;
    }
}

/// Tick values from 0 to `top` inclusive, at most 6 of them, evenly spaced by a whole step.
pub fn ticks(top: u64) -> Vec<u64> {
    if top == 0 {
        return vec![0];
    }
    let step = [1u64, 2, 5]
        .iter()
        .flat_map(|m| {
            std::iter::successors(Some(*m), |p: &u64| p.checked_mul(10)).take_while(|p| *p <= top)
        })
        .filter(|s| top / s <= 5)
        .min()
        .unwrap_or(top);
    (0..=top / step).map(|i| i * step).collect()
}

/// `value` on an axis from 0 to `top` that is `extent` long (0 when `top` is 0; never past the
/// end).
pub fn scale(value: u64, top: u64, extent: f64) -> f64 {
    if top == 0 {
        return 0.0;
    }
    (value.min(top) as f64 / top as f64) * extent
}

/// A plot area: `x` from `x_min` to `x_max` over `width`, `y` from 0 to `y_top` over `height`
/// (SVG's y grows downwards, so 0 is at the bottom).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Plot {
    /// Left edge of the area, in SVG units.
    pub left: f64,
    /// Top edge of the area, in SVG units.
    pub top: f64,
    /// Width of the area.
    pub width: f64,
    /// Height of the area.
    pub height: f64,
    /// The smallest x value (at the left edge).
    pub x_min: u64,
    /// The largest x value (at the right edge).
    pub x_max: u64,
    /// The y value at the top edge.
    pub y_top: u64,
}

impl Plot {
    /// The SVG x coordinate of `x` (the middle of the area when the range is a single value).
    pub fn x(&self, x: u64) -> f64 {
        if self.x_max <= self.x_min {
            return self.left + self.width / 2.0;
        }
        let offset = x.clamp(self.x_min, self.x_max) - self.x_min;
        self.left + scale(offset, self.x_max - self.x_min, self.width)
    }

    /// The SVG y coordinate of `y`.
    pub fn y(&self, y: u64) -> f64 {
        self.top + self.height - scale(y, self.y_top, self.height)
    }

    /// The `points` attribute of an SVG polyline through `points`, to one decimal.
    pub fn polyline(&self, points: impl IntoIterator<Item = (u64, u64)>) -> String {
        points
            .into_iter()
            .map(|(x, y)| format!("{:.1},{:.1}", self.x(x), self.y(y)))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// `HH:MM` (UTC) of a time in Unix milliseconds.
pub fn clock(unix_ms: u64) -> String {
    let minutes = unix_ms / 60_000;
    format!("{:02}:{:02}", (minutes / 60) % 24, minutes % 60)
}

/// A share as a percentage with one decimal (`—` when the whole is 0).
pub fn percent(part: u64, whole: u64) -> String {
    if whole == 0 {
        return "—".to_owned();
    }
    format!("{:.1} %", part as f64 * 100.0 / whole as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nice_ceilings_are_one_two_or_five_times_a_power_of_ten() {
        let cases = [
            (0, 1),
            (1, 1),
            (2, 2),
            (3, 5),
            (6, 10),
            (11, 20),
            (21, 50),
            (51, 100),
            (1000, 1000),
            (1001, 2000),
        ];
        for (max, expected) in cases {
            assert_eq!(nice_ceiling(max), expected, "{max}");
        }
        assert_eq!(nice_ceiling(u64::MAX), u64::MAX);
    }

    #[test]
    fn ticks_are_whole_even_and_few() {
        assert_eq!(ticks(0), [0]);
        assert_eq!(ticks(1), [0, 1]);
        assert_eq!(ticks(2), [0, 1, 2]);
        assert_eq!(ticks(5), [0, 1, 2, 3, 4, 5]);
        assert_eq!(ticks(10), [0, 2, 4, 6, 8, 10]);
        assert_eq!(ticks(20), [0, 5, 10, 15, 20]);
        assert_eq!(ticks(50), [0, 10, 20, 30, 40, 50]);
        for top in [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000] {
            let t = ticks(nice_ceiling(top));
            assert!(t.len() <= 6 && t.len() >= 2, "{top}: {t:?}");
            assert_eq!(t.last(), Some(&nice_ceiling(top)));
        }
    }

    #[test]
    fn scale_maps_zero_to_top_onto_the_extent() {
        assert_eq!(scale(0, 10, 200.0), 0.0);
        assert_eq!(scale(5, 10, 200.0), 100.0);
        assert_eq!(scale(10, 10, 200.0), 200.0);
        assert_eq!(scale(20, 10, 200.0), 200.0);
        assert_eq!(scale(3, 0, 200.0), 0.0);
    }

    #[test]
    fn plot_puts_zero_at_the_bottom_and_handles_a_single_minute() {
        let plot = Plot {
            left: 40.0,
            top: 10.0,
            width: 200.0,
            height: 100.0,
            x_min: 60_000,
            x_max: 180_000,
            y_top: 10,
        };
        assert_eq!(plot.x(60_000), 40.0);
        assert_eq!(plot.x(180_000), 240.0);
        assert_eq!(plot.y(0), 110.0);
        assert_eq!(plot.y(10), 10.0);
        assert_eq!(
            plot.polyline([(60_000, 0), (120_000, 5)]),
            "40.0,110.0 140.0,60.0"
        );
        let single = Plot {
            x_max: 60_000,
            ..plot
        };
        assert_eq!(single.x(60_000), 140.0);
    }

    #[test]
    fn clock_and_percent_read_well() {
        assert_eq!(clock(0), "00:00");
        assert_eq!(clock(1_767_225_600_000 + 90 * 60_000), "01:30");
        assert_eq!(percent(1, 3), "33.3 %");
        assert_eq!(percent(0, 0), "—");
    }
}
