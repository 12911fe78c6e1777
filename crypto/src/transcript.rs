//! Every Fiat–Shamir label of the protocol, in one place (spec/crypto.md §5).
//!
//! Proof code receives a transcript from its caller and never creates one; the caller has already
//! bound the context (protocol version, election id, manifest hash, joint key, credential) and the
//! statement. Each proof starts with its own domain separator and parameters, then appends its
//! commitments, rejecting the identity where it is not allowed, and draws challenges.

use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::IsIdentity;
use merlin::Transcript;

use crate::group::{Element, EncodingError};

/// The protocol version bound into every transcript.
pub const PROTOCOL_VERSION: u64 = 1;

/// Extension methods for building Tabella's transcripts.
pub(crate) trait TranscriptProtocol {
    /// Starts a sub-protocol: appends `dom-sep` = `label` and its parameter.
    fn domain_sep(&mut self, label: &'static [u8], parameter: u64);
    /// Appends a point, refusing the identity.
    fn validate_and_append_point(
        &mut self,
        label: &'static [u8],
        point: &Element,
        what: &'static str,
    ) -> Result<(), EncodingError>;
    /// Appends a scalar's canonical encoding.
    fn append_scalar(&mut self, label: &'static [u8], scalar: &Scalar);
    /// Draws a challenge scalar from 64 bytes of transcript output, reduced mod ℓ.
    fn challenge_scalar(&mut self, label: &'static [u8]) -> Scalar;
}

impl TranscriptProtocol for Transcript {
    fn domain_sep(&mut self, label: &'static [u8], parameter: u64) {
        self.append_message(b"dom-sep", label);
        self.append_u64(b"param", parameter);
    }

    fn validate_and_append_point(
        &mut self,
        label: &'static [u8],
        point: &Element,
        what: &'static str,
    ) -> Result<(), EncodingError> {
        if point.bytes.is_identity() {
            return Err(EncodingError::IdentityPoint { what });
        }
        self.append_message(label, point.bytes.as_bytes());
        Ok(())
    }

    fn append_scalar(&mut self, label: &'static [u8], scalar: &Scalar) {
        self.append_message(label, scalar.as_bytes());
    }

    fn challenge_scalar(&mut self, label: &'static [u8]) -> Scalar {
        let mut wide = [0u8; 64];
        self.challenge_bytes(label, &mut wide);
        Scalar::from_bytes_mod_order_wide(&wide)
    }
}

/// Domain labels, one per protocol. Listed in spec/crypto.md §5 with their exact sequences.
pub(crate) mod labels {
    /// merlin transcript label of every Tabella transcript.
    pub const TRANSCRIPT: &[u8] = b"tabella";
    /// Context of a ballot's proofs.
    pub const BALLOT: &[u8] = b"tabella/v1/ballot";
    /// Schnorr proof of knowledge of a discrete log.
    pub const SCHNORR: &[u8] = b"tabella/v1/schnorr";
    /// Disjunctive Chaum–Pedersen proof (DLEQ when it has one branch).
    pub const DISJUNCTIVE: &[u8] = b"tabella/v1/disjunctive-dleq";
    /// Ciphertext ↔ Pedersen commitment linking proof.
    pub const LINKING: &[u8] = b"tabella/v1/ciphertext-commitment-link";
    /// Aggregated Bulletproofs range proofs over `[a, b]` intervals.
    pub const RANGE: &[u8] = b"tabella/v1/range";
    /// Verifiable decryption of an aggregate.
    pub const DECRYPTION: &[u8] = b"tabella/v1/decryption";
    /// A trustee's signature on a ceremony message (a Schnorr proof bound to the message).
    pub const TRUSTEE_SIGNATURE: &[u8] = b"tabella/v1/trustee-signature";
    /// A dealer's proof of knowledge of its constant coefficient.
    pub const DKG_COEFFICIENT: &[u8] = b"tabella/v1/dkg-coefficient";
    /// A dealer's proof of knowledge of a share envelope's ephemeral secret `e = log_G E`.
    pub const SHARE_EPHEMERAL: &[u8] = b"tabella/v1/share-ephemeral";
    /// A complaint's proof that the revealed envelope key is the recipient's.
    pub const SHARE_REVEAL: &[u8] = b"tabella/v1/share-reveal";
    /// Random weights of the unit-vector batching.
    pub const UNIT_VECTOR: &[u8] = b"tabella/v1/unit-vector";
}
