//! The complaint-leak attack on the key ceremony (spec/ceremonies.md §2.4, DKG-ENV-2), played by
//! a coalition of `k` corrupt trustees who deal after the honest ones.
//!
//! The attack: in its envelope for honest recipient `j`, a corrupt dealer puts the ephemeral key
//! `E` of honest dealer `h`'s envelope for `j` (copied, or shifted to `E + p·G` with `p` known to
//! it) and garbage ciphertext. Recipient `j` cannot open it and complains, revealing `yⱼ·E'` with
//! a proof. If `E' = E` that is the key of `h`'s envelope for `j`; if `E' = E + p·G`, it is that
//! key plus `p·Yⱼ`. Either way everyone can read `f_h(j)`. With `k ≥ ⌈t/2⌉` corrupt trustees
//! (and `n − k ≥ t`), the coalition collects `t` points of every honest polynomial and
//! interpolates the election secret.
//!
//! Each test first shows that the attack is real: with the reveals the recipients would have had
//! to publish (under the old rule, which complained about any envelope it could not open), the
//! coalition's harvest recovers the election secret. It then runs the ceremony as the code does
//! it now and shows that no honest recipient reveals anything, no honest dealer's share becomes
//! readable, the corrupt dealers are disqualified, and the coalition holds fewer than `t` points
//! of every honest polynomial.

use std::collections::BTreeMap;

use rand_chacha::ChaCha20Rng;
use rand_core::{RngCore, SeedableRng};

use super::envelope::EnvelopeContext;
use super::*;
use crate::group::{g_table, Element, Scalar};
#[cfg(all(target_arch = "wasm32", target_os = "unknown"))]
use wasm_bindgen_test::wasm_bindgen_test as test;

/// How a corrupt dealer forges the ephemeral key of its envelope for an honest recipient.
#[derive(Clone, Copy, Debug)]
enum Ephemeral {
    /// `E` of the honest dealer's envelope, as is.
    Copied,
    /// `E + p·G` for a `p` the attacker knows.
    Shifted,
}

/// What the corrupt dealer attaches as the proof of knowledge of `log_G E'`.
#[derive(Clone, Copy, Debug)]
enum ProofAttempt {
    /// The honest dealer's own proof for `E` (bound to the honest dealer's envelope).
    CopiedFromVictim,
    /// The corrupt dealer's own, valid proof for a fresh ephemeral key of its own, with
    /// garbage ciphertext: a well-formed message whose share does not decrypt.
    HonestProofBadShare,
}

/// One forged envelope: for honest recipient `j`, the honest dealer `victim` whose envelope for
/// `j` it targets, and the shift `p` (zero when copied).
struct Target {
    recipient: u32,
    victim: u32,
    shift: Scalar,
}

struct Attack {
    params: CeremonyParams,
    ids: Vec<TrusteeIdentity>,
    dealers: Vec<DealerMessage>,
    /// Per corrupt dealer, the envelopes it forged.
    targets: BTreeMap<u32, Vec<Target>>,
    honest: Vec<u32>,
    corrupt: Vec<u32>,
}

