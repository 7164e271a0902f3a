//! Partner ids to their integer keys, with an in-memory cache of committed keys.

use std::collections::HashMap;
use std::sync::RwLock;

use actlog_store::StoreError;
use deadpool_postgres::Client;

use crate::error::db;

/// The cache of committed partner keys (a key, once committed, never changes).
#[derive(Debug, Default)]
pub(crate) struct Partners {
    keys: RwLock<HashMap<String, i64>>,
}

impl Partners {
    fn cached(&self, partner: &str) -> Option<i64> {
        let keys = self.keys.read().unwrap_or_else(|e| e.into_inner());
        keys.get(partner).copied()
    }

    fn remember(&self, partner: &str, key: i64) {
        let mut keys = self.keys.write().unwrap_or_else(|e| e.into_inner());
        keys.insert(partner.to_owned(), key);
    }

    /// The key of `partner`, if it exists.
    pub(crate) async fn find(
        &self,
        client: &Client,
        partner: &str,
    ) -> Result<Option<i64>, StoreError> {
        if let Some(key) = self.cached(partner) {
            return Ok(Some(key));
        }
        let stmt = client
            .prepare_cached("SELECT pkey FROM partners WHERE id = $1")
            .await
            .map_err(db)?;
        let key = client
            .query_opt(&stmt, &[&partner])
            .await
            .map_err(db)?
            .map(|row| row.get(0));
        if let Some(key) = key {
            self.remember(partner, key);
        }
        Ok(key)
    }

    /// The key of `partner`, creating the partner (and its log) when missing.
    pub(crate) async fn ensure(&self, client: &Client, partner: &str) -> Result<i64, StoreError> {
        match self.cached(partner) {
            Some(key) => Ok(key),
            None => Ok(self.create(client, partner).await?.0),
        }
    }

    /// The key of `partner`, creating it when missing; whether it was created. Safe when
    /// several servers create the same partner at once: one insert wins, the others read it.
    pub(crate) async fn create(
        &self,
        client: &Client,
        partner: &str,
    ) -> Result<(i64, bool), StoreError> {
        let stmt = client
            .prepare_cached(
                "WITH new AS (
                     INSERT INTO partners (id) VALUES ($1) ON CONFLICT (id) DO NOTHING
                     RETURNING pkey
                 ), log AS (
                     INSERT INTO partner_logs (partner) SELECT pkey FROM new
                 )
                 SELECT pkey, true FROM new
                 UNION ALL SELECT pkey, false FROM partners WHERE id = $1",
            )
            .await
            .map_err(db)?;
        // A partner inserted by another server while this statement ran is in neither branch
        // (the statement's snapshot predates it): the next try finds it.
        for _ in 0..3 {
            if let Some(row) = client.query_opt(&stmt, &[&partner]).await.map_err(db)? {
                let key: i64 = row.get(0);
                self.remember(partner, key);
                return Ok((key, row.get(1)));
            }
        }
        Err(StoreError::Database(format!(
            "partner {partner} could be neither created nor found"
        )))
    }
}
