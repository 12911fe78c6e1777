//! Record verification benchmark: the whole verifier (spec/verification.md V1–V19) over a
//! synthetic record of P10 ballots (one plurality contest of 10 options), per ballot.
//!
//! `cargo bench -p tabella-crypto --features parallel,synth --bench record`. The full-size
//! figure (100,000 ballots, time and peak memory) comes from `tabella bench record` and
//! `tabella verify`; this bench isolates the verifier from file I/O.

#![allow(missing_docs)] // criterion_group! and criterion_main! generate undocumented items.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use tabella_crypto::manifest::{Contest, ContestStyle, Manifest, Selection};
use tabella_crypto::record::synth::{synthesize, Files, SynthOptions};
use tabella_crypto::record::{RecordVerifier, VerifyOptions, BALLOTS, INDEX};

/// Voters in the benchmark record.
const VOTERS: u64 = 512;

fn p10() -> Manifest {
    Manifest {
        title: "P10".into(),
        contests: vec![Contest {
            id: "c".into(),
            title: "Plurality of 10".into(),
            style: ContestStyle::Plurality,
            selections: (0..10)
                .map(|i| Selection {
                    id: format!("s{i}"),
                    label: format!("Option {i}"),
                })
                .collect(),
        }],
        booth: None,
        contact: None,
        translations: Default::default(),
    }
}

fn verify(files: &Files) -> bool {
    let mut v = RecordVerifier::new(
        &files[INDEX],
        VerifyOptions::default(),
        &mut ChaCha20Rng::seed_from_u64(1),
    );
    for path in v.documents() {
        v.document(&path, &files[&path]);
    }
    for chunk in files[BALLOTS].chunks(1 << 20) {
        v.ballots(chunk);
    }
    v.finish().passed()
}

fn record(c: &mut Criterion) {
    let options = SynthOptions {
        manifest: p10(),
        voters: VOTERS,
        trustees: 5,
        threshold: 3,
        absent: vec![2],
        spoil_every: 50,
        revote_every: 33,
        replaced: 0,
        seed: 1,
    };
    let mut files = Files::new();
    let entries = synthesize(&options, &mut files, |_| {})
        .map(|_| files[BALLOTS].iter().filter(|&&b| b == b'\n').count() as u64)
        .unwrap_or(0);
    assert!(verify(&files), "the benchmark record must verify");
    let mut group = c.benchmark_group("record");
    group.sample_size(10);
    group.throughput(Throughput::Elements(entries));
    group.bench_function("verify_P10_record", |b| b.iter(|| verify(&files)));
    group.finish();
}

criterion_group!(benches, record);
criterion_main!(benches);
