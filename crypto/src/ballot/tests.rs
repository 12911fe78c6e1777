//! Ballot properties: honest ballots of every style verify; every single-field change is
//! rejected; binding to credential and election; batch = one-by-one; Benaloh openings.

use proptest::prelude::*;
use rand_chacha::ChaCha20Rng;
use rand_core::{RngCore, SeedableRng};

use super::*;
use crate::credential::{CredentialCode, CredentialSecret};
use crate::elgamal::SecretKey;
use crate::group::{g_table, EncodingError};
use crate::manifest::{ContestStyle, Manifest};
#[cfg(all(target_arch = "wasm32", target_os = "unknown"))]
use wasm_bindgen_test::wasm_bindgen_test as test;

pub(crate) fn all_styles_manifest() -> Manifest {
    Manifest::from_json(
        r#"{"title":"All styles","contests":[
          {"id":"mayor","title":"Mayor","style":{"type":"plurality"},
           "selections":[{"id":"a","label":"A"},{"id":"b","label":"B"},{"id":"c","label":"C"}]},
          {"id":"council","title":"Council","style":{"type":"approval","min":1,"max":2},
           "selections":[{"id":"a","label":"A"},{"id":"b","label":"B"},{"id":"c","label":"C"}]},
          {"id":"budget","title":"Budget","style":{"type":"score","max_score":10},
           "selections":[{"id":"a","label":"A"},{"id":"b","label":"B"}]},
          {"id":"parks","title":"Parks","style":{"type":"cumulative","max_per_selection":4,"budget":5},
           "selections":[{"id":"a","label":"A"},{"id":"b","label":"B"}]}]}"#,
    )
    .unwrap()
}

struct Fixture {
    ctx: ElectionContext,
    secret: SecretKey,
    credential: CredentialSecret,
    other_credential: CredentialSecret,
}

fn fixture() -> &'static Fixture {
    static F: std::sync::OnceLock<Fixture> = std::sync::OnceLock::new();
    F.get_or_init(|| {
        let mut rng = ChaCha20Rng::seed_from_u64(42);
        let secret = SecretKey::generate(&mut rng);
        let id = ElectionId([7; 32]);
        let ctx = ElectionContext::new(id, all_styles_manifest(), secret.public_key()).unwrap();
        let credential = CredentialSecret::derive(&CredentialCode::generate(&mut rng), &id.0);
        let other_credential = CredentialSecret::derive(&CredentialCode::generate(&mut rng), &id.0);
        Fixture {
            ctx,
            secret,
            credential,
            other_credential,
        }
    })
}

fn valid_choices() -> impl Strategy<Value = Vec<Vec<u64>>> {
    (
        0usize..3,
        prop::sample::select(vec![
            vec![1, 0, 0],
            vec![0, 1, 1],
            vec![1, 1, 0],
            vec![0, 0, 1],
        ]),
        (0u64..=10, 0u64..=10),
        (0u64..=4, 0u64..=4).prop_filter("budget", |(a, b)| a + b <= 5),
    )
        .prop_map(|(p, approval, (s1, s2), (c1, c2))| {
            let mut plurality = vec![0, 0, 0];
            plurality[p] = 1;
            vec![plurality, approval, vec![s1, s2], vec![c1, c2]]
        })
}

#[derive(Clone, Copy, Debug)]
enum Field {
    Version,
    Raw(usize),
    Point,
    NonIdentityPoint,
    Scalar,
}

/// Offsets and kinds of the fields of a ballot, in order.
struct Layout {
    fields: Vec<(usize, Field)>,
    at: usize,
}

impl Layout {
    fn push(&mut self, kind: Field, count: usize) {
        for _ in 0..count {
            self.fields.push((self.at, kind));
            self.at += 32;
        }
    }

    /// A disjunctive proof with `l` branches: 2·l commitments, then 2·l − 1 scalars.
    fn disjunctive(&mut self, l: usize) {
        self.push(Field::NonIdentityPoint, 2 * l);
        self.push(Field::Scalar, 2 * l - 1);
    }
}

