//! The embedded chain itself: raw transactions are checked like a node checks them (chain id,
//! nonce, fees, balance, signature), a reverting transaction is mined as failed, the state
//! survives a reopen by replay, a tampered `blocks.jsonl` is refused, a torn last line is
//! dropped, one writer at a time, and read-only handles follow the writer.

mod common;

use std::fs;
use std::path::Path;

use alloy_consensus::{SignableTransaction, TxEip1559, TxEnvelope, TxLegacy};
use alloy_eips::eip2718::Encodable2718;
use alloy_primitives::{Address, Bytes, TxKind, U256};
use alloy_signer::SignerSync;
use alloy_signer_local::PrivateKeySigner;
use alloy_sol_types::SolCall;
use common::*;
use tabella_contracts::bindings::TabellaRegistry;
use tabella_contracts::{
    Chain, ChainError, EmbeddedChain, Registry, Signer, BASE_FEE_PER_GAS, EMBEDDED_CHAIN_ID,
};

const DEV0: &str = "ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";

fn key(hex_key: &str) -> PrivateKeySigner {
    hex_key.parse().expect("key")
}

struct Tx {
    chain_id: u64,
    nonce: u64,
    gas_limit: u64,
    max_fee: u128,
    priority: u128,
    to: TxKind,
    input: Vec<u8>,
}

impl Tx {
    fn call(nonce: u64, to: [u8; 20], input: Vec<u8>) -> Tx {
        Tx {
            chain_id: EMBEDDED_CHAIN_ID,
            nonce,
            gas_limit: 200_000,
            max_fee: 3 * u128::from(BASE_FEE_PER_GAS),
            priority: u128::from(BASE_FEE_PER_GAS),
            to: TxKind::Call(Address::from(to)),
            input,
        }
    }

    fn sign(self, signer: &PrivateKeySigner) -> Vec<u8> {
        let tx = TxEip1559 {
            chain_id: self.chain_id,
            nonce: self.nonce,
            gas_limit: self.gas_limit,
            max_fee_per_gas: self.max_fee,
            max_priority_fee_per_gas: self.priority,
            to: self.to,
            value: U256::ZERO,
            access_list: Default::default(),
            input: Bytes::from(self.input),
        };
        let signature = signer.sign_hash_sync(&tx.signature_hash()).expect("sign");
        TxEnvelope::Eip1559(tx.into_signed(signature)).encoded_2718()
    }
}

fn checkpoint_input(id: [u8; 32], size: u64) -> Vec<u8> {
    TabellaRegistry::checkpointCall {
        electionId: id.into(),
        size,
        root: [1u8; 32].into(),
        timestampMs: 1,
        signature: vec![2u8; 64].into(),
    }
    .abi_encode()
}

