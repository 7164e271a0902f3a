use axum::body::Body;
use axum::http::{Method, StatusCode};
use serde_json::json;

use crate::support::{TestApp, record};

#[tokio::test]
async fn no_key_or_an_unknown_key_is_401() {
    let app = TestApp::new().await;
    let _real = app.key("p1", "read,write").await;
    for key in [
        None,
        Some("actlog_0000000000_forged"),
        Some("not-a-key"),
        Some(""),
    ] {
        for (method, body) in [(Method::GET, ""), (Method::POST, "[]")] {
            let reply = app
                .request(
                    method.clone(),
                    "/v1/auditrecords",
                    key,
                    &[],
                    Body::from(body),
                )
                .await;
            assert_eq!(
                (reply.status, reply.code()),
                (StatusCode::UNAUTHORIZED, "unauthenticated"),
                "{method} {key:?}"
            );
            assert_eq!(reply.headers["www-authenticate"], "Bearer");
        }
    }
    let basic = app
        .request(
            Method::GET,
            "/v1/auditrecords",
            None,
            &[("authorization", "Basic dXNlcjpwYXNz")],
            Body::empty(),
        )
        .await;
    assert_eq!(basic.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn scopes_limit_what_a_key_may_do() {
    let app = TestApp::new().await;
    let reader = app.key("p1", "read").await;
    let writer = app.key("p1", "write").await;
    let write = app
        .post(
            &reader,
            json!([record("a", "2026-11-20T10:00:00Z", "A")]).to_string(),
        )
        .await;
    assert_eq!(
        (write.status, write.code()),
        (StatusCode::FORBIDDEN, "forbidden")
    );
    assert_eq!(
        app.post(
            &writer,
            json!([record("a", "2026-11-20T10:00:00Z", "A")]).to_string()
        )
        .await
        .status,
        StatusCode::CREATED
    );
    for uri in ["/v1/auditrecords", "/v1/auditrecords/a"] {
        assert_eq!(
            app.get(uri, &writer).await.status,
            StatusCode::FORBIDDEN,
            "{uri}"
        );
        assert_eq!(app.get(uri, &reader).await.status, StatusCode::OK, "{uri}");
    }
}

#[tokio::test]
async fn a_partner_never_sees_another_partners_records() {
    let app = TestApp::new().await;
    let a = app.key("partner-a", "read,write").await;
    let b = app.key("partner-b", "read,write").await;
    let batch: Vec<_> = (0..5)
        .map(|i| record(&format!("a{i}"), "2026-11-20T10:00:00Z", "Secret Customer"))
        .collect();
    app.post(&a, json!(batch).to_string()).await;
    app.post(
        &b,
        json!([record("shared-id", "2026-11-20T10:00:00Z", "B's own")]).to_string(),
    )
    .await;
    app.post(
        &a,
        json!([record("shared-id", "2026-11-20T10:00:00Z", "A's own")]).to_string(),
    )
    .await;

    // B cannot fetch A's ids, and its own copy of a shared id is its own.
    assert_eq!(
        app.get("/v1/auditrecords/a0", &b).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get("/v1/auditrecords/shared-id", &b).await.body["customerName"],
        "B's own"
    );
    // B's listing, filtered on A's customer, holds nothing of A's.
    let page = app.get("/v1/auditrecords?startDate=2026-11-01", &b).await;
    assert_eq!(page.body["items"].as_array().unwrap().len(), 1);
    assert!(!page.raw.windows(6).any(|w| w == b"Secret"));
    // A's continuation token is refused when B presents it.
    let first = app
        .get("/v1/auditrecords?startDate=2026-11-01&size=2", &a)
        .await;
    let token = first.body["continuationToken"].as_str().unwrap();
    let stolen = app.get(&format!("/v1/auditrecords?seek={token}"), &b).await;
    assert_eq!(
        (stolen.status, stolen.code()),
        (StatusCode::BAD_REQUEST, "invalid_continuation_token")
    );
    assert!(!stolen.raw.windows(6).any(|w| w == b"Secret"));
    // A record that names another partner is refused.
    let mut forged = record("f", "2026-11-20T10:00:00Z", "X");
    forged["partnerId"] = json!("partner-a");
    assert_eq!(
        app.post(&b, json!([forged]).to_string()).await.code(),
        "invalid_record"
    );
}
