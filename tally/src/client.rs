//! [`ElectionClient`]: a typed, blocking client of the election service's HTTP API
//! ([`crate::api`] holds the JSON documents; spec/api.md lists the routes).
//!
//! It uses `reqwest`'s blocking client: call it from ordinary threads, never from inside a tokio
//! runtime. Every answer is checked: a success must parse as the document the route promises,
//! and an error answer becomes a [`ClientError::Api`] carrying the service's stable code and its
//! plain-English message, or a [`ClientError::UnexpectedAnswer`] when something that is not the
//! election service (a proxy, another server) answered.

use std::io::{Read as _, Write};
use std::time::{Duration, Instant};

use reqwest::blocking::{Client, RequestBuilder, Response};
use reqwest::header::AUTHORIZATION;
use reqwest::{StatusCode, Url};
use secrecy::{ExposeSecret as _, SecretString};
use serde::de::DeserializeOwned;
use tabella_crypto::ballot::{SpoiledBallot, TrackingCode};
use tabella_crypto::board::receipt::{Receipt, SignedTreeHead};
use tabella_crypto::group::text;
use tabella_crypto::manifest::Manifest;

use crate::api::{
    Aggregation, BoardPage, CastBallot, ConsistencyAnswer, CreateElection, CredentialList,
    CredentialReplaced, CredentialReplacement, CredentialsImported, ElectionInfo, ElectionState,
    ErrorBody, InclusionAnswer, PublicCredentialList, Results, SignedElectionParameters,
    SpoilBallot,
};

/// How long connecting to the service may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a request may wait for its answer (and, when streaming, for each read).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(120);
/// The largest JSON document read from the service (the credential list of a large election is
/// the biggest: about 67 bytes per voter).
const MAX_DOCUMENT: u64 = 512 * 1024 * 1024;
/// The largest error answer read (only its start is shown).
const MAX_ERROR_BODY: u64 = 64 * 1024;
/// How often [`ElectionClient::wait_for_aggregation`] asks for progress.
const POLL_INTERVAL: Duration = Duration::from_millis(250);
/// How long [`ElectionClient::wait_for_aggregation`] waits without any progress before giving up.
const STALL_TIMEOUT: Duration = Duration::from_secs(10 * 60);

/// Why a call to the election service failed. Every message is plain English an official can
/// act on.
#[derive(thiserror::Error, Debug)]
#[non_exhaustive]
pub enum ClientError {
    /// The client cannot be set up: a malformed URL, an invalid argument.
    #[error("{0}")]
    Config(String),

    /// No (complete) answer: the service is down, the address is wrong, the network failed or
    /// the service did not answer in time.
    #[error("could not reach the election service at {url}: {detail}")]
    Unreachable {
        /// The service's base URL.
        url: String,
        /// What went wrong, e.g. "connection refused".
        detail: String,
    },

    /// The service refused the request and said why.
    #[error("the service refused: {message} ({code})")]
    Api {
        /// The HTTP status.
        status: u16,
        /// The service's stable error code, e.g. `election_not_open`.
        code: String,
        /// The service's explanation.
        message: String,
    },

    /// An error answer that is not the election service's (no JSON error document): a proxy,
    /// another server, a wrong base URL.
    #[error(
        "the server at {url} answered HTTP {status} with {detail}; is this a Tabella election \
         service?"
    )]
    UnexpectedAnswer {
        /// The service's base URL.
        url: String,
        /// The HTTP status.
        status: u16,
        /// The start of the answer's body, or a note that it was empty.
        detail: String,
    },

    /// A successful answer whose body is not the document the route promises.
    #[error("the election service's answer to {what} is not readable: {detail}")]
    Decode {
        /// The request, e.g. `GET /v1/election`.
        what: String,
        /// What is wrong with it.
        detail: String,
    },

    /// Aggregation made no progress for too long (see [`ElectionClient::wait_for_aggregation`]).
    #[error(
        "the verification and aggregation of the ballots made no progress for {} minutes \
         ({done} of {total} done); check the service's logs",
        waited.as_secs() / 60
    )]
    Stalled {
        /// Ballots verified and added so far.
        done: u64,
        /// Ballots to verify and add.
        total: u64,
        /// How long it made no progress.
        waited: Duration,
    },

    /// The election is not in a state where the awaited work happens (for example, waiting for
    /// aggregation of an election that is still open).
    #[error("the election is {state}, not closed: nothing is being aggregated")]
    NotClosed {
        /// The election's state.
        state: ElectionState,
    },

    /// A streamed document could not be written to its destination.
    #[error("could not write {what}: {source}")]
    Write {
        /// What was being written.
        what: String,
        /// The I/O error.
        source: std::io::Error,
    },
}

