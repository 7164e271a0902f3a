use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::{TestApp, enc, record};

const SAMPLE: &str = include_str!("../fixtures/partner-center-sample-response.json");
const SAMPLE_PARTNER: &str = "3b33e682-00c3-41ee-9dd2-a548adf56438";

#[tokio::test]
async fn the_partner_center_sample_comes_back_field_for_field() {
    let app = TestApp::new().await;
    let key = app.key(SAMPLE_PARTNER, "read,write").await;
    let reply = app.post(&key, SAMPLE).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    assert_eq!(reply.body["stored"], 2);

    let filter = enc(
        r#"{"Field":"CustomerId","Value":"0c39d6d5-c70d-4c55-bc02-f620844f3fd1","Operator":"equals"}"#,
    );
    let page = app
        .get(
            &format!("/v1/auditrecords?startDate=6/1/2017%2012:00:00%20AM&filter={filter}"),
            &key,
        )
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let sample: Value = serde_json::from_str(SAMPLE).unwrap();
    let mut items = page.body["items"].as_array().unwrap().clone();
    for item in &mut items {
        assert!(
            item.as_object_mut().unwrap().remove("id").is_some(),
            "every record has an id"
        );
    }
    assert_eq!(Value::Array(items), sample["items"]);
    assert_eq!(page.body["totalCount"], 2);
    assert_eq!(page.body["attributes"], json!({"objectType": "Collection"}));
}

