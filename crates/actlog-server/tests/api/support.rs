//! A real server over a real store, driven without a socket. The store is a SQLite file, or a
//! scratch PostgreSQL database with `ACTLOG_TEST_BACKEND=postgres`.

#![allow(dead_code)]

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

use actlog_domain::roles::Role;
use actlog_domain::time::OperationDate;
use actlog_postgres::scratch::ScratchDatabase;
use actlog_postgres::{PgOptions, PgStore};
use actlog_server::{AppState, Clock, Limits, ServerConfig};
use actlog_sqlite::{SqliteOptions, SqliteStore};
use actlog_store::{NewUser, Scopes, Store};

/// A clock that stands still until a test moves it.
#[derive(Debug)]
pub struct TestClock(pub std::sync::Mutex<OperationDate>);

impl Clock for TestClock {
    fn now(&self) -> OperationDate {
        *self.0.lock().unwrap()
    }
}

pub struct TestApp {
    pub app: Router,
    pub store: Arc<dyn Store>,
    pub clock: Arc<TestClock>,
    /// Keeps the database alive; declared last, so it goes after the store.
    _db: TestDatabase,
}

pub use actlog_postgres::scratch::Backend;

/// What a test's database lives in; dropping it removes the database.
#[derive(Debug)]
pub enum TestDatabase {
    Sqlite(tempfile::TempDir),
    Postgres(ScratchDatabase),
}

/// A new, empty store of the backend under test, and the database it lives in.
pub async fn fresh_store() -> (Arc<dyn Store>, TestDatabase) {
    match Backend::from_env() {
        Backend::Sqlite => {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("actlog.db");
            let store = SqliteStore::open(&path, SqliteOptions::default()).unwrap();
            (Arc::new(store), TestDatabase::Sqlite(dir))
        }
        Backend::Postgres => {
            let db = ScratchDatabase::create()
                .await
                .expect("a scratch PostgreSQL database");
            let options = PgOptions {
                connections: 4,
                ..Default::default()
            };
            let store = PgStore::open(db.url(), options)
                .await
                .unwrap_or_else(|e| panic!("cannot open {}: {e}", db.url()));
            (Arc::new(store), TestDatabase::Postgres(db))
        }
    }
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
    pub raw: Vec<u8>,
}

impl Reply {
    /// The problem code of an error reply.
    pub fn code(&self) -> &str {
        self.body["code"].as_str().unwrap_or("")
    }
}

impl TestApp {
    pub async fn new() -> TestApp {
        Self::with(Limits::default(), "2026-11-25T12:00:00Z").await
    }

    pub async fn with(limits: Limits, now: &str) -> TestApp {
        Self::configured(
            ServerConfig {
                limits,
                ..ServerConfig::default()
            },
            now,
        )
        .await
    }

    pub async fn configured(config: ServerConfig, now: &str) -> TestApp {
        let (store, db) = fresh_store().await;
        let clock = Arc::new(TestClock(std::sync::Mutex::new(
            OperationDate::parse_rfc3339(now).unwrap(),
        )));
        let state = AppState::new(store.clone(), clock.clone(), config)
            .await
            .unwrap();
        TestApp {
            app: actlog_server::app(state),
            store,
            clock,
            _db: db,
        }
    }

    /// Moves the clock forward.
    pub fn advance(&self, duration: jiff::SignedDuration) {
        let mut now = self.clock.0.lock().unwrap();
        *now = now.saturating_add(duration);
    }

    /// A new key for `partner` with `scopes` ("read", "write", "read,write").
    pub async fn key(&self, partner: &str, scopes: &str) -> String {
        let scopes: Scopes = actlog_app::keys::parse_scopes(scopes).unwrap();
        actlog_app::keys::create(self.store.as_ref(), partner, scopes, "test")
            .await
            .unwrap()
            .1
    }

