//! What every page shares: the frame (language, user, cloud), rendering, and error pages.

use askama::Template;
use axum::extract::FromRequest;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};

use actlog_domain::catalog::Lang;

use crate::auth::SignedInUser;
use crate::state::{AppState, Cloud};
use crate::web::i18n::Tr;

/// The cookie a visitor's language choice is kept in before sign-in.
pub const LANG_COOKIE: &str = "actlog_lang";

/// The page frame: language, title, who is signed in, which cloud.
#[derive(Debug, Clone)]
pub struct Frame {
    pub tr: Tr,
    pub title: String,
    pub user: Option<SignedInUser>,
    pub cloud_label: String,
    /// This page's path and query, where the preferences form brings the user back.
    pub here: String,
}

impl Frame {
    /// The user's language choice as the preferences form shows it (`""` = the browser's).
    pub fn chosen_lang(&self) -> &'static str {
        self.user
            .as_ref()
            .and_then(|u| u.lang)
            .map_or("", |l| l.tag())
    }

    /// The user's time zone choice (`""` = the browser's).
    pub fn chosen_tz(&self) -> &str {
        self.user
            .as_ref()
            .and_then(|u| u.time_zone.as_deref())
            .unwrap_or("")
    }

    pub fn new(state: &AppState, lang: Lang, title_id: &str, user: Option<SignedInUser>) -> Frame {
        let tr = Tr::new(lang);
        let cloud = match state.config.cloud {
            Cloud::Public => "cloud-public",
            Cloud::UsGov => "cloud-usgov",
        };
        Frame {
            title: tr.t(title_id),
            cloud_label: tr.t(cloud),
            tr,
            user,
            here: "/".to_owned(),
        }
    }
}

/// The language of a page: the user's choice, else the language cookie, else the browser's
/// `Accept-Language`, else English.
pub fn language(user: Option<&SignedInUser>, headers: &HeaderMap) -> Lang {
    if let Some(lang) = user.and_then(|u| u.lang) {
        return lang;
    }
    if let Some(lang) =
        crate::identity::session::cookie(headers, LANG_COOKIE).and_then(Lang::from_tag)
    {
        return lang;
    }
    accept_language(headers).unwrap_or_default()
}

/// The first language of `Accept-Language`, by weight, that actlog speaks.
fn accept_language(headers: &HeaderMap) -> Option<Lang> {
    let header = headers.get("accept-language")?.to_str().ok()?;
    let mut choices: Vec<(f32, Lang)> = header
        .split(',')
        .filter_map(|part| {
            let mut pieces = part.split(';');
            let lang = Lang::from_tag(pieces.next()?.trim())?;
            let weight = pieces
                .find_map(|p| p.trim().strip_prefix("q="))
                .and_then(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            Some((weight, lang))
        })
        .collect();
    choices.sort_by(|a, b| b.0.total_cmp(&a.0));
    choices.first().filter(|(w, _)| *w > 0.0).map(|(_, l)| *l)
}

/// Renders a template into an HTML response.
pub fn render(status: StatusCode, template: &impl Template) -> Response {
    match template.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(err) => {
            tracing::error!(%err, "a template failed to render");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "the page could not be rendered",
            )
                .into_response()
        }
    }
}

#[derive(Template)]
#[template(path = "message.html")]
struct Message {
    frame: Frame,
    text: String,
}

/// A page saying what went wrong, in the visitor's language.
pub fn message(
    state: &AppState,
    lang: Lang,
    user: Option<SignedInUser>,
    status: StatusCode,
    title_id: &str,
    text_id: &str,
) -> Response {
    let frame = Frame::new(state, lang, title_id, user);
    let text = frame.tr.t(text_id);
    render(status, &Message { frame, text })
}

/// A form body, or — when it cannot be read (not a form, a field given twice, not UTF-8) — a
/// page saying so in the visitor's language, with the status the framework gave (400, 415,
/// 413), rather than the framework's plain-text answer.
#[derive(Debug)]
pub struct PageForm<T>(pub T);

impl<T: serde::de::DeserializeOwned> FromRequest<AppState> for PageForm<T> {
    type Rejection = Response;

    async fn from_request(
        request: axum::extract::Request,
        state: &AppState,
    ) -> Result<Self, Response> {
        let headers = request.headers().clone();
        match axum::Form::<T>::from_request(request, state).await {
            Ok(axum::Form(value)) => Ok(PageForm(value)),
            Err(rejection) => Err(message(
                state,
                language(None, &headers),
                None,
                rejection.status(),
                "bad-request-title",
                "bad-request-text",
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn accept_language_is_read_by_weight() {
        let mut headers = HeaderMap::new();
        headers.insert(
            "accept-language",
            HeaderValue::from_static("de-DE, it-IT;q=0.8, en;q=0.5"),
        );
        assert_eq!(accept_language(&headers), Some(Lang::It));
        headers.insert(
            "accept-language",
            HeaderValue::from_static("en-GB;q=0.3, it;q=0.9"),
        );
        assert_eq!(accept_language(&headers), Some(Lang::It));
        headers.insert("accept-language", HeaderValue::from_static("fr"));
        assert_eq!(language(None, &headers), Lang::En);
    }
}
