//! Contract unit tests of the registry on the embedded chain (revm running the committed
//! bytecode): every function, every access-control refusal, the window rules, and the events
//! each state change emits.

mod common;

use common::*;
use tabella_contracts::bindings::TabellaRegistry::TabellaRegistryEvents as Event;
use tabella_contracts::{
    fallback_digest, ChainError, ElectionRegistration, OnChainResult, Registry, Signer,
    EMBEDDED_CHAIN_ID, MAX_BALLOT_BYTES,
};

fn sig(tag: u8) -> [u8; 64] {
    [tag; 64]
}

#[tokio::test]
async fn deploy_puts_the_committed_runtime_bytecode_at_the_address() {
    let f = deployed().await;
    assert!(f.deploy.success);
    assert_eq!(f.deploy.block_number, 1);
    assert_eq!(f.deploy.from, f.operator.address());
    assert_eq!(f.deploy.contract_address, Some(f.registry.address()));
    // Hardhat's first deployment address for dev account 0, nonce 0.
    assert_eq!(
        f.registry.address_hex(),
        "0x5fbdb2315678afecb367f032d93f642f64180aa3"
    );
    assert!(f.registry.has_registry_code().await.expect("code"));
    assert_eq!(
        f.chain.chain_id().await.expect("chain id"),
        EMBEDDED_CHAIN_ID
    );
    // Nothing at another address.
    let elsewhere = Registry::at(&f.chain, [7; 20]);
    assert!(!elsewhere.has_registry_code().await.expect("code"));
}

#[tokio::test]
async fn create_election_stores_the_registration_and_emits_election_created() {
    let f = deployed().await;
    assert_eq!(f.registry.election(f.id()).await.expect("view"), None);
    let receipt = f
        .registry
        .create_election(&f.operator, &f.reg)
        .await
        .expect("create");
    assert!(receipt.success);
    let e = f
        .registry
        .election(f.id())
        .await
        .expect("view")
        .expect("known");
    assert_eq!(e.operator, f.operator.address());
    assert_eq!(e.opens_at, f.reg.opens_at);
    assert_eq!(e.closes_at, f.reg.closes_at);
    assert_eq!(e.challenge_period, f.reg.challenge_period);
    assert_eq!(e.manifest_hash, f.reg.manifest_hash);
    assert_eq!(e.credentials_digest, f.reg.credentials_digest);
    assert_eq!(e.trustee_keys_digest, f.reg.trustee_keys_digest);
    assert_eq!(e.joint_key, f.reg.joint_key);
    assert_eq!(e.board_key, f.reg.board_key);
    assert_eq!(
        (e.checkpoint_count, e.last_checkpoint_size, e.fallback_count),
        (0, 0, 0)
    );
    assert!(!e.result_published);

    let events = f.registry.events(f.id()).await.expect("events");
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].transaction, receipt.hash);
    assert_eq!(events[0].block_number, receipt.block_number);
    let Event::ElectionCreated(c) = &events[0].event else {
        panic!("not ElectionCreated: {:?}", events[0].event)
    };
    assert_eq!(c.electionId.0, f.id());
    assert_eq!(c.operator.into_array(), f.operator.address());
    assert_eq!(c.chainId, alloy_primitives::U256::from(EMBEDDED_CHAIN_ID));
    assert_eq!(c.manifestHash.0, f.reg.manifest_hash);
    assert_eq!(c.credentialsDigest.0, f.reg.credentials_digest);
    assert_eq!(c.trusteeKeysDigest.0, f.reg.trustee_keys_digest);
    assert_eq!(c.jointKey.0, f.reg.joint_key);
    assert_eq!(c.boardKey.0, f.reg.board_key);
    assert_eq!(
        (c.opensAt, c.closesAt, c.challengePeriod),
        (f.reg.opens_at, f.reg.closes_at, f.reg.challenge_period)
    );
    // Another election is independent.
    let other = registration(election_id(2), f.chain.time().await.expect("time"));
    f.registry
        .create_election(&Signer::dev(3), &other)
        .await
        .expect("second election");
    let e2 = f
        .registry
        .election(election_id(2))
        .await
        .expect("view")
        .expect("known");
    assert_eq!(e2.operator, Signer::dev(3).address());
}

