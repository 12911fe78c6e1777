//! The election manifest: contests, selections and their rules (spec/crypto.md §7).
//!
//! A manifest is validated when it is loaded; every later layer relies on that. Its hash, bound
//! into every ballot, is SHA-256 over a canonical binary encoding (not over JSON text, whose
//! formatting is free), so two manifests hash alike exactly when they mean the same election.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::booth::BoothDigest;

mod translations;
use crate::elgamal::MAX_COUNT;
pub use translations::{
    is_language_tag, ContestTranslation, Translation, MAX_LANGUAGES, TRANSLATIONS_TRAILER_TAG,
};

/// Largest number of selections in a plurality or approval contest.
pub const MAX_SELECTIONS: usize = 256;
/// Largest number of selections in a score or cumulative contest (bounded by range-proof
/// aggregation: two ranges per selection, plus one for a cumulative budget, in at most 64).
pub const MAX_RANGED_SELECTIONS: usize = 31;
/// Largest number of contests in a manifest.
pub const MAX_CONTESTS: usize = 128;
/// Longest identifier, in bytes.
pub const MAX_ID_LEN: usize = 64;
/// Longest title or label, in bytes.
pub const MAX_TEXT_LEN: usize = 1024;

/// Why a manifest was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ManifestError {
    /// The JSON text does not describe a manifest.
    #[error("manifest is not valid JSON of the expected shape: {0}")]
    Json(String),
    /// The manifest has no contests, or too many.
    #[error("a manifest needs between 1 and {MAX_CONTESTS} contests; this one has {0}")]
    ContestCount(usize),
    /// A contest has too few or too many selections for its style.
    #[error("contest `{contest}`: {found} selections; this style allows {min} to {max}")]
    SelectionCount {
        /// Contest id.
        contest: String,
        /// Selections found.
        found: usize,
        /// Fewest allowed.
        min: usize,
        /// Most allowed.
        max: usize,
    },
    /// An identifier is empty, too long, or uses characters other than `a-z 0-9 - _ .`.
    #[error("`{0}` is not a valid identifier: use 1 to {MAX_ID_LEN} characters from a-z, 0-9, '-', '_', '.'")]
    InvalidId(String),
    /// Two contests, or two selections of one contest, share an id.
    #[error("identifier `{0}` is used twice")]
    DuplicateId(String),
    /// A title or label is too long.
    #[error("text of `{0}` is longer than {MAX_TEXT_LEN} bytes")]
    TextTooLong(String),
    /// A translation is for an invalid language tag, or incomplete, or translates what the
    /// manifest does not have (MANIFEST-3c).
    #[error("the translation `{language}`: {reason}")]
    InvalidTranslation {
        /// The language tag.
        language: String,
        /// What is wrong.
        reason: String,
    },
    /// The contact is present but empty or only spaces (leave the field out instead), or holds
    /// a control character.
    #[error("the contact must be words voters can use, without control characters: {0}")]
    InvalidContact(&'static str),
    /// The contest's limits are inconsistent.
    #[error("contest `{contest}`: {reason}")]
    InvalidLimits {
        /// Contest id.
        contest: String,
        /// What is wrong.
        reason: String,
    },
    /// With this many eligible voters, a selection's total could exceed what the tally can
    /// decrypt (MANIFEST-5).
    #[error("contest `{contest}`: with {voters} eligible voters a selection's total could reach \
             {voters} × {max_per_selection}, more than the largest total the tally can decrypt \
             ({MAX_COUNT}); allow at most {} per selection for this electorate", MAX_COUNT / .voters.max(&1))]
    TallyBoundExceeded {
        /// Contest id.
        contest: String,
        /// The number of eligible voters (credentials).
        voters: u64,
        /// The contest's largest value per selection.
        max_per_selection: u64,
    },
}

