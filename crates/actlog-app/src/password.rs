//! Argon2id password hashes, computed off the async runtime's threads, on a few threads of
//! their own.

use std::sync::LazyLock;

use argon2::password_hash::phc::{Output, ParamsString, PasswordHash, Salt};
use argon2::{Algorithm, Argon2, Block, Params, Version};

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

/// Threads that compute hashes. Argon2 is bound by the CPU, so more threads than cores add
/// no throughput, only memory: each keeps one work area of its own ([`WORK_AREA`]). The
/// server's sign-in gate bounds how many checks wait for them.
const HASH_THREADS: usize = 2;

thread_local! {
    /// The hashing thread's Argon2 work area (19 MiB with the default parameters), allocated
    /// once and reused by every hash the thread computes. Argon2's own per-hash allocation,
    /// freed after each one, was kept by the allocator in every thread's arena, often twice
    /// over (a flood of sign-ins once grew the server by 150 MiB that way).
    static WORK_AREA: std::cell::RefCell<Vec<Block>> = const { std::cell::RefCell::new(Vec::new()) };
}

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
        matches(password.as_bytes(), phc) && stored.is_some()
    })
    .await
}

/// An Argon2id hash of a random password nobody knows, verified for unknown accounts.
static DUMMY: LazyLock<String> =
    LazyLock::new(|| hash_with_fresh_salt(&crate::keys::random_bytes::<32>()));

/// The PHC string of the Argon2id hash of `password` with a random 16-byte salt, with
/// Argon2's default (OWASP's) parameters.
fn hash_with_fresh_salt(password: &[u8]) -> String {
    let salt = crate::keys::random_bytes::<16>();
    let hasher = Argon2::default();
    let mut out = [0; Params::DEFAULT_OUTPUT_LEN];
    compute(&hasher, password, &salt, &mut out).expect("the default parameters hash any password");
    let params = ParamsString::try_from(hasher.params()).expect("the default parameters encode");
    PasswordHash {
        algorithm: Algorithm::default().ident(),
        version: Some(Version::default().into()),
        params,
        salt: Some(Salt::new(&salt).expect("16 bytes are a salt")),
        hash: Some(Output::new(&out).expect("32 bytes are an output")),
    }
    .to_string()
}

/// Whether `password` hashes to the PHC string `phc` (with the parameters it names); false
/// for a string that is not an Argon2 hash.
fn matches(password: &[u8], phc: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(phc) else {
        return false;
    };
    let (Some(salt), Some(expected)) = (&parsed.salt, &parsed.hash) else {
        return false;
    };
    let (Ok(algorithm), Ok(params)) = (
        Algorithm::try_from(parsed.algorithm.as_str()),
        Params::try_from(&parsed),
    ) else {
        return false;
    };
    let version = match parsed.version.map(Version::try_from) {
        None => Version::default(),
        Some(Ok(version)) => version,
        Some(Err(_)) => return false,
    };
    let mut out = vec![0; expected.len()];
    let hasher = Argon2::new(algorithm, version, params);
    if compute(&hasher, password, salt.as_ref(), &mut out).is_err() {
        return false;
    }
    // Output's equality takes the same time wherever the outputs differ.
    Output::new(&out).is_ok_and(|computed| &computed == expected)
}

/// Argon2 of `password` and `salt` into `out`, in this thread's [`WORK_AREA`], grown to the
/// parameters' size when they need more.
fn compute(hasher: &Argon2, password: &[u8], salt: &[u8], out: &mut [u8]) -> argon2::Result<()> {
    WORK_AREA.with_borrow_mut(|area| {
        let blocks = hasher.params().block_count();
        if area.len() < blocks {
            area.resize(blocks, Block::new());
        }
        hasher.hash_password_into_with_memory(password, salt, out, &mut area[..blocks])
    })
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
    fn hashes_stored_by_argon2s_own_hasher_still_verify() {
        use argon2::password_hash::PasswordHasher;
        // Hashes stored before the work area was reused, and hashes of other parameters.
        for params in [Params::DEFAULT, Params::new(8 * 1024, 3, 1, None).unwrap()] {
            let stored = Argon2::from(params)
                .hash_password_with_salt(b"correct horse battery", b"sixteen byte slt")
                .unwrap()
                .to_string();
            assert!(matches(b"correct horse battery", &stored), "{stored}");
            assert!(!matches(b"correct horse batterY", &stored), "{stored}");
        }
        // And the crate's verifier accepts ours.
        use argon2::password_hash::PasswordVerifier;
        let ours = hash_with_fresh_salt(b"correct horse battery");
        let parsed = PasswordHash::new(&ours).unwrap();
        assert!(
            Argon2::default()
                .verify_password(b"correct horse battery", &parsed)
                .is_ok()
        );
        assert!(!matches(b"anything", "not a hash"));
        assert!(!matches(
            b"anything",
            "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ"
        ));
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
