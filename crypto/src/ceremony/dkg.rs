//! The key ceremony: Pedersen's distributed key generation with Feldman commitments
//! (spec/ceremonies.md §2).

use std::collections::BTreeMap;

use curve25519_dalek::ristretto::RistrettoPoint;
use curve25519_dalek::traits::{Identity, VartimeMultiscalarMul};
use merlin::Transcript;
use rand_core::CryptoRngCore;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::envelope::{EnvelopeContext, SealedShare, SEALED_LEN};
use super::{
    index, serde_bytes, serde_dleq, Canonical, CeremonyError, CeremonyId, CeremonyParams,
    MessageDigest, Signature, TrusteeIdentity,
};
use crate::elgamal::{PublicKey, SecretKey};
use crate::group::{g_table, serde_element, Element, Scalar};
use crate::proofs::disjunctive::DleqProof;
use crate::proofs::msm::Msm;
use crate::proofs::schnorr::SchnorrProof;
use crate::transcript::{labels, TranscriptProtocol, PROTOCOL_VERSION};

const DEALER: &[u8] = b"dealer";
const CHECK: &[u8] = b"check";

/// A share `fᵢ(j)` sealed to trustee `j`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EncryptedShare {
    /// The recipient `j`.
    pub recipient: u32,
    /// The ephemeral key `E = e·G`.
    #[serde(with = "serde_element")]
    pub ephemeral: Element,
    /// The dealer's Schnorr proof of knowledge of `e = log_G E`, bound to the ceremony, the
    /// dealer, the recipient, its identity key and `E` (spec/ceremonies.md §2.3, DKG-ENV-2).
    pub ephemeral_proof: SchnorrProof,
    /// ChaCha20-Poly1305 of the 32-byte share (48 bytes).
    #[serde(with = "serde_bytes")]
    pub sealed: Vec<u8>,
}

/// Round 1: trustee `i`'s Feldman commitments, proof of knowledge of `aᵢ₀`, and encrypted
/// shares for every trustee (itself included, so it keeps no state between rounds).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DealerMessage {
    /// The ceremony.
    pub ceremony: CeremonyId,
    /// The dealer `i`.
    pub dealer: u32,
    /// `Aᵢₖ = aᵢₖ·G` for `k = 0..t`.
    #[serde(with = "serde_element::list")]
    pub commitments: Vec<Element>,
    /// Schnorr proof of knowledge of `aᵢ₀`, bound to the ceremony, `i` and all commitments.
    pub proof: SchnorrProof,
    /// One envelope per trustee `j = 1..=n`, in order.
    pub shares: Vec<EncryptedShare>,
    /// The dealer's signature.
    pub signature: Signature,
}

fn coefficient_transcript(
    ceremony: &CeremonyId,
    dealer: u32,
    commitments: &[Element],
) -> Transcript {
    let mut t = Transcript::new(labels::TRANSCRIPT);
    t.domain_sep(labels::DKG_COEFFICIENT, PROTOCOL_VERSION);
    t.append_message(b"ceremony", &ceremony.0);
    t.append_u64(b"dealer", u64::from(dealer));
    t.append_u64(b"degree+1", commitments.len() as u64);
    for c in commitments {
        t.append_message(b"A", c.as_bytes());
    }
    t
}

fn dealer_body(
    ceremony: &CeremonyId,
    dealer: u32,
    commitments: &[Element],
    proof: &SchnorrProof,
    shares: &[EncryptedShare],
) -> Canonical {
    let mut w = Canonical::new(DEALER);
    w.fixed(&ceremony.0);
    w.u32(dealer);
    w.u32(commitments.len() as u32);
    for c in commitments {
        w.fixed(c.as_bytes());
    }
    w.fixed(&proof.to_bytes());
    w.u32(shares.len() as u32);
    for s in shares {
        w.u32(s.recipient);
        w.fixed(s.ephemeral.as_bytes());
        w.fixed(&s.ephemeral_proof.to_bytes());
        w.bytes(&s.sealed);
    }
    w
}

impl DealerMessage {
    fn body(&self) -> Canonical {
        dealer_body(
            &self.ceremony,
            self.dealer,
            &self.commitments,
            &self.proof,
            &self.shares,
        )
    }