impl ClientError {
    /// The service's error code (e.g. `election_not_open`), for a refusal by the service.
    pub fn code(&self) -> Option<&str> {
        match self {
            Self::Api { code, .. } => Some(code),
            _ => None,
        }
    }

    /// The HTTP status of an error answer.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Api { status, .. } | Self::UnexpectedAnswer { status, .. } => Some(*status),
            _ => None,
        }
    }
}

/// A blocking client of one election service.
///
/// The admin token, when given, is sent as a bearer token with the administrative calls only
/// (create, credential import and replacement, open, close, tally); use `https` for any service that is not on the
/// local machine, or the token travels in clear. `Debug` never shows the token.
pub struct ElectionClient {
    /// The base URL, without a trailing slash.
    base: String,
    client: Client,
    admin_token: Option<SecretString>,
}

impl std::fmt::Debug for ElectionClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ElectionClient")
            .field("base", &self.base)
            .field(
                "admin_token",
                &self.admin_token.as_ref().map(|_| "<redacted>"),
            )
            .finish_non_exhaustive()
    }
}

/// Checks that `base_url` is an `http` or `https` URL with a host, and returns it without its
/// trailing slashes.
pub fn validate_base_url(base_url: &str) -> Result<String, ClientError> {
    let base = base_url.trim().trim_end_matches('/');
    let parsed = Url::parse(base).map_err(|error| {
        ClientError::Config(format!(
            "{base_url:?} is not a valid election service URL: {error}; use http://host:port or \
             https://host:port"
        ))
    })?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host().is_none() {
        return Err(ClientError::Config(format!(
            "{base_url:?} is not an election service URL: use http://host:port or \
             https://host:port"
        )));
    }
    if parsed.query().is_some() || parsed.fragment().is_some() {
        return Err(ClientError::Config(format!(
            "{base_url:?} is not an election service URL: use http://host:port or \
             https://host:port, without a query (?…) or a fragment (#…)"
        )));
    }
    Ok(base.to_string())
}

impl ElectionClient {
    /// A client of the election service at `base_url` (e.g. `http://127.0.0.1:8080`), sending
    /// `admin_token` (when given and not empty) with the administrative calls.
    ///
    /// # Errors
    /// [`ClientError::Config`] for a URL that is not `http(s)://host…`, or if the HTTP client
    /// cannot be set up.
    pub fn new(base_url: &str, admin_token: Option<String>) -> Result<Self, ClientError> {
        let base = validate_base_url(base_url)?;
        let client = Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(REQUEST_TIMEOUT)
            .build()
            .map_err(|error| {
                ClientError::Config(format!(
                    "could not set up the HTTP client: {}",
                    error_chain(&error)
                ))
            })?;
        Ok(Self {
            base,
            client,
            admin_token: admin_token
                .filter(|token| !token.is_empty())
                .map(SecretString::from),
        })
    }

    /// The service's base URL, without a trailing slash.
    pub fn base_url(&self) -> &str {
        &self.base
    }

    /// Whether an admin token was given.
    pub fn has_admin_token(&self) -> bool {
        self.admin_token.is_some()
    }

    // ---- Public routes ----------------------------------------------------------------------

    /// `GET /v1/election`: the election as the service sees it.
    pub fn election(&self) -> Result<ElectionInfo, ClientError> {
        self.get_json("/v1/election")
    }

    /// `GET /v1/election/credentials`: the public list of eligible credential keys.
    pub fn credentials(&self) -> Result<CredentialList, ClientError> {
        self.get_json("/v1/election/credentials")
    }

