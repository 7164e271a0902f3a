use actlog_domain::extensions::{Extensions, Members, Raw};
use actlog_domain::record::{AuditRecord, KeyValue};
use actlog_domain::time::OperationDate;
use proptest::prelude::*;

use super::*;

fn minimal() -> AuditRecord {
    AuditRecord {
        id: "r1".into(),
        partner_id: "p".into(),
        customer_id: None,
        customer_name: None,
        user_principal_name: None,
        application_id: None,
        resource_type: None,
        resource_old_value: None,
        resource_new_value: None,
        operation_type: "create_order".into(),
        operation_date: OperationDate::from_ticks(0x0102_0304_0506_0708),
        operation_status: None,
        customized_data: None,
        session_id: None,
        original_correlation_id: None,
        attributes: Default::default(),
        extensions: Default::default(),
    }
}

fn text(value: &str) -> Vec<u8> {
    let mut out = (value.len() as u64).to_be_bytes().to_vec();
    out.extend_from_slice(value.as_bytes());
    out
}

#[test]
fn a_minimal_record_encodes_as_the_document_says() {
    let mut expected = text("actlog-record-v1");
    expected.extend(text("p"));
    expected.extend(text("r1"));
    expected.extend([0; 7]); // customerId … resourceNewValue absent
    expected.extend(text("create_order"));
    expected.extend([1, 2, 3, 4, 5, 6, 7, 8]);
    expected.extend([0, 0, 0, 0]); // status, customizedData, sessionId, correlation id
    expected.extend(text("AuditRecord"));
    expected.push(0); // no extensions
    assert_eq!(encode("p", &minimal()), expected);
}

