//! Credential keys: Argon2id stretching of the code into an Ed25519 key, domain-separated
//! signatures, strict decoding and one-by-one verification (spec/credentials.md §3–§5).

use core::cmp::Ordering;
use core::fmt;

use argon2::{Algorithm, Argon2, Block, Params, Version};
use curve25519_dalek::edwards::CompressedEdwardsY;
use curve25519_dalek::scalar::Scalar;
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};
use zeroize::{Zeroize, Zeroizing};

use super::{CredentialCode, CredentialError};
use crate::group::{fixed, text};

/// Prefix of the Argon2id salt: `salt = SHA-256(SALT_DOMAIN || election_id)`.
pub const SALT_DOMAIN: &[u8] = b"tabella/v1/credential-salt";

/// Prefix of every signed message (see [`signature_input`]).
pub const SIGNATURE_DOMAIN: &[u8] = b"tabella/v1/credential-signature";

/// Argon2id memory cost in KiB (16 MiB).
pub const ARGON2_M_COST_KIB: u32 = 16 * 1024;

/// Argon2id passes over memory.
pub const ARGON2_T_COST: u32 = 2;

/// Argon2id lanes.
pub const ARGON2_P_COST: u32 = 1;

/// Argon2id output length: one Ed25519 seed.
const SEED_LENGTH: usize = 32;

/// The bytes an Ed25519 credential signature signs (spec/credentials.md §5):
///
/// ```text
/// SIGNATURE_DOMAIN || u64_be(len(context)) || context || message
/// ```
///
/// `SIGNATURE_DOMAIN` is the 31 ASCII bytes `tabella/v1/credential-signature`; the context
/// length is 8 bytes big-endian, so no two (context, message) pairs give the same bytes.
pub fn signature_input(context: &[u8], message: &[u8]) -> Vec<u8> {
    let mut input = Vec::with_capacity(SIGNATURE_DOMAIN.len() + 8 + context.len() + message.len());
    input.extend_from_slice(SIGNATURE_DOMAIN);
    // usize is at most 64 bits on every supported target: the cast is lossless.
    input.extend_from_slice(&(context.len() as u64).to_be_bytes());
    input.extend_from_slice(context);
    input.extend_from_slice(message);
    input
}

/// A voter's Ed25519 signing key, derived from the credential code (spec/credentials.md §3).
///
/// Private fields, no `Clone` or `Serialize`, zeroized on drop (ed25519-dalek's `SigningKey`
/// zeroizes itself); `Debug` prints only the public key.
pub struct CredentialSecret {
    signing: SigningKey,
    public: CredentialKey,
}

impl CredentialSecret {
    /// Derives the key of `code` for the election `election_id` (spec/credentials.md §3):
    ///
    /// ```text
    /// salt = SHA-256("tabella/v1/credential-salt" || election_id)
    /// seed = Argon2id(v=0x13, m=16384 KiB, t=2, p=1, len=32; password = the 20 canonical data
    ///                 characters of the code as ASCII, salt)
    /// key  = Ed25519 signing key with secret seed `seed` (RFC 8032 §5.1.5)
    /// ```
    ///
    /// Deliberately slow (about 20 ms natively, a few times that in WebAssembly) and uses 16 MiB.
    pub fn derive(code: &CredentialCode, election_id: &[u8; 32]) -> Self {
        let salt: [u8; 32] = Sha256::new()
            .chain_update(SALT_DOMAIN)
            .chain_update(election_id)
            .finalize()
            .into();
        let mut seed = Zeroizing::new([0u8; SEED_LENGTH]);
        stretch(code.data_characters(), &salt, &mut seed);
        let signing = SigningKey::from_bytes(&seed);
        let public = CredentialKey(signing.verifying_key());
        Self { signing, public }
    }

    /// A key straight from a 32-byte seed, skipping the code and its Argon2id stretching: for
    /// synthetic records only (tests and benchmarks with many voters), never for real voters.
    #[cfg(any(test, feature = "synth"))]
    pub fn insecure_from_seed(seed: &[u8; 32]) -> Self {
        let signing = SigningKey::from_bytes(seed);
        let public = CredentialKey(signing.verifying_key());
        Self { signing, public }
    }

    /// The secret seed, used only as witness bytes that hedge the randomness of the voter's
    /// ballot encryption (spec/crypto.md §9): never leaves the crate.
    pub(crate) fn hedge_bytes(&self) -> &[u8; 32] {
        self.signing.as_bytes()
    }

    /// The public key that goes on the list of eligible credentials.
    pub fn public(&self) -> CredentialKey {
        self.public
    }

    /// Signs `message` under `context` (the bytes of [`signature_input`]) with plain Ed25519.
    pub fn sign(&self, context: &[u8], message: &[u8]) -> CredentialSignature {
        CredentialSignature(self.signing.sign(&signature_input(context, message)))
    }
}

impl fmt::Debug for CredentialSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CredentialSecret")
            .field("public", &self.public)
            .finish_non_exhaustive()
    }
}

