//! `actlog pull` against a second actlog as its source, on loopback: a first pull mirrors
//! every record once, a re-run adds nothing, an interrupted pull resumes, `--follow` picks up
//! what arrives later and stops cleanly on SIGTERM; throttling is waited out, a refusal is
//! shown with the source's code and description, and client credentials sign in at the
//! authority without the secret ever being shown. Servers of the tests' own ([`fake`]) stand
//! in for Partner Center and Entra where a real actlog cannot.

#[path = "../common/mod.rs"]
mod common;
mod fake;
mod signin;

use std::io::Read;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use actlog_demo::DemoSpec;
use actlog_domain::query::{Query, Window};
use actlog_domain::{AuditRecord, OperationDate, ingest};
use actlog_store::Store;

use common::{BIN, Server, TestDb, all_records};
use fake::{Fake, Reply, Script};

const PARTNER: &str = "p-pull";

/// Partner Center's answer to a token for the wrong audience (clients.md).
const AUDIENCE_REFUSED: &str = r#"{"code":900420,"description":"The audience 'https://graph.windows.net' in the token is invalid and is no longer supported in Partner Center API.","data":[],"source":"PartnerFD"}"#;

/// A second actlog holding a partner's records: the source pulls read.
struct Source {
    // The server stops before its database is removed (fields drop in this order).
    server: Server,
    db: TestDb,
    read_key: String,
    write_key: String,
    /// How many records it holds.
    records: usize,
    /// A `--since` before every one of them.
    since: String,
}

impl Source {
    /// About 3,000 demo records over the last six months, and two with fields actlog does not
    /// model.
    async fn start() -> Source {
        let db = TestDb::new();
        let now = whole_second_now();
        let mut spec = DemoSpec::standard(now);
        spec.partner_id = PARTNER.into();
        spec.records = 3_000;
        spec.customers = 40;
        spec.seed = 9;
        let mut records: Vec<AuditRecord> = actlog_demo::generate(&spec).collect();
        records.extend(unknown_fields(now));
        let store = db.open().await;
        store.ensure_partner(PARTNER).await.unwrap();
        for chunk in records.chunks(1_000) {
            store.append(PARTNER, chunk.to_vec()).await.unwrap();
        }
        drop(store);
        let read_key = api_key(db.url(), "read");
        let write_key = api_key(db.url(), "write");
        let server = Server::start(db.url(), None);
        let since = now
            .checked_sub(jiff::SignedDuration::from_hours(200 * 24))
            .unwrap()
            .strftime("%Y-%m-%d")
            .to_string();
        Source {
            server,
            db,
            read_key,
            write_key,
            records: records.len(),
            since,
        }
    }

    fn api(&self) -> String {
        format!("{}/v1/auditrecords", self.server.url)
    }

    /// Posts `n` new records dated a few minutes ago, as a platform would.
    async fn add(&self, n: usize) {
        let at = whole_second_now()
            .checked_sub(jiff::SignedDuration::from_mins(5))
            .unwrap();
        let body: Vec<String> = (0..n)
            .map(|i| {
                format!(
                    r#"{{"id":"late-{i}","customerName":"Società Caffè","operationType":"create_order","operationDate":"{at}"}}"#
                )
            })
            .collect();
        let reply = reqwest::Client::new()
            .post(self.api())
            .bearer_auth(&self.write_key)
            .header("content-type", "application/x-ndjson")
            .body(body.join("\n"))
            .send()
            .await
            .unwrap();
        assert_eq!(
            reply.status().as_u16(),
            201,
            "{}",
            reply.text().await.unwrap()
        );
    }
}

/// Now, to the second (records keep 100 ns at most).
fn whole_second_now() -> jiff::Timestamp {
    jiff::Timestamp::from_second(jiff::Timestamp::now().as_second()).unwrap()
}

/// Records with members this version does not know, which a mirror must keep as they are.
fn unknown_fields(now: jiff::Timestamp) -> Vec<AuditRecord> {
    let at = now
        .checked_sub(jiff::SignedDuration::from_hours(72))
        .unwrap();
    [
        format!(
            r#"{{"id":"unknown-1","partnerId":"{PARTNER}","customerName":"Zoë «Test»","operationType":"update_customer_qualification","operationDate":"{at}","futureField":{{"nested":[1,"two",null]}},"attributes":{{"objectType":"AuditRecord","etag":"W/\"7\""}}}}"#
        ),
        format!(
            r#"{{"id":"unknown-2","operationType":"create_order","operationDate":"{at}","customizedData":[{{"key":"OrderId","value":"o-1","extra":true}}]}}"#
        ),
    ]
    .iter()
    .map(|json| ingest::parse_record(json, PARTNER, &mut || unreachable!()).unwrap())
    .collect()
}

