//! actlog's HTTP server.
//!
//! [`app`] builds the whole router from an [`AppState`], so tests drive it without a socket;
//! [`serve`] runs it on a listener the caller bound, until `shutdown` resolves.
//!
//! - [`records`]: `/v1/auditrecords`, the Partner Center–compatible API.
//! - [`auth`]: the principal every route acts for (keys are issued by `actlog_app::keys`).
//! - [`sso`]: signing in with Microsoft Entra ID, and Entra-issued API tokens (`[sso]`).
//! - [`params`]: the query string, Partner Center's way.
//! - [`paging`]: continuation tokens and `links`, as Partner Center's clients follow them.
//! - [`error`]: the problem documents every failure is answered with.
//! - [`connections`]: the accept loop, with its connection cap and header and idle timeouts;
//!   [`bodies`]: the minimum rate request bodies must keep, and the byte budget of ingest.

pub mod auth;
pub mod bodies;
pub mod client_addr;
pub mod connections;
pub mod encoding;
pub mod error;
pub mod evidence;
pub mod export;
pub mod housekeeping;
pub mod identity;
pub mod key_cache;
pub mod metrics;
pub mod paging;
pub mod params;
pub mod records;
pub mod shares;
pub mod sso;
pub mod state;
pub mod tls;
pub mod web;

use std::future::Future;
use std::sync::Arc;

use axum::Router;
use axum::extract::Request;
use axum::http::header::RETRY_AFTER;
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tokio::net::TcpListener;
use tracing::Instrument;

pub use state::{AppState, Clock, Cloud, Limits, ServerConfig, SystemClock};

use crate::error::{ApiError, Code};

/// The OpenAPI description of the API.
pub const OPENAPI: &str = include_str!("../openapi.json");

/// The whole application.
pub fn app(state: AppState) -> Router {
    let mut router = Router::new();
    if state.config.metrics.enabled {
        router = router.route("/metrics", get(metrics::metrics));
    }
    router
        .merge(evidence::router())
        .merge(records::router())
        .merge(web::router())
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .route("/v1/openapi.json", get(openapi))
        .fallback(|| async {
            ApiError::new(Code::NotFound, "no such endpoint; see /v1/openapi.json")
        })
        .method_not_allowed_fallback(|| async {
            ApiError::new(
                Code::MethodNotAllowed,
                "this endpoint does not take that method; see /v1/openapi.json",
            )
        })
        .layer(middleware::from_fn(bodies::answer_slow_bodies))
        .layer(compression())
        .layer(middleware::from_fn(security_headers))
        .layer(middleware::from_fn(retry_after))
        .layer(middleware::from_fn(request_ids))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            count_requests,
        ))
        .with_state(state)
}

/// Counts every answer by its status class (`/metrics`).
async fn count_requests(
    axum::extract::State(state): axum::extract::State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let response = next.run(request).await;
    state.metrics.answered(response.status());
    response
}

/// Pages, assets and API answers are sent gzipped to clients that accept it (a page of 50 rows
/// with their details shrinks about sixfold). Export downloads are not: XLSX and ZIP (a proved
/// export) are compressed already, and CSV and NDJSON stream faster than gzip could keep up
/// with.
fn compression()
-> tower_http::compression::CompressionLayer<impl tower_http::compression::Predicate> {
    use tower_http::compression::predicate::{DefaultPredicate, NotForContentType, Predicate};
    let predicate = DefaultPredicate::new()
        .and(NotForContentType::const_new("text/csv"))
        .and(NotForContentType::const_new("application/x-ndjson"))
        .and(NotForContentType::const_new(
            "application/vnd.openxmlformats-officedocument",
        ))
        .and(NotForContentType::const_new("application/zip"));
    // The fastest level: it keeps most of the gain (a 335 KB page becomes ~55 KB, ~32 KB at
    // the default level) for under half the default level's time (+0.7 ms against +2.5 ms).
    tower_http::compression::CompressionLayer::new()
        .gzip(true)
        .quality(tower_http::CompressionLevel::Fastest)
        .compress_when(predicate)
}

