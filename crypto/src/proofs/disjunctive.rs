//! Disjunctive Chaum–Pedersen proofs (spec/crypto.md §6.3).
//!
//! Statement, for public bases `G₁, G₂`, points `X, Y` and public offsets `δ₀ … δ_{L−1}`:
//! there are `ℓ ∈ {0 … L−1}` and `x` with `X = x·G₁` and `Y + δ_ℓ·G = x·G₂`.
//! With `L = 1` and `δ₀ = 0` this is the Chaum–Pedersen DLEQ proof.
//!
//! Ballots use it with `G₁ = G`, `G₂ = PK`, `(X, Y)` a ciphertext (or a combination of
//! ciphertexts) and `δ_ℓ = −vₗ`: "the ciphertext encrypts one of the values `v₀ … v_{L−1}`".
//!
//! `X` and `Y` are given as linear combinations of points the caller has already appended to the
//! transcript, so the verifier never evaluates them: their terms go straight into the folded
//! multiscalar multiplication.
//!
//! Proof (commitment form, the last challenge implied):
//! `a₀, b₀, …, a_{L−1}, b_{L−1} ‖ c₀ … c_{L−2} ‖ z₀ … z_{L−1}`, with
//! `c_{L−1} = c − Σ_{ℓ<L−1} c_ℓ`, `c` the transcript challenge. The verifier checks, for every
//! branch, `z_ℓ·G₁ = a_ℓ + c_ℓ·X` and `z_ℓ·G₂ = b_ℓ + c_ℓ·(Y + δ_ℓ·G)`.

use curve25519_dalek::constants::RISTRETTO_BASEPOINT_COMPRESSED;
use curve25519_dalek::ristretto::RistrettoPoint;
use curve25519_dalek::scalar::Scalar;
use merlin::Transcript;
use subtle::{ConditionallySelectable, ConstantTimeEq};

use super::msm::{Base, Msm, WeightRng};
use super::ProofError;
use crate::group::{g_table, Element, Reader};
use crate::transcript::{labels, TranscriptProtocol};

const PROOF: &str = "disjunctive Chaum-Pedersen proof";

/// A linear combination `Σ sᵢ·Pᵢ` of points.
pub(crate) type LinComb<'a> = Vec<(Scalar, Base<'a>)>;

/// The public statement of a disjunctive proof.
pub(crate) struct Statement<'a> {
    pub g1: Base<'a>,
    pub g2: Base<'a>,
    pub x: LinComb<'a>,
    pub y: LinComb<'a>,
    /// `δ_ℓ` for each branch.
    pub offsets: Vec<Scalar>,
}

fn bytes_of(base: &Base<'_>) -> [u8; 32] {
    match base {
        Base::G => RISTRETTO_BASEPOINT_COMPRESSED.to_bytes(),
        Base::H => crate::group::h_compressed(),
        Base::Keyed(e) | Base::Point(e) => e.to_bytes(),
    }
}

impl Statement<'_> {
    fn branches(&self) -> usize {
        self.offsets.len()
    }

    /// Appends the statement's own parameters: bases and offsets. The points inside `X` and `Y`
    /// are bound by the caller.
    fn append_to(&self, t: &mut Transcript) {
        t.domain_sep(labels::DISJUNCTIVE, self.branches() as u64);
        t.append_message(b"G1", &bytes_of(&self.g1));
        t.append_message(b"G2", &bytes_of(&self.g2));
        for offset in &self.offsets {
            t.append_scalar(b"delta", offset);
        }
    }
}

/// A disjunctive Chaum–Pedersen proof with `L` branches.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DisjunctiveProof {
    commitments: Vec<(Element, Element)>,
    /// `c₀ … c_{L−2}`.
    challenges: Vec<Scalar>,
    responses: Vec<Scalar>,
}

impl DisjunctiveProof {
    /// Encoded length of a proof with `branches` branches: `128·L − 32` bytes.
    pub const fn encoded_len(branches: usize) -> usize {
        128 * branches - 32
    }

    /// Number of branches.
    pub fn branches(&self) -> usize {
        self.responses.len()
    }

