//! The Subscriptions page's projection in SQLite (`actlog_store::subscriptions`): merged in
//! the writer's transaction from the changes of the records it stores, read by the page, and
//! built when the store opens for records stored before the projection existed.

use actlog_domain::OperationDate;
use actlog_domain::subscriptions::state::{
    Changes, CustomerState, CustomerSubscriptions, Stated, SubscriptionState, customer_key,
};
use actlog_store::subscriptions::{CUSTOMER_MERGE, SUBSCRIPTION_COLUMNS, subscription_merge};
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
/// projection: one upsert per customer and per subscription, no read of the records.
pub(crate) fn write(conn: &Connection, key: i64, changes: &Changes) -> rusqlite::Result<()> {
    if changes.is_empty() {
        return Ok(());
    }
    let mut customer = conn.prepare_cached(&format!(
        "INSERT INTO subscription_customers AS c (partner, customer, name, name_at, oldest)
         VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (partner, customer) DO UPDATE SET {CUSTOMER_MERGE}"
    ))?;
    for c in changes.customers.values() {
        customer.execute((
            key,
            &c.key,
            value(&c.name),
            ticks(&c.name),
            c.oldest.ticks(),
        ))?;
    }
    let mut subscription = conn.prepare_cached(&format!(
        "INSERT INTO subscriptions AS s (partner, customer, subscription, {SUBSCRIPTION_COLUMNS})
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)
         ON CONFLICT (partner, customer, subscription) DO UPDATE SET {}",
        subscription_merge()
    ))?;
    for ((customer, _), s) in &changes.subscriptions {
        subscription.execute(rusqlite::params![
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
        ])?;
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

/// Customer `customer_id`'s page from partner `key`'s projection, in one read transaction.
pub(crate) fn read(
    conn: &mut Connection,
    key: i64,
    customer_id: &str,
) -> rusqlite::Result<Option<CustomerSubscriptions>> {
    let tx = conn.transaction()?;
    let customer = customer_key(customer_id);
    let found = tx
        .prepare_cached(
            "SELECT name, name_at, oldest FROM subscription_customers
             WHERE partner = ?1 AND customer = ?2",
        )?
        .query_row((key, &customer), |r| {
            Ok(CustomerState {
                key: customer.clone(),
                name: stated(r, 0)?,
                oldest: OperationDate::from_ticks(r.get(2)?),
            })
        })
        .optional()?;
    let Some(found) = found else {
        return Ok(None);
    };
    let mut select = tx.prepare_cached(&format!(
        "SELECT subscription, {SUBSCRIPTION_COLUMNS} FROM subscriptions
         WHERE partner = ?1 AND customer = ?2"
    ))?;
    let subs = select
        .query_map((key, &customer), |r| {
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
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(Some(CustomerSubscriptions::from_states(found, subs)))
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
