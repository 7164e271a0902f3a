//! The Subscriptions page's projection in PostgreSQL (`actlog_store::subscriptions`): merged
//! in the appending transaction, under the partner's log lock, from the changes of the records
//! it stores (one upsert per table, from arrays, pipelined with the `COMMIT`); read by the
//! page in one statement; built when the store opens for records stored before it existed.

use actlog_domain::OperationDate;
use actlog_domain::subscriptions::state::{
    Changes, CustomerState, CustomerSubscriptions, Stated, SubscriptionState, customer_key,
};
use actlog_store::StoreError;
use actlog_store::subscriptions::{CUSTOMER_MERGE, SUBSCRIPTION_COLUMNS, subscription_merge};
use deadpool_postgres::GenericClient;
use futures::StreamExt;
use tokio_postgres::Row;
use tokio_postgres::types::ToSql;

use crate::error::db;
use crate::log::LOCK;
use crate::rows;

/// Most customer and subscription states a build holds before writing them.
const BUILD_STEP: usize = 65_536;

fn customers_sql() -> String {
    format!(
        "INSERT INTO subscription_customers AS c (partner, customer, name, name_at, oldest) \
         SELECT $1, * FROM unnest($2::text[], $3::text[], $4::bigint[], $5::bigint[]) \
         ON CONFLICT (partner, customer) DO UPDATE SET {CUSTOMER_MERGE}"
    )
}

fn subscriptions_sql() -> String {
    format!(
        "INSERT INTO subscriptions AS s (partner, customer, subscription, {SUBSCRIPTION_COLUMNS}) \
         SELECT $1, * FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[], \
           $7::text[], $8::bigint[], $9::text[], $10::bigint[], $11::text[], $12::bigint[], \
           $13::bigint[], $14::bigint[], $15::bigint[]) \
         ON CONFLICT (partner, customer, subscription) DO UPDATE SET {}",
        subscription_merge()
    )
}

/// The statements [`Writes::write`] runs, prepared beforehand (see `LogWrites::write`).
pub(crate) struct Statements {
    customers: tokio_postgres::Statement,
    subscriptions: tokio_postgres::Statement,
}

pub(crate) async fn statements(client: &impl GenericClient) -> Result<Statements, StoreError> {
    Ok(Statements {
        customers: client.prepare_cached(&customers_sql()).await.map_err(db)?,
        subscriptions: client
            .prepare_cached(&subscriptions_sql())
            .await
            .map_err(db)?,
    })
}

fn value(s: &Option<Stated>) -> Option<&str> {
    s.as_ref().map(|s| s.value.as_str())
}

fn ticks(s: &Option<Stated>) -> Option<i64> {
    s.as_ref().map(|s| s.at.ticks())
}

/// Merges `changes` (of records stored after everything merged so far) into partner `key`'s
/// projection, with nothing awaited before both statements are sent.
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
    let customer_params: [&(dyn ToSql + Sync); 5] =
        [&key, &c_keys, &c_names, &c_name_at, &c_oldest];
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
    let sub_params: [&(dyn ToSql + Sync); 15] = [
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
    ];
    futures::try_join!(
        client.execute(&statements.customers, &customer_params),
        client.execute(&statements.subscriptions, &sub_params),
    )
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

/// Customer `customer_id`'s page from partner `key`'s projection, in one statement (one
/// snapshot).
pub(crate) async fn read(
    client: &impl GenericClient,
    key: i64,
    customer_id: &str,
) -> Result<Option<CustomerSubscriptions>, StoreError> {
    let customer = customer_key(customer_id);
    let columns = SUBSCRIPTION_COLUMNS
        .split(", ")
        .map(|c| format!("s.{c}"))
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!(
        "SELECT c.name, c.name_at, c.oldest, s.subscription, {columns}
         FROM subscription_customers c
         LEFT JOIN subscriptions s ON s.partner = c.partner AND s.customer = c.customer
         WHERE c.partner = $1 AND c.customer = $2"
    );
    let stmt = client.prepare_cached(&sql).await.map_err(db)?;
    let rows = client.query(&stmt, &[&key, &customer]).await.map_err(db)?;
    let Some(first) = rows.first() else {
        return Ok(None);
    };
    let found = CustomerState {
        key: customer.clone(),
        name: stated(first, 0),
        oldest: OperationDate::from_ticks(first.get(2)),
    };
    let subs = rows
        .iter()
        .filter_map(|r| {
            let key: Option<String> = r.get(3);
            Some(SubscriptionState {
                key: key?,
                id: r.get(4),
                product: stated(r, 5),
                offer_id: stated(r, 7),
                quantity: stated(r, 9),
                status: stated(r, 11),
                first_seen: OperationDate::from_ticks(r.get(13)),
                last_change: OperationDate::from_ticks(r.get(14)),
                records: r.get::<_, i64>(15) as u64,
            })
        })
        .collect::<Vec<_>>();
    Ok(Some(CustomerSubscriptions::from_states(found, subs)))
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
