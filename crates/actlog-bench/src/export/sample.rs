//! One timed export and how it is taken: actlog in this process, actlog as a process of its
//! own, or a reference whose output file is measured; and the memory figures beside them.

use std::fs::File;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, bail};
use futures::StreamExt;
use jiff::tz::TimeZone;

use actlog_domain::catalog::Lang;
use actlog_domain::query::Query;
use actlog_export::{ExportOptions, Format, Period};
use actlog_store::Store;

/// One timed export.
#[derive(Debug)]
pub struct Sample {
    pub rows: u64,
    pub seconds: f64,
    pub bytes: u64,
    /// Seconds until the file was also fsynced (actlog side only).
    pub synced: Option<f64>,
    pub peak_kib: Option<u64>,
    /// Resident memory just before the export began (in-process only).
    pub base_kib: Option<u64>,
}

impl Sample {
    /// A reference's export of `rows` rows into `out` in `seconds`; removes the file.
    pub fn of_file(rows: u64, seconds: f64, out: &Path) -> anyhow::Result<Sample> {
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

    pub fn rate(&self) -> f64 {
        self.rows as f64 / self.seconds
    }
}

/// `actlog_app::export::run` into a file, as `actlog export --output FILE` does.
pub async fn in_process(
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
    let reset = crate::memory::reset_peak();
    let base_kib = crate::memory::status_kib("VmRSS:");
    let started = Instant::now();
    let summary =
        actlog_app::export::run(store.as_ref(), partner, query, options, writer, |_| {}).await?;
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
        peak_kib: crate::memory::status_kib("VmHWM:").filter(|_| reset),
        base_kib,
    })
}

/// The store's scan of `query` alone, every batch read and dropped: how much of the export's
/// time is the backend's (reading and decoding rows) rather than the engine's (writing them).
/// Also the CPU seconds this process spent meanwhile: near the elapsed time, the scan is
/// bound by decoding here rather than by the database.
pub async fn scan_only(
    store: &Arc<dyn Store>,
    partner: &str,
    query: &Query,
) -> anyhow::Result<(Sample, Option<f64>)> {
    let cpu = cpu_seconds();
    let started = Instant::now();
    let mut batches = store.scan_batches(partner, query);
    let mut rows = 0u64;
    while let Some(batch) = batches.next().await {
        rows += batch?.len() as u64;
    }
    let sample = Sample {
        rows,
        seconds: started.elapsed().as_secs_f64(),
        bytes: 0,
        synced: None,
        peak_kib: None,
        base_kib: None,
    };
    Ok((sample, cpu.zip(cpu_seconds()).map(|(a, b)| b - a)))
}

/// User and system CPU seconds of this process so far (`/proc/self/stat`, in USER_HZ, which
/// Linux reports as 100 per second).
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // After the command name, which may hold spaces, in parentheses.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i)?.parse::<u64>().ok();
    Some((ticks(11)? + ticks(12)?) as f64 / 100.0)
}

/// `actlog export --database DATABASE` as a process of its own, timed from spawn to exit (its
/// fsync and rename included), with its peak memory as `/usr/bin/time -v` reports it.
pub fn cli_export(
    bin: &Path,
    database: &str,
    partner: &str,
    (from, to): (&str, &str),
    rows: u64,
    out: &Path,
) -> anyhow::Result<Sample> {
    let started = Instant::now();
    let output = Command::new("/usr/bin/time")
        .arg("-v")
        .arg(bin)
        .args(["export", "--database", database])
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
    let mut sample = Sample::of_file(rows, seconds, out)?;
    sample.peak_kib = peak_kib;
    Ok(sample)
}

pub fn print_sample(run: usize, name: &str, sample: &Sample) {
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
