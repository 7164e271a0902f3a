//! An actlog server in this process, on a fresh SQLite file and a loopback port.

use std::path::Path;
use std::sync::Arc;

use actlog_server::{AppState, ServerConfig, SystemClock};
use actlog_sqlite::{SqliteOptions, SqliteStore};
use actlog_store::{Scopes, Store};

pub struct Running {
    pub url: String,
    pub key: String,
    pub store: Arc<dyn Store>,
}

pub async fn start(path: &Path, partner: &str) -> anyhow::Result<Running> {
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(path, SqliteOptions::default())?);
    let scopes = Scopes {
        read: true,
        write: true,
    };
    let (_, key) = actlog_server::keys::create(store.as_ref(), partner, scopes, "bench").await?;
    let state = AppState::new(
        store.clone(),
        Arc::new(SystemClock),
        ServerConfig::default(),
    )
    .await?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}", listener.local_addr()?);
    tokio::spawn(actlog_server::serve(
        listener,
        state,
        std::future::pending(),
    ));
    Ok(Running { url, key, store })
}
