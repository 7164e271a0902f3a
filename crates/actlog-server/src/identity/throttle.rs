//! Throttling of failed sign-ins: backoff per key, and a gate that bounds the password checks
//! running at once.
//!
//! Each key (an account, an account from one address, an address) may fail `free` times
//! within `window`; after that each further failure doubles the wait before the next attempt
//! (1 s, 2 s, 4 s, … up to the window) rather than locking the key for the whole window. The
//! failures live in the store, by the SHA-256 of their key, so that every server sharing the
//! database counts the same failures: N servers do not give an attacker N times the attempts.
//!
//! The owner of an account is throttled by the failures from their own address (the
//! account-and-address key, five free) and only by a distributed attack on the account (the
//! account key, more free): a stranger's wrong guesses from elsewhere do not lock them out.

use std::hash::{Hash, Hasher};
use std::sync::Arc;
use std::time::Duration;

use actlog_domain::time::OperationDate;
use actlog_store::{Identity, StoreError};
use jiff::SignedDuration;
use sha2::{Digest, Sha256};
use tokio::sync::{Mutex, OwnedMutexGuard, OwnedSemaphorePermit, Semaphore};

/// Doublings of the wait after the free failures: 2^10 s is past any sensible window, so more
/// failures than `free + MAX_DOUBLINGS` need not be read.
const MAX_DOUBLINGS: usize = 10;

/// Failed attempts per key of one kind.
#[derive(Debug, Clone, Copy)]
pub struct Throttle {
    /// What is throttled ("account", "address"): keys of two kinds never collide.
    kind: &'static str,
    free: usize,
    window: Duration,
}

