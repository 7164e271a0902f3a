//! Ingest into SQLite: actlog over HTTP against the `sqlite3` shell's `.import` of the same
//! rows, as CSV, into the same schema (`synchronous=FULL`, one transaction).

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, bail};

use actlog_domain::AuditRecord;
use actlog_sqlite::{SqliteOptions, SqliteStore};
use actlog_store::Store;

use super::{BATCH_CLIENTS, SINGLE_CLIENTS};
use crate::report::Figure;
use crate::{clients, server, table};

pub async fn run(partner: &str, rows: &[AuditRecord], seconds: u64) -> anyhow::Result<Vec<Figure>> {
    let dir = tempfile::tempdir()?;
    let shell = sqlite3_import(dir.path(), partner, rows)?;
    println!(
        "sqlite3 .import (same schema, one transaction): {:>9.0} records/s",
        shell
    );

    let running = server::start(store(&dir.path().join("http.db"))?, partner).await?;
    let (http, grown) =
        crate::memory::growth_mib(clients::batches(&[&running], rows, BATCH_CLIENTS)).await;
    let http = http?;
    println!(
        "actlog HTTP, batches of 1,000, 2 clients:        {:>9.0} records/s  = {:.2}x sqlite3 .import",
        http,
        http / shell
    );
    if let Some(grown) = grown {
        println!(
            "  the server's memory grew by {grown:.0} MiB during the batches (its peak less what this process held before)"
        );
    }

    let fsyncs = super::fsync_rate(dir.path())?;
    let running = server::start(store(&dir.path().join("single.db"))?, partner).await?;
    let single = clients::single_records(&running, rows, SINGLE_CLIENTS, seconds).await?;
    println!(
        "disk: synchronous 4 KiB writes:                  {:>9.0} fsyncs/s",
        fsyncs
    );
    println!(
        "actlog HTTP, 64 clients x 1 record per request:  {:>9.0} records/s  = {:.1}x the fsync rate",
        single,
        single / fsyncs
    );
    let mut figures = vec![
        Figure {
            bench: "ingest",
            name: "HTTP batches of 1,000, durable".into(),
            value: http,
            unit: "records/s",
            reference: Some(("sqlite3 .import", shell)),
            target: Some(1.5),
            at_most: None,
        },
        Figure {
            bench: "ingest",
            name: "64 clients x 1 record".into(),
            value: single,
            unit: "records/s",
            reference: Some(("fsyncs/s (4 KiB writes)", fsyncs)),
            target: Some(3.0),
            at_most: None,
        },
    ];
    figures.extend(grown.map(|grown| Figure {
        bench: "ingest",
        name: "server memory growth during the batches".into(),
        value: grown,
        unit: "MiB",
        reference: None,
        target: None,
        at_most: None,
    }));
    Ok(figures)
}

fn store(path: &Path) -> anyhow::Result<Arc<dyn Store>> {
    Ok(Arc::new(SqliteStore::open(path, SqliteOptions::default())?))
}

/// The schema actlog creates, then `.import` of the same rows as CSV in one transaction.
fn sqlite3_import(dir: &Path, partner: &str, rows: &[AuditRecord]) -> anyhow::Result<f64> {
    let db = dir.join("shell.db");
    drop(SqliteStore::open(&db, SqliteOptions::default())?);
    let csv_path = dir.join("rows.csv");
    let columns: Vec<String> = run_sqlite3(&db, "SELECT name FROM pragma_table_info('records');")?
        .lines()
        .map(str::to_owned)
        .collect();
    table::write_records(&csv_path, &columns, 1, rows)?;
    let setup = format!(
        "INSERT INTO partners(pkey, id, created_at) VALUES (1, '{}', 0);",
        partner.replace('\'', "''")
    );
    run_sqlite3(&db, &setup)?;
    let script = format!(
        "PRAGMA synchronous=FULL;\n.import --csv {} records\n",
        csv_path.display()
    );
    let started = Instant::now();
    run_sqlite3(&db, &script)?;
    let elapsed = started.elapsed().as_secs_f64();
    let count = run_sqlite3(&db, "SELECT count(*) FROM records;")?;
    if count.trim() != rows.len().to_string() {
        bail!("sqlite3 imported {} rows, not {}", count.trim(), rows.len());
    }
    Ok(rows.len() as f64 / elapsed)
}

fn run_sqlite3(db: &Path, script: &str) -> anyhow::Result<String> {
    let mut child = Command::new("sqlite3")
        .arg(db)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .context("the sqlite3 shell is needed (apt-get install sqlite3)")?;
    child
        .stdin
        .take()
        .expect("piped")
        .write_all(script.as_bytes())?;
    let out = child.wait_with_output()?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() || !stderr.trim().is_empty() {
        bail!("sqlite3 failed: {stderr}");
    }
    Ok(String::from_utf8(out.stdout)?)
}

#[cfg(test)]
mod tests {
    use crate::rows::{RowSpec, Shape};

    /// The reference load must take actlog's schema as it stands (`.import` fills every
    /// column), so that a migration adding a column cannot break the benchmark unnoticed.
    #[test]
    fn the_reference_import_loads_rows_into_actlogs_own_schema() {
        let dir = tempfile::tempdir().unwrap();
        let rows: Vec<_> = RowSpec::new(50, Shape::Compact, 300).rows().collect();
        let rate = super::sqlite3_import(dir.path(), "bench-partner", &rows).unwrap();
        assert!(rate > 0.0);
    }
}
