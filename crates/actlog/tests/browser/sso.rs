//! Sign in with Microsoft through a real OpenID provider's own pages, and the API with the
//! access tokens it issues: roles from the provider at every sign-in, tenants kept apart, key
//! rotation, and every kind of refusal.

use reqwest::StatusCode;
use reqwest::redirect::Policy;
use serde_json::{Value, json};

use crate::support::oidc::{API_AUDIENCE, SsoServer, TENANT_A, TENANT_B, TENANT_UNCONFIGURED};
use crate::support::{self, Browser};

/// One record of `partner`'s (told apart by `id`), for an app token to write.
fn record(id: &str) -> Value {
    json!([{
        "id": id,
        "customerId": format!("customer-{id}"),
        "customerName": format!("Customer {id}"),
        "userPrincipalName": "someone@example.com",
        "resourceType": "customer",
        "operationType": "update_customer",
        "operationStatus": "succeeded",
        "operationDate": jiff::Timestamp::from_second(jiff::Timestamp::now().as_second()).unwrap().to_string(),
    }])
}

/// `method` on `url` with `Authorization: Bearer token`: the status and the body.
async fn call(method: &str, url: &str, token: &str, body: Option<Value>) -> (StatusCode, String) {
    let client = reqwest::Client::new();
    let mut request = match method {
        "POST" => client.post(url),
        _ => client.get(url),
    }
    .header("authorization", format!("Bearer {token}"));
    if let Some(body) = body {
        request = request
            .header("content-type", "application/json")
            .body(body.to_string());
    }
    let reply = request.send().await.unwrap();
    (reply.status(), reply.text().await.unwrap())
}

/// The ids `GET /v1/auditrecords` gives `token`.
async fn ids(server: &SsoServer, token: &str) -> Vec<String> {
    let (status, body) = call(
        "GET",
        &format!("{}/v1/auditrecords", server.url),
        token,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let body: Value = serde_json::from_str(&body).unwrap();
    body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_owned())
        .collect()
}

/// Writes `id` to the partner of `tenant` with its writing application's token.
async fn write_as(server: &SsoServer, tenant: &str, id: &str) {
    let token = server
        .provider
        .app_token(tenant, &format!("writer-{tenant}"), API_AUDIENCE)
        .await;
    let url = format!("{}/v1/auditrecords", server.url);
    let (status, body) = call("POST", &url, &token, Some(record(id))).await;
    assert!(status.is_success(), "{tenant} writes {id}: {status} {body}");
}

/// Signs in on the sign-in page with the work email, then through the provider's own login
/// (any password) and consent pages, until the browser is back at actlog.
async fn sign_in_with_microsoft(browser: &Browser, email: &str, login: &str) {
    browser.goto("/sign-in").await;
    browser
        .wait_for("#work-email")
        .await
        .send_keys(email)
        .await
        .unwrap();
    let button = browser.wait_for("#sso").await;
    assert_eq!(
        button.text().await.unwrap().trim(),
        "Sign in with Microsoft"
    );
    browser.click_and_wait(&button).await;
    through_provider_pages(browser, login).await;
}

/// Through the provider's own login (any password) and consent pages as `login`, until the
/// browser has left the provider; where it landed.
async fn through_provider_pages(browser: &Browser, login: &str) -> reqwest::Url {
    for _ in 0..5 {
        let url = browser.client.current_url().await.unwrap();
        if !url.path().contains("/v2.0/") {
            return url;
        }
        if let Ok(field) = browser
            .client
            .find(fantoccini::Locator::Css("input[name=login]"))
            .await
        {
            // The provider fills in the login_hint (the work email): the login replaces it.
            field.clear().await.unwrap();
            field.send_keys(login).await.unwrap();
            let password = browser.wait_for("input[name=password]").await;
            password.send_keys("any password").await.unwrap();
        }
        let submit = browser.wait_for("button[type=submit]").await;
        browser.click_and_wait(&submit).await;
    }
    panic!(
        "still at the provider: {}",
        browser.client.current_url().await.unwrap()
    );
}

