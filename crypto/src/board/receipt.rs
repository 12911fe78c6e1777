//! Signed tree heads and ballot receipts of the bulletin board (spec/merkle.md §8).
//!
//! The board holds an Ed25519 key ([`BoardSigningKey`], public half [`BoardKey`]) and signs two
//! kinds of message, each under its own domain separator:
//!
//! - a [`TreeHead`], the state of the log at `size` entries (its Merkle root and the time the
//!   board signed it), becomes a [`SignedTreeHead`];
//! - a [`Receipt`] states that the board took the ballot with a given tracking code as entry
//!   `index`, as a cast or spoiled ballot, and carries a signed tree head that includes it.
//!
//! The signed bytes are fixed-width and listed in [`TreeHead::signing_message`] and
//! [`Receipt::signing_message`]. Verification is ed25519-dalek's `verify_strict`, one signature
//! at a time. A voter who holds a receipt checks it with [`Receipt::verify`] and, given an
//! inclusion proof from the board, that their ballot is in the signed tree with
//! [`Receipt::verify_inclusion`]; a later consistency proof (see
//! [`verify_consistency`](super::verify_consistency)) then shows that it stays there.
//!
//! Pure: no clock (the board passes the timestamp in), no I/O.

use core::fmt;

use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::merkle::{self, Hash, InclusionProof, MerkleError};
use crate::ballot::{ElectionId, TrackingCode};
use crate::credential::CredentialKey;
use crate::group::{decode_scalar, fixed, text, EncodingError};

/// Domain separator of a signed tree head: the first bytes of [`TreeHead::signing_message`].
pub const TREE_HEAD_DOMAIN: &[u8] = b"tabella/v1/tree-head";

/// Domain separator of a receipt: the first bytes of [`Receipt::signing_message`].
pub const RECEIPT_DOMAIN: &[u8] = b"tabella/v1/receipt";

/// Bytes of [`TreeHead::signing_message`]: domain, election, size, root, timestamp.
const TREE_HEAD_MESSAGE_LEN: usize = 20 + 32 + 8 + 32 + 8;

/// Bytes of [`Receipt::signing_message`]: domain, tracking code, index, kind, the tree head's
/// signing message and its signature.
const RECEIPT_MESSAGE_LEN: usize = 18 + 32 + 8 + 1 + TREE_HEAD_MESSAGE_LEN + 64;

/// Why a board key, signature, tree head or receipt was refused. Each variant names the
/// violation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BoardError {
    /// Bytes of a key, seed or signature of the wrong length, a signature whose `s` is not
    /// reduced modulo the group order, or text that is not lowercase hex.
    #[error(transparent)]
    Encoding(#[from] EncodingError),
    /// 32 bytes that are not a canonical Ed25519 point encoding, or a point of small order (a
    /// "weak" key, for which one signature verifies for many messages).
    #[error("board key: not a canonical Ed25519 point encoding, or a small-order (weak) key")]
    InvalidKey,
    /// The tree head's signature does not verify under the board key.
    #[error("the tree head's signature does not verify under the board key")]
    TreeHeadSignatureInvalid,
    /// The receipt's signature does not verify under the board key.
    #[error("the receipt's signature does not verify under the board key")]
    ReceiptSignatureInvalid,
    /// The receipt's entry index is not below the size of the tree head it carries, so that
    /// tree head cannot include the entry.
    #[error("entry {index} is outside the signed tree of size {size}")]
    IndexOutsideTree {
        /// The receipt's entry index.
        index: u64,
        /// The size of the receipt's tree head.
        size: u64,
    },
    /// The inclusion proof does not prove the receipt's tracking code at its index in the
    /// signed tree.
    #[error("inclusion proof refused: {0}")]
    Inclusion(#[from] MerkleError),
}

/// The board's Ed25519 signing key.
///
/// Private field, no `Clone` or `Serialize`; zeroized on drop (ed25519-dalek's `SigningKey`
/// zeroizes itself). `Debug` prints only the public key. Store it with
/// [`expose_secret`](Self::expose_secret) (for example in a keystore file) and load it with
/// [`from_bytes`](Self::from_bytes).
pub struct BoardSigningKey(SigningKey);

impl BoardSigningKey {
    /// A fresh key from `rng`.
    pub fn generate(rng: &mut impl rand_core::CryptoRngCore) -> Self {
        Self(SigningKey::generate(rng))
    }

    /// The key of a 32-byte RFC 8032 seed (as [`expose_secret`](Self::expose_secret) returns).
    ///
    /// # Errors
    /// [`BoardError::Encoding`] if `seed` is not exactly 32 bytes.
    pub fn from_bytes(seed: &[u8]) -> Result<Self, BoardError> {
        let seed = Zeroizing::new(fixed::<32>("board signing key", seed)?);
        Ok(Self(SigningKey::from_bytes(&seed)))
    }

    /// The 32-byte secret seed, for storing the key; wiped when the returned value is dropped.
    pub fn expose_secret(&self) -> Zeroizing<[u8; 32]> {
        Zeroizing::new(self.0.to_bytes())
    }

    /// The public key, which verifiers obtain from the election's published parameters.
    pub fn public(&self) -> BoardKey {
        BoardKey(self.0.verifying_key())
    }

    /// Signs `head` (the bytes of [`TreeHead::signing_message`]).
    pub fn sign_tree_head(&self, head: TreeHead) -> SignedTreeHead {
        let signature = self.sign(&head.signing_message());
        SignedTreeHead { head, signature }
    }

    /// Signs a receipt for the entry `index` (its `tracking_code`, `kind`) under `tree_head`
    /// (which must include it: callers pass the head of a tree of size > index).
    ///
    /// A receipt whose `index` is not below `tree_head.head.size` is still signed, but never
    /// verifies ([`BoardError::IndexOutsideTree`]).
    pub fn sign_receipt(
        &self,
        tracking_code: TrackingCode,
        index: u64,
        kind: EntryKind,
        tree_head: SignedTreeHead,
    ) -> Receipt {
        let signature = self.sign(&receipt_message(&tracking_code, index, kind, &tree_head));
        Receipt {
            tracking_code,
            index,
            kind,
            tree_head,
            signature,
        }
    }

    pub(crate) fn sign(&self, message: &[u8]) -> BoardSignature {
        BoardSignature(self.0.sign(message))
    }
}

impl fmt::Debug for BoardSigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BoardSigningKey")
            .field("public", &self.public())
            .finish_non_exhaustive()
    }
}

