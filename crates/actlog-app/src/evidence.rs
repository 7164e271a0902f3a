//! Tamper evidence as a service: signing partners' checkpoints, proofs for outside parties, and
//! `actlog verify`'s recomputation of every log from what is stored (docs/tamper-evidence.md).
//!
//! The signer holds the deployment's keyring (a file outside the database); a store alone can
//! neither sign nor change what a signed checkpoint says.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use actlog_store::log::leaf_of;
use actlog_store::{Store, StoreError, StoredCheckpoint};
use actlog_tlog::checkpoint::{self, Checkpoint, CheckpointError};
use actlog_tlog::keyfile::Keyring;
use actlog_tlog::merkle::{self, Frontier, Hash, NodeId};
use actlog_tlog::note::VerifierKey;
use actlog_tlog::tiles::{self, TileId, TileSet};
use futures::TryStreamExt;

/// Signs the deployment's checkpoints with its keyring.
#[derive(Debug, Clone)]
pub struct Signer {
    keyring: Arc<Keyring>,
}

impl Signer {
    pub fn new(keyring: Keyring) -> Signer {
        Signer {
            keyring: Arc::new(keyring),
        }
    }

    /// The deployment's name: the key's name and the first part of every log's origin.
    pub fn deployment(&self) -> &str {
        self.keyring.signing_key().name()
    }

    /// Every key this deployment's checkpoints may be signed by, current first.
    pub fn verifiers(&self) -> Vec<VerifierKey> {
        self.keyring.verifiers()
    }

    /// A signed note of `text` (ending in a newline) by the deployment's current key: how a
    /// proved export's manifest is signed.
    pub fn sign_note(&self, text: &str) -> Result<String, actlog_tlog::note::NoteError> {
        actlog_tlog::note::sign(text, self.keyring.signing_key())
    }

    /// `checkpoint` signed by the deployment's current key (the same note as stored, unless
    /// the key was rotated since it was signed).
    pub fn sign(&self, checkpoint: &Checkpoint) -> String {
        checkpoint.sign(self.keyring.signing_key())
    }

    /// The partner's log's origin line.
    pub fn origin(&self, partner: &str) -> Result<String, CheckpointError> {
        checkpoint::origin(self.deployment(), partner)
    }

    /// The partner's latest checkpoint, signing the log's head first when records arrived
    /// since the last one (or none was signed yet).
    pub async fn latest(
        &self,
        store: &dyn Store,
        partner: &str,
        now: i64,
    ) -> Result<StoredCheckpoint, StoreError> {
        let kept = store.latest_checkpoint(partner).await?;
        let head = store.log_head(partner).await?;
        match kept {
            Some(kept) if kept.size >= head.size() => Ok(kept),
            _ => {
                let origin = self
                    .origin(partner)
                    .map_err(|e| StoreError::Database(format!("cannot name the log: {e}")))?;
                let text = Checkpoint::new(&origin, head.size(), head.root())
                    .map_err(|e| StoreError::Database(format!("cannot sign: {e}")))?;
                let signed = StoredCheckpoint {
                    size: head.size(),
                    note: text.sign(self.keyring.signing_key()),
                    signed_at: now,
                };
                store.add_checkpoint(partner, &signed).await?;
                // Another server may have kept one of that size first: that one stands.
                Ok(store
                    .checkpoint_at(partner, signed.size)
                    .await?
                    .unwrap_or(signed))
            }
        }
    }

    /// Signs the head of every partner whose log grew since its last checkpoint; how many.
    pub async fn sign_grown(&self, store: &dyn Store, now: i64) -> Result<usize, StoreError> {
        let grown = store.unsigned_partners().await?;
        for partner in &grown {
            self.latest(store, partner, now).await?;
        }
        Ok(grown.len())
    }
}

