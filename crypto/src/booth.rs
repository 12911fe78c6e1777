//! The booth's digest: which web ballot an election publishes (spec/booth.md).
//!
//! The web ballot is a handful of static files (`index.html`, the JavaScript loader, the
//! WebAssembly module, a style sheet). Its build writes `booth.json`, a [`BoothManifest`] listing
//! every file with its size and SHA-256; the **booth digest** is a hash over that list. The
//! election's manifest names the digest (and so it is bound into every ballot and anchored on
//! chain with the manifest hash), the booth shows it in its footer, and the observer page and
//! `tabella verify --booth` recompute it from the files a service actually serves.

use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use crate::ceremony::Canonical;
use crate::record::types::hex32;

/// Domain of the booth digest.
pub const BOOTH_DOMAIN: &[u8] = b"tabella/v1/booth";
/// The `format` of `booth.json`.
pub const BOOTH_FORMAT: &str = "tabella-booth/1";
/// The name of the file list in a built booth.
pub const BOOTH_MANIFEST: &str = "booth.json";
/// The page every booth starts from; the list must name it, so that nothing the browser runs
/// escapes the digest.
pub const BOOTH_INDEX: &str = "index.html";
/// Longest path in the list, in bytes.
pub const MAX_BOOTH_PATH: usize = 128;
/// Most files in the list.
pub const MAX_BOOTH_FILES: usize = 64;

/// Why a booth's file list, or a file of it, was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BoothError {
    /// `booth.json` is not the expected JSON.
    #[error("booth.json is not a booth file list: {0}")]
    Json(String),
    /// The format string is not [`BOOTH_FORMAT`].
    #[error("booth.json has format {0:?}; this version reads {BOOTH_FORMAT:?}")]
    Format(String),
    /// No files, or too many.
    #[error("a booth lists 1 to {MAX_BOOTH_FILES} files; this one lists {0}")]
    FileCount(usize),
    /// A path is empty, too long, absolute, climbs out (`..`) or uses other characters than
    /// `a-z A-Z 0-9 . _ - /`.
    #[error("{0:?} is not a valid booth path")]
    Path(String),
    /// The paths are not in strictly increasing byte order (or one repeats).
    #[error("booth paths must be sorted and unique; {0:?} is out of order")]
    Order(String),
    /// The list does not name `index.html`.
    #[error("the booth does not list {BOOTH_INDEX}")]
    NoIndex,
    /// A file's bytes do not match the list.
    #[error("the booth file {path} does not match booth.json: {reason}")]
    Mismatch {
        /// The file.
        path: String,
        /// What differs.
        reason: String,
    },
    /// A file the list does not name.
    #[error("{0} is not a file of the booth")]
    Unlisted(String),
}

/// One file of the booth.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BoothFile {
    /// Its path, relative to the booth's root (`index.html`, `app/tabella-booth_bg.wasm`).
    pub path: String,
    /// Its size in bytes.
    pub size: u64,
    /// SHA-256 of its bytes.
    #[serde(with = "hex32")]
    pub sha256: [u8; 32],
}

impl BoothFile {
    /// Describes the file `path` holding `bytes`.
    pub fn describe(path: impl Into<String>, bytes: &[u8]) -> Self {
        Self {
            path: path.into(),
            size: bytes.len() as u64,
            sha256: Sha256::digest(bytes).into(),
        }
    }

    /// Checks that `bytes` are this file.
    ///
    /// # Errors
    /// [`BoothError::Mismatch`] when the size or the hash differs.
    pub fn check(&self, bytes: &[u8]) -> Result<(), BoothError> {
        if bytes.len() as u64 != self.size {
            return Err(BoothError::Mismatch {
                path: self.path.clone(),
                reason: format!("{} bytes, expected {}", bytes.len(), self.size),
            });
        }
        let sha256: [u8; 32] = Sha256::digest(bytes).into();
        if sha256 != self.sha256 {
            return Err(BoothError::Mismatch {
                path: self.path.clone(),
                reason: format!(
                    "SHA-256 {}, expected {}",
                    hex::encode(sha256),
                    hex::encode(self.sha256)
                ),
            });
        }
        Ok(())
    }
}

/// `booth.json`: every file of a built booth.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BoothManifest {
    /// [`BOOTH_FORMAT`].
    pub format: String,
    /// The files, sorted by path.
    pub files: Vec<BoothFile>,
}

/// The booth digest (spec/booth.md): 32 bytes, lowercase hex in JSON.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct BoothDigest(pub [u8; 32]);

