//! `actlog serve`, and opening the store a database URL names.

use std::sync::Arc;

use anyhow::Context;
use tokio::net::TcpListener;

use actlog_postgres::{PgOptions, PgStore};
use actlog_server::tls::Tls;
use actlog_server::{AppState, ServerConfig, SystemClock};
use actlog_sqlite::{SqliteOptions, SqliteStore};
use actlog_store::Store;

use crate::config::{DatabaseUrl, Settings};

/// Opens (creating and migrating as needed) the store behind `url`, sized by default.
pub async fn open_store(url: &DatabaseUrl) -> anyhow::Result<Arc<dyn Store>> {
    open_store_with(url, PgOptions::default(), SqliteOptions::default()).await
}

/// Opens the store behind `url`, a PostgreSQL store sized by `postgres`, a SQLite one by
/// `sqlite`.
pub async fn open_store_with(
    url: &DatabaseUrl,
    postgres: PgOptions,
    sqlite: SqliteOptions,
) -> anyhow::Result<Arc<dyn Store>> {
    match url {
        DatabaseUrl::Sqlite(path) => {
            let path = path.clone();
            let store = tokio::task::spawn_blocking(move || SqliteStore::open(&path, sqlite))
                .await?
                .with_context(|| format!("cannot open {url}"))?;
            Ok(Arc::new(store))
        }
        DatabaseUrl::Postgres(text) => {
            let store = PgStore::open(text, postgres)
                .await
                .with_context(|| format!("cannot open {url}"))?;
            Ok(Arc::new(store))
        }
    }
}

pub async fn run(mut settings: Settings) -> anyhow::Result<()> {
    let tls = match &settings.tls {
        Some(files) => Some(Arc::new(
            Tls::load(&files.certificate, &files.key).context("[tls]")?,
        )),
        None => None,
    };
    reload_on_hangup(tls.clone())?;
    settings.server.checkpoints = Some(signing(&settings.checkpoints, &settings.database)?);
    let store = open_store_with(&settings.database, settings.postgres, settings.sqlite).await?;
    let listener = bind(settings.listen).await?;
    let shutdown = shutdown_signal();
    println!(
        "actlog listening on {}://{} (database {})",
        if tls.is_some() { "https" } else { "http" },
        listener.local_addr()?,
        settings.database
    );
    let state = AppState::new(store, Arc::new(SystemClock), settings.server).await?;
    actlog_server::serve_with(listener, state, tls, shutdown).await?;
    tracing::info!("stopped");
    Ok(())
}

/// Handles SIGHUP, which service managers send for "reload" (the systemd unit's `ExecReload`):
/// with TLS the certificate and key are read again (a failure keeps the ones in use); without
/// it there is nothing to reload and the server says so. Either way the signal never ends the
/// process, as its default action would.
fn reload_on_hangup(tls: Option<Arc<Tls>>) -> anyhow::Result<()> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut hangups = signal(SignalKind::hangup()).context("cannot listen for SIGHUP")?;
    tokio::spawn(async move {
        while hangups.recv().await.is_some() {
            let Some(tls) = &tls else {
                tracing::info!("SIGHUP: nothing to reload (no [tls] configured)");
                continue;
            };
            match tls.reload() {
                Ok(()) => tracing::info!("SIGHUP: TLS certificate and key read again"),
                Err(e) => tracing::error!(
                    error = %e,
                    "SIGHUP: the TLS certificate or key cannot be used; still serving the previous ones"
                ),
            }
        }
    });
    Ok(())
}

/// The deployment's checkpoint signer, its keyring created on first start.
pub fn signing(
    settings: &crate::config::CheckpointSettings,
    database: &DatabaseUrl,
) -> anyhow::Result<actlog_server::state::CheckpointSigning> {
    let keyring = crate::evidence::keyring(settings, database)?;
    Ok(actlog_server::state::CheckpointSigning {
        signer: actlog_app::evidence::Signer::new(keyring),
        interval: settings.interval,
    })
}

/// Binds, explaining the usual failure.
pub async fn bind(addr: std::net::SocketAddr) -> anyhow::Result<TcpListener> {
    TcpListener::bind(addr).await.with_context(|| {
        format!("cannot listen on {addr}; is another server using it? choose another with --listen")
    })
}

/// Serves until `shutdown` ([`shutdown_signal`]), then lets requests in flight finish.
pub async fn serve_on(
    listener: TcpListener,
    store: Arc<dyn Store>,
    config: ServerConfig,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let state = AppState::new(store, Arc::new(SystemClock), config).await?;
    actlog_server::serve(listener, state, shutdown).await?;
    tracing::info!("stopped");
    Ok(())
}

/// Resolves on Ctrl-C or SIGTERM. The handlers are installed here, before the server starts
/// (not when the future is first polled): a SIGTERM the moment the address is printed shuts
/// down gracefully instead of killing the process.
pub fn shutdown_signal() -> impl std::future::Future<Output = ()> + Send + 'static {
    use tokio::signal::unix::{SignalKind, signal};
    let interrupt = signal(SignalKind::interrupt());
    let term = signal(SignalKind::terminate());
    async move {
        let wait = |signal: std::io::Result<tokio::signal::unix::Signal>| async move {
            match signal {
                Ok(mut signal) => {
                    signal.recv().await;
                }
                Err(_) => std::future::pending().await,
            }
        };
        tokio::select! {
            () = wait(interrupt) => {},
            () = wait(term) => {},
        }
        tracing::info!("shutting down");
    }
}
