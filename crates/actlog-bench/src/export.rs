//! Export end to end: a partner's records read from a SQLite store and written as a CSV file
//! by the code `actlog export` runs, against `sqlite3 -csv` selecting the same rows and
//! columns from the same database file into a file.
//!
//! The actlog side runs in this process through [`actlog_server::export::run`], the function
//! behind `actlog export`, the page's and the API's exports; it writes to a file it then
//! fsyncs, as the command does before renaming (the fsync is timed apart, since the shell
//! does not do it). Peak memory is this process's high-water mark, reset just before the
//! export (`/proc/self/clear_refs`). `--cli` also times the `actlog` binary itself as a
//! separate process, with its peak memory from `/usr/bin/time -v`.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, bail};
use jiff::tz::TimeZone;

use actlog_domain::catalog::Lang;
use actlog_domain::query::Query;
use actlog_export::{ExportOptions, Format, Period};
use actlog_server::params::{self, Params};
use actlog_sqlite::{SqliteOptions, SqliteStore};
use actlog_store::Store;

use crate::rows::RowSpec;
use crate::seed;

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

/// One timed export.
#[derive(Debug)]
struct Sample {
    rows: u64,
    seconds: f64,
    bytes: u64,
    /// Seconds until the file was also fsynced (actlog side only).
    synced: Option<f64>,
    peak_kib: Option<u64>,
    /// Resident memory just before the export began (in-process only).
    base_kib: Option<u64>,
}

impl Sample {
    fn rate(&self) -> f64 {
        self.rows as f64 / self.seconds
    }
}

pub async fn run(rows: &RowSpec, options: &Options) -> anyhow::Result<()> {
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

    // The period as the command line gives it: the whole demo window, and a minute to spare.
    let rfc3339 = |t: jiff::Timestamp| t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string();
    let from = rfc3339(rows.now - jiff::SignedDuration::from_hours(24 * 184));
    let to = rfc3339(rows.now + jiff::SignedDuration::from_mins(1));
    let query = params::query(
        &Params(vec![
            ("startDate".into(), from.clone()),
            ("endDate".into(), to.clone()),
        ]),
        actlog_domain::OperationDate::from_ticks((rows.now.as_nanosecond() / 100) as i64),
    )
    .map_err(|e| anyhow::anyhow!("{}", e.detail))?;
    let expected = store.count(&rows.partner, &query).await?;
    let sql = reference_sql(&db, &rows.partner, &query)?;
    let plan = sqlite3(&db, &format!("EXPLAIN QUERY PLAN {sql}"))?;
    println!(
        "sqlite3 plan: {}",
        plan.split_whitespace().collect::<Vec<_>>().join(" ")
    );
    println!(
        "exporting {expected} records as CSV (en-US, UTC), {} runs each side",
        options.runs
    );

    let out = dir.path().join("out");
    let (mut best_actlog, mut best_sqlite) = (0f64, 0f64);
    for run in 1..=options.runs {
        let actlog = in_process(&store, &rows.partner, &query, Format::Csv, &out).await?;
        anyhow::ensure!(
            actlog.rows == expected,
            "actlog exported {} rows",
            actlog.rows
        );
        print_sample(run, "actlog export (in-process), CSV", &actlog);
        let shell = shell_export(&db, &sql, expected, &out)?;
        print_sample(run, "sqlite3 -csv", &shell);
        println!(
            "run {run}: ratio actlog ÷ sqlite3 = {:.2}× (with actlog's fsync {:.2}×; \
             PRODUCT §8 asks ≥ 1.5×)",
            actlog.rate() / shell.rate(),
            actlog.rows as f64 / actlog.synced.unwrap_or(actlog.seconds) / shell.rate()
        );
        best_actlog = best_actlog.max(actlog.rate());
        best_sqlite = best_sqlite.max(shell.rate());
        if let Some(bin) = &options.cli {
            let cli = cli_export(bin, &db, &rows.partner, (&from, &to), expected, &out)?;
            print_sample(run, "actlog export (binary), CSV", &cli);
        }
    }
    println!(
        "best of each: actlog {best_actlog:.0} rows/s, sqlite3 {best_sqlite:.0} rows/s, \
         ratio {:.2}×",
        best_actlog / best_sqlite
    );
    if options.xlsx {
        let xlsx = in_process(&store, &rows.partner, &query, Format::Xlsx, &out).await?;
        print_sample(1, "actlog export (in-process), XLSX", &xlsx);
    }
    Ok(())
}