    /// The digest that check messages and the record refer to.
    pub fn digest(&self) -> MessageDigest {
        digest(DEALER, &self.body(), &self.signature)
    }

    /// Checks everything about the message that needs no secret: ceremony, index, signature,
    /// number of commitments, proof of knowledge, one well-formed envelope per trustee, and the
    /// proof of knowledge of each envelope's ephemeral secret (spec/ceremonies.md §2.2).
    pub fn validate(
        &self,
        params: &CeremonyParams,
        rng: &mut impl CryptoRngCore,
    ) -> Result<(), String> {
        let id = params.id();
        if self.ceremony != id {
            return Err(format!(
                "it belongs to another ceremony ({})",
                self.ceremony
            ));
        }
        let announcement = params.trustee(self.dealer).map_err(|e| e.to_string())?;
        self.signature
            .verify(&announcement.identity_key, DEALER, &self.body(), rng)
            .map_err(|_| "its signature does not verify".to_owned())?;
        if self.commitments.len() != params.threshold as usize {
            return Err(format!(
                "it has {} coefficient commitments; the threshold {} needs exactly {}",
                self.commitments.len(),
                params.threshold,
                params.threshold
            ));
        }
        let mut t = coefficient_transcript(&id, self.dealer, &self.commitments);
        self.proof
            .verify(&mut t, &self.commitments[0], rng)
            .map_err(|_| {
                "its proof of knowledge of the secret coefficient does not verify".to_owned()
            })?;
        if self.shares.len() != params.trustee_count() {
            return Err(format!(
                "it has {} encrypted shares for {} trustees",
                self.shares.len(),
                params.trustee_count()
            ));
        }
        for (position, share) in self.shares.iter().enumerate() {
            if share.recipient != index(position) {
                return Err(format!(
                    "its shares are not in trustee order (position {} is for trustee {})",
                    index(position),
                    share.recipient
                ));
            }
            if share.sealed.len() != SEALED_LEN {
                return Err(format!(
                    "the share for trustee {} has {} bytes, not {SEALED_LEN}",
                    share.recipient,
                    share.sealed.len()
                ));
            }
        }
        self.check_ephemeral_proofs(params, &id, rng)
    }

    /// DKG-ENV-2: every envelope's proof of knowledge of `log_G E`. The `n` equations are
    /// checked together in one multiscalar multiplication with random weights; only when that
    /// fails are they checked one by one, to name the first bad envelope. Both ways accept
    /// exactly the same messages, except with probability 2⁻¹²⁸ over the verifier's weights.
    fn check_ephemeral_proofs(
        &self,
        params: &CeremonyParams,
        id: &CeremonyId,
        rng: &mut impl CryptoRngCore,
    ) -> Result<(), String> {
        let reason = |recipient: u32| {
            format!(
                "the proof of knowledge of the ephemeral key of the share for trustee \
                 {recipient} does not verify"
            )
        };
        let mut batch = Msm::new();
        for share in &self.shares {
            let Some((envelope, _)) = self.envelope(params, id, share.recipient) else {
                return Err(reason(share.recipient));
            };
            envelope
                .verify_ephemeral_into(&share.ephemeral_proof, &mut batch, rng)
                .map_err(|_| reason(share.recipient))?;
        }
        if batch.holds() {
            return Ok(());
        }
        for share in &self.shares {
            let mut one = Msm::new();
            let holds = self
                .envelope(params, id, share.recipient)
                .is_some_and(|(envelope, _)| {
                    envelope
                        .verify_ephemeral_into(&share.ephemeral_proof, &mut one, rng)
                        .is_ok()
                        && one.holds()
                });
            if !holds {
                return Err(reason(share.recipient));
            }
        }
        // Unreachable: a weighted sum of equations that each hold also holds. Refuse rather than
        // accept a message the batch did not pass.
        Err("its envelopes' proofs of knowledge could not be checked together".to_owned())
    }

