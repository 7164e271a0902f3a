//! The Subscriptions page's projection in PostgreSQL (`actlog_store::subscriptions`): merged
//! in the appending transaction, under the partner's log lock, from the changes of the records
//! it stores (one statement, from arrays, pipelined with the `COMMIT`); read by the page in
//! one statement, a page at a time; built when the store opens for records stored before it existed.

use actlog_domain::OperationDate;
use actlog_domain::subscriptions::SubscriptionsAfter;
use actlog_domain::subscriptions::state::{
    Changes, CustomerState, CustomerSubscriptions, Stated, SubscriptionState, customer_key,
};
use actlog_store::StoreError;
use actlog_store::subscriptions::{
    self as store_subscriptions, CUSTOMER_MERGE, PAGE_ORDER, SUBSCRIPTION_COLUMNS,
    subscription_merge,
};
use deadpool_postgres::GenericClient;
use futures::StreamExt;
use tokio_postgres::Row;
use tokio_postgres::types::ToSql;

use crate::error::db;
use crate::log::LOCK;
use crate::rows;

/// Most customer and subscription states a build holds before writing them.
const BUILD_STEP: usize = 65_536;

/// One statement merges a batch's changes: the subscriptions' upsert, and the customers'
/// with each one's count grown by the subscriptions no row existed for. Every part of it
/// reads the snapshot the statement began with, so `fresh` sees the table before `merged`
/// writes (and appends to one partner wait for each other on its log lock).
fn merge_sql() -> String {
    format!(
        "WITH given AS ( \
           SELECT * FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[], \
             $7::text[], $8::bigint[], $9::text[], $10::bigint[], $11::text[], $12::bigint[], \
             $13::bigint[], $14::bigint[], $15::bigint[], $16::text[]) \
           AS g (customer, subscription, {SUBSCRIPTION_COLUMNS})), \
         fresh AS ( \
           SELECT g.customer, count(*) AS n FROM given g \
           WHERE NOT EXISTS (SELECT 1 FROM subscriptions s \
             WHERE s.partner = $1 AND s.customer = g.customer AND s.subscription = g.subscription) \
           GROUP BY g.customer), \
         merged AS ( \
           INSERT INTO subscriptions AS s (partner, customer, subscription, {SUBSCRIPTION_COLUMNS}) \
           SELECT $1, g.* FROM given g \
           ON CONFLICT (partner, customer, subscription) DO UPDATE SET {}) \
         INSERT INTO subscription_customers AS c \
           (partner, customer, name, name_at, oldest, subscriptions) \
         SELECT $1, u.customer, u.name, u.name_at, u.oldest, coalesce(f.n, 0) \
         FROM unnest($17::text[], $18::text[], $19::bigint[], $20::bigint[]) \
           AS u (customer, name, name_at, oldest) \
         LEFT JOIN fresh f ON f.customer = u.customer \
         ON CONFLICT (partner, customer) DO UPDATE SET {CUSTOMER_MERGE}",
        subscription_merge()
    )
}

/// The statement [`write`] runs, prepared beforehand (see `LogWrites::write`).
pub(crate) struct Statements {
    merge: tokio_postgres::Statement,
}

pub(crate) async fn statements(client: &impl GenericClient) -> Result<Statements, StoreError> {
    Ok(Statements {
        merge: client.prepare_cached(&merge_sql()).await.map_err(db)?,
    })
}

fn value(s: &Option<Stated>) -> Option<&str> {
    s.as_ref().map(|s| s.value.as_str())
}

fn ticks(s: &Option<Stated>) -> Option<i64> {
    s.as_ref().map(|s| s.at.ticks())
}

/// Merges `changes` (of records stored after everything merged so far) into partner `key`'s
/// projection, in one statement.
pub(crate) async fn write(
    client: &impl GenericClient,
    statements: &Statements,
    key: i64,
    changes: &Changes,
) -> Result<(), StoreError> {
    if changes.is_empty() {
        return Ok(());
    }
    let c: Vec<&CustomerState> = changes.customers.values().collect();
    let c_keys: Vec<&str> = c.iter().map(|c| c.key.as_str()).collect();
    let c_names: Vec<Option<&str>> = c.iter().map(|c| value(&c.name)).collect();
    let c_name_at: Vec<Option<i64>> = c.iter().map(|c| ticks(&c.name)).collect();
    let c_oldest: Vec<i64> = c.iter().map(|c| c.oldest.ticks()).collect();
    let s: Vec<(&str, &SubscriptionState)> = changes
        .subscriptions
        .iter()
        .map(|((customer, _), s)| (customer.as_str(), s))
        .collect();
    let customer: Vec<&str> = s.iter().map(|(c, _)| *c).collect();
    let sub: Vec<&str> = s.iter().map(|(_, s)| s.key.as_str()).collect();
    let id: Vec<&str> = s.iter().map(|(_, s)| s.id.as_str()).collect();
    let field =
        |f: fn(&SubscriptionState) -> &Option<Stated>| -> (Vec<Option<&str>>, Vec<Option<i64>>) {
            s.iter().map(|(_, s)| (value(f(s)), ticks(f(s)))).unzip()
        };
    let (product, product_at) = field(|s| &s.product);
    let (offer, offer_at) = field(|s| &s.offer_id);
    let (quantity, quantity_at) = field(|s| &s.quantity);
    let (status, status_at) = field(|s| &s.status);
    let first: Vec<i64> = s.iter().map(|(_, s)| s.first_seen.ticks()).collect();
    let last: Vec<i64> = s.iter().map(|(_, s)| s.last_change.ticks()).collect();
    let records: Vec<i64> = s.iter().map(|(_, s)| s.records as i64).collect();
    let product_sort: Vec<String> = s.iter().map(|(_, s)| s.product_sort()).collect();
    let params: [&(dyn ToSql + Sync); 20] = [
        &key,
        &customer,
        &sub,
        &id,
        &product,
        &product_at,
        &offer,
        &offer_at,
        &quantity,
        &quantity_at,
        &status,
        &status_at,
        &first,
        &last,
        &records,
        &product_sort,
        &c_keys,
        &c_names,
        &c_name_at,
        &c_oldest,
    ];
    client
        .execute(&statements.merge, &params)
        .await
        .map_err(db)?;
    Ok(())
}

