//! The source: an audit-records API (Partner Center's, or another actlog), read one window at
//! a time and page by page ([`super::page`] says where the next page is), each request signed
//! in and retried as [`super::retry`] says.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use actlog_domain::{AuditRecord, OperationDate};
use bytes::Bytes;
use reqwest::Url;
use reqwest::header::{ACCEPT, RETRY_AFTER};

use super::error::{Fault, PullError, SetupError};
use super::page::{Page, Request, records, shown};
use super::plan::Span;
use super::retry::{self, Attempt, RetryPolicy};
use super::signin::{Credentials, SignIn};
use super::{Observer, random_guid};

/// Partner Center's audit-records API, the default source.
pub const PARTNER_CENTER: &str = "https://api.partnercenter.microsoft.com/v1/auditrecords";

/// An audit-records API to read from, with the credentials to read it.
#[derive(Debug, Clone)]
pub struct Source {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    url: Url,
    http: reqwest::Client,
    signin: SignIn,
    page_size: usize,
    retry: RetryPolicy,
}

impl Source {
    /// The API at `url` (e.g. [`PARTNER_CENTER`]), read `page_size` records a request.
    pub fn new(
        url: &str,
        credentials: Credentials,
        page_size: usize,
        retry: RetryPolicy,
    ) -> Result<Source, SetupError> {
        let mut url = parse_url(url.trim())?;
        if url.path().len() > 1 && url.path().ends_with('/') {
            let trimmed = url.path().trim_end_matches('/').to_owned();
            url.set_path(&trimmed);
        }
        url.set_fragment(None);
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(15))
            .timeout(Duration::from_secs(180))
            // Credentials go to the source named, never where a redirect points.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("actlog/", env!("CARGO_PKG_VERSION"), " (pull)"))
            .build()
            .map_err(|e| SetupError::Client(e.to_string()))?;
        Ok(Source {
            inner: Arc::new(Inner {
                url,
                http,
                signin: SignIn::new(credentials),
                page_size: page_size.max(1),
                retry,
            }),
        })
    }

    /// The source's URL, under which the pull's progress is kept.
    pub fn key(&self) -> &str {
        self.inner.url.as_str()
    }

    /// A walk through every page of `span`, reading `partner`'s records.
    pub(crate) fn walk<'a>(
        &'a self,
        span: Span,
        partner: &'a str,
        correlation: &'a str,
    ) -> Walk<'a> {
        let first = self.window(span);
        Walk {
            source: self,
            next: Some(first.clone()),
            first,
            partner,
            correlation,
        }
    }

    /// The first request of a window: `startDate`, `endDate` and `size` added to the URL.
    fn window(&self, span: Span) -> Request {
        let mut url = self.inner.url.clone();
        url.query_pairs_mut()
            .append_pair("startDate", &wire_date(span.start))
            .append_pair("endDate", &wire_date(span.end))
            .append_pair("size", &self.inner.page_size.to_string());
        Request {
            url,
            headers: Vec::new(),
        }
    }

    /// One page's body, retried as the policy says.
    async fn get(
        &self,
        request: &Request,
        correlation: &str,
        observer: &dyn Observer,
    ) -> Result<Bytes, PullError> {
        let shown = shown(&request.url);
        let renewed = AtomicBool::new(false);
        retry::run(&self.inner.retry, &shown, observer, || {
            self.attempt(request, correlation, observer, &shown, &renewed)
        })
        .await
    }

    /// One try: the bearer (signing in if need be), the request, and what its answer means.
    /// A refused access token is renewed once (`renewed`) before the refusal counts.
    async fn attempt(
        &self,
        request: &Request,
        correlation: &str,
        observer: &dyn Observer,
        shown: &str,
        renewed: &AtomicBool,
    ) -> Attempt<Bytes> {
        let inner = &*self.inner;
        let signin = &inner.signin;
        let bearer = match signin.bearer(&inner.http, &inner.retry, observer).await {
            Ok(bearer) => bearer,
            Err(err) => return Attempt::Fail(err),
        };
        let mut builder = inner
            .http
            .get(request.url.clone())
            .bearer_auth(bearer.expose())
            .header(ACCEPT, "application/json")
            .header("MS-RequestId", random_guid())
            .header("MS-CorrelationId", correlation)
            .header("MS-PartnerCenter-Client", "actlog");
        for (key, value) in &request.headers {
            builder = builder.header(key, value);
        }
        let response = match builder.send().await {
            Ok(response) => response,
            Err(err) => return network(&err),
        };
        let status = response.status().as_u16();
        let after = retry::retry_after(response.headers().get(RETRY_AFTER));
        let body = match response.bytes().await {
            Ok(body) => body,
            Err(err) => return network(&err),
        };
        if status == 401 && signin.renewable() && !renewed.swap(true, Ordering::Relaxed) {
            signin.forget().await;
            return Attempt::Retry {
                why: format!("the access token was refused{}", Fault::parse(&body)),
                after: Some(Duration::ZERO),
            };
        }
        judge(status, after, body, shown)
    }
}

