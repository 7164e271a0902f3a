//! Scans: every record a query covers, newest first, as exports read them.
//!
//! A blocking thread reads the rows in one read transaction and hands them over in batches
//! through a bounded channel, so memory stays a few batches whatever the size of the scan;
//! dropping the stream stops the thread and frees its connection.
//!
//! Batches rather than records: handing over one record at a time makes the reading and the
//! consuming thread wake each other for every row, and they fall into lock-step. A batch the
//! consumer is done with comes back to the reading thread (see [`RecordBatch`]), which refills
//! its records in place: a scan of millions of rows then allocates about as much as one of a
//! few thousand, and memory is not freed on another thread than the one that allocated it
//! (which makes the two threads contend for the allocator's lock).

use std::sync::Arc;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

use actlog_domain::AuditRecord;
use actlog_domain::query::Query;
use actlog_store::{BatchStream, RecordBatch, RecordStream, StoreError};
use futures::StreamExt;
use futures::future::Either;
use rusqlite::{Connection, Row, params_from_iter};
use tokio::sync::mpsc;

use crate::dialect::Where;
use crate::error::database;
use crate::interrupt::{OnDrop, Running};
use crate::partners::Partners;
use crate::read::Readers;
use crate::rows;

/// Records per batch: enough that the threads rarely wait on each other, few enough that a
/// batch stays small (a few hundred KB).
const BATCH: usize = 256;

/// Batches the channel holds ahead of the consumer.
const AHEAD: usize = 4;

/// Spent batches kept for refilling; any more are freed.
const SPARE: usize = AHEAD + 2;

/// What the reading thread sends: a batch, or the error that ended the scan.
type Sent = Result<RecordBatch, StoreError>;

/// What a scan reads.
#[derive(Debug, Clone)]
pub(crate) enum Scan {
    /// The records a query covers, newest first.
    Query(Query),
    /// Every record of the partner in commit order, after the first `skip`.
    Log { skip: u64 },
}

/// Streams the records of `query` in batches (see the module docs).
pub(crate) fn scan_batches(readers: &Arc<Readers>, partner: &str, query: &Query) -> BatchStream {
    scan_any(readers, partner, Scan::Query(query.clone()))
}

/// Streams what `scan` names in batches (see the module docs).
pub(crate) fn scan_any(readers: &Arc<Readers>, partner: &str, scan: Scan) -> BatchStream {
    let (tx, rx) = mpsc::channel::<Sent>(AHEAD);
    let (readers, partner, query) = (Arc::clone(readers), partner.to_owned(), scan);
    // Dropping the stream interrupts a scan still computing (a filter that matches little
    // reads long between rows, and would not notice the channel closing until its next row).
    let running = Running::default();
    let interrupt = OnDrop(running.clone());
    let start = async move {
        let mut lease = match readers.lease().await {
            Ok(lease) => lease,
            Err(e) => return drop(tx.send(Err(e)).await),
        };
        let partners = Arc::clone(&readers.partners);
        running.start(lease.conn().get_interrupt_handle());
        tokio::task::spawn_blocking(move || {
            let sent = read_batches(lease.conn(), &partners, &partner, &query, &tx);
            running.finish();
            drop(lease);
            if let Err(e) = sent {
                let _ = tx.blocking_send(Err(database(&e)));
            }
        });
    };
    let batches = futures::stream::unfold((rx, interrupt), |(mut rx, interrupt)| async move {
        rx.recv().await.map(|batch| (batch, (rx, interrupt)))
    });
    futures::stream::once(start)
        .filter_map(|()| async { None })
        .chain(batches)
        .boxed()
}

/// Streams the records of `query` one by one: [`scan_batches`], flattened.
pub(crate) fn scan(readers: &Arc<Readers>, partner: &str, query: &Query) -> RecordStream {
    scan_batches(readers, partner, query)
        .flat_map(|batch| match batch {
            Ok(batch) => Either::Left(futures::stream::iter(
                batch.into_records().into_iter().map(Ok),
            )),
            Err(e) => Either::Right(futures::stream::iter([Err(e)])),
        })
        .boxed()
}

fn read_batches(
    conn: &mut Connection,
    partners: &Partners,
    partner: &str,
    scan: &Scan,
    out: &mpsc::Sender<Sent>,
) -> rusqlite::Result<()> {
    let tx = conn.transaction()?;
    let Some(key) = partners.find(&tx, partner)? else {
        return Ok(());
    };
    let (sql, params) = match scan {
        Scan::Query(query) => {
            let w = Where::query(key, query);
            let sql = format!(
                "SELECT {} FROM {} WHERE {} ORDER BY operation_date DESC, seq DESC",
                rows::COLUMNS,
                w.from,
                w.sql
            );
            (sql, w.params)
        }
        // `seq` is the rowid: the table's own order, which is commit order.
        Scan::Log { skip } => {
            let sql = format!(
                "SELECT {} FROM records WHERE partner = ?1 ORDER BY seq LIMIT -1 OFFSET ?2",
                rows::COLUMNS
            );
            let skip = i64::try_from(*skip).unwrap_or(i64::MAX);
            (sql, vec![key.into(), skip.into()])
        }
    };
    let mut stmt = tx.prepare_cached(&sql)?;
    let mut rows = stmt.query(params_from_iter(params))?;
    let mut batcher = Batcher::new(out, partner);
    let read = (|| {
        while let Some(row) = rows.next()? {
            if !batcher.add(row)? {
                break; // the consumer is gone
            }
        }
        Ok(())
    })();
    // What was read before a failure is still handed over, then the failure.
    batcher.flush();
    read
}

