//! The ceremony service: ceremony messages over HTTP.
//!
//! | request | answer |
//! |---|---|
//! | `GET /v1/ceremony/messages` | `200` `{"messages": ["ceremony.json", …]}` (sorted) |
//! | `GET /v1/ceremony/messages/{name}` | `200` the document (`application/json`); `404` if absent |
//! | `PUT /v1/ceremony/messages/{name}` | `201` stored; `200` the same bytes were already stored |
//!
//! A refused `PUT` answers `400` (invalid name), `401` (admin name without the right bearer
//! token), `409` (a different document holds the name), `413` (body over
//! [`ServerConfig::max_body`]) or `422` (the validator refused it, with its reason). Every error
//! is JSON: `{"error": "code", "message": "plain English"}`, with the codes `invalid_name`,
//! `unauthorized`, `not_found`, `conflict`, `too_large`, `rejected`, `bad_request`, `no_route`
//! and `internal`.
//!
//! Documents are public (they are signed by their authors), so reading needs no token. Writing
//! an admin name (e.g. `ceremony.json`, `tally-request.json`) needs
//! `Authorization: Bearer <admin token>`; a service without an admin token accepts no admin
//! names at all. Puts go through a [`ValidatingStore`], so they are validated one at a time and
//! the store's write-once rule decides races.

use secrecy::{ExposeSecret as _, SecretString};
use std::future::{poll_fn, Future};
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes, HttpBody as _};
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::header::{AUTHORIZATION, CONTENT_LENGTH, CONTENT_TYPE, WWW_AUTHENTICATE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;
use subtle::ConstantTimeEq as _;
use tokio::net::TcpListener;
use tokio::sync::watch;

use super::{
    accept_all, validate_name, MessageStore, StoreError, Stored, ValidatingStore, Validator,
};

/// The default limit on a document's size: 4 MiB.
pub const DEFAULT_MAX_BODY: usize = 4 * 1024 * 1024;

/// How long [`RunningServer`] lets open connections finish after it is told to stop.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// How long the service keeps reading (and discarding) an oversized body, so the client gets the
/// `413` answer instead of a reset connection.
const DRAIN_TIME: Duration = Duration::from_secs(10);

/// How the ceremony service treats writes.
#[derive(Clone)]
pub struct ServerConfig {
    /// The officials' token, needed to write [`admin_names`](Self::admin_names). `None` (or an
    /// empty token) means no admin name can be written.
    pub admin_token: Option<String>,
    /// Names only officials may write, e.g. `ceremony.json` and `tally-request.json`.
    pub admin_names: Vec<String>,
    /// The largest document accepted, in bytes.
    pub max_body: usize,
    /// Checks each new document against the documents already stored.
    pub validator: Validator,
}

impl Default for ServerConfig {
    /// No admin token and no admin names, a 4 MiB limit, and a validator that accepts everything.
    fn default() -> Self {
        Self {
            admin_token: None,
            admin_names: Vec::new(),
            max_body: DEFAULT_MAX_BODY,
            validator: accept_all(),
        }
    }
}

impl std::fmt::Debug for ServerConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerConfig")
            .field(
                "admin_token",
                &self.admin_token.as_ref().map(|_| "<redacted>"),
            )
            .field("admin_names", &self.admin_names)
            .field("max_body", &self.max_body)
            .finish_non_exhaustive()
    }
}

/// What the handlers share.
struct AppState {
    store: ValidatingStore,
    admin_token: Option<SecretString>,
    admin_names: Vec<String>,
    max_body: usize,
}

/// The ceremony service's routes, serving `store` (usually a [`DirStore`](super::DirStore)).
pub fn router(store: Arc<dyn MessageStore>, config: ServerConfig) -> Router {
    routes(store, config).fallback(no_route)
}

/// The ceremony message routes alone, without a fallback, to merge into a larger service (the
/// election service mounts them over its database).
pub fn routes(store: Arc<dyn MessageStore>, config: ServerConfig) -> Router {
    let state = Arc::new(AppState {
        store: ValidatingStore::new(store, config.validator),
        admin_token: config
            .admin_token
            .filter(|token| !token.is_empty())
            .map(SecretString::from),
        admin_names: config.admin_names,
        max_body: config.max_body,
    });
    Router::new()
        .route("/v1/ceremony/messages", get(list_messages))
        .route(
            "/v1/ceremony/messages/{name}",
            get(get_message).put(put_message),
        )
        .with_state(state)
}

/// Serves `router` on `listener` until `shutdown` completes, then lets open requests finish.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router)
        .with_graceful_shutdown(shutdown)
        .await
}

