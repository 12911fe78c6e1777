//! The trustees' ceremonies (spec/ceremonies.md): a distributed key generation with no dealer,
//! and a threshold tally in which any `t` of the `n` trustees decrypt only the aggregates.
//!
//! Every step is a signed JSON message that anyone can check:
//!
//! 1. **Announcement** ([`Announcement`]): a trustee's name and identity key, signed with it.
//!    The officials fix the ceremony ([`CeremonyParams`]: election, threshold, the ordered
//!    announcements); its hash [`CeremonyId`] is bound into everything that follows.
//! 2. **Dealing** ([`DealerMessage`]): trustee `i` draws a polynomial `fᵢ` of degree `t − 1`,
//!    publishes Feldman commitments `Aᵢₖ = aᵢₖ·G` with a Schnorr proof of knowledge of `aᵢ₀`
//!    bound to the ceremony and to `i`, and the shares `fᵢ(j)` encrypted to every trustee `j`'s
//!    identity key (ChaCha20-Poly1305 under a Diffie–Hellman key).
//! 3. **Checking** ([`CheckMessage`]): trustee `j` opens its envelopes, checks each share against
//!    the commitments, and signs the digests of the dealer messages it saw plus a public,
//!    verifiable complaint against each dealer whose share was wrong.
//! 4. **Outcome** ([`finalize`]): anyone resolves the complaints, disqualifies misbehaving
//!    trustees, and computes the joint key `Σ Aᵢ₀` and each trustee's verification key.
//! 5. **Tally** ([`TallyRequest`], [`PartialDecryptionMessage`], [`combine`]): each present
//!    trustee publishes `Dⱼ = xⱼ·α` for every aggregate with a DLEQ proof against its
//!    verification key; any `t` valid shares are combined by Lagrange interpolation.
//!
//! No I/O happens here: the `tabella` CLI moves the messages (files or HTTP).

#[cfg(test)]
mod attack_tests;
mod dkg;
mod envelope;
mod identity;
pub(crate) mod tally;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod vectors;

use rand_core::CryptoRngCore;
use sha2::{Digest, Sha256};

pub use dkg::{
    check_shares, deal, finalize, CeremonyOutcome, CheckMessage, CheckReport, Complaint,
    DealerMessage, DealerVerdict, Disqualification, EncryptedShare, Fault, KeyShare, SeenDealer,
    ShareProblem, TrusteeDigest, VerificationKey,
};
pub use identity::{Announcement, Signature, TrusteeIdentity};
pub use tally::{
    combine, partial_decrypt, PartialDecryptionMessage, Rejection, TallyItem, TallyOutcome,
    TallyRequest,
};

use crate::ballot::ElectionId;
use crate::group::{serde_hex, EncodingError};
use crate::proofs::ProofError;

/// The largest number of trustees a ceremony may have.
pub const MAX_TRUSTEES: usize = 64;
/// The longest trustee name, in bytes.
pub const MAX_NAME_LEN: usize = 64;

