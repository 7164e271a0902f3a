//! When things happen: record times spread over the window with a working-hours bias.
//!
//! The window is cut into hours, each weighted by how busy a partner's office is then
//! (weekdays 8–19 Central European time busy, evenings quiet, nights and weekends nearly
//! still, with some automation). Record `i` of `n` falls at the `(i + jitter) / n` quantile of
//! that weighted timeline, so records come out in ascending order, spread like real activity,
//! without buffering: any record's time is computed from its index alone.

use actlog_domain::OperationDate;

use crate::rng::Rng;

/// 100 ns ticks per hour.
pub(crate) const HOUR: i64 = 3_600 * 10_000_000;
/// Days covered by a demo: six months before `now`.
pub(crate) const WINDOW_DAYS: i64 = 183;
/// Weight units per unit of busyness: fine enough that every record gets its own instant,
/// down to the tick, even when millions share the window.
const RESOLUTION: u64 = 1 << 40;
/// The partner's office time zone, as a fixed offset from UTC (Central European Time).
const OFFICE_OFFSET: i64 = HOUR;

/// The weighted timeline and where the last record fell on it.
#[derive(Debug)]
pub(crate) struct Schedule {
    /// The window's start, exclusive.
    start: i64,
    /// The window's end (`now`), inclusive.
    end: i64,
    /// Cumulative weight at the start of each hour, plus the total at the end.
    cumulative: Vec<u64>,
    records: u64,
    /// The hour where the previous record fell (records only move forward).
    cursor: usize,
    last: i64,
}

impl Schedule {
    pub(crate) fn new(now: OperationDate, records: usize) -> Self {
        let end = now.ticks();
        let hours = WINDOW_DAYS * 24;
        let start = end - hours * HOUR;
        let mut cumulative = Vec::with_capacity(hours as usize + 1);
        let mut total = 0u64;
        for h in 0..hours {
            cumulative.push(total);
            total += busyness(start + h * HOUR + HOUR / 2) * RESOLUTION;
        }
        cumulative.push(total);
        Schedule {
            start,
            end,
            cumulative,
            records: records as u64,
            cursor: 0,
            last: start,
        }
    }

    /// The time of record `index` (called with 0, 1, 2, … in order): strictly after the
    /// previous one while the window has room, always within `(now - 183 days, now]`.
    pub(crate) fn at(&mut self, index: u64, rng: &mut Rng) -> i64 {
        let total = *self.cumulative.last().expect("at least one entry");
        let mass = (u128::from(index) * u128::from(total) + u128::from(rng.below(total)))
            / u128::from(self.records.max(1));
        let mass = mass as u64;
        while self.cumulative[self.cursor + 1] <= mass {
            self.cursor += 1;
        }
        let hour_start = self.cumulative[self.cursor];
        let weight = self.cumulative[self.cursor + 1] - hour_start;
        let within = (u128::from(mass - hour_start) * HOUR as u128 / u128::from(weight)) as i64;
        let at = self.start + self.cursor as i64 * HOUR + within + 1;
        self.last = at.max(self.last + 1).min(self.end);
        self.last
    }
}

/// How busy the partner's office is around an instant, relative to a quiet night (1).
fn busyness(ticks: i64) -> u64 {
    let local = ticks + OFFICE_OFFSET;
    let day = local.div_euclid(24 * HOUR);
    let hour = local.rem_euclid(24 * HOUR) / HOUR;
    // 1970-01-01 was a Thursday: Monday is 0.
    let weekday = (day + 3).rem_euclid(7);
    let weekend = weekday >= 5;
    match (weekend, hour) {
        (false, 9..=12 | 14..=17) => 100,
        (false, 13) => 60,
        (false, 8 | 18) => 45,
        (false, 7 | 19) => 15,
        (false, 20..=22) => 6,
        (true, 9..=18) => 8,
        _ => 2,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> OperationDate {
        OperationDate::parse_rfc3339("2025-06-30T12:00:00Z").unwrap()
    }

    #[test]
    fn times_ascend_within_the_window() {
        let n = 5_000;
        let mut schedule = Schedule::new(now(), n);
        let mut rng = Rng::new(1);
        let start = now().ticks() - WINDOW_DAYS * 24 * HOUR;
        let mut last = start;
        let mut whole_seconds = 0;
        for i in 0..n as u64 {
            let at = schedule.at(i, &mut rng);
            assert!(at > last && at <= now().ticks(), "record {i}");
            last = at;
            whole_seconds += usize::from(at % 10_000_000 == 0);
        }
        // Seven fractional digits, not rounded instants.
        assert!(whole_seconds < 5, "{whole_seconds}");
        // The last record lands near the end, not bunched early.
        assert!(now().ticks() - last < 5 * 24 * HOUR);
    }

    #[test]
    fn working_hours_on_weekdays_are_busiest() {
        let n = 20_000;
        let mut schedule = Schedule::new(now(), n);
        let mut rng = Rng::new(2);
        let (mut office, mut other) = (0, 0);
        for i in 0..n as u64 {
            let at = schedule.at(i, &mut rng);
            if busyness(at) >= 45 {
                office += 1;
            } else {
                other += 1;
            }
        }
        assert!(office > other * 4, "office {office}, other {other}");
    }
}
