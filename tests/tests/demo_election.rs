//! End to end: the `tabella demo` election, in process, through the real HTTP service on
//! 127.0.0.1 (SQLite in a temporary directory). The demo itself fails unless the decrypted tally
//! equals the tally of the simulated voters' choices, the board refused no honest ballot, every
//! counted ballot passes batch verification at close, every partial decryption proof verifies,
//! the exported record matches the signed tree head and sampled receipts' inclusion proofs check
//! out.

use tabella_tally::demo::{self, ContestSet, DemoOptions};

fn options(voters: u64, seed: u64, contests: ContestSet) -> DemoOptions {
    DemoOptions {
        voters,
        seed: Some(seed),
        contests,
        no_serve: true,
        ..DemoOptions::default()
    }
}

#[test]
fn demo_election_with_every_contest_style_tallies_the_voters_choices() {
    demo::run(&options(40, 2026, ContestSet::All))
        .expect("the demo election completes and its tally checks out");
}

#[test]
fn demo_election_with_plurality_only_tallies_the_voters_choices() {
    demo::run(&options(60, 7, ContestSet::Plurality))
        .expect("the demo election completes and its tally checks out");
}

#[test]
fn demo_refuses_an_election_without_voters() {
    let err = demo::run(&options(0, 1, ContestSet::All)).expect_err("no voters is refused");
    assert!(err.to_string().contains("at least one voter"), "{err}");
}

#[test]
fn three_of_five_trustees_decrypt_with_two_absent() {
    let opts = DemoOptions {
        trustees: 5,
        threshold: 3,
        absent: 2,
        ..options(20, 11, ContestSet::Plurality)
    };
    demo::run(&opts).expect("three present trustees of five decrypt the tally");
}

#[test]
fn the_tally_fails_clearly_when_fewer_than_the_threshold_are_present() {
    let opts = DemoOptions {
        trustees: 5,
        threshold: 3,
        absent: 3,
        ..options(10, 12, ContestSet::Plurality)
    };
    let err = demo::run(&opts).expect_err("two trustees cannot decrypt a 3-of-5 key");
    let text = format!("{err:#}");
    assert!(
        text.contains("the tally needs 3 trustees (the threshold) but only 2 valid partial decryption(s) are available"),
        "{text}"
    );
    assert!(text.contains("absent: trustee(s) 3, 4, 5"), "{text}");
}

#[test]
fn one_trustee_alone_holds_a_one_of_one_key() {
    let opts = DemoOptions {
        trustees: 1,
        threshold: 1,
        absent: 0,
        ..options(10, 13, ContestSet::Plurality)
    };
    demo::run(&opts).expect("a single trustee decrypts");
}

#[test]
fn demo_refuses_impossible_trustee_settings() {
    for (trustees, threshold, absent, expected) in [
        (0, 1, 0, "--trustees"),
        (3, 0, 0, "--threshold"),
        (3, 4, 0, "--threshold"),
        (3, 2, 4, "--absent"),
    ] {
        let opts = DemoOptions {
            trustees,
            threshold,
            absent,
            ..options(5, 1, ContestSet::Plurality)
        };
        let err = demo::run(&opts).expect_err("refused");
        assert!(err.to_string().contains(expected), "{err}");
    }
}
