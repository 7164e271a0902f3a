use std::collections::HashSet;

use axum::body::Body;
use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::{TestApp, enc, record};

/// Stores `n` records, one per hour going back from 2026-11-25T11:00Z.
async fn hourly(app: &TestApp, key: &str, n: usize) {
    let start = jiff::Timestamp::from_second(1_795_604_400).unwrap(); // 2026-11-25T11:00:00Z
    let records: Vec<Value> = (0..n)
        .map(|i| {
            let at = start - jiff::SignedDuration::from_hours(i as i64);
            let name = ["Società Caffè \"Il Moro\"", "Brillo S.p.A.", "Relecloud"][i % 3];
            let mut r = record(&format!("r{i:04}"), &at.to_string(), name);
            r["resourceType"] = json!(["order", "subscription", "customer_user"][i % 3]);
            r
        })
        .collect();
    let reply = app.post(key, Value::Array(records).to_string()).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
}

fn ids(reply: &crate::support::Reply) -> Vec<String> {
    reply.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn every_date_form_selects_the_same_window() {
    let app = TestApp::new().await;
    let key = app.key("p1", "read,write").await;
    hourly(&app, &key, 48).await;
    // [2026-11-24 00:00Z, 2026-11-25 00:00Z) holds the 24 records r0012..r0035.
    let forms = [
        "startDate=2026-11-24&endDate=2026-11-24",
        "startDate=2026-11-24T00:00:00Z&endDate=2026-11-25T00:00:00Z",
        "startDate=2026-11-24T01:00:00%2B01:00&endDate=2026-11-25T00:00:00.0000000Z",
        "startDate=11/24/2026%2012:00:00%20AM&endDate=11/25/2026%2012:00:00%20AM",
        "startDate=11/24/2026%2000:00:00&endDate=11/24/2026",
    ];
    for form in forms {
        let reply = app.get(&format!("/v1/auditrecords?{form}"), &key).await;
        assert_eq!(reply.status, StatusCode::OK, "{form}: {}", reply.body);
        let got = ids(&reply);
        assert_eq!(got.len(), 24, "{form}");
        assert_eq!(
            (got[0].as_str(), got[23].as_str()),
            ("r0012", "r0035"),
            "{form}"
        );
    }
}

#[tokio::test]
async fn without_dates_the_last_30_days_are_returned_newest_first() {
    let app = TestApp::new().await;
    let key = app.key("p1", "read,write").await;
    let old = record("old", "2026-10-01T00:00:00Z", "Old");
    let recent = record("recent", "2026-11-24T00:00:00Z", "Recent");
    let newest = record("newest", "2026-11-25T00:00:00Z", "Newest");
    app.post(&key, json!([old, recent, newest]).to_string())
        .await;
    let reply = app.get("/v1/auditrecords", &key).await;
    assert_eq!(ids(&reply), ["newest", "recent"]);
}

#[tokio::test]
async fn partner_center_filters_and_extensions_select_the_right_records() {
    let app = TestApp::new().await;
    let key = app.key("p1", "read,write").await;
    hourly(&app, &key, 30).await;
    let cases = [
        (
            r#"{"Field":"CompanyName","Value":"SOCIETÀ CAFFÈ","Operator":"substring"}"#,
            10,
        ),
        (
            r#"{"Field":"CompanyName","Value":"bri","Operator":"substring"}"#,
            10,
        ),
        (
            r#"{"Field":"CustomerId","Value":"CUST-RELECLOUD","Operator":"equals"}"#,
            10,
        ),
        (
            r#"{"Field":"ResourceType","Value":"Subscription","Operator":"equals"}"#,
            10,
        ),
        (
            r#"{"Field":"ResourceType","Value":"order","Operator":"not_equals"}"#,
            20,
        ),
        (
            r#"{"Field":"CompanyName","Value":"rel","Operator":"starts_with"}"#,
            10,
        ),
        (
            r#"{"Operator":"or","Filters":[{"Field":"ResourceType","Value":"order","Operator":"equals"},{"Field":"Text","Value":"brillo","Operator":"substring"}]}"#,
            20,
        ),
        (
            r#"{"Field":"OperationType","Value":"create_order","Operator":"equals"}"#,
            30,
        ),
        (
            r#"{"Field":"UserPrincipalName","Value":"nobody","Operator":"substring"}"#,
            0,
        ),
    ];
    for (filter, expected) in cases {
        let reply = app
            .get(
                &format!(
                    "/v1/auditrecords?startDate=2026-11-01&filter={}",
                    enc(filter)
                ),
                &key,
            )
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{filter}: {}", reply.body);
        assert_eq!(ids(&reply).len(), expected, "{filter}");
    }
}

#[tokio::test]
async fn following_continuations_returns_every_record_once() {
    let app = TestApp::new().await;
    let key = app.key("p1", "read,write").await;
    hourly(&app, &key, 95).await;
    // Through `links.next`, as Partner Center writes it (relative to the API version, the
    // token in its headers) and as the official SDK follows it.
    let mut seen = Vec::new();
    let mut uri = "/v1/auditrecords?startDate=2026-11-01&size=10".to_owned();
    let mut token = String::new();
    loop {
        let headers = [("MS-ContinuationToken", token.as_str())];
        let headers = if token.is_empty() {
            &[][..]
        } else {
            &headers[..]
        };
        let reply = app
            .request(Method::GET, &uri, Some(&key), headers, Body::empty())
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        seen.extend(ids(&reply));
        let next = &reply.body["links"]["next"];
        match next["uri"].as_str() {
            Some(next_uri) => uri = format!("/v1{next_uri}"),
            None => break,
        }
        token = next["headers"][0]["value"].as_str().unwrap().to_owned();
        // Records arriving mid-walk, inside the window, do not disturb it.
        let late = record(
            &format!("late{}", seen.len()),
            "2026-11-22T00:30:00Z",
            "Late",
        );
        app.post(&key, json!([late]).to_string()).await;
    }
    let expected: Vec<String> = (0..95).map(|i| format!("r{i:04}")).collect();
    assert_eq!(seen, expected);

    // Through the MS-ContinuationToken header with seek=next, as the Partner Center SDK does.
    let first = app
        .get("/v1/auditrecords?startDate=2026-11-01&size=50", &key)
        .await;
    let token = first.body["continuationToken"].as_str().unwrap().to_owned();
    let second = app
        .request(
            Method::GET,
            "/v1/auditrecords?seek=next",
            Some(&key),
            &[("MS-ContinuationToken", &token)],
            Body::empty(),
        )
        .await;
    assert_eq!(second.status, StatusCode::OK, "{}", second.body);
    let all: HashSet<String> = ids(&first).into_iter().chain(ids(&second)).collect();
    assert_eq!(
        all.len(),
        ids(&first).len() + ids(&second).len(),
        "no record twice"
    );
}

#[tokio::test]
async fn bad_queries_get_clear_client_errors() {
    let app = TestApp::new().await;
    let key = app.key("p1", "read").await;
    let cases = [
        ("startDate=yesterday", "invalid_date"),
        ("startDate=2026-02-30", "invalid_date"),
        ("startDate=13/1/2026", "invalid_date"),
        ("startDate=2026-11-10&endDate=2026-11-01", "invalid_period"),
        ("filter=%7Bnot%20json", "invalid_filter"),
        (
            "filter=%7B%22Field%22%3A%22Colour%22%2C%22Value%22%3A%22x%22%2C%22Operator%22%3A%22equals%22%7D",
            "invalid_filter",
        ),
        ("size=0", "invalid_parameter"),
        ("size=lots", "invalid_parameter"),
        ("size=999999", "invalid_parameter"),
        (
            "startdate=2026-11-01&startDate=2026-11-02",
            "invalid_parameter",
        ),
        ("colour=red", "invalid_parameter"),
        ("seek=garbage", "invalid_continuation_token"),
        ("seek=next", "invalid_continuation_token"),
    ];
    for (query, code) in cases {
        let reply = app.get(&format!("/v1/auditrecords?{query}"), &key).await;
        assert_eq!(
            (reply.status, reply.code()),
            (StatusCode::BAD_REQUEST, code),
            "{query}: {}",
            reply.body
        );
    }
}

#[tokio::test]
async fn the_openapi_document_describes_the_routes() {
    let app = TestApp::new().await;
    let reply = app
        .request(Method::GET, "/v1/openapi.json", None, &[], Body::empty())
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    let paths = reply.body["paths"].as_object().unwrap();
    for path in [
        "/v1/auditrecords",
        "/v1/auditrecords/{id}",
        "/healthz",
        "/v1/openapi.json",
    ] {
        assert!(paths.contains_key(path), "{path} undocumented");
    }
    let missing = app
        .request(Method::GET, "/v1/nothing", None, &[], Body::empty())
        .await;
    assert_eq!(
        (missing.status, missing.code()),
        (StatusCode::NOT_FOUND, "not_found")
    );
    let health = app
        .request(Method::GET, "/healthz", None, &[], Body::empty())
        .await;
    assert_eq!(health.status, StatusCode::OK);
    let wrong = app
        .request(Method::DELETE, "/v1/auditrecords", None, &[], Body::empty())
        .await;
    assert_eq!(
        (wrong.status, wrong.code()),
        (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed")
    );
}