fn stated(row: &Row, at: usize) -> Option<Stated> {
    let value: Option<String> = row.get(at);
    let ticks: Option<i64> = row.get(at + 1);
    value.zip(ticks).map(|(value, t)| Stated {
        value,
        at: OperationDate::from_ticks(t),
    })
}

/// A page of customer `customer_id`'s subscriptions from partner `key`'s projection, in one
/// statement (one snapshot): `size` of them (and one more, to tell whether more follow) read
/// from the index in the page's order.
pub(crate) async fn read(
    client: &impl GenericClient,
    key: i64,
    customer_id: &str,
    after: Option<&SubscriptionsAfter>,
    size: usize,
) -> Result<Option<CustomerSubscriptions>, StoreError> {
    let customer = customer_key(customer_id);
    let columns = SUBSCRIPTION_COLUMNS
        .split(", ")
        .map(|c| format!("s.{c}"))
        .collect::<Vec<_>>()
        .join(", ");
    let limit = i64::try_from(size.saturating_add(1)).unwrap_or(i64::MAX);
    let where_after = if after.is_some() {
        format!("AND {}", store_subscriptions::after("$4", "$5"))
    } else {
        String::new()
    };
    // The customer's row joined to its page (or to nothing: a customer whose records speak of
    // no subscription, or a page past the last).
    let sql = format!(
        "SELECT c.name, c.name_at, c.oldest, c.subscriptions, s.subscription, {columns}
         FROM subscription_customers c
         LEFT JOIN LATERAL (
           SELECT * FROM subscriptions
           WHERE partner = c.partner AND customer = c.customer {where_after}
           ORDER BY {PAGE_ORDER} LIMIT $3
         ) s ON true
         WHERE c.partner = $1 AND c.customer = $2"
    );
    let stmt = client.prepare_cached(&sql).await.map_err(db)?;
    let rows = match after {
        Some(a) => {
            client
                .query(
                    &stmt,
                    &[&key, &customer, &limit, &a.product, &a.subscription],
                )
                .await
        }
        None => client.query(&stmt, &[&key, &customer, &limit]).await,
    }
    .map_err(db)?;
    let Some(first) = rows.first() else {
        return Ok(None);
    };
    let found = CustomerState {
        key: customer.clone(),
        name: stated(first, 0),
        oldest: OperationDate::from_ticks(first.get(2)),
    };
    let total = first.get::<_, i64>(3) as u64;
    let subs = rows
        .iter()
        .filter_map(|r| {
            let key: Option<String> = r.get(4);
            Some(SubscriptionState {
                key: key?,
                id: r.get(5),
                product: stated(r, 6),
                offer_id: stated(r, 8),
                quantity: stated(r, 10),
                status: stated(r, 12),
                first_seen: OperationDate::from_ticks(r.get(14)),
                last_change: OperationDate::from_ticks(r.get(15)),
                records: r.get::<_, i64>(16) as u64,
            })
        })
        .collect::<Vec<_>>();
    Ok(Some(CustomerSubscriptions::from_states(
        found, total, subs, size,
    )))
}

/// Builds the projection of partners whose records were stored before it existed, from
/// their records in `seq` order, one transaction per partner under its log lock (so appends
/// wait, and a build another server did meanwhile is left alone), holding at most
/// [`BUILD_STEP`] states at a time. How many records it read.
pub(crate) async fn build_missing(
    client: &mut deadpool_postgres::Client,
) -> Result<u64, StoreError> {
    let pending = client
        .query(
            "SELECT s.partner, p.id FROM subscriptions_pending s JOIN partners p ON p.pkey = s.partner",
            &[],
        )
        .await
        .map_err(db)?;
    let mut read = 0;
    for row in pending {
        let (key, partner): (i64, String) = (row.get(0), row.get(1));
        let tx = client.transaction().await.map_err(db)?;
        tx.query_opt(LOCK, &[&key]).await.map_err(db)?;
        let still = tx
            .execute(
                "DELETE FROM subscriptions_pending WHERE partner = $1",
                &[&key],
            )
            .await
            .map_err(db)?;
        if still == 0 {
            continue;
        }
        for table in ["subscription_customers", "subscriptions"] {
            tx.execute(&format!("DELETE FROM {table} WHERE partner = $1"), &[&key])
                .await
                .map_err(db)?;
        }
        let statements = statements(&tx).await?;
        let sql = format!(
            "SELECT {} FROM records r WHERE r.partner = $1 ORDER BY r.seq",
            rows::COLUMNS
        );
        let params: [&(dyn ToSql + Sync); 1] = [&key];
        let stream = tx.query_raw(&sql, params).await.map_err(db)?;
        let mut stream = std::pin::pin!(stream);
        let mut changes = Changes::new();
        while let Some(row) = stream.next().await {
            let (_, record) = rows::read(&row.map_err(db)?, &partner)?;
            changes.add(&record);
            read += 1;
            if changes.len() >= BUILD_STEP {
                write(&tx, &statements, key, &std::mem::take(&mut changes)).await?;
            }
        }
        write(&tx, &statements, key, &changes).await?;
        tx.commit().await.map_err(db)?;
        tracing::info!(
            partner,
            "built the subscriptions of records stored before them"
        );
    }
    Ok(read)
}