    /// `GET /v1/election/parameters`: the election's public parameters, fixed and signed by the
    /// board when voting opened (a `wrong_state` refusal before).
    ///
    /// The signature is not checked here; see [`SignedElectionParameters::signature_holds`].
    pub fn election_parameters(&self) -> Result<SignedElectionParameters, ClientError> {
        self.get_json("/v1/election/parameters")
    }

    /// `POST /v1/election/ballots`: casts a ballot (its canonical bytes). Returns the receipt and
    /// whether the ballot is new (`false`: this exact ballot was already on the board, and the
    /// receipt is the one given then).
    ///
    /// The receipt is not checked here; see [`Receipt::verify`].
    pub fn cast(&self, ballot_bytes: &[u8]) -> Result<(Receipt, bool), ClientError> {
        let body = CastBallot {
            ballot: text::to_base64(ballot_bytes),
        };
        let what = "POST /v1/election/ballots";
        let response = self.send(self.client.post(self.url(what)).json(&body))?;
        self.created_json(what, response)
    }

    /// `POST /v1/election/spoiled`: publishes a challenged ballot with its opening. Returns the
    /// receipt (kind `spoiled`) and whether it is new.
    pub fn spoil(
        &self,
        ballot_bytes: &[u8],
        opening: &SpoiledBallot,
    ) -> Result<(Receipt, bool), ClientError> {
        let body = SpoilBallot {
            ballot: text::to_base64(ballot_bytes),
            opening: opening.clone(),
        };
        let what = "POST /v1/election/spoiled";
        let response = self.send(self.client.post(self.url(what)).json(&body))?;
        self.created_json(what, response)
    }

    /// `GET /v1/election/receipts/{tracking_code}`: the receipt of a ballot on the board.
    pub fn receipt(&self, tracking_code: &TrackingCode) -> Result<Receipt, ClientError> {
        self.get_json(&format!("/v1/election/receipts/{tracking_code}"))
    }

    /// `GET /v1/election/results`: the decrypted tally (a `not_tallied` refusal before).
    pub fn results(&self) -> Result<Results, ClientError> {
        self.get_json("/v1/election/results")
    }

    /// `GET /v1/board/head`: the board's current size and root, freshly signed.
    pub fn head(&self) -> Result<SignedTreeHead, ClientError> {
        self.get_json("/v1/board/head")
    }

    /// `GET /v1/board/entries?start=…&limit=…`: a page of the board (the service caps `limit`).
    pub fn entries(&self, start: u64, limit: u32) -> Result<BoardPage, ClientError> {
        self.get_json(&format!("/v1/board/entries?start={start}&limit={limit}"))
    }

    /// `GET /v1/board/inclusion/{tracking_code}?size=…`: where a ballot is, with the proof that
    /// it is in the tree of `size` entries (the current size when `None`).
    pub fn inclusion(
        &self,
        tracking_code: &TrackingCode,
        size: Option<u64>,
    ) -> Result<InclusionAnswer, ClientError> {
        let mut path = format!("/v1/board/inclusion/{tracking_code}");
        if let Some(size) = size {
            path.push_str(&format!("?size={size}"));
        }
        self.get_json(&path)
    }

    /// `GET /v1/board/consistency?from=…&to=…`: the proof that the board at `to` (the current
    /// size when `None`) extends the board at `from`.
    pub fn consistency(
        &self,
        from: u64,
        to: Option<u64>,
    ) -> Result<ConsistencyAnswer, ClientError> {
        let mut path = format!("/v1/board/consistency?from={from}");
        if let Some(to) = to {
            path.push_str(&format!("&to={to}"));
        }
        self.get_json(&path)
    }