impl Throttle {
    /// `free` failures within `window` cost nothing; each one after that doubles the wait.
    pub fn new(kind: &'static str, free: usize, window: Duration) -> Self {
        Throttle {
            kind,
            free: free.max(1),
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
            .sign_in_failures(&self.hash(key), since, self.free + MAX_DOUBLINGS)
            .await?;
        Ok(self.backoff(&failures, now))
    }

    /// The wait after `failures` (oldest first, within the window) at `now`.
    fn backoff(&self, failures: &[OperationDate], now: OperationDate) -> Option<Duration> {
        let newest = failures.last()?;
        if failures.len() < self.free {
            return None;
        }
        let doublings = (failures.len() - self.free).min(MAX_DOUBLINGS) as u32;
        let delay = Duration::from_secs(1u64 << doublings).min(self.window);
        let age = now.ticks().saturating_sub(newest.ticks()).max(0) as u64;
        let age = Duration::from_nanos(age.saturating_mul(100));
        delay
            .checked_sub(age)
            .filter(|wait| !wait.is_zero())
            .map(|wait| wait.max(Duration::from_secs(1)))
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

/// Stripes of the per-account turn: attempts on one account take turns (on this server), so
/// each sees the failures of the one before; unrelated accounts rarely share a stripe.
const STRIPES: usize = 256;

/// What a sign-in attempt passes before its password is checked: the account's turn, then one
/// of a bounded number of password checks (each Argon2id verification holds about 19 MiB;
/// unbounded, a burst of wrong passwords would hold gigabytes).
#[derive(Debug)]
pub struct SignInGate {
    turns: Vec<Arc<Mutex<()>>>,
    checks: Arc<Semaphore>,
    queue_wait: Duration,
}

/// An attempt's right to check a password: held until the attempt's failure or success is
/// recorded.
#[derive(Debug)]
pub struct Admitted {
    _turn: OwnedMutexGuard<()>,
    _check: OwnedSemaphorePermit,
}

impl SignInGate {
    /// At most `checks` password checks at once; an attempt waits at most `queue_wait` for
    /// its turn and a check.
    pub fn new(checks: usize, queue_wait: Duration) -> Self {
        SignInGate {
            turns: (0..STRIPES).map(|_| Arc::new(Mutex::new(()))).collect(),
            checks: Arc::new(Semaphore::new(checks.max(1))),
            queue_wait,
        }
    }

    /// Admits an attempt on `account`, or `None` when the server is too busy checking
    /// passwords to do so within the queue wait (answer 503).
    pub async fn admit(&self, account: &str) -> Option<Admitted> {
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        account.hash(&mut hasher);
        let turn = Arc::clone(&self.turns[(hasher.finish() % STRIPES as u64) as usize]);
        let admitted = async {
            let turn = turn.lock_owned().await;
            let check = Arc::clone(&self.checks).acquire_owned().await.ok()?;
            Some(Admitted {
                _turn: turn,
                _check: check,
            })
        };
        tokio::time::timeout(self.queue_wait, admitted)
            .await
            .ok()
            .flatten()
    }

    /// How long an attempt that could not be admitted should wait before trying again.
    pub fn retry_after(&self) -> Duration {
        self.queue_wait.max(Duration::from_secs(1))
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
        let wait = throttle.wait(two.as_ref(), "a@x", at(0)).await.unwrap();
        assert_eq!(
            wait,
            Some(Duration::from_secs(1)),
            "the third failure on the other"
        );
        throttle.fail(one.as_ref(), "a@x", at(1)).await.unwrap();
        let wait = throttle.wait(two.as_ref(), "a@x", at(2)).await.unwrap();
        assert_eq!(
            wait,
            Some(Duration::from_secs(1)),
            "a fourth doubles the wait"
        );
        assert_eq!(
            throttle.wait(two.as_ref(), "a@x", at(3)).await.unwrap(),
            None
        );
        let other_kind = Throttle::new("address", 3, Duration::from_secs(60));
        assert_eq!(
            other_kind.wait(one.as_ref(), "a@x", at(2)).await.unwrap(),
            None
        );
        assert_eq!(
            throttle.wait(one.as_ref(), "b@x", at(2)).await.unwrap(),
            None
        );
        throttle.fail(one.as_ref(), "a@x", at(3)).await.unwrap();
        throttle.clear(two.as_ref(), "a@x").await.unwrap();
        assert_eq!(
            throttle.wait(one.as_ref(), "a@x", at(3)).await.unwrap(),
            None
        );
    }

    /// After the free failures each one doubles the wait, up to the window; never a lockout
    /// longer than the window.
    #[test]
    fn each_failure_past_the_free_ones_doubles_the_wait_up_to_the_window() {
        let throttle = Throttle::new("account", 2, Duration::from_secs(100));
        let waits: Vec<Option<Duration>> = (1..=12)
            .map(|n| throttle.backoff(&[at(0)].repeat(n), at(0)))
            .collect();
        let secs = |s| Some(Duration::from_secs(s));
        assert_eq!(
            waits,
            [
                None,
                secs(1),
                secs(2),
                secs(4),
                secs(8),
                secs(16),
                secs(32),
                secs(64),
                secs(100),
                secs(100),
                secs(100),
                secs(100)
            ]
        );
        assert_eq!(throttle.backoff(&[at(0); 5], at(7)), secs(1));
        assert_eq!(throttle.backoff(&[at(0); 5], at(8)), None);
    }

    /// Attempts on one account take turns, and at most `checks` run at once: a burst waits,
    /// and beyond the queue wait is turned away rather than piling up.
    #[tokio::test]
    async fn the_gate_bounds_checks_and_serializes_one_account() {
        let gate = SignInGate::new(2, Duration::from_millis(200));
        let stripe = |s: &str| {
            let mut hasher = std::collections::hash_map::DefaultHasher::new();
            s.hash(&mut hasher);
            hasher.finish() % STRIPES as u64
        };
        let mut accounts = (0..).map(|i| format!("u{i}@x"));
        let a = accounts.next().unwrap();
        let b = accounts.find(|b| stripe(b) != stripe(&a)).unwrap();
        let third = accounts
            .find(|c| stripe(c) != stripe(&a) && stripe(c) != stripe(&b))
            .unwrap();
        let first = gate.admit(&a).await.expect("admitted");
        assert!(
            gate.admit(&a).await.is_none(),
            "same account waits its turn"
        );
        let other = gate.admit(&b).await.expect("another account is admitted");
        assert!(gate.admit(&third).await.is_none(), "no third check at once");
        drop(first);
        assert!(
            gate.admit(&third).await.is_some(),
            "a check freed admits it"
        );
        drop(other);
    }
}
