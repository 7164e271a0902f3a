//! C2SP signed notes (c2sp.org/signed-note) with Ed25519 keys.
//!
//! A signed note is a text ending in a newline, a blank line, and signature lines
//! `— <key name> base64(key ID || signature)`. It is what transparency logs sign their
//! checkpoints with, so an auditor's own tools (Go's `golang.org/x/mod/sumdb/note`, the
//! `signed_note` crate, a few lines of Python) check actlog's checkpoints without trusting
//! actlog. A key is named by its signer name (the deployment's name) and a 4-byte key ID, the
//! first bytes of `SHA-256(name || 0x0A || 0x01 || public key)`; its public half is shared as a
//! verifier key `<name>+<hex key ID>+<base64(0x01 || public key)>`.

use std::fmt;
use std::str::FromStr;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::Signer as _;
use sha2::{Digest, Sha256};

/// The signature type byte for Ed25519 in key IDs and verifier keys.
const ED25519: u8 = 0x01;
/// What starts a signature line: an em dash (U+2014) and a space.
const SIGNATURE_PREFIX: &str = "\u{2014} ";
/// Bounds on what [`open`] reads, well above a checkpoint's size; the specification asks
/// verifiers for a limit and to accept at least 16 signatures.
const MAX_NOTE_LEN: usize = 1 << 20;
const MAX_SIGNATURES: usize = 100;

/// Why a key or a note was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NoteError {
    #[error("`{0}` is not a key name: it must be non-empty, without spaces, `+` or controls")]
    InvalidKeyName(String),
    #[error("malformed verifier key: {0}")]
    InvalidVerifierKey(&'static str),
    #[error("malformed note: {0}")]
    Malformed(&'static str),
    #[error("the signature by {name}+{key_id:08x} does not verify: the note was altered")]
    BadSignature { name: String, key_id: u32 },
    #[error("the note is not signed by any known key (signed by: {})", signers.join(", "))]
    UnknownKey {
        /// Each signature's `<name>+<hex key ID>`.
        signers: Vec<String>,
    },
    #[error("the system's random number source failed: {0}")]
    Random(String),
}

/// An Ed25519 signing key with its signer name. `Debug` shows the name and key ID only.
#[derive(Clone)]
pub struct SigningKey {
    key: ed25519_dalek::SigningKey,
    verifier: VerifierKey,
}

impl SigningKey {
    /// A new random key named `name`.
    pub fn generate(name: &str) -> Result<SigningKey, NoteError> {
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed).map_err(|e| NoteError::Random(e.to_string()))?;
        SigningKey::from_seed(name, seed)
    }

    /// The key whose RFC 8032 private key (seed) is `seed`.
    pub fn from_seed(name: &str, seed: [u8; 32]) -> Result<SigningKey, NoteError> {
        check_key_name(name)?;
        let key = ed25519_dalek::SigningKey::from_bytes(&seed);
        let verifier = VerifierKey::new(name, key.verifying_key());
        Ok(SigningKey { key, verifier })
    }

    /// The RFC 8032 private key, for the keyring file only.
    pub(crate) fn seed(&self) -> [u8; 32] {
        self.key.to_bytes()
    }

    /// The signer name, written on every signature line.
    pub fn name(&self) -> &str {
        &self.verifier.name
    }

    /// The public half, to hand to whoever verifies.
    pub fn verifier(&self) -> &VerifierKey {
        &self.verifier
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("name", &self.verifier.name)
            .field("key_id", &format_args!("{:08x}", self.verifier.key_id))
            .finish_non_exhaustive()
    }
}

/// An Ed25519 public key with its signer name and key ID. `Display` and `FromStr` use the
/// verifier key text, `<name>+<8 lowercase hex digits>+<base64(0x01 || public key)>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifierKey {
    name: String,
    key_id: u32,
    key: ed25519_dalek::VerifyingKey,
}

impl VerifierKey {
    fn new(name: &str, key: ed25519_dalek::VerifyingKey) -> VerifierKey {
        let digest = Sha256::new()
            .chain_update(name.as_bytes())
            .chain_update([b'\n', ED25519])
            .chain_update(key.as_bytes())
            .finalize();
        let key_id = u32::from_be_bytes(digest[..4].try_into().expect("4 bytes"));
        VerifierKey {
            name: name.to_owned(),
            key_id,
            key,
        }
    }

    /// The signer name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The key ID, as a big-endian number.
    pub fn key_id(&self) -> u32 {
        self.key_id
    }

    /// Whether `signature` (without the key ID) is this key's over `text`.
    fn verifies(&self, text: &str, signature: &[u8]) -> bool {
        let Ok(bytes) = <[u8; 64]>::try_from(signature) else {
            return false;
        };
        let signature = ed25519_dalek::Signature::from_bytes(&bytes);
        self.key.verify_strict(text.as_bytes(), &signature).is_ok()
    }
}

impl fmt::Display for VerifierKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut key = vec![ED25519];
        key.extend_from_slice(self.key.as_bytes());
        write!(
            f,
            "{}+{:08x}+{}",
            self.name,
            self.key_id,
            STANDARD.encode(key)
        )
    }
}

impl FromStr for VerifierKey {
    type Err = NoteError;

