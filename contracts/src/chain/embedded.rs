//! The embedded chain: a single-node development chain in this process, like Hardhat's
//! automine. revm runs the real bytecode; one block per transaction; the blocks are kept in a
//! directory and replayed on open.
//!
//! # Directory layout
//! - `genesis.json`: the format version, chain id, genesis timestamp, block gas limit, base fee,
//!   hardfork and the prefunded accounts. Written once, atomically, when the chain is created.
//! - `blocks.jsonl`: one JSON object per line and block, appended and fsync'd before a send
//!   returns: `number`, `timestamp`, `time_offset` (the clock offset in force, see
//!   [`EmbeddedChain::advance_time`]) and, unless the block is empty, `transaction` with the raw
//!   signed transaction (`raw`, EIP-2718 hex), its `hash`, `from`, `success`, `gas_used`,
//!   `contract_address` and `logs` (`address`, `topics`, `data`).
//! - `LOCK`: the writer's lock file (an OS file lock; one writer at a time).
//!
//! On open every block is replayed from genesis: each transaction is decoded, its signature
//! recovered, checked (chain id, nonce, fees, balance) and executed again, and the receipt must
//! equal the stored one, or the chain is refused as tampered. A last line without its newline
//! (a write torn by a crash: it was never acknowledged) is dropped with a warning.

use std::collections::HashMap;
use std::fs::{self, File, OpenOptions};
use std::io::{BufRead, BufReader, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{SystemTime, UNIX_EPOCH};

use alloy_consensus::transaction::SignerRecoverable;
use alloy_consensus::{Transaction as _, TxEnvelope};
use alloy_eips::eip2718::Decodable2718;
use alloy_primitives::{keccak256, Address, Bytes, Log, TxKind, B256, U256};
use revm::context::result::{EVMError, ExecutionResult, InvalidTransaction, Output};
use revm::context::{BlockEnv, CfgEnv, TxEnv};
use revm::database::{CacheDB, EmptyDB};
use revm::primitives::hardfork::SpecId;
use revm::state::{AccountInfo, EvmState};
use revm::{Context, DatabaseCommit, DatabaseRef, ExecuteEvm, MainBuilder, MainContext};
use serde::{Deserialize, Serialize};

use super::{gas_limit_for, hex20, hex32, sign_eip1559, CallError, LogEntry, TxReceipt};
use crate::{ChainError, Signer, DEV_ACCOUNTS};

/// The embedded chain's id: `0x7ABE11A` (128,704,794, "tabella"). No chain registered in
/// ethereum-lists/chains (the registry behind chainlist.org) uses it, and it is neither
/// Hardhat's 31337 nor Ganache's 1337, so a transaction signed for the embedded chain is valid
/// on no other chain, and one signed for a Hardhat node is refused here.
pub const EMBEDDED_CHAIN_ID: u64 = 0x7ABE11A;

/// The block gas limit (Hardhat's default).
pub const BLOCK_GAS_LIMIT: u64 = 30_000_000;

/// The base fee per gas, in wei: constant, 1 gwei (Hardhat's initial base fee; Hardhat then
/// adjusts it per EIP-1559, the embedded chain keeps it fixed).
pub const BASE_FEE_PER_GAS: u64 = 1_000_000_000;

/// The priority fee the embedded chain's sends offer, in wei (1 gwei, Hardhat's default).
pub const PRIORITY_FEE_PER_GAS: u128 = 1_000_000_000;

/// Each dev account's genesis balance: 10,000 ETH, in wei.
pub const DEV_BALANCE_WEI: u128 = 10_000 * 1_000_000_000_000_000_000;

/// The format of `genesis.json`.
const FORMAT: &str = "tabella-embedded-chain/1";
/// The EVM rules: Cancun, as the contract is compiled for and the Hardhat node is configured.
const HARDFORK: &str = "cancun";
const SPEC: SpecId = SpecId::CANCUN;

const GENESIS_FILE: &str = "genesis.json";
const BLOCKS_FILE: &str = "blocks.jsonl";
const LOCK_FILE: &str = "LOCK";

/// `genesis.json`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Genesis {
    format: String,
    chain_id: u64,
    timestamp: u64,
    gas_limit: u64,
    base_fee_per_gas: u64,
    hardfork: String,
    alloc: Vec<GenesisAccount>,
}

/// A prefunded account.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct GenesisAccount {
    address: String,
    /// Wei, decimal.
    balance: String,
}

/// One line of `blocks.jsonl`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct StoredBlock {
    number: u64,
    timestamp: u64,
    time_offset: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    transaction: Option<StoredTx>,
}

/// A block's transaction and its receipt.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct StoredTx {
    raw: String,
    hash: String,
    from: String,
    success: bool,
    gas_used: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    contract_address: Option<String>,
    logs: Vec<StoredLog>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct StoredLog {
    address: String,
    topics: Vec<String>,
    data: String,
}

