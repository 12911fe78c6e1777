//! The credential list (spec/api.md §5): the public list a registrar made offline, uploaded by
//! the officials (`PUT /v1/election/credentials`), single credentials replaced before voting
//! opens (`POST /v1/election/credentials/replacements`), and the list as published
//! (`GET /v1/election/credentials`, `credentials.json` of the record).
//!
//! The service never sees a credential code or a voter id: only public keys.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::Json;
use tabella_crypto::credential::{CredentialKey, CredentialListError};
use tabella_crypto::record::credentials_digest;

use super::board::now_ms;
use super::error::AppError;
use super::http::{admin_call, body, election, json, stored_row, Shared};
use super::AppState;
use crate::api::{
    CredentialList, CredentialReplaced, CredentialReplacement, CredentialsImported, ElectionState,
    PublicCredentialList,
};

/// `GET /v1/election/credentials`.
pub(super) async fn get(State(state): State<Shared>) -> Result<Json<CredentialList>, AppError> {
    Ok(Json(credential_list(&state).await?))
}

/// The credential list (`credentials.json` of the record), every stored key checked, with the
/// replacements made before voting opened.
pub(super) async fn credential_list(state: &AppState) -> Result<CredentialList, AppError> {
    let keys = state.db.credentials().await?;
    let replacements = state
        .db
        .credential_replacements()
        .await?
        .iter()
        .map(|text| serde_json::from_str::<CredentialReplacement>(text))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| {
            AppError::internal(format!("a stored credential replacement is corrupt: {e}"))
        })?;
    // Decoding checks every stored key (a point decompression each): on all cores, off the
    // runtime.
    let list = tokio::task::spawn_blocking(move || {
        use rayon::prelude::*;
        let credentials = keys
            .par_iter()
            .map(|k| CredentialKey::from_bytes(k))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| AppError::internal(format!("a stored credential key is corrupt: {e}")))?;
        Ok::<_, AppError>(CredentialList {
            credentials,
            digest: credentials_digest(&keys),
            replacements,
        })
    })
    .await
    .map_err(AppError::internal)??;
    Ok(list)
}

/// `PUT /v1/election/credentials` (admin, set-up only).
pub(super) async fn upload(
    State(state): State<Shared>,
    headers: HeaderMap,
    request: Result<Bytes, BytesRejection>,
) -> Response {
    admin_call(state, headers, |state| async move {
        upload_inner(&state, request).await
    })
    .await
}

fn invalid(reason: impl std::fmt::Display) -> AppError {
    AppError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_credentials",
        format!("the credential list is refused: {reason}"),
    )
}

/// `409 wrong_state` unless the election is in set-up.
async fn in_setup(state: &AppState, what: &str) -> Result<(), AppError> {
    let current = election(state)?.board.view.read().await.state;
    if current == ElectionState::Setup {
        Ok(())
    } else {
        Err(AppError::wrong_state(format!(
            "{what} only before voting opens (the election is {current})"
        )))
    }
}

