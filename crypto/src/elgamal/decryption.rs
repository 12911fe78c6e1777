//! Verifiable decryption (spec/crypto.md §4.4): the key holder publishes `D = s·α` for an
//! aggregate ciphertext `(α, β)` with a Chaum–Pedersen proof that `log_G PK = log_α D`; anyone
//! then computes `m·G = β − D` and the count by bounded discrete log. Issue 3 splits `s` among
//! trustees; each share is then exactly this, against the trustee's verification key.

use merlin::Transcript;
use rand_core::CryptoRngCore;

use super::{Ciphertext, PublicKey, SecretKey};
use crate::group::{Element, EncodingError};
use crate::proofs::disjunctive::{prove_dleq, verify_dleq, DleqProof};
use crate::proofs::ProofError;
use crate::transcript::{labels, TranscriptProtocol, PROTOCOL_VERSION};
use curve25519_dalek::ristretto::RistrettoPoint;

/// `D = s·α` with its proof.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecryptionShare {
    share: Element,
    proof: DleqProof,
}

fn transcript(context: &[u8], ciphertext: &Ciphertext) -> Transcript {
    let mut t = Transcript::new(labels::TRANSCRIPT);
    t.domain_sep(labels::DECRYPTION, PROTOCOL_VERSION);
    t.append_message(b"context", context);
    t.append_message(b"alpha", ciphertext.alpha.as_bytes());
    t.append_message(b"beta", ciphertext.beta.as_bytes());
    t
}

impl SecretKey {
    /// Computes `D = s·α` for `ciphertext` and proves it, bound to `context` (the election id).
    pub fn decrypt_with_proof(
        &self,
        context: &[u8],
        ciphertext: &Ciphertext,
        rng: &mut impl CryptoRngCore,
    ) -> Result<DecryptionShare, ProofError> {
        let share = Element::new(self.0 * ciphertext.alpha.point);
        let mut t = transcript(context, ciphertext);
        let proof = prove_dleq(
            &mut t,
            &ciphertext.alpha,
            &self.public_key().0,
            &share,
            &self.0,
            rng,
        )?;
        Ok(DecryptionShare { share, proof })
    }
}

impl DecryptionShare {
    /// Encoded length: `D` and a one-branch DLEQ proof.
    pub const LEN: usize = 32 + DleqProof::encoded_len(1);

    /// The share `D = s·α`.
    pub fn share(&self) -> &Element {
        &self.share
    }

    /// # Layout
    /// `D ‖ proof` (32 + 96 bytes).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(Self::LEN);
        out.extend_from_slice(self.share.as_bytes());
        out.extend_from_slice(&self.proof.to_bytes());
        out
    }

    /// Strict decoding: a canonical non-identity `D` and a canonical proof, exactly 128 bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, ProofError> {
        if bytes.len() != Self::LEN {
            return Err(EncodingError::WrongLength {
                what: "decryption share",
                expected: Self::LEN,
                found: bytes.len(),
            }
            .into());
        }
        let (share, proof) = bytes.split_at(32);
        Ok(Self {
            share: Element::from_bytes_nonidentity("decryption share", share)?,
            proof: DleqProof::from_bytes(proof, 1)?,
        })
    }

    /// Checks the proof against the public key and the ciphertext.
    pub fn verify(
        &self,
        context: &[u8],
        key: &PublicKey,
        ciphertext: &Ciphertext,
        rng: &mut impl CryptoRngCore,
    ) -> Result<(), ProofError> {
        let mut t = transcript(context, ciphertext);
        verify_dleq(
            &mut t,
            &ciphertext.alpha,
            &key.0,
            &self.share,
            &self.proof,
            rng,
        )
    }

    /// `m·G = β − D` (meaningful once [`DecryptionShare::verify`] passed).
    pub fn plaintext_point(&self, ciphertext: &Ciphertext) -> RistrettoPoint {
        ciphertext.beta.point - self.share.point
    }
}

crate::group::serde_hex!(DecryptionShare, "decryption share");

#[cfg(test)]
mod tests {
    use super::*;
    use crate::elgamal::DiscreteLogTable;
    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng;
    #[cfg(all(target_arch = "wasm32", target_os = "unknown"))]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn decryption_share_verifies_and_wrong_statements_fail() {
        let mut rng = ChaCha20Rng::seed_from_u64(1);
        let sk = SecretKey::generate(&mut rng);
        let pk = sk.public_key();
        let ek = pk.precompute();
        let ct = ek.encrypt(5, &mut rng).0 + ek.encrypt(2, &mut rng).0;
        let share = sk.decrypt_with_proof(b"election", &ct, &mut rng).unwrap();
        share.verify(b"election", &pk, &ct, &mut rng).unwrap();
        assert_eq!(
            DiscreteLogTable::new(10).solve(&share.plaintext_point(&ct)),
            Ok(7)
        );

        // Another context (election), another key, another ciphertext, a wrong share: rejected.
        assert!(share.verify(b"other", &pk, &ct, &mut rng).is_err());
        let other = SecretKey::generate(&mut rng).public_key();
        assert!(share.verify(b"election", &other, &ct, &mut rng).is_err());
        let ct2 = ct + ek.encrypt(1, &mut rng).0;
        assert!(share.verify(b"election", &pk, &ct2, &mut rng).is_err());
        let mut forged = share.clone();
        forged.share = Element::new(forged.share.point + crate::group::g());
        assert!(forged.verify(b"election", &pk, &ct, &mut rng).is_err());
    }
}
