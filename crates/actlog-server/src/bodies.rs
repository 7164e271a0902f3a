//! Request bodies at the edge: a deadline that grows with the bytes received (a minimum
//! transfer rate), and a byte budget for ingest bodies held in memory.
//!
//! [`timed`] wraps every body the accept loop hands to the router; a body that falls behind
//! fails its reader, and [`answer_slow_bodies`] turns whatever the handler made of that failure
//! into a 408 problem document, for every route that reads a body. [`read_budgeted`] reads an
//! ingest body while holding its bytes against [`AppState::body_bytes`], so that many large
//! uploads together cannot take more memory than the budget, and one partner's cannot take
//! more than its share of it.
//!
//! [`AppState::body_bytes`]: crate::state::AppState::body_bytes

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, Bytes, HttpBody};
use axum::extract::Request;
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use futures::StreamExt;
use hyper::body::{Frame, SizeHint};
use serde_json::json;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::{Instant, Sleep};

use crate::error::{ApiError, Code};
use crate::state::Limits;

/// How long a body may take: `timeout`, plus `1 / min_rate` seconds for each byte received.
#[derive(Debug, Clone, Copy)]
pub struct BodyRule {
    pub timeout: Duration,
    /// Bytes per second; 0 gives the whole body `timeout`, however large.
    pub min_rate: u64,
}

impl From<&Limits> for BodyRule {
    fn from(limits: &Limits) -> Self {
        BodyRule {
            timeout: limits.body_timeout,
            min_rate: limits.min_body_rate,
        }
    }
}

impl BodyRule {
    fn deadline(&self, start: Instant, received: u64) -> Instant {
        let earned = match self.min_rate {
            0 => Duration::ZERO,
            rate => Duration::from_secs_f64(received as f64 / rate as f64),
        };
        start + self.timeout + earned
    }
}

/// Set once a request's body has fallen behind its deadline (a request extension).
#[derive(Debug, Clone, Default)]
pub struct BodyExpiry(Arc<AtomicBool>);

