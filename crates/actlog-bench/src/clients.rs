//! HTTP clients loading actlog servers with records, as partner platforms do: batches of 1,000
//! as JSON arrays, or one record per request. Every request is acknowledged only once its
//! records are durable, so a rate here is a rate of stored records.
//!
//! The clients run in a process of their own (this binary's hidden `load` command), as a
//! partner platform's would: their CPU is not the server's, and the scheduler treats them
//! as another program. The bodies are serialized here and handed over in a file, one JSON
//! document per line; the child reports how many it sent and over how long.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::Args;

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
    let bodies = rows
        .chunks(BATCH)
        .map(|c| serde_json::to_string(c).expect("serializes"));
    let (sent, seconds) = run_load(servers, bodies, clients, None).await?;
    anyhow::ensure!(
        sent == rows.len().div_ceil(BATCH),
        "the clients sent {sent} of {} batches",
        rows.len().div_ceil(BATCH)
    );
    Ok(rows.len() as f64 / seconds)
}

/// `clients` clients each sending one record per request for `seconds` (or until `rows` run
/// out). Records per second.
pub async fn single_records(
    server: &Running,
    rows: &[AuditRecord],
    clients: usize,
    seconds: u64,
) -> anyhow::Result<f64> {
    let bodies = rows
        .iter()
        .map(|r| serde_json::to_string(r).expect("serializes"));
    let (sent, elapsed) = run_load(&[server], bodies, clients, Some(seconds)).await?;
    Ok(sent as f64 / elapsed)
}

/// Writes `bodies` to a file and runs the `load` command on them; (bodies sent, seconds).
async fn run_load(
    servers: &[&Running],
    bodies: impl Iterator<Item = String>,
    clients: usize,
    seconds: Option<u64>,
) -> anyhow::Result<(usize, f64)> {
    let dir = tempfile::tempdir()?;
    let file = dir.path().join("bodies.jsonl");
    {
        let mut out = std::io::BufWriter::new(std::fs::File::create(&file)?);
        for body in bodies {
            // serde_json escapes every newline inside strings: one body per line.
            out.write_all(body.as_bytes())?;
            out.write_all(b"\n")?;
        }
        out.flush()?;
    }
    let mut command = std::process::Command::new(std::env::current_exe()?);
    command
        .arg("load")
        .arg("--bodies")
        .arg(&file)
        .arg("--clients")
        .arg(clients.to_string());
    if let Some(seconds) = seconds {
        command.arg("--seconds").arg(seconds.to_string());
    }
    for server in servers {
        command.arg("--target").arg(&server.url);
    }
    // The key goes through the environment, not the command line others can read.
    command.env(KEY_VARIABLE, &servers[0].key);
    // The clients' process is waited for on a thread of its own: this runtime serves the
    // servers they load.
    let output = tokio::task::spawn_blocking(move || command.output())
        .await?
        .context("cannot run the load clients")?;
    if !output.status.success() {
        bail!(
            "the load clients failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    let report = String::from_utf8(output.stdout)?;
    let mut fields = report.split_whitespace();
    let (Some(sent), Some(elapsed)) = (fields.next(), fields.next()) else {
        bail!("the load clients reported {report:?}");
    };
    Ok((sent.parse()?, elapsed.parse()?))
}

/// Where `load` finds the API key.
const KEY_VARIABLE: &str = "ACTLOG_BENCH_KEY";

/// The `load` command: clients posting bodies, run by [`batches`] and [`single_records`].
#[derive(Debug, Args)]
pub struct Load {
    /// The bodies, one JSON document per line.
    #[arg(long)]
    bodies: PathBuf,
    /// A server (`http://HOST:PORT`); body `i` goes to the `i % n`th of n.
    #[arg(long = "target", required = true)]
    targets: Vec<String>,
    #[arg(long)]
    clients: usize,
    /// Stop after this many seconds (by default, when every body is sent).
    #[arg(long)]
    seconds: Option<u64>,
}

/// Runs [`Load`]; prints the bodies sent and the seconds it took.
pub async fn load(load: Load) -> anyhow::Result<()> {
    let key = std::env::var(KEY_VARIABLE)
        .with_context(|| format!("{KEY_VARIABLE} must hold the API key"))?;
    let bodies: Arc<Vec<String>> = Arc::new(read_bodies(&load.bodies)?);
    let auth = Arc::new(format!("Bearer {key}"));
    let targets: Arc<Vec<String>> = Arc::new(
        load.targets
            .iter()
            .map(|t| format!("{t}/v1/auditrecords"))
            .collect(),
    );
    let next = Arc::new(AtomicUsize::new(0));
    let done = Arc::new(AtomicUsize::new(0));
    let deadline = load
        .seconds
        .map(|s| Instant::now() + Duration::from_secs(s));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..load.clients.max(1) {
        let (bodies, next, done, targets, auth) = (
            bodies.clone(),
            next.clone(),
            done.clone(),
            targets.clone(),
            auth.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let client = reqwest::Client::new();
            while deadline.is_none_or(|d| Instant::now() < d) {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(body) = bodies.get(i) else { break };
                let reply = client
                    .post(&targets[i % targets.len()])
                    .header("authorization", auth.as_str())
                    .header("content-type", "application/json")
                    .body(body.clone())
                    .send()
                    .await?;
                if !reply.status().is_success() {
                    bail!("ingest failed: {} {}", reply.status(), reply.text().await?);
                }
                done.fetch_add(1, Ordering::Relaxed);
            }
            Ok::<_, anyhow::Error>(())
        }));
    }
    for task in tasks {
        task.await??;
    }
    println!(
        "{} {}",
        done.load(Ordering::Relaxed),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

fn read_bodies(path: &Path) -> anyhow::Result<Vec<String>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the bodies in {}", path.display()))?;
    Ok(text.lines().map(str::to_owned).collect())
}
