//! Continuous checking in the voter's browser: the board must never show this browser a
//! history that does not extend what it showed before (spec/api.md §4.11).
//!
//! The browser keeps the largest signed tree head it has seen of each election (the tracker
//! and the booth keep it in `localStorage`). Each new signed head is compared with it:
//! - the same size: the roots must be equal;
//! - larger: a consistency proof from the kept head to the new one must hold (the board only
//!   appended), and the new head is kept;
//! - smaller: the new head must be consistent with the kept one too (a consistency proof from
//!   the new, smaller head to the kept one, which the caller fetches at the kept size).
//!
//! Keeping only the largest head is enough: consistency is transitive, so every head accepted
//! extends every head accepted before it. When a check fails, both heads carry the board's
//! signature: together they are proof, to anyone, that the board showed two histories.

use tabella_crypto::board::merkle::{verify_consistency, ConsistencyProof, Hash};
use tabella_crypto::board::receipt::{BoardKey, SignedTreeHead};

/// What the comparison found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// No head of this election was kept: the new one is kept.
    First,
    /// The same head as before (same size and root).
    Same,
    /// The new head extends the kept one, proved: it is kept instead.
    Extends {
        /// The kept head's size.
        from: u64,
        /// The new head's size.
        to: u64,
    },
    /// The new head is older than the kept one and the kept one extends it, proved (the page
    /// may have been served by a cache): the kept head stays.
    Older {
        /// The new head's size.
        size: u64,
        /// The kept head's size.
        kept: u64,
    },
}

/// The board showed this browser two histories, or a kept head no longer verifies: in words,
/// with the two signed heads as evidence.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{words}")]
pub struct Alarm {
    /// What was seen, loudly and plainly.
    pub words: String,
    /// The head kept from before and the new one, both signed by the board, when the alarm is
    /// about two histories.
    pub evidence: Option<Box<(SignedTreeHead, SignedTreeHead)>>,
}

/// Which consistency proof [`compare`] needs, if any: `(old size, new size)` between the kept
/// head and the new one, smaller first. `None` when no proof is needed (nothing kept, or the
/// same size).
pub fn proof_needed(kept: Option<&SignedTreeHead>, now: &SignedTreeHead) -> Option<(u64, u64)> {
    let kept = kept?.head.size;
    let size = now.head.size;
    match kept.cmp(&size) {
        std::cmp::Ordering::Equal => None,
        std::cmp::Ordering::Less => Some((kept, size)),
        std::cmp::Ordering::Greater => Some((size, kept)),
    }
}

/// Compares the new signed head `now` (its signature already checked under `key`) with the head
/// `kept` from before. `path` is the consistency path of [`proof_needed`]'s sizes when it asked
/// for one. Returns what was found and the head to keep from now on.
///
/// # Errors
/// [`Alarm`] when the two heads are not one history, or the kept head is not signed by `key`
/// for the same election (then it is not evidence of anything and should be dropped).
pub fn compare(
    kept: Option<&SignedTreeHead>,
    now: &SignedTreeHead,
    key: &BoardKey,
    path: Option<Vec<Hash>>,
) -> Result<(Outcome, SignedTreeHead), Alarm> {
    let Some(kept) = kept else {
        return Ok((Outcome::First, now.clone()));
    };
    if kept.verify(key).is_err() || kept.head.election != now.head.election {
        return Err(Alarm {
            words: "The board head this browser kept from before is not signed by this \
                    election's board key; it was forgotten."
                .to_owned(),
            evidence: None,
        });
    }
    let evidence = || Some(Box::new((kept.clone(), now.clone())));
    let (old, new) = (kept.head.size, now.head.size);
    if old == new {
        return if kept.head.root == now.head.root {
            Ok((Outcome::Same, kept.clone()))
        } else {
            Err(Alarm {
                words: format!(
                    "WARNING: the board has shown this browser two different boards of {new} \
                     entries. The board's own signatures on both are below: report them to the \
                     election's observers."
                ),
                evidence: evidence(),
            })
        };
    }
    let (small, large) = if old < new { (kept, now) } else { (now, kept) };
    let proof = ConsistencyProof {
        old_size: small.head.size,
        new_size: large.head.size,
        path: path.unwrap_or_default(),
    };
    if let Err(e) = verify_consistency(
        small.head.size,
        large.head.size,
        &small.head.root,
        &large.head.root,
        &proof,
    ) {
        return Err(Alarm {
            words: format!(
                "WARNING: the board of {} entries the board shows now does not extend the board \
                 of {} entries it showed this browser before ({e}): it has rewritten its \
                 history. The board's own signatures on both are below: report them to the \
                 election's observers.",
                now.head.size, kept.head.size
            ),
            evidence: evidence(),
        });
    }
    if old < new {
        Ok((Outcome::Extends { from: old, to: new }, now.clone()))
    } else {
        Ok((
            Outcome::Older {
                size: new,
                kept: old,
            },
            kept.clone(),
        ))
    }
}

#[cfg(test)]
mod tests;
