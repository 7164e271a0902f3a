//! C2SP tlog-checkpoints (c2sp.org/tlog-checkpoint): "this log has this size and this root",
//! signed as a note.
//!
//! The text is three lines, each ending in a newline: the origin, the tree size in decimal,
//! the root hash in base64. The origin names the log, so that a checkpoint of one partner's
//! log can never be passed off as another's: `<deployment>/partner/<partner id>` ([`origin`]),
//! signed by the deployment's key (whose name is the deployment's name). Parsing is strict: a
//! text that is not exactly what [`Checkpoint::to_text`] writes is refused, including the
//! extension lines the specification allows, since actlog writes none.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use crate::merkle::Hash;
use crate::note::{self, NoteError, SigningKey, VerifierKey};

/// Why a checkpoint or an origin was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CheckpointError {
    #[error(
        "`{0}` cannot name a log: an origin must be non-empty, without spaces, `+` or controls"
    )]
    InvalidOrigin(String),
    #[error("a partner id cannot be empty")]
    EmptyPartner,
    #[error("malformed checkpoint: {0}")]
    Malformed(&'static str),
    #[error("the checkpoint is of log `{found}`, not `{expected}`")]
    WrongOrigin { expected: String, found: String },
    #[error(transparent)]
    Note(#[from] NoteError),
}

/// The origin of a partner's log: `<deployment>/partner/<partner id>`.
///
/// `deployment` is the deployment's name (the signing key's name too), such as
/// `actlog.example`; it must be a valid key name (non-empty, no Unicode space, `+` or
/// control), and is written as given. The partner id is written with every byte outside
/// `A-Z a-z 0-9 - . _ ~` percent-encoded as `%XX` (uppercase hex): a tenant GUID is unchanged,
/// and since the encoded id never holds a `/`, no two (deployment, partner) pairs share an
/// origin.
pub fn origin(deployment: &str, partner: &str) -> Result<String, CheckpointError> {
    if !valid_origin(deployment) {
        return Err(CheckpointError::InvalidOrigin(deployment.to_owned()));
    }
    if partner.is_empty() {
        return Err(CheckpointError::EmptyPartner);
    }
    let mut out = format!("{deployment}/partner/");
    for byte in partner.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                out.push(char::from(byte))
            }
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    Ok(out)
}

fn valid_origin(origin: &str) -> bool {
    let bad = |c: char| c.is_whitespace() || c == '+' || c.is_control();
    !origin.is_empty() && !origin.chars().any(bad)
}

/// A log's state: its origin, size and root hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    origin: String,
    size: u64,
    root: Hash,
}

impl Checkpoint {
    /// A checkpoint of the log named `origin` (see [`origin`]).
    pub fn new(origin: &str, size: u64, root: Hash) -> Result<Checkpoint, CheckpointError> {
        if !valid_origin(origin) {
            return Err(CheckpointError::InvalidOrigin(origin.to_owned()));
        }
        Ok(Checkpoint {
            origin: origin.to_owned(),
            size,
            root,
        })
    }

    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// The number of records in the log.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The Merkle root of those records.
    pub fn root(&self) -> &Hash {
        &self.root
    }

    /// The checkpoint text: origin, size, base64 root, each line ending in a newline.
    pub fn to_text(&self) -> String {
        format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.size,
            STANDARD.encode(self.root)
        )
    }

    /// Reads a checkpoint text, strictly (see the module docs).
    pub fn parse(text: &str) -> Result<Checkpoint, CheckpointError> {
        let bad = CheckpointError::Malformed;
        let body = text
            .strip_suffix('\n')
            .ok_or(bad("the text must end with a newline"))?;
        let mut lines = body.split('\n');
        let (Some(origin), Some(size), Some(root), None) =
            (lines.next(), lines.next(), lines.next(), lines.next())
        else {
            return Err(bad(
                "a checkpoint is exactly three lines: origin, size, root",
            ));
        };
        if !valid_origin(origin) {
            return Err(bad(
                "the origin line is empty or holds spaces, `+` or controls",
            ));
        }
        let size =
            parse_size(size).ok_or(bad("the size must be decimal, without leading zeros"))?;
        let root = STANDARD
            .decode(root)
            .ok()
            .and_then(|bytes| Hash::try_from(bytes).ok())
            .ok_or(bad("the root must be the base64 of 32 bytes"))?;
        Ok(Checkpoint {
            origin: origin.to_owned(),
            size,
            root,
        })
    }

    /// The signed note of this checkpoint, by `key` (the deployment's).
    pub fn sign(&self, key: &SigningKey) -> String {
        note::sign(&self.to_text(), key).expect("a checkpoint's text is always a valid note text")
    }

    /// Checks a signed checkpoint: signed by one of `known` (see [`note::open`]), well formed,
    /// and of the log named `expected_origin`.
    pub fn open(
        signed: &str,
        known: &[VerifierKey],
        expected_origin: &str,
    ) -> Result<Checkpoint, CheckpointError> {
        let verified = note::open(signed, known)?;
        let checkpoint = Checkpoint::parse(&verified.text)?;
        if checkpoint.origin != expected_origin {
            return Err(CheckpointError::WrongOrigin {
                expected: expected_origin.to_owned(),
                found: checkpoint.origin,
            });
        }
        Ok(checkpoint)
    }
}

