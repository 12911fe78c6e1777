//! `tabella serve`: the election service (spec/api.md).
//!
//! It holds one election: it stores the manifest, takes the public credential list a registrar
//! made off the server (never a code), hosts the key and tally ceremonies' messages, takes ballots over HTTP, verifies them,
//! appends them to the bulletin board and answers with a signed receipt; at the close it verifies
//! and aggregates the counted ballots and asks the trustees to decrypt the aggregate.
//!
//! When voting opens it fixes the election's public parameters (manifest, board key, key
//! ceremony, joint key, credential list) in a document signed with the board key, the
//! `election.json` of the election record (spec/record.md); with the credential list, the
//! ceremony messages, `GET /v1/record/ballots.jsonl`, a final tree head and the results, it is
//! everything `tabella election export` writes.
//!
//! With `--booth DIR` it also serves the web ballot ([`booth`], spec/booth.md): the files of a
//! built booth, checked against their `booth.json` at start-up, and it binds that booth to the
//! election: the manifest publishes the booth digest, filled in when the election is created.
//!
//! With `--embedded-chain` or `--rpc-url` it anchors the election in the registry contract
//! ([`anchor`], spec/api.md §12): the registration at open, checkpoints of the board while it
//! grows, the final tree head at the close (after taking the ballots cast through the contract),
//! and the result with the record's digest ([`record`], the same documents the export writes).
//!
//! [`app`] builds the router from an [`AppState`], so tests drive the service without a socket
//! (`app(state).oneshot(request)`); [`spawn`] runs it on `127.0.0.1` in a background
//! thread for tests and the demo; [`run`] serves it until a signal (`tabella serve`).

mod aggregate;
pub mod anchor;
mod board;
pub mod booth;
mod credentials;
pub mod db;
mod error;
mod http;
mod metrics;
pub mod record;
mod routes;
mod status;
mod store;

use std::collections::HashSet;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock, RwLock};
use std::time::Duration;

use anyhow::{bail, Context as _};
use secrecy::SecretString;
use tabella_crypto::ballot::{ElectionContext, ElectionId};
use tabella_crypto::board::receipt::{BoardSigningKey, SignedTreeHead, TreeHead};
use tabella_crypto::ceremony::CeremonyParams;
use tabella_crypto::elgamal::PublicKey;
use tabella_crypto::manifest::Manifest;
use tabella_crypto::record::{credentials_digest, ElectionParameters, SignedElectionParameters};
use tokio::net::TcpListener;
use tokio::sync::{watch, Semaphore};

pub use anchor::{AnchorConfig, Anchoring, ChainSpec};
pub use board::now_ms;
pub use booth::{Booth, BoothLoadError};
pub use db::{Backend, Db, DbError};
pub use error::AppError;
pub use metrics::Metrics;
pub use routes::app;

use crate::api::{Aggregation, ElectionState};
use board::{Board, BoardView};
use db::DocumentPut;
use store::{DbStore, PARAMETERS, TREE_HEAD};

/// The name of the SQLite file in the data directory.
pub const DATABASE_FILE: &str = "tabella.db";
/// The name of the board's signing key file in the data directory.
pub const BOARD_KEY_FILE: &str = "board.key";

/// Limits on what the service accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Largest ballot request (`POST /v1/election/ballots` and `/spoiled`), in bytes.
    pub ballot_body: usize,
    /// Largest public credential list (`PUT /v1/election/credentials`), in bytes: about 67 bytes
    /// a voter, so the default takes some 16 million voters.
    pub credentials_body: usize,
    /// Largest manifest request, in bytes.
    pub manifest_body: usize,
    /// Largest ceremony message, in bytes.
    pub ceremony_body: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            ballot_body: 256 * 1024,
            credentials_body: 1024 * 1024 * 1024,
            manifest_body: 1024 * 1024,
            ceremony_body: crate::messages::server::DEFAULT_MAX_BODY,
        }
    }
}

/// How to run the service.
pub struct ServiceConfig {
    /// `sqlite://PATH?mode=rwc` or `postgres://…`.
    pub database_url: String,
    /// The key that signs tree heads and receipts.
    pub board_key: BoardSigningKey,
    /// The officials' token; without one, no administrative call is accepted.
    pub admin_token: Option<SecretString>,
    /// Request limits.
    pub limits: Limits,
    /// On-chain anchoring; `None`: off.
    pub anchoring: Option<AnchorConfig>,
    /// The web ballot to serve, loaded and checked ([`Booth::load`]); `None`: none.
    pub booth: Option<Booth>,
}

