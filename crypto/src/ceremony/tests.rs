//! Tests of the key and tally ceremonies: honest runs for many `(n, t)`, and for every check a
//! message that breaks it.

use proptest::prelude::*;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

use super::*;
use crate::elgamal::{Ciphertext, PublicKey, SecretKey};
use crate::group::{g, Element, Scalar};
#[cfg(all(target_arch = "wasm32", target_os = "unknown"))]
use wasm_bindgen_test::wasm_bindgen_test as test;

pub(super) struct Ceremony {
    pub(super) params: CeremonyParams,
    pub(super) ids: Vec<TrusteeIdentity>,
    dealers: Vec<DealerMessage>,
    checks: Vec<CheckMessage>,
}

fn rng(seed: u64) -> ChaCha20Rng {
    ChaCha20Rng::seed_from_u64(seed)
}

fn election(tag: u8) -> ElectionId {
    ElectionId([tag; 32])
}

/// `n` trustees named `trustee 1` … with threshold `t`, for `election_id`: parameters, no
/// messages yet.
pub(super) fn params(n: usize, t: u32, election_id: ElectionId, rng: &mut ChaCha20Rng) -> Ceremony {
    let ids: Vec<_> = (0..n).map(|_| TrusteeIdentity::generate(rng)).collect();
    let announcements = ids
        .iter()
        .enumerate()
        .map(|(i, id)| {
            id.announce(election_id, &format!("trustee {}", i + 1), rng)
                .unwrap()
        })
        .collect();
    let params = CeremonyParams::new(election_id, t, announcements, rng).unwrap();
    Ceremony {
        params,
        ids,
        dealers: Vec::new(),
        checks: Vec::new(),
    }
}

impl Ceremony {
    fn new(n: usize, t: u32, seed: u64) -> (Self, ChaCha20Rng) {
        let mut rng = rng(seed);
        let mut c = params(n, t, election(1), &mut rng);
        c.deal_all(&mut rng);
        (c, rng)
    }

    fn deal_all(&mut self, rng: &mut ChaCha20Rng) {
        self.dealers = self
            .ids
            .iter()
            .map(|id| deal(&self.params, id, rng).unwrap())
            .collect();
    }

    fn check_all(&mut self, rng: &mut ChaCha20Rng) -> Vec<CheckReport> {
        let (checks, reports) = self
            .ids
            .iter()
            .map(|id| check_shares(&self.params, id, &self.dealers, rng).unwrap())
            .unzip();
        self.checks = checks;
        reports
    }

    /// The same trustees dealing afresh.
    fn clone_with_new_deals(&self, rng: &mut ChaCha20Rng) -> Self {
        let mut other = Ceremony {
            params: self.params.clone(),
            ids: self
                .ids
                .iter()
                .map(|id| TrusteeIdentity::from_secret_bytes(id.secret_bytes().as_slice()).unwrap())
                .collect(),
            dealers: Vec::new(),
            checks: Vec::new(),
        };
        other.deal_all(rng);
        other
    }

    fn finalize(&self, rng: &mut ChaCha20Rng) -> Result<CeremonyOutcome, CeremonyError> {
        finalize(&self.params, &self.dealers, &self.checks, rng)
    }

    fn share(&self, outcome: &CeremonyOutcome, j: u32) -> Result<KeyShare, CeremonyError> {
        KeyShare::derive(
            &self.params,
            outcome,
            &self.dealers,
            &self.ids[j as usize - 1],
        )
    }

    fn partial(
        &self,
        outcome: &CeremonyOutcome,
        request: &TallyRequest,
        j: u32,
        rng: &mut ChaCha20Rng,
    ) -> PartialDecryptionMessage {
        let share = self.share(outcome, j).unwrap();
        partial_decrypt(
            &self.params,
            outcome,
            request,
            &self.ids[j as usize - 1],
            &share,
            rng,
            |_| {},
        )
        .unwrap()
    }
}

/// Aggregates of `per_item[k]` encryptions of 1 each, under the joint key.
fn request(outcome: &CeremonyOutcome, per_item: &[u64], rng: &mut ChaCha20Rng) -> TallyRequest {
    let ek = outcome.joint_key.precompute();
    let items = per_item
        .iter()
        .enumerate()
        .map(|(k, &count)| {
            let cts: Vec<Ciphertext> = (0..count.max(1))
                .map(|v| ek.encrypt(u64::from(v < count), rng).0)
                .collect();
            TallyItem {
                label: format!("contest/{k}"),
                ciphertext: Ciphertext::sum(&cts),
            }
        })
        .collect();
    TallyRequest {
        ceremony: outcome.ceremony,
        joint_key: outcome.joint_key,
        max_count: 100,
        items,
    }
}

