//! The HTTP routes of the election service (spec/api.md) and their handlers.

use std::sync::Arc;
use std::time::Instant;

use axum::body::{Body, Bytes};
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, MatchedPath, Path, Query, Request, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, ETAG};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine as _;
use secrecy::ExposeSecret as _;
use serde::Deserialize;
use sha2::Digest as _;
use tabella_crypto::ballot::{Ballot, BallotError, SpoiledBallot, TrackingCode};
use tabella_crypto::board::receipt::{EntryKind, Receipt, SignedTreeHead};
use tabella_crypto::credential::CredentialKey;
use tabella_crypto::record::{ANCHORS, BALLOTS, INDEX};

use super::aggregate;
use super::anchor;
use super::board::{not_open, now_ms, stored_receipt, BoardView, Submission};
use super::booth::{self, Booth};
use super::credentials;
use super::db::{ElectionRow, EntryRow};
use super::error::AppError;
use super::http::{
    admin_call, body, election, json, require_admin, stored_row, with_bearer_challenge, Shared,
};
use super::status;
use super::store::{self, DbStore, PARAMETERS, RESULTS};
use super::{AppState, Election, OpenElection};
use crate::api::{
    AnchoringStatus, BoardEntry, BoardPage, CastBallot, ConsistencyAnswer, CreateElection,
    ElectionInfo, ElectionState, EntryStatus, InclusionAnswer, RecordEntry, Results, SpoilBallot,
    TrackAnswer,
};
use crate::ceremony::CEREMONY;
use crate::messages::server::{routes as ceremony_routes, ServerConfig};

/// The OpenAPI document of this API.
pub const OPENAPI: &str = include_str!("../../../spec/openapi.json");

/// Largest page of `GET /v1/board/entries`.
pub const MAX_PAGE: u32 = 1000;

/// The service's router.
pub fn app(state: Arc<AppState>) -> Router {
    let ceremony = ceremony_routes(
        Arc::new(DbStore::new(state.db.clone(), state.runtime.clone())),
        ServerConfig {
            admin_token: state
                .admin_token
                .as_ref()
                .map(|t| t.expose_secret().to_string()),
            admin_names: vec![CEREMONY.to_owned()],
            max_body: state.limits.ceremony_body,
            validator: store::validator(Arc::clone(&state.election)),
        },
    );
    let limits = state.limits;
    let served = state.booth.clone();
    Router::new()
        // The web ballot (spec/api.md §14): every page of the app is its index.html.
        .route("/", get(booth_page))
        .route("/booth", get(booth_page))
        .route("/tracker", get(booth_page))
        .route("/results", get(booth_page))
        .route("/glossary", get(booth_page))
        .route("/observer", get(booth_page))
        .route("/officials", get(booth_page))
        .route("/bench", get(booth_page))
        .route("/index.html", get(booth_page))
        .route("/booth.json", get(booth_list))
        .route("/app/{*path}", get(booth_app_file))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .route("/v1/openapi.json", get(openapi))
        .route(
            "/v1/election",
            get(election_info)
                .post(create_election)
                .layer(DefaultBodyLimit::max(limits.manifest_body)),
        )
        .route(
            "/v1/election/credentials",
            get(credentials::get)
                .put(credentials::upload)
                .layer(DefaultBodyLimit::max(limits.credentials_body)),
        )
        .route(
            "/v1/election/credentials/replacements",
            post(credentials::replace).layer(DefaultBodyLimit::max(limits.manifest_body)),
        )
        .route("/v1/election/parameters", get(parameters))
        .route("/v1/election/open", post(open_election))
        .route("/v1/election/close", post(close_election))
        .route("/v1/election/tally", post(tally_election))
        .route("/v1/election/results", get(results))
        .route(
            "/v1/election/ballots",
            post(cast).layer(DefaultBodyLimit::max(limits.ballot_body)),
        )
        .route(
            "/v1/election/spoiled",
            post(spoil).layer(DefaultBodyLimit::max(limits.ballot_body)),
        )
        .route("/v1/election/receipts/{tracking_code}", get(receipt))
        .route("/v1/board/head", get(head))
        .route("/v1/board/entries", get(entries))
        .route("/v1/board/inclusion/{tracking_code}", get(inclusion))
        .route("/v1/board/track/{tracking_code}", get(track))
        .route("/v1/board/last-ballot/{credential}", get(last_ballot))
        .route("/v1/board/consistency", get(consistency))
        .route("/v1/record/ballots.jsonl", get(record_ballots))
        .route("/v1/record/anchors.json", get(record_anchors))
        .route("/v1/record/{*path}", get(record_document))
        .route("/v1/anchoring", get(anchoring_status))
        .route("/v1/admin/status", get(admin_status))
        .with_state(Arc::clone(&state))
        .merge(ceremony)
        .fallback(move |method: Method, uri: Uri, headers: HeaderMap| {
            booth_fallback(served.clone(), method, uri, headers)
        })
        .method_not_allowed_fallback(wrong_method)
        .layer(middleware::from_fn_with_state(state, observe))
}

/// Logs every request and records its latency.
async fn observe(State(state): State<Shared>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().to_string();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_string(), |p| p.as_str().to_string());
    let response = next.run(request).await;
    let status = response.status().as_u16();
    let seconds = started.elapsed().as_secs_f64();
    state.metrics.request(&method, &route, status, seconds);
    if response.status().is_server_error() {
        tracing::warn!(%method, %route, status, ms = seconds * 1e3, "request failed");
    } else {
        tracing::debug!(%method, %route, status, ms = seconds * 1e3, "request");
    }
    response
}

async fn no_route() -> AppError {
    AppError::new(
        StatusCode::NOT_FOUND,
        "no_route",
        "there is no such endpoint; the API is described at /v1/openapi.json",
    )
}

