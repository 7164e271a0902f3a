//! `actlog export`: the dashboard's "Export log" from the command line, to a file or to
//! standard output.
//!
//! Everything the user can get wrong (dates, filter, zone, separator, format, output path) is
//! checked before the store is opened or any file created, and reported as a usage error. The
//! records go through the server's own export ([`actlog_server::export::run`]), so the file is
//! byte for byte what the page and the API give. A file is written beside its destination under
//! a hidden temporary name, synced, and renamed into place only once complete: a failure or
//! Ctrl-C leaves no file behind and never replaces an existing one with a partial export.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;
use jiff::tz::TimeZone;
use tempfile::NamedTempFile;

use actlog_app::clock::{Clock, SystemClock};
use actlog_app::export::ExportFailure;
use actlog_app::period::{self, Bound, PeriodError, PeriodText};
use actlog_domain::catalog::Lang;
use actlog_domain::filter::Filter;
use actlog_domain::query::Query;
use actlog_domain::time::QueryDate;
use actlog_export::{ExportError, ExportOptions, ExportSummary, Format, Period};
use actlog_store::Store;

use actlog_app::evidence::Signer;
use actlog_app::export::proved::{self, Described, ProofSink};

use crate::UsageError;
use crate::config::{CheckpointSettings, DatabaseUrl};
use crate::progress;
use crate::serve::open_store;

/// The flags of `actlog export`, checked as clap parses them.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The partner whose records are exported.
    #[arg(long, value_name = "PARTNER_ID")]
    partner: String,
    /// Start of the period: yyyy-mm-dd (a day in --tz), RFC 3339, or M/d/yyyy h:mm:ss AM, as
    /// the API's startDate (default: 30 days before the end).
    #[arg(long, value_name = "DATE", value_parser = date)]
    from: Option<String>,
    /// End of the period, as the API's endDate; a bare day is included whole (default: now).
    #[arg(long, value_name = "DATE", value_parser = date)]
    to: Option<String>,
    /// The API's filter JSON, e.g. '{"Field":"CompanyName","Value":"bri","Operator":"substring"}'.
    #[arg(long, value_name = "JSON", value_parser = filter)]
    filter: Option<String>,
    /// Language of headers and labels; also picks the CSV separator (`,` for en, `;` for it).
    #[arg(long, value_name = "en-US|it-IT", default_value = "en-US", value_parser = lang)]
    lang: Lang,
    /// Time zone of the Date-Time column and of bare --from/--to days, e.g. Europe/Rome
    /// (default: UTC, as the API's).
    #[arg(long, value_name = "ZONE", value_parser = zone)]
    tz: Option<TimeZone>,
    /// CSV separator: `,` `;` or tab (default: the language's).
    #[arg(long, value_name = ",|;|tab", value_parser = actlog_export::parse_separator)]
    separator: Option<char>,
    /// csv, xlsx or ndjson.
    #[arg(long, value_name = "csv|xlsx|ndjson", default_value = "csv")]
    format: Format,
    /// Where to write: a file, or a directory to write activity-log_FROM_TO.csv into
    /// (default: standard output).
    #[arg(long, short, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Also write a proof bundle to FILE: the partner's signed checkpoint, a signed manifest
    /// of the export and every record's inclusion proof, for `actlog verify-export`.
    #[arg(long, value_name = "FILE")]
    proof: Option<PathBuf>,
}

fn date(text: &str) -> Result<String, String> {
    QueryDate::parse(text)
        .map(|_| text.to_owned())
        .map_err(|e| e.to_string())
}

fn filter(text: &str) -> Result<String, String> {
    Filter::parse(text)
        .map(|_| text.to_owned())
        .map_err(|e| e.to_string())
}

fn lang(text: &str) -> Result<Lang, String> {
    Lang::from_tag(text).ok_or_else(|| format!("`{text}` is not available: use en-US or it-IT"))
}

fn zone(text: &str) -> Result<TimeZone, String> {
    TimeZone::get(text)
        .map_err(|_| format!("`{text}` is not an IANA time zone such as Europe/Rome"))
}

/// Where the export goes.
enum Target {
    Stdout,
    /// A regular file, written whole or not at all.
    File(PathBuf),
    /// A device or named pipe, written into as it comes.
    Stream(PathBuf),
}

