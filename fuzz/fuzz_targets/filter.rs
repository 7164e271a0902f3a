//! The filter parser on arbitrary text. An accepted filter keeps within the limits (depth,
//! conditions, value length, no NUL, Text only as a substring without U+0001), its canonical
//! JSON reads back as the same filter and is a fixed point, and each condition matches a record
//! whose field holds its value (in any ASCII case) exactly as its operator says it must.

#![no_main]

use actlog_domain::AuditRecord;
use actlog_domain::filter::{Condition, Field, Filter, MAX_FILTER_BYTES, Operator, TEXT_SEPARATOR};
use actlog_domain::time::OperationDate;
use actlog_fuzz::PARTNER;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let filter = match Filter::parse(text) {
        Ok(filter) => filter,
        Err(e) => {
            assert!(!e.0.is_empty());
            return;
        }
    };
    assert!(text.len() <= MAX_FILTER_BYTES);
    let mut conditions = Vec::new();
    assert!(depth(&filter, &mut conditions) <= 8);
    assert!((1..=32).contains(&conditions.len()));
    let canonical = filter.to_json();
    assert_eq!(
        Filter::parse(&canonical).as_ref(),
        Ok(&filter),
        "{canonical}"
    );
    assert_eq!(
        Filter::parse(&canonical).map(|f| f.to_json()),
        Ok(canonical.clone())
    );
    for c in conditions {
        assert!(c.value.chars().count() <= 512 && !c.value.contains('\0'));
        if c.field == Field::Text {
            assert_eq!(c.operator, Operator::Substring);
            assert!(!c.value.contains(TEXT_SEPARATOR));
        }
        let one = Filter::Condition(c.clone());
        for value in [c.value.clone(), c.value.to_ascii_uppercase()] {
            let holds = one.matches(&record(c.field, &value));
            assert_eq!(holds, on_itself(c.operator), "{c:?} on {value:?}");
        }
    }
    // The compound's meaning is its parts'.
    let empty = record(Field::CompanyName, "");
    let parts = |p: &[Filter]| p.iter().map(|f| f.matches(&empty)).collect::<Vec<_>>();
    match &filter {
        Filter::And(p) => assert_eq!(filter.matches(&empty), parts(p).iter().all(|&m| m)),
        Filter::Or(p) => assert_eq!(filter.matches(&empty), parts(p).iter().any(|&m| m)),
        Filter::Condition(_) => {}
    }
});

/// The filter's depth, collecting its conditions.
fn depth<'a>(filter: &'a Filter, conditions: &mut Vec<&'a Condition>) -> usize {
    match filter {
        Filter::Condition(c) => {
            conditions.push(c);
            1
        }
        Filter::And(parts) | Filter::Or(parts) => {
            assert!(!parts.is_empty());
            1 + parts
                .iter()
                .map(|p| depth(p, conditions))
                .max()
                .unwrap_or(0)
        }
    }
}

/// Whether an operator holds between a text and the same text.
fn on_itself(operator: Operator) -> bool {
    match operator {
        Operator::Equals
        | Operator::GreaterThanOrEquals
        | Operator::LessThanOrEquals
        | Operator::Substring
        | Operator::StartsWith => true,
        Operator::NotEquals
        | Operator::GreaterThan
        | Operator::LessThan
        | Operator::NotStartsWith => false,
    }
}

/// A record whose `field` holds `value` (for Text: the customer name), and nothing else.
fn record(field: Field, value: &str) -> AuditRecord {
    let mut record = AuditRecord {
        id: "r".to_owned(),
        partner_id: PARTNER.to_owned(),
        customer_id: None,
        customer_name: None,
        user_principal_name: None,
        application_id: None,
        resource_type: None,
        resource_old_value: None,
        resource_new_value: None,
        operation_type: "x".to_owned(),
        operation_date: OperationDate::from_ticks(0),
        operation_status: None,
        customized_data: None,
        session_id: None,
        original_correlation_id: None,
        attributes: Default::default(),
        extensions: Default::default(),
    };
    let text = value.to_owned();
    let value = Some(value.to_owned());
    match field {
        Field::CompanyName | Field::Text => record.customer_name = value,
        Field::CustomerId => record.customer_id = value,
        Field::ResourceType => record.resource_type = value,
        Field::OperationType => record.operation_type = text,
        Field::UserPrincipalName => record.user_principal_name = value,
        Field::OperationStatus => record.operation_status = value,
        Field::ApplicationId => record.application_id = value,
    }
    record
}
