//! Throttling of failed sign-ins, per account and per client address.
//!
//! Each key (an email, an address) may fail `max_failures` times within `window`; further
//! attempts are refused until the oldest failure leaves the window. Kept in memory: with several
//! servers behind a load balancer each throttles on its own.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Failed attempts per key.
#[derive(Debug)]
pub struct Throttle {
    max_failures: usize,
    window: Duration,
    failures: Mutex<HashMap<String, Vec<Instant>>>,
}

impl Throttle {
    pub fn new(max_failures: usize, window: Duration) -> Self {
        Throttle {
            max_failures,
            window,
            failures: Mutex::new(HashMap::new()),
        }
    }

    /// `None` when `key` may try now, else how long it must wait.
    pub fn wait(&self, key: &str, now: Instant) -> Option<Duration> {
        let mut failures = self
            .failures
            .lock()
            .expect("the throttle lock is never poisoned");
        let list = failures.get_mut(key)?;
        list.retain(|t| now.duration_since(*t) < self.window);
        if list.len() < self.max_failures {
            return None;
        }
        let oldest = *list.first()?;
        Some(self.window.saturating_sub(now.duration_since(oldest)))
    }

    /// Records a failed attempt for `key`.
    pub fn fail(&self, key: &str, now: Instant) {
        let mut failures = self
            .failures
            .lock()
            .expect("the throttle lock is never poisoned");
        if failures.len() > 100_000 {
            // Bounded memory under a flood of distinct keys: forget expired entries.
            failures.retain(|_, list| {
                list.last()
                    .is_some_and(|t| now.duration_since(*t) < self.window)
            });
        }
        failures.entry(key.to_owned()).or_default().push(now);
    }

    /// Forgets `key`'s failures (after a successful sign-in).
    pub fn clear(&self, key: &str) {
        self.failures
            .lock()
            .expect("the throttle lock is never poisoned")
            .remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_failures_are_throttled_until_the_window_passes() {
        let throttle = Throttle::new(3, Duration::from_secs(60));
        let t0 = Instant::now();
        for i in 0..3 {
            assert_eq!(throttle.wait("a@x", t0), None, "attempt {i}");
            throttle.fail("a@x", t0);
        }
        assert!(throttle.wait("a@x", t0 + Duration::from_secs(1)).is_some());
        assert_eq!(throttle.wait("b@x", t0), None, "other keys are unaffected");
        assert_eq!(throttle.wait("a@x", t0 + Duration::from_secs(61)), None);
        throttle.fail("a@x", t0);
        throttle.clear("a@x");
        assert_eq!(throttle.wait("a@x", t0), None);
    }
}
