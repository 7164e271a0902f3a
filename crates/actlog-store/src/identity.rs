//! Partner users, their roles, their browser sessions and failed sign-ins. All of it lives in
//! the database, so that every server sharing it agrees (N servers must not give an attacker
//! N times the attempts).

use actlog_domain::roles::Role;
use actlog_domain::time::OperationDate;
use async_trait::async_trait;

use crate::StoreError;

/// A partner user as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: i64,
    pub partner_id: String,
    /// Lowercase; unique in the deployment (it is the sign-in name).
    pub email: String,
    /// The PHC string of the password's Argon2id hash.
    pub password_hash: String,
    pub roles: Vec<Role>,
    pub disabled: bool,
    /// The user's chosen language tag (`en-US`, `it-IT`), if any.
    pub lang: Option<String>,
    /// The user's chosen IANA time zone, if any.
    pub time_zone: Option<String>,
}

/// A user to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewUser {
    pub partner_id: String,
    pub email: String,
    pub password_hash: String,
    pub roles: Vec<Role>,
}

/// A signed-in browser session. Only the SHA-256 of its id is stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub user: User,
    /// The token every state-changing form of this session must carry.
    pub csrf_token: String,
    pub created_at: OperationDate,
    pub last_seen: OperationDate,
}

/// An email as stored and compared: trimmed and lowercased (the sign-in name is unique in
/// the deployment whatever its case). Every backend stores it so.
pub fn normalize_email(email: &str) -> String {
    email.trim().to_lowercase()
}

/// Roles as stored: their codes, comma-separated (`admin_agent,sales_agent`).
pub fn role_codes(roles: &[Role]) -> String {
    roles.iter().map(|r| r.code()).collect::<Vec<_>>().join(",")
}

/// Roles read back from [`role_codes`]; a code this version does not know (written by a
/// newer one) is skipped.
pub fn parse_role_codes(codes: &str) -> Vec<Role> {
    codes
        .split(',')
        .filter_map(|code| code.parse::<Role>().ok())
        .collect()
}

/// Why a user could not be created.
#[derive(Debug, thiserror::Error)]
pub enum AddUserError {
    #[error("a user with the email {0} already exists")]
    EmailTaken(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A user coming back from an external identity provider (OpenID Connect), as the provider
/// names them: `tenant_id` + `object_id` (Entra's `tid` + `oid`) identify them; the email and
/// roles are what the provider says today.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExternalSignIn {
    /// The partner the tenant's users belong to (configuration).
    pub partner_id: String,
    pub tenant_id: String,
    pub object_id: String,
    /// The sign-in name to show (Entra's `preferred_username`); stored lowercase, unique in
    /// the deployment like every user's email.
    pub email: String,
    pub roles: Vec<Role>,
}

/// Why an external sign-in could not be recorded. Nothing is written when it fails.
#[derive(Debug, thiserror::Error)]
pub enum ExternalSignInError {
    #[error("another user already has the email {0}")]
    EmailTaken(String),
    #[error("the identity belongs to a user of partner {0}, not of the tenant's partner")]
    OtherPartner(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The password hash of a user who signs in only through an identity provider: not a PHC
/// string, so no password ever matches it.
pub const NO_PASSWORD: &str = "";

/// Users and sessions.
#[async_trait]
pub trait Identity: Send + Sync {
    /// Creates a user (and its partner, if new).
    async fn add_user(&self, user: NewUser) -> Result<User, AddUserError>;

    /// Records a sign-in through an identity provider, in one transaction: the user linked to
    /// (`tenant_id`, `object_id`) gets the email and roles given (replacing the old ones), or is
    /// created with them (and its partner, if new) and linked, without a password. A disabled
    /// user is returned as it is (the caller refuses it).
    async fn sign_in_external(&self, who: &ExternalSignIn) -> Result<User, ExternalSignInError>;

    /// The user signing in with `email` (compared in lowercase).
    async fn user_by_email(&self, email: &str) -> Result<Option<User>, StoreError>;

    /// Every user, or every user of one partner, ordered by partner then email.
    async fn users(&self, partner: Option<&str>) -> Result<Vec<User>, StoreError>;

    /// Replaces a user's roles; false when no such user.
    async fn set_roles(&self, email: &str, roles: &[Role]) -> Result<bool, StoreError>;

    /// Disables or re-enables a user; disabling ends every session of the user. False when no
    /// such user.
    async fn set_disabled(&self, email: &str, disabled: bool) -> Result<bool, StoreError>;

    /// Replaces a user's password hash and ends every session of the user except `keep_session`
    /// (the one the user changed it from), together. False when no such user.
    async fn set_password(
        &self,
        user_id: i64,
        password_hash: &str,
        keep_session: Option<&[u8; 32]>,
    ) -> Result<bool, StoreError>;

    /// Stores a user's language and time zone choices (`None` = follow the browser).
    async fn set_preferences(
        &self,
        user_id: i64,
        lang: Option<&str>,
        time_zone: Option<&str>,
    ) -> Result<(), StoreError>;

    /// Stores a new session for `user_id`.
    async fn create_session(
        &self,
        id_hash: &[u8; 32],
        user_id: i64,
        csrf_token: &str,
        now: OperationDate,
    ) -> Result<(), StoreError>;

    /// The session with this id hash, with its user, if it exists and its user is enabled.
    async fn session(&self, id_hash: &[u8; 32]) -> Result<Option<Session>, StoreError>;

    /// Records activity on a session (for idle expiry).
    async fn touch_session(&self, id_hash: &[u8; 32], now: OperationDate)
    -> Result<(), StoreError>;

    /// Ends a session.
    async fn delete_session(&self, id_hash: &[u8; 32]) -> Result<(), StoreError>;

    /// Deletes sessions last seen before `idle_before` or created before `created_before`.
    async fn purge_sessions(
        &self,
        idle_before: OperationDate,
        created_before: OperationDate,
    ) -> Result<u64, StoreError>;

    /// Records a failed sign-in under `key` (the SHA-256 of what is throttled: an account, an
    /// address) at `at`, and forgets failures of that key older than `forget_before`.
    async fn add_sign_in_failure(
        &self,
        key: &[u8; 32],
        at: OperationDate,
        forget_before: OperationDate,
    ) -> Result<(), StoreError>;

    /// The failed sign-ins recorded under `key` at or after `since`, oldest first, at most
    /// `limit` of the newest.
    async fn sign_in_failures(
        &self,
        key: &[u8; 32],
        since: OperationDate,
        limit: usize,
    ) -> Result<Vec<OperationDate>, StoreError>;

    /// Forgets every failure recorded under `key` (after a successful sign-in).
    async fn clear_sign_in_failures(&self, key: &[u8; 32]) -> Result<(), StoreError>;

    /// Forgets every failure older than `before`, whatever its key; how many.
    async fn purge_sign_in_failures(&self, before: OperationDate) -> Result<u64, StoreError>;
}
