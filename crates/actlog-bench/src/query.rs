//! First-page latency of the default one-month view on the demo partner, as a client on
//! loopback sees it (an upper bound of the server's own time), on either backend: the views
//! and their requests are the same, only the store under the server differs. Then the pages a
//! signed-in user opens: the activity log (its HTML size too), a free-text search of it, and
//! the busiest customer's Subscriptions page.

use actlog_server::web::url::encode;
use std::time::{Duration, Instant};

use actlog_domain::OperationDate;
use actlog_domain::query::{Query, Window};

use anyhow::Context;

use crate::backend::{Backend, Database};
use crate::report::Figure;
use crate::rows::RowSpec;
use crate::{postgres, seed, server};

/// Seeds `rows` into a fresh store (or `database`, kept; one that already holds the partner's
/// records is reused as it is, so a large store is seeded once) and measures the views; returns
/// their p99s (and the activity log's size) as figures, each with its bound at 10 million
/// records (also printed).
pub async fn run(
    rows: &RowSpec,
    requests: usize,
    backend: Backend,
    database: Option<&str>,
) -> anyhow::Result<Vec<Figure>> {
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
    // With PRODUCT §8's p99 bound at 10 million records.
    let views = [
        ("one month, no filter", String::new(), 10.0),
        (
            "one month, CustomerId equals",
            filter("CustomerId", &customer),
            25.0,
        ),
        (
            "one month, OperationType equals",
            filter("OperationType", "update_subscription"),
            25.0,
        ),
    ];
    let mut figures = Vec::new();
    println!("{requests} requests per view; first page of 50 and of 500 rows");
    let client = reqwest::Client::new();
    for (name, extra, bound) in views {
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
            let (p50, p99) = percentiles(&mut times);
            println!("{name:<34} size {size:>3}: p50 {p50:>6.2} ms  p99 {p99:>6.2} ms");
            figures.push(latency(
                format!("API {name}, first {size}, p99"),
                p99,
                bound,
            ));
        }
    }
    figures.extend(pages(&running, &customer, requests).await?);
    Ok(figures)
}

/// A p99 latency in milliseconds with its bound.
fn latency(name: String, p99: f64, bound: f64) -> Figure {
    Figure {
        bench: "query",
        name,
        value: p99,
        unit: "ms",
        reference: None,
        target: None,
        at_most: Some(bound),
    }
}

/// The median and the 99th percentile of `times`.
fn percentiles(times: &mut [f64]) -> (f64, f64) {
    times.sort_by(f64::total_cmp);
    let pct = |p: f64| times[((times.len() as f64 * p) as usize).min(times.len() - 1)];
    (pct(0.50), pct(0.99))
}

/// Most time one page view is measured for: a slow one gets fewer requests.
const PAGE_BUDGET: Duration = Duration::from_secs(60);

/// The pages as a signed-in user opens them, each `requests` times (or for [`PAGE_BUDGET`]).
async fn pages(
    running: &server::Running,
    customer: &str,
    requests: usize,
) -> anyhow::Result<Vec<Figure>> {
    let session = sign_in(running).await?;
    let customer_path = format!("/customers/{}/subscriptions", encode(customer));
    let details_path = format!(
        "/activity-log/details?id={}",
        encode(&newest_id(running).await?)
    );
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    // The page after the first, when the customer has more than one.
    let customer_next = following_page(&client, running, &session, &customer_path).await?;
    // With the p99 bound asked for at 10 million records.
    let mut views = vec![
        (
            "activity log, default month",
            "/activity-log".to_owned(),
            10.0,
        ),
        (
            "search, the busiest customer's id",
            format!("/activity-log?q={}", encode(customer)),
            250.0,
        ),
        (
            "search, text found nowhere",
            "/activity-log?q=no-such-text-anywhere".to_owned(),
            250.0,
        ),
        ("Subscriptions, busiest customer", customer_path, 25.0),
        ("a row's details, on expand", details_path, 100.0),
    ];
    if let Some(next) = customer_next {
        views.push(("Subscriptions, busiest customer, page 2", next, 25.0));
    }
    let mut figures = Vec::new();
    println!(
        "pages, signed in ({requests} requests or {PAGE_BUDGET:?} each; HTML before compression):"
    );
    for (name, path, bound) in views {
        let url = format!("{}{path}", running.url);
        let (mut times, mut size) = (Vec::with_capacity(requests), 0);
        // Answers of the server's own limits (its statement time limit, a partner's share of
        // query time): counted and shown, not taken for a failure of the benchmark.
        let (mut refused, mut refusal) = (0, String::new());
        let started_all = Instant::now();
        while times.len() < requests && started_all.elapsed() < PAGE_BUDGET {
            let started = Instant::now();
            let reply = client.get(&url).header("cookie", &session).send().await?;
            let status = reply.status();
            let body = reply.bytes().await?;
            times.push(started.elapsed().as_secs_f64() * 1e3);
            if matches!(status.as_u16(), 429 | 503) {
                refused += 1;
                refusal = format!("{status}");
                continue;
            }
            anyhow::ensure!(status.is_success(), "{path}: {status}");
            size = body.len();
        }
        let n = times.len();
        let (p50, p99) = percentiles(&mut times);
        println!(
            "{name:<34} {n:>4} requests: p50 {p50:>7.2} ms  p99 {p99:>7.2} ms  {:>6.1} KB",
            size as f64 / 1e3
        );
        let mut figure = format!("page {name}, p99");
        if refused > 0 {
            println!(
                "{:<34} {refused:>4} of them refused by the server's limits ({refusal})",
                ""
            );
            figure.push_str(&format!(" ({refused} of {n} refused: {refusal})"));
        }
        figures.push(latency(figure, p99, bound));
        if path == "/activity-log" {
            figures.push(Figure {
                bench: "query",
                name: "page activity log, HTML of 50 rows".into(),
                value: size as f64 / 1e3,
                unit: "KB",
                reference: None,
                target: None,
                at_most: Some(100.0),
            });
        }
    }
    Ok(figures)
}