impl Attack {
    /// `n` trustees with threshold `t`; the last `k` are corrupt and deal last, after reading
    /// the honest dealers' messages.
    fn run(n: usize, t: u32, k: usize, how: Ephemeral, proof: ProofAttempt, seed: u64) -> Self {
        let rng = &mut ChaCha20Rng::seed_from_u64(seed);
        let super::tests::Ceremony { params, ids, .. } =
            super::tests::params(n, t, ElectionId([0xa7; 32]), rng);
        let honest: Vec<u32> = (1..=(n - k) as u32).collect();
        let corrupt: Vec<u32> = ((n - k) as u32 + 1..=n as u32).collect();

        let mut dealers: Vec<DealerMessage> = honest
            .iter()
            .map(|&h| deal(&params, &ids[h as usize - 1], rng).unwrap())
            .collect();
        let mut targets = BTreeMap::new();
        for (m, &c) in corrupt.iter().enumerate() {
            let identity = &ids[c as usize - 1];
            // A valid message to start from: commitments, proof and envelopes of its own.
            let mut message = deal(&params, identity, rng).unwrap();
            let mut forged = Vec::new();
            for (q, &j) in honest.iter().enumerate() {
                // Corrupt dealer m targets honest dealer honest[(q + m) mod (n − k)] through
                // recipient j: every honest dealer is hit through k different recipients.
                let victim = honest[(q + m) % honest.len()];
                let victim_envelope = &dealers[victim as usize - 1].shares[j as usize - 1];
                let shift = match how {
                    Ephemeral::Copied => Scalar::ZERO,
                    Ephemeral::Shifted => Scalar::random(rng),
                };
                let envelope = &mut message.shares[j as usize - 1];
                match proof {
                    ProofAttempt::CopiedFromVictim => {
                        envelope.ephemeral =
                            Element::new(victim_envelope.ephemeral.point + g_table() * &shift);
                        envelope.ephemeral_proof = victim_envelope.ephemeral_proof;
                    }
                    ProofAttempt::HonestProofBadShare => {
                        // Its own ephemeral key and valid proof stay; only the ciphertext is
                        // garbage. The shift is then relative to its own key, which is all a
                        // dealer that proves knowledge can reveal.
                    }
                }
                rng.fill_bytes(&mut envelope.sealed);
                forged.push(Target {
                    recipient: j,
                    victim,
                    shift,
                });
            }
            message.resign(identity, rng);
            dealers.push(message);
            targets.insert(c, forged);
        }
        Self {
            params,
            ids,
            dealers,
            targets,
            honest,
            corrupt,
        }
    }

    fn id(&self, trustee: u32) -> &TrusteeIdentity {
        &self.ids[trustee as usize - 1]
    }

    fn dealer(&self, i: u32) -> &DealerMessage {
        &self.dealers[i as usize - 1]
    }

    /// The context of dealer `i`'s envelope for `j`, as published.
    fn envelope<'a>(&'a self, id: &'a CeremonyId, i: u32, j: u32) -> EnvelopeContext<'a> {
        EnvelopeContext {
            ceremony: id,
            dealer: i,
            recipient: j,
            recipient_key: &self.params.trustee(j).unwrap().identity_key,
            ephemeral: &self.dealer(i).shares[j as usize - 1].ephemeral,
        }
    }

    /// What the coalition knows of each honest polynomial: its own shares (it opens its own
    /// envelopes) and every share it can open with the revealed envelope keys `reveals`
    /// (recipient, corrupt dealer, `K`).
    fn harvest(&self, reveals: &[(u32, u32, Element)]) -> BTreeMap<u32, BTreeMap<u32, Scalar>> {
        let id = self.params.id();
        let mut known: BTreeMap<u32, BTreeMap<u32, Scalar>> = BTreeMap::new();
        for &h in &self.honest {
            let points = known.entry(h).or_default();
            for &c in &self.corrupt {
                let envelope = self.envelope(&id, h, c);
                let sealed = &self.dealer(h).shares[c as usize - 1].sealed;
                let shared = envelope.ephemeral.point * self.id(c).scalar();
                points.insert(c, envelope.open(&shared, sealed).unwrap());
            }
        }
        for (j, corrupt_dealer, revealed) in reveals {
            for target in &self.targets[corrupt_dealer] {
                if target.recipient != *j {
                    continue;
                }
                // K' = yⱼ·(E + p·G) = K + p·Yⱼ: subtract the shift the attacker chose.
                let key = self.params.trustee(*j).unwrap().identity_key;
                let shared = revealed.point - key.element().point * target.shift;
                // Try every honest envelope to j, not just the targeted one: nothing may open.
                for &h in &self.honest {
                    let sealed = &self.dealer(h).shares[*j as usize - 1].sealed;
                    if let Some(value) = self.envelope(&id, h, *j).open(&shared, sealed) {
                        assert_eq!(h, target.victim, "a reveal opened an envelope not targeted");
                        known.entry(h).or_default().insert(*j, value);
                    }
                }
            }
        }
        known
    }

