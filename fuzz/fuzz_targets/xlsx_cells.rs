//! The XLSX export of arbitrary records: it is written without error, every part is XML that
//! Excel accepts (no character outside XML 1.0's), and a SpreadsheetML reader finds one row per
//! record with a date cell (or its text, before 1 March 1900) and the record's texts, no
//! formula anywhere, and the quote prefix exactly on the cells that look like formulas.

#![no_main]

use std::io::{Cursor, Read};

use actlog_export::{Exporter, Format, headers, is_dangerous, zone_name};
use actlog_fuzz::{expected_cells, hostile, options, records, xlsx, xml_char};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(records) = records(data) else { return };
    let options = options(Format::Xlsx, data.len());
    let mut out = Vec::new();
    let mut exporter = Exporter::new(&mut out, &options).expect("a workbook starts");
    for record in &records {
        exporter.write_record(record).expect("a row is written");
    }
    let summary = exporter.finish().expect("a workbook is produced");
    assert_eq!((summary.rows, summary.sheets), (records.len() as u64, 1));

    let mut zip = zip::ZipArchive::new(Cursor::new(&out)).expect("an XLSX is a zip");
    for index in 0..zip.len() {
        let mut part = zip.by_index(index).expect("a part opens");
        let name = part.name().expect("a part has a name").into_owned();
        let mut xml = String::new();
        part.read_to_string(&mut xml).expect("a part is UTF-8");
        if let Some(bad) = xml.chars().find(|&c| !xml_char(c)) {
            panic!("{name} holds {bad:?}, which XML 1.0 does not allow");
        }
    }

    let book = xlsx::read(Cursor::new(&out));
    let sheet = &book.sheets[0];
    assert_eq!(sheet.rows.len(), records.len() + 1);
    for (col, header) in headers(options.lang, &zone_name(&options.tz))
        .iter()
        .enumerate()
    {
        assert_eq!(
            sheet.cell(0, col).and_then(|c| c.text()),
            Some(header.as_str())
        );
    }
    for (index, record) in records.iter().enumerate() {
        let row = index + 1;
        let expected = expected_cells(record, options.lang, &options.tz);
        let local = options.tz.to_datetime(record.operation_date.timestamp());
        let local = local
            .with()
            .subsec_nanosecond(0)
            .build()
            .expect("a whole second");
        let date = sheet.cell(row, 0).expect("a date cell");
        if local.date() >= jiff::civil::date(1900, 3, 1) {
            let serial = xlsx::excel_serial(local);
            assert!(
                matches!(date.value, xlsx::Value::Number(v) if (v - serial).abs() < 1e-6),
                "{date:?} is not {local}"
            );
        } else {
            assert_eq!(date.text(), Some(expected[0].as_str()));
        }
        for (col, expected) in expected.iter().enumerate().skip(1) {
            let context = format!("record {:?} column {col}", record.id);
            let cell = sheet.cell(row, col);
            let actual = cell.and_then(|c| c.text()).unwrap_or("");
            hostile::assert_cell(actual, expected, false, options.lang, &context);
            if let Some(cell) = cell {
                assert_eq!(cell.formula, None, "{context}");
                assert_eq!(cell.quote_prefix, is_dangerous(expected), "{context}");
            }
        }
    }
});
