//! Walks, counts and scans agree, and a walk is stable while records keep arriving.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use actlog_domain::OperationDate;
use actlog_domain::filter::Filter;
use actlog_domain::query::{PageRequest, Query, Window};
use actlog_store::Store;
use futures::StreamExt;

use crate::data::{DAY, DataSet, base_date};
use crate::support::{
    append_all, assert_records, bare, everything, expected, scan_all, walk, window_of_data,
};

/// Days 2 to 28 of the data sets' month.
fn inner_window() -> Window {
    let day = |n: i64| OperationDate::from_ticks(base_date().ticks() + n * DAY);
    Window {
        start: day(2),
        end: Some(day(28)),
    }
}

fn filtered(json: &str) -> Query {
    Query {
        window: inner_window(),
        filter: Some(Filter::parse(json).unwrap()),
    }
}

/// Pages of 1, 7 and 500 return each record of the window once, in order.
pub async fn walks_return_every_record_once_at_every_page_size(store: Arc<dyn Store>) {
    let partner = "partner-walks";
    let records = DataSet::new(partner, "p", 21).take(1_200);
    append_all(&*store, partner, &records, 250).await;
    let query = Query {
        window: inner_window(),
        filter: None,
    };
    let want = expected(&records, &query);
    assert!(want.len() > 900 && want.len() < records.len());
    for size in [1, 7, 500] {
        let got = walk(&*store, partner, &query, size).await;
        assert_records(&got, &want, &format!("walk by {size}"));
    }
    let query = filtered(r#"{"Field":"CustomerId","Value":"cust-alpha","Operator":"equals"}"#);
    let want = expected(&records, &query);
    assert_records(
        &walk(&*store, partner, &query, 7).await,
        &want,
        "filtered walk",
    );
}

/// A walk sees the records that existed at its first page, each once, however many records
/// are appended meanwhile, older or newer than its position or tied with it.
pub async fn walks_ignore_records_appended_during_the_walk(store: Arc<dyn Store>) {
    let partner = "partner-moving";
    let initial = DataSet::new(partner, "i", 17).take(300);
    append_all(&*store, partner, &initial, 100).await;
    let query = Query {
        window: inner_window(),
        filter: None,
    };
    let want = expected(&initial, &query);
    let mut request = PageRequest {
        query: query.clone(),
        size: 7,
        after: None,
        snapshot: None,
    };
    let (mut got, mut added) = (Vec::new(), Vec::new());
    let stop = Arc::new(AtomicBool::new(false));
    let mut background = None;
    loop {
        let page = store.page(partner, &request).await.expect("page");
        // From the first page on, another task keeps appending records all over the month.
        background.get_or_insert_with(|| tokio::spawn(keep_appending(&store, partner, &stop)));
        if let Some(last) = page.records.last() {
            let at = last.operation_date.ticks();
            for (n, ticks) in [at - 1, at, at + 1].into_iter().enumerate() {
                added.push(bare(partner, &format!("fg-{}-{n}", got.len()), ticks));
            }
            let batch = added[added.len() - 3..].to_vec();
            store.append(partner, batch).await.expect("append");
        }
        got.extend(page.records);
        let Some(next) = page.next else { break };
        request.after = Some(next);
        request.snapshot = Some(page.snapshot);
        assert!(
            got.len() <= want.len(),
            "the walk returned more than existed"
        );
    }
    stop.store(true, Ordering::Relaxed);
    let background = background.expect("started at the first page");
    let from_background = background.await.expect("background appends");
    assert!(
        !from_background.is_empty(),
        "records must arrive during the walk"
    );
    added.extend(from_background);
    assert_records(&got, &want, "walk during appends");
    let everything_now = walk(&*store, partner, &everything(), 500).await;
    let ids: BTreeSet<&str> = everything_now.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(
        ids.len(),
        everything_now.len(),
        "a later walk repeats a record"
    );
    assert_eq!(
        ids.len(),
        initial.len() + added.len(),
        "a later walk sees them all"
    );
}

/// Appends batches of 5 records dated all over the data sets' month until `stop`.
fn keep_appending(
    store: &Arc<dyn Store>,
    partner: &'static str,
    stop: &Arc<AtomicBool>,
) -> impl Future<Output = Vec<actlog_domain::AuditRecord>> + Send + 'static {
    let (store, stop) = (Arc::clone(store), Arc::clone(stop));
    async move {
        let mut more = DataSet::new(partner, "bg", 18);
        let mut appended = Vec::new();
        while !stop.load(Ordering::Relaxed) {
            let batch = more.take(5);
            store.append(partner, batch.clone()).await.expect("append");
            appended.extend(batch);
            tokio::task::yield_now().await;
        }
        appended
    }
}

