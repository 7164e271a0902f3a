//! `/auth/start` and `/auth/callback`: "Sign in with Microsoft" (OpenID Connect, authorization
//! code with PKCE, `state` and `nonce`).
//!
//! What the sign-in must remember while the browser is at the provider (tenant, state, nonce,
//! PKCE verifier, where to return) is kept in a short-lived HttpOnly cookie, so any server of
//! the deployment can finish it; the callback checks `state` against it and removes it, so a
//! code is used once. Every failure ends on the sign-in page with a message a person
//! understands, and its reason in the log; the user is only written once every check passed.

use std::time::Duration;

use axum::extract::State;
use axum::http::header::SET_COOKIE;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};

use actlog_app::oidc::{OidcError, Pending};
use actlog_store::{ExternalSignIn, ExternalSignInError};

use crate::error::ApiError;
use crate::identity::session::{self, same_secret};
use crate::params::Params;
use crate::sso::Sso;
use crate::state::AppState;
use crate::web::i18n::Tr;
use crate::web::page;
use crate::web::signin::{Shown, form_with, safe_next, see_other, start_session};

/// The sign-in in progress.
const PENDING_COOKIE: &str = "actlog_oidc";
/// The tenant the session was signed in at, for the provider's sign-out afterwards.
pub const TENANT_COOKIE: &str = "actlog_oidc_tenant";
/// How long a person may take at the provider's pages.
const PENDING_FOR: Duration = Duration::from_secs(10 * 60);

/// The tenant this browser's session was signed in at, if it was through a provider.
pub fn signed_in_tenant(headers: &HeaderMap) -> Option<String> {
    let text = session::cookie(headers, TENANT_COOKIE)?;
    String::from_utf8(URL_SAFE_NO_PAD.decode(text).ok()?).ok()
}

#[derive(Debug, Serialize, Deserialize)]
struct Remembered {
    tenant: String,
    state: String,
    nonce: String,
    verifier: String,
    next: String,
}

impl Remembered {
    fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(self).expect("plain strings serialize"))
    }

    fn decode(text: &str) -> Option<Remembered> {
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(text).ok()?).ok()
    }
}

/// The sign-in page with an error (`message` from the locales), its reason logged.
fn refuse(
    state: &AppState,
    headers: &HeaderMap,
    status: StatusCode,
    message: String,
    reason: &str,
) -> Response {
    tracing::warn!(reason, "Microsoft sign-in refused");
    let shown = Shown {
        status,
        next: "/".into(),
        email: String::new(),
        error: Some(message),
        notice: None,
        end_session: None,
    };
    let mut response = form_with(state, headers, shown);
    let clear = state
        .config
        .sessions
        .short_cookie(headers, PENDING_COOKIE, "", Duration::ZERO);
    response.headers_mut().append(SET_COOKIE, clear);
    response
}

fn configured(state: &AppState) -> Result<&Sso, ApiError> {
    state.config.sso.as_deref().ok_or_else(|| {
        ApiError::new(
            crate::error::Code::NotFound,
            "sign-in with Microsoft is not configured",
        )
    })
}

/// `GET /auth/start?next=…[&email=…]`: to the provider's sign-in page. With several tenants the
/// work email picks the tenant by its domain, and is passed on as `login_hint`.
pub async fn start(
    State(state): State<AppState>,
    headers: HeaderMap,
    params: Result<Params, ApiError>,
) -> Result<Response, ApiError> {
    let sso = configured(&state)?;
    let tr = Tr::new(page::language(None, &headers));
    let params = params.unwrap_or_default();
    let next = safe_next(params.get("next"));
    let email = params.get("email").map(str::trim).filter(|e| !e.is_empty());
    let tenant = match (sso.tenants.as_slice(), email) {
        ([only], _) => only,
        (_, Some(email)) => match sso.tenant_for_email(email) {
            Some(tenant) => tenant,
            None => {
                let domain = email.rsplit_once('@').map_or(email, |(_, d)| d).to_owned();
                let message = tr.t1("sso-unknown-domain", "domain", domain);
                return Ok(refuse(
                    &state,
                    &headers,
                    StatusCode::BAD_REQUEST,
                    message,
                    "no tenant has the email's domain",
                ));
            }
        },
        (_, None) => {
            let message = tr.t("sso-email-needed");
            return Ok(refuse(
                &state,
                &headers,
                StatusCode::BAD_REQUEST,
                message,
                "no work email given",
            ));
        }
    };
    let pending = Pending::new(&tenant.tenant_id);
    let url = match sso.oidc.authorization_url(&pending, email).await {
        Ok(url) => url,
        Err(e) => return Ok(failure(&state, &headers, &tr, &e)),
    };
    let remembered = Remembered {
        tenant: pending.tenant_id,
        state: pending.state,
        nonce: pending.nonce,
        verifier: pending.verifier,
        next,
    };
    let mut response = see_other(&url);
    let cookie = state.config.sessions.short_cookie(
        &headers,
        PENDING_COOKIE,
        &remembered.encode(),
        PENDING_FOR,
    );
    response.headers_mut().append(SET_COOKIE, cookie);
    Ok(response)
}