pub async fn run(
    url: &DatabaseUrl,
    checkpoints: &CheckpointSettings,
    args: &Args,
) -> anyhow::Result<()> {
    if args.partner.trim().is_empty() {
        return Err(UsageError("--partner must name a partner".into()).into());
    }
    let now = SystemClock.now();
    let tz = args.tz.clone().unwrap_or(TimeZone::UTC);
    let query = query(args, &tz, now)?;
    let period = Period {
        from: query.window.start,
        to: query.window.end,
    };
    let mut options = ExportOptions::new(args.format, args.lang, tz.clone(), period);
    options.separator = args.separator;
    let (from, to) = period.days(&tz, tz.to_datetime(now.timestamp()).date());
    let name = actlog_export::file_name(&options, from, to);
    let target = target(args, &name)?;
    let proof = args
        .proof
        .as_deref()
        .map(|p| proof_target(p, &target))
        .transpose()?;
    if let DatabaseUrl::Sqlite(path) = url
        && !path.exists()
    {
        return Err(UsageError(format!("there is no database at {}", path.display())).into());
    }
    let store = open_store(url).await?;
    if let Some(proof) = proof {
        let signer = Signer::new(crate::evidence::keyring(checkpoints, url)?);
        let described = Described {
            options,
            filter: args.filter.clone(),
            file_name: match &target {
                Target::File(path) | Target::Stream(path) => path
                    .file_name()
                    .map_or(name.clone(), |n| n.to_string_lossy().into_owned()),
                Target::Stdout => name.clone(),
            },
            now: now.timestamp().as_second(),
        };
        let job = Proving {
            store: store.as_ref(),
            signer: &signer,
            args,
            query: &query,
            described,
        };
        let (summary, place) = job.run(&target, &proof).await?;
        report(&summary, args.format, &place, (from, to), &tz);
        eprintln!(
            "Proof written to {}; check it with: actlog verify-export {place} --proof {} --key '{}'",
            proof.display(),
            proof.display(),
            signer.verifiers()[0]
        );
        return Ok(());
    }
    let summary = match &target {
        Target::Stdout => {
            // A bar would mix with records shown on the same terminal.
            let show_progress = !std::io::stdout().is_terminal();
            let stdout = std::io::stdout();
            let outcome = export(store.as_ref(), args, &query, options, stdout, show_progress);
            match outcome.await {
                Err(err) if broken_pipe(&err) => return Ok(()),
                other => other?,
            }
        }
        Target::File(path) => to_file(store.as_ref(), args, &query, options, path).await?,
        Target::Stream(path) => {
            let device = std::fs::OpenOptions::new()
                .write(true)
                .open(path)
                .with_context(|| format!("cannot write {}", path.display()))?;
            export(store.as_ref(), args, &query, options, device, true).await?
        }
    };
    let place = match &target {
        Target::Stdout => "standard output".to_owned(),
        Target::File(path) | Target::Stream(path) => path.display().to_string(),
    };
    report(&summary, args.format, &place, (from, to), &tz);
    Ok(())
}

/// The window and filter, read as the export endpoint reads startDate, endDate and filter (no
/// `--to` means no end; no `--from`, 30 days before the end), with a bare day a day in `tz`,
/// as on the page: `--tz Europe/Rome --from 2026-03-01 --to 2026-03-31` is March in Rome, and
/// the file is named for it.
fn query(args: &Args, tz: &TimeZone, now: actlog_domain::OperationDate) -> anyhow::Result<Query> {
    let text = PeriodText {
        start: args.from.as_deref(),
        end: args.to.as_deref(),
        filter: args.filter.as_deref(),
    };
    period::query(text, now, tz).map_err(|err| {
        let detail = match (&err, &args.from, &args.to) {
            (PeriodError::Empty { .. }, Some(from), Some(to)) => {
                format!("the period is empty: --to {to} is not after --from {from}")
            }
            (PeriodError::Date { bound, source }, _, _) => {
                let flag = match bound {
                    Bound::Start => "--from",
                    Bound::End => "--to",
                };
                format!("{flag}: {source}")
            }
            _ => err.to_string(),
        };
        UsageError(detail).into()
    })
}

/// Stdout, a file, or the export's own name inside a directory; refuses a directory that does
/// not exist and a workbook on a terminal.
fn target(args: &Args, name: &str) -> Result<Target, UsageError> {
    let Some(output) = &args.output else {
        if args.format == Format::Xlsx && std::io::stdout().is_terminal() {
            return Err(UsageError(
                "an XLSX workbook is binary: give --output FILE or redirect standard output".into(),
            ));
        }
        return Ok(Target::Stdout);
    };
    let missing =
        |dir: &Path| UsageError(format!("the directory {} does not exist", dir.display()));
    if output.is_dir() {
        return Ok(Target::File(output.join(name)));
    }
    if output.as_os_str().to_string_lossy().ends_with('/') {
        return Err(missing(output));
    }
    match std::fs::metadata(output) {
        // Replace the file a symbolic link points to, not the link.
        Ok(meta) if meta.is_file() => std::fs::canonicalize(output)
            .map(Target::File)
            .map_err(|e| UsageError(format!("cannot write {}: {e}", output.display()))),
        // A device or pipe (/dev/null, a FIFO) cannot be renamed over: write into it.
        Ok(_) => Ok(Target::Stream(output.clone())),
        Err(_) if parent(output).is_dir() => Ok(Target::File(output.clone())),
        Err(_) => Err(missing(parent(output))),
    }
}

