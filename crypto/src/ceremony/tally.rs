//! The tally ceremony: partial decryptions with proofs, and their combination by Lagrange
//! interpolation (spec/ceremonies.md §3).

use std::collections::BTreeMap;

use curve25519_dalek::ristretto::RistrettoPoint;
use curve25519_dalek::traits::Identity;
use rand_core::CryptoRngCore;
use serde::{Deserialize, Serialize};

use super::{
    Canonical, CeremonyError, CeremonyId, CeremonyOutcome, CeremonyParams, KeyShare, MessageDigest,
    Signature, TrusteeIdentity,
};
use crate::elgamal::{Ciphertext, DecryptionShare, DiscreteLogTable, PublicKey};
use crate::group::Scalar;
use crate::manifest::Manifest;

const REQUEST: &[u8] = b"tally-request";
const PARTIAL: &[u8] = b"partial-decryption";

/// The largest count a tally request may ask to decrypt (the discrete-log search bound).
pub use crate::elgamal::MAX_COUNT;

/// One aggregate ciphertext to decrypt, with a label such as `contest/selection`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TallyItem {
    /// What the total counts.
    pub label: String,
    /// The homomorphic aggregate.
    pub ciphertext: Ciphertext,
}

/// What the officials ask the trustees to decrypt: the aggregates, under the ceremony's key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TallyRequest {
    /// The key ceremony.
    pub ceremony: CeremonyId,
    /// The joint key the aggregates are encrypted under.
    pub joint_key: PublicKey,
    /// The largest possible total (e.g. ballots × the largest value per selection).
    pub max_count: u64,
    /// The aggregates.
    pub items: Vec<TallyItem>,
}

impl TallyRequest {
    /// The request for the homomorphic sums of `counted` ballots of `manifest` (api.md §6.3):
    /// one item per selection, in manifest order, labelled `contest id/selection id`, with the
    /// largest possible total `counted × max over the contests of the largest value per
    /// selection`. `sums[c][s]` is the sum for selection `s` of contest `c`. The service builds
    /// the request with it at close, and the record verifier recomputes it (V15).
    pub fn for_sums(
        ceremony: CeremonyId,
        joint_key: PublicKey,
        manifest: &Manifest,
        counted: u64,
        sums: &[Vec<Ciphertext>],
    ) -> Self {
        Self {
            ceremony,
            joint_key,
            max_count: manifest
                .contests
                .iter()
                .map(|c| counted.saturating_mul(c.style.max_per_selection()))
                .max()
                .unwrap_or(0),
            items: manifest
                .contests
                .iter()
                .zip(sums)
                .flat_map(|(contest, sums)| {
                    contest
                        .selections
                        .iter()
                        .zip(sums)
                        .map(|(selection, ct)| TallyItem {
                            label: format!("{}/{}", contest.id, selection.id),
                            ciphertext: *ct,
                        })
                })
                .collect(),
        }
    }

    fn body(&self) -> Canonical {
        let mut w = Canonical::new(REQUEST);
        w.fixed(&self.ceremony.0);
        w.fixed(&self.joint_key.to_bytes());
        w.u64(self.max_count);
        w.u32(self.items.len() as u32);
        for item in &self.items {
            w.bytes(item.label.as_bytes());
            w.fixed(&item.ciphertext.to_bytes());
        }
        w
    }

    /// The digest every partial decryption signs.
    pub fn digest(&self) -> MessageDigest {
        MessageDigest(self.body().sha256())
    }

    /// Checks the request against the ceremony's outcome.
    pub fn validate(&self, outcome: &CeremonyOutcome) -> Result<(), CeremonyError> {
        let bad = |reason: String| Err(CeremonyError::BadRequest { reason });
        if self.ceremony != outcome.ceremony {
            return Err(CeremonyError::WrongCeremony {
                what: "tally request",
                expected: outcome.ceremony,
                found: self.ceremony,
            });
        }
        if self.joint_key != outcome.joint_key {
            return bad("its joint key is not the one the key ceremony produced".into());
        }
        if self.items.is_empty() {
            return bad("it has nothing to decrypt".into());
        }
        if self.max_count > MAX_COUNT {
            return bad(format!(
                "its largest total {} exceeds {MAX_COUNT}",
                self.max_count
            ));
        }
        for (k, item) in self.items.iter().enumerate() {
            if item.label.is_empty() || item.label.chars().any(char::is_control) {
                return bad(format!("item {} has an empty or unprintable label", k + 1));
            }
            if self.items[..k]
                .iter()
                .any(|other| other.label == item.label)
            {
                return bad(format!("the label {:?} appears twice", item.label));
            }
            if item.ciphertext.alpha.is_identity() {
                return bad(format!(
                    "the aggregate {:?} has α = identity (no ballots were added); its total needs no decryption",
                    item.label
                ));
            }
        }
        Ok(())
    }
}