async fn wrong_method() -> AppError {
    AppError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "this endpoint does not take this method; the API is described at /v1/openapi.json",
    )
}

async fn healthz() -> &'static str {
    "ok"
}

async fn readyz(State(state): State<Shared>) -> Result<&'static str, AppError> {
    state
        .ready()
        .await
        .map(|()| "ready")
        .map_err(|why| AppError::new(StatusCode::SERVICE_UNAVAILABLE, "not_ready", why))
}

async fn metrics(State(state): State<Shared>) -> Response {
    if let Some(anchoring) = &state.anchoring {
        if let Err(error) = anchoring.lag_seconds().await {
            tracing::warn!(%error, "could not read the anchoring queue for its lag");
        }
    }
    (
        [(
            CONTENT_TYPE,
            HeaderValue::from_static("application/openmetrics-text; version=1.0.0; charset=utf-8"),
        )],
        state.metrics.encode(),
    )
        .into_response()
}

async fn openapi() -> Response {
    (
        [(CONTENT_TYPE, HeaderValue::from_static("application/json"))],
        OPENAPI,
    )
        .into_response()
}

// ---------------------------------------------------------------------------------------------
// Helpers

pub(super) async fn info(state: &AppState, election: &Election) -> Result<ElectionInfo, AppError> {
    let row = stored_row(state).await?;
    let (state_now, board) = {
        let view = election.board.view.read().await;
        (view.state, view.counts())
    };
    let ceremony_id = match state.db.document(CEREMONY).await? {
        Some(bytes) => serde_json::from_slice::<tabella_crypto::ceremony::CeremonyParams>(&bytes)
            .ok()
            .map(|p| p.id().to_string()),
        None => None,
    };
    Ok(ElectionInfo {
        election_id: election.id,
        state: state_now,
        manifest: election.manifest.clone(),
        manifest_hash: row.manifest_hash,
        board_key: state.key.public(),
        joint_key: election.open.get().map(|o| *o.ctx.joint_key()),
        ceremony_id,
        voters: row.voters.and_then(|v| u64::try_from(v).ok()),
        credentials_digest: row.credentials_digest,
        board,
        aggregation: aggregate::progress(election),
    })
}

fn tracking_code(text: &str) -> Result<TrackingCode, AppError> {
    // Lowercase only (API-JSON-2).
    tabella_crypto::group::text::from_hex::<32>("tracking code", text)
        .map(TrackingCode)
        .map_err(|_| {
            AppError::bad_request(format!(
                "{text:?} is not a tracking code (64 lowercase hexadecimal digits)"
            ))
        })
}

// ---------------------------------------------------------------------------------------------
// Election set-up and life cycle

async fn election_info(State(state): State<Shared>) -> Result<Json<ElectionInfo>, AppError> {
    let election = election(&state)?;
    Ok(Json(info(&state, &election).await?))
}

async fn create_election(
    State(state): State<Shared>,
    headers: HeaderMap,
    request: Result<Bytes, BytesRejection>,
) -> Response {
    match create_election_inner(&state, &headers, request).await {
        Ok(answer) => answer.into_response(),
        Err(error) => with_bearer_challenge(error),
    }
}

async fn create_election_inner(
    state: &Shared,
    headers: &HeaderMap,
    request: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<ElectionInfo>), AppError> {
    require_admin(state, headers)?;
    let bytes = body(request, state.limits.manifest_body)?;
    let CreateElection { mut manifest } = json(&bytes, "election (a JSON object with a manifest)")?;
    // The served booth is bound to the election: its digest is published in the manifest, so
    // in its hash, every ballot and the chain's registration (spec/booth.md §4).
    if let Some(booth) = &state.booth {
        match manifest.booth {
            None => manifest.booth = Some(booth.digest()),
            Some(published) if published != booth.digest() => {
                return Err(AppError::new(
                    StatusCode::CONFLICT,
                    "booth_mismatch",
                    format!(
                        "the manifest publishes booth digest {published}, but this service \
                         serves the booth with digest {}: leave \"booth\" out of the manifest \
                         (the service fills in the booth it serves), or serve that booth",
                        booth.digest()
                    ),
                ));
            }
            Some(_) => {}
        }
    }
    manifest.validate().map_err(|e| {
        AppError::new(
            StatusCode::BAD_REQUEST,
            "malformed_request",
            format!("the manifest is refused: {e}"),
        )
    })?;
    let _admin = state.admin.lock().await;
    if let Some(existing) = state.election() {
        if existing.manifest.hash() == manifest.hash() {
            return Ok((StatusCode::OK, Json(info(state, &existing).await?)));
        }
        return Err(AppError::new(
            StatusCode::CONFLICT,
            "election_exists",
            format!(
                "this service already runs election {} with another manifest; one service runs \
                 one election",
                existing.id
            ),
        ));
    }
    let mut id = [0u8; 32];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut id);
    let now = now_ms();
    let manifest_json = serde_json::to_string(&manifest).map_err(AppError::internal)?;
    let row = ElectionRow {
        election_id: hex::encode(id),
        manifest: manifest_json,
        manifest_hash: hex::encode(manifest.hash().0),
        board_key: hex::encode(state.key.public().to_bytes()),
        state: ElectionState::Setup.as_str().to_string(),
        joint_key: None,
        roll_digest: None,
        voters: None,
        credentials_digest: None,
        created_at: i64::try_from(now).unwrap_or(i64::MAX),
        updated_at: i64::try_from(now).unwrap_or(i64::MAX),
    };
    state.db.insert_election(&row).await?;
    let stored = stored_row(state).await?;
    let election = state
        .load_election(&stored)
        .await
        .map_err(|e| AppError::internal(format!("{e:#}")))?;
    state.set_election(Arc::clone(&election));
    tracing::info!(election = %election.id, title = %manifest.title, "election created");
    Ok((StatusCode::CREATED, Json(info(state, &election).await?)))
}

