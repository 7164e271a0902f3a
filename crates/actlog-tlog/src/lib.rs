//! Tamper evidence for actlog, without storage: what a store, the server and `actlog verify`
//! share so that an outside auditor can check a partner's log with tools that are not ours.
//!
//! Each partner's records form an append-only Merkle tree in the formats transparency logs use,
//! so that nothing here is actlog's own invention an auditor would have to trust:
//!
//! - [`canonical`]: the versioned byte encoding of a stored record, the data of its leaf.
//! - [`merkle`]: RFC 6962 / RFC 9162 hashing, the incremental [`merkle::Frontier`] a store
//!   keeps to hash new records without rereading the log, inclusion and consistency proofs built
//!   from the complete subtree nodes a store persists ([`merkle::NodeSource`]), and their
//!   verification.
//! - [`note`]: C2SP signed notes with Ed25519 keys (signing, verifier keys, verification).
//! - [`checkpoint`]: C2SP tlog-checkpoints, the signed statement "this partner's log has this
//!   size and this root", and the origin line naming the deployment and the partner.
//! - [`tiles`]: how a store packs the complete nodes it keeps, sixteen hashes to a row at
//!   every fourth level, and answers any complete node from them.
//! - [`bundle`]: proof bundles of exports, and their offline verification.
//! - [`keyfile`]: the signing keyring file, kept outside the database so that the database
//!   alone cannot forge a checkpoint, with rotation that keeps old verifier keys.
//!
//! The formats are written down in `docs/tamper-evidence.md`, precisely enough to be checked
//! by a few lines of another language.

pub mod bundle;
pub mod canonical;
pub mod checkpoint;
#[cfg(unix)]
pub mod keyfile;
pub mod merkle;
pub mod note;
pub mod tiles;
