//! End to end: the `tabella demo` election, in process. The demo itself fails unless the
//! decrypted tally equals the tally of the simulated voters' choices, every counted ballot passes
//! batch verification, every decryption proof verifies and an inclusion proof checks out.

use tabella_tally::demo::{self, ContestSet, DemoOptions};

#[test]
fn demo_election_with_every_contest_style_tallies_the_voters_choices() {
    let opts = DemoOptions {
        voters: 40,
        seed: Some(2026),
        contests: ContestSet::All,
    };
    demo::run(&opts).expect("the demo election completes and its tally checks out");
}

#[test]
fn demo_election_with_plurality_only_tallies_the_voters_choices() {
    let opts = DemoOptions {
        voters: 60,
        seed: Some(7),
        contests: ContestSet::Plurality,
    };
    demo::run(&opts).expect("the demo election completes and its tally checks out");
}

#[test]
fn demo_refuses_an_election_without_voters() {
    let opts = DemoOptions {
        voters: 0,
        seed: Some(1),
        contests: ContestSet::All,
    };
    let err = demo::run(&opts).expect_err("no voters is refused");
    assert!(err.to_string().contains("at least one voter"), "{err}");
}