/// The signed election parameters (`election.json` of the record), byte for byte as stored
/// when voting opened.
async fn parameters(State(state): State<Shared>) -> Result<Response, AppError> {
    let election = election(&state)?;
    match state.db.document(PARAMETERS).await? {
        Some(bytes) => Ok((
            [(CONTENT_TYPE, HeaderValue::from_static("application/json"))],
            bytes,
        )
            .into_response()),
        None => {
            let current = election.board.view.read().await.state;
            Err(AppError::wrong_state(format!(
                "the election parameters are fixed and signed by the board when voting opens; \
                 the election is still in {current}"
            )))
        }
    }
}

async fn open_election(State(state): State<Shared>, headers: HeaderMap) -> Response {
    admin_call(state, headers, |state| async move {
        let _admin = state.admin.lock().await;
        let election = election(&state)?;
        let current = election.board.view.read().await.state;
        match current {
            ElectionState::Open => return Ok(Json(info(&state, &election).await?)),
            ElectionState::Closed | ElectionState::Tallied => {
                return Err(AppError::wrong_state(format!(
                    "voting cannot reopen: the election is {current}"
                )))
            }
            ElectionState::Setup => {}
        }
        let not_ready =
            |message: String| AppError::new(StatusCode::CONFLICT, "not_ready_to_open", message);
        let row = stored_row(&state).await?;
        if row.credentials_digest.is_none() {
            return Err(not_ready(
                "import the credential list first (`tabella election import-credentials`)"
                    .to_string(),
            ));
        }
        // MANIFEST-5, again: the list was checked when it was imported; a database from before
        // that check is checked here.
        let voters = row.voters.and_then(|v| u64::try_from(v).ok()).unwrap_or(0);
        election
            .manifest
            .check_capacity(voters)
            .map_err(|e| not_ready(format!("the tally could not count this electorate: {e}")))?;
        let store = DbStore::new(state.db.clone(), state.runtime.clone());
        let ceremony =
            tokio::task::spawn_blocking(move || crate::ceremony::KeyCeremony::load(&store, 0))
                .await
                .map_err(AppError::internal)?
                .map_err(|e| not_ready(format!("{e:#}")))?;
        let joint = ceremony.outcome.joint_key;
        let open = state
            .open_parameters(election.id, election.manifest.clone(), joint)
            .await
            .map_err(|e| AppError::internal(format!("{e:#}")))?;
        // Fixed and stored before the state changes: an open election always has them.
        let parameters = state
            .fix_parameters(&election, &ceremony.params, joint)
            .await
            .map_err(|e| AppError::internal(format!("{e:#}")))?;
        let _ = election.open.set(Arc::new(open));
        {
            let mut view = election.board.view.write().await;
            if !state
                .db
                .set_state(
                    "setup",
                    "open",
                    Some(&hex::encode(joint.to_bytes())),
                    now_ms(),
                )
                .await?
            {
                return Err(AppError::internal("the stored state changed during open"));
            }
            view.state = ElectionState::Open;
        }
        tracing::info!(
            election = %election.id,
            joint_key = %hex::encode(joint.to_bytes()),
            credentials = parameters.parameters.credentials,
            "voting open: election parameters signed and stored"
        );
        Ok(Json(info(&state, &election).await?))
    })
    .await
}

async fn close_election(State(state): State<Shared>, headers: HeaderMap) -> Response {
    admin_call(state, headers, |state| async move {
        let _admin = state.admin.lock().await;
        let election = election(&state)?;
        {
            let view = election.board.view.read().await;
            match view.state {
                ElectionState::Setup => {
                    return Err(AppError::wrong_state(
                        "voting has not opened, so it cannot close",
                    ))
                }
                ElectionState::Tallied => {
                    return Err(AppError::wrong_state(
                        "the election is tallied: there is nothing left to close",
                    ))
                }
                ElectionState::Closed => {
                    drop(view);
                    return Ok(Json(info(&state, &election).await?));
                }
                ElectionState::Open => {}
            }
        }
        let mut fallback = None;
        if let Some(anchoring) = &state.anchoring {
            // Not before the chain's closesAt; then the ballots cast through the contract go
            // on the board (the state is still open: they take the cast path).
            anchoring.check_close(election.id).await?;
            fallback = Some(anchor::take_fallback_ballots(&state, anchoring, &election).await?);
        }
        {
            let mut view = election.board.view.write().await;
            if view.state != ElectionState::Open {
                return Err(AppError::internal("the state changed during close"));
            }
            if !state.db.set_state("open", "closed", None, now_ms()).await? {
                return Err(AppError::internal("the stored state changed during close"));
            }
            view.state = ElectionState::Closed;
            tracing::info!(election = %election.id, board = view.tree.len(), counted = view.counted.len(), "voting closed");
        }
        if let Some((taken, refused)) = fallback {
            tracing::info!(taken, refused, "ballots cast through the contract taken at the close");
        }
        aggregate::resume(&state, &election)
            .await
            .map_err(|e| AppError::internal(format!("{e:#}")))?;
        // The final tree head, fixed now (or at the next `GET /v1/board/head` or anchoring
        // turn, should this write fail); the anchoring worker checkpoints it.
        if let Err(error) = state.final_head(&election).await {
            tracing::warn!(error = format!("{error:#}"), "could not fix the final tree head yet");
        }
        if let Some(anchoring) = &state.anchoring {
            anchoring.wake();
        }
        Ok(Json(info(&state, &election).await?))
    })
    .await
}