/// `count` is the number of records a full walk returns.
pub async fn count_matches_a_full_walk(store: Arc<dyn Store>) {
    let partner = "partner-count";
    let records = DataSet::new(partner, "n", 31).take(700);
    append_all(&*store, partner, &records, 700).await;
    let queries = [
        everything(),
        Query {
            window: inner_window(),
            filter: None,
        },
        filtered(r#"{"Field":"CompanyName","Value":"società","Operator":"substring"}"#),
        filtered(r#"{"Field":"OperationStatus","Value":"failed","Operator":"not_equals"}"#),
        filtered(r#"{"Field":"Text","Value":"needle-xyz","Operator":"substring"}"#),
    ];
    for query in queries {
        let walked = walk(&*store, partner, &query, 100).await;
        assert_eq!(walked.len(), expected(&records, &query).len(), "{query:?}");
        let count = store.count(partner, &query).await.expect("count");
        assert_eq!(count, walked.len() as u64, "count of {query:?}");
    }
}

/// `scan` streams what a walk returns, newest first, and a scan dropped half-way frees its
/// resources (the store keeps answering after many of them).
pub async fn scan_streams_the_same_records_as_a_walk(store: Arc<dyn Store>) {
    let partner = "partner-scan";
    let records = DataSet::new(partner, "s", 41).take(2_500);
    append_all(&*store, partner, &records, 500).await;
    let queries = [
        everything(),
        filtered(r#"{"Field":"ResourceType","Value":"ORDER","Operator":"equals"}"#),
    ];
    for query in queries {
        let walked = walk(&*store, partner, &query, 500).await;
        assert_records(&walked, &expected(&records, &query), "walk");
        assert_records(&scan_all(&*store, partner, &query).await, &walked, "scan");
    }
    for _ in 0..20 {
        let mut stream = store.scan(partner, &window_query());
        for _ in 0..10 {
            stream.next().await.expect("a record").expect("no error");
        }
    }
    let page = tokio::time::timeout(Duration::from_secs(20), async {
        let request = PageRequest {
            query: everything(),
            size: 1,
            after: None,
            snapshot: None,
        };
        store.page(partner, &request).await
    })
    .await
    .expect("abandoned scans must not block the store");
    assert_eq!(page.expect("page").records.len(), 1);
}

/// `scan_batches` (the export's path) streams what a walk returns, in the same order, in
/// batches that are never empty, however the backend reuses the batches handed back.
pub async fn batched_scans_stream_the_same_records_as_a_walk(store: Arc<dyn Store>) {
    let partner = "partner-batches";
    let records = DataSet::new(partner, "b", 43).take(1_300);
    append_all(&*store, partner, &records, 650).await;
    let queries = [
        everything(),
        filtered(r#"{"Field":"Text","Value":"società","Operator":"substring"}"#),
        filtered(r#"{"Field":"CustomerId","Value":"cust-alpha","Operator":"not_equals"}"#),
    ];
    for query in queries {
        let walked = walk(&*store, partner, &query, 500).await;
        let mut batches = store.scan_batches(partner, &query);
        let mut scanned = Vec::new();
        while let Some(batch) = batches.next().await {
            let batch = batch.expect("a batch");
            assert!(!batch.is_empty(), "an empty batch");
            // Copied, then dropped: a backend may refill a dropped batch's records in place
            // with later rows, and a refilled record must keep nothing of its previous row.
            scanned.extend(batch.iter().cloned());
        }
        assert_records(&scanned, &walked, &format!("batched scan of {query:?}"));
    }
    let mut none = store.scan_batches("partner-unknown", &everything());
    assert!(
        none.next().await.is_none(),
        "an unknown partner has nothing"
    );
}

/// `scan_log` returns a partner's records in the order they were appended (its commit order),
/// whatever their dates, and skips exactly the first `skip`.
pub async fn log_scans_follow_commit_order_and_skip(store: Arc<dyn Store>) {
    let partner = "partner-log";
    let records = DataSet::new(partner, "l", 47).take(900);
    append_all(&*store, partner, &records, 300).await;
    let others = DataSet::new("partner-other", "x", 48).take(50);
    append_all(&*store, "partner-other", &others, 50).await;
    let log = |skip| store_log(&*store, partner, skip);
    assert_records(&log(0).await, &records, "the whole log");
    assert_records(&log(601).await, &records[601..], "the log after 601");
    assert!(log(900).await.is_empty(), "nothing after the end");
    assert!(log(5_000).await.is_empty(), "nothing far after the end");
}

async fn store_log(store: &dyn Store, partner: &str, skip: u64) -> Vec<actlog_domain::AuditRecord> {
    let mut batches = store.scan_log(partner, skip);
    let mut out = Vec::new();
    while let Some(batch) = batches.next().await {
        out.extend(batch.expect("a batch").into_records());
    }
    out
}

fn window_query() -> Query {
    Query {
        window: window_of_data(),
        filter: None,
    }
}
