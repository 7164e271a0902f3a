//! Ingest: actlog over HTTP, durable, against `sqlite3 .import` of the same rows into the same
//! schema; and many single-record clients against the disk's fsync rate.

use std::io::Write;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

use actlog_domain::AuditRecord;

use crate::rows::RowSpec;
use crate::server;

pub async fn run(rows: &RowSpec, seconds: u64) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let partner = &rows.partner;
    let rows: Vec<AuditRecord> = rows.rows().collect();
    let count = rows.len().max(1);
    let details: usize = rows.iter().map(crate::rows::details_len).sum();
    let json: usize = rows
        .iter()
        .map(|r| serde_json::to_string(r).map_or(0, |j| j.len()))
        .sum();
    println!(
        "{} records: {} bytes of details, {} bytes of JSON per record on average",
        rows.len(),
        details / count,
        json / count
    );

    let shell = sqlite3_import(dir.path(), partner, &rows)?;
    println!(
        "sqlite3 .import (same schema, one transaction): {:>9.0} records/s",
        shell
    );

    let http = http_batches(dir.path(), partner, &rows, 2).await?;
    println!(
        "actlog HTTP, batches of 1,000, 2 clients:        {:>9.0} records/s  = {:.2}x sqlite3 .import",
        http,
        http / shell
    );

    let fsyncs = fsync_rate(dir.path())?;
    let single = single_record_clients(dir.path(), partner, &rows, 64, seconds).await?;
    println!(
        "disk: synchronous 4 KiB writes:                  {:>9.0} fsyncs/s",
        fsyncs
    );
    println!(
        "actlog HTTP, 64 clients x 1 record per request:  {:>9.0} records/s  = {:.1}x the fsync rate",
        single,
        single / fsyncs
    );
    Ok(())
}

/// The schema actlog creates, then `.import` of the same rows as CSV in one transaction.
fn sqlite3_import(
    dir: &std::path::Path,
    partner: &str,
    rows: &[AuditRecord],
) -> anyhow::Result<f64> {
    let db = dir.join("shell.db");
    drop(actlog_sqlite::SqliteStore::open(
        &db,
        actlog_sqlite::SqliteOptions::default(),
    )?);
    let csv_path = dir.join("rows.csv");
    let mut out = csv::Writer::from_path(&csv_path)?;
    for (i, r) in rows.iter().enumerate() {
        let seq = (i + 1).to_string();
        let date = r.operation_date.ticks().to_string();
        let customized = r.customized_data_json();
        let o = |v: &Option<String>| v.clone().unwrap_or_default();
        // The folded forms actlog stores beside each row, as the schema has them.
        let folded = actlog_domain::folded::Folded::of(r);
        out.write_record([
            seq,
            "1".into(),
            r.id.clone(),
            date,
            o(&r.customer_id),
            o(&r.customer_name),
            o(&r.user_principal_name),
            o(&r.application_id),
            o(&r.resource_type),
            r.operation_type.clone(),
            o(&r.operation_status),
            o(&r.resource_old_value),
            o(&r.resource_new_value),
            customized.unwrap_or_default(),
            o(&r.session_id),
            o(&r.original_correlation_id),
            o(&folded.customer_name),
            o(&folded.user_principal_name),
            o(&folded.application_id),
            folded.text,
        ])?;
    }
    out.flush()?;
    let setup = format!(
        "INSERT INTO partners(pkey, id, created_at) VALUES (1, '{}', 0);",
        partner.replace('\'', "''")
    );
    run_sqlite3(&db, &setup)?;
    let script = format!(
        "PRAGMA synchronous=FULL;\n.import --csv {} records\n",
        csv_path.display()
    );
    let started = Instant::now();
    run_sqlite3(&db, &script)?;
    let elapsed = started.elapsed().as_secs_f64();
    let count = run_sqlite3(&db, "SELECT count(*) FROM records;")?;
    if count.trim() != rows.len().to_string() {
        bail!("sqlite3 imported {} rows, not {}", count.trim(), rows.len());
    }
    Ok(rows.len() as f64 / elapsed)
}

fn run_sqlite3(db: &std::path::Path, script: &str) -> anyhow::Result<String> {
    let mut child = Command::new("sqlite3")
        .arg(db)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .context("the sqlite3 shell is needed (apt-get install sqlite3)")?;
    child
        .stdin
        .take()
        .expect("piped")
        .write_all(script.as_bytes())?;
    let out = child.wait_with_output()?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() || !stderr.trim().is_empty() {
        bail!("sqlite3 failed: {stderr}");
    }
    Ok(String::from_utf8(out.stdout)?)
}

/// Batches of 1,000 as JSON arrays from `clients` concurrent connections; each acknowledged
/// only once durable.
async fn http_batches(
    dir: &std::path::Path,
    partner: &str,
    rows: &[AuditRecord],
    clients: usize,
) -> anyhow::Result<f64> {
    let running = server::start(&dir.join("http.db"), partner).await?;
    let bodies: Vec<String> = rows
        .chunks(1_000)
        .map(|c| serde_json::to_string(c).expect("serializes"))
        .collect();
    let bodies = Arc::new(bodies);
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let (bodies, next, url, key) = (
            bodies.clone(),
            next.clone(),
            running.url.clone(),
            running.key.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let client = reqwest::Client::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(body) = bodies.get(i) else {
                    return Ok::<_, anyhow::Error>(());
                };
                let reply = client
                    .post(format!("{url}/v1/auditrecords"))
                    .header("authorization", format!("Bearer {key}"))
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

/// `clients` tasks each sending one record per request for `seconds`.
async fn single_record_clients(
    dir: &std::path::Path,
    partner: &str,
    rows: &[AuditRecord],
    clients: usize,
    seconds: u64,
) -> anyhow::Result<f64> {
    let running = server::start(&dir.join("single.db"), partner).await?;
    let bodies: Arc<Vec<String>> = Arc::new(
        rows.iter()
            .map(|r| serde_json::to_string(r).expect("serializes"))
            .collect(),
    );
    let next = Arc::new(AtomicUsize::new(0));
    let done = Arc::new(AtomicUsize::new(0));
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let (bodies, next, done, url, key) = (
            bodies.clone(),
            next.clone(),
            done.clone(),
            running.url.clone(),
            running.key.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let client = reqwest::Client::new();
            while Instant::now() < deadline {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(body) = bodies.get(i) else { break };
                let reply = client
                    .post(format!("{url}/v1/auditrecords"))
                    .header("authorization", format!("Bearer {key}"))
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

/// Synchronous 4 KiB writes per second on the benchmark's disk: the ceiling a server that
/// fsyncs once per request would have.
fn fsync_rate(dir: &std::path::Path) -> anyhow::Result<f64> {
    let mut file = std::fs::File::create(dir.join("fsync.bin"))?;
    let block = [7u8; 4096];
    let started = Instant::now();
    let mut n = 0u32;
    while started.elapsed() < Duration::from_secs(1) {
        file.write_all(&block)?;
        file.sync_data()?;
        n += 1;
    }
    Ok(f64::from(n) / started.elapsed().as_secs_f64())
}
