//! `/password`: a signed-in user changes their own password. The current one is checked as
//! sign-in checks it (a turn at the gate, the failure counts), and every other session of the
//! user ends with the change, so a session someone else holds does not outlive it.

use std::time::Duration;

use askama::Template;
use axum::extract::State;
use axum::http::header::RETRY_AFTER;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use serde::Deserialize;

use actlog_app::password::{self, PasswordError};

use crate::auth::{SignedIn, SignedInUser};
use crate::error::ApiError;
use crate::identity::session::{self, same_secret};
use crate::state::AppState;
use crate::web::page::{self, Frame, PageForm, render};
use crate::web::signin::ClientAddr;

#[derive(Template)]
#[template(path = "password.html")]
struct PasswordPage {
    frame: Frame,
    error: Option<String>,
    notice: Option<String>,
}

/// The page, with a message when a change was tried.
fn page(
    state: &AppState,
    user: SignedInUser,
    headers: &HeaderMap,
    status: StatusCode,
    message: Result<&str, String>,
) -> Response {
    let lang = page::language(Some(&user), headers);
    let mut frame = Frame::new(state, lang, "password-title", Some(user));
    frame.here = "/password".to_owned();
    let (error, notice) = match message {
        Ok("") => (None, None),
        Ok(id) => (None, Some(frame.tr.t(id))),
        Err(id) => (Some(frame.tr.t(&id)), None),
    };
    render(
        status,
        &PasswordPage {
            frame,
            error,
            notice,
        },
    )
}

pub async fn show(
    State(state): State<AppState>,
    signed_in: SignedIn,
    headers: HeaderMap,
) -> Response {
    page(
        &state,
        signed_in.user().clone(),
        &headers,
        StatusCode::OK,
        Ok(""),
    )
}

#[derive(Debug, Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    current: String,
    #[serde(default)]
    new: String,
    #[serde(default)]
    confirm: String,
}

pub async fn change(
    State(state): State<AppState>,
    signed_in: SignedIn,
    ClientAddr(client): ClientAddr,
    headers: HeaderMap,
    PageForm(input): PageForm<PasswordForm>,
) -> Result<Response, ApiError> {
    let user = signed_in.user().clone();
    let refuse = |status, id: &str| page(&state, user.clone(), &headers, status, Err(id.into()));
    if !same_secret(&user.csrf_token, &input.csrf) {
        return Ok(refuse(StatusCode::FORBIDDEN, "sign-in-expired-form"));
    }
    if input.new != input.confirm {
        return Ok(refuse(StatusCode::BAD_REQUEST, "password-mismatch"));
    }
    match password::check_new(&input.new) {
        Err(PasswordError::TooShort) => {
            return Ok(refuse(StatusCode::BAD_REQUEST, "password-too-short"));
        }
        Err(PasswordError::TooLong) => {
            return Ok(refuse(StatusCode::BAD_REQUEST, "password-too-long"));
        }
        Ok(()) => {}
    }
    let address = client.map_or_else(|| "unknown".to_owned(), |ip| ip.to_string());
    if let Err(refused) = check_current(&state, &user, &address, input.current).await? {
        let mut response = refuse(refused.status, refused.message);
        if let Some(wait) = refused.retry_after {
            let seconds = wait.as_secs_f64().ceil().max(1.0) as u64;
            response
                .headers_mut()
                .insert(RETRY_AFTER, HeaderValue::from(seconds));
        }
        return Ok(response);
    }
    let hash = password::hash(input.new).await;
    let this_session = session::session_hash(&headers);
    state
        .store
        .set_password(user.user_id, &hash, this_session.as_ref())
        .await?;
    Ok(page(
        &state,
        user,
        &headers,
        StatusCode::OK,
        Ok("password-changed"),
    ))
}

/// Why the current password was not accepted.
struct Refused {
    status: StatusCode,
    message: &'static str,
    retry_after: Option<Duration>,
}

/// The current password checked the way sign-in checks one: a turn at the gate, the throttles'
/// waits, then the hash, and a failure counted against the account and the address.
async fn check_current(
    state: &AppState,
    user: &SignedInUser,
    address: &str,
    current: String,
) -> Result<Result<(), Refused>, ApiError> {
    let Some(admitted) = state.sign_in_gate.admit(&user.email).await else {
        return Ok(Err(Refused {
            status: StatusCode::SERVICE_UNAVAILABLE,
            message: "sign-in-busy",
            retry_after: Some(state.sign_in_gate.retry_after()),
        }));
    };
    let (now, store) = (state.clock.now(), state.store.as_ref());
    let throttles = &state.sign_in_failures;
    let wait = throttles.wait(store, &user.email, address, now).await?;
    if let Some(wait) = wait {
        return Ok(Err(Refused {
            status: StatusCode::TOO_MANY_REQUESTS,
            message: "password-throttled",
            retry_after: Some(wait),
        }));
    }
    let stored = state.store.user_by_email(&user.email).await?;
    let stored_hash = stored.map(|u| u.password_hash);
    if password::verify(current, stored_hash).await {
        drop(admitted);
        throttles.succeed(store, &user.email, address).await?;
        return Ok(Ok(()));
    }
    throttles.fail(store, &user.email, address, now).await?;
    drop(admitted);
    Ok(Err(Refused {
        status: StatusCode::UNAUTHORIZED,
        message: "password-wrong-current",
        retry_after: None,
    }))
}
