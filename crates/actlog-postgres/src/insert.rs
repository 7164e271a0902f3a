//! Writing accepted records inside the appending transaction: one binary `COPY` into
//! `records` (routed to its partitions by PostgreSQL) — the fastest bulk path PostgreSQL has,
//! with every value sent in its binary form (no text to parse) — and the ids as arrays in one
//! `INSERT`, which, unlike a second `COPY`, can be pipelined with the `COMMIT`.

use std::pin::pin;

use actlog_domain::AuditRecord;
use actlog_domain::folded::Folded;
use actlog_store::StoreError;
use tokio_postgres::Client;
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

/// Writes `records` for partner key `key`, numbered from `after + 1`.
pub(crate) async fn records(
    client: &Client,
    key: i64,
    after: i64,
    records: &[&Prepared],
) -> Result<(), StoreError> {
    let mut types = vec![Type::INT8; 3];
    types.extend(std::iter::repeat_n(Type::TEXT, 18));
    let sink = client
        .copy_in(&format!(
            "COPY records ({RECORD_COLUMNS}) FROM STDIN (FORMAT binary)"
        ))
        .await
        .map_err(db)?;
    let mut writer = pin!(BinaryCopyInWriter::new(sink, &types));
    for (i, p) in records.iter().enumerate() {
        let (r, folded) = (&p.record, &p.folded);
        let seq = after + 1 + i as i64;
        let date = r.operation_date.ticks();
        let row: [&(dyn ToSql + Sync); 21] = [
            &key,
            &seq,
            &date,
            &r.id,
            &r.customer_id,
            &r.customer_name,
            &r.user_principal_name,
            &r.application_id,
            &r.resource_type,
            &r.operation_type,
            &r.operation_status,
            &r.resource_old_value,
            &r.resource_new_value,
            &p.customized,
            &r.session_id,
            &r.original_correlation_id,
            &folded.customer_name,
            &folded.user_principal_name,
            &folded.application_id,
            &folded.text,
            &p.extensions,
        ];
        writer.as_mut().write(&row).await.map_err(db)?;
    }
    writer.finish().await.map_err(db)?;
    Ok(())
}
