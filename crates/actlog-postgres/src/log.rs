//! Each partner's Merkle log in PostgreSQL: the head beside the log's size (`partner_logs`,
//! locked by every append of the partner, so indexes follow commit order on every server), the
//! tiles of complete nodes (`log_tiles`), signed checkpoints (`log_checkpoints`). A record's
//! log index is its `seq - 1`. See `actlog_store::log`.

use actlog_store::StoreError;
use actlog_store::log::{LoggedRecord, StoredCheckpoint};
use actlog_tlog::merkle::{Frontier, Hash, Node};
use actlog_tlog::tiles::{self, TileId, TileSet};
use deadpool_postgres::GenericClient;
use futures::StreamExt;
use tokio_postgres::Row;
use tokio_postgres::types::ToSql;

use crate::error::db;
use crate::rows;

/// Locks a partner's log row until the transaction ends; the log's size and frontier.
pub(crate) const LOCK: &str =
    "SELECT size, frontier FROM partner_logs WHERE partner = $1 FOR UPDATE";

/// The log's new head.
const UPDATE_HEAD: &str = "UPDATE partner_logs SET size = $2, frontier = $3 WHERE partner = $1";

/// Extends a partner's (`$1`) tiles: each named tile gets the hashes appended (a new tile is
/// created). Safe because the partner's log row is locked: no other transaction appends.
const EXTEND_TILES: &str = "INSERT INTO log_tiles (partner, level, idx, hashes) \
    SELECT $1, * FROM unnest($2::smallint[], $3::bigint[], $4::bytea[]) \
    ON CONFLICT (partner, level, idx) DO UPDATE SET hashes = log_tiles.hashes || excluded.hashes";

/// The head in a row of [`LOCK`] (size, frontier).
pub(crate) fn head_of(row: &Row) -> Result<Frontier, StoreError> {
    let size: i64 = row.get(0);
    let Some(bytes) = row.get::<_, Option<&[u8]>>(1) else {
        return Err(StoreError::Database(
            "this partner's log is still being built from earlier records".into(),
        ));
    };
    let frontier = Frontier::from_bytes(bytes)
        .map_err(|e| StoreError::Database(format!("the stored log head is damaged: {e}")))?;
    if frontier.size() != size as u64 {
        return Err(StoreError::Database(format!(
            "the stored log head is damaged: its frontier is of {} leaves, its size {size}",
            frontier.size()
        )));
    }
    Ok(frontier)
}

/// What a transaction writes to the log after storing records: the new head and the tiles
/// their nodes extend.
pub(crate) struct LogWrites {
    size: i64,
    frontier: Vec<u8>,
    levels: Vec<i16>,
    indexes: Vec<i64>,
    hashes: Vec<Vec<u8>>,
}

impl LogWrites {
    /// Appends `leaves` (in log order) to `frontier`.
    pub(crate) fn new(mut frontier: Frontier, leaves: impl Iterator<Item = Hash>) -> LogWrites {
        let nodes: Vec<Node> = leaves.flat_map(|leaf| frontier.push(leaf)).collect();
        let mut writes = LogWrites {
            size: frontier.size() as i64,
            frontier: frontier.to_bytes(),
            levels: Vec::new(),
            indexes: Vec::new(),
            hashes: Vec::new(),
        };
        for append in tiles::appends(&nodes) {
            writes.levels.push(i16::from(append.tile.level));
            writes.indexes.push(append.tile.index as i64);
            writes.hashes.push(append.hashes);
        }
        writes
    }

    /// Writes them with `statements` (from [`statements`], prepared beforehand so that
    /// nothing is awaited before these statements are sent: joined with a `COMMIT`, they go
    /// out first and are part of the transaction).
    pub(crate) async fn write(
        &self,
        client: &impl GenericClient,
        statements: &LogStatements,
        key: i64,
    ) -> Result<(), StoreError> {
        let head_params: [&(dyn ToSql + Sync); 3] = [&key, &self.size, &self.frontier];
        let tile_params: [&(dyn ToSql + Sync); 4] =
            [&key, &self.levels, &self.indexes, &self.hashes];
        futures::try_join!(
            client.execute(&statements.head, &head_params),
            client.execute(&statements.tiles, &tile_params),
        )
        .map_err(db)?;
        Ok(())
    }

    /// The frontier written.
    pub(crate) fn frontier(&self) -> Frontier {
        Frontier::from_bytes(&self.frontier).expect("a frontier this process encoded")
    }
}

/// The statements [`LogWrites::write`] runs.
pub(crate) struct LogStatements {
    head: tokio_postgres::Statement,
    tiles: tokio_postgres::Statement,
}

/// Prepares (or finds in the connection's cache) the log's statements.
pub(crate) async fn statements(client: &impl GenericClient) -> Result<LogStatements, StoreError> {
    Ok(LogStatements {
        head: client.prepare_cached(UPDATE_HEAD).await.map_err(db)?,
        tiles: client.prepare_cached(EXTEND_TILES).await.map_err(db)?,
    })
}

