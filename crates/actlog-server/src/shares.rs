//! Per-partner shares of a bounded resource: the ingest requests handled at once, the record
//! queries running at once, the exports streaming at once.
//!
//! Each resource has a number of slots, and one partner may hold at most its share of them
//! (counting its requests still waiting for one), so that one tenant's expensive filters or
//! stalled exports leave the other slots to everyone else: a partner past its share is
//! answered 429, and a request that finds every slot taken waits a bounded time, then is
//! answered 503, both with `Retry-After`. No queue grows without bound: at most a share per
//! partner waits, each for a bounded time.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::error::{ApiError, Code};

/// The slots of one resource and who holds them.
#[derive(Debug)]
pub struct Shares {
    /// What the slots are for, as an answer names them ("ingest requests", "queries",
    /// "exports").
    what: &'static str,
    slots: Arc<Semaphore>,
    size: usize,
    /// Most slots one partner may hold or wait for.
    per_partner: usize,
    /// How long a request waits for a free slot.
    wait: Duration,
    /// Slots held or waited for, by partner (absent: none).
    held: Mutex<HashMap<String, usize>>,
    /// Requests refused past their partner's share (`/metrics`).
    refused: AtomicU64,
}

/// A slot held for a partner, given back when dropped.
#[derive(Debug)]
pub struct Slot {
    _permit: OwnedSemaphorePermit,
    _claim: Claim,
}

/// One of a partner's slots counted against its share, uncounted when dropped.
#[derive(Debug)]
struct Claim {
    shares: Arc<Shares>,
    partner: String,
}

impl Drop for Claim {
    fn drop(&mut self) {
        let mut held = self.shares.lock();
        if let Some(n) = held.get_mut(&self.partner) {
            *n -= 1;
            if *n == 0 {
                held.remove(&self.partner);
            }
        }
    }
}

impl Shares {
    /// `size` slots, of which one partner may hold `percent`% (at least one). With no slots
    /// (a test's way to refuse everything) every request is answered 503 after the wait.
    pub fn new(what: &'static str, size: usize, percent: u64, wait: Duration) -> Arc<Shares> {
        let share = (size as u64 * percent.min(100)).div_ceil(100);
        Arc::new(Shares {
            what,
            slots: Arc::new(Semaphore::new(size.min(Semaphore::MAX_PERMITS))),
            size,
            per_partner: usize::try_from(share).unwrap_or(size).clamp(1, size.max(1)),
            wait,
            held: Mutex::default(),
            refused: AtomicU64::new(0),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, usize>> {
        self.held.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A slot for `partner`: at once when one is free and the partner is within its share;
    /// 429 past its share; 503 when none frees up within the wait.
    pub async fn take(self: &Arc<Self>, partner: &str) -> Result<Slot, ApiError> {
        let claim = {
            let mut held = self.lock();
            let n = held.entry(partner.to_owned()).or_default();
            if *n >= self.per_partner {
                return Err(self.share_used());
            }
            *n += 1;
            Claim {
                shares: Arc::clone(self),
                partner: partner.to_owned(),
            }
        };
        let permit = tokio::time::timeout(self.wait, Arc::clone(&self.slots).acquire_owned());
        match permit.await {
            Ok(Ok(permit)) => Ok(Slot {
                _permit: permit,
                _claim: claim,
            }),
            _ => Err(ApiError::overloaded()),
        }
    }

    fn share_used(&self) -> ApiError {
        self.refused.fetch_add(1, Ordering::Relaxed);
        ApiError {
            retry_after: Some(1),
            ..ApiError::new(
                Code::ShareUsed,
                format!(
                    "this partner already runs {} of the server's {} {}, its share; retry when one has finished",
                    self.per_partner, self.size, self.what
                ),
            )
        }
    }

    /// How many slots there are.
    pub fn size(&self) -> usize {
        self.size
    }

    /// How many slots are held now (`/metrics`).
    pub fn in_use(&self) -> usize {
        self.size
            .min(Semaphore::MAX_PERMITS)
            .saturating_sub(self.slots.available_permits())
    }

    /// How many requests were refused past their partner's share (`/metrics`).
    pub fn refused(&self) -> u64 {
        self.refused.load(Ordering::Relaxed)
    }

    /// Whether every slot is taken (`/readyz`).
    pub fn saturated(&self) -> bool {
        self.slots.available_permits() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_partner_holds_at_most_its_share_and_others_still_get_slots() {
        let shares = Shares::new("queries", 4, 50, Duration::from_millis(10));
        let a1 = shares.take("a").await.unwrap();
        let _a2 = shares.take("a").await.unwrap();
        let refused = shares.take("a").await.unwrap_err();
        assert_eq!(refused.code, Code::ShareUsed);
        let _b1 = shares.take("b").await.unwrap();
        let _b2 = shares.take("b").await.unwrap();
        assert!(shares.saturated());
        assert_eq!(
            shares.take("c").await.unwrap_err().code,
            Code::Overloaded,
            "every slot taken: 503 after the wait"
        );
        drop(a1);
        let _a3 = shares.take("a").await.unwrap();
    }

    #[tokio::test]
    async fn a_share_is_at_least_one_slot() {
        let shares = Shares::new("exports", 1, 10, Duration::from_millis(10));
        let _a = shares.take("a").await.unwrap();
        assert_eq!(shares.take("a").await.unwrap_err().code, Code::ShareUsed);
    }
}
