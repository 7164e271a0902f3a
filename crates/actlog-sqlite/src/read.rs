//! Reads: a pool of reader connections, each read on a blocking thread, and the record
//! queries (page, get, count; scans are in `scan`).
//!
//! In WAL mode readers never wait for the writer, and each read transaction sees one committed
//! state. Pages use keyset pagination newest first, on `(operation_date, seq)`, limited to the
//! walk's snapshot so that records arriving mid-walk are neither shown nor shift the pages.

use std::sync::{Arc, Mutex};

use actlog_domain::AuditRecord;
use actlog_domain::query::{MAX_PAGE_SIZE, PageRequest, Position, Query};
use actlog_store::{Page, StoreError};
use rusqlite::{Connection, OptionalExtension, params_from_iter};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::dialect::Where;
use crate::error::db;
use crate::interrupt::{OnDrop, Running};
use crate::partners::Partners;
use crate::rows;

/// Idle reader connections, and a permit per connection.
#[derive(Debug)]
pub(crate) struct Readers {
    idle: Mutex<Vec<Connection>>,
    permits: Arc<Semaphore>,
    pub(crate) partners: Arc<Partners>,
}

/// A connection taken from the pool, returned to it on drop.
pub(crate) struct Lease {
    conn: Option<Connection>,
    readers: Arc<Readers>,
    _permit: OwnedSemaphorePermit,
}

impl Lease {
    pub(crate) fn conn(&mut self) -> &mut Connection {
        self.conn
            .as_mut()
            .expect("a lease holds its connection until dropped")
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
            if !conn.is_autocommit() {
                let _ = conn.execute_batch("ROLLBACK");
            }
            let mut idle = self.readers.idle.lock().unwrap_or_else(|e| e.into_inner());
            idle.push(conn);
        }
    }
}

impl Readers {
    pub(crate) fn new(conns: Vec<Connection>, partners: Arc<Partners>) -> Arc<Readers> {
        Arc::new(Readers {
            permits: Arc::new(Semaphore::new(conns.len())),
            idle: Mutex::new(conns),
            partners,
        })
    }

    pub(crate) async fn lease(self: &Arc<Self>) -> Result<Lease, StoreError> {
        let permit = Arc::clone(&self.permits)
            .acquire_owned()
            .await
            .map_err(|_| StoreError::Database("the reader pool is closed".into()))?;
        let conn = self.idle.lock().unwrap_or_else(|e| e.into_inner()).pop();
        let conn = conn.expect("a permit always has an idle connection");
        Ok(Lease {
            conn: Some(conn),
            readers: Arc::clone(self),
            _permit: permit,
        })
    }

    /// Runs `read` on a reader connection, on a blocking thread. Dropping the future
    /// interrupts the read (see `interrupt`).
    pub(crate) async fn run<T, F>(self: &Arc<Self>, read: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection, &Partners) -> rusqlite::Result<T> + Send + 'static,
    {
        let mut lease = self.lease().await?;
        let partners = Arc::clone(&self.partners);
        let running = Running::default();
        running.start(lease.conn().get_interrupt_handle());
        let _interrupt = OnDrop(running.clone());
        let joined = tokio::task::spawn_blocking(move || {
            let read = read(lease.conn(), &partners);
            running.finish();
            drop(lease);
            read
        })
        .await;
        joined
            .map_err(|e| StoreError::Database(format!("a read failed: {e}")))?
            .map_err(db)
    }
}

/// One page of `request` for `partner`; a size outside `1..=MAX_PAGE_SIZE` is clamped. The
/// snapshot of a first page is the newest `seq`, read in the same transaction as the page.
pub(crate) fn page(
    conn: &mut Connection,
    partners: &Partners,
    partner: &str,
    request: &PageRequest,
) -> rusqlite::Result<Page> {
    let tx = conn.transaction()?;
    let snapshot = match request.snapshot {
        Some(snapshot) => snapshot,
        None => tx.query_row("SELECT coalesce(max(seq), 0) FROM records", [], |r| {
            r.get(0)
        })?,
    };
    let mut page = Page {
        records: Vec::new(),
        next: None,
        snapshot,
    };
    let Some(key) = partners.find(&tx, partner)? else {
        return Ok(page);
    };
    let size = request.size.clamp(1, MAX_PAGE_SIZE);
    let (sql, params) = page_sql(key, request, snapshot);
    let mut stmt = tx.prepare_cached(&sql)?;
    let mut rows = stmt.query(params_from_iter(params))?;
    let mut last = None;
    while let Some(row) = rows.next()? {
        if page.records.len() == size {
            page.next = last;
            break;
        }
        let (seq, record) = rows::read(row, partner)?;
        last = Some(Position {
            date: record.operation_date,
            seq,
        });
        page.records.push(record);
    }
    Ok(page)
}

