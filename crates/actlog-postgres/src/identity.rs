//! Partner users and browser sessions: [`Identity`] for [`PgStore`]. Sessions live in the
//! database, so any server answers for a session another one created.

use actlog_domain::roles::Role;
use actlog_domain::time::OperationDate;
use actlog_store::identity::NO_PASSWORD;
use actlog_store::identity::{normalize_email, parse_role_codes, role_codes};
use actlog_store::{
    AddUserError, ExternalSignIn, ExternalSignInError, Identity, NewUser, Session, StoreError, User,
};
use async_trait::async_trait;
use tokio_postgres::Row;

use crate::PgStore;
use crate::error::db;

const USER_COLUMNS: &str =
    "u.id, p.id, u.email, u.password_hash, u.roles, u.disabled, u.lang, u.time_zone";

fn user_row(row: &Row) -> User {
    let roles: String = row.get(4);
    User {
        id: row.get(0),
        partner_id: row.get(1),
        email: row.get(2),
        password_hash: row.get(3),
        roles: parse_role_codes(&roles),
        disabled: row.get(5),
        lang: row.get(6),
        time_zone: row.get(7),
    }
}

impl PgStore {
    /// Runs one statement; how many rows it changed.
    async fn change(
        &self,
        sql: &str,
        params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
    ) -> Result<u64, StoreError> {
        let client = self.auth().await?;
        let stmt = client.prepare_cached(sql).await.map_err(db)?;
        client.execute(&stmt, params).await.map_err(db)
    }
}

#[async_trait]
impl Identity for PgStore {
    async fn sign_in_external(&self, who: &ExternalSignIn) -> Result<User, ExternalSignInError> {
        let email = normalize_email(&who.email);
        let codes = role_codes(&who.roles);
        let mut client = self.auth().await?;
        let linked = client
            .query_opt(
                "SELECT u.id, p.id FROM external_identities e JOIN users u ON u.id = e.user_id
                 JOIN partners p ON p.pkey = u.partner WHERE e.tenant_id = $1 AND e.object_id = $2",
                &[&who.tenant_id, &who.object_id],
            )
            .await
            .map_err(db)?
            .map(|row| (row.get::<_, i64>(0), row.get::<_, String>(1)));
        let holder: Option<i64> = client
            .query_opt("SELECT id FROM users WHERE email = $1", &[&email])
            .await
            .map_err(db)?
            .map(|row| row.get(0));
        let taken = || ExternalSignInError::EmailTaken(email.clone());
        let id = match linked {
            Some((_, partner)) if partner != who.partner_id => {
                return Err(ExternalSignInError::OtherPartner(partner));
            }
            Some((id, _)) if holder.is_some_and(|h| h != id) => return Err(taken()),
            None if holder.is_some() => return Err(taken()),
            Some((id, _)) => {
                client
                    .execute(
                        "UPDATE users SET email = $2, roles = $3 WHERE id = $1",
                        &[&id, &email, &codes],
                    )
                    .await
                    .map_err(db)?;
                id
            }
            None => {
                let (pkey, _) = self.partners.create(&client, &who.partner_id).await?;
                // The user and its link commit together; a concurrent first sign-in of the same
                // email or identity makes one of them fail and roll back whole.
                let tx = client.transaction().await.map_err(db)?;
                let Some(row) = tx
                    .query_opt(
                        "INSERT INTO users (partner, email, password_hash, roles)
                         VALUES ($1, $2, $3, $4) ON CONFLICT (email) DO NOTHING RETURNING id",
                        &[&pkey, &email, &NO_PASSWORD, &codes],
                    )
                    .await
                    .map_err(db)?
                else {
                    return Err(taken());
                };
                let id: i64 = row.get(0);
                tx.execute(
                    "INSERT INTO external_identities (tenant_id, object_id, user_id)
                     VALUES ($1, $2, $3)",
                    &[&who.tenant_id, &who.object_id, &id],
                )
                .await
                .map_err(db)?;
                tx.commit().await.map_err(db)?;
                id
            }
        };
        let row = client
            .query_one(
                &format!(
                    "SELECT {USER_COLUMNS} FROM users u JOIN partners p ON p.pkey = u.partner
                     WHERE u.id = $1"
                ),
                &[&id],
            )
            .await
            .map_err(db)?;
        Ok(user_row(&row))
    }

