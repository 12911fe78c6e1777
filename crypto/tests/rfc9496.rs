//! RFC 9496 (ristretto255) test vectors against every public decoder of a point.
//!
//! - A.1: the encodings of `0·B … 15·B` decode at every decoder and re-encode to the same bytes;
//!   the identity `0·B` is refused (`IdentityPoint`) wherever the protocol forbids it.
//! - A.2: every invalid encoding (non-canonical field encodings, negative field elements,
//!   non-square `x²`, negative `xy`, `s = −1`) is refused (`NonCanonicalPoint`) by every decoder.
//! - A.3: the one-way map of 64 uniform bytes (here the SHA-512 digests of the ristretto.group
//!   labels, which are the RFC's inputs), and `RistrettoPoint::hash_from_bytes::<Sha512>`, the
//!   derivation of the generator `H`.
//!
//! Vectors copied from RFC 9496 Appendix A and cross-checked against curve25519-dalek.

// Test helpers outside `#[test]` functions unwrap too: a panic is a test failure.
#![allow(clippy::unwrap_used)]

use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use sha2::{Digest, Sha512};
use tabella_crypto::ballot::{Ballot, BallotError, ElectionContext, ElectionId};
use tabella_crypto::credential::{CredentialCode, CredentialSecret};
use tabella_crypto::elgamal::{Ciphertext, PublicKey, SecretKey};
use tabella_crypto::group::{
    decode_point, decode_point_nonidentity, g, text, CompressedRistretto, Element, EncodingError,
    RistrettoPoint, Scalar,
};
use tabella_crypto::manifest::Manifest;
use tabella_crypto::proofs::disjunctive::DisjunctiveProof;
use tabella_crypto::proofs::schnorr::SchnorrProof;
use tabella_crypto::proofs::ProofError;

// These tests also run in headless Chromium (`cargo xtask test`, step browser-crypto), where
// wasm-bindgen-test's attribute stands in for `#[test]`, inside `proptest!` too.
#[cfg(all(target_arch = "wasm32", target_os = "unknown"))]
use wasm_bindgen_test::wasm_bindgen_test as test;
#[cfg(all(target_arch = "wasm32", target_os = "unknown"))]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

/// RFC 9496 A.1: `i·B` for `i = 0 … 15`.
const MULTIPLES: [&str; 16] = [
    "0000000000000000000000000000000000000000000000000000000000000000",
    "e2f2ae0a6abc4e71a884a961c500515f58e30b6aa582dd8db6a65945e08d2d76",
    "6a493210f7499cd17fecb510ae0cea23a110e8d5b901f8acadd3095c73a3b919",
    "94741f5d5d52755ece4f23f044ee27d5d1ea1e2bd196b462166b16152a9d0259",
    "da80862773358b466ffadfe0b3293ab3d9fd53c5ea6c955358f568322daf6a57",
    "e882b131016b52c1d3337080187cf768423efccbb517bb495ab812c4160ff44e",
    "f64746d3c92b13050ed8d80236a7f0007c3b3f962f5ba793d19a601ebb1df403",
    "44f53520926ec81fbd5a387845beb7df85a96a24ece18738bdcfa6a7822a176d",
    "903293d8f2287ebe10e2374dc1a53e0bc887e592699f02d077d5263cdd55601c",
    "02622ace8f7303a31cafc63f8fc48fdc16e1c8c8d234b2f0d6685282a9076031",
    "20706fd788b2720a1ed2a5dad4952b01f413bcf0e7564de8cdc816689e2db95f",
    "bce83f8ba5dd2fa572864c24ba1810f9522bc6004afe95877ac73241cafdab42",
    "e4549ee16b9aa03099ca208c67adafcafa4c3f3e4e5303de6026e3ca8ff84460",
    "aa52e000df2e16f55fb1032fc33bc42742dad6bd5a8fc0be0167436c5948501f",
    "46376b80f409b29dc2b5f6f0c52591990896e5716f41477cd30085ab7f10301e",
    "e0c418f7c8d9c4cdd7395b93ea124f3ad99021bb681dfc3302a9d99a2e53e64e",
];