    pub(crate) fn envelope<'a>(
        &'a self,
        params: &'a CeremonyParams,
        id: &'a CeremonyId,
        recipient: u32,
    ) -> Option<(EnvelopeContext<'a>, &'a [u8])> {
        let share = self.shares.get(recipient.checked_sub(1)? as usize)?;
        let key = &params.trustee(recipient).ok()?.identity_key;
        Some((
            EnvelopeContext {
                ceremony: id,
                dealer: self.dealer,
                recipient,
                recipient_key: key,
                ephemeral: &share.ephemeral,
            },
            &share.sealed,
        ))
    }

    /// Re-signs a message a test has altered, so that only the alteration is wrong.
    #[cfg(test)]
    pub(crate) fn resign(&mut self, identity: &TrusteeIdentity, rng: &mut impl CryptoRngCore) {
        self.signature = identity.sign(DEALER, &self.body(), rng).unwrap();
    }

    /// A correctly sealed envelope of `value` for `recipient`, for tests that deal bad shares.
    #[cfg(test)]
    pub(crate) fn reseal(
        &mut self,
        params: &CeremonyParams,
        recipient: u32,
        value: &Scalar,
        rng: &mut impl CryptoRngCore,
    ) {
        let key = params.trustee(recipient).unwrap().identity_key;
        let SealedShare {
            ephemeral,
            proof,
            sealed,
        } = EnvelopeContext::seal(&self.ceremony, self.dealer, recipient, &key, value, rng)
            .unwrap();
        self.shares[recipient as usize - 1] = EncryptedShare {
            recipient,
            ephemeral,
            ephemeral_proof: proof,
            sealed,
        };
    }

    /// The reveal a recipient would publish in a complaint against this dealer.
    #[cfg(test)]
    pub(crate) fn reveal_for(
        &self,
        params: &CeremonyParams,
        recipient: &TrusteeIdentity,
        rng: &mut impl CryptoRngCore,
    ) -> Complaint {
        let id = params.id();
        let j = params.index_of(recipient).unwrap();
        let (envelope, _) = self.envelope(params, &id, j).unwrap();
        let (shared, proof) = envelope.reveal(recipient.scalar(), rng).unwrap();
        Complaint {
            dealer: self.dealer,
            shared,
            proof,
        }
    }

    /// Opens trustee `j`'s envelope with the shared point `K` and checks the share against the
    /// commitments: `None` when it is right. Used by the recipient and, on a complaint, by anyone.
    fn judge_share(
        &self,
        envelope: &EnvelopeContext<'_>,
        shared: &RistrettoPoint,
        sealed: &[u8],
        j: u32,
    ) -> Option<ShareProblem> {
        match envelope.open(shared, sealed) {
            None => Some(ShareProblem::DoesNotDecrypt),
            Some(value) => {
                let value = Zeroizing::new(value);
                (g_table() * &*value != self.share_image(j))
                    .then_some(ShareProblem::NotOnCommitments)
            }
        }
    }

    /// `Σₖ jᵏ·Aᵢₖ`: the public image `fᵢ(j)·G` of trustee `j`'s share.
    pub(crate) fn share_image(&self, j: u32) -> RistrettoPoint {
        eval_points(self.commitments.iter().map(|c| c.point), j)
    }
}

/// `Σₖ jᵏ·Pₖ` for public points.
fn eval_points(points: impl ExactSizeIterator<Item = RistrettoPoint>, j: u32) -> RistrettoPoint {
    let n = points.len();
    let x = Scalar::from(j);
    let mut powers = Vec::with_capacity(n);
    let mut p = Scalar::ONE;
    for _ in 0..n {
        powers.push(p);
        p *= x;
    }
    RistrettoPoint::vartime_multiscalar_mul(powers, points)
}

/// The digest of a signed message: its kind, canonical body and signature.
pub(crate) fn digest(kind: &[u8], body: &Canonical, signature: &Signature) -> MessageDigest {
    let mut w = Canonical::new(b"tabella/v1/message-digest");
    w.bytes(kind);
    w.bytes(body.as_slice());
    w.fixed(&signature.to_bytes());
    MessageDigest(w.sha256())
}

