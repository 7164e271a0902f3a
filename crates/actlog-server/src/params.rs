//! The query string of `GET /v1/auditrecords` (and of exports and pages), read the way
//! Partner Center's clients write it.
//!
//! Clients escape values to different degrees: form encoders escape everything and write a
//! space as `+`; the official .NET SDK leaves values as `System.Uri` leaves them (spaces,
//! quotes and braces escaped, `:`, `,` and `+` raw), so there a `+` is a plus. A value that
//! holds a character a form encoder would have escaped (`{"Field":"CompanyName",…}`,
//! `2017-06-01T10:00:00+02:00`) was not form-encoded, and its `+` is read as a plus; any other
//! `+` is a space. Where that reading leaves a date or filter that does not parse, the other
//! reading is tried ([`Params::get_valid`]).

use axum::extract::FromRequestParts;
use axum::http::request::Parts;

use actlog_app::period::{self, PeriodText};
use actlog_domain::filter::Filter;
use actlog_domain::query::{self, Query};
use actlog_domain::time::{OperationDate, QueryDate};
use jiff::tz::TimeZone;

use crate::error::{ApiError, Code};

/// One `name=value` pair of the query string, decoded.
#[derive(Debug)]
struct Pair {
    name: String,
    value: String,
    /// The value with its `+` read the other way (space ↔ plus), when it holds one.
    other: Option<String>,
}

/// Query-string pairs, in order, with our error format on a malformed string.
#[derive(Debug, Default)]
pub struct Params(Vec<Pair>);

impl<S: Send + Sync> FromRequestParts<S> for Params {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        Params::parse(parts.uri.query().unwrap_or(""))
    }
}

impl Params {
    /// Decodes a raw query string (without the `?`).
    pub fn parse(raw: &str) -> Result<Params, ApiError> {
        let mut pairs = Vec::new();
        for piece in raw.split('&').filter(|p| !p.is_empty()) {
            let (name, value) = piece.split_once('=').unwrap_or((piece, ""));
            let name = decode_name(name)?;
            let plus_is_space = form_encoded(value);
            let decoded = |plus_is_space| {
                percent_decode(value, plus_is_space).ok_or_else(|| {
                    ApiError::new(
                        Code::InvalidParameter,
                        format!("`{name}` is not UTF-8 once its %-escapes are decoded"),
                    )
                })
            };
            let other = if value.contains('+') {
                Some(decoded(!plus_is_space)?)
            } else {
                None
            };
            let value = decoded(plus_is_space)?;
            pairs.push(Pair { name, value, other });
        }
        Ok(Params(pairs))
    }

    /// Refuses parameters outside `known` (names compare without case) and repeated ones, so a
    /// typo is an error rather than a silently ignored wish.
    pub fn check(&self, known: &[&str]) -> Result<(), ApiError> {
        for (i, pair) in self.0.iter().enumerate() {
            let name = &pair.name;
            if !known.iter().any(|k| k.eq_ignore_ascii_case(name)) {
                return Err(ApiError::new(
                    Code::InvalidParameter,
                    format!("unknown parameter `{name}`; known: {}", known.join(", ")),
                ));
            }
            if self.0[..i]
                .iter()
                .any(|p| p.name.eq_ignore_ascii_case(name))
            {
                return Err(ApiError::new(
                    Code::InvalidParameter,
                    format!("`{name}` is given twice"),
                ));
            }
        }
        Ok(())
    }

    fn pair(&self, name: &str) -> Option<&Pair> {
        self.0.iter().find(|p| p.name.eq_ignore_ascii_case(name))
    }

    /// A parameter's value (name compared without case).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.pair(name).map(|p| p.value.as_str())
    }

    /// A parameter's value, or its other reading of `+` when only that one is `valid`.
    pub fn get_valid(&self, name: &str, valid: impl Fn(&str) -> bool) -> Option<&str> {
        let pair = self.pair(name)?;
        match &pair.other {
            Some(other) if !valid(&pair.value) && valid(other) => Some(other),
            _ => Some(&pair.value),
        }
    }
}

/// A parameter name, decoded as a form encoder writes it.
pub(crate) fn decode_name(raw: &str) -> Result<String, ApiError> {
    percent_decode(raw, true).ok_or_else(|| {
        ApiError::new(
            Code::InvalidParameter,
            "a parameter name is not UTF-8 once its %-escapes are decoded",
        )
    })
}

