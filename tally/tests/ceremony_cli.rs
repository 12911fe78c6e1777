//! The trustees' and officials' ceremony commands, end to end: offline through a directory of
//! message files, online through the ceremony service, and through the `tabella` binary.

#![allow(clippy::unwrap_used)] // Test helpers: a failure is a test failure.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use tabella_crypto::ballot::ElectionId;
use tabella_crypto::ceremony::{
    CeremonyOutcome, Fault, PartialDecryptionMessage, TallyItem, TallyRequest,
};
use tabella_crypto::keystore::KdfParams;
use tabella_tally::ceremony::{self, combine_store, KeyCeremony, TALLY_REQUEST};
use tabella_tally::messages::server::spawn_local;
use tabella_tally::messages::{DirStore, HttpStore, MessageStore};
use tabella_tally::trustee;

const PASSPHRASE: &str = "correct horse battery staple";
const ELECTION: ElectionId = ElectionId([7; 32]);

/// `n` trustees with key files and announcements in `dir`, and the ceremony created in `store`.
fn setup(dir: &Path, store: &dyn MessageStore, n: usize, t: u32) -> Vec<PathBuf> {
    let mut keys = Vec::new();
    let mut announcements = Vec::new();
    for i in 1..=n {
        let key = dir.join(format!("trustee-{i}.key"));
        let announcement = dir.join(format!("trustee-{i}.announcement.json"));
        let summary = trustee::init(
            &key,
            PASSPHRASE,
            KdfParams::TEST,
            ELECTION,
            &format!("Trustee {i}"),
            &announcement,
        )
        .unwrap();
        assert!(summary.contains("You signed an announcement"), "{summary}");
        keys.push(key);
        announcements.push(announcement);
    }
    ceremony::create(store, t, &announcements).unwrap();
    keys
}

fn unlock(key: &Path) -> tabella_crypto::ceremony::TrusteeIdentity {
    trustee::unlock(key, PASSPHRASE).unwrap()
}

fn key_ceremony(store: &dyn MessageStore, keys: &[PathBuf]) -> CeremonyOutcome {
    for key in keys {
        let summary = trustee::deal_step(store, &unlock(key)).unwrap();
        assert!(
            summary.contains("encrypted shares") || summary.contains("already dealt"),
            "{summary}"
        );
    }
    for key in keys {
        let summary = trustee::check_step(store, &unlock(key), 0).unwrap();
        assert!(summary.contains("are correct"), "{summary}");
    }
    KeyCeremony::load(store, 0).unwrap().outcome
}

fn request(outcome: &CeremonyOutcome, totals: &[u64]) -> TallyRequest {
    let ek = outcome.joint_key.precompute();
    let rng = &mut rand::rngs::OsRng;
    TallyRequest {
        ceremony: outcome.ceremony,
        joint_key: outcome.joint_key,
        max_count: 1000,
        items: totals
            .iter()
            .enumerate()
            .map(|(k, &total)| TallyItem {
                label: format!("mayor/candidate-{k}"),
                ciphertext: ek.encrypt(total, rng).0 + ek.encrypt(0, rng).0,
            })
            .collect(),
    }
}

fn totals(store: &dyn MessageStore) -> Vec<u64> {
    combine_store(store, 0)
        .unwrap()
        .totals
        .iter()
        .map(|(_, v)| *v)
        .collect()
}

#[test]
fn offline_three_of_five_with_two_absent() {
    let tmp = tempfile::tempdir().unwrap();
    let store = DirStore::open(tmp.path().join("ceremony")).unwrap();
    let keys = setup(tmp.path(), &store, 5, 3);

    // Checking before everyone dealt names who is missing.
    trustee::deal_step(&store, &unlock(&keys[0])).unwrap();
    let err = trustee::check_step(&store, &unlock(&keys[1]), 0).unwrap_err();
    assert!(
        err.to_string()
            .contains("waiting for the dealer messages of trustee(s) 2, 3, 4, 5"),
        "{err}"
    );
    // Dealing twice is harmless.
    let again = trustee::deal_step(&store, &unlock(&keys[0])).unwrap();
    assert!(again.contains("already dealt"), "{again}");

    let outcome = key_ceremony(&store, &keys);
    assert_eq!(outcome.qualified, vec![1, 2, 3, 4, 5]);

    // Decrypting before the officials ask is a clear error.
    let err = trustee::decrypt_step(&store, &unlock(&keys[0]), 0, false).unwrap_err();
    assert!(err.to_string().contains(TALLY_REQUEST), "{err}");

    ceremony::publish_request(&store, &request(&outcome, &[12, 30, 7])).unwrap();
    for key in [&keys[0], &keys[2], &keys[4]] {
        let summary = trustee::decrypt_step(&store, &unlock(key), 0, false).unwrap();
        assert!(
            summary.contains("partial decryptions of 3 aggregate totals"),
            "{summary}"
        );
        assert!(summary.contains("never a single ballot"), "{summary}");
    }
    let result = combine_store(&store, 0).unwrap();
    assert_eq!(result.combined, vec![1, 3, 5]);
    assert_eq!(result.absent, vec![2, 4]);
    assert_eq!(totals(&store), vec![12, 30, 7]);
}

