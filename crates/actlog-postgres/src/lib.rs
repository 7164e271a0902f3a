//! The PostgreSQL backend of the actlog store: for deployments that outgrow one machine, shared
//! by any number of stateless actlog servers (PRODUCT.md §7).
//!
//! Why it is built this way:
//! - **Sequence numbers in commit order, per partner** (`append`): every append of a partner
//!   locks the partner's log row, numbers its records from the log's size and commits; so a
//!   walk whose snapshot is that size sees exactly the records committed before it, on any
//!   server (`read`). The same numbers will be the partner's Merkle log indexes.
//! - **Group commit** (`append`): writer tasks take every queued batch and store each
//!   partner's batches in one transaction, acknowledged after a durable commit.
//! - **Monthly partitions** of `records` (`partitions`), created ahead of time and on demand, so
//!   retention can drop whole months; `record_ids` keeps each id once across partitions.
//! - **Filters** are the shared translation of `actlog_store::sql` in PostgreSQL's spelling
//!   (`dialect`), comparing the folded forms stored with each row (computed in Rust), under
//!   `COLLATE "C"`, so the database's locale never changes a result.
//! - **Migrations** (`migrate`) run at start under an advisory lock: two servers starting at
//!   once on an empty database do not race.
//! - **Citus-ready**: partner-first keys everywhere a partner's data lives (see the schema).
//!
//! Layout: `rows` maps rows to records, `partners` caches partner keys, `tenancy` holds API
//! keys and secrets, `identity` users and sessions.

mod append;
mod cancel;
mod dialect;
mod error;
mod identity;
mod insert;
mod log;
mod migrate;
mod partitions;
mod partners;
mod read;
mod rows;
pub mod scratch;
mod subscriptions;
mod tenancy;

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use actlog_domain::AuditRecord;
use actlog_domain::OperationDate;
use actlog_domain::query::{PageRequest, Query};
use actlog_domain::subscriptions::SubscriptionsAfter;
use actlog_domain::subscriptions::state::CustomerSubscriptions;
use actlog_store::{
    AppendError, AppendReport, BatchStream, Page, RecordReader, RecordStream, RecordWriter,
    StoreError,
};
use async_trait::async_trait;
use deadpool_postgres::{Manager, ManagerConfig, Object, Pool, RecyclingMethod, Runtime};
use futures::StreamExt;

pub use error::OpenError;
pub use migrate::MigrateError;

use append::Writer;
use partitions::{Month, Partitions};
use partners::Partners;

/// How a [`PgStore`] is sized.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PgOptions {
    /// Connections for record queries and the rest (at least 2).
    pub connections: usize,
    /// Connections of their own for API-key, session and user look-ups (at least 1), so that
    /// signing in and authenticating a request never wait behind record queries.
    pub auth_connections: usize,
    /// Connections of their own for scans (exports), which hold one for their whole length
    /// and are not bound by [`PgOptions::statement_timeout`] (at least 1).
    pub scan_connections: usize,
    /// The longest a record query's statement may run (`statement_timeout` on the query
    /// connections), a backstop for a caller's own time limit that failed to cancel it (the
    /// server sets it a second past its own); `None`: no limit.
    pub statement_timeout: Option<Duration>,
    /// Writer tasks, hence partners' groups committed at once (at least 1).
    pub writers: usize,
    /// Batches that may wait for a writer; beyond that, appends get [`StoreError::Busy`].
    pub write_queue: usize,
    /// How long a request waits for a free connection before [`StoreError::Busy`].
    pub connection_wait: Duration,
}

impl Default for PgOptions {
    fn default() -> Self {
        PgOptions {
            connections: 16,
            auth_connections: 2,
            scan_connections: 2,
            statement_timeout: None,
            writers: 4,
            write_queue: 1024,
            connection_wait: Duration::from_secs(10),
        }
    }
}

/// Months ahead of the current one whose partitions are created at start.
const MONTHS_AHEAD: i32 = 2;

/// The PostgreSQL store: a connection pool, writer tasks, partner and partition caches.
pub struct PgStore {
    target: String,
    pool: Pool,
    /// See [`PgOptions::auth_connections`].
    auth: Pool,
    /// See [`PgOptions::scan_connections`].
    scans: Pool,
    partners: Arc<Partners>,
    writer: Writer,
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgStore")
            .field("target", &self.target)
            .finish_non_exhaustive()
    }
}

