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
//! order. The usual group — every id new, the head the writer expects — is sent whole in one
//! round trip ([`all_new_at`]), the next large group already behind it; otherwise the head is
//! read under the lock ([`all_new`]), and a group with ids stored already is checked batch by
//! batch ([`checked`]): a job with a conflicting id is refused alone, before anything is
//! written, and the others go on. The records go in from arrays or by binary COPY (`insert`),
//! and what they change in the Subscriptions page is merged into its projection
//! (`subscriptions`). `synchronous_commit` is on for these
//! transactions whatever the server's default: an acknowledged batch is on disk.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use actlog_domain::AuditRecord;
use actlog_domain::subscriptions::state::Changes;
use actlog_store::{AppendError, AppendReport, StoreError};
use actlog_tlog::merkle::Frontier;
use deadpool_postgres::{Client, Pool};
use tokio::sync::{mpsc, oneshot};
use tokio_postgres::error::SqlState;
use tokio_postgres::types::ToSql;

use crate::error::{db, pool as pool_error};
use crate::insert::{self, Prepared};
use crate::log::{self as tree, LOCK, LogWrites, head_of};
use crate::partitions::{Month, Partitions};
use crate::partners::Partners;
use crate::{rows, subscriptions};

/// Most jobs one transaction takes.
const MAX_GROUP_JOBS: usize = 1_024;
/// Most records one writer takes at once, so big batches do not hold up small ones for long.
const MAX_GROUP_RECORDS: usize = 16_384;