fn totals(outcome: &TallyOutcome) -> Vec<u64> {
    outcome.totals.iter().map(|(_, v)| *v).collect()
}

#[test]
fn one_of_one_runs_end_to_end() {
    let (mut c, mut rng) = Ceremony::new(1, 1, 1);
    let reports = c.check_all(&mut rng);
    assert_eq!(reports[0].verdicts, vec![(1, DealerVerdict::Accepted)]);
    let outcome = c.finalize(&mut rng).unwrap();
    assert_eq!(outcome.qualified, vec![1]);
    // With one trustee the verification key is the joint key.
    assert_eq!(outcome.verification_key(1), Some(&outcome.joint_key));
    let req = request(&outcome, &[3, 0, 7], &mut rng);
    let partial = c.partial(&outcome, &req, 1, &mut rng);
    let tally = combine(&c.params, &outcome, &req, &[partial], &mut rng).unwrap();
    assert_eq!(totals(&tally), vec![3, 0, 7]);
    assert_eq!(tally.combined, vec![1]);
}

#[test]
fn three_of_five_with_two_absent_decrypts() {
    let (mut c, mut rng) = Ceremony::new(5, 3, 2);
    c.check_all(&mut rng);
    let outcome = c.finalize(&mut rng).unwrap();
    assert_eq!(outcome.qualified, vec![1, 2, 3, 4, 5]);
    assert!(outcome.disqualified.is_empty());
    let req = request(&outcome, &[4, 9, 1], &mut rng);
    let partials: Vec<_> = [2, 4, 5]
        .iter()
        .map(|&j| c.partial(&outcome, &req, j, &mut rng))
        .collect();
    let tally = combine(&c.params, &outcome, &req, &partials, &mut rng).unwrap();
    assert_eq!(totals(&tally), vec![4, 9, 1]);
    assert_eq!(tally.combined, vec![2, 4, 5]);
    assert_eq!(tally.absent, vec![1, 3]);

    // A third absentee leaves two of the three needed: a clear failure, naming the absent.
    let err = combine(&c.params, &outcome, &req, &partials[..2], &mut rng).unwrap_err();
    assert_eq!(
        err,
        CeremonyError::NotEnoughShares {
            valid: 2,
            needed: 3,
            absent: vec![1, 3, 5],
            rejected: vec![],
        }
    );
    let text = err.to_string();
    assert!(text.contains("needs 3 trustees"), "{text}");
    assert!(text.contains("absent: trustee(s) 1, 3, 5"), "{text}");
}

#[test]
fn key_shares_interpolate_to_the_joint_secret() {
    // Σ λⱼ·xⱼ over any t trustees is the (never materialised) joint secret: check in the exponent.
    let (mut c, mut rng) = Ceremony::new(4, 2, 3);
    c.check_all(&mut rng);
    let outcome = c.finalize(&mut rng).unwrap();
    for pair in [[1u32, 2], [1, 4], [3, 4]] {
        let lambdas = tally::lagrange_at_zero(&pair);
        let secret: Scalar = pair
            .iter()
            .zip(&lambdas)
            .map(|(&j, l)| c.share(&outcome, j).unwrap().secret().expose_secret() * l)
            .sum();
        assert_eq!(
            SecretKey::from_scalar(secret).public_key(),
            outcome.joint_key
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(6))]

    /// Any `(n, t)` up to 15 and any subset of at least `t` present trustees give the totals.
    #[test]
    fn any_threshold_subset_decrypts(
        n in 1usize..=15,
        t_frac in 0.0f64..1.0,
        seed: u64,
        present_mask: u16,
    ) {
        let t = 1 + ((n as f64) * t_frac) as u32 % n as u32;
        let (mut c, mut rng) = Ceremony::new(n, t, seed);
        c.check_all(&mut rng);
        let outcome = c.finalize(&mut rng).unwrap();
        prop_assert_eq!(outcome.qualified.len(), n);
        let req = request(&outcome, &[2, 5], &mut rng);
        let mut present: Vec<u32> = (1..=n as u32).filter(|j| present_mask & (1 << (j - 1)) != 0).collect();
        for j in 1..=n as u32 {
            if present.len() >= t as usize { break; }
            if !present.contains(&j) { present.push(j); }
        }
        let partials: Vec<_> = present.iter().map(|&j| c.partial(&outcome, &req, j, &mut rng)).collect();
        let tally = combine(&c.params, &outcome, &req, &partials, &mut rng).unwrap();
        prop_assert_eq!(totals(&tally), vec![2, 5]);
        prop_assert_eq!(tally.combined.len(), t as usize);
    }
}

