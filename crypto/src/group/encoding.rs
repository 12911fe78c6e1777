//! Canonical fixed-width encodings of Ristretto points and scalars (spec/crypto.md §2).
//!
//! The canonical byte encoding is the truth: every decoder here is strict. A point must be the
//! 32-byte canonical Ristretto encoding (RFC 9496 §4.3.1), a scalar the 32-byte little-endian
//! canonical representative (< ℓ), and a reader refuses trailing data.

use curve25519_dalek::ristretto::{CompressedRistretto, RistrettoPoint};
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::IsIdentity;

/// Why bytes were refused as an encoding. Every decoder in the crate reports one of these.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EncodingError {
    /// The input has the wrong number of bytes.
    #[error("{what}: expected {expected} bytes, found {found}")]
    WrongLength {
        /// What was being decoded.
        what: &'static str,
        /// The length the encoding requires.
        expected: usize,
        /// The length given.
        found: usize,
    },
    /// 32 bytes that are not the canonical encoding of a Ristretto point.
    #[error("{what}: not a canonical Ristretto255 point encoding")]
    NonCanonicalPoint {
        /// What was being decoded.
        what: &'static str,
    },
    /// The identity point, where the protocol forbids it.
    #[error("{what}: the identity point is not allowed here")]
    IdentityPoint {
        /// What was being decoded.
        what: &'static str,
    },
    /// 32 bytes that are not a reduced scalar (the value is ≥ ℓ).
    #[error("{what}: not a canonical scalar (value is not below the group order)")]
    NonCanonicalScalar {
        /// What was being decoded.
        what: &'static str,
    },
    /// Bytes left over after a complete value.
    #[error("{what}: {count} unexpected trailing bytes")]
    TrailingData {
        /// What was being decoded.
        what: &'static str,
        /// How many bytes were left.
        count: usize,
    },
    /// Text that is not valid lowercase/uppercase hexadecimal.
    #[error("{what}: invalid hexadecimal text")]
    InvalidHex {
        /// What was being decoded.
        what: &'static str,
    },
    /// Text that is not valid standard base64 (with padding).
    #[error("{what}: invalid base64 text")]
    InvalidBase64 {
        /// What was being decoded.
        what: &'static str,
    },
    /// A tag or version byte with a value this implementation does not know.
    #[error("{what}: unknown value {value}")]
    UnknownTag {
        /// What was being decoded.
        what: &'static str,
        /// The value found.
        value: u64,
    },
}

/// Decodes a canonical Ristretto point; the identity is allowed.
pub fn decode_point(what: &'static str, bytes: &[u8]) -> Result<RistrettoPoint, EncodingError> {
    let compressed = compressed_from_slice(what, bytes)?;
    compressed
        .decompress()
        .ok_or(EncodingError::NonCanonicalPoint { what })
}

/// Decodes a canonical Ristretto point and refuses the identity.
pub fn decode_point_nonidentity(
    what: &'static str,
    bytes: &[u8],
) -> Result<RistrettoPoint, EncodingError> {
    let point = decode_point(what, bytes)?;
    if point.is_identity() {
        return Err(EncodingError::IdentityPoint { what });
    }
    Ok(point)
}

/// Decodes a canonical scalar (32 bytes, little endian, below ℓ).
pub fn decode_scalar(what: &'static str, bytes: &[u8]) -> Result<Scalar, EncodingError> {
    let array: [u8; 32] = fixed(what, bytes)?;
    Option::from(Scalar::from_canonical_bytes(array))
        .ok_or(EncodingError::NonCanonicalScalar { what })
}

fn compressed_from_slice(
    what: &'static str,
    bytes: &[u8],
) -> Result<CompressedRistretto, EncodingError> {
    Ok(CompressedRistretto(fixed(what, bytes)?))
}

