//! The web ballot (booth) that `tabella serve --booth DIR` serves (spec/booth.md, spec/api.md
//! §14).
//!
//! At start-up [`Booth::load`] reads `DIR/booth.json` ([`BoothManifest`]) and every file it
//! lists, checks each against the list (size and SHA-256) and refuses to go on if anything is
//! missing or differs: the service never serves a file the booth digest does not cover. The files
//! are then kept in memory, each with a gzip copy (best compression) when that is smaller, and
//! served with their content type, their SHA-256 as `ETag`, `Cache-Control: no-cache` (the browser
//! revalidates, and gets `304 Not Modified` while the file is unchanged) and, on the HTML page, the
//! content security policy of the contract.

use std::collections::BTreeMap;
use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};

use axum::body::Bytes;
use axum::http::header::{
    ACCEPT_ENCODING, CACHE_CONTROL, CONTENT_ENCODING, CONTENT_SECURITY_POLICY, CONTENT_TYPE, ETAG,
    IF_NONE_MATCH, VARY, X_CONTENT_TYPE_OPTIONS,
};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use sha2::{Digest as _, Sha256};
use tabella_crypto::booth::{BoothDigest, BoothError, BoothManifest, BOOTH_INDEX, BOOTH_MANIFEST};

/// The content security policy of the booth's HTML page: scripts only from the service itself
/// (and the WebAssembly they compile), no inline script, no plug-ins, no framing.
pub const CONTENT_SECURITY_POLICY_VALUE: &str = "default-src 'self'; script-src 'self' \
     'wasm-unsafe-eval'; style-src 'self' 'unsafe-inline'; connect-src 'self'; img-src 'self' \
     data: blob:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

/// Why a booth directory was refused at start-up.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BoothLoadError {
    /// A file could not be read (`booth.json`, or a file it lists).
    #[error("could not read {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A file `booth.json` lists is not in the directory (or is not a regular file).
    #[error(
        "{} is listed in {BOOTH_MANIFEST} but missing from the booth directory (or not a regular \
         file): rebuild the booth (cargo xtask booth)",
        path.display()
    )]
    Missing {
        /// The file.
        path: PathBuf,
    },
    /// `booth.json` is not a valid file list.
    #[error("{} is not a valid booth file list: {source}", path.display())]
    List {
        /// `DIR/booth.json`.
        path: PathBuf,
        /// What is wrong with it.
        source: BoothError,
    },
    /// A file's bytes are not those `booth.json` lists.
    #[error(
        "{source}; the booth directory {} was changed after it was built: the service serves \
         only a booth whose every file matches its booth.json",
        dir.display()
    )]
    Mismatch {
        /// The booth directory.
        dir: PathBuf,
        /// Which file, and what differs.
        source: BoothError,
    },
    /// The gzip copy of a file could not be made.
    #[error("could not compress {path}: {source}")]
    Compress {
        /// The booth path.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
}

/// One file as served: its bytes, a gzip copy when smaller, its content type and `ETag`.
#[derive(Clone, Debug)]
pub struct BoothAsset {
    bytes: Bytes,
    gzip: Option<Bytes>,
    content_type: &'static str,
    etag: HeaderValue,
}

impl BoothAsset {
    fn new(path: &str, bytes: Vec<u8>) -> Result<Self, BoothLoadError> {
        let sha256: [u8; 32] = Sha256::digest(&bytes).into();
        let compress = |source| BoothLoadError::Compress {
            path: path.to_owned(),
            source,
        };
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        encoder.write_all(&bytes).map_err(compress)?;
        let gzip = encoder.finish().map_err(compress)?;
        // A quoted string of hex digits is always a valid header value.
        let etag = HeaderValue::from_str(&format!("\"{}\"", hex::encode(sha256)))
            .unwrap_or_else(|_| HeaderValue::from_static("\"\""));
        Ok(Self {
            gzip: (gzip.len() < bytes.len()).then(|| Bytes::from(gzip)),
            bytes: Bytes::from(bytes),
            content_type: content_type(path),
            etag,
        })
    }

    /// The file's bytes.
    pub fn bytes(&self) -> &Bytes {
        &self.bytes
    }

