//! Export from SQLite: a store seeded through its API in batches of 1,000, against
//! `sqlite3 -csv DB "SELECT …" > file` reading the same file with the same index.

use std::fs::File;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, bail};

use actlog_domain::query::Query;
use actlog_sqlite::{SqliteOptions, SqliteStore};
use actlog_store::Store;

use super::{Comparison, Options, Period, Sample, compare};
use crate::report::Figure;
use crate::rows::RowSpec;
use crate::seed;

pub async fn run(rows: &RowSpec, options: &Options) -> anyhow::Result<Vec<Figure>> {
    let dir = tempfile::tempdir()?;
    let db = dir.path().join("export.db");
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&db, SqliteOptions::default())?);
    let (stored, rate) = seed::append_all(&store, &rows.partner, rows.rows(), 1_000).await?;
    anyhow::ensure!(
        stored == rows.records,
        "stored {stored} of {}",
        rows.records
    );
    // Closing the last connection checkpoints the WAL: both sides then read the same file.
    drop(store);
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&db, SqliteOptions::default())?);
    println!(
        "seeded {} through the store API (batches of 1,000) at {rate:.0} records/s; \
         database {:.0} MB",
        rows.describe(),
        std::fs::metadata(&db)?.len() as f64 / 1e6
    );

    let period = Period::of(rows)?;
    let expected = store.count(&rows.partner, &period.query).await?;
    let sql = reference_sql(&db, &rows.partner, &period.query)?;
    let plan = sqlite3(&db, &format!("EXPLAIN QUERY PLAN {sql}"))?;
    println!(
        "sqlite3 plan: {}",
        plan.split_whitespace().collect::<Vec<_>>().join(" ")
    );
    let comparison = Comparison {
        store: &store,
        partner: &rows.partner,
        period: &period,
        database: format!("sqlite://{}", db.display()),
        expected,
        reference: "sqlite3 -csv",
        target: 2.0,
    };
    compare(&comparison, options, |out| {
        shell_export(&db, &sql, expected, out)
    })
    .await
}

/// The reference: the shell selecting the export's columns, in its order, into a file.
fn shell_export(db: &Path, sql: &str, rows: u64, out: &Path) -> anyhow::Result<Sample> {
    let started = Instant::now();
    let status = Command::new("sqlite3")
        .arg("-csv")
        .arg(db)
        .arg(sql)
        .stdout(File::create(out)?)
        .status()
        .context("the sqlite3 shell is needed (apt-get install sqlite3)")?;
    let seconds = started.elapsed().as_secs_f64();
    if !status.success() {
        bail!("sqlite3 failed: {status}");
    }
    Sample::of_file(rows, seconds, out)
}

/// The SELECT the shell runs: the columns the export writes (the record's fields behind its
/// twelve columns), for the partner and period, newest first as the export orders them.
fn reference_sql(db: &Path, partner: &str, query: &Query) -> anyhow::Result<String> {
    let key = sqlite3(
        db,
        &format!(
            "SELECT pkey FROM partners WHERE id = '{}'",
            partner.replace('\'', "''")
        ),
    )?;
    let key: i64 = key.trim().parse().context("the partner's key")?;
    Ok(super::reference_select(key, query))
}

fn sqlite3(db: &Path, sql: &str) -> anyhow::Result<String> {
    let output = Command::new("sqlite3")
        .arg(db)
        .arg(sql)
        .output()
        .context("the sqlite3 shell is needed (apt-get install sqlite3)")?;
    if !output.status.success() {
        bail!(
            "sqlite3 failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(String::from_utf8(output.stdout)?)
}
