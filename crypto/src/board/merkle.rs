//! The append-only Merkle log of RFC 6962 / RFC 9162 over SHA-256 (spec/merkle.md).
//!
//! - Hashing (spec/merkle.md §2, `MERKLE-HASH-*`): a leaf is `SHA-256(0x00 ‖ data)`
//!   ([`leaf_hash`]), an interior node `SHA-256(0x01 ‖ left ‖ right)` ([`node_hash`]), and the
//!   empty tree's root is `SHA-256("")` ([`EMPTY_ROOT`]).
//! - Tree shape (§3, `MERKLE-TREE-*`): a tree of `n > 1` leaves splits at `k`, the largest power of
//!   two strictly below `n`, exactly as RFC 9162 §2.1.1 says (not at the midpoint).
//! - Proofs (§4–§5): [`MerkleTree::inclusion_proof`] and [`MerkleTree::consistency_proof`] build
//!   the RFC 9162 §2.1.3.1 and §2.1.4.1 paths; [`verify_inclusion`] and [`verify_consistency`]
//!   run the RFC 9162 §2.1.3.2 and §2.1.4.2 algorithms and return `Ok(())` or the violation.
//! - Encodings (§6): a fixed binary layout ([`InclusionProof::to_bytes`]) and a JSON form with
//!   hashes as lowercase hex; both decoders are strict and only yield well-formed proofs.
//!
//! [`MerkleTree`] keeps every complete perfect subtree's hash (about `2n` hashes for `n` leaves),
//! so appending costs amortised O(1) hashes and any root or proof O(log n).

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// A SHA-256 digest: a leaf hash, an interior node hash or a tree root.
pub type Hash = [u8; 32];

/// The root of the empty tree: `SHA-256("")` (RFC 9162 §2.1.1, spec `MERKLE-HASH-3`).
pub const EMPTY_ROOT: Hash = [
    0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14, 0x9a, 0xfb, 0xf4, 0xc8, 0x99, 0x6f, 0xb9, 0x24,
    0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b, 0x93, 0x4c, 0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52, 0xb8, 0x55,
];

/// The domain-separation prefix of a leaf hash.
const LEAF_PREFIX: u8 = 0x00;
/// The domain-separation prefix of an interior node hash.
const NODE_PREFIX: u8 = 0x01;
/// Bytes before the path in both binary encodings: two `u64` and the one-byte hash count.
const HEADER_LEN: usize = 17;
/// Bytes of one hash.
const HASH_LEN: usize = 32;

/// Why a Merkle operation or verification was refused. Each variant names the violation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MerkleError {
    /// The leaf index is not below the tree size (a tree of size `n` has leaves `0..n`).
    #[error("leaf index {index} is out of range for a tree of size {tree_size}")]
    IndexOutOfRange {
        /// The leaf index given.
        index: u64,
        /// The size of the tree it was checked against.
        tree_size: u64,
    },
    /// A tree size larger than the number of leaves the log holds was requested.
    #[error("tree size {requested} is beyond the log's {log_size} leaves")]
    TreeSizeBeyondLog {
        /// The size requested.
        requested: u64,
        /// The number of leaves in the log.
        log_size: u64,
    },
    /// A consistency proof was asked or offered from a larger tree to a smaller one.
    #[error("old tree size {old_size} is larger than new tree size {new_size}")]
    SizesOutOfOrder {
        /// The older tree's size.
        old_size: u64,
        /// The newer tree's size.
        new_size: u64,
    },
    /// The proof path does not hold the number of hashes its index and sizes determine.
    #[error("proof path has {found} hashes where {expected} are required")]
    WrongProofLength {
        /// The number of hashes the index and sizes require.
        expected: usize,
        /// The number of hashes in the path.
        found: usize,
    },
    /// The inclusion proof is for another leaf index than the one being checked.
    #[error("inclusion proof is for leaf {found}, not leaf {expected}")]
    ProofIndexMismatch {
        /// The index the caller is checking.
        expected: u64,
        /// The index the proof states.
        found: u64,
    },
    /// The inclusion proof is for another tree size than the tree head being checked against.
    #[error("inclusion proof is for tree size {found}, not {expected}")]
    ProofTreeSizeMismatch {
        /// The tree size the caller is checking against.
        expected: u64,
        /// The tree size the proof states.
        found: u64,
    },
    /// The consistency proof is between other tree sizes than the ones being checked.
    #[error(
        "consistency proof is from size {found_old} to {found_new}, \
         not from {expected_old} to {expected_new}"
    )]
    ProofSizesMismatch {
        /// The old size the caller is checking.
        expected_old: u64,
        /// The new size the caller is checking.
        expected_new: u64,
        /// The old size the proof states.
        found_old: u64,
        /// The new size the proof states.
        found_new: u64,
    },
    /// The root computed from the leaf hash and the inclusion path is not the trusted root.
    #[error("inclusion path leads to a different root than the trusted one")]
    RootMismatch,
    /// The old root computed from the consistency path is not the trusted old root (for an old
    /// size of 0, the trusted old root is not the empty tree's root).
    #[error("consistency path does not lead to the trusted old root")]
    OldRootMismatch,
    /// The new root computed from the consistency path is not the trusted new root (for equal
    /// sizes, the two trusted roots differ).
    #[error("consistency path does not lead to the trusted new root")]
    NewRootMismatch,
    /// A binary proof encoding of the wrong length: truncated, or with trailing bytes. When the
    /// 17-byte header itself is incomplete, `expected` is the header's length.
    #[error("proof encoding has {found} bytes where {expected} are required")]
    WrongEncodingLength {
        /// The length the header (or the header alone) requires.
        expected: usize,
        /// The length given.
        found: usize,
    },
    /// A hash in text form that is not exactly 64 lowercase hexadecimal digits.
    #[error("a hash must be exactly 64 lowercase hexadecimal digits")]
    InvalidHashText,
}

