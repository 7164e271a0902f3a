//! What a page of an audit-records API says: its records, kept as they came (unknown fields
//! included), and where the next page is — `links.next` (its `uri` relative to the API
//! version, its `headers` copied onto the request), else `continuationToken` in the
//! `MS-ContinuationToken` header with `seekOperation=Next`, as Partner Center's clients follow
//! them.

use actlog_domain::{AuditRecord, ingest};
use reqwest::Url;
use reqwest::header::{HeaderName, HeaderValue};
use serde::Deserialize;
use serde_json::value::RawValue;
use sha2::{Digest, Sha256};

use super::error::PullError;

/// The header a continuation token travels in.
const CONTINUATION: &str = "MS-ContinuationToken";

/// Marks a record without an id, which gets one derived from its content.
const PENDING_ID: &str = "\u{1}pending";

/// One GET: where, and the headers a `links.next` asked to be sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Request {
    pub(crate) url: Url,
    pub(crate) headers: Vec<(String, String)>,
}

/// A URL as errors show it: without its query (dates and tokens say nothing useful there).
pub(crate) fn shown(url: &Url) -> String {
    let mut url = url.clone();
    url.set_query(None);
    url.to_string()
}

/// The parts of a collection response the walk uses; everything else is ignored.
#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(borrow)]
    items: Option<Vec<&'a RawValue>>,
    #[serde(rename = "continuationToken")]
    continuation_token: Option<String>,
    links: Option<Links>,
}

#[derive(Deserialize)]
struct Links {
    next: Option<Link>,
}

#[derive(Deserialize)]
struct Link {
    uri: String,
    method: Option<String>,
    #[serde(default)]
    headers: Vec<LinkHeader>,
}

#[derive(Deserialize)]
struct LinkHeader {
    key: String,
    value: String,
}

/// One page, read.
pub(crate) struct Page<'a> {
    pub(crate) items: Vec<&'a RawValue>,
    token: Option<String>,
    link: Option<Link>,
}