/// Fills batches and sends them.
struct Batcher<'a> {
    out: &'a mpsc::Sender<Sent>,
    partner: &'a str,
    /// Where the consumer returns spent batches, and where they are taken back from.
    home: SyncSender<Vec<AuditRecord>>,
    spent: Receiver<Vec<AuditRecord>>,
    /// The batch being filled; records from `filled` on are spent ones, to be overwritten.
    batch: Vec<AuditRecord>,
    filled: usize,
}

impl<'a> Batcher<'a> {
    fn new(out: &'a mpsc::Sender<Sent>, partner: &'a str) -> Self {
        let (home, spent) = sync_channel(SPARE);
        Batcher {
            out,
            partner,
            home,
            spent,
            batch: Vec::with_capacity(BATCH),
            filled: 0,
        }
    }

    /// Adds `row`; false once the consumer is gone.
    fn add(&mut self, row: &Row<'_>) -> rusqlite::Result<bool> {
        match self.batch.get_mut(self.filled) {
            Some(record) => rows::read_into(row, self.partner, record)?,
            None => self.batch.push(rows::read(row, self.partner)?.1),
        }
        self.filled += 1;
        if self.filled < BATCH {
            return Ok(true);
        }
        let next = self
            .spent
            .try_recv()
            .unwrap_or_else(|_| Vec::with_capacity(BATCH));
        let full = std::mem::replace(&mut self.batch, next);
        self.filled = 0;
        let batch = RecordBatch::new(full, Some(self.home.clone()));
        Ok(self.out.blocking_send(Ok(batch)).is_ok())
    }

    /// Sends what is left.
    fn flush(&mut self) {
        let mut rest = std::mem::take(&mut self.batch);
        rest.truncate(self.filled);
        self.filled = 0;
        if !rest.is_empty() {
            let _ = self.out.blocking_send(Ok(RecordBatch::new(rest, None)));
        }
    }
}

#[cfg(test)]
mod tests {
    use actlog_conformance::data::DataSet;
    use actlog_conformance::{expected, window_of_data};
    use actlog_store::{RecordReader, RecordWriter};
    use futures::TryStreamExt;

    use super::*;
    use crate::{SqliteOptions, SqliteStore};

    const PARTNER: &str = "partner-scan";

    fn everything() -> Query {
        Query {
            window: window_of_data(),
            filter: None,
        }
    }

    /// A store holding `n` varied records (absent and present fields mixed, so that a refilled
    /// record that kept a field of its previous row would show).
    async fn store(n: usize) -> (tempfile::TempDir, SqliteStore, Vec<AuditRecord>) {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("scan.db"), SqliteOptions::default());
        let store = store.unwrap();
        let records = DataSet::new(PARTNER, "r", 7).take(n);
        for chunk in records.chunks(500) {
            store.append(PARTNER, chunk.to_vec()).await.unwrap();
        }
        (dir, store, records)
    }

    #[tokio::test]
    async fn refilled_batches_hold_exactly_the_records_stored() {
        let (_dir, store, records) = store(BATCH * (SPARE + 3) + 17).await;
        let mut seen = Vec::new();
        let mut batches = store.scan_batches(PARTNER, &everything());
        while let Some(batch) = batches.try_next().await.unwrap() {
            seen.extend(batch.iter().cloned());
            // Dropped here: its records go back to be refilled with later rows.
        }
        let want = expected(&records, &everything());
        assert_eq!(seen.len(), want.len());
        for (got, want) in seen.iter().zip(&want) {
            assert_eq!(got, want, "record {}", want.id);
        }
        let flat: Vec<AuditRecord> = store
            .scan(PARTNER, &everything())
            .try_collect()
            .await
            .unwrap();
        assert_eq!(flat, want);
    }

    #[tokio::test]
    async fn a_scan_that_fails_midway_hands_over_what_it_read_then_the_failure() {
        let (dir, store, records) = store(BATCH * 4).await;
        let want = expected(&records, &everything());
        let broken = BATCH * 2 + 10;
        let conn = Connection::open(dir.path().join("scan.db")).unwrap();
        let sql = "UPDATE records SET customized_data = 'not json' WHERE id = ?1";
        assert_eq!(conn.execute(sql, [&want[broken].id]).unwrap(), 1);

        let mut batches = store.scan_batches(PARTNER, &everything());
        let mut read = 0;
        let failure = loop {
            match batches
                .next()
                .await
                .expect("the scan ends with its failure")
            {
                Ok(batch) => read += batch.len(),
                Err(e) => break e,
            }
        };
        assert_eq!(read, broken);
        assert!(matches!(failure, StoreError::Database(_)), "{failure:?}");
        assert!(batches.next().await.is_none());

        let flat: Vec<_> = store.scan(PARTNER, &everything()).collect().await;
        assert_eq!(flat.len(), broken + 1);
        assert!(flat[..broken].iter().all(Result::is_ok));
        assert!(flat[broken].is_err());
    }
}
