//! Partners, API keys and deployment secrets: [`Tenancy`] for [`PgStore`].

use actlog_domain::OperationDate;
use actlog_store::{ApiKey, KeyDetails, Scopes, StoreError, StoredApiKey, Tenancy};
use async_trait::async_trait;

use crate::PgStore;
use crate::error::db;

#[async_trait]
impl Tenancy for PgStore {
    async fn ensure_partner(&self, partner: &str) -> Result<bool, StoreError> {
        let client = self.auth().await?;
        Ok(self.partners.create(&client, partner).await?.1)
    }

    async fn add_api_key(&self, key: &ApiKey, secret_hash: &[u8; 32]) -> Result<(), StoreError> {
        let client = self.auth().await?;
        let partner = self.partners.find(&client, &key.partner_id).await?;
        let partner = partner.ok_or_else(|| {
            StoreError::Database(format!(
                "cannot add API key {}: partner {} does not exist",
                key.id, key.partner_id
            ))
        })?;
        client
            .execute(
                "INSERT INTO api_keys (id, partner, secret_hash, can_read, can_write, label)
                 VALUES ($1, $2, $3, $4, $5, $6)",
                &[
                    &key.id,
                    &partner,
                    &secret_hash.as_slice(),
                    &key.scopes.read,
                    &key.scopes.write,
                    &key.label,
                ],
            )
            .await
            .map_err(db)?;
        Ok(())
    }

    async fn api_key(&self, secret_hash: &[u8; 32]) -> Result<Option<ApiKey>, StoreError> {
        let client = self.auth().await?;
        let stmt = client
            .prepare_cached(
                "SELECT k.id, p.id, k.can_read, k.can_write, k.label
                 FROM api_keys k JOIN partners p ON p.pkey = k.partner
                 WHERE k.secret_hash = $1
                   AND (k.expires_at IS NULL OR k.expires_at > extract(epoch FROM now()))",
            )
            .await
            .map_err(db)?;
        let row = client
            .query_opt(&stmt, &[&secret_hash.as_slice()])
            .await
            .map_err(db)?;
        Ok(row.as_ref().map(api_key))
    }

    async fn set_api_key_expiry(
        &self,
        id: &str,
        expires_at: Option<i64>,
    ) -> Result<bool, StoreError> {
        let client = self.auth().await?;
        let n = client
            .execute(
                "UPDATE api_keys SET expires_at = $2 WHERE id = $1",
                &[&id, &expires_at],
            )
            .await
            .map_err(db)?;
        Ok(n > 0)
    }

    async fn touch_api_key(&self, id: &str, now: i64) -> Result<(), StoreError> {
        let client = self.auth().await?;
        client
            .execute(
                "UPDATE api_keys SET last_used_at = $2::bigint
                 WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < $2::bigint - 60)",
                &[&id, &now],
            )
            .await
            .map_err(db)?;
        Ok(())
    }

    async fn key_details(&self, partner: &str) -> Result<Vec<KeyDetails>, StoreError> {
        let client = self.auth().await?;
        let rows = client
            .query(
                "SELECT k.id, p.id, k.can_read, k.can_write, k.label,
                        extract(epoch FROM k.created_at)::bigint, k.last_used_at, k.expires_at
                 FROM api_keys k JOIN partners p ON p.pkey = k.partner
                 WHERE p.id = $1 ORDER BY k.created_at, k.id COLLATE \"C\"",
                &[&partner],
            )
            .await
            .map_err(db)?;
        Ok(rows
            .iter()
            .map(|r| KeyDetails {
                key: api_key(r),
                created_at: r.get(5),
                last_used_at: r.get(6),
                expires_at: r.get(7),
            })
            .collect())
    }

    async fn revoke_api_key(&self, id: &str) -> Result<Option<String>, StoreError> {
        let client = self.auth().await?;
        let row = client
            .query_opt(
                "DELETE FROM api_keys k USING partners p
                 WHERE k.id = $1 AND p.pkey = k.partner RETURNING p.id",
                &[&id],
            )
            .await
            .map_err(db)?;
        Ok(row.map(|r| r.get(0)))
    }

    async fn partners(&self) -> Result<Vec<String>, StoreError> {
        let client = self.auth().await?;
        let rows = client
            .query("SELECT id FROM partners ORDER BY id COLLATE \"C\"", &[])
            .await
            .map_err(db)?;
        Ok(rows.iter().map(|r| r.get(0)).collect())
    }

    async fn api_keys(&self) -> Result<Vec<StoredApiKey>, StoreError> {
        let client = self.auth().await?;
        let rows = client
            .query(
                "SELECT k.id, p.id, k.can_read, k.can_write, k.label, k.secret_hash, k.expires_at
                 FROM api_keys k JOIN partners p ON p.pkey = k.partner
                 ORDER BY p.id COLLATE \"C\", k.id COLLATE \"C\"",
                &[],
            )
            .await
            .map_err(db)?;
        Ok(rows
            .iter()
            .map(|r| {
                let hash: Vec<u8> = r.get(5);
                StoredApiKey {
                    key: api_key(r),
                    secret_hash: hash.try_into().unwrap_or([0; 32]),
                    expires_at: r.get(6),
                }
            })
            .collect())
    }

    async fn pull_state(
        &self,
        partner: &str,
        source: &str,
    ) -> Result<Option<OperationDate>, StoreError> {
        let client = self.auth().await?;
        let Some(key) = self.partners.find(&client, partner).await? else {
            return Ok(None);
        };
        let row = client
            .query_opt(
                "SELECT through FROM pull_state WHERE partner = $1 AND source = $2",
                &[&key, &source],
            )
            .await
            .map_err(db)?;
        Ok(row.map(|r| OperationDate::from_ticks(r.get(0))))
    }

    async fn set_pull_state(
        &self,
        partner: &str,
        source: &str,
        through: OperationDate,
    ) -> Result<(), StoreError> {
        let client = self.auth().await?;
        let key = self
            .partners
            .find(&client, partner)
            .await?
            .ok_or_else(|| StoreError::Database(format!("partner {partner} does not exist")))?;
        client
            .execute(
                "INSERT INTO pull_state (partner, source, through) VALUES ($1, $2, $3)
                 ON CONFLICT (partner, source)
                 DO UPDATE SET through = excluded.through, updated_at = now()",
                &[&key, &source, &through.ticks()],
            )
            .await
            .map_err(db)?;
        Ok(())
    }

    async fn secret(&self, name: &str, candidate: Vec<u8>) -> Result<Vec<u8>, StoreError> {
        let client = self.auth().await?;
        // The first value stored wins, whichever server stores it; the others read it back.
        let stmt = client
            .prepare_cached(
                "WITH new AS (
                     INSERT INTO secrets (name, value) VALUES ($1, $2)
                     ON CONFLICT (name) DO NOTHING RETURNING value
                 )
                 SELECT value FROM new UNION ALL SELECT value FROM secrets WHERE name = $1",
            )
            .await
            .map_err(db)?;
        for _ in 0..3 {
            if let Some(row) = client
                .query_opt(&stmt, &[&name, &candidate])
                .await
                .map_err(db)?
            {
                return Ok(row.get(0));
            }
        }
        Err(StoreError::Database(format!(
            "the secret {name} could be neither stored nor read"
        )))
    }
}

/// A key from a row that starts `k.id, p.id, k.can_read, k.can_write, k.label`.
fn api_key(r: &tokio_postgres::Row) -> ApiKey {
    ApiKey {
        id: r.get(0),
        partner_id: r.get(1),
        scopes: Scopes {
            read: r.get(2),
            write: r.get(3),
        },
        label: r.get(4),
    }
}
