//! Test vectors in `spec/vectors/ballots.json` (spec/crypto.md §8–§10).
//!
//! Every random value comes from a seeded ChaCha20 stream, so a vector is fully reproducible:
//! `regenerate_ballot_vectors` (ignored) writes the file; `ballot_vectors_are_reproduced` derives
//! every vector again and compares it byte for byte, and `stored_ballot_vectors_verify` checks that
//! the stored ballots decode, verify and decrypt to their choices (old vectors keep verifying).

// Test code: a failure is a test failure. (clippy's `allow-unwrap-in-tests` does not reach the
// functions of wasm-bindgen-test's attribute, which are not `#[test]` functions to it.)
#![allow(clippy::unwrap_used)]

use curve25519_dalek::scalar::Scalar;
use rand_chacha::ChaCha20Rng;
use rand_core::{RngCore, SeedableRng};
use serde::{Deserialize, Serialize};
use tabella_crypto::ballot::{Ballot, ElectionContext, ElectionId};
use tabella_crypto::credential::{CredentialCode, CredentialSecret};
use tabella_crypto::elgamal::{DiscreteLogTable, SecretKey};
use tabella_crypto::group::{h, text};
use tabella_crypto::manifest::Manifest;

// These tests also run in headless Chromium (`cargo xtask test`, step browser-crypto), where
// wasm-bindgen-test's attribute stands in for `#[test]`, inside `proptest!` too.
#[cfg(all(target_arch = "wasm32", target_os = "unknown"))]
use wasm_bindgen_test::wasm_bindgen_test as test;
#[cfg(all(target_arch = "wasm32", target_os = "unknown"))]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

/// Where `regenerate_ballot_vectors` writes the vectors.
#[cfg(not(target_arch = "wasm32"))]
const PATH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../spec/vectors/ballots.json");
/// The stored vectors, embedded so that the tests read the same bytes natively and in the browser.
const STORED: &str = include_str!("../../spec/vectors/ballots.json");

#[derive(Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct VectorFile {
    description: String,
    generator_h: String,
    vectors: Vec<Vector>,
}

#[derive(Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Vector {
    name: String,
    seed: u64,
    manifest: Manifest,
    manifest_hash: String,
    election_id: String,
    /// Test-only: the election secret key, so the vector can be decrypted.
    election_secret_key: String,
    joint_key: String,
    credential_code: String,
    credential_key: String,
    choices: Vec<Vec<u64>>,
    ballot_len: usize,
    ballot: String,
    tracking_code: String,
}

fn manifests() -> Vec<(&'static str, &'static str, Vec<Vec<u64>>)> {
    vec![
        (
            "P10",
            r#"{"title":"P10","contests":[{"id":"c","title":"Plurality of 10","style":{"type":"plurality"},"selections":[
              {"id":"s0","label":"0"},{"id":"s1","label":"1"},{"id":"s2","label":"2"},{"id":"s3","label":"3"},{"id":"s4","label":"4"},
              {"id":"s5","label":"5"},{"id":"s6","label":"6"},{"id":"s7","label":"7"},{"id":"s8","label":"8"},{"id":"s9","label":"9"}]}]}"#,
            vec![vec![0, 0, 0, 1, 0, 0, 0, 0, 0, 0]],
        ),
        (
            "all-styles",
            r#"{"title":"All styles","contests":[
              {"id":"mayor","title":"Mayor","style":{"type":"plurality"},"selections":[{"id":"a","label":"A"},{"id":"b","label":"B"},{"id":"c","label":"C"}]},
              {"id":"council","title":"Council","style":{"type":"approval","min":1,"max":2},"selections":[{"id":"a","label":"A"},{"id":"b","label":"B"},{"id":"c","label":"C"}]},
              {"id":"budget","title":"Budget","style":{"type":"score","max_score":10},"selections":[{"id":"a","label":"A"},{"id":"b","label":"B"}]},
              {"id":"parks","title":"Parks","style":{"type":"cumulative","max_per_selection":4,"budget":5},"selections":[{"id":"a","label":"A"},{"id":"b","label":"B"}]}]}"#,
            vec![vec![0, 0, 1], vec![1, 0, 1], vec![7, 10], vec![4, 1]],
        ),
        (
            "approval-0-to-n",
            r#"{"title":"Approval without limits","contests":[
              {"id":"options","title":"Approve any","style":{"type":"approval","min":0,"max":4},"selections":[{"id":"a","label":"A"},{"id":"b","label":"B"},{"id":"c","label":"C"},{"id":"d","label":"D"}]}]}"#,
            vec![vec![1, 0, 1, 1]],
        ),
    ]
}

