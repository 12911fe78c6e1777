//! The served booth's digest, computed in the browser (spec/booth.md): `booth.json` and every
//! file it lists, fetched past every cache and checked byte for byte, then
//! `BoothManifest::digest`. The footer shows it and whether the election's manifest publishes
//! it; the observer page hands it to the verifier (V22).

use tabella_crypto::booth::{BoothDigest, BoothManifest, BOOTH_MANIFEST};
use tabella_crypto::manifest::Manifest;

use super::api;

/// What the browser found out about the booth it runs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum BoothCheck {
    /// Still fetching and hashing.
    Checking,
    /// This server publishes no `booth.json`: the booth cannot be identified.
    NotServed,
    /// `booth.json` or a file it lists is not what it should be.
    Broken(String),
    /// Every file matches `booth.json`, whose digest this is.
    Computed {
        /// The digest of the served booth.
        digest: BoothDigest,
        /// Whether the election's manifest publishes this digest (`None`: no election yet).
        published: Option<bool>,
    },
}

impl BoothCheck {
    /// The digest, once computed.
    pub(crate) fn digest(&self) -> Option<BoothDigest> {
        match self {
            BoothCheck::Computed { digest, .. } => Some(*digest),
            _ => None,
        }
    }
}

/// The booth digest an election's manifest publishes, if any.
pub(crate) fn published_booth(manifest: &Manifest) -> Option<BoothDigest> {
    manifest.booth
}

/// Fetches `booth.json` and every file it lists, checks each, and compares the digest with the
/// election's manifest.
pub(crate) async fn check_served_booth() -> BoothCheck {
    let list = match api::booth_file(BOOTH_MANIFEST).await {
        Ok(bytes) => bytes,
        Err(_) => return BoothCheck::NotServed,
    };
    let manifest = match BoothManifest::from_json(&list) {
        Ok(manifest) => manifest,
        Err(e) => return BoothCheck::Broken(e.to_string()),
    };
    for file in &manifest.files {
        let bytes = match api::booth_file(&file.path).await {
            Ok(bytes) => bytes,
            Err(e) => return BoothCheck::Broken(format!("{}: {}", file.path, e.words())),
        };
        if let Err(e) = manifest.check_file(&file.path, &bytes) {
            return BoothCheck::Broken(e.to_string());
        }
    }
    let digest = manifest.digest();
    let published = api::election()
        .await
        .ok()
        .map(|info| published_booth(&info.manifest) == Some(digest));
    BoothCheck::Computed { digest, published }
}
