//! The store interface: what actlog needs from a database, in domain terms.
//!
//! Records are append-only: the writer can add and never change or remove (retention is a
//! separate, explicit capability). Every method takes the partner the caller acts for, so no
//! read or write can cross partners. Backends (`actlog-sqlite`, later `actlog-postgres`)
//! implement [`Store`]; the server holds one as `Arc<dyn Store>`, picked from the database URL.
//! [`sql`] holds the filter translation both SQL backends share, [`subscriptions`] the
//! statements that keep the Subscriptions page's projection.

pub mod customized;
pub mod identity;
pub mod log;
pub mod refill;
pub mod sql;
pub mod subscriptions;

pub use identity::{
    AddUserError, ExternalSignIn, ExternalSignInError, Identity, NewUser, Session, User,
};
pub use log::{Log, LogHead, LoggedRecord, StoredCheckpoint};

use actlog_domain::AuditRecord;
use actlog_domain::OperationDate;
use actlog_domain::query::{PageRequest, Position, Query};
use actlog_domain::subscriptions::SubscriptionsAfter;
use actlog_domain::subscriptions::state::CustomerSubscriptions;
use async_trait::async_trait;
use futures::stream::BoxStream;

/// A failure of the database itself (not of the caller's input).
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The store is saturated; the caller should retry later.
    #[error("the store is busy; retry shortly")]
    Busy,
    /// The database failed; the message is for logs, not for clients.
    #[error("database failure: {0}")]
    Database(String),
}

/// Why a batch was not stored. Nothing of the batch is stored in either case.
#[derive(Debug, thiserror::Error)]
pub enum AppendError {
    /// Records whose ids are already stored with different content.
    #[error("ids already used by records with different content: {}", .0.join(", "))]
    Conflict(Vec<String>),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What an accepted batch did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AppendReport {
    /// Records newly stored.
    pub stored: usize,
    /// Records that were already stored with the same content (retries).
    pub unchanged: usize,
}

/// One page of a newest-first walk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    pub records: Vec<AuditRecord>,
    /// Where the next page starts, when there is one.
    pub next: Option<Position>,
    /// The snapshot the walk reads (the request's, or the newest sequence at the first page).
    pub snapshot: i64,
}

/// A stream of records, newest first.
pub type RecordStream = BoxStream<'static, Result<AuditRecord, StoreError>>;

/// A stream of record batches, newest first (see [`RecordReader::scan_batches`]).
pub type BatchStream = BoxStream<'static, Result<RecordBatch, StoreError>>;

/// Records a scan hands over together.
///
/// A backend may ask for the batch back: dropping it then returns the records to the thread
/// that reads, which refills them in place, so a long scan reuses the same memory instead of
/// allocating every row on one thread and freeing it on another.
#[derive(Debug, Default)]
pub struct RecordBatch {
    records: Vec<AuditRecord>,
    home: Option<std::sync::mpsc::SyncSender<Vec<AuditRecord>>>,
}

impl RecordBatch {
    /// A batch that goes back to `home` when dropped (if `home` has room for it).
    pub fn new(
        records: Vec<AuditRecord>,
        home: Option<std::sync::mpsc::SyncSender<Vec<AuditRecord>>>,
    ) -> Self {
        RecordBatch { records, home }
    }

    /// The records, to keep.
    pub fn into_records(mut self) -> Vec<AuditRecord> {
        self.home = None;
        std::mem::take(&mut self.records)
    }
}

impl std::ops::Deref for RecordBatch {
    type Target = [AuditRecord];

    fn deref(&self) -> &[AuditRecord] {
        &self.records
    }
}

impl Drop for RecordBatch {
    fn drop(&mut self) {
        if let Some(home) = self.home.take() {
            let _ = home.try_send(std::mem::take(&mut self.records));
        }
    }
}

/// What an API key may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Scopes {
    pub read: bool,
    pub write: bool,
}

/// A stored API key (its secret is never stored, only its SHA-256).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKey {
    /// The public part of the key, shown in listings.
    pub id: String,
    pub partner_id: String,
    pub scopes: Scopes,
    pub label: String,
}

/// Writing records.
#[async_trait]
pub trait RecordWriter: Send + Sync {
    /// Stores a batch for `partner`: all of it or nothing, and only returns once the batch is
    /// durable. Records whose id is already stored with the same content are skipped; with
    /// other content the whole batch is refused with [`AppendError::Conflict`].
    async fn append(
        &self,
        partner: &str,
        records: Vec<AuditRecord>,
    ) -> Result<AppendReport, AppendError>;
}

/// Reading records.
///
/// Dropping a read's future stops its database work (a SQLite interrupt, a PostgreSQL cancel
/// request), as does dropping a scan's stream: a client that goes away, or a time limit the
/// caller puts on the future, frees the connection at once rather than when the query ends.
#[async_trait]
pub trait RecordReader: Send + Sync {
    /// One page, newest first by `(operationDate, seq)`.
    async fn page(&self, partner: &str, request: &PageRequest) -> Result<Page, StoreError>;

    /// One record by id.
    async fn get(&self, partner: &str, id: &str) -> Result<Option<AuditRecord>, StoreError>;

    /// How many records a query covers.
    async fn count(&self, partner: &str, query: &Query) -> Result<u64, StoreError>;

    /// How many records a query covers, counting no further than `limit` (a page that says
    /// "more than 10,000" need not count ten million).
    async fn count_at_most(
        &self,
        partner: &str,
        query: &Query,
        limit: u64,
    ) -> Result<u64, StoreError> {
        Ok(self.count(partner, query).await?.min(limit))
    }

    /// Every record a query covers, newest first, streamed with bounded memory.
    fn scan(&self, partner: &str, query: &Query) -> RecordStream;

