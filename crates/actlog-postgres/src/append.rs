//! Storing batches: all of a batch or nothing, idempotent by `(partner, id)`, numbered in
//! commit order per partner, durable on return.
//!
//! Appends are queued to a few writer tasks. A writer takes the first job and whatever else is
//! queued, groups the jobs by partner, and stores each partner's jobs in one transaction: many
//! clients sending one record each share a commit (and its WAL flush) instead of queueing for
//! the partner's lock one by one. In that transaction the partner's log row is locked first
//! (`SELECT … FOR UPDATE`), so every transaction appending to one partner — on this server or
//! any other — runs after the previous one committed: ids already stored are seen, and
//! sequence numbers follow commit order. A job's records are checked before anything is
//! written, so a job refused for a conflict leaves nothing behind, and the others of its group
//! go on. `synchronous_commit` is on for these transactions whatever the server's default:
//! an acknowledged batch is on disk.

use std::collections::HashMap;
use std::sync::Arc;

use actlog_domain::AuditRecord;
use actlog_domain::folded::Folded;
use actlog_store::{AppendError, AppendReport, StoreError};
use deadpool_postgres::{Client, Pool};
use tokio::sync::{Mutex, mpsc, oneshot};

use crate::error::{db, pool as pool_error};
use crate::partitions::{Month, Partitions};
use crate::partners::Partners;
use crate::rows;

/// Most jobs one transaction takes.
const MAX_GROUP_JOBS: usize = 256;
/// Most records one writer takes at once, so big batches do not hold up small ones for long.
const MAX_GROUP_RECORDS: usize = 16_384;

/// One batch to store, and where to answer.
struct Job {
    partner: String,
    records: Vec<AuditRecord>,
    reply: oneshot::Sender<Result<AppendReport, AppendError>>,
}

/// The queue into the writer tasks.
#[derive(Debug)]
pub(crate) struct Writer {
    jobs: mpsc::Sender<Job>,
}

impl std::fmt::Debug for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Job")
            .field("partner", &self.partner)
            .field("records", &self.records.len())
            .finish()
    }
}

/// What the writers share.
struct Shared {
    pool: Pool,
    partners: Arc<Partners>,
    partitions: Arc<Partitions>,
    queue: Mutex<mpsc::Receiver<Job>>,
}

impl Writer {
    /// Starts `writers` tasks taking jobs from a queue of `queue` places.
    pub(crate) fn start(
        pool: Pool,
        partners: Arc<Partners>,
        partitions: Arc<Partitions>,
        writers: usize,
        queue: usize,
    ) -> Writer {
        let (jobs, queued) = mpsc::channel(queue.max(1));
        let shared = Arc::new(Shared {
            pool,
            partners,
            partitions,
            queue: Mutex::new(queued),
        });
        for _ in 0..writers.max(1) {
            tokio::spawn(serve(Arc::clone(&shared)));
        }
        Writer { jobs }
    }