/// The hash of a leaf: `SHA-256(0x00 ‖ data)` (RFC 9162 §2.1.1, spec `MERKLE-HASH-1`).
///
/// In Tabella the data is a cast ballot's canonical bytes and the result its tracking code.
pub fn leaf_hash(data: &[u8]) -> Hash {
    let mut hasher = Sha256::new();
    hasher.update([LEAF_PREFIX]);
    hasher.update(data);
    hasher.finalize().into()
}

/// The hash of an interior node: `SHA-256(0x01 ‖ left ‖ right)` (RFC 9162 §2.1.1, spec
/// `MERKLE-HASH-2`).
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut hasher = Sha256::new();
    hasher.update([NODE_PREFIX]);
    hasher.update(left);
    hasher.update(right);
    hasher.finalize().into()
}

/// An in-memory append-only Merkle tree of leaf hashes (spec/merkle.md §3).
///
/// It stores, level by level, the hash of every complete perfect subtree: level 0 holds the leaf
/// hashes, level `j` the roots of the aligned subtrees of `2^j` leaves. The root of any prefix of
/// the log, and any proof, is then a combination of O(log n) stored hashes.
#[derive(Clone, Default)]
pub struct MerkleTree {
    /// `levels[j][i]` is the root of leaves `i·2^j .. (i+1)·2^j`.
    levels: Vec<Vec<Hash>>,
}

impl core::fmt::Debug for MerkleTree {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("MerkleTree")
            .field("len", &self.len())
            .finish_non_exhaustive()
    }
}

impl MerkleTree {
    /// An empty tree.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends a leaf hash (see [`leaf_hash`]) and returns its index.
    pub fn push(&mut self, leaf_hash: Hash) -> u64 {
        let index = self.len();
        let mut carry = leaf_hash;
        let mut level = 0;
        loop {
            if self.levels.len() == level {
                self.levels.push(Vec::new());
            }
            let Some(nodes) = self.levels.get_mut(level) else {
                break;
            };
            nodes.push(carry);
            // An odd count means the new node has no sibling yet: nothing completes above it.
            if nodes.len() % 2 == 1 {
                break;
            }
            match nodes.as_slice() {
                [.., left, right] => carry = node_hash(left, right),
                _ => break,
            }
            level += 1;
        }
        index
    }

    /// The number of leaves.
    pub fn len(&self) -> u64 {
        self.levels.first().map_or(0, |leaves| leaves.len() as u64)
    }

    /// Whether the tree has no leaves.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The leaf hash at `index`, if the tree has that many leaves.
    pub fn leaf(&self, index: u64) -> Option<Hash> {
        let index = usize::try_from(index).ok()?;
        self.levels.first()?.get(index).copied()
    }

    /// The root of the whole tree ([`EMPTY_ROOT`] when it is empty).
    pub fn root(&self) -> Hash {
        // The whole tree is its perfect "peaks" (one per set bit of `len`, the last node of that
        // level), folded from the smallest, rightmost one leftwards.
        let len = self.len();
        let mut root: Option<Hash> = None;
        for (level, nodes) in self.levels.iter().enumerate() {
            if (len >> level) & 1 == 1 {
                if let Some(peak) = nodes.last() {
                    root = Some(match root {
                        None => *peak,
                        Some(right) => node_hash(peak, &right),
                    });
                }
            }
        }
        root.unwrap_or(EMPTY_ROOT)
    }

