//! The JSON-RPC chain: any Ethereum node (an L1 or an L2) over HTTP(S), through alloy's
//! provider (reqwest with rustls).

use std::future::{Future, IntoFuture};
use std::time::Duration;

use alloy_eips::BlockNumberOrTag;
use alloy_primitives::{Address, Bytes, TxKind, B256, U256};
use alloy_provider::{Provider, RootProvider};
use alloy_rpc_types_eth::{Filter, TransactionInput, TransactionRequest};
use alloy_transport::{RpcError, TransportError};

use super::{gas_limit_for, sign_eip1559, CallError, LogEntry, TxReceipt};
use crate::{ChainError, Signer};

/// How long one JSON-RPC request may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a send waits for its receipt, by default.
const RECEIPT_TIMEOUT: Duration = Duration::from_secs(180);
/// The most `eth_getLogs` requests one read may split into.
const MAX_LOG_REQUESTS: u32 = 4_096;
/// How often a send polls for its receipt.
const RECEIPT_POLL: Duration = Duration::from_millis(250);

/// A JSON-RPC endpoint. Cheap to clone.
#[derive(Clone)]
pub struct RpcChain {
    provider: RootProvider,
    /// The URL as given: it may hold credentials, so it only serves to scrub messages.
    url: String,
    /// The URL without credentials, path or query, for messages.
    endpoint: String,
    chain_id: u64,
    receipt_timeout: Duration,
}

impl std::fmt::Debug for RpcChain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RpcChain")
            .field("endpoint", &self.endpoint)
            .field("chain_id", &self.chain_id)
            .finish_non_exhaustive()
    }
}

/// Node messages that name a condition that passes (retry with a fresh nonce or fee).
const TRANSIENT_MESSAGES: &[&str] = &[
    "nonce too low",
    "nonce too high",
    "already known",
    "known transaction",
    "replacement transaction underpriced",
    "transaction underpriced",
    "max fee per gas less than block base fee",
    "rate limit",
    "too many requests",
    "timeout",
    "temporarily unavailable",
];

/// Converts an alloy transport error; node error responses become [`ChainError::Rpc`],
/// everything else (connection, HTTP status, malformed answers) [`ChainError::Transport`].
fn rpc_error(method: &'static str, error: TransportError) -> ChainError {
    match error {
        RpcError::ErrorResp(payload) => {
            let message = payload.message.to_string();
            let lower = message.to_lowercase();
            let transient =
                payload.is_retry_err() || TRANSIENT_MESSAGES.iter().any(|m| lower.contains(m));
            if lower.contains("insufficient funds") {
                return ChainError::Rpc {
                    method,
                    message,
                    transient: false,
                };
            }
            ChainError::Rpc {
                method,
                message,
                transient,
            }
        }
        other => ChainError::Transport {
            method,
            message: other.to_string(),
        },
    }
}

/// A call's error: a revert (the node's error carries revert data) or a chain error.
fn call_error(method: &'static str, error: TransportError) -> CallError {
    if let RpcError::ErrorResp(payload) = &error {
        if let Some(data) = payload.as_revert_data() {
            return CallError::Reverted(data);
        }
        // Some nodes say "execution reverted" without data (a bare `revert()`).
        if payload.message.to_lowercase().contains("revert") {
            return CallError::RevertedWithoutData(payload.message.to_string());
        }
    }
    CallError::Chain(rpc_error(method, error))
}

/// Replaces the URL (which may hold an API key) by its redacted form in a message.
fn scrub_message(message: String, url: &str, endpoint: &str) -> String {
    let trimmed = url.trim_end_matches('/');
    if trimmed.is_empty() {
        return message;
    }
    message.replace(trimmed, endpoint)
}

fn scrub_error(error: ChainError, url: &str, endpoint: &str) -> ChainError {
    match error {
        ChainError::Transport { method, message } => ChainError::Transport {
            method,
            message: scrub_message(message, url, endpoint),
        },
        ChainError::Rpc {
            method,
            message,
            transient,
        } => ChainError::Rpc {
            method,
            message: scrub_message(message, url, endpoint),
            transient,
        },
        other => other,
    }
}