impl StoredLog {
    fn from_log(log: &Log) -> Self {
        StoredLog {
            address: hex20(&log.address.into_array()),
            topics: log.topics().iter().map(|t| hex32(&t.0)).collect(),
            data: format!("0x{}", hex::encode(&log.data.data)),
        }
    }
}

/// A block in memory.
#[derive(Clone, Debug)]
struct Block {
    number: u64,
    timestamp: u64,
    tx: Option<MinedTx>,
}

/// A mined transaction in memory.
#[derive(Clone, Debug)]
struct MinedTx {
    hash: B256,
    from: Address,
    success: bool,
    gas_used: u64,
    contract_address: Option<Address>,
    effective_gas_price: u128,
    logs: Vec<Log>,
}

/// The embedded chain: a handle on its state (cheap to clone; the state is behind a mutex).
#[derive(Clone)]
pub struct EmbeddedChain {
    inner: Arc<Inner>,
}

struct Inner {
    dir: PathBuf,
    read_only: bool,
    chain_id: u64,
    warnings: Vec<String>,
    state: Mutex<State>,
    /// Held for the writer's lifetime: the OS lock on `LOCK`.
    _lock: Option<File>,
}

impl std::fmt::Debug for EmbeddedChain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmbeddedChain")
            .field("dir", &self.inner.dir)
            .field("read_only", &self.inner.read_only)
            .finish_non_exhaustive()
    }
}

struct State {
    dir: PathBuf,
    genesis: Genesis,
    db: CacheDB<EmptyDB>,
    blocks: Vec<Block>,
    /// Transaction hash → block number.
    tx_index: HashMap<B256, u64>,
    /// Seconds added to the wall clock for new blocks' timestamps.
    time_offset: i64,
    /// The timestamp the next block must have ([`EmbeddedChain::set_next_block_timestamp`]).
    pinned_next_timestamp: Option<u64>,
    /// The writer's append handle on `blocks.jsonl` and its length.
    writer: Option<(File, u64)>,
    /// For read-only handles: the bytes of `blocks.jsonl` already replayed.
    read_offset: u64,
    /// Set when a write failed half-way and could not be undone: no more writes.
    broken: bool,
    warnings: Vec<String>,
}

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> ChainError + '_ {
    move |source| ChainError::Io {
        path: path.to_owned(),
        source,
    }
}

fn wall_clock() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

fn decode_hex(text: &str) -> Option<Vec<u8>> {
    hex::decode(text.strip_prefix("0x")?).ok()
}

fn decode_address(text: &str) -> Option<Address> {
    let bytes = decode_hex(text)?;
    (bytes.len() == 20).then(|| Address::from_slice(&bytes))
}