async fn tally_election(State(state): State<Shared>, headers: HeaderMap) -> Response {
    admin_call(state, headers, |state| async move {
        let _admin = state.admin.lock().await;
        let election = election(&state)?;
        let current = election.board.view.read().await.state;
        match current {
            ElectionState::Tallied => {
                return aggregate::stored_results(&state)
                    .await
                    .map_err(|e| AppError::internal(format!("{e:#}")))?
                    .map(Json)
                    .ok_or_else(|| AppError::internal("the results are missing"))
            }
            ElectionState::Setup | ElectionState::Open => {
                return Err(AppError::wrong_state(format!(
                    "the tally comes after the close (the election is {current})"
                )))
            }
            ElectionState::Closed => {}
        }
        let incomplete = |message: String| {
            AppError::new(StatusCode::CONFLICT, "tally_incomplete", message)
        };
        match aggregate::progress(&election) {
            Some(p) if p.complete => {}
            Some(p) => {
                return Err(incomplete(format!(
                    "the counted ballots are still being verified and added ({} of {})",
                    p.done, p.total
                )))
            }
            None => return Err(incomplete("the aggregation has not started".to_string())),
        }
        let results = aggregate::tally(&state, &election)
            .await
            .map_err(|e| incomplete(format!("{e:#}")))?;
        let bytes = serde_json::to_vec_pretty(&results).map_err(AppError::internal)?;
        state.db.put_document(RESULTS, &bytes).await?;
        {
            let mut view = election.board.view.write().await;
            state.db.set_state("closed", "tallied", None, now_ms()).await?;
            view.state = ElectionState::Tallied;
        }
        tracing::info!(election = %election.id, ballots = results.ballots_counted, "tally published");
        if let Some(anchoring) = &state.anchoring {
            // The worker computes the record digest and publishes the result on chain.
            anchoring.wake();
        }
        Ok(Json(results))
    })
    .await
}

async fn results(State(state): State<Shared>) -> Result<Json<Results>, AppError> {
    election(&state)?;
    aggregate::stored_results(&state)
        .await
        .map_err(|e| AppError::internal(format!("{e:#}")))?
        .map(Json)
        .ok_or_else(|| {
            AppError::new(
                StatusCode::CONFLICT,
                "not_tallied",
                "the results are published once the trustees have decrypted the tally",
            )
        })
}

// ---------------------------------------------------------------------------------------------
// Voting

fn ballot_refusal(error: &BallotError) -> AppError {
    let (status, code) = match error {
        BallotError::Encoding(_) | BallotError::UnsupportedVersion(_) => {
            (StatusCode::BAD_REQUEST, "malformed_ballot")
        }
        BallotError::WrongElection { .. } => (StatusCode::BAD_REQUEST, "wrong_election"),
        BallotError::Credential(_) | BallotError::SignatureInvalid => {
            (StatusCode::UNPROCESSABLE_ENTITY, "invalid_signature")
        }
        BallotError::SpoiledOpeningMismatch { .. }
        | BallotError::SpoiledShapeMismatch { .. }
        | BallotError::InvalidChoices(_) => (StatusCode::UNPROCESSABLE_ENTITY, "invalid_opening"),
        _ => (StatusCode::UNPROCESSABLE_ENTITY, "invalid_proof"),
    };
    AppError::new(status, code, format!("the ballot is refused: {error}"))
}

/// Everything before the board: state, decoding, eligibility, re-submission, verification.
async fn check_ballot(
    state: &AppState,
    ballot_b64: &str,
    opening: Option<&SpoiledBallot>,
    kind: EntryKind,
) -> Result<Result<Submission, Receipt>, AppError> {
    let election = state.election().ok_or_else(AppError::no_election)?;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(ballot_b64)
        .map_err(|e| {
            AppError::new(
                StatusCode::BAD_REQUEST,
                "malformed_request",
                format!("the ballot is not valid base64: {e}"),
            )
        })?;
    let current = election.board.view.read().await.state;
    let open: Arc<OpenElection> = match (current, election.open.get()) {
        (ElectionState::Open, Some(open)) => Arc::clone(open),
        _ => return Err(not_open(current)),
    };
    // Any decoding failure but another election id is a malformed ballot (API-CAST-4), even
    // when it is in the credential key or a contest (crypto.md §10.1).
    let ballot = Ballot::from_bytes(&bytes, &open.ctx).map_err(|e| match e {
        BallotError::WrongElection { .. } => ballot_refusal(&e),
        _ => AppError::new(
            StatusCode::BAD_REQUEST,
            "malformed_ballot",
            format!("the ballot does not decode for this election: {e}"),
        ),
    })?;
    let credential = ballot.credential().to_bytes();
    if !open.eligible.contains(&credential) {
        return Err(AppError::new(
            StatusCode::FORBIDDEN,
            "credential_not_eligible",
            "this ballot's credential is not on the list of eligible voters: check the code on \
             your credential letter",
        ));
    }
    let code = ballot.tracking_code();
    let existing = election
        .board
        .view
        .read()
        .await
        .entries
        .get(&code.0)
        .copied();
    if let Some((_, existing_kind)) = existing {
        if existing_kind == kind {
            return Ok(Err(stored_receipt(&state.db, &code).await?));
        }
    }
    let opening_json = opening
        .map(serde_json::to_string)
        .transpose()
        .map_err(AppError::internal)?;
    let opening = opening.cloned();
    let permit = Arc::clone(&state.verify_slots)
        .acquire_owned()
        .await
        .map_err(AppError::internal)?;
    let (verified, seconds) = tokio::task::spawn_blocking(move || {
        let started = Instant::now();
        let mut rng = rand::rngs::OsRng;
        let result = open
            .ctx
            .verify_ballot(&ballot, &mut rng)
            .and_then(|()| match &opening {
                Some(o) => open.ctx.verify_spoiled(&ballot, o, &mut rng),
                None => Ok(()),
            });
        drop(permit);
        (result, started.elapsed().as_secs_f64())
    })
    .await
    .map_err(AppError::internal)?;
    state.metrics.verified(seconds);
    verified.map_err(|e| ballot_refusal(&e))?;
    Ok(Ok(Submission {
        tracking_code: code,
        kind,
        credential,
        ballot: bytes,
        opening: opening_json,
    }))
}

