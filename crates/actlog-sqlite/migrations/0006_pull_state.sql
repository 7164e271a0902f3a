-- How far `actlog pull` has mirrored another audit-records API (e.g. Partner Center's), per
-- partner and source: every record dated before `through` was fetched.
CREATE TABLE pull_state (
    partner    INTEGER NOT NULL REFERENCES partners (pkey),
    source     TEXT    NOT NULL,
    through    INTEGER NOT NULL,  -- OperationDate ticks
    updated_at INTEGER NOT NULL,  -- Unix seconds
    PRIMARY KEY (partner, source)
) STRICT;