/// `scheme://host:port` of a URL, without user info, path or query (which may hold API keys).
fn redact(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = authority.rsplit('@').next().unwrap_or_default();
    format!("{scheme}://{host}")
}

fn request(from: Option<Address>, to: Option<Address>, input: Bytes) -> TransactionRequest {
    TransactionRequest {
        from,
        to: Some(to.map_or(TxKind::Create, TxKind::Call)),
        input: TransactionInput::new(input),
        ..TransactionRequest::default()
    }
}

impl RpcChain {
    /// Runs one request under [`REQUEST_TIMEOUT`].
    async fn timed<T>(
        &self,
        method: &'static str,
        request: impl Future<Output = Result<T, TransportError>>,
    ) -> Result<T, ChainError> {
        match tokio::time::timeout(REQUEST_TIMEOUT, request).await {
            Ok(result) => {
                result.map_err(|e| scrub_error(rpc_error(method, e), &self.url, &self.endpoint))
            }
            Err(_) => Err(ChainError::Timeout {
                what: method.to_owned(),
                seconds: REQUEST_TIMEOUT.as_secs(),
            }),
        }
    }

    /// [`timed`](Self::timed) for calls, whose reverts are kept apart.
    async fn timed_call<T>(
        &self,
        method: &'static str,
        request: impl Future<Output = Result<T, TransportError>>,
    ) -> Result<T, CallError> {
        match tokio::time::timeout(REQUEST_TIMEOUT, request).await {
            Ok(result) => result.map_err(|e| match call_error(method, e) {
                CallError::Chain(error) => {
                    CallError::Chain(scrub_error(error, &self.url, &self.endpoint))
                }
                other => other,
            }),
            Err(_) => Err(CallError::Chain(ChainError::Timeout {
                what: method.to_owned(),
                seconds: REQUEST_TIMEOUT.as_secs(),
            })),
        }
    }

