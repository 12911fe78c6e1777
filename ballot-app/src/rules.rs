//! Contest rules in words, the live feedback on a contest's limits, and the voter's choices
//! checked before encryption (spec/crypto.md §7).
//!
//! The booth keeps what the voter entered as [`Entry`] values, one per selection, so that a
//! number field holding something unreadable is shown as such instead of silently becoming 0.
//! [`feedback`] says, after every change, whether the contest's rule holds and what to do if
//! not; [`choices`] turns a whole ballot into the values `ElectionContext::encrypt_ballot` takes,
//! checked with the manifest's own rule ([`Contest::check_choices`]) so the booth never
//! disagrees with the crypto crate.

use tabella_crypto::manifest::{Contest, ContestStyle, Manifest};

/// What the voter entered for one selection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Entry {
    /// A value: 0 or 1 for a radio button or checkbox, points for a number field.
    Value(u64),
    /// A number field holding text that is not a whole number.
    Unreadable,
}

impl Entry {
    /// The value, if readable.
    pub fn value(self) -> Option<u64> {
        match self {
            Entry::Value(v) => Some(v),
            Entry::Unreadable => None,
        }
    }
}

/// Reads a number field: empty means 0; otherwise ASCII digits only (no sign, no decimals),
/// surrounding spaces ignored.
pub fn parse_points(text: &str) -> Entry {
    let text = text.trim();
    if text.is_empty() {
        return Entry::Value(0);
    }
    if !text.bytes().all(|b| b.is_ascii_digit()) {
        return Entry::Unreadable;
    }
    text.parse().map_or(Entry::Unreadable, Entry::Value)
}

/// `1 point`, `3 points`.
pub fn points(n: u64) -> String {
    if n == 1 {
        "1 point".to_owned()
    } else {
        format!("{n} points")
    }
}

/// The rule line shown under a contest's title ("Choose 1", "Choose up to 3", "Give each 0 to 5
/// points", …).
pub fn rule_text(style: &ContestStyle) -> String {
    match *style {
        ContestStyle::Plurality => "Choose 1".to_owned(),
        ContestStyle::Approval { min, max } if min == max => format!("Choose exactly {max}"),
        ContestStyle::Approval { min: 0, max } => format!("Choose up to {max}"),
        ContestStyle::Approval { min, max } => format!("Choose {min} to {max}"),
        ContestStyle::Score { max_score } => format!("Give each 0 to {}", points(max_score)),
        ContestStyle::Cumulative {
            max_per_selection,
            budget,
        } => format!(
            "Give each 0 to {}, at most {} in total",
            points(max_per_selection),
            points(budget)
        ),
    }
}

/// Whether a contest's entries obey its rule, and what to tell the voter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Feedback {
    /// Whether the entries can be encrypted as they are.
    pub valid: bool,
    /// One sentence for the live region under the contest.
    pub message: String,
}

impl Feedback {
    fn ok(message: impl Into<String>) -> Self {
        Self {
            valid: true,
            message: message.into(),
        }
    }

    fn fix(message: impl Into<String>) -> Self {
        Self {
            valid: false,
            message: message.into(),
        }
    }
}

/// The live feedback on `entries` (one per selection of `contest`, in order).
pub fn feedback(contest: &Contest, entries: &[Entry]) -> Feedback {
    if entries.len() != contest.selections.len() {
        return Feedback::fix("This contest's choices are incomplete: reload the page.");
    }
    let max = contest.style.max_per_selection();
    for (entry, selection) in entries.iter().zip(&contest.selections) {
        match entry {
            Entry::Unreadable => {
                return Feedback::fix(format!(
                    "Enter a whole number from 0 to {max} for {}.",
                    selection.label
                ))
            }
            Entry::Value(v) if *v > max => {
                return Feedback::fix(format!(
                    "{} has {}; the most is {}.",
                    selection.label,
                    points(*v),
                    points(max)
                ))
            }
            Entry::Value(_) => {}
        }
    }
    let total: u64 = entries
        .iter()
        .filter_map(|e| e.value())
        .fold(0, u64::saturating_add);
    match contest.style {
        ContestStyle::Plurality => match total {
            0 => Feedback::fix("Nothing chosen yet: choose 1."),
            1 => Feedback::ok("1 chosen. You can change it."),
            _ => Feedback::fix("Choose only 1."),
        },
        ContestStyle::Approval { min, max } => {
            let (min, max) = (u64::from(min), u64::from(max));
            if total < min {
                Feedback::fix(format!(
                    "{total} chosen: choose at least {min} ({} more).",
                    min - total
                ))
            } else if total > max {
                Feedback::fix(format!(
                    "{total} chosen: the most is {max}. Remove {}.",
                    total - max
                ))
            } else if total == max {
                Feedback::ok(format!("{total} chosen: that is the most you can choose."))
            } else {
                Feedback::ok(format!(
                    "{total} chosen: you can choose {} more.",
                    max - total
                ))
            }
        }
        ContestStyle::Score { .. } => Feedback::ok(format!("{} given in all.", points(total))),
        ContestStyle::Cumulative { budget, .. } => {
            if total > budget {
                Feedback::fix(format!(
                    "{} given: the most is {}. Remove {}.",
                    points(total),
                    points(budget),
                    points(total - budget)
                ))
            } else {
                Feedback::ok(format!(
                    "{} of {} given: {} left.",
                    points(total),
                    points(budget),
                    points(budget - total)
                ))
            }
        }
    }
}

