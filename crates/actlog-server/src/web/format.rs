//! Dates and numbers as each language writes them.

use jiff::civil::Date;
use jiff::tz::TimeZone;

use actlog_domain::OperationDate;
use actlog_domain::catalog::Lang;

/// The local date and time of `at` in `tz`: `11/25/2026 3:04:05 PM` in English,
/// `25/11/2026 15:04:05` in Italian.
pub fn date_time(at: OperationDate, tz: &TimeZone, lang: Lang) -> String {
    let dt = tz.to_datetime(at.timestamp());
    match lang {
        Lang::En => {
            let (hour, half) = match dt.hour() {
                0 => (12, "AM"),
                h @ 1..=11 => (h, "AM"),
                12 => (12, "PM"),
                h => (h - 12, "PM"),
            };
            format!(
                "{:02}/{:02}/{:04} {hour}:{:02}:{:02} {half}",
                dt.month(),
                dt.day(),
                dt.year(),
                dt.minute(),
                dt.second()
            )
        }
        Lang::It => format!(
            "{:02}/{:02}/{:04} {:02}:{:02}:{:02}",
            dt.day(),
            dt.month(),
            dt.year(),
            dt.hour(),
            dt.minute(),
            dt.second()
        ),
    }
}

/// A calendar day: `11/25/2026` in English, `25/11/2026` in Italian.
pub fn day(date: Date, lang: Lang) -> String {
    match lang {
        Lang::En => format!("{:02}/{:02}/{:04}", date.month(), date.day(), date.year()),
        Lang::It => format!("{:02}/{:02}/{:04}", date.day(), date.month(), date.year()),
    }
}

/// A whole number with the language's digit grouping: `40,000` / `40.000`.
pub fn count(n: u64, lang: Lang) -> String {
    let separator = match lang {
        Lang::En => ',',
        Lang::It => '.',
    };
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(separator);
        }
        out.push(c);
    }
    out
}

/// A quantity as recorded: a whole number is grouped as the language writes it, anything else
/// is shown as it came.
pub fn quantity(text: &str, lang: Lang) -> String {
    match text.parse::<u64>() {
        Ok(n) if !text.starts_with('+') && (text == "0" || !text.starts_with('0')) => {
            count(n, lang)
        }
        _ => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> OperationDate {
        OperationDate::parse_rfc3339(text).unwrap()
    }

    #[test]
    fn dates_follow_the_language_and_the_zone() {
        let rome = TimeZone::get("Europe/Rome").unwrap();
        let t = at("2026-11-25T14:04:05.9Z");
        assert_eq!(date_time(t, &rome, Lang::En), "11/25/2026 3:04:05 PM");
        assert_eq!(date_time(t, &rome, Lang::It), "25/11/2026 15:04:05");
        let midnight = at("2026-01-02T00:00:09Z");
        assert_eq!(
            date_time(midnight, &TimeZone::UTC, Lang::En),
            "01/02/2026 12:00:09 AM"
        );
        let noon = at("2026-01-02T12:30:00Z");
        assert_eq!(
            date_time(noon, &TimeZone::UTC, Lang::En),
            "01/02/2026 12:30:00 PM"
        );
        assert_eq!(day(jiff::civil::date(2026, 3, 4), Lang::It), "04/03/2026");
    }

    #[test]
    fn counts_are_grouped() {
        assert_eq!(count(0, Lang::En), "0");
        assert_eq!(count(999, Lang::It), "999");
        assert_eq!(count(40_000, Lang::En), "40,000");
        assert_eq!(count(1_234_567, Lang::It), "1.234.567");
        assert_eq!(quantity("1603", Lang::It), "1.603");
        assert_eq!(quantity("1603", Lang::En), "1,603");
        assert_eq!(quantity("007", Lang::En), "007");
        assert_eq!(quantity("2.5", Lang::En), "2.5");
    }
}