/// Whether `raw` can be the output of a form encoder (WHATWG, .NET's `WebUtility.UrlEncode`,
/// Python's `quote_plus`, Go's `QueryEscape`, Java's `URLEncoder`): only letters, digits,
/// `*-._~!'()`, `+` and %-escapes.
fn form_encoded(raw: &str) -> bool {
    raw.bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"*-._~!'()+%".contains(&b))
}

/// `raw` with its %-escapes decoded (a `%` not followed by two hex digits stays as it is), and
/// `+` read as a space when `plus_is_space`; `None` when the result is not UTF-8.
fn percent_decode(raw: &str, plus_is_space: bool) -> Option<String> {
    let bytes = raw.as_bytes();
    let hex = |b: u8| char::from(b).to_digit(16).map(|d| d as u8);
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escaped = match bytes.get(i + 1..i + 3) {
            Some(&[high, low]) if bytes[i] == b'%' => hex(high).zip(hex(low)),
            _ => None,
        };
        match (bytes[i], escaped) {
            (_, Some((high, low))) => {
                out.push(high << 4 | low);
                i += 2;
            }
            (b'+', None) if plus_is_space => out.push(b' '),
            (b, None) => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).ok()
}

/// The parameters of the query endpoint.
pub const QUERY_PARAMS: [&str; 6] = [
    "startDate",
    "endDate",
    "filter",
    "size",
    "seek",
    "seekOperation",
];

/// The period and filter as given, each date and the filter in the reading of `+` that parses.
pub fn period_text(params: &Params) -> PeriodText<'_> {
    let date = |t: &str| QueryDate::parse_clamped(t).is_ok();
    PeriodText {
        start: params.get_valid("startDate", date),
        end: params.get_valid("endDate", date),
        filter: params.get_valid("filter", |t| Filter::parse(t).is_ok()),
    }
}

/// The window and filter of `GET /v1/auditrecords`, as Partner Center computes them: see
/// [`period::partner_center`].
pub fn query(params: &Params, now: OperationDate) -> Result<Query, ApiError> {
    Ok(period::partner_center(period_text(params), now)?)
}

/// The window and filter of an export, with bare days read as days in `zone` (so that the
/// file's period and name are the days asked for): see [`period::query`].
pub fn query_in(params: &Params, now: OperationDate, zone: &TimeZone) -> Result<Query, ApiError> {
    Ok(period::query(period_text(params), now, zone)?)
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

#[cfg(test)]
mod tests {
    use super::*;

    fn value(raw: &str, name: &str) -> String {
        Params::parse(raw).unwrap().get(name).unwrap().to_owned()
    }

    #[test]
    fn a_plus_is_a_space_in_form_encoded_values_and_a_plus_in_raw_ones() {
        assert_eq!(value("q=Il+Moro", "q"), "Il Moro");
        assert_eq!(value("q=A%2BB+C", "q"), "A+B C");
        assert_eq!(
            value("filter=%7B%22Value%22:%22A+B%20C%22%7D", "filter"),
            r#"{"Value":"A+B C"}"#
        );
        assert_eq!(
            value("startDate=2017-06-01T10:00:00+02:00", "startDate"),
            "2017-06-01T10:00:00+02:00"
        );
        assert_eq!(
            value("startDate=6/1/2017%2012:00:00%20AM", "startDate"),
            "6/1/2017 12:00:00 AM"
        );
    }

    #[test]
    fn a_date_that_only_parses_the_other_way_is_read_the_other_way() {
        // Written by hand, `+` for spaces, `/` and `:` raw.
        let params = Params::parse("startDate=6/1/2017+12:00:00+AM").unwrap();
        let text = period_text(&params);
        assert_eq!(text.start, Some("6/1/2017 12:00:00 AM"));
    }

    #[test]
    fn malformed_escapes_stay_and_invalid_utf8_is_refused() {
        assert_eq!(value("q=100%&r=%zz%4", "q"), "100%");
        assert_eq!(value("q=100%&r=%zz%4", "r"), "%zz%4");
        assert_eq!(value("q=%C3%A0", "q"), "à");
        let err = Params::parse("q=%C3%28").unwrap_err();
        assert_eq!(err.code, Code::InvalidParameter);
        assert!(err.detail.contains("`q`"), "{}", err.detail);
        assert_eq!(value("flag&q=", "flag"), "");
    }
}