/// The board's public key: an Ed25519 public key that is not of small order.
///
/// # Layout
///
/// 32 bytes, the RFC 8032 encoding. Decoding ([`from_bytes`](Self::from_bytes)) makes the same
/// checks as [`CredentialKey::from_bytes`]: a canonical point encoding, not of small order (no
/// subgroup check; signatures are only checked one by one with `verify_strict`). Serde and
/// `Display`: lowercase hex.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct BoardKey(VerifyingKey);

impl BoardKey {
    /// The 32-byte encoding.
    pub fn to_bytes(&self) -> [u8; 32] {
        self.0.to_bytes()
    }

    /// Decodes a key strictly: exactly 32 bytes, a canonical point encoding, not of small order.
    ///
    /// # Errors
    /// [`BoardError::Encoding`] for a wrong length, [`BoardError::InvalidKey`] otherwise.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, BoardError> {
        let array: [u8; 32] = fixed("board key", bytes)?;
        let key = CredentialKey::from_bytes(&array).map_err(|_| BoardError::InvalidKey)?;
        Ok(Self(*key.as_verifying_key()))
    }

    /// `verify_strict` of `signature` on `message`.
    pub(crate) fn verify(&self, message: &[u8], signature: &BoardSignature) -> bool {
        self.0.verify_strict(message, &signature.0).is_ok()
    }
}

impl fmt::Debug for BoardKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "BoardKey({})", text::to_hex(self.0.as_bytes()))
    }
}

/// Lowercase hex of the encoding.
impl fmt::Display for BoardKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&text::to_hex(self.0.as_bytes()))
    }
}

crate::group::serde_hex!(BoardKey, "board key");

/// An Ed25519 signature by the board key.
///
/// # Layout
///
/// 64 bytes, `R ‖ s` as in RFC 8032. Decoding ([`from_bytes`](Self::from_bytes)) requires
/// exactly 64 bytes and `s` reduced modulo ℓ; an `R` that is not a canonical encoding or is of
/// small order decodes but never verifies (`verify_strict` recomputes `R` and compares its
/// canonical encoding, and refuses small-order `R`), so each valid signature has one encoding.
/// Serde: lowercase hex.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct BoardSignature(Signature);

impl BoardSignature {
    /// The 64-byte encoding `R ‖ s`.
    pub fn to_bytes(&self) -> [u8; 64] {
        self.0.to_bytes()
    }

    /// Decodes a signature: exactly 64 bytes, `s` below the group order.
    ///
    /// # Errors
    /// [`BoardError::Encoding`] for a wrong length or an unreduced `s`.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, BoardError> {
        let array: [u8; 64] = fixed("board signature", bytes)?;
        let signature = Signature::from_bytes(&array);
        decode_scalar("board signature s", signature.s_bytes())?;
        Ok(Self(signature))
    }
}

impl fmt::Debug for BoardSignature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "BoardSignature({})", text::to_hex(&self.to_bytes()))
    }
}

crate::group::serde_hex!(BoardSignature, "board signature");

/// A tree head: the state of the board at `size` entries.
///
/// JSON: `{"election": "<64 hex>", "size": 7, "root": "<64 hex>", "timestamp": 1700000000000}`;
/// unknown fields are refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TreeHead {
    /// The election whose board this is.
    pub election: ElectionId,
    /// The number of entries in the log.
    pub size: u64,
    /// The Merkle root of the first `size` entries (RFC 9162 `MTH(D[0:size])`).
    #[serde(with = "hex_hash")]
    pub root: Hash,
    /// Milliseconds since the Unix epoch, set by the board when it signs.
    pub timestamp: u64,
}

impl TreeHead {
    /// The bytes the board signs (100 bytes):
    ///
    /// ```text
    /// TREE_HEAD_DOMAIN (20) ‖ election (32) ‖ u64_be(size) ‖ root (32) ‖ u64_be(timestamp)
    /// ```
    pub fn signing_message(&self) -> Vec<u8> {
        let mut message = Vec::with_capacity(TREE_HEAD_MESSAGE_LEN);
        message.extend_from_slice(TREE_HEAD_DOMAIN);
        message.extend_from_slice(&self.election.0);
        message.extend_from_slice(&self.size.to_be_bytes());
        message.extend_from_slice(&self.root);
        message.extend_from_slice(&self.timestamp.to_be_bytes());
        message
    }
}