    /// `GET /v1/record/ballots.jsonl`: streams every board entry with its receipt (one
    /// [`RecordEntry`](crate::api::RecordEntry) per line, by index) into `out`, and returns the
    /// number of lines written. The lines are copied as they come, not parsed.
    pub fn record_ballots(&self, out: &mut dyn Write) -> Result<u64, ClientError> {
        let what = "GET /v1/record/ballots.jsonl";
        let response = self.send(self.client.get(self.url(what)))?;
        let mut response = self.success(response)?;
        let mut buffer = vec![0u8; 64 * 1024];
        let (mut lines, mut last) = (0u64, b'\n');
        loop {
            let n = match response.read(&mut buffer) {
                Ok(0) => break,
                Ok(n) => n,
                Err(error) if error.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(error) => {
                    return Err(self.unreachable_detail(format!(
                        "the election record was cut off after {lines} lines: {}",
                        error_chain(&error)
                    )))
                }
            };
            let chunk = &buffer[..n];
            lines += chunk.iter().filter(|&&b| b == b'\n').count() as u64;
            last = chunk[n - 1];
            out.write_all(chunk).map_err(|source| ClientError::Write {
                what: "the election record's ballots".to_string(),
                source,
            })?;
        }
        if last != b'\n' {
            // A last line without its newline still counts, and gets one.
            lines += 1;
            out.write_all(b"\n").map_err(|source| ClientError::Write {
                what: "the election record's ballots".to_string(),
                source,
            })?;
        }
        out.flush().map_err(|source| ClientError::Write {
            what: "the election record's ballots".to_string(),
            source,
        })?;
        Ok(lines)
    }

    /// `GET /v1/ceremony/messages`: the names of the published ceremony messages, sorted. Every
    /// name is checked against the message naming rule, so it is safe as a file name.
    pub fn ceremony_messages(&self) -> Result<Vec<String>, ClientError> {
        #[derive(serde::Deserialize)]
        struct MessageList {
            messages: Vec<String>,
        }
        let what = "/v1/ceremony/messages";
        let list: MessageList = self.get_json(what)?;
        let mut names = list.messages;
        for name in &names {
            crate::messages::validate_name(name).map_err(|_| ClientError::Decode {
                what: format!("GET {what}"),
                detail: format!("it lists an invalid message name {name:?}"),
            })?;
        }
        names.sort();
        names.dedup();
        Ok(names)
    }

    /// `GET /v1/ceremony/messages/{name}`: a ceremony message's bytes, `None` when it is not
    /// published.
    ///
    /// # Errors
    /// [`ClientError::Config`] when `name` is not a message name.
    pub fn ceremony_message(&self, name: &str) -> Result<Option<Vec<u8>>, ClientError> {
        crate::messages::validate_name(name)
            .map_err(|error| ClientError::Config(error.to_string()))?;
        let what = format!("GET /v1/ceremony/messages/{name}");
        let response = self.send(self.client.get(self.url(&what)))?;
        if response.status() == StatusCode::NOT_FOUND {
            // Only the service's own "no such message" means absent; any other 404 (a wrong
            // base URL, a proxy) is an error.
            return match self.error(response) {
                ClientError::Api { code, .. } if code == "not_found" => Ok(None),
                error => Err(error),
            };
        }
        let response = self.success(response)?;
        self.body(&what, response, MAX_DOCUMENT).map(Some)
    }

    // ---- Administrative routes --------------------------------------------------------------

    /// `POST /v1/election` (admin): creates the election from `manifest`. Returns the election
    /// and whether it was created now (`false`: it already existed with this very manifest).
    pub fn create(&self, manifest: &Manifest) -> Result<(ElectionInfo, bool), ClientError> {
        let what = "POST /v1/election";
        let body = CreateElection {
            manifest: manifest.clone(),
        };
        let response = self.send(self.admin(self.client.post(self.url(what))).json(&body))?;
        self.created_json(what, response)
    }

    /// `PUT /v1/election/credentials` (admin): imports the public credential list a registrar
    /// made offline (`tabella credentials generate`). The same list again answers
    /// `already_imported`; another list is refused (`credentials_exist`).
    pub fn import_credentials(
        &self,
        list: &PublicCredentialList,
    ) -> Result<CredentialsImported, ClientError> {
        let what = "PUT /v1/election/credentials";
        let request = self.admin(self.client.put(self.url(what))).json(list);
        let response = self.send(request)?;
        self.created_json(what, response).map(|(answer, _)| answer)
    }

