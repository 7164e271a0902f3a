//! Storing batches: all of a batch or nothing, idempotent by `(partner, id)`, numbered in
//! commit order per partner, durable on return.
//!
//! Appends are queued to a few writer tasks, each partner always to the same one (by a hash
//! of its id), so that one partner's batches queue together rather than split between writers
//! that would then wait for each other's lock. A writer takes the first job and whatever else
//! is queued, groups the jobs by partner, and stores each partner's group in one transaction:
//! many clients sending one record each share a commit (and its WAL flush).
//!
//! In that transaction the partner's log row is locked first (`SELECT … FOR UPDATE`), so every
//! transaction appending to one partner — on this server or any other — runs after the
//! previous one committed: ids already stored are seen, and sequence numbers follow commit
//! order. The whole group's ids are checked in one query; a job with a conflicting id is
//! refused alone, before anything is written, and the others go on; the accepted records are
//! written with one binary COPY per table (`insert`). `synchronous_commit` is on for these
//! transactions whatever the server's default: an acknowledged batch is on disk.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use actlog_domain::AuditRecord;
use actlog_store::{AppendError, AppendReport, StoreError};
use deadpool_postgres::{Client, Pool, Transaction};
use tokio::sync::{mpsc, oneshot};

use crate::error::{db, pool as pool_error};
use crate::insert;
use crate::partitions::{Month, Partitions};
use crate::partners::Partners;
use crate::rows;

/// Most jobs one transaction takes.
const MAX_GROUP_JOBS: usize = 1_024;
/// Most records one writer takes at once, so big batches do not hold up small ones for long.
const MAX_GROUP_RECORDS: usize = 16_384;

/// One batch to store, and where to answer.
struct Job {
    partner: String,
    records: Vec<AuditRecord>,
    reply: oneshot::Sender<Result<AppendReport, AppendError>>,
}

/// The queues into the writer tasks, one per writer.
#[derive(Debug)]
pub(crate) struct Writer {
    queues: Vec<mpsc::Sender<Job>>,
}

/// What the writers share.
struct Shared {
    pool: Pool,
    partners: Arc<Partners>,
    partitions: Arc<Partitions>,
}

impl Writer {
    /// Starts `writers` tasks, each with a queue of its share of `queue` places.
    pub(crate) fn start(
        pool: Pool,
        partners: Arc<Partners>,
        partitions: Arc<Partitions>,
        writers: usize,
        queue: usize,
    ) -> Writer {
        let shared = Arc::new(Shared {
            pool,
            partners,
            partitions,
        });
        let writers = writers.max(1);
        let queues = (0..writers)
            .map(|_| {
                let (jobs, queued) = mpsc::channel((queue / writers).max(1));
                tokio::spawn(serve(Arc::clone(&shared), queued));
                jobs
            })
            .collect();
        Writer { queues }
    }

    /// Stores `records` for `partner`; a full queue is [`StoreError::Busy`] at once.
    pub(crate) async fn append(
        &self,
        partner: &str,
        records: Vec<AuditRecord>,
    ) -> Result<AppendReport, AppendError> {
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        partner.hash(&mut hasher);
        let queue = &self.queues[(hasher.finish() % self.queues.len() as u64) as usize];
        let (reply, answer) = oneshot::channel();
        let job = Job {
            partner: partner.to_owned(),
            records,
            reply,
        };
        queue.try_send(job).map_err(|e| match e {
            mpsc::error::TrySendError::Full(_) => StoreError::Busy,
            mpsc::error::TrySendError::Closed(_) => {
                StoreError::Database("the PostgreSQL writers have stopped".into())
            }
        })?;
        answer.await.map_err(|_| {
            AppendError::Store(StoreError::Database(
                "a PostgreSQL writer stopped before answering".into(),
            ))
        })?
    }
}

/// How long a writer waits for more jobs when the last group showed that many clients are
/// writing at once: their requests arrive a little apart, and without the wait every large
/// group is followed by a group of the one job that came just too late (a commit for one).
const GATHER: std::time::Duration = std::time::Duration::from_millis(2);

/// A writer task: takes groups of jobs until its queue closes.
async fn serve(shared: Arc<Shared>, mut queue: mpsc::Receiver<Job>) {
    let mut last_group = 1;
    while let Some(first) = queue.recv().await {
        let mut records = first.records.len();
        let mut group = vec![first];
        let deadline = tokio::time::Instant::now() + GATHER;
        while group.len() < MAX_GROUP_JOBS && records < MAX_GROUP_RECORDS {
            let job = match queue.try_recv() {
                Ok(job) => job,
                // Concurrent writers seen: wait a moment for as many as last time.
                Err(_) if group.len() < last_group => {
                    match tokio::time::timeout_at(deadline, queue.recv()).await {
                        Ok(Some(job)) => job,
                        _ => break,
                    }
                }
                Err(_) => break,
            };
            records += job.records.len();
            group.push(job);
        }
        last_group = group.len();
        let mut by_partner: HashMap<String, Vec<Job>> = HashMap::new();
        for job in group {
            by_partner.entry(job.partner.clone()).or_default().push(job);
        }
        for (partner, jobs) in by_partner {
            store_group(&shared, &partner, jobs).await;
        }
    }
}

