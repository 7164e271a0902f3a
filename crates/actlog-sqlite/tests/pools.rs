//! Long reads do not hold up short ones.

use std::time::Duration;

use actlog_conformance::data::DataSet;
use actlog_domain::OperationDate;
use actlog_domain::query::{PageRequest, Query, Window};
use actlog_sqlite::{SqliteOptions, SqliteStore};
use actlog_store::{RecordReader, RecordWriter};
use futures::StreamExt;

#[tokio::test(flavor = "multi_thread")]
async fn pages_answer_while_exports_are_open() {
    let dir = tempfile::tempdir().unwrap();
    let options = SqliteOptions {
        readers: 1,
        scans: 1,
        ..SqliteOptions::default()
    };
    let store = SqliteStore::open(&dir.path().join("actlog.db"), options).unwrap();
    store
        .append("p1", DataSet::new("p1", "r", 1).take(3_000))
        .await
        .unwrap();
    let query = Query {
        window: Window {
            start: OperationDate::MIN,
            end: None,
        },
        filter: None,
    };
    // An export that has started and is not being read any further holds its connection.
    let mut export = store.scan("p1", &query);
    export.next().await.unwrap().unwrap();
    let request = PageRequest {
        query: query.clone(),
        size: 10,
        after: None,
        snapshot: None,
    };
    for _ in 0..3 {
        let page = tokio::time::timeout(Duration::from_secs(10), store.page("p1", &request))
            .await
            .expect("a page must not wait for an export");
        assert_eq!(page.unwrap().records.len(), 10);
    }
    assert_eq!(export.count().await, 2_999);
}
