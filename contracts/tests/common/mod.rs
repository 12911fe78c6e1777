//! Shared set-up of the contract tests: an embedded chain in a temporary directory, the
//! registry deployed by dev account 0, and an election registered on it.
#![allow(dead_code)]

use tabella_contracts::{Chain, ChainError, ElectionRegistration, Registry, Signer, TxReceipt};

/// Voting opens this long after the registration's block time.
pub const OPENS_IN: u64 = 100;
/// Voting lasts this long.
pub const VOTING: u64 = 1_000;
/// The challenge window.
pub const CHALLENGE: u64 = 600;

pub struct Fixture {
    pub dir: tempfile::TempDir,
    pub chain: Chain,
    pub registry: Registry,
    pub deploy: TxReceipt,
    pub operator: Signer,
    pub reg: ElectionRegistration,
}

pub fn election_id(tag: u8) -> [u8; 32] {
    let mut id = [0u8; 32];
    id[0] = 0xe1;
    id[31] = tag;
    id
}

pub fn bytes32(tag: u8) -> [u8; 32] {
    [tag; 32]
}

pub fn registration(id: [u8; 32], now: u64) -> ElectionRegistration {
    ElectionRegistration {
        election_id: id,
        manifest_hash: bytes32(0x11),
        credentials_digest: bytes32(0x22),
        trustee_keys_digest: bytes32(0x33),
        joint_key: bytes32(0x44),
        board_key: bytes32(0x55),
        opens_at: now + OPENS_IN,
        closes_at: now + OPENS_IN + VOTING,
        challenge_period: CHALLENGE,
    }
}

/// A chain with the registry deployed, and a registration ready (not yet sent).
pub async fn deployed() -> Fixture {
    let dir = tempfile::tempdir().expect("temporary directory");
    let chain = Chain::embedded(dir.path()).expect("embedded chain");
    let operator = Signer::dev(0);
    let (registry, deploy) = Registry::deploy(&chain, &operator).await.expect("deploy");
    let now = chain.time().await.expect("time");
    let reg = registration(election_id(1), now);
    Fixture {
        dir,
        chain,
        registry,
        deploy,
        operator,
        reg,
    }
}

/// [`deployed`] with the election created.
pub async fn created() -> Fixture {
    let f = deployed().await;
    f.registry
        .create_election(&f.operator, &f.reg)
        .await
        .expect("create election");
    f
}

impl Fixture {
    pub fn embedded(&self) -> &tabella_contracts::EmbeddedChain {
        match &self.chain {
            Chain::Embedded(chain) => chain,
            Chain::Rpc(_) => unreachable!("the fixture is embedded"),
        }
    }

    /// Mines the next block at exactly `timestamp`, by pinning it (the next transaction's
    /// block gets it).
    pub fn next_block_at(&self, timestamp: u64) {
        self.embedded()
            .set_next_block_timestamp(timestamp)
            .expect("set next block timestamp");
    }

    /// Moves into the voting window.
    pub fn open_voting(&self) {
        self.next_block_at(self.reg.opens_at);
    }

    pub fn id(&self) -> [u8; 32] {
        self.reg.election_id
    }
}

/// Asserts `result` is a revert of `function` whose reason is exactly `reason`.
#[track_caller]
pub fn assert_reverted<T: std::fmt::Debug>(
    result: Result<T, ChainError>,
    function: &str,
    reason: &str,
) {
    match result {
        Err(ChainError::Reverted {
            function: f,
            reason: r,
        }) => {
            assert_eq!(f, function, "reverted in another function");
            assert_eq!(r, reason, "another revert reason");
        }
        other => panic!("expected {function} to revert with {reason}, got {other:?}"),
    }
}

pub fn hex20(bytes: &[u8; 20]) -> String {
    format!("0x{}", hex::encode(bytes))
}

pub fn hex32(bytes: &[u8; 32]) -> String {
    format!("0x{}", hex::encode(bytes))
}
