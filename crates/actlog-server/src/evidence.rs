//! Tamper evidence for outside parties (docs/tamper-evidence.md): the partner's latest signed
//! checkpoint, inclusion proofs of its records and consistency proofs between its checkpoints,
//! each partner-bound and with read scope as every other route; and the signing of grown logs
//! every few seconds.

use axum::Json;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::Deserialize;
use serde_json::json;

use actlog_app::evidence::{self, ProofError, Signer};

use crate::auth::{Capability, Principal};
use crate::error::{ApiError, Code};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/checkpoint", get(checkpoint))
        .route("/v1/auditrecords/{id}/proof", get(proof))
        .route("/v1/consistency", get(consistency))
}

pub(crate) fn signer(state: &AppState) -> Result<&Signer, ApiError> {
    state
        .config
        .checkpoints
        .as_ref()
        .map(|c| &c.signer)
        .ok_or_else(|| {
            ApiError::new(
                Code::NotFound,
                "this server signs no checkpoints (it was started without its keyring)",
            )
        })
}

fn now(state: &AppState) -> i64 {
    state.clock.now().ticks().div_euclid(10_000_000)
}

/// `GET /v1/checkpoint`: the latest signed checkpoint of the caller's partner, signed now if
/// records arrived since the last one.
async fn checkpoint(
    State(state): State<AppState>,
    principal: Principal,
) -> Result<Response, ApiError> {
    principal.require(Capability::ReadLog)?;
    let signer = signer(&state)?;
    let latest = signer
        .latest(state.store.as_ref(), &principal.partner_id, now(&state))
        .await?;
    Ok((
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        latest.note,
    )
        .into_response())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct ProofParams {
    tree_size: Option<String>,
}

/// `GET /v1/auditrecords/{id}/proof[?treeSize=N]`.
async fn proof(
    State(state): State<AppState>,
    principal: Principal,
    path: Result<Path<String>, axum::extract::rejection::PathRejection>,
    params: Result<Query<ProofParams>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<serde_json::Value>, ApiError> {
    principal.require(Capability::ReadLog)?;
    let Path(id) = path.map_err(|e| invalid(format!("the record id cannot be read: {e}")))?;
    let Query(params) = params.map_err(|e| invalid(e.body_text()))?;
    let size = params
        .tree_size
        .as_deref()
        .map(|s| size_param("treeSize", s))
        .transpose()?;
    let signer = signer(&state)?;
    let proof = evidence::inclusion(
        state.store.as_ref(),
        signer,
        &principal.partner_id,
        &id,
        size,
        now(&state),
    )
    .await
    .map_err(|e| proof_error(e, &id))?;
    Ok(Json(json!({
        "logIndex": proof.index,
        "treeSize": proof.checkpoint.size,
        "leafHash": STANDARD.encode(proof.leaf),
        "inclusionProof": proof.proof.iter().map(|h| STANDARD.encode(h)).collect::<Vec<_>>(),
        "checkpoint": proof.checkpoint.note,
    })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConsistencyParams {
    from: Option<String>,
    to: Option<String>,
}

/// `GET /v1/consistency?from=N[&to=M]`: the proof that the checkpoint of `from` records is a
/// prefix of the one of `to` (the latest by default).
async fn consistency(
    State(state): State<AppState>,
    principal: Principal,
    params: Result<Query<ConsistencyParams>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<serde_json::Value>, ApiError> {
    principal.require(Capability::ReadLog)?;
    let Query(params) = params.map_err(|e| invalid(e.body_text()))?;
    let from = match params.from.as_deref() {
        Some(from) => size_param("from", from)?,
        None => {
            return Err(invalid(
                "give from, the size of the checkpoint you hold".into(),
            ));
        }
    };
    let to = params
        .to
        .as_deref()
        .map(|s| size_param("to", s))
        .transpose()?;
    let signer = signer(&state)?;
    let proof = evidence::consistency(
        state.store.as_ref(),
        signer,
        &principal.partner_id,
        from,
        to,
        now(&state),
    )
    .await
    .map_err(|e| proof_error(e, ""))?;
    Ok(Json(json!({
        "from": proof.from.size,
        "to": proof.to.size,
        "consistencyProof": proof.proof.iter().map(|h| STANDARD.encode(h)).collect::<Vec<_>>(),
        "fromCheckpoint": proof.from.note,
        "toCheckpoint": proof.to.note,
    })))
}

fn invalid(message: String) -> ApiError {
    ApiError::new(Code::InvalidParameter, message)
}

fn size_param(name: &str, text: &str) -> Result<u64, ApiError> {
    text.parse().map_err(|_| {
        invalid(format!(
            "{name} must be a tree size (a whole number of records), not `{text}`"
        ))
    })
}

fn proof_error(e: ProofError, id: &str) -> ApiError {
    match e {
        ProofError::NoRecord => ApiError::not_found(&format!("the record `{id}`")),
        // The log holds no such proof (yet): the record is not in that tree, or the tree has
        // not grown that far.
        ProofError::Range(e) => ApiError::new(Code::NotFound, e.to_string()),
        ProofError::NoCheckpoint(size) => ApiError::new(
            Code::NotFound,
            format!(
                "no checkpoint was signed at tree size {size}; GET /v1/checkpoint gives the latest"
            ),
        ),
        ProofError::Store(e) => e.into(),
        ProofError::Damaged(e) => {
            tracing::error!(error = %e, "a proof needs a tree node the store does not hold");
            ApiError::new(
                Code::Internal,
                "the stored log is incomplete; see the server's log",
            )
        }
    }
}

/// Signs every grown log each `interval` until the returned task is aborted.
pub fn start_signing(state: AppState) -> Option<tokio::task::JoinHandle<()>> {
    let signing = state.config.checkpoints.clone()?;
    Some(tokio::spawn(async move {
        let mut ticks = tokio::time::interval(signing.interval);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            match signing
                .signer
                .sign_grown(state.store.as_ref(), now(&state))
                .await
            {
                Ok(0) => {}
                Ok(signed) => tracing::debug!(signed, "signed the checkpoints of grown logs"),
                Err(e) => tracing::warn!(%e, "signing checkpoints failed; retried later"),
            }
        }
    }))
}
