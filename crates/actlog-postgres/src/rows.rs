//! Records to rows and back. Row shapes stay private to this crate.

use actlog_domain::extensions::Extensions;
use actlog_domain::{AuditRecord, OperationDate};
use actlog_store::StoreError;
use actlog_store::refill::{set, set_customized, set_optional};
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

/// Overwrites `record` with the row, as [`read`] would read it, reusing the memory `record`
/// already holds: a scan refills the same records row after row.
pub(crate) fn read_into(
    row: &Row,
    partner: &str,
    record: &mut AuditRecord,
) -> Result<(), StoreError> {
    let text = |i: usize| -> Option<&str> { row.get(i) };
    set(&mut record.id, row.get(1));
    set(&mut record.partner_id, partner);
    record.operation_date = OperationDate::from_ticks(row.get(2));
    set_optional(&mut record.customer_id, text(3));
    set_optional(&mut record.customer_name, text(4));
    set_optional(&mut record.user_principal_name, text(5));
    set_optional(&mut record.application_id, text(6));
    set_optional(&mut record.resource_type, text(7));
    set(&mut record.operation_type, row.get(8));
    set_optional(&mut record.operation_status, text(9));
    set_optional(&mut record.resource_old_value, text(10));
    set_optional(&mut record.resource_new_value, text(11));
    record.customized_data = match text(12) {
        None => None,
        Some(json) => {
            let mut list = record.customized_data.take().unwrap_or_default();
            set_customized(json, &mut list).map_err(|e| {
                StoreError::Database(format!("a stored customizedData is damaged: {e}"))
            })?;
            Some(list)
        }
    };
    set_optional(&mut record.session_id, text(13));
    set_optional(&mut record.original_correlation_id, text(14));
    record.extensions = match text(15) {
        None => Extensions::default(),
        Some(stored) => Extensions::from_stored(stored)
            .map_err(|e| StoreError::Database(format!("stored extensions are damaged: {e}")))?,
    };
    Ok(())
}
