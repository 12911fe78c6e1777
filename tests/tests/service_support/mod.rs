#![allow(clippy::unwrap_used)]
//! Fixtures of the election service tests (`tests/service.rs`, `tests/service_web.rs`): a database of either backend,
//! the service driven in process (`app(state).oneshot(request)`) or over real HTTP
//! (`service::spawn`), an election with its key ceremony and roll, voters and their ballots, and
//! snapshots of everything a refused ballot must leave unchanged.

use std::future::Future;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode};
use axum::Router;
use base64::Engine as _;
use secrecy::SecretString;
use serde::de::DeserializeOwned;
use serde::Serialize;
use tabella_crypto::ballot::{Ballot, BallotSecrets, ElectionContext, ElectionId, SpoiledBallot};
use tabella_crypto::board::receipt::{BoardKey, BoardSigningKey};
use tabella_crypto::ceremony::{
    check_shares, deal, finalize, partial_decrypt, CeremonyOutcome, CeremonyParams, CheckMessage,
    DealerMessage, KeyShare, PartialDecryptionMessage, TallyRequest, TrusteeIdentity,
};
use tabella_crypto::credential::{CredentialCode, CredentialSecret};
use tabella_crypto::manifest::Manifest;
use tabella_tally::api::{
    AnchorKind, AnchorState, AnchoringStatus, BoardCounts, BoardPage, ElectionInfo, EntryStatus,
    ErrorBody, IssuedCredential, PublicCredentialList, Results,
};
use tabella_tally::client::ElectionClient;
use tabella_tally::messages::HttpStore;
use tabella_tally::service::anchor::contracts::{Chain, Signer};
use tabella_tally::service::{
    self, AnchorConfig, AppState, Backend, ChainSpec, Limits, RunningService, ServiceConfig,
};
use tabella_tests::postgres::{database_or_skip, TestDatabase};
use tower::ServiceExt as _;

/// Generates, for each test body, one `#[test]` per backend: `sqlite::name` and
/// `postgres::name`. `async` bodies take the database and run on a multi-threaded runtime;
/// `sync` bodies (real HTTP with blocking clients) run on the test's own thread. The bodies,
/// [`run_async`], [`run_sync`] and [`Backend`] must be in scope where it is used.
macro_rules! both_backends {
    (async: [$($a:ident),* $(,)?], sync: [$($s:ident),* $(,)?] $(,)?) => {
        mod sqlite {
            $(#[test] fn $a() { super::run_async(super::Backend::Sqlite, stringify!($a), super::$a) })*
            $(#[test] fn $s() { super::run_sync(super::Backend::Sqlite, stringify!($s), super::$s) })*
        }
        mod postgres {
            $(#[test] fn $a() { super::run_async(super::Backend::Postgres, stringify!($a), super::$a) })*
            $(#[test] fn $s() { super::run_sync(super::Backend::Postgres, stringify!($s), super::$s) })*
        }
    };
}

pub(crate) use both_backends;

/// The officials' token of every test service.
pub const TOKEN: &str = "officials-test-token-7c1f";

/// The test election: one plurality contest of three selections.
pub const MANIFEST: &str = r#"{"title":"Service test election","contests":[
  {"id":"mayor","title":"Mayor","style":{"type":"plurality"},
   "selections":[{"id":"ada","label":"Ada"},{"id":"grace","label":"Grace"},{"id":"edsger","label":"Edsger"}]}]}"#;

/// Another manifest (a different title), for `election_exists`.
pub const OTHER_MANIFEST: &str = r#"{"title":"Another election","contests":[
  {"id":"mayor","title":"Mayor","style":{"type":"plurality"},
   "selections":[{"id":"ada","label":"Ada"},{"id":"grace","label":"Grace"},{"id":"edsger","label":"Edsger"}]}]}"#;

/// The test manifest.
pub fn manifest() -> Manifest {
    Manifest::from_json(MANIFEST).unwrap()
}

/// The other manifest.
pub fn other_manifest() -> Manifest {
    Manifest::from_json(OTHER_MANIFEST).unwrap()
}

