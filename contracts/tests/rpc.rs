//! The same registry flow over JSON-RPC, against a development node given by
//! `TABELLA_TEST_RPC_URL` (Hardhat's node: `npx hardhat node --hostname 127.0.0.1` in
//! contracts/; `.ci/run` starts one and sets the variable). Without it the test says it is
//! skipped, unless `CI=true` or `TABELLA_REQUIRE_HARDHAT=1`, which make that a failure; the
//! workspace's integration tests (`tests/`) start a node themselves.
//!
//! ```text
//! TABELLA_TEST_RPC_URL=http://127.0.0.1:8545 cargo test -p tabella-contracts --test rpc
//! ```

mod common;

use common::*;
use tabella_contracts::{fallback_digest, Chain, ChainError, Registry, Signer};

/// The node's URL, or `None` (skipped) when there is none and none is required.
fn url() -> Option<String> {
    match std::env::var("TABELLA_TEST_RPC_URL") {
        Ok(url) if !url.trim().is_empty() => Some(url),
        _ => {
            let required = std::env::var("CI").is_ok_and(|v| v == "true")
                || std::env::var("TABELLA_REQUIRE_HARDHAT").is_ok_and(|v| v == "1");
            assert!(
                !required,
                "TABELLA_TEST_RPC_URL must name a development node (see the file's doc)"
            );
            eprintln!("SKIPPED the_registry_flow_over_json_rpc: TABELLA_TEST_RPC_URL is not set");
            None
        }
    }
}

#[tokio::test]
async fn the_registry_flow_over_json_rpc() {
    let Some(url) = url() else {
        return;
    };
    let chain = Chain::rpc(&url).await.expect("connect");
    let chain_id = chain.chain_id().await.expect("chain id");
    let operator = Signer::dev(0);
    let (registry, deploy) = Registry::deploy(&chain, &operator).await.expect("deploy");
    assert!(deploy.success);
    assert!(registry.has_registry_code().await.expect("code"));

    // A fresh election id per run: the node may be shared between runs.
    let now = chain.time().await.expect("time");
    let mut id = election_id(1);
    id[1..9].copy_from_slice(&now.to_be_bytes());
    let reg = registration(id, now);
    let created = registry
        .create_election(&operator, &reg)
        .await
        .expect("create");
    assert_reverted(
        registry.create_election(&operator, &reg).await,
        "createElection",
        &format!("ElectionExists(electionId: {})", hex32(&id)),
    );
    assert_reverted(
        registry
            .create_election_for_chain(&operator, &registration(election_id(9), now), chain_id + 1)
            .await,
        "createElection",
        &format!("WrongChain(expected: {chain_id}, actual: {})", chain_id + 1),
    );

    registry
        .checkpoint(&operator, id, 5, bytes32(5), 1, [1; 64])
        .await
        .expect("checkpoint");
    assert_reverted(
        registry
            .checkpoint(&operator, id, 5, bytes32(5), 1, [1; 64])
            .await,
        "checkpoint",
        "CheckpointNotGrowing(lastSize: 5, size: 5)",
    );
    assert_reverted(
        registry
            .checkpoint(&Signer::dev(1), id, 6, bytes32(6), 1, [1; 64])
            .await,
        "checkpoint",
        &format!(
            "NotOperator(caller: {}, operator: {})",
            Signer::dev(1).address_hex(),
            operator.address_hex()
        ),
    );

    chain
        .advance_time(OPENS_IN + 5)
        .await
        .expect("advance into the window");
    let ballot = vec![0x5a; 6_081];
    let cast = registry
        .cast_fallback(&Signer::dev(2), id, &ballot)
        .await
        .expect("cast");
    registry
        .checkpoint(&operator, id, 9, bytes32(9), 2, [2; 64])
        .await
        .expect("checkpoint");
    chain
        .advance_time(VOTING)
        .await
        .expect("advance past the close");
    let published = registry
        .publish_result(&operator, id, bytes32(0xd1), bytes32(0xd2), 9, bytes32(9))
        .await
        .expect("publish");
    registry
        .dispute(&Signer::dev(3), id, bytes32(0xef))
        .await
        .expect("dispute");

    let evidence = registry.evidence(id).await.expect("evidence");
    assert_eq!(evidence.chain_id, chain_id);
    let election = evidence.election.expect("created");
    assert_eq!(election.transaction, created.hash_hex());
    assert_eq!(election.operator, operator.address_hex());
    assert_eq!(evidence.checkpoints.len(), 2);
    assert_eq!(evidence.fallback.len(), 1);
    assert_eq!(evidence.fallback[0].transaction, cast.hash_hex());
    assert_eq!(evidence.fallback[0].digest, fallback_digest(&ballot));
    let result = evidence.result.expect("published");
    assert_eq!(result.transaction, published.hash_hex());
    assert_eq!(result.disputes.len(), 1);

    let receipt = chain
        .receipt(cast.hash)
        .await
        .expect("lookup")
        .expect("known");
    assert_eq!(receipt, cast);
    assert!(matches!(
        Chain::rpc("ftp://example.org").await,
        Err(ChainError::InvalidInput { .. })
    ));
}

#[tokio::test]
async fn an_unreachable_endpoint_is_a_transient_error() {
    // Nothing listens on port 9 (discard) of the loopback interface in the test environment.
    match Chain::rpc("http://127.0.0.1:9").await {
        Err(error) => assert!(error.is_transient(), "{error:?}"),
        Ok(_) => panic!("connected to port 9"),
    }
}
