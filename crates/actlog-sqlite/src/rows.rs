//! Records to rows and back. Row shapes stay private to this crate; the rest of actlog sees
//! only [`AuditRecord`]s.

use actlog_domain::extensions::Extensions;
use actlog_domain::folded::Folded;
use actlog_domain::{AuditRecord, KeyValue, OperationDate};
use rusqlite::types::Type;
use rusqlite::{CachedStatement, Row};

/// The columns [`read`] expects, in its order. `seq` first: it is a walk's position.
pub(crate) const COLUMNS: &str = "seq, id, operation_date, customer_id, customer_name, \
    user_principal_name, application_id, resource_type, operation_type, operation_status, \
    resource_old_value, resource_new_value, customized_data, session_id, original_correlation_id, \
    extensions";

/// How many columns [`COLUMNS`] names: the index of a column selected after them.
pub(crate) const COLUMN_COUNT: usize = 16;

/// Stores a record unless its id is taken; [`insert`] tells which happened.
pub(crate) const INSERT: &str = "INSERT INTO records (partner, id, operation_date, customer_id, \
    customer_name, user_principal_name, application_id, resource_type, operation_type, \
    operation_status, resource_old_value, resource_new_value, customized_data, session_id, \
    original_correlation_id, customer_name_fold, user_principal_name_fold, application_id_fold, \
    search_text, extensions, log_index) \
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, \
    ?20, ?21) \
    ON CONFLICT (partner, id) DO NOTHING";

/// Inserts `record` for partner key `partner` with the prepared [`INSERT`], with the folded
/// forms its filters compare and its log index; whether a row was stored (false: the id was
/// already taken).
pub(crate) fn insert(
    stmt: &mut CachedStatement<'_>,
    partner: i64,
    record: &AuditRecord,
    log_index: i64,
) -> rusqlite::Result<bool> {
    let folded = Folded::of(record);
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
        folded.customer_name,
        folded.user_principal_name,
        folded.application_id,
        folded.text,
        record.extensions.to_stored(),
        log_index,
    ])?;
    Ok(changed == 1)
}

/// A row selected with [`COLUMNS`]: its `seq` and its record, which belongs to `partner`.
pub(crate) fn read(row: &Row<'_>, partner: &str) -> rusqlite::Result<(i64, AuditRecord)> {
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
        customized_data: customized_data(row)?,
        session_id: row.get(13)?,
        original_correlation_id: row.get(14)?,
        attributes: Default::default(),
        extensions: extensions(optional_text(row, 15)?)?,
    };
    Ok((row.get(0)?, record))
}

/// Overwrites `record` with the row, as [`read`] would read it, reusing the memory `record`
/// already holds: a scan refills the same records row after row.
pub(crate) fn read_into(
    row: &Row<'_>,
    partner: &str,
    record: &mut AuditRecord,
) -> rusqlite::Result<()> {
    set(&mut record.id, text(row, 1)?);
    set(&mut record.partner_id, partner);
    record.operation_date = OperationDate::from_ticks(row.get(2)?);
    set_optional(&mut record.customer_id, optional_text(row, 3)?);
    set_optional(&mut record.customer_name, optional_text(row, 4)?);
    set_optional(&mut record.user_principal_name, optional_text(row, 5)?);
    set_optional(&mut record.application_id, optional_text(row, 6)?);
    set_optional(&mut record.resource_type, optional_text(row, 7)?);
    set(&mut record.operation_type, text(row, 8)?);
    set_optional(&mut record.operation_status, optional_text(row, 9)?);
    set_optional(&mut record.resource_old_value, optional_text(row, 10)?);
    set_optional(&mut record.resource_new_value, optional_text(row, 11)?);
    record.customized_data = match optional_text(row, 12)? {
        None => None,
        Some(json) => {
            let mut list = record.customized_data.take().unwrap_or_default();
            actlog_store::customized::read_into(json, &mut list).map_err(|e| {
                rusqlite::Error::FromSqlConversionFailure(12, Type::Text, Box::new(e))
            })?;
            Some(list)
        }
    };
    set_optional(&mut record.session_id, optional_text(row, 13)?);
    set_optional(&mut record.original_correlation_id, optional_text(row, 14)?);
    record.extensions = extensions(optional_text(row, 15)?)?;
    Ok(())
}

/// The stored extensions (column 15), or none.
fn extensions(text: Option<&str>) -> rusqlite::Result<Extensions> {
    text.map(Extensions::from_stored)
        .transpose()
        .map(Option::unwrap_or_default)
        .map_err(|e| rusqlite::Error::FromSqlConversionFailure(15, Type::Text, Box::new(e)))
}

/// `customizedData`, parsed from SQLite's own copy of the text (no intermediate String).
fn customized_data(row: &Row<'_>) -> rusqlite::Result<Option<Vec<KeyValue>>> {
    let Some(json) = optional_text(row, 12)? else {
        return Ok(None);
    };
    serde_json::from_str(json)
        .map(Some)
        .map_err(|e| rusqlite::Error::FromSqlConversionFailure(12, Type::Text, Box::new(e)))
}

/// Column `index` as text borrowed from SQLite.
fn text<'r>(row: &'r Row<'_>, index: usize) -> rusqlite::Result<&'r str> {
    row.get_ref(index)?
        .as_str()
        .map_err(|e| rusqlite::Error::FromSqlConversionFailure(index, Type::Text, Box::new(e)))
}

/// Column `index` as text borrowed from SQLite, or `None` for NULL.
fn optional_text<'r>(row: &'r Row<'_>, index: usize) -> rusqlite::Result<Option<&'r str>> {
    row.get_ref(index)?
        .as_str_or_null()
        .map_err(|e| rusqlite::Error::FromSqlConversionFailure(index, Type::Text, Box::new(e)))
}

pub(crate) use actlog_store::refill::{set, set_optional};
