//! The published results in words and figures for the results page: per contest, what its
//! figures count (votes, approvals, points, scores) on its own scale, each option's share, and
//! who leads where the contest's rule says who leads. Pure arithmetic on `results.json` and the
//! manifest, tested natively; the page only draws.

use tabella_crypto::manifest::{ContestStyle, Manifest};
use tabella_crypto::record::Results;

/// One option's line.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    /// The option's id.
    pub id: String,
    /// The option's label.
    pub label: String,
    /// Its total (votes, approvals or points).
    pub total: u64,
    /// Its share in percent, as [`Contest::share_means`] says.
    pub percent: f64,
    /// Whether it leads the contest.
    pub leads: bool,
}

/// One contest's results.
#[derive(Clone, Debug, PartialEq)]
pub struct Contest {
    /// The contest's id.
    pub id: String,
    /// Its title.
    pub title: String,
    /// What a total counts: "votes", "approvals", "points".
    pub unit: &'static str,
    /// What the percentage is a share of, in words.
    pub share_means: String,
    /// The options, in ballot order.
    pub rows: Vec<Row>,
    /// Who leads, in words ("Winner: Ada Lovelace", "Tie for the most votes: …"), or why nobody
    /// does ("No votes").
    pub leading: String,
}

/// Why the results cannot be shown against this manifest.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("the published results do not match the election's contests: {0}")]
pub struct Mismatch(pub String);

/// The results of every contest of `manifest`, from `results`.
///
/// # Errors
/// [`Mismatch`] when the results do not list the manifest's contests and options in order.
pub fn summarize(manifest: &Manifest, results: &Results) -> Result<Vec<Contest>, Mismatch> {
    if manifest.contests.len() != results.contests.len() {
        return Err(Mismatch(format!(
            "{} contests in the manifest, {} in the results",
            manifest.contests.len(),
            results.contests.len()
        )));
    }
    let ballots = results.ballots_counted;
    manifest
        .contests
        .iter()
        .zip(&results.contests)
        .map(|(contest, result)| {
            let same = contest.id == result.id
                && contest.selections.len() == result.selections.len()
                && contest
                    .selections
                    .iter()
                    .zip(&result.selections)
                    .all(|(s, r)| s.id == r.id);
            if !same {
                return Err(Mismatch(format!("contest `{}`", contest.id)));
            }
            let totals: Vec<u64> = result.selections.iter().map(|s| s.total).collect();
            let sum: u64 = totals.iter().sum();
            let (unit, base, share_means) = match contest.style {
                ContestStyle::Plurality => (
                    "votes",
                    ballots,
                    format!("share of the {ballots} ballots counted"),
                ),
                ContestStyle::Approval { .. } => (
                    "approvals",
                    ballots,
                    format!(
                        "share of the {ballots} ballots counted that approve the option (a ballot may approve several, so the shares add up to more than 100 %)"
                    ),
                ),
                ContestStyle::Score { max_score } => (
                    "points",
                    ballots.saturating_mul(max_score),
                    format!(
                        "the option's points as a share of the most it could get ({ballots} ballots × {max_score} points)"
                    ),
                ),
                ContestStyle::Cumulative { .. } => (
                    "points",
                    sum,
                    format!("share of all {sum} points given"),
                ),
            };
            let top = totals.iter().copied().max().unwrap_or(0);
            let rows: Vec<Row> = contest
                .selections
                .iter()
                .zip(&totals)
                .map(|(s, &total)| Row {
                    id: s.id.clone(),
                    label: s.label.clone(),
                    total,
                    percent: percent(total, base),
                    leads: top > 0 && total == top,
                })
                .collect();
            let leaders: Vec<&str> = rows
                .iter()
                .filter(|r| r.leads)
                .map(|r| r.label.as_str())
                .collect();
            let leading = match (contest.style, leaders.as_slice()) {
                (_, []) => format!("No {unit}."),
                (ContestStyle::Plurality, [one]) => format!("Winner: {one}, with {top} votes."),
                (ContestStyle::Approval { .. }, [one]) => {
                    format!("Most approved: {one}, with {top} approvals.")
                }
                (ContestStyle::Score { .. } | ContestStyle::Cumulative { .. }, [one]) => {
                    format!("Most points: {one}, with {top} points.")
                }
                (_, many) => format!("Tie for the most {unit} ({top}): {}.", many.join(", ")),
            };
            Ok(Contest {
                id: contest.id.clone(),
                title: contest.title.clone(),
                unit,
                share_means,
                rows,
                leading,
            })
        })
        .collect()
}

