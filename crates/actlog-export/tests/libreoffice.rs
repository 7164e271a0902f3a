//! The exports opened in a real spreadsheet: LibreOffice Calc, headless.
//!
//! Each test exports the hostile data set, has Calc open the file — a CSV with the import
//! settings Excel uses for the language (UTF-8, that separator, dates and numbers detected in
//! quoted fields too), an XLSX as it is — and save what it read as XLSX, then reads every cell
//! of that back and compares it with the records: equal text, Date-Time cells that are dates
//! holding the right instant, and no formula anywhere.
//!
//! Calc keeps line breaks inside a cell as LF: it turns CR and CRLF into LF when it reads a
//! CSV field or an XLSX string (`_x000D_`), so line ends inside cells are compared after that
//! normalization; everything else is compared exactly. (That our XLSX holds the CR itself is
//! checked by the unit tests, which read the file directly.)

mod support;

use std::fs::File;
use std::path::{Path, PathBuf};

use actlog_domain::OperationDate;
use actlog_domain::catalog::Lang;
use actlog_export::{ExportOptions, Exporter, Format, Period, headers, is_dangerous};
use jiff::tz::TimeZone;
use support::{calc, hostile, xlsx};

fn options(format: Format, lang: Lang, tz: &str, separator: Option<char>) -> ExportOptions {
    let period = Period {
        from: OperationDate::parse_rfc3339("2025-03-01T00:00:00Z").unwrap(),
        to: None,
    };
    let mut options = ExportOptions::new(format, lang, TimeZone::get(tz).unwrap(), period);
    options.separator = separator;
    options
}

fn export(dir: &Path, name: &str, options: &ExportOptions) -> PathBuf {
    let path = dir.join(name);
    let mut file = File::create(&path).unwrap();
    let mut exporter = Exporter::new(&mut file, options).unwrap();
    for record in hostile::records() {
        exporter.write_record(&record).unwrap();
    }
    let summary = exporter.finish().unwrap();
    assert_eq!(summary.truncated_cells, 1);
    path
}

/// Opens a file in Calc and returns the sheets Calc read.
fn open_in_calc(soffice: &Path, input: &Path, infilter: Option<&str>) -> xlsx::Book {
    let out = tempfile::tempdir().unwrap();
    let converted = calc::convert_to_xlsx(soffice, input, infilter, out.path());
    xlsx::read(File::open(converted).unwrap())
}

fn normalize_line_ends(text: &str) -> String {
    text.replace("\r\n", "\n").replace('\r', "\n")
}

/// Compares every cell Calc read with the records.
fn assert_sheet_matches(sheet: &xlsx::Sheet, options: &ExportOptions, from_csv: bool) {
    let records = hostile::records();
    let zone = options.tz.iana_name().unwrap();
    assert_eq!(
        sheet.rows.len(),
        records.len() + 1,
        "one row per record and a header"
    );
    for (col, header) in headers(options.lang, zone).iter().enumerate() {
        let cell = sheet.cell(0, col).expect("header cell");
        assert_eq!(cell.text(), Some(header.as_str()));
    }
    for (index, record) in records.iter().enumerate() {
        let row = index + 1;
        assert!(sheet.rows[row].len() <= 12, "{}: extra columns", record.id);
        for (col, cell) in sheet.rows[row].iter().enumerate() {
            if let Some(cell) = cell {
                assert_eq!(
                    cell.formula, None,
                    "{} column {col} is a formula",
                    record.id
                );
            }
        }
        let date = sheet.cell(row, 0).expect("a Date-Time cell");
        let local = options.tz.to_datetime(record.operation_date.timestamp());
        let serial = xlsx::excel_serial(local.with().subsec_nanosecond(0).build().unwrap());
        match date.value {
            xlsx::Value::Number(value) => assert!(
                date.is_date() && (value - serial).abs() < 1e-6,
                "{}: Date-Time {value} in format {:?}, expected {serial}",
                record.id,
                date.num_format
            ),
            _ => panic!("{}: Date-Time is not a date: {date:?}", record.id),
        }
        let expected = hostile::expected_cells(record, options.lang, &options.tz);
        for (col, expected) in expected.iter().enumerate().skip(1) {
            let context = format!("{} column {col}", record.id);
            let actual = match sheet.cell(row, col).map(|c| &c.value) {
                None | Some(xlsx::Value::Empty) => String::new(),
                Some(xlsx::Value::Text(text)) => text.clone(),
                Some(other) => panic!("{context}: Calc read {other:?}, not text"),
            };
            hostile::assert_cell(
                &normalize_line_ends(&actual),
                &normalize_line_ends(expected),
                from_csv && is_dangerous(expected),
                options.lang,
                &context,
            );
        }
    }
}

