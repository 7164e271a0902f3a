//! `actlog backup`: an online, consistent copy of a SQLite database, taken while servers read
//! and write it.
//!
//! The copy is `VACUUM INTO` a file beside the target: one read transaction, so it is the
//! database as one instant saw it (write-ahead logging lets writers go on meanwhile, and
//! nothing restarts however busy they are), compacted, and written under a temporary name.
//! It is then synced, checked (`PRAGMA quick_check`, records counted per partner), and only
//! then linked to the target name, which must not exist: a copy cut short, or failing its
//! check, never appears under the name asked for, and no file is overwritten.

use std::path::{Path, PathBuf};

use rusqlite::{Connection, OpenFlags};

use crate::connection::{self, Role};

/// Why a backup was not made. Nothing is left at the target.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("{} does not exist: nothing to back up", .0.display())]
    NoSource(PathBuf),
    #[error("{} exists already: choose another name, or remove it first", .0.display())]
    TargetExists(PathBuf),
    #[error("cannot write into {}: {source}", dir.display())]
    TargetPlace {
        dir: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot copy {}: {source}", from.display())]
    Copy {
        from: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
    #[error("cannot write the copy: {0}")]
    Write(#[source] std::io::Error),
    #[error("the copy failed its check ({0}); it was not kept")]
    Check(String),
}

/// What a backup copied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupSummary {
    /// Records by partner id, in id order.
    pub records: Vec<(String, u64)>,
    /// Size of the copy, in bytes.
    pub bytes: u64,
}

/// Bytes of the source in use (its pages less the free ones): about the size of the copy.
pub fn used_bytes(from: &Path) -> Result<u64, BackupError> {
    let conn = open_source(from)?;
    let pragma = |name: &str| -> Result<u64, BackupError> {
        conn.pragma_query_value(None, name, |row| row.get::<_, i64>(0))
            .map(|n| n.max(0) as u64)
            .map_err(|source| copy_error(from, source))
    };
    let pages = pragma("page_count")?.saturating_sub(pragma("freelist_count")?);
    Ok(pages * pragma("page_size")?)
}

/// Copies the database at `from` to the new file `to`. `progress` is told the bytes written
/// so far, now and then, from another thread.
pub fn backup(
    from: &Path,
    to: &Path,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<BackupSummary, BackupError> {
    if to.exists() {
        return Err(BackupError::TargetExists(to.to_owned()));
    }
    let source = open_source(from)?;
    let dir = match to.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_owned(),
        _ => PathBuf::from("."),
    };
    let partial = tempfile::Builder::new()
        .prefix(".actlog-backup-")
        .suffix(".partial")
        .tempfile_in(&dir)
        .map_err(|source| BackupError::TargetPlace {
            dir: dir.clone(),
            source,
        })?
        .into_temp_path();
    // VACUUM INTO wants a file that does not exist or is empty: the temporary file is empty.
    let done = std::sync::atomic::AtomicBool::new(false);
    let copied = std::thread::scope(|scope| {
        let watcher = scope.spawn(|| {
            while !done.load(std::sync::atomic::Ordering::Relaxed) {
                if let Ok(meta) = std::fs::metadata(&partial) {
                    progress(meta.len());
                }
                std::thread::sleep(std::time::Duration::from_millis(200));
            }
        });
        let copied = source.execute("VACUUM INTO ?1", [partial.to_string_lossy().as_ref()]);
        done.store(true, std::sync::atomic::Ordering::Relaxed);
        let _ = watcher.join();
        copied
    });
    copied.map_err(|source| copy_error(from, source))?;
    drop(source);
    std::fs::File::open(&partial)
        .and_then(|f| f.sync_all())
        .map_err(BackupError::Write)?;
    let summary = check(&partial)?;
    // A hard link does not replace an existing file, unlike a rename.
    std::fs::hard_link(&partial, to).map_err(|e| match e.kind() {
        std::io::ErrorKind::AlreadyExists => BackupError::TargetExists(to.to_owned()),
        _ => BackupError::Write(e),
    })?;
    drop(partial);
    if let Ok(dir) = std::fs::File::open(&dir) {
        let _ = dir.sync_all();
    }
    progress(summary.bytes);
    Ok(summary)
}

fn copy_error(from: &Path, source: rusqlite::Error) -> BackupError {
    BackupError::Copy {
        from: from.to_owned(),
        source,
    }
}

/// A connection to the source that creates nothing: a missing file is an error, not a new
/// database.
fn open_source(from: &Path) -> Result<Connection, BackupError> {
    if !from.exists() {
        return Err(BackupError::NoSource(from.to_owned()));
    }
    // Not a query-only reader: SQLite counts VACUUM INTO as a write, though only the copy is
    // written.
    connection::open(from, Role::Writer).map_err(|source| copy_error(from, source))
}

/// The copy's integrity and its records by partner.
fn check(copy: &Path) -> Result<BackupSummary, BackupError> {
    let failed = |e: rusqlite::Error| BackupError::Check(e.to_string());
    let conn =
        Connection::open_with_flags(copy, OpenFlags::SQLITE_OPEN_READ_ONLY).map_err(failed)?;
    let verdict: String = conn
        .query_row("PRAGMA quick_check", [], |row| row.get(0))
        .map_err(failed)?;
    if verdict != "ok" {
        return Err(BackupError::Check(verdict));
    }
    let mut statement = conn
        .prepare(
            "SELECT p.id, count(r.seq) FROM partners p LEFT JOIN records r ON r.partner = p.pkey
             GROUP BY p.pkey ORDER BY p.id",
        )
        .map_err(failed)?;
    let records = statement
        .query_map([], |row| Ok((row.get(0)?, row.get::<_, i64>(1)? as u64)))
        .map_err(failed)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(failed)?;
    let bytes = std::fs::metadata(copy).map_err(BackupError::Write)?.len();
    Ok(BackupSummary { records, bytes })
}
