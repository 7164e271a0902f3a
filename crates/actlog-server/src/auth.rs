//! Who is calling: one principal model for every route.
//!
//! A [`Principal`] is always bound to exactly one partner; every store call a handler makes
//! passes `principal.partner_id`, so no route can read or write across partners. Routes state
//! what they need with [`Principal::require`], never by inspecting credentials themselves.

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;

use actlog_store::Scopes;

use crate::error::ApiError;
use crate::keys;
use crate::state::AppState;

/// An authenticated caller.
#[derive(Debug, Clone)]
pub struct Principal {
    pub partner_id: String,
    pub kind: PrincipalKind,
}

/// How the caller authenticated.
#[derive(Debug, Clone)]
pub enum PrincipalKind {
    ApiKey { id: String, scopes: Scopes },
}

/// What a route needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Capability {
    /// Read the activity log (query, look-up, export).
    ReadLog,
    /// Write records.
    WriteRecords,
}

impl Principal {
    pub fn may(&self, capability: Capability) -> bool {
        match (&self.kind, capability) {
            (PrincipalKind::ApiKey { scopes, .. }, Capability::ReadLog) => scopes.read,
            (PrincipalKind::ApiKey { scopes, .. }, Capability::WriteRecords) => scopes.write,
        }
    }

    /// Refuses with 403 when the principal lacks the capability.
    pub fn require(&self, capability: Capability) -> Result<(), ApiError> {
        if self.may(capability) {
            return Ok(());
        }
        Err(ApiError::forbidden(match capability {
            Capability::ReadLog => "read the activity log (the key lacks the read scope)",
            Capability::WriteRecords => "write records (the key lacks the write scope)",
        }))
    }
}

impl FromRequestParts<AppState> for Principal {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let header = parts.headers.get(AUTHORIZATION).ok_or_else(ApiError::unauthenticated)?;
        let text = header.to_str().map_err(|_| ApiError::unauthenticated())?;
        let (scheme, key) = text.trim().split_once(' ').ok_or_else(ApiError::unauthenticated)?;
        let key = key.trim();
        if !scheme.eq_ignore_ascii_case("bearer") || !keys::looks_like_key(key) {
            return Err(ApiError::unauthenticated());
        }
        let stored = state.store.api_key(&keys::hash(key)).await?;
        let stored = stored.ok_or_else(ApiError::unauthenticated)?;
        Ok(Principal {
            partner_id: stored.partner_id,
            kind: PrincipalKind::ApiKey { id: stored.id, scopes: stored.scopes },
        })
    }
}