fn derive(name: &str, seed: u64, manifest_json: &str, choices: Vec<Vec<u64>>) -> Vector {
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let manifest = Manifest::from_json(manifest_json).expect("vector manifest is valid");
    let mut id = [0u8; 32];
    rng.fill_bytes(&mut id);
    let key = SecretKey::generate(&mut rng);
    let code = CredentialCode::generate(&mut rng);
    let credential = CredentialSecret::derive(&code, &id);
    let ctx =
        ElectionContext::new(ElectionId(id), manifest.clone(), key.public_key()).expect("valid");
    let (ballot, _) = ctx
        .encrypt_ballot(&choices, &credential, &mut rng)
        .expect("valid choices");
    Vector {
        name: name.into(),
        seed,
        manifest_hash: hex::encode(ctx.manifest_hash().0),
        manifest,
        election_id: hex::encode(id),
        election_secret_key: hex::encode(key.expose_secret().as_bytes()),
        joint_key: hex::encode(key.public_key().to_bytes()),
        credential_code: code.expose_secret().to_owned(),
        credential_key: hex::encode(credential.public().to_bytes()),
        choices,
        ballot_len: ballot.to_bytes().len(),
        ballot: hex::encode(ballot.to_bytes()),
        tracking_code: ballot.tracking_code().to_string(),
    }
}

fn derive_all() -> VectorFile {
    VectorFile {
        description: "Tabella ballot test vectors (spec/crypto.md). All randomness from ChaCha20Rng::seed_from_u64(seed), drawn in this order: election id (32 bytes), election secret key (Scalar::random), credential code, then encrypt_ballot. Secret keys are test-only.".into(),
        generator_h: hex::encode(h().compress().as_bytes()),
        vectors: manifests()
            .into_iter()
            .enumerate()
            .map(|(i, (name, json, choices))| derive(name, 1000 + i as u64, json, choices))
            .collect(),
    }
}

fn stored() -> VectorFile {
    serde_json::from_str(STORED).expect("vector file parses")
}

#[cfg(not(target_arch = "wasm32"))] // Writes into spec/: the browser has no file system.
#[test]
#[ignore = "writes spec/vectors/ballots.json; run on purpose when the format changes"]
fn regenerate_ballot_vectors() {
    let json = serde_json::to_string_pretty(&derive_all()).expect("serializes") + "\n";
    std::fs::write(PATH, json).expect("writes the vector file");
}

#[test]
fn ballot_vectors_are_reproduced() {
    assert_eq!(
        derive_all(),
        stored(),
        "re-derived vectors differ from spec/vectors/ballots.json"
    );
}

#[test]
fn stored_ballot_vectors_verify() {
    let file = stored();
    assert_eq!(file.generator_h, hex::encode(h().compress().as_bytes()));
    for v in &file.vectors {
        let id: [u8; 32] = text::from_hex("election id", &v.election_id).unwrap();
        let sk_bytes: [u8; 32] = text::from_hex("secret key", &v.election_secret_key).unwrap();
        let sk =
            SecretKey::from_scalar(Option::from(Scalar::from_canonical_bytes(sk_bytes)).unwrap());
        assert_eq!(hex::encode(sk.public_key().to_bytes()), v.joint_key);
        let ctx =
            ElectionContext::new(ElectionId(id), v.manifest.clone(), sk.public_key()).unwrap();
        assert_eq!(
            hex::encode(ctx.manifest_hash().0),
            v.manifest_hash,
            "{}",
            v.name
        );
        let bytes = hex::decode(&v.ballot).unwrap();
        assert_eq!(bytes.len(), v.ballot_len);
        let ballot = Ballot::from_bytes(&bytes, &ctx).unwrap();
        assert_eq!(ballot.tracking_code().to_string(), v.tracking_code);
        assert_eq!(
            hex::encode(ballot.credential().to_bytes()),
            v.credential_key
        );
        let code = CredentialCode::parse(&v.credential_code).unwrap();
        assert_eq!(
            CredentialSecret::derive(&code, &id).public(),
            *ballot.credential()
        );
        ctx.verify_ballot(&ballot, &mut ChaCha20Rng::seed_from_u64(0))
            .unwrap();
        let table = DiscreteLogTable::new(16);
        for (i, values) in v.choices.iter().enumerate() {
            for (ct, m) in ballot.ciphertexts(i).unwrap().iter().zip(values) {
                assert_eq!(table.solve(&sk.decrypt_to_point(ct)), Ok(*m), "{}", v.name);
            }
        }
    }
}

#[test]
fn worked_values_in_the_spec_match_the_vectors() {
    let spec = include_str!("../../spec/crypto.md");
    let file = stored();
    let p10 = file
        .vectors
        .iter()
        .find(|v| v.name == "P10")
        .expect("P10 vector");
    assert!(
        spec.contains(&format!("P10 vector: `{}`", p10.tracking_code)),
        "spec/crypto.md §8.4 quotes another P10 tracking code than spec/vectors/ballots.json"
    );
    assert!(
        spec.contains(&format!("P10 `{}`", p10.manifest_hash)),
        "§7 P10 manifest hash"
    );
    assert!(spec.contains(&file.generator_h), "§3 encoding of H");
}
