//! Tests of the record verifier: a valid synthetic record passes every check, and for every
//! check a record changed at exactly that point fails it (spec/verification.md).

#![allow(clippy::panic)] // Test failures name what passed that should not have.

use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

use super::synth::{reindex, reseal, synthesize, Files, SynthOptions, Synthesized};
use super::*;
use crate::manifest::Manifest;
#[cfg(all(target_arch = "wasm32", target_os = "unknown"))]
use wasm_bindgen_test::wasm_bindgen_test as test;

pub(crate) fn small_manifest() -> Manifest {
    Manifest::from_json(
        r#"{"title":"Small","contests":[
            {"id":"mayor","title":"Mayor","style":{"type":"plurality"},"selections":[
                {"id":"a","label":"Ada"},{"id":"b","label":"Bo"},{"id":"c","label":"Cy"}]},
            {"id":"parks","title":"Parks","style":{"type":"approval","min":0,"max":2},"selections":[
                {"id":"n","label":"North"},{"id":"s","label":"South"},{"id":"e","label":"East"}]},
            {"id":"budget","title":"Budget","style":{"type":"cumulative","max_per_selection":3,"budget":4},"selections":[
                {"id":"x","label":"Roads"},{"id":"y","label":"Schools"}]}]}"#,
    )
    .unwrap()
}

pub(crate) fn options() -> SynthOptions {
    SynthOptions {
        manifest: small_manifest(),
        voters: 6,
        trustees: 3,
        threshold: 2,
        absent: vec![2],
        spoil_every: 4,
        revote_every: 3,
        replaced: 1,
        seed: 7,
    }
}

pub(crate) fn record() -> (Files, Synthesized) {
    let mut files = Files::new();
    let secrets = synthesize(&options(), &mut files, |_| {}).unwrap();
    (files, secrets)
}

pub(crate) fn verify(files: &Files) -> Report {
    verify_with(files, VerifyOptions::default())
}

pub(crate) fn verify_with(files: &Files, options: VerifyOptions) -> Report {
    let mut v = RecordVerifier::new(
        files.get(INDEX).map(Vec::as_slice).unwrap_or_default(),
        options,
        &mut ChaCha20Rng::seed_from_u64(1),
    );
    for path in v.documents() {
        if let Some(bytes) = files.get(&path) {
            v.document(&path, bytes);
        }
    }
    for path in files.keys() {
        if path != INDEX && path != BALLOTS && !v.documents().contains(path) {
            v.unlisted_file(path);
        }
    }
    if let Some(ballots) = files.get(BALLOTS) {
        v.ballots(&[]);
        for chunk in ballots.chunks(777) {
            v.ballots(chunk);
        }
    }
    v.finish()
}

/// The outcome of `check` in `report`.
fn outcome(report: &Report, check: Check) -> Outcome {
    report.checks[check as usize].outcome
}

/// The detail of `check` in `report` ("" when there is none).
fn detail(report: &Report, check: Check) -> String {
    report.checks[check as usize]
        .detail
        .clone()
        .unwrap_or_default()
}

pub(crate) fn first_failure(report: &Report) -> Option<(Check, String)> {
    report
        .first_failure()
        .map(|c| (c.check, c.detail.clone().unwrap_or_default()))
}

#[test]
fn synthetic_record_passes_every_check() {
    let (files, secrets) = record();
    let report = verify(&files);
    assert!(report.passed(), "{:#?}", report.checks);
    let results = report.results.unwrap();
    assert_eq!(results, secrets.results);
    let totals: Vec<Vec<u64>> = results
        .contests
        .iter()
        .map(|c| c.selections.iter().map(|s| s.total).collect())
        .collect();
    assert_eq!(totals, secrets.expected_totals);
    assert_eq!(report.counts.counted, 6);
    assert_eq!(report.counts.spoiled, 2);
    assert_eq!(report.counts.superseded, 2);
}

#[test]
fn small_batches_check_each_line_as_it_arrives_and_report_the_same() {
    let (files, _) = record();
    let expected = verify(&files);
    let with_documents = |batch: Option<usize>| {
        let mut v = RecordVerifier::new(
            &files[INDEX],
            VerifyOptions::default(),
            &mut ChaCha20Rng::seed_from_u64(1),
        );
        if let Some(lines) = batch {
            v = v.with_batch_size(lines);
        }
        for path in v.documents() {
            v.document(&path, &files[&path]);
        }
        v
    };
    let mut v = with_documents(Some(1));
    let ballots = &files[BALLOTS];
    let mut lines = 0;
    for line in ballots.split_inclusive(|&b| b == b'\n') {
        v.ballots(line);
        lines += 1;
        // Each complete line is checked by the call that completes it.
        assert_eq!(v.entries_checked(), lines);
    }
    assert!(lines > 1);
    // With the default batch, nothing is checked until the end of so short a file.
    let mut default = with_documents(None);
    default.ballots(ballots);
    assert_eq!(default.entries_checked(), 0);
    let report = v.finish();
    assert!(report.passed(), "{:#?}", report.checks);
    assert_eq!(report, expected);
}

// ---------------------------------------------------------------------------------------------
// Editing helpers: change a record at one point, then repair what must stay consistent.

fn edit<T: serde::de::DeserializeOwned + serde::Serialize>(
    files: &mut Files,
    path: &str,
    f: impl FnOnce(&mut T),
) {
    let mut value: T = serde_json::from_slice(&files[path]).unwrap();
    f(&mut value);
    let mut bytes = serde_json::to_vec_pretty(&value).unwrap();
    bytes.push(b'\n');
    files.insert(path.to_string(), bytes);
}

fn entries(files: &Files) -> Vec<RecordEntry> {
    files[BALLOTS]
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|l| serde_json::from_slice(l).unwrap())
        .collect()
}

fn set_entries(files: &mut Files, entries: &[RecordEntry]) {
    let mut out = Vec::new();
    for e in entries {
        out.extend_from_slice(&serde_json::to_vec(e).unwrap());
        out.push(b'\n');
    }
    files.insert(BALLOTS.to_string(), out);
}

fn edit_entry(files: &mut Files, index: usize, f: impl FnOnce(&mut RecordEntry)) {
    let mut all = entries(files);
    f(&mut all[index]);
    set_entries(files, &all);
}

/// The index of the first entry with this kind and status.
fn find(files: &Files, kind: crate::board::EntryKind, status: EntryStatus) -> usize {
    entries(files)
        .iter()
        .position(|e| e.kind == kind && e.status == status)
        .unwrap()
}

fn last_time(all: &[RecordEntry]) -> u64 {
    all.last().map_or(0, |e| e.receipt.tree_head.head.timestamp)
}

fn resign_parameters(files: &mut Files, secrets: &Synthesized) {
    let signed: SignedElectionParameters = serde_json::from_slice(&files[ELECTION]).unwrap();
    let resigned = signed.parameters.sign(&secrets.board);
    let mut bytes = serde_json::to_vec_pretty(&resigned).unwrap();
    bytes.push(b'\n');
    files.insert(ELECTION.to_string(), bytes);
}

/// Re-signs a ballot's bytes with its voter's credential (after a test changed its body).
fn resign_ballot(bytes: &[u8], manifest: &Manifest, secrets: &Synthesized) -> Vec<u8> {
    let credential = crate::credential::CredentialKey::from_bytes(&bytes[33..65]).unwrap();
    let secret = secrets
        .credentials
        .iter()
        .find(|c| c.public() == credential)
        .unwrap();
    let body = &bytes[..bytes.len() - 64];
    let mut message = manifest.hash().0.to_vec();
    message.extend_from_slice(body);
    let signature = secret.sign(crate::ballot::SIGNATURE_CONTEXT, &message);
    [body, &signature.to_bytes()].concat()
}

fn expect_first(files: &Files, check: Check, needle: &str) {
    let report = verify(files);
    let (first, detail) = first_failure(&report).unwrap_or_else(|| {
        panic!(
            "the changed record passed every check; expected {}",
            check.id()
        )
    });
    assert_eq!(
        first,
        check,
        "expected {} to fail first, but {} did: {detail}",
        check.id(),
        first.id()
    );
    assert!(
        detail.contains(needle),
        "{}: {detail:?} does not mention {needle:?}",
        check.id()
    );
    assert!(!report.passed());
    assert!(report.results.is_none(), "no results from a failing record");
}

type Tamper = fn(&mut Files, &Synthesized);

