#![allow(clippy::unwrap_used)]
//! What the election service serves the web app (spec/api.md §4.8, §13, §14; spec/booth.md),
//! against both storage backends like `tests/service.rs`: the booth's files (content types,
//! gzip, ETags and `304`, the content security policy, the app's pages), a booth directory
//! refused at start when it does not match its `booth.json`, the booth bound to the election
//! (filled in the manifest, `409 booth_mismatch`, a restart with another booth refused), the
//! election record's documents byte for byte as `tabella election export` writes them (and
//! `record.json` consistent with `anchors.json` as anchoring proceeds), and the officials'
//! status (`401` without the token, turnout matching the board, the ceremonies' progress).

#[allow(dead_code)] // Shared with tests/service.rs, which uses all of it.
mod service_support;

use std::collections::BTreeMap;
use std::io::Read as _;
use std::path::Path;
use std::time::Duration;

use axum::http::Method;
use service_support::*;
use sha2::{Digest as _, Sha256};
use tabella_crypto::ballot::SpoiledBallot;
use tabella_crypto::booth::{BoothDigest, BoothManifest};
use tabella_crypto::manifest::Manifest;
use tabella_crypto::record::{RecordIndex, INDEX};
use tabella_tally::api::{AdminStatus, AnchorKind, ElectionInfo, ElectionState, TurnoutPoint};
use tabella_tally::client::ElectionClient;
use tabella_tally::service::{self, Backend, Booth, BoothLoadError, ServeOptions};

both_backends! {
    async: [
        booth_files_are_served_with_their_types_gzip_etags_and_policy,
        without_a_booth_its_paths_answer_404,
        creating_the_election_publishes_the_served_booth_and_refuses_another,
        admin_status_needs_the_token_and_reports_turnout_and_ceremonies,
        record_documents_wait_for_the_tally_and_never_leave_the_record,
    ],
    sync: [
        the_record_route_serves_exactly_what_export_writes,
        a_restart_with_another_booth_is_refused_and_the_same_booth_starts,
        an_election_without_a_booth_is_served_a_booth_flagged_unpublished,
        record_json_lists_the_anchors_json_served_as_anchoring_proceeds,
    ],
}

// ---------------------------------------------------------------------------------------------
// A booth for tests: written by hand, not the real WebAssembly build.

/// The files of a tiny booth: `index.html`, a script, a "wasm" module, a style sheet and a
/// root file, with `text` in the script (two booths with different texts differ).
fn booth_files(text: &str) -> Vec<(&'static str, Vec<u8>)> {
    let index = format!(
        "<!doctype html>\n<html lang=en><head><meta charset=utf-8><title>Tabella</title>\
         <link rel=stylesheet href=/app/style.css><script type=module src=/app/x.js></script>\
         </head><body>{}</body></html>\n",
        "<p>The ballot.</p>".repeat(20)
    );
    vec![
        ("index.html", index.into_bytes()),
        (
            "app/x.js",
            format!("console.log({text:?});\n").repeat(10).into_bytes(),
        ),
        ("app/b.wasm", b"\0asm\x01\0\0\0".to_vec()),
        ("app/style.css", b"body { margin: 0 }\n".repeat(10)),
        ("robots.txt", b"User-agent: *\n".to_vec()),
    ]
}

/// Writes a booth built from `booth_files(text)` into `dir`; returns its digest.
fn write_booth(dir: &Path, text: &str) -> BoothDigest {
    let files = booth_files(text);
    for (path, bytes) in &files {
        let path = dir.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, bytes).unwrap();
    }
    let list = BoothManifest::from_files(files.iter().map(|(p, b)| (*p, b.as_slice()))).unwrap();
    std::fs::write(
        dir.join("booth.json"),
        serde_json::to_vec_pretty(&list).unwrap(),
    )
    .unwrap();
    list.digest()
}

/// A booth directory (kept alive by the returned guard) and the booth loaded from it.
fn booth(text: &str) -> (tempfile::TempDir, Booth) {
    let dir = tempfile::tempdir().unwrap();
    write_booth(dir.path(), text);
    let booth = Booth::load(dir.path()).unwrap();
    (dir, booth)
}

fn gunzip(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_end(&mut out)
        .unwrap();
    out
}

fn header<'a>(answer: &'a Answer, name: &str) -> Option<&'a str> {
    answer.headers.get(name).map(|v| v.to_str().unwrap())
}

const CSP: &str = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self' \
                   'unsafe-inline'; connect-src 'self'; img-src 'self' data: blob:; object-src \
                   'none'; base-uri 'none'; frame-ancestors 'none'";

