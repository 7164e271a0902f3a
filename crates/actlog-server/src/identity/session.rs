//! Browser sessions: a random id in an HttpOnly, SameSite cookie, stored only as its SHA-256,
//! with idle and absolute expiry, and a CSRF token per session.

use std::time::Duration;

use axum::http::HeaderMap;
use axum::http::header::{COOKIE, HeaderValue};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jiff::SignedDuration;

use actlog_domain::time::OperationDate;
use actlog_store::Session;

use actlog_app::keys::{hash, random_bytes};

/// The session cookie.
pub const SESSION_COOKIE: &str = "actlog_session";
/// The pre-sign-in CSRF cookie (double-submit: the form must carry the same value).
pub const CSRF_COOKIE: &str = "actlog_csrf";
/// Activity is recorded at most this often per session, to spare the database a write per page.
const TOUCH_EVERY: SignedDuration = SignedDuration::from_secs(60);

/// How sessions behave.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionSettings {
    /// A session unused this long ends.
    pub idle: Duration,
    /// A session ends this long after sign-in, however active.
    pub absolute: Duration,
    /// Mark cookies `Secure`: `Some(true)` always, `Some(false)` never, `None` when the request
    /// came over TLS (`X-Forwarded-Proto: https` from the proxy in front).
    pub secure: Option<bool>,
}

impl Default for SessionSettings {
    fn default() -> Self {
        SessionSettings {
            idle: Duration::from_secs(30 * 60),
            absolute: Duration::from_secs(12 * 3600),
            secure: None,
        }
    }
}

/// A fresh random token (session id or CSRF token), URL-safe.
pub fn new_token() -> String {
    URL_SAFE_NO_PAD.encode(random_bytes::<32>())
}

/// The value of cookie `name`, if sent.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v)
}

/// The stored id of the session the cookie names.
pub fn session_hash(headers: &HeaderMap) -> Option<[u8; 32]> {
    cookie(headers, SESSION_COOKIE)
        .filter(|v| !v.is_empty() && v.len() < 100)
        .map(hash)
}

impl SessionSettings {
    /// Whether a stored session is still valid at `now`.
    pub fn is_live(&self, session: &Session, now: OperationDate) -> bool {
        let idle = SignedDuration::try_from(self.idle).unwrap_or(SignedDuration::MAX);
        let absolute = SignedDuration::try_from(self.absolute).unwrap_or(SignedDuration::MAX);
        session.last_seen.saturating_add(idle) > now
            && session.created_at.saturating_add(absolute) > now
    }

    /// Whether the session's activity should be recorded now.
    pub fn needs_touch(&self, session: &Session, now: OperationDate) -> bool {
        session.last_seen.saturating_add(TOUCH_EVERY) <= now
    }

    fn secure(&self, headers: &HeaderMap) -> bool {
        self.secure.unwrap_or_else(|| {
            headers
                .get("x-forwarded-proto")
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.eq_ignore_ascii_case("https"))
        })
    }

    /// `Set-Cookie` for a new session id.
    pub fn session_cookie(&self, request: &HeaderMap, token: &str) -> HeaderValue {
        self.cookie_header(request, SESSION_COOKIE, token, Some(self.absolute))
    }

    /// `Set-Cookie` removing the session cookie.
    pub fn clear_session_cookie(&self, request: &HeaderMap) -> HeaderValue {
        self.cookie_header(request, SESSION_COOKIE, "", Some(Duration::ZERO))
    }

    /// `Set-Cookie` for the sign-in form's CSRF token.
    pub fn csrf_cookie(&self, request: &HeaderMap, token: &str) -> HeaderValue {
        self.cookie_header(request, CSRF_COOKIE, token, None)
    }

    /// `Set-Cookie` for a short-lived cookie (`value` URL-safe), or removing it when
    /// `max_age` is zero.
    pub fn short_cookie(
        &self,
        request: &HeaderMap,
        name: &str,
        value: &str,
        max_age: Duration,
    ) -> HeaderValue {
        self.cookie_header(request, name, value, Some(max_age))
    }

    fn cookie_header(
        &self,
        request: &HeaderMap,
        name: &str,
        value: &str,
        max_age: Option<Duration>,
    ) -> HeaderValue {
        let mut text = format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax");
        if let Some(age) = max_age {
            text.push_str(&format!("; Max-Age={}", age.as_secs()));
        }
        if self.secure(request) {
            text.push_str("; Secure");
        }
        HeaderValue::from_str(&text).expect("cookie values are URL-safe")
    }
}

/// Compares two secrets without revealing where they differ.
pub fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_found_among_others() {
        let mut headers = HeaderMap::new();
        headers.insert(
            COOKIE,
            HeaderValue::from_static("a=1; actlog_session=abc; b=2"),
        );
        assert_eq!(cookie(&headers, SESSION_COOKIE), Some("abc"));
        assert_eq!(cookie(&headers, "missing"), None);
    }

    #[test]
    fn cookies_are_http_only_lax_and_secure_behind_tls() {
        let settings = SessionSettings::default();
        let mut headers = HeaderMap::new();
        let plain = settings.session_cookie(&headers, "t");
        assert_eq!(
            plain.to_str().unwrap(),
            "actlog_session=t; Path=/; HttpOnly; SameSite=Lax; Max-Age=43200"
        );
        headers.insert("x-forwarded-proto", HeaderValue::from_static("https"));
        assert!(
            settings
                .session_cookie(&headers, "t")
                .to_str()
                .unwrap()
                .ends_with("; Secure")
        );
    }

    #[test]
    fn secrets_compare_exactly() {
        assert!(same_secret("abc", "abc"));
        assert!(!same_secret("abc", "abd"));
        assert!(!same_secret("abc", "ab"));
    }
}