    /// The root of the tree made of the first `size` leaves (RFC 9162 `MTH(D[0:size])`).
    ///
    /// Fails with [`MerkleError::TreeSizeBeyondLog`] if `size > len()`.
    pub fn root_at(&self, size: u64) -> Result<Hash, MerkleError> {
        self.check_size(size)?;
        self.subtree(0, size)
    }

    /// The inclusion proof of leaf `index` in the tree of the first `tree_size` leaves
    /// (RFC 9162 §2.1.3.1, spec `MERKLE-INCL-1`).
    ///
    /// Fails with [`MerkleError::TreeSizeBeyondLog`] if `tree_size > len()` and with
    /// [`MerkleError::IndexOutOfRange`] if `index >= tree_size`.
    pub fn inclusion_proof(
        &self,
        index: u64,
        tree_size: u64,
    ) -> Result<InclusionProof, MerkleError> {
        self.check_size(tree_size)?;
        if index >= tree_size {
            return Err(MerkleError::IndexOutOfRange { index, tree_size });
        }
        // PATH(m, D[start:start+n]), walked from the root down; siblings come out root first.
        let (mut m, mut start, mut n) = (index, 0u64, tree_size);
        let mut path = Vec::with_capacity(inclusion_path_len(index, tree_size));
        while n > 1 {
            let k = split_point(n);
            if m < k {
                path.push(self.subtree(start + k, n - k)?);
                n = k;
            } else {
                path.push(self.subtree(start, k)?);
                m -= k;
                start += k;
                n -= k;
            }
        }
        path.reverse();
        Ok(InclusionProof {
            index,
            tree_size,
            path,
        })
    }

    /// The consistency proof from the tree of the first `old_size` leaves to the tree of the
    /// first `new_size` (RFC 9162 §2.1.4.1, spec `MERKLE-CONS-1`). The path is empty when
    /// `old_size` is 0 or equal to `new_size`.
    ///
    /// Fails with [`MerkleError::SizesOutOfOrder`] if `old_size > new_size` and with
    /// [`MerkleError::TreeSizeBeyondLog`] if `new_size > len()`.
    pub fn consistency_proof(
        &self,
        old_size: u64,
        new_size: u64,
    ) -> Result<ConsistencyProof, MerkleError> {
        if old_size > new_size {
            return Err(MerkleError::SizesOutOfOrder { old_size, new_size });
        }
        self.check_size(new_size)?;
        let mut path = Vec::with_capacity(consistency_path_len(old_size, new_size));
        if old_size > 0 {
            // SUBPROOF(m, D[start:start+n], b), walked from the root down.
            let (mut m, mut start, mut n, mut whole_old_tree) = (old_size, 0u64, new_size, true);
            while m != n {
                let k = split_point(n);
                if m <= k {
                    path.push(self.subtree(start + k, n - k)?);
                    n = k;
                } else {
                    path.push(self.subtree(start, k)?);
                    m -= k;
                    start += k;
                    n -= k;
                    whole_old_tree = false;
                }
            }
            // The old tree's own root is left out only when the subtree reached is all of it.
            if !whole_old_tree {
                path.push(self.subtree(start, n)?);
            }
            path.reverse();
        }
        Ok(ConsistencyProof {
            old_size,
            new_size,
            path,
        })
    }

    fn check_size(&self, size: u64) -> Result<(), MerkleError> {
        let log_size = self.len();
        if size > log_size {
            return Err(MerkleError::TreeSizeBeyondLog {
                requested: size,
                log_size,
            });
        }
        Ok(())
    }

    /// The stored root of the perfect subtree of `2^level` leaves starting at `start`.
    fn node(&self, level: u32, start: u64) -> Result<Hash, MerkleError> {
        let missing = || MerkleError::TreeSizeBeyondLog {
            requested: start.saturating_add(1u64.checked_shl(level).unwrap_or(u64::MAX)),
            log_size: self.len(),
        };
        let position = start.checked_shr(level).ok_or_else(missing)?;
        let position = usize::try_from(position).map_err(|_| missing())?;
        let level = usize::try_from(level).map_err(|_| missing())?;
        self.levels
            .get(level)
            .and_then(|nodes| nodes.get(position))
            .copied()
            .ok_or_else(missing)
    }

    /// `MTH(D[start:start+n])` for a subtree the RFC recursion visits: `start` is a multiple of
    /// the largest power of two not above `n`, so the subtree is its perfect pieces (one per set
    /// bit of `n`, largest first), folded from the right.
    fn subtree(&self, start: u64, n: u64) -> Result<Hash, MerkleError> {
        let mut pieces = Vec::with_capacity(n.count_ones() as usize);
        let mut position = start;
        for level in (0..u64::BITS).rev() {
            if (n >> level) & 1 == 1 {
                pieces.push(self.node(level, position)?);
                position = position.saturating_add(1 << level);
            }
        }
        let mut pieces = pieces.into_iter().rev();
        let Some(mut hash) = pieces.next() else {
            return Ok(EMPTY_ROOT);
        };
        for left in pieces {
            hash = node_hash(&left, &hash);
        }
        Ok(hash)
    }
}