/// A trustee's partial decryptions `Dⱼₖ = xⱼ·αₖ` of every item of one request, each with a
/// DLEQ proof against its verification key, signed by its identity.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PartialDecryptionMessage {
    /// The key ceremony.
    pub ceremony: CeremonyId,
    /// The trustee `j`.
    pub trustee: u32,
    /// The request's digest.
    pub request: MessageDigest,
    /// One share per item, in order.
    pub shares: Vec<DecryptionShare>,
    /// The trustee's signature.
    pub signature: Signature,
}

fn partial_body(
    ceremony: &CeremonyId,
    trustee: u32,
    request: &MessageDigest,
    shares: &[DecryptionShare],
) -> Canonical {
    let mut w = Canonical::new(PARTIAL);
    w.fixed(&ceremony.0);
    w.u32(trustee);
    w.fixed(&request.0);
    w.u32(shares.len() as u32);
    for s in shares {
        w.fixed(&s.to_bytes());
    }
    w
}

/// The context each share's proof is bound to: ceremony, trustee, request and item.
pub(crate) fn proof_context(
    ceremony: &CeremonyId,
    trustee: u32,
    request: &MessageDigest,
    item: usize,
) -> Vec<u8> {
    let mut w = Canonical::new(b"tabella/v1/partial-decryption");
    w.fixed(&ceremony.0);
    w.u32(trustee);
    w.fixed(&request.0);
    w.u32(item as u32);
    w.as_slice().to_vec()
}

impl PartialDecryptionMessage {
    /// The digest the record refers to.
    pub fn digest(&self) -> MessageDigest {
        let body = partial_body(&self.ceremony, self.trustee, &self.request, &self.shares);
        super::dkg::digest(PARTIAL, &body, &self.signature)
    }

    /// Re-signs a message a test has altered.
    #[cfg(test)]
    pub(crate) fn resign(&mut self, identity: &TrusteeIdentity, rng: &mut impl CryptoRngCore) {
        let body = partial_body(&self.ceremony, self.trustee, &self.request, &self.shares);
        self.signature = identity.sign(PARTIAL, &body, rng).unwrap();
    }

    /// Checks the message against the ceremony and the request: author, signature and every
    /// share's proof against the author's verification key.
    pub fn validate(
        &self,
        params: &CeremonyParams,
        outcome: &CeremonyOutcome,
        request: &TallyRequest,
        rng: &mut impl CryptoRngCore,
    ) -> Result<(), String> {
        if self.ceremony != outcome.ceremony {
            return Err(format!(
                "it belongs to another ceremony ({})",
                self.ceremony
            ));
        }
        let Some(key) = outcome.verification_key(self.trustee) else {
            return Err(match outcome.fault(self.trustee) {
                Some(fault) => format!("its author was disqualified in the key ceremony: {fault}"),
                None => format!("trustee {} is not part of this ceremony", self.trustee),
            });
        };
        let digest = request.digest();
        if self.request != digest {
            return Err(format!(
                "it decrypts another tally request ({}, not {digest})",
                self.request
            ));
        }
        let identity = params.trustee(self.trustee).map_err(|e| e.to_string())?;
        let body = partial_body(&self.ceremony, self.trustee, &self.request, &self.shares);
        self.signature
            .verify(&identity.identity_key, PARTIAL, &body, rng)
            .map_err(|_| "its signature does not verify".to_owned())?;
        if self.shares.len() != request.items.len() {
            return Err(format!(
                "it has {} shares for {} aggregates",
                self.shares.len(),
                request.items.len()
            ));
        }
        for (k, (share, item)) in self.shares.iter().zip(&request.items).enumerate() {
            let context = proof_context(&self.ceremony, self.trustee, &digest, k);
            share
                .verify(&context, key, &item.ciphertext, rng)
                .map_err(|_| {
                    format!(
                        "its partial decryption of {:?} does not match its verification key (the proof fails)",
                        item.label
                    )
                })?;
        }
        Ok(())
    }
}

