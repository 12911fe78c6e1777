//! Credential codes, key derivation and signatures (spec/credentials.md).
//!
//! Test names mention the spec requirement ids (CRED-…) they check.

// Test helpers outside `#[test]` functions unwrap too: a panic is a test failure.
#![allow(clippy::unwrap_used)]

use argon2::{Algorithm, Argon2, Params, Version};
use curve25519_dalek::constants::ED25519_BASEPOINT_POINT;
use curve25519_dalek::edwards::{CompressedEdwardsY, EdwardsPoint};
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::IsIdentity;
use ed25519_dalek::{Signature, SigningKey, VerifyingKey};
use proptest::prelude::*;
use rand_chacha::rand_core::{RngCore, SeedableRng};
use rand_chacha::ChaCha20Rng;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256, Sha512};
use tabella_crypto::credential::{
    signature_input, CredentialCode, CredentialError, CredentialKey, CredentialSecret,
    CredentialSignature, ARGON2_M_COST_KIB, ARGON2_P_COST, ARGON2_T_COST, CHECK_SYMBOLS,
    CODE_LENGTH, DATA_LENGTH, DATA_SYMBOLS, SALT_DOMAIN, SIGNATURE_DOMAIN,
};
use tabella_crypto::group::EncodingError;

// These tests also run in headless Chromium (`cargo xtask test`, step browser-crypto), where
// wasm-bindgen-test's attribute stands in for `#[test]`, inside `proptest!` too.
#[cfg(all(target_arch = "wasm32", target_os = "unknown"))]
use wasm_bindgen_test::wasm_bindgen_test as test;
#[cfg(all(target_arch = "wasm32", target_os = "unknown"))]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

/// Where `generate_credential_vectors` writes the vectors.
#[cfg(not(target_arch = "wasm32"))]
const VECTORS_PATH: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../spec/vectors/credentials.json"
);
/// The stored vectors, embedded so that the tests read the same bytes natively and in the browser.
const STORED_VECTORS: &str = include_str!("../../spec/vectors/credentials.json");

/// Known answer (spec/credentials.md §6), also the first entry of spec/vectors/credentials.json.
const KNOWN_CODE: &str = "EPD-WP9-3QR-7P2-YEX-DJM-RZZ";
const KNOWN_ELECTION_ID: &str = "9a7ff2da29605747b4e4ec555f4098410e9bed7203c343d336899a543652b1e7";
const KNOWN_PUBLIC_KEY: &str = "48a05bb5b61957a1e936094671efbfde3309be3955e69eeff20ed1f4334ba573";

fn rng(seed: u8) -> ChaCha20Rng {
    ChaCha20Rng::from_seed([seed; 32])
}

fn election_id(byte: u8) -> [u8; 32] {
    [byte; 32]
}

fn code_of(text: &str) -> CredentialCode {
    CredentialCode::parse(text).unwrap()
}

