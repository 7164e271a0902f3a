//! Proof bundles of exports: what `actlog export --proof`, the API's `proof=true` and the page's
//! "with proof" download give beside an exported file, and their offline verification
//! (`actlog verify-export`), which needs neither a database nor the server.
//!
//! A bundle is one JSON object (`docs/tamper-evidence.md`, "Proof bundles of exports"):
//!
//! ```json
//! {"format": "actlog-export-proof-v1",
//!  "checkpoint": "<the partner's signed checkpoint, a C2SP signed note>",
//!  "manifest": "<a signed note whose text is the manifest, one line of JSON>",
//!  "records": [{"index": 0, "record": "<base64 canonical record>", "proof": ["<base64 hash>", …]}, …]}
//! ```
//!
//! The manifest names the export (partner, period, filter, zone, language, format, file name,
//! row count, byte count, the SHA-256 of the file) and binds it to the checkpoint (its log,
//! size and root) and to the bundle's records (the SHA-256 of their leaf hashes in order). The
//! deployment's key signs both notes: whoever holds its verifier key can check that the file is
//! exactly the one the manifest names, that each record is in the partner's log at the
//! checkpoint's size, and that nobody but the key's holder made the statement.

use std::collections::HashSet;
use std::io::{self, BufReader, Read};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::de::{DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};
use sha2::{Digest, Sha256};

use crate::checkpoint::{self, Checkpoint};
use crate::merkle::{self, Hash};
use crate::note::{self, VerifierKey};

/// The `format` of a bundle.
pub const BUNDLE_FORMAT: &str = "actlog-export-proof-v1";
/// The `format` of a manifest.
pub const MANIFEST_FORMAT: &str = "actlog-export-manifest-v1";

/// What a manifest says about an export: the text of its signed note, one line of JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Manifest {
    /// [`MANIFEST_FORMAT`].
    pub format: String,
    /// The origin of the partner's log, as the checkpoint names it.
    pub log: String,
    /// The partner whose records were exported.
    pub partner: String,
    /// The size and root (base64) of the checkpoint the records are proven against.
    pub tree_size: u64,
    pub root_hash: String,
    /// When the export was made, RFC 3339 in UTC.
    pub exported_at: String,
    /// The period exported: its first instant, and the first one excluded (`None`: up to the
    /// moment of the export), RFC 3339 in UTC.
    pub period_from: String,
    pub period_to: Option<String>,
    /// The filter, as the query gave it (`None`: every record of the period).
    pub filter: Option<String>,
    /// The time zone (IANA name) and language (BCP 47) of the file's text.
    pub time_zone: String,
    pub language: String,
    /// `csv`, `xlsx` or `ndjson`; a CSV's separator.
    pub file_format: String,
    pub separator: Option<String>,
    /// The name the file was given when exported (it may since have been renamed).
    pub file_name: String,
    /// Records in the file (a CSV's header row not counted), and the file's size and SHA-256
    /// (lowercase hex).
    pub rows: u64,
    pub bytes: u64,
    pub sha256: String,
    /// The SHA-256 (lowercase hex) of the bundle's records' leaf hashes, concatenated in the
    /// bundle's order: which records the manifest speaks of.
    pub leaves_sha256: String,
}

impl Manifest {
    /// The text of the manifest's note: its JSON on one line, and the note's final newline.
    pub fn to_text(&self) -> String {
        let mut text = serde_json::to_string(self).expect("a manifest serialises");
        text.push('\n');
        text
    }
}

/// One record of a bundle: its log index, its canonical encoding, its inclusion proof.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub index: u64,
    /// The canonical encoding (`crate::canonical`), base64.
    pub record: String,
    /// The inclusion proof's hashes, base64, leaf side first (RFC 9162 §2.1.3).
    pub proof: Vec<String>,
}

impl Entry {
    pub fn new(index: u64, canonical: &[u8], proof: &[Hash]) -> Entry {
        Entry {
            index,
            record: STANDARD.encode(canonical),
            proof: proof.iter().map(|h| STANDARD.encode(h)).collect(),
        }
    }
}