#[tokio::test]
async fn raw_transactions_are_checked_like_a_node_checks_them() {
    let f = created().await;
    let chain = f.embedded();
    let signer = key(DEV0);
    let to = f.registry.address();
    let nonce = f.chain.nonce(f.operator.address()).await.expect("nonce");
    let head = chain.block_number().expect("head");

    let mut wrong_chain = Tx::call(nonce, to, checkpoint_input(f.id(), 1));
    wrong_chain.chain_id = 31337;
    assert!(matches!(
        chain.send_raw_transaction(&wrong_chain.sign(&signer)),
        Err(ChainError::WrongChainId {
            expected: EMBEDDED_CHAIN_ID,
            found: 31337
        })
    ));

    let replayed = Tx::call(nonce - 1, to, checkpoint_input(f.id(), 1)).sign(&signer);
    let error = chain
        .send_raw_transaction(&replayed)
        .expect_err("old nonce");
    assert!(error.is_transient(), "a nonce race is transient");
    assert!(
        matches!(error, ChainError::Nonce { expected, found } if expected == nonce && found == nonce - 1)
    );
    assert!(matches!(
        chain.send_raw_transaction(&Tx::call(nonce + 1, to, vec![]).sign(&signer)),
        Err(ChainError::Nonce { .. })
    ));

    let mut cheap = Tx::call(nonce, to, checkpoint_input(f.id(), 1));
    cheap.max_fee = u128::from(BASE_FEE_PER_GAS) - 1;
    cheap.priority = 0;
    assert!(matches!(
        chain.send_raw_transaction(&cheap.sign(&signer)),
        Err(ChainError::Rejected { reason }) if reason.contains("below the base fee")
    ));

    let mut tip_above_cap = Tx::call(nonce, to, checkpoint_input(f.id(), 1));
    tip_above_cap.priority = tip_above_cap.max_fee + 1;
    assert!(matches!(
        chain.send_raw_transaction(&tip_above_cap.sign(&signer)),
        Err(ChainError::Rejected { .. })
    ));

    let mut huge = Tx::call(nonce, to, checkpoint_input(f.id(), 1));
    huge.gas_limit = 30_000_001;
    assert!(matches!(
        chain.send_raw_transaction(&huge.sign(&signer)),
        Err(ChainError::Rejected { reason }) if reason.contains("block gas limit")
    ));

    let mut too_little_gas = Tx::call(nonce, to, checkpoint_input(f.id(), 1));
    too_little_gas.gas_limit = 20_000;
    assert!(matches!(
        chain.send_raw_transaction(&too_little_gas.sign(&signer)),
        Err(ChainError::Rejected { .. })
    ));

    let poor = key(&"22".repeat(32));
    assert!(matches!(
        chain.send_raw_transaction(&Tx::call(0, to, vec![]).sign(&poor)),
        Err(ChainError::InsufficientFunds { .. })
    ));

    for garbage in [vec![], vec![0x02], vec![0x02, 0xc0], vec![0xff; 40]] {
        assert!(matches!(
            chain.send_raw_transaction(&garbage),
            Err(ChainError::Rejected { .. })
        ));
    }
    let mut trailing = Tx::call(nonce, to, vec![]).sign(&signer);
    trailing.push(0);
    assert!(matches!(
        chain.send_raw_transaction(&trailing),
        Err(ChainError::Rejected { reason }) if reason.contains("after the transaction")
    ));

    // A legacy transaction is well-formed but not accepted.
    let legacy = TxLegacy {
        chain_id: Some(EMBEDDED_CHAIN_ID),
        nonce,
        gas_price: 2 * u128::from(BASE_FEE_PER_GAS),
        gas_limit: 100_000,
        to: TxKind::Call(Address::from(to)),
        value: U256::ZERO,
        input: Bytes::new(),
    };
    let signature = signer
        .sign_hash_sync(&legacy.signature_hash())
        .expect("sign");
    let legacy = TxEnvelope::Legacy(legacy.into_signed(signature)).encoded_2718();
    assert!(matches!(
        chain.send_raw_transaction(&legacy),
        Err(ChainError::Rejected { reason }) if reason.contains("EIP-1559")
    ));

    // A corrupted signature recovers another (unfunded, nonce 0) sender or none.
    let mut forged = Tx::call(nonce, to, checkpoint_input(f.id(), 1)).sign(&signer);
    let last = forged.len() - 1;
    forged[last] ^= 1;
    assert!(chain.send_raw_transaction(&forged).is_err());

    // Nothing above was mined.
    assert_eq!(chain.block_number().expect("head"), head);
    assert_eq!(
        f.chain.nonce(f.operator.address()).await.expect("nonce"),
        nonce
    );
}

#[tokio::test]
async fn a_reverting_transaction_is_mined_as_failed_and_changes_nothing() {
    let f = created().await;
    let chain = f.embedded();
    let intruder = key("59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d");
    let address = Signer::dev(1).address();
    let balance = f.chain.balance(address).await.expect("balance");
    let raw = Tx::call(0, f.registry.address(), checkpoint_input(f.id(), 1)).sign(&intruder);
    let receipt = chain.send_raw_transaction(&raw).expect("mined");
    assert!(!receipt.success);
    assert_eq!(receipt.from, address);
    assert_eq!(f.chain.nonce(address).await.expect("nonce"), 1);
    assert_eq!(
        f.chain.balance(address).await.expect("balance"),
        balance - u128::from(receipt.gas_used) * receipt.effective_gas_price
    );
    assert_eq!(
        f.chain.receipt(receipt.hash).await.expect("lookup"),
        Some(receipt)
    );
    let e = f
        .registry
        .election(f.id())
        .await
        .expect("view")
        .expect("known");
    assert_eq!(e.checkpoint_count, 0);
    // A failed transaction leaves no events.
    assert_eq!(f.registry.events(f.id()).await.expect("events").len(), 1);
}