// ---------------------------------------------------------------------------------------------
// 1. Serving the booth

async fn booth_files_are_served_with_their_types_gzip_etags_and_policy(db: Db) {
    let (_dir, booth) = booth("serving");
    let files: BTreeMap<&str, Vec<u8>> = booth_files("serving").into_iter().collect();
    let list_bytes = booth.file("booth.json").unwrap().bytes().to_vec();
    let service = Service::start_with_booth(&db, Some(booth)).await;
    let etag = |bytes: &[u8]| format!("\"{}\"", hex::encode(Sha256::digest(bytes)));

    // Every page of the app is its index.html, with the policy and no caching surprises.
    let index = &files["index.html"];
    for path in [
        "/",
        "/booth",
        "/tracker",
        "/results",
        "/glossary",
        "/observer",
        "/officials",
        "/bench",
        "/bench?runs=5",
        "/index.html",
    ] {
        let answer = service.get(path).await.expect(200);
        assert_eq!(&answer.body, index, "{path}");
        assert_eq!(
            header(&answer, "content-type"),
            Some("text/html; charset=utf-8"),
            "{path}"
        );
        assert_eq!(header(&answer, "content-security-policy"), Some(CSP));
        assert_eq!(header(&answer, "x-content-type-options"), Some("nosniff"));
        assert_eq!(header(&answer, "cache-control"), Some("no-cache"));
        assert_eq!(header(&answer, "vary"), Some("Accept-Encoding"));
        assert_eq!(header(&answer, "etag"), Some(etag(index).as_str()));
        assert_eq!(header(&answer, "content-encoding"), None);
    }

    // Each file with its type; gzip when accepted (and smaller); the policy only on HTML.
    for (path, url, content_type) in [
        ("app/x.js", "/app/x.js", "text/javascript; charset=utf-8"),
        ("app/b.wasm", "/app/b.wasm", "application/wasm"),
        ("app/style.css", "/app/style.css", "text/css; charset=utf-8"),
        ("robots.txt", "/robots.txt", "text/plain; charset=utf-8"),
    ] {
        let bytes = &files[path];
        let answer = service.get(url).await.expect(200);
        assert_eq!(&answer.body, bytes, "{url}");
        assert_eq!(header(&answer, "content-type"), Some(content_type), "{url}");
        assert_eq!(header(&answer, "content-security-policy"), None, "{url}");
        assert_eq!(header(&answer, "x-content-type-options"), Some("nosniff"));
        assert_eq!(header(&answer, "etag"), Some(etag(bytes).as_str()));
        let gzipped = service
            .request(
                Method::GET,
                url,
                &[("accept-encoding", "br, gzip;q=0.9")],
                Vec::new(),
            )
            .await
            .expect(200);
        assert_eq!(header(&gzipped, "vary"), Some("Accept-Encoding"));
        match header(&gzipped, "content-encoding") {
            Some("gzip") => assert_eq!(&gunzip(&gzipped.body), bytes, "{url}"),
            None => {
                // Only a file that does not shrink goes uncompressed.
                assert!(bytes.len() < 40, "{url} was not compressed");
                assert_eq!(&gzipped.body, bytes);
            }
            Some(other) => panic!("{url}: content-encoding {other}"),
        }
        // A refused gzip is honoured.
        let plain = service
            .request(
                Method::GET,
                url,
                &[("accept-encoding", "gzip;q=0")],
                Vec::new(),
            )
            .await
            .expect(200);
        assert_eq!(&plain.body, bytes);
    }
    let gzipped = service
        .request(Method::GET, "/", &[("accept-encoding", "gzip")], Vec::new())
        .await
        .expect(200);
    assert_eq!(header(&gzipped, "content-encoding"), Some("gzip"));
    assert_eq!(&gunzip(&gzipped.body), index);
    assert_eq!(header(&gzipped, "content-security-policy"), Some(CSP));

    // booth.json: the list the digest is computed from, byte for byte.
    let answer = service.get("/booth.json").await.expect(200);
    assert_eq!(answer.body, list_bytes);
    assert_eq!(header(&answer, "content-type"), Some("application/json"));
    let list = BoothManifest::from_json(&answer.body).unwrap();
    for file in &list.files {
        let url = format!("/{}", file.path);
        let answer = service.get(&url).await.expect(200);
        list.check_file(&file.path, &answer.body).unwrap();
    }

    // A revalidation with the file's ETag is 304, with no body; another ETag gets the file.
    let tag = etag(&files["app/x.js"]);
    for value in [tag.clone(), format!("W/{tag}"), format!("\"x\", {tag}")] {
        let answer = service
            .request(
                Method::GET,
                "/app/x.js",
                &[("if-none-match", &value)],
                Vec::new(),
            )
            .await
            .expect(304);
        assert!(answer.body.is_empty());
        assert_eq!(header(&answer, "etag"), Some(tag.as_str()));
    }
    let answer = service
        .request(
            Method::GET,
            "/app/x.js",
            &[("if-none-match", "\"0000\"")],
            Vec::new(),
        )
        .await
        .expect(200);
    assert_eq!(answer.body, files["app/x.js"]);
    service
        .request(
            Method::GET,
            "/booth",
            &[("if-none-match", &etag(index))],
            Vec::new(),
        )
        .await
        .expect(304);

    // A file the booth does not list is not served, whatever the path.
    for path in [
        "/app/missing.js",
        "/app/../booth.json",
        "/app",
        "/booth/",
        "/tracker/x",
        "/Cargo.toml",
        "/app/x.js/",
    ] {
        service.get(path).await.expect_error(404, "no_route");
    }
    // Reading only.
    let answer = service.post_raw("/app/x.js", Vec::new()).await;
    assert_eq!(answer.status.as_u16(), 405, "{}", answer.text());
    // The API is unchanged beside it.
    service
        .get("/v1/election")
        .await
        .expect_error(404, "no_election");
}

