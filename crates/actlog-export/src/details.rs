//! The Details cell: everything about a record that has no column of its own, as readable lines.
//!
//! ```text
//! OfferName: Microsoft 365 Business Basic
//! Quantity: 5
//! Before: {"quantity":3}
//! After: {"quantity":5}
//! Session ID: 0c2d…
//! ```
//!
//! `customizedData` comes first, one `key: value` line per entry in the recorded order (a null
//! value reads "(no value)"); then the resource before and after the action, byte for byte as
//! recorded (Partner Center sends them as compact JSON, which stays readable on one line and is
//! never re-encoded, so nothing is lost or escaped twice); then the correlation ids; then any
//! field this version of actlog does not model, as `name: JSON` exactly as received. Lines end
//! with LF, the line break Excel and Calc use inside a cell.

use actlog_domain::AuditRecord;
use actlog_domain::catalog::Lang;

struct Labels {
    no_value: &'static str,
    before: &'static str,
    after: &'static str,
    session: &'static str,
    correlation: &'static str,
}

const EN: Labels = Labels {
    no_value: "(no value)",
    before: "Before",
    after: "After",
    session: "Session ID",
    correlation: "Correlation ID",
};

const IT: Labels = Labels {
    no_value: "(nessun valore)",
    before: "Prima",
    after: "Dopo",
    session: "ID sessione",
    correlation: "ID correlazione",
};

/// Replaces `out` with the Details text of `record`; empty when there is nothing to say.
pub(crate) fn render(out: &mut String, record: &AuditRecord, lang: Lang) {
    let labels = match lang {
        Lang::En => &EN,
        Lang::It => &IT,
    };
    out.clear();
    for entry in record.customized_data.iter().flatten() {
        let value = entry.value.as_deref().unwrap_or(labels.no_value);
        line(out, &entry.key, value);
    }
    let optional = [
        (labels.before, &record.resource_old_value),
        (labels.after, &record.resource_new_value),
        (labels.session, &record.session_id),
        (labels.correlation, &record.original_correlation_id),
    ];
    for (label, value) in optional {
        if let Some(value) = value {
            line(out, label, value);
        }
    }
    for (name, value) in &record.extensions.members.0 {
        line(out, name, value.get());
    }
}

fn line(out: &mut String, key: &str, value: &str) {
    if !out.is_empty() {
        out.push('\n');
    }
    out.push_str(key);
    out.push_str(": ");
    out.push_str(value);
}

#[cfg(test)]
mod tests {
    use actlog_domain::{KeyValue, OperationDate};

    use super::*;

    fn record() -> AuditRecord {
        AuditRecord {
            id: "r1".into(),
            partner_id: "p1".into(),
            customer_id: None,
            customer_name: None,
            user_principal_name: None,
            application_id: None,
            resource_type: None,
            resource_old_value: None,
            resource_new_value: None,
            operation_type: "create_order".into(),
            operation_date: OperationDate::from_ticks(0),
            operation_status: None,
            customized_data: None,
            session_id: None,
            original_correlation_id: None,
            attributes: Default::default(),
            extensions: Default::default(),
        }
    }

    fn rendered(record: &AuditRecord, lang: Lang) -> String {
        let mut out = String::from("left over from the previous row");
        render(&mut out, record, lang);
        out
    }

    #[test]
    fn a_record_without_details_gives_an_empty_cell() {
        assert_eq!(rendered(&record(), Lang::En), "");
    }

    #[test]
    fn every_detail_is_one_readable_line_in_order() {
        let mut rec = record();
        rec.customized_data = Some(vec![
            KeyValue {
                key: "OfferName".into(),
                value: Some("Microsoft 365 \"E3\"; 5, seats".into()),
            },
            KeyValue {
                key: "Note".into(),
                value: None,
            },
            KeyValue {
                key: "Quantity".into(),
                value: Some("-5".into()),
            },
        ]);
        rec.resource_old_value = Some(r#"{"quantity":3}"#.into());
        rec.resource_new_value = Some(r#"{"quantity":5,"name":"Caffè \"Il Moro\""}"#.into());
        rec.session_id = Some("s-1".into());
        rec.original_correlation_id = Some("c-1".into());
        assert_eq!(
            rendered(&rec, Lang::En),
            "OfferName: Microsoft 365 \"E3\"; 5, seats\nNote: (no value)\nQuantity: -5\n\
             Before: {\"quantity\":3}\nAfter: {\"quantity\":5,\"name\":\"Caffè \\\"Il Moro\\\"\"}\n\
             Session ID: s-1\nCorrelation ID: c-1"
        );
        assert_eq!(
            rendered(&rec, Lang::It),
            "OfferName: Microsoft 365 \"E3\"; 5, seats\nNote: (nessun valore)\nQuantity: -5\n\
             Prima: {\"quantity\":3}\nDopo: {\"quantity\":5,\"name\":\"Caffè \\\"Il Moro\\\"\"}\n\
             ID sessione: s-1\nID correlazione: c-1"
        );
    }

    #[test]
    fn fields_this_version_does_not_model_follow_as_received() {
        let json = r#"{"operationType":"x","operationDate":"2024-01-02T03:04:05Z",
            "sessionId":"s1","resourceSubType":"trial","auditDetails":{"a":[1, 2.50]}}"#;
        let kept = actlog_domain::ingest::parse_record(json, "p", &mut || "id".into()).unwrap();
        assert_eq!(
            rendered(&kept, Lang::En),
            "Session ID: s1\nresourceSubType: \"trial\"\nauditDetails: {\"a\":[1, 2.50]}"
        );
    }

    #[test]
    fn an_empty_value_is_kept_apart_from_an_absent_one() {
        let mut rec = record();
        rec.resource_old_value = Some(String::new());
        assert_eq!(rendered(&rec, Lang::En), "Before: ");
    }
}
