//! On-chain anchoring (spec/anchoring.md §3, spec/api.md §12): the durable queue of what the
//! service anchors in the registry contract, and the background worker that sends it.
//!
//! What is anchored, in this order:
//!
//! 1. the election's registration (`createElection`) when voting opens, from the signed
//!    election parameters and the key ceremony; `opensAt` is the chain's time when it is sent
//!    and `closesAt = opensAt + voting period`;
//! 2. a checkpoint of the board's signed tree head at every interval in which the board grew;
//! 3. the final tree head at the close (after the ballots cast through the contract are on the
//!    board);
//! 4. the result after the tally: the tally digest, the record digest without `anchors.json`
//!    (computed with [`record::produce`], the function `tabella election export` writes the
//!    record with) and the final tree head.
//!
//! Each item is queued in the database (`anchor_queue`) once: its name (`election`,
//! `checkpoint-<size>`, `result`) is unique. The worker sends the items in order, one at a
//! time. Before sending, it asks the chain whether the item is already there (the registration
//! exists; the last checkpoint's size is at least this one; the result is published): an item
//! whose transaction was sent by a service that crashed before recording it is then found, not
//! sent again. The item is marked `sending` before its transaction goes out, and the contract
//! itself refuses a second registration, a checkpoint that does not grow and a second result, so
//! nothing is ever anchored twice. Transient failures (the chain out of reach) are retried with
//! exponential backoff; a refusal (a revert) is reported and retried only once the state it needs
//! has arrived (the result waits for the chain's time to reach `closesAt`).
//!
//! The items are also derived again from the election's state at every turn of the worker
//! (registration once open, final checkpoint once closed, result once tallied), so a crash
//! between a state change and its queueing loses nothing.

use std::path::PathBuf;
use std::sync::{Arc, Weak};
use std::time::Duration;

use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
/// The registry contract's client the anchoring configuration is made of ([`Chain`],
/// [`Signer`]), for callers that build one (the demo, tests).
pub use tabella_contracts as contracts;
use tabella_contracts::{Chain, ChainError, ElectionRegistration, Registry, Signer, TxReceipt};
use tabella_crypto::ballot::{ElectionId, TrackingCode};
use tabella_crypto::board::receipt::{EntryKind, SignedTreeHead};
use tabella_crypto::ceremony::CeremonyParams;
use tabella_crypto::record::{
    trustee_keys_digest, AnchoredCheckpoint, Anchors, ChainEvidence, FallbackBallot,
    RejectedFallbackBallot, SignedElectionParameters,
};
use tokio::sync::{Notify, OnceCell};

use super::db::{AnchorRow, AnchorUpdate, Db, DbError, FallbackRow};
use super::error::AppError;
use super::metrics::Metrics;
use super::record::{self, DbSource, DigestOnly};
use super::{AppState, Election};
use crate::api::{AnchorItem, AnchorKind, AnchorState, AnchoringStatus, ElectionState};
use crate::ceremony::CEREMONY;

/// The default interval between checkpoints of a growing board.
pub const DEFAULT_CHECKPOINT_INTERVAL: Duration = Duration::from_secs(60);
/// The default voting period of `tabella serve`: `closesAt = opensAt + 1 day`.
pub const DEFAULT_VOTING_PERIOD: u64 = 86_400;
/// The default challenge period after the result: 7 days.
pub const DEFAULT_CHALLENGE_PERIOD: u64 = 7 * 86_400;

/// The first wait after a transient failure; it doubles up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_millis(250);
/// The longest wait between attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(60);
/// How often an idle worker looks at the election anyway.
const IDLE_POLL: Duration = Duration::from_secs(1);

/// The `anchor_settings` entry holding the chain id the election is anchored on.
const CHAIN_ID_SETTING: &str = "chain_id";
/// The `anchor_settings` entry holding the registry's address.
const REGISTRY_SETTING: &str = "registry";
/// The `anchor_settings` entry holding the block the service deployed the registry in (events
/// are read from there on).
const REGISTRY_BLOCK_SETTING: &str = "registry_block";

/// Which chain the service anchors on.
pub enum ChainSpec {
    /// The embedded chain (revm), its state in this directory (`DATA_DIR/chain`).
    Embedded(PathBuf),
    /// Any Ethereum JSON-RPC endpoint.
    Rpc(String),
    /// A chain the caller already holds (the demo shares its embedded chain with the service).
    Connected(Chain),
}

impl std::fmt::Debug for ChainSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Embedded(dir) => write!(f, "Embedded({})", dir.display()),
            // The URL may carry an API key: only its scheme and host are shown.
            Self::Rpc(url) => write!(f, "Rpc({})", redact_url(url)),
            Self::Connected(_) => write!(f, "Connected"),
        }
    }
}

/// The URL's scheme and host only (RPC URLs often carry an API key in their path or query).
pub fn redact_url(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(parsed) => format!(
            "{}://{}{}",
            parsed.scheme(),
            parsed.host_str().unwrap_or(""),
            parsed.port().map(|p| format!(":{p}")).unwrap_or_default()
        ),
        Err(_) => "<unparsable URL>".to_string(),
    }
}

/// How the service anchors (`tabella serve --embedded-chain` or `--rpc-url`).
pub struct AnchorConfig {
    /// The chain.
    pub chain: ChainSpec,
    /// The operator: the account that registers the election and sends every anchor.
    pub signer: Signer,
    /// The registry's address (`0x…`); when `None`, the service deploys one at the first
    /// anchor and keeps its address in the database.
    pub registry: Option<String>,
    /// Time between checkpoints of a growing board.
    pub checkpoint_interval: Duration,
    /// Seconds from `opensAt` to `closesAt`.
    pub voting_period: u64,
    /// Seconds of the challenge window after the result.
    pub challenge_period: u64,
}

