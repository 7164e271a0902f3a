//! Ingest: actlog over HTTP, durable, against the backend's shell loading the same rows into
//! the same schema (`sqlite3 .import`, `psql \copy`); and many single-record clients against
//! the disk's fsync rate. One module per backend; what they share is here.

mod postgres;
mod sqlite;

use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

use actlog_domain::AuditRecord;

use crate::backend::Backend;
use crate::report::Figure;
use crate::rows::RowSpec;

/// Clients sending batches, on both backends.
const BATCH_CLIENTS: usize = 2;
/// Clients sending one record each.
const SINGLE_CLIENTS: usize = 64;

/// Runs the ingest benchmark on `spec`'s rows; returns its figures (also printed).
pub async fn run(spec: &RowSpec, seconds: u64, backend: Backend) -> anyhow::Result<Vec<Figure>> {
    let rows: Vec<AuditRecord> = spec.rows().collect();
    describe(&rows);
    match backend {
        Backend::Sqlite => sqlite::run(&spec.partner, &rows, seconds).await,
        Backend::Postgres => postgres::run(&spec.partner, &rows, seconds).await,
    }
}

/// Prints the rows' average sizes.
fn describe(rows: &[AuditRecord]) {
    let count = rows.len().max(1);
    let details: usize = rows.iter().map(crate::rows::details_len).sum();
    let json: usize = rows
        .iter()
        .map(|r| serde_json::to_string(r).map_or(0, |j| j.len()))
        .sum();
    println!(
        "{} records: {} bytes of details, {} bytes of JSON per record on average",
        rows.len(),
        details / count,
        json / count
    );
}

/// Synchronous 4 KiB writes per second in `dir`: the ceiling a server that fsyncs once per
/// request would have.
fn fsync_rate(dir: &Path) -> anyhow::Result<f64> {
    let mut file = std::fs::File::create(dir.join("fsync.bin"))?;
    let block = [7u8; 4096];
    let started = Instant::now();
    let mut n = 0u32;
    while started.elapsed() < Duration::from_secs(1) {
        file.write_all(&block)?;
        file.sync_data()?;
        n += 1;
    }
    Ok(f64::from(n) / started.elapsed().as_secs_f64())
}
