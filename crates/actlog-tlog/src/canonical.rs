//! The canonical encoding of a stored record: the bytes a Merkle leaf commits to.
//!
//! A leaf must commit to exactly what the store holds, and anyone must be able to recompute
//! it from the record alone. Re-serialising JSON would not do: member order, escapes and number
//! forms vary between serialisers and versions. So every field is written in a fixed order,
//! each one self-delimiting (length-prefixed, or tagged when optional), which makes the
//! encoding injective: two records that differ in any field encode differently. The first
//! field is a version tag ([`VERSION`]), so a later encoding can change the layout without any
//! old leaf becoming ambiguous. The format is specified in `docs/tamper-evidence.md`
//! ("Canonical record encoding v1"); change it only by adding a new version.

use actlog_domain::record::{AuditRecord, KeyValue};

/// The tag every v1 encoding starts with.
pub const VERSION: &str = "actlog-record-v1";

/// The canonical v1 bytes of `record`, stored for `partner`.
///
/// The partner is the one the store keeps the record under (the caller's partner); the
/// record's own `partner_id` is not read, because a store always sets it from that partner and
/// what the leaf must commit to is the store's answer to "whose record is this".
pub fn encode(partner: &str, record: &AuditRecord) -> Vec<u8> {
    // Destructured so that a field added to `AuditRecord` fails to compile here until the
    // encoding decides what to do with it (in a new version).
    let AuditRecord {
        id,
        partner_id: _,
        customer_id,
        customer_name,
        user_principal_name,
        application_id,
        resource_type,
        resource_old_value,
        resource_new_value,
        operation_type,
        operation_date,
        operation_status,
        customized_data,
        session_id,
        original_correlation_id,
        attributes,
        extensions,
    } = record;
    let mut out = Writer(Vec::with_capacity(256));
    out.text(VERSION);
    out.text(partner);
    out.text(id);
    for value in [
        customer_id,
        customer_name,
        user_principal_name,
        application_id,
        resource_type,
        resource_old_value,
        resource_new_value,
    ] {
        out.optional(value.as_deref());
    }
    out.text(operation_type);
    out.0
        .extend_from_slice(&operation_date.ticks().to_be_bytes());
    out.optional(operation_status.as_deref());
    out.customized_data(customized_data.as_deref());
    out.optional(session_id.as_deref());
    out.optional(original_correlation_id.as_deref());
    out.text(&attributes.object_type);
    out.optional(extensions.to_stored().as_deref());
    out.0
}

/// Appends the primitives of the format.
struct Writer(Vec<u8>);

impl Writer {
    /// A string: its UTF-8 length as 8 bytes big-endian, then its bytes.
    fn text(&mut self, value: &str) {
        self.0
            .extend_from_slice(&(value.len() as u64).to_be_bytes());
        self.0.extend_from_slice(value.as_bytes());
    }

    /// `0x00` when absent; `0x01` and the string when present (so absent ≠ empty).
    fn optional(&mut self, value: Option<&str>) {
        match value {
            None => self.0.push(0),
            Some(value) => {
                self.0.push(1);
                self.text(value);
            }
        }
    }

    /// `0x00` when absent; else `0x01`, the entry count as 8 bytes big-endian, and each entry
    /// in order as its key and optional value.
    fn customized_data(&mut self, entries: Option<&[KeyValue]>) {
        let Some(entries) = entries else {
            self.0.push(0);
            return;
        };
        self.0.push(1);
        self.0
            .extend_from_slice(&(entries.len() as u64).to_be_bytes());
        for entry in entries {
            self.text(&entry.key);
            self.optional(entry.value.as_deref());
        }
    }
}

#[cfg(test)]
mod tests;
