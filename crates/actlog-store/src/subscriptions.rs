//! The Subscriptions page's projection in SQL, shared by the SQL backends: two tables kept in
//! the transaction that stores the records (`subscription_customers`, `subscriptions`, keyed
//! by partner first), and the upserts that merge a batch's
//! [`actlog_domain::subscriptions::state::Changes`] into them.
//!
//! `subscription_customers.subscriptions` counts each customer's rows of `subscriptions`: a
//! batch adds the subscriptions it is the first to speak of. A page is read in the page's
//! order from an index (`subscriptions_by_product`), a page at a time.
//!
//! The merge rule is the domain's ([`SubscriptionState::absorb`]): a value replaces the kept
//! one when it was stated at a date not older than the kept one's. The SQL only compares the
//! dates the domain stamped; a `NULL` stamp (nothing stated) never wins.
//!
//! [`SubscriptionState::absorb`]: actlog_domain::subscriptions::state::SubscriptionState::absorb

/// `SET` of the customers' upsert (the table is `c`, the new row `excluded`).
pub const CUSTOMER_MERGE: &str = "name = CASE WHEN excluded.name_at >= coalesce(c.name_at, excluded.name_at) THEN excluded.name ELSE c.name END, \
     name_at = CASE WHEN excluded.name_at >= coalesce(c.name_at, excluded.name_at) THEN excluded.name_at ELSE c.name_at END, \
     oldest = CASE WHEN excluded.oldest < c.oldest THEN excluded.oldest ELSE c.oldest END, \
     subscriptions = c.subscriptions + excluded.subscriptions";

/// The stamped fields of `subscriptions`.
const STATED: [&str; 4] = ["product", "offer_id", "quantity", "status"];

/// `SET` of the subscriptions' upsert (the table is `s`, the new row `excluded`).
pub fn subscription_merge() -> String {
    let mut set = vec![
        "id = CASE WHEN excluded.last_change >= s.last_change THEN excluded.id ELSE s.id END"
            .to_owned(),
    ];
    for field in STATED {
        let wins = format!("excluded.{field}_at >= coalesce(s.{field}_at, excluded.{field}_at)");
        set.push(format!(
            "{field} = CASE WHEN {wins} THEN excluded.{field} ELSE s.{field} END"
        ));
        set.push(format!(
            "{field}_at = CASE WHEN {wins} THEN excluded.{field}_at ELSE s.{field}_at END"
        ));
        if field == "product" {
            // The page's order follows the product kept.
            set.push(format!(
                "product_sort = CASE WHEN {wins} THEN excluded.product_sort ELSE s.product_sort END"
            ));
        }
    }
    set.push(
        "first_seen = CASE WHEN excluded.first_seen < s.first_seen THEN excluded.first_seen ELSE s.first_seen END"
            .to_owned(),
    );
    set.push(
        "last_change = CASE WHEN excluded.last_change > s.last_change THEN excluded.last_change ELSE s.last_change END"
            .to_owned(),
    );
    set.push("records = s.records + excluded.records".to_owned());
    set.join(", ")
}

/// The columns of `subscriptions` after the key (partner, customer, subscription), in the
/// order the backends bind them and read them. `product_sort` (the page's order: the domain's
/// `product_sort` of `product`, merged with it) comes last.
pub const SUBSCRIPTION_COLUMNS: &str = "id, product, product_at, offer_id, offer_id_at, \
    quantity, quantity_at, status, status_at, first_seen, last_change, records, product_sort";

/// The page's order, as an index of both backends keeps it (`subscriptions_by_product`).
pub const PAGE_ORDER: &str = "product_sort, subscription";

/// The condition of a page that follows `(product_sort, subscription)` = (`$a`, `$b`).
pub fn after(a: &str, b: &str) -> String {
    format!("(product_sort, subscription) > ({a}, {b})")
}
