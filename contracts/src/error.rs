//! [`ChainError`]: everything that can go wrong talking to a chain, and the decoding of the
//! registry's custom errors into words.

use std::path::PathBuf;

use alloy_sol_types::{Panic, Revert, SolError, SolInterface};

use crate::bindings::TabellaRegistry::{self, TabellaRegistryErrors};

/// Why a chain operation failed. Each variant names the violation;
/// [`is_transient`](ChainError::is_transient) says whether retrying may help.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ChainError {
    /// A private key is malformed. The message says how, never what the key was.
    #[error("invalid private key: {reason}")]
    InvalidKey {
        /// What is wrong with it (length, characters, out of range).
        reason: &'static str,
    },
    /// A private key file could not be read.
    #[error("cannot read the key file {path}: {source}")]
    KeyFile {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// There is no dev account with this index.
    #[error("dev account {index} does not exist (there are {count})")]
    NoSuchDevAccount {
        /// The index asked for.
        index: usize,
        /// How many dev accounts there are.
        count: usize,
    },
    /// Reading or writing the embedded chain's directory failed.
    #[error("embedded chain storage {path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// Another process (or another handle in this one) already holds the embedded chain's
    /// writer lock.
    #[error(
        "the embedded chain in {dir} is in use by another process (lock file {dir}/LOCK); \
         stop it, or open the chain read-only"
    )]
    Locked {
        /// The chain's directory.
        dir: PathBuf,
    },
    /// The embedded chain was opened read-only and cannot send transactions.
    #[error("the embedded chain was opened read-only and cannot send transactions")]
    ReadOnly,
    /// The embedded chain's files are not in the expected format (bad JSON, a torn line in the
    /// middle, a missing genesis, an unknown format version).
    #[error("the embedded chain in {dir} is corrupt: {detail}")]
    Corrupt {
        /// The chain's directory.
        dir: PathBuf,
        /// What is wrong, with the line number.
        detail: String,
    },
    /// Replaying the embedded chain's blocks gave another result than the one stored: the
    /// blocks were altered after they were written.
    #[error("the embedded chain in {dir} was tampered with: block {block}: {detail}")]
    Tampered {
        /// The chain's directory.
        dir: PathBuf,
        /// The first block whose replay disagrees.
        block: u64,
        /// What disagrees.
        detail: String,
    },
    /// The embedded chain's state is unusable after a panic in another thread.
    #[error("the embedded chain's state was poisoned by a panic; reopen it")]
    Poisoned,
    /// The JSON-RPC endpoint could not be reached or answered with a transport error.
    #[error("JSON-RPC {method}: {message}")]
    Transport {
        /// The JSON-RPC method.
        method: &'static str,
        /// The transport error.
        message: String,
    },
    /// The JSON-RPC endpoint answered with an error.
    #[error("JSON-RPC {method} failed: {message}")]
    Rpc {
        /// The JSON-RPC method.
        method: &'static str,
        /// The node's error message.
        message: String,
        /// Whether the node's message names a condition that goes away by itself (an underpriced
        /// replacement, a transaction already known, a rate limit).
        transient: bool,
    },
    /// A request or the wait for a receipt took too long. After a send, the transaction (named
    /// in `what`) may still be mined: look it up with [`Chain::receipt`](crate::Chain::receipt)
    /// or re-read the registry before sending the same thing again.
    #[error("timed out after {seconds} s waiting for {what}")]
    Timeout {
        /// What was awaited (a method, or the receipt of a transaction).
        what: String,
        /// How long.
        seconds: u64,
    },
    /// The contract refused the call: it reverted, during gas estimation or a view call,
    /// before anything was sent.
    #[error("{function} reverted: {reason}")]
    Reverted {
        /// The contract function (`"checkpoint"`, `"castFallback"`, ...; `"deploy"` for the
        /// constructor).
        function: &'static str,
        /// The decoded custom error in words, e.g. `CheckpointNotGrowing(lastSize: 5, size: 5)`.
        reason: String,
    },
    /// The transaction was mined but failed (the state changed between the estimate and the
    /// inclusion). Its gas is spent.
    #[error("{function} transaction {transaction} was mined but reverted: {reason}")]
    MinedReverted {
        /// The contract function.
        function: &'static str,
        /// The transaction hash, `0x` and 64 lowercase hex digits.
        transaction: String,
        /// The decoded reason, when it could be recovered.
        reason: String,
    },
    /// The transaction's nonce is not the sender's next one: another transaction from the same
    /// account got there first.
    #[error("nonce {found} is not the account's next nonce {expected}")]
    Nonce {
        /// The account's next nonce.
        expected: u64,
        /// The transaction's nonce.
        found: u64,
    },
    /// The sender cannot pay for the transaction.
    #[error("account {account} cannot pay for the transaction: balance {balance} wei, needs {needed} wei")]
    InsufficientFunds {
        /// The sender, `0x` and 40 lowercase hex digits.
        account: String,
        /// Its balance in wei (decimal).
        balance: String,
        /// Gas limit × max fee + value, in wei (decimal).
        needed: String,
    },
    /// A transaction was signed for another chain.
    #[error("transaction is for chain {found}, this chain is {expected}")]
    WrongChainId {
        /// This chain's id.
        expected: u64,
        /// The transaction's chain id.
        found: u64,
    },
    /// The chain refused a transaction for another reason (malformed encoding, unsupported
    /// type, bad signature, fee below the base fee, gas limit out of bounds).
    #[error("transaction rejected: {reason}")]
    Rejected {
        /// Why.
        reason: String,
    },
    /// A contract's return data or event did not decode.
    #[error("cannot decode {what}: {detail}")]
    Decode {
        /// What was decoded.
        what: &'static str,
        /// The decoder's message.
        detail: String,
    },
    /// A view call returned nothing: there is no registry contract at the address.
    #[error("no registry contract at {address}")]
    NoRegistry {
        /// The address, `0x` and 40 lowercase hex digits.
        address: String,
    },
    /// The events the chain returned disagree with the contract's view functions (or with each
    /// other): the node is lying or broken.
    #[error("the chain's events disagree with the registry's state: {detail}")]
    EvidenceMismatch {
        /// What disagrees.
        detail: String,
    },
    /// An argument is out of range (an RPC URL that does not parse, a ballot too large to
    /// encode).
    #[error("invalid input: {reason}")]
    InvalidInput {
        /// What is wrong.
        reason: String,
    },
    /// The EVM failed internally (not a revert: a bug or a database error).
    #[error("EVM error: {detail}")]
    Evm {
        /// The error.
        detail: String,
    },
}

