//! A row's details, loaded on expand from `/activity-log/details`: the page stays small with
//! heavy records, the fragment keeps every detail, escapes hostile text, and answers only the
//! signed-in user's partner.

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use actlog_domain::roles::Role;

use crate::support::{TestApp, enc, record, text};

const ADMIN: &str = "admin@p1.example";

async fn signed_in() -> (TestApp, String, String) {
    let app = TestApp::new().await;
    let key = app.key("p1", "write").await;
    app.user("p1", ADMIN, &[Role::AdminAgent]).await;
    let session = app.sign_in(ADMIN).await;
    (app, session, key)
}

async fn post(app: &TestApp, key: &str, records: Value) {
    let reply = app.post(key, records.to_string()).await;
    assert!(reply.status.is_success(), "{}", text(&reply));
}

async fn get(app: &TestApp, session: &str, uri: &str) -> (StatusCode, String) {
    let reply = app.browse(Method::GET, uri, session, None).await;
    (reply.status, text(&reply))
}

fn details_uri(id: &str) -> String {
    format!("/activity-log/details?id={}", enc(id))
}

/// The large-details row shape of the benchmark (`actlog-bench --shape large`): a long customer
/// name, an order of a dozen products (about 2 KB of values) and 40 customizedData entries.
fn large(n: usize) -> Value {
    let name = format!(
        "Società Cooperativa Agricola e Zootecnica \"La Grande Pianura Padana\" di Produttori \
         Associati, S.c.a.r.l. — Filiale numero {n:04} di Reggio nell'Emilia"
    );
    let items: Vec<Value> = (0..12)
        .map(|i| {
            json!({ "LineItemNumber": i, "OfferId": format!("CFQ7TTC0LH18:0001:CFQ7TTC0K{i:03}"),
                    "SubscriptionId": format!("5f0c4a8e-9b7d-4c21-8e3f-{n:06}{i:06}"),
                    "FriendlyName": format!("Microsoft 365 Business Premium, annual commitment, product {i}"),
                    "Quantity": 10 + i })
        })
        .collect();
    let new_value = json!({ "Id": format!("order-{n}"), "ReferenceCustomerId": format!("cust-{n}"),
                            "BillingCycle": "monthly", "LineItems": items, "Status": "completed" });
    let customized: Vec<Value> = (0..40)
        .map(|i| json!({ "key": format!("CustomizedKey{i:02}"), "value": format!("value number {i} of record {n}") }))
        .collect();
    json!({
        "id": format!("large-{n:04}"),
        "customerId": format!("7d3c2a1b-0f9e-4d8c-b7a6-{n:012}"),
        "customerName": name,
        "userPrincipalName": format!("a.very.long.partner.user.name.{n}@subsidiary.of.a.large.partner.example.com"),
        "applicationId": "1b3c5d7e-9f11-4a3b-8c5d-7e9f1a3b5c7d",
        "resourceType": "order",
        "operationType": "create_order",
        "operationStatus": "succeeded",
        "operationDate": format!("2026-11-{:02}T{:02}:{:02}:00Z", 1 + n % 24, n % 24, n % 60),
        "resourceNewValue": new_value.to_string(),
        "customizedData": customized,
        "sessionId": format!("session-{n}"),
        "originalCorrelationId": format!("correlation-{n}"),
    })
}

