//! Each partner's Merkle log in SQLite: log indexes given in the writer's transaction, the
//! head (`partner_logs`), the tiles of complete nodes (`log_tiles`), signed checkpoints
//! (`log_checkpoints`). See `actlog_store::log`.
//!
//! The head is read inside the write transaction every time, never cached: the transaction is
//! SQLite's only writer, so what it reads is what the log is, even when another process
//! (`actlog import` beside a server) wrote last.

use actlog_store::log::{LoggedRecord, StoredCheckpoint};
use actlog_tlog::merkle::{Frontier, Hash, Node};
use actlog_tlog::tiles::{self, TileId, TileSet};
use rusqlite::{Connection, OptionalExtension};

use crate::error::failure;
use crate::rows;

/// A partner's log during one write: the head as read in the transaction, and the nodes the
/// transaction's records complete.
pub(crate) struct Appending {
    key: i64,
    frontier: Frontier,
    nodes: Vec<Node>,
}

impl Appending {
    /// The partner's head, read in the writer's transaction (a partner new to the log starts
    /// an empty one).
    pub(crate) fn start(conn: &Connection, key: i64) -> rusqlite::Result<Appending> {
        let stored: Option<Option<Vec<u8>>> = conn
            .prepare_cached("SELECT frontier FROM partner_logs WHERE partner = ?1")?
            .query_row([key], |r| r.get(0))
            .optional()?;
        let frontier = match stored {
            Some(Some(bytes)) => Frontier::from_bytes(&bytes)
                .map_err(|e| failure(format!("the stored log head is damaged: {e}")))?,
            Some(None) => {
                return Err(failure(
                    "this partner's log is still being built from earlier records".into(),
                ));
            }
            None => {
                conn.prepare_cached(
                    "INSERT INTO partner_logs (partner, size, frontier) VALUES (?1, 0, ?2)",
                )?
                .execute((key, Frontier::new().to_bytes()))?;
                Frontier::new()
            }
        };
        Ok(Appending {
            key,
            frontier,
            nodes: Vec::new(),
        })
    }

    /// The index the next record gets.
    pub(crate) fn next_index(&self) -> i64 {
        self.frontier.size() as i64
    }

    /// Adds the leaf of the record just stored at [`Self::next_index`].
    pub(crate) fn push(&mut self, leaf: Hash) {
        self.nodes.extend(self.frontier.push(leaf));
    }

    /// Writes the completed nodes into their tiles and the new head.
    pub(crate) fn finish(self, conn: &Connection) -> rusqlite::Result<()> {
        if self.nodes.is_empty() {
            return Ok(());
        }
        write_tiles(conn, self.key, &self.nodes)?;
        conn.prepare_cached("UPDATE partner_logs SET size = ?2, frontier = ?3 WHERE partner = ?1")?
            .execute((
                self.key,
                self.frontier.size() as i64,
                self.frontier.to_bytes(),
            ))?;
        Ok(())
    }
}

/// Extends the tiles `nodes` fall in (a partial tile is read and rewritten longer).
fn write_tiles(conn: &Connection, key: i64, nodes: &[Node]) -> rusqlite::Result<()> {
    let mut read = conn.prepare_cached(
        "SELECT hashes FROM log_tiles WHERE partner = ?1 AND level = ?2 AND idx = ?3",
    )?;
    let mut write = conn.prepare_cached(
        "INSERT OR REPLACE INTO log_tiles (partner, level, idx, hashes) VALUES (?1, ?2, ?3, ?4)",
    )?;
    for append in tiles::appends(nodes) {
        let (level, index) = (append.tile.level, append.tile.index as i64);
        let mut hashes = match append.offset {
            0 => Vec::new(),
            _ => read
                .query_row((key, level, index), |r| r.get::<_, Vec<u8>>(0))
                .optional()?
                .unwrap_or_default(),
        };
        if hashes.len() != append.offset * 32 {
            return Err(failure(format!(
                "the stored log tile ({level}, {index}) holds {} bytes where {} were expected",
                hashes.len(),
                append.offset * 32
            )));
        }
        hashes.extend_from_slice(&append.hashes);
        write.execute((key, level, index, hashes))?;
    }
    Ok(())
}