/// For every check, changes that break it and nothing before it: `(check, what, tamper, words
/// the failure must contain)`.
fn tampers() -> Vec<(Check, &'static str, Tamper, &'static str)> {
    use crate::board::EntryKind::{Cast, Spoiled};
    vec![
        (
            Check::V1,
            "a changed file without a new index",
            |f, _| {
                edit::<CredentialList>(f, CREDENTIALS, |l| l.credentials.reverse());
            },
            "is not the file record.json lists",
        ),
        (
            Check::V1,
            "a file the index does not list",
            |f, _| {
                f.insert("ceremony/notes.json".into(), b"{}".to_vec());
            },
            "not listed",
        ),
        (
            Check::V1,
            "a listed file missing",
            |f, _| {
                f.remove(&partial_path(1));
            },
            "missing from the record",
        ),
        (
            Check::V1,
            "another record format",
            |f, _| {
                edit::<RecordIndex>(f, INDEX, |i| i.format = "tabella-record/2".into());
            },
            "this verifier reads",
        ),
        (
            Check::V1,
            "ballots.jsonl changed",
            |f, _| {
                let b = f.get_mut(BALLOTS).unwrap();
                b.extend_from_slice(b"\n");
            },
            "ballots.jsonl is not the file",
        ),
        (
            Check::V2,
            "the manifest changed",
            |f, _| {
                edit::<SignedElectionParameters>(f, ELECTION, |p| {
                    p.parameters.manifest.contests[0].selections[1].label = "Bob".into();
                });
                reindex(f);
            },
            "manifest hashes to",
        ),
        (
            Check::V2,
            "another protocol version",
            |f, s| {
                edit::<SignedElectionParameters>(f, ELECTION, |p| p.parameters.protocol = 2);
                resign_parameters(f, s);
                reindex(f);
            },
            "protocol version 2",
        ),
        (
            Check::V3,
            "the parameters' signature",
            |f, _| {
                edit::<SignedElectionParameters>(f, ELECTION, |p| {
                    let mut b = p.signature.to_bytes();
                    b[0] ^= 1;
                    p.signature = crate::board::BoardSignature::from_bytes(&b).unwrap();
                });
                reindex(f);
            },
            "does not verify",
        ),
        (
            Check::V4,
            "a credential dropped from the list",
            |f, _| {
                edit::<CredentialList>(f, CREDENTIALS, |l| {
                    l.credentials.pop();
                    let keys: Vec<[u8; 32]> = l.credentials.iter().map(|k| k.to_bytes()).collect();
                    l.digest = credentials_digest(&keys);
                });
                reindex(f);
            },
            "but election.json fixes",
        ),
        (
            Check::V4,
            "the credential list out of order",
            |f, s| {
                edit::<CredentialList>(f, CREDENTIALS, |l| {
                    l.credentials.swap(0, 1);
                    let keys: Vec<[u8; 32]> = l.credentials.iter().map(|k| k.to_bytes()).collect();
                    l.digest = credentials_digest(&keys);
                });
                let digest = serde_json::from_slice::<CredentialList>(&f[CREDENTIALS])
                    .unwrap()
                    .digest;
                edit::<SignedElectionParameters>(f, ELECTION, |p| {
                    p.parameters.credentials_digest = digest
                });
                resign_parameters(f, s);
                reindex(f);
            },
            "not strictly sorted",
        ),
        (
            Check::V2,
            "a cumulative contest allowing 2^32 − 1 per selection for 1,000 credentials, signed",
            |f, s| {
                edit::<SignedElectionParameters>(f, ELECTION, |p| {
                    let contest = &mut p.parameters.manifest.contests[2];
                    contest.style = crate::manifest::ContestStyle::Cumulative {
                        max_per_selection: u64::from(u32::MAX),
                        budget: u64::from(u32::MAX),
                    };
                    p.parameters.manifest_hash = p.parameters.manifest.hash();
                    p.parameters.credentials = 1000;
                });
                resign_parameters(f, s);
                reindex(f);
            },
            "cannot be tallied for the 1000 credentials election.json fixes: contest `budget`",
        ),
        (
            Check::V2,
            "an incomplete translation of the ballot, hashed and signed (MANIFEST-3c)",
            |f, s| {
                edit::<SignedElectionParameters>(f, ELECTION, |p| {
                    p.parameters.manifest.translations.insert(
                        "fr".into(),
                        crate::manifest::Translation {
                            title: "Élection".into(),
                            contact: None,
                            contests: Default::default(),
                        },
                    );
                    p.parameters.manifest_hash = p.parameters.manifest.hash();
                });
                resign_parameters(f, s);
                reindex(f);
            },
            "the manifest is not valid: the translation `fr`: contest",
        ),
        (
            Check::V4,
            "a credential replacement's starting digest",
            |f, _| {
                edit::<CredentialList>(f, CREDENTIALS, |l| l.replacements[0].previous_digest[0] ^= 1);
                reindex(f);
            },
            "credentials.json, replacement 1 of 1: the credential keys hash to",
        ),
        (
            Check::V4,
            "a credential replacement whose added key is not on the list",
            |f, s| {
                edit::<CredentialList>(f, CREDENTIALS, |l| {
                    l.replacements[0].added = s.credentials[2].public();
                    l.replacements[0].removed = s.credentials[3].public();
                });
                reindex(f);
            },
            "replacement 1 of 1: the credential key to add",
        ),
        (
            Check::V5,
            "the ceremony's threshold",
            |f, _| {
                edit::<crate::ceremony::CeremonyParams>(f, CEREMONY, |c| c.threshold = 3);
                reindex(f);
            },
            "names ceremony",
        ),
        (
            Check::V6,
            "a dealer's commitment",
            |f, _| {
                edit::<serde_json::Value>(f, &dealer_path(1), |m| {
                    let c = m["commitments"].as_array_mut().unwrap();
                    c.swap(0, 1);
                });
                reindex(f);
            },
            "dealer-1.json",
        ),
        (
            Check::V6,
            "two envelopes' proofs of knowledge of their ephemeral keys swapped, re-signed",
            |f, s| {
                edit::<crate::ceremony::DealerMessage>(f, &dealer_path(2), |m| {
                    let proof = m.shares[0].ephemeral_proof;
                    m.shares[0].ephemeral_proof = m.shares[1].ephemeral_proof;
                    m.shares[1].ephemeral_proof = proof;
                    m.resign(&s.trustees[1], &mut ChaCha20Rng::seed_from_u64(3));
                });
                reindex(f);
            },
            "dealer-2.json: the proof of knowledge of the ephemeral key of the share for trustee 1",
        ),
        (
            Check::V6,
            "another dealer's ephemeral key and proof in an envelope (the complaint leak), re-signed",
            |f, s| {
                let victim: crate::ceremony::DealerMessage =
                    serde_json::from_slice(&f[&dealer_path(1)]).unwrap();
                edit::<crate::ceremony::DealerMessage>(f, &dealer_path(3), |m| {
                    m.shares[1].ephemeral = victim.shares[1].ephemeral;
                    m.shares[1].ephemeral_proof = victim.shares[1].ephemeral_proof;
                    m.resign(&s.trustees[2], &mut ChaCha20Rng::seed_from_u64(4));
                });
                reindex(f);
            },
            "dealer-3.json: the proof of knowledge of the ephemeral key of the share for trustee 2",
        ),
        (
            Check::V6,
            "a trustee's check message removed",
            |f, _| {
                // Without its check message trustee 3 is disqualified, but the joint key stays:
                // the record is consistent, yet the outcome names a fault only if the message
                // is really missing; a message for trustee 4 of 3 is an error.
                let bytes = f[&check_path(3)].clone();
                f.insert("ceremony/check-4.json".into(), bytes);
                reindex(f);
            },
            "the ceremony has trustees 1 to 3",
        ),
        (
            Check::V7,
            "another joint key, signed by the board",
            |f, s| {
                let other = crate::elgamal::SecretKey::generate(&mut ChaCha20Rng::seed_from_u64(9));
                edit::<SignedElectionParameters>(f, ELECTION, |p| {
                    p.parameters.joint_key = other.public_key();
                });
                resign_parameters(f, s);
                reindex(f);
            },
            "joint key is",
        ),
        (
            Check::V8,
            "a tracking code",
            |f, _| {
                edit_entry(f, 0, |e| e.tracking_code.0[0] ^= 1);
                reindex(f);
            },
            "is not the ballot's hash",
        ),
        (
            Check::V8,
            "an entry's index",
            |f, _| {
                edit_entry(f, 2, |e| e.index = 7);
                reindex(f);
            },
            "it says it is entry 7",
        ),
        (
            Check::V8,
            "a cast ballot with an opening",
            |f, _| {
                let spoiled = find(f, Spoiled, EntryStatus::Spoiled);
                let opening = entries(f)[spoiled].opening.clone();
                let cast = find(f, Cast, EntryStatus::Counted);
                edit_entry(f, cast, |e| e.opening = opening);
                reindex(f);
            },
            "with an opening",
        ),
        (
            Check::V9,
            "a voter taken off the list",
            |f, s| {
                let gone = entries(f)[find(f, Cast, EntryStatus::Counted)].credential;
                edit::<CredentialList>(f, CREDENTIALS, |l| {
                    l.credentials.retain(|k| *k != gone);
                    l.replacements.clear();
                    let keys: Vec<[u8; 32]> = l.credentials.iter().map(|k| k.to_bytes()).collect();
                    l.digest = credentials_digest(&keys);
                });
                let list: CredentialList = serde_json::from_slice(&f[CREDENTIALS]).unwrap();
                edit::<SignedElectionParameters>(f, ELECTION, |p| {
                    p.parameters.credentials = list.credentials.len() as u64;
                    p.parameters.credentials_digest = list.digest;
                });
                resign_parameters(f, s);
                reindex(f);
            },
            "is not on the credential list",
        ),
        (
            Check::V10,
            "a ballot's ciphertexts swapped, re-signed by its voter",
            |f, s| {
                let at = find(f, Cast, EntryStatus::Counted);
                let manifest = small_manifest();
                edit_entry(f, at, |e| {
                    let mut b = crate::group::text::from_base64("ballot", &e.ballot).unwrap();
                    let (first, second) = (b[65..129].to_vec(), b[129..193].to_vec());
                    b[65..129].copy_from_slice(&second);
                    b[129..193].copy_from_slice(&first);
                    e.ballot = crate::group::text::to_base64(&resign_ballot(&b, &manifest, s));
                });
                reseal(f, &s.board);
            },
            "validity proof rejected",
        ),
        (
            Check::V10,
            "a ballot's signature",
            |f, s| {
                let at = find(f, Cast, EntryStatus::Superseded);
                edit_entry(f, at, |e| {
                    // The voter's own signature, but on other bytes.
                    let b = crate::group::text::from_base64("ballot", &e.ballot).unwrap();
                    let other = resign_ballot(
                        &[
                            &b[..b.len() - 65],
                            &[b[b.len() - 65] ^ 1],
                            &b[b.len() - 64..],
                        ]
                        .concat(),
                        &small_manifest(),
                        s,
                    );
                    let b = [&b[..b.len() - 64], &other[other.len() - 64..]].concat();
                    e.ballot = crate::group::text::to_base64(&b);
                });
                reseal(f, &s.board);
            },
            "signature",
        ),
        (
            Check::V11,
            "a spoiled ballot's revealed choice",
            |f, _| {
                let at = find(f, Spoiled, EntryStatus::Spoiled);
                edit_entry(f, at, |e| {
                    let o = e.opening.as_mut().unwrap();
                    let first = o.choices[0].iter().position(|&v| v == 1).unwrap();
                    o.choices[0][first] = 0;
                    o.choices[0][(first + 1) % 3] = 1;
                });
                reindex(f);
            },
            "do not reproduce",
        ),
        (
            Check::V12,
            "a receipt with another root, signed by the board",
            |f, s| {
                edit_entry(f, 3, |e| {
                    let mut head = e.receipt.tree_head.head;
                    head.root = [7; 32];
                    let signed = s.board.sign_tree_head(head);
                    e.receipt = s
                        .board
                        .sign_receipt(e.tracking_code, e.index, e.kind, signed);
                });
                reindex(f);
            },
            "carries the root",
        ),
        (
            Check::V12,
            "a receipt's timestamp",
            |f, _| {
                edit_entry(f, 1, |e| e.receipt.tree_head.head.timestamp += 1);
                reindex(f);
            },
            "does not verify",
        ),
        (
            Check::V12,
            "a receipt dated before the one before it",
            |f, s| {
                edit_entry(f, 4, |e| {
                    let mut head = e.receipt.tree_head.head;
                    head.timestamp = 5;
                    let signed = s.board.sign_tree_head(head);
                    e.receipt = s
                        .board
                        .sign_receipt(e.tracking_code, e.index, e.kind, signed);
                });
                reindex(f);
            },
            "before the previous receipt",
        ),
        (
            Check::V13,
            "a superseded ballot counted instead of the last one",
            |f, _| {
                let all = entries(f);
                let old = find(f, Cast, EntryStatus::Superseded);
                let new = all
                    .iter()
                    .rposition(|e| e.credential == all[old].credential)
                    .unwrap();
                edit_entry(f, old, |e| e.status = EntryStatus::Counted);
                edit_entry(f, new, |e| e.status = EntryStatus::Superseded);
                reindex(f);
            },
            "is marked counted, but its last cast ballot is entry",
        ),
        (
            Check::V13,
            "two counted ballots of one voter",
            |f, _| {
                let old = find(f, Cast, EntryStatus::Superseded);
                edit_entry(f, old, |e| e.status = EntryStatus::Counted);
                reindex(f);
            },
            "has two counted ballots",
        ),
        (
            Check::V13,
            "a voter's earlier ballot replayed after the later one",
            |f, s| {
                let mut all = entries(f);
                let old = find(f, Cast, EntryStatus::Superseded);
                let newer = all
                    .iter()
                    .rposition(|e| e.credential == all[old].credential)
                    .unwrap();
                all[newer].status = EntryStatus::Superseded;
                let mut replay = all[old].clone();
                replay.index = all.len() as u64;
                replay.status = EntryStatus::Counted;
                replay.receipt.tree_head.head.timestamp = last_time(&all) + 10;
                all.push(replay);
                set_entries(f, &all);
                reseal(f, &s.board);
            },
            "is on the board again",
        ),
        (
            Check::V13,
            "a spoiled ballot cast afterwards",
            |f, s| {
                let mut all = entries(f);
                let spoiled = find(f, Spoiled, EntryStatus::Spoiled);
                let last = all
                    .iter()
                    .rposition(|e| e.credential == all[spoiled].credential)
                    .unwrap();
                all[last].status = EntryStatus::Superseded;
                let mut cast = all[spoiled].clone();
                cast.index = all.len() as u64;
                cast.kind = Cast;
                cast.status = EntryStatus::Counted;
                cast.opening = None;
                cast.receipt.tree_head.head.timestamp = last_time(&all) + 10;
                all.push(cast);
                set_entries(f, &all);
                reseal(f, &s.board);
            },
            "is on the board again",
        ),
        (
            Check::V14,
            "the final tree head's signature",
            |f, _| {
                edit::<crate::board::SignedTreeHead>(f, TREE_HEAD, |h| {
                    let mut b = h.signature.to_bytes();
                    b[5] ^= 0x10;
                    h.signature = crate::board::BoardSignature::from_bytes(&b).unwrap();
                });
                reindex(f);
            },
            "does not verify",
        ),
        (
            Check::V14,
            "a final tree head that leaves out the last entry",
            |f, s| {
                edit::<crate::board::SignedTreeHead>(f, TREE_HEAD, |h| {
                    h.head.size -= 1;
                    *h = s.board.sign_tree_head(h.head);
                });
                reindex(f);
            },
            "covers",
        ),
        (
            Check::V15,
            "two aggregates swapped",
            |f, _| {
                edit::<crate::ceremony::TallyRequest>(f, TALLY_REQUEST, |r| {
                    let (a, b) = (r.items[0].ciphertext, r.items[1].ciphertext);
                    r.items[0].ciphertext = b;
                    r.items[1].ciphertext = a;
                });
                reindex(f);
            },
            "is not the sum of the counted ballots",
        ),
        (
            Check::V15,
            "a lower bound on the totals",
            |f, _| {
                edit::<crate::ceremony::TallyRequest>(f, TALLY_REQUEST, |r| r.max_count -= 1);
                reindex(f);
            },
            "bounds the totals",
        ),
        (
            Check::V16,
            "a partial decryption's share",
            |f, _| {
                edit::<serde_json::Value>(f, &partial_path(1), |m| {
                    let shares = m["shares"].as_array_mut().unwrap();
                    shares.swap(0, 1);
                });
                reindex(f);
            },
            "partial-1.json",
        ),
        (
            Check::V17,
            "too few partial decryptions",
            |f, _| {
                f.remove(&partial_path(3));
                reindex(f);
            },
            "cannot be decrypted",
        ),
        (
            Check::V18,
            "a total",
            |f, _| {
                edit::<Results>(f, RESULTS, |r| r.contests[0].selections[0].total += 1);
                reindex(f);
            },
            "the published total is",
        ),
        (
            Check::V18,
            "a contest title",
            |f, _| {
                edit::<Results>(f, RESULTS, |r| r.contests[1].title = "Gardens".into());
                reindex(f);
            },
            "where the manifest has",
        ),
        (
            Check::V18,
            "the trustees said to be absent",
            |f, _| {
                edit::<Results>(f, RESULTS, |r| r.absent.clear());
                reindex(f);
            },
            "as absent",
        ),
        (
            Check::V18,
            "the number of ballots counted",
            |f, _| {
                edit::<Results>(f, RESULTS, |r| r.ballots_counted += 1);
                reindex(f);
            },
            "ballots were counted",
        ),
        (
            Check::V19,
            "a checkpoint with another root",
            |f, _| {
                let root = crate::board::leaf_hash(b"not the board");
                let anchors = anchors_with(
                    vec![AnchoredCheckpoint {
                        size: 3,
                        root,
                        transaction: tx(2),
                    }],
                    vec![],
                );
                f.insert(ANCHORS.into(), serde_json::to_vec_pretty(&anchors).unwrap());
                reindex(f);
            },
            "anchors root",
        ),
        (
            Check::V19,
            "a fallback ballot the board does not hold",
            |f, _| {
                let spoiled = entries(f)[find(f, Spoiled, EntryStatus::Spoiled)].clone();
                let anchors = anchors_with(
                    vec![],
                    vec![FallbackBallot {
                        transaction: tx(3),
                        chain_index: 0,
                        index: spoiled.index,
                        tracking_code: spoiled.tracking_code,
                    }],
                );
                f.insert(ANCHORS.into(), serde_json::to_vec_pretty(&anchors).unwrap());
                reindex(f);
            },
            "is not the cast entry",
        ),
        (
            Check::V19,
            "a checkpoint beyond the board",
            |f, _| {
                let anchors = anchors_with(
                    vec![AnchoredCheckpoint {
                        size: 999,
                        root: [1; 32],
                        transaction: tx(4),
                    }],
                    vec![],
                );
                f.insert(ANCHORS.into(), serde_json::to_vec_pretty(&anchors).unwrap());
                reindex(f);
            },
            "has only",
        ),
        (
            Check::V19,
            "a position in the contract's list both taken and refused",
            |f, _| {
                let cast = entries(f)[find(f, Cast, EntryStatus::Counted)].clone();
                let mut anchors = anchors_with(vec![], vec![fallback_of(&cast, 0)]);
                anchors.rejected.push(refusal(0, [3; 32], "not a ballot"));
                put_anchors(f, &anchors);
            },
            "are said to be the contract's fallback ballot 0",
        ),
        (
            Check::V19,
            "two different fallback ballots at one board entry",
            |f, _| {
                let all = entries(f);
                let cast = &all[find(f, Cast, EntryStatus::Counted)];
                let mut other = fallback_of(cast, 1);
                other.tracking_code.0[0] ^= 1;
                put_anchors(f, &anchors_with(vec![], vec![fallback_of(cast, 0), other]));
            },
            "two different fallback ballots",
        ),
        (
            Check::V19,
            "one fallback ballot at two board entries",
            |f, _| {
                let cast = entries(f)[find(f, Cast, EntryStatus::Counted)].clone();
                let mut again = fallback_of(&cast, 1);
                again.index += 1;
                put_anchors(f, &anchors_with(vec![], vec![fallback_of(&cast, 0), again]));
            },
            "is said to be both board entry",
        ),
        (
            Check::V19,
            "a fallback ballot both taken and refused",
            |f, _| {
                let cast = entries(f)[find(f, Cast, EntryStatus::Counted)].clone();
                let mut anchors = anchors_with(vec![], vec![fallback_of(&cast, 0)]);
                anchors
                    .rejected
                    .push(refusal(1, cast.tracking_code.0, "bad proof"));
                put_anchors(f, &anchors);
            },
            "is listed both as refused and as board entry",
        ),
        (
            Check::V19,
            "a refused fallback ballot the board holds as cast",
            |f, _| {
                let cast = entries(f)[find(f, Cast, EntryStatus::Counted)].clone();
                let mut anchors = anchors_with(vec![], vec![]);
                anchors
                    .rejected
                    .push(refusal(0, cast.tracking_code.0, "bad proof"));
                put_anchors(f, &anchors);
            },
            "is listed as refused, yet the board holds it as cast entry",
        ),
        (
            Check::V19,
            "a refusal without a reason",
            |f, _| {
                let mut anchors = anchors_with(vec![], vec![]);
                anchors.rejected.push(refusal(0, [3; 32], " "));
                put_anchors(f, &anchors);
            },
            "gives no reason",
        ),
        (
            Check::V19,
            "a refusal's transaction hash in upper case",
            |f, _| {
                let mut anchors = anchors_with(vec![], vec![]);
                let mut r = refusal(0, [3; 32], "not a ballot");
                r.transaction = format!("0x{}", "AB".repeat(32));
                anchors.rejected.push(r);
                put_anchors(f, &anchors);
            },
            "is not 0x and 64 lowercase hex digits",
        ),
    ]
}