/// A tree head with the board's signature on its [`signing_message`](TreeHead::signing_message).
///
/// JSON: `{"head": {…}, "signature": "<128 hex>"}`; unknown fields are refused.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignedTreeHead {
    /// The tree head.
    pub head: TreeHead,
    /// The board's signature on it.
    pub signature: BoardSignature,
}

impl SignedTreeHead {
    /// Checks the signature under the board key `key` (`verify_strict`).
    ///
    /// # Errors
    /// [`BoardError::TreeHeadSignatureInvalid`] if it does not verify.
    pub fn verify(&self, key: &BoardKey) -> Result<(), BoardError> {
        if key.verify(&self.head.signing_message(), &self.signature) {
            Ok(())
        } else {
            Err(BoardError::TreeHeadSignatureInvalid)
        }
    }
}

/// How the board recorded a ballot.
///
/// JSON and text: `"cast"` or `"spoiled"`; in a receipt's signed bytes, `0` or `1`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EntryKind {
    /// A ballot cast to be counted.
    Cast,
    /// A ballot spoiled by the voter (opened for a Benaloh challenge); never counted.
    Spoiled,
}

impl EntryKind {
    /// `"cast"` or `"spoiled"`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Cast => "cast",
            Self::Spoiled => "spoiled",
        }
    }

    /// The kind named exactly `"cast"` or `"spoiled"` (lowercase), else `None`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "cast" => Some(Self::Cast),
            "spoiled" => Some(Self::Spoiled),
            _ => None,
        }
    }

    /// The byte in a receipt's signed message.
    fn tag(self) -> u8 {
        match self {
            Self::Cast => 0,
            Self::Spoiled => 1,
        }
    }
}

/// A signed receipt: the board took the ballot `tracking_code` as entry `index`, and `tree_head`
/// includes it.
///
/// JSON: `{"tracking_code": "<64 hex>", "index": 3, "kind": "cast", "tree_head": {…},
/// "signature": "<128 hex>"}`; unknown fields are refused.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Receipt {
    /// The ballot's tracking code, which is its leaf hash in the log.
    pub tracking_code: TrackingCode,
    /// The ballot's entry (leaf) index in the log, from 0.
    pub index: u64,
    /// Whether the ballot was cast or spoiled.
    pub kind: EntryKind,
    /// A signed tree head of a tree that includes the entry (`index < size`).
    pub tree_head: SignedTreeHead,
    /// The board's signature on [`signing_message`](Self::signing_message).
    pub signature: BoardSignature,
}

impl Receipt {
    /// The election the receipt is for: its tree head's.
    pub fn election(&self) -> &ElectionId {
        &self.tree_head.head.election
    }

    /// The bytes the board signs (223 bytes):
    ///
    /// ```text
    /// RECEIPT_DOMAIN (18) ‖ tracking code (32) ‖ u64_be(index) ‖ kind (1: 0 cast, 1 spoiled)
    ///   ‖ tree head signing message (100) ‖ tree head signature (64)
    /// ```
    pub fn signing_message(&self) -> Vec<u8> {
        receipt_message(&self.tracking_code, self.index, self.kind, &self.tree_head)
    }

    /// Checks, in order: `index < tree_head.head.size`, the tree head's signature and the
    /// receipt's signature, both under the board key `key`.
    ///
    /// # Errors
    /// [`BoardError::IndexOutsideTree`], [`BoardError::TreeHeadSignatureInvalid`] or
    /// [`BoardError::ReceiptSignatureInvalid`].
    pub fn verify(&self, key: &BoardKey) -> Result<(), BoardError> {
        let size = self.tree_head.head.size;
        if self.index >= size {
            return Err(BoardError::IndexOutsideTree {
                index: self.index,
                size,
            });
        }
        self.tree_head.verify(key)?;
        if key.verify(&self.signing_message(), &self.signature) {
            Ok(())
        } else {
            Err(BoardError::ReceiptSignatureInvalid)
        }
    }

    /// [`verify`](Self::verify), then that `proof` proves the leaf `tracking_code` at `index`
    /// in the tree of `tree_head.head.size` leaves with root `tree_head.head.root`
    /// ([`merkle::verify_inclusion`]; the tracking code is the leaf hash).
    ///
    /// # Errors
    /// Those of [`verify`](Self::verify), then [`BoardError::Inclusion`] with the Merkle
    /// violation.
    pub fn verify_inclusion(
        &self,
        key: &BoardKey,
        proof: &InclusionProof,
    ) -> Result<(), BoardError> {
        self.verify(key)?;
        let head = &self.tree_head.head;
        merkle::verify_inclusion(
            &self.tracking_code.0,
            self.index,
            head.size,
            proof,
            &head.root,
        )?;
        Ok(())
    }
}

/// The bytes of [`Receipt::signing_message`], for signing before the receipt exists.
fn receipt_message(
    tracking_code: &TrackingCode,
    index: u64,
    kind: EntryKind,
    tree_head: &SignedTreeHead,
) -> Vec<u8> {
    let mut message = Vec::with_capacity(RECEIPT_MESSAGE_LEN);
    message.extend_from_slice(RECEIPT_DOMAIN);
    message.extend_from_slice(&tracking_code.0);
    message.extend_from_slice(&index.to_be_bytes());
    message.push(kind.tag());
    message.extend_from_slice(&tree_head.head.signing_message());
    message.extend_from_slice(&tree_head.signature.to_bytes());
    message
}

