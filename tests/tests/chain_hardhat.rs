//! Chain integration tests against a real local Ethereum node: Hardhat's, from the npm registry
//! (`tests/src/hardhat.rs` starts one on a loopback port, or uses the one `.ci/run` started).
//!
//! - A voter's `tabella cast --fallback` sends a ballot through the registry contract: the chain
//!   stores its tracking code and publishes its bytes.
//! - `tabella demo --rpc-url` anchors a whole election on the node (creation, checkpoints, the
//!   final head, the result), a fallback ballot cast on chain is counted, and the record verifies
//!   against the chain (V20, V21 passed, not skipped); a tampered checkpoint or result in the
//!   record is caught.
//!
//! Each test signs with its own Hardhat dev accounts so that their nonces never race.

use std::path::{Path, PathBuf};

use base64::Engine as _;
use clap::Parser;
use rand::rngs::OsRng;
use sha2::{Digest, Sha256};
use tabella_contracts::{Chain, ElectionRegistration, Registry, Signer};
use tabella_crypto::ballot::{Ballot, ElectionContext};
use tabella_crypto::credential::{CredentialCode, CredentialSecret};
use tabella_crypto::record::{
    Anchors, Check, Outcome, RecordFile, RecordIndex, Report, SignedElectionParameters,
    VerifyOptions, ANCHORS, INDEX, RESULTS,
};
use tabella_tally::cast::{self, CastArgs};
use tabella_tally::chain::{ChainArgs, SignerArgs};
use tabella_tally::demo::{self, DemoOptions};
use tabella_tally::verify;
use tabella_tests::hardhat;

/// The example record's signed parameters (spec/vectors/record).
fn example_parameters() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../spec/vectors/record/election.json")
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime")
}

#[test]
fn a_fallback_ballot_cast_from_the_command_line_lands_on_the_chain() {
    let Some(node) = hardhat::node_or_skip("a_fallback_ballot_cast_from_the_command_line") else {
        return;
    };
    let signed: SignedElectionParameters = serde_json::from_slice(
        &std::fs::read(example_parameters()).expect("the example parameters"),
    )
    .expect("signed parameters");
    let params = &signed.parameters;
    let operator = Signer::dev(7);
    let rt = runtime();
    let chain = rt.block_on(Chain::rpc(node.url())).expect("the node");
    let (registry, _) = rt
        .block_on(Registry::deploy(&chain, &operator))
        .expect("the registry deploys");
    let now = rt.block_on(chain.time()).expect("the chain's time");
    let registration = ElectionRegistration {
        election_id: params.election_id.0,
        manifest_hash: params.manifest_hash.to_bytes(),
        credentials_digest: params.credentials_digest,
        trustee_keys_digest: [7; 32],
        joint_key: params.joint_key.to_bytes(),
        board_key: params.board_key.to_bytes(),
        opens_at: now,
        closes_at: now + 3600,
        challenge_period: 600,
    };
    rt.block_on(registry.create_election(&operator, &registration))
        .expect("the election registers");

    let code = CredentialCode::generate(&mut OsRng);
    let args = CastArgs {
        server: None,
        parameters: Some(example_parameters()),
        board_key: Some(hex::encode(params.board_key.to_bytes())),
        code: code.expose_secret().to_string(),
        choices: ["mayor=b", "parks=n", "parks=e", "budget=x:3"]
            .iter()
            .map(|s| s.to_string())
            .collect(),
        fallback: true,
        chain: ChainArgs {
            chain_dir: None,
            rpc_url: Some(node.url().to_string()),
            registry: Some(registry.address()),
        },
        signer: SignerArgs {
            signer_key_file: None,
            dev_account: Some(8),
        },
    };
    cast::run(&args).expect("the fallback cast goes through");

    let evidence = rt
        .block_on(registry.evidence(params.election_id.0))
        .expect("the evidence reads");
    assert_eq!(evidence.fallback.len(), 1, "{evidence:#?}");
    let fallback = &evidence.fallback[0];
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(&fallback.ballot)
        .expect("base64 ballot bytes");
    // The contract stored the tracking code (the Merkle leaf hash) of exactly these bytes.
    let mut leaf = Sha256::new();
    leaf.update([0u8]);
    leaf.update(&bytes);
    assert_eq!(fallback.digest, <[u8; 32]>::from(leaf.finalize()));
    // They are this voter's ballot for this election.
    let ctx = ElectionContext::new(
        params.election_id,
        params.manifest.clone(),
        params.joint_key,
    )
    .expect("a context");
    let ballot = Ballot::from_bytes(&bytes, &ctx).expect("a ballot of the election");
    assert_eq!(ballot.tracking_code().0, fallback.digest);
    let voter = CredentialSecret::derive(&code, &params.election_id.0).public();
    assert_eq!(ballot.credential(), &voter);

    // Outside the window (an election that has not opened yet) the contract refuses, and the
    // command says so.
    let later = ElectionRegistration {
        election_id: [0x5a; 32],
        opens_at: now + 3000,
        closes_at: now + 3600,
        ..registration
    };
    rt.block_on(registry.create_election(&operator, &later))
        .expect("a later election registers");
    let mut not_open = serde_json::to_value(&signed).expect("json");
    not_open["parameters"]["election_id"] = serde_json::json!(hex::encode([0x5a; 32]));
    let temp = tempfile::tempdir().expect("a temporary directory");
    let path = temp.path().join("election.json");
    std::fs::write(&path, serde_json::to_vec(&not_open).expect("json")).expect("written");
    let refused = cast::run(&CastArgs {
        parameters: Some(path),
        board_key: None,
        ..args
    });
    // The changed id breaks the board's signature: the command refuses before any transaction.
    let message = format!("{:#}", refused.expect_err("refused"));
    assert!(message.contains("not signed by the board key"), "{message}");
}