/// The plurality choice vector for selection `selection` of the test contest.
pub fn choice(selection: usize) -> Vec<Vec<u64>> {
    let mut v = vec![0; 3];
    v[selection] = 1;
    vec![v]
}

// ---------------------------------------------------------------------------------------------
// Databases and runners

/// A test's database: where it is, of which backend.
#[derive(Clone, Debug)]
pub struct Db {
    /// SQLite or PostgreSQL.
    pub backend: Backend,
    /// The URL the service connects to.
    pub url: String,
}

/// What keeps a test's database alive: the SQLite file's directory, or the PostgreSQL database
/// (dropped with it).
pub struct Guard {
    _sqlite: Option<tempfile::TempDir>,
    _postgres: Option<TestDatabase>,
}

/// A fresh, empty database of `backend` for `test`; `None` when PostgreSQL is unavailable
/// (the harness then prints that the test was skipped, or panics in CI).
pub fn database(backend: Backend, test: &str) -> Option<(Db, Guard)> {
    match backend {
        Backend::Sqlite => {
            let dir = tempfile::Builder::new()
                .prefix("tabella-service-test-")
                .tempdir()
                .unwrap();
            let url = service::sqlite_url(dir.path());
            let guard = Guard {
                _sqlite: Some(dir),
                _postgres: None,
            };
            Some((Db { backend, url }, guard))
        }
        Backend::Postgres => {
            let database = database_or_skip(test)?;
            let url = database.url().to_owned();
            let guard = Guard {
                _sqlite: None,
                _postgres: Some(database),
            };
            Some((Db { backend, url }, guard))
        }
    }
}

/// Runs an async test body on a multi-threaded runtime (the service blocks on the runtime from
/// blocking threads for its ceremony store, which a current-thread runtime could deadlock).
pub fn run_async<F, Fut>(backend: Backend, test: &str, body: F)
where
    F: FnOnce(Db) -> Fut,
    Fut: Future<Output = ()>,
{
    let Some((db, guard)) = database(backend, test) else {
        return;
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(body(db));
    // Every connection closes with the runtime, before the database goes.
    runtime.shutdown_timeout(Duration::from_secs(10));
    drop(guard);
}

/// Runs a blocking test body (real HTTP with blocking clients: no runtime on this thread).
pub fn run_sync(backend: Backend, test: &str, body: fn(Db)) {
    let Some((db, guard)) = database(backend, test) else {
        return;
    };
    body(db);
    drop(guard);
}

/// The seed of a fresh board signing key (kept to start the service again with the same key).
pub fn board_seed() -> [u8; 32] {
    *BoardSigningKey::generate(&mut rand::rngs::OsRng).expose_secret()
}

/// The service configuration for `db`, anchoring off.
pub fn config(db: &Db, seed: &[u8; 32]) -> ServiceConfig {
    ServiceConfig {
        database_url: db.url.clone(),
        board_key: BoardSigningKey::from_bytes(seed).unwrap(),
        admin_token: Some(SecretString::from(TOKEN.to_owned())),
        limits: Limits::default(),
        anchoring: None,
        booth: None,
    }
}

// ---------------------------------------------------------------------------------------------
// The service in process

/// An answer of the service.
#[derive(Debug)]
pub struct Answer {
    /// Its status.
    pub status: StatusCode,
    /// Its headers.
    pub headers: HeaderMap,
    /// Its body.
    pub body: Vec<u8>,
}

impl Answer {
    /// The body as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body parsed as `T`.
    #[track_caller]
    pub fn json<T: DeserializeOwned>(&self) -> T {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "the answer ({}) is not the expected document: {e}: {}",
                self.status,
                self.text()
            )
        })
    }

    /// The error code, when the body is an error document.
    pub fn error_code(&self) -> Option<String> {
        serde_json::from_slice::<ErrorBody>(&self.body)
            .ok()
            .map(|e| e.error)
    }

    /// Asserts the status; returns the answer.
    #[track_caller]
    pub fn expect(self, status: u16) -> Self {
        assert_eq!(
            self.status.as_u16(),
            status,
            "unexpected answer: {}",
            self.text()
        );
        self
    }

    /// Asserts an error answer: its status, its code, and a message for people.
    #[track_caller]
    pub fn expect_error(&self, status: u16, code: &str) {
        assert_eq!(
            (self.status.as_u16(), self.error_code().as_deref()),
            (status, Some(code)),
            "unexpected answer: {}",
            self.text()
        );
        let body: ErrorBody = self.json();
        assert!(!body.message.is_empty(), "an error has a message");
    }
}