    /// `POST /v1/election/credentials/replacements` (admin): replaces one credential before
    /// voting opens (`tabella credentials replace` wrote the replacement). The same replacement
    /// again answers `already_applied`.
    pub fn replace_credential(
        &self,
        replacement: &CredentialReplacement,
    ) -> Result<CredentialReplaced, ClientError> {
        let what = "POST /v1/election/credentials/replacements";
        let request = self
            .admin(self.client.post(self.url(what)))
            .json(replacement);
        let response = self.send(request)?;
        self.created_json(what, response).map(|(answer, _)| answer)
    }

    /// `POST /v1/election/open` (admin): opens voting (idempotent).
    pub fn open(&self) -> Result<ElectionInfo, ClientError> {
        self.admin_post("POST /v1/election/open")
    }

    /// `POST /v1/election/close` (admin): closes voting (idempotent); the counted ballots are
    /// then verified and aggregated in the background ([`Self::wait_for_aggregation`]).
    pub fn close(&self) -> Result<ElectionInfo, ClientError> {
        self.admin_post("POST /v1/election/close")
    }

    /// `POST /v1/election/tally` (admin): combines the trustees' partial decryptions and
    /// publishes the results (idempotent).
    pub fn tally(&self) -> Result<Results, ClientError> {
        self.admin_post("POST /v1/election/tally")
    }

    /// Polls [`Self::election`] every 250 ms until the aggregation of a closed election is
    /// complete, calling `progress` with each answer, and returns the last election info.
    ///
    /// There is no overall time limit while the work advances.
    ///
    /// # Errors
    /// [`ClientError::Stalled`] when nothing advances for 10 minutes,
    /// [`ClientError::NotClosed`] when the election is in setup or open, and any error of
    /// [`Self::election`].
    pub fn wait_for_aggregation(
        &self,
        progress: impl Fn(&Aggregation),
    ) -> Result<ElectionInfo, ClientError> {
        let mut last: Option<Aggregation> = None;
        let mut last_change = Instant::now();
        loop {
            let info = self.election()?;
            match info.state {
                ElectionState::Setup | ElectionState::Open => {
                    return Err(ClientError::NotClosed { state: info.state })
                }
                ElectionState::Tallied => {
                    if let Some(aggregation) = &info.aggregation {
                        progress(aggregation);
                    }
                    return Ok(info);
                }
                ElectionState::Closed => {}
            }
            if let Some(aggregation) = info.aggregation {
                progress(&aggregation);
                if aggregation.complete {
                    return Ok(info);
                }
                if last != Some(aggregation) {
                    last = Some(aggregation);
                    last_change = Instant::now();
                }
            }
            let waited = last_change.elapsed();
            if waited >= STALL_TIMEOUT {
                let (done, total) = last.map_or((0, 0), |a| (a.done, a.total));
                return Err(ClientError::Stalled {
                    done,
                    total,
                    waited,
                });
            }
            std::thread::sleep(POLL_INTERVAL);
        }
    }

    /// `GET /v1/anchoring`: the service's anchoring on chain: the queue, its transactions and
    /// its lag.
    pub fn anchoring(&self) -> Result<crate::api::AnchoringStatus, ClientError> {
        self.get_json("/v1/anchoring")
    }

