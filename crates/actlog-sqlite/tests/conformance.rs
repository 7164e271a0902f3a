//! The store conformance suite, each case on a fresh SQLite file in its own temporary directory
//! (a second store opened on the same file stands for a second process).

use std::sync::Arc;

use actlog_conformance::Fresh;
use actlog_sqlite::{SqliteOptions, SqliteStore};

async fn fresh_store() -> Fresh {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("actlog.db");
    let store = SqliteStore::open(&path, SqliteOptions::default()).expect("open a fresh store");
    let second = SqliteStore::open(&path, SqliteOptions::default()).expect("open it again");
    Fresh::new(Arc::new(store), dir).with_second(Arc::new(second))
}

actlog_conformance::conformance_tests!(fresh_store());