/// Stores one partner's jobs in one transaction and answers each.
async fn store_group(shared: &Shared, partner: &str, jobs: Vec<Job>) {
    let batches: Vec<&[AuditRecord]> = jobs.iter().map(|j| j.records.as_slice()).collect();
    let result = async {
        let mut client = shared.pool.get().await.map_err(pool_error)?;
        let key = shared.partners.ensure(&client, partner).await?;
        let months: Vec<Month> = batches
            .iter()
            .flat_map(|b| b.iter())
            .map(|r| Month::of(r.operation_date))
            .collect();
        shared.partitions.ensure(&mut client, months).await?;
        store_jobs(&mut client, key, partner, &batches).await
    }
    .await;
    match result {
        Ok(outcomes) => {
            for (job, outcome) in jobs.into_iter().zip(outcomes) {
                let _ = job.reply.send(outcome);
            }
        }
        Err(e) => {
            for job in jobs {
                let _ = job.reply.send(Err(AppendError::Store(copy_error(&e))));
            }
        }
    }
}

fn copy_error(e: &StoreError) -> StoreError {
    match e {
        StoreError::Busy => StoreError::Busy,
        StoreError::Database(m) => StoreError::Database(m.clone()),
    }
}

/// In one transaction under the partner's log lock: every batch checked against what is
/// stored and what the group's earlier batches add, then the accepted records numbered and
/// written; one outcome per batch, in order.
async fn store_jobs(
    client: &mut Client,
    key: i64,
    partner: &str,
    batches: &[&[AuditRecord]],
) -> Result<Vec<Result<AppendReport, AppendError>>, StoreError> {
    let tx = client.transaction().await.map_err(db)?;
    // Custom plans: the id look-up's generic plan scans the partner's ids until statistics exist.
    tx.batch_execute(
        "SET LOCAL synchronous_commit = on; SET LOCAL plan_cache_mode = force_custom_plan",
    )
    .await
    .map_err(db)?;
    let size = lock_log(&tx, key).await?;
    let stored = stored_with_ids(&tx, key, partner, batches).await?;
    let mut taken: HashMap<&str, &AuditRecord> = HashMap::new();
    let mut accepted: Vec<&AuditRecord> = Vec::new();
    let outcomes: Vec<Result<AppendReport, AppendError>> = batches
        .iter()
        .map(|batch| sort(batch, &stored, &mut taken, &mut accepted))
        .collect();
    if !accepted.is_empty() {
        insert::records(&tx, key, size, &accepted).await?;
        let size = size + accepted.len() as i64;
        let update = "UPDATE partner_logs SET size = $2 WHERE partner = $1";
        tx.execute(update, &[&key, &size]).await.map_err(db)?;
    }
    tx.commit().await.map_err(db)?;
    Ok(outcomes)
}

/// Locks partner key `key`'s log row until the transaction ends; the log's size. A partner
/// whose log row is missing (created by an older path) gets one.
async fn lock_log(tx: &Transaction<'_>, key: i64) -> Result<i64, StoreError> {
    let lock = "SELECT size FROM partner_logs WHERE partner = $1 FOR UPDATE";
    if let Some(row) = tx.query_opt(lock, &[&key]).await.map_err(db)? {
        return Ok(row.get(0));
    }
    tx.execute(
        "INSERT INTO partner_logs (partner) VALUES ($1) ON CONFLICT (partner) DO NOTHING",
        &[&key],
    )
    .await
    .map_err(db)?;
    Ok(tx.query_one(lock, &[&key]).await.map_err(db)?.get(0))
}

/// The stored records of the partner whose ids any of `batches` uses, by id.
async fn stored_with_ids(
    tx: &Transaction<'_>,
    key: i64,
    partner: &str,
    batches: &[&[AuditRecord]],
) -> Result<HashMap<String, AuditRecord>, StoreError> {
    let mut ids: Vec<&str> = batches
        .iter()
        .flat_map(|b| b.iter().map(|r| r.id.as_str()))
        .collect();
    ids.sort_unstable();
    ids.dedup();
    let sql = format!(
        "SELECT {} FROM record_ids i JOIN records r
           ON r.partner = i.partner AND r.operation_date = i.operation_date AND r.seq = i.seq
         WHERE i.partner = $1 AND i.id = ANY($2)",
        rows::COLUMNS
    );
    let stmt = tx.prepare_cached(&sql).await.map_err(db)?;
    let mut stored = HashMap::new();
    for row in tx.query(&stmt, &[&key, &ids]).await.map_err(db)? {
        let (_, record) = rows::read(&row, partner)?;
        stored.insert(record.id.clone(), record);
    }
    Ok(stored)
}

/// Sorts one batch into new records (added to `accepted` and `taken`) and retries; a conflict
/// when one of its ids is stored, or taken earlier in the group or the batch, with other
/// content — then nothing of the batch is accepted.
fn sort<'a>(
    batch: &'a [AuditRecord],
    stored: &HashMap<String, AuditRecord>,
    taken: &mut HashMap<&'a str, &'a AuditRecord>,
    accepted: &mut Vec<&'a AuditRecord>,
) -> Result<AppendReport, AppendError> {
    let mut report = AppendReport::default();
    let mut fresh: Vec<&AuditRecord> = Vec::new();
    let mut mine: HashMap<&str, &AuditRecord> = HashMap::new();
    let mut conflicts: Vec<String> = Vec::new();
    for record in batch {
        let id = record.id.as_str();
        let earlier = stored
            .get(id)
            .or_else(|| taken.get(id).copied())
            .or_else(|| mine.get(id).copied());
        match earlier {
            Some(earlier) if earlier.same_content(record) => report.unchanged += 1,
            Some(_) => {
                if !conflicts.iter().any(|c| c == id) {
                    conflicts.push(id.to_owned());
                }
            }
            None => {
                mine.insert(id, record);
                fresh.push(record);
                report.stored += 1;
            }
        }
    }
    if !conflicts.is_empty() {
        return Err(AppendError::Conflict(conflicts));
    }
    taken.extend(mine);
    accepted.extend(fresh);
    Ok(report)
}
