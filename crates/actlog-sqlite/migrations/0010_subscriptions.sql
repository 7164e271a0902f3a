-- The Subscriptions page kept up to date at ingest (actlog_domain::subscriptions::state),
-- written in the transaction that stores the records, so it is never behind or ahead of them.
-- Keys begin with the partner. Dates are ticks (100 ns since 0001-01-01, as records.operation_date);
-- each *_at is the date of the newest record that stated the value beside it (NULL: none did).

-- Each customer with records: its key (customer id ASCII-lowercased), name, oldest record.
CREATE TABLE subscription_customers (
    partner  INTEGER NOT NULL,
    customer TEXT    NOT NULL,
    name     TEXT,
    name_at  INTEGER,
    oldest   INTEGER NOT NULL,
    PRIMARY KEY (partner, customer)
) STRICT, WITHOUT ROWID;

-- Each subscription its customer's records speak of (key: its id ASCII-lowercased).
CREATE TABLE subscriptions (
    partner      INTEGER NOT NULL,
    customer     TEXT    NOT NULL,
    subscription TEXT    NOT NULL,
    id           TEXT    NOT NULL,
    product      TEXT,
    product_at   INTEGER,
    offer_id     TEXT,
    offer_id_at  INTEGER,
    quantity     TEXT,
    quantity_at  INTEGER,
    status       TEXT,
    status_at    INTEGER,
    first_seen   INTEGER NOT NULL,
    last_change  INTEGER NOT NULL,
    records      INTEGER NOT NULL,
    PRIMARY KEY (partner, customer, subscription)
) STRICT, WITHOUT ROWID;

-- Partners whose records were stored before this migration: the store builds their
-- projection from those records when it opens, then removes them from here.
CREATE TABLE subscriptions_pending (
    partner INTEGER PRIMARY KEY
) STRICT;
INSERT INTO subscriptions_pending (partner) SELECT DISTINCT partner FROM records;
