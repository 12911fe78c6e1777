//! The ceremony message stores: one behaviour suite run against a directory ([`DirStore`]) and
//! against the ceremony service ([`HttpStore`] → server → [`DirStore`]), plus the parts that only
//! one of them has (tokens and size limits of the service, processes sharing a directory).
//!
//! Every server binds 127.0.0.1 on a free port and stops when its fixture is dropped. The
//! blocking HTTP client runs on the test threads, never inside a tokio runtime.

// The helpers shared by the tests unwrap too; a failure there is a test failure.
#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

use tabella_tally::messages::server::{self, RunningServer, ServerConfig, DEFAULT_MAX_BODY};
use tabella_tally::messages::{
    accept_all, open_store, wait_for, DirStore, HttpStore, MessageStore, StoreError, Stored,
    ValidatingStore, Validator,
};
use tempfile::TempDir;

/// Which store a behaviour test runs against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Backend {
    Dir,
    Http,
}

/// A store under test, with what keeps it alive.
/// Fields drop in order: the client, then the server, then the directory.
struct Fixture {
    store: Arc<dyn MessageStore>,
    _server: Option<RunningServer>,
    dir: TempDir,
}

impl Fixture {
    /// A plain store: the bare [`DirStore`] (so races are decided by the file system alone), or
    /// a service accepting every document.
    fn new(backend: Backend) -> Self {
        match backend {
            Backend::Dir => {
                let dir = tempfile::tempdir().unwrap();
                Self {
                    store: Arc::new(DirStore::open(dir.path()).unwrap()),
                    dir,
                    _server: None,
                }
            }
            Backend::Http => Self::with_validator(backend, accept_all()),
        }
    }

    /// A store that checks new documents with `validator`: a [`ValidatingStore`] around the
    /// directory, or a service configured with it.
    fn with_validator(backend: Backend, validator: Validator) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let dir_store: Arc<dyn MessageStore> = Arc::new(DirStore::open(dir.path()).unwrap());
        match backend {
            Backend::Dir => Self {
                store: Arc::new(ValidatingStore::new(dir_store, validator)),
                dir,
                _server: None,
            },
            Backend::Http => {
                let config = ServerConfig {
                    validator,
                    ..ServerConfig::default()
                };
                let server = server::spawn_local(dir_store, config).unwrap();
                Self {
                    store: Arc::new(HttpStore::new(&server.url(), None).unwrap()),
                    dir,
                    _server: Some(server),
                }
            }
        }
    }
}