/// The ballot pipeline of spec/api.md §3: checks, then the board. Also the path of the ballots
/// cast through the contract, taken at the close ([`super::anchor`]).
pub(super) async fn submit(
    state: &AppState,
    ballot_b64: &str,
    opening: Option<&SpoiledBallot>,
    kind: EntryKind,
) -> Result<(StatusCode, Json<Receipt>), AppError> {
    match check_ballot(state, ballot_b64, opening, kind).await? {
        Err(stored) => Ok((StatusCode::OK, Json(stored))),
        Ok(submission) => {
            let election = election(state)?;
            let (receipt, created) = election.board.submit(submission).await?;
            let status = if created {
                StatusCode::CREATED
            } else {
                StatusCode::OK
            };
            Ok((status, Json(receipt)))
        }
    }
}

async fn cast(State(state): State<Shared>, request: Result<Bytes, BytesRejection>) -> Response {
    let answer = async {
        let bytes = body(request, state.limits.ballot_body)?;
        let CastBallot { ballot } = json(&bytes, "ballot (a JSON object with a base64 ballot)")?;
        submit(&state, &ballot, None, EntryKind::Cast).await
    }
    .await;
    match answer {
        Ok(ok) => ok.into_response(),
        Err(error) => {
            state.metrics.rejected(error.code);
            tracing::info!(code = error.code, "ballot refused");
            error.into_response()
        }
    }
}

async fn spoil(State(state): State<Shared>, request: Result<Bytes, BytesRejection>) -> Response {
    let answer = async {
        let bytes = body(request, state.limits.ballot_body)?;
        let SpoilBallot { ballot, opening } = json(
            &bytes,
            "spoiled ballot (a JSON object with a base64 ballot and its opening)",
        )?;
        // The opening's scalars are 64 lowercase hex digits (API-CAST-2).
        let hex64 = |s: &String| {
            s.len() == 64
                && s.bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        };
        if !opening
            .nonces
            .iter()
            .chain(&opening.blindings)
            .flatten()
            .all(hex64)
        {
            return Err(AppError::new(
                StatusCode::BAD_REQUEST,
                "malformed_request",
                "the opening's nonces and blindings must be 64 lowercase hexadecimal digits",
            ));
        }
        submit(&state, &ballot, Some(&opening), EntryKind::Spoiled).await
    }
    .await;
    match answer {
        Ok(ok) => ok.into_response(),
        Err(error) => {
            state.metrics.rejected(error.code);
            tracing::info!(code = error.code, "spoiled ballot refused");
            error.into_response()
        }
    }
}

async fn receipt(
    State(state): State<Shared>,
    Path(code): Path<String>,
) -> Result<Json<Receipt>, AppError> {
    election(&state)?;
    let code = tracking_code(&code)?;
    Ok(Json(stored_receipt(&state.db, &code).await?))
}

// ---------------------------------------------------------------------------------------------
// The board

/// The board's head: signed when asked while voting is open; the final head, fixed at the
/// close, from then on (API-BOARD-1).
async fn head(State(state): State<Shared>) -> Result<Json<SignedTreeHead>, AppError> {
    let election = election(&state)?;
    {
        let view = election.board.view.read().await;
        if matches!(view.state, ElectionState::Setup | ElectionState::Open) {
            return Ok(Json(state.sign_head(&election, &view)));
        }
    }
    state
        .final_head(&election)
        .await
        .map(Json)
        .map_err(|e| AppError::internal(format!("{e:#}")))
}

#[derive(Deserialize)]
struct PageQuery {
    start: Option<u64>,
    limit: Option<u32>,
}

/// A stored entry's kind, its status (as of now) and the opening of a spoiled ballot.
type EntryParts = (EntryKind, EntryStatus, Option<SpoiledBallot>);

/// The [`EntryParts`] of a stored entry.
fn kind_status_opening(row: &EntryRow, view: &BoardView) -> Result<EntryParts, AppError> {
    let kind = EntryKind::parse(&row.kind).ok_or_else(|| {
        AppError::internal(format!("entry {} has kind {:?}", row.index, row.kind))
    })?;
    let status = match kind {
        EntryKind::Spoiled => EntryStatus::Spoiled,
        EntryKind::Cast if view.counted.get(&row.credential) == Some(&row.index) => {
            EntryStatus::Counted
        }
        EntryKind::Cast => EntryStatus::Superseded,
    };
    let opening = row
        .opening
        .as_deref()
        .map(serde_json::from_str)
        .transpose()
        .map_err(|e| AppError::internal(format!("entry {}: stored opening: {e}", row.index)))?;
    Ok((kind, status, opening))
}

fn entry(row: EntryRow, view: &BoardView) -> Result<BoardEntry, AppError> {
    let (kind, status, opening) = kind_status_opening(&row, view)?;
    Ok(BoardEntry {
        index: row.index,
        tracking_code: TrackingCode(row.tracking_code),
        kind,
        status,
        credential: hex::encode(row.credential),
        ballot: base64::engine::general_purpose::STANDARD.encode(&row.ballot),
        opening,
        received_at: row.received_at,
    })
}

