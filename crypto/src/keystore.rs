//! Trustee key material at rest: a secret sealed under a passphrase with Argon2id and
//! XChaCha20-Poly1305, stored as a small JSON file ([`SealedSecret`]).
//!
//! Every header field (format, label, all key-derivation settings, salt, cipher, nonce) is
//! authenticated as associated data ([`SealedSecret`]'s `# Associated data`), so an attacker who
//! edits the file — say, lowering the memory cost or relabelling it — only gets
//! [`KeystoreError::WrongPassphraseOrTampered`]. [`SealedSecret::open`] checks the header before
//! it runs Argon2. No I/O happens here: the caller reads and writes the file.

use argon2::{Algorithm, Argon2, Block, Params, Version};
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{Key, XChaCha20Poly1305, XNonce};
use rand_core::CryptoRngCore;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::group::{fixed, text};

/// The `format` of every file this module writes.
pub const FORMAT: &str = "tabella-keystore/v1";
const KDF_ALGORITHM: &str = "argon2id";
const KDF_VERSION: u32 = 0x13;
const CIPHER: &str = "xchacha20poly1305";
const SALT_LEN: usize = 16;
const NONCE_LEN: usize = 24;
const TAG_LEN: usize = 16;
/// The largest secret [`seal`] accepts (1 MiB); key material is far smaller.
pub const MAX_SECRET_LEN: usize = 1 << 20;

/// Argon2id cost settings. [`KdfParams::TEST`] is the floor [`SealedSecret::open`] accepts; the
/// ceiling is 4 GiB of memory, 100 iterations and 16 lanes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KdfParams {
    /// Memory cost in KiB.
    pub memory_kib: u32,
    /// Passes over memory.
    pub iterations: u32,
    /// Lanes.
    pub parallelism: u32,
}

impl KdfParams {
    /// The setting for real key files: 64 MiB, 3 iterations, 1 lane.
    pub const DEFAULT: Self = Self {
        memory_kib: 64 * 1024,
        iterations: 3,
        parallelism: 1,
    };
    /// 256 KiB and 1 iteration: **for tests only**, far too cheap to protect a real key.
    pub const TEST: Self = Self {
        memory_kib: 256,
        iterations: 1,
        parallelism: 1,
    };
    const MAX_MEMORY_KIB: u32 = 4 * 1024 * 1024;

    fn check(self) -> Result<Self, KeystoreError> {
        let Self {
            memory_kib,
            iterations,
            parallelism,
        } = self;
        if memory_kib > Self::MAX_MEMORY_KIB || iterations > 100 || !(1..=16).contains(&parallelism)
        {
            return Err(KeystoreError::ParametersOutOfRange {
                memory_kib,
                iterations,
                parallelism,
            });
        }
        if memory_kib < Self::TEST.memory_kib || iterations < Self::TEST.iterations {
            return Err(KeystoreError::WeakParameters {
                memory_kib,
                iterations,
            });
        }
        Ok(self)
    }
}

/// How the key was derived from the passphrase.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct KdfDescription {
    /// Always `"argon2id"`.
    pub algorithm: String,
    /// Argon2 version: always 19 (0x13).
    pub version: u32,
    /// Memory cost in KiB.
    pub memory_kib: u32,
    /// Passes over memory.
    pub iterations: u32,
    /// Lanes.
    pub parallelism: u32,
    /// 16 random bytes, standard base64.
    pub salt: String,
}

