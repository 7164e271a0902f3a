//! Partner ids to their integer keys, with an in-memory cache.
//!
//! Only committed keys enter the cache: a key created in a transaction that then fails could be
//! handed to another partner later (SQLite reuses the rowids of rolled-back rows), and a cached
//! wrong key would show one partner's records to another.

use std::collections::HashMap;
use std::sync::RwLock;

use rusqlite::{Connection, OptionalExtension};

/// The cache of committed partner keys.
#[derive(Debug, Default)]
pub(crate) struct Partners {
    keys: RwLock<HashMap<String, i64>>,
}

impl Partners {
    /// The key of `partner` if cached.
    pub(crate) fn cached(&self, partner: &str) -> Option<i64> {
        let keys = self.keys.read().unwrap_or_else(|e| e.into_inner());
        keys.get(partner).copied()
    }

    /// Records a key known to be committed.
    pub(crate) fn remember(&self, partner: &str, key: i64) {
        let mut keys = self.keys.write().unwrap_or_else(|e| e.into_inner());
        keys.insert(partner.to_owned(), key);
    }

    /// The key of `partner` as seen by `conn`, which must read committed data only (a reader).
    pub(crate) fn find(&self, conn: &Connection, partner: &str) -> rusqlite::Result<Option<i64>> {
        if let Some(key) = self.cached(partner) {
            return Ok(Some(key));
        }
        let key = find_row(conn, partner)?;
        if let Some(key) = key {
            self.remember(partner, key);
        }
        Ok(key)
    }
}

/// The key of `partner` in the database `conn` sees.
pub(crate) fn find_row(conn: &Connection, partner: &str) -> rusqlite::Result<Option<i64>> {
    conn.prepare_cached("SELECT pkey FROM partners WHERE id = ?1")?
        .query_row([partner], |r| r.get(0))
        .optional()
}

/// The key of `partner`, creating its row when missing (writer only); whether it was created.
pub(crate) fn ensure_row(conn: &Connection, partner: &str) -> rusqlite::Result<(i64, bool)> {
    let created = conn
        .prepare_cached(
            "INSERT INTO partners (id, created_at) VALUES (?1, unixepoch())
             ON CONFLICT (id) DO NOTHING",
        )?
        .execute([partner])?
        == 1;
    let key = find_row(conn, partner)?.ok_or(rusqlite::Error::QueryReturnedNoRows)?;
    Ok((key, created))
}