/// The bundle's opening, up to its `records` array (which the writer streams after it).
pub fn opening(checkpoint: &str, manifest: &str) -> String {
    let text = |s: &str| serde_json::to_string(s).expect("a string serialises");
    format!(
        "{{\"format\":{},\"checkpoint\":{},\"manifest\":{},\"records\":[",
        text(BUNDLE_FORMAT),
        text(checkpoint),
        text(manifest)
    )
}

/// The bundle's end, after the last record.
pub const CLOSING: &str = "]}\n";

/// The SHA-256 of leaf hashes in order, as [`Manifest::leaves_sha256`] gives it.
#[derive(Debug, Default, Clone)]
pub struct LeavesDigest(Sha256);

impl LeavesDigest {
    pub fn push(&mut self, leaf: &Hash) {
        self.0.update(leaf);
    }

    pub fn hex(self) -> String {
        hex(&self.0.finalize())
    }
}

/// Lowercase hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// What a verified bundle proves.
#[derive(Debug, Clone)]
pub struct Verified {
    pub manifest: Manifest,
    /// The key that signed both the checkpoint and the manifest.
    pub signer: VerifierKey,
}

/// Most problems with records listed one by one; the rest are counted.
const LISTED: usize = 20;

/// Checks an exported file against its proof bundle with the verifier key `key`: the bundle's
/// checkpoint and manifest are signed by `key`, the manifest is of that checkpoint's log, size
/// and root, the file is exactly the one the manifest names, and every record of the bundle is
/// in the log at that size. On failure, every problem found, each a sentence.
pub fn verify(file: impl Read, bundle: impl Read, key: &VerifierKey) -> Result<Verified, Problems> {
    let mut checker = Checker::new(key.clone());
    let mut reader = serde_json::Deserializer::from_reader(BufReader::new(bundle));
    if let Err(e) = BundleSeed(&mut checker).deserialize(&mut reader) {
        checker.problem(format!("the proof is not a readable bundle: {e}"));
    } else if let Err(e) = reader.end() {
        checker.problem(format!("the proof has data after the bundle: {e}"));
    }
    checker.finish(file)
}

/// Every problem a verification found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problems(pub Vec<String>);

impl std::fmt::Display for Problems {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, p) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            f.write_str(p)?;
        }
        Ok(())
    }
}

impl std::error::Error for Problems {}

/// The verification's state as the bundle is read; records are checked as they come once the
/// checkpoint and manifest are known (they come first in every bundle actlog writes; records
/// before them are kept until they arrive).
#[derive(Debug)]
struct Checker {
    key: VerifierKey,
    format: Option<String>,
    checkpoint: Option<Checkpoint>,
    manifest: Option<Manifest>,
    /// Seen `checkpoint` / `manifest` members, even unreadable ones.
    saw_checkpoint: bool,
    saw_manifest: bool,
    saw_records: bool,
    waiting: Vec<Entry>,
    records: u64,
    indexes: HashSet<u64>,
    leaves: LeavesDigest,
    problems: Vec<String>,
    record_problems: usize,
}

impl Checker {
    fn new(key: VerifierKey) -> Checker {
        Checker {
            key,
            format: None,
            checkpoint: None,
            manifest: None,
            saw_checkpoint: false,
            saw_manifest: false,
            saw_records: false,
            waiting: Vec::new(),
            records: 0,
            indexes: HashSet::new(),
            leaves: LeavesDigest::default(),
            problems: Vec::new(),
            record_problems: 0,
        }
    }

    fn problem(&mut self, problem: String) {
        self.problems.push(problem);
    }

    fn record_problem(&mut self, problem: String) {
        if self.record_problems < LISTED {
            self.problems.push(problem);
        }
        self.record_problems += 1;
    }

    fn checkpoint(&mut self, signed: &str) {
        self.saw_checkpoint = true;
        let opened = note::open(signed, std::slice::from_ref(&self.key))
            .map_err(|e| e.to_string())
            .and_then(|n| Checkpoint::parse(&n.text).map_err(|e| e.to_string()));
        match opened {
            Ok(cp) => self.checkpoint = Some(cp),
            Err(e) => self.problem(format!("the bundle's checkpoint is refused: {e}")),
        }
        self.check_waiting();
    }