    /// The coalition's guess of the election secret `Σ_h f_h(0)`: Lagrange interpolation at 0
    /// of the points it holds of each honest polynomial, or `None` with fewer than `t` of one.
    fn interpolate(&self, known: &BTreeMap<u32, BTreeMap<u32, Scalar>>) -> Option<Scalar> {
        let t = self.params.threshold as usize;
        let mut secret = Scalar::ZERO;
        for &h in &self.honest {
            let points: Vec<(u32, Scalar)> = known
                .get(&h)?
                .iter()
                .take(t)
                .map(|(x, y)| (*x, *y))
                .collect();
            if points.len() < t {
                return None;
            }
            for (a, (xa, ya)) in points.iter().enumerate() {
                let mut lambda = Scalar::ONE;
                for (b, (xb, _)) in points.iter().enumerate() {
                    if a != b {
                        let (xa, xb) = (Scalar::from(*xa), Scalar::from(*xb));
                        lambda *= xb * (xb - xa).invert();
                    }
                }
                secret += lambda * ya;
            }
        }
        Some(secret)
    }

    /// `Σ_{h honest} A_h0`: the election key once the corrupt dealers are disqualified.
    fn honest_key(&self) -> Element {
        Element::new(
            self.honest
                .iter()
                .map(|&h| self.dealer(h).commitments[0].point)
                .sum(),
        )
    }

    /// The reveals the old rule made every honest recipient publish: one for each forged
    /// envelope, `yⱼ·E'` with its DLEQ proof, for any `E'` the dealer put there.
    fn reveals_under_the_old_rule(&self) -> Vec<(u32, u32, Element)> {
        let id = self.params.id();
        let rng = &mut ChaCha20Rng::seed_from_u64(99);
        let mut reveals = Vec::new();
        for (&c, targets) in &self.targets {
            for target in targets {
                let j = target.recipient;
                let envelope = self.envelope(&id, c, j);
                let (shared, proof) = envelope.reveal(self.id(j).scalar(), rng).unwrap();
                // A valid complaint by the rule of the time: anyone would have accepted it.
                envelope.verify_reveal(&shared, &proof, rng).unwrap();
                reveals.push((j, c, shared));
            }
        }
        reveals
    }

    /// Plays the ceremony as the code does it now; returns the reveals the honest recipients
    /// published in their complaints against corrupt dealers, and the outcome.
    fn reveals_now(&self) -> (Vec<(u32, u32, Element)>, CeremonyOutcome) {
        let rng = &mut ChaCha20Rng::seed_from_u64(100);
        let mut checks = Vec::new();
        let mut reveals = Vec::new();
        for (position, identity) in self.ids.iter().enumerate() {
            let j = index(position);
            let (check, report) = check_shares(&self.params, identity, &self.dealers, rng).unwrap();
            for complaint in &check.complaints {
                if self.corrupt.contains(&complaint.dealer) && self.honest.contains(&j) {
                    reveals.push((j, complaint.dealer, complaint.shared));
                }
            }
            if self.honest.contains(&j) {
                for (dealer, verdict) in &report.verdicts {
                    if self.honest.contains(dealer) {
                        assert_eq!(*verdict, DealerVerdict::Accepted);
                    }
                }
            }
            checks.push(check);
        }
        let outcome = finalize(&self.params, &self.dealers, &checks, rng).unwrap();
        (reveals, outcome)
    }
}