    fn from_str(text: &str) -> Result<VerifierKey, NoteError> {
        let bad = NoteError::InvalidVerifierKey;
        // The name and the hex ID hold no `+`; base64 may.
        let (name, rest) = text.split_once('+').ok_or(bad("expected name+id+key"))?;
        let (id, key) = rest.split_once('+').ok_or(bad("expected name+id+key"))?;
        check_key_name(name)?;
        let is_lower_hex = |c: char| c.is_ascii_digit() || ('a'..='f').contains(&c);
        if id.len() != 8 || !id.chars().all(is_lower_hex) {
            return Err(bad("the key ID must be 8 lowercase hex digits"));
        }
        let key = STANDARD
            .decode(key)
            .map_err(|_| bad("the key is not base64"))?;
        let Some((&ED25519, key)) = key.split_first() else {
            return Err(bad("not an Ed25519 key (type 0x01)"));
        };
        let key = <[u8; 32]>::try_from(key).map_err(|_| bad("an Ed25519 key is 32 bytes"))?;
        let key = ed25519_dalek::VerifyingKey::from_bytes(&key)
            .map_err(|_| bad("not an Ed25519 public key"))?;
        let verifier = VerifierKey::new(name, key);
        if format!("{:08x}", verifier.key_id) != id {
            return Err(bad("the key ID does not match the name and key"));
        }
        Ok(verifier)
    }
}

/// Refuses names the format cannot carry: empty, or with a Unicode space, `+` or a control.
fn check_key_name(name: &str) -> Result<(), NoteError> {
    let bad = |c: char| c.is_whitespace() || c == '+' || c.is_control();
    match name.is_empty() || name.chars().any(bad) {
        true => Err(NoteError::InvalidKeyName(name.to_owned())),
        false => Ok(()),
    }
}

/// Refuses a text no note can carry: one not ending in a newline, or holding a control
/// character other than newline.
fn check_text(text: &str) -> Result<(), NoteError> {
    if !text.ends_with('\n') {
        return Err(NoteError::Malformed("the text must end with a newline"));
    }
    if text.chars().any(|c| c.is_ascii_control() && c != '\n') {
        return Err(NoteError::Malformed(
            "control characters other than newline",
        ));
    }
    Ok(())
}

/// The signed note of `text` (which must end in a newline) with one signature by `key`.
pub fn sign(text: &str, key: &SigningKey) -> Result<String, NoteError> {
    check_text(text)?;
    let mut signature = key.verifier.key_id.to_be_bytes().to_vec();
    signature.extend_from_slice(&key.key.sign(text.as_bytes()).to_bytes());
    Ok(format!(
        "{text}\n{SIGNATURE_PREFIX}{} {}\n",
        key.name(),
        STANDARD.encode(signature)
    ))
}

/// A note whose signature by at least one known key verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedNote {
    /// The signed text, final newline included.
    pub text: String,
    /// The known keys whose signatures verified.
    pub signers: Vec<VerifierKey>,
}

/// Checks `note` against the keys a verifier trusts.
///
/// Signatures by keys not in `known` (name and ID both matching) are ignored, as the
/// specification requires; a signature by a known key that does not verify refuses the whole
/// note, since it means the note was altered; and a note with no signature by a known key is
/// refused ([`NoteError::UnknownKey`]).
pub fn open(note: &str, known: &[VerifierKey]) -> Result<VerifiedNote, NoteError> {
    if note.len() > MAX_NOTE_LEN {
        return Err(NoteError::Malformed("larger than a note may be"));
    }
    let split = note
        .rfind("\n\n")
        .ok_or(NoteError::Malformed("no blank line before the signatures"))?;
    let (text, signatures) = (&note[..=split], &note[split + 2..]);
    check_text(text)?;
    let lines = signatures.strip_suffix('\n').ok_or(NoteError::Malformed(
        "the signatures must end with a newline",
    ))?;
    let mut signers = Vec::new();
    let mut unknown = Vec::new();
    for (count, line) in lines.split('\n').enumerate() {
        if count == MAX_SIGNATURES {
            return Err(NoteError::Malformed("too many signatures"));
        }
        let (name, key_id, signature) = parse_signature(line)?;
        match known.iter().find(|k| k.name == name && k.key_id == key_id) {
            None => unknown.push(format!("{name}+{key_id:08x}")),
            Some(key) if key.verifies(text, signature.as_slice()) => {
                if !signers.contains(key) {
                    signers.push(key.clone());
                }
            }
            Some(_) => {
                let name = name.to_owned();
                return Err(NoteError::BadSignature { name, key_id });
            }
        }
    }
    if signers.is_empty() {
        return Err(NoteError::UnknownKey { signers: unknown });
    }
    Ok(VerifiedNote {
        text: text.to_owned(),
        signers,
    })
}

/// One signature line: its key name, key ID and signature bytes.
fn parse_signature(line: &str) -> Result<(&str, u32, Vec<u8>), NoteError> {
    let bad = NoteError::Malformed;
    let rest = line.strip_prefix(SIGNATURE_PREFIX).ok_or(bad(
        "a signature line must start with an em dash and a space",
    ))?;
    let (name, encoded) = rest
        .split_once(' ')
        .ok_or(bad("a signature line is `— <name> <base64>`"))?;
    check_key_name(name).map_err(|_| bad("a signature's key name is invalid"))?;
    let bytes = STANDARD
        .decode(encoded)
        .map_err(|_| bad("a signature is not base64"))?;
    if bytes.len() < 5 {
        return Err(bad("a signature is shorter than a key ID and a signature"));
    }
    let key_id = u32::from_be_bytes(bytes[..4].try_into().expect("4 bytes"));
    Ok((name, key_id, bytes[4..].to_vec()))
}

#[cfg(test)]
mod tests;
