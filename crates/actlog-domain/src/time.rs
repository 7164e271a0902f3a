//! Instants as actlog stores them, and the date forms Partner Center clients send.
//!
//! An [`OperationDate`] is a count of 100-nanosecond ticks since the Unix epoch: exactly the
//! seven fractional digits Partner Center writes (`2017-06-15T22:56:05.0589308Z`), held in an
//! `i64` so that every backend can index and compare it as a plain integer.

use std::fmt;

use jiff::civil::{Date, DateTime, Time};
use jiff::fmt::temporal::Pieces;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Ticks (100 ns) per second.
const TICKS_PER_SECOND: i64 = 10_000_000;
/// The years a date may fall in.
const YEARS: std::ops::RangeInclusive<i16> = 1..=9999;

/// An instant with 100 ns precision, UTC, between the years 1 and 9999.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct OperationDate(i64);

/// Why a date or time could not be understood.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DateError {
    #[error(
        "`{0}` is not a date: use yyyy-mm-dd, RFC 3339 (2017-06-15T22:56:05.0589308Z), \
         M/d/yyyy h:mm:ss AM or MM/dd/yyyy HH:mm:ss"
    )]
    Unrecognized(String),
    #[error("`{0}` has more than 7 fractional digits of a second; actlog keeps 100 ns")]
    TooPrecise(String),
    #[error("`{0}` is outside the years 1 to 9999")]
    OutOfRange(String),
    #[error("`{0}` has no time zone offset: write it in UTC with a trailing Z, or with +hh:mm")]
    NoOffset(String),
}

impl OperationDate {
    /// The earliest instant actlog accepts: 0001-01-01T00:00:00Z.
    pub const MIN: OperationDate = OperationDate(-621_355_968_000_000_000);
    /// The latest: 9999-12-30T22:00:00.9999999Z, the end of jiff's range (which keeps every
    /// instant convertible to any time zone).
    pub const MAX: OperationDate = OperationDate(2_534_022_072_009_999_999);

    /// From ticks since the Unix epoch, as stored.
    pub fn from_ticks(ticks: i64) -> Self {
        OperationDate(ticks)
    }

    /// Ticks since the Unix epoch, as stored.
    pub fn ticks(self) -> i64 {
        self.0
    }

    /// From a timestamp; fails when the timestamp carries precision finer than 100 ns.
    pub fn from_timestamp(ts: Timestamp) -> Option<Self> {
        let nanos = ts.as_nanosecond();
        if nanos % 100 != 0 {
            return None;
        }
        let ticks = i64::try_from(nanos / 100).ok()?;
        let date = OperationDate(ticks);
        (Self::MIN..=Self::MAX).contains(&date).then_some(date)
    }

    /// The same instant as a jiff timestamp.
    pub fn timestamp(self) -> Timestamp {
        Timestamp::from_nanosecond(i128::from(self.0) * 100).expect("ticks are kept within range")
    }

    /// Parses an RFC 3339 instant that names its offset (`Z` or `+hh:mm`).
    pub fn parse_rfc3339(text: &str) -> Result<Self, DateError> {
        match Self::parse_with_offset(text) {
            Some(parsed) => parsed,
            None if text.parse::<DateTime>().is_ok() => Err(DateError::NoOffset(text.to_owned())),
            None => Err(DateError::Unrecognized(text.to_owned())),
        }
    }

    /// An RFC 3339 instant with an offset, checked; `None` when `text` is not one.
    fn parse_with_offset(text: &str) -> Option<Result<Self, DateError>> {
        match text.parse::<Timestamp>() {
            Ok(ts) => Some(Self::checked(ts, text)),
            Err(_) if beyond_jiff(text) => Some(Err(DateError::OutOfRange(text.to_owned()))),
            Err(_) => None,
        }
    }

    fn checked(ts: Timestamp, text: &str) -> Result<Self, DateError> {
        if ts.as_nanosecond() % 100 != 0 {
            return Err(DateError::TooPrecise(text.to_owned()));
        }
        Self::from_timestamp(ts).ok_or_else(|| DateError::OutOfRange(text.to_owned()))
    }

    /// This instant moved by a signed duration, clamped to the accepted range.
    pub fn saturating_add(self, duration: SignedDuration) -> Self {
        let delta = duration.as_nanos() / 100;
        let ticks = i128::from(self.0).saturating_add(delta);
        let clamped = ticks.clamp(i128::from(Self::MIN.0), i128::from(Self::MAX.0));
        OperationDate(clamped as i64)
    }
}