/// Offsets and kinds of every field of a ballot of `ctx`.
fn field_map(ctx: &ElectionContext) -> Vec<(usize, Field)> {
    let mut layout = Layout {
        fields: vec![
            (0, Field::Version),
            (1, Field::Raw(32)),
            (33, Field::Raw(32)),
        ],
        at: 65,
    };
    for shape in &ctx.shapes {
        let n = shape.selections;
        for _ in 0..n {
            layout.push(Field::NonIdentityPoint, 1);
            layout.push(Field::Point, 1);
        }
        match shape.style {
            ContestStyle::Plurality => layout.disjunctive(n),
            ContestStyle::Approval { .. } => {
                for _ in 0..n {
                    layout.disjunctive(2);
                }
                if shape.total_proof {
                    layout.disjunctive((shape.total.1 - shape.total.0 + 1) as usize);
                }
            }
            _ => {
                layout.push(Field::NonIdentityPoint, n);
                for _ in 0..n {
                    layout.push(Field::NonIdentityPoint, 3);
                    layout.push(Field::Scalar, 3);
                }
                let (_, rs) = shape.ranges.as_ref().unwrap();
                let k = (rs.bits * rs.values).trailing_zeros() as usize;
                layout.push(Field::Point, 4);
                layout.push(Field::Scalar, 3);
                layout.push(Field::Point, 2 * k);
                layout.push(Field::Scalar, 2);
            }
        }
    }
    let Layout { mut fields, at } = layout;
    fields.push((at, Field::Raw(64)));
    assert_eq!(at + 64, ctx.ballot_len(), "field map covers the ballot");
    fields
}