async fn without_a_booth_its_paths_answer_404(db: Db) {
    let service = Service::start(&db).await;
    // The root explains; the app's paths and files are no routes.
    let answer = service.get("/").await;
    answer.expect_error(404, "no_booth");
    assert!(answer.text().contains("--booth"), "{}", answer.text());
    for path in [
        "/booth",
        "/tracker",
        "/results",
        "/glossary",
        "/observer",
        "/officials",
        "/bench",
        "/index.html",
        "/booth.json",
        "/app/x.js",
        "/robots.txt",
    ] {
        service.get(path).await.expect_error(404, "no_route");
    }
    let status: AdminStatus = admin_get(&service, "/v1/admin/status").await.json();
    assert_eq!(status.booth, None);
    // Such a service takes a manifest that publishes a booth as it is.
    let published = with_booth(&manifest(), Some(BoothDigest([7; 32])));
    let info: ElectionInfo = create(&service, &published).await.expect(201).json();
    assert_eq!(info.manifest, published);
    assert_eq!(info.manifest_hash, hex::encode(published.hash().0));
}

// ---------------------------------------------------------------------------------------------
// 2. The booth bound to the election

fn with_booth(manifest: &Manifest, booth: Option<BoothDigest>) -> Manifest {
    Manifest {
        booth,
        ..manifest.clone()
    }
}

async fn create(service: &Service, manifest: &Manifest) -> Answer {
    service
        .admin_post(
            "/v1/election",
            "application/json",
            serde_json::to_vec(&serde_json::json!({ "manifest": manifest })).unwrap(),
        )
        .await
}

async fn creating_the_election_publishes_the_served_booth_and_refuses_another(db: Db) {
    let (_dir, served) = booth("bound");
    let digest = served.digest();
    let (_other_dir, other) = booth("another");
    let service = Service::start_with_booth(&db, Some(served)).await;

    // Another booth's digest in the manifest: refused, nothing created.
    let answer = create(&service, &with_booth(&manifest(), Some(other.digest()))).await;
    answer.expect_error(409, "booth_mismatch");
    let text = answer.text();
    assert!(
        text.contains(&digest.to_hex()) && text.contains(&other.digest().to_hex()),
        "{text}"
    );
    service
        .get("/v1/election")
        .await
        .expect_error(404, "no_election");

    // No booth in the manifest: the service fills in the one it serves, before hashing.
    let info: ElectionInfo = create(&service, &manifest()).await.expect(201).json();
    assert_eq!(info.manifest.booth, Some(digest));
    let published = with_booth(&manifest(), Some(digest));
    assert_eq!(info.manifest, published);
    assert_eq!(info.manifest_hash, hex::encode(published.hash().0));
    assert_ne!(info.manifest_hash, hex::encode(manifest().hash().0));
    // The same request again, or with the booth spelled out: the same election.
    for again in [manifest(), published.clone()] {
        let same: ElectionInfo = create(&service, &again).await.expect(200).json();
        assert_eq!(same.election_id, info.election_id);
        assert_eq!(same.manifest_hash, info.manifest_hash);
    }
    create(&service, &with_booth(&manifest(), Some(other.digest())))
        .await
        .expect_error(409, "booth_mismatch");
    let status: AdminStatus = admin_get(&service, "/v1/admin/status").await.json();
    let booth_status = status.booth.unwrap();
    assert_eq!(booth_status.digest, digest);
    assert_eq!(booth_status.published, Some(true));

    // The election runs with the booth in its manifest: ballots bind the manifest hash.
    let e = Election::on(service, 2, true).await;
    assert_eq!(e.ctx.manifest_hash().0, published.hash().0);
    let (ballot, _) = e.ballot(0, 1);
    e.cast(ballot.to_bytes()).await.expect(201);
}