/// The record ids the Activity log page shows.
async fn shown_ids(browser: &Browser) -> Vec<String> {
    browser.goto("/activity-log").await;
    browser.wait_for("table#activity").await;
    let ids = browser
        .script("return [...document.querySelectorAll('tr.record')].map(r => r.dataset.id)")
        .await;
    ids.as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn microsoft_sign_in_lands_on_the_tenants_partner_and_takes_roles_from_the_provider() {
    let Some(server) = SsoServer::start() else {
        return;
    };
    write_as(&server, TENANT_A, "record-of-a").await;
    write_as(&server, TENANT_B, "record-of-b").await;
    let Some(browser) = support::browser_at(&server.url).await else {
        return;
    };

    sign_in_with_microsoft(&browser, "ada@contoso.example", "ada").await;
    assert_eq!(browser.path().await, "/");
    browser.open_menu().await;
    assert!(
        browser.exists("a[href='/activity-log']").await,
        "ada may view the log"
    );
    assert_eq!(shown_ids(&browser).await, ["record-of-a"]);

    // The role is taken away at the provider: gone at the next sign-in.
    browser.sign_out().await;
    assert_eq!(browser.path().await, "/sign-in");
    assert!(
        browser.exists("#provider-sign-out").await,
        "signing out offers the provider's end-session page"
    );
    server.provider.set_roles(TENANT_A, "ada", &[]);
    sign_in_with_microsoft(&browser, "ada@contoso.example", "ada").await;
    assert_eq!(browser.path().await, "/");
    browser.open_menu().await;
    assert!(
        !browser.exists("a[href='/activity-log']").await,
        "the role is gone"
    );
    browser.goto("/activity-log").await;
    assert_eq!(browser.text("h1").await, "Not allowed");
    assert!(!browser.exists("table#activity").await);

    // The second tenant's user sees only the second partner's records.
    let second = support::browser_at(&server.url).await.unwrap();
    sign_in_with_microsoft(&second, "bob@fabrikam.example", "bob").await;
    assert_eq!(shown_ids(&second).await, ["record-of-b"]);

    // A user without a mapped role: no Activity log, 403 from the API through the session.
    let third = support::browser_at(&server.url).await.unwrap();
    sign_in_with_microsoft(&third, "nora@contoso.example", "nora").await;
    assert_eq!(third.path().await, "/");
    third.open_menu().await;
    assert!(!third.exists("a[href='/activity-log']").await);
    third.goto("/v1/auditrecords").await;
    let body = third.script("return document.body.innerText").await;
    let problem: Value = serde_json::from_str(body.as_str().unwrap()).unwrap();
    assert_eq!(problem["status"], 403, "{problem}");
}

#[tokio::test]
async fn app_tokens_read_their_tenants_partner_only_and_write_only_with_the_write_role() {
    let Some(mut server) = SsoServer::start() else {
        return;
    };
    write_as(&server, TENANT_A, "record-of-a").await;
    write_as(&server, TENANT_B, "record-of-b").await;

    let reader = server
        .provider
        .app_token(TENANT_A, "reader-tenant-a", API_AUDIENCE)
        .await;
    assert_eq!(ids(&server, &reader).await, ["record-of-a"]);
    let other = format!("{}/v1/auditrecords/record-of-b", server.url);
    let (status, _) = call("GET", &other, &reader, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "another partner's record");
    let own = format!("{}/v1/auditrecords/record-of-a", server.url);
    assert_eq!(call("GET", &own, &reader, None).await.0, StatusCode::OK);
    let url = format!("{}/v1/auditrecords", server.url);
    let (status, body) = call("POST", &url, &reader, Some(record("not-written"))).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");

    // Keys rotated at the provider: a token signed by the new key works without a restart.
    server.provider.rotate_keys("second");
    let rotated = server
        .provider
        .app_token(TENANT_A, "reader-tenant-a", API_AUDIENCE)
        .await;
    assert_ne!(rotated, reader);
    assert_eq!(ids(&server, &rotated).await, ["record-of-a"]);
    let (status, _) = call("GET", &url, &reader, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "the old key is gone");
}

#[tokio::test]
async fn forged_state_unconfigured_tenant_wrong_issuer_and_wrong_audience_are_refused() {
    let Some(mut server) = SsoServer::start() else {
        return;
    };
    let url = format!("{}/v1/auditrecords", server.url);
    let provider = &server.provider;

    let unconfigured = provider
        .app_token(TENANT_UNCONFIGURED, "reader-tenant-c", API_AUDIENCE)
        .await;
    assert_eq!(
        call("GET", &url, &unconfigured, None).await.0,
        StatusCode::UNAUTHORIZED
    );
    let elsewhere = provider
        .app_token(TENANT_A, "reader-tenant-a", "api://another-api")
        .await;
    assert_eq!(
        call("GET", &url, &elsewhere, None).await.0,
        StatusCode::UNAUTHORIZED
    );
    let right = provider
        .app_token(TENANT_A, "reader-tenant-a", API_AUDIENCE)
        .await;
    assert_eq!(call("GET", &url, &right, None).await.0, StatusCode::OK);

    // A forged state: the sign-in this browser started is not the one that comes back.
    let browser = reqwest::Client::builder()
        .redirect(Policy::none())
        .build()
        .unwrap();
    let start = browser
        .get(format!(
            "{}/auth/start?email=ada@contoso.example",
            server.url
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(start.status(), StatusCode::SEE_OTHER);
    let location = start.headers()["location"].to_str().unwrap().to_owned();
    assert!(
        location.starts_with(&provider.issuer(TENANT_A)),
        "{location}"
    );
    assert!(
        location.contains("code_challenge_method=S256"),
        "{location}"
    );
    assert!(
        location.contains("login_hint=ada%40contoso.example"),
        "{location}"
    );
    let cookie = start.headers()["set-cookie"].to_str().unwrap();
    let cookie = cookie.split(';').next().unwrap().to_owned();
    let forged = browser
        .get(format!(
            "{}/auth/callback?code=whatever&state=forged",
            server.url
        ))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::BAD_REQUEST);
    let page = forged.text().await.unwrap();
    assert!(
        page.contains("The sign-in expired or was started in another window"),
        "{page}"
    );
    assert!(
        page.contains("Sign in with Microsoft"),
        "back on the sign-in page"
    );

    // A domain no tenant has.
    let unknown = browser
        .get(format!(
            "{}/auth/start?email=someone@nowhere.example",
            server.url
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), StatusCode::BAD_REQUEST);
    assert!(unknown.text().await.unwrap().contains("nowhere.example"));

    // An issuer that is not the one expected: refused at sign-in and for tokens.
    let (mut other, other_url) = server.start_with_other_authority();
    let refused = browser
        .get(format!("{other_url}/auth/start?email=ada@contoso.example"))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    let page = refused.text().await.unwrap();
    assert!(page.contains("could not be verified"), "{page}");
    let token_url = format!("{other_url}/v1/auditrecords");
    assert_eq!(
        call("GET", &token_url, &right, None).await.0,
        StatusCode::UNAUTHORIZED
    );
    let _ = other.kill();
    let _ = other.wait();

    // The provider down: the sign-in page says so, with a 502, and nothing is created.
    let (mut down, down_url) = server.start_with_the_provider_down();
    let reply = browser
        .get(format!("{down_url}/auth/start?email=ada@contoso.example"))
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), StatusCode::BAD_GATEWAY);
    let page = reply.text().await.unwrap();
    assert!(
        page.contains("Microsoft sign-in cannot be reached right now"),
        "{page}"
    );
    assert!(
        page.contains("Sign in with Microsoft"),
        "back on the sign-in page"
    );
    let _ = down.kill();
    let _ = down.wait();
}