impl std::fmt::Debug for AnchorConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AnchorConfig")
            .field("chain", &self.chain)
            .field("operator", &self.signer.address_hex())
            .field("registry", &self.registry)
            .field("checkpoint_interval", &self.checkpoint_interval)
            .field("voting_period", &self.voting_period)
            .field("challenge_period", &self.challenge_period)
            .finish()
    }
}

/// Why an anchoring step did not go through.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AnchorError {
    /// The chain could not be reached or did not answer: retried with backoff.
    #[error("the chain is out of reach: {0}")]
    Transient(String),
    /// The contract refused the transaction (a revert), or the chain holds something that
    /// disagrees with the service.
    #[error("the chain refused: {0}")]
    Refused(String),
    /// The configuration cannot work (another chain or registry than the election's).
    #[error("{0}")]
    Configuration(String),
    /// The database failed.
    #[error(transparent)]
    Db(#[from] DbError),
    /// Something the service holds is not what it should be.
    #[error("{0}")]
    Internal(String),
}

impl From<ChainError> for AnchorError {
    fn from(error: ChainError) -> Self {
        if error.is_transient() {
            Self::Transient(error.to_string())
        } else {
            Self::Refused(error.to_string())
        }
    }
}

impl From<AnchorError> for AppError {
    fn from(error: AnchorError) -> Self {
        match error {
            AnchorError::Transient(detail) => AppError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "chain_unavailable",
                format!("the chain the election is anchored on is out of reach: {detail}"),
            ),
            AnchorError::Db(error) => AppError::storage(error),
            other => AppError::internal(other),
        }
    }
}

/// The chain, once reached, and the registry the election is anchored in.
#[derive(Clone)]
struct Connected {
    chain: Chain,
    registry: Registry,
}

/// The anchoring client of the service: its configuration, its connection to the chain, and
/// the worker's wake-up call.
pub struct Anchoring {
    spec: ChainSpec,
    signer: Signer,
    operator: String,
    configured_registry: Option<String>,
    checkpoint_interval: Duration,
    voting_period: u64,
    challenge_period: u64,
    connected: OnceCell<Connected>,
    wake: Notify,
    db: Db,
    metrics: Metrics,
}

impl std::fmt::Debug for Anchoring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Anchoring")
            .field("chain", &self.spec)
            .field("operator", &self.operator)
            .finish_non_exhaustive()
    }
}

/// `createElection`'s arguments as queued: the digests are fixed at open, the schedule when
/// the registration is first sent.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct RegistrationPayload {
    manifest_hash: String,
    credentials_digest: String,
    trustee_keys_digest: String,
    joint_key: String,
    board_key: String,
    challenge_period: u64,
    opens_at: Option<u64>,
    closes_at: Option<u64>,
}

/// `publishResult`'s arguments.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct ResultPayload {
    tally_digest: String,
    record_digest: String,
    final_size: u64,
    final_root: String,
}

fn hex32(what: &str, text: &str) -> Result<[u8; 32], AnchorError> {
    hex::decode(text)
        .ok()
        .and_then(|b| <[u8; 32]>::try_from(b).ok())
        .ok_or_else(|| AnchorError::Internal(format!("the queued {what} is not 32 bytes of hex")))
}

fn item_name(kind: AnchorKind, size: Option<u64>) -> String {
    match (kind, size) {
        (AnchorKind::Checkpoint, Some(size)) => format!("checkpoint-{size}"),
        (kind, _) => kind.as_str().to_string(),
    }
}

/// Exponential backoff: 250 ms, 500 ms, 1 s, … up to [`MAX_BACKOFF`].
#[derive(Debug)]
struct Backoff(Duration);

impl Backoff {
    fn new() -> Self {
        Self(FIRST_BACKOFF)
    }

    fn next(&mut self) -> Duration {
        let wait = self.0;
        self.0 = (self.0 * 2).min(MAX_BACKOFF);
        wait
    }

    fn reset(&mut self) {
        self.0 = FIRST_BACKOFF;
    }
}

/// What one turn of the worker did.
enum Turn {
    /// Something was anchored (or found anchored): go on at once.
    Worked,
    /// Nothing to send now: wait for a wake-up or the next look.
    Idle,
    /// The next item needs the chain's time to reach `closesAt`: wait about this long.
    Wait(Duration),
}

impl Anchoring {
    /// The anchoring client of the service on `db`. The embedded chain is opened now (a
    /// locked, corrupt or tampered chain directory stops the service from starting); a JSON-RPC
    /// endpoint is reached by the worker, which retries until it answers.
    ///
    /// # Errors
    /// The embedded chain cannot be opened.
    pub fn new(config: AnchorConfig, db: Db, metrics: Metrics) -> Result<Self, AnchorError> {
        let operator = config.signer.address_hex();
        let spec = match config.chain {
            ChainSpec::Embedded(dir) => {
                ChainSpec::Connected(Chain::embedded(&dir).map_err(|e| {
                    AnchorError::Configuration(format!(
                        "the embedded chain in {} cannot be opened: {e}",
                        dir.display()
                    ))
                })?)
            }
            other => other,
        };
        Ok(Self {
            spec,
            signer: config.signer,
            operator,
            configured_registry: config.registry,
            checkpoint_interval: config.checkpoint_interval,
            voting_period: config.voting_period,
            challenge_period: config.challenge_period,
            connected: OnceCell::new(),
            wake: Notify::new(),
            db,
            metrics,
        })
    }

    /// Wakes the worker: something was queued.
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// The chain and the registry, reached (and the registry deployed) the first time.
    async fn connected(&self) -> Result<&Connected, AnchorError> {
        self.connected.get_or_try_init(|| self.connect()).await
    }

