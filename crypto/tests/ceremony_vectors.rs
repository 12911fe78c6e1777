//! The ceremony test vector in `spec/vectors/ceremony.json` (spec/ceremonies.md): a complete
//! 2-of-3 key ceremony and a tally with trustee 2 absent, every message as published.
//!
//! Everything is drawn from a seeded ChaCha20 stream: `regenerate_ceremony_vector` (ignored)
//! writes the file, `ceremony_vector_is_reproduced` derives it again and compares, and
//! `stored_ceremony_vector_verifies` checks the stored messages from scratch as an observer
//! would: the outcome, the verification keys and the totals are recomputed, never trusted.

#![allow(clippy::unwrap_used)] // Test code: a failure is a test failure.

use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use serde::{Deserialize, Serialize};
use tabella_crypto::ballot::ElectionId;
use tabella_crypto::ceremony::{
    check_shares, combine, deal, finalize, partial_decrypt, CeremonyError, CeremonyOutcome,
    CeremonyParams, CheckMessage, DealerMessage, KeyShare, PartialDecryptionMessage, TallyItem,
    TallyOutcome, TallyRequest, TrusteeIdentity,
};
use tabella_crypto::elgamal::Ciphertext;

// These tests also run in headless Chromium (`cargo xtask test`, step browser-crypto), where
// wasm-bindgen-test's attribute stands in for `#[test]`, inside `proptest!` too.
#[cfg(all(target_arch = "wasm32", target_os = "unknown"))]
use wasm_bindgen_test::wasm_bindgen_test as test;
#[cfg(all(target_arch = "wasm32", target_os = "unknown"))]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

/// Where `regenerate_ceremony_vector` writes the vector.
#[cfg(not(target_arch = "wasm32"))]
const PATH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../spec/vectors/ceremony.json");
/// The stored vector, embedded so that the test reads the same bytes natively and in the browser.
const STORED: &str = include_str!("../../spec/vectors/ceremony.json");
const SEED: u64 = 2026;

#[derive(Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Vector {
    description: String,
    seed: u64,
    params: CeremonyParams,
    ceremony_id: String,
    dealers: Vec<DealerMessage>,
    dealer_digests: Vec<String>,
    checks: Vec<CheckMessage>,
    outcome: CeremonyOutcome,
    /// The totals the aggregates encrypt (each is a sum of encryptions of 0 and 1).
    expected_totals: Vec<u64>,
    request: TallyRequest,
    request_digest: String,
    partials: Vec<PartialDecryptionMessage>,
    tally: TallyOutcome,
}

fn derive() -> Vector {
    let rng = &mut ChaCha20Rng::seed_from_u64(SEED);
    let election = ElectionId([0x42; 32]);
    let ids: Vec<TrusteeIdentity> = (0..3).map(|_| TrusteeIdentity::generate(rng)).collect();
    let announcements = ["Ada", "Boole", "Church"]
        .iter()
        .zip(&ids)
        .map(|(name, id)| id.announce(election, name, rng).unwrap())
        .collect();
    let params = CeremonyParams::new(election, 2, announcements, rng).unwrap();
    let dealers: Vec<_> = ids
        .iter()
        .map(|id| deal(&params, id, rng).unwrap())
        .collect();
    let checks: Vec<_> = ids
        .iter()
        .map(|id| check_shares(&params, id, &dealers, rng).unwrap().0)
        .collect();
    let outcome = finalize(&params, &dealers, &checks, rng).unwrap();
    let ek = outcome.joint_key.precompute();
    let expected_totals = vec![2, 0, 1];
    let items = expected_totals
        .iter()
        .enumerate()
        .map(|(k, &total)| {
            let votes: Vec<Ciphertext> = (0..3u64)
                .map(|v| ek.encrypt(u64::from(v < total), rng).0)
                .collect();
            TallyItem {
                label: format!("mayor/candidate-{k}"),
                ciphertext: Ciphertext::sum(&votes),
            }
        })
        .collect();
    let request = TallyRequest {
        ceremony: outcome.ceremony,
        joint_key: outcome.joint_key,
        max_count: 3,
        items,
    };
    let partials: Vec<_> = [0usize, 2]
        .iter()
        .map(|&i| {
            let share = KeyShare::derive(&params, &outcome, &dealers, &ids[i]).unwrap();
            partial_decrypt(&params, &outcome, &request, &ids[i], &share, rng, |_| {}).unwrap()
        })
        .collect();
    let tally = combine(&params, &outcome, &request, &partials, rng).unwrap();
    Vector {
        description: "A 2-of-3 key ceremony (trustees Ada, Boole, Church) and a tally of three \
            aggregates with Boole absent. Seeded ChaCha20 (seed 2026) drives every random choice; \
            see spec/ceremonies.md."
            .into(),
        seed: SEED,
        ceremony_id: params.id().to_string(),
        dealer_digests: dealers.iter().map(|d| d.digest().to_string()).collect(),
        params,
        dealers,
        checks,
        outcome,
        expected_totals,
        request_digest: request.digest().to_string(),
        request,
        partials,
        tally,
    }
}

