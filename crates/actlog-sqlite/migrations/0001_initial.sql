-- actlog's first schema: partners, their audit records, API keys and deployment secrets.
-- Released migrations are never edited: the store refuses a database whose applied migrations
-- differ from these files. Change the schema with a new file (0002_….sql).

-- Partners are referred to by a small integer key, so that every record and index entry holds
-- 8 bytes instead of the partner's id string.
CREATE TABLE partners (
    pkey       INTEGER PRIMARY KEY,
    id         TEXT    NOT NULL UNIQUE,
    created_at INTEGER NOT NULL  -- Unix seconds
) STRICT;

-- One row per AuditRecord. `seq` is the insertion order: it breaks operationDate ties and is a
-- walk's snapshot. Columns are named as actlog_store::sql::column() says.
CREATE TABLE records (
    seq                     INTEGER PRIMARY KEY,
    partner                 INTEGER NOT NULL REFERENCES partners (pkey),
    id                      TEXT    NOT NULL,
    operation_date          INTEGER NOT NULL,  -- OperationDate ticks: 100 ns since 1970
    customer_id             TEXT,
    customer_name           TEXT,
    user_principal_name     TEXT,
    application_id          TEXT,
    resource_type           TEXT,
    operation_type          TEXT    NOT NULL,
    operation_status        TEXT,
    resource_old_value      TEXT,
    resource_new_value      TEXT,
    customized_data         TEXT,  -- AuditRecord::customized_data_json()
    session_id              TEXT,
    original_correlation_id TEXT,
    UNIQUE (partner, id)
) STRICT;

-- The default view (a partner's period, newest first) and the two indexed filters. Built-in
-- functions only, so that any sqlite3 can write to this schema.
CREATE INDEX records_by_date ON records (partner, operation_date, seq);
CREATE INDEX records_by_customer ON records (partner, lower(customer_id), operation_date, seq);
CREATE INDEX records_by_operation ON records (partner, lower(operation_type), operation_date, seq);

-- API keys are stored by the SHA-256 of their secret, never the secret itself.
CREATE TABLE api_keys (
    id          TEXT    PRIMARY KEY,
    partner     INTEGER NOT NULL REFERENCES partners (pkey),
    secret_hash BLOB    NOT NULL UNIQUE,
    can_read    INTEGER NOT NULL,
    can_write   INTEGER NOT NULL,
    label       TEXT    NOT NULL,
    created_at  INTEGER NOT NULL  -- Unix seconds
) STRICT;

-- Deployment secrets (e.g. the continuation-token key): the first value stored wins.
CREATE TABLE secrets (
    name  TEXT PRIMARY KEY,
    value BLOB NOT NULL
) STRICT;