    async fn connect(&self) -> Result<Connected, AnchorError> {
        let chain = match &self.spec {
            ChainSpec::Embedded(dir) => Chain::embedded(dir).map_err(|e| {
                AnchorError::Configuration(format!(
                    "the embedded chain in {} cannot be opened: {e}",
                    dir.display()
                ))
            })?,
            ChainSpec::Rpc(url) => Chain::rpc(url).await?,
            ChainSpec::Connected(chain) => chain.clone(),
        };
        let chain_id = chain.chain_id().await?;
        if let Some(stored) = self.db.anchor_setting(CHAIN_ID_SETTING).await? {
            if stored != chain_id.to_string() {
                return Err(AnchorError::Configuration(format!(
                    "this election is anchored on chain {stored}, but the configured chain is \
                     chain {chain_id}: start the service with the election's own chain"
                )));
            }
        }
        let stored = self.db.anchor_setting(REGISTRY_SETTING).await?;
        let registry = match (&self.configured_registry, &stored) {
            (Some(configured), Some(stored)) if !configured.eq_ignore_ascii_case(stored) => {
                return Err(AnchorError::Configuration(format!(
                    "this election is anchored in the registry {stored}, but --registry names \
                     {configured}: start the service with the election's own registry"
                )))
            }
            (Some(address), _) | (None, Some(address)) => {
                let parsed = Registry::parse_address(address).map_err(|e| {
                    AnchorError::Configuration(format!("the registry address {address}: {e}"))
                })?;
                let from_block = self
                    .db
                    .anchor_setting(REGISTRY_BLOCK_SETTING)
                    .await?
                    .and_then(|b| b.parse().ok())
                    .unwrap_or(0);
                Registry::at(&chain, parsed).with_from_block(from_block)
            }
            (None, None) => {
                let (registry, receipt) = Registry::deploy(&chain, &self.signer).await?;
                tracing::info!(
                    registry = %registry.address_hex(),
                    chain_id,
                    transaction = %receipt.hash_hex(),
                    block = receipt.block_number,
                    gas = receipt.gas_used,
                    "registry contract deployed"
                );
                self.metrics
                    .anchor_transaction("deploy", "confirmed", Some(receipt.gas_used));
                self.db
                    .put_anchor_setting(REGISTRY_BLOCK_SETTING, &receipt.block_number.to_string())
                    .await?;
                registry
            }
        };
        let contract = registry.address_hex();
        self.db
            .put_anchor_setting(CHAIN_ID_SETTING, &chain_id.to_string())
            .await?;
        let kept = self
            .db
            .put_anchor_setting(REGISTRY_SETTING, &contract)
            .await?;
        if !kept.eq_ignore_ascii_case(&contract) {
            return Err(AnchorError::Configuration(format!(
                "this election is anchored in the registry {kept}, not {contract}"
            )));
        }
        Ok(Connected { chain, registry })
    }

    /// Starts the worker of the service `state`; it stops when the service is dropped.
    pub fn start_worker(state: &Arc<AppState>) {
        let weak = Arc::downgrade(state);
        tokio::spawn(async move { worker(weak).await });
    }

    // ---- The queue ---------------------------------------------------------------------------

    async fn enqueue(
        &self,
        kind: AnchorKind,
        size: Option<u64>,
        payload: &str,
    ) -> Result<bool, AnchorError> {
        let created = self
            .db
            .enqueue_anchor(
                &item_name(kind, size),
                kind.as_str(),
                size,
                payload,
                super::now_ms(),
            )
            .await?;
        if created {
            tracing::info!(kind = kind.as_str(), size, "queued for anchoring");
            self.wake();
        }
        Ok(created)
    }

    /// Queues the registration of an open election (once).
    async fn queue_registration(
        &self,
        state: &AppState,
        election: &Election,
    ) -> Result<(), AnchorError> {
        if self.db.anchor_item("election").await?.is_some() {
            return Ok(());
        }
        let parameters: SignedElectionParameters = state
            .stored_parameters(election)
            .await
            .map_err(|e| AnchorError::Internal(format!("{e:#}")))?
            .ok_or_else(|| {
                AnchorError::Internal("an open election has no election parameters".into())
            })?;
        let ceremony: CeremonyParams = match self.db.document(CEREMONY).await? {
            Some(bytes) => serde_json::from_slice(&bytes)
                .map_err(|e| AnchorError::Internal(format!("the stored ceremony: {e}")))?,
            None => {
                return Err(AnchorError::Internal(
                    "an open election has no ceremony".into(),
                ))
            }
        };
        let p = &parameters.parameters;
        let payload = RegistrationPayload {
            manifest_hash: hex::encode(p.manifest_hash.0),
            credentials_digest: hex::encode(p.credentials_digest),
            trustee_keys_digest: hex::encode(trustee_keys_digest(&ceremony)),
            joint_key: hex::encode(p.joint_key.to_bytes()),
            board_key: hex::encode(p.board_key.to_bytes()),
            challenge_period: self.challenge_period,
            opens_at: None,
            closes_at: None,
        };
        let json =
            serde_json::to_string(&payload).map_err(|e| AnchorError::Internal(e.to_string()))?;
        self.enqueue(AnchorKind::Election, None, &json).await?;
        Ok(())
    }

    /// Queues a checkpoint of `head` unless a checkpoint of this size or a larger one is
    /// queued (sizes only grow on chain).
    async fn queue_checkpoint(&self, head: &SignedTreeHead) -> Result<bool, AnchorError> {
        let last = self.db.last_queued_checkpoint().await?;
        if last.is_some_and(|last| last >= head.head.size) {
            return Ok(false);
        }
        let json = serde_json::to_string(head).map_err(|e| AnchorError::Internal(e.to_string()))?;
        self.enqueue(AnchorKind::Checkpoint, Some(head.head.size), &json)
            .await
    }

