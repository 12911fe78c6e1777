//! Linking proof: an ElGamal ciphertext and a Pedersen commitment hold the same value
//! (spec/crypto.md §6.4).
//!
//! Statement: `α = r·G`, `β = m·G + r·PK`, `V = m·G + s·H` for some `(m, r, s)`.
//! Proof `(T₁, T₂, T₃, z_m, z_r, z_s)`: `T₁ = k_r·G`, `T₂ = k_m·G + k_r·PK`,
//! `T₃ = k_m·G + k_s·H`; `c` from the transcript; `z_• = k_• + c·•`. The verifier checks
//! `z_r·G = T₁ + c·α`, `z_m·G + z_r·PK = T₂ + c·β`, `z_m·G + z_s·H = T₃ + c·V`.
//! The caller has appended `α, β, V` to the transcript.

use curve25519_dalek::ristretto::RistrettoPoint;
use curve25519_dalek::scalar::Scalar;
use merlin::Transcript;
use zeroize::Zeroizing;

use super::msm::{Base, Msm, WeightRng};
use super::ProofError;
use crate::elgamal::{Ciphertext, EncryptionKey, Nonce, PublicKey};
use crate::group::{g_table, h_table, Element, Reader};
use crate::transcript::{labels, TranscriptProtocol};

const PROOF: &str = "ciphertext-commitment linking proof";

/// Proof that a ciphertext and a Pedersen commitment open to the same value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LinkingProof {
    t1: Element,
    t2: Element,
    t3: Element,
    z_m: Scalar,
    z_r: Scalar,
    z_s: Scalar,
}

/// The Pedersen commitment `V = m·G + s·H`.
pub(crate) fn commit(m: u64, s: &Scalar) -> RistrettoPoint {
    g_table() * &Scalar::from(m) + h_table() * s
}

impl LinkingProof {
    /// Encoded length in bytes.
    pub const LEN: usize = 192;

    pub(crate) fn prove(
        t: &mut Transcript,
        key: &EncryptionKey,
        m: u64,
        r: &Nonce,
        s: &Scalar,
        rng: &mut impl WeightRng,
    ) -> Result<Self, ProofError> {
        t.domain_sep(labels::LINKING, 1);
        let nonces = Zeroizing::new([
            Scalar::random(rng),
            Scalar::random(rng),
            Scalar::random(rng),
        ]);
        let [k_m, k_r, k_s] = &*nonces;
        let t1 = Element::new(g_table() * k_r);
        let t2 = Element::new(g_table() * k_m + key.mul(k_r));
        let t3 = Element::new(g_table() * k_m + h_table() * k_s);
        for (label, point) in [(b"T1", &t1), (b"T2", &t2), (b"T3", &t3)] {
            t.validate_and_append_point(label, point, PROOF)?;
        }
        let c = t.challenge_scalar(b"c");
        let m = Zeroizing::new(Scalar::from(m));
        let m = &*m;
        Ok(Self {
            t1,
            t2,
            t3,
            z_m: k_m + c * m,
            z_r: k_r + c * r.0,
            z_s: k_s + c * s,
        })
    }

    pub(crate) fn verify(
        &self,
        t: &mut Transcript,
        key: &PublicKey,
        ciphertext: &Ciphertext,
        commitment: &Element,
        msm: &mut Msm,
        rng: &mut impl WeightRng,
    ) -> Result<(), ProofError> {
        t.domain_sep(labels::LINKING, 1);
        for (label, point) in [(b"T1", &self.t1), (b"T2", &self.t2), (b"T3", &self.t3)] {
            t.validate_and_append_point(label, point, PROOF)?;
        }
        let c = t.challenge_scalar(b"c");
        let (w1, w2, w3) = (Msm::weight(rng), Msm::weight(rng), Msm::weight(rng));
        // w1·(z_r·G − T₁ − c·α) + w2·(z_m·G + z_r·PK − T₂ − c·β) + w3·(z_m·G + z_s·H − T₃ − c·V)
        msm.push(w1 * self.z_r + (w2 + w3) * self.z_m, Base::G);
        msm.push(w2 * self.z_r, Base::Keyed(key.element()));
        msm.push(w3 * self.z_s, Base::H);
        msm.push(-w1, Base::Point(&self.t1));
        msm.push(-w2, Base::Point(&self.t2));
        msm.push(-w3, Base::Point(&self.t3));
        msm.push(-w1 * c, Base::Point(ciphertext.alpha()));
        msm.push(-w2 * c, Base::Point(ciphertext.beta()));
        msm.push(-w3 * c, Base::Point(commitment));
        Ok(())
    }

    /// # Layout
    /// `T₁ ‖ T₂ ‖ T₃ ‖ z_m ‖ z_r ‖ z_s` (6 × 32 bytes).
    pub fn write(&self, out: &mut Vec<u8>) {
        for p in [&self.t1, &self.t2, &self.t3] {
            out.extend_from_slice(p.as_bytes());
        }
        for s in [&self.z_m, &self.z_r, &self.z_s] {
            out.extend_from_slice(s.as_bytes());
        }
    }

    pub(crate) fn read(reader: &mut Reader<'_>) -> Result<Self, ProofError> {
        Ok(Self {
            t1: reader.element_nonidentity("linking commitment T1")?,
            t2: reader.element_nonidentity("linking commitment T2")?,
            t3: reader.element_nonidentity("linking commitment T3")?,
            z_m: reader.scalar("linking response z_m")?,
            z_r: reader.scalar("linking response z_r")?,
            z_s: reader.scalar("linking response z_s")?,
        })
    }
}
