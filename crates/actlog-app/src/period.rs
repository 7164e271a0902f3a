//! The period and filter of a query, from `startDate`, `endDate` and `filter` as given.
//!
//! Two sets of rules fill in a missing bound:
//! - [`query`], for exports (`/v1/auditrecords/export`, which the page's Export log button
//!   uses, and `actlog export`): a missing start means 30 days before the end (or before now),
//!   a missing end means no end. Bare days are days in the given zone (the export's zone, so
//!   the file's period and name are the days asked for).
//! - [`partner_center`], for `GET /v1/auditrecords`, as Partner Center computes its windows: a
//!   missing end is 30 days after the start or now, whichever is earlier; a missing start is 30
//!   days before the end. Bare days are UTC days.
//!
//! Either way a bare end day includes that whole day, an explicit start and end may span any
//! length, and .NET's `DateTime.MaxValue` (`12/31/9999 11:59:59 PM`) is the latest instant.

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

/// What a query states itself, before any default: each bound as an instant (a bare start
/// day from its first instant, a bare end day up to the next midnight) and the filter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stated {
    pub start: Option<OperationDate>,
    pub end: Option<OperationDate>,
    pub filter: Option<Filter>,
}

/// The bounds and filter `text` states, reading bare days in `zone`. An end that is not after
/// the start is refused.
pub fn stated(text: PeriodText<'_>, zone: &TimeZone) -> Result<Stated, PeriodError> {
    let date = |bound: Bound, text: Option<&str>| {
        text.map(|t| {
            QueryDate::parse_clamped(t).map_err(|source| PeriodError::Date { bound, source })
        })
        .transpose()
    };
    let start = date(Bound::Start, text.start)?.map(|d| d.start(zone));
    let end = date(Bound::End, text.end)?.map(|d| d.end_exclusive(zone));
    if let (Some(start), Some(end)) = (start, end)
        && end <= start
    {
        return Err(PeriodError::Empty { start, end });
    }
    let filter = text
        .filter
        .filter(|f| !f.trim().is_empty())
        .map(Filter::parse)
        .transpose()?;
    Ok(Stated { start, end, filter })
}

/// The window and filter `text` gives, at `now`, reading bare days in `zone`: a missing start
/// is 30 days before the end (or before now); a missing end is no end.
pub fn query(
    text: PeriodText<'_>,
    now: OperationDate,
    zone: &TimeZone,
) -> Result<Query, PeriodError> {
    let Stated { start, end, filter } = stated(text, zone)?;
    let start = start.unwrap_or_else(|| end.unwrap_or(now).saturating_add(-DEFAULT_PERIOD));
    if let Some(end) = end
        && end <= start
    {
        return Err(PeriodError::Empty { start, end });
    }
    Ok(Query {
        window: Window { start, end },
        filter,
    })
}

/// The window and filter `text` gives at `now`, as Partner Center computes them (bare days
/// are UTC days): a missing end is "the max window (30 days from the start) or now, whichever
/// is less"; a missing start is 30 days before the end, or before now. A start after now with
/// no end is an empty window, not an error: a client's clock may run ahead of ours.
///
/// So a client that sends only `startDate`, once per 30-day chunk (`Get-PartnerAuditRecord`),
/// gets each record once.
pub fn partner_center(text: PeriodText<'_>, now: OperationDate) -> Result<Query, PeriodError> {
    let Stated { start, end, filter } = stated(text, &TimeZone::UTC)?;
    let (start, end) = match (start, end) {
        (Some(start), Some(end)) => (start, end),
        (Some(start), None) => {
            let end = start.saturating_add(DEFAULT_PERIOD).min(now).max(start);
            (start, end)
        }
        (None, Some(end)) => (end.saturating_add(-DEFAULT_PERIOD), end),
        (None, None) => (now.saturating_add(-DEFAULT_PERIOD), now),
    };
    Ok(Query {
        window: Window {
            start,
            end: Some(end),
        },
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
    fn partner_center_windows_end_30_days_after_the_start_or_now() {
        let now = at("2026-11-25T12:00:00Z");
        let window = |start: Option<&str>, end: Option<&str>| {
            let text = PeriodText {
                start,
                end,
                filter: None,
            };
            let w = partner_center(text, now).unwrap().window;
            (w.start.to_string(), w.end.map(|e| e.to_string()))
        };
        let pair = |start: &str, end: &str| (start.to_owned(), Some(end.to_owned()));
        // A start with no end: 30 days on, unless that is past now.
        assert_eq!(
            window(Some("2026-08-01"), None),
            pair(
                "2026-08-01T00:00:00.0000000Z",
                "2026-08-31T00:00:00.0000000Z"
            )
        );
        assert_eq!(
            window(Some("11/10/2026 13:05:00"), None),
            pair(
                "2026-11-10T13:05:00.0000000Z",
                "2026-11-25T12:00:00.0000000Z"
            )
        );
        // A start ahead of the clock: nothing, rather than an error.
        assert_eq!(
            window(Some("2026-12-01"), None),
            pair(
                "2026-12-01T00:00:00.0000000Z",
                "2026-12-01T00:00:00.0000000Z"
            )
        );
        // No start: 30 days before the end, or before now.
        assert_eq!(
            window(None, Some("2026-03-31")),
            pair(
                "2026-03-02T00:00:00.0000000Z",
                "2026-04-01T00:00:00.0000000Z"
            )
        );
        assert_eq!(
            window(None, None),
            pair(
                "2026-10-26T12:00:00.0000000Z",
                "2026-11-25T12:00:00.0000000Z"
            )
        );
        // Both: any length, up to .NET's DateTime.MaxValue.
        assert_eq!(
            window(Some("2001-01-01"), Some("12/31/9999 11:59:59 PM")),
            pair(
                "2001-01-01T00:00:00.0000000Z",
                &OperationDate::MAX.to_string()
            )
        );
        let reversed = PeriodText {
            start: Some("2026-03-02"),
            end: Some("2026-03-01"),
            filter: None,
        };
        assert!(matches!(
            partner_center(reversed, now),
            Err(PeriodError::Empty { .. })
        ));
    }

    #[test]
    fn the_export_rules_keep_an_open_end() {
        let now = at("2026-11-25T12:00:00Z");
        let text = PeriodText {
            start: Some("2026-01-01"),
            ..PeriodText::default()
        };
        let q = query(text, now, &TimeZone::UTC).unwrap();
        assert_eq!(q.window.start, at("2026-01-01T00:00:00Z"));
        assert_eq!(q.window.end, None);
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
