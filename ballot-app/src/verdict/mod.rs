//! What became of a ballot: the tracker's verdict, from the service's answer to
//! `GET /v1/board/track/{tracking_code}` (spec/api.md §4.9, API-TRACK-1), checked here before a
//! word of it is shown.
//!
//! [`check`] takes the answer apart: each entry's tracking code is the leaf hash of its ballot,
//! the ballot decodes for this election and verifies (its credential's signature and every
//! proof), its credential is the entry's, its kind and status agree; a replacement is a later
//! *cast* ballot under the *same* credential. So the service cannot invent a replacement (it
//! would need a ballot signed with the voter's credential) nor pass off another ballot as this
//! one. What no answer can prove, that nothing *later* replaces a counted ballot, is left to the
//! observer page and `tabella verify` (the tracker says so).
//!
//! The words are here too, so that every verdict is worded once, for the page and for the
//! tests; the page adds the inclusion proofs (under the signed root, and the anchored one).

use tabella_crypto::api::{BoardEntry, ElectionState, EntryStatus, TrackAnswer};
use tabella_crypto::ballot::{Ballot, ElectionContext, TrackingCode};
use tabella_crypto::board::merkle::leaf_hash;
use tabella_crypto::board::receipt::EntryKind;
use tabella_crypto::group::text::from_base64;

/// What became of the ballot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Voting has closed and this ballot is its code's last: it is (or, before the tally is
    /// published, will be) in the totals.
    Counted,
    /// Voting is open and this ballot is its code's last so far: it counts unless a later
    /// ballot with the same code replaces it.
    WillCount,
    /// A later ballot cast with the same voting code replaced it: it will never count.
    Replaced {
        /// The later ballot's board entry.
        index: u64,
        /// When the board received the later ballot (milliseconds since the Unix epoch, the
        /// service's clock).
        received_at: u64,
    },
    /// The voter challenged it (opened it to check the booth): published, never counted.
    Challenged,
}

impl Verdict {
    /// The value of `#track-result[data-verdict]`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Counted => "counted",
            Self::WillCount => "will-count",
            Self::Replaced { .. } => "replaced",
            Self::Challenged => "challenged",
        }
    }

    /// Whether the ballot counts (or will, if nothing replaces it).
    pub fn counts(&self) -> bool {
        matches!(self, Self::Counted | Self::WillCount)
    }

    /// The verdict in a voter's words. `when` writes a time (milliseconds since the epoch) in
    /// the voter's locale and time zone; `contact` is the manifest's contact (MANIFEST-3b).
    pub fn words(&self, contact: Option<&str>, when: impl Fn(u64) -> String) -> String {
        match self {
            Self::Counted => "Your ballot was counted. Voting has closed, and this is the ballot \
                 that counts for your voting code."
                .to_owned(),
            Self::WillCount => {
                "Your ballot is on the board and will be counted. If you vote again \
                 with the same voting code before voting closes, your new ballot replaces \
                 this one."
                    .to_owned()
            }
            Self::Replaced { received_at, .. } => format!(
                "This ballot will not be counted. A later ballot cast with the same voting code \
                 replaced it on {}. If this was not you, contact {} straight away.",
                when(*received_at),
                contact.unwrap_or("the election officials"),
            ),
            Self::Challenged => "This ballot was challenged (opened to check the booth), so it \
                 was never counted. If you did not cast another ballot after it, your vote is \
                 not recorded: vote again before voting closes."
                .to_owned(),
        }
    }
}

/// A verdict and what was checked to reach it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checked {
    /// What became of the ballot.
    pub verdict: Verdict,
    /// The ballot's board entry.
    pub index: u64,
    /// The replacing ballot's tracking code, when replaced (its inclusion is checked next).
    pub replaced_by: Option<TrackingCode>,
    /// Each thing checked, in words.
    pub lines: Vec<String>,
}

/// Why the answer was not believed: the words say what did not hold.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Refused(pub String);