impl std::fmt::Debug for ServiceConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServiceConfig")
            .field("database_url", &db::redact(&self.database_url))
            .field("board_key", &self.board_key.public())
            .field(
                "admin_token",
                &self.admin_token.as_ref().map(|_| "<redacted>"),
            )
            .field("limits", &self.limits)
            .field("anchoring", &self.anchoring)
            .field("booth", &self.booth.as_ref().map(Booth::digest))
            .finish()
    }
}

/// The parameters fixed when voting opens.
pub struct OpenElection {
    /// Election id, manifest and joint key, for decoding and verifying ballots.
    pub ctx: ElectionContext,
    /// The eligible credential keys.
    pub eligible: HashSet<[u8; 32]>,
}

/// The election this service runs.
pub struct Election {
    /// Its id.
    pub id: ElectionId,
    /// Its manifest.
    pub manifest: Manifest,
    /// Its board.
    pub board: Board,
    /// Set when voting opens (or at start-up if it had).
    pub open: OnceLock<Arc<OpenElection>>,
    /// Progress of the verification and aggregation at close.
    pub aggregation: Mutex<Option<Aggregation>>,
}

/// Everything the handlers share.
pub struct AppState {
    /// The database.
    pub db: Db,
    /// The board's signing key.
    pub key: Arc<BoardSigningKey>,
    admin_token: Option<SecretString>,
    /// Metrics.
    pub metrics: Metrics,
    /// Request limits.
    pub limits: Limits,
    election: Arc<RwLock<Option<Arc<Election>>>>,
    /// Serializes administrative operations.
    admin: tokio::sync::Mutex<()>,
    /// Bounds the ballot verifications running at once (one per core).
    verify_slots: Arc<Semaphore>,
    /// The tokio runtime, for the blocking ceremony store.
    runtime: tokio::runtime::Handle,
    /// On-chain anchoring, when on.
    pub anchoring: Option<Arc<Anchoring>>,
    /// The web ballot it serves, when it serves one.
    pub booth: Option<Arc<Booth>>,
    /// The election record's documents, once tallied (`GET /v1/record/{path}`).
    record: record::RecordCache,
}

impl AppState {
    /// Connects to the database, applies the migrations and loads the election and its board.
    ///
    /// Must run inside a tokio runtime.
    pub async fn start(config: ServiceConfig) -> anyhow::Result<Arc<Self>> {
        let db = Db::connect(&config.database_url).await.with_context(|| {
            format!(
                "could not open the database {}",
                db::redact(&config.database_url)
            )
        })?;
        let cores = std::thread::available_parallelism().map_or(2, usize::from);
        let metrics = Metrics::new();
        let anchoring = match config.anchoring {
            Some(c) => Some(Arc::new(Anchoring::new(c, db.clone(), metrics.clone())?)),
            None => None,
        };
        let state = Arc::new(Self {
            db,
            key: Arc::new(config.board_key),
            admin_token: config.admin_token,
            metrics,
            limits: config.limits,
            election: Arc::new(RwLock::new(None)),
            admin: tokio::sync::Mutex::new(()),
            verify_slots: Arc::new(Semaphore::new(cores)),
            runtime: tokio::runtime::Handle::current(),
            anchoring,
            booth: config.booth.map(Arc::new),
            record: record::RecordCache::default(),
        });
        if let Some(row) = state.db.election().await? {
            let election = state.load_election(&row).await?;
            state.check_booth(&election)?;
            let resume = election.board.view.read().await.state == ElectionState::Closed;
            state.set_election(Arc::clone(&election));
            if resume {
                aggregate::resume(&state, &election).await?;
            }
        }
        if state.anchoring.is_some() {
            Anchoring::start_worker(&state);
        }
        Ok(state)
    }

    /// Checks that the served booth, if any, is the one the election publishes: another one is
    /// refused (the service would serve voters a booth the election does not vouch for); none
    /// published is served with a warning (`AdminStatus.booth.published` is then `false`).
    fn check_booth(&self, election: &Election) -> anyhow::Result<()> {
        let Some(booth) = &self.booth else {
            return Ok(());
        };
        match election.manifest.booth {
            Some(published) if published != booth.digest() => bail!(
                "election {}'s manifest publishes booth digest {published}, but the booth                  directory given with --booth has digest {}: serve the election's own booth                  (the build the manifest names), or start without --booth",
                election.id,
                booth.digest()
            ),
            Some(_) => {}
            None => tracing::warn!(
                election = %election.id,
                booth = %booth.digest(),
                "the election's manifest publishes no booth digest: the booth is served, but                  voters and observers cannot check it against the election"
            ),
        }
        Ok(())
    }