    /// Queues the result of a tallied election (once), computing the record digest.
    async fn queue_result(
        &self,
        state: &Arc<AppState>,
        election: &Arc<Election>,
    ) -> Result<(), AnchorError> {
        if self.db.anchor_item("result").await?.is_some() {
            return Ok(());
        }
        let produced = record_digests(state, election).await?;
        let payload = ResultPayload {
            tally_digest: hex::encode(
                produced
                    .tally_digest()
                    .map_err(|e| AnchorError::Internal(format!("{e:#}")))?,
            ),
            record_digest: hex::encode(produced.index.anchored_digest()),
            final_size: produced.head.head.size,
            final_root: hex::encode(produced.head.head.root),
        };
        let json =
            serde_json::to_string(&payload).map_err(|e| AnchorError::Internal(e.to_string()))?;
        self.enqueue(AnchorKind::Result, Some(payload.final_size), &json)
            .await?;
        Ok(())
    }

    /// Derives the queue from the election's state: what it must hold by now.
    async fn reconcile(
        &self,
        state: &Arc<AppState>,
        election: &Arc<Election>,
        checkpoint_due: bool,
    ) -> Result<(), AnchorError> {
        let current = election.board.view.read().await.state;
        if current == ElectionState::Setup {
            return Ok(());
        }
        self.queue_registration(state, election).await?;
        match current {
            ElectionState::Setup => {}
            ElectionState::Open => {
                if checkpoint_due {
                    let head = {
                        let view = election.board.view.read().await;
                        (!view.tree.is_empty()).then(|| state.sign_head(election, &view))
                    };
                    if let Some(head) = head {
                        self.queue_checkpoint(&head).await?;
                    }
                }
            }
            ElectionState::Closed | ElectionState::Tallied => {
                let head = state
                    .final_head(election)
                    .await
                    .map_err(|e| AnchorError::Internal(format!("{e:#}")))?;
                self.queue_final_checkpoint(&head).await?;
                if current == ElectionState::Tallied {
                    self.queue_result(state, election).await?;
                }
            }
        }
        Ok(())
    }

    /// Queues the checkpoint of the final head, unless one of this size is queued. The result
    /// needs the final head to be the last checkpoint, so even an empty board gets one.
    async fn queue_final_checkpoint(&self, head: &SignedTreeHead) -> Result<(), AnchorError> {
        let last = self.db.last_queued_checkpoint().await?;
        match last {
            Some(last) if last > head.head.size => Err(AnchorError::Internal(format!(
                "a checkpoint of size {last} is queued, beyond the final size {}",
                head.head.size
            ))),
            Some(last) if last == head.head.size => Ok(()),
            _ => {
                let json = serde_json::to_string(head)
                    .map_err(|e| AnchorError::Internal(e.to_string()))?;
                self.enqueue(AnchorKind::Checkpoint, Some(head.head.size), &json)
                    .await?;
                Ok(())
            }
        }
    }

    // ---- Sending -----------------------------------------------------------------------------

    /// Sends (or finds on chain) the first item not anchored yet.
    async fn turn(&self, election_id: ElectionId) -> Result<Turn, AnchorError> {
        let Some(item) = self.db.next_anchor().await? else {
            return Ok(Turn::Idle);
        };
        let kind = AnchorKind::parse(&item.kind).ok_or_else(|| {
            AnchorError::Internal(format!("the queue holds an item of kind {:?}", item.kind))
        })?;
        let connected = self.connected().await?.clone();
        let on_chain = connected.registry.election(election_id.0).await?;
        match kind {
            AnchorKind::Election => {
                if on_chain.is_some() {
                    self.expect_found(&connected, &item, kind, election_id)
                        .await?;
                    return Ok(Turn::Worked);
                }
                let mut payload: RegistrationPayload = serde_json::from_str(&item.payload)
                    .map_err(|e| AnchorError::Internal(format!("queued registration: {e}")))?;
                // Voting opens on chain at once (the latest block's time, which any later block
                // follows) and lasts the voting period from now (a chain whose blocks come only
                // with transactions may have an old latest block).
                let opens_at = connected.chain.time().await?;
                let closes_at = opens_at
                    .max(super::now_ms() / 1000)
                    .saturating_add(self.voting_period);
                payload.opens_at = Some(opens_at);
                payload.closes_at = Some(closes_at);
                let json = serde_json::to_string(&payload)
                    .map_err(|e| AnchorError::Internal(e.to_string()))?;
                let registration = ElectionRegistration {
                    election_id: election_id.0,
                    manifest_hash: hex32("manifest hash", &payload.manifest_hash)?,
                    credentials_digest: hex32("credentials digest", &payload.credentials_digest)?,
                    trustee_keys_digest: hex32(
                        "trustee keys digest",
                        &payload.trustee_keys_digest,
                    )?,
                    joint_key: hex32("joint key", &payload.joint_key)?,
                    board_key: hex32("board key", &payload.board_key)?,
                    opens_at,
                    closes_at,
                    challenge_period: payload.challenge_period,
                };
                self.sending(&item, Some(&json)).await?;
                let sent = connected
                    .registry
                    .create_election(&self.signer, &registration)
                    .await;
                self.landed(&item, kind, sent).await
            }
            AnchorKind::Checkpoint => {
                let size = item.size.ok_or_else(|| {
                    AnchorError::Internal("a queued checkpoint has no size".into())
                })?;
                let Some(on_chain) = on_chain else {
                    return Err(AnchorError::Refused(
                        "the election is not registered on chain, so it cannot be checkpointed"
                            .into(),
                    ));
                };
                if on_chain.checkpoint_count > 0 && on_chain.last_checkpoint_size >= size {
                    // On chain already (sent before a restart), or covered by a larger one.
                    if !self.found(&connected, &item, kind, election_id).await? {
                        self.superseded(&item).await?;
                    }
                    return Ok(Turn::Worked);
                }
                if on_chain.result_published {
                    self.superseded(&item).await?;
                    return Ok(Turn::Worked);
                }
                let head: SignedTreeHead = serde_json::from_str(&item.payload)
                    .map_err(|e| AnchorError::Internal(format!("queued checkpoint: {e}")))?;
                self.sending(&item, None).await?;
                let sent = connected
                    .registry
                    .checkpoint(
                        &self.signer,
                        election_id.0,
                        head.head.size,
                        head.head.root,
                        head.head.timestamp,
                        head.signature.to_bytes(),
                    )
                    .await;
                let turn = self.landed(&item, kind, sent).await?;
                self.metrics.anchor_checkpoint_size(size);
                Ok(turn)
            }
            AnchorKind::Result => {
                let Some(on_chain) = on_chain else {
                    return Err(AnchorError::Refused(
                        "the election is not registered on chain, so its result cannot be \
                         published"
                            .into(),
                    ));
                };
                if on_chain.result_published {
                    self.expect_found(&connected, &item, kind, election_id)
                        .await?;
                    return Ok(Turn::Worked);
                }
                let payload: ResultPayload = serde_json::from_str(&item.payload)
                    .map_err(|e| AnchorError::Internal(format!("queued result: {e}")))?;
                // The state publishResult needs: voting closed on chain, and the final head
                // as the last checkpoint (the queue sent it before).
                let now = connected.chain.time().await?;
                if now < on_chain.closes_at {
                    return Ok(Turn::Wait(Duration::from_secs(
                        (on_chain.closes_at - now).min(MAX_BACKOFF.as_secs()),
                    )));
                }
                if on_chain.checkpoint_count == 0
                    || on_chain.last_checkpoint_size != payload.final_size
                {
                    return Err(AnchorError::Refused(format!(
                        "the final tree head (size {}) is not the last checkpoint on chain \
                         (size {})",
                        payload.final_size, on_chain.last_checkpoint_size
                    )));
                }
                self.sending(&item, None).await?;
                let sent = connected
                    .registry
                    .publish_result(
                        &self.signer,
                        election_id.0,
                        hex32("tally digest", &payload.tally_digest)?,
                        hex32("record digest", &payload.record_digest)?,
                        payload.final_size,
                        hex32("final root", &payload.final_root)?,
                    )
                    .await;
                self.landed(&item, kind, sent).await
            }
        }
    }

