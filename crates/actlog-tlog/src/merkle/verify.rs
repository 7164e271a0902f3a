//! Proof verification, step for step as RFC 9162 §2.1.3.2 and §2.1.4.2 write it, so that a
//! reader can hold the code against the RFC (the variable names are the RFC's).

use super::{Hash, RangeError, empty_root, node_hash};

/// Why a proof does not prove what it claims.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error(transparent)]
    Range(#[from] RangeError),
    #[error("the proof has the wrong number of hashes for these tree sizes")]
    WrongLength,
    #[error("the proof leads to another root: the leaf is not in that tree")]
    RootMismatch,
    #[error("the proof does not lead to the older tree's root")]
    OldRootMismatch,
    #[error("the proof does not lead to the newer tree's root: it is not an extension")]
    NewRootMismatch,
}

/// Checks that `leaf` (a leaf hash) is leaf `index` of the tree of `size` leaves whose root
/// is `root` (RFC 9162 §2.1.3.2).
pub fn verify_inclusion(
    leaf: &Hash,
    index: u64,
    size: u64,
    proof: &[Hash],
    root: &Hash,
) -> Result<(), VerifyError> {
    if index >= size {
        return Err(RangeError::IndexOutOfRange { index, size }.into());
    }
    let (mut f_n, mut s_n) = (index, size - 1);
    let mut r = *leaf;
    for p in proof {
        if s_n == 0 {
            return Err(VerifyError::WrongLength);
        }
        if f_n & 1 == 1 || f_n == s_n {
            r = node_hash(p, &r);
            if f_n & 1 == 0 {
                while f_n & 1 == 0 && f_n != 0 {
                    f_n >>= 1;
                    s_n >>= 1;
                }
            }
        } else {
            r = node_hash(&r, p);
        }
        f_n >>= 1;
        s_n >>= 1;
    }
    if s_n != 0 {
        return Err(VerifyError::WrongLength);
    }
    if r != *root {
        return Err(VerifyError::RootMismatch);
    }
    Ok(())
}

/// Checks that the tree of `to` leaves with root `new_root` extends the tree of `from` leaves
/// with root `old_root` (RFC 9162 §2.1.4.2).
///
/// The RFC defines proofs for `0 < from < to`; the two cases it leaves out are answered as
/// [`super::consistency_proof`] builds them: from the empty tree (whose root must be the empty
/// root) and between equal sizes (whose roots must be equal), both with an empty proof.
pub fn verify_consistency(
    from: u64,
    to: u64,
    proof: &[Hash],
    old_root: &Hash,
    new_root: &Hash,
) -> Result<(), VerifyError> {
    if from > to {
        return Err(RangeError::SizesOutOfOrder { from, to }.into());
    }
    if from == 0 || from == to {
        if !proof.is_empty() {
            return Err(VerifyError::WrongLength);
        }
        if from == 0 && *old_root != empty_root() {
            return Err(VerifyError::OldRootMismatch);
        }
        if from == to && old_root != new_root {
            return Err(VerifyError::NewRootMismatch);
        }
        return Ok(());
    }
    rfc_consistency(from, to, proof, old_root, new_root)
}

/// §2.1.4.2 proper, for `0 < first < second`.
fn rfc_consistency(
    first: u64,
    second: u64,
    consistency_path: &[Hash],
    first_hash: &Hash,
    second_hash: &Hash,
) -> Result<(), VerifyError> {
    // 1. An empty path proves nothing.
    if consistency_path.is_empty() {
        return Err(VerifyError::WrongLength);
    }
    // 2. When the old tree is perfect, its root is the path's implicit first element.
    let mut path = Vec::with_capacity(consistency_path.len() + 1);
    if first.is_power_of_two() {
        path.push(*first_hash);
    }
    path.extend_from_slice(consistency_path);
    // 3., 4.
    let (mut f_n, mut s_n) = (first - 1, second - 1);
    while f_n & 1 == 1 {
        f_n >>= 1;
        s_n >>= 1;
    }
    // 5.
    let (mut fr, mut sr) = (path[0], path[0]);
    // 6.
    for c in &path[1..] {
        if s_n == 0 {
            return Err(VerifyError::WrongLength);
        }
        if f_n & 1 == 1 || f_n == s_n {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            if f_n & 1 == 0 {
                while f_n & 1 == 0 && f_n != 0 {
                    f_n >>= 1;
                    s_n >>= 1;
                }
            }
        } else {
            sr = node_hash(&sr, c);
        }
        f_n >>= 1;
        s_n >>= 1;
    }
    // 7.
    if s_n != 0 {
        return Err(VerifyError::WrongLength);
    }
    if fr != *first_hash {
        return Err(VerifyError::OldRootMismatch);
    }
    if sr != *second_hash {
        return Err(VerifyError::NewRootMismatch);
    }
    Ok(())
}