/// A sealed secret, serialised as JSON ([`to_json`](Self::to_json)).
///
/// # Associated data
///
/// The AEAD authenticates these ten fields, each written as `u64_be(len) || bytes`: `format`,
/// `label`, `kdf.algorithm`, `kdf.version`, `kdf.memory_kib`, `kdf.iterations`,
/// `kdf.parallelism` (numbers as 4 bytes big-endian), the decoded salt, `cipher`, the decoded
/// nonce. The key is Argon2id(passphrase, salt) with 32 bytes of output.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct SealedSecret {
    /// Always [`FORMAT`].
    pub format: String,
    /// What is inside, e.g. `"trustee identity key"`; authenticated, not secret.
    pub label: String,
    /// The key derivation.
    pub kdf: KdfDescription,
    /// Always `"xchacha20poly1305"`.
    pub cipher: String,
    /// 24 random bytes, standard base64.
    pub nonce: String,
    /// The encrypted secret followed by the 16-byte tag, standard base64.
    pub ciphertext: String,
}

/// Why a secret could not be sealed or opened. The messages are written for a trustee.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeystoreError {
    /// Authentication failed: the passphrase is wrong or some field of the file was changed.
    #[error("wrong passphrase, or the key file has been altered")]
    WrongPassphraseOrTampered,
    /// The `format` field is not [`FORMAT`].
    #[error("this is not a Tabella key file, or a newer version wrote it (format {found:?}, expected \"tabella-keystore/v1\")")]
    UnsupportedFormat {
        /// The format found.
        found: String,
    },
    /// A key-derivation algorithm, version or cipher this version does not read.
    #[error("the key file uses an unsupported {what} ({found}); only Argon2id version 19 with XChaCha20-Poly1305 is supported")]
    UnsupportedAlgorithm {
        /// Which field.
        what: &'static str,
        /// The value found.
        found: String,
    },
    /// Not valid JSON of the right shape, bad base64, or a field of the wrong length.
    #[error("the key file is damaged or is not a key file: {reason}")]
    Malformed {
        /// What is wrong.
        reason: String,
    },
    /// Key-derivation settings below [`KdfParams::TEST`], which would make guessing cheap.
    #[error("the key-derivation settings are too weak ({memory_kib} KiB of memory, {iterations} iterations); at least 256 KiB and 1 iteration are required")]
    WeakParameters {
        /// Memory cost in KiB.
        memory_kib: u32,
        /// Passes over memory.
        iterations: u32,
    },
    /// Key-derivation settings beyond what any honest file uses.
    #[error("the key-derivation settings are out of range ({memory_kib} KiB of memory, {iterations} iterations, {parallelism} lanes); the limits are 4 GiB, 100 iterations and 1 to 16 lanes")]
    ParametersOutOfRange {
        /// Memory cost in KiB.
        memory_kib: u32,
        /// Passes over memory.
        iterations: u32,
        /// Lanes.
        parallelism: u32,
    },
    /// An empty passphrase would protect nothing.
    #[error("the passphrase is empty; choose a passphrase to protect the key")]
    EmptyPassphrase,
    /// The secret is longer than [`MAX_SECRET_LEN`].
    #[error("the secret is too large to seal ({len} bytes; at most 1 MiB)")]
    SecretTooLarge {
        /// Its length in bytes.
        len: usize,
    },
    /// Argon2 refused its input: only possible for a passphrase over 4 GiB.
    #[error("the passphrase could not be turned into a key")]
    KeyDerivationFailed,
}

fn malformed(reason: impl ToString) -> KeystoreError {
    KeystoreError::Malformed {
        reason: reason.to_string(),
    }
}