/// Why a ceremony step could not be carried out, or a message is unusable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CeremonyError {
    /// A value could not be decoded.
    #[error(transparent)]
    Encoding(#[from] EncodingError),
    /// A proof or signature failed or could not be produced.
    #[error(transparent)]
    Proof(#[from] ProofError),
    /// The threshold and the number of trustees do not fit `1 ≤ t ≤ n ≤ 64`.
    #[error("a ceremony needs 1 ≤ threshold ≤ trustees ≤ {MAX_TRUSTEES}; got threshold {threshold} with {trustees} trustees")]
    BadThreshold {
        /// The threshold asked for.
        threshold: u32,
        /// The number of trustees.
        trustees: usize,
    },
    /// A trustee name is empty, too long, or has control characters.
    #[error("trustee name {name:?} is not allowed: names are 1 to {MAX_NAME_LEN} bytes of printable text")]
    BadName {
        /// The name.
        name: String,
    },
    /// Two trustees share a name or an identity key.
    #[error("trustees {first} and {second} have the same {what}")]
    DuplicateTrustee {
        /// 1-based index of the first.
        first: u32,
        /// 1-based index of the second.
        second: u32,
        /// "name" or "identity key".
        what: &'static str,
    },
    /// An announcement is for a different election.
    #[error("the announcement of {name:?} is for another election ({found}), not {expected}")]
    WrongElection {
        /// The trustee's name.
        name: String,
        /// The election of the ceremony.
        expected: ElectionId,
        /// The election in the announcement.
        found: ElectionId,
    },
    /// An announcement's signature does not verify.
    #[error("the announcement of {name:?} is not signed by its identity key")]
    BadAnnouncement {
        /// The trustee's name.
        name: String,
    },
    /// A message refers to another ceremony.
    #[error("this {what} belongs to another ceremony ({found}), not {expected}")]
    WrongCeremony {
        /// Which message.
        what: &'static str,
        /// The ceremony at hand.
        expected: CeremonyId,
        /// The ceremony named in the message.
        found: CeremonyId,
    },
    /// The identity key is not one of the ceremony's trustees.
    #[error("this identity key is not one of the ceremony's trustees")]
    NotATrustee,
    /// A trustee index outside `1..=n`.
    #[error("trustee index {index} is outside 1..={trustees}")]
    BadIndex {
        /// The index.
        index: u32,
        /// The number of trustees.
        trustees: usize,
    },
    /// A message is missing that the step needs.
    #[error("waiting for {what} from trustee(s) {}: not published yet", list(.missing))]
    Missing {
        /// What is missing.
        what: &'static str,
        /// Whose.
        missing: Vec<u32>,
    },
    /// Too few trustees qualified for the threshold: the ceremony must be run again.
    #[error("only {} trustee(s) qualified but the threshold is {threshold}; the key ceremony failed and must be run again{}", qualified.len(), describe_faults(.disqualified))]
    TooFewQualified {
        /// The qualified trustees.
        qualified: Vec<u32>,
        /// The threshold.
        threshold: u32,
        /// Who was disqualified, and why.
        disqualified: Vec<Disqualification>,
    },
    /// This trustee's key share does not match its public verification key.
    #[error("trustee {index}'s key share does not match its verification key: its shares or the ceremony messages are not the ones that were checked")]
    ShareMismatch {
        /// The trustee.
        index: u32,
    },
    /// The trustee was disqualified and takes no part in the tally.
    #[error("trustee {index} was disqualified in the key ceremony ({fault}) and takes no part in the tally")]
    Disqualified {
        /// The trustee.
        index: u32,
        /// Why.
        fault: Fault,
    },
    /// Fewer than `t` valid partial decryptions.
    #[error("the tally needs {needed} trustees (the threshold) but only {valid} valid partial decryption(s) are available{}{}; the totals stay encrypted",
        if .absent.is_empty() { String::new() } else { format!("; absent: trustee(s) {}", list(.absent)) },
        describe_rejections(.rejected))]
    NotEnoughShares {
        /// Valid partial decryptions.
        valid: usize,
        /// The threshold.
        needed: u32,
        /// Qualified trustees with no partial decryption.
        absent: Vec<u32>,
        /// Partial decryptions that were refused, and why.
        rejected: Vec<Rejection>,
    },
    /// A tally request is malformed.
    #[error("invalid tally request: {reason}")]
    BadRequest {
        /// Why.
        reason: String,
    },
    /// Two different messages of one kind from one trustee.
    #[error("two different {what} from trustee {trustee}: a trustee may publish only one")]
    Conflicting {
        /// Which messages.
        what: &'static str,
        /// Whose.
        trustee: u32,
    },
    /// A share envelope could not be sealed (an AEAD or key-derivation failure).
    #[error("a share could not be encrypted for its recipient")]
    SealFailed,
    /// A decrypted total is out of range.
    #[error("the total of {label} is not a count between 0 and {max}: the aggregate is not a sum of this election's ballots")]
    TotalOutOfRange {
        /// The item's label.
        label: String,
        /// The bound.
        max: u64,
    },
}

