//! Gas used by each registry function, measured on the embedded chain (revm, Cancun rules):
//!
//! ```text
//! cargo run -p tabella-contracts --example gas --release
//! cargo run -p tabella-contracts --example gas --release -- --rpc-url http://127.0.0.1:8545
//! ```
//!
//! With `--rpc-url`, the same transactions go to a development node instead (Hardhat's, which
//! must accept `evm_increaseTime`), from its dev account 0.
//!
//! Prints a Markdown table (the one in `contracts/README.md`). Ballots are pseudo-random bytes,
//! as real ballots (group elements and proofs) are: calldata costs 16 gas per non-zero byte.

use std::error::Error;

use tabella_contracts::{Chain, ElectionRegistration, Registry, Signer, TxReceipt};
use tabella_crypto::board::{leaf_hash, MerkleTree};

/// Leaves of the tree whose inclusion proof `verifyInclusion` checks.
const TREE_LEAVES: u64 = 1_000_000;

/// Deterministic pseudo-random bytes (xorshift64).
fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed | 1;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 24) as u8
        })
        .collect()
}

struct Table(Vec<(String, u64)>);

impl Table {
    fn add(&mut self, what: impl Into<String>, receipt: &TxReceipt) {
        self.0.push((what.into(), receipt.gas_used));
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn Error>> {
    let args: Vec<String> = std::env::args().collect();
    let dir = tempfile::tempdir()?;
    let chain = match args.iter().position(|a| a == "--rpc-url") {
        Some(i) => Chain::rpc(args.get(i + 1).ok_or("--rpc-url URL")?).await?,
        None => Chain::embedded(dir.path())?,
    };
    let operator = Signer::dev(0);
    let voter = Signer::dev(1);
    let challenger = Signer::dev(2);
    let mut table = Table(Vec::new());

    let (registry, deploy) = Registry::deploy(&chain, &operator).await?;
    table.add("deploy the registry", &deploy);

    let now = chain.time().await?;
    let reg = ElectionRegistration {
        election_id: [0xe1; 32],
        manifest_hash: [0x11; 32],
        credentials_digest: [0x22; 32],
        trustee_keys_digest: [0x33; 32],
        joint_key: [0x44; 32],
        board_key: [0x55; 32],
        opens_at: now + 10,
        closes_at: now + 3_600,
        challenge_period: 7 * 86_400,
    };
    let mut id = reg.election_id;
    if !chain.is_embedded() {
        // A fresh election per run, for a node shared between runs (calldata costs differ by
        // 12 gas per byte that is zero in one id and not in the other).
        id[..8].copy_from_slice(&now.to_be_bytes());
    }
    let reg = ElectionRegistration {
        election_id: id,
        ..reg
    };
    table.add(
        "`createElection`",
        &registry.create_election(&operator, &reg).await?,
    );

    let signature: [u8; 64] = noise(64, 1).try_into().map_err(|_| "64 bytes")?;
    let first = registry
        .checkpoint(&operator, id, 1_000, [0xa1; 32], 1, signature)
        .await?;
    table.add("`checkpoint` (first)", &first);
    let next = registry
        .checkpoint(&operator, id, 2_000, [0xa2; 32], 2, signature)
        .await?;
    table.add("`checkpoint` (next)", &next);

    let mut tree = MerkleTree::new();
    for i in 0..TREE_LEAVES {
        tree.push(leaf_hash(&i.to_be_bytes()));
    }
    let root = tree.root_at(TREE_LEAVES)?;
    registry
        .checkpoint(&operator, id, TREE_LEAVES, root, 3, signature)
        .await?;

    chain
        .advance_time(reg.opens_at - chain.time().await?)
        .await?;
    let large = noise(6_081, 2);
    let small = noise(1_024, 3);
    table.add(
        "`castFallback`, 6,081-byte ballot (first of the election)",
        &registry.cast_fallback(&voter, id, &large).await?,
    );
    table.add(
        "`castFallback`, 6,081-byte ballot (next)",
        &registry.cast_fallback(&voter, id, &noise(6_081, 4)).await?,
    );
    table.add(
        "`castFallback`, 1 KiB ballot (next)",
        &registry.cast_fallback(&voter, id, &small).await?,
    );

    let index = TREE_LEAVES / 3;
    let proof = tree.inclusion_proof(index, TREE_LEAVES)?;
    let leaf = tree.leaf(index).ok_or("leaf")?;
    assert!(
        registry
            .verify_inclusion(id, TREE_LEAVES, index, leaf, &proof.path)
            .await?
    );
    let verify_gas = registry
        .verify_inclusion_gas(id, TREE_LEAVES, index, leaf, &proof.path)
        .await?;

    chain
        .advance_time(reg.closes_at - chain.time().await?)
        .await?;
    table.add(
        "`publishResult`",
        &registry
            .publish_result(&operator, id, [0xd1; 32], [0xd2; 32], TREE_LEAVES, root)
            .await?,
    );
    table.add(
        "`dispute` (first)",
        &registry.dispute(&challenger, id, [0xef; 32]).await?,
    );
    table.add(
        "`dispute` (next)",
        &registry.dispute(&challenger, id, [0xf0; 32]).await?,
    );

    println!("| operation | gas |");
    println!("|---|---:|");
    for (what, gas) in &table.0 {
        println!("| {what} | {} |", thousands(*gas));
    }
    println!(
        "| `verifyInclusion`, {}-leaf tree ({}-hash path), as `eth_estimateGas` | {} |",
        thousands(TREE_LEAVES),
        proof.path.len(),
        thousands(verify_gas)
    );
    Ok(())
}

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