impl Extend<Hash> for MerkleTree {
    fn extend<I: IntoIterator<Item = Hash>>(&mut self, leaf_hashes: I) {
        for leaf in leaf_hashes {
            self.push(leaf);
        }
    }
}

impl FromIterator<Hash> for MerkleTree {
    fn from_iter<I: IntoIterator<Item = Hash>>(leaf_hashes: I) -> Self {
        let mut tree = Self::new();
        tree.extend(leaf_hashes);
        tree
    }
}

/// The largest power of two strictly below `n`, for `n ≥ 2` (RFC 9162 §2.1.1's `k`).
fn split_point(n: u64) -> u64 {
    let highest_bit = (u64::BITS - 1).saturating_sub(n.saturating_sub(1).leading_zeros());
    1 << highest_bit
}

/// The inclusion path of leaf `index` (below `size`) splits into `inner` hashes of perfect
/// subtrees under the lowest node where the paths to `index` and to the last leaf meet, then
/// `border` hashes on the tree's left border above it. Returns `(inner, border)`.
fn inclusion_decomposition(index: u64, size: u64) -> (u32, u32) {
    let inner = u64::BITS - (index ^ size.saturating_sub(1)).leading_zeros();
    let border = index.checked_shr(inner).unwrap_or(0).count_ones();
    (inner, border)
}

/// The number of hashes in the inclusion path of leaf `index` in a tree of `size` (spec
/// `MERKLE-INCL-2`); `index < size`.
fn inclusion_path_len(index: u64, size: u64) -> usize {
    let (inner, border) = inclusion_decomposition(index, size);
    (inner + border) as usize
}

/// The number of hashes in the consistency path from `old_size` to `new_size` (spec
/// `MERKLE-CONS-2`); `old_size ≤ new_size`.
fn consistency_path_len(old_size: u64, new_size: u64) -> usize {
    if old_size == 0 || old_size == new_size {
        return 0;
    }
    // The proof of the old tree's last leaf in the new tree, minus the levels below the old
    // tree's largest perfect right subtree, plus that subtree's root unless it is the whole old
    // tree (which the verifier already has).
    let (inner, border) = inclusion_decomposition(old_size - 1, new_size);
    let shift = old_size.trailing_zeros();
    let seed = u32::from(!old_size.is_power_of_two());
    (seed + inner.saturating_sub(shift) + border) as usize
}

/// Right-shifts `fn` and `sn` together until `fn`'s lowest bit is set or `fn` is 0.
fn shift_to_set_bit(first: &mut u64, second: &mut u64) {
    while *first & 1 == 0 && *first != 0 {
        *first >>= 1;
        *second >>= 1;
    }
}

/// The compact state of an append-only Merkle log: the root of each perfect subtree ("peak") that
/// the leaves so far form, one per set bit of the size (RFC 9162 §2.1.1 read left to right).
///
/// It gives the root after every append in O(log n) hashes and O(log n) memory, whatever the
/// number of leaves: the record verifier rebuilds the board's root at every size with it while
/// the ballots stream by.
#[derive(Clone, Debug, Default)]
pub struct MerkleFrontier {
    /// `peaks[j]` is the root of the perfect subtree of `2^j` leaves, when bit `j` of `len` is set.
    peaks: Vec<Option<Hash>>,
    len: u64,
}

impl MerkleFrontier {
    /// An empty log.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends a leaf hash (see [`leaf_hash`]).
    pub fn push(&mut self, leaf_hash: Hash) {
        let mut carry = leaf_hash;
        let mut level = 0;
        loop {
            if self.peaks.len() == level {
                self.peaks.push(None);
            }
            match self.peaks.get_mut(level) {
                Some(slot @ None) => {
                    *slot = Some(carry);
                    break;
                }
                Some(slot) => {
                    if let Some(left) = slot.take() {
                        carry = node_hash(&left, &carry);
                    }
                }
                None => break,
            }
            level += 1;
        }
        self.len += 1;
    }

    /// The number of leaves.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether no leaf was appended.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The root of the log so far ([`EMPTY_ROOT`] when empty): the peaks folded from the smallest,
    /// rightmost one leftwards.
    pub fn root(&self) -> Hash {
        let mut root: Option<Hash> = None;
        for peak in self.peaks.iter().flatten() {
            root = Some(match root {
                None => *peak,
                Some(right) => node_hash(peak, &right),
            });
        }
        root.unwrap_or(EMPTY_ROOT)
    }
}

