//! What every handler shares.

use std::sync::Arc;
use std::time::Duration;

pub use actlog_app::clock::{Clock, SystemClock};
use actlog_domain::cursor::CursorKey;
use actlog_domain::roles::AccessPolicy;
use actlog_store::Store;
use tokio::sync::Semaphore;

use crate::identity::session::SessionSettings;
use crate::identity::throttle::Throttle;
use crate::key_cache::KeyCache;

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
        Limits {
            max_batch_records: 10_000,
            max_body_bytes: 32 * 1024 * 1024,
            max_concurrent_ingest: 256,
        }
    }
}

/// Which cloud a deployment serves (PRODUCT §3 item 8): shown on every page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Cloud {
    #[default]
    Public,
    UsGov,
}

impl Cloud {
    pub fn parse(text: &str) -> Option<Cloud> {
        match text.trim().to_ascii_lowercase().as_str() {
            "public" => Some(Cloud::Public),
            "usgov" => Some(Cloud::UsGov),
            _ => None,
        }
    }
}

/// How the server behaves: limits, who may see the log, sessions.
#[derive(Debug, Clone, Default)]
pub struct ServerConfig {
    pub limits: Limits,
    /// Which roles may view and export the activity log.
    pub policy: AccessPolicy,
    pub sessions: SessionSettings,
    pub cloud: Cloud,
}

/// Shared state of the server.
#[derive(Debug, Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub cursor_key: CursorKey,
    pub clock: Arc<dyn Clock>,
    pub config: Arc<ServerConfig>,
    pub ingest_slots: Arc<Semaphore>,
    /// API keys recently read from the store.
    pub api_keys: Arc<KeyCache>,
    /// Failed sign-ins per account (counted in the store, shared by every server).
    pub account_failures: Throttle,
    /// Failed sign-ins per client address (counted in the store, shared by every server).
    pub address_failures: Throttle,
}

impl AppState {
    /// State over `store`, loading (or creating) the deployment's cursor key from it.
    pub async fn new(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        config: ServerConfig,
    ) -> Result<Self, actlog_store::StoreError> {
        let secret = store
            .secret(
                "cursor-key",
                actlog_app::keys::random_bytes::<32>().to_vec(),
            )
            .await?;
        Ok(AppState {
            store,
            cursor_key: CursorKey::new(secret),
            clock,
            ingest_slots: Arc::new(Semaphore::new(config.limits.max_concurrent_ingest)),
            api_keys: Arc::default(),
            config: Arc::new(config),
            account_failures: Throttle::new("account", 5, Duration::from_secs(15 * 60)),
            address_failures: Throttle::new("address", 30, Duration::from_secs(15 * 60)),
        })
    }

    pub fn limits(&self) -> Limits {
        self.config.limits
    }
}