    /// Marks `item` as being sent (a transaction may be on its way from now on).
    async fn sending(&self, item: &AnchorRow, payload: Option<&str>) -> Result<(), AnchorError> {
        self.db
            .update_anchor(
                item.seq,
                &AnchorUpdate {
                    state: AnchorState::Sending.as_str(),
                    payload,
                    attempted: true,
                    last_error: item.last_error.as_deref(),
                    ..AnchorUpdate::default()
                },
            )
            .await?;
        Ok(())
    }

    /// Records the outcome of a transaction.
    async fn landed(
        &self,
        item: &AnchorRow,
        kind: AnchorKind,
        sent: Result<TxReceipt, ChainError>,
    ) -> Result<Turn, AnchorError> {
        match sent {
            Ok(receipt) if receipt.success => {
                self.db
                    .update_anchor(
                        item.seq,
                        &AnchorUpdate {
                            state: AnchorState::Done.as_str(),
                            transaction: Some(&receipt.hash_hex()),
                            block_number: Some(receipt.block_number),
                            gas_used: Some(receipt.gas_used),
                            anchored_at: Some(super::now_ms()),
                            ..AnchorUpdate::default()
                        },
                    )
                    .await?;
                self.metrics
                    .anchor_transaction(kind.as_str(), "confirmed", Some(receipt.gas_used));
                tracing::info!(
                    kind = kind.as_str(),
                    size = item.size,
                    transaction = %receipt.hash_hex(),
                    block = receipt.block_number,
                    gas = receipt.gas_used,
                    "anchored on chain"
                );
                Ok(Turn::Worked)
            }
            Ok(receipt) => {
                self.metrics
                    .anchor_transaction(kind.as_str(), "reverted", Some(receipt.gas_used));
                let error = format!(
                    "the {} transaction {} reverted",
                    kind.as_str(),
                    receipt.hash_hex()
                );
                Err(AnchorError::Refused(error))
            }
            Err(error) => {
                let outcome = if error.is_transient() {
                    "failed"
                } else {
                    "reverted"
                };
                self.metrics
                    .anchor_transaction(kind.as_str(), outcome, None);
                Err(error.into())
            }
        }
    }

    /// [`Self::found`], for an item the registry's state says is on chain.
    async fn expect_found(
        &self,
        connected: &Connected,
        item: &AnchorRow,
        kind: AnchorKind,
        election_id: ElectionId,
    ) -> Result<(), AnchorError> {
        if self.found(connected, item, kind, election_id).await? {
            Ok(())
        } else {
            Err(AnchorError::Refused(format!(
                "the registry says the {} is anchored but its events do not show it",
                kind.as_str()
            )))
        }
    }

