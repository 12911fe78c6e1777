//! `tabella demo --hold-open SECONDS` through the real binary, as an operator runs it in the
//! background (no terminal): voting stays open for the time given and the election is then
//! counted; SIGTERM stops it at any point and removes its temporary files.

#![allow(clippy::unwrap_used)] // Test helpers: a failure is a test failure.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use tabella_crypto::booth::{BoothManifest, BOOTH_MANIFEST};

/// A tiny booth directory the service accepts: a page, a script and their `booth.json`.
fn booth(dir: &Path) -> PathBuf {
    let booth = dir.join("booth");
    std::fs::create_dir_all(booth.join("app")).unwrap();
    let index = b"<!doctype html><script type=module src=/app/x.js></script>".to_vec();
    let script = b"console.log(1);".to_vec();
    let list = BoothManifest::from_files([
        ("index.html", index.as_slice()),
        ("app/x.js", script.as_slice()),
    ])
    .unwrap();
    std::fs::write(booth.join("index.html"), index).unwrap();
    std::fs::write(booth.join("app/x.js"), script).unwrap();
    std::fs::write(
        booth.join(BOOTH_MANIFEST),
        serde_json::to_vec(&list).unwrap(),
    )
    .unwrap();
    booth
}

/// `tabella demo` on a few voters with the booth, held open, stdin not a terminal.
fn demo(dir: &Path, hold: u64, extra: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_tabella"))
        .args([
            "demo",
            "--voters",
            "6",
            "--trustees",
            "3",
            "--threshold",
            "2",
        ])
        .args([
            "--no-chain",
            "--seed",
            "5",
            "--hold-open",
            &hold.to_string(),
        ])
        .arg("--booth")
        .arg(booth(dir))
        .arg("--record")
        .arg(dir.join("record"))
        .args(extra)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        // Errors show in the test's output; progress bars are hidden without a terminal.
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap()
}

/// The lines of the child's stdout, as they come.
fn lines(child: &mut Child) -> mpsc::Receiver<String> {
    let out = child.stdout.take().unwrap();
    let (send, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines() {
            let Ok(line) = line else { return };
            if send.send(line).is_err() {
                return;
            }
        }
    });
    lines
}

/// Reads lines until one contains `what`; returns every line read.
fn until(lines: &mpsc::Receiver<String>, what: &str) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(300);
    let mut seen = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match lines.recv_timeout(left) {
            Ok(line) => {
                let found = line.contains(what);
                seen.push(line);
                if found {
                    return seen;
                }
            }
            Err(e) => panic!(
                "no line with {what:?} ({e}); the demo printed:\n{}",
                seen.join("\n")
            ),
        }
    }
}

/// The temporary data directory the demo names in its `service … (SQLite database in DIR)`
/// line.
fn data_dir(seen: &[String]) -> PathBuf {
    let line = seen
        .iter()
        .find(|l| l.contains("SQLite database in "))
        .unwrap_or_else(|| panic!("no service line in:\n{}", seen.join("\n")));
    let dir = line.rsplit("SQLite database in ").next().unwrap();
    PathBuf::from(dir.trim_end_matches(')'))
}

fn sigterm(child: &Child) {
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

#[test]
fn sigterm_while_voting_is_held_open_stops_the_demo_and_removes_its_temporary_files() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = demo(dir.path(), 3600, &[]);
    let lines = lines(&mut child);
    let seen = until(&lines, "Voting stays open for 3600 s");
    let data = data_dir(&seen);
    assert!(data.join("registrar").is_dir(), "{}", data.display());
    sigterm(&child);
    let status = child.wait().unwrap();
    let rest: Vec<String> = lines.iter().collect();
    assert!(status.success(), "{status}: {rest:?}");
    let said = rest.join("\n");
    assert!(
        said.contains("Stopped by SIGTERM while voting was open"),
        "{said}"
    );
    assert!(said.contains("temporary files are removed"), "{said}");
    assert!(!data.exists(), "{} is left behind", data.display());
}

#[test]
fn held_open_voting_closes_by_itself_and_the_election_is_counted_then_sigterm_stops_the_service() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = demo(dir.path(), 1, &[]);
    let lines = lines(&mut child);
    let seen = until(&lines, "Voting stays open for 1 s");
    let data = data_dir(&seen);
    // Counted and verified without anyone at a terminal; then it serves until stopped.
    let seen = until(&lines, "The service keeps running");
    let said = seen.join("\n");
    assert!(said.contains("tabella verify"), "{said}");
    assert!(dir.path().join("record").join("record.json").is_file());
    sigterm(&child);
    let status = child.wait().unwrap();
    let rest: Vec<String> = lines.iter().collect();
    assert!(status.success(), "{status}: {rest:?}");
    assert!(
        rest.iter().any(|l| l.contains("Stopped by SIGTERM")),
        "{rest:?}"
    );
    assert!(!data.exists(), "{} is left behind", data.display());
    // The record is the operator's and stays.
    assert!(dir.path().join("record").join("record.json").is_file());
}

#[test]
fn hold_open_needs_a_booth() {
    let output = Command::new(env!("CARGO_BIN_EXE_tabella"))
        .args(["demo", "--hold-open", "5"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("--booth"), "{stderr}");
}