    /// Proves that branch `real` holds with witness `x`.
    ///
    /// Simulated branches draw `(c_ℓ, z_ℓ)` and commit `a_ℓ = z_ℓ·G₁ − c_ℓ·X`,
    /// `b_ℓ = z_ℓ·G₂ − c_ℓ·(Y + δ_ℓ·G)`. Every branch, the real one included, computes that
    /// simulation: for a simulated branch its inputs are published in the proof; for the real
    /// branch they are a dummy pair, drawn at random and then discarded. The real commitments
    /// `a = w·G₁`, `b = w·G₂` are computed from a fresh `w` and swapped in by constant-time
    /// selection, and the final responses mix in `x` and `real` in constant time:
    /// `c_real = c − Σ_{ℓ≠real} c_ℓ`, `z_real = w + c_real·x`.
    ///
    /// The simulation runs in constant time too (crypto.md §6.3, PROOF-CT-1): with `X = x·G` and
    /// `Y = x·G₂ − δ_real·G` it is `a_ℓ = u_ℓ·G` and `b_ℓ = u_ℓ·G₂ + c_ℓ·(δ_real − δ_ℓ)·G` with
    /// `u_ℓ = z_ℓ − c_ℓ·x`: three constant-time fixed-base multiplications per branch, the same
    /// for every branch. A variable-time simulation would run in a time that an observer who
    /// sees the proof can predict for each simulated branch (its `c_ℓ`, `z_ℓ` are published) but
    /// not for the dummy of the real branch, which would point at the real one.
    ///
    /// `X` and `Y` are computed from the witness, so a wrong witness yields a proof that does not
    /// verify, never a false accepting one.
    pub(crate) fn prove(
        t: &mut Transcript,
        st: &Statement<'_>,
        g2_mul: &dyn Fn(&Scalar) -> RistrettoPoint,
        real: usize,
        x: &Scalar,
        rng: &mut impl WeightRng,
    ) -> Result<Self, ProofError> {
        let n = st.branches();
        if n == 0 || real >= n || !matches!(st.g1, Base::G) {
            return Err(ProofError::WitnessMismatch { proof: PROOF });
        }
        // δ of the real branch, selected in constant time.
        let mut delta_real = zeroize::Zeroizing::new(Scalar::ZERO);
        for (l, d) in st.offsets.iter().enumerate() {
            delta_real.conditional_assign(d, (l as u64).ct_eq(&(real as u64)));
        }
        st.append_to(t);
        let mut challenges: Vec<Scalar> = (0..n).map(|_| Scalar::random(rng)).collect();
        let mut responses: Vec<Scalar> = (0..n).map(|_| Scalar::random(rng)).collect();
        let w = zeroize::Zeroizing::new(Scalar::random(rng));
        let (a_real, b_real) = (g_table() * &*w, g2_mul(&w));
        let mut commitments = Vec::with_capacity(n);
        for (l, ((c_l, z_l), delta)) in challenges
            .iter()
            .zip(&responses)
            .zip(&st.offsets)
            .enumerate()
        {
            let is_real = (l as u64).ct_eq(&(real as u64));
            // a = z·G − c·X and b = z·G₂ − c·(Y + δ·G), in constant time (see above).
            let u = zeroize::Zeroizing::new(z_l - c_l * x);
            let a = g_table() * &*u;
            let b = g2_mul(&u) + g_table() * &(c_l * (*delta_real - delta));
            let a = RistrettoPoint::conditional_select(&a, &a_real, is_real);
            let b = RistrettoPoint::conditional_select(&b, &b_real, is_real);
            let (a, b) = (Element::new(a), Element::new(b));
            t.validate_and_append_point(b"a", &a, PROOF)?;
            t.validate_and_append_point(b"b", &b, PROOF)?;
            commitments.push((a, b));
        }
        let c = t.challenge_scalar(b"c");
        let mut c_real = c;
        for (l, c_l) in challenges.iter().enumerate() {
            let is_real = (l as u64).ct_eq(&(real as u64));
            c_real -= Scalar::conditional_select(c_l, &Scalar::ZERO, is_real);
        }
        let z_real = *w + c_real * x;
        for l in 0..n {
            let is_real = (l as u64).ct_eq(&(real as u64));
            challenges[l].conditional_assign(&c_real, is_real);
            responses[l].conditional_assign(&z_real, is_real);
        }
        challenges.truncate(n - 1);
        Ok(Self {
            commitments,
            challenges,
            responses,
        })
    }

    /// Appends the proof's commitments to the transcript, derives the challenges and adds the
    /// weighted verification equations to `msm`.
    pub(crate) fn verify(
        &self,
        t: &mut Transcript,
        st: &Statement<'_>,
        msm: &mut Msm,
        rng: &mut impl WeightRng,
    ) -> Result<(), ProofError> {
        let n = st.branches();
        if self.responses.len() != n
            || self.commitments.len() != n
            || self.challenges.len() + 1 != n
        {
            return Err(ProofError::WrongBranchCount {
                proof: PROOF,
                expected: n,
                found: self.responses.len(),
            });
        }
        st.append_to(t);
        for (a, b) in &self.commitments {
            t.validate_and_append_point(b"a", a, PROOF)?;
            t.validate_and_append_point(b"b", b, PROOF)?;
        }
        let c = t.challenge_scalar(b"c");
        let c_last = c - self.challenges.iter().sum::<Scalar>();
        let challenges = self.challenges.iter().chain(core::iter::once(&c_last));

        let (mut g1, mut g2, mut x_coeff, mut y_coeff, mut g_coeff) = (
            Scalar::ZERO,
            Scalar::ZERO,
            Scalar::ZERO,
            Scalar::ZERO,
            Scalar::ZERO,
        );
        for ((((a, b), c_l), z_l), delta) in self
            .commitments
            .iter()
            .zip(challenges)
            .zip(&self.responses)
            .zip(&st.offsets)
        {
            // α·(z·G₁ − c·X − a) + β·(z·G₂ − c·Y − c·δ·G − b) = 0
            let alpha = Msm::weight(rng);
            let beta = Msm::weight(rng);
            g1 += alpha * z_l;
            g2 += beta * z_l;
            x_coeff -= alpha * c_l;
            y_coeff -= beta * c_l;
            g_coeff -= beta * c_l * delta;
            msm.push(-alpha, Base::Point(a));
            msm.push(-beta, Base::Point(b));
        }
        msm.push(g1, st.g1);
        msm.push(g2, st.g2);
        msm.push(g_coeff, Base::G);
        for (s, base) in &st.x {
            msm.push(x_coeff * s, *base);
        }
        for (s, base) in &st.y {
            msm.push(y_coeff * s, *base);
        }
        Ok(())
    }

