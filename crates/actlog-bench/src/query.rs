//! First-page latency of the default one-month view on the demo partner, as a client on
//! loopback sees it (an upper bound of the server's own time), on either backend: the views
//! and their requests are the same, only the store under the server differs.

use actlog_server::web::url::encode;
use std::time::Instant;

use actlog_domain::OperationDate;
use actlog_domain::query::{Query, Window};

use crate::backend::{Backend, Database};
use crate::rows::RowSpec;
use crate::{postgres, seed, server};

/// Seeds `rows` into a fresh store (or `database`, kept; one that already holds the partner's
/// records is reused as it is, so a large store is seeded once) and measures the views.
pub async fn run(
    rows: &RowSpec,
    requests: usize,
    backend: Backend,
    database: Option<&str>,
) -> anyhow::Result<()> {
    let db = match database {
        Some(location) => Database::kept(backend, location)?,
        None => Database::fresh(backend).await?,
    };
    let reuse = match &db {
        Database::Sqlite { path, .. } => path.exists(),
        Database::Postgres { .. } => false,
    };
    let now = rows.now;
    let running = server::start(db.open().await?, &rows.partner).await?;
    let everything = Query {
        window: Window {
            start: OperationDate::MIN,
            end: None,
        },
        filter: None,
    };
    let count = running.store.count(&rows.partner, &everything).await?;
    if reuse || count > 0 {
        println!("reusing {} with {count} records", db.url());
    } else {
        let (stored, rate) =
            seed::append_all(&running.store, &rows.partner, rows.rows(), 5_000).await?;
        anyhow::ensure!(
            stored == rows.records,
            "stored {stored} of {} records",
            rows.records
        );
        println!(
            "seeded {} through the store API at {rate:.0} records/s",
            rows.describe()
        );
        if let Database::Postgres { url, .. } = &db {
            postgres::settle(url)?;
            println!("vacuumed and analyzed, as autovacuum would have by now");
        }
    }
    let customer = rows.customer();
    // Whole seconds: the API refuses dates finer than its 100 ns.
    let month_ago = (now - jiff::SignedDuration::from_hours(24 * 30))
        .strftime("%Y-%m-%dT%H:%M:%SZ")
        .to_string();
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
    println!("{requests} requests per view; first page of 50 and of 500 rows");
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
                let body = reply.bytes().await?;
                times.push(started.elapsed().as_secs_f64() * 1e3);
                anyhow::ensure!(
                    status.is_success(),
                    "query failed: {status} {}",
                    String::from_utf8_lossy(&body)
                );
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
