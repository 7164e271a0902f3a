//! Partner users and browser sessions: [`Identity`] for [`SqliteStore`].

use actlog_domain::roles::Role;
use actlog_domain::time::OperationDate;
use actlog_store::identity::NO_PASSWORD;
use actlog_store::identity::{normalize_email, parse_role_codes, role_codes};
use actlog_store::{
    AddUserError, ExternalSignIn, ExternalSignInError, Identity, NewUser, Session, StoreError, User,
};
use async_trait::async_trait;
use rusqlite::{OptionalExtension, Row};

use crate::SqliteStore;
use crate::error::db;
use crate::partners::ensure_row;

const USER_COLUMNS: &str =
    "u.id, p.id, u.email, u.password_hash, u.roles, u.disabled, u.lang, u.time_zone";

fn user_row(row: &Row<'_>) -> rusqlite::Result<User> {
    let roles: String = row.get(4)?;
    Ok(User {
        id: row.get(0)?,
        partner_id: row.get(1)?,
        email: row.get(2)?,
        password_hash: row.get(3)?,
        roles: parse_role_codes(&roles),
        disabled: row.get(5)?,
        lang: row.get(6)?,
        time_zone: row.get(7)?,
    })
}

/// What one external sign-in job found; it writes only when it returns `Signed`.
enum External {
    Signed(User),
    EmailTaken,
    OtherPartner(String),
}

