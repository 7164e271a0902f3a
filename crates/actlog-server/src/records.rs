//! `/v1/auditrecords`: ingest, query and look-up, Partner Center–compatible.
//!
//! The list is also answered at `/v1//auditrecords`, where the community .NET SDK sends its
//! next pages, and a record also at `/auditactivity/v1/auditrecords/{id}`, the path Partner
//! Center's REST reference documents.

use axum::Json;
use axum::Router;
use axum::body::Body;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::json;

use actlog_domain::AuditRecord;
use actlog_domain::ingest;

use crate::auth::{Capability, Principal};
use crate::bodies;
use crate::error::{ApiError, Code};
use crate::paging;
use crate::params::{self, Params};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/auditrecords", get(list).post(append))
        .route("/v1//auditrecords", get(list))
        .route("/v1/exports/auditrecords", get(crate::export::download))
        .route(
            "/v1/auditrecords/export",
            get(crate::export::export_or_record),
        )
        .route("/v1/auditrecords/{id}", get(one))
        .route("/auditactivity/v1/auditrecords/{id}", get(one))
}

/// `POST /v1/auditrecords`: a JSON array, NDJSON, or a Partner Center response; all or nothing,
/// acknowledged once durable.
async fn append(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    principal.require(Capability::WriteRecords)?;
    check_content_type(&headers)?;
    let encoding = crate::encoding::content_encoding(&headers)?;
    // The body first, held against the byte budget: a slow upload must not hold an ingest
    // slot while it trickles in.
    let limit = state.limits().max_body_bytes;
    let body = bodies::read_budgeted(body, limit, &state.body_bytes, &principal.partner_id).await?;
    let _slot = state.ingest.take(&principal.partner_id).await?;
    let body = crate::encoding::decode(
        encoding,
        body,
        limit,
        &state.body_bytes,
        &principal.partner_id,
    )
    .await?;
    let records = ingest::parse_batch(
        &body.bytes,
        &principal.partner_id,
        state.limits().max_batch_records,
        &mut || uuid::Uuid::new_v4().to_string(),
    )?;
    // The records hold what they need: the body's bytes go back to the budget before the
    // wait for the commit.
    drop(body);
    let ids: Vec<String> = records.iter().map(|r| r.id.clone()).collect();
    let report = state.store.append(&principal.partner_id, records).await?;
    crate::metrics::Metrics::add(&state.metrics.records_ingested, report.stored as u64);
    let status = if report.stored > 0 {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    let body = json!({ "stored": report.stored, "unchanged": report.unchanged, "ids": ids });
    Ok((status, Json(body)).into_response())
}

fn check_content_type(headers: &HeaderMap) -> Result<(), ApiError> {
    let Some(value) = headers.get(header::CONTENT_TYPE) else {
        return Ok(());
    };
    let essence = value
        .to_str()
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    const ACCEPTED: [&str; 5] = [
        "application/json",
        "application/x-ndjson",
        "application/ndjson",
        "application/jsonl",
        "text/plain",
    ];
    if ACCEPTED.contains(&essence.as_str()) {
        return Ok(());
    }
    Err(ApiError::new(
        Code::UnsupportedMediaType,
        format!(
            "send application/json (an array or a Partner Center response) or application/x-ndjson, not `{essence}`"
        ),
    ))
}

/// `GET /v1/auditrecords`: one page, newest first, in Partner Center's collection envelope.
async fn list(
    State(state): State<AppState>,
    principal: Principal,
    uri: Uri,
    headers: HeaderMap,
    params: Params,
) -> Result<Response, ApiError> {
    principal.require(Capability::ReadLog)?;
    params.check(&params::QUERY_PARAMS)?;
    let partner = &principal.partner_id;
    let request = paging::page_request(
        &params,
        &headers,
        &state.cursor_key,
        partner,
        state.clock.now(),
    )?;
    let page = state
        .query(partner, state.store.page(partner, &request))
        .await?;
    let token = page
        .next
        .map(|at| state.cursor_key.issue(partner, &request, at, page.snapshot));
    let links = paging::links(uri.query(), token.as_deref());
    let body = Collection {
        total_count: page.records.len(),
        items: &page.records,
        continuation_token: token.as_deref(),
        links: &links,
        attributes: CollectionAttributes {
            object_type: "Collection",
        },
    };
    Ok(Json(body).into_response())
}

/// Partner Center's collection, serialized straight from the records: through a
/// `serde_json::Value` the values a record keeps byte for byte (`2.50`, `\u00e9`, numbers no
/// `f64` holds) would be rewritten, or fail.
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct Collection<'a> {
    total_count: usize,
    items: &'a [AuditRecord],
    continuation_token: Option<&'a str>,
    links: &'a serde_json::Value,
    attributes: CollectionAttributes,
}

#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct CollectionAttributes {
    object_type: &'static str,
}

/// `GET /v1/auditrecords/{id}` (and `/auditactivity/v1/auditrecords/{id}`).
async fn one(
    State(state): State<AppState>,
    principal: Principal,
    path: Result<Path<String>, PathRejection>,
) -> Result<Json<AuditRecord>, ApiError> {
    principal.require(Capability::ReadLog)?;
    let Path(id) = path.map_err(|e| {
        ApiError::new(
            Code::InvalidParameter,
            format!("the record id in the path cannot be read: {e}"),
        )
    })?;
    record(&state, &principal, &id).await
}

/// The record `id` of the principal's partner.
pub(crate) async fn record(
    state: &AppState,
    principal: &Principal,
    id: &str,
) -> Result<Json<AuditRecord>, ApiError> {
    let partner = &principal.partner_id;
    match state.query(partner, state.store.get(partner, id)).await? {
        Some(record) => Ok(Json(record)),
        None => Err(ApiError::not_found(&format!("the record `{id}`"))),
    }
}