    fn manifest(&mut self, signed: &str) {
        self.saw_manifest = true;
        let opened = note::open(signed, std::slice::from_ref(&self.key))
            .map_err(|e| e.to_string())
            .and_then(|n| {
                serde_json::from_str::<Manifest>(n.text.trim_end_matches('\n'))
                    .map_err(|e| format!("its text is not a manifest: {e}"))
            });
        match opened {
            Ok(m) if m.format != MANIFEST_FORMAT => self.problem(format!(
                "the manifest is of format `{}`, not `{MANIFEST_FORMAT}`",
                m.format
            )),
            Ok(m) => self.manifest = Some(m),
            Err(e) => self.problem(format!("the bundle's manifest is refused: {e}")),
        }
        self.check_waiting();
    }

    /// The checkpoint's size and root, once both notes are read.
    fn tree(&self) -> Option<(u64, Hash)> {
        match (&self.checkpoint, &self.manifest) {
            (Some(cp), Some(_)) => Some((cp.size(), *cp.root())),
            _ => None,
        }
    }

    fn check_waiting(&mut self) {
        if self.tree().is_some() {
            for entry in std::mem::take(&mut self.waiting) {
                self.record(entry);
            }
        }
    }

    fn entry(&mut self, entry: Entry) {
        if self.tree().is_some() || (self.saw_checkpoint && self.saw_manifest) {
            self.record(entry);
        } else {
            self.waiting.push(entry);
        }
    }

    fn record(&mut self, entry: Entry) {
        let n = self.records;
        self.records += 1;
        let Ok(canonical) = STANDARD.decode(&entry.record) else {
            self.leaves.push(&[0; 32]);
            return self.record_problem(format!("record {n} of the bundle is not base64"));
        };
        let leaf = merkle::leaf_hash(&canonical);
        self.leaves.push(&leaf);
        let Some((size, root)) = self.tree() else {
            // Unverifiable: the checkpoint or manifest was refused (already reported).
            return;
        };
        let partner = self.manifest.as_ref().map(|m| m.partner.clone());
        if partner.as_deref() != canonical_partner(&canonical) {
            return self.record_problem(format!(
                "record {n} of the bundle (log index {}) is not a canonical record of partner {}",
                entry.index,
                partner.unwrap_or_default()
            ));
        }
        if !self.indexes.insert(entry.index) {
            return self.record_problem(format!(
                "record {n} of the bundle repeats log index {}",
                entry.index
            ));
        }
        let proof: Result<Vec<Hash>, _> = entry
            .proof
            .iter()
            .map(|h| {
                STANDARD
                    .decode(h)
                    .ok()
                    .and_then(|b| <Hash>::try_from(b.as_slice()).ok())
                    .ok_or(())
            })
            .collect();
        let Ok(proof) = proof else {
            return self.record_problem(format!(
                "record {n} of the bundle (log index {}) has a proof hash that is not 32 bytes of base64",
                entry.index
            ));
        };
        if let Err(e) = merkle::verify_inclusion(&leaf, entry.index, size, &proof, &root) {
            self.record_problem(format!(
                "record {n} of the bundle (log index {}) is not in the log at size {size}: {e}",
                entry.index
            ));
        }
    }

