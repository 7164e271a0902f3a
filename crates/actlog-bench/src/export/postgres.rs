//! Export from PostgreSQL: a scratch database seeded through the store's API, against
//! `psql -c "\copy (SELECT …) TO 'file' CSV"` selecting the same rows and columns, in the
//! same order, from the same database.
//!
//! The database is vacuumed and analyzed after seeding (see [`postgres::settle`]), so
//! neither side pays for the first read of freshly written pages. Both sides go through
//! the server's socket and its protocol; the peak memory printed is this process's, not the
//! PostgreSQL server's.

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use actlog_store::Store;

use super::{Comparison, Options, Period, Sample, compare, reference_select};
use crate::postgres::{self, literal, psql, sql};
use crate::report::Figure;
use crate::rows::RowSpec;
use crate::seed;

/// Records per append while seeding.
const SEED_BATCH: usize = 5_000;

pub async fn run(rows: &RowSpec, options: &Options) -> anyhow::Result<Vec<Figure>> {
    let db = postgres::scratch().await?;
    let url = db.url();
    let store: Arc<dyn Store> = Arc::new(postgres::open(url).await?);
    let (stored, rate) = seed::append_all(&store, &rows.partner, rows.rows(), SEED_BATCH).await?;
    anyhow::ensure!(
        stored == rows.records,
        "stored {stored} of {}",
        rows.records
    );
    postgres::settle(url)?;
    let size: f64 = sql(url, "SELECT pg_database_size(current_database())")?.parse()?;
    println!(
        "seeded {} through the store API (batches of {SEED_BATCH}) at {rate:.0} records/s; \
         database {:.0} MB (vacuumed and analyzed)",
        rows.describe(),
        size / 1e6
    );

    let period = Period::of(rows)?;
    let expected = store.count(&rows.partner, &period.query).await?;
    let key: i64 = sql(
        url,
        &format!(
            "SELECT pkey FROM partners WHERE id = {}",
            literal(&rows.partner)
        ),
    )?
    .parse()?;
    let select = reference_select(key, &period.query);
    let plan = sql(url, &format!("EXPLAIN {select}"))?;
    println!(
        "psql plan: {}",
        plan.lines().map(str::trim).collect::<Vec<_>>().join(" / ")
    );
    let comparison = Comparison {
        store: &store,
        partner: &rows.partner,
        period: &period,
        database: url.to_owned(),
        expected,
        reference: "psql \\copy … TO … CSV",
        target: 1.0,
    };
    compare(&comparison, options, |out| {
        copy_out(url, &select, expected, out)
    })
    .await
}

/// The reference: `psql \copy` of the export's SELECT into a file, as CSV.
fn copy_out(url: &str, select: &str, rows: u64, out: &Path) -> anyhow::Result<Sample> {
    let command = format!(
        "\\copy ({select}) TO {} CSV",
        literal(&out.display().to_string())
    );
    let started = Instant::now();
    psql(url, &["-c", &command])?;
    let seconds = started.elapsed().as_secs_f64();
    Sample::of_file(rows, seconds, out)
}