/// The entries a contest starts with: nothing chosen, every score 0.
pub fn blank(contest: &Contest) -> Vec<Entry> {
    vec![Entry::Value(0); contest.selections.len()]
}

/// Why a ballot's entries cannot be encrypted: the first contest that needs attention.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NeedsAttention {
    /// Its index in the manifest.
    pub contest: usize,
    /// What to tell the voter, naming the contest.
    pub message: String,
}

/// The values to encrypt (one list per contest, manifest order), or the first contest whose
/// entries break its rule.
pub fn choices(
    manifest: &Manifest,
    entries: &[Vec<Entry>],
) -> Result<Vec<Vec<u64>>, NeedsAttention> {
    manifest
        .contests
        .iter()
        .enumerate()
        .map(|(index, contest)| contest_values(index, contest, entries.get(index)))
        .collect()
}

/// Every contest whose entries break its rule, in ballot order: the lines of the booth's error
/// summary (empty when the ballot can be encrypted).
pub fn problems(manifest: &Manifest, entries: &[Vec<Entry>]) -> Vec<NeedsAttention> {
    manifest
        .contests
        .iter()
        .enumerate()
        .filter_map(|(index, contest)| contest_values(index, contest, entries.get(index)).err())
        .collect()
}

/// One contest's values, or why they cannot be encrypted.
fn contest_values(
    index: usize,
    contest: &Contest,
    row: Option<&Vec<Entry>>,
) -> Result<Vec<u64>, NeedsAttention> {
    let attention = |message: String| NeedsAttention {
        contest: index,
        message: format!("{}: {message}", contest.title),
    };
    let Some(row) = row else {
        return Err(attention("no choices yet.".to_owned()));
    };
    let check = feedback(contest, row);
    if !check.valid {
        return Err(attention(check.message));
    }
    let values: Vec<u64> = row.iter().filter_map(|e| e.value()).collect();
    contest
        .check_choices(&values)
        .map_err(|e| attention(e.to_string()))?;
    Ok(values)
}