#[test]
fn offline_too_few_trustees_fail_clearly() {
    let tmp = tempfile::tempdir().unwrap();
    let store = DirStore::open(tmp.path().join("ceremony")).unwrap();
    let keys = setup(tmp.path(), &store, 3, 2);
    let outcome = key_ceremony(&store, &keys);
    ceremony::publish_request(&store, &request(&outcome, &[1])).unwrap();
    trustee::decrypt_step(&store, &unlock(&keys[1]), 0, false).unwrap();
    let err = combine_store(&store, 0).unwrap_err();
    let text = format!("{err:#}");
    assert!(text.contains("needs 2 trustees"), "{text}");
    assert!(text.contains("absent: trustee(s) 1, 3"), "{text}");
}

#[test]
fn offline_wrong_partial_decryption_is_named_and_the_tally_completes() {
    let tmp = tempfile::tempdir().unwrap();
    let store = DirStore::open(tmp.path().join("ceremony")).unwrap();
    let keys = setup(tmp.path(), &store, 4, 2);
    let outcome = key_ceremony(&store, &keys);
    let req = request(&outcome, &[5, 6]);
    ceremony::publish_request(&store, &req).unwrap();
    // Trustee 1 publishes trustee 2's shares as its own (copied file, author changed): the
    // directory takes anything, so `combine` must catch it.
    trustee::decrypt_step(&store, &unlock(&keys[1]), 0, false).unwrap();
    let bytes = store.get("partial-2.json").unwrap().unwrap();
    let mut forged: PartialDecryptionMessage = serde_json::from_slice(&bytes).unwrap();
    forged.trustee = 1;
    ceremony::publish(&store, "partial-1.json", &forged).unwrap();
    trustee::decrypt_step(&store, &unlock(&keys[3]), 0, false).unwrap();
    let result = combine_store(&store, 0).unwrap();
    assert_eq!(result.rejected.len(), 1);
    assert_eq!(result.rejected[0].trustee, 1);
    assert!(
        result.rejected[0].reason.contains("signature"),
        "{:?}",
        result.rejected
    );
    assert_eq!(result.combined, vec![2, 4]);
    assert_eq!(
        result.totals.iter().map(|(_, v)| *v).collect::<Vec<_>>(),
        vec![5, 6]
    );
}

#[test]
fn an_invalid_dealer_message_disqualifies_its_dealer_offline() {
    let tmp = tempfile::tempdir().unwrap();
    let store = DirStore::open(tmp.path().join("ceremony")).unwrap();
    let keys = setup(tmp.path(), &store, 3, 2);
    // Trustee 3's message reaches the directory with one envelope damaged after signing.
    let params = ceremony::load_params(&store).unwrap();
    let identity = unlock(&keys[2]);
    let mut bad =
        tabella_crypto::ceremony::deal(&params, &identity, &mut rand::rngs::OsRng).unwrap();
    bad.shares[0].sealed[0] ^= 0x80;
    // The signature now fails, so everyone sees an invalid dealer message.
    ceremony::publish(&store, "dealer-3.json", &bad).unwrap();
    for key in &keys[..2] {
        trustee::deal_step(&store, &unlock(key)).unwrap();
    }
    for key in &keys {
        trustee::check_step(&store, &unlock(key), 0).unwrap();
    }
    let outcome = KeyCeremony::load(&store, 0).unwrap().outcome;
    assert_eq!(outcome.qualified, vec![1, 2]);
    assert!(matches!(
        outcome.fault(3),
        Some(Fault::InvalidDealerMessage { .. })
    ));
    // The disqualified trustee is told why when it tries to decrypt.
    let req = request(&outcome, &[2]);
    ceremony::publish_request(&store, &req).unwrap();
    let err = trustee::decrypt_step(&store, &identity, 0, false).unwrap_err();
    assert!(format!("{err:#}").contains("disqualified"), "{err:#}");
    for key in &keys[..2] {
        trustee::decrypt_step(&store, &unlock(key), 0, false).unwrap();
    }
    assert_eq!(totals(&store), vec![2]);
}