/// An election manifest.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// Human-readable title of the election.
    pub title: String,
    /// The contests, in ballot order.
    pub contests: Vec<Contest>,
    /// The digest of the web ballot (booth) the election publishes (spec/booth.md), when it
    /// publishes one. Absent from the JSON when `None`, and then the canonical encoding (and so
    /// the hash) is the same as for a manifest that predates the field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub booth: Option<BoothDigest>,
    /// Whom voters contact about the election (an office, an address, a telephone number), in
    /// the voter's words: the tracker names it when a ballot was replaced by a later one
    /// (MANIFEST-3b). Absent from the JSON when `None`, and then the canonical encoding is the
    /// same as for a manifest that predates the field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact: Option<String>,
    /// The ballot's words in other languages, by language tag (MANIFEST-3c): each complete.
    /// Absent from the JSON when empty, and then the canonical encoding is the same as for a
    /// manifest that predates the field.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub translations: std::collections::BTreeMap<String, Translation>,
}

/// The tag of the booth trailer of [`Manifest::canonical_bytes`].
pub const BOOTH_TRAILER_TAG: &str = "booth";
/// The tag of the contact trailer of [`Manifest::canonical_bytes`] (after the booth trailer).
pub const CONTACT_TRAILER_TAG: &str = "contact";

/// One contest on the ballot.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Contest {
    /// Stable identifier, unique in the manifest.
    pub id: String,
    /// The question shown to voters.
    pub title: String,
    /// The voting rule.
    pub style: ContestStyle,
    /// The options, in ballot order.
    pub selections: Vec<Selection>,
}

/// One option of a contest.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Selection {
    /// Stable identifier, unique in its contest.
    pub id: String,
    /// The label shown to voters.
    pub label: String,
}

/// The rule of a contest.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", try_from = "RawStyle")]
pub enum ContestStyle {
    /// Choose exactly one option.
    Plurality,
    /// Choose between `min` and `max` options (each 0 or 1).
    Approval {
        /// Fewest options to choose.
        min: u32,
        /// Most options to choose.
        max: u32,
    },
    /// Give each option a score from 0 to `max_score`.
    Score {
        /// Highest score per option.
        max_score: u64,
    },
    /// Give each option 0 to `max_per_selection` points, at most `budget` in total.
    Cumulative {
        /// Most points per option.
        max_per_selection: u64,
        /// Most points in total.
        budget: u64,
    },
}

/// The JSON form of a style, read strictly: exactly the fields of its type, nothing else.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStyle {
    #[serde(rename = "type")]
    kind: String,
    min: Option<u32>,
    max: Option<u32>,
    max_score: Option<u64>,
    max_per_selection: Option<u64>,
    budget: Option<u64>,
}

impl TryFrom<RawStyle> for ContestStyle {
    type Error = String;

    fn try_from(raw: RawStyle) -> Result<Self, String> {
        let fields = [
            ("min", raw.min.is_some()),
            ("max", raw.max.is_some()),
            ("max_score", raw.max_score.is_some()),
            ("max_per_selection", raw.max_per_selection.is_some()),
            ("budget", raw.budget.is_some()),
        ];
        let (style, wanted): (Option<ContestStyle>, &[&str]) = match raw.kind.as_str() {
            "plurality" => (Some(ContestStyle::Plurality), &[]),
            "approval" => (
                raw.min
                    .zip(raw.max)
                    .map(|(min, max)| ContestStyle::Approval { min, max }),
                &["min", "max"],
            ),
            "score" => (
                raw.max_score.map(|max_score| ContestStyle::Score { max_score }),
                &["max_score"],
            ),
            "cumulative" => (
                raw.max_per_selection
                    .zip(raw.budget)
                    .map(|(max_per_selection, budget)| ContestStyle::Cumulative {
                        max_per_selection,
                        budget,
                    }),
                &["max_per_selection", "budget"],
            ),
            other => {
                return Err(format!(
                    "unknown contest style `{other}` (expected plurality, approval, score or cumulative)"
                ))
            }
        };
        for (name, present) in fields {
            if present != wanted.contains(&name) {
                return Err(format!(
                    "a `{}` style takes exactly the fields {:?}; `{name}` is {}",
                    raw.kind,
                    wanted,
                    if present { "not allowed" } else { "missing" }
                ));
            }
        }
        style.ok_or_else(|| format!("incomplete `{}` style", raw.kind))
    }
}

impl ContestStyle {
    /// The largest value a single selection can hold.
    pub fn max_per_selection(&self) -> u64 {
        match self {
            ContestStyle::Plurality | ContestStyle::Approval { .. } => 1,
            ContestStyle::Score { max_score } => *max_score,
            ContestStyle::Cumulative {
                max_per_selection, ..
            } => *max_per_selection,
        }
    }