    pub async fn request(
        &self,
        method: Method,
        uri: &str,
        key: Option<&str>,
        headers: &[(&str, &str)],
        body: impl Into<Body>,
    ) -> Reply {
        let mut request = Request::builder().method(method).uri(uri);
        if let Some(key) = key {
            request = request.header("authorization", format!("Bearer {key}"));
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = self
            .app
            .clone()
            .oneshot(request.body(body.into()).unwrap())
            .await
            .unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let raw = response
            .into_body()
            .collect()
            .await
            .unwrap()
            .to_bytes()
            .to_vec();
        let body = serde_json::from_slice(&raw).unwrap_or(Value::Null);
        Reply {
            status,
            headers,
            body,
            raw,
        }
    }

    pub async fn get(&self, uri: &str, key: &str) -> Reply {
        self.request(Method::GET, uri, Some(key), &[], Body::empty())
            .await
    }

    pub async fn post(&self, key: &str, body: impl Into<Body>) -> Reply {
        self.request(Method::POST, "/v1/auditrecords", Some(key), &[], body)
            .await
    }

    /// Creates a user with `roles` and the password [`PASSWORD`].
    pub async fn user(&self, partner: &str, email: &str, roles: &[Role]) {
        let hash = actlog_app::password::hash(PASSWORD.to_owned()).await;
        let user = NewUser {
            partner_id: partner.into(),
            email: email.into(),
            password_hash: hash,
            roles: roles.to_vec(),
        };
        self.store.add_user(user).await.unwrap();
    }

    /// A request with a browser's cookie header.
    pub async fn browse(
        &self,
        method: Method,
        uri: &str,
        cookies: &str,
        form: Option<&str>,
    ) -> Reply {
        let mut headers = vec![("cookie", cookies)];
        if form.is_some() {
            headers.push(("content-type", "application/x-www-form-urlencoded"));
        }
        self.request(method, uri, None, &headers, form.unwrap_or("").to_owned())
            .await
    }

    /// Signs in through the form; returns the reply of the form post.
    pub async fn sign_in_reply(&self, email: &str, password: &str) -> Reply {
        self.sign_in_with(email, password, "").await
    }

    /// Signs in through the form, sending `cookies` (e.g. an older session) along.
    pub async fn sign_in_with(&self, email: &str, password: &str, cookies: &str) -> Reply {
        let form_page = self
            .request(Method::GET, "/sign-in", None, &[], Body::empty())
            .await;
        let csrf = set_cookie(&form_page, "actlog_csrf").expect("the form sets its CSRF cookie");
        let html = String::from_utf8(form_page.raw.clone()).unwrap();
        assert!(
            html.contains(&format!("name=\"csrf\" value=\"{csrf}\"")),
            "the form carries the token"
        );
        let body = format!(
            "email={}&password={}&csrf={csrf}&next=%2F",
            enc(email),
            enc(password)
        );
        let cookies = if cookies.is_empty() {
            format!("actlog_csrf={csrf}")
        } else {
            format!("actlog_csrf={csrf}; {cookies}")
        };
        self.browse(Method::POST, "/sign-in", &cookies, Some(&body))
            .await
    }

    /// Signs in; returns the session cookie header value (`actlog_session=…`).
    pub async fn sign_in(&self, email: &str) -> String {
        let reply = self.sign_in_reply(email, PASSWORD).await;
        assert_eq!(
            reply.status,
            StatusCode::SEE_OTHER,
            "sign-in of {email}: {}",
            String::from_utf8_lossy(&reply.raw)
        );
        format!(
            "actlog_session={}",
            set_cookie(&reply, "actlog_session").expect("a session cookie")
        )
    }
}

/// The password of every test user.
pub const PASSWORD: &str = "correct horse battery staple";

/// The value a reply's `Set-Cookie` gives cookie `name`.
pub fn set_cookie(reply: &Reply, name: &str) -> Option<String> {
    reply
        .headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| {
            let (pair, _) = v.split_once(';').unwrap_or((v, ""));
            let (n, value) = pair.split_once('=')?;
            (n == name).then(|| value.to_owned())
        })
}

/// The body as text.
pub fn text(reply: &Reply) -> String {
    String::from_utf8_lossy(&reply.raw).into_owned()
}

/// A minimal valid record as JSON.
pub fn record(id: &str, date: &str, customer: &str) -> Value {
    serde_json::json!({
        "id": id,
        "customerId": format!("cust-{customer}"),
        "customerName": customer,
        "userPrincipalName": "agent@partner.example",
        "resourceType": "order",
        "operationType": "create_order",
        "operationStatus": "succeeded",
        "operationDate": date,
    })
}

/// URL-encodes a query value.
pub fn enc(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
