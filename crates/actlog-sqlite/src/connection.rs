//! Opening a connection the way every actlog connection must be: WAL, durable commits on the
//! writer, foreign keys, a busy timeout, and the `actlog_fold` function the filters use.

use std::path::Path;
use std::time::Duration;

use rusqlite::functions::FunctionFlags;
use rusqlite::types::ValueRef;
use rusqlite::{Connection, OpenFlags};

/// How long a statement waits for another process's lock before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// Page cache of the writer, in KiB (its indexes are what inserts touch).
const WRITER_CACHE_KIB: i64 = 64 * 1024;
/// Page cache of each reader, in KiB.
const READER_CACHE_KIB: i64 = 16 * 1024;
/// WAL pages after which a commit checkpoints (SQLite's default is 1,000). Bulk ingest with
/// several indexes dirties hundreds of pages per commit; checkpointing less often lets one
/// checkpoint write back a page rewritten by many commits once (+15–20% ingest measured here).
const WAL_AUTOCHECKPOINT_PAGES: i64 = 8_192;
/// The WAL file is truncated back to this size after a checkpoint (it otherwise keeps its
/// largest size).
const WAL_SIZE_LIMIT: i64 = 64 * 1024 * 1024;
/// Distinct SQL texts kept prepared per connection (page queries vary with their filter).
const STATEMENT_CACHE: usize = 64;

/// What a connection is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    /// The one connection that writes; commits are fsynced before they return.
    Writer,
    /// A connection that only reads.
    Reader,
}

/// Opens (creating if needed) the database at `path` for `role`.
pub(crate) fn open(path: &Path, role: Role) -> rusqlite::Result<Connection> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_CREATE
        | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags)?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    let mode: String =
        conn.pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(crate::error::failure(format!(
            "the database refused write-ahead logging (journal_mode is {mode})"
        )));
    }
    conn.pragma_update(None, "foreign_keys", true)?;
    let cache = match role {
        Role::Writer => WRITER_CACHE_KIB,
        Role::Reader => READER_CACHE_KIB,
    };
    conn.pragma_update(None, "cache_size", -cache)?;
    match role {
        // FULL: in WAL mode, every commit is fsynced before it returns (durable on ack).
        Role::Writer => {
            conn.pragma_update(None, "synchronous", "FULL")?;
            conn.pragma_update(None, "wal_autocheckpoint", WAL_AUTOCHECKPOINT_PAGES)?;
            // Each write job runs in a savepoint, which copies every page it first changes
            // to a sub-journal: in memory rather than a temporary file (≈25% of ingest time).
            conn.pragma_update(None, "temp_store", "MEMORY")?;
            let _: i64 =
                conn.pragma_update_and_check(None, "journal_size_limit", WAL_SIZE_LIMIT, |row| {
                    row.get(0)
                })?;
        }
        Role::Reader => conn.pragma_update(None, "query_only", true)?,
    }
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    register_fold(&conn)?;
    Ok(conn)
}

/// `actlog_fold(text)`: Rust's `str::to_lowercase`, the Unicode folding of
/// [`actlog_domain::filter::Folding::Unicode`], so that SQL and the reference evaluator agree
/// to the character (`İ`, final `Σ`, …). NULL stays NULL.
pub(crate) fn register_fold(conn: &Connection) -> rusqlite::Result<()> {
    let flags = FunctionFlags::SQLITE_UTF8
        | FunctionFlags::SQLITE_DETERMINISTIC
        | FunctionFlags::SQLITE_INNOCUOUS;
    conn.create_scalar_function("actlog_fold", 1, flags, |ctx| {
        Ok(match ctx.get_raw(0) {
            ValueRef::Null => None,
            ValueRef::Text(bytes) => Some(String::from_utf8_lossy(bytes).to_lowercase()),
            // Only text reaches it from actlog's STRICT TEXT columns; be total anyway.
            ValueRef::Integer(n) => Some(n.to_string()),
            ValueRef::Real(x) => Some(x.to_string()),
            ValueRef::Blob(_) => None,
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fold_is_rusts_to_lowercase() {
        let conn = Connection::open_in_memory().unwrap();
        register_fold(&conn).unwrap();
        for text in [
            "SOCIETÀ",
            "İSTANBUL",
            "ΟΔΟΣ ΣΟΦΙΑΣ",
            "Straße",
            "ÀBC-001",
            "",
        ] {
            let folded: String = conn
                .query_row("SELECT actlog_fold(?1)", [text], |r| r.get(0))
                .unwrap();
            assert_eq!(folded, text.to_lowercase(), "{text}");
        }
        let null: Option<String> = conn
            .query_row("SELECT actlog_fold(NULL)", [], |r| r.get(0))
            .unwrap();
        assert_eq!(null, None);
    }

    #[test]
    fn builtin_lower_folds_ascii_only() {
        let conn = Connection::open_in_memory().unwrap();
        let folded: String = conn
            .query_row("SELECT lower('ÀBC-Xyz')", [], |r| r.get(0))
            .unwrap();
        assert_eq!(folded, "ÀBC-Xyz".to_ascii_lowercase());
    }
}