    /// `GET /v1/record/anchors.json`: the record's `anchors.json`; `None` when the service
    /// does not anchor (`404 not_anchored`).
    pub fn anchors(&self) -> Result<Option<tabella_crypto::record::Anchors>, ClientError> {
        let what = "GET /v1/record/anchors.json";
        let response = self.send(self.client.get(self.url(what)))?;
        if response.status() == StatusCode::NOT_FOUND {
            return match self.error(response) {
                ClientError::Api { code, .. } if code == "not_anchored" => Ok(None),
                error => Err(error),
            };
        }
        let response = self.success(response)?;
        let bytes = self.body(what, response, MAX_DOCUMENT)?;
        serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| ClientError::Decode {
                what: what.to_string(),
                detail: e.to_string(),
            })
    }

    /// `GET /v1/record/{path}`: a document of the election record of a tallied election, byte
    /// for byte (`record.json` and every file it lists; spec/api.md §4.8).
    ///
    /// # Errors
    /// [`ClientError::Config`] for a path with an empty, `.` or `..` part; the service's refusal
    /// (`409 not_tallied` before the tally, `404 not_found` for a path the record does not
    /// list).
    pub fn record_document(&self, path: &str) -> Result<Vec<u8>, ClientError> {
        if !relative_path(path) {
            return Err(ClientError::Config(format!(
                "{path:?} is not a path of an election record"
            )));
        }
        let what = format!("GET /v1/record/{path}");
        let response = self.send(self.client.get(self.url(&what)))?;
        let response = self.success(response)?;
        self.body(&what, response, MAX_DOCUMENT)
    }

    /// `GET /v1/admin/status` (admin): the election, turnout, ceremonies, anchoring and booth
    /// (spec/api.md §13).
    pub fn admin_status(&self) -> Result<crate::api::AdminStatus, ClientError> {
        let what = "GET /v1/admin/status";
        let response = self.send(self.admin(self.client.get(self.url(what))))?;
        self.created_json(what, response).map(|(status, _)| status)
    }

    /// `GET /{path}`: a file of the web ballot the service serves (`booth.json`, `index.html`,
    /// `app/…`; spec/booth.md), as bytes, at most 64 MiB.
    ///
    /// # Errors
    /// [`ClientError::Config`] for a path that is not a booth path (spec/booth.md §1); the
    /// service's refusal (`404 no_route` when it serves no booth, or not this file).
    pub fn booth_file(&self, path: &str) -> Result<Vec<u8>, ClientError> {
        const MAX_BOOTH_FILE: u64 = 64 * 1024 * 1024;
        if !relative_path(path) {
            return Err(ClientError::Config(format!(
                "{path:?} is not a path of a booth file"
            )));
        }
        let what = format!("GET /{path}");
        let response = self.send(self.client.get(self.url(&what)))?;
        let response = self.success(response)?;
        self.body(&what, response, MAX_BOOTH_FILE)
    }

    // ---- Plumbing ---------------------------------------------------------------------------

    /// The URL of a route given as `"METHOD /path"` or `"/path"`.
    fn url(&self, route: &str) -> String {
        let path = route.split_once(' ').map_or(route, |(_, path)| path);
        format!("{}{path}", self.base)
    }

    fn admin(&self, request: RequestBuilder) -> RequestBuilder {
        match &self.admin_token {
            Some(token) => {
                request.header(AUTHORIZATION, format!("Bearer {}", token.expose_secret()))
            }
            None => request,
        }
    }

    fn admin_post<T: DeserializeOwned>(&self, what: &str) -> Result<T, ClientError> {
        let response = self.send(self.admin(self.client.post(self.url(what))))?;
        self.created_json(what, response).map(|(value, _)| value)
    }

    fn get_json<T: DeserializeOwned>(&self, path: &str) -> Result<T, ClientError> {
        let what = format!("GET {path}");
        let response = self.send(self.client.get(self.url(path)))?;
        self.created_json(&what, response).map(|(value, _)| value)
    }

    fn send(&self, request: RequestBuilder) -> Result<Response, ClientError> {
        request.send().map_err(|error| self.unreachable(error))
    }

    /// The response when it is a success, the error it carries otherwise.
    fn success(&self, response: Response) -> Result<Response, ClientError> {
        if response.status().is_success() {
            Ok(response)
        } else {
            Err(self.error(response))
        }
    }

    /// A successful answer parsed as `T`, and whether its status was `201 Created`.
    fn created_json<T: DeserializeOwned>(
        &self,
        what: &str,
        response: Response,
    ) -> Result<(T, bool), ClientError> {
        let response = self.success(response)?;
        let created = response.status() == StatusCode::CREATED;
        let bytes = self.body(what, response, MAX_DOCUMENT)?;
        let value = serde_json::from_slice(&bytes).map_err(|error| ClientError::Decode {
            what: what.to_string(),
            detail: error.to_string(),
        })?;
        Ok((value, created))
    }

    /// The body of `response`, at most `limit` bytes.
    fn body(&self, what: &str, response: Response, limit: u64) -> Result<Vec<u8>, ClientError> {
        let mut bytes = Vec::new();
        response
            .take(limit + 1)
            .read_to_end(&mut bytes)
            .map_err(|error| {
                self.unreachable_detail(format!(
                    "the answer to {what} was cut off: {}",
                    error_chain(&error)
                ))
            })?;
        if bytes.len() as u64 > limit {
            return Err(ClientError::Decode {
                what: what.to_string(),
                detail: format!("it is larger than {limit} bytes"),
            });
        }
        Ok(bytes)
    }

    /// The error an unsuccessful answer carries.
    fn error(&self, response: Response) -> ClientError {
        let status = response.status();
        let mut bytes = Vec::new();
        // A body cut off here still leaves what arrived to show.
        let _ = response.take(MAX_ERROR_BODY).read_to_end(&mut bytes);
        error_from_answer(&self.base, status.as_u16(), &bytes)
    }

    /// The error for a request that got no (complete) answer.
    fn unreachable(&self, error: reqwest::Error) -> ClientError {
        self.unreachable_detail(transport_detail(&error))
    }

    fn unreachable_detail(&self, detail: String) -> ClientError {
        ClientError::Unreachable {
            url: self.base.clone(),
            detail,
        }
    }
}

