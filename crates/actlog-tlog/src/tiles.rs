//! How a store keeps a log's complete nodes: packed into tiles, a row per sixteen hashes.
//!
//! Storing every complete node ([`crate::merkle::Node`]) as a row of its own costs two rows per
//! record. Instead a store keeps only the nodes at every fourth level (0, 4, 8, …), sixteen
//! consecutive ones to a *tile*: tile `(t, i)` holds the hashes of nodes
//! `(4t, 16i)` … `(4t, 16i + 15)`, concatenated (32 bytes each), and grows by appending until it
//! is full. A node at a level in between is the root of a perfect subtree of at most eight
//! nodes of the stored level below it, all in one tile, so it is hashed up on reading
//! ([`TileSet`] answers any complete node). About one tile row is written per sixteen records,
//! and a commit rewrites only the right edge's partial tiles.
//!
//! Level 0 tiles are the leaf hashes in log order: what proofs and `actlog verify` need, and
//! what a store keeps when a retention policy drops records' bodies.

use std::collections::HashMap;

use crate::merkle::{Hash, MissingNode, Node, NodeId, NodeSource, node_hash};

/// Tree levels per tile level: tiles hold the nodes of levels `0, HEIGHT, 2·HEIGHT, …`.
pub const HEIGHT: u8 = 4;
/// Hashes per full tile.
pub const WIDTH: u64 = 1 << HEIGHT;
/// Bytes of one hash in a tile.
const HASH_LEN: usize = 32;

/// A tile's name: its tile level (tree level `HEIGHT·level`) and its index at that level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TileId {
    pub level: u8,
    pub index: u64,
}

impl TileId {
    /// The tile that stores node `id` and the node's position in it, when `id`'s level is
    /// a stored one.
    pub fn of_stored(id: NodeId) -> Option<(TileId, usize)> {
        id.level.is_multiple_of(HEIGHT).then_some((
            TileId {
                level: id.level / HEIGHT,
                index: id.index / WIDTH,
            },
            (id.index % WIDTH) as usize,
        ))
    }

    /// The tile a node is read from: its own when its level is stored, else the tile of the
    /// stored level below that holds the node's descendants there.
    pub fn holding(id: NodeId) -> TileId {
        let below = id.level % HEIGHT;
        let base = NodeId::new(id.level - below, id.index << below);
        TileId::of_stored(base).expect("a stored level").0
    }
}

/// Hashes to add at the end of one tile: `hashes` (a multiple of 32 bytes) go at hash position
/// `offset`, which is the tile's length before this append.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TileAppend {
    pub tile: TileId,
    pub offset: usize,
    pub hashes: Vec<u8>,
}

/// The tile appends for `nodes` (what [`crate::merkle::Frontier::push`] returned, in order,
/// for any number of pushes): the nodes of stored levels, grouped by tile in tile order.
pub fn appends(nodes: &[Node]) -> Vec<TileAppend> {
    let mut by_tile: HashMap<TileId, TileAppend> = HashMap::new();
    for node in nodes {
        let Some((tile, position)) = TileId::of_stored(NodeId::new(node.level, node.index)) else {
            continue;
        };
        let append = by_tile.entry(tile).or_insert_with(|| TileAppend {
            tile,
            offset: position,
            hashes: Vec::with_capacity(WIDTH as usize * HASH_LEN),
        });
        debug_assert_eq!(
            append.offset + append.hashes.len() / HASH_LEN,
            position,
            "nodes of a tile arrive in order"
        );
        append.hashes.extend_from_slice(&node.hash);
    }
    let mut appends: Vec<TileAppend> = by_tile.into_values().collect();
    appends.sort_unstable_by_key(|a| a.tile);
    appends
}

/// The tiles that hold `nodes`, each once, in order: what a store fetches to answer them.
pub fn tiles_for(nodes: &[NodeId]) -> Vec<TileId> {
    let mut tiles: Vec<TileId> = nodes.iter().map(|&id| TileId::holding(id)).collect();
    tiles.sort_unstable();
    tiles.dedup();
    tiles
}

/// Tiles a store read, answering any complete node they cover (a [`NodeSource`]).
#[derive(Debug, Default, Clone)]
pub struct TileSet {
    tiles: HashMap<TileId, Vec<u8>>,
}

impl TileSet {
    pub fn new() -> TileSet {
        TileSet::default()
    }