    /// Whether selections are committed with Pedersen commitments and range proofs.
    pub fn is_ranged(&self) -> bool {
        matches!(
            self,
            ContestStyle::Score { .. } | ContestStyle::Cumulative { .. }
        )
    }

    fn tag(&self) -> u8 {
        match self {
            ContestStyle::Plurality => 1,
            ContestStyle::Approval { .. } => 2,
            ContestStyle::Score { .. } => 3,
            ContestStyle::Cumulative { .. } => 4,
        }
    }
}

/// Why a set of choices breaks a contest's rules.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ChoiceError {
    /// A different number of contests than the manifest has.
    #[error("expected choices for {expected} contests, found {found}")]
    ContestCount {
        /// Contests in the manifest.
        expected: usize,
        /// Contests given.
        found: usize,
    },
    /// A different number of values than the contest has selections.
    #[error("contest `{contest}`: expected {expected} values, found {found}")]
    SelectionCount {
        /// Contest id.
        contest: String,
        /// Selections in the contest.
        expected: usize,
        /// Values given.
        found: usize,
    },
    /// A value exceeds the per-selection maximum.
    #[error(
        "contest `{contest}`: selection `{selection}` has {value}, more than the allowed {max}"
    )]
    ValueTooLarge {
        /// Contest id.
        contest: String,
        /// Selection id.
        selection: String,
        /// The value.
        value: u64,
        /// The maximum.
        max: u64,
    },
    /// The total is outside the contest's limits.
    #[error("contest `{contest}`: {total} chosen, but this contest needs {min} to {max}")]
    TotalOutOfRange {
        /// Contest id.
        contest: String,
        /// The total given.
        total: u64,
        /// Smallest allowed total.
        min: u64,
        /// Largest allowed total.
        max: u64,
    },
}

fn check_id(id: &str) -> Result<(), ManifestError> {
    let ok = !id.is_empty()
        && id.len() <= MAX_ID_LEN
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"-_.".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(ManifestError::InvalidId(id.to_owned()))
    }
}

/// `str(s)` of the canonical encoding: `u32_be(byte length) ‖ UTF-8 bytes`.
fn put_str(out: &mut Vec<u8>, s: &str) {
    out.extend_from_slice(&(s.len() as u32).to_be_bytes());
    out.extend_from_slice(s.as_bytes());
}

/// What is wrong with a contact (MANIFEST-3b), besides its length, if anything.
fn contact_problem(contact: &str) -> Option<&'static str> {
    if contact.trim().is_empty() {
        Some("it is empty (leave the field out instead)")
    } else if contact.chars().any(char::is_control) {
        Some("it holds a control character")
    } else {
        None
    }
}

fn check_text(owner: &str, text: &str) -> Result<(), ManifestError> {
    if text.len() > MAX_TEXT_LEN {
        return Err(ManifestError::TextTooLong(owner.to_owned()));
    }
    Ok(())
}

impl Contest {
    /// The allowed range `[min, max]` of the sum of the selections.
    pub fn total_limits(&self) -> (u64, u64) {
        let n = self.selections.len() as u64;
        match self.style {
            ContestStyle::Plurality => (1, 1),
            ContestStyle::Approval { min, max } => (u64::from(min), u64::from(max)),
            ContestStyle::Score { max_score } => (0, max_score.saturating_mul(n)),
            ContestStyle::Cumulative { budget, .. } => (0, budget),
        }
    }

    /// Checks a contest's choices against its rules.
    pub fn check_choices(&self, values: &[u64]) -> Result<(), ChoiceError> {
        if values.len() != self.selections.len() {
            return Err(ChoiceError::SelectionCount {
                contest: self.id.clone(),
                expected: self.selections.len(),
                found: values.len(),
            });
        }
        let max = self.style.max_per_selection();
        let mut total = 0u64;
        for (value, selection) in values.iter().zip(&self.selections) {
            if *value > max {
                return Err(ChoiceError::ValueTooLarge {
                    contest: self.id.clone(),
                    selection: selection.id.clone(),
                    value: *value,
                    max,
                });
            }
            total = total.saturating_add(*value);
        }
        let (lo, hi) = self.total_limits();
        if total < lo || total > hi {
            return Err(ChoiceError::TotalOutOfRange {
                contest: self.id.clone(),
                total,
                min: lo,
                max: hi,
            });
        }
        Ok(())
    }