async fn openapi() -> Response {
    (
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        SERVED_OPENAPI.as_str(),
    )
        .into_response()
}

/// [`OPENAPI`] as served: the export's `tz` parameter lists the time zones this server knows
/// (its time zone database), so the document allows exactly the zones it accepts.
static SERVED_OPENAPI: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| with_time_zones(OPENAPI));

fn with_time_zones(document: &str) -> String {
    let mut doc: serde_json::Value =
        serde_json::from_str(document).expect("the OpenAPI document is JSON");
    let mut zones: Vec<String> = jiff::tz::db()
        .available()
        .map(|name| name.as_str().to_owned())
        .filter(|name| jiff::tz::TimeZone::get(name).is_ok())
        .collect();
    zones.sort();
    if let Some(parameters) =
        doc["paths"]["/v1/exports/auditrecords"]["get"]["parameters"].as_array_mut()
    {
        for parameter in parameters.iter_mut().filter(|p| p["name"] == "tz") {
            parameter["schema"] = serde_json::json!({"type": "string", "enum": zones});
        }
    }
    doc.to_string()
}

/// The request id a Partner Center client sends.
const MS_REQUEST_ID: &str = "ms-requestid";
/// The request id other clients (and proxies) send.
const X_REQUEST_ID: &str = "x-request-id";
/// The id a Partner Center client groups the requests of one operation under.
const MS_CORRELATION_ID: &str = "ms-correlationid";

/// An id the caller sent in `header`, if it is a usable one.
fn caller_id(request: &Request, header: &str) -> Option<String> {
    request
        .headers()
        .get(header)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty() && v.len() <= 128)
        .map(str::to_owned)
}

/// Gives every request its ids — the request id (the caller's `MS-RequestId`, else its
/// `x-request-id`, else a new UUID) and the correlation id (the caller's `MS-CorrelationId`,
/// else a new UUID) — logs them with the request, and returns them in the response:
/// `MS-RequestId`, `MS-CorrelationId` and `x-request-id`.
async fn request_ids(request: Request, next: Next) -> Response {
    let new_id = || uuid::Uuid::new_v4().to_string();
    let x_request_id = caller_id(&request, X_REQUEST_ID);
    let id = caller_id(&request, MS_REQUEST_ID)
        .or_else(|| x_request_id.clone())
        .unwrap_or_else(new_id);
    let correlation = caller_id(&request, MS_CORRELATION_ID).unwrap_or_else(new_id);
    let span = tracing::info_span!(
        "request",
        id = %id,
        correlation = %correlation,
        x_request_id = tracing::field::Empty,
        method = %request.method(),
        path = %request.uri().path(),
    );
    // Both ids were sent, and differ: the log keeps the second too.
    if let Some(other) = x_request_id.as_ref().filter(|x| **x != id) {
        span.record("x_request_id", other.as_str());
    }
    let mut response = next.run(request).instrument(span.clone()).await;
    let status = response.status();
    if status == StatusCode::SERVICE_UNAVAILABLE {
        span.in_scope(|| tracing::warn!(%status, "request refused"));
    } else if status.is_server_error() {
        span.in_scope(|| tracing::error!(%status, "request failed"));
    }
    let headers = response.headers_mut();
    let ids = [
        (X_REQUEST_ID, x_request_id.as_ref().unwrap_or(&id)),
        (MS_REQUEST_ID, &id),
        (MS_CORRELATION_ID, &correlation),
    ];
    for (name, value) in ids {
        if let Ok(value) = HeaderValue::from_str(value) {
            headers.insert(name, value);
        }
    }
    response
}

/// Seconds a 429 or 503 tells the client to wait when its handler did not say.
pub const DEFAULT_RETRY_AFTER: u32 = 5;

/// Every 429 and 503 carries `Retry-After`, in seconds: a Partner Center SDK reads it on a 429
/// and fails with a null reference when it is missing. Handlers that know better set it
/// themselves (the ingest limit, sign-in throttling); this covers every other one.
async fn retry_after(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let status = response.status();
    let refused =
        status == StatusCode::TOO_MANY_REQUESTS || status == StatusCode::SERVICE_UNAVAILABLE;
    if refused && !response.headers().contains_key(RETRY_AFTER) {
        response
            .headers_mut()
            .insert(RETRY_AFTER, HeaderValue::from(DEFAULT_RETRY_AFTER));
    }
    response
}

