//! Ballot verification, one at a time or in batches (spec/crypto.md §10).
//!
//! Every contest's sigma-protocol equations are folded, with random weights, into one
//! multiscalar multiplication per ballot — and, in a batch, into one for the whole batch. Range
//! proofs are checked by the Bulletproofs verifier, and signatures one by one (strict Ed25519).
//! When a batch fails, each ballot's own equations are checked to name the bad ones, so the batch
//! answer always equals one-by-one verification.

use rand_core::CryptoRngCore;

use super::context::ElectionContext;
use super::encoding::{Ballot, ContestProof};
use super::prove::{
    ballot_transcript, bind_contest, single, summed, unit_vector_statement, values_statement,
    SIGNATURE_CONTEXT,
};
use super::BallotError;
use crate::elgamal::Ciphertext;
use crate::proofs::msm::Msm;
use crate::proofs::ProofError;

/// Some ballots of a batch failed; each is named with its reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct BatchVerificationError {
    /// `(index in the batch, reason)`, in batch order.
    pub failures: Vec<(usize, BallotError)>,
}

impl core::fmt::Display for BatchVerificationError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(
            f,
            "{} of the ballots failed verification",
            self.failures.len()
        )?;
        if let Some((index, reason)) = self.failures.first() {
            write!(f, " (first: ballot {index}: {reason})")?;
        }
        Ok(())
    }
}

/// A ballot's folded equations, one accumulator per contest (kept to name a failing contest).
struct Prepared {
    contests: Vec<Msm>,
}

impl Prepared {
    fn merged(&self) -> Msm {
        let mut all = Msm::new();
        for c in &self.contests {
            all.absorb(c);
        }
        all
    }
}

impl ElectionContext {
    /// Verifies one ballot: election, signature and every contest's proofs.
    pub fn verify_ballot(
        &self,
        ballot: &Ballot,
        rng: &mut impl CryptoRngCore,
    ) -> Result<(), BallotError> {
        self.check_signature(ballot)?;
        let prepared = self.prepare(ballot, rng)?;
        if prepared.merged().holds() {
            Ok(())
        } else {
            Err(self.name_failure(&prepared))
        }
    }

    /// Verifies many ballots at once. The result equals verifying each with
    /// [`ElectionContext::verify_ballot`]; on failure every bad ballot is named.
    pub fn verify_batch(
        &self,
        ballots: &[Ballot],
        rng: &mut impl CryptoRngCore,
    ) -> Result<(), BatchVerificationError> {
        let mut failures: Vec<(usize, BallotError)> = Vec::new();
        let mut prepared: Vec<(usize, Prepared)> = Vec::with_capacity(ballots.len());
        let mut batch = Msm::new();
        for (i, ballot) in ballots.iter().enumerate() {
            // Same order of checks as `verify_ballot`, so a ballot is refused for the same reason.
            if let Err(e) = self.check_signature(ballot) {
                failures.push((i, e));
                continue;
            }
            match self.prepare(ballot, rng) {
                Ok(p) => {
                    for c in &p.contests {
                        batch.absorb(c);
                    }
                    prepared.push((i, p));
                }
                Err(e) => failures.push((i, e)),
            }
        }
        if !batch.holds() {
            for (i, p) in &prepared {
                if !p.merged().holds() {
                    failures.push((*i, self.name_failure(p)));
                }
            }
        }
        if failures.is_empty() {
            return Ok(());
        }
        failures.sort_by_key(|(i, _)| *i);
        Err(BatchVerificationError { failures })
    }

    /// [`ElectionContext::verify_batch`] on all threads of the rayon pool: the batch is split into
    /// one chunk per thread, each folded into its own multiscalar multiplication with weights from
    /// its own generator (seeded from `rng`). Same answer, same named failures.
    #[cfg(feature = "parallel")]
    pub fn verify_batch_parallel(
        &self,
        ballots: &[Ballot],
        rng: &mut impl CryptoRngCore,
    ) -> Result<(), BatchVerificationError> {
        use rayon::prelude::*;
        let threads = rayon::current_num_threads().max(1);
        let chunk = ballots.len().div_ceil(threads).max(1);
        let seeds: Vec<merlin::TranscriptRng> = ballots
            .chunks(chunk)
            .map(|_| {
                merlin::Transcript::new(b"tabella/v1/batch-weights")
                    .build_rng()
                    .finalize(rng)
            })
            .collect();
        let mut failures: Vec<(usize, BallotError)> = ballots
            .par_chunks(chunk)
            .zip(seeds)
            .enumerate()
            .flat_map_iter(|(k, (part, mut chunk_rng))| {
                let offset = k * chunk;
                match self.verify_batch(part, &mut chunk_rng) {
                    Ok(()) => Vec::new(),
                    Err(e) => e
                        .failures
                        .into_iter()
                        .map(|(i, reason)| (offset + i, reason))
                        .collect(),
                }
            })
            .collect();
        if failures.is_empty() {
            return Ok(());
        }
        failures.sort_by_key(|(i, _)| *i);
        Err(BatchVerificationError { failures })
    }

