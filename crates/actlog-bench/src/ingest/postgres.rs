//! Ingest into PostgreSQL: actlog over HTTP against `psql \copy` of the same rows into the same
//! schema; and 64 single-record clients against the disk's fdatasync rate as `pg_test_fsync`
//! measures it (the WAL's default sync method on Linux).
//!
//! The reference loads a fresh database that a `PgStore` has migrated: `\copy` into `records`
//! (through its monthly partitions, created beforehand as actlog names them) with the sequence
//! numbers and folded columns computed here, then `\copy` into `record_ids`, so its index work
//! is the same as actlog's, and the log's size, all in one transaction (`psql -1`), timed
//! together. actlog does more: it checks every id against those stored, under the partner's
//! lock, and answers each batch once it is durable.

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use actlog_domain::AuditRecord;

use super::{BATCH_CLIENTS, SINGLE_CLIENTS};
use crate::postgres::{self, literal, psql, sql};
use crate::report::Figure;
use crate::table::{self, ID_COLUMNS};
use crate::{clients, server};

pub async fn run(partner: &str, rows: &[AuditRecord], seconds: u64) -> anyhow::Result<Vec<Figure>> {
    let dir = tempfile::tempdir()?;
    let copy = psql_copy(dir.path(), partner, rows).await?;
    println!(
        "psql \\copy records + record_ids (one transaction): {:>9.0} records/s",
        copy
    );

    let db = postgres::scratch().await?;
    let running = server::start(Arc::new(postgres::open(db.url()).await?), partner).await?;
    let http = clients::batches(&[&running], rows, BATCH_CLIENTS).await?;
    postgres::expect_records(db.url(), rows.len())?;
    println!(
        "actlog HTTP, batches of 1,000, 2 clients:           {:>9.0} records/s  \
         = {:.2}x psql \\copy (PRODUCT §8 asks ≥ 0.8x)",
        http,
        http / copy
    );
    drop(running);
    drop(db);

    let (fsyncs, probe) = match postgres::fdatasync_rate(dir.path())? {
        Some(rate) => (rate, "pg_test_fsync, fdatasync of one 8 kB write"),
        None => (
            super::fsync_rate(dir.path())?,
            "synchronous 4 KiB writes (no pg_test_fsync)",
        ),
    };
    let db = postgres::scratch().await?;
    let running = server::start(Arc::new(postgres::open(db.url()).await?), partner).await?;
    let single = clients::single_records(&running, rows, SINGLE_CLIENTS, seconds).await?;
    println!("disk: {probe}: {fsyncs:.0} fsyncs/s");
    println!(
        "actlog HTTP, 64 clients x 1 record per request:     {:>9.0} records/s  \
         = {:.1}x the fsync rate (PRODUCT §8 asks ≥ 3x)",
        single,
        single / fsyncs
    );
    Ok(vec![
        Figure {
            bench: "ingest",
            name: "HTTP batches of 1,000, durable".into(),
            value: http,
            unit: "records/s",
            reference: Some(("psql \\copy", copy)),
            target: Some(0.8),
            at_most: None,
        },
        Figure {
            bench: "ingest",
            name: "64 clients x 1 record".into(),
            value: single,
            unit: "records/s",
            reference: Some(("fdatasyncs/s", fsyncs)),
            target: Some(3.0),
            at_most: None,
        },
    ])
}

/// A migrated scratch database loaded by `psql \copy` in one transaction; records per second.
async fn psql_copy(dir: &Path, partner: &str, rows: &[AuditRecord]) -> anyhow::Result<f64> {
    let db = postgres::scratch().await?;
    drop(postgres::open(db.url()).await?);
    let key: i64 = sql(
        db.url(),
        &format!(
            "INSERT INTO partners (id) VALUES ({}) RETURNING pkey",
            literal(partner)
        ),
    )?
    .parse()?;
    sql(
        db.url(),
        &format!("INSERT INTO partner_logs (partner) VALUES ({key})"),
    )?;
    postgres::create_partitions(db.url(), rows.iter().map(|r| r.operation_date))?;
    let (records, ids) = (dir.join("records.csv"), dir.join("record_ids.csv"));
    let columns: Vec<String> = sql(
        db.url(),
        "SELECT column_name FROM information_schema.columns \
         WHERE table_schema = current_schema() AND table_name = 'records' \
         ORDER BY ordinal_position",
    )?
    .lines()
    .map(str::to_owned)
    .collect();
    table::write_records(&records, &columns, key, rows)?;
    table::write_ids(&ids, key, rows)?;
    let copy = |table: &str, columns: &str, file: &Path| {
        format!(
            "\\copy {table} ({columns}) FROM {} CSV",
            literal(&file.display().to_string())
        )
    };
    let commands = [
        copy("records", &columns.join(", "), &records),
        copy("record_ids", ID_COLUMNS, &ids),
        format!(
            "UPDATE partner_logs SET size = {} WHERE partner = {key}",
            rows.len()
        ),
    ];
    let mut args = vec!["--single-transaction"];
    args.extend(commands.iter().flat_map(|c| ["-c", c.as_str()]));
    let started = Instant::now();
    psql(db.url(), &args)?;
    let elapsed = started.elapsed().as_secs_f64();
    postgres::expect_records(db.url(), rows.len())?;
    Ok(rows.len() as f64 / elapsed)
}
