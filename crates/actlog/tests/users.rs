//! `actlog user …`: adding partner users with roles, listing, changing roles, disabling —
//! checked in the store the server signs people in from.

mod common;

use std::io::Write;
use std::process::{Command, Output, Stdio};

use actlog_app::password;
use actlog_domain::roles::Role;

use common::{BIN, TestDb, actlog, text};

/// Runs `actlog` with `stdin` piped in.
fn actlog_with_input(args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(BIN)
        .args(args)
        .env("ACTLOG_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // A command that refuses its arguments exits before reading stdin: the pipe may be
    // closed by then, and its answer is what the test checks.
    if let Err(error) = child.stdin.take().unwrap().write_all(stdin.as_bytes()) {
        assert_eq!(error.kind(), std::io::ErrorKind::BrokenPipe, "{error}");
    }
    child.wait_with_output().unwrap()
}

async fn stored(db: &TestDb, email: &str) -> Option<actlog_store::User> {
    db.open().await.user_by_email(email).await.unwrap()
}

#[tokio::test]
async fn users_are_added_listed_given_roles_and_disabled() {
    let test_db = TestDb::new();
    let db = test_db.url().to_owned();
    let email = "Giulia.Rossi@partner.example";

    let added = actlog_with_input(
        &[
            "user",
            "add",
            "--database",
            &db,
            "--partner",
            "p1",
            "--email",
            email,
            "--role",
            "Admin agent",
            "--role",
            "billing_admin",
        ],
        "a long enough secret\n",
    );
    assert!(added.status.success(), "{}", text(&added));
    let user = stored(&test_db, email).await.expect("the user is stored");
    assert_eq!(user.partner_id, "p1");
    assert_eq!(
        user.email,
        email.to_lowercase(),
        "emails compare without case"
    );
    assert_eq!(user.roles, [Role::AdminAgent, Role::BillingAdmin]);
    assert!(!user.disabled);
    assert!(
        password::verify(
            "a long enough secret".into(),
            Some(user.password_hash.clone())
        )
        .await,
        "the piped password signs in"
    );
    assert!(user.password_hash.starts_with("$argon2id$"), "Argon2id");
    assert!(!password::verify("a long enough secreT".into(), Some(user.password_hash)).await);

    let again = actlog_with_input(
        &[
            "user",
            "add",
            "--database",
            &db,
            "--partner",
            "p1",
            "--email",
            email,
        ],
        "another long secret\n",
    );
    assert!(!again.status.success());
    assert!(text(&again).contains("already exists"), "{}", text(&again));

    let list = actlog(&["user", "list", "--database", &db]);
    assert!(list.status.success());
    let listed = text(&list);
    assert!(
        listed.contains(&email.to_lowercase())
            && listed.contains("Admin agent")
            && listed.contains("Billing admin"),
        "{listed}"
    );

    let changed = actlog(&[
        "user",
        "set-roles",
        "--database",
        &db,
        "--email",
        email,
        "--role",
        "Report viewer",
    ]);
    assert!(changed.status.success(), "{}", text(&changed));
    assert_eq!(
        stored(&test_db, email).await.unwrap().roles,
        [Role::ReportViewer]
    );

    let none = actlog(&["user", "set-roles", "--database", &db, "--email", email]);
    assert!(none.status.success(), "{}", text(&none));
    assert!(
        stored(&test_db, email).await.unwrap().roles.is_empty(),
        "no role at all is a state too"
    );

    let disabled = actlog(&["user", "disable", "--database", &db, "--email", email]);
    assert!(disabled.status.success(), "{}", text(&disabled));
    assert!(stored(&test_db, email).await.unwrap().disabled);
    let enabled = actlog(&[
        "user",
        "disable",
        "--database",
        &db,
        "--email",
        email,
        "--enable",
    ]);
    assert!(enabled.status.success());
    assert!(!stored(&test_db, email).await.unwrap().disabled);
}

#[tokio::test]
async fn bad_input_is_explained_and_stores_nothing() {
    let test_db = TestDb::new();
    let db = test_db.url().to_owned();
    let add = |email: &str, role: &str, secret: &str| {
        actlog_with_input(
            &[
                "user",
                "add",
                "--database",
                &db,
                "--partner",
                "p1",
                "--email",
                email,
                "--role",
                role,
            ],
            secret,
        )
    };

    let unknown_role = add(
        "a@partner.example",
        "Supreme leader",
        "a long enough secret\n",
    );
    assert!(!unknown_role.status.success());
    let said = text(&unknown_role);
    assert!(
        said.contains("Supreme leader") && said.contains("Global admin"),
        "{said}"
    );

    let short = add("b@partner.example", "Admin agent", "short\n");
    assert!(!short.status.success());
    assert!(
        text(&short).to_lowercase().contains("password"),
        "{}",
        text(&short)
    );

    let not_email = add("nobody", "Admin agent", "a long enough secret\n");
    assert!(!not_email.status.success());
    assert!(
        text(&not_email).contains("not an email"),
        "{}",
        text(&not_email)
    );

    let missing = actlog(&[
        "user",
        "set-roles",
        "--database",
        &db,
        "--email",
        "ghost@partner.example",
        "--role",
        "Admin agent",
    ]);
    assert!(!missing.status.success());
    assert!(text(&missing).contains("no user"), "{}", text(&missing));

    if test_db.exists() {
        for email in ["a@partner.example", "b@partner.example", "nobody"] {
            assert!(
                stored(&test_db, email).await.is_none(),
                "{email} was not stored"
            );
        }
    }
}

/// Signs in through the form of the server at `url`; the session cookie (`actlog_session=…`),
/// or `None` when the password is refused.
async fn sign_in(url: &str, email: &str, secret: &str) -> Option<String> {
    let client = no_redirects();
    let form = client.get(format!("{url}/sign-in")).send().await.unwrap();
    let csrf = cookie_value(form.headers(), "actlog_csrf").expect("the form's CSRF cookie");
    let body = format!("email={email}&password={secret}&csrf={csrf}&next=%2F");
    let reply = client
        .post(format!("{url}/sign-in"))
        .header("cookie", format!("actlog_csrf={csrf}"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap();
    cookie_value(reply.headers(), "actlog_session").map(|v| format!("actlog_session={v}"))
}

fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

fn cookie_value(headers: &reqwest::header::HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| v.split(';').next()?.split_once('='))
        .find(|(n, v)| *n == name && !v.is_empty())
        .map(|(_, v)| v.to_owned())
}

/// Whether the home page answers the session as signed in (else it sends to the sign-in form).
async fn signed_in(url: &str, session: &str) -> bool {
    let reply = no_redirects()
        .get(format!("{url}/"))
        .header("cookie", session)
        .send()
        .await
        .unwrap();
    reply.status() == 200
}

#[tokio::test]
async fn a_reset_password_ends_sessions_and_replaces_the_old_one() {
    let test_db = TestDb::new();
    let db = test_db.url().to_owned();
    let email = "agent@partner.example";
    let added = actlog_with_input(
        &[
            "user",
            "add",
            "--database",
            &db,
            "--partner",
            "p1",
            "--email",
            email,
        ],
        "the-first-secret\n",
    );
    assert!(added.status.success(), "{}", text(&added));
    let server = common::Server::start(&db, None);
    let session = sign_in(&server.url, email, "the-first-secret")
        .await
        .expect("the first password signs in");
    assert!(signed_in(&server.url, &session).await);

    let reset = actlog_with_input(
        &[
            "user",
            "reset-password",
            "--database",
            &db,
            "--email",
            email,
        ],
        "the-second-secret\n",
    );
    assert!(reset.status.success(), "{}", text(&reset));
    assert!(text(&reset).contains(email), "{}", text(&reset));

    assert!(
        !signed_in(&server.url, &session).await,
        "the session from before the reset has ended"
    );
    assert_eq!(sign_in(&server.url, email, "the-first-secret").await, None);
    let again = sign_in(&server.url, email, "the-second-secret")
        .await
        .expect("the new password signs in");
    assert!(signed_in(&server.url, &again).await);
}

#[tokio::test]
async fn resetting_an_unknown_user_or_to_a_short_password_fails() {
    let test_db = TestDb::new();
    let db = test_db.url().to_owned();
    let unknown = actlog_with_input(
        &[
            "user",
            "reset-password",
            "--database",
            &db,
            "--email",
            "nobody@partner.example",
        ],
        "a long enough secret\n",
    );
    assert!(!unknown.status.success());
    assert!(
        text(&unknown).contains("no user with the email nobody@partner.example"),
        "{}",
        text(&unknown)
    );

    let email = "agent@partner.example";
    let added = actlog_with_input(
        &[
            "user",
            "add",
            "--database",
            &db,
            "--partner",
            "p1",
            "--email",
            email,
        ],
        "a long enough secret\n",
    );
    assert!(added.status.success(), "{}", text(&added));
    let short = actlog_with_input(
        &[
            "user",
            "reset-password",
            "--database",
            &db,
            "--email",
            email,
        ],
        "short\n",
    );
    assert!(!short.status.success());
    let user = stored(&test_db, email).await.unwrap();
    assert!(password::verify("a long enough secret".into(), Some(user.password_hash)).await);
}