    /// A tree head of the board as it is now, signed.
    pub fn sign_head(&self, election: &Election, view: &BoardView) -> SignedTreeHead {
        self.key.sign_tree_head(TreeHead {
            election: election.id,
            size: view.tree.len(),
            root: view.tree.root(),
            timestamp: view.timestamp(),
        })
    }

    /// The board's final signed tree head: fixed and stored (write-once) the first time it is
    /// asked for once voting has closed, and the same bytes ever after. It is what the close
    /// checkpoints on chain, what `GET /v1/board/head` answers from then on, and the record's
    /// `tree-head.json`.
    ///
    /// # Errors
    /// An election still open, or a storage failure.
    pub async fn final_head(&self, election: &Election) -> anyhow::Result<SignedTreeHead> {
        if let Some(bytes) = self.db.document(TREE_HEAD).await? {
            return serde_json::from_slice(&bytes).context("the stored final tree head is corrupt");
        }
        let head = {
            let view = election.board.view.read().await;
            if matches!(view.state, ElectionState::Setup | ElectionState::Open) {
                bail!("the board has no final tree head before voting closes");
            }
            self.sign_head(election, &view)
        };
        let bytes = record::document_bytes(&head)?;
        match self.db.put_document(TREE_HEAD, &bytes).await? {
            DocumentPut::Created | DocumentPut::AlreadyPresent => Ok(head),
            DocumentPut::Conflict => {
                let bytes = self
                    .db
                    .document(TREE_HEAD)
                    .await?
                    .context("the final tree head vanished")?;
                serde_json::from_slice(&bytes).context("the stored final tree head is corrupt")
            }
        }
    }

    /// Rebuilds the in-memory election from its stored row.
    async fn load_election(&self, row: &db::ElectionRow) -> anyhow::Result<Arc<Election>> {
        let id_bytes: [u8; 32] = hex::decode(&row.election_id)
            .ok()
            .and_then(|b| b.try_into().ok())
            .context("the stored election id is corrupt")?;
        let id = ElectionId(id_bytes);
        let manifest =
            Manifest::from_json(&row.manifest).context("the stored manifest is invalid")?;
        let public = hex::encode(self.key.public().to_bytes());
        if row.board_key != public {
            bail!(
                "this election's board key is {}, but the service was started with board key \
                 {public}: start it with the election's own key file",
                row.board_key
            );
        }
        let state = ElectionState::parse(&row.state)
            .with_context(|| format!("the stored election state {:?} is unknown", row.state))?;
        let view = BoardView::load(&self.db, state).await?;
        let board = Board::start(
            self.db.clone(),
            Arc::clone(&self.key),
            id,
            view,
            self.metrics.clone(),
        );
        let election = Arc::new(Election {
            id,
            manifest: manifest.clone(),
            board,
            open: OnceLock::new(),
            aggregation: Mutex::new(None),
        });
        if state != ElectionState::Setup {
            let joint = row
                .joint_key
                .as_deref()
                .and_then(|h| hex::decode(h).ok())
                .and_then(|b| PublicKey::from_bytes(&b).ok())
                .context("the stored joint key is missing or corrupt")?;
            let open = self.open_parameters(id, manifest, joint).await?;
            self.ensure_parameters(&election, joint).await?;
            let _ = election.open.set(Arc::new(open));
        }
        Ok(election)
    }

    /// The stored signed election parameters, if voting has opened; checked to be this
    /// election's, signed with this service's board key.
    pub async fn stored_parameters(
        &self,
        election: &Election,
    ) -> anyhow::Result<Option<SignedElectionParameters>> {
        let Some(bytes) = self.db.document(PARAMETERS).await? else {
            return Ok(None);
        };
        let signed: SignedElectionParameters =
            serde_json::from_slice(&bytes).context("the stored election parameters are corrupt")?;
        let p = &signed.parameters;
        if p.election_id != election.id
            || p.board_key != self.key.public()
            || p.manifest_hash != election.manifest.hash()
            || !signed.signature_holds()
        {
            bail!(
                "the stored election parameters are not this election's, or not signed with \
                 this service's board key: the database was changed"
            );
        }
        Ok(Some(signed))
    }