/// Copies exactly `N` bytes, or reports the length mismatch.
pub fn fixed<const N: usize>(what: &'static str, bytes: &[u8]) -> Result<[u8; N], EncodingError> {
    bytes.try_into().map_err(|_| EncodingError::WrongLength {
        what,
        expected: N,
        found: bytes.len(),
    })
}

/// A point together with the exact bytes it was decoded from (or compressed to).
///
/// Verifiers append the received bytes to transcripts and use the point in arithmetic, so nothing
/// is compressed twice and the transcript sees exactly what was on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Element {
    pub(crate) point: RistrettoPoint,
    pub(crate) bytes: CompressedRistretto,
}

impl Element {
    /// Wraps a point, compressing it once.
    pub fn new(point: RistrettoPoint) -> Self {
        Self {
            point,
            bytes: point.compress(),
        }
    }

    /// The group element.
    pub fn point(&self) -> &RistrettoPoint {
        &self.point
    }

    /// Its canonical 32-byte encoding.
    pub fn to_bytes(&self) -> [u8; 32] {
        self.bytes.0
    }

    /// Its canonical encoding, borrowed.
    pub fn as_bytes(&self) -> &[u8; 32] {
        self.bytes.as_bytes()
    }

    /// Decodes a canonical point; the identity is allowed.
    pub fn from_bytes(what: &'static str, bytes: &[u8]) -> Result<Self, EncodingError> {
        let bytes = compressed_from_slice(what, bytes)?;
        let point = bytes
            .decompress()
            .ok_or(EncodingError::NonCanonicalPoint { what })?;
        Ok(Self { point, bytes })
    }

    /// Decodes a canonical point and refuses the identity.
    pub fn from_bytes_nonidentity(what: &'static str, bytes: &[u8]) -> Result<Self, EncodingError> {
        let element = Self::from_bytes(what, bytes)?;
        if element.point.is_identity() {
            return Err(EncodingError::IdentityPoint { what });
        }
        Ok(element)
    }

    /// Whether this is the identity element.
    pub fn is_identity(&self) -> bool {
        self.point.is_identity()
    }
}

impl From<RistrettoPoint> for Element {
    fn from(point: RistrettoPoint) -> Self {
        Self::new(point)
    }
}

/// A strict sequential reader over a canonical encoding.
pub(crate) struct Reader<'a> {
    what: &'static str,
    bytes: &'a [u8],
}

impl<'a> Reader<'a> {
    pub(crate) fn new(what: &'static str, bytes: &'a [u8]) -> Self {
        Self { what, bytes }
    }

    /// Takes the next `n` bytes, or reports that the input is too short.
    pub(crate) fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], EncodingError> {
        if self.bytes.len() < n {
            return Err(EncodingError::WrongLength {
                what,
                expected: n,
                found: self.bytes.len(),
            });
        }
        let (head, rest) = self.bytes.split_at(n);
        self.bytes = rest;
        Ok(head)
    }

    pub(crate) fn array<const N: usize>(
        &mut self,
        what: &'static str,
    ) -> Result<[u8; N], EncodingError> {
        fixed(what, self.take(N, what)?)
    }

    pub(crate) fn u8(&mut self, what: &'static str) -> Result<u8, EncodingError> {
        Ok(self.array::<1>(what)?[0])
    }

    pub(crate) fn element(&mut self, what: &'static str) -> Result<Element, EncodingError> {
        Element::from_bytes(what, self.take(32, what)?)
    }

    pub(crate) fn element_nonidentity(
        &mut self,
        what: &'static str,
    ) -> Result<Element, EncodingError> {
        Element::from_bytes_nonidentity(what, self.take(32, what)?)
    }

    pub(crate) fn scalar(&mut self, what: &'static str) -> Result<Scalar, EncodingError> {
        decode_scalar(what, self.take(32, what)?)
    }

    /// Succeeds only if every byte was consumed.
    pub(crate) fn finish(self) -> Result<(), EncodingError> {
        if self.bytes.is_empty() {
            Ok(())
        } else {
            Err(EncodingError::TrailingData {
                what: self.what,
                count: self.bytes.len(),
            })
        }
    }
}

