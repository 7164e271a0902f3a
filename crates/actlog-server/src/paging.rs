//! Continuation, as Partner Center's clients follow it.
//!
//! A page's `links` are relative to the API version, as Partner Center writes them: `self` is
//! `/auditrecords?<the request's query>`, and `next` is
//! `{"uri": "/auditrecords?<same query>&seekOperation=Next", "method": "GET", "headers":
//! [{"key": "MS-ContinuationToken", "value": TOKEN}]}`. Clients turn that into
//! `/v1/auditrecords?…` (the official SDK) or `/v1//auditrecords?…` (the community SDK, which
//! joins `"/v1/"` and the uri), both routed here, and send the token in the header; `seek=TOKEN`
//! in the query works as well.
//!
//! A token carries its whole query. Clients repeat `startDate`, `endDate` and `filter` beside
//! it, which is fine as long as they say what the token says: a repeated parameter that says
//! something else is refused rather than silently ignored.

use axum::http::HeaderMap;
use jiff::tz::TimeZone;
use serde_json::{Value, json};

use actlog_app::period;
use actlog_domain::cursor::CursorKey;
use actlog_domain::filter::Filter;
use actlog_domain::query::{PageRequest, Query};
use actlog_domain::time::OperationDate;

use crate::error::{ApiError, Code};
use crate::params::{self, Params, decode_name};

/// The header Partner Center clients send a continuation token in.
pub const CONTINUATION_HEADER: &str = "MS-ContinuationToken";

/// The path of the collection, relative to the API version.
const COLLECTION: &str = "/auditrecords";

/// The page a request asks for: a continuation (a token in the `MS-ContinuationToken` header
/// or in `seek`) carries its own query; otherwise the first page of the query in the
/// parameters.
pub fn page_request(
    params: &Params,
    headers: &HeaderMap,
    key: &CursorKey,
    partner: &str,
    now: OperationDate,
) -> Result<PageRequest, ApiError> {
    let Some(token) = token(params, headers)? else {
        return Ok(PageRequest {
            query: params::query(params, now)?,
            size: params::size(params)?,
            after: None,
            snapshot: None,
        });
    };
    let mut request = key.open(partner, &token)?;
    says_the_same(params, &request.query)?;
    if params.get("size").is_some() {
        request.size = params::size(params)?;
    }
    Ok(request)
}

/// The continuation token of a request, if it has one. `seek` holds a token, or `next`;
/// `seekOperation` may only be `Next`; either of those without a token is an error.
fn token(params: &Params, headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let header = match headers.get(CONTINUATION_HEADER) {
        Some(value) => Some(value.to_str().map_err(|_| {
            ApiError::new(
                Code::InvalidContinuationToken,
                "the continuation token is not text",
            )
        })?),
        None => None,
    };
    if let Some(operation) = params.get("seekOperation")
        && !operation.trim().eq_ignore_ascii_case("next")
    {
        return Err(ApiError::new(
            Code::InvalidParameter,
            format!(
                "seekOperation `{operation}` is not supported: pages run from newest to oldest, so only Next is"
            ),
        ));
    }
    let seek = params.get("seek");
    let said_next = seek.is_some_and(|s| s.eq_ignore_ascii_case("next"));
    let in_query = seek.filter(|_| !said_next);
    match (in_query, header) {
        (Some(query), Some(header)) if query != header => Err(ApiError::new(
            Code::InvalidContinuationToken,
            format!("seek and the {CONTINUATION_HEADER} header hold different tokens; send one"),
        )),
        (Some(token), _) | (None, Some(token)) => Ok(Some(token.to_owned())),
        (None, None) if said_next || params.get("seekOperation").is_some() => Err(ApiError::new(
            Code::InvalidContinuationToken,
            format!(
                "the next page needs its continuation token, in the {CONTINUATION_HEADER} header (as links.next.headers gives it) or as seek=TOKEN"
            ),
        )),
        (None, None) => Ok(None),
    }
}