    /// Fixes the election's public parameters when voting opens: builds them from the key
    /// ceremony and the stored credential list, signs them with the board key and stores them
    /// write-once. Idempotent: the same election gives the same bytes (Ed25519 signatures are
    /// deterministic), so a second open, or an open retried after a failure, finds them stored.
    pub async fn fix_parameters(
        &self,
        election: &Election,
        ceremony: &CeremonyParams,
        joint_key: PublicKey,
    ) -> anyhow::Result<SignedElectionParameters> {
        let keys = self.db.credentials().await?;
        let trustees = u32::try_from(ceremony.trustee_count())
            .context("the key ceremony has too many trustees")?;
        let signed = ElectionParameters {
            protocol: tabella_crypto::PROTOCOL_VERSION,
            election_id: election.id,
            manifest: election.manifest.clone(),
            manifest_hash: election.manifest.hash(),
            board_key: self.key.public(),
            ceremony_id: ceremony.id(),
            trustees,
            threshold: ceremony.threshold,
            joint_key,
            credentials: keys.len() as u64,
            credentials_digest: credentials_digest(&keys),
        }
        .sign(&self.key);
        let mut bytes = serde_json::to_vec_pretty(&signed)?;
        bytes.push(b'\n');
        match self.db.put_document(PARAMETERS, &bytes).await? {
            DocumentPut::Created | DocumentPut::AlreadyPresent => Ok(signed),
            DocumentPut::Conflict => match self.stored_parameters(election).await? {
                Some(stored) if stored.parameters == signed.parameters => Ok(stored),
                _ => bail!(
                    "other election parameters are already stored: the key ceremony, the \
                     credential list or the board key changed after they were fixed"
                ),
            },
        }
    }

    /// The stored parameters of an election that has opened; fixed now if a service from
    /// before they existed opened it.
    async fn ensure_parameters(
        &self,
        election: &Election,
        joint_key: PublicKey,
    ) -> anyhow::Result<SignedElectionParameters> {
        if let Some(stored) = self.stored_parameters(election).await? {
            if stored.parameters.joint_key != joint_key {
                bail!("the stored election parameters name another joint key than the election");
            }
            return Ok(stored);
        }
        let store = DbStore::new(self.db.clone(), self.runtime.clone());
        let ceremony =
            tokio::task::spawn_blocking(move || crate::ceremony::KeyCeremony::load(&store, 0))
                .await
                .context("the key ceremony task failed")??;
        if ceremony.outcome.joint_key != joint_key {
            bail!("the stored joint key is not the key ceremony's");
        }
        self.fix_parameters(election, &ceremony.params, joint_key)
            .await
    }

    async fn open_parameters(
        &self,
        id: ElectionId,
        manifest: Manifest,
        joint: PublicKey,
    ) -> anyhow::Result<OpenElection> {
        let ctx = ElectionContext::new(id, manifest, joint).context("the manifest is invalid")?;
        let eligible = self.db.credentials().await?.into_iter().collect();
        Ok(OpenElection { ctx, eligible })
    }

    /// The election, if one was created.
    pub fn election(&self) -> Option<Arc<Election>> {
        self.election.read().ok().and_then(|e| e.clone())
    }

    fn set_election(&self, election: Arc<Election>) {
        if let Ok(mut slot) = self.election.write() {
            *slot = Some(election);
        }
    }

    /// Whether the service can take requests: the database answers and the board is in step.
    pub async fn ready(&self) -> Result<(), String> {
        self.db
            .ping()
            .await
            .map_err(|e| format!("the database does not answer: {e}"))?;
        if let Some(election) = self.election() {
            if election.board.view.read().await.needs_reload {
                return Err("the board is being reloaded after a failed write".to_string());
            }
        }
        Ok(())
    }
}

/// Where `tabella serve` keeps its files, and the defaults derived from it.
pub fn sqlite_url(data_dir: &Path) -> String {
    format!(
        "sqlite://{}?mode=rwc",
        data_dir.join(DATABASE_FILE).display()
    )
}