impl BoothDigest {
    /// Exactly 32 bytes.
    ///
    /// # Errors
    /// Any other length.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, crate::group::EncodingError> {
        Ok(Self(crate::group::fixed("booth digest", bytes)?))
    }

    /// The digest bytes.
    pub fn to_bytes(&self) -> [u8; 32] {
        self.0
    }

    /// Lowercase hex.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }
}
crate::group::serde_hex!(BoothDigest, "booth digest");

impl std::fmt::Display for BoothDigest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl BoothManifest {
    /// The list for these files (any order; they are sorted here).
    ///
    /// # Errors
    /// The same as [`BoothManifest::validate`].
    pub fn from_files<'a>(
        files: impl IntoIterator<Item = (&'a str, &'a [u8])>,
    ) -> Result<Self, BoothError> {
        let mut files: Vec<BoothFile> = files
            .into_iter()
            .map(|(path, bytes)| BoothFile::describe(path, bytes))
            .collect();
        files.sort_by(|a, b| a.path.as_bytes().cmp(b.path.as_bytes()));
        let manifest = Self {
            format: BOOTH_FORMAT.to_owned(),
            files,
        };
        manifest.validate()?;
        Ok(manifest)
    }

    /// Reads and validates `booth.json`.
    ///
    /// # Errors
    /// [`BoothError::Json`] for bad JSON, else the same as [`BoothManifest::validate`].
    pub fn from_json(bytes: &[u8]) -> Result<Self, BoothError> {
        let manifest: Self =
            serde_json::from_slice(bytes).map_err(|e| BoothError::Json(e.to_string()))?;
        manifest.validate()?;
        Ok(manifest)
    }

    /// Checks the format, the file count, every path and their order, and that `index.html` is
    /// listed.
    ///
    /// # Errors
    /// The first rule broken.
    pub fn validate(&self) -> Result<(), BoothError> {
        if self.format != BOOTH_FORMAT {
            return Err(BoothError::Format(self.format.clone()));
        }
        if self.files.is_empty() || self.files.len() > MAX_BOOTH_FILES {
            return Err(BoothError::FileCount(self.files.len()));
        }
        let mut previous: Option<&str> = None;
        for file in &self.files {
            if !valid_path(&file.path) {
                return Err(BoothError::Path(file.path.clone()));
            }
            if previous.is_some_and(|p| p.as_bytes() >= file.path.as_bytes()) {
                return Err(BoothError::Order(file.path.clone()));
            }
            previous = Some(&file.path);
        }
        if self.file(BOOTH_INDEX).is_none() {
            return Err(BoothError::NoIndex);
        }
        Ok(())
    }

    /// The listed file at `path`.
    pub fn file(&self, path: &str) -> Option<&BoothFile> {
        self.files.iter().find(|f| f.path == path)
    }

    /// Checks that `bytes` are the listed file `path`.
    ///
    /// # Errors
    /// [`BoothError::Unlisted`] or [`BoothError::Mismatch`].
    pub fn check_file(&self, path: &str, bytes: &[u8]) -> Result<(), BoothError> {
        self.file(path)
            .ok_or_else(|| BoothError::Unlisted(path.to_owned()))?
            .check(bytes)
    }

    /// The booth digest:
    ///
    /// ```text
    /// SHA-256( len(BOOTH_DOMAIN) ‖ BOOTH_DOMAIN ‖ u32(files)
    ///          ‖ for each file, by path: len(path) ‖ path ‖ u64(size) ‖ sha256 )
    /// ```
    /// with `u64` lengths and the `u32` count little-endian, as the record digest.
    pub fn digest(&self) -> BoothDigest {
        let mut w = Canonical::new(BOOTH_DOMAIN);
        w.u32(self.files.len() as u32);
        for file in &self.files {
            w.bytes(file.path.as_bytes());
            w.u64(file.size);
            w.fixed(&file.sha256);
        }
        BoothDigest(w.sha256())
    }
}

