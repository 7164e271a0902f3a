//! The embedded SQLite backend of the actlog store: actlog's default database, one file,
//! nothing to install (PRODUCT.md §7).
//!
//! Why it is built this way:
//! - **One writer thread, group commit** (`writer`): SQLite has one writer at a time and a
//!   durable commit costs an fsync, so every write is a job queued to a dedicated thread that
//!   commits whatever is queued in one transaction (each job in its own savepoint). An append
//!   returns only once its transaction is fsynced (`synchronous=FULL`, WAL); many clients
//!   sending one record each share fsyncs. A full queue answers `Busy` at once.
//! - **Pools of readers** (`read`): WAL lets reads run beside the writer; each read runs on
//!   a blocking thread with its own connection, and is interrupted when its future is dropped
//!   (`interrupt`). Key, session and user look-ups have a pool of their own, so
//!   authentication never waits behind record queries. Pages are keyset-paginated on
//!   `(operation_date, seq)` within a snapshot; scans (exports) stream through a bounded
//!   channel, from a pool of their own so that long exports never hold up pages.
//! - **Filters** are the shared translation of `actlog_store::sql` in SQLite's spelling
//!   (`dialect`). They compare the folded forms stored with each row
//!   (`actlog_domain::folded`), computed in Rust at insert, so SQL and the reference evaluator
//!   agree exactly and so does every other backend.
//! - **Migrations** (`migrate`) are the `.sql` files of `migrations/`, embedded and applied on
//!   open; an edited or unknown (newer) migration makes `open` fail rather than guess.
//!
//! Layout: `rows` maps records to rows (reading customizedData back in place with
//! `actlog_store::refill`),
//! `scan` streams exports' records in batches, `append` is the ingest job, `subscriptions`
//! keeps the Subscriptions page's projection in the ingest transaction, `partners` caches
//! partner keys, `tenancy` holds API keys and secrets.

mod append;
pub mod backup;
mod checkpoint;
mod connection;
mod dialect;
mod error;
mod identity;
mod interrupt;
mod log;
mod migrate;
mod partners;
mod read;
mod rows;
mod scan;
mod subscriptions;
mod tenancy;
mod writer;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use actlog_domain::AuditRecord;
use actlog_domain::query::{PageRequest, Query};
use actlog_domain::subscriptions::SubscriptionsAfter;
use actlog_domain::subscriptions::state::{Changes, CustomerSubscriptions};
use actlog_store::{
    AppendError, AppendReport, BatchStream, Page, RecordReader, RecordStream, RecordWriter,
    StoreError,
};
use async_trait::async_trait;

pub use error::OpenError;
pub use migrate::MigrateError;

use checkpoint::Checkpointer;
use connection::Role;
use partners::Partners;
use read::Readers;
use writer::Writer;

/// How a [`SqliteStore`] is sized.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SqliteOptions {
    /// Connections for short reads (pages, counts, look-ups), hence such reads running at once
    /// (at least 1).
    pub readers: usize,
    /// Connections for scans (exports), hence scans running at once (at least 1); more wait.
    /// Separate from `readers` because a scan holds its connection for its whole length, and
    /// exports must not stall the dashboard.
    pub scans: usize,
    /// Connections for API-key, session and user look-ups (at least 1): their own, so that
    /// signing in and authenticating a request never wait behind record queries.
    pub auth_readers: usize,
    /// Write jobs (batches) that may wait for the writer; beyond that, writes get
    /// [`StoreError::Busy`] (at least 1).
    pub write_queue: usize,
}

impl Default for SqliteOptions {
    fn default() -> Self {
        SqliteOptions {
            readers: 4,
            scans: 2,
            auth_readers: 2,
            write_queue: 1024,
        }
    }
}