/// A ceremony service running on `127.0.0.1` in a background thread with its own tokio runtime,
/// for tests and local runs. It stops when dropped.
#[derive(Debug)]
pub struct RunningServer {
    addr: SocketAddr,
    /// Dropping the sender tells the server to stop.
    stop: Option<watch::Sender<()>>,
    thread: Option<std::thread::JoinHandle<std::io::Result<()>>>,
}

/// Starts the ceremony service for `store` on `127.0.0.1` on a free port, in a background thread.
///
/// Blocking clients such as [`HttpStore`](super::HttpStore) can call it from any thread that is
/// not itself running a tokio runtime.
pub fn spawn_local(
    store: Arc<dyn MessageStore>,
    config: ServerConfig,
) -> std::io::Result<RunningServer> {
    let listener = std::net::TcpListener::bind(("127.0.0.1", 0))?;
    listener.set_nonblocking(true)?;
    let addr = listener.local_addr()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("tabella-ceremony-service")
        .enable_all()
        .build()?;
    let app = router(store, config);
    let (stop, stopped) = watch::channel(());
    let thread = std::thread::Builder::new()
        .name("tabella-ceremony-service".to_string())
        .spawn(move || {
            runtime.block_on(async move {
                let listener = TcpListener::from_std(listener)?;
                let mut graceful = stopped.clone();
                let mut forced = stopped;
                let server = serve(listener, app, async move {
                    // Err means the sender was dropped: also a stop.
                    let _ = graceful.changed().await;
                });
                tokio::select! {
                    result = server => result,
                    _ = async {
                        let _ = forced.changed().await;
                        tokio::time::sleep(SHUTDOWN_GRACE).await;
                    } => Ok(()),
                }
            })
        })?;
    Ok(RunningServer {
        addr,
        stop: Some(stop),
        thread: Some(thread),
    })
}

impl RunningServer {
    /// The service's base URL, e.g. `http://127.0.0.1:41234`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The address the service listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops the service, waits for it (open requests get a few seconds to finish) and reports
    /// how it ended.
    pub fn shutdown(mut self) -> std::io::Result<()> {
        self.stop_and_join()
    }

    fn stop_and_join(&mut self) -> std::io::Result<()> {
        drop(self.stop.take());
        match self.thread.take().map(|thread| thread.join()) {
            Some(Ok(result)) => result,
            Some(Err(_)) => Err(std::io::Error::other(
                "the ceremony service thread panicked",
            )),
            None => Ok(()),
        }
    }
}

impl Drop for RunningServer {
    fn drop(&mut self) {
        let _ = self.stop_and_join();
    }
}

/// The body of `GET /v1/ceremony/messages`.
#[derive(Serialize)]
struct MessageList {
    messages: Vec<String>,
}

/// The body of a successful `PUT`.
#[derive(Serialize)]
struct PutAnswer<'a> {
    name: &'a str,
    stored: &'static str,
}

async fn list_messages(State(state): State<Arc<AppState>>) -> Result<Response, ApiError> {
    let messages = blocking(&state, |state| state.store.list()).await?;
    Ok(Json(MessageList { messages }).into_response())
}

async fn get_message(
    State(state): State<Arc<AppState>>,
    name: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiError> {
    let name = message_name(name)?;
    let lookup = name.clone();
    match blocking(&state, move |state| state.store.get(&lookup)).await? {
        Some(bytes) => Ok((
            [(CONTENT_TYPE, HeaderValue::from_static("application/json"))],
            bytes,
        )
            .into_response()),
        None => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("there is no message named {name} yet"),
        )),
    }
}

async fn put_message(
    State(state): State<Arc<AppState>>,
    name: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let name = message_name(name)?;
    if state.admin_names.contains(&name) {
        check_admin_token(&state, &headers, &name)?;
    }
    let bytes = read_body(body, &headers, state.max_body).await?;
    let key = name.clone();
    let stored = blocking(&state, move |state| state.store.put(&key, &bytes)).await?;
    let (status, stored) = match stored {
        Stored::Created => (StatusCode::CREATED, "created"),
        Stored::AlreadyPresent => (StatusCode::OK, "already_present"),
    };
    Ok((
        status,
        Json(PutAnswer {
            name: &name,
            stored,
        }),
    )
        .into_response())
}

async fn no_route() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "no_route",
        "this is a Tabella ceremony service; its messages are under /v1/ceremony/messages",
    )
}

/// The validated message name of a request path.
fn message_name(path: Result<Path<String>, PathRejection>) -> Result<String, ApiError> {
    let Path(name) = path.map_err(|rejection| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_name",
            format!("the message name in the path is not readable: {rejection}"),
        )
    })?;
    validate_name(&name)?;
    Ok(name)
}

/// The token of an `Authorization: Bearer <token>` header, if the request has one.
pub(crate) fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim())
}

