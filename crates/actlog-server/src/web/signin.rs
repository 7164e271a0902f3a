//! `/sign-in` and `/sign-out`.

use std::net::SocketAddr;

use askama::Template;
use axum::extract::{ConnectInfo, FromRequestParts, State};
use axum::http::header::{LOCATION, RETRY_AFTER, SET_COOKIE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use actlog_domain::catalog::Lang;

use crate::auth::{MaybePrincipal, Principal};
use crate::error::ApiError;
use crate::identity::session::{self, CSRF_COOKIE, new_token, same_secret};
use crate::params::Params;
use crate::state::AppState;
use crate::web::page::{self, Frame, PageForm, render};
use actlog_app::keys::hash;
use actlog_app::password;

/// The client's address, when the server knows it (not in tests without a socket): the peer,
/// or whom a trusted proxy says it forwarded (`client_addr`).
#[derive(Debug)]
pub struct ClientAddr(pub(crate) Option<std::net::IpAddr>);

impl FromRequestParts<AppState> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip());
        let proxies = &state.config.sign_in.trusted_proxies;
        Ok(ClientAddr(peer.map(|p| proxies.client(p, &parts.headers))))
    }
}

#[derive(Template)]
#[template(path = "sign_in.html")]
struct SignInPage {
    frame: Frame,
    csrf: String,
    next: String,
    email: String,
    error: Option<String>,
    notice: Option<String>,
    /// "Sign in with Microsoft" straight to the only tenant.
    sso_single: bool,
    /// "Sign in with Microsoft" after asking the work email (several tenants).
    sso_by_email: bool,
    /// The email/password form.
    local_accounts: bool,
    /// The provider's end-session page, offered after signing out of actlog.
    end_session: Option<String>,
}

/// A local path to return to after sign-in, never another site: see
/// [`is_local_path`](crate::web::url::is_local_path). Anything else returns to the home page.
pub(crate) fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if crate::web::url::is_local_path(n) => n.to_owned(),
        _ => "/".to_owned(),
    }
}

/// A 303 to `to`; one that cannot be a `Location` (it cannot be, coming through
/// [`safe_next`]) goes to the home page, so a 303 never lacks its `Location`.
pub(crate) fn see_other(to: &str) -> Response {
    let location = HeaderValue::from_str(to).unwrap_or(HeaderValue::from_static("/"));
    (StatusCode::SEE_OTHER, [(LOCATION, location)]).into_response()
}

/// Renders the form with a fresh CSRF token in its cookie.
fn form(
    state: &AppState,
    headers: &HeaderMap,
    status: StatusCode,
    next: String,
    email: String,
    error: Option<String>,
    notice: Option<String>,
) -> Response {
    let page = Shown {
        status,
        next,
        email,
        error,
        notice,
        end_session: None,
    };
    form_with(state, headers, page)
}

/// What the sign-in page shows besides its forms.
#[derive(Debug)]
pub(crate) struct Shown {
    pub status: StatusCode,
    pub next: String,
    pub email: String,
    pub error: Option<String>,
    pub notice: Option<String>,
    pub end_session: Option<String>,
}

/// The sign-in page: the email/password form (unless `[sso] local_accounts = false`) and
/// "Sign in with Microsoft" when `[sso]` is configured, with a fresh CSRF token in its cookie.
pub(crate) fn form_with(state: &AppState, headers: &HeaderMap, shown: Shown) -> Response {
    let lang = page::language(None, headers);
    let csrf = new_token();
    let frame = Frame::new(state, lang, "sign-in-title", None);
    let sso = state.config.sso.as_deref();
    let tenants = sso.map_or(0, |s| s.tenants.len());
    let mut response = render(
        shown.status,
        &SignInPage {
            frame,
            csrf: csrf.clone(),
            next: shown.next,
            email: shown.email,
            error: shown.error,
            notice: shown.notice,
            sso_single: tenants == 1,
            sso_by_email: tenants > 1,
            local_accounts: sso.is_none_or(|s| s.local_accounts),
            end_session: shown.end_session,
        },
    );
    response.headers_mut().append(
        SET_COOKIE,
        state.config.sessions.csrf_cookie(headers, &csrf),
    );
    // "Sign in with Microsoft" is a form whose answer redirects to the provider, which the
    // browser allows only when form-action names it.
    if let Some(origin) = sso.and_then(|s| s.oidc.authority_origin()) {
        let csp = crate::content_security_policy(&origin);
        if let Ok(value) = HeaderValue::from_str(&csp) {
            response
                .headers_mut()
                .insert("content-security-policy", value);
        }
    }
    response
}

pub async fn show(
    State(state): State<AppState>,
    headers: HeaderMap,
    params: Result<Params, ApiError>,
) -> Response {
    let lang = page::language(None, &headers);
    // A query the page cannot read (not UTF-8) is only a lost `next`: the form still shows.
    let params = params.unwrap_or_default();
    let notice = params
        .get("signed_out")
        .map(|_| crate::web::i18n::Tr::new(lang).t("signed-out"));
    let end_session = match (state.config.sso.as_deref(), params.get("provider")) {
        (Some(sso), Some(tid)) if notice.is_some() => sso.oidc.end_session_url(tid).await,
        _ => None,
    };
    let shown = Shown {
        status: StatusCode::OK,
        next: safe_next(params.get("next")),
        email: String::new(),
        error: None,
        notice,
        end_session,
    };
    form_with(&state, &headers, shown)
}

#[derive(Debug, Deserialize)]
pub struct SignInForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    next: String,
}