/// The Content-Security-Policy of every response; `form_action` adds sources forms may send to
/// (space-separated origins).
pub fn content_security_policy(form_action: &str) -> String {
    format!(
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
         connect-src 'self'; form-action 'self'{}{form_action}; frame-ancestors 'none'; base-uri 'none'",
        if form_action.is_empty() { "" } else { " " }
    )
}

/// Headers every response carries: a Content-Security-Policy without `unsafe-inline`, and
/// the usual hardening.
async fn security_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    // A page may widen form-action (the sign-in page: to the identity provider its form
    // is redirected to); everything else stays.
    if !headers.contains_key("content-security-policy") {
        let csp = content_security_policy("");
        headers.insert(
            "content-security-policy",
            HeaderValue::from_str(&csp).unwrap(),
        );
    }
    headers.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    headers.insert("referrer-policy", HeaderValue::from_static("same-origin"));
    headers.insert("x-frame-options", HeaderValue::from_static("DENY"));
    response
}

/// Serves `app` on `listener` until `shutdown` resolves, then finishes requests in flight.
/// Connections are held to the state's [`Limits`] ([`connections`]).
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_with(listener, state, None, shutdown).await
}

/// [`serve`], speaking TLS on `listener` when `tls` is given ([`tls`]).
pub async fn serve_with(
    listener: TcpListener,
    state: AppState,
    tls: Option<Arc<tls::Tls>>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let housekeeping = housekeeping::start(state.clone());
    let signing = evidence::start_signing(state.clone());
    let edge = connections::Edge {
        limits: state.limits(),
        proxies: state.config.sign_in.trusted_proxies.clone(),
        metrics: state.metrics.clone(),
        tls,
    };
    let served = connections::run(listener, app(state), edge, shutdown).await;
    housekeeping.abort();
    if let Some(signing) = signing {
        signing.abort();
    }
    served
}

/// How long `/readyz` waits for the store to answer.
const READY_WITHIN: std::time::Duration = std::time::Duration::from_secs(1);

