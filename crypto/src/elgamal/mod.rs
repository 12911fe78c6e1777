//! Exponential ElGamal over Ristretto255 (spec/crypto.md §4).
//!
//! `Enc(m; r) = (α, β) = (r·G, m·G + r·PK)`. Ciphertexts add component-wise, so the sum of
//! encryptions encrypts the sum of the messages. Decryption yields `m·G`; the small exponent `m`
//! is then recovered by baby-step giant-step, bounded by the largest possible count.

mod decryption;
mod dlog;

use core::ops::{Add, AddAssign};

use curve25519_dalek::ristretto::{RistrettoBasepointTable, RistrettoPoint};
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::Identity;
use rand_core::CryptoRngCore;
use zeroize::{Zeroize, ZeroizeOnDrop};

pub use decryption::DecryptionShare;
pub use dlog::{DiscreteLogTable, MAX_COUNT};

use crate::group::{g_table, serde_hex, Element, EncodingError, Reader};

/// Errors of the ElGamal layer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ElGamalError {
    /// A value could not be decoded.
    #[error(transparent)]
    Encoding(#[from] EncodingError),
    /// The decrypted point is not `m·G` for any `m` in `0..=max`.
    #[error("the decrypted value is not a count between 0 and {max}: the ciphertext is not a valid aggregate of this election's ballots, or the bound is wrong")]
    DiscreteLogOutOfRange {
        /// The largest count that was searched for.
        max: u64,
    },
}

/// An ElGamal secret key `s`. Zeroized on drop; its `Debug` shows only the public key.
#[derive(Zeroize, ZeroizeOnDrop)]
pub struct SecretKey(Scalar);

impl SecretKey {
    /// Draws a fresh secret key.
    pub fn generate(rng: &mut impl CryptoRngCore) -> Self {
        Self(Scalar::random(rng))
    }

    /// Wraps a scalar as a secret key (used by the threshold layer).
    pub fn from_scalar(scalar: Scalar) -> Self {
        Self(scalar)
    }

    /// The corresponding public key `s·G`.
    pub fn public_key(&self) -> PublicKey {
        PublicKey(Element::new(g_table() * &self.0))
    }

    /// The secret scalar. Handle with care: never log or serialize it.
    pub fn expose_secret(&self) -> &Scalar {
        &self.0
    }

    /// Decrypts to the point `m·G = β − s·α` (constant time in the key).
    pub fn decrypt_to_point(&self, ciphertext: &Ciphertext) -> RistrettoPoint {
        ciphertext.beta.point - self.0 * ciphertext.alpha.point
    }
}

impl core::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_tuple("SecretKey")
            .field(&self.public_key())
            .finish()
    }
}

/// An ElGamal public key `PK = s·G`; never the identity.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PublicKey(pub(crate) Element);

impl PublicKey {
    /// The key as a group element.
    pub fn element(&self) -> &Element {
        &self.0
    }

    /// # Layout
    /// The 32-byte canonical Ristretto encoding of `PK`.
    pub fn to_bytes(&self) -> [u8; 32] {
        self.0.to_bytes()
    }

    /// Strict decoding: canonical, not the identity.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, EncodingError> {
        Ok(Self(Element::from_bytes_nonidentity("public key", bytes)?))
    }

    /// Wraps a non-identity element (the threshold layer combines keys this way).
    pub fn from_element(element: Element) -> Result<Self, EncodingError> {
        if element.is_identity() {
            return Err(EncodingError::IdentityPoint { what: "public key" });
        }
        Ok(Self(element))
    }

    /// A precomputed table for encrypting many values under this key.
    pub fn precompute(&self) -> EncryptionKey {
        EncryptionKey {
            key: *self,
            table: RistrettoBasepointTable::create(&self.0.point),
        }
    }
}
serde_hex!(PublicKey, "public key");

/// A public key with a precomputed multiplication table: constant-time, ~4× faster encryption.
pub struct EncryptionKey {
    key: PublicKey,
    table: RistrettoBasepointTable,
}

impl EncryptionKey {
    /// The public key.
    pub fn public_key(&self) -> &PublicKey {
        &self.key
    }

    /// Constant-time `x·PK`.
    pub(crate) fn mul(&self, x: &Scalar) -> RistrettoPoint {
        &self.table * x
    }

    /// Encrypts `m` with the nonce `r`: `(r·G, m·G + r·PK)`. Constant time in `m` and `r`.
    pub fn encrypt_with_nonce(&self, m: u64, r: &Nonce) -> Ciphertext {
        let alpha = g_table() * &r.0;
        let beta = g_table() * &Scalar::from(m) + self.mul(&r.0);
        Ciphertext::from_points(alpha, beta)
    }

    /// Encrypts `m` with a fresh nonce, returned so the encryption can be audited or proved.
    pub fn encrypt(&self, m: u64, rng: &mut impl CryptoRngCore) -> (Ciphertext, Nonce) {
        let r = Nonce::random(rng);
        (self.encrypt_with_nonce(m, &r), r)
    }
}

/// The encryption randomness `r` of one ciphertext. Secret until revealed by a Benaloh challenge.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct Nonce(pub(crate) Scalar);

impl Nonce {
    /// Draws a fresh nonce (never zero).
    pub fn random(rng: &mut impl CryptoRngCore) -> Self {
        loop {
            let r = Scalar::random(rng);
            if r != Scalar::ZERO {
                return Self(r);
            }
        }
    }

    /// Wraps a revealed nonce.
    pub fn from_scalar(r: Scalar) -> Self {
        Self(r)
    }

    /// The nonce scalar; only for revealing a spoiled ballot.
    pub fn expose_secret(&self) -> &Scalar {
        &self.0
    }
}