impl EmbeddedChain {
    /// Opens the chain in `dir` as its writer, creating the directory and the genesis if there
    /// is none. See [`Chain::embedded`](crate::Chain::embedded).
    pub fn open(dir: &Path) -> Result<Self, ChainError> {
        fs::create_dir_all(dir).map_err(io_error(dir))?;
        let lock_path = dir.join(LOCK_FILE);
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(io_error(&lock_path))?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(ChainError::Locked {
                    dir: dir.to_owned(),
                })
            }
            Err(std::fs::TryLockError::Error(source)) => {
                return Err(ChainError::Io {
                    path: lock_path,
                    source,
                })
            }
        }
        let genesis_path = dir.join(GENESIS_FILE);
        let blocks_path = dir.join(BLOCKS_FILE);
        if !genesis_path.exists() {
            let has_blocks = fs::metadata(&blocks_path)
                .map(|m| m.len() > 0)
                .unwrap_or(false);
            if has_blocks {
                return Err(ChainError::Corrupt {
                    dir: dir.to_owned(),
                    detail: format!("{BLOCKS_FILE} exists without {GENESIS_FILE}"),
                });
            }
            write_genesis(dir, &new_genesis())?;
        }
        let mut state = State::load(dir, false)?;
        // Drop a torn last line for good, so that the next append starts on a line of its own.
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&blocks_path)
            .map_err(io_error(&blocks_path))?;
        // The file may have just been created: make its directory entry durable.
        File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(io_error(dir))?;
        let len = file.metadata().map_err(io_error(&blocks_path))?.len();
        if len > state.read_offset {
            file.set_len(state.read_offset)
                .map_err(io_error(&blocks_path))?;
            file.sync_all().map_err(io_error(&blocks_path))?;
        }
        state.writer = Some((file, state.read_offset));
        for warning in &state.warnings {
            tracing::warn!(dir = %dir.display(), "{warning}");
        }
        Ok(Self {
            inner: Arc::new(Inner {
                dir: dir.to_owned(),
                read_only: false,
                chain_id: state.genesis.chain_id,
                warnings: state.warnings.clone(),
                state: Mutex::new(state),
                _lock: Some(lock),
            }),
        })
    }

    /// Opens the chain in `dir` for reading only. See
    /// [`Chain::embedded_read_only`](crate::Chain::embedded_read_only).
    pub fn open_read_only(dir: &Path) -> Result<Self, ChainError> {
        let state = State::load(dir, true)?;
        for warning in &state.warnings {
            tracing::warn!(dir = %dir.display(), "{warning}");
        }
        Ok(Self {
            inner: Arc::new(Inner {
                dir: dir.to_owned(),
                read_only: true,
                chain_id: state.genesis.chain_id,
                warnings: state.warnings.clone(),
                state: Mutex::new(state),
                _lock: None,
            }),
        })
    }

    /// The chain's directory.
    pub fn dir(&self) -> &Path {
        &self.inner.dir
    }

    /// Whether this handle was opened read-only.
    pub fn is_read_only(&self) -> bool {
        self.inner.read_only
    }

    /// What opening the chain had to tolerate (a dropped torn last line), in words. Also
    /// logged with `tracing::warn!`.
    pub fn warnings(&self) -> &[String] {
        &self.inner.warnings
    }

    /// The chain id.
    pub fn chain_id(&self) -> u64 {
        self.inner.chain_id
    }

    /// Locks the state; a read-only handle first catches up with the writer's new blocks.
    fn lock(&self) -> Result<MutexGuard<'_, State>, ChainError> {
        let mut state = self.inner.state.lock().map_err(|_| ChainError::Poisoned)?;
        if self.inner.read_only {
            state.catch_up()?;
        }
        Ok(state)
    }

    /// The latest block's number (0 before the first transaction).
    pub fn block_number(&self) -> Result<u64, ChainError> {
        Ok(self.lock()?.head_number())
    }

    /// The latest block's timestamp.
    pub fn time(&self) -> Result<u64, ChainError> {
        Ok(self.lock()?.head_timestamp())
    }

    /// An account's balance in wei.
    pub fn balance(&self, address: [u8; 20]) -> Result<u128, ChainError> {
        let state = self.lock()?;
        let info = state.account(Address::from(address))?;
        Ok(info.balance.saturating_to::<u128>())
    }

    /// An account's next nonce.
    pub fn nonce(&self, address: [u8; 20]) -> Result<u64, ChainError> {
        let state = self.lock()?;
        Ok(state.account(Address::from(address))?.nonce)
    }

    /// The code deployed at `address`.
    pub fn code(&self, address: [u8; 20]) -> Result<Vec<u8>, ChainError> {
        let state = self.lock()?;
        let info = state.account(Address::from(address))?;
        let code = match info.code {
            Some(code) => code,
            None => state
                .db
                .code_by_hash_ref(info.code_hash)
                .map_err(|e| ChainError::Evm {
                    detail: e.to_string(),
                })?,
        };
        Ok(code.original_bytes().to_vec())
    }

    /// A mined transaction's receipt.
    pub fn receipt(&self, hash: [u8; 32]) -> Result<Option<TxReceipt>, ChainError> {
        let state = self.lock()?;
        Ok(state
            .tx_index
            .get(&B256::from(hash))
            .and_then(|number| state.block(*number))
            .and_then(|block| block.receipt()))
    }

    /// Moves the clock forward by `seconds` and mines an empty block (Hardhat's
    /// `evm_increaseTime` + `evm_mine`); persisted. The new block is at least `seconds` after
    /// the latest one; returns its timestamp.
    pub fn advance_time(&self, seconds: u64) -> Result<u64, ChainError> {
        let mut state = self.writable()?;
        let seconds = i64::try_from(seconds).map_err(|_| ChainError::InvalidInput {
            reason: format!("cannot advance the clock by {seconds} s"),
        })?;
        state.time_offset = state.time_offset.saturating_add(seconds);
        // At least `seconds` after the latest block, even when the chain's clock runs ahead of
        // the wall clock (blocks mined faster than one per second); later blocks continue from
        // there.
        let timestamp = state.next_timestamp().max(
            state
                .head_timestamp()
                .saturating_add(seconds.unsigned_abs()),
        );
        let offset = i128::from(timestamp) - i128::from(wall_clock());
        state.time_offset = state
            .time_offset
            .max(i64::try_from(offset).unwrap_or(i64::MAX));
        state.mine_empty(timestamp)?;
        Ok(timestamp)
    }

    /// Makes the next block's timestamp exactly `timestamp` (Hardhat's
    /// `evm_setNextBlockTimestamp`); later blocks continue from there. Must be after the latest
    /// block's. Persisted with the next block.
    pub fn set_next_block_timestamp(&self, timestamp: u64) -> Result<(), ChainError> {
        let mut state = self.writable()?;
        let head = state.head_timestamp();
        if timestamp <= head {
            return Err(ChainError::InvalidInput {
                reason: format!(
                    "the next block's timestamp {timestamp} must be after the latest block's {head}"
                ),
            });
        }
        let now = i128::from(wall_clock());
        let offset = i128::from(timestamp) - now;
        state.time_offset = i64::try_from(offset).map_err(|_| ChainError::InvalidInput {
            reason: format!("timestamp {timestamp} is out of range"),
        })?;
        state.pinned_next_timestamp = Some(timestamp);
        Ok(())
    }

    /// Mines an empty block now (Hardhat's `evm_mine`); returns its timestamp.
    pub fn mine(&self) -> Result<u64, ChainError> {
        let mut state = self.writable()?;
        let timestamp = state.next_timestamp();
        state.mine_empty(timestamp)?;
        Ok(timestamp)
    }

    /// Submits a raw signed transaction (EIP-2718 encoded; EIP-1559 only), as
    /// `eth_sendRawTransaction` on an automining node: it is decoded, its sender recovered,
    /// checked (chain id, nonce, fees, balance, gas limit) and executed in a new block, which
    /// is appended to `blocks.jsonl` and fsync'd before the receipt is returned. A transaction
    /// that reverts is mined (its gas is spent) and its receipt says `success: false`.
    pub fn send_raw_transaction(&self, raw: &[u8]) -> Result<TxReceipt, ChainError> {
        let mut state = self.writable()?;
        let timestamp = state.next_timestamp();
        state
            .mine_transaction(raw, timestamp)
            .map(|(receipt, _)| receipt)
    }

    fn writable(&self) -> Result<MutexGuard<'_, State>, ChainError> {
        if self.inner.read_only {
            return Err(ChainError::ReadOnly);
        }
        let state = self.lock()?;
        if state.broken {
            return Err(ChainError::Corrupt {
                dir: self.inner.dir.clone(),
                detail: "an earlier write failed half-way; reopen the chain".to_owned(),
            });
        }
        Ok(state)
    }

    pub(crate) fn send(
        &self,
        signer: &Signer,
        to: Option<Address>,
        input: Bytes,
        function: &'static str,
    ) -> Result<TxReceipt, ChainError> {
        let mut state = self.writable()?;
        let timestamp = state.next_timestamp();
        let from = signer.alloy_address();
        let estimate = state
            .dry_run(Some(from), to, input.clone(), timestamp)
            .map_err(|e| e.into_chain_error(function))?;
        let nonce = state.account(from)?.nonce;
        let base_fee = u128::from(state.genesis.base_fee_per_gas);
        let raw = sign_eip1559(
            signer,
            state.genesis.chain_id,
            nonce,
            to,
            input,
            gas_limit_for(estimate.gas_used, state.genesis.gas_limit),
            base_fee * 2 + PRIORITY_FEE_PER_GAS,
            PRIORITY_FEE_PER_GAS,
        )?;
        let (receipt, output) = state.mine_transaction(&raw, timestamp)?;
        if !receipt.success {
            return Err(ChainError::MinedReverted {
                function,
                transaction: receipt.hash_hex(),
                reason: crate::describe_revert(&output),
            });
        }
        Ok(receipt)
    }

    pub(crate) fn call(
        &self,
        to: Address,
        input: Bytes,
        block: Option<u64>,
    ) -> Result<Bytes, CallError> {
        let state = self.lock()?;
        if let Some(block) = block {
            if block != state.head_number() {
                return Err(CallError::Chain(ChainError::InvalidInput {
                    reason: format!(
                        "the embedded chain keeps only the latest state (block {}), not block {block}",
                        state.head_number()
                    ),
                }));
            }
        }
        let timestamp = state.head_timestamp();
        Ok(state.dry_run(None, Some(to), input, timestamp)?.output)
    }

    pub(crate) fn estimate_gas(
        &self,
        from: Option<Address>,
        to: Option<Address>,
        input: Bytes,
    ) -> Result<u64, CallError> {
        let state = self.lock()?;
        let timestamp = state.next_timestamp();
        Ok(state.dry_run(from, to, input, timestamp)?.gas_used)
    }

    pub(crate) fn logs(
        &self,
        address: Address,
        topic1: B256,
        from_block: u64,
        to_block: u64,
    ) -> Result<Vec<LogEntry>, ChainError> {
        let state = self.lock()?;
        let mut entries = Vec::new();
        for block in &state.blocks {
            let Some(tx) = &block.tx else { continue };
            if block.number < from_block || block.number > to_block {
                continue;
            }
            // One transaction per block: a log's index in the block is its index in the
            // transaction.
            for (log_index, log) in (0u64..).zip(&tx.logs) {
                let topics = log.topics();
                if log.address == address && topics.get(1) == Some(&topic1) {
                    entries.push(LogEntry {
                        block_number: block.number,
                        transaction: tx.hash,
                        log_index,
                        address: log.address,
                        topics: topics.to_vec(),
                        data: log.data.data.clone(),
                    });
                }
            }
        }
        Ok(entries)
    }
}