/// [`Identity::sign_in_external`] in one writer job (one savepoint): checks first, then writes.
fn sign_in_external(
    conn: &rusqlite::Connection,
    who: &ExternalSignIn,
) -> rusqlite::Result<External> {
    let email = normalize_email(&who.email);
    let linked: Option<(i64, String)> = conn
        .prepare_cached(
            "SELECT u.id, p.id FROM external_identities e JOIN users u ON u.id = e.user_id
             JOIN partners p ON p.pkey = u.partner WHERE e.tenant_id = ?1 AND e.object_id = ?2",
        )?
        .query_row((&who.tenant_id, &who.object_id), |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .optional()?;
    let holder: Option<i64> = conn
        .prepare_cached("SELECT id FROM users WHERE email = ?1")?
        .query_row([&email], |r| r.get(0))
        .optional()?;
    let codes = role_codes(&who.roles);
    let id = match linked {
        Some((_, partner)) if partner != who.partner_id => {
            return Ok(External::OtherPartner(partner));
        }
        Some((id, _)) if holder.is_some_and(|h| h != id) => return Ok(External::EmailTaken),
        None if holder.is_some() => return Ok(External::EmailTaken),
        Some((id, _)) => {
            conn.prepare_cached("UPDATE users SET email = ?2, roles = ?3 WHERE id = ?1")?
                .execute((id, &email, &codes))?;
            id
        }
        None => {
            let (pkey, _) = ensure_row(conn, &who.partner_id)?;
            let id: i64 = conn
                .prepare_cached(
                    "INSERT INTO users (partner, email, password_hash, roles, created_at)
                     VALUES (?1, ?2, ?3, ?4, unixepoch()) RETURNING id",
                )?
                .query_row((pkey, &email, NO_PASSWORD, &codes), |r| r.get(0))?;
            conn.prepare_cached(
                "INSERT INTO external_identities (tenant_id, object_id, user_id, created_at)
                 VALUES (?1, ?2, ?3, unixepoch())",
            )?
            .execute((&who.tenant_id, &who.object_id, id))?;
            id
        }
    };
    let user = conn
        .prepare_cached(&format!(
            "SELECT {USER_COLUMNS} FROM users u JOIN partners p ON p.pkey = u.partner WHERE u.id = ?1"
        ))?
        .query_row([id], user_row)?;
    Ok(External::Signed(user))
}

#[async_trait]
impl Identity for SqliteStore {
    async fn sign_in_external(&self, who: &ExternalSignIn) -> Result<User, ExternalSignInError> {
        let job = who.clone();
        let found = self
            .writer
            .run(1, move |conn| sign_in_external(conn, &job).map_err(db))
            .await?;
        match found {
            External::Signed(user) => Ok(user),
            External::EmailTaken => {
                Err(ExternalSignInError::EmailTaken(normalize_email(&who.email)))
            }
            External::OtherPartner(p) => Err(ExternalSignInError::OtherPartner(p)),
        }
    }

    async fn add_user(&self, user: NewUser) -> Result<User, AddUserError> {
        let email = normalize_email(&user.email);
        if self.user_by_email(&email).await?.is_some() {
            return Err(AddUserError::EmailTaken(email));
        }
        let codes = role_codes(&user.roles);
        let (partner, hash, address) = (
            user.partner_id.clone(),
            user.password_hash.clone(),
            email.clone(),
        );
        let inserted = self
            .writer
            .run(1, move |conn| {
                let (pkey, _) = ensure_row(conn, &partner).map_err(db)?;
                conn.prepare_cached(
                    "INSERT INTO users (partner, email, password_hash, roles, created_at)
                     VALUES (?1, ?2, ?3, ?4, unixepoch()) ON CONFLICT (email) DO NOTHING",
                )
                .and_then(|mut stmt| stmt.execute((pkey, &address, &hash, &codes)))
                .map_err(db)
            })
            .await?;
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
        let email = normalize_email(email);
        self.auth
            .run(move |conn, _| {
                conn.prepare_cached(&format!(
                    "SELECT {USER_COLUMNS} FROM users u JOIN partners p ON p.pkey = u.partner
                     WHERE u.email = ?1"
                ))?
                .query_row([&email], user_row)
                .optional()
            })
            .await
    }

    async fn users(&self, partner: Option<&str>) -> Result<Vec<User>, StoreError> {
        let partner = partner.map(str::to_owned);
        self.auth
            .run(move |conn, _| {
                let mut stmt = conn.prepare_cached(&format!(
                    "SELECT {USER_COLUMNS} FROM users u JOIN partners p ON p.pkey = u.partner
                     WHERE ?1 IS NULL OR p.id = ?1 ORDER BY p.id, u.email"
                ))?;
                stmt.query_map([&partner], user_row)?.collect()
            })
            .await
    }

    async fn set_roles(&self, email: &str, roles: &[Role]) -> Result<bool, StoreError> {
        let (email, codes) = (normalize_email(email), role_codes(roles));
        self.writer
            .run(1, move |conn| {
                conn.prepare_cached("UPDATE users SET roles = ?2 WHERE email = ?1")
                    .and_then(|mut stmt| stmt.execute((&email, &codes)))
                    .map(|n| n == 1)
                    .map_err(db)
            })
            .await
    }

    async fn set_disabled(&self, email: &str, disabled: bool) -> Result<bool, StoreError> {
        let email = normalize_email(email);
        self.writer
            .run(1, move |conn| {
                let changed = conn
                    .prepare_cached("UPDATE users SET disabled = ?2 WHERE email = ?1")
                    .and_then(|mut stmt| stmt.execute((&email, disabled)))
                    .map_err(db)?;
                if disabled {
                    conn.prepare_cached(
                        "DELETE FROM sessions WHERE user_id = (SELECT id FROM users WHERE email = ?1)",
                    )
                    .and_then(|mut stmt| stmt.execute([&email]))
                    .map_err(db)?;
                }
                Ok(changed == 1)
            })
            .await
    }

    async fn set_password(
        &self,
        user_id: i64,
        password_hash: &str,
        keep_session: Option<&[u8; 32]>,
    ) -> Result<bool, StoreError> {
        let (hash, keep) = (password_hash.to_owned(), keep_session.map(|k| k.to_vec()));
        // One writer job is one savepoint: the hash and the sessions change together.
        self.writer
            .run(1, move |conn| {
                let changed = conn
                    .prepare_cached("UPDATE users SET password_hash = ?2 WHERE id = ?1")
                    .and_then(|mut stmt| stmt.execute((user_id, &hash)))
                    .map_err(db)?;
                conn.prepare_cached(
                    "DELETE FROM sessions WHERE user_id = ?1 AND id_hash IS NOT ?2",
                )
                .and_then(|mut stmt| stmt.execute((user_id, &keep)))
                .map_err(db)?;
                Ok(changed == 1)
            })
            .await
    }

    async fn set_preferences(
        &self,
        user_id: i64,
        lang: Option<&str>,
        time_zone: Option<&str>,
    ) -> Result<(), StoreError> {
        let (lang, zone) = (lang.map(str::to_owned), time_zone.map(str::to_owned));
        self.writer
            .run(1, move |conn| {
                conn.prepare_cached("UPDATE users SET lang = ?2, time_zone = ?3 WHERE id = ?1")
                    .and_then(|mut stmt| stmt.execute((user_id, &lang, &zone)))
                    .map(drop)
                    .map_err(db)
            })
            .await
    }

    async fn create_session(
        &self,
        id_hash: &[u8; 32],
        user_id: i64,
        csrf_token: &str,
        now: OperationDate,
    ) -> Result<(), StoreError> {
        let (hash, csrf, ticks) = (id_hash.to_vec(), csrf_token.to_owned(), now.ticks());
        self.writer
            .run(1, move |conn| {
                conn.prepare_cached(
                    "INSERT INTO sessions (id_hash, user_id, csrf_token, created_at, last_seen)
                     VALUES (?1, ?2, ?3, ?4, ?4)",
                )
                .and_then(|mut stmt| stmt.execute((&hash, user_id, &csrf, ticks)))
                .map(drop)
                .map_err(db)
            })
            .await
    }

    async fn session(&self, id_hash: &[u8; 32]) -> Result<Option<Session>, StoreError> {
        let hash = id_hash.to_vec();
        self.auth
            .run(move |conn, _| {
                conn.prepare_cached(&format!(
                    "SELECT {USER_COLUMNS}, s.csrf_token, s.created_at, s.last_seen
                     FROM sessions s JOIN users u ON u.id = s.user_id JOIN partners p ON p.pkey = u.partner
                     WHERE s.id_hash = ?1 AND u.disabled = 0"
                ))?
                .query_row([&hash], |row| {
                    Ok(Session {
                        user: user_row(row)?,
                        csrf_token: row.get(8)?,
                        created_at: OperationDate::from_ticks(row.get(9)?),
                        last_seen: OperationDate::from_ticks(row.get(10)?),
                    })
                })
                .optional()
            })
            .await
    }

    async fn touch_session(
        &self,
        id_hash: &[u8; 32],
        now: OperationDate,
    ) -> Result<(), StoreError> {
        let (hash, ticks) = (id_hash.to_vec(), now.ticks());
        self.writer
            .run(1, move |conn| {
                conn.prepare_cached(
                    "UPDATE sessions SET last_seen = max(last_seen, ?2) WHERE id_hash = ?1",
                )
                .and_then(|mut stmt| stmt.execute((&hash, ticks)))
                .map(drop)
                .map_err(db)
            })
            .await
    }

    async fn delete_session(&self, id_hash: &[u8; 32]) -> Result<(), StoreError> {
        let hash = id_hash.to_vec();
        self.writer
            .run(1, move |conn| {
                conn.prepare_cached("DELETE FROM sessions WHERE id_hash = ?1")
                    .and_then(|mut stmt| stmt.execute([&hash]))
                    .map(drop)
                    .map_err(db)
            })
            .await
    }

    async fn purge_sessions(
        &self,
        idle_before: OperationDate,
        created_before: OperationDate,
    ) -> Result<u64, StoreError> {
        let (idle, created) = (idle_before.ticks(), created_before.ticks());
        self.writer
            .run(1, move |conn| {
                conn.prepare_cached("DELETE FROM sessions WHERE last_seen < ?1 OR created_at < ?2")
                    .and_then(|mut stmt| stmt.execute((idle, created)))
                    .map(|n| n as u64)
                    .map_err(db)
            })
            .await
    }

    async fn add_sign_in_failure(
        &self,
        key: &[u8; 32],
        at: OperationDate,
        forget_before: OperationDate,
    ) -> Result<(), StoreError> {
        let (key, at, forget) = (key.to_vec(), at.ticks(), forget_before.ticks());
        self.writer
            .run(1, move |conn| {
                conn.prepare_cached("DELETE FROM sign_in_failures WHERE key_hash = ?1 AND at < ?2")
                    .and_then(|mut stmt| stmt.execute((&key, forget)))
                    .and_then(|_| {
                        conn.prepare_cached(
                            "INSERT INTO sign_in_failures (key_hash, at) VALUES (?1, ?2)",
                        )
                    })
                    .and_then(|mut stmt| stmt.execute((&key, at)))
                    .map(drop)
                    .map_err(db)
            })
            .await
    }

    async fn sign_in_failures(
        &self,
        key: &[u8; 32],
        since: OperationDate,
        limit: usize,
    ) -> Result<Vec<OperationDate>, StoreError> {
        let (key, since, limit) = (
            key.to_vec(),
            since.ticks(),
            limit.min(i64::MAX as usize) as i64,
        );
        self.auth
            .run(move |conn, _| {
                let mut stmt = conn.prepare_cached(
                    "SELECT at FROM (SELECT at FROM sign_in_failures
                         WHERE key_hash = ?1 AND at >= ?2 ORDER BY at DESC LIMIT ?3)
                     ORDER BY at",
                )?;
                stmt.query_map((&key, since, limit), |r| {
                    Ok(OperationDate::from_ticks(r.get(0)?))
                })?
                .collect()
            })
            .await
    }

    async fn clear_sign_in_failures(&self, key: &[u8; 32]) -> Result<(), StoreError> {
        let key = key.to_vec();
        self.writer
            .run(1, move |conn| {
                conn.prepare_cached("DELETE FROM sign_in_failures WHERE key_hash = ?1")
                    .and_then(|mut stmt| stmt.execute([&key]))
                    .map(drop)
                    .map_err(db)
            })
            .await
    }

    async fn purge_sign_in_failures(&self, before: OperationDate) -> Result<u64, StoreError> {
        let before = before.ticks();
        self.writer
            .run(1, move |conn| {
                conn.prepare_cached("DELETE FROM sign_in_failures WHERE at < ?1")
                    .and_then(|mut stmt| stmt.execute([before]))
                    .map(|n| n as u64)
                    .map_err(db)
            })
            .await
    }
}
