//! The command line as scripts and people use it: import, keys, settings, demo, errors.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use common::{BIN, TestDb, actlog, all_records, text};

const SAMPLE: &str = "../actlog-server/tests/fixtures/partner-center-sample-response.json";
const SAMPLE_PARTNER: &str = "3b33e682-00c3-41ee-9dd2-a548adf56438";

#[tokio::test]
async fn importing_the_partner_center_sample_twice_stores_it_once_field_for_field() {
    let test_db = TestDb::new();
    let db = test_db.url();
    let first = actlog(&[
        "import",
        SAMPLE,
        "--partner",
        SAMPLE_PARTNER,
        "--database",
        db,
    ]);
    assert!(first.status.success(), "{}", text(&first));
    assert!(text(&first).contains("2 stored"), "{}", text(&first));
    let again = actlog(&[
        "import",
        SAMPLE,
        "--partner",
        SAMPLE_PARTNER,
        "--database",
        db,
    ]);
    assert!(
        text(&again).contains("0 stored, 2 already present"),
        "{}",
        text(&again)
    );

    let sample: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(SAMPLE).unwrap()).unwrap();
    let mut stored = all_records(&test_db, SAMPLE_PARTNER).await;
    for record in &mut stored {
        let id = record.as_object_mut().unwrap().remove("id").unwrap();
        assert!(id.as_str().unwrap().starts_with("imp-"));
    }
    assert_eq!(serde_json::Value::Array(stored), sample["items"]);
}

#[tokio::test]
async fn a_file_with_a_bad_line_imports_nothing_and_names_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("records.ndjson");
    let good =
        r#"{"id":"1","operationType":"create_order","operationDate":"2026-01-01T00:00:00Z"}"#;
    let bad = r#"{"id":"2","operationType":"create_order","operationDate":"01/01/2026"}"#;
    std::fs::write(&file, format!("{good}\n\n{bad}\n{good}\n")).unwrap();
    let db = TestDb::new();
    let out = actlog(&[
        "import",
        file.to_str().unwrap(),
        "--partner",
        "p1",
        "--database",
        db.url(),
    ]);
    assert!(!out.status.success());
    assert!(text(&out).contains("line 3"), "{}", text(&out));
    assert!(!db.exists() || all_records(&db, "p1").await.is_empty());
}

#[test]
fn apikey_create_prints_the_key_last_and_refuses_unknown_scopes() {
    let test_db = TestDb::new();
    let db = test_db.url();
    let out = actlog(&[
        "apikey",
        "create",
        "--partner",
        "p1",
        "--scopes",
        "read,write",
        "--database",
        db,
    ]);
    assert!(out.status.success(), "{}", text(&out));
    let last = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .last()
        .unwrap()
        .to_owned();
    assert!(last.starts_with("actlog_") && last.len() > 40, "{last}");
    let bad = actlog(&[
        "apikey",
        "create",
        "--partner",
        "p1",
        "--scopes",
        "admin",
        "--database",
        db,
    ]);
    assert!(!bad.status.success());
    assert!(text(&bad).contains("admin"), "{}", text(&bad));
}

#[test]
fn bad_settings_are_explained() {
    let out = actlog(&["serve", "--database", "mysql://localhost/x"]);
    assert!(!out.status.success());
    assert!(text(&out).contains("sqlite://PATH"), "{}", text(&out));
    let out = actlog(&[
        "serve",
        "--listen",
        "everywhere",
        "--database",
        "sqlite://x.db",
    ]);
    assert!(text(&out).contains("ADDR:PORT"), "{}", text(&out));
    // Where settings come from, not a backend: the file database makes "the database named in
    // the settings file was used" visible, whatever ACTLOG_TEST_BACKEND says.
    let example = actlog(&["config", "example"]);
    assert!(example.status.success());
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("actlog.toml");
    let db = dir.path().join("from-file.db");
    let settings = String::from_utf8(example.stdout)
        .unwrap()
        .replace("actlog.db", db.to_str().unwrap());
    std::fs::write(&file, settings).unwrap();
    let migrated = actlog(&["--config", file.to_str().unwrap(), "migrate"]);
    assert!(migrated.status.success(), "{}", text(&migrated));
    assert!(
        db.exists(),
        "the database named in the settings file was used"
    );
    std::fs::write(&file, "listen = 8080\n").unwrap();
    let wrong = actlog(&["--config", file.to_str().unwrap(), "migrate"]);
    assert!(!wrong.status.success());
    assert!(text(&wrong).contains("not valid"), "{}", text(&wrong));
}

#[tokio::test]
async fn the_demo_serves_its_data_with_the_printed_key() {
    let mut child = Command::new(BIN)
        .args(["demo", "--listen", "127.0.0.1:0", "--records", "3000"])
        .env("ACTLOG_LOG", "warn")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let (mut url, mut key) = (None, None);
    while url.is_none() || key.is_none() {
        let line = lines
            .next()
            .expect("the demo prints its URL and key")
            .unwrap();
        if line.contains("running at http://") {
            url = line
                .split_whitespace()
                .find(|w| w.starts_with("http://"))
                .map(|u| u.trim_end_matches('/').to_owned());
        }
        if line.trim().starts_with("actlog_") {
            key = Some(line.trim().to_owned());
        }
    }
    let reply = reqwest::Client::new()
        .get(format!("{}/v1/auditrecords?size=5", url.unwrap()))
        .header("authorization", format!("Bearer {}", key.unwrap()))
        .send()
        .await
        .unwrap();
    let status = reply.status();
    let body: serde_json::Value = serde_json::from_str(&reply.text().await.unwrap()).unwrap();
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(status, 200);
    assert_eq!(body["items"].as_array().unwrap().len(), 5);
    assert!(body["continuationToken"].is_string());
}