/// The proof's file: a regular file (or a new one) in an existing directory, and not the
/// export's own.
fn proof_target(path: &Path, target: &Target) -> Result<PathBuf, UsageError> {
    if path.is_dir() || path.as_os_str().to_string_lossy().ends_with('/') {
        return Err(UsageError(format!(
            "--proof {} is a directory: name the proof's file",
            path.display()
        )));
    }
    if !parent(path).is_dir() {
        return Err(UsageError(format!(
            "the directory {} does not exist",
            parent(path).display()
        )));
    }
    let same = |other: &Path| match (std::fs::canonicalize(other), std::fs::canonicalize(path)) {
        (Ok(a), Ok(b)) => a == b,
        _ => other == path,
    };
    if let Target::File(file) | Target::Stream(file) = target
        && same(file)
    {
        return Err(UsageError(
            "--proof must name another file than --output".into(),
        ));
    }
    Ok(path.to_owned())
}

/// A proved export's parts, for [`Proving::run`].
struct Proving<'a> {
    store: &'a dyn Store,
    signer: &'a Signer,
    args: &'a Args,
    query: &'a Query,
    described: Described,
}

impl Proving<'_> {
    /// Exports into `target` and writes the proof into `proof`: files through hidden
    /// temporary ones, put in place only once both are complete. Gives the summary and where
    /// the export went.
    async fn run(self, target: &Target, proof: &Path) -> anyhow::Result<(ExportSummary, String)> {
        let proof_temp = temporary_beside(proof)?;
        let (file, file_temp, place): (Box<dyn Write + Send>, _, _) = match target {
            Target::Stdout => (Box::new(std::io::stdout()), None, "standard output".into()),
            Target::File(path) => {
                let temp = temporary_beside(path)?;
                let writer = Box::new(std::io::BufWriter::new(temp.as_file().try_clone()?));
                (writer, Some((temp, path)), path.display().to_string())
            }
            Target::Stream(path) => {
                let device = std::fs::OpenOptions::new()
                    .write(true)
                    .open(path)
                    .with_context(|| format!("cannot write {}", path.display()))?;
                (Box::new(device), None, path.display().to_string())
            }
        };
        let sink = Pair {
            file,
            proof: std::io::BufWriter::new(proof_temp.as_file().try_clone()?),
        };
        let bar = self.bar(!matches!(target, Target::Stdout)).await?;
        let ticker = bar.clone();
        let exported = proved::run(
            self.store,
            self.signer,
            &self.args.partner,
            self.query,
            self.described,
            sink,
            move |rows| ticker.set_position(rows),
        );
        let outcome = tokio::select! {
            outcome = exported => outcome,
            () = interrupted() => {
                drop((proof_temp, file_temp));
                eprintln!("interrupted: the export and its proof were not written");
                std::process::exit(130);
            }
        };
        bar.finish_and_clear();
        let (mut sink, proved) = outcome.context("the export failed; no proof was written")?;
        sink.file.flush()?;
        sink.proof.flush()?;
        drop(sink);
        if let Some((temp, path)) = file_temp {
            put_in_place(temp, path)
                .with_context(|| format!("cannot write {}; nothing was written", path.display()))?;
        }
        put_in_place(proof_temp, proof)
            .with_context(|| format!("cannot write the proof {}", proof.display()))?;
        Ok((proved.summary, place))
    }

    async fn bar(&self, show: bool) -> anyhow::Result<indicatif::ProgressBar> {
        Ok(if show && std::io::stderr().is_terminal() {
            let total = self.store.count(&self.args.partner, self.query).await?;
            progress::bar(Some(total), "exporting")
        } else {
            indicatif::ProgressBar::hidden()
        })
    }
}

/// The export and its proof, written side by side.
struct Pair {
    file: Box<dyn Write + Send>,
    proof: std::io::BufWriter<std::fs::File>,
}

impl ProofSink for Pair {
    fn file(&mut self) -> &mut (dyn Write + Send) {
        &mut *self.file
    }

    fn proof(&mut self) -> std::io::Result<&mut (dyn Write + Send)> {
        self.file.flush()?;
        Ok(&mut self.proof)
    }
}

/// A hidden temporary file beside `path`, removed unless put in place.
fn temporary_beside(path: &Path) -> anyhow::Result<NamedTempFile> {
    let dir = parent(path);
    let base = path
        .file_name()
        .map_or_else(|| "export".into(), |n| n.to_string_lossy().into_owned());
    tempfile::Builder::new()
        .prefix(&format!(".{base}."))
        .suffix(".partial")
        .tempfile_in(dir)
        .with_context(|| format!("cannot create a file in {}", dir.display()))
}

