//! `GET /metrics`: what an operator graphs and alerts on, in Prometheus' text exposition
//! format (version 0.0.4).
//!
//! Counters are plain atomics bumped where things happen; gauges are read from the state when
//! scraped. The format is written by hand: a dozen lines do not need a metrics crate and its
//! registry. No metric has a partner label: the endpoint tells how the server is doing, never
//! who uses it. With `[metrics] token` set, a scrape must send `Authorization: Bearer TOKEN`.

use std::fmt::{self, Write};
use std::sync::atomic::{AtomicU64, Ordering};

use axum::extract::State;
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::error::{ApiError, Code};
use crate::state::AppState;

/// Whether `/metrics` is served, and the token a scrape must bring.
#[derive(Clone, PartialEq, Eq)]
pub struct MetricsSettings {
    /// Serve `/metrics` (default: yes).
    pub enabled: bool,
    /// When set, a scrape must send `Authorization: Bearer TOKEN`.
    pub token: Option<String>,
}

impl Default for MetricsSettings {
    /// Served, without a token.
    fn default() -> Self {
        MetricsSettings {
            enabled: true,
            token: None,
        }
    }
}

impl fmt::Debug for MetricsSettings {
    /// Never prints the token.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MetricsSettings")
            .field("enabled", &self.enabled)
            .field("token", &self.token.as_ref().map(|_| "***"))
            .finish()
    }
}

/// The counters of one server process.
#[derive(Debug, Default)]
pub struct Metrics {
    /// Requests answered, by status class (1xx … 5xx).
    requests: [AtomicU64; 5],
    /// Records newly stored by `POST /v1/auditrecords`.
    pub records_ingested: AtomicU64,
    /// Connections open now.
    pub connections_open: AtomicU64,
    /// Connections answered 503 and closed at a connection cap.
    pub connections_refused: AtomicU64,
    /// Queries stopped at the statement time limit (503 `query_timeout`).
    pub statement_timeouts: AtomicU64,
    /// Sign-in attempts refused while their account or address backs off.
    pub sign_ins_throttled: AtomicU64,
}

impl Metrics {
    /// Counts a request answered `status`.
    pub fn answered(&self, status: StatusCode) {
        let class = usize::from(status.as_u16() / 100).clamp(1, 5) - 1;
        self.requests[class].fetch_add(1, Ordering::Relaxed);
    }

    pub fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }
}

/// One metric's `# HELP` and `# TYPE` lines and its samples.
fn family(out: &mut String, name: &str, kind: &str, help: &str, samples: &[(&str, u64)]) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
    for (labels, value) in samples {
        let _ = writeln!(out, "{name}{labels} {value}");
    }
}

/// The process's resident memory in bytes (Linux: `VmRSS` of `/proc/self/status`).
fn resident_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// The whole exposition.
pub fn render(state: &AppState) -> String {
    let m = &state.metrics;
    let read = |c: &AtomicU64| c.load(Ordering::Relaxed);
    let mut out = String::with_capacity(4096);
    let classes: Vec<(String, u64)> = (0..5)
        .map(|i| (format!("{{class=\"{}xx\"}}", i + 1), read(&m.requests[i])))
        .collect();
    let classes: Vec<(&str, u64)> = classes.iter().map(|(l, v)| (l.as_str(), *v)).collect();
    family(
        &mut out,
        "actlog_http_requests_total",
        "counter",
        "HTTP requests answered, by status class.",
        &classes,
    );
    let counters = [
        (
            "actlog_records_ingested_total",
            "Records newly stored by POST /v1/auditrecords.",
            read(&m.records_ingested),
        ),
        (
            "actlog_connections_refused_total",
            "Connections answered 503 and closed at the connection cap or an address's cap.",
            read(&m.connections_refused),
        ),
        (
            "actlog_statement_timeouts_total",
            "Record queries stopped at the statement time limit (503 query_timeout).",
            read(&m.statement_timeouts),
        ),
        (
            "actlog_sign_ins_throttled_total",
            "Sign-in attempts refused while their account or address backs off.",
            read(&m.sign_ins_throttled),
        ),
    ];
    for (name, help, value) in counters {
        family(&mut out, name, "counter", help, &[("", value)]);
    }
    let shares = [
        ("{resource=\"ingest\"}", &state.ingest),
        ("{resource=\"queries\"}", &state.queries),
        ("{resource=\"exports\"}", &state.exports),
    ];
    let refused: Vec<(&str, u64)> = shares.iter().map(|(l, s)| (*l, s.refused())).collect();
    family(
        &mut out,
        "actlog_share_refusals_total",
        "counter",
        "Requests answered 429 because their partner held its share of the slots.",
        &refused,
    );
    let in_use: Vec<(&str, u64)> = shares
        .iter()
        .map(|(l, s)| (*l, s.in_use() as u64))
        .collect();
    family(
        &mut out,
        "actlog_slots_in_use",
        "gauge",
        "Slots held now, of each bounded resource.",
        &in_use,
    );
    let size: Vec<(&str, u64)> = shares.iter().map(|(l, s)| (*l, s.size() as u64)).collect();
    family(
        &mut out,
        "actlog_slots",
        "gauge",
        "Slots there are, of each bounded resource.",
        &size,
    );
    let budget = &state.body_bytes;
    let in_flight = budget.size().saturating_sub(budget.available());
    let gauges = [
        (
            "actlog_connections_open",
            "Connections open now.",
            read(&m.connections_open),
        ),
        (
            "actlog_ingest_bytes_in_flight",
            "Bytes of ingest bodies held now, against the byte budget.",
            in_flight as u64,
        ),
    ];
    for (name, help, value) in gauges {
        family(&mut out, name, "gauge", help, &[("", value)]);
    }
    if let Some(rss) = resident_bytes() {
        family(
            &mut out,
            "process_resident_memory_bytes",
            "gauge",
            "Resident memory size in bytes.",
            &[("", rss)],
        );
    }
    out
}

/// Whether `headers` bring `token`, compared in constant time.
fn authorized(headers: &HeaderMap, token: &str) -> bool {
    let sent = headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    sent.len() == token.len()
        && sent
            .bytes()
            .zip(token.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

/// `GET /metrics`.
pub async fn metrics(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Some(token) = &state.config.metrics.token
        && !authorized(&headers, token)
    {
        return ApiError::new(
            Code::Unauthenticated,
            "/metrics needs the operator's token: Authorization: Bearer TOKEN ([metrics] token)",
        )
        .into_response();
    }
    (
        [(CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")],
        render(&state),
    )
        .into_response()
}
