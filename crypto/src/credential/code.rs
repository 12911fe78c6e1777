//! The voter's credential code: 100 random bits as Crockford base32 with a mod-37 check symbol
//! (spec/credentials.md §2).

use core::fmt;
use core::str::FromStr;

use rand_core::{CryptoRng, RngCore};
use subtle::{ConditionallySelectable, ConstantTimeEq};
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use super::CredentialError;

/// Crockford's base32 alphabet: the symbol for value `v` is `DATA_SYMBOLS[v]`. No I, L, O or U.
pub const DATA_SYMBOLS: &str = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// Crockford's check alphabet: the 32 data symbols, then `*`, `~`, `$`, `=`, `U` for 32..=36.
pub const CHECK_SYMBOLS: &str = "0123456789ABCDEFGHJKMNPQRSTVWXYZ*~$=U";

/// Number of data characters (5 bits each: 100 bits).
pub const DATA_LENGTH: usize = 20;

/// Number of characters in a code, the check character included.
pub const CODE_LENGTH: usize = DATA_LENGTH + 1;

/// Characters per displayed group: `XXX-XXX-XXX-XXX-XXX-XXX-XXC`.
const GROUP: usize = 3;

/// Letters Crockford decodes as digits: I and L read as 1, O as 0.
const ALIASES: [(u8, u8); 3] = [(b'I', 1), (b'L', 1), (b'O', 0)];

/// A voter's credential code (spec/credentials.md §2).
///
/// # Layout
///
/// 21 characters: 20 Crockford base32 data characters (100 bits, the first character most
/// significant) and one check character, the 100-bit number modulo 37 written with
/// [`CHECK_SYMBOLS`]. Displayed in seven groups of three joined by hyphens:
/// `EPD-WP9-3QR-7P2-YEX-DJM-RZZ`.
///
/// The code is a secret: it is zeroized on drop, has no `Clone`, `Serialize` or derived `Debug`
/// (`Debug` prints `CredentialCode(..)`), and its text is reached through
/// [`expose_secret`](Self::expose_secret). `Display` prints the grouped form, for the one place it
/// is meant to go: in front of the voter. Anything formatted from it (a `String`) is not zeroized.
#[derive(Zeroize, ZeroizeOnDrop)]
pub struct CredentialCode {
    /// The canonical text: 21 ASCII characters from [`CHECK_SYMBOLS`], no separators.
    text: [u8; CODE_LENGTH],
}

impl CredentialCode {
    /// Draws a fresh code: 20 bytes from `rng`, each reduced to its low 5 bits (uniform, since 32
    /// divides 256), give the 20 data symbols; the check symbol follows.
    pub fn generate<R: RngCore + CryptoRng>(rng: &mut R) -> Self {
        let mut values = Zeroizing::new([0u8; CODE_LENGTH]);
        rng.fill_bytes(&mut values[..DATA_LENGTH]);
        for value in values[..DATA_LENGTH].iter_mut() {
            *value &= 31;
        }
        values[DATA_LENGTH] = check_value(&values[..DATA_LENGTH]);
        Self::from_values(&values)
    }

    /// Parses a code as a voter typed it (spec/credentials.md §2.2).
    ///
    /// Normalisation: whitespace and hyphens (ASCII `-` and the Unicode hyphens and dashes
    /// U+2010..=U+2015, U+2212) are ignored anywhere; letters are case-insensitive; `I` and `L` read
    /// as `1`, `O` as `0`. Then, in this order:
    /// - a character outside the alphabets is [`CredentialError::InvalidCharacter`];
    /// - a count other than 21 is [`CredentialError::WrongLength`];
    /// - a check-only symbol (`*~$=U`) among the first 20 is [`CredentialError::InvalidCharacter`];
    /// - a check character that does not match is [`CredentialError::ChecksumMismatch`].
    ///
    /// Symbols are decoded without secret-indexed table lookups.
    pub fn parse(text: &str) -> Result<Self, CredentialError> {
        let mut values = Zeroizing::new([0u8; CODE_LENGTH]);
        let mut count = 0usize;
        let mut misplaced: Option<(char, usize)> = None;
        for (position, ch) in text.chars().enumerate() {
            if is_separator(ch) {
                continue;
            }
            let value =
                decode_symbol(ch).ok_or(CredentialError::InvalidCharacter { ch, position })?;
            if let Some(slot) = values.get_mut(count) {
                *slot = value;
            }
            if count < DATA_LENGTH && value >= 32 && misplaced.is_none() {
                misplaced = Some((ch, position));
            }
            count += 1;
        }
        if count != CODE_LENGTH {
            return Err(CredentialError::WrongLength {
                expected: CODE_LENGTH,
                found: count,
            });
        }
        if let Some((ch, position)) = misplaced {
            return Err(CredentialError::InvalidCharacter { ch, position });
        }
        let expected = check_value(&values[..DATA_LENGTH]);
        if !bool::from(expected.ct_eq(&values[DATA_LENGTH])) {
            return Err(CredentialError::ChecksumMismatch);
        }
        Ok(Self::from_values(&values))
    }

    /// The canonical text: 21 characters, uppercase, no separators (for example
    /// `EPDWP93QR7P2YEXDJMRZZ`). Handle it as the secret it is.
    pub fn expose_secret(&self) -> &str {
        // Invariant: `text` holds only ASCII symbols from CHECK_SYMBOLS, so this never fails.
        core::str::from_utf8(&self.text).unwrap_or_default()
    }

