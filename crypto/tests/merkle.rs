//! The Merkle log against RFC 6962 / RFC 9162 (spec/merkle.md): the Certificate Transparency
//! reference vectors, an independent implementation of the RFC's recursive definitions, every
//! proof of every small tree, and every way of corrupting a proof.

// Helpers outside `#[test]` functions unwrap too: in a test, a panic is the failure report.
#![allow(clippy::unwrap_used)]

use std::sync::OnceLock;

use proptest::prelude::*;
use tabella_crypto::board::merkle::{
    leaf_hash, node_hash, verify_consistency, verify_inclusion, ConsistencyProof, Hash,
    InclusionProof, MerkleError, MerkleTree, EMPTY_ROOT,
};

// These tests also run in headless Chromium (`cargo xtask test`, step browser-crypto), where
// wasm-bindgen-test's attribute stands in for `#[test]`, inside `proptest!` too.
#[cfg(all(target_arch = "wasm32", target_os = "unknown"))]
use wasm_bindgen_test::wasm_bindgen_test as test;
#[cfg(all(target_arch = "wasm32", target_os = "unknown"))]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

// ---------------------------------------------------------------------------------------------
// Reference data: the RFC 6962 test vectors shared by certificate-transparency implementations
// (transparency-dev/merkle `proof/verify_test.go`, google/certificate-transparency). Every value
// below is recomputed by the tests that use it.
// ---------------------------------------------------------------------------------------------

/// The eight reference leaves, as hex.
const CT_LEAVES: [&str; 8] = [
    "",
    "00",
    "10",
    "2021",
    "3031",
    "40414243",
    "5051525354555657",
    "606162636465666768696a6b6c6d6e6f",
];

/// The published roots of the trees of the first 1..=8 reference leaves.
const CT_ROOTS: [&str; 8] = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
];