/// The link of the page's "More" button (`id="load-more"`), if it has one.
async fn following_page(
    client: &reqwest::Client,
    running: &server::Running,
    session: &str,
    path: &str,
) -> anyhow::Result<Option<String>> {
    let html = client
        .get(format!("{}{path}", running.url))
        .header("cookie", session)
        .send()
        .await?
        .error_for_status()?
        .text()
        .await?;
    Ok(html.split("id=\"load-more\"").nth(1).and_then(|rest| {
        let href = rest.split("href=\"").nth(1)?;
        Some(href[..href.find('"')?].replace("&#38;", "&"))
    }))
}

/// The id of the partner's newest record, through the API.
async fn newest_id(running: &server::Running) -> anyhow::Result<String> {
    let body = reqwest::Client::new()
        .get(format!("{}/v1/auditrecords?size=1", running.url))
        .header("authorization", format!("Bearer {}", running.key))
        .send()
        .await?
        .error_for_status()?
        .bytes()
        .await?;
    let page: serde_json::Value = serde_json::from_slice(&body)?;
    page["items"][0]["id"]
        .as_str()
        .map(str::to_owned)
        .context("the API's first page has no record")
}

/// A new user of the partner who may read the log, signed in through the form: the session's
/// cookie header.
async fn sign_in(running: &server::Running) -> anyhow::Result<String> {
    let partner = &running.partner;
    let policy = actlog_domain::roles::AccessPolicy::default();
    let role = actlog_domain::roles::Role::ALL
        .into_iter()
        .find(|r| policy.may_view_log(&[*r]))
        .expect("a role that may view the log");
    let password = uuid::Uuid::new_v4().to_string();
    // A new address each run: a kept store may hold the last run's user.
    let email = format!("bench-{}@bench.example", uuid::Uuid::new_v4().simple());
    running
        .store
        .add_user(actlog_store::NewUser {
            partner_id: partner.clone(),
            email: email.clone(),
            password_hash: actlog_app::password::hash(password.clone()).await,
            roles: vec![role],
        })
        .await?;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let form = client
        .get(format!("{}/sign-in", running.url))
        .send()
        .await?;
    let csrf = cookie(form.headers(), "actlog_csrf").context("the sign-in form's CSRF cookie")?;
    let body = format!(
        "email={}&password={}&csrf={csrf}&next=%2F",
        encode(&email),
        encode(&password)
    );
    let signed = client
        .post(format!("{}/sign-in", running.url))
        .header("cookie", format!("actlog_csrf={csrf}"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await?;
    let session = cookie(signed.headers(), "actlog_session")
        .with_context(|| format!("signing in answered {}", signed.status()))?;
    Ok(format!("actlog_session={session}"))
}

/// The value `Set-Cookie` gives cookie `name`.
fn cookie(headers: &reqwest::header::HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| {
            let pair = v.split(';').next()?;
            let (n, value) = pair.split_once('=')?;
            (n == name).then(|| value.to_owned())
        })
}