/// Runs each named behaviour test against both backends: `dir::<test>` and `http::<test>`.
macro_rules! both_backends {
    ($($test:ident),* $(,)?) => {
        mod dir {
            $( #[test] fn $test() { super::$test(super::Backend::Dir) } )*
        }
        mod http {
            $( #[test] fn $test() { super::$test(super::Backend::Http) } )*
        }
    };
}

both_backends!(
    new_document_is_created_and_read_back,
    identical_put_is_already_present,
    different_bytes_under_a_taken_name_conflict,
    invalid_names_are_refused,
    list_is_sorted,
    list_ignores_temporary_and_foreign_files,
    get_of_missing_name_is_none,
    validator_rejection_carries_its_reason_and_stores_nothing,
    validator_sees_earlier_documents,
    validator_is_not_consulted_for_a_re_post,
    concurrent_puts_of_different_bytes_have_one_winner,
    concurrent_identical_puts_create_once,
    wait_for_returns_once_documents_arrive,
    wait_for_times_out_naming_the_missing_documents,
    describe_names_the_backend,
);

fn new_document_is_created_and_read_back(backend: Backend) {
    let f = Fixture::new(backend);
    let doc = br#"{"dealer":3}"#;
    assert_eq!(f.store.put("dealer-3.json", doc).unwrap(), Stored::Created);
    assert_eq!(f.store.get("dealer-3.json").unwrap().unwrap(), doc);
    // It is a plain file in the directory, in both cases.
    assert_eq!(
        std::fs::read(f.dir.path().join("dealer-3.json")).unwrap(),
        doc
    );
}

fn identical_put_is_already_present(backend: Backend) {
    let f = Fixture::new(backend);
    assert_eq!(f.store.put("check-1.json", b"{}").unwrap(), Stored::Created);
    assert_eq!(
        f.store.put("check-1.json", b"{}").unwrap(),
        Stored::AlreadyPresent
    );
    assert_eq!(f.store.list().unwrap(), ["check-1.json"]);
}

fn different_bytes_under_a_taken_name_conflict(backend: Backend) {
    let f = Fixture::new(backend);
    f.store.put("partial-2.json", b"{\"v\":1}").unwrap();
    match f.store.put("partial-2.json", b"{\"v\":2}") {
        Err(StoreError::Conflict { name }) => assert_eq!(name, "partial-2.json"),
        other => panic!("expected Conflict, got {other:?}"),
    }
    assert_eq!(
        f.store.get("partial-2.json").unwrap().unwrap(),
        b"{\"v\":1}"
    );
}

fn invalid_names_are_refused(backend: Backend) {
    let f = Fixture::new(backend);
    let long = format!("{}.json", "a".repeat(64));
    for name in [
        "../x.json",
        "A.json",
        "x.txt",
        "",
        "-x.json",
        ".json",
        "a/b.json",
        long.as_str(),
    ] {
        assert!(
            matches!(
                f.store.put(name, b"{}"),
                Err(StoreError::InvalidName { .. })
            ),
            "put {name:?}"
        );
        assert!(
            matches!(f.store.get(name), Err(StoreError::InvalidName { .. })),
            "get {name:?}"
        );
    }
    assert!(f.store.list().unwrap().is_empty());
    // Nothing escaped the directory.
    assert!(!f.dir.path().parent().unwrap().join("x.json").exists());
}

fn list_is_sorted(backend: Backend) {
    let f = Fixture::new(backend);
    for name in [
        "tally-request.json",
        "dealer-10.json",
        "ceremony.json",
        "dealer-2.json",
        "check-1.json",
    ] {
        f.store.put(name, b"{}").unwrap();
    }
    assert_eq!(
        f.store.list().unwrap(),
        [
            "ceremony.json",
            "check-1.json",
            "dealer-10.json",
            "dealer-2.json",
            "tally-request.json",
        ]
    );
}

fn list_ignores_temporary_and_foreign_files(backend: Backend) {
    let f = Fixture::new(backend);
    f.store.put("dealer-1.json", b"{}").unwrap();
    let dir = f.dir.path();
    std::fs::write(dir.join(".tmp-1-0-dealer-2.json"), b"{").unwrap();
    std::fs::write(dir.join(".lock-dealer-2.json"), b"").unwrap();
    std::fs::write(dir.join("README.txt"), b"notes").unwrap();
    std::fs::write(dir.join("Dealer-3.json"), b"{}").unwrap();
    std::fs::create_dir(dir.join("subdir.json")).unwrap();
    assert_eq!(f.store.list().unwrap(), ["dealer-1.json"]);
}

fn get_of_missing_name_is_none(backend: Backend) {
    let f = Fixture::new(backend);
    assert_eq!(f.store.get("dealer-9.json").unwrap(), None);
}

/// Refuses any document that is not a JSON object starting with `{`.
fn objects_only() -> Validator {
    Arc::new(|name, bytes, _| {
        if bytes.starts_with(b"{") {
            Ok(())
        } else {
            Err(format!("{name} is not a JSON object"))
        }
    })
}

fn validator_rejection_carries_its_reason_and_stores_nothing(backend: Backend) {
    let f = Fixture::with_validator(backend, objects_only());
    match f.store.put("dealer-1.json", b"[1]") {
        Err(StoreError::Rejected { name, reason }) => {
            assert_eq!(name, "dealer-1.json");
            assert_eq!(reason, "dealer-1.json is not a JSON object");
        }
        other => panic!("expected Rejected, got {other:?}"),
    }
    assert_eq!(f.store.get("dealer-1.json").unwrap(), None);
    assert!(f.store.list().unwrap().is_empty());
    assert_eq!(
        f.store.put("dealer-1.json", b"{}").unwrap(),
        Stored::Created
    );
}

fn validator_sees_earlier_documents(backend: Backend) {
    // A dealer's message is only accepted once the ceremony parameters are there.
    let validator: Validator = Arc::new(|name, _, store| {
        if name.starts_with("dealer-")
            && store
                .get("ceremony.json")
                .map_err(|error| error.to_string())?
                .is_none()
        {
            return Err("the ceremony has not been set up yet (no ceremony.json)".to_string());
        }
        Ok(())
    });
    let f = Fixture::with_validator(backend, validator);
    assert!(matches!(
        f.store.put("dealer-1.json", b"{}"),
        Err(StoreError::Rejected { reason, .. }) if reason.contains("no ceremony.json")
    ));
    f.store.put("ceremony.json", b"{}").unwrap();
    assert_eq!(
        f.store.put("dealer-1.json", b"{}").unwrap(),
        Stored::Created
    );
}

fn validator_is_not_consulted_for_a_re_post(backend: Backend) {
    // Accepts a name only while the store is empty: a re-post must not be re-validated.
    let validator: Validator = Arc::new(|_, _, store| match store.list() {
        Ok(names) if names.is_empty() => Ok(()),
        Ok(_) => Err("the store is closed".to_string()),
        Err(error) => Err(error.to_string()),
    });
    let f = Fixture::with_validator(backend, validator);
    assert_eq!(f.store.put("result.json", b"{}").unwrap(), Stored::Created);
    assert_eq!(
        f.store.put("result.json", b"{}").unwrap(),
        Stored::AlreadyPresent
    );
    assert!(matches!(
        f.store.put("result.json", b"{\"x\":1}"),
        Err(StoreError::Conflict { .. })
    ));
    assert!(matches!(
        f.store.put("other.json", b"{}"),
        Err(StoreError::Rejected { .. })
    ));
}

/// Puts `bytes_of(i)` under `name` from 8 threads released together.
fn race(
    store: &Arc<dyn MessageStore>,
    name: &str,
    bytes_of: fn(u8) -> Vec<u8>,
) -> Vec<Result<Stored, StoreError>> {
    let barrier = Arc::new(Barrier::new(8));
    let handles: Vec<_> = (0..8u8)
        .map(|i| {
            let (store, barrier, name) = (store.clone(), barrier.clone(), name.to_string());
            thread::spawn(move || {
                barrier.wait();
                store.put(&name, &bytes_of(i))
            })
        })
        .collect();
    handles.into_iter().map(|h| h.join().unwrap()).collect()
}

fn concurrent_puts_of_different_bytes_have_one_winner(backend: Backend) {
    let f = Fixture::new(backend);
    for round in 0..5 {
        let name = format!("dealer-{round}.json");
        let results = race(&f.store, &name, |i| {
            format!("{{\"writer\":{i}}}").into_bytes()
        });
        let created = results.iter().filter(|r| matches!(r, Ok(Stored::Created)));
        let conflicts = results
            .iter()
            .filter(|r| matches!(r, Err(StoreError::Conflict { .. })));
        assert_eq!(created.count(), 1, "{results:?}");
        assert_eq!(conflicts.count(), 7, "{results:?}");
        let stored = f.store.get(&name).unwrap().unwrap();
        let winner = results.iter().position(|r| r.is_ok()).unwrap();
        assert_eq!(stored, format!("{{\"writer\":{winner}}}").into_bytes());
    }
    assert_eq!(hidden_files(f.dir.path()), Vec::<String>::new());
}

fn concurrent_identical_puts_create_once(backend: Backend) {
    let f = Fixture::new(backend);
    let results = race(&f.store, "partial-1.json", |_| b"{\"same\":true}".to_vec());
    let created = results.iter().filter(|r| matches!(r, Ok(Stored::Created)));
    let present = results
        .iter()
        .filter(|r| matches!(r, Ok(Stored::AlreadyPresent)));
    assert_eq!(created.count(), 1, "{results:?}");
    assert_eq!(present.count(), 7, "{results:?}");
}

fn wait_for_returns_once_documents_arrive(backend: Backend) {
    let f = Fixture::new(backend);
    f.store.put("dealer-1.json", b"{}").unwrap();
    let writer = {
        let store = f.store.clone();
        thread::spawn(move || {
            thread::sleep(Duration::from_millis(150));
            store.put("dealer-2.json", b"{}").unwrap();
        })
    };
    wait_for(
        f.store.as_ref(),
        &["dealer-1.json", "dealer-2.json"],
        Duration::from_secs(10),
        Duration::from_millis(20),
    )
    .unwrap();
    writer.join().unwrap();
}

fn wait_for_times_out_naming_the_missing_documents(backend: Backend) {
    let f = Fixture::new(backend);
    f.store.put("dealer-1.json", b"{}").unwrap();
    let start = Instant::now();
    let error = wait_for(
        f.store.as_ref(),
        &["dealer-3.json", "dealer-1.json", "dealer-2.json"],
        Duration::from_millis(200),
        Duration::from_millis(20),
    )
    .unwrap_err();
    assert!(start.elapsed() >= Duration::from_millis(200));
    match &error {
        StoreError::TimedOut { missing, .. } => {
            assert_eq!(missing, &["dealer-2.json", "dealer-3.json"])
        }
        other => panic!("expected TimedOut, got {other:?}"),
    }
    assert!(error.to_string().contains("dealer-2.json, dealer-3.json"));
}

fn describe_names_the_backend(backend: Backend) {
    let f = Fixture::new(backend);
    let description = f.store.describe();
    match backend {
        Backend::Dir => assert!(description.starts_with("directory "), "{description}"),
        Backend::Http => assert!(
            description.starts_with("service http://127.0.0.1:"),
            "{description}"
        ),
    }
}

/// The names of the dot-files (temporary and lock files) in `dir`.
fn hidden_files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .filter(|name| name.starts_with('.'))
        .collect();
    names.sort();
    names
}

// ---- The service only ----

const TOKEN: &str = "officials-secret-token";

/// A service for `dir` with admin names and a token, and its raw URL.
fn admin_service(dir: &Path, admin_token: Option<&str>) -> RunningServer {
    let config = ServerConfig {
        admin_token: admin_token.map(str::to_string),
        admin_names: vec![
            "ceremony.json".to_string(),
            "tally-request.json".to_string(),
        ],
        ..ServerConfig::default()
    };
    server::spawn_local(Arc::new(DirStore::open(dir).unwrap()), config).unwrap()
}

#[test]
fn admin_names_need_the_admin_token() {
    let dir = tempfile::tempdir().unwrap();
    let service = admin_service(dir.path(), Some(TOKEN));
    let anonymous = HttpStore::new(&service.url(), None).unwrap();
    let wrong = HttpStore::new(&service.url(), Some("officials-secret-tokeN".to_string())).unwrap();
    let short = HttpStore::new(&service.url(), Some("o".to_string())).unwrap();
    let officials = HttpStore::new(&service.url(), Some(TOKEN.to_string())).unwrap();

    for (store, expected) in [
        (&anonymous, "send the admin token"),
        (&wrong, "wrong"),
        (&short, "wrong"),
    ] {
        match store.put("ceremony.json", b"{}") {
            Err(StoreError::Unauthorized { name, message }) => {
                assert_eq!(name, "ceremony.json");
                assert!(message.contains(expected), "{message}");
            }
            other => panic!("expected Unauthorized, got {other:?}"),
        }
    }
    assert_eq!(anonymous.get("ceremony.json").unwrap(), None);
    assert_eq!(
        officials.put("ceremony.json", b"{}").unwrap(),
        Stored::Created
    );
    assert_eq!(
        officials.put("tally-request.json", b"{}").unwrap(),
        Stored::Created
    );
    // Anyone may read admin documents and write the others.
    assert_eq!(anonymous.get("ceremony.json").unwrap().unwrap(), b"{}");
    assert_eq!(
        anonymous.put("dealer-1.json", b"{}").unwrap(),
        Stored::Created
    );
}

#[test]
fn admin_names_are_closed_when_no_admin_token_is_configured() {
    let dir = tempfile::tempdir().unwrap();
    let service = admin_service(dir.path(), None);
    let store = HttpStore::new(&service.url(), Some("anything".to_string())).unwrap();
    match store.put("ceremony.json", b"{}") {
        Err(StoreError::Unauthorized { message, .. }) => {
            assert!(message.contains("no admin token"), "{message}")
        }
        other => panic!("expected Unauthorized, got {other:?}"),
    }
}

#[test]
fn unauthorized_answer_is_json_with_a_bearer_challenge() {
    let dir = tempfile::tempdir().unwrap();
    let service = admin_service(dir.path(), Some(TOKEN));
    let response = reqwest::blocking::Client::new()
        .put(format!(
            "{}/v1/ceremony/messages/ceremony.json",
            service.url()
        ))
        .header("Authorization", "Basic b2ZmaWNpYWxz")
        .body("{}")
        .send()
        .unwrap();
    assert_eq!(response.status(), 401);
    assert_eq!(response.headers()["www-authenticate"], "Bearer");
    let body: serde_json::Value = response.json().unwrap();
    assert_eq!(body["error"], "unauthorized");
    assert!(body["message"].as_str().unwrap().contains("Bearer"));
}

#[test]
fn oversized_body_is_too_large() {
    let dir = tempfile::tempdir().unwrap();
    let config = ServerConfig {
        max_body: 1024,
        ..ServerConfig::default()
    };
    let service =
        server::spawn_local(Arc::new(DirStore::open(dir.path()).unwrap()), config).unwrap();
    let store = HttpStore::new(&service.url(), None).unwrap();
    assert_eq!(
        store.put("fits.json", &[b' '; 1024]).unwrap(),
        Stored::Created
    );
    for size in [1025, 64 * 1024, 8 * 1024 * 1024] {
        match store.put("big.json", &vec![b' '; size]) {
            Err(StoreError::TooLarge {
                name,
                size: sent,
                message,
            }) => {
                assert_eq!((name.as_str(), sent), ("big.json", size));
                assert!(message.contains("1024 bytes"), "{message}");
            }
            other => panic!("expected TooLarge for {size} bytes, got {other:?}"),
        }
    }
    assert_eq!(store.get("big.json").unwrap(), None);
}

#[test]
fn default_limit_is_four_mebibytes() {
    let dir = tempfile::tempdir().unwrap();
    let service = server::spawn_local(
        Arc::new(DirStore::open(dir.path()).unwrap()),
        ServerConfig::default(),
    )
    .unwrap();
    let store = HttpStore::new(&service.url(), None).unwrap();
    assert_eq!(DEFAULT_MAX_BODY, 4 * 1024 * 1024);
    assert_eq!(
        store
            .put("max.json", &vec![b' '; DEFAULT_MAX_BODY])
            .unwrap(),
        Stored::Created
    );
    assert!(matches!(
        store.put("over.json", &vec![b' '; DEFAULT_MAX_BODY + 1]),
        Err(StoreError::TooLarge { .. })
    ));
}

#[test]
fn documents_survive_a_service_restart() {
    let dir = tempfile::tempdir().unwrap();
    let first = server::spawn_local(
        Arc::new(DirStore::open(dir.path()).unwrap()),
        ServerConfig::default(),
    )
    .unwrap();
    let store = HttpStore::new(&first.url(), None).unwrap();
    store.put("dealer-1.json", b"{\"a\":1}").unwrap();
    store.put("dealer-2.json", b"{\"a\":2}").unwrap();
    let old_url = first.url();
    first.shutdown().unwrap();
    assert!(matches!(
        HttpStore::new(&old_url, None).unwrap().list(),
        Err(StoreError::Http { .. })
    ));

    let second = server::spawn_local(
        Arc::new(DirStore::open(dir.path()).unwrap()),
        ServerConfig::default(),
    )
    .unwrap();
    let store = HttpStore::new(&second.url(), None).unwrap();
    assert_eq!(store.list().unwrap(), ["dealer-1.json", "dealer-2.json"]);
    assert_eq!(store.get("dealer-2.json").unwrap().unwrap(), b"{\"a\":2}");
    // Still write-once across the restart.
    assert!(matches!(
        store.put("dealer-1.json", b"{\"a\":3}"),
        Err(StoreError::Conflict { .. })
    ));
    assert_eq!(
        store.put("dealer-1.json", b"{\"a\":1}").unwrap(),
        Stored::AlreadyPresent
    );
}

#[test]
fn service_answers_and_errors_are_json() {
    let dir = tempfile::tempdir().unwrap();
    let service = server::spawn_local(
        Arc::new(DirStore::open(dir.path()).unwrap()),
        ServerConfig::default(),
    )
    .unwrap();
    let client = reqwest::blocking::Client::new();
    let url = |path: &str| format!("{}{path}", service.url());

    let created = client
        .put(url("/v1/ceremony/messages/dealer-1.json"))
        .body(r#"{"d":1}"#)
        .send()
        .unwrap();
    assert_eq!(created.status(), 201);
    let again = client
        .put(url("/v1/ceremony/messages/dealer-1.json"))
        .body(r#"{"d":1}"#)
        .send()
        .unwrap();
    assert_eq!(again.status(), 200);
    let conflict = client
        .put(url("/v1/ceremony/messages/dealer-1.json"))
        .body(r#"{"d":2}"#)
        .send()
        .unwrap();
    assert_eq!(conflict.status(), 409);
    assert_eq!(
        conflict.json::<serde_json::Value>().unwrap()["error"],
        "conflict"
    );

    let document = client
        .get(url("/v1/ceremony/messages/dealer-1.json"))
        .send()
        .unwrap();
    assert_eq!(document.status(), 200);
    assert_eq!(document.headers()["content-type"], "application/json");
    assert_eq!(document.bytes().unwrap().as_ref(), br#"{"d":1}"#);

    let list: serde_json::Value = client
        .get(url("/v1/ceremony/messages"))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(list, serde_json::json!({"messages": ["dealer-1.json"]}));

    let missing = client
        .get(url("/v1/ceremony/messages/dealer-2.json"))
        .send()
        .unwrap();
    assert_eq!(missing.status(), 404);
    let body: serde_json::Value = missing.json().unwrap();
    assert_eq!(body["error"], "not_found");
    assert!(body["message"].as_str().unwrap().contains("dealer-2.json"));

    // Path traversal, percent-encoded so it reaches the server as one segment.
    for path in [
        "/v1/ceremony/messages/%2E%2E%2Fx.json",
        "/v1/ceremony/messages/A.json",
        "/v1/ceremony/messages/x.txt",
    ] {
        let response = client.put(url(path)).body("{}").send().unwrap();
        assert_eq!(response.status(), 400, "{path}");
        let body: serde_json::Value = response.json().unwrap();
        assert_eq!(body["error"], "invalid_name", "{path}");
        assert!(!body["message"].as_str().unwrap().is_empty());
    }
    assert!(!dir.path().parent().unwrap().join("x.json").exists());

    let unknown = client.get(url("/v1/other")).send().unwrap();
    assert_eq!(unknown.status(), 404);
    assert_eq!(
        unknown.json::<serde_json::Value>().unwrap()["error"],
        "no_route"
    );
}

#[test]
fn wrong_base_url_is_an_error_not_an_absent_document() {
    let dir = tempfile::tempdir().unwrap();
    let service = server::spawn_local(
        Arc::new(DirStore::open(dir.path()).unwrap()),
        ServerConfig::default(),
    )
    .unwrap();
    let store = HttpStore::new(&format!("{}/prefix", service.url()), None).unwrap();
    assert!(matches!(
        store.get("dealer-1.json"),
        Err(StoreError::Server { status: 404, .. })
    ));
}

#[test]
fn unreachable_service_error_names_the_url() {
    // A port that was free a moment ago: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}");
    let store = HttpStore::new(&url, None).unwrap();
    let error = store.put("dealer-1.json", b"{}").unwrap_err();
    assert!(matches!(error, StoreError::Http { .. }), "{error:?}");
    let message = error.to_string();
    assert!(
        message.starts_with(&format!("could not reach the ceremony service at {url}: ")),
        "{message}"
    );
    // wait_for gives up at once on a service it never reached.
    let start = Instant::now();
    assert!(matches!(
        wait_for(
            &store,
            &["dealer-1.json"],
            Duration::from_secs(30),
            Duration::from_millis(50)
        ),
        Err(StoreError::Http { .. })
    ));
    assert!(start.elapsed() < Duration::from_secs(15));
}

#[test]
fn http_store_refuses_malformed_urls() {
    for url in ["", "127.0.0.1:8080", "ftp://host", "http://"] {
        assert!(
            matches!(HttpStore::new(url, None), Err(StoreError::Config(_))),
            "{url:?}"
        );
    }
    assert_eq!(
        HttpStore::new("http://127.0.0.1:8080/", None)
            .unwrap()
            .base_url(),
        "http://127.0.0.1:8080"
    );
}

// ---- The directory only ----

#[test]
fn dir_store_creates_a_missing_directory() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("usb").join("ceremony");
    let store = DirStore::open(&path).unwrap();
    assert!(path.is_dir());
    assert_eq!(store.path(), path);
    store.put("ceremony.json", b"{}").unwrap();
    // A second process (here: a second handle) sees the same documents.
    assert_eq!(
        DirStore::open(&path)
            .unwrap()
            .get("ceremony.json")
            .unwrap()
            .unwrap(),
        b"{}"
    );
}

#[test]
fn open_store_picks_the_backend() {
    let tmp = tempfile::tempdir().unwrap();
    let store = open_store(Some(tmp.path()), None, Some("ignored".to_string())).unwrap();
    assert!(store.describe().starts_with("directory "));
    let store = open_store(None, Some("http://127.0.0.1:9"), None).unwrap();
    assert_eq!(store.describe(), "service http://127.0.0.1:9");
    assert!(matches!(
        open_store(Some(tmp.path()), Some("http://127.0.0.1:9"), None),
        Err(StoreError::Config(_))
    ));
    assert!(matches!(
        open_store(None, None, None),
        Err(StoreError::Config(_))
    ));
}

/// Environment of [`child_process_put`] when run as a child of
/// [`concurrent_puts_from_separate_processes_have_one_winner`].
const CHILD_DIR: &str = "TABELLA_TEST_MESSAGE_CHILD_DIR";
const CHILD_ID: &str = "TABELLA_TEST_MESSAGE_CHILD_ID";

/// Not a test on its own: the body of each child process of the test below. Without its
/// environment variables it does nothing.
#[test]
fn child_process_put() {
    let (Ok(dir), Ok(id)) = (std::env::var(CHILD_DIR), std::env::var(CHILD_ID)) else {
        return;
    };
    let store = DirStore::open(&dir).unwrap();
    // Start together: wait for the parent's signal file.
    let go = Path::new(&dir).join(".go");
    let deadline = Instant::now() + Duration::from_secs(30);
    while !go.exists() && Instant::now() < deadline {
        thread::sleep(Duration::from_millis(1));
    }
    let outcome = match store.put("dealer-1.json", format!("{{\"process\":{id}}}").as_bytes()) {
        Ok(Stored::Created) => "created",
        Ok(Stored::AlreadyPresent) => "already-present",
        Err(StoreError::Conflict { .. }) => "conflict",
        Err(error) => panic!("{error}"),
    };
    println!("OUTCOME={outcome}");
}

#[test]
fn concurrent_puts_from_separate_processes_have_one_winner() {
    let tmp = tempfile::tempdir().unwrap();
    let exe = std::env::current_exe().unwrap();
    let children: Vec<_> = (0..8)
        .map(|id| {
            Command::new(&exe)
                .args([
                    "--exact",
                    "child_process_put",
                    "--nocapture",
                    "--test-threads=1",
                ])
                .env(CHILD_DIR, tmp.path())
                .env(CHILD_ID, id.to_string())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    std::fs::write(tmp.path().join(".go"), b"").unwrap();
    let outcomes: Vec<String> = children
        .into_iter()
        .map(|child| {
            let output = child.wait_with_output().unwrap();
            let stdout = String::from_utf8_lossy(&output.stdout);
            assert!(
                output.status.success(),
                "child failed: {stdout}{}",
                String::from_utf8_lossy(&output.stderr)
            );
            stdout
                .lines()
                .find_map(|line| {
                    line.split_once("OUTCOME=")
                        .map(|(_, outcome)| outcome.trim())
                })
                .unwrap_or_else(|| panic!("no outcome in {stdout}"))
                .to_string()
        })
        .collect();
    assert_eq!(
        outcomes.iter().filter(|o| *o == "created").count(),
        1,
        "{outcomes:?}"
    );
    assert_eq!(
        outcomes.iter().filter(|o| *o == "conflict").count(),
        7,
        "{outcomes:?}"
    );
    let store = DirStore::open(tmp.path()).unwrap();
    assert_eq!(store.list().unwrap(), ["dealer-1.json"]);
    assert_eq!(hidden_files(tmp.path()), [".go"]);
}
