//! Records to rows and back. Row shapes stay private to this crate; the rest of actlog sees
//! only [`AuditRecord`]s.

use actlog_domain::{AuditRecord, KeyValue, OperationDate};
use rusqlite::types::Type;
use rusqlite::{CachedStatement, Row};

/// The columns [`read`] expects, in its order. `seq` first: it is a walk's position.
pub(crate) const COLUMNS: &str = "seq, id, operation_date, customer_id, customer_name, \
    user_principal_name, application_id, resource_type, operation_type, operation_status, \
    resource_old_value, resource_new_value, customized_data, session_id, original_correlation_id";

/// Stores a record unless its id is taken; [`insert`] tells which happened.
pub(crate) const INSERT: &str = "INSERT INTO records (partner, id, operation_date, customer_id, \
    customer_name, user_principal_name, application_id, resource_type, operation_type, \
    operation_status, resource_old_value, resource_new_value, customized_data, session_id, \
    original_correlation_id) \
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15) \
    ON CONFLICT (partner, id) DO NOTHING";

/// Inserts `record` for partner key `partner` with the prepared [`INSERT`]; whether a row was
/// stored (false: the id was already taken).
pub(crate) fn insert(
    stmt: &mut CachedStatement<'_>,
    partner: i64,
    record: &AuditRecord,
) -> rusqlite::Result<bool> {
    let changed = stmt.execute(rusqlite::params![
        partner,
        record.id,
        record.operation_date.ticks(),
        record.customer_id,
        record.customer_name,
        record.user_principal_name,
        record.application_id,
        record.resource_type,
        record.operation_type,
        record.operation_status,
        record.resource_old_value,
        record.resource_new_value,
        record.customized_data_json(),
        record.session_id,
        record.original_correlation_id,
    ])?;
    Ok(changed == 1)
}

/// A row selected with [`COLUMNS`]: its `seq` and its record, which belongs to `partner`.
pub(crate) fn read(row: &Row<'_>, partner: &str) -> rusqlite::Result<(i64, AuditRecord)> {
    let customized: Option<String> = row.get(12)?;
    let customized_data = customized
        .map(|json| {
            serde_json::from_str::<Vec<KeyValue>>(&json)
                .map_err(|e| rusqlite::Error::FromSqlConversionFailure(12, Type::Text, Box::new(e)))
        })
        .transpose()?;
    let record = AuditRecord {
        id: row.get(1)?,
        partner_id: partner.to_owned(),
        operation_date: OperationDate::from_ticks(row.get(2)?),
        customer_id: row.get(3)?,
        customer_name: row.get(4)?,
        user_principal_name: row.get(5)?,
        application_id: row.get(6)?,
        resource_type: row.get(7)?,
        operation_type: row.get(8)?,
        operation_status: row.get(9)?,
        resource_old_value: row.get(10)?,
        resource_new_value: row.get(11)?,
        customized_data,
        session_id: row.get(13)?,
        original_correlation_id: row.get(14)?,
        attributes: Default::default(),
    };
    Ok((row.get(0)?, record))
}
