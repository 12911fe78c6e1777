//! Benaloh challenge: a spoiled ballot reveals its choices and randomness so anyone can check
//! that it encrypts exactly what the voter saw (spec/crypto.md §11). A spoiled ballot is
//! published and never counted.

use curve25519_dalek::scalar::Scalar;
use rand_core::CryptoRngCore;
use serde::{Deserialize, Serialize};

use super::context::ElectionContext;
use super::encoding::{Ballot, ContestProof};
use super::prove::BallotSecrets;
use super::BallotError;
use crate::elgamal::Nonce;
use crate::group::decode_scalar;
use crate::proofs::linking::commit;

/// The opening of a challenged ballot: choices, nonces and (score/cumulative) blindings, per
/// contest in manifest order. Scalars are hex of their canonical encoding.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpoiledBallot {
    /// The voter's choices.
    pub choices: Vec<Vec<u64>>,
    /// The ElGamal nonce of every selection.
    pub nonces: Vec<Vec<String>>,
    /// The Pedersen blinding of every selection of a score/cumulative contest (empty otherwise).
    pub blindings: Vec<Vec<String>>,
}

fn scalars(rows: &[Vec<String>], what: &'static str) -> Result<Vec<Vec<Scalar>>, BallotError> {
    rows.iter()
        .map(|row| {
            row.iter()
                .map(|s| {
                    let bytes: [u8; 32] = crate::group::text::from_hex(what, s)?;
                    decode_scalar(what, &bytes)
                })
                .collect::<Result<Vec<_>, _>>()
                .map_err(BallotError::from)
        })
        .collect()
}

impl SpoiledBallot {
    /// Reveals a ballot's secrets, spoiling it: the ballot must never be cast afterwards.
    pub fn reveal(secrets: BallotSecrets) -> Self {
        let hex_rows = |rows: &[Vec<Scalar>]| -> Vec<Vec<String>> {
            rows.iter()
                .map(|r| r.iter().map(|s| hex::encode(s.as_bytes())).collect())
                .collect()
        };
        Self {
            choices: secrets.choices.clone(),
            nonces: hex_rows(&secrets.nonces),
            blindings: hex_rows(&secrets.blindings),
        }
    }
}

impl ElectionContext {
    /// Checks a Benaloh challenge: the ballot verifies, the revealed choices obey the manifest,
    /// and re-encrypting them with the revealed randomness reproduces every ciphertext (and
    /// commitment) of the ballot.
    pub fn verify_spoiled(
        &self,
        ballot: &Ballot,
        opening: &SpoiledBallot,
        rng: &mut impl CryptoRngCore,
    ) -> Result<(), BallotError> {
        self.verify_ballot(ballot, rng)?;
        self.check_opening(ballot, opening)
    }

    /// The second half of [`ElectionContext::verify_spoiled`], for a ballot already verified
    /// (the record verifier checks spoiled ballots' proofs in its batches): the revealed choices
    /// obey the manifest and reproduce every ciphertext and commitment.
    pub(crate) fn check_opening(
        &self,
        ballot: &Ballot,
        opening: &SpoiledBallot,
    ) -> Result<(), BallotError> {
        self.manifest.check_choices(&opening.choices)?;
        let nonces = scalars(&opening.nonces, "spoiled ballot nonce")?;
        let blindings = scalars(&opening.blindings, "spoiled ballot blinding")?;
        let key = self.encryption_key();
        let shape_error =
            |expected: usize, found: usize| BallotError::SpoiledShapeMismatch { expected, found };
        if nonces.len() != ballot.contests.len() || blindings.len() != ballot.contests.len() {
            return Err(shape_error(
                ballot.contests.len(),
                nonces.len().min(blindings.len()),
            ));
        }
        for (((contest, spec), (values, rs)), ss) in ballot
            .contests
            .iter()
            .zip(&self.manifest.contests)
            .zip(opening.choices.iter().zip(&nonces))
            .zip(&blindings)
        {
            if rs.len() != contest.ciphertexts.len() {
                return Err(shape_error(contest.ciphertexts.len(), rs.len()));
            }
            // Blindings exactly for score/cumulative selections, none otherwise.
            let blindings_expected = match &contest.proof {
                ContestProof::Ranged { .. } => contest.ciphertexts.len(),
                _ => 0,
            };
            if ss.len() != blindings_expected {
                return Err(shape_error(blindings_expected, ss.len()));
            }
            for (j, ((ct, m), r)) in contest.ciphertexts.iter().zip(values).zip(rs).enumerate() {
                let mismatch = || BallotError::SpoiledOpeningMismatch {
                    contest: spec.id.clone(),
                    selection: spec
                        .selections
                        .get(j)
                        .map(|s| s.id.clone())
                        .unwrap_or_default(),
                };
                if key.encrypt_with_nonce(*m, &Nonce::from_scalar(*r)) != *ct {
                    return Err(mismatch());
                }
                if let ContestProof::Ranged { commitments, .. } = &contest.proof {
                    let (Some(v), Some(s)) = (commitments.get(j), ss.get(j)) else {
                        return Err(shape_error(commitments.len(), ss.len()));
                    };
                    if commit(*m, s) != v.point {
                        return Err(mismatch());
                    }
                }
            }
        }
        Ok(())
    }
}