/// Anchors a little of everything; returns the registry.
async fn busy_chain(f: &Fixture) {
    let r = &f.registry;
    r.checkpoint(&f.operator, f.id(), 2, bytes32(0xc2), 5, [1; 64])
        .await
        .expect("checkpoint");
    f.open_voting();
    r.cast_fallback(&Signer::dev(4), f.id(), b"ballot one")
        .await
        .expect("fallback");
    f.embedded().advance_time(10).expect("advance");
    r.cast_fallback(&Signer::dev(5), f.id(), &[9u8; 2_000])
        .await
        .expect("fallback");
    r.checkpoint(&f.operator, f.id(), 4, bytes32(0xc4), 6, [2; 64])
        .await
        .expect("checkpoint");
    f.next_block_at(f.reg.closes_at);
    r.publish_result(
        &f.operator,
        f.id(),
        bytes32(0xd1),
        bytes32(0xd2),
        4,
        bytes32(0xc4),
    )
    .await
    .expect("publish");
    r.dispute(&Signer::dev(6), f.id(), bytes32(0xef))
        .await
        .expect("dispute");
}

fn blocks_file(dir: &Path) -> std::path::PathBuf {
    dir.join("blocks.jsonl")
}

/// A snapshot of the chain's observable state.
async fn snapshot(chain: &Chain, registry: &Registry, id: [u8; 32]) -> String {
    let mut out = String::new();
    let head = chain.block_number().await.expect("head");
    out.push_str(&format!(
        "head {head} time {}\n",
        chain.time().await.expect("time")
    ));
    for i in 0..10 {
        let who = Signer::dev(i).address();
        out.push_str(&format!(
            "{i}: {} {}\n",
            chain.balance(who).await.expect("balance"),
            chain.nonce(who).await.expect("nonce")
        ));
    }
    out.push_str(&format!(
        "{:?}\n",
        registry.election(id).await.expect("election")
    ));
    out.push_str(&format!(
        "{:?}\n",
        registry.result(id).await.expect("result")
    ));
    out.push_str(&format!(
        "{:?}\n",
        registry.evidence(id).await.expect("evidence")
    ));
    out
}

#[tokio::test]
async fn reopening_replays_to_the_same_state_and_receipts() {
    let f = created().await;
    busy_chain(&f).await;
    let before = snapshot(&f.chain, &f.registry, f.id()).await;
    let events = f.registry.events(f.id()).await.expect("events");
    let receipts: Vec<_> = {
        let mut receipts = Vec::new();
        for log in &events {
            receipts.push(f.chain.receipt(log.transaction).await.expect("receipt"));
        }
        receipts
    };
    let dir = f.dir.path().to_owned();
    let address = f.registry.address();
    let Fixture {
        dir: tmp,
        chain,
        registry,
        ..
    } = f;
    drop((chain, registry));

    let reopened = Chain::embedded(&dir).expect("reopen");
    let registry = Registry::at(&reopened, address);
    assert_eq!(snapshot(&reopened, &registry, election_id(1)).await, before);
    for (log, receipt) in events.iter().zip(receipts) {
        assert_eq!(
            reopened.receipt(log.transaction).await.expect("receipt"),
            receipt
        );
    }
    match &reopened {
        Chain::Embedded(chain) => assert!(chain.warnings().is_empty()),
        Chain::Rpc(_) => unreachable!(),
    }
    // And it keeps going: the clock offset and nonces survive.
    let time = reopened.time().await.expect("time");
    registry
        .dispute(&Signer::dev(6), election_id(1), bytes32(0xf0))
        .await
        .expect("a second dispute after the reopen");
    assert!(reopened.time().await.expect("time") > time);
    drop(tmp);
}

