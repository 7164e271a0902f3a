//! The right edge of a growing tree: all a store needs to append leaves and compute roots.

use super::{Hash, empty_root, node_hash};

/// A complete (perfect) subtree's root, named by its level and index (see [`super`]): what a
/// store persists so that it can later answer [`super::NodeSource`] look-ups.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Node {
    /// 0 for a leaf; a node at level `l` covers `2^l` leaves.
    pub level: u8,
    /// The node's position among the nodes of its level, from 0.
    pub index: u64,
    pub hash: Hash,
}

/// The hashes of the perfect subtrees along a tree's right edge, largest first: one per bit
/// set in the tree size, so at most 64 and usually `log2(size) + 1` or fewer.
///
/// It is enough to append leaves and compute the root without reading anything else, so a
/// store keeps it beside each partner's log (see [`Frontier::to_bytes`]) and updates it in the
/// same transaction that assigns the leaves their indexes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Frontier {
    size: u64,
    edge: Vec<Hash>,
}

/// Why bytes could not be read back as a [`Frontier`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "a stored frontier must be 8 bytes of tree size and one 32-byte hash per bit set in it: \
     {len} bytes do not fit"
)]
pub struct FrontierError {
    len: usize,
}

impl Frontier {
    /// The frontier of the empty tree.
    pub fn new() -> Frontier {
        Frontier::default()
    }

    /// The number of leaves appended.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Appends a leaf hash as leaf number [`Self::size`], and returns every node it completes,
    /// from the leaf itself (level 0) up: all of them are final, so a store can write them
    /// once and never update them.
    pub fn push(&mut self, leaf: Hash) -> Vec<Node> {
        let mut index = self.size;
        let mut level = 0;
        let mut hash = leaf;
        let mut completed = vec![Node { level, index, hash }];
        // Each trailing 1 bit of the old size is a perfect subtree of the same height waiting
        // on the left: merge with it.
        while index & 1 == 1 {
            let left = self
                .edge
                .pop()
                .expect("one edge hash per set bit of the size");
            hash = node_hash(&left, &hash);
            level += 1;
            index >>= 1;
            completed.push(Node { level, index, hash });
        }
        self.edge.push(hash);
        self.size += 1;
        completed
    }

    /// The root of the tree of [`Self::size`] leaves (RFC 6962's MTH).
    pub fn root(&self) -> Hash {
        let mut edge = self.edge.iter().rev();
        match edge.next() {
            None => empty_root(),
            Some(last) => edge.fold(*last, |right, left| node_hash(left, &right)),
        }
    }

    /// The frontier of the tree of `size` leaves, from a store's complete nodes: what a store
    /// that lost its frontier (or checks it) reads, `popcount(size)` nodes.
    pub fn from_nodes<S: super::NodeSource + ?Sized>(
        size: u64,
        source: &S,
    ) -> Result<Frontier, S::Error> {
        let mut edge = Vec::with_capacity(size.count_ones() as usize);
        let mut start = 0u64;
        for level in (0..64u8).rev() {
            if size & (1 << level) != 0 {
                edge.push(source.node(level, start >> level)?);
                start += 1 << level;
            }
        }
        Ok(Frontier { size, edge })
    }

    /// The stored form: the size as 8 bytes big-endian, then the edge hashes, largest subtree
    /// first.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(8 + 32 * self.edge.len());
        out.extend_from_slice(&self.size.to_be_bytes());
        for hash in &self.edge {
            out.extend_from_slice(hash);
        }
        out
    }

    /// Reads the stored form back, refusing any length that does not match its size.
    pub fn from_bytes(bytes: &[u8]) -> Result<Frontier, FrontierError> {
        let malformed = FrontierError { len: bytes.len() };
        let (size, hashes) = bytes.split_first_chunk::<8>().ok_or(malformed.clone())?;
        let size = u64::from_be_bytes(*size);
        if hashes.len() != 32 * size.count_ones() as usize {
            return Err(malformed);
        }
        let edge = hashes
            .chunks_exact(32)
            .map(|chunk| chunk.try_into().expect("chunks of 32"))
            .collect();
        Ok(Frontier { size, edge })
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::super::{NodeId, leaf_hash, root};
    use super::*;

    fn leaves(n: u8) -> Vec<Hash> {
        (0..n).map(|i| leaf_hash(&[i])).collect()
    }

    #[test]
    fn every_push_reports_the_nodes_it_completes() {
        let mut frontier = Frontier::new();
        let l = leaves(4);
        let levels = |nodes: Vec<Node>| -> Vec<(u8, u64)> {
            nodes.iter().map(|n| (n.level, n.index)).collect()
        };
        assert_eq!(levels(frontier.push(l[0])), [(0, 0)]);
        assert_eq!(levels(frontier.push(l[1])), [(0, 1), (1, 0)]);
        assert_eq!(levels(frontier.push(l[2])), [(0, 2)]);
        let last = frontier.push(l[3]);
        assert_eq!(levels(last.clone()), [(0, 3), (1, 1), (2, 0)]);
        assert_eq!(last[2].hash, root(&l));
        assert_eq!(last[1].hash, node_hash(&l[2], &l[3]));
    }

    #[test]
    fn the_frontier_stays_small_and_gives_every_root() {
        let l = leaves(70);
        let mut frontier = Frontier::new();
        for (n, leaf) in l.iter().enumerate() {
            frontier.push(*leaf);
            assert_eq!(frontier.size(), n as u64 + 1);
            assert_eq!(frontier.edge.len(), (n + 1).count_ones() as usize);
            assert_eq!(frontier.root(), root(&l[..=n]), "size {}", n + 1);
        }
    }

    #[test]
    fn the_stored_form_reads_back_and_refuses_wrong_lengths() {
        let mut frontier = Frontier::new();
        assert_eq!(
            Frontier::from_bytes(&frontier.to_bytes()),
            Ok(Frontier::new())
        );
        for leaf in leaves(11) {
            frontier.push(leaf);
        }
        let bytes = frontier.to_bytes();
        assert_eq!(bytes.len(), 8 + 3 * 32);
        assert_eq!(Frontier::from_bytes(&bytes).as_ref(), Ok(&frontier));
        assert!(Frontier::from_bytes(&bytes[..bytes.len() - 1]).is_err());
        assert!(Frontier::from_bytes(&bytes[..7]).is_err());
        let mut longer = bytes.clone();
        longer.extend_from_slice(&[0; 32]);
        assert!(Frontier::from_bytes(&longer).is_err());
    }

    #[test]
    fn a_frontier_rebuilt_from_stored_nodes_continues_the_same_tree() {
        let l = leaves(23);
        let mut frontier = Frontier::new();
        let mut store: HashMap<NodeId, Hash> = HashMap::new();
        for leaf in &l[..13] {
            for node in frontier.push(*leaf) {
                store.insert(NodeId::new(node.level, node.index), node.hash);
            }
        }
        let mut rebuilt = Frontier::from_nodes(13, &store).unwrap();
        assert_eq!(rebuilt, frontier);
        for leaf in &l[13..] {
            rebuilt.push(*leaf);
        }
        assert_eq!(rebuilt.root(), root(&l));
        assert!(
            Frontier::from_nodes(14, &store).is_err(),
            "leaf 13 was never stored"
        );
    }
}