/// `#[serde(with = "hex_hash")]`: a 32-byte hash as exactly 64 lowercase hex digits.
mod hex_hash {
    use super::{text, Hash};

    pub(super) fn serialize<S: serde::Serializer>(hash: &Hash, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&text::to_hex(hash))
    }

    pub(super) fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Hash, D::Error> {
        let s = <std::borrow::Cow<'de, str> as serde::Deserialize>::deserialize(d)?;
        text::from_hex::<32>("tree head root", s.as_ref()).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::board::{leaf_hash, MerkleTree};
    use curve25519_dalek::edwards::{CompressedEdwardsY, EdwardsPoint};
    use curve25519_dalek::scalar::Scalar;
    use proptest::prelude::*;
    use rand_chacha::rand_core::SeedableRng;
    use rand_chacha::ChaCha20Rng;
    #[cfg(all(target_arch = "wasm32", target_os = "unknown"))]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn rng(seed: u8) -> ChaCha20Rng {
        ChaCha20Rng::from_seed([seed; 32])
    }

    fn key(seed: u8) -> BoardSigningKey {
        BoardSigningKey::generate(&mut rng(seed))
    }

    /// The 7-leaf tree of the tests: leaf `i` is the leaf hash of the byte `i`.
    fn tree() -> MerkleTree {
        (0..7u8).map(|i| leaf_hash(&[i])).collect()
    }

    fn head(tree: &MerkleTree) -> TreeHead {
        TreeHead {
            election: ElectionId([0x11; 32]),
            size: tree.len(),
            root: tree.root(),
            timestamp: 1_700_000_000_000,
        }
    }

    /// A signed receipt for leaf 3 of [`tree`].
    fn receipt(board: &BoardSigningKey) -> Receipt {
        let tree = tree();
        let signed = board.sign_tree_head(head(&tree));
        let code = TrackingCode(tree.leaf(3).unwrap());
        board.sign_receipt(code, 3, EntryKind::Cast, signed)
    }

    /// A named change to one field.
    type Change<T> = (&'static str, fn(&mut T));

    fn flip(bytes: &mut [u8], bit: usize) {
        bytes[bit / 8] ^= 1 << (bit % 8);
    }

    /// A signature with one bit of `s`'s low byte flipped: still 64 bytes and `s` still reduced.
    fn tampered(signature: &BoardSignature) -> BoardSignature {
        let mut bytes = signature.to_bytes();
        flip(&mut bytes, 32 * 8);
        BoardSignature::from_bytes(&bytes).unwrap()
    }

    #[test]
    fn signed_tree_heads_and_receipts_verify() {
        let board = key(1);
        let public = board.public();
        let receipt = receipt(&board);
        receipt.tree_head.verify(&public).unwrap();
        receipt.verify(&public).unwrap();
        assert_eq!(receipt.election(), &ElectionId([0x11; 32]));
        // Signatures are plain RFC 8032 Ed25519 over the signing messages.
        let raw = VerifyingKey::from_bytes(&public.to_bytes()).unwrap();
        raw.verify_strict(
            &receipt.tree_head.head.signing_message(),
            &Signature::from_bytes(&receipt.tree_head.signature.to_bytes()),
        )
        .unwrap();
        raw.verify_strict(
            &receipt.signing_message(),
            &Signature::from_bytes(&receipt.signature.to_bytes()),
        )
        .unwrap();
        // A spoiled entry verifies too, and its signature differs from the cast one.
        let spoiled = board.sign_receipt(
            receipt.tracking_code,
            receipt.index,
            EntryKind::Spoiled,
            receipt.tree_head.clone(),
        );
        spoiled.verify(&public).unwrap();
        assert_ne!(spoiled.signature, receipt.signature);
    }

    #[test]
    fn signing_keys_round_trip_through_their_seed() {
        let board = key(2);
        let seed = board.expose_secret();
        let again = BoardSigningKey::from_bytes(seed.as_ref()).unwrap();
        assert_eq!(again.public(), board.public());
        // Ed25519 is deterministic: the same key signs the same head identically.
        let head = head(&tree());
        assert_eq!(again.sign_tree_head(head), board.sign_tree_head(head));
        for len in [0, 31, 33, 64] {
            assert_eq!(
                BoardSigningKey::from_bytes(&vec![7; len]).map(|_| ()),
                Err(BoardError::Encoding(EncodingError::WrongLength {
                    what: "board signing key",
                    expected: 32,
                    found: len,
                }))
            );
        }
    }

    #[test]
    fn signing_key_debug_prints_only_the_public_key() {
        let board = key(3);
        let debug = format!("{board:?}");
        let seed = board.expose_secret();
        assert!(!debug.contains(&hex::encode(seed.as_ref())), "{debug}");
        assert!(debug.contains(&board.public().to_string()), "{debug}");
        assert!(!debug.contains(&format!("{:?}", seed.as_ref())), "{debug}");
    }

    #[test]
    fn signing_messages_have_the_specified_layout() {
        let board = key(4);
        let receipt = receipt(&board);
        let head = receipt.tree_head.head;
        let message = head.signing_message();
        assert_eq!(message.len(), 100);
        assert_eq!(&message[..20], b"tabella/v1/tree-head");
        assert_eq!(&message[20..52], &head.election.0);
        assert_eq!(&message[52..60], &7u64.to_be_bytes());
        assert_eq!(&message[60..92], &head.root);
        assert_eq!(&message[92..100], &1_700_000_000_000u64.to_be_bytes());

        let message = receipt.signing_message();
        assert_eq!(message.len(), 223);
        assert_eq!(&message[..18], b"tabella/v1/receipt");
        assert_eq!(&message[18..50], &receipt.tracking_code.0);
        assert_eq!(&message[50..58], &3u64.to_be_bytes());
        assert_eq!(message[58], 0);
        assert_eq!(&message[59..159], head.signing_message().as_slice());
        assert_eq!(&message[159..223], &receipt.tree_head.signature.to_bytes());
        let spoiled = Receipt {
            kind: EntryKind::Spoiled,
            ..receipt
        };
        assert_eq!(spoiled.signing_message()[58], 1);
        // Neither domain is a prefix of the other.
        assert!(!TREE_HEAD_DOMAIN.starts_with(RECEIPT_DOMAIN));
        assert!(!RECEIPT_DOMAIN.starts_with(TREE_HEAD_DOMAIN));
    }

    /// Pins the signatures of a fixed key on a fixed head and receipt (spec/merkle.md §8.5). The
    /// same values were computed independently from the written layout with another Ed25519
    /// implementation (Python `cryptography`, OpenSSL).
    #[test]
    fn known_answer_signatures() {
        let board = BoardSigningKey::from_bytes(&[0x42; 32]).unwrap();
        assert_eq!(board.public().to_string(), KNOWN_BOARD_KEY);
        let receipt = receipt(&board);
        assert_eq!(hex::encode(receipt.tree_head.head.root), KNOWN_ROOT);
        assert_eq!(receipt.tracking_code.to_string(), KNOWN_TRACKING_CODE);
        assert_eq!(
            hex::encode(receipt.tree_head.signature.to_bytes()),
            KNOWN_HEAD_SIGNATURE
        );
        assert_eq!(
            hex::encode(receipt.signature.to_bytes()),
            KNOWN_RECEIPT_SIGNATURE
        );
        let json = format!(
            concat!(
                r#"{{"tracking_code":"{}","index":3,"kind":"cast","tree_head":{{"head":"#,
                r#"{{"election":"{}","size":7,"root":"{}","timestamp":1700000000000}},"#,
                r#""signature":"{}"}},"signature":"{}"}}"#
            ),
            KNOWN_TRACKING_CODE,
            "11".repeat(32),
            KNOWN_ROOT,
            KNOWN_HEAD_SIGNATURE,
            KNOWN_RECEIPT_SIGNATURE
        );
        assert_eq!(serde_json::to_string(&receipt).unwrap(), json);
        let parsed: Receipt = serde_json::from_str(&json).unwrap();
        let key = BoardKey::from_bytes(&hex::decode(KNOWN_BOARD_KEY).unwrap()).unwrap();
        parsed.verify(&key).unwrap();
        let proof = tree().inclusion_proof(3, 7).unwrap();
        parsed.verify_inclusion(&key, &proof).unwrap();
    }

    const KNOWN_BOARD_KEY: &str =
        "2152f8d19b791d24453242e15f2eab6cb7cffa7b6a5ed30097960e069881db12";
    const KNOWN_ROOT: &str = "3560191803028444b232018ac047fdb561c09c23a7a6876c85e08b5e4d48e9f3";
    const KNOWN_TRACKING_CODE: &str =
        "583c7dfb7b3055d99465544032a571e10a134b1b6f769422bbb71fd7fa167a5d";
    const KNOWN_HEAD_SIGNATURE: &str = concat!(
        "a4e9e934fb698556b71865643336a317cd9e6f0dc02f8fbef44e05019ac22b41",
        "4ecd2daa52e7073d374933f0c10518c72a6ba9b4a890edd85dcf6141c2a1560c"
    );
    const KNOWN_RECEIPT_SIGNATURE: &str = concat!(
        "c4b8d111b43d56e61fdcd3f313359a672b503fe18ffb9f609b387d74dc346ad4",
        "3d13f6ca4b65deba7140005ce1e99d89bc99e1438c2cb503899b622282b8d005"
    );

    #[test]
    fn json_round_trips_and_shapes() {
        let board = key(5);
        let receipt = receipt(&board);
        let head_json = serde_json::to_value(receipt.tree_head.head).unwrap();
        let keys: Vec<&str> = head_json
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(keys.len(), 4);
        for field in ["election", "size", "root", "timestamp"] {
            assert!(keys.contains(&field), "{field}");
        }
        assert_eq!(head_json["root"], hex::encode(tree().root()));
        assert_eq!(head_json["size"], 7);

        let head: TreeHead = serde_json::from_value(head_json).unwrap();
        assert_eq!(head, receipt.tree_head.head);
        let signed: SignedTreeHead =
            serde_json::from_str(&serde_json::to_string(&receipt.tree_head).unwrap()).unwrap();
        assert_eq!(signed, receipt.tree_head);
        let json = serde_json::to_value(&receipt).unwrap();
        assert_eq!(json["kind"], "cast");
        assert_eq!(json["index"], 3);
        assert_eq!(json["tracking_code"], receipt.tracking_code.to_string());
        assert_eq!(json["signature"], hex::encode(receipt.signature.to_bytes()));
        let back: Receipt = serde_json::from_value(json).unwrap();
        assert_eq!(back, receipt);
        back.verify(&board.public()).unwrap();

        // The board key is hex text too.
        let public = board.public();
        let text = serde_json::to_string(&public).unwrap();
        assert_eq!(text, format!("\"{public}\""));
        assert_eq!(serde_json::from_str::<BoardKey>(&text).unwrap(), public);
    }

    #[test]
    fn json_refuses_unknown_and_missing_fields() {
        let receipt = receipt(&key(6));
        let mut head = serde_json::to_value(receipt.tree_head.head).unwrap();
        head["extra"] = 1.into();
        assert!(serde_json::from_value::<TreeHead>(head).is_err());
        let mut head = serde_json::to_value(receipt.tree_head.head).unwrap();
        head.as_object_mut().unwrap().remove("timestamp");
        assert!(serde_json::from_value::<TreeHead>(head).is_err());

        let mut signed = serde_json::to_value(&receipt.tree_head).unwrap();
        signed["extra"] = 1.into();
        assert!(serde_json::from_value::<SignedTreeHead>(signed).is_err());
        let mut signed = serde_json::to_value(&receipt.tree_head).unwrap();
        signed["head"]["extra"] = 1.into();
        assert!(serde_json::from_value::<SignedTreeHead>(signed).is_err());

        let mut json = serde_json::to_value(&receipt).unwrap();
        json["extra"] = 1.into();
        assert!(serde_json::from_value::<Receipt>(json).is_err());
        let mut json = serde_json::to_value(&receipt).unwrap();
        json["tree_head"]["head"]["extra"] = 1.into();
        assert!(serde_json::from_value::<Receipt>(json).is_err());
        let mut json = serde_json::to_value(&receipt).unwrap();
        json.as_object_mut().unwrap().remove("kind");
        assert!(serde_json::from_value::<Receipt>(json).is_err());
    }

    #[test]
    fn entry_kinds_have_one_text_form() {
        for kind in [EntryKind::Cast, EntryKind::Spoiled] {
            assert_eq!(EntryKind::parse(kind.as_str()), Some(kind));
            assert_eq!(
                serde_json::to_string(&kind).unwrap(),
                format!("\"{}\"", kind.as_str())
            );
            assert_eq!(
                serde_json::from_str::<EntryKind>(&format!("\"{}\"", kind.as_str())).unwrap(),
                kind
            );
        }
        for bad in ["Cast", "CAST", "spoilt", "", " cast", "0"] {
            assert_eq!(EntryKind::parse(bad), None, "{bad}");
            assert!(serde_json::from_str::<EntryKind>(&format!("\"{bad}\"")).is_err());
        }
    }

    #[test]
    fn every_tree_head_field_change_breaks_verification() {
        let board = key(7);
        let public = board.public();
        let signed = board.sign_tree_head(head(&tree()));
        signed.verify(&public).unwrap();
        let changes: [Change<TreeHead>; 4] = [
            ("election", |h| h.election.0[31] ^= 1),
            ("size", |h| h.size += 1),
            ("root", |h| h.root[0] ^= 0x80),
            ("timestamp", |h| h.timestamp += 1),
        ];
        for (field, change) in changes {
            let mut changed = signed.clone();
            change(&mut changed.head);
            assert_eq!(
                changed.verify(&public),
                Err(BoardError::TreeHeadSignatureInvalid),
                "{field}"
            );
        }
        let changed = SignedTreeHead {
            signature: tampered(&signed.signature),
            ..signed
        };
        assert_eq!(
            changed.verify(&public),
            Err(BoardError::TreeHeadSignatureInvalid)
        );
    }

    #[test]
    fn every_receipt_field_change_breaks_verification() {
        let board = key(8);
        let public = board.public();
        let receipt = receipt(&board);
        receipt.verify(&public).unwrap();
        let receipt_changes: [Change<Receipt>; 4] = [
            ("tracking code", |r| r.tracking_code.0[0] ^= 1),
            ("index", |r| r.index -= 1),
            ("kind", |r| r.kind = EntryKind::Spoiled),
            ("receipt signature", |r| {
                r.signature = tampered(&r.signature)
            }),
        ];
        for (field, change) in receipt_changes {
            let mut changed = receipt.clone();
            change(&mut changed);
            assert_eq!(
                changed.verify(&public),
                Err(BoardError::ReceiptSignatureInvalid),
                "{field}"
            );
        }
        let head_changes: [Change<SignedTreeHead>; 5] = [
            ("election", |t| t.head.election.0[0] ^= 1),
            ("size", |t| t.head.size += 1),
            ("root", |t| t.head.root[31] ^= 1),
            ("timestamp", |t| t.head.timestamp -= 1),
            ("head signature", |t| t.signature = tampered(&t.signature)),
        ];
        for (field, change) in head_changes {
            let mut changed = receipt.clone();
            change(&mut changed.tree_head);
            assert_eq!(
                changed.verify(&public),
                Err(BoardError::TreeHeadSignatureInvalid),
                "{field}"
            );
            // With the changed head signed again by the board, the receipt signature still
            // covers the original head.
            if field != "head signature" {
                changed.tree_head = board.sign_tree_head(changed.tree_head.head);
                changed.tree_head.verify(&public).unwrap();
                assert_eq!(
                    changed.verify(&public),
                    Err(BoardError::ReceiptSignatureInvalid),
                    "{field} re-signed"
                );
            }
        }
    }

    #[test]
    fn another_board_key_refuses_the_receipt() {
        let receipt = receipt(&key(9));
        let other = key(10).public();
        assert_eq!(
            receipt.tree_head.verify(&other),
            Err(BoardError::TreeHeadSignatureInvalid)
        );
        assert_eq!(
            receipt.verify(&other),
            Err(BoardError::TreeHeadSignatureInvalid)
        );
        // Even with a head the other board signed, the receipt signature is the first board's.
        let mut mixed = receipt.clone();
        let other_board = key(10);
        mixed.tree_head = other_board.sign_tree_head(receipt.tree_head.head);
        assert_eq!(
            mixed.verify(&other_board.public()),
            Err(BoardError::ReceiptSignatureInvalid)
        );
    }

    #[test]
    fn index_outside_the_tree_is_refused() {
        let board = key(11);
        let public = board.public();
        let tree = tree();
        let signed = board.sign_tree_head(head(&tree));
        let code = TrackingCode(tree.leaf(6).unwrap());
        for index in [7, 8, u64::MAX] {
            let receipt = board.sign_receipt(code, index, EntryKind::Cast, signed.clone());
            assert_eq!(
                receipt.verify(&public),
                Err(BoardError::IndexOutsideTree { index, size: 7 })
            );
        }
        let empty = board.sign_tree_head(head(&MerkleTree::new()));
        let receipt = board.sign_receipt(code, 0, EntryKind::Cast, empty);
        assert_eq!(
            receipt.verify(&public),
            Err(BoardError::IndexOutsideTree { index: 0, size: 0 })
        );
    }

    #[test]
    fn inclusion_is_verified_against_the_signed_root() {
        let board = key(12);
        let public = board.public();
        let tree = tree();
        let signed = board.sign_tree_head(head(&tree));
        for index in 0..tree.len() {
            let code = TrackingCode(tree.leaf(index).unwrap());
            let receipt = board.sign_receipt(code, index, EntryKind::Cast, signed.clone());
            let proof = tree.inclusion_proof(index, tree.len()).unwrap();
            receipt.verify_inclusion(&public, &proof).unwrap();

            // Another leaf's proof: its position differs from the receipt's.
            let other = (index + 1) % tree.len();
            let wrong = tree.inclusion_proof(other, tree.len()).unwrap();
            assert_eq!(
                receipt.verify_inclusion(&public, &wrong),
                Err(BoardError::Inclusion(MerkleError::ProofIndexMismatch {
                    expected: index,
                    found: other,
                }))
            );
            // A receipt for a wrong index (validly signed) fails against either proof.
            let misplaced = board.sign_receipt(code, other, EntryKind::Cast, signed.clone());
            assert!(matches!(
                misplaced.verify_inclusion(&public, &proof),
                Err(BoardError::Inclusion(
                    MerkleError::ProofIndexMismatch { .. }
                ))
            ));
            assert_eq!(
                misplaced.verify_inclusion(&public, &wrong),
                Err(BoardError::Inclusion(MerkleError::RootMismatch))
            );
            // A proof for a smaller tree, and a path with a flipped bit.
            if index < tree.len() - 1 {
                let smaller = tree.inclusion_proof(index, tree.len() - 1).unwrap();
                assert!(matches!(
                    receipt.verify_inclusion(&public, &smaller),
                    Err(BoardError::Inclusion(
                        MerkleError::ProofTreeSizeMismatch { .. }
                    ))
                ));
            }
            let mut flipped = proof.clone();
            flipped.path[0][0] ^= 1;
            assert_eq!(
                receipt.verify_inclusion(&public, &flipped),
                Err(BoardError::Inclusion(MerkleError::RootMismatch))
            );
            let mut short = proof.clone();
            short.path.pop();
            assert!(matches!(
                receipt.verify_inclusion(&public, &short),
                Err(BoardError::Inclusion(MerkleError::WrongProofLength { .. }))
            ));
            // Another tracking code at the right position.
            let forged = board.sign_receipt(
                TrackingCode(leaf_hash(b"not on the board")),
                index,
                EntryKind::Cast,
                signed.clone(),
            );
            assert_eq!(
                forged.verify_inclusion(&public, &proof),
                Err(BoardError::Inclusion(MerkleError::RootMismatch))
            );
        }
        // The signatures are checked before the proof.
        let code = TrackingCode(tree.leaf(0).unwrap());
        let receipt = board.sign_receipt(code, 0, EntryKind::Cast, signed);
        let proof = tree.inclusion_proof(0, tree.len()).unwrap();
        assert_eq!(
            receipt.verify_inclusion(&key(13).public(), &proof),
            Err(BoardError::TreeHeadSignatureInvalid)
        );
    }

    /// The 8 small-order points: multiples of an order-8 point.
    fn small_order_points() -> Vec<EdwardsPoint> {
        let order_8: [u8; 32] =
            hex::decode("26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05")
                .unwrap()
                .try_into()
                .unwrap();
        let order_8 = CompressedEdwardsY(order_8).decompress().unwrap();
        (0..8u8).map(|k| order_8 * Scalar::from(k)).collect()
    }

    #[test]
    fn board_keys_decode_strictly() {
        let public = key(14).public();
        assert_eq!(BoardKey::from_bytes(&public.to_bytes()), Ok(public));
        for len in [0, 31, 33, 64] {
            assert_eq!(
                BoardKey::from_bytes(&vec![9; len]),
                Err(BoardError::Encoding(EncodingError::WrongLength {
                    what: "board key",
                    expected: 32,
                    found: len,
                }))
            );
        }
        for point in small_order_points() {
            assert!(point.is_small_order());
            assert_eq!(
                BoardKey::from_bytes(point.compress().as_bytes()),
                Err(BoardError::InvalidKey)
            );
        }
        // Non-canonical encodings: x = 0 with the sign bit set, and y = p + 1.
        let mut negative_zero = [0u8; 32];
        negative_zero[0] = 1;
        negative_zero[31] = 0x80;
        let y_over_p =
            hex::decode("eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f")
                .unwrap();
        // A y with no point on the curve.
        let not_on_curve = (2u8..)
            .map(|y| {
                let mut b = [0u8; 32];
                b[0] = y;
                b
            })
            .find(|b| CompressedEdwardsY(*b).decompress().is_none())
            .unwrap();
        for bad in [&negative_zero[..], &y_over_p, &not_on_curve] {
            assert_eq!(BoardKey::from_bytes(bad), Err(BoardError::InvalidKey));
        }
        // Text: lowercase hex of exactly 32 bytes.
        let text = public.to_string();
        for bad in [
            text.to_uppercase(),
            text[..62].to_string(),
            format!("{text}00"),
            format!("0x{text}"),
            format!("{}zz", &text[..62]),
        ] {
            assert!(
                serde_json::from_str::<BoardKey>(&format!("\"{bad}\"")).is_err(),
                "{bad}"
            );
        }
        let weak = hex::encode(small_order_points()[1].compress().as_bytes());
        assert!(serde_json::from_str::<BoardKey>(&format!("\"{weak}\"")).is_err());
    }

    #[test]
    fn board_signatures_decode_strictly() {
        let receipt = receipt(&key(15));
        let bytes = receipt.signature.to_bytes();
        assert_eq!(BoardSignature::from_bytes(&bytes), Ok(receipt.signature));
        for len in [0, 63, 65, 128] {
            assert_eq!(
                BoardSignature::from_bytes(&vec![1; len]),
                Err(BoardError::Encoding(EncodingError::WrongLength {
                    what: "board signature",
                    expected: 64,
                    found: len,
                }))
            );
        }
        // s + ℓ: the same signature with an unreduced s.
        let ell = hex::decode("edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010")
            .unwrap();
        let mut unreduced = bytes;
        let mut carry = 0u16;
        for i in 0..32 {
            let sum = u16::from(bytes[32 + i]) + u16::from(ell[i]) + carry;
            unreduced[32 + i] = sum as u8;
            carry = sum >> 8;
        }
        assert_eq!(
            BoardSignature::from_bytes(&unreduced),
            Err(BoardError::Encoding(EncodingError::NonCanonicalScalar {
                what: "board signature s"
            }))
        );
        // R non-canonical or of small order: decodes, never verifies.
        let public = key(15).public();
        let mut non_canonical = bytes;
        non_canonical[..32].fill(0);
        non_canonical[0] = 1;
        non_canonical[31] = 0x80;
        let mut candidates = vec![non_canonical];
        for t in small_order_points() {
            let mut small = bytes;
            small[..32].copy_from_slice(t.compress().as_bytes());
            candidates.push(small);
        }
        for candidate in candidates {
            let forged = Receipt {
                signature: BoardSignature::from_bytes(&candidate).unwrap(),
                ..receipt.clone()
            };
            assert_eq!(
                forged.verify(&public),
                Err(BoardError::ReceiptSignatureInvalid)
            );
        }
        // Text: lowercase hex of exactly 64 bytes.
        let text = hex::encode(bytes);
        for bad in [
            text.to_uppercase(),
            text[..126].to_string(),
            format!("{text}00"),
            format!("{}gg", &text[..126]),
            hex::encode(unreduced),
        ] {
            assert!(
                serde_json::from_str::<BoardSignature>(&format!("\"{bad}\"")).is_err(),
                "{bad}"
            );
        }
        // The root of a tree head: 64 lowercase hex digits.
        let head = serde_json::to_value(receipt.tree_head.head).unwrap();
        let root = head["root"].as_str().unwrap().to_string();
        for bad in [
            root.to_uppercase(),
            root[..62].to_string(),
            format!("{root}00"),
        ] {
            let mut changed = head.clone();
            changed["root"] = bad.clone().into();
            assert!(
                serde_json::from_value::<TreeHead>(changed).is_err(),
                "{bad}"
            );
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn any_tree_head_round_trips_through_json_and_verifies(
            election in any::<[u8; 32]>(),
            size in any::<u64>(),
            root in any::<[u8; 32]>(),
            timestamp in any::<u64>(),
            seed in any::<[u8; 32]>(),
        ) {
            let board = BoardSigningKey::from_bytes(&seed).unwrap();
            let head = TreeHead { election: ElectionId(election), size, root, timestamp };
            let signed = board.sign_tree_head(head);
            let json = serde_json::to_string(&signed).unwrap();
            let back: SignedTreeHead = serde_json::from_str(&json).unwrap();
            prop_assert_eq!(&back, &signed);
            prop_assert_eq!(back.verify(&board.public()), Ok(()));
            let head_back: TreeHead =
                serde_json::from_str(&serde_json::to_string(&head).unwrap()).unwrap();
            prop_assert_eq!(head_back, head);
        }
    }
}