/// The service in process, driven through its router.
pub struct Service {
    /// Its state (database, metrics).
    pub state: Arc<AppState>,
    router: Router,
    /// The board's public key.
    pub board_key: BoardKey,
}

impl Service {
    /// Starts the service on `db` with a fresh board key.
    pub async fn start(db: &Db) -> Self {
        Self::start_with_booth(db, None).await
    }

    /// Starts the service on `db` with a fresh board key, serving `booth`.
    pub async fn start_with_booth(db: &Db, booth: Option<service::Booth>) -> Self {
        let seed = board_seed();
        let mut config = config(db, &seed);
        config.booth = booth;
        let state = AppState::start(config).await.unwrap();
        let board_key = state.key.public();
        Self {
            router: service::app(Arc::clone(&state)),
            state,
            board_key,
        }
    }

    /// Sends a request.
    pub async fn request(
        &self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: Vec<u8>,
    ) -> Answer {
        let mut request = Request::builder().method(method).uri(path);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = self
            .router
            .clone()
            .oneshot(request.body(Body::from(body)).unwrap())
            .await
            .unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let body = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap()
            .to_vec();
        Answer {
            status,
            headers,
            body,
        }
    }

    /// `GET path`.
    pub async fn get(&self, path: &str) -> Answer {
        self.request(Method::GET, path, &[], Vec::new()).await
    }

    /// `POST path` with a JSON body, no token.
    pub async fn post_json(&self, path: &str, value: &impl Serialize) -> Answer {
        self.post_raw(path, serde_json::to_vec(value).unwrap())
            .await
    }

    /// `POST path` with `body` as JSON, no token.
    pub async fn post_raw(&self, path: &str, body: Vec<u8>) -> Answer {
        self.request(
            Method::POST,
            path,
            &[("content-type", "application/json")],
            body,
        )
        .await
    }

    /// An administrative `POST` with the officials' token.
    pub async fn admin_post(&self, path: &str, content_type: &str, body: Vec<u8>) -> Answer {
        let bearer = format!("Bearer {TOKEN}");
        self.request(
            Method::POST,
            path,
            &[("content-type", content_type), ("authorization", &bearer)],
            body,
        )
        .await
    }

    /// An administrative `PUT` of a JSON document with the officials' token.
    pub async fn admin_put_json(&self, path: &str, value: &impl Serialize) -> Answer {
        let bearer = format!("Bearer {TOKEN}");
        self.request(
            Method::PUT,
            path,
            &[
                ("content-type", "application/json"),
                ("authorization", &bearer),
            ],
            serde_json::to_vec(value).unwrap(),
        )
        .await
    }

    /// `PUT /v1/ceremony/messages/{name}`, with the officials' token when `admin`.
    pub async fn put_message(&self, name: &str, value: &impl Serialize, admin: bool) -> Answer {
        let bearer = format!("Bearer {TOKEN}");
        let mut headers = vec![("content-type", "application/json")];
        if admin {
            headers.push(("authorization", &bearer));
        }
        self.request(
            Method::PUT,
            &format!("/v1/ceremony/messages/{name}"),
            &headers,
            serde_json::to_vec_pretty(value).unwrap(),
        )
        .await
    }

    /// `GET /v1/election`.
    pub async fn info(&self) -> ElectionInfo {
        self.get("/v1/election").await.expect(200).json()
    }

    /// The Prometheus text of `GET /metrics`.
    pub async fn metrics(&self) -> String {
        self.get("/metrics").await.expect(200).text()
    }

    /// Every board entry, by index (through the pages).
    pub async fn all_entries(&self) -> Vec<tabella_tally::api::BoardEntry> {
        let mut entries = Vec::new();
        let mut start = Some(0);
        while let Some(s) = start {
            let page: BoardPage = self
                .get(&format!("/v1/board/entries?start={s}&limit=1000"))
                .await
                .expect(200)
                .json();
            entries.extend(page.entries);
            start = page.next;
        }
        entries
    }

