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
    // Parsed records always fit jiff's range; a stored value beyond it (only
    // `OperationDate::MAX`'s last day) is clamped rather than allowed to panic mid-export.
    Timestamp::from_second(seconds).unwrap_or(if seconds < 0 {
        Timestamp::MIN
    } else {
        Timestamp::MAX
    })
}

fn push_date_time(out: &mut String, dt: DateTime, separator: u8) {
    let mut text = *b"0000-00-00 00:00:00";
    put_digits(&mut text[0..4], dt.year() as u32);
    put_digits(&mut text[5..7], dt.month() as u32);
    put_digits(&mut text[8..10], dt.day() as u32);
    text[10] = separator;
    put_digits(&mut text[11..13], dt.hour() as u32);
    put_digits(&mut text[14..16], dt.minute() as u32);
    put_digits(&mut text[17..19], dt.second() as u32);
    out.push_str(std::str::from_utf8(&text).expect("ASCII digits"));
}

/// Appends `value` zero-padded to `width` digits (`value` must fit).
fn push_digits(out: &mut String, value: u32, width: usize) {
    let mut text = [b'0'; 10];
    put_digits(&mut text[..width], value);
    out.push_str(std::str::from_utf8(&text[..width]).expect("ASCII digits"));
}

/// Writes `value` into `slot` as zero-padded decimal digits.
fn put_digits(slot: &mut [u8], mut value: u32) {
    for digit in slot.iter_mut().rev() {
        *digit = b'0' + (value % 10) as u8;
        value /= 10;
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
            "9999-12-30T21:59:59.9999999Z",
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
        push_local(
            &mut out,
            local(at("1969-12-31T23:59:59.5Z"), &TimeZone::UTC),
        );
        assert_eq!(out, "1969-12-31 23:59:59");
    }
}
