//! Signing in and out, and what each role finds behind the sign-in.

use serde_json::Value;

use crate::support::{self, ACCOUNT_ADMIN, GLOBAL_ADMIN, NO_ROLE, PASSWORD};

#[tokio::test]
async fn sign_in_through_a_real_browser() {
    let Some((browser, _demo)) = support::start().await else {
        return;
    };
    browser.goto("/").await;
    browser.wait_for("#email").await;
    assert_eq!(
        browser.path().await,
        "/sign-in",
        "/ sends strangers to sign in"
    );

    browser
        .sign_in_by_labels(GLOBAL_ADMIN, PASSWORD, "Sign in")
        .await;

    assert_eq!(browser.path().await, "/");
    assert_eq!(
        browser.text("header details.menu > summary").await,
        "Account settings"
    );
    let menu_link = "details.menu a[href='/activity-log']";
    browser.open_menu().await;
    let link = browser.wait_for(menu_link).await;
    assert!(link.is_displayed().await.unwrap(), "the open menu shows it");
    assert_eq!(link.text().await.unwrap().trim(), "Activity log");

    browser.sign_out().await;
    assert_eq!(browser.path().await, "/sign-in");
    browser.wait_for("#email").await;
    // The session is over, not just the page: the home page sends back to sign-in.
    browser.goto("/").await;
    browser.wait_for("#email").await;
    assert_eq!(browser.path().await, "/sign-in");
    assert!(!browser.exists("details.menu").await);
}

#[tokio::test]
async fn a_wrong_password_shows_an_error_and_stays_on_sign_in() {
    let Some((browser, _demo)) = support::start().await else {
        return;
    };
    browser.sign_in(GLOBAL_ADMIN, "not-the-password").await;

    assert_eq!(browser.path().await, "/sign-in");
    let error = browser.text("p.error[role=alert]").await;
    assert_eq!(error, "The email or password is incorrect.");
    assert!(!browser.exists("details.menu").await, "not signed in");

    // The form is there to try again, and the right password then works.
    browser.sign_in(GLOBAL_ADMIN, PASSWORD).await;
    assert_eq!(browser.path().await, "/");
    browser.wait_for("details.menu").await;
}

#[tokio::test]
async fn roles_without_the_activity_log_see_no_link_and_cannot_export() {
    let Some((browser, _demo)) = support::start().await else {
        return;
    };
    for user in [ACCOUNT_ADMIN, NO_ROLE] {
        browser.sign_in(user, PASSWORD).await;
        assert_eq!(browser.path().await, "/", "{user} signs in");
        let menu = browser.open_menu().await;
        let menu_text = menu.text().await.unwrap();
        assert!(
            menu_text.contains(user),
            "{user}: the menu names who is signed in"
        );
        assert!(
            !browser.exists("a[href='/activity-log']").await,
            "{user} is offered the activity log"
        );

        // Typing the export address does not download anything either.
        browser.goto("/v1/auditrecords/export?format=csv").await;
        let body = browser.script("return document.body.innerText").await;
        let problem: Value = serde_json::from_str(body.as_str().unwrap()).unwrap();
        assert_eq!(problem["status"], 403, "{user}: {problem}");
        assert!(browser.download_names().is_empty());

        browser.goto("/").await;
        browser.sign_out().await;
    }
}

#[tokio::test]
async fn roles_without_the_activity_log_get_not_allowed_from_its_page() {
    let Some((browser, _demo)) = support::start().await else {
        return;
    };
    browser.sign_in(ACCOUNT_ADMIN, PASSWORD).await;
    browser.goto("/activity-log").await;
    assert_eq!(browser.text("h1").await, "Not allowed");
    assert!(!browser.exists("table#activity").await);
    assert!(!browser.exists("form#export").await);
    browser.open_menu().await;
    assert!(!browser.exists("a[href='/activity-log']").await);
}