/// The whole attack for `(n, t, k)` with a forged ephemeral key (copied or shifted) carrying the
/// victim's proof of knowledge.
fn forged_ephemeral_keys_reveal_nothing(n: usize, t: u32, k: usize, how: Ephemeral, seed: u64) {
    let attack = Attack::run(n, t, k, how, ProofAttempt::CopiedFromVictim, seed);
    let key = attack.honest_key();

    // The attack is real: had the recipients complained as the old rule made them, the
    // coalition would read t shares of every honest polynomial and hold the election secret.
    let old = attack.harvest(&attack.reveals_under_the_old_rule());
    let stolen = attack
        .interpolate(&old)
        .expect("under the old rule the coalition holds t points of every honest polynomial");
    assert_eq!(
        Element::new(g_table() * &stolen),
        key,
        "({n},{t},{k}) {how:?}: the old rule leaks the election secret"
    );

    // Now: every forged envelope fails its proof of knowledge, so its message is invalid for
    // everyone; honest recipients complain about nothing and reveal nothing.
    for &c in &attack.corrupt {
        let reason = attack
            .dealer(c)
            .validate(&attack.params, &mut ChaCha20Rng::seed_from_u64(5))
            .unwrap_err();
        assert!(
            reason.contains("proof of knowledge of the ephemeral key"),
            "({n},{t},{k}) {how:?}: {reason}"
        );
    }
    let (reveals, outcome) = attack.reveals_now();
    assert!(reveals.is_empty(), "({n},{t},{k}) {how:?}: {reveals:?}");
    let known = attack.harvest(&reveals);
    for (h, points) in &known {
        // Only the coalition's own k < t shares of each honest polynomial.
        assert_eq!(
            points.keys().copied().collect::<Vec<_>>(),
            attack.corrupt,
            "({n},{t},{k}) {how:?}: dealer {h}'s shares leaked"
        );
    }
    assert_eq!(attack.interpolate(&known), None);
    // The corrupt dealers are out, for a visible reason; the key is the honest dealers'.
    for &c in &attack.corrupt {
        assert!(matches!(
            outcome.fault(c),
            Some(Fault::InvalidDealerMessage { reason }) if reason.contains("ephemeral key")
        ));
    }
    assert_eq!(outcome.qualified, attack.honest);
    assert_eq!(*outcome.joint_key.element(), key);
}

#[test]
fn complaint_leak_two_of_three_one_corrupt_copied() {
    forged_ephemeral_keys_reveal_nothing(3, 2, 1, Ephemeral::Copied, 1);
}

#[test]
fn complaint_leak_two_of_three_one_corrupt_shifted() {
    forged_ephemeral_keys_reveal_nothing(3, 2, 1, Ephemeral::Shifted, 2);
}

#[test]
fn complaint_leak_three_of_five_two_corrupt_copied() {
    forged_ephemeral_keys_reveal_nothing(5, 3, 2, Ephemeral::Copied, 3);
}

#[test]
fn complaint_leak_three_of_five_two_corrupt_shifted() {
    forged_ephemeral_keys_reveal_nothing(5, 3, 2, Ephemeral::Shifted, 4);
}

#[test]
fn complaint_leak_eight_of_fifteen_four_corrupt_copied() {
    forged_ephemeral_keys_reveal_nothing(15, 8, 4, Ephemeral::Copied, 5);
}

#[test]
fn complaint_leak_eight_of_fifteen_four_corrupt_shifted() {
    forged_ephemeral_keys_reveal_nothing(15, 8, 4, Ephemeral::Shifted, 6);
}

/// A corrupt dealer that follows the rule (a valid proof for an ephemeral key of its own) and
/// deals garbage still gets its complaints, and is disqualified for them; the complaints open
/// its own envelopes only, so the coalition learns nothing about any honest share.
#[test]
fn complaints_against_a_proven_ephemeral_key_open_only_the_dealers_own_envelope() {
    for (n, t, k) in [(3, 2, 1), (5, 3, 2), (15, 8, 4)] {
        let attack = Attack::run(
            n,
            t,
            k,
            Ephemeral::Copied,
            ProofAttempt::HonestProofBadShare,
            7,
        );
        for &c in &attack.corrupt {
            attack
                .dealer(c)
                .validate(&attack.params, &mut ChaCha20Rng::seed_from_u64(5))
                .unwrap();
        }
        let (reveals, outcome) = attack.reveals_now();
        // Every honest recipient complained against every corrupt dealer.
        assert_eq!(reveals.len(), k * (n - k), "({n},{t},{k})");
        let known = attack.harvest(&reveals);
        for points in known.values() {
            assert_eq!(points.keys().copied().collect::<Vec<_>>(), attack.corrupt);
        }
        assert_eq!(attack.interpolate(&known), None);
        for &c in &attack.corrupt {
            assert!(matches!(
                outcome.fault(c),
                Some(Fault::BadShare {
                    problem: ShareProblem::DoesNotDecrypt,
                    ..
                })
            ));
        }
        assert_eq!(outcome.qualified, attack.honest);
        assert_eq!(*outcome.joint_key.element(), attack.honest_key());
    }
}