#[tokio::test]
async fn resending_a_batch_stores_nothing_twice() {
    let app = TestApp::new().await;
    let key = app.key("p1", "read,write").await;
    let batch = json!([
        record("a", "2026-11-20T10:00:00Z", "Alpha"),
        record("b", "2026-11-20T11:00:00Z", "Beta")
    ]);
    let first = app.post(&key, batch.to_string()).await;
    assert_eq!(
        (first.status, first.body["stored"].clone()),
        (StatusCode::CREATED, json!(2))
    );
    let again = app.post(&key, batch.to_string()).await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(
        (
            again.body["stored"].clone(),
            again.body["unchanged"].clone()
        ),
        (json!(0), json!(2))
    );
    let page = app.get("/v1/auditrecords?startDate=2026-11-01", &key).await;
    assert_eq!(page.body["items"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn the_same_id_with_other_content_is_a_conflict_and_stores_nothing() {
    let app = TestApp::new().await;
    let key = app.key("p1", "read,write").await;
    app.post(
        &key,
        json!([record("a", "2026-11-20T10:00:00Z", "Alpha")]).to_string(),
    )
    .await;
    let changed = json!([
        record("new", "2026-11-20T09:00:00Z", "Gamma"),
        record("a", "2026-11-20T10:00:00Z", "Alpha v2")
    ]);
    let reply = app.post(&key, changed.to_string()).await;
    assert_eq!(reply.status, StatusCode::CONFLICT, "{}", reply.body);
    assert_eq!(reply.code(), "id_conflict");
    assert_eq!(reply.body["ids"], json!(["a"]));
    assert_eq!(
        app.get("/v1/auditrecords/new", &key).await.status,
        StatusCode::NOT_FOUND
    );
    let stored = app.get("/v1/auditrecords/a", &key).await;
    assert_eq!(stored.body["customerName"], "Alpha");
}

#[tokio::test]
async fn one_bad_record_refuses_the_whole_batch_and_names_it() {
    let app = TestApp::new().await;
    let key = app.key("p1", "read,write").await;
    let mut bad = record("b", "2026-11-20T10:00:00Z", "Beta");
    bad["operationDate"] = json!("31/12/2026");
    let body = format!(
        "{}\n{}\n{}\n",
        record("a", "2026-11-20T09:00:00Z", "A"),
        bad,
        record("c", "2026-11-20T11:00:00Z", "C")
    );
    let reply = app
        .request(
            Method::POST,
            "/v1/auditrecords",
            Some(&key),
            &[("content-type", "application/x-ndjson")],
            body,
        )
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(reply.code(), "invalid_record");
    assert_eq!(reply.body["errors"][0]["index"], 1);
    assert_eq!(reply.body["errors"][0]["line"], 2);
    let page = app.get("/v1/auditrecords?startDate=2026-11-01", &key).await;
    assert_eq!(
        page.body["items"],
        json!([]),
        "nothing of the batch was stored"
    );
}

#[tokio::test]
async fn records_without_ids_get_one_and_unknown_types_are_kept() {
    let app = TestApp::new().await;
    let key = app.key("p1", "read,write").await;
    let body = json!([{"operationType": "launch_rocket", "resourceType": "rocket", "operationDate": "2026-11-20T10:00:00.1234567+01:00",
        "resourceNewValue": {"Fuel": [1, 2, {"x": null}]}}]);
    let reply = app.post(&key, body.to_string()).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    let id = reply.body["ids"][0].as_str().unwrap().to_owned();
    let stored = app.get(&format!("/v1/auditrecords/{id}"), &key).await;
    assert_eq!(stored.body["operationType"], "launch_rocket");
    assert_eq!(stored.body["resourceType"], "rocket");
    assert_eq!(stored.body["operationDate"], "2026-11-20T09:00:00.1234567Z");
    assert_eq!(
        stored.body["resourceNewValue"],
        r#"{"Fuel":[1,2,{"x":null}]}"#
    );
    assert_eq!(stored.body["partnerId"], "p1");
}

/// Every malformed body gets its own 4xx and stable code, never a 500.
#[tokio::test]
async fn bad_bodies_get_clear_client_errors() {
    let app = TestApp::new().await;
    let key = app.key("p1", "read,write").await;
    let deep = format!("[{}{}]", "[".repeat(10_000), "]".repeat(10_000));
    let wrong_type =
        json!([{"operationType": 7, "operationDate": "2026-11-20T10:00:00Z"}]).to_string();
    let bad_date = json!([{"operationType": "x", "operationDate": "yesterday"}]).to_string();
    let cases: Vec<(&str, Vec<u8>, StatusCode, &str)> = vec![
        (
            "malformed JSON",
            b"[{\"operationType\": ".to_vec(),
            StatusCode::BAD_REQUEST,
            "invalid_json",
        ),
        (
            "wrong type",
            wrong_type.into_bytes(),
            StatusCode::BAD_REQUEST,
            "invalid_record",
        ),
        (
            "invalid date",
            bad_date.into_bytes(),
            StatusCode::BAD_REQUEST,
            "invalid_record",
        ),
        (
            "deep nesting",
            deep.into_bytes(),
            StatusCode::BAD_REQUEST,
            "body_too_deep",
        ),
        (
            "invalid UTF-8",
            b"[{\"operationType\":\"\xc3\x28\"}]".to_vec(),
            StatusCode::BAD_REQUEST,
            "body_not_utf8",
        ),
        (
            "empty",
            b"".to_vec(),
            StatusCode::BAD_REQUEST,
            "empty_batch",
        ),
        (
            "not records",
            b"[1,2]".to_vec(),
            StatusCode::BAD_REQUEST,
            "invalid_record",
        ),
    ];
    for (what, body, status, code) in cases {
        let reply = app.post(&key, body).await;
        assert_eq!(
            (reply.status, reply.code()),
            (status, code),
            "{what}: {}",
            reply.body
        );
        assert_eq!(
            reply.headers["content-type"], "application/problem+json",
            "{what}"
        );
        assert!(!reply.body["detail"].as_str().unwrap().is_empty(), "{what}");
    }
    let xml = app
        .request(
            Method::POST,
            "/v1/auditrecords",
            Some(&key),
            &[("content-type", "application/xml")],
            "<a/>",
        )
        .await;
    assert_eq!(
        (xml.status, xml.code()),
        (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type")
    );
}

#[tokio::test]
async fn oversized_batches_are_refused_with_413() {
    let limits = actlog_server::Limits {
        max_batch_records: 3,
        max_body_bytes: 2_000,
        ..Default::default()
    };
    let app = TestApp::with(limits, "2026-11-25T12:00:00Z").await;
    let key = app.key("p1", "write").await;
    let four: Vec<Value> = (0..4)
        .map(|i| record(&format!("r{i}"), "2026-11-20T10:00:00Z", "A"))
        .collect();
    let reply = app.post(&key, Value::Array(four).to_string()).await;
    assert_eq!(
        (reply.status, reply.code()),
        (StatusCode::PAYLOAD_TOO_LARGE, "batch_too_large")
    );
    let mut big = record("big", "2026-11-20T10:00:00Z", "A");
    big["resourceNewValue"] = json!("x".repeat(3_000));
    let reply = app.post(&key, json!([big]).to_string()).await;
    assert_eq!(
        (reply.status, reply.code()),
        (StatusCode::PAYLOAD_TOO_LARGE, "body_too_large")
    );
}

/// A real one-day Partner Center response would not load: one of its records carried a field
/// the documented sample lacks, and the whole batch was refused as "unknown field". Fields
/// this version does not know — in the envelope, on a record, inside `attributes`, inside a
/// `customizedData` entry — are now accepted, and the record's come back byte for byte.
#[tokio::test]
async fn a_response_with_fields_this_version_does_not_know_loads_and_round_trips_them() {
    let app = TestApp::new().await;
    let key = app.key(SAMPLE_PARTNER, "read,write").await;
    let response = r#"{"totalCount":1,"nextGen":{"x":1},"items":[{"id":"rec-1",
        "partnerId":"3b33e682-00c3-41ee-9dd2-a548adf56438","customerName":"Relecloud",
        "operationType":"create_order","operationDate":"2026-11-20T10:00:00.1234567Z",
        "customizedData":[{"key":"OrderId","value":"o-1","valueType":"Guid"}],
        "resourceSubType":"trial", "auditDetails" : {"a": [1, 2.50], "b": "\u00e9"},
        "attributes":{"objectType":"AuditRecord","etag":"W/\"datetime'2026'\""}}],
        "links":{"self":{"uri":"/auditrecords?size=1","method":"GET","headers":[]}},
        "attributes":{"objectType":"Collection"}}"#;
    let reply = app.post(&key, response).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    for uri in [
        "/v1/auditrecords/rec-1",
        "/v1/auditrecords?startDate=2026-11-01&endDate=2026-11-30",
    ] {
        let got = app.get(uri, &key).await;
        assert_eq!(got.status, StatusCode::OK, "{}", got.body);
        let text = String::from_utf8(got.raw.clone()).unwrap();
        for kept in [
            r#""customizedData":[{"key":"OrderId","value":"o-1","valueType":"Guid"}]"#,
            r#""resourceSubType":"trial""#,
            r#""auditDetails":{"a": [1, 2.50], "b": "\u00e9"}"#,
            r#""attributes":{"objectType":"AuditRecord","etag":"W/\"datetime'2026'\""}"#,
        ] {
            assert!(text.contains(kept), "{uri}: {kept} missing from {text}");
        }
    }
    // Sent again: a retry. With one unknown field changed: a conflict naming the record.
    let again = app.post(&key, response).await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.body);
    let changed = response.replace("\"trial\"", "\"paid\"");
    let conflict = app.post(&key, changed).await;
    assert_eq!(conflict.status, StatusCode::CONFLICT, "{}", conflict.body);
    assert!(
        conflict.body.to_string().contains("rec-1"),
        "{}",
        conflict.body
    );
}