async fn upload_inner(
    state: &Shared,
    request: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<CredentialsImported>), AppError> {
    let bytes = body(request, state.limits.credentials_body)?;
    // A million keys are 67 MB of JSON: parsed and checked off the runtime, on every core.
    let list: PublicCredentialList =
        tokio::task::spawn_blocking(move || json(&bytes, "public credential list"))
            .await
            .map_err(AppError::internal)??;
    let id = election(state)?.id;
    // Checked before anything else is compared: "the same list again" means the same keys,
    // not merely a list that claims the same digest.
    let list = tokio::task::spawn_blocking(move || list.validate(&id).map(|_| list))
        .await
        .map_err(AppError::internal)?
        .map_err(invalid)?;
    let _admin = state.admin.lock().await;
    let election = election(state)?;
    in_setup(state, "the credential list can be imported").await?;
    let digest = hex::encode(list.digest);
    let row = stored_row(state).await?;
    if let Some(existing) = &row.credentials_digest {
        let voters = row.voters.and_then(|v| u64::try_from(v).ok()).unwrap_or(0);
        if *existing == digest {
            return Ok((
                StatusCode::OK,
                Json(CredentialsImported {
                    voters,
                    credentials_digest: digest,
                    already_imported: true,
                }),
            ));
        }
        return Err(AppError::new(
            StatusCode::CONFLICT,
            "credentials_exist",
            format!(
                "another credential list (digest {existing}, {voters} keys) is already imported; \
                 a lost or compromised credential is replaced one at a time (`tabella election \
                 replace-credential`), and a wholly different list needs a new election"
            ),
        ));
    }
    let voters = list.credentials.len() as u64;
    // MANIFEST-5: every total these voters can produce must be decryptable at the tally.
    election.manifest.check_capacity(voters).map_err(|e| {
        AppError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "tally_bound_exceeded",
            format!("the credential list is refused: the tally could not count it: {e}"),
        )
    })?;
    if !state
        .db
        .import_credentials(&digest, &list.credentials, now_ms())
        .await?
    {
        return Err(AppError::wrong_state(
            "the credential list could not be stored: the election is no longer in set-up or \
             has a list",
        ));
    }
    tracing::info!(voters, credentials = %digest, "credential list imported");
    Ok((
        StatusCode::CREATED,
        Json(CredentialsImported {
            voters,
            credentials_digest: digest,
            already_imported: false,
        }),
    ))
}

/// `POST /v1/election/credentials/replacements` (admin, set-up only).
pub(super) async fn replace(
    State(state): State<Shared>,
    headers: HeaderMap,
    request: Result<Bytes, BytesRejection>,
) -> Response {
    admin_call(state, headers, |state| async move {
        replace_inner(&state, request).await
    })
    .await
}

async fn replace_inner(
    state: &Shared,
    request: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<CredentialReplaced>), AppError> {
    let bytes = body(request, state.limits.manifest_body)?;
    let replacement: CredentialReplacement = json(&bytes, "credential replacement")?;
    let _admin = state.admin.lock().await;
    let election = election(state)?;
    in_setup(state, "a credential can be replaced").await?;
    let row = stored_row(state).await?;
    let Some(current) = row.credentials_digest.clone() else {
        return Err(AppError::wrong_state(
            "there is no credential list to replace a credential in: import one first \
             (`tabella election import-credentials`)",
        ));
    };
    let done = state.db.credential_replacements().await?;
    let answer = |already_applied: bool, replacements: usize, voters: u64| CredentialReplaced {
        voters,
        previous_digest: hex::encode(replacement.previous_digest),
        credentials_digest: hex::encode(replacement.digest),
        replacements: replacements as u64,
        already_applied,
    };
    let voters = row.voters.and_then(|v| u64::try_from(v).ok()).unwrap_or(0);
    let same = |text: &String| {
        serde_json::from_str::<CredentialReplacement>(text).is_ok_and(|r| r == replacement)
    };
    if done.iter().any(same) {
        return Ok((StatusCode::OK, Json(answer(true, done.len(), voters))));
    }
    let mut keys = state.db.credentials().await?;
    let id = election.id;
    let applied = replacement.apply(&id, &mut keys).map_err(|e| match e {
        CredentialListError::NotCurrent { .. } => AppError::new(
            StatusCode::CONFLICT,
            "not_current",
            format!(
                "the replacement is refused: {e}; was another replacement made since it was \
                 written? Write it again from the current list"
            ),
        ),
        other => AppError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_replacement",
            format!("the replacement is refused: {other}"),
        ),
    });
    applied?;
    let text = serde_json::to_string(&replacement).map_err(AppError::internal)?;
    if !state
        .db
        .replace_credential(
            &current,
            &hex::encode(replacement.digest),
            &keys,
            &text,
            now_ms(),
        )
        .await?
    {
        return Err(AppError::wrong_state(
            "the replacement could not be stored: the election left set-up or its list changed",
        ));
    }
    tracing::info!(
        previous = %current,
        credentials = %hex::encode(replacement.digest),
        "credential replaced"
    );
    Ok((
        StatusCode::CREATED,
        Json(answer(false, done.len() + 1, keys.len() as u64)),
    ))
}