#[tokio::test]
async fn create_twice_is_refused_whoever_asks() {
    let f = created().await;
    let reason = format!("ElectionExists(electionId: {})", hex32(&f.id()));
    assert_reverted(
        f.registry.create_election(&f.operator, &f.reg).await,
        "createElection",
        &reason,
    );
    let mut changed = f.reg.clone();
    changed.manifest_hash = bytes32(0x99);
    assert_reverted(
        f.registry.create_election(&Signer::dev(1), &changed).await,
        "createElection",
        &reason,
    );
    // Nothing was overwritten.
    let e = f
        .registry
        .election(f.id())
        .await
        .expect("view")
        .expect("known");
    assert_eq!(e.operator, f.operator.address());
    assert_eq!(e.manifest_hash, f.reg.manifest_hash);
}

#[tokio::test]
async fn create_for_another_chain_is_refused() {
    let f = deployed().await;
    assert_reverted(
        f.registry
            .create_election_for_chain(&f.operator, &f.reg, 31337)
            .await,
        "createElection",
        &format!("WrongChain(expected: {EMBEDDED_CHAIN_ID}, actual: 31337)"),
    );
    assert_eq!(f.registry.election(f.id()).await.expect("view"), None);
}

#[tokio::test]
async fn create_with_a_bad_schedule_is_refused() {
    let f = deployed().await;
    let now = f.chain.time().await.expect("time");
    type Change = fn(&mut ElectionRegistration, u64);
    let cases: [(&str, Change); 6] = [
        ("opens at close", |r, _| r.opens_at = r.closes_at),
        ("opens after close", |r, _| r.opens_at = r.closes_at + 1),
        ("closes in the past", |r, now| {
            r.opens_at = now - 10;
            r.closes_at = now - 1;
        }),
        ("no challenge window", |r, _| r.challenge_period = 0),
        // A window so long that publishing would overflow the challenge's end.
        ("a challenge window beyond a year", |r, _| {
            r.challenge_period = 366 * 86_400 + 1
        }),
        ("the largest challenge window", |r, _| {
            r.challenge_period = u64::MAX
        }),
    ];
    for (what, change) in cases {
        let mut reg = f.reg.clone();
        change(&mut reg, now);
        assert_reverted(
            f.registry.create_election(&f.operator, &reg).await,
            "createElection",
            &format!(
                "BadSchedule(opensAt: {}, closesAt: {}, challengePeriod: {})",
                reg.opens_at, reg.closes_at, reg.challenge_period
            ),
        );
        assert_eq!(
            f.registry.election(f.id()).await.expect("view"),
            None,
            "{what}"
        );
    }
    // Closing exactly at the creation block's time is closing in the past too.
    let mut reg = f.reg.clone();
    reg.opens_at = now;
    reg.closes_at = now + 5;
    f.next_block_at(now + 5);
    assert_reverted(
        f.registry.create_election(&f.operator, &reg).await,
        "createElection",
        &format!(
            "BadSchedule(opensAt: {}, closesAt: {}, challengePeriod: {})",
            reg.opens_at, reg.closes_at, reg.challenge_period
        ),
    );
}

