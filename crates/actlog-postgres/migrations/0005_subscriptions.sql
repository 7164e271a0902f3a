-- The Subscriptions page kept up to date at ingest (actlog_domain::subscriptions::state),
-- written in the transaction that stores the records, under the partner's log lock, so it is
-- never behind or ahead of them. Partner first in every key (Citus: distributed by partner).
-- Dates are ticks (as records.operation_date); each *_at is the date of the newest record
-- that stated the value beside it (NULL: none did).

-- Each customer with records: its key (customer id ASCII-lowercased), name, oldest record.
CREATE TABLE subscription_customers (
    partner  bigint NOT NULL,
    customer text   NOT NULL,
    name     text,
    name_at  bigint,
    oldest   bigint NOT NULL,
    PRIMARY KEY (partner, customer)
);

-- Each subscription its customer's records speak of (key: its id ASCII-lowercased).
CREATE TABLE subscriptions (
    partner      bigint NOT NULL,
    customer     text   NOT NULL,
    subscription text   NOT NULL,
    id           text   NOT NULL,
    product      text,
    product_at   bigint,
    offer_id     text,
    offer_id_at  bigint,
    quantity     text,
    quantity_at  bigint,
    status       text,
    status_at    bigint,
    first_seen   bigint NOT NULL,
    last_change  bigint NOT NULL,
    records      bigint NOT NULL,
    PRIMARY KEY (partner, customer, subscription)
);

-- Partners whose records were stored before this migration: the store builds their
-- projection from those records when it opens (under the partner's lock), then removes them.
CREATE TABLE subscriptions_pending (
    partner bigint PRIMARY KEY
);
INSERT INTO subscriptions_pending (partner) SELECT partner FROM partner_logs;