/// `/readyz`: 200 when this server can take requests now; 503 (a problem document saying
/// why) while the database does not answer, its connections are all taken with requests
/// waiting, every ingest, query or export slot is taken, or the byte budget for bodies could not take one more
/// of the largest. `/healthz`
/// only says the process runs.
async fn readyz(axum::extract::State(state): axum::extract::State<AppState>) -> Response {
    let limits = state.limits();
    let busy = if state.ingest.saturated() {
        Some(format!(
            "every ingest slot ({}) is taken",
            limits.max_concurrent_ingest
        ))
    } else if state.queries.saturated() {
        Some(format!(
            "every query slot ({}) is taken",
            state.queries.size()
        ))
    } else if state.exports.saturated() {
        Some(format!(
            "every export slot ({}) is taken",
            state.exports.size()
        ))
    } else if state.body_bytes.available() < limits.max_body_bytes {
        Some(format!(
            "the byte budget for request bodies ({} bytes) has less than one largest body left",
            limits.max_body_bytes_in_flight
        ))
    } else {
        None
    };
    let why = match busy {
        Some(why) => Some(why),
        None => state.store.ready(READY_WITHIN).await.err(),
    };
    match why {
        None => "ready".into_response(),
        Some(why) => {
            tracing::warn!(%why, "not ready");
            ApiError {
                retry_after: Some(1),
                ..ApiError::new(Code::StoreUnavailable, format!("not ready: {why}"))
            }
            .into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use std::fmt::Debug;
    use std::sync::{Arc, Mutex};

    use axum::body::Body;
    use tower::ServiceExt;
    use tracing::field::{Field, Visit};
    use tracing::span::{Attributes, Id, Record};

    use super::*;

    /// A span's fields, by name and value.
    type SpanFields = Vec<(String, String)>;

    /// The fields of every span opened, in order.
    #[derive(Debug, Clone, Default)]
    struct Spans(Arc<Mutex<Vec<SpanFields>>>);

    struct Fields<'a>(&'a mut SpanFields);

    impl Visit for Fields<'_> {
        fn record_str(&mut self, field: &Field, value: &str) {
            self.0.push((field.name().to_owned(), value.to_owned()));
        }
        fn record_debug(&mut self, field: &Field, value: &dyn Debug) {
            self.0.push((field.name().to_owned(), format!("{value:?}")));
        }
    }

    impl tracing::Subscriber for Spans {
        fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
            true
        }
        fn new_span(&self, span: &Attributes<'_>) -> Id {
            let mut spans = self.0.lock().unwrap();
            let mut fields = Vec::new();
            span.record(&mut Fields(&mut fields));
            spans.push(fields);
            Id::from_u64(spans.len() as u64)
        }
        fn record(&self, span: &Id, values: &Record<'_>) {
            let mut spans = self.0.lock().unwrap();
            values.record(&mut Fields(&mut spans[span.into_u64() as usize - 1]));
        }
        fn record_follows_from(&self, _: &Id, _: &Id) {}
        fn event(&self, _: &tracing::Event<'_>) {}
        fn enter(&self, _: &Id) {}
        fn exit(&self, _: &Id) {}
    }

    /// Answers `status` (without `Retry-After`) through the middleware, recording its spans.
    fn through_middleware(status: StatusCode, headers: &[(&str, &str)]) -> (Response, Spans) {
        let router = Router::new()
            .route("/", get(move || async move { status }))
            .layer(middleware::from_fn(retry_after))
            .layer(middleware::from_fn(request_ids));
        let mut request = axum::http::Request::builder().uri("/");
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let request = request.body(Body::empty()).unwrap();
        let spans = Spans::default();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let response = tracing::subscriber::with_default(spans.clone(), || {
            runtime.block_on(router.oneshot(request)).unwrap()
        });
        (response, spans)
    }

    fn field(spans: &Spans, name: &str) -> Option<String> {
        let spans = spans.0.lock().unwrap();
        let request = spans.iter().find(|s| s.iter().any(|(n, _)| n == "path"))?;
        request
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
    }

    #[test]
    fn the_log_line_of_a_request_names_its_partner_center_ids() {
        let sent = [
            ("MS-RequestId", "127facaa-e389-41f8-8bb7-1d1af99db893"),
            ("MS-CorrelationId", "de9c2ccc-40dd-4186-9660-65b9b64c3d14"),
            ("x-request-id", "trace-42"),
        ];
        let (response, spans) = through_middleware(StatusCode::OK, &sent);
        assert_eq!(field(&spans, "id").as_deref(), Some(sent[0].1));
        assert_eq!(field(&spans, "correlation").as_deref(), Some(sent[1].1));
        assert_eq!(field(&spans, "x_request_id").as_deref(), Some("trace-42"));
        assert_eq!(response.headers()["ms-requestid"], sent[0].1);
        assert_eq!(response.headers()["x-request-id"], "trace-42");

        // Generated ones are logged as they are answered.
        let (response, spans) = through_middleware(StatusCode::OK, &[]);
        let id = response.headers()["ms-requestid"].to_str().unwrap();
        let correlation = response.headers()["ms-correlationid"].to_str().unwrap();
        assert!(uuid::Uuid::parse_str(id).is_ok() && uuid::Uuid::parse_str(correlation).is_ok());
        assert_eq!(field(&spans, "id").as_deref(), Some(id));
        assert_eq!(field(&spans, "correlation").as_deref(), Some(correlation));
        assert_eq!(response.headers()["x-request-id"], id);
    }

    #[test]
    fn every_429_and_503_says_when_to_retry() {
        for status in [
            StatusCode::TOO_MANY_REQUESTS,
            StatusCode::SERVICE_UNAVAILABLE,
        ] {
            let (response, _) = through_middleware(status, &[]);
            assert_eq!(
                response.headers()[RETRY_AFTER],
                DEFAULT_RETRY_AFTER.to_string(),
                "{status}"
            );
        }
        let (ok, _) = through_middleware(StatusCode::OK, &[]);
        assert!(!ok.headers().contains_key(RETRY_AFTER));
        // A handler's own value stands.
        let router = Router::new()
            .route(
                "/",
                get(|| async { ApiError::overloaded().into_response() }),
            )
            .layer(middleware::from_fn(retry_after));
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let request = axum::http::Request::builder()
            .uri("/")
            .body(Body::empty())
            .unwrap();
        let response = runtime.block_on(router.oneshot(request)).unwrap();
        assert_eq!(response.headers()[RETRY_AFTER], "1");
    }
}

