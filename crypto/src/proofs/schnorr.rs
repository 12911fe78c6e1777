//! Schnorr proof of knowledge of a discrete logarithm (spec/crypto.md §6.2).
//!
//! Statement: `X = x·G`. Proof `(R, z)` with `R = k·G`, `c` from the transcript after `X` and `R`,
//! `z = k + c·x`. The verifier checks `z·G = R + c·X`. Used by trustees to prove knowledge of
//! their polynomial coefficients, bound by the caller to the election and the trustee's index.

use curve25519_dalek::scalar::Scalar;
use merlin::Transcript;
use rand_core::{CryptoRng, RngCore};

use super::msm::{Base, Msm};
use super::ProofError;
use crate::group::{g_table, Element, EncodingError, Reader};
use crate::transcript::{labels, TranscriptProtocol};

const PROOF: &str = "Schnorr proof";

/// A Schnorr proof of knowledge of `log_G X`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SchnorrProof {
    commitment: Element,
    response: Scalar,
}

impl SchnorrProof {
    /// Encoded length in bytes.
    pub const LEN: usize = 64;

    /// Proves knowledge of `x` with `public = x·G`. The caller binds the context first.
    pub fn prove(
        t: &mut Transcript,
        public: &Element,
        x: &Scalar,
        rng: &mut (impl RngCore + CryptoRng),
    ) -> Result<Self, ProofError> {
        if g_table() * x != public.point {
            return Err(ProofError::WitnessMismatch { proof: PROOF });
        }
        t.domain_sep(labels::SCHNORR, 1);
        t.validate_and_append_point(b"X", public, PROOF)?;
        let k = zeroize::Zeroizing::new(Scalar::random(rng));
        let commitment = Element::new(g_table() * &*k);
        t.validate_and_append_point(b"R", &commitment, PROOF)?;
        let c = t.challenge_scalar(b"c");
        Ok(Self {
            commitment,
            response: *k + c * x,
        })
    }

    /// Verifies the proof for `public` under the caller's transcript.
    pub fn verify(
        &self,
        t: &mut Transcript,
        public: &Element,
        rng: &mut (impl RngCore + CryptoRng),
    ) -> Result<(), ProofError> {
        let mut msm = Msm::new();
        self.verify_into(t, public, &mut msm, rng)?;
        if msm.holds() {
            Ok(())
        } else {
            Err(ProofError::EquationsFailed { proof: PROOF })
        }
    }

    /// Adds the weighted equation `z·G − R − c·X = 0` to `msm`.
    pub(crate) fn verify_into(
        &self,
        t: &mut Transcript,
        public: &Element,
        msm: &mut Msm,
        rng: &mut (impl RngCore + CryptoRng),
    ) -> Result<(), ProofError> {
        t.domain_sep(labels::SCHNORR, 1);
        t.validate_and_append_point(b"X", public, PROOF)?;
        t.validate_and_append_point(b"R", &self.commitment, PROOF)?;
        let c = t.challenge_scalar(b"c");
        let w = Msm::weight(rng);
        msm.push(w * self.response, Base::G);
        msm.push(-w, Base::Point(&self.commitment));
        msm.push(-w * c, Base::Point(public));
        Ok(())
    }

    /// # Layout
    /// `R ‖ z` (32 + 32 bytes).
    pub fn to_bytes(&self) -> [u8; 64] {
        let mut out = [0u8; 64];
        out[..32].copy_from_slice(self.commitment.as_bytes());
        out[32..].copy_from_slice(self.response.as_bytes());
        out
    }

    /// Strict decoding: canonical non-identity `R`, canonical `z`, exactly 64 bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, EncodingError> {
        let mut reader = Reader::new(PROOF, bytes);
        let proof = Self {
            commitment: reader.element_nonidentity("Schnorr commitment")?,
            response: reader.scalar("Schnorr response")?,
        };
        reader.finish()?;
        Ok(proof)
    }
}
crate::group::serde_hex!(SchnorrProof, "Schnorr proof");