impl core::fmt::Debug for Nonce {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("Nonce(..)")
    }
}

/// An exponential ElGamal ciphertext `(α, β)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ciphertext {
    pub(crate) alpha: Element,
    pub(crate) beta: Element,
}

impl Ciphertext {
    /// The encoded length in bytes.
    pub const LEN: usize = 64;

    pub(crate) fn from_points(alpha: RistrettoPoint, beta: RistrettoPoint) -> Self {
        Self {
            alpha: Element::new(alpha),
            beta: Element::new(beta),
        }
    }

    /// The encryption of zero with zero randomness: the neutral element for addition.
    pub fn zero() -> Self {
        Self::from_points(RistrettoPoint::identity(), RistrettoPoint::identity())
    }

    /// `α = r·G`.
    pub fn alpha(&self) -> &Element {
        &self.alpha
    }

    /// `β = m·G + r·PK`.
    pub fn beta(&self) -> &Element {
        &self.beta
    }

    /// # Layout
    /// `α ‖ β`, each the 32-byte canonical Ristretto encoding (64 bytes).
    pub fn to_bytes(&self) -> [u8; 64] {
        let mut out = [0u8; 64];
        out[..32].copy_from_slice(self.alpha.as_bytes());
        out[32..].copy_from_slice(self.beta.as_bytes());
        out
    }

    /// Strict decoding of any ciphertext (aggregates included): canonical points, exact length.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, EncodingError> {
        let mut reader = Reader::new("ciphertext", bytes);
        let ct = Self::read(&mut reader)?;
        reader.finish()?;
        Ok(ct)
    }

    /// Reads a ballot ciphertext: `α` must not be the identity (that would mean `r = 0`, i.e. no
    /// encryption at all).
    pub(crate) fn read_fresh(reader: &mut Reader<'_>) -> Result<Self, EncodingError> {
        Ok(Self {
            alpha: reader.element_nonidentity("ciphertext alpha")?,
            beta: reader.element("ciphertext beta")?,
        })
    }

    pub(crate) fn read(reader: &mut Reader<'_>) -> Result<Self, EncodingError> {
        Ok(Self {
            alpha: reader.element("ciphertext alpha")?,
            beta: reader.element("ciphertext beta")?,
        })
    }

    /// Homomorphic sum of many ciphertexts.
    pub fn sum<'a>(items: impl IntoIterator<Item = &'a Ciphertext>) -> Ciphertext {
        let (mut a, mut b) = (RistrettoPoint::identity(), RistrettoPoint::identity());
        for ct in items {
            a += ct.alpha.point;
            b += ct.beta.point;
        }
        Self::from_points(a, b)
    }
}
serde_hex!(Ciphertext, "ciphertext");

impl Add for Ciphertext {
    type Output = Ciphertext;
    fn add(self, rhs: Ciphertext) -> Ciphertext {
        Ciphertext::from_points(
            self.alpha.point + rhs.alpha.point,
            self.beta.point + rhs.beta.point,
        )
    }
}

impl AddAssign for Ciphertext {
    fn add_assign(&mut self, rhs: Ciphertext) {
        *self = *self + rhs;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng;
    #[cfg(all(target_arch = "wasm32", target_os = "unknown"))]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn keys(seed: u64) -> (SecretKey, EncryptionKey) {
        let mut rng = ChaCha20Rng::seed_from_u64(seed);
        let sk = SecretKey::generate(&mut rng);
        let ek = sk.public_key().precompute();
        (sk, ek)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn decryption_of_sum_is_sum_of_messages(a in 0u64..1000, b in 0u64..1000, seed: u64) {
            let (sk, ek) = keys(seed);
            let mut rng = ChaCha20Rng::seed_from_u64(seed ^ 1);
            let (ca, _) = ek.encrypt(a, &mut rng);
            let (cb, _) = ek.encrypt(b, &mut rng);
            let table = DiscreteLogTable::new(2000);
            prop_assert_eq!(table.solve(&sk.decrypt_to_point(&(ca + cb))), Ok(a + b));
        }

        #[test]
        fn ciphertext_encoding_round_trips(m in 0u64..u64::MAX, seed: u64) {
            let (_, ek) = keys(seed);
            let (ct, _) = ek.encrypt(m, &mut ChaCha20Rng::seed_from_u64(seed));
            prop_assert_eq!(Ciphertext::from_bytes(&ct.to_bytes()), Ok(ct));
            let json = serde_json::to_string(&ct).unwrap();
            prop_assert_eq!(serde_json::from_str::<Ciphertext>(&json).unwrap(), ct);
        }
    }

    #[test]
    fn decryption_past_the_bound_is_a_clear_error() {
        let (sk, ek) = keys(7);
        let (ct, _) = ek.encrypt(11, &mut ChaCha20Rng::seed_from_u64(1));
        let table = DiscreteLogTable::new(10);
        assert_eq!(
            table.solve(&sk.decrypt_to_point(&ct)),
            Err(ElGamalError::DiscreteLogOutOfRange { max: 10 })
        );
        assert_eq!(
            DiscreteLogTable::new(11).solve(&sk.decrypt_to_point(&ct)),
            Ok(11)
        );
    }

    #[test]
    fn identity_public_key_is_rejected() {
        assert_eq!(
            PublicKey::from_bytes(&[0u8; 32]),
            Err(EncodingError::IdentityPoint { what: "public key" })
        );
    }

    #[test]
    fn secret_key_debug_shows_only_public_key() {
        let (sk, _) = keys(3);
        let shown = format!("{sk:?}");
        assert!(shown.contains("PublicKey"));
        assert!(!shown.contains(&hex::encode(sk.expose_secret().as_bytes())));
    }
}
