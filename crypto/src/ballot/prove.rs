//! Ballot encryption and proving (spec/crypto.md §9), and the statements shared with the
//! verifier.

use curve25519_dalek::scalar::Scalar;
use merlin::Transcript;
use rand_core::CryptoRngCore;
use subtle::{ConditionallySelectable, ConstantTimeEq};
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use super::context::ElectionContext;
use super::encoding::{write_body, Ballot, ContestProof, EncryptedContest};
use super::BallotError;
use crate::credential::{CredentialKey, CredentialSecret};
use crate::elgamal::{Ciphertext, EncryptionKey, Nonce};
use crate::group::Element;
use crate::manifest::{Contest, ContestStyle};
use crate::proofs::disjunctive::{DisjunctiveProof, LinComb, Statement};
use crate::proofs::linking::{commit, LinkingProof};
use crate::proofs::msm::Base;
use crate::proofs::range::RangeProof;
use crate::transcript::{labels, TranscriptProtocol, PROTOCOL_VERSION};

/// Context string of the ballot signature (spec/crypto.md §8.3).
pub const SIGNATURE_CONTEXT: &[u8] = b"tabella/v1/ballot";

/// The transcript every proof of a ballot continues: protocol version, election id, manifest
/// hash, joint key and the voter's credential key.
pub(crate) fn ballot_transcript(ctx: &ElectionContext, credential: &CredentialKey) -> Transcript {
    let mut t = Transcript::new(labels::TRANSCRIPT);
    t.domain_sep(labels::BALLOT, PROTOCOL_VERSION);
    t.append_message(b"election-id", &ctx.election_id.0);
    t.append_message(b"manifest-hash", &ctx.manifest_hash.0);
    t.append_message(b"joint-key", ctx.joint_key.element().as_bytes());
    t.append_message(b"credential", credential.as_bytes());
    t
}

/// Binds a contest's index and id, and each selection's id and ciphertext.
pub(crate) fn bind_contest(
    t: &mut Transcript,
    index: usize,
    contest: &Contest,
    ciphertexts: &[Ciphertext],
) {
    t.append_u64(b"contest", index as u64);
    t.append_message(b"contest-id", contest.id.as_bytes());
    for (selection, ct) in contest.selections.iter().zip(ciphertexts) {
        t.append_message(b"selection-id", selection.id.as_bytes());
        t.append_message(b"alpha", ct.alpha.as_bytes());
        t.append_message(b"beta", ct.beta.as_bytes());
    }
}

/// Plurality: with weights `ρⱼ` drawn after the ciphertexts, "`Σ ρⱼ·(αⱼ, βⱼ − [j = ℓ]·G)` is an
/// encryption of zero for some `ℓ`" — the ciphertexts encrypt the unit vector `e_ℓ`.
pub(crate) fn unit_vector_statement<'a>(
    t: &mut Transcript,
    ciphertexts: &'a [Ciphertext],
    key: &'a Element,
) -> (Statement<'a>, Vec<Scalar>) {
    t.domain_sep(labels::UNIT_VECTOR, ciphertexts.len() as u64);
    let rho: Vec<Scalar> = ciphertexts
        .iter()
        .map(|_| t.challenge_scalar(b"rho"))
        .collect();
    let st = Statement {
        g1: Base::G,
        g2: Base::Keyed(key),
        x: rho
            .iter()
            .zip(ciphertexts)
            .map(|(r, ct)| (*r, Base::Point(&ct.alpha)))
            .collect(),
        y: rho
            .iter()
            .zip(ciphertexts)
            .map(|(r, ct)| (*r, Base::Point(&ct.beta)))
            .collect(),
        offsets: rho.iter().map(|r| -r).collect(),
    };
    (st, rho)
}

/// "`(α, β)` encrypts one of `values`."
pub(crate) fn values_statement<'a>(
    x: LinComb<'a>,
    y: LinComb<'a>,
    key: &'a Element,
    values: impl Iterator<Item = u64>,
) -> Statement<'a> {
    Statement {
        g1: Base::G,
        g2: Base::Keyed(key),
        x,
        y,
        offsets: values.map(|v| -Scalar::from(v)).collect(),
    }
}