#[test]
fn fifteen_trustees_threshold_fifteen() {
    let (mut c, mut rng) = Ceremony::new(15, 15, 4);
    c.check_all(&mut rng);
    let outcome = c.finalize(&mut rng).unwrap();
    let req = request(&outcome, &[6], &mut rng);
    let partials: Vec<_> = (1..=15)
        .map(|j| c.partial(&outcome, &req, j, &mut rng))
        .collect();
    let tally = combine(&c.params, &outcome, &req, &partials, &mut rng).unwrap();
    assert_eq!(totals(&tally), vec![6]);
    let err = combine(&c.params, &outcome, &req, &partials[1..], &mut rng).unwrap_err();
    assert!(matches!(
        err,
        CeremonyError::NotEnoughShares {
            valid: 14,
            needed: 15,
            ..
        }
    ));
}

#[test]
fn a_wrong_share_is_named_and_its_dealer_excluded() {
    let (mut c, mut rng) = Ceremony::new(5, 3, 5);
    // Dealer 2 sends trustee 4 a share that is not on its polynomial.
    c.dealers[1].reseal(&c.params, 4, &Scalar::from(42u64), &mut rng);
    c.dealers[1].resign(&c.ids[1], &mut rng);
    let reports = c.check_all(&mut rng);
    assert_eq!(
        reports[3].verdicts[1],
        (2, DealerVerdict::Complained(ShareProblem::NotOnCommitments))
    );
    assert!(reports
        .iter()
        .enumerate()
        .filter(|(j, _)| *j != 3)
        .all(|(_, r)| r
            .verdicts
            .iter()
            .all(|(_, v)| *v == DealerVerdict::Accepted)));
    let outcome = c.finalize(&mut rng).unwrap();
    assert_eq!(
        outcome.disqualified,
        vec![Disqualification {
            trustee: 2,
            fault: Fault::BadShare {
                recipient: 4,
                problem: ShareProblem::NotOnCommitments
            }
        }]
    );
    assert_eq!(outcome.qualified, vec![1, 3, 4, 5]);
    let expected_key: curve25519_dalek::ristretto::RistrettoPoint = [0usize, 2, 3, 4]
        .iter()
        .map(|&i| c.dealers[i].commitments[0].point)
        .sum();
    assert_eq!(outcome.joint_key.element().point, expected_key);
    assert!(outcome.disqualified[0]
        .fault
        .to_string()
        .contains("share for trustee 4"));

    // The excluded dealer cannot take part; the others still decrypt, trustee 4 included.
    assert!(matches!(
        c.share(&outcome, 2),
        Err(CeremonyError::Disqualified { index: 2, .. })
    ));
    let req = request(&outcome, &[5], &mut rng);
    let partials: Vec<_> = [3, 4, 5]
        .iter()
        .map(|&j| c.partial(&outcome, &req, j, &mut rng))
        .collect();
    assert_eq!(
        totals(&combine(&c.params, &outcome, &req, &partials, &mut rng).unwrap()),
        vec![5]
    );
}

#[test]
fn an_undecryptable_share_is_named() {
    let (mut c, mut rng) = Ceremony::new(3, 2, 6);
    c.dealers[0].shares[2].sealed[5] ^= 1;
    c.dealers[0].resign(&c.ids[0], &mut rng);
    let reports = c.check_all(&mut rng);
    assert_eq!(
        reports[2].verdicts[0],
        (1, DealerVerdict::Complained(ShareProblem::DoesNotDecrypt))
    );
    let outcome = c.finalize(&mut rng).unwrap();
    assert_eq!(
        outcome.fault(1),
        Some(&Fault::BadShare {
            recipient: 3,
            problem: ShareProblem::DoesNotDecrypt
        })
    );
}

#[test]
fn a_false_complaint_disqualifies_the_complainer() {
    let (mut c, mut rng) = Ceremony::new(4, 2, 7);
    c.check_all(&mut rng);
    let complaint = c.dealers[0].reveal_for(&c.params, &c.ids[2], &mut rng);
    c.checks[2].complaints.push(complaint);
    c.checks[2].resign(&c.ids[2], &mut rng);
    let outcome = c.finalize(&mut rng).unwrap();
    assert_eq!(outcome.fault(3), Some(&Fault::FalseComplaint { dealer: 1 }));
    assert_eq!(outcome.qualified, vec![1, 2, 4]);
}

#[test]
fn a_complaint_with_a_wrong_reveal_is_invalid() {
    let (mut c, mut rng) = Ceremony::new(4, 2, 8);
    c.check_all(&mut rng);
    let mut complaint = c.dealers[0].reveal_for(&c.params, &c.ids[2], &mut rng);
    complaint.shared = Element::new(complaint.shared.point + g());
    c.checks[2].complaints.push(complaint);
    c.checks[2].resign(&c.ids[2], &mut rng);
    let outcome = c.finalize(&mut rng).unwrap();
    assert_eq!(
        outcome.fault(3),
        Some(&Fault::InvalidComplaint { dealer: 1 })
    );
    assert_eq!(outcome.fault(1), None);
}

