//! The command line's side of the chain (spec/anchoring.md): which chain to talk to
//! (`--chain-dir` for the embedded chain, `--rpc-url` for any Ethereum JSON-RPC endpoint), which
//! registry (`--registry`), and with which key (`--signer-key-file` or `TABELLA_SIGNER_KEY`).
//! `tabella verify` reads the registry's evidence through it, `tabella cast --fallback` sends a
//! ballot through it.

use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context as _};
use clap::Args;
use tabella_contracts::{Chain, Registry, Signer};
use tabella_crypto::ballot::ElectionId;
use tabella_crypto::record::ChainEvidence;

/// The environment variable holding the signer's key (hex), when `--signer-key-file` is not
/// given.
pub const SIGNER_KEY_ENV: &str = "TABELLA_SIGNER_KEY";

/// Where the chain is.
#[derive(Debug, Clone, Default, Args)]
pub struct ChainArgs {
    /// The embedded chain's directory (the service's `DATA_DIR/chain`; the demo's
    /// `tabella-data/chain`). Read without taking the writer's lock.
    #[arg(long, value_name = "DIR", conflicts_with = "rpc_url")]
    pub chain_dir: Option<PathBuf>,
    /// Any Ethereum JSON-RPC endpoint (an L1 or an L2), e.g. http://127.0.0.1:8545.
    #[arg(long, value_name = "URL")]
    pub rpc_url: Option<String>,
    /// The registry contract's address (0x and 40 hex digits). Default: the one the record's
    /// anchors.json (or the service) names; pin it from the election's publication to be sure
    /// you check the right contract.
    #[arg(long, value_name = "ADDRESS", value_parser = parse_address)]
    pub registry: Option<[u8; 20]>,
}

impl ChainArgs {
    /// Whether a chain was named.
    pub fn given(&self) -> bool {
        self.chain_dir.is_some() || self.rpc_url.is_some()
    }

    /// Connects to the named chain to send transactions, or `None` when none was named. The
    /// embedded chain takes its writer's lock: it fails while a service writes to it.
    pub async fn connect_for_writing(&self) -> anyhow::Result<Option<Chain>> {
        if let Some(dir) = &self.chain_dir {
            let chain = Chain::embedded(dir).with_context(|| {
                format!(
                    "could not open the embedded chain in {} for writing (is a service using it?)",
                    dir.display()
                )
            })?;
            return Ok(Some(chain));
        }
        self.connect().await
    }

    /// Connects to the named chain for reading, or `None` when none was named.
    pub async fn connect(&self) -> anyhow::Result<Option<Chain>> {
        if let Some(dir) = &self.chain_dir {
            return open_embedded_read_only(dir).map(Some);
        }
        if let Some(url) = &self.rpc_url {
            let chain = Chain::rpc(url)
                .await
                .with_context(|| format!("could not reach the Ethereum node at {url}"))?;
            return Ok(Some(chain));
        }
        Ok(None)
    }
}

/// Opens the embedded chain in `dir` for reading, saying what `dir` should be when it is not one.
fn open_embedded_read_only(dir: &Path) -> anyhow::Result<Chain> {
    if !dir.is_dir() {
        bail!(
            "{} is not a directory: --chain-dir names the embedded chain's directory (DATA_DIR/chain)",
            dir.display()
        );
    }
    Chain::embedded_read_only(dir)
        .with_context(|| format!("could not read the embedded chain in {}", dir.display()))
}

/// The signer's key.
#[derive(Debug, Clone, Default, Args)]
pub struct SignerArgs {
    /// A file holding the signer's private key (64 hex digits). Default: the environment
    /// variable TABELLA_SIGNER_KEY.
    #[arg(long, value_name = "FILE")]
    pub signer_key_file: Option<PathBuf>,
    /// Sign with a development account's well-known key (0–9: the embedded chain's and
    /// Hardhat's prefunded accounts). Never on a public chain.
    #[arg(long, value_name = "N", conflicts_with = "signer_key_file")]
    pub dev_account: Option<usize>,
}

impl SignerArgs {
    /// The signer: from the file, the development account, or the environment.
    pub fn signer(&self) -> anyhow::Result<Signer> {
        if let Some(path) = &self.signer_key_file {
            return Signer::from_file(path)
                .with_context(|| format!("could not read the signer key in {}", path.display()));
        }
        if let Some(index) = self.dev_account {
            if index >= 10 {
                bail!("--dev-account is 0 to 9, not {index}");
            }
            return Ok(Signer::dev(index));
        }
        match std::env::var(SIGNER_KEY_ENV) {
            Ok(key) => Signer::from_hex(key.trim())
                .with_context(|| format!("{SIGNER_KEY_ENV} does not hold a private key")),
            Err(_) => Err(anyhow!(
                "no signer key: give --signer-key-file FILE, set {SIGNER_KEY_ENV}, or (on a \
                 development chain) --dev-account N"
            )),
        }
    }
}

/// Parses a contract address for the command line: `0x` and 40 hex digits (either case), as
/// [`Registry::parse_address`] reads it, with the error in words for clap.
pub fn parse_address(s: &str) -> Result<[u8; 20], String> {
    if s.trim() != s {
        return Err(format!("expected 0x and 40 hex digits, got {s:?}"));
    }
    Registry::parse_address(s).map_err(|_| format!("expected 0x and 40 hex digits, got {s:?}"))
}

/// Reads what the registry at `address` holds about `election`.
pub async fn read_evidence(
    chain: &Chain,
    address: [u8; 20],
    election: &ElectionId,
) -> anyhow::Result<ChainEvidence> {
    let registry = Registry::at(chain, address);
    registry.evidence(election.0).await.with_context(|| {
        format!(
            "could not read the election from the registry {}",
            registry.address_hex()
        )
    })
}

/// A single-threaded runtime for a command's chain calls.
pub fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("could not start the async runtime")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_parse_strictly() {
        let a = parse_address("0x5FbDB2315678afecb367f032d93F642f64180aa3");
        assert_eq!(a.map(|a| a[0]), Ok(0x5f));
        assert!(parse_address("5FbDB2315678afecb367f032d93F642f64180aa3").is_err());
        assert!(parse_address("0x5FbDB2315678afecb367f032d93F642f64180a").is_err());
        assert!(parse_address("0x5FbDB2315678afecb367f032d93F642f64180aZ3").is_err());
    }

    #[test]
    fn missing_signer_is_explained() {
        let args = SignerArgs::default();
        if std::env::var(SIGNER_KEY_ENV).is_err() {
            let err = args.signer().map(|_| ()).unwrap_err().to_string();
            assert!(err.contains("--signer-key-file"), "{err}");
        }
        let dev = SignerArgs {
            dev_account: Some(10),
            ..SignerArgs::default()
        };
        assert!(dev.signer().is_err());
    }
}
