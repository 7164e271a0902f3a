//! Exports: the one engine (`actlog-export`) fed from the store, for the API, the page and the
//! command line alike.
//!
//! The store's scan reads on its own thread and the engine formats on a blocking thread, so
//! the two overlap; both hold a bounded amount of data, so memory does not grow with the export.
//! Over HTTP the file is streamed as it is made; if anything fails midway the response is
//! aborted, so a client never holds a truncated file that looks complete.

use std::io::{self, Write};
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::http::{HeaderMap, HeaderValue};
use axum::response::Response;
use futures::StreamExt;
use jiff::tz::TimeZone;
use tokio::sync::mpsc;

use actlog_domain::catalog::Lang;
use actlog_domain::query::Query;
use actlog_export::{ExportError, ExportOptions, ExportSummary, Exporter, Format, Period};
use actlog_store::{Store, StoreError};

use crate::auth::{Capability, Principal};
use crate::error::{ApiError, Code};
use crate::params::{self, Params};
use crate::state::AppState;

/// Why an export stopped.
#[derive(Debug, thiserror::Error)]
pub enum ExportFailure {
    #[error("reading the records failed: {0}")]
    Store(#[from] StoreError),
    #[error(transparent)]
    Export(#[from] ExportError),
}

/// Exports every record `query` covers for `partner` into `writer`; `progress` is told the
/// number of rows written so far, now and then.
pub async fn run<W>(
    store: &dyn Store,
    partner: &str,
    query: &Query,
    options: ExportOptions,
    writer: W,
    progress: impl Fn(u64) + Send + 'static,
) -> Result<ExportSummary, ExportFailure>
where
    W: Write + Send + 'static,
{
    // A batch at a time: waking for each record would make this thread and the scan's wait on
    // each other row by row.
    let mut batches = store.scan_batches(partner, query);
    let runtime = tokio::runtime::Handle::current();
    tokio::task::spawn_blocking(move || {
        let mut exporter = Exporter::new(writer, &options)?;
        while let Some(batch) = runtime.block_on(batches.next()) {
            for record in batch?.iter() {
                exporter.write_record(record)?;
                if exporter.rows() % 4096 == 0 {
                    progress(exporter.rows());
                }
            }
        }
        progress(exporter.rows());
        Ok(exporter.finish()?)
    })
    .await
    .map_err(|e| {
        ExportFailure::Store(StoreError::Database(format!("the export task failed: {e}")))
    })?
}

/// The parameters of the export endpoint.
pub const EXPORT_PARAMS: [&str; 7] = [
    "startDate",
    "endDate",
    "filter",
    "format",
    "lang",
    "tz",
    "separator",
];

/// The export's language: `lang`, else the user's choice, else the browser's, else English.
fn language(params: &Params, principal: &Principal, headers: &HeaderMap) -> Result<Lang, ApiError> {
    match params.get("lang") {
        Some(tag) => Lang::from_tag(tag).ok_or_else(|| {
            ApiError::new(
                Code::InvalidParameter,
                format!("lang `{tag}` is not available: use en-US or it-IT"),
            )
        }),
        None => Ok(crate::web::page::language(principal.user(), headers)),
    }
}

/// The export's time zone: `tz`, else the user's choice, else the browser's, else UTC.
pub fn time_zone(
    requested: Option<&str>,
    principal: &Principal,
    headers: &HeaderMap,
) -> Result<TimeZone, ApiError> {
    if let Some(name) = requested {
        return TimeZone::get(name).map_err(|_| {
            ApiError::new(
                Code::InvalidParameter,
                format!("tz `{name}` is not an IANA time zone such as Europe/Rome"),
            )
        });
    }
    let chosen = principal.user().and_then(|u| u.time_zone.clone());
    let browser =
        crate::identity::session::cookie(headers, "actlog_tz").map(|v| v.replace("%2F", "/"));
    Ok(chosen
        .or(browser)
        .and_then(|name| TimeZone::get(&name).ok())
        .unwrap_or(TimeZone::UTC))
}

/// `GET /v1/auditrecords/export?format=csv|xlsx|ndjson` with the query's period and filter.
pub async fn download(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    params: Params,
) -> Result<Response, ApiError> {
    principal.require(Capability::ReadLog)?;
    params.check(&EXPORT_PARAMS)?;
    let format: Format = params.get("format").unwrap_or("csv").parse().map_err(
        |e: actlog_export::UnknownFormat| ApiError::new(Code::InvalidParameter, e.to_string()),
    )?;
    let tz = time_zone(params.get("tz"), &principal, &headers)?;
    let query = params::query_in(&params, state.clock.now(), &tz)?;
    let period = Period {
        from: query.window.start,
        to: query.window.end,
    };
    let mut options = ExportOptions::new(
        format,
        language(&params, &principal, &headers)?,
        tz.clone(),
        period,
    );
    if let Some(separator) = params.get("separator") {
        let separator = actlog_export::parse_separator(separator)
            .map_err(|e| ApiError::new(Code::InvalidParameter, e.to_string()))?;
        options.separator = Some(separator);
    }
    let rows = state.store.count(&principal.partner_id, &query).await?;
    let today = tz.to_datetime(state.clock.now().timestamp()).date();
    let (from, to) = period.days(&tz, today);
    let name = actlog_export::file_name(&options, from, to);

    let (sender, receiver) = mpsc::channel::<io::Result<Bytes>>(8);
    let store = Arc::clone(&state.store);
    let partner = principal.partner_id.clone();
    tokio::spawn(async move {
        let writer = ChannelWriter {
            sender: sender.clone(),
            buffer: Vec::with_capacity(CHUNK),
        };
        if let Err(err) = run(store.as_ref(), &partner, &query, options, writer, |_| {}).await {
            tracing::error!(%err, "an export failed midway; the response is aborted");
            let _ = sender.send(Err(io::Error::other(err.to_string()))).await;
        }
    });
    let body = Body::from_stream(futures::stream::unfold(receiver, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    }));
    let mut response = Response::new(body);
    let out = response.headers_mut();
    out.insert(
        CONTENT_TYPE,
        HeaderValue::from_static(actlog_export::content_type(format)),
    );
    let disposition = actlog_export::content_disposition(&name);
    out.insert(
        CONTENT_DISPOSITION,
        HeaderValue::from_str(&disposition)
            .map_err(|e| ApiError::internal("content disposition", e))?,
    );
    out.insert("x-actlog-rows", HeaderValue::from(rows));
    let exceeds = rows + 1 > actlog_export::EXCEL_MAX_ROWS as u64 && format == Format::Csv;
    out.insert(
        "x-actlog-exceeds-excel",
        HeaderValue::from_static(if exceeds { "true" } else { "false" }),
    );
    Ok(response)
}

/// Bytes per chunk sent to the client.
const CHUNK: usize = 64 * 1024;

/// An `io::Write` that hands the body to the HTTP response in chunks, blocking (on the export's
/// blocking thread) while the client is slow, and failing once the client is gone.
struct ChannelWriter {
    sender: mpsc::Sender<io::Result<Bytes>>,
    buffer: Vec<u8>,
}

impl ChannelWriter {
    fn send(&mut self) -> io::Result<()> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::replace(
            &mut self.buffer,
            Vec::with_capacity(CHUNK),
        ));
        self.sender
            .blocking_send(Ok(chunk))
            .map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "the client went away"))
    }
}

impl Write for ChannelWriter {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.buffer.extend_from_slice(data);
        if self.buffer.len() >= CHUNK {
            self.send()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.send()
    }
}

impl Drop for ChannelWriter {
    fn drop(&mut self) {
        let _ = self.send();
    }
}