    async fn add_user(&self, user: NewUser) -> Result<User, AddUserError> {
        let email = normalize_email(&user.email);
        if self.user_by_email(&email).await?.is_some() {
            return Err(AddUserError::EmailTaken(email));
        }
        let client = self.auth().await?;
        let (pkey, _) = self.partners.create(&client, &user.partner_id).await?;
        let inserted = client
            .execute(
                "INSERT INTO users (partner, email, password_hash, roles)
                 VALUES ($1, $2, $3, $4) ON CONFLICT (email) DO NOTHING",
                &[&pkey, &email, &user.password_hash, &role_codes(&user.roles)],
            )
            .await
            .map_err(db)?;
        if inserted == 0 {
            return Err(AddUserError::EmailTaken(email));
        }
        self.user_by_email(&email).await?.ok_or_else(|| {
            AddUserError::Store(StoreError::Database(format!(
                "user {email} vanished after insert"
            )))
        })
    }

    async fn user_by_email(&self, email: &str) -> Result<Option<User>, StoreError> {
        let client = self.auth().await?;
        let stmt = client
            .prepare_cached(&format!(
                "SELECT {USER_COLUMNS} FROM users u JOIN partners p ON p.pkey = u.partner
                 WHERE u.email = $1"
            ))
            .await
            .map_err(db)?;
        let row = client
            .query_opt(&stmt, &[&normalize_email(email)])
            .await
            .map_err(db)?;
        Ok(row.as_ref().map(user_row))
    }

    async fn users(&self, partner: Option<&str>) -> Result<Vec<User>, StoreError> {
        let client = self.auth().await?;
        let stmt = client
            .prepare_cached(&format!(
                "SELECT {USER_COLUMNS} FROM users u JOIN partners p ON p.pkey = u.partner
                 WHERE $1::text IS NULL OR p.id = $1 ORDER BY p.id COLLATE \"C\", u.email COLLATE \"C\""
            ))
            .await
            .map_err(db)?;
        let rows = client.query(&stmt, &[&partner]).await.map_err(db)?;
        Ok(rows.iter().map(user_row).collect())
    }

    async fn set_roles(&self, email: &str, roles: &[Role]) -> Result<bool, StoreError> {
        let sql = "UPDATE users SET roles = $2 WHERE email = $1";
        let n = self
            .change(sql, &[&normalize_email(email), &role_codes(roles)])
            .await?;
        Ok(n == 1)
    }