impl<'a> Page<'a> {
    pub(crate) fn parse(body: &'a [u8], url: &str) -> Result<Page<'a>, PullError> {
        let malformed = |reason: String| PullError::Malformed {
            url: url.to_owned(),
            expected: "an audit-records page",
            reason,
        };
        let text = std::str::from_utf8(body).map_err(|e| malformed(e.to_string()))?;
        let envelope: Envelope<'a> =
            serde_json::from_str(text).map_err(|e| malformed(e.to_string()))?;
        let items = envelope
            .items
            .ok_or_else(|| malformed("it has no `items`".into()))?;
        Ok(Page {
            items,
            token: envelope.continuation_token.filter(|t| !t.is_empty()),
            link: envelope.links.and_then(|l| l.next),
        })
    }

    /// The request for the next page, if there is one: `links.next`, else the first request
    /// again with `seekOperation=Next` and the token in its header.
    pub(crate) fn next(self, source: &Url, first: &Request) -> Result<Option<Request>, PullError> {
        if let Some(link) = self.link {
            if link
                .method
                .as_deref()
                .is_some_and(|m| !m.eq_ignore_ascii_case("GET"))
            {
                return Err(PullError::Malformed {
                    url: shown(&first.url),
                    expected: "a GET link to the next page",
                    reason: format!("links.next.method is {:?}", link.method),
                });
            }
            let url = resolve_next(source, &link.uri)?;
            let headers = link
                .headers
                .into_iter()
                .filter(|h| copied(&h.key, &h.value))
                .map(|h| (h.key, h.value))
                .collect();
            return Ok(Some(Request { url, headers }));
        }
        Ok(self.token.map(|token| {
            let mut url = first.url.clone();
            url.query_pairs_mut().append_pair("seekOperation", "Next");
            Request {
                url,
                headers: vec![(CONTINUATION.to_owned(), token)],
            }
        }))
    }
}

/// Whether a `links.next` header is sent on: any valid one but the credentials and the host,
/// which stay ours.
fn copied(key: &str, value: &str) -> bool {
    let Ok(name) = HeaderName::from_bytes(key.as_bytes()) else {
        return false;
    };
    HeaderValue::from_str(value).is_ok()
        && name != reqwest::header::AUTHORIZATION
        && name != reqwest::header::HOST
}

/// Where `links.next.uri` points. Partner Center writes it relative to the API version
/// (`/auditrecords?…` under `/v1`), so it is resolved against the source's parent path; a uri
/// that already starts with that path, or an absolute URL, is taken as it is, but only on the
/// source's own origin (the bearer goes with it).
fn resolve_next(source: &Url, uri: &str) -> Result<Url, PullError> {
    let foreign = |url: &Url| PullError::Malformed {
        url: shown(source),
        expected: "a next link on the same server",
        reason: format!("links.next points at {}", shown(url)),
    };
    if let Ok(absolute) = Url::parse(uri) {
        if absolute.origin() != source.origin() {
            return Err(foreign(&absolute));
        }
        return Ok(absolute);
    }
    let root = source
        .path()
        .rsplit_once('/')
        .map_or("", |(parent, _)| parent);
    let path = if !root.is_empty() && uri.starts_with(&format!("{root}/")) {
        uri.to_owned()
    } else {
        format!("{root}/{}", uri.trim_start_matches('/'))
    };
    let url = source.join(&path).map_err(|e| PullError::Malformed {
        url: shown(source),
        expected: "a next link",
        reason: format!("links.next.uri `{uri}`: {e}"),
    })?;
    if url.origin() != source.origin() {
        return Err(foreign(&url));
    }
    Ok(url)
}

/// A page's records, for `partner`: kept as they came, unknown fields included.
pub(crate) fn records(
    items: &[&RawValue],
    partner: &str,
    url: &str,
) -> Result<Vec<AuditRecord>, PullError> {
    items
        .iter()
        .map(|item| {
            ingest::parse_record(item.get(), partner, &mut || PENDING_ID.to_owned())
                .map(with_content_id)
                .map_err(|reason| PullError::Record {
                    url: url.to_owned(),
                    reason: explain(item.get(), partner, reason),
                })
        })
        .collect()
}

/// A refusal, with what to do when the record is another partner's.
fn explain(json: &str, partner: &str, reason: String) -> String {
    #[derive(Deserialize)]
    struct Named {
        #[serde(rename = "partnerId")]
        partner_id: Option<String>,
        id: Option<String>,
    }
    let named: Option<Named> = serde_json::from_str(json).ok();
    let id = named
        .as_ref()
        .and_then(|n| n.id.as_deref())
        .map(|id| format!("record {id}: "))
        .unwrap_or_default();
    match named.and_then(|n| n.partner_id) {
        Some(other) if other != partner => format!(
            "{id}it belongs to partner `{other}`, not `{partner}`; pull it with --partner {other}"
        ),
        _ => format!("{id}{reason}"),
    }
}

/// A record without an id gets one from its content (`pull-` and 32 hex digits), so that
/// reading it again stores nothing twice.
fn with_content_id(mut record: AuditRecord) -> AuditRecord {
    if record.id == PENDING_ID {
        let json = serde_json::to_vec(&record).expect("records always serialize");
        let digest = Sha256::digest(&json);
        let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
        record.id = format!("pull-{hex}");
    }
    record
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(text: &str) -> Url {
        Url::parse(text).unwrap()
    }

    #[test]
    fn next_links_resolve_against_the_api_version() {
        let source = url("https://api.partnercenter.microsoft.com/v1/auditrecords");
        let at = |uri| resolve_next(&source, uri).unwrap().to_string();
        assert_eq!(
            at("/auditrecords?size=2&seekOperation=Next"),
            "https://api.partnercenter.microsoft.com/v1/auditrecords?size=2&seekOperation=Next"
        );
        assert_eq!(
            at("auditrecords?a=1"),
            "https://api.partnercenter.microsoft.com/v1/auditrecords?a=1"
        );
        assert_eq!(
            at("/v1/auditrecords?a=1"),
            "https://api.partnercenter.microsoft.com/v1/auditrecords?a=1"
        );
        let proxied = url("http://127.0.0.1:8080/actlog/v1/auditrecords");
        assert_eq!(
            resolve_next(&proxied, "/auditrecords?a=1")
                .unwrap()
                .to_string(),
            "http://127.0.0.1:8080/actlog/v1/auditrecords?a=1"
        );
        assert!(resolve_next(&source, "https://elsewhere.example/v1/auditrecords").is_err());
        let protocol_relative = resolve_next(&source, "//elsewhere.example/v1/auditrecords");
        assert_eq!(protocol_relative.unwrap().origin(), source.origin());
    }

    #[test]
    fn a_page_continues_by_link_else_by_token_else_ends() {
        let source = url("http://127.0.0.1:1/v1/auditrecords");
        let first = Request {
            url: url("http://127.0.0.1:1/v1/auditrecords?startDate=x&size=2"),
            headers: vec![],
        };
        let next = |body: &str| {
            Page::parse(body.as_bytes(), "u")
                .unwrap()
                .next(&source, &first)
                .unwrap()
        };
        let linked = next(
            r#"{"items":[],"continuationToken":"t1","links":{"next":{"uri":"/auditrecords?startDate=x&size=2&seekOperation=Next","method":"GET","headers":[{"key":"MS-ContinuationToken","value":"t2"},{"key":"Authorization","value":"Bearer other"}]}}}"#,
        )
        .unwrap();
        assert_eq!(
            linked.url.as_str(),
            "http://127.0.0.1:1/v1/auditrecords?startDate=x&size=2&seekOperation=Next"
        );
        assert_eq!(
            linked.headers,
            [("MS-ContinuationToken".to_owned(), "t2".to_owned())]
        );
        let tokened = next(r#"{"items":[],"continuationToken":"t1"}"#).unwrap();
        assert_eq!(
            tokened.url.as_str(),
            "http://127.0.0.1:1/v1/auditrecords?startDate=x&size=2&seekOperation=Next"
        );
        assert_eq!(
            tokened.headers,
            [("MS-ContinuationToken".to_owned(), "t1".to_owned())]
        );
        assert!(
            next(r#"{"items":[],"continuationToken":null,"links":{"self":{"uri":"/x"}}}"#)
                .is_none()
        );
        assert!(Page::parse(br#"{"totalCount":0}"#, "u").is_err());
    }

    #[test]
    fn records_keep_unknown_fields_and_get_stable_ids() {
        let body = br#"{"items":[{"id":"a","partnerId":"p","operationType":"create_order","operationDate":"2026-01-01T00:00:00Z","futureField":{"x":1}},{"operationType":"x","operationDate":"2026-01-01T00:00:00Z"}]}"#;
        let page = Page::parse(body, "u").unwrap();
        let read = records(&page.items, "p", "u").unwrap();
        let again = records(&page.items, "p", "u").unwrap();
        assert!(
            serde_json::to_string(&read[0])
                .unwrap()
                .contains(r#""futureField":{"x":1}"#)
        );
        assert!(read[1].id.starts_with("pull-"));
        assert_eq!(read[1].id, again[1].id);
        let err = records(&page.items, "q", "u").unwrap_err().to_string();
        assert!(
            err.contains("record a: it belongs to partner `p`, not `q`; pull it with --partner p"),
            "{err}"
        );
    }
}
