//! Every verdict from a real election's ballots, and every lie of the service refused.

use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha20Rng;
use tabella_crypto::api::{BoardEntry, ElectionState, EntryStatus, TrackAnswer};
use tabella_crypto::ballot::{Ballot, ElectionContext, ElectionId, SpoiledBallot};
use tabella_crypto::board::receipt::EntryKind;
use tabella_crypto::credential::{CredentialCode, CredentialSecret};
use tabella_crypto::elgamal::SecretKey;
use tabella_crypto::manifest::Manifest;

use super::{check, Checked, Verdict};

struct Fixture {
    ctx: ElectionContext,
    /// Two ballots of the first voter, then one of the second.
    ballots: Vec<Ballot>,
    spoiled: (Ballot, SpoiledBallot),
}

fn fixture() -> &'static Fixture {
    static F: std::sync::OnceLock<Fixture> = std::sync::OnceLock::new();
    F.get_or_init(|| {
        let mut rng = ChaCha20Rng::seed_from_u64(16);
        let manifest = Manifest::from_json(
            r#"{"title":"T","contact":"Town hall, 01234 567890","contests":[
              {"id":"mayor","title":"Mayor","style":{"type":"plurality"},
               "selections":[{"id":"a","label":"A"},{"id":"b","label":"B"}]}]}"#,
        )
        .unwrap();
        let id = ElectionId([3; 32]);
        let ctx =
            ElectionContext::new(id, manifest, SecretKey::generate(&mut rng).public_key()).unwrap();
        let first = CredentialSecret::derive(&CredentialCode::generate(&mut rng), &id.0);
        let second = CredentialSecret::derive(&CredentialCode::generate(&mut rng), &id.0);
        let mut cast = |choice: Vec<u64>, who: &CredentialSecret| {
            ctx.encrypt_ballot(&[choice], who, &mut rng).unwrap()
        };
        let ballots = vec![
            cast(vec![1, 0], &first).0,
            cast(vec![0, 1], &first).0,
            cast(vec![0, 1], &second).0,
        ];
        let (challenged, secrets) = cast(vec![1, 0], &first);
        let spoiled = (challenged, SpoiledBallot::reveal(secrets));
        Fixture {
            ctx,
            ballots,
            spoiled,
        }
    })
}

fn entry(index: u64, ballot: &Ballot, kind: EntryKind, status: EntryStatus) -> BoardEntry {
    BoardEntry {
        index,
        tracking_code: ballot.tracking_code(),
        kind,
        status,
        credential: hex::encode(ballot.credential().to_bytes()),
        ballot: ballot.to_base64(),
        opening: None,
        received_at: 1_700_000_000_000 + index * 1000,
    }
}

fn answer(state: ElectionState, entry: BoardEntry, replaced_by: Option<BoardEntry>) -> TrackAnswer {
    TrackAnswer {
        state,
        size: 4,
        entry,
        replaced_by,
    }
}

fn run(a: &TrackAnswer) -> Result<Checked, String> {
    let f = fixture();
    check(
        a,
        &a.entry.tracking_code,
        &f.ctx,
        &mut ChaCha20Rng::seed_from_u64(0),
    )
    .map_err(|e| e.0)
}

fn replaced() -> TrackAnswer {
    let f = fixture();
    answer(
        ElectionState::Open,
        entry(0, &f.ballots[0], EntryKind::Cast, EntryStatus::Superseded),
        Some(entry(
            2,
            &f.ballots[1],
            EntryKind::Cast,
            EntryStatus::Counted,
        )),
    )
}

#[test]
fn each_verdict_from_real_ballots() {
    let f = fixture();
    let counted = entry(1, &f.ballots[1], EntryKind::Cast, EntryStatus::Counted);
    let open = run(&answer(ElectionState::Open, counted.clone(), None)).unwrap();
    assert_eq!((open.verdict, open.index), (Verdict::WillCount, 1));
    assert!(open.verdict.counts());
    for state in [ElectionState::Closed, ElectionState::Tallied] {
        let closed = run(&answer(state, counted.clone(), None)).unwrap();
        assert_eq!(closed.verdict, Verdict::Counted);
    }

    let r = run(&replaced()).unwrap();
    assert_eq!(
        r.verdict,
        Verdict::Replaced {
            index: 2,
            received_at: 1_700_000_002_000
        }
    );
    assert_eq!(r.replaced_by, Some(f.ballots[1].tracking_code()));
    assert!(!r.verdict.counts());
    assert_eq!(r.lines.len(), 2);

    let mut challenged = entry(3, &f.spoiled.0, EntryKind::Spoiled, EntryStatus::Spoiled);
    challenged.opening = Some(f.spoiled.1.clone());
    let c = run(&answer(ElectionState::Tallied, challenged, None)).unwrap();
    assert_eq!(c.verdict, Verdict::Challenged);
    assert!(!c.verdict.counts());
}