    fn validate(&self) -> Result<(), ManifestError> {
        check_id(&self.id)?;
        check_text(&self.id, &self.title)?;
        let n = self.selections.len();
        let (min, max) = if self.style.is_ranged() {
            (1, MAX_RANGED_SELECTIONS)
        } else {
            (1, MAX_SELECTIONS)
        };
        if n < min || n > max {
            return Err(ManifestError::SelectionCount {
                contest: self.id.clone(),
                found: n,
                min,
                max,
            });
        }
        let mut seen = std::collections::BTreeSet::new();
        for s in &self.selections {
            check_id(&s.id)?;
            check_text(&s.id, &s.label)?;
            if !seen.insert(s.id.as_str()) {
                return Err(ManifestError::DuplicateId(format!("{}/{}", self.id, s.id)));
            }
        }
        let invalid = |reason: String| ManifestError::InvalidLimits {
            contest: self.id.clone(),
            reason,
        };
        match self.style {
            ContestStyle::Plurality => {}
            ContestStyle::Approval { min, max } => {
                if min > max || max as usize > n {
                    return Err(invalid(format!(
                        "approval limits {min}..{max} must satisfy min ≤ max ≤ {n} (the number of options)"
                    )));
                }
                if max == 0 {
                    return Err(invalid("approval max must be at least 1".into()));
                }
            }
            ContestStyle::Score { max_score } => {
                if max_score == 0 || max_score > u64::from(u32::MAX) {
                    return Err(invalid(format!(
                        "max_score {max_score} must be between 1 and {}",
                        u32::MAX
                    )));
                }
            }
            ContestStyle::Cumulative {
                max_per_selection,
                budget,
            } => {
                if max_per_selection == 0 || budget == 0 {
                    return Err(invalid(
                        "max_per_selection and budget must be at least 1".into(),
                    ));
                }
                if max_per_selection > u64::from(u32::MAX) || budget > u64::from(u32::MAX) {
                    return Err(invalid(format!("limits must not exceed {}", u32::MAX)));
                }
            }
        }
        Ok(())
    }
}

impl Manifest {
    /// Parses and validates a manifest from JSON.
    pub fn from_json(text: &str) -> Result<Self, ManifestError> {
        let manifest: Manifest =
            serde_json::from_str(text).map_err(|e| ManifestError::Json(e.to_string()))?;
        manifest.validate()?;
        Ok(manifest)
    }

    /// Checks every rule of §7: counts, identifiers, limits.
    pub fn validate(&self) -> Result<(), ManifestError> {
        check_text("title", &self.title)?;
        if let Some(contact) = &self.contact {
            check_text("contact", contact)?;
            contact_problem(contact)
                .map_or(Ok(()), |why| Err(ManifestError::InvalidContact(why)))?;
        }
        if self.contests.is_empty() || self.contests.len() > MAX_CONTESTS {
            return Err(ManifestError::ContestCount(self.contests.len()));
        }
        let mut seen = std::collections::BTreeSet::new();
        for contest in &self.contests {
            contest.validate()?;
            if !seen.insert(contest.id.as_str()) {
                return Err(ManifestError::DuplicateId(contest.id.clone()));
            }
        }
        self.check_translations()
    }

    /// MANIFEST-5: checks that the tally can decrypt every total this manifest allows with
    /// `voters` eligible voters: for every contest, `voters × max_per_selection ≤ 2^40`
    /// ([`MAX_COUNT`]), the bound the tally request uses (`TallyRequest::for_sums` asks for
    /// `counted × max_per_selection`, and at most every eligible voter is counted). Without it a
    /// score contest with `max_score = 2^32 − 1` would be accepted and its tally refused from
    /// the 257th counted ballot on.
    pub fn check_capacity(&self, voters: u64) -> Result<(), ManifestError> {
        for contest in &self.contests {
            let max_per_selection = contest.style.max_per_selection();
            if voters
                .checked_mul(max_per_selection)
                .is_none_or(|total| total > MAX_COUNT)
            {
                return Err(ManifestError::TallyBoundExceeded {
                    contest: contest.id.clone(),
                    voters,
                    max_per_selection,
                });
            }
        }
        Ok(())
    }