fn fallback_of(entry: &RecordEntry, chain_index: u64) -> FallbackBallot {
    FallbackBallot {
        transaction: tx(100 + chain_index as u8),
        chain_index,
        index: entry.index,
        tracking_code: entry.tracking_code,
    }
}

fn refusal(chain_index: u64, code: [u8; 32], reason: &str) -> RejectedFallbackBallot {
    RejectedFallbackBallot {
        transaction: tx(100 + chain_index as u8),
        chain_index,
        tracking_code: crate::ballot::TrackingCode(code),
        reason: reason.into(),
    }
}

fn put_anchors(files: &mut Files, anchors: &Anchors) {
    files.insert(ANCHORS.into(), serde_json::to_vec_pretty(anchors).unwrap());
    reindex(files);
}

fn tx(n: u8) -> String {
    format!("0x{}", hex::encode([n; 32]))
}

fn anchors_with(checkpoints: Vec<AnchoredCheckpoint>, fallback: Vec<FallbackBallot>) -> Anchors {
    Anchors {
        chain_id: 31337,
        contract: format!("0x{}", hex::encode([0xab; 20])),
        election_transaction: tx(1),
        checkpoints,
        fallback,
        rejected: vec![],
        result_transaction: None,
    }
}

#[test]
fn every_check_fails_when_the_record_is_changed_at_its_point() {
    let (valid, secrets) = record();
    let mut covered = std::collections::BTreeSet::new();
    for (check, what, tamper, needle) in tampers() {
        let mut files = valid.clone();
        tamper(&mut files, &secrets);
        assert_ne!(
            files,
            valid,
            "{}: {what}: the tamper changed nothing",
            check.id()
        );
        let report = verify(&files);
        let first = first_failure(&report);
        assert_eq!(
            first.as_ref().map(|(c, _)| *c),
            Some(check),
            "{}: {what}: {first:?}",
            check.id()
        );
        expect_first(&files, check, needle);
        covered.insert(check);
    }
    // V20 and V21 compare the record with the chain: their tampers change either
    // (`chain::every_chain_check_fails_when_the_record_or_the_chain_is_changed`).
    covered.extend(chain::tampers().into_iter().map(|(check, ..)| check));
    // V22 compares the manifest with a booth (`booth::v22_fails_for_another_booth_and_for_a_
    // manifest_without_one`).
    covered.insert(Check::V22);
    let all: std::collections::BTreeSet<Check> = Check::ALL.into_iter().collect();
    assert_eq!(covered, all, "every check has a tamper that fails it");
}

