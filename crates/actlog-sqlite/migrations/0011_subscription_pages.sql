-- The Subscriptions page a page at a time: each subscription's place in the page's order
-- (product_sort: its product name lowercased, as actlog_domain::subscriptions::product_sort
-- gives it, merged with the product), an index in that order, and each customer's count of
-- subscriptions. Both are computed in Rust, so every partner's projection is built again
-- from its records when the store next opens (subscriptions_pending).
ALTER TABLE subscriptions ADD COLUMN product_sort TEXT NOT NULL DEFAULT '';
ALTER TABLE subscription_customers ADD COLUMN subscriptions INTEGER NOT NULL DEFAULT 0;
CREATE INDEX subscriptions_by_product
    ON subscriptions (partner, customer, product_sort, subscription);
INSERT OR IGNORE INTO subscriptions_pending (partner)
    SELECT DISTINCT partner FROM subscription_customers;