/// A trustee's partial decryption of a request: one proved share per item. `progress` is
/// called after each item with the number done.
pub fn partial_decrypt(
    params: &CeremonyParams,
    outcome: &CeremonyOutcome,
    request: &TallyRequest,
    identity: &TrusteeIdentity,
    share: &KeyShare,
    rng: &mut impl CryptoRngCore,
    mut progress: impl FnMut(usize),
) -> Result<PartialDecryptionMessage, CeremonyError> {
    request.validate(outcome)?;
    let me = params.index_of(identity)?;
    if share.trustee != me {
        return Err(CeremonyError::ShareMismatch { index: me });
    }
    match outcome.verification_key(me) {
        Some(key) if *key == share.secret().public_key() => {}
        _ => return Err(CeremonyError::ShareMismatch { index: me }),
    }
    let digest = request.digest();
    let mut shares = Vec::with_capacity(request.items.len());
    for (k, item) in request.items.iter().enumerate() {
        let context = proof_context(&outcome.ceremony, me, &digest, k);
        shares.push(
            share
                .secret()
                .decrypt_with_proof(&context, &item.ciphertext, rng)?,
        );
        progress(k + 1);
    }
    let body = partial_body(&outcome.ceremony, me, &digest, &shares);
    Ok(PartialDecryptionMessage {
        ceremony: outcome.ceremony,
        trustee: me,
        request: digest,
        shares,
        signature: identity.sign(PARTIAL, &body, rng)?,
    })
}

/// A partial decryption that was refused, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rejection {
    /// Its author.
    pub trustee: u32,
    /// Why it was refused.
    pub reason: String,
}

/// The decrypted totals and how they were obtained.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TallyOutcome {
    /// The request.
    pub request: MessageDigest,
    /// `(label, total)` per item, in order.
    pub totals: Vec<(String, u64)>,
    /// The `t` trustees whose shares were combined.
    pub combined: Vec<u32>,
    /// Other trustees with valid shares (not needed).
    pub spare: Vec<u32>,
    /// Refused partial decryptions.
    pub rejected: Vec<Rejection>,
    /// Qualified trustees that sent nothing.
    pub absent: Vec<u32>,
}

/// Lagrange coefficients at 0 for the index set `s`.
pub(crate) fn lagrange_at_zero(s: &[u32]) -> Vec<Scalar> {
    s.iter()
        .map(|&j| {
            let (mut num, mut den) = (Scalar::ONE, Scalar::ONE);
            for &m in s.iter().filter(|&&m| m != j) {
                num *= Scalar::from(m);
                den *= Scalar::from(m) - Scalar::from(j);
            }
            num * den.invert()
        })
        .collect()
}

/// Verifies the partial decryptions, names and sets aside the invalid ones, and combines `t`
/// valid ones (the lowest-numbered) into the totals. Fails clearly when fewer than `t` remain.
pub fn combine(
    params: &CeremonyParams,
    outcome: &CeremonyOutcome,
    request: &TallyRequest,
    partials: &[PartialDecryptionMessage],
    rng: &mut impl CryptoRngCore,
) -> Result<TallyOutcome, CeremonyError> {
    request.validate(outcome)?;
    let mut valid: BTreeMap<u32, &PartialDecryptionMessage> = BTreeMap::new();
    let mut rejected = Vec::new();
    for partial in partials {
        if valid.contains_key(&partial.trustee) {
            continue; // A second valid message from one trustee adds nothing.
        }
        match partial.validate(params, outcome, request, rng) {
            Ok(()) => {
                valid.insert(partial.trustee, partial);
            }
            Err(reason) => rejected.push(Rejection {
                trustee: partial.trustee,
                reason,
            }),
        }
    }
    let rejected_by: Vec<u32> = rejected.iter().map(|r| r.trustee).collect();
    let absent: Vec<u32> = outcome
        .qualified
        .iter()
        .copied()
        .filter(|j| !valid.contains_key(j) && !rejected_by.contains(j))
        .collect();
    let t = outcome.threshold as usize;
    if valid.len() < t {
        return Err(CeremonyError::NotEnoughShares {
            valid: valid.len(),
            needed: outcome.threshold,
            absent,
            rejected,
        });
    }
    let combined: Vec<u32> = valid.keys().copied().take(t).collect();
    let spare: Vec<u32> = valid.keys().copied().skip(t).collect();
    let lambdas = lagrange_at_zero(&combined);
    let table = DiscreteLogTable::new(request.max_count);
    let mut totals = Vec::with_capacity(request.items.len());
    for (k, item) in request.items.iter().enumerate() {
        let mut decryption = RistrettoPoint::identity();
        for (j, lambda) in combined.iter().zip(&lambdas) {
            if let Some(p) = valid.get(j).and_then(|p| p.shares.get(k)) {
                decryption += p.share().point * lambda;
            }
        }
        let point = item.ciphertext.beta.point - decryption;
        let total = table
            .solve(&point)
            .map_err(|_| CeremonyError::TotalOutOfRange {
                label: item.label.clone(),
                max: request.max_count,
            })?;
        totals.push((item.label.clone(), total));
    }
    Ok(TallyOutcome {
        request: request.digest(),
        totals,
        combined,
        spare,
        rejected,
        absent,
    })
}