impl fmt::Display for OperationDate {
    /// Partner Center's form: always UTC, always seven fractional digits.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let seconds = self.0.div_euclid(TICKS_PER_SECOND);
        let fraction = self.0.rem_euclid(TICKS_PER_SECOND);
        let ts = Timestamp::from_second(seconds).map_err(|_| fmt::Error)?;
        let dt = ts.to_zoned(TimeZone::UTC).datetime();
        write!(
            f,
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:07}Z",
            dt.year(),
            dt.month(),
            dt.day(),
            dt.hour(),
            dt.minute(),
            dt.second(),
            fraction
        )
    }
}

impl Serialize for OperationDate {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for OperationDate {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        OperationDate::parse_rfc3339(&text).map_err(serde::de::Error::custom)
    }
}

/// A date or instant given in a query (`startDate`, `endDate`, the dashboard's From / To).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueryDate {
    /// A calendar day without a time: the whole day is meant.
    Day(Date),
    /// An exact instant.
    Instant(OperationDate),
}

impl QueryDate {
    /// Parses every form Partner Center clients send: `yyyy-mm-dd`; RFC 3339 (a missing offset
    /// means UTC); and the .NET forms `M/d/yyyy h:mm:ss AM` (en-US) and `MM/dd/yyyy HH:mm:ss`
    /// (invariant culture), with or without the time.
    ///
    /// .NET's `DateTime.MaxValue` (`12/31/9999 11:59:59 PM`, `12/31/9999 23:59:59`,
    /// `9999-12-31T23:59:59.9999999`), which clients send to mean "no end", lies in the last
    /// hours of 9999, beyond what actlog represents: an instant written in the year 9999 but
    /// past [`OperationDate::MAX`] is `MAX`, and one written in the year 1 but before
    /// [`OperationDate::MIN`] is `MIN`. Other years outside 1 to 9999 are refused.
    pub fn parse(text: &str) -> Result<Self, DateError> {
        match Self::parse_exact(text) {
            Err(DateError::OutOfRange(original)) => match written_year(text.trim()) {
                Some(9999) => Ok(QueryDate::Instant(OperationDate::MAX)),
                Some(1) => Ok(QueryDate::Instant(OperationDate::MIN)),
                _ => Err(DateError::OutOfRange(original)),
            },
            parsed => parsed,
        }
    }

    /// [`QueryDate::parse`]: kept for the callers that named the clamping explicitly.
    pub fn parse_clamped(text: &str) -> Result<Self, DateError> {
        Self::parse(text)
    }

    /// The forms of [`QueryDate::parse`], refusing every instant outside the range.
    fn parse_exact(text: &str) -> Result<Self, DateError> {
        let text = text.trim();
        if let Ok(date) = text.parse::<Date>()
            && text.len() == 10
        {
            return QueryDate::day(date, text);
        }
        if let Some(parsed) = OperationDate::parse_with_offset(text) {
            return parsed.map(QueryDate::Instant);
        }
        if let Ok(dt) = text.parse::<DateTime>() {
            return utc_instant(dt, text).map(QueryDate::Instant);
        }
        parse_dotnet(text).ok_or_else(|| DateError::Unrecognized(text.to_owned()))?
    }

    /// A bare day, refused outside the years 1 to 9999 as instants are.
    fn day(date: Date, text: &str) -> Result<Self, DateError> {
        if YEARS.contains(&date.year()) {
            Ok(QueryDate::Day(date))
        } else {
            Err(DateError::OutOfRange(text.to_owned()))
        }
    }

    /// The first instant this date covers, reading a bare day in `tz`.
    pub fn start(self, tz: &TimeZone) -> OperationDate {
        match self {
            QueryDate::Instant(at) => at,
            QueryDate::Day(day) => day_start(day, tz),
        }
    }

    /// The instant just after this date: the next midnight for a bare day (so an end date
    /// includes its whole day), the instant itself otherwise.
    pub fn end_exclusive(self, tz: &TimeZone) -> OperationDate {
        match self {
            QueryDate::Instant(at) => at,
            QueryDate::Day(day) => match day.tomorrow() {
                Ok(next) => day_start(next, tz),
                Err(_) => OperationDate::MAX,
            },
        }
    }
}