/// Round 1 for `identity`: draws the polynomial, commits, proves and seals the shares.
pub fn deal(
    params: &CeremonyParams,
    identity: &TrusteeIdentity,
    rng: &mut impl CryptoRngCore,
) -> Result<DealerMessage, CeremonyError> {
    let id = params.id();
    let dealer = params.index_of(identity)?;
    let coefficients: Zeroizing<Vec<Scalar>> =
        Zeroizing::new((0..params.threshold).map(|_| Scalar::random(rng)).collect());
    let commitments: Vec<Element> = coefficients
        .iter()
        .map(|a| Element::new(g_table() * a))
        .collect();
    let mut t = coefficient_transcript(&id, dealer, &commitments);
    let proof = SchnorrProof::prove(&mut t, &commitments[0], &coefficients[0], rng)?;
    let mut shares = Vec::with_capacity(params.trustee_count());
    for (position, announcement) in params.trustees.iter().enumerate() {
        let recipient = index(position);
        let value = Zeroizing::new(eval_scalar(&coefficients, recipient));
        let SealedShare {
            ephemeral,
            proof,
            sealed,
        } = EnvelopeContext::seal(
            &id,
            dealer,
            recipient,
            &announcement.identity_key,
            &value,
            rng,
        )?;
        shares.push(EncryptedShare {
            recipient,
            ephemeral,
            ephemeral_proof: proof,
            sealed,
        });
    }
    let body = dealer_body(&id, dealer, &commitments, &proof, &shares);
    Ok(DealerMessage {
        ceremony: id,
        dealer,
        commitments,
        proof,
        shares,
        signature: identity.sign(DEALER, &body, rng)?,
    })
}

/// `f(x) = Σₖ aₖ·xᵏ` by Horner's rule.
fn eval_scalar(coefficients: &[Scalar], x: u32) -> Scalar {
    let x = Scalar::from(x);
    coefficients
        .iter()
        .rev()
        .fold(Scalar::ZERO, |acc, a| acc * x + a)
}

/// A public complaint by trustee `j` against dealer `i`: the envelope key `K = yⱼ·E` with a
/// proof that it is the right one, so anyone can open the envelope and judge.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Complaint {
    /// The accused dealer `i`.
    pub dealer: u32,
    /// `K = yⱼ·E`.
    #[serde(with = "serde_element")]
    pub shared: Element,
    /// DLEQ proof that `log_G Yⱼ = log_E K`.
    #[serde(with = "serde_dleq")]
    pub proof: DleqProof,
}

/// The digest of a dealer message as the checking trustee received it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeenDealer {
    /// The dealer.
    pub dealer: u32,
    /// Its message's digest.
    pub digest: MessageDigest,
}

/// Round 2: trustee `j` signs the dealer messages it received (by digest) and complains
/// against every dealer whose share for `j` is wrong. No complaint means every share was right.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckMessage {
    /// The ceremony.
    pub ceremony: CeremonyId,
    /// The checking trustee `j`.
    pub trustee: u32,
    /// Every dealer message it received, in dealer order.
    pub seen: Vec<SeenDealer>,
    /// Its complaints, in dealer order.
    pub complaints: Vec<Complaint>,
    /// Its signature.
    pub signature: Signature,
}

fn check_body(
    ceremony: &CeremonyId,
    trustee: u32,
    seen: &[SeenDealer],
    complaints: &[Complaint],
) -> Canonical {
    let mut w = Canonical::new(CHECK);
    w.fixed(&ceremony.0);
    w.u32(trustee);
    w.u32(seen.len() as u32);
    for s in seen {
        w.u32(s.dealer);
        w.fixed(&s.digest.0);
    }
    w.u32(complaints.len() as u32);
    for c in complaints {
        w.u32(c.dealer);
        w.fixed(c.shared.as_bytes());
        w.bytes(&c.proof.to_bytes());
    }
    w
}

impl CheckMessage {
    fn body(&self) -> Canonical {
        check_body(&self.ceremony, self.trustee, &self.seen, &self.complaints)
    }

    /// The digest the record refers to.
    pub fn digest(&self) -> MessageDigest {
        digest(CHECK, &self.body(), &self.signature)
    }

