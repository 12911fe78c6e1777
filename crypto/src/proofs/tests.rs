//! Negative tests for every proof (spec/crypto.md §6).
//!
//! For each proof: honest proofs verify; a false statement cannot be proved; every statement
//! input, every proof field (through the encoding, at its `# Layout` offset), wrong lengths,
//! identity points, non-canonical scalars and points, other transcripts and dishonest provers
//! are rejected with the right [`ProofError`].
//!
//! Statements are built exactly as the ballot code builds them (`ballot/prove.rs`:
//! `bind_contest`, `values_statement`, `single`, `summed`, `unit_vector_statement`). That module
//! is private to `ballot`, so its few lines are mirrored below; the ballot tests check the real
//! ones end to end.

use core::ops::RangeInclusive;

use curve25519_dalek::ristretto::RistrettoPoint;
use curve25519_dalek::scalar::Scalar;
use merlin::Transcript;
use proptest::prelude::*;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

use super::disjunctive::{prove_dleq, verify_dleq, DisjunctiveProof, Statement};
use super::linking::{commit, LinkingProof};
use super::msm::{Base, Msm};
use super::range::{Interval, RangeProof, RangeShape};
use super::schnorr::SchnorrProof;
use super::ProofError;
use crate::ballot::prove::{single, summed, unit_vector_statement, values_statement};
use crate::elgamal::{Ciphertext, EncryptionKey, Nonce, PublicKey, SecretKey};
use crate::group::{
    bulletproof_gens, g_table, pedersen_gens, Element, EncodingError, Reader, MAX_AGGREGATED_RANGES,
};
use crate::transcript::{labels, TranscriptProtocol};
#[cfg(all(target_arch = "wasm32", target_os = "unknown"))]
use wasm_bindgen_test::wasm_bindgen_test as test;

// ---------------------------------------------------------------------------------------------
// Fixtures
// ---------------------------------------------------------------------------------------------

const ELECTION: &[u8] = b"election-2024-city-council";

/// The caller's context, as every real transcript starts: a label, then the election id.
fn context(label: &'static [u8], election: &[u8]) -> Transcript {
    let mut t = Transcript::new(label);
    t.append_message(b"election-id", election);
    t
}

/// The transcript honest provers and verifiers use.
fn ctx() -> Transcript {
    context(labels::TRANSCRIPT, ELECTION)
}

/// Transcripts that differ from [`ctx`] only in their context: each must reject a proof made
/// under [`ctx`].
fn other_contexts() -> Vec<(&'static str, Transcript)> {
    vec![
        (
            "another election id",
            context(labels::TRANSCRIPT, b"election-2025-city-council"),
        ),
        (
            "another transcript label",
            context(b"tabella-test", ELECTION),
        ),
        ("no context at all", Transcript::new(labels::TRANSCRIPT)),
        ("an extra message after the context", {
            let mut t = ctx();
            t.append_message(b"extra", b"x");
            t
        }),
    ]
}

fn rng(seed: u64) -> ChaCha20Rng {
    ChaCha20Rng::seed_from_u64(seed)
}

/// The verifiers' weights come from their own generator, unrelated to the prover's.
fn weights() -> ChaCha20Rng {
    rng(0x5eed_f00d)
}

fn random_element(rng: &mut ChaCha20Rng) -> Element {
    Element::new(RistrettoPoint::random(rng))
}

struct Keys {
    public: PublicKey,
    ek: EncryptionKey,
}

fn keys(seed: u64) -> Keys {
    let public = SecretKey::generate(&mut rng(seed)).public_key();
    let ek = public.precompute();
    Keys { public, ek }
}

/// `(r·G, m·G + r·PK)` for any scalar `m` (also "negative" values, which `u64` cannot express).
fn encrypt_scalar(ek: &EncryptionKey, m: &Scalar, r: &Scalar) -> Ciphertext {
    Ciphertext::from_points(g_table() * r, g_table() * m + ek.mul(r))
}

/// Folds the accumulated equations into the verdict the callers of `verify_into` give.
fn fold(msm: &Msm) -> Result<(), ProofError> {
    if msm.holds() {
        Ok(())
    } else {
        Err(ProofError::EquationsFailed {
            proof: "folded equations",
        })
    }
}

fn is_equations_failed(e: &ProofError) -> bool {
    matches!(e, ProofError::EquationsFailed { .. })
}

// ---------------------------------------------------------------------------------------------
// Mirrors of the ballot statements (ballot/prove.rs)
// ---------------------------------------------------------------------------------------------

/// A contest binding shaped like the ballot's (ballot/prove.rs `bind_contest`), for a contest
/// that exists only in these tests.
fn bind_contest(t: &mut Transcript, ciphertexts: &[Ciphertext]) {
    t.append_u64(b"contest", 0);
    t.append_message(b"contest-id", b"council");
    for (j, ct) in ciphertexts.iter().enumerate() {
        t.append_message(b"selection-id", format!("candidate-{j}").as_bytes());
        t.append_message(b"alpha", ct.alpha.as_bytes());
        t.append_message(b"beta", ct.beta.as_bytes());
    }
}

// ---------------------------------------------------------------------------------------------
// Byte-level mutations of encodings
// ---------------------------------------------------------------------------------------------

/// ℓ, little endian: the smallest non-canonical scalar.
const ELL: [u8; 32] = [
    0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
];

/// p = 2²⁵⁵ − 19, little endian.
const FIELD_P: [u8; 32] = {
    let mut p = [0xff; 32];
    p[0] = 0xed;
    p[31] = 0x7f;
    p
};

/// 2²⁵⁵ − 1: a non-canonical field encoding (RFC 9496 A.2).
const NON_CANONICAL_FIELD: [u8; 32] = {
    let mut p = [0xff; 32];
    p[31] = 0x7f;
    p
};

fn word(bytes: &[u8], offset: usize) -> [u8; 32] {
    bytes[offset..offset + 32].try_into().unwrap()
}

fn splice(bytes: &[u8], offset: usize, new: &[u8; 32]) -> Vec<u8> {
    let mut out = bytes.to_vec();
    out[offset..offset + 32].copy_from_slice(new);
    out
}

/// `a + b` as 256-bit little-endian integers (no reduction).
fn add_256(a: &[u8; 32], b: &[u8; 32]) -> [u8; 32] {
    let mut out = [0u8; 32];
    let mut carry = 0u16;
    for ((o, x), y) in out.iter_mut().zip(a).zip(b) {
        let s = u16::from(*x) + u16::from(*y) + carry;
        *o = s as u8;
        carry = s >> 8;
    }
    assert_eq!(carry, 0, "overflow");
    out
}

/// `a − b` as 256-bit little-endian integers, `a ≥ b`.
fn sub_256(a: &[u8; 32], b: &[u8; 32]) -> [u8; 32] {
    let mut out = [0u8; 32];
    let mut borrow = 0i16;
    for ((o, x), y) in out.iter_mut().zip(a).zip(b) {
        let d = i16::from(*x) - i16::from(*y) - borrow;
        *o = d.rem_euclid(256) as u8;
        borrow = i16::from(d < 0);
    }
    assert_eq!(borrow, 0, "underflow");
    out
}

/// One 32-byte field of an encoding.
#[derive(Clone, Copy, Debug)]
enum Field {
    Point(usize),
    Scalar(usize),
}

/// How a proof reports a well-formed but wrong field: sigma proofs through their folded
/// equations (and strict point decoding), the Bulletproofs verifier as `RangeProofFailed` (its
/// points are decompressed, and refused, only during verification).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Sigma,
    Range,
}

fn expect_changed(kind: Kind, what: &str, result: Result<(), ProofError>) {
    let right = match kind {
        Kind::Sigma => matches!(result, Err(ProofError::EquationsFailed { .. })),
        Kind::Range => matches!(result, Err(ProofError::RangeProofFailed)),
    };
    assert!(right, "{what}: {kind:?} proof gave {result:?}");
}

fn expect_bad_point(kind: Kind, what: &str, result: Result<(), ProofError>, identity: bool) {
    let right = match (kind, identity) {
        (Kind::Sigma, true) => {
            matches!(
                result,
                Err(ProofError::Encoding(EncodingError::IdentityPoint { .. }))
            )
        }
        (Kind::Sigma, false) => {
            matches!(
                result,
                Err(ProofError::Encoding(
                    EncodingError::NonCanonicalPoint { .. }
                ))
            )
        }
        (Kind::Range, _) => matches!(result, Err(ProofError::RangeProofFailed)),
    };
    assert!(right, "{what}: {kind:?} proof gave {result:?}");
}