async fn admin_get(service: &Service, path: &str) -> Answer {
    service
        .request(
            Method::GET,
            path,
            &[("authorization", &format!("Bearer {TOKEN}"))],
            Vec::new(),
        )
        .await
        .expect(200)
}

// ---------------------------------------------------------------------------------------------
// 3. The officials' status

/// The turnout series recomputed from the board's pages.
fn expected_turnout(entries: &[tabella_tally::api::BoardEntry]) -> Vec<TurnoutPoint> {
    let mut minutes: BTreeMap<u64, (u64, u64, u64)> = BTreeMap::new();
    let mut voters = std::collections::BTreeSet::new();
    for e in entries {
        let minute = e.received_at / 60_000 * 60_000;
        let slot = minutes.entry(minute).or_default();
        match e.kind {
            tabella_crypto::board::receipt::EntryKind::Cast => {
                slot.0 += 1;
                if voters.insert(e.credential.clone()) {
                    slot.2 += 1;
                }
            }
            tabella_crypto::board::receipt::EntryKind::Spoiled => slot.1 += 1,
        }
    }
    let (mut cast, mut spoiled, mut voters) = (0, 0, 0);
    minutes
        .into_iter()
        .map(|(minute, (c, s, v))| {
            cast += c;
            spoiled += s;
            voters += v;
            TurnoutPoint {
                minute,
                cast,
                spoiled,
                voters,
            }
        })
        .collect()
}

async fn admin_status_needs_the_token_and_reports_turnout_and_ceremonies(db: Db) {
    let (_dir, served) = booth("status");
    let digest = served.digest();
    let service = Service::start_with_booth(&db, Some(served)).await;

    // The token, as for every administrative call.
    let answer = service.get("/v1/admin/status").await;
    answer.expect_error(401, "unauthorized");
    assert_eq!(header(&answer, "www-authenticate"), Some("Bearer"));
    let answer = service
        .request(
            Method::GET,
            "/v1/admin/status",
            &[("authorization", "Bearer not-the-token")],
            Vec::new(),
        )
        .await;
    answer.expect_error(401, "unauthorized");
    assert_eq!(header(&answer, "www-authenticate"), Some("Bearer"));

    // Before the election.
    let status: AdminStatus = admin_get(&service, "/v1/admin/status").await.json();
    assert!(status.election.is_none());
    assert!(status.turnout.is_empty());
    assert_eq!(status.ceremony.trustees, None);
    assert_eq!(
        (
            status.ceremony.dealers,
            status.ceremony.checks,
            status.ceremony.partials
        ),
        (0, 0, 0)
    );
    assert!(!status.ceremony.joint_key);
    assert!(!status.anchoring.enabled);
    assert_eq!(
        status.booth.as_ref().map(|b| (b.digest, b.published)),
        Some((digest, None))
    );

    // An open election: the key ceremony is complete.
    let e = Election::on(service, 4, true).await;
    let status: AdminStatus = admin_get(&e.service, "/v1/admin/status").await.json();
    let info = status.election.as_ref().unwrap();
    assert_eq!(info.election_id, e.info.election_id);
    assert_eq!(info.state, ElectionState::Open);
    assert_eq!(info.manifest.booth, Some(digest));
    let c = &status.ceremony;
    assert_eq!((c.trustees, c.threshold), (Some(2), Some(2)));
    assert_eq!((c.dealers, c.checks, c.partials), (2, 2, 0));
    assert!(c.joint_key);
    assert_eq!(
        c.messages,
        [
            "ceremony.json",
            "check-1.json",
            "check-2.json",
            "dealer-1.json",
            "dealer-2.json"
        ]
    );
    assert!(status.turnout.is_empty());
    assert_eq!(status.booth.unwrap().published, Some(true));

    // Ballots: voter 0 twice, voter 1 spoils then casts, voter 2 once.
    let (b, _) = e.ballot(0, 0);
    e.cast(b.to_bytes()).await.expect(201);
    let (b, secrets) = e.ballot(1, 1);
    e.spoil(b.to_bytes(), &SpoiledBallot::reveal(secrets))
        .await
        .expect(201);
    for (voter, choice) in [(1, 2), (0, 1), (2, 0)] {
        let (b, _) = e.ballot(voter, choice);
        e.cast(b.to_bytes()).await.expect(201);
    }
    let entries = e.service.all_entries().await;
    let status: AdminStatus = admin_get(&e.service, "/v1/admin/status").await.json();
    assert_eq!(status.turnout, expected_turnout(&entries));
    let last = status.turnout.last().unwrap();
    assert_eq!((last.cast, last.spoiled, last.voters), (4, 1, 3));
    assert!(status.turnout.iter().all(|p| p.minute % 60_000 == 0));
    assert!(status
        .turnout
        .windows(2)
        .all(|w| w[0].minute < w[1].minute && w[0].cast <= w[1].cast));
    let board = status.election.as_ref().unwrap().board;
    assert_eq!((board.size, board.counted, board.spoiled), (5, 3, 1));

    // After the tally: both partial decryptions and the tally request.
    e.close_and_tally().await;
    let status: AdminStatus = admin_get(&e.service, "/v1/admin/status").await.json();
    assert_eq!(status.ceremony.partials, 2);
    assert!(status
        .ceremony
        .messages
        .contains(&"tally-request.json".to_owned()));
    assert!(!status
        .ceremony
        .messages
        .iter()
        .any(|m| m == "results.json" || m == "election.json" || m == "tree-head.json"));
    assert_eq!(status.election.unwrap().state, ElectionState::Tallied);
    assert_eq!(status.turnout, expected_turnout(&entries));
}

