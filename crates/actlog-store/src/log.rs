//! Each partner's Merkle log, as a store keeps it (see `docs/tamper-evidence.md`).
//!
//! A backend assigns every record it stores a log index in the transaction that stores it,
//! in commit order per partner, hashes its canonical encoding into the partner's tree, and
//! writes in that same transaction the tree's new head (size and frontier) and the complete
//! nodes the records completed, packed into tiles ([`actlog_tlog::tiles`]). Nothing here ever
//! rewrites a stored hash: tiles only grow, and a partial tile is extended, never changed.
//! Signed checkpoints are stored beside the log; the key that signs them is not.

use actlog_domain::AuditRecord;
use actlog_tlog::merkle::{Frontier, Hash};
use actlog_tlog::tiles::{TileId, TileSet};
use async_trait::async_trait;
use futures::stream::BoxStream;

use crate::StoreError;

/// A partner's tree as stored: its size and the frontier its root comes from.
#[derive(Debug, Clone, Default)]
pub struct LogHead {
    pub frontier: Frontier,
}

impl LogHead {
    pub fn size(&self) -> u64 {
        self.frontier.size()
    }

    pub fn root(&self) -> Hash {
        self.frontier.root()
    }
}

/// A signed checkpoint a store keeps: the signed note's text, for the tree of `size` leaves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredCheckpoint {
    pub size: u64,
    /// The C2SP signed note, exactly as signed.
    pub note: String,
    /// When it was signed, Unix seconds.
    pub signed_at: i64,
}

/// A stored record with the log index the store gave it (`None`: a row the store never
/// logged — written past actlog, or from before the log was built).
#[derive(Debug, Clone)]
pub struct LoggedRecord {
    pub index: Option<u64>,
    pub record: AuditRecord,
}

/// A stream of stored records in log order (see [`Log::logged_records`]).
pub type LoggedStream = BoxStream<'static, Result<Vec<LoggedRecord>, StoreError>>;

/// A stream of a partner's tiles in (level, index) order (see [`Log::all_tiles`]).
pub type TileStream = BoxStream<'static, Result<Vec<(TileId, Vec<u8>)>, StoreError>>;

/// Reading a partner's log and keeping its signed checkpoints.
#[async_trait]
pub trait Log: Send + Sync {
    /// The partner's tree as stored now (the empty tree for an unknown partner).
    async fn log_head(&self, partner: &str) -> Result<LogHead, StoreError>;

    /// The stored tiles named (missing ones are left out: the tree does not reach them).
    async fn log_tiles(&self, partner: &str, tiles: &[TileId]) -> Result<TileSet, StoreError>;

    /// The log index of the partner's record `id`, when it is stored (and logged).
    async fn log_index(&self, partner: &str, id: &str) -> Result<Option<u64>, StoreError>;

    /// The log indexes of the partner's records `ids`, in their order (`None` for one not
    /// stored or not logged): what a proved export looks up, a batch at a time.
    async fn log_indexes(
        &self,
        partner: &str,
        ids: &[String],
    ) -> Result<Vec<Option<u64>>, StoreError>;

    /// The partners whose log holds more records than their largest kept checkpoint (or that
    /// have none yet): those a signer must sign. One query, however many partners there are.
    async fn unsigned_partners(&self) -> Result<Vec<String>, StoreError>;

    /// Keeps a signed checkpoint; one already kept for that size stays (signatures by one key
    /// of one tree are equal, so two servers signing at once agree).
    async fn add_checkpoint(
        &self,
        partner: &str,
        checkpoint: &StoredCheckpoint,
    ) -> Result<(), StoreError>;

    /// The kept checkpoint of the largest size.
    async fn latest_checkpoint(
        &self,
        partner: &str,
    ) -> Result<Option<StoredCheckpoint>, StoreError>;

    /// The kept checkpoint of `size`, if one was signed at that size.
    async fn checkpoint_at(
        &self,
        partner: &str,
        size: u64,
    ) -> Result<Option<StoredCheckpoint>, StoreError>;

    /// Every kept checkpoint, smallest size first.
    async fn checkpoints(&self, partner: &str) -> Result<Vec<StoredCheckpoint>, StoreError>;

    /// Every stored row of the partner's records, in the order the store wrote them (its log
    /// order when nothing was tampered with), in batches: what `actlog verify` rehashes.
    fn logged_records(&self, partner: &str) -> LoggedStream;

    /// Every stored tile of the partner, level 0 first, each level by index.
    fn all_tiles(&self, partner: &str) -> TileStream;
}

/// The leaf hash of a record stored for `partner`: what a backend adds to the tree.
pub fn leaf_of(partner: &str, record: &AuditRecord) -> Hash {
    actlog_tlog::merkle::leaf_hash(&actlog_tlog::canonical::encode(partner, record))
}

/// Pages read one after another as a stream: `next(after)` reads the page after position
/// `after` and says where the following one starts (`None`: it was the last). Empty pages are
/// left out. What both backends' [`Log::logged_records`] and [`Log::all_tiles`] are made of.
pub fn pages<C, T, F, Fut>(start: C, next: F) -> BoxStream<'static, Result<Vec<T>, StoreError>>
where
    C: Send + 'static,
    T: Send + 'static,
    F: Fn(C) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = Result<(Vec<T>, Option<C>), StoreError>> + Send + 'static,
{
    use futures::{StreamExt, TryStreamExt};
    futures::stream::try_unfold(Some(start), move |after| {
        let page = after.map(&next);
        async move {
            match page {
                None => Ok(None),
                Some(page) => page.await.map(Some),
            }
        }
    })
    .try_filter(|batch| std::future::ready(!batch.is_empty()))
    .boxed()
}