/// Loads the board key from `path`, or creates it (mode 0600) when the file does not exist.
pub fn load_or_create_board_key(path: &Path) -> anyhow::Result<BoardSigningKey> {
    match std::fs::read_to_string(path) {
        Ok(text) => {
            let bytes = zeroize::Zeroizing::new(
                hex::decode(text.trim())
                    .with_context(|| format!("{} is not a board key file", path.display()))?,
            );
            BoardSigningKey::from_bytes(&bytes)
                .with_context(|| format!("{} is not a board key file", path.display()))
        }
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            let key = BoardSigningKey::generate(&mut rand::rngs::OsRng);
            let text = zeroize::Zeroizing::new(hex::encode(*key.expose_secret()) + "\n");
            write_new_secret_file(path, text.as_bytes())?;
            Ok(key)
        }
        Err(error) => Err(error).with_context(|| format!("could not read {}", path.display())),
    }
}

/// Creates `path` with `bytes`, readable by the owner only; never overwrites.
pub fn write_new_secret_file(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    use std::io::Write as _;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut file = options
        .open(path)
        .with_context(|| format!("could not create {}", path.display()))?;
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .with_context(|| format!("could not write {}", path.display()))
}

/// The options of `tabella serve`.
#[derive(Debug, Clone, clap::Args)]
pub struct ServeOptions {
    /// Address to listen on.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8080")]
    pub listen: String,
    /// Directory of the service's files: the SQLite database (unless --database-url), the
    /// board key (unless --board-key) and the embedded chain's state (with --embedded-chain).
    /// Created if missing.
    #[arg(long, value_name = "DIR", default_value = "tabella-data")]
    pub data_dir: PathBuf,
    /// Database URL: postgres://USER:PASSWORD@HOST/DB for PostgreSQL; default: the SQLite file
    /// tabella.db in the data directory.
    #[arg(
        long,
        value_name = "URL",
        env = "TABELLA_DATABASE_URL",
        hide_env_values = true
    )]
    pub database_url: Option<String>,
    /// The board's signing key file (hex seed; created with mode 0600 if missing). Default:
    /// board.key in the data directory.
    #[arg(long, value_name = "FILE")]
    pub board_key: Option<PathBuf>,
    /// File holding the officials' admin token (or set TABELLA_ADMIN_TOKEN). Without a token no
    /// administrative call is accepted.
    #[arg(long, value_name = "FILE")]
    pub admin_token_file: Option<PathBuf>,
    /// Log format.
    #[arg(long, value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    /// Serve the web ballot built in DIR (`cargo xtask booth`: DIR/booth.json lists every
    /// file). Each file is checked against booth.json at start-up, and the election's manifest
    /// publishes the booth's digest (filled in when the election is created).
    #[arg(long, value_name = "DIR")]
    pub booth: Option<PathBuf>,
    /// On-chain anchoring (spec/anchoring.md); off unless --embedded-chain or --rpc-url.
    #[command(flatten)]
    pub chain: ChainArgs,
}

/// Where the service anchors the election, and when (`tabella serve`).
#[derive(Debug, Clone, Default, PartialEq, Eq, clap::Args)]
pub struct ChainArgs {
    /// Anchor on the embedded chain (revm running the registry's bytecode), its state in
    /// DATA_DIR/chain; the operator is the first development account unless
    /// --signer-key-file or TABELLA_SIGNER_KEY gives a key.
    #[arg(long, conflicts_with = "rpc_url")]
    pub embedded_chain: bool,
    /// Anchor on the chain behind this Ethereum JSON-RPC endpoint (an L1 or an L2); the
    /// operator's key comes from --signer-key-file or TABELLA_SIGNER_KEY.
    #[arg(long, value_name = "URL")]
    pub rpc_url: Option<String>,
    /// File holding the operator's secp256k1 key (hex), the account that sends every anchoring
    /// transaction. Or set TABELLA_SIGNER_KEY. Never logged.
    #[arg(long, value_name = "FILE")]
    pub signer_key_file: Option<PathBuf>,
    /// The registry contract's address (0x…). Without it the service deploys a registry at
    /// the first anchor and keeps its address in the database.
    #[arg(long, value_name = "0xADDRESS")]
    pub registry: Option<String>,
    /// Seconds between checkpoints of the board while it grows.
    #[arg(long, value_name = "SECS", default_value_t = anchor::DEFAULT_CHECKPOINT_INTERVAL.as_secs())]
    pub checkpoint_interval: u64,
    /// Seconds voting lasts on chain: closesAt = opensAt + this (voting cannot close before).
    #[arg(long, value_name = "SECS", default_value_t = anchor::DEFAULT_VOTING_PERIOD)]
    pub voting_period: u64,
    /// Seconds of the challenge window after the result is published.
    #[arg(long, value_name = "SECS", default_value_t = anchor::DEFAULT_CHALLENGE_PERIOD)]
    pub challenge_period: u64,
}

