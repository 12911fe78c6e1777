//! The bulletin board layer: the append-only Merkle log of cast ballots (spec/merkle.md).
//!
//! Every cast ballot's hash (its tracking code) is a leaf of an RFC 6962 / RFC 9162 Merkle tree
//! over SHA-256. The board publishes signed tree heads; a voter checks an [`InclusionProof`] that
//! their ballot is in the tree, and an observer checks a [`ConsistencyProof`] that a later tree
//! only appends to an earlier one. The hashing and proof shapes are the standard ones, so any
//! Certificate Transparency verifier can check Tabella's log and the anchoring contract can check
//! inclusion with the `sha256` precompile.
//!
//! The board signs tree heads and gives each voter a [`Receipt`] (the [`receipt`] module): a
//! signed statement that their ballot is entry `index` of the log, under a [`SignedTreeHead`]
//! that includes it.
//!
//! This module is pure: it holds the tree in memory and leaves storage and the clock to the
//! service.

pub mod merkle;
pub mod receipt;

pub use merkle::{
    leaf_hash, node_hash, verify_consistency, verify_inclusion, ConsistencyProof, Hash,
    InclusionProof, MerkleError, MerkleFrontier, MerkleTree, EMPTY_ROOT,
};
pub use receipt::{
    BoardError, BoardKey, BoardSignature, BoardSigningKey, EntryKind, Receipt, SignedTreeHead,
    TreeHead, RECEIPT_DOMAIN, TREE_HEAD_DOMAIN,
};
