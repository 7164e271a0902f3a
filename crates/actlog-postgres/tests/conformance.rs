//! The store conformance suite, each case on a new PostgreSQL database (created on the test
//! server, `ACTLOG_TEST_POSTGRES`, and dropped afterwards); a second store opened on the same
//! database stands for a second server.

use std::sync::Arc;

use actlog_conformance::Fresh;
use actlog_postgres::scratch::ScratchDatabase;
use actlog_postgres::{PgOptions, PgStore};

async fn fresh_store() -> Fresh {
    let db = ScratchDatabase::create().await.expect("a test database");
    let options = PgOptions {
        connections: 6,
        ..PgOptions::default()
    };
    let store = PgStore::open(db.url(), options)
        .await
        .expect("open a fresh store");
    let second = PgStore::open(db.url(), options)
        .await
        .expect("open it again");
    Fresh::new(Arc::new(store), db).with_second(Arc::new(second))
}

actlog_conformance::conformance_tests!(fresh_store());
