//! [`HttpStore`]: a blocking client of the ceremony service.

use secrecy::{ExposeSecret as _, SecretString};
use std::io::Read as _;
use std::time::Duration;

use reqwest::blocking::{Client, Response};
use reqwest::header::AUTHORIZATION;
use reqwest::{StatusCode, Url};
use serde::Deserialize;

use super::{validate_name, MessageStore, StoreError, Stored};

/// How long connecting to the service may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a whole request may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);
/// The largest answer read from the service (a document or the list of names).
const MAX_RESPONSE: u64 = 64 * 1024 * 1024;

/// Ceremony messages on a ceremony service ([`server`](super::server)), over HTTP.
///
/// It uses `reqwest`'s blocking client: call it from ordinary threads, never from inside a tokio
/// runtime. The admin token, when given, is sent with every `PUT` as a bearer token; use `https`
/// for any service that is not on the local machine, or the token travels in clear.
pub struct HttpStore {
    /// The base URL, without a trailing slash.
    base: String,
    client: Client,
    admin_token: Option<SecretString>,
}

impl std::fmt::Debug for HttpStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpStore")
            .field("base", &self.base)
            .field(
                "admin_token",
                &self.admin_token.as_ref().map(|_| "<redacted>"),
            )
            .finish_non_exhaustive()
    }
}

/// An error answer of the service.
#[derive(Deserialize)]
struct ErrorBody {
    error: String,
    message: String,
}

/// The answer of `GET /v1/ceremony/messages`.
#[derive(Deserialize)]
struct MessageList {
    messages: Vec<String>,
}

impl HttpStore {
    /// A client of the ceremony service at `base_url` (e.g. `http://127.0.0.1:8080`), sending
    /// `admin_token` when it writes.
    pub fn new(base_url: &str, admin_token: Option<String>) -> Result<Self, StoreError> {
        let base = base_url.trim_end_matches('/');
        let parsed = Url::parse(base).map_err(|error| {
            StoreError::Config(format!(
                "{base_url:?} is not a valid ceremony service URL: {error}"
            ))
        })?;
        if !matches!(parsed.scheme(), "http" | "https") || parsed.host().is_none() {
            return Err(StoreError::Config(format!(
                "{base_url:?} is not a ceremony service URL: use http://host:port or \
                 https://host:port"
            )));
        }
        let client = Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(REQUEST_TIMEOUT)
            .build()
            .map_err(|error| {
                StoreError::Config(format!("could not set up the HTTP client: {error}"))
            })?;
        Ok(Self {
            base: base.to_string(),
            client,
            admin_token: admin_token
                .filter(|token| !token.is_empty())
                .map(SecretString::from),
        })
    }

    /// The service's base URL.
    pub fn base_url(&self) -> &str {
        &self.base
    }

    fn messages_url(&self) -> String {
        format!("{}/v1/ceremony/messages", self.base)
    }

    fn message_url(&self, name: &str) -> String {
        // `name` is validated: only [a-z0-9-.], nothing to escape.
        format!("{}/v1/ceremony/messages/{name}", self.base)
    }

    /// The error for a request that got no (complete) answer.
    fn unreachable(&self, error: &reqwest::Error) -> StoreError {
        let detail = if error.is_timeout() {
            "it did not answer in time".to_string()
        } else {
            error_chain(error)
        };
        StoreError::Http {
            url: self.base.clone(),
            detail,
        }
    }

    fn send(&self, request: reqwest::blocking::RequestBuilder) -> Result<Response, StoreError> {
        request.send().map_err(|error| self.unreachable(&error))
    }

    /// The body of `response`, at most [`MAX_RESPONSE`] bytes.
    fn body(&self, response: Response) -> Result<Vec<u8>, StoreError> {
        let mut bytes = Vec::new();
        response
            .take(MAX_RESPONSE + 1)
            .read_to_end(&mut bytes)
            .map_err(|error| StoreError::Http {
                url: self.base.clone(),
                detail: format!("the answer was cut off: {}", error_chain(&error)),
            })?;
        if bytes.len() as u64 > MAX_RESPONSE {
            return Err(self.server_error(
                StatusCode::OK,
                format!("its answer is larger than {MAX_RESPONSE} bytes"),
            ));
        }
        Ok(bytes)
    }