    /// The gzip copy, when it is smaller than the file.
    pub fn gzip(&self) -> Option<&Bytes> {
        self.gzip.as_ref()
    }

    /// Its `Content-Type`.
    pub fn content_type(&self) -> &'static str {
        self.content_type
    }

    /// The answer to a `GET` with `headers`: `304` when `If-None-Match` names this file, the
    /// gzip copy when the client accepts gzip, else the bytes.
    pub fn answer(&self, headers: &HeaderMap) -> Response {
        let mut response = if none_match(headers, &self.etag) {
            StatusCode::NOT_MODIFIED.into_response()
        } else {
            match self.gzip.as_ref().filter(|_| accepts_gzip(headers)) {
                Some(gzip) => {
                    let mut response = gzip.clone().into_response();
                    response
                        .headers_mut()
                        .insert(CONTENT_ENCODING, HeaderValue::from_static("gzip"));
                    response
                }
                None => self.bytes.clone().into_response(),
            }
        };
        let h = response.headers_mut();
        h.insert(CONTENT_TYPE, HeaderValue::from_static(self.content_type));
        h.insert(ETAG, self.etag.clone());
        h.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        h.insert(VARY, HeaderValue::from_static("Accept-Encoding"));
        h.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
        if self.content_type.starts_with("text/html") {
            h.insert(
                CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(CONTENT_SECURITY_POLICY_VALUE),
            );
        }
        response
    }
}

/// A booth, loaded and checked: `booth.json` and every file it lists.
#[derive(Clone, Debug)]
pub struct Booth {
    manifest: BoothManifest,
    digest: BoothDigest,
    /// Every listed file, and `booth.json` itself, by path.
    files: BTreeMap<String, BoothAsset>,
}

impl Booth {
    /// Reads `dir/booth.json` and every file it lists, and checks each against the list.
    ///
    /// # Errors
    /// An unreadable or invalid `booth.json`; a listed file that is missing, unreadable, or not
    /// the file listed (its size or SHA-256 differs).
    pub fn load(dir: &Path) -> Result<Self, BoothLoadError> {
        let BoothDir {
            manifest,
            list,
            files,
        } = read_dir(dir)?;
        Self::assemble(manifest, list, files)
    }

    /// A booth from its `booth.json` bytes and the listed files' bytes (checked here).
    ///
    /// # Errors
    /// As [`Booth::load`].
    pub fn from_parts(
        list: Vec<u8>,
        files: impl IntoIterator<Item = (String, Vec<u8>)>,
    ) -> Result<Self, BoothLoadError> {
        let manifest = BoothManifest::from_json(&list).map_err(|source| BoothLoadError::List {
            path: PathBuf::from(BOOTH_MANIFEST),
            source,
        })?;
        let files: BTreeMap<String, Vec<u8>> = files.into_iter().collect();
        let mut checked = Vec::with_capacity(manifest.files.len());
        for file in &manifest.files {
            let bytes = files
                .get(&file.path)
                .ok_or_else(|| BoothLoadError::Missing {
                    path: PathBuf::from(&file.path),
                })?;
            file.check(bytes)
                .map_err(|source| BoothLoadError::Mismatch {
                    dir: PathBuf::from("."),
                    source,
                })?;
            checked.push((file.path.clone(), bytes.clone()));
        }
        Self::assemble(manifest, list, checked)
    }

    fn assemble(
        manifest: BoothManifest,
        list: Vec<u8>,
        files: Vec<(String, Vec<u8>)>,
    ) -> Result<Self, BoothLoadError> {
        let mut assets = BTreeMap::new();
        for (path, bytes) in files {
            assets.insert(path.clone(), BoothAsset::new(&path, bytes)?);
        }
        assets.insert(
            BOOTH_MANIFEST.to_owned(),
            BoothAsset::new(BOOTH_MANIFEST, list)?,
        );
        Ok(Self {
            digest: manifest.digest(),
            manifest,
            files: assets,
        })
    }

    /// The booth digest (spec/booth.md §2).
    pub fn digest(&self) -> BoothDigest {
        self.digest
    }

    /// `booth.json`.
    pub fn manifest(&self) -> &BoothManifest {
        &self.manifest
    }