fn stored() -> Vector {
    serde_json::from_str(STORED).unwrap()
}

#[cfg(not(target_arch = "wasm32"))] // Writes into spec/: the browser has no file system.
#[test]
#[ignore = "writes spec/vectors/ceremony.json"]
fn regenerate_ceremony_vector() {
    std::fs::write(
        PATH,
        serde_json::to_string_pretty(&derive()).unwrap() + "\n",
    )
    .unwrap();
}

#[test]
fn ceremony_vector_is_reproduced() {
    assert_eq!(
        derive(),
        stored(),
        "re-derived vector differs from spec/vectors/ceremony.json"
    );
}

#[test]
fn stored_ceremony_vector_verifies() {
    let v = stored();
    let rng = &mut ChaCha20Rng::seed_from_u64(1);
    v.params.validate(rng).unwrap();
    assert_eq!(v.params.id().to_string(), v.ceremony_id);
    let digests: Vec<String> = v.dealers.iter().map(|d| d.digest().to_string()).collect();
    assert_eq!(digests, v.dealer_digests);
    // The outcome (joint key, verification keys, qualified set) is recomputed, not read.
    let outcome = finalize(&v.params, &v.dealers, &v.checks, rng).unwrap();
    assert_eq!(outcome, v.outcome);
    assert_eq!(outcome.qualified, vec![1, 2, 3]);
    assert_eq!(v.request.digest().to_string(), v.request_digest);
    let tally = combine(&v.params, &outcome, &v.request, &v.partials, rng).unwrap();
    assert_eq!(tally, v.tally);
    let totals: Vec<u64> = tally.totals.iter().map(|(_, t)| *t).collect();
    assert_eq!(totals, v.expected_totals);
    assert_eq!(tally.combined, vec![1, 3]);
    assert_eq!(tally.absent, vec![2]);
}

#[test]
fn the_stored_vector_rejects_changes() {
    let v = stored();
    let rng = &mut ChaCha20Rng::seed_from_u64(2);
    // A changed total in the request: the partials are bound to the original request.
    let mut request = v.request.clone();
    request.items.swap(0, 2);
    let err = combine(&v.params, &v.outcome, &request, &v.partials, rng).unwrap_err();
    assert!(
        matches!(err, CeremonyError::NotEnoughShares { valid: 0, .. }),
        "{err}"
    );
    // A changed joint key in the outcome.
    let mut outcome = v.outcome.clone();
    outcome.joint_key = v.outcome.verification_keys[0].key;
    assert!(combine(&v.params, &outcome, &v.request, &v.partials, rng).is_err());
    // A changed commitment: the dealer's signature fails and it is disqualified.
    let mut dealers = v.dealers.clone();
    dealers[1].commitments.swap(0, 1);
    let outcome = finalize(&v.params, &dealers, &v.checks, rng).unwrap();
    assert_eq!(outcome.qualified, vec![1, 3]);
    assert_ne!(outcome.joint_key, v.outcome.joint_key);
}