/// Encrypts `secret` under `passphrase`, with a fresh salt and nonce from `rng`.
pub fn seal(
    label: &str,
    secret: &[u8],
    passphrase: &[u8],
    params: KdfParams,
    rng: &mut impl CryptoRngCore,
) -> Result<SealedSecret, KeystoreError> {
    let params = params.check()?;
    if passphrase.is_empty() {
        return Err(KeystoreError::EmptyPassphrase);
    }
    let too_large = KeystoreError::SecretTooLarge { len: secret.len() };
    if secret.len() > MAX_SECRET_LEN {
        return Err(too_large);
    }
    let (mut salt, mut nonce) = ([0u8; SALT_LEN], [0u8; NONCE_LEN]);
    rng.fill_bytes(&mut salt);
    rng.fill_bytes(&mut nonce);
    let mut sealed = SealedSecret {
        format: FORMAT.into(),
        label: label.into(),
        kdf: KdfDescription {
            algorithm: KDF_ALGORITHM.into(),
            version: KDF_VERSION,
            memory_kib: params.memory_kib,
            iterations: params.iterations,
            parallelism: params.parallelism,
            salt: text::to_base64(&salt),
        },
        cipher: CIPHER.into(),
        nonce: text::to_base64(&nonce),
        ciphertext: String::new(),
    };
    let key = derive_key(passphrase, &salt, params)?;
    let aad = sealed.associated_data(&salt, &nonce);
    let ciphertext = XChaCha20Poly1305::new(Key::from_slice(key.as_ref()))
        .encrypt(
            XNonce::from_slice(&nonce),
            Payload {
                msg: secret,
                aad: &aad,
            },
        )
        .map_err(|_| too_large)?;
    sealed.ciphertext = text::to_base64(&ciphertext);
    Ok(sealed)
}

/// Argon2id into a 32-byte key; Argon2's working memory is wiped afterwards.
fn derive_key(
    passphrase: &[u8],
    salt: &[u8; SALT_LEN],
    p: KdfParams,
) -> Result<Zeroizing<[u8; 32]>, KeystoreError> {
    // Unreachable after `KdfParams::check` (and for any passphrase under 4 GiB); no panic anyway.
    let failed = |_| KeystoreError::KeyDerivationFailed;
    let params =
        Params::new(p.memory_kib, p.iterations, p.parallelism, Some(32)).map_err(failed)?;
    let mut memory = Zeroizing::new(vec![Block::new(); params.block_count()]);
    let mut key = Zeroizing::new([0u8; 32]);
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
        .hash_password_into_with_memory(passphrase, salt, key.as_mut(), memory.as_mut_slice())
        .map_err(failed)?;
    Ok(key)
}

/// The header, salt, nonce and ciphertext, checked and decoded.
struct Checked {
    params: KdfParams,
    salt: [u8; SALT_LEN],
    nonce: [u8; NONCE_LEN],
    ciphertext: Vec<u8>,
}

impl SealedSecret {
    /// Checks the header, derives the key and decrypts. Refuses an empty passphrase.
    pub fn open(&self, passphrase: &[u8]) -> Result<Zeroizing<Vec<u8>>, KeystoreError> {
        let checked = self.check()?;
        if passphrase.is_empty() {
            return Err(KeystoreError::EmptyPassphrase);
        }
        let key = derive_key(passphrase, &checked.salt, checked.params)?;
        let aad = self.associated_data(&checked.salt, &checked.nonce);
        XChaCha20Poly1305::new(Key::from_slice(key.as_ref()))
            .decrypt(
                XNonce::from_slice(&checked.nonce),
                Payload {
                    msg: &checked.ciphertext,
                    aad: &aad,
                },
            )
            .map(Zeroizing::new)
            .map_err(|_| KeystoreError::WrongPassphraseOrTampered)
    }

    /// Pretty-printed JSON.
    #[allow(clippy::expect_used)]
    pub fn to_json(&self) -> String {
        // Invariant: only strings and integers, no maps with non-string keys: serde_json cannot
        // fail on this struct.
        serde_json::to_string_pretty(self).expect("a SealedSecret always serialises")
    }

    /// Parses JSON strictly (no unknown fields, no trailing data) and checks the header.
    pub fn from_json(text: &str) -> Result<Self, KeystoreError> {
        let sealed: Self = serde_json::from_str(text).map_err(malformed)?;
        sealed.check()?;
        Ok(sealed)
    }

