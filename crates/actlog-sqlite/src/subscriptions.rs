//! The Subscriptions page's projection in SQLite (`actlog_store::subscriptions`): merged in
//! the writer's transaction from the changes of the records it stores, read by the page, and
//! built when the store opens for records stored before the projection existed.

use std::collections::HashMap;

use actlog_domain::OperationDate;
use actlog_domain::subscriptions::SubscriptionsAfter;
use actlog_domain::subscriptions::state::{
    Changes, CustomerState, CustomerSubscriptions, Stated, SubscriptionState, customer_key,
};
use actlog_store::subscriptions::{
    self as store_subscriptions, CUSTOMER_MERGE, PAGE_ORDER, SUBSCRIPTION_COLUMNS,
    subscription_merge,
};
use rusqlite::{Connection, OptionalExtension, Row};

use crate::rows;

/// Most customer and subscription states a build holds before writing them.
const BUILD_STEP: usize = 65_536;

fn ticks(s: &Option<Stated>) -> Option<i64> {
    s.as_ref().map(|s| s.at.ticks())
}

fn value(s: &Option<Stated>) -> Option<&str> {
    s.as_ref().map(|s| s.value.as_str())
}

/// Merges `changes` (of records stored after everything merged so far) into partner `key`'s
/// projection: one upsert per subscription and per customer, no read of the records. Each
/// customer's count grows by the subscriptions this is the first to speak of: an upsert that
/// inserts returns the `records` it was given, one that merges returns more (every state
/// speaks of its subscription at least once).
pub(crate) fn write(conn: &Connection, key: i64, changes: &Changes) -> rusqlite::Result<()> {
    if changes.is_empty() {
        return Ok(());
    }
    let mut subscription = conn.prepare_cached(&format!(
        "INSERT INTO subscriptions AS s (partner, customer, subscription, {SUBSCRIPTION_COLUMNS})
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)
         ON CONFLICT (partner, customer, subscription) DO UPDATE SET {}
         RETURNING records",
        subscription_merge()
    ))?;
    let mut fresh: HashMap<&str, i64> = HashMap::new();
    for ((customer, _), s) in &changes.subscriptions {
        let records: i64 = subscription.query_row(
            rusqlite::params![
                key,
                customer,
                &s.key,
                &s.id,
                value(&s.product),
                ticks(&s.product),
                value(&s.offer_id),
                ticks(&s.offer_id),
                value(&s.quantity),
                ticks(&s.quantity),
                value(&s.status),
                ticks(&s.status),
                s.first_seen.ticks(),
                s.last_change.ticks(),
                s.records as i64,
                s.product_sort(),
            ],
            |r| r.get(0),
        )?;
        if records == s.records as i64 {
            *fresh.entry(customer.as_str()).or_default() += 1;
        }
    }
    let mut customer = conn.prepare_cached(&format!(
        "INSERT INTO subscription_customers AS c
           (partner, customer, name, name_at, oldest, subscriptions)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (partner, customer) DO UPDATE SET {CUSTOMER_MERGE}"
    ))?;
    for c in changes.customers.values() {
        customer.execute((
            key,
            &c.key,
            value(&c.name),
            ticks(&c.name),
            c.oldest.ticks(),
            fresh.get(c.key.as_str()).copied().unwrap_or(0),
        ))?;
    }
    Ok(())
}

fn stated(row: &Row<'_>, at: usize) -> rusqlite::Result<Option<Stated>> {
    let value: Option<String> = row.get(at)?;
    let ticks: Option<i64> = row.get(at + 1)?;
    Ok(value.zip(ticks).map(|(value, t)| Stated {
        value,
        at: OperationDate::from_ticks(t),
    }))
}