fn valid_path(path: &str) -> bool {
    !path.is_empty()
        && path.len() <= MAX_BOOTH_PATH
        && !path.starts_with('/')
        && !path.ends_with('/')
        && path
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-' | b'/'))
        && path
            .split('/')
            .all(|part| !part.is_empty() && part != "." && part != "..")
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(all(target_arch = "wasm32", target_os = "unknown"))]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn sample() -> BoothManifest {
        BoothManifest::from_files([
            ("app/tabella-booth_bg.wasm", &b"\0asm"[..]),
            ("index.html", &b"<!doctype html>"[..]),
            ("app/style.css", &b"body{}"[..]),
        ])
        .unwrap()
    }

    #[test]
    fn files_are_sorted_and_checked() {
        let m = sample();
        let paths: Vec<&str> = m.files.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(
            paths,
            ["app/style.css", "app/tabella-booth_bg.wasm", "index.html"]
        );
        assert_eq!(m.check_file("index.html", b"<!doctype html>"), Ok(()));
        assert!(matches!(
            m.check_file("index.html", b"<!doctype html!"),
            Err(BoothError::Mismatch { .. })
        ));
        assert!(matches!(
            m.check_file("index.html", b"<!doctype"),
            Err(BoothError::Mismatch { .. })
        ));
        assert_eq!(
            m.check_file("app/evil.js", b""),
            Err(BoothError::Unlisted("app/evil.js".into()))
        );
    }

    #[test]
    fn json_round_trips_and_digest_depends_on_every_field() {
        let m = sample();
        let json = serde_json::to_vec(&m).unwrap();
        let back = BoothManifest::from_json(&json).unwrap();
        assert_eq!(back, m);
        let d = m.digest();
        for i in 0..m.files.len() {
            let mut t = m.clone();
            t.files[i].size += 1;
            assert_ne!(t.digest(), d);
            let mut t = m.clone();
            t.files[i].sha256[0] ^= 1;
            assert_ne!(t.digest(), d);
            let mut t = m.clone();
            t.files[i].path.push('x');
            assert_ne!(t.digest(), d);
        }
        let mut t = m.clone();
        t.files.pop();
        assert_ne!(t.digest(), d);
    }

    #[test]
    fn digest_vector() {
        // spec/booth.md §2 worked value.
        let m = BoothManifest::from_files([("index.html", &b"tabella"[..])]).unwrap();
        let mut pre = Vec::new();
        pre.extend_from_slice(&(BOOTH_DOMAIN.len() as u64).to_le_bytes());
        pre.extend_from_slice(BOOTH_DOMAIN);
        pre.extend_from_slice(&1u32.to_le_bytes());
        pre.extend_from_slice(&10u64.to_le_bytes());
        pre.extend_from_slice(b"index.html");
        pre.extend_from_slice(&7u64.to_le_bytes());
        pre.extend_from_slice(&Sha256::digest(b"tabella"));
        assert_eq!(m.digest().0, <[u8; 32]>::from(Sha256::digest(&pre)));
        let hex = m.digest().to_hex();
        assert_eq!(
            hex,
            "7a895d2261569fe5b8c0397a0b60c5489ed96f918ad5d9c81e3b70dcbb5c5684"
        );
        assert!(
            include_str!("../../spec/booth.md").contains(&hex),
            "spec/booth.md §2 shows the worked value {hex}"
        );
    }

    #[test]
    fn bad_lists_are_refused() {
        let good = sample();
        type Case = (BoothManifest, fn(&BoothError) -> bool);
        let cases: Vec<Case> = vec![
            (
                BoothManifest {
                    format: "tabella-booth/2".into(),
                    ..good.clone()
                },
                |e| matches!(e, BoothError::Format(_)),
            ),
            (
                BoothManifest {
                    files: vec![],
                    ..good.clone()
                },
                |e| matches!(e, BoothError::FileCount(0)),
            ),
            (
                {
                    let mut m = good.clone();
                    m.files.swap(0, 1);
                    m
                },
                |e| matches!(e, BoothError::Order(_)),
            ),
            (
                {
                    let mut m = good.clone();
                    let f = m.files[0].clone();
                    m.files.insert(0, f);
                    m
                },
                |e| matches!(e, BoothError::Order(_)),
            ),
            (
                {
                    let mut m = good.clone();
                    m.files.retain(|f| f.path != BOOTH_INDEX);
                    m
                },
                |e| matches!(e, BoothError::NoIndex),
            ),
        ];
        for (m, expected) in cases {
            let err = m.validate().unwrap_err();
            assert!(expected(&err), "{err}");
            let json = serde_json::to_vec(&m).unwrap();
            assert!(BoothManifest::from_json(&json).is_err());
        }
        for path in [
            "",
            "/index.html",
            "app/",
            "../x",
            "app/../x",
            "app//x",
            "./x",
            "a b",
            "é",
        ] {
            assert!(!valid_path(path), "{path:?}");
        }
        assert!(valid_path("app/tabella-booth_bg.wasm"));
        assert!(valid_path(&"a".repeat(MAX_BOOTH_PATH)));
        assert!(!valid_path(&"a".repeat(MAX_BOOTH_PATH + 1)));
        assert!(BoothManifest::from_json(b"{\"format\":1}").is_err());
        let mut with_unknown = serde_json::to_value(&good).unwrap();
        with_unknown["extra"] = serde_json::json!(1);
        assert!(matches!(
            BoothManifest::from_json(with_unknown.to_string().as_bytes()),
            Err(BoothError::Json(_))
        ));
    }
}
