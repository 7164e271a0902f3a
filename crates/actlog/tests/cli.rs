//! The command line as scripts and people use it: import, keys, settings, demo, errors.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
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

/// Issue: API keys could not be listed or revoked; a leaked key stayed valid until someone
/// edited the database. Now `apikey list` shows a partner's keys (never a secret) with when
/// each was created, last used and expires, and `apikey revoke` stops a key on a running
/// server within a second.
#[tokio::test(flavor = "multi_thread")]
async fn a_leaked_api_key_can_be_listed_and_revoked_while_the_server_runs() {
    let test_db = TestDb::new();
    let db = test_db.url();
    let leaked = common::create_key(db, "p1");
    let kept = common::create_key(db, "p1");
    let expiring = actlog(&[
        "apikey",
        "create",
        "--partner",
        "p1",
        "--label",
        "nightly job",
        "--expires-in-days",
        "30",
        "--database",
        db,
    ]);
    assert!(expiring.status.success(), "{}", text(&expiring));
    let server = common::Server::start(db, None);
    let client = reqwest::Client::new();
    let status = |key: String| {
        let (client, url) = (client.clone(), format!("{}/v1/auditrecords", server.url));
        async move {
            client
                .get(url)
                .bearer_auth(key)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    assert_eq!(status(leaked.clone()).await, 200);

    let listing = actlog(&["apikey", "list", "--partner", "p1", "--database", db]);
    assert!(listing.status.success(), "{}", text(&listing));
    let listing = String::from_utf8(listing.stdout).unwrap();
    // `actlog_<id>_<secret>`: the id is the public part.
    let id_of = |key: &str| {
        let rest = key.strip_prefix("actlog_").unwrap();
        rest.split_once('_').unwrap().0.to_owned()
    };
    let lines: Vec<&str> = listing.lines().collect();
    assert!(lines[0].starts_with("ID"), "{listing}");
    assert_eq!(lines.len(), 4, "a header and three keys: {listing}");
    for key in [&leaked, &kept] {
        assert!(listing.contains(&id_of(key)), "{listing}");
        assert!(!listing.contains(key.as_str()), "never a secret: {listing}");
    }
    // Columns are separated by two spaces or more: ID, SCOPES, CREATED, LAST USED, EXPIRES,
    // LABEL.
    let columns = |line: &str| -> Vec<String> {
        line.split("  ")
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .map(str::to_owned)
            .collect()
    };
    let row = |needle: &str| columns(lines.iter().find(|l| l.contains(needle)).unwrap());
    let nightly = row("nightly job");
    assert_ne!(nightly[4], "never", "it expires: {nightly:?}");
    let leaked_row = row(&id_of(&leaked));
    assert_ne!(leaked_row[3], "never", "used a moment ago: {leaked_row:?}");
    assert_eq!(leaked_row[4], "never", "{leaked_row:?}");
    assert_eq!(row(&id_of(&kept))[3], "never", "not used yet");

    let revoked = actlog(&["apikey", "revoke", &id_of(&leaked), "--database", db]);
    assert!(revoked.status.success(), "{}", text(&revoked));
    assert!(text(&revoked).contains("p1"), "{}", text(&revoked));
    tokio::time::sleep(std::time::Duration::from_millis(1_200)).await;
    assert_eq!(
        status(leaked.clone()).await,
        401,
        "revoked on the running server"
    );
    assert_eq!(status(kept).await, 200, "the other keys keep working");

    let again = actlog(&["apikey", "revoke", &id_of(&leaked), "--database", db]);
    assert!(!again.status.success());
    assert!(text(&again).contains("no API key"), "{}", text(&again));
    let none = actlog(&["apikey", "list", "--partner", "nobody", "--database", db]);
    assert!(text(&none).contains("no API keys"), "{}", text(&none));
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

/// Log collectors read one JSON object a line: with `[log] format = "json"`, every line
/// `actlog serve` writes on standard error (here its start, a request's and its shutdown) is
/// one, and a request's line carries its request id.
#[test]
fn serve_with_the_json_log_format_writes_json_lines() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("actlog.toml");
    std::fs::write(&file, "[log]\nformat = \"json\"\n").unwrap();
    let db = format!("sqlite://{}", dir.path().join("json-log.db").display());
    let mut child = Command::new(BIN)
        .arg("--config")
        .arg(&file)
        .args(["serve", "--database", &db, "--listen", "127.0.0.1:0"])
        .env("ACTLOG_LOG", "info")
        .env("ACTLOG_LIMITS_BODY_TIMEOUT_SECONDS", "1")
        .env_remove("ACTLOG_LOG_FORMAT")
        .env(
            "ACTLOG_CHECKPOINTS_KEYRING",
            dir.path().join("json-log.keyring"),
        )
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines
        .next()
        .expect("the server prints its address")
        .unwrap();
    assert!(first.contains("http://127.0.0.1:"), "{first}");
    std::thread::spawn(move || lines.for_each(drop));
    // Answered once the accept loop runs, which has the shutdown signal's handler in place.
    let address = first
        .split_whitespace()
        .find_map(|w| w.strip_prefix("http://"))
        .unwrap()
        .trim_end_matches('/')
        .to_owned();
    let mut stream = std::net::TcpStream::connect(&address).unwrap();
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    // A body that stalls is answered 408 and logged inside its request's span.
    let mut stalled = std::net::TcpStream::connect(&address).unwrap();
    stalled
        .write_all(
            b"POST /sign-in HTTP/1.1\r\nHost: t\r\nMS-RequestId: json-log-request-42\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\nemail=a",
        )
        .unwrap();
    let mut answer = String::new();
    let _ = stalled.read_to_string(&mut answer);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    let stopped = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(stopped.success());
    let out = child.wait_with_output().unwrap();
    let logged = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<&str> = logged.lines().filter(|l| !l.trim().is_empty()).collect();
    assert!(
        lines.len() >= 2,
        "the start and the shutdown are logged: {logged}"
    );
    for line in &lines {
        let object: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("not a JSON line ({e}): {line}"));
        assert!(object["level"].is_string(), "{line}");
        assert!(object["timestamp"].is_string(), "{line}");
        assert!(object["fields"]["message"].is_string(), "{line}");
    }
    assert!(logged.contains("shutting down"), "{logged}");
    let slow = lines
        .iter()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .find(|o| o["fields"]["message"] == "request body too slow; answered 408")
        .unwrap_or_else(|| panic!("the 408 is logged: {logged}"));
    assert_eq!(slow["span"]["id"], "json-log-request-42", "{slow}");
}