/// `actlog_server::export::run` into a file, as `actlog export --output FILE` does.
async fn in_process(
    store: &Arc<dyn Store>,
    partner: &str,
    query: &Query,
    format: Format,
    out: &Path,
) -> anyhow::Result<Sample> {
    let period = Period {
        from: query.window.start,
        to: query.window.end,
    };
    let options = ExportOptions::new(format, Lang::En, TimeZone::UTC, period);
    let file = File::create(out)?;
    let writer = file.try_clone()?;
    let reset = reset_peak();
    let base_kib = status_kib("VmRSS:");
    let started = Instant::now();
    let summary =
        actlog_server::export::run(store.as_ref(), partner, query, options, writer, |_| {}).await?;
    let seconds = started.elapsed().as_secs_f64();
    file.sync_all()?;
    let synced = started.elapsed().as_secs_f64();
    let bytes = file.metadata()?.len();
    std::fs::remove_file(out)?;
    Ok(Sample {
        rows: summary.rows,
        seconds,
        bytes,
        synced: Some(synced),
        peak_kib: status_kib("VmHWM:").filter(|_| reset),
        base_kib,
    })
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
    let bytes = std::fs::metadata(out)?.len();
    std::fs::remove_file(out)?;
    Ok(Sample {
        rows,
        seconds,
        bytes,
        synced: None,
        peak_kib: None,
        base_kib: None,
    })
}

/// `actlog export` as a process of its own, timed from spawn to exit (its fsync and rename
/// included), with its peak memory as `/usr/bin/time -v` reports it.
fn cli_export(
    bin: &Path,
    db: &Path,
    partner: &str,
    (from, to): (&str, &str),
    rows: u64,
    out: &Path,
) -> anyhow::Result<Sample> {
    let started = Instant::now();
    let output = Command::new("/usr/bin/time")
        .arg("-v")
        .arg(bin)
        .arg("export")
        .arg("--database")
        .arg(format!("sqlite://{}", db.display()))
        .args(["--partner", partner, "--from", from, "--to", to])
        .args(["--format", "csv", "--output"])
        .arg(out)
        .stdout(Stdio::null())
        .output()
        .context("/usr/bin/time is needed for --cli (apt-get install time)")?;
    let seconds = started.elapsed().as_secs_f64();
    let stderr = String::from_utf8_lossy(&output.stderr);
    if !output.status.success() {
        bail!("actlog export failed: {stderr}");
    }
    let peak_kib = stderr
        .lines()
        .find_map(|l| l.trim().strip_prefix("Maximum resident set size (kbytes):"))
        .and_then(|v| v.trim().parse().ok());
    let bytes = std::fs::metadata(out)?.len();
    std::fs::remove_file(out)?;
    Ok(Sample {
        rows,
        seconds,
        bytes,
        synced: None,
        peak_kib,
        base_kib: None,
    })
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
    let end = query.window.end.map_or(String::new(), |e| {
        format!(" AND operation_date < {}", e.ticks())
    });
    Ok(format!(
        "SELECT operation_date, customer_name, operation_type, user_principal_name, \
         customer_id, resource_type, operation_status, application_id, id, customized_data, \
         resource_old_value, resource_new_value FROM records \
         WHERE partner = {key} AND operation_date >= {}{end} \
         ORDER BY operation_date DESC, seq DESC",
        query.window.start.ticks()
    ))
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

fn print_sample(run: usize, name: &str, sample: &Sample) {
    let synced = sample
        .synced
        .map_or(String::new(), |s| format!(", {s:.2} s with fsync"));
    let mb = |k: u64| k as f64 / 1024.0;
    let peak = match (sample.peak_kib, sample.base_kib) {
        (Some(peak), Some(base)) => {
            format!(", peak RSS {:.1} MiB ({:.1} before)", mb(peak), mb(base))
        }
        (Some(peak), None) => format!(", peak RSS {:.1} MiB", mb(peak)),
        _ => String::new(),
    };
    println!(
        "run {run}: {name:<34} {:>7.2} s {:>9.0} rows/s  {:>5.0} MB{synced}{peak}",
        sample.seconds,
        sample.rate(),
        sample.bytes as f64 / 1e6
    );
}

/// Resets this process's peak resident memory (VmHWM) to its current size; whether it could.
fn reset_peak() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// A memory figure of this process from `/proc/self/status` (`VmHWM:` the peak since start or
/// the last [`reset_peak`], `VmRSS:` now), in KiB.
fn status_kib(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}
