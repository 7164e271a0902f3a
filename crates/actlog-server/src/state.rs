//! What every handler shares.

use std::sync::Arc;
use std::time::Duration;

pub use actlog_app::clock::{Clock, SystemClock};
use actlog_domain::OperationDate;
use actlog_domain::cursor::CursorKey;
use actlog_domain::roles::AccessPolicy;
use actlog_store::{Identity, Store, StoreError};

use crate::bodies::BodyBudget;
use crate::client_addr::TrustedProxies;
use crate::error::ApiError;
use crate::identity::session::SessionSettings;
use crate::identity::throttle::{SignInGate, Throttle};
use crate::key_cache::KeyCache;
use crate::metrics::{Metrics, MetricsSettings};
use crate::shares::Shares;

/// Limits that protect the server from oversized, slow or excessive requests (PRODUCT §9): no
/// client, signed in or not, may hold the server's sockets, memory or ingest for others.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Most records one ingest request may carry (more → 413).
    pub max_batch_records: usize,
    /// Most bytes one ingest request body may have (more → 413).
    pub max_body_bytes: usize,
    /// Most ingest requests handled at once, counted once their body has arrived; more are
    /// answered 503 with Retry-After.
    pub max_concurrent_ingest: usize,
    /// The share, in percent, of the ingest slots one partner may hold (at least one): past
    /// it, 429 with Retry-After, so one partner's flood leaves the others their slots.
    pub ingest_share_percent: u64,
    /// Most bytes of ingest bodies held at once by all requests together, counted as they
    /// arrive; a request that would go past it is answered 503 with Retry-After.
    pub max_body_bytes_in_flight: usize,
    /// Most connections open at once. At the cap the longest-idle connection is closed to make
    /// room; when none is idle the new one is answered 503 and closed.
    pub max_connections: usize,
    /// Most connections open at once from one TCP peer address (trusted proxies excepted:
    /// every client behind them shares their address). Past it, that address's newcomer is
    /// answered 503 and closed, while other addresses are still served.
    pub max_connections_per_address: usize,
    /// How long a client may take to send a request's headers, and also how long a kept-alive
    /// connection may sit idle before its next request (hyper times both with one timer).
    pub header_timeout: Duration,
    /// How long a request body may take beyond what [`Limits::min_body_rate`] allows for the
    /// bytes received so far; slower bodies are answered 408.
    pub body_timeout: Duration,
    /// The slowest a request body may arrive on average, in bytes per second: each byte
    /// received extends the body's deadline by `1 / min_body_rate` seconds.
    pub min_body_rate: u64,
    /// The longest a record query (a page, a look-up, a count) may run; it is then stopped in
    /// the database and answered 503 `query_timeout`. A query whose client goes away is
    /// stopped at once.
    pub statement_timeout: Duration,
    /// Most record queries running at once (the store's query connections: SQLite readers,
    /// PostgreSQL's statements over `[postgres] connections`).
    pub max_concurrent_queries: usize,
    /// Most exports streaming at once (the store's scan connections).
    pub max_concurrent_exports: usize,
    /// The share, in percent, of the query slots one partner may hold (at least one): past
    /// it, 429 with Retry-After.
    pub query_share_percent: u64,
    /// The share, in percent, of the export slots one partner may hold (at least one).
    pub export_share_percent: u64,
    /// How long a query or export waits for a free slot before it is answered 503.
    pub slot_wait: Duration,
    /// How long an export may wait for its client to take the next chunk; a client that
    /// stops reading is then dropped and its export slot freed. Any response's client that
    /// takes nothing for this long is disconnected (its socket reset), so a stalled client
    /// holds neither a connection nor the kernel's buffers.
    pub export_send_timeout: Duration,
    /// Connections of their own for API-key, session and user look-ups, so that signing in
    /// and authenticating never wait behind record queries.
    pub auth_connections: usize,
    /// How long, once asked to stop, the server lets requests in flight (exports too) finish;
    /// connections still busy then are closed.
    pub shutdown_grace: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_batch_records: 10_000,
            max_body_bytes: 32 * 1024 * 1024,
            max_concurrent_ingest: 256,
            ingest_share_percent: 50,
            max_body_bytes_in_flight: 256 * 1024 * 1024,
            max_connections: 512,
            max_connections_per_address: 256,
            header_timeout: Duration::from_secs(30),
            body_timeout: Duration::from_secs(30),
            min_body_rate: 16 * 1024,
            statement_timeout: Duration::from_secs(10),
            max_concurrent_queries: 8,
            max_concurrent_exports: 4,
            query_share_percent: 50,
            export_share_percent: 50,
            slot_wait: Duration::from_secs(2),
            export_send_timeout: Duration::from_secs(30),
            auth_connections: 2,
            shutdown_grace: Duration::from_secs(30),
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
    pub sign_in: SignInSettings,
    /// Signing in with Microsoft Entra ID (`[sso]`), when configured.
    pub sso: Option<Arc<crate::sso::Sso>>,
    /// Signing partners' checkpoints, when the deployment's keyring is loaded.
    pub checkpoints: Option<CheckpointSigning>,
    /// `/metrics` (`[metrics]`).
    pub metrics: MetricsSettings,
}

/// The deployment's checkpoint signer and how often the server signs the logs that grew.
#[derive(Debug, Clone)]
pub struct CheckpointSigning {
    pub signer: actlog_app::evidence::Signer,
    pub interval: std::time::Duration,
}

/// How sign-in attempts are counted and bounded.
#[derive(Debug, Clone)]
pub struct SignInSettings {
    /// Proxies whose `X-Forwarded-For` names the client (none by default).
    pub trusted_proxies: TrustedProxies,
    /// Most password checks running at once (each holds about 19 MiB while it runs).
    pub concurrent_checks: usize,
}

