//! Throttling of failed sign-ins, per account and per client address.
//!
//! Each key (an email, an address) may fail `max_failures` times within `window`; further
//! attempts are refused until enough of those failures leave the window. The failures live in
//! the store, by the SHA-256 of their key, so that every server sharing the database counts
//! the same failures: N servers do not give an attacker N times the attempts.

use std::time::Duration;

use actlog_domain::time::OperationDate;
use actlog_store::{Identity, StoreError};
use jiff::SignedDuration;
use sha2::{Digest, Sha256};

/// Failed attempts per key of one kind.
#[derive(Debug, Clone, Copy)]
pub struct Throttle {
    /// What is throttled ("account", "address"): keys of two kinds never collide.
    kind: &'static str,
    max_failures: usize,
    window: Duration,
}

impl Throttle {
    pub fn new(kind: &'static str, max_failures: usize, window: Duration) -> Self {
        Throttle {
            kind,
            max_failures: max_failures.max(1),
            window,
        }
    }

    fn hash(&self, key: &str) -> [u8; 32] {
        let mut hasher = Sha256::new();
        hasher.update(self.kind.as_bytes());
        hasher.update([0]);
        hasher.update(key.as_bytes());
        hasher.finalize().into()
    }

    fn window_start(&self, now: OperationDate) -> OperationDate {
        let window = SignedDuration::try_from(self.window).unwrap_or(SignedDuration::MAX);
        now.saturating_add(-window)
    }

    /// `None` when `key` may try now, else how long it must wait.
    pub async fn wait(
        &self,
        store: &dyn Identity,
        key: &str,
        now: OperationDate,
    ) -> Result<Option<Duration>, StoreError> {
        let since = self.window_start(now);
        let failures = store
            .sign_in_failures(&self.hash(key), since, self.max_failures)
            .await?;
        if failures.len() < self.max_failures {
            return Ok(None);
        }
        // The oldest of the newest `max_failures` must leave the window first.
        let oldest = failures[0];
        let age = now.ticks().saturating_sub(oldest.ticks()).max(0) as u64;
        let age = Duration::from_nanos(age.saturating_mul(100));
        Ok(Some(
            self.window.saturating_sub(age).max(Duration::from_secs(1)),
        ))
    }

    /// Records a failed attempt for `key` (and forgets its failures older than the window).
    pub async fn fail(
        &self,
        store: &dyn Identity,
        key: &str,
        now: OperationDate,
    ) -> Result<(), StoreError> {
        store
            .add_sign_in_failure(&self.hash(key), now, self.window_start(now))
            .await
    }

    /// Forgets `key`'s failures (after a successful sign-in).
    pub async fn clear(&self, store: &dyn Identity, key: &str) -> Result<(), StoreError> {
        store.clear_sign_in_failures(&self.hash(key)).await
    }

    /// How long a failure is remembered.
    pub fn window(&self) -> Duration {
        self.window
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use actlog_sqlite::{SqliteOptions, SqliteStore};
    use actlog_store::Store;

    use super::*;

    fn at(seconds: i64) -> OperationDate {
        OperationDate::from_ticks(1_700_000_000 * 10_000_000 + seconds * 10_000_000)
    }

    /// Two servers on one database (two stores on one file): failures through either count
    /// for both, so an attacker does not get twice the attempts.
    #[tokio::test]
    async fn failures_on_two_servers_count_together_until_the_window_passes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("actlog.db");
        let open = || -> Arc<dyn Store> {
            Arc::new(SqliteStore::open(&path, SqliteOptions::default()).unwrap())
        };
        let (one, two) = (open(), open());
        let throttle = Throttle::new("account", 3, Duration::from_secs(60));
        for (i, store) in [&one, &two, &one].into_iter().enumerate() {
            assert_eq!(
                throttle.wait(store.as_ref(), "a@x", at(0)).await.unwrap(),
                None,
                "{i}"
            );
            throttle.fail(store.as_ref(), "a@x", at(0)).await.unwrap();
        }
        let wait = throttle.wait(two.as_ref(), "a@x", at(10)).await.unwrap();
        assert_eq!(wait, Some(Duration::from_secs(50)));
        let other_kind = Throttle::new("address", 3, Duration::from_secs(60));
        assert_eq!(
            other_kind.wait(one.as_ref(), "a@x", at(10)).await.unwrap(),
            None
        );
        assert_eq!(
            throttle.wait(one.as_ref(), "b@x", at(10)).await.unwrap(),
            None
        );
        assert_eq!(
            throttle.wait(one.as_ref(), "a@x", at(61)).await.unwrap(),
            None
        );
        throttle.fail(one.as_ref(), "a@x", at(62)).await.unwrap();
        throttle.clear(two.as_ref(), "a@x").await.unwrap();
        assert_eq!(
            throttle.wait(one.as_ref(), "a@x", at(62)).await.unwrap(),
            None
        );
    }
}