/// Rewrites line `index` (0-based) of `blocks.jsonl` with `change` applied to its JSON.
fn tamper(dir: &Path, index: usize, change: impl FnOnce(&mut serde_json::Value)) {
    let path = blocks_file(dir);
    let text = fs::read_to_string(&path).expect("read");
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    let mut value: serde_json::Value = serde_json::from_str(&lines[index]).expect("json");
    change(&mut value);
    lines[index] = serde_json::to_string(&value).expect("json");
    fs::write(&path, lines.join("\n") + "\n").expect("write");
}

/// A closed copy of a busy chain's directory, and the index of the line of each kind.
async fn busy_directory() -> (tempfile::TempDir, Vec<serde_json::Value>) {
    let f = created().await;
    busy_chain(&f).await;
    let Fixture { dir, chain, .. } = f;
    drop(chain);
    let lines = fs::read_to_string(blocks_file(dir.path()))
        .expect("read")
        .lines()
        .map(|l| serde_json::from_str(l).expect("json"))
        .collect();
    (dir, lines)
}

fn copy_dir(from: &Path) -> tempfile::TempDir {
    let to = tempfile::tempdir().expect("tempdir");
    for name in ["genesis.json", "blocks.jsonl"] {
        fs::copy(from.join(name), to.path().join(name)).expect("copy");
    }
    to
}

#[tokio::test]
async fn a_tampered_chain_is_refused() {
    let (dir, lines) = busy_directory().await;
    let with_logs = lines
        .iter()
        .position(|l| {
            l["transaction"]["logs"]
                .as_array()
                .is_some_and(|logs| !logs.is_empty())
        })
        .expect("a block with logs");
    let fallback = lines
        .iter()
        .position(|l| {
            l["transaction"]["logs"][0]["data"]
                .as_str()
                .is_some_and(|d| d.len() > 4_000)
        })
        .expect("the large fallback ballot's block");
    let empty = lines
        .iter()
        .position(|l| l.get("transaction").is_none())
        .expect("an empty block");

    type Change = Box<dyn FnOnce(&mut serde_json::Value)>;
    let cases: Vec<(&str, usize, Change)> = vec![
        (
            "gas used",
            with_logs,
            Box::new(|v| {
                v["transaction"]["gas_used"] =
                    (v["transaction"]["gas_used"].as_u64().expect("gas") + 1).into();
            }),
        ),
        (
            "status",
            with_logs,
            Box::new(|v| v["transaction"]["success"] = false.into()),
        ),
        (
            "a log's data",
            fallback,
            Box::new(|v| {
                let data = v["transaction"]["logs"][0]["data"]
                    .as_str()
                    .expect("data")
                    .to_owned();
                let flipped = format!(
                    "{}{}",
                    &data[..data.len() - 1],
                    if data.ends_with('0') { "1" } else { "0" }
                );
                v["transaction"]["logs"][0]["data"] = flipped.into();
            }),
        ),
        (
            "a log removed",
            with_logs,
            Box::new(|v| v["transaction"]["logs"] = serde_json::json!([])),
        ),
        (
            "the hash",
            with_logs,
            Box::new(|v| v["transaction"]["hash"] = format!("0x{}", "ab".repeat(32)).into()),
        ),
        (
            "the sender",
            with_logs,
            Box::new(|v| v["transaction"]["from"] = format!("0x{}", "cd".repeat(20)).into()),
        ),
        (
            "the raw transaction",
            fallback,
            Box::new(|v| {
                let raw = v["transaction"]["raw"].as_str().expect("raw").to_owned();
                // Change one ballot byte inside the signed payload.
                let i = raw.len() / 2;
                let replacement = if &raw[i..i + 1] == "0" { "1" } else { "0" };
                v["transaction"]["raw"] =
                    format!("{}{}{}", &raw[..i], replacement, &raw[i + 1..]).into();
            }),
        ),
        (
            "the block number",
            with_logs,
            Box::new(|v| v["number"] = 999.into()),
        ),
        (
            "the timestamp",
            with_logs,
            Box::new(|v| v["timestamp"] = 1.into()),
        ),
        (
            "the contract address",
            0,
            Box::new(|v| {
                v["transaction"]["contract_address"] = format!("0x{}", "ee".repeat(20)).into()
            }),
        ),
    ];
    for (what, index, change) in cases {
        let copy = copy_dir(dir.path());
        tamper(copy.path(), index, change);
        match Chain::embedded(copy.path()) {
            Err(ChainError::Tampered { block, .. }) => {
                assert_eq!(block, index as u64 + 1, "{what}: another block blamed")
            }
            other => panic!("{what}: expected Tampered, got {other:?}"),
        }
        // Read-only openers refuse it too.
        assert!(
            matches!(
                Chain::embedded_read_only(copy.path()),
                Err(ChainError::Tampered { .. })
            ),
            "{what}"
        );
    }

    // An empty block's timestamp moved before its parent's.
    let copy = copy_dir(dir.path());
    tamper(copy.path(), empty, |v| v["timestamp"] = 0.into());
    assert!(matches!(
        Chain::embedded(copy.path()),
        Err(ChainError::Tampered { .. })
    ));

    // Two lines swapped.
    let copy = copy_dir(dir.path());
    let path = blocks_file(copy.path());
    let text = fs::read_to_string(&path).expect("read");
    let mut lines: Vec<&str> = text.lines().collect();
    lines.swap(1, 2);
    fs::write(&path, lines.join("\n") + "\n").expect("write");
    assert!(matches!(
        Chain::embedded(copy.path()),
        Err(ChainError::Tampered { block: 2, .. })
    ));

    // A line removed from the middle.
    let copy = copy_dir(dir.path());
    let path = blocks_file(copy.path());
    let text = fs::read_to_string(&path).expect("read");
    let mut lines: Vec<&str> = text.lines().collect();
    lines.remove(2);
    fs::write(&path, lines.join("\n") + "\n").expect("write");
    assert!(matches!(
        Chain::embedded(copy.path()),
        Err(ChainError::Tampered { block: 3, .. })
    ));

    // Another genesis (a different prefund changes every balance check).
    let copy = copy_dir(dir.path());
    let genesis = copy.path().join("genesis.json");
    let mut g: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(&genesis).expect("read")).expect("json");
    g["chain_id"] = 31337.into();
    fs::write(&genesis, serde_json::to_string(&g).expect("json")).expect("write");
    assert!(matches!(
        Chain::embedded(copy.path()),
        Err(ChainError::Tampered { block: 1, .. })
    ));
}

