//! A real server over a real SQLite file, driven without a socket.

#![allow(dead_code)]

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

use actlog_domain::time::OperationDate;
use actlog_server::{AppState, Clock, Limits};
use actlog_sqlite::{SqliteOptions, SqliteStore};
use actlog_store::{Scopes, Store};

/// A clock stopped at one instant.
#[derive(Debug)]
pub struct FixedClock(pub OperationDate);

impl Clock for FixedClock {
    fn now(&self) -> OperationDate {
        self.0
    }
}

pub struct TestApp {
    pub app: Router,
    pub store: Arc<dyn Store>,
    _dir: tempfile::TempDir,
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
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("actlog.db");
        let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&path, SqliteOptions::default()).unwrap());
        let clock = Arc::new(FixedClock(OperationDate::parse_rfc3339(now).unwrap()));
        let state = AppState::new(store.clone(), clock, limits).await.unwrap();
        TestApp { app: actlog_server::app(state), store, _dir: dir }
    }

    /// A new key for `partner` with `scopes` ("read", "write", "read,write").
    pub async fn key(&self, partner: &str, scopes: &str) -> String {
        let scopes: Scopes = actlog_server::keys::parse_scopes(scopes).unwrap();
        actlog_server::keys::create(self.store.as_ref(), partner, scopes, "test").await.unwrap().1
    }

    pub async fn request(&self, method: Method, uri: &str, key: Option<&str>, headers: &[(&str, &str)], body: impl Into<Body>) -> Reply {
        let mut request = Request::builder().method(method).uri(uri);
        if let Some(key) = key {
            request = request.header("authorization", format!("Bearer {key}"));
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = self.app.clone().oneshot(request.body(body.into()).unwrap()).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let raw = response.into_body().collect().await.unwrap().to_bytes().to_vec();
        let body = serde_json::from_slice(&raw).unwrap_or(Value::Null);
        Reply { status, headers, body, raw }
    }

    pub async fn get(&self, uri: &str, key: &str) -> Reply {
        self.request(Method::GET, uri, Some(key), &[], Body::empty()).await
    }

    pub async fn post(&self, key: &str, body: impl Into<Body>) -> Reply {
        self.request(Method::POST, "/v1/auditrecords", Some(key), &[], body).await
    }
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
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}
