//! A board that only appends passes; one that rewrites or forks its history is caught, with
//! both signed heads as evidence.

use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha20Rng;
use tabella_crypto::ballot::ElectionId;
use tabella_crypto::board::merkle::{leaf_hash, MerkleTree};
use tabella_crypto::board::receipt::{BoardSigningKey, SignedTreeHead, TreeHead};

use super::{compare, proof_needed, Outcome};

const ELECTION: ElectionId = ElectionId([5; 32]);

fn tree(leaves: &[&[u8]]) -> MerkleTree {
    let mut tree = MerkleTree::new();
    for leaf in leaves {
        tree.push(leaf_hash(leaf));
    }
    tree
}

fn head(key: &BoardSigningKey, tree: &MerkleTree, size: u64) -> SignedTreeHead {
    key.sign_tree_head(TreeHead {
        election: ELECTION,
        size,
        root: tree.root_at(size).unwrap(),
        timestamp: 1_700_000_000_000 + size,
    })
}

/// The path `compare` asks for, from `tree` (the board the browser is shown).
fn path(
    tree: &MerkleTree,
    kept: Option<&SignedTreeHead>,
    now: &SignedTreeHead,
) -> Option<Vec<[u8; 32]>> {
    proof_needed(kept, now).map(|(a, b)| tree.consistency_proof(a, b).unwrap().path)
}

#[test]
fn an_appending_board_passes_and_the_largest_head_is_kept() {
    let key = BoardSigningKey::generate(&mut ChaCha20Rng::seed_from_u64(1));
    let board = tree(&[b"a", b"b", b"c", b"d", b"e"]);
    let public = key.public();
    let h2 = head(&key, &board, 2);
    let h5 = head(&key, &board, 5);

    let (first, kept) = compare(None, &h2, &public, None).unwrap();
    assert_eq!((first, &kept), (Outcome::First, &h2));
    let (same, kept) = compare(Some(&kept), &h2, &public, None).unwrap();
    assert_eq!(same, Outcome::Same);
    let p = path(&board, Some(&kept), &h5);
    let (grew, kept) = compare(Some(&kept), &h5, &public, p).unwrap();
    assert_eq!((grew, &kept), (Outcome::Extends { from: 2, to: 5 }, &h5));
    // An older head (a cached page) that the kept one extends: fine, and the kept head stays.
    let h3 = head(&key, &board, 3);
    let p = path(&board, Some(&kept), &h3);
    assert!(p.as_ref().is_some_and(|p| !p.is_empty()));
    let (older, kept) = compare(Some(&kept), &h3, &public, p).unwrap();
    assert_eq!((older, &kept), (Outcome::Older { size: 3, kept: 5 }, &h5));
}

#[test]
fn a_rewritten_or_forked_history_is_caught_with_both_signed_heads() {
    let key = BoardSigningKey::generate(&mut ChaCha20Rng::seed_from_u64(2));
    let public = key.public();
    let shown = tree(&[b"a", b"b", b"c"]);
    let rewritten = tree(&[b"a", b"X", b"c", b"d"]);
    let kept = head(&key, &shown, 3);

    // The same size, another root: a fork.
    let forked = head(&key, &rewritten, 3);
    let alarm = compare(Some(&kept), &forked, &public, None).unwrap_err();
    assert!(
        alarm.words.contains("two different boards of 3 entries"),
        "{alarm}"
    );
    assert_eq!(alarm.evidence.as_deref(), Some(&(kept.clone(), forked)));

    // Larger, but entry 1 changed: the rewritten board's own proof does not reach the old root.
    let grown = head(&key, &rewritten, 4);
    let p = path(&rewritten, Some(&kept), &grown);
    let alarm = compare(Some(&kept), &grown, &public, p).unwrap_err();
    assert!(alarm.words.contains("does not extend"), "{alarm}");
    assert_eq!(
        alarm.evidence.as_deref(),
        Some(&(kept.clone(), grown.clone()))
    );
    // Nor does a path of the honest board help the rewritten head.
    let honest = tree(&[b"a", b"b", b"c", b"d"]);
    let p = path(&honest, Some(&kept), &grown);
    assert!(compare(Some(&kept), &grown, &public, p).is_err());
    // No path at all is no proof.
    assert!(compare(Some(&kept), &grown, &public, None).is_err());

    // Smaller, and not a prefix of what was shown: rewritten too.
    let shrunk = head(&key, &rewritten, 2);
    let p = path(&shown, Some(&kept), &shrunk);
    assert!(compare(Some(&kept), &shrunk, &public, p).is_err());
}

#[test]
fn a_kept_head_that_is_not_the_boards_is_forgotten_not_evidence() {
    let key = BoardSigningKey::generate(&mut ChaCha20Rng::seed_from_u64(3));
    let other = BoardSigningKey::generate(&mut ChaCha20Rng::seed_from_u64(4));
    let board = tree(&[b"a", b"b"]);
    let kept = head(&other, &board, 2);
    let now = head(&key, &board, 2);
    let alarm = compare(Some(&kept), &now, &key.public(), None).unwrap_err();
    assert!(alarm.words.contains("forgotten"), "{alarm}");
    assert_eq!(alarm.evidence, None);
}