    /// Re-signs a message a test has altered.
    #[cfg(test)]
    pub(crate) fn resign(&mut self, identity: &TrusteeIdentity, rng: &mut impl CryptoRngCore) {
        self.signature = identity.sign(CHECK, &self.body(), rng).unwrap();
    }

    /// Checks the ceremony, the author's index and the signature (complaints are judged by
    /// [`finalize`]).
    pub fn validate(
        &self,
        params: &CeremonyParams,
        rng: &mut impl CryptoRngCore,
    ) -> Result<(), String> {
        if self.ceremony != params.id() {
            return Err(format!(
                "it belongs to another ceremony ({})",
                self.ceremony
            ));
        }
        let announcement = params.trustee(self.trustee).map_err(|e| e.to_string())?;
        self.signature
            .verify(&announcement.identity_key, CHECK, &self.body(), rng)
            .map_err(|_| "its signature does not verify".to_owned())
    }
}

/// What a trustee found in one dealer's message when checking its share.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DealerVerdict {
    /// The share decrypted and matched the commitments.
    Accepted,
    /// The share was wrong; a complaint was filed.
    Complained(ShareProblem),
    /// The message itself is invalid, which everyone can see; no complaint is needed.
    InvalidMessage(String),
}

/// What was wrong with a share.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ShareProblem {
    /// The envelope does not authenticate under the recipient's key, or holds no scalar.
    DoesNotDecrypt,
    /// The share is not `fᵢ(j)` for the committed polynomial.
    NotOnCommitments,
}

impl core::fmt::Display for ShareProblem {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            Self::DoesNotDecrypt => "does not decrypt with the recipient's key",
            Self::NotOnCommitments => "does not match the dealer's commitments",
        })
    }
}

/// A trustee's own account of its check, for the CLI's summary.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckReport {
    /// The checking trustee.
    pub trustee: u32,
    /// One verdict per dealer, in order.
    pub verdicts: Vec<(u32, DealerVerdict)>,
}

/// Collects messages by author, refusing two different messages from one author.
fn by_author<'a, M: PartialEq>(
    messages: &'a [M],
    author: impl Fn(&M) -> u32,
    what: &'static str,
) -> Result<BTreeMap<u32, &'a M>, CeremonyError> {
    let mut map = BTreeMap::new();
    for m in messages {
        if let Some(previous) = map.insert(author(m), m) {
            if previous != m {
                return Err(CeremonyError::Conflicting {
                    what,
                    trustee: author(m),
                });
            }
        }
    }
    Ok(map)
}

/// Round 2 for `identity`: opens its envelope in every dealer message (all `n` must be there),
/// checks each share, and signs the result with any complaints.
pub fn check_shares(
    params: &CeremonyParams,
    identity: &TrusteeIdentity,
    dealers: &[DealerMessage],
    rng: &mut impl CryptoRngCore,
) -> Result<(CheckMessage, CheckReport), CeremonyError> {
    let id = params.id();
    let me = params.index_of(identity)?;
    let dealers = by_author(dealers, |m| m.dealer, "dealer messages")?;
    let missing: Vec<u32> = (1..=params.trustee_count() as u32)
        .filter(|i| !dealers.contains_key(i))
        .collect();
    if !missing.is_empty() {
        return Err(CeremonyError::Missing {
            what: "dealer messages",
            missing,
        });
    }
    let mut seen = Vec::new();
    let mut complaints = Vec::new();
    let mut verdicts = Vec::new();
    for (&dealer, message) in &dealers {
        if message.ceremony != id || params.trustee(dealer).is_err() {
            // Not a message of this ceremony's trustees: not confirmed. (`finalize` refuses a set
            // of messages that contains one.)
            continue;
        }
        seen.push(SeenDealer {
            dealer,
            digest: message.digest(),
        });
        if let Err(reason) = message.validate(params, rng) {
            verdicts.push((dealer, DealerVerdict::InvalidMessage(reason)));
            continue;
        }
        let Some((envelope, sealed)) = message.envelope(params, &id, me) else {
            verdicts.push((
                dealer,
                DealerVerdict::InvalidMessage("it has no share for this trustee".into()),
            ));
            continue;
        };
        let shared = envelope.ephemeral.point * identity.scalar();
        match message.judge_share(&envelope, &shared, sealed, me) {
            None => verdicts.push((dealer, DealerVerdict::Accepted)),
            Some(problem) => {
                let (shared, proof) = envelope.reveal(identity.scalar(), rng)?;
                complaints.push(Complaint {
                    dealer,
                    shared,
                    proof,
                });
                verdicts.push((dealer, DealerVerdict::Complained(problem)));
            }
        }
    }
    let body = check_body(&id, me, &seen, &complaints);
    let message = CheckMessage {
        ceremony: id,
        trustee: me,
        seen,
        complaints,
        signature: identity.sign(CHECK, &body, rng)?,
    };
    Ok((
        message,
        CheckReport {
            trustee: me,
            verdicts,
        },
    ))
}