/// Records logged per step while building a log from earlier records.
const BUILD_STEP: usize = 65_536;

/// Logs the records of partners whose log was not built yet (stored before the log existed),
/// in `seq` order, one transaction per partner; safe when several servers start at once (the
/// partner's row is locked, and a log built meanwhile is left alone). How many it logged.
pub(crate) async fn build_missing(
    client: &mut deadpool_postgres::Client,
) -> Result<u64, StoreError> {
    let pending = client
        .query(
            "SELECT l.partner, p.id FROM partner_logs l JOIN partners p ON p.pkey = l.partner
             WHERE l.frontier IS NULL",
            &[],
        )
        .await
        .map_err(db)?;
    let mut logged = 0;
    for row in pending {
        let (key, partner): (i64, String) = (row.get(0), row.get(1));
        let tx = client.transaction().await.map_err(db)?;
        let locked = tx.query_one(LOCK, &[&key]).await.map_err(db)?;
        if locked.get::<_, Option<&[u8]>>(1).is_some() {
            continue;
        }
        tx.execute("DELETE FROM log_tiles WHERE partner = $1", &[&key])
            .await
            .map_err(db)?;
        let sql = format!(
            "SELECT {} FROM records r WHERE r.partner = $1 ORDER BY r.seq",
            rows::COLUMNS
        );
        let params: [&(dyn ToSql + Sync); 1] = [&key];
        let stream = tx.query_raw(&sql, params).await.map_err(db)?;
        let mut stream = std::pin::pin!(stream.chunks(BUILD_STEP));
        let statements = statements(&tx).await?;
        let mut frontier = Frontier::new();
        while let Some(chunk) = stream.next().await {
            let mut leaves = Vec::with_capacity(chunk.len());
            for row in chunk {
                let (seq, record) = rows::read(&row.map_err(db)?, &partner)?;
                let expected = frontier.size() as i64 + leaves.len() as i64 + 1;
                if seq != expected {
                    return Err(StoreError::Database(format!(
                        "partner {partner}: record {} has seq {seq} where {expected} was \
                         expected; the log cannot be built over a gap",
                        record.id
                    )));
                }
                leaves.push(actlog_store::log::leaf_of(&partner, &record));
            }
            let writes = LogWrites::new(frontier, leaves.into_iter());
            writes.write(&tx, &statements, key).await?;
            frontier = writes.frontier();
        }
        if frontier.size() != locked.get::<_, i64>(0) as u64 {
            return Err(StoreError::Database(format!(
                "partner {partner}: the log's size is {} but {} records are stored",
                locked.get::<_, i64>(0),
                frontier.size()
            )));
        }
        LogWrites::new(frontier.clone(), std::iter::empty())
            .write(&tx, &statements, key)
            .await?;
        tx.commit().await.map_err(db)?;
        logged += frontier.size();
        tracing::info!(partner, "built the log of records stored before it existed");
    }
    Ok(logged)
}

/// The partner's head (the empty tree when it has none).
pub(crate) async fn head(client: &impl GenericClient, key: i64) -> Result<Frontier, StoreError> {
    let row = client
        .query_opt(
            "SELECT size, frontier FROM partner_logs WHERE partner = $1",
            &[&key],
        )
        .await
        .map_err(db)?;
    match row {
        None => Ok(Frontier::new()),
        Some(row) => head_of(&row),
    }
}

/// The stored tiles among `wanted`, in one query.
pub(crate) async fn read_tiles(
    client: &impl GenericClient,
    key: i64,
    wanted: &[TileId],
) -> Result<TileSet, StoreError> {
    let levels: Vec<i16> = wanted.iter().map(|t| i16::from(t.level)).collect();
    let indexes: Vec<i64> = wanted.iter().map(|t| t.index as i64).collect();
    let rows = client
        .query(
            "SELECT t.level, t.idx, t.hashes FROM log_tiles t
               JOIN unnest($2::smallint[], $3::bigint[]) AS w (level, idx)
                 ON t.level = w.level AND t.idx = w.idx
             WHERE t.partner = $1",
            &[&key, &levels, &indexes],
        )
        .await
        .map_err(db)?;
    let mut set = TileSet::new();
    for row in rows {
        set.insert(tile_of(&row), row.get(2));
    }
    Ok(set)
}

fn tile_of(row: &Row) -> TileId {
    TileId {
        level: row.get::<_, i16>(0) as u8,
        index: row.get::<_, i64>(1) as u64,
    }
}

/// Up to `limit` tiles of the partner after `after` ((level, index) order).
pub(crate) async fn tiles_after(
    client: &impl GenericClient,
    key: i64,
    after: Option<TileId>,
    limit: usize,
) -> Result<Vec<(TileId, Vec<u8>)>, StoreError> {
    let (level, index) = after.map_or((-1i16, -1i64), |t| (i16::from(t.level), t.index as i64));
    let rows = client
        .query(
            "SELECT level, idx, hashes FROM log_tiles
             WHERE partner = $1 AND (level, idx) > ($2, $3) ORDER BY level, idx LIMIT $4",
            &[&key, &level, &index, &(limit as i64)],
        )
        .await
        .map_err(db)?;
    Ok(rows.iter().map(|r| (tile_of(r), r.get(2))).collect())
}