    /// The file at `path` (a booth path such as `app/boot.js`, or `booth.json`).
    pub fn file(&self, path: &str) -> Option<&BoothAsset> {
        self.files.get(path)
    }

    /// The page every route of the app answers (`index.html`).
    pub fn index(&self) -> Option<&BoothAsset> {
        self.files.get(BOOTH_INDEX)
    }

    /// The total size of the files and of their gzip copies (for the start-up log).
    pub fn sizes(&self) -> (u64, u64) {
        self.files.values().fold((0, 0), |(plain, gz), a| {
            (
                plain + a.bytes.len() as u64,
                gz + a.gzip.as_ref().unwrap_or(&a.bytes).len() as u64,
            )
        })
    }
}

/// A booth directory as read by [`read_dir`], every file checked.
#[derive(Debug)]
pub struct BoothDir {
    /// `booth.json`, validated.
    pub manifest: BoothManifest,
    /// Its bytes.
    pub list: Vec<u8>,
    /// Every listed file, by path, with its bytes.
    pub files: Vec<(String, Vec<u8>)>,
}

/// Reads the booth in `dir`: `booth.json` (validated), its bytes, and every file it lists,
/// checked against it (size and SHA-256). What `tabella serve --booth` and `tabella verify
/// --booth DIR` read.
///
/// # Errors
/// As [`Booth::load`].
pub fn read_dir(dir: &Path) -> Result<BoothDir, BoothLoadError> {
    let list_path = dir.join(BOOTH_MANIFEST);
    let list = read_regular(&list_path)?;
    let manifest = BoothManifest::from_json(&list).map_err(|source| BoothLoadError::List {
        path: list_path.clone(),
        source,
    })?;
    let mut files = Vec::with_capacity(manifest.files.len());
    for file in &manifest.files {
        // The list's paths are relative, without `..` or empty parts (validated above): joining
        // them never leaves `dir`.
        let path = dir.join(&file.path);
        let bytes = read_regular(&path)?;
        file.check(&bytes)
            .map_err(|source| BoothLoadError::Mismatch {
                dir: dir.to_path_buf(),
                source,
            })?;
        files.push((file.path.clone(), bytes));
    }
    Ok(BoothDir {
        manifest,
        list,
        files,
    })
}

/// Reads `path` if it is a regular file (following links).
fn read_regular(path: &Path) -> Result<Vec<u8>, BoothLoadError> {
    let read = |source| BoothLoadError::Read {
        path: path.to_path_buf(),
        source,
    };
    match std::fs::metadata(path) {
        Ok(meta) if meta.is_file() => {}
        Ok(_) => {
            return Err(BoothLoadError::Missing {
                path: path.to_path_buf(),
            })
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(BoothLoadError::Missing {
                path: path.to_path_buf(),
            })
        }
        Err(e) => return Err(read(e)),
    }
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|mut f| f.read_to_end(&mut bytes))
        .map_err(read)?;
    Ok(bytes)
}

/// The `Content-Type` of a booth file, by its extension.
pub fn content_type(path: &str) -> &'static str {
    let extension = path.rsplit_once('.').map_or("", |(_, e)| e);
    match extension {
        "html" | "htm" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "wasm" => "application/wasm",
        "css" => "text/css; charset=utf-8",
        "json" | "map" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "txt" => "text/plain; charset=utf-8",
        "woff2" => "font/woff2",
        _ => "application/octet-stream",
    }
}

/// Whether `Accept-Encoding` accepts gzip (`gzip` or `*`, with a non-zero `q`).
pub fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers
        .get_all(ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|item| {
            let mut parts = item.split(';');
            let coding = parts.next().unwrap_or("").trim();
            let q_zero = parts.any(|p| {
                p.trim()
                    .strip_prefix("q=")
                    .and_then(|q| q.trim().parse::<f32>().ok())
                    .is_some_and(|q| q <= 0.0)
            });
            (coding.eq_ignore_ascii_case("gzip") || coding == "*") && !q_zero
        })
}