/// Refuses `startDate`, `endDate` or `filter` repeated beside a token when they say something
/// other than the query the token continues.
fn says_the_same(params: &Params, query: &Query) -> Result<(), ApiError> {
    let stated = period::stated(params::period_text(params), &TimeZone::UTC)?;
    let differs = |name: &str, said: String, carried: String| {
        ApiError::new(
            Code::InvalidParameter,
            format!(
                "{name} says {said}, but the continuation token continues a query with {carried}; \
                 repeat the first page's startDate, endDate and filter unchanged, or leave them out"
            ),
        )
    };
    let window = query.window;
    if let Some(start) = stated.start
        && start != window.start
    {
        return Err(differs(
            "startDate",
            start.to_string(),
            window.start.to_string(),
        ));
    }
    if let Some(end) = stated.end
        && Some(end) != window.end
    {
        let carried = window
            .end
            .map_or_else(|| "no end".to_owned(), |e| e.to_string());
        return Err(differs("endDate", end.to_string(), carried));
    }
    if let Some(filter) = &stated.filter
        && Some(filter) != query.filter.as_ref()
    {
        let carried = query
            .filter
            .as_ref()
            .map_or_else(|| "no filter".to_owned(), Filter::to_json);
        return Err(differs("filter", filter.to_json(), carried));
    }
    Ok(())
}

/// The largest row number a page may start at: far beyond any partner's log, and far enough
/// from `u64::MAX` that adding a page's rows to it cannot wrap around.
pub const MAX_ROW_NUMBER: u64 = 1_000_000_000_000;

/// Reads a page's first row number (the dashboard's `first`): a whole number from 1 to
/// [`MAX_ROW_NUMBER`].
pub fn row_number(text: &str) -> Result<u64, ApiError> {
    let digits = !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit());
    match text.parse::<u64>() {
        Ok(n) if digits && (1..=MAX_ROW_NUMBER).contains(&n) => Ok(n),
        _ => Err(ApiError::new(
            Code::InvalidParameter,
            format!("first must be a whole number from 1 to {MAX_ROW_NUMBER}, not `{text}`"),
        )),
    }
}

/// A page's `links`: `self` (the request's own query) and, when a `token` continues it,
/// `next` (the same query with `seekOperation=Next`, the token in its headers).
pub fn links(raw_query: Option<&str>, token: Option<&str>) -> Value {
    let raw = raw_query.unwrap_or("");
    let this = if raw.is_empty() {
        COLLECTION.to_owned()
    } else {
        format!("{COLLECTION}?{raw}")
    };
    let mut links = json!({ "self": link(&this, None) });
    if let Some(token) = token {
        let mut pairs: Vec<&str> = raw
            .split('&')
            .filter(|pair| !pair.is_empty() && !is_seek(pair))
            .collect();
        pairs.push("seekOperation=Next");
        let next = format!("{COLLECTION}?{}", pairs.join("&"));
        links["next"] = link(&next, Some(token));
    }
    links
}

/// Whether a raw `name=value` pair is `seek` or `seekOperation`, which `next` replaces.
fn is_seek(pair: &str) -> bool {
    let name = pair.split('=').next().unwrap_or("");
    decode_name(name).is_ok_and(|name| {
        name.eq_ignore_ascii_case("seek") || name.eq_ignore_ascii_case("seekOperation")
    })
}

fn link(uri: &str, token: Option<&str>) -> Value {
    let headers = match token {
        Some(token) => json!([{ "key": CONTINUATION_HEADER, "value": token }]),
        None => json!([]),
    };
    json!({ "uri": uri, "method": "GET", "headers": headers })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_row_number_that_would_wrap_around_is_refused() {
        assert_eq!(row_number("51").unwrap(), 51);
        assert_eq!(
            row_number(&MAX_ROW_NUMBER.to_string()).unwrap(),
            MAX_ROW_NUMBER
        );
        for bad in [
            "18446744073709551615",
            "1000000000001",
            "0",
            "",
            "+5",
            "-1",
            " 5",
            "1e3",
        ] {
            let err = row_number(bad).unwrap_err();
            assert_eq!(err.code, Code::InvalidParameter, "{bad}");
        }
    }

    #[test]
    fn next_repeats_the_query_without_its_seek_and_adds_seek_operation() {
        let links = links(
            Some("startDate=6/1/2017%2012:00:00%20AM&size=2&seek=old&SeekOperation=next"),
            Some("tok.en"),
        );
        assert_eq!(
            links["self"]["uri"],
            "/auditrecords?startDate=6/1/2017%2012:00:00%20AM&size=2&seek=old&SeekOperation=next"
        );
        assert_eq!(
            links["next"],
            json!({
                "uri": "/auditrecords?startDate=6/1/2017%2012:00:00%20AM&size=2&seekOperation=Next",
                "method": "GET",
                "headers": [{ "key": "MS-ContinuationToken", "value": "tok.en" }],
            })
        );
        let bare = super::links(None, Some("t"));
        assert_eq!(bare["self"]["uri"], "/auditrecords");
        assert_eq!(bare["next"]["uri"], "/auditrecords?seekOperation=Next");
        assert!(super::links(None, None).get("next").is_none());
    }
}
