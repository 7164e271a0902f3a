//! Two `actlog serve` processes on one PostgreSQL database, as a deployment behind a load
//! balancer runs them: retried batches sent to both store each record once, a walk through one
//! server keeps its snapshot while the other ingests, and a server killed mid-ingest loses
//! nothing it acknowledged.
//!
//! Always on a scratch PostgreSQL database, whatever `ACTLOG_TEST_BACKEND` says: sharing one
//! database between servers is what the PostgreSQL backend is for.

mod common;

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};

use common::{Server, TestDb, create_key};

const PARTNER: &str = "P";
/// A bound on each test, so that a hang fails instead of stalling the suite.
const TEST_LIMIT: Duration = Duration::from_secs(40);

/// Two servers sharing a scratch database, and a client holding a read+write key.
struct Cluster {
    a: Server,
    b: Server,
    key: String,
    client: reqwest::Client,
    // Dropped after the servers: a database is dropped with nobody using it.
    _config: tempfile::TempDir,
    _db: TestDb,
}

impl Cluster {
    fn start() -> Cluster {
        let db = TestDb::postgres();
        let key = create_key(db.url(), PARTNER);
        // Small pools: several servers (and tests) share one PostgreSQL server's connections.
        let config = tempfile::tempdir().unwrap();
        let file = config.path().join("actlog.toml");
        std::fs::write(&file, "[postgres]\nconnections = 8\nwriters = 2\n").unwrap();
        let a = Server::start(db.url(), Some(&file));
        let b = Server::start(db.url(), Some(&file));
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .unwrap();
        Cluster {
            a,
            b,
            key,
            client,
            _config: config,
            _db: db,
        }
    }

    /// `(a, b)` base URLs.
    fn urls(&self) -> (String, String) {
        (self.a.url.clone(), self.b.url.clone())
    }
}

/// Record number `n`: the same content every time it is sent. Dates repeat (every 97 numbers),
/// so the walk's order also rests on the id.
fn record(id: &str, n: usize) -> Value {
    let base: Timestamp = "2026-11-20T10:00:00Z".parse().unwrap();
    let at = base - SignedDuration::from_mins((n % 97) as i64 * 13);
    json!({
        "id": id,
        "customerName": format!("Customer {}", n % 7),
        "operationType": "create_order",
        "operationDate": at.to_string(),
    })
}

/// What a POST of a batch was answered.
#[derive(Debug)]
enum Ack {
    /// 201 or 200: `stored` new records, `unchanged` already present.
    Stored { stored: u64, unchanged: u64 },
    /// 503: try again.
    Busy,
}

/// POSTs `records` to `url`; any answer other than an acknowledgment or 503 fails the test.
async fn post(
    client: &reqwest::Client,
    url: &str,
    key: &str,
    records: &[Value],
) -> reqwest::Result<Ack> {
    let reply = client
        .post(format!("{url}/v1/auditrecords"))
        .header("authorization", format!("Bearer {key}"))
        .header("content-type", "application/json")
        .body(Value::Array(records.to_vec()).to_string())
        .send()
        .await?;
    let status = reply.status().as_u16();
    let text = reply.text().await?;
    match status {
        200 | 201 => {
            let body: Value = serde_json::from_str(&text).unwrap();
            Ok(Ack::Stored {
                stored: body["stored"].as_u64().unwrap(),
                unchanged: body["unchanged"].as_u64().unwrap(),
            })
        }
        503 => Ok(Ack::Busy),
        _ => panic!("POST to {url}: {status} {text}"),
    }
}

/// POSTs until acknowledged (503 is retried); returns `(stored, unchanged)`.
async fn post_until_stored(
    client: &reqwest::Client,
    url: &str,
    key: &str,
    records: &[Value],
) -> (u64, u64) {
    loop {
        match post(client, url, key, records).await.unwrap() {
            Ack::Stored { stored, unchanged } => return (stored, unchanged),
            Ack::Busy => tokio::time::sleep(Duration::from_millis(20)).await,
        }
    }
}

/// The ids of one walk, in order, and when its first page was asked for and answered.
struct Walk {
    ids: Vec<String>,
    first_asked: Instant,
    first_answered: Instant,
}

/// Walks every record through `servers` in turn, page by page (`size=500`), following each
/// `continuationToken` with `seek=TOKEN`; waits `pause` between pages.
async fn walk(client: &reqwest::Client, servers: &[&str], key: &str, pause: Duration) -> Walk {
    let mut query = "startDate=2000-01-01&endDate=2100-01-01&size=500".to_owned();
    let mut ids = Vec::new();
    let first_asked = Instant::now();
    let mut first_answered = None;
    for page in 0.. {
        assert!(page < 1_000, "a walk that does not end");
        let server = servers[page % servers.len()];
        let reply = client
            .get(format!("{server}/v1/auditrecords?{query}"))
            .header("authorization", format!("Bearer {key}"))
            .send()
            .await
            .unwrap();
        let status = reply.status();
        let body: Value = serde_json::from_str(&reply.text().await.unwrap()).unwrap();
        assert_eq!(status, 200, "page {page} from {server}: {body}");
        first_answered.get_or_insert_with(Instant::now);
        let items = body["items"].as_array().unwrap();
        ids.extend(items.iter().map(|r| r["id"].as_str().unwrap().to_owned()));
        match body["continuationToken"].as_str() {
            Some(token) => query = format!("seek={}", enc(token)),
            None => break,
        }
        tokio::time::sleep(pause).await;
    }
    Walk {
        ids,
        first_asked,
        first_answered: first_answered.unwrap(),
    }
}

