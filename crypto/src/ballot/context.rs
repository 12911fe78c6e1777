//! The public parameters a ballot is bound to.

use std::sync::OnceLock;

use crate::elgamal::{EncryptionKey, PublicKey};
use crate::group::{fixed, EncodingError};
use crate::manifest::{ContestStyle, Manifest, ManifestError, ManifestHash};
use crate::proofs::range::{Interval, RangeShape};

/// A 32-byte election identifier, chosen by the officials when the election is created.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ElectionId(pub [u8; 32]);

impl ElectionId {
    /// The identifier bytes.
    pub fn to_bytes(&self) -> [u8; 32] {
        self.0
    }

    /// Exactly 32 bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, EncodingError> {
        Ok(Self(fixed("election id", bytes)?))
    }

    /// Lowercase hex.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }
}
crate::group::serde_hex!(ElectionId, "election id");

impl core::fmt::Display for ElectionId {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(&self.to_hex())
    }
}

/// What the encoding and proofs of one contest look like, fixed by the manifest.
#[derive(Clone, Debug)]
pub(crate) struct ContestShape {
    pub selections: usize,
    pub style: ContestStyle,
    /// Approval: the allowed totals `min..=max`.
    pub total: (u64, u64),
    /// Approval: whether the total needs its own proof (not when the limits are `0..=n`, which
    /// the 0/1 proofs already imply).
    pub total_proof: bool,
    /// Score and cumulative: the intervals of the aggregated range proof and its shape.
    pub ranges: Option<(Vec<Interval>, RangeShape)>,
}

impl ContestShape {
    fn new(contest: &crate::manifest::Contest) -> Result<Self, ManifestError> {
        let n = contest.selections.len();
        let ranges = match contest.style {
            ContestStyle::Score { max_score } => Some(vec![Interval::new(0, max_score); n]),
            ContestStyle::Cumulative {
                max_per_selection,
                budget,
            } => {
                let mut v = vec![Interval::new(0, max_per_selection); n];
                v.push(Interval::new(0, budget));
                Some(v)
            }
            _ => None,
        };
        let ranges = match ranges {
            Some(intervals) => {
                let shape = RangeShape::for_intervals(intervals.iter().copied()).map_err(|e| {
                    ManifestError::InvalidLimits {
                        contest: contest.id.clone(),
                        reason: e.to_string(),
                    }
                })?;
                Some((intervals, shape))
            }
            None => None,
        };
        Ok(Self {
            selections: n,
            style: contest.style,
            total: contest.total_limits(),
            total_proof: matches!(contest.style, ContestStyle::Approval { min, max }
                if min > 0 || max as usize != n),
            ranges,
        })
    }
}

/// An election's public parameters as a ballot sees them: id, validated manifest (and its hash)
/// and the joint public key.
pub struct ElectionContext {
    pub(crate) election_id: ElectionId,
    pub(crate) manifest: Manifest,
    pub(crate) manifest_hash: ManifestHash,
    pub(crate) joint_key: PublicKey,
    pub(crate) shapes: Vec<ContestShape>,
    encryption_key: OnceLock<EncryptionKey>,
}

impl ElectionContext {
    /// Validates the manifest and fixes the parameters.
    pub fn new(
        election_id: ElectionId,
        manifest: Manifest,
        joint_key: PublicKey,
    ) -> Result<Self, ManifestError> {
        manifest.validate()?;
        let shapes = manifest
            .contests
            .iter()
            .map(ContestShape::new)
            .collect::<Result<_, _>>()?;
        Ok(Self {
            election_id,
            manifest_hash: manifest.hash(),
            manifest,
            joint_key,
            shapes,
            encryption_key: OnceLock::new(),
        })
    }

    /// The election id.
    pub fn election_id(&self) -> &ElectionId {
        &self.election_id
    }

    /// The manifest.
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// The manifest's hash.
    pub fn manifest_hash(&self) -> &ManifestHash {
        &self.manifest_hash
    }

    /// The joint election key.
    pub fn joint_key(&self) -> &PublicKey {
        &self.joint_key
    }

    /// The joint key with its precomputed table (built on first use).
    pub fn encryption_key(&self) -> &EncryptionKey {
        self.encryption_key
            .get_or_init(|| self.joint_key.precompute())
    }

    /// The exact encoded length of every ballot of this election.
    pub fn ballot_len(&self) -> usize {
        super::encoding::ballot_len(&self.shapes)
    }
}