    /// Adds a tile's stored bytes (the concatenated hashes it holds so far).
    pub fn insert(&mut self, tile: TileId, hashes: Vec<u8>) {
        self.tiles.insert(tile, hashes);
    }

    /// A stored node's hash, when its tile holds it.
    fn stored(&self, id: NodeId) -> Option<Hash> {
        let (tile, position) = TileId::of_stored(id)?;
        let bytes = self.tiles.get(&tile)?;
        let hash = bytes.get(position * HASH_LEN..(position + 1) * HASH_LEN)?;
        Some(hash.try_into().expect("32 bytes"))
    }

    /// Any complete node: read when its level is stored, else hashed up from the up to eight
    /// stored nodes below it.
    pub fn hash(&self, id: NodeId) -> Option<Hash> {
        let below = id.level % HEIGHT;
        let first = id.index << below;
        let mut level: Vec<Hash> = (first..first + (1 << below))
            .map(|index| self.stored(NodeId::new(id.level - below, index)))
            .collect::<Option<_>>()?;
        while level.len() > 1 {
            level = level
                .chunks_exact(2)
                .map(|pair| node_hash(&pair[0], &pair[1]))
                .collect();
        }
        level.pop()
    }
}

impl NodeSource for TileSet {
    type Error = MissingNode;

    fn node(&self, level: u8, index: u64) -> Result<Hash, MissingNode> {
        let id = NodeId::new(level, index);
        self.hash(id).ok_or(MissingNode(id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::merkle::{self, Frontier, inclusion_proof, leaf_hash, verify_inclusion};

    fn leaves(n: u64) -> Vec<Hash> {
        (0..n).map(|i| leaf_hash(&i.to_be_bytes())).collect()
    }

    /// The tiles a store would hold after appending `leaves` in pushes of `chunk`.
    fn stored(leaves: &[Hash], chunk: usize) -> (TileSet, Frontier) {
        let mut frontier = Frontier::new();
        let mut tiles: HashMap<TileId, Vec<u8>> = HashMap::new();
        for part in leaves.chunks(chunk) {
            let nodes: Vec<Node> = part.iter().flat_map(|&l| frontier.push(l)).collect();
            for append in appends(&nodes) {
                let tile = tiles.entry(append.tile).or_default();
                assert_eq!(tile.len() / HASH_LEN, append.offset, "appends follow on");
                tile.extend_from_slice(&append.hashes);
            }
        }
        let mut set = TileSet::new();
        for (id, bytes) in tiles {
            set.insert(id, bytes);
        }
        (set, frontier)
    }

    #[test]
    fn every_complete_node_is_answered_from_tiles() {
        let all = leaves(300);
        for chunk in [1, 7, 300] {
            let (set, frontier) = stored(&all, chunk);
            for level in 0..9u8 {
                let width = 1u64 << level;
                for index in 0..(all.len() as u64 / width) {
                    let lo = (index * width) as usize;
                    let want = merkle::root(&all[lo..lo + width as usize]);
                    assert_eq!(set.hash(NodeId::new(level, index)), Some(want));
                }
            }
            assert_eq!(frontier.root(), merkle::root(&all));
        }
    }

    #[test]
    fn proofs_built_from_tiles_verify() {
        let all = leaves(1000);
        let (set, frontier) = stored(&all, 13);
        for index in [0u64, 1, 15, 16, 255, 256, 511, 999] {
            let proof = inclusion_proof(&set, index, 1000).unwrap();
            verify_inclusion(&all[index as usize], index, 1000, &proof, &frontier.root()).unwrap();
        }
    }

    #[test]
    fn a_node_beyond_the_tiles_is_missing() {
        let (set, _) = stored(&leaves(20), 20);
        assert!(set.hash(NodeId::new(0, 19)).is_some());
        assert!(set.hash(NodeId::new(0, 20)).is_none());
        assert!(set.hash(NodeId::new(2, 4)).is_some());
        assert!(
            set.hash(NodeId::new(2, 5)).is_none(),
            "leaves 20..24 are not all in"
        );
    }

    #[test]
    fn tiles_for_names_each_tile_once() {
        let tiles = tiles_for(&[
            NodeId::new(0, 3),
            NodeId::new(1, 1),
            NodeId::new(3, 1),
            NodeId::new(4, 17),
        ]);
        assert_eq!(
            tiles,
            [TileId { level: 0, index: 0 }, TileId { level: 1, index: 1 }]
        );
    }
}