/// Logs the records of partners whose log was not built yet (stored before the log existed),
/// in the order they were stored, one transaction per partner. Returns how many records it
/// logged.
pub(crate) fn build_missing(conn: &mut Connection) -> rusqlite::Result<u64> {
    let pending: Vec<(i64, String)> = conn
        .prepare(
            "SELECT l.partner, p.id FROM partner_logs l JOIN partners p ON p.pkey = l.partner
             WHERE l.frontier IS NULL",
        )?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    let mut logged = 0;
    for (key, partner) in pending {
        let tx = conn.transaction()?;
        tx.execute("DELETE FROM log_tiles WHERE partner = ?1", [key])?;
        tx.execute(
            "UPDATE partner_logs SET size = 0, frontier = ?2 WHERE partner = ?1",
            (key, Frontier::new().to_bytes()),
        )?;
        let mut log = Appending::start(&tx, key)?;
        {
            let sql = format!(
                "SELECT {} FROM records WHERE partner = ?1 ORDER BY seq",
                rows::COLUMNS
            );
            let mut select = tx.prepare(&sql)?;
            let mut number = tx.prepare("UPDATE records SET log_index = ?2 WHERE seq = ?1")?;
            let mut found = select.query([key])?;
            while let Some(row) = found.next()? {
                let (seq, record) = rows::read(row, &partner)?;
                number.execute((seq, log.next_index()))?;
                log.push(actlog_store::log::leaf_of(&partner, &record));
                logged += 1;
            }
        }
        log.finish(&tx)?;
        tx.commit()?;
        tracing::info!(partner, "built the log of records stored before it existed");
    }
    Ok(logged)
}

/// The partner's head (the empty tree when it has none).
pub(crate) fn head(conn: &Connection, key: i64) -> rusqlite::Result<Frontier> {
    let stored: Option<Option<Vec<u8>>> = conn
        .prepare_cached("SELECT frontier FROM partner_logs WHERE partner = ?1")?
        .query_row([key], |r| r.get(0))
        .optional()?;
    match stored.flatten() {
        None => Ok(Frontier::new()),
        Some(bytes) => Frontier::from_bytes(&bytes)
            .map_err(|e| failure(format!("the stored log head is damaged: {e}"))),
    }
}

/// The stored tiles among `wanted`.
pub(crate) fn read_tiles(
    conn: &Connection,
    key: i64,
    wanted: &[TileId],
) -> rusqlite::Result<TileSet> {
    let mut select = conn.prepare_cached(
        "SELECT hashes FROM log_tiles WHERE partner = ?1 AND level = ?2 AND idx = ?3",
    )?;
    let mut set = TileSet::new();
    for tile in wanted {
        let found: Option<Vec<u8>> = select
            .query_row((key, tile.level, tile.index as i64), |r| r.get(0))
            .optional()?;
        if let Some(hashes) = found {
            set.insert(*tile, hashes);
        }
    }
    Ok(set)
}

/// Up to `limit` tiles of the partner after `after` ((level, index) order).
pub(crate) fn tiles_after(
    conn: &Connection,
    key: i64,
    after: Option<TileId>,
    limit: usize,
) -> rusqlite::Result<Vec<(TileId, Vec<u8>)>> {
    let (level, index) = after.map_or((-1, -1), |t| (i64::from(t.level), t.index as i64));
    conn.prepare_cached(
        "SELECT level, idx, hashes FROM log_tiles WHERE partner = ?1 AND (level, idx) > (?2, ?3)
         ORDER BY level, idx LIMIT ?4",
    )?
    .query_map((key, level, index, limit as i64), |r| {
        let tile = TileId {
            level: r.get(0)?,
            index: r.get::<_, i64>(1)? as u64,
        };
        Ok((tile, r.get(2)?))
    })?
    .collect()
}

