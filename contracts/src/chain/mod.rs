//! [`Chain`]: where transactions go, either the [`EmbeddedChain`] (revm in this process, blocks
//! kept in a directory) or an [`RpcChain`] (any Ethereum JSON-RPC endpoint).
//!
//! Both take the same path for a send: estimate the gas (a dry run; a revert is decoded into the
//! registry's custom error and returned before anything is signed), sign an EIP-1559
//! transaction, encode it (EIP-2718) and submit the raw bytes, then wait for the receipt.

use std::path::Path;

use alloy_consensus::{TxEip1559, TxEnvelope};
use alloy_eips::eip2718::Encodable2718;
use alloy_primitives::{Address, Bytes, TxKind, B256, U256};

pub(crate) mod embedded;
pub(crate) mod rpc;

pub use embedded::{
    EmbeddedChain, BASE_FEE_PER_GAS, BLOCK_GAS_LIMIT, DEV_BALANCE_WEI, EMBEDDED_CHAIN_ID,
    PRIORITY_FEE_PER_GAS,
};
pub use rpc::RpcChain;

use crate::{ChainError, Signer};

/// The receipt of a mined transaction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TxReceipt {
    /// The transaction hash (keccak-256 of its EIP-2718 encoding).
    pub hash: [u8; 32],
    /// The block that includes it.
    pub block_number: u64,
    /// That block's timestamp (Unix seconds).
    pub block_timestamp: u64,
    /// Gas used by the transaction.
    pub gas_used: u64,
    /// Whether it succeeded (EIP-658 status). Sends return an error rather than a failed
    /// receipt; lookups ([`Chain::receipt`]) may return failed ones.
    pub success: bool,
    /// The sender.
    pub from: [u8; 20],
    /// The contract it created, for a deployment.
    pub contract_address: Option<[u8; 20]>,
    /// The price paid per gas, in wei.
    pub effective_gas_price: u128,
}

impl TxReceipt {
    /// The transaction hash as `0x` and 64 lowercase hex digits.
    pub fn hash_hex(&self) -> String {
        hex32(&self.hash)
    }
}

/// A chain to anchor on. Cheap to clone (an `Arc` inside); `Send + Sync`.
#[derive(Clone, Debug)]
pub enum Chain {
    /// The embedded single-node chain (revm, blocks in a directory).
    Embedded(EmbeddedChain),
    /// A JSON-RPC endpoint.
    Rpc(RpcChain),
}

/// A log read back from the chain, with where it came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct LogEntry {
    pub block_number: u64,
    pub transaction: B256,
    pub log_index: u64,
    pub address: Address,
    pub topics: Vec<B256>,
    pub data: Bytes,
}

/// A read-only call that failed: the contract reverted with this data (or the node said it
/// reverted without giving the data), or the chain failed.
pub(crate) enum CallError {
    Reverted(Bytes),
    RevertedWithoutData(String),
    Chain(ChainError),
}

impl From<ChainError> for CallError {
    fn from(error: ChainError) -> Self {
        CallError::Chain(error)
    }
}

impl CallError {
    /// Turns a revert into [`ChainError::Reverted`] naming `function`.
    pub(crate) fn into_chain_error(self, function: &'static str) -> ChainError {
        match self {
            CallError::Reverted(data) => ChainError::Reverted {
                function,
                reason: crate::describe_revert(&data),
            },
            CallError::RevertedWithoutData(message) => ChainError::Reverted {
                function,
                reason: format!("no revert data; the node says: {message}"),
            },
            CallError::Chain(error) => error,
        }
    }
}

/// The gas limit sent for an estimate: 25% and 10,000 gas of headroom, because the state may
/// change between the estimate and the inclusion (a first checkpoint writes more fresh storage
/// slots than later ones), capped at `cap`.
pub(crate) fn gas_limit_for(estimate: u64, cap: u64) -> u64 {
    estimate
        .saturating_add(estimate / 4)
        .saturating_add(10_000)
        .min(cap)
}

/// Signs and encodes (EIP-2718) an EIP-1559 transaction.
#[allow(clippy::too_many_arguments)]
pub(crate) fn sign_eip1559(
    signer: &Signer,
    chain_id: u64,
    nonce: u64,
    to: Option<Address>,
    input: Bytes,
    gas_limit: u64,
    max_fee_per_gas: u128,
    max_priority_fee_per_gas: u128,
) -> Result<Vec<u8>, ChainError> {
    let tx = TxEip1559 {
        chain_id,
        nonce,
        gas_limit,
        max_fee_per_gas,
        max_priority_fee_per_gas,
        to: to.map_or(TxKind::Create, TxKind::Call),
        value: U256::ZERO,
        access_list: Default::default(),
        input,
    };
    let envelope = TxEnvelope::Eip1559(signer.sign(tx)?);
    Ok(envelope.encoded_2718())
}

pub(crate) fn hex32(bytes: &[u8; 32]) -> String {
    format!("0x{}", hex::encode(bytes))
}

pub(crate) fn hex20(bytes: &[u8; 20]) -> String {
    format!("0x{}", hex::encode(bytes))
}

impl Chain {
    /// Opens the embedded chain stored in `dir` (e.g. `DATA_DIR/chain/`), creating it (genesis
    /// with the prefunded dev accounts) if the directory holds none. Takes the directory's
    /// writer lock: a second writer gets [`ChainError::Locked`]. Replays every block and fails
    /// if the stored receipts differ ([`ChainError::Tampered`]).
    pub fn embedded(dir: &Path) -> Result<Self, ChainError> {
        Ok(Chain::Embedded(EmbeddedChain::open(dir)?))
    }