/// Checks that `leaf_hash` is leaf `index` of the tree of `tree_size` leaves whose root is
/// `root`, by RFC 9162 §2.1.3.2 (spec `MERKLE-INCL-3`).
///
/// `index` and `tree_size` are what the caller checks (the ballot's position and the size of the
/// signed tree head whose `root` it trusts); the proof must state the same ones.
///
/// # Errors
/// [`MerkleError::ProofIndexMismatch`] or [`MerkleError::ProofTreeSizeMismatch`] if the proof
/// is for another position; [`MerkleError::IndexOutOfRange`] if `index >= tree_size`;
/// [`MerkleError::WrongProofLength`] if the path does not have the length the index and size
/// determine; [`MerkleError::RootMismatch`] if the path leads to another root.
pub fn verify_inclusion(
    leaf_hash: &Hash,
    index: u64,
    tree_size: u64,
    proof: &InclusionProof,
    root: &Hash,
) -> Result<(), MerkleError> {
    if proof.index != index {
        return Err(MerkleError::ProofIndexMismatch {
            expected: index,
            found: proof.index,
        });
    }
    if proof.tree_size != tree_size {
        return Err(MerkleError::ProofTreeSizeMismatch {
            expected: tree_size,
            found: proof.tree_size,
        });
    }
    proof.check_shape()?;
    let wrong_length = || MerkleError::WrongProofLength {
        expected: inclusion_path_len(index, tree_size),
        found: proof.path.len(),
    };
    // RFC 9162 §2.1.3.2, step by step; `check_shape` made the sn checks unreachable.
    let (mut fnode, mut snode) = (index, tree_size - 1);
    let mut r = *leaf_hash;
    for p in &proof.path {
        if snode == 0 {
            return Err(wrong_length());
        }
        if fnode & 1 == 1 || fnode == snode {
            r = node_hash(p, &r);
            if fnode & 1 == 0 {
                shift_to_set_bit(&mut fnode, &mut snode);
            }
        } else {
            r = node_hash(&r, p);
        }
        fnode >>= 1;
        snode >>= 1;
    }
    if snode != 0 {
        return Err(wrong_length());
    }
    if r != *root {
        return Err(MerkleError::RootMismatch);
    }
    Ok(())
}

/// Checks that the tree of `new_size` leaves with root `new_root` extends the tree of
/// `old_size` leaves with root `old_root`, by RFC 9162 §2.1.4.2 (spec `MERKLE-CONS-3`).
///
/// The sizes RFC 9162 leaves undefined are decided as follows: for `old_size == 0` the path must
/// be empty and `old_root` must be [`EMPTY_ROOT`]; for `old_size == new_size` the path must be
/// empty and the two roots equal.
///
/// # Errors
/// [`MerkleError::ProofSizesMismatch`] if the proof is between other sizes;
/// [`MerkleError::SizesOutOfOrder`] if `old_size > new_size`; [`MerkleError::WrongProofLength`]
/// if the path does not have the length the sizes determine; [`MerkleError::OldRootMismatch`]
/// or [`MerkleError::NewRootMismatch`] if the path leads to other roots.
pub fn verify_consistency(
    old_size: u64,
    new_size: u64,
    old_root: &Hash,
    new_root: &Hash,
    proof: &ConsistencyProof,
) -> Result<(), MerkleError> {
    if proof.old_size != old_size || proof.new_size != new_size {
        return Err(MerkleError::ProofSizesMismatch {
            expected_old: old_size,
            expected_new: new_size,
            found_old: proof.old_size,
            found_new: proof.new_size,
        });
    }
    proof.check_shape()?;
    if old_size == 0 {
        return if *old_root == EMPTY_ROOT {
            Ok(())
        } else {
            Err(MerkleError::OldRootMismatch)
        };
    }
    if old_size == new_size {
        return if old_root == new_root {
            Ok(())
        } else {
            Err(MerkleError::NewRootMismatch)
        };
    }
    let wrong_length = || MerkleError::WrongProofLength {
        expected: consistency_path_len(old_size, new_size),
        found: proof.path.len(),
    };
    // RFC 9162 §2.1.4.2, step by step; `check_shape` made the length checks unreachable.
    let mut path = proof.path.iter();
    // Step 2: a power-of-two old tree is itself the seed subtree, so its root is prepended.
    let seed = if old_size.is_power_of_two() {
        *old_root
    } else {
        *path.next().ok_or_else(wrong_length)?
    };
    let (mut fnode, mut snode) = (old_size - 1, new_size - 1);
    while fnode & 1 == 1 {
        fnode >>= 1;
        snode >>= 1;
    }
    let (mut fr, mut sr) = (seed, seed);
    for c in path {
        if snode == 0 {
            return Err(wrong_length());
        }
        if fnode & 1 == 1 || fnode == snode {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            if fnode & 1 == 0 {
                shift_to_set_bit(&mut fnode, &mut snode);
            }
        } else {
            sr = node_hash(&sr, c);
        }
        fnode >>= 1;
        snode >>= 1;
    }
    if snode != 0 {
        return Err(wrong_length());
    }
    if fr != *old_root {
        return Err(MerkleError::OldRootMismatch);
    }
    if sr != *new_root {
        return Err(MerkleError::NewRootMismatch);
    }
    Ok(())
}