#[tokio::test]
async fn a_corrupt_line_is_refused_with_its_number() {
    let (dir, _) = busy_directory().await;
    let path = blocks_file(dir.path());
    let text = fs::read_to_string(&path).expect("read");
    let mut lines: Vec<&str> = text.lines().collect();
    lines[3] = "{\"number\": 4, \"timest";
    fs::write(&path, lines.join("\n") + "\n").expect("write");
    match Chain::embedded(dir.path()) {
        Err(ChainError::Corrupt { detail, .. }) => assert!(detail.contains("line 4"), "{detail}"),
        other => panic!("expected Corrupt, got {other:?}"),
    }
    // Blocks without their genesis.
    fs::remove_file(dir.path().join("genesis.json")).expect("remove");
    assert!(matches!(
        Chain::embedded(dir.path()),
        Err(ChainError::Corrupt { .. })
    ));
}

#[tokio::test]
async fn a_torn_last_line_is_dropped_with_a_warning() {
    let f = created().await;
    busy_chain(&f).await;
    let before = snapshot(&f.chain, &f.registry, f.id()).await;
    let head = f.chain.block_number().await.expect("head");
    let address = f.registry.address();
    let Fixture {
        dir,
        chain,
        registry,
        ..
    } = f;
    drop((chain, registry));
    let path = blocks_file(dir.path());
    let complete = fs::read(&path).expect("read");
    // A crash half-way through writing the next block's line.
    let mut torn = complete.clone();
    torn.extend_from_slice(b"{\"number\":");
    torn.extend_from_slice((head + 1).to_string().as_bytes());
    torn.extend_from_slice(b",\"timestamp\":17");
    fs::write(&path, &torn).expect("write");

    // A reader tolerates it and leaves it alone.
    let reader = EmbeddedChain::open_read_only(dir.path()).expect("read-only");
    assert_eq!(reader.warnings().len(), 1);
    assert!(reader.warnings()[0].contains("torn"));
    assert_eq!(reader.block_number().expect("head"), head);
    assert_eq!(fs::read(&path).expect("read"), torn);
    drop(reader);

    // The writer drops it for good and goes on.
    let writer = EmbeddedChain::open(dir.path()).expect("open");
    assert_eq!(writer.warnings().len(), 1);
    assert!(
        writer.warnings()[0].contains("dropped"),
        "{:?}",
        writer.warnings()
    );
    assert_eq!(fs::read(&path).expect("read"), complete);
    let chain = Chain::Embedded(writer);
    let registry = Registry::at(&chain, address);
    assert_eq!(snapshot(&chain, &registry, election_id(1)).await, before);
    chain.advance_time(5).await.expect("mine after the drop");
    drop((chain, registry));
    let reopened = EmbeddedChain::open(dir.path()).expect("reopen");
    assert!(reopened.warnings().is_empty());
    assert_eq!(reopened.block_number().expect("head"), head + 1);

    // A torn line in the middle (a newline-terminated fragment) is corruption, not a tear.
    drop(reopened);
    let mut broken = complete[..complete.len() - 1].to_vec();
    broken.truncate(broken.len() - 5);
    broken.push(b'\n');
    fs::write(&path, &broken).expect("write");
    assert!(matches!(
        EmbeddedChain::open(dir.path()),
        Err(ChainError::Corrupt { .. })
    ));
}

