#![allow(clippy::unwrap_used)]
//! The election service (`tabella serve`, spec/api.md), against both storage backends.
//!
//! Every test body is written once and run twice, by [`both_backends!`]: on SQLite (a file in a
//! temporary directory) and on a real PostgreSQL server (`tabella_tests::postgres`; skipped with
//! a loud note when PostgreSQL is missing, a failure in CI). Most tests drive the service in
//! process through its router; the concurrency, restart and life-cycle tests run it on a real
//! socket and use the blocking clients the officials', trustees' and voters' tools use.

mod service_support;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Barrier;
use std::time::Duration;

use axum::http::Method;
use serde_json::json;
use service_support::*;
use tabella_crypto::ballot::{ElectionContext, ElectionId, SpoiledBallot, TrackingCode};
use tabella_crypto::board::merkle::{self, ConsistencyProof, InclusionProof};
use tabella_crypto::board::receipt::{
    BoardSignature, EntryKind, Receipt, SignedTreeHead, TreeHead,
};
use tabella_crypto::ceremony::{CeremonyParams, TrusteeIdentity};
use tabella_crypto::credential::{
    CredentialCode, CredentialKey, CredentialReplacement, CredentialSecret,
};
use tabella_crypto::record::{
    trustee_keys_digest, Anchors, ChainEvidence, RecordFile, SignedElectionParameters,
    VerifyOptions,
};
use tabella_tally::api::{
    AnchorKind, AnchorState, AnchoringStatus, BoardEntry, BoardPage, ConsistencyAnswer,
    CredentialList, ElectionInfo, ElectionState, EntryStatus, InclusionAnswer, RecordEntry,
    Results, TrackAnswer,
};
use tabella_tally::client::ElectionClient;
use tabella_tally::messages::HttpStore;
use tabella_tally::service::anchor::contracts::{Chain, OnChainElection, Registry, Signer};
use tabella_tally::service::{self, AnchorConfig, Backend, ChainSpec, Limits};

both_backends! {
    async: [
        cast_answers_a_verifiable_receipt_and_a_resubmission_gets_the_same_bytes,
        oversized_ballot_is_too_large_and_changes_nothing,
        malformed_requests_are_refused_and_change_nothing,
        undecodable_ballot_is_malformed_ballot_and_changes_nothing,
        ballot_for_another_election_is_wrong_election_and_changes_nothing,
        ballots_outside_the_open_state_are_refused_and_change_nothing,
        ballot_of_a_credential_not_on_the_roll_is_not_eligible_and_changes_nothing,
        ballot_with_a_bad_signature_is_invalid_signature_and_changes_nothing,
        re_signed_ballot_with_a_bad_proof_is_invalid_proof_and_changes_nothing,
        spoiled_ballot_with_a_wrong_opening_is_invalid_opening_and_changes_nothing,
        spoiled_ballot_cannot_be_cast_and_cast_ballot_cannot_be_spoiled,
        admin_calls_without_the_right_token_are_unauthorized_and_change_nothing,
        routes_before_an_election_answer_no_election,
        revoting_supersedes_the_earlier_ballot_and_only_the_last_is_tallied,
        the_track_route_says_what_became_of_each_ballot,
        spoiled_ballot_is_published_with_its_opening_and_never_counted,
        failed_board_write_gives_no_receipt_and_the_ballot_is_accepted_after_recovery,
        health_readiness_and_metrics_report_the_service,
        every_documented_route_is_served_and_matches_the_router,
        board_pages_proofs_and_tree_heads_verify,
        election_parameters_are_fixed_and_signed_when_voting_opens,
    ],
    sync: [
        concurrent_casting_over_http_gives_distinct_consecutive_indices,
        restart_on_the_same_database_keeps_the_board_and_continues_it,
        full_life_cycle_over_http_with_the_admin_client,
        anchoring_lands_at_open_at_intervals_at_close_and_after_the_tally_and_matches_the_board,
        closing_before_the_chains_closing_time_is_refused_and_changes_nothing,
        a_restart_mid_queue_finds_what_was_sent_and_anchors_nothing_twice,
        a_chain_out_of_reach_is_retried_until_it_answers,
        fallback_ballots_cast_on_chain_are_taken_at_the_close_once_each_or_refused_with_a_reason,
        without_anchoring_the_anchoring_routes_say_so,
    ],
}

// ---------------------------------------------------------------------------------------------
// Helpers

fn hash(hex_text: &str) -> [u8; 32] {
    hex::decode(hex_text).unwrap().try_into().unwrap()
}

fn hashes(hex_texts: &[String]) -> Vec<[u8; 32]> {
    hex_texts.iter().map(|h| hash(h)).collect()
}

/// The inclusion proof the service gives for `code` in the tree of `size` entries.
async fn inclusion(service: &Service, code: &TrackingCode, size: u64) -> InclusionProof {
    let answer: InclusionAnswer = service
        .get(&format!("/v1/board/inclusion/{code}?size={size}"))
        .await
        .expect(200)
        .json();
    assert_eq!(answer.size, size);
    InclusionProof {
        index: answer.index,
        tree_size: answer.size,
        path: hashes(&answer.path),
    }
}

async fn head(service: &Service) -> SignedTreeHead {
    service.get("/v1/board/head").await.expect(200).json()
}

/// `ballot` with its signature replaced by `credential`'s signature over the manifest hash and
/// the (possibly changed) body, as a voter's device signs (crypto.md §8.3).
fn re_signed(ctx: &ElectionContext, mut bytes: Vec<u8>, credential: &CredentialSecret) -> Vec<u8> {
    let body_len = bytes.len() - 64;
    let mut message = ctx.manifest_hash().0.to_vec();
    message.extend_from_slice(&bytes[..body_len]);
    let signature = credential.sign(tabella_crypto::ballot::SIGNATURE_CONTEXT, &message);
    bytes[body_len..].copy_from_slice(&signature.to_bytes());
    bytes
}

// ---------------------------------------------------------------------------------------------
// 1. Casting

async fn cast_answers_a_verifiable_receipt_and_a_resubmission_gets_the_same_bytes(db: Db) {
    let e = Election::new(&db, 2, true).await;
    let key = &e.info.board_key;
    assert_eq!(*key, e.service.board_key);

    let (ballot, _) = e.ballot(0, 1);
    let first = e.cast(ballot.to_bytes()).await.expect(201);
    let receipt: Receipt = first.json();
    receipt.verify(key).unwrap();
    assert_eq!(receipt.tracking_code, ballot.tracking_code());
    assert_eq!((receipt.index, receipt.kind), (0, EntryKind::Cast));
    assert_eq!(receipt.tree_head.head.size, 1);
    assert_eq!(*receipt.election(), e.info.election_id);
    let proof = inclusion(&e.service, &receipt.tracking_code, 1).await;
    receipt.verify_inclusion(key, &proof).unwrap();

    let (other, _) = e.ballot(1, 2);
    let second: Receipt = e.cast(other.to_bytes()).await.expect(201).json();
    second.verify(key).unwrap();
    assert_eq!((second.index, second.tree_head.head.size), (1, 2));
    let proof = inclusion(&e.service, &second.tracking_code, 2).await;
    second.verify_inclusion(key, &proof).unwrap();
    // The first ballot is in the later tree too.
    let proof = inclusion(&e.service, &receipt.tracking_code, 2).await;
    merkle::verify_inclusion(
        &receipt.tracking_code.0,
        0,
        2,
        &proof,
        &second.tree_head.head.root,
    )
    .unwrap();

    // The same ballot again: 200 and the very same receipt, byte for byte; nothing changes.
    let before = e.service.snapshot().await;
    let again = e.cast(ballot.to_bytes()).await.expect(200);
    assert_eq!(
        again.body, first.body,
        "the re-submission's receipt is byte-identical"
    );
    assert_eq!(e.service.snapshot().await, before);
    assert_eq!(before.size, 2);
    assert_eq!(before.root, second.tree_head.head.root);
    assert_eq!(before.accepted_cast, 2);
    // The stored receipt is that document too.
    let stored = e
        .service
        .get(&format!("/v1/election/receipts/{}", receipt.tracking_code))
        .await
        .expect(200);
    assert_eq!(stored.body, first.body);
}

// ---------------------------------------------------------------------------------------------
// 2. Every refusal, each changing nothing

