-- The Subscriptions page a page at a time: each subscription's place in the page's order
-- (product_sort: its product name lowercased, as actlog_domain::subscriptions::product_sort
-- gives it, merged with the product; compared as bytes, as the page's order is), an index in
-- that order, and each customer's count of subscriptions. Both are computed in Rust, so every
-- partner's projection is built again from its records when a server next opens the store
-- (subscriptions_pending).
ALTER TABLE subscriptions ADD COLUMN product_sort text COLLATE "C" NOT NULL DEFAULT '';
ALTER TABLE subscription_customers ADD COLUMN subscriptions bigint NOT NULL DEFAULT 0;
CREATE INDEX subscriptions_by_product
    ON subscriptions (partner, customer, product_sort, subscription);
INSERT INTO subscriptions_pending (partner)
    SELECT DISTINCT partner FROM subscription_customers
    ON CONFLICT DO NOTHING;