    /// Checks a full set of choices (one list of values per contest).
    pub fn check_choices(&self, choices: &[Vec<u64>]) -> Result<(), ChoiceError> {
        if choices.len() != self.contests.len() {
            return Err(ChoiceError::ContestCount {
                expected: self.contests.len(),
                found: choices.len(),
            });
        }
        for (contest, values) in self.contests.iter().zip(choices) {
            contest.check_choices(values)?;
        }
        Ok(())
    }

    /// The canonical binary encoding hashed by [`Manifest::hash`].
    ///
    /// # Layout
    /// `"tabella/v1/manifest"`, then `str(title)`, `u32(#contests)`, and per contest
    /// `str(id) ‖ str(title) ‖ u8(style tag) ‖ u64(p₁) ‖ u64(p₂) ‖ u32(#selections) ‖
    /// (str(id) ‖ str(label))*`, where `str(s) = u32(len) ‖ UTF-8 bytes`, integers big-endian,
    /// and `(p₁, p₂)` are `(0, 0)` plurality, `(min, max)` approval, `(max_score, 0)` score,
    /// `(max_per_selection, budget)` cumulative. When the manifest publishes a booth digest, a
    /// tagged trailer follows: `str("booth") ‖ digest (32 bytes)`; when it names a contact,
    /// then `str("contact") ‖ str(contact)`; when it carries translations, then the
    /// translations trailer (MANIFEST-3c, `Manifest::put_translations`); without them, nothing
    /// does. Every field before them
    /// is length-prefixed or counted, so where the contests end is known and the trailers
    /// cannot be confused with them or with each other.
    pub fn canonical_bytes(&self) -> Vec<u8> {
        let mut out = b"tabella/v1/manifest".to_vec();
        put_str(&mut out, &self.title);
        out.extend_from_slice(&(self.contests.len() as u32).to_be_bytes());
        for c in &self.contests {
            put_str(&mut out, &c.id);
            put_str(&mut out, &c.title);
            out.push(c.style.tag());
            let (p1, p2) = match c.style {
                ContestStyle::Plurality => (0, 0),
                ContestStyle::Approval { min, max } => (u64::from(min), u64::from(max)),
                ContestStyle::Score { max_score } => (max_score, 0),
                ContestStyle::Cumulative {
                    max_per_selection,
                    budget,
                } => (max_per_selection, budget),
            };
            out.extend_from_slice(&p1.to_be_bytes());
            out.extend_from_slice(&p2.to_be_bytes());
            out.extend_from_slice(&(c.selections.len() as u32).to_be_bytes());
            for s in &c.selections {
                put_str(&mut out, &s.id);
                put_str(&mut out, &s.label);
            }
        }
        if let Some(booth) = &self.booth {
            put_str(&mut out, BOOTH_TRAILER_TAG);
            out.extend_from_slice(&booth.to_bytes());
        }
        if let Some(contact) = &self.contact {
            put_str(&mut out, CONTACT_TRAILER_TAG);
            put_str(&mut out, contact);
        }
        self.put_translations(&mut out);
        out
    }

    /// SHA-256 of [`Manifest::canonical_bytes`].
    pub fn hash(&self) -> ManifestHash {
        ManifestHash(Sha256::digest(self.canonical_bytes()).into())
    }
}

/// The SHA-256 digest identifying a manifest.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ManifestHash(pub [u8; 32]);

impl ManifestHash {
    /// The digest bytes.
    pub fn to_bytes(&self) -> [u8; 32] {
        self.0
    }

