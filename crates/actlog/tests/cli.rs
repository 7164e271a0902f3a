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

/// A certificate authority and a certificate it issued for 127.0.0.1, made by `openssl`:
/// `(authority, certificate, key)`, PEM.
fn self_signed(name: &str) -> (Vec<u8>, Vec<u8>, Vec<u8>) {
    let dir = tempfile::tempdir().unwrap();
    let file = |f: &str| dir.path().join(f).to_str().unwrap().to_owned();
    let openssl = |args: &[&str]| {
        let made = Command::new("openssl")
            .args(args)
            .output()
            .expect("openssl makes the test's certificates");
        assert!(made.status.success(), "{}", text(&made));
    };
    let ec = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
    let words = |line: String| line.split(' ').map(str::to_owned).collect::<Vec<_>>();
    let run = |line: String| openssl(&words(line).iter().map(String::as_str).collect::<Vec<_>>());
    run(format!(
        "req -x509 {ec} -days 2 -subj /CN={name}-authority -keyout {} -out {}",
        file("ca.key"),
        file("ca.pem")
    ));
    run(format!(
        "req -new {ec} -subj /CN={name} -keyout {} -out {}",
        file("key.pem"),
        file("req.pem")
    ));
    std::fs::write(
        file("ext"),
        "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n",
    )
    .unwrap();
    openssl(&[
        "x509",
        "-req",
        "-in",
        &file("req.pem"),
        "-CA",
        &file("ca.pem"),
        "-CAkey",
        &file("ca.key"),
        "-CAcreateserial",
        "-days",
        "2",
        "-extfile",
        &file("ext"),
        "-out",
        &file("cert.pem"),
    ]);
    let read = |f: &str| std::fs::read(file(f)).unwrap();
    (read("ca.pem"), read("cert.pem"), read("key.pem"))
}

/// The DER bytes of a PEM certificate.
fn der(pem: &[u8]) -> Vec<u8> {
    use base64::Engine;
    let text = String::from_utf8(pem.to_vec()).unwrap();
    let body: String = text.lines().filter(|l| !l.starts_with("-----")).collect();
    base64::engine::general_purpose::STANDARD
        .decode(body)
        .unwrap()
}

/// A client that trusts only `certificates`, on a connection of its own; the certificate the
/// server presented to it for `url`, once it answered 200.
async fn presented(url: &str, certificates: &[&[u8]]) -> Result<Vec<u8>, String> {
    let roots = certificates
        .iter()
        .map(|pem| reqwest::Certificate::from_pem(pem).unwrap());
    let response = reqwest::Client::builder()
        .tls_certs_only(roots)
        .tls_info(true)
        .build()
        .unwrap()
        .get(format!("{url}/healthz"))
        .send()
        .await
        .map_err(|e| format!("{e:?}"))?;
    assert_eq!(response.status(), 200);
    let info = response
        .extensions()
        .get::<reqwest::tls::TlsInfo>()
        .unwrap();
    Ok(info.peer_certificate().unwrap().to_vec())
}

/// Sends SIGHUP, as a service manager's "reload" does.
fn hangup(child: &std::process::Child) {
    let pid = child.id().to_string();
    let sent = Command::new("kill").args(["-HUP", &pid]).status().unwrap();
    assert!(sent.success());
}

#[tokio::test]
async fn serve_without_tls_outlives_a_sighup() {
    let db = TestDb::new();
    let mut server = common::Server::start(db.url(), None);
    hangup(&server.child);
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert!(
        server.child.try_wait().unwrap().is_none(),
        "the server ended on SIGHUP"
    );
    let health = reqwest::get(format!("{}/healthz", server.url))
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
}