/// Why a trustee was disqualified from the key ceremony.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Fault {
    /// It published no dealer message.
    DidNotDeal,
    /// Its dealer message is invalid.
    InvalidDealerMessage {
        /// What is wrong.
        reason: String,
    },
    /// A valid complaint showed its share for `recipient` to be wrong.
    BadShare {
        /// The complaining recipient.
        recipient: u32,
        /// What was wrong.
        problem: ShareProblem,
    },
    /// It published no check message.
    DidNotCheck,
    /// Its check message is invalid.
    InvalidCheckMessage {
        /// What is wrong.
        reason: String,
    },
    /// Its check message confirms a different message from `dealer` than the published one.
    ConfirmedOtherMessage {
        /// The dealer concerned.
        dealer: u32,
    },
    /// Its complaint against `dealer` carries an invalid proof.
    InvalidComplaint {
        /// The accused dealer.
        dealer: u32,
    },
    /// Its complaint against `dealer` is false: the revealed share was right.
    FalseComplaint {
        /// The accused dealer.
        dealer: u32,
    },
}

impl core::fmt::Display for Fault {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::DidNotDeal => write!(f, "it published no dealer message"),
            Self::InvalidDealerMessage { reason } => {
                write!(f, "its dealer message is invalid: {reason}")
            }
            Self::BadShare { recipient, problem } => write!(
                f,
                "its share for trustee {recipient} {problem} (proved by trustee {recipient}'s complaint)"
            ),
            Self::DidNotCheck => write!(f, "it did not confirm its shares (no check message)"),
            Self::InvalidCheckMessage { reason } => {
                write!(f, "its check message is invalid: {reason}")
            }
            Self::ConfirmedOtherMessage { dealer } => write!(
                f,
                "it confirmed a different message from trustee {dealer} than the one published"
            ),
            Self::InvalidComplaint { dealer } => write!(
                f,
                "its complaint against trustee {dealer} does not carry a valid proof"
            ),
            Self::FalseComplaint { dealer } => write!(
                f,
                "it complained falsely against trustee {dealer}: the share it revealed is correct"
            ),
        }
    }
}

/// A disqualified trustee and the reason.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Disqualification {
    /// The trustee.
    pub trustee: u32,
    /// Why.
    pub fault: Fault,
}

/// The digest of one trustee's message, as the outcome records it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrusteeDigest {
    /// The message's author.
    pub trustee: u32,
    /// Its digest.
    pub digest: MessageDigest,
}

/// A qualified trustee's public verification key `Xⱼ = xⱼ·G`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VerificationKey {
    /// The trustee.
    pub trustee: u32,
    /// `Xⱼ = Σ_{i∈QUAL} fᵢ(j)·G`.
    pub key: PublicKey,
}

/// The public result of the key ceremony, computable by anyone from the messages.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CeremonyOutcome {
    /// The ceremony.
    pub ceremony: CeremonyId,
    /// The threshold.
    pub threshold: u32,
    /// The qualified trustees (QUAL): their polynomials make the key and they may decrypt.
    pub qualified: Vec<u32>,
    /// The others, with the reason.
    pub disqualified: Vec<Disqualification>,
    /// The election key `PK = Σ_{i∈QUAL} Aᵢ₀`.
    pub joint_key: PublicKey,
    /// Each qualified trustee's verification key.
    pub verification_keys: Vec<VerificationKey>,
    /// The digests of the dealer messages, in trustee order (present ones only).
    pub dealer_digests: Vec<TrusteeDigest>,
    /// The digests of the check messages, in trustee order (present ones only).
    pub check_digests: Vec<TrusteeDigest>,
}