/// A delegated token, as a tool a user signed in to sends it: the user's authorization code
/// through the provider's own pages, exchanged for an access token to actlog's API.
async fn delegated_token(
    server: &SsoServer,
    browser: &Browser,
    tenant: &str,
    login: &str,
) -> String {
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use sha2::Digest;

    let issuer = server.provider.issuer(tenant);
    let client = format!("tool-{tenant}");
    let redirect = format!("{}{}", server.url, support::oidc::TOOL_REDIRECT_PATH);
    let verifier = format!("delegated-verifier-{login}-0123456789-abcdefghijklmnop");
    let challenge = URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(verifier.as_bytes()));
    let query = [
        ("client_id", client.as_str()),
        ("response_type", "code"),
        ("redirect_uri", redirect.as_str()),
        ("scope", "openid api"),
        ("resource", API_AUDIENCE),
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
        ("state", "tool-state"),
        ("prompt", "login"),
    ];
    let url = reqwest::Url::parse_with_params(&format!("{issuer}/auth"), query).unwrap();
    browser.client.goto(url.as_str()).await.unwrap();
    let at = through_provider_pages(browser, login).await;
    assert_eq!(at.path(), support::oidc::TOOL_REDIRECT_PATH, "{at}");
    let code = at
        .query_pairs()
        .find(|(k, _)| k == "code")
        .map(|(_, v)| v.into_owned());
    let code = code.expect("the provider sends the tool its code");
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", redirect.as_str()),
        ("client_id", client.as_str()),
        ("client_secret", &format!("{client}-secret")),
        ("code_verifier", verifier.as_str()),
        ("resource", API_AUDIENCE),
    ];
    let body = reqwest::Url::parse_with_params("http://x/", form)
        .unwrap()
        .query()
        .unwrap()
        .to_owned();
    let reply = reqwest::Client::new()
        .post(format!("{issuer}/token"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap();
    let status = reply.status();
    let token: Value = serde_json::from_str(&reply.text().await.unwrap()).unwrap();
    assert!(status.is_success(), "delegated token: {status} {token}");
    token["access_token"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn delegated_tokens_read_with_the_users_roles_and_never_write() {
    let Some(server) = SsoServer::start() else {
        return;
    };
    write_as(&server, TENANT_A, "record-of-a").await;
    write_as(&server, TENANT_B, "record-of-b").await;
    let Some(browser) = support::browser_at(&server.url).await else {
        return;
    };
    let url = format!("{}/v1/auditrecords", server.url);

    // Ada's roles map to Admin agent: she reads her tenant's partner, only it, and never
    // writes through a delegated token.
    let ada = delegated_token(&server, &browser, TENANT_A, "ada").await;
    assert_eq!(ids(&server, &ada).await, ["record-of-a"]);
    let other = format!("{url}/record-of-b");
    assert_eq!(
        call("GET", &other, &ada, None).await.0,
        StatusCode::NOT_FOUND
    );
    let (status, body) = call("POST", &url, &ada, Some(record("by-ada"))).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");

    // Nora has no mapped role: her token reads nothing.
    let fresh = support::browser_at(&server.url).await.unwrap();
    let nora = delegated_token(&server, &fresh, TENANT_A, "nora").await;
    let (status, body) = call("GET", &url, &nora, None).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");

    // A role removed at the provider is gone from her next token.
    server.provider.set_roles(TENANT_A, "ada", &[]);
    let again = support::browser_at(&server.url).await.unwrap();
    let ada = delegated_token(&server, &again, TENANT_A, "ada").await;
    assert_eq!(call("GET", &url, &ada, None).await.0, StatusCode::FORBIDDEN);
}
