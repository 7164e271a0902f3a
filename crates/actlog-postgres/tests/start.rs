//! Servers starting together on one empty database: the schema is migrated once, every server
//! opens, and the partitions their first records need are created once, whatever the year.

use std::sync::Arc;

use actlog_domain::query::{Query, Window};
use actlog_domain::{AuditRecord, OperationDate};
use actlog_postgres::scratch::ScratchDatabase;
use actlog_postgres::{PgOptions, PgStore};
use actlog_store::{RecordReader, RecordWriter, Store};

fn record(id: &str, date: &str) -> AuditRecord {
    let json =
        format!(r#"{{"id":"{id}","operationType":"create_order","operationDate":"{date}"}}"#);
    actlog_domain::ingest::parse_record(&json, "p", &mut || unreachable!()).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn eight_servers_starting_at_once_migrate_once_and_share_new_partitions() {
    let db = ScratchDatabase::create().await.unwrap();
    let options = PgOptions {
        connections: 3,
        writers: 1,
        ..PgOptions::default()
    };
    let opening: Vec<_> = (0..8)
        .map(|_| {
            let url = db.url().to_owned();
            tokio::spawn(async move { PgStore::open(&url, options).await })
        })
        .collect();
    let mut stores: Vec<Arc<dyn Store>> = Vec::new();
    for open in opening {
        stores.push(Arc::new(open.await.unwrap().expect("every server opens")));
    }
    // Records of 2017, of far-off years and of the year 1, sent by every server at once: each
    // needs a partition nobody made ahead.
    let dates = [
        "2017-06-01T12:00:00Z",
        "2017-07-31T23:59:59.9999999Z",
        "1999-12-31T23:59:59Z",
        "0001-01-01T00:00:00Z",
        "2150-03-01T00:00:00Z",
    ];
    let appends: Vec<_> = stores
        .iter()
        .enumerate()
        .map(|(n, store)| {
            let store = Arc::clone(store);
            let batch: Vec<AuditRecord> = dates
                .iter()
                .enumerate()
                .map(|(i, d)| record(&format!("s{n}-{i}"), d))
                .collect();
            tokio::spawn(async move { store.append("p", batch).await })
        })
        .collect();
    for append in appends {
        append.await.unwrap().expect("every append succeeds");
    }
    let everything = Query {
        window: Window {
            start: OperationDate::MIN,
            end: None,
        },
        filter: None,
    };
    for store in &stores {
        assert_eq!(store.count("p", &everything).await.unwrap(), 8 * 5);
    }
    let (client, connection) = tokio_postgres::connect(db.url(), tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    let applied: i64 = client
        .query_one("SELECT count(*) FROM schema_migrations", &[])
        .await
        .unwrap()
        .get(0);
    let versions: i64 = client
        .query_one("SELECT count(DISTINCT version) FROM schema_migrations", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(applied, versions, "each migration applied once");
    let partitions: Vec<String> = client
        .query(
            "SELECT c.relname::text FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
             JOIN pg_class p ON p.oid = i.inhparent
             WHERE p.relname = 'records' ORDER BY 1",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    for wanted in [
        "records_p201706",
        "records_p201707",
        "records_before_2000",
        "records_from_2100",
    ] {
        assert!(
            partitions.iter().any(|p| p == wanted),
            "{wanted} in {partitions:?}"
        );
    }
}

/// `/readyz` asks the store: ready while PostgreSQL answers, not while the database refuses
/// connections (its connections ended), ready again when it accepts them, without a restart.
#[tokio::test(flavor = "multi_thread")]
async fn readiness_follows_whether_the_database_answers() {
    use actlog_store::Health;
    use std::time::Duration;
    let db = ScratchDatabase::create().await.unwrap();
    let options = PgOptions {
        connection_wait: Duration::from_secs(1),
        ..PgOptions::default()
    };
    let store = PgStore::open(db.url(), options).await.unwrap();
    let within = Duration::from_secs(1);
    assert_eq!(store.ready(within).await, Ok(()));
    let (admin, connection) = tokio_postgres::connect(db.admin_url(), tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    let name = db.name();
    admin
        .batch_execute(&format!(
            "ALTER DATABASE {name} WITH ALLOW_CONNECTIONS false;
             SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"
        ))
        .await
        .unwrap();
    let down = store.ready(within).await;
    assert!(down.is_err(), "{down:?}");
    admin
        .batch_execute(&format!(
            "ALTER DATABASE {name} WITH ALLOW_CONNECTIONS true"
        ))
        .await
        .unwrap();
    let mut again = store.ready(within).await;
    for _ in 0..20 {
        if again.is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        again = store.ready(within).await;
    }
    assert_eq!(again, Ok(()));
    drop(store);
}

/// Stores 3,000 realistic records of partner `p1`, newest first (as an import of older
/// history after newer records leaves them), then turns the database back into one of an
/// earlier schema with `downgrade`; two servers open it at once and build the projection once.
async fn projection_built_on_open_after(downgrade: &str) {
    use actlog_conformance::data::{DAY, base_date, realistic};
    let db = ScratchDatabase::create().await.unwrap();
    let options = PgOptions {
        connections: 3,
        writers: 1,
        ..PgOptions::default()
    };
    let records: Vec<_> = (0..3_000u64)
        .map(|n| {
            let date =
                OperationDate::from_ticks(base_date().ticks() + (3_000 - n as i64 / 7) * DAY / 100);
            realistic("p1", n, date)
        })
        .collect();
    {
        let store = PgStore::open(db.url(), options).await.unwrap();
        for batch in records.chunks(500) {
            store.append("p1", batch.to_vec()).await.unwrap();
        }
    }
    let (client, connection) = tokio_postgres::connect(db.url(), tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    client.batch_execute(downgrade).await.unwrap();
    let (a, b) = tokio::join!(
        PgStore::open(db.url(), options),
        PgStore::open(db.url(), options)
    );
    let (store, _other) = (a.unwrap(), b.unwrap());
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
}

#[tokio::test(flavor = "multi_thread")]
async fn a_database_from_before_the_subscriptions_projection_gets_it_on_open() {
    // The schema through 0004.
    projection_built_on_open_after(
        "DROP TABLE subscriptions; DROP TABLE subscription_customers;
         DROP TABLE subscriptions_pending; DELETE FROM schema_migrations WHERE version >= 5;",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_projection_from_before_subscription_pages_gets_their_order_and_counts_on_open() {
    // The schema through 0006: the projection without each subscription's place in the page's
    // order, nor each customer's count.
    projection_built_on_open_after(
        "DROP INDEX subscriptions_by_product;
         ALTER TABLE subscriptions DROP COLUMN product_sort;
         ALTER TABLE subscription_customers DROP COLUMN subscriptions;
         DELETE FROM schema_migrations WHERE version = 7;",
    )
    .await;
}