/// The error of an unsuccessful answer with `status` and `body`: the service's own error
/// document when the body is one, [`ClientError::UnexpectedAnswer`] otherwise.
fn error_from_answer(base: &str, status: u16, body: &[u8]) -> ClientError {
    if let Ok(ErrorBody { error, message }) = serde_json::from_slice::<ErrorBody>(body) {
        if !error.is_empty() {
            return ClientError::Api {
                status,
                code: error,
                message,
            };
        }
    }
    let text = String::from_utf8_lossy(body);
    let text: String = text
        .trim()
        .chars()
        .take(200)
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let reason = StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .map(|r| format!(" ({r})"))
        .unwrap_or_default();
    let detail = if text.is_empty() {
        format!("an empty body{reason}")
    } else {
        format!("{text:?}{reason}")
    };
    ClientError::UnexpectedAnswer {
        url: base.to_string(),
        status,
        detail,
    }
}

/// What went wrong with a request that got no answer, in words a person understands.
fn transport_detail(error: &reqwest::Error) -> String {
    if error.is_timeout() {
        return "it did not answer in time".to_string();
    }
    let mut source = std::error::Error::source(error);
    let mut deepest: Option<String> = None;
    while let Some(cause) = source {
        if let Some(io) = cause.downcast_ref::<std::io::Error>() {
            use std::io::ErrorKind;
            let text = match io.kind() {
                ErrorKind::ConnectionRefused => {
                    "connection refused (is the service running, and is the address right?)"
                        .to_string()
                }
                ErrorKind::ConnectionReset => "the connection was reset".to_string(),
                ErrorKind::ConnectionAborted => "the connection was aborted".to_string(),
                ErrorKind::TimedOut => "it did not answer in time".to_string(),
                _ => io.to_string(),
            };
            return text;
        }
        deepest = Some(cause.to_string());
        source = cause.source();
    }
    match deepest {
        Some(text) if error.is_connect() => text,
        _ => error_chain(error),
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

/// Whether `path` is a plain relative path the service's document routes can name: parts of
/// `a-z A-Z 0-9 . _ -` separated by `/`, none empty, `.` or `..`.
fn relative_path(path: &str) -> bool {
    !path.is_empty()
        && path
            .split('/')
            .all(|part| !part.is_empty() && part != "." && part != "..")
        && path
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-' | b'/'))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn http_and_https_urls_with_a_host_are_accepted() {
        for (url, base) in [
            ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
            ("http://127.0.0.1:8080/", "http://127.0.0.1:8080"),
            ("https://vote.example.org//", "https://vote.example.org"),
            (
                "https://vote.example.org/election/",
                "https://vote.example.org/election",
            ),
            (" http://localhost:3000 ", "http://localhost:3000"),
        ] {
            assert_eq!(validate_base_url(url).unwrap(), base, "{url}");
            assert_eq!(ElectionClient::new(url, None).unwrap().base_url(), base);
        }
    }

    #[test]
    fn urls_that_are_not_a_service_address_are_refused() {
        for url in [
            "",
            "127.0.0.1:8080",
            "localhost",
            "ftp://example.org",
            "file:///tmp/x",
            "http://",
            "https://example.org/?x=1",
            "https://example.org/#top",
        ] {
            let error = ElectionClient::new(url, None).unwrap_err();
            assert!(matches!(error, ClientError::Config(_)), "{url}: {error:?}");
            assert!(error.to_string().contains("http://host:port"), "{error}");
        }
    }

    #[test]
    fn debug_never_shows_the_admin_token() {
        let client =
            ElectionClient::new("http://127.0.0.1:1", Some("hunter2-secret".into())).unwrap();
        assert!(client.has_admin_token());
        let debug = format!("{client:?}");
        assert!(!debug.contains("hunter2"), "{debug}");
        assert!(debug.contains("<redacted>"), "{debug}");
        // An empty token is no token.
        let client = ElectionClient::new("http://127.0.0.1:1", Some(String::new())).unwrap();
        assert!(!client.has_admin_token());
    }

    #[test]
    fn service_refusals_show_the_message_and_the_code() {
        let body = br#"{"error":"election_not_open","message":"voting is not open"}"#;
        let error = error_from_answer("http://x", 409, body);
        assert_eq!(
            error.to_string(),
            "the service refused: voting is not open (election_not_open)"
        );
        assert_eq!(error.code(), Some("election_not_open"));
        assert_eq!(error.status(), Some(409));
    }

    #[test]
    fn answers_that_are_not_the_service_still_give_a_clear_error() {
        let error = error_from_answer("http://x", 502, b"<html>\n<body>Bad Gateway</body></html>");
        let text = error.to_string();
        assert_eq!(error.code(), None);
        assert_eq!(error.status(), Some(502));
        assert!(text.contains("HTTP 502"), "{text}");
        assert!(text.contains("Bad Gateway"), "{text}");
        assert!(
            text.contains("is this a Tabella election service?"),
            "{text}"
        );
        assert!(!text.contains('\n'), "{text}");

        let error = error_from_answer("http://x", 404, b"");
        assert!(
            error.to_string().contains("an empty body (Not Found)"),
            "{error}"
        );
        // JSON, but not the error document.
        let error = error_from_answer("http://x", 500, br#"{"oops":1}"#);
        assert!(
            matches!(error, ClientError::UnexpectedAnswer { .. }),
            "{error:?}"
        );
        // A long body is cut.
        let error = error_from_answer("http://x", 500, &[b'a'; 10_000]);
        assert!(error.to_string().len() < 400, "{error}");
    }

    #[test]
    fn unreachable_service_says_so() {
        // Nothing listens on port 1 of the loopback address.
        let client = ElectionClient::new("http://127.0.0.1:1", None).unwrap();
        let error = client.election().unwrap_err();
        let text = error.to_string();
        assert!(
            matches!(error, ClientError::Unreachable { .. }),
            "{error:?}"
        );
        assert!(
            text.starts_with("could not reach the election service at http://127.0.0.1:1: "),
            "{text}"
        );
        assert!(text.contains("connection refused"), "{text}");
        assert_eq!(error.code(), None);
    }

    #[test]
    fn other_errors_read_well() {
        let error = ClientError::Decode {
            what: "GET /v1/election".into(),
            detail: "missing field `state`".into(),
        };
        assert_eq!(
            error.to_string(),
            "the election service's answer to GET /v1/election is not readable: missing field \
             `state`"
        );
        let error = ClientError::Stalled {
            done: 3,
            total: 10,
            waited: Duration::from_secs(600),
        };
        assert!(error
            .to_string()
            .contains("no progress for 10 minutes (3 of 10 done)"));
        let error = ClientError::NotClosed {
            state: ElectionState::Open,
        };
        assert_eq!(
            error.to_string(),
            "the election is open, not closed: nothing is being aggregated"
        );
    }

    #[test]
    fn routes_become_urls() {
        let client = ElectionClient::new("http://h:1/base/", None).unwrap();
        assert_eq!(
            client.url("GET /v1/election"),
            "http://h:1/base/v1/election"
        );
        assert_eq!(
            client.url("/v1/board/head"),
            "http://h:1/base/v1/board/head"
        );
    }
}
