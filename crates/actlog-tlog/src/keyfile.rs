//! The signing keyring: a file outside the database, so the database alone cannot forge a
//! checkpoint.
//!
//! It holds the current signing key and the verifier keys of every key it replaced, so that
//! checkpoints signed before a rotation still verify. The format is text, one item a line:
//!
//! ```text
//! actlog-keyring-v1
//! current PRIVATE+KEY+<name>+<hex key ID>+<base64(0x01 || Ed25519 seed)>
//! retired <verifier key>
//! retired <verifier key>
//! ```
//!
//! The `current` line is the private key form Go's `golang.org/x/mod/sumdb/note` reads (and
//! `signed_note`), so the key can be taken to other tools; `retired` lines are verifier keys,
//! newest first. The file is created with mode 0600 (never widened afterwards) and refused when
//! group or others have any access to it: whoever reads it can sign checkpoints.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use crate::note::{NoteError, SigningKey, VerifierKey};

const HEADER: &str = "actlog-keyring-v1";

/// Why the keyring could not be read, created or rotated.
#[derive(Debug, thiserror::Error)]
pub enum KeyfileError {
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error(
        "{}: group or others may access the signing key (mode {mode:03o}); \
         restrict it with `chmod 600 {}`",
        path.display(),
        path.display()
    )]
    Permissions { path: PathBuf, mode: u32 },
    #[error("{}, line {line}: {reason}", path.display())]
    Malformed {
        path: PathBuf,
        line: usize,
        reason: String,
    },
    #[error("{}: the key is named `{found}`, but this deployment is `{expected}`", path.display())]
    WrongName {
        path: PathBuf,
        found: String,
        expected: String,
    },
    #[error(transparent)]
    Key(#[from] NoteError),
}

/// The deployment's signing key and the verifier keys of the keys it replaced.
#[derive(Debug, Clone)]
pub struct Keyring {
    current: SigningKey,
    retired: Vec<VerifierKey>,
}

impl Keyring {
    /// Reads the keyring at `path`, refusing it when group or others may access it.
    pub fn load(path: &Path) -> Result<Keyring, KeyfileError> {
        let io_error = |source| KeyfileError::Io {
            path: path.to_owned(),
            source,
        };
        // The mode is read from the open file, so it is the mode of what is read.
        let mut file = File::open(path).map_err(io_error)?;
        let mode = file.metadata().map_err(io_error)?.permissions().mode();
        if mode & 0o077 != 0 {
            return Err(KeyfileError::Permissions {
                path: path.to_owned(),
                mode: mode & 0o777,
            });
        }
        let mut text = String::new();
        file.read_to_string(&mut text).map_err(io_error)?;
        parse(&text).map_err(|(line, reason)| KeyfileError::Malformed {
            path: path.to_owned(),
            line,
            reason,
        })
    }

    /// The keyring at `path`, created with a new key named `name` (the deployment's name) when
    /// there is none; an existing key of another name is refused.
    ///
    /// Creating is atomic and never overwrites: the key is written to a temporary file with
    /// mode 0600, then linked into place, so a crash leaves no half-written key and two
    /// processes starting at once end up with the same key.
    pub fn load_or_create(path: &Path, name: &str) -> Result<Keyring, KeyfileError> {
        match Keyring::load(path) {
            Err(KeyfileError::Io { source, .. }) if source.kind() == io::ErrorKind::NotFound => {}
            loaded => return check_name(loaded?, path, name),
        }
        let keyring = Keyring {
            current: SigningKey::generate(name)?,
            retired: Vec::new(),
        };
        match publish(path, &keyring.to_text(), Replace::Never) {
            Ok(()) => Ok(keyring),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                check_name(Keyring::load(path)?, path, name)
            }
            Err(source) => Err(KeyfileError::Io {
                path: path.to_owned(),
                source,
            }),
        }
    }

    /// Replaces the current key at `path` by a new one named `name`, keeping the old one's
    /// verifier key, and returns the new keyring. The file is replaced atomically.
    pub fn rotate(path: &Path, name: &str) -> Result<Keyring, KeyfileError> {
        let old = Keyring::load(path)?;
        let mut retired = vec![old.current.verifier().clone()];
        retired.extend(old.retired);
        let keyring = Keyring {
            current: SigningKey::generate(name)?,
            retired,
        };
        publish(path, &keyring.to_text(), Replace::Always).map_err(|source| KeyfileError::Io {
            path: path.to_owned(),
            source,
        })?;
        Ok(keyring)
    }

    /// The key new checkpoints are signed with.
    pub fn signing_key(&self) -> &SigningKey {
        &self.current
    }

    /// Every key a checkpoint of this deployment may be signed by: the current one first,
    /// then the retired ones, newest first.
    pub fn verifiers(&self) -> Vec<VerifierKey> {
        let mut all = vec![self.current.verifier().clone()];
        all.extend(self.retired.iter().cloned());
        all
    }

    fn to_text(&self) -> String {
        let key = self.current.verifier();
        let mut private = vec![0x01];
        private.extend_from_slice(&self.current.seed());
        let mut text = format!(
            "{HEADER}\ncurrent PRIVATE+KEY+{}+{:08x}+{}\n",
            key.name(),
            key.key_id(),
            STANDARD.encode(private)
        );
        for retired in &self.retired {
            text.push_str(&format!("retired {retired}\n"));
        }
        text
    }
}

