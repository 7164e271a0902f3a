//! Storing a batch, as one writer job: all of it or nothing, idempotent by `(partner, id)`,
//! each new record given the next index of its partner's log in the same transaction, and the
//! Subscriptions page's projection merged with what the new records change, in it too.

use actlog_domain::AuditRecord;
use actlog_domain::subscriptions::state::Changes;
use actlog_store::{AppendError, AppendReport};
use actlog_tlog::merkle::Hash;
use rusqlite::{Connection, OptionalExtension};

use crate::error::db;
use crate::log::Appending;
use crate::{partners, rows, subscriptions};

/// Stores `records` for `partner` (key `key` when known), with their leaf hashes `leaves`
/// and what each changes in the Subscriptions page `changes` (both made before the job, off
/// the writer), inside the writer's savepoint for this job. Returns
/// the report and the partner's key; on a conflict, the caller's savepoint is rolled back, so
/// nothing of the batch stays, in the records or the log.
pub(crate) fn append(
    conn: &Connection,
    partner: &str,
    key: Option<i64>,
    records: &[AuditRecord],
    leaves: &[Hash],
    changes: Vec<Changes>,
) -> Result<(AppendReport, i64), AppendError> {
    let key = match key {
        Some(key) => key,
        None => partners::ensure_row(conn, partner).map_err(db)?.0,
    };
    let mut log = Appending::start(conn, key).map_err(db)?;
    let mut insert = conn.prepare_cached(rows::INSERT).map_err(db)?;
    let mut report = AppendReport::default();
    let mut conflicts: Vec<String> = Vec::new();
    let mut projection = Changes::new();
    for ((record, leaf), changed) in records.iter().zip(leaves).zip(changes) {
        if rows::insert(&mut insert, key, record, log.next_index()).map_err(db)? {
            log.push(*leaf);
            projection.absorb(changed);
            report.stored += 1;
        } else if same_as_stored(conn, partner, key, record).map_err(db)? {
            report.unchanged += 1;
        } else if !conflicts.contains(&record.id) {
            conflicts.push(record.id.clone());
        }
    }
    if conflicts.is_empty() {
        log.finish(conn).map_err(db)?;
        subscriptions::write(conn, key, &projection).map_err(db)?;
        Ok((report, key))
    } else {
        Err(AppendError::Conflict(conflicts))
    }
}

/// Whether the record stored under `record.id` has the same content (a retry), comparing
/// what the store would return for each.
fn same_as_stored(
    conn: &Connection,
    partner: &str,
    key: i64,
    record: &AuditRecord,
) -> rusqlite::Result<bool> {
    let sql = format!(
        "SELECT {} FROM records WHERE partner = ?1 AND id = ?2",
        rows::COLUMNS
    );
    let stored = conn
        .prepare_cached(&sql)?
        .query_row((key, &record.id), |row| rows::read(row, partner))
        .optional()?;
    Ok(stored
        .is_some_and(|(_, stored)| stored.partner_id == partner && stored.same_content(record)))
}
