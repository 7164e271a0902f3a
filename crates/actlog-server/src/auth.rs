//! Who is calling: one principal model for every route.
//!
//! A [`Principal`] is a signed-in user or an API key, and is always bound to exactly one
//! partner; every store call a handler makes passes `principal.partner_id`, so no route can
//! read or write across partners. Routes state what they need with [`Principal::require`]; the
//! access policy (which roles may see the activity log) is applied here and nowhere else.

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;

use actlog_domain::catalog::Lang;
use actlog_domain::roles::Role;
use actlog_store::Scopes;

use crate::error::ApiError;
use crate::identity::session;
use crate::state::AppState;
use actlog_app::keys;

/// An authenticated caller.
#[derive(Debug, Clone)]
pub struct Principal {
    pub partner_id: String,
    pub kind: PrincipalKind,
}

/// How the caller authenticated.
#[derive(Debug, Clone)]
pub enum PrincipalKind {
    ApiKey {
        id: String,
        scopes: Scopes,
    },
    /// An access token from a configured tenant's provider (`[sso]`): an application's
    /// (scopes from its app roles through `[sso.api_roles]`) or a user's (read when the user's
    /// roles may view the log). `subject` is `tid/oid`.
    Token {
        subject: String,
        scopes: Scopes,
    },
    User(SignedInUser),
}

/// A user signed in through a browser session.
#[derive(Debug, Clone)]
pub struct SignedInUser {
    pub user_id: i64,
    pub email: String,
    pub roles: Vec<Role>,
    /// Whether the access policy lets this user view and export the activity log.
    pub can_view_log: bool,
    /// The token this session's forms must carry.
    pub csrf_token: String,
    pub lang: Option<Lang>,
    pub time_zone: Option<String>,
}

/// What a route needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Capability {
    /// View and export the activity log (page, query, look-up, export, subscriptions page).
    ReadLog,
    /// Write records.
    WriteRecords,
}

impl Principal {
    pub fn may(&self, capability: Capability) -> bool {
        match (&self.kind, capability) {
            (PrincipalKind::ApiKey { scopes, .. }, Capability::ReadLog) => scopes.read,
            (PrincipalKind::ApiKey { scopes, .. }, Capability::WriteRecords) => scopes.write,
            (PrincipalKind::Token { scopes, .. }, Capability::ReadLog) => scopes.read,
            (PrincipalKind::Token { scopes, .. }, Capability::WriteRecords) => scopes.write,
            (PrincipalKind::User(user), Capability::ReadLog) => user.can_view_log,
            (PrincipalKind::User(_), Capability::WriteRecords) => false,
        }
    }

    /// Refuses with 403 when the principal lacks the capability.
    pub fn require(&self, capability: Capability) -> Result<(), ApiError> {
        if self.may(capability) {
            return Ok(());
        }
        Err(ApiError::forbidden(match (&self.kind, capability) {
            (PrincipalKind::ApiKey { .. }, Capability::ReadLog) => {
                "read the activity log (the key lacks the read scope)"
            }
            (PrincipalKind::ApiKey { .. }, Capability::WriteRecords) => {
                "write records (the key lacks the write scope)"
            }
            (PrincipalKind::Token { .. }, Capability::ReadLog) => {
                "read the activity log (the token's roles do not allow it)"
            }
            (PrincipalKind::Token { .. }, Capability::WriteRecords) => {
                "write records (the token's roles do not allow it)"
            }
            (PrincipalKind::User(_), Capability::ReadLog) => {
                "view the activity log (none of the user's roles allows it)"
            }
            (PrincipalKind::User(_), Capability::WriteRecords) => {
                "write records (only API keys write)"
            }
        }))
    }

    /// The signed-in user, when the principal is one.
    pub fn user(&self) -> Option<&SignedInUser> {
        match &self.kind {
            PrincipalKind::User(user) => Some(user),
            PrincipalKind::ApiKey { .. } | PrincipalKind::Token { .. } => None,
        }
    }
}

/// The principal of a request, if it carries valid credentials: an API key or an access token
/// when an `Authorization` header is present (and then only that), else the session cookie.
pub async fn resolve(parts: &Parts, state: &AppState) -> Result<Option<Principal>, ApiError> {
    if let Some(header) = parts.headers.get(AUTHORIZATION) {
        let header = header.to_str().unwrap_or("");
        if let Some(jwt) = bearer_jwt(header) {
            return Ok(access_token(jwt, state).await);
        }
        return api_key(header, state).await;
    }
    let Some(id_hash) = session::session_hash(&parts.headers) else {
        return Ok(None);
    };
    let Some(stored) = state.store.session(&id_hash).await? else {
        return Ok(None);
    };
    let now = state.clock.now();
    if !state.config.sessions.is_live(&stored, now) {
        state.store.delete_session(&id_hash).await?;
        return Ok(None);
    }
    if state.config.sessions.needs_touch(&stored, now) {
        state.store.touch_session(&id_hash, now).await?;
    }
    let user = stored.user;
    let can_view_log = state.config.policy.may_view_log(&user.roles);
    Ok(Some(Principal {
        partner_id: user.partner_id,
        kind: PrincipalKind::User(SignedInUser {
            user_id: user.id,
            email: user.email,
            roles: user.roles,
            can_view_log,
            csrf_token: stored.csrf_token,
            lang: user.lang.as_deref().and_then(Lang::from_tag),
            time_zone: user.time_zone,
        }),
    }))
}