#[test]
fn online_ceremony_through_the_service() {
    let tmp = tempfile::tempdir().unwrap();
    let dir: Arc<dyn MessageStore> = Arc::new(DirStore::open(tmp.path().join("served")).unwrap());
    let server = spawn_local(dir, ceremony::server_config(Some("s3cret".into()))).unwrap();
    let official = HttpStore::new(&server.url(), Some("s3cret".into())).unwrap();
    let trustee_side = HttpStore::new(&server.url(), None).unwrap();

    // Only the officials may create the ceremony.
    let keys = {
        let mut announcements = Vec::new();
        let mut keys = Vec::new();
        for i in 1..=3 {
            let key = tmp.path().join(format!("t{i}.key"));
            let ann = tmp.path().join(format!("t{i}.json"));
            trustee::init(
                &key,
                PASSPHRASE,
                KdfParams::TEST,
                ELECTION,
                &format!("T{i}"),
                &ann,
            )
            .unwrap();
            keys.push(key);
            announcements.push(ann);
        }
        let err = ceremony::create(&trustee_side, 2, &announcements).unwrap_err();
        assert!(
            format!("{err:#}").to_lowercase().contains("token"),
            "{err:#}"
        );
        ceremony::create(&official, 2, &announcements).unwrap();
        keys
    };

    // A dealer message under the wrong name is refused at the door, with the reason.
    let params = ceremony::load_params(&trustee_side).unwrap();
    let m =
        tabella_crypto::ceremony::deal(&params, &unlock(&keys[0]), &mut rand::rngs::OsRng).unwrap();
    let err = ceremony::publish(&trustee_side, "dealer-2.json", &m).unwrap_err();
    assert!(
        format!("{err:#}").contains("must hold trustee 2's dealer message"),
        "{err:#}"
    );
    let mut tampered = m.clone();
    tampered.commitments.swap(0, 1);
    let err = ceremony::publish(&trustee_side, "dealer-1.json", &tampered).unwrap_err();
    assert!(
        format!("{err:#}").contains("signature does not verify"),
        "{err:#}"
    );

    let outcome = key_ceremony(&trustee_side, &keys);
    let req = request(&outcome, &[9, 4]);
    // A trustee cannot publish the tally request.
    assert!(ceremony::publish_request(&trustee_side, &req).is_err());
    ceremony::publish_request(&official, &req).unwrap();

    // A wrong partial decryption is refused by the service and named.
    trustee::decrypt_step(&trustee_side, &unlock(&keys[0]), 0, false).unwrap();
    let first: PartialDecryptionMessage =
        serde_json::from_slice(&trustee_side.get("partial-1.json").unwrap().unwrap()).unwrap();
    let mut copied = first.clone();
    copied.trustee = 3;
    let err = ceremony::publish(&trustee_side, "partial-3.json", &copied).unwrap_err();
    assert!(
        format!("{err:#}").contains("partial decryption refused"),
        "{err:#}"
    );

    trustee::decrypt_step(&trustee_side, &unlock(&keys[2]), 0, false).unwrap();
    assert_eq!(totals(&trustee_side), vec![9, 4]);

    // Restart: the same directory served again holds the same ceremony.
    let before = KeyCeremony::load(&trustee_side, 0).unwrap().outcome;
    drop(server);
    let dir: Arc<dyn MessageStore> = Arc::new(DirStore::open(tmp.path().join("served")).unwrap());
    let server = spawn_local(dir, ceremony::server_config(None)).unwrap();
    let again = HttpStore::new(&server.url(), None).unwrap();
    assert_eq!(KeyCeremony::load(&again, 0).unwrap().outcome, before);
    assert_eq!(totals(&again), vec![9, 4]);
}

