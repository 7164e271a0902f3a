//! Reads: pages, look-ups, counts and scans.
//!
//! A walk's snapshot is the size of the partner's log when its first page was read: records
//! are numbered in commit order per partner (see `append`), so every record numbered up to it
//! was committed by then and every record committed later is numbered above it. Each page
//! keeps `seq <= snapshot`, so a walk returns every record of its window committed before its
//! first page exactly once, however many servers append meanwhile.

use actlog_domain::AuditRecord;
use actlog_domain::query::{MAX_PAGE_SIZE, PageRequest, Position, Query};
use actlog_store::{Page, RecordBatch, StoreError};
use deadpool_postgres::Client;
use futures::{Stream, StreamExt};
use tokio_postgres::types::ToSql;

use crate::cancel::Cancelling;
use crate::dialect::Where;
use crate::error::db;
use crate::partners::Partners;
use crate::rows;

/// One page of `request` for partner `partner` (a size outside `1..=MAX_PAGE_SIZE` is
/// clamped).
pub(crate) async fn page(
    client: &Client,
    partners: &Partners,
    partner: &str,
    request: &PageRequest,
) -> Result<Page, StoreError> {
    let Some(key) = partners.find(client, partner).await? else {
        return Ok(Page {
            records: Vec::new(),
            next: None,
            snapshot: request.snapshot.unwrap_or(0),
        });
    };
    let snapshot = match request.snapshot {
        Some(snapshot) => snapshot,
        None => log_size(client, key).await?,
    };
    let size = request.size.clamp(1, MAX_PAGE_SIZE);
    let mut w = Where::query(key, &request.query);
    w.snapshot(snapshot);
    if let Some(after) = request.after {
        w.after(after);
    }
    let limit = w.bind(size as i64 + 1);
    let sql = format!(
        "SELECT {} FROM records r WHERE {} ORDER BY r.operation_date DESC, r.seq DESC LIMIT {limit}",
        rows::COLUMNS,
        w.sql
    );
    let stmt = client.prepare_cached(&sql).await.map_err(db)?;
    let found = client.query(&stmt, &w.refs()).await.map_err(db)?;
    let mut page = Page {
        records: Vec::with_capacity(found.len().min(size)),
        next: None,
        snapshot,
    };
    let mut last = None;
    for row in &found {
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

/// How many records partner key `key` holds, all committed (the snapshot of a new walk).
async fn log_size(client: &Client, key: i64) -> Result<i64, StoreError> {
    let stmt = client
        .prepare_cached("SELECT size FROM partner_logs WHERE partner = $1")
        .await
        .map_err(db)?;
    let row = client.query_opt(&stmt, &[&key]).await.map_err(db)?;
    Ok(row.map_or(0, |r| r.get(0)))
}

/// The record `id` of `partner`.
pub(crate) async fn get(
    client: &Client,
    partners: &Partners,
    partner: &str,
    id: &str,
) -> Result<Option<AuditRecord>, StoreError> {
    let Some(key) = partners.find(client, partner).await? else {
        return Ok(None);
    };
    let sql = format!(
        "SELECT {} FROM record_ids i JOIN records r
           ON r.partner = i.partner AND r.operation_date = i.operation_date AND r.seq = i.seq
         WHERE i.partner = $1 AND i.id = $2",
        rows::COLUMNS
    );
    let stmt = client.prepare_cached(&sql).await.map_err(db)?;
    let row = client.query_opt(&stmt, &[&key, &id]).await.map_err(db)?;
    row.map(|row| rows::read(&row, partner).map(|(_, r)| r))
        .transpose()
}

/// How many records `query` covers, counting no further than `limit` when given.
pub(crate) async fn count(
    client: &Client,
    partners: &Partners,
    partner: &str,
    query: &Query,
    limit: Option<u64>,
) -> Result<u64, StoreError> {
    let Some(key) = partners.find(client, partner).await? else {
        return Ok(0);
    };
    let w = Where::query(key, query);
    let sql = match limit {
        None => format!("SELECT count(*) FROM records r WHERE {}", w.sql),
        Some(limit) => format!(
            "SELECT count(*) FROM (SELECT 1 FROM records r WHERE {} LIMIT {}) AS counted",
            w.sql,
            limit.min(i64::MAX as u64)
        ),
    };
    let stmt = client.prepare_cached(&sql).await.map_err(db)?;
    let n: i64 = client.query_one(&stmt, &w.refs()).await.map_err(db)?.get(0);
    Ok(n as u64)
}

/// Records of one scan handed over together.
const SCAN_BATCH: usize = 256;

/// What a scan reads.
#[derive(Debug, Clone)]
pub(crate) enum Scan {
    /// The records a query covers, newest first.
    Query(Query),
    /// Every record of the partner in commit order, after the first `skip`.
    Log { skip: u64 },
}

/// The SQL and parameters of `scan` for partner key `key`.
fn scan_sql(key: i64, scan: Scan) -> (String, Vec<crate::dialect::Param>) {
    match scan {
        Scan::Query(query) => {
            let w = Where::query(key, &query);
            let sql = format!(
                "SELECT {} FROM records r WHERE {} ORDER BY r.operation_date DESC, r.seq DESC",
                rows::COLUMNS,
                w.sql
            );
            (sql, w.params)
        }
        Scan::Log { skip } => {
            let sql = format!(
                "SELECT {} FROM records r WHERE r.partner = $1 ORDER BY r.seq OFFSET $2",
                rows::COLUMNS
            );
            let skip = i64::try_from(skip).unwrap_or(i64::MAX);
            (sql, vec![Box::new(key), Box::new(skip)])
        }
    }
}

/// Every record `scan` names, in batches, on `client` (held until the stream ends; dropping
/// the stream first cancels the statement). The rows stream as the server sends them: memory does not depend on the scan's
/// size (the connection's socket buffers are the only queue).
pub(crate) async fn scan_batches(
    client: Cancelling,
    partners: &Partners,
    partner: String,
    scan: Scan,
) -> Result<impl Stream<Item = Result<RecordBatch, StoreError>> + Send + use<>, StoreError> {
    let key = partners.find(&client, &partner).await?;
    let rows = match key {
        None => None,
        Some(key) => {
            let (sql, params) = scan_sql(key, scan);
            // (Dropped here on failure: the connection is cancelled and closed, which a
            // failed statement does no harm.)
            let stmt = client.prepare_cached(&sql).await.map_err(db)?;
            let rows = client
                .query_raw(
                    &stmt,
                    params.iter().map(|p| p.as_ref() as &(dyn ToSql + Sync)),
                )
                .await
                .map_err(db)?;
            Some(rows)
        }
    };
    let Some(rows) = rows else {
        client.done();
        return Ok(futures::stream::empty().left_stream());
    };
    // Spent batches come back here (see `RecordBatch`) and their records are refilled in place.
    let (home, spent) = std::sync::mpsc::sync_channel::<Vec<AuditRecord>>(SPARE);
    let state = Filling {
        rows: Box::pin(rows),
        partner,
        home,
        spent,
        failed: None,
        done: false,
        client: Some(client),
    };
    let batches = futures::stream::unfold(state, |mut state| async move {
        state.next_batch().await.map(|item| (item, state))
    });
    Ok(batches.right_stream())
}

/// Spent batches kept for refilling; any more are freed.
const SPARE: usize = 6;

/// A scan in progress: its rows, and the batches to refill.
struct Filling {
    rows: std::pin::Pin<Box<tokio_postgres::RowStream>>,
    partner: String,
    home: std::sync::mpsc::SyncSender<Vec<AuditRecord>>,
    spent: std::sync::mpsc::Receiver<Vec<AuditRecord>>,
    /// A failure met while filling a batch, handed over after that batch.
    failed: Option<StoreError>,
    /// The rows have ended (a finished row stream must not be polled again).
    done: bool,
    /// The connection the rows come over, held until the rows end (dropped with a scan
    /// abandoned midway, which cancels the statement).
    client: Option<Cancelling>,
}

impl Filling {
    /// The next batch (refilling a spent one when there is one), or the failure that ended
    /// the scan; `None` at the end.
    async fn next_batch(&mut self) -> Option<Result<RecordBatch, StoreError>> {
        if let Some(e) = self.failed.take() {
            self.done = true;
            return Some(Err(e));
        }
        if self.done {
            self.release();
            return None;
        }
        let mut batch = self.spent.try_recv().unwrap_or_default();
        let mut filled = 0;
        while filled < SCAN_BATCH {
            let row = match self.rows.next().await {
                None => {
                    self.done = true;
                    self.release();
                    break;
                }
                Some(Ok(row)) => row,
                Some(Err(e)) => {
                    self.failed = Some(db(e));
                    break;
                }
            };
            let read = match batch.get_mut(filled) {
                Some(record) => rows::read_into(&row, &self.partner, record),
                None => rows::read(&row, &self.partner).map(|(_, r)| batch.push(r)),
            };
            if let Err(e) = read {
                self.failed = Some(e);
                break;
            }
            filled += 1;
        }
        batch.truncate(filled);
        if filled == 0 {
            self.done = true;
            return self.failed.take().map(Err);
        }
        Some(Ok(RecordBatch::new(batch, Some(self.home.clone()))))
    }

    /// Every row has come: the connection goes back to the pool.
    fn release(&mut self) {
        if let Some(client) = self.client.take() {
            client.done();
        }
    }
}