/// The page for a failed protocol step, by what failed.
fn failure(state: &AppState, headers: &HeaderMap, tr: &Tr, err: &OidcError) -> Response {
    let (status, id) = match err {
        OidcError::ProviderDown(_) | OidcError::Keys(_) => {
            (StatusCode::BAD_GATEWAY, "sso-provider-down")
        }
        OidcError::UnknownTenant(_) => (StatusCode::FORBIDDEN, "sso-unknown-tenant"),
        OidcError::CodeRefused(_) => (StatusCode::BAD_REQUEST, "sso-expired"),
        OidcError::WrongIssuer { .. } | OidcError::UnknownKey(_) | OidcError::BadToken(_) => {
            (StatusCode::UNAUTHORIZED, "sso-bad-token")
        }
    };
    refuse(state, headers, status, tr.t(id), &err.to_string())
}

#[derive(Debug, Deserialize)]
pub struct Callback {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

/// `GET /auth/callback?code=…&state=…`: checks the return, signs the user in.
pub async fn callback(
    State(state): State<AppState>,
    headers: HeaderMap,
    query: axum::extract::Query<Callback>,
) -> Result<Response, ApiError> {
    let sso = configured(&state)?;
    let tr = Tr::new(page::language(None, &headers));
    let remembered = session::cookie(&headers, PENDING_COOKIE).and_then(Remembered::decode);
    let returned = query.state.as_deref().unwrap_or("");
    let Some(remembered) =
        remembered.filter(|r| !returned.is_empty() && same_secret(&r.state, returned))
    else {
        return Ok(refuse(
            &state,
            &headers,
            StatusCode::BAD_REQUEST,
            tr.t("sso-expired"),
            "state missing or not this browser's sign-in",
        ));
    };
    if let Some(error) = &query.error {
        let reason = format!(
            "the provider answered {error}: {}",
            query.error_description.as_deref().unwrap_or("")
        );
        return Ok(refuse(
            &state,
            &headers,
            StatusCode::UNAUTHORIZED,
            tr.t("sso-denied"),
            &reason,
        ));
    }
    let Some(code) = query.code.as_deref() else {
        return Ok(refuse(
            &state,
            &headers,
            StatusCode::BAD_REQUEST,
            tr.t("sso-expired"),
            "no code",
        ));
    };
    let pending = Pending {
        tenant_id: remembered.tenant.clone(),
        state: remembered.state.clone(),
        nonce: remembered.nonce.clone(),
        verifier: remembered.verifier.clone(),
    };
    let claims = match sso.oidc.finish(&pending, code).await {
        Ok(claims) => claims,
        Err(e) => return Ok(failure(&state, &headers, &tr, &e)),
    };
    let Some(tenant) = sso.tenant(&claims.tid) else {
        return Ok(failure(
            &state,
            &headers,
            &tr,
            &OidcError::UnknownTenant(claims.tid),
        ));
    };
    let who = ExternalSignIn {
        partner_id: tenant.partner.clone(),
        tenant_id: claims.tid.clone(),
        object_id: claims.oid.clone(),
        email: claims
            .preferred_username
            .clone()
            .unwrap_or_else(|| format!("{}@{}", claims.oid, claims.tid)),
        roles: sso.user_roles(&claims),
    };
    let user = match state.store.sign_in_external(&who).await {
        Ok(user) => user,
        Err(ExternalSignInError::Store(e)) => return Err(e.into()),
        Err(e) => {
            return Ok(refuse(
                &state,
                &headers,
                StatusCode::CONFLICT,
                tr.t("sso-account-conflict"),
                &e.to_string(),
            ));
        }
    };
    if user.disabled {
        return Ok(refuse(
            &state,
            &headers,
            StatusCode::FORBIDDEN,
            tr.t("sso-disabled"),
            "the user is disabled",
        ));
    }
    tracing::info!(tenant = %who.tenant_id, object = %who.object_id, user = user.id, "signed in with Microsoft");
    let mut response = start_session(&state, &headers, user.id, &remembered.next).await?;
    let sessions = &state.config.sessions;
    let cookies = [
        sessions.short_cookie(&headers, PENDING_COOKIE, "", Duration::ZERO),
        sessions.short_cookie(
            &headers,
            TENANT_COOKIE,
            &URL_SAFE_NO_PAD.encode(&who.tenant_id),
            sessions.absolute,
        ),
    ];
    for cookie in cookies {
        response.headers_mut().append(SET_COOKIE, cookie);
    }
    Ok(response)
}