    /// Stores `records` for `partner`; a full queue is [`StoreError::Busy`] at once.
    pub(crate) async fn append(
        &self,
        partner: &str,
        records: Vec<AuditRecord>,
    ) -> Result<AppendReport, AppendError> {
        let (reply, answer) = oneshot::channel();
        let job = Job {
            partner: partner.to_owned(),
            records,
            reply,
        };
        self.jobs.try_send(job).map_err(|e| match e {
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

/// A writer task: takes groups of jobs until the queue closes.
async fn serve(shared: Arc<Shared>) {
    while let Some(group) = take_group(&shared).await {
        let mut by_partner: HashMap<String, Vec<Job>> = HashMap::new();
        for job in group {
            by_partner.entry(job.partner.clone()).or_default().push(job);
        }
        for (partner, jobs) in by_partner {
            store_group(&shared, &partner, jobs).await;
        }
    }
}

/// The first queued job (waiting for one) and whatever else is queued, within the limits.
async fn take_group(shared: &Shared) -> Option<Vec<Job>> {
    let mut queue = shared.queue.lock().await;
    let first = queue.recv().await?;
    let mut records = first.records.len();
    let mut group = vec![first];
    while group.len() < MAX_GROUP_JOBS && records < MAX_GROUP_RECORDS {
        match queue.try_recv() {
            Ok(job) => {
                records += job.records.len();
                group.push(job);
            }
            Err(_) => break,
        }
    }
    Some(group)
}

/// Stores one partner's jobs in one transaction and answers each.
async fn store_group(shared: &Shared, partner: &str, jobs: Vec<Job>) {
    let mut outcomes: Vec<Result<AppendReport, AppendError>> = Vec::with_capacity(jobs.len());
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
        store_jobs(&mut client, key, partner, &batches, &mut outcomes).await
    }
    .await;
    for (i, job) in jobs.into_iter().enumerate() {
        let answer = match &result {
            Ok(()) => outcomes
                .get_mut(i)
                .map(|o| std::mem::replace(o, Ok(AppendReport::default())))
                .unwrap_or_else(
                    || Err(StoreError::Database("a job went unanswered".into()).into()),
                ),
            Err(e) => Err(AppendError::Store(copy_error(e))),
        };
        let _ = job.reply.send(answer);
    }
}

fn copy_error(e: &StoreError) -> StoreError {
    match e {
        StoreError::Busy => StoreError::Busy,
        StoreError::Database(m) => StoreError::Database(m.clone()),
    }
}

/// In one transaction under the partner's log lock: each batch checked, then its new records
/// numbered and inserted; one outcome per batch in `outcomes`.
async fn store_jobs(
    client: &mut Client,
    key: i64,
    partner: &str,
    batches: &[&[AuditRecord]],
    outcomes: &mut Vec<Result<AppendReport, AppendError>>,
) -> Result<(), StoreError> {
    let tx = client.transaction().await.map_err(db)?;
    tx.batch_execute("SET LOCAL synchronous_commit = on")
        .await
        .map_err(db)?;
    let mut size = lock_log(&tx, key).await?;
    let before = size;
    for batch in batches {
        let (report, fresh) = match check(&tx, key, partner, batch).await? {
            Ok(checked) => checked,
            Err(conflict) => {
                outcomes.push(Err(conflict));
                continue;
            }
        };
        insert(&tx, key, size, &fresh).await?;
        size += fresh.len() as i64;
        outcomes.push(Ok(report));
    }
    if size != before {
        tx.execute(
            "UPDATE partner_logs SET size = $2 WHERE partner = $1",
            &[&key, &size],
        )
        .await
        .map_err(db)?;
    }
    tx.commit().await.map_err(db)
}

/// Locks partner key `key`'s log row until the transaction ends; the log's size. A partner
/// whose log row is missing (created by an older path) gets one.
async fn lock_log(tx: &deadpool_postgres::Transaction<'_>, key: i64) -> Result<i64, StoreError> {
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

/// Sorts a batch into records to store and retries; a conflict when an id is already stored
/// (or repeated in the batch) with other content.
async fn check<'a>(
    tx: &deadpool_postgres::Transaction<'_>,
    key: i64,
    partner: &str,
    batch: &'a [AuditRecord],
) -> Result<Result<(AppendReport, Vec<&'a AuditRecord>), AppendError>, StoreError> {
    let ids: Vec<&str> = batch.iter().map(|r| r.id.as_str()).collect();
    let sql = format!(
        "SELECT {} FROM record_ids i JOIN records r
           ON r.partner = i.partner AND r.operation_date = i.operation_date AND r.seq = i.seq
         WHERE i.partner = $1 AND i.id = ANY($2)",
        rows::COLUMNS
    );
    let stmt = tx.prepare_cached(&sql).await.map_err(db)?;
    let mut stored: HashMap<String, AuditRecord> = HashMap::new();
    for row in tx.query(&stmt, &[&key, &ids]).await.map_err(db)? {
        let (_, record) = rows::read(&row, partner)?;
        stored.insert(record.id.clone(), record);
    }
    let mut report = AppendReport::default();
    let mut fresh: Vec<&AuditRecord> = Vec::new();
    let mut taken: HashMap<&str, &AuditRecord> = HashMap::new();
    let mut conflicts: Vec<String> = Vec::new();
    for record in batch {
        let earlier = stored
            .get(&record.id)
            .or_else(|| taken.get(record.id.as_str()).copied());
        match earlier {
            Some(earlier) if earlier.same_content(record) => report.unchanged += 1,
            Some(_) => {
                if !conflicts.contains(&record.id) {
                    conflicts.push(record.id.clone());
                }
            }
            None => {
                taken.insert(&record.id, record);
                fresh.push(record);
                report.stored += 1;
            }
        }
    }
    if conflicts.is_empty() {
        Ok(Ok((report, fresh)))
    } else {
        Ok(Err(AppendError::Conflict(conflicts)))
    }
}

/// Inserts `records`, numbered from `after + 1`, and their ids, each table in one statement.
async fn insert(
    tx: &deadpool_postgres::Transaction<'_>,
    key: i64,
    after: i64,
    records: &[&AuditRecord],
) -> Result<(), StoreError> {
    if records.is_empty() {
        return Ok(());
    }
    let n = records.len();
    let seqs: Vec<i64> = (1..=n as i64).map(|i| after + i).collect();
    let partners = vec![key; n];
    let dates: Vec<i64> = records.iter().map(|r| r.operation_date.ticks()).collect();
    let ids: Vec<&str> = records.iter().map(|r| r.id.as_str()).collect();
    let text = |f: fn(&AuditRecord) -> Option<&str>| -> Vec<Option<&str>> {
        records.iter().map(|r| f(r)).collect()
    };
    let folded: Vec<Folded> = records.iter().map(|r| Folded::of(r)).collect();
    let customized: Vec<Option<String>> =
        records.iter().map(|r| r.customized_data_json()).collect();
    let operation_types: Vec<&str> = records.iter().map(|r| r.operation_type.as_str()).collect();
    let fold =
        |f: fn(&Folded) -> Option<&str>| -> Vec<Option<&str>> { folded.iter().map(f).collect() };
    let search: Vec<&str> = folded.iter().map(|f| f.text.as_str()).collect();
    let extensions: Vec<Option<String>> =
        records.iter().map(|r| r.extensions.to_stored()).collect();
    let stmt = tx
        .prepare_cached(
            "INSERT INTO records (partner, seq, operation_date, id, customer_id, customer_name,
                 user_principal_name, application_id, resource_type, operation_type,
                 operation_status, resource_old_value, resource_new_value, customized_data,
                 session_id, original_correlation_id, customer_name_fold,
                 user_principal_name_fold, application_id_fold, search_text, extensions)
             SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::text[],
                 $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[],
                 $11::text[], $12::text[], $13::text[], $14::text[], $15::text[], $16::text[],
                 $17::text[], $18::text[], $19::text[], $20::text[], $21::text[])",
        )
        .await
        .map_err(db)?;
    tx.execute(
        &stmt,
        &[
            &partners,
            &seqs,
            &dates,
            &ids,
            &text(|r| r.customer_id.as_deref()),
            &text(|r| r.customer_name.as_deref()),
            &text(|r| r.user_principal_name.as_deref()),
            &text(|r| r.application_id.as_deref()),
            &text(|r| r.resource_type.as_deref()),
            &operation_types,
            &text(|r| r.operation_status.as_deref()),
            &text(|r| r.resource_old_value.as_deref()),
            &text(|r| r.resource_new_value.as_deref()),
            &customized,
            &text(|r| r.session_id.as_deref()),
            &text(|r| r.original_correlation_id.as_deref()),
            &fold(|f| f.customer_name.as_deref()),
            &fold(|f| f.user_principal_name.as_deref()),
            &fold(|f| f.application_id.as_deref()),
            &search,
            &extensions,
        ],
    )
    .await
    .map_err(db)?;
    let stmt = tx
        .prepare_cached(
            "INSERT INTO record_ids (partner, id, operation_date, seq)
             SELECT * FROM unnest($1::bigint[], $2::text[], $3::bigint[], $4::bigint[])",
        )
        .await
        .map_err(db)?;
    tx.execute(&stmt, &[&partners, &ids, &dates, &seqs])
        .await
        .map_err(db)?;
    Ok(())
}
