-- Tamper evidence: each partner's Merkle log (docs/tamper-evidence.md).
--
-- A record's log index is its position in its partner's log, given in the transaction that
-- stores it. Rows from before this migration have none until the store builds their log when
-- it opens (their partners' heads are NULL until then).
ALTER TABLE records ADD COLUMN log_index INTEGER;

-- The head of each partner's log: its size and frontier (Frontier::to_bytes; NULL while the
-- records stored before the log existed are still to be logged).
CREATE TABLE partner_logs (
    partner  INTEGER PRIMARY KEY REFERENCES partners (pkey),
    size     INTEGER NOT NULL,
    frontier BLOB
) STRICT;
INSERT INTO partner_logs (partner, size, frontier) SELECT pkey, 0, NULL FROM partners;

-- The complete nodes of every fourth tree level, sixteen hashes to a tile (actlog_tlog::tiles):
-- tile (level, idx) holds the nodes (4·level, 16·idx …), 32 bytes each. Tiles only grow.
CREATE TABLE log_tiles (
    partner INTEGER NOT NULL,
    level   INTEGER NOT NULL,
    idx     INTEGER NOT NULL,
    hashes  BLOB    NOT NULL,
    PRIMARY KEY (partner, level, idx)
) STRICT, WITHOUT ROWID;

-- Signed checkpoints (C2SP signed notes), one per partner and tree size.
CREATE TABLE log_checkpoints (
    partner   INTEGER NOT NULL,
    size      INTEGER NOT NULL,
    note      TEXT    NOT NULL,
    signed_at INTEGER NOT NULL,  -- Unix seconds
    PRIMARY KEY (partner, size)
) STRICT, WITHOUT ROWID;
