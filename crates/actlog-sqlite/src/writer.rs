//! The writer thread: one OS thread owns the only writing connection and commits in groups.
//!
//! SQLite allows one writer at a time, and a durable commit costs an fsync (≈3,800 per second
//! on a typical disk). So writes are queued as jobs on a bounded channel; the thread takes the
//! first job, drains whatever else is already queued, and runs them all in one transaction,
//! each inside its own `SAVEPOINT` so that a job that fails (an id conflict) is undone alone.
//! A group of one job needs no savepoint: its transaction is its unit, and SQLite then copies
//! no page into a savepoint journal (a large batch alone in its group writes much less).
//! One `COMMIT`, one fsync, then every job is answered. Many clients sending one record each
//! thus share fsyncs instead of queueing for them. A full queue answers
//! [`StoreError::Busy`] at once rather than holding memory and callers without bound.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::thread::JoinHandle;

use actlog_store::StoreError;
use rusqlite::Connection;
use tokio::sync::oneshot;

use crate::error::{database, failure};

/// Most jobs one transaction takes.
const MAX_GROUP_JOBS: usize = 256;
/// Most records (job cost) one transaction takes, so big batches do not hold up small ones.
const MAX_GROUP_COST: usize = 16_384;

/// Called once the job's group is committed (`Ok`) or has failed (`Err`).
pub(crate) type Completion = Box<dyn FnOnce(Result<(), StoreError>) + Send>;

/// What a job did: whether to keep its savepoint, and how to answer once the group is settled.
pub(crate) struct Ran {
    pub keep: bool,
    pub complete: Completion,
}

/// A unit of writing, run on the writer's connection inside its own savepoint.
pub(crate) struct Job {
    /// Roughly how many rows it writes (bounds a group's size).
    pub cost: usize,
    pub run: Box<dyn FnOnce(&Connection) -> Ran + Send>,
}

/// The handle the store holds: a queue into the writer thread.
#[derive(Debug)]
pub(crate) struct Writer {
    jobs: Option<SyncSender<Job>>,
    thread: Option<JoinHandle<()>>,
}

impl Writer {
    /// Starts the thread, which owns `conn` until the handle is dropped.
    pub(crate) fn start(conn: Connection, queue: usize) -> std::io::Result<Writer> {
        let (jobs, queued) = sync_channel(queue.max(1));
        let thread = std::thread::Builder::new()
            .name("actlog-sqlite-writer".into())
            .spawn(move || serve(&conn, &queued))?;
        Ok(Writer {
            jobs: Some(jobs),
            thread: Some(thread),
        })
    }

    /// Runs `work` in the writer thread inside its own savepoint, kept when it returns `Ok`,
    /// and answers once the group it joined is durably committed. If the commit fails, the
    /// answer is that failure, whatever `work` returned.
    pub(crate) async fn run<T, E, F>(&self, cost: usize, work: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
        F: FnOnce(&Connection) -> Result<T, E> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let run = Box::new(move |conn: &Connection| {
            let result = work(conn);
            Ran {
                keep: result.is_ok(),
                complete: Box::new(move |committed: Result<(), StoreError>| {
                    let _ = reply.send(committed.map_err(E::from).and(result));
                }),
            }
        });
        self.submit(Job { cost, run })?;
        answer.await.map_err(|_| {
            E::from(StoreError::Database(
                "the write was abandoned by the writer thread (see the log)".into(),
            ))
        })?
    }

    /// Queues a job; a full queue is [`StoreError::Busy`].
    pub(crate) fn submit(&self, job: Job) -> Result<(), StoreError> {
        let jobs = self
            .jobs
            .as_ref()
            .expect("the queue lives as long as the writer");
        jobs.try_send(job).map_err(|e| match e {
            TrySendError::Full(_) => StoreError::Busy,
            TrySendError::Disconnected(_) => {
                StoreError::Database("the writer thread has stopped (see the log)".into())
            }
        })
    }
}

impl Drop for Writer {
    /// Lets the thread finish the queued jobs, then waits for it to close the connection.
    fn drop(&mut self) {
        drop(self.jobs.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The thread's loop: until every handle is gone, take a group and commit it.
fn serve(conn: &Connection, queued: &Receiver<Job>) {
    while let Ok(first) = queued.recv() {
        let mut cost = first.cost;
        let mut group = vec![first];
        while group.len() < MAX_GROUP_JOBS && cost < MAX_GROUP_COST {
            let Ok(job) = queued.try_recv() else { break };
            cost += job.cost;
            group.push(job);
        }
        commit_group(conn, group);
    }
}

/// One transaction for the whole group; each job in its savepoint; one commit.
fn commit_group(conn: &Connection, group: Vec<Job>) {
    if let Err(e) = conn.execute_batch("BEGIN IMMEDIATE") {
        // Dropping the jobs answers each caller that the write was abandoned.
        tracing::error!(error = %e, jobs = group.len(), "cannot begin a write transaction");
        return;
    }
    let mut completions = Vec::with_capacity(group.len());
    let mut broken = None;
    let scope = if group.len() == 1 {
        Scope::Transaction
    } else {
        Scope::Savepoint
    };
    for job in group {
        match run_job(conn, job, scope) {
            Ok(complete) => completions.push(complete),
            Err(e) => {
                broken = Some(e);
                break;
            }
        }
    }
    let outcome = match broken {
        Some(e) => Err(e),
        // A lone job that was not kept has already rolled the transaction back.
        None if conn.is_autocommit() => Ok(()),
        None => conn.execute_batch("COMMIT"),
    };
    if let Err(e) = &outcome {
        tracing::error!(error = %e, jobs = completions.len(), "write transaction failed");
        if !conn.is_autocommit() {
            let _ = conn.execute_batch("ROLLBACK");
        }
    }
    for complete in completions {
        complete(outcome.as_ref().map(|_| ()).map_err(database));
    }
}

/// How a job is wrapped: alone in its group it needs no savepoint (the group's transaction is
/// its unit); in a group, a savepoint lets it be undone without the others.
#[derive(Clone, Copy)]
enum Scope {
    Transaction,
    Savepoint,
}

impl Scope {
    fn begin(self) -> &'static str {
        match self {
            Scope::Transaction => "",
            Scope::Savepoint => "SAVEPOINT job",
        }
    }

    fn keep(self) -> &'static str {
        match self {
            Scope::Transaction => "",
            Scope::Savepoint => "RELEASE job",
        }
    }

    fn undo(self) -> &'static str {
        match self {
            Scope::Transaction => "ROLLBACK",
            Scope::Savepoint => "ROLLBACK TO job; RELEASE job",
        }
    }
}