/// A proof that a leaf is in a tree (RFC 9162 §2.1.3, spec/merkle.md §4).
///
/// Its JSON form is `{"index": u64, "tree_size": u64, "path": ["<64 lowercase hex>", ...]}`;
/// decoding (JSON or [`from_bytes`](Self::from_bytes)) refuses unknown fields, other hash text,
/// `index >= tree_size` and a path of the wrong length.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "InclusionProofText")]
pub struct InclusionProof {
    /// The leaf's index, from 0.
    pub index: u64,
    /// The size of the tree the proof is for.
    pub tree_size: u64,
    /// The sibling hashes from the leaf up to the root (RFC 9162 `inclusion_path`).
    #[serde(serialize_with = "hex_hashes::serialize")]
    pub path: Vec<Hash>,
}

impl InclusionProof {
    /// The canonical binary encoding.
    ///
    /// # Layout
    /// | bytes            | field                                             |
    /// |------------------|---------------------------------------------------|
    /// | `0..8`           | `index`, unsigned, big-endian                     |
    /// | `8..16`          | `tree_size`, unsigned, big-endian                 |
    /// | `16`             | `n`, the number of path hashes (at most 64)       |
    /// | `17..17 + 32·n`  | the `n` path hashes, leaf end first               |
    pub fn to_bytes(&self) -> Vec<u8> {
        encode(self.index, self.tree_size, &self.path)
    }

    /// Decodes the [`to_bytes`](Self::to_bytes) layout strictly: the length must be exactly
    /// `17 + 32·n`, `index` below `tree_size`, and `n` the path length they determine.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, MerkleError> {
        let (index, tree_size, path) = decode(bytes)?;
        let proof = Self {
            index,
            tree_size,
            path,
        };
        proof.check_shape()?;
        Ok(proof)
    }

    /// Checks what can be checked without hashing: `index < tree_size` and the path length.
    fn check_shape(&self) -> Result<(), MerkleError> {
        if self.index >= self.tree_size {
            return Err(MerkleError::IndexOutOfRange {
                index: self.index,
                tree_size: self.tree_size,
            });
        }
        let expected = inclusion_path_len(self.index, self.tree_size);
        if self.path.len() != expected {
            return Err(MerkleError::WrongProofLength {
                expected,
                found: self.path.len(),
            });
        }
        Ok(())
    }
}

/// A proof that a tree extends an older one by appending only (RFC 9162 §2.1.4,
/// spec/merkle.md §5).
///
/// Its JSON form is `{"old_size": u64, "new_size": u64, "path": ["<64 lowercase hex>", ...]}`;
/// decoding (JSON or [`from_bytes`](Self::from_bytes)) refuses unknown fields, other hash text,
/// `old_size > new_size` and a path of the wrong length.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "ConsistencyProofText")]
pub struct ConsistencyProof {
    /// The size of the older tree.
    pub old_size: u64,
    /// The size of the newer tree.
    pub new_size: u64,
    /// The RFC 9162 `consistency_path`.
    #[serde(serialize_with = "hex_hashes::serialize")]
    pub path: Vec<Hash>,
}

impl ConsistencyProof {
    /// The canonical binary encoding.
    ///
    /// # Layout
    /// | bytes            | field                                             |
    /// |------------------|---------------------------------------------------|
    /// | `0..8`           | `old_size`, unsigned, big-endian                  |
    /// | `8..16`          | `new_size`, unsigned, big-endian                  |
    /// | `16`             | `n`, the number of path hashes (at most 64)       |
    /// | `17..17 + 32·n`  | the `n` path hashes, in RFC 9162 order            |
    pub fn to_bytes(&self) -> Vec<u8> {
        encode(self.old_size, self.new_size, &self.path)
    }

