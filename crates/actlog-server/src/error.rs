//! One error type for every route: an RFC 9457 problem document with a stable `code`.
//!
//! Handlers return `Result<_, ApiError>` and use `?`. The codes are a public contract (clients
//! branch on them), listed once in [`Code`]. Server-side failures are logged with the request
//! id and answered without their details.
//!
//! The document also carries Partner Center's own error members, `description` (the same
//! message as `detail`) and `data` (`[]`): a Partner Center SDK's `ApiFault` reads those, and
//! shows its user nothing without them.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use actlog_app::period::PeriodError;
use actlog_domain::cursor::InvalidToken;
use actlog_domain::filter::FilterError;
use actlog_domain::ingest::BatchError;
use actlog_store::{AppendError, StoreError};

/// The stable error codes, with their HTTP status and a title.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    Unauthenticated,
    Forbidden,
    NotFound,
    MethodNotAllowed,
    InvalidJson,
    InvalidRecord,
    EmptyBatch,
    BodyNotUtf8,
    BodyNotDecodable,
    BodyTooDeep,
    BatchTooLarge,
    BodyTooLarge,
    BodyTimeout,
    UnsupportedMediaType,
    InvalidDate,
    InvalidPeriod,
    InvalidFilter,
    InvalidParameter,
    InvalidContinuationToken,
    IdConflict,
    Overloaded,
    ShareUsed,
    QueryTimeout,
    StoreUnavailable,
    Internal,
}

impl Code {
    pub fn as_str(self) -> &'static str {
        match self {
            Code::Unauthenticated => "unauthenticated",
            Code::Forbidden => "forbidden",
            Code::NotFound => "not_found",
            Code::MethodNotAllowed => "method_not_allowed",
            Code::InvalidJson => "invalid_json",
            Code::InvalidRecord => "invalid_record",
            Code::EmptyBatch => "empty_batch",
            Code::BodyNotUtf8 => "body_not_utf8",
            Code::BodyNotDecodable => "body_not_decodable",
            Code::BodyTooDeep => "body_too_deep",
            Code::BatchTooLarge => "batch_too_large",
            Code::BodyTooLarge => "body_too_large",
            Code::BodyTimeout => "body_timeout",
            Code::UnsupportedMediaType => "unsupported_media_type",
            Code::InvalidDate => "invalid_date",
            Code::InvalidPeriod => "invalid_period",
            Code::InvalidFilter => "invalid_filter",
            Code::InvalidParameter => "invalid_parameter",
            Code::InvalidContinuationToken => "invalid_continuation_token",
            Code::IdConflict => "id_conflict",
            Code::Overloaded => "overloaded",
            Code::ShareUsed => "share_used",
            Code::QueryTimeout => "query_timeout",
            Code::StoreUnavailable => "store_unavailable",
            Code::Internal => "internal",
        }
    }

    pub fn status(self) -> StatusCode {
        match self {
            Code::Unauthenticated => StatusCode::UNAUTHORIZED,
            Code::Forbidden => StatusCode::FORBIDDEN,
            Code::NotFound => StatusCode::NOT_FOUND,
            Code::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Code::InvalidJson
            | Code::InvalidRecord
            | Code::EmptyBatch
            | Code::BodyNotUtf8
            | Code::BodyNotDecodable
            | Code::BodyTooDeep
            | Code::InvalidDate
            | Code::InvalidPeriod
            | Code::InvalidFilter
            | Code::InvalidParameter
            | Code::InvalidContinuationToken => StatusCode::BAD_REQUEST,
            Code::BatchTooLarge | Code::BodyTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Code::BodyTimeout => StatusCode::REQUEST_TIMEOUT,
            Code::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Code::IdConflict => StatusCode::CONFLICT,
            Code::ShareUsed => StatusCode::TOO_MANY_REQUESTS,
            Code::Overloaded | Code::QueryTimeout | Code::StoreUnavailable => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            Code::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn title(self) -> &'static str {
        match self {
            Code::Unauthenticated => "Authentication required",
            Code::Forbidden => "Not allowed",
            Code::NotFound => "Not found",
            Code::MethodNotAllowed => "Method not allowed",
            Code::InvalidJson => "The body is not valid JSON",
            Code::InvalidRecord => "Invalid records",
            Code::EmptyBatch => "No records",
            Code::BodyNotUtf8 => "The body is not UTF-8",
            Code::BodyNotDecodable => "The body is not in its Content-Encoding",
            Code::BodyTooDeep => "The body is nested too deeply",
            Code::BatchTooLarge => "Too many records in one request",
            Code::BodyTooLarge => "The body is too large",
            Code::BodyTimeout => "The body arrived too slowly",
            Code::UnsupportedMediaType => "Unsupported media type",
            Code::InvalidDate => "Invalid date",
            Code::InvalidPeriod => "Invalid period",
            Code::InvalidFilter => "Invalid filter",
            Code::InvalidParameter => "Invalid parameter",
            Code::InvalidContinuationToken => "Invalid continuation token",
            Code::IdConflict => "Record ids already used",
            Code::Overloaded => "Too busy",
            Code::ShareUsed => "This partner's share of the server is in use",
            Code::QueryTimeout => "The query took too long",
            Code::StoreUnavailable => "Storage unavailable",
            Code::Internal => "Internal error",
        }
    }
}

