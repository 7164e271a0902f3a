//! API keys recently found in the store, so that a busy client's every request does not cost a
//! database look-up (on PostgreSQL, a round trip that competes with the writers for the
//! connections and the CPU).
//!
//! Only keys found are kept, never misses: a stranger trying random keys cannot fill the
//! cache, and a key created on another server works at once. An entry lives
//! [`KEY_CACHE_TTL`]: a key revoked in the store stops working on every server within that
//! time. The cache holds at most [`KEY_CACHE_ENTRIES`] keys; when it is full, expired entries
//! are dropped, and while it stays full new keys are simply looked up each time.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use actlog_store::ApiKey;

/// How long a key found in the store is trusted without asking the store again.
pub const KEY_CACHE_TTL: Duration = Duration::from_secs(1);
/// Most keys kept.
const KEY_CACHE_ENTRIES: usize = 4_096;

/// Keys by the hash of their secret, each with when it was read from the store.
#[derive(Debug, Default)]
pub struct KeyCache {
    entries: Mutex<HashMap<[u8; 32], (ApiKey, Instant)>>,
}

impl KeyCache {
    /// The key whose secret hashes to `hash`, if it was read from the store within the TTL.
    pub fn get(&self, hash: &[u8; 32], now: Instant) -> Option<ApiKey> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        match entries.get(hash) {
            Some((key, read)) if now.duration_since(*read) < KEY_CACHE_TTL => Some(key.clone()),
            _ => None,
        }
    }

    /// Keeps `key`, just read from the store at `now`.
    pub fn put(&self, hash: [u8; 32], key: ApiKey, now: Instant) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= KEY_CACHE_ENTRIES && !entries.contains_key(&hash) {
            entries.retain(|_, (_, read)| now.duration_since(*read) < KEY_CACHE_TTL);
            if entries.len() >= KEY_CACHE_ENTRIES {
                return;
            }
        }
        entries.insert(hash, (key, now));
    }

    /// Forgets the key with public id `id` (revoked through this server).
    pub fn forget(&self, id: &str) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries.retain(|_, (key, _)| key.id != id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actlog_store::Scopes;

    fn key(id: &str) -> ApiKey {
        ApiKey {
            id: id.into(),
            partner_id: "p".into(),
            scopes: Scopes {
                read: true,
                write: false,
            },
            label: String::new(),
        }
    }

    #[test]
    fn an_entry_expires_after_the_ttl() {
        let cache = KeyCache::default();
        let start = Instant::now();
        cache.put([1; 32], key("a"), start);
        assert_eq!(cache.get(&[1; 32], start).map(|k| k.id), Some("a".into()));
        assert!(cache.get(&[1; 32], start + KEY_CACHE_TTL).is_none());
        assert!(cache.get(&[2; 32], start).is_none());
    }

    #[test]
    fn a_forgotten_key_is_looked_up_again() {
        let cache = KeyCache::default();
        let now = Instant::now();
        cache.put([1; 32], key("a"), now);
        cache.put([2; 32], key("b"), now);
        cache.forget("a");
        assert!(cache.get(&[1; 32], now).is_none());
        assert!(cache.get(&[2; 32], now).is_some());
    }

    #[test]
    fn a_full_cache_makes_room_only_from_expired_entries() {
        let cache = KeyCache::default();
        let old = Instant::now();
        for i in 0..KEY_CACHE_ENTRIES {
            let mut hash = [0; 32];
            hash[..8].copy_from_slice(&(i as u64).to_le_bytes());
            cache.put(hash, key("old"), old);
        }
        cache.put([0xff; 32], key("new"), old);
        assert!(cache.get(&[0xff; 32], old).is_none(), "full of live keys");
        let later = old + KEY_CACHE_TTL;
        cache.put([0xff; 32], key("new"), later);
        assert!(cache.get(&[0xff; 32], later).is_some());
    }
}
