//! Partners, API keys and deployment secrets: [`Tenancy`] for [`SqliteStore`].

use actlog_domain::OperationDate;
use actlog_store::{ApiKey, KeyDetails, Scopes, StoreError, StoredApiKey, Tenancy};
use async_trait::async_trait;
use rusqlite::OptionalExtension;

use crate::SqliteStore;
use crate::error::db;
use crate::partners::{ensure_row, find_row};

#[async_trait]
impl Tenancy for SqliteStore {
    async fn ensure_partner(&self, partner: &str) -> Result<bool, StoreError> {
        let id = partner.to_owned();
        let (key, created) = self
            .writer
            .run(1, move |conn| ensure_row(conn, &id).map_err(db))
            .await?;
        self.partners.remember(partner, key);
        Ok(created)
    }

    async fn add_api_key(&self, key: &ApiKey, secret_hash: &[u8; 32]) -> Result<(), StoreError> {
        let (key, hash) = (key.clone(), secret_hash.to_vec());
        self.writer
            .run(1, move |conn| {
                let partner = find_row(conn, &key.partner_id)
                    .map_err(db)?
                    .ok_or_else(|| {
                        StoreError::Database(format!(
                            "cannot add API key {}: partner {} does not exist",
                            key.id, key.partner_id
                        ))
                    })?;
                conn.prepare_cached(
                    "INSERT INTO api_keys
                         (id, partner, secret_hash, can_read, can_write, label, created_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, unixepoch())",
                )
                .and_then(|mut stmt| {
                    let scopes = (key.scopes.read, key.scopes.write);
                    stmt.execute((&key.id, partner, &hash, scopes.0, scopes.1, &key.label))
                })
                .map_err(db)?;
                Ok(())
            })
            .await
    }

    async fn api_key(&self, secret_hash: &[u8; 32]) -> Result<Option<ApiKey>, StoreError> {
        let hash = secret_hash.to_vec();
        self.auth
            .run(move |conn, _| {
                conn.prepare_cached(
                    "SELECT k.id, p.id, k.can_read, k.can_write, k.label
                     FROM api_keys k JOIN partners p ON p.pkey = k.partner
                     WHERE k.secret_hash = ?1
                       AND (k.expires_at IS NULL OR k.expires_at > unixepoch())",
                )?
                .query_row([&hash], api_key)
                .optional()
            })
            .await
    }

    async fn set_api_key_expiry(
        &self,
        id: &str,
        expires_at: Option<i64>,
    ) -> Result<bool, StoreError> {
        let id = id.to_owned();
        self.writer
            .run(1, move |conn| {
                conn.prepare_cached("UPDATE api_keys SET expires_at = ?2 WHERE id = ?1")
                    .and_then(|mut stmt| stmt.execute((&id, expires_at)))
                    .map(|n| n > 0)
                    .map_err(db)
            })
            .await
    }

    async fn touch_api_key(&self, id: &str, now: i64) -> Result<(), StoreError> {
        let id = id.to_owned();
        self.writer
            .run(1, move |conn| {
                conn.prepare_cached(
                    "UPDATE api_keys SET last_used_at = ?2
                     WHERE id = ?1 AND (last_used_at IS NULL OR last_used_at < ?2 - 60)",
                )
                .and_then(|mut stmt| stmt.execute((&id, now)))
                .map(|_| ())
                .map_err(db)
            })
            .await
    }

    async fn key_details(&self, partner: &str) -> Result<Vec<KeyDetails>, StoreError> {
        let partner = partner.to_owned();
        self.auth
            .run(move |conn, _| {
                let mut stmt = conn.prepare_cached(
                    "SELECT k.id, p.id, k.can_read, k.can_write, k.label, k.created_at,
                            k.last_used_at, k.expires_at
                     FROM api_keys k JOIN partners p ON p.pkey = k.partner
                     WHERE p.id = ?1 ORDER BY k.created_at, k.id",
                )?;
                stmt.query_map([&partner], |r| {
                    Ok(KeyDetails {
                        key: api_key(r)?,
                        created_at: r.get(5)?,
                        last_used_at: r.get(6)?,
                        expires_at: r.get(7)?,
                    })
                })?
                .collect()
            })
            .await
    }

