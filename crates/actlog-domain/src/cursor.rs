//! Continuation tokens: opaque, self-contained, signed.
//!
//! A token carries the whole query it continues (window, filter, page size), the position
//! reached and the walk's snapshot, so that `?seek=TOKEN` alone fetches the next page. It names
//! the partner it was issued to and is signed with the deployment's key: a token altered by
//! hand, issued by another deployment or presented by another partner is refused.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::filter::Filter;
use crate::query::{PageRequest, Position, Query, Window};
use crate::time::OperationDate;

/// Bytes of the HMAC-SHA256 tag kept in a token.
const TAG_BYTES: usize = 16;

/// The key continuation tokens are signed with.
#[derive(Clone)]
pub struct CursorKey(Vec<u8>);

impl std::fmt::Debug for CursorKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CursorKey(<redacted>)")
    }
}

/// Why a token was refused. Deliberately one answer for every cause, so that a token tells an
/// outsider nothing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the continuation token is not valid for these credentials; start the query again")]
pub struct InvalidToken;

#[derive(Serialize, Deserialize)]
struct Payload {
    /// Partner the token was issued to.
    p: String,
    /// Window start and end, in ticks.
    s: i64,
    e: Option<i64>,
    /// Filter in canonical JSON.
    f: Option<String>,
    /// Page size.
    n: usize,
    /// Position reached: date ticks and sequence.
    d: i64,
    q: i64,
    /// Snapshot sequence.
    h: i64,
}

impl CursorKey {
    pub fn new(secret: impl Into<Vec<u8>>) -> Self {
        CursorKey(secret.into())
    }

    fn mac(&self, payload: &[u8]) -> Hmac<Sha256> {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes any key length");
        mac.update(payload);
        mac
    }

    /// A token continuing `request` after `after`, for `partner`.
    pub fn issue(
        &self,
        partner: &str,
        request: &PageRequest,
        after: Position,
        snapshot: i64,
    ) -> String {
        let payload = Payload {
            p: partner.to_owned(),
            s: request.query.window.start.ticks(),
            e: request.query.window.end.map(OperationDate::ticks),
            f: request.query.filter.as_ref().map(Filter::to_json),
            n: request.size,
            d: after.date.ticks(),
            q: after.seq,
            h: snapshot,
        };
        let json = serde_json::to_vec(&payload).expect("payloads always serialize");
        let tag = self.mac(&json).finalize().into_bytes();
        format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(&json),
            URL_SAFE_NO_PAD.encode(&tag[..TAG_BYTES])
        )
    }

    /// The next page a token asks for, if the token is genuine and was issued to `partner`.
    pub fn open(&self, partner: &str, token: &str) -> Result<PageRequest, InvalidToken> {
        let (body, tag) = token.trim().split_once('.').ok_or(InvalidToken)?;
        let json = URL_SAFE_NO_PAD.decode(body).map_err(|_| InvalidToken)?;
        let tag = URL_SAFE_NO_PAD.decode(tag).map_err(|_| InvalidToken)?;
        if tag.len() != TAG_BYTES {
            return Err(InvalidToken);
        }
        self.mac(&json)
            .verify_truncated_left(&tag)
            .map_err(|_| InvalidToken)?;
        let payload: Payload = serde_json::from_slice(&json).map_err(|_| InvalidToken)?;
        if payload.p != partner {
            return Err(InvalidToken);
        }
        let filter = payload
            .f
            .as_deref()
            .map(Filter::parse)
            .transpose()
            .map_err(|_| InvalidToken)?;
        let window = Window {
            start: OperationDate::from_ticks(payload.s),
            end: payload.e.map(OperationDate::from_ticks),
        };
        Ok(PageRequest {
            query: Query { window, filter },
            size: payload.n,
            after: Some(Position {
                date: OperationDate::from_ticks(payload.d),
                seq: payload.q,
            }),
            snapshot: Some(payload.h),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request() -> PageRequest {
        let filter =
            Filter::parse(r#"{"Field":"CompanyName","Value":"Caffè","Operator":"substring"}"#)
                .unwrap();
        PageRequest {
            query: Query {
                window: Window {
                    start: OperationDate::from_ticks(5),
                    end: Some(OperationDate::from_ticks(9)),
                },
                filter: Some(filter),
            },
            size: 50,
            after: None,
            snapshot: None,
        }
    }

    #[test]
    fn a_token_continues_the_same_query() {
        let key = CursorKey::new(*b"0123456789abcdef0123456789abcdef");
        let at = Position {
            date: OperationDate::from_ticks(7),
            seq: 42,
        };
        let token = key.issue("p1", &request(), at, 99);
        let next = key.open("p1", &token).unwrap();
        assert_eq!(next.query, request().query);
        assert_eq!(
            (next.size, next.after, next.snapshot),
            (50, Some(at), Some(99))
        );
    }

    #[test]
    fn foreign_forged_and_garbled_tokens_are_refused() {
        let key = CursorKey::new(*b"0123456789abcdef0123456789abcdef");
        let at = Position {
            date: OperationDate::from_ticks(7),
            seq: 42,
        };
        let token = key.issue("p1", &request(), at, 99);
        assert_eq!(key.open("p2", &token), Err(InvalidToken));
        let other = CursorKey::new(*b"another deployment's key 32bytes");
        assert_eq!(other.open("p1", &token), Err(InvalidToken));
        let (body, tag) = token.split_once('.').unwrap();
        let mut json = URL_SAFE_NO_PAD.decode(body).unwrap();
        let forged = String::from_utf8(json.clone())
            .unwrap()
            .replace("\"q\":42", "\"q\":43");
        json = forged.into_bytes();
        let tampered = format!("{}.{tag}", URL_SAFE_NO_PAD.encode(&json));
        assert_eq!(key.open("p1", &tampered), Err(InvalidToken));
        for garbage in ["", ".", "abc", "abc.def", "%%%.%%%", &token[1..]] {
            assert_eq!(key.open("p1", garbage), Err(InvalidToken), "{garbage:?}");
        }
    }
}