    /// The 20 canonical data characters: the Argon2id password (spec/credentials.md §3).
    pub(crate) fn data_characters(&self) -> &[u8] {
        &self.text[..DATA_LENGTH]
    }

    /// Builds the canonical text from 21 symbol values (data < 32, check < 37).
    fn from_values(values: &[u8; CODE_LENGTH]) -> Self {
        let mut text = [0u8; CODE_LENGTH];
        for (out, value) in text.iter_mut().zip(values.iter()) {
            *out = encode_symbol(*value);
        }
        Self { text }
    }
}

/// Crockford's check value: the big-endian base-32 number of `data`, modulo 37.
///
/// Since 37 is prime and 32 is a unit modulo 37, changing one symbol by `d` (0 < |d| < 32)
/// changes the value by `d·32^k ≢ 0`, and swapping adjacent symbols `a`, `b` changes it by
/// `(a−b)·31·32^k ≢ 0`: every single substitution and adjacent transposition of data symbols is
/// caught. Swapping the last data symbol `d` with the check symbol `c` is caught too: it would
/// need `2c ≡ 2d (mod 37)`, that is `c = d`.
fn check_value(data: &[u8]) -> u8 {
    // Division by a constant compiles to a multiply and shift: no data-dependent timing.
    let mut acc: u32 = 0;
    for value in data {
        acc = (acc * 32 + u32::from(*value)) % 37;
    }
    // acc < 37, so the cast is exact.
    acc as u8
}

/// Whether a character is a separator that parsing ignores.
fn is_separator(ch: char) -> bool {
    ch.is_whitespace() || ch == '-' || ('\u{2010}'..='\u{2015}').contains(&ch) || ch == '\u{2212}'
}

/// The value (0..=36) of a symbol after case folding and Crockford's aliases, or `None`.
///
/// Compares against every symbol instead of indexing a table by the (secret) character.
fn decode_symbol(ch: char) -> Option<u8> {
    if !ch.is_ascii() {
        return None;
    }
    // The ASCII check above makes this cast exact.
    let byte = (ch as u8).to_ascii_uppercase();
    let mut value = 0u8;
    let mut found = subtle::Choice::from(0);
    for (candidate, symbol) in (0u8..).zip(CHECK_SYMBOLS.bytes()) {
        let hit = byte.ct_eq(&symbol);
        value.conditional_assign(&candidate, hit);
        found |= hit;
    }
    for (symbol, candidate) in ALIASES {
        let hit = byte.ct_eq(&symbol);
        value.conditional_assign(&candidate, hit);
        found |= hit;
    }
    bool::from(found).then_some(value)
}

/// The symbol for a value below 37, selected without indexing by the value.
fn encode_symbol(value: u8) -> u8 {
    let mut out = 0u8;
    for (candidate, symbol) in (0u8..).zip(CHECK_SYMBOLS.bytes()) {
        out.conditional_assign(&symbol, value.ct_eq(&candidate));
    }
    out
}

impl FromStr for CredentialCode {
    type Err = CredentialError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

/// The grouped form `XXX-XXX-XXX-XXX-XXX-XXX-XXC`, for showing to the voter. The resulting text
/// is as secret as the code and is not zeroized by this crate.
impl fmt::Display for CredentialCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, byte) in self.text.iter().enumerate() {
            if i > 0 && i % GROUP == 0 {
                fmt::Write::write_char(f, '-')?;
            }
            fmt::Write::write_char(f, char::from(*byte))?;
        }
        Ok(())
    }
}

impl fmt::Debug for CredentialCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CredentialCode(..)")
    }
}

impl ConstantTimeEq for CredentialCode {
    fn ct_eq(&self, other: &Self) -> subtle::Choice {
        self.text.ct_eq(&other.text)
    }
}

/// Constant-time comparison of the canonical texts.
impl PartialEq for CredentialCode {
    fn eq(&self, other: &Self) -> bool {
        self.ct_eq(other).into()
    }
}

impl Eq for CredentialCode {}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(all(target_arch = "wasm32", target_os = "unknown"))]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn symbols_round_trip_through_constant_time_coding() {
        for (value, symbol) in (0u8..).zip(CHECK_SYMBOLS.chars()) {
            assert_eq!(char::from(encode_symbol(value)), symbol);
            assert_eq!(decode_symbol(symbol), Some(value));
            assert_eq!(decode_symbol(symbol.to_ascii_lowercase()), Some(value));
        }
        assert_eq!(decode_symbol('o'), Some(0));
        assert_eq!(decode_symbol('i'), Some(1));
        assert_eq!(decode_symbol('L'), Some(1));
        assert_eq!(decode_symbol('!'), None);
        assert_eq!(decode_symbol('é'), None);
    }

    #[test]
    fn check_value_matches_big_integer_remainder() {
        let data: Vec<u8> = (0..DATA_LENGTH as u8).map(|i| (i * 7 + 3) % 32).collect();
        let number = data.iter().fold(0u128, |acc, v| acc * 32 + u128::from(*v));
        assert_eq!(u128::from(check_value(&data)), number % 37);
    }
}
