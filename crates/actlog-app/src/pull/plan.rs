//! Which period a pass reads, and in which windows: the resume rule, pure and testable.
//!
//! A first pull starts at `--since` (default: 90 days ago, the furthest Partner Center keeps).
//! A later one starts where the last completed window ended, less an overlap, so that records
//! the source files late (dated before the last run's end, but not yet visible then) are
//! still read; their ids make the re-read harmless. The period runs up to now, in windows of
//! at most 30 days (Partner Center's largest), each on whole seconds.

use actlog_domain::OperationDate;
use actlog_domain::query::DEFAULT_PERIOD;
use jiff::SignedDuration;

/// The longest window one request covers: Partner Center's maximum, 30 days.
pub const WINDOW: SignedDuration = DEFAULT_PERIOD;

/// How far back a first pull reads by default: 90 days, all Partner Center keeps.
pub const DEFAULT_LOOKBACK: SignedDuration = SignedDuration::from_hours(90 * 24);

/// One request's period, `[start, end)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    pub start: OperationDate,
    pub end: OperationDate,
}

/// Where a pass starts reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Start {
    /// No pull has completed a window yet (or a restart was asked): from `--since`.
    First(OperationDate),
    /// The last completed window ended at `through`; reading starts `overlap` before it.
    Resume {
        through: OperationDate,
        from: OperationDate,
    },
}

impl Start {
    /// The instant the pass reads from.
    pub fn at(self) -> OperationDate {
        match self {
            Start::First(at) => at,
            Start::Resume { from, .. } => from,
        }
    }
}

/// Where a pass starts: after the stored state less `overlap` when there is one (and no
/// restart was asked), else at `since`, else [`DEFAULT_LOOKBACK`] before `now`.
pub fn start(
    state: Option<OperationDate>,
    since: Option<OperationDate>,
    restart: bool,
    overlap: SignedDuration,
    now: OperationDate,
) -> Start {
    match state {
        Some(through) if !restart => Start::Resume {
            through,
            from: whole_second(through.saturating_add(-overlap)),
        },
        _ => Start::First(whole_second(
            since.unwrap_or_else(|| now.saturating_add(-DEFAULT_LOOKBACK)),
        )),
    }
}

/// `[start, end)` in consecutive windows of at most [`WINDOW`], oldest first; none when
/// `start` is not before `end`.
pub fn windows(start: OperationDate, end: OperationDate) -> Vec<Span> {
    let mut spans = Vec::new();
    let mut at = start;
    while at < end {
        let next = at.saturating_add(WINDOW).min(end);
        spans.push(Span {
            start: at,
            end: next,
        });
        at = next;
    }
    spans
}

/// `at` without its fraction of a second (earlier, never later).
pub fn whole_second(at: OperationDate) -> OperationDate {
    const TICKS: i64 = 10_000_000;
    OperationDate::from_ticks(at.ticks().div_euclid(TICKS) * TICKS)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(d: &str) -> OperationDate {
        OperationDate::parse_rfc3339(&format!("{d}T00:00:00Z")).unwrap()
    }

    const HOUR: SignedDuration = SignedDuration::from_hours(1);

    #[test]
    fn a_first_pull_starts_at_since_or_ninety_days_ago() {
        let now = OperationDate::parse_rfc3339("2026-05-31T12:34:56.789Z").unwrap();
        assert_eq!(
            start(None, Some(day("2026-01-01")), false, HOUR * 24, now),
            Start::First(day("2026-01-01"))
        );
        let default = start(None, None, false, HOUR * 24, now).at();
        assert_eq!(
            default,
            OperationDate::parse_rfc3339("2026-03-02T12:34:56Z").unwrap()
        );
    }

    #[test]
    fn a_later_pull_resumes_an_overlap_before_the_last_window_end_whatever_since_says() {
        let through = OperationDate::parse_rfc3339("2026-05-20T08:00:00Z").unwrap();
        let started = start(
            Some(through),
            Some(day("2026-01-01")),
            false,
            HOUR * 24,
            day("2026-06-01"),
        );
        assert_eq!(
            started,
            Start::Resume {
                through,
                from: OperationDate::parse_rfc3339("2026-05-19T08:00:00Z").unwrap()
            }
        );
        let restarted = start(
            Some(through),
            Some(day("2026-01-01")),
            true,
            HOUR,
            day("2026-06-01"),
        );
        assert_eq!(restarted, Start::First(day("2026-01-01")));
    }

    #[test]
    fn windows_cover_the_period_in_thirty_day_steps_without_gaps() {
        let spans = windows(day("2026-01-01"), day("2026-04-15"));
        let starts: Vec<_> = spans.iter().map(|s| s.start).collect();
        assert_eq!(
            starts,
            [
                day("2026-01-01"),
                day("2026-01-31"),
                day("2026-03-02"),
                day("2026-04-01")
            ]
        );
        assert_eq!(spans.last().unwrap().end, day("2026-04-15"));
        for pair in spans.windows(2) {
            assert_eq!(pair[0].end, pair[1].start);
        }
        assert!(windows(day("2026-02-01"), day("2026-02-01")).is_empty());
        assert!(windows(day("2026-03-01"), day("2026-02-01")).is_empty());
    }
}
