//! Ballot benchmarks: workloads P10 (plurality, 10 options), S5 (score 0..10, 5 options) and
//! C5 (cumulative, 5 options, each 0..10, budget 10). Figures are quoted in the crate README.
//!
//! `cargo bench -p tabella-crypto --features parallel --bench ballots` (add `-- P10` to run one
//! workload). The `_two_threads` variant decodes and verifies on both cores of the machine.

#![allow(missing_docs)] // criterion_group! and criterion_main! generate undocumented items.

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use tabella_crypto::ballot::{Ballot, ElectionContext, ElectionId};
use tabella_crypto::credential::{CredentialCode, CredentialSecret};
use tabella_crypto::elgamal::SecretKey;
use tabella_crypto::manifest::{Contest, ContestStyle, Manifest, Selection};

/// Ballots in a batch-verification run.
const BATCH: usize = 1000;

fn context(style: ContestStyle, options: usize) -> ElectionContext {
    let manifest = Manifest {
        title: "bench".into(),
        contests: vec![Contest {
            id: "c".into(),
            title: "Contest".into(),
            style,
            selections: (0..options)
                .map(|i| Selection {
                    id: format!("s{i}"),
                    label: format!("Option {i}"),
                })
                .collect(),
        }],
        booth: None,
        contact: None,
        translations: Default::default(),
    };
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    let key = SecretKey::generate(&mut rng).public_key();
    ElectionContext::new(ElectionId([1; 32]), manifest, key).expect("valid bench manifest")
}

fn workloads() -> Vec<(&'static str, ElectionContext, Vec<u64>)> {
    vec![
        ("P10", context(ContestStyle::Plurality, 10), {
            let mut v = vec![0; 10];
            v[3] = 1;
            v
        }),
        (
            "S5",
            context(ContestStyle::Score { max_score: 10 }, 5),
            vec![10, 0, 3, 7, 5],
        ),
        (
            "C5",
            context(
                ContestStyle::Cumulative {
                    max_per_selection: 10,
                    budget: 10,
                },
                5,
            ),
            vec![4, 0, 3, 2, 1],
        ),
    ]
}

fn bench(c: &mut Criterion) {
    let mut rng = ChaCha20Rng::seed_from_u64(2);
    for (name, ctx, choices) in workloads() {
        let credential =
            CredentialSecret::derive(&CredentialCode::generate(&mut rng), &ctx.election_id().0);
        let choices = vec![choices];
        let (ballot, _) = ctx
            .encrypt_ballot(&choices, &credential, &mut rng)
            .expect("valid choices");
        eprintln!("{name}: ballot is {} bytes", ballot.to_bytes().len());

        let mut group = c.benchmark_group(name);
        group.bench_function("encrypt_and_prove", |b| {
            b.iter(|| {
                ctx.encrypt_ballot(&choices, &credential, &mut rng)
                    .expect("valid")
            })
        });
        group.bench_function("decode_and_verify_one", |b| {
            b.iter(|| {
                let decoded = Ballot::from_bytes(ballot.to_bytes(), &ctx).expect("decodes");
                ctx.verify_ballot(&decoded, &mut rng).expect("verifies")
            })
        });
        let batch: Vec<Vec<u8>> = (0..BATCH)
            .map(|_| {
                ctx.encrypt_ballot(&choices, &credential, &mut rng)
                    .expect("valid")
                    .0
                    .to_bytes()
                    .to_vec()
            })
            .collect();
        group.throughput(Throughput::Elements(BATCH as u64));
        group.sample_size(10);
        group.bench_function(format!("decode_and_batch_verify_{BATCH}"), |b| {
            b.iter_batched(
                || (),
                |()| {
                    let decoded: Vec<Ballot> = batch
                        .iter()
                        .map(|bytes| Ballot::from_bytes(bytes, &ctx).expect("decodes"))
                        .collect();
                    ctx.verify_batch(&decoded, &mut rng).expect("verifies")
                },
                BatchSize::PerIteration,
            )
        });
        #[cfg(feature = "parallel")]
        group.bench_function(
            format!("decode_and_batch_verify_{BATCH}_two_threads"),
            |b| {
                use rayon::prelude::*;
                b.iter_batched(
                    || (),
                    |()| {
                        let decoded: Vec<Ballot> = batch
                            .par_iter()
                            .map(|bytes| Ballot::from_bytes(bytes, &ctx).expect("decodes"))
                            .collect();
                        ctx.verify_batch_parallel(&decoded, &mut rng)
                            .expect("verifies")
                    },
                    BatchSize::PerIteration,
                )
            },
        );
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