    /// # Layout
    /// `a₀ ‖ b₀ ‖ … ‖ a_{L−1} ‖ b_{L−1} ‖ c₀ ‖ … ‖ c_{L−2} ‖ z₀ ‖ … ‖ z_{L−1}`: points as
    /// canonical 32-byte encodings, scalars as canonical 32-byte little-endian integers.
    pub fn write(&self, out: &mut Vec<u8>) {
        for (a, b) in &self.commitments {
            out.extend_from_slice(a.as_bytes());
            out.extend_from_slice(b.as_bytes());
        }
        for s in self.challenges.iter().chain(&self.responses) {
            out.extend_from_slice(s.as_bytes());
        }
    }

    pub(crate) fn read(reader: &mut Reader<'_>, branches: usize) -> Result<Self, ProofError> {
        if branches == 0 {
            return Err(ProofError::WrongBranchCount {
                proof: PROOF,
                expected: 1,
                found: 0,
            });
        }
        let mut commitments = Vec::with_capacity(branches);
        for _ in 0..branches {
            let a = reader.element_nonidentity("proof commitment a")?;
            let b = reader.element_nonidentity("proof commitment b")?;
            commitments.push((a, b));
        }
        let challenges = (1..branches)
            .map(|_| reader.scalar("proof challenge"))
            .collect::<Result<_, _>>()?;
        let responses = (0..branches)
            .map(|_| reader.scalar("proof response"))
            .collect::<Result<_, _>>()?;
        Ok(Self {
            commitments,
            challenges,
            responses,
        })
    }

    /// Encodes the proof alone.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(Self::encoded_len(self.branches()));
        self.write(&mut out);
        out
    }

    /// Strict decoding of a proof with exactly `branches` branches.
    pub fn from_bytes(bytes: &[u8], branches: usize) -> Result<Self, ProofError> {
        let mut reader = Reader::new(PROOF, bytes);
        let proof = Self::read(&mut reader, branches)?;
        reader.finish()?;
        Ok(proof)
    }
}

/// A Chaum–Pedersen proof that `log_{G₁} X = log_{G₂} Y`: the one-branch disjunctive proof.
pub type DleqProof = DisjunctiveProof;

/// Proves `X = x·G` and `Y = x·B` for a public point `B` (e.g. a partial decryption
/// `Y = s·α` against a verification key `X = s·G`). The caller binds the context; the
/// proof appends `X`, `B` and `Y`.
pub fn prove_dleq(
    t: &mut Transcript,
    base: &Element,
    x_point: &Element,
    y_point: &Element,
    x: &Scalar,
    rng: &mut (impl rand_core::RngCore + rand_core::CryptoRng),
) -> Result<DleqProof, ProofError> {
    t.append_message(b"dleq-X", x_point.as_bytes());
    t.append_message(b"dleq-Y", y_point.as_bytes());
    let st = dleq_statement(base, x_point, y_point);
    DisjunctiveProof::prove(t, &st, &|s: &Scalar| base.point * s, 0, x, rng)
}

/// Verifies a proof made by [`prove_dleq`].
pub fn verify_dleq(
    t: &mut Transcript,
    base: &Element,
    x_point: &Element,
    y_point: &Element,
    proof: &DleqProof,
    rng: &mut (impl rand_core::RngCore + rand_core::CryptoRng),
) -> Result<(), ProofError> {
    t.append_message(b"dleq-X", x_point.as_bytes());
    t.append_message(b"dleq-Y", y_point.as_bytes());
    let st = dleq_statement(base, x_point, y_point);
    let mut msm = Msm::new();
    proof.verify(t, &st, &mut msm, rng)?;
    if msm.holds() {
        Ok(())
    } else {
        Err(ProofError::EquationsFailed {
            proof: "DLEQ proof",
        })
    }
}

fn dleq_statement<'a>(
    base: &'a Element,
    x_point: &'a Element,
    y_point: &'a Element,
) -> Statement<'a> {
    Statement {
        g1: Base::G,
        g2: Base::Point(base),
        x: vec![(Scalar::ONE, Base::Point(x_point))],
        y: vec![(Scalar::ONE, Base::Point(y_point))],
        offsets: vec![Scalar::ZERO],
    }
}