/// A stored entry and its receipt as a line of the record's `ballots.jsonl`.
fn record_entry(row: EntryRow, receipt: &str, view: &BoardView) -> Result<RecordEntry, AppError> {
    let (kind, status, opening) = kind_status_opening(&row, view)?;
    let receipt: Receipt = serde_json::from_str(receipt)
        .map_err(|e| AppError::internal(format!("entry {}: stored receipt: {e}", row.index)))?;
    let credential = CredentialKey::from_bytes(&row.credential).map_err(|e| {
        AppError::internal(format!("entry {}: stored credential key: {e}", row.index))
    })?;
    Ok(RecordEntry {
        index: row.index,
        tracking_code: TrackingCode(row.tracking_code),
        kind,
        status,
        credential,
        ballot: base64::engine::general_purpose::STANDARD.encode(&row.ballot),
        opening,
        receipt,
    })
}

async fn entries(
    State(state): State<Shared>,
    query: Result<Query<PageQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<BoardPage>, AppError> {
    let Query(query) = query.map_err(|e| {
        AppError::bad_request(format!("give ?start=INDEX&limit=COUNT as numbers: {e}"))
    })?;
    let election = election(&state)?;
    let start = query.start.unwrap_or(0);
    let limit = query.limit.unwrap_or(100).clamp(1, MAX_PAGE);
    // Read first, lock after: the lock is never held across database I/O. Every stored row is
    // already in the view (the writer updates it before releasing the lock it commits under).
    let rows = state.db.entries(start, limit).await?;
    let view = election.board.view.read().await;
    let size = view.tree.len();
    let entries = rows
        .into_iter()
        .filter(|r| r.index < size)
        .map(|r| entry(r, &view))
        .collect::<Result<Vec<_>, _>>()?;
    let next = entries
        .last()
        .map(|e| e.index + 1)
        .filter(|&n| n < size && entries.len() == limit as usize);
    Ok(Json(BoardPage {
        entries,
        next,
        size,
    }))
}

/// API-TRACK-1: a ballot's entry, and the entry that replaced it when a later cast ballot of
/// the same credential did.
async fn track(
    State(state): State<Shared>,
    Path(code): Path<String>,
) -> Result<Json<TrackAnswer>, AppError> {
    let election = election(&state)?;
    let code = tracking_code(&code)?;
    let not_found = || {
        AppError::not_found(format!(
            "no ballot with tracking code {code} is on the board"
        ))
    };
    let index = {
        let view = election.board.view.read().await;
        view.entries.get(&code.0).ok_or_else(not_found)?.0
    };
    // Read first, lock after (as `entries` does): every stored row is already in the view.
    let row = one_entry(&state.db, index).await?;
    // A ballot cast between the reads can replace this one again: read until the last ballot
    // read is still its credential's last under the lock (a few tries at most, in practice one).
    let mut later = None;
    for _ in 0..8 {
        let latest = {
            let view = election.board.view.read().await;
            view.counted.get(&row.credential).copied()
        };
        if let Some(latest) = latest.filter(|&latest| latest > index) {
            if later.as_ref().is_none_or(|r: &EntryRow| r.index != latest) {
                later = Some(one_entry(&state.db, latest).await?);
            }
        }
        let view = election.board.view.read().await;
        let entry = entry(row.clone(), &view)?;
        let replaced_by = match (entry.status, &later) {
            (EntryStatus::Superseded, Some(later))
                if view.counted.get(&row.credential) == Some(&later.index) =>
            {
                Some(self::entry(later.clone(), &view)?)
            }
            (EntryStatus::Superseded, _) => continue,
            _ => None,
        };
        return Ok(Json(TrackAnswer {
            state: view.state,
            size: view.tree.len(),
            entry,
            replaced_by,
        }));
    }
    Err(AppError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "busy",
        "this ballot's credential is being used again right now; ask again in a moment",
    ))
}

/// API-TRACK-2: the last cast ballot of a credential key (the one that counts), so that the
/// booth can tell a voter, before they cast, that their new ballot replaces an earlier one.
/// The board publishes every entry's credential key anyway: this says nothing new.
async fn last_ballot(
    State(state): State<Shared>,
    Path(credential): Path<String>,
) -> Result<Json<BoardEntry>, AppError> {
    let election = election(&state)?;
    let key = tabella_crypto::group::text::from_hex::<32>("credential key", &credential).map_err(
        |_| {
            AppError::bad_request(format!(
                "{credential:?} is not a credential key (64 lowercase hexadecimal digits)"
            ))
        },
    )?;
    let none = || AppError::not_found("no ballot has been cast with this credential key");
    let index = {
        let view = election.board.view.read().await;
        *view.counted.get(&key).ok_or_else(none)?
    };
    let row = one_entry(&state.db, index).await?;
    let view = election.board.view.read().await;
    entry(row, &view).map(Json)
}

/// The stored entry at `index` (which the view holds).
async fn one_entry(db: &super::db::Db, index: u64) -> Result<EntryRow, AppError> {
    db.entries(index, 1)
        .await?
        .into_iter()
        .next()
        .filter(|r| r.index == index)
        .ok_or_else(|| AppError::internal(format!("entry {index} is not stored")))
}

#[derive(Deserialize)]
struct SizeQuery {
    size: Option<u64>,
}

