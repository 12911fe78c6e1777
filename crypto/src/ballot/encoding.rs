//! The canonical binary encoding of a ballot (spec/crypto.md §8.2).
//!
//! # Layout
//! ```text
//! u8 version (= 1) ‖ election id (32) ‖ credential key (32)
//! for each contest, in manifest order:
//!     ciphertexts: n × (α ‖ β)                                   n × 64
//!     plurality:   unit-vector disjunctive proof, n branches       128·n − 32
//!     approval:    n × 0/1 disjunctive proof (2 branches)          n × 224
//!                  total proof, (max − min + 1) branches           128·(max−min+1) − 32
//!                  (omitted when the limits are 0..=n)
//!     score/cumulative:
//!                  n × Pedersen commitment V                       n × 32
//!                  n × linking proof                               n × 192
//!                  aggregated range proof                          32·(9 + 2·log₂(bits·m))
//! signature (64), Ed25519 over the body (everything before it)
//! ```
//! There are no length prefixes: the manifest fixes every length, so every ballot of an election
//! has the same size whatever its choices, and decoding is exact.

use crate::board::merkle::leaf_hash;
use crate::credential::{CredentialKey, CredentialSignature};
use crate::elgamal::Ciphertext;
use crate::group::{Element, EncodingError, Reader};
use crate::manifest::ContestStyle;
use crate::proofs::disjunctive::DisjunctiveProof;
use crate::proofs::linking::LinkingProof;
use crate::proofs::range::RangeProof;
use crate::proofs::ProofError;

use super::context::{ContestShape, ElectionContext, ElectionId};
use super::BallotError;

/// The ballot format version this implementation writes and verifies.
pub const BALLOT_VERSION: u8 = 1;

/// A ballot's tracking code: its leaf hash on the bulletin board, `SHA-256(0x00 ‖ ballot bytes)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TrackingCode(pub [u8; 32]);

impl TrackingCode {
    /// The hash bytes.
    pub fn to_bytes(&self) -> [u8; 32] {
        self.0
    }

    /// Exactly 32 bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, EncodingError> {
        Ok(Self(crate::group::fixed("tracking code", bytes)?))
    }
}
crate::group::serde_hex!(TrackingCode, "tracking code");

impl core::fmt::Display for TrackingCode {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

/// The proofs of one contest, by style.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum ContestProof {
    /// Plurality: one disjunctive proof that the ciphertexts encrypt a unit vector.
    UnitVector(DisjunctiveProof),
    /// Approval: a 0/1 proof per selection and a proof that the total is in `[min, max]`
    /// (absent when the limits are `0..=n`).
    Approval {
        bits: Vec<DisjunctiveProof>,
        total: Option<DisjunctiveProof>,
    },
    /// Score and cumulative: commitments, linking proofs and one aggregated range proof.
    Ranged {
        commitments: Vec<Element>,
        links: Vec<LinkingProof>,
        range: Box<RangeProof>,
    },
}

/// One contest of an encrypted ballot.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct EncryptedContest {
    pub ciphertexts: Vec<Ciphertext>,
    pub proof: ContestProof,
}

/// An encrypted, signed ballot. Immutable: built by encryption or strict decoding, it keeps its
/// canonical bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ballot {
    pub(crate) election_id: ElectionId,
    pub(crate) credential: CredentialKey,
    pub(crate) contests: Vec<EncryptedContest>,
    pub(crate) signature: CredentialSignature,
    pub(crate) bytes: Vec<u8>,
}

pub(crate) fn contest_len(shape: &ContestShape) -> usize {
    let n = shape.selections;
    let proofs = match shape.style {
        ContestStyle::Plurality => DisjunctiveProof::encoded_len(n),
        ContestStyle::Approval { .. } => {
            let span = (shape.total.1 - shape.total.0 + 1) as usize;
            let total = if shape.total_proof {
                DisjunctiveProof::encoded_len(span)
            } else {
                0
            };
            n * DisjunctiveProof::encoded_len(2) + total
        }
        ContestStyle::Score { .. } | ContestStyle::Cumulative { .. } => {
            let range = shape.ranges.as_ref().map_or(0, |(_, s)| s.proof_len());
            n * (32 + LinkingProof::LEN) + range
        }
    };
    n * Ciphertext::LEN + proofs
}

pub(crate) fn ballot_len(shapes: &[ContestShape]) -> usize {
    1 + 32 + 32 + shapes.iter().map(contest_len).sum::<usize>() + 64
}

impl EncryptedContest {
    pub(crate) fn write(&self, out: &mut Vec<u8>) {
        for ct in &self.ciphertexts {
            out.extend_from_slice(&ct.to_bytes());
        }
        match &self.proof {
            ContestProof::UnitVector(p) => p.write(out),
            ContestProof::Approval { bits, total } => {
                for p in bits.iter().chain(total) {
                    p.write(out);
                }
            }
            ContestProof::Ranged {
                commitments,
                links,
                range,
            } => {
                for v in commitments {
                    out.extend_from_slice(v.as_bytes());
                }
                for l in links {
                    l.write(out);
                }
                range.write(out);
            }
        }
    }