/// The OpenAPI document is as strict as the server where its patterns describe what the server
/// parses: every string a pattern allows is accepted (what schemathesis checks over HTTP, here
/// for many more strings).
#[cfg(test)]
mod document_patterns {
    use actlog_domain::time::{OperationDate, QueryDate};
    use proptest::prelude::*;
    use serde_json::Value;

    fn document() -> Value {
        serde_json::from_str(super::OPENAPI).unwrap()
    }

    /// A strategy for the strings `pattern` (anchored, as the document writes it) matches.
    fn matching(pattern: &str) -> proptest::string::RegexGeneratorStrategy<String> {
        let inner = pattern
            .strip_prefix('^')
            .and_then(|p| p.strip_suffix('$'))
            .expect("the document's patterns are anchored");
        proptest::string::string_regex(inner).unwrap()
    }

    fn parameter_pattern(path: &str, name: &str) -> String {
        let doc = document();
        let parameters = doc["paths"][path]["get"]["parameters"].as_array().unwrap();
        let parameter = parameters.iter().find(|p| p["name"] == name).unwrap();
        parameter["schema"]["pattern"].as_str().unwrap().to_owned()
    }

    fn export_parameter_pattern(name: &str) -> String {
        parameter_pattern("/v1/exports/auditrecords", name)
    }

    #[test]
    fn the_served_document_lists_the_time_zones_the_export_accepts() {
        let served: Value = serde_json::from_str(&super::SERVED_OPENAPI).unwrap();
        let parameters = served["paths"]["/v1/exports/auditrecords"]["get"]["parameters"]
            .as_array()
            .unwrap();
        let tz = parameters.iter().find(|p| p["name"] == "tz").unwrap();
        let zones = tz["schema"]["enum"].as_array().unwrap();
        assert!(zones.iter().any(|z| z == "Europe/Rome"), "{zones:?}");
        for zone in zones {
            let name = zone.as_str().unwrap();
            assert!(jiff::tz::TimeZone::get(name).is_ok(), "{name}");
        }
    }

    #[test]
    fn the_period_parameters_say_the_same_on_every_operation() {
        let pattern = parameter_pattern("/v1/auditrecords", "startDate");
        for (path, name) in [
            ("/v1/auditrecords", "endDate"),
            ("/v1/exports/auditrecords", "startDate"),
            ("/v1/exports/auditrecords", "endDate"),
        ] {
            assert_eq!(parameter_pattern(path, name), pattern, "{path} {name}");
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4000))]

        #[test]
        fn every_period_date_the_document_allows_is_read(
            text in matching(&parameter_pattern("/v1/auditrecords", "startDate"))
        ) {
            prop_assert!(QueryDate::parse(&text).is_ok(), "{text}: {:?}", QueryDate::parse(&text));
        }

        #[test]
        fn every_export_language_the_document_allows_is_read(
            tag in matching(&export_parameter_pattern("lang"))
        ) {
            prop_assert!(actlog_domain::catalog::Lang::from_tag(&tag).is_some(), "{tag:?}");
        }

        #[test]
        fn every_operation_date_the_document_allows_is_stored(
            text in matching(
                document()["components"]["schemas"]["AuditRecord"]["properties"]["operationDate"]
                    ["pattern"].as_str().unwrap()
            )
        ) {
            let parsed = OperationDate::parse_rfc3339(&text);
            prop_assert!(parsed.is_ok(), "{text}: {parsed:?}");
        }
    }
}