impl PgStore {
    /// Connects to the database at `url` (`postgres://USER@HOST/DB`), brings its schema up to
    /// date and creates the coming months' partitions. Must run inside a Tokio runtime.
    pub async fn open(url: &str, options: PgOptions) -> Result<PgStore, OpenError> {
        let mut config = tokio_postgres::Config::from_str(url).map_err(OpenError::Url)?;
        // Custom plans for every statement: a prepared statement's generic plan over the
        // partitioned table cannot prune partitions as well, and the id look-up's generic plan
        // scans the partner's ids until statistics exist (tens of ms against under one).
        let settings = match config.get_options() {
            Some(given) => format!("{given} -c plan_cache_mode=force_custom_plan"),
            None => "-c plan_cache_mode=force_custom_plan".to_owned(),
        };
        config.options(&settings);
        let target = describe(&config);
        let mut queries = config.clone();
        if let Some(limit) = options.statement_timeout {
            let settings = format!(
                "{settings} -c statement_timeout={}",
                limit.as_millis().max(1)
            );
            queries.options(&settings);
        }
        let pool = new_pool(queries, options.connections.max(2), &options)?;
        let auth = new_pool(config.clone(), options.auth_connections.max(1), &options)?;
        let scans = new_pool(config.clone(), options.scan_connections.max(1), &options)?;
        // The writers' own connections, used only on their thread.
        let writer_pool = new_pool(config, 2 * options.writers.max(1) + 1, &options)?;
        // Migrations on a connection without the queries' statement limit.
        let mut client = writer_pool
            .get()
            .await
            .map_err(|source| OpenError::Connect {
                target: target.clone(),
                source,
            })?;
        migrate::run(&mut client).await?;
        log::build_missing(&mut client).await?;
        subscriptions::build_missing(&mut client).await?;
        let partitions = Arc::new(Partitions::default());
        let now = OperationDate::from_ticks((jiff::Timestamp::now().as_nanosecond() / 100) as i64);
        let first = Month::of(now);
        let months =
            std::iter::successors(Some(first), |m| Some(m.next())).take(1 + MONTHS_AHEAD as usize);
        partitions.ensure(&mut client, months).await?;
        drop(client);
        let partners = Arc::new(Partners::default());
        let writer = Writer::start(
            writer_pool,
            Arc::clone(&partners),
            partitions,
            options.writers,
            options.write_queue,
        );
        Ok(PgStore {
            target,
            pool,
            auth,
            scans,
            partners,
            writer,
        })
    }

    /// A query connection, whose statement is cancelled if the read is dropped.
    async fn reader(&self) -> Result<cancel::Cancelling, StoreError> {
        let client = self.pool.get().await.map_err(error::pool)?;
        Ok(cancel::Cancelling::new(client))
    }

    /// A connection for key, session and user look-ups (and the other tenancy work).
    async fn auth(&self) -> Result<Object, StoreError> {
        self.auth.get().await.map_err(error::pool)
    }
}

/// A pool of at most `size` connections to `config`.
fn new_pool(
    config: tokio_postgres::Config,
    size: usize,
    options: &PgOptions,
) -> Result<Pool, OpenError> {
    let manager = Manager::from_config(
        config,
        tokio_postgres::NoTls,
        ManagerConfig {
            recycling_method: RecyclingMethod::Fast,
        },
    );
    Pool::builder(manager)
        .max_size(size)
        .runtime(Runtime::Tokio1)
        .wait_timeout(Some(options.connection_wait))
        .create_timeout(Some(options.connection_wait))
        .build()
        .map_err(|e| OpenError::Pool(e.to_string()))
}

/// `user@host:port/db` of a connection config, without any password.
fn describe(config: &tokio_postgres::Config) -> String {
    let host = config
        .get_hosts()
        .first()
        .map(|h| match h {
            tokio_postgres::config::Host::Tcp(name) => name.clone(),
            tokio_postgres::config::Host::Unix(path) => path.display().to_string(),
        })
        .unwrap_or_else(|| "localhost".into());
    let port = config.get_ports().first().copied().unwrap_or(5432);
    format!(
        "{}@{host}:{port}/{}",
        config.get_user().unwrap_or(""),
        config.get_dbname().unwrap_or("")
    )
}