/// Why a proof could not be given.
#[derive(Debug, thiserror::Error)]
pub enum ProofError {
    #[error("no record with that id")]
    NoRecord,
    #[error("{0}")]
    Range(#[from] merkle::RangeError),
    #[error("no checkpoint was signed at tree size {0}")]
    NoCheckpoint(u64),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the stored log is incomplete: {0}")]
    Damaged(#[from] merkle::MissingNode),
}

/// An inclusion proof, with the checkpoint it is against.
#[derive(Debug, Clone)]
pub struct Inclusion {
    pub index: u64,
    pub leaf: Hash,
    pub proof: Vec<Hash>,
    pub checkpoint: StoredCheckpoint,
}

/// The proof that the partner's record `id` is in the tree of the checkpoint of `size` (the
/// latest, signed now when records arrived since, when `size` is `None`).
pub async fn inclusion(
    store: &dyn Store,
    signer: &Signer,
    partner: &str,
    id: &str,
    size: Option<u64>,
    now: i64,
) -> Result<Inclusion, ProofError> {
    let index = store
        .log_index(partner, id)
        .await?
        .ok_or(ProofError::NoRecord)?;
    let record = store.get(partner, id).await?.ok_or(ProofError::NoRecord)?;
    let checkpoint = checkpoint_of(store, signer, partner, size, now).await?;
    let set = tiles_for(
        store,
        partner,
        &merkle::inclusion_nodes(index, checkpoint.size)?,
    )
    .await?;
    let proof = merkle::inclusion_proof(&set, index, checkpoint.size).map_err(unwrap_proof)?;
    Ok(Inclusion {
        index,
        leaf: leaf_of(partner, &record),
        proof,
        checkpoint,
    })
}

/// A consistency proof between two checkpoints.
#[derive(Debug, Clone)]
pub struct Consistency {
    pub from: StoredCheckpoint,
    pub to: StoredCheckpoint,
    pub proof: Vec<Hash>,
}

/// The proof that the partner's tree of `from` leaves is a prefix of the one of `to` (the
/// latest when `None`); both sizes must be of signed checkpoints.
pub async fn consistency(
    store: &dyn Store,
    signer: &Signer,
    partner: &str,
    from: u64,
    to: Option<u64>,
    now: i64,
) -> Result<Consistency, ProofError> {
    let to = checkpoint_of(store, signer, partner, to, now).await?;
    let from = checkpoint_of(store, signer, partner, Some(from), now).await?;
    let set = tiles_for(
        store,
        partner,
        &merkle::consistency_nodes(from.size, to.size)?,
    )
    .await?;
    let proof = merkle::consistency_proof(&set, from.size, to.size).map_err(unwrap_proof)?;
    Ok(Consistency { from, to, proof })
}

async fn checkpoint_of(
    store: &dyn Store,
    signer: &Signer,
    partner: &str,
    size: Option<u64>,
    now: i64,
) -> Result<StoredCheckpoint, ProofError> {
    match size {
        None => Ok(signer.latest(store, partner, now).await?),
        Some(size) => store
            .checkpoint_at(partner, size)
            .await?
            .ok_or(ProofError::NoCheckpoint(size)),
    }
}

async fn tiles_for(
    store: &dyn Store,
    partner: &str,
    nodes: &[NodeId],
) -> Result<TileSet, StoreError> {
    store.log_tiles(partner, &tiles::tiles_for(nodes)).await
}

fn unwrap_proof(e: merkle::ProofError<merkle::MissingNode>) -> ProofError {
    match e {
        merkle::ProofError::Range(e) => ProofError::Range(e),
        merkle::ProofError::Source(e) => ProofError::Damaged(e),
    }
}

/// What `actlog verify` found wrong in one partner's log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Finding {
    /// The record at `index` does not hash to the leaf stored there, nor to any other.
    Altered { index: u64, id: String },
    /// No stored record holds log index `first ..= last`: records were deleted.
    Deleted { first: u64, last: u64 },
    /// A stored record the log never logged (no index, one beyond the log, or one another
    /// record holds).
    Inserted { id: String, index: Option<u64> },
    /// The record at `index` holds the content logged at `logged_at`: rows were swapped or
    /// moved.
    Moved {
        id: String,
        index: u64,
        logged_at: u64,
    },
    /// Stored tree nodes disagree with the leaves below them, or the head with the tiles.
    TreeDamaged(String),
    /// A checkpoint (kept in the database, or held outside: `held`) that does not verify.
    BadCheckpoint {
        size: Option<u64>,
        held: bool,
        reason: String,
    },
    /// A signed checkpoint whose root is not the stored log's at that size: the log was
    /// rewritten after it was signed.
    CheckpointMismatch { size: u64, held: bool },
    /// A signed checkpoint of more records than the log holds: the database was rolled back
    /// (or truncated) behind it.
    RolledBack { size: u64, held: bool, log: u64 },
}

impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let whose = |held: bool| if held { "held" } else { "stored" };
        match self {
            Finding::Altered { index, id } => write!(
                f,
                "record {id} (log index {index}) was altered: it does not hash to the leaf logged there"
            ),
            Finding::Deleted { first, last } if first == last => {
                write!(f, "the record logged at index {first} was deleted")
            }
            Finding::Deleted { first, last } => {
                write!(
                    f,
                    "the records logged at indexes {first} to {last} were deleted"
                )
            }
            Finding::Inserted { id, index: None } => {
                write!(f, "record {id} was inserted: it is not in the log")
            }
            Finding::Inserted {
                id,
                index: Some(index),
            } => write!(
                f,
                "record {id} was inserted: it claims log index {index}, which the log gives to another record or does not have"
            ),
            Finding::Moved {
                id,
                index,
                logged_at,
            } => write!(
                f,
                "record {id} was moved: it sits at log index {index} with the content logged at index {logged_at}"
            ),
            Finding::TreeDamaged(what) => write!(f, "the stored tree is damaged: {what}"),
            Finding::BadCheckpoint {
                size: Some(size),
                held,
                reason,
            } => write!(
                f,
                "the {} checkpoint of size {size} is refused: {reason}",
                whose(*held)
            ),
            Finding::BadCheckpoint {
                size: None,
                held,
                reason,
            } => write!(f, "a {} checkpoint is refused: {reason}", whose(*held)),
            Finding::CheckpointMismatch { size, held } => write!(
                f,
                "the {} checkpoint of size {size} does not match the log: its records were rewritten after it was signed",
                whose(*held)
            ),
            Finding::RolledBack { size, held, log } => write!(
                f,
                "the database was rolled back: a {} checkpoint signed {size} records, the log holds {log}",
                whose(*held)
            ),
        }
    }
}

