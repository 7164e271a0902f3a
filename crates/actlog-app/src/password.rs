//! Argon2id password hashes, computed off the async runtime's threads.

use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use std::sync::LazyLock;

use argon2::Argon2;

/// Shortest password accepted.
pub const MIN_LENGTH: usize = 10;

/// Why a password was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordError {
    #[error("the password must have at least {MIN_LENGTH} characters")]
    TooShort,
    #[error("the password must have at most 1024 characters")]
    TooLong,
}

/// Checks a new password's shape.
pub fn check_new(password: &str) -> Result<(), PasswordError> {
    match password.chars().count() {
        n if n < MIN_LENGTH => Err(PasswordError::TooShort),
        n if n > 1024 => Err(PasswordError::TooLong),
        _ => Ok(()),
    }
}

/// The PHC string of an Argon2id hash of `password`, with a fresh salt.
pub async fn hash(password: String) -> String {
    tokio::task::spawn_blocking(move || hash_with_fresh_salt(password.as_bytes()))
        .await
        .expect("the hashing task does not panic")
}

/// Whether `password` matches the stored hash. With no stored hash (an unknown account) a dummy
/// hash is still verified, so that the answer takes as long either way.
pub async fn verify(password: String, stored: Option<String>) -> bool {
    tokio::task::spawn_blocking(move || {
        let phc = stored.as_deref().unwrap_or(DUMMY.as_str());
        let Ok(parsed) = PasswordHash::new(phc) else {
            return false;
        };
        let ok = Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok();
        ok && stored.is_some()
    })
    .await
    .unwrap_or(false)
}

/// An Argon2id hash of a random password nobody knows, verified for unknown accounts.
static DUMMY: LazyLock<String> =
    LazyLock::new(|| hash_with_fresh_salt(&crate::keys::random_bytes::<32>()));

/// The PHC string of the Argon2id hash of `password` with a random 16-byte salt.
fn hash_with_fresh_salt(password: &[u8]) -> String {
    let salt = crate::keys::random_bytes::<16>();
    let hash: PasswordHash = Argon2::default()
        .hash_password_with_salt(password, &salt)
        .expect("hashing cannot fail");
    hash.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_hash_verifies_its_password_only() {
        let stored = hash("correct horse battery".into()).await;
        assert!(stored.starts_with("$argon2id$"));
        assert!(verify("correct horse battery".into(), Some(stored.clone())).await);
        assert!(!verify("correct horse batterY".into(), Some(stored)).await);
        assert!(!verify("anything".into(), None).await);
    }

    #[test]
    fn the_dummy_hash_parses() {
        assert!(PasswordHash::new(DUMMY.as_str()).is_ok());
    }

    #[test]
    fn short_passwords_are_refused() {
        assert_eq!(check_new("short"), Err(PasswordError::TooShort));
        assert!(check_new("long enough password").is_ok());
    }
}