#[tokio::test]
async fn serve_speaks_tls_and_takes_a_renewed_certificate_on_sighup() {
    let db = TestDb::new();
    let dir = tempfile::tempdir().unwrap();
    let (cert_file, key_file) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    let (first_ca, first, first_key) = self_signed("first");
    std::fs::write(&cert_file, &first).unwrap();
    std::fs::write(&key_file, &first_key).unwrap();
    let config = dir.path().join("actlog.toml");
    std::fs::write(
        &config,
        format!(
            "[tls]\ncertificate = {:?}\nkey = {:?}\n",
            cert_file.to_str().unwrap(),
            key_file.to_str().unwrap()
        ),
    )
    .unwrap();
    let server = common::Server::start(db.url(), Some(&config));
    assert!(server.url.starts_with("https://"), "{}", server.url);
    assert_eq!(
        presented(&server.url, &[&first_ca]).await.unwrap(),
        der(&first)
    );
    // Plain HTTP on the TLS port gets no answer.
    let plain = server.url.replacen("https://", "http://", 1);
    let answered = reqwest::get(format!("{plain}/healthz")).await;
    assert!(
        answered.as_ref().map_or(true, |r| r.status() != 200),
        "{answered:?}"
    );

    // A renewal, as certbot does it: new files, then SIGHUP.
    let (second_ca, second, second_key) = self_signed("second");
    std::fs::write(&cert_file, &second).unwrap();
    std::fs::write(&key_file, &second_key).unwrap();
    hangup(&server.child);
    let mut renewed = None;
    for _ in 0..50 {
        match presented(&server.url, &[&first_ca, &second_ca]).await {
            Ok(cert) if cert == der(&second) => {
                renewed = Some(cert);
                break;
            }
            _ => tokio::time::sleep(std::time::Duration::from_millis(100)).await,
        }
    }
    assert!(
        renewed.is_some(),
        "the renewed certificate was never presented"
    );
    // A client that trusts only the old certificate is refused now.
    assert!(presented(&server.url, &[&first_ca]).await.is_err());

    // A renewal gone wrong (a half-written key) keeps the certificate in use.
    std::fs::write(&key_file, b"-----BEGIN PRIVATE KEY-----\nAAAA\n").unwrap();
    hangup(&server.child);
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(
        presented(&server.url, &[&second_ca]).await.unwrap(),
        der(&second)
    );
}