/// An API key of `PARTNER` with `scopes`, made with `actlog apikey create`.
fn api_key(db: &str, scopes: &str) -> String {
    let out = common::actlog(&[
        "apikey",
        "create",
        "--partner",
        PARTNER,
        "--scopes",
        scopes,
        "--database",
        db,
    ]);
    assert!(out.status.success(), "{}", common::text(&out));
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .last()
        .unwrap()
        .trim()
        .to_owned()
}

/// `actlog pull --partner PARTNER --database TARGET ARGS`, with `env`, and nothing from the
/// tests' own environment that could change it.
fn pull_command(target: &TestDb, args: &[&str], env: &[(&str, &str)]) -> Command {
    let mut command = Command::new(BIN);
    command
        .args(["pull", "--partner", PARTNER, "--database", target.url()])
        .args(args)
        .env("ACTLOG_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (name, _) in std::env::vars() {
        if name.starts_with("ACTLOG_PULL_") || name == "ACTLOG_CONFIG" {
            command.env_remove(name);
        }
    }
    for (name, value) in env {
        command.env(name, value);
    }
    command
}

/// What a finished `actlog pull` did.
struct Ran {
    status: ExitStatus,
    /// Standard output, then standard error.
    text: String,
    elapsed: Duration,
}

/// Runs a pull to its end, failing the test if it takes longer than `limit`.
fn run(mut command: Command, limit: Duration) -> Ran {
    let started = Instant::now();
    let child = command.spawn().unwrap();
    let (status, text) = finish(child, limit);
    Ran {
        status,
        text,
        elapsed: started.elapsed(),
    }
}

/// Waits for `child` to end (killing it and failing after `limit`); its output.
fn finish(mut child: Child, limit: Duration) -> (ExitStatus, String) {
    let mut stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let out = std::thread::spawn(move || {
        let mut text = String::new();
        stdout.read_to_string(&mut text).unwrap();
        text
    });
    let err = std::thread::spawn(move || {
        let mut text = String::new();
        stderr.read_to_string(&mut text).unwrap();
        text
    });
    let deadline = Instant::now() + limit;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "actlog pull still ran after {limit:?}:\n{}{}",
                out.join().unwrap(),
                err.join().unwrap()
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    (
        status,
        format!("{}{}", out.join().unwrap(), err.join().unwrap()),
    )
}

/// The number just before `label` in a summary (e.g. "3002 new").
fn count_before(text: &str, label: &str) -> u64 {
    let at = text
        .find(&format!(" {label}"))
        .unwrap_or_else(|| panic!("no `{label}` in:\n{text}"));
    let digits: String = text[..at]
        .chars()
        .rev()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.chars().rev().collect::<String>().parse().unwrap()
}

fn everything() -> Query {
    Query {
        window: Window {
            start: OperationDate::MIN,
            end: None,
        },
        filter: None,
    }
}

/// The target holds exactly the source's records, field for field.
async fn assert_mirrored(source: &TestDb, target: &TestDb) {
    let by_id = |mut records: Vec<serde_json::Value>| {
        records.sort_by(|a, b| a["id"].as_str().cmp(&b["id"].as_str()));
        records
    };
    let expected = by_id(all_records(source, PARTNER).await);
    let mirrored = by_id(all_records(target, PARTNER).await);
    assert_eq!(mirrored.len(), expected.len(), "record counts differ");
    for (got, want) in mirrored.iter().zip(&expected) {
        assert_eq!(got, want);
    }
}

