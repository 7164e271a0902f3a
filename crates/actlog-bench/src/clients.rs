//! HTTP clients loading actlog servers with records, as partner platforms do: batches of 1,000
//! as JSON arrays, or one record per request. Every request is acknowledged only once its
//! records are durable, so a rate here is a rate of stored records.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::bail;

use actlog_domain::AuditRecord;

use crate::server::Running;

/// Records per batch request, as PRODUCT §8 measures ingest.
pub const BATCH: usize = 1_000;

/// Sends `rows` in batches of [`BATCH`] from `clients` concurrent clients; batch `i` goes to
/// `servers[i % servers.len()]` (which must share one database and key). Records per second.
pub async fn batches(
    servers: &[&Running],
    rows: &[AuditRecord],
    clients: usize,
) -> anyhow::Result<f64> {
    anyhow::ensure!(!servers.is_empty(), "no server to send to");
    let targets: Arc<Vec<(String, String)>> = Arc::new(
        servers
            .iter()
            .map(|s| (format!("{}/v1/auditrecords", s.url), bearer(&s.key)))
            .collect(),
    );
    let bodies: Arc<Vec<String>> = Arc::new(
        rows.chunks(BATCH)
            .map(|c| serde_json::to_string(c).expect("serializes"))
            .collect(),
    );
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let (bodies, next, targets) = (bodies.clone(), next.clone(), targets.clone());
        tasks.push(tokio::spawn(async move {
            let client = reqwest::Client::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(body) = bodies.get(i) else {
                    return Ok::<_, anyhow::Error>(());
                };
                let (url, auth) = &targets[i % targets.len()];
                let reply = client
                    .post(url)
                    .header("authorization", auth)
                    .header("content-type", "application/json")
                    .body(body.clone())
                    .send()
                    .await?;
                if !reply.status().is_success() {
                    bail!("ingest failed: {} {}", reply.status(), reply.text().await?);
                }
            }
        }));
    }
    for task in tasks {
        task.await??;
    }
    Ok(rows.len() as f64 / started.elapsed().as_secs_f64())
}

/// `clients` clients each sending one record per request for `seconds` (or until `rows` run
/// out). Records per second.
pub async fn single_records(
    server: &Running,
    rows: &[AuditRecord],
    clients: usize,
    seconds: u64,
) -> anyhow::Result<f64> {
    let bodies: Arc<Vec<String>> = Arc::new(
        rows.iter()
            .map(|r| serde_json::to_string(r).expect("serializes"))
            .collect(),
    );
    let next = Arc::new(AtomicUsize::new(0));
    let done = Arc::new(AtomicUsize::new(0));
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let url = format!("{}/v1/auditrecords", server.url);
    let auth = bearer(&server.key);
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let (bodies, next, done, url, auth) = (
            bodies.clone(),
            next.clone(),
            done.clone(),
            url.clone(),
            auth.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let client = reqwest::Client::new();
            while Instant::now() < deadline {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(body) = bodies.get(i) else { break };
                let reply = client
                    .post(&url)
                    .header("authorization", &auth)
                    .body(body.clone())
                    .send()
                    .await?;
                if !reply.status().is_success() {
                    bail!("ingest failed: {}", reply.status());
                }
                done.fetch_add(1, Ordering::Relaxed);
            }
            Ok::<_, anyhow::Error>(())
        }));
    }
    let started = Instant::now();
    for task in tasks {
        task.await??;
    }
    Ok(done.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64())
}

fn bearer(key: &str) -> String {
    format!("Bearer {key}")
}
