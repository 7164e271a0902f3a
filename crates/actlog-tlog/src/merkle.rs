//! RFC 6962 / RFC 9162 Merkle trees: hashing, the frontier a store keeps, proofs.
//!
//! The hashing is the RFC's, with its domain separation (a `0x00` prefix for leaves, `0x01`
//! for interior nodes) so that no leaf can pass for a node. A tree's nodes are named by
//! `(level, index)`: level 0 holds the leaf hashes, and node `(l, i)` is the root of the
//! *perfect* subtree over leaves `i·2^l .. (i+1)·2^l`. Such a node never changes once its
//! last leaf is in, which is what lets a store write each one once ([`Frontier::push`]) and
//! answer every later proof from them ([`NodeSource`]) without rereading the log.
//!
//! - [`Frontier`]: appends leaves, reports the nodes each append completes, gives the root.
//! - [`inclusion_proof`], [`consistency_proof`]: proofs built from a [`NodeSource`].
//! - [`verify_inclusion`], [`verify_consistency`]: the RFC 9162 verification algorithms.

use sha2::{Digest, Sha256};

mod frontier;
mod proof;
mod verify;

pub use frontier::{Frontier, FrontierError, Node};
pub use proof::{
    MissingNode, NodeId, NodeSource, ProofError, RangeError, consistency_nodes, consistency_proof,
    inclusion_nodes, inclusion_proof,
};
pub use verify::{VerifyError, verify_consistency, verify_inclusion};

/// A SHA-256 hash: a leaf hash, a node hash or a tree's root.
pub type Hash = [u8; 32];

/// The hash of a leaf: `SHA-256(0x00 || data)`.
pub fn leaf_hash(data: &[u8]) -> Hash {
    Sha256::new()
        .chain_update([0x00])
        .chain_update(data)
        .finalize()
        .into()
}

/// The hash of an interior node: `SHA-256(0x01 || left || right)`.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    Sha256::new()
        .chain_update([0x01])
        .chain_update(left)
        .chain_update(right)
        .finalize()
        .into()
}

/// The root of the empty tree: `SHA-256()` of nothing, as RFC 6962 defines it.
pub fn empty_root() -> Hash {
    Sha256::digest([]).into()
}

/// The root of the tree over `leaves` (leaf hashes, in log order).
pub fn root(leaves: &[Hash]) -> Hash {
    let mut frontier = Frontier::new();
    for leaf in leaves {
        frontier.push(*leaf);
    }
    frontier.root()
}

/// The hash of the subtree over leaves `start..end`, folded from the perfect subtrees that
/// cover it, largest first: exactly RFC 6962's MTH when `start` is a multiple of a power of
/// two at least `end - start`, as every subtree of a tree is.
fn fold_perfect(mut start: u64, end: u64, mut node: impl FnMut(u8, u64) -> Hash) -> Hash {
    let mut parts = Vec::new();
    while start < end {
        let level = (end - start).ilog2().min(start.trailing_zeros()) as u8;
        parts.push(node(level, start >> level));
        start += 1 << level;
    }
    let mut parts = parts.into_iter().rev();
    let last = parts.next().unwrap_or_else(empty_root);
    parts.fold(last, |right, left| node_hash(&left, &right))
}

/// The largest power of two strictly below `n` (`n` ≥ 2): where RFC 6962 splits a tree.
fn split_point(n: u64) -> u64 {
    debug_assert!(n >= 2);
    1 << (n - 1).ilog2()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(hash: &Hash) -> String {
        hash.iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn hashes_are_domain_separated_as_rfc_6962_says() {
        // SHA-256 of the single byte 0x00, and of nothing: well-known values.
        assert_eq!(
            hex(&leaf_hash(b"")),
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"
        );
        assert_eq!(
            hex(&empty_root()),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        let (a, b) = (leaf_hash(b"a"), leaf_hash(b"b"));
        assert_ne!(node_hash(&a, &b), node_hash(&b, &a));
        let mut joined = a.to_vec();
        joined.extend_from_slice(&b);
        assert_ne!(node_hash(&a, &b), leaf_hash(&joined));
    }

    #[test]
    fn roots_of_small_trees_split_at_the_largest_power_of_two() {
        let l: Vec<Hash> = (0u8..3).map(|i| leaf_hash(&[i])).collect();
        assert_eq!(root(&[]), empty_root());
        assert_eq!(root(&l[..1]), l[0]);
        assert_eq!(root(&l[..2]), node_hash(&l[0], &l[1]));
        assert_eq!(root(&l), node_hash(&node_hash(&l[0], &l[1]), &l[2]));
    }

    #[test]
    fn split_points() {
        assert_eq!(
            [2, 3, 4, 5, 8, 9].map(split_point),
            [1, 2, 2, 4, 4, 8],
            "largest power of two strictly below n"
        );
    }
}