    /// Decodes the [`to_bytes`](Self::to_bytes) layout strictly: the length must be exactly
    /// `17 + 32·n`, `old_size` at most `new_size`, and `n` the path length they determine.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, MerkleError> {
        let (old_size, new_size, path) = decode(bytes)?;
        let proof = Self {
            old_size,
            new_size,
            path,
        };
        proof.check_shape()?;
        Ok(proof)
    }

    /// Checks what can be checked without hashing: the size order and the path length.
    fn check_shape(&self) -> Result<(), MerkleError> {
        if self.old_size > self.new_size {
            return Err(MerkleError::SizesOutOfOrder {
                old_size: self.old_size,
                new_size: self.new_size,
            });
        }
        let expected = consistency_path_len(self.old_size, self.new_size);
        if self.path.len() != expected {
            return Err(MerkleError::WrongProofLength {
                expected,
                found: self.path.len(),
            });
        }
        Ok(())
    }
}

/// Writes the shared layout: two big-endian `u64`, a one-byte count, the hashes. Well-formed
/// paths have at most 64 hashes; a longer one (only constructible by hand) is written with its
/// count saturated at 255 and fails to decode.
fn encode(first: u64, second: u64, path: &[Hash]) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER_LEN + HASH_LEN * path.len());
    out.extend_from_slice(&first.to_be_bytes());
    out.extend_from_slice(&second.to_be_bytes());
    out.push(u8::try_from(path.len()).unwrap_or(u8::MAX));
    for hash in path {
        out.extend_from_slice(hash);
    }
    out
}

/// Reads the shared layout, refusing a short header and any length but `17 + 32·n`.
fn decode(bytes: &[u8]) -> Result<(u64, u64, Vec<Hash>), MerkleError> {
    let short_header = || MerkleError::WrongEncodingLength {
        expected: HEADER_LEN,
        found: bytes.len(),
    };
    let (first, rest) = bytes.split_first_chunk::<8>().ok_or_else(short_header)?;
    let (second, rest) = rest.split_first_chunk::<8>().ok_or_else(short_header)?;
    let (&count, rest) = rest.split_first().ok_or_else(short_header)?;
    let expected = HEADER_LEN + HASH_LEN * usize::from(count);
    if bytes.len() != expected {
        return Err(MerkleError::WrongEncodingLength {
            expected,
            found: bytes.len(),
        });
    }
    let mut path = Vec::with_capacity(usize::from(count));
    for chunk in rest.chunks_exact(HASH_LEN) {
        let hash = Hash::try_from(chunk).map_err(|_| MerkleError::WrongEncodingLength {
            expected,
            found: bytes.len(),
        })?;
        path.push(hash);
    }
    Ok((
        u64::from_be_bytes(*first),
        u64::from_be_bytes(*second),
        path,
    ))
}

/// Decodes exactly 64 lowercase hexadecimal digits (the only text form of a hash).
fn hash_from_hex(text: &str) -> Result<Hash, MerkleError> {
    crate::group::text::from_hex::<HASH_LEN>("hash", text).map_err(|_| MerkleError::InvalidHashText)
}

/// Serialises a path as a sequence of lowercase hex strings.
mod hex_hashes {
    use super::Hash;

    pub(super) fn serialize<S: serde::Serializer>(
        path: &[Hash],
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(path.iter().map(hex::encode))
    }
}

/// A hash read from its text form.
struct HexHash(Hash);

impl<'de> Deserialize<'de> for HexHash {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        hash_from_hex(&text)
            .map(HexHash)
            .map_err(serde::de::Error::custom)
    }
}

/// The JSON form of an [`InclusionProof`], before its shape is checked.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct InclusionProofText {
    index: u64,
    tree_size: u64,
    path: Vec<HexHash>,
}

impl TryFrom<InclusionProofText> for InclusionProof {
    type Error = MerkleError;

    fn try_from(text: InclusionProofText) -> Result<Self, MerkleError> {
        let proof = Self {
            index: text.index,
            tree_size: text.tree_size,
            path: text.path.into_iter().map(|HexHash(hash)| hash).collect(),
        };
        proof.check_shape()?;
        Ok(proof)
    }
}

/// The JSON form of a [`ConsistencyProof`], before its shape is checked.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ConsistencyProofText {
    old_size: u64,
    new_size: u64,
    path: Vec<HexHash>,
}

impl TryFrom<ConsistencyProofText> for ConsistencyProof {
    type Error = MerkleError;

    fn try_from(text: ConsistencyProofText) -> Result<Self, MerkleError> {
        let proof = Self {
            old_size: text.old_size,
            new_size: text.new_size,
            path: text.path.into_iter().map(|HexHash(hash)| hash).collect(),
        };
        proof.check_shape()?;
        Ok(proof)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(all(target_arch = "wasm32", target_os = "unknown"))]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    /// RFC 9162 §2.1.1's `MTH`, straight from the definition, as the reference.
    fn reference_root(leaves: &[Hash]) -> Hash {
        match leaves {
            [] => EMPTY_ROOT,
            [leaf] => *leaf,
            _ => {
                let k = split_point(leaves.len() as u64) as usize;
                node_hash(&reference_root(&leaves[..k]), &reference_root(&leaves[k..]))
            }
        }
    }