#[test]
fn key_files_refuse_wrong_passphrases_and_tampering() {
    let tmp = tempfile::tempdir().unwrap();
    let key = tmp.path().join("t.key");
    let ann = tmp.path().join("t.json");
    trustee::init(&key, PASSPHRASE, KdfParams::TEST, ELECTION, "T", &ann).unwrap();

    let err = trustee::unlock(&key, "wrong passphrase").unwrap_err();
    assert!(format!("{err:#}").contains("wrong passphrase"), "{err:#}");

    // Never overwritten.
    let err = trustee::init(&key, PASSPHRASE, KdfParams::TEST, ELECTION, "T", &ann).unwrap_err();
    assert!(err.to_string().contains("never overwritten"), "{err}");
    // Too short a passphrase.
    let err = trustee::init(
        &tmp.path().join("u.key"),
        "short",
        KdfParams::TEST,
        ELECTION,
        "U",
        &ann,
    )
    .unwrap_err();
    assert!(err.to_string().contains("too short"), "{err}");

    let text = std::fs::read_to_string(&key).unwrap();
    let mut value: serde_json::Value = serde_json::from_str(&text).unwrap();
    let ct = value["ciphertext"].as_str().unwrap().to_owned();
    let flipped = if ct.starts_with('A') {
        ct.replacen('A', "B", 1)
    } else {
        format!("A{}", &ct[1..])
    };
    value["ciphertext"] = flipped.into();
    let tampered = tmp.path().join("tampered.key");
    std::fs::write(&tampered, serde_json::to_string(&value).unwrap()).unwrap();
    let err = trustee::unlock(&tampered, PASSPHRASE).unwrap_err();
    assert!(format!("{err:#}").contains("altered"), "{err:#}");

    let truncated = tmp.path().join("truncated.key");
    std::fs::write(&truncated, &text[..text.len() / 2]).unwrap();
    let err = trustee::unlock(&truncated, PASSPHRASE).unwrap_err();
    assert!(
        format!("{err:#}").contains("not a trustee key file"),
        "{err:#}"
    );

    let err = trustee::unlock(&tmp.path().join("missing.key"), PASSPHRASE).unwrap_err();
    assert!(
        format!("{err:#}").contains("could not read the key file"),
        "{err:#}"
    );

    // A stranger's key is told it is not a trustee.
    let store = DirStore::open(tmp.path().join("c")).unwrap();
    setup(tmp.path(), &store, 1, 1);
    let err = trustee::deal_step(&store, &unlock(&key)).unwrap_err();
    assert!(
        err.to_string().contains("is not one of the trustees"),
        "{err}"
    );
}

