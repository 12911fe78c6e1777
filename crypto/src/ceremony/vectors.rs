//! The complaint test vector, `spec/vectors/ceremony-complaint.json` (spec/ceremonies.md §2.8):
//! a 2-of-5 key ceremony in which two dealers deal bad shares and one trustee complains falsely,
//! with every message as published and, for each complaint, the intermediate values a second
//! implementation needs to judge it (the AEAD key, the opened share).
//!
//! The bad messages need the crate's test-only helpers (a re-sealed or altered envelope, re-signed
//! by its dealer), so the vector lives with the unit tests: `regenerate_complaint_vector`
//! (ignored) writes the file, `complaint_vector_is_reproduced` derives it again and compares, and
//! `stored_complaint_vector_verifies` judges the stored messages from scratch, as an observer
//! would.

use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use serde::{Deserialize, Serialize};

use super::*;
use crate::group::{g_table, Element, Scalar};
#[cfg(all(target_arch = "wasm32", target_os = "unknown"))]
use wasm_bindgen_test::wasm_bindgen_test as test;

/// Where `regenerate_complaint_vector` writes the vector.
#[cfg(not(target_arch = "wasm32"))]
const PATH: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../spec/vectors/ceremony-complaint.json"
);
/// The stored vector, embedded so that the test reads the same bytes natively and in the browser.
const STORED: &str = include_str!("../../../spec/vectors/ceremony-complaint.json");
const SEED: u64 = 2027;

/// One complaint, judged step by step (spec/ceremonies.md §2.5, step 2.2.3).
#[derive(Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct JudgedComplaint {
    /// The complaining recipient `j`.
    complainer: u32,
    /// The accused dealer `i`.
    dealer: u32,
    /// `K = y_j·E`, as revealed (hex).
    shared: String,
    /// HKDF-SHA-512 of `K` with the envelope AD: the one-time ChaCha20-Poly1305 key (hex).
    aead_key: String,
    /// The share the envelope holds (hex scalar), or `None` when it does not open.
    opened: Option<String>,
    /// `f_i(j)·G` from the dealer's commitments (hex point): the Feldman check compares the
    /// opened share's image with it.
    expected_image: String,
    /// The verdict: `bad-share: does-not-decrypt`, `bad-share: not-on-commitments` or
    /// `false-complaint`.
    verdict: String,
}

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
    complaints: Vec<JudgedComplaint>,
    outcome: CeremonyOutcome,
}

fn judge(
    params: &CeremonyParams,
    dealers: &[DealerMessage],
    checks: &[CheckMessage],
) -> Vec<JudgedComplaint> {
    let id = params.id();
    let mut judged = Vec::new();
    for check in checks {
        for complaint in &check.complaints {
            let dealer = &dealers[complaint.dealer as usize - 1];
            let (envelope, sealed) = dealer.envelope(params, &id, check.trustee).unwrap();
            let opened = envelope.open(&complaint.shared.point, sealed);
            let image = dealer.share_image(check.trustee);
            let verdict = match opened {
                None => "bad-share: does-not-decrypt",
                Some(value) if g_table() * &value != image => "bad-share: not-on-commitments",
                Some(_) => "false-complaint",
            };
            judged.push(JudgedComplaint {
                complainer: check.trustee,
                dealer: complaint.dealer,
                shared: hex::encode(complaint.shared.as_bytes()),
                aead_key: hex::encode(envelope.aead_key(&complaint.shared.point)),
                opened: opened.map(|v| hex::encode(v.to_bytes())),
                expected_image: hex::encode(image.compress().to_bytes()),
                verdict: verdict.into(),
            });
        }
    }
    judged
}

fn derive() -> Vector {
    let rng = &mut ChaCha20Rng::seed_from_u64(SEED);
    let election = ElectionId([0x43; 32]);
    let ids: Vec<TrusteeIdentity> = (0..5).map(|_| TrusteeIdentity::generate(rng)).collect();
    let announcements = ["Ada", "Boole", "Church", "Dijkstra", "Euler"]
        .iter()
        .zip(&ids)
        .map(|(name, id)| id.announce(election, name, rng).unwrap())
        .collect();
    let params = CeremonyParams::new(election, 2, announcements, rng).unwrap();
    let mut dealers: Vec<DealerMessage> = ids
        .iter()
        .map(|id| deal(&params, id, rng).unwrap())
        .collect();
    // Boole (2) seals a share for Church (3) that is not on its commitments: f₂(3) + 1.
    let id = params.id();
    let (envelope, sealed) = dealers[1].envelope(&params, &id, 3).unwrap();
    let shared = envelope.ephemeral.point * ids[2].scalar();
    let wrong = envelope.open(&shared, sealed).unwrap() + Scalar::ONE;
    dealers[1].reseal(&params, 3, &wrong, rng);
    dealers[1].resign(&ids[1], rng);
    // Dijkstra (4) sends Ada (1) an envelope that does not open: one ciphertext bit flipped.
    dealers[3].shares[0].sealed[0] ^= 1;
    dealers[3].resign(&ids[3], rng);
    let mut checks: Vec<CheckMessage> = ids
        .iter()
        .map(|id| check_shares(&params, id, &dealers, rng).unwrap().0)
        .collect();
    // Church (3) also complains falsely against Ada (1), whose share for it was right.
    let false_complaint = dealers[0].reveal_for(&params, &ids[2], rng);
    checks[2].complaints.insert(0, false_complaint);
    checks[2].resign(&ids[2], rng);
    let outcome = finalize(&params, &dealers, &checks, rng).unwrap();
    Vector {
        description: "A 2-of-5 key ceremony with complaints (trustees Ada, Boole, Church, \
            Dijkstra, Euler). Boole deals Church a share that is not on its commitments and \
            Dijkstra deals Ada an envelope that does not open: each recipient complains and each \
            dealer is disqualified for a bad share. Church also complains falsely against Ada and \
            is disqualified; its true complaint against Boole still counts. Ada and Euler \
            qualify. Seeded ChaCha20 (seed 2027) drives every random choice; see \
            spec/ceremonies.md §2.8."
            .into(),
        seed: SEED,
        ceremony_id: params.id().to_string(),
        dealer_digests: dealers.iter().map(|d| d.digest().to_string()).collect(),
        complaints: judge(&params, &dealers, &checks),
        params,
        dealers,
        checks,
        outcome,
    }
}