/// A dry run's outcome.
struct DryRun {
    gas_used: u64,
    output: Bytes,
}

fn new_genesis() -> Genesis {
    let alloc = (0..DEV_ACCOUNTS)
        .map(|i| GenesisAccount {
            address: Signer::dev(i).address_hex(),
            balance: DEV_BALANCE_WEI.to_string(),
        })
        .collect();
    Genesis {
        format: FORMAT.to_owned(),
        chain_id: EMBEDDED_CHAIN_ID,
        timestamp: wall_clock(),
        gas_limit: BLOCK_GAS_LIMIT,
        base_fee_per_gas: BASE_FEE_PER_GAS,
        hardfork: HARDFORK.to_owned(),
        alloc,
    }
}

/// Writes `genesis.json` atomically: a temporary file, fsync'd, renamed, and the directory
/// fsync'd.
fn write_genesis(dir: &Path, genesis: &Genesis) -> Result<(), ChainError> {
    let path = dir.join(GENESIS_FILE);
    let tmp = dir.join(format!("{GENESIS_FILE}.tmp"));
    let mut text = serde_json::to_string_pretty(genesis).map_err(|e| ChainError::Corrupt {
        dir: dir.to_owned(),
        detail: format!("cannot encode the genesis: {e}"),
    })?;
    text.push('\n');
    let mut file = File::create(&tmp).map_err(io_error(&tmp))?;
    file.write_all(text.as_bytes()).map_err(io_error(&tmp))?;
    file.sync_all().map_err(io_error(&tmp))?;
    fs::rename(&tmp, &path).map_err(io_error(&path))?;
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io_error(dir))?;
    Ok(())
}