    fn signed_message(&self, ballot: &Ballot) -> Vec<u8> {
        let mut message = self.manifest_hash.0.to_vec();
        message.extend_from_slice(ballot.body());
        message
    }

    fn check_signature(&self, ballot: &Ballot) -> Result<(), BallotError> {
        ballot
            .credential
            .verify(
                SIGNATURE_CONTEXT,
                &self.signed_message(ballot),
                &ballot.signature,
            )
            .map_err(|_| BallotError::SignatureInvalid)
    }

    fn name_failure(&self, prepared: &Prepared) -> BallotError {
        let index = prepared
            .contests
            .iter()
            .position(|m| !m.holds())
            .unwrap_or(0);
        self.contest_error(
            index,
            ProofError::EquationsFailed {
                proof: "contest validity proof",
            },
        )
    }

    /// Structural checks, transcripts and range proofs; the sigma-protocol equations are
    /// returned folded, not yet checked.
    fn prepare(
        &self,
        ballot: &Ballot,
        rng: &mut impl CryptoRngCore,
    ) -> Result<Prepared, BallotError> {
        if ballot.election_id != self.election_id {
            return Err(BallotError::WrongElection {
                expected: self.election_id.to_hex(),
                found: ballot.election_id.to_hex(),
            });
        }
        if ballot.contests.len() != self.shapes.len() {
            return Err(self.contest_error(
                ballot.contests.len().min(self.shapes.len()),
                ProofError::WrongBranchCount {
                    proof: "ballot contests",
                    expected: self.shapes.len(),
                    found: ballot.contests.len(),
                },
            ));
        }
        let pk = self.joint_key.element();
        let mut t = ballot_transcript(self, &ballot.credential);
        let mut contests = Vec::with_capacity(self.shapes.len());
        for (index, ((shape, contest), spec)) in self
            .shapes
            .iter()
            .zip(&ballot.contests)
            .zip(&self.manifest.contests)
            .enumerate()
        {
            let fail = |e: ProofError| self.contest_error(index, e);
            let cts: &[Ciphertext] = &contest.ciphertexts;
            if cts.len() != shape.selections {
                return Err(fail(ProofError::WrongBranchCount {
                    proof: "contest ciphertexts",
                    expected: shape.selections,
                    found: cts.len(),
                }));
            }
            bind_contest(&mut t, index, spec, cts);
            let mut msm = Msm::new();
            match &contest.proof {
                ContestProof::UnitVector(proof) => {
                    let (st, _) = unit_vector_statement(&mut t, cts, pk);
                    proof.verify(&mut t, &st, &mut msm, rng).map_err(fail)?;
                }
                ContestProof::Approval { bits, total } => {
                    if bits.len() != cts.len() {
                        return Err(fail(ProofError::WrongBranchCount {
                            proof: "selection proofs",
                            expected: cts.len(),
                            found: bits.len(),
                        }));
                    }
                    for (ct, proof) in cts.iter().zip(bits) {
                        let (x, y) = single(ct);
                        let st = values_statement(x, y, pk, 0..=1);
                        proof.verify(&mut t, &st, &mut msm, rng).map_err(fail)?;
                    }
                    match (total, shape.total_proof) {
                        (Some(total), true) => {
                            let (lo, hi) = shape.total;
                            let (x, y) = summed(cts);
                            let st = values_statement(x, y, pk, lo..=hi);
                            total.verify(&mut t, &st, &mut msm, rng).map_err(fail)?;
                        }
                        (None, false) => {}
                        _ => {
                            return Err(fail(ProofError::WrongBranchCount {
                                proof: "approval total proof",
                                expected: usize::from(shape.total_proof),
                                found: usize::from(total.is_some()),
                            }))
                        }
                    }
                }
                ContestProof::Ranged {
                    commitments,
                    links,
                    range,
                } => {
                    let intervals = match &shape.ranges {
                        Some((i, _))
                            if commitments.len() == cts.len() && links.len() == cts.len() =>
                        {
                            i
                        }
                        _ => {
                            return Err(fail(ProofError::WrongBranchCount {
                                proof: "linking proofs",
                                expected: cts.len(),
                                found: links.len(),
                            }))
                        }
                    };
                    for v in commitments {
                        t.append_message(b"commitment", v.as_bytes());
                    }
                    for ((ct, v), link) in cts.iter().zip(commitments).zip(links) {
                        link.verify(&mut t, &self.joint_key, ct, v, &mut msm, rng)
                            .map_err(fail)?;
                    }
                    let mut items: Vec<_> = commitments
                        .iter()
                        .zip(intervals)
                        .map(|(v, i)| (v.point, *i))
                        .collect();
                    if let Some(budget) = intervals.get(cts.len()) {
                        let sum = commitments.iter().map(|v| v.point).sum();
                        items.push((sum, *budget));
                    }
                    range.verify(&mut t, &items, rng).map_err(fail)?;
                }
            }
            contests.push(msm);
        }
        Ok(Prepared { contests })
    }
}