    /// Connects to `url` (`http://` or `https://`) and reads the chain id.
    pub async fn connect(url: &str) -> Result<Self, ChainError> {
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(ChainError::InvalidInput {
                reason: format!(
                    "RPC URL {} must start with http:// or https://",
                    redact(url)
                ),
            });
        }
        let endpoint = redact(url);
        let provider = RootProvider::connect(url)
            .await
            .map_err(|e| ChainError::InvalidInput {
                reason: scrub_message(format!("RPC URL {endpoint}: {e}"), url, &endpoint),
            })?;
        let mut chain = Self {
            provider,
            url: url.to_owned(),
            endpoint,
            chain_id: 0,
            receipt_timeout: RECEIPT_TIMEOUT,
        };
        chain.chain_id = chain
            .timed("eth_chainId", chain.provider.get_chain_id().into_future())
            .await?;
        Ok(chain)
    }

    /// How long sends wait for their receipt (180 s unless changed).
    pub fn with_receipt_timeout(mut self, timeout: Duration) -> Self {
        self.receipt_timeout = timeout;
        self
    }

    /// The endpoint, without credentials, path or query.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// The chain id read at connection.
    pub fn chain_id(&self) -> u64 {
        self.chain_id
    }

    pub(crate) async fn block_number(&self) -> Result<u64, ChainError> {
        self.timed(
            "eth_blockNumber",
            self.provider.get_block_number().into_future(),
        )
        .await
    }

    async fn block_timestamp(&self, number: BlockNumberOrTag) -> Result<u64, ChainError> {
        let block = self
            .timed(
                "eth_getBlockByNumber",
                self.provider.get_block_by_number(number).into_future(),
            )
            .await?;
        block
            .map(|b| b.header.timestamp)
            .ok_or_else(|| ChainError::Rpc {
                method: "eth_getBlockByNumber",
                message: format!("block {number} not found"),
                transient: true,
            })
    }

    pub(crate) async fn time(&self) -> Result<u64, ChainError> {
        self.block_timestamp(BlockNumberOrTag::Latest).await
    }

    pub(crate) async fn balance(&self, address: [u8; 20]) -> Result<u128, ChainError> {
        let balance: U256 = self
            .timed(
                "eth_getBalance",
                self.provider
                    .get_balance(Address::from(address))
                    .into_future(),
            )
            .await?;
        Ok(balance.saturating_to())
    }

    pub(crate) async fn nonce(&self, address: [u8; 20]) -> Result<u64, ChainError> {
        self.timed(
            "eth_getTransactionCount",
            self.provider
                .get_transaction_count(Address::from(address))
                .into_future(),
        )
        .await
    }

    pub(crate) async fn code(&self, address: [u8; 20]) -> Result<Vec<u8>, ChainError> {
        let code = self
            .timed(
                "eth_getCode",
                self.provider
                    .get_code_at(Address::from(address))
                    .into_future(),
            )
            .await?;
        Ok(code.to_vec())
    }

    pub(crate) async fn receipt(&self, hash: B256) -> Result<Option<TxReceipt>, ChainError> {
        let receipt = self
            .timed(
                "eth_getTransactionReceipt",
                self.provider.get_transaction_receipt(hash).into_future(),
            )
            .await?;
        let Some(receipt) = receipt else {
            return Ok(None);
        };
        let Some(block_number) = receipt.block_number else {
            return Ok(None); // pending
        };
        let block_timestamp = self
            .block_timestamp(BlockNumberOrTag::Number(block_number))
            .await?;
        Ok(Some(TxReceipt {
            hash: receipt.transaction_hash.0,
            block_number,
            block_timestamp,
            gas_used: receipt.gas_used,
            success: receipt.status(),
            from: receipt.from.into_array(),
            contract_address: receipt.contract_address.map(Address::into_array),
            effective_gas_price: receipt.effective_gas_price,
        }))
    }

    pub(crate) async fn advance_time(&self, seconds: u64) -> Result<u64, ChainError> {
        let _: serde_json::Value = self
            .timed(
                "evm_increaseTime",
                self.provider
                    .raw_request("evm_increaseTime".into(), (seconds,)),
            )
            .await?;
        let _: serde_json::Value = self
            .timed(
                "evm_mine",
                self.provider
                    .raw_request("evm_mine".into(), Vec::<u64>::new()),
            )
            .await?;
        self.time().await
    }

    pub(crate) async fn call(
        &self,
        to: Address,
        input: Bytes,
        block: Option<u64>,
    ) -> Result<Bytes, CallError> {
        let call = self.provider.call(request(None, Some(to), input));
        let call = match block {
            Some(number) => call.block(number.into()),
            None => call,
        };
        self.timed_call("eth_call", call.into_future()).await
    }

    pub(crate) async fn estimate_gas(
        &self,
        from: Option<Address>,
        to: Option<Address>,
        input: Bytes,
    ) -> Result<u64, CallError> {
        self.timed_call(
            "eth_estimateGas",
            self.provider
                .estimate_gas(request(from, to, input))
                .into_future(),
        )
        .await
    }

    pub(crate) async fn send(
        &self,
        signer: &Signer,
        to: Option<Address>,
        input: Bytes,
        function: &'static str,
    ) -> Result<TxReceipt, ChainError> {
        let from = signer.alloy_address();
        let estimate = self
            .estimate_gas(Some(from), to, input.clone())
            .await
            .map_err(|e| e.into_chain_error(function))?;
        let nonce = self
            .timed(
                "eth_getTransactionCount",
                self.provider
                    .get_transaction_count(from)
                    .pending()
                    .into_future(),
            )
            .await?;
        let fees = self
            .timed("eth_feeHistory", self.provider.estimate_eip1559_fees())
            .await?;
        let latest_gas_limit = self
            .timed(
                "eth_getBlockByNumber",
                self.provider
                    .get_block_by_number(BlockNumberOrTag::Latest)
                    .into_future(),
            )
            .await?
            .map_or(u64::MAX, |b| b.header.gas_limit);
        let raw = sign_eip1559(
            signer,
            self.chain_id,
            nonce,
            to,
            input.clone(),
            gas_limit_for(estimate, latest_gas_limit),
            fees.max_fee_per_gas,
            fees.max_priority_fee_per_gas,
        )?;
        let pending = self
            .timed(
                "eth_sendRawTransaction",
                self.provider.send_raw_transaction(&raw),
            )
            .await?;
        let hash = *pending.tx_hash();
        let receipt = self.wait_for_receipt(hash).await?;
        if !receipt.success {
            // Recover the reason by replaying the call on the parent block's state.
            let reason = match self
                .call_from(from, to, input, receipt.block_number.saturating_sub(1))
                .await
            {
                Err(CallError::Reverted(data)) => crate::describe_revert(&data),
                _ => "reverted on chain (the reason could not be recovered)".to_owned(),
            };
            return Err(ChainError::MinedReverted {
                function,
                transaction: receipt.hash_hex(),
                reason,
            });
        }
        Ok(receipt)
    }

    async fn call_from(
        &self,
        from: Address,
        to: Option<Address>,
        input: Bytes,
        block: u64,
    ) -> Result<Bytes, CallError> {
        let call = self
            .provider
            .call(request(Some(from), to, input))
            .block(block.into());
        self.timed_call("eth_call", call.into_future()).await
    }

    async fn wait_for_receipt(&self, hash: B256) -> Result<TxReceipt, ChainError> {
        let deadline = tokio::time::Instant::now() + self.receipt_timeout;
        loop {
            match self.receipt(hash).await {
                Ok(Some(receipt)) => return Ok(receipt),
                Ok(None) => {}
                Err(e) if e.is_transient() => {}
                Err(e) => return Err(e),
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(ChainError::Timeout {
                    what: format!("the receipt of transaction 0x{}", hex::encode(hash)),
                    seconds: self.receipt_timeout.as_secs(),
                });
            }
            tokio::time::sleep(RECEIPT_POLL).await;
        }
    }

    pub(crate) async fn logs(
        &self,
        address: Address,
        topic1: B256,
        from_block: u64,
        to_block: u64,
    ) -> Result<Vec<LogEntry>, ChainError> {
        // Endpoints limit the block range or the result count of one `eth_getLogs`: when the
        // node refuses a range, halve it (left half first, so the logs stay in order).
        let mut logs = Vec::new();
        let mut ranges = vec![(from_block, to_block)];
        let mut requests = 0u32;
        while let Some((from, to)) = ranges.pop() {
            if from > to {
                continue;
            }
            let filter = Filter::new()
                .address(address)
                .topic1(topic1)
                .from_block(from)
                .to_block(to);
            requests += 1;
            match self
                .timed("eth_getLogs", self.provider.get_logs(&filter))
                .await
            {
                Ok(found) => logs.extend(found),
                Err(ChainError::Rpc { .. }) if from < to && requests < MAX_LOG_REQUESTS => {
                    let mid = from + (to - from) / 2;
                    ranges.push((mid + 1, to));
                    ranges.push((from, mid));
                }
                Err(error) => return Err(error),
            }
        }
        let mut entries = Vec::with_capacity(logs.len());
        for log in logs {
            if log.removed {
                continue;
            }
            let missing = |field: &str| ChainError::Rpc {
                method: "eth_getLogs",
                message: format!("a log without its {field}"),
                transient: false,
            };
            entries.push(LogEntry {
                block_number: log.block_number.ok_or_else(|| missing("block number"))?,
                transaction: log
                    .transaction_hash
                    .ok_or_else(|| missing("transaction hash"))?,
                log_index: log.log_index.ok_or_else(|| missing("log index"))?,
                address: log.inner.address,
                topics: log.inner.data.topics().to_vec(),
                data: log.inner.data.data.clone(),
            });
        }
        entries.sort_by_key(|e| (e.block_number, e.log_index));
        Ok(entries)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_lose_the_url() {
        let url = "https://eth.example.org/v3/SECRETKEY";
        let message = format!("error sending request for url ({url}/)");
        let scrubbed = scrub_message(message, url, &redact(url));
        assert!(!scrubbed.contains("SECRETKEY"), "{scrubbed}");
        assert!(scrubbed.contains("https://eth.example.org"));
    }

    #[test]
    fn redact_urls_keeps_only_scheme_and_host() {
        assert_eq!(
            redact("https://user:secret@eth.example.org:8545/v3/APIKEY?x=1"),
            "https://eth.example.org:8545"
        );
        assert_eq!(redact("http://127.0.0.1:8545"), "http://127.0.0.1:8545");
    }
}