/// The SQL of one page: the size + 1st row tells whether there is a next page.
pub(crate) fn page_sql(
    key: i64,
    request: &PageRequest,
    snapshot: i64,
) -> (String, Vec<rusqlite::types::Value>) {
    let mut w = Where::query(key, &request.query);
    w.snapshot(snapshot);
    if let Some(after) = request.after {
        w.after(after);
    }
    let limit = w.bind(request.size.clamp(1, MAX_PAGE_SIZE) as i64 + 1);
    let sql = format!(
        "SELECT {} FROM {} WHERE {} ORDER BY operation_date DESC, seq DESC LIMIT {limit}",
        rows::COLUMNS,
        w.from,
        w.sql
    );
    (sql, w.params)
}

/// The record `id` of `partner`.
pub(crate) fn get(
    conn: &Connection,
    partners: &Partners,
    partner: &str,
    id: &str,
) -> rusqlite::Result<Option<AuditRecord>> {
    let Some(key) = partners.find(conn, partner)? else {
        return Ok(None);
    };
    let sql = format!(
        "SELECT {} FROM records WHERE partner = ?1 AND id = ?2",
        rows::COLUMNS
    );
    let found = conn
        .prepare_cached(&sql)?
        .query_row((key, id), |row| rows::read(row, partner))
        .optional()?;
    Ok(found.map(|(_, record)| record))
}

/// How many records of `partner` `query` covers.
/// How many records `query` covers, counting no further than `limit` when given.
pub(crate) fn count(
    conn: &Connection,
    partners: &Partners,
    partner: &str,
    query: &Query,
    limit: Option<u64>,
) -> rusqlite::Result<u64> {
    let Some(key) = partners.find(conn, partner)? else {
        return Ok(0);
    };
    let w = Where::query(key, query);
    let sql = match limit {
        None => format!("SELECT count(*) FROM {} WHERE {}", w.from, w.sql),
        // Counting stops at the limit instead of walking the whole window.
        Some(limit) => format!(
            "SELECT count(*) FROM (SELECT 1 FROM {} WHERE {} LIMIT {})",
            w.from,
            w.sql,
            limit.min(i64::MAX as u64)
        ),
    };
    let n: i64 = conn
        .prepare_cached(&sql)?
        .query_row(params_from_iter(w.params), |r| r.get(0))?;
    Ok(n as u64)
}

#[cfg(test)]
mod tests {
    use actlog_domain::OperationDate;
    use actlog_domain::filter::Filter;
    use actlog_domain::query::Window;

    use super::*;
    use crate::connection::{Role, open};

    /// The plan SQLite picks for the first (and a later) page of `filter`.
    fn plans(filter: Option<&str>) -> Vec<String> {
        let dir = tempfile::tempdir().unwrap();
        let mut conn = open(&dir.path().join("plan.db"), Role::Writer).unwrap();
        crate::migrate::run(&mut conn).unwrap();
        let mut request = PageRequest {
            query: Query {
                window: Window {
                    start: OperationDate::from_ticks(1),
                    end: None,
                },
                filter: filter.map(|f| Filter::parse(f).unwrap()),
            },
            size: 50,
            after: None,
            snapshot: None,
        };
        let mut out = Vec::new();
        for after in [
            None,
            Some(Position {
                date: OperationDate::from_ticks(9),
                seq: 9,
            }),
        ] {
            request.after = after;
            let (sql, params) = page_sql(1, &request, 100);
            let mut stmt = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
            let details: Vec<String> = stmt
                .query_map(params_from_iter(params), |r| r.get(3))
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap();
            out.push(details.join(" / "));
        }
        out
    }

    #[test]
    fn pages_use_the_intended_indexes_without_sorting() {
        let cases = [
            (None, "records_by_date"),
            (
                Some(r#"{"Field":"CustomerId","Value":"C-1","Operator":"equals"}"#),
                "records_by_customer",
            ),
            (
                Some(r#"{"Field":"OperationType","Value":"create_order","Operator":"equals"}"#),
                "records_by_operation",
            ),
            (
                Some(r#"{"Field":"CompanyName","Value":"soc","Operator":"substring"}"#),
                "records_by_date",
            ),
        ];
        for (filter, index) in cases {
            for plan in plans(filter) {
                assert!(plan.contains(index), "{filter:?}: {plan}");
                assert!(!plan.contains("TEMP B-TREE"), "{filter:?} sorts: {plan}");
            }
        }
    }
}