/// The SQLite store: one database file, one writer thread, a pool of readers.
pub struct SqliteStore {
    path: PathBuf,
    options: SqliteOptions,
    writer: Writer,
    readers: Arc<Readers>,
    scanners: Arc<Readers>,
    /// Look-ups of keys, sessions and users (see [`SqliteOptions::auth_readers`]).
    auth: Arc<Readers>,
    partners: Arc<Partners>,
    /// Declared last: dropped after the writer, so its last checkpoint sees every commit.
    _checkpointer: Checkpointer,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.path)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl SqliteStore {
    /// Opens the database at `path`, creating it if needed, and brings its schema up to date.
    /// Blocks briefly (file I/O, migrations); call it at start-up.
    pub fn open(path: &Path, options: SqliteOptions) -> Result<SqliteStore, OpenError> {
        let failed = |source| OpenError::Database {
            path: path.to_owned(),
            source,
        };
        let mut conn = connection::open(path, Role::Writer).map_err(failed)?;
        migrate::run(&mut conn).map_err(|source| OpenError::Migration {
            path: path.to_owned(),
            source,
        })?;
        log::build_missing(&mut conn).map_err(failed)?;
        subscriptions::build_missing(&mut conn).map_err(failed)?;
        let partners = Arc::new(Partners::default());
        let pool = |size: usize, role| {
            let conns = (0..size.max(1))
                .map(|_| connection::open(path, role))
                .collect::<Result<Vec<_>, _>>()
                .map_err(failed)?;
            Ok::<_, OpenError>(Readers::new(conns, Arc::clone(&partners)))
        };
        let readers = pool(options.readers, Role::Reader)?;
        let scanners = pool(options.scans, Role::Scanner)?;
        let auth = pool(options.auth_readers, Role::Scanner)?;
        let checkpointer =
            Checkpointer::start(connection::open(path, Role::Writer).map_err(failed)?)
                .map_err(OpenError::Thread)?;
        let writer = Writer::start(conn, options.write_queue).map_err(OpenError::Thread)?;
        Ok(SqliteStore {
            _checkpointer: checkpointer,
            path: path.to_owned(),
            options,
            writer,
            readers,
            scanners,
            auth,
            partners,
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

#[async_trait]
impl RecordWriter for SqliteStore {
    async fn append(
        &self,
        partner: &str,
        records: Vec<AuditRecord>,
    ) -> Result<AppendReport, AppendError> {
        if records.is_empty() {
            return Ok(AppendReport::default());
        }
        let known = self.partners.cached(partner);
        let owned = partner.to_owned();
        // Hashed here, on the caller's task, beside other requests rather than on the writer.
        let leaves: Vec<_> = records
            .iter()
            .map(|r| actlog_store::log::leaf_of(partner, r))
            .collect();
        let changes: Vec<_> = records.iter().map(Changes::of).collect();
        let (report, key) = self
            .writer
            .run(records.len(), move |conn| {
                append::append(conn, &owned, known, &records, &leaves, changes)
            })
            .await?;
        if known.is_none() {
            // Committed now, so safe to cache (see `partners`).
            self.partners.remember(partner, key);
        }
        Ok(report)
    }
}

#[async_trait]
impl RecordReader for SqliteStore {
    async fn page(&self, partner: &str, request: &PageRequest) -> Result<Page, StoreError> {
        let (partner, request) = (partner.to_owned(), request.clone());
        self.readers
            .run(move |conn, partners| read::page(conn, partners, &partner, &request))
            .await
    }

    async fn get(&self, partner: &str, id: &str) -> Result<Option<AuditRecord>, StoreError> {
        let (partner, id) = (partner.to_owned(), id.to_owned());
        self.readers
            .run(move |conn, partners| read::get(conn, partners, &partner, &id))
            .await
    }

    async fn count(&self, partner: &str, query: &Query) -> Result<u64, StoreError> {
        let (partner, query) = (partner.to_owned(), query.clone());
        self.readers
            .run(move |conn, partners| read::count(conn, partners, &partner, &query, None))
            .await
    }

    async fn count_at_most(
        &self,
        partner: &str,
        query: &Query,
        limit: u64,
    ) -> Result<u64, StoreError> {
        let (partner, query) = (partner.to_owned(), query.clone());
        self.readers
            .run(move |conn, partners| read::count(conn, partners, &partner, &query, Some(limit)))
            .await
    }

    fn scan(&self, partner: &str, query: &Query) -> RecordStream {
        scan::scan(&self.scanners, partner, query)
    }

    fn scan_batches(&self, partner: &str, query: &Query) -> BatchStream {
        scan::scan_batches(&self.scanners, partner, query)
    }

    fn scan_log(&self, partner: &str, skip: u64) -> BatchStream {
        scan::scan_any(&self.scanners, partner, scan::Scan::Log { skip })
    }

    async fn subscriptions(
        &self,
        partner: &str,
        customer_id: &str,
        after: Option<&SubscriptionsAfter>,
        size: usize,
    ) -> Result<Option<CustomerSubscriptions>, StoreError> {
        let (partner, customer) = (partner.to_owned(), customer_id.to_owned());
        let after = after.cloned();
        self.readers
            .run(move |conn, partners| match partners.find(conn, &partner)? {
                Some(key) => subscriptions::read(conn, key, &customer, after.as_ref(), size),
                None => Ok(None),
            })
            .await
    }
}

#[async_trait]
impl actlog_store::Health for SqliteStore {
    /// A read on a reader connection and a no-op through the writer, each within `within`:
    /// a writer stuck behind work (or a disk that stopped answering) is as unready as a
    /// reader pool with every connection taken.
    async fn ready(&self, within: std::time::Duration) -> Result<(), String> {
        let read = self
            .readers
            .run(|conn, _| conn.query_row("SELECT 1", [], |r| r.get::<_, i64>(0)));
        match tokio::time::timeout(within, read).await {
            Err(_) => return Err(format!("no reader connection answered within {within:?}")),
            Ok(Err(e)) => return Err(format!("the database does not answer reads: {e}")),
            Ok(Ok(_)) => {}
        }
        let write = self
            .writer
            .run(1, |_conn| Ok::<(), actlog_store::StoreError>(()));
        match tokio::time::timeout(within, write).await {
            Err(_) => Err(format!("the writer did not take work within {within:?}")),
            Ok(Err(e)) => Err(format!("the writer fails: {e}")),
            Ok(Ok(())) => Ok(()),
        }
    }
}

/// Rows a batch of [`actlog_store::Log::logged_records`] or tiles reads at once.
const LOG_BATCH: usize = 4096;

#[async_trait]
impl actlog_store::Log for SqliteStore {
    async fn log_head(&self, partner: &str) -> Result<actlog_store::LogHead, StoreError> {
        let partner = partner.to_owned();
        let frontier = self
            .readers
            .run(move |conn, partners| match partners.find(conn, &partner)? {
                Some(key) => log::head(conn, key),
                None => Ok(Default::default()),
            })
            .await?;
        Ok(actlog_store::LogHead { frontier })
    }

    async fn log_tiles(
        &self,
        partner: &str,
        tiles: &[actlog_tlog::tiles::TileId],
    ) -> Result<actlog_tlog::tiles::TileSet, StoreError> {
        let (partner, tiles) = (partner.to_owned(), tiles.to_vec());
        self.readers
            .run(move |conn, partners| match partners.find(conn, &partner)? {
                Some(key) => log::read_tiles(conn, key, &tiles),
                None => Ok(Default::default()),
            })
            .await
    }

    async fn log_index(&self, partner: &str, id: &str) -> Result<Option<u64>, StoreError> {
        let (partner, id) = (partner.to_owned(), id.to_owned());
        self.readers
            .run(move |conn, partners| match partners.find(conn, &partner)? {
                Some(key) => log::index_of(conn, key, &id),
                None => Ok(None),
            })
            .await
    }

    async fn log_indexes(
        &self,
        partner: &str,
        ids: &[String],
    ) -> Result<Vec<Option<u64>>, StoreError> {
        let (partner, ids) = (partner.to_owned(), ids.to_vec());
        self.readers
            .run(move |conn, partners| match partners.find(conn, &partner)? {
                Some(key) => ids.iter().map(|id| log::index_of(conn, key, id)).collect(),
                None => Ok(vec![None; ids.len()]),
            })
            .await
    }

    async fn unsigned_partners(&self) -> Result<Vec<String>, StoreError> {
        self.readers
            .run(move |conn, _| log::unsigned_partners(conn))
            .await
    }

    async fn add_checkpoint(
        &self,
        partner: &str,
        checkpoint: &actlog_store::StoredCheckpoint,
    ) -> Result<(), StoreError> {
        let (partner, checkpoint) = (partner.to_owned(), checkpoint.clone());
        self.writer
            .run(1, move |conn| {
                let key = partners::ensure_row(conn, &partner).map_err(error::db)?.0;
                log::add_checkpoint(conn, key, &checkpoint).map_err(error::db)
            })
            .await
    }

    async fn latest_checkpoint(
        &self,
        partner: &str,
    ) -> Result<Option<actlog_store::StoredCheckpoint>, StoreError> {
        Ok(self.kept(partner, log::Which::Latest).await?.pop())
    }

    async fn checkpoint_at(
        &self,
        partner: &str,
        size: u64,
    ) -> Result<Option<actlog_store::StoredCheckpoint>, StoreError> {
        Ok(self.kept(partner, log::Which::At(size)).await?.pop())
    }

    async fn checkpoints(
        &self,
        partner: &str,
    ) -> Result<Vec<actlog_store::StoredCheckpoint>, StoreError> {
        self.kept(partner, log::Which::All).await
    }

    fn logged_records(&self, partner: &str) -> actlog_store::log::LoggedStream {
        let (readers, partner) = (Arc::clone(&self.scanners), partner.to_owned());
        actlog_store::log::pages(0i64, move |after| {
            let (readers, partner) = (Arc::clone(&readers), partner.clone());
            async move {
                let (batch, last) = readers
                    .run(move |conn, partners| match partners.find(conn, &partner)? {
                        Some(key) => log::records_after(conn, key, &partner, after, LOG_BATCH),
                        None => Ok((Vec::new(), after)),
                    })
                    .await?;
                let next = (batch.len() == LOG_BATCH).then_some(last);
                Ok((batch, next))
            }
        })
    }

    fn all_tiles(&self, partner: &str) -> actlog_store::log::TileStream {
        let (readers, partner) = (Arc::clone(&self.scanners), partner.to_owned());
        actlog_store::log::pages(None, move |after| {
            let (readers, partner) = (Arc::clone(&readers), partner.clone());
            async move {
                let batch = readers
                    .run(move |conn, partners| match partners.find(conn, &partner)? {
                        Some(key) => log::tiles_after(conn, key, after, LOG_BATCH),
                        None => Ok(Vec::new()),
                    })
                    .await?;
                let next = (batch.len() == LOG_BATCH).then(|| batch.last().map(|(t, _)| *t));
                Ok((batch, next))
            }
        })
    }
}

impl SqliteStore {
    async fn kept(
        &self,
        partner: &str,
        which: log::Which,
    ) -> Result<Vec<actlog_store::StoredCheckpoint>, StoreError> {
        let partner = partner.to_owned();
        self.readers
            .run(move |conn, partners| match partners.find(conn, &partner)? {
                Some(key) => log::checkpoints(conn, key, which),
                None => Ok(Vec::new()),
            })
            .await
    }
}