fn replacement(kind: Field, old: &[u8], rng: &mut ChaCha20Rng) -> Vec<u8> {
    loop {
        let new = match kind {
            Field::Version => vec![2],
            Field::Raw(n) => {
                let mut v = vec![0u8; n];
                rng.fill_bytes(&mut v);
                v
            }
            Field::Point | Field::NonIdentityPoint => (g_table()
                * &curve25519_dalek::scalar::Scalar::random(rng))
                .compress()
                .to_bytes()
                .to_vec(),
            Field::Scalar => curve25519_dalek::scalar::Scalar::random(rng)
                .to_bytes()
                .to_vec(),
        };
        if new != old {
            return new;
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn honest_ballots_of_every_style_verify(choices in valid_choices(), seed: u64) {
        let f = fixture();
        let mut rng = ChaCha20Rng::seed_from_u64(seed);
        let (ballot, _) = f.ctx.encrypt_ballot(&choices, &f.credential, &mut rng).unwrap();
        prop_assert_eq!(ballot.to_bytes().len(), f.ctx.ballot_len());
        f.ctx.verify_ballot(&ballot, &mut rng).unwrap();
        let decoded = Ballot::from_bytes(ballot.to_bytes(), &f.ctx).unwrap();
        prop_assert_eq!(&decoded, &ballot);
        f.ctx.verify_ballot(&decoded, &mut rng).unwrap();
        // The ciphertexts decrypt to the choices.
        let table = crate::elgamal::DiscreteLogTable::new(16);
        for (i, values) in choices.iter().enumerate() {
            for (ct, m) in ballot.ciphertexts(i).unwrap().iter().zip(values) {
                prop_assert_eq!(table.solve(&f.secret.decrypt_to_point(ct)), Ok(*m));
            }
        }
    }

    #[test]
    fn every_single_field_change_is_rejected(choices in valid_choices(), seed: u64, pick in any::<prop::sample::Index>()) {
        let f = fixture();
        let mut rng = ChaCha20Rng::seed_from_u64(seed);
        let (ballot, _) = f.ctx.encrypt_ballot(&choices, &f.credential, &mut rng).unwrap();
        let fields = field_map(&f.ctx);
        let (offset, kind) = fields[pick.index(fields.len())];
        let len = match kind { Field::Version => 1, Field::Raw(n) => n, _ => 32 };
        let mut bytes = ballot.to_bytes().to_vec();
        let new = replacement(kind, &bytes[offset..offset + len], &mut rng);
        bytes[offset..offset + len].copy_from_slice(&new);
        let outcome = Ballot::from_bytes(&bytes, &f.ctx).and_then(|b| f.ctx.verify_ballot(&b, &mut rng));
        prop_assert!(outcome.is_err(), "changed field at {} ({:?}) accepted", offset, kind);
    }
}

#[test]
fn every_field_change_of_one_ballot_is_rejected_exhaustively() {
    let f = fixture();
    let mut rng = ChaCha20Rng::seed_from_u64(9);
    let (ballot, _) = f
        .ctx
        .encrypt_ballot(
            &[vec![0, 1, 0], vec![1, 0, 1], vec![3, 10], vec![4, 1]],
            &f.credential,
            &mut rng,
        )
        .unwrap();
    for (offset, kind) in field_map(&f.ctx) {
        let len = match kind {
            Field::Version => 1,
            Field::Raw(n) => n,
            _ => 32,
        };
        let mut bytes = ballot.to_bytes().to_vec();
        let new = replacement(kind, &bytes[offset..offset + len], &mut rng);
        bytes[offset..offset + len].copy_from_slice(&new);
        let outcome =
            Ballot::from_bytes(&bytes, &f.ctx).and_then(|b| f.ctx.verify_ballot(&b, &mut rng));
        assert!(
            outcome.is_err(),
            "changed field at {offset} ({kind:?}) accepted"
        );
    }
}

#[test]
fn ballots_for_every_choice_have_the_same_length() {
    let f = fixture();
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    let mut lengths = std::collections::BTreeSet::new();
    for p in 0..3 {
        for approval in [vec![1, 0, 0], vec![1, 1, 0], vec![0, 1, 1]] {
            for score in [vec![0, 0], vec![10, 10], vec![5, 1]] {
                for cumulative in [vec![0, 0], vec![4, 1], vec![1, 0]] {
                    let mut plurality = vec![0; 3];
                    plurality[p] = 1;
                    let choices = vec![plurality, approval.clone(), score.clone(), cumulative];
                    let (b, _) = f
                        .ctx
                        .encrypt_ballot(&choices, &f.credential, &mut rng)
                        .unwrap();
                    lengths.insert(b.to_bytes().len());
                }
            }
        }
    }
    assert_eq!(
        lengths.into_iter().collect::<Vec<_>>(),
        vec![f.ctx.ballot_len()]
    );
}

/// `ballot` with one proof scalar (the first, or the last, of its encoding) set to `value`.
fn with_proof_scalar(ballot: &Ballot, last: bool, value: u64) -> Ballot {
    let f = fixture();
    let fields = field_map(&f.ctx);
    let mut scalars = fields.iter().filter(|(_, k)| matches!(k, Field::Scalar));
    let (off, _) = if last {
        scalars.next_back()
    } else {
        scalars.next()
    }
    .unwrap();
    let mut bytes = ballot.to_bytes().to_vec();
    bytes[*off..off + 32]
        .copy_from_slice(&curve25519_dalek::scalar::Scalar::from(value).to_bytes());
    Ballot::from_bytes(&bytes, &f.ctx).unwrap()
}

/// `ballot` moved onto `credential`'s key and re-signed with it: a valid signature, but proofs
/// bound to the original credential.
fn copied_onto(ctx: &ElectionContext, ballot: &Ballot, credential: &CredentialSecret) -> Ballot {
    let mut bytes = ballot.to_bytes().to_vec();
    bytes[33..65].copy_from_slice(credential.public().as_bytes());
    let body_len = bytes.len() - 64;
    let mut message = ctx.manifest_hash.0.to_vec();
    message.extend_from_slice(&bytes[..body_len]);
    let sig = credential.sign(prove::SIGNATURE_CONTEXT, &message);
    bytes[body_len..].copy_from_slice(&sig.to_bytes());
    Ballot::from_bytes(&bytes, ctx).unwrap()
}

/// A ballot of every style, challenged: the ballot and its opening.
fn spoiled_sample(rng: &mut ChaCha20Rng) -> (Ballot, SpoiledBallot) {
    let choices = vec![vec![0, 1, 0], vec![1, 1, 0], vec![9, 0], vec![2, 3]];
    let (ballot, secrets) = fixture()
        .ctx
        .encrypt_ballot(&choices, &fixture().credential, rng)
        .unwrap();
    (ballot, SpoiledBallot::reveal(secrets))
}

fn sample_ballot(seed: u64) -> Ballot {
    let f = fixture();
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    f.ctx
        .encrypt_ballot(
            &[vec![0, 0, 1], vec![0, 1, 0], vec![2, 7], vec![1, 4]],
            &f.credential,
            &mut rng,
        )
        .unwrap()
        .0
}

#[test]
fn ballot_copied_onto_another_credential_is_rejected_even_if_re_signed() {
    let f = fixture();
    // The signature of the copy is valid, but every proof transcript bound the original
    // credential.
    let copied = copied_onto(&f.ctx, &sample_ballot(3), &f.other_credential);
    let err = f
        .ctx
        .verify_ballot(&copied, &mut ChaCha20Rng::seed_from_u64(0))
        .unwrap_err();
    assert!(
        matches!(err, BallotError::ContestProofRejected { .. }),
        "{err}"
    );
    // Each style's proofs are bound to the credential on their own: a plurality-only copy fails too.
    let plurality_only = ElectionContext::new(
        ElectionId([7; 32]),
        Manifest {
            title: "P".into(),
            contests: vec![all_styles_manifest().contests[0].clone()],
            booth: None,
            contact: None,
            translations: Default::default(),
        },
        f.secret.public_key(),
    )
    .unwrap();
    let (b, _) = plurality_only
        .encrypt_ballot(
            &[vec![0, 1, 0]],
            &f.credential,
            &mut ChaCha20Rng::seed_from_u64(1),
        )
        .unwrap();
    let copied = copied_onto(&plurality_only, &b, &f.other_credential);
    let err = plurality_only
        .verify_ballot(&copied, &mut ChaCha20Rng::seed_from_u64(0))
        .unwrap_err();
    assert!(
        matches!(err, BallotError::ContestProofRejected { ref contest, .. } if contest == "mayor"),
        "{err}"
    );
}

#[test]
fn ballot_for_another_election_is_rejected() {
    let f = fixture();
    let ballot = sample_ballot(4);
    let other = ElectionContext::new(
        ElectionId([8; 32]),
        all_styles_manifest(),
        f.secret.public_key(),
    )
    .unwrap();
    assert!(matches!(
        Ballot::from_bytes(ballot.to_bytes(), &other),
        Err(BallotError::WrongElection { .. })
    ));
    assert!(matches!(
        other.verify_ballot(&ballot, &mut ChaCha20Rng::seed_from_u64(0)),
        Err(BallotError::WrongElection { .. })
    ));
    // Same id, different manifest: the manifest hash is bound into every proof and the signature.
    let mut manifest = all_styles_manifest();
    manifest.title = "Another".into();
    let other = ElectionContext::new(ElectionId([7; 32]), manifest, f.secret.public_key()).unwrap();
    let decoded = Ballot::from_bytes(ballot.to_bytes(), &other).unwrap();
    assert_eq!(
        other.verify_ballot(&decoded, &mut ChaCha20Rng::seed_from_u64(0)),
        Err(BallotError::SignatureInvalid)
    );
}

#[test]
fn invalid_choices_are_refused_before_encryption() {
    let f = fixture();
    let mut rng = ChaCha20Rng::seed_from_u64(5);
    for bad in [
        vec![vec![1, 1, 0], vec![0, 1, 0], vec![0, 0], vec![0, 0]],
        vec![vec![1, 0, 0], vec![1, 1, 1], vec![0, 0], vec![0, 0]],
        vec![vec![1, 0, 0], vec![0, 1, 0], vec![11, 0], vec![0, 0]],
        vec![vec![1, 0, 0], vec![0, 1, 0], vec![0, 0], vec![4, 2]],
    ] {
        assert!(matches!(
            f.ctx.encrypt_ballot(&bad, &f.credential, &mut rng),
            Err(BallotError::InvalidChoices(_))
        ));
    }
}

#[test]
fn batch_verification_agrees_with_one_by_one_and_names_bad_ballots() {
    let f = fixture();
    let mut rng = ChaCha20Rng::seed_from_u64(6);
    let mut ballots: Vec<Ballot> = (0..6).map(|i| sample_ballot(100 + i)).collect();
    f.ctx.verify_batch(&ballots, &mut rng).unwrap();
    // Corrupt ballot 1 in a proof response and ballot 4 in its signature.
    ballots[1] = with_proof_scalar(&ballots[1], false, 5);
    let mut b4 = ballots[4].to_bytes().to_vec();
    let other = sample_ballot(999);
    let sig_at = b4.len() - 64;
    b4[sig_at..].copy_from_slice(&other.to_bytes()[sig_at..]);
    ballots[4] = Ballot::from_bytes(&b4, &f.ctx).unwrap();
    let err = f.ctx.verify_batch(&ballots, &mut rng).unwrap_err();
    let named: Vec<usize> = err.failures.iter().map(|(i, _)| *i).collect();
    assert_eq!(named, vec![1, 4]);
    for (i, b) in ballots.iter().enumerate() {
        assert_eq!(
            f.ctx.verify_ballot(b, &mut rng).is_ok(),
            !named.contains(&i),
            "ballot {i}"
        );
    }
    assert!(matches!(err.failures[1].1, BallotError::SignatureInvalid));
}

#[test]
fn benaloh_opening_checks_and_detects_a_lie() {
    let f = fixture();
    let mut rng = ChaCha20Rng::seed_from_u64(8);
    let (ballot, opening) = spoiled_sample(&mut rng);
    f.ctx.verify_spoiled(&ballot, &opening, &mut rng).unwrap();
    let json = serde_json::to_string(&opening).unwrap();
    let reparsed: SpoiledBallot = serde_json::from_str(&json).unwrap();
    f.ctx.verify_spoiled(&ballot, &reparsed, &mut rng).unwrap();

    // A device that shows one choice but encrypted another is caught.
    let mut lie = opening.clone();
    lie.choices[0] = vec![1, 0, 0];
    assert!(matches!(
        f.ctx.verify_spoiled(&ballot, &lie, &mut rng),
        Err(BallotError::SpoiledOpeningMismatch { ref contest, ref selection }) if contest == "mayor" && selection == "a"
    ));
    let mut lie = opening.clone();
    lie.choices[2] = vec![8, 1];
    assert!(matches!(
        f.ctx.verify_spoiled(&ballot, &lie, &mut rng),
        Err(BallotError::SpoiledOpeningMismatch { .. })
    ));
    let mut lie = opening.clone();
    lie.blindings[3][1] = hex::encode(curve25519_dalek::scalar::Scalar::ONE.as_bytes());
    assert!(matches!(
        f.ctx.verify_spoiled(&ballot, &lie, &mut rng),
        Err(BallotError::SpoiledOpeningMismatch { .. })
    ));
    let mut short = opening;
    short.nonces[1].pop();
    assert!(matches!(
        f.ctx.verify_spoiled(&ballot, &short, &mut rng),
        Err(BallotError::SpoiledShapeMismatch { .. })
    ));
}

#[test]
fn approval_without_limits_carries_no_total_proof() {
    let f = fixture();
    let mut manifest = all_styles_manifest();
    manifest.contests.truncate(2);
    manifest.contests[1].style = ContestStyle::Approval { min: 0, max: 3 };
    let ctx = ElectionContext::new(ElectionId([7; 32]), manifest, f.secret.public_key()).unwrap();
    assert!(!ctx.shapes[1].total_proof);
    // 65 header + plurality (3·64 + 128·3 − 32) + approval (3·64 + 3·224) + 64 signature.
    assert_eq!(ctx.ballot_len(), 65 + (192 + 352) + (192 + 672) + 64);
    let mut rng = ChaCha20Rng::seed_from_u64(11);
    for approval in [vec![0, 0, 0], vec![1, 1, 1], vec![0, 1, 0]] {
        let (ballot, _) = ctx
            .encrypt_ballot(&[vec![1, 0, 0], approval], &f.credential, &mut rng)
            .unwrap();
        let decoded = Ballot::from_bytes(ballot.to_bytes(), &ctx).unwrap();
        ctx.verify_ballot(&decoded, &mut rng).unwrap();
    }
}

#[test]
fn newer_ballot_version_is_reported_as_unsupported_whatever_its_length() {
    let f = fixture();
    for bytes in [vec![2u8], vec![2u8; 100], {
        let mut b = sample_ballot(12).to_bytes().to_vec();
        b[0] = 2;
        b
    }] {
        assert_eq!(
            Ballot::from_bytes(&bytes, &f.ctx),
            Err(BallotError::UnsupportedVersion(2))
        );
    }
}

#[test]
fn benaloh_opening_must_have_exactly_the_ballots_shape() {
    let f = fixture();
    let mut rng = ChaCha20Rng::seed_from_u64(13);
    let (ballot, opening) = spoiled_sample(&mut rng);
    // A blinding where the contest has none, or a missing one, is refused.
    let mut extra = opening.clone();
    extra.blindings[0].push(hex::encode(
        curve25519_dalek::scalar::Scalar::ONE.as_bytes(),
    ));
    assert!(matches!(
        f.ctx.verify_spoiled(&ballot, &extra, &mut rng),
        Err(BallotError::SpoiledShapeMismatch { .. })
    ));
    let mut missing = opening.clone();
    missing.blindings[2].pop();
    assert!(matches!(
        f.ctx.verify_spoiled(&ballot, &missing, &mut rng),
        Err(BallotError::SpoiledShapeMismatch { .. })
    ));
    let mut upper = opening;
    upper.nonces[0][0] = upper.nonces[0][0].to_uppercase();
    assert!(matches!(
        f.ctx.verify_spoiled(&ballot, &upper, &mut rng),
        Err(BallotError::Encoding(_))
    ));
}

#[test]
fn batch_and_single_verification_give_the_same_reason() {
    let f = fixture();
    let mut rng = ChaCha20Rng::seed_from_u64(14);
    // A changed proof scalar breaks both the proof and the signature over the body: both paths
    // report the signature.
    let bad = with_proof_scalar(&sample_ballot(15), false, 3);
    let single = f.ctx.verify_ballot(&bad, &mut rng).unwrap_err();
    let batch = f
        .ctx
        .verify_batch(&[sample_ballot(16), bad], &mut rng)
        .unwrap_err();
    assert_eq!(batch.failures, vec![(1, single)]);
}

// Native only: rayon's thread pool needs threads, which wasm32 in the browser does not have (the
// `parallel` feature is for native services).
#[cfg(all(feature = "parallel", not(target_arch = "wasm32")))]
#[test]
fn parallel_batch_verification_agrees_and_names_the_same_ballots() {
    let f = fixture();
    let mut rng = ChaCha20Rng::seed_from_u64(17);
    let mut ballots: Vec<Ballot> = (0..7).map(|i| sample_ballot(200 + i)).collect();
    f.ctx.verify_batch_parallel(&ballots, &mut rng).unwrap();
    ballots[5] = with_proof_scalar(&ballots[5], true, 9);
    let parallel = f.ctx.verify_batch_parallel(&ballots, &mut rng).unwrap_err();
    let serial = f.ctx.verify_batch(&ballots, &mut rng).unwrap_err();
    assert_eq!(parallel, serial);
    assert_eq!(parallel.failures.len(), 1);
    assert_eq!(parallel.failures[0].0, 5);
}

#[test]
fn base64_text_form_round_trips_and_is_strict() {
    let f = fixture();
    let ballot = sample_ballot(18);
    let text = ballot.to_base64();
    assert_eq!(Ballot::from_base64(&text, &f.ctx), Ok(ballot.clone()));
    let unpadded = text.trim_end_matches('=');
    if unpadded.len() != text.len() {
        assert!(matches!(
            Ballot::from_base64(unpadded, &f.ctx),
            Err(BallotError::Encoding(EncodingError::InvalidBase64 { .. }))
        ));
    }
    assert!(matches!(
        Ballot::from_base64(&format!(" {text}"), &f.ctx),
        Err(BallotError::Encoding(EncodingError::InvalidBase64 { .. }))
    ));
    let short = crate::group::text::to_base64(&ballot.to_bytes()[..100]);
    assert!(matches!(
        Ballot::from_base64(&short, &f.ctx),
        Err(BallotError::Encoding(EncodingError::WrongLength { .. }))
    ));
}

/// A broken generator that always returns zeros.
struct ZeroRng;

impl rand_core::RngCore for ZeroRng {
    fn next_u32(&mut self) -> u32 {
        0
    }
    fn next_u64(&mut self) -> u64 {
        0
    }
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        dest.fill(0);
    }
    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand_core::Error> {
        dest.fill(0);
        Ok(())
    }
}
impl rand_core::CryptoRng for ZeroRng {}

#[test]
fn hedged_nonces_differ_across_voters_and_choices_even_with_a_broken_rng() {
    let f = fixture();
    let choices = vec![vec![1, 0, 0], vec![1, 1, 0], vec![3, 4], vec![1, 2]];
    let (a, _) = f
        .ctx
        .encrypt_ballot(&choices, &f.credential, &mut ZeroRng)
        .unwrap();
    let (b, _) = f
        .ctx
        .encrypt_ballot(&choices, &f.other_credential, &mut ZeroRng)
        .unwrap();
    let mut other_choices = choices.clone();
    other_choices[0] = vec![0, 1, 0];
    let (c, _) = f
        .ctx
        .encrypt_ballot(&other_choices, &f.credential, &mut ZeroRng)
        .unwrap();
    let first_alpha = |ballot: &Ballot| ballot.ciphertexts(0).unwrap()[0].alpha().to_bytes();
    assert_ne!(first_alpha(&a), first_alpha(&b), "two voters");
    assert_ne!(first_alpha(&a), first_alpha(&c), "two choices of one voter");
    // Within a ballot, every nonce differs too.
    let alphas: std::collections::BTreeSet<[u8; 32]> = a
        .contests
        .iter()
        .flat_map(|c| c.ciphertexts.iter().map(|ct| ct.alpha().to_bytes()))
        .collect();
    assert_eq!(alphas.len(), 10);
    f.ctx
        .verify_ballot(&a, &mut ChaCha20Rng::seed_from_u64(0))
        .unwrap();
}