impl Block {
    fn receipt(&self) -> Option<TxReceipt> {
        let tx = self.tx.as_ref()?;
        Some(TxReceipt {
            hash: tx.hash.0,
            block_number: self.number,
            block_timestamp: self.timestamp,
            gas_used: tx.gas_used,
            success: tx.success,
            from: tx.from.into_array(),
            contract_address: tx.contract_address.map(Address::into_array),
            effective_gas_price: tx.effective_gas_price,
        })
    }
}

impl State {
    /// Reads the genesis and replays `blocks.jsonl`.
    fn load(dir: &Path, read_only: bool) -> Result<Self, ChainError> {
        let corrupt = |detail: String| ChainError::Corrupt {
            dir: dir.to_owned(),
            detail,
        };
        let genesis_path = dir.join(GENESIS_FILE);
        let text = fs::read_to_string(&genesis_path).map_err(io_error(&genesis_path))?;
        let genesis: Genesis =
            serde_json::from_str(&text).map_err(|e| corrupt(format!("{GENESIS_FILE}: {e}")))?;
        if genesis.format != FORMAT {
            return Err(corrupt(format!(
                "{GENESIS_FILE}: format {:?}, expected {FORMAT:?}",
                genesis.format
            )));
        }
        if genesis.hardfork != HARDFORK {
            return Err(corrupt(format!(
                "{GENESIS_FILE}: hardfork {:?}, only {HARDFORK:?} is supported",
                genesis.hardfork
            )));
        }
        let mut db = CacheDB::new(EmptyDB::default());
        for account in &genesis.alloc {
            let address = decode_address(&account.address).ok_or_else(|| {
                corrupt(format!("{GENESIS_FILE}: bad address {:?}", account.address))
            })?;
            let balance: U256 = account.balance.parse().map_err(|_| {
                corrupt(format!("{GENESIS_FILE}: bad balance {:?}", account.balance))
            })?;
            db.insert_account_info(address, AccountInfo::from_balance(balance));
        }
        let mut state = State {
            dir: dir.to_owned(),
            genesis,
            db,
            blocks: Vec::new(),
            tx_index: HashMap::new(),
            time_offset: 0,
            pinned_next_timestamp: None,
            writer: None,
            read_offset: 0,
            broken: false,
            warnings: Vec::new(),
        };
        let blocks_path = dir.join(BLOCKS_FILE);
        match File::open(&blocks_path) {
            Ok(file) => {
                let torn = state.replay_from(file, 0)?;
                if torn > 0 {
                    let what = if read_only {
                        "ignored (the writer may still be writing it)"
                    } else {
                        "dropped: it was never acknowledged"
                    };
                    state.warnings.push(format!(
                        "{BLOCKS_FILE}: the last line is torn ({torn} bytes without a newline, \
                         after block {}); {what}",
                        state.head_number()
                    ));
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(source) => {
                return Err(ChainError::Io {
                    path: blocks_path,
                    source,
                })
            }
        }
        Ok(state)
    }

    /// Replays the complete lines of `file` from byte `offset`; returns the length of a torn
    /// tail (bytes after the last newline), which is not replayed.
    fn replay_from(&mut self, mut file: File, offset: u64) -> Result<u64, ChainError> {
        let path = self.dir.join(BLOCKS_FILE);
        file.seek(SeekFrom::Start(offset))
            .map_err(io_error(&path))?;
        let mut reader = BufReader::new(file);
        let mut line = Vec::new();
        loop {
            line.clear();
            let n = reader
                .read_until(b'\n', &mut line)
                .map_err(io_error(&path))?;
            if n == 0 {
                return Ok(0);
            }
            if line.last() != Some(&b'\n') {
                return Ok(n as u64);
            }
            let number = self.head_number() + 1;
            let stored: StoredBlock =
                serde_json::from_slice(&line[..n - 1]).map_err(|e| ChainError::Corrupt {
                    dir: self.dir.clone(),
                    detail: format!("{BLOCKS_FILE} line {number}: {e}"),
                })?;
            self.replay_block(stored)?;
            self.read_offset += n as u64;
        }
    }

    /// A read-only handle replays what the writer appended since.
    fn catch_up(&mut self) -> Result<(), ChainError> {
        let path = self.dir.join(BLOCKS_FILE);
        let file = match File::open(&path) {
            Ok(file) => file,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(source) => return Err(ChainError::Io { path, source }),
        };
        let len = file.metadata().map_err(io_error(&path))?.len();
        if len > self.read_offset {
            self.replay_from(file, self.read_offset)?;
        }
        Ok(())
    }

    fn tampered(&self, block: u64, detail: String) -> ChainError {
        ChainError::Tampered {
            dir: self.dir.clone(),
            block,
            detail,
        }
    }

    /// Replays one stored block: the block must follow the head, and its transaction's
    /// replayed receipt must equal the stored one.
    fn replay_block(&mut self, stored: StoredBlock) -> Result<(), ChainError> {
        let number = self.head_number() + 1;
        if stored.number != number {
            return Err(self.tampered(
                number,
                format!("line {number} holds block {}", stored.number),
            ));
        }
        if stored.timestamp <= self.head_timestamp() {
            return Err(self.tampered(
                number,
                format!(
                    "timestamp {} is not after the parent's {}",
                    stored.timestamp,
                    self.head_timestamp()
                ),
            ));
        }
        let Some(stored_tx) = &stored.transaction else {
            self.time_offset = stored.time_offset;
            self.blocks.push(Block {
                number,
                timestamp: stored.timestamp,
                tx: None,
            });
            return Ok(());
        };
        let raw = decode_hex(&stored_tx.raw)
            .ok_or_else(|| self.tampered(number, "the raw transaction is not hex".to_owned()))?;
        let executed = self.execute(&raw, number, stored.timestamp).map_err(|e| {
            self.tampered(number, format!("the transaction no longer applies: {e}"))
        })?;
        let replayed = StoredTx {
            raw: stored_tx.raw.clone(),
            hash: hex32(&executed.tx.hash.0),
            from: hex20(&executed.tx.from.into_array()),
            success: executed.tx.success,
            gas_used: executed.tx.gas_used,
            contract_address: executed.tx.contract_address.map(|a| hex20(&a.into_array())),
            logs: executed.tx.logs.iter().map(StoredLog::from_log).collect(),
        };
        if &replayed != stored_tx {
            return Err(self.tampered(number, describe_difference(stored_tx, &replayed)));
        }
        self.time_offset = stored.time_offset;
        self.commit(number, stored.timestamp, executed);
        Ok(())
    }

    fn head_number(&self) -> u64 {
        self.blocks.last().map_or(0, |b| b.number)
    }

    fn head_timestamp(&self) -> u64 {
        self.blocks
            .last()
            .map_or(self.genesis.timestamp, |b| b.timestamp)
    }

    fn block(&self, number: u64) -> Option<&Block> {
        let index = usize::try_from(number.checked_sub(1)?).ok()?;
        self.blocks.get(index)
    }

    /// The next block's timestamp: the pinned one, else `max(wall clock + offset, parent + 1)`.
    fn next_timestamp(&self) -> u64 {
        if let Some(timestamp) = self.pinned_next_timestamp {
            return timestamp;
        }
        let clock = i128::from(wall_clock()) + i128::from(self.time_offset);
        let clock = u64::try_from(clock.max(0)).unwrap_or(u64::MAX);
        clock.max(self.head_timestamp().saturating_add(1))
    }

    fn account(&self, address: Address) -> Result<AccountInfo, ChainError> {
        Ok(self
            .db
            .basic_ref(address)
            .map_err(|e| ChainError::Evm {
                detail: e.to_string(),
            })?
            .unwrap_or_default())
    }

    fn block_env(&self, number: u64, timestamp: u64, base_fee: u64) -> BlockEnv {
        BlockEnv {
            number: U256::from(number),
            timestamp: U256::from(timestamp),
            gas_limit: self.genesis.gas_limit,
            basefee: base_fee,
            prevrandao: Some(keccak256(number.to_be_bytes())),
            ..BlockEnv::default()
        }
    }

    fn cfg(&self) -> CfgEnv {
        CfgEnv::new_with_spec(SPEC).with_chain_id(self.genesis.chain_id)
    }

    /// Runs a call without committing it, as `eth_call`/`eth_estimateGas` do: no base fee, no
    /// gas price, no nonce check, the block gas limit as the gas limit, in the block that would
    /// come next (for estimates) or the latest one (for views).
    fn dry_run(
        &self,
        from: Option<Address>,
        to: Option<Address>,
        input: Bytes,
        timestamp: u64,
    ) -> Result<DryRun, CallError> {
        let mut cfg = self.cfg();
        cfg.disable_nonce_check = true;
        let tx = TxEnv {
            tx_type: 0,
            caller: from.unwrap_or(Address::ZERO),
            gas_limit: self.genesis.gas_limit,
            gas_price: 0,
            kind: to.map_or(TxKind::Create, TxKind::Call),
            value: U256::ZERO,
            data: input,
            nonce: 0,
            chain_id: Some(self.genesis.chain_id),
            ..TxEnv::default()
        };
        let block = self.block_env(self.head_number() + 1, timestamp, 0);
        let mut evm = Context::mainnet()
            .with_ref_db(&self.db)
            .with_cfg(cfg)
            .with_block(block)
            .build_mainnet();
        let outcome = evm.transact(tx).map_err(|e| {
            CallError::Chain(ChainError::Evm {
                detail: e.to_string(),
            })
        })?;
        match outcome.result {
            ExecutionResult::Success { gas, output, .. } => Ok(DryRun {
                gas_used: gas.tx_gas_used(),
                output: match output {
                    Output::Call(bytes) => bytes,
                    Output::Create(bytes, _) => bytes,
                },
            }),
            ExecutionResult::Revert { output, .. } => Err(CallError::Reverted(output)),
            ExecutionResult::Halt { reason, .. } => Err(CallError::Chain(ChainError::Rejected {
                reason: format!("execution halted: {reason:?}"),
            })),
        }
    }

    /// Decodes, recovers, checks and executes a raw transaction in block `number` at
    /// `timestamp`, without committing it.
    fn execute(&self, raw: &[u8], number: u64, timestamp: u64) -> Result<Executed, ChainError> {
        let rejected = |reason: String| ChainError::Rejected { reason };
        let mut buf = raw;
        let envelope = TxEnvelope::decode_2718(&mut buf)
            .map_err(|e| rejected(format!("not an EIP-2718 transaction: {e}")))?;
        if !buf.is_empty() {
            return Err(rejected(format!(
                "{} bytes after the transaction",
                buf.len()
            )));
        }
        let TxEnvelope::Eip1559(signed) = &envelope else {
            return Err(rejected(
                "only EIP-1559 (type 2) transactions are accepted".to_owned(),
            ));
        };
        let hash = keccak256(raw);
        let from = envelope
            .recover_signer()
            .map_err(|e| rejected(format!("bad signature: {e}")))?;
        let tx = signed.tx();
        let chain_id = self.genesis.chain_id;
        if tx.chain_id != chain_id {
            return Err(ChainError::WrongChainId {
                expected: chain_id,
                found: tx.chain_id,
            });
        }
        let account = self.account(from)?;
        if tx.nonce != account.nonce {
            return Err(ChainError::Nonce {
                expected: account.nonce,
                found: tx.nonce,
            });
        }
        let base_fee = self.genesis.base_fee_per_gas;
        if tx.max_fee_per_gas < u128::from(base_fee) {
            return Err(rejected(format!(
                "max fee per gas {} is below the base fee {base_fee}",
                tx.max_fee_per_gas
            )));
        }
        if tx.max_priority_fee_per_gas > tx.max_fee_per_gas {
            return Err(rejected(format!(
                "max priority fee per gas {} is above the max fee per gas {}",
                tx.max_priority_fee_per_gas, tx.max_fee_per_gas
            )));
        }
        if tx.gas_limit > self.genesis.gas_limit {
            return Err(rejected(format!(
                "gas limit {} is above the block gas limit {}",
                tx.gas_limit, self.genesis.gas_limit
            )));
        }
        let needed = U256::from(tx.gas_limit)
            .saturating_mul(U256::from(tx.max_fee_per_gas))
            .saturating_add(tx.value);
        if account.balance < needed {
            return Err(ChainError::InsufficientFunds {
                account: hex20(&from.into_array()),
                balance: account.balance.to_string(),
                needed: needed.to_string(),
            });
        }
        let effective_gas_price = tx
            .effective_gas_price(Some(base_fee))
            .min(tx.max_fee_per_gas);
        let tx_env = TxEnv {
            tx_type: 2,
            caller: from,
            gas_limit: tx.gas_limit,
            gas_price: tx.max_fee_per_gas,
            kind: tx.to,
            value: tx.value,
            data: tx.input.clone(),
            nonce: tx.nonce,
            chain_id: Some(tx.chain_id),
            access_list: tx.access_list.clone(),
            gas_priority_fee: Some(tx.max_priority_fee_per_gas),
            ..TxEnv::default()
        };
        let block = self.block_env(number, timestamp, base_fee);
        let mut evm = Context::mainnet()
            .with_ref_db(&self.db)
            .with_cfg(self.cfg())
            .with_block(block)
            .build_mainnet();
        let outcome = evm.transact(tx_env).map_err(|e| match e {
            EVMError::Transaction(invalid) => invalid_transaction(invalid),
            other => ChainError::Evm {
                detail: other.to_string(),
            },
        })?;
        let success = outcome.result.is_success();
        let contract_address = outcome.result.created_address();
        let gas_used = outcome.result.tx_gas_used();
        let output = match &outcome.result {
            ExecutionResult::Revert { output, .. } => output.clone(),
            _ => Bytes::new(),
        };
        let logs = if success {
            outcome.result.into_logs()
        } else {
            Vec::new()
        };
        Ok(Executed {
            tx: MinedTx {
                hash,
                from,
                success,
                gas_used,
                contract_address,
                effective_gas_price,
                logs,
            },
            revert_output: output,
            state: outcome.state,
        })
    }

    /// Adds an executed transaction's block and commits its state changes.
    fn commit(&mut self, number: u64, timestamp: u64, executed: Executed) {
        self.db.commit(executed.state);
        self.tx_index.insert(executed.tx.hash, number);
        self.blocks.push(Block {
            number,
            timestamp,
            tx: Some(executed.tx),
        });
        self.pinned_next_timestamp = None;
    }

    /// Appends a block's line to `blocks.jsonl` and fsyncs it; on a failed write, truncates the
    /// file back (or refuses further writes if that fails too).
    fn append(&mut self, stored: &StoredBlock) -> Result<(), ChainError> {
        let path = self.dir.join(BLOCKS_FILE);
        let mut line = serde_json::to_vec(stored).map_err(|e| ChainError::Evm {
            detail: format!("cannot encode block {}: {e}", stored.number),
        })?;
        line.push(b'\n');
        let Some((file, len)) = self.writer.as_mut() else {
            return Err(ChainError::ReadOnly);
        };
        let result = file.write_all(&line).and_then(|()| file.sync_data());
        if let Err(source) = result {
            if file.set_len(*len).and_then(|()| file.sync_all()).is_err() {
                self.broken = true;
            }
            return Err(ChainError::Io { path, source });
        }
        *len += line.len() as u64;
        self.read_offset = *len;
        Ok(())
    }

    fn mine_empty(&mut self, timestamp: u64) -> Result<(), ChainError> {
        let number = self.head_number() + 1;
        let stored = StoredBlock {
            number,
            timestamp,
            time_offset: self.time_offset,
            transaction: None,
        };
        self.append(&stored)?;
        self.blocks.push(Block {
            number,
            timestamp,
            tx: None,
        });
        self.pinned_next_timestamp = None;
        Ok(())
    }

    /// Executes a raw transaction in a new block, persists the block, then commits it. Returns
    /// the receipt and, for a revert, the revert data.
    fn mine_transaction(
        &mut self,
        raw: &[u8],
        timestamp: u64,
    ) -> Result<(TxReceipt, Bytes), ChainError> {
        let number = self.head_number() + 1;
        let executed = self.execute(raw, number, timestamp)?;
        let stored = StoredBlock {
            number,
            timestamp,
            time_offset: self.time_offset,
            transaction: Some(StoredTx {
                raw: format!("0x{}", hex::encode(raw)),
                hash: hex32(&executed.tx.hash.0),
                from: hex20(&executed.tx.from.into_array()),
                success: executed.tx.success,
                gas_used: executed.tx.gas_used,
                contract_address: executed.tx.contract_address.map(|a| hex20(&a.into_array())),
                logs: executed.tx.logs.iter().map(StoredLog::from_log).collect(),
            }),
        };
        self.append(&stored)?;
        let output = executed.revert_output.clone();
        self.commit(number, timestamp, executed);
        let receipt =
            self.block(number)
                .and_then(Block::receipt)
                .ok_or_else(|| ChainError::Evm {
                    detail: format!("block {number} vanished after it was mined"),
                })?;
        Ok((receipt, output))
    }
}

/// An executed, not yet committed transaction.
struct Executed {
    tx: MinedTx,
    revert_output: Bytes,
    state: EvmState,
}

fn invalid_transaction(invalid: InvalidTransaction) -> ChainError {
    match invalid {
        InvalidTransaction::NonceTooHigh { tx, state }
        | InvalidTransaction::NonceTooLow { tx, state } => ChainError::Nonce {
            expected: state,
            found: tx,
        },
        other => ChainError::Rejected {
            reason: other.to_string(),
        },
    }
}

/// Says which field of a replayed receipt differs from the stored one.
fn describe_difference(stored: &StoredTx, replayed: &StoredTx) -> String {
    if stored.hash != replayed.hash {
        return format!(
            "stored hash {} is not the transaction's hash {}",
            stored.hash, replayed.hash
        );
    }
    if stored.from != replayed.from {
        return format!(
            "stored sender {} is not the signer {}",
            stored.from, replayed.from
        );
    }
    if stored.success != replayed.success {
        return format!(
            "stored status {} but the replay gives {}",
            stored.success, replayed.success
        );
    }
    if stored.gas_used != replayed.gas_used {
        return format!(
            "stored gas used {} but the replay uses {}",
            stored.gas_used, replayed.gas_used
        );
    }
    if stored.contract_address != replayed.contract_address {
        return "the created contract's address differs".to_owned();
    }
    if stored.logs.len() != replayed.logs.len() {
        return format!(
            "{} logs stored, the replay emits {}",
            stored.logs.len(),
            replayed.logs.len()
        );
    }
    for (i, (a, b)) in stored.logs.iter().zip(&replayed.logs).enumerate() {
        if a != b {
            return format!("log {i} differs from the replayed one");
        }
    }
    "the stored receipt differs from the replayed one".to_owned()
}