    /// What a refused ballot must leave as it is.
    pub async fn snapshot(&self) -> Snapshot {
        let head: tabella_crypto::board::receipt::SignedTreeHead =
            self.get("/v1/board/head").await.expect(200).json();
        let counts = match self.get("/v1/election").await {
            answer if answer.status == StatusCode::OK => answer.json::<ElectionInfo>().board,
            _ => BoardCounts::default(),
        };
        let metrics = self.metrics().await;
        let entries: Vec<(String, EntryStatus)> = self
            .all_entries()
            .await
            .into_iter()
            .map(|e| (e.tracking_code.to_string(), e.status))
            .collect();
        let snapshot = Snapshot {
            size: head.head.size,
            root: head.head.root,
            counts,
            accepted_cast: metric(&metrics, r#"tabella_ballots_accepted_total{kind="cast"}"#),
            accepted_spoiled: metric(
                &metrics,
                r#"tabella_ballots_accepted_total{kind="spoiled"}"#,
            ),
            board_size_metric: metric(&metrics, "tabella_board_size"),
            entries,
        };
        // The board, its counts and its metrics agree.
        assert_eq!(snapshot.entries.len() as u64, snapshot.size);
        assert_eq!(snapshot.board_size_metric, snapshot.size);
        assert_eq!(snapshot.counts.size, snapshot.size);
        snapshot
    }

    /// The count of ballots refused with `reason`.
    pub async fn rejected(&self, reason: &str) -> u64 {
        metric(
            &self.metrics().await,
            &format!("tabella_ballots_rejected_total{{reason=\"{reason}\"}}"),
        )
    }
}

/// The value of the sample `series` (name and labels, exactly as exposed) in Prometheus text;
/// 0 when absent (a counter never incremented).
pub fn metric(text: &str, series: &str) -> u64 {
    text.lines()
        .find_map(|line| {
            let rest = line.strip_prefix(series)?;
            let value = rest.strip_prefix(' ')?.split_whitespace().next()?;
            Some(value.parse::<f64>().unwrap() as u64)
        })
        .unwrap_or(0)
}

/// The board and its counts, as a refused ballot must leave them.
#[derive(Debug, PartialEq, Eq)]
pub struct Snapshot {
    /// The board's size.
    pub size: u64,
    /// Its root.
    pub root: [u8; 32],
    /// `ElectionInfo.board`.
    pub counts: BoardCounts,
    /// Ballots accepted, cast.
    pub accepted_cast: u64,
    /// Ballots accepted, spoiled.
    pub accepted_spoiled: u64,
    /// `tabella_board_size`.
    pub board_size_metric: u64,
    /// Each entry's tracking code and status.
    pub entries: Vec<(String, EntryStatus)>,
}

// ---------------------------------------------------------------------------------------------
// Trustees, voters, ballots

/// The trustees of a key ceremony, with every message computed in process.
pub struct Trustees {
    /// Their identity keys.
    pub identities: Vec<TrusteeIdentity>,
    /// The ceremony.
    pub params: CeremonyParams,
    /// Round 1.
    pub dealers: Vec<DealerMessage>,
    /// Round 2.
    pub checks: Vec<CheckMessage>,
}

impl Trustees {
    /// `n` trustees, threshold `t`, for `election`: announcements, dealing and checking.
    pub fn new(election: ElectionId, n: usize, t: u32) -> Self {
        let rng = &mut rand::rngs::OsRng;
        let identities: Vec<TrusteeIdentity> =
            (0..n).map(|_| TrusteeIdentity::generate(rng)).collect();
        let announcements = identities
            .iter()
            .enumerate()
            .map(|(i, id)| id.announce(election, &format!("Trustee {}", i + 1), rng))
            .collect::<Result<Vec<_>, _>>()
            .unwrap();
        let params = CeremonyParams::new(election, t, announcements, rng).unwrap();
        let dealers: Vec<DealerMessage> = identities
            .iter()
            .map(|id| deal(&params, id, rng).unwrap())
            .collect();
        let checks = identities
            .iter()
            .map(|id| check_shares(&params, id, &dealers, rng).unwrap().0)
            .collect();
        Self {
            identities,
            params,
            dealers,
            checks,
        }
    }

