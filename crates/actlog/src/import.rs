//! `actlog import FILE --partner P`: NDJSON (streamed) or a JSON document (an array, a Partner
//! Center audit-records response, or one record).
//!
//! The file is checked whole before anything is stored, so a bad line stores nothing and every
//! problem is reported with its line. Records without an id get one derived from their content,
//! so importing the same file twice stores nothing twice.

use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use anyhow::{Context, bail};
use sha2::{Digest, Sha256};

use actlog_domain::AuditRecord;
use actlog_domain::ingest::{self, BatchError};
use actlog_store::{AppendError, AppendReport, Store};

use crate::config::DatabaseUrl;
use crate::progress;
use crate::serve::open_store;

const BATCH: usize = 1_000;
const MAX_REPORTED: usize = 20;
/// Marks an id the importer must derive from the record's content.
const PENDING_ID: &str = "\u{1}pending";

enum Source {
    /// One record per line, read twice from the file.
    Lines(std::path::PathBuf),
    /// One JSON document held in memory.
    Document(String),
}

pub async fn run(url: &DatabaseUrl, file: &Path, partner: &str) -> anyhow::Result<()> {
    if partner.trim().is_empty() {
        bail!("--partner must name a partner");
    }
    let source = open_source(file)?;
    let total = match &source {
        Source::Lines(path) => check_lines(path, partner)?,
        Source::Document(text) => document_records(text, partner)?.len(),
    };
    let store = open_store(url).await?;
    store.ensure_partner(partner).await?;
    let mut loader = Loader {
        store: store.as_ref(),
        partner,
        batch: Vec::with_capacity(BATCH),
        report: AppendReport::default(),
        bar: progress::bar(Some(total as u64), "importing"),
    };
    match source {
        Source::Lines(path) => {
            for line in BufReader::new(std::fs::File::open(&path)?).lines() {
                let line = line?;
                if !line.trim().is_empty() {
                    loader
                        .push(one_record(&line, partner).map_err(anyhow::Error::msg)?)
                        .await?;
                }
            }
        }
        Source::Document(text) => {
            for record in document_records(&text, partner)? {
                loader.push(record).await?;
            }
        }
    }
    loader.flush().await?;
    loader.bar.finish_and_clear();
    println!(
        "Imported {total} records for partner {partner}: {} stored, {} already present.",
        loader.report.stored, loader.report.unchanged
    );
    Ok(())
}

/// Sends records to the store in batches.
struct Loader<'a> {
    store: &'a dyn Store,
    partner: &'a str,
    batch: Vec<AuditRecord>,
    report: AppendReport,
    bar: indicatif::ProgressBar,
}

impl Loader<'_> {
    async fn push(&mut self, record: AuditRecord) -> anyhow::Result<()> {
        self.batch.push(record);
        if self.batch.len() >= BATCH {
            self.flush().await?;
        }
        Ok(())
    }

    async fn flush(&mut self) -> anyhow::Result<()> {
        if self.batch.is_empty() {
            return Ok(());
        }
        let records = std::mem::take(&mut self.batch);
        let n = records.len() as u64;
        let done = append(self.store, self.partner, records).await?;
        self.report.stored += done.stored;
        self.report.unchanged += done.unchanged;
        self.bar.inc(n);
        Ok(())
    }
}

async fn append(
    store: &dyn Store,
    partner: &str,
    records: Vec<AuditRecord>,
) -> anyhow::Result<AppendReport> {
    match store.append(partner, records).await {
        Ok(report) => Ok(report),
        Err(AppendError::Conflict(ids)) => bail!(
            "{} record id(s) are already stored with different content (first: {}); the batches before were stored",
            ids.len(),
            ids.first().map(String::as_str).unwrap_or("")
        ),
        Err(AppendError::Store(err)) => Err(err.into()),
    }
}

/// NDJSON when the first non-blank line is a whole record; otherwise one JSON document.
fn open_source(file: &Path) -> anyhow::Result<Source> {
    if file == Path::new("-") {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .context("cannot read standard input")?;
        return Ok(Source::Document(text));
    }
    let reader = BufReader::new(
        std::fs::File::open(file).with_context(|| format!("cannot open {}", file.display()))?,
    );
    for line in reader.lines() {
        let line = line.with_context(|| format!("{} is not UTF-8 text", file.display()))?;
        let trimmed = line.trim().trim_start_matches('\u{feff}');
        if trimmed.is_empty() {
            continue;
        }
        let whole_record = matches!(serde_json::from_str::<serde_json::Value>(trimmed),
            Ok(serde_json::Value::Object(ref o)) if !o.contains_key("items"));
        if whole_record {
            return Ok(Source::Lines(file.to_owned()));
        }
        break;
    }
    let text = std::fs::read_to_string(file)
        .with_context(|| format!("cannot read {} as UTF-8 text", file.display()))?;
    Ok(Source::Document(text))
}

/// Checks every line; returns the number of records or every problem found.
fn check_lines(path: &Path, partner: &str) -> anyhow::Result<usize> {
    let mut count = 0;
    let mut problems = Vec::new();
    for (number, line) in BufReader::new(std::fs::File::open(path)?)
        .lines()
        .enumerate()
    {
        let line = line.with_context(|| format!("line {} is not UTF-8 text", number + 1))?;
        if line.trim().is_empty() {
            continue;
        }
        match one_record(&line, partner) {
            Ok(_) => count += 1,
            Err(message) if problems.len() < MAX_REPORTED => {
                problems.push(format!("line {}: {message}", number + 1))
            }
            Err(_) => {}
        }
    }
    if !problems.is_empty() {
        bail!(
            "nothing was imported; fix these records first:\n  {}",
            problems.join("\n  ")
        );
    }
    if count == 0 {
        bail!("{} holds no records", path.display());
    }
    Ok(count)
}

fn one_record(line: &str, partner: &str) -> Result<AuditRecord, String> {
    let line = line.trim().trim_start_matches('\u{feff}');
    ingest::parse_record(line, partner, &mut || PENDING_ID.to_owned()).map(with_content_id)
}

fn document_records(text: &str, partner: &str) -> anyhow::Result<Vec<AuditRecord>> {
    match ingest::parse_batch(text.as_bytes(), partner, usize::MAX, &mut || {
        PENDING_ID.to_owned()
    }) {
        Ok(records) => Ok(records.into_iter().map(with_content_id).collect()),
        Err(BatchError::Invalid(problems)) => {
            let lines: Vec<String> = problems.iter().map(ToString::to_string).collect();
            bail!(
                "nothing was imported; fix these records first:\n  {}",
                lines.join("\n  ")
            )
        }
        Err(err) => bail!("nothing was imported: {err}"),
    }
}

/// Gives a record without an id one derived from its content: `imp-` and 32 hex digits.
fn with_content_id(mut record: AuditRecord) -> AuditRecord {
    if record.id == PENDING_ID {
        let json = serde_json::to_vec(&record).expect("records always serialize");
        let digest = Sha256::digest(&json);
        record.id = format!(
            "imp-{}",
            digest[..16]
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<String>()
        );
    }
    record
}
