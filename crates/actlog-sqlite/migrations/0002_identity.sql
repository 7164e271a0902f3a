-- Partner users, their roles and their browser sessions.

-- A user signs in with an email unique in the deployment (stored lowercase).
CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    partner       INTEGER NOT NULL REFERENCES partners (pkey),
    email         TEXT    NOT NULL UNIQUE,
    password_hash TEXT    NOT NULL,  -- Argon2id, PHC string
    roles         TEXT    NOT NULL,  -- role codes, comma-separated (e.g. "admin_agent,sales_agent")
    disabled      INTEGER NOT NULL DEFAULT 0,
    lang          TEXT,              -- chosen language tag, NULL = follow the browser
    time_zone     TEXT,              -- chosen IANA zone, NULL = follow the browser
    created_at    INTEGER NOT NULL   -- Unix seconds
) STRICT;

CREATE INDEX users_by_partner ON users (partner, email);

-- Sessions are stored by the SHA-256 of their id, never the id itself.
CREATE TABLE sessions (
    id_hash    BLOB    PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    csrf_token TEXT    NOT NULL,
    created_at INTEGER NOT NULL,  -- OperationDate ticks
    last_seen  INTEGER NOT NULL   -- OperationDate ticks
) STRICT, WITHOUT ROWID;

CREATE INDEX sessions_by_user ON sessions (user_id);