    fn check(&self) -> Result<Checked, KeystoreError> {
        if self.format != FORMAT {
            return Err(KeystoreError::UnsupportedFormat {
                found: self.format.clone(),
            });
        }
        let unsupported = |what, found: String| KeystoreError::UnsupportedAlgorithm { what, found };
        if self.kdf.algorithm != KDF_ALGORITHM {
            return Err(unsupported(
                "key-derivation algorithm",
                self.kdf.algorithm.clone(),
            ));
        }
        if self.kdf.version != KDF_VERSION {
            return Err(unsupported("Argon2 version", self.kdf.version.to_string()));
        }
        if self.cipher != CIPHER {
            return Err(unsupported("cipher", self.cipher.clone()));
        }
        let params = KdfParams {
            memory_kib: self.kdf.memory_kib,
            iterations: self.kdf.iterations,
            parallelism: self.kdf.parallelism,
        }
        .check()?;
        let decode = |what, s: &str| text::from_base64(what, s).map_err(malformed);
        let salt = fixed("salt", &decode("salt", &self.kdf.salt)?).map_err(malformed)?;
        let nonce = fixed("nonce", &decode("nonce", &self.nonce)?).map_err(malformed)?;
        let ciphertext = decode("ciphertext", &self.ciphertext)?;
        if ciphertext.len() < TAG_LEN || ciphertext.len() > MAX_SECRET_LEN + TAG_LEN {
            return Err(malformed(format!(
                "ciphertext: {} bytes, expected 16 to {} (the secret plus a 16-byte tag)",
                ciphertext.len(),
                MAX_SECRET_LEN + TAG_LEN
            )));
        }
        Ok(Checked {
            params,
            salt,
            nonce,
            ciphertext,
        })
    }

