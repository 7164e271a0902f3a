//! Monthly partitions of `records`, created ahead of time and on demand.
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

/// A month, as `year * 12 + month - 1`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct Month(i32);

impl Month {
    /// The month `at` falls in (UTC).
    pub(crate) fn of(at: OperationDate) -> Month {
        let date = at.timestamp().to_zoned(TimeZone::UTC).date();
        Month(i32::from(date.year()) * 12 + i32::from(date.month()) - 1)
    }

    fn year_month(self) -> (i16, i8) {
        (
            (self.0.div_euclid(12)) as i16,
            (self.0.rem_euclid(12) + 1) as i8,
        )
    }

    /// The partition's table name, `records_pYYYYMM`.
    fn table(self) -> String {
        let (year, month) = self.year_month();
        format!("records_p{year:04}{month:02}")
    }

    /// The first tick of the month; `None` past the last representable month.
    fn start(self) -> Option<i64> {
        let (year, month) = self.year_month();
        let date = Date::new(year, month, 1).ok()?;
        let zoned = date.to_zoned(TimeZone::UTC).ok()?;
        OperationDate::from_timestamp(zoned.timestamp()).map(|d| d.ticks())
    }

    /// `FROM (…) TO (…)` of the partition: the month's ticks, open-ended at either end of the
    /// representable range.
    fn bounds(self) -> String {
        let bound = |m: Month| m.start().map_or("MAXVALUE".to_owned(), |t| t.to_string());
        let lower = if self.start().is_some() {
            bound(self)
        } else {
            "MINVALUE".to_owned()
        };
        format!("FROM ({lower}) TO ({})", bound(Month(self.0 + 1)))
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
            // Past the last representable month there is nothing to store.
            let mut missing: Vec<Month> = months
                .into_iter()
                .filter(|m| m.start().is_some() && !known.contains(m))
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
        assert_eq!(Month::of(OperationDate::MIN).table(), "records_p000101");
        assert!(
            Month::of(OperationDate::MAX)
                .bounds()
                .ends_with("TO (MAXVALUE)")
        );
    }
}