impl ChainError {
    /// Whether retrying the same operation later may succeed: network errors, timeouts and
    /// nonce races are transient; reverts, bad input, missing funds and a corrupt or locked
    /// chain are not.
    pub fn is_transient(&self) -> bool {
        match self {
            ChainError::Transport { .. }
            | ChainError::Timeout { .. }
            | ChainError::Nonce { .. } => true,
            ChainError::Rpc { transient, .. } => *transient,
            _ => false,
        }
    }
}

/// Describes revert data in words: the registry's custom errors with their named fields
/// (`CheckpointNotGrowing(lastSize: 5, size: 5)`), Solidity's `Error(string)` and
/// `Panic(uint256)`, or the raw hex of anything else (`"empty revert data"` when empty).
pub fn describe_revert(data: &[u8]) -> String {
    if data.is_empty() {
        return "empty revert data".to_owned();
    }
    if let Ok(error) = TabellaRegistryErrors::abi_decode(data) {
        return describe_registry_error(&error);
    }
    if let Ok(revert) = Revert::abi_decode(data) {
        return format!("Error({:?})", revert.reason);
    }
    if let Ok(panic) = Panic::abi_decode(data) {
        return match panic.kind() {
            Some(kind) => format!("Panic({:#x}: {kind})", panic.code),
            None => format!("Panic({:#x})", panic.code),
        };
    }
    format!("unknown revert data 0x{}", hex::encode(data))
}

fn h32(value: &alloy_primitives::FixedBytes<32>) -> String {
    format!("0x{}", hex::encode(value))
}

fn addr(value: &alloy_primitives::Address) -> String {
    format!("0x{}", hex::encode(value))
}

fn describe_registry_error(error: &TabellaRegistryErrors) -> String {
    use TabellaRegistryErrors as E;
    let fields = match error {
        E::WrongChain(e) => format!("expected: {}, actual: {}", e.expected, e.actual),
        E::ElectionExists(e) => format!("electionId: {}", h32(&e.electionId)),
        E::UnknownElection(e) => format!("electionId: {}", h32(&e.electionId)),
        E::BadSchedule(e) => format!(
            "opensAt: {}, closesAt: {}, challengePeriod: {}",
            e.opensAt, e.closesAt, e.challengePeriod
        ),
        E::NotOperator(e) => format!(
            "caller: {}, operator: {}",
            addr(&e.caller),
            addr(&e.operator)
        ),
        E::CheckpointNotGrowing(e) => format!("lastSize: {}, size: {}", e.lastSize, e.size),
        E::BadSignature(e) => format!("length: {}", e.length),
        E::ResultAlreadyPublished(e) => format!("electionId: {}", h32(&e.electionId)),
        E::OutsideVotingWindow(e) => {
            format!(
                "time: {}, opensAt: {}, closesAt: {}",
                e.time, e.opensAt, e.closesAt
            )
        }
        E::BadBallotLength(e) => format!("length: {}", e.length),
        E::VotingNotClosed(e) => format!("time: {}, closesAt: {}", e.time, e.closesAt),
        E::FinalHeadNotCheckpointed(e) => {
            format!(
                "finalSize: {}, finalRoot: {}",
                e.finalSize,
                h32(&e.finalRoot)
            )
        }
        E::NoResult(e) => format!("electionId: {}", h32(&e.electionId)),
        E::ChallengeWindowClosed(e) => {
            format!("time: {}, challengeEndsAt: {}", e.time, e.challengeEndsAt)
        }
        E::EmptyEvidence(_) => String::new(),
    };
    format!("{}({fields})", error_name(error))
}