/// What an answer means: a page; a refusal of the credentials (401, 403) or of the request
/// (other 4xx, redirects), final; throttling (429), a server failure (5xx) or a timeout (408),
/// worth another try after `after` if the server said.
fn judge(status: u16, after: Option<Duration>, body: Bytes, shown: &str) -> Attempt<Bytes> {
    match status {
        200..=299 => Attempt::Done(body),
        401 | 403 => Attempt::Fail(PullError::Refused {
            url: shown.to_owned(),
            status,
            fault: Fault::parse(&body),
        }),
        429 => Attempt::Retry {
            why: format!("throttled (HTTP 429){}", Fault::parse(&body)),
            after,
        },
        408 | 500..=599 => Attempt::Retry {
            why: format!("HTTP {status}{}", Fault::parse(&body)),
            after,
        },
        _ => Attempt::Fail(PullError::Rejected {
            url: shown.to_owned(),
            status,
            fault: Fault::parse(&body),
        }),
    }
}

/// The pages of one window, read one at a time.
pub(crate) struct Walk<'a> {
    source: &'a Source,
    first: Request,
    next: Option<Request>,
    partner: &'a str,
    correlation: &'a str,
}

impl Walk<'_> {
    /// The next page's records; `None` after the last page.
    pub(crate) async fn page(
        &mut self,
        observer: &dyn Observer,
    ) -> Result<Option<Vec<AuditRecord>>, PullError> {
        let Some(request) = self.next.take() else {
            return Ok(None);
        };
        let body = self
            .source
            .get(&request, self.correlation, observer)
            .await?;
        let shown = shown(&request.url);
        let page = Page::parse(&body, &shown)?;
        let records = records(&page.items, self.partner, &shown)?;
        let next = page.next(&self.source.inner.url, &self.first)?;
        if next.as_ref() == Some(&request) {
            return Err(PullError::Malformed {
                url: shown,
                expected: "a page that moves on",
                reason: "its continuation asks for the page just read again".into(),
            });
        }
        self.next = next;
        Ok(Some(records))
    }
}

fn network<T>(err: &reqwest::Error) -> Attempt<T> {
    Attempt::Retry {
        why: retry::describe(err),
        after: None,
    }
}

/// `https://…` anywhere, `http://` only to this machine: a token or secret never crosses a
/// network in clear.
pub(crate) fn parse_url(text: &str) -> Result<Url, SetupError> {
    let url = Url::parse(text).map_err(|e| SetupError::Url {
        url: text.to_owned(),
        reason: e.to_string(),
    })?;
    let loopback = url.host_str().is_some_and(|host| {
        host.eq_ignore_ascii_case("localhost")
            || host
                .trim_start_matches('[')
                .trim_end_matches(']')
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback())
    });
    match url.scheme() {
        "https" => Ok(url),
        "http" if loopback => Ok(url),
        "http" => Err(SetupError::PlainHttp {
            url: text.to_owned(),
        }),
        other => Err(SetupError::Url {
            url: text.to_owned(),
            reason: format!("`{other}` is not http or https"),
        }),
    }
}

/// An instant as a query parameter: RFC 3339 in UTC, to the second.
fn wire_date(at: OperationDate) -> String {
    at.timestamp().strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_are_final_and_throttling_and_server_failures_are_retried() {
        let body = || Bytes::from_static(br#"{"code":900420,"description":"bad audience"}"#);
        let judged = |status, after| judge(status, after, body(), "u");
        assert!(matches!(judged(200, None), Attempt::Done(_)));
        for status in [401, 403] {
            let Attempt::Fail(err) = judged(status, None) else {
                panic!("{status} is retried");
            };
            assert!(
                err.to_string().contains("code 900420: bad audience"),
                "{err}"
            );
        }
        for status in [400, 404, 409, 302] {
            assert!(matches!(
                judged(status, None),
                Attempt::Fail(PullError::Rejected { .. })
            ));
        }
        let one = Some(Duration::from_secs(1));
        assert!(matches!(
            judged(429, one),
            Attempt::Retry { after, .. } if after == one
        ));
        for status in [408, 500, 502, 503, 504] {
            assert!(matches!(judged(status, None), Attempt::Retry { .. }));
        }
    }

    #[test]
    fn credentials_never_travel_in_clear_beyond_this_machine() {
        assert!(parse_url("https://api.partnercenter.microsoft.com/v1/auditrecords").is_ok());
        assert!(parse_url("http://127.0.0.1:8080/v1/auditrecords").is_ok());
        assert!(parse_url("http://localhost:8080/v1/auditrecords").is_ok());
        assert!(parse_url("http://[::1]:8080/v1/auditrecords").is_ok());
        assert!(matches!(
            parse_url("http://actlog.internal/v1/auditrecords"),
            Err(SetupError::PlainHttp { .. })
        ));
        assert!(parse_url("ftp://x/y").is_err());
        assert!(parse_url("not a url").is_err());
    }
}
