//! An actlog server in this process, on a given store and a loopback port.
//!
//! Any number of them can share one store's database (the PostgreSQL backend is made for
//! that): [`start`] creates the partner's API key in the store, [`serve`] starts another
//! server that the same key works on.

use std::sync::Arc;

use actlog_server::{AppState, ServerConfig, SystemClock};
use actlog_store::{Scopes, Store};

/// A server running in this process.
pub struct Running {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    /// The partner served.
    pub partner: String,
    /// A read-write API key of the partner.
    pub key: String,
    pub store: Arc<dyn Store>,
}

/// A server on `store`, with a new read-write key for `partner`.
pub async fn start(store: Arc<dyn Store>, partner: &str) -> anyhow::Result<Running> {
    let scopes = Scopes {
        read: true,
        write: true,
    };
    let (_, key) = actlog_app::keys::create(store.as_ref(), partner, scopes, "bench").await?;
    serve(store, partner, key).await
}

/// A server on `store`, whose database already holds `key`, a key of `partner`'s.
pub async fn serve(store: Arc<dyn Store>, partner: &str, key: String) -> anyhow::Result<Running> {
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
    Ok(Running {
        url,
        partner: partner.to_owned(),
        key,
        store,
    })
}
