-- Failed sign-ins, by the SHA-256 of what is throttled (an account, a client address), so that
-- every process sharing the database throttles alike.
CREATE TABLE sign_in_failures (
    key_hash BLOB    NOT NULL,
    at       INTEGER NOT NULL  -- OperationDate ticks
) STRICT;

CREATE INDEX sign_in_failures_by_key ON sign_in_failures (key_hash, at);
CREATE INDEX sign_in_failures_by_time ON sign_in_failures (at);