/// Checks the bearer token of a request for the admin name `name`, in constant time.
///
/// The comparison leaks the token's length, not its contents.
fn check_admin_token(state: &AppState, headers: &HeaderMap, name: &str) -> Result<(), ApiError> {
    let Some(expected) = &state.admin_token else {
        return Err(ApiError::unauthorized(format!(
            "{name} is an officials' document and this service has no admin token configured, \
             so it accepts none"
        )));
    };
    match bearer_token(headers) {
        None => Err(ApiError::unauthorized(format!(
            "{name} is an officials' document: send the admin token as \
             \"Authorization: Bearer <token>\""
        ))),
        Some(token) if bool::from(token.as_bytes().ct_eq(expected.expose_secret().as_bytes())) => {
            Ok(())
        }
        Some(_) => Err(ApiError::unauthorized(format!(
            "{name} is an officials' document and the admin token sent is wrong"
        ))),
    }
}

/// Reads a request body of at most `limit` bytes.
///
/// An oversized body is read to its end (up to a bound) and discarded before answering `413`:
/// a server that answers and closes while the client is still sending often makes the client
/// see a reset connection instead of the answer.
async fn read_body(mut body: Body, headers: &HeaderMap, limit: usize) -> Result<Vec<u8>, ApiError> {
    let too_large = || {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            format!("the service accepts documents of at most {limit} bytes"),
        )
    };
    let drain_limit = limit.saturating_mul(4).max(16 * 1024 * 1024);
    let declared = headers
        .get(CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok());
    if let Some(declared) = declared {
        if declared > drain_limit as u64 {
            return Err(too_large());
        }
    }
    let mut bytes = Vec::with_capacity(declared.map_or(0, |d| d.min(limit as u64) as usize));
    while let Some(frame) = next_frame(&mut body).await? {
        if bytes.len() + frame.len() > limit {
            let mut seen = bytes.len() + frame.len();
            drop(bytes);
            let drain = async {
                while seen <= drain_limit {
                    match next_frame(&mut body).await {
                        Ok(Some(frame)) => seen += frame.len(),
                        _ => break,
                    }
                }
            };
            let _ = tokio::time::timeout(DRAIN_TIME, drain).await;
            return Err(too_large());
        }
        bytes.extend_from_slice(&frame);
    }
    Ok(bytes)
}

/// The next data frame of `body` (trailers are skipped), or `None` at its end.
async fn next_frame(body: &mut Body) -> Result<Option<Bytes>, ApiError> {
    loop {
        match poll_fn(|cx| Pin::new(&mut *body).poll_frame(cx)).await {
            None => return Ok(None),
            Some(Err(error)) => {
                return Err(ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "bad_request",
                    format!("the request body could not be read: {error}"),
                ))
            }
            Some(Ok(frame)) => {
                if let Ok(data) = frame.into_data() {
                    return Ok(Some(data));
                }
            }
        }
    }
}

/// Runs a store operation on tokio's blocking pool (stores do blocking file I/O).
async fn blocking<T: Send + 'static>(
    state: &Arc<AppState>,
    operation: impl FnOnce(&AppState) -> Result<T, StoreError> + Send + 'static,
) -> Result<T, ApiError> {
    let state = Arc::clone(state);
    match tokio::task::spawn_blocking(move || operation(&state)).await {
        Ok(result) => result.map_err(ApiError::from),
        Err(error) => {
            eprintln!("ceremony service: a store operation failed: {error}");
            Err(ApiError::internal())
        }
    }
}

/// An error answer: a status, a stable code and a plain-English message.
#[derive(Debug)]
struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
}

/// The JSON body of an error answer.
#[derive(Serialize)]
struct ErrorBody<'a> {
    error: &'a str,
    message: &'a str,
}

impl ApiError {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
        }
    }

    fn unauthorized(message: String) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }

    fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "the ceremony service could not complete the request; its operators will find the \
             cause in its log",
        )
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::InvalidName { .. } => {
                Self::new(StatusCode::BAD_REQUEST, "invalid_name", error.to_string())
            }
            StoreError::Conflict { .. } => {
                Self::new(StatusCode::CONFLICT, "conflict", error.to_string())
            }
            // The validator's reason alone: clients rebuild `Rejected { name, reason }` from it.
            StoreError::Rejected { reason, .. } => {
                Self::new(StatusCode::UNPROCESSABLE_ENTITY, "rejected", reason)
            }
            StoreError::Unauthorized { message, .. } => Self::unauthorized(message),
            StoreError::TooLarge { message, .. } => {
                Self::new(StatusCode::PAYLOAD_TOO_LARGE, "too_large", message)
            }
            // Details (paths, OS errors) stay in the log.
            other => {
                eprintln!("ceremony service: {other}");
                Self::internal()
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = Json(ErrorBody {
            error: self.code,
            message: &self.message,
        });
        let mut response = (self.status, body).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}