/// The test vector of `docs/tamper-evidence.md`, whose hash came from the Python there.
#[test]
fn the_documented_test_vector_holds() {
    let mut record = minimal();
    record.partner_id = "p1".into();
    record.customer_id = Some("c1".into());
    record.operation_date = OperationDate::parse_rfc3339("2017-06-15T22:56:05.0589308Z").unwrap();
    assert_eq!(record.operation_date.ticks(), 14975673650589308);
    record.operation_status = Some("succeeded".into());
    record.customized_data = Some(vec![KeyValue {
        key: "k".into(),
        value: None,
    }]);
    record.extensions.members = serde_json::from_str(r#"{"etag":"W/1"}"#).unwrap();
    assert_eq!(
        record.extensions.to_stored().as_deref(),
        Some(r#"{"members":{"etag":"W/1"}}"#)
    );
    let hash = crate::merkle::leaf_hash(&encode("p1", &record));
    let hex: String = hash.iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(
        hex,
        "41a5d938aa5acb35c817b97036bf692a097992dd786aaccfbf6eb32e09f3d8e5"
    );
}

#[test]
fn customized_data_and_extensions_are_written_in_order_and_byte_for_byte() {
    let mut record = minimal();
    record.customized_data = Some(vec![
        KeyValue {
            key: "b".into(),
            value: None,
        },
        KeyValue {
            key: "a".into(),
            value: Some("é".into()),
        },
    ]);
    let members: Members = serde_json::from_str(r#"{"z": 1.50}"#).unwrap();
    record.extensions.members = members;
    let encoded = encode("p", &record);

    let mut tail = vec![1];
    tail.extend(2u64.to_be_bytes());
    tail.extend(text("b"));
    tail.push(0);
    tail.extend(text("a"));
    tail.push(1);
    tail.extend(text("é"));
    tail.extend([0, 0]);
    tail.extend(text("AuditRecord"));
    tail.push(1);
    tail.extend(text(r#"{"members":{"z":1.50}}"#));
    assert!(
        encoded.ends_with(&tail),
        "{:?}",
        String::from_utf8_lossy(&encoded)
    );
}

#[test]
fn the_partner_encoded_is_the_one_the_store_names() {
    let mut record = minimal();
    let stored_for_p = encode("p", &record);
    record.partner_id = "someone-else".into();
    assert_eq!(encode("p", &record), stored_for_p);
    assert_ne!(encode("q", &record), stored_for_p);
}

/// One change to each field, including those a careless encoding would confuse: absent and
/// empty, a moved boundary between two fields, entries in another order, an equivalent but
/// different JSON text in an extension.
#[test]
fn changing_any_one_field_changes_the_encoding() {
    type Change = fn(&mut AuditRecord);
    let changes: &[(&str, Change)] = &[
        ("id", |r| r.id.push('x')),
        ("customerId empty", |r| r.customer_id = Some(String::new())),
        ("customerName", |r| r.customer_name = Some("n".into())),
        ("upn", |r| r.user_principal_name = Some("u".into())),
        ("applicationId", |r| r.application_id = Some("a".into())),
        ("resourceType", |r| r.resource_type = Some("order".into())),
        ("old value", |r| r.resource_old_value = Some("{}".into())),
        ("new value", |r| r.resource_new_value = Some("{}".into())),
        ("operationType", |r| r.operation_type = "create_orde".into()),
        ("operationDate", |r| {
            r.operation_date = OperationDate::from_ticks(r.operation_date.ticks() + 1)
        }),
        ("status", |r| r.operation_status = Some("failed".into())),
        ("customizedData empty", |r| r.customized_data = Some(vec![])),
        ("customizedData entry", |r| {
            r.customized_data = Some(vec![KeyValue {
                key: String::new(),
                value: None,
            }])
        }),
        ("customizedData value empty", |r| {
            r.customized_data = Some(vec![KeyValue {
                key: String::new(),
                value: Some(String::new()),
            }])
        }),
        ("sessionId", |r| r.session_id = Some("s".into())),
        ("correlation id", |r| {
            r.original_correlation_id = Some("c".into())
        }),
        ("attributes", |r| r.attributes.object_type = "Other".into()),
        ("extension member", |r| {
            r.extensions.members = serde_json::from_str(r#"{"z":1.50}"#).unwrap()
        }),
        ("extension number text", |r| {
            r.extensions.members = serde_json::from_str(r#"{"z":1.5}"#).unwrap()
        }),
        ("extension attributes", |r| {
            r.extensions.attributes = Some(Raw::from_text(r#"{"etag":"1"}"#).unwrap())
        }),
        ("boundary moved", |r| {
            r.id = "r".into();
            r.operation_type = "1create_order".into();
        }),
    ];
    let mut seen = vec![("unchanged", encode("p", &minimal()))];
    for (name, change) in changes {
        let mut record = minimal();
        change(&mut record);
        let encoded = encode("p", &record);
        if let Some((other, _)) = seen.iter().find(|(_, e)| *e == encoded) {
            panic!("`{name}` encodes like `{other}`");
        }
        seen.push((name, encoded));
    }
}

fn small_text() -> impl Strategy<Value = String> {
    "[ab]{0,2}"
}

fn small_optional() -> impl Strategy<Value = Option<String>> {
    proptest::option::of(small_text())
}

fn raw() -> impl Strategy<Value = Raw> {
    prop_oneof![Just("1"), Just("1.0"), Just("\"a\""), Just("[]")]
        .prop_map(|text| Raw::from_text(text).unwrap())
}

fn extensions() -> impl Strategy<Value = Extensions> {
    (
        proptest::collection::vec((small_text(), raw()), 0..2),
        proptest::option::of(raw()),
        proptest::option::of(raw()),
    )
        .prop_map(|(members, attributes, customized_data)| Extensions {
            members: Members(members),
            attributes,
            customized_data,
        })
}

fn customized() -> impl Strategy<Value = Option<Vec<KeyValue>>> {
    let entry = (small_text(), small_optional()).prop_map(|(key, value)| KeyValue { key, value });
    proptest::option::of(proptest::collection::vec(entry, 0..3))
}

fn record() -> impl Strategy<Value = (String, AuditRecord)> {
    let people = (
        small_text(),
        small_text(),
        small_optional(),
        small_optional(),
        small_optional(),
        small_optional(),
    );
    let action = (
        small_optional(),
        small_optional(),
        small_optional(),
        small_text(),
        -2i64..2,
        small_optional(),
    );
    let rest = (
        customized(),
        small_optional(),
        small_optional(),
        prop_oneof![Just("AuditRecord"), Just("a")],
        extensions(),
    );
    (people, action, rest).prop_map(|(people, action, rest)| {
        let (partner, id, customer_id, customer_name, user_principal_name, application_id) = people;
        let (resource_type, old, new, operation_type, ticks, operation_status) = action;
        let (customized_data, session_id, original_correlation_id, object_type, extensions) = rest;
        let record = AuditRecord {
            id,
            partner_id: partner.clone(),
            customer_id,
            customer_name,
            user_principal_name,
            application_id,
            resource_type,
            resource_old_value: old,
            resource_new_value: new,
            operation_type,
            operation_date: OperationDate::from_ticks(ticks),
            operation_status,
            customized_data,
            session_id,
            original_correlation_id,
            attributes: actlog_domain::record::Attributes {
                object_type: object_type.into(),
            },
            extensions,
        };
        (partner, record)
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// Tiny alphabets make equal fields frequent, so both directions are exercised.
    #[test]
    fn records_encode_equally_exactly_when_they_are_equal(a in record(), b in record()) {
        let (pa, ra) = a;
        let (pb, rb) = b;
        prop_assert_eq!(encode(&pa, &ra) == encode(&pb, &rb), ra == rb);
    }
}