/// A contest's choices in words, one line per chosen option (for the review screen and a
/// challenged ballot's revealed choices).
pub fn describe(contest: &Contest, values: &[u64]) -> Vec<String> {
    let ranged = contest.style.is_ranged();
    let lines: Vec<String> = contest
        .selections
        .iter()
        .zip(values)
        .filter(|(_, v)| ranged || **v > 0)
        .map(|(s, v)| {
            if ranged {
                format!("{}: {}", s.label, points(*v))
            } else {
                s.label.clone()
            }
        })
        .collect();
    if lines.is_empty() {
        vec!["No choice".to_owned()]
    } else {
        lines
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tabella_crypto::manifest::Selection;

    fn contest(style: ContestStyle, n: usize) -> Contest {
        Contest {
            id: "c".into(),
            title: "Question".into(),
            style,
            selections: (0..n)
                .map(|i| Selection {
                    id: format!("s{i}"),
                    label: format!("Option {i}"),
                })
                .collect(),
        }
    }

    fn values(v: &[u64]) -> Vec<Entry> {
        v.iter().copied().map(Entry::Value).collect()
    }

    #[test]
    fn rule_lines_name_each_style() {
        assert_eq!(rule_text(&ContestStyle::Plurality), "Choose 1");
        assert_eq!(
            rule_text(&ContestStyle::Approval { min: 0, max: 3 }),
            "Choose up to 3"
        );
        assert_eq!(
            rule_text(&ContestStyle::Approval { min: 2, max: 2 }),
            "Choose exactly 2"
        );
        assert_eq!(
            rule_text(&ContestStyle::Approval { min: 1, max: 3 }),
            "Choose 1 to 3"
        );
        assert_eq!(
            rule_text(&ContestStyle::Score { max_score: 5 }),
            "Give each 0 to 5 points"
        );
        assert_eq!(
            rule_text(&ContestStyle::Cumulative {
                max_per_selection: 1,
                budget: 4
            }),
            "Give each 0 to 1 point, at most 4 points in total"
        );
    }

    #[test]
    fn plurality_needs_exactly_one() {
        let c = contest(ContestStyle::Plurality, 3);
        assert!(!feedback(&c, &values(&[0, 0, 0])).valid);
        assert!(feedback(&c, &values(&[0, 1, 0])).valid);
        let two = feedback(&c, &values(&[1, 1, 0]));
        assert!(!two.valid);
        assert_eq!(two.message, "Choose only 1.");
    }

    #[test]
    fn approval_feedback_counts_what_is_left_and_what_is_over() {
        let c = contest(ContestStyle::Approval { min: 1, max: 2 }, 4);
        let none = feedback(&c, &values(&[0, 0, 0, 0]));
        assert!(!none.valid);
        assert_eq!(none.message, "0 chosen: choose at least 1 (1 more).");
        let one = feedback(&c, &values(&[1, 0, 0, 0]));
        assert!(one.valid);
        assert_eq!(one.message, "1 chosen: you can choose 1 more.");
        let two = feedback(&c, &values(&[1, 1, 0, 0]));
        assert!(two.valid);
        assert_eq!(two.message, "2 chosen: that is the most you can choose.");
        let three = feedback(&c, &values(&[1, 1, 1, 0]));
        assert!(!three.valid);
        assert_eq!(three.message, "3 chosen: the most is 2. Remove 1.");
    }

    #[test]
    fn score_values_above_the_maximum_and_unreadable_text_are_named() {
        let c = contest(ContestStyle::Score { max_score: 5 }, 2);
        assert!(feedback(&c, &values(&[5, 0])).valid);
        let over = feedback(&c, &values(&[6, 0]));
        assert!(!over.valid);
        assert_eq!(over.message, "Option 0 has 6 points; the most is 5 points.");
        let bad = feedback(&c, &[Entry::Value(1), Entry::Unreadable]);
        assert!(!bad.valid);
        assert_eq!(
            bad.message,
            "Enter a whole number from 0 to 5 for Option 1."
        );
    }

    #[test]
    fn cumulative_budget_is_tracked_live() {
        let c = contest(
            ContestStyle::Cumulative {
                max_per_selection: 3,
                budget: 4,
            },
            3,
        );
        let some = feedback(&c, &values(&[3, 1, 0]));
        assert!(some.valid);
        assert_eq!(some.message, "4 points of 4 points given: 0 points left.");
        let over = feedback(&c, &values(&[3, 2, 0]));
        assert!(!over.valid);
        assert_eq!(
            over.message,
            "5 points given: the most is 4 points. Remove 1 point."
        );
    }

    #[test]
    fn number_fields_read_whole_numbers_only() {
        assert_eq!(parse_points(""), Entry::Value(0));
        assert_eq!(parse_points(" 7 "), Entry::Value(7));
        assert_eq!(parse_points("-1"), Entry::Unreadable);
        assert_eq!(parse_points("1.5"), Entry::Unreadable);
        assert_eq!(parse_points("1e3"), Entry::Unreadable);
        assert_eq!(parse_points("99999999999999999999999"), Entry::Unreadable);
    }

    #[test]
    fn choices_name_the_first_contest_that_needs_attention() {
        // Through JSON, so fields the manifest gains later keep their defaults.
        let manifest: Manifest = serde_json::from_value(serde_json::json!({
            "title": "T",
            "contests": [
                contest(ContestStyle::Plurality, 2),
                Contest {
                    id: "d".into(),
                    title: "Second".into(),
                    ..contest(ContestStyle::Approval { min: 0, max: 1 }, 2)
                },
            ],
        }))
        .expect("a manifest");
        let ok = choices(&manifest, &[values(&[0, 1]), values(&[0, 0])]);
        assert_eq!(ok, Ok(vec![vec![0, 1], vec![0, 0]]));
        let err = choices(&manifest, &[values(&[0, 1]), values(&[1, 1])]);
        assert_eq!(
            err,
            Err(NeedsAttention {
                contest: 1,
                message: "Second: 2 chosen: the most is 1. Remove 1.".into()
            })
        );
        assert!(choices(&manifest, &[values(&[0, 1])]).is_err());

        // The error summary lists every contest that needs attention, in ballot order.
        let both = problems(&manifest, &[values(&[0, 0]), values(&[1, 1])]);
        assert_eq!(
            both.iter().map(|p| p.contest).collect::<Vec<_>>(),
            vec![0, 1]
        );
        assert!(
            both[1].message.starts_with("Second: "),
            "{}",
            both[1].message
        );
        assert!(problems(&manifest, &[values(&[0, 1]), values(&[0, 0])]).is_empty());
    }

    #[test]
    fn descriptions_list_the_chosen_options() {
        let c = contest(ContestStyle::Approval { min: 0, max: 2 }, 3);
        assert_eq!(describe(&c, &[1, 0, 1]), ["Option 0", "Option 2"]);
        assert_eq!(describe(&c, &[0, 0, 0]), ["No choice"]);
        let s = contest(ContestStyle::Score { max_score: 3 }, 2);
        assert_eq!(
            describe(&s, &[1, 0]),
            ["Option 0: 1 point", "Option 1: 0 points"]
        );
    }
}