/// RFC 9496 A.2: encodings that must be rejected, in the RFC's groups and order.
const INVALID: [(&str, &str); 29] = [
    (
        "non-canonical field encoding",
        "00ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
    ),
    (
        "non-canonical field encoding",
        "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    ),
    (
        "non-canonical field encoding",
        "f3ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    ),
    (
        "non-canonical field encoding",
        "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    ),
    (
        "negative field element",
        "0100000000000000000000000000000000000000000000000000000000000000",
    ),
    (
        "negative field element",
        "01ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    ),
    (
        "negative field element",
        "ed57ffd8c914fb201471d1c3d245ce3c746fcbe63a3679d51b6a516ebebe0e20",
    ),
    (
        "negative field element",
        "c34c4e1826e5d403b78e246e88aa051c36ccf0aafebffe137d148a2bf9104562",
    ),
    (
        "negative field element",
        "c940e5a4404157cfb1628b108db051a8d439e1a421394ec4ebccb9ec92a8ac78",
    ),
    (
        "negative field element",
        "47cfc5497c53dc8e61c91d17fd626ffb1c49e2bca94eed052281b510b1117a24",
    ),
    (
        "negative field element",
        "f1c6165d33367351b0da8f6e4511010c68174a03b6581212c71c0e1d026c3c72",
    ),
    (
        "negative field element",
        "87260f7a2f12495118360f02c26a470f450dadf34a413d21042b43b9d93e1309",
    ),
    (
        "non-square x²",
        "26948d35ca62e643e26a83177332e6b6afeb9d08e4268b650f1f5bbd8d81d371",
    ),
    (
        "non-square x²",
        "4eac077a713c57b4f4397629a4145982c661f48044dd3f96427d40b147d9742f",
    ),
    (
        "non-square x²",
        "de6a7b00deadc788eb6b6c8d20c0ae96c2f2019078fa604fee5b87d6e989ad7b",
    ),
    (
        "non-square x²",
        "bcab477be20861e01e4a0e295284146a510150d9817763caf1a6f4b422d67042",
    ),
    (
        "non-square x²",
        "2a292df7e32cababbd9de088d1d1abec9fc0440f637ed2fba145094dc14bea08",
    ),
    (
        "non-square x²",
        "f4a9e534fc0d216c44b218fa0c42d99635a0127ee2e53c712f70609649fdff22",
    ),
    (
        "non-square x²",
        "8268436f8c4126196cf64b3c7ddbda90746a378625f9813dd9b8457077256731",
    ),
    (
        "non-square x²",
        "2810e5cbc2cc4d4eece54f61c6f69758e289aa7ab440b3cbeaa21995c2f4232b",
    ),
    (
        "negative xy",
        "3eb858e78f5a7254d8c9731174a94f76755fd3941c0ac93735c07ba14579630e",
    ),
    (
        "negative xy",
        "a45fdc55c76448c049a1ab33f17023edfb2be3581e9c7aade8a6125215e04220",
    ),
    (
        "negative xy",
        "d483fe813c6ba647ebbfd3ec41adca1c6130c2beeee9d9bf065c8d151c5f396e",
    ),
    (
        "negative xy",
        "8a2e1d30050198c65a54483123960ccc38aef6848e1ec8f5f780e8523769ba32",
    ),
    (
        "negative xy",
        "32888462f8b486c68ad7dd9610be5192bbeaf3b443951ac1a8118419d9fa097b",
    ),
    (
        "negative xy",
        "227142501b9d4355ccba290404bde41575b037693cef1f438c47f8fbf35d1165",
    ),
    (
        "negative xy",
        "5c37cc491da847cfeb9281d407efc41e15144c876e0170b499a96a22ed31e01e",
    ),
    (
        "negative xy",
        "445425117cb8c90edcbc7c1cc0e74f747f2c1efa5630a967c64f287792a48a4b",
    ),
    (
        "s = -1, which causes y = 0",
        "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    ),
];

/// RFC 9496 A.3: inputs are the SHA-512 digests of these labels; outputs the one-way map's.
const HASH_TO_GROUP: [(&str, &str, &str); 7] = [
    (
        "Ristretto is traditionally a short shot of espresso coffee",
        "5d1be09e3d0c82fc538112490e35701979d99e06ca3e2b5b54bffe8b4dc772c14d98b696a1bbfb5ca32c436cc61c16563790306c79eaca7705668b47dffe5bb6",
        "3066f82a1a747d45120d1740f14358531a8f04bbffe6a819f86dfe50f44a0a46",
    ),
    (
        "made with the normal amount of ground coffee but extracted with",
        "f116b34b8f17ceb56e8732a60d913dd10cce47a6d53bee9204be8b44f6678b270102a56902e2488c46120e9276cfe54638286b9e4b3cdb470b542d46c2068d38",
        "f26e5b6f7d362d2d2a94c5d0e7602cb4773c95a2e5c31a64f133189fa76ed61b",
    ),
    (
        "about half the amount of water in the same amount of time",
        "8422e1bbdaab52938b81fd602effb6f89110e1e57208ad12d9ad767e2e25510c27140775f9337088b982d83d7fcf0b2fa1edffe51952cbe7365e95c86eaf325c",
        "006ccd2a9e6867e6a2c5cea83d3302cc9de128dd2a9a57dd8ee7b9d7ffe02826",
    ),
    (
        "by using a finer grind.",
        "ac22415129b61427bf464e17baee8db65940c233b98afce8d17c57beeb7876c2150d15af1cb1fb824bbd14955f2b57d08d388aab431a391cfc33d5bafb5dbbaf",
        "f8f0c87cf237953c5890aec3998169005dae3eca1fbb04548c635953c817f92a",
    ),
    (
        "This produces a concentrated shot of coffee per volume.",
        "165d697a1ef3d5cf3c38565beefcf88c0f282b8e7dbd28544c483432f1cec7675debea8ebb4e5fe7d6f6e5db15f15587ac4d4d4a1de7191e0c1ca6664abcc413",
        "ae81e7dedf20a497e10c304a765c1767a42d6e06029758d2d7e8ef7cc4c41179",
    ),
    (
        "Just pulling a normal shot short will produce a weaker shot",
        "a836e6c9a9ca9f1e8d486273ad56a78c70cf18f0ce10abb1c7172ddd605d7fd2979854f47ae1ccf204a33102095b4200e5befc0465accc263175485f0e17ea5c",
        "e2705652ff9f5e44d3e841bf1c251cf7dddb77d140870d1ab2ed64f1a9ce8628",
    ),
    (
        "and is not a Ristretto as some believe.",
        "2cdc11eaeb95daf01189417cdddbf95952993aa9cb9c640eb5058d09702c74622c9965a697a3b345ec24ee56335b556e677b30e6f90ac77d781064f866a3c982",
        "80bd07262511cdde4863f8a7434cef696750681cb9510eea557088f76d9e5065",
    ),
];

fn bytes32(hex: &str) -> [u8; 32] {
    text::from_hex::<32>("test vector", hex).unwrap()
}

/// The basepoint's encoding, used to fill the other point positions of a composite encoding.
fn basepoint() -> [u8; 32] {
    bytes32(MULTIPLES[1])
}

/// A canonical scalar, used to fill scalar positions.
fn scalar() -> [u8; 32] {
    Scalar::from(7u64).to_bytes()
}

/// How a decoder refused a point.
#[derive(Debug, PartialEq, Eq)]
enum Refusal {
    NonCanonicalPoint(String),
    IdentityPoint(String),
    Other(String),
}

fn refusal(e: &EncodingError) -> Refusal {
    match e {
        EncodingError::NonCanonicalPoint { what } => Refusal::NonCanonicalPoint(what.to_string()),
        EncodingError::IdentityPoint { what } => Refusal::IdentityPoint(what.to_string()),
        other => Refusal::Other(format!("{other:?}")),
    }
}

fn proof_refusal(e: &ProofError) -> Refusal {
    match e {
        ProofError::Encoding(e) => refusal(e),
        other => Refusal::Other(format!("{other:?}")),
    }
}

/// serde_json reports the `EncodingError`'s text (`"{what}: …"`) followed by the position.
fn serde_refusal(e: &serde_json::Error) -> Refusal {
    let message = e.to_string();
    for (suffix, kind) in [
        (
            ": not a canonical Ristretto255 point encoding",
            Refusal::NonCanonicalPoint as fn(String) -> Refusal,
        ),
        (
            ": the identity point is not allowed here",
            Refusal::IdentityPoint,
        ),
    ] {
        if let Some(at) = message.find(suffix) {
            return kind(message[..at].to_string());
        }
    }
    Refusal::Other(message)
}

fn json(bytes: &[u8]) -> String {
    format!("\"{}\"", text::to_hex(bytes))
}

fn from_json(s: &str) -> Vec<u8> {
    hex::decode(serde_json::from_str::<String>(s).unwrap()).unwrap()
}

fn slice32(bytes: &[u8], offset: usize) -> [u8; 32] {
    bytes[offset..offset + 32].try_into().unwrap()
}

/// A public decoder that takes a point: it decodes `p` (placed in its position of a larger
/// encoding where there is one) and returns the re-encoded bytes of that position.
struct Decoder {
    name: &'static str,
    /// The `what` its refusals name.
    what: &'static str,
    identity_allowed: bool,
    decode: fn(&[u8; 32]) -> Result<[u8; 32], Refusal>,
}

/// A valid two-option plurality ballot and its election: the ballot decoder is a point decoder
/// too (ciphertext α and β, proof commitments).
fn ballot_fixture() -> &'static (ElectionContext, Vec<u8>) {
    static FIXTURE: std::sync::OnceLock<(ElectionContext, Vec<u8>)> = std::sync::OnceLock::new();
    FIXTURE.get_or_init(|| {
        let mut rng = ChaCha20Rng::seed_from_u64(9496);
        let manifest = Manifest::from_json(
            r#"{"title":"t","contests":[{"id":"q","title":"Q","style":{"type":"plurality"},
                "selections":[{"id":"yes","label":"Yes"},{"id":"no","label":"No"}]}]}"#,
        )
        .unwrap();
        let key = SecretKey::generate(&mut rng).public_key();
        let ctx = ElectionContext::new(ElectionId([3; 32]), manifest, key).unwrap();
        let credential = CredentialSecret::derive(&CredentialCode::generate(&mut rng), &[3; 32]);
        let (ballot, _) = ctx
            .encrypt_ballot(&[vec![0, 1]], &credential, &mut rng)
            .unwrap();
        (ctx, ballot.to_bytes().to_vec())
    })
}

/// Decodes the fixture ballot with `p` at `offset` and returns the bytes there after re-encoding.
fn ballot_at(offset: usize, p: &[u8; 32]) -> Result<[u8; 32], Refusal> {
    let (ctx, bytes) = ballot_fixture();
    let mut bytes = bytes.clone();
    bytes[offset..offset + 32].copy_from_slice(p);
    match Ballot::from_bytes(&bytes, ctx) {
        Ok(ballot) => Ok(slice32(ballot.to_bytes(), offset)),
        Err(BallotError::Encoding(e)) => Err(refusal(&e)),
        Err(BallotError::ContestProofRejected { source, .. }) => Err(proof_refusal(&source)),
        Err(other) => Err(Refusal::Other(format!("{other:?}"))),
    }
}

fn decoders() -> Vec<Decoder> {
    vec![
        Decoder {
            name: "Ballot: ciphertext alpha",
            what: "ciphertext alpha",
            identity_allowed: false,
            decode: |p| ballot_at(65, p),
        },
        Decoder {
            name: "Ballot: ciphertext beta",
            what: "ciphertext beta",
            identity_allowed: true,
            decode: |p| ballot_at(97, p),
        },
        Decoder {
            name: "Ballot: proof commitment",
            what: "proof commitment a",
            identity_allowed: false,
            decode: |p| ballot_at(65 + 2 * 64, p),
        },
        Decoder {
            name: "decode_point",
            what: "point",
            identity_allowed: true,
            decode: |p| {
                decode_point("point", p)
                    .map(|q| q.compress().to_bytes())
                    .map_err(|e| refusal(&e))
            },
        },
        Decoder {
            name: "decode_point_nonidentity",
            what: "point",
            identity_allowed: false,
            decode: |p| {
                decode_point_nonidentity("point", p)
                    .map(|q| q.compress().to_bytes())
                    .map_err(|e| refusal(&e))
            },
        },
        Decoder {
            name: "Element::from_bytes",
            what: "element",
            identity_allowed: true,
            decode: |p| {
                Element::from_bytes("element", p)
                    .map(|e| e.to_bytes())
                    .map_err(|e| refusal(&e))
            },
        },
        Decoder {
            name: "Element::from_bytes_nonidentity",
            what: "element",
            identity_allowed: false,
            decode: |p| {
                Element::from_bytes_nonidentity("element", p)
                    .map(|e| e.to_bytes())
                    .map_err(|e| refusal(&e))
            },
        },
        Decoder {
            name: "PublicKey::from_bytes",
            what: "public key",
            identity_allowed: false,
            decode: |p| {
                PublicKey::from_bytes(p)
                    .map(|k| k.to_bytes())
                    .map_err(|e| refusal(&e))
            },
        },
        Decoder {
            name: "Ciphertext::from_bytes as α",
            what: "ciphertext alpha",
            identity_allowed: true,
            decode: |p| {
                let bytes = [&p[..], &basepoint()].concat();
                Ciphertext::from_bytes(&bytes)
                    .map(|c| slice32(&c.to_bytes(), 0))
                    .map_err(|e| refusal(&e))
            },
        },
        Decoder {
            name: "Ciphertext::from_bytes as β",
            what: "ciphertext beta",
            identity_allowed: true,
            decode: |p| {
                let bytes = [&basepoint(), &p[..]].concat();
                Ciphertext::from_bytes(&bytes)
                    .map(|c| slice32(&c.to_bytes(), 32))
                    .map_err(|e| refusal(&e))
            },
        },
        Decoder {
            name: "SchnorrProof commitment",
            what: "Schnorr commitment",
            identity_allowed: false,
            decode: |p| {
                let bytes = [&p[..], &scalar()].concat();
                SchnorrProof::from_bytes(&bytes)
                    .map(|s| slice32(&s.to_bytes(), 0))
                    .map_err(|e| refusal(&e))
            },
        },
        Decoder {
            name: "DisjunctiveProof commitment a₀",
            what: "proof commitment a",
            identity_allowed: false,
            decode: |p| {
                let bytes = [&p[..], &basepoint(), &scalar()].concat();
                DisjunctiveProof::from_bytes(&bytes, 1)
                    .map(|d| slice32(&d.to_bytes(), 0))
                    .map_err(|e| proof_refusal(&e))
            },
        },
        Decoder {
            name: "DisjunctiveProof commitment b₀",
            what: "proof commitment b",
            identity_allowed: false,
            decode: |p| {
                let bytes = [&basepoint(), &p[..], &scalar()].concat();
                DisjunctiveProof::from_bytes(&bytes, 1)
                    .map(|d| slice32(&d.to_bytes(), 32))
                    .map_err(|e| proof_refusal(&e))
            },
        },
        Decoder {
            name: "DisjunctiveProof commitment a₁ (two branches)",
            what: "proof commitment a",
            identity_allowed: false,
            decode: |p| {
                let (b, s) = (basepoint(), scalar());
                let bytes = [&b[..], &b, &p[..], &b, &s, &s, &s].concat();
                DisjunctiveProof::from_bytes(&bytes, 2)
                    .map(|d| slice32(&d.to_bytes(), 64))
                    .map_err(|e| proof_refusal(&e))
            },
        },
        Decoder {
            name: "DisjunctiveProof commitment b₁ (two branches)",
            what: "proof commitment b",
            identity_allowed: false,
            decode: |p| {
                let (b, s) = (basepoint(), scalar());
                let bytes = [&b[..], &b, &b, &p[..], &s, &s, &s].concat();
                DisjunctiveProof::from_bytes(&bytes, 2)
                    .map(|d| slice32(&d.to_bytes(), 96))
                    .map_err(|e| proof_refusal(&e))
            },
        },
        Decoder {
            name: "PublicKey from JSON",
            what: "public key",
            identity_allowed: false,
            decode: |p| {
                serde_json::from_str::<PublicKey>(&json(p))
                    .map(|k| slice32(&from_json(&serde_json::to_string(&k).unwrap()), 0))
                    .map_err(|e| serde_refusal(&e))
            },
        },
        Decoder {
            name: "Ciphertext from JSON as α",
            what: "ciphertext alpha",
            identity_allowed: true,
            decode: |p| {
                serde_json::from_str::<Ciphertext>(&json(&[&p[..], &basepoint()].concat()))
                    .map(|c| slice32(&from_json(&serde_json::to_string(&c).unwrap()), 0))
                    .map_err(|e| serde_refusal(&e))
            },
        },
        Decoder {
            name: "Ciphertext from JSON as β",
            what: "ciphertext beta",
            identity_allowed: true,
            decode: |p| {
                serde_json::from_str::<Ciphertext>(&json(&[&basepoint(), &p[..]].concat()))
                    .map(|c| slice32(&from_json(&serde_json::to_string(&c).unwrap()), 32))
                    .map_err(|e| serde_refusal(&e))
            },
        },
        Decoder {
            name: "SchnorrProof from JSON",
            what: "Schnorr commitment",
            identity_allowed: false,
            decode: |p| {
                serde_json::from_str::<SchnorrProof>(&json(&[&p[..], &scalar()].concat()))
                    .map(|s| slice32(&from_json(&serde_json::to_string(&s).unwrap()), 0))
                    .map_err(|e| serde_refusal(&e))
            },
        },
    ]
}

/// Every valid non-identity point of the vectors: A.1's multiples and A.3's outputs.
fn valid_nonidentity_points() -> Vec<[u8; 32]> {
    let multiples = MULTIPLES[1..].iter().map(|h| bytes32(h));
    multiples
        .chain(HASH_TO_GROUP.iter().map(|(_, _, out)| bytes32(out)))
        .collect()
}

#[test]
fn rfc9496_generator_multiples_are_the_encodings_of_i_times_b() {
    let mut p = RistrettoPoint::default();
    for (i, hex) in MULTIPLES.iter().enumerate() {
        assert_eq!(text::to_hex(p.compress().as_bytes()), *hex, "{i}·B");
        assert_eq!(p, g() * Scalar::from(i as u64), "{i}·B");
        assert_eq!(decode_point("point", &bytes32(hex)), Ok(p), "{i}·B");
        p += g();
    }
}

#[test]
fn generator_multiples_decode_at_every_decoder_and_re_encode_exactly() {
    for p in valid_nonidentity_points() {
        for d in decoders() {
            assert_eq!((d.decode)(&p), Ok(p), "{}: {}", d.name, text::to_hex(&p));
        }
    }
}

#[test]
fn identity_is_refused_wherever_the_protocol_forbids_it() {
    let identity = bytes32(MULTIPLES[0]);
    assert_eq!(identity, [0; 32]);
    for d in decoders() {
        let expected = if d.identity_allowed {
            Ok(identity)
        } else {
            Err(Refusal::IdentityPoint(d.what.to_string()))
        };
        assert_eq!((d.decode)(&identity), expected, "{}", d.name);
    }
    // The neutral ciphertext is exactly the all-zero encoding.
    assert_eq!(Ciphertext::from_bytes(&[0; 64]), Ok(Ciphertext::zero()));
    assert_eq!(Ciphertext::zero().to_bytes(), [0; 64]);
}

#[test]
fn rfc9496_invalid_encodings_are_refused_by_curve25519_dalek() {
    for (why, hex) in INVALID {
        assert!(
            CompressedRistretto(bytes32(hex)).decompress().is_none(),
            "{why}: {hex}"
        );
    }
}

#[test]
fn rfc9496_invalid_encodings_are_refused_by_every_decoder() {
    for (why, hex) in INVALID {
        for d in decoders() {
            assert_eq!(
                (d.decode)(&bytes32(hex)),
                Err(Refusal::NonCanonicalPoint(d.what.to_string())),
                "{}: {why}: {hex}",
                d.name
            );
        }
    }
}

#[test]
fn valid_encodings_with_the_top_bit_set_are_refused_by_every_decoder() {
    // Bit 255 is not part of a canonical field element: the same point, a second encoding.
    let mut points = valid_nonidentity_points();
    points.push([0; 32]);
    for p in points {
        let mut high = p;
        high[31] |= 0x80;
        for d in decoders() {
            assert_eq!(
                (d.decode)(&high),
                Err(Refusal::NonCanonicalPoint(d.what.to_string())),
                "{}: {}",
                d.name,
                text::to_hex(&high)
            );
        }
    }
}

#[test]
fn rfc9496_hash_to_group_vectors() {
    for (label, input, output) in HASH_TO_GROUP {
        let digest: [u8; 64] = Sha512::digest(label.as_bytes()).into();
        assert_eq!(hex::encode(digest), input, "{label}");
        let point = RistrettoPoint::from_uniform_bytes(&digest);
        assert_eq!(text::to_hex(point.compress().as_bytes()), output, "{label}");
        // The same map, as the protocol derives its generator H from a label.
        assert_eq!(
            RistrettoPoint::hash_from_bytes::<Sha512>(label.as_bytes()),
            point,
            "{label}"
        );
    }
}
