//! The CSV export of arbitrary records: it is written without error, an independent RFC 4180
//! reader (the `csv` crate) reads back one row per record and twelve cells per row, every cell
//! holds the record's text (with the apostrophe that neutralizes a formula, and the marker of
//! a cut), and no cell starts with a character a spreadsheet reads as a formula.

#![no_main]

use actlog_export::{COLUMN_COUNT, Exporter, Format, headers, is_dangerous, zone_name};
use actlog_fuzz::{expected_cells, hostile, options, records};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(records) = records(data) else { return };
    let options = options(Format::Csv, data.len());
    let mut out = Vec::new();
    let mut exporter = Exporter::new(&mut out, &options).expect("a CSV starts");
    for record in &records {
        exporter.write_record(record).expect("a row is written");
    }
    let summary = exporter.finish().expect("a CSV finishes");
    assert_eq!(summary.rows, records.len() as u64);

    let text = std::str::from_utf8(&out).expect("a CSV is UTF-8");
    let body = text
        .strip_prefix('\u{feff}')
        .expect("a byte-order mark first");
    let separator = options.effective_separator() as u8;
    let rows: Vec<Vec<String>> = csv::ReaderBuilder::new()
        .delimiter(separator)
        .has_headers(false)
        .from_reader(body.as_bytes())
        .records()
        .map(|row| {
            let row = row.expect("the CSV reads back");
            row.iter().map(str::to_owned).collect()
        })
        .collect();
    assert_eq!(
        rows.len(),
        records.len() + 1,
        "one row per record and a header"
    );
    assert_eq!(rows[0], headers(options.lang, &zone_name(&options.tz)));

    let mut truncated = 0;
    for (row, record) in rows[1..].iter().zip(&records) {
        assert_eq!(row.len(), COLUMN_COUNT);
        let expected = expected_cells(record, options.lang, &options.tz);
        for (col, (actual, expected)) in row.iter().zip(&expected).enumerate() {
            assert!(
                !is_dangerous(actual),
                "column {col} starts a formula: {actual:?}"
            );
            let neutral = hostile::with_apostrophe(expected);
            let context = format!("record {:?} column {col}", record.id);
            hostile::assert_cell(
                actual,
                expected,
                is_dangerous(expected),
                options.lang,
                &context,
            );
            truncated += u64::from(neutral.encode_utf16().count() > actlog_export::MAX_CELL_LEN);
        }
    }
    assert_eq!(summary.truncated_cells, truncated);
});
