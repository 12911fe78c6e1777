//! `Registry::evidence` returns exactly what was anchored — creation, checkpoints, fallback
//! ballots with their bytes, the result and the disputes, with their transactions — for this
//! election only, and refuses events that disagree with the registry's views.

mod common;

use base64::Engine as _;
use common::*;
use tabella_contracts::{fallback_digest, ChainError, Registry, Signer, EMBEDDED_CHAIN_ID};
use tabella_crypto::record::{
    ChainCheckpoint, ChainDispute, ChainElection, ChainEvidence, ChainFallbackBallot, ChainResult,
};

#[tokio::test]
async fn evidence_is_exactly_what_was_anchored() {
    let f = deployed().await;
    let r = &f.registry;
    let id = f.id();

    // Before creation: the registry knows nothing.
    let empty = r.evidence(id).await.expect("evidence");
    assert_eq!(
        empty,
        ChainEvidence {
            chain_id: EMBEDDED_CHAIN_ID,
            contract: r.address_hex(),
            election: None,
            checkpoints: vec![],
            fallback: vec![],
            result: None,
        }
    );

    let created = r
        .create_election(&f.operator, &f.reg)
        .await
        .expect("create");
    // A second election, interleaved: none of it may show up in the first one's evidence.
    let other_id = election_id(2);
    let other = registration(other_id, f.chain.time().await.expect("time"));
    r.create_election(&Signer::dev(3), &other)
        .await
        .expect("other");
    r.checkpoint(&Signer::dev(3), other_id, 50, bytes32(0x50), 1, [5; 64])
        .await
        .expect("other checkpoint");

    let heads = [
        (0u64, bytes32(0xa0), 1_000u64, [0x10u8; 64]),
        (3, bytes32(0xa3), 2_000, [0x13; 64]),
        (8, bytes32(0xa8), 3_000, [0x18; 64]),
    ];
    let mut checkpoints = Vec::new();
    for (size, root, ms, signature) in heads {
        let receipt = r
            .checkpoint(&f.operator, id, size, root, ms, signature)
            .await
            .expect("checkpoint");
        checkpoints.push(ChainCheckpoint {
            transaction: receipt.hash_hex(),
            size,
            root,
            timestamp_ms: ms,
            signature: hex::encode(signature),
        });
    }

    f.open_voting();
    let ballots: [Vec<u8>; 3] = [
        b"first fallback ballot".to_vec(),
        vec![0xab; 6_081],
        (0..=255u8).collect(),
    ];
    let mut fallback = Vec::new();
    for (i, ballot) in ballots.iter().enumerate() {
        let voter = Signer::dev(4 + i);
        let receipt = r.cast_fallback(&voter, id, ballot).await.expect("cast");
        fallback.push(ChainFallbackBallot {
            transaction: receipt.hash_hex(),
            chain_index: i as u64,
            digest: fallback_digest(ballot),
            ballot: base64::engine::general_purpose::STANDARD.encode(ballot),
        });
        r.cast_fallback(&voter, other_id, b"elsewhere")
            .await
            .expect("other cast");
    }

    // Mid-way, the evidence holds what is there so far.
    let partial = r.evidence(id).await.expect("evidence");
    assert_eq!(partial.checkpoints, checkpoints);
    assert_eq!(partial.fallback, fallback);
    assert_eq!(partial.result, None);

    f.next_block_at(f.reg.closes_at);
    let published = r
        .publish_result(
            &f.operator,
            id,
            bytes32(0xd1),
            bytes32(0xd2),
            8,
            bytes32(0xa8),
        )
        .await
        .expect("publish");
    let mut disputes = Vec::new();
    for (who, digest) in [(7usize, 0xe7u8), (8, 0xe8)] {
        let challenger = Signer::dev(who);
        let receipt = r
            .dispute(&challenger, id, bytes32(digest))
            .await
            .expect("dispute");
        disputes.push(ChainDispute {
            transaction: receipt.hash_hex(),
            challenger: challenger.address_hex(),
            evidence_digest: bytes32(digest),
        });
    }

    let expected = ChainEvidence {
        chain_id: EMBEDDED_CHAIN_ID,
        contract: r.address_hex(),
        election: Some(ChainElection {
            transaction: created.hash_hex(),
            operator: f.operator.address_hex(),
            chain_id: EMBEDDED_CHAIN_ID,
            manifest_hash: f.reg.manifest_hash,
            credentials_digest: f.reg.credentials_digest,
            trustee_keys_digest: f.reg.trustee_keys_digest,
            joint_key: f.reg.joint_key,
            board_key: f.reg.board_key,
            opens_at: f.reg.opens_at,
            closes_at: f.reg.closes_at,
            challenge_period: f.reg.challenge_period,
        }),
        checkpoints,
        fallback,
        result: Some(ChainResult {
            transaction: published.hash_hex(),
            tally_digest: bytes32(0xd1),
            record_digest: bytes32(0xd2),
            final_size: 8,
            final_root: bytes32(0xa8),
            challenge_ends_at: f.reg.closes_at + CHALLENGE,
            disputes,
        }),
    };
    let evidence = r.evidence(id).await.expect("evidence");
    assert_eq!(evidence, expected);
    // The evidence survives its JSON form (what the verifier is handed).
    let json = serde_json::to_string(&evidence).expect("json");
    assert_eq!(
        serde_json::from_str::<ChainEvidence>(&json).expect("json"),
        expected
    );

    // The other election's evidence is its own.
    let theirs = r.evidence(other_id).await.expect("evidence");
    assert_eq!(theirs.checkpoints.len(), 1);
    assert_eq!(theirs.checkpoints[0].size, 50);
    assert_eq!(theirs.fallback.len(), 3);
    assert!(theirs.result.is_none());
    assert_eq!(
        theirs.election.expect("created").operator,
        Signer::dev(3).address_hex()
    );

    // There is no registry elsewhere (no code: its views answer with empty data).
    let elsewhere = Registry::at(&f.chain, [0x42; 20]);
    assert!(matches!(
        elsewhere.evidence(id).await,
        Err(ChainError::NoRegistry { address }) if address == format!("0x{}", "42".repeat(20))
    ));
}

#[tokio::test]
async fn events_missing_from_the_log_range_are_caught() {
    let f = created().await;
    let r = &f.registry;
    let checkpoint = r
        .checkpoint(&f.operator, f.id(), 4, bytes32(4), 1, [1; 64])
        .await
        .expect("checkpoint");
    r.checkpoint(&f.operator, f.id(), 5, bytes32(5), 2, [2; 64])
        .await
        .expect("checkpoint");
    // Reading from after the creation: the view knows the election, the logs do not.
    let late = r.clone().with_from_block(checkpoint.block_number);
    match late.evidence(f.id()).await {
        Err(ChainError::EvidenceMismatch { detail }) => {
            assert!(detail.contains("ElectionCreated"), "{detail}")
        }
        other => panic!("expected EvidenceMismatch, got {other:?}"),
    }
    // Nor from later still, where the first checkpoint is missing too.
    let later = r.clone().with_from_block(checkpoint.block_number + 1);
    assert!(matches!(
        later.evidence(f.id()).await,
        Err(ChainError::EvidenceMismatch { .. })
    ));
}
