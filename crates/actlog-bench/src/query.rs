//! First-page latency of the default one-month view on the demo partner, as a client on
//! loopback sees it (an upper bound of the server's own time).

use std::time::Instant;

use actlog_demo::DemoSpec;

use crate::server;

pub async fn run(records: usize, requests: usize) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let now = jiff::Timestamp::now();
    let mut spec = DemoSpec::standard(now);
    spec.records = records;
    let running = server::start(&dir.path().join("query.db"), &spec.partner_id).await?;
    let all: Vec<_> = actlog_demo::generate(&spec).collect();
    for chunk in all.chunks(1_000) {
        running
            .store
            .append(&spec.partner_id, chunk.to_vec())
            .await?;
    }
    let customer = all
        .last()
        .and_then(|r| r.customer_id.clone())
        .unwrap_or_default();
    let month_ago = (now - jiff::SignedDuration::from_hours(24 * 30)).to_string();
    let filter = |field: &str, value: &str| {
        let json = format!(r#"{{"Field":"{field}","Value":"{value}","Operator":"equals"}}"#);
        format!("&filter={}", encode(&json))
    };
    let views = [
        ("one month, no filter", String::new()),
        (
            "one month, CustomerId equals",
            filter("CustomerId", &customer),
        ),
        (
            "one month, OperationType equals",
            filter("OperationType", "update_subscription"),
        ),
    ];
    println!(
        "{} records; {} requests per view; first page of 50 and of 500 rows",
        records, requests
    );
    let client = reqwest::Client::new();
    for (name, extra) in views {
        for size in [50, 500] {
            let url = format!(
                "{}/v1/auditrecords?startDate={}&size={size}{extra}",
                running.url,
                encode(&month_ago)
            );
            let mut times = Vec::with_capacity(requests);
            for _ in 0..requests {
                let started = Instant::now();
                let reply = client
                    .get(&url)
                    .header("authorization", format!("Bearer {}", running.key))
                    .send()
                    .await?;
                let status = reply.status();
                let _ = reply.bytes().await?;
                times.push(started.elapsed().as_secs_f64() * 1e3);
                anyhow::ensure!(status.is_success(), "query failed: {status}");
            }
            times.sort_by(f64::total_cmp);
            let pct = |p: f64| times[((times.len() as f64 * p) as usize).min(times.len() - 1)];
            println!(
                "{name:<34} size {size:>3}: p50 {:>6.2} ms  p99 {:>6.2} ms",
                pct(0.50),
                pct(0.99)
            );
        }
    }
    Ok(())
}

fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