#[test]
fn valid_anchors_pass_v19() {
    let (mut files, _) = record();
    let all = entries(&files);
    // The root at size 3, rebuilt from the first three tracking codes.
    let mut frontier = crate::board::MerkleFrontier::new();
    for e in &all[..3] {
        frontier.push(e.tracking_code.0);
    }
    let cast = all
        .iter()
        .find(|e| e.kind == crate::board::EntryKind::Cast)
        .unwrap();
    let anchors = anchors_with(
        vec![
            AnchoredCheckpoint {
                size: 0,
                root: crate::board::EMPTY_ROOT,
                transaction: tx(5),
            },
            AnchoredCheckpoint {
                size: 3,
                root: frontier.root(),
                transaction: tx(6),
            },
        ],
        vec![FallbackBallot {
            transaction: tx(7),
            chain_index: 0,
            index: cast.index,
            tracking_code: cast.tracking_code,
        }],
    );
    files.insert(ANCHORS.into(), serde_json::to_vec_pretty(&anchors).unwrap());
    reindex(&mut files);
    let report = verify(&files);
    assert!(report.passed(), "{:#?}", report.checks);
    assert_eq!(report.checks[Check::V19 as usize].items, 3);
}

#[test]
fn a_board_key_other_than_the_expected_one_fails_v3() {
    let (files, _) = record();
    let other = crate::board::BoardSigningKey::generate(&mut ChaCha20Rng::seed_from_u64(3));
    let mut v = RecordVerifier::new(
        &files[INDEX],
        VerifyOptions {
            board_key: Some(other.public()),
            ..VerifyOptions::default()
        },
        &mut ChaCha20Rng::seed_from_u64(1),
    );
    for path in v.documents() {
        v.document(&path, &files[&path]);
    }
    v.ballots(&files[BALLOTS]);
    let report = v.finish();
    let (check, detail) = first_failure(&report).unwrap();
    assert_eq!(check, Check::V3);
    assert!(detail.contains("not the expected board key"), "{detail}");
}

#[test]
fn another_elections_ballots_are_rejected() {
    let (mut files, _) = record();
    let mut other = Files::new();
    synthesize(
        &SynthOptions {
            seed: 8,
            ..options()
        },
        &mut other,
        |_| {},
    )
    .unwrap();
    files.insert(BALLOTS.into(), other[BALLOTS].clone());
    reindex(&mut files);
    let report = verify(&files);
    let (check, detail) = first_failure(&report).unwrap();
    assert_eq!(check, Check::V8, "{detail}");
    assert!(detail.contains("ballot is for election"), "{detail}");
}

#[test]
fn truncated_and_malformed_files_fail_with_words_not_panics() {
    let (valid, _) = record();
    // ballots.jsonl cut in the middle of a line.
    let mut files = valid.clone();
    let b = files.get_mut(BALLOTS).unwrap();
    b.truncate(b.len() - 100);
    reindex(&mut files);
    expect_first(&files, Check::V8, "ends in the middle of a line");
    // ... and at a line boundary: the final head no longer covers the board.
    let mut files = valid.clone();
    let b = files.get_mut(BALLOTS).unwrap();
    let cut = b[..b.len() - 1].iter().rposition(|&c| c == b'\n').unwrap() + 1;
    b.truncate(cut);
    reindex(&mut files);
    let report = verify(&files);
    assert!(!report.passed());
    assert!(report
        .checks
        .iter()
        .any(|c| c.check == Check::V14 && c.outcome == Outcome::Failed));
    // Every document truncated or emptied in turn.
    for path in valid.keys() {
        for keep in [0usize, 1, 17] {
            let mut files = valid.clone();
            let bytes = files.get_mut(path).unwrap();
            if bytes.len() <= keep {
                continue;
            }
            bytes.truncate(keep);
            if path != INDEX {
                reindex(&mut files);
            }
            let report = verify(&files);
            let (_, detail) = first_failure(&report)
                .unwrap_or_else(|| panic!("{path} truncated to {keep} bytes passed"));
            assert!(!detail.is_empty(), "{path}: a failure without words");
        }
    }
    // Garbage where JSON belongs.
    let mut files = valid.clone();
    files.insert(BALLOTS.into(), b"\x00\xff{not json}\n[]\n".to_vec());
    reindex(&mut files);
    expect_first(&files, Check::V8, "not a board entry");
    let report = verify(&Files::new());
    assert_eq!(first_failure(&report).map(|(c, _)| c), Some(Check::V1));
}

#[test]
fn an_election_with_no_counted_ballot_verifies_with_zero_totals() {
    let mut files = Files::new();
    synthesize(
        &SynthOptions {
            voters: 0,
            ..options()
        },
        &mut files,
        |_| {},
    )
    .unwrap();
    assert!(!files.contains_key(TALLY_REQUEST));
    let report = verify(&files);
    assert!(report.passed(), "{:#?}", report.checks);
    let results = report.results.unwrap();
    assert!(results
        .contests
        .iter()
        .flat_map(|c| &c.selections)
        .all(|s| s.total == 0));
}

#[test]
fn frontier_roots_equal_the_tree_roots() {
    let mut tree = crate::board::MerkleTree::new();
    let mut frontier = crate::board::MerkleFrontier::new();
    assert_eq!(frontier.root(), tree.root());
    for k in 0u32..70 {
        let leaf = crate::board::leaf_hash(&k.to_le_bytes());
        tree.push(leaf);
        frontier.push(leaf);
        assert_eq!(frontier.root(), tree.root(), "size {}", k + 1);
        assert_eq!(frontier.len(), tree.len());
    }
}

mod properties {
    use proptest::prelude::*;
    use serde_json::Value;