#[test]
fn missing_and_invalid_messages_disqualify() {
    let (mut c, mut rng) = Ceremony::new(5, 1, 9);
    // Trustee 5 never deals: the others cannot check until it does.
    let all = c.dealers.clone();
    c.dealers.pop();
    let err = check_shares(&c.params, &c.ids[0], &c.dealers, &mut rng).unwrap_err();
    assert_eq!(
        err,
        CeremonyError::Missing {
            what: "dealer messages",
            missing: vec![5]
        }
    );
    assert_eq!(
        err.to_string(),
        "waiting for dealer messages from trustee(s) 5: not published yet"
    );
    c.dealers = all;
    c.check_all(&mut rng);
    // Dealer 1's commitments are tampered after signing; check 2 is missing; check 3 is signed
    // by the wrong key; check 4 confirms another message from dealer 5.
    c.dealers[0].commitments[0] = Element::new(g());
    c.checks.remove(1);
    c.checks[1].signature = c.checks[0].signature;
    let mut other = c.dealers[4].clone();
    other.shares.swap(0, 1);
    c.checks[2].seen[4].digest = other.digest();
    c.checks[2].resign(&c.ids[3], &mut rng);
    let outcome = c.finalize(&mut rng).unwrap();
    assert_eq!(outcome.qualified, vec![5]);
    let faults: Vec<String> = outcome
        .disqualified
        .iter()
        .map(|d| d.fault.to_string())
        .collect();
    assert_eq!(
        faults,
        vec![
            "its dealer message is invalid: its signature does not verify",
            "it did not confirm its shares (no check message)",
            "its check message is invalid: its signature does not verify",
            "it confirmed a different message from trustee 5 than the one published",
        ]
    );
}

#[test]
fn too_few_qualified_trustees_fail_the_ceremony() {
    let (mut c, mut rng) = Ceremony::new(3, 3, 10);
    c.check_all(&mut rng);
    c.checks.pop();
    let err = c.finalize(&mut rng).unwrap_err();
    assert!(matches!(
        &err,
        CeremonyError::TooFewQualified { qualified, threshold: 3, .. } if qualified == &vec![1, 2]
    ));
    assert!(err
        .to_string()
        .contains("trustee 3: it did not confirm its shares"));
}

#[test]
fn dealer_message_checks_each_fail() {
    let (c, mut rng) = Ceremony::new(3, 2, 11);
    let honest = &c.dealers[0];
    let check = |m: &DealerMessage, rng: &mut ChaCha20Rng| m.validate(&c.params, rng).unwrap_err();
    let resigned = |f: &dyn Fn(&mut DealerMessage), rng: &mut ChaCha20Rng| {
        let mut m = honest.clone();
        f(&mut m);
        m.resign(&c.ids[0], rng);
        m
    };
    honest.validate(&c.params, &mut rng).unwrap();

    let m = resigned(&|m| m.commitments.push(Element::new(g())), &mut rng);
    assert!(check(&m, &mut rng).contains("3 coefficient commitments"));
    // A changed constant coefficient no longer matches the proof of knowledge.
    let m = resigned(&|m| m.commitments[0] = Element::new(g()), &mut rng);
    assert!(check(&m, &mut rng).contains("proof of knowledge"));
    let m = resigned(
        &|m| {
            m.shares.pop();
        },
        &mut rng,
    );
    assert!(check(&m, &mut rng).contains("2 encrypted shares for 3 trustees"));
    let m = resigned(&|m| m.shares.swap(0, 1), &mut rng);
    assert!(check(&m, &mut rng).contains("not in trustee order"));
    let m = resigned(
        &|m| {
            m.shares[1].sealed.pop();
        },
        &mut rng,
    );
    assert!(check(&m, &mut rng).contains("47 bytes"));
    let m = resigned(&|m| m.dealer = 9, &mut rng);
    assert!(check(&m, &mut rng).contains("outside 1..=3"));
    // DKG-ENV-2: each envelope's proof of knowledge of log_G E is bound to its envelope.
    let ephemeral = |trustee: u32| {
        format!("proof of knowledge of the ephemeral key of the share for trustee {trustee}")
    };
    let m = resigned(
        &|m| {
            let proof = m.shares[0].ephemeral_proof;
            m.shares[0].ephemeral_proof = m.shares[1].ephemeral_proof;
            m.shares[1].ephemeral_proof = proof;
        },
        &mut rng,
    );
    assert!(check(&m, &mut rng).contains(&ephemeral(1)));
    // Another E under the right proof: the ephemeral key of another dealer's envelope.
    let m = resigned(
        &|m| m.shares[2].ephemeral = c.dealers[1].shares[2].ephemeral,
        &mut rng,
    );
    assert!(check(&m, &mut rng).contains(&ephemeral(3)));
    // Another dealer's envelope for the same recipient, proof included: bound to its dealer.
    let m = resigned(&|m| m.shares[1] = c.dealers[2].shares[1].clone(), &mut rng);
    assert!(check(&m, &mut rng).contains(&ephemeral(2)));
    // A shifted E (E + 7·G) under the original proof.
    let m = resigned(
        &|m| {
            let z = Element::new(g() * Scalar::from(7u64));
            m.shares[0].ephemeral = Element::new(m.shares[0].ephemeral.point + z.point);
        },
        &mut rng,
    );
    assert!(check(&m, &mut rng).contains(&ephemeral(1)));
    let mut m = honest.clone();
    m.ceremony = CeremonyId([0; 32]);
    assert!(check(&m, &mut rng).contains("another ceremony"));
}

