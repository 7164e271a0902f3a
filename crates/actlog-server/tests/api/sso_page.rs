//! The sign-in page as `[sso]` shapes it: one tenant goes straight to the provider (no work
//! email asked), several ask for the work email first, and `local_accounts = false` leaves no
//! password form and refuses a password sign-in posted anyway.

use std::collections::BTreeMap;
use std::sync::Arc;

use actlog_app::oidc::{Oidc, OidcSettings};
use actlog_domain::roles::Role;
use actlog_server::ServerConfig;
use actlog_server::sso::{Sso, SsoTenant};
use axum::body::Body;
use axum::http::{Method, StatusCode};

use crate::support::{PASSWORD, TestApp, enc, set_cookie};

fn tenant(id: &str, partner: &str, domain: &str) -> SsoTenant {
    SsoTenant {
        tenant_id: id.into(),
        partner: partner.into(),
        domains: vec![domain.into()],
    }
}

/// A server signing in through `tenants` of an authority on a closed loopback port (nothing
/// here reaches it: the page is rendered without discovery).
async fn app_with(tenants: Vec<SsoTenant>, local_accounts: bool) -> TestApp {
    let oidc = Oidc::new(OidcSettings {
        authority: "http://127.0.0.1:9".into(),
        client_id: "actlog".into(),
        client_secret: "secret".into(),
        redirect_uri: "http://127.0.0.1:8080/auth/callback".into(),
        tenants: tenants.iter().map(|t| t.tenant_id.clone()).collect(),
        api_audience: None,
    });
    let sso = Sso {
        oidc,
        tenants,
        roles: BTreeMap::from([("Reader".into(), vec![Role::AdminAgent])]),
        api_roles: BTreeMap::new(),
        local_accounts,
    };
    let config = ServerConfig {
        sso: Some(Arc::new(sso)),
        ..ServerConfig::default()
    };
    TestApp::configured(config, "2026-11-25T12:00:00Z").await
}

async fn sign_in_page(app: &TestApp) -> String {
    let page = app
        .request(Method::GET, "/sign-in", None, &[], Body::empty())
        .await;
    assert_eq!(page.status, StatusCode::OK);
    String::from_utf8(page.raw).unwrap()
}

#[tokio::test]
async fn one_tenant_goes_straight_to_the_provider_beside_the_password_form() {
    let app = app_with(vec![tenant("t1", "p1", "contoso.example")], true).await;
    let html = sign_in_page(&app).await;
    assert!(html.contains("id=\"sso\""), "Sign in with Microsoft");
    assert!(!html.contains("id=\"work-email\""), "no work email asked");
    assert!(
        html.contains("name=\"password\""),
        "the password form stays"
    );
}

#[tokio::test]
async fn several_tenants_ask_for_the_work_email_first() {
    let app = app_with(
        vec![
            tenant("t1", "p1", "contoso.example"),
            tenant("t2", "p2", "fabrikam.example"),
        ],
        true,
    )
    .await;
    let html = sign_in_page(&app).await;
    assert!(
        html.contains("id=\"work-email\""),
        "the work email picks the tenant"
    );
    assert!(html.contains("id=\"sso\""));
}

#[tokio::test]
async fn without_local_accounts_there_is_no_password_form_and_a_posted_one_is_refused() {
    let app = app_with(vec![tenant("t1", "p1", "contoso.example")], false).await;
    app.user("p1", "local@p1.example", &[Role::AdminAgent])
        .await;
    let html = sign_in_page(&app).await;
    assert!(html.contains("id=\"sso\""));
    assert!(!html.contains("name=\"password\""), "no password form");

    let form = app
        .request(Method::GET, "/sign-in", None, &[], Body::empty())
        .await;
    let csrf = set_cookie(&form, "actlog_csrf").unwrap();
    let body = format!(
        "email={}&password={}&csrf={csrf}&next=%2F",
        enc("local@p1.example"),
        enc(PASSWORD)
    );
    let reply = app
        .browse(
            Method::POST,
            "/sign-in",
            &format!("actlog_csrf={csrf}"),
            Some(&body),
        )
        .await;
    assert_eq!(
        reply.status,
        StatusCode::FORBIDDEN,
        "the right password does not sign in"
    );
    assert!(set_cookie(&reply, "actlog_session").is_none(), "no session");
}