    /// The canonical associated data (see the type's `# Associated data`).
    fn associated_data(&self, salt: &[u8; SALT_LEN], nonce: &[u8; NONCE_LEN]) -> Vec<u8> {
        let k = &self.kdf;
        let fields: [&[u8]; 10] = [
            self.format.as_bytes(),
            self.label.as_bytes(),
            k.algorithm.as_bytes(),
            &k.version.to_be_bytes(),
            &k.memory_kib.to_be_bytes(),
            &k.iterations.to_be_bytes(),
            &k.parallelism.to_be_bytes(),
            salt,
            self.cipher.as_bytes(),
            nonce,
        ];
        let mut aad = Vec::new();
        for field in fields {
            // usize is at most 64 bits on every supported target: the cast is lossless.
            aad.extend_from_slice(&(field.len() as u64).to_be_bytes());
            aad.extend_from_slice(field);
        }
        aad
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng;
    use serde_json::{json, Value};
    #[cfg(all(target_arch = "wasm32", target_os = "unknown"))]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    const SECRET: &[u8; 32] = b"trustee identity key: 32 bytes!!";
    const PASS: &[u8] = b"correct horse battery staple";
    const TAMPERED: Result<(), KeystoreError> = Err(KeystoreError::WrongPassphraseOrTampered);

    fn sealed(seed: u64) -> SealedSecret {
        let mut rng = ChaCha20Rng::seed_from_u64(seed);
        seal(
            "trustee identity key",
            SECRET,
            PASS,
            KdfParams::TEST,
            &mut rng,
        )
        .unwrap()
    }

    /// Sets the JSON field at `pointer` (e.g. `/kdf/salt`), then parses and opens the file.
    fn open_with(pointer: &str, value: Value) -> Result<(), KeystoreError> {
        let mut file: Value = serde_json::from_str(&sealed(1).to_json()).unwrap();
        *file.pointer_mut(pointer).unwrap() = value;
        open_json(&file.to_string())
    }

    fn open_json(json: &str) -> Result<(), KeystoreError> {
        let secret = SealedSecret::from_json(json)?.open(PASS)?;
        assert_eq!(secret.as_slice(), SECRET);
        Ok(())
    }

    /// XORs byte `i` of a base64 field's decoded bytes with `delta`.
    fn altered(field: &str, i: usize, delta: u8) -> Value {
        let mut bytes = text::from_base64("test", field).unwrap();
        bytes[i] ^= delta;
        json!(text::to_base64(&bytes))
    }

    #[test]
    fn round_trip_recovers_the_secret_with_fresh_randomness() {
        assert_eq!(sealed(1).open(PASS).unwrap().as_slice(), SECRET);
        assert_eq!(open_json(&sealed(1).to_json()), Ok(()));
        assert_ne!(sealed(1).ciphertext, sealed(2).ciphertext);
    }

    #[test]
    fn default_parameters_round_trip() {
        let mut rng = ChaCha20Rng::seed_from_u64(3);
        let s = seal("share", SECRET, PASS, KdfParams::DEFAULT, &mut rng).unwrap();
        assert_eq!(s.kdf.memory_kib, 64 * 1024);
        assert_eq!(s.open(PASS).unwrap().as_slice(), SECRET);
    }

    #[test]
    fn wrong_passphrase_is_rejected_in_plain_english() {
        let err = sealed(1)
            .open(b"correct horse battery stapler")
            .unwrap_err();
        assert_eq!(Err(err.clone()), TAMPERED);
        assert_eq!(
            err.to_string(),
            "wrong passphrase, or the key file has been altered"
        );
        assert_eq!(sealed(1).open(b""), Err(KeystoreError::EmptyPassphrase));
    }

    #[test]
    fn every_byte_of_ciphertext_nonce_and_salt_is_authenticated() {
        let s = sealed(1);
        let fields = [
            ("/ciphertext", &s.ciphertext, SECRET.len() + TAG_LEN),
            ("/nonce", &s.nonce, NONCE_LEN),
            ("/kdf/salt", &s.kdf.salt, SALT_LEN),
        ];
        for (pointer, field, len) in fields {
            for i in 0..len {
                assert_eq!(
                    open_with(pointer, altered(field, i, 1)),
                    TAMPERED,
                    "{pointer}[{i}]"
                );
            }
        }
    }

    #[test]
    fn changing_any_header_field_is_detected() {
        for (pointer, value) in [
            ("/label", json!("ballot signing key")),
            ("/kdf/memory_kib", json!(512)),
            ("/kdf/iterations", json!(2)),
            ("/kdf/parallelism", json!(2)),
        ] {
            assert_eq!(open_with(pointer, value), TAMPERED, "{pointer}");
        }
        for (pointer, value, what) in [
            (
                "/kdf/algorithm",
                json!("argon2i"),
                "key-derivation algorithm",
            ),
            ("/kdf/version", json!(16), "Argon2 version"),
            ("/cipher", json!("aes-256-gcm"), "cipher"),
        ] {
            let err = open_with(pointer, value).unwrap_err();
            assert!(
                matches!(err, KeystoreError::UnsupportedAlgorithm { what: w, .. } if w == what)
            );
        }
        let err = open_with("/format", json!("tabella-keystore/v2")).unwrap_err();
        assert_eq!(
            err,
            KeystoreError::UnsupportedFormat {
                found: "tabella-keystore/v2".into()
            }
        );
        assert!(err.to_string().contains("not a Tabella key file"));
    }

    #[test]
    fn malformed_files_get_clear_errors() {
        let json = sealed(1).to_json();
        let short = |n: usize| json!(text::to_base64(&vec![0; n]));
        for (result, needle) in [
            (open_json(&json[..50]), "EOF"),
            (open_json(&format!("{json} x")), "trailing characters"),
            (
                open_json(&json.replacen('{', "{\"extra\": 1,", 1)),
                "unknown field `extra`",
            ),
            (
                open_json(&json.replacen("\"kdf\": {", "\"kdf\": {\"pepper\": 1,", 1)),
                "unknown field `pepper`",
            ),
            (
                open_with("/nonce", json!("not base64!")),
                "nonce: invalid base64",
            ),
            (
                open_with("/kdf/salt", json!("GUVKJ7dS+QWQlQfWFg3ciA")),
                "salt: invalid base64",
            ),
            (
                open_with("/nonce", short(12)),
                "nonce: expected 24 bytes, found 12",
            ),
            (
                open_with("/kdf/salt", short(8)),
                "salt: expected 16 bytes, found 8",
            ),
            (open_with("/ciphertext", short(15)), "ciphertext: 15 bytes"),
            (open_with("/kdf/memory_kib", json!("256")), "invalid type"),
        ] {
            assert!(
                matches!(&result, Err(KeystoreError::Malformed { reason }) if reason.contains(needle)),
                "expected Malformed({needle}), got {result:?}"
            );
        }
    }

    #[test]
    fn kdf_parameters_are_bounded_before_argon2_runs() {
        for (pointer, value) in [
            ("/kdf/memory_kib", 4 * 1024 * 1024 + 1),
            ("/kdf/iterations", 101),
            ("/kdf/parallelism", 0),
            ("/kdf/parallelism", 17),
        ] {
            let result = open_with(pointer, json!(value));
            assert!(
                matches!(result, Err(KeystoreError::ParametersOutOfRange { .. })),
                "{pointer}"
            );
        }
        let weak = |memory_kib, iterations| {
            Err(KeystoreError::WeakParameters {
                memory_kib,
                iterations,
            })
        };
        assert_eq!(open_with("/kdf/memory_kib", json!(8)), weak(8, 1));
        assert_eq!(open_with("/kdf/iterations", json!(0)), weak(256, 0));
        let mut rng = ChaCha20Rng::seed_from_u64(4);
        let params = KdfParams {
            memory_kib: 64,
            ..KdfParams::TEST
        };
        assert_eq!(
            seal("k", SECRET, PASS, params, &mut rng).map(drop),
            weak(64, 1)
        );
    }

    #[test]
    fn seal_refuses_an_empty_passphrase_and_huge_secrets() {
        let mut rng = ChaCha20Rng::seed_from_u64(5);
        let mut seal_ = |secret: &[u8], pass: &[u8]| {
            seal("k", secret, pass, KdfParams::TEST, &mut rng).map(drop)
        };
        assert_eq!(seal_(SECRET, b""), Err(KeystoreError::EmptyPassphrase));
        let len = MAX_SECRET_LEN + 1;
        assert_eq!(
            seal_(&vec![0; len], PASS),
            Err(KeystoreError::SecretTooLarge { len })
        );
    }

    #[test]
    fn json_round_trips() {
        let s = sealed(1);
        assert_eq!(SealedSecret::from_json(&s.to_json()), Ok(s));
    }

    /// A file written by this version must open in every later one.
    #[test]
    fn pinned_v1_file_still_opens() {
        assert_eq!(sealed(7).to_json(), PINNED_V1);
        assert_eq!(open_json(PINNED_V1), Ok(()));
    }

    const PINNED_V1: &str = r#"{
  "format": "tabella-keystore/v1",
  "label": "trustee identity key",
  "kdf": {
    "algorithm": "argon2id",
    "version": 19,
    "memory_kib": 256,
    "iterations": 1,
    "parallelism": 1,
    "salt": "GUVKJ7dS+QWQlQfWFg3ciA=="
  },
  "cipher": "xchacha20poly1305",
  "nonce": "ji34t3MJjvP3vNMhp8qnSDqa+oyYQV0v",
  "ciphertext": "CGv6A2VF5Tt17zWIK2YaSqghpx/sfzonS4aUpZeSAI6SgyFHsXqzWtRx+nqesnaL"
}"#;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn any_single_byte_change_of_the_ciphertext_is_rejected(
            i in 0..SECRET.len() + TAG_LEN,
            delta in 1u8..=255,
        ) {
            let ciphertext = altered(&sealed(1).ciphertext, i, delta);
            prop_assert_eq!(open_with("/ciphertext", ciphertext), TAMPERED);
        }
    }
}
