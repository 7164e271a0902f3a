//! Checkpoints off the writer's path. In WAL mode committed pages are appended to the log and
//! later copied back into the database file (a checkpoint). Left to SQLite, the committing
//! connection does that copy itself every few thousand pages, stalling every write queued
//! behind it. Here a thread of its own checkpoints passively a few times a second, beside the
//! writes; the writer's own automatic checkpoint only remains as a backstop, at a threshold it
//! reaches only if this thread falls far behind.
//!
//! Durability does not depend on checkpoints: a commit is durable once the log is synced.

use std::sync::mpsc::{RecvTimeoutError, SyncSender, sync_channel};
use std::thread::JoinHandle;
use std::time::Duration;

use rusqlite::Connection;

/// How often the log is copied back.
const INTERVAL: Duration = Duration::from_millis(250);

/// The checkpointing thread; stops (after a last checkpoint) when dropped.
#[derive(Debug)]
pub(crate) struct Checkpointer {
    stop: Option<SyncSender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Checkpointer {
    /// Starts the thread on `conn`, a connection of its own.
    pub(crate) fn start(conn: Connection) -> std::io::Result<Checkpointer> {
        let (stop, stopped) = sync_channel::<()>(0);
        let thread = std::thread::Builder::new()
            .name("actlog-sqlite-checkpoint".into())
            .spawn(move || {
                while let Err(RecvTimeoutError::Timeout) = stopped.recv_timeout(INTERVAL) {
                    checkpoint(&conn);
                }
                checkpoint(&conn);
            })?;
        Ok(Checkpointer {
            stop: Some(stop),
            thread: Some(thread),
        })
    }
}

/// Copies what it can of the log into the database without waiting for readers or writers.
fn checkpoint(conn: &Connection) {
    let done = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |row| {
        row.get::<_, i64>(0)
    });
    if let Err(err) = done {
        tracing::warn!(%err, "a background checkpoint failed; the writer's own will catch up");
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