pub async fn submit(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    headers: HeaderMap,
    PageForm(input): PageForm<SignInForm>,
) -> Result<Response, ApiError> {
    let tr = crate::web::i18n::Tr::new(page::language(None, &headers));
    let next = safe_next(Some(&input.next));
    let email = input.email.trim().to_lowercase();
    let cookie_csrf = session::cookie(&headers, CSRF_COOKIE).unwrap_or("");
    if cookie_csrf.is_empty() || !same_secret(cookie_csrf, &input.csrf) {
        let error = Some(tr.t("sign-in-expired-form"));
        return Ok(form(
            &state,
            &headers,
            StatusCode::FORBIDDEN,
            next,
            email,
            error,
            None,
        ));
    }
    if state
        .config
        .sso
        .as_deref()
        .is_some_and(|s| !s.local_accounts)
    {
        let error = Some(tr.t("sso-local-accounts-off"));
        return Ok(form(
            &state,
            &headers,
            StatusCode::FORBIDDEN,
            next,
            email,
            error,
            None,
        ));
    }
    let address = client.map_or_else(|| "unknown".to_owned(), |ip| ip.to_string());
    // The account's turn and a password check first, then the counts: concurrent attempts on
    // one account each see the failures of those before them, and a burst of them holds at
    // most a few checks' memory.
    let Some(admitted) = state.sign_in_gate.admit(&email).await else {
        let mut response = form(
            &state,
            &headers,
            StatusCode::SERVICE_UNAVAILABLE,
            next,
            email,
            Some(tr.t("sign-in-busy")),
            None,
        );
        let seconds = state.sign_in_gate.retry_after().as_secs().max(1);
        response
            .headers_mut()
            .insert(RETRY_AFTER, axum::http::HeaderValue::from(seconds));
        return Ok(response);
    };
    let now = state.clock.now();
    let store = state.store.as_ref();
    let throttles = &state.sign_in_failures;
    let wait = throttles.wait(store, &email, &address, now).await?;
    if let Some(wait) = wait {
        crate::metrics::Metrics::add(&state.metrics.sign_ins_throttled, 1);
        let error = Some(if wait.as_secs() < 60 {
            tr.t1(
                "sign-in-throttled-seconds",
                "seconds",
                wait.as_secs().max(1),
            )
        } else {
            tr.t1("sign-in-throttled", "minutes", wait.as_secs().div_ceil(60))
        });
        let mut response = form(
            &state,
            &headers,
            StatusCode::TOO_MANY_REQUESTS,
            next,
            email,
            error,
            None,
        );
        let seconds = wait.as_secs_f64().ceil().max(1.0) as u64;
        response
            .headers_mut()
            .insert(RETRY_AFTER, axum::http::HeaderValue::from(seconds));
        return Ok(response);
    }
    let user = state.store.user_by_email(&email).await?;
    let stored_hash = user.as_ref().map(|u| u.password_hash.clone());
    let password_ok = password::verify(input.password, stored_hash).await;
    let Some(user) = user.filter(|u| password_ok && !u.disabled) else {
        throttles.fail(store, &email, &address, now).await?;
        drop(admitted);
        let error = Some(tr.t("sign-in-failed"));
        return Ok(form(
            &state,
            &headers,
            StatusCode::UNAUTHORIZED,
            next,
            email,
            error,
            None,
        ));
    };
    drop(admitted);
    throttles.succeed(store, &email, &address).await?;
    start_session(&state, &headers, user.id, &next).await
}

/// Starts a session for `user_id` and sends the browser to `next`.
pub(crate) async fn start_session(
    state: &AppState,
    headers: &HeaderMap,
    user_id: i64,
    next: &str,
) -> Result<Response, ApiError> {
    // A new session id at every sign-in: a session id planted before sign-in is worthless.
    if let Some(old) = session::session_hash(headers) {
        state.store.delete_session(&old).await?;
    }
    let token = new_token();
    state
        .store
        .create_session(&hash(&token), user_id, &new_token(), state.clock.now())
        .await?;
    let mut response = see_other(next);
    response.headers_mut().append(
        SET_COOKIE,
        state.config.sessions.session_cookie(headers, &token),
    );
    Ok(response)
}

#[derive(Debug, Deserialize)]
pub struct SignOutForm {
    #[serde(default)]
    csrf: String,
}

pub async fn sign_out(
    State(state): State<AppState>,
    MaybePrincipal(principal): MaybePrincipal,
    headers: HeaderMap,
    PageForm(input): PageForm<SignOutForm>,
) -> Result<Response, ApiError> {
    if let Some(user) = principal.as_ref().and_then(Principal::user) {
        if !same_secret(&user.csrf_token, &input.csrf) {
            let lang = user.lang.unwrap_or(Lang::En);
            return Ok(page::message(
                &state,
                lang,
                Some(user.clone()),
                StatusCode::FORBIDDEN,
                "forbidden-title",
                "sign-in-expired-form",
            ));
        }
        if let Some(id) = session::session_hash(&headers) {
            state.store.delete_session(&id).await?;
        }
    }
    // Signed in through a provider: the page after offers signing out there too.
    let provider = crate::web::sso::signed_in_tenant(&headers).filter(|tid| {
        state
            .config
            .sso
            .as_deref()
            .is_some_and(|s| s.tenant(tid).is_some())
    });
    let location = match &provider {
        Some(tid) => format!(
            "/sign-in?signed_out=1&provider={}",
            crate::web::url::encode(tid)
        ),
        None => "/sign-in?signed_out=1".to_owned(),
    };
    let mut response = see_other(&location);
    response.headers_mut().append(
        SET_COOKIE,
        state.config.sessions.clear_session_cookie(&headers),
    );
    if provider.is_some() {
        let clear = state.config.sessions.short_cookie(
            &headers,
            crate::web::sso::TENANT_COOKIE,
            "",
            std::time::Duration::ZERO,
        );
        response.headers_mut().append(SET_COOKIE, clear);
    }
    Ok(response)
}