fn check_name(keyring: Keyring, path: &Path, name: &str) -> Result<Keyring, KeyfileError> {
    match keyring.current.name() == name {
        true => Ok(keyring),
        false => Err(KeyfileError::WrongName {
            path: path.to_owned(),
            found: keyring.current.name().to_owned(),
            expected: name.to_owned(),
        }),
    }
}

/// The keyring in `text`, or the line (from 1) that is wrong and why.
fn parse(text: &str) -> Result<Keyring, (usize, String)> {
    let mut lines = text.lines().enumerate().map(|(i, line)| (i + 1, line));
    match lines.next() {
        Some((_, HEADER)) => {}
        _ => return Err((1, format!("expected `{HEADER}`"))),
    }
    let current = match lines.next() {
        Some((n, line)) => {
            let key = line.strip_prefix("current ");
            let key = key.ok_or((n, "expected `current PRIVATE+KEY+…`".to_owned()))?;
            parse_private(key).map_err(|reason| (n, reason))?
        }
        None => return Err((2, "no current key".to_owned())),
    };
    let mut retired = Vec::new();
    for (n, line) in lines {
        let key = line.strip_prefix("retired ");
        let key = key.ok_or((n, "expected `retired <verifier key>`".to_owned()))?;
        retired.push(key.parse().map_err(|e: NoteError| (n, e.to_string()))?);
    }
    Ok(Keyring { current, retired })
}

/// `PRIVATE+KEY+<name>+<hex key ID>+<base64(0x01 || seed)>`, its key ID checked.
fn parse_private(text: &str) -> Result<SigningKey, String> {
    let rest = text
        .strip_prefix("PRIVATE+KEY+")
        .ok_or("expected PRIVATE+KEY+…")?;
    let (name, rest) = rest.split_once('+').ok_or("expected name+id+key")?;
    let (id, key) = rest.split_once('+').ok_or("expected name+id+key")?;
    let key = STANDARD.decode(key).map_err(|_| "the key is not base64")?;
    let seed = match key.split_first() {
        Some((0x01, seed)) => <[u8; 32]>::try_from(seed).map_err(|_| "a seed is 32 bytes")?,
        _ => return Err("not an Ed25519 key (type 0x01)".to_owned()),
    };
    let signing = SigningKey::from_seed(name, seed).map_err(|e| e.to_string())?;
    if format!("{:08x}", signing.verifier().key_id()) != id {
        return Err("the key ID does not match the key".to_owned());
    }
    Ok(signing)
}

/// Whether [`publish`] may replace an existing file.
#[derive(Clone, Copy, PartialEq)]
enum Replace {
    Never,
    Always,
}

/// Writes `text` to `path` atomically with mode 0600: into a new temporary file beside it
/// (created with that mode, so the key is never readable by others, even for an instant), made
/// durable, then linked (never replacing) or renamed (replacing) into place.
fn publish(path: &Path, text: &str, replace: Replace) -> io::Result<()> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)?;
    let temporary = temporary_beside(path)?;
    let written = write_new(&temporary, text).and_then(|()| match replace {
        Replace::Never => fs::hard_link(&temporary, path),
        Replace::Always => fs::rename(&temporary, path),
    });
    // After a rename the temporary name is gone already; otherwise it must not stay.
    let _ = fs::remove_file(&temporary);
    written?;
    File::open(dir)?.sync_all()
}

fn write_new(path: &Path, text: &str) -> io::Result<()> {
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(text.as_bytes())?;
    file.sync_all()
}

/// A fresh name in `path`'s directory, for a file to be moved onto `path`.
fn temporary_beside(path: &Path) -> io::Result<PathBuf> {
    let name = path
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "the key path names no file"))?;
    let random = getrandom::u64().map_err(|e| io::Error::other(e.to_string()))?;
    let mut temporary = std::ffi::OsString::from(".");
    temporary.push(name);
    temporary.push(format!(".{random:016x}.tmp"));
    Ok(path.with_file_name(temporary))
}

#[cfg(test)]
mod tests;
