//! Inclusion and consistency proofs (RFC 9162 §2.1.3.1 and §2.1.4.1), from stored nodes.
//!
//! Every hash in a proof is the root of a subtree whose first leaf is a multiple of a power of
//! two at least its width, so it folds from at most `log2(n)` perfect subtrees: a proof costs
//! O(log² n) look-ups of nodes a store wrote once ([`super::Frontier::push`]), never a read of
//! the leaves. A store whose driver is asynchronous can ask which nodes a proof needs
//! ([`inclusion_nodes`], [`consistency_nodes`]), fetch them in one query, and build the proof
//! from the map it fetched (a `HashMap<NodeId, Hash>` is a [`NodeSource`]).

use std::collections::HashMap;
use std::hash::BuildHasher;

use super::{Hash, fold_perfect, split_point};

/// A node's name: its level (0 for leaves) and its index within that level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId {
    pub level: u8,
    pub index: u64,
}

impl NodeId {
    pub fn new(level: u8, index: u64) -> NodeId {
        NodeId { level, index }
    }
}

/// Where proofs read the hashes of complete subtrees: a store's persisted [`super::Node`]s.
pub trait NodeSource {
    /// The store's own error (or a missing node), passed back in [`ProofError::Source`].
    type Error;

    /// The hash of the complete (perfect) subtree `(level, index)`. Proofs only ask for
    /// nodes within the tree size they were given, so a node asked for but not stored means
    /// the store is behind or damaged.
    fn node(&self, level: u8, index: u64) -> Result<Hash, Self::Error>;
}

/// A node a [`NodeSource`] was asked for and does not hold.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("no stored hash for tree node (level {}, index {})", .0.level, .0.index)]
pub struct MissingNode(pub NodeId);

impl<S: BuildHasher> NodeSource for HashMap<NodeId, Hash, S> {
    type Error = MissingNode;

    fn node(&self, level: u8, index: u64) -> Result<Hash, MissingNode> {
        let id = NodeId::new(level, index);
        self.get(&id).copied().ok_or(MissingNode(id))
    }
}

/// Proof arguments that describe no proof.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RangeError {
    #[error("leaf {index} is not in a tree of {size} leaves")]
    IndexOutOfRange { index: u64, size: u64 },
    #[error("a tree of {from} leaves cannot grow into a smaller one of {to}")]
    SizesOutOfOrder { from: u64, to: u64 },
}