/// The canonical text with one character replaced.
fn substitute(canonical: &str, position: usize, symbol: char) -> String {
    canonical
        .chars()
        .enumerate()
        .map(|(i, c)| if i == position { symbol } else { c })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Codes (CRED-CODE)

#[test]
fn code_round_trips_through_display_and_parse_cred_code_1() {
    let mut rng = rng(1);
    for _ in 0..200 {
        let code = CredentialCode::generate(&mut rng);
        let shown = code.to_string();
        assert_eq!(
            shown.len(),
            CODE_LENGTH + 6,
            "seven groups of three: {shown}"
        );
        let groups: Vec<&str> = shown.split('-').collect();
        assert_eq!(groups.len(), 7);
        assert!(groups.iter().all(|g| g.len() == 3));
        assert!(shown[..shown.len() - 1]
            .chars()
            .all(|c| c == '-' || DATA_SYMBOLS.contains(c)));
        assert!(CHECK_SYMBOLS.contains(shown.chars().last().unwrap()));
        let parsed: CredentialCode = shown.parse().unwrap();
        assert_eq!(parsed, code);
        assert_eq!(parsed.expose_secret(), code.expose_secret());
        assert_eq!(parsed.expose_secret(), shown.replace('-', ""));
        assert_eq!(CredentialCode::parse(code.expose_secret()).unwrap(), code);
    }
}

#[test]
fn generated_codes_use_every_data_symbol_and_differ() {
    let mut rng = rng(2);
    let mut seen = std::collections::HashSet::new();
    let mut codes = std::collections::HashSet::new();
    for _ in 0..500 {
        let code = CredentialCode::generate(&mut rng);
        seen.extend(code.expose_secret()[..DATA_LENGTH].chars());
        codes.insert(code.expose_secret().to_owned());
    }
    assert_eq!(seen.len(), 32);
    assert_eq!(codes.len(), 500);
}

#[test]
fn parse_normalises_case_aliases_and_separators_cred_code_2() {
    // Pick a code whose data contains 0 and 1 so the aliases matter.
    let mut rng = rng(3);
    let code = loop {
        let code = CredentialCode::generate(&mut rng);
        let data = &code.expose_secret()[..DATA_LENGTH];
        if data.contains('0') && data.contains('1') {
            break code;
        }
    };
    let canonical = code.expose_secret().to_owned();
    let variants = [
        canonical.to_lowercase(),
        canonical.replace('0', "O"),
        canonical.replace('0', "o"),
        canonical.replace('1', "I"),
        canonical.replace('1', "i"),
        canonical.replace('1', "L"),
        canonical.replace('1', "l"),
        code.to_string().to_lowercase(),
        code.to_string().replace('-', " "),
        format!("  {}  ", code.to_string().replace('-', " - ")),
        code.to_string().replace('-', "\u{2010}"),
        canonical.chars().flat_map(|c| [c, ' ']).collect(),
        format!("{}\t{}\n", &canonical[..10], &canonical[10..]),
    ];
    for typed in variants {
        let parsed = CredentialCode::parse(&typed).unwrap_or_else(|e| panic!("{typed:?}: {e}"));
        assert_eq!(parsed.expose_secret(), canonical, "{typed:?}");
    }
}

#[test]
fn check_character_catches_every_single_substitution_cred_code_3() {
    let mut rng = rng(4);
    let (mut tried, mut caught) = (0u64, 0u64);
    for _ in 0..300 {
        let code = CredentialCode::generate(&mut rng);
        let canonical = code.expose_secret();
        for (position, original) in canonical.chars().enumerate() {
            let alphabet = if position < DATA_LENGTH {
                DATA_SYMBOLS
            } else {
                CHECK_SYMBOLS
            };
            for symbol in alphabet.chars().filter(|s| *s != original) {
                let typo = substitute(canonical, position, symbol);
                tried += 1;
                match CredentialCode::parse(&typo) {
                    Err(CredentialError::ChecksumMismatch) => caught += 1,
                    other => panic!("substitution {typo} of {canonical} gave {other:?}"),
                }
            }
        }
    }
    // 20 data positions × 31 other symbols + 36 other check symbols, per code.
    assert_eq!(tried, 300 * (20 * 31 + 36));
    println!(
        "single substitutions caught: {caught}/{tried} ({:.2}%)",
        100.0 * caught as f64 / tried as f64
    );
    assert_eq!(caught, tried);
}

#[test]
fn check_character_catches_every_adjacent_transposition_cred_code_3() {
    let mut rng = rng(5);
    let (mut tried, mut caught) = (0u64, 0u64);
    let (mut tried_last, mut caught_last) = (0u64, 0u64);
    for _ in 0..2000 {
        let code = CredentialCode::generate(&mut rng);
        let chars: Vec<char> = code.expose_secret().chars().collect();
        for i in 0..CODE_LENGTH - 1 {
            if chars[i] == chars[i + 1] {
                continue;
            }
            let mut swapped = chars.clone();
            swapped.swap(i, i + 1);
            let typo: String = swapped.into_iter().collect();
            let rejected = CredentialCode::parse(&typo).is_err();
            if i + 1 < DATA_LENGTH {
                tried += 1;
                caught += u64::from(rejected);
            } else {
                tried_last += 1;
                caught_last += u64::from(rejected);
            }
        }
    }
    println!("adjacent data transpositions caught: {caught}/{tried}");
    println!("last data character swapped with the check character: {caught_last}/{tried_last}");
    assert_eq!(caught, tried);
    // Also guaranteed: with c ≡ 32·P + d, the swap is accepted only if 2c ≡ 2d (mod 37), i.e. c = d.
    assert_eq!(caught_last, tried_last);
}

#[test]
fn wrong_length_is_refused_with_counts_cred_code_4() {
    let code = CredentialCode::generate(&mut rng(6));
    let canonical = code.expose_secret();
    assert_eq!(
        CredentialCode::parse(&canonical[..CODE_LENGTH - 1]),
        Err(CredentialError::WrongLength {
            expected: 21,
            found: 20
        })
    );
    assert_eq!(
        CredentialCode::parse(&format!("{canonical}0")),
        Err(CredentialError::WrongLength {
            expected: 21,
            found: 22
        })
    );
    assert_eq!(
        CredentialCode::parse(""),
        Err(CredentialError::WrongLength {
            expected: 21,
            found: 0
        })
    );
    assert_eq!(
        CredentialCode::parse(" - - "),
        Err(CredentialError::WrongLength {
            expected: 21,
            found: 0
        })
    );
}

#[test]
fn invalid_characters_are_named_with_their_position_cred_code_5() {
    let code = CredentialCode::generate(&mut rng(7));
    let shown = code.to_string();
    // '!' typed in place of the fifth character as shown (index 5, after "XXX-X").
    let typo = substitute(&shown, 5, '!');
    assert_eq!(
        CredentialCode::parse(&typo),
        Err(CredentialError::InvalidCharacter {
            ch: '!',
            position: 5
        })
    );
    // Non-ASCII letters are refused, not folded.
    let typo = substitute(&shown, 0, 'É');
    assert_eq!(
        CredentialCode::parse(&typo),
        Err(CredentialError::InvalidCharacter {
            ch: 'É',
            position: 0
        })
    );
    // Check-only symbols are refused among the data characters, U included.
    for symbol in ['*', '~', '$', '=', 'U', 'u'] {
        let typo = substitute(&shown, 2, symbol);
        assert_eq!(
            CredentialCode::parse(&typo),
            Err(CredentialError::InvalidCharacter {
                ch: symbol,
                position: 2
            }),
            "{typo}"
        );
    }
    // An invalid character is reported even when the length is also wrong.
    assert_eq!(
        CredentialCode::parse("AB#"),
        Err(CredentialError::InvalidCharacter {
            ch: '#',
            position: 2
        })
    );
}

#[test]
fn error_messages_speak_to_voters() {
    assert!(CredentialError::ChecksumMismatch
        .to_string()
        .contains("this code has a typo"));
    let message = CredentialError::InvalidCharacter {
        ch: '!',
        position: 4,
    }
    .to_string();
    assert!(
        message.contains("'!'") && message.contains("character 5"),
        "{message}"
    );
    let message = CredentialError::WrongLength {
        expected: 21,
        found: 19,
    }
    .to_string();
    assert!(
        message.contains("21") && message.contains("19"),
        "{message}"
    );
}

#[test]
fn code_debug_hides_the_secret() {
    let code = CredentialCode::generate(&mut rng(8));
    assert_eq!(format!("{code:?}"), "CredentialCode(..)");
}

proptest! {
    #[test]
    fn any_generated_code_survives_any_typing_style(
        seed in any::<[u8; 32]>(),
        separators in proptest::collection::vec(prop_oneof![Just(""), Just(" "), Just("-"), Just(" - ")], CODE_LENGTH),
        lower in proptest::collection::vec(any::<bool>(), CODE_LENGTH),
    ) {
        let code = CredentialCode::generate(&mut ChaCha20Rng::from_seed(seed));
        let typed: String = code
            .expose_secret()
            .chars()
            .zip(separators.iter().zip(lower.iter()))
            .map(|(c, (sep, low))| format!("{}{sep}", if *low { c.to_ascii_lowercase() } else { c }))
            .collect();
        let parsed = CredentialCode::parse(&typed).unwrap();
        prop_assert_eq!(parsed.expose_secret(), code.expose_secret());
    }
}

// ---------------------------------------------------------------------------------------------
// Derivation (CRED-KEY)

#[test]
fn derivation_is_deterministic_and_bound_to_code_and_election_cred_key_1() {
    let mut rng = rng(9);
    let code = CredentialCode::generate(&mut rng);
    let other_code = CredentialCode::generate(&mut rng);
    let a = CredentialSecret::derive(&code, &election_id(1)).public();
    let again =
        CredentialSecret::derive(&code_of(&code.to_string().to_lowercase()), &election_id(1));
    assert_eq!(again.public(), a);
    let other_election = CredentialSecret::derive(&code, &election_id(2)).public();
    let other = CredentialSecret::derive(&other_code, &election_id(1)).public();
    assert_ne!(a, other_election);
    assert_ne!(a, other);
    assert_ne!(other, other_election);
}

/// The spec's derivation, written out independently of the crate.
fn reference_seed(code: &CredentialCode, election_id: &[u8; 32]) -> [u8; 32] {
    let salt = Sha256::new()
        .chain_update(b"tabella/v1/credential-salt")
        .chain_update(election_id)
        .finalize();
    let params = Params::new(16384, 2, 1, Some(32)).unwrap();
    let mut seed = [0u8; 32];
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
        .hash_password_into(&code.expose_secret().as_bytes()[..20], &salt, &mut seed)
        .unwrap();
    seed
}

#[test]
fn derivation_matches_the_written_specification_cred_key_2() {
    assert_eq!(SALT_DOMAIN, b"tabella/v1/credential-salt");
    assert_eq!(
        (ARGON2_M_COST_KIB, ARGON2_T_COST, ARGON2_P_COST),
        (16384, 2, 1)
    );
    let code = CredentialCode::generate(&mut rng(10));
    let id = election_id(0xab);
    let seed = reference_seed(&code, &id);
    let expected = SigningKey::from_bytes(&seed).verifying_key();
    let secret = CredentialSecret::derive(&code, &id);
    assert_eq!(secret.public().as_bytes(), expected.as_bytes());
}

#[test]
fn secret_debug_prints_only_the_public_key() {
    let secret = CredentialSecret::derive(&CredentialCode::generate(&mut rng(11)), &election_id(3));
    let debug = format!("{secret:?}");
    let public_hex = hex::encode(secret.public().to_bytes());
    assert!(debug.contains(&public_hex), "{debug}");
    assert_eq!(
        debug,
        format!("CredentialSecret {{ public: CredentialKey({public_hex}), .. }}")
    );
}

#[test]
fn known_answer_public_key_cred_key_3() {
    let code = code_of(KNOWN_CODE);
    let id: [u8; 32] = hex::decode(KNOWN_ELECTION_ID).unwrap().try_into().unwrap();
    let public = CredentialSecret::derive(&code, &id).public();
    assert_eq!(hex::encode(public.to_bytes()), KNOWN_PUBLIC_KEY);
}

/// Prints how long derivation, strict decoding and verification take; run with
/// `cargo test --release -p tabella-crypto --test credential -- --ignored --nocapture report_timings`.
// std has no clock on wasm32-unknown-unknown (`Instant::now` panics there); the booth reports its
// in-browser timings itself.
#[cfg(not(target_arch = "wasm32"))]
#[test]
#[ignore]
fn report_timings() {
    use std::time::Instant;

    fn summary(mut times: Vec<f64>) -> String {
        times.sort_by(f64::total_cmp);
        format!(
            "min {:.3} ms, median {:.3} ms, max {:.3} ms",
            times[0],
            times[times.len() / 2],
            times[times.len() - 1]
        )
    }
    fn time(f: impl FnOnce()) -> f64 {
        let start = Instant::now();
        f();
        start.elapsed().as_secs_f64() * 1000.0
    }
    let code = CredentialCode::generate(&mut rng(12));
    let _ = CredentialSecret::derive(&code, &election_id(0));
    let derive: Vec<f64> = (0..25)
        .map(|i| {
            time(|| {
                let _ = CredentialSecret::derive(&code, &election_id(i));
            })
        })
        .collect();
    println!("CredentialSecret::derive: {}", summary(derive));

    let secret = CredentialSecret::derive(&code, &election_id(0));
    let key = secret.public();
    let n = 256;
    let messages: Vec<[u8; 8]> = (0..n as u64).map(u64::to_be_bytes).collect();
    let signatures: Vec<[u8; 64]> = messages
        .iter()
        .map(|m| secret.sign(b"c", m).to_bytes())
        .collect();
    let per_item = |total: f64| total / n as f64;
    let mut decoded = Vec::new();
    let decode = time(|| {
        decoded = signatures
            .iter()
            .map(|b| CredentialSignature::from_bytes(b).unwrap())
            .collect();
    });
    let verify = time(|| {
        for (m, s) in messages.iter().zip(&decoded) {
            key.verify(b"c", m, s).unwrap();
        }
    });
    let key_bytes = key.to_bytes();
    let decode_key = time(|| {
        for _ in 0..n {
            let _ = CredentialKey::from_bytes(&key_bytes).unwrap();
        }
    });
    println!(
        "per signature: strict decode {:.4} ms, verify {:.4} ms; per key: strict decode {:.4} ms",
        per_item(decode),
        per_item(verify),
        per_item(decode_key)
    );
}

// ---------------------------------------------------------------------------------------------
// Signatures (CRED-SIG)

fn fresh_secret(seed: u8) -> CredentialSecret {
    CredentialSecret::derive(
        &CredentialCode::generate(&mut rng(seed)),
        &election_id(seed),
    )
}

#[test]
fn signatures_verify_and_are_plain_ed25519_over_the_domain_separated_input_cred_sig_1() {
    let secret = fresh_secret(20);
    let key = secret.public();
    let signature = secret.sign(b"ballot", b"hello");
    key.verify(b"ballot", b"hello", &signature).unwrap();

    let mut expected = b"tabella/v1/credential-signature".to_vec();
    expected.extend_from_slice(&6u64.to_be_bytes());
    expected.extend_from_slice(b"ballot");
    expected.extend_from_slice(b"hello");
    assert_eq!(signature_input(b"ballot", b"hello"), expected);
    assert_eq!(SIGNATURE_DOMAIN.len(), 31);

    // An outside Ed25519 implementation sees a standard signature on those bytes.
    let outside = VerifyingKey::from_bytes(&key.to_bytes()).unwrap();
    let raw = Signature::from_bytes(&signature.to_bytes());
    outside.verify_strict(&expected, &raw).unwrap();
}

#[test]
fn signature_fails_for_another_context_message_or_key_cred_sig_2() {
    let secret = fresh_secret(21);
    let key = secret.public();
    let other_key = fresh_secret(22).public();
    let signature = secret.sign(b"ctx", b"message");
    let mismatch = Err(CredentialError::SignatureMismatch);
    assert_eq!(key.verify(b"ctx", b"message!", &signature), mismatch);
    assert_eq!(key.verify(b"ctx", b"", &signature), mismatch);
    assert_eq!(key.verify(b"ctx2", b"message", &signature), mismatch);
    assert_eq!(key.verify(b"", b"message", &signature), mismatch);
    // The length prefix keeps the context/message boundary: moving bytes across it fails.
    assert_eq!(key.verify(b"ct", b"xmessage", &signature), mismatch);
    assert_eq!(key.verify(b"ctxm", b"essage", &signature), mismatch);
    assert_eq!(other_key.verify(b"ctx", b"message", &signature), mismatch);
    // A signature over the raw message, without the domain, does not verify either.
    let raw_bytes = {
        let secret_bytes =
            reference_seed(&CredentialCode::generate(&mut rng(21)), &election_id(21));
        let signing = SigningKey::from_bytes(&secret_bytes);
        assert_eq!(signing.verifying_key().to_bytes(), key.to_bytes());
        ed25519_dalek::Signer::sign(&signing, b"message").to_bytes()
    };
    let raw = CredentialSignature::from_bytes(&raw_bytes).unwrap();
    assert_eq!(key.verify(b"ctx", b"message", &raw), mismatch);
}

#[test]
fn every_bit_flip_of_a_signature_is_refused_cred_sig_2() {
    let secret = fresh_secret(23);
    let key = secret.public();
    let bytes = secret.sign(b"c", b"m").to_bytes();
    for bit in 0..512 {
        let mut flipped = bytes;
        flipped[bit / 8] ^= 1 << (bit % 8);
        if let Ok(signature) = CredentialSignature::from_bytes(&flipped) {
            assert_eq!(
                key.verify(b"c", b"m", &signature),
                Err(CredentialError::SignatureMismatch),
                "bit {bit}"
            );
        }
    }
}

#[test]
fn keys_and_signatures_round_trip_bytes_and_hex_serde() {
    let secret = fresh_secret(24);
    let key = secret.public();
    let signature = secret.sign(b"c", b"m");
    assert_eq!(CredentialKey::from_bytes(&key.to_bytes()).unwrap(), key);
    assert_eq!(
        CredentialSignature::from_bytes(&signature.to_bytes()).unwrap(),
        signature
    );
    let json = serde_json::to_string(&key).unwrap();
    assert_eq!(json, format!("\"{}\"", hex::encode(key.to_bytes())));
    assert_eq!(serde_json::from_str::<CredentialKey>(&json).unwrap(), key);
    let json = serde_json::to_string(&signature).unwrap();
    assert_eq!(json, format!("\"{}\"", hex::encode(signature.to_bytes())));
    assert_eq!(
        serde_json::from_str::<CredentialSignature>(&json).unwrap(),
        signature
    );
    assert!(serde_json::from_str::<CredentialKey>("\"zz\"").is_err());
    assert!(serde_json::from_str::<CredentialKey>(&format!(
        "\"{}00\"",
        hex::encode(key.to_bytes())
    ))
    .is_err());
}

#[test]
fn wrong_lengths_are_refused() {
    let secret = fresh_secret(25);
    let key = secret.public().to_bytes();
    let signature = secret.sign(b"", b"").to_bytes();
    assert_eq!(
        CredentialKey::from_bytes(&key[..31]),
        Err(CredentialError::Encoding(EncodingError::WrongLength {
            what: "credential key",
            expected: 32,
            found: 31
        }))
    );
    assert!(matches!(
        CredentialKey::from_bytes(&[key.as_slice(), &[0]].concat()),
        Err(CredentialError::Encoding(EncodingError::WrongLength {
            found: 33,
            ..
        }))
    ));
    assert!(matches!(
        CredentialSignature::from_bytes(&signature[..63]),
        Err(CredentialError::Encoding(EncodingError::WrongLength {
            expected: 64,
            found: 63,
            ..
        }))
    ));
}

/// A point of order 2 (y = −1), one of order 4 (y = 0) and one of order 8 (from the classic
/// weak-key list).
fn torsion_points() -> Vec<EdwardsPoint> {
    let order_2 =
        hex::decode("ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f").unwrap();
    let order_8 =
        hex::decode("26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05").unwrap();
    let points: Vec<EdwardsPoint> = [
        order_2.try_into().unwrap(),
        [0u8; 32],
        order_8.try_into().unwrap(),
    ]
    .iter()
    .map(|b| CompressedEdwardsY(*b).decompress().unwrap())
    .collect();
    for (t, order) in points.iter().zip([2u8, 4, 8]) {
        assert!(t.is_small_order());
        assert!((t * Scalar::from(order)).is_identity());
        assert!(!(t * Scalar::from(order / 2)).is_identity());
    }
    points
}

/// All 8 small-order points: the identity and the multiples of the order-8 point.
fn small_order_points() -> Vec<EdwardsPoint> {
    let order_8 = torsion_points()[2];
    let points: Vec<EdwardsPoint> = (0..8u8).map(|k| order_8 * Scalar::from(k)).collect();
    let distinct: std::collections::HashSet<[u8; 32]> =
        points.iter().map(|p| p.compress().to_bytes()).collect();
    assert_eq!(distinct.len(), 8);
    points
}

#[test]
fn weak_keys_are_refused() {
    // Every small-order point: the identity and the 7 torsion points, each canonically encoded.
    for point in small_order_points() {
        assert!(point.is_small_order());
        assert_eq!(
            CredentialKey::from_bytes(point.compress().as_bytes()),
            Err(CredentialError::WeakKey),
            "{}",
            hex::encode(point.compress().as_bytes())
        );
    }
    // The order-8 point from the classic weak-key list.
    let order_8 =
        hex::decode("26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05").unwrap();
    assert_eq!(
        CredentialKey::from_bytes(&order_8),
        Err(CredentialError::WeakKey)
    );
}

#[test]
fn mixed_order_keys_decode_and_non_canonical_keys_are_refused_cred_enc_1() {
    let a = Scalar::from(123_456_789u64);
    let honest = ED25519_BASEPOINT_POINT * a;
    assert!(CredentialKey::from_bytes(honest.compress().as_bytes()).is_ok());
    // No subgroup check: a key with a torsion component (order 2ℓ, 4ℓ or 8ℓ) decodes.
    for t in torsion_points() {
        let mixed = honest + t;
        assert!(!mixed.is_torsion_free() && !mixed.is_small_order());
        let key = CredentialKey::from_bytes(mixed.compress().as_bytes()).unwrap();
        assert_eq!(key.as_bytes(), mixed.compress().as_bytes());
    }
    // The same point with the sign bit of x = 0 set: a second, non-canonical encoding of (0, 1).
    let mut negative_zero = [0u8; 32];
    negative_zero[0] = 1;
    negative_zero[31] = 0x80;
    assert_eq!(
        CredentialKey::from_bytes(&negative_zero),
        Err(CredentialError::NonCanonicalKey)
    );
    // y = p + 1 ≥ p: a non-canonical encoding of y = 1.
    let y_over_p =
        hex::decode("eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f").unwrap();
    assert_eq!(
        CredentialKey::from_bytes(&y_over_p),
        Err(CredentialError::NonCanonicalKey)
    );
    // A y with no point on the curve.
    let not_on_curve = (2u8..)
        .map(|y| {
            let mut b = [0u8; 32];
            b[0] = y;
            b
        })
        .find(|b| CompressedEdwardsY(*b).decompress().is_none())
        .unwrap();
    assert_eq!(
        CredentialKey::from_bytes(&not_on_curve),
        Err(CredentialError::NonCanonicalKey)
    );
}

/// `(R, s)` as an RFC 8032 signer computes it for nonce `r`, secret scalar `a`, nonce point
/// `big_r` (normally `r·B`) and public key `key` (normally `a·B`), on the credential input of
/// `(b"c", message)`: `s = r + SHA-512(R || A || input)·a`.
fn raw_signature(
    a: Scalar,
    r: Scalar,
    big_r: EdwardsPoint,
    key: &EdwardsPoint,
    message: &[u8],
) -> [u8; 64] {
    let k = challenge(&big_r, key, message);
    let s = r + k * a;
    let mut bytes = [0u8; 64];
    bytes[..32].copy_from_slice(big_r.compress().as_bytes());
    bytes[32..].copy_from_slice(s.as_bytes());
    bytes
}

/// `k = SHA-512(R || A || signature_input(b"c", message)) mod ℓ`.
fn challenge(big_r: &EdwardsPoint, key: &EdwardsPoint, message: &[u8]) -> Scalar {
    Scalar::from_bytes_mod_order_wide(
        &Sha512::new()
            .chain_update(big_r.compress().as_bytes())
            .chain_update(key.compress().as_bytes())
            .chain_update(signature_input(b"c", message))
            .finalize()
            .into(),
    )
}

#[test]
fn nonces_with_a_torsion_component_never_verify_cred_sig_3() {
    // An honest key (order ℓ) and its holder, who deliberately adds a torsion point T to the
    // nonce: R = r·B + T. The signature decodes (R is canonical and not of small order), and
    // `verify` rejects it every time, since [s]B − [k]A = r·B ≠ R. A cofactored verifier
    // (ZIP-215) would accept it: 8·(R − r·B) = 8·T = 0.
    let a = Scalar::from(987_654_321u64);
    let public = ED25519_BASEPOINT_POINT * a;
    let key = CredentialKey::from_bytes(public.compress().as_bytes()).unwrap();
    let r = Scalar::from(55_555u64);
    for message in 0u32..64 {
        let message = message.to_be_bytes();
        // Without T the construction is an ordinary valid signature.
        let valid = raw_signature(a, r, ED25519_BASEPOINT_POINT * r, &public, &message);
        let valid = CredentialSignature::from_bytes(&valid).unwrap();
        assert_eq!(key.verify(b"c", &message, &valid), Ok(()));
        for t in torsion_points() {
            let big_r = ED25519_BASEPOINT_POINT * r + t;
            let bytes = raw_signature(a, r, big_r, &public, &message);
            let signature = CredentialSignature::from_bytes(&bytes)
                .unwrap_or_else(|e| panic!("R = rB + T decodes: {e}"));
            for _ in 0..2 {
                assert_eq!(
                    key.verify(b"c", &message, &signature),
                    Err(CredentialError::SignatureMismatch)
                );
            }
            // ed25519-dalek's verify_strict directly, on the raw bytes, agrees.
            let raw = VerifyingKey::from_bytes(key.as_bytes()).unwrap();
            assert!(raw
                .verify_strict(
                    &signature_input(b"c", &message),
                    &Signature::from_bytes(&bytes)
                )
                .is_err());
            // The residual is exactly −T: a torsion point, invisible to a cofactored check.
            let s = Scalar::from_canonical_bytes(bytes[32..].try_into().unwrap()).unwrap();
            let residual =
                ED25519_BASEPOINT_POINT * s - big_r - public * challenge(&big_r, &public, &message);
            assert_eq!(residual, -t);
            assert!(residual.mul_by_cofactor().is_identity());
        }
    }
}

#[test]
fn signatures_under_mixed_order_keys_are_judged_deterministically_cred_sig_3() {
    // A key A = a·B + T with a torsion component decodes; its holder signing honestly (R = r·B,
    // s = r + k·a) leaves the residual [s]B − R − [k]A = −k·T, so `verify` accepts exactly when
    // k·T = 0. That depends only on the bytes, so every verifier gives the same answer.
    let a = Scalar::from(123_456_789u64);
    for t in torsion_points() {
        let public = ED25519_BASEPOINT_POINT * a + t;
        let key = CredentialKey::from_bytes(public.compress().as_bytes()).unwrap();
        let (mut accepted, mut rejected) = (0, 0);
        for message in 0u32..64 {
            let message = message.to_be_bytes();
            let r = Scalar::from(1_000u64 + u64::from(message[3]));
            let big_r = ED25519_BASEPOINT_POINT * r;
            let bytes = raw_signature(a, r, big_r, &public, &message);
            let signature = CredentialSignature::from_bytes(&bytes).unwrap();
            let verdict = key.verify(b"c", &message, &signature);
            for _ in 0..3 {
                assert_eq!(key.verify(b"c", &message, &signature), verdict);
            }
            let expected = (t * challenge(&big_r, &public, &message)).is_identity();
            assert_eq!(verdict.is_ok(), expected, "T of order {}", torsion_order(t));
            if verdict.is_ok() {
                accepted += 1;
            } else {
                assert_eq!(verdict, Err(CredentialError::SignatureMismatch));
                rejected += 1;
            }
        }
        println!(
            "mixed-order key, T of order {}: {accepted} accepted, {rejected} rejected of 64",
            torsion_order(t)
        );
        assert!(rejected > 0);
    }
}

fn torsion_order(t: EdwardsPoint) -> u8 {
    (1..=8u8)
        .find(|k| (t * Scalar::from(*k)).is_identity())
        .unwrap()
}

#[test]
fn malformed_signature_encodings_are_refused() {
    let secret = fresh_secret(26);
    let bytes = secret.sign(b"c", b"m").to_bytes();
    // s ≥ ℓ: add ℓ to s (s + ℓ < 2^253 fits in 32 bytes).
    let ell =
        hex::decode("edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010").unwrap();
    let mut s_plus_ell = [0u8; 32];
    let mut carry = 0u16;
    for i in 0..32 {
        let sum = u16::from(bytes[32 + i]) + u16::from(ell[i]) + carry;
        s_plus_ell[i] = sum as u8;
        carry = sum >> 8;
    }
    let mut unreduced = bytes;
    unreduced[32..].copy_from_slice(&s_plus_ell);
    assert_eq!(
        CredentialSignature::from_bytes(&unreduced),
        Err(CredentialError::NonCanonicalSignature)
    );
    // R the identity or one of the 7 other small-order points.
    for t in small_order_points() {
        let mut small = bytes;
        small[..32].copy_from_slice(t.compress().as_bytes());
        assert_eq!(
            CredentialSignature::from_bytes(&small),
            Err(CredentialError::SignatureNonceSmallOrder),
            "{}",
            hex::encode(t.compress().as_bytes())
        );
    }
    // R a non-canonical encoding (sign bit set on x = 0).
    let mut non_canonical = bytes;
    non_canonical[..32].fill(0);
    non_canonical[0] = 1;
    non_canonical[31] = 0x80;
    assert_eq!(
        CredentialSignature::from_bytes(&non_canonical),
        Err(CredentialError::NonCanonicalSignature)
    );
}

// ---------------------------------------------------------------------------------------------
// Test vectors (spec/vectors/credentials.json)

#[derive(Serialize, Deserialize, PartialEq, Debug)]
struct VectorFile {
    description: String,
    argon2id: Argon2Parameters,
    salt_domain: String,
    signature_domain: String,
    vectors: Vec<Vector>,
}

#[derive(Serialize, Deserialize, PartialEq, Debug)]
struct Argon2Parameters {
    version: u32,
    m_cost_kib: u32,
    t_cost: u32,
    p_cost: u32,
    output_length: usize,
}

#[derive(Serialize, Deserialize, PartialEq, Debug)]
struct Vector {
    election_id: String,
    code: String,
    code_as_typed: String,
    password: String,
    salt: String,
    seed: String,
    public_key: String,
    context: String,
    message: String,
    signed_bytes: String,
    signature: String,
}

/// A typing of `code` a voter might produce: lowercase, spaces, O for 0 and l for 1.
fn as_typed(code: &CredentialCode) -> String {
    code.to_string()
        .replace('-', " ")
        .to_lowercase()
        .replace('0', "O")
        .replace('1', "l")
}

fn build_vectors() -> VectorFile {
    let mut rng = ChaCha20Rng::from_seed(*b"tabella/v1/credential-vectors!!!");
    let vectors = (0..4)
        .map(|i| {
            let mut id = [0u8; 32];
            rng.fill_bytes(&mut id);
            let code = CredentialCode::generate(&mut rng);
            let context = format!("tabella/v1/test-vector/{i}").into_bytes();
            let mut message = vec![0u8; 16 * i];
            rng.fill_bytes(&mut message);
            let secret = CredentialSecret::derive(&code, &id);
            let salt = Sha256::new()
                .chain_update(SALT_DOMAIN)
                .chain_update(id)
                .finalize();
            Vector {
                election_id: hex::encode(id),
                code: code.to_string(),
                code_as_typed: as_typed(&code),
                password: code.expose_secret()[..DATA_LENGTH].to_owned(),
                salt: hex::encode(salt),
                seed: hex::encode(reference_seed(&code, &id)),
                public_key: hex::encode(secret.public().to_bytes()),
                context: hex::encode(&context),
                message: hex::encode(&message),
                signed_bytes: hex::encode(signature_input(&context, &message)),
                signature: hex::encode(secret.sign(&context, &message).to_bytes()),
            }
        })
        .collect();
    VectorFile {
        description: "Tabella credential vectors (spec/credentials.md §6): code -> Argon2id seed -> \
                      Ed25519 key, and a deterministic Ed25519 signature over \
                      signed_bytes = signature_domain || u64_be(len(context)) || context || message. \
                      All byte strings are lowercase hex."
            .to_owned(),
        argon2id: Argon2Parameters {
            version: 0x13,
            m_cost_kib: ARGON2_M_COST_KIB,
            t_cost: ARGON2_T_COST,
            p_cost: ARGON2_P_COST,
            output_length: 32,
        },
        salt_domain: String::from_utf8(SALT_DOMAIN.to_vec()).unwrap(),
        signature_domain: String::from_utf8(SIGNATURE_DOMAIN.to_vec()).unwrap(),
        vectors,
    }
}

/// Regenerates spec/vectors/credentials.json; run with
/// `cargo test -p tabella-crypto --test credential -- --ignored generate_credential_vectors`.
#[cfg(not(target_arch = "wasm32"))] // Writes into spec/: the browser has no file system.
#[test]
#[ignore]
fn generate_credential_vectors() {
    let file = build_vectors();
    let json = serde_json::to_string_pretty(&file).unwrap() + "\n";
    std::fs::write(VECTORS_PATH, json).unwrap();
}

#[test]
fn stored_vectors_still_verify() {
    let file: VectorFile = serde_json::from_str(STORED_VECTORS).unwrap();
    assert_eq!(file.argon2id.m_cost_kib, ARGON2_M_COST_KIB);
    assert_eq!(file.argon2id.t_cost, ARGON2_T_COST);
    assert_eq!(file.argon2id.p_cost, ARGON2_P_COST);
    assert_eq!(file.salt_domain.as_bytes(), SALT_DOMAIN);
    assert_eq!(file.signature_domain.as_bytes(), SIGNATURE_DOMAIN);
    assert!(!file.vectors.is_empty());
    for v in &file.vectors {
        let code = code_of(&v.code);
        assert_eq!(code_of(&v.code_as_typed), code);
        assert_eq!(code.expose_secret()[..DATA_LENGTH], v.password);
        let id: [u8; 32] = hex::decode(&v.election_id).unwrap().try_into().unwrap();
        let salt = Sha256::new()
            .chain_update(SALT_DOMAIN)
            .chain_update(id)
            .finalize();
        assert_eq!(hex::encode(salt), v.salt);
        assert_eq!(hex::encode(reference_seed(&code, &id)), v.seed);
        let secret = CredentialSecret::derive(&code, &id);
        assert_eq!(hex::encode(secret.public().to_bytes()), v.public_key);

        let key = CredentialKey::from_bytes(&hex::decode(&v.public_key).unwrap()).unwrap();
        let context = hex::decode(&v.context).unwrap();
        let message = hex::decode(&v.message).unwrap();
        assert_eq!(
            hex::encode(signature_input(&context, &message)),
            v.signed_bytes
        );
        let signature =
            CredentialSignature::from_bytes(&hex::decode(&v.signature).unwrap()).unwrap();
        key.verify(&context, &message, &signature).unwrap();
        // Ed25519 is deterministic: signing again gives the stored bytes.
        assert_eq!(secret.sign(&context, &message), signature);
    }
    // The known answer pinned above is the first vector.
    assert_eq!(file.vectors[0].code, KNOWN_CODE);
    assert_eq!(file.vectors[0].election_id, KNOWN_ELECTION_ID);
    assert_eq!(file.vectors[0].public_key, KNOWN_PUBLIC_KEY);
}

#[test]
fn stored_vectors_match_the_generator() {
    let stored: VectorFile = serde_json::from_str(STORED_VECTORS).unwrap();
    assert_eq!(stored, build_vectors());
}