    /// Looks for `item` in the chain's events: when it is there (sent before a crash, or by an
    /// earlier attempt whose answer was lost), records its transaction and answers `true`.
    async fn found(
        &self,
        connected: &Connected,
        item: &AnchorRow,
        kind: AnchorKind,
        election_id: ElectionId,
    ) -> Result<bool, AnchorError> {
        let evidence = connected.registry.evidence(election_id.0).await?;
        let transaction = match kind {
            AnchorKind::Election => evidence.election.as_ref().map(|e| {
                (
                    e.transaction.clone(),
                    Some((e.opens_at, e.closes_at, e.operator.clone())),
                )
            }),
            AnchorKind::Checkpoint => {
                let head: SignedTreeHead = serde_json::from_str(&item.payload)
                    .map_err(|e| AnchorError::Internal(format!("queued checkpoint: {e}")))?;
                match evidence
                    .checkpoints
                    .iter()
                    .find(|c| c.size == head.head.size)
                {
                    Some(c) if c.root != head.head.root => {
                        return Err(AnchorError::Refused(format!(
                            "the chain holds a checkpoint of size {} with root {}, but the \
                             board's root at that size is {}",
                            c.size,
                            hex::encode(c.root),
                            hex::encode(head.head.root)
                        )))
                    }
                    Some(c) => Some((c.transaction.clone(), None)),
                    None => None,
                }
            }
            AnchorKind::Result => evidence
                .result
                .as_ref()
                .map(|r| (r.transaction.clone(), None)),
        };
        let Some((transaction, registration)) = transaction else {
            return Ok(false);
        };
        if let Some((_, _, operator)) = &registration {
            if !operator.eq_ignore_ascii_case(&self.operator) {
                return Err(AnchorError::Refused(format!(
                    "the election is registered on chain by {operator}, not by this service's \
                     operator {}: someone registered this election id first",
                    self.operator
                )));
            }
        }
        let payload = match (&registration, kind) {
            (Some((opens_at, closes_at, _)), AnchorKind::Election) => {
                let mut payload: RegistrationPayload = serde_json::from_str(&item.payload)
                    .map_err(|e| AnchorError::Internal(format!("queued registration: {e}")))?;
                payload.opens_at = Some(*opens_at);
                payload.closes_at = Some(*closes_at);
                Some(
                    serde_json::to_string(&payload)
                        .map_err(|e| AnchorError::Internal(e.to_string()))?,
                )
            }
            _ => None,
        };
        self.db
            .update_anchor(
                item.seq,
                &AnchorUpdate {
                    state: AnchorState::Done.as_str(),
                    payload: payload.as_deref(),
                    transaction: Some(&transaction),
                    anchored_at: Some(super::now_ms()),
                    ..AnchorUpdate::default()
                },
            )
            .await?;
        if let (AnchorKind::Checkpoint, Some(size)) = (kind, item.size) {
            self.metrics.anchor_checkpoint_size(size);
        }
        self.metrics
            .anchor_transaction(kind.as_str(), "found", None);
        tracing::info!(
            kind = kind.as_str(),
            size = item.size,
            transaction = %transaction,
            "found already anchored on chain (sent before a restart): not sent again"
        );
        Ok(true)
    }

    async fn superseded(&self, item: &AnchorRow) -> Result<(), AnchorError> {
        self.db
            .update_anchor(
                item.seq,
                &AnchorUpdate {
                    state: AnchorState::Superseded.as_str(),
                    ..AnchorUpdate::default()
                },
            )
            .await?;
        tracing::info!(
            size = item.size,
            "checkpoint superseded: a larger checkpoint is already on chain"
        );
        Ok(())
    }

    async fn failed(&self, error: &AnchorError) {
        let Ok(Some(item)) = self.db.next_anchor().await else {
            return;
        };
        let state = AnchorState::parse(&item.state).unwrap_or(AnchorState::Pending);
        let message = error.to_string();
        let _ = self
            .db
            .update_anchor(
                item.seq,
                &AnchorUpdate {
                    state: state.as_str(),
                    last_error: Some(&message),
                    ..AnchorUpdate::default()
                },
            )
            .await;
    }

    // ---- Reading -----------------------------------------------------------------------------

    /// The age of the oldest item not anchored yet, in seconds (0 when none); also sets the
    /// `tabella_anchor_lag_seconds` gauge.
    pub async fn lag_seconds(&self) -> Result<f64, DbError> {
        let items = self.db.anchor_items().await?;
        let now = super::now_ms();
        let lag = items
            .iter()
            .filter(|i| matches!(i.state.as_str(), "pending" | "sending"))
            .map(|i| now.saturating_sub(i.created_at))
            .max()
            .map_or(0.0, |ms| ms as f64 / 1000.0);
        self.metrics.anchor_lag(lag);
        Ok(lag)
    }

    /// The answer of `GET /v1/anchoring`.
    pub async fn status(&self) -> Result<AnchoringStatus, AppError> {
        let rows = self.db.anchor_items().await?;
        let lag_seconds = self.lag_seconds().await?;
        let mut closes_at = None;
        let items = rows
            .iter()
            .map(|row| {
                let item = status_item(row)?;
                if item.kind == AnchorKind::Election {
                    closes_at = serde_json::from_str::<RegistrationPayload>(&row.payload)
                        .ok()
                        .and_then(|p| p.closes_at)
                        .filter(|_| item.state == AnchorState::Done);
                }
                Ok(item)
            })
            .collect::<Result<Vec<_>, AppError>>()?;
        let chain_id = self
            .db
            .anchor_setting(CHAIN_ID_SETTING)
            .await?
            .and_then(|c| c.parse().ok());
        Ok(AnchoringStatus {
            enabled: true,
            chain_id,
            contract: self.db.anchor_setting(REGISTRY_SETTING).await?,
            operator: Some(self.operator.clone()),
            closes_at,
            lag_seconds,
            items,
        })
    }