    fn leaves(n: u64) -> Vec<Hash> {
        (0..n).map(|i| leaf_hash(&i.to_be_bytes())).collect()
    }

    #[test]
    fn empty_root_constant_is_sha256_of_nothing() {
        let digest: Hash = Sha256::digest(b"").into();
        assert_eq!(EMPTY_ROOT, digest);
    }

    #[test]
    fn split_point_is_largest_power_of_two_strictly_below() {
        for (n, k) in [
            (2u64, 1u64),
            (3, 2),
            (4, 2),
            (5, 4),
            (7, 4),
            (8, 4),
            (9, 8),
            (1000, 512),
            (1 << 40, 1 << 39),
            ((1 << 63) + 1, 1 << 63),
            (u64::MAX, 1 << 63),
        ] {
            assert_eq!(split_point(n), k, "n = {n}");
        }
    }

    #[test]
    fn path_length_formulas_agree_with_built_proofs() {
        let tree: MerkleTree = leaves(70).into_iter().collect();
        for size in 1..=70 {
            for index in 0..size {
                let proof = tree.inclusion_proof(index, size).unwrap();
                assert_eq!(proof.path.len(), inclusion_path_len(index, size));
            }
            for old in 0..=size {
                let proof = tree.consistency_proof(old, size).unwrap();
                assert_eq!(proof.path.len(), consistency_path_len(old, size));
            }
        }
    }

    #[test]
    fn path_lengths_stay_within_64_for_extreme_sizes() {
        for (index, size) in [(0, u64::MAX), (u64::MAX - 1, u64::MAX), (1 << 62, u64::MAX)] {
            assert!(inclusion_path_len(index, size) <= 64);
        }
        for (old, new) in [(1, u64::MAX), (u64::MAX - 1, u64::MAX), (3, 1 << 63)] {
            assert!(consistency_path_len(old, new) <= 64);
        }
    }

    #[test]
    fn stored_levels_hold_every_complete_perfect_subtree() {
        let hashes = leaves(13);
        let tree: MerkleTree = hashes.iter().copied().collect();
        let expected_counts = [13usize, 6, 3, 1];
        assert_eq!(tree.levels.len(), expected_counts.len());
        for (level, nodes) in tree.levels.iter().enumerate() {
            assert_eq!(nodes.len(), expected_counts[level]);
            for (i, node) in nodes.iter().enumerate() {
                let width = 1 << level;
                assert_eq!(*node, reference_root(&hashes[i * width..(i + 1) * width]));
            }
        }
    }

    #[test]
    fn subtree_and_root_agree_with_reference_definition() {
        let hashes = leaves(33);
        let mut tree = MerkleTree::new();
        for (n, leaf) in hashes.iter().enumerate() {
            assert_eq!(tree.push(*leaf), n as u64);
            let size = n + 1;
            assert_eq!(tree.root(), reference_root(&hashes[..size]));
            assert_eq!(tree.subtree(0, size as u64).unwrap(), tree.root());
        }
    }

    #[test]
    fn missing_node_is_reported_as_size_beyond_log() {
        let tree: MerkleTree = leaves(3).into_iter().collect();
        assert!(tree.node(0, 2).is_ok());
        assert_eq!(
            tree.node(1, 2),
            Err(MerkleError::TreeSizeBeyondLog {
                requested: 4,
                log_size: 3
            })
        );
        assert!(tree.node(63, 0).is_err());
    }

    #[test]
    fn hash_text_must_be_64_lowercase_hex_digits() {
        let hex = "00ff".repeat(16);
        assert_eq!(hash_from_hex(&hex).unwrap()[1], 0xff);
        for bad in [
            "00FF".repeat(16),
            "00ff".repeat(15),
            format!("{hex}00"),
            format!(" {}", &hex[1..]),
            "zz".repeat(32),
        ] {
            assert_eq!(hash_from_hex(&bad), Err(MerkleError::InvalidHashText));
        }
    }

    #[test]
    fn oversized_path_is_encoded_with_saturated_count_and_refused() {
        let proof = InclusionProof {
            index: 0,
            tree_size: 1,
            path: vec![[0u8; 32]; 300],
        };
        let bytes = proof.to_bytes();
        assert_eq!(bytes[16], 255);
        assert!(matches!(
            InclusionProof::from_bytes(&bytes),
            Err(MerkleError::WrongEncodingLength { .. })
        ));
    }
}
