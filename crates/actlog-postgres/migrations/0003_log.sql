-- Tamper evidence: each partner's Merkle log (docs/tamper-evidence.md). A record's log index
-- is its seq - 1: seq is already given in commit order per partner, under the lock of the
-- partner's partner_logs row.

-- The log's frontier (Frontier::to_bytes) beside its size. NULL while the records stored
-- before the log existed are still to be logged (the store does it when it opens).
ALTER TABLE partner_logs ADD COLUMN frontier bytea;
UPDATE partner_logs SET frontier = '\x0000000000000000'::bytea WHERE size = 0;
ALTER TABLE partner_logs ALTER COLUMN frontier SET DEFAULT '\x0000000000000000'::bytea;

-- The complete nodes of every fourth tree level, sixteen hashes to a tile (actlog_tlog::tiles):
-- tile (level, idx) holds the nodes (4·level, 16·idx …), 32 bytes each. Tiles only grow.
-- Partner first, as every key of a partner's data (Citus: distributed by partner).
CREATE TABLE log_tiles (
    partner bigint   NOT NULL,
    level   smallint NOT NULL,
    idx     bigint   NOT NULL,
    hashes  bytea    NOT NULL,
    PRIMARY KEY (partner, level, idx)
);

-- Signed checkpoints (C2SP signed notes), one per partner and tree size.
CREATE TABLE log_checkpoints (
    partner   bigint NOT NULL,
    size      bigint NOT NULL,
    note      text   NOT NULL,
    signed_at bigint NOT NULL,  -- Unix seconds
    PRIMARY KEY (partner, size)
);