/// A page of customer `customer_id`'s subscriptions from partner `key`'s projection, in one
/// read transaction: `size` of them (and one more, to tell whether more follow) read from the
/// index in the page's order.
pub(crate) fn read(
    conn: &mut Connection,
    key: i64,
    customer_id: &str,
    after: Option<&SubscriptionsAfter>,
    size: usize,
) -> rusqlite::Result<Option<CustomerSubscriptions>> {
    let tx = conn.transaction()?;
    let customer = customer_key(customer_id);
    let found = tx
        .prepare_cached(
            "SELECT name, name_at, oldest, subscriptions FROM subscription_customers
             WHERE partner = ?1 AND customer = ?2",
        )?
        .query_row((key, &customer), |r| {
            let state = CustomerState {
                key: customer.clone(),
                name: stated(r, 0)?,
                oldest: OperationDate::from_ticks(r.get(2)?),
            };
            Ok((state, r.get::<_, i64>(3)?))
        })
        .optional()?;
    let Some((found, total)) = found else {
        return Ok(None);
    };
    let limit = i64::try_from(size.saturating_add(1)).unwrap_or(i64::MAX);
    let where_after = if after.is_some() {
        format!("AND {}", store_subscriptions::after("?4", "?5"))
    } else {
        String::new()
    };
    let mut select = tx.prepare_cached(&format!(
        "SELECT subscription, {SUBSCRIPTION_COLUMNS} FROM subscriptions INDEXED BY subscriptions_by_product
         WHERE partner = ?1 AND customer = ?2 {where_after}
         ORDER BY {PAGE_ORDER} LIMIT ?3"
    ))?;
    let row = |r: &Row<'_>| {
        Ok(SubscriptionState {
            key: r.get(0)?,
            id: r.get(1)?,
            product: stated(r, 2)?,
            offer_id: stated(r, 4)?,
            quantity: stated(r, 6)?,
            status: stated(r, 8)?,
            first_seen: OperationDate::from_ticks(r.get(10)?),
            last_change: OperationDate::from_ticks(r.get(11)?),
            records: r.get::<_, i64>(12)? as u64,
        })
    };
    let subs = match after {
        Some(a) => select.query_map(
            rusqlite::params![key, &customer, limit, &a.product, &a.subscription],
            row,
        )?,
        None => select.query_map(rusqlite::params![key, &customer, limit], row)?,
    }
    .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(Some(CustomerSubscriptions::from_states(
        found,
        total as u64,
        subs,
        size,
    )))
}

/// Builds the projection of partners whose records were stored before it existed, from their
/// records in the order they were stored, one transaction per partner, holding at most
/// [`BUILD_STEP`] states at a time. How many records it read.
pub(crate) fn build_missing(conn: &mut Connection) -> rusqlite::Result<u64> {
    let pending: Vec<(i64, String)> = conn
        .prepare(
            "SELECT s.partner, p.id FROM subscriptions_pending s JOIN partners p ON p.pkey = s.partner",
        )?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    let mut read = 0;
    for (key, partner) in pending {
        let tx = conn.transaction()?;
        tx.execute(
            "DELETE FROM subscription_customers WHERE partner = ?1",
            [key],
        )?;
        tx.execute("DELETE FROM subscriptions WHERE partner = ?1", [key])?;
        {
            let sql = format!(
                "SELECT {} FROM records WHERE partner = ?1 ORDER BY seq",
                rows::COLUMNS
            );
            let mut select = tx.prepare(&sql)?;
            let mut found = select.query([key])?;
            let mut changes = Changes::new();
            while let Some(row) = found.next()? {
                let (_, record) = rows::read(row, &partner)?;
                changes.add(&record);
                read += 1;
                if changes.len() >= BUILD_STEP {
                    write(&tx, key, &std::mem::take(&mut changes))?;
                }
            }
            write(&tx, key, &changes)?;
        }
        tx.execute(
            "DELETE FROM subscriptions_pending WHERE partner = ?1",
            [key],
        )?;
        tx.commit()?;
        tracing::info!(
            partner,
            "built the subscriptions of records stored before them"
        );
    }
    Ok(read)
}