async fn inclusion(
    State(state): State<Shared>,
    Path(code): Path<String>,
    query: Result<Query<SizeQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<InclusionAnswer>, AppError> {
    let Query(query) =
        query.map_err(|e| AppError::bad_request(format!("give ?size=SIZE as a number: {e}")))?;
    let election = election(&state)?;
    let code = tracking_code(&code)?;
    let view = election.board.view.read().await;
    let (index, _) = *view.entries.get(&code.0).ok_or_else(|| {
        AppError::not_found(format!(
            "no ballot with tracking code {code} is on the board"
        ))
    })?;
    let size = query.size.unwrap_or(view.tree.len());
    let proof = view
        .tree
        .inclusion_proof(index, size)
        .map_err(|e| AppError::bad_request(format!("no inclusion proof: {e}")))?;
    let root = view
        .tree
        .root_at(size)
        .map_err(|e| AppError::bad_request(format!("no root: {e}")))?;
    Ok(Json(InclusionAnswer {
        index,
        size,
        root: hex::encode(root),
        path: proof.path.iter().map(hex::encode).collect(),
    }))
}

#[derive(Deserialize)]
struct ConsistencyQuery {
    from: u64,
    to: Option<u64>,
}

async fn consistency(
    State(state): State<Shared>,
    query: Result<Query<ConsistencyQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<ConsistencyAnswer>, AppError> {
    let Query(query) = query.map_err(|e| {
        AppError::bad_request(format!("give ?from=SIZE and optionally &to=SIZE: {e}"))
    })?;
    let election = election(&state)?;
    let view = election.board.view.read().await;
    let to = query.to.unwrap_or(view.tree.len());
    let proof = view
        .tree
        .consistency_proof(query.from, to)
        .map_err(|e| AppError::bad_request(format!("no consistency proof: {e}")))?;
    let root_at = |size| {
        view.tree
            .root_at(size)
            .map(hex::encode)
            .map_err(|e| AppError::bad_request(format!("no root: {e}")))
    };
    Ok(Json(ConsistencyAnswer {
        from: query.from,
        to,
        from_root: root_at(query.from)?,
        to_root: root_at(to)?,
        path: proof.path.iter().map(hex::encode).collect(),
    }))
}

/// The lines of the record's `ballots.jsonl` from entry `start` on, at most a page, below
/// `size`: the bytes, the next index to read (`start` when there are none) and the number of
/// lines. The one serializer of `ballots.jsonl`, for the route and for the record digest the
/// service anchors.
pub(super) async fn record_page(
    state: &AppState,
    election: &Election,
    start: u64,
    size: u64,
) -> Result<(Vec<u8>, u64, u64), AppError> {
    let rows = state.db.entries_with_receipts(start, MAX_PAGE).await?;
    let view = election.board.view.read().await;
    let mut out = Vec::new();
    let mut next = start;
    let mut lines = 0;
    for (row, receipt) in rows.into_iter().filter(|(r, _)| r.index < size) {
        next = row.index + 1;
        let entry = record_entry(row, &receipt, &view)?;
        let line = serde_json::to_vec(&entry).map_err(AppError::internal)?;
        out.extend_from_slice(&line);
        out.push(b'\n');
        lines += 1;
    }
    Ok((out, next, lines))
}

/// The board as the record's `ballots.jsonl` (one [`RecordEntry`] per line: the entry with its
/// receipt), streamed page by page (up to the size when the request arrived).
async fn record_ballots(State(state): State<Shared>) -> Result<Response, AppError> {
    let election = election(&state)?;
    let size = election.board.view.read().await.tree.len();
    let stream = futures_util::stream::try_unfold(0u64, move |start| {
        let (state, election) = (Arc::clone(&state), Arc::clone(&election));
        async move {
            if start >= size {
                return Ok::<_, AppError>(None);
            }
            let (out, next, _) = record_page(&state, &election, start, size).await?;
            if next == start {
                return Ok(None);
            }
            Ok(Some((Bytes::from(out), next)))
        }
    });
    let stream =
        futures_util::TryStreamExt::map_err(stream, |e: AppError| std::io::Error::other(e.message));
    Ok((
        [(
            CONTENT_TYPE,
            HeaderValue::from_static("application/x-ndjson"),
        )],
        Body::from_stream(stream),
    )
        .into_response())
}

// ---------------------------------------------------------------------------------------------
// Anchoring

fn not_anchored() -> AppError {
    AppError::new(
        StatusCode::NOT_FOUND,
        "not_anchored",
        "this service does not anchor the election on a chain (start it with --embedded-chain \
         or --rpc-url URL)",
    )
}

/// The anchoring queue, its transactions and its lag (spec/api.md §12.5).
pub(super) async fn anchoring(state: &AppState) -> Result<AnchoringStatus, AppError> {
    match &state.anchoring {
        Some(anchoring) => anchoring.status().await,
        None => Ok(AnchoringStatus {
            enabled: false,
            chain_id: None,
            contract: None,
            operator: None,
            closes_at: None,
            lag_seconds: 0.0,
            items: Vec::new(),
        }),
    }
}

/// `GET /v1/anchoring`: the anchoring queue, its transactions and its lag (spec/api.md §12).
async fn anchoring_status(State(state): State<Shared>) -> Result<Json<AnchoringStatus>, AppError> {
    Ok(Json(anchoring(&state).await?))
}

#[derive(Deserialize)]
struct AnchorsQuery {
    sha256: Option<String>,
}

/// `GET /v1/record/anchors.json[?sha256=HEX]`: the record's `anchors.json` as it stands, or
/// the version with that SHA-256 that a `record.json` served earlier listed (API-ANCHOR-4).
async fn record_anchors(
    State(state): State<Shared>,
    query: Result<Query<AnchorsQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, AppError> {
    let Query(query) = query.map_err(|e| {
        AppError::bad_request(format!("give ?sha256=HEX (64 lowercase hex digits): {e}"))
    })?;
    election(&state)?;
    let anchoring = state.anchoring.as_ref().ok_or_else(not_anchored)?;
    let wanted = query
        .sha256
        .as_deref()
        .map(|text| {
            tabella_crypto::group::text::from_hex::<32>("SHA-256", text).map_err(|_| {
                AppError::bad_request(format!(
                    "{text:?} is not a SHA-256 (64 lowercase hexadecimal digits)"
                ))
            })
        })
        .transpose()?;
    let anchors = anchoring.anchors().await?;
    let bytes = Bytes::from(super::record::document_bytes(&anchors).map_err(AppError::internal)?);
    let bytes = match wanted {
        Some(sha256) if <[u8; 32]>::from(sha2::Sha256::digest(&bytes)) != sha256 => {
            state.record.anchors_version(&sha256).ok_or_else(|| {
                AppError::not_found(format!(
                    "this service has served no anchors.json with SHA-256 {}: fetch record.json \
                     again, then the anchors.json it lists",
                    hex::encode(sha256)
                ))
            })?
        }
        _ => bytes,
    };
    Ok((
        [(CONTENT_TYPE, HeaderValue::from_static("application/json"))],
        bytes,
    )
        .into_response())
}

// ---------------------------------------------------------------------------------------------
// The election record's documents

/// Whether `path` could name a file of a record: relative, no empty, `.` or `..` part, no
/// backslash, of a sane length. The route never touches the file system; this only keeps
/// nonsense out of lookups and messages.
fn plausible_record_path(path: &str) -> bool {
    !path.is_empty()
        && path.len() <= 256
        && !path.contains('\\')
        && path
            .split('/')
            .all(|part| !part.is_empty() && part != "." && part != "..")
}

/// `GET /v1/record/{path}`: `record.json` and every document it lists, byte for byte the files
/// `tabella election export` writes (spec/api.md §4.8). `ballots.jsonl` and `anchors.json`
/// have routes of their own (§4.5, §12.4), which answer the same bytes.
async fn record_document(
    State(state): State<Shared>,
    Path(path): Path<String>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let election = election(&state)?;
    let no_file = || AppError::not_found(format!("the election record has no file {path:?}"));
    if !plausible_record_path(&path) {
        return Err(no_file());
    }
    let current = election.board.view.read().await.state;
    if current != ElectionState::Tallied {
        return Err(AppError::new(
            StatusCode::CONFLICT,
            "not_tallied",
            format!(
                "the election record is complete, and served, once the election is tallied (it \
                 is {current})"
            ),
        ));
    }
    let snapshot = state.record.snapshot(&state, &election).await?;
    if path == BALLOTS {
        return record_ballots(State(state)).await;
    }
    let (Some(bytes), Some(sha256)) = (snapshot.document(&path), snapshot.sha256(&path)) else {
        return Err(no_file());
    };
    let etag = HeaderValue::from_str(&format!("\"{}\"", hex::encode(sha256)))
        .map_err(AppError::internal)?;
    let mut response = if booth::none_match(&headers, &etag) {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        bytes.into_response()
    };
    let h = response.headers_mut();
    h.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    h.insert(ETAG, etag);
    if path == INDEX || path == ANCHORS {
        // They change as anchoring proceeds.
        h.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    }
    Ok(response)
}

// ---------------------------------------------------------------------------------------------
// The officials' dashboard

/// `GET /v1/admin/status` (admin): the election, turnout, ceremonies, anchoring and booth
/// (spec/api.md §13).
async fn admin_status(State(state): State<Shared>, headers: HeaderMap) -> Response {
    admin_call(state, headers, |state| async move {
        Ok(Json(status::admin_status(&state).await?))
    })
    .await
}

// ---------------------------------------------------------------------------------------------
// The web ballot

fn no_booth() -> AppError {
    AppError::new(
        StatusCode::NOT_FOUND,
        "no_booth",
        "this election service serves no web ballot (start it with `tabella serve --booth DIR`); \
         its API is described at /v1/openapi.json",
    )
}

/// The app's pages (`/`, `/booth`, `/tracker`, `/results`, `/glossary`, `/observer`, `/officials`,
/// `/bench`, and
/// `/index.html` itself): `index.html`, whose app routes by path.
async fn booth_page(State(state): State<Shared>, uri: Uri, headers: HeaderMap) -> Response {
    match state.booth.as_ref().and_then(|b| b.index()) {
        Some(index) => index.answer(&headers),
        None if uri.path() == "/" => no_booth().into_response(),
        None => no_route().await.into_response(),
    }
}

/// `GET /booth.json`: the booth's file list, whose digest the manifest publishes.
async fn booth_list(State(state): State<Shared>, headers: HeaderMap) -> Response {
    booth_file(
        state.booth.as_deref(),
        tabella_crypto::booth::BOOTH_MANIFEST,
        &headers,
    )
    .await
}

/// `GET /app/{path}`: a file of the booth's `app/` directory.
async fn booth_app_file(
    State(state): State<Shared>,
    Path(path): Path<String>,
    headers: HeaderMap,
) -> Response {
    booth_file(state.booth.as_deref(), &format!("app/{path}"), &headers).await
}

async fn booth_file(booth: Option<&Booth>, path: &str, headers: &HeaderMap) -> Response {
    match booth.and_then(|b| b.file(path)) {
        Some(file) => file.answer(headers),
        None => no_route().await.into_response(),
    }
}

/// Any other path: a file the booth lists there (a `GET`), else `404 no_route`.
async fn booth_fallback(
    booth: Option<Arc<Booth>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    if method == Method::GET || method == Method::HEAD {
        if let Some(path) = uri.path().strip_prefix('/') {
            let file = booth
                .as_deref()
                .filter(|b| b.manifest().file(path).is_some())
                .and_then(|b| b.file(path));
            if let Some(file) = file {
                return file.answer(&headers);
            }
        }
    }
    no_route().await.into_response()
}