    async fn revoke_api_key(&self, id: &str) -> Result<Option<String>, StoreError> {
        let id = id.to_owned();
        self.writer
            .run(1, move |conn| {
                conn.prepare_cached(
                    "DELETE FROM api_keys WHERE id = ?1
                     RETURNING (SELECT p.id FROM partners p WHERE p.pkey = api_keys.partner)",
                )
                .and_then(|mut stmt| stmt.query_row([&id], |r| r.get(0)).optional())
                .map_err(db)
            })
            .await
    }

    async fn partners(&self) -> Result<Vec<String>, StoreError> {
        self.auth
            .run(move |conn, _| {
                let mut stmt = conn.prepare_cached("SELECT id FROM partners ORDER BY id")?;
                stmt.query_map([], |r| r.get(0))?.collect()
            })
            .await
    }

    async fn api_keys(&self) -> Result<Vec<StoredApiKey>, StoreError> {
        self.auth
            .run(move |conn, _| {
                let mut stmt = conn.prepare_cached(
                    "SELECT k.id, p.id, k.can_read, k.can_write, k.label, k.secret_hash,
                            k.expires_at
                     FROM api_keys k JOIN partners p ON p.pkey = k.partner ORDER BY p.id, k.id",
                )?;
                stmt.query_map([], |r| {
                    let hash: Vec<u8> = r.get(5)?;
                    Ok(StoredApiKey {
                        key: api_key(r)?,
                        secret_hash: hash.try_into().unwrap_or([0; 32]),
                        expires_at: r.get(6)?,
                    })
                })?
                .collect()
            })
            .await
    }

    async fn pull_state(
        &self,
        partner: &str,
        source: &str,
    ) -> Result<Option<OperationDate>, StoreError> {
        let (partner, source) = (partner.to_owned(), source.to_owned());
        self.auth
            .run(move |conn, _| {
                conn.prepare_cached(
                    "SELECT s.through FROM pull_state s JOIN partners p ON p.pkey = s.partner
                     WHERE p.id = ?1 AND s.source = ?2",
                )?
                .query_row((&partner, &source), |r| {
                    Ok(OperationDate::from_ticks(r.get(0)?))
                })
                .optional()
            })
            .await
    }

    async fn set_pull_state(
        &self,
        partner: &str,
        source: &str,
        through: OperationDate,
    ) -> Result<(), StoreError> {
        let (partner, source, ticks) = (partner.to_owned(), source.to_owned(), through.ticks());
        self.writer
            .run(1, move |conn| {
                let key = find_row(conn, &partner).map_err(db)?.ok_or_else(|| {
                    StoreError::Database(format!("partner {partner} does not exist"))
                })?;
                conn.prepare_cached(
                    "INSERT INTO pull_state (partner, source, through, updated_at)
                     VALUES (?1, ?2, ?3, unixepoch())
                     ON CONFLICT (partner, source)
                     DO UPDATE SET through = excluded.through, updated_at = excluded.updated_at",
                )
                .and_then(|mut stmt| stmt.execute((key, &source, ticks)))
                .map(drop)
                .map_err(db)
            })
            .await
    }

    async fn secret(&self, name: &str, candidate: Vec<u8>) -> Result<Vec<u8>, StoreError> {
        let select = "SELECT value FROM secrets WHERE name = ?1";
        let owned = name.to_owned();
        let stored: Option<Vec<u8>> = self
            .readers
            .run(move |conn, _| {
                conn.prepare_cached(select)?
                    .query_row([&owned], |r| r.get(0))
                    .optional()
            })
            .await?;
        if let Some(value) = stored {
            return Ok(value);
        }
        let name = name.to_owned();
        self.writer
            .run(1, move |conn| {
                conn.prepare_cached(
                    "INSERT INTO secrets (name, value) VALUES (?1, ?2)
                     ON CONFLICT (name) DO NOTHING",
                )
                .and_then(|mut stmt| stmt.execute((&name, &candidate)))
                .and_then(|_| conn.query_row(select, [&name], |r| r.get(0)))
                .map_err(db)
            })
            .await
    }
}

/// A key from a row that starts `k.id, p.id, k.can_read, k.can_write, k.label`.
fn api_key(r: &rusqlite::Row<'_>) -> rusqlite::Result<ApiKey> {
    Ok(ApiKey {
        id: r.get(0)?,
        partner_id: r.get(1)?,
        scopes: Scopes {
            read: r.get(2)?,
            write: r.get(3)?,
        },
        label: r.get(4)?,
    })
}