/// The token of `Bearer <JWT>` (three base64url parts), as Entra-issued tokens are.
fn bearer_jwt(header: &str) -> Option<&str> {
    let (scheme, token) = header.trim().split_once(' ')?;
    let token = token.trim();
    let jwt = scheme.eq_ignore_ascii_case("bearer")
        && token.split('.').count() == 3
        && !keys::looks_like_key(token);
    jwt.then_some(token)
}

/// The principal of a valid access token from a configured tenant, bound to that tenant's
/// partner; `None` (401) for any other, with the reason logged.
async fn access_token(jwt: &str, state: &AppState) -> Option<Principal> {
    let sso = state.config.sso.as_deref()?;
    let claims = match sso.oidc.verify_access_token(jwt).await {
        Ok(claims) => claims,
        Err(e) => {
            tracing::info!(reason = %e, "access token refused");
            return None;
        }
    };
    let tenant = sso.tenant(&claims.tid)?;
    let scopes = if claims.is_app_only() {
        sso.app_scopes(&claims)
    } else {
        Scopes {
            read: state.config.policy.may_view_log(&sso.user_roles(&claims)),
            write: false,
        }
    };
    Some(Principal {
        partner_id: tenant.partner.clone(),
        kind: PrincipalKind::Token {
            subject: format!("{}/{}", claims.tid, claims.oid),
            scopes,
        },
    })
}

async fn api_key(header: &str, state: &AppState) -> Result<Option<Principal>, ApiError> {
    let Some((scheme, key)) = header.trim().split_once(' ') else {
        return Ok(None);
    };
    let key = key.trim();
    if !scheme.eq_ignore_ascii_case("bearer") || !keys::looks_like_key(key) {
        return Ok(None);
    }
    let hash = keys::hash(key);
    let now = std::time::Instant::now();
    let stored = match state.api_keys.get(&hash, now) {
        Some(known) => known,
        None => {
            let Some(stored) = state.store.api_key(&hash).await? else {
                return Ok(None);
            };
            state.api_keys.put(hash, stored.clone(), now);
            // Noted for `apikey list`: a look-up like this one happens at most once a second
            // per key per server, and the store writes at most once a minute per key.
            let now = jiff::Timestamp::now().as_second();
            if let Err(e) = state.store.touch_api_key(&stored.id, now).await {
                tracing::warn!(key = %stored.id, error = %e, "cannot note an API key's use");
            }
            stored
        }
    };
    Ok(Some(Principal {
        partner_id: stored.partner_id,
        kind: PrincipalKind::ApiKey {
            id: stored.id,
            scopes: stored.scopes,
        },
    }))
}

impl FromRequestParts<AppState> for Principal {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        resolve(parts, state)
            .await?
            .ok_or_else(ApiError::unauthenticated)
    }
}

/// The principal when the request carries valid credentials, `None` otherwise.
#[derive(Debug, Clone)]
pub struct MaybePrincipal(pub Option<Principal>);

impl FromRequestParts<AppState> for MaybePrincipal {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        Ok(MaybePrincipal(resolve(parts, state).await?))
    }
}

/// A signed-in user, for pages: without a live session the browser is sent to `/sign-in`
/// and brought back afterwards.
#[derive(Debug, Clone)]
pub struct SignedIn(pub Principal);

impl SignedIn {
    pub fn user(&self) -> &SignedInUser {
        self.0.user().expect("SignedIn only holds users")
    }
}

impl FromRequestParts<AppState> for SignedIn {
    type Rejection = axum::response::Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        use axum::response::IntoResponse;
        match resolve(parts, state).await {
            Ok(Some(principal)) if principal.user().is_some() => Ok(SignedIn(principal)),
            Ok(_) => {
                let here = parts.uri.path_and_query().map_or("/", |p| p.as_str());
                // Slashes stay readable; everything else is encoded.
                let next = crate::web::url::encode(here).replace("%2F", "/");
                let location = format!("/sign-in?next={next}");
                Err((
                    axum::http::StatusCode::SEE_OTHER,
                    [(axum::http::header::LOCATION, location)],
                )
                    .into_response())
            }
            Err(err) => Err(err.into_response()),
        }
    }
}