/// Midnight at the start of `day` in `tz`, clamped to the accepted range on the side it
/// falls out of: midnight of 0001-01-01 east of UTC is before `MIN`, of 9999-12-31 after `MAX`.
pub fn day_start(day: Date, tz: &TimeZone) -> OperationDate {
    match day.to_datetime(Time::midnight()).to_zoned(tz.clone()) {
        Ok(zoned) => {
            let ticks = zoned.timestamp().as_nanosecond().div_euclid(100);
            let clamped = ticks.clamp(
                i128::from(OperationDate::MIN.0),
                i128::from(OperationDate::MAX.0),
            );
            OperationDate(clamped as i64)
        }
        // Past the end of jiff's range (years -9999 to 9999), which is the end nearest the day.
        Err(_) if day.year() > 0 => OperationDate::MAX,
        Err(_) => OperationDate::MIN,
    }
}

/// Whether `text` is an RFC 3339 instant, offset included, that lies beyond jiff's range,
/// which jiff refuses to parse at all (`9999-12-31T12:00:00Z`): it is beyond actlog's too.
fn beyond_jiff(text: &str) -> bool {
    let Ok(pieces) = Pieces::parse(text) else {
        return false;
    };
    match (pieces.time(), pieces.to_numeric_offset()) {
        (Some(time), Some(offset)) => pieces
            .date()
            .to_datetime(time)
            .to_zoned(TimeZone::fixed(offset))
            .is_err(),
        _ => false,
    }
}

/// The year as `text` writes it (`yyyy-…` or `M/d/yyyy …`), when it has four digits.
fn written_year(text: &str) -> Option<i16> {
    let date = text
        .split(|c: char| c == 'T' || c == 't' || c.is_whitespace())
        .next()?;
    let year = if date.contains('/') {
        date.rsplit('/').next()?
    } else {
        date.split('-').next()?
    };
    small_number(year, 4).filter(|_| year.len() == 4)
}

fn utc_instant(dt: DateTime, text: &str) -> Result<OperationDate, DateError> {
    let ts = dt
        .to_zoned(TimeZone::UTC)
        .map_err(|_| DateError::OutOfRange(text.to_owned()))?
        .timestamp();
    OperationDate::checked(ts, text)
}

/// `M/d/yyyy[ h:mm[:ss][ AM|PM]]`, as .NET writes dates for en-US and the invariant culture.
fn parse_dotnet(text: &str) -> Option<Result<QueryDate, DateError>> {
    let mut parts = text.split_whitespace();
    let date_part = parts.next()?;
    let time_part = parts.next();
    let meridiem = parts.next();
    if parts.next().is_some() {
        return None;
    }
    let mut fields = date_part.split('/');
    let month: i8 = small_number(fields.next()?, 2)?;
    let day: i8 = small_number(fields.next()?, 2)?;
    let year_text = fields.next()?;
    if fields.next().is_some() || year_text.len() != 4 {
        return None;
    }
    // Four digits, no sign: `+999` and `-123` are not years .NET writes.
    let year: i16 = small_number(year_text, 4)?;
    let date = Date::new(year, month, day).ok()?;
    let Some(time_part) = time_part else {
        return Some(QueryDate::day(date, text));
    };
    let time = parse_dotnet_time(time_part, meridiem)?;
    Some(utc_instant(date.to_datetime(time), text).map(QueryDate::Instant))
}

fn parse_dotnet_time(text: &str, meridiem: Option<&str>) -> Option<Time> {
    let mut fields = text.split(':');
    let mut hour: i8 = small_number(fields.next()?, 2)?;
    let minute: i8 = small_number(fields.next()?, 2)?;
    let second: i8 = match fields.next() {
        Some(s) => small_number(s, 2)?,
        None => 0,
    };
    if fields.next().is_some() {
        return None;
    }
    match meridiem.map(str::to_ascii_uppercase).as_deref() {
        None => {}
        Some(m @ ("AM" | "PM")) => {
            if !(1..=12).contains(&hour) {
                return None;
            }
            hour %= 12;
            if m == "PM" {
                hour += 12;
            }
        }
        Some(_) => return None,
    }
    Time::new(hour, minute, second, 0).ok()
}

