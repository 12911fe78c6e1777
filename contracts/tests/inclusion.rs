//! `verifyInclusion` against the board's own Merkle code (`tabella_crypto::board`): proofs the
//! board builds verify on-chain for many sizes and indices, and every alteration of a proof —
//! index ±1, another size, a flipped bit, a truncated or extended path, another leaf, another
//! election — is refused, exactly as the Rust verifier refuses it.

mod common;

use common::*;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use tabella_contracts::Registry;
use tabella_crypto::board::{leaf_hash, verify_inclusion, InclusionProof, MerkleTree};

/// Leaves in the test tree.
const LEAVES: u64 = 1_500;

/// The tree sizes anchored: every size up to 33, both sides of powers of two, and a few others.
fn checkpointed_sizes() -> Vec<u64> {
    let mut sizes: Vec<u64> = (1..=33).collect();
    for p in [64u64, 128, 256, 512, 1024] {
        sizes.extend([p - 1, p, p + 1]);
    }
    sizes.extend([100, 1000, LEAVES]);
    sizes.sort_unstable();
    sizes.dedup();
    sizes
}

struct World {
    runtime: tokio::runtime::Runtime,
    registry: Registry,
    tree: MerkleTree,
    sizes: Vec<u64>,
    _fixture: Fixture,
}

impl World {
    /// A chain with the tree's heads at every checkpointed size.
    fn new() -> World {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let mut tree = MerkleTree::new();
        for i in 0..LEAVES {
            tree.push(leaf_hash(format!("ballot {i}").as_bytes()));
        }
        let sizes = checkpointed_sizes();
        let fixture = runtime.block_on(async {
            let f = created().await;
            for &size in &sizes {
                let root = tree.root_at(size).expect("root");
                f.registry
                    .checkpoint(&f.operator, f.id(), size, root, size, [7; 64])
                    .await
                    .expect("checkpoint");
            }
            // Another election: the first one's checkpoints are not its own.
            let other = registration(election_id(2), f.chain.time().await.expect("time"));
            f.registry
                .create_election(&f.operator, &other)
                .await
                .expect("other election");
            f
        });
        World {
            runtime,
            registry: fixture.registry.clone(),
            tree,
            sizes,
            _fixture: fixture,
        }
    }

    fn on_chain(&self, size: u64, index: u64, leaf: [u8; 32], path: &[[u8; 32]]) -> bool {
        self.on_chain_for(election_id(1), size, index, leaf, path)
    }

    fn on_chain_for(
        &self,
        id: [u8; 32],
        size: u64,
        index: u64,
        leaf: [u8; 32],
        path: &[[u8; 32]],
    ) -> bool {
        self.runtime
            .block_on(self.registry.verify_inclusion(id, size, index, leaf, path))
            .expect("verifyInclusion call")
    }

    /// The Rust verifier's verdict on the same inputs.
    fn in_rust(&self, size: u64, index: u64, leaf: [u8; 32], path: &[[u8; 32]]) -> bool {
        let Ok(root) = self.tree.root_at(size) else {
            return false;
        };
        let proof = InclusionProof {
            index,
            tree_size: size,
            path: path.to_vec(),
        };
        verify_inclusion(&leaf, index, size, &proof, &root).is_ok()
    }

    fn proof(&self, size: u64, index: u64) -> (Vec<[u8; 32]>, [u8; 32]) {
        let proof = self.tree.inclusion_proof(index, size).expect("proof");
        let leaf = self.tree.leaf(index).expect("leaf");
        (proof.path, leaf)
    }

    /// Runs `test` on 256 generated cases.
    fn check<S: Strategy>(
        &self,
        strategy: S,
        test: impl Fn(&World, S::Value) -> Result<(), TestCaseError>,
    ) {
        let mut runner = TestRunner::new(Config::with_cases(256));
        if let Err(error) = runner.run(&strategy, |value| test(self, value)) {
            panic!("{error}");
        }
    }
}

/// A checkpointed size and an index in it.
fn size_and_index() -> impl Strategy<Value = (u64, u64)> {
    (0..checkpointed_sizes().len()).prop_flat_map(|i| {
        let size = checkpointed_sizes()[i];
        (Just(size), 0..size)
    })
}

#[test]
fn every_proof_verifies_at_every_checkpointed_size_edge() {
    let w = World::new();
    for &size in &w.sizes {
        for index in [0, size / 2, size - 1] {
            let (path, leaf) = w.proof(size, index);
            assert!(
                w.on_chain(size, index, leaf, &path),
                "size {size} index {index}"
            );
        }
    }
    // The one-leaf tree: the empty path.
    let (path, leaf) = w.proof(1, 0);
    assert!(path.is_empty());
    assert!(w.on_chain(1, 0, leaf, &path));
}

