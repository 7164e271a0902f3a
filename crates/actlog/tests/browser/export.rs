//! Exports land in the browser's download folder as files Excel opens correctly: a UTF-8 BOM,
//! a header row, one row per record of the period.

use std::collections::HashSet;

use jiff::{Timestamp, ToSpan};

use crate::log_page::open_from_menu;
use crate::support::{self, BROWSER_TZ, GLOBAL_ADMIN, PASSWORD};

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// The records of an RFC 4180 text: quoted fields may hold separators, quotes and line ends.
fn csv_records(text: &str, separator: char) -> Vec<Vec<String>> {
    let mut records = Vec::new();
    let (mut record, mut field) = (Vec::new(), String::new());
    let (mut quoted, mut chars) = (false, text.chars().peekable());
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            '"' => quoted = !quoted,
            c if quoted => field.push(c),
            c if c == separator => record.push(std::mem::take(&mut field)),
            '\r' => {}
            '\n' => {
                record.push(std::mem::take(&mut field));
                records.push(std::mem::take(&mut record));
            }
            c => field.push(c),
        }
    }
    if !field.is_empty() || !record.is_empty() {
        record.push(field);
        records.push(record);
    }
    records
}

/// Reads a downloaded CSV: checks the BOM, returns the header and the data rows.
fn read_csv(path: &std::path::Path, separator: char) -> (Vec<String>, Vec<Vec<String>>) {
    let bytes = std::fs::read(path).unwrap();
    assert!(
        bytes.starts_with(BOM),
        "{} has no UTF-8 BOM",
        path.display()
    );
    let text = std::str::from_utf8(&bytes[BOM.len()..]).expect("UTF-8");
    let mut records = csv_records(text, separator).into_iter();
    let header = records.next().expect("a header row");
    (header, records.collect())
}

/// The header of an English export whose times are in the browser's zone.
fn check_header(header: &[String]) {
    assert_eq!(header[0], format!("Date-Time ({BROWSER_TZ})"), "{header:?}");
    assert_eq!(
        header[1..4],
        ["Affected customer", "Action", "Partner user"],
        "{header:?}"
    );
}

/// `n` with en-US digit grouping: 12,345.
fn grouped(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

#[test]
fn the_csv_reader_keeps_quoted_separators_and_line_ends() {
    let text = "a,b\r\n\"x, \"\"y\"\"\",\"two\r\nlines\"\r\n";
    assert_eq!(
        csv_records(text, ','),
        [vec!["a", "b"], vec!["x, \"y\"", "two\r\nlines"]]
    );
    assert_eq!(grouped(6_702), "6,702");
    assert_eq!(grouped(999), "999");
    assert_eq!(grouped(1_234_567), "1,234,567");
}

#[tokio::test]
async fn a_signed_in_export_lands_in_the_download_folder_with_every_record() {
    let Some((browser, demo)) = support::start().await else {
        return;
    };
    browser.sign_in(GLOBAL_ADMIN, PASSWORD).await;
    // Instants, not days: bare days are read in the export's zone but in UTC by the list.
    let end = Timestamp::from_second(Timestamp::now().as_second()).unwrap();
    let start = end.checked_sub((7 * 24).hours()).unwrap();
    browser
        .goto(&format!(
            "/v1/auditrecords/export?format=csv&startDate={start}&endDate={end}"
        ))
        .await;
    let file = browser
        .wait_for_download_matching(|name| {
            name.starts_with("activity-log_") && name.ends_with(".csv")
        })
        .await;

    let (header, rows) = read_csv(&file, ',');
    check_header(&header);
    assert!(rows.iter().all(|r| r.len() == header.len()));
    let record_id = header.iter().position(|h| h == "Record ID").unwrap();
    let exported: Vec<&str> = rows.iter().map(|r| r[record_id].as_str()).collect();
    let expected = demo.record_ids(&start.to_string(), &end.to_string()).await;
    assert!(
        !expected.is_empty(),
        "the demo has records in the last week"
    );
    let unique: HashSet<&str> = exported.iter().copied().collect();
    assert_eq!(unique.len(), exported.len(), "a record exported twice");
    let missing: Vec<&String> = expected
        .iter()
        .filter(|id| !unique.contains(id.as_str()))
        .collect();
    assert!(
        missing.is_empty() && exported.len() == expected.len(),
        "{} exported, {} in the period; missing {:?}",
        exported.len(),
        expected.len(),
        &missing[..missing.len().min(5)]
    );
}

#[tokio::test]
async fn export_log_downloads_the_period_on_the_page() {
    let Some((browser, _demo)) = support::start().await else {
        return;
    };
    open_from_menu(&browser).await;
    let from = browser.wait_for("#from").await.prop("value").await.unwrap();
    let to = browser.wait_for("#to").await.prop("value").await.unwrap();
    let (from, to) = (from.unwrap(), to.unwrap());
    let summary = browser.text("#summary").await;

    let format = browser
        .wait_for("form#export select#export-format[name=format]")
        .await;
    let mut options = Vec::new();
    for option in format
        .find_all(fantoccini::Locator::Css("option"))
        .await
        .unwrap()
    {
        options.push(option.attr("value").await.unwrap().unwrap_or_default());
    }
    assert!(options.iter().any(|o| o == "csv") && options.iter().any(|o| o == "xlsx"));
    format.select_by_value("csv").await.unwrap();
    let button = browser.wait_for("form#export button#export-button").await;
    assert_eq!(button.text().await.unwrap().trim(), "Export log");
    button.click().await.unwrap();

    let file = browser
        .wait_for_download(&format!("activity-log_{from}_{to}.csv"))
        .await;
    let (header, rows) = read_csv(&file, ',');
    check_header(&header);
    assert!(!rows.is_empty());
    assert!(
        summary.contains(&grouped(rows.len())),
        "#summary {summary:?} does not show the {} exported records",
        rows.len()
    );

    let format = browser.wait_for("select#export-format").await;
    format.select_by_value("xlsx").await.unwrap();
    browser
        .wait_for("button#export-button")
        .await
        .click()
        .await
        .unwrap();
    let file = browser
        .wait_for_download(&format!("activity-log_{from}_{to}.xlsx"))
        .await;
    let bytes = std::fs::read(file).unwrap();
    assert!(bytes.starts_with(b"PK"), "an XLSX is a zip");
}
