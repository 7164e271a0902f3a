use axum::body::Body;
use axum::http::{Method, StatusCode};

use actlog_domain::roles::Role;

use crate::support::{PASSWORD, TestApp, set_cookie, text};

#[tokio::test]
async fn signing_in_gives_a_fresh_http_only_session_and_signing_out_ends_it() {
    let app = TestApp::new().await;
    app.user("p1", "Agent@Partner.example", &[Role::AdminAgent])
        .await;
    let reply = app.sign_in_reply("agent@partner.example", PASSWORD).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", text(&reply));
    let cookie_line = reply
        .headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|v| v.starts_with("actlog_session="))
        .unwrap();
    assert!(
        cookie_line.contains("HttpOnly") && cookie_line.contains("SameSite=Lax"),
        "{cookie_line}"
    );
    let session = format!(
        "actlog_session={}",
        set_cookie(&reply, "actlog_session").unwrap()
    );

    // Signing in again while holding a session gives a new id and ends the old one.
    let renewed = app
        .sign_in_with("agent@partner.example", PASSWORD, &session)
        .await;
    let renewed = format!(
        "actlog_session={}",
        set_cookie(&renewed, "actlog_session").unwrap()
    );
    assert_ne!(renewed, session);
    assert_eq!(
        app.browse(Method::GET, "/", &session, None).await.status,
        StatusCode::SEE_OTHER
    );
    let session = renewed;

    let home = app.browse(Method::GET, "/", &session, None).await;
    assert_eq!(home.status, StatusCode::OK);
    assert!(text(&home).contains("agent@partner.example"));
    let csrf = extract_csrf(&text(&home));

    // Sign-out without the session's CSRF token is refused and the session lives on.
    let forged = app
        .browse(Method::POST, "/sign-out", &session, Some("csrf=wrong"))
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert_eq!(
        app.browse(Method::GET, "/", &session, None).await.status,
        StatusCode::OK
    );

    let out = app
        .browse(
            Method::POST,
            "/sign-out",
            &session,
            Some(&format!("csrf={csrf}")),
        )
        .await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    let after = app.browse(Method::GET, "/", &session, None).await;
    assert_eq!(
        after.status,
        StatusCode::SEE_OTHER,
        "signed out: back to the sign-in page"
    );
    assert_eq!(after.headers["location"], "/sign-in?next=/");
}

fn extract_csrf(html: &str) -> String {
    let at =
        html.find("name=\"csrf\" value=\"").expect("a CSRF field") + "name=\"csrf\" value=\"".len();
    html[at..].split('"').next().unwrap().to_owned()
}