    /// The record's `anchors.json` (spec/record.md §4.9), from the queue and the fallback
    /// ballots taken at the close.
    pub async fn anchors(&self) -> Result<Anchors, AppError> {
        let not_yet = |why: &str| {
            AppError::new(
                StatusCode::CONFLICT,
                "not_anchored_yet",
                format!("{why}; see GET /v1/anchoring"),
            )
        };
        let rows = self.db.anchor_items().await?;
        let done = |row: &&AnchorRow| row.state == AnchorState::Done.as_str();
        let election = rows
            .iter()
            .filter(done)
            .find(|r| r.kind == "election")
            .and_then(|r| r.transaction.clone())
            .ok_or_else(|| not_yet("the election is not registered on chain yet"))?;
        let chain_id = self
            .db
            .anchor_setting(CHAIN_ID_SETTING)
            .await?
            .and_then(|c| c.parse().ok())
            .ok_or_else(|| AppError::internal("a registered election has no chain id stored"))?;
        let contract = self
            .db
            .anchor_setting(REGISTRY_SETTING)
            .await?
            .ok_or_else(|| AppError::internal("a registered election has no registry stored"))?;
        let mut checkpoints = Vec::new();
        for row in rows.iter().filter(done).filter(|r| r.kind == "checkpoint") {
            let head: SignedTreeHead = serde_json::from_str(&row.payload)
                .map_err(|e| AppError::internal(format!("queued checkpoint: {e}")))?;
            checkpoints.push(AnchoredCheckpoint {
                size: head.head.size,
                root: head.head.root,
                transaction: row.transaction.clone().unwrap_or_default(),
            });
        }
        checkpoints.sort_by_key(|c| c.size);
        let mut fallback = Vec::new();
        let mut rejected = Vec::new();
        for row in self.db.fallback_ballots().await? {
            match (row.index, row.reason) {
                (Some(index), _) => fallback.push(FallbackBallot {
                    transaction: row.transaction,
                    chain_index: row.chain_index,
                    index,
                    tracking_code: TrackingCode(row.tracking_code),
                }),
                (None, reason) => rejected.push(RejectedFallbackBallot {
                    transaction: row.transaction,
                    chain_index: row.chain_index,
                    tracking_code: TrackingCode(row.tracking_code),
                    reason: reason.unwrap_or_default(),
                }),
            }
        }
        let result_transaction = rows
            .iter()
            .filter(done)
            .find(|r| r.kind == "result")
            .and_then(|r| r.transaction.clone());
        Ok(Anchors {
            chain_id,
            contract,
            election_transaction: election,
            checkpoints,
            fallback,
            rejected,
            result_transaction,
        })
    }

    /// The registry's evidence for the election, read from the chain.
    ///
    /// # Errors
    /// The chain out of reach, or the registry not known yet.
    pub async fn evidence(&self, election_id: ElectionId) -> Result<ChainEvidence, AnchorError> {
        let connected = self.connected().await?;
        Ok(connected.registry.evidence(election_id.0).await?)
    }

    /// The chain the service anchors on, once reached.
    ///
    /// # Errors
    /// The chain out of reach, or a configuration that cannot work.
    pub async fn chain(&self) -> Result<Chain, AnchorError> {
        Ok(self.connected().await?.chain.clone())
    }

    /// The registry the election is anchored in, once reached (deployed if need be).
    ///
    /// # Errors
    /// The chain out of reach, or a configuration that cannot work.
    pub async fn registry(&self) -> Result<Registry, AnchorError> {
        Ok(self.connected().await?.registry.clone())
    }

    // ---- Close -------------------------------------------------------------------------------

    /// Whether voting may close: the election is registered on chain and the chain's time has
    /// reached `closesAt` (until then, ballots may still be cast through the contract).
    ///
    /// # Errors
    /// `409 anchoring_pending` before the registration is on chain, `409
    /// voting_open_on_chain` before `closesAt`, `503 chain_unavailable` when the chain is out
    /// of reach.
    pub async fn check_close(&self, election_id: ElectionId) -> Result<(), AppError> {
        let registered = self
            .db
            .anchor_item("election")
            .await?
            .filter(|row| row.state == AnchorState::Done.as_str());
        if registered.is_none() {
            return Err(AppError::new(
                StatusCode::CONFLICT,
                "anchoring_pending",
                "the election is not registered on chain yet, so voting cannot close: fallback \
                 ballots are cast through the registration; see GET /v1/anchoring",
            ));
        }
        let connected = self.connected().await?;
        let on_chain = connected
            .registry
            .election(election_id.0)
            .await
            .map_err(AnchorError::from)?
            .ok_or_else(|| AppError::internal("the registered election is not on chain"))?;
        let mut now = connected.chain.time().await.map_err(AnchorError::from)?;
        if now < on_chain.closes_at && connected.chain.is_embedded() {
            // The embedded chain makes a block only for a transaction, so its latest block may
            // be old: the service, its only block producer, makes an empty one now.
            now = connected
                .chain
                .advance_time(0)
                .await
                .map_err(AnchorError::from)?;
        }
        if now < on_chain.closes_at {
            return Err(AppError::new(
                StatusCode::CONFLICT,
                "voting_open_on_chain",
                format!(
                    "voting closes on chain at {} (Unix time {}), and the chain's time is now {} \
                     ({} s earlier): until then voters may still cast ballots through the \
                     contract, so the board cannot close",
                    utc(on_chain.closes_at),
                    on_chain.closes_at,
                    utc(now),
                    on_chain.closes_at - now
                ),
            ));
        }
        Ok(())
    }
}

/// The worker: reconciles the queue with the election and sends its items, until the service
/// is dropped.
async fn worker(state: Weak<AppState>) {
    let mut backoff = Backoff::new();
    let mut last_checkpoint = tokio::time::Instant::now();
    loop {
        let Some(service) = state.upgrade() else {
            return;
        };
        let Some(anchoring) = service.anchoring.clone() else {
            return;
        };
        let interval = anchoring.checkpoint_interval;
        let due = last_checkpoint.elapsed() >= interval;
        let outcome = match service.election() {
            None => Ok(Turn::Idle),
            Some(election) => {
                let reconciled = anchoring.reconcile(&service, &election, due).await;
                if due && reconciled.is_ok() {
                    last_checkpoint = tokio::time::Instant::now();
                }
                match reconciled {
                    Ok(()) => anchoring.turn(election.id).await,
                    Err(error) => Err(error),
                }
            }
        };
        drop(service);
        let wait = match outcome {
            Ok(Turn::Worked) => {
                backoff.reset();
                continue;
            }
            Ok(Turn::Idle) => {
                backoff.reset();
                IDLE_POLL.min(interval.saturating_sub(last_checkpoint.elapsed()))
            }
            Ok(Turn::Wait(wait)) => wait,
            Err(error) => {
                let wait = match &error {
                    AnchorError::Transient(_) | AnchorError::Db(_) => backoff.next(),
                    _ => MAX_BACKOFF,
                };
                tracing::warn!(
                    error = %error,
                    retry_in_ms = wait.as_millis() as u64,
                    "anchoring did not go through; it will be retried"
                );
                anchoring.failed(&error).await;
                wait
            }
        };
        let _ = tokio::time::timeout(wait, anchoring.wake.notified()).await;
    }
}