// ---------------------------------------------------------------------------------------------
// 4. The election record's documents

async fn record_documents_wait_for_the_tally_and_never_leave_the_record(db: Db) {
    let service = Service::start(&db).await;
    service
        .get("/v1/record/record.json")
        .await
        .expect_error(404, "no_election");
    let e = Election::on(service, 2, true).await;
    let (b, _) = e.ballot(0, 0);
    e.cast(b.to_bytes()).await.expect(201);
    for path in ["record.json", "election.json", "ceremony/dealer-1.json"] {
        e.service
            .get(&format!("/v1/record/{path}"))
            .await
            .expect_error(409, "not_tallied");
    }
    e.close_and_tally().await;
    let index: RecordIndex = e
        .service
        .get("/v1/record/record.json")
        .await
        .expect(200)
        .json();
    assert!(index.files.iter().any(|f| f.path == "election.json"));
    for path in [
        "../tabella.db",
        "ceremony/../election.json",
        "ceremony//dealer-1.json",
        "./election.json",
        "%2e%2e/tabella.db",
        "ceremony/dealer-9.json",
        "ceremony",
        "board.key",
        "tabella.db",
        "notes.txt",
    ] {
        e.service
            .get(&format!("/v1/record/{path}"))
            .await
            .expect_error(404, "not_found");
    }
    // Every listed document, with its SHA-256 as ETag; a revalidation is 304.
    for file in &index.files {
        let answer = e
            .service
            .get(&format!("/v1/record/{}", file.path))
            .await
            .expect(200);
        assert_eq!(
            <[u8; 32]>::from(Sha256::digest(&answer.body)),
            file.sha256,
            "{}",
            file.path
        );
        let tag = format!("\"{}\"", hex::encode(file.sha256));
        if file.path != "ballots.jsonl" {
            assert_eq!(header(&answer, "etag"), Some(tag.as_str()));
            e.service
                .request(
                    Method::GET,
                    &format!("/v1/record/{}", file.path),
                    &[("if-none-match", &tag)],
                    Vec::new(),
                )
                .await
                .expect(304);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Real HTTP

/// `GET path` on a running service: the status, the headers (lowercase names) and the body.
fn http_get(base: &str, path: &str) -> (u16, BTreeMap<String, String>, Vec<u8>) {
    http_get_with(base, path, "")
}

/// [`http_get`] with extra header lines (each ending in `\r\n`).
fn http_get_with(
    base: &str,
    path: &str,
    headers: &str,
) -> (u16, BTreeMap<String, String>, Vec<u8>) {
    use std::io::Write as _;
    let addr = base.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\n{headers}Connection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).unwrap();
    let split = answer.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = String::from_utf8(answer[..split].to_vec()).unwrap();
    let mut body = answer[split + 4..].to_vec();
    let mut lines = head.lines();
    let status = lines
        .next()
        .unwrap()
        .split_whitespace()
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers: BTreeMap<String, String> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    if headers.get("transfer-encoding").map(String::as_str) == Some("chunked") {
        let mut out = Vec::new();
        let mut rest = body.as_slice();
        loop {
            let end = rest.windows(2).position(|w| w == b"\r\n").unwrap();
            let size = usize::from_str_radix(std::str::from_utf8(&rest[..end]).unwrap().trim(), 16)
                .unwrap();
            if size == 0 {
                break;
            }
            out.extend_from_slice(&rest[end + 2..end + 2 + size]);
            rest = &rest[end + 2 + size + 2..];
        }
        body = out;
    }
    (status, headers, body)
}

/// Every file under `dir`, as record paths, with its bytes.
fn read_tree(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    tabella_tally::verify::files_under(dir)
        .unwrap()
        .into_iter()
        .map(|path| {
            let bytes = std::fs::read(dir.join(&path)).unwrap();
            (path, bytes)
        })
        .collect()
}

/// Asserts that the service serves every file of the exported record in `dir`, byte for byte,
/// at `GET /v1/record/{path}`, and that `record.json` lists nothing else.
fn assert_served_as_exported(url: &str, dir: &Path) {
    let exported = read_tree(dir);
    assert!(exported.contains_key(INDEX));
    for (path, bytes) in &exported {
        let (status, headers, body) = http_get(url, &format!("/v1/record/{path}"));
        assert_eq!(status, 200, "{path}: {}", String::from_utf8_lossy(&body));
        assert!(body == *bytes, "{path} is not the exported file");
        if path.ends_with(".json") {
            assert_eq!(
                headers.get("content-type").map(String::as_str),
                Some("application/json"),
                "{path}"
            );
        }
    }
    let index: RecordIndex = serde_json::from_slice(&exported[INDEX]).unwrap();
    let listed: Vec<&str> = index
        .files
        .iter()
        .map(|f| f.path.as_str())
        .chain([INDEX])
        .collect();
    let mut on_disk: Vec<&str> = exported.keys().map(String::as_str).collect();
    on_disk.sort_unstable();
    let mut listed_sorted = listed.clone();
    listed_sorted.sort_unstable();
    assert_eq!(on_disk, listed_sorted);
}

fn the_record_route_serves_exactly_what_export_writes(db: Db) {
    let e = HttpElection::new(&db, 4);
    let public = e.public_client();
    let url = e.service.url();
    let (status, _, body) = http_get(&url, "/v1/record/record.json");
    assert_eq!(status, 409, "{}", String::from_utf8_lossy(&body));
    let (ballot, secrets) = e.ballot(0, 1);
    public
        .spoil(ballot.to_bytes(), &SpoiledBallot::reveal(secrets))
        .unwrap();
    for (voter, choice) in [(0, 0), (1, 2), (2, 1), (1, 1)] {
        let (ballot, _) = e.ballot(voter, choice);
        public.cast(ballot.to_bytes()).unwrap();
    }
    e.close_and_tally();
    let records = tempfile::tempdir().unwrap();
    let record = records.path().join("record");
    let summary = tabella_tally::election::export(&public, &record).unwrap();
    assert!(summary.report.passed());
    assert_served_as_exported(&url, &record);
    // Asked again (now from the cache), the same bytes.
    assert_served_as_exported(&url, &record);
    // No anchors.json without anchoring.
    let (status, _, _) = http_get(&url, "/v1/record/anchors.json");
    assert_eq!(status, 404);
    // The typed client reads the same.
    assert_eq!(
        public.record_document(INDEX).unwrap(),
        std::fs::read(record.join(INDEX)).unwrap()
    );
    let error = public
        .record_document("ceremony/dealer-9.json")
        .unwrap_err();
    assert_eq!(
        (error.status(), error.code()),
        (Some(404), Some("not_found"))
    );
    assert!(public.record_document("../x").is_err());
    let status = e.officials.admin_status().unwrap();
    assert_eq!(
        status.election.map(|i| i.state),
        Some(ElectionState::Tallied)
    );
    assert_eq!(
        status.turnout.last().map(|p| (p.cast, p.spoiled, p.voters)),
        Some((4, 1, 3))
    );
    let error = public.admin_status().unwrap_err();
    assert_eq!(error.code(), Some("unauthorized"));
    e.service.shutdown().unwrap();
}

fn record_json_lists_the_anchors_json_served_as_anchoring_proceeds(db: Db) {
    let chain = TestChain::new();
    let e = HttpElection::with_anchoring(&db, 3, Some(chain.anchoring(Duration::from_millis(300))));
    let public = e.public_client();
    let url = e.service.url();
    wait_anchoring(&public, "the registration", |s| {
        anchored(s, AnchorKind::Election, None)
    });
    for voter in 0..3 {
        let (ballot, _) = e.ballot(voter, voter % 3);
        public.cast(ballot.to_bytes()).unwrap();
    }
    let closes_at = public.anchoring().unwrap().closes_at.unwrap();
    let now = block_on(chain.chain.time()).unwrap();
    if now < closes_at {
        block_on(chain.chain.advance_time(closes_at - now)).unwrap();
    }
    e.close_and_tally();

    // Whenever record.json is read, the anchors.json it lists can be fetched by its SHA-256,
    // even once anchoring has moved on (the result's transaction lands after the tally).
    let listed_anchors = |url: &str| -> [u8; 32] {
        let (status, _, body) = http_get(url, "/v1/record/record.json");
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
        let index: RecordIndex = serde_json::from_slice(&body).unwrap();
        index
            .files
            .iter()
            .find(|f| f.path == "anchors.json")
            .unwrap()
            .sha256
    };
    let early = listed_anchors(&url);
    let (status, _, body) = http_get(
        &url,
        &format!("/v1/record/anchors.json?sha256={}", hex::encode(early)),
    );
    assert_eq!(status, 200);
    assert_eq!(<[u8; 32]>::from(Sha256::digest(&body)), early);

    // Once the result is anchored: the exported record is what the routes serve.
    wait_anchoring(&public, "the result", |s| {
        anchored(s, AnchorKind::Result, None)
    });
    let records = tempfile::tempdir().unwrap();
    let record = records.path().join("record");
    let summary = tabella_tally::election::export(&public, &record).unwrap();
    assert!(summary.report.passed());
    assert_served_as_exported(&url, &record);
    let (_, _, current) = http_get(&url, "/v1/record/anchors.json");
    assert_eq!(current, std::fs::read(record.join("anchors.json")).unwrap());

    // Anchoring moves on (here: the database says the result was sent in another
    // transaction): record.json and anchors.json change together, and the earlier
    // anchors.json stays available by its SHA-256.
    let before = listed_anchors(&url);
    block_on(e.service.state().db.execute_statement(&format!(
        "UPDATE anchor_queue SET transaction_hash = '0x{}' WHERE kind = 'result'",
        "ab".repeat(32)
    )))
    .unwrap();
    let after = listed_anchors(&url);
    assert_ne!(before, after);
    let (_, _, now) = http_get(&url, "/v1/record/anchors.json");
    assert_eq!(<[u8; 32]>::from(Sha256::digest(&now)), after);
    assert!(String::from_utf8_lossy(&now).contains(&"ab".repeat(32)));
    let (_, _, via_record) = http_get(&url, "/v1/record/anchors.json");
    assert_eq!(via_record, now);
    for sha in [before, after, early] {
        let (status, _, body) = http_get(
            &url,
            &format!("/v1/record/anchors.json?sha256={}", hex::encode(sha)),
        );
        assert_eq!(status, 200);
        assert_eq!(<[u8; 32]>::from(Sha256::digest(&body)), sha);
    }
    let (status, _, body) = http_get(
        &url,
        &format!("/v1/record/anchors.json?sha256={}", "00".repeat(32)),
    );
    assert_eq!(status, 404, "{}", String::from_utf8_lossy(&body));
    let (status, _, _) = http_get(&url, "/v1/record/anchors.json?sha256=ABC");
    assert_eq!(status, 400);
    e.service.shutdown().unwrap();
}

// ---------------------------------------------------------------------------------------------
// 5. Start-up with a booth

#[test]
fn a_booth_directory_that_does_not_match_its_list_is_refused_at_start() {
    let dir = tempfile::tempdir().unwrap();
    write_booth(dir.path(), "tampered");
    Booth::load(dir.path()).unwrap();
    let serve = |booth: &Path| {
        let data = tempfile::tempdir().unwrap();
        let opts = <ServeOptionsCli as clap::Parser>::try_parse_from([
            "serve",
            "--data-dir",
            data.path().to_str().unwrap(),
            "--booth",
            booth.to_str().unwrap(),
        ])
        .unwrap()
        .serve;
        opts.config().map(drop).unwrap_err()
    };

    // A file changed after the build.
    std::fs::write(dir.path().join("app/x.js"), b"alert('changed')").unwrap();
    let error = Booth::load(dir.path()).unwrap_err();
    assert!(matches!(error, BoothLoadError::Mismatch { .. }), "{error}");
    let message = format!("{:#}", serve(dir.path()));
    assert!(message.contains("refusing to serve the booth"), "{message}");
    assert!(message.contains("app/x.js"), "{message}");
    assert!(message.contains("does not match booth.json"), "{message}");

    // A listed file missing.
    write_booth(dir.path(), "tampered");
    std::fs::remove_file(dir.path().join("app/style.css")).unwrap();
    let error = Booth::load(dir.path()).unwrap_err();
    assert!(matches!(error, BoothLoadError::Missing { .. }), "{error}");
    assert!(format!("{:#}", serve(dir.path())).contains("app/style.css"));

    // No booth.json, or one that is not a list.
    write_booth(dir.path(), "tampered");
    std::fs::write(dir.path().join("booth.json"), b"{\"format\": 1}").unwrap();
    let error = Booth::load(dir.path()).unwrap_err();
    assert!(matches!(error, BoothLoadError::List { .. }), "{error}");
    std::fs::remove_file(dir.path().join("booth.json")).unwrap();
    let message = format!("{:#}", serve(dir.path()));
    assert!(message.contains("booth.json"), "{message}");
}

/// `tabella serve`'s options, as its command line parses them.
#[derive(clap::Parser)]
struct ServeOptionsCli {
    #[command(flatten)]
    serve: ServeOptions,
}

fn a_restart_with_another_booth_is_refused_and_the_same_booth_starts(db: Db) {
    let seed = board_seed();
    let booth_dir = tempfile::tempdir().unwrap();
    let digest = write_booth(booth_dir.path(), "first");
    let other_dir = tempfile::tempdir().unwrap();
    let other = write_booth(other_dir.path(), "second");
    let spawn = |booth: Option<&Path>| {
        let mut config = config(&db, &seed);
        config.booth = booth.map(|dir| Booth::load(dir).unwrap());
        service::spawn(config, "127.0.0.1:0")
    };

    // Created on a service serving the first booth: the manifest publishes it.
    let running = spawn(Some(booth_dir.path())).unwrap();
    let officials = ElectionClient::new(&running.url(), Some(TOKEN.to_owned())).unwrap();
    let (info, created) = officials.create(&manifest()).unwrap();
    assert!(created);
    assert_eq!(info.manifest.booth, Some(digest));
    running.shutdown().unwrap();

    // Another booth: refused at start, naming both digests.
    let error = format!("{:#}", spawn(Some(other_dir.path())).unwrap_err());
    assert!(error.contains(&digest.to_hex()), "{error}");
    assert!(error.contains(&other.to_hex()), "{error}");
    // Without a booth, or with the same one: it starts.
    spawn(None).unwrap().shutdown().unwrap();
    let running = spawn(Some(booth_dir.path())).unwrap();
    let (status, _, body) = http_get(&running.url(), "/booth.json");
    assert_eq!(status, 200);
    assert_eq!(BoothManifest::from_json(&body).unwrap().digest(), digest);
    running.shutdown().unwrap();
}

fn an_election_without_a_booth_is_served_a_booth_flagged_unpublished(db: Db) {
    let seed = board_seed();
    let booth_dir = tempfile::tempdir().unwrap();
    let digest = write_booth(booth_dir.path(), "late");
    let running = service::spawn(config(&db, &seed), "127.0.0.1:0").unwrap();
    let officials = ElectionClient::new(&running.url(), Some(TOKEN.to_owned())).unwrap();
    let (info, _) = officials.create(&manifest()).unwrap();
    assert_eq!(info.manifest.booth, None);
    running.shutdown().unwrap();
    // Served anyway, with a warning; the status says the manifest does not publish it.
    let mut with_booth = config(&db, &seed);
    with_booth.booth = Some(Booth::load(booth_dir.path()).unwrap());
    let running = service::spawn(with_booth, "127.0.0.1:0").unwrap();
    let (code, _, body) = http_get_with(
        &running.url(),
        "/v1/admin/status",
        &format!("Authorization: Bearer {TOKEN}\r\n"),
    );
    assert_eq!(code, 200, "{}", String::from_utf8_lossy(&body));
    let status: AdminStatus = serde_json::from_slice(&body).unwrap();
    let booth = status.booth.unwrap();
    assert_eq!((booth.digest, booth.published), (digest, Some(false)));
    let (code, _, _) = http_get(&running.url(), "/booth");
    assert_eq!(code, 200);
    running.shutdown().unwrap();
}
