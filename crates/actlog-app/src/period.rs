//! The period and filter of a query, read as Partner Center reads `startDate`, `endDate` and
//! `filter`: a missing start means 30 days before the end (or before now); a bare end day
//! includes that whole day. Bare days are days in the given zone (UTC for the API, the
//! export's zone for exports, so the file's period and name are the days asked for).

use actlog_domain::filter::{Filter, FilterError};
use actlog_domain::query::{DEFAULT_PERIOD, Query, Window};
use actlog_domain::time::{DateError, OperationDate, QueryDate};
use jiff::tz::TimeZone;

/// What a query's period and filter were given as (each may be absent).
#[derive(Debug, Clone, Copy, Default)]
pub struct PeriodText<'a> {
    pub start: Option<&'a str>,
    pub end: Option<&'a str>,
    pub filter: Option<&'a str>,
}

/// Which end of a period.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bound {
    Start,
    End,
}

/// Why a period or filter was refused.
#[derive(Debug, thiserror::Error)]
pub enum PeriodError {
    /// A date that is not one.
    #[error("{}: {source}", match .bound { Bound::Start => "startDate", Bound::End => "endDate" })]
    Date {
        bound: Bound,
        #[source]
        source: DateError,
    },
    /// The end is not after the start.
    #[error("startDate ({start}) must be before endDate ({end})")]
    Empty {
        start: OperationDate,
        end: OperationDate,
    },
    #[error(transparent)]
    Filter(#[from] FilterError),
}

/// The window and filter `text` gives, at `now`, reading bare days in `zone`.
pub fn query(
    text: PeriodText<'_>,
    now: OperationDate,
    zone: &TimeZone,
) -> Result<Query, PeriodError> {
    let date = |bound: Bound, text: Option<&str>| {
        text.map(|t| QueryDate::parse(t).map_err(|source| PeriodError::Date { bound, source }))
            .transpose()
    };
    let end = date(Bound::End, text.end)?.map(|d| d.end_exclusive(zone));
    let start = match date(Bound::Start, text.start)? {
        Some(d) => d.start(zone),
        None => end.unwrap_or(now).saturating_add(-DEFAULT_PERIOD),
    };
    if let Some(end) = end
        && end <= start
    {
        return Err(PeriodError::Empty { start, end });
    }
    let filter = text
        .filter
        .filter(|f| !f.trim().is_empty())
        .map(Filter::parse)
        .transpose()?;
    Ok(Query {
        window: Window { start, end },
        filter,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> OperationDate {
        OperationDate::parse_rfc3339(text).unwrap()
    }

    #[test]
    fn a_missing_start_is_thirty_days_before_the_end_or_now() {
        let now = at("2026-11-25T12:00:00Z");
        let none = query(PeriodText::default(), now, &TimeZone::UTC).unwrap();
        assert_eq!(none.window.start, at("2026-10-26T12:00:00Z"));
        assert_eq!(none.window.end, None);
        let text = PeriodText {
            end: Some("2026-03-31"),
            ..PeriodText::default()
        };
        let ended = query(text, now, &TimeZone::UTC).unwrap();
        assert_eq!(ended.window.end, Some(at("2026-04-01T00:00:00Z")));
        assert_eq!(ended.window.start, at("2026-03-02T00:00:00Z"));
    }

    #[test]
    fn bare_days_are_days_in_the_zone() {
        let rome = TimeZone::get("Europe/Rome").unwrap();
        let text = PeriodText {
            start: Some("2026-03-01"),
            end: Some("2026-03-31"),
            filter: None,
        };
        let q = query(text, at("2026-11-25T12:00:00Z"), &rome).unwrap();
        assert_eq!(q.window.start, at("2026-02-28T23:00:00Z"));
        // The whole of 31 March, in summer time since the 29th.
        assert_eq!(q.window.end, Some(at("2026-03-31T22:00:00Z")));
    }

    #[test]
    fn bad_dates_empty_periods_and_bad_filters_are_refused() {
        let now = at("2026-11-25T12:00:00Z");
        let bad = |text| query(text, now, &TimeZone::UTC).unwrap_err();
        let e = bad(PeriodText {
            end: Some("31/31/2026"),
            ..PeriodText::default()
        });
        assert!(
            matches!(
                e,
                PeriodError::Date {
                    bound: Bound::End,
                    ..
                }
            ),
            "{e}"
        );
        assert!(e.to_string().starts_with("endDate: "), "{e}");
        let e = bad(PeriodText {
            start: Some("2026-03-02"),
            end: Some("2026-03-01"),
            filter: None,
        });
        assert!(matches!(e, PeriodError::Empty { .. }), "{e}");
        let e = bad(PeriodText {
            filter: Some("{not json"),
            ..PeriodText::default()
        });
        assert!(matches!(e, PeriodError::Filter(_)), "{e}");
    }
}