impl CeremonyOutcome {
    /// Trustee `j`'s verification key, if it qualified.
    pub fn verification_key(&self, trustee: u32) -> Option<&PublicKey> {
        self.verification_keys
            .iter()
            .find(|v| v.trustee == trustee)
            .map(|v| &v.key)
    }

    /// Why trustee `j` was disqualified, if it was.
    pub fn fault(&self, trustee: u32) -> Option<&Fault> {
        self.disqualified
            .iter()
            .find(|d| d.trustee == trustee)
            .map(|d| &d.fault)
    }
}

/// Resolves the ceremony from its published messages: validates every dealer and check
/// message, judges every complaint, disqualifies misbehaving trustees (spec/ceremonies.md
/// §2.5), and computes the joint key and the verification keys. Anyone can run it.
pub fn finalize(
    params: &CeremonyParams,
    dealers: &[DealerMessage],
    checks: &[CheckMessage],
    rng: &mut impl CryptoRngCore,
) -> Result<CeremonyOutcome, CeremonyError> {
    let id = params.id();
    let n = params.trustee_count() as u32;
    for m in dealers {
        if m.ceremony != id {
            return Err(CeremonyError::WrongCeremony {
                what: "dealer message",
                expected: id,
                found: m.ceremony,
            });
        }
    }
    for m in checks {
        if m.ceremony != id {
            return Err(CeremonyError::WrongCeremony {
                what: "check message",
                expected: id,
                found: m.ceremony,
            });
        }
    }
    let dealers = by_author(dealers, |m| m.dealer, "dealer messages")?;
    let checks = by_author(checks, |m| m.trustee, "check messages")?;
    let mut faults: BTreeMap<u32, Fault> = BTreeMap::new();
    let mut fault = |trustee: u32, f: Fault| {
        faults.entry(trustee).or_insert(f);
    };

    // Dealer messages.
    let mut valid_dealers = BTreeMap::new();
    for i in 1..=n {
        match dealers.get(&i) {
            None => fault(i, Fault::DidNotDeal),
            Some(m) => match m.validate(params, rng) {
                Ok(()) => {
                    valid_dealers.insert(i, (*m, m.digest()));
                }
                Err(reason) => fault(i, Fault::InvalidDealerMessage { reason }),
            },
        }
    }

    // Check messages, then their complaints.
    for j in 1..=n {
        let Some(check) = checks.get(&j) else {
            fault(j, Fault::DidNotCheck);
            continue;
        };
        if let Err(reason) = check.validate(params, rng) {
            fault(j, Fault::InvalidCheckMessage { reason });
            continue;
        }
        for (&i, (_, digest)) in &valid_dealers {
            let confirmed = check.seen.iter().find(|s| s.dealer == i);
            if confirmed.map(|s| s.digest) != Some(*digest) {
                fault(j, Fault::ConfirmedOtherMessage { dealer: i });
            }
        }
        for complaint in &check.complaints {
            let Some((dealer, _)) = valid_dealers.get(&complaint.dealer) else {
                continue; // Against an already invalid dealer message: moot.
            };
            let Some((envelope, sealed)) = dealer.envelope(params, &id, j) else {
                continue;
            };
            if envelope
                .verify_reveal(&complaint.shared, &complaint.proof, rng)
                .is_err()
            {
                fault(
                    j,
                    Fault::InvalidComplaint {
                        dealer: complaint.dealer,
                    },
                );
                continue;
            }
            match dealer.judge_share(&envelope, &complaint.shared.point, sealed, j) {
                Some(problem) => fault(
                    complaint.dealer,
                    Fault::BadShare {
                        recipient: j,
                        problem,
                    },
                ),
                None => fault(
                    j,
                    Fault::FalseComplaint {
                        dealer: complaint.dealer,
                    },
                ),
            }
        }
    }

    let disqualified: Vec<Disqualification> = faults
        .into_iter()
        .map(|(trustee, fault)| Disqualification { trustee, fault })
        .collect();
    let qualified: Vec<u32> = (1..=n)
        .filter(|i| !disqualified.iter().any(|d| d.trustee == *i))
        .collect();
    if qualified.len() < params.threshold as usize {
        return Err(CeremonyError::TooFewQualified {
            qualified,
            threshold: params.threshold,
            disqualified,
        });
    }

    // Cₖ = Σ_{i∈QUAL} Aᵢₖ; PK = C₀; Xⱼ = Σₖ jᵏ·Cₖ.
    let mut sums = vec![RistrettoPoint::identity(); params.threshold as usize];
    for i in &qualified {
        if let Some((m, _)) = valid_dealers.get(i) {
            for (sum, c) in sums.iter_mut().zip(&m.commitments) {
                *sum += c.point;
            }
        }
    }
    let joint_key = PublicKey::from_element(Element::new(sums[0]))?;
    let mut verification_keys = Vec::with_capacity(qualified.len());
    for &j in &qualified {
        verification_keys.push(VerificationKey {
            trustee: j,
            key: PublicKey::from_element(Element::new(eval_points(sums.iter().copied(), j)))?,
        });
    }
    Ok(CeremonyOutcome {
        ceremony: id,
        threshold: params.threshold,
        qualified,
        disqualified,
        joint_key,
        verification_keys,
        dealer_digests: dealers
            .iter()
            .filter(|(i, _)| (1..=n).contains(*i))
            .map(|(&trustee, m)| TrusteeDigest {
                trustee,
                digest: m.digest(),
            })
            .collect(),
        check_digests: checks
            .iter()
            .filter(|(j, _)| (1..=n).contains(*j))
            .map(|(&trustee, m)| TrusteeDigest {
                trustee,
                digest: m.digest(),
            })
            .collect(),
    })
}