    fn read(reader: &mut Reader<'_>, shape: &ContestShape) -> Result<Self, ProofError> {
        let n = shape.selections;
        let ciphertexts = (0..n)
            .map(|_| Ciphertext::read_fresh(reader))
            .collect::<Result<Vec<_>, _>>()?;
        let proof = match (&shape.style, &shape.ranges) {
            (ContestStyle::Plurality, _) => {
                ContestProof::UnitVector(DisjunctiveProof::read(reader, n)?)
            }
            (ContestStyle::Approval { .. }, _) => {
                let bits = (0..n)
                    .map(|_| DisjunctiveProof::read(reader, 2))
                    .collect::<Result<_, _>>()?;
                let span = (shape.total.1 - shape.total.0 + 1) as usize;
                let total = if shape.total_proof {
                    Some(DisjunctiveProof::read(reader, span)?)
                } else {
                    None
                };
                ContestProof::Approval { bits, total }
            }
            (_, Some((_, range_shape))) => {
                let commitments = (0..n)
                    .map(|_| reader.element_nonidentity("Pedersen commitment"))
                    .collect::<Result<_, _>>()?;
                let links = (0..n)
                    .map(|_| LinkingProof::read(reader))
                    .collect::<Result<_, _>>()?;
                let range = Box::new(RangeProof::read(reader, *range_shape)?);
                ContestProof::Ranged {
                    commitments,
                    links,
                    range,
                }
            }
            (_, None) => {
                return Err(ProofError::WrongBranchCount {
                    proof: "range proof",
                    expected: 1,
                    found: 0,
                })
            }
        };
        Ok(Self { ciphertexts, proof })
    }
}

/// Writes the body (everything the signature covers).
pub(crate) fn write_body(
    election_id: &ElectionId,
    credential: &CredentialKey,
    contests: &[EncryptedContest],
    len_hint: usize,
) -> Vec<u8> {
    let mut out = Vec::with_capacity(len_hint);
    out.push(BALLOT_VERSION);
    out.extend_from_slice(&election_id.0);
    out.extend_from_slice(credential.as_bytes());
    for c in contests {
        c.write(&mut out);
    }
    out
}

impl Ballot {
    /// Strict decoding against an election's manifest: exact length, canonical points and
    /// scalars, no identity where forbidden, and the right election.
    pub fn from_bytes(bytes: &[u8], ctx: &ElectionContext) -> Result<Self, BallotError> {
        if let Some(&version) = bytes.first() {
            if version != BALLOT_VERSION {
                return Err(BallotError::UnsupportedVersion(version));
            }
        }
        let expected = ctx.ballot_len();
        if bytes.len() != expected {
            return Err(EncodingError::WrongLength {
                what: "ballot",
                expected,
                found: bytes.len(),
            }
            .into());
        }
        let mut reader = Reader::new("ballot", bytes);
        let version = reader.u8("ballot version")?;
        if version != BALLOT_VERSION {
            return Err(BallotError::UnsupportedVersion(version));
        }
        let election_id = ElectionId(reader.array("election id")?);
        if election_id != ctx.election_id {
            return Err(BallotError::WrongElection {
                expected: ctx.election_id.to_hex(),
                found: election_id.to_hex(),
            });
        }
        let credential = CredentialKey::from_bytes(reader.take(32, "credential key")?)?;
        let mut contests = Vec::with_capacity(ctx.shapes.len());
        for (shape, contest) in ctx.shapes.iter().zip(&ctx.manifest.contests) {
            let c = EncryptedContest::read(&mut reader, shape).map_err(|source| {
                BallotError::ContestProofRejected {
                    contest: contest.id.clone(),
                    source,
                }
            })?;
            contests.push(c);
        }
        let signature = CredentialSignature::from_bytes(reader.take(64, "signature")?)?;
        reader.finish()?;
        Ok(Self {
            election_id,
            credential,
            contests,
            signature,
            bytes: bytes.to_vec(),
        })
    }

    /// The canonical encoding.
    pub fn to_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The canonical encoding as standard padded base64 (the text form in JSON documents).
    pub fn to_base64(&self) -> String {
        crate::group::text::to_base64(&self.bytes)
    }

    /// Strict decoding of the base64 text form: canonical base64, then [`Ballot::from_bytes`].
    pub fn from_base64(text: &str, ctx: &ElectionContext) -> Result<Self, BallotError> {
        Self::from_bytes(&crate::group::text::from_base64("ballot", text)?, ctx)
    }

    /// The bytes the signature covers (all but the last 64).
    pub(crate) fn body(&self) -> &[u8] {
        // A ballot is only built by encryption or by decoding an exact-length encoding, both of
        // which end with the 64-byte signature.
        self.bytes
            .get(..self.bytes.len().saturating_sub(64))
            .unwrap_or_default()
    }

    /// The election the ballot is for.
    pub fn election_id(&self) -> &ElectionId {
        &self.election_id
    }

    /// The voter's credential key.
    pub fn credential(&self) -> &CredentialKey {
        &self.credential
    }

    /// The tracking code: the ballot's leaf hash on the board.
    pub fn tracking_code(&self) -> TrackingCode {
        TrackingCode(leaf_hash(&self.bytes))
    }

    /// The ciphertexts of contest `index`, one per selection (for aggregation).
    pub fn ciphertexts(&self, index: usize) -> Option<&[Ciphertext]> {
        self.contests.get(index).map(|c| c.ciphertexts.as_slice())
    }

    /// Number of contests.
    pub fn contest_count(&self) -> usize {
        self.contests.len()
    }
}