#[test]
fn the_words_name_the_time_and_the_contact() {
    let r = run(&replaced()).unwrap().verdict;
    let words = r.words(Some("Town hall, 01234 567890"), |ms| format!("<{ms}>"));
    assert!(words.contains("will not be counted"), "{words}");
    assert!(words.contains("replaced it on <1700000002000>"), "{words}");
    assert!(
        words.contains("If this was not you, contact Town hall, 01234 567890"),
        "{words}"
    );
    let without = r.words(None, |_| String::new());
    assert!(
        without.contains("contact the election officials"),
        "{without}"
    );
    assert!(Verdict::Challenged
        .words(None, |_| String::new())
        .contains("never counted"));
    assert!(Verdict::WillCount
        .words(None, |_| String::new())
        .contains("will be counted"));
    assert!(Verdict::Counted
        .words(None, |_| String::new())
        .contains("was counted"));
}

/// Each lie the service could tell is refused, with what did not hold.
#[test]
fn a_service_that_lies_is_refused() {
    let f = fixture();
    let refused = |a: TrackAnswer, why: &str| {
        let error = run(&a).unwrap_err();
        assert!(error.contains(why), "{why}: {error}");
    };

    // A replacement the voter did not make: another voter's ballot.
    let mut a = replaced();
    a.replaced_by = Some(entry(
        2,
        &f.ballots[2],
        EntryKind::Cast,
        EntryStatus::Counted,
    ));
    refused(a, "was cast with another voting code");
    // ... or the voter's own ballot under another voter's credential key (names it, unsigned).
    let mut a = replaced();
    if let Some(later) = a.replaced_by.as_mut() {
        later.credential = hex::encode(f.ballots[2].credential().to_bytes());
    }
    refused(a, "names another credential key");
    // ... or an earlier one, or a challenged one.
    let mut a = replaced();
    if let Some(later) = a.replaced_by.as_mut() {
        later.index = 0;
    }
    refused(a, "is not a later cast ballot");
    let mut a = replaced();
    if let Some(later) = a.replaced_by.as_mut() {
        later.kind = EntryKind::Spoiled;
    }
    refused(a, "is not a later cast ballot");
    // Replaced, but nothing shown; or shown while not replaced.
    let mut a = replaced();
    a.replaced_by = None;
    refused(a, "does not show the ballot that replaced it");
    let mut a = replaced();
    a.entry.status = EntryStatus::Counted;
    refused(a, "yet says yours was not replaced");

    // Another ballot passed off as this one: its bytes, or its code.
    let mut a = replaced();
    a.entry.ballot = f.ballots[2].to_base64();
    refused(a, "do not hash to its tracking code");
    let mut a = replaced();
    let asked = a.entry.tracking_code;
    a.entry = entry(1, &f.ballots[1], EntryKind::Cast, EntryStatus::Counted);
    a.replaced_by = None;
    let error = check(&a, &asked, &f.ctx, &mut ChaCha20Rng::seed_from_u64(0)).unwrap_err();
    assert!(error.0.contains("another ballot"), "{error}");

    // A ballot whose signature fails, even with a matching leaf hash: the first ballot's body
    // with the second's signature (same voter, both well formed).
    let mut bytes = f.ballots[0].to_bytes().to_vec();
    let cut = bytes.len() - 64;
    bytes[cut..].copy_from_slice(&f.ballots[1].to_bytes()[cut..]);
    let mut a = replaced();
    a.entry.ballot = tabella_crypto::group::text::to_base64(&bytes);
    a.entry.tracking_code =
        tabella_crypto::ballot::TrackingCode(tabella_crypto::board::merkle::leaf_hash(&bytes));
    refused(a, "Entry 0: the ballot does not verify");

    // Kinds and statuses that cannot go together; entries beyond the board.
    let mut a = replaced();
    a.entry.kind = EntryKind::Spoiled;
    refused(a, "which cannot be");
    let mut a = replaced();
    a.size = 2;
    refused(a, "at entry 2 of a board of 2 entries");
}