/// The import settings Excel applies to a CSV: UTF-8 (76), `"` as quote (34), from line 1,
/// the locale's conventions, quoted fields not forced to text, dates detected.
fn excel_like_infilter(separator: char, lang: Lang) -> String {
    let language = match lang {
        Lang::En => 1033,
        Lang::It => 1040,
    };
    format!("CSV:{},34,76,1,,{language},false,true", separator as u32)
}

fn check_csv(lang: Lang, tz: &str, separator: Option<char>) {
    let Some(soffice) = calc::soffice() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let options = options(Format::Csv, lang, tz, separator);
    let csv = export(dir.path(), "export.csv", &options);
    let infilter = excel_like_infilter(options.effective_separator(), lang);
    let book = open_in_calc(&soffice, &csv, Some(&infilter));
    assert_eq!(book.sheets.len(), 1);
    assert_sheet_matches(&book.sheets[0], &options, true);
}

#[test]
fn english_comma_csv_reads_back_cell_for_cell_in_calc() {
    check_csv(Lang::En, "America/Los_Angeles", None);
}

#[test]
fn italian_semicolon_csv_reads_back_cell_for_cell_in_calc() {
    check_csv(Lang::It, "Europe/Rome", None);
}

#[test]
fn tab_separated_csv_reads_back_cell_for_cell_in_calc() {
    check_csv(Lang::It, "Europe/Rome", Some('\t'));
}

#[test]
fn xlsx_reads_back_cell_for_cell_in_calc() {
    let Some(soffice) = calc::soffice() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    for (lang, tz) in [(Lang::It, "Europe/Rome"), (Lang::En, "Asia/Tokyo")] {
        let options = options(Format::Xlsx, lang, tz, None);
        let file = export(dir.path(), &format!("export-{}.xlsx", lang.tag()), &options);
        let book = open_in_calc(&soffice, &file, None);
        assert_eq!(book.sheets.len(), 1);
        let sheet = &book.sheets[0];
        assert_sheet_matches(sheet, &options, false);
        // The frozen header row is view data, which headless Calc neither loads nor saves;
        // the unit tests check it in our file.
        assert_eq!(
            sheet.autofilter.as_deref(),
            Some("A1:L11"),
            "filter buttons"
        );
        assert!(sheet.cell(0, 0).unwrap().bold);
    }
}

/// Proves the checks above can fail: an unprotected CSV does run formulas in Calc, and the
/// reader sees them.
#[test]
fn control_an_unneutralized_csv_would_run_a_formula() {
    let Some(soffice) = calc::soffice() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("unsafe.csv");
    std::fs::write(&path, "\u{feff}a,b\r\n=1+2,\"'=1+2\"\r\n").unwrap();
    let book = open_in_calc(&soffice, &path, Some(&excel_like_infilter(',', Lang::En)));
    let sheet = &book.sheets[0];
    assert_eq!(sheet.cell(1, 0).unwrap().formula.as_deref(), Some("1+2"));
    assert_eq!(sheet.cell(1, 1).unwrap().text(), Some("'=1+2"));
    assert_eq!(sheet.cell(1, 1).unwrap().formula, None);
}
