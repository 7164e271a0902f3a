//! The retry policy: throttling (429, honouring `Retry-After`), server failures (5xx, 408) and
//! network errors are retried a bounded number of times with exponential backoff; other
//! answers are final. (Partner Center's own SDK never retries a 429 and crashes without
//! `Retry-After`; a mirror that runs for hours must wait and carry on instead.)

use std::future::Future;
use std::time::Duration;

use reqwest::header::HeaderValue;

use super::Observer;
use super::error::PullError;

/// How often and how patiently one request is tried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts per request, the first included.
    pub attempts: u32,
    /// The wait before the first retry, doubled for each one after (with jitter).
    pub first_delay: Duration,
    /// The longest wait between two attempts; a longer `Retry-After` is cut to it.
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    /// Six attempts: waits of about 1, 2, 4, 8 and 16 seconds, so a source that stays down
    /// fails the pull after half a minute; a `Retry-After` is honoured up to two minutes.
    fn default() -> Self {
        RetryPolicy {
            attempts: 6,
            first_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(120),
        }
    }
}

impl RetryPolicy {
    /// The wait before retry number `retry` (1 for the first): what the server asked for in
    /// `Retry-After`, else the backoff, between half and all of `first_delay × 2^(retry-1)`
    /// as `unit` (in `[0, 1)`) falls, so that many clients do not retry in step.
    pub fn delay(&self, retry: u32, retry_after: Option<Duration>, unit: f64) -> Duration {
        if let Some(asked) = retry_after {
            return asked.min(self.max_delay);
        }
        let doubled = self
            .first_delay
            .saturating_mul(1 << retry.saturating_sub(1).min(20));
        let full = doubled.min(self.max_delay);
        full.mul_f64(0.5 + 0.5 * unit.clamp(0.0, 1.0))
    }
}

/// What one attempt came to.
pub(crate) enum Attempt<T> {
    Done(T),
    /// Worth another try: why (for the log and the final error), and the server's wait.
    Retry {
        why: String,
        after: Option<Duration>,
    },
    Fail(PullError),
}

/// Runs `attempt` until it is done or fails, or the policy's attempts are spent.
pub(crate) async fn run<T, F, Fut>(
    policy: &RetryPolicy,
    url: &str,
    observer: &dyn Observer,
    mut attempt: F,
) -> Result<T, PullError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Attempt<T>>,
{
    let mut last = String::new();
    for n in 1..=policy.attempts.max(1) {
        match attempt().await {
            Attempt::Done(value) => return Ok(value),
            Attempt::Fail(err) => return Err(err),
            Attempt::Retry { why, after } => {
                if n < policy.attempts {
                    let delay = policy.delay(n, after, random_unit());
                    observer.retrying(url, &why, delay);
                    tokio::time::sleep(delay).await;
                }
                last = why;
            }
        }
    }
    Err(PullError::GaveUp {
        url: url.to_owned(),
        attempts: policy.attempts.max(1),
        last,
    })
}

/// `Retry-After` in seconds, as Partner Center and actlog send it (an HTTP date is ignored:
/// the backoff applies).
pub(crate) fn retry_after(value: Option<&HeaderValue>) -> Option<Duration> {
    let seconds: u64 = value?.to_str().ok()?.trim().parse().ok()?;
    Some(Duration::from_secs(seconds))
}

/// A network failure with its causes, e.g. "error sending request for url (…): tcp connect
/// error: Connection refused".
pub(crate) fn describe(err: &reqwest::Error) -> String {
    let mut text = err.to_string();
    let mut source = std::error::Error::source(err);
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

/// A number in `[0, 1)`, for jitter.
pub(crate) fn random_unit() -> f64 {
    let bits = getrandom::u64().unwrap_or(0x9E37_79B9_7F4A_7C15);
    (bits >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_with_jitter_up_to_the_cap() {
        let policy = RetryPolicy::default();
        let secs = |retry, unit| policy.delay(retry, None, unit).as_secs_f64();
        assert_eq!(secs(1, 0.999_999), 0.999_999_5);
        assert_eq!(secs(1, 0.0), 0.5);
        assert_eq!(secs(3, 0.0), 2.0);
        assert_eq!(secs(5, 0.0), 8.0);
        assert_eq!(secs(30, 0.0), 60.0);
        assert!(secs(30, 0.99) <= 120.0);
    }

    #[test]
    fn retry_after_is_honoured_in_seconds_and_bounded() {
        let policy = RetryPolicy::default();
        let after = retry_after(Some(&HeaderValue::from_static("7")));
        assert_eq!(after, Some(Duration::from_secs(7)));
        assert_eq!(policy.delay(4, after, 0.0), Duration::from_secs(7));
        let long = retry_after(Some(&HeaderValue::from_static("86400")));
        assert_eq!(policy.delay(1, long, 0.0), Duration::from_secs(120));
        let date = HeaderValue::from_static("Wed, 21 Oct 2015 07:28:00 GMT");
        assert_eq!(retry_after(Some(&date)), None);
        assert_eq!(retry_after(None), None);
    }

    #[tokio::test(start_paused = true)]
    async fn failures_are_retried_a_bounded_number_of_times_then_reported() {
        let mut calls = 0;
        let result: Result<(), _> = run(
            &RetryPolicy::default(),
            "http://x/v1",
            &super::super::Quiet,
            || {
                calls += 1;
                async {
                    Attempt::Retry {
                        why: "HTTP 503".into(),
                        after: Some(Duration::from_secs(1)),
                    }
                }
            },
        )
        .await;
        assert_eq!(calls, 6);
        let message = result.unwrap_err().to_string();
        assert!(message.contains("after 6 attempts"), "{message}");
        assert!(message.contains("HTTP 503"), "{message}");
    }
}
