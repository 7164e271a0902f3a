//! The export engine: audit records to Excel-safe CSV, XLSX and NDJSON, streamed.
//!
//! One engine serves the dashboard's "Export log" button, the HTTP export endpoint and
//! `actlog export`. It is synchronous and works row by row: the caller pulls records from the
//! store (on whatever thread) and hands each to [`Exporter::write_record`]; memory does not
//! grow with the size of the export.
//!
//! ```no_run
//! # fn records() -> Vec<actlog_domain::AuditRecord> { Vec::new() }
//! use actlog_export::{ExportOptions, Exporter, Format, Period};
//! use actlog_domain::{OperationDate, catalog::Lang};
//!
//! let period = Period { from: OperationDate::from_ticks(0), to: None };
//! let tz = jiff::tz::TimeZone::get("Europe/Rome")?;
//! let options = ExportOptions::new(Format::Csv, Lang::It, tz, period);
//! let mut file = std::fs::File::create("activity-log.csv.partial")?;
//! let mut exporter = Exporter::new(&mut file, &options)?;
//! for record in records() {
//!     exporter.write_record(&record)?;
//! }
//! let summary = exporter.finish()?;
//! file.sync_all()?;
//! std::fs::rename("activity-log.csv.partial", "activity-log.csv")?;
//! if summary.exceeded_excel_rows {
//!     eprintln!("{} rows: more than Excel shows in one sheet", summary.rows);
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Failures and partial files
//!
//! An error from any method means the export is incomplete, and the caller must not present
//! what was written as a complete file: abort the HTTP response (so that the client sees a
//! broken transfer rather than a clean end), or delete the partial file. A CSV or NDJSON cut
//! short is otherwise indistinguishable from a complete one; the engine writes no trailer,
//! since a spreadsheet would show it as a row. Only a successful [`Exporter::finish`] means
//! the export is complete. (An XLSX reaches the writer only in `finish`, so an XLSX export
//! that fails earlier has written nothing.)
//!
//! # Layout
//!
//! - [`options`](ExportOptions): format, language, zone, separator, period; file name and
//!   Content-Type.
//! - `columns`: the twelve columns, their headers in English and Italian, a record's text.
//! - `details`: the one readable Details cell.
//! - `cell`: formula neutralization and the 32,767-character cut, for every text cell.
//! - `time_text`: the local and the exact UTC date-time text.
//! - `csv_out`, `xlsx_out`, `ndjson_out`: one writer per format.

mod cell;
mod columns;
mod csv_out;
mod details;
mod ndjson_out;
mod options;
mod time_text;
mod xlsx_out;

use std::io::{self, Write};

use actlog_domain::AuditRecord;

pub use cell::{MAX_CELL_LEN, is_dangerous};
pub use columns::{COUNT as COLUMN_COUNT, headers, zone_name};
pub use options::{
    ExportOptions, Format, Period, UnknownFormat, UnknownSeparator, content_disposition,
    content_type, file_name, parse_separator,
};
pub use xlsx_out::EXCEL_MAX_ROWS;

use csv_out::CsvOut;
use ndjson_out::NdjsonOut;
use xlsx_out::XlsxOut;