/// Up to `limit` of the partner's stored rows after `seq`, in `seq` order, with their log
/// indexes; the last row's `seq` for the next call.
pub(crate) async fn records_after(
    client: &impl GenericClient,
    key: i64,
    partner: &str,
    seq: i64,
    limit: usize,
) -> Result<(Vec<LoggedRecord>, i64), StoreError> {
    let sql = format!(
        "SELECT {} FROM records r WHERE r.partner = $1 AND r.seq > $2 ORDER BY r.seq LIMIT $3",
        rows::COLUMNS
    );
    let rows = client
        .query(&sql, &[&key, &seq, &(limit as i64)])
        .await
        .map_err(db)?;
    let (mut batch, mut last) = (Vec::with_capacity(rows.len()), seq);
    for row in rows {
        let (seq, record) = rows::read(&row, partner)?;
        last = seq;
        batch.push(LoggedRecord {
            index: u64::try_from(seq - 1).ok(),
            record,
        });
    }
    Ok((batch, last))
}

/// The log index of the partner's record `id`.
pub(crate) async fn index_of(
    client: &impl GenericClient,
    key: i64,
    id: &str,
) -> Result<Option<u64>, StoreError> {
    let row = client
        .query_opt(
            "SELECT seq FROM record_ids WHERE partner = $1 AND id = $2",
            &[&key, &id],
        )
        .await
        .map_err(db)?;
    Ok(row.and_then(|r| u64::try_from(r.get::<_, i64>(0) - 1).ok()))
}

pub(crate) async fn indexes_of(
    client: &impl GenericClient,
    key: i64,
    ids: &[String],
) -> Result<Vec<Option<u64>>, StoreError> {
    let rows = client
        .query(
            "SELECT id, seq FROM record_ids WHERE partner = $1 AND id = ANY($2)",
            &[&key, &ids],
        )
        .await
        .map_err(db)?;
    let found: std::collections::HashMap<String, u64> = rows
        .iter()
        .filter_map(|r| Some((r.get(0), u64::try_from(r.get::<_, i64>(1) - 1).ok()?)))
        .collect();
    Ok(ids.iter().map(|id| found.get(id).copied()).collect())
}

/// Crosses every shard on Citus: run by the signer in the background, never on a request.
pub(crate) async fn unsigned_partners(
    client: &impl GenericClient,
) -> Result<Vec<String>, StoreError> {
    let rows = client
        .query(
            "SELECT p.id FROM partner_logs l JOIN partners p ON p.pkey = l.partner
             WHERE NOT EXISTS (SELECT 1 FROM log_checkpoints c
                               WHERE c.partner = l.partner AND c.size >= l.size)
             ORDER BY p.id COLLATE \"C\"",
            &[],
        )
        .await
        .map_err(db)?;
    Ok(rows.iter().map(|r| r.get(0)).collect())
}

pub(crate) async fn add_checkpoint(
    client: &impl GenericClient,
    key: i64,
    checkpoint: &StoredCheckpoint,
) -> Result<(), StoreError> {
    client
        .execute(
            "INSERT INTO log_checkpoints (partner, size, note, signed_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT (partner, size) DO NOTHING",
            &[
                &key,
                &(checkpoint.size as i64),
                &checkpoint.note,
                &checkpoint.signed_at,
            ],
        )
        .await
        .map_err(db)?;
    Ok(())
}

/// Kept checkpoints: the latest, of one size, or all, smallest first.
pub(crate) async fn checkpoints(
    client: &impl GenericClient,
    key: i64,
    which: Which,
) -> Result<Vec<StoredCheckpoint>, StoreError> {
    let (sql, size) = match which {
        Which::Latest => (
            "SELECT size, note, signed_at FROM log_checkpoints WHERE partner = $1 AND size >= $2
             ORDER BY size DESC LIMIT 1",
            0,
        ),
        Which::At(size) => (
            "SELECT size, note, signed_at FROM log_checkpoints WHERE partner = $1 AND size = $2",
            size as i64,
        ),
        Which::All => (
            "SELECT size, note, signed_at FROM log_checkpoints WHERE partner = $1 AND size >= $2
             ORDER BY size",
            0,
        ),
    };
    let rows = client.query(sql, &[&key, &size]).await.map_err(db)?;
    Ok(rows
        .iter()
        .map(|r| StoredCheckpoint {
            size: r.get::<_, i64>(0) as u64,
            note: r.get(1),
            signed_at: r.get(2),
        })
        .collect())
}

/// Which kept checkpoints [`checkpoints`] reads.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Which {
    Latest,
    At(u64),
    All,
}