    /// Exactly 32 bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, crate::group::EncodingError> {
        Ok(Self(crate::group::fixed("manifest hash", bytes)?))
    }
}
crate::group::serde_hex!(ManifestHash, "manifest hash");

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(all(target_arch = "wasm32", target_os = "unknown"))]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn sample() -> Manifest {
        Manifest::from_json(
            r#"{"title":"T","contests":[
              {"id":"mayor","title":"Mayor","style":{"type":"plurality"},
               "selections":[{"id":"a","label":"A"},{"id":"b","label":"B"}]},
              {"id":"council","title":"Council","style":{"type":"approval","min":0,"max":2},
               "selections":[{"id":"a","label":"A"},{"id":"b","label":"B"},{"id":"c","label":"C"}]}]}"#,
        )
        .unwrap()
    }

    #[test]
    fn valid_manifest_loads_and_hash_depends_on_every_field() {
        let m = sample();
        let h = m.hash();
        let mut m2 = m.clone();
        m2.contests[1].style = ContestStyle::Approval { min: 0, max: 3 };
        assert_ne!(m2.hash(), h);
        let mut m3 = m.clone();
        m3.contests[0].selections[1].label = "B ".into();
        assert_ne!(m3.hash(), h);
        let mut m4 = m;
        m4.title = "U".into();
        assert_ne!(m4.hash(), h);
    }

    /// MANIFEST-5: the largest possible total, eligible voters × the largest value per
    /// selection, must stay within the tally's discrete-log bound 2^40.
    #[test]
    fn manifests_whose_totals_the_tally_cannot_decrypt_are_refused_for_the_electorate() {
        let mut m = sample();
        m.contests.push(Contest {
            id: "budget".into(),
            title: "Budget".into(),
            style: ContestStyle::Score {
                max_score: u64::from(u32::MAX),
            },
            selections: vec![Selection {
                id: "x".into(),
                label: "X".into(),
            }],
        });
        m.validate().unwrap();
        // 256 × (2^32 − 1) < 2^40 ≤ 257 × (2^32 − 1): the tester's score contest.
        m.check_capacity(256).unwrap();
        let err = m.check_capacity(257).unwrap_err();
        assert_eq!(
            err,
            ManifestError::TallyBoundExceeded {
                contest: "budget".into(),
                voters: 257,
                max_per_selection: u64::from(u32::MAX),
            }
        );
        let text = err.to_string();
        assert!(text.contains("contest `budget`"), "{text}");
        assert!(
            text.contains("allow at most 4278255360 per selection"),
            "{text}"
        );
        // Plurality and approval count one per voter: 2^40 voters fit, one more does not.
        let plurality = sample();
        plurality.check_capacity(MAX_COUNT).unwrap();
        assert!(matches!(
            plurality.check_capacity(MAX_COUNT + 1),
            Err(ManifestError::TallyBoundExceeded { voters, .. }) if voters == MAX_COUNT + 1
        ));
        // No overflow: u64::MAX voters are refused, not wrapped.
        assert!(m.check_capacity(u64::MAX).is_err());
        m.check_capacity(0).unwrap();
    }

    const REFERENDUM: &str = r#"{"title": "Referendum", "contests": [{"id": "q1", "title": "Adopt the proposal?",
        "style": {"type": "plurality"}, "selections": [{"id": "yes", "label": "Yes"}, {"id": "no",
        "label": "No"}]}]}"#;

    /// The booth digest of spec/booth.md §2's worked value (`booth::tests::digest_vector`).
    const BOOTH: &str = "7a895d2261569fe5b8c0397a0b60c5489ed96f918ad5d9c81e3b70dcbb5c5684";

    #[test]
    fn canonical_bytes_worked_values_of_the_spec() {
        // spec/crypto.md §7.3 (MANIFEST-3): without a booth, the encoding and hash the field
        // predates; with one, the same bytes and the tagged trailer.
        let spec = include_str!("../../../spec/crypto.md");
        let plain = Manifest::from_json(REFERENDUM).unwrap();
        assert_eq!(plain.booth, None);
        let bytes = plain.canonical_bytes();
        assert_eq!(bytes.len(), 113);
        let hash = hex::encode(plain.hash().0);
        assert_eq!(
            hash,
            "abedb0a918847e0a828762bfbbaf83cb27f627e4e62027e4a51979672da3d7fd"
        );
        assert!(spec.contains(&hash));
        // Serialized without the field: the JSON reads back to the same manifest.
        let json = serde_json::to_string(&plain).unwrap();
        assert!(!json.contains("booth"), "{json}");

        let with_booth = REFERENDUM.replacen(
            "{\"title\": \"Referendum\",",
            &format!("{{\"title\": \"Referendum\", \"booth\": \"{BOOTH}\","),
            1,
        );
        let booth = Manifest::from_json(&with_booth).unwrap();
        assert_eq!(booth.booth.map(|d| d.to_hex()).as_deref(), Some(BOOTH));
        let booth_bytes = booth.canonical_bytes();
        assert_eq!(booth_bytes.len(), 113 + 4 + 5 + 32);
        assert_eq!(&booth_bytes[..113], &bytes[..]);
        assert_eq!(&booth_bytes[113..122], b"\x00\x00\x00\x05booth");
        assert_eq!(hex::encode(&booth_bytes[122..]), BOOTH);
        let hash = hex::encode(booth.hash().0);
        assert_eq!(
            hash,
            "c0cd4ef548b8d06678ad3fe6ad4bea815cfda13f52cdc53a8afab0c8a8f7ce7f"
        );
        assert!(spec.contains(&hash), "spec/crypto.md §7.3 shows {hash}");
        assert!(spec.contains(BOOTH));
        let json = serde_json::to_string(&booth).unwrap();
        assert_eq!(Manifest::from_json(&json).unwrap(), booth);

        // MANIFEST-3b: the contact trailer after the contests (and after the booth trailer).
        let with_contact = REFERENDUM.replacen(
            "{\"title\": \"Referendum\",",
            "{\"title\": \"Referendum\", \"contact\": \"Town hall, 01234 567890\",",
            1,
        );
        let contact = Manifest::from_json(&with_contact).unwrap();
        let contact_bytes = contact.canonical_bytes();
        assert_eq!(contact_bytes.len(), 151);
        assert_eq!(&contact_bytes[..113], &bytes[..]);
        assert_eq!(&contact_bytes[113..124], b"\x00\x00\x00\x07contact");
        assert_eq!(&contact_bytes[124..128], &[0, 0, 0, 23]);
        let hash = hex::encode(contact.hash().0);
        assert_eq!(
            hash,
            "231c605d48dd91e195b7f4861e43829430ff8775aef13594db5ece2a811983f1"
        );
        assert!(spec.contains(&hash), "spec/crypto.md §7.3 shows {hash}");
        let both = Manifest {
            booth: booth.booth,
            ..contact.clone()
        };
        let both_bytes = both.canonical_bytes();
        assert_eq!(&both_bytes[..booth_bytes.len()], &booth_bytes[..]);
        assert_eq!(&both_bytes[booth_bytes.len()..], &contact_bytes[113..]);
        let json = serde_json::to_string(&contact).unwrap();
        assert_eq!(Manifest::from_json(&json).unwrap(), contact);
    }

    #[test]
    fn the_contact_is_bound_and_read_strictly() {
        let plain = sample();
        let with = |contact: &str| Manifest {
            contact: Some(contact.to_owned()),
            ..plain.clone()
        };
        assert_ne!(with("Town hall").hash(), plain.hash());
        assert_ne!(with("Town hall").hash(), with("Town hall.").hash());
        assert_eq!(with("Town hall").validate(), Ok(()));
        for (bad, why) in [
            ("", "empty"),
            ("   ", "empty"),
            ("Town hall\n01234", "control character"),
            ("\u{7}", "control character"),
        ] {
            let refused = with(bad).validate();
            assert!(
                matches!(&refused, Err(ManifestError::InvalidContact(reason)) if reason.contains(why)),
                "{bad:?}: {refused:?}"
            );
        }
        assert_eq!(
            with(&"x".repeat(MAX_TEXT_LEN + 1)).validate(),
            Err(ManifestError::TextTooLong("contact".into()))
        );
        let text = r#"{"title":"x","contact":7,"contests":[{"id":"c","title":"C","style":{"type":"plurality"},"selections":[{"id":"a","label":"A"}]}]}"#;
        assert!(matches!(
            Manifest::from_json(text),
            Err(ManifestError::Json(_))
        ));
    }

    #[test]
    fn the_booth_digest_is_bound_and_read_strictly() {
        let plain = sample();
        let mut a = plain.clone();
        a.booth = Some(BoothDigest([1; 32]));
        let mut b = plain.clone();
        b.booth = Some(BoothDigest([2; 32]));
        assert_ne!(a.hash(), plain.hash());
        assert_ne!(a.hash(), b.hash());
        let json = serde_json::to_value(&a).unwrap();
        assert_eq!(json["booth"], hex::encode([1u8; 32]));
        for bad in [
            "\"0101\"".to_owned(),
            format!("\"{}\"", hex::encode([0xabu8; 32]).to_uppercase()),
            "1".to_owned(),
        ] {
            let text = format!(
                r#"{{"title":"x","booth":{bad},"contests":[{{"id":"c","title":"C","style":{{"type":"plurality"}},"selections":[{{"id":"a","label":"A"}}]}}]}}"#
            );
            assert!(
                matches!(Manifest::from_json(&text), Err(ManifestError::Json(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn invalid_manifests_are_refused_with_the_reason() {
        let base = sample();
        let mut dup = base.clone();
        dup.contests[1].id = "mayor".into();
        assert_eq!(
            dup.validate(),
            Err(ManifestError::DuplicateId("mayor".into()))
        );

        let mut dup_sel = base.clone();
        dup_sel.contests[0].selections[1].id = "a".into();
        assert_eq!(
            dup_sel.validate(),
            Err(ManifestError::DuplicateId("mayor/a".into()))
        );

        let mut bad_id = base.clone();
        bad_id.contests[0].id = "Mayor!".into();
        assert_eq!(
            bad_id.validate(),
            Err(ManifestError::InvalidId("Mayor!".into()))
        );

        let mut limits = base.clone();
        limits.contests[1].style = ContestStyle::Approval { min: 2, max: 4 };
        assert!(matches!(
            limits.validate(),
            Err(ManifestError::InvalidLimits { .. })
        ));

        let mut empty = base.clone();
        empty.contests.clear();
        assert_eq!(empty.validate(), Err(ManifestError::ContestCount(0)));

        let mut no_sel = base.clone();
        no_sel.contests[0].selections.clear();
        assert!(matches!(
            no_sel.validate(),
            Err(ManifestError::SelectionCount { found: 0, .. })
        ));

        let mut score = base;
        score.contests[0].style = ContestStyle::Score { max_score: 0 };
        assert!(matches!(
            score.validate(),
            Err(ManifestError::InvalidLimits { .. })
        ));

        assert!(matches!(
            Manifest::from_json("{\"title\":\"x\"}"),
            Err(ManifestError::Json(_))
        ));
        assert!(matches!(
            Manifest::from_json(r#"{"title":"x","contests":[],"extra":1}"#),
            Err(ManifestError::Json(_))
        ));
        // A style takes exactly its own fields: extra, missing or foreign fields are refused.
        for style in [
            r#"{"type":"plurality","max":3}"#,
            r#"{"type":"approval","min":1}"#,
            r#"{"type":"approval","min":1,"max":2,"budget":4}"#,
            r#"{"type":"score","max_score":3,"extra":true}"#,
            r#"{"type":"ranked"}"#,
        ] {
            let json = format!(
                r#"{{"title":"x","contests":[{{"id":"c","title":"C","style":{style},"selections":[{{"id":"a","label":"A"}}]}}]}}"#
            );
            assert!(
                matches!(Manifest::from_json(&json), Err(ManifestError::Json(_))),
                "{style}"
            );
        }
    }

    #[test]
    fn choices_are_checked_against_the_rules() {
        let m = sample();
        assert!(m.check_choices(&[vec![0, 1], vec![1, 0, 1]]).is_ok());
        assert!(matches!(
            m.check_choices(&[vec![1, 1], vec![0, 0, 0]]),
            Err(ChoiceError::TotalOutOfRange { total: 2, .. })
        ));
        assert!(matches!(
            m.check_choices(&[vec![0, 1], vec![1, 1, 1]]),
            Err(ChoiceError::TotalOutOfRange { total: 3, .. })
        ));
        assert!(matches!(
            m.check_choices(&[vec![0, 2], vec![0, 0, 0]]),
            Err(ChoiceError::ValueTooLarge { value: 2, .. })
        ));
        assert!(matches!(
            m.check_choices(&[vec![0, 1]]),
            Err(ChoiceError::ContestCount { .. })
        ));
    }
}