/// The environment variable holding the operator's key (hex) when no --signer-key-file.
pub const SIGNER_KEY_ENV: &str = "TABELLA_SIGNER_KEY";

impl ChainArgs {
    /// Whether anchoring is asked for.
    pub fn enabled(&self) -> bool {
        self.embedded_chain || self.rpc_url.is_some()
    }

    /// The operator's key from --signer-key-file or TABELLA_SIGNER_KEY, if given.
    ///
    /// # Errors
    /// An unreadable file or a value that is not a key.
    pub fn signer(&self) -> anyhow::Result<Option<tabella_contracts::Signer>> {
        if let Some(path) = &self.signer_key_file {
            return tabella_contracts::Signer::from_file(path)
                .map(Some)
                .with_context(|| format!("{} does not hold an operator key", path.display()));
        }
        match std::env::var(SIGNER_KEY_ENV) {
            Ok(text) if !text.trim().is_empty() => {
                let text = zeroize::Zeroizing::new(text);
                tabella_contracts::Signer::from_hex(text.trim())
                    .map(Some)
                    .with_context(|| format!("{SIGNER_KEY_ENV} does not hold an operator key"))
            }
            _ => Ok(None),
        }
    }

    /// The anchoring configuration these options describe, with the embedded chain's state in
    /// `chain_dir`; `None` when anchoring is off.
    ///
    /// # Errors
    /// Options that cannot work together: a key or a registry without a chain, an RPC URL
    /// without a key, zero periods.
    pub fn config(&self, chain_dir: &Path) -> anyhow::Result<Option<AnchorConfig>> {
        if !self.enabled() {
            if self.registry.is_some() || self.signer_key_file.is_some() {
                bail!(
                    "--registry and --signer-key-file need a chain: add --embedded-chain or \
                     --rpc-url URL"
                );
            }
            return Ok(None);
        }
        if self.checkpoint_interval == 0 || self.voting_period == 0 || self.challenge_period == 0 {
            bail!(
                "--checkpoint-interval, --voting-period and --challenge-period must be at least 1 \
                 second"
            );
        }
        if let Some(address) = &self.registry {
            tabella_contracts::Registry::parse_address(address)
                .with_context(|| format!("--registry {address:?} is not an address"))?;
        }
        let chain = match &self.rpc_url {
            Some(url) => ChainSpec::Rpc(url.clone()),
            None => ChainSpec::Embedded(chain_dir.to_path_buf()),
        };
        let signer = match (self.signer()?, &chain) {
            (Some(signer), _) => signer,
            (None, ChainSpec::Rpc(_)) => bail!(
                "anchoring on --rpc-url needs the operator's key: give --signer-key-file FILE or \
                 set {SIGNER_KEY_ENV}"
            ),
            (None, _) => tabella_contracts::Signer::try_dev(0)?,
        };
        Ok(Some(AnchorConfig {
            chain,
            signer,
            registry: self.registry.clone(),
            checkpoint_interval: Duration::from_secs(self.checkpoint_interval),
            voting_period: self.voting_period,
            challenge_period: self.challenge_period,
        }))
    }
}

/// The directory of the embedded chain's state in a data directory.
pub fn chain_dir(data_dir: &Path) -> PathBuf {
    data_dir.join(CHAIN_DIR)
}

/// The name of the embedded chain's directory in the data directory.
pub const CHAIN_DIR: &str = "chain";

/// How logs are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// Sets up `tracing` logs on stderr (`RUST_LOG` filters; default `info`). Safe to call twice.
pub fn init_logs(format: LogFormat) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
}