pub(crate) fn single(ct: &Ciphertext) -> (LinComb<'_>, LinComb<'_>) {
    (
        vec![(Scalar::ONE, Base::Point(&ct.alpha))],
        vec![(Scalar::ONE, Base::Point(&ct.beta))],
    )
}

pub(crate) fn summed(cts: &[Ciphertext]) -> (LinComb<'_>, LinComb<'_>) {
    (
        cts.iter()
            .map(|ct| (Scalar::ONE, Base::Point(&ct.alpha)))
            .collect(),
        cts.iter()
            .map(|ct| (Scalar::ONE, Base::Point(&ct.beta)))
            .collect(),
    )
}

/// The secrets of one encryption: every nonce `r` and Pedersen blinding `s`, in ballot order.
/// Zeroized on drop; revealed only to spoil the ballot (Benaloh challenge).
#[derive(Zeroize, ZeroizeOnDrop)]
pub struct BallotSecrets {
    pub(crate) choices: Vec<Vec<u64>>,
    pub(crate) nonces: Vec<Vec<Scalar>>,
    pub(crate) blindings: Vec<Vec<Scalar>>,
}

impl core::fmt::Debug for BallotSecrets {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("BallotSecrets(..)")
    }
}

impl ElectionContext {
    /// Encrypts a voter's choices (one list of values per contest, manifest order), proves every
    /// contest's rules, and signs the ballot with the voter's credential.
    pub fn encrypt_ballot(
        &self,
        choices: &[Vec<u64>],
        credential: &CredentialSecret,
        rng: &mut impl CryptoRngCore,
    ) -> Result<(Ballot, BallotSecrets), BallotError> {
        self.manifest.check_choices(choices)?;
        let key = self.encryption_key();
        let pk = self.joint_key.element();
        let credential_key = credential.public();
        let mut t = ballot_transcript(self, &credential_key);
        // Hedged randomness (merlin's TranscriptRng): every nonce comes from the transcript so
        // far, rekeyed with the voter's secret seed and choices, then with the caller's RNG. A
        // broken RNG then still gives nonces nobody without the credential can predict, and a
        // leaked credential alone predicts nothing while the RNG is sound.
        let mut choice_bytes = Zeroizing::new(Vec::with_capacity(8 * choices.len()));
        for value in choices.iter().flatten() {
            choice_bytes.extend_from_slice(&value.to_be_bytes());
        }
        let mut hedged = t
            .build_rng()
            .rekey_with_witness_bytes(b"credential", credential.hedge_bytes())
            .rekey_with_witness_bytes(b"choices", &choice_bytes)
            .finalize(rng);
        let rng = &mut hedged;
        let mut contests = Vec::with_capacity(choices.len());
        let mut secrets = BallotSecrets {
            choices: choices.to_vec(),
            nonces: Vec::with_capacity(choices.len()),
            blindings: Vec::with_capacity(choices.len()),
        };
        for (index, ((shape, values), contest)) in self
            .shapes
            .iter()
            .zip(choices)
            .zip(&self.manifest.contests)
            .enumerate()
        {
            let nonces: Vec<Nonce> = values.iter().map(|_| Nonce::random(rng)).collect();
            let ciphertexts: Vec<Ciphertext> = values
                .iter()
                .zip(&nonces)
                .map(|(m, r)| key.encrypt_with_nonce(*m, r))
                .collect();
            bind_contest(&mut t, index, contest, &ciphertexts);
            let nonce_sum = Zeroizing::new(nonces.iter().map(|r| r.0).sum::<Scalar>());
            let mut blindings = Vec::new();
            let proof = match shape.style {
                ContestStyle::Plurality => {
                    let (st, rho) = unit_vector_statement(&mut t, &ciphertexts, pk);
                    // The real branch is the chosen selection, found in constant time.
                    let mut real = 0u64;
                    for (j, m) in values.iter().enumerate() {
                        real.conditional_assign(&(j as u64), m.ct_eq(&1));
                    }
                    let witness = Zeroizing::new(
                        rho.iter()
                            .zip(&nonces)
                            .map(|(p, r)| p * r.0)
                            .sum::<Scalar>(),
                    );
                    ContestProof::UnitVector(prove(&mut t, &st, key, real as usize, &witness, rng)?)
                }
                ContestStyle::Approval { .. } => {
                    let mut bits = Vec::with_capacity(values.len());
                    for ((ct, m), r) in ciphertexts.iter().zip(values).zip(&nonces) {
                        let (x, y) = single(ct);
                        let st = values_statement(x, y, pk, 0..=1);
                        bits.push(prove(&mut t, &st, key, *m as usize, &r.0, rng)?);
                    }
                    let total = if shape.total_proof {
                        let (lo, hi) = shape.total;
                        let (x, y) = summed(&ciphertexts);
                        let st = values_statement(x, y, pk, lo..=hi);
                        let total: u64 = values.iter().sum();
                        Some(prove(
                            &mut t,
                            &st,
                            key,
                            (total - lo) as usize,
                            &nonce_sum,
                            rng,
                        )?)
                    } else {
                        None
                    };
                    ContestProof::Approval { bits, total }
                }
                ContestStyle::Score { .. } | ContestStyle::Cumulative { .. } => {
                    blindings = values.iter().map(|_| Scalar::random(rng)).collect();
                    let commitments: Vec<Element> = values
                        .iter()
                        .zip(&blindings)
                        .map(|(m, s)| Element::new(commit(*m, s)))
                        .collect();
                    for v in &commitments {
                        t.append_message(b"commitment", v.as_bytes());
                    }
                    let mut links = Vec::with_capacity(values.len());
                    for ((m, r), s) in values.iter().zip(&nonces).zip(&blindings) {
                        links.push(
                            LinkingProof::prove(&mut t, key, *m, r, s, rng)
                                .map_err(|e| self.contest_error(index, e))?,
                        );
                    }
                    let intervals = shape
                        .ranges
                        .as_ref()
                        .map(|(i, _)| i.as_slice())
                        .unwrap_or(&[]);
                    let mut items: Vec<(u64, Scalar, _)> = values
                        .iter()
                        .zip(&blindings)
                        .zip(intervals)
                        .map(|((m, s), i)| (*m, *s, *i))
                        .collect();
                    if let (ContestStyle::Cumulative { .. }, Some(i)) =
                        (shape.style, intervals.get(values.len()))
                    {
                        items.push((values.iter().sum(), blindings.iter().sum(), *i));
                    }
                    let range = RangeProof::prove(&mut t, &items, rng)
                        .map_err(|e| self.contest_error(index, e))?;
                    ContestProof::Ranged {
                        commitments,
                        links,
                        range: Box::new(range),
                    }
                }
            };
            secrets.nonces.push(nonces.iter().map(|r| r.0).collect());
            secrets.blindings.push(blindings);
            contests.push(EncryptedContest { ciphertexts, proof });
        }
        let mut bytes = write_body(
            &self.election_id,
            &credential_key,
            &contests,
            self.ballot_len(),
        );
        let mut message = self.manifest_hash.0.to_vec();
        message.extend_from_slice(&bytes);
        let signature = credential.sign(SIGNATURE_CONTEXT, &message);
        bytes.extend_from_slice(&signature.to_bytes());
        let ballot = Ballot {
            election_id: self.election_id,
            credential: credential_key,
            contests,
            signature,
            bytes,
        };
        Ok((ballot, secrets))
    }

    pub(crate) fn contest_error(
        &self,
        index: usize,
        source: crate::proofs::ProofError,
    ) -> BallotError {
        BallotError::ContestProofRejected {
            contest: self
                .manifest
                .contests
                .get(index)
                .map(|c| c.id.clone())
                .unwrap_or_default(),
            source,
        }
    }
}

fn prove(
    t: &mut Transcript,
    st: &Statement<'_>,
    key: &EncryptionKey,
    real: usize,
    witness: &Scalar,
    rng: &mut impl CryptoRngCore,
) -> Result<DisjunctiveProof, BallotError> {
    DisjunctiveProof::prove(t, st, &|s: &Scalar| key.mul(s), real, witness, rng).map_err(|source| {
        BallotError::ContestProofRejected {
            contest: String::new(),
            source,
        }
    })
}
