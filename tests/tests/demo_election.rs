//! End to end: the `tabella demo` election, in process, through the real HTTP service on
//! 127.0.0.1 (SQLite in a temporary directory). The demo itself fails unless the decrypted tally
//! equals the tally of the simulated voters' choices, the board refused no honest ballot, every
//! counted ballot passes batch verification at close, every partial decryption proof verifies,
//! sampled receipts' inclusion proofs check out, and the election record it exports passes every
//! check of the independent verifier. Each test writes the record to its own temporary directory
//! and verifies it again from the files.

use std::path::Path;

use tabella_crypto::record::VerifyOptions;
use tabella_tally::demo::{self, ContestSet, DemoOptions};

fn options(voters: u64, seed: u64, contests: ContestSet, record: &Path) -> DemoOptions {
    DemoOptions {
        voters,
        seed: Some(seed),
        contests,
        no_serve: true,
        record: Some(record.to_path_buf()),
        ..DemoOptions::default()
    }
}

/// A temporary directory, and the record directory inside it the demo is to create.
fn record_dir() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::Builder::new()
        .prefix("tabella-demo-record-")
        .tempdir()
        .expect("a temporary directory");
    let record = dir.path().join("record");
    (dir, record)
}

/// Verifies the record the demo wrote, from its files alone, and returns the report.
#[track_caller]
fn verified(record: &Path) -> tabella_crypto::record::Report {
    let report = tabella_tally::verify::verify_dir(record, VerifyOptions::default(), |_, _| {})
        .expect("the record directory can be read");
    assert!(
        report.passed(),
        "the demo's record verifies: {:?}",
        report.first_failure()
    );
    report
}

#[test]
fn demo_election_with_every_contest_style_tallies_the_voters_choices() {
    let (_dir, record) = record_dir();
    demo::run(&options(40, 2026, ContestSet::All, &record))
        .expect("the demo election completes and its tally checks out");
    let report = verified(&record);
    assert_eq!(report.counts.credentials, 40);
    assert!(report.counts.counted > 0 && report.counts.counted <= 40);
    assert_eq!(report.counts.trustees, 5);
    assert!(report.results.is_some());
}

#[test]
fn demo_election_with_plurality_only_tallies_the_voters_choices() {
    let (_dir, record) = record_dir();
    demo::run(&options(60, 7, ContestSet::Plurality, &record))
        .expect("the demo election completes and its tally checks out");
    let report = verified(&record);
    assert_eq!(report.counts.credentials, 60);
}

#[test]
fn demo_refuses_an_election_without_voters() {
    let (_dir, record) = record_dir();
    let err =
        demo::run(&options(0, 1, ContestSet::All, &record)).expect_err("no voters is refused");
    assert!(err.to_string().contains("at least one voter"), "{err}");
}

#[test]
fn three_of_five_trustees_decrypt_with_two_absent() {
    let (_dir, record) = record_dir();
    let opts = DemoOptions {
        trustees: 5,
        threshold: 3,
        absent: 2,
        ..options(20, 11, ContestSet::Plurality, &record)
    };
    demo::run(&opts).expect("three present trustees of five decrypt the tally");
    let report = verified(&record);
    assert_eq!(report.counts.partial_decryptions, 3);
    let results = report.results.expect("the verifier recomputes the results");
    assert_eq!(
        (results.combined, results.absent),
        (vec![1, 2, 3], vec![4, 5])
    );
}

#[test]
fn the_tally_fails_clearly_when_fewer_than_the_threshold_are_present() {
    let (_dir, record) = record_dir();
    let opts = DemoOptions {
        trustees: 5,
        threshold: 3,
        absent: 3,
        ..options(10, 12, ContestSet::Plurality, &record)
    };
    let err = demo::run(&opts).expect_err("two trustees cannot decrypt a 3-of-5 key");
    let text = format!("{err:#}");
    assert!(
        text.contains("the tally needs 3 trustees (the threshold) but only 2 valid partial decryption(s) are available"),
        "{text}"
    );
    assert!(text.contains("absent: trustee(s) 3, 4, 5"), "{text}");
    assert!(
        !record.exists(),
        "no record of an election that was not tallied"
    );
}

#[test]
fn one_trustee_alone_holds_a_one_of_one_key() {
    let (_dir, record) = record_dir();
    let opts = DemoOptions {
        trustees: 1,
        threshold: 1,
        absent: 0,
        ..options(10, 13, ContestSet::Plurality, &record)
    };
    demo::run(&opts).expect("a single trustee decrypts");
    assert_eq!(verified(&record).counts.trustees, 1);
}

#[test]
fn demo_refuses_a_record_directory_that_is_not_empty_before_it_starts() {
    let (dir, _) = record_dir();
    std::fs::write(dir.path().join("old.json"), "{}").expect("a file");
    let err = demo::run(&options(5, 1, ContestSet::Plurality, dir.path()))
        .expect_err("a directory holding files is refused");
    assert!(format!("{err:#}").contains("is not empty"), "{err:#}");
}

#[test]
fn demo_refuses_impossible_trustee_settings() {
    for (trustees, threshold, absent, expected) in [
        (0, 1, 0, "--trustees"),
        (3, 0, 0, "--threshold"),
        (3, 4, 0, "--threshold"),
        (3, 2, 4, "--absent"),
    ] {
        let (_dir, record) = record_dir();
        let opts = DemoOptions {
            trustees,
            threshold,
            absent,
            ..options(5, 1, ContestSet::Plurality, &record)
        };
        let err = demo::run(&opts).expect_err("refused");
        assert!(err.to_string().contains(expected), "{err}");
    }
}