/// One batch to store, and where to answer.
struct Job {
    partner: String,
    records: Vec<Prepared>,
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
    /// Starts `writers` tasks, each with a queue of its share of `queue` places, on a thread
    /// of their own: on the request handlers' runtime, each of a transaction's round trips
    /// would wait behind every ready request (tens of them under load) while the partner's
    /// lock is held. `pool`'s connections must be used only here, so that their I/O runs on
    /// this thread too.
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
        let (queues, receivers): (Vec<_>, Vec<_>) = (0..writers)
            .map(|_| mpsc::channel((queue / writers).max(1)))
            .unzip();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a Tokio runtime for the PostgreSQL writers");
        std::thread::Builder::new()
            .name("actlog-pg-writer".into())
            .spawn(move || {
                runtime.block_on(async move {
                    let tasks: Vec<_> = receivers
                        .into_iter()
                        .map(|queued| tokio::spawn(serve(Arc::clone(&shared), queued)))
                        .collect();
                    for task in tasks {
                        let _ = task.await;
                    }
                });
            })
            .expect("a thread for the PostgreSQL writers");
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
        // Folded forms and stored JSON are made here, on the caller's task, in parallel with
        // other requests, rather than on the writer while it holds the partner's lock.
        let job = Job {
            partner: partner.to_owned(),
            records: records
                .into_iter()
                .map(|r| Prepared::new(partner, r))
                .collect(),
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

/// Fewest records a group has for the next one to be sent before it commits (see [`serve`]).
const OVERLAP_RECORDS: usize = 256;

/// A writer task: takes groups of jobs until its queue closes, with up to two groups in
/// flight when they are large (at least [`OVERLAP_RECORDS`]). The next group is sent while
/// the previous one commits, on another connection, with the head the previous one will
/// leave if all its records are new: PostgreSQL hands the partner's lock from one to the next
/// as the first commits, and the second's statements, already there, run at once — the
/// writer's round trips and the commit's flush overlap the next group's work. A head guessed wrong (a retried batch in the first group, another
/// server's append) is refused by [`GUARD`], and that group takes the locked path.
async fn serve(shared: Arc<Shared>, mut queue: mpsc::Receiver<Job>) {
    let mut last_group = 1;
    let mut heads = Heads::new();
    let mut in_flight: Option<(String, tokio::task::JoinHandle<Settled>)> = None;
    let mut last_records = 0;
    loop {
        // Small groups (many clients of a few records each) are better off sharing the next
        // commit than overlapping this one: wait for it while more jobs queue.
        if last_records < OVERLAP_RECORDS
            && let Some((_, store)) = in_flight.take()
        {
            settle(&mut heads, store.await, None);
        }
        let Some(first) = queue.recv().await else {
            break;
        };
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
        last_records = records;
        let mut by_partner: HashMap<String, Vec<Job>> = HashMap::new();
        for job in group {
            by_partner.entry(job.partner.clone()).or_default().push(job);
        }
        for (partner, jobs) in by_partner {
            let known = heads.remove(&partner);
            if let Some(head) = &known {
                heads.insert(partner.clone(), after_all(head, &jobs));
            }
            let store = tokio::spawn(store_group(
                Arc::clone(&shared),
                partner.clone(),
                jobs,
                known,
            ));
            if let Some((_, previous)) = in_flight.replace((partner, store)) {
                let pending = in_flight.as_ref().map(|(p, _)| p.as_str());
                settle(&mut heads, previous.await, pending);
            }
        }
    }
    if let Some((_, last)) = in_flight {
        settle(&mut heads, last.await, None);
    }
}

/// The log heads this writer expects, by partner: the one its last commit left, or the one a
/// group in flight will leave if all its records are new. A guess only — [`GUARD`] tells
/// whether it is the stored head — so a wrong one costs a round trip, never a wrong log.
type Heads = HashMap<String, Frontier>;

/// A partner, and the head its group left (`None`: its outcome is not known).
type Settled = (String, Option<Frontier>);

/// `head` after every record of `jobs`.
fn after_all(head: &Frontier, jobs: &[Job]) -> Frontier {
    let mut head = head.clone();
    for p in jobs.iter().flat_map(|j| j.records.iter()) {
        head.push(p.leaf);
    }
    head
}

/// Takes what a finished group tells about its partner's head, `pending` naming the partner
/// of the group still in flight. A group that failed leaves no guess (one built on it is
/// wrong). One that was stored leaves its head, unless a later group of the same partner is
/// in flight: that one's guess (or the lack of one) stands until it settles in turn.
fn settle(
    heads: &mut Heads,
    finished: Result<Settled, tokio::task::JoinError>,
    pending: Option<&str>,
) {
    match finished {
        Ok((partner, Some(head))) => {
            if pending != Some(partner.as_str()) {
                heads.insert(partner, head);
            }
        }
        Ok((partner, None)) => {
            heads.remove(&partner);
        }
        // A store that panicked answered nobody; its partner's head is not known.
        Err(_) => heads.clear(),
    }
}

/// Stores one partner's jobs in one transaction and answers each; the head it left.
async fn store_group(
    shared: Arc<Shared>,
    partner: String,
    jobs: Vec<Job>,
    known: Option<Frontier>,
) -> Settled {
    let batches: Vec<&[Prepared]> = jobs.iter().map(|j| j.records.as_slice()).collect();
    let result = async {
        let mut client = shared.pool.get().await.map_err(pool_error)?;
        let key = shared.partners.ensure(&client, &partner).await?;
        let months: Vec<Month> = batches
            .iter()
            .flat_map(|b| b.iter())
            .map(|p| Month::of(p.record.operation_date))
            .collect();
        shared.partitions.ensure(&mut client, months).await?;
        store_jobs(&mut client, key, &partner, &batches, known).await
    }
    .await;
    let head = match result {
        Ok((outcomes, head)) => {
            for (job, outcome) in jobs.into_iter().zip(outcomes) {
                let _ = job.reply.send(outcome);
            }
            Some(head)
        }
        Err(e) => {
            for job in jobs {
                let _ = job.reply.send(Err(AppendError::Store(copy_error(&e))));
            }
            None
        }
    };
    (partner, head)
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
///
/// Round trips and work are what the partner's lock is held for, so the statements are
/// pipelined (sent together, answered together; if one fails, PostgreSQL answers a `COMMIT`
/// after it with a rollback, and the failure is the outcome), and the usual case — every id
/// new — is tried first in fewer steps ([`all_new`]); when some id is stored already or
/// repeated, that transaction is rolled back and the group [`checked`] one record at a time.
async fn store_jobs(
    client: &mut Client,
    key: i64,
    partner: &str,
    batches: &[&[Prepared]],
    known: Option<Frontier>,
) -> Result<Stored, StoreError> {
    let result = in_transaction(client, key, partner, batches, known).await;
    if result.is_err() {
        // Whatever failed, the connection goes back to the pool outside any transaction.
        let _ = client.batch_execute("ROLLBACK").await;
    }
    result
}

/// Each batch's outcome, and the log's head after them.
type Stored = (Vec<Result<AppendReport, AppendError>>, Frontier);

async fn in_transaction(
    client: &Client,
    key: i64,
    partner: &str,
    batches: &[&[Prepared]],
    known: Option<Frontier>,
) -> Result<Stored, StoreError> {
    if let Some(head) = known
        && let Some(stored) = all_new_at(client, key, batches, head).await?
    {
        return Ok(stored);
    }
    // When the guess was wrong, the pipeline's COMMIT ended the failed transaction.
    if let Some(stored) = all_new(client, key, batches).await? {
        return Ok(stored);
    }
    client.batch_execute("ROLLBACK").await.map_err(db)?;
    checked(client, key, partner, batches).await
}

/// Locks a partner's (`$1`) log row if its head is still `$2` (size) and `$3` (frontier);
/// otherwise (another server appended, a group before failed, the row is gone) a division by
/// zero, which aborts the transaction. Waiting for the lock, PostgreSQL compares the head the
/// holder committed.
const GUARD: &str = "SELECT 1 / count(*)::int FROM (SELECT 1 FROM partner_logs \
    WHERE partner = $1 AND size = $2 AND frontier = $3 FOR UPDATE) AS locked";

/// [`all_new`] when the log's head is known (`head`, this writer's guess: see [`Heads`]):
/// everything is sent at once — `BEGIN`, the guarded lock, the ids, the records'
/// `COPY`, the log, the projection and `COMMIT` — so a group costs one round trip and the
/// copy's, however many statements. `None` when the head was not the stored one or some id
/// was not new: the transaction is then over (its `COMMIT` answered with a rollback).
async fn all_new_at(
    client: &Client,
    key: i64,
    batches: &[&[Prepared]],
    head: Frontier,
) -> Result<Option<Stored>, StoreError> {
    let all: Vec<&Prepared> = batches.iter().flat_map(|b| b.iter()).collect();
    let size = head.size() as i64;
    let (ids, dates, seqs) = insert::id_columns(size, &all);
    let guard = client.prepare_cached(GUARD).await.map_err(db)?;
    let claim = client.prepare_cached(insert::IDS).await.map_err(db)?;
    let insert = client
        .prepare_cached(&insert::insert_rows_sql())
        .await
        .map_err(db)?;
    let expected = head.to_bytes();
    let log = LogWrites::new(head, all.iter().map(|p| p.leaf));
    let statements = tree::statements(client).await?;
    let projection = projection_of(&all);
    let projecting = subscriptions::statements(client).await?;
    let guard_params: [&(dyn ToSql + Sync); 3] = [&key, &size, &expected];
    let claim_params: [&(dyn ToSql + Sync); 4] = [&key, &ids, &dates, &seqs];
    let (begun, guarded, claimed, copied, logged, projected, commit) = futures::join!(
        client.batch_execute("BEGIN; SET LOCAL synchronous_commit = on"),
        client.execute(&guard, &guard_params),
        client.execute(&claim, &claim_params),
        insert::rows(client, &insert, key, size, &all),
        log.write(client, &statements, key),
        subscriptions::write(client, &projecting, key, &projection),
        client.batch_execute("COMMIT"),
    );
    begun.map_err(db)?;
    match (guarded, claimed) {
        (Ok(_), Ok(_)) => {}
        // Another server appended since (or an id is stored already, or repeated).
        (Err(e), _) if e.code() == Some(&SqlState::DIVISION_BY_ZERO) => return Ok(None),
        (Ok(_), Err(e)) if e.code() == Some(&SqlState::UNIQUE_VIOLATION) => return Ok(None),
        (Err(e), _) | (_, Err(e)) => return Err(db(e)),
    }
    copied?;
    logged?;
    projected?;
    commit.map_err(db)?;
    Ok(Some((accepted_all(batches), log.frontier())))
}

/// Every batch stored whole.
fn accepted_all(batches: &[&[Prepared]]) -> Vec<Result<AppendReport, AppendError>> {
    batches
        .iter()
        .map(|b| {
            Ok(AppendReport {
                stored: b.len(),
                unchanged: 0,
            })
        })
        .collect()
}

/// Stores the group if every id in it is new and appears once, when the log's head is not
/// known, in two round trips and a `COPY`: `BEGIN`, the lock (reading the head) and claiming
/// the ids together; then the records' `COPY`; then the log, the projection and `COMMIT`
/// together. `None` — the transaction to be rolled back — when some id was not new or the
/// partner's log row is missing.
async fn all_new(
    client: &Client,
    key: i64,
    batches: &[&[Prepared]],
) -> Result<Option<Stored>, StoreError> {
    let all: Vec<&Prepared> = batches.iter().flat_map(|b| b.iter()).collect();
    let ids: Vec<&str> = all.iter().map(|p| p.record.id.as_str()).collect();
    let dates: Vec<i64> = all
        .iter()
        .map(|p| p.record.operation_date.ticks())
        .collect();
    let lock = client.prepare_cached(LOCK).await.map_err(db)?;
    let claim = client.prepare_cached(CLAIM_IDS).await.map_err(db)?;
    let lock_params: [&(dyn ToSql + Sync); 1] = [&key];
    let claim_params: [&(dyn ToSql + Sync); 3] = [&key, &ids, &dates];
    let (begun, locked, claimed) = futures::join!(
        client.batch_execute("BEGIN; SET LOCAL synchronous_commit = on"),
        client.query_opt(&lock, &lock_params),
        client.execute(&claim, &claim_params),
    );
    begun.map_err(db)?;
    let locked = locked.map_err(db)?;
    match claimed {
        Ok(_) => {}
        // An id stored already or repeated in the group: the transaction is aborted.
        Err(e) if e.code() == Some(&SqlState::UNIQUE_VIOLATION) => return Ok(None),
        Err(e) => return Err(db(e)),
    }
    let Some(row) = locked else {
        return Ok(None);
    };
    let frontier = head_of(&row)?;
    let size = frontier.size() as i64;
    insert::records(client, key, size, &all).await?;
    let log = LogWrites::new(frontier, all.iter().map(|p| p.leaf));
    let statements = tree::statements(client).await?;
    let projection = projection_of(&all);
    let projecting = subscriptions::statements(client).await?;
    // When a statement fails, PostgreSQL answers the COMMIT after it with a rollback: the
    // failure is the outcome.
    let (logged, projected, commit) = futures::join!(
        log.write(client, &statements, key),
        subscriptions::write(client, &projecting, key, &projection),
        client.batch_execute("COMMIT")
    );
    logged?;
    projected?;
    commit.map_err(db)?;
    Ok(Some((accepted_all(batches), log.frontier())))
}

/// What `accepted` (in the order they are numbered) change in the Subscriptions page's
/// projection, merged into one state per customer and subscription.
fn projection_of(accepted: &[&Prepared]) -> Changes {
    let mut changes = Changes::new();
    for p in accepted {
        changes.absorb(p.changes.clone());
    }
    changes
}

/// Claims a partner's (`$1`) ids (`$2`, with their records' dates `$3`), numbering them
/// after the log's size in order. A plain insert, which costs the unique index one look-up per
/// id (`ON CONFLICT DO NOTHING` costs a speculative insertion, about twice that): an id stored
/// already or repeated is a unique violation, which aborts the transaction, and the group is
/// then [`checked`]. No row at all (the partner's log row missing) is `checked` too.
const CLAIM_IDS: &str = "INSERT INTO record_ids (partner, id, operation_date, seq) \
    SELECT l.partner, u.id, u.operation_date, l.size + u.n \
    FROM partner_logs l, unnest($2::text[], $3::bigint[]) WITH ORDINALITY AS u (id, operation_date, n) \
    WHERE l.partner = $1";

/// The group checked record by record against what is stored (a retried batch, a
/// conflicting id): `BEGIN`, the lock and the id look-up together, then the accepted records'
/// `COPY`, then their ids, the log's size and `COMMIT` together.
async fn checked(
    client: &Client,
    key: i64,
    partner: &str,
    batches: &[&[Prepared]],
) -> Result<Stored, StoreError> {
    let mut ids: Vec<&str> = batches
        .iter()
        .flat_map(|b| b.iter().map(|p| p.record.id.as_str()))
        .collect();
    ids.sort_unstable();
    ids.dedup();
    let lock = client.prepare_cached(LOCK).await.map_err(db)?;
    let check = client.prepare_cached(STORED_IDS).await.map_err(db)?;
    let (lock_params, check_params): ([&(dyn ToSql + Sync); 1], [&(dyn ToSql + Sync); 2]) =
        ([&key], [&key, &ids]);
    let (_, locked, found) = futures::try_join!(
        client.batch_execute("BEGIN; SET LOCAL synchronous_commit = on"),
        client.query_opt(&lock, &lock_params),
        client.query(&check, &check_params),
    )
    .map_err(db)?;
    let (frontier, found) = match locked {
        Some(row) => (head_of(&row)?, found),
        // A partner whose log row is missing (made by an older path) gets one; the ids are
        // checked again now that the lock is held.
        None => {
            client
                .execute(
                    "INSERT INTO partner_logs (partner) VALUES ($1) ON CONFLICT (partner) DO NOTHING",
                    &[&key],
                )
                .await
                .map_err(db)?;
            let frontier = head_of(&client.query_one(&lock, &[&key]).await.map_err(db)?)?;
            (
                frontier,
                client.query(&check, &[&key, &ids]).await.map_err(db)?,
            )
        }
    };
    let size = frontier.size() as i64;
    let stored = stored_records(client, key, partner, &found).await?;
    let mut taken: HashMap<&str, &AuditRecord> = HashMap::new();
    let mut accepted: Vec<&Prepared> = Vec::new();
    let outcomes: Vec<Result<AppendReport, AppendError>> = batches
        .iter()
        .map(|batch| sort(batch, &stored, &mut taken, &mut accepted))
        .collect();
    if accepted.is_empty() {
        client.batch_execute("COMMIT").await.map_err(db)?;
        return Ok((outcomes, frontier));
    }
    insert::records(client, key, size, &accepted).await?;
    let ids = client.prepare_cached(insert::IDS).await.map_err(db)?;
    let (id_values, dates, seqs) = insert::id_columns(size, &accepted);
    let ids_params: [&(dyn ToSql + Sync); 4] = [&key, &id_values, &dates, &seqs];
    let log = LogWrites::new(frontier, accepted.iter().map(|p| p.leaf));
    let statements = tree::statements(client).await?;
    let projection = projection_of(&accepted);
    let projecting = subscriptions::statements(client).await?;
    let (stored, logged, projected, commit) = futures::join!(
        client.execute(&ids, &ids_params),
        log.write(client, &statements, key),
        subscriptions::write(client, &projecting, key, &projection),
        client.batch_execute("COMMIT"),
    );
    stored.map_err(db)?;
    logged?;
    projected?;
    commit.map_err(db)?;
    Ok((outcomes, log.frontier()))
}

/// Which of a partner's ids are stored, and where. One table, no join: planned in
/// microseconds (a join with the partitioned records costs milliseconds of planning on every
/// call, and the partner's lock is held meanwhile).
const STORED_IDS: &str =
    "SELECT operation_date, seq FROM record_ids WHERE partner = $1 AND id = ANY($2)";

/// The stored records at `found` (rows of [`STORED_IDS`]), by id: only for retried or
/// conflicting batches.
async fn stored_records(
    client: &Client,
    key: i64,
    partner: &str,
    found: &[tokio_postgres::Row],
) -> Result<HashMap<String, AuditRecord>, StoreError> {
    if found.is_empty() {
        return Ok(HashMap::new());
    }
    let dates: Vec<i64> = found.iter().map(|r| r.get(0)).collect();
    let seqs: Vec<i64> = found.iter().map(|r| r.get(1)).collect();
    let sql = format!(
        "SELECT {} FROM records r
           JOIN unnest($2::bigint[], $3::bigint[]) AS f (operation_date, seq)
             ON r.operation_date = f.operation_date AND r.seq = f.seq
         WHERE r.partner = $1",
        rows::COLUMNS
    );
    let mut stored = HashMap::new();
    for row in client
        .query(&sql, &[&key, &dates, &seqs])
        .await
        .map_err(db)?
    {
        let (_, record) = rows::read(&row, partner)?;
        stored.insert(record.id.clone(), record);
    }
    Ok(stored)
}

/// Sorts one batch into new records (added to `accepted` and `taken`) and retries; a conflict
/// when one of its ids is stored, or taken earlier in the group or the batch, with other
/// content — then nothing of the batch is accepted.
fn sort<'a>(
    batch: &'a [Prepared],
    stored: &HashMap<String, AuditRecord>,
    taken: &mut HashMap<&'a str, &'a AuditRecord>,
    accepted: &mut Vec<&'a Prepared>,
) -> Result<AppendReport, AppendError> {
    let mut report = AppendReport::default();
    let mut fresh: Vec<&Prepared> = Vec::new();
    let mut mine: HashMap<&str, &AuditRecord> = HashMap::new();
    let mut conflicts: Vec<String> = Vec::new();
    for prepared in batch {
        let record = &prepared.record;
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
                fresh.push(prepared);
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
