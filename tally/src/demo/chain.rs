//! The demo's chain: the embedded chain by default (its state kept next to the record, or in
//! `--data-dir`), or a real node (`--rpc-url`); the service anchors there, and the demo plays a
//! voter who casts through the contract and the development chain's clock.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};
use rand::RngCore;
use tabella_contracts::{Chain, Registry, Signer};
use tabella_crypto::ballot::{ElectionContext, ElectionId};
use tabella_crypto::credential::{CredentialCode, CredentialSecret};
use tabella_crypto::record::ChainEvidence;

use crate::api::{AnchorItem, AnchorKind, AnchorState, IssuedCredential};
use crate::client::ElectionClient;
use crate::service::anchor::{self, AnchorConfig, ChainSpec};

use super::DemoOptions;

/// Seconds voting lasts on the demo's chain; the demo then moves the development chain's clock
/// to the close.
pub const DEMO_VOTING_PERIOD: u64 = 3600;
/// The demo's checkpoint interval.
pub const DEMO_CHECKPOINT_INTERVAL: Duration = Duration::from_secs(2);
/// The development account that casts the demo's fallback ballot (the operator is account 0).
pub const FALLBACK_ACCOUNT: usize = 1;

/// How long the demo waits for an anchor to land before giving up.
const LAND_TIMEOUT: Duration = Duration::from_secs(120);

/// The demo's chain and what it printed of it.
pub struct DemoChain {
    runtime: tokio::runtime::Runtime,
    chain: Chain,
    embedded: Option<PathBuf>,
    rpc_url: Option<String>,
    registry: Option<String>,
    signer: Option<Signer>,
    chain_id: u64,
    printed: BTreeSet<(AnchorKind, Option<u64>)>,
}

impl std::fmt::Debug for DemoChain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DemoChain")
            .field("embedded", &self.embedded)
            .finish_non_exhaustive()
    }
}

impl DemoChain {
    /// The chain the options ask for: `None` with `--no-chain`; the embedded chain in
    /// `chain_dir` by default; the node at `--rpc-url` otherwise.
    ///
    /// # Errors
    /// A chain that cannot be opened or reached, or an unreadable key.
    pub fn open(opts: &DemoOptions, chain_dir: &Path) -> anyhow::Result<Option<Self>> {
        if opts.no_chain {
            return Ok(None);
        }
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .context("could not start the demo's chain runtime")?;
        let signer = match &opts.signer_key_file {
            Some(path) => Some(
                Signer::from_file(path)
                    .with_context(|| format!("{} does not hold an operator key", path.display()))?,
            ),
            None => None,
        };
        let (chain, embedded) = match &opts.rpc_url {
            Some(url) => (
                runtime.block_on(Chain::rpc(url)).with_context(|| {
                    format!("could not reach the chain at {}", anchor::redact_url(url))
                })?,
                None,
            ),
            None => {
                std::fs::create_dir_all(chain_dir)
                    .with_context(|| format!("could not create {}", chain_dir.display()))?;
                (
                    Chain::embedded(chain_dir).with_context(|| {
                        format!(
                            "could not open the embedded chain in {}",
                            chain_dir.display()
                        )
                    })?,
                    Some(chain_dir.to_path_buf()),
                )
            }
        };
        let chain_id = runtime.block_on(chain.chain_id())?;
        Ok(Some(Self {
            runtime,
            chain_id,
            chain,
            embedded,
            rpc_url: opts.rpc_url.clone(),
            registry: opts.registry.clone(),
            signer,
            printed: BTreeSet::new(),
        }))
    }