/// DKG-ENV-2: the proof of knowledge of `log_G E` verifies for its envelope only: another
/// ceremony, dealer, recipient, recipient key or `E` fails it.
#[test]
fn ephemeral_proofs_are_bound_to_every_field_of_their_envelope() {
    use super::envelope::{EnvelopeContext, SealedShare};
    use crate::proofs::msm::Msm;
    let mut rng = rng(21);
    let (ceremony, other_ceremony) = (CeremonyId([1; 32]), CeremonyId([2; 32]));
    let (key, other_key) = (
        SecretKey::generate(&mut rng).public_key(),
        SecretKey::generate(&mut rng).public_key(),
    );
    let SealedShare {
        ephemeral, proof, ..
    } = EnvelopeContext::seal(&ceremony, 1, 2, &key, &Scalar::from(5u64), &mut rng).unwrap();
    let other_ephemeral = Element::new(ephemeral.point + g());
    let holds = |ceremony: &CeremonyId,
                 dealer: u32,
                 recipient: u32,
                 recipient_key: &PublicKey,
                 ephemeral: &Element,
                 rng: &mut ChaCha20Rng| {
        let mut msm = Msm::new();
        EnvelopeContext {
            ceremony,
            dealer,
            recipient,
            recipient_key,
            ephemeral,
        }
        .verify_ephemeral_into(&proof, &mut msm, rng)
        .is_ok()
            && msm.holds()
    };
    assert!(holds(&ceremony, 1, 2, &key, &ephemeral, &mut rng));
    assert!(!holds(&other_ceremony, 1, 2, &key, &ephemeral, &mut rng));
    assert!(!holds(&ceremony, 3, 2, &key, &ephemeral, &mut rng));
    assert!(!holds(&ceremony, 1, 3, &key, &ephemeral, &mut rng));
    assert!(!holds(&ceremony, 1, 2, &other_key, &ephemeral, &mut rng));
    assert!(!holds(&ceremony, 1, 2, &key, &other_ephemeral, &mut rng));
}

#[test]
fn replayed_proofs_from_another_election_or_index_fail() {
    let mut rng = rng(12);
    let (c, _) = Ceremony::new(3, 2, 12);
    // The same trustees, the same keys, another election.
    let announcements = c
        .ids
        .iter()
        .enumerate()
        .map(|(i, id)| {
            id.announce(election(2), &format!("trustee {}", i + 1), &mut rng)
                .unwrap()
        })
        .collect();
    let other = CeremonyParams::new(election(2), 2, announcements, &mut rng).unwrap();
    assert_ne!(other.id(), c.params.id());
    // Dealer 1's message replayed in the other ceremony (re-signed there): its proof of
    // knowledge is bound to the first ceremony.
    let mut replayed = c.dealers[0].clone();
    replayed.ceremony = other.id();
    replayed.resign(&c.ids[0], &mut rng);
    assert!(replayed
        .validate(&other, &mut rng)
        .unwrap_err()
        .contains("proof of knowledge"));
    // Dealer 1's commitments and proof taken by trustee 2 as its own: bound to index 1.
    let mut stolen = c.dealers[1].clone();
    stolen.commitments = c.dealers[0].commitments.clone();
    stolen.proof = c.dealers[0].proof;
    stolen.resign(&c.ids[1], &mut rng);
    assert!(stolen
        .validate(&c.params, &mut rng)
        .unwrap_err()
        .contains("proof of knowledge"));
}

