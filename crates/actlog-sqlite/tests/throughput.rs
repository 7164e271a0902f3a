//! Throughput sanity checks, not part of the pass/fail suite (the benchmarks crate compares
//! against the reference tools). Run in release mode:
//! `cargo test -p actlog-sqlite --release --test throughput -- --ignored --nocapture`.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use actlog_conformance::data::{MINUTE, base_date, realistic};
use actlog_domain::OperationDate;
use actlog_sqlite::{SqliteOptions, SqliteStore};
use actlog_store::RecordWriter;

fn open() -> (tempfile::TempDir, Arc<SqliteStore>) {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("actlog.db"), SqliteOptions::default());
    (dir, Arc::new(store.unwrap()))
}

fn date(n: u64) -> OperationDate {
    OperationDate::from_ticks(base_date().ticks() + (n as i64 % 43_200) * MINUTE)
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "a measurement; run in release mode"]
async fn batches_of_1000() {
    let (_dir, store) = open();
    let total = 200_000u64;
    let records: Vec<_> = (0..total).map(|n| realistic("p1", n, date(n))).collect();
    let started = Instant::now();
    for batch in records.chunks(1_000) {
        let report = store.append("p1", batch.to_vec()).await.unwrap();
        assert_eq!(report.stored, batch.len());
    }
    let rate = total as f64 / started.elapsed().as_secs_f64();
    println!(
        "batches of 1,000: {total} records in {:?} = {rate:.0} records/s",
        started.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "a measurement; run in release mode"]
async fn single_records_from_64_tasks() {
    single_records_from(64).await;
}

/// One task sending one record at a time: one commit (fsync) per record, for comparison.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "a measurement; run in release mode"]
async fn single_records_from_1_task() {
    single_records_from(1).await;
}

async fn single_records_from(clients: usize) {
    let (_dir, store) = open();
    let next = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let deadline = started + Duration::from_secs(5);
    let tasks: Vec<_> = (0..clients)
        .map(|_| {
            let (store, next) = (Arc::clone(&store), Arc::clone(&next));
            tokio::spawn(async move {
                while Instant::now() < deadline {
                    let n = next.fetch_add(1, Ordering::Relaxed);
                    let report = store.append("p1", vec![realistic("p1", n, date(n))]).await;
                    assert_eq!(report.unwrap().stored, 1);
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    let done = next.load(Ordering::Relaxed);
    let rate = done as f64 / started.elapsed().as_secs_f64();
    let took = started.elapsed();
    println!(
        "{clients} task(s), one record each: {done} records in {took:?} = {rate:.0} records/s"
    );
}