fn stored() -> Vector {
    serde_json::from_str(STORED).unwrap()
}

#[cfg(not(target_arch = "wasm32"))] // Writes into spec/: the browser has no file system.
#[test]
#[ignore = "writes spec/vectors/ceremony-complaint.json"]
fn regenerate_complaint_vector() {
    std::fs::write(
        PATH,
        serde_json::to_string_pretty(&derive()).unwrap() + "\n",
    )
    .unwrap();
}

#[test]
fn complaint_vector_is_reproduced() {
    assert_eq!(
        derive(),
        stored(),
        "re-derived vector differs from spec/vectors/ceremony-complaint.json"
    );
}

#[test]
fn stored_complaint_vector_verifies() {
    let v = stored();
    let rng = &mut ChaCha20Rng::seed_from_u64(1);
    v.params.validate(rng).unwrap();
    assert_eq!(v.params.id().to_string(), v.ceremony_id);
    let digests: Vec<String> = v.dealers.iter().map(|d| d.digest().to_string()).collect();
    assert_eq!(digests, v.dealer_digests);
    // Every dealer message is well formed, the bad ones included: their faults show only
    // through the complaints.
    for dealer in &v.dealers {
        dealer.validate(&v.params, rng).unwrap();
    }
    // Each complaint's intermediate values and verdict, recomputed.
    assert_eq!(judge(&v.params, &v.dealers, &v.checks), v.complaints);
    let verdicts: Vec<(u32, u32, &str)> = v
        .complaints
        .iter()
        .map(|c| (c.complainer, c.dealer, c.verdict.as_str()))
        .collect();
    assert_eq!(
        verdicts,
        vec![
            (1, 4, "bad-share: does-not-decrypt"),
            (3, 1, "false-complaint"),
            (3, 2, "bad-share: not-on-commitments"),
        ]
    );
    // The outcome (faults, joint key, verification keys) is recomputed, not read.
    let outcome = finalize(&v.params, &v.dealers, &v.checks, rng).unwrap();
    assert_eq!(outcome, v.outcome);
    assert_eq!(outcome.qualified, vec![1, 5]);
    assert_eq!(
        outcome.disqualified,
        vec![
            Disqualification {
                trustee: 2,
                fault: Fault::BadShare {
                    recipient: 3,
                    problem: ShareProblem::NotOnCommitments
                }
            },
            Disqualification {
                trustee: 3,
                fault: Fault::FalseComplaint { dealer: 1 }
            },
            Disqualification {
                trustee: 4,
                fault: Fault::BadShare {
                    recipient: 1,
                    problem: ShareProblem::DoesNotDecrypt
                }
            },
        ]
    );
    let joint = v.dealers[0].commitments[0].point + v.dealers[4].commitments[0].point;
    assert_eq!(outcome.joint_key.element().point, joint);
}

#[test]
fn the_stored_complaint_vector_rejects_changes() {
    let v = stored();
    let rng = &mut ChaCha20Rng::seed_from_u64(2);
    // A complaint whose revealed key is changed: its DLEQ proof fails, and the complainer, not
    // the dealer, is disqualified.
    let mut checks = v.checks.clone();
    let complaint = &mut checks[0].complaints[0];
    complaint.shared = Element::new(complaint.shared.point + g_table() * &Scalar::ONE);
    let outcome = finalize(&v.params, &v.dealers, &checks, rng).unwrap();
    // Trustee 1's check message no longer verifies: it is disqualified for it, and dealer 4's
    // bad envelope goes unproven.
    assert!(matches!(
        outcome.fault(1),
        Some(Fault::InvalidCheckMessage { .. })
    ));
    assert_eq!(outcome.fault(4), None);
    // The false complaint withdrawn (and the message re-signed by nobody): trustee 3's
    // signature fails, so it stays disqualified, for another reason.
    let mut checks = v.checks.clone();
    checks[2].complaints.remove(0);
    let outcome = finalize(&v.params, &v.dealers, &checks, rng).unwrap();
    assert!(matches!(
        outcome.fault(3),
        Some(Fault::InvalidCheckMessage { .. })
    ));
}
