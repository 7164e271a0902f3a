//! The export endpoint (`/v1/exports/auditrecords`): the application's export (`actlog_app::export`) streamed as the
//! response is made; if anything fails midway the response is aborted, so a client never
//! holds a truncated file that looks complete.

use std::io::{self, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::header::{CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::http::{HeaderMap, HeaderValue, Uri};
use axum::response::{IntoResponse, Response};
use futures::StreamExt;
use jiff::tz::TimeZone;
use tokio::sync::mpsc;

use actlog_app::evidence::Signer;
use actlog_app::export::proved::{self, Described, ProofSink};
use actlog_app::export::run;
use actlog_domain::catalog::Lang;
use actlog_export::{ExportOptions, Format, Period};

use crate::auth::{Capability, Principal};
use crate::error::{ApiError, Code};
use crate::params::{self, Params};
use crate::state::AppState;

/// The parameters of the export endpoint.
pub const EXPORT_PARAMS: [&str; 8] = [
    "startDate",
    "endDate",
    "filter",
    "format",
    "lang",
    "tz",
    "separator",
    "proof",
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

/// `GET /v1/auditrecords/export`: the export's first path, which is also where a record whose
/// id is `export` lives. A record look-up takes no parameters, so with a query string this is
/// the export (as every link and client has sent it), and without one the record `export`.
/// The export's own path is `/v1/exports/auditrecords`, which no record id can take.
pub async fn export_or_record(
    state: State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    uri: Uri,
    params: Params,
) -> Result<Response, ApiError> {
    if uri.query().is_some_and(|q| !q.is_empty()) {
        return download(state, principal, headers, params).await;
    }
    principal.require(Capability::ReadLog)?;
    Ok(crate::records::record(&state, &principal, "export")
        .await?
        .into_response())
}

/// `GET /v1/exports/auditrecords?format=csv|xlsx|ndjson` with the query's period and filter.
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
    let proof = match params.get("proof") {
        None | Some("false") => None,
        Some("true") => Some(signer_of(&state)?),
        Some(other) => {
            return Err(ApiError::new(
                Code::InvalidParameter,
                format!("proof `{other}` is not true or false"),
            ));
        }
    };
    let partner = principal.partner_id.clone();
    // The slot first: a partner past its share is refused before any work.
    let slot = state.exports.take(&partner).await?;
    let rows = state
        .query(&partner, state.store.count(&partner, &query))
        .await?;
    let today = tz.to_datetime(state.clock.now().timestamp()).date();
    let (from, to) = period.days(&tz, today);
    let name = actlog_export::file_name(&options, from, to);
    // With its proof: a ZIP archive of the file and its bundle, named for the file.
    let zip_entry = name.clone();
    let (name, content_type) = match proof {
        None => (name, actlog_export::content_type(format)),
        Some(_) => (format!("{name}.zip"), "application/zip"),
    };

    let (sender, receiver) = mpsc::channel::<io::Result<Bytes>>(8);
    let store = Arc::clone(&state.store);
    let finished = Arc::new(AtomicBool::new(false));
    let send_timeout = state.limits().export_send_timeout;
    let done = Arc::clone(&finished);
    let filter = params.get("filter").map(str::to_owned);
    let now = state.clock.now().timestamp().as_second();
    let proof_name = format!("{zip_entry}.proof.json");
    tokio::spawn(async move {
        // Held until the export ends, however it ends (a stalled client: after the send
        // timeout).
        let _slot = slot;
        let writer = ChannelWriter {
            sender: sender.clone(),
            buffer: Vec::with_capacity(CHUNK),
            runtime: tokio::runtime::Handle::current(),
            timeout: send_timeout,
            failed: false,
        };
        let outcome = match proof {
            None => run(store.as_ref(), &partner, &query, options, writer, |_| {})
                .await
                .map(drop)
                .map_err(|e| e.to_string()),
            Some(signer) => {
                let described = Described {
                    options,
                    filter,
                    file_name: zip_entry.clone(),
                    now,
                };
                let sink = ZipSink::new(writer, &zip_entry, proof_name);
                match proved::run(
                    store.as_ref(),
                    &signer,
                    &partner,
                    &query,
                    described,
                    sink,
                    |_| {},
                )
                .await
                {
                    // The archive's end is written into the channel, which may wait.
                    Ok((sink, _)) => tokio::task::spawn_blocking(move || sink.finish())
                        .await
                        .map_err(|e| e.to_string())
                        .and_then(|finished| finished.map_err(|e| e.to_string())),
                    Err(e) => Err(e.to_string()),
                }
            }
        };
        match outcome {
            Ok(()) => done.store(true, Ordering::Release),
            Err(err) => {
                tracing::warn!(%err, "an export stopped midway; the response is aborted");
                let _ = sender.try_send(Err(io::Error::other(err)));
            }
        }
    });
    let body = Body::from_stream(
        futures::stream::unfold(Some(receiver), move |receiver| {
            let finished = Arc::clone(&finished);
            async move {
                let mut rx = receiver?;
                match rx.recv().await {
                    Some(item) => Some((item, Some(rx))),
                    // Ended without finishing (its failure could not be queued): never a
                    // truncated file that looks complete.
                    None if !finished.load(Ordering::Acquire) => {
                        Some((Err(io::Error::other("the export stopped midway")), None))
                    }
                    None => None,
                }
            }
        })
        // Whatever wraps the body may poll it once more after its end (a compressor did).
        .fuse(),
    );
    let mut response = Response::new(body);
    let out = response.headers_mut();
    out.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    let disposition = actlog_export::content_disposition(&name);
    out.insert(
        CONTENT_DISPOSITION,
        HeaderValue::from_str(&disposition)
            .map_err(|e| ApiError::internal("content disposition", e))?,
    );
    // One partner's records: no browser or proxy cache keeps a copy.
    out.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    out.insert("x-actlog-rows", HeaderValue::from(rows));
    let exceeds = rows + 1 > actlog_export::EXCEL_MAX_ROWS as u64 && format == Format::Csv;
    out.insert(
        "x-actlog-exceeds-excel",
        HeaderValue::from_static(if exceeds { "true" } else { "false" }),
    );
    Ok(response)
}

/// The deployment's signer, for a proved export.
fn signer_of(state: &AppState) -> Result<Signer, ApiError> {
    crate::evidence::signer(state).cloned()
}

/// A proved export as one ZIP archive: the file, then its proof bundle, each entry streamed
/// (sizes and checksums in data descriptors) as the export goes.
struct ZipSink {
    zip: zip::ZipWriter<zip::write::StreamWriter<ChannelWriter>>,
    proof_name: String,
    in_proof: bool,
}

impl ZipSink {
    fn entry_options() -> zip::write::SimpleFileOptions {
        zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .compression_level(Some(1))
            .large_file(true)
            .unix_permissions(0o600)
    }

    fn new(writer: ChannelWriter, file_name: &str, proof_name: String) -> ZipSink {
        let mut zip = zip::ZipWriter::new_stream(writer);
        // Starting an entry only writes its local header into the channel's buffer.
        let started = zip.start_file(file_name, Self::entry_options());
        debug_assert!(started.is_ok(), "{started:?}");
        ZipSink {
            zip,
            proof_name,
            in_proof: false,
        }
    }

    fn finish(self) -> io::Result<()> {
        let mut inner = self.zip.finish().map_err(io::Error::other)?;
        inner.flush()
    }
}

impl ProofSink for ZipSink {
    fn file(&mut self) -> &mut (dyn Write + Send) {
        &mut self.zip
    }

    fn proof(&mut self) -> io::Result<&mut (dyn Write + Send)> {
        if !self.in_proof {
            self.zip
                .start_file(self.proof_name.as_str(), Self::entry_options())
                .map_err(io::Error::other)?;
            self.in_proof = true;
        }
        Ok(&mut self.zip)
    }
}

/// Bytes per chunk sent to the client.
const CHUNK: usize = 64 * 1024;

/// An `io::Write` that hands the body to the HTTP response in chunks, blocking (on the export's
/// blocking thread) while the client is slow, and failing once the client is gone or has
/// taken nothing for `timeout`.
struct ChannelWriter {
    sender: mpsc::Sender<io::Result<Bytes>>,
    buffer: Vec<u8>,
    runtime: tokio::runtime::Handle,
    timeout: std::time::Duration,
    /// A send failed: the client is gone, nothing more is sent (nor waited for).
    failed: bool,
}

impl ChannelWriter {
    fn send(&mut self) -> io::Result<()> {
        if self.failed {
            return Err(io::Error::new(
                io::ErrorKind::BrokenPipe,
                "the client went away",
            ));
        }
        if self.buffer.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::replace(
            &mut self.buffer,
            Vec::with_capacity(CHUNK),
        ));
        let sent = self.runtime.block_on(tokio::time::timeout(
            self.timeout,
            self.sender.send(Ok(chunk)),
        ));
        self.failed = !matches!(sent, Ok(Ok(())));
        match sent {
            Ok(Ok(())) => Ok(()),
            Ok(Err(_)) => Err(io::Error::new(
                io::ErrorKind::BrokenPipe,
                "the client went away",
            )),
            Err(_) => Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!("the client took nothing for {:?}", self.timeout),
            )),
        }
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