/// A qualified trustee's share `xⱼ = Σ_{i∈QUAL} fᵢ(j)` of the election key. Zeroized on drop.
#[derive(Debug)]
pub struct KeyShare {
    /// The trustee `j`.
    pub trustee: u32,
    secret: SecretKey,
}

impl KeyShare {
    /// Recomputes trustee `identity`'s key share from the public messages: opens its envelope
    /// from every qualified dealer and checks the sum against its verification key.
    pub fn derive(
        params: &CeremonyParams,
        outcome: &CeremonyOutcome,
        dealers: &[DealerMessage],
        identity: &TrusteeIdentity,
    ) -> Result<Self, CeremonyError> {
        let id = params.id();
        if outcome.ceremony != id {
            return Err(CeremonyError::WrongCeremony {
                what: "ceremony outcome",
                expected: id,
                found: outcome.ceremony,
            });
        }
        let me = params.index_of(identity)?;
        if let Some(fault) = outcome.fault(me) {
            return Err(CeremonyError::Disqualified {
                index: me,
                fault: fault.clone(),
            });
        }
        let dealers = by_author(dealers, |m| m.dealer, "dealer messages")?;
        let mut sum = Zeroizing::new(Scalar::ZERO);
        let mut missing = Vec::new();
        for i in &outcome.qualified {
            let opened = dealers.get(i).and_then(|m| {
                let (envelope, sealed) = m.envelope(params, &id, me)?;
                envelope.open(&(envelope.ephemeral.point * identity.scalar()), sealed)
            });
            match opened {
                Some(value) => *sum += value,
                None => missing.push(*i),
            }
        }
        if !missing.is_empty() {
            return Err(CeremonyError::Missing {
                what: "usable dealer messages",
                missing,
            });
        }
        let secret = SecretKey::from_scalar(*sum);
        match outcome.verification_key(me) {
            Some(key) if *key == secret.public_key() => Ok(Self {
                trustee: me,
                secret,
            }),
            _ => Err(CeremonyError::ShareMismatch { index: me }),
        }
    }

    pub(crate) fn secret(&self) -> &SecretKey {
        &self.secret
    }
}