    /// The service's anchoring configuration: the same embedded chain (shared, not opened
    /// twice), or the same node.
    ///
    /// # Errors
    /// No operator key for a real node.
    pub fn service_config(&mut self) -> anyhow::Result<AnchorConfig> {
        let signer = match self.signer.take() {
            Some(signer) => signer,
            None if self.rpc_url.is_none() => Signer::try_dev(0)?,
            None => bail!(
                "the demo on --rpc-url needs the operator's key (--signer-key-file FILE), an \
                 account the node has funded"
            ),
        };
        Ok(AnchorConfig {
            chain: match &self.rpc_url {
                Some(url) => ChainSpec::Rpc(url.clone()),
                None => ChainSpec::Connected(self.chain.clone()),
            },
            signer,
            registry: self.registry.clone(),
            checkpoint_interval: DEMO_CHECKPOINT_INTERVAL,
            voting_period: DEMO_VOTING_PERIOD,
            challenge_period: anchor::DEFAULT_CHALLENGE_PERIOD,
        })
    }

    /// One line about the chain.
    pub fn describe(&self) -> String {
        match (&self.embedded, &self.rpc_url) {
            (Some(dir), _) => format!(
                "embedded EVM (revm, the registry's compiled bytecode), chain id {}, state in {}",
                self.chain_id,
                dir.display()
            ),
            (None, Some(url)) => format!(
                "JSON-RPC node {}, chain id {}",
                anchor::redact_url(url),
                self.chain_id
            ),
            (None, None) => format!("chain id {}", self.chain_id),
        }
    }

    /// The directory of the embedded chain's state, if embedded.
    pub fn embedded_dir(&self) -> Option<&Path> {
        self.embedded.as_deref()
    }

    /// Prints every anchor transaction that landed since the last call, one line each.
    ///
    /// # Errors
    /// The service out of reach.
    pub fn print_new(&mut self, client: &ElectionClient) -> anyhow::Result<()> {
        let status = client.anchoring()?;
        for item in status.items {
            if item.state == AnchorState::Done && self.printed.insert((item.kind, item.size)) {
                println!("anchor       {}", anchor_line(&item));
            }
        }
        Ok(())
    }

    /// Waits until the service has anchored an item of `kind` (of `size` for a checkpoint),
    /// printing every anchor that lands meanwhile.
    ///
    /// # Errors
    /// Not landed within two minutes (the last error is named), or the service out of reach.
    pub fn wait_for(
        &mut self,
        client: &ElectionClient,
        kind: AnchorKind,
        size: Option<u64>,
    ) -> anyhow::Result<()> {
        let started = Instant::now();
        loop {
            self.print_new(client)?;
            let status = client.anchoring()?;
            let item = status
                .items
                .iter()
                .find(|i| i.kind == kind && (size.is_none() || i.size == size));
            match item {
                Some(item) if item.state == AnchorState::Done => return Ok(()),
                _ if started.elapsed() > LAND_TIMEOUT => bail!(
                    "the {} was not anchored on chain within {LAND_TIMEOUT:?}{}",
                    kind.as_str(),
                    item.and_then(|i| i.last_error.as_deref())
                        .map(|e| format!(": {e}"))
                        .unwrap_or_default()
                ),
                _ => std::thread::sleep(Duration::from_millis(50)),
            }
        }
    }

    /// Prints the registry and the operator the service anchors with.
    ///
    /// # Errors
    /// The service out of reach.
    pub fn print_registry(&self, client: &ElectionClient) -> anyhow::Result<()> {
        let status = client.anchoring()?;
        println!(
            "registry     {} (operator {})",
            status.contract.as_deref().unwrap_or("?"),
            status.operator.as_deref().unwrap_or("?")
        );
        Ok(())
    }

    /// The registry the service anchors in (known once the election is registered).
    fn registry(&self, client: &ElectionClient) -> anyhow::Result<Registry> {
        let contract = client
            .anchoring()?
            .contract
            .context("the service names no registry contract yet")?;
        let address = Registry::parse_address(&contract)
            .with_context(|| format!("the service names the registry {contract:?}"))?;
        Ok(Registry::at(&self.chain, address))
    }