#[tokio::test]
async fn fifty_rows_of_large_records_stay_under_100_kb_and_keep_their_details() {
    let (app, session, key) = signed_in().await;
    let records: Vec<Value> = (0..60).map(large).collect();
    let details_shape = records[0]["resourceNewValue"].as_str().unwrap().len();
    assert!(
        details_shape >= 2000,
        "the shape's details: {details_shape} bytes"
    );
    post(&app, &key, Value::Array(records)).await;

    let (status, html) = get(&app, &session, "/activity-log").await;
    assert_eq!(status, StatusCode::OK);
    let rows = html.matches("<tr class=\"record\"").count();
    assert_eq!(rows, 50, "a full page");
    let mut inline = html.len();
    for n in 0..60 {
        let (_, fragment) = get(&app, &session, &details_uri(&format!("large-{n:04}"))).await;
        if html.contains(&format!("data-id=\"large-{n:04}\"")) {
            inline += fragment.len();
        }
    }
    eprintln!(
        "50 large rows: {} bytes of HTML; with every row's details inline it would be {inline}",
        html.len()
    );
    assert!(
        html.len() < 100_000,
        "{} bytes of HTML for 50 rows",
        html.len()
    );

    // Every detail is one expand away.
    let (status, fragment) = get(&app, &session, &details_uri("large-0007")).await;
    assert_eq!(status, StatusCode::OK);
    for text in [
        "Microsoft 365 Business Premium, annual commitment, product 11",
        "5f0c4a8e-9b7d-4c21-8e3f-000007000011",
        "CFQ7TTC0LH18:0001:CFQ7TTC0K011",
        "CustomizedKey39",
        "value number 39 of record 7",
        "7d3c2a1b-0f9e-4d8c-b7a6-000000000007",
        "1b3c5d7e-9f11-4a3b-8c5d-7e9f1a3b5c7d",
        "session-7",
        "correlation-7",
        "<summary>Raw record (JSON)</summary>",
    ] {
        assert!(fragment.contains(text), "{text} in the details");
    }
    assert!(
        !fragment.contains("<html"),
        "a fragment for the row, not a page"
    );
}

#[tokio::test]
async fn fifty_rows_of_the_demos_records_stay_under_100_kb() {
    let (app, session, key) = signed_in().await;
    let mut spec = actlog_demo::DemoSpec::standard("2026-11-25T11:00:00Z".parse().unwrap());
    spec.partner_id = "p1".to_owned();
    spec.records = 2_000;
    // The newest: the ones the default month shows first.
    let records: Vec<Value> = actlog_demo::generate(&spec)
        .map(|r| serde_json::to_value(r).unwrap())
        .collect();
    post(
        &app,
        &key,
        Value::Array(records[records.len() - 200..].to_vec()),
    )
    .await;
    let (status, html) = get(&app, &session, "/activity-log").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(html.matches("<tr class=\"record\"").count(), 50);
    eprintln!("50 demo rows: {} bytes of HTML", html.len());
    assert!(html.len() < 100_000, "{} bytes", html.len());
}

#[tokio::test]
async fn hostile_text_in_the_details_is_escaped() {
    let (app, session, key) = signed_in().await;
    let hostile = "</script><img src=x onerror=alert(1)>\"quoted\"";
    let mut r = record("h1", "2026-11-20T10:00:00Z", hostile);
    r["customizedData"] = json!([{ "key": hostile, "value": hostile }]);
    r["resourceOldValue"] = json!(json!({ "Name": hostile, "Quantity": 1 }).to_string());
    r["resourceNewValue"] = json!(json!({ "Name": hostile, "Quantity": 2 }).to_string());
    r["sessionId"] = json!(hostile);
    post(&app, &key, json!([r])).await;
    let (status, fragment) = get(&app, &session, &details_uri("h1")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(!fragment.contains("<img"), "{fragment}");
    assert!(!fragment.contains("</script>"), "{fragment}");
    assert!(!fragment.contains("\"quoted\""), "{fragment}");
    assert!(
        fragment.contains("&#60;img src=x onerror=alert(1)&#62;")
            || fragment.contains("&lt;img src=x onerror=alert(1)&gt;"),
        "{fragment}"
    );
}

#[tokio::test]
async fn details_are_only_the_signed_in_partners() {
    let (app, session, key) = signed_in().await;
    let mut r = record("secret", "2026-11-20T10:00:00Z", "Relecloud");
    r["customizedData"] = json!([{ "key": "Secret", "value": "the p1 secret" }]);
    post(&app, &key, json!([r])).await;
    let (status, fragment) = get(&app, &session, &details_uri("secret")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(fragment.contains("the p1 secret"));

    app.user("p2", "admin@p2.example", &[Role::GlobalAdmin])
        .await;
    let other = app.sign_in("admin@p2.example").await;
    let (status, body) = get(&app, &other, &details_uri("secret")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(!body.contains("the p1 secret") && !body.contains("Relecloud"));
    let (status, _) = get(&app, &session, &details_uri("no-such-record")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Signed out: to the sign-in page, no details.
    let reply = app
        .browse(Method::GET, &details_uri("secret"), "", None)
        .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER);
    assert!(!text(&reply).contains("the p1 secret"));
}
