//! Merkle log (in progress).