#[test]
fn replayed_partial_decryptions_fail() {
    let (mut c, mut rng) = Ceremony::new(3, 2, 13);
    c.check_all(&mut rng);
    let outcome = c.finalize(&mut rng).unwrap();
    let req = request(&outcome, &[3, 1], &mut rng);
    let p1 = c.partial(&outcome, &req, 1, &mut rng);
    let p2 = c.partial(&outcome, &req, 2, &mut rng);
    // Trustee 2 republishes trustee 1's shares as its own.
    let mut copied = p2.clone();
    copied.shares = p1.shares.clone();
    copied.resign(&c.ids[1], &mut rng);
    assert!(copied
        .validate(&c.params, &outcome, &req, &mut rng)
        .is_err());
    // Shares for another request over the same aggregates (a different bound) are bound to it.
    let mut req2 = req.clone();
    req2.max_count = 99;
    let mut moved = p1.clone();
    moved.request = req2.digest();
    moved.resign(&c.ids[0], &mut rng);
    let reason = moved
        .validate(&c.params, &outcome, &req2, &mut rng)
        .unwrap_err();
    assert!(
        reason.contains("does not match its verification key"),
        "{reason}"
    );
    // Shares swapped between items.
    let mut swapped = p1.clone();
    swapped.shares.swap(0, 1);
    swapped.resign(&c.ids[0], &mut rng);
    assert!(swapped
        .validate(&c.params, &outcome, &req, &mut rng)
        .is_err());
    // The honest ones still combine.
    let tally = combine(&c.params, &outcome, &req, &[p1, p2], &mut rng).unwrap();
    assert_eq!(totals(&tally), vec![3, 1]);
}

#[test]
fn a_wrong_partial_decryption_is_named_and_the_tally_completes() {
    let (mut c, mut rng) = Ceremony::new(5, 3, 14);
    c.check_all(&mut rng);
    let outcome = c.finalize(&mut rng).unwrap();
    let req = request(&outcome, &[8, 2], &mut rng);
    let mut partials: Vec<_> = (1..=5)
        .map(|j| c.partial(&outcome, &req, j, &mut rng))
        .collect();
    // Trustee 1 decrypts with a key of its own choosing, with a proof valid for that key.
    let rogue = SecretKey::generate(&mut rng);
    let digest = req.digest();
    for (k, item) in req.items.iter().enumerate() {
        let context = tally::proof_context(&outcome.ceremony, 1, &digest, k);
        partials[0].shares[k] = rogue
            .decrypt_with_proof(&context, &item.ciphertext, &mut rng)
            .unwrap();
    }
    partials[0].resign(&c.ids[0], &mut rng);
    // Trustee 3's signature is broken.
    partials[2].signature = partials[3].signature;
    let tally = combine(&c.params, &outcome, &req, &partials, &mut rng).unwrap();
    assert_eq!(totals(&tally), vec![8, 2]);
    assert_eq!(tally.combined, vec![2, 4, 5]);
    let named: Vec<_> = tally.rejected.iter().map(|r| r.trustee).collect();
    assert_eq!(named, vec![1, 3]);
    assert!(tally.rejected[0].reason.contains("contest/0"));
    assert!(tally.rejected[1].reason.contains("signature"));

    // With a third bad trustee there are not enough left, and the error names all of it.
    partials[4].shares.swap(0, 1);
    partials[4].resign(&c.ids[4], &mut rng);
    let err = combine(&c.params, &outcome, &req, &partials, &mut rng).unwrap_err();
    let text = err.to_string();
    assert!(text.contains("only 2 valid"), "{text}");
    assert!(text.contains("trustee 1 refused"), "{text}");
}

#[test]
fn tally_requests_are_checked() {
    let (mut c, mut rng) = Ceremony::new(2, 1, 15);
    c.check_all(&mut rng);
    let outcome = c.finalize(&mut rng).unwrap();
    let good = request(&outcome, &[1, 1], &mut rng);
    good.validate(&outcome).unwrap();
    let mut r = good.clone();
    r.items[1].label = r.items[0].label.clone();
    assert!(r
        .validate(&outcome)
        .unwrap_err()
        .to_string()
        .contains("twice"));
    let mut r = good.clone();
    r.items[0].ciphertext = Ciphertext::zero();
    assert!(r
        .validate(&outcome)
        .unwrap_err()
        .to_string()
        .contains("identity"));
    let mut r = good.clone();
    r.joint_key = SecretKey::generate(&mut rng).public_key();
    assert!(r
        .validate(&outcome)
        .unwrap_err()
        .to_string()
        .contains("joint key"));
    let mut r = good.clone();
    r.items.clear();
    assert!(r.validate(&outcome).is_err());
    let mut r = good.clone();
    r.max_count = tally::MAX_COUNT + 1;
    assert!(r.validate(&outcome).is_err());
    // A total above the bound is an error, not a wrong number.
    let mut r = good;
    r.max_count = 0;
    let p = c.partial(&outcome, &r, 1, &mut rng);
    assert!(matches!(
        combine(&c.params, &outcome, &r, &[p], &mut rng),
        Err(CeremonyError::TotalOutOfRange { max: 0, .. })
    ));
}

