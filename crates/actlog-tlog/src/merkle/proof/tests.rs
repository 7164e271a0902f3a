use std::cell::Cell;

use super::super::{
    Frontier, VerifyError, empty_root, leaf_hash, node_hash, root, verify_consistency,
    verify_inclusion,
};
use super::*;

/// A store's view of a tree: every node each push completed.
struct Tree {
    leaves: Vec<Hash>,
    nodes: HashMap<NodeId, Hash>,
}

fn tree(n: u64) -> Tree {
    let mut frontier = Frontier::new();
    let mut nodes = HashMap::new();
    let leaves: Vec<Hash> = (0..n).map(|i| leaf_hash(&i.to_be_bytes())).collect();
    for leaf in &leaves {
        for node in frontier.push(*leaf) {
            nodes.insert(NodeId::new(node.level, node.index), node.hash);
        }
    }
    Tree { leaves, nodes }
}

#[test]
fn an_inclusion_proof_in_seven_leaves_is_the_rfc_audit_path() {
    let t = tree(7);
    let l = &t.leaves;
    // Leaf 3 of 7: its sibling 2, then the pair 0-1, then the subtree 4-6.
    let expected = vec![l[2], node_hash(&l[0], &l[1]), root(&l[4..7])];
    assert_eq!(inclusion_proof(&t.nodes, 3, 7).unwrap(), expected);
    verify_inclusion(&l[3], 3, 7, &expected, &root(l)).unwrap();
    // The last leaf of 7 has no sibling at the bottom.
    assert_eq!(
        inclusion_proof(&t.nodes, 6, 7).unwrap(),
        [root(&l[4..6]), root(&l[..4])]
    );
    assert_eq!(inclusion_proof(&t.nodes, 0, 1).unwrap(), Vec::<Hash>::new());
}

#[test]
fn a_consistency_proof_from_three_to_seven_is_the_rfc_one() {
    let t = tree(7);
    let l = &t.leaves;
    // RFC 9162 §2.1.5's example: PROOF(3, D[7]) = [c, d, g, l].
    let expected = vec![l[2], l[3], node_hash(&l[0], &l[1]), root(&l[4..7])];
    assert_eq!(consistency_proof(&t.nodes, 3, 7).unwrap(), expected);
    verify_consistency(3, 7, &expected, &root(&l[..3]), &root(l)).unwrap();
    // PROOF(4, D[7]) = [l]: the old tree is perfect, its root is left out.
    assert_eq!(consistency_proof(&t.nodes, 4, 7).unwrap(), [root(&l[4..7])]);
    // PROOF(6, D[7]) = [i, j, k]: i over leaves 4-5, j leaf 6, k over leaves 0-3.
    assert_eq!(
        consistency_proof(&t.nodes, 6, 7).unwrap(),
        [root(&l[4..6]), l[6], root(&l[..4])]
    );
}

#[test]
fn a_tampered_leaf_or_proof_does_not_verify() {
    let t = tree(13);
    let r = root(&t.leaves);
    let proof = inclusion_proof(&t.nodes, 5, 13).unwrap();
    verify_inclusion(&t.leaves[5], 5, 13, &proof, &r).unwrap();
    assert_eq!(
        verify_inclusion(&leaf_hash(b"forged"), 5, 13, &proof, &r),
        Err(VerifyError::RootMismatch)
    );
    assert_eq!(
        verify_inclusion(&t.leaves[5], 4, 13, &proof, &r),
        Err(VerifyError::RootMismatch),
        "the right leaf at the wrong index"
    );
    let mut bad = proof.clone();
    bad[1][0] ^= 1;
    assert_eq!(
        verify_inclusion(&t.leaves[5], 5, 13, &bad, &r),
        Err(VerifyError::RootMismatch)
    );
    assert_eq!(
        verify_inclusion(&t.leaves[5], 5, 13, &proof, &root(&t.leaves[..12])),
        Err(VerifyError::RootMismatch)
    );
}

#[test]
fn a_proof_for_another_size_or_of_another_length_is_refused() {
    let t = tree(13);
    let r = root(&t.leaves);
    let proof = inclusion_proof(&t.nodes, 5, 13).unwrap();
    assert_eq!(
        verify_inclusion(&t.leaves[5], 5, 13, &proof[..proof.len() - 1], &r),
        Err(VerifyError::WrongLength)
    );
    let mut longer = proof.clone();
    longer.push(r);
    assert_eq!(
        verify_inclusion(&t.leaves[5], 5, 13, &longer, &r),
        Err(VerifyError::WrongLength)
    );
    assert!(verify_inclusion(&t.leaves[5], 5, 64, &proof, &r).is_err());
    assert_eq!(
        verify_inclusion(&t.leaves[5], 13, 13, &proof, &r),
        Err(RangeError::IndexOutOfRange {
            index: 13,
            size: 13
        }
        .into())
    );
}