/// ASCII digits only, no sign, no leading zero (but `0` itself), within `u64`.
fn parse_size(text: &str) -> Option<u64> {
    let digits = !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit());
    let canonical = text == "0" || !text.starts_with('0');
    match digits && canonical {
        true => text.parse().ok(),
        false => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::merkle::leaf_hash;

    fn key() -> SigningKey {
        SigningKey::from_seed("actlog.example", [3; 32]).unwrap()
    }

    #[test]
    fn origins_name_the_deployment_and_the_partner() {
        assert_eq!(
            origin("actlog.example", "3fa85f64-5717-4562-b3fc-2c963f66afa6").unwrap(),
            "actlog.example/partner/3fa85f64-5717-4562-b3fc-2c963f66afa6"
        );
        assert_eq!(
            origin("actlog.example", "a/b c+é%").unwrap(),
            "actlog.example/partner/a%2Fb%20c%2B%C3%A9%25"
        );
        assert_ne!(
            origin("d/partner/a", "b").unwrap(),
            origin("d", "a/partner/b").unwrap()
        );
        assert!(origin("actlog example", "p").is_err());
        assert!(origin("", "p").is_err());
        assert!(origin("a+b", "p").is_err());
        assert_eq!(origin("d", ""), Err(CheckpointError::EmptyPartner));
    }

    #[test]
    fn the_text_is_three_lines_and_reads_back() {
        let root = leaf_hash(b"x");
        let checkpoint = Checkpoint::new("actlog.example/partner/p", 12, root).unwrap();
        let text = checkpoint.to_text();
        assert_eq!(
            text,
            format!("actlog.example/partner/p\n12\n{}\n", STANDARD.encode(root))
        );
        assert_eq!(Checkpoint::parse(&text).unwrap(), checkpoint);
        let empty = Checkpoint::new("o", 0, root).unwrap();
        assert_eq!(Checkpoint::parse(&empty.to_text()).unwrap().size(), 0);
    }

    #[test]
    fn anything_but_the_exact_form_is_refused() {
        let root = STANDARD.encode(leaf_hash(b"x"));
        let short = STANDARD.encode([0u8; 31]);
        let cases = [
            format!("o\n12\n{root}"),
            format!("o\n012\n{root}\n"),
            format!("o\n 12\n{root}\n"),
            format!("o\n12 \n{root}\n"),
            format!("o\n+12\n{root}\n"),
            format!("o\n-1\n{root}\n"),
            format!("o\n18446744073709551616\n{root}\n"),
            format!("o\n\n{root}\n"),
            format!("o \n12\n{root}\n"),
            format!("\n12\n{root}\n"),
            format!("o\n12\n{short}\n"),
            format!("o\n12\n{}\n", root.trim_end_matches('=')),
            format!("o\n12\n {root}\n"),
            format!("o\n12\n{root}\nextension\n"),
            format!("o\r\n12\n{root}\n"),
            "o\n12\n".to_owned(),
        ];
        for case in cases {
            assert!(Checkpoint::parse(&case).is_err(), "accepted {case:?}");
        }
        assert!(Checkpoint::parse(&format!("o\n18446744073709551615\n{root}\n")).is_ok());
    }

    #[test]
    fn a_signed_checkpoint_opens_only_with_its_key_and_origin() {
        let origin = origin("actlog.example", "p").unwrap();
        let checkpoint = Checkpoint::new(&origin, 5, leaf_hash(b"r")).unwrap();
        let signed = checkpoint.sign(&key());
        let known = [key().verifier().clone()];
        assert_eq!(
            Checkpoint::open(&signed, &known, &origin).unwrap(),
            checkpoint
        );

        let other_partner = super::origin("actlog.example", "q").unwrap();
        assert!(matches!(
            Checkpoint::open(&signed, &known, &other_partner),
            Err(CheckpointError::WrongOrigin { .. })
        ));
        let stranger = SigningKey::from_seed("actlog.example", [4; 32]).unwrap();
        assert!(matches!(
            Checkpoint::open(&signed, &[stranger.verifier().clone()], &origin),
            Err(CheckpointError::Note(NoteError::UnknownKey { .. }))
        ));
        let grown = signed.replacen("\n5\n", "\n6\n", 1);
        assert!(matches!(
            Checkpoint::open(&grown, &known, &origin),
            Err(CheckpointError::Note(NoteError::BadSignature { .. }))
        ));
        // A well-signed note whose text is not a checkpoint.
        let not_checkpoint = note::sign("hello\n", &key()).unwrap();
        assert!(matches!(
            Checkpoint::open(&not_checkpoint, &known, &origin),
            Err(CheckpointError::Malformed(_))
        ));
    }
}
