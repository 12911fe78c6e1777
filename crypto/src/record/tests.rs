//! Tests of the record verifier: a valid synthetic record passes every check, and for every
//! check a record changed at exactly that point fails it (spec/verification.md).

#![allow(clippy::panic)] // Test failures name what passed that should not have.

use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

use super::synth::{reindex, reseal, synthesize, Files, SynthOptions, Synthesized};
use super::*;
use crate::manifest::Manifest;

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
        seed: 7,
    }
}

pub(crate) fn record() -> (Files, Synthesized) {
    let mut files = Files::new();
    let secrets = synthesize(&options(), &mut files, |_| {}).unwrap();
    (files, secrets)
}

pub(crate) fn verify(files: &Files) -> Report {
    let mut v = RecordVerifier::new(
        files.get(INDEX).map(Vec::as_slice).unwrap_or_default(),
        VerifyOptions::default(),
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
    ]
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

    fn valid() -> &'static (Files, Vec<String>) {
        static VALID: std::sync::OnceLock<(Files, Vec<String>)> = std::sync::OnceLock::new();
        VALID.get_or_init(|| {
            let (files, _) = record();
            let paths = files.keys().cloned().collect();
            (files, paths)
        })
    }

    /// Every leaf value of a JSON document, as a JSON pointer.
    fn leaves(value: &Value, at: String, out: &mut Vec<String>) {
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
    fn change(value: &mut Value, pick: usize) {
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
const VECTOR_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../spec/vectors/record");

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