impl ServeOptions {
    /// The service configuration these options describe (creating the data directory and the
    /// board key as needed).
    pub fn config(&self) -> anyhow::Result<ServiceConfig> {
        std::fs::create_dir_all(&self.data_dir).with_context(|| {
            format!(
                "could not create the data directory {}",
                self.data_dir.display()
            )
        })?;
        let key_path = self
            .board_key
            .clone()
            .unwrap_or_else(|| self.data_dir.join(BOARD_KEY_FILE));
        let admin_token = match &self.admin_token_file {
            Some(path) => Some(
                std::fs::read_to_string(path)
                    .with_context(|| format!("could not read {}", path.display()))?
                    .trim()
                    .to_string(),
            ),
            None => std::env::var("TABELLA_ADMIN_TOKEN").ok(),
        }
        .filter(|t| !t.is_empty())
        .map(SecretString::from);
        Ok(ServiceConfig {
            database_url: self
                .database_url
                .clone()
                .unwrap_or_else(|| sqlite_url(&self.data_dir)),
            board_key: load_or_create_board_key(&key_path)?,
            admin_token,
            limits: Limits::default(),
            anchoring: self.chain.config(&chain_dir(&self.data_dir))?,
            booth: self
                .booth
                .as_deref()
                .map(|dir| {
                    Booth::load(dir).with_context(|| {
                        format!("refusing to serve the booth in {}", dir.display())
                    })
                })
                .transpose()?,
        })
    }
}

/// `tabella serve`: runs the service until Ctrl-C or SIGTERM.
pub fn run(opts: &ServeOptions) -> anyhow::Result<()> {
    init_logs(opts.log_format);
    let config = opts.config()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("could not start the service runtime")?;
    runtime.block_on(async {
        let admin = config.admin_token.is_some();
        let backend = Backend::of(&config.database_url)?;
        let anchoring = config.anchoring.as_ref().map(|a| format!("{:?}", a.chain));
        let booth = config.booth.as_ref().map(|b| {
            let (plain, gzip) = b.sizes();
            tracing::info!(digest = %b.digest(), files = b.manifest().files.len(), bytes = plain, gzip_bytes = gzip, "serving the booth");
            b.digest()
        });
        let state = AppState::start(config).await?;
        let listener = TcpListener::bind(&opts.listen)
            .await
            .with_context(|| format!("could not listen on {}", opts.listen))?;
        let addr = listener.local_addr()?;
        tracing::info!(%addr, backend = backend.name(), admin_token = admin, "election service listening");
        eprintln!(
            "Tabella election service on http://{addr} ({} storage{}{}{}); Ctrl-C to stop",
            backend.name(),
            match &anchoring {
                Some(chain) => format!("; anchoring on {chain}"),
                None => String::new(),
            },
            match booth {
                Some(digest) => format!("; booth {digest} at http://{addr}/booth"),
                None => String::new(),
            },
            if admin { "" } else { "; no admin token: administrative calls are refused" }
        );
        axum::serve(listener, app(Arc::clone(&state)))
            .with_graceful_shutdown(shutdown_signal())
            .await
            .context("the election service failed")?;
        state.db.close().await;
        Ok(())
    })
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}

/// The service running on `127.0.0.1` in a background thread with its own runtime (tests and
/// the demo). It stops when dropped or [`shut down`](Self::shutdown).
pub struct RunningService {
    addr: SocketAddr,
    state: Arc<AppState>,
    stop: Option<watch::Sender<()>>,
    thread: Option<std::thread::JoinHandle<anyhow::Result<()>>>,
}

impl std::fmt::Debug for RunningService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunningService")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

/// Starts the service on `listen` (e.g. `127.0.0.1:0` for a free port) in a background thread.
pub fn spawn(config: ServiceConfig, listen: &str) -> anyhow::Result<RunningService> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("tabella-service")
        .enable_all()
        .build()
        .context("could not start the service runtime")?;
    let (state, listener) = runtime.block_on(async {
        let state = AppState::start(config).await?;
        let listener = TcpListener::bind(listen)
            .await
            .with_context(|| format!("could not listen on {listen}"))?;
        anyhow::Ok((state, listener))
    })?;
    let addr = listener.local_addr()?;
    let (stop, mut stopped) = watch::channel(());
    let app_state = Arc::clone(&state);
    let thread = std::thread::Builder::new()
        .name("tabella-service".to_string())
        .spawn(move || {
            runtime.block_on(async move {
                let server = axum::serve(listener, app(Arc::clone(&app_state)))
                    .with_graceful_shutdown(async move {
                        let _ = stopped.changed().await;
                    });
                let result = server.await.context("the election service failed");
                app_state.db.close().await;
                result
            })
        })?;
    Ok(RunningService {
        addr,
        state,
        stop: Some(stop),
        thread: Some(thread),
    })
}

impl RunningService {
    /// The base URL, e.g. `http://127.0.0.1:41234`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The service's state (for tests).
    pub fn state(&self) -> &Arc<AppState> {
        &self.state
    }