/// The Solidity name of a registry error (`"CheckpointNotGrowing"`).
pub(crate) fn error_name(error: &TabellaRegistryErrors) -> &'static str {
    use TabellaRegistryErrors as E;
    match error {
        E::WrongChain(_) => TabellaRegistry::WrongChain::SIGNATURE,
        E::ElectionExists(_) => TabellaRegistry::ElectionExists::SIGNATURE,
        E::UnknownElection(_) => TabellaRegistry::UnknownElection::SIGNATURE,
        E::BadSchedule(_) => TabellaRegistry::BadSchedule::SIGNATURE,
        E::NotOperator(_) => TabellaRegistry::NotOperator::SIGNATURE,
        E::CheckpointNotGrowing(_) => TabellaRegistry::CheckpointNotGrowing::SIGNATURE,
        E::BadSignature(_) => TabellaRegistry::BadSignature::SIGNATURE,
        E::ResultAlreadyPublished(_) => TabellaRegistry::ResultAlreadyPublished::SIGNATURE,
        E::OutsideVotingWindow(_) => TabellaRegistry::OutsideVotingWindow::SIGNATURE,
        E::BadBallotLength(_) => TabellaRegistry::BadBallotLength::SIGNATURE,
        E::VotingNotClosed(_) => TabellaRegistry::VotingNotClosed::SIGNATURE,
        E::FinalHeadNotCheckpointed(_) => TabellaRegistry::FinalHeadNotCheckpointed::SIGNATURE,
        E::NoResult(_) => TabellaRegistry::NoResult::SIGNATURE,
        E::ChallengeWindowClosed(_) => TabellaRegistry::ChallengeWindowClosed::SIGNATURE,
        E::EmptyEvidence(_) => TabellaRegistry::EmptyEvidence::SIGNATURE,
    }
    .split('(')
    .next()
    .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::U256;

    #[test]
    fn describe_every_kind_of_revert() {
        let not_growing = TabellaRegistry::CheckpointNotGrowing {
            lastSize: 5,
            size: 5,
        }
        .abi_encode();
        assert_eq!(
            describe_revert(&not_growing),
            "CheckpointNotGrowing(lastSize: 5, size: 5)"
        );
        assert_eq!(
            describe_revert(&TabellaRegistry::EmptyEvidence {}.abi_encode()),
            "EmptyEvidence()"
        );
        let not_operator = TabellaRegistry::NotOperator {
            caller: [0xaa; 20].into(),
            operator: [0xbb; 20].into(),
        }
        .abi_encode();
        assert_eq!(
            describe_revert(&not_operator),
            format!(
                "NotOperator(caller: 0x{}, operator: 0x{})",
                "aa".repeat(20),
                "bb".repeat(20)
            )
        );
        assert_eq!(
            describe_revert(&Revert::from("no").abi_encode()),
            "Error(\"no\")"
        );
        let overflow = Panic {
            code: U256::from(0x11),
        }
        .abi_encode();
        assert!(describe_revert(&overflow).starts_with("Panic(0x11"));
        assert_eq!(describe_revert(&[]), "empty revert data");
        assert_eq!(describe_revert(&[1, 2, 3]), "unknown revert data 0x010203");
    }

    #[test]
    fn transience() {
        assert!(ChainError::Timeout {
            what: "x".into(),
            seconds: 1
        }
        .is_transient());
        assert!(ChainError::Nonce {
            expected: 1,
            found: 0
        }
        .is_transient());
        assert!(!ChainError::Reverted {
            function: "checkpoint",
            reason: String::new()
        }
        .is_transient());
        assert!(!ChainError::ReadOnly.is_transient());
        assert!(ChainError::Rpc {
            method: "eth_sendRawTransaction",
            message: "already known".into(),
            transient: true
        }
        .is_transient());
    }
}
