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
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
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
