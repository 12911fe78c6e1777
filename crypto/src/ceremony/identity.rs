//! Trustee identities: a Ristretto key pair that signs the trustee's ceremony messages and
//! receives its encrypted shares.

use merlin::Transcript;
use rand_core::CryptoRngCore;

use super::{Canonical, CeremonyError, MAX_NAME_LEN};
use crate::ballot::ElectionId;
use crate::elgamal::{PublicKey, SecretKey};
use crate::group::{EncodingError, Scalar};
use crate::proofs::schnorr::SchnorrProof;
use crate::proofs::ProofError;
use crate::transcript::{labels, TranscriptProtocol, PROTOCOL_VERSION};

/// A trustee's long-term secret: signs messages and opens the shares sent to it.
/// Zeroized on drop; `Debug` shows only the public key.
#[derive(Debug)]
pub struct TrusteeIdentity(SecretKey);

impl TrusteeIdentity {
    /// Draws a fresh identity.
    pub fn generate(rng: &mut impl CryptoRngCore) -> Self {
        Self(SecretKey::generate(rng))
    }

    /// The public identity key.
    pub fn public_key(&self) -> PublicKey {
        self.0.public_key()
    }

    /// The 32-byte secret, for sealing in a key file.
    pub fn secret_bytes(&self) -> zeroize::Zeroizing<[u8; 32]> {
        zeroize::Zeroizing::new(self.0.expose_secret().to_bytes())
    }

    /// Restores an identity from its 32-byte secret (canonical, non-zero).
    pub fn from_secret_bytes(bytes: &[u8]) -> Result<Self, EncodingError> {
        let scalar = zeroize::Zeroizing::new(crate::group::decode_scalar(
            "trustee identity secret",
            bytes,
        )?);
        if *scalar == Scalar::ZERO {
            return Err(EncodingError::NonCanonicalScalar {
                what: "trustee identity secret",
            });
        }
        Ok(Self(SecretKey::from_scalar(*scalar)))
    }

    pub(crate) fn scalar(&self) -> &Scalar {
        self.0.expose_secret()
    }

    /// Signs a message body of the given kind.
    pub(crate) fn sign(
        &self,
        kind: &'static [u8],
        body: &Canonical,
        rng: &mut impl CryptoRngCore,
    ) -> Result<Signature, CeremonyError> {
        let mut t = signature_transcript(kind, body);
        Ok(Signature(SchnorrProof::prove(
            &mut t,
            self.public_key().element(),
            self.scalar(),
            rng,
        )?))
    }

    /// Makes this trustee's signed announcement for an election.
    pub fn announce(
        &self,
        election_id: ElectionId,
        name: &str,
        rng: &mut impl CryptoRngCore,
    ) -> Result<Announcement, CeremonyError> {
        check_name(name)?;
        let identity_key = self.public_key();
        let body = announcement_body(&election_id, name, &identity_key);
        Ok(Announcement {
            election_id,
            name: name.to_owned(),
            identity_key,
            signature: self.sign(ANNOUNCEMENT, &body, rng)?,
        })
    }
}

const ANNOUNCEMENT: &[u8] = b"announcement";

fn signature_transcript(kind: &'static [u8], body: &Canonical) -> Transcript {
    let mut t = Transcript::new(labels::TRANSCRIPT);
    t.domain_sep(labels::TRUSTEE_SIGNATURE, PROTOCOL_VERSION);
    t.append_message(b"kind", kind);
    t.append_message(b"body", body.as_slice());
    t
}

fn check_name(name: &str) -> Result<(), CeremonyError> {
    if name.is_empty() || name.len() > MAX_NAME_LEN || name.chars().any(char::is_control) {
        return Err(CeremonyError::BadName {
            name: name.to_owned(),
        });
    }
    Ok(())
}

/// A Schnorr signature by a trustee's identity key: a proof of knowledge of the secret key
/// whose transcript holds the message kind and its canonical body.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Signature(SchnorrProof);

impl Signature {
    /// Checks the signature on a message body of the given kind.
    pub(crate) fn verify(
        &self,
        key: &PublicKey,
        kind: &'static [u8],
        body: &Canonical,
        rng: &mut impl CryptoRngCore,
    ) -> Result<(), ProofError> {
        let mut t = signature_transcript(kind, body);
        self.0.verify(&mut t, key.element(), rng)
    }

    /// # Layout
    /// The Schnorr proof `R ‖ z` (64 bytes).
    pub fn to_bytes(&self) -> [u8; 64] {
        self.0.to_bytes()
    }

    /// Strict decoding.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, EncodingError> {
        Ok(Self(SchnorrProof::from_bytes(bytes)?))
    }
}
crate::group::serde_hex!(Signature, "trustee signature");

/// A trustee's entry in a ceremony: its name and identity key, signed with that key, for one
/// election.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Announcement {
    /// The election.
    pub election_id: ElectionId,
    /// The trustee's name, as officials and observers will see it.
    pub name: String,
    /// The identity key.
    pub identity_key: PublicKey,
    /// Signature over the above by the identity key.
    pub signature: Signature,
}

fn announcement_body(election_id: &ElectionId, name: &str, key: &PublicKey) -> Canonical {
    let mut w = Canonical::new(ANNOUNCEMENT);
    w.fixed(&election_id.0);
    w.bytes(name.as_bytes());
    w.fixed(&key.to_bytes());
    w
}

impl Announcement {
    /// The signed body followed by the signature, for hashing into the ceremony id.
    pub(crate) fn write(&self, w: &mut Canonical) {
        let body = announcement_body(&self.election_id, &self.name, &self.identity_key);
        w.bytes(body.as_slice());
        w.fixed(&self.signature.to_bytes());
    }

    /// Checks the name and the signature.
    pub fn verify(&self, rng: &mut impl CryptoRngCore) -> Result<(), CeremonyError> {
        check_name(&self.name)?;
        let body = announcement_body(&self.election_id, &self.name, &self.identity_key);
        self.signature
            .verify(&self.identity_key, ANNOUNCEMENT, &body, rng)
            .map_err(|_| CeremonyError::BadAnnouncement {
                name: self.name.clone(),
            })
    }
}
