//! What a database file holds across restarts, and what it refuses.

use actlog_conformance::data::DataSet;
use actlog_domain::OperationDate;
use actlog_domain::query::{PageRequest, Query, Window};
use actlog_sqlite::{OpenError, SqliteOptions, SqliteStore};
use actlog_store::{RecordReader, RecordWriter};

fn everything() -> Query {
    Query {
        window: Window {
            start: OperationDate::MIN,
            end: None,
        },
        filter: None,
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_reopened_database_holds_every_appended_record() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("actlog.db");
    let records = DataSet::new("p1", "r", 3).take(1_000);
    {
        let store = SqliteStore::open(&path, SqliteOptions::default()).unwrap();
        let appends = records
            .chunks(10)
            .map(|batch| store.append("p1", batch.to_vec()));
        for report in futures::future::join_all(appends).await {
            assert_eq!(report.unwrap().stored, 10);
        }
    }
    let store = SqliteStore::open(&path, SqliteOptions::default()).unwrap();
    assert_eq!(store.count("p1", &everything()).await.unwrap(), 1_000);
    for record in &records {
        assert_eq!(
            store.get("p1", &record.id).await.unwrap().as_ref(),
            Some(record)
        );
    }
    let retry = store.append("p1", records[..100].to_vec()).await.unwrap();
    assert_eq!(
        (retry.stored, retry.unchanged),
        (0, 100),
        "ids survive a restart"
    );
    let request = PageRequest {
        query: everything(),
        size: 5,
        after: None,
        snapshot: None,
    };
    assert_eq!(store.page("p1", &request).await.unwrap().snapshot, 1_000);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_database_whose_migration_was_edited_refuses_to_open() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("actlog.db");
    drop(SqliteStore::open(&path, SqliteOptions::default()).unwrap());
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute(
        "UPDATE schema_migrations SET checksum = 'tampered' WHERE version = 1",
        [],
    )
    .unwrap();
    drop(conn);
    let err = SqliteStore::open(&path, SqliteOptions::default()).unwrap_err();
    assert!(matches!(err, OpenError::Migration { .. }), "{err:?}");
    let message = format!("{err}: {}", std::error::Error::source(&err).unwrap());
    for part in ["0001_initial", "never be edited", "actlog.db"] {
        assert!(message.contains(part), "{part:?} missing from: {message}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_database_from_a_newer_actlog_refuses_to_open() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("actlog.db");
    drop(SqliteStore::open(&path, SqliteOptions::default()).unwrap());
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute(
        "INSERT INTO schema_migrations VALUES (999, '0999_future', 'x', 0)",
        [],
    )
    .unwrap();
    drop(conn);
    let err = SqliteStore::open(&path, SqliteOptions::default()).unwrap_err();
    let message = format!("{err}: {}", std::error::Error::source(&err).unwrap());
    assert!(
        message.contains("999") && message.contains("newer"),
        "{message}"
    );
}

/// Committed pages reach the database file while the store runs, not only when the log grows
/// to the writer's backstop: the checkpoint thread copies them back beside the writes.
#[tokio::test(flavor = "multi_thread")]
async fn the_log_is_checkpointed_while_the_store_runs() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("actlog.db");
    let store = SqliteStore::open(&path, SqliteOptions::default()).unwrap();
    let before = std::fs::metadata(&path).unwrap().len();
    let records = DataSet::new("p1", "c", 5).take(3_000);
    for batch in records.chunks(500) {
        store.append("p1", batch.to_vec()).await.unwrap();
    }
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let size = std::fs::metadata(&path).unwrap().len();
        if size > before + 1_000_000 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the database file stayed at {size} bytes (from {before}): nothing was checkpointed"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(store.count("p1", &everything()).await.unwrap(), 3_000);
}

/// Stores 3,000 realistic records of partner `p1`, newest first (as an import of older
/// history after newer records leaves them), then turns the database back into one of an
/// earlier schema with `downgrade`; opens it again and checks the projection it builds.
async fn projection_built_on_open_after(downgrade: &str) {
    use actlog_conformance::data::{DAY, base_date, realistic};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("actlog.db");
    let records: Vec<_> = (0..3_000u64)
        .map(|n| {
            let date =
                OperationDate::from_ticks(base_date().ticks() + (3_000 - n as i64 / 7) * DAY / 100);
            realistic("p1", n, date)
        })
        .collect();
    {
        let store = SqliteStore::open(&path, SqliteOptions::default()).unwrap();
        for batch in records.chunks(500) {
            store.append("p1", batch.to_vec()).await.unwrap();
        }
    }
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch(downgrade).unwrap();
    drop(conn);
    let store = SqliteStore::open(&path, SqliteOptions::default()).unwrap();
    for customer in ["cust-0000", "CUST-0007", "cust-0499", "cust-0500"] {
        let kept = store
            .subscriptions("p1", customer, None, usize::MAX)
            .await
            .unwrap();
        assert_eq!(
            kept,
            actlog_conformance::folded(&store, "p1", customer).await,
            "{customer}"
        );
        assert_eq!(kept.is_some(), customer != "cust-0500");
    }
    let page = store
        .subscriptions("p1", "cust-0007", None, 100)
        .await
        .unwrap()
        .unwrap();
    assert!(!page.subscriptions.is_empty());
    assert_eq!(page.total, page.subscriptions.len() as u64);
    // Records stored after the build merge into it.
    let later = realistic("p1", 7 + 500 * 10, base_date());
    store.append("p1", vec![later]).await.unwrap();
    assert_eq!(
        store
            .subscriptions("p1", "cust-0007", None, usize::MAX)
            .await
            .unwrap(),
        actlog_conformance::folded(&store, "p1", "cust-0007").await
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_database_from_before_the_subscriptions_projection_gets_it_on_open() {
    // The schema through 0009.
    projection_built_on_open_after(
        "DROP TABLE subscriptions; DROP TABLE subscription_customers;
         DROP TABLE subscriptions_pending; DELETE FROM schema_migrations WHERE version >= 10;",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_projection_from_before_subscription_pages_gets_their_order_and_counts_on_open() {
    // The schema through 0010: the projection without each subscription's place in the page's
    // order, nor each customer's count.
    projection_built_on_open_after(
        "DROP INDEX subscriptions_by_product;
         ALTER TABLE subscriptions DROP COLUMN product_sort;
         ALTER TABLE subscription_customers DROP COLUMN subscriptions;
         DELETE FROM schema_migrations WHERE version = 11;",
    )
    .await;
}