    fn finish(mut self, file: impl Read) -> Result<Verified, Problems> {
        if self.format.as_deref().is_some_and(|f| f != BUNDLE_FORMAT) {
            let format = self.format.clone().unwrap_or_default();
            self.problem(format!(
                "the proof is of format `{format}`, not `{BUNDLE_FORMAT}`"
            ));
        }
        for (seen, what) in [
            (self.format.is_some(), "format"),
            (self.saw_checkpoint, "checkpoint"),
            (self.saw_manifest, "manifest"),
            (self.saw_records, "records"),
        ] {
            if !seen {
                self.problem(format!("the bundle has no `{what}`"));
            }
        }
        if let (Some(cp), Some(m)) = (&self.checkpoint, &self.manifest) {
            let mut wrong = Vec::new();
            if m.log != cp.origin() {
                wrong.push(format!(
                    "the manifest is of log `{}`, the checkpoint of `{}`",
                    m.log,
                    cp.origin()
                ));
            }
            if m.tree_size != cp.size() || m.root_hash != STANDARD.encode(cp.root()) {
                wrong.push(format!(
                    "the manifest names the tree of size {} with root {}, the checkpoint is of size {} with root {}",
                    m.tree_size,
                    m.root_hash,
                    cp.size(),
                    STANDARD.encode(cp.root())
                ));
            }
            match checkpoint::origin(self.key.name(), &m.partner) {
                Ok(origin) if origin == cp.origin() => {}
                _ => wrong.push(format!(
                    "the checkpoint's log `{}` is not partner {}'s log of deployment {}",
                    cp.origin(),
                    m.partner,
                    self.key.name()
                )),
            }
            if m.rows != self.records {
                wrong.push(format!(
                    "the manifest counts {} rows, the bundle holds {} records",
                    m.rows, self.records
                ));
            }
            self.problems.extend(wrong);
        }
        if self.record_problems > LISTED {
            let more = self.record_problems - LISTED;
            self.problem(format!("… and {more} more records with problems"));
        }
        let leaves = std::mem::take(&mut self.leaves).hex();
        let Some(manifest) = self.manifest.take() else {
            return Err(Problems(self.problems));
        };
        if self.checkpoint.is_some() && manifest.leaves_sha256 != leaves {
            self.problem(
                "the bundle's records are not the ones the manifest names (their leaves' SHA-256 differs)"
                    .into(),
            );
        }
        match digest(file) {
            Ok((sha256, bytes)) if sha256 != manifest.sha256 || bytes != manifest.bytes => {
                self.problem(format!(
                    "the file is not the one the manifest names: it has {bytes} bytes with SHA-256 {sha256}, the manifest names {} bytes with SHA-256 {}",
                    manifest.bytes, manifest.sha256
                ))
            }
            Ok(_) => {}
            Err(e) => self.problem(format!("cannot read the file: {e}")),
        }
        if self.problems.is_empty() {
            Ok(Verified {
                manifest,
                signer: self.key,
            })
        } else {
            Err(Problems(self.problems))
        }
    }
}

/// The partner of a canonical v1 record: its second field (after the version tag).
fn canonical_partner(bytes: &[u8]) -> Option<&str> {
    let field = |at: usize| -> Option<(&str, usize)> {
        let len = u64::from_be_bytes(bytes.get(at..at + 8)?.try_into().ok()?);
        let end = (at + 8).checked_add(usize::try_from(len).ok()?)?;
        Some((std::str::from_utf8(bytes.get(at + 8..end)?).ok()?, end))
    };
    let (version, next) = field(0)?;
    if version != crate::canonical::VERSION {
        return None;
    }
    field(next).map(|(partner, _)| partner)
}

/// A reader's SHA-256 (lowercase hex) and length.
pub fn digest(mut reader: impl Read) -> io::Result<(String, u64)> {
    let mut sha = Sha256::new();
    let mut buffer = vec![0; 64 * 1024];
    let mut bytes = 0u64;
    loop {
        let n = match reader.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        sha.update(&buffer[..n]);
        bytes += n as u64;
    }
    Ok((hex(&sha.finalize()), bytes))
}

/// Reads the bundle's members into the checker, records one at a time.
struct BundleSeed<'a>(&'a mut Checker);

impl<'de> DeserializeSeed<'de> for BundleSeed<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for BundleSeed<'_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a proof bundle (a JSON object)")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "format" => self.0.format = Some(map.next_value()?),
                "checkpoint" => self.0.checkpoint(&map.next_value::<String>()?),
                "manifest" => self.0.manifest(&map.next_value::<String>()?),
                "records" => {
                    self.0.saw_records = true;
                    map.next_value_seed(RecordsSeed(self.0))?
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }
}

struct RecordsSeed<'a>(&'a mut Checker);

impl<'de> DeserializeSeed<'de> for RecordsSeed<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for RecordsSeed<'_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("an array of records")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(entry) = seq.next_element::<Entry>()? {
            self.0.entry(entry);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