    /// The ceremony's outcome (its joint key).
    pub fn outcome(&self) -> CeremonyOutcome {
        finalize(
            &self.params,
            &self.dealers,
            &self.checks,
            &mut rand::rngs::OsRng,
        )
        .unwrap()
    }

    /// Trustee `index`'s (1-based) partial decryption of `request`.
    pub fn partial(&self, index: usize, request: &TallyRequest) -> PartialDecryptionMessage {
        let outcome = self.outcome();
        let identity = &self.identities[index - 1];
        let share = KeyShare::derive(&self.params, &outcome, &self.dealers, identity).unwrap();
        partial_decrypt(
            &self.params,
            &outcome,
            request,
            identity,
            &share,
            &mut rand::rngs::OsRng,
            |_| {},
        )
        .unwrap()
    }
}

/// The credential secrets of issued codes, each derived (Argon2id) on first use.
pub struct Voters {
    election: ElectionId,
    /// The issued codes, in roll order.
    pub codes: Vec<IssuedCredential>,
    secrets: Vec<OnceLock<CredentialSecret>>,
}

impl Voters {
    /// The voters holding `codes` in `election`.
    pub fn new(election: ElectionId, codes: Vec<IssuedCredential>) -> Self {
        let secrets = codes.iter().map(|_| OnceLock::new()).collect();
        Self {
            election,
            codes,
            secrets,
        }
    }

    /// Voter `i`'s credential secret, derived from the code on their letter.
    pub fn secret(&self, i: usize) -> &CredentialSecret {
        self.secrets[i].get_or_init(|| {
            let code = CredentialCode::parse(&self.codes[i].code).unwrap();
            CredentialSecret::derive(&code, &self.election.0)
        })
    }

    /// Derives every voter's secret, on two threads.
    pub fn derive_all(&self) {
        std::thread::scope(|scope| {
            for half in [0, 1] {
                scope.spawn(move || {
                    for i in (half..self.codes.len()).step_by(2) {
                        self.secret(i);
                    }
                });
            }
        });
    }

    /// Number of voters.
    pub fn len(&self) -> usize {
        self.codes.len()
    }
}

/// `n` voters' credentials as a registrar makes them off the server: a code drawn for each
/// (`voter-001` …), its key derived (Argon2id, on two threads), and the public credential list
/// to upload.
pub fn registrar(election: ElectionId, n: usize) -> (Voters, PublicCredentialList) {
    let codes = (1..=n)
        .map(|i| IssuedCredential {
            voter_id: format!("voter-{i:03}"),
            code: CredentialCode::generate(&mut rand::rngs::OsRng)
                .expose_secret()
                .to_owned(),
        })
        .collect();
    let voters = Voters::new(election, codes);
    voters.derive_all();
    let list = PublicCredentialList::new(election, (0..n).map(|i| voters.secret(i).public()));
    (voters, list)
}

/// A ballot of `credential` for `selection`, and its secrets.
pub fn encrypt(
    ctx: &ElectionContext,
    credential: &CredentialSecret,
    selection: usize,
) -> (Ballot, BallotSecrets) {
    ctx.encrypt_ballot(&choice(selection), credential, &mut rand::rngs::OsRng)
        .unwrap()
}

/// Standard base64 with padding.
pub fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// `{"ballot": …}`.
pub fn cast_body(ballot: &[u8]) -> serde_json::Value {
    serde_json::json!({ "ballot": b64(ballot) })
}

/// `{"ballot": …, "opening": …}`.
pub fn spoil_body(ballot: &[u8], opening: &SpoiledBallot) -> serde_json::Value {
    serde_json::json!({ "ballot": b64(ballot), "opening": opening })
}

// ---------------------------------------------------------------------------------------------
// An election on the in-process service

/// An election on an in-process service: created, key ceremony done, roll imported, and open
/// unless asked otherwise.
pub struct Election {
    /// The service.
    pub service: Service,
    /// The election as last seen (after create, or after open).
    pub info: ElectionInfo,
    /// The trustees.
    pub trustees: Trustees,
    /// The voters.
    pub voters: Voters,
    /// For encrypting ballots (the ceremony's joint key, also before voting opens).
    pub ctx: ElectionContext,
}

impl Election {
    /// Sets up an election with `voters` voters and two trustees (threshold 2), and opens it
    /// when `open`.
    pub async fn new(db: &Db, voters: usize, open: bool) -> Self {
        Self::on(Service::start(db).await, voters, open).await
    }

