//! Writing accepted records inside the appending transaction: one binary `COPY` into
//! `records` (routed to its partitions by PostgreSQL) — the fastest bulk path PostgreSQL has,
//! with every value sent in its binary form (no text to parse) — and the ids as arrays in one
//! `INSERT`, which, unlike a second `COPY`, can be pipelined with the `COMMIT`.

use std::pin::pin;

use actlog_domain::AuditRecord;
use actlog_domain::folded::Folded;
use actlog_store::StoreError;
use deadpool_postgres::ClientWrapper as Client;
use tokio_postgres::binary_copy::BinaryCopyInWriter;
use tokio_postgres::types::{ToSql, Type};

use crate::error::db;

/// The columns of `records` the copy fills, in its order.
const RECORD_COLUMNS: &str = "partner, seq, operation_date, id, customer_id, customer_name, \
    user_principal_name, application_id, resource_type, operation_type, operation_status, \
    resource_old_value, resource_new_value, customized_data, session_id, \
    original_correlation_id, customer_name_fold, user_principal_name_fold, application_id_fold, \
    search_text, extensions";

/// A record to store with its stored forms, made before the writer takes it.
pub(crate) struct Prepared {
    pub(crate) record: AuditRecord,
    /// The record's leaf in its partner's log.
    pub(crate) leaf: actlog_tlog::merkle::Hash,
    /// What it changes in the Subscriptions page's projection.
    pub(crate) changes: actlog_domain::subscriptions::state::Changes,
    folded: Folded,
    customized: Option<String>,
    extensions: Option<String>,
}

impl Prepared {
    pub(crate) fn new(partner: &str, record: AuditRecord) -> Prepared {
        Prepared {
            leaf: actlog_store::log::leaf_of(partner, &record),
            changes: actlog_domain::subscriptions::state::Changes::of(&record),
            folded: Folded::of(&record),
            customized: record.customized_data_json(),
            extensions: record.extensions.to_stored(),
            record,
        }
    }
}

/// Inserts a partner's (`$1`) ids, with where their records are.
pub(crate) const IDS: &str = "INSERT INTO record_ids (partner, id, operation_date, seq) \
    SELECT $1, * FROM unnest($2::text[], $3::bigint[], $4::bigint[])";

/// The id, date and seq columns of [`IDS`] for `records` numbered from `after + 1`.
pub(crate) fn id_columns<'a>(
    after: i64,
    records: &[&'a Prepared],
) -> (Vec<&'a str>, Vec<i64>, Vec<i64>) {
    let ids = records.iter().map(|p| p.record.id.as_str()).collect();
    let dates = records
        .iter()
        .map(|p| p.record.operation_date.ticks())
        .collect();
    let seqs = (1..=records.len() as i64).map(|i| after + i).collect();
    (ids, dates, seqs)
}

/// The text columns of [`RECORD_COLUMNS`] (all after `operation_date`) of a record, in order.
const TEXT_COLUMNS: usize = 18;

impl Prepared {
    fn texts(&self) -> [Option<&str>; TEXT_COLUMNS] {
        let (r, f) = (&self.record, &self.folded);
        [
            Some(r.id.as_str()),
            r.customer_id.as_deref(),
            r.customer_name.as_deref(),
            r.user_principal_name.as_deref(),
            r.application_id.as_deref(),
            r.resource_type.as_deref(),
            Some(r.operation_type.as_str()),
            r.operation_status.as_deref(),
            r.resource_old_value.as_deref(),
            r.resource_new_value.as_deref(),
            self.customized.as_deref(),
            r.session_id.as_deref(),
            r.original_correlation_id.as_deref(),
            f.customer_name.as_deref(),
            f.user_principal_name.as_deref(),
            f.application_id.as_deref(),
            Some(f.text.as_str()),
            self.extensions.as_deref(),
        ]
    }
}

/// Writes `records` for partner key `key`, numbered from `after + 1`, with one binary `COPY`
/// (its statement prepared once per connection).
pub(crate) async fn records(
    client: &Client,
    key: i64,
    after: i64,
    records: &[&Prepared],
) -> Result<(), StoreError> {
    let mut types = vec![Type::INT8; 3];
    types.extend(std::iter::repeat_n(Type::TEXT, TEXT_COLUMNS));
    let copy = client
        .prepare_cached(&format!(
            "COPY records ({RECORD_COLUMNS}) FROM STDIN (FORMAT binary)"
        ))
        .await
        .map_err(db)?;
    let sink = client.copy_in(&copy).await.map_err(db)?;
    let mut writer = pin!(BinaryCopyInWriter::new(sink, &types));
    for (i, p) in records.iter().enumerate() {
        let seq = after + 1 + i as i64;
        let date = p.record.operation_date.ticks();
        let texts = p.texts();
        let mut row: Vec<&(dyn ToSql + Sync)> = Vec::with_capacity(3 + TEXT_COLUMNS);
        row.extend([&key as &(dyn ToSql + Sync), &seq, &date]);
        row.extend(texts.iter().map(|t| t as &(dyn ToSql + Sync)));
        writer.as_mut().write(&row).await.map_err(db)?;
    }
    writer.finish().await.map_err(db)?;
    Ok(())
}

/// Inserts a partner's (`$1`) records numbered after `$2`, from one array per column: a plain
/// statement, which unlike a `COPY` can be pipelined after statements that may fail.
pub(crate) fn insert_rows_sql() -> String {
    let texts: Vec<String> = (0..TEXT_COLUMNS).map(|i| format!("t{i}")).collect();
    let arrays: Vec<String> = (0..TEXT_COLUMNS)
        .map(|i| format!("${}::text[]", i + 4))
        .collect();
    format!(
        "INSERT INTO records ({RECORD_COLUMNS}) SELECT $1, $2 + u.n, u.d, {} \
         FROM unnest($3::bigint[], {}) WITH ORDINALITY AS u (d, {}, n)",
        texts.join(", "),
        arrays.join(", "),
        texts.join(", ")
    )
}

/// Writes `records` as [`records`] does, with `statement` (of [`insert_rows_sql`], prepared
/// beforehand so that nothing is awaited before it is sent).
pub(crate) async fn rows(
    client: &Client,
    statement: &tokio_postgres::Statement,
    key: i64,
    after: i64,
    records: &[&Prepared],
) -> Result<(), StoreError> {
    let dates: Vec<i64> = records
        .iter()
        .map(|p| p.record.operation_date.ticks())
        .collect();
    let mut columns: Vec<Vec<Option<&str>>> = (0..TEXT_COLUMNS)
        .map(|_| Vec::with_capacity(records.len()))
        .collect();
    for p in records {
        for (column, value) in columns.iter_mut().zip(p.texts()) {
            column.push(value);
        }
    }
    let mut params: Vec<&(dyn ToSql + Sync)> = vec![&key, &after, &dates];
    params.extend(columns.iter().map(|c| c as &(dyn ToSql + Sync)));
    client.execute(statement, &params).await.map_err(db)?;
    Ok(())
}
