//! Monthly partitions of `records`, created ahead of time and on demand.
//!
//! Months from 2000 to 2099 have a partition each; earlier and later instants (which no real
//! audit record has, but any client may send) share one partition at each end, so that no
//! batch can make more than 1,202 partitions however its dates are spread.
//!
//! A partition is created under a transaction-scoped advisory lock, as a plain table then
//! attached (`ATTACH PARTITION` takes a lock that reads and inserts do not wait for, where
//! `CREATE TABLE … PARTITION OF` would wait for every running export), so that several servers
//! creating the same month at once do not race. Months known to exist are cached.

use std::collections::HashSet;
use std::sync::Mutex;

use actlog_domain::OperationDate;
use actlog_store::StoreError;
use deadpool_postgres::Client;
use jiff::civil::Date;
use jiff::tz::TimeZone;

use crate::error::db;

/// The advisory lock namespace of partition creation (the month is the second key).
const PARTITION_LOCK: i32 = 0x7061_7274; // "part"

/// A month, as `year * 12 + month - 1`; [`EARLY`] stands for every instant before 2000 and
/// [`LATE`] for every instant from 2100 on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct Month(i32);

/// The partition of everything before January 2000.
const EARLY: Month = Month(2000 * 12 - 1);
/// The partition of everything from January 2100.
const LATE: Month = Month(2100 * 12);

impl Month {
    /// The partition's month `at` falls in (UTC).
    pub(crate) fn of(at: OperationDate) -> Month {
        let date = at.timestamp().to_zoned(TimeZone::UTC).date();
        let month = Month(i32::from(date.year()) * 12 + i32::from(date.month()) - 1);
        month.clamp(EARLY, LATE)
    }

    fn year_month(self) -> (i16, i8) {
        (
            (self.0.div_euclid(12)) as i16,
            (self.0.rem_euclid(12) + 1) as i8,
        )
    }

    /// The partition's table name, `records_pYYYYMM` (or the two ends').
    fn table(self) -> String {
        match self {
            EARLY => "records_before_2000".to_owned(),
            LATE => "records_from_2100".to_owned(),
            _ => {
                let (year, month) = self.year_month();
                format!("records_p{year:04}{month:02}")
            }
        }
    }

    /// The first tick of the month; `None` past the last representable month.
    fn start(self) -> Option<i64> {
        let (year, month) = self.year_month();
        let date = Date::new(year, month, 1).ok()?;
        let zoned = date.to_zoned(TimeZone::UTC).ok()?;
        OperationDate::from_timestamp(zoned.timestamp()).map(|d| d.ticks())
    }

    /// `FROM (…) TO (…)` of the partition: the month's ticks, open-ended at either end.
    fn bounds(self) -> String {
        let start = |m: Month| m.start().map_or("MAXVALUE".to_owned(), |t| t.to_string());
        match self {
            EARLY => format!("FROM (MINVALUE) TO ({})", start(Month(EARLY.0 + 1))),
            LATE => format!("FROM ({}) TO (MAXVALUE)", start(LATE)),
            _ => format!("FROM ({}) TO ({})", start(self), start(Month(self.0 + 1))),
        }
    }

    pub(crate) fn next(self) -> Month {
        Month(self.0 + 1)
    }
}

/// The months known to have a partition.
#[derive(Debug, Default)]
pub(crate) struct Partitions {
    known: Mutex<HashSet<Month>>,
}

impl Partitions {
    /// Makes sure every month of `months` has its partition.
    pub(crate) async fn ensure(
        &self,
        client: &mut Client,
        months: impl IntoIterator<Item = Month>,
    ) -> Result<(), StoreError> {
        let missing: Vec<Month> = {
            let known = self.known.lock().unwrap_or_else(|e| e.into_inner());
            let mut missing: Vec<Month> = months
                .into_iter()
                .map(|m| m.clamp(EARLY, LATE))
                .filter(|m| !known.contains(m))
                .collect();
            missing.sort();
            missing.dedup();
            missing
        };
        for month in missing {
            create(client, month).await?;
            let mut known = self.known.lock().unwrap_or_else(|e| e.into_inner());
            known.insert(month);
        }
        Ok(())
    }
}

/// Creates and attaches `month`'s partition unless it exists.
async fn create(client: &mut Client, month: Month) -> Result<(), StoreError> {
    let table = month.table();
    let tx = client.transaction().await.map_err(db)?;
    tx.execute(
        "SELECT pg_advisory_xact_lock($1, $2)",
        &[&PARTITION_LOCK, &month.0],
    )
    .await
    .map_err(db)?;
    let exists: bool = tx
        .query_one("SELECT to_regclass($1) IS NOT NULL", &[&table])
        .await
        .map_err(db)?
        .get(0);
    if !exists {
        // Names and bounds are made here from integers, never from input text.
        tx.batch_execute(&format!(
            "CREATE TABLE {table} (LIKE records INCLUDING DEFAULTS INCLUDING CONSTRAINTS);
             ALTER TABLE records ATTACH PARTITION {table} FOR VALUES {};",
            month.bounds()
        ))
        .await
        .map_err(db)?;
        tracing::info!(partition = %table, "created a records partition");
    }
    tx.commit().await.map_err(db)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_name_and_bound_their_partitions() {
        let at = OperationDate::parse_rfc3339("2017-06-30T23:59:59.9999999Z").unwrap();
        let month = Month::of(at);
        assert_eq!(month.table(), "records_p201706");
        let start = OperationDate::parse_rfc3339("2017-06-01T00:00:00Z").unwrap();
        let end = OperationDate::parse_rfc3339("2017-07-01T00:00:00Z").unwrap();
        assert_eq!(
            month.bounds(),
            format!("FROM ({}) TO ({})", start.ticks(), end.ticks())
        );
        assert_eq!(Month::of(end), month.next());
        let year_2000 = OperationDate::parse_rfc3339("2000-01-01T00:00:00Z").unwrap();
        let year_2100 = OperationDate::parse_rfc3339("2100-01-01T00:00:00Z").unwrap();
        let early = Month::of(OperationDate::MIN);
        assert_eq!(
            early,
            Month::of(OperationDate::from_ticks(year_2000.ticks() - 1))
        );
        assert_eq!(early.table(), "records_before_2000");
        let to_2000 = format!("FROM (MINVALUE) TO ({})", year_2000.ticks());
        assert_eq!(early.bounds(), to_2000);
        assert_eq!(Month::of(year_2000).table(), "records_p200001");
        let late = Month::of(OperationDate::MAX);
        assert_eq!(late, Month::of(year_2100));
        assert_eq!(late.table(), "records_from_2100");
        let from_2100 = format!("FROM ({}) TO (MAXVALUE)", year_2100.ticks());
        assert_eq!(late.bounds(), from_2100);
        let last = Month::of(OperationDate::from_ticks(year_2100.ticks() - 1));
        assert!(
            last.bounds()
                .ends_with(&format!("TO ({})", year_2100.ticks()))
        );
    }
}