#[test]
fn serve_refuses_tls_files_it_cannot_use_and_says_which() {
    let db = TestDb::new();
    let dir = tempfile::tempdir().unwrap();
    let (_, cert, key) = self_signed("only");
    let (_, _, other_key) = self_signed("other");
    let cert_file = dir.path().join("cert.pem");
    std::fs::write(&cert_file, &cert).unwrap();
    std::fs::write(dir.path().join("key.pem"), &key).unwrap();
    std::fs::write(dir.path().join("other-key.pem"), &other_key).unwrap();
    std::fs::write(dir.path().join("empty.pem"), b"").unwrap();
    let cut = &key[..key.len() / 2];
    std::fs::write(dir.path().join("cut-key.pem"), cut).unwrap();
    let serve = |certificate: &str, key: &str| {
        let config = dir.path().join("actlog.toml");
        let path = |name: &str| dir.path().join(name).to_str().unwrap().to_owned();
        let mut body = String::from("[tls]\n");
        if !certificate.is_empty() {
            body += &format!("certificate = {:?}\n", path(certificate));
        }
        if !key.is_empty() {
            body += &format!("key = {:?}\n", path(key));
        }
        std::fs::write(&config, body).unwrap();
        let out = Command::new(BIN)
            .arg("--config")
            .arg(&config)
            .args(["serve", "--database", db.url(), "--listen", "127.0.0.1:0"])
            .env("ACTLOG_LOG", "warn")
            .output()
            .unwrap();
        assert!(!out.status.success(), "{}", text(&out));
        text(&out)
    };
    let missing = serve("missing.pem", "key.pem");
    assert!(missing.contains("missing.pem"), "{missing}");
    let empty = serve("empty.pem", "key.pem");
    assert!(empty.contains("holds no certificate"), "{empty}");
    let no_key = serve("cert.pem", "empty.pem");
    assert!(no_key.contains("holds no private key"), "{no_key}");
    // A half-written key: the missing line is named in words, not as byte values.
    let cut = serve("cert.pem", "cut-key.pem");
    assert!(
        cut.contains("cut off") && cut.contains("-----END PRIVATE KEY-----"),
        "{cut}"
    );
    let mismatched = serve("cert.pem", "other-key.pem");
    assert!(
        mismatched.contains("cannot serve TLS together"),
        "{mismatched}"
    );
    let half = serve("cert.pem", "");
    assert!(half.contains("tls.key"), "{half}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backup_takes_a_consistent_copy_while_records_arrive_and_overwrites_nothing() {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{Arc, Mutex};

    let db = TestDb::sqlite();
    let key = common::create_key(db.url(), "busy");
    let server = common::Server::start(db.url(), None);
    let acknowledged = Arc::new(Mutex::new(Vec::<String>::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let (url, acknowledged, stop) = (server.url.clone(), acknowledged.clone(), stop.clone());
        tokio::spawn(async move {
            let client = reqwest::Client::new();
            for n in 0.. {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                let ids: Vec<String> = (0..20).map(|i| format!("b{n}-r{i}")).collect();
                let body: Vec<String> = ids
                    .iter()
                    .map(|id| format!(r#"{{"id":"{id}","customerName":"Contoso","operationType":"create_order","operationDate":"2026-11-20T10:00:00Z"}}"#))
                    .collect();
                let reply = client
                    .post(format!("{url}/v1/auditrecords"))
                    .header("authorization", format!("Bearer {key}"))
                    .header("content-type", "application/x-ndjson")
                    .body(body.join("\n"))
                    .send()
                    .await
                    .unwrap();
                assert!(reply.status().is_success(), "{}", reply.status());
                acknowledged.lock().unwrap().extend(ids);
            }
        })
    };
    while acknowledged.lock().unwrap().len() < 400 {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("copy.db");
    let before = acknowledged.lock().unwrap().clone();
    let (to, from) = (copy.to_str().unwrap().to_owned(), db.url().to_owned());
    let out =
        tokio::task::spawn_blocking(move || actlog(&["backup", "--to", &to, "--database", &from]))
            .await
            .unwrap();
    let during = acknowledged.lock().unwrap().len();
    stop.store(true, Ordering::Relaxed);
    writer.await.unwrap();
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(files_in(dir.path()), ["copy.db", "copy.db.keyring"]);
    assert!(
        during > before.len(),
        "records kept arriving while the backup ran"
    );

    // The copy holds a moment of the database: everything acknowledged before the backup
    // began, nothing that was never stored, as many records as it says.
    let store = actlog_sqlite::SqliteStore::open(&copy, Default::default()).unwrap();
    let copied: Vec<String> = common::all_records_in(&store, "busy")
        .await
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_owned())
        .collect();
    drop(store);
    let said = format!("busy: {} records", copied.len());
    assert!(text(&out).contains(&said), "{said} in {}", text(&out));
    let copied_set: std::collections::HashSet<&String> = copied.iter().collect();
    assert!(before.iter().all(|id| copied_set.contains(id)));
    let stored: std::collections::HashSet<String> = common::all_records(&db, "busy")
        .await
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_owned())
        .collect();
    assert!(copied.iter().all(|id| stored.contains(id)));
    // It stands on its own: its Merkle logs check out against the keyring copied beside it.
    let copy_url = format!("sqlite://{}", copy.display());
    let verified = actlog(&["verify", "--database", &copy_url]);
    assert!(verified.status.success(), "{}", text(&verified));

    // Nothing is overwritten, and a refused or impossible backup leaves nothing behind.
    let size = std::fs::metadata(&copy).unwrap().len();
    let again = actlog(&[
        "backup",
        "--to",
        copy.to_str().unwrap(),
        "--database",
        db.url(),
    ]);
    assert_eq!(again.status.code(), Some(2), "{}", text(&again));
    assert!(text(&again).contains("exists already"), "{}", text(&again));
    assert_eq!(std::fs::metadata(&copy).unwrap().len(), size);
    let missing = dir.path().join("missing.db");
    let nothing = actlog(&[
        "backup",
        "--to",
        dir.path().join("other.db").to_str().unwrap(),
        "--database",
        &format!("sqlite://{}", missing.display()),
    ]);
    assert_eq!(nothing.status.code(), Some(2), "{}", text(&nothing));
    assert!(
        text(&nothing).contains("does not exist"),
        "{}",
        text(&nothing)
    );
    assert!(!missing.exists());
    let postgres = actlog(&[
        "backup",
        "--to",
        dir.path().join("pg.db").to_str().unwrap(),
        "--database",
        "postgres://postgres@127.0.0.1:1/none",
    ]);
    assert!(text(&postgres).contains("pg_dump"), "{}", text(&postgres));
    let left = files_in(dir.path());
    assert!(
        left.iter().all(|name| name.starts_with("copy.db")),
        "{left:?}"
    );
}

/// The names in `dir`, sorted.
fn files_in(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}
