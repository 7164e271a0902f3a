//! The two ways an export writes an instant: the local `YYYY-MM-DD HH:MM:SS` that every
//! spreadsheet reads as a date, and the exact UTC instant with Partner Center's seven
//! fractional digits.
//!
//! Written by hand into a reused buffer because it runs twice per row of a million-row export.

use actlog_domain::OperationDate;
use jiff::Timestamp;
use jiff::civil::DateTime;
use jiff::tz::TimeZone;

const TICKS_PER_SECOND: i64 = 10_000_000;

/// The wall-clock time of `at` in `tz`, to the second (the fraction is dropped, never rounded
/// up, so the local column never shows a later second than the exact one).
pub(crate) fn local(at: OperationDate, tz: &TimeZone) -> DateTime {
    tz.to_datetime(whole_second(at))
}

/// Appends `YYYY-MM-DD HH:MM:SS`.
pub(crate) fn push_local(out: &mut String, dt: DateTime) {
    push_date_time(out, dt, b' ');
}

/// Appends the exact instant in UTC, as [`OperationDate`]'s `Display` writes it
/// (`2017-06-15T22:56:05.0589308Z`).
pub(crate) fn push_utc(out: &mut String, at: OperationDate) {
    let dt = TimeZone::UTC.to_datetime(whole_second(at));
    push_date_time(out, dt, b'T');
    out.push('.');
    push_digits(out, at.ticks().rem_euclid(TICKS_PER_SECOND) as u32, 7);
    out.push('Z');
}

fn whole_second(at: OperationDate) -> Timestamp {
    let seconds = at.ticks().div_euclid(TICKS_PER_SECOND);
    Timestamp::from_second(seconds).expect("operation dates stay within years 1 to 9999")
}

fn push_date_time(out: &mut String, dt: DateTime, separator: u8) {
    push_digits(out, dt.year() as u32, 4);
    out.push('-');
    push_digits(out, dt.month() as u32, 2);
    out.push('-');
    push_digits(out, dt.day() as u32, 2);
    out.push(char::from(separator));
    push_digits(out, dt.hour() as u32, 2);
    out.push(':');
    push_digits(out, dt.minute() as u32, 2);
    out.push(':');
    push_digits(out, dt.second() as u32, 2);
}

/// Appends `value` zero-padded to `width` digits (`value` must fit).
fn push_digits(out: &mut String, value: u32, width: u32) {
    let mut divisor = 10u32.pow(width - 1);
    while divisor > 0 {
        out.push(char::from(b'0' + (value / divisor % 10) as u8));
        divisor /= 10;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> OperationDate {
        OperationDate::parse_rfc3339(text).unwrap()
    }

    #[test]
    fn utc_text_matches_the_record_form_exactly() {
        for text in [
            "2017-06-15T22:56:05.0589308Z",
            "1969-12-31T23:59:59.9999999Z",
            "0001-01-01T00:00:00.0000000Z",
            "9999-12-31T23:59:59.9999999Z",
            "2024-02-29T00:00:00.0000001Z",
        ] {
            let mut out = String::new();
            push_utc(&mut out, at(text));
            assert_eq!(out, text);
            assert_eq!(out, at(text).to_string());
        }
    }

    #[test]
    fn local_text_is_in_the_export_zone_and_drops_the_fraction() {
        let rome = TimeZone::get("Europe/Rome").unwrap();
        let mut out = String::new();
        push_local(&mut out, local(at("2017-06-15T22:56:05.9999999Z"), &rome));
        assert_eq!(out, "2017-06-16 00:56:05");

        out.clear();
        push_local(&mut out, local(at("2017-01-15T22:56:05Z"), &rome));
        assert_eq!(out, "2017-01-15 23:56:05", "winter time is UTC+1");

        out.clear();
        push_local(&mut out, local(at("1969-12-31T23:59:59.5Z"), &TimeZone::UTC));
        assert_eq!(out, "1969-12-31 23:59:59");
    }
}
