//! Export end to end: a partner's records read from a seeded store and written as a CSV file
//! by the code `actlog export` runs, against the backend's shell selecting the same rows and
//! columns from the same database into a file (`sqlite3 -csv`, `psql \copy … TO … CSV`).
//!
//! The actlog side runs in this process through [`actlog_server::export::run`], the function
//! behind `actlog export`, the page's and the API's exports; it writes to a file it then
//! fsyncs, as the command does before renaming (the fsync is timed apart, since the shells do
//! not do it). Peak memory is this process's high-water mark, reset just before the export
//! (`/proc/self/clear_refs`). `--cli` also times the `actlog` binary itself as a separate
//! process, with its peak memory from `/usr/bin/time -v`. The backends' modules seed the store
//! and run their reference; the comparison, run for run, is here.

mod postgres;
mod sample;
mod sqlite;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use actlog_app::period::{self, PeriodText};
use actlog_domain::query::Query;
use actlog_export::Format;
use actlog_store::Store;
use jiff::tz::TimeZone;

use crate::backend::Backend;
use crate::report::Figure;
use crate::rows::RowSpec;
use sample::{Sample, cli_export, in_process, print_sample, scan_only};

/// How the export benchmark runs.
#[derive(Debug, Clone)]
pub struct Options {
    /// Times each side runs (interleaved).
    pub runs: usize,
    /// Also time an XLSX export of the same rows.
    pub xlsx: bool,
    /// An `actlog` binary to time as well, as a separate process.
    pub cli: Option<PathBuf>,
}

/// Runs the export benchmark on `rows`; returns its figures (also printed).
pub async fn run(
    rows: &RowSpec,
    options: &Options,
    backend: Backend,
) -> anyhow::Result<Vec<Figure>> {
    match backend {
        Backend::Sqlite => sqlite::run(rows, options).await,
        Backend::Postgres => postgres::run(rows, options).await,
    }
}

/// The SELECT a reference runs: the columns the export writes (the record's fields behind its
/// twelve columns, in its order), for partner key `key` and the period, newest first as the
/// export orders them. Both schemas name the columns alike.
fn reference_select(key: i64, query: &Query) -> String {
    let end = query.window.end.map_or(String::new(), |e| {
        format!(" AND operation_date < {}", e.ticks())
    });
    format!(
        "SELECT operation_date, customer_name, operation_type, user_principal_name, \
         customer_id, resource_type, operation_status, application_id, id, customized_data, \
         resource_old_value, resource_new_value FROM records \
         WHERE partner = {key} AND operation_date >= {}{end} \
         ORDER BY operation_date DESC, seq DESC",
        query.window.start.ticks()
    )
}

/// The period exported, as the command line gives it: the whole demo window, and a minute
/// to spare.
struct Period {
    from: String,
    to: String,
    query: Query,
}

impl Period {
    fn of(rows: &RowSpec) -> anyhow::Result<Period> {
        let rfc3339 = |t: jiff::Timestamp| t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string();
        let from = rfc3339(rows.now - jiff::SignedDuration::from_hours(24 * 184));
        let to = rfc3339(rows.now + jiff::SignedDuration::from_mins(1));
        let text = PeriodText {
            start: Some(&from),
            end: Some(&to),
            filter: None,
        };
        let now = actlog_domain::OperationDate::from_ticks((rows.now.as_nanosecond() / 100) as i64);
        let query = period::query(text, now, &TimeZone::UTC)?;
        Ok(Period { from, to, query })
    }
}

/// What both sides export, and the reference they are compared with.
struct Comparison<'a> {
    store: &'a Arc<dyn Store>,
    partner: &'a str,
    period: &'a Period,
    /// The store as `actlog --database` takes it.
    database: String,
    /// The records the period holds.
    expected: u64,
    /// The reference's name, e.g. `sqlite3 -csv`.
    reference: &'static str,
    /// The ratio PRODUCT §8 asks for.
    target: f64,
}

/// Runs each side `options.runs` times, interleaved, and prints each run and the best of
/// each; then the XLSX export. `reference` exports the same rows into a file.
async fn compare(
    c: &Comparison<'_>,
    options: &Options,
    reference: impl Fn(&Path) -> anyhow::Result<Sample>,
) -> anyhow::Result<Vec<Figure>> {
    let dir = tempfile::tempdir()?;
    let out = dir.path().join("out");
    println!(
        "exporting {} records as CSV (en-US, UTC), {} runs each side",
        c.expected, options.runs
    );
    let (mut best_actlog, mut best_reference) = (0f64, 0f64);
    for run in 1..=options.runs {
        let actlog = in_process(c.store, c.partner, &c.period.query, Format::Csv, &out).await?;
        anyhow::ensure!(
            actlog.rows == c.expected,
            "actlog exported {} rows, not {}",
            actlog.rows,
            c.expected
        );
        print_sample(run, "actlog export (in-process), CSV", &actlog);
        let shell = reference(&out)?;
        print_sample(run, c.reference, &shell);
        println!(
            "run {run}: ratio actlog ÷ {} = {:.2}× (with actlog's fsync {:.2}×; \
             PRODUCT §8 asks ≥ {:.1}×)",
            c.reference,
            actlog.rate() / shell.rate(),
            actlog.rows as f64 / actlog.synced.unwrap_or(actlog.seconds) / shell.rate(),
            c.target
        );
        best_actlog = best_actlog.max(actlog.rate());
        best_reference = best_reference.max(shell.rate());
        if let Some(bin) = &options.cli {
            let period = (c.period.from.as_str(), c.period.to.as_str());
            let cli = cli_export(bin, &c.database, c.partner, period, c.expected, &out)?;
            print_sample(run, "actlog export (binary), CSV", &cli);
        }
    }
    println!(
        "best of each: actlog {best_actlog:.0} rows/s, {} {best_reference:.0} rows/s, \
         ratio {:.2}×",
        c.reference,
        best_actlog / best_reference
    );
    let (scan, cpu) = scan_only(c.store, c.partner, &c.period.query).await?;
    println!(
        "store scan alone (no file, after the runs): {:.2} s, {:.0} rows/s{}",
        scan.seconds,
        scan.rate(),
        cpu.map_or(String::new(), |s| format!(
            ", {s:.2} s of CPU in this process"
        ))
    );
    let mut figures = vec![Figure {
        bench: "export",
        name: "CSV, in-process (best run)".into(),
        value: best_actlog,
        unit: "rows/s",
        reference: Some((c.reference, best_reference)),
        target: Some(c.target),
        at_most: None,
    }];
    if options.xlsx {
        let xlsx = in_process(c.store, c.partner, &c.period.query, Format::Xlsx, &out).await?;
        print_sample(1, "actlog export (in-process), XLSX", &xlsx);
        figures.push(Figure {
            bench: "export",
            name: "XLSX, in-process".into(),
            value: xlsx.rate(),
            unit: "rows/s",
            reference: None,
            target: None,
            at_most: None,
        });
    }
    Ok(figures)
}