/// Why a proof could not be built.
#[derive(Debug, thiserror::Error)]
pub enum ProofError<E> {
    #[error(transparent)]
    Range(#[from] RangeError),
    #[error("reading a tree node for a proof")]
    Source(#[source] E),
}

/// The inclusion proof of leaf `index` in the tree of `size` leaves: the audit path, sibling
/// hashes from the leaf's level up, as RFC 9162's `PATH(m, D[n])`.
pub fn inclusion_proof<S: NodeSource + ?Sized>(
    source: &S,
    index: u64,
    size: u64,
) -> Result<Vec<Hash>, ProofError<S::Error>> {
    inclusion_path(index, size, |level, i| source.node(level, i)).map_err(into_proof_error)
}

/// The consistency proof between the trees of `from` and `to` leaves, as RFC 9162's
/// `PROOF(m, D[n])`; empty when `from` is 0 or equal to `to` (nothing to prove).
pub fn consistency_proof<S: NodeSource + ?Sized>(
    source: &S,
    from: u64,
    to: u64,
) -> Result<Vec<Hash>, ProofError<S::Error>> {
    consistency_path(from, to, |level, i| source.node(level, i)).map_err(into_proof_error)
}

/// The nodes [`inclusion_proof`] will ask for, each once, for a store to fetch in one go.
pub fn inclusion_nodes(index: u64, size: u64) -> Result<Vec<NodeId>, RangeError> {
    needed(|record| inclusion_path(index, size, record))
}

/// The nodes [`consistency_proof`] will ask for, each once.
pub fn consistency_nodes(from: u64, to: u64) -> Result<Vec<NodeId>, RangeError> {
    needed(|record| consistency_path(from, to, record))
}

/// Either a bad argument or the node source's error, before they are told apart.
enum Failure<E> {
    Range(RangeError),
    Source(E),
}

fn into_proof_error<E>(failure: Failure<E>) -> ProofError<E> {
    match failure {
        Failure::Range(e) => ProofError::Range(e),
        Failure::Source(e) => ProofError::Source(e),
    }
}

type Lookup<'a, E> = &'a mut dyn FnMut(u8, u64) -> Result<Hash, E>;

/// Runs a proof with a source that records what is asked for and answers zeros.
fn needed(
    run: impl FnOnce(Lookup<'_, ()>) -> Result<Vec<Hash>, Failure<()>>,
) -> Result<Vec<NodeId>, RangeError> {
    let mut asked = Vec::new();
    let mut record = |level: u8, index: u64| {
        asked.push(NodeId::new(level, index));
        Ok([0; 32])
    };
    match run(&mut record) {
        Ok(_) => {}
        Err(Failure::Range(e)) => return Err(e),
        Err(Failure::Source(())) => unreachable!("the recorder never fails"),
    }
    asked.sort_unstable();
    asked.dedup();
    Ok(asked)
}

/// `PATH(index, D[0:size])`, walking down from the root: the sibling of each subtree on the
/// way to the leaf, then reversed into the RFC's leaf-first order.
fn inclusion_path<E>(
    index: u64,
    size: u64,
    mut node: impl FnMut(u8, u64) -> Result<Hash, E>,
) -> Result<Vec<Hash>, Failure<E>> {
    if index >= size {
        return Err(Failure::Range(RangeError::IndexOutOfRange { index, size }));
    }
    let (mut lo, mut hi) = (0, size);
    let mut path = Vec::new();
    while hi - lo > 1 {
        let mid = lo + split_point(hi - lo);
        if index < mid {
            path.push(subtree(mid, hi, &mut node)?);
            hi = mid;
        } else {
            path.push(subtree(lo, mid, &mut node)?);
            lo = mid;
        }
    }
    path.reverse();
    Ok(path)
}

/// `SUBPROOF(from, D[0:to], true)`, walking down from the root as [`inclusion_path`] does:
/// `from` stays an absolute leaf count, the old tree's right edge.
fn consistency_path<E>(
    from: u64,
    to: u64,
    mut node: impl FnMut(u8, u64) -> Result<Hash, E>,
) -> Result<Vec<Hash>, Failure<E>> {
    if from > to {
        return Err(Failure::Range(RangeError::SizesOutOfOrder { from, to }));
    }
    if from == 0 || from == to {
        return Ok(Vec::new());
    }
    let (mut lo, mut hi) = (0, to);
    // Whether the current subtree is on the old tree's left edge, so the verifier already
    // holds its hash (the old root) and the proof leaves it out.
    let mut on_left_edge = true;
    let mut path = Vec::new();
    while from != hi {
        let mid = lo + split_point(hi - lo);
        if from <= mid {
            path.push(subtree(mid, hi, &mut node)?);
            hi = mid;
        } else {
            path.push(subtree(lo, mid, &mut node)?);
            lo = mid;
            on_left_edge = false;
        }
    }
    if !on_left_edge {
        path.push(subtree(lo, hi, &mut node)?);
    }
    path.reverse();
    Ok(path)
}

/// `MTH(D[lo:hi])` from stored perfect subtrees.
fn subtree<E>(
    lo: u64,
    hi: u64,
    node: &mut impl FnMut(u8, u64) -> Result<Hash, E>,
) -> Result<Hash, Failure<E>> {
    let mut failure = None;
    let hash = fold_perfect(lo, hi, |level, index| match node(level, index) {
        Ok(hash) => hash,
        Err(e) => {
            failure.get_or_insert(e);
            [0; 32]
        }
    });
    match failure {
        None => Ok(hash),
        Some(e) => Err(Failure::Source(e)),
    }
}

#[cfg(test)]
mod tests;