#[async_trait]
impl RecordWriter for PgStore {
    async fn append(
        &self,
        partner: &str,
        records: Vec<AuditRecord>,
    ) -> Result<AppendReport, AppendError> {
        if records.is_empty() {
            return Ok(AppendReport::default());
        }
        self.writer.append(partner, records).await
    }
}

#[async_trait]
impl RecordReader for PgStore {
    async fn page(&self, partner: &str, request: &PageRequest) -> Result<Page, StoreError> {
        let client = self.reader().await?;
        let page = read::page(&client, &self.partners, partner, request).await;
        client.done();
        page
    }

    async fn get(&self, partner: &str, id: &str) -> Result<Option<AuditRecord>, StoreError> {
        let client = self.reader().await?;
        let found = read::get(&client, &self.partners, partner, id).await;
        client.done();
        found
    }

    async fn count(&self, partner: &str, query: &Query) -> Result<u64, StoreError> {
        let client = self.reader().await?;
        let n = read::count(&client, &self.partners, partner, query, None).await;
        client.done();
        n
    }

    async fn count_at_most(
        &self,
        partner: &str,
        query: &Query,
        limit: u64,
    ) -> Result<u64, StoreError> {
        let client = self.reader().await?;
        let n = read::count(&client, &self.partners, partner, query, Some(limit)).await;
        client.done();
        n
    }

    fn scan(&self, partner: &str, query: &Query) -> RecordStream {
        self.scan_batches(partner, query)
            .flat_map(|batch| {
                let items: Vec<Result<AuditRecord, StoreError>> = match batch {
                    Ok(batch) => batch.into_records().into_iter().map(Ok).collect(),
                    Err(e) => vec![Err(e)],
                };
                futures::stream::iter(items)
            })
            .boxed()
    }

    fn scan_batches(&self, partner: &str, query: &Query) -> BatchStream {
        self.scan_any(partner, read::Scan::Query(query.clone()))
    }

    fn scan_log(&self, partner: &str, skip: u64) -> BatchStream {
        self.scan_any(partner, read::Scan::Log { skip })
    }

    async fn subscriptions(
        &self,
        partner: &str,
        customer_id: &str,
        after: Option<&SubscriptionsAfter>,
        size: usize,
    ) -> Result<Option<CustomerSubscriptions>, StoreError> {
        let client = self.reader().await?;
        let found = async {
            match self.partners.find(&client, partner).await? {
                Some(key) => subscriptions::read(&*client, key, customer_id, after, size).await,
                None => Ok(None),
            }
        }
        .await;
        client.done();
        found
    }
}

impl PgStore {
    /// What `scan` names, in batches, on a connection of its own.
    fn scan_any(&self, partner: &str, scan: read::Scan) -> BatchStream {
        let (pool, partners) = (self.scans.clone(), Arc::clone(&self.partners));
        let partner = partner.to_owned();
        let started = async move {
            let client = cancel::Cancelling::new(pool.get().await.map_err(error::pool)?);
            read::scan_batches(client, &partners, partner, scan).await
        };
        futures::stream::once(started)
            .map(|opened| match opened {
                Ok(batches) => batches.boxed(),
                Err(e) => futures::stream::once(async move { Err(e) }).boxed(),
            })
            .flatten()
            .boxed()
    }
}

#[async_trait]
impl actlog_store::Health for PgStore {
    /// Not ready when every connection is taken and requests wait for one, or when the
    /// database does not answer a query within `within`.
    async fn ready(&self, within: Duration) -> Result<(), String> {
        let status = self.pool.status();
        if status.available == 0 && status.waiting > 0 && status.size >= status.max_size {
            return Err(format!(
                "all {} PostgreSQL connections are busy and {} requests wait for one",
                status.max_size, status.waiting
            ));
        }
        let answer = async {
            let client = self.pool.get().await.map_err(|e| e.to_string())?;
            client
                .simple_query("SELECT 1")
                .await
                .map(drop)
                .map_err(|e| e.to_string())
        };
        match tokio::time::timeout(within, answer).await {
            Err(_) => Err(format!("PostgreSQL did not answer within {within:?}")),
            Ok(Err(e)) => Err(format!("PostgreSQL does not answer: {e}")),
            Ok(Ok(())) => Ok(()),
        }
    }
}