/// Argon2id with the fixed parameters, into `out`; the working memory is zeroized afterwards.
#[allow(clippy::expect_used)]
fn stretch(password: &[u8], salt: &[u8; 32], out: &mut [u8; SEED_LENGTH]) {
    // Invariant: the parameters are constants inside Argon2's ranges (m ≥ 8·p, t ≥ 1, p ≥ 1,
    // output 32 bytes), so `Params::new` cannot fail.
    let params = Params::new(
        ARGON2_M_COST_KIB,
        ARGON2_T_COST,
        ARGON2_P_COST,
        Some(SEED_LENGTH),
    )
    .expect("fixed Argon2id parameters are within range");
    let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
    // Our own memory, so it can be wiped: the blocks determine the output.
    let mut memory = vec![Block::new(); ARGON2_M_COST_KIB as usize];
    let result = argon2.hash_password_into_with_memory(password, salt, out, memory.as_mut_slice());
    for block in memory.iter_mut() {
        AsMut::<[u64]>::as_mut(block).zeroize();
    }
    // Invariant: the password is 20 bytes, the salt 32, the output 32 and the memory exactly
    // m_cost blocks: none of Argon2's input errors can occur.
    result.expect("Argon2id inputs have fixed valid lengths");
}

/// A credential's public key: an Ed25519 public key that is not of small order.
///
/// # Layout
///
/// 32 bytes, the RFC 8032 encoding (y little-endian, sign of x in the top bit). Decoding
/// ([`from_bytes`](Self::from_bytes)) accepts only canonical point encodings and refuses
/// small-order (weak) keys. A key with a torsion component (mixed order) decodes: no subgroup
/// check is made, because signatures are only ever checked one by one with
/// [`verify`](Self::verify), which is deterministic on every input (spec/credentials.md §5.2).
/// Serde: lowercase hex.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct CredentialKey(VerifyingKey);

impl CredentialKey {
    /// The 32-byte encoding.
    pub fn to_bytes(&self) -> [u8; 32] {
        self.0.to_bytes()
    }

    /// The 32-byte encoding, borrowed.
    pub fn as_bytes(&self) -> &[u8; 32] {
        self.0.as_bytes()
    }

    /// Decodes a key strictly: exactly 32 bytes, a canonical point encoding and not of small
    /// order ([`VerifyingKey::is_weak`]). Mixed-order keys are accepted (no subgroup check).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, CredentialError> {
        let array: [u8; 32] = fixed("credential key", bytes)?;
        let key = VerifyingKey::from_bytes(&array).map_err(|_| CredentialError::NonCanonicalKey)?;
        let point = key.to_edwards();
        if point.compress().to_bytes() != array {
            return Err(CredentialError::NonCanonicalKey);
        }
        if key.is_weak() {
            return Err(CredentialError::WeakKey);
        }
        Ok(Self(key))
    }

    /// Checks `signature` on `message` under `context` with ed25519-dalek's `verify_strict`
    /// (cofactorless equation `[s]B = R + [k]A`, small-order `R` and keys refused, canonical
    /// encodings). This is the only verification of credential signatures: there is no batch
    /// verification (spec/credentials.md §5.2).
    pub fn verify(
        &self,
        context: &[u8],
        message: &[u8],
        signature: &CredentialSignature,
    ) -> Result<(), CredentialError> {
        self.0
            .verify_strict(&signature_input(context, message), &signature.0)
            .map_err(|_| CredentialError::SignatureMismatch)
    }

    /// The ed25519-dalek key, for code that works with Ed25519 directly.
    pub fn as_verifying_key(&self) -> &VerifyingKey {
        &self.0
    }
}

impl PartialOrd for CredentialKey {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Orders keys by their encodings, so lists of keys have one canonical order.
impl Ord for CredentialKey {
    fn cmp(&self, other: &Self) -> Ordering {
        self.as_bytes().cmp(other.as_bytes())
    }
}

impl fmt::Debug for CredentialKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CredentialKey({})", text::to_hex(self.as_bytes()))
    }
}

/// Lowercase hex of the encoding.
impl fmt::Display for CredentialKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&text::to_hex(self.as_bytes()))
    }
}

crate::group::serde_hex!(CredentialKey, "credential key");

/// An Ed25519 signature by a credential.
///
/// # Layout
///
/// 64 bytes, `R || s` as in RFC 8032: `R` a canonical point encoding, not of small order, `s` a
/// scalar below ℓ, little-endian. Serde: lowercase hex.
///
/// No subgroup check is made on `R` (it would cost a scalar multiplication per decode): an `R`
/// with a torsion component decodes, and [`CredentialKey::verify`] then decides, the same way
/// every time (spec/credentials.md §5.2).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct CredentialSignature(Signature);

impl CredentialSignature {
    /// The 64-byte encoding `R || s`.
    pub fn to_bytes(&self) -> [u8; 64] {
        self.0.to_bytes()
    }

    /// Decodes a signature strictly: exactly 64 bytes, `R` a canonical point encoding not of
    /// small order, `s` reduced modulo ℓ.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, CredentialError> {
        let array: [u8; 64] = fixed("credential signature", bytes)?;
        let signature = Signature::from_bytes(&array);
        let r_bytes = signature.r_bytes();
        let r = CompressedEdwardsY(*r_bytes)
            .decompress()
            .ok_or(CredentialError::NonCanonicalSignature)?;
        if r.compress().as_bytes() != r_bytes {
            return Err(CredentialError::NonCanonicalSignature);
        }
        if Option::<Scalar>::from(Scalar::from_canonical_bytes(*signature.s_bytes())).is_none() {
            return Err(CredentialError::NonCanonicalSignature);
        }
        if r.is_small_order() {
            return Err(CredentialError::SignatureNonceSmallOrder);
        }
        Ok(Self(signature))
    }
}

impl fmt::Debug for CredentialSignature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CredentialSignature({})", text::to_hex(&self.to_bytes()))
    }
}

crate::group::serde_hex!(CredentialSignature, "credential signature");