    /// [`Self::new`] on `service` (where the election may already be created with the test
    /// manifest).
    pub async fn on(service: Service, voters: usize, open: bool) -> Self {
        let created = service
            .admin_post(
                "/v1/election",
                "application/json",
                serde_json::to_vec(&serde_json::json!({ "manifest": manifest() })).unwrap(),
            )
            .await;
        assert!(
            matches!(created.status.as_u16(), 200 | 201),
            "{}",
            created.text()
        );
        let mut info: ElectionInfo = created.json();
        let trustees = Trustees::new(info.election_id, 2, 2);
        service
            .put_message("ceremony.json", &trustees.params, true)
            .await
            .expect(201);
        for (i, m) in trustees.dealers.iter().enumerate() {
            service
                .put_message(&format!("dealer-{}.json", i + 1), m, false)
                .await
                .expect(201);
        }
        for (i, m) in trustees.checks.iter().enumerate() {
            service
                .put_message(&format!("check-{}.json", i + 1), m, false)
                .await
                .expect(201);
        }
        let (registered, list) = registrar(info.election_id, voters);
        let imported: tabella_tally::api::CredentialsImported = service
            .admin_put_json("/v1/election/credentials", &list)
            .await
            .expect(201)
            .json();
        assert_eq!(imported.voters as usize, voters);
        let joint = trustees.outcome().joint_key;
        if open {
            info = service
                .admin_post("/v1/election/open", "application/json", Vec::new())
                .await
                .expect(200)
                .json();
            assert_eq!(info.joint_key, Some(joint));
        }
        // The service's manifest: it may publish the booth the service serves.
        let ctx = ElectionContext::new(info.election_id, info.manifest.clone(), joint).unwrap();
        let voters = registered;
        Self {
            service,
            info,
            trustees,
            voters,
            ctx,
        }
    }

    /// A ballot of voter `i` for `selection`.
    pub fn ballot(&self, i: usize, selection: usize) -> (Ballot, BallotSecrets) {
        encrypt(&self.ctx, self.voters.secret(i), selection)
    }

    /// Casts a ballot.
    pub async fn cast(&self, ballot: &[u8]) -> Answer {
        self.service
            .post_json("/v1/election/ballots", &cast_body(ballot))
            .await
    }

    /// Spoils a ballot.
    pub async fn spoil(&self, ballot: &[u8], opening: &SpoiledBallot) -> Answer {
        self.service
            .post_json("/v1/election/spoiled", &spoil_body(ballot, opening))
            .await
    }