#[tokio::test]
async fn checkpoints_grow_strictly_and_emit_checkpointed() {
    let f = created().await;
    // The first checkpoint may be of the empty tree.
    let r0 = f
        .registry
        .checkpoint(&f.operator, f.id(), 0, bytes32(0xa0), 1_000, sig(1))
        .await
        .expect("size 0");
    let r1 = f
        .registry
        .checkpoint(&f.operator, f.id(), 5, bytes32(0xa5), 2_000, sig(2))
        .await
        .expect("size 5");
    assert_reverted(
        f.registry
            .checkpoint(&f.operator, f.id(), 5, bytes32(0xb5), 3_000, sig(3))
            .await,
        "checkpoint",
        "CheckpointNotGrowing(lastSize: 5, size: 5)",
    );
    assert_reverted(
        f.registry
            .checkpoint(&f.operator, f.id(), 4, bytes32(0xb4), 3_000, sig(3))
            .await,
        "checkpoint",
        "CheckpointNotGrowing(lastSize: 5, size: 4)",
    );
    let r2 = f
        .registry
        .checkpoint(&f.operator, f.id(), 6, bytes32(0xa6), 3_000, sig(4))
        .await
        .expect("size 6");

    let e = f
        .registry
        .election(f.id())
        .await
        .expect("view")
        .expect("known");
    assert_eq!((e.checkpoint_count, e.last_checkpoint_size), (3, 6));
    assert_eq!(
        f.registry.checkpoint_sizes(f.id()).await.expect("sizes"),
        vec![0, 5, 6]
    );
    for (size, root) in [(0, 0xa0), (5, 0xa5), (6, 0xa6)] {
        assert_eq!(
            f.registry
                .checkpoint_root(f.id(), size)
                .await
                .expect("root"),
            Some(bytes32(root))
        );
    }
    assert_eq!(
        f.registry.checkpoint_root(f.id(), 4).await.expect("root"),
        None
    );

    let events = f.registry.events(f.id()).await.expect("events");
    let checkpoints: Vec<_> = events
        .iter()
        .filter_map(|log| match &log.event {
            Event::Checkpointed(c) => Some((log.transaction, c.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(checkpoints.len(), 3);
    let expected = [
        (r0.hash, 0u64, 0u64, 0xa0u8, 1_000u64, 1u8),
        (r1.hash, 1, 5, 0xa5, 2_000, 2),
        (r2.hash, 2, 6, 0xa6, 3_000, 4),
    ];
    for ((tx, c), (hash, index, size, root, ms, s)) in checkpoints.iter().zip(expected) {
        assert_eq!(*tx, hash);
        assert_eq!(c.electionId.0, f.id());
        assert_eq!((c.index, c.size, c.timestampMs), (index, size, ms));
        assert_eq!(c.root.0, bytes32(root));
        assert_eq!(c.signature.as_ref(), sig(s).as_slice());
    }
}

#[tokio::test]
async fn checkpoint_refuses_other_signature_lengths() {
    let f = created().await;
    for length in [0usize, 1, 63, 65, 128] {
        assert_reverted(
            f.registry
                .checkpoint_raw(&f.operator, f.id(), 1, bytes32(1), 1, &vec![7u8; length])
                .await,
            "checkpoint",
            &format!("BadSignature(length: {length})"),
        );
    }
    assert_eq!(
        f.registry
            .election(f.id())
            .await
            .expect("view")
            .expect("known")
            .checkpoint_count,
        0
    );
}

#[tokio::test]
async fn only_the_operator_checkpoints() {
    let f = created().await;
    let intruder = Signer::dev(1);
    assert_reverted(
        f.registry
            .checkpoint(&intruder, f.id(), 1, bytes32(1), 1, sig(1))
            .await,
        "checkpoint",
        &format!(
            "NotOperator(caller: {}, operator: {})",
            intruder.address_hex(),
            f.operator.address_hex()
        ),
    );
    assert_reverted(
        f.registry
            .checkpoint(&f.operator, election_id(9), 1, bytes32(1), 1, sig(1))
            .await,
        "checkpoint",
        &format!("UnknownElection(electionId: {})", hex32(&election_id(9))),
    );
}

#[tokio::test]
async fn fallback_casting_follows_the_voting_window() {
    let f = created().await;
    let ballot = vec![0x42u8; 300];
    let (opens, closes) = (f.reg.opens_at, f.reg.closes_at);
    let window = |time: u64| {
        format!("OutsideVotingWindow(time: {time}, opensAt: {opens}, closesAt: {closes})")
    };

    f.next_block_at(opens - 1);
    assert_reverted(
        f.registry
            .cast_fallback(&Signer::dev(5), f.id(), &ballot)
            .await,
        "castFallback",
        &window(opens - 1),
    );
    // The first second of the window is in it.
    f.next_block_at(opens);
    let first = f
        .registry
        .cast_fallback(&Signer::dev(5), f.id(), &ballot)
        .await
        .expect("at opening");
    assert_eq!(first.block_timestamp, opens);
    // The last second too.
    f.next_block_at(closes - 1);
    f.registry
        .cast_fallback(&Signer::dev(6), f.id(), b"last")
        .await
        .expect("just before closing");
    // Closing time is outside.
    f.next_block_at(closes);
    assert_reverted(
        f.registry
            .cast_fallback(&Signer::dev(5), f.id(), &ballot)
            .await,
        "castFallback",
        &window(closes),
    );
    f.next_block_at(closes + 3_600);
    assert_reverted(
        f.registry
            .cast_fallback(&Signer::dev(5), f.id(), &ballot)
            .await,
        "castFallback",
        &window(closes + 3_600),
    );
    assert_eq!(
        f.registry
            .election(f.id())
            .await
            .expect("view")
            .expect("known")
            .fallback_count,
        2
    );
}

#[tokio::test]
async fn fallback_stores_the_digest_and_emits_the_ballot() {
    let f = created().await;
    f.open_voting();
    let voter_a = Signer::dev(7);
    let voter_b = Signer::dev(8);
    let a = vec![1u8; 6_081];
    let b: Vec<u8> = (0..=255u8).cycle().take(MAX_BALLOT_BYTES).collect();
    let ra = f
        .registry
        .cast_fallback(&voter_a, f.id(), &a)
        .await
        .expect("cast a");
    let rb = f
        .registry
        .cast_fallback(&voter_b, f.id(), &b)
        .await
        .expect("cast the largest ballot");
    assert_eq!(
        f.registry.fallback_digests(f.id()).await.expect("digests"),
        vec![fallback_digest(&a), fallback_digest(&b)]
    );
    let events = f.registry.events(f.id()).await.expect("events");
    let cast: Vec<_> = events
        .iter()
        .filter_map(|log| match &log.event {
            Event::FallbackBallotCast(c) => Some((log.transaction, c.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(cast.len(), 2);
    for ((tx, c), (hash, index, voter, ballot)) in cast
        .iter()
        .zip([(ra.hash, 0u64, &voter_a, &a), (rb.hash, 1, &voter_b, &b)])
    {
        assert_eq!(*tx, hash);
        assert_eq!(c.electionId.0, f.id());
        assert_eq!(c.index, index);
        assert_eq!(c.voter.into_array(), voter.address());
        assert_eq!(c.digest.0, fallback_digest(ballot));
        assert_eq!(c.ballot.as_ref(), ballot.as_slice());
    }
    // The digest is SHA-256(0x00 ‖ ballot): the Merkle leaf hash, i.e. the tracking code.
    assert_eq!(
        fallback_digest(&a),
        tabella_crypto::board::leaf_hash(&a),
        "fallback digest is the board's leaf hash"
    );
}

#[tokio::test]
async fn fallback_refuses_empty_oversize_and_unknown() {
    let f = created().await;
    f.open_voting();
    let voter = Signer::dev(4);
    assert_reverted(
        f.registry.cast_fallback(&voter, f.id(), &[]).await,
        "castFallback",
        "BadBallotLength(length: 0)",
    );
    assert_reverted(
        f.registry
            .cast_fallback(&voter, f.id(), &vec![1u8; MAX_BALLOT_BYTES + 1])
            .await,
        "castFallback",
        &format!("BadBallotLength(length: {})", MAX_BALLOT_BYTES + 1),
    );
    assert_reverted(
        f.registry
            .cast_fallback(&voter, election_id(9), b"ballot")
            .await,
        "castFallback",
        &format!("UnknownElection(electionId: {})", hex32(&election_id(9))),
    );
    f.registry
        .cast_fallback(&voter, f.id(), &[0])
        .await
        .expect("a one-byte ballot");
}

/// Two checkpoints (sizes 3 and 7), then past the close.
async fn closed_with_checkpoints() -> Fixture {
    let f = created().await;
    f.registry
        .checkpoint(&f.operator, f.id(), 3, bytes32(0xc3), 10, sig(1))
        .await
        .expect("checkpoint 3");
    f.registry
        .checkpoint(&f.operator, f.id(), 7, bytes32(0xc7), 20, sig(2))
        .await
        .expect("checkpoint 7");
    f
}

#[tokio::test]
async fn publish_waits_for_the_close_and_the_final_checkpoint() {
    let f = closed_with_checkpoints().await;
    let closes = f.reg.closes_at;
    f.next_block_at(closes - 1);
    assert_reverted(
        f.registry
            .publish_result(
                &f.operator,
                f.id(),
                bytes32(0xd1),
                bytes32(0xd2),
                7,
                bytes32(0xc7),
            )
            .await,
        "publishResult",
        &format!("VotingNotClosed(time: {}, closesAt: {closes})", closes - 1),
    );
    f.next_block_at(closes);
    // Not the latest checkpoint, not its root, not checkpointed at all.
    for (size, root) in [(3, 0xc3), (7, 0xc3), (8, 0xc7), (7, 0x00)] {
        assert_reverted(
            f.registry
                .publish_result(
                    &f.operator,
                    f.id(),
                    bytes32(0xd1),
                    bytes32(0xd2),
                    size,
                    bytes32(root),
                )
                .await,
            "publishResult",
            &format!(
                "FinalHeadNotCheckpointed(finalSize: {size}, finalRoot: {})",
                hex32(&bytes32(root))
            ),
        );
    }
    let intruder = Signer::dev(2);
    assert_reverted(
        f.registry
            .publish_result(
                &intruder,
                f.id(),
                bytes32(0xd1),
                bytes32(0xd2),
                7,
                bytes32(0xc7),
            )
            .await,
        "publishResult",
        &format!(
            "NotOperator(caller: {}, operator: {})",
            intruder.address_hex(),
            f.operator.address_hex()
        ),
    );
    assert_reverted(
        f.registry
            .publish_result(
                &f.operator,
                election_id(9),
                bytes32(0xd1),
                bytes32(0xd2),
                7,
                bytes32(0xc7),
            )
            .await,
        "publishResult",
        &format!("UnknownElection(electionId: {})", hex32(&election_id(9))),
    );
    // The pinned timestamp still holds: the refusals mined nothing.
    let receipt = f
        .registry
        .publish_result(
            &f.operator,
            f.id(),
            bytes32(0xd1),
            bytes32(0xd2),
            7,
            bytes32(0xc7),
        )
        .await
        .expect("publish");
    assert_eq!(receipt.block_timestamp, closes);
    let result = f.registry.result(f.id()).await.expect("view");
    assert_eq!(
        result,
        Some(OnChainResult {
            tally_digest: bytes32(0xd1),
            record_digest: bytes32(0xd2),
            final_size: 7,
            final_root: bytes32(0xc7),
            published_at: closes,
            challenge_ends_at: closes + CHALLENGE,
            dispute_count: 0,
        })
    );
    assert!(
        f.registry
            .election(f.id())
            .await
            .expect("view")
            .expect("known")
            .result_published
    );
    let events = f.registry.events(f.id()).await.expect("events");
    let Some(last) = events.last() else {
        panic!("no events")
    };
    assert_eq!(last.transaction, receipt.hash);
    let Event::ResultPublished(p) = &last.event else {
        panic!("not ResultPublished: {:?}", last.event)
    };
    assert_eq!(p.electionId.0, f.id());
    assert_eq!(
        (
            p.tallyDigest.0,
            p.recordDigest.0,
            p.finalSize,
            p.finalRoot.0,
            p.challengeEndsAt
        ),
        (
            bytes32(0xd1),
            bytes32(0xd2),
            7,
            bytes32(0xc7),
            closes + CHALLENGE
        )
    );
}

#[tokio::test]
async fn publish_without_any_checkpoint_is_refused() {
    let f = created().await;
    f.next_block_at(f.reg.closes_at);
    assert_reverted(
        f.registry
            .publish_result(&f.operator, f.id(), bytes32(1), bytes32(2), 0, [0; 32])
            .await,
        "publishResult",
        &format!(
            "FinalHeadNotCheckpointed(finalSize: 0, finalRoot: {})",
            hex32(&[0; 32])
        ),
    );
}

#[tokio::test]
async fn nothing_is_overwritten_after_the_result() {
    let f = closed_with_checkpoints().await;
    f.next_block_at(f.reg.closes_at);
    f.registry
        .publish_result(
            &f.operator,
            f.id(),
            bytes32(0xd1),
            bytes32(0xd2),
            7,
            bytes32(0xc7),
        )
        .await
        .expect("publish");
    let published = format!("ResultAlreadyPublished(electionId: {})", hex32(&f.id()));
    assert_reverted(
        f.registry
            .publish_result(
                &f.operator,
                f.id(),
                bytes32(0xee),
                bytes32(0xee),
                7,
                bytes32(0xc7),
            )
            .await,
        "publishResult",
        &published,
    );
    assert_reverted(
        f.registry
            .checkpoint(&f.operator, f.id(), 8, bytes32(0xc8), 30, sig(3))
            .await,
        "checkpoint",
        &published,
    );
    let result = f
        .registry
        .result(f.id())
        .await
        .expect("view")
        .expect("published");
    assert_eq!(result.tally_digest, bytes32(0xd1));
    assert_eq!(
        f.registry.checkpoint_sizes(f.id()).await.expect("sizes"),
        vec![3, 7]
    );
}

#[tokio::test]
async fn disputes_are_open_to_anyone_during_the_challenge_window() {
    let f = closed_with_checkpoints().await;
    let challenger = Signer::dev(9);
    assert_reverted(
        f.registry.dispute(&challenger, f.id(), bytes32(0xef)).await,
        "dispute",
        &format!("NoResult(electionId: {})", hex32(&f.id())),
    );
    f.next_block_at(f.reg.closes_at);
    f.registry
        .publish_result(
            &f.operator,
            f.id(),
            bytes32(0xd1),
            bytes32(0xd2),
            7,
            bytes32(0xc7),
        )
        .await
        .expect("publish");
    let ends = f.reg.closes_at + CHALLENGE;
    assert_reverted(
        f.registry.dispute(&challenger, f.id(), [0; 32]).await,
        "dispute",
        "EmptyEvidence()",
    );
    let d0 = f
        .registry
        .dispute(&challenger, f.id(), bytes32(0xef))
        .await
        .expect("dispute");
    f.next_block_at(ends - 1);
    let d1 = f
        .registry
        .dispute(&f.operator, f.id(), bytes32(0xf0))
        .await
        .expect("dispute in the last second");
    f.next_block_at(ends);
    assert_reverted(
        f.registry.dispute(&challenger, f.id(), bytes32(0xf1)).await,
        "dispute",
        &format!("ChallengeWindowClosed(time: {ends}, challengeEndsAt: {ends})"),
    );
    f.next_block_at(ends + 86_400);
    assert_reverted(
        f.registry.dispute(&challenger, f.id(), bytes32(0xf1)).await,
        "dispute",
        &format!(
            "ChallengeWindowClosed(time: {}, challengeEndsAt: {ends})",
            ends + 86_400
        ),
    );
    assert_eq!(
        f.registry
            .result(f.id())
            .await
            .expect("view")
            .expect("published")
            .dispute_count,
        2
    );
    let events = f.registry.events(f.id()).await.expect("events");
    let disputes: Vec<_> = events
        .iter()
        .filter_map(|log| match &log.event {
            Event::DisputeFiled(d) => Some((log.transaction, d.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(disputes.len(), 2);
    for ((tx, d), (hash, index, who, digest)) in disputes.iter().zip([
        (d0.hash, 0u64, &challenger, 0xef),
        (d1.hash, 1, &f.operator, 0xf0),
    ]) {
        assert_eq!(*tx, hash);
        assert_eq!(d.electionId.0, f.id());
        assert_eq!(d.index, index);
        assert_eq!(d.challenger.into_array(), who.address());
        assert_eq!(d.evidenceDigest.0, bytes32(digest));
    }
}

#[tokio::test]
async fn views_of_an_unknown_election_are_empty() {
    let f = deployed().await;
    let id = election_id(42);
    assert_eq!(f.registry.election(id).await.expect("election"), None);
    assert_eq!(f.registry.result(id).await.expect("result"), None);
    assert_eq!(f.registry.checkpoint_root(id, 0).await.expect("root"), None);
    assert!(f
        .registry
        .checkpoint_sizes(id)
        .await
        .expect("sizes")
        .is_empty());
    assert!(f
        .registry
        .fallback_digests(id)
        .await
        .expect("digests")
        .is_empty());
    assert!(!f
        .registry
        .verify_inclusion(id, 1, 0, bytes32(1), &[])
        .await
        .expect("verify"));
    assert!(f.registry.events(id).await.expect("events").is_empty());
}

#[tokio::test]
async fn receipts_nonces_and_balances_follow_the_sends() {
    let f = created().await;
    let operator = f.operator.address();
    let nonce = f.chain.nonce(operator).await.expect("nonce");
    assert_eq!(nonce, 2, "deploy and create");
    let balance = f.chain.balance(operator).await.expect("balance");
    let receipt = f
        .registry
        .checkpoint(&f.operator, f.id(), 1, bytes32(1), 1, sig(1))
        .await
        .expect("checkpoint");
    assert_eq!(f.chain.nonce(operator).await.expect("nonce"), 3);
    assert_eq!(
        f.chain.balance(operator).await.expect("balance"),
        balance - u128::from(receipt.gas_used) * receipt.effective_gas_price
    );
    assert_eq!(
        f.chain.receipt(receipt.hash).await.expect("lookup"),
        Some(receipt.clone())
    );
    assert_eq!(f.chain.receipt([0xab; 32]).await.expect("lookup"), None);
    assert_eq!(
        f.chain.block_number().await.expect("block"),
        receipt.block_number
    );
    assert_eq!(f.chain.time().await.expect("time"), receipt.block_timestamp);
    // A refused send costs nothing and mines nothing.
    let _ = f
        .registry
        .checkpoint(&f.operator, f.id(), 1, bytes32(1), 1, sig(1))
        .await
        .expect_err("not growing");
    assert_eq!(f.chain.nonce(operator).await.expect("nonce"), 3);
    assert_eq!(
        f.chain.block_number().await.expect("block"),
        receipt.block_number
    );
}

#[tokio::test]
async fn an_unfunded_signer_cannot_send() {
    let f = created().await;
    f.open_voting();
    let poor = Signer::from_hex(&"11".repeat(32)).expect("key");
    match f.registry.cast_fallback(&poor, f.id(), b"x").await {
        Err(error @ ChainError::InsufficientFunds { .. }) => {
            assert!(!error.is_transient());
            let ChainError::InsufficientFunds {
                account, balance, ..
            } = error
            else {
                unreachable!()
            };
            assert_eq!(account, poor.address_hex());
            assert_eq!(balance, "0");
        }
        other => panic!("expected InsufficientFunds, got {other:?}"),
    }
}

#[tokio::test]
async fn time_moves_only_forward() {
    let f = created().await;
    let before = f.chain.time().await.expect("time");
    let after = f.chain.advance_time(3_600).await.expect("advance");
    assert!(after >= before + 3_600, "{after} < {before} + 3600");
    assert_eq!(f.chain.time().await.expect("time"), after);
    // Later blocks keep the offset.
    let r = f
        .registry
        .checkpoint(&f.operator, f.id(), 1, bytes32(1), 1, sig(1))
        .await
        .expect("checkpoint");
    assert!(r.block_timestamp > after);
    assert!(r.block_timestamp < after + 60);
    // The next block cannot be pinned into the past.
    assert!(matches!(
        f.embedded().set_next_block_timestamp(r.block_timestamp),
        Err(ChainError::InvalidInput { .. })
    ));
}
