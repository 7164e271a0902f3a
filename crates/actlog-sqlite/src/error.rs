//! Errors: why a store did not open, and SQLite failures in the store's terms.

use std::path::PathBuf;

use actlog_store::StoreError;
use rusqlite::ErrorCode;

use crate::migrate::MigrateError;

/// Why [`crate::SqliteStore::open`] failed.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// The file could not be opened or configured.
    #[error("cannot open the SQLite database {}: {source}", path.display())]
    Database {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
    /// The schema could not be brought up to date (or must not be).
    #[error("cannot migrate the SQLite database {}: {source}", path.display())]
    Migration {
        path: PathBuf,
        #[source]
        source: MigrateError,
    },
    /// The writer thread could not be started.
    #[error("cannot start the SQLite writer thread: {0}")]
    Thread(#[source] std::io::Error),
}

/// A SQLite failure as the store reports it: lock contention is [`StoreError::Busy`] (the
/// caller may retry), anything else a database failure.
pub(crate) fn database(e: &rusqlite::Error) -> StoreError {
    match e.sqlite_error_code() {
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => StoreError::Busy,
        _ => StoreError::Database(e.to_string()),
    }
}

/// For `?` on rusqlite results in code returning [`StoreError`].
pub(crate) fn db(e: rusqlite::Error) -> StoreError {
    database(&e)
}

/// A failure of our own making, in rusqlite's terms.
pub(crate) fn failure(message: String) -> rusqlite::Error {
    let code = rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_ERROR);
    rusqlite::Error::SqliteFailure(code, Some(message))
}