    /// Closes the election, waits for the aggregation, has every trustee decrypt and tallies.
    pub async fn close_and_tally(&self) -> Results {
        self.service
            .admin_post("/v1/election/close", "application/json", Vec::new())
            .await
            .expect(200);
        let started = Instant::now();
        loop {
            let info = self.service.info().await;
            if info.aggregation.is_some_and(|a| a.complete) {
                break;
            }
            assert!(
                started.elapsed() < Duration::from_secs(120),
                "the aggregation does not complete: {:?}",
                info.aggregation
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let request: TallyRequest = self
            .service
            .get("/v1/ceremony/messages/tally-request.json")
            .await
            .expect(200)
            .json();
        for index in 1..=self.trustees.identities.len() {
            let partial = self.trustees.partial(index, &request);
            self.service
                .put_message(&format!("partial-{index}.json"), &partial, false)
                .await
                .expect(201);
        }
        self.service
            .admin_post("/v1/election/tally", "application/json", Vec::new())
            .await
            .expect(200)
            .json()
    }
}

/// The totals of every contest's selections, in manifest order.
pub fn totals(results: &Results) -> Vec<Vec<u64>> {
    results
        .contests
        .iter()
        .map(|c| c.selections.iter().map(|s| s.total).collect())
        .collect()
}

// ---------------------------------------------------------------------------------------------
// An election on a real HTTP service

/// An election on the service running over HTTP (in a background thread with its own runtime),
/// set up through the officials' and trustees' clients; open.
pub struct HttpElection {
    /// The running service.
    pub service: RunningService,
    /// Its database.
    pub db: Db,
    /// The board key's seed, to restart with the same key.
    pub seed: [u8; 32],
    /// The officials' client.
    pub officials: ElectionClient,
    /// The election.
    pub info: ElectionInfo,
    /// The voters.
    pub voters: Voters,
    /// For encrypting ballots.
    pub ctx: ElectionContext,
    /// The trustees (two, both needed to decrypt).
    pub identities: Vec<TrusteeIdentity>,
}

impl HttpElection {
    /// Spawns the service on `db` and sets up an open election of `voters` voters with two
    /// trustees, over HTTP.
    pub fn new(db: &Db, voters: usize) -> Self {
        Self::with_anchoring(db, voters, None)
    }

    /// [`Self::new`], with the service anchoring as `anchoring` says.
    pub fn with_anchoring(db: &Db, voters: usize, anchoring: Option<AnchorConfig>) -> Self {
        let seed = board_seed();
        let mut config = config(db, &seed);
        config.anchoring = anchoring;
        let service = service::spawn(config, "127.0.0.1:0").unwrap();
        let url = service.url();
        let officials = ElectionClient::new(&url, Some(TOKEN.to_owned())).unwrap();
        let (info, created) = officials.create(&manifest()).unwrap();
        assert!(created);
        let rng = &mut rand::rngs::OsRng;
        let identities: Vec<TrusteeIdentity> =
            (0..2).map(|_| TrusteeIdentity::generate(rng)).collect();
        let announcements = identities
            .iter()
            .enumerate()
            .map(|(i, id)| id.announce(info.election_id, &format!("Trustee {}", i + 1), rng))
            .collect::<Result<Vec<_>, _>>()
            .unwrap();
        let params = CeremonyParams::new(info.election_id, 2, announcements, rng).unwrap();
        let officials_store = HttpStore::new(&url, Some(TOKEN.to_owned())).unwrap();
        tabella_tally::ceremony::publish(&officials_store, "ceremony.json", &params).unwrap();
        for identity in &identities {
            let store = HttpStore::new(&url, None).unwrap();
            tabella_tally::trustee::deal_step(&store, identity).unwrap();
        }
        for identity in &identities {
            let store = HttpStore::new(&url, None).unwrap();
            tabella_tally::trustee::check_step(&store, identity, 0).unwrap();
        }
        let (voters, list) = registrar(info.election_id, voters);
        officials.import_credentials(&list).unwrap();
        let info = officials.open().unwrap();
        let ctx =
            ElectionContext::new(info.election_id, manifest(), info.joint_key.unwrap()).unwrap();
        Self {
            service,
            db: db.clone(),
            seed,
            officials,
            info,
            voters,
            ctx,
            identities,
        }
    }

    /// Stops the service and starts it again on the same database with the same board key.
    pub fn restart(self) -> Self {
        self.restart_with(None)
    }

    /// Stops the service and starts it again on the same database with the same board key,
    /// anchoring as `anchoring` says.
    pub fn restart_with(self, anchoring: Option<AnchorConfig>) -> Self {
        let Self {
            service,
            db,
            seed,
            info,
            voters,
            ctx,
            identities,
            ..
        } = self;
        service.shutdown().unwrap();
        let mut config = config(&db, &seed);
        config.anchoring = anchoring;
        let service = service::spawn(config, "127.0.0.1:0").unwrap();
        let officials = ElectionClient::new(&service.url(), Some(TOKEN.to_owned())).unwrap();
        Self {
            service,
            db,
            seed,
            officials,
            info,
            voters,
            ctx,
            identities,
        }
    }

    /// Stops the service, runs `sql` on its database (what a crash may leave behind), and
    /// starts it again on the same database with the same board key, anchoring as `anchoring`
    /// says.
    pub fn restart_editing(self, sql: &str, anchoring: Option<AnchorConfig>) -> Self {
        let Self {
            service,
            db,
            seed,
            info,
            voters,
            ctx,
            identities,
            ..
        } = self;
        service.shutdown().unwrap();
        block_on(async {
            let database = service::Db::connect(&db.url).await.unwrap();
            database.execute_statement(sql).await.unwrap();
            database.close().await;
        });
        let mut config = config(&db, &seed);
        config.anchoring = anchoring;
        let service = service::spawn(config, "127.0.0.1:0").unwrap();
        let officials = ElectionClient::new(&service.url(), Some(TOKEN.to_owned())).unwrap();
        Self {
            service,
            db,
            seed,
            officials,
            info,
            voters,
            ctx,
            identities,
        }
    }

    /// Closes the election, waits for the aggregation, has both trustees decrypt and tallies.
    pub fn close_and_tally(&self) -> Results {
        self.officials.close().unwrap();
        self.officials.wait_for_aggregation(|_| {}).unwrap();
        let url = self.service.url();
        for identity in &self.identities {
            let store = HttpStore::new(&url, None).unwrap();
            tabella_tally::trustee::decrypt_step(&store, identity, 0, false).unwrap();
        }
        self.officials.tally().unwrap()
    }

    /// A client without the token, as a voter's.
    pub fn public_client(&self) -> ElectionClient {
        ElectionClient::new(&self.service.url(), None).unwrap()
    }

    /// A ballot of voter `i` for `selection`.
    pub fn ballot(&self, i: usize, selection: usize) -> (Ballot, BallotSecrets) {
        encrypt(&self.ctx, self.voters.secret(i), selection)
    }
}

// ---------------------------------------------------------------------------------------------
// Anchoring on the embedded chain

/// Seconds voting lasts on chain in the anchoring tests (the tests move the chain's clock).
pub const VOTING_PERIOD: u64 = 3600;

/// A test's embedded chain (real revm running the registry's bytecode), in its own temporary
/// directory.
pub struct TestChain {
    /// The chain, shared by the service and the test (it has one writer).
    pub chain: Chain,
    _dir: tempfile::TempDir,
}

impl TestChain {
    /// A fresh embedded chain.
    pub fn new() -> Self {
        let dir = tempfile::Builder::new()
            .prefix("tabella-chain-test-")
            .tempdir()
            .unwrap();
        let chain = Chain::embedded(dir.path()).unwrap();
        Self { chain, _dir: dir }
    }

    /// The anchoring configuration of a service on this chain: operator dev account 0,
    /// checkpoints every `interval`.
    pub fn anchoring(&self, interval: Duration) -> AnchorConfig {
        AnchorConfig {
            chain: ChainSpec::Connected(self.chain.clone()),
            signer: Signer::dev(0),
            registry: None,
            checkpoint_interval: interval,
            voting_period: VOTING_PERIOD,
            challenge_period: 86_400,
        }
    }
}

/// Runs `future` to completion on a fresh current-thread runtime (the chain's calls in the
/// blocking tests).
pub fn block_on<T>(future: impl Future<Output = T>) -> T {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(future)
}

/// Waits (up to a minute) until `ready` holds of the service's anchoring status, and returns
/// that status.
#[track_caller]
pub fn wait_anchoring(
    client: &ElectionClient,
    what: &str,
    ready: impl Fn(&AnchoringStatus) -> bool,
) -> AnchoringStatus {
    let started = Instant::now();
    loop {
        let status = client.anchoring().unwrap();
        if ready(&status) {
            return status;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "{what} never happened: {status:#?}"
        );
        std::thread::sleep(Duration::from_millis(25));
    }
}

/// Whether the status shows an anchored item of `kind` (of `size`, when given).
pub fn anchored(status: &AnchoringStatus, kind: AnchorKind, size: Option<u64>) -> bool {
    status.items.iter().any(|item| {
        item.kind == kind
            && item.state == AnchorState::Done
            && (size.is_none() || item.size == size)
    })
}
