//! What the fuzz targets share: records, texts and export options made from fuzz input, and
//! the export crate's independent readers and expectations (its test support, included by
//! path so that the targets check the files against the same statement of what they must hold).
//!
//! Each target in `fuzz_targets/` feeds one parser or writer and asserts what must hold of
//! whatever it answers; a failed assertion is a crash, and `scripts/fuzz` reports it.

use actlog_domain::catalog::Lang;
use actlog_domain::extensions::{Extensions, Members, Raw};
use actlog_domain::ingest::parse_batch;
use actlog_domain::record::{Attributes, AuditRecord, KeyValue};
use actlog_domain::time::OperationDate;
use actlog_export::{ExportOptions, Format, Period};
use jiff::tz::{TimeZone, offset};
use libfuzzer_sys::arbitrary::{Result, Unstructured};

#[path = "../../crates/actlog-export/tests/support/hostile.rs"]
pub mod hostile;
#[path = "../../crates/actlog-export/tests/support/xlsx.rs"]
pub mod xlsx;

/// The partner every target writes and reads for.
pub const PARTNER: &str = "partner-fuzz";

/// Ids for records that bring none, numbered in batch order.
pub fn ids() -> impl FnMut() -> String {
    let mut n = 0;
    move || {
        n += 1;
        format!("generated-{n}")
    }
}

/// Pieces of text that have broken spreadsheets, CSV readers, XML or JSON somewhere.
const PIECES: &[&str] = &[
    "=",
    "+",
    "-",
    "@",
    "\t",
    "\r",
    "\n",
    "\r\n",
    "\"",
    "'",
    ",",
    ";",
    " ",
    "&",
    "<",
    ">",
    "_x000D_",
    "_x",
    "é",
    "ß",
    "İ",
    "Σ",
    "😀",
    "\u{feff}",
    "\u{fffe}",
    "\u{ffff}",
    "\0",
    "\u{1}",
    "\u{7f}",
    "\u{85}",
    "\u{2028}",
    "\u{d7ff}",
    "\u{e000}",
    "=HYPERLINK(\"x\")",
    "{\"a\":1}",
];

/// A text built from [`PIECES`] and arbitrary characters.
pub fn text(u: &mut Unstructured<'_>) -> Result<String> {
    let mut out = String::new();
    for _ in 0..u.int_in_range(0..=12)? {
        if u.ratio(1, 2)? {
            out.push_str(u.choose(PIECES)?);
        } else {
            out.push(u.arbitrary::<char>()?);
        }
    }
    Ok(out)
}

fn optional(u: &mut Unstructured<'_>) -> Result<Option<String>> {
    Ok(if u.ratio(1, 4)? { None } else { Some(text(u)?) })
}

/// An instant in actlog's range (what every stored record holds).
pub fn instant(u: &mut Unstructured<'_>) -> Result<OperationDate> {
    let ticks = u.int_in_range(OperationDate::MIN.ticks()..=OperationDate::MAX.ticks())?;
    Ok(OperationDate::from_ticks(ticks))
}

/// A record with arbitrary texts in every field (not only what ingest accepts: an export must
/// cope with whatever a store holds).
pub fn record(u: &mut Unstructured<'_>) -> Result<AuditRecord> {
    let operation_type = match u.int_in_range(0..=2)? {
        0 => "create_order".to_owned(),
        1 => "update_customer_qualification".to_owned(),
        _ => text(u)?,
    };
    let operation_status = match u.int_in_range(0..=3)? {
        0 => Some("succeeded".to_owned()),
        1 => Some("failed".to_owned()),
        2 => None,
        _ => Some(text(u)?),
    };
    let customized_data = if u.ratio(1, 3)? {
        None
    } else {
        let mut items = Vec::new();
        for _ in 0..u.int_in_range(0..=4)? {
            items.push(KeyValue {
                key: text(u)?,
                value: optional(u)?,
            });
        }
        Some(items)
    };
    let mut members = Vec::new();
    for _ in 0..u.int_in_range(0..=2)? {
        let value = serde_json::to_string(&text(u)?).expect("a string serializes");
        members.push((text(u)?, Raw::from_text(&value).expect("a JSON string")));
    }
    let mut record = AuditRecord {
        id: text(u)?,
        partner_id: PARTNER.to_owned(),
        customer_id: optional(u)?,
        customer_name: optional(u)?,
        user_principal_name: optional(u)?,
        application_id: optional(u)?,
        resource_type: optional(u)?,
        resource_old_value: optional(u)?,
        resource_new_value: optional(u)?,
        operation_type,
        operation_date: instant(u)?,
        operation_status,
        customized_data,
        session_id: optional(u)?,
        original_correlation_id: optional(u)?,
        attributes: Attributes::audit_record(),
        extensions: Extensions {
            members: Members(members),
            ..Extensions::default()
        },
    };
    // Now and then a cell past Excel's 32,767 characters, which must be cut with a marker.
    if u.ratio(1, 64)? {
        let long = text(u)? + "x";
        record.customer_name = Some(long.repeat(33_000 / long.len() + 1));
    }
    Ok(record)
}

/// Records from fuzz input: a batch body when it looks like JSON (so that the seed corpus
/// holds real Partner Center records), otherwise built from the bytes.
pub fn records(data: &[u8]) -> Result<Vec<AuditRecord>> {
    if matches!(data.first(), Some(b'{' | b'[')) {
        return Ok(parse_batch(data, PARTNER, 64, &mut ids()).unwrap_or_default());
    }
    let mut u = Unstructured::new(data);
    let mut records = Vec::new();
    for _ in 0..u.int_in_range(1..=4)? {
        records.push(record(&mut u)?);
    }
    Ok(records)
}

/// Zones with offsets east and west, with and without daylight saving time, and fixed.
pub fn zone(index: usize) -> TimeZone {
    match index % 6 {
        0 => TimeZone::UTC,
        1 => TimeZone::get("Europe/Rome").expect("bundled"),
        2 => TimeZone::get("America/Los_Angeles").expect("bundled"),
        3 => TimeZone::get("Pacific/Kiritimati").expect("bundled"),
        4 => TimeZone::fixed(offset(-12)),
        _ => TimeZone::get("Australia/Lord_Howe").expect("bundled"),
    }
}

/// Export options chosen by `seed`: language, separator, zone and period.
pub fn options(format: Format, seed: usize) -> ExportOptions {
    let lang = if seed.is_multiple_of(2) {
        Lang::En
    } else {
        Lang::It
    };
    let mut options = ExportOptions::new(
        format,
        lang,
        zone(seed / 2),
        Period {
            from: OperationDate::MIN,
            to: [None, Some(OperationDate::MAX)][seed / 12 % 2],
        },
    );
    options.separator = [None, Some(','), Some(';'), Some('\t')][seed / 24 % 4];
    options
}

/// The cells a record's row must hold, before neutralization and the length cut: the export
/// tests' statement, with the Details lines of members this version does not model.
pub fn expected_cells(record: &AuditRecord, lang: Lang, tz: &TimeZone) -> Vec<String> {
    let mut cells = hostile::expected_cells(record, lang, tz);
    let details = cells.last_mut().expect("twelve cells");
    for (name, value) in &record.extensions.members.0 {
        if !details.is_empty() {
            details.push('\n');
        }
        details.push_str(&format!("{name}: {}", value.get()));
    }
    cells
}

/// Whether `c` may appear in an XML 1.0 document at all (the `Char` production): Excel refuses
/// a part with any other character, escaped or not.
pub fn xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{d7ff}' | '\u{e000}'..='\u{fffd}' | '\u{10000}'..)
}