impl Default for SignInSettings {
    fn default() -> Self {
        SignInSettings {
            trusted_proxies: TrustedProxies::default(),
            concurrent_checks: 4,
        }
    }
}

/// How long a failed sign-in counts.
const FAILURE_WINDOW: Duration = Duration::from_secs(15 * 60);
/// How long a sign-in attempt may wait for a password check before it is answered 503.
const CHECK_QUEUE_WAIT: Duration = Duration::from_secs(5);

/// The three counts of failed sign-ins: each free up to its number of failures within the
/// window, then backing off (`identity::throttle`).
#[derive(Debug, Clone, Copy)]
pub struct SignInThrottles {
    /// One account from one client address: the owner's own mistakes, and a guesser's.
    pub account_from_address: Throttle,
    /// One account from anywhere: a guessing attack spread over many addresses.
    pub account: Throttle,
    /// One client address, whatever the account: one guesser trying many accounts.
    pub address: Throttle,
}

impl SignInThrottles {
    /// The key of one account from one address.
    fn pair(email: &str, address: &str) -> String {
        format!("{email} {address}")
    }

    /// How long an attempt on `email` from `address` must wait (the longest of the three),
    /// `None` when it may try now.
    pub async fn wait(
        &self,
        store: &dyn Identity,
        email: &str,
        address: &str,
        now: OperationDate,
    ) -> Result<Option<Duration>, StoreError> {
        let pair = Self::pair(email, address);
        Ok([
            self.account_from_address.wait(store, &pair, now).await?,
            self.account.wait(store, email, now).await?,
            self.address.wait(store, address, now).await?,
        ]
        .into_iter()
        .flatten()
        .max())
    }

    /// Counts a failed attempt on `email` from `address` in all three.
    pub async fn fail(
        &self,
        store: &dyn Identity,
        email: &str,
        address: &str,
        now: OperationDate,
    ) -> Result<(), StoreError> {
        let pair = Self::pair(email, address);
        self.account_from_address.fail(store, &pair, now).await?;
        self.account.fail(store, email, now).await?;
        self.address.fail(store, address, now).await
    }

    /// After a right password: the owner's own failures from this address are forgotten (the
    /// account's and the address's counts stand, so an attacker cannot reset them).
    pub async fn succeed(
        &self,
        store: &dyn Identity,
        email: &str,
        address: &str,
    ) -> Result<(), StoreError> {
        self.account_from_address
            .clear(store, &Self::pair(email, address))
            .await
    }
}

impl Default for SignInThrottles {
    fn default() -> Self {
        SignInThrottles {
            account_from_address: Throttle::new("account-address", 5, FAILURE_WINDOW),
            account: Throttle::new("account", 20, FAILURE_WINDOW),
            address: Throttle::new("address", 30, FAILURE_WINDOW),
        }
    }
}

/// Shared state of the server.
#[derive(Debug, Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub cursor_key: CursorKey,
    pub clock: Arc<dyn Clock>,
    pub config: Arc<ServerConfig>,
    /// The ingest requests handled at once, shared out by partner.
    pub ingest: Arc<Shares>,
    /// Bytes of ingest bodies that may be held at once ([`Limits::max_body_bytes_in_flight`]),
    /// shared out by partner.
    pub body_bytes: Arc<BodyBudget>,
    /// API keys recently read from the store.
    pub api_keys: Arc<KeyCache>,
    /// Failed sign-ins (counted in the store, shared by every server).
    pub sign_in_failures: SignInThrottles,
    /// Bounds the password checks running at once.
    pub sign_in_gate: Arc<SignInGate>,
    /// The record queries running at once, shared out by partner.
    pub queries: Arc<Shares>,
    /// The exports streaming at once, shared out by partner.
    pub exports: Arc<Shares>,
    /// What `/metrics` counts.
    pub metrics: Arc<Metrics>,
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
            // No wait: a batch already held in memory is answered at once rather than queued.
            ingest: Shares::new(
                "ingest requests",
                config.limits.max_concurrent_ingest,
                config.limits.ingest_share_percent,
                Duration::ZERO,
            ),
            body_bytes: BodyBudget::new(
                config.limits.max_body_bytes_in_flight,
                config.limits.ingest_share_percent,
            ),
            api_keys: Arc::default(),
            sign_in_failures: SignInThrottles::default(),
            sign_in_gate: Arc::new(SignInGate::new(
                config.sign_in.concurrent_checks,
                CHECK_QUEUE_WAIT,
            )),
            queries: Shares::new(
                "queries",
                config.limits.max_concurrent_queries,
                config.limits.query_share_percent,
                config.limits.slot_wait,
            ),
            exports: Shares::new(
                "exports",
                config.limits.max_concurrent_exports,
                config.limits.export_share_percent,
                config.limits.slot_wait,
            ),
            config: Arc::new(config),
            metrics: Arc::default(),
        })
    }

    pub fn limits(&self) -> Limits {
        self.config.limits
    }

    /// Runs the store read `read` for `partner` in one of its query slots, within the
    /// statement time limit. Past the limit the read is dropped, which stops it in the
    /// database, and answered 503 `query_timeout`.
    pub async fn query<T>(
        &self,
        partner: &str,
        read: impl Future<Output = Result<T, StoreError>>,
    ) -> Result<T, ApiError> {
        let _slot = self.queries.take(partner).await?;
        match tokio::time::timeout(self.limits().statement_timeout, read).await {
            Ok(done) => Ok(done?),
            Err(_) => {
                Metrics::add(&self.metrics.statement_timeouts, 1);
                Err(ApiError::query_timeout(self.limits().statement_timeout))
            }
        }
    }
}