#[tokio::test]
async fn a_sign_in_post_without_its_csrf_token_is_refused() {
    let app = TestApp::new().await;
    app.user("p1", "agent@partner.example", &[Role::AdminAgent])
        .await;
    let body = format!(
        "email=agent%40partner.example&password={}&csrf=",
        PASSWORD.replace(' ', "+")
    );
    let reply = app.browse(Method::POST, "/sign-in", "", Some(&body)).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert!(set_cookie(&reply, "actlog_session").is_none());
    let mismatched = app
        .browse(
            Method::POST,
            "/sign-in",
            "actlog_csrf=abc",
            Some(&format!("{body}xyz")),
        )
        .await;
    assert_eq!(mismatched.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn failures_say_nothing_about_whether_the_account_exists_and_are_throttled() {
    let app = TestApp::new().await;
    app.user("p1", "agent@partner.example", &[Role::AdminAgent])
        .await;
    let wrong = app
        .sign_in_reply("agent@partner.example", "not the password")
        .await;
    let unknown = app
        .sign_in_reply("nobody@partner.example", "not the password")
        .await;
    assert_eq!(
        (wrong.status, unknown.status),
        (StatusCode::UNAUTHORIZED, StatusCode::UNAUTHORIZED)
    );
    let message = |r: &crate::support::Reply| {
        let html = text(r);
        let at = html.find("role=\"alert\">").unwrap();
        html[at..].split('<').next().unwrap().to_owned()
    };
    assert_eq!(message(&wrong), message(&unknown));

    for _ in 0..4 {
        app.sign_in_reply("agent@partner.example", "still wrong")
            .await;
    }
    let throttled = app.sign_in_reply("agent@partner.example", PASSWORD).await;
    assert_eq!(
        throttled.status,
        StatusCode::TOO_MANY_REQUESTS,
        "the right password waits too"
    );
    assert!(set_cookie(&throttled, "actlog_session").is_none());
}

#[tokio::test]
async fn a_disabled_users_session_stops_working() {
    let app = TestApp::new().await;
    app.user("p1", "agent@partner.example", &[Role::AdminAgent])
        .await;
    let session = app.sign_in("agent@partner.example").await;
    assert_eq!(
        app.browse(Method::GET, "/v1/auditrecords", &session, None)
            .await
            .status,
        StatusCode::OK
    );
    app.store
        .set_disabled("agent@partner.example", true)
        .await
        .unwrap();
    assert_eq!(
        app.browse(Method::GET, "/v1/auditrecords", &session, None)
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.browse(Method::GET, "/", &session, None).await.status,
        StatusCode::SEE_OTHER
    );
    let again = app.sign_in_reply("agent@partner.example", PASSWORD).await;
    assert_eq!(again.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn sessions_expire_when_idle_and_after_their_lifetime() {
    let app = TestApp::new().await;
    app.user("p1", "agent@partner.example", &[Role::AdminAgent])
        .await;
    let session = app.sign_in("agent@partner.example").await;
    // Active every 20 minutes: alive past the idle limit of 30 minutes...
    for _ in 0..6 {
        app.advance(jiff::SignedDuration::from_mins(20));
        assert_eq!(
            app.browse(Method::GET, "/", &session, None).await.status,
            StatusCode::OK
        );
    }
    // ...but not after 40 idle minutes.
    app.advance(jiff::SignedDuration::from_mins(40));
    assert_eq!(
        app.browse(Method::GET, "/", &session, None).await.status,
        StatusCode::SEE_OTHER
    );

    let session = app.sign_in("agent@partner.example").await;
    for _ in 0..37 {
        app.advance(jiff::SignedDuration::from_mins(20));
        app.browse(Method::GET, "/", &session, None).await;
    }
    assert_eq!(
        app.browse(Method::GET, "/", &session, None).await.status,
        StatusCode::SEE_OTHER,
        "12 hours at most"
    );
}

#[tokio::test]
async fn pages_follow_the_browsers_language_and_escape_what_they_show() {
    let app = TestApp::new().await;
    let italian = app
        .request(
            Method::GET,
            "/sign-in",
            None,
            &[("accept-language", "it-IT,it;q=0.9")],
            Body::empty(),
        )
        .await;
    assert!(text(&italian).contains("Accedi"), "{}", text(&italian));
    assert!(text(&italian).contains("lang=\"it-IT\""));
    let next = app
        .request(
            Method::GET,
            "/sign-in?next=/%22%3E%3Cscript%3Ealert(1)%3C/script%3E",
            None,
            &[],
            Body::empty(),
        )
        .await;
    assert!(
        !text(&next).contains("<script>alert"),
        "the return path is escaped"
    );
    let csp = next.headers["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains("default-src 'none'") && !csp.contains("unsafe-inline"),
        "{csp}"
    );
    let elsewhere = app
        .request(
            Method::GET,
            "/sign-in?next=//evil.example/",
            None,
            &[],
            Body::empty(),
        )
        .await;
    assert!(
        !text(&elsewhere).contains("evil.example"),
        "no redirect to other sites"
    );
}

/// A sign-in form post that came from `peer`, with `forwarded_for` as `X-Forwarded-For`.
async fn sign_in_from(
    app: &TestApp,
    email: &str,
    password: &str,
    peer: &str,
    forwarded_for: Option<&str>,
) -> StatusCode {
    use tower::ServiceExt;
    let form_page = app
        .request(Method::GET, "/sign-in", None, &[], Body::empty())
        .await;
    let csrf = set_cookie(&form_page, "actlog_csrf").unwrap();
    let body = format!(
        "email={}&password={}&csrf={csrf}&next=%2F",
        email.replace('@', "%40"),
        password.replace(' ', "+")
    );
    let mut request = axum::http::Request::builder()
        .method(Method::POST)
        .uri("/sign-in")
        .header("cookie", format!("actlog_csrf={csrf}"))
        .header("content-type", "application/x-www-form-urlencoded");
    if let Some(hops) = forwarded_for {
        request = request.header("x-forwarded-for", hops);
    }
    let mut request = request.body(Body::from(body)).unwrap();
    let peer: std::net::SocketAddr = peer.parse().unwrap();
    request
        .extensions_mut()
        .insert(axum::extract::ConnectInfo(peer));
    app.app.clone().oneshot(request).await.unwrap().status()
}

fn behind_proxy() -> actlog_server::state::ServerConfig {
    let mut config = actlog_server::state::ServerConfig::default();
    config.sign_in.trusted_proxies =
        actlog_server::client_addr::TrustedProxies(vec!["10.0.0.0/8".parse().unwrap()]);
    config
}

/// Issue: 120 concurrent wrong-password sign-ins for one account all reached the password
/// check (and each held ~19 MB). Now attempts on one account take turns, so each sees the
/// failures before it: only the free ones are checked, the rest are throttled (or, past the
/// queue wait, told to come back), and none signs in.
#[tokio::test]
async fn concurrent_wrong_password_sign_ins_do_not_all_reach_the_password_check() {
    let app = std::sync::Arc::new(TestApp::new().await);
    app.user("p1", "agent@partner.example", &[Role::AdminAgent])
        .await;
    let attempts: Vec<_> = (0..40)
        .map(|_| {
            let app = app.clone();
            tokio::spawn(async move {
                sign_in_from(
                    &app,
                    "agent@partner.example",
                    "wrong password",
                    "198.51.100.1:5000",
                    None,
                )
                .await
            })
        })
        .collect();
    let mut checked = 0;
    for attempt in attempts {
        match attempt.await.unwrap() {
            StatusCode::UNAUTHORIZED => checked += 1,
            StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE => {}
            other => panic!("unexpected {other}"),
        }
    }
    assert_eq!(
        checked, 5,
        "only the free attempts reach the password check"
    );
}

/// Issue: five bad attempts by anyone locked a known account for 15 minutes, even for its
/// owner with the right password. Now a stranger's failures from elsewhere (here behind a
/// trusted proxy, which names each client) leave the owner's own sign-in alone.
#[tokio::test]
async fn a_strangers_wrong_guesses_from_elsewhere_do_not_lock_the_owner_out() {
    let app = TestApp::configured(behind_proxy(), "2026-11-25T12:00:00Z").await;
    app.user("p1", "agent@partner.example", &[Role::AdminAgent])
        .await;
    for _ in 0..8 {
        sign_in_from(
            &app,
            "agent@partner.example",
            "a guess",
            "10.0.0.1:5000",
            Some("203.0.113.66"),
        )
        .await;
    }
    let stranger = sign_in_from(
        &app,
        "agent@partner.example",
        PASSWORD,
        "10.0.0.1:5000",
        Some("203.0.113.66"),
    )
    .await;
    assert_eq!(stranger, StatusCode::TOO_MANY_REQUESTS, "the guesser waits");
    let owner = sign_in_from(
        &app,
        "agent@partner.example",
        PASSWORD,
        "10.0.0.1:5000",
        Some("198.51.100.20"),
    )
    .await;
    assert_eq!(owner, StatusCode::SEE_OTHER, "the owner signs in");
}

/// Issue: behind a proxy all users share its address, so 30 bad attempts by anyone blocked
/// every sign-in for 15 minutes. With the proxy trusted, each client is counted alone; and
/// `X-Forwarded-For` from anyone else is not believed (an attacker cannot spread its
/// failures over invented addresses).
#[tokio::test]
async fn one_address_behind_a_trusted_proxy_does_not_block_everyone_behind_it() {
    let app = TestApp::configured(behind_proxy(), "2026-11-25T12:00:00Z").await;
    app.user("p1", "agent@partner.example", &[Role::AdminAgent])
        .await;
    for i in 0..31 {
        sign_in_from(
            &app,
            &format!("nobody{i}@partner.example"),
            "a guess",
            "10.0.0.1:5000",
            Some("203.0.113.66"),
        )
        .await;
    }
    let attacker = sign_in_from(
        &app,
        "someone@partner.example",
        "a guess",
        "10.0.0.1:5000",
        Some("203.0.113.66"),
    )
    .await;
    assert_eq!(attacker, StatusCode::TOO_MANY_REQUESTS);
    let colleague = sign_in_from(
        &app,
        "agent@partner.example",
        PASSWORD,
        "10.0.0.1:5000",
        Some("198.51.100.20"),
    )
    .await;
    assert_eq!(colleague, StatusCode::SEE_OTHER);

    // Without the proxy trusted, the header changes nothing: the failures stay on the peer.
    let direct = TestApp::new().await;
    direct
        .user("p1", "agent@partner.example", &[Role::AdminAgent])
        .await;
    for i in 0..6 {
        let forged = format!("203.0.113.{i}");
        sign_in_from(
            &direct,
            "agent@partner.example",
            "a guess",
            "198.51.100.9:5000",
            Some(&forged),
        )
        .await;
    }
    let again = sign_in_from(
        &direct,
        "agent@partner.example",
        PASSWORD,
        "198.51.100.9:5000",
        Some("192.0.2.1"),
    )
    .await;
    assert_eq!(again, StatusCode::TOO_MANY_REQUESTS);
}

/// Failures past the free ones back off (1 s, 2 s, …) rather than locking the account for
/// the whole window: the owner waits seconds, not 15 minutes.
#[tokio::test]
async fn throttling_backs_off_for_seconds_rather_than_locking_for_the_window() {
    let app = TestApp::new().await;
    app.user("p1", "agent@partner.example", &[Role::AdminAgent])
        .await;
    for _ in 0..5 {
        app.sign_in_reply("agent@partner.example", "wrong").await;
    }
    let throttled = app.sign_in_reply("agent@partner.example", PASSWORD).await;
    assert_eq!(throttled.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(throttled.headers["retry-after"], "1");
    app.advance(jiff::SignedDuration::from_secs(2));
    let owner = app.sign_in_reply("agent@partner.example", PASSWORD).await;
    assert_eq!(owner.status, StatusCode::SEE_OTHER);
}
