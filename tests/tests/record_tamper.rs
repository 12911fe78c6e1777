//! A record written by the real service (`tabella demo`, every contest style, a spoiled ballot
//! and second votes among the voters) verifies, and every single-value change we try to it is
//! rejected: for several hundred changes, each one value anywhere in any document or ballot line
//! (a number, a character of a string or a hex digit, a boolean), with `record.json` repaired so
//! that the change has to be caught by what it breaks rather than by the file digests.

use std::collections::BTreeMap;
use std::path::Path;

use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha20Rng;
use serde_json::Value;
use tabella_crypto::record::synth::{reindex, Files};
use tabella_crypto::record::{
    ChainEvidence, Check, Outcome, RecordVerifier, Report, VerifyOptions, BALLOTS, INDEX,
};
use tabella_tally::chain::ChainArgs;
use tabella_tally::demo::{self, ContestSet, DemoOptions};
use tabella_tally::verify::chain_evidence;

/// Changes tried on the demo's record.
const CHANGES: usize = 300;

fn read_dir(dir: &Path, prefix: &str, out: &mut Files) {
    for entry in std::fs::read_dir(dir).expect("the record directory") {
        let entry = entry.expect("a directory entry");
        let name = format!("{prefix}{}", entry.file_name().to_string_lossy());
        if entry.file_type().expect("a file type").is_dir() {
            read_dir(&entry.path(), &format!("{name}/"), out);
        } else {
            out.insert(name, std::fs::read(entry.path()).expect("a record file"));
        }
    }
}

fn verify(files: &Files, chain: &ChainEvidence) -> Report {
    let index = files.get(INDEX).map(Vec::as_slice).unwrap_or_default();
    let mut v = RecordVerifier::new(
        index,
        VerifyOptions {
            board_key: None,
            chain: Some(chain.clone()),
            booth: None,
        },
        &mut ChaCha20Rng::seed_from_u64(5),
    );
    for path in v.documents() {
        if let Some(bytes) = files.get(&path) {
            v.document(&path, bytes);
        }
    }
    if let Some(ballots) = files.get(BALLOTS) {
        v.ballots(&[]);
        for chunk in ballots.chunks(4096) {
            v.ballots(chunk);
        }
    }
    v.finish()
}

/// Every leaf of a JSON value, as JSON pointers.
fn leaves(value: &Value, at: String, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                leaves(
                    v,
                    format!("{at}/{}", k.replace('~', "~0").replace('/', "~1")),
                    out,
                );
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                leaves(v, format!("{at}/{i}"), out);
            }
        }
        _ => out.push(at),
    }
}

/// Another value of the same kind: a number ± 1, one character of a string replaced by another
/// (a hex digit by another hex digit), a boolean negated.
fn change(value: &mut Value, pick: u64) {
    match value {
        Value::Number(n) => {
            let v = n.as_u64().unwrap_or(0);
            *value = Value::from(if v == 0 { 1 } else { v - 1 });
        }
        Value::String(s) => {
            let mut chars: Vec<char> = s.chars().collect();
            if chars.is_empty() {
                *s = "x".into();
                return;
            }
            let i = (pick as usize) % chars.len();
            chars[i] = match chars[i] {
                c @ ('0'..='9' | 'a'..='f') => {
                    let digits = "0123456789abcdef";
                    let d = digits.find(c).unwrap_or(0);
                    digits.as_bytes()[(d + 1 + (pick as usize % 15)) % 16] as char
                }
                'z' => 'y',
                c if c.is_ascii_alphanumeric() => ((c as u8) + 1) as char,
                _ => 'q',
            };
            *s = chars.into_iter().collect();
        }
        Value::Bool(b) => *b = !*b,
        Value::Null => *value = Value::from(0),
        _ => {}
    }
}

#[test]
fn every_single_value_change_to_a_demo_record_is_rejected() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let record = dir.path().join("record");
    demo::run(&DemoOptions {
        voters: 12,
        seed: Some(11),
        contests: ContestSet::All,
        no_serve: true,
        record: Some(record.clone()),
        ..DemoOptions::default()
    })
    .expect("the demo election completes");
    // The demo anchors on its embedded chain, kept next to the record: changes to anchors.json
    // are for the chain checks (V20, V21) to catch.
    let chain = chain_evidence(
        &record,
        &ChainArgs {
            chain_dir: Some(demo::chain_dir_for(&record)),
            ..ChainArgs::default()
        },
    )
    .expect("the embedded chain reads")
    .expect("a chain was given");
    let mut valid = Files::new();
    read_dir(&record, "", &mut valid);
    let report = verify(&valid, &chain);
    assert!(report.passed(), "{:?}", report.first_failure());
    for check in [Check::V20, Check::V21] {
        let ran = report.checks.iter().find(|c| c.check == check);
        assert_eq!(ran.map(|c| c.outcome), Some(Outcome::Passed), "{check:?}");
    }

    let paths: Vec<String> = valid.keys().cloned().collect();
    let mut rng = ChaCha20Rng::seed_from_u64(2026);
    let mut caught: BTreeMap<String, usize> = BTreeMap::new();
    for _ in 0..CHANGES {
        // A third of the changes go to the ballots, the rest to any file.
        let path = if rng.next_u64() % 3 == 0 {
            &BALLOTS.to_string()
        } else {
            &paths[(rng.next_u64() as usize) % paths.len()]
        };
        let mut files = valid.clone();
        let what;
        if path == BALLOTS {
            let lines: Vec<&[u8]> = valid[BALLOTS]
                .split(|&b| b == b'\n')
                .filter(|l| !l.is_empty())
                .collect();
            let line = (rng.next_u64() as usize) % lines.len();
            let mut value: Value = serde_json::from_slice(lines[line]).expect("an entry");
            let mut all = Vec::new();
            leaves(&value, String::new(), &mut all);
            let pointer = &all[(rng.next_u64() as usize) % all.len()];
            change(
                value.pointer_mut(pointer).expect("the leaf"),
                rng.next_u64(),
            );
            what = format!("{BALLOTS} line {line} {pointer}");
            let mut out = Vec::new();
            for (i, l) in lines.iter().enumerate() {
                if i == line {
                    out.extend_from_slice(&serde_json::to_vec(&value).expect("JSON"));
                } else {
                    out.extend_from_slice(l);
                }
                out.push(b'\n');
            }
            files.insert(BALLOTS.into(), out);
        } else {
            let mut value: Value = serde_json::from_slice(&valid[path]).expect("a document");
            let mut all = Vec::new();
            leaves(&value, String::new(), &mut all);
            let pointer = &all[(rng.next_u64() as usize) % all.len()];
            change(
                value.pointer_mut(pointer).expect("the leaf"),
                rng.next_u64(),
            );
            what = format!("{path} {pointer}");
            files.insert(
                path.clone(),
                serde_json::to_vec_pretty(&value).expect("JSON"),
            );
        }
        if path != INDEX {
            reindex(&mut files);
        }
        assert_ne!(files, valid, "{what}: the change changed nothing");
        let report = verify(&files, &chain);
        let first = report.first_failure().map(|c| c.check.id());
        assert!(!report.passed(), "a change to {what} went unnoticed");
        *caught.entry(first.unwrap_or_default()).or_default() += 1;
    }
    eprintln!("{CHANGES} changes, first failing check of each: {caught:?}");
    // The changes were caught by many different checks, not only by one.
    assert!(caught.len() >= 8, "caught by {caught:?}");
}
