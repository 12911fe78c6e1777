//! Voter credentials (spec/credentials.md).
//!
//! A voter receives a [`CredentialCode`]: 100 random bits written as 21 Crockford base32
//! characters, the last one a mod-37 check symbol that catches every single-character typo. The
//! voter's device stretches the code with Argon2id under a per-election salt into an Ed25519
//! [`CredentialSecret`]; its public half, the [`CredentialKey`], is on the public list of eligible
//! keys fixed before voting opens. Ballots are signed with [`CredentialSecret::sign`] and checked,
//! one signature at a time, with [`CredentialKey::verify`].
//!
//! Keys and signatures are plain Ed25519 (RFC 8032) over a domain-separated message
//! ([`signature_input`]), so outside tools can check them. Decoding is strict (spec/credentials.md
//! §4): canonical encodings only, no small-order keys or signature nonces. Verification is
//! ed25519-dalek's `verify_strict` on each signature on its own, never a batch (§5.2), so every
//! verifier reaches the same answer on every input.

mod code;
mod key;
mod list;

pub use code::{CredentialCode, CHECK_SYMBOLS, CODE_LENGTH, DATA_LENGTH, DATA_SYMBOLS};
pub use key::{
    signature_input, CredentialKey, CredentialSecret, CredentialSignature, ARGON2_M_COST_KIB,
    ARGON2_P_COST, ARGON2_T_COST, SALT_DOMAIN, SIGNATURE_DOMAIN,
};
pub use list::{
    credentials_digest, replay_backwards, CredentialListError, CredentialReplacement,
    PublicCredentialList,
};

use crate::group::EncodingError;

/// Why a credential code, key or signature was refused (spec/credentials.md).
///
/// The three code variants carry messages written for voters; the others are for software.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CredentialError {
    /// The code does not have 21 characters once spaces and hyphens are removed.
    #[error(
        "a credential code has {expected} characters (not counting spaces and hyphens), \
         but {found} were entered"
    )]
    WrongLength {
        /// The number of characters a code has ([`CODE_LENGTH`]).
        expected: usize,
        /// The number of characters entered, separators not counted.
        found: usize,
    },
    /// A character that cannot appear in a code at that place (for example `!`, or a check-only
    /// symbol such as `*` or `U` before the last character).
    #[error("the character '{ch}' (character {} as typed) cannot appear there in a credential code", .position + 1)]
    InvalidCharacter {
        /// The character as typed.
        ch: char,
        /// Its 0-based index, in characters, in the text as typed (separators counted).
        position: usize,
    },
    /// Every character is valid but the check character does not match: the code has a typo.
    #[error("this code has a typo: please check each character against your credential letter")]
    ChecksumMismatch,
    /// Bytes of a key or signature of the wrong length, or text that is not hex.
    #[error(transparent)]
    Encoding(#[from] EncodingError),
    /// 32 bytes that are not the canonical encoding of an Ed25519 curve point.
    #[error("credential key: not a canonical Ed25519 point encoding")]
    NonCanonicalKey,
    /// A key of small order (a "weak" key, for which one signature verifies for many messages).
    #[error("credential key: a small-order (weak) Ed25519 key")]
    WeakKey,
    /// A signature whose `R` is not a canonical point encoding or whose `s` is not reduced
    /// modulo the group order.
    #[error("credential signature: non-canonical encoding of R or s")]
    NonCanonicalSignature,
    /// A signature whose nonce point `R` is of small order (the identity or one of the 7 other
    /// torsion points). `R` with a torsion component but not of small order decodes, and
    /// [`CredentialKey::verify`] decides.
    #[error("credential signature: R is a small-order point")]
    SignatureNonceSmallOrder,
    /// The signature does not verify for this key, context and message.
    #[error("credential signature does not verify for this key, context and message")]
    SignatureMismatch,
}