fn list(indices: &[u32]) -> String {
    indices
        .iter()
        .map(u32::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

fn describe_faults(d: &[Disqualification]) -> String {
    d.iter()
        .map(|d| format!("; trustee {}: {}", d.trustee, d.fault))
        .collect()
}

fn describe_rejections(r: &[Rejection]) -> String {
    r.iter()
        .map(|r| format!("; trustee {} refused: {}", r.trustee, r.reason))
        .collect()
}

/// The SHA-256 hash of a ceremony's parameters: every ceremony message names and binds it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CeremonyId(pub [u8; 32]);

impl CeremonyId {
    /// The hash bytes.
    pub fn to_bytes(&self) -> [u8; 32] {
        self.0
    }

    /// Exactly 32 bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, EncodingError> {
        Ok(Self(crate::group::fixed("ceremony id", bytes)?))
    }
}
serde_hex!(CeremonyId, "ceremony id");

impl core::fmt::Display for CeremonyId {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

/// The SHA-256 digest of a signed message (its canonical body and signature).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MessageDigest(pub [u8; 32]);

impl MessageDigest {
    /// The digest bytes.
    pub fn to_bytes(&self) -> [u8; 32] {
        self.0
    }

    /// Exactly 32 bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, EncodingError> {
        Ok(Self(crate::group::fixed("message digest", bytes)?))
    }
}
serde_hex!(MessageDigest, "message digest");

impl core::fmt::Display for MessageDigest {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

/// The ceremony as fixed by the officials: the election, the threshold and the trustees in
/// index order (trustee `i` is `trustees[i − 1]`).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CeremonyParams {
    /// The election whose key is made.
    pub election_id: ElectionId,
    /// How many trustees must take part in the tally.
    pub threshold: u32,
    /// The trustees' signed announcements, in index order.
    pub trustees: Vec<Announcement>,
}

impl CeremonyParams {
    /// Checks and fixes the parameters: `1 ≤ t ≤ n ≤ 64`, every announcement for this election
    /// and signed by its key, no repeated name or key.
    pub fn new(
        election_id: ElectionId,
        threshold: u32,
        trustees: Vec<Announcement>,
        rng: &mut impl CryptoRngCore,
    ) -> Result<Self, CeremonyError> {
        let params = Self {
            election_id,
            threshold,
            trustees,
        };
        params.validate(rng)?;
        Ok(params)
    }

    /// The checks of [`CeremonyParams::new`], for parameters read from a file.
    pub fn validate(&self, rng: &mut impl CryptoRngCore) -> Result<(), CeremonyError> {
        let n = self.trustees.len();
        if self.threshold == 0 || self.threshold as usize > n || n > MAX_TRUSTEES {
            return Err(CeremonyError::BadThreshold {
                threshold: self.threshold,
                trustees: n,
            });
        }
        for (i, a) in self.trustees.iter().enumerate() {
            if a.election_id != self.election_id {
                return Err(CeremonyError::WrongElection {
                    name: a.name.clone(),
                    expected: self.election_id,
                    found: a.election_id,
                });
            }
            a.verify(rng)?;
            for (j, b) in self.trustees.iter().enumerate().take(i) {
                let what = if a.name == b.name {
                    "name"
                } else if a.identity_key == b.identity_key {
                    "identity key"
                } else {
                    continue;
                };
                return Err(CeremonyError::DuplicateTrustee {
                    first: index(j),
                    second: index(i),
                    what,
                });
            }
        }
        Ok(())
    }

    /// The number of trustees `n`.
    pub fn trustee_count(&self) -> usize {
        self.trustees.len()
    }

    /// The ceremony's identifier: SHA-256 of the canonical encoding of the parameters.
    pub fn id(&self) -> CeremonyId {
        let mut w = Canonical::new(b"tabella/v1/ceremony");
        w.fixed(&self.election_id.0);
        w.u32(self.threshold);
        w.u32(self.trustees.len() as u32);
        for a in &self.trustees {
            a.write(&mut w);
        }
        CeremonyId(w.sha256())
    }

    /// The announcement of trustee `index` (1-based).
    pub fn trustee(&self, index: u32) -> Result<&Announcement, CeremonyError> {
        index
            .checked_sub(1)
            .and_then(|i| self.trustees.get(i as usize))
            .ok_or(CeremonyError::BadIndex {
                index,
                trustees: self.trustees.len(),
            })
    }

    /// The index of the trustee with this identity.
    pub fn index_of(&self, identity: &TrusteeIdentity) -> Result<u32, CeremonyError> {
        let key = identity.public_key();
        self.trustees
            .iter()
            .position(|a| a.identity_key == key)
            .map(index)
            .ok_or(CeremonyError::NotATrustee)
    }
}

/// `#[serde(with = "…")]` for byte strings as lowercase hex.
pub(crate) mod serde_bytes {
    use crate::group::text;

    pub fn serialize<S: serde::Serializer>(v: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&text::to_hex(v))
    }

    pub fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let s = <std::borrow::Cow<'de, str> as serde::Deserialize>::deserialize(d)?;
        text::from_hex_vec("bytes", s.as_ref()).map_err(serde::de::Error::custom)
    }
}

/// `#[serde(with = "…")]` for a one-branch DLEQ proof as lowercase hex (96 bytes).
pub(crate) mod serde_dleq {
    use crate::group::text;
    use crate::proofs::disjunctive::DleqProof;

    pub fn serialize<S: serde::Serializer>(p: &DleqProof, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&text::to_hex(&p.to_bytes()))
    }

    pub fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<DleqProof, D::Error> {
        let s = <std::borrow::Cow<'de, str> as serde::Deserialize>::deserialize(d)?;
        let bytes =
            text::from_hex_vec("DLEQ proof", s.as_ref()).map_err(serde::de::Error::custom)?;
        DleqProof::from_bytes(&bytes, 1).map_err(serde::de::Error::custom)
    }
}

/// 1-based trustee index of position `i`.
pub(crate) fn index(i: usize) -> u32 {
    i as u32 + 1
}

/// A canonical, unambiguous binary encoding (fixed fields as is, variable fields length
/// prefixed), for hashing and signing messages independently of their JSON form.
pub(crate) struct Canonical(Vec<u8>);

impl Canonical {
    pub(crate) fn new(domain: &[u8]) -> Self {
        let mut w = Self(Vec::with_capacity(256));
        w.bytes(domain);
        w
    }

    pub(crate) fn u32(&mut self, v: u32) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }

    pub(crate) fn u64(&mut self, v: u64) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }

    pub(crate) fn fixed(&mut self, bytes: &[u8]) {
        self.0.extend_from_slice(bytes);
    }

    pub(crate) fn bytes(&mut self, bytes: &[u8]) {
        self.u64(bytes.len() as u64);
        self.0.extend_from_slice(bytes);
    }

    pub(crate) fn as_slice(&self) -> &[u8] {
        &self.0
    }

    pub(crate) fn sha256(&self) -> [u8; 32] {
        Sha256::digest(&self.0).into()
    }
}