/// Checks `answer` for the ballot `asked` in the election `ctx` and reaches the verdict.
///
/// # Errors
/// [`Refused`] with what did not hold; nothing of the answer is then to be shown as true.
pub fn check(
    answer: &TrackAnswer,
    asked: &TrackingCode,
    ctx: &ElectionContext,
    rng: &mut impl rand_core::CryptoRngCore,
) -> Result<Checked, Refused> {
    let entry = &answer.entry;
    if entry.tracking_code != *asked {
        return Err(Refused(format!(
            "The service answered about another ballot ({}) than the one asked for.",
            entry.tracking_code
        )));
    }
    let ballot = checked_entry(entry, answer.size, ctx, rng)?;
    let mut lines = vec![format!(
        "Entry {} holds your ballot: its bytes hash to your tracking code, and it carries a valid \
         signature of its voting code and valid proofs.",
        entry.index
    )];
    let agrees = matches!(
        (entry.kind, entry.status),
        (EntryKind::Spoiled, EntryStatus::Spoiled)
            | (
                EntryKind::Cast,
                EntryStatus::Counted | EntryStatus::Superseded
            )
    );
    if !agrees {
        return Err(Refused(format!(
            "The service says entry {} is a {} ballot with status {}, which cannot be.",
            entry.index,
            entry.kind.as_str(),
            entry.status.as_str()
        )));
    }
    let (verdict, replaced_by) = match (entry.status, &answer.replaced_by) {
        (EntryStatus::Superseded, Some(later)) => {
            let later_ballot = checked_entry(later, answer.size, ctx, rng)?;
            if later.kind != EntryKind::Cast || later.index <= entry.index {
                return Err(Refused(format!(
                    "The ballot said to replace yours (entry {}, {}) is not a later cast ballot.",
                    later.index,
                    later.kind.as_str()
                )));
            }
            if later_ballot.credential() != ballot.credential() {
                return Err(Refused(format!(
                    "The ballot said to replace yours (entry {}) was cast with another voting \
                     code, so it cannot replace yours.",
                    later.index
                )));
            }
            lines.push(format!(
                "Entry {} is a later ballot cast with the same voting code (the same credential \
                 key, its signature valid): it replaced yours.",
                later.index
            ));
            (
                Verdict::Replaced {
                    index: later.index,
                    received_at: later.received_at,
                },
                Some(later.tracking_code),
            )
        }
        (EntryStatus::Superseded, None) => {
            return Err(Refused(
                "The service says your ballot was replaced but does not show the ballot that \
                 replaced it."
                    .to_owned(),
            ))
        }
        (_, Some(_)) => {
            return Err(Refused(
                "The service shows a ballot replacing yours, yet says yours was not replaced."
                    .to_owned(),
            ))
        }
        (EntryStatus::Spoiled, None) => (Verdict::Challenged, None),
        (EntryStatus::Counted, None) => match answer.state {
            ElectionState::Closed | ElectionState::Tallied => (Verdict::Counted, None),
            ElectionState::Setup | ElectionState::Open => (Verdict::WillCount, None),
        },
    };
    Ok(Checked {
        verdict,
        index: entry.index,
        replaced_by,
        lines,
    })
}

/// One entry's own checks: below `size`, its tracking code the leaf hash of its bytes, a ballot
/// of this election that verifies, signed by the entry's credential.
fn checked_entry(
    entry: &BoardEntry,
    size: u64,
    ctx: &ElectionContext,
    rng: &mut impl rand_core::CryptoRngCore,
) -> Result<Ballot, Refused> {
    let at = entry.index;
    if at >= size {
        return Err(Refused(format!(
            "The service places a ballot at entry {at} of a board of {size} entries."
        )));
    }
    let bytes = from_base64("ballot", &entry.ballot).map_err(|e| {
        Refused(format!(
            "Entry {at}: the ballot's bytes do not decode: {e}."
        ))
    })?;
    if leaf_hash(&bytes) != entry.tracking_code.0 {
        return Err(Refused(format!(
            "Entry {at}: the ballot's bytes do not hash to its tracking code {}.",
            entry.tracking_code
        )));
    }
    let ballot = Ballot::from_bytes(&bytes, ctx)
        .map_err(|e| Refused(format!("Entry {at} is not a ballot of this election: {e}.")))?;
    ctx.verify_ballot(&ballot, rng)
        .map_err(|e| Refused(format!("Entry {at}: the ballot does not verify: {e}.")))?;
    if hex::encode(ballot.credential().to_bytes()) != entry.credential {
        return Err(Refused(format!(
            "Entry {at}: the service names another credential key than the one that signed the \
             ballot."
        )));
    }
    Ok(ballot)
}

#[cfg(test)]
mod tests;
