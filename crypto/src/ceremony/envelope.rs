//! Share envelopes: a dealer's share `fᵢ(j)` encrypted to trustee `j`'s identity key `Yⱼ`.
//!
//! The dealer draws `e`, publishes `E = e·G` with a Schnorr proof of knowledge of `e` bound to
//! the envelope (ceremony, dealer, recipient, `Yⱼ`, `E`), and derives a one-time key from
//! `K = e·Yⱼ` with HKDF-SHA-512; the share is sealed with ChaCha20-Poly1305 under that key (the
//! all-zero nonce is safe because the key is used once), with every public value as associated
//! data. The recipient computes `K = yⱼ·E`. In a complaint it publishes `K` with a DLEQ proof that
//! `log_G Yⱼ = log_E K`, so anyone can open the envelope and judge the dealer.
//!
//! The proof of knowledge is what makes a complaint safe (spec/ceremonies.md §2.3, DKG-ENV-2):
//! a recipient reveals `yⱼ·E` only for an `E` whose discrete log its dealer proved to know, so
//! the reveal opens nothing the dealer could not already open. Without it, a dealer could copy
//! (or shift by a known multiple of `G`) the ephemeral key of another dealer's envelope to the
//! same recipient, provoke a complaint, and read that other dealer's share.

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::ChaCha20Poly1305;
use curve25519_dalek::ristretto::RistrettoPoint;
use hkdf::Hkdf;
use merlin::Transcript;
use rand_core::CryptoRngCore;
use sha2::Sha512;
use zeroize::Zeroizing;

use super::{Canonical, CeremonyError, CeremonyId};
use crate::elgamal::PublicKey;
use crate::group::{g_table, Element, Scalar};
use crate::proofs::disjunctive::{prove_dleq, verify_dleq, DleqProof};
use crate::proofs::msm::Msm;
use crate::proofs::schnorr::SchnorrProof;
use crate::proofs::ProofError;
use crate::transcript::{labels, TranscriptProtocol, PROTOCOL_VERSION};

/// Length of a sealed share: a 32-byte scalar and a 16-byte tag.
pub(crate) const SEALED_LEN: usize = 48;

/// A sealed share as the dealer publishes it.
pub(crate) struct SealedShare {
    /// `E = e·G`.
    pub ephemeral: Element,
    /// The proof of knowledge of `e`, bound to the envelope.
    pub proof: SchnorrProof,
    /// The AEAD ciphertext of the share.
    pub sealed: Vec<u8>,
}

/// Who sends what to whom: the envelope's public context.
pub(crate) struct EnvelopeContext<'a> {
    pub ceremony: &'a CeremonyId,
    pub dealer: u32,
    pub recipient: u32,
    pub recipient_key: &'a PublicKey,
    pub ephemeral: &'a Element,
}