/// Runs one job in `scope`. An error means the transaction can no longer be trusted (a
/// statement failed, or SQLite rolled the whole transaction back under the job).
fn run_job(conn: &Connection, job: Job, scope: Scope) -> rusqlite::Result<Completion> {
    conn.execute_batch(scope.begin())?;
    let ran = catch_unwind(AssertUnwindSafe(|| (job.run)(conn)));
    if conn.is_autocommit() {
        return Err(failure(
            "the transaction was rolled back during a write".into(),
        ));
    }
    match ran {
        Ok(Ran {
            keep: true,
            complete,
        }) => {
            conn.execute_batch(scope.keep())?;
            Ok(complete)
        }
        Ok(Ran {
            keep: false,
            complete,
        }) => {
            conn.execute_batch(scope.undo())?;
            Ok(complete)
        }
        Err(_) => {
            // The job panicked; its reply was dropped with it, so its caller hears it failed.
            tracing::error!("a write job panicked; its changes are undone");
            conn.execute_batch(scope.undo())?;
            Ok(Box::new(|_| {}))
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::mpsc;
    use std::time::Duration;

    use super::*;

    fn writer(queue: usize) -> Writer {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE t (x INTEGER)").unwrap();
        Writer::start(conn, queue).unwrap()
    }

    fn insert(x: i64, fail: bool) -> impl FnOnce(&Connection) -> Result<(), StoreError> {
        move |conn| {
            conn.execute("INSERT INTO t VALUES (?1)", [x]).map_err(db)?;
            match fail {
                true => Err(StoreError::Database(format!("job {x} fails"))),
                false => Ok(()),
            }
        }
    }

    fn db(e: rusqlite::Error) -> StoreError {
        database(&e)
    }

    /// The rows of `t`, in order.
    async fn stored(w: &Writer) -> Vec<i64> {
        w.run(1, |conn| {
            let mut stmt = conn.prepare("SELECT x FROM t ORDER BY x").map_err(db)?;
            let rows = stmt.query_map([], |r| r.get(0)).map_err(db)?;
            rows.collect::<Result<_, _>>().map_err(db)
        })
        .await
        .unwrap()
    }

    /// Blocks the writer thread until the returned sender is dropped; returns once it is.
    async fn hold(w: &Writer) -> mpsc::Sender<()> {
        let (started, is_started) = mpsc::channel();
        let (release, released) = mpsc::channel::<()>();
        w.submit(Job {
            cost: 1,
            run: Box::new(move |_| {
                started.send(()).unwrap();
                let _ = released.recv();
                Ran {
                    keep: true,
                    complete: Box::new(|_| {}),
                }
            }),
        })
        .unwrap();
        tokio::task::spawn_blocking(move || is_started.recv().unwrap())
            .await
            .unwrap();
        release
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn a_failed_job_is_undone_alone_in_its_group() {
        let w = writer(16);
        let release = hold(&w).await;
        let (a, b, c) = (
            w.run(1, insert(1, false)),
            w.run(1, insert(2, true)),
            w.run(1, insert(3, false)),
        );
        let all = async { tokio::join!(a, b, c) };
        let waiting = tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(50)).await;
            drop(release);
        });
        let (a, b, c) = all.await;
        waiting.await.unwrap();
        assert!(a.is_ok() && c.is_ok());
        assert!(matches!(b, Err(StoreError::Database(m)) if m == "job 2 fails"));
        assert_eq!(stored(&w).await, [1, 3]);
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn a_failed_job_alone_in_its_group_is_undone_and_the_next_is_kept() {
        let w = writer(16);
        w.run(1, insert(1, false)).await.unwrap();
        let failed = w.run(1, insert(2, true)).await;
        assert!(matches!(failed, Err(StoreError::Database(m)) if m == "job 2 fails"));
        let panicked = w.submit(Job {
            cost: 1,
            run: Box::new(|conn| {
                conn.execute("INSERT INTO t VALUES (3)", []).unwrap();
                panic!("a job that panics midway");
            }),
        });
        assert!(panicked.is_ok());
        w.run(1, insert(4, false)).await.unwrap();
        assert_eq!(stored(&w).await, [1, 4]);
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn a_full_queue_answers_busy_at_once() {
        let w = writer(1);
        let release = hold(&w).await;
        let (done, is_done) = oneshot::channel();
        let queued = Job {
            cost: 1,
            run: Box::new(|_| Ran {
                keep: true,
                complete: Box::new(move |_| {
                    let _ = done.send(());
                }),
            }),
        };
        w.submit(queued).unwrap();
        let busy = w.run(1, insert(9, false)).await;
        assert!(matches!(busy, Err(StoreError::Busy)), "{busy:?}");
        drop(release);
        is_done.await.unwrap();
        w.run(1, insert(10, false)).await.unwrap();
    }
}
