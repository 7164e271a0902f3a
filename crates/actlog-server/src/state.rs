//! What every handler shares.

use std::sync::Arc;

use actlog_domain::cursor::CursorKey;
use actlog_domain::time::OperationDate;
use actlog_store::Store;
use tokio::sync::Semaphore;

/// Limits that protect the server from oversized or excessive requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Most records one ingest request may carry (more → 413).
    pub max_batch_records: usize,
    /// Most bytes one ingest request body may have (more → 413).
    pub max_body_bytes: usize,
    /// Most ingest requests handled at once; more are answered 503 with Retry-After.
    pub max_concurrent_ingest: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { max_batch_records: 10_000, max_body_bytes: 32 * 1024 * 1024, max_concurrent_ingest: 256 }
    }
}

/// The time source, injected so that "the most recent month" is testable.
pub trait Clock: Send + Sync + std::fmt::Debug {
    fn now(&self) -> OperationDate;
}

/// The system's clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> OperationDate {
        let now = jiff::Timestamp::now();
        // Drop sub-100 ns precision, which OperationDate does not hold.
        let ticks = now.as_nanosecond() / 100;
        OperationDate::from_ticks(ticks as i64)
    }
}

/// Shared state of the server.
#[derive(Debug, Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub cursor_key: CursorKey,
    pub clock: Arc<dyn Clock>,
    pub limits: Limits,
    pub ingest_slots: Arc<Semaphore>,
}

impl AppState {
    /// State over `store`, loading (or creating) the deployment's cursor key from it.
    pub async fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>, limits: Limits) -> Result<Self, actlog_store::StoreError> {
        let secret = store.secret("cursor-key", crate::keys::random_bytes::<32>().to_vec()).await?;
        Ok(AppState {
            store,
            cursor_key: CursorKey::new(secret),
            clock,
            limits,
            ingest_slots: Arc::new(Semaphore::new(limits.max_concurrent_ingest)),
        })
    }
}