#[test]
fn sizes_without_a_checkpoint_verify_nothing() {
    let w = World::new();
    assert!(!w.on_chain(0, 0, [0; 32], &[]));
    for size in [34u64, 62, 66, 1001, 1499] {
        let (path, leaf) = w.proof(size, 0);
        assert!(w.in_rust(size, 0, leaf, &path));
        assert!(
            !w.on_chain(size, 0, leaf, &path),
            "size {size} is not checkpointed"
        );
    }
    // The tree anchored for election 1 proves nothing for election 2 or an unknown one.
    let (path, leaf) = w.proof(64, 10);
    assert!(w.on_chain(64, 10, leaf, &path));
    assert!(!w.on_chain_for(election_id(2), 64, 10, leaf, &path));
    assert!(!w.on_chain_for(election_id(77), 64, 10, leaf, &path));
}

#[test]
fn board_proofs_verify_on_chain() {
    World::new().check(size_and_index(), |w, (size, index)| {
        let (path, leaf) = w.proof(size, index);
        prop_assert!(w.in_rust(size, index, leaf, &path));
        prop_assert!(w.on_chain(size, index, leaf, &path));
        Ok(())
    });
}

#[test]
fn a_neighbouring_index_is_refused() {
    World::new().check(
        (size_and_index(), any::<bool>()),
        |w, ((size, index), up)| {
            let (path, leaf) = w.proof(size, index);
            let other = if up {
                index.checked_add(1)
            } else {
                index.checked_sub(1)
            };
            if let Some(other) = other {
                prop_assert!(
                    !w.on_chain(size, other, leaf, &path),
                    "index {other} for {index} in {size}"
                );
                prop_assert!(!w.in_rust(size, other, leaf, &path));
            }
            // An index at or past the size is never in the tree.
            prop_assert!(!w.on_chain(size, size, leaf, &path));
            prop_assert!(!w.on_chain(size, size + index, leaf, &path));
            Ok(())
        },
    );
}

#[test]
fn another_size_is_refused() {
    let strategy = (size_and_index(), any::<prop::sample::Index>());
    World::new().check(strategy, |w, ((size, index), pick)| {
        let (path, leaf) = w.proof(size, index);
        let other = w.sizes[pick.index(w.sizes.len())];
        if other != size {
            prop_assert!(
                !w.on_chain(other, index, leaf, &path),
                "size {other} for {size}"
            );
            prop_assert!(!w.in_rust(other, index, leaf, &path));
        }
        prop_assert!(!w.on_chain(size + 1, index, leaf, &path));
        prop_assert!(!w.on_chain(size - 1, index, leaf, &path));
        Ok(())
    });
}

#[test]
fn a_flipped_bit_is_refused() {
    let strategy = (size_and_index(), any::<prop::sample::Index>(), 0usize..256);
    World::new().check(strategy, |w, ((size, index), element, bit)| {
        let (mut path, leaf) = w.proof(size, index);
        // In the leaf.
        let mut flipped = leaf;
        flipped[bit / 8] ^= 1 << (bit % 8);
        prop_assert!(!w.on_chain(size, index, flipped, &path));
        prop_assert!(!w.in_rust(size, index, flipped, &path));
        // In one path element.
        if !path.is_empty() {
            let i = element.index(path.len());
            path[i][bit / 8] ^= 1 << (bit % 8);
            prop_assert!(!w.on_chain(size, index, leaf, &path));
            prop_assert!(!w.in_rust(size, index, leaf, &path));
        }
        Ok(())
    });
}

#[test]
fn a_truncated_or_extended_path_is_refused() {
    World::new().check(
        (size_and_index(), any::<[u8; 32]>()),
        |w, ((size, index), extra)| {
            let (path, leaf) = w.proof(size, index);
            if !path.is_empty() {
                prop_assert!(!w.on_chain(size, index, leaf, &path[..path.len() - 1]));
                prop_assert!(!w.on_chain(size, index, leaf, &path[1..]));
                prop_assert!(!w.in_rust(size, index, leaf, &path[..path.len() - 1]));
                let mut doubled = path.clone();
                doubled.extend(path.iter().copied());
                prop_assert!(!w.on_chain(size, index, leaf, &doubled));
            }
            let mut longer = path.clone();
            longer.push(extra);
            prop_assert!(!w.on_chain(size, index, leaf, &longer));
            prop_assert!(!w.in_rust(size, index, leaf, &longer));
            let mut front = vec![extra];
            front.extend(path.iter().copied());
            prop_assert!(!w.on_chain(size, index, leaf, &front));
            Ok(())
        },
    );
}

#[test]
fn another_leaf_is_refused() {
    World::new().check(
        (size_and_index(), 0u64..LEAVES),
        |w, ((size, index), other)| {
            let (path, leaf) = w.proof(size, index);
            let other_leaf = w.tree.leaf(other).expect("leaf");
            if other_leaf != leaf {
                prop_assert!(!w.on_chain(size, index, other_leaf, &path));
                prop_assert!(!w.in_rust(size, index, other_leaf, &path));
            }
            // Not an interior node in place of the leaf hash either.
            let node = tabella_crypto::board::node_hash(&leaf, &leaf);
            prop_assert!(!w.on_chain(size, index, node, &path));
            Ok(())
        },
    );
}
