//! The ingest parser on arbitrary bodies. An accepted batch holds 1 to `MAX` records of the
//! caller's partner, each of which, written out as the API returns it and read again, is the
//! same record; the whole batch, sent back as a JSON array or as NDJSON, reads as the same
//! records. A refused batch says why, with lines inside the body and indexes in order.

#![no_main]

use actlog_domain::AuditRecord;
use actlog_domain::ingest::{BatchError, MAX_DEPTH, parse_batch, parse_record};
use actlog_domain::time::OperationDate;
use actlog_fuzz::{PARTNER, ids};
use libfuzzer_sys::fuzz_target;

const MAX: usize = 16;

fuzz_target!(|data: &[u8]| {
    let lines = 1 + data.iter().filter(|&&b| b == b'\n').count();
    match parse_batch(data, PARTNER, MAX, &mut ids()) {
        Ok(records) => accepted(&records),
        Err(BatchError::NotUtf8 { offset }) => {
            assert!(std::str::from_utf8(&data[..offset]).is_ok());
            assert!(std::str::from_utf8(&data[offset..]).is_err());
        }
        Err(BatchError::Invalid(problems)) => {
            assert!(
                (1..=20).contains(&problems.len()),
                "{} problems",
                problems.len()
            );
            assert!(problems.windows(2).all(|p| p[0].index < p[1].index));
            for p in &problems {
                assert!((1..=lines).contains(&p.line), "line {} of {lines}", p.line);
                // Past the limit only for the value that broke off the body.
                assert!(p.index <= MAX, "index {}", p.index);
                assert!(!p.message.is_empty());
            }
        }
        Err(BatchError::TooMany { max }) => assert_eq!(max, MAX),
        Err(BatchError::TooDeep { max, line }) => {
            assert_eq!(max, MAX_DEPTH);
            assert!((1..=lines).contains(&line), "line {line} of {lines}");
        }
        Err(BatchError::Empty) => {}
    }
    // One record on its own: whatever it accepts round-trips too.
    if let Ok(text) = std::str::from_utf8(data)
        && let Ok(record) = parse_record(text, PARTNER, &mut ids())
    {
        round_trips(&record);
    }
});

fn accepted(records: &[AuditRecord]) {
    assert!(
        (1..=MAX).contains(&records.len()),
        "{} records",
        records.len()
    );
    for record in records {
        assert_eq!(record.partner_id, PARTNER);
        assert!(!record.id.is_empty() && !record.operation_type.is_empty());
        round_trips(record);
    }
    let written: Vec<String> = records
        .iter()
        .map(|r| serde_json::to_string(r).expect("records serialize"))
        .collect();
    for body in [format!("[{}]", written.join(",")), written.join("\n")] {
        let again = parse_batch(body.as_bytes(), PARTNER, MAX, &mut ids());
        assert_eq!(again.as_deref(), Ok(records), "re-read from {body}");
    }
}

/// Written as the API returns it and read again, a record is the same record.
fn round_trips(record: &AuditRecord) {
    let date = record.operation_date;
    assert!((OperationDate::MIN..=OperationDate::MAX).contains(&date));
    assert_eq!(OperationDate::parse_rfc3339(&date.to_string()), Ok(date));
    let json = serde_json::to_string(record).expect("records serialize");
    let again = parse_record(&json, PARTNER, &mut ids());
    assert_eq!(again.as_ref(), Ok(record), "re-read from {json}");
}
