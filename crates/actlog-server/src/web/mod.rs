//! The web dashboard: server-rendered pages, English and Italian, no script framework.
//!
//! - [`signin`]: `/sign-in`, `/sign-out`.
//! - [`sso`]: `/auth/start`, `/auth/callback` ("Sign in with Microsoft").
//! - [`activity`]: `/activity-log`, the seed's page.
//! - [`details`]: `/activity-log/details`, a row's details, loaded when it is expanded.
//! - [`customers`]: a customer's Subscriptions page.
//! - [`preferences`]: `POST /preferences` (language, time zone).
//! - [`password`]: `/password`, a user changing their own password.
//! - [`page`]: the frame every page shares, language choice, error pages.
//! - [`i18n`]: every visible string (`locales/*.ftl`).

pub mod activity;
pub mod customers;
pub mod details;
pub mod format;
pub mod i18n;
pub mod page;
pub mod password;
pub mod preferences;
pub mod signin;
pub mod sso;
pub mod url;

use axum::Router;
use axum::extract::State;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use askama::Template;

use crate::auth::SignedIn;
use crate::state::AppState;
use crate::web::page::{Frame, render};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(home))
        .route("/sign-in", get(signin::show).post(signin::submit))
        .route("/sign-out", axum::routing::post(signin::sign_out))
        .route("/auth/start", get(sso::start))
        .route("/auth/callback", get(sso::callback))
        .route("/activity-log", get(activity::show))
        .route("/activity-log/details", get(details::show))
        .route("/customers/{id}/subscriptions", get(customers::show))
        .route("/preferences", axum::routing::post(preferences::save))
        .route("/password", get(password::show).post(password::change))
        .route(
            "/static/actlog.css",
            get(|| {
                asset(
                    "text/css; charset=utf-8",
                    include_str!("../../static/actlog.css"),
                )
            }),
        )
        .route(
            "/static/actlog.js",
            get(|| {
                asset(
                    "text/javascript; charset=utf-8",
                    include_str!("../../static/actlog.js"),
                )
            }),
        )
        .layer(axum::middleware::map_response(no_store))
}

/// Pages show one partner's records to a signed-in user (and the sign-in page a CSRF token):
/// no browser or proxy cache may keep them. The static assets say otherwise for themselves.
async fn no_store(mut response: Response) -> Response {
    response
        .headers_mut()
        .entry(CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    response
}

async fn asset(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (CONTENT_TYPE, content_type),
            (CACHE_CONTROL, "public, max-age=3600"),
        ],
        body,
    )
        .into_response()
}

#[derive(Template)]
#[template(path = "home.html")]
struct Home {
    frame: Frame,
}

/// The landing page after sign-in: the frame with its Account settings menu.
async fn home(State(state): State<AppState>, signed_in: SignedIn, headers: HeaderMap) -> Response {
    let user = signed_in.user().clone();
    let lang = page::language(Some(&user), &headers);
    render(
        StatusCode::OK,
        &Home {
            frame: Frame::new(&state, lang, "home-title", Some(user)),
        },
    )
}