#[tokio::test]
async fn one_writer_at_a_time_and_readers_follow_it() {
    let f = created().await;
    let dir = f.dir.path();
    match Chain::embedded(dir) {
        Err(error @ ChainError::Locked { .. }) => {
            assert!(!error.is_transient());
            assert!(error.to_string().contains("read-only"));
        }
        other => panic!("expected Locked, got {other:?}"),
    }
    let reader = Chain::embedded_read_only(dir).expect("reader");
    let reader_registry = Registry::at(&reader, f.registry.address());
    assert_eq!(
        reader.block_number().await.expect("head"),
        f.chain.block_number().await.expect("head")
    );
    // The reader cannot send.
    assert!(matches!(
        reader_registry
            .checkpoint(&f.operator, f.id(), 1, bytes32(1), 1, [1; 64])
            .await,
        Err(ChainError::ReadOnly)
    ));
    assert!(matches!(
        reader.advance_time(1).await,
        Err(ChainError::ReadOnly)
    ));
    // It sees what the writer appends afterwards.
    let receipt = f
        .registry
        .checkpoint(&f.operator, f.id(), 9, bytes32(9), 1, [1; 64])
        .await
        .expect("checkpoint");
    assert_eq!(
        reader.block_number().await.expect("head"),
        receipt.block_number
    );
    assert_eq!(
        reader.receipt(receipt.hash).await.expect("receipt"),
        Some(receipt)
    );
    assert_eq!(
        reader_registry.evidence(f.id()).await.expect("evidence"),
        f.registry.evidence(f.id()).await.expect("evidence")
    );
    // Once the writer is gone, another may open it.
    let Fixture {
        dir: tmp,
        chain,
        registry,
        ..
    } = f;
    drop(registry);
    drop(chain);
    let again = Chain::embedded(tmp.path()).expect("second writer after the first");
    drop(again);
}

#[tokio::test]
async fn a_read_only_open_of_nothing_fails_and_creates_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let missing = dir.path().join("chain");
    assert!(matches!(
        Chain::embedded_read_only(&missing),
        Err(ChainError::Io { .. })
    ));
    assert!(!missing.exists());
    // The writer creates it, with the dev accounts funded.
    let chain = Chain::embedded(&missing).expect("create");
    assert_eq!(chain.block_number().await.expect("head"), 0);
    for i in 0..10 {
        assert_eq!(
            chain
                .balance(Signer::dev(i).address())
                .await
                .expect("balance"),
            tabella_contracts::DEV_BALANCE_WEI
        );
    }
    assert!(missing.join("genesis.json").exists());
}
