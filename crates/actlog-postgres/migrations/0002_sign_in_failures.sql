-- Failed sign-ins, by the SHA-256 of what is throttled (an account, a client address), so that
-- every server sharing the database throttles alike: N servers do not give an attacker N times
-- the attempts. A deployment-wide (reference) table.
CREATE TABLE sign_in_failures (
    key_hash bytea  NOT NULL,
    at       bigint NOT NULL  -- OperationDate ticks
);

CREATE INDEX sign_in_failures_by_key ON sign_in_failures (key_hash, at);
CREATE INDEX sign_in_failures_by_time ON sign_in_failures (at);