#[test]
fn a_forked_log_fails_consistency() {
    let t = tree(10);
    let mut forked = t.leaves.clone();
    forked[2] = leaf_hash(b"rewritten");
    let proof = consistency_proof(&t.nodes, 6, 10).unwrap();
    let (old, new) = (root(&t.leaves[..6]), root(&t.leaves));
    verify_consistency(6, 10, &proof, &old, &new).unwrap();
    assert_eq!(
        verify_consistency(6, 10, &proof, &root(&forked[..6]), &new),
        Err(VerifyError::OldRootMismatch),
        "the held checkpoint is of a log that was rewritten since"
    );
    assert_eq!(
        verify_consistency(6, 10, &proof, &old, &root(&forked)),
        Err(VerifyError::NewRootMismatch)
    );
    assert_eq!(
        verify_consistency(6, 10, &proof[..proof.len() - 1], &old, &new),
        Err(VerifyError::WrongLength)
    );
    assert_eq!(
        verify_consistency(6, 10, &[], &old, &new),
        Err(VerifyError::WrongLength)
    );
    assert_eq!(
        verify_consistency(6, 20, &proof, &old, &new),
        Err(VerifyError::WrongLength),
        "a proof for a smaller tree"
    );
    assert_eq!(
        verify_consistency(7, 6, &proof, &old, &new),
        Err(RangeError::SizesOutOfOrder { from: 7, to: 6 }.into())
    );
}

#[test]
fn empty_and_equal_sizes_need_no_proof_but_the_roots_must_match() {
    let t = tree(5);
    let r = root(&t.leaves);
    assert_eq!(
        consistency_proof(&t.nodes, 0, 5).unwrap(),
        Vec::<Hash>::new()
    );
    assert_eq!(
        consistency_proof(&t.nodes, 5, 5).unwrap(),
        Vec::<Hash>::new()
    );
    verify_consistency(0, 5, &[], &empty_root(), &r).unwrap();
    verify_consistency(5, 5, &[], &r, &r).unwrap();
    verify_consistency(0, 0, &[], &empty_root(), &empty_root()).unwrap();
    assert_eq!(
        verify_consistency(5, 5, &[], &r, &root(&t.leaves[..4])),
        Err(VerifyError::NewRootMismatch)
    );
    assert_eq!(
        verify_consistency(0, 5, &[], &r, &r),
        Err(VerifyError::OldRootMismatch)
    );
    assert_eq!(
        verify_consistency(5, 5, &[r], &r, &r),
        Err(VerifyError::WrongLength)
    );
}

#[test]
fn a_proof_past_the_stored_nodes_reports_the_missing_node() {
    let t = tree(6);
    assert!(matches!(
        inclusion_proof(&t.nodes, 2, 8),
        // The subtree over leaves 4-7 was never completed.
        Err(ProofError::Source(MissingNode(NodeId {
            level: 2,
            index: 1
        })))
    ));
    assert!(matches!(
        inclusion_proof(&t.nodes, 6, 6),
        Err(ProofError::Range(RangeError::IndexOutOfRange {
            index: 6,
            size: 6
        }))
    ));
    assert!(matches!(
        consistency_proof(&t.nodes, 7, 6),
        Err(ProofError::Range(RangeError::SizesOutOfOrder { .. }))
    ));
}

/// Counts look-ups, to hold proofs to the O(log² n) reads a store was promised.
struct Counting<'a>(&'a HashMap<NodeId, Hash>, Cell<usize>);

impl NodeSource for Counting<'_> {
    type Error = MissingNode;

    fn node(&self, level: u8, index: u64) -> Result<Hash, MissingNode> {
        self.1.set(self.1.get() + 1);
        self.0.node(level, index)
    }
}

#[test]
fn proofs_read_few_nodes_and_say_which_in_advance() {
    let n = 1000;
    let t = tree(n);
    let counting = Counting(&t.nodes, Cell::new(0));
    for (index, from) in [(0, 1), (511, 512), (999, 999), (637, 700)] {
        counting.1.set(0);
        let proof = inclusion_proof(&counting, index, n).unwrap();
        assert!(counting.1.get() <= 10 * 10, "{} reads", counting.1.get());
        let asked = inclusion_nodes(index, n).unwrap();
        let only: HashMap<NodeId, Hash> = asked.iter().map(|id| (*id, t.nodes[id])).collect();
        assert_eq!(inclusion_proof(&only, index, n).unwrap(), proof);

        let proof = consistency_proof(&counting, from, n).unwrap();
        let asked = consistency_nodes(from, n).unwrap();
        let only: HashMap<NodeId, Hash> = asked.iter().map(|id| (*id, t.nodes[id])).collect();
        assert_eq!(consistency_proof(&only, from, n).unwrap(), proof);
    }
    assert_eq!(
        inclusion_nodes(3, 3),
        Err(RangeError::IndexOutOfRange { index: 3, size: 3 })
    );
}
