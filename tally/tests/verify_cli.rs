//! `tabella verify` and `tabella bench record` through the real binary: a synthesized record
//! verifies; a changed, truncated or padded record, a wrong board key, and paths that are not
//! records fail with the check's number or a plain message, never a panic.

#![allow(clippy::unwrap_used)] // Test helpers: a failure is a test failure.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use tabella_crypto::board::BoardSigningKey;
use tabella_crypto::record::synth::{reindex, Files};
use tabella_crypto::record::{RecordIndex, INDEX, RESULTS};

fn tabella<S: AsRef<OsStr>>(args: &[S]) -> Output {
    let output = Command::new(env!("CARGO_BIN_EXE_tabella"))
        .args(args)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !stderr.contains("panicked"),
        "the binary panicked: {stderr}"
    );
    output
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8(output.stderr.clone()).unwrap()
}

fn last_line(output: &Output) -> String {
    stdout(output)
        .lines()
        .last()
        .unwrap_or_default()
        .to_string()
}

/// A valid 8-voter record (one spoiled ballot, one revote), made by `tabella bench record`.
fn record(temp: &tempfile::TempDir) -> PathBuf {
    let dir = temp.path().join("record");
    let output = tabella(&[
        OsStr::new("bench"),
        OsStr::new("record"),
        OsStr::new("--voters"),
        OsStr::new("8"),
        OsStr::new("--spoil-every"),
        OsStr::new("4"),
        OsStr::new("--out"),
        dir.as_os_str(),
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        stdout(&output).contains("tabella verify"),
        "{}",
        stdout(&output)
    );
    dir
}

fn verify(dir: &Path, extra: &[&str]) -> Output {
    let mut args = vec![OsStr::new("verify"), dir.as_os_str()];
    args.extend(extra.iter().map(OsStr::new));
    tabella(&args)
}

fn report(dir: &Path, extra: &[&str]) -> (Output, serde_json::Value) {
    let mut extra = extra.to_vec();
    extra.push("--json");
    let output = verify(dir, &extra);
    let json = serde_json::from_slice(&output.stdout).unwrap();
    (output, json)
}

/// Every file `record.json` lists, and `record.json`.
fn read_record(dir: &Path) -> Files {
    let index: RecordIndex =
        serde_json::from_slice(&std::fs::read(dir.join(INDEX)).unwrap()).unwrap();
    let mut files = Files::new();
    for file in index.files.iter().map(|f| f.path.as_str()).chain([INDEX]) {
        files.insert(file.to_string(), std::fs::read(dir.join(file)).unwrap());
    }
    files
}

fn assert_fails(output: &Output, check: &str) {
    assert_eq!(output.status.code(), Some(1), "{}", stdout(output));
    let last = last_line(output);
    assert!(
        last.starts_with(&format!("FAILED {check} (")),
        "expected {check} to fail first: {last}"
    );
}

#[test]
fn valid_record_passes_every_check() {
    let temp = tempfile::tempdir().unwrap();
    let dir = record(&temp);
    let output = verify(&dir, &[]);
    let text = stdout(&output);
    assert!(output.status.success(), "{text}");
    for n in 1..=19 {
        let id = format!("V{n}");
        let line = text
            .lines()
            .find(|l| l.split_whitespace().next() == Some(id.as_str()))
            .unwrap_or_else(|| panic!("no line for {id}: {text}"));
        assert_eq!(line.split_whitespace().nth(1), Some("pass"), "{line}");
    }
    for expected in [
        "board entries        11",
        "  spoiled             2",
        "  superseded          1",
        "credentials           8",
        "election       ",
        "board key      ",
        "record digest  ",
        "Results: 8 ballots counted",
        "decrypted by trustees 1, 3, 4; absent 2",
        "time           ",
    ] {
        assert!(text.contains(expected), "no {expected:?} in {text}");
    }
    // Without a chain, the chain checks are skipped, and the verdict says so; so is the booth
    // check without a booth.
    for id in ["V20", "V21", "V22"] {
        let line = text
            .lines()
            .find(|l| l.split_whitespace().next() == Some(id))
            .unwrap_or_else(|| panic!("no line for {id}: {text}"));
        assert!(line.contains("skipped"), "{line}");
    }
    assert!(text.contains("no chain was given"), "{text}");
    assert!(text.contains("no booth was given"), "{text}");
    assert!(
        last_line(&output).starts_with(
            "PASSED: 19 of 22 checks hold; V20 and V21 were not run (no chain given: \
             --chain-dir or --rpc-url compares the record with the chain); V22 was not run (no \
             booth given"
        ),
        "{}",
        last_line(&output)
    );
}

#[test]
fn json_report_has_nineteen_passed_checks_and_three_skipped_without_a_chain_or_a_booth() {
    let temp = tempfile::tempdir().unwrap();
    let dir = record(&temp);
    let (output, json) = report(&dir, &[]);
    assert!(output.status.success(), "{}", stderr(&output));
    let checks = json["checks"].as_array().unwrap();
    assert_eq!(checks.len(), 22);
    for (n, check) in checks.iter().enumerate() {
        assert_eq!(check["check"], format!("V{}", n + 1));
        let expected = if n < 19 { "passed" } else { "skipped" };
        assert_eq!(check["outcome"], expected, "{check}");
    }
    assert_eq!(json["counts"]["entries"], 11);
    assert_eq!(json["counts"]["spoiled"], 2);
    assert_eq!(json["counts"]["counted"], 8);
    assert_eq!(json["results"]["ballots_counted"], 8);
    assert_eq!(json["board_key"].as_str().map(str::len), Some(64));
    // The report holds nothing about the run: verifying again gives the same bytes.
    let (again, _) = report(&dir, &[]);
    assert_eq!(output.stdout, again.stdout);
}

#[test]
fn changed_result_fails_the_index_check() {
    let temp = tempfile::tempdir().unwrap();
    let dir = record(&temp);
    let path = dir.join(RESULTS);
    let mut results: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    let total = &mut results["contests"][0]["selections"][0]["total"];
    *total = (total.as_u64().unwrap() + 1).into();
    std::fs::write(&path, serde_json::to_vec_pretty(&results).unwrap()).unwrap();
    let output = verify(&dir, &[]);
    assert_fails(&output, "V1");
    assert!(last_line(&output).contains("results.json is not the file record.json lists"));
    // The results table is shown only for a record that verifies.
    assert!(!stdout(&output).contains("ballots counted"));
    let (output, json) = report(&dir, &[]);
    assert_eq!(output.status.code(), Some(1));
    assert!(json.get("results").is_none());
    assert!(
        stderr(&output).starts_with("FAILED V1 ("),
        "{}",
        stderr(&output)
    );
}

#[test]
fn changed_result_with_a_repaired_index_fails_the_results_check() {
    let temp = tempfile::tempdir().unwrap();
    let dir = record(&temp);
    let mut files = read_record(&dir);
    let mut results: serde_json::Value = serde_json::from_slice(&files[RESULTS]).unwrap();
    let total = &mut results["contests"][0]["selections"][0]["total"];
    *total = (total.as_u64().unwrap() + 1).into();
    files.insert(
        RESULTS.to_string(),
        serde_json::to_vec_pretty(&results).unwrap(),
    );
    reindex(&mut files);
    for (path, bytes) in &files {
        std::fs::write(dir.join(path), bytes).unwrap();
    }
    let output = verify(&dir, &[]);
    assert_fails(&output, "V18");
    assert!(
        last_line(&output).contains("the published total is"),
        "{}",
        last_line(&output)
    );
    let text = stdout(&output);
    assert!(text.lines().any(|l| l.starts_with("  V1   pass")), "{text}");
}

#[test]
fn directory_without_an_index_is_a_clear_error() {
    let temp = tempfile::tempdir().unwrap();
    let output = verify(temp.path(), &[]);
    assert!(!output.status.success());
    assert!(output.stdout.is_empty());
    let message = stderr(&output);
    assert!(message.starts_with("error: could not read "), "{message}");
    assert!(message.contains("record.json"), "{message}");
    assert!(message.contains("an election record?"), "{message}");
}

#[test]
fn a_file_is_not_a_record() {
    let temp = tempfile::tempdir().unwrap();
    let dir = record(&temp);
    let output = verify(&dir.join(INDEX), &[]);
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains("is not a directory"),
        "{}",
        stderr(&output)
    );
    let output = verify(&temp.path().join("nowhere"), &["--json"]);
    assert!(!output.status.success());
    assert!(output.stdout.is_empty());
    assert!(
        stderr(&output).contains("does not exist"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn truncated_ballots_fail_with_a_reason() {
    let temp = tempfile::tempdir().unwrap();
    let dir = record(&temp);
    let path = dir.join("ballots.jsonl");
    let bytes = std::fs::read(&path).unwrap();
    std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
    let output = verify(&dir, &[]);
    assert_fails(&output, "V1");
    let text = stdout(&output);
    assert!(
        text.contains("the file ends in the middle of a line (truncated?)"),
        "{text}"
    );
    let (_, json) = report(&dir, &[]);
    assert_eq!(json["checks"][7]["check"], "V8");
    assert_eq!(json["checks"][7]["outcome"], "failed");
}

#[test]
fn unlisted_file_fails_the_index_check() {
    let temp = tempfile::tempdir().unwrap();
    let dir = record(&temp);
    std::fs::write(dir.join("ceremony").join("notes.txt"), b"hello").unwrap();
    let output = verify(&dir, &[]);
    assert_fails(&output, "V1");
    assert!(
        last_line(&output).contains("ceremony/notes.txt is in the record directory but not listed"),
        "{}",
        last_line(&output)
    );
}

#[test]
fn board_key_option_pins_the_board() {
    let temp = tempfile::tempdir().unwrap();
    let dir = record(&temp);
    let (_, json) = report(&dir, &[]);
    let own = json["board_key"].as_str().unwrap().to_string();
    let output = verify(&dir, &["--board-key", &own]);
    assert!(output.status.success(), "{}", stdout(&output));

    let other = BoardSigningKey::generate(&mut rand::rngs::OsRng)
        .public()
        .to_string();
    let output = verify(&dir, &["--board-key", &other]);
    assert_fails(&output, "V3");

    for bad in ["", "xyz", &own[..63], &own.to_uppercase()] {
        let output = verify(&dir, &["--board-key", bad]);
        assert_eq!(output.status.code(), Some(2), "{bad:?}");
        assert!(output.stdout.is_empty());
        assert!(
            stderr(&output).contains("64 lowercase hex digits"),
            "{}",
            stderr(&output)
        );
    }
}

#[test]
fn bench_record_refuses_a_non_empty_directory_and_can_verify() {
    let temp = tempfile::tempdir().unwrap();
    std::fs::write(temp.path().join("keep.txt"), b"mine").unwrap();
    let output = tabella(&[
        OsStr::new("bench"),
        OsStr::new("record"),
        OsStr::new("--voters"),
        OsStr::new("2"),
        OsStr::new("--out"),
        temp.path().as_os_str(),
    ]);
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains("is not empty"),
        "{}",
        stderr(&output)
    );
    assert_eq!(std::fs::read_dir(temp.path()).unwrap().count(), 1);

    let out = temp.path().join("fresh");
    let output = tabella(&[
        OsStr::new("bench"),
        OsStr::new("record"),
        OsStr::new("--voters"),
        OsStr::new("3"),
        OsStr::new("--absent"),
        OsStr::new("--verify"),
        OsStr::new("--out"),
        out.as_os_str(),
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    let text = stdout(&output);
    assert!(text.contains("Wrote a record of 3 voters"), "{text}");
    assert!(text.contains("decrypted by trustees 1, 2, 3\n"), "{text}");
    assert!(last_line(&output).starts_with("PASSED"), "{text}");
}

// ---------------------------------------------------------------------------------------------
// --booth (V22)

/// A tiny booth in `dir`: `index.html` and `app/x.js` (saying `text`), and their `booth.json`.
fn fake_booth(dir: &Path, text: &str) -> tabella_crypto::booth::BoothDigest {
    let index = b"<!doctype html><script type=module src=/app/x.js></script>".to_vec();
    let script = format!("console.log({text:?});").into_bytes();
    std::fs::create_dir_all(dir.join("app")).unwrap();
    std::fs::write(dir.join("index.html"), &index).unwrap();
    std::fs::write(dir.join("app/x.js"), &script).unwrap();
    let list = tabella_crypto::booth::BoothManifest::from_files([
        ("index.html", index.as_slice()),
        ("app/x.js", script.as_slice()),
    ])
    .unwrap();
    std::fs::write(
        dir.join("booth.json"),
        serde_json::to_vec_pretty(&list).unwrap(),
    )
    .unwrap();
    list.digest()
}

/// A valid 4-voter record whose manifest publishes `booth`.
fn record_publishing(temp: &tempfile::TempDir, booth: &str) -> PathBuf {
    let manifest = temp.path().join("manifest.json");
    std::fs::write(
        &manifest,
        format!(
            r#"{{"title":"Booth","booth":"{booth}","contests":[{{"id":"c","title":"C",
            "style":{{"type":"plurality"}},"selections":[{{"id":"a","label":"A"}},{{"id":"b","label":"B"}}]}}]}}"#
        ),
    )
    .unwrap();
    let dir = temp.path().join("record");
    let output = tabella(&[
        OsStr::new("bench"),
        OsStr::new("record"),
        OsStr::new("--voters"),
        OsStr::new("4"),
        OsStr::new("--manifest"),
        manifest.as_os_str(),
        OsStr::new("--out"),
        dir.as_os_str(),
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    dir
}

#[test]
fn booth_directory_is_compared_with_the_manifests_booth_digest() {
    let temp = tempfile::tempdir().unwrap();
    let booth = temp.path().join("booth");
    let digest = fake_booth(&booth, "the published booth");
    let dir = record_publishing(&temp, &digest.to_hex());
    let booth_arg = booth.to_str().unwrap();

    // The published booth: every check but the chain's passes, V22 included.
    let output = verify(&dir, &["--booth", booth_arg]);
    let text = stdout(&output);
    assert!(output.status.success(), "{text}");
    let line = text
        .lines()
        .find(|l| l.split_whitespace().next() == Some("V22"))
        .unwrap();
    assert_eq!(line.split_whitespace().nth(1), Some("pass"), "{line}");
    assert!(text.contains(&format!("booth digest   {digest}")), "{text}");
    assert!(
        last_line(&output).starts_with("PASSED: 20 of 22 checks hold; V20 and V21 were not run"),
        "{}",
        last_line(&output)
    );
    let (output, json) = report(&dir, &["--booth", booth_arg]);
    assert!(output.status.success());
    assert_eq!(json["booth"], digest.to_hex());
    assert_eq!(json["checks"][21]["outcome"], "passed");

    // Another booth: V22 fails, naming both digests.
    let other_dir = temp.path().join("other-booth");
    let other = fake_booth(&other_dir, "another booth");
    let output = verify(&dir, &["--booth", other_dir.to_str().unwrap()]);
    assert_fails(&output, "V22");
    let last = last_line(&output);
    assert!(
        last.contains(&other.to_hex()) && last.contains(&digest.to_hex()),
        "{last}"
    );

    // The bench record's manifest publishes no booth: any booth fails V22.
    let plain = tempfile::tempdir().unwrap();
    let plain_dir = record(&plain);
    let output = verify(&plain_dir, &["--booth", booth_arg]);
    assert_fails(&output, "V22");
    assert!(
        last_line(&output).contains("the manifest publishes no booth digest"),
        "{}",
        last_line(&output)
    );
}

#[test]
fn a_changed_booth_directory_is_refused_before_any_check() {
    let temp = tempfile::tempdir().unwrap();
    let booth = temp.path().join("booth");
    let digest = fake_booth(&booth, "the published booth");
    let dir = record_publishing(&temp, &digest.to_hex());
    // A file edited after the build: the directory does not match its booth.json.
    std::fs::write(booth.join("app/x.js"), b"console.log('changed');").unwrap();
    let output = verify(&dir, &["--booth", booth.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(1));
    let message = stderr(&output);
    assert!(message.contains("app/x.js"), "{message}");
    assert!(message.contains("does not match booth.json"), "{message}");
    // A directory without booth.json.
    let output = verify(&dir, &["--booth", temp.path().to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("booth.json"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn booth_url_is_fetched_from_the_service_and_compared() {
    use secrecy::SecretString;
    use tabella_tally::service::{self, Booth, Limits, ServiceConfig};

    let temp = tempfile::tempdir().unwrap();
    let booth = temp.path().join("booth");
    let digest = fake_booth(&booth, "the published booth");
    let dir = record_publishing(&temp, &digest.to_hex());
    let data = temp.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let running = service::spawn(
        ServiceConfig {
            database_url: service::sqlite_url(&data),
            board_key: BoardSigningKey::generate(&mut rand::rngs::OsRng),
            admin_token: Some(SecretString::from("token".to_owned())),
            limits: Limits::default(),
            anchoring: None,
            booth: Some(Booth::load(&booth).unwrap()),
        },
        "127.0.0.1:0",
    )
    .unwrap();
    let url = running.url();
    let output = verify(&dir, &["--booth", &url]);
    assert!(output.status.success(), "{}", stdout(&output));
    assert!(
        stderr(&output).contains(&format!("digest {digest}")),
        "{}",
        stderr(&output)
    );

    // A service serving another booth fails V22.
    let other_dir = temp.path().join("other-booth");
    fake_booth(&other_dir, "another booth");
    let other_data = temp.path().join("other-data");
    std::fs::create_dir_all(&other_data).unwrap();
    let other = service::spawn(
        ServiceConfig {
            database_url: service::sqlite_url(&other_data),
            board_key: BoardSigningKey::generate(&mut rand::rngs::OsRng),
            admin_token: None,
            limits: Limits::default(),
            anchoring: None,
            booth: Some(Booth::load(&other_dir).unwrap()),
        },
        "127.0.0.1:0",
    )
    .unwrap();
    let output = verify(&dir, &["--booth", &other.url()]);
    assert_fails(&output, "V22");

    // A service serving no booth: a clear error, no verdict.
    let none_data = temp.path().join("none-data");
    std::fs::create_dir_all(&none_data).unwrap();
    let none = service::spawn(
        ServiceConfig {
            database_url: service::sqlite_url(&none_data),
            board_key: BoardSigningKey::generate(&mut rand::rngs::OsRng),
            admin_token: None,
            limits: Limits::default(),
            anchoring: None,
            booth: None,
        },
        "127.0.0.1:0",
    )
    .unwrap();
    let output = verify(&dir, &["--booth", &none.url()]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("serves no booth"),
        "{}",
        stderr(&output)
    );
    drop((running, other, none));
}