/// Whether `If-None-Match` names `etag` (weak comparison, or `*`).
pub fn none_match(headers: &HeaderMap, etag: &HeaderValue) -> bool {
    let Ok(etag) = etag.to_str() else {
        return false;
    };
    headers
        .get_all(IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|tag| tag.trim())
        .any(|tag| tag == "*" || tag.strip_prefix("W/").unwrap_or(tag) == etag)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (name, value) in pairs {
            h.append(*name, HeaderValue::from_str(value).unwrap());
        }
        h
    }

    #[test]
    fn gzip_is_accepted_unless_refused() {
        assert!(accepts_gzip(&headers(&[("accept-encoding", "gzip")])));
        assert!(accepts_gzip(&headers(&[(
            "accept-encoding",
            "br;q=1.0, gzip;q=0.8, *;q=0.1"
        )])));
        assert!(accepts_gzip(&headers(&[("accept-encoding", "GZIP")])));
        assert!(accepts_gzip(&headers(&[("accept-encoding", "*")])));
        assert!(!accepts_gzip(&headers(&[])));
        assert!(!accepts_gzip(&headers(&[(
            "accept-encoding",
            "br, deflate"
        )])));
        assert!(!accepts_gzip(&headers(&[("accept-encoding", "gzip;q=0")])));
        assert!(!accepts_gzip(&headers(&[("accept-encoding", "identity")])));
    }

    #[test]
    fn if_none_match_compares_weakly() {
        let etag = HeaderValue::from_static("\"abc\"");
        assert!(none_match(&headers(&[("if-none-match", "\"abc\"")]), &etag));
        assert!(none_match(
            &headers(&[("if-none-match", "W/\"abc\"")]),
            &etag
        ));
        assert!(none_match(
            &headers(&[("if-none-match", "\"x\", \"abc\"")]),
            &etag
        ));
        assert!(none_match(&headers(&[("if-none-match", "*")]), &etag));
        assert!(!none_match(
            &headers(&[("if-none-match", "\"abd\"")]),
            &etag
        ));
        assert!(!none_match(&headers(&[]), &etag));
    }

    #[test]
    fn content_types_follow_the_extension() {
        assert_eq!(content_type("index.html"), "text/html; charset=utf-8");
        assert_eq!(
            content_type("app/boot.js"),
            "text/javascript; charset=utf-8"
        );
        assert_eq!(
            content_type("app/tabella-booth_bg.wasm"),
            "application/wasm"
        );
        assert_eq!(content_type("app/style.css"), "text/css; charset=utf-8");
        assert_eq!(content_type("booth.json"), "application/json");
        assert_eq!(content_type("LICENSE"), "application/octet-stream");
    }

    #[test]
    fn a_booth_is_checked_file_by_file() {
        let index = b"<!doctype html><script type=module src=app/x.js></script>".to_vec();
        let script = b"console.log('booth');".repeat(20);
        let list = BoothManifest::from_files([
            ("index.html", index.as_slice()),
            ("app/x.js", script.as_slice()),
        ])
        .unwrap();
        let list = serde_json::to_vec(&list).unwrap();
        let booth = Booth::from_parts(
            list.clone(),
            [
                ("index.html".to_owned(), index.clone()),
                ("app/x.js".to_owned(), script.clone()),
            ],
        )
        .unwrap();
        assert_eq!(booth.digest(), booth.manifest().digest());
        assert_eq!(booth.file("app/x.js").unwrap().bytes().as_ref(), script);
        // Repetitive text compresses.
        let gz = booth.file("app/x.js").unwrap().gzip().unwrap();
        let mut back = Vec::new();
        flate2::read::GzDecoder::new(gz.as_ref())
            .read_to_end(&mut back)
            .unwrap();
        assert_eq!(back, script);
        assert_eq!(booth.file(BOOTH_MANIFEST).unwrap().bytes().as_ref(), list);
        // A changed or missing file is refused.
        let err = Booth::from_parts(
            list.clone(),
            [
                ("index.html".to_owned(), index.clone()),
                ("app/x.js".to_owned(), b"alert(1)".to_vec()),
            ],
        )
        .unwrap_err();
        assert!(matches!(err, BoothLoadError::Mismatch { .. }), "{err}");
        let err = Booth::from_parts(list, [("index.html".to_owned(), index)]).unwrap_err();
        assert!(matches!(err, BoothLoadError::Missing { .. }), "{err}");
    }
}