#[test]
fn ceremony_parameters_are_validated() {
    let mut rng = rng(16);
    let ids: Vec<_> = (0..3)
        .map(|_| TrusteeIdentity::generate(&mut rng))
        .collect();
    let ann = |i: usize, name: &str, e: u8, rng: &mut ChaCha20Rng| {
        ids[i].announce(election(e), name, rng).unwrap()
    };
    let good: Vec<_> = (0..3)
        .map(|i| ann(i, &format!("t{i}"), 1, &mut rng))
        .collect();
    for t in [0, 4] {
        assert!(matches!(
            CeremonyParams::new(election(1), t, good.clone(), &mut rng),
            Err(CeremonyError::BadThreshold { .. })
        ));
    }
    let mut dup = good.clone();
    dup[2] = ann(2, "t0", 1, &mut rng);
    assert!(matches!(
        CeremonyParams::new(election(1), 2, dup, &mut rng),
        Err(CeremonyError::DuplicateTrustee {
            first: 1,
            second: 3,
            what: "name"
        })
    ));
    let mut dup = good.clone();
    dup[1] = ann(0, "other", 1, &mut rng);
    assert!(matches!(
        CeremonyParams::new(election(1), 2, dup, &mut rng),
        Err(CeremonyError::DuplicateTrustee {
            what: "identity key",
            ..
        })
    ));
    let mut other = good.clone();
    other[1] = ann(1, "t1", 2, &mut rng);
    assert!(matches!(
        CeremonyParams::new(election(1), 2, other, &mut rng),
        Err(CeremonyError::WrongElection { .. })
    ));
    let mut renamed = good.clone();
    renamed[0].name = "mallory".into();
    assert!(matches!(
        CeremonyParams::new(election(1), 2, renamed, &mut rng),
        Err(CeremonyError::BadAnnouncement { .. })
    ));
    assert!(ids[0].announce(election(1), "", &mut rng).is_err());
    assert!(ids[0].announce(election(1), "a\nb", &mut rng).is_err());
    let stranger = TrusteeIdentity::generate(&mut rng);
    let params = CeremonyParams::new(election(1), 2, good, &mut rng).unwrap();
    assert_eq!(
        deal(&params, &stranger, &mut rng).unwrap_err(),
        CeremonyError::NotATrustee
    );
}

#[test]
fn conflicting_messages_from_one_trustee_are_refused() {
    let (c, mut rng) = Ceremony::new(2, 1, 17);
    let mut dealers = c.dealers.clone();
    dealers.push(deal(&c.params, &c.ids[0], &mut rng).unwrap());
    assert_eq!(
        check_shares(&c.params, &c.ids[1], &dealers, &mut rng).unwrap_err(),
        CeremonyError::Conflicting {
            what: "dealer messages",
            trustee: 1
        }
    );
}

#[test]
fn messages_round_trip_through_json_and_tampering_breaks_signatures() {
    let (mut c, mut rng) = Ceremony::new(3, 2, 18);
    c.check_all(&mut rng);
    let outcome = c.finalize(&mut rng).unwrap();
    let req = request(&outcome, &[1], &mut rng);
    let partial = c.partial(&outcome, &req, 1, &mut rng);
    fn round_trip<
        T: serde::Serialize + serde::de::DeserializeOwned + PartialEq + core::fmt::Debug,
    >(
        v: &T,
    ) {
        let json = serde_json::to_string_pretty(v).unwrap();
        assert_eq!(&serde_json::from_str::<T>(&json).unwrap(), v);
    }
    round_trip(&c.params);
    round_trip(&c.dealers[0]);
    round_trip(&c.checks[0]);
    round_trip(&outcome);
    round_trip(&req);
    round_trip(&partial);
    // Unknown fields and non-canonical hex are refused.
    let mut v = serde_json::to_value(&c.dealers[0]).unwrap();
    v["extra"] = 1.into();
    assert!(serde_json::from_value::<DealerMessage>(v).is_err());
    let mut v = serde_json::to_value(&c.dealers[0]).unwrap();
    let upper = v["commitments"][0].as_str().unwrap().to_uppercase();
    v["commitments"][0] = upper.into();
    assert!(serde_json::from_value::<DealerMessage>(v).is_err());
    // Any signed field changed in JSON breaks the signature.
    let mut v = serde_json::to_value(&c.checks[0]).unwrap();
    v["seen"][0]["dealer"] = 2.into();
    let m: CheckMessage = serde_json::from_value(v).unwrap();
    assert!(m
        .validate(&c.params, &mut rng)
        .unwrap_err()
        .contains("signature"));
    // The outcome recomputed by anyone is the same.
    assert_eq!(c.finalize(&mut rng).unwrap(), outcome);
}

