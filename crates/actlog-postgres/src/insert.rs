//! Writing accepted records: one binary `COPY` into `records` (routed to its partitions by
//! PostgreSQL) and one into `record_ids`, inside the appending transaction — the fastest bulk
//! path PostgreSQL has, with every value sent in its binary form (no text to parse).

use std::pin::pin;

use actlog_domain::AuditRecord;
use actlog_domain::folded::Folded;
use actlog_store::StoreError;
use deadpool_postgres::Transaction;
use tokio_postgres::binary_copy::BinaryCopyInWriter;
use tokio_postgres::types::{ToSql, Type};

use crate::error::db;

/// The columns of `records` the copy fills, in its order.
const RECORD_COLUMNS: &str = "partner, seq, operation_date, id, customer_id, customer_name, \
    user_principal_name, application_id, resource_type, operation_type, operation_status, \
    resource_old_value, resource_new_value, customized_data, session_id, \
    original_correlation_id, customer_name_fold, user_principal_name_fold, application_id_fold, \
    search_text, extensions";

/// Writes `records` for partner key `key`, numbered from `after + 1`.
pub(crate) async fn records(
    tx: &Transaction<'_>,
    key: i64,
    after: i64,
    records: &[&AuditRecord],
) -> Result<(), StoreError> {
    let mut types = vec![Type::INT8; 3];
    types.extend(std::iter::repeat_n(Type::TEXT, 18));
    let sink = tx
        .copy_in(&format!(
            "COPY records ({RECORD_COLUMNS}) FROM STDIN (FORMAT binary)"
        ))
        .await
        .map_err(db)?;
    let mut writer = pin!(BinaryCopyInWriter::new(sink, &types));
    for (i, r) in records.iter().enumerate() {
        let seq = after + 1 + i as i64;
        let date = r.operation_date.ticks();
        let folded = Folded::of(r);
        let customized = r.customized_data_json();
        let extensions = r.extensions.to_stored();
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
            &customized,
            &r.session_id,
            &r.original_correlation_id,
            &folded.customer_name,
            &folded.user_principal_name,
            &folded.application_id,
            &folded.text,
            &extensions,
        ];
        writer.as_mut().write(&row).await.map_err(db)?;
    }
    writer.finish().await.map_err(db)?;

    let sink = tx
        .copy_in("COPY record_ids (partner, id, operation_date, seq) FROM STDIN (FORMAT binary)")
        .await
        .map_err(db)?;
    let types = [Type::INT8, Type::TEXT, Type::INT8, Type::INT8];
    let mut writer = pin!(BinaryCopyInWriter::new(sink, &types));
    for (i, r) in records.iter().enumerate() {
        let seq = after + 1 + i as i64;
        let date = r.operation_date.ticks();
        let row: [&(dyn ToSql + Sync); 4] = [&key, &r.id, &date, &seq];
        writer.as_mut().write(&row).await.map_err(db)?;
    }
    writer.finish().await.map_err(db)?;
    Ok(())
}
