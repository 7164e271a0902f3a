//! The query string of `GET /v1/auditrecords` (and of exports), Partner Center's way.

use axum::extract::{FromRequestParts, Query};
use axum::http::HeaderMap;
use axum::http::request::Parts;

use actlog_app::period::{self, PeriodText};
use actlog_domain::cursor::CursorKey;
use actlog_domain::query::{self, PageRequest};
use actlog_domain::time::OperationDate;
use jiff::tz::TimeZone;

use crate::error::{ApiError, Code};

/// The header Partner Center clients send a continuation token in.
pub const CONTINUATION_HEADER: &str = "MS-ContinuationToken";

/// Query-string pairs, in order, with our error format on a malformed string.
#[derive(Debug)]
pub struct Params(pub Vec<(String, String)>);

impl<S: Send + Sync> FromRequestParts<S> for Params {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let Query(pairs) = Query::<Vec<(String, String)>>::from_request_parts(parts, state)
            .await
            .map_err(|e| {
                ApiError::new(
                    Code::InvalidParameter,
                    format!("the query string cannot be read: {e}"),
                )
            })?;
        Ok(Params(pairs))
    }
}

impl Params {
    /// Refuses parameters outside `known` (names compare without case) and repeated ones, so a
    /// typo is an error rather than a silently ignored wish.
    pub fn check(&self, known: &[&str]) -> Result<(), ApiError> {
        for (i, (name, _)) in self.0.iter().enumerate() {
            if !known.iter().any(|k| k.eq_ignore_ascii_case(name)) {
                return Err(ApiError::new(
                    Code::InvalidParameter,
                    format!("unknown parameter `{name}`; known: {}", known.join(", ")),
                ));
            }
            if self.0[..i]
                .iter()
                .any(|(n, _)| n.eq_ignore_ascii_case(name))
            {
                return Err(ApiError::new(
                    Code::InvalidParameter,
                    format!("`{name}` is given twice"),
                ));
            }
        }
        Ok(())
    }

    /// A parameter's value (name compared without case).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// The parameters of the query endpoint.
pub const QUERY_PARAMS: [&str; 5] = ["startDate", "endDate", "filter", "size", "seek"];

/// Reads the window and filter (`startDate`, `endDate`, `filter`): a missing start means 30 days
/// before the end (or before now); a bare end day includes that whole day. Bare days are UTC
/// days, as in Partner Center.
pub fn query(params: &Params, now: OperationDate) -> Result<query::Query, ApiError> {
    query_in(params, now, &TimeZone::UTC)
}

/// [`query`] with bare days read as days in `zone` (exports read them in the export's zone,
/// so that the file's period and name are the days asked for).
pub fn query_in(
    params: &Params,
    now: OperationDate,
    zone: &TimeZone,
) -> Result<query::Query, ApiError> {
    let text = PeriodText {
        start: params.get("startDate"),
        end: params.get("endDate"),
        filter: params.get("filter"),
    };
    Ok(period::query(text, now, zone)?)
}

/// Reads `size`: 1 to [`query::MAX_PAGE_SIZE`], default [`query::DEFAULT_PAGE_SIZE`].
pub fn size(params: &Params) -> Result<usize, ApiError> {
    let Some(text) = params.get("size") else {
        return Ok(query::DEFAULT_PAGE_SIZE);
    };
    match text.trim().parse::<usize>() {
        Ok(n) if (1..=query::MAX_PAGE_SIZE).contains(&n) => Ok(n),
        _ => Err(ApiError::new(
            Code::InvalidParameter,
            format!(
                "size must be a whole number from 1 to {}, not `{text}`",
                query::MAX_PAGE_SIZE
            ),
        )),
    }
}

/// The page a request asks for: a continuation (the `seek` parameter, or `seek=next` /
/// no `seek` with the `MS-ContinuationToken` header) carries its own query; otherwise the
/// first page of the query in the parameters.
pub fn page_request(
    params: &Params,
    headers: &HeaderMap,
    key: &CursorKey,
    partner: &str,
    now: OperationDate,
) -> Result<PageRequest, ApiError> {
    let header = headers.get(CONTINUATION_HEADER).map(|v| {
        v.to_str().map_err(|_| {
            ApiError::new(
                Code::InvalidContinuationToken,
                "the continuation token is not text",
            )
        })
    });
    let token = match (params.get("seek"), header) {
        (Some(seek), Some(header)) if seek.eq_ignore_ascii_case("next") => Some(header?.to_owned()),
        (Some(seek), _) if seek.eq_ignore_ascii_case("next") => {
            return Err(ApiError::new(
                Code::InvalidContinuationToken,
                format!("seek=next needs the token in the {CONTINUATION_HEADER} header"),
            ));
        }
        (Some(seek), _) => Some(seek.to_owned()),
        (None, Some(header)) => Some(header?.to_owned()),
        (None, None) => None,
    };
    if let Some(token) = token {
        let mut request = key.open(partner, &token)?;
        if params.get("size").is_some() {
            request.size = size(params)?;
        }
        return Ok(request);
    }
    Ok(PageRequest {
        query: query(params, now)?,
        size: size(params)?,
        after: None,
        snapshot: None,
    })
}