/// An error answered as a problem document.
#[derive(Debug)]
pub struct ApiError {
    pub code: Code,
    /// What happened and what to do, for a person.
    pub detail: String,
    /// Extra members of the problem document (e.g. `errors`, `ids`).
    pub extra: Option<Value>,
    /// Seconds after which a retry may succeed (sent as `Retry-After`; a 429 or 503 without
    /// one gets [`crate::DEFAULT_RETRY_AFTER`]).
    pub retry_after: Option<u32>,
}

impl ApiError {
    pub fn new(code: Code, detail: impl Into<String>) -> Self {
        ApiError {
            code,
            detail: detail.into(),
            extra: None,
            retry_after: None,
        }
    }

    pub fn with(mut self, extra: Value) -> Self {
        self.extra = Some(extra);
        self
    }

    pub fn unauthenticated() -> Self {
        Self::new(
            Code::Unauthenticated,
            "send an API key as `Authorization: Bearer <key>` (create one with `actlog apikey create`)",
        )
    }

    pub fn forbidden(what: &str) -> Self {
        Self::new(Code::Forbidden, format!("these credentials may not {what}"))
    }

    pub fn not_found(what: &str) -> Self {
        Self::new(Code::NotFound, format!("{what} does not exist"))
    }

    pub fn overloaded() -> Self {
        ApiError {
            retry_after: Some(1),
            ..Self::new(
                Code::Overloaded,
                "the server is handling as much as it can; retry after a second",
            )
        }
    }

    /// A query stopped at the statement time limit (`limit`, when the server knows it).
    pub fn query_timeout(limit: std::time::Duration) -> Self {
        ApiError {
            retry_after: Some(5),
            ..Self::new(
                Code::QueryTimeout,
                format!(
                    "the query ran longer than the server's limit of {} ms and was stopped; narrow the period or the filter",
                    limit.as_millis()
                ),
            )
        }
    }

    /// A failure on our side: logged in full, answered without details.
    pub fn internal(context: &str, err: impl std::fmt::Display) -> Self {
        tracing::error!(%err, "{context}");
        Self::new(
            Code::Internal,
            "the server failed; the failure is logged with this request's id",
        )
    }
}

impl ApiError {
    /// The problem document (RFC 9457) this error is answered with, with Partner Center's
    /// `code`, `description` and `data` beside the standard members.
    pub fn problem(&self) -> Value {
        let mut body = json!({
            "type": format!("urn:actlog:problem:{}", self.code.as_str()),
            "title": self.code.title(),
            "status": self.code.status().as_u16(),
            "code": self.code.as_str(),
            "detail": self.detail,
            "description": self.detail,
            "data": [],
        });
        if let (Some(Value::Object(extra)), Value::Object(map)) = (&self.extra, &mut body) {
            map.extend(extra.clone());
        }
        body
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.code.status();
        let body = self.problem();
        let mut response = (status, Json(body)).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if let Some(seconds) = self.retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        if self.code == Code::Unauthenticated {
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::Busy => ApiError::overloaded(),
            StoreError::Database(message) => {
                tracing::error!(%message, "store failure");
                ApiError {
                    retry_after: Some(5),
                    ..ApiError::new(
                        Code::StoreUnavailable,
                        "the database failed; nothing was changed, retry later",
                    )
                }
            }
        }
    }
}

impl From<AppendError> for ApiError {
    fn from(err: AppendError) -> Self {
        match err {
            AppendError::Conflict(ids) => ApiError::new(
                Code::IdConflict,
                format!(
                    "{} id(s) are already used by records with different content; nothing of this batch was stored",
                    ids.len()
                ),
            )
            .with(json!({ "ids": ids })),
            AppendError::Store(err) => err.into(),
        }
    }
}

impl From<BatchError> for ApiError {
    fn from(err: BatchError) -> Self {
        let detail = err.to_string();
        match err {
            BatchError::Empty => ApiError::new(Code::EmptyBatch, detail),
            BatchError::TooMany { max } => {
                ApiError::new(Code::BatchTooLarge, detail).with(json!({ "maxRecords": max }))
            }
            BatchError::NotUtf8 { offset } => {
                ApiError::new(Code::BodyNotUtf8, detail).with(json!({ "offset": offset }))
            }
            BatchError::TooDeep { .. } => ApiError::new(Code::BodyTooDeep, detail),
            BatchError::Invalid(problems) => {
                let syntax = problems
                    .iter()
                    .any(|p| p.message.starts_with("not valid JSON"));
                let code = if syntax {
                    Code::InvalidJson
                } else {
                    Code::InvalidRecord
                };
                let errors: Vec<Value> = problems
                    .iter()
                    .map(|p| json!({ "index": p.index, "line": p.line, "message": p.message }))
                    .collect();
                let first = problems
                    .first()
                    .map(ToString::to_string)
                    .unwrap_or_default();
                ApiError::new(code, format!("{detail}. First: {first}"))
                    .with(json!({ "errors": errors }))
            }
        }
    }
}

impl From<PeriodError> for ApiError {
    fn from(err: PeriodError) -> Self {
        match err {
            PeriodError::Date { .. } => ApiError::new(Code::InvalidDate, err.to_string()),
            PeriodError::Empty { .. } => ApiError::new(Code::InvalidPeriod, err.to_string()),
            PeriodError::Filter(err) => err.into(),
        }
    }
}

impl From<FilterError> for ApiError {
    fn from(err: FilterError) -> Self {
        ApiError::new(Code::InvalidFilter, err.to_string())
    }
}

impl From<InvalidToken> for ApiError {
    fn from(err: InvalidToken) -> Self {
        ApiError::new(Code::InvalidContinuationToken, err.to_string())
    }
}
