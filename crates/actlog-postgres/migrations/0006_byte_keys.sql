-- Record ids and the Subscriptions projection's keys compare as bytes (COLLATE "C"), whatever
-- the database's own collation: an id is an opaque string (as SQLite's BINARY compares it),
-- and a locale's comparison (strcoll, per key, on every insert into these unique indexes) is
-- both slower and dependent on how the server was set up. Nothing orders by these columns.
-- The indexes on them are rebuilt; the tables are not rewritten.
ALTER TABLE record_ids ALTER COLUMN id TYPE text COLLATE "C";
ALTER TABLE subscription_customers ALTER COLUMN customer TYPE text COLLATE "C";
ALTER TABLE subscriptions
    ALTER COLUMN customer TYPE text COLLATE "C",
    ALTER COLUMN subscription TYPE text COLLATE "C";

-- The projection's rows are updated by nearly every batch that speaks of them: room left on
-- each page lets PostgreSQL update them in place (heap-only tuples, no new index entries).
ALTER TABLE subscription_customers SET (fillfactor = 50);
ALTER TABLE subscriptions SET (fillfactor = 50);