    /// A voter casts through the contract instead of the board: encrypts a ballot with
    /// `choices` from `voter`'s credential code and sends it with `castFallback`, from a
    /// development account other than the operator's. Prints the transaction.
    ///
    /// # Errors
    /// A ballot that cannot be made, or a transaction that fails.
    pub fn cast_fallback(
        &self,
        client: &ElectionClient,
        ctx: &ElectionContext,
        voter: &IssuedCredential,
        choices: &[Vec<u64>],
        rng: &mut (impl RngCore + rand::CryptoRng),
    ) -> anyhow::Result<String> {
        let code = CredentialCode::parse(&voter.code).context("the voter's code is malformed")?;
        let election: ElectionId = *ctx.election_id();
        let credential = CredentialSecret::derive(&code, &election.0);
        let (ballot, _) = ctx.encrypt_ballot(choices, &credential, rng)?;
        let bytes = ballot.to_bytes();
        let registry = self.registry(client)?;
        let voter_account = Signer::try_dev(FALLBACK_ACCOUNT)?;
        let receipt = self
            .runtime
            .block_on(registry.cast_fallback(&voter_account, election.0, bytes))
            .context("the fallback ballot could not be cast through the contract")?;
        if !receipt.success {
            bail!(
                "the fallback ballot's transaction {} reverted",
                receipt.hash_hex()
            );
        }
        println!(
            "fallback     {} casts through the contract instead of the board (account {})",
            voter.voter_id,
            voter_account.address_hex()
        );
        println!(
            "anchor       {:<16} block {:<6} gas {:>9}  tx {}",
            "castFallback",
            receipt.block_number,
            thousands(receipt.gas_used),
            receipt.hash_hex()
        );
        Ok(receipt.hash_hex())
    }

    /// Moves the development chain's clock to the close registered on chain (as Hardhat's
    /// `evm_increaseTime` does), so that voting can close without waiting out the period.
    ///
    /// # Errors
    /// The chain cannot move its clock (a real network), or is out of reach.
    pub fn advance_to_close(&self, client: &ElectionClient) -> anyhow::Result<()> {
        let closes_at = client
            .anchoring()?
            .closes_at
            .context("the election is not registered on chain")?;
        let now = self.runtime.block_on(self.chain.time())?;
        if now >= closes_at {
            return Ok(());
        }
        let step = closes_at - now;
        self.runtime
            .block_on(self.chain.advance_time(step))
            .context("the chain's clock cannot be moved (only a development chain's can)")?;
        println!(
            "chain clock  moved {step} s ahead to closesAt ({}): a development chain's clock, as \
             Hardhat's evm_increaseTime moves it; on a real chain the service waits for that time",
            anchor::utc(closes_at)
        );
        Ok(())
    }

    /// The registry's evidence for the election, read from the chain.
    ///
    /// # Errors
    /// The chain out of reach.
    pub fn evidence(
        &self,
        client: &ElectionClient,
        election: ElectionId,
    ) -> anyhow::Result<ChainEvidence> {
        let registry = self.registry(client)?;
        Ok(self.runtime.block_on(registry.evidence(election.0))?)
    }
}

/// `checkpoint 412   block 7   gas 98,123   tx 0x…`.
fn anchor_line(item: &AnchorItem) -> String {
    let what = match (item.kind, item.size) {
        (AnchorKind::Election, _) => "registration".to_string(),
        (AnchorKind::Checkpoint, Some(size)) => format!("checkpoint {size}"),
        (AnchorKind::Result, _) => "result".to_string(),
        (kind, _) => kind.as_str().to_string(),
    };
    format!(
        "{what:<16} block {:<6} gas {:>9}  tx {}",
        item.block_number
            .map_or_else(|| "?".to_string(), |b| b.to_string()),
        item.gas_used.map_or_else(|| "?".to_string(), thousands),
        item.transaction.as_deref().unwrap_or("?")
    )
}

/// `1234567` as `1,234,567`.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gas_reads_in_thousands() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }
}