/// Why an export failed. Whatever was written must then be discarded (see the crate docs).
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("writing the export failed: {0}")]
    Io(#[from] io::Error),
    #[error("building the XLSX workbook failed: {0}")]
    Xlsx(#[from] rust_xlsxwriter::XlsxError),
    #[error(transparent)]
    Separator(#[from] UnknownSeparator),
}

/// What a finished export holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExportSummary {
    /// Records written (the header row not counted).
    pub rows: u64,
    /// Cells cut to Excel's 32,767 characters (each carries a visible marker).
    pub truncated_cells: u64,
    /// More rows than one Excel worksheet shows (1,048,576 with the header): Excel opens
    /// such a CSV without its last rows, so tell the user; the file itself is complete, and
    /// an XLSX continues on further worksheets. Always `false` for NDJSON.
    pub exceeded_excel_rows: bool,
    /// Worksheets in an XLSX; 0 for CSV and NDJSON.
    pub sheets: u32,
}

/// Writes one export, record by record, into `W`.
///
/// `W` may be a file, a `Vec<u8>`, or a writer feeding an HTTP body; pass `&mut w` to keep
/// the writer after [`Self::finish`]. CSV and NDJSON are buffered and reach `W` as they go;
/// XLSX reaches it in [`Self::finish`].
#[derive(Debug)]
pub struct Exporter<W: Write + Send> {
    sink: Sink<W>,
    rows: u64,
    truncated_cells: u64,
}

#[derive(Debug)]
enum Sink<W: Write + Send> {
    Csv(CsvOut<W>),
    Xlsx(Box<XlsxOut<W>>),
    Ndjson(NdjsonOut<W>),
}

impl<W: Write + Send> Exporter<W> {
    /// Starts an export: a CSV gets its byte-order mark and header row at once.
    pub fn new(writer: W, options: &ExportOptions) -> Result<Self, ExportError> {
        let sink = match options.format {
            Format::Csv => {
                let separator = csv_separator(options.effective_separator())?;
                Sink::Csv(CsvOut::new(
                    writer,
                    separator,
                    options.lang,
                    options.tz.clone(),
                )?)
            }
            Format::Xlsx => Sink::Xlsx(Box::new(XlsxOut::new(
                writer,
                options.lang,
                options.tz.clone(),
                &title(options),
                options.temp_dir.as_deref(),
            )?)),
            Format::Ndjson => Sink::Ndjson(NdjsonOut::new(writer)),
        };
        Ok(Exporter {
            sink,
            rows: 0,
            truncated_cells: 0,
        })
    }

    /// Adds one record. Records are written in the order given.
    pub fn write_record(&mut self, record: &AuditRecord) -> Result<(), ExportError> {
        let truncated = match &mut self.sink {
            Sink::Csv(csv) => csv.write_record(record)?,
            Sink::Xlsx(xlsx) => xlsx.write_record(record)?,
            Sink::Ndjson(ndjson) => {
                ndjson.write_record(record)?;
                0
            }
        };
        self.rows += 1;
        self.truncated_cells += u64::from(truncated);
        Ok(())
    }

    /// Records written so far, for progress reports.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// Completes the file and flushes it into the writer. Only after this returns `Ok` is the
    /// export complete.
    pub fn finish(self) -> Result<ExportSummary, ExportError> {
        let spreadsheet = !matches!(self.sink, Sink::Ndjson(_));
        let sheets = match self.sink {
            Sink::Csv(csv) => {
                csv.finish()?;
                0
            }
            Sink::Xlsx(xlsx) => {
                let sheets = xlsx.sheets();
                xlsx.finish()?;
                sheets
            }
            Sink::Ndjson(ndjson) => {
                ndjson.finish()?;
                0
            }
        };
        Ok(ExportSummary {
            rows: self.rows,
            truncated_cells: self.truncated_cells,
            exceeded_excel_rows: spreadsheet && exceeds_excel(self.rows),
            sheets,
        })
    }
}

/// Whether `rows` records and a header row are more than one Excel worksheet holds.
fn exceeds_excel(rows: u64) -> bool {
    rows + 1 > u64::from(EXCEL_MAX_ROWS)
}

fn csv_separator(separator: char) -> Result<u8, UnknownSeparator> {
    match separator {
        ',' | ';' | '\t' => Ok(separator as u8),
        other => Err(UnknownSeparator(other.to_string())),
    }
}

/// The XLSX document title: what and which period, in the export's language and zone.
fn title(options: &ExportOptions) -> String {
    let (name, open) = match options.lang {
        actlog_domain::catalog::Lang::En => ("Activity log", "now"),
        actlog_domain::catalog::Lang::It => ("Log attività", "oggi"),
    };
    let local = |at: actlog_domain::OperationDate| {
        let mut text = String::new();
        time_text::push_local(&mut text, time_text::local(at, &options.tz));
        text
    };
    let to = options.period.to.map_or(open.to_owned(), local);
    format!(
        "{name} {} – {to} ({})",
        local(options.period.from),
        zone_name(&options.tz)
    )
}

#[cfg(test)]
mod tests;
