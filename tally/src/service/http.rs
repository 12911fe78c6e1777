//! What every handler needs: the officials' token, request bodies, the election.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::http::header::WWW_AUTHENTICATE;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use secrecy::ExposeSecret as _;
use serde::de::DeserializeOwned;
use subtle::ConstantTimeEq as _;

use super::db::ElectionRow;
use super::error::AppError;
use super::{AppState, Election};
use crate::messages::server::bearer_token;

/// The state every handler shares.
pub(super) type Shared = Arc<AppState>;

/// Checks the officials' bearer token, in constant time (the length of the token leaks).
pub(super) fn require_admin(state: &AppState, headers: &HeaderMap) -> Result<(), AppError> {
    let unauthorized = |message: &str| {
        AppError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            message.to_string(),
        )
    };
    let Some(expected) = &state.admin_token else {
        return Err(unauthorized(
            "this service has no admin token configured, so it accepts no administrative call",
        ));
    };
    match bearer_token(headers) {
        None => Err(unauthorized(
            "an administrative call: send the admin token as \"Authorization: Bearer <token>\"",
        )),
        Some(token) if bool::from(token.as_bytes().ct_eq(expected.expose_secret().as_bytes())) => {
            Ok(())
        }
        Some(_) => Err(unauthorized("the admin token is wrong")),
    }
}

/// The error as a response, with `WWW-Authenticate: Bearer` on a `401`.
pub(super) fn with_bearer_challenge(error: AppError) -> Response {
    let status = error.status;
    let mut response = error.into_response();
    if status == StatusCode::UNAUTHORIZED {
        response
            .headers_mut()
            .insert(WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    }
    response
}

/// The body, or `413 too_large` / `400 malformed_request`.
pub(super) fn body(body: Result<Bytes, BytesRejection>, limit: usize) -> Result<Bytes, AppError> {
    body.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            AppError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "too_large",
                format!("the request is larger than the {limit} bytes this endpoint accepts"),
            )
        } else {
            AppError::new(
                StatusCode::BAD_REQUEST,
                "malformed_request",
                format!("the request body could not be read: {rejection}"),
            )
        }
    })
}

/// The body as JSON of type `T`, or `400 malformed_request` naming `what` was expected.
pub(super) fn json<T: DeserializeOwned>(bytes: &[u8], what: &str) -> Result<T, AppError> {
    serde_json::from_slice(bytes).map_err(|e| {
        AppError::new(
            StatusCode::BAD_REQUEST,
            "malformed_request",
            format!("the request is not a valid {what}: {e}"),
        )
    })
}

/// The election, or `404 no_election`.
pub(super) fn election(state: &AppState) -> Result<Arc<Election>, AppError> {
    state.election().ok_or_else(AppError::no_election)
}

/// The stored election row, or `404 no_election`.
pub(super) async fn stored_row(state: &AppState) -> Result<ElectionRow, AppError> {
    state.db.election().await?.ok_or_else(AppError::no_election)
}

/// An administrative call: the token first (`401` with a bearer challenge), then `f`.
pub(super) async fn admin_call<F, Fut, T>(state: Shared, headers: HeaderMap, f: F) -> Response
where
    F: FnOnce(Shared) -> Fut,
    Fut: std::future::Future<Output = Result<T, AppError>>,
    T: IntoResponse,
{
    if let Err(error) = require_admin(&state, &headers) {
        return with_bearer_challenge(error);
    }
    match f(state).await {
        Ok(answer) => answer.into_response(),
        Err(error) => error.into_response(),
    }
}