fn status_item(row: &AnchorRow) -> Result<AnchorItem, AppError> {
    let kind = AnchorKind::parse(&row.kind)
        .ok_or_else(|| AppError::internal(format!("queued anchor kind {:?}", row.kind)))?;
    let state = AnchorState::parse(&row.state)
        .ok_or_else(|| AppError::internal(format!("queued anchor state {:?}", row.state)))?;
    let (mut root, mut tally_digest, mut record_digest) = (None, None, None);
    match kind {
        AnchorKind::Checkpoint => {
            if let Ok(head) = serde_json::from_str::<SignedTreeHead>(&row.payload) {
                root = Some(hex::encode(head.head.root));
            }
        }
        AnchorKind::Result => {
            if let Ok(p) = serde_json::from_str::<ResultPayload>(&row.payload) {
                root = Some(p.final_root);
                tally_digest = Some(p.tally_digest);
                record_digest = Some(p.record_digest);
            }
        }
        AnchorKind::Election => {}
    }
    Ok(AnchorItem {
        kind,
        state,
        size: row.size,
        root,
        tally_digest,
        record_digest,
        transaction: row.transaction.clone(),
        block_number: row.block_number,
        gas_used: row.gas_used,
        attempts: row.attempts,
        last_error: row.last_error.clone(),
        queued_at: row.created_at,
        anchored_at: row.anchored_at,
    })
}

/// Takes the ballots cast through the contract onto the board, at the close, in chain order,
/// each through the checks of a ballot cast over HTTP ([`super::routes::submit`]): a valid one
/// is appended with a receipt (one whose bytes the board already holds names that entry), a
/// refused one is recorded with the reason. The mapping is stored for `anchors.json`.
///
/// # Errors
/// The chain out of reach, or a storage failure (a refusal of the service's own, not of the
/// ballot: nothing is recorded, and the close can be repeated).
pub(super) async fn take_fallback_ballots(
    state: &AppState,
    anchoring: &Anchoring,
    election: &Election,
) -> Result<(u64, u64), AppError> {
    let evidence = anchoring.evidence(election.id).await?;
    let mut ballots = evidence.fallback;
    ballots.sort_by_key(|b| b.chain_index);
    let mut rows = Vec::with_capacity(ballots.len());
    let (mut taken, mut refused) = (0u64, 0u64);
    for ballot in ballots {
        let answer = super::routes::submit(state, &ballot.ballot, None, EntryKind::Cast).await;
        let row = match answer {
            Ok((_, axum::Json(receipt))) => {
                taken += 1;
                FallbackRow {
                    chain_index: ballot.chain_index,
                    transaction: ballot.transaction,
                    tracking_code: receipt.tracking_code.0,
                    index: Some(receipt.index),
                    reason: None,
                }
            }
            Err(error) if error.status.is_server_error() => return Err(error),
            Err(error) => {
                refused += 1;
                tracing::info!(
                    chain_index = ballot.chain_index,
                    code = error.code,
                    "fallback ballot refused"
                );
                FallbackRow {
                    chain_index: ballot.chain_index,
                    transaction: ballot.transaction,
                    tracking_code: ballot.digest,
                    index: None,
                    reason: Some(format!("{} ({})", error.message, error.code)),
                }
            }
        };
        rows.push(row);
    }
    state.db.record_fallback(&rows).await?;
    Ok((taken, refused))
}

// ---- The record, as the service computes its digest --------------------------------------------

/// The record of the tallied election as `tabella election export` writes it, described (each
/// document's size and SHA-256), for the digests the result anchors.
async fn record_digests(
    state: &Arc<AppState>,
    election: &Arc<Election>,
) -> Result<record::Produced, AnchorError> {
    let mut source = DbSource::new(state, election);
    let id = election.id;
    tokio::task::spawn_blocking(move || record::produce(id, &mut source, &mut DigestOnly))
        .await
        .map_err(|e| AnchorError::Internal(e.to_string()))?
        .map_err(|e| AnchorError::Internal(format!("the record's digest: {e:#}")))
}

/// Unix seconds as a UTC date and time, `2026-03-01 18:00:00 UTC`.
pub fn utc(unix: u64) -> String {
    let days = unix / 86_400;
    let secs = unix % 86_400;
    // Howard Hinnant's civil_from_days.
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02} UTC",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unix_times_read_as_utc_dates() {
        assert_eq!(utc(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(utc(951_782_400), "2000-02-29 00:00:00 UTC");
        assert_eq!(utc(1_772_388_000), "2026-03-01 18:00:00 UTC");
    }

    #[test]
    fn backoff_doubles_up_to_its_cap_and_resets() {
        let mut backoff = Backoff::new();
        assert_eq!(backoff.next(), Duration::from_millis(250));
        assert_eq!(backoff.next(), Duration::from_millis(500));
        for _ in 0..20 {
            backoff.next();
        }
        assert_eq!(backoff.next(), MAX_BACKOFF);
        backoff.reset();
        assert_eq!(backoff.next(), FIRST_BACKOFF);
    }

    #[test]
    fn queue_items_are_named_once_each() {
        assert_eq!(item_name(AnchorKind::Election, None), "election");
        assert_eq!(item_name(AnchorKind::Checkpoint, Some(12)), "checkpoint-12");
        assert_eq!(item_name(AnchorKind::Result, Some(12)), "result");
    }

    #[test]
    fn rpc_urls_are_shown_without_their_path() {
        assert_eq!(
            redact_url("https://eth.example.org/v3/secret-key"),
            "https://eth.example.org"
        );
        assert_eq!(redact_url("http://127.0.0.1:8545"), "http://127.0.0.1:8545");
    }
}