/// `part` of `whole` in percent (0 when `whole` is 0).
fn percent(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 * 100.0 / whole as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tabella_crypto::ballot::ElectionId;
    use tabella_crypto::record::{ContestResult, SelectionResult};

    fn manifest() -> Manifest {
        Manifest::from_json(
            r#"{"title":"T","contests":[
              {"id":"mayor","title":"Mayor","style":{"type":"plurality"},
               "selections":[{"id":"a","label":"Ada"},{"id":"b","label":"Bob"},{"id":"c","label":"Cy"}]},
              {"id":"council","title":"Council","style":{"type":"approval","min":0,"max":2},
               "selections":[{"id":"a","label":"North"},{"id":"b","label":"South"}]},
              {"id":"parks","title":"Parks","style":{"type":"score","max_score":5},
               "selections":[{"id":"a","label":"Oak"},{"id":"b","label":"Elm"}]},
              {"id":"budget","title":"Budget","style":{"type":"cumulative","max_per_selection":3,"budget":3},
               "selections":[{"id":"a","label":"Roads"},{"id":"b","label":"Schools"}]}]}"#,
        )
        .unwrap()
    }

    fn results(ballots: u64, totals: &[&[u64]]) -> Results {
        let m = manifest();
        Results {
            election_id: ElectionId([1; 32]),
            ballots_counted: ballots,
            contests: m
                .contests
                .iter()
                .zip(totals)
                .map(|(c, t)| ContestResult {
                    id: c.id.clone(),
                    title: c.title.clone(),
                    selections: c
                        .selections
                        .iter()
                        .zip(t.iter())
                        .map(|(s, &total)| SelectionResult {
                            id: s.id.clone(),
                            label: s.label.clone(),
                            total,
                        })
                        .collect(),
                })
                .collect(),
            combined: vec![1, 2],
            absent: vec![],
            board_root: "00".repeat(32),
            board_size: ballots,
        }
    }

    #[test]
    fn each_style_on_its_own_scale_with_its_leader() {
        let r = results(10, &[&[6, 3, 1], &[7, 5], &[30, 20], &[18, 12]]);
        let s = summarize(&manifest(), &r).unwrap();
        let mayor = &s[0];
        assert_eq!(mayor.unit, "votes");
        assert_eq!(mayor.rows[0].percent, 60.0);
        assert_eq!(mayor.leading, "Winner: Ada, with 6 votes.");
        assert!(mayor.rows[0].leads && !mayor.rows[1].leads);
        let council = &s[1];
        assert_eq!(
            (council.rows[0].percent, council.rows[1].percent),
            (70.0, 50.0)
        );
        assert!(council.share_means.contains("more than 100 %"));
        assert_eq!(council.leading, "Most approved: North, with 7 approvals.");
        let parks = &s[2];
        assert_eq!(parks.rows[0].percent, 60.0); // 30 of 10 × 5
        assert_eq!(parks.leading, "Most points: Oak, with 30 points.");
        let budget = &s[3];
        assert_eq!(budget.rows[1].percent, 40.0); // 12 of 30
        assert!(budget.share_means.contains("all 30 points"));
    }

    #[test]
    fn ties_and_empty_contests_are_said_as_such() {
        let r = results(4, &[&[2, 2, 0], &[0, 0], &[0, 0], &[0, 0]]);
        let s = summarize(&manifest(), &r).unwrap();
        assert_eq!(s[0].leading, "Tie for the most votes (2): Ada, Bob.");
        assert_eq!(s[1].leading, "No approvals.");
        assert!(s[1].rows.iter().all(|r| !r.leads && r.percent == 0.0));
        let none = results(0, &[&[0, 0, 0], &[0, 0], &[0, 0], &[0, 0]]);
        let s = summarize(&manifest(), &none).unwrap();
        assert_eq!(s[0].rows[0].percent, 0.0);
        assert_eq!(s[0].leading, "No votes.");
    }

    #[test]
    fn results_of_other_contests_are_refused() {
        let mut r = results(1, &[&[1, 0, 0], &[1, 0], &[1, 0], &[1, 0]]);
        r.contests[1].selections.pop();
        assert!(summarize(&manifest(), &r).is_err());
        r.contests.pop();
        assert!(summarize(&manifest(), &r).is_err());
    }
}