    /// What [`Self::scan`] streams, a batch at a time, for a consumer that handles many
    /// records in a row (the export): it then wakes once per batch rather than per record. A
    /// failure ends the stream as it ends a scan. (This default batches `scan`, and drops the
    /// records read just before a failure; a backend's own hands them over first.)
    fn scan_batches(&self, partner: &str, query: &Query) -> BatchStream {
        use futures::StreamExt;
        self.scan(partner, query)
            .ready_chunks(256)
            .map(|chunk| {
                let records: Result<Vec<_>, _> = chunk.into_iter().collect();
                records.map(|records| RecordBatch::new(records, None))
            })
            .boxed()
    }

    /// Every record of `partner` in the order the store committed them (its log order), after
    /// skipping the first `skip`: what copying a deployment reads, so that the copy commits
    /// them in the same order. Streamed in batches with bounded memory, as [`Self::scan_batches`].
    fn scan_log(&self, partner: &str, skip: u64) -> BatchStream;

    /// A page of a customer's Subscriptions (`customer_id` compared as a `CustomerId equals`
    /// filter compares it): at most `size` subscriptions, those following `after` in the
    /// page's order (from the first when `None`), with how many the customer has in all. Read
    /// from what the store keeps up to date in the transaction of every append, by an index in
    /// the page's order (its cost does not grow with the customer's subscriptions): exactly
    /// [`CustomerSubscriptions::fold`] of the customer's records as [`Self::page`] lists them,
    /// cut by [`CustomerSubscriptions::page`]. `None` when the partner has no record of that
    /// customer.
    async fn subscriptions(
        &self,
        partner: &str,
        customer_id: &str,
        after: Option<&SubscriptionsAfter>,
        size: usize,
    ) -> Result<Option<CustomerSubscriptions>, StoreError>;
}

/// An API key as stored: its public part and the SHA-256 of its secret (what copying a
/// deployment moves, so that the keys keep working).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredApiKey {
    pub key: ApiKey,
    pub secret_hash: [u8; 32],
    /// When the key stops working (Unix seconds), if it expires.
    pub expires_at: Option<i64>,
}

/// What an administrator sees of a key: never its secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyDetails {
    pub key: ApiKey,
    /// When it was created (Unix seconds).
    pub created_at: i64,
    /// When a server last found it (Unix seconds, to within a minute), if ever.
    pub last_used_at: Option<i64>,
    /// When it stops working (Unix seconds), if it expires.
    pub expires_at: Option<i64>,
}

/// Partners, API keys and deployment secrets.
#[async_trait]
pub trait Tenancy: Send + Sync {
    /// Creates the partner if it is new; returns whether it was created.
    async fn ensure_partner(&self, partner: &str) -> Result<bool, StoreError>;

    /// Stores a new API key (the partner must exist).
    async fn add_api_key(&self, key: &ApiKey, secret_hash: &[u8; 32]) -> Result<(), StoreError>;

    /// The key whose secret hashes to `secret_hash`, unless it has expired.
    async fn api_key(&self, secret_hash: &[u8; 32]) -> Result<Option<ApiKey>, StoreError>;

    /// Sets when key `id` stops working (Unix seconds; `None`: never); whether it exists.
    async fn set_api_key_expiry(
        &self,
        id: &str,
        expires_at: Option<i64>,
    ) -> Result<bool, StoreError>;

    /// Notes that key `id` was used at `now` (Unix seconds); a no-op when it was noted less
    /// than a minute before, so a busy key costs at most one write a minute.
    async fn touch_api_key(&self, id: &str, now: i64) -> Result<(), StoreError>;

    /// The keys of `partner`, by creation then id.
    async fn key_details(&self, partner: &str) -> Result<Vec<KeyDetails>, StoreError>;

    /// Removes key `id`: it stops working (servers that found it within the last second may
    /// still accept it until their memory of it expires). The partner it belonged to, or
    /// `None` when there is no such key.
    async fn revoke_api_key(&self, id: &str) -> Result<Option<String>, StoreError>;

    /// Every partner id, in byte order.
    async fn partners(&self) -> Result<Vec<String>, StoreError>;

    /// Every API key, by partner then id.
    async fn api_keys(&self) -> Result<Vec<StoredApiKey>, StoreError>;

    /// How far a mirror of `source` (another audit-records API, e.g. Partner Center's) has
    /// been read for `partner`: every record dated before it was fetched. `None` before the
    /// first pull.
    async fn pull_state(
        &self,
        partner: &str,
        source: &str,
    ) -> Result<Option<OperationDate>, StoreError>;

    /// Records that the mirror of `source` for `partner` (which must exist) has been read up
    /// to `through`.
    async fn set_pull_state(
        &self,
        partner: &str,
        source: &str,
        through: OperationDate,
    ) -> Result<(), StoreError>;

    /// The deployment secret called `name`: stored on first use (`candidate`), the same for
    /// every server sharing the database afterwards.
    async fn secret(&self, name: &str, candidate: Vec<u8>) -> Result<Vec<u8>, StoreError>;
}

/// Whether the store can serve requests now (`/readyz`).
#[async_trait]
pub trait Health: Send + Sync {
    /// `Ok` when the database answers a query within `within` and the store's connections
    /// are not all taken with requests waiting; else what is wrong, for an operator.
    async fn ready(&self, within: std::time::Duration) -> Result<(), String>;
}

/// Everything a backend provides.
pub trait Store:
    RecordWriter + RecordReader + Tenancy + Identity + Log + Health + std::fmt::Debug + 'static
{
}

impl<T: RecordWriter + RecordReader + Tenancy + Identity + Log + Health + std::fmt::Debug + 'static>
    Store for T
{
}
