//! `GET /v1/admin/status` (spec/api.md §13): everything the officials' dashboard shows, in one
//! document ([`AdminStatus`]).

use std::collections::BTreeMap;
use std::sync::Arc;

use tabella_crypto::ceremony::CeremonyParams;

use super::error::AppError;
use super::routes;
use super::store::is_service_document;
use super::AppState;
use crate::api::{AdminStatus, BoothStatus, CeremonyProgress, TurnoutPoint};
use crate::ceremony::CEREMONY;

/// The officials' status of the service and its election.
///
/// # Errors
/// A storage failure.
pub(super) async fn admin_status(state: &Arc<AppState>) -> Result<AdminStatus, AppError> {
    let election = state.election();
    let info = match &election {
        Some(election) => Some(routes::info(state, election).await?),
        None => None,
    };
    let turnout = turnout(
        &state.db.entries_per_minute().await?,
        &state.db.first_casts_per_minute().await?,
    );
    let names: Vec<String> = state
        .db
        .document_names()
        .await?
        .into_iter()
        .filter(|name| !is_service_document(name))
        .collect();
    let params = match state.db.document(CEREMONY).await? {
        Some(bytes) => serde_json::from_slice::<CeremonyParams>(&bytes).ok(),
        None => None,
    };
    let joint_key = info.as_ref().is_some_and(|i| i.joint_key.is_some());
    let ceremony = ceremony_progress(params.as_ref(), names, joint_key);
    let anchoring = routes::anchoring(state).await?;
    let booth = state.booth.as_ref().map(|booth| BoothStatus {
        digest: booth.digest(),
        published: election
            .as_ref()
            .map(|e| e.manifest.booth == Some(booth.digest())),
    });
    Ok(AdminStatus {
        election: info,
        turnout,
        ceremony,
        anchoring,
        booth,
    })
}

/// The turnout series: for each minute in which the board grew (`per_minute`: the cast and
/// spoiled entries received in it), the running totals at its end, with the voters
/// (`first_casts`: the credentials whose first cast ballot came in that minute).
pub(super) fn turnout(
    per_minute: &[(u64, u64, u64)],
    first_casts: &[(u64, u64)],
) -> Vec<TurnoutPoint> {
    let mut voters_in: BTreeMap<u64, u64> = BTreeMap::new();
    for (minute, count) in first_casts {
        *voters_in.entry(*minute).or_default() += count;
    }
    let mut minutes: BTreeMap<u64, (u64, u64)> = BTreeMap::new();
    for (minute, cast, spoiled) in per_minute {
        let slot = minutes.entry(*minute).or_default();
        slot.0 += cast;
        slot.1 += spoiled;
    }
    // A first cast is a cast entry, so its minute is one of the board's; keep any other anyway.
    for minute in voters_in.keys() {
        minutes.entry(*minute).or_default();
    }
    let (mut cast, mut spoiled, mut voters) = (0u64, 0u64, 0u64);
    minutes
        .into_iter()
        .map(|(minute, (c, s))| {
            cast += c;
            spoiled += s;
            voters += voters_in.get(&minute).copied().unwrap_or(0);
            TurnoutPoint {
                minute,
                cast,
                spoiled,
                voters,
            }
        })
        .collect()
}

/// How far the ceremonies have come, from the names of the published messages (sorted).
pub(super) fn ceremony_progress(
    params: Option<&CeremonyParams>,
    messages: Vec<String>,
    joint_key: bool,
) -> CeremonyProgress {
    let count = |prefix: &str| {
        messages
            .iter()
            .filter(|name| {
                name.strip_prefix(prefix)
                    .and_then(|rest| rest.strip_suffix(".json"))
                    .is_some_and(|n| {
                        !n.is_empty()
                            && !n.starts_with('0')
                            && n.bytes().all(|b| b.is_ascii_digit())
                    })
            })
            .count() as u32
    };
    CeremonyProgress {
        trustees: params.and_then(|p| u32::try_from(p.trustee_count()).ok()),
        threshold: params.map(|p| p.threshold),
        dealers: count("dealer-"),
        checks: count("check-"),
        joint_key,
        partials: count("partial-"),
        messages,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn turnout_is_a_running_total_per_minute() {
        let per_minute = [(0, 2, 0), (60_000, 1, 1), (180_000, 3, 0)];
        let first_casts = [(0, 2), (180_000, 1)];
        let points = turnout(&per_minute, &first_casts);
        let tuple = |p: &TurnoutPoint| (p.minute, p.cast, p.spoiled, p.voters);
        assert_eq!(
            points.iter().map(tuple).collect::<Vec<_>>(),
            vec![(0, 2, 0, 2), (60_000, 3, 1, 2), (180_000, 6, 1, 3)]
        );
        assert!(turnout(&[], &[]).is_empty());
    }

    #[test]
    fn ceremony_progress_counts_each_kind_of_message() {
        let names = [
            "ceremony.json",
            "check-1.json",
            "dealer-1.json",
            "dealer-2.json",
            "dealer-02.json",
            "partial-2.json",
            "tally-request.json",
        ]
        .map(String::from)
        .to_vec();
        let progress = ceremony_progress(None, names.clone(), false);
        assert_eq!(
            (progress.dealers, progress.checks, progress.partials),
            (2, 1, 1)
        );
        assert_eq!(progress.trustees, None);
        assert_eq!(progress.messages, names);
    }
}
