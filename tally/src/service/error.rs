//! The service's error answer: a status, a stable code and a message a person can act on.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;

use super::db::DbError;
use crate::api::ErrorBody;

/// An error answer. Internal details are logged, never sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppError {
    /// HTTP status.
    pub status: StatusCode,
    /// Stable code (spec/api.md).
    pub code: &'static str,
    /// Plain-English message.
    pub message: String,
}

impl AppError {
    /// An error answer.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
        }
    }

    /// `400 bad_request`.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }

    /// `404 not_found`.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    /// `409 wrong_state`.
    pub fn wrong_state(message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, "wrong_state", message)
    }

    /// `404 no_election`.
    pub fn no_election() -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "no_election",
            "no election has been created on this service yet (`tabella election create`)",
        )
    }

    /// `500 internal`, after logging `detail`.
    pub fn internal(detail: impl std::fmt::Display) -> Self {
        tracing::error!(%detail, "internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "the service hit an internal error; it has been logged",
        )
    }

    /// `503 storage_unavailable`, after logging `detail`: a write did not reach the database.
    pub fn storage(detail: impl std::fmt::Display) -> Self {
        tracing::error!(%detail, "storage failure");
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "storage_unavailable",
            "the service could not store this durably, so nothing was recorded and no receipt \
             is given; please try again",
        )
    }
}

impl From<DbError> for AppError {
    fn from(error: DbError) -> Self {
        Self::storage(error)
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        (
            self.status,
            Json(ErrorBody {
                error: self.code.to_string(),
                message: self.message,
            }),
        )
            .into_response()
    }
}