    /// The error code and message of an error answer; `None` when it is not the service's JSON
    /// (another server, or a proxy, answered).
    fn error_body(&self, response: Response) -> (StatusCode, Option<ErrorBody>, String) {
        let status = response.status();
        let bytes = self.body(response).unwrap_or_default();
        match serde_json::from_slice::<ErrorBody>(&bytes) {
            Ok(body) => {
                let message = body.message.clone();
                (status, Some(body), message)
            }
            Err(_) => {
                let text = String::from_utf8_lossy(&bytes);
                let text: String = text.trim().chars().take(200).collect();
                let message = if text.is_empty() {
                    "(no explanation; is this a Tabella ceremony service?)".to_string()
                } else {
                    format!("{text} (is this a Tabella ceremony service?)")
                };
                (status, None, message)
            }
        }
    }

    fn server_error(&self, status: StatusCode, message: String) -> StoreError {
        StoreError::Server {
            url: self.base.clone(),
            status: status.as_u16(),
            message,
        }
    }

    /// The error for an unsuccessful answer about `name` (with `size` bytes sent, for `PUT`).
    fn error_for(&self, name: &str, size: usize, response: Response) -> StoreError {
        let (status, body, message) = self.error_body(response);
        let code = body.as_ref().map(|body| body.error.as_str());
        let name = name.to_string();
        match (status, code) {
            (StatusCode::BAD_REQUEST, Some("invalid_name")) => StoreError::InvalidName { name },
            (StatusCode::UNAUTHORIZED, _) => StoreError::Unauthorized { name, message },
            (StatusCode::CONFLICT, Some("conflict")) => StoreError::Conflict { name },
            (StatusCode::PAYLOAD_TOO_LARGE, _) => StoreError::TooLarge {
                name,
                size,
                message,
            },
            (StatusCode::UNPROCESSABLE_ENTITY, Some("rejected")) => StoreError::Rejected {
                name,
                reason: message,
            },
            _ => self.server_error(status, message),
        }
    }
}

impl MessageStore for HttpStore {
    fn get(&self, name: &str) -> Result<Option<Vec<u8>>, StoreError> {
        validate_name(name)?;
        let response = self.send(self.client.get(self.message_url(name)))?;
        if response.status() == StatusCode::OK {
            return self.body(response).map(Some);
        }
        if response.status() == StatusCode::NOT_FOUND {
            let (status, body, message) = self.error_body(response);
            // Only the service's own "no such message" means absent; any other 404 (a wrong
            // base URL, a proxy) is an error, or a wait would poll a wrong address for ever.
            return match body {
                Some(body) if body.error == "not_found" => Ok(None),
                _ => Err(self.server_error(status, message)),
            };
        }
        Err(self.error_for(name, 0, response))
    }

    fn put(&self, name: &str, bytes: &[u8]) -> Result<Stored, StoreError> {
        validate_name(name)?;
        let mut request = self.client.put(self.message_url(name)).body(bytes.to_vec());
        if let Some(token) = &self.admin_token {
            request = request.header(AUTHORIZATION, format!("Bearer {}", token.expose_secret()));
        }
        let response = self.send(request)?;
        match response.status() {
            StatusCode::CREATED => Ok(Stored::Created),
            StatusCode::OK => Ok(Stored::AlreadyPresent),
            _ => Err(self.error_for(name, bytes.len(), response)),
        }
    }

    fn list(&self) -> Result<Vec<String>, StoreError> {
        let response = self.send(self.client.get(self.messages_url()))?;
        if response.status() != StatusCode::OK {
            let (status, _, message) = self.error_body(response);
            return Err(self.server_error(status, message));
        }
        let bytes = self.body(response)?;
        let list: MessageList = serde_json::from_slice(&bytes).map_err(|error| {
            self.server_error(
                StatusCode::OK,
                format!("its list of messages is not readable ({error}); is this a Tabella ceremony service?"),
            )
        })?;
        let mut names = list.messages;
        for name in &names {
            validate_name(name).map_err(|_| {
                self.server_error(
                    StatusCode::OK,
                    format!("it lists an invalid message name {name:?}"),
                )
            })?;
        }
        names.sort();
        names.dedup();
        Ok(names)
    }

    fn describe(&self) -> String {
        format!("service {}", self.base)
    }
}

/// An error and its causes, joined with `: ` (reqwest's own message alone says little, e.g.
/// "error sending request"; the cause says "connection refused").
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}