/// Hex and base64 text forms of fixed-width byte strings, used by every serde implementation in
/// the crate. Decoding is strict: exact length, no whitespace.
pub mod text {
    use super::{fixed, EncodingError};
    use base64::Engine as _;

    /// Lowercase hexadecimal.
    pub fn to_hex(bytes: &[u8]) -> String {
        hex::encode(bytes)
    }

    /// Decodes canonical hexadecimal text: lowercase digits only, an even number of them.
    pub fn from_hex_vec(what: &'static str, s: &str) -> Result<Vec<u8>, EncodingError> {
        let canonical = s.len().is_multiple_of(2)
            && s.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        if !canonical {
            return Err(EncodingError::InvalidHex { what });
        }
        hex::decode(s).map_err(|_| EncodingError::InvalidHex { what })
    }

    /// Decodes canonical hexadecimal text of exactly `N` bytes.
    pub fn from_hex<const N: usize>(what: &'static str, s: &str) -> Result<[u8; N], EncodingError> {
        fixed(what, &from_hex_vec(what, s)?)
    }

    /// Standard base64 with padding.
    pub fn to_base64(bytes: &[u8]) -> String {
        base64::engine::general_purpose::STANDARD.encode(bytes)
    }

    /// Decodes standard, padded, canonical base64 of any length.
    pub fn from_base64(what: &'static str, s: &str) -> Result<Vec<u8>, EncodingError> {
        base64::engine::general_purpose::STANDARD
            .decode(s)
            .map_err(|_| EncodingError::InvalidBase64 { what })
    }
}

/// `#[serde(with = "…")]`: 32 bytes (a digest, a key) as exactly 64 lowercase hex digits.
pub(crate) mod hex32 {
    use super::text;

    pub(crate) fn serialize<S: serde::Serializer>(v: &[u8; 32], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&text::to_hex(v))
    }

    pub(crate) fn deserialize<'de, D: serde::Deserializer<'de>>(
        d: D,
    ) -> Result<[u8; 32], D::Error> {
        let s: std::borrow::Cow<'de, str> = serde::Deserialize::deserialize(d)?;
        text::from_hex("digest", &s).map_err(serde::de::Error::custom)
    }
}

/// `#[serde(with = "…")]` helpers for [`Element`] as lowercase hex. Decoding is strict and
/// refuses the identity: every point the protocol exchanges in JSON messages is a key, a
/// commitment or a share, none of which may be the identity.
pub mod serde_element {
    use super::{text, Element};

    /// Serializes an element as lowercase hex.
    pub fn serialize<S: serde::Serializer>(e: &Element, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&text::to_hex(e.as_bytes()))
    }

    /// Deserializes a canonical, non-identity element from lowercase hex.
    pub fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Element, D::Error> {
        let s = <std::borrow::Cow<'de, str> as serde::Deserialize>::deserialize(d)?;
        let bytes =
            text::from_hex_vec("group element", s.as_ref()).map_err(serde::de::Error::custom)?;
        Element::from_bytes_nonidentity("group element", &bytes).map_err(serde::de::Error::custom)
    }

    /// The same for a list of elements.
    pub mod list {
        use super::super::Element;

        #[derive(serde::Serialize, serde::Deserialize)]
        struct Hex(#[serde(with = "super")] Element);

        /// Serializes a list of elements as lowercase hex strings.
        pub fn serialize<S: serde::Serializer>(v: &[Element], s: S) -> Result<S::Ok, S::Error> {
            s.collect_seq(v.iter().map(|e| Hex(*e)))
        }

        /// Deserializes a list of canonical, non-identity elements.
        pub fn deserialize<'de, D: serde::Deserializer<'de>>(
            d: D,
        ) -> Result<Vec<Element>, D::Error> {
            let v = <Vec<Hex> as serde::Deserialize>::deserialize(d)?;
            Ok(v.into_iter().map(|h| h.0).collect())
        }
    }
}