/// URL-encodes a query value.
fn enc(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// How often each id occurs.
fn counts(ids: &[String]) -> HashMap<&str, usize> {
    let mut counts = HashMap::new();
    for id in ids {
        *counts.entry(id.as_str()).or_insert(0) += 1;
    }
    counts
}

/// Fails naming a few ids that occur more than once.
fn assert_each_once(ids: &[String]) {
    let twice: Vec<_> = counts(ids).into_iter().filter(|(_, n)| *n > 1).collect();
    assert!(
        twice.is_empty(),
        "{} ids more than once, e.g. {:?}",
        twice.len(),
        &twice[..twice.len().min(5)]
    );
}

/// Fails naming a few of `expected` missing from `ids`.
fn assert_all_present<'a>(ids: &[String], expected: impl IntoIterator<Item = &'a String>) {
    let seen: HashSet<&str> = ids.iter().map(String::as_str).collect();
    let missing: Vec<&String> = expected
        .into_iter()
        .filter(|id| !seen.contains(id.as_str()))
        .collect();
    assert!(
        missing.is_empty(),
        "{} records missing, e.g. {:?}",
        missing.len(),
        &missing[..missing.len().min(5)]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn retried_overlapping_batches_through_two_servers_store_each_record_once() {
    let cluster = Cluster::start();
    tokio::time::timeout(TEST_LIMIT, retried_overlapping_batches(&cluster))
        .await
        .expect("the test finishes in time");
}

async fn retried_overlapping_batches(cluster: &Cluster) {
    const BATCHES: usize = 40;
    const SIZE: usize = 50;
    const TASKS: usize = 6;
    // Batch k holds records k*25 .. k*25+50: each record is in two batches, and each batch is
    // sent by every task, half of them to each server.
    let total = (BATCHES + 1) * SIZE / 2;
    let ids: Vec<String> = (0..total).map(|n| format!("rec-{n:05}")).collect();
    let batches: Arc<Vec<Vec<Value>>> = Arc::new(
        (0..BATCHES)
            .map(|k| {
                (k * SIZE / 2..k * SIZE / 2 + SIZE)
                    .map(|n| record(&ids[n], n))
                    .collect()
            })
            .collect(),
    );
    let (a, b) = cluster.urls();
    let mut tasks = Vec::new();
    for t in 0..TASKS {
        let (client, key, batches) = (cluster.client.clone(), cluster.key.clone(), batches.clone());
        let servers = [a.clone(), b.clone()];
        tasks.push(tokio::spawn(async move {
            let (mut stored, mut unchanged) = (0, 0);
            for i in 0..BATCHES {
                // Each task starts elsewhere, so that copies of a batch meet at once.
                let k = (i + t * 7) % BATCHES;
                let server = &servers[(k + t) % 2];
                let (s, u) = post_until_stored(&client, server, &key, &batches[k]).await;
                stored += s;
                unchanged += u;
            }
            (stored, unchanged)
        }));
    }
    let (mut stored, mut unchanged) = (0, 0);
    for task in tasks {
        let (s, u) = task.await.unwrap();
        stored += s;
        unchanged += u;
    }
    assert_eq!(
        stored, total as u64,
        "the acknowledgments count each record as stored once"
    );
    assert_eq!(stored + unchanged, (TASKS * BATCHES * SIZE) as u64);

    let walked = walk(&cluster.client, &[&a, &b], &cluster.key, Duration::ZERO).await;
    assert_each_once(&walked.ids);
    assert_all_present(&walked.ids, &ids);
    assert_eq!(walked.ids.len(), total);
}

/// What the ingest tasks sent: the ids of each batch, when its POST started and when it was
/// acknowledged.
type Sent = Vec<(Vec<String>, Instant, Instant)>;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_walk_through_one_server_keeps_its_snapshot_while_the_other_ingests() {
    let cluster = Cluster::start();
    tokio::time::timeout(TEST_LIMIT, walk_during_ingest(&cluster))
        .await
        .expect("the test finishes in time");
}

async fn walk_during_ingest(cluster: &Cluster) {
    let (a, b) = cluster.urls();
    let before: Vec<String> = (0..3_000).map(|n| format!("old-{n:05}")).collect();
    for (c, chunk) in before.chunks(250).enumerate() {
        let records: Vec<Value> = chunk
            .iter()
            .enumerate()
            .map(|(i, id)| record(id, c * 250 + i))
            .collect();
        post_until_stored(&cluster.client, &a, &cluster.key, &records).await;
    }

    let stop = Arc::new(AtomicBool::new(false));
    let sent = Arc::new(Mutex::new(Sent::new()));
    let mut tasks = Vec::new();
    for t in 0..4 {
        let (client, key, b) = (cluster.client.clone(), cluster.key.clone(), b.clone());
        let (stop, sent) = (stop.clone(), sent.clone());
        tasks.push(tokio::spawn(async move {
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) {
                let ids: Vec<String> = (0..20).map(|i| format!("new-{t}-{n:04}-{i:02}")).collect();
                // Dates across the whole range, so that many land on pages not walked yet.
                let records: Vec<Value> = ids
                    .iter()
                    .enumerate()
                    .map(|(i, id)| record(id, n * 20 + i + t))
                    .collect();
                let started = Instant::now();
                post_until_stored(&client, &b, &key, &records).await;
                sent.lock().unwrap().push((ids, started, Instant::now()));
                n += 1;
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let walked = walk(
        &cluster.client,
        &[&a],
        &cluster.key,
        Duration::from_millis(50),
    )
    .await;
    stop.store(true, Ordering::Relaxed);
    for task in tasks {
        task.await.unwrap();
    }

    let sent = sent.lock().unwrap().clone();
    let acknowledged_before: Vec<&String> = sent
        .iter()
        .filter(|(_, _, acked)| *acked < walked.first_asked)
        .flat_map(|(ids, _, _)| ids)
        .collect();
    let started_after: HashSet<&str> = sent
        .iter()
        .filter(|(_, started, _)| *started > walked.first_answered)
        .flat_map(|(ids, _, _)| ids.iter().map(String::as_str))
        .collect();
    assert!(
        !acknowledged_before.is_empty() && started_after.len() >= 200,
        "too little ingest around the walk to prove anything: {} before, {} after",
        acknowledged_before.len(),
        started_after.len()
    );
    assert_each_once(&walked.ids);
    assert_all_present(&walked.ids, before.iter().chain(acknowledged_before));
    let late: Vec<&String> = walked
        .ids
        .iter()
        .filter(|id| started_after.contains(id.as_str()))
        .collect();
    assert!(
        late.is_empty(),
        "{} records sent after the first page were walked, e.g. {:?}",
        late.len(),
        &late[..late.len().min(5)]
    );

    // Afterwards, a new walk (through the other server) has everything once.
    let all = walk(&cluster.client, &[&b], &cluster.key, Duration::ZERO).await;
    assert_each_once(&all.ids);
    let acknowledged: Vec<&String> = sent.iter().flat_map(|(ids, _, _)| ids).collect();
    assert_all_present(&all.ids, before.iter().chain(acknowledged.iter().copied()));
    assert_eq!(all.ids.len(), before.len() + acknowledged.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_server_killed_during_ingest_loses_nothing_it_acknowledged() {
    let mut cluster = Cluster::start();
    tokio::time::timeout(TEST_LIMIT, kill_during_ingest(&mut cluster))
        .await
        .expect("the test finishes in time");
}

async fn kill_during_ingest(cluster: &mut Cluster) {
    let (a, b) = cluster.urls();
    let acknowledged = Arc::new(Mutex::new(Vec::<String>::new()));
    let mut tasks = Vec::new();
    for t in 0..16 {
        let (client, key, b) = (cluster.client.clone(), cluster.key.clone(), b.clone());
        let acknowledged = acknowledged.clone();
        tasks.push(tokio::spawn(async move {
            for n in 0.. {
                let ids: Vec<String> = (0..1 + (t + n) % 8)
                    .map(|i| format!("k{t}-{n:05}-{i}"))
                    .collect();
                let records: Vec<Value> = ids
                    .iter()
                    .enumerate()
                    .map(|(i, id)| record(id, n + i))
                    .collect();
                match post(&client, &b, &key, &records).await {
                    Ok(Ack::Stored { .. }) => acknowledged.lock().unwrap().extend(ids),
                    Ok(Ack::Busy) => tokio::time::sleep(Duration::from_millis(5)).await,
                    Err(_) => return, // the server is gone
                }
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    cluster.b.kill(); // SIGKILL
    for task in tasks {
        task.await.unwrap();
    }

    let acknowledged = acknowledged.lock().unwrap().clone();
    assert!(
        acknowledged.len() > 500,
        "too little ingest to prove anything: {}",
        acknowledged.len()
    );
    let walked = walk(&cluster.client, &[&a], &cluster.key, Duration::ZERO).await;
    assert_each_once(&walked.ids);
    assert_all_present(&walked.ids, &acknowledged);
}
