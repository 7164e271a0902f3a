//! `/password`: a signed-in user changing their own password. The current one must be right,
//! the new one well formed and repeated; the change ends the user's other sessions only.

use axum::http::{Method, StatusCode};

use actlog_domain::roles::Role;

use crate::support::{PASSWORD, TestApp, enc, text};

const EMAIL: &str = "agent@p1.example";
const NEW: &str = "a brand new passphrase";

/// The CSRF token of the session's forms, read from the password page (which links there from
/// the Account settings menu).
async fn token(app: &TestApp, session: &str) -> String {
    let reply = app.browse(Method::GET, "/password", session, None).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", text(&reply));
    let html = text(&reply);
    assert!(html.contains("href=\"/password\""), "the menu links here");
    let at = html.find("name=\"csrf\" value=\"").unwrap() + 19;
    html[at..at + html[at..].find('"').unwrap()].to_owned()
}

async fn change(app: &TestApp, session: &str, current: &str, new: &str, confirm: &str) -> String {
    let csrf = token(app, session).await;
    let form = format!(
        "csrf={csrf}&current={}&new={}&confirm={}",
        enc(current),
        enc(new),
        enc(confirm)
    );
    let reply = app
        .browse(Method::POST, "/password", session, Some(&form))
        .await;
    format!("{} {}", reply.status.as_u16(), text(&reply))
}

async fn is_signed_in(app: &TestApp, session: &str) -> bool {
    app.browse(Method::GET, "/", session, None).await.status == StatusCode::OK
}

async fn two_sessions() -> (TestApp, String, String) {
    let app = TestApp::new().await;
    app.user("p1", EMAIL, &[Role::AdminAgent]).await;
    let (here, elsewhere) = (app.sign_in(EMAIL).await, app.sign_in(EMAIL).await);
    (app, here, elsewhere)
}

#[tokio::test]
async fn a_wrong_current_password_a_mismatch_or_a_short_one_changes_nothing() {
    let (app, here, elsewhere) = two_sessions().await;

    let wrong = change(&app, &here, "not the password", NEW, NEW).await;
    assert!(wrong.starts_with("401 "), "{wrong}");
    assert!(
        wrong.contains("The current password is incorrect."),
        "{wrong}"
    );
    let mismatch = change(&app, &here, PASSWORD, NEW, "a brand new passphrasE").await;
    assert!(mismatch.starts_with("400 "), "{mismatch}");
    assert!(mismatch.contains("repetition differ"), "{mismatch}");
    let short = change(&app, &here, PASSWORD, "short", "short").await;
    assert!(short.starts_with("400 "), "{short}");
    assert!(short.contains("at least 10 characters"), "{short}");
    let forged = app
        .browse(
            Method::POST,
            "/password",
            &here,
            Some(&format!(
                "current={}&new={}&confirm={}",
                enc(PASSWORD),
                enc(NEW),
                enc(NEW)
            )),
        )
        .await;
    assert_eq!(
        forged.status,
        StatusCode::FORBIDDEN,
        "a form without its token"
    );

    assert!(
        is_signed_in(&app, &elsewhere).await,
        "no change, no session ended"
    );
    assert_eq!(
        app.sign_in_reply(EMAIL, PASSWORD).await.status,
        StatusCode::SEE_OTHER,
        "the old password still signs in"
    );
    assert_eq!(
        app.sign_in_reply(EMAIL, NEW).await.status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn a_changed_password_signs_out_the_other_sessions_only() {
    let (app, here, elsewhere) = two_sessions().await;

    let changed = change(&app, &here, PASSWORD, NEW, NEW).await;
    assert!(changed.starts_with("200 "), "{changed}");
    assert!(
        changed.contains("Your password has been changed."),
        "{changed}"
    );

    assert!(is_signed_in(&app, &here).await, "this session continues");
    assert!(
        !is_signed_in(&app, &elsewhere).await,
        "the other one has ended"
    );
    assert_eq!(
        app.sign_in_reply(EMAIL, PASSWORD).await.status,
        StatusCode::UNAUTHORIZED,
        "the old password no longer signs in"
    );
    assert_eq!(
        app.sign_in_reply(EMAIL, NEW).await.status,
        StatusCode::SEE_OTHER,
        "the new one does"
    );
}

#[tokio::test]
async fn wrong_current_passwords_count_in_the_sign_in_throttle() {
    let (app, here, _) = two_sessions().await;
    let mut statuses = Vec::new();
    for _ in 0..12 {
        let reply = change(&app, &here, "not the password", NEW, NEW).await;
        statuses.push(reply[..3].to_owned());
    }
    assert!(
        statuses.iter().any(|s| s == "429"),
        "guessing here is throttled as at sign-in: {statuses:?}"
    );
    let throttled = app.sign_in_reply(EMAIL, PASSWORD).await;
    assert_eq!(
        throttled.status,
        StatusCode::TOO_MANY_REQUESTS,
        "and counts against signing in: {}",
        text(&throttled)
    );
}