fn parent(path: &Path) -> &Path {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    }
}

/// Writes into a hidden temporary file beside `path`, syncs it and renames it into place.
/// The temporary file is removed on every failure (by `NamedTempFile`'s drop) and on Ctrl-C.
async fn to_file(
    store: &dyn Store,
    args: &Args,
    query: &Query,
    options: ExportOptions,
    path: &Path,
) -> anyhow::Result<ExportSummary> {
    let temp = temporary_beside(path)?;
    let writer = temp.as_file().try_clone()?;
    let failed = || {
        format!(
            "the export failed; nothing was written to {}",
            path.display()
        )
    };
    let exported = export(store, args, query, options, writer, true);
    let summary = tokio::select! {
        outcome = exported => outcome.with_context(failed)?,
        () = interrupted() => {
            // The export thread cannot be cancelled; remove its file and leave at once.
            drop(temp);
            eprintln!("interrupted: nothing was written to {}", path.display());
            std::process::exit(130);
        }
    };
    put_in_place(temp, path)
        .with_context(|| format!("cannot write {}; nothing was written", path.display()))?;
    Ok(summary)
}

async fn interrupted() {
    if tokio::signal::ctrl_c().await.is_err() {
        std::future::pending::<()>().await;
    }
}

/// Makes a complete temporary file durable under its final name.
fn put_in_place(temp: NamedTempFile, path: &Path) -> anyhow::Result<()> {
    temp.as_file().sync_all()?;
    // A replaced file keeps its permissions; a new one stays private to its owner (0600), as
    // audit records should.
    if let Ok(existing) = std::fs::metadata(path) {
        temp.as_file().set_permissions(existing.permissions())?;
    }
    temp.persist(path)?;
    std::fs::File::open(parent(path))?.sync_all()?;
    Ok(())
}

/// Runs the server's export, with a progress bar when `show_progress` and stderr is a
/// terminal.
async fn export<W: Write + Send + 'static>(
    store: &dyn Store,
    args: &Args,
    query: &Query,
    options: ExportOptions,
    writer: W,
    show_progress: bool,
) -> anyhow::Result<ExportSummary> {
    let bar = if show_progress && std::io::stderr().is_terminal() {
        // Counting costs a query, so only for a bar someone watches (for its ETA).
        progress::bar(Some(store.count(&args.partner, query).await?), "exporting")
    } else {
        indicatif::ProgressBar::hidden()
    };
    let ticker = bar.clone();
    let outcome = actlog_app::export::run(store, &args.partner, query, options, writer, {
        move |rows| ticker.set_position(rows)
    })
    .await;
    bar.finish_and_clear();
    Ok(outcome?)
}

/// Whether the reader of standard output went away (`actlog export | head`): not an error.
fn broken_pipe(err: &anyhow::Error) -> bool {
    matches!(
        err.downcast_ref::<ExportFailure>(),
        Some(ExportFailure::Export(ExportError::Io(io)))
            if io.kind() == std::io::ErrorKind::BrokenPipe
    )
}

/// The one-line summary, and what a spreadsheet user must know, on stderr.
fn report(
    summary: &ExportSummary,
    format: Format,
    place: &str,
    (from, to): (jiff::civil::Date, jiff::civil::Date),
    tz: &TimeZone,
) {
    let records = match summary.rows {
        1 => "1 record".to_owned(),
        n => format!("{} records", grouped(n)),
    };
    let zone = actlog_export::zone_name(tz);
    eprintln!("Exported {records} ({from} to {to}, {zone}) as {format} to {place}.");
    if summary.exceeded_excel_rows && format == Format::Csv {
        eprintln!("warning: Excel shows only the first 1,048,576 rows; the file is complete.");
    }
    if summary.sheets > 1 {
        eprintln!(
            "note: one worksheet holds 1,048,576 rows; the workbook continues on {} sheets.",
            summary.sheets
        );
    }
    if summary.truncated_cells > 0 {
        eprintln!(
            "warning: {} cell(s) were longer than Excel's 32,767 characters and were cut \
             (marked in the cell); the NDJSON export keeps them whole.",
            grouped(summary.truncated_cells)
        );
    }
}

/// `1234567` as `1,234,567`.
fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn counts_are_grouped_by_thousands() {
        let cases = [
            (0, "0"),
            (999, "999"),
            (1_000, "1,000"),
            (1_048_577, "1,048,577"),
        ];
        for (n, text) in cases {
            assert_eq!(super::grouped(n), text);
        }
    }
}
