//! Nothing acknowledged is lost: the server is killed with SIGKILL during sustained concurrent
//! ingest, and every record it acknowledged is in the database afterwards.

mod common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{Server, TestDb, create_key};

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
    let db = TestDb::new();
    let key = create_key(db.url(), "p1");
    let mut server = Server::start(db.url(), None);
    let url = server.url.clone();

    let acknowledged = Arc::new(Mutex::new(Vec::<String>::new()));
    let stop_at = Instant::now() + Duration::from_millis(1_500);
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
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
    server.kill(); // SIGKILL
    for task in tasks {
        task.await.unwrap();
    }

    let acknowledged = acknowledged.lock().unwrap().clone();
    assert!(
        acknowledged.len() > 1_000,
        "too little ingest to prove anything: {}",
        acknowledged.len()
    );
    assert_all_present(&db, &acknowledged).await;
}

async fn assert_all_present(db: &TestDb, ids: &[String]) {
    let store = db.open().await;
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