/// Runs the `tabella` binary; returns (success, stdout, stderr).
fn tabella(args: &[&str]) -> (bool, String, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_tabella"))
        .args(args)
        .env_remove("TABELLA_PASSPHRASE")
        .env_remove("TABELLA_ADMIN_TOKEN")
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn the_tabella_binary_runs_an_offline_two_of_two_ceremony() {
    let tmp = tempfile::tempdir().unwrap();
    let p = |name: &str| tmp.path().join(name).to_str().unwrap().to_owned();
    let pass = tmp.path().join("passphrase");
    std::fs::write(&pass, format!("{PASSPHRASE}\n")).unwrap();
    let wrong = tmp.path().join("wrong");
    std::fs::write(&wrong, "not the passphrase\n").unwrap();
    let election = hex::encode(ELECTION.0);
    let dir = p("ceremony");
    let pf = pass.to_str().unwrap();

    for i in ["1", "2"] {
        let (ok, out, err) = tabella(&[
            "trustee",
            "init",
            "--key",
            &p(&format!("t{i}.key")),
            "--passphrase-file",
            pf,
            "--election",
            &election,
            "--name",
            &format!("Trustee {i}"),
            "--announcement",
            &p(&format!("t{i}.json")),
        ]);
        assert!(ok, "{out}{err}");
        assert!(out.contains("You signed an announcement"), "{out}");
    }
    let (ok, out, err) = tabella(&[
        "ceremony",
        "create",
        "--dir",
        &dir,
        "--threshold",
        "2",
        "--announcement",
        &p("t1.json"),
        "--announcement",
        &p("t2.json"),
    ]);
    assert!(ok, "{out}{err}");
    assert!(out.contains("2 trustees, threshold 2"), "{out}");

    // A wrong passphrase: a clear message and a non-zero exit, nothing published.
    let (ok, _, err) = tabella(&[
        "trustee",
        "deal",
        "--key",
        &p("t1.key"),
        "--passphrase-file",
        wrong.to_str().unwrap(),
        "--dir",
        &dir,
    ]);
    assert!(!ok);
    assert!(
        err.contains("wrong passphrase, or the key file has been altered"),
        "{err}"
    );
    // No passphrase and no terminal: told how to give one.
    let (ok, _, err) = tabella(&["trustee", "deal", "--key", &p("t1.key"), "--dir", &dir]);
    assert!(!ok);
    assert!(err.contains("--passphrase-file"), "{err}");

    for step in ["deal", "check"] {
        for i in ["1", "2"] {
            let (ok, out, err) = tabella(&[
                "trustee",
                step,
                "--key",
                &p(&format!("t{i}.key")),
                "--passphrase-file",
                pf,
                "--dir",
                &dir,
            ]);
            assert!(ok, "{step} {i}: {out}{err}");
            assert!(out.contains("You signed"), "{out}");
        }
    }
    let status = p("outcome.json");
    let (ok, out, err) = tabella(&["ceremony", "status", "--dir", &dir, "--out", &status]);
    assert!(ok, "{out}{err}");
    assert!(out.contains("key ceremony complete"), "{out}");
    let outcome: CeremonyOutcome =
        serde_json::from_str(&std::fs::read_to_string(&status).unwrap()).unwrap();

    let req_file = p("request.json");
    ceremony::write_json(Path::new(&req_file), &request(&outcome, &[3, 4])).unwrap();
    let (ok, out, err) = tabella(&["ceremony", "request", "--dir", &dir, "--request", &req_file]);
    assert!(ok, "{out}{err}");

    // One trustee of a 2-of-2 key cannot decrypt alone.
    let (ok, out, err) = tabella(&[
        "trustee",
        "decrypt",
        "--key",
        &p("t1.key"),
        "--passphrase-file",
        pf,
        "--dir",
        &dir,
    ]);
    assert!(ok, "{out}{err}");
    let (ok, _, err) = tabella(&["ceremony", "combine", "--dir", &dir]);
    assert!(!ok);
    assert!(err.contains("needs 2 trustees"), "{err}");

    let (ok, out, err) = tabella(&[
        "trustee",
        "decrypt",
        "--key",
        &p("t2.key"),
        "--passphrase-file",
        pf,
        "--dir",
        &dir,
    ]);
    assert!(ok, "{out}{err}");
    let (ok, out, err) = tabella(&[
        "ceremony",
        "combine",
        "--dir",
        &dir,
        "--out",
        &p("result.json"),
    ]);
    assert!(ok, "{out}{err}");
    assert!(out.contains("mayor/candidate-0           3"), "{out}");
    assert!(out.contains("mayor/candidate-1           4"), "{out}");
}

#[test]
fn an_offline_directory_refuses_what_the_service_refuses() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("ceremony");
    let raw = DirStore::open(&dir).unwrap();
    let keys = setup(tmp.path(), &raw, 2, 1);
    let store = ceremony::Location::dir(&dir).open(None).unwrap();
    let params = ceremony::load_params(&*store).unwrap();
    let mine =
        tabella_crypto::ceremony::deal(&params, &unlock(&keys[0]), &mut rand::rngs::OsRng).unwrap();
    // Under another trustee's name, under a non-canonical name, or altered: refused.
    let err = ceremony::publish(&*store, "dealer-2.json", &mine).unwrap_err();
    assert!(
        format!("{err:#}").contains("must hold trustee 2's"),
        "{err:#}"
    );
    let err = ceremony::publish(&*store, "dealer-01.json", &mine).unwrap_err();
    assert!(
        format!("{err:#}").contains("not a ceremony message name"),
        "{err:#}"
    );
    let mut altered = mine.clone();
    altered.shares.swap(0, 1);
    let err = ceremony::publish(&*store, "dealer-1.json", &altered).unwrap_err();
    assert!(
        format!("{err:#}").contains("signature does not verify"),
        "{err:#}"
    );

    // A file copied by hand onto the stick under trustee 2's name is not taken for its own.
    raw.put("dealer-2.json", &serde_json::to_vec(&mine).unwrap())
        .unwrap();
    let err = trustee::deal_step(&*store, &unlock(&keys[1])).unwrap_err();
    assert!(
        err.to_string().contains("is not a valid message of yours"),
        "{err}"
    );
}