impl BodyExpiry {
    pub fn expired(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

/// Why a body read failed: it arrived too slowly.
#[derive(Debug, thiserror::Error)]
#[error("the request body arrived too slowly")]
pub struct TooSlow;

/// `request` with its body under `rule`, and the [`BodyExpiry`] that says whether it fell
/// behind.
pub fn timed<B>(
    request: axum::http::Request<B>,
    rule: BodyRule,
) -> axum::http::Request<TimedBody<B>>
where
    B: HttpBody<Data = Bytes> + Unpin,
{
    let expiry = BodyExpiry::default();
    let mut request = request.map(|inner| TimedBody {
        inner,
        rule,
        start: Instant::now(),
        received: 0,
        timer: None,
        expiry: expiry.clone(),
    });
    request.extensions_mut().insert(expiry);
    request
}

/// A body that fails with [`TooSlow`] once it falls behind its [`BodyRule`]. The clock runs
/// from the request's arrival, whether or not the handler is reading yet; the timer is only
/// set when the body is waited for, so bodiless requests cost none.
#[derive(Debug)]
pub struct TimedBody<B> {
    inner: B,
    rule: BodyRule,
    start: Instant,
    received: u64,
    timer: Option<Pin<Box<Sleep>>>,
    expiry: BodyExpiry,
}

impl<B> HttpBody for TimedBody<B>
where
    B: HttpBody<Data = Bytes> + Unpin,
    B::Error: Into<axum::BoxError>,
{
    type Data = Bytes;
    type Error = axum::BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = self.get_mut();
        if this.expiry.expired() {
            return Poll::Ready(Some(Err(TooSlow.into())));
        }
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    this.received += data.len() as u64;
                    if let Some(timer) = &mut this.timer {
                        timer
                            .as_mut()
                            .reset(this.rule.deadline(this.start, this.received));
                    }
                }
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(other) => Poll::Ready(other.map(|r| r.map_err(Into::into))),
            Poll::Pending => {
                let deadline = this.rule.deadline(this.start, this.received);
                let timer = this
                    .timer
                    .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
                if timer.as_mut().poll(cx).is_ready() {
                    this.expiry.0.store(true, Ordering::Relaxed);
                    return Poll::Ready(Some(Err(TooSlow.into())));
                }
                Poll::Pending
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// A request whose body fell behind is answered 408, whatever its handler answered (a 400
/// for an unreadable form, say), and its connection closed: the rest of the body is not
/// worth waiting for.
pub async fn answer_slow_bodies(request: Request, next: Next) -> Response {
    let expiry = request.extensions().get::<BodyExpiry>().cloned();
    let response = next.run(request).await;
    if !expiry.is_some_and(|e| e.expired()) {
        return response;
    }
    tracing::info!("request body too slow; answered 408");
    too_slow()
}

/// The 408 problem document, its connection closed.
fn too_slow() -> Response {
    let mut response = ApiError::new(
        Code::BodyTimeout,
        "the request body arrived too slowly; send it again, faster",
    )
    .into_response();
    response
        .headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
}

/// The bytes of ingest bodies held in memory at once ([`Limits::max_body_bytes_in_flight`]),
/// shared out by partner: one partner's bodies may hold at most
/// [`Limits::ingest_share_percent`] of them, so that one tenant's stalled uploads leave the
/// rest to everyone else.
///
/// [`Limits::max_body_bytes_in_flight`]: crate::state::Limits::max_body_bytes_in_flight
/// [`Limits::ingest_share_percent`]: crate::state::Limits::ingest_share_percent
#[derive(Debug)]
pub struct BodyBudget {
    bytes: Arc<Semaphore>,
    size: usize,
    per_partner: usize,
    /// Bytes held by partner (absent: none).
    held: Mutex<HashMap<String, usize>>,
}

impl BodyBudget {
    /// `size` bytes, of which one partner may hold `percent`%.
    pub fn new(size: usize, percent: u64) -> Arc<BodyBudget> {
        let size = size.min(Semaphore::MAX_PERMITS);
        let share = (size as u64).saturating_mul(percent.min(100)).div_ceil(100);
        Arc::new(BodyBudget {
            bytes: Arc::new(Semaphore::new(size)),
            size,
            per_partner: usize::try_from(share).unwrap_or(size),
            held: Mutex::default(),
        })
    }

    /// Bytes not held now (`/readyz`, `/metrics`).
    pub fn available(&self) -> usize {
        self.bytes.available_permits()
    }

    /// The whole budget.
    pub fn size(&self) -> usize {
        self.size
    }

    /// Counts `n` more bytes against `partner`'s share: 429 past it.
    fn claim(self: &Arc<Self>, partner: &str, n: usize) -> Result<PartnerBytes, ApiError> {
        let mut held = self.held.lock().unwrap();
        let mine = held.entry(partner.to_owned()).or_default();
        if *mine + n > self.per_partner {
            if *mine == 0 {
                held.remove(partner);
            }
            return Err(ApiError {
                retry_after: Some(1),
                ..ApiError::new(
                    Code::ShareUsed,
                    format!(
                        "this partner's request bodies already hold {} of the server's {} bytes for them, its share; retry when one has been handled",
                        self.per_partner, self.size
                    ),
                )
            });
        }
        *mine += n;
        Ok(PartnerBytes {
            budget: Arc::clone(self),
            partner: partner.to_owned(),
            n,
        })
    }
}

/// Bytes counted against a partner's share, uncounted when dropped.
#[derive(Debug)]
struct PartnerBytes {
    budget: Arc<BodyBudget>,
    partner: String,
    n: usize,
}

impl PartnerBytes {
    /// Takes over `other`'s bytes, to give them back with these.
    fn merge(&mut self, mut other: PartnerBytes) {
        self.n += std::mem::take(&mut other.n);
    }
}

impl Drop for PartnerBytes {
    fn drop(&mut self) {
        let mut held = self.budget.held.lock().unwrap();
        if let Some(mine) = held.get_mut(&self.partner) {
            *mine = mine.saturating_sub(self.n);
            if *mine == 0 {
                held.remove(&self.partner);
            }
        }
    }
}

/// Bytes of one request held against the [`BodyBudget`], given back when this is dropped.
#[derive(Debug, Default)]
pub struct Hold(Option<(OwnedSemaphorePermit, PartnerBytes)>);

impl Hold {
    /// Holds `n` more bytes of `partner`'s: 429 past the partner's share, 503 past the whole
    /// budget (with Retry-After, at once, never queued). Nothing is held when it fails.
    pub fn take(
        &mut self,
        budget: &Arc<BodyBudget>,
        partner: &str,
        n: usize,
    ) -> Result<(), ApiError> {
        let Ok(permits) = u32::try_from(n) else {
            return Err(over_budget());
        };
        let counted = budget.claim(partner, n)?;
        let Ok(permit) = budget.bytes.clone().try_acquire_many_owned(permits) else {
            return Err(over_budget());
        };
        match &mut self.0 {
            Some((held, mine)) => {
                held.merge(permit);
                mine.merge(counted);
            }
            None => self.0 = Some((permit, counted)),
        }
        Ok(())
    }
}

/// A body read in full, and the bytes it holds of the budget, given back when this is dropped.
#[derive(Debug)]
pub struct Held {
    pub bytes: Bytes,
    pub hold: Hold,
}

/// The whole body of `partner`'s request, at most `limit` bytes (more → 413), each chunk taken
/// from `budget` as it arrives ([`Hold::take`]).
pub async fn read_budgeted(
    body: Body,
    limit: usize,
    budget: &Arc<BodyBudget>,
    partner: &str,
) -> Result<Held, ApiError> {
    if body.size_hint().lower() > limit as u64 {
        return Err(too_large(limit));
    }
    let capacity = body.size_hint().exact().unwrap_or(0).min(limit as u64) as usize;
    let mut bytes = Vec::with_capacity(capacity.min(1024 * 1024));
    let mut hold = Hold::default();
    let mut stream = body.into_data_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(unreadable)?;
        if bytes.len() + chunk.len() > limit {
            return Err(too_large(limit));
        }
        hold.take(budget, partner, chunk.len())?;
        bytes.extend_from_slice(&chunk);
    }
    Ok(Held {
        bytes: Bytes::from(bytes),
        hold,
    })
}

fn too_large(limit: usize) -> ApiError {
    ApiError::new(
        Code::BodyTooLarge,
        format!("the body is larger than {limit} bytes; split it into smaller batches"),
    )
    .with(json!({ "maxBytes": limit }))
}

fn over_budget() -> ApiError {
    ApiError {
        retry_after: Some(1),
        ..ApiError::new(
            Code::Overloaded,
            "the server holds as many request bytes as it may; retry after a second",
        )
    }
}

/// A body that failed mid-read (a slow one becomes a 408 in [`answer_slow_bodies`]).
fn unreadable(e: axum::Error) -> ApiError {
    ApiError::new(
        Code::InvalidParameter,
        format!("the body could not be read: {e}"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_byte_received_extends_the_deadline_by_the_minimum_rate() {
        let rule = BodyRule {
            timeout: Duration::from_secs(10),
            min_rate: 1000,
        };
        let start = Instant::now();
        assert_eq!(rule.deadline(start, 0), start + Duration::from_secs(10));
        assert_eq!(rule.deadline(start, 5000), start + Duration::from_secs(15));
        let fixed = BodyRule {
            min_rate: 0,
            ..rule
        };
        assert_eq!(fixed.deadline(start, 5000), start + Duration::from_secs(10));
    }

    #[tokio::test]
    async fn a_body_past_the_budget_is_refused_and_its_bytes_given_back() {
        let budget = BodyBudget::new(10, 100);
        let held = read_budgeted(Body::from("123456"), 100, &budget, "p1")
            .await
            .unwrap();
        assert_eq!(budget.available(), 4);
        let refused = read_budgeted(Body::from("123456"), 100, &budget, "p2")
            .await
            .unwrap_err();
        assert_eq!(refused.code, Code::Overloaded);
        assert_eq!(refused.retry_after, Some(1));
        drop(held);
        assert_eq!(budget.available(), 10);
        let large = read_budgeted(Body::from("123456"), 5, &budget, "p1")
            .await
            .unwrap_err();
        assert_eq!(large.code, Code::BodyTooLarge);
    }

    #[tokio::test]
    async fn a_partner_past_its_share_of_the_budget_gets_429_and_others_still_fit() {
        let budget = BodyBudget::new(10, 50);
        let held = read_budgeted(Body::from("1234"), 100, &budget, "p1")
            .await
            .unwrap();
        let refused = read_budgeted(Body::from("12"), 100, &budget, "p1")
            .await
            .unwrap_err();
        assert_eq!(refused.code, Code::ShareUsed);
        assert_eq!(refused.retry_after, Some(1));
        assert_eq!(budget.available(), 6, "nothing held for the refused body");
        let other = read_budgeted(Body::from("12345"), 100, &budget, "p2")
            .await
            .unwrap();
        drop((held, other));
        assert_eq!(budget.available(), 10);
        read_budgeted(Body::from("12345"), 100, &budget, "p1")
            .await
            .unwrap();
    }
}
