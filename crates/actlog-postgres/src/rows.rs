//! Records to rows and back. Row shapes stay private to this crate.

use actlog_domain::extensions::Extensions;
use actlog_domain::{AuditRecord, OperationDate};
use actlog_store::StoreError;
use tokio_postgres::Row;

/// The columns [`read`] expects, in its order (`r.` is the records table). `seq` first: it is
/// a walk's position.
pub(crate) const COLUMNS: &str = "r.seq, r.id, r.operation_date, r.customer_id, r.customer_name, \
    r.user_principal_name, r.application_id, r.resource_type, r.operation_type, \
    r.operation_status, r.resource_old_value, r.resource_new_value, r.customized_data, \
    r.session_id, r.original_correlation_id, r.extensions";

/// A row selected with [`COLUMNS`]: its `seq` and its record, which belongs to `partner`.
pub(crate) fn read(row: &Row, partner: &str) -> Result<(i64, AuditRecord), StoreError> {
    let customized: Option<&str> = row.get(12);
    let customized_data = customized
        .map(serde_json::from_str)
        .transpose()
        .map_err(|e| StoreError::Database(format!("a stored customizedData is damaged: {e}")))?;
    let extensions = row
        .get::<_, Option<&str>>(15)
        .map(Extensions::from_stored)
        .transpose()
        .map_err(|e| StoreError::Database(format!("stored extensions are damaged: {e}")))?
        .unwrap_or_default();
    let record = AuditRecord {
        id: row.get(1),
        partner_id: partner.to_owned(),
        operation_date: OperationDate::from_ticks(row.get(2)),
        customer_id: row.get(3),
        customer_name: row.get(4),
        user_principal_name: row.get(5),
        application_id: row.get(6),
        resource_type: row.get(7),
        operation_type: row.get(8),
        operation_status: row.get(9),
        resource_old_value: row.get(10),
        resource_new_value: row.get(11),
        customized_data,
        session_id: row.get(13),
        original_correlation_id: row.get(14),
        attributes: Default::default(),
        extensions,
    };
    Ok((row.get(0), record))
}