    /// Stops the service and waits until it has stopped and closed its database.
    pub fn shutdown(mut self) -> anyhow::Result<()> {
        self.stop_and_join()
    }

    fn stop_and_join(&mut self) -> anyhow::Result<()> {
        drop(self.stop.take());
        match self.thread.take().map(std::thread::JoinHandle::join) {
            Some(Ok(result)) => result,
            Some(Err(_)) => bail!("the election service thread panicked"),
            None => Ok(()),
        }
    }
}

impl Drop for RunningService {
    fn drop(&mut self) {
        let _ = self.stop_and_join();
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use clap::Parser;

    /// A stand-in for `tabella serve`'s command line.
    #[derive(Debug, Parser)]
    struct Cli {
        #[command(flatten)]
        serve: ServeOptions,
    }

    fn parse(args: &[&str]) -> Result<ServeOptions, clap::Error> {
        Cli::try_parse_from(std::iter::once("serve").chain(args.iter().copied())).map(|c| c.serve)
    }

    #[test]
    fn anchoring_is_off_unless_a_chain_is_given() {
        let opts = parse(&[]).unwrap();
        assert_eq!(
            opts.chain,
            ChainArgs {
                checkpoint_interval: 60,
                voting_period: 86_400,
                challenge_period: 604_800,
                ..ChainArgs::default()
            }
        );
        assert!(opts.chain.config(Path::new("chain")).unwrap().is_none());
    }

    #[test]
    fn the_embedded_chain_lives_in_the_data_directory_with_the_first_dev_account() {
        let opts = parse(&[
            "--data-dir",
            "d",
            "--embedded-chain",
            "--checkpoint-interval",
            "5",
            "--voting-period",
            "3600",
        ])
        .unwrap();
        let config = opts
            .chain
            .config(&chain_dir(&opts.data_dir))
            .unwrap()
            .unwrap();
        assert!(
            matches!(&config.chain, ChainSpec::Embedded(dir) if dir == Path::new("d/chain")),
            "{config:?}"
        );
        assert_eq!(
            config.signer.address_hex(),
            tabella_contracts::Signer::dev(0).address_hex()
        );
        assert_eq!(config.checkpoint_interval, Duration::from_secs(5));
        assert_eq!(
            (config.voting_period, config.challenge_period),
            (3600, 604_800)
        );
        assert_eq!(config.registry, None);
    }

    #[test]
    fn an_rpc_chain_needs_the_operators_key_which_is_never_shown() {
        if std::env::var_os(SIGNER_KEY_ENV).is_some() {
            return;
        }
        let opts = parse(&["--rpc-url", "https://eth.example.org/v3/secret-api-key"]).unwrap();
        let error = opts.chain.config(Path::new("chain")).unwrap_err();
        assert!(error.to_string().contains("--signer-key-file"), "{error}");

        let dir = tempfile::tempdir().unwrap();
        let key = dir.path().join("operator.key");
        let secret = "59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";
        std::fs::write(&key, format!("{secret}\n")).unwrap();
        let key = key.display().to_string();
        let opts = parse(&[
            "--rpc-url",
            "https://eth.example.org/v3/secret-api-key",
            "--signer-key-file",
            &key,
            "--registry",
            "0x5FbDB2315678afecb367f032d93F642f64180aa3",
        ])
        .unwrap();
        let config = opts.chain.config(Path::new("chain")).unwrap().unwrap();
        assert_eq!(
            config.signer.address_hex(),
            tabella_contracts::Signer::dev(1).address_hex()
        );
        let shown = format!("{config:?}");
        assert!(
            !shown.contains(secret) && !shown.contains("secret-api-key"),
            "{shown}"
        );
        assert!(shown.contains("https://eth.example.org"), "{shown}");
    }

    #[test]
    fn anchoring_options_that_cannot_work_are_refused() {
        assert!(parse(&["--embedded-chain", "--rpc-url", "http://127.0.0.1:8545"]).is_err());
        for args in [
            &["--registry", "0x5fbdb2315678afecb367f032d93f642f64180aa3"][..],
            &["--embedded-chain", "--registry", "5fbdb2315678"],
            &["--embedded-chain", "--voting-period", "0"],
            &["--embedded-chain", "--checkpoint-interval", "0"],
        ] {
            let opts = parse(args).unwrap();
            assert!(opts.chain.config(Path::new("chain")).is_err(), "{args:?}");
        }
    }
}