impl EnvelopeContext<'_> {
    fn associated_data(&self) -> Canonical {
        let mut w = Canonical::new(b"tabella/v1/share-envelope");
        w.fixed(&self.ceremony.0);
        w.u32(self.dealer);
        w.u32(self.recipient);
        w.fixed(&self.recipient_key.to_bytes());
        w.fixed(self.ephemeral.as_bytes());
        w
    }

    /// The one-time AEAD key: HKDF-SHA-512(salt = label, IKM = `K`, info = the context).
    fn key(shared: &RistrettoPoint, ad: &Canonical) -> Option<Zeroizing<[u8; 32]>> {
        let ikm = Zeroizing::new(shared.compress().to_bytes());
        let hk = Hkdf::<Sha512>::new(Some(b"tabella/v1/share-envelope"), ikm.as_slice());
        let mut key = Zeroizing::new([0u8; 32]);
        hk.expand(ad.as_slice(), key.as_mut_slice()).ok()?;
        Some(key)
    }

    /// The one-time AEAD under [`Self::key`].
    fn cipher(&self, shared: &RistrettoPoint, ad: &Canonical) -> Option<ChaCha20Poly1305> {
        let key = Self::key(shared, ad)?;
        Some(ChaCha20Poly1305::new(key.as_slice().into()))
    }

    /// The AEAD key for the shared point `K`, for test vectors that show the intermediate steps.
    #[cfg(test)]
    pub(crate) fn aead_key(&self, shared: &RistrettoPoint) -> [u8; 32] {
        *Self::key(shared, &self.associated_data()).expect("32 bytes is a valid HKDF length")
    }

    /// Seals `share`; returns `E`, the proof of knowledge of `log_G E` and the sealed bytes.
    pub(crate) fn seal(
        ceremony: &CeremonyId,
        dealer: u32,
        recipient: u32,
        recipient_key: &PublicKey,
        share: &Scalar,
        rng: &mut impl CryptoRngCore,
    ) -> Result<SealedShare, CeremonyError> {
        let e = Zeroizing::new(Scalar::random(rng));
        let ephemeral = Element::new(g_table() * &*e);
        let shared = recipient_key.element().point * *e;
        let ctx = EnvelopeContext {
            ceremony,
            dealer,
            recipient,
            recipient_key,
            ephemeral: &ephemeral,
        };
        let proof = SchnorrProof::prove(&mut ctx.ephemeral_transcript(), &ephemeral, &e, rng)?;
        let ad = ctx.associated_data();
        let plaintext = Zeroizing::new(share.to_bytes());
        let sealed = ctx
            .cipher(&shared, &ad)
            .and_then(|c| {
                c.encrypt(
                    &Default::default(),
                    Payload {
                        msg: plaintext.as_slice(),
                        aad: ad.as_slice(),
                    },
                )
                .ok()
            })
            .ok_or(CeremonyError::SealFailed)?;
        Ok(SealedShare {
            ephemeral,
            proof,
            sealed,
        })
    }

    /// The transcript of the dealer's proof of knowledge of `e = log_G E` (DKG-ENV-2): the
    /// envelope's associated data binds the ceremony, the dealer, the recipient, `Yⱼ` and `E`.
    fn ephemeral_transcript(&self) -> Transcript {
        let mut t = Transcript::new(labels::TRANSCRIPT);
        t.domain_sep(labels::SHARE_EPHEMERAL, PROTOCOL_VERSION);
        t.append_message(b"envelope", self.associated_data().as_slice());
        t
    }

    /// Adds the weighted equation of the dealer's proof of knowledge of `log_G E` to `msm`
    /// (checked by the caller, typically with the other envelopes of the same message).
    pub(crate) fn verify_ephemeral_into(
        &self,
        proof: &SchnorrProof,
        msm: &mut Msm,
        rng: &mut impl CryptoRngCore,
    ) -> Result<(), ProofError> {
        proof.verify_into(&mut self.ephemeral_transcript(), self.ephemeral, msm, rng)
    }

    /// Opens an envelope with the shared point `K`: `None` if it does not authenticate or does
    /// not hold a canonical scalar.
    pub(crate) fn open(&self, shared: &RistrettoPoint, sealed: &[u8]) -> Option<Scalar> {
        let ad = self.associated_data();
        let plaintext = Zeroizing::new(
            self.cipher(shared, &ad)?
                .decrypt(
                    &Default::default(),
                    Payload {
                        msg: sealed,
                        aad: ad.as_slice(),
                    },
                )
                .ok()?,
        );
        crate::group::decode_scalar("share", &plaintext).ok()
    }

    fn reveal_transcript(&self) -> Transcript {
        let mut t = Transcript::new(labels::TRANSCRIPT);
        t.domain_sep(labels::SHARE_REVEAL, PROTOCOL_VERSION);
        t.append_message(b"envelope", self.associated_data().as_slice());
        t
    }

    /// The recipient's `K = y·E` with its DLEQ proof, for a complaint.
    pub(crate) fn reveal(
        &self,
        identity: &Scalar,
        rng: &mut impl CryptoRngCore,
    ) -> Result<(Element, DleqProof), ProofError> {
        let shared = Element::new(self.ephemeral.point * identity);
        let mut t = self.reveal_transcript();
        let proof = prove_dleq(
            &mut t,
            self.ephemeral,
            self.recipient_key.element(),
            &shared,
            identity,
            rng,
        )?;
        Ok((shared, proof))
    }

    /// Checks a revealed `K` against the recipient's key and `E`.
    pub(crate) fn verify_reveal(
        &self,
        shared: &Element,
        proof: &DleqProof,
        rng: &mut impl CryptoRngCore,
    ) -> Result<(), ProofError> {
        let mut t = self.reveal_transcript();
        verify_dleq(
            &mut t,
            self.ephemeral,
            self.recipient_key.element(),
            shared,
            proof,
            rng,
        )
    }
}