#[test]
fn identity_secret_round_trips_and_zero_is_refused() {
    let mut rng = rng(19);
    let id = TrusteeIdentity::generate(&mut rng);
    let back = TrusteeIdentity::from_secret_bytes(id.secret_bytes().as_slice()).unwrap();
    assert_eq!(back.public_key(), id.public_key());
    assert!(TrusteeIdentity::from_secret_bytes(&[0u8; 32]).is_err());
    assert!(TrusteeIdentity::from_secret_bytes(&[0xffu8; 32]).is_err());
    assert!(!format!("{id:?}").contains(&hex::encode(id.secret_bytes().as_slice())));
}

#[test]
fn an_absent_dealer_and_a_foreign_message_are_handled() {
    let (mut c, mut rng) = Ceremony::new(3, 2, 20);
    c.check_all(&mut rng);
    // Without dealer 3's message (and its check), anyone's outcome disqualifies it.
    let dealers = &c.dealers[..2];
    let checks = &c.checks[..2];
    let outcome = finalize(&c.params, dealers, checks, &mut rng).unwrap();
    assert_eq!(outcome.fault(3), Some(&Fault::DidNotDeal));
    assert_eq!(outcome.qualified, vec![1, 2]);
    // The outcome, disqualifications included, round-trips through JSON.
    let json = serde_json::to_string(&outcome).unwrap();
    assert!(
        json.contains(r#""fault":{"kind":"did-not-deal"}"#),
        "{json}"
    );
    assert_eq!(
        serde_json::from_str::<CeremonyOutcome>(&json).unwrap(),
        outcome
    );
    // A message of another ceremony in the set is refused outright.
    let mut foreign = c.dealers.clone();
    foreign[2].ceremony = CeremonyId([9; 32]);
    assert!(matches!(
        finalize(&c.params, &foreign, &c.checks, &mut rng),
        Err(CeremonyError::WrongCeremony {
            what: "dealer message",
            ..
        })
    ));
    let mut foreign = c.checks.clone();
    foreign[0].ceremony = CeremonyId([9; 32]);
    assert!(matches!(
        finalize(&c.params, &c.dealers, &foreign, &mut rng),
        Err(CeremonyError::WrongCeremony {
            what: "check message",
            ..
        })
    ));
}

#[test]
fn a_key_share_that_does_not_match_is_refused() {
    let (mut c, mut rng) = Ceremony::new(3, 2, 21);
    c.check_all(&mut rng);
    let outcome = c.finalize(&mut rng).unwrap();
    // Trustee 1's share used by trustee 2.
    let share = c.share(&outcome, 1).unwrap();
    let req = request(&outcome, &[1], &mut rng);
    assert_eq!(
        partial_decrypt(
            &c.params,
            &outcome,
            &req,
            &c.ids[1],
            &share,
            &mut rng,
            |_| {}
        )
        .unwrap_err(),
        CeremonyError::ShareMismatch { index: 2 }
    );
    // Dealer messages other than the ones the outcome was computed from.
    let mut other = c.clone_with_new_deals(&mut rng);
    other.dealers[1] = c.dealers[1].clone();
    assert_eq!(
        KeyShare::derive(&c.params, &outcome, &other.dealers, &c.ids[0]).unwrap_err(),
        CeremonyError::ShareMismatch { index: 1 }
    );
}

#[test]
fn a_disqualified_trustees_partial_decryption_is_refused() {
    let (mut c, mut rng) = Ceremony::new(3, 1, 22);
    c.check_all(&mut rng);
    let honest = c.finalize(&mut rng).unwrap();
    let req = request(&honest, &[2], &mut rng);
    let p3 = c.partial(&honest, &req, 3, &mut rng);
    // Trustee 3 falsely complains against trustee 1 and is disqualified.
    let complaint = c.dealers[0].reveal_for(&c.params, &c.ids[2], &mut rng);
    c.checks[2].complaints.push(complaint);
    c.checks[2].resign(&c.ids[2], &mut rng);
    let outcome = c.finalize(&mut rng).unwrap();
    assert_eq!(outcome.fault(3), Some(&Fault::FalseComplaint { dealer: 1 }));
    let mut req = req;
    req.ceremony = outcome.ceremony;
    req.joint_key = outcome.joint_key;
    let err = combine(&c.params, &outcome, &req, &[p3], &mut rng).unwrap_err();
    assert!(
        matches!(&err, CeremonyError::NotEnoughShares { rejected, .. }
            if rejected[0].reason.contains("disqualified")),
        "{err:?}"
    );
}