    /// Opens the embedded chain in `dir` for reading only: no lock, no writes, and each read
    /// first catches up with blocks the writer appended since.
    pub fn embedded_read_only(dir: &Path) -> Result<Self, ChainError> {
        Ok(Chain::Embedded(EmbeddedChain::open_read_only(dir)?))
    }

    /// Connects to a JSON-RPC endpoint (`http://` or `https://`) and reads its chain id.
    pub async fn rpc(url: &str) -> Result<Self, ChainError> {
        Ok(Chain::Rpc(RpcChain::connect(url).await?))
    }

    /// The chain id (EIP-155).
    pub async fn chain_id(&self) -> Result<u64, ChainError> {
        match self {
            Chain::Embedded(chain) => Ok(chain.chain_id()),
            Chain::Rpc(chain) => Ok(chain.chain_id()),
        }
    }

    /// The latest block's number.
    pub async fn block_number(&self) -> Result<u64, ChainError> {
        match self {
            Chain::Embedded(chain) => chain.block_number(),
            Chain::Rpc(chain) => chain.block_number().await,
        }
    }

    /// The latest block's timestamp (Unix seconds).
    pub async fn time(&self) -> Result<u64, ChainError> {
        match self {
            Chain::Embedded(chain) => chain.time(),
            Chain::Rpc(chain) => chain.time().await,
        }
    }

    /// An account's balance in wei.
    pub async fn balance(&self, address: [u8; 20]) -> Result<u128, ChainError> {
        match self {
            Chain::Embedded(chain) => chain.balance(address),
            Chain::Rpc(chain) => chain.balance(address).await,
        }
    }

    /// An account's next nonce (the count of its mined transactions).
    pub async fn nonce(&self, address: [u8; 20]) -> Result<u64, ChainError> {
        match self {
            Chain::Embedded(chain) => chain.nonce(address),
            Chain::Rpc(chain) => chain.nonce(address).await,
        }
    }

    /// The receipt of a mined transaction, or `None` if the chain does not know it.
    pub async fn receipt(&self, hash: [u8; 32]) -> Result<Option<TxReceipt>, ChainError> {
        match self {
            Chain::Embedded(chain) => chain.receipt(hash),
            Chain::Rpc(chain) => chain.receipt(B256::from(hash)).await,
        }
    }

    /// The code deployed at `address` (empty for an account without code).
    pub async fn code(&self, address: [u8; 20]) -> Result<Vec<u8>, ChainError> {
        match self {
            Chain::Embedded(chain) => chain.code(address),
            Chain::Rpc(chain) => chain.code(address).await,
        }
    }

    /// Moves the chain's clock forward by `seconds` and mines an empty block, as Hardhat's
    /// `evm_increaseTime` followed by `evm_mine`; returns the new block's timestamp. On the
    /// embedded chain this is persisted; on a JSON-RPC node it calls those two methods (which
    /// only development nodes such as Hardhat's accept).
    pub async fn advance_time(&self, seconds: u64) -> Result<u64, ChainError> {
        match self {
            Chain::Embedded(chain) => chain.advance_time(seconds),
            Chain::Rpc(chain) => chain.advance_time(seconds).await,
        }
    }

    /// Whether this is the embedded chain.
    pub fn is_embedded(&self) -> bool {
        matches!(self, Chain::Embedded(_))
    }

    /// Signs and sends a transaction calling `to` (or creating a contract when `None`) with
    /// `input`, after a gas estimate that returns [`ChainError::Reverted`] naming `function`
    /// if the call would revert; waits for the receipt.
    pub(crate) async fn send(
        &self,
        signer: &Signer,
        to: Option<Address>,
        input: Bytes,
        function: &'static str,
    ) -> Result<TxReceipt, ChainError> {
        match self {
            Chain::Embedded(chain) => chain.send(signer, to, input, function),
            Chain::Rpc(chain) => chain.send(signer, to, input, function).await,
        }
    }

    /// A read-only call at `block` (the latest when `None`).
    pub(crate) async fn call(
        &self,
        to: Address,
        input: Bytes,
        block: Option<u64>,
    ) -> Result<Bytes, CallError> {
        match self {
            Chain::Embedded(chain) => chain.call(to, input, block),
            Chain::Rpc(chain) => chain.call(to, input, block).await,
        }
    }

    /// The gas a call would use (`eth_estimateGas` on JSON-RPC, a dry run on the embedded
    /// chain).
    pub(crate) async fn estimate_gas(
        &self,
        from: Option<Address>,
        to: Option<Address>,
        input: Bytes,
    ) -> Result<u64, CallError> {
        match self {
            Chain::Embedded(chain) => chain.estimate_gas(from, to, input),
            Chain::Rpc(chain) => chain.estimate_gas(from, to, input).await,
        }
    }

    /// The logs of `address` whose first indexed topic (after the event signature) is
    /// `topic1`, from block `from_block` to `to_block` inclusive, in chain order.
    pub(crate) async fn logs(
        &self,
        address: Address,
        topic1: B256,
        from_block: u64,
        to_block: u64,
    ) -> Result<Vec<LogEntry>, ChainError> {
        match self {
            Chain::Embedded(chain) => chain.logs(address, topic1, from_block, to_block),
            Chain::Rpc(chain) => chain.logs(address, topic1, from_block, to_block).await,
        }
    }
}