/// The published inclusion paths: (0-based leaf index, tree size, path).
const CT_INCLUSION: [(u64, u64, &[&str]); 5] = [
    (0, 1, &[]),
    (
        0,
        8,
        &[
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        5,
        8,
        &[
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (
        2,
        3,
        &["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"],
    ),
    (
        1,
        5,
        &[
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
];

/// The published consistency paths: (old size, new size, path).
const CT_CONSISTENCY: [(u64, u64, &[&str]); 5] = [
    (1, 1, &[]),
    (
        1,
        8,
        &[
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        6,
        8,
        &[
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (
        2,
        5,
        &[
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
    (
        6,
        7,
        &[
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
];

fn h(text: &str) -> Hash {
    hex::decode(text).unwrap().try_into().unwrap()
}

fn hashes(texts: &[&str]) -> Vec<Hash> {
    texts.iter().map(|t| h(t)).collect()
}

fn ct_tree() -> MerkleTree {
    CT_LEAVES
        .iter()
        .map(|data| leaf_hash(&hex::decode(data).unwrap()))
        .collect()
}

/// Distinct leaf hashes for synthetic trees.
fn synthetic_leaves(n: u64) -> Vec<Hash> {
    (0..n)
        .map(|i| leaf_hash(format!("ballot {i}").as_bytes()))
        .collect()
}

fn tree_of(n: u64) -> MerkleTree {
    synthetic_leaves(n).into_iter().collect()
}

/// One tree of 40 leaves: every smaller tree is a prefix of it.
fn small_tree() -> &'static MerkleTree {
    static TREE: OnceLock<MerkleTree> = OnceLock::new();
    TREE.get_or_init(|| tree_of(SMALL))
}

/// One tree of 4096 leaves for the property tests.
fn big_tree() -> &'static MerkleTree {
    static TREE: OnceLock<MerkleTree> = OnceLock::new();
    TREE.get_or_init(|| tree_of(BIG))
}

const SMALL: u64 = 40;
const BIG: u64 = 4096;

fn flip_bit(hash: &Hash, bit: usize) -> Hash {
    let mut out = *hash;
    out[(bit / 8) % 32] ^= 1 << (bit % 8);
    out
}

/// A few bit positions to flip in loops that cannot afford all 256.
const SAMPLE_BITS: [usize; 4] = [0, 7, 129, 255];

// ---------------------------------------------------------------------------------------------
// An independent implementation of RFC 9162 §2.1's recursive definitions, on slices.
// ---------------------------------------------------------------------------------------------

fn largest_power_of_two_below(n: usize) -> usize {
    let mut k = 1;
    while k * 2 < n {
        k *= 2;
    }
    k
}

fn reference_mth(d: &[Hash]) -> Hash {
    match d.len() {
        0 => EMPTY_ROOT,
        1 => d[0],
        n => {
            let k = largest_power_of_two_below(n);
            node_hash(&reference_mth(&d[..k]), &reference_mth(&d[k..]))
        }
    }
}

fn reference_path(m: usize, d: &[Hash]) -> Vec<Hash> {
    let n = d.len();
    if n <= 1 {
        return Vec::new();
    }
    let k = largest_power_of_two_below(n);
    if m < k {
        let mut path = reference_path(m, &d[..k]);
        path.push(reference_mth(&d[k..]));
        path
    } else {
        let mut path = reference_path(m - k, &d[k..]);
        path.push(reference_mth(&d[..k]));
        path
    }
}

fn reference_subproof(m: usize, d: &[Hash], whole: bool) -> Vec<Hash> {
    let n = d.len();
    if m == n {
        return if whole {
            Vec::new()
        } else {
            vec![reference_mth(d)]
        };
    }
    let k = largest_power_of_two_below(n);
    if m <= k {
        let mut proof = reference_subproof(m, &d[..k], whole);
        proof.push(reference_mth(&d[k..]));
        proof
    } else {
        let mut proof = reference_subproof(m - k, &d[k..], false);
        proof.push(reference_mth(&d[..k]));
        proof
    }
}

fn reference_consistency(m: usize, d: &[Hash]) -> Vec<Hash> {
    if m == 0 || m == d.len() {
        Vec::new()
    } else {
        reference_subproof(m, d, true)
    }
}

// ---------------------------------------------------------------------------------------------
// Statements and their corruptions.
// ---------------------------------------------------------------------------------------------

/// Everything an inclusion check takes. The proof states the same index and size as the caller,
/// so a corruption of either exercises the path algorithm, not just the agreement check.
#[derive(Clone, Debug)]
struct Inclusion {
    leaf: Hash,
    index: u64,
    tree_size: u64,
    path: Vec<Hash>,
    root: Hash,
}

impl Inclusion {
    fn honest(tree: &MerkleTree, index: u64, tree_size: u64) -> Self {
        Self {
            leaf: tree.leaf(index).unwrap(),
            index,
            tree_size,
            path: tree.inclusion_proof(index, tree_size).unwrap().path,
            root: tree.root_at(tree_size).unwrap(),
        }
    }

    fn verify(&self) -> Result<(), MerkleError> {
        let proof = InclusionProof {
            index: self.index,
            tree_size: self.tree_size,
            path: self.path.clone(),
        };
        verify_inclusion(&self.leaf, self.index, self.tree_size, &proof, &self.root)
    }

    fn with(&self, change: impl FnOnce(&mut Self)) -> Self {
        let mut out = self.clone();
        change(&mut out);
        out
    }
}

/// Everything a consistency check takes; the proof states the caller's sizes.
#[derive(Clone, Debug)]
struct Consistency {
    old_size: u64,
    new_size: u64,
    old_root: Hash,
    new_root: Hash,
    path: Vec<Hash>,
}

impl Consistency {
    fn honest(tree: &MerkleTree, old_size: u64, new_size: u64) -> Self {
        Self {
            old_size,
            new_size,
            old_root: tree.root_at(old_size).unwrap(),
            new_root: tree.root_at(new_size).unwrap(),
            path: tree.consistency_proof(old_size, new_size).unwrap().path,
        }
    }

    fn verify(&self) -> Result<(), MerkleError> {
        let proof = ConsistencyProof {
            old_size: self.old_size,
            new_size: self.new_size,
            path: self.path.clone(),
        };
        verify_consistency(
            self.old_size,
            self.new_size,
            &self.old_root,
            &self.new_root,
            &proof,
        )
    }

    fn with(&self, change: impl FnOnce(&mut Self)) -> Self {
        let mut out = self.clone();
        change(&mut out);
        out
    }
}

fn is_wrong_length(result: &Result<(), MerkleError>) -> bool {
    matches!(result, Err(MerkleError::WrongProofLength { .. }))
}

fn is_consistency_root_mismatch(result: &Result<(), MerkleError>) -> bool {
    matches!(
        result,
        Err(MerkleError::OldRootMismatch | MerkleError::NewRootMismatch)
    )
}

/// Every inclusion check of every leaf of every tree of 1..=40 leaves.
fn all_small_inclusions() -> impl Iterator<Item = Inclusion> {
    (1..=SMALL).flat_map(|size| (0..size).map(move |i| Inclusion::honest(small_tree(), i, size)))
}

/// Every non-trivial (0 < old < new) consistency check among trees of up to 40 leaves.
fn all_small_consistencies() -> impl Iterator<Item = Consistency> {
    (2..=SMALL).flat_map(|new| (1..new).map(move |old| Consistency::honest(small_tree(), old, new)))
}

// ---------------------------------------------------------------------------------------------
// Hashing and roots (spec MERKLE-HASH-*, MERKLE-TREE-*).
// ---------------------------------------------------------------------------------------------

#[test]
fn empty_tree_root_is_sha256_of_empty_string() {
    assert_eq!(
        EMPTY_ROOT,
        h("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    );
    let tree = MerkleTree::new();
    assert!(tree.is_empty());
    assert_eq!(tree.len(), 0);
    assert_eq!(tree.root(), EMPTY_ROOT);
    assert_eq!(tree.root_at(0), Ok(EMPTY_ROOT));
}

#[test]
fn leaf_and_node_hashes_carry_the_rfc6962_domain_prefixes() {
    // MERKLE-HASH-1: SHA-256(0x00 || "") is the published one-leaf root.
    assert_eq!(leaf_hash(b""), h(CT_ROOTS[0]));
    // MERKLE-HASH-2: SHA-256(0x01 || l || r) of the first two leaves is the two-leaf root.
    let (a, b) = (leaf_hash(b""), leaf_hash(&[0x00]));
    assert_eq!(node_hash(&a, &b), h(CT_ROOTS[1]));
    assert_ne!(node_hash(&b, &a), h(CT_ROOTS[1]));
    // A leaf hash is never an unprefixed digest of the same data.
    assert_ne!(leaf_hash(b""), EMPTY_ROOT);
}

#[test]
fn roots_match_rfc6962_reference_for_sizes_0_to_8() {
    let mut tree = MerkleTree::new();
    assert_eq!(tree.root(), EMPTY_ROOT);
    for (i, data) in CT_LEAVES.iter().enumerate() {
        assert_eq!(tree.push(leaf_hash(&hex::decode(data).unwrap())), i as u64);
        assert_eq!(tree.len(), i as u64 + 1);
        assert_eq!(hex::encode(tree.root()), CT_ROOTS[i], "size {}", i + 1);
    }
    for (i, root) in CT_ROOTS.iter().enumerate() {
        assert_eq!(hex::encode(tree.root_at(i as u64 + 1).unwrap()), *root);
    }
}

#[test]
fn root_at_every_size_equals_root_of_tree_built_to_that_size() {
    let leaves = synthetic_leaves(300);
    let full: MerkleTree = leaves.iter().copied().collect();
    let mut growing = MerkleTree::new();
    assert_eq!(full.root_at(0), Ok(EMPTY_ROOT));
    for (i, leaf) in leaves.iter().enumerate() {
        growing.push(*leaf);
        assert_eq!(
            full.root_at(i as u64 + 1),
            Ok(growing.root()),
            "size {}",
            i + 1
        );
    }
    assert_eq!(full.root(), growing.root());
}

#[test]
fn tree_is_rfc6962s_split_at_power_of_two_not_midpoint() {
    // For 3 leaves the left subtree has 2 leaves, not 1 (a midpoint split would give the other).
    let leaves = synthetic_leaves(3);
    let tree: MerkleTree = leaves.iter().copied().collect();
    let rfc = node_hash(&node_hash(&leaves[0], &leaves[1]), &leaves[2]);
    let midpoint = node_hash(&leaves[0], &node_hash(&leaves[1], &leaves[2]));
    assert_eq!(tree.root(), rfc);
    assert_ne!(tree.root(), midpoint);
}

#[test]
fn leaf_returns_pushed_hashes_and_none_past_the_end() {
    let leaves = synthetic_leaves(5);
    let tree: MerkleTree = leaves.iter().copied().collect();
    for (i, leaf) in leaves.iter().enumerate() {
        assert_eq!(tree.leaf(i as u64), Some(*leaf));
    }
    assert_eq!(tree.leaf(5), None);
    assert_eq!(tree.leaf(u64::MAX), None);
}

// ---------------------------------------------------------------------------------------------
// Published proofs (spec MERKLE-INCL-1, MERKLE-CONS-1).
// ---------------------------------------------------------------------------------------------

#[test]
fn inclusion_proofs_match_published_rfc6962_paths() {
    let tree = ct_tree();
    for (index, size, path) in CT_INCLUSION {
        let proof = tree.inclusion_proof(index, size).unwrap();
        assert_eq!(proof.path, hashes(path), "leaf {index} in tree {size}");
        let root = h(CT_ROOTS[size as usize - 1]);
        let leaf = tree.leaf(index).unwrap();
        assert_eq!(verify_inclusion(&leaf, index, size, &proof, &root), Ok(()));
    }
}

#[test]
fn consistency_proofs_match_published_rfc6962_paths() {
    let tree = ct_tree();
    for (old, new, path) in CT_CONSISTENCY {
        let proof = tree.consistency_proof(old, new).unwrap();
        assert_eq!(proof.path, hashes(path), "from {old} to {new}");
        let old_root = h(CT_ROOTS[old as usize - 1]);
        let new_root = h(CT_ROOTS[new as usize - 1]);
        assert_eq!(
            verify_consistency(old, new, &old_root, &new_root, &proof),
            Ok(())
        );
    }
}

#[test]
fn published_rfc6962_proofs_verify_as_given() {
    // The published paths, taken as they are rather than rebuilt, verify against the roots.
    let tree = ct_tree();
    for (index, size, path) in CT_INCLUSION {
        let proof = InclusionProof {
            index,
            tree_size: size,
            path: hashes(path),
        };
        let root = h(CT_ROOTS[size as usize - 1]);
        let leaf = tree.leaf(index).unwrap();
        assert_eq!(verify_inclusion(&leaf, index, size, &proof, &root), Ok(()));
    }
    for (old, new, path) in CT_CONSISTENCY {
        let proof = ConsistencyProof {
            old_size: old,
            new_size: new,
            path: hashes(path),
        };
        let (old_root, new_root) = (h(CT_ROOTS[old as usize - 1]), h(CT_ROOTS[new as usize - 1]));
        assert_eq!(
            verify_consistency(old, new, &old_root, &new_root, &proof),
            Ok(())
        );
    }
}

#[test]
fn roots_and_proofs_match_rfc9162_recursive_definitions_up_to_40_leaves() {
    let leaves = synthetic_leaves(SMALL);
    let tree = small_tree();
    for n in 0..=SMALL as usize {
        let d = &leaves[..n];
        assert_eq!(tree.root_at(n as u64), Ok(reference_mth(d)), "root of {n}");
        for m in 0..n {
            assert_eq!(
                tree.inclusion_proof(m as u64, n as u64).unwrap().path,
                reference_path(m, d),
                "inclusion of {m} in {n}"
            );
        }
        for m in 0..=n {
            assert_eq!(
                tree.consistency_proof(m as u64, n as u64).unwrap().path,
                reference_consistency(m, d),
                "consistency from {m} to {n}"
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Completeness (spec MERKLE-INCL-3, MERKLE-CONS-3).
// ---------------------------------------------------------------------------------------------

#[test]
fn every_inclusion_proof_verifies_for_sizes_1_to_40() {
    let mut count = 0;
    for case in all_small_inclusions() {
        assert_eq!(case.verify(), Ok(()), "{case:?}");
        count += 1;
    }
    assert_eq!(count, SMALL * (SMALL + 1) / 2);
}

#[test]
fn every_consistency_proof_verifies_for_every_old_le_new_up_to_40() {
    let tree = small_tree();
    for new in 0..=SMALL {
        for old in 0..=new {
            let case = Consistency::honest(tree, old, new);
            assert_eq!(case.verify(), Ok(()), "{case:?}");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Inclusion: every corruption is rejected (spec MERKLE-INCL-3, MERKLE-INCL-4).
// ---------------------------------------------------------------------------------------------

#[test]
fn inclusion_proof_with_index_off_by_one_is_rejected() {
    for case in all_small_inclusions() {
        if case.index > 0 {
            let wrong = case.with(|c| c.index -= 1);
            assert!(wrong.verify().is_err(), "{wrong:?}");
        }
        let wrong = case.with(|c| c.index += 1);
        assert!(wrong.verify().is_err(), "{wrong:?}");
    }
}

#[test]
fn inclusion_proof_with_wrong_tree_size_is_rejected() {
    let tree = small_tree();
    for case in all_small_inclusions() {
        // Checked against the tree head of a neighbouring size (its own root).
        for size in [case.tree_size - 1, case.tree_size + 1] {
            if size <= tree.len() {
                let wrong = case.with(|c| {
                    c.tree_size = size;
                    c.root = tree.root_at(size).unwrap();
                });
                assert!(wrong.verify().is_err(), "{wrong:?}");
            }
        }
        // Sizes whose path has another shape, against the original root.
        for size in [case.tree_size * 2, case.tree_size / 2, 0] {
            let wrong = case.with(|c| c.tree_size = size);
            if size != case.tree_size {
                assert!(wrong.verify().is_err(), "{wrong:?}");
            }
        }
    }
}

#[test]
fn inclusion_proof_with_swapped_adjacent_hashes_is_rejected() {
    for case in all_small_inclusions() {
        for j in 1..case.path.len() {
            let wrong = case.with(|c| c.path.swap(j - 1, j));
            assert_eq!(wrong.verify(), Err(MerkleError::RootMismatch), "{wrong:?}");
        }
    }
}

#[test]
fn inclusion_proof_with_truncated_path_is_rejected() {
    for case in all_small_inclusions().filter(|c| !c.path.is_empty()) {
        for wrong in [
            case.with(|c| {
                c.path.pop();
            }),
            case.with(|c| {
                c.path.remove(0);
            }),
            case.with(|c| c.path.clear()),
        ] {
            assert!(is_wrong_length(&wrong.verify()), "{wrong:?}");
        }
    }
}

#[test]
fn inclusion_proof_with_extra_hash_is_rejected() {
    for case in all_small_inclusions() {
        let (root, leaf) = (case.root, case.leaf);
        let middle = case.path.len() / 2;
        for wrong in [
            case.with(|c| c.path.push(root)),
            case.with(|c| c.path.push(EMPTY_ROOT)),
            case.with(|c| c.path.insert(0, leaf)),
            case.with(|c| c.path.insert(middle, [0u8; 32])),
        ] {
            assert!(is_wrong_length(&wrong.verify()), "{wrong:?}");
        }
    }
}

#[test]
fn inclusion_proof_with_flipped_bit_in_path_is_rejected() {
    // Every bit of every path hash for trees of up to 16 leaves; sampled bits up to 40.
    for case in all_small_inclusions() {
        let bits: Vec<usize> = if case.tree_size <= 16 {
            (0..256).collect()
        } else {
            SAMPLE_BITS.to_vec()
        };
        for j in 0..case.path.len() {
            for &bit in &bits {
                let wrong = case.with(|c| c.path[j] = flip_bit(&c.path[j], bit));
                assert_eq!(wrong.verify(), Err(MerkleError::RootMismatch), "{wrong:?}");
            }
        }
    }
}

#[test]
fn inclusion_proof_with_flipped_bit_in_leaf_hash_is_rejected() {
    for case in all_small_inclusions() {
        for bit in 0..256 {
            let wrong = case.with(|c| c.leaf = flip_bit(&c.leaf, bit));
            assert_eq!(wrong.verify(), Err(MerkleError::RootMismatch), "bit {bit}");
        }
    }
}

#[test]
fn inclusion_proof_with_flipped_bit_in_root_is_rejected() {
    for case in all_small_inclusions() {
        for bit in 0..256 {
            let wrong = case.with(|c| c.root = flip_bit(&c.root, bit));
            assert_eq!(wrong.verify(), Err(MerkleError::RootMismatch), "bit {bit}");
        }
    }
}

#[test]
fn inclusion_proof_of_another_leaf_is_rejected() {
    let tree = small_tree();
    for case in all_small_inclusions() {
        for other in 0..case.tree_size {
            if other != case.index {
                let wrong = case.with(|c| c.leaf = tree.leaf(other).unwrap());
                assert_eq!(wrong.verify(), Err(MerkleError::RootMismatch));
            }
        }
    }
}

#[test]
fn inclusion_proof_for_another_position_than_the_one_checked_is_rejected() {
    let tree = small_tree();
    let proof = tree.inclusion_proof(3, 10).unwrap();
    let (leaf, root) = (tree.leaf(3).unwrap(), tree.root_at(10).unwrap());
    assert_eq!(verify_inclusion(&leaf, 3, 10, &proof, &root), Ok(()));
    assert_eq!(
        verify_inclusion(&leaf, 4, 10, &proof, &root),
        Err(MerkleError::ProofIndexMismatch {
            expected: 4,
            found: 3
        })
    );
    assert_eq!(
        verify_inclusion(&leaf, 3, 11, &proof, &root),
        Err(MerkleError::ProofTreeSizeMismatch {
            expected: 11,
            found: 10
        })
    );
}

#[test]
fn inclusion_in_empty_tree_or_past_the_end_is_rejected() {
    let leaf = leaf_hash(b"ballot");
    for (index, tree_size) in [(0, 0), (1, 0), (1, 1), (2, 1), (7, 7), (u64::MAX, u64::MAX)] {
        let proof = InclusionProof {
            index,
            tree_size,
            path: Vec::new(),
        };
        assert_eq!(
            verify_inclusion(&leaf, index, tree_size, &proof, &leaf),
            Err(MerkleError::IndexOutOfRange { index, tree_size })
        );
    }
}

#[test]
fn single_leaf_tree_proves_inclusion_with_empty_path_and_leaf_as_root() {
    let leaf = leaf_hash(b"only ballot");
    let tree: MerkleTree = [leaf].into_iter().collect();
    let proof = tree.inclusion_proof(0, 1).unwrap();
    assert!(proof.path.is_empty());
    assert_eq!(tree.root(), leaf);
    assert_eq!(verify_inclusion(&leaf, 0, 1, &proof, &leaf), Ok(()));
    assert_eq!(
        verify_inclusion(&leaf, 0, 1, &proof, &EMPTY_ROOT),
        Err(MerkleError::RootMismatch)
    );
}

#[test]
fn inclusion_proof_for_extreme_sizes_is_rejected_without_panicking() {
    let leaf = leaf_hash(b"ballot");
    for (index, tree_size) in [(0, u64::MAX), (u64::MAX - 1, u64::MAX), (1 << 63, u64::MAX)] {
        let path = vec![[7u8; 32]; 70];
        let proof = InclusionProof {
            index,
            tree_size,
            path,
        };
        assert!(is_wrong_length(&verify_inclusion(
            &leaf, index, tree_size, &proof, &leaf
        )));
    }
}

// ---------------------------------------------------------------------------------------------
// Consistency: every corruption is rejected (spec MERKLE-CONS-3, MERKLE-CONS-4).
// ---------------------------------------------------------------------------------------------

#[test]
fn consistency_proof_with_old_size_off_by_one_is_rejected() {
    let tree = small_tree();
    for case in all_small_consistencies() {
        for old in [case.old_size - 1, case.old_size + 1] {
            // Against the old tree head of that size, and against the original old root.
            for old_root in [tree.root_at(old).unwrap(), case.old_root] {
                let wrong = case.with(|c| {
                    c.old_size = old;
                    c.old_root = old_root;
                });
                assert!(wrong.verify().is_err(), "{wrong:?}");
            }
        }
    }
}

#[test]
fn consistency_proof_with_new_size_off_by_one_is_rejected() {
    let tree = small_tree();
    for case in all_small_consistencies() {
        for new in [case.new_size - 1, case.new_size + 1] {
            if new > tree.len() {
                continue;
            }
            // Against the new tree head of that size. (Against the original new root it can
            // pass, e.g. 1 → 3 restated as 1 → 4: a root does not commit to its size, which is
            // why the size comes from the signed tree head; spec/merkle.md §5.3.)
            let wrong = case.with(|c| {
                c.new_size = new;
                c.new_root = tree.root_at(new).unwrap();
            });
            assert!(wrong.verify().is_err(), "{wrong:?}");
        }
    }
}

#[test]
fn consistency_proof_with_swapped_adjacent_hashes_is_rejected() {
    for case in all_small_consistencies() {
        for j in 1..case.path.len() {
            let wrong = case.with(|c| c.path.swap(j - 1, j));
            assert!(is_consistency_root_mismatch(&wrong.verify()), "{wrong:?}");
        }
    }
}

#[test]
fn consistency_proof_with_truncated_path_is_rejected() {
    for case in all_small_consistencies() {
        for wrong in [
            case.with(|c| {
                c.path.pop();
            }),
            case.with(|c| {
                c.path.remove(0);
            }),
            case.with(|c| c.path.clear()),
        ] {
            assert!(is_wrong_length(&wrong.verify()), "{wrong:?}");
        }
    }
}

#[test]
fn consistency_proof_with_extra_hash_is_rejected() {
    for case in all_small_consistencies() {
        let (old_root, new_root, first) = (case.old_root, case.new_root, case.path[0]);
        for wrong in [
            case.with(|c| c.path.push(old_root)),
            case.with(|c| c.path.push(new_root)),
            case.with(|c| c.path.insert(0, old_root)),
            case.with(|c| c.path.insert(0, new_root)),
            case.with(|c| c.path.insert(0, first)),
            case.with(|c| c.path.insert(1, [0u8; 32])),
        ] {
            assert!(is_wrong_length(&wrong.verify()), "{wrong:?}");
        }
    }
}

#[test]
fn consistency_proof_with_flipped_bit_in_path_is_rejected() {
    for case in all_small_consistencies() {
        let bits: Vec<usize> = if case.new_size <= 16 {
            (0..256).collect()
        } else {
            SAMPLE_BITS.to_vec()
        };
        for j in 0..case.path.len() {
            for &bit in &bits {
                let wrong = case.with(|c| c.path[j] = flip_bit(&c.path[j], bit));
                assert!(is_consistency_root_mismatch(&wrong.verify()), "{wrong:?}");
            }
        }
    }
}

#[test]
fn consistency_proof_with_flipped_bit_in_old_root_is_rejected() {
    for case in all_small_consistencies() {
        for bit in SAMPLE_BITS.into_iter().chain([3, 64, 200]) {
            let wrong = case.with(|c| c.old_root = flip_bit(&c.old_root, bit));
            assert!(is_consistency_root_mismatch(&wrong.verify()), "{wrong:?}");
        }
    }
}

#[test]
fn consistency_proof_with_flipped_bit_in_new_root_is_rejected() {
    for case in all_small_consistencies() {
        for bit in 0..256 {
            let wrong = case.with(|c| c.new_root = flip_bit(&c.new_root, bit));
            assert_eq!(
                wrong.verify(),
                Err(MerkleError::NewRootMismatch),
                "bit {bit}"
            );
        }
    }
}

#[test]
fn consistency_proof_with_swapped_roots_is_rejected() {
    for case in all_small_consistencies() {
        let wrong = case.with(|c| std::mem::swap(&mut c.old_root, &mut c.new_root));
        assert!(is_consistency_root_mismatch(&wrong.verify()), "{wrong:?}");
    }
}

#[test]
fn consistency_proof_of_a_rewritten_history_is_rejected() {
    // A log that changed one old leaf cannot prove it extends the original tree head.
    let honest = small_tree();
    for changed in [0u64, 5, 12] {
        let mut leaves = synthetic_leaves(SMALL);
        leaves[changed as usize] = leaf_hash(b"substituted ballot");
        let forked: MerkleTree = leaves.into_iter().collect();
        for old in (changed + 1)..SMALL {
            for new in (old + 1)..=SMALL {
                let proof = forked.consistency_proof(old, new).unwrap();
                let result = verify_consistency(
                    old,
                    new,
                    &honest.root_at(old).unwrap(),
                    &forked.root_at(new).unwrap(),
                    &proof,
                );
                assert!(is_consistency_root_mismatch(&result), "{old} → {new}");
            }
        }
    }
}

#[test]
fn consistency_from_empty_tree_requires_empty_root_and_empty_path() {
    let tree = small_tree();
    for new in 0..=SMALL {
        let new_root = tree.root_at(new).unwrap();
        let empty = ConsistencyProof {
            old_size: 0,
            new_size: new,
            path: Vec::new(),
        };
        assert_eq!(
            verify_consistency(0, new, &EMPTY_ROOT, &new_root, &empty),
            Ok(())
        );
        assert_eq!(
            verify_consistency(0, new, &flip_bit(&EMPTY_ROOT, 9), &new_root, &empty),
            Err(MerkleError::OldRootMismatch)
        );
        let padded = ConsistencyProof {
            path: vec![EMPTY_ROOT],
            ..empty
        };
        assert_eq!(
            verify_consistency(0, new, &EMPTY_ROOT, &new_root, &padded),
            Err(MerkleError::WrongProofLength {
                expected: 0,
                found: 1
            })
        );
    }
}

#[test]
fn consistency_between_equal_sizes_requires_equal_roots_and_empty_path() {
    let tree = small_tree();
    for size in 1..=SMALL {
        let root = tree.root_at(size).unwrap();
        let proof = tree.consistency_proof(size, size).unwrap();
        assert!(proof.path.is_empty());
        assert_eq!(verify_consistency(size, size, &root, &root, &proof), Ok(()));
        assert_eq!(
            verify_consistency(size, size, &root, &flip_bit(&root, 100), &proof),
            Err(MerkleError::NewRootMismatch)
        );
        let padded = ConsistencyProof {
            path: vec![root],
            ..proof
        };
        assert!(is_wrong_length(&verify_consistency(
            size, size, &root, &root, &padded
        )));
    }
}

#[test]
fn consistency_from_larger_to_smaller_tree_is_rejected() {
    let tree = small_tree();
    assert_eq!(
        tree.consistency_proof(5, 4),
        Err(MerkleError::SizesOutOfOrder {
            old_size: 5,
            new_size: 4
        })
    );
    let (r4, r5) = (tree.root_at(4).unwrap(), tree.root_at(5).unwrap());
    for path in [Vec::new(), tree.consistency_proof(4, 5).unwrap().path] {
        let proof = ConsistencyProof {
            old_size: 5,
            new_size: 4,
            path,
        };
        assert_eq!(
            verify_consistency(5, 4, &r5, &r4, &proof),
            Err(MerkleError::SizesOutOfOrder {
                old_size: 5,
                new_size: 4
            })
        );
    }
}

#[test]
fn consistency_proof_between_other_sizes_than_the_ones_checked_is_rejected() {
    let tree = small_tree();
    let proof = tree.consistency_proof(3, 7).unwrap();
    let (r3, r7) = (tree.root_at(3).unwrap(), tree.root_at(7).unwrap());
    assert_eq!(verify_consistency(3, 7, &r3, &r7, &proof), Ok(()));
    assert_eq!(
        verify_consistency(3, 8, &r3, &r7, &proof),
        Err(MerkleError::ProofSizesMismatch {
            expected_old: 3,
            expected_new: 8,
            found_old: 3,
            found_new: 7
        })
    );
}

#[test]
fn consistency_proof_for_extreme_sizes_is_rejected_without_panicking() {
    let root = leaf_hash(b"x");
    for (old, new) in [(1, u64::MAX), (u64::MAX - 1, u64::MAX), (1 << 63, u64::MAX)] {
        let proof = ConsistencyProof {
            old_size: old,
            new_size: new,
            path: vec![[1u8; 32]; 70],
        };
        assert!(is_wrong_length(&verify_consistency(
            old, new, &root, &root, &proof
        )));
    }
}

// ---------------------------------------------------------------------------------------------
// Proof generation errors.
// ---------------------------------------------------------------------------------------------

#[test]
fn proofs_and_roots_beyond_the_log_are_refused() {
    let tree = tree_of(10);
    let beyond = |requested| MerkleError::TreeSizeBeyondLog {
        requested,
        log_size: 10,
    };
    assert_eq!(tree.root_at(11), Err(beyond(11)));
    assert_eq!(tree.root_at(u64::MAX), Err(beyond(u64::MAX)));
    assert_eq!(tree.inclusion_proof(0, 11), Err(beyond(11)));
    assert_eq!(tree.consistency_proof(3, 11), Err(beyond(11)));
    assert_eq!(
        tree.inclusion_proof(10, 10),
        Err(MerkleError::IndexOutOfRange {
            index: 10,
            tree_size: 10
        })
    );
    assert_eq!(
        tree.inclusion_proof(0, 0),
        Err(MerkleError::IndexOutOfRange {
            index: 0,
            tree_size: 0
        })
    );
    assert_eq!(
        MerkleTree::new().inclusion_proof(0, 0),
        Err(MerkleError::IndexOutOfRange {
            index: 0,
            tree_size: 0
        })
    );
}

// ---------------------------------------------------------------------------------------------
// Encodings (spec MERKLE-ENC-*).
// ---------------------------------------------------------------------------------------------

#[test]
fn inclusion_proof_binary_layout_is_pinned() {
    let proof = ct_tree().inclusion_proof(2, 3).unwrap();
    let expected = format!("{:016x}{:016x}{:02x}{}", 2, 3, 1, CT_ROOTS[1]);
    assert_eq!(hex::encode(proof.to_bytes()), expected);
    assert_eq!(InclusionProof::from_bytes(&proof.to_bytes()), Ok(proof));
}

#[test]
fn consistency_proof_binary_layout_is_pinned() {
    let proof = ct_tree().consistency_proof(2, 5).unwrap();
    let (_, _, path) = CT_CONSISTENCY[3];
    let expected = format!("{:016x}{:016x}{:02x}{}{}", 2, 5, 2, path[0], path[1]);
    assert_eq!(hex::encode(proof.to_bytes()), expected);
    assert_eq!(ConsistencyProof::from_bytes(&proof.to_bytes()), Ok(proof));
}

#[test]
fn binary_proof_with_wrong_length_is_refused() {
    let inclusion = ct_tree().inclusion_proof(5, 8).unwrap().to_bytes();
    let consistency = ct_tree().consistency_proof(6, 8).unwrap().to_bytes();
    assert_eq!(inclusion.len(), 17 + 3 * 32);
    for bytes in [&inclusion, &consistency] {
        let cases: Vec<(Vec<u8>, usize)> = vec![
            (Vec::new(), 17),
            (bytes[..16].to_vec(), 17),
            (bytes[..17].to_vec(), bytes.len()),
            (bytes[..bytes.len() - 1].to_vec(), bytes.len()),
            ([bytes.as_slice(), &[0]].concat(), bytes.len()),
            ([bytes.as_slice(), &[0u8; 32]].concat(), bytes.len()),
        ];
        for (wrong, expected) in cases {
            let error = MerkleError::WrongEncodingLength {
                expected,
                found: wrong.len(),
            };
            assert_eq!(InclusionProof::from_bytes(&wrong), Err(error.clone()));
            assert_eq!(ConsistencyProof::from_bytes(&wrong), Err(error));
        }
    }
}

#[test]
fn binary_proof_with_impossible_shape_is_refused() {
    // Index not below the size.
    let mut bytes = ct_tree().inclusion_proof(2, 3).unwrap().to_bytes();
    bytes[7] = 3;
    assert_eq!(
        InclusionProof::from_bytes(&bytes),
        Err(MerkleError::IndexOutOfRange {
            index: 3,
            tree_size: 3
        })
    );
    // A path with one hash too many, length-consistent with its count byte.
    let mut proof = ct_tree().inclusion_proof(2, 3).unwrap();
    proof.path.push(EMPTY_ROOT);
    assert_eq!(
        InclusionProof::from_bytes(&proof.to_bytes()),
        Err(MerkleError::WrongProofLength {
            expected: 1,
            found: 2
        })
    );
    // Sizes out of order.
    let backwards = ConsistencyProof {
        old_size: 5,
        new_size: 2,
        path: Vec::new(),
    };
    assert_eq!(
        ConsistencyProof::from_bytes(&backwards.to_bytes()),
        Err(MerkleError::SizesOutOfOrder {
            old_size: 5,
            new_size: 2
        })
    );
    // A consistency path that is too short for its sizes.
    let mut proof = ct_tree().consistency_proof(6, 8).unwrap();
    proof.path.pop();
    assert_eq!(
        ConsistencyProof::from_bytes(&proof.to_bytes()),
        Err(MerkleError::WrongProofLength {
            expected: 3,
            found: 2
        })
    );
}

#[test]
fn inclusion_proof_json_form_is_pinned() {
    let proof = ct_tree().inclusion_proof(2, 3).unwrap();
    let json = serde_json::to_string(&proof).unwrap();
    assert_eq!(
        json,
        format!(r#"{{"index":2,"tree_size":3,"path":["{}"]}}"#, CT_ROOTS[1])
    );
    assert_eq!(
        serde_json::from_str::<InclusionProof>(&json).unwrap(),
        proof
    );
}

#[test]
fn consistency_proof_json_form_is_pinned() {
    let proof = ct_tree().consistency_proof(2, 5).unwrap();
    let (_, _, path) = CT_CONSISTENCY[3];
    let json = serde_json::to_string(&proof).unwrap();
    assert_eq!(
        json,
        format!(
            r#"{{"old_size":2,"new_size":5,"path":["{}","{}"]}}"#,
            path[0], path[1]
        )
    );
    assert_eq!(
        serde_json::from_str::<ConsistencyProof>(&json).unwrap(),
        proof
    );
}

#[test]
fn json_proof_with_non_canonical_text_or_shape_is_refused() {
    let good = CT_ROOTS[1];
    let upper = good.to_uppercase();
    let short = &good[..62];
    let long = format!("{good}00");
    for json in [
        format!(r#"{{"index":2,"tree_size":3,"path":["{upper}"]}}"#),
        format!(r#"{{"index":2,"tree_size":3,"path":["{short}"]}}"#),
        format!(r#"{{"index":2,"tree_size":3,"path":["{long}"]}}"#),
        format!(r#"{{"index":2,"tree_size":3,"path":["0x{short}"]}}"#),
        format!(r#"{{"index":2,"tree_size":3,"path":["{good}"],"extra":1}}"#),
        format!(r#"{{"index":2,"tree_size":3,"path":["{good}","{good}"]}}"#),
        format!(r#"{{"index":3,"tree_size":3,"path":["{good}"]}}"#),
        format!(r#"{{"index":-1,"tree_size":3,"path":["{good}"]}}"#),
        r#"{"index":2,"tree_size":3}"#.to_string(),
    ] {
        assert!(
            serde_json::from_str::<InclusionProof>(&json).is_err(),
            "{json}"
        );
    }
    for json in [
        format!(r#"{{"old_size":5,"new_size":2,"path":["{good}"]}}"#),
        format!(r#"{{"old_size":2,"new_size":5,"path":["{good}"]}}"#),
        format!(r#"{{"old_size":2,"new_size":5,"path":["{upper}","{good}"]}}"#),
        r#"{"old_size":2,"new_size":5,"path":[],"index":0}"#.to_string(),
    ] {
        assert!(
            serde_json::from_str::<ConsistencyProof>(&json).is_err(),
            "{json}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Scale.
// ---------------------------------------------------------------------------------------------

#[test]
fn tree_of_100000_leaves_gives_roots_and_proofs_that_verify() {
    const N: u64 = 100_000;
    let leaves = synthetic_leaves(N + 1);
    // The time bound is native only: std has no clock on wasm32-unknown-unknown.
    #[cfg(not(target_arch = "wasm32"))]
    let start = std::time::Instant::now();
    let mut tree = MerkleTree::new();
    tree.extend(leaves[..N as usize].iter().copied());
    let root = tree.root();
    assert_eq!(tree.root_at(N), Ok(root));
    for index in [0, 1, 4095, 4096, 65_535, 65_536, 99_998, N - 1] {
        let proof = tree.inclusion_proof(index, N).unwrap();
        assert!(proof.path.len() <= 17);
        assert_eq!(
            verify_inclusion(&leaves[index as usize], index, N, &proof, &root),
            Ok(())
        );
    }
    for old in [1, 2, 3, 1000, 65_536, 77_777, N - 1, N] {
        let proof = tree.consistency_proof(old, N).unwrap();
        let old_root = tree.root_at(old).unwrap();
        assert_eq!(verify_consistency(old, N, &old_root, &root, &proof), Ok(()));
    }
    // Appending keeps every old root and proves consistency with the new one.
    tree.push(leaves[N as usize]);
    let proof = tree.consistency_proof(N, N + 1).unwrap();
    assert_eq!(
        verify_consistency(N, N + 1, &root, &tree.root(), &proof),
        Ok(())
    );
    assert_eq!(tree.root_at(N), Ok(root));
    // Generous: this is about 200,000 hashes and a few hundred more, well under a second.
    #[cfg(not(target_arch = "wasm32"))]
    assert!(start.elapsed().as_secs() < 30, "took {:?}", start.elapsed());
}

// ---------------------------------------------------------------------------------------------
// Properties over random trees of up to 4096 leaves.
// ---------------------------------------------------------------------------------------------

fn size_and_index() -> impl Strategy<Value = (u64, u64)> {
    (1..=BIG).prop_flat_map(|size| (Just(size), 0..size))
}

fn old_and_new() -> impl Strategy<Value = (u64, u64)> {
    (2..=BIG).prop_flat_map(|new| (1..new, Just(new)))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn random_inclusion_proof_verifies_and_rejects_every_corruption(
        (size, index) in size_and_index(),
        bit in 0usize..256,
        position in any::<prop::sample::Index>(),
    ) {
        let tree = big_tree();
        let case = Inclusion::honest(tree, index, size);
        prop_assert_eq!(case.verify(), Ok(()));

        let mut wrong = vec![
            case.with(|c| c.leaf = flip_bit(&c.leaf, bit)),
            case.with(|c| c.root = flip_bit(&c.root, bit)),
            case.with(|c| c.index += 1),
            case.with(|c| c.path.push(c.root)),
        ];
        if index > 0 {
            wrong.push(case.with(|c| c.index -= 1));
        }
        for size in [size - 1, size + 1] {
            if size <= tree.len() {
                wrong.push(case.with(|c| {
                    c.tree_size = size;
                    c.root = tree.root_at(size).unwrap();
                }));
            }
        }
        if !case.path.is_empty() {
            let j = position.index(case.path.len());
            wrong.push(case.with(|c| c.path[j] = flip_bit(&c.path[j], bit)));
            wrong.push(case.with(|c| {
 c.path.pop();
 }));
            if j + 1 < case.path.len() {
                wrong.push(case.with(|c| c.path.swap(j, j + 1)));
            }
        }
        for w in wrong {
            prop_assert!(w.verify().is_err(), "{:?}", w);
        }
    }

    #[test]
    fn random_consistency_proof_verifies_and_rejects_every_corruption(
        (old, new) in old_and_new(),
        bit in 0usize..256,
        position in any::<prop::sample::Index>(),
    ) {
        let tree = big_tree();
        let case = Consistency::honest(tree, old, new);
        prop_assert_eq!(case.verify(), Ok(()));

        let j = position.index(case.path.len());
        let mut wrong = vec![
            case.with(|c| c.old_root = flip_bit(&c.old_root, bit)),
            case.with(|c| c.new_root = flip_bit(&c.new_root, bit)),
            case.with(|c| c.path[j] = flip_bit(&c.path[j], bit)),
            case.with(|c| {
 c.path.pop();
 }),
            case.with(|c| c.path.push(c.new_root)),
            case.with(|c| std::mem::swap(&mut c.old_root, &mut c.new_root)),
            case.with(|c| {
                c.old_size -= 1;
                c.old_root = tree.root_at(c.old_size).unwrap();
            }),
            case.with(|c| {
                c.new_size -= 1;
                c.new_root = tree.root_at(c.new_size).unwrap();
            }),
            case.with(|c| {
                c.old_size += 1;
                c.old_root = tree.root_at(c.old_size).unwrap();
            }),
        ];
        if new < tree.len() {
            wrong.push(case.with(|c| {
                c.new_size += 1;
                c.new_root = tree.root_at(c.new_size).unwrap();
            }));
        }
        if j + 1 < case.path.len() {
            wrong.push(case.with(|c| c.path.swap(j, j + 1)));
        }
        for w in wrong {
            prop_assert!(w.verify().is_err(), "{:?}", w);
        }
    }

    #[test]
    fn proofs_match_the_rfc9162_definitions_on_random_trees(
        (size, index) in (1u64..=300).prop_flat_map(|size| (Just(size), 0..size)),
        old in any::<prop::sample::Index>(),
    ) {
        let leaves = synthetic_leaves(size);
        let tree = big_tree();
        let old = old.index(size as usize + 1);
        prop_assert_eq!(tree.root_at(size).unwrap(), reference_mth(&leaves));
        prop_assert_eq!(
            tree.inclusion_proof(index, size).unwrap().path,
            reference_path(index as usize, &leaves)
        );
        prop_assert_eq!(
            tree.consistency_proof(old as u64, size).unwrap().path,
            reference_consistency(old, &leaves)
        );
    }

    #[test]
    fn proof_encodings_round_trip(
        (size, index) in size_and_index(),
        old in any::<prop::sample::Index>(),
    ) {
        let tree = big_tree();
        let inclusion = tree.inclusion_proof(index, size).unwrap();
        prop_assert_eq!(InclusionProof::from_bytes(&inclusion.to_bytes()), Ok(inclusion.clone()));
        let json = serde_json::to_string(&inclusion).unwrap();
        prop_assert_eq!(serde_json::from_str::<InclusionProof>(&json).unwrap(), inclusion);

        let old = old.index(size as usize + 1) as u64;
        let consistency = tree.consistency_proof(old, size).unwrap();
        prop_assert_eq!(
            ConsistencyProof::from_bytes(&consistency.to_bytes()),
            Ok(consistency.clone())
        );
        let json = serde_json::to_string(&consistency).unwrap();
        prop_assert_eq!(serde_json::from_str::<ConsistencyProof>(&json).unwrap(), consistency);
    }

    #[test]
    fn arbitrary_bytes_never_panic_the_decoders(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        let _ = InclusionProof::from_bytes(&bytes);
        let _ = ConsistencyProof::from_bytes(&bytes);
    }

    #[test]
    fn arbitrary_statements_never_panic_the_verifiers(
        index in any::<u64>(),
        size in any::<u64>(),
        path in prop::collection::vec(any::<[u8; 32]>(), 0..70),
        leaf in any::<[u8; 32]>(),
        root in any::<[u8; 32]>(),
    ) {
        let inclusion = InclusionProof { index, tree_size: size, path: path.clone() };
        let _ = verify_inclusion(&leaf, index, size, &inclusion, &root);
        let consistency = ConsistencyProof { old_size: index, new_size: size, path };
        let _ = verify_consistency(index, size, &leaf, &root, &consistency);
    }
}
