//! The store conformance suite, each case on a fresh SQLite file in its own temporary directory.

use std::sync::Arc;

use actlog_conformance::Fresh;
use actlog_sqlite::{SqliteOptions, SqliteStore};

async fn fresh_store() -> Fresh {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let store = SqliteStore::open(&dir.path().join("actlog.db"), SqliteOptions::default())
        .expect("open a fresh store");
    Fresh::new(Arc::new(store), dir)
}

actlog_conformance::conformance_tests!(fresh_store());