/// Up to `limit` of the partner's stored rows after `seq`, in the order they were stored, with
/// their log indexes; the last row's `seq` for the next call.
pub(crate) fn records_after(
    conn: &Connection,
    key: i64,
    partner: &str,
    seq: i64,
    limit: usize,
) -> rusqlite::Result<(Vec<LoggedRecord>, i64)> {
    let sql = format!(
        "SELECT {}, log_index FROM records WHERE partner = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3",
        rows::COLUMNS
    );
    let mut select = conn.prepare_cached(&sql)?;
    let mut found = select.query((key, seq, limit as i64))?;
    let (mut batch, mut last) = (Vec::new(), seq);
    while let Some(row) = found.next()? {
        let (seq, record) = rows::read(row, partner)?;
        let index: Option<i64> = row.get(rows::COLUMN_COUNT)?;
        last = seq;
        batch.push(LoggedRecord {
            index: index.and_then(|i| u64::try_from(i).ok()),
            record,
        });
    }
    Ok((batch, last))
}

/// The log index of the partner's record `id`.
pub(crate) fn index_of(conn: &Connection, key: i64, id: &str) -> rusqlite::Result<Option<u64>> {
    let found: Option<Option<i64>> = conn
        .prepare_cached("SELECT log_index FROM records WHERE partner = ?1 AND id = ?2")?
        .query_row((key, id), |r| r.get(0))
        .optional()?;
    Ok(found.flatten().and_then(|i| u64::try_from(i).ok()))
}

pub(crate) fn unsigned_partners(conn: &Connection) -> rusqlite::Result<Vec<String>> {
    conn.prepare_cached(
        "SELECT p.id FROM partner_logs l JOIN partners p ON p.pkey = l.partner
         WHERE NOT EXISTS (SELECT 1 FROM log_checkpoints c
                           WHERE c.partner = l.partner AND c.size >= l.size)
         ORDER BY p.id",
    )?
    .query_map([], |r| r.get(0))?
    .collect()
}

pub(crate) fn add_checkpoint(
    conn: &Connection,
    key: i64,
    checkpoint: &StoredCheckpoint,
) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT INTO log_checkpoints (partner, size, note, signed_at) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (partner, size) DO NOTHING",
    )?
    .execute((
        key,
        checkpoint.size as i64,
        &checkpoint.note,
        checkpoint.signed_at,
    ))?;
    Ok(())
}

/// Kept checkpoints: of `size`, or the latest (`None`), or all (`all`), smallest first.
pub(crate) fn checkpoints(
    conn: &Connection,
    key: i64,
    which: Which,
) -> rusqlite::Result<Vec<StoredCheckpoint>> {
    let sql = match which {
        Which::Latest => {
            "SELECT size, note, signed_at FROM log_checkpoints WHERE partner = ?1 AND size >= ?2
             ORDER BY size DESC LIMIT 1"
        }
        Which::At(_) => {
            "SELECT size, note, signed_at FROM log_checkpoints WHERE partner = ?1 AND size = ?2"
        }
        Which::All => {
            "SELECT size, note, signed_at FROM log_checkpoints WHERE partner = ?1 AND size >= ?2
             ORDER BY size"
        }
    };
    let size = match which {
        Which::At(size) => size as i64,
        _ => 0,
    };
    conn.prepare_cached(sql)?
        .query_map((key, size), |r| {
            Ok(StoredCheckpoint {
                size: r.get::<_, i64>(0)? as u64,
                note: r.get(1)?,
                signed_at: r.get(2)?,
            })
        })?
        .collect()
}

/// Which kept checkpoints [`checkpoints`] reads.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Which {
    Latest,
    At(u64),
    All,
}
