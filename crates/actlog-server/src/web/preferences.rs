//! `POST /preferences`: a signed-in user's language and time zone.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use actlog_domain::catalog::Lang;

use crate::auth::SignedIn;
use crate::error::ApiError;
use crate::identity::session::same_secret;
use crate::state::AppState;
use crate::web::page;
use crate::web::page::PageForm;
use crate::web::signin::{safe_next, see_other};

#[derive(Debug, Deserialize)]
pub struct PreferencesForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    lang: String,
    #[serde(default)]
    tz: String,
    #[serde(default)]
    next: String,
}

pub async fn save(
    State(state): State<AppState>,
    signed_in: SignedIn,
    PageForm(input): PageForm<PreferencesForm>,
) -> Result<Response, ApiError> {
    let user = signed_in.user().clone();
    let current = user.lang.unwrap_or_default();
    let refuse = |status, title: &str, text: &str| {
        page::message(&state, current, Some(user.clone()), status, title, text)
    };
    if !same_secret(&user.csrf_token, &input.csrf) {
        return Ok(refuse(
            StatusCode::FORBIDDEN,
            "forbidden-title",
            "sign-in-expired-form",
        ));
    }
    let lang = match input.lang.trim() {
        "" => None,
        tag => match Lang::from_tag(tag) {
            Some(lang) => Some(lang.tag()),
            None => {
                return Ok(refuse(
                    StatusCode::BAD_REQUEST,
                    "prefs-bad-title",
                    "prefs-bad-lang",
                ));
            }
        },
    };
    let tz = match input.tz.trim() {
        "" => None,
        name => match jiff::tz::TimeZone::get(name) {
            Ok(zone) => Some(zone.iana_name().unwrap_or(name).to_owned()),
            Err(_) => {
                return Ok(refuse(
                    StatusCode::BAD_REQUEST,
                    "prefs-bad-title",
                    "prefs-bad-tz",
                ));
            }
        },
    };
    state
        .store
        .set_preferences(user.user_id, lang, tz.as_deref())
        .await?;
    let next = safe_next(Some(&input.next));
    Ok(see_other(&next))
}