/// Implements `Serialize`/`Deserialize` as lowercase hex for a type with
/// `to_bytes() -> [u8; N]` and `from_bytes(&[u8]) -> Result<Self, EncodingError>`.
macro_rules! serde_hex {
    ($ty:ty, $what:literal) => {
        impl serde::Serialize for $ty {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&$crate::group::text::to_hex(&self.to_bytes()))
            }
        }
        impl<'de> serde::Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <std::borrow::Cow<'de, str> as serde::Deserialize>::deserialize(d)?;
                let bytes = $crate::group::text::from_hex_vec($what, s.as_ref())
                    .map_err(serde::de::Error::custom)?;
                <$ty>::from_bytes(&bytes).map_err(serde::de::Error::custom)
            }
        }
    };
}
pub(crate) use serde_hex;

#[cfg(test)]
mod tests {
    use super::*;
    use curve25519_dalek::constants::RISTRETTO_BASEPOINT_POINT;
    #[cfg(all(target_arch = "wasm32", target_os = "unknown"))]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn reader_refuses_trailing_and_short_input() {
        let g = RISTRETTO_BASEPOINT_POINT.compress().to_bytes();
        let mut long = g.to_vec();
        long.push(0);
        let mut r = Reader::new("test", &long);
        r.element("p").unwrap();
        assert!(matches!(
            r.finish(),
            Err(EncodingError::TrailingData { count: 1, .. })
        ));
        let mut r = Reader::new("test", &g[..31]);
        assert!(matches!(
            r.element("p"),
            Err(EncodingError::WrongLength {
                expected: 32,
                found: 31,
                ..
            })
        ));
    }

    #[test]
    fn scalar_at_group_order_is_rejected() {
        // ℓ = 2^252 + 27742317777372353535851937790883648493, little endian.
        let ell = hex::decode("edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010")
            .unwrap();
        assert_eq!(
            decode_scalar("s", &ell),
            Err(EncodingError::NonCanonicalScalar { what: "s" })
        );
        let mut below = ell.clone();
        below[0] -= 1;
        assert!(decode_scalar("s", &below).is_ok());
    }

    #[test]
    fn identity_is_refused_only_where_asked() {
        let zero = [0u8; 32];
        assert!(decode_point("p", &zero).is_ok());
        assert_eq!(
            decode_point_nonidentity("p", &zero),
            Err(EncodingError::IdentityPoint { what: "p" })
        );
    }

    #[test]
    fn base64_text_is_strict() {
        assert_eq!(
            text::from_base64("b", &text::to_base64(b"tabella")),
            Ok(b"tabella".to_vec())
        );
        // Missing padding, non-canonical trailing bits, characters outside the alphabet.
        for bad in [
            "dGFiZWxsYQ",
            "dGFiZWxsYR==",
            "dGFi ZWxsYQ==",
            "dGFi*WxsYQ==",
            "dGFiZWxsYQ===",
        ] {
            assert_eq!(
                text::from_base64("b", bad),
                Err(EncodingError::InvalidBase64 { what: "b" }),
                "{bad}"
            );
        }
    }

    #[test]
    fn hex_text_is_exact_length_and_lowercase() {
        assert!(text::from_hex::<2>("x", "abcd").is_ok());
        for bad in ["ABCD", "aBcd", "abc", "zzzz", "ab cd", "0xabcd"] {
            assert_eq!(
                text::from_hex::<2>("x", bad),
                Err(EncodingError::InvalidHex { what: "x" }),
                "{bad}"
            );
        }
        assert!(matches!(
            text::from_hex::<2>("x", "abcdef"),
            Err(EncodingError::WrongLength {
                expected: 2,
                found: 3,
                ..
            })
        ));
    }
}