async fn oversized_ballot_is_too_large_and_changes_nothing(db: Db) {
    let e = Election::new(&db, 1, true).await;
    let limit = Limits::default().ballot_body;
    let (ballot, secrets) = e.ballot(0, 0);
    // An honest ballot is far below the limit.
    assert!(
        serde_json::to_vec(&cast_body(ballot.to_bytes()))
            .unwrap()
            .len()
            < limit / 8
    );
    let before = e.service.snapshot().await;
    let huge = format!(r#"{{"ballot":"{}"}}"#, "A".repeat(limit + 4)).into_bytes();
    for path in ["/v1/election/ballots", "/v1/election/spoiled"] {
        e.service
            .post_raw(path, huge.clone())
            .await
            .expect_error(413, "too_large");
    }
    assert_eq!(e.service.snapshot().await, before);
    assert_eq!(e.service.rejected("too_large").await, 2);
    // A ballot padded with JSON whitespace beyond the limit is refused the same way.
    let mut padded = serde_json::to_vec(&spoil_body(
        ballot.to_bytes(),
        &SpoiledBallot::reveal(secrets),
    ))
    .unwrap();
    padded.splice(1..1, std::iter::repeat_n(b' ', limit));
    e.service
        .post_raw("/v1/election/spoiled", padded)
        .await
        .expect_error(413, "too_large");
    assert_eq!(e.service.snapshot().await, before);
    assert_eq!(e.service.rejected("too_large").await, 3);
}

async fn malformed_requests_are_refused_and_change_nothing(db: Db) {
    let e = Election::new(&db, 1, true).await;
    let (ballot, secrets) = e.ballot(0, 2);
    let good = b64(ballot.to_bytes());
    let opening = serde_json::to_value(SpoiledBallot::reveal(secrets)).unwrap();
    let mut bad_nonce = opening.clone();
    bad_nonce["nonces"][0][0] = json!("zz");
    let mut upper_nonce = opening.clone();
    let upper = opening["nonces"][0][1].as_str().unwrap().to_uppercase();
    upper_nonce["nonces"][0][1] = json!(upper);
    let mut short_nonce = opening.clone();
    short_nonce["nonces"][0][2] = json!("00");
    let body = |value: serde_json::Value| serde_json::to_vec(&value).unwrap();

    let mut cast_cases: Vec<(&str, Vec<u8>)> = vec![
        ("not JSON", b"ballot please".to_vec()),
        ("empty body", Vec::new()),
        ("missing field", b"{}".to_vec()),
        ("mistyped field", br#"{"ballot": 7}"#.to_vec()),
        (
            "unknown field",
            body(json!({"ballot": good, "voter": "me"})),
        ),
        ("not base64", body(json!({"ballot": "this is not base64!"}))),
        (
            "base64 without padding",
            body(json!({"ballot": good.trim_end_matches('=')})),
        ),
        (
            "base64 with whitespace",
            body(json!({"ballot": format!(" {good}\n")})),
        ),
    ];
    // The URL-safe alphabet only differs where the base64 has a '+' or '/'.
    if good.contains(['+', '/']) {
        cast_cases.push((
            "URL-safe base64",
            body(json!({"ballot": good.replace('+', "-").replace('/', "_")})),
        ));
    }
    let spoil_cases: Vec<(&str, Vec<u8>)> = vec![
        ("no opening", body(json!({"ballot": good}))),
        (
            "opening not hex",
            body(json!({"ballot": good, "opening": bad_nonce})),
        ),
        (
            "opening in upper-case hex",
            body(json!({"ballot": good, "opening": upper_nonce})),
        ),
        (
            "opening scalar too short",
            body(json!({"ballot": good, "opening": short_nonce})),
        ),
        (
            "opening with an unknown field",
            body(json!({"ballot": good, "opening": {
                "choices": [[0, 0, 1]], "nonces": [], "blindings": [], "x": 1
            }})),
        ),
    ];
    let before = e.service.snapshot().await;
    let cases = cast_cases
        .iter()
        .map(|case| ("/v1/election/ballots", case))
        .chain(
            spoil_cases
                .iter()
                .map(|case| ("/v1/election/spoiled", case)),
        );
    let mut refused = 0;
    for (path, (what, body)) in cases {
        let answer = e.service.post_raw(path, body.clone()).await;
        assert_eq!(
            (answer.status.as_u16(), answer.error_code().as_deref()),
            (400, Some("malformed_request")),
            "{what}: {}",
            answer.text()
        );
        refused += 1;
    }
    assert_eq!(e.service.snapshot().await, before);
    assert_eq!(e.service.rejected("malformed_request").await, refused);
    // The ballot itself was fine all along.
    e.cast(ballot.to_bytes()).await.expect(201);
}

async fn undecodable_ballot_is_malformed_ballot_and_changes_nothing(db: Db) {
    let e = Election::new(&db, 1, true).await;
    let (ballot, _) = e.ballot(0, 0);
    let bytes = ballot.to_bytes().to_vec();
    let len = bytes.len();
    let truncated = bytes[..len - 1].to_vec();
    let mut extended = bytes.clone();
    extended.push(0);
    let mut version = bytes.clone();
    version[0] = 2;
    // Not canonical curve points or scalars (crypto.md §10.1).
    let mut bad_credential = bytes.clone();
    bad_credential[33..65].copy_from_slice(&[0xff; 32]);
    let mut bad_ciphertext = bytes.clone();
    bad_ciphertext[65..97].copy_from_slice(&[0xff; 32]);
    let mut bad_signature_scalar = bytes.clone();
    bad_signature_scalar[len - 32..].copy_from_slice(&[0xff; 32]);
    let cases = [
        ("truncated", truncated),
        ("one byte too many", extended),
        ("empty", Vec::new()),
        ("another version", version),
        ("credential key not a point", bad_credential),
        ("ciphertext not a point", bad_ciphertext),
        ("signature scalar not canonical", bad_signature_scalar),
    ];
    let before = e.service.snapshot().await;
    for (what, bytes) in &cases {
        let answer = e.cast(bytes).await;
        assert_eq!(
            (answer.status.as_u16(), answer.error_code().as_deref()),
            (400, Some("malformed_ballot")),
            "{what}: {}",
            answer.text()
        );
    }
    let (spoiled, secrets) = e.ballot(0, 1);
    let opening = SpoiledBallot::reveal(secrets);
    e.spoil(&spoiled.to_bytes()[1..], &opening)
        .await
        .expect_error(400, "malformed_ballot");
    assert_eq!(e.service.snapshot().await, before);
    assert_eq!(
        e.service.rejected("malformed_ballot").await,
        cases.len() as u64 + 1
    );
}

async fn ballot_for_another_election_is_wrong_election_and_changes_nothing(db: Db) {
    let e = Election::new(&db, 1, true).await;
    // Same manifest, same joint key, same credential: only the election id differs.
    let mut other_id = [0u8; 32];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut other_id);
    let other = ElectionContext::new(ElectionId(other_id), manifest(), *e.ctx.joint_key()).unwrap();
    let (ballot, secrets) = encrypt(&other, e.voters.secret(0), 0);
    let before = e.service.snapshot().await;
    e.cast(ballot.to_bytes())
        .await
        .expect_error(400, "wrong_election");
    e.spoil(ballot.to_bytes(), &SpoiledBallot::reveal(secrets))
        .await
        .expect_error(400, "wrong_election");
    assert_eq!(e.service.snapshot().await, before);
    assert_eq!(e.service.rejected("wrong_election").await, 2);
}

async fn ballots_outside_the_open_state_are_refused_and_change_nothing(db: Db) {
    // No election yet.
    {
        let service = Service::start(&db).await;
        let body = json!({"ballot": b64(&[1u8; 64])});
        service
            .post_json("/v1/election/ballots", &body)
            .await
            .expect_error(404, "no_election");
        service
            .get("/v1/board/head")
            .await
            .expect_error(404, "no_election");
    }
    // Set up, ceremony done, roll imported, not open.
    let e = Election::new(&db, 2, false).await;
    assert_eq!(e.info.state, ElectionState::Setup);
    let (ballot, _) = e.ballot(0, 0);
    let (spoiled, secrets) = e.ballot(1, 1);
    let opening = SpoiledBallot::reveal(secrets);
    let before = e.service.snapshot().await;
    e.cast(ballot.to_bytes())
        .await
        .expect_error(409, "election_not_open");
    e.spoil(spoiled.to_bytes(), &opening)
        .await
        .expect_error(409, "election_not_open");
    assert_eq!(e.service.snapshot().await, before);
    assert_eq!(before.size, 0);

    // Open: the same ballots are fine.
    e.service
        .admin_post("/v1/election/open", "application/json", Vec::new())
        .await
        .expect(200);
    e.cast(ballot.to_bytes()).await.expect(201);

    // Closed: nothing more, not even the same ballot again.
    e.service
        .admin_post("/v1/election/close", "application/json", Vec::new())
        .await
        .expect(200);
    let closed = e.service.snapshot().await;
    let (late, _) = e.ballot(1, 2);
    e.cast(late.to_bytes())
        .await
        .expect_error(409, "election_not_open");
    e.spoil(spoiled.to_bytes(), &opening)
        .await
        .expect_error(409, "election_not_open");
    e.cast(ballot.to_bytes())
        .await
        .expect_error(409, "election_not_open");
    assert_eq!(e.service.snapshot().await, closed);
    assert_eq!(closed.size, 1);
    assert_eq!(e.service.rejected("election_not_open").await, 5);
}

async fn ballot_of_a_credential_not_on_the_roll_is_not_eligible_and_changes_nothing(db: Db) {
    let e = Election::new(&db, 1, true).await;
    let stranger = CredentialSecret::derive(
        &CredentialCode::generate(&mut rand::rngs::OsRng),
        &e.info.election_id.0,
    );
    let (ballot, secrets) = encrypt(&e.ctx, &stranger, 0);
    let before = e.service.snapshot().await;
    e.cast(ballot.to_bytes())
        .await
        .expect_error(403, "credential_not_eligible");
    e.spoil(ballot.to_bytes(), &SpoiledBallot::reveal(secrets))
        .await
        .expect_error(403, "credential_not_eligible");
    assert_eq!(e.service.snapshot().await, before);
    assert_eq!(e.service.rejected("credential_not_eligible").await, 2);
}

async fn ballot_with_a_bad_signature_is_invalid_signature_and_changes_nothing(db: Db) {
    let e = Election::new(&db, 2, true).await;
    let (ballot, secrets) = e.ballot(0, 1);
    let bytes = ballot.to_bytes().to_vec();
    let len = bytes.len();
    // The signature's scalar changed by one: still canonical, no longer valid.
    let mut flipped = bytes.clone();
    if flipped[len - 32] == 0 {
        flipped[len - 32] = 1;
    } else {
        flipped[len - 32] -= 1;
    }
    // A valid signature on the same message, by another voter's key.
    let by_other = re_signed(&e.ctx, bytes.clone(), e.voters.secret(1));
    let opening = SpoiledBallot::reveal(secrets);
    let before = e.service.snapshot().await;
    for tampered in [&flipped, &by_other] {
        e.cast(tampered)
            .await
            .expect_error(422, "invalid_signature");
        e.spoil(tampered, &opening)
            .await
            .expect_error(422, "invalid_signature");
    }
    assert_eq!(e.service.snapshot().await, before);
    assert_eq!(e.service.rejected("invalid_signature").await, 4);
    e.cast(&bytes).await.expect(201);
}

async fn re_signed_ballot_with_a_bad_proof_is_invalid_proof_and_changes_nothing(db: Db) {
    let e = Election::new(&db, 1, true).await;
    let (ballot, secrets) = e.ballot(0, 2);
    let mut bytes = ballot.to_bytes().to_vec();
    // The 32 bytes before the signature are the last response scalar of the contest's proof
    // (one plurality contest): make it 1, a canonical scalar, and sign the changed body with
    // the voter's own key, so that only the proof is wrong.
    let end = bytes.len() - 64;
    let mut one = [0u8; 32];
    one[0] = 1;
    assert_ne!(bytes[end - 32..end], one);
    bytes[end - 32..end].copy_from_slice(&one);
    let bytes = re_signed(&e.ctx, bytes, e.voters.secret(0));
    let decoded = tabella_crypto::ballot::Ballot::from_bytes(&bytes, &e.ctx).unwrap();
    let local = e
        .ctx
        .verify_ballot(&decoded, &mut rand::rngs::OsRng)
        .unwrap_err();
    assert!(
        matches!(
            local,
            tabella_crypto::ballot::BallotError::ContestProofRejected { .. }
        ),
        "{local}"
    );
    let before = e.service.snapshot().await;
    e.cast(&bytes).await.expect_error(422, "invalid_proof");
    e.spoil(&bytes, &SpoiledBallot::reveal(secrets))
        .await
        .expect_error(422, "invalid_proof");
    assert_eq!(e.service.snapshot().await, before);
    assert_eq!(e.service.rejected("invalid_proof").await, 2);
}

async fn spoiled_ballot_with_a_wrong_opening_is_invalid_opening_and_changes_nothing(db: Db) {
    let e = Election::new(&db, 1, true).await;
    let (ballot, secrets) = e.ballot(0, 0);
    let (_, other_secrets) = e.ballot(0, 0);
    let opening = SpoiledBallot::reveal(secrets);
    let another_ballots_opening = SpoiledBallot::reveal(other_secrets);
    let mut other_choice = opening.clone();
    other_choice.choices = choice(1);
    let mut breaks_the_rules = opening.clone();
    breaks_the_rules.choices = vec![vec![1, 1, 0]];
    let mut wrong_shape = opening.clone();
    wrong_shape.nonces[0].pop();
    let before = e.service.snapshot().await;
    for wrong in [
        &another_ballots_opening,
        &other_choice,
        &breaks_the_rules,
        &wrong_shape,
    ] {
        e.spoil(ballot.to_bytes(), wrong)
            .await
            .expect_error(422, "invalid_opening");
    }
    assert_eq!(e.service.snapshot().await, before);
    assert_eq!(e.service.rejected("invalid_opening").await, 4);
    let receipt: Receipt = e
        .spoil(ballot.to_bytes(), &opening)
        .await
        .expect(201)
        .json();
    assert_eq!(receipt.kind, EntryKind::Spoiled);
}

async fn spoiled_ballot_cannot_be_cast_and_cast_ballot_cannot_be_spoiled(db: Db) {
    let e = Election::new(&db, 1, true).await;
    let (spoiled, secrets) = e.ballot(0, 0);
    let opening = SpoiledBallot::reveal(secrets);
    e.spoil(spoiled.to_bytes(), &opening).await.expect(201);
    let before = e.service.snapshot().await;
    e.cast(spoiled.to_bytes())
        .await
        .expect_error(409, "ballot_spoiled");
    assert_eq!(e.service.snapshot().await, before);
    assert_eq!(e.service.rejected("ballot_spoiled").await, 1);

    let (cast, secrets) = e.ballot(0, 1);
    e.cast(cast.to_bytes()).await.expect(201);
    let before = e.service.snapshot().await;
    e.spoil(cast.to_bytes(), &SpoiledBallot::reveal(secrets))
        .await
        .expect_error(409, "ballot_already_cast");
    assert_eq!(e.service.snapshot().await, before);
    assert_eq!(e.service.rejected("ballot_already_cast").await, 1);
    assert_eq!(
        (before.size, before.counts.spoiled, before.counts.counted),
        (2, 1, 1)
    );
}

async fn admin_calls_without_the_right_token_are_unauthorized_and_change_nothing(db: Db) {
    let service = Service::start(&db).await;
    let wrong = [
        None,
        Some("Bearer not-the-token".to_owned()),
        Some(format!("Bearer {TOKEN}x")),
        Some(format!("Basic {TOKEN}")),
        Some(TOKEN.to_owned()),
    ];
    let refused_with =
        |method: Method, path: &'static str, content_type: &'static str, body: Vec<u8>| {
            let service = &service;
            let wrong = &wrong;
            async move {
                for authorization in wrong {
                    let mut headers = vec![("content-type", content_type)];
                    if let Some(value) = authorization {
                        headers.push(("authorization", value.as_str()));
                    }
                    let answer = service
                        .request(method.clone(), path, &headers, body.clone())
                        .await;
                    answer.expect_error(401, "unauthorized");
                    assert_eq!(
                        answer.headers.get("www-authenticate").unwrap(),
                        "Bearer",
                        "{path}"
                    );
                }
            }
        };
    let refused = |path: &'static str, content_type: &'static str, body: Vec<u8>| {
        refused_with(Method::POST, path, content_type, body)
    };
    let create = serde_json::to_vec(&json!({ "manifest": manifest() })).unwrap();
    refused("/v1/election", "application/json", create.clone()).await;
    service
        .get("/v1/election")
        .await
        .expect_error(404, "no_election");
    let info: ElectionInfo = service
        .admin_post("/v1/election", "application/json", create)
        .await
        .expect(201)
        .json();

    let (_, upload) = registrar(info.election_id, 2);
    refused_with(
        Method::PUT,
        "/v1/election/credentials",
        "application/json",
        serde_json::to_vec(&upload).unwrap(),
    )
    .await;
    let (_, replaced) = registrar(info.election_id, 1);
    let replacement = CredentialReplacement::new(
        info.election_id,
        &upload.credentials,
        CredentialKey::from_bytes(&upload.credentials[0]).unwrap(),
        CredentialKey::from_bytes(&replaced.credentials[0]).unwrap(),
    )
    .unwrap();
    refused(
        "/v1/election/credentials/replacements",
        "application/json",
        serde_json::to_vec(&replacement).unwrap(),
    )
    .await;
    let list: CredentialList = service
        .get("/v1/election/credentials")
        .await
        .expect(200)
        .json();
    assert!(list.credentials.is_empty());
    assert_eq!(service.info().await.voters, None);

    let trustees = Trustees::new(info.election_id, 1, 1);
    for authorization in &wrong {
        let mut headers = vec![("content-type", "application/json")];
        if let Some(value) = authorization {
            headers.push(("authorization", value.as_str()));
        }
        service
            .request(
                Method::PUT,
                "/v1/ceremony/messages/ceremony.json",
                &headers,
                serde_json::to_vec(&trustees.params).unwrap(),
            )
            .await
            .expect_error(401, "unauthorized");
    }
    let names: serde_json::Value = service
        .get("/v1/ceremony/messages")
        .await
        .expect(200)
        .json();
    assert_eq!(names, json!({"messages": []}));
    assert_eq!(service.info().await.ceremony_id, None);

    // Set up properly, then the life-cycle steps.
    service
        .put_message("ceremony.json", &trustees.params, true)
        .await
        .expect(201);
    service
        .put_message("dealer-1.json", &trustees.dealers[0], false)
        .await
        .expect(201);
    service
        .put_message("check-1.json", &trustees.checks[0], false)
        .await
        .expect(201);
    service
        .admin_put_json("/v1/election/credentials", &upload)
        .await
        .expect(201);
    refused("/v1/election/open", "application/json", Vec::new()).await;
    assert_eq!(service.info().await.state, ElectionState::Setup);
    service
        .admin_post("/v1/election/open", "application/json", Vec::new())
        .await
        .expect(200);
    refused("/v1/election/close", "application/json", Vec::new()).await;
    refused("/v1/election/tally", "application/json", Vec::new()).await;
    assert_eq!(service.info().await.state, ElectionState::Open);
    service
        .admin_post("/v1/election/close", "application/json", Vec::new())
        .await
        .expect(200);
    refused("/v1/election/tally", "application/json", Vec::new()).await;
    assert_eq!(service.info().await.state, ElectionState::Closed);
}

async fn routes_before_an_election_answer_no_election(db: Db) {
    let service = Service::start(&db).await;
    let code = "ab".repeat(32);
    for path in [
        "/v1/election".to_owned(),
        "/v1/election/results".to_owned(),
        "/v1/election/parameters".to_owned(),
        format!("/v1/election/receipts/{code}"),
        "/v1/board/head".to_owned(),
        "/v1/board/entries".to_owned(),
        format!("/v1/board/inclusion/{code}"),
        "/v1/board/consistency?from=0".to_owned(),
        "/v1/record/ballots.jsonl".to_owned(),
    ] {
        let answer = service.get(&path).await;
        assert_eq!(
            (answer.status.as_u16(), answer.error_code().as_deref()),
            (404, Some("no_election")),
            "GET {path}: {}",
            answer.text()
        );
    }
    for path in [
        "/v1/election/open",
        "/v1/election/close",
        "/v1/election/tally",
    ] {
        service
            .admin_post(path, "application/json", Vec::new())
            .await
            .expect_error(404, "no_election");
    }
    let (_, list) = registrar(ElectionId([1; 32]), 1);
    service
        .admin_put_json("/v1/election/credentials", &list)
        .await
        .expect_error(404, "no_election");
    let replacement = CredentialReplacement::new(
        ElectionId([1; 32]),
        &list.credentials,
        CredentialKey::from_bytes(&list.credentials[0]).unwrap(),
        CredentialKey::from_bytes(&registrar(ElectionId([1; 32]), 1).1.credentials[0]).unwrap(),
    )
    .unwrap();
    service
        .admin_post(
            "/v1/election/credentials/replacements",
            "application/json",
            serde_json::to_vec(&replacement).unwrap(),
        )
        .await
        .expect_error(404, "no_election");
    // Operations and the ceremony store answer without an election.
    service.get("/healthz").await.expect(200);
    service.get("/readyz").await.expect(200);
    service.get("/v1/ceremony/messages").await.expect(200);
}

// ---------------------------------------------------------------------------------------------
// 3. Revoting, 4. spoiling

async fn revoting_supersedes_the_earlier_ballot_and_only_the_last_is_tallied(db: Db) {
    let e = Election::new(&db, 2, true).await;
    let (first, _) = e.ballot(0, 0);
    let (second, _) = e.ballot(0, 1);
    let (other, _) = e.ballot(1, 1);
    let first_receipt = e.cast(first.to_bytes()).await.expect(201);
    e.cast(second.to_bytes()).await.expect(201);
    e.cast(other.to_bytes()).await.expect(201);

    let statuses = |entries: Vec<BoardEntry>| {
        entries
            .into_iter()
            .map(|entry| (entry.tracking_code, entry.kind, entry.status))
            .collect::<Vec<_>>()
    };
    let expected = vec![
        (
            first.tracking_code(),
            EntryKind::Cast,
            EntryStatus::Superseded,
        ),
        (
            second.tracking_code(),
            EntryKind::Cast,
            EntryStatus::Counted,
        ),
        (other.tracking_code(), EntryKind::Cast, EntryStatus::Counted),
    ];
    assert_eq!(statuses(e.service.all_entries().await), expected);
    let counts = e.service.info().await.board;
    assert_eq!(
        (
            counts.size,
            counts.counted,
            counts.superseded,
            counts.spoiled
        ),
        (3, 2, 1, 0)
    );

    // The superseded ballot sent again stays superseded, with its receipt.
    let again = e.cast(first.to_bytes()).await.expect(200);
    assert_eq!(again.body, first_receipt.body);
    assert_eq!(statuses(e.service.all_entries().await), expected);

    let results = e.close_and_tally().await;
    assert_eq!(totals(&results), vec![vec![0, 2, 0]]);
    assert_eq!(results.ballots_counted, 2);
    assert_eq!(results.board_size, 3);
    assert_eq!(
        (results.combined.clone(), results.absent.clone()),
        (vec![1, 2], vec![])
    );
    assert_eq!(
        results.board_root,
        hex::encode(head(&e.service).await.head.root)
    );
    let published: Results = e
        .service
        .get("/v1/election/results")
        .await
        .expect(200)
        .json();
    assert_eq!(published, results);
}

/// API-TRACK-1: counted, replaced (by the credential's last ballot, not an intermediate one),
/// challenged, unknown.
async fn the_track_route_says_what_became_of_each_ballot(db: Db) {
    let e = Election::new(&db, 2, true).await;
    let track = |code: &TrackingCode| {
        let service = &e.service;
        let path = format!("/v1/board/track/{code}");
        async move { service.get(&path).await }
    };
    let (first, _) = e.ballot(0, 0);
    let (second, _) = e.ballot(0, 1);
    let (third, _) = e.ballot(0, 2);
    let (challenged, secrets) = e.ballot(1, 0);
    e.cast(first.to_bytes()).await.expect(201);
    let counted: TrackAnswer = track(&first.tracking_code()).await.expect(200).json();
    assert_eq!(
        (counted.state, counted.size, counted.entry.index),
        (ElectionState::Open, 1, 0)
    );
    assert_eq!(counted.entry.status, EntryStatus::Counted);
    assert_eq!(counted.entry.tracking_code, first.tracking_code());
    assert_eq!(counted.entry.ballot, b64(first.to_bytes()));
    assert!(counted.replaced_by.is_none());

    e.cast(second.to_bytes()).await.expect(201);
    e.spoil(challenged.to_bytes(), &SpoiledBallot::reveal(secrets))
        .await
        .expect(201);
    e.cast(third.to_bytes()).await.expect(201);
    for replaced in [&first, &second] {
        let answer: TrackAnswer = track(&replaced.tracking_code()).await.expect(200).json();
        assert_eq!(answer.entry.status, EntryStatus::Superseded);
        let by = answer.replaced_by.expect("the ballot that replaced it");
        assert_eq!(
            (by.index, by.tracking_code, by.kind, by.status),
            (
                3,
                third.tracking_code(),
                EntryKind::Cast,
                EntryStatus::Counted
            )
        );
        assert_eq!(by.credential, answer.entry.credential);
        assert!(by.received_at >= answer.entry.received_at);
        assert_eq!(answer.size, 4);
    }
    let spoiled: TrackAnswer = track(&challenged.tracking_code()).await.expect(200).json();
    assert_eq!(
        (
            spoiled.entry.kind,
            spoiled.entry.status,
            spoiled.entry.index
        ),
        (EntryKind::Spoiled, EntryStatus::Spoiled, 2)
    );
    assert!(spoiled.entry.opening.is_some());
    assert!(spoiled.replaced_by.is_none());
    // No `replaced_by` key at all unless replaced.
    let raw: serde_json::Value = track(&third.tracking_code()).await.expect(200).json();
    assert!(raw.get("replaced_by").is_none(), "{raw}");
    assert_eq!(raw["entry"]["status"], "counted");

    // API-TRACK-2: a credential's last cast ballot; none for a challenge alone.
    let last: BoardEntry = e
        .service
        .get(&format!(
            "/v1/board/last-ballot/{}",
            counted.entry.credential
        ))
        .await
        .expect(200)
        .json();
    assert_eq!(
        (last.index, last.tracking_code, last.status),
        (3, third.tracking_code(), EntryStatus::Counted)
    );
    e.service
        .get(&format!(
            "/v1/board/last-ballot/{}",
            spoiled.entry.credential
        ))
        .await
        .expect_error(404, "not_found");
    e.service
        .get("/v1/board/last-ballot/00ff")
        .await
        .expect_error(400, "bad_request");

    track(&TrackingCode([7; 32]))
        .await
        .expect_error(404, "not_found");
    e.service
        .get("/v1/board/track/ABCD")
        .await
        .expect_error(400, "bad_request");

    e.close_and_tally().await;
    let after: TrackAnswer = track(&first.tracking_code()).await.expect(200).json();
    assert_eq!(after.state, ElectionState::Tallied);
    assert_eq!(after.entry.status, EntryStatus::Superseded);
    assert_eq!(after.replaced_by.map(|b| b.index), Some(3));
}

async fn spoiled_ballot_is_published_with_its_opening_and_never_counted(db: Db) {
    let e = Election::new(&db, 2, true).await;
    let (challenged, secrets) = e.ballot(0, 0);
    let opening = SpoiledBallot::reveal(secrets);
    let first = e.spoil(challenged.to_bytes(), &opening).await.expect(201);
    let receipt: Receipt = first.json();
    receipt.verify(&e.info.board_key).unwrap();
    assert_eq!(
        (receipt.index, receipt.kind, receipt.tracking_code),
        (0, EntryKind::Spoiled, challenged.tracking_code())
    );
    // Spoiled again: the same receipt.
    let again = e.spoil(challenged.to_bytes(), &opening).await.expect(200);
    assert_eq!(again.body, first.body);

    let (cast, _) = e.ballot(0, 2);
    e.cast(cast.to_bytes()).await.expect(201);
    let (other, other_secrets) = e.ballot(1, 1);
    let other_opening = SpoiledBallot::reveal(other_secrets);
    e.spoil(other.to_bytes(), &other_opening).await.expect(201);

    let entries = e.service.all_entries().await;
    assert_eq!(entries.len(), 3);
    assert_eq!(
        (
            entries[0].kind,
            entries[0].status,
            entries[0].opening.as_ref()
        ),
        (EntryKind::Spoiled, EntryStatus::Spoiled, Some(&opening))
    );
    assert_eq!(entries[0].ballot, b64(challenged.to_bytes()));
    assert_eq!(
        (
            entries[1].kind,
            entries[1].status,
            entries[1].opening.as_ref()
        ),
        (EntryKind::Cast, EntryStatus::Counted, None)
    );
    assert_eq!(
        (entries[2].status, entries[2].opening.as_ref()),
        (EntryStatus::Spoiled, Some(&other_opening))
    );
    // A cast entry has no `opening` key at all (API-JSON-4).
    let page: serde_json::Value = e
        .service
        .get("/v1/board/entries?start=1&limit=1")
        .await
        .expect(200)
        .json();
    assert!(page["entries"][0].get("opening").is_none(), "{page}");
    let snapshot = e.service.snapshot().await;
    assert_eq!((snapshot.accepted_cast, snapshot.accepted_spoiled), (1, 2));
    let counts = snapshot.counts;
    assert_eq!(
        (
            counts.size,
            counts.counted,
            counts.superseded,
            counts.spoiled
        ),
        (3, 1, 0, 2)
    );

    // Anyone can check the published opening against the published ballot.
    let published =
        tabella_crypto::ballot::Ballot::from_base64(&entries[0].ballot, &e.ctx).unwrap();
    e.ctx
        .verify_spoiled(
            &published,
            entries[0].opening.as_ref().unwrap(),
            &mut rand::rngs::OsRng,
        )
        .unwrap();

    let results = e.close_and_tally().await;
    assert_eq!(totals(&results), vec![vec![0, 0, 1]]);
    assert_eq!((results.ballots_counted, results.board_size), (1, 3));
}

// ---------------------------------------------------------------------------------------------
// 7. Storage failure

async fn failed_board_write_gives_no_receipt_and_the_ballot_is_accepted_after_recovery(db: Db) {
    let e = Election::new(&db, 2, true).await;
    let (first, _) = e.ballot(0, 0);
    e.cast(first.to_bytes()).await.expect(201);

    // Every insert into the board now fails, as a full disk would.
    let (install, remove): (&[&str], &str) = match db.backend {
        Backend::Sqlite => (
            &["CREATE TRIGGER fail_board BEFORE INSERT ON board \
               BEGIN SELECT RAISE(ABORT, 'disk full'); END"],
            "DROP TRIGGER fail_board",
        ),
        Backend::Postgres => (
            &[
                "CREATE FUNCTION fail_board() RETURNS trigger LANGUAGE plpgsql AS \
                 $$ BEGIN RAISE EXCEPTION 'disk full'; END $$",
                "CREATE TRIGGER fail_board BEFORE INSERT ON board FOR EACH ROW \
                 EXECUTE FUNCTION fail_board()",
            ],
            "DROP TRIGGER fail_board ON board",
        ),
    };
    for sql in install {
        e.service.state.db.execute_statement(sql).await.unwrap();
    }
    let before = e.service.snapshot().await;
    let (ballot, _) = e.ballot(1, 1);
    let (spoiled, secrets) = e.ballot(1, 2);
    let opening = SpoiledBallot::reveal(secrets);
    for _ in 0..2 {
        let answer = e.cast(ballot.to_bytes()).await;
        answer.expect_error(503, "storage_unavailable");
        assert!(serde_json::from_slice::<Receipt>(&answer.body).is_err());
        e.spoil(spoiled.to_bytes(), &opening)
            .await
            .expect_error(503, "storage_unavailable");
        assert_eq!(e.service.snapshot().await, before);
    }
    for code in [ballot.tracking_code(), spoiled.tracking_code()] {
        e.service
            .get(&format!("/v1/election/receipts/{code}"))
            .await
            .expect_error(404, "not_found");
        e.service
            .get(&format!("/v1/board/inclusion/{code}"))
            .await
            .expect_error(404, "not_found");
    }
    assert_eq!(e.service.rejected("storage_unavailable").await, 4);

    // The disk has room again: the same ballot gets the index the failed one would have had.
    e.service.state.db.execute_statement(remove).await.unwrap();
    let receipt: Receipt = e.cast(ballot.to_bytes()).await.expect(201).json();
    assert_eq!(receipt.index, before.size);
    receipt.verify(&e.info.board_key).unwrap();
    let proof = inclusion(&e.service, &receipt.tracking_code, receipt.index + 1).await;
    receipt.verify_inclusion(&e.info.board_key, &proof).unwrap();
    let spoil_receipt: Receipt = e
        .spoil(spoiled.to_bytes(), &opening)
        .await
        .expect(201)
        .json();
    assert_eq!(spoil_receipt.index, before.size + 1);
    // Revoting still supersedes: the failed writes left no counted row behind.
    let (revote, _) = e.ballot(1, 0);
    e.cast(revote.to_bytes()).await.expect(201);
    let statuses: Vec<EntryStatus> = e
        .service
        .all_entries()
        .await
        .iter()
        .map(|entry| entry.status)
        .collect();
    assert_eq!(
        statuses,
        [
            EntryStatus::Counted,
            EntryStatus::Superseded,
            EntryStatus::Spoiled,
            EntryStatus::Counted
        ]
    );
    let ready = e.service.get("/readyz").await.expect(200);
    assert_eq!(ready.text(), "ready");
    let results = e.close_and_tally().await;
    assert_eq!(totals(&results), vec![vec![2, 0, 0]]);
}

// ---------------------------------------------------------------------------------------------
// 9. Operations

async fn health_readiness_and_metrics_report_the_service(db: Db) {
    let e = Election::new(&db, 2, true).await;
    assert_eq!(e.service.get("/healthz").await.expect(200).text(), "ok");
    assert_eq!(e.service.get("/readyz").await.expect(200).text(), "ready");
    for i in 0..2 {
        let (ballot, _) = e.ballot(i, i);
        e.cast(ballot.to_bytes()).await.expect(201);
    }
    let stranger = CredentialSecret::derive(
        &CredentialCode::generate(&mut rand::rngs::OsRng),
        &e.info.election_id.0,
    );
    let (refused, _) = encrypt(&e.ctx, &stranger, 0);
    e.cast(refused.to_bytes())
        .await
        .expect_error(403, "credential_not_eligible");

    let text = e.service.metrics().await;
    let value = |series: &str| metric(&text, series);
    assert_eq!(
        value(r#"tabella_ballots_accepted_total{kind="cast"}"#),
        2,
        "{text}"
    );
    assert_eq!(
        value(r#"tabella_ballots_accepted_total{kind="spoiled"}"#),
        0
    );
    assert_eq!(
        value(r#"tabella_ballots_rejected_total{reason="credential_not_eligible"}"#),
        1,
        "{text}"
    );
    assert_eq!(value("tabella_board_size"), 2, "{text}");
    // The refused ballot was never verified (eligibility comes first).
    assert_eq!(
        value("tabella_ballot_verification_seconds_count"),
        2,
        "{text}"
    );
    let ballots = r#"method="POST",route="/v1/election/ballots""#;
    assert_eq!(
        value(&format!(
            r#"tabella_http_requests_total{{{ballots},status="201"}}"#
        )),
        2,
        "{text}"
    );
    assert_eq!(
        value(&format!(
            r#"tabella_http_requests_total{{{ballots},status="403"}}"#
        )),
        1,
        "{text}"
    );
    assert_eq!(
        value(&format!(
            r#"tabella_http_request_duration_seconds_count{{{ballots},status="201"}}"#
        )),
        2,
        "{text}"
    );
    assert!(
        text.lines().any(
            |line| line.starts_with("tabella_http_request_duration_seconds_bucket{")
                && line.contains(r#"route="/v1/election/ballots""#)
        ),
        "{text}"
    );
    // The route label is the template, never the raw path.
    let code = "cd".repeat(32);
    e.service
        .get(&format!("/v1/election/receipts/{code}"))
        .await
        .expect_error(404, "not_found");
    let text = e.service.metrics().await;
    assert!(!text.contains(&code));
    assert_eq!(
        metric(
            &text,
            r#"tabella_http_requests_total{method="GET",route="/v1/election/receipts/{tracking_code}",status="404"}"#
        ),
        1,
        "{text}"
    );

    match db.backend {
        Backend::Sqlite => {
            let db = &e.service.state.db;
            assert_eq!(db.sqlite_pragma("journal_mode").await.unwrap(), "wal");
            assert_eq!(db.sqlite_pragma("synchronous").await.unwrap(), "2");
        }
        Backend::Postgres => assert_eq!(e.service.state.db.backend(), Backend::Postgres),
    }
}

// ---------------------------------------------------------------------------------------------
// 10. OpenAPI

/// Every route `service::app()` registers (tally/src/service/routes.rs, plus the ceremony
/// routes it merges from tally/src/messages/server.rs), kept here by hand: a route added to the
/// router must be added here and to spec/openapi.json, or this test fails.
const REGISTERED_ROUTES: &[(&str, &str)] = &[
    ("GET", "/"),
    ("GET", "/booth"),
    ("GET", "/tracker"),
    ("GET", "/results"),
    ("GET", "/glossary"),
    ("GET", "/observer"),
    ("GET", "/officials"),
    ("GET", "/bench"),
    ("GET", "/index.html"),
    ("GET", "/booth.json"),
    ("GET", "/app/{path}"),
    ("GET", "/healthz"),
    ("GET", "/readyz"),
    ("GET", "/metrics"),
    ("GET", "/v1/openapi.json"),
    ("GET", "/v1/election"),
    ("POST", "/v1/election"),
    ("GET", "/v1/election/credentials"),
    ("PUT", "/v1/election/credentials"),
    ("POST", "/v1/election/credentials/replacements"),
    ("GET", "/v1/election/parameters"),
    ("POST", "/v1/election/open"),
    ("POST", "/v1/election/close"),
    ("POST", "/v1/election/tally"),
    ("GET", "/v1/election/results"),
    ("POST", "/v1/election/ballots"),
    ("POST", "/v1/election/spoiled"),
    ("GET", "/v1/election/receipts/{tracking_code}"),
    ("GET", "/v1/board/head"),
    ("GET", "/v1/board/entries"),
    ("GET", "/v1/board/inclusion/{tracking_code}"),
    ("GET", "/v1/board/track/{tracking_code}"),
    ("GET", "/v1/board/last-ballot/{credential}"),
    ("GET", "/v1/board/consistency"),
    ("GET", "/v1/record/ballots.jsonl"),
    ("GET", "/v1/record/anchors.json"),
    ("GET", "/v1/record/{path}"),
    ("GET", "/v1/anchoring"),
    ("GET", "/v1/admin/status"),
    ("GET", "/v1/ceremony/messages"),
    ("GET", "/v1/ceremony/messages/{name}"),
    ("PUT", "/v1/ceremony/messages/{name}"),
];

async fn every_documented_route_is_served_and_matches_the_router(db: Db) {
    // A service with a (tiny) booth, so that the booth's routes answer too.
    let index = b"<!doctype html><script type=module src=/app/x.js></script>".to_vec();
    let script = b"console.log(1);".to_vec();
    let list = tabella_crypto::booth::BoothManifest::from_files([
        ("index.html", index.as_slice()),
        ("app/x.js", script.as_slice()),
    ])
    .unwrap();
    let booth = service::Booth::from_parts(
        serde_json::to_vec(&list).unwrap(),
        [("index.html".into(), index), ("app/x.js".into(), script)],
    )
    .unwrap();
    let e = Election::on(Service::start_with_booth(&db, Some(booth)).await, 1, true).await;
    let (ballot, _) = e.ballot(0, 0);
    e.cast(ballot.to_bytes()).await.expect(201);
    let answer = e.service.get("/v1/openapi.json").await.expect(200);
    assert!(answer.headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/json"));
    let document: serde_json::Value = answer.json();
    assert!(
        document["openapi"].as_str().unwrap().starts_with("3.1"),
        "{}",
        document["openapi"]
    );
    let mut documented = BTreeSet::new();
    for (path, item) in document["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            if ["get", "put", "post", "delete", "patch", "head", "options"]
                .contains(&method.as_str())
            {
                documented.insert((method.to_uppercase(), path.clone()));
            }
        }
    }
    let registered: BTreeSet<(String, String)> = REGISTERED_ROUTES
        .iter()
        .map(|(m, p)| ((*m).to_owned(), (*p).to_owned()))
        .collect();
    assert_eq!(
        documented, registered,
        "spec/openapi.json and the router differ"
    );

    let before = e.service.snapshot().await;
    for (method, path) in &documented {
        let concrete = path
            .replace("{tracking_code}", &ballot.tracking_code().to_string())
            .replace("{name}", "dealer-9.json")
            .replace(
                "{path}",
                if path.starts_with("/app/") {
                    "x.js"
                } else {
                    "record.json"
                },
            );
        let method = Method::from_bytes(method.as_bytes()).unwrap();
        let body = if method == Method::GET {
            Vec::new()
        } else {
            b"{}".to_vec()
        };
        let answer = e
            .service
            .request(
                method.clone(),
                &concrete,
                &[("content-type", "application/json")],
                body,
            )
            .await;
        assert_ne!(
            answer.error_code().as_deref(),
            Some("no_route"),
            "{method} {concrete}"
        );
        assert_ne!(answer.status.as_u16(), 405, "{method} {concrete}");
        if answer.status.is_client_error() || answer.status.is_server_error() {
            // Every error is the JSON error document.
            assert!(
                answer.error_code().is_some(),
                "{method} {concrete}: {} {}",
                answer.status,
                answer.text()
            );
        }
    }
    assert_eq!(e.service.snapshot().await, before);
    for path in [
        "/v1",
        "/v1/elections",
        "/v1/board/heads",
        "/v2/election",
        "/app/y.js",
        "/booth/x",
    ] {
        e.service.get(path).await.expect_error(404, "no_route");
    }
}

// ---------------------------------------------------------------------------------------------
// 11. Board endpoints

async fn board_pages_proofs_and_tree_heads_verify(db: Db) {
    let e = Election::new(&db, 3, true).await;
    let key = &e.info.board_key;
    let mut receipts = Vec::new();
    let cast = |voter, selection| e.ballot(voter, selection).0;
    let ballots = [cast(0, 0), cast(1, 1)];
    for ballot in &ballots {
        receipts.push(e.cast(ballot.to_bytes()).await.expect(201));
    }
    let head2 = head(&e.service).await;
    head2.verify(key).unwrap();
    assert_eq!(head2.head.size, 2);
    for ballot in [cast(2, 2), cast(0, 1)] {
        receipts.push(e.cast(ballot.to_bytes()).await.expect(201));
    }
    let (spoiled, secrets) = e.ballot(1, 0);
    receipts.push(
        e.spoil(spoiled.to_bytes(), &SpoiledBallot::reveal(secrets))
            .await
            .expect(201),
    );
    let head5 = head(&e.service).await;
    head5.verify(key).unwrap();
    assert_eq!(head5.head.election, e.info.election_id);
    assert_eq!(head5.head.size, 5);
    // A head changed after signing, or checked under another key, fails.
    let mut forged = head5.clone();
    forged.head.size = 4;
    assert!(forged.verify(key).is_err());
    let other_key =
        tabella_crypto::board::receipt::BoardSigningKey::generate(&mut rand::rngs::OsRng).public();
    assert!(head5.verify(&other_key).is_err());

    // Pages.
    let page = |query: &'static str| {
        let service = &e.service;
        async move {
            let page: BoardPage = service
                .get(&format!("/v1/board/entries{query}"))
                .await
                .expect(200)
                .json();
            assert_eq!(page.size, 5, "{query}");
            (
                page.entries.iter().map(|x| x.index).collect::<Vec<_>>(),
                page.next,
            )
        }
    };
    assert_eq!(page("?start=0&limit=2").await, (vec![0, 1], Some(2)));
    assert_eq!(page("?start=2&limit=2").await, (vec![2, 3], Some(4)));
    assert_eq!(page("?start=4&limit=2").await, (vec![4], None));
    assert_eq!(page("?start=3&limit=2").await, (vec![3, 4], None));
    assert_eq!(page("?start=5").await, (vec![], None));
    assert_eq!(page("?start=500&limit=3").await, (vec![], None));
    assert_eq!(page("?limit=0").await, (vec![0], Some(1)));
    assert_eq!(page("").await, (vec![0, 1, 2, 3, 4], None));
    assert_eq!(page("?limit=100000").await, (vec![0, 1, 2, 3, 4], None));
    for query in ["?start=abc", "?limit=-1", "?start=1.5", "?limit=x"] {
        e.service
            .get(&format!("/v1/board/entries{query}"))
            .await
            .expect_error(400, "bad_request");
    }
    let entries = e.service.all_entries().await;
    let statuses: Vec<EntryStatus> = entries.iter().map(|x| x.status).collect();
    assert_eq!(
        statuses,
        [
            EntryStatus::Superseded,
            EntryStatus::Counted,
            EntryStatus::Counted,
            EntryStatus::Counted,
            EntryStatus::Spoiled
        ]
    );

    // Receipts, and inclusion at their own size and at the current one.
    for (i, answer) in receipts.iter().enumerate() {
        let receipt: Receipt = answer.json();
        assert_eq!(receipt.index, i as u64);
        assert_eq!(entries[i].tracking_code, receipt.tracking_code);
        let stored = e
            .service
            .get(&format!("/v1/election/receipts/{}", receipt.tracking_code))
            .await
            .expect(200);
        assert_eq!(stored.body, answer.body);
        let own = inclusion(&e.service, &receipt.tracking_code, receipt.index + 1).await;
        receipt.verify_inclusion(key, &own).unwrap();
        let now = inclusion(&e.service, &receipt.tracking_code, 5).await;
        merkle::verify_inclusion(
            &receipt.tracking_code.0,
            receipt.index,
            5,
            &now,
            &head5.head.root,
        )
        .unwrap();
        let default: InclusionAnswer = e
            .service
            .get(&format!("/v1/board/inclusion/{}", receipt.tracking_code))
            .await
            .expect(200)
            .json();
        assert_eq!((default.size, hash(&default.root)), (5, head5.head.root));
        for size in [0, receipt.index, 6] {
            e.service
                .get(&format!(
                    "/v1/board/inclusion/{}?size={size}",
                    receipt.tracking_code
                ))
                .await
                .expect_error(400, "bad_request");
        }
    }
    let unknown = "ef".repeat(32);
    e.service
        .get(&format!("/v1/board/inclusion/{unknown}"))
        .await
        .expect_error(404, "not_found");
    e.service
        .get(&format!("/v1/election/receipts/{unknown}"))
        .await
        .expect_error(404, "not_found");
    let first = entries[0].tracking_code;
    for path in [
        "/v1/board/inclusion/xyz".to_owned(),
        format!("/v1/board/inclusion/{}", "AB".repeat(32)),
        format!("/v1/board/inclusion/{first}?size=abc"),
        "/v1/election/receipts/1234".to_owned(),
    ] {
        e.service.get(&path).await.expect_error(400, "bad_request");
    }

    // Consistency between the two signed heads.
    let answer: ConsistencyAnswer = e
        .service
        .get("/v1/board/consistency?from=2&to=5")
        .await
        .expect(200)
        .json();
    assert_eq!((answer.from, answer.to), (2, 5));
    assert_eq!(hash(&answer.from_root), head2.head.root);
    assert_eq!(hash(&answer.to_root), head5.head.root);
    let proof = ConsistencyProof {
        old_size: 2,
        new_size: 5,
        path: hashes(&answer.path),
    };
    merkle::verify_consistency(2, 5, &head2.head.root, &head5.head.root, &proof).unwrap();
    // Against another root it fails.
    assert!(merkle::verify_consistency(2, 5, &head5.head.root, &head5.head.root, &proof).is_err());
    let default: ConsistencyAnswer = e
        .service
        .get("/v1/board/consistency?from=2")
        .await
        .expect(200)
        .json();
    assert_eq!(default.to, 5);
    assert_eq!(default.path, answer.path);
    for query in ["from=0&to=5", "from=5&to=5", "from=0&to=0"] {
        let trivial: ConsistencyAnswer = e
            .service
            .get(&format!("/v1/board/consistency?{query}"))
            .await
            .expect(200)
            .json();
        assert!(trivial.path.is_empty(), "{query}");
    }
    for query in ["from=3&to=2", "from=2&to=6", "to=3", "", "from=x"] {
        e.service
            .get(&format!("/v1/board/consistency?{query}"))
            .await
            .expect_error(400, "bad_request");
    }

    // The record: the same entries as JSON Lines, each with the receipt the board gave for it
    // (the election record's `ballots.jsonl`).
    let record = e.service.get("/v1/record/ballots.jsonl").await.expect(200);
    assert_eq!(record.headers["content-type"], "application/x-ndjson");
    assert!(record.body.ends_with(b"\n"));
    let lines: Vec<RecordEntry> = record
        .text()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(lines.len(), entries.len());
    for ((line, entry), answer) in lines.iter().zip(&entries).zip(&receipts) {
        let as_entry = BoardEntry {
            index: line.index,
            tracking_code: line.tracking_code,
            kind: line.kind,
            status: line.status,
            credential: line.credential.to_string(),
            ballot: line.ballot.clone(),
            opening: line.opening.clone(),
            received_at: entry.received_at,
        };
        assert_eq!(
            serde_json::to_value(&as_entry).unwrap(),
            serde_json::to_value(entry).unwrap()
        );
        // The receipt is the one the voter got, byte for byte.
        assert_eq!(
            serde_json::to_vec(&line.receipt).unwrap(),
            answer.body,
            "entry {}",
            line.index
        );
        line.receipt.verify(key).unwrap();
        assert_eq!(line.receipt.tree_head.head.size, line.index + 1);
        assert_eq!(line.receipt.tree_head.head.timestamp, entry.received_at);
    }
    assert_eq!(ballots[0].tracking_code(), entries[0].tracking_code);
}

// ---------------------------------------------------------------------------------------------
// 12. The signed election parameters

async fn election_parameters_are_fixed_and_signed_when_voting_opens(db: Db) {
    let e = Election::new(&db, 3, false).await;
    // In setup there are none yet.
    e.service
        .get("/v1/election/parameters")
        .await
        .expect_error(409, "wrong_state");
    let opened: ElectionInfo = e
        .service
        .admin_post("/v1/election/open", "application/json", Vec::new())
        .await
        .expect(200)
        .json();
    let answer = e.service.get("/v1/election/parameters").await.expect(200);
    assert!(answer.headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/json"));
    let signed: SignedElectionParameters = answer.json();
    assert!(signed.signature_holds(), "signed by the board key it names");
    let p = &signed.parameters;
    assert_eq!(p.board_key, e.service.board_key);
    assert_eq!(p.board_key, opened.board_key);
    assert_eq!(p.protocol, tabella_crypto::PROTOCOL_VERSION);
    assert_eq!(p.election_id, opened.election_id);
    assert_eq!(p.manifest, opened.manifest);
    assert_eq!(p.manifest_hash, opened.manifest.hash());
    assert_eq!(hex::encode(p.manifest_hash.0), opened.manifest_hash);
    assert_eq!(Some(p.ceremony_id.to_string()), opened.ceremony_id);
    assert_eq!(p.ceremony_id, e.trustees.params.id());
    assert_eq!((p.trustees, p.threshold), (2, 2));
    assert_eq!(Some(p.joint_key), opened.joint_key);
    assert_eq!(Some(p.credentials), opened.voters);
    assert_eq!(
        Some(hex::encode(p.credentials_digest)),
        opened.credentials_digest
    );
    let list: CredentialList = e
        .service
        .get("/v1/election/credentials")
        .await
        .expect(200)
        .json();
    assert_eq!(
        (list.credentials.len() as u64, list.digest),
        (p.credentials, p.credentials_digest)
    );
    // Any change breaks the signature.
    let mut forged = signed.clone();
    forged.parameters.credentials += 1;
    assert!(!forged.signature_holds());
    let mut forged = signed.clone();
    forged.parameters.threshold = 1;
    assert!(!forged.signature_holds());

    // Opening again changes nothing: the very same bytes, in every later state.
    e.service
        .admin_post("/v1/election/open", "application/json", Vec::new())
        .await
        .expect(200);
    let (ballot, _) = e.ballot(0, 1);
    e.cast(ballot.to_bytes()).await.expect(201);
    assert_eq!(
        e.service
            .get("/v1/election/parameters")
            .await
            .expect(200)
            .body,
        answer.body
    );
    e.close_and_tally().await;
    assert_eq!(
        e.service
            .get("/v1/election/parameters")
            .await
            .expect(200)
            .body,
        answer.body
    );

    // It is a document of the service, not a ceremony message: the ceremony routes neither
    // list it, nor serve it, nor take one.
    let names: serde_json::Value = e
        .service
        .get("/v1/ceremony/messages")
        .await
        .expect(200)
        .json();
    let names: Vec<&str> = names["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap())
        .collect();
    assert!(!names.contains(&"election.json"), "{names:?}");
    assert!(!names.contains(&"results.json"), "{names:?}");
    e.service
        .get("/v1/ceremony/messages/election.json")
        .await
        .expect_error(404, "not_found");
    e.service
        .put_message("election.json", &signed, true)
        .await
        .expect_error(422, "rejected");
    assert_eq!(
        e.service
            .get("/v1/election/parameters")
            .await
            .expect(200)
            .body,
        answer.body
    );
}

// ---------------------------------------------------------------------------------------------
// 5. Concurrency over HTTP

fn concurrent_casting_over_http_gives_distinct_consecutive_indices(db: Db) {
    const VOTERS: usize = 20;
    const THREADS: usize = 8;
    const DUPLICATES: usize = 8;
    let e = HttpElection::new(&db, VOTERS);
    e.voters.derive_all();
    assert_eq!(e.voters.len(), VOTERS);
    let ballots: Vec<_> = (0..VOTERS).map(|i| e.ballot(i, i % 3).0).collect();
    // Every ballot once, and the first DUPLICATES a second time from another thread.
    let mut jobs: Vec<Vec<usize>> = vec![Vec::new(); THREADS];
    for i in 0..VOTERS {
        jobs[i % THREADS].push(i);
    }
    for i in 0..DUPLICATES {
        jobs[(i + THREADS / 2) % THREADS].push(i);
    }
    let url = e.service.url();
    let barrier = Barrier::new(THREADS);
    let answers: Vec<(usize, Receipt, bool)> = std::thread::scope(|scope| {
        let handles: Vec<_> = jobs
            .iter()
            .map(|mine| {
                let (url, barrier, ballots) = (&url, &barrier, &ballots);
                scope.spawn(move || {
                    let client = ElectionClient::new(url, None).unwrap();
                    barrier.wait();
                    mine.iter()
                        .map(|&i| {
                            let (receipt, created) = client.cast(ballots[i].to_bytes()).unwrap();
                            (i, receipt, created)
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    assert_eq!(answers.len(), VOTERS + DUPLICATES);

    let key = &e.info.board_key;
    let mut by_ballot: BTreeMap<usize, Vec<(Receipt, bool)>> = BTreeMap::new();
    for (i, receipt, created) in answers {
        by_ballot.entry(i).or_default().push((receipt, created));
    }
    let mut indices = Vec::new();
    for (i, answers) in &by_ballot {
        let (receipt, _) = &answers[0];
        assert!(answers.iter().all(|(r, _)| r == receipt), "ballot {i}");
        assert_eq!(
            answers.iter().filter(|(_, created)| *created).count(),
            1,
            "exactly one 201 for ballot {i}"
        );
        assert_eq!(receipt.tracking_code, ballots[*i].tracking_code());
        receipt.verify(key).unwrap();
        indices.push(receipt.index);
    }
    indices.sort_unstable();
    assert_eq!(indices, (0..VOTERS as u64).collect::<Vec<_>>());

    let client = e.public_client();
    let head = client.head().unwrap();
    head.verify(key).unwrap();
    assert_eq!(head.head.size, VOTERS as u64);
    let page = client.entries(0, 1000).unwrap();
    assert_eq!(page.next, None);
    let listed: Vec<String> = page
        .entries
        .iter()
        .map(|x| x.tracking_code.to_string())
        .collect();
    let unique: BTreeSet<&String> = listed.iter().collect();
    assert_eq!((listed.len(), unique.len()), (VOTERS, VOTERS));
    let expected: BTreeSet<String> = ballots
        .iter()
        .map(|b| b.tracking_code().to_string())
        .collect();
    assert_eq!(
        unique.into_iter().cloned().collect::<BTreeSet<_>>(),
        expected
    );
    for (position, entry) in page.entries.iter().enumerate() {
        assert_eq!(entry.index, position as u64);
        assert_eq!(entry.status, EntryStatus::Counted);
        let proof = client
            .inclusion(&entry.tracking_code, Some(head.head.size))
            .unwrap();
        merkle::verify_inclusion(
            &entry.tracking_code.0,
            entry.index,
            head.head.size,
            &InclusionProof {
                index: proof.index,
                tree_size: proof.size,
                path: hashes(&proof.path),
            },
            &head.head.root,
        )
        .unwrap();
    }
    let mut record = Vec::new();
    assert_eq!(client.record_ballots(&mut record).unwrap(), VOTERS as u64);
    assert_eq!(
        record.iter().filter(|&&b| b == b'\n').count(),
        VOTERS,
        "one line per entry"
    );
    let counts = e.officials.election().unwrap().board;
    assert_eq!(
        (counts.size, counts.counted),
        (VOTERS as u64, VOTERS as u64)
    );
    e.service.shutdown().unwrap();
}

// ---------------------------------------------------------------------------------------------
// 6. Restart

fn restart_on_the_same_database_keeps_the_board_and_continues_it(db: Db) {
    let e = HttpElection::new(&db, 3);
    let client = e.public_client();
    let key = e.info.board_key;
    let (a, _) = e.ballot(0, 0);
    let (b, _) = e.ballot(1, 1);
    let (c, _) = e.ballot(0, 2);
    let (d, secrets) = e.ballot(2, 1);
    let d_opening = SpoiledBallot::reveal(secrets);
    let mut receipts = Vec::new();
    for ballot in [&a, &b, &c] {
        receipts.push(client.cast(ballot.to_bytes()).unwrap().0);
    }
    receipts.push(client.spoil(d.to_bytes(), &d_opening).unwrap().0);
    let head = client.head().unwrap();
    let page = client.entries(0, 1000).unwrap();
    let info = client.election().unwrap();
    let mut record = Vec::new();
    client.record_ballots(&mut record).unwrap();
    assert_eq!(head.head.size, 4);
    let parameters = client.election_parameters().unwrap();
    assert!(parameters.signature_holds());

    let e = e.restart();
    let client = e.public_client();
    assert_eq!(client.election_parameters().unwrap(), parameters);
    assert_eq!(e.officials.open().unwrap().state, ElectionState::Open);
    assert_eq!(client.election_parameters().unwrap(), parameters);
    let head_after = client.head().unwrap();
    head_after.verify(&key).unwrap();
    assert_eq!(
        (head_after.head.size, head_after.head.root),
        (head.head.size, head.head.root)
    );
    let page_after = client.entries(0, 1000).unwrap();
    assert_eq!(
        serde_json::to_value(&page_after).unwrap(),
        serde_json::to_value(&page).unwrap(),
        "the same entries, statuses and times"
    );
    let info_after = client.election().unwrap();
    assert_eq!(
        serde_json::to_value(&info_after).unwrap(),
        serde_json::to_value(&info).unwrap()
    );
    assert_eq!(info_after.state, ElectionState::Open);
    let mut record_after = Vec::new();
    client.record_ballots(&mut record_after).unwrap();
    assert_eq!(record_after, record);
    for receipt in &receipts {
        assert_eq!(&client.receipt(&receipt.tracking_code).unwrap(), receipt);
    }
    // Re-submissions still get their receipts; a spoiled ballot still cannot be cast.
    assert_eq!(
        client.cast(a.to_bytes()).unwrap(),
        (receipts[0].clone(), false)
    );
    assert_eq!(
        client.spoil(d.to_bytes(), &d_opening).unwrap(),
        (receipts[3].clone(), false)
    );
    let refusal = client.cast(d.to_bytes()).unwrap_err();
    assert_eq!(refusal.code(), Some("ballot_spoiled"));

    // Casting continues at the next index, signed with the same key.
    let (next, _) = e.ballot(2, 0);
    let (receipt, created) = client.cast(next.to_bytes()).unwrap();
    assert!(created);
    assert_eq!(receipt.index, 4);
    receipt.verify(&key).unwrap();
    let (revote, _) = e.ballot(1, 2);
    assert_eq!(client.cast(revote.to_bytes()).unwrap().0.index, 5);
    let statuses: Vec<EntryStatus> = client
        .entries(0, 1000)
        .unwrap()
        .entries
        .iter()
        .map(|x| x.status)
        .collect();
    assert_eq!(
        statuses,
        [
            EntryStatus::Superseded,
            EntryStatus::Superseded,
            EntryStatus::Counted,
            EntryStatus::Spoiled,
            EntryStatus::Counted,
            EntryStatus::Counted
        ]
    );
    let now = client.head().unwrap();
    let consistency = client.consistency(4, Some(6)).unwrap();
    merkle::verify_consistency(
        4,
        6,
        &head.head.root,
        &now.head.root,
        &ConsistencyProof {
            old_size: 4,
            new_size: 6,
            path: hashes(&consistency.path),
        },
    )
    .unwrap();
    e.service.shutdown().unwrap();
}

// ---------------------------------------------------------------------------------------------
// 8. The whole life cycle with the officials' client

/// The status and code of a refusal by the service.
#[track_caller]
fn code(result: Result<(), tabella_tally::client::ClientError>) -> (u16, String) {
    let error = result.unwrap_err();
    (error.status().unwrap(), error.code().unwrap().to_owned())
}

fn refusal(status: u16, code: &str) -> (u16, String) {
    (status, code.to_owned())
}

fn full_life_cycle_over_http_with_the_admin_client(db: Db) {
    let seed = board_seed();
    let service = service::spawn(config(&db, &seed), "127.0.0.1:0").unwrap();
    let url = service.url();
    let officials = ElectionClient::new(&url, Some(TOKEN.to_owned())).unwrap();
    let public = ElectionClient::new(&url, None).unwrap();

    // Create, idempotently.
    assert_eq!(
        code(public.election().map(drop)),
        refusal(404, "no_election")
    );
    assert_eq!(
        code(public.create(&manifest()).map(drop)),
        refusal(401, "unauthorized")
    );
    let (info, created) = officials.create(&manifest()).unwrap();
    assert!(created);
    assert_eq!(info.state, ElectionState::Setup);
    assert_eq!(
        info.board_key,
        tabella_crypto::board::receipt::BoardSigningKey::from_bytes(&seed)
            .unwrap()
            .public()
    );
    assert_eq!(info.manifest_hash, hex::encode(manifest().hash().0));
    assert_eq!(
        (info.joint_key, info.voters, info.aggregation),
        (None, None, None)
    );
    let (again, created) = officials.create(&manifest()).unwrap();
    assert!(!created);
    assert_eq!(again.election_id, info.election_id);
    assert_eq!(
        code(officials.create(&other_manifest()).map(drop)),
        refusal(409, "election_exists")
    );
    let election = info.election_id;

    // Open needs the credential list and the key ceremony.
    assert_eq!(
        code(officials.open().map(drop)),
        refusal(409, "not_ready_to_open")
    );

    // The credential list a registrar made offline, idempotently; the service sees no code.
    let (voters, upload) = registrar(election, 4);
    let imported = officials.import_credentials(&upload).unwrap();
    assert!(!imported.already_imported);
    assert_eq!(imported.voters, 4);
    let list = public.credentials().unwrap();
    assert_eq!(list.credentials.len(), 4);
    assert_eq!(hex::encode(list.digest), imported.credentials_digest);
    assert_eq!(list.digest, upload.digest);
    let repeated = officials.import_credentials(&upload).unwrap();
    assert!(repeated.already_imported);
    assert_eq!(repeated.credentials_digest, imported.credentials_digest);
    let (_, other) = registrar(election, 5);
    assert_eq!(
        code(officials.import_credentials(&other).map(drop)),
        refusal(409, "credentials_exist")
    );
    assert_eq!(public.credentials().unwrap().digest, list.digest);

    // The key ceremony: three trustees, any two decrypt.
    let rng = &mut rand::rngs::OsRng;
    let identities: Vec<TrusteeIdentity> = (0..3).map(|_| TrusteeIdentity::generate(rng)).collect();
    let announcements = identities
        .iter()
        .enumerate()
        .map(|(i, id)| id.announce(election, &format!("Trustee {}", i + 1), rng))
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    let params = CeremonyParams::new(election, 2, announcements, rng).unwrap();
    let officials_store = HttpStore::new(&url, Some(TOKEN.to_owned())).unwrap();
    tabella_tally::ceremony::publish(&officials_store, "ceremony.json", &params).unwrap();
    assert_eq!(
        public.election().unwrap().ceremony_id,
        Some(params.id().to_string())
    );
    for identity in &identities {
        let store = HttpStore::new(&url, None).unwrap();
        tabella_tally::trustee::deal_step(&store, identity).unwrap();
    }
    let error = officials.open().unwrap_err();
    assert_eq!(error.code(), Some("not_ready_to_open"));
    assert!(error.to_string().contains("check"), "{error}");
    for identity in &identities {
        let store = HttpStore::new(&url, None).unwrap();
        tabella_tally::trustee::check_step(&store, identity, 0).unwrap();
    }

    // Open, idempotently; opening fixes and signs the election's parameters.
    assert_eq!(
        code(public.election_parameters().map(drop)),
        refusal(409, "wrong_state")
    );
    let opened = officials.open().unwrap();
    let parameters = public.election_parameters().unwrap();
    assert!(parameters.signature_holds());
    assert_eq!(parameters.parameters.board_key, info.board_key);
    assert_eq!(Some(parameters.parameters.joint_key), opened.joint_key);
    assert_eq!(opened.state, ElectionState::Open);
    let joint = opened.joint_key.unwrap();
    let reopened = officials.open().unwrap();
    assert_eq!(
        (reopened.state, reopened.joint_key),
        (ElectionState::Open, Some(joint))
    );
    assert_eq!(reopened.voters, Some(4));
    assert_eq!(
        code(officials.tally().map(drop)),
        refusal(409, "wrong_state")
    );
    assert_eq!(
        code(public.results().map(drop)),
        refusal(409, "not_tallied")
    );
    for list in [&upload, &other] {
        assert_eq!(
            code(officials.import_credentials(list).map(drop)),
            refusal(409, "wrong_state")
        );
    }

    // Voting: four voters, one revotes, one challenges a ballot first.
    let ctx = ElectionContext::new(election, manifest(), joint).unwrap();
    voters.derive_all();
    let (challenged, secrets) = encrypt(&ctx, voters.secret(1), 2);
    let (receipt, created) = public
        .spoil(challenged.to_bytes(), &SpoiledBallot::reveal(secrets))
        .unwrap();
    assert!(created);
    assert_eq!(receipt.kind, EntryKind::Spoiled);
    let mut expected = [0u64; 3];
    for (voter, selection) in [(0, 0), (1, 1), (2, 1), (3, 2), (3, 0)] {
        let (ballot, _) = encrypt(&ctx, voters.secret(voter), selection);
        let (receipt, created) = public.cast(ballot.to_bytes()).unwrap();
        assert!(created);
        receipt.verify(&info.board_key).unwrap();
    }
    for selection in [0, 1, 1, 0] {
        expected[selection] += 1;
    }

    // Close, idempotently; the aggregation runs in the background.
    let closed = officials.close().unwrap();
    assert_eq!(closed.state, ElectionState::Closed);
    assert!(closed.aggregation.is_some());
    assert_eq!(officials.close().unwrap().state, ElectionState::Closed);
    let (late, _) = encrypt(&ctx, voters.secret(2), 2);
    assert_eq!(
        code(public.cast(late.to_bytes()).map(drop)),
        refusal(409, "election_not_open")
    );
    assert_eq!(
        code(officials.open().map(drop)),
        refusal(409, "wrong_state")
    );
    let aggregated = officials.wait_for_aggregation(|_| {}).unwrap();
    let aggregation = aggregated.aggregation.unwrap();
    assert_eq!(
        (aggregation.done, aggregation.total, aggregation.complete),
        (4, 4, true)
    );
    assert!(officials
        .ceremony_messages()
        .unwrap()
        .contains(&"tally-request.json".to_owned()));
    let error = officials.tally().unwrap_err();
    assert_eq!(error.code(), Some("tally_incomplete"));

    // The record is complete only after the tally: export refuses before, and writes nothing.
    let records = tempfile::tempdir().unwrap();
    let early = records.path().join("early");
    let error = tabella_tally::election::export(&public, &early).unwrap_err();
    assert!(
        error.to_string().contains(
            "the election is not tallied yet: the record is complete only after the tally"
        ),
        "{error:#}"
    );
    assert!(!early.exists());

    // Two of the three trustees decrypt; the third is absent.
    for identity in &identities[..2] {
        let store = HttpStore::new(&url, None).unwrap();
        tabella_tally::trustee::decrypt_step(&store, identity, 0, false).unwrap();
    }
    let results = officials.tally().unwrap();
    assert_eq!(totals(&results), vec![expected.to_vec()]);
    assert_eq!(results.election_id, election);
    assert_eq!(results.ballots_counted, 4);
    assert_eq!(
        (results.combined.clone(), results.absent.clone()),
        (vec![1, 2], vec![3])
    );
    let final_head = public.head().unwrap();
    assert_eq!(results.board_size, 6);
    assert_eq!(results.board_root, hex::encode(final_head.head.root));
    assert_eq!(officials.tally().unwrap(), results, "tally again: the same");
    assert_eq!(public.results().unwrap(), results);
    let tallied = public.election().unwrap();
    assert_eq!(tallied.state, ElectionState::Tallied);

    // The absent trustee decrypts after the tally: too late to take part in it.
    let store = HttpStore::new(&url, None).unwrap();
    tabella_tally::trustee::decrypt_step(&store, &identities[2], 0, false).unwrap();
    assert_eq!(public.results().unwrap(), results);

    // The election record: written, then verified from its files alone. The late partial
    // decryption is not part of the tally, so it is left out.
    let record = records.path().join("record");
    let summary = tabella_tally::election::export(&public, &record).unwrap();
    summary.print();
    assert_eq!(summary.late_partials, [3]);
    assert_eq!(summary.ceremony_messages, 10);
    assert!(
        summary.report.passed(),
        "{:?}",
        summary.report.first_failure()
    );
    assert_eq!(summary.report.results.as_ref(), Some(&results));
    let counts = &summary.report.counts;
    assert_eq!(
        (
            counts.entries,
            counts.counted,
            counts.superseded,
            counts.spoiled
        ),
        (6, 4, 1, 1)
    );
    assert_eq!(
        (
            counts.credentials,
            counts.trustees,
            counts.partial_decryptions
        ),
        (4, 3, 2)
    );
    assert_eq!(summary.root, hex::encode(final_head.head.root));
    let mut files: Vec<&str> = summary.files.iter().map(|(p, _)| p.as_str()).collect();
    files.sort_unstable();
    assert_eq!(
        files,
        [
            "ballots.jsonl",
            "ceremony/ceremony.json",
            "ceremony/check-1.json",
            "ceremony/check-2.json",
            "ceremony/check-3.json",
            "ceremony/dealer-1.json",
            "ceremony/dealer-2.json",
            "ceremony/dealer-3.json",
            "ceremony/partial-1.json",
            "ceremony/partial-2.json",
            "ceremony/tally-request.json",
            "credentials.json",
            "election.json",
            "record.json",
            "results.json",
            "tree-head.json",
        ]
    );
    let again = tabella_tally::verify::verify_dir(
        &record,
        VerifyOptions {
            board_key: Some(info.board_key),
            ..VerifyOptions::default()
        },
        |_, _| {},
    )
    .unwrap();
    assert!(again.passed());
    assert_eq!(
        again.record_digest.as_deref(),
        Some(summary.record_digest.as_str())
    );
    let written: SignedElectionParameters =
        serde_json::from_slice(&std::fs::read(record.join("election.json")).unwrap()).unwrap();
    assert_eq!(written, parameters);
    // The directory now holds a record: a second export there is refused.
    let error = tabella_tally::election::export(&public, &record).unwrap_err();
    assert!(error.to_string().contains("is not empty"), "{error:#}");

    // Nothing moves back.
    for step in [officials.open().map(drop), officials.close().map(drop)] {
        assert_eq!(code(step), refusal(409, "wrong_state"));
    }
    assert_eq!(
        code(officials.import_credentials(&upload).map(drop)),
        refusal(409, "wrong_state")
    );
    let (same, created) = officials.create(&manifest()).unwrap();
    assert!(!created);
    assert_eq!(same.state, ElectionState::Tallied);
    service.shutdown().unwrap();
}

// ---------------------------------------------------------------------------------------------
// 12. Anchoring on a chain (spec/api.md §12; the embedded chain is real revm running the
// registry's compiled bytecode)

/// `GET path` on a running service, by hand: the status and the body.
fn http_get(base: &str, path: &str) -> (u16, String) {
    use std::io::{Read as _, Write as _};
    let addr = base.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    let (head, body) = answer.split_once("\r\n\r\n").unwrap();
    let status = head.split_whitespace().nth(1).unwrap().parse().unwrap();
    let body = if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        dechunk(body)
    } else {
        body.to_owned()
    };
    (status, body)
}

/// The body of a chunked HTTP/1.1 answer.
fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let size = usize::from_str_radix(size.trim(), 16).unwrap();
        if size == 0 {
            break;
        }
        out.push_str(&rest[..size]);
        body = &rest[size + 2..];
    }
    out
}

/// The registry's evidence for the election, read from the chain.
fn chain_evidence(chain: &Chain, status: &AnchoringStatus, election: ElectionId) -> ChainEvidence {
    let address = Registry::parse_address(status.contract.as_deref().unwrap()).unwrap();
    block_on(Registry::at(chain, address).evidence(election.0)).unwrap()
}

/// The registry's view of the election.
fn on_chain(chain: &Chain, status: &AnchoringStatus, election: ElectionId) -> OnChainElection {
    let address = Registry::parse_address(status.contract.as_deref().unwrap()).unwrap();
    block_on(Registry::at(chain, address).election(election.0))
        .unwrap()
        .unwrap()
}

/// Moves the development chain's clock to the registered close.
fn advance_to_close(chain: &Chain, status: &AnchoringStatus) {
    let closes_at = status.closes_at.unwrap();
    let now = block_on(chain.time()).unwrap();
    if now < closes_at {
        block_on(chain.advance_time(closes_at - now)).unwrap();
    }
}

/// Every anchored item's kind, size and transaction, in queue order.
fn transactions(status: &AnchoringStatus) -> Vec<(AnchorKind, Option<u64>, String)> {
    status
        .items
        .iter()
        .filter(|i| i.state == AnchorState::Done)
        .map(|i| (i.kind, i.size, i.transaction.clone().unwrap()))
        .collect()
}

fn all_anchored(status: &AnchoringStatus) -> bool {
    status.items.iter().all(|i| i.state == AnchorState::Done)
}

/// Checks what the chain holds for the election against the board: one registration,
/// checkpoints of strictly growing size whose roots are the board's and whose signatures are
/// the board's, one result on the final head. Returns the evidence.
fn check_chain_matches_the_board(
    chain: &Chain,
    e: &HttpElection,
    status: &AnchoringStatus,
) -> ChainEvidence {
    let public = e.public_client();
    let evidence = chain_evidence(chain, status, e.info.election_id);
    assert!(evidence.election.is_some());
    let sizes: Vec<u64> = evidence.checkpoints.iter().map(|c| c.size).collect();
    assert!(
        sizes.windows(2).all(|w| w[0] < w[1]),
        "checkpoints strictly grow: {sizes:?}"
    );
    let final_head = public.head().unwrap();
    for checkpoint in &evidence.checkpoints {
        let signed = SignedTreeHead {
            head: TreeHead {
                election: e.info.election_id,
                size: checkpoint.size,
                root: checkpoint.root,
                timestamp: checkpoint.timestamp_ms,
            },
            signature: BoardSignature::from_bytes(&hex::decode(&checkpoint.signature).unwrap())
                .unwrap(),
        };
        signed.verify(&e.info.board_key).unwrap();
        let consistency = public
            .consistency(checkpoint.size, Some(final_head.head.size))
            .unwrap();
        assert_eq!(consistency.from_root, hex::encode(checkpoint.root));
    }
    let state = on_chain(chain, status, e.info.election_id);
    assert_eq!(state.checkpoint_count, evidence.checkpoints.len() as u64);
    let done_checkpoints = status
        .items
        .iter()
        .filter(|i| i.kind == AnchorKind::Checkpoint && i.state == AnchorState::Done)
        .count();
    assert_eq!(done_checkpoints, evidence.checkpoints.len());
    let mut hashes: Vec<String> = transactions(status).into_iter().map(|t| t.2).collect();
    let count = hashes.len();
    hashes.sort();
    hashes.dedup();
    assert_eq!(hashes.len(), count, "every anchor has its own transaction");
    evidence
}

fn anchoring_lands_at_open_at_intervals_at_close_and_after_the_tally_and_matches_the_board(db: Db) {
    let chain = TestChain::new();
    let e = HttpElection::with_anchoring(&db, 4, Some(chain.anchoring(Duration::from_millis(300))));
    let public = e.public_client();
    let election = e.info.election_id;

    // The registration, when voting opens: the signed parameters' digests, bound to the chain.
    let status = wait_anchoring(&public, "the registration", |s| {
        anchored(s, AnchorKind::Election, None)
    });
    assert!(status.enabled);
    let operator = Signer::dev(0).address_hex();
    assert_eq!(status.operator.as_deref(), Some(operator.as_str()));
    let closes_at = status.closes_at.unwrap();
    let evidence = chain_evidence(&chain.chain, &status, election);
    assert_eq!(Some(evidence.chain_id), status.chain_id);
    assert_eq!(Some(evidence.contract.as_str()), status.contract.as_deref());
    let created = evidence.election.clone().unwrap();
    let parameters = public.election_parameters().unwrap().parameters;
    let ceremony: CeremonyParams =
        serde_json::from_slice(&public.ceremony_message("ceremony.json").unwrap().unwrap())
            .unwrap();
    assert_eq!(created.manifest_hash, parameters.manifest_hash.0);
    assert_eq!(created.credentials_digest, parameters.credentials_digest);
    assert_eq!(created.trustee_keys_digest, trustee_keys_digest(&ceremony));
    assert_eq!(created.joint_key, parameters.joint_key.to_bytes());
    assert_eq!(created.board_key, parameters.board_key.to_bytes());
    assert_eq!(created.chain_id, evidence.chain_id);
    assert_eq!(created.operator, operator);
    assert_eq!(created.closes_at, closes_at);
    assert!(created.closes_at >= created.opens_at + VOTING_PERIOD);
    assert_eq!(
        transactions(&status)[0],
        (AnchorKind::Election, None, created.transaction.clone())
    );

    // A checkpoint at the next interval in which the board grew, and none while it does not.
    for voter in 0..3 {
        let (ballot, _) = e.ballot(voter, voter % 3);
        public.cast(ballot.to_bytes()).unwrap();
    }
    let status = wait_anchoring(&public, "a checkpoint of size 3", |s| {
        anchored(s, AnchorKind::Checkpoint, Some(3))
    });
    let head = public.head().unwrap();
    assert_eq!(head.head.size, 3);
    let checkpoints = status
        .items
        .iter()
        .filter(|i| i.kind == AnchorKind::Checkpoint)
        .count();
    assert_eq!(checkpoints, 1, "{status:#?}");
    let item = status.items.last().unwrap();
    assert_eq!(
        item.root.as_deref(),
        Some(hex::encode(head.head.root).as_str())
    );
    assert!(item.gas_used.unwrap() > 0 && item.block_number.unwrap() > 0);
    std::thread::sleep(Duration::from_millis(1000));
    assert_eq!(public.anchoring().unwrap().items.len(), status.items.len());

    // A fourth ballot; the close at closesAt (the development chain's clock moved there) takes
    // the final head.
    let (ballot, _) = e.ballot(3, 0);
    public.cast(ballot.to_bytes()).unwrap();
    advance_to_close(&chain.chain, &status);
    let results = e.close_and_tally();
    let final_head = public.head().unwrap();
    assert_eq!(final_head.head.size, 4);
    assert_eq!(results.board_root, hex::encode(final_head.head.root));
    let status = wait_anchoring(&public, "the result", |s| {
        anchored(s, AnchorKind::Result, None) && all_anchored(s)
    });
    let evidence = check_chain_matches_the_board(&chain.chain, &e, &status);
    let last = evidence.checkpoints.last().unwrap();
    assert_eq!(
        (last.size, last.root),
        (final_head.head.size, final_head.head.root)
    );
    assert_eq!(evidence.checkpoints[0].size, 3);
    let result = evidence.result.clone().unwrap();
    assert_eq!(
        (result.final_size, result.final_root),
        (final_head.head.size, final_head.head.root)
    );

    // The record: its anchors.json is the service's, and the result anchors its digests.
    let records = tempfile::tempdir().unwrap();
    let record = records.path().join("record");
    let summary = tabella_tally::election::export(&public, &record).unwrap();
    let anchors: Anchors =
        serde_json::from_slice(&std::fs::read(record.join("anchors.json")).unwrap()).unwrap();
    assert_eq!(Some(&anchors), public.anchors().unwrap().as_ref());
    assert_eq!(anchors.election_transaction, created.transaction);
    assert_eq!(anchors.result_transaction, Some(result.transaction.clone()));
    assert_eq!(
        anchors
            .checkpoints
            .iter()
            .map(|c| (c.size, c.root, c.transaction.clone()))
            .collect::<Vec<_>>(),
        evidence
            .checkpoints
            .iter()
            .map(|c| (c.size, c.root, c.transaction.clone()))
            .collect::<Vec<_>>()
    );
    assert!(anchors.fallback.is_empty() && anchors.rejected.is_empty());
    let results_file = std::fs::read(record.join("results.json")).unwrap();
    assert_eq!(
        result.tally_digest,
        RecordFile::describe("results.json", &results_file).sha256
    );
    assert_eq!(
        Some(hex::encode(result.record_digest)),
        summary.anchored_digest
    );
    let report = tabella_tally::verify::verify_dir(
        &record,
        VerifyOptions {
            board_key: Some(e.info.board_key),
            chain: Some(evidence.clone()),
            booth: None,
        },
        |_, _| {},
    )
    .unwrap();
    assert!(report.passed(), "{:?}", report.first_failure());

    // Metrics: every transaction counted with its gas; nothing left to anchor.
    let metrics = http_get(&e.service.url(), "/metrics").1;
    let confirmed = |kind: &str| {
        metric(
            &metrics,
            &format!("tabella_anchor_transactions_total{{kind=\"{kind}\",outcome=\"confirmed\"}}"),
        )
    };
    assert_eq!(confirmed("election"), 1);
    assert_eq!(confirmed("checkpoint"), evidence.checkpoints.len() as u64);
    assert_eq!(confirmed("result"), 1);
    for kind in ["election", "checkpoint", "result"] {
        let gas = metric(
            &metrics,
            &format!("tabella_anchor_gas_used_total{{kind=\"{kind}\"}}"),
        );
        let items: u64 = status
            .items
            .iter()
            .filter(|i| i.kind.as_str() == kind)
            .filter_map(|i| i.gas_used)
            .sum();
        assert_eq!(gas, items, "{kind}");
        assert!(gas > 0, "{kind}");
    }
    assert_eq!(metric(&metrics, "tabella_anchor_lag_seconds"), 0);
    assert_eq!(metric(&metrics, "tabella_anchor_last_checkpoint_size"), 4);
    assert!(
        metrics.contains("tabella_anchor_lag_seconds 0"),
        "{metrics}"
    );
    e.service.shutdown().unwrap();
}

fn closing_before_the_chains_closing_time_is_refused_and_changes_nothing(db: Db) {
    let chain = TestChain::new();
    let e = HttpElection::with_anchoring(&db, 2, Some(chain.anchoring(Duration::from_secs(3600))));
    let public = e.public_client();
    let status = wait_anchoring(&public, "the registration", |s| {
        anchored(s, AnchorKind::Election, None)
    });
    let closes_at = status.closes_at.unwrap();
    let (ballot, _) = e.ballot(0, 1);
    public.cast(ballot.to_bytes()).unwrap();
    let snapshot = || {
        let info = public.election().unwrap();
        let head = public.head().unwrap().head;
        let entries = serde_json::to_value(public.entries(0, 1000).unwrap()).unwrap();
        let queue = serde_json::to_value(&public.anchoring().unwrap().items).unwrap();
        (info.state, head.size, head.root, entries, queue)
    };
    let before = snapshot();

    let error = e.officials.close().map(drop).unwrap_err();
    assert_eq!(
        (error.status(), error.code()),
        (Some(409), Some("voting_open_on_chain")),
        "{error}"
    );
    let message = error.to_string();
    for words in [
        "voting closes on chain at".to_owned(),
        format!("Unix time {closes_at}"),
        "the chain's time is now".to_owned(),
        "UTC".to_owned(),
    ] {
        assert!(message.contains(&words), "{message}");
    }
    assert_eq!(snapshot(), before);
    assert!(block_on(chain.chain.time()).unwrap() < closes_at);
    // Voting goes on: the board still takes ballots.
    let (ballot, _) = e.ballot(1, 2);
    let (receipt, created) = public.cast(ballot.to_bytes()).unwrap();
    assert!(created);
    assert_eq!(receipt.index, 1);

    // Once the chain's time reaches closesAt, the close goes through.
    advance_to_close(&chain.chain, &status);
    assert_eq!(e.officials.close().unwrap().state, ElectionState::Closed);
    e.service.shutdown().unwrap();
}

/// Marks every item of the anchoring queue as sent but not recorded: what a service that
/// stopped between sending its transactions and recording them leaves behind.
const FORGET_TRANSACTIONS: &str = "UPDATE anchor_queue SET state = 'sending', \
     transaction_hash = NULL, block_number = NULL, gas_used = NULL, anchored_at = NULL";

fn a_restart_mid_queue_finds_what_was_sent_and_anchors_nothing_twice(db: Db) {
    let chain = TestChain::new();
    let interval = Duration::from_millis(300);
    let e = HttpElection::with_anchoring(&db, 3, Some(chain.anchoring(interval)));
    let public = e.public_client();
    for voter in 0..2 {
        let (ballot, _) = e.ballot(voter, 0);
        public.cast(ballot.to_bytes()).unwrap();
    }
    let status = wait_anchoring(&public, "the registration and a checkpoint", |s| {
        anchored(s, AnchorKind::Election, None) && anchored(s, AnchorKind::Checkpoint, Some(2))
    });
    let sent = transactions(&status);
    assert!(sent.len() >= 2, "{sent:?}");
    let blocks = block_on(chain.chain.block_number()).unwrap();

    // The service stops after sending and before recording; on restart it asks the chain.
    let e = e.restart_editing(FORGET_TRANSACTIONS, Some(chain.anchoring(interval)));
    let public = e.public_client();
    let status = wait_anchoring(&public, "the queue recovered from the chain", all_anchored);
    assert_eq!(
        transactions(&status),
        sent,
        "the transactions found on chain"
    );
    assert_eq!(
        block_on(chain.chain.block_number()).unwrap(),
        blocks,
        "nothing sent again"
    );
    let metrics = http_get(&e.service.url(), "/metrics").1;
    for kind in ["election", "checkpoint"] {
        let count = |outcome: &str| {
            metric(
                &metrics,
                &format!(
                    "tabella_anchor_transactions_total{{kind=\"{kind}\",outcome=\"{outcome}\"}}"
                ),
            )
        };
        let expected = sent.iter().filter(|t| t.0.as_str() == kind).count() as u64;
        assert_eq!(
            (count("found"), count("confirmed")),
            (expected, 0),
            "{kind}"
        );
    }

    // The election goes on to its result.
    let (ballot, _) = e.ballot(2, 1);
    public.cast(ballot.to_bytes()).unwrap();
    advance_to_close(&chain.chain, &status);
    e.close_and_tally();
    let status = wait_anchoring(&public, "the result", |s| {
        anchored(s, AnchorKind::Result, None) && all_anchored(s)
    });
    let sent = transactions(&status);
    let blocks = block_on(chain.chain.block_number()).unwrap();

    // Stopped again after sending everything, result included: nothing is sent again.
    let e = e.restart_editing(FORGET_TRANSACTIONS, Some(chain.anchoring(interval)));
    let public = e.public_client();
    let status = wait_anchoring(&public, "the queue recovered from the chain", all_anchored);
    assert_eq!(transactions(&status), sent);
    std::thread::sleep(interval * 3);
    assert_eq!(
        block_on(chain.chain.block_number()).unwrap(),
        blocks,
        "nothing sent again"
    );
    let evidence = check_chain_matches_the_board(&chain.chain, &e, &status);
    let sizes: Vec<u64> = evidence.checkpoints.iter().map(|c| c.size).collect();
    assert_eq!(sizes.last(), Some(&3));
    assert!(evidence.result.is_some());
    let records = tempfile::tempdir().unwrap();
    let summary = tabella_tally::election::export_with(
        &public,
        &records.path().join("record"),
        tabella_tally::election::ExportOptions {
            chain: Some(evidence),
            ..tabella_tally::election::ExportOptions::default()
        },
    )
    .unwrap();
    assert!(summary.chain_checked && summary.report.passed());
    e.service.shutdown().unwrap();
}

/// A TCP forwarder from `listen` to `upstream`, started when asked: until then nothing
/// listens there, as when a chain's endpoint is down.
fn forward(listen: std::net::SocketAddr, upstream: String) {
    let listener = std::net::TcpListener::bind(listen).unwrap();
    std::thread::spawn(move || {
        for client in listener.incoming() {
            let Ok(client) = client else { continue };
            let Ok(server) = std::net::TcpStream::connect(&upstream) else {
                continue;
            };
            for (mut from, mut to) in [
                (client.try_clone().unwrap(), server.try_clone().unwrap()),
                (server, client),
            ] {
                std::thread::spawn(move || {
                    let _ = std::io::copy(&mut from, &mut to);
                    let _ = to.shutdown(std::net::Shutdown::Write);
                });
            }
        }
    });
}

fn a_chain_out_of_reach_is_retried_until_it_answers(db: Db) {
    let Some(node) =
        tabella_tests::hardhat::node_or_skip("a_chain_out_of_reach_is_retried_until_it_answers")
    else {
        return;
    };
    // A port nothing listens on yet: the endpoint is down when voting opens.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    // Each backend's test sends from its own development account (the node is shared).
    let account = match db.backend {
        Backend::Sqlite => 8,
        Backend::Postgres => 9,
    };
    let anchoring = AnchorConfig {
        chain: ChainSpec::Rpc(format!("http://{port}")),
        signer: Signer::dev(account),
        registry: None,
        checkpoint_interval: Duration::from_millis(300),
        voting_period: VOTING_PERIOD,
        challenge_period: 86_400,
    };
    let e = HttpElection::with_anchoring(&db, 2, Some(anchoring));
    let public = e.public_client();
    let (ballot, _) = e.ballot(0, 0);
    public.cast(ballot.to_bytes()).unwrap();
    let status = wait_anchoring(&public, "a failed attempt", |s| {
        s.items
            .iter()
            .any(|i| i.kind == AnchorKind::Election && i.last_error.is_some())
            && s.lag_seconds > 0.5
    });
    let item = &status.items[0];
    assert_eq!(item.state, AnchorState::Pending);
    assert!(
        item.last_error.as_deref().unwrap().contains("out of reach"),
        "{item:?}"
    );
    let metrics = http_get(&e.service.url(), "/metrics").1;
    let lag = metrics
        .lines()
        .find_map(|l| l.strip_prefix("tabella_anchor_lag_seconds "))
        .unwrap();
    assert!(lag.parse::<f64>().unwrap() > 0.5, "{lag}");
    assert_eq!(
        metric(
            &metrics,
            "tabella_anchor_transactions_total{kind=\"election\",outcome=\"confirmed\"}"
        ),
        0
    );

    // The endpoint comes back: the retries get through, and the lag falls to 0.
    let upstream = node.url().trim_start_matches("http://").to_owned();
    forward(port, upstream);
    let status = wait_anchoring(&public, "the registration after the chain came back", |s| {
        anchored(s, AnchorKind::Election, None) && anchored(s, AnchorKind::Checkpoint, Some(1))
    });
    assert_eq!(status.chain_id, Some(tabella_tests::hardhat::CHAIN_ID));
    let item = &status.items[0];
    assert!(item.last_error.is_none(), "{item:?}");
    assert_eq!(public.anchoring().unwrap().lag_seconds, 0.0);
    let metrics = http_get(&e.service.url(), "/metrics").1;
    assert_eq!(
        metric(
            &metrics,
            "tabella_anchor_transactions_total{kind=\"election\",outcome=\"confirmed\"}"
        ),
        1
    );
    assert_eq!(metric(&metrics, "tabella_anchor_lag_seconds"), 0);
    e.service.shutdown().unwrap();
}

fn fallback_ballots_cast_on_chain_are_taken_at_the_close_once_each_or_refused_with_a_reason(
    db: Db,
) {
    let chain = TestChain::new();
    let e = HttpElection::with_anchoring(&db, 4, Some(chain.anchoring(Duration::from_secs(3600))));
    let public = e.public_client();
    let election = e.info.election_id;
    let status = wait_anchoring(&public, "the registration", |s| {
        anchored(s, AnchorKind::Election, None)
    });
    let registry = Registry::at(
        &chain.chain,
        Registry::parse_address(status.contract.as_deref().unwrap()).unwrap(),
    );
    let voter = Signer::dev(1);
    let cast_on_chain = |bytes: &[u8]| {
        block_on(registry.cast_fallback(&voter, election.0, bytes))
            .unwrap()
            .hash_hex()
    };

    // Voter 0 votes over HTTP; voter 1 through the contract, twice with the same bytes; voter
    // 0's very ballot is also posted on chain; then three ballots the board must refuse.
    let (on_board, _) = e.ballot(0, 0);
    let board_receipt = public.cast(on_board.to_bytes()).unwrap().0;
    let (fallback, _) = e.ballot(1, 2);
    let bytes = fallback.to_bytes().to_vec();
    let mut bad_signature = e.ballot(2, 1).0.to_bytes().to_vec();
    let last = bad_signature.len() - 32;
    bad_signature[last] = if bad_signature[last] == 0 {
        1
    } else {
        bad_signature[last] - 1
    };
    let stranger = CredentialSecret::derive(
        &CredentialCode::generate(&mut rand::rngs::OsRng),
        &election.0,
    );
    let (not_eligible, _) = encrypt(&e.ctx, &stranger, 1);
    let sent: Vec<String> = [
        &bytes[..],
        &bytes[..],
        on_board.to_bytes(),
        b"not a ballot",
        &bad_signature[..],
        not_eligible.to_bytes(),
    ]
    .into_iter()
    .map(cast_on_chain)
    .collect();
    // Nothing reaches the board before the close.
    assert_eq!(public.head().unwrap().head.size, 1);

    advance_to_close(&chain.chain, &status);
    let results = e.close_and_tally();
    assert_eq!(totals(&results), vec![vec![1, 0, 1]]);
    let page = public.entries(0, 1000).unwrap();
    assert_eq!(page.size, 2);
    assert_eq!(page.entries[1].tracking_code, fallback.tracking_code());
    assert_eq!(page.entries[1].status, EntryStatus::Counted);
    let receipt = public.receipt(&fallback.tracking_code()).unwrap();
    receipt.verify(&e.info.board_key).unwrap();
    assert_eq!(receipt.index, 1);

    let anchors = public.anchors().unwrap().unwrap();
    let taken: Vec<(u64, String, u64, TrackingCode)> = anchors
        .fallback
        .iter()
        .map(|f| {
            (
                f.chain_index,
                f.transaction.clone(),
                f.index,
                f.tracking_code,
            )
        })
        .collect();
    assert_eq!(
        taken,
        [
            (0, sent[0].clone(), 1, fallback.tracking_code()),
            (1, sent[1].clone(), 1, fallback.tracking_code()),
            (
                2,
                sent[2].clone(),
                board_receipt.index,
                on_board.tracking_code()
            ),
        ]
    );
    let refused: Vec<(u64, String)> = anchors
        .rejected
        .iter()
        .map(|r| (r.chain_index, r.transaction.clone()))
        .collect();
    assert_eq!(
        refused,
        [
            (3, sent[3].clone()),
            (4, sent[4].clone()),
            (5, sent[5].clone())
        ]
    );
    for (rejected, code) in anchors.rejected.iter().zip([
        "malformed_ballot",
        "invalid_signature",
        "credential_not_eligible",
    ]) {
        assert!(rejected.reason.contains(code), "{rejected:?}");
    }
    assert_eq!(
        anchors.rejected[0].tracking_code.0,
        tabella_tally::service::anchor::contracts::fallback_digest(b"not a ballot")
    );

    // The record holds them, and agrees with the chain (V20, V21).
    let status = wait_anchoring(&public, "the result", |s| {
        anchored(s, AnchorKind::Result, None) && all_anchored(s)
    });
    let evidence = check_chain_matches_the_board(&chain.chain, &e, &status);
    assert_eq!(evidence.fallback.len(), 6);
    let records = tempfile::tempdir().unwrap();
    let summary = tabella_tally::election::export_with(
        &public,
        &records.path().join("record"),
        tabella_tally::election::ExportOptions {
            chain: Some(evidence),
            ..tabella_tally::election::ExportOptions::default()
        },
    )
    .unwrap();
    assert!(
        summary.report.passed(),
        "{:?}",
        summary.report.first_failure()
    );
    let written: Anchors =
        serde_json::from_slice(&std::fs::read(records.path().join("record/anchors.json")).unwrap())
            .unwrap();
    assert_eq!(Some(written), public.anchors().unwrap());
    e.service.shutdown().unwrap();
}

fn without_anchoring_the_anchoring_routes_say_so(db: Db) {
    let e = HttpElection::new(&db, 1);
    let public = e.public_client();
    let status = public.anchoring().unwrap();
    assert!(!status.enabled);
    assert!(status.items.is_empty() && status.contract.is_none());
    assert_eq!(status.lag_seconds, 0.0);
    assert_eq!(public.anchors().unwrap(), None);
    let (status, body) = http_get(&e.service.url(), "/v1/record/anchors.json");
    assert_eq!(status, 404);
    let body: tabella_tally::api::ErrorBody = serde_json::from_str(&body).unwrap();
    assert_eq!(body.error, "not_anchored");
    // Without a chain the close needs nothing from one.
    assert_eq!(e.officials.close().unwrap().state, ElectionState::Closed);
    e.service.shutdown().unwrap();
}
