//! Every role × every protected route, and partner isolation for signed-in users.

use axum::http::{Method, StatusCode};
use serde_json::json;

use actlog_domain::roles::{AccessPolicy, Role};
use actlog_server::ServerConfig;

use crate::support::{TestApp, record, text};

/// The routes that show or export the activity log.
const PROTECTED: [&str; 6] = [
    "/activity-log",
    "/activity-log/details?id=r1",
    "/customers/cust-Relecloud/subscriptions",
    "/v1/auditrecords?startDate=2026-11-01",
    "/v1/auditrecords/r1",
    "/v1/auditrecords/export?startDate=2026-11-01",
];

fn email(role: Option<Role>) -> String {
    format!(
        "{}@p1.example",
        role.map_or("none".to_owned(), |r| r.code())
    )
}

#[tokio::test]
async fn every_role_on_every_protected_route() {
    let app = TestApp::new().await;
    let key = app.key("p1", "write").await;
    app.post(
        &key,
        json!([record("r1", "2026-11-20T10:00:00Z", "Relecloud")]).to_string(),
    )
    .await;
    let allowed = [
        Role::GlobalAdmin,
        Role::BillingAdmin,
        Role::UserManagementAdmin,
        Role::AdminAgent,
        Role::SalesAgent,
        Role::HelpdeskAgent,
    ];
    for role in Role::ALL.into_iter().map(Some).chain([None]) {
        app.user("p1", &email(role), &role.into_iter().collect::<Vec<_>>())
            .await;
        let session = app.sign_in(&email(role)).await;
        let may = role.is_some_and(|r| allowed.contains(&r));
        for route in PROTECTED {
            let reply = app.browse(Method::GET, route, &session, None).await;
            let expected = if may {
                StatusCode::OK
            } else {
                StatusCode::FORBIDDEN
            };
            assert_eq!(
                reply.status,
                expected,
                "{role:?} on {route}: {}",
                text(&reply)
            );
        }
        let home = text(&app.browse(Method::GET, "/", &session, None).await);
        assert_eq!(
            home.contains("href=\"/activity-log\""),
            may,
            "{role:?}: the Activity log entry"
        );
        let write = app
            .browse(Method::POST, "/v1/auditrecords", &session, Some("[]"))
            .await;
        assert_eq!(
            write.status,
            StatusCode::FORBIDDEN,
            "{role:?}: people never write records"
        );
    }
}

#[tokio::test]
async fn the_allowed_roles_are_configuration() {
    let config = ServerConfig {
        policy: AccessPolicy::new([Role::AdminAgent]),
        ..ServerConfig::default()
    };
    let app = TestApp::configured(config, "2026-11-25T12:00:00Z").await;
    app.user("p1", "global@p1.example", &[Role::GlobalAdmin])
        .await;
    app.user("p1", "agent@p1.example", &[Role::AdminAgent])
        .await;
    let global = app.sign_in("global@p1.example").await;
    let agent = app.sign_in("agent@p1.example").await;
    assert_eq!(
        app.browse(Method::GET, PROTECTED[0], &global, None)
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.browse(Method::GET, PROTECTED[0], &agent, None)
            .await
            .status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_signed_in_user_gets_nothing_of_another_partner() {
    let app = TestApp::new().await;
    let a = app.key("partner-a", "read,write").await;
    let b = app.key("partner-b", "write").await;
    app.post(
        &a,
        json!([
            record("a1", "2026-11-20T10:00:00Z", "A's customer"),
            record("a2", "2026-11-20T11:00:00Z", "A's customer")
        ])
        .to_string(),
    )
    .await;
    app.post(
        &b,
        json!([record("b1", "2026-11-20T10:00:00Z", "B's customer")]).to_string(),
    )
    .await;
    app.user("partner-b", "agent@b.example", &[Role::AdminAgent])
        .await;
    let session = app.sign_in("agent@b.example").await;

    assert_eq!(
        app.browse(Method::GET, "/v1/auditrecords/a1", &session, None)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let filter = crate::support::enc(
        r#"{"Field":"CustomerId","Value":"cust-A's customer","Operator":"equals"}"#,
    );
    let by_customer = app
        .browse(
            Method::GET,
            &format!("/v1/auditrecords?startDate=2026-11-01&filter={filter}"),
            &session,
            None,
        )
        .await;
    assert_eq!(by_customer.body["items"], json!([]));
    let first = app
        .get("/v1/auditrecords?startDate=2026-11-01&size=1", &a)
        .await;
    let token = first.body["continuationToken"].as_str().unwrap();
    let stolen = app
        .browse(
            Method::GET,
            &format!("/v1/auditrecords?seek={token}"),
            &session,
            None,
        )
        .await;
    assert_eq!(stolen.status, StatusCode::BAD_REQUEST);
    let own = app
        .browse(
            Method::GET,
            "/v1/auditrecords?startDate=2026-11-01",
            &session,
            None,
        )
        .await;
    assert_eq!(own.body["items"].as_array().unwrap().len(), 1);
    assert!(!text(&own).contains("A's customer"));
}