/// Rows a batch of [`actlog_store::Log::logged_records`] or tiles reads at once.
const LOG_BATCH: usize = 4096;

#[async_trait]
impl actlog_store::Log for PgStore {
    async fn log_head(&self, partner: &str) -> Result<actlog_store::LogHead, StoreError> {
        let client = self.reader().await?;
        let frontier = match self.partners.find(&client, partner).await? {
            Some(key) => log::head(&*client, key).await?,
            None => Default::default(),
        };
        client.done();
        Ok(actlog_store::LogHead { frontier })
    }

    async fn log_tiles(
        &self,
        partner: &str,
        tiles: &[actlog_tlog::tiles::TileId],
    ) -> Result<actlog_tlog::tiles::TileSet, StoreError> {
        let client = self.reader().await?;
        let set = match self.partners.find(&client, partner).await? {
            Some(key) => log::read_tiles(&*client, key, tiles).await?,
            None => Default::default(),
        };
        client.done();
        Ok(set)
    }

    async fn log_index(&self, partner: &str, id: &str) -> Result<Option<u64>, StoreError> {
        let client = self.reader().await?;
        let index = match self.partners.find(&client, partner).await? {
            Some(key) => log::index_of(&*client, key, id).await?,
            None => None,
        };
        client.done();
        Ok(index)
    }

    async fn log_indexes(
        &self,
        partner: &str,
        ids: &[String],
    ) -> Result<Vec<Option<u64>>, StoreError> {
        let client = self.reader().await?;
        let indexes = match self.partners.find(&client, partner).await? {
            Some(key) => log::indexes_of(&*client, key, ids).await?,
            None => vec![None; ids.len()],
        };
        client.done();
        Ok(indexes)
    }

    async fn unsigned_partners(&self) -> Result<Vec<String>, StoreError> {
        let client = self.reader().await?;
        let partners = log::unsigned_partners(&*client).await?;
        client.done();
        Ok(partners)
    }

    async fn add_checkpoint(
        &self,
        partner: &str,
        checkpoint: &actlog_store::StoredCheckpoint,
    ) -> Result<(), StoreError> {
        let client = self.reader().await?;
        let key = self.partners.ensure(&client, partner).await?;
        log::add_checkpoint(&*client, key, checkpoint).await?;
        client.done();
        Ok(())
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
        let (pool, partners) = (self.scans.clone(), Arc::clone(&self.partners));
        let partner = partner.to_owned();
        actlog_store::log::pages(0i64, move |after| {
            let (pool, partners, partner) = (pool.clone(), Arc::clone(&partners), partner.clone());
            async move {
                let client = pool.get().await.map_err(error::pool)?;
                let (batch, last) = match partners.find(&client, &partner).await? {
                    Some(key) => {
                        log::records_after(&client, key, &partner, after, LOG_BATCH).await?
                    }
                    None => (Vec::new(), after),
                };
                let next = (batch.len() == LOG_BATCH).then_some(last);
                Ok((batch, next))
            }
        })
    }

    fn all_tiles(&self, partner: &str) -> actlog_store::log::TileStream {
        let (pool, partners) = (self.scans.clone(), Arc::clone(&self.partners));
        let partner = partner.to_owned();
        actlog_store::log::pages(None, move |after| {
            let (pool, partners, partner) = (pool.clone(), Arc::clone(&partners), partner.clone());
            async move {
                let client = pool.get().await.map_err(error::pool)?;
                let batch = match partners.find(&client, &partner).await? {
                    Some(key) => log::tiles_after(&client, key, after, LOG_BATCH).await?,
                    None => Vec::new(),
                };
                let next = (batch.len() == LOG_BATCH).then(|| batch.last().map(|(t, _)| *t));
                Ok((batch, next))
            }
        })
    }
}

impl PgStore {
    async fn kept(
        &self,
        partner: &str,
        which: log::Which,
    ) -> Result<Vec<actlog_store::StoredCheckpoint>, StoreError> {
        let client = self.reader().await?;
        let kept = match self.partners.find(&client, partner).await? {
            Some(key) => log::checkpoints(&*client, key, which).await?,
            None => Vec::new(),
        };
        client.done();
        Ok(kept)
    }
}