fn small_number<T: std::str::FromStr>(text: &str, max_len: usize) -> Option<T> {
    let ok = !text.is_empty() && text.len() <= max_len && text.bytes().all(|b| b.is_ascii_digit());
    if ok { text.parse().ok() } else { None }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn instant(text: &str) -> String {
        match QueryDate::parse(text).unwrap() {
            QueryDate::Instant(at) => at.to_string(),
            QueryDate::Day(day) => panic!("{text} parsed as the day {day}"),
        }
    }

    #[test]
    fn partner_center_dates_round_trip_with_seven_digits() {
        let text = "2017-06-15T22:56:05.0589308Z";
        assert_eq!(
            OperationDate::parse_rfc3339(text).unwrap().to_string(),
            text
        );
    }

    #[test]
    fn offsets_are_converted_to_utc() {
        let at = OperationDate::parse_rfc3339("2017-06-15T15:56:04.077-07:00").unwrap();
        assert_eq!(at.to_string(), "2017-06-15T22:56:04.0770000Z");
    }

    #[test]
    fn nanosecond_precision_is_refused_not_truncated() {
        let err = OperationDate::parse_rfc3339("2017-06-15T22:56:05.058930812Z").unwrap_err();
        assert!(matches!(err, DateError::TooPrecise(_)));
        assert!(OperationDate::parse_rfc3339("2017-06-15T22:56:05.058930800Z").is_ok());
    }

    #[test]
    fn a_record_date_without_offset_is_refused() {
        let err = OperationDate::parse_rfc3339("2017-06-15T22:56:05").unwrap_err();
        assert!(matches!(err, DateError::NoOffset(_)));
    }

    #[test]
    fn the_extremes_convert_and_format() {
        for at in [OperationDate::MIN, OperationDate::MAX] {
            let text = at.to_string();
            assert_eq!(OperationDate::parse_rfc3339(&text), Ok(at), "{text}");
            assert_eq!(OperationDate::from_timestamp(at.timestamp()), Some(at));
        }
        assert_eq!(
            OperationDate::MAX.saturating_add(SignedDuration::from_hours(1)),
            OperationDate::MAX
        );
    }

    #[test]
    fn dates_before_the_epoch_format_correctly() {
        let at = OperationDate::parse_rfc3339("1969-12-31T23:59:59.9999999Z").unwrap();
        assert_eq!(at.ticks(), -1);
        assert_eq!(at.to_string(), "1969-12-31T23:59:59.9999999Z");
    }

    #[test]
    fn query_dates_accept_every_partner_center_form() {
        let day = QueryDate::parse("2017-06-01").unwrap();
        assert_eq!(day, QueryDate::Day(jiff::civil::date(2017, 6, 1)));
        assert_eq!(
            instant("6/1/2017 12:00:00 AM"),
            "2017-06-01T00:00:00.0000000Z"
        );
        assert_eq!(
            instant("6/1/2017 12:30:00 PM"),
            "2017-06-01T12:30:00.0000000Z"
        );
        assert_eq!(
            instant("06/01/2017 23:05:09"),
            "2017-06-01T23:05:09.0000000Z"
        );
        assert_eq!(
            instant("2017-06-01T10:00:00+02:00"),
            "2017-06-01T08:00:00.0000000Z"
        );
        assert_eq!(
            instant("2017-06-01T10:00:00"),
            "2017-06-01T10:00:00.0000000Z"
        );
        assert_eq!(QueryDate::parse("6/1/2017").unwrap(), day);
    }

    #[test]
    fn malformed_query_dates_are_refused() {
        for bad in [
            "",
            "yesterday",
            "13/1/2017",
            "6/31/2017",
            "6/1/17",
            "6/1/2017 13:00:00 PM",
            "6/1/2017 0:00:00 AM",
            "2017-02-30",
            "2017-06-01T25:00:00Z",
            "6/1/2017 1:2:3:4",
        ] {
            assert!(QueryDate::parse(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn a_bare_end_day_includes_the_whole_day() {
        let day = QueryDate::parse("2017-06-01").unwrap();
        let end = day.end_exclusive(&TimeZone::UTC);
        assert_eq!(end.to_string(), "2017-06-02T00:00:00.0000000Z");
        let rome = TimeZone::get("Europe/Rome").unwrap();
        assert_eq!(day.start(&rome).to_string(), "2017-05-31T22:00:00.0000000Z");
    }

    #[test]
    fn days_outside_years_1_to_9999_are_out_of_range() {
        for text in [
            "0000-01-01",
            "0000-12-31",
            "1/1/0000",
            "12/31/0000 11:00 PM",
        ] {
            let err = QueryDate::parse(text).unwrap_err();
            assert_eq!(err, DateError::OutOfRange(text.to_owned()));
            assert!(
                err.to_string().contains("outside the years 1 to 9999"),
                "{err}"
            );
        }
        for text in ["6/1/-123", "6/1/+999", "6/1/ 999"] {
            assert!(QueryDate::parse(text).is_err(), "{text} accepted");
        }
        for text in ["0001-01-01", "1/1/0001", "9999-12-31", "12/31/9999"] {
            assert!(
                matches!(QueryDate::parse(text), Ok(QueryDate::Day(_))),
                "{text}"
            );
        }
    }

    #[test]
    fn instants_beyond_jiff_are_out_of_range_not_unrecognized() {
        for text in [
            "9999-12-31T12:00:00Z",
            "9999-12-30T23:00:00.5+00:00",
            "9999-12-31T00:00:00-05:00",
            "-009999-01-01T00:00:00+14:00",
        ] {
            let err = OperationDate::parse_rfc3339(text).unwrap_err();
            assert_eq!(err, DateError::OutOfRange(text.to_owned()));
            let err = QueryDate::parse_exact(text).unwrap_err();
            assert_eq!(err, DateError::OutOfRange(text.to_owned()));
        }
        assert_eq!(
            OperationDate::parse_rfc3339("9999-12-30T22:00:00.9999999Z"),
            Ok(OperationDate::MAX)
        );
        let err = OperationDate::parse_rfc3339("9999-12-31T12:00:00").unwrap_err();
        assert!(matches!(err, DateError::NoOffset(_)), "{err:?}");
    }

    #[test]
    fn dotnet_max_value_is_accepted_by_every_date_parser_as_the_latest_instant() {
        for text in [
            "12/31/9999 11:59:59 PM",
            "12/31/9999 23:59:59",
            "9999-12-31T23:59:59.9999999",
            "9999-12-31T23:59:59.9999999Z",
            "9999-12-31T12:00:00-05:00",
        ] {
            // Every caller (the API, exports, `actlog export --to`, `actlog pull --since`)
            // reads it so, not only the API's period.
            assert_eq!(
                QueryDate::parse(text),
                Ok(QueryDate::Instant(OperationDate::MAX)),
                "{text}"
            );
            assert_eq!(
                QueryDate::parse_clamped(text),
                Ok(QueryDate::Instant(OperationDate::MAX)),
                "{text}"
            );
        }
        assert_eq!(
            QueryDate::parse_clamped("0001-01-01T00:00:00+01:00"),
            Ok(QueryDate::Instant(OperationDate::MIN))
        );
        // Only the ends of the range clamp; other years outside it stay refused.
        for text in [
            "12/31/0000 11:00 PM",
            "-009999-01-01T00:00:00+14:00",
            "0000-01-01",
        ] {
            assert!(
                matches!(
                    QueryDate::parse_clamped(text),
                    Err(DateError::OutOfRange(_))
                ),
                "{text}"
            );
        }
        assert!(QueryDate::parse_clamped("12/31/9999 11:59:59 XM").is_err());
        assert_eq!(
            QueryDate::parse_clamped("06/01/2017 13:05:00"),
            QueryDate::parse("06/01/2017 13:05:00")
        );
    }

    #[test]
    fn days_at_the_edges_clamp_to_the_side_they_fall_out_of() {
        let first = jiff::civil::date(1, 1, 1);
        let last = jiff::civil::date(9999, 12, 31);
        let (east, west) = (
            TimeZone::fixed(jiff::tz::offset(14)),
            TimeZone::fixed(jiff::tz::offset(-12)),
        );
        assert_eq!(day_start(first, &east), OperationDate::MIN);
        assert_eq!(day_start(first, &TimeZone::UTC), OperationDate::MIN);
        assert_eq!(
            day_start(first, &west).to_string(),
            "0001-01-01T12:00:00.0000000Z"
        );
        assert_eq!(day_start(last, &west), OperationDate::MAX);
        assert_eq!(day_start(last, &TimeZone::UTC), OperationDate::MAX);
        assert_eq!(
            day_start(last, &east).to_string(),
            "9999-12-30T10:00:00.0000000Z"
        );
        let whole = QueryDate::Day(last);
        assert_eq!(whole.end_exclusive(&east), OperationDate::MAX);
    }
}
