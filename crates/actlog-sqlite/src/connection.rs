//! Opening a connection the way every actlog connection must be: WAL, durable commits on the
//! writer, foreign keys, a busy timeout, and the functions that fill in the folded forms of
//! rows stored before they were kept (migration 0003).

use std::path::Path;
use std::time::Duration;

use actlog_domain::KeyValue;
use actlog_domain::filter::{Folding, customized_text};
use actlog_domain::folded::stored_fold;
use rusqlite::functions::{Context, FunctionFlags};
use rusqlite::types::ValueRef;
use rusqlite::{Connection, OpenFlags};

/// How long a statement waits for another process's lock before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// Page cache of the writer, in KiB (its indexes are what inserts touch).
const WRITER_CACHE_KIB: i64 = 64 * 1024;
/// Page cache of each reader, in KiB: enough for the upper levels of the indexes a page
/// query descends, which stay hot; the pages of a long scan are read through the operating
/// system's cache. Every reader fills its cache in time, so it counts a dozen times over in
/// the server's memory.
const READER_CACHE_KIB: i64 = 8 * 1024;
/// Page cache of each connection that only scans (exports) or looks up keys and sessions.
const SCANNER_CACHE_KIB: i64 = 2 * 1024;
/// WAL pages after which a commit checkpoints (SQLite's default is 1,000). Bulk ingest with
/// several indexes dirties hundreds of pages per commit; checkpointing less often lets one
/// checkpoint write back a page rewritten by many commits once (+15–20% ingest measured here).
/// The writer's own checkpoint, a backstop: the checkpoint thread normally keeps the log far
/// below this (64k pages of 4 KiB: 256 MiB).
const WAL_AUTOCHECKPOINT_PAGES: i64 = 65_536;
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
    /// A connection that only reads: page queries.
    Reader,
    /// A connection that only reads, in long scans (exports) or single look-ups.
    Scanner,
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
        Role::Scanner => SCANNER_CACHE_KIB,
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
        Role::Reader | Role::Scanner => conn.pragma_update(None, "query_only", true)?,
    }
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    register_functions(&conn)?;
    Ok(conn)
}

/// Registers the SQL functions that compute, from a stored row, the folded forms new rows get
/// from [`actlog_domain::folded::Folded`]: migration 0003 fills in older rows with them. They
/// call the domain's own code, so the forms agree to the character:
/// - `actlog_fold(text)`: [`Folding::Unicode`], one character at a time (`İ`, `Σ`, …).
/// - `actlog_stored_fold(text)`: [`stored_fold`] (NULL where `lower()` gives the same).
/// - `actlog_customized_text(json)`: a stored `customized_data` as free-text search sees it,
///   its keys and values ([`customized_text`]), not its JSON.
///
/// NULL stays NULL. Queries never call them: they compare the stored forms.
pub(crate) fn register_functions(conn: &Connection) -> rusqlite::Result<()> {
    let flags = FunctionFlags::SQLITE_UTF8
        | FunctionFlags::SQLITE_DETERMINISTIC
        | FunctionFlags::SQLITE_INNOCUOUS;
    conn.create_scalar_function("actlog_fold", 1, flags, |ctx| {
        Ok(text_arg(ctx).map(|text| Folding::Unicode.fold(&text)))
    })?;
    conn.create_scalar_function("actlog_stored_fold", 1, flags, |ctx| {
        Ok(text_arg(ctx).and_then(|text| stored_fold(Some(&text))))
    })?;
    conn.create_scalar_function("actlog_customized_text", 1, flags, |ctx| {
        let Some(json) = text_arg(ctx) else {
            return Ok(None);
        };
        // Written by `rows::insert` from the record; anything else is a damaged row, which
        // reading it would refuse too.
        let items: Vec<KeyValue> = serde_json::from_str(&json)
            .map_err(|e| rusqlite::Error::UserFunctionError(Box::new(e)))?;
        Ok(Some(customized_text(&items)))
    })
}

/// A function's one argument as text; `None` for NULL (and blobs).
fn text_arg(ctx: &Context<'_>) -> Option<String> {
    match ctx.get_raw(0) {
        ValueRef::Null | ValueRef::Blob(_) => None,
        ValueRef::Text(bytes) => Some(String::from_utf8_lossy(bytes).into_owned()),
        // Only text reaches them from actlog's STRICT TEXT columns; be total anyway.
        ValueRef::Integer(n) => Some(n.to_string()),
        ValueRef::Real(x) => Some(x.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn select(conn: &Connection, sql: &str, arg: Option<&str>) -> Option<String> {
        conn.query_row(sql, [arg], |r| r.get(0)).unwrap()
    }

    #[test]
    fn fold_is_the_domains_unicode_folding() {
        let conn = Connection::open_in_memory().unwrap();
        register_functions(&conn).unwrap();
        for text in [
            "SOCIETÀ",
            "İSTANBUL",
            "ΟΔΟΣ ΣΟΦΙΑΣ",
            "Straße",
            "ÀBC-001",
            "",
        ] {
            let folded = select(&conn, "SELECT actlog_fold(?1)", Some(text));
            assert_eq!(folded, Some(Folding::Unicode.fold(text)), "{text}");
        }
        assert_eq!(select(&conn, "SELECT actlog_fold(?1)", None), None);
    }

    /// `str::to_lowercase` made `ΣΑΣ` `σας` (a final sigma), so `ΣΑ` no longer found itself
    /// in `ΣΑΣΑ`.
    #[test]
    fn fold_maps_every_sigma_alike() {
        let conn = Connection::open_in_memory().unwrap();
        register_functions(&conn).unwrap();
        let fold = |text| select(&conn, "SELECT actlog_fold(?1)", Some(text));
        assert_eq!(fold("ΣΑΣ").as_deref(), Some("σασ"));
        assert_eq!(fold("σας").as_deref(), Some("σας"));
        let found: bool = conn
            .query_row(
                "SELECT instr(actlog_fold('ΣΑΣΑ'), actlog_fold('ΣΑΣ')) > 0",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert!(found);
    }

    #[test]
    fn customized_text_is_the_keys_and_values() {
        let conn = Connection::open_in_memory().unwrap();
        register_functions(&conn).unwrap();
        let sql = "SELECT actlog_customized_text(?1)";
        let json = r#"[{"key":"note","value":"say \"hi\""},{"key":"k","value":null}]"#;
        let text = select(&conn, sql, Some(json));
        assert_eq!(text.as_deref(), Some("note\u{1}say \"hi\"\u{1}k"));
        assert_eq!(select(&conn, sql, Some("[]")).as_deref(), Some(""));
        assert_eq!(select(&conn, sql, None), None);
        let damaged = conn.query_row(sql, ["{not json"], |r| r.get::<_, String>(0));
        assert!(damaged.is_err());
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
