//! Nothing acknowledged is lost: the server is killed with SIGKILL during sustained concurrent
//! ingest, and every record it acknowledged is in the database afterwards.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actlog_sqlite::{SqliteOptions, SqliteStore};
use actlog_store::RecordReader;

const BIN: &str = env!("CARGO_BIN_EXE_actlog");

fn create_key(db: &str) -> String {
    let out = Command::new(BIN)
        .args([
            "apikey",
            "create",
            "--partner",
            "p1",
            "--scopes",
            "read,write",
            "--database",
            db,
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .last()
        .unwrap()
        .trim()
        .to_owned()
}

/// Starts `actlog serve` on a free port; returns the child and its base URL.
fn start_server(db: &str) -> (Child, String) {
    let mut child = Command::new(BIN)
        .args(["serve", "--database", db, "--listen", "127.0.0.1:0"])
        .env("ACTLOG_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let line = lines
        .next()
        .expect("the server prints its address")
        .unwrap();
    let url = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .expect("an address")
        .to_owned();
    (child, url)
}

fn batch(client: usize, n: usize, size: usize) -> (Vec<String>, String) {
    let ids: Vec<String> = (0..size).map(|i| format!("c{client}-b{n}-r{i}")).collect();
    let body: Vec<String> = ids
        .iter()
        .map(|id| {
            format!(
                r#"{{"id":"{id}","customerName":"Società Caffè","operationType":"create_order","operationDate":"2026-11-20T10:00:00Z","resourceNewValue":"{}"}}"#,
                "x".repeat(200)
            )
        })
        .collect();
    (ids, body.join("\n"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigkill_during_concurrent_ingest_loses_no_acknowledged_record() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("actlog.db");
    let db = format!("sqlite://{}", path.display());
    let key = create_key(&db);
    let (mut child, url) = start_server(&db);

    let acknowledged = Arc::new(Mutex::new(Vec::<String>::new()));
    let stop_at = Instant::now() + Duration::from_millis(1_500);
    let client = reqwest::Client::new();
    let mut tasks = Vec::new();
    for c in 0..32 {
        let (client, url, key, acknowledged) = (
            client.clone(),
            url.clone(),
            key.clone(),
            acknowledged.clone(),
        );
        tasks.push(tokio::spawn(async move {
            for n in 0.. {
                let (ids, body) = batch(c, n, 1 + (c + n) % 8);
                let sent = client
                    .post(format!("{url}/v1/auditrecords"))
                    .header("authorization", format!("Bearer {key}"))
                    .header("content-type", "application/x-ndjson")
                    .body(body)
                    .send()
                    .await;
                match sent {
                    Ok(reply) if reply.status().is_success() => {
                        acknowledged.lock().unwrap().extend(ids)
                    }
                    Ok(reply) if reply.status().as_u16() == 503 => {}
                    Ok(reply) => panic!("unexpected {}", reply.status()),
                    Err(_) => return, // the server is gone
                }
            }
        }));
    }
    tokio::time::sleep_until(stop_at.into()).await;
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    for task in tasks {
        task.await.unwrap();
    }

    let acknowledged = acknowledged.lock().unwrap().clone();
    assert!(
        acknowledged.len() > 1_000,
        "too little ingest to prove anything: {}",
        acknowledged.len()
    );
    assert_all_present(&path, &acknowledged).await;
}

async fn assert_all_present(path: &Path, ids: &[String]) {
    let store = SqliteStore::open(path, SqliteOptions::default()).unwrap();
    let mut missing = Vec::new();
    for id in ids {
        if store.get("p1", id).await.unwrap().is_none() {
            missing.push(id.clone());
        }
    }
    assert!(
        missing.is_empty(),
        "{} acknowledged records lost, e.g. {:?}",
        missing.len(),
        &missing[..missing.len().min(5)]
    );
}
