//! The PostgreSQL side's tools: scratch databases and stores, the `psql` shell (the reference
//! of PRODUCT §8 for ingest and export), and the disk's fsync rate as PostgreSQL measures it.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, bail};
use jiff::civil::Date;
use jiff::tz::TimeZone;

use actlog_domain::OperationDate;
use actlog_postgres::scratch::ScratchDatabase;
use actlog_postgres::{PgOptions, PgStore};

/// A fresh database on the local server (`ACTLOG_TEST_POSTGRES`), dropped with the handle.
pub async fn scratch() -> anyhow::Result<ScratchDatabase> {
    ScratchDatabase::create().await.map_err(anyhow::Error::msg)
}

/// A store on `url`, its schema migrated, as `actlog serve --database URL` opens it.
pub async fn open(url: &str) -> anyhow::Result<PgStore> {
    PgStore::open(url, PgOptions::default())
        .await
        .with_context(|| format!("cannot open the PostgreSQL store at {url}"))
}

/// Runs `psql` on `url` with `args` (`-c` commands), stopping at the first error; its output,
/// unaligned and without headers.
pub fn psql(url: &str, args: &[&str]) -> anyhow::Result<String> {
    let output = Command::new("psql")
        .args(["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", url])
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => anyhow::anyhow!(
                "the psql shell is needed for the PostgreSQL benchmarks \
                 (apt-get install postgresql-client)"
            ),
            _ => anyhow::Error::new(e).context("cannot run psql"),
        })?;
    if !output.status.success() {
        bail!(
            "psql failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    Ok(String::from_utf8(output.stdout)?)
}

/// One SQL statement's output through [`psql`], trimmed.
pub fn sql(url: &str, statement: &str) -> anyhow::Result<String> {
    Ok(psql(url, &["-c", statement])?.trim().to_owned())
}

/// A string as an SQL literal.
pub fn literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// Fails unless the database at `url` holds `n` records and `n` ids.
pub fn expect_records(url: &str, n: usize) -> anyhow::Result<()> {
    let counts = sql(
        url,
        "SELECT (SELECT count(*) FROM records) || ' ' || (SELECT count(*) FROM record_ids)",
    )?;
    anyhow::ensure!(
        counts == format!("{n} {n}"),
        "the database holds {counts} (records, ids), not {n} of each"
    );
    Ok(())
}

/// `VACUUM (ANALYZE)` of the records and their ids after seeding: sets the hint bits and the
/// visibility map that the first reader would otherwise set (so neither side pays for them),
/// and the statistics autovacuum would have gathered on a database that has been running.
pub fn settle(url: &str) -> anyhow::Result<()> {
    psql(
        url,
        &[
            "-c",
            "VACUUM (ANALYZE) records",
            "-c",
            "VACUUM (ANALYZE) record_ids",
        ],
    )?;
    Ok(())
}

/// Creates the monthly partitions of `records` that `dates` fall in, named and bounded as
/// actlog-postgres creates them (`records_pYYYYMM`, UTC months of ticks): `COPY` into the
/// partitioned table needs them, and actlog creates them on demand.
pub fn create_partitions(
    url: &str,
    dates: impl Iterator<Item = OperationDate>,
) -> anyhow::Result<()> {
    let months: BTreeSet<(i16, i8)> = dates
        .map(|d| {
            let date = d.timestamp().to_zoned(TimeZone::UTC).date();
            (date.year(), date.month())
        })
        .collect();
    let start = |(year, month): (i16, i8)| -> anyhow::Result<i64> {
        let zoned = Date::new(year, month, 1)?.to_zoned(TimeZone::UTC)?;
        OperationDate::from_timestamp(zoned.timestamp())
            .map(|d| d.ticks())
            .context("a month out of range")
    };
    let mut statements = Vec::new();
    for (year, month) in months {
        let next = if month == 12 {
            (year + 1, 1)
        } else {
            (year, month + 1)
        };
        statements.push(format!(
            "CREATE TABLE IF NOT EXISTS records_p{year:04}{month:02} PARTITION OF records \
             FOR VALUES FROM ({}) TO ({})",
            start((year, month))?,
            start(next)?
        ));
    }
    let args: Vec<&str> = statements.iter().flat_map(|s| ["-c", s.as_str()]).collect();
    psql(url, &args)?;
    Ok(())
}

/// fdatasync()s per second of one 8 kB write, as `pg_test_fsync` measures them in `dir`:
/// `wal_sync_method`'s default on Linux, so the ceiling of a server committing once per
/// request. `None` when `pg_test_fsync` is not installed.
pub fn fdatasync_rate(dir: &Path) -> anyhow::Result<Option<f64>> {
    let Some(tool) = pg_test_fsync() else {
        return Ok(None);
    };
    let mut child = Command::new(&tool)
        .args(["-s", "2", "-f"])
        .arg(dir.join("pg_test_fsync.out"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .with_context(|| format!("cannot run {}", tool.display()))?;
    let stdout = child.stdout.take().expect("piped");
    let mut rate = None;
    for line in BufReader::new(stdout).lines() {
        let line = line?;
        let mut words = line.split_whitespace();
        if words.next() == Some("fdatasync") {
            rate = words.next().and_then(|v| v.parse::<f64>().ok());
            break;
        }
    }
    // Its first table is all that is needed; the others take half a minute more.
    let _ = child.kill();
    let _ = child.wait();
    rate.map(Some)
        .with_context(|| format!("{} printed no fdatasync rate", tool.display()))
}

/// `pg_test_fsync` on the PATH or in a Debian server package's directory.
fn pg_test_fsync() -> Option<PathBuf> {
    let on_path = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join("pg_test_fsync"))
            .find(|p| p.is_file())
    });
    on_path.or_else(|| {
        let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
            .ok()?
            .filter_map(|e| e.ok().map(|e| e.path().join("bin/pg_test_fsync")))
            .filter(|p| p.is_file())
            .collect();
        versions.sort();
        versions.pop()
    })
}
