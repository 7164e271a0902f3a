//! Errors: why a store did not open, and PostgreSQL failures in the store's terms.

use actlog_store::StoreError;
use tokio_postgres::error::SqlState;

use crate::migrate::MigrateError;

/// Why [`crate::PgStore::open`] failed.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// The URL is not a PostgreSQL connection string.
    #[error("the PostgreSQL URL is not valid: {0}")]
    Url(#[source] tokio_postgres::Error),
    /// The pool could not be built.
    #[error("cannot set up the PostgreSQL connection pool: {0}")]
    Pool(String),
    /// The server could not be reached or refused the connection.
    #[error("cannot connect to PostgreSQL at {target}: {source}")]
    Connect {
        target: String,
        #[source]
        source: deadpool_postgres::PoolError,
    },
    /// The schema could not be brought up to date (or must not be).
    #[error("cannot migrate the PostgreSQL database: {0}")]
    Migration(#[from] MigrateError),
    /// The store could not prepare itself (partitions, …).
    #[error("cannot prepare the PostgreSQL database: {0}")]
    Prepare(#[from] StoreError),
}

/// A PostgreSQL failure as the store reports it: contention the caller may retry (a
/// serialization failure, a deadlock, a lock or statement timeout, too many connections) is
/// [`StoreError::Busy`]; anything else a database failure.
pub(crate) fn db(e: tokio_postgres::Error) -> StoreError {
    let busy = [
        SqlState::T_R_SERIALIZATION_FAILURE,
        SqlState::T_R_DEADLOCK_DETECTED,
        SqlState::LOCK_NOT_AVAILABLE,
        SqlState::QUERY_CANCELED,
        SqlState::TOO_MANY_CONNECTIONS,
    ];
    match e.code() {
        Some(code) if busy.contains(code) => StoreError::Busy,
        _ => StoreError::Database(describe(&e)),
    }
}

/// The server's own message (the driver's `Display` says only "db error").
pub(crate) fn describe(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(d) => match d.detail() {
            Some(detail) => format!("{} ({}): {detail}", d.message(), d.code().code()),
            None => format!("{} ({})", d.message(), d.code().code()),
        },
        None => match std::error::Error::source(e) {
            Some(source) => format!("{e}: {source}"),
            None => e.to_string(),
        },
    }
}

/// A connection could not be taken from the pool: a timeout is [`StoreError::Busy`].
pub(crate) fn pool(e: deadpool_postgres::PoolError) -> StoreError {
    match e {
        deadpool_postgres::PoolError::Timeout(_) => StoreError::Busy,
        deadpool_postgres::PoolError::Backend(e) => db(e),
        other => StoreError::Database(format!("no PostgreSQL connection: {other}")),
    }
}