/// The shared core of every "change each proof field" test. `check` decodes bytes and verifies
/// them against the honest statement under the honest transcript.
fn assert_every_field_change_is_rejected(
    kind: Kind,
    honest: &[u8],
    layout: &[Field],
    check: &dyn Fn(&[u8]) -> Result<(), ProofError>,
    rng: &mut ChaCha20Rng,
) {
    assert_eq!(check(honest), Ok(()), "the honest proof must verify");
    // The layout names every byte exactly once.
    assert_eq!(layout.len() * 32, honest.len());
    for (i, field) in layout.iter().enumerate() {
        let (Field::Point(o) | Field::Scalar(o)) = *field;
        assert_eq!(o, 32 * i);
    }

    for field in layout {
        match *field {
            Field::Point(o) => {
                let old = word(honest, o);
                let other = random_element(rng).to_bytes();
                expect_changed(
                    kind,
                    &format!("{field:?} → another point"),
                    check(&splice(honest, o, &other)),
                );
                let old_point = Element::from_bytes("p", &old).unwrap().point;
                let doubled = Element::new(old_point + old_point);
                expect_changed(
                    kind,
                    &format!("{field:?} → doubled"),
                    check(&splice(honest, o, &doubled.to_bytes())),
                );
                expect_bad_point(
                    kind,
                    &format!("{field:?} → identity"),
                    check(&splice(honest, o, &[0; 32])),
                    true,
                );
                let mut high_bit = old;
                high_bit[31] |= 0x80;
                let negated = sub_256(&FIELD_P, &old);
                for (name, bad) in [
                    ("2^255 - 1", NON_CANONICAL_FIELD),
                    ("with bit 255 set", high_bit),
                    ("negated s", negated),
                ] {
                    expect_bad_point(
                        kind,
                        &format!("{field:?} → {name}"),
                        check(&splice(honest, o, &bad)),
                        false,
                    );
                }
            }
            Field::Scalar(o) => {
                let old = word(honest, o);
                let s = Scalar::from_canonical_bytes(old).unwrap();
                for (name, new) in [
                    ("s + 1", s + Scalar::ONE),
                    ("s - 1", s - Scalar::ONE),
                    ("-s", -s),
                    ("random", Scalar::random(rng)),
                ] {
                    expect_changed(
                        kind,
                        &format!("{field:?} → {name}"),
                        check(&splice(honest, o, &new.to_bytes())),
                    );
                }
                for (name, bad) in [
                    ("ℓ", ELL),
                    ("0xff…ff", [0xff; 32]),
                    ("s + ℓ", add_256(&old, &ELL)),
                ] {
                    let result = check(&splice(honest, o, &bad));
                    assert!(
                        matches!(
                            result,
                            Err(ProofError::Encoding(
                                EncodingError::NonCanonicalScalar { .. }
                            ))
                        ),
                        "{field:?} → {name}: {result:?}"
                    );
                }
            }
        }
    }

    // Wrong lengths.
    let n = honest.len();
    for short in [&honest[..n - 1], &honest[..n - 32], &[][..]] {
        let result = check(short);
        assert!(
            matches!(
                result,
                Err(ProofError::Encoding(EncodingError::WrongLength { .. }))
            ),
            "{} of {n} bytes: {result:?}",
            short.len()
        );
    }
    for extra in [1usize, 32] {
        let mut long = honest.to_vec();
        long.resize(n + extra, 0);
        let result = check(&long);
        assert!(
            matches!(
                result,
                Err(ProofError::Encoding(EncodingError::TrailingData { count, .. })) if count == extra
            ),
            "{extra} trailing bytes: {result:?}"
        );
    }

    // Every byte matters: one flipped bit anywhere is rejected.
    for i in 0..n {
        let mut flipped = honest.to_vec();
        flipped[i] ^= 1 << (i % 8);
        assert!(
            check(&flipped).is_err(),
            "bit {} of byte {i} flipped",
            i % 8
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Schnorr
// ---------------------------------------------------------------------------------------------

fn schnorr_check(t: &mut Transcript, public: &Element, bytes: &[u8]) -> Result<(), ProofError> {
    SchnorrProof::from_bytes(bytes)?.verify(t, public, &mut weights())
}

fn schnorr_fixture(seed: u64) -> (Scalar, Element, SchnorrProof) {
    let mut r = rng(seed);
    let x = Scalar::random(&mut r);
    let public = Element::new(g_table() * &x);
    let proof = SchnorrProof::prove(&mut ctx(), &public, &x, &mut r).unwrap();
    (x, public, proof)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    #[test]
    fn honest_schnorr_proofs_verify(seed: u64) {
        let (_, public, proof) = schnorr_fixture(seed);
        prop_assert_eq!(proof.verify(&mut ctx(), &public, &mut weights()), Ok(()));
        prop_assert_eq!(SchnorrProof::from_bytes(&proof.to_bytes()), Ok(proof));
    }

    #[test]
    fn schnorr_proof_for_another_public_key_is_rejected(seed: u64, other: u64) {
        let (_, _, proof) = schnorr_fixture(seed);
        let (_, public, _) = schnorr_fixture(other ^ 0x8000_0000_0000_0000);
        prop_assert_eq!(
            proof.verify(&mut ctx(), &public, &mut weights()),
            Err(ProofError::EquationsFailed { proof: "Schnorr proof" })
        );
    }
}

#[test]
fn schnorr_proof_with_any_changed_field_is_rejected() {
    let (_, public, proof) = schnorr_fixture(1);
    assert_every_field_change_is_rejected(
        Kind::Sigma,
        &proof.to_bytes(),
        &[Field::Point(0), Field::Scalar(32)],
        &|b| schnorr_check(&mut ctx(), &public, b),
        &mut rng(2),
    );
}

#[test]
fn schnorr_proof_with_changed_public_key_is_rejected() {
    let (x, public, proof) = schnorr_fixture(3);
    let mut r = rng(4);
    for (name, changed) in [
        ("random key", random_element(&mut r)),
        (
            "X + G",
            Element::new(public.point + g_table() * &Scalar::ONE),
        ),
        ("-X", Element::new(-public.point)),
        ("2·X", Element::new(public.point + public.point)),
        ("(x + 1)·G", Element::new(g_table() * &(x + Scalar::ONE))),
    ] {
        assert_eq!(
            proof.verify(&mut ctx(), &changed, &mut weights()),
            Err(ProofError::EquationsFailed {
                proof: "Schnorr proof"
            }),
            "{name}"
        );
    }
    // The identity is refused before any arithmetic.
    assert!(matches!(
        proof.verify(
            &mut ctx(),
            &Element::new(RistrettoPoint::default()),
            &mut weights()
        ),
        Err(ProofError::Encoding(EncodingError::IdentityPoint { .. }))
    ));
}

#[test]
fn schnorr_proof_under_another_transcript_is_rejected() {
    let (_, public, proof) = schnorr_fixture(5);
    for (name, mut t) in other_contexts() {
        assert_eq!(
            proof.verify(&mut t, &public, &mut weights()),
            Err(ProofError::EquationsFailed {
                proof: "Schnorr proof"
            }),
            "{name}"
        );
    }
}

#[test]
fn schnorr_prover_refuses_a_wrong_witness() {
    let (x, public, _) = schnorr_fixture(6);
    for wrong in [x + Scalar::ONE, -x, Scalar::ZERO] {
        assert_eq!(
            SchnorrProof::prove(&mut ctx(), &public, &wrong, &mut rng(7)),
            Err(ProofError::WitnessMismatch {
                proof: "Schnorr proof"
            })
        );
    }
    // The identity (x = 0) is never a statement.
    assert!(matches!(
        SchnorrProof::prove(
            &mut ctx(),
            &Element::new(RistrettoPoint::default()),
            &Scalar::ZERO,
            &mut rng(7)
        ),
        Err(ProofError::Encoding(EncodingError::IdentityPoint { .. }))
    ));
}

#[test]
fn schnorr_serde_refuses_non_canonical_text() {
    let (_, _, proof) = schnorr_fixture(8);
    let json = serde_json::to_string(&proof).unwrap();
    assert_eq!(serde_json::from_str::<SchnorrProof>(&json).unwrap(), proof);
    let hex_of = |b: &[u8]| format!("\"{}\"", hex::encode(b));
    let mut bytes = proof.to_bytes();
    bytes[32..].copy_from_slice(&ELL);
    for bad in [
        hex_of(&bytes),
        hex_of(&[&proof.to_bytes()[..], &[0]].concat()),
        hex_of(&proof.to_bytes()[..63]),
        format!("\"0{}", &json[1..]),
        json.to_uppercase().replace("\"", "\" "),
    ] {
        assert!(serde_json::from_str::<SchnorrProof>(&bad).is_err(), "{bad}");
    }
}

// ---------------------------------------------------------------------------------------------
// DLEQ (the one-branch disjunctive proof)
// ---------------------------------------------------------------------------------------------

/// `X = x·G`, `Y = x·B` for a public base `B` (a decryption share: `B = α`, `Y = s·α`).
struct Dleq {
    x: Scalar,
    base: Element,
    big_x: Element,
    big_y: Element,
}

fn dleq_fixture(seed: u64) -> (Dleq, DisjunctiveProof) {
    let mut r = rng(seed);
    let x = Scalar::random(&mut r);
    let base = random_element(&mut r);
    let st = Dleq {
        x,
        big_x: Element::new(g_table() * &x),
        big_y: Element::new(base.point * x),
        base,
    };
    let proof = prove_dleq(&mut ctx(), &st.base, &st.big_x, &st.big_y, &st.x, &mut r).unwrap();
    (st, proof)
}

fn dleq_check(t: &mut Transcript, st: &Dleq, bytes: &[u8]) -> Result<(), ProofError> {
    let proof = DisjunctiveProof::from_bytes(bytes, 1)?;
    verify_dleq(t, &st.base, &st.big_x, &st.big_y, &proof, &mut weights())
}

const DLEQ_FAILED: ProofError = ProofError::EquationsFailed {
    proof: "DLEQ proof",
};

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    #[test]
    fn honest_dleq_proofs_verify(seed: u64) {
        let (st, proof) = dleq_fixture(seed);
        prop_assert_eq!(proof.branches(), 1);
        prop_assert_eq!(proof.to_bytes().len(), DisjunctiveProof::encoded_len(1));
        prop_assert_eq!(dleq_check(&mut ctx(), &st, &proof.to_bytes()), Ok(()));
    }
}

#[test]
fn dleq_proof_with_any_changed_field_is_rejected() {
    let (st, proof) = dleq_fixture(10);
    assert_every_field_change_is_rejected(
        Kind::Sigma,
        &proof.to_bytes(),
        &[Field::Point(0), Field::Point(32), Field::Scalar(64)],
        &|b| dleq_check(&mut ctx(), &st, b),
        &mut rng(11),
    );
}

#[test]
fn dleq_proof_with_any_changed_statement_input_is_rejected() {
    let (st, proof) = dleq_fixture(12);
    let mut r = rng(13);
    let g = g_table() * &Scalar::ONE;
    let changes: Vec<(&str, Dleq)> = vec![
        (
            "base",
            Dleq {
                base: random_element(&mut r),
                ..st
            },
        ),
        (
            "X (another key)",
            Dleq {
                big_x: random_element(&mut r),
                ..st
            },
        ),
        (
            "X + G",
            Dleq {
                big_x: Element::new(st.big_x.point + g),
                ..st
            },
        ),
        (
            "Y",
            Dleq {
                big_y: random_element(&mut r),
                ..st
            },
        ),
        (
            "Y + G",
            Dleq {
                big_y: Element::new(st.big_y.point + g),
                ..st
            },
        ),
        (
            "X and Y swapped",
            Dleq {
                big_x: st.big_y,
                big_y: st.big_x,
                ..st
            },
        ),
    ];
    for (name, changed) in changes {
        assert_eq!(
            dleq_check(&mut ctx(), &changed, &proof.to_bytes()),
            Err(DLEQ_FAILED),
            "{name}"
        );
    }
}

#[test]
fn dleq_proof_under_another_transcript_is_rejected() {
    let (st, proof) = dleq_fixture(14);
    for (name, mut t) in other_contexts() {
        assert_eq!(
            dleq_check(&mut t, &st, &proof.to_bytes()),
            Err(DLEQ_FAILED),
            "{name}"
        );
    }
}

#[test]
fn dishonest_dleq_prover_cannot_prove_unequal_logs() {
    // A trustee publishes a wrong share Y = x'·B with x' ≠ x, whichever witness it proves with.
    let (st, _) = dleq_fixture(15);
    let x_wrong = st.x + Scalar::ONE;
    let lie = Dleq {
        big_y: Element::new(st.base.point * x_wrong),
        ..st
    };
    for witness in [st.x, x_wrong] {
        let proof = prove_dleq(
            &mut ctx(),
            &lie.base,
            &lie.big_x,
            &lie.big_y,
            &witness,
            &mut rng(16),
        )
        .unwrap();
        assert_eq!(
            dleq_check(&mut ctx(), &lie, &proof.to_bytes()),
            Err(DLEQ_FAILED)
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Disjunctive proofs over ciphertexts: 0/1, 0..k, sums
// ---------------------------------------------------------------------------------------------

/// Which combination of the ciphertexts the statement is about.
#[derive(Clone, Copy, Debug)]
enum Combine {
    Single,
    Summed,
}

/// "The ciphertext (or the sum of the ciphertexts) encrypts one of `values`", with its secrets.
#[derive(Clone)]
struct ValuesCase {
    cts: Vec<Ciphertext>,
    nonces: Vec<Scalar>,
    combine: Combine,
    values: Vec<u64>,
}

impl ValuesCase {
    fn new(
        ek: &EncryptionKey,
        messages: &[u64],
        combine: Combine,
        values: RangeInclusive<u64>,
        seed: u64,
    ) -> Self {
        let mut r = rng(seed);
        let nonces: Vec<Nonce> = messages.iter().map(|_| Nonce::random(&mut r)).collect();
        Self {
            cts: messages
                .iter()
                .zip(&nonces)
                .map(|(m, n)| ek.encrypt_with_nonce(*m, n))
                .collect(),
            nonces: nonces.iter().map(|n| n.0).collect(),
            combine,
            values: values.collect(),
        }
    }

    fn witness(&self) -> Scalar {
        self.nonces.iter().sum()
    }

    fn statement<'a>(&'a self, key: &'a Element) -> Statement<'a> {
        let (x, y) = match self.combine {
            Combine::Single => single(&self.cts[0]),
            Combine::Summed => summed(&self.cts),
        };
        values_statement(x, y, key, self.values.iter().copied())
    }

    fn prove_with(
        &self,
        t: &mut Transcript,
        ek: &EncryptionKey,
        real: usize,
        witness: &Scalar,
        seed: u64,
    ) -> Result<DisjunctiveProof, ProofError> {
        bind_contest(t, &self.cts);
        let st = self.statement(ek.public_key().element());
        DisjunctiveProof::prove(
            t,
            &st,
            &|s: &Scalar| ek.mul(s),
            real,
            witness,
            &mut rng(seed),
        )
    }

    /// The honest proof: the real branch is the position of the encrypted total in `values`.
    fn prove(&self, ek: &EncryptionKey, total: u64, seed: u64) -> DisjunctiveProof {
        let real = self.values.iter().position(|v| *v == total).unwrap();
        self.prove_with(&mut ctx(), ek, real, &self.witness(), seed)
            .unwrap()
    }

    fn verify(
        &self,
        t: &mut Transcript,
        key: &PublicKey,
        proof: &DisjunctiveProof,
    ) -> Result<(), ProofError> {
        bind_contest(t, &self.cts);
        let st = self.statement(key.element());
        let mut msm = Msm::new();
        proof.verify(t, &st, &mut msm, &mut weights())?;
        fold(&msm)
    }

    fn check(&self, t: &mut Transcript, key: &PublicKey, bytes: &[u8]) -> Result<(), ProofError> {
        let proof = DisjunctiveProof::from_bytes(bytes, self.values.len())?;
        self.verify(t, key, &proof)
    }
}

fn disjunctive_layout(branches: usize) -> Vec<Field> {
    let points = (0..2 * branches).map(|i| Field::Point(32 * i));
    let scalars = (2 * branches..4 * branches - 1).map(|i| Field::Scalar(32 * i));
    points.chain(scalars).collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    #[test]
    fn honest_zero_one_proofs_verify(m in 0u64..=1, seed: u64) {
        let k = keys(seed);
        let case = ValuesCase::new(&k.ek, &[m], Combine::Single, 0..=1, seed ^ 1);
        let proof = case.prove(&k.ek, m, seed ^ 2);
        prop_assert_eq!(proof.to_bytes().len(), DisjunctiveProof::encoded_len(2));
        prop_assert_eq!(case.check(&mut ctx(), &k.public, &proof.to_bytes()), Ok(()));
    }

    #[test]
    fn honest_zero_to_k_proofs_verify(k_max in 1u64..8, pick: prop::sample::Index, seed: u64) {
        let k = keys(seed);
        let m = pick.index(k_max as usize + 1) as u64;
        let case = ValuesCase::new(&k.ek, &[m], Combine::Single, 0..=k_max, seed ^ 1);
        let proof = case.prove(&k.ek, m, seed ^ 2);
        prop_assert_eq!(proof.branches(), k_max as usize + 1);
        prop_assert_eq!(case.check(&mut ctx(), &k.public, &proof.to_bytes()), Ok(()));
    }

    #[test]
    fn honest_sum_proofs_verify(bits in prop::collection::vec(0u64..=1, 1..5), seed: u64) {
        // An approval contest's total: lo..=hi around the actual total.
        let k = keys(seed);
        let total: u64 = bits.iter().sum();
        let (lo, hi) = (total.saturating_sub(1), total + 2);
        let case = ValuesCase::new(&k.ek, &bits, Combine::Summed, lo..=hi, seed ^ 1);
        let proof = case.prove(&k.ek, total, seed ^ 2);
        prop_assert_eq!(case.check(&mut ctx(), &k.public, &proof.to_bytes()), Ok(()));
    }

    #[test]
    fn ciphertext_of_a_value_outside_the_set_cannot_be_proved(
        k_max in 1u64..6, excess in 1u64..4, seed: u64,
    ) {
        let k = keys(seed);
        let m = k_max + excess;
        let case = ValuesCase::new(&k.ek, &[m], Combine::Single, 0..=k_max, seed ^ 1);
        for real in 0..=k_max as usize {
            let proof = case.prove_with(&mut ctx(), &k.ek, real, &case.witness(), seed ^ 2).unwrap();
            let result = case.check(&mut ctx(), &k.public, &proof.to_bytes());
            prop_assert!(result.as_ref().is_err_and(is_equations_failed), "branch {}: {:?}", real, result);
        }
    }
}

#[test]
fn zero_one_proof_of_a_two_cannot_be_made() {
    let k = keys(20);
    let case = ValuesCase::new(&k.ek, &[2], Combine::Single, 0..=1, 21);
    let mut r = rng(22);
    // Every branch, with the true nonce, a wrong nonce, and a random one.
    for real in 0..2 {
        for witness in [
            case.witness(),
            case.witness() + Scalar::ONE,
            Scalar::random(&mut r),
        ] {
            let proof = case
                .prove_with(&mut ctx(), &k.ek, real, &witness, 23)
                .unwrap();
            assert_eq!(
                case.check(&mut ctx(), &k.public, &proof.to_bytes())
                    .map_err(|e| is_equations_failed(&e)),
                Err(true)
            );
        }
    }
    // A branch that does not exist is a prover-side error.
    assert_eq!(
        case.prove_with(&mut ctx(), &k.ek, 2, &case.witness(), 24),
        Err(ProofError::WitnessMismatch {
            proof: "disjunctive Chaum-Pedersen proof"
        })
    );
    // So is a statement with no branches.
    let empty = ValuesCase {
        values: vec![],
        ..case.clone()
    };
    assert!(matches!(
        empty.prove_with(&mut ctx(), &k.ek, 0, &case.witness(), 24),
        Err(ProofError::WitnessMismatch { .. })
    ));
}

#[test]
fn proof_of_a_true_statement_with_the_wrong_branch_or_witness_is_rejected() {
    let k = keys(25);
    let case = ValuesCase::new(&k.ek, &[1], Combine::Single, 0..=1, 26);
    for (real, witness) in [
        (0, case.witness()),
        (1, case.witness() + Scalar::ONE),
        (1, -case.witness()),
    ] {
        let proof = case
            .prove_with(&mut ctx(), &k.ek, real, &witness, 27)
            .unwrap();
        assert!(case
            .check(&mut ctx(), &k.public, &proof.to_bytes())
            .is_err_and(|e| is_equations_failed(&e)));
    }
}

fn assert_values_statement_changes_are_rejected(
    case: &ValuesCase,
    k: &Keys,
    proof: &DisjunctiveProof,
    seed: u64,
) {
    let mut r = rng(seed);
    let g = g_table() * &Scalar::ONE;
    let n = case.values.len();
    let mut changes: Vec<(String, ValuesCase)> = Vec::new();
    for j in 0..case.cts.len() {
        let mut with = |name: &str, f: &dyn Fn(&mut Ciphertext, &mut ChaCha20Rng)| {
            let mut c = case.clone();
            f(&mut c.cts[j], &mut r);
            changes.push((format!("ciphertext {j}: {name}"), c));
        };
        with("random α", &|ct, r| ct.alpha = random_element(r));
        with("random β", &|ct, r| ct.beta = random_element(r));
        with("α + G", &|ct, _| {
            ct.alpha = Element::new(ct.alpha.point + g)
        });
        with("β + G (one more)", &|ct, _| {
            ct.beta = Element::new(ct.beta.point + g)
        });
        with("β − G (one less)", &|ct, _| {
            ct.beta = Element::new(ct.beta.point - g)
        });
        with("α and β swapped", &|ct, _| {
            core::mem::swap(&mut ct.alpha, &mut ct.beta)
        });
        with("re-randomised", &|ct, r| {
            let s = Scalar::random(r);
            ct.alpha = Element::new(ct.alpha.point + g_table() * &s);
            ct.beta = Element::new(ct.beta.point + k.public.element().point * s);
        });
    }
    let shifted = |d: i64| {
        case.values
            .iter()
            .map(|v| v.checked_add_signed(d).unwrap())
            .collect::<Vec<_>>()
    };
    changes.push((
        "values + 1".into(),
        ValuesCase {
            values: shifted(1),
            ..case.clone()
        },
    ));
    if case.values[0] > 0 {
        changes.push((
            "values − 1".into(),
            ValuesCase {
                values: shifted(-1),
                ..case.clone()
            },
        ));
    }
    let mut reversed = case.values.clone();
    reversed.reverse();
    changes.push((
        "values reversed".into(),
        ValuesCase {
            values: reversed,
            ..case.clone()
        },
    ));
    let mut last_changed = case.values.clone();
    *last_changed.last_mut().unwrap() += 100;
    changes.push((
        "last value changed".into(),
        ValuesCase {
            values: last_changed,
            ..case.clone()
        },
    ));
    if case.cts.len() > 1 {
        let mut dropped = case.clone();
        dropped.cts.pop();
        changes.push(("one ciphertext left out of the sum".into(), dropped));
        let mut swapped = case.clone();
        swapped.cts.swap(0, 1);
        changes.push(("ciphertexts reordered".into(), swapped));
    }
    for (name, changed) in changes {
        assert_eq!(changed.values.len(), n);
        let result = changed.verify(&mut ctx(), &k.public, proof);
        assert!(
            result.as_ref().is_err_and(is_equations_failed),
            "{name}: {result:?}"
        );
    }
    // Another election key (the proof replayed for another public key).
    let other = keys(seed ^ 0xffff);
    let result = case.verify(&mut ctx(), &other.public, proof);
    assert!(
        result.as_ref().is_err_and(is_equations_failed),
        "other key: {result:?}"
    );
}

#[test]
fn zero_one_proof_with_any_changed_statement_input_is_rejected() {
    let k = keys(30);
    for m in 0..=1 {
        let case = ValuesCase::new(&k.ek, &[m], Combine::Single, 0..=1, 31 + m);
        let proof = case.prove(&k.ek, m, 33);
        assert_eq!(case.verify(&mut ctx(), &k.public, &proof), Ok(()));
        assert_values_statement_changes_are_rejected(&case, &k, &proof, 34);
    }
}

#[test]
fn zero_to_k_proof_with_any_changed_statement_input_is_rejected() {
    let k = keys(35);
    let case = ValuesCase::new(&k.ek, &[3], Combine::Single, 0..=5, 36);
    let proof = case.prove(&k.ek, 3, 37);
    assert_eq!(case.verify(&mut ctx(), &k.public, &proof), Ok(()));
    assert_values_statement_changes_are_rejected(&case, &k, &proof, 38);
}

#[test]
fn sum_proof_with_any_changed_statement_input_is_rejected() {
    let k = keys(39);
    let case = ValuesCase::new(&k.ek, &[1, 0, 1], Combine::Summed, 1..=2, 40);
    let proof = case.prove(&k.ek, 2, 41);
    assert_eq!(case.verify(&mut ctx(), &k.public, &proof), Ok(()));
    assert_values_statement_changes_are_rejected(&case, &k, &proof, 42);
}

#[test]
fn disjunctive_proof_with_changed_bases_is_rejected() {
    let k = keys(43);
    let case = ValuesCase::new(&k.ek, &[1], Combine::Single, 0..=1, 44);
    let proof = case.prove(&k.ek, 1, 45);
    let other = random_element(&mut rng(46));
    let key = k.public.element();
    let base_changes: [(&str, Base<'_>, Base<'_>); 5] = [
        ("G₁ = H", Base::H, Base::Keyed(key)),
        ("G₁ = another point", Base::Point(&other), Base::Keyed(key)),
        ("G₂ = H", Base::G, Base::H),
        ("G₂ = G", Base::G, Base::G),
        ("G₂ = another point", Base::G, Base::Point(&other)),
    ];
    for (name, g1, g2) in base_changes {
        let mut t = ctx();
        bind_contest(&mut t, &case.cts);
        let st = Statement {
            g1,
            g2,
            ..case.statement(key)
        };
        let mut msm = Msm::new();
        proof.verify(&mut t, &st, &mut msm, &mut weights()).unwrap();
        assert!(!msm.holds(), "{name}");
    }
    // The same key given as a plain point (not merged) verifies: only the bytes matter.
    let mut t = ctx();
    bind_contest(&mut t, &case.cts);
    let st = Statement {
        g2: Base::Point(key),
        ..case.statement(key)
    };
    let mut msm = Msm::new();
    proof.verify(&mut t, &st, &mut msm, &mut weights()).unwrap();
    assert!(msm.holds());
}

#[test]
fn disjunctive_proof_under_another_transcript_is_rejected() {
    let k = keys(47);
    let case = ValuesCase::new(&k.ek, &[4], Combine::Single, 0..=6, 48);
    let proof = case.prove(&k.ek, 4, 49);
    for (name, mut t) in other_contexts() {
        let result = case.verify(&mut t, &k.public, &proof);
        assert!(
            result.as_ref().is_err_and(is_equations_failed),
            "{name}: {result:?}"
        );
    }
    // The ciphertexts must be bound by the caller before the proof: a verifier that binds
    // another contest index sees another challenge.
    let mut t = ctx();
    t.append_u64(b"contest", 1);
    let st = case.statement(k.public.element());
    let mut msm = Msm::new();
    proof.verify(&mut t, &st, &mut msm, &mut weights()).unwrap();
    assert!(!msm.holds());
}

#[test]
fn zero_one_proof_with_any_changed_field_is_rejected() {
    let k = keys(50);
    for m in 0..=1 {
        let case = ValuesCase::new(&k.ek, &[m], Combine::Single, 0..=1, 51 + m);
        let proof = case.prove(&k.ek, m, 53);
        assert_every_field_change_is_rejected(
            Kind::Sigma,
            &proof.to_bytes(),
            &disjunctive_layout(2),
            &|b| case.check(&mut ctx(), &k.public, b),
            &mut rng(54),
        );
    }
}

#[test]
fn zero_to_k_proof_with_any_changed_field_is_rejected() {
    let k = keys(55);
    let case = ValuesCase::new(&k.ek, &[2], Combine::Single, 0..=4, 56);
    let proof = case.prove(&k.ek, 2, 57);
    assert_every_field_change_is_rejected(
        Kind::Sigma,
        &proof.to_bytes(),
        &disjunctive_layout(5),
        &|b| case.check(&mut ctx(), &k.public, b),
        &mut rng(58),
    );
}

#[test]
fn disjunctive_proof_with_the_wrong_branch_count_is_rejected() {
    let k = keys(60);
    let case = ValuesCase::new(&k.ek, &[1], Combine::Single, 0..=2, 61);
    let proof = case.prove(&k.ek, 1, 62);
    let bytes = proof.to_bytes();
    assert_eq!(DisjunctiveProof::from_bytes(&bytes, 3), Ok(proof.clone()));
    // Decoding with another branch count fails as an encoding error.
    for branches in [1, 2, 4, 5] {
        let result = DisjunctiveProof::from_bytes(&bytes, branches);
        assert!(
            matches!(result, Err(ProofError::Encoding(_))),
            "{branches} branches: {result:?}"
        );
    }
    assert_eq!(
        DisjunctiveProof::from_bytes(&bytes, 0),
        Err(ProofError::WrongBranchCount {
            proof: "disjunctive Chaum-Pedersen proof",
            expected: 1,
            found: 0
        })
    );
    // Verifying against a statement with another branch count fails before any arithmetic.
    for values in [0..=1, 0..=3, 1..=4, 0..=0] {
        let other = ValuesCase {
            values: values.clone().collect(),
            ..case.clone()
        };
        assert_eq!(
            other.verify(&mut ctx(), &k.public, &proof),
            Err(ProofError::WrongBranchCount {
                proof: "disjunctive Chaum-Pedersen proof",
                expected: values.count(),
                found: 3,
            })
        );
    }
    // Neither may a proof for one statement be cut down or padded to fit another: a two-branch
    // proof's bytes re-read as if for one branch, or a three-branch one with a branch dropped.
    let two = ValuesCase::new(&k.ek, &[1], Combine::Single, 0..=1, 63);
    let two_proof = two.prove(&k.ek, 1, 64).to_bytes();
    assert!(DisjunctiveProof::from_bytes(&two_proof, 1).is_err());
    let mut dropped = bytes[..64 * 2].to_vec(); // a₀ b₀ a₁ b₁
    dropped.extend_from_slice(&bytes[64 * 3..64 * 3 + 32]); // c₀
    dropped.extend_from_slice(&bytes[64 * 3 + 64..64 * 3 + 128]); // z₀ z₁
    let cut = ValuesCase {
        values: vec![0, 1],
        ..case.clone()
    };
    let result = cut.check(&mut ctx(), &k.public, &dropped);
    assert!(
        result.as_ref().is_err_and(is_equations_failed),
        "{result:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// Plurality: unit vectors
// ---------------------------------------------------------------------------------------------

#[derive(Clone)]
struct UnitCase {
    cts: Vec<Ciphertext>,
    nonces: Vec<Scalar>,
}

impl UnitCase {
    /// Encrypts arbitrary scalars (so non-unit vectors such as `(1, 1, −1)` can be tried).
    fn new(ek: &EncryptionKey, messages: &[Scalar], seed: u64) -> Self {
        let mut r = rng(seed);
        let nonces: Vec<Scalar> = messages.iter().map(|_| Nonce::random(&mut r).0).collect();
        Self {
            cts: messages
                .iter()
                .zip(&nonces)
                .map(|(m, n)| encrypt_scalar(ek, m, n))
                .collect(),
            nonces,
        }
    }

    fn unit(ek: &EncryptionKey, len: usize, chosen: usize, seed: u64) -> Self {
        let messages: Vec<Scalar> = (0..len)
            .map(|j| Scalar::from(u64::from(j == chosen)))
            .collect();
        Self::new(ek, &messages, seed)
    }

    fn prove_with(
        &self,
        t: &mut Transcript,
        ek: &EncryptionKey,
        real: usize,
        nonces: &[Scalar],
        seed: u64,
    ) -> Result<DisjunctiveProof, ProofError> {
        bind_contest(t, &self.cts);
        let (st, rho) = unit_vector_statement(t, &self.cts, ek.public_key().element());
        let witness: Scalar = rho.iter().zip(nonces).map(|(p, r)| p * r).sum();
        DisjunctiveProof::prove(
            t,
            &st,
            &|s: &Scalar| ek.mul(s),
            real,
            &witness,
            &mut rng(seed),
        )
    }

    fn verify(
        &self,
        t: &mut Transcript,
        key: &PublicKey,
        proof: &DisjunctiveProof,
    ) -> Result<(), ProofError> {
        bind_contest(t, &self.cts);
        let (st, _) = unit_vector_statement(t, &self.cts, key.element());
        let mut msm = Msm::new();
        proof.verify(t, &st, &mut msm, &mut weights())?;
        fold(&msm)
    }

    fn check(&self, key: &PublicKey, bytes: &[u8]) -> Result<(), ProofError> {
        let proof = DisjunctiveProof::from_bytes(bytes, self.cts.len())?;
        self.verify(&mut ctx(), key, &proof)
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn honest_unit_vector_proofs_verify(len in 1usize..6, pick: prop::sample::Index, seed: u64) {
        let k = keys(seed);
        let chosen = pick.index(len);
        let case = UnitCase::unit(&k.ek, len, chosen, seed ^ 1);
        let proof = case.prove_with(&mut ctx(), &k.ek, chosen, &case.nonces, seed ^ 2).unwrap();
        prop_assert_eq!(case.check(&k.public, &proof.to_bytes()), Ok(()));
    }

    #[test]
    fn non_unit_vectors_cannot_be_proved(
        messages in prop::collection::vec(0u64..3, 2..5).prop_filter(
            "not a unit vector",
            |m| m.iter().filter(|v| **v == 1).count() != 1 || m.iter().any(|v| *v > 1),
        ),
        seed: u64,
    ) {
        let k = keys(seed);
        let scalars: Vec<Scalar> = messages.iter().map(|m| Scalar::from(*m)).collect();
        let case = UnitCase::new(&k.ek, &scalars, seed ^ 1);
        for real in 0..messages.len() {
            let proof = case.prove_with(&mut ctx(), &k.ek, real, &case.nonces, seed ^ 2).unwrap();
            let result = case.check(&k.public, &proof.to_bytes());
            prop_assert!(result.as_ref().is_err_and(is_equations_failed), "branch {}: {:?}", real, result);
        }
    }
}

#[test]
fn unit_vector_proof_of_a_vector_summing_to_one_is_rejected() {
    // (1, 1, −1) and (2, −1, 0) sum to one, which a sum-only check would accept.
    let k = keys(70);
    let minus_one = -Scalar::ONE;
    for messages in [
        vec![Scalar::ONE, Scalar::ONE, minus_one],
        vec![Scalar::from(2u64), minus_one, Scalar::ZERO],
        vec![Scalar::ZERO, Scalar::ZERO, Scalar::ZERO],
        vec![Scalar::ONE, Scalar::ONE, Scalar::ONE],
    ] {
        let case = UnitCase::new(&k.ek, &messages, 71);
        for real in 0..3 {
            let proof = case
                .prove_with(&mut ctx(), &k.ek, real, &case.nonces, 72)
                .unwrap();
            let result = case.check(&k.public, &proof.to_bytes());
            assert!(
                result.as_ref().is_err_and(is_equations_failed),
                "{real}: {result:?}"
            );
        }
    }
}

#[test]
fn unit_vector_proof_with_the_wrong_branch_or_nonces_is_rejected() {
    let k = keys(73);
    let case = UnitCase::unit(&k.ek, 4, 2, 74);
    for real in [0, 1, 3] {
        let proof = case
            .prove_with(&mut ctx(), &k.ek, real, &case.nonces, 75)
            .unwrap();
        assert!(case
            .check(&k.public, &proof.to_bytes())
            .is_err_and(|e| is_equations_failed(&e)));
    }
    let mut nonces = case.nonces.clone();
    nonces[0] += Scalar::ONE;
    let proof = case.prove_with(&mut ctx(), &k.ek, 2, &nonces, 76).unwrap();
    assert!(case
        .check(&k.public, &proof.to_bytes())
        .is_err_and(|e| is_equations_failed(&e)));
}

#[test]
fn unit_vector_proof_with_any_changed_ciphertext_or_key_is_rejected() {
    let k = keys(77);
    let case = UnitCase::unit(&k.ek, 3, 1, 78);
    let proof = case
        .prove_with(&mut ctx(), &k.ek, 1, &case.nonces, 79)
        .unwrap();
    assert_eq!(case.verify(&mut ctx(), &k.public, &proof), Ok(()));
    let mut r = rng(80);
    let g = g_table() * &Scalar::ONE;
    let mut changes: Vec<(String, UnitCase)> = Vec::new();
    for j in 0..3 {
        let mut with = |name: &str, f: &dyn Fn(&mut Ciphertext, &mut ChaCha20Rng)| {
            let mut c = case.clone();
            f(&mut c.cts[j], &mut r);
            changes.push((format!("ciphertext {j}: {name}"), c));
        };
        with("random α", &|ct, r| ct.alpha = random_element(r));
        with("random β", &|ct, r| ct.beta = random_element(r));
        with("α + G", &|ct, _| {
            ct.alpha = Element::new(ct.alpha.point + g)
        });
        with("β + G", &|ct, _| ct.beta = Element::new(ct.beta.point + g));
        with("β − G", &|ct, _| {
            ct.beta = Element::new(ct.beta.point - g)
        });
    }
    let mut swapped = case.clone();
    swapped.cts.swap(1, 2);
    changes.push(("choice moved to another selection".into(), swapped));
    let mut rotated = case.clone();
    rotated.cts.rotate_left(1);
    changes.push(("selections rotated".into(), rotated));
    for (name, changed) in changes {
        let result = changed.verify(&mut ctx(), &k.public, &proof);
        assert!(
            result.as_ref().is_err_and(is_equations_failed),
            "{name}: {result:?}"
        );
    }
    let other = keys(81);
    assert!(case
        .verify(&mut ctx(), &other.public, &proof)
        .is_err_and(|e| is_equations_failed(&e)));
    for (name, mut t) in other_contexts() {
        let result = case.verify(&mut t, &k.public, &proof);
        assert!(
            result.as_ref().is_err_and(is_equations_failed),
            "{name}: {result:?}"
        );
    }
    // One selection more or fewer: another branch count.
    let mut more = case.clone();
    more.cts.push(case.cts[0]);
    assert!(matches!(
        more.verify(&mut ctx(), &k.public, &proof),
        Err(ProofError::WrongBranchCount {
            expected: 4,
            found: 3,
            ..
        })
    ));
    let mut fewer = case.clone();
    fewer.cts.pop();
    assert!(matches!(
        fewer.verify(&mut ctx(), &k.public, &proof),
        Err(ProofError::WrongBranchCount {
            expected: 2,
            found: 3,
            ..
        })
    ));
}

#[test]
fn unit_vector_proof_with_any_changed_field_is_rejected() {
    let k = keys(82);
    let case = UnitCase::unit(&k.ek, 3, 0, 83);
    let proof = case
        .prove_with(&mut ctx(), &k.ek, 0, &case.nonces, 84)
        .unwrap();
    assert_every_field_change_is_rejected(
        Kind::Sigma,
        &proof.to_bytes(),
        &disjunctive_layout(3),
        &|b| case.check(&k.public, b),
        &mut rng(85),
    );
}

// ---------------------------------------------------------------------------------------------
// Linking proof
// ---------------------------------------------------------------------------------------------

/// A ciphertext `Enc(m; r)` and a commitment `V = m'·G + s·H` (normally `m' = m`).
#[derive(Clone)]
struct LinkCase {
    ct: Ciphertext,
    v: Element,
    m: u64,
    r: Scalar,
    s: Scalar,
}

impl LinkCase {
    fn new(ek: &EncryptionKey, m: u64, committed: u64, seed: u64) -> Self {
        let mut g = rng(seed);
        let r = Nonce::random(&mut g);
        let s = Scalar::random(&mut g);
        Self {
            ct: ek.encrypt_with_nonce(m, &r),
            v: Element::new(commit(committed, &s)),
            m,
            r: r.0,
            s,
        }
    }

    /// As a ballot does: the context binds the election key, then the ciphertext and `V`.
    fn transcript(&self, mut t: Transcript, key: &PublicKey) -> Transcript {
        t.append_message(b"joint-key", key.element().as_bytes());
        bind_contest(&mut t, &[self.ct]);
        t.append_message(b"commitment", self.v.as_bytes());
        t
    }

    fn prove(&self, ek: &EncryptionKey, m: u64, r: &Scalar, s: &Scalar, seed: u64) -> LinkingProof {
        let mut t = self.transcript(ctx(), ek.public_key());
        LinkingProof::prove(&mut t, ek, m, &Nonce(*r), s, &mut rng(seed)).unwrap()
    }

    fn honest(&self, ek: &EncryptionKey, seed: u64) -> LinkingProof {
        self.prove(ek, self.m, &self.r, &self.s, seed)
    }

    fn verify_in(
        &self,
        t: Transcript,
        key: &PublicKey,
        proof: &LinkingProof,
    ) -> Result<(), ProofError> {
        let mut t = self.transcript(t, key);
        let mut msm = Msm::new();
        proof.verify(&mut t, key, &self.ct, &self.v, &mut msm, &mut weights())?;
        fold(&msm)
    }

    fn check(&self, key: &PublicKey, bytes: &[u8]) -> Result<(), ProofError> {
        let mut reader = Reader::new("linking proof", bytes);
        let proof = LinkingProof::read(&mut reader)?;
        reader.finish()?;
        self.verify_in(ctx(), key, &proof)
    }
}

fn linking_bytes(proof: &LinkingProof) -> Vec<u8> {
    let mut out = Vec::new();
    proof.write(&mut out);
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    #[test]
    fn honest_linking_proofs_verify(m: u64, seed: u64) {
        let k = keys(seed);
        let case = LinkCase::new(&k.ek, m, m, seed ^ 1);
        let bytes = linking_bytes(&case.honest(&k.ek, seed ^ 2));
        prop_assert_eq!(bytes.len(), LinkingProof::LEN);
        prop_assert_eq!(case.check(&k.public, &bytes), Ok(()));
    }

    #[test]
    fn linking_proof_of_different_values_is_rejected(m in 0u64..1 << 40, delta in 1u64..1000, seed: u64) {
        // The ciphertext holds m, the commitment m + δ: whatever the prover claims, it fails.
        let k = keys(seed);
        let case = LinkCase::new(&k.ek, m, m + delta, seed ^ 1);
        for claimed in [m, m + delta] {
            let proof = case.prove(&k.ek, claimed, &case.r, &case.s, seed ^ 2);
            let result = case.check(&k.public, &linking_bytes(&proof));
            prop_assert!(result.as_ref().is_err_and(is_equations_failed), "claimed {}: {:?}", claimed, result);
        }
    }
}

#[test]
fn linking_proof_with_any_changed_statement_input_is_rejected() {
    let k = keys(90);
    let case = LinkCase::new(&k.ek, 7, 7, 91);
    let proof = case.honest(&k.ek, 92);
    assert_eq!(case.verify_in(ctx(), &k.public, &proof), Ok(()));
    let mut r = rng(93);
    let g = g_table() * &Scalar::ONE;
    let h = crate::group::h();
    let changes: Vec<(&str, LinkCase)> = vec![
        (
            "random α",
            LinkCase {
                ct: Ciphertext {
                    alpha: random_element(&mut r),
                    ..case.ct
                },
                ..case.clone()
            },
        ),
        (
            "random β",
            LinkCase {
                ct: Ciphertext {
                    beta: random_element(&mut r),
                    ..case.ct
                },
                ..case.clone()
            },
        ),
        (
            "α + G",
            LinkCase {
                ct: Ciphertext {
                    alpha: Element::new(case.ct.alpha.point + g),
                    ..case.ct
                },
                ..case.clone()
            },
        ),
        (
            "β + G",
            LinkCase {
                ct: Ciphertext {
                    beta: Element::new(case.ct.beta.point + g),
                    ..case.ct
                },
                ..case.clone()
            },
        ),
        (
            "α and β swapped",
            LinkCase {
                ct: Ciphertext {
                    alpha: case.ct.beta,
                    beta: case.ct.alpha,
                },
                ..case.clone()
            },
        ),
        (
            "random V",
            LinkCase {
                v: random_element(&mut r),
                ..case.clone()
            },
        ),
        (
            "V + G (commits to m + 1)",
            LinkCase {
                v: Element::new(case.v.point + g),
                ..case.clone()
            },
        ),
        (
            "V + H (another blinding)",
            LinkCase {
                v: Element::new(case.v.point + h),
                ..case.clone()
            },
        ),
        (
            "V = β",
            LinkCase {
                v: case.ct.beta,
                ..case.clone()
            },
        ),
    ];
    for (name, changed) in changes {
        let result = changed.verify_in(ctx(), &k.public, &proof);
        assert!(
            result.as_ref().is_err_and(is_equations_failed),
            "{name}: {result:?}"
        );
    }
    // The proof replayed for another public key: with the other key bound in the context too,
    // and with only the verification key changed.
    let other = keys(94);
    let result = case.verify_in(ctx(), &other.public, &proof);
    assert!(
        result.as_ref().is_err_and(is_equations_failed),
        "{result:?}"
    );
    let mut t = case.transcript(ctx(), &k.public);
    let mut msm = Msm::new();
    proof
        .verify(
            &mut t,
            &other.public,
            &case.ct,
            &case.v,
            &mut msm,
            &mut weights(),
        )
        .unwrap();
    assert!(!msm.holds());
}

#[test]
fn linking_proof_under_another_transcript_is_rejected() {
    let k = keys(95);
    let case = LinkCase::new(&k.ek, 3, 3, 96);
    let proof = case.honest(&k.ek, 97);
    for (name, t) in other_contexts() {
        let result = case.verify_in(t, &k.public, &proof);
        assert!(
            result.as_ref().is_err_and(is_equations_failed),
            "{name}: {result:?}"
        );
    }
}

#[test]
fn dishonest_linking_prover_with_wrong_openings_is_rejected() {
    let k = keys(98);
    let case = LinkCase::new(&k.ek, 5, 5, 99);
    let one = Scalar::ONE;
    for (name, m, r, s) in [
        ("m + 1", 6, case.r, case.s),
        ("wrong nonce", 5, case.r + one, case.s),
        ("wrong blinding", 5, case.r, case.s + one),
        ("nonce and blinding swapped", 5, case.s, case.r),
    ] {
        let proof = case.prove(&k.ek, m, &r, &s, 100);
        let result = case.check(&k.public, &linking_bytes(&proof));
        assert!(
            result.as_ref().is_err_and(is_equations_failed),
            "{name}: {result:?}"
        );
    }
}

#[test]
fn linking_proof_with_any_changed_field_is_rejected() {
    let k = keys(101);
    let case = LinkCase::new(&k.ek, 9, 9, 102);
    let bytes = linking_bytes(&case.honest(&k.ek, 103));
    let layout: Vec<Field> = (0..3)
        .map(|i| Field::Point(32 * i))
        .chain((3..6).map(|i| Field::Scalar(32 * i)))
        .collect();
    assert_every_field_change_is_rejected(
        Kind::Sigma,
        &bytes,
        &layout,
        &|b| case.check(&k.public, b),
        &mut rng(104),
    );
}

#[test]
fn folded_equations_fail_if_any_one_proof_fails() {
    // Many honest linking proofs folded into one accumulator hold; adding one bad one fails the
    // whole fold, wherever it is.
    let k = keys(105);
    let cases: Vec<LinkCase> = (0..5u64)
        .map(|i| LinkCase::new(&k.ek, i, i, 106 + i))
        .collect();
    let proofs: Vec<LinkingProof> = cases.iter().map(|c| c.honest(&k.ek, 111)).collect();
    let prepare = |c: &LinkCase, p: &LinkingProof| {
        let mut t = c.transcript(ctx(), &k.public);
        let mut msm = Msm::new();
        p.verify(&mut t, &k.public, &c.ct, &c.v, &mut msm, &mut weights())
            .unwrap();
        msm
    };
    let mut all = Msm::new();
    for (c, p) in cases.iter().zip(&proofs) {
        all.absorb(&prepare(c, p));
    }
    assert!(all.holds());
    assert!(Msm::new().holds());
    for bad in 0..cases.len() {
        let mut all = Msm::new();
        for (i, (c, p)) in cases.iter().zip(&proofs).enumerate() {
            // Proof i checked against the neighbouring commitment.
            let statement = if i == bad {
                LinkCase {
                    v: cases[(i + 1) % cases.len()].v,
                    ..c.clone()
                }
            } else {
                c.clone()
            };
            all.absorb(&prepare(&statement, p));
        }
        assert!(!all.holds(), "bad proof {bad}");
    }
}

// ---------------------------------------------------------------------------------------------
// Range proofs
// ---------------------------------------------------------------------------------------------

const TWO_32: u64 = 1 << 32;

/// Intervals with their shapes' corner cases: a = b, a = 0, 1-bit-wide, every bit width, the
/// whole u64 range, high bounds.
const INTERVALS: [Interval; 10] = [
    Interval::new(0, 1),
    Interval::new(0, 10),
    Interval::new(3, 3),
    Interval::new(0, 0),
    Interval::new(5, 1000),
    Interval::new(100, 100 + 65_535),
    Interval::new(TWO_32, TWO_32 + 5),
    Interval::new(7, 7 + (1 << 40)),
    Interval::new(0, u64::MAX),
    Interval::new(u64::MAX - 3, u64::MAX),
];

/// The value at `offset` (reduced) inside `i`.
fn value_in(i: Interval, offset: u64) -> u64 {
    match (i.hi - i.lo).checked_add(1) {
        Some(width) => i.lo + offset % width,
        None => offset,
    }
}

#[derive(Clone)]
struct RangeCase {
    items: Vec<(u64, Scalar, Interval)>,
}

impl RangeCase {
    fn new(values: &[(u64, Interval)], seed: u64) -> Self {
        let mut g = rng(seed);
        Self {
            items: values
                .iter()
                .map(|(v, i)| (*v, Scalar::random(&mut g), *i))
                .collect(),
        }
    }

    fn statement(&self) -> Vec<(RistrettoPoint, Interval)> {
        self.items
            .iter()
            .map(|(v, s, i)| (commit(*v, s), *i))
            .collect()
    }

    fn prove_in(&self, t: &mut Transcript, seed: u64) -> Result<RangeProof, ProofError> {
        RangeProof::prove(t, &self.items, &mut rng(seed))
    }

    fn prove(&self, seed: u64) -> Vec<u8> {
        let mut out = Vec::new();
        self.prove_in(&mut ctx(), seed).unwrap().write(&mut out);
        out
    }
}

/// Decodes with the shape the intervals call for, as a ballot decoder does, and verifies.
fn range_check(
    t: &mut Transcript,
    statement: &[(RistrettoPoint, Interval)],
    bytes: &[u8],
) -> Result<(), ProofError> {
    let shape = RangeShape::for_intervals(statement.iter().map(|(_, i)| *i))?;
    range_check_as(shape, t, statement, bytes)
}

/// Decodes with a given shape (the honest proof's), so that a statement of another shape
/// reaches the verifier instead of failing at decoding.
fn range_check_as(
    shape: RangeShape,
    t: &mut Transcript,
    statement: &[(RistrettoPoint, Interval)],
    bytes: &[u8],
) -> Result<(), ProofError> {
    let mut reader = Reader::new("range proof", bytes);
    let proof = RangeProof::read(&mut reader, shape)?;
    reader.finish()?;
    proof.verify(t, statement, &mut weights())
}

fn range_layout(shape: RangeShape) -> Vec<Field> {
    let rounds = (shape.bits * shape.values).trailing_zeros() as usize;
    let mut layout: Vec<Field> = (0..4).map(|i| Field::Point(32 * i)).collect(); // A S T₁ T₂
    layout.extend((4..7).map(|i| Field::Scalar(32 * i))); // t_x t̃ ẽ
    layout.extend((7..7 + 2 * rounds).map(|i| Field::Point(32 * i))); // (Lᵢ Rᵢ)*
    layout.extend((7 + 2 * rounds..9 + 2 * rounds).map(|i| Field::Scalar(32 * i))); // a b
    layout
}

/// A Bulletproof made outside `RangeProof::prove`, which checks nothing: the transcript binding
/// mirrors `range.rs`, the values and bit width are the dishonest prover's choice.
fn raw_bulletproof(
    t: &mut Transcript,
    intervals: &[Interval],
    bits: usize,
    values: &[u64],
    blindings: &[Scalar],
    seed: u64,
) -> Vec<u8> {
    t.domain_sep(labels::RANGE, intervals.len() as u64);
    t.append_u64(b"bits", bits as u64);
    for i in intervals {
        t.append_u64(b"lo", i.lo);
        t.append_u64(b"hi", i.hi);
    }
    let (proof, _) = bulletproofs::RangeProof::prove_multiple_with_rng(
        bulletproof_gens(),
        &pedersen_gens(),
        t,
        values,
        blindings,
        bits,
        &mut rng(seed),
    )
    .unwrap();
    proof.to_bytes()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(16))]

    #[test]
    fn honest_range_proofs_verify(
        picks in prop::collection::vec((0..INTERVALS.len(), any::<u64>()), 1..4),
        seed: u64,
    ) {
        let values: Vec<(u64, Interval)> =
            picks.iter().map(|(i, o)| (value_in(INTERVALS[*i], *o), INTERVALS[*i])).collect();
        let case = RangeCase::new(&values, seed);
        let bytes = case.prove(seed ^ 1);
        let shape = RangeShape::for_intervals(values.iter().map(|(_, i)| *i)).unwrap();
        prop_assert_eq!(bytes.len(), shape.proof_len());
        prop_assert_eq!(range_check(&mut ctx(), &case.statement(), &bytes), Ok(()));
    }

    #[test]
    fn commitment_to_another_value_fails_range_verification(
        i in 0..INTERVALS.len(), offset: u64, delta in 1u64..5, seed: u64,
    ) {
        // An honest proof for v, checked against a commitment to v ± δ (inside or outside).
        let interval = INTERVALS[i];
        let v = value_in(interval, offset);
        let case = RangeCase::new(&[(v, interval)], seed);
        let bytes = case.prove(seed ^ 1);
        let s = case.items[0].1;
        for other in [v.wrapping_add(delta), v.wrapping_sub(delta)] {
            let statement = [(commit(other, &s), interval)];
            prop_assert_eq!(range_check(&mut ctx(), &statement, &bytes), Err(ProofError::RangeProofFailed));
        }
    }
}

#[test]
fn range_proofs_at_both_bounds_verify() {
    for (n, i) in INTERVALS.iter().enumerate() {
        let case = RangeCase::new(&[(i.lo, *i), (i.hi, *i)], n as u64);
        assert_eq!(
            range_check(&mut ctx(), &case.statement(), &case.prove(1)),
            Ok(()),
            "{i:?}"
        );
    }
}

#[test]
fn value_outside_its_interval_cannot_be_proved() {
    for (n, i) in INTERVALS.iter().enumerate() {
        let outside = [
            i.lo.checked_sub(1),
            i.hi.checked_add(1),
            i.lo.checked_sub(1 << 20),
            i.hi.checked_add(1 << 33),
        ];
        for v in outside.into_iter().flatten() {
            let case = RangeCase::new(&[(v, *i)], n as u64);
            assert_eq!(
                case.prove_in(&mut ctx(), 1),
                Err(ProofError::ValueOutsideInterval {
                    value: v,
                    lo: i.lo,
                    hi: i.hi
                })
            );
            // Also when another item is fine.
            let case = RangeCase::new(&[(i.lo, *i), (v, *i)], n as u64);
            assert_eq!(
                case.prove_in(&mut ctx(), 1),
                Err(ProofError::ValueOutsideInterval {
                    value: v,
                    lo: i.lo,
                    hi: i.hi
                })
            );
        }
    }
    // An empty interval is refused by prover and verifier alike.
    let empty = Interval::new(5, 4);
    let case = RangeCase::new(&[(5, empty)], 1);
    assert!(matches!(
        case.prove_in(&mut ctx(), 1),
        Err(ProofError::ValueOutsideInterval { lo: 5, hi: 4, .. })
    ));
    let good = RangeCase::new(&[(5, Interval::new(4, 5))], 1);
    let statement = [(good.statement()[0].0, empty)];
    assert!(matches!(
        range_check(&mut ctx(), &statement, &good.prove(2)),
        Err(ProofError::ValueOutsideInterval { lo: 5, hi: 4, .. })
    ));
}

#[test]
fn too_many_ranges_are_refused() {
    let count = MAX_AGGREGATED_RANGES / 2 + 1;
    let case = RangeCase::new(&vec![(1, Interval::new(0, 1)); count], 1);
    assert_eq!(
        case.prove_in(&mut ctx(), 2).map(|_| ()),
        Err(ProofError::TooManyRanges {
            count: 2 * count,
            max: MAX_AGGREGATED_RANGES
        })
    );
    // The largest allowed aggregation works.
    let case = RangeCase::new(
        &vec![(1, Interval::new(0, 1)); MAX_AGGREGATED_RANGES / 2],
        3,
    );
    assert_eq!(
        range_check(&mut ctx(), &case.statement(), &case.prove(4)),
        Ok(())
    );
}

#[test]
fn range_proof_with_any_changed_interval_bound_is_rejected() {
    for (n, i) in INTERVALS.iter().enumerate() {
        let v = value_in(*i, 0x1234_5678_9abc_def0);
        let other = Interval::new(5, 6);
        let case = RangeCase::new(&[(v, *i), (5, other)], n as u64);
        let bytes = case.prove(1);
        let statement = case.statement();
        let shape = RangeShape::for_intervals([*i, other]).unwrap();
        assert_eq!(range_check(&mut ctx(), &statement, &bytes), Ok(()));
        let mut bounds: Vec<Interval> = Vec::new();
        for lo in [
            i.lo.checked_sub(1),
            i.lo.checked_add(1),
            Some(0),
            Some(i.hi),
        ] {
            bounds.extend(
                lo.filter(|lo| *lo <= i.hi)
                    .map(|lo| Interval::new(lo, i.hi)),
            );
        }
        for hi in [
            i.hi.checked_sub(1),
            i.hi.checked_add(1),
            Some(u64::MAX),
            Some(i.lo),
        ] {
            bounds.extend(
                hi.filter(|hi| *hi >= i.lo)
                    .map(|hi| Interval::new(i.lo, hi)),
            );
        }
        bounds.extend(
            i.lo.checked_add(1)
                .zip(i.hi.checked_add(1))
                .map(|(lo, hi)| Interval::new(lo, hi)),
        );
        for changed in bounds.into_iter().filter(|c| c != i) {
            // Even where v is still inside the changed interval, the proof is for the old one.
            // A changed bit width also changes the proof's length: decoded as the ballot would,
            // it fails there; decoded with its own shape, the verifier refuses it.
            let statement = [(statement[0].0, changed), statement[1]];
            assert_eq!(
                range_check_as(shape, &mut ctx(), &statement, &bytes),
                Err(ProofError::RangeProofFailed),
                "{i:?} → {changed:?}"
            );
            let result = range_check(&mut ctx(), &statement, &bytes);
            let new_shape = RangeShape::for_intervals([changed, other]).unwrap();
            if new_shape == shape {
                assert_eq!(
                    result,
                    Err(ProofError::RangeProofFailed),
                    "{i:?} → {changed:?}"
                );
            } else {
                assert!(
                    matches!(result, Err(ProofError::Encoding(_))),
                    "{i:?} → {changed:?}: {result:?}"
                );
            }
        }
        // The other item's interval changed.
        let statement2 = [statement[0], (statement[1].0, Interval::new(4, 6))];
        assert_eq!(
            range_check(&mut ctx(), &statement2, &bytes),
            Err(ProofError::RangeProofFailed)
        );
    }
}

#[test]
fn range_proof_with_changed_commitments_or_items_is_rejected() {
    let a = Interval::new(0, 10);
    let b = Interval::new(TWO_32, TWO_32 + 5);
    let c = Interval::new(0, u64::MAX);
    let case = RangeCase::new(&[(4, a), (TWO_32 + 2, b), (u64::MAX - 1, c)], 1);
    let bytes = case.prove(2);
    let st = case.statement();
    let shape = RangeShape::for_intervals([a, b, c]).unwrap();
    assert_eq!(range_check(&mut ctx(), &st, &bytes), Ok(()));
    let g = g_table() * &Scalar::ONE;
    let h = crate::group::h();
    let mut r = rng(3);
    let mut changes: Vec<(String, Vec<(RistrettoPoint, Interval)>)> = Vec::new();
    for (j, (v, _)) in st.iter().enumerate() {
        for (name, p) in [
            ("V + G", v + g),
            ("V − G", v - g),
            ("V + H", v + h),
            ("−V", -v),
            ("random V", RistrettoPoint::random(&mut r)),
            ("identity", RistrettoPoint::default()),
        ] {
            let mut changed = st.clone();
            changed[j].0 = p;
            changes.push((format!("item {j}: {name}"), changed));
        }
    }
    let mut swapped = st.clone();
    swapped.swap(0, 1);
    changes.push(("items swapped".into(), swapped));
    let mut commitments_swapped = st.clone();
    commitments_swapped[0].0 = st[1].0;
    commitments_swapped[1].0 = st[0].0;
    changes.push(("commitments swapped".into(), commitments_swapped));
    changes.push(("last item dropped".into(), st[..2].to_vec()));
    let mut extra = st.clone();
    extra.push((commit(0, &Scalar::ONE), Interval::new(0, 1)));
    changes.push(("an item added".into(), extra));
    let mut padding = st.clone();
    padding.push((crate::group::h(), Interval::new(0, 0)));
    changes.push(("the padding made explicit".into(), padding));
    for (name, statement) in changes {
        assert_eq!(
            range_check_as(shape, &mut ctx(), &statement, &bytes),
            Err(ProofError::RangeProofFailed),
            "{name}"
        );
        assert!(
            range_check(&mut ctx(), &statement, &bytes).is_err(),
            "{name}"
        );
    }
}

#[test]
fn range_proof_under_another_transcript_is_rejected() {
    let case = RangeCase::new(
        &[
            (3, Interval::new(0, 5)),
            (u64::MAX, Interval::new(0, u64::MAX)),
        ],
        1,
    );
    let bytes = case.prove(2);
    for (name, mut t) in other_contexts() {
        assert_eq!(
            range_check(&mut t, &case.statement(), &bytes),
            Err(ProofError::RangeProofFailed),
            "{name}"
        );
    }
}

#[test]
fn range_proof_with_any_changed_field_is_rejected() {
    for (n, values) in [
        vec![(1, Interval::new(0, 1))],
        vec![
            (TWO_32 + 5, Interval::new(TWO_32, TWO_32 + 5)),
            (0, Interval::new(0, u64::MAX)),
        ],
    ]
    .into_iter()
    .enumerate()
    {
        let case = RangeCase::new(&values, n as u64);
        let bytes = case.prove(10 + n as u64);
        let shape = RangeShape::for_intervals(values.iter().map(|(_, i)| *i)).unwrap();
        let statement = case.statement();
        assert_every_field_change_is_rejected(
            Kind::Range,
            &bytes,
            &range_layout(shape),
            &|b| range_check(&mut ctx(), &statement, b),
            &mut rng(20 + n as u64),
        );
    }
}

#[test]
fn range_proof_of_another_shape_is_rejected() {
    let i = Interval::new(0, 10);
    let case = RangeCase::new(&[(4, i)], 1);
    let bytes = case.prove(2);
    // Read with the bytes of another shape: the lengths differ.
    for shape in [
        RangeShape {
            bits: 16,
            values: 2,
        },
        RangeShape { bits: 8, values: 4 },
        RangeShape {
            bits: 64,
            values: 2,
        },
    ] {
        let result = range_check_as(shape, &mut ctx(), &case.statement(), &bytes);
        assert!(
            matches!(result, Err(ProofError::Encoding(_))),
            "{shape:?}: {result:?}"
        );
    }
    // A dishonest prover using 64-bit ranges for an 8-bit interval: refused for its shape.
    let (v, s) = (4u64, case.items[0].1);
    let raw = raw_bulletproof(&mut ctx(), &[i], 64, &[v - i.lo, i.hi - v], &[s, -s], 3);
    let mut reader = Reader::new("range proof", &raw);
    let proof = RangeProof::read(
        &mut reader,
        RangeShape {
            bits: 64,
            values: 2,
        },
    )
    .unwrap();
    assert_eq!(
        proof.verify(&mut ctx(), &case.statement(), &mut weights()),
        Err(ProofError::RangeProofFailed)
    );
    // …and a proof for [0, 300] made with 8 bits, for a value that fits them.
    let wide = Interval::new(0, 300);
    let case = RangeCase::new(&[(100, wide)], 4);
    let s = case.items[0].1;
    let raw = raw_bulletproof(&mut ctx(), &[wide], 8, &[100, 200], &[s, -s], 5);
    let mut reader = Reader::new("range proof", &raw);
    let proof = RangeProof::read(&mut reader, RangeShape { bits: 8, values: 2 }).unwrap();
    assert_eq!(
        proof.verify(&mut ctx(), &case.statement(), &mut weights()),
        Err(ProofError::RangeProofFailed)
    );
}

#[test]
fn dishonest_range_prover_cannot_prove_a_value_outside_its_interval() {
    // Bypassing RangeProof::prove's check: the bulletproof is made over the bit decompositions
    // of the (wrapped) u64 differences, which are not what the commitments hold.
    for (n, (i, v)) in [
        (Interval::new(TWO_32, TWO_32 + 5), TWO_32 + 6),
        (Interval::new(TWO_32, TWO_32 + 5), TWO_32 - 1),
        (Interval::new(0, 10), 11),
        (Interval::new(0, 10), 256 + 5),
        (Interval::new(3, 3), 4),
        (Interval::new(1, u64::MAX), 0),
    ]
    .into_iter()
    .enumerate()
    {
        let shape = RangeShape::for_intervals([i]).unwrap();
        let case = RangeCase::new(&[(v, i)], n as u64);
        let s = case.items[0].1;
        // The mirror of range.rs is faithful: the same construction of an honest value verifies.
        let honest_v = i.hi;
        let honest = RangeCase {
            items: vec![(honest_v, s, i)],
        };
        let raw = raw_bulletproof(
            &mut ctx(),
            &[i],
            shape.bits,
            &[honest_v - i.lo, i.hi - honest_v],
            &[s, -s],
            6,
        );
        assert_eq!(
            range_check(&mut ctx(), &honest.statement(), &raw),
            Ok(()),
            "{i:?}"
        );
        let raw = raw_bulletproof(
            &mut ctx(),
            &[i],
            shape.bits,
            &[v.wrapping_sub(i.lo), i.hi.wrapping_sub(v)],
            &[s, -s],
            7,
        );
        assert_eq!(
            range_check(&mut ctx(), &case.statement(), &raw),
            Err(ProofError::RangeProofFailed),
            "{i:?} ∌ {v}"
        );
    }
}