/// One partner's verification.
#[derive(Debug, Clone)]
pub struct PartnerReport {
    pub partner: String,
    /// Records stored (rows read).
    pub records: u64,
    /// The log's size and root as recomputed from the stored leaves.
    pub size: u64,
    pub root: Hash,
    /// Checkpoints checked (stored and held).
    pub checkpoints: usize,
    pub findings: Vec<Finding>,
}

/// A checkpoint held outside the database (a file an auditor kept), as given to verify.
#[derive(Debug, Clone)]
pub struct Held {
    /// Where it came from, for messages.
    pub name: String,
    pub note: String,
}

/// Held checkpoints that name no log of this deployment's partners, or that no known key
/// signed.
#[derive(Debug, Clone)]
pub struct Unplaced {
    pub name: String,
    pub reason: String,
}

/// Recomputes `partner`'s log from the stored records and compares it with the stored
/// leaves, tree nodes, head, kept checkpoints and the `held` ones of this partner (already
/// matched by origin). `progress` is told how many records were read so far.
pub async fn verify_partner(
    store: &dyn Store,
    partner: &str,
    keys: &[VerifierKey],
    origin: &str,
    held: &[&Held],
    progress: &mut (dyn FnMut(u64) + Send),
) -> Result<PartnerReport, StoreError> {
    let mut findings = Vec::new();
    let head = store.log_head(partner).await?;

    // The stored tree: leaves in log order, higher tiles to compare.
    let mut leaves: Vec<Hash> = Vec::new();
    let mut higher: HashMap<TileId, Vec<u8>> = HashMap::new();
    let mut tile_stream = store.all_tiles(partner);
    let mut next_leaf_tile = 0;
    while let Some(batch) = tile_stream.try_next().await? {
        for (tile, hashes) in batch {
            if tile.level > 0 {
                higher.insert(tile, hashes);
                continue;
            }
            if tile.index != next_leaf_tile || hashes.len() % 32 != 0 {
                findings.push(Finding::TreeDamaged(format!(
                    "leaf tile {} is missing or malformed",
                    next_leaf_tile
                )));
            }
            next_leaf_tile = tile.index + 1;
            leaves.extend(
                hashes
                    .chunks_exact(32)
                    .map(|h| <Hash>::try_from(h).expect("32 bytes")),
            );
        }
    }

    // Checkpoints to compare: kept ones and held ones, by size.
    let mut signed: Vec<(u64, Hash, bool)> = Vec::new();
    let kept = store.checkpoints(partner).await?;
    let notes = kept
        .iter()
        .map(|k| (Some(k.size), k.note.as_str(), false))
        .chain(held.iter().map(|h| (None, h.note.as_str(), true)));
    let mut checked = 0;
    for (size, note, is_held) in notes {
        checked += 1;
        match Checkpoint::open(note, keys, origin) {
            Ok(cp) => {
                if size.is_some_and(|s| s != cp.size()) {
                    findings.push(Finding::BadCheckpoint {
                        size,
                        held: false,
                        reason: format!("it is stored as size {size:?} but says {}", cp.size()),
                    });
                }
                signed.push((cp.size(), *cp.root(), is_held));
            }
            Err(e) => findings.push(Finding::BadCheckpoint {
                size,
                held: is_held,
                reason: e.to_string(),
            }),
        }
    }
    let sizes: BTreeSet<u64> = signed.iter().map(|s| s.0).collect();

    // Rebuild from the stored leaves: the nodes it completes must be the stored ones, and the
    // roots at signed sizes the signed roots.
    let higher_set = {
        let mut set = TileSet::new();
        for (tile, hashes) in &higher {
            set.insert(*tile, hashes.clone());
        }
        set
    };
    let mut frontier = Frontier::new();
    let mut roots: HashMap<u64, Hash> = HashMap::new();
    if sizes.contains(&0) {
        roots.insert(0, frontier.root());
    }
    let mut damaged_nodes = 0u64;
    for leaf in &leaves {
        for node in frontier.push(*leaf) {
            if node.level >= tiles::HEIGHT && node.level.is_multiple_of(tiles::HEIGHT) {
                let stored = higher_set.hash(NodeId::new(node.level, node.index));
                if stored != Some(node.hash) {
                    damaged_nodes += 1;
                }
            }
        }
        if sizes.contains(&frontier.size()) {
            roots.insert(frontier.size(), frontier.root());
        }
    }
    if damaged_nodes > 0 {
        findings.push(Finding::TreeDamaged(format!(
            "{damaged_nodes} stored tree nodes do not match the leaves below them"
        )));
    }
    if head.size() != frontier.size() || head.root() != frontier.root() {
        findings.push(Finding::TreeDamaged(format!(
            "the log's head says {} records (root {}), its leaves make {} (root {})",
            head.size(),
            hex(&head.root()),
            frontier.size(),
            hex(&frontier.root())
        )));
    }
    for (size, root, held) in &signed {
        match roots.get(size) {
            Some(r) if r == root => {}
            Some(_) => findings.push(Finding::CheckpointMismatch {
                size: *size,
                held: *held,
            }),
            None => findings.push(Finding::RolledBack {
                size: *size,
                held: *held,
                log: frontier.size(),
            }),
        }
    }

    // The records: each must hash to the leaf at its index.
    let n = leaves.len() as u64;
    let mut seen = vec![false; leaves.len()];
    let mut mismatched: Vec<(u64, String, Hash)> = Vec::new();
    let mut records = 0u64;
    let mut stream = store.logged_records(partner);
    while let Some(batch) = stream.try_next().await? {
        for logged in batch {
            records += 1;
            let id = logged.record.id.clone();
            match logged.index {
                Some(index) if index < n && !seen[index as usize] => {
                    seen[index as usize] = true;
                    let leaf = leaf_of(partner, &logged.record);
                    if leaf != leaves[index as usize] {
                        mismatched.push((index, id, leaf));
                    }
                }
                index => findings.push(Finding::Inserted { id, index }),
            }
        }
        progress(records);
    }
    if !mismatched.is_empty() {
        let wanted: HashMap<Hash, usize> = mismatched
            .iter()
            .enumerate()
            .map(|(i, m)| (m.2, i))
            .collect();
        let mut found: HashMap<usize, u64> = HashMap::new();
        for (at, leaf) in leaves.iter().enumerate() {
            if let Some(&i) = wanted.get(leaf) {
                found.entry(i).or_insert(at as u64);
            }
        }
        for (i, (index, id, _)) in mismatched.into_iter().enumerate() {
            findings.push(match found.get(&i) {
                Some(&logged_at) => Finding::Moved {
                    id,
                    index,
                    logged_at,
                },
                None => Finding::Altered { index, id },
            });
        }
    }
    let mut missing = seen
        .iter()
        .enumerate()
        .filter(|(_, s)| !**s)
        .map(|(i, _)| i as u64)
        .peekable();
    while let Some(first) = missing.next() {
        let mut last = first;
        while missing.peek() == Some(&(last + 1)) {
            last = missing.next().expect("peeked");
        }
        findings.push(Finding::Deleted { first, last });
    }
    Ok(PartnerReport {
        partner: partner.to_owned(),
        records,
        size: frontier.size(),
        root: frontier.root(),
        checkpoints: checked,
        findings,
    })
}

/// Sorts held checkpoints by the partner whose log they name (`partners` of `deployment`);
/// those naming none are returned apart.
pub fn place_held<'a>(
    held: &'a [Held],
    deployment: &str,
    partners: &[String],
) -> (HashMap<String, Vec<&'a Held>>, Vec<Unplaced>) {
    let origins: HashMap<String, &String> = partners
        .iter()
        .filter_map(|p| checkpoint::origin(deployment, p).ok().map(|o| (o, p)))
        .collect();
    let mut placed: HashMap<String, Vec<&Held>> = HashMap::new();
    let mut unplaced = Vec::new();
    for h in held {
        let origin = h.note.split('\n').next().unwrap_or_default();
        match origins.get(origin) {
            Some(partner) => placed.entry((*partner).clone()).or_default().push(h),
            None => unplaced.push(Unplaced {
                name: h.name.clone(),
                reason: format!(
                    "it names the log `{origin}`, which is not one of this deployment's"
                ),
            }),
        }
    }
    (placed, unplaced)
}

/// Lowercase hex, for messages.
pub fn hex(hash: &Hash) -> String {
    hash.iter().map(|b| format!("{b:02x}")).collect()
}
