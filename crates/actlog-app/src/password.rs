//! Argon2id password hashes, computed off the async runtime's threads, on a few threads of
//! their own.

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

/// Threads that compute hashes. Each Argon2 computation takes 19 MiB, which the allocator
/// keeps for the thread that used it: on the runtime's blocking pool, whose threads come and
/// go by the hundred under a flood of sign-ins, that memory grew without bound. A few threads
/// of their own keep it at a few times 19 MiB; the server's sign-in gate bounds how many
/// checks wait for them.
const HASH_THREADS: usize = 4;

type Job = Box<dyn FnOnce() + Send>;

/// The queue the hashing threads take their work from.
static HASHERS: LazyLock<std::sync::Mutex<std::sync::mpsc::Sender<Job>>> = LazyLock::new(|| {
    let (send, receive) = std::sync::mpsc::channel::<Job>();
    let receive = std::sync::Arc::new(std::sync::Mutex::new(receive));
    for n in 0..HASH_THREADS {
        let receive = receive.clone();
        std::thread::Builder::new()
            .name(format!("actlog-password-{n}"))
            .spawn(move || {
                loop {
                    let job = receive.lock().unwrap().recv();
                    match job {
                        Ok(job) => job(),
                        Err(_) => return,
                    }
                }
            })
            .expect("a password hashing thread starts");
    }
    std::sync::Mutex::new(send)
});

/// Runs `work` on a hashing thread.
async fn on_hash_thread<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> T {
    let (reply, answer) = tokio::sync::oneshot::channel();
    let job: Job = Box::new(move || {
        let _ = reply.send(work());
    });
    HASHERS
        .lock()
        .unwrap()
        .send(job)
        .expect("the hashing threads run for the life of the process");
    answer.await.expect("a hashing job does not panic")
}

/// The PHC string of an Argon2id hash of `password`, with a fresh salt.
pub async fn hash(password: String) -> String {
    on_hash_thread(move || hash_with_fresh_salt(password.as_bytes())).await
}

/// Whether `password` matches the stored hash. With no stored hash (an unknown account) a dummy
/// hash is still verified, so that the answer takes as long either way.
pub async fn verify(password: String, stored: Option<String>) -> bool {
    on_hash_thread(move || {
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