    use super::*;
    #[cfg(all(target_arch = "wasm32", target_os = "unknown"))]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn valid() -> &'static (Files, Vec<String>) {
        static VALID: std::sync::OnceLock<(Files, Vec<String>)> = std::sync::OnceLock::new();
        VALID.get_or_init(|| {
            let (files, _) = record();
            let paths = files.keys().cloned().collect();
            (files, paths)
        })
    }

    /// Every leaf value of a JSON document, as a JSON pointer.
    pub(super) fn leaves(value: &Value, at: String, out: &mut Vec<String>) {
        match value {
            Value::Object(map) => {
                for (k, v) in map {
                    leaves(v, format!("{at}/{k}"), out);
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

    /// A different value of the same kind.
    pub(super) fn change(value: &mut Value, pick: usize) {
        match value {
            Value::Number(n) => {
                let v = n.as_u64().unwrap_or(0);
                *value = Value::from(if v == u64::MAX { v - 1 } else { v + 1 });
            }
            Value::String(s) => {
                let mut chars: Vec<char> = s.chars().collect();
                if chars.is_empty() {
                    *s = "x".into();
                    return;
                }
                let i = pick % chars.len();
                chars[i] = match chars[i] {
                    'a' => 'b',
                    '0' => '1',
                    'A' => 'B',
                    '=' => 'A',
                    c if c.is_ascii_hexdigit() => '0',
                    _ => 'a',
                };
                *s = chars.into_iter().collect();
            }
            Value::Bool(b) => *b = !*b,
            Value::Null => *value = Value::from(1),
            _ => {}
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

        /// One flipped bit anywhere, even with the index repaired, is caught.
        #[test]
        fn a_flipped_bit_anywhere_is_rejected(file in 0usize..1000, at in 0usize..1_000_000, bit in 0u8..8, repair in any::<bool>()) {
            let (valid, paths) = valid();
            let mut files = valid.clone();
            let path = &paths[file % paths.len()];
            let bytes = files.get_mut(path).unwrap();
            let at = at % bytes.len();
            bytes[at] ^= 1 << bit;
            if repair && path != INDEX {
                reindex(&mut files);
            }
            let report = verify(&files);
            prop_assert!(!report.passed(), "{path} byte {at} bit {bit} (repaired: {repair})");
        }

        /// One changed value anywhere in any document (or ballot line), with the index
        /// repaired, is caught.
        #[test]
        fn a_changed_value_anywhere_is_rejected(file in 0usize..1000, leaf in 0usize..1_000_000, pick in 0usize..1000) {
            let (valid, paths) = valid();
            let mut files = valid.clone();
            let path = paths[file % paths.len()].clone();
            let pointer;
            if path == BALLOTS {
                let lines: Vec<&[u8]> = valid[BALLOTS].split(|&b| b == b'\n').filter(|l| !l.is_empty()).collect();
                let line = leaf % lines.len();
                let mut value: Value = serde_json::from_slice(lines[line]).unwrap();
                let mut all = Vec::new();
                leaves(&value, String::new(), &mut all);
                pointer = format!("line {line}{}", all[pick % all.len()]);
                change(value.pointer_mut(&all[pick % all.len()]).unwrap(), leaf);
                let mut out = Vec::new();
                for (i, l) in lines.iter().enumerate() {
                    if i == line {
                        out.extend_from_slice(&serde_json::to_vec(&value).unwrap());
                    } else {
                        out.extend_from_slice(l);
                    }
                    out.push(b'\n');
                }
                files.insert(BALLOTS.into(), out);
            } else {
                let mut value: Value = serde_json::from_slice(&valid[&path]).unwrap();
                let mut all = Vec::new();
                leaves(&value, String::new(), &mut all);
                let p = &all[leaf % all.len()];
                pointer = p.clone();
                change(value.pointer_mut(p).unwrap(), pick);
                files.insert(path.clone(), serde_json::to_vec_pretty(&value).unwrap());
            }
            if path != INDEX {
                reindex(&mut files);
            }
            let report = verify(&files);
            prop_assert!(!report.passed(), "{path} {pointer}");
        }
    }
}

/// The example record of spec/vectors/record/ (spec/record.md): the record of
/// [`options`], six voters with a spoiled ballot and a second vote among them.
#[cfg(not(target_arch = "wasm32"))]
const VECTOR_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../spec/vectors/record");

#[cfg(not(target_arch = "wasm32"))]
fn read_vector() -> Files {
    fn walk(dir: &std::path::Path, prefix: &str, out: &mut Files) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let entry = entry.unwrap();
            let name = format!("{prefix}{}", entry.file_name().to_string_lossy());
            if entry.file_type().unwrap().is_dir() {
                walk(&entry.path(), &format!("{name}/"), out);
            } else {
                out.insert(name, std::fs::read(entry.path()).unwrap());
            }
        }
    }
    let mut files = Files::new();
    walk(std::path::Path::new(VECTOR_DIR), "", &mut files);
    files
}

/// The browser has no file system: there the record vector is the embedded copy.
#[cfg(target_arch = "wasm32")]
fn read_vector() -> Files {
    embedded_vector()
}

/// spec/vectors/record/, embedded at build time; natively,
/// `embedded_record_vector_is_the_stored_directory` keeps the list complete.
fn embedded_vector() -> Files {
    macro_rules! embed {
        ($($path:literal),* $(,)?) => {
            [$(($path, &include_bytes!(concat!("../../../spec/vectors/record/", $path))[..])),*]
        };
    }
    embed![
        "ballots.jsonl",
        "ceremony/ceremony.json",
        "ceremony/check-1.json",
        "ceremony/check-2.json",
        "ceremony/check-3.json",
        "ceremony/dealer-1.json",
        "ceremony/dealer-2.json",
        "ceremony/dealer-3.json",
        "ceremony/partial-1.json",
        "ceremony/partial-3.json",
        "ceremony/tally-request.json",
        "credentials.json",
        "election.json",
        "record.json",
        "results.json",
        "tree-head.json",
    ]
    .into_iter()
    .map(|(path, bytes)| (path.to_owned(), bytes.to_vec()))
    .collect()
}

#[cfg(not(target_arch = "wasm32"))]
#[test]
fn embedded_record_vector_is_the_stored_directory() {
    assert!(
        read_vector() == embedded_vector(),
        "spec/vectors/record/ and the embedded list differ: list every file in embedded_vector"
    );
}

#[cfg(not(target_arch = "wasm32"))] // Writes into spec/: the browser has no file system.
#[test]
#[ignore = "writes spec/vectors/record/; run on purpose when the record format changes"]
fn regenerate_record_vector() {
    let (files, _) = record();
    let _ = std::fs::remove_dir_all(VECTOR_DIR);
    for (path, bytes) in &files {
        let file = std::path::Path::new(VECTOR_DIR).join(path);
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(file, bytes).unwrap();
    }
}

#[test]
fn stored_record_vector_verifies() {
    let files = read_vector();
    let report = verify(&files);
    assert!(report.passed(), "{:#?}", report.checks);
    let results = report.results.unwrap();
    assert_eq!(results.ballots_counted, 6);
    assert_eq!(results.combined, vec![1, 3]);
    assert_eq!(results.absent, vec![2]);
}

#[test]
fn record_vector_is_reproduced_byte_for_byte() {
    let (files, _) = record();
    let stored = read_vector();
    assert_eq!(
        files.keys().collect::<Vec<_>>(),
        stored.keys().collect::<Vec<_>>()
    );
    for (path, bytes) in &files {
        assert!(
            stored[path] == *bytes,
            "spec/vectors/record/{path} differs from a fresh synthesis: run the ignored test \
             regenerate_record_vector if the format changed on purpose"
        );
    }
}

#[test]
fn checks_that_cannot_run_are_skipped_not_passed() {
    // A broken credential list: eligibility and the counting rule cannot be judged.
    let (mut files, _) = record();
    edit::<CredentialList>(&mut files, CREDENTIALS, |l| l.digest = [0; 32]);
    reindex(&mut files);
    let report = verify(&files);
    let outcome = |c: Check| report.checks[c as usize].outcome;
    assert_eq!(outcome(Check::V4), Outcome::Failed);
    assert_eq!(outcome(Check::V9), Outcome::Skipped);
    assert_eq!(outcome(Check::V13), Outcome::Skipped);
    // No counted ballot, yet a tally request: V15 fails, V16 and V17 cannot run.
    let mut files = Files::new();
    synthesize(
        &SynthOptions {
            voters: 0,
            ..options()
        },
        &mut files,
        |_| {},
    )
    .unwrap();
    let (full, _) = record();
    files.insert(TALLY_REQUEST.into(), full[TALLY_REQUEST].clone());
    reindex(&mut files);
    let report = verify(&files);
    let outcome = |c: Check| report.checks[c as usize].outcome;
    assert_eq!(outcome(Check::V15), Outcome::Failed);
    assert_eq!(outcome(Check::V16), Outcome::Skipped);
    assert_eq!(outcome(Check::V17), Outcome::Skipped);
}

#[test]
fn paths_outside_the_record_are_never_asked_for() {
    let (mut files, _) = record();
    edit::<RecordIndex>(&mut files, INDEX, |i| {
        i.files
            .insert(0, RecordFile::describe("/etc/hostname", b"x"));
        i.files
            .insert(0, RecordFile::describe("../secret.json", b"x"));
    });
    let v = RecordVerifier::new(
        &files[INDEX],
        VerifyOptions::default(),
        &mut ChaCha20Rng::seed_from_u64(1),
    );
    assert!(v
        .documents()
        .iter()
        .all(|p| !p.contains("..") && !p.starts_with('/')));
    assert_eq!(
        v.listed_size(CREDENTIALS),
        Some(files[CREDENTIALS].len() as u64)
    );
    let report = verify(&files);
    let (check, detail) = first_failure(&report).unwrap();
    assert_eq!(check, Check::V1);
    assert!(
        detail.contains("not a file of an election record"),
        "{detail}"
    );
}

#[test]
fn an_overlong_line_is_refused_without_being_kept() {
    let (mut files, _) = record();
    let mut ballots = vec![b'x'; (1 << 20) + 1];
    ballots.push(b'\n');
    ballots.extend_from_slice(&files[BALLOTS]);
    files.insert(BALLOTS.into(), ballots);
    reindex(&mut files);
    let report = verify(&files);
    let (check, detail) = first_failure(&report).unwrap();
    assert_eq!(check, Check::V8);
    assert!(detail.contains("longer than"), "{detail}");
}

/// V20 and V21: a record anchored on chain and the registry's evidence that agrees with it, then
/// one change of either for every failure the two checks report.
mod chain {
    use proptest::prelude::*;
    use sha2::{Digest, Sha256};

    use super::super::synth::choices_for;
    use super::*;
    use crate::ballot::{ElectionContext, ElectionId};
    use crate::board::{leaf_hash, EntryKind, MerkleFrontier, TreeHead, EMPTY_ROOT};
    use crate::ceremony::CeremonyParams;
    use crate::credential::CredentialSecret;
    use crate::group::text;
    #[cfg(all(target_arch = "wasm32", target_os = "unknown"))]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    const CHAIN_ID: u64 = 31337;
    /// Voting opens (Unix seconds).
    const OPENS: u64 = 1_767_225_600;
    const WEEK: u64 = 7 * 86_400;

    fn contract() -> String {
        format!("0x{}", hex::encode([0xab; 20]))
    }

    fn parameters(files: &Files) -> ElectionParameters {
        serde_json::from_slice::<SignedElectionParameters>(&files[ELECTION])
            .unwrap()
            .parameters
    }

    /// The root of the board's first `size` entries.
    fn root_at(all: &[RecordEntry], size: usize) -> [u8; 32] {
        let mut frontier = MerkleFrontier::new();
        for e in &all[..size] {
            frontier.push(e.tracking_code.0);
        }
        frontier.root()
    }

    fn ballot_bytes(entry: &RecordEntry) -> Vec<u8> {
        text::from_base64("ballot", &entry.ballot).unwrap()
    }

    /// A new valid ballot of the record's election, by `credential`.
    fn fresh_ballot(files: &Files, credential: &CredentialSecret, seed: u64) -> Vec<u8> {
        let p = parameters(files);
        let ctx = ElectionContext::new(p.election_id, p.manifest, p.joint_key).unwrap();
        let choices: Vec<Vec<u64>> = ctx
            .manifest()
            .contests
            .iter()
            .map(|c| choices_for(c, seed))
            .collect();
        let (ballot, _) = ctx
            .encrypt_ballot(&choices, credential, &mut ChaCha20Rng::seed_from_u64(seed))
            .unwrap();
        ballot.to_bytes().to_vec()
    }

    /// A tree head of `size` and `root`, signed by the board, as the registry holds it.
    fn signed(
        secrets: &Synthesized,
        election: ElectionId,
        size: u64,
        root: [u8; 32],
        transaction: String,
    ) -> ChainCheckpoint {
        let timestamp_ms = OPENS * 1000 + size * 1000;
        let head = secrets.board.sign_tree_head(TreeHead {
            election,
            size,
            root,
            timestamp: timestamp_ms,
        });
        ChainCheckpoint {
            transaction,
            size,
            root,
            timestamp_ms,
            signature: hex::encode(head.signature.to_bytes()),
        }
    }

    /// The board's checkpoint at `size`.
    fn checkpoint(
        files: &Files,
        secrets: &Synthesized,
        size: usize,
        tx: String,
    ) -> ChainCheckpoint {
        let root = root_at(&entries(files), size);
        signed(
            secrets,
            parameters(files).election_id,
            size as u64,
            root,
            tx,
        )
    }

    /// `FallbackBallotCast`: the bytes at position `chain_index` (in the transaction
    /// [`fallback_of`] and [`refusal`] name for it).
    fn cast_on_chain(chain_index: u64, bytes: &[u8]) -> ChainFallbackBallot {
        ChainFallbackBallot {
            transaction: tx(100 + chain_index as u8),
            chain_index,
            digest: leaf_hash(bytes),
            ballot: text::to_base64(bytes),
        }
    }

    /// The synthetic record anchored on chain, and the chain's evidence: three checkpoints (0, 4
    /// and the final size); seven ballots cast on chain, a cast ballot the board holds twice and
    /// five refused ones (not a ballot, another election's, a bad signature, a credential not on
    /// the list, a spoiled ballot); the result.
    pub(super) fn anchored() -> (Files, Synthesized, ChainEvidence) {
        let (mut files, secrets) = record();
        let all = entries(&files);
        let n = all.len();
        let p = parameters(&files);
        let ceremony: CeremonyParams = serde_json::from_slice(&files[CEREMONY]).unwrap();
        let checkpoints = vec![
            checkpoint(&files, &secrets, 0, tx(2)),
            checkpoint(&files, &secrets, 4, tx(3)),
            checkpoint(&files, &secrets, n, tx(4)),
        ];
        let cast = &all[find(&files, EntryKind::Cast, EntryStatus::Counted)];
        let spoiled = &all[find(&files, EntryKind::Spoiled, EntryStatus::Spoiled)];
        let mut other_election = ballot_bytes(cast);
        other_election[1] ^= 1;
        let mut bad_signature = ballot_bytes(cast);
        let at = bad_signature.len() - 64;
        bad_signature[at] ^= 1;
        let stranger = CredentialSecret::insecure_from_seed(&[42; 32]);
        let on_chain = [
            ballot_bytes(cast),
            ballot_bytes(cast),
            b"not a ballot".to_vec(),
            other_election,
            bad_signature,
            fresh_ballot(&files, &stranger, 3),
            ballot_bytes(spoiled),
        ];
        let fallback: Vec<ChainFallbackBallot> = on_chain
            .iter()
            .enumerate()
            .map(|(k, bytes)| cast_on_chain(k as u64, bytes))
            .collect();
        let reasons = [
            "the ballot does not decode",
            "the ballot is for another election",
            "the ballot's signature does not verify",
            "the credential is not on the list",
            "the ballot was spoiled: it can never be cast",
        ];
        let anchors = Anchors {
            chain_id: CHAIN_ID,
            contract: contract(),
            election_transaction: tx(1),
            checkpoints: checkpoints
                .iter()
                .map(|c| AnchoredCheckpoint {
                    size: c.size,
                    root: c.root,
                    transaction: c.transaction.clone(),
                })
                .collect(),
            fallback: vec![fallback_of(cast, 0), fallback_of(cast, 1)],
            rejected: fallback[2..]
                .iter()
                .zip(reasons)
                .map(|(c, reason)| refusal(c.chain_index, c.digest, reason))
                .collect(),
            result_transaction: Some(tx(9)),
        };
        put_anchors(&mut files, &anchors);
        let index: RecordIndex = serde_json::from_slice(&files[INDEX]).unwrap();
        let result = ChainResult {
            transaction: tx(9),
            tally_digest: Sha256::digest(&files[RESULTS]).into(),
            record_digest: index.anchored_digest(),
            final_size: n as u64,
            final_root: root_at(&all, n),
            challenge_ends_at: OPENS + 2 * WEEK,
            disputes: vec![],
        };
        let chain = ChainEvidence {
            chain_id: CHAIN_ID,
            contract: contract(),
            election: Some(ChainElection {
                transaction: tx(1),
                operator: format!("0x{}", hex::encode([0x0f; 20])),
                chain_id: CHAIN_ID,
                manifest_hash: p.manifest_hash.0,
                credentials_digest: p.credentials_digest,
                trustee_keys_digest: trustee_keys_digest(&ceremony),
                joint_key: p.joint_key.to_bytes(),
                board_key: p.board_key.to_bytes(),
                opens_at: OPENS,
                closes_at: OPENS + WEEK,
                challenge_period: WEEK,
            }),
            checkpoints,
            fallback,
            result: Some(result),
        };
        (files, secrets, chain)
    }

    fn verify_chain(files: &Files, chain: &ChainEvidence) -> Report {
        verify_with(
            files,
            VerifyOptions {
                chain: Some(chain.clone()),
                ..VerifyOptions::default()
            },
        )
    }

    /// Asserts that `check`, and no other check, failed, first with words containing `needle`.
    fn expect_only(report: &Report, check: Check, needle: &str, what: &str) {
        let not_passed: Vec<Check> = report
            .checks
            .iter()
            .filter(|c| c.outcome != Outcome::Passed && !report.not_asked(c.check))
            .map(|c| c.check)
            .collect();
        assert_eq!(not_passed, vec![check], "{what}: {:#?}", report.checks);
        assert_eq!(outcome(report, check), Outcome::Failed, "{what}");
        let detail = detail(report, check);
        assert!(
            detail.contains(needle),
            "{}: {what}: {detail:?} does not mention {needle:?}",
            check.id()
        );
        assert!(!report.passed());
        assert!(report.results.is_none(), "no results from a failing record");
    }

    fn edit_anchors(files: &mut Files, f: impl FnOnce(&mut Anchors)) {
        edit::<Anchors>(files, ANCHORS, f);
        reindex(files);
    }

    fn flip_signature(cp: &mut ChainCheckpoint) {
        let mut b = hex::decode(&cp.signature).unwrap();
        b[0] ^= 1;
        cp.signature = hex::encode(b);
    }

    type ChainTamper = fn(&mut Files, &mut ChainEvidence, &Synthesized);

    /// For V20 and V21, each failure they report, from one change to the record or to the chain
    /// evidence: `(check, what, tamper, words the failure must contain)`.
    pub(super) fn tampers() -> Vec<(Check, &'static str, ChainTamper, &'static str)> {
        vec![
            (
                Check::V20,
                "a record that names no anchoring",
                |f, c, _| {
                    f.remove(ANCHORS);
                    reindex(f);
                    c.fallback.clear();
                },
                "the record has no anchors.json",
            ),
            (
                Check::V20,
                "evidence from another chain",
                |_, c, _| c.chain_id = 1,
                "anchors.json names chain 31337, but the chain evidence is from chain 1",
            ),
            (
                Check::V20,
                "evidence from another contract",
                |_, c, _| c.contract = format!("0x{}", hex::encode([0xcd; 20])),
                "anchors.json names contract",
            ),
            (
                Check::V20,
                "an election the registry does not know",
                |_, c, _| c.election = None,
                "the election is not registered with contract",
            ),
            (
                Check::V20,
                "another creation transaction",
                |_, c, _| c.election.as_mut().unwrap().transaction = tx(77),
                "the election was registered in transaction",
            ),
            (
                Check::V20,
                "a creation bound to another chain",
                |_, c, _| c.election.as_mut().unwrap().chain_id = 5,
                "the registration is bound to chain 5",
            ),
            (
                Check::V20,
                "another manifest hash",
                |_, c, _| c.election.as_mut().unwrap().manifest_hash[0] ^= 1,
                "the registry holds the manifest hash",
            ),
            (
                Check::V20,
                "another credentials digest",
                |_, c, _| c.election.as_mut().unwrap().credentials_digest[0] ^= 1,
                "the registry holds the credentials digest",
            ),
            (
                Check::V20,
                "another trustee keys digest",
                |_, c, _| c.election.as_mut().unwrap().trustee_keys_digest[0] ^= 1,
                "the registry holds the trustee keys digest",
            ),
            (
                Check::V20,
                "another joint key",
                |_, c, _| c.election.as_mut().unwrap().joint_key[0] ^= 1,
                "the registry holds the joint key",
            ),
            (
                Check::V20,
                "another board key",
                |_, c, _| c.election.as_mut().unwrap().board_key[0] ^= 1,
                "the registry holds the board key",
            ),
            (
                Check::V20,
                "checkpoints out of order",
                |_, c, _| c.checkpoints.swap(1, 2),
                "the chain's checkpoints do not strictly grow",
            ),
            (
                Check::V20,
                "a checkpoint of another board, signed by the board",
                |f, c, s| {
                    let election = parameters(f).election_id;
                    c.checkpoints[1] = signed(s, election, 4, [7; 32], tx(3));
                },
                "but the board's root there is",
            ),
            (
                Check::V20,
                "a checkpoint beyond the board",
                |f, c, s| {
                    let election = parameters(f).election_id;
                    c.checkpoints.push(signed(s, election, 99, [7; 32], tx(51)));
                },
                "anchors size 99, but the board has only 10 entries",
            ),
            (
                Check::V20,
                "a checkpoint's signature",
                |_, c, _| flip_signature(&mut c.checkpoints[1]),
                "does not verify under the record's board key",
            ),
            (
                Check::V20,
                "a checkpoint's timestamp",
                |_, c, _| c.checkpoints[2].timestamp_ms += 1,
                "does not verify under the record's board key",
            ),
            (
                Check::V20,
                "a checkpoint's signature cut short",
                |_, c, _| c.checkpoints[1].signature.truncate(126),
                "carries a signature that is not 64 bytes of lowercase hex",
            ),
            (
                Check::V20,
                "a checkpoint of another size than anchors.json says",
                |f, c, s| c.checkpoints[1] = checkpoint(f, s, 5, tx(3)),
                "on chain, but anchors.json says size 4",
            ),
            (
                Check::V20,
                "a checkpoint anchors.json does not list",
                |f, c, s| c.checkpoints.insert(1, checkpoint(f, s, 2, tx(50))),
                "that anchors.json does not list",
            ),
            (
                Check::V20,
                "a checkpoint the chain does not hold",
                |_, c, _| {
                    c.checkpoints.remove(1);
                },
                "that the chain does not hold",
            ),
            (
                Check::V20,
                "no result on chain",
                |_, c, _| c.result = None,
                "no result is published on chain",
            ),
            (
                Check::V20,
                "another result transaction",
                |_, c, _| c.result.as_mut().unwrap().transaction = tx(78),
                "but anchors.json names transaction",
            ),
            (
                Check::V20,
                "no result transaction in anchors.json",
                |f, _, _| edit_anchors(f, |a| a.result_transaction = None),
                "but anchors.json names no result transaction",
            ),
            (
                Check::V20,
                "another tally digest",
                |_, c, _| c.result.as_mut().unwrap().tally_digest[0] ^= 1,
                "the result on chain has tally digest",
            ),
            (
                Check::V20,
                "another record digest",
                |_, c, _| c.result.as_mut().unwrap().record_digest[0] ^= 1,
                "the result on chain has record digest",
            ),
            (
                Check::V20,
                "the record digest with anchors.json",
                |f, c, _| {
                    let index: RecordIndex = serde_json::from_slice(&f[INDEX]).unwrap();
                    c.result.as_mut().unwrap().record_digest = index.digest();
                },
                "the result on chain has record digest",
            ),
            (
                Check::V20,
                "a result over another final head",
                |_, c, _| c.result.as_mut().unwrap().final_size -= 1,
                "the result on chain names a final tree head of size 9",
            ),
            (
                Check::V20,
                "a final head that is not the last checkpoint",
                |f, c, _| {
                    c.checkpoints.pop();
                    edit_anchors(f, |a| {
                        a.checkpoints.pop();
                    });
                },
                "is not the last checkpoint",
            ),
            (
                Check::V20,
                "no checkpoint at all",
                |f, c, _| {
                    c.checkpoints.clear();
                    edit_anchors(f, |a| a.checkpoints.clear());
                },
                "the chain holds no checkpoint",
            ),
            (
                Check::V21,
                "a ballot cast on chain that anchors.json does not mention",
                |_, c, _| c.fallback.push(cast_on_chain(7, b"another ballot")),
                "is neither on the board nor refused in anchors.json",
            ),
            (
                Check::V21,
                "a fallback ballot the chain does not hold",
                |_, c, _| {
                    c.fallback.pop();
                },
                "anchors.json lists fallback ballot 6",
            ),
            (
                Check::V21,
                "a digest that is not the ballot's",
                |_, c, _| c.fallback[0].digest[0] ^= 1,
                "the chain evidence is inconsistent: fallback ballot 0",
            ),
            (
                Check::V21,
                "ballot bytes that are not base64",
                |_, c, _| c.fallback[2].ballot = "not base64!".into(),
                "is not base64",
            ),
            (
                Check::V21,
                "a fallback ballot out of its place",
                |_, c, _| c.fallback[1].chain_index = 9,
                "says it is fallback ballot 9",
            ),
            (
                Check::V21,
                "another casting transaction",
                |_, c, _| c.fallback[0].transaction = tx(90),
                "but anchors.json names transaction",
            ),
            (
                Check::V21,
                "another ballot cast on chain than the board took",
                |f, c, _| {
                    let all = entries(f);
                    let other = all
                        .iter()
                        .rfind(|e| e.kind == EntryKind::Cast)
                        .unwrap();
                    c.fallback[0] = cast_on_chain(0, &ballot_bytes(other));
                },
                "but anchors.json says",
            ),
            (
                Check::V21,
                "a valid ballot refused",
                |f, c, s| {
                    let valid = fresh_ballot(f, &s.credentials[0], 11);
                    c.fallback.push(cast_on_chain(7, &valid));
                    edit_anchors(f, |a| {
                        a.rejected
                            .push(refusal(7, leaf_hash(&valid), "the ballot does not decode"))
                    });
                },
                "was refused as \"the ballot does not decode\", but it is a valid ballot of this election",
            ),
        ]
    }

    #[test]
    fn an_anchored_record_passes_every_check_with_its_chain() {
        let (files, _, chain) = anchored();
        let report = verify_chain(&files, &chain);
        assert!(report.passed(), "{:#?}", report.checks);
        // Every check passed, but V22: no booth was given.
        assert!(report
            .checks
            .iter()
            .all(|c| c.outcome == Outcome::Passed || c.check == Check::V22));
        assert_eq!(outcome(&report, Check::V22), Outcome::Skipped);
        assert!(report.results.is_some());
        // Three checkpoints, two ballots taken, five refused.
        assert_eq!(report.checks[Check::V19 as usize].items, 10);
        assert_eq!(report.checks[Check::V21 as usize].items, 7);
        assert!(
            detail(&report, Check::V21).contains("7 ballots cast on chain, 5 of them refused"),
            "{}",
            detail(&report, Check::V21)
        );
        assert!(detail(&report, Check::V20).contains("no dispute filed"));
        assert_eq!(
            report.chain,
            Some(ChainSummary {
                chain_id: CHAIN_ID,
                contract: contract(),
                registered: true,
                checkpoints: 3,
                fallback_ballots: 7,
                result_transaction: Some(tx(9)),
                challenge_ends_at: Some(OPENS + 2 * WEEK),
                disputes: 0,
            })
        );
    }

    #[test]
    fn every_chain_check_fails_when_the_record_or_the_chain_is_changed() {
        let (valid, secrets, chain) = anchored();
        for (check, what, tamper, needle) in tampers() {
            let mut files = valid.clone();
            let mut evidence = chain.clone();
            tamper(&mut files, &mut evidence, &secrets);
            assert!(
                files != valid || evidence != chain,
                "{what}: the tamper changed nothing"
            );
            expect_only(&verify_chain(&files, &evidence), check, needle, what);
        }
    }

    #[test]
    fn chain_checks_are_skipped_not_passed_without_chain_evidence() {
        let (anchored, ..) = anchored();
        for files in [record().0, anchored] {
            let report = verify(&files);
            for check in [Check::V20, Check::V21] {
                assert_eq!(outcome(&report, check), Outcome::Skipped);
                assert_eq!(
                    detail(&report, check),
                    "no chain was given (tabella verify --rpc-url or --chain-dir)"
                );
            }
            // The record still verifies, and says its anchoring was not checked.
            assert!(report.passed(), "{:#?}", report.checks);
            assert!(report.first_failure().is_none());
            assert!(report.results.is_some());
            assert_eq!(report.chain, None);
            let json = serde_json::to_value(&report).unwrap();
            assert_eq!(json["checks"][19]["check"], "V20");
            assert_eq!(json["checks"][19]["outcome"], "skipped");
            assert_eq!(json["checks"][20]["outcome"], "skipped");
            assert!(json.get("chain").is_none());
        }
    }

    #[test]
    fn disputes_are_reported_without_failing() {
        let (files, _, mut chain) = anchored();
        let result = chain.result.as_mut().unwrap();
        for k in 0..2u8 {
            result.disputes.push(ChainDispute {
                transaction: tx(60 + k),
                challenger: format!("0x{}", hex::encode([0x33 + k; 20])),
                evidence_digest: [0x44 + k; 32],
            });
        }
        let report = verify_chain(&files, &chain);
        assert!(report.passed(), "{:#?}", report.checks);
        assert_eq!(report.chain.as_ref().map(|c| c.disputes), Some(2));
        let note = detail(&report, Check::V20);
        assert!(note.contains("2 dispute(s) filed"), "{note}");
        assert!(note.contains(&tx(61)), "{note}");
    }

    #[test]
    fn chain_checks_are_skipped_when_what_they_need_cannot_be_read() {
        let (valid, _, chain) = anchored();
        // anchors.json unreadable: V19 fails, V20 and V21 cannot run.
        let mut files = valid.clone();
        files.insert(ANCHORS.into(), b"{\"chain_id\": 1}".to_vec());
        reindex(&mut files);
        let report = verify_chain(&files, &chain);
        assert_eq!(outcome(&report, Check::V19), Outcome::Failed);
        for check in [Check::V20, Check::V21] {
            assert_eq!(outcome(&report, check), Outcome::Skipped);
            assert_eq!(
                detail(&report, check),
                "anchors.json could not be read (V19)"
            );
        }
        // No election parameters: nothing to compare with.
        let mut files = valid.clone();
        files.insert(ELECTION.into(), b"[]".to_vec());
        reindex(&mut files);
        let report = verify_chain(&files, &chain);
        assert_eq!(outcome(&report, Check::V2), Outcome::Failed);
        for check in [Check::V20, Check::V21] {
            assert_eq!(outcome(&report, check), Outcome::Skipped);
        }
        // A broken credential list: whether the refused stranger's credential is eligible
        // cannot be told.
        let mut files = valid;
        edit::<CredentialList>(&mut files, CREDENTIALS, |l| l.digest = [0; 32]);
        reindex(&mut files);
        // The record anchored is this one (else V20 fails on the record digest).
        let mut chain = chain;
        let index: RecordIndex = serde_json::from_slice(&files[INDEX]).unwrap();
        chain.result.as_mut().unwrap().record_digest = index.anchored_digest();
        let report = verify_chain(&files, &chain);
        assert_eq!(outcome(&report, Check::V4), Outcome::Failed);
        assert_eq!(outcome(&report, Check::V20), Outcome::Passed);
        assert_eq!(outcome(&report, Check::V21), Outcome::Skipped);
        assert!(detail(&report, Check::V21).contains("the credential list is not valid (V4)"));
    }

    #[test]
    fn the_anchored_digest_leaves_out_anchors_json_only() {
        let (files, ..) = anchored();
        let index: RecordIndex = serde_json::from_slice(&files[INDEX]).unwrap();
        let without = RecordIndex {
            files: index
                .files
                .iter()
                .filter(|f| f.path != ANCHORS)
                .cloned()
                .collect(),
            ..index.clone()
        };
        assert_ne!(index.anchored_digest(), index.digest());
        assert_eq!(index.anchored_digest(), without.digest());
        assert_eq!(without.anchored_digest(), without.digest());
    }

    #[test]
    fn the_trustee_keys_digest_has_the_specified_layout() {
        // spec/record.md §5, spec/anchoring.md ANCHOR-CREATE-2.
        let (files, _) = record();
        let ceremony: CeremonyParams = serde_json::from_slice(&files[CEREMONY]).unwrap();
        let mut m = Vec::new();
        m.extend_from_slice(&(TRUSTEE_KEYS_DOMAIN.len() as u64).to_le_bytes());
        m.extend_from_slice(b"tabella/v1/trustee-keys");
        m.extend_from_slice(&ceremony.election_id.0);
        m.extend_from_slice(&ceremony.threshold.to_le_bytes());
        m.extend_from_slice(&(ceremony.trustees.len() as u32).to_le_bytes());
        for t in &ceremony.trustees {
            m.extend_from_slice(&t.identity_key.to_bytes());
        }
        assert_eq!(m.len(), 8 + 23 + 32 + 4 + 4 + 32 * 3);
        assert_eq!(
            trustee_keys_digest(&ceremony),
            <[u8; 32]>::from(Sha256::digest(&m))
        );
        // Any change of the trustees or the threshold changes it.
        let mut other = ceremony.clone();
        other.threshold += 1;
        assert_ne!(trustee_keys_digest(&other), trustee_keys_digest(&ceremony));
        let mut other = ceremony.clone();
        other.trustees.swap(0, 1);
        assert_ne!(trustee_keys_digest(&other), trustee_keys_digest(&ceremony));
    }

    #[test]
    fn checkpoints_of_size_zero_carry_the_empty_root() {
        let (files, secrets, mut chain) = anchored();
        let election = parameters(&files).election_id;
        chain.checkpoints[0] = signed(&secrets, election, 0, [9; 32], tx(2));
        let report = verify_chain(&files, &chain);
        assert_eq!(outcome(&report, Check::V20), Outcome::Failed);
        assert!(detail(&report, Check::V20).contains(&hex::encode(EMPTY_ROOT)));
    }

    fn fixture() -> &'static (Files, ChainEvidence) {
        static FIXTURE: std::sync::OnceLock<(Files, ChainEvidence)> = std::sync::OnceLock::new();
        FIXTURE.get_or_init(|| {
            let (files, _, chain) = anchored();
            (files, chain)
        })
    }

    /// Values of the evidence the record does not bind: who created the election, its schedule,
    /// the challenge window and the disputes (reported, not judged).
    fn unbound(pointer: &str) -> bool {
        [
            "/operator",
            "/opens_at",
            "/closes_at",
            "/challenge_period",
            "/challenge_ends_at",
        ]
        .iter()
        .any(|end| pointer.ends_with(end))
            || pointer.contains("/disputes/")
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

        /// One changed value anywhere in the chain evidence that the record binds is caught by
        /// V20 or V21.
        #[test]
        fn a_changed_chain_value_is_rejected(leaf in 0usize..1_000_000, pick in 0usize..1000) {
            let (files, chain) = fixture();
            let mut value = serde_json::to_value(chain).unwrap();
            let mut all = Vec::new();
            super::properties::leaves(&value, String::new(), &mut all);
            all.retain(|p| !unbound(p));
            let pointer = &all[leaf % all.len()];
            super::properties::change(value.pointer_mut(pointer).unwrap(), pick);
            let changed: Result<ChainEvidence, _> = serde_json::from_value(value);
            prop_assume!(changed.is_ok());
            let changed = changed.unwrap();
            prop_assert_ne!(&changed, chain);
            let report = verify_chain(files, &changed);
            let first = report.first_failure().map(|c| c.check);
            prop_assert!(
                matches!(first, Some(Check::V20 | Check::V21)),
                "{pointer}: {first:?}"
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// V22: the booth against the manifest.

mod booth {
    use super::*;
    use crate::booth::{BoothDigest, BoothManifest};
    #[cfg(all(target_arch = "wasm32", target_os = "unknown"))]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn digest(text: &[u8]) -> BoothDigest {
        BoothManifest::from_files([("index.html", text)])
            .unwrap()
            .digest()
    }

    /// The synthetic record, its manifest publishing the booth `published`.
    fn record_publishing(published: Option<BoothDigest>) -> Files {
        let mut files = Files::new();
        let mut manifest = small_manifest();
        manifest.booth = published;
        synthesize(
            &SynthOptions {
                manifest,
                ..options()
            },
            &mut files,
            |_| {},
        )
        .unwrap();
        files
    }

    fn verify_booth(files: &Files, booth: Option<BoothDigest>) -> Report {
        verify_with(
            files,
            VerifyOptions {
                booth,
                ..VerifyOptions::default()
            },
        )
    }

    #[test]
    fn v22_passes_for_the_published_booth() {
        let published = digest(b"<!doctype html>");
        let files = record_publishing(Some(published));
        let report = verify_booth(&files, Some(published));
        assert!(report.passed(), "{:#?}", report.checks);
        assert_eq!(outcome(&report, Check::V22), Outcome::Passed);
        assert_eq!(report.checks[Check::V22 as usize].items, 1);
        assert_eq!(report.booth, Some(published));
        let json = serde_json::to_value(&report).unwrap();
        assert_eq!(json["booth"], published.to_hex());
        assert_eq!(json["checks"][21]["check"], "V22");
        assert_eq!(json["checks"][21]["outcome"], "passed");
    }

    #[test]
    fn v22_fails_for_another_booth_and_for_a_manifest_without_one() {
        let published = digest(b"<!doctype html>");
        let other = digest(b"<!doctype html><script src=evil.js>");
        // Another booth than the one the manifest publishes.
        let files = record_publishing(Some(published));
        let report = verify_booth(&files, Some(other));
        assert_eq!(
            first_failure(&report),
            Some((
                Check::V22,
                format!(
                    "the booth given has digest {other}, but the manifest publishes booth digest \
                     {published}"
                )
            ))
        );
        assert!(!report.passed());
        assert!(report.results.is_none());
        // Only V22 failed.
        let failed: Vec<Check> = report
            .checks
            .iter()
            .filter(|c| c.outcome != Outcome::Passed && !report.not_asked(c.check))
            .map(|c| c.check)
            .collect();
        assert_eq!(failed, vec![Check::V22]);
        // A manifest that publishes no booth vouches for none.
        let files = record_publishing(None);
        let report = verify_booth(&files, Some(other));
        assert_eq!(
            first_failure(&report),
            Some((
                Check::V22,
                format!(
                    "the manifest publishes no booth digest, so it vouches for no booth, yet a \
                     booth with digest {other} was given"
                )
            ))
        );
        assert!(!report.passed());
    }

    #[test]
    fn v22_is_skipped_not_passed_without_a_booth() {
        let published = digest(b"<!doctype html>");
        for files in [record_publishing(Some(published)), record_publishing(None)] {
            let report = verify_booth(&files, None);
            assert_eq!(outcome(&report, Check::V22), Outcome::Skipped);
            assert_eq!(
                detail(&report, Check::V22),
                "no booth was given (tabella verify --booth DIR or URL)"
            );
            assert!(report.not_asked(Check::V22));
            // The record still verifies, and says no booth was compared.
            assert!(report.passed(), "{:#?}", report.checks);
            assert!(report.first_failure().is_none());
            assert_eq!(report.booth, None);
            let json = serde_json::to_value(&report).unwrap();
            assert_eq!(json["checks"][21]["outcome"], "skipped");
            assert!(json.get("booth").is_none());
        }
    }

    #[test]
    fn v22_is_skipped_when_the_parameters_cannot_be_read() {
        let published = digest(b"<!doctype html>");
        let mut files = record_publishing(Some(published));
        files.insert(ELECTION.into(), b"[]".to_vec());
        reindex(&mut files);
        let report = verify_booth(&files, Some(published));
        assert_eq!(outcome(&report, Check::V2), Outcome::Failed);
        assert_eq!(outcome(&report, Check::V22), Outcome::Skipped);
        assert_eq!(
            detail(&report, Check::V22),
            "the election parameters could not be read (V2)"
        );
    }
}
