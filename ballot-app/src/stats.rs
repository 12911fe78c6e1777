//! Timing statistics for the bench page: median, 90th percentile and minimum of a few runs.

/// Summary of a set of timings, in milliseconds.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Summary {
    /// Number of runs.
    pub runs: usize,
    /// The median (the mean of the two middle values for an even count).
    pub median: f64,
    /// The 90th percentile, nearest-rank: the smallest value at or above 90 % of the runs.
    pub p90: f64,
    /// The fastest run.
    pub min: f64,
}

/// Summarises `samples` (`None` when there are none, or one is not a number).
pub fn summarise(samples: &[f64]) -> Option<Summary> {
    if samples.is_empty() || samples.iter().any(|s| s.is_nan()) {
        return None;
    }
    let mut sorted = samples.to_vec();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    let median = if n % 2 == 1 {
        sorted[n / 2]
    } else {
        (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
    };
    // Nearest rank: ceil(0.9 · n), 1-based.
    let rank = (9 * n).div_ceil(10).max(1);
    Some(Summary {
        runs: n,
        median,
        p90: sorted[rank - 1],
        min: sorted[0],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_p90_and_min_of_odd_and_even_counts() {
        let s = summarise(&[5.0, 1.0, 3.0]).expect("samples");
        assert_eq!((s.runs, s.median, s.p90, s.min), (3, 3.0, 5.0, 1.0));
        let s = summarise(&[4.0, 1.0, 3.0, 2.0]).expect("samples");
        assert_eq!((s.median, s.p90, s.min), (2.5, 4.0, 1.0));
        let ten: Vec<f64> = (1..=10).map(f64::from).collect();
        let s = summarise(&ten).expect("samples");
        assert_eq!((s.median, s.p90), (5.5, 9.0));
        let one = summarise(&[7.0]).expect("samples");
        assert_eq!((one.median, one.p90, one.min), (7.0, 7.0, 7.0));
    }

    #[test]
    fn nothing_to_summarise() {
        assert_eq!(summarise(&[]), None);
        assert_eq!(summarise(&[1.0, f64::NAN]), None);
    }
}
