//! Ceremony benchmarks: one trustee's work in the key ceremony (deal, check) and in the tally
//! (partial decryption of 20 aggregates), and anyone's work resolving the key ceremony and
//! combining the partial decryptions, for 5 trustees with threshold 3 and 15 with threshold 8.
//! Figures are quoted in spec/ceremonies.md.
//!
//! `cargo bench -p tabella-crypto --bench ceremony`

#![allow(missing_docs)] // criterion_group! and criterion_main! generate undocumented items.

use criterion::{criterion_group, criterion_main, Criterion};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use tabella_crypto::ballot::ElectionId;
use tabella_crypto::ceremony::{
    check_shares, combine, deal, finalize, partial_decrypt, CeremonyOutcome, CeremonyParams,
    CheckMessage, DealerMessage, KeyShare, PartialDecryptionMessage, TallyItem, TallyRequest,
    TrusteeIdentity,
};

/// Aggregates in the tally request (e.g. four contests of five selections).
const ITEMS: usize = 20;

struct Run {
    params: CeremonyParams,
    ids: Vec<TrusteeIdentity>,
    dealers: Vec<DealerMessage>,
    checks: Vec<CheckMessage>,
    outcome: CeremonyOutcome,
    request: TallyRequest,
    partials: Vec<PartialDecryptionMessage>,
}

fn run(n: usize, t: u32, rng: &mut ChaCha20Rng) -> Run {
    let election = ElectionId([3; 32]);
    let ids: Vec<_> = (0..n).map(|_| TrusteeIdentity::generate(rng)).collect();
    let announcements = ids
        .iter()
        .enumerate()
        .map(|(i, id)| {
            id.announce(election, &format!("t{i}"), rng)
                .expect("announce")
        })
        .collect();
    let params = CeremonyParams::new(election, t, announcements, rng).expect("params");
    let dealers: Vec<_> = ids
        .iter()
        .map(|id| deal(&params, id, rng).expect("deal"))
        .collect();
    let checks: Vec<_> = ids
        .iter()
        .map(|id| check_shares(&params, id, &dealers, rng).expect("check").0)
        .collect();
    let outcome = finalize(&params, &dealers, &checks, rng).expect("finalize");
    let ek = outcome.joint_key.precompute();
    let request = TallyRequest {
        ceremony: outcome.ceremony,
        joint_key: outcome.joint_key,
        max_count: 100_000,
        items: (0..ITEMS)
            .map(|k| TallyItem {
                label: format!("item-{k}"),
                ciphertext: ek.encrypt(k as u64 * 1000, rng).0,
            })
            .collect(),
    };
    let partials = ids
        .iter()
        .take(t as usize)
        .map(|id| {
            let share = KeyShare::derive(&params, &outcome, &dealers, id).expect("share");
            partial_decrypt(&params, &outcome, &request, id, &share, rng, |_| {}).expect("partial")
        })
        .collect();
    Run {
        params,
        ids,
        dealers,
        checks,
        outcome,
        request,
        partials,
    }
}

fn ceremonies(c: &mut Criterion) {
    let mut rng = ChaCha20Rng::seed_from_u64(9);
    for (n, t) in [(5usize, 3u32), (15, 8)] {
        let r = run(n, t, &mut rng);
        let mut group = c.benchmark_group(format!("ceremony_{t}_of_{n}"));
        group.sample_size(10);
        group.bench_function("deal (one trustee)", |b| {
            b.iter(|| deal(&r.params, &r.ids[0], &mut rng).expect("deal"))
        });
        group.bench_function("check shares (one trustee)", |b| {
            b.iter(|| check_shares(&r.params, &r.ids[0], &r.dealers, &mut rng).expect("check"))
        });
        group.bench_function("finalize (anyone)", |b| {
            b.iter(|| finalize(&r.params, &r.dealers, &r.checks, &mut rng).expect("finalize"))
        });
        let share = KeyShare::derive(&r.params, &r.outcome, &r.dealers, &r.ids[0]).expect("share");
        group.bench_function("partial decryption of 20 totals (one trustee)", |b| {
            b.iter(|| {
                partial_decrypt(
                    &r.params,
                    &r.outcome,
                    &r.request,
                    &r.ids[0],
                    &share,
                    &mut rng,
                    |_| {},
                )
                .expect("partial")
            })
        });
        group.bench_function("verify and combine t partials of 20 totals (anyone)", |b| {
            b.iter(|| {
                combine(&r.params, &r.outcome, &r.request, &r.partials, &mut rng).expect("combine")
            })
        });
        group.finish();
    }
}

criterion_group!(benches, ceremonies);
criterion_main!(benches);
