//! The date forms on arbitrary text: record dates (RFC 3339 with an offset) and query dates
//! (bare days, RFC 3339, the .NET forms). Whatever is accepted lies within years 1 to 9999,
//! prints in Partner Center's form and parses back to the same instant; a record date is the
//! same instant as a query date; a day covers a non-empty span in every zone, clamped at the
//! ends of the range. The input's first bytes, as ticks, check the printed form too.

#![no_main]

use actlog_domain::time::{OperationDate, QueryDate};
use actlog_fuzz::zone;
use jiff::SignedDuration;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Some(head) = data.first_chunk::<8>() {
        ticks(i64::from_le_bytes(*head));
    }
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(date) = OperationDate::parse_rfc3339(text) {
        in_range(date);
        assert_eq!(
            QueryDate::parse(text),
            Ok(QueryDate::Instant(date)),
            "{text:?} is a record date"
        );
    }
    let parsed = QueryDate::parse(text);
    assert_eq!(QueryDate::parse_clamped(text), parsed);
    match parsed {
        Ok(QueryDate::Instant(at)) => {
            in_range(at);
            for z in 0..6 {
                let tz = zone(z);
                assert_eq!(
                    (at, at),
                    (
                        QueryDate::Instant(at).start(&tz),
                        QueryDate::Instant(at).end_exclusive(&tz)
                    )
                );
            }
        }
        Ok(QueryDate::Day(day)) => {
            assert!((1..=9999).contains(&day.year()), "{day}");
            for z in 0..6 {
                let tz = zone(z);
                let (start, end) = (
                    QueryDate::Day(day).start(&tz),
                    QueryDate::Day(day).end_exclusive(&tz),
                );
                in_range(start);
                in_range(end);
                assert!(start <= end, "{day} in {tz:?}: {start} after {end}");
                // In a fixed zone every day is 24 hours, unless the range cuts it.
                let clamped = start == OperationDate::MIN || end == OperationDate::MAX;
                if z % 6 == 0 || z % 6 == 4 {
                    let day_ticks = 24 * 3600 * 10_000_000;
                    assert!(
                        clamped || end.ticks() - start.ticks() == day_ticks,
                        "{day} in {tz:?}"
                    );
                }
            }
        }
        Err(e) => assert!(!e.to_string().is_empty()),
    }
});

/// An instant in range, and its printed form.
fn in_range(at: OperationDate) {
    assert!(
        (OperationDate::MIN..=OperationDate::MAX).contains(&at),
        "{at:?}"
    );
    let text = at.to_string();
    assert_eq!(text.len(), 28, "{text}");
    assert_eq!(OperationDate::parse_rfc3339(&text), Ok(at), "{text}");
    assert_eq!(
        QueryDate::parse(&text),
        Ok(QueryDate::Instant(at)),
        "{text}"
    );
    assert_eq!(OperationDate::from_timestamp(at.timestamp()), Some(at));
}

/// Any tick count folded into the range prints and parses back; moving it stays in range.
fn ticks(raw: i64) {
    let span = OperationDate::MAX.ticks() - OperationDate::MIN.ticks() + 1;
    let at = OperationDate::from_ticks(OperationDate::MIN.ticks() + raw.rem_euclid(span));
    in_range(at);
    let moved = at.saturating_add(SignedDuration::from_nanos(raw.wrapping_mul(100)));
    assert!((OperationDate::MIN..=OperationDate::MAX).contains(&moved));
}