/// `tabella demo` options, parsed as the command line would.
#[derive(Parser)]
struct DemoCli {
    #[command(flatten)]
    options: DemoOptions,
}

fn checks(report: &Report) -> Vec<(Check, Outcome)> {
    report.checks.iter().map(|c| (c.check, c.outcome)).collect()
}

fn outcome(report: &Report, check: Check) -> Outcome {
    checks(report)
        .into_iter()
        .find(|(c, _)| *c == check)
        .map(|(_, o)| o)
        .expect("the check ran")
}

/// Verifies `record` against the node's chain.
fn verify_against(record: &Path, url: &str) -> Report {
    let args = ChainArgs {
        chain_dir: None,
        rpc_url: Some(url.to_string()),
        registry: None,
    };
    let evidence = verify::chain_evidence(record, &args).expect("the chain's evidence");
    assert!(evidence.is_some());
    verify::verify_dir(
        record,
        VerifyOptions {
            board_key: None,
            chain: evidence,
            booth: None,
        },
        |_, _| {},
    )
    .expect("the record reads")
}

/// Rewrites `record.json` after a document changed, so that only the chain can tell.
fn reindex(record: &Path, path: &str) {
    let index_path = record.join(INDEX);
    let mut index: RecordIndex =
        serde_json::from_slice(&std::fs::read(&index_path).expect("record.json")).expect("index");
    let bytes = std::fs::read(record.join(path)).expect("the document");
    for file in &mut index.files {
        if file.path == path {
            *file = RecordFile::describe(path, &bytes);
        }
    }
    std::fs::write(
        &index_path,
        serde_json::to_vec_pretty(&index).expect("json"),
    )
    .expect("written");
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("a directory");
    for entry in std::fs::read_dir(from).expect("the record") {
        let entry = entry.expect("an entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("a type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).expect("copied");
        }
    }
}

#[test]
fn the_demo_anchors_on_the_node_and_its_record_verifies_against_the_chain() {
    let Some(node) = hardhat::node_or_skip("the_demo_anchors_on_the_node") else {
        return;
    };
    let temp = tempfile::tempdir().expect("a temporary directory");
    let key = temp.path().join("operator.key");
    // Hardhat's well-known account 5 (public knowledge; a development chain only).
    std::fs::write(
        &key,
        "0x8b3a350cf5c34c9194ca85829a2df0ec3153be0318b5e2d3348e872092edffba\n",
    )
    .expect("key file");
    assert_eq!(
        Signer::from_file(&key).expect("a key").address(),
        Signer::dev(5).address()
    );
    let record = temp.path().join("record");
    let data = temp.path().join("data");
    let cli = DemoCli::try_parse_from([
        "demo",
        "--voters",
        "12",
        "--seed",
        "7",
        "--trustees",
        "3",
        "--threshold",
        "2",
        "--no-serve",
        "--rpc-url",
        node.url(),
        "--signer-key-file",
        key.to_str().expect("a UTF-8 path"),
        "--record",
        record.to_str().expect("a UTF-8 path"),
        "--data-dir",
        data.to_str().expect("a UTF-8 path"),
    ])
    .expect("demo options");
    demo::run(&cli.options).expect("the demo runs on the node");

    // The record says where it is anchored, and a ballot came through the contract.
    let anchors: Anchors =
        serde_json::from_slice(&std::fs::read(record.join(ANCHORS)).expect("anchors.json"))
            .expect("anchors");
    assert_eq!(anchors.chain_id, hardhat::CHAIN_ID);
    assert!(anchors.result_transaction.is_some());
    assert!(!anchors.checkpoints.is_empty(), "{anchors:#?}");
    assert!(!anchors.fallback.is_empty(), "{anchors:#?}");

    // Against the chain: every check passes, V20 and V21 included.
    let report = verify_against(&record, node.url());
    assert!(report.passed(), "{:#?}", report.first_failure());
    assert_eq!(outcome(&report, Check::V20), Outcome::Passed);
    assert_eq!(outcome(&report, Check::V21), Outcome::Passed);

    // A tampered checkpoint in the record (re-indexed, so only the chain can tell).
    let bad = temp.path().join("bad-checkpoint");
    copy_dir(&record, &bad);
    let mut changed = anchors.clone();
    changed.checkpoints[0].root[0] ^= 1;
    std::fs::write(
        bad.join(ANCHORS),
        serde_json::to_vec_pretty(&changed).expect("json"),
    )
    .expect("written");
    reindex(&bad, ANCHORS);
    let report = verify_against(&bad, node.url());
    assert!(!report.passed());
    assert_eq!(outcome(&report, Check::V20), Outcome::Failed, "{report:#?}");

    // A tampered result: another results.json, re-indexed: its digest is not the anchored one.
    let bad = temp.path().join("bad-result");
    copy_dir(&record, &bad);
    let mut results: serde_json::Value =
        serde_json::from_slice(&std::fs::read(bad.join(RESULTS)).expect("results.json"))
            .expect("json");
    results["contests"][0]["selections"][0]["total"] = serde_json::json!(999);
    std::fs::write(
        bad.join(RESULTS),
        serde_json::to_vec_pretty(&results).expect("json"),
    )
    .expect("written");
    reindex(&bad, RESULTS);
    let report = verify_against(&bad, node.url());
    assert!(!report.passed());
    assert_eq!(outcome(&report, Check::V20), Outcome::Failed, "{report:#?}");
}