    async fn set_disabled(&self, email: &str, disabled: bool) -> Result<bool, StoreError> {
        // One statement: the user disabled and its sessions ended together.
        let sql = "WITH changed AS (
                       UPDATE users SET disabled = $2 WHERE email = $1 RETURNING id
                   ), ended AS (
                       DELETE FROM sessions WHERE $2 AND user_id IN (SELECT id FROM changed)
                   )
                   SELECT count(*) FROM changed";
        let client = self.auth().await?;
        let n: i64 = client
            .query_one(sql, &[&normalize_email(email), &disabled])
            .await
            .map_err(db)?
            .get(0);
        Ok(n == 1)
    }

    async fn set_password(
        &self,
        user_id: i64,
        password_hash: &str,
        keep_session: Option<&[u8; 32]>,
    ) -> Result<bool, StoreError> {
        // One statement: the new hash and the ended sessions commit together.
        let sql = "WITH changed AS (
                       UPDATE users SET password_hash = $2 WHERE id = $1 RETURNING id
                   ), ended AS (
                       DELETE FROM sessions
                       WHERE user_id IN (SELECT id FROM changed)
                         AND id_hash IS DISTINCT FROM $3
                   )
                   SELECT count(*) FROM changed";
        let keep = keep_session.map(|k| k.as_slice());
        let client = self.auth().await?;
        let n: i64 = client
            .query_one(sql, &[&user_id, &password_hash, &keep])
            .await
            .map_err(db)?
            .get(0);
        Ok(n == 1)
    }

    async fn set_preferences(
        &self,
        user_id: i64,
        lang: Option<&str>,
        time_zone: Option<&str>,
    ) -> Result<(), StoreError> {
        let sql = "UPDATE users SET lang = $2, time_zone = $3 WHERE id = $1";
        self.change(sql, &[&user_id, &lang, &time_zone]).await?;
        Ok(())
    }

    async fn create_session(
        &self,
        id_hash: &[u8; 32],
        user_id: i64,
        csrf_token: &str,
        now: OperationDate,
    ) -> Result<(), StoreError> {
        let sql = "INSERT INTO sessions (id_hash, user_id, csrf_token, created_at, last_seen)
                   VALUES ($1, $2, $3, $4, $4)";
        self.change(
            sql,
            &[&id_hash.as_slice(), &user_id, &csrf_token, &now.ticks()],
        )
        .await?;
        Ok(())
    }

    async fn session(&self, id_hash: &[u8; 32]) -> Result<Option<Session>, StoreError> {
        let client = self.auth().await?;
        let stmt = client
            .prepare_cached(&format!(
                "SELECT {USER_COLUMNS}, s.csrf_token, s.created_at, s.last_seen
                 FROM sessions s JOIN users u ON u.id = s.user_id
                 JOIN partners p ON p.pkey = u.partner
                 WHERE s.id_hash = $1 AND NOT u.disabled"
            ))
            .await
            .map_err(db)?;
        let row = client
            .query_opt(&stmt, &[&id_hash.as_slice()])
            .await
            .map_err(db)?;
        Ok(row.map(|row| Session {
            user: user_row(&row),
            csrf_token: row.get(8),
            created_at: OperationDate::from_ticks(row.get(9)),
            last_seen: OperationDate::from_ticks(row.get(10)),
        }))
    }

    async fn touch_session(
        &self,
        id_hash: &[u8; 32],
        now: OperationDate,
    ) -> Result<(), StoreError> {
        let sql = "UPDATE sessions SET last_seen = greatest(last_seen, $2) WHERE id_hash = $1";
        self.change(sql, &[&id_hash.as_slice(), &now.ticks()])
            .await?;
        Ok(())
    }

    async fn delete_session(&self, id_hash: &[u8; 32]) -> Result<(), StoreError> {
        let sql = "DELETE FROM sessions WHERE id_hash = $1";
        self.change(sql, &[&id_hash.as_slice()]).await?;
        Ok(())
    }

    async fn purge_sessions(
        &self,
        idle_before: OperationDate,
        created_before: OperationDate,
    ) -> Result<u64, StoreError> {
        let sql = "DELETE FROM sessions WHERE last_seen < $1 OR created_at < $2";
        self.change(sql, &[&idle_before.ticks(), &created_before.ticks()])
            .await
    }

    async fn add_sign_in_failure(
        &self,
        key: &[u8; 32],
        at: OperationDate,
        forget_before: OperationDate,
    ) -> Result<(), StoreError> {
        let sql = "WITH forgotten AS (
                       DELETE FROM sign_in_failures WHERE key_hash = $1 AND at < $3
                   )
                   INSERT INTO sign_in_failures (key_hash, at) VALUES ($1, $2)";
        self.change(sql, &[&key.as_slice(), &at.ticks(), &forget_before.ticks()])
            .await?;
        Ok(())
    }

    async fn sign_in_failures(
        &self,
        key: &[u8; 32],
        since: OperationDate,
        limit: usize,
    ) -> Result<Vec<OperationDate>, StoreError> {
        let client = self.auth().await?;
        let stmt = client
            .prepare_cached(
                "SELECT at FROM (SELECT at FROM sign_in_failures
                     WHERE key_hash = $1 AND at >= $2 ORDER BY at DESC LIMIT $3) AS newest
                 ORDER BY at",
            )
            .await
            .map_err(db)?;
        let limit = limit.min(i64::MAX as usize) as i64;
        let rows = client
            .query(&stmt, &[&key.as_slice(), &since.ticks(), &limit])
            .await
            .map_err(db)?;
        Ok(rows
            .iter()
            .map(|r| OperationDate::from_ticks(r.get(0)))
            .collect())
    }

    async fn clear_sign_in_failures(&self, key: &[u8; 32]) -> Result<(), StoreError> {
        let sql = "DELETE FROM sign_in_failures WHERE key_hash = $1";
        self.change(sql, &[&key.as_slice()]).await?;
        Ok(())
    }

    async fn purge_sign_in_failures(&self, before: OperationDate) -> Result<u64, StoreError> {
        let sql = "DELETE FROM sign_in_failures WHERE at < $1";
        self.change(sql, &[&before.ticks()]).await
    }
}
