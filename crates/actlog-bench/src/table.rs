//! The rows as the records table holds them, as CSV for the shells' bulk loads (`sqlite3
//! .import`, `psql \copy`): every column a store writes, including the sequence numbers and
//! the folded forms actlog computes in Rust at insert and the log index, so the reference does
//! the same storing work without the part only actlog does (checking, numbering, hashing the
//! Merkle log).
//!
//! The columns are the table's own, in its order, as the database lists them (`sqlite3
//! .import` takes no column list), so the files follow the schema as it grows; a column this
//! module does not know is left empty.

use std::path::Path;

use actlog_domain::AuditRecord;
use actlog_domain::folded::Folded;

/// The columns of [`write_ids`]' files (PostgreSQL's `record_ids`).
pub const ID_COLUMNS: &str = "partner, id, operation_date, seq";

/// Writes `rows` of partner key `partner`, numbered from 1, as CSV without a header, one field
/// per name of `columns`. An absent field is an empty unquoted value: `''` to `sqlite3
/// .import`, as actlog's SQLite store has it for these rows, and NULL to `psql \copy … CSV`,
/// as actlog-postgres stores it.
pub fn write_records(
    path: &Path,
    columns: &[String],
    partner: i64,
    rows: &[AuditRecord],
) -> anyhow::Result<()> {
    let mut out = csv::Writer::from_path(path)?;
    let mut fields = Vec::with_capacity(columns.len());
    for (i, r) in rows.iter().enumerate() {
        let folded = Folded::of(r);
        fields.clear();
        for column in columns {
            let value = field(column, i as i64 + 1, partner, r, &folded);
            fields.push(value.unwrap_or_default());
        }
        out.write_record(&fields)?;
    }
    out.flush()?;
    Ok(())
}

/// Column `column` of record `r`, numbered `seq`: what actlog stores there.
fn field(column: &str, seq: i64, partner: i64, r: &AuditRecord, f: &Folded) -> Option<String> {
    let o = |v: &Option<String>| v.clone();
    match column {
        "seq" => Some(seq.to_string()),
        "partner" => Some(partner.to_string()),
        "id" => Some(r.id.clone()),
        "operation_date" => Some(r.operation_date.ticks().to_string()),
        "customer_id" => o(&r.customer_id),
        "customer_name" => o(&r.customer_name),
        "user_principal_name" => o(&r.user_principal_name),
        "application_id" => o(&r.application_id),
        "resource_type" => o(&r.resource_type),
        "operation_type" => Some(r.operation_type.clone()),
        "operation_status" => o(&r.operation_status),
        "resource_old_value" => o(&r.resource_old_value),
        "resource_new_value" => o(&r.resource_new_value),
        "customized_data" => r.customized_data_json(),
        "session_id" => o(&r.session_id),
        "original_correlation_id" => o(&r.original_correlation_id),
        "customer_name_fold" => o(&f.customer_name),
        "user_principal_name_fold" => o(&f.user_principal_name),
        "application_id_fold" => o(&f.application_id),
        "search_text" => Some(f.text.clone()),
        "extensions" => r.extensions.to_stored(),
        "log_index" => Some((seq - 1).to_string()),
        _ => None,
    }
}

/// Writes the `record_ids` rows of [`write_records`]' rows: where each id's record lives.
pub fn write_ids(path: &Path, partner: i64, rows: &[AuditRecord]) -> anyhow::Result<()> {
    let mut out = csv::Writer::from_path(path)?;
    let partner = partner.to_string();
    for (i, r) in rows.iter().enumerate() {
        out.write_record([
            partner.as_str(),
            r.id.as_str(),
            &r.operation_date.ticks().to_string(),
            &(i + 1).to_string(),
        ])?;
    }
    out.flush()?;
    Ok(())
}