/// Polls `store` until it holds `n` of the partner's records.
async fn wait_for_count(store: &dyn Store, n: u64, limit: Duration) {
    let deadline = Instant::now() + limit;
    loop {
        let held = store.count(PARTNER, &everything()).await.unwrap();
        if held == n {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the target holds {held} records, not {n}, after {limit:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

const LIMIT: Duration = Duration::from_secs(60);

#[tokio::test(flavor = "multi_thread")]
async fn a_first_pull_mirrors_every_record_once_and_a_rerun_adds_nothing() {
    let source = Source::start().await;
    let target = TestDb::new();
    let api = source.api();
    let args = ["--source", &api, "--token", &source.read_key];
    let since = ["--since", source.since.as_str()];
    let first = run(
        pull_command(&target, &[&args[..], &since].concat(), &[]),
        LIMIT,
    );
    assert!(first.status.success(), "{}", first.text);
    let total = source.records as u64;
    assert_eq!(
        count_before(&first.text, "records fetched"),
        total,
        "{}",
        first.text
    );
    assert_eq!(count_before(&first.text, "new"), total, "{}", first.text);
    assert_eq!(count_before(&first.text, "already present"), 0);
    assert!(count_before(&first.text, "windows") >= 7, "{}", first.text);
    assert_mirrored(&source.db, &target).await;

    let again = run(pull_command(&target, &args, &[]), LIMIT);
    assert!(again.status.success(), "{}", again.text);
    assert!(again.text.contains(" 0 new,"), "{}", again.text);
    assert!(
        count_before(&again.text, "records fetched") < total / 2,
        "a re-run resumes near the end instead of reading everything again:\n{}",
        again.text
    );
    assert_mirrored(&source.db, &target).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_interrupted_pull_resumes_where_it_stopped_and_gets_the_rest() {
    let source = Source::start().await;
    let target = TestDb::new();
    // The source stops answering after a dozen pages, until told otherwise.
    let stalling = Arc::new(AtomicBool::new(true));
    let stall = stalling.clone();
    let script: Script = Arc::new(move |_, n| {
        if stall.load(Ordering::SeqCst) && n >= 12 {
            Reply::Stall
        } else {
            Reply::Forward(None)
        }
    });
    let proxy = Fake::start(Some(&source.server.url), script);
    let api = format!("{}/v1/auditrecords", proxy.url);
    let args = ["--source", &api, "--token", &source.read_key];
    let small_pages = [("ACTLOG_PULL_PAGE_SIZE", "100")];
    let since = [&args[..], &["--since", source.since.as_str()]].concat();
    let mut child = pull_command(&target, &since, &small_pages).spawn().unwrap();
    // Once the source stalls and a window is recorded as read, the pull is killed midway.
    let store = target.open().await;
    let deadline = Instant::now() + LIMIT;
    while proxy.seen().len() <= 12 || store.pull_state(PARTNER, &api).await.unwrap().is_none() {
        assert!(
            Instant::now() < deadline,
            "the pull did not reach the stall with a window read"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    // A transaction the pull had sent whole may still commit on a database server after the
    // process is gone (PostgreSQL): the count is taken once it stays put.
    let mut held = store.count(PARTNER, &everything()).await.unwrap();
    loop {
        tokio::time::sleep(Duration::from_millis(300)).await;
        let now = store.count(PARTNER, &everything()).await.unwrap();
        if now == held {
            break;
        }
        held = now;
    }
    let total = source.records as u64;
    assert!(
        held > 0 && held < total,
        "{held} of {total} records before the resume"
    );
    drop(store);

    stalling.store(false, Ordering::SeqCst);
    let resumed = run(pull_command(&target, &args, &small_pages), LIMIT);
    assert!(resumed.status.success(), "{}", resumed.text);
    let fetched = count_before(&resumed.text, "records fetched");
    assert!(
        fetched < total,
        "the resumed pull read everything again:\n{}",
        resumed.text
    );
    assert_eq!(
        count_before(&resumed.text, "new"),
        total - held,
        "{}",
        resumed.text
    );
    assert_mirrored(&source.db, &target).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn follow_picks_up_records_added_later_and_stops_cleanly_on_sigterm() {
    let source = Source::start().await;
    let target = TestDb::new();
    let api = source.api();
    let args = [
        "--source",
        &api,
        "--token",
        &source.read_key,
        "--since",
        &source.since,
        "--follow",
    ];
    let env = [
        ("ACTLOG_PULL_INTERVAL_SECONDS", "1"),
        ("ACTLOG_LOG", "info"),
    ];
    let child = pull_command(&target, &args, &env).spawn().unwrap();
    let store = target.open().await;
    let total = source.records as u64;
    wait_for_count(store.as_ref(), total, LIMIT).await;
    source.add(5).await;
    wait_for_count(store.as_ref(), total + 5, Duration::from_secs(20)).await;

    let pid = child.id().to_string();
    let term = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    assert!(term.success());
    let (status, text) = finish(child, Duration::from_secs(15));
    assert!(status.success(), "SIGTERM is a clean stop, exit 0:\n{text}");
    assert!(text.contains("Stopped on request"), "{text}");
    assert!(count_before(&text, "passes") >= 2, "{text}");
    assert!(text.contains("pass done"), "each pass is logged:\n{text}");
    assert_eq!(count_before(&text, "new"), total + 5, "{text}");
    assert_mirrored(&source.db, &target).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_throttling_or_failing_source_is_waited_for_and_the_pull_succeeds() {
    let source = Source::start().await;
    let target = TestDb::new();
    let script: Script = Arc::new(|_, n| {
        match n {
        0 => Reply::json(503, r#"{"code":"overloaded","detail":"busy"}"#),
        1 | 2 => Reply::Canned {
            status: 429,
            headers: vec![("Retry-After".into(), "1".into())],
            body: r#"{"code":"3000","description":"Too many requests","data":[],"source":"PartnerFD"}"#.into(),
        },
        _ => Reply::Forward(None),
    }
    });
    let proxy = Fake::start(Some(&source.server.url), script);
    let api = format!("{}/v1/auditrecords", proxy.url);
    let args = [
        "--source",
        &api,
        "--token",
        &source.read_key,
        "--since",
        &source.since,
    ];
    let ran = run(pull_command(&target, &args, &[]), LIMIT);
    assert!(ran.status.success(), "{}", ran.text);
    assert!(
        ran.elapsed >= Duration::from_secs(2),
        "two Retry-After: 1 were not waited for: {:?}",
        ran.elapsed
    );
    assert!(ran.text.contains("throttled (HTTP 429)"), "{}", ran.text);
    assert!(ran.text.contains("HTTP 503"), "{}", ran.text);
    let first_three: Vec<String> = proxy.seen()[..3].iter().map(|s| s.target.clone()).collect();
    assert!(
        first_three.windows(2).all(|w| w[0] == w[1]),
        "the same request is retried: {first_three:?}"
    );
    assert_mirrored(&source.db, &target).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn refused_credentials_stop_the_pull_with_the_sources_code_and_description() {
    let target = TestDb::new();
    let script: Script = Arc::new(|_, _| Reply::json(401, AUDIENCE_REFUSED));
    let fake = Fake::start(None, script);
    let api = format!("{}/v1/auditrecords", fake.url);
    let ran = run(
        pull_command(&target, &["--source", &api, "--token", "some-token"], &[]),
        LIMIT,
    );
    assert_eq!(ran.status.code(), Some(1), "{}", ran.text);
    assert!(ran.text.contains("HTTP 401"), "{}", ran.text);
    assert!(ran.text.contains("900420"), "{}", ran.text);
    assert!(
        ran.text
            .contains("The audience 'https://graph.windows.net' in the token is invalid"),
        "{}",
        ran.text
    );
    assert_eq!(fake.seen().len(), 1, "a refusal is not retried");
    assert!(!ran.text.contains("some-token"), "{}", ran.text);
}

#[test]
fn settings_that_cannot_work_are_usage_errors() {
    let dir = tempfile::tempdir().unwrap();
    let target = TestDb::sqlite();
    let local = "http://127.0.0.1:9/v1/auditrecords";
    let app = [
        ("ACTLOG_PULL_TENANT_ID", "t"),
        ("ACTLOG_PULL_CLIENT_ID", "a"),
    ];
    let both = [
        app[0],
        app[1],
        ("ACTLOG_PULL_CLIENT_SECRET", "s"),
        ("ACTLOG_PULL_CLIENT_CERTIFICATE", "app.pem"),
    ];
    let absent = dir.path().join("absent.pem");
    let missing_file = [
        app[0],
        app[1],
        ("ACTLOG_PULL_CLIENT_CERTIFICATE", absent.to_str().unwrap()),
    ];
    type Case<'a> = (&'a [&'a str], &'a [(&'a str, &'a str)], &'a str);
    let cases: [Case; 7] = [
        (
            &["--since", "someday", "--token", "t", "--source", local],
            &[],
            "--since",
        ),
        (&["--source", local], &[], "no credentials"),
        (
            &["--source", local],
            &app,
            "missing: client_secret or client_certificate",
        ),
        (&["--source", local], &both, "keep one"),
        (&["--source", local], &missing_file, "absent.pem"),
        (
            &[
                "--token",
                "t",
                "--source",
                "http://actlog.example/v1/auditrecords",
            ],
            &[],
            "https://",
        ),
        (
            &["--token", "t", "--since", "2999-01-01", "--source", local],
            &[],
            "future",
        ),
    ];
    for (args, env, says) in cases {
        let out = pull_command(&target, args, env).output().unwrap();
        let text = common::text(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?} {env:?}: {text}");
        assert!(text.contains(says), "{args:?} {env:?}: {text}");
    }
}