#[test]
fn demo_anchors_its_election_on_the_embedded_chain_and_counts_the_ballot_cast_through_it() {
    use tabella_crypto::record::{Anchors, Check, Outcome, RecordIndex};
    use tabella_tally::service::anchor::contracts::{Chain, Registry};

    let (_dir, record) = record_dir();
    demo::run(&options(12, 21, ContestSet::Plurality, &record))
        .expect("the anchored demo election completes");
    let anchors: Anchors =
        serde_json::from_slice(&std::fs::read(record.join("anchors.json")).expect("anchors.json"))
            .expect("anchors.json parses");
    assert_eq!(anchors.fallback.len(), 1, "{anchors:?}");
    assert!(anchors.rejected.is_empty());
    assert!(anchors.result_transaction.is_some());
    let last = anchors.checkpoints.last().expect("a final checkpoint");
    let index: RecordIndex =
        serde_json::from_slice(&std::fs::read(record.join("record.json")).expect("record.json"))
            .expect("record.json parses");

    // The chain's state outlives the demo, next to the record: the record checks against it.
    let chain_dir = demo::chain_dir_for(&record);
    let chain = Chain::embedded_read_only(&chain_dir).expect("the demo's chain is kept");
    let registry = Registry::at(
        &chain,
        Registry::parse_address(&anchors.contract).expect("an address"),
    );
    let evidence = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime")
        .block_on(registry.evidence(index.election_id.0))
        .expect("the registry's evidence");
    let result = evidence.result.clone().expect("the result is published");
    assert_eq!(result.record_digest, index.anchored_digest());
    assert_eq!(
        (result.final_size, result.final_root),
        (last.size, last.root)
    );
    assert_eq!(evidence.fallback.len(), 1);
    let report = tabella_tally::verify::verify_dir(
        &record,
        VerifyOptions {
            board_key: None,
            chain: Some(evidence),
            booth: None,
        },
        |_, _| {},
    )
    .expect("the record directory can be read");
    assert!(report.passed(), "{:?}", report.first_failure());
    for check in [Check::V20, Check::V21] {
        let outcome = report
            .checks
            .iter()
            .find(|c| c.check == check)
            .map(|c| c.outcome);
        assert_eq!(outcome, Some(Outcome::Passed), "{check:?}");
    }
    // Twelve voters: eleven over HTTP, one through the contract, all counted.
    assert_eq!(report.counts.credentials, 12);
    assert_eq!(
        report.results.expect("results").ballots_counted,
        report.counts.counted
    );
}

#[test]
fn demo_without_a_chain_anchors_nothing() {
    let (_dir, record) = record_dir();
    let opts = DemoOptions {
        no_chain: true,
        ..options(6, 22, ContestSet::Plurality, &record)
    };
    demo::run(&opts).expect("the demo election completes without a chain");
    verified(&record);
    assert!(!record.join("anchors.json").exists());
    assert!(!demo::chain_dir_for(&record).exists());
}

/// The service never sees a credential code: the demo's registrar makes them off the server
/// (letters, e-mails in its outbox), and no code is anywhere in the service's database files.
#[test]
fn the_demo_service_never_holds_a_credential_code() {
    let (dir, record) = record_dir();
    let data = dir.path().join("data");
    let opts = DemoOptions {
        data_dir: Some(data.clone()),
        no_chain: true,
        ..options(8, 31, ContestSet::Plurality, &record)
    };
    demo::run(&opts).expect("the demo election completes");
    verified(&record);
    let registrar = tabella_tally::registrar::Registrar::open(&data.join("registrar"))
        .expect("the demo's registrar directory");
    assert_eq!(registrar.voters.len(), 8);
    assert_eq!(registrar.summary.letters, ["letters.pdf"]);
    let outbox: Vec<_> = std::fs::read_dir(data.join("registrar/outbox"))
        .expect("the outbox")
        .collect();
    assert_eq!(outbox.len(), 8, "one e-mail per voter");
    let mut database = Vec::new();
    for entry in std::fs::read_dir(&data).expect("the data directory") {
        let path = entry.expect("an entry").path();
        if path
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with("tabella.db"))
        {
            database.extend(std::fs::read(&path).expect("a database file"));
        }
    }
    assert!(!database.is_empty());
    for voter in &registrar.voters {
        let code = voter.code.as_bytes();
        assert!(
            !database.windows(code.len()).any(|w| w == code),
            "voter {}'s code is in the service's database",
            voter.voter_id
        );
    }
}

/// The demo e-mails every voter through a real SMTP server (with STARTTLS) when given one.
#[test]
fn the_demo_mails_its_voters_through_an_smtp_server() {
    let Some(python) = tabella_tests::smtp::python() else {
        return;
    };
    let cert = tabella_tests::smtp::self_signed();
    let mut sink = tabella_tests::smtp::Sink::start(
        &python,
        &[
            "--tls-cert",
            &cert.cert_path,
            "--tls-key",
            &cert.key_path,
            "--require-starttls",
        ],
    );
    let (dir, record) = record_dir();
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, &cert.trust_pem).expect("the certificate");
    let opts = DemoOptions {
        no_chain: true,
        smtp_url: Some(format!("smtp://localhost:{}", sink.port)),
        smtp_ca_file: Some(ca),
        ..options(5, 32, ContestSet::Plurality, &record)
    };
    demo::run(&opts).expect("the demo election completes");
    verified(&record);
    let messages = sink.messages();
    assert_eq!(messages.len(), 5);
    let to: Vec<String> = messages
        .iter()
        .map(|m| tabella_tests::smtp::decode(&python, m).to)
        .collect();
    for i in 1..=5 {
        let address = format!("voter-{i:06}@example.org");
        assert!(to.iter().any(|t| t.contains(&address)), "{to:?}");
    }
    sink.stop();
}
