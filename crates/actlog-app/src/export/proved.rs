//! Exports with their proof bundle ([`actlog_tlog::bundle`]): the file, then the partner's
//! signed checkpoint, a signed manifest of the file, and every exported record's canonical
//! encoding with its inclusion proof.
//!
//! The export runs as a plain one does, and also hashes the file it writes and spools each
//! record's canonical encoding to a temporary file (memory stays bounded however large the
//! export). Once the file is complete, the partner's log is signed (the latest checkpoint, or a
//! new one when records arrived since): every exported record was committed before the export's
//! snapshot, so that tree holds them all. The proofs are then made a batch of records at a
//! time — one look-up of their log indexes, one read of the tiles their proofs need — and each
//! is checked against the signed root before it is written: a stored record that does not hash
//! to its logged leaf (tampering) fails the export rather than giving a bundle that does not
//! verify.

use std::io::{self, BufRead, BufReader, BufWriter, Read, Write};

use futures::StreamExt;
use sha2::{Digest, Sha256};

use actlog_domain::query::Query;
use actlog_export::{ExportOptions, ExportSummary, Exporter};
use actlog_store::{Store, StoreError};
use actlog_tlog::bundle::{self, Entry, LeavesDigest, Manifest};
use actlog_tlog::checkpoint::Checkpoint;
use actlog_tlog::merkle::{self, Hash};
use actlog_tlog::tiles;

use super::ExportFailure;
use crate::evidence::Signer;

/// Records proven per batch (one index look-up and one tile read each).
const BATCH: usize = 1024;

/// Where a proved export goes: the file first, then its proof bundle (two files, or two
/// entries of one ZIP archive).
pub trait ProofSink: Send + 'static {
    /// Where the exported file is written.
    fn file(&mut self) -> &mut (dyn Write + Send);
    /// Where the bundle is written, once the file is complete; the first call ends the file
    /// and starts the bundle, later ones return the same writer.
    fn proof(&mut self) -> io::Result<&mut (dyn Write + Send)>;
}

/// The export's options, and what the manifest names beyond them.
#[derive(Debug, Clone)]
pub struct Described {
    pub options: ExportOptions,
    /// The query's filter, as given (`None`: the whole period).
    pub filter: Option<String>,
    /// The file's name.
    pub file_name: String,
    /// When the export is made, Unix seconds (the checkpoint's signing time too).
    pub now: i64,
}

/// A finished proved export.
#[derive(Debug, Clone)]
pub struct Proved {
    pub summary: ExportSummary,
    pub manifest: Manifest,
}

/// Why a proved export stopped.
#[derive(Debug, thiserror::Error)]
pub enum ProvedFailure {
    #[error(transparent)]
    Export(#[from] ExportFailure),
    #[error("writing the proof failed: {0}")]
    Io(#[from] io::Error),
    #[error("record {id} is not in the partner's log as stored{detail}; run `actlog verify`")]
    NotInLog { id: String, detail: String },
    #[error("the partner's log cannot be signed: {0}")]
    Sign(String),
}

impl From<StoreError> for ProvedFailure {
    fn from(e: StoreError) -> Self {
        ProvedFailure::Export(ExportFailure::Store(e))
    }
}

/// Exports every record `query` covers for `partner` into `sink`'s file, then writes the proof
/// bundle into its proof; gives the sink back with what was exported (to be finished or
/// dropped off the runtime's threads when its writers may block).
pub async fn run<S: ProofSink>(
    store: &dyn Store,
    signer: &Signer,
    partner: &str,
    query: &Query,
    described: Described,
    sink: S,
    progress: impl Fn(u64) + Send + 'static,
) -> Result<(S, Proved), ProvedFailure> {
    let mut batches = store.scan_batches(partner, query);
    let runtime = tokio::runtime::Handle::current();
    let owner = partner.to_owned();
    let options = described.options.clone();
    let temp_dir = options.temp_dir.clone();
    let export_options = options.clone();
    let exported = tokio::task::spawn_blocking(move || {
        let mut sink = sink;
        let mut spool = Spool::new(temp_dir.as_deref())?;
        let mut leaves = LeavesDigest::default();
        let mut file = Hashing::new(sink.file());
        let mut exporter =
            Exporter::new(&mut file, &export_options).map_err(ExportFailure::from)?;
        while let Some(batch) = runtime.block_on(batches.next()) {
            for record in batch.map_err(ExportFailure::from)?.iter() {
                exporter.write_record(record).map_err(ExportFailure::from)?;
                let canonical = actlog_tlog::canonical::encode(&owner, record);
                leaves.push(&merkle::leaf_hash(&canonical));
                spool.push(&record.id, &canonical)?;
                if exporter.rows().is_multiple_of(4096) {
                    progress(exporter.rows());
                }
            }
        }
        progress(exporter.rows());
        let summary = exporter.finish().map_err(ExportFailure::from)?;
        let (sha256, bytes) = file.finish();
        Ok::<_, ProvedFailure>((sink, spool.rewind()?, leaves.hex(), summary, sha256, bytes))
    });
    let (sink, spool, leaves_sha256, summary, sha256, bytes) =
        exported.await.map_err(|e| task_failed(&e))??;
    // From here on, a failure must not drop the sink on a runtime thread.
    let mut held = OffRuntime(Some((sink, spool)));

    let signed = signer.latest(store, partner, described.now).await?;
    let checkpoint = actlog_tlog::note::open(&signed.note, &signer.verifiers())
        .map_err(|e| ProvedFailure::Sign(e.to_string()))
        .and_then(|n| Checkpoint::parse(&n.text).map_err(|e| ProvedFailure::Sign(e.to_string())))?;
    let manifest = manifest(
        &checkpoint,
        partner,
        described,
        &summary,
        (sha256, bytes, leaves_sha256),
    );
    let manifest_note = signer
        .sign_note(&manifest.to_text())
        .map_err(|e| ProvedFailure::Sign(e.to_string()))?;

    // Written a batch at a time: each batch's proofs are made here, between writes on a
    // blocking thread.
    // Signed again by the current key, which signs the manifest: after a rotation the stored
    // checkpoint may be by an older one.
    let checkpoint_note = signer.sign(&checkpoint);
    let mut pending = bundle::opening(&checkpoint_note, &manifest_note).into_bytes();
    let mut proven = 0u64;
    loop {
        let state = held.take();
        let (written, batch) = tokio::task::spawn_blocking(move || {
            let (mut sink, mut spool) = state;
            sink.proof()?.write_all(&pending)?;
            let batch = spool.next_batch(BATCH)?;
            Ok::<_, io::Error>(((sink, spool), batch))
        })
        .await
        .map_err(|e| task_failed(&e))??;
        held = OffRuntime(Some(written));
        if batch.is_empty() {
            break;
        }
        pending = prove(store, partner, &checkpoint, &batch, proven == 0).await?;
        proven += batch.len() as u64;
    }
    let (mut sink, _) = held.take();
    let sink = tokio::task::spawn_blocking(move || {
        let out = sink.proof()?;
        out.write_all(bundle::CLOSING.as_bytes())?;
        out.flush()?;
        Ok::<_, io::Error>(sink)
    })
    .await
    .map_err(|e| task_failed(&e))??;
    Ok((sink, Proved { summary, manifest }))
}

/// A value whose drop may block (a writer into an HTTP body waits for the client): dropped
/// while still held, it is dropped on a blocking thread rather than on the runtime's.
struct OffRuntime<T: Send + 'static>(Option<T>);

impl<T: Send + 'static> OffRuntime<T> {
    fn take(&mut self) -> T {
        self.0.take().expect("held")
    }
}

impl<T: Send + 'static> Drop for OffRuntime<T> {
    fn drop(&mut self) {
        if let Some(value) = self.0.take() {
            match tokio::runtime::Handle::try_current() {
                Ok(runtime) => drop(runtime.spawn_blocking(move || drop(value))),
                Err(_) => drop(value),
            }
        }
    }
}

fn task_failed(e: &tokio::task::JoinError) -> ProvedFailure {
    ProvedFailure::Export(ExportFailure::Store(StoreError::Database(format!(
        "the export task failed: {e}"
    ))))
}

/// The manifest of an export proven against `checkpoint`.
fn manifest(
    checkpoint: &Checkpoint,
    partner: &str,
    described: Described,
    summary: &ExportSummary,
    (sha256, bytes, leaves_sha256): (String, u64, String),
) -> Manifest {
    use base64::Engine;
    let options = &described.options;
    let at = |d: actlog_domain::OperationDate| d.timestamp().to_string();
    let exported_at = jiff::Timestamp::from_second(described.now)
        .map(|t| t.to_string())
        .unwrap_or_default();
    Manifest {
        format: bundle::MANIFEST_FORMAT.to_owned(),
        log: checkpoint.origin().to_owned(),
        partner: partner.to_owned(),
        tree_size: checkpoint.size(),
        root_hash: base64::engine::general_purpose::STANDARD.encode(checkpoint.root()),
        exported_at,
        period_from: at(options.period.from),
        period_to: options.period.to.map(at),
        filter: described.filter,
        time_zone: actlog_export::zone_name(&options.tz),
        language: options.lang.tag().to_owned(),
        file_format: options.format.extension().to_owned(),
        separator: (options.format == actlog_export::Format::Csv)
            .then(|| options.effective_separator().to_string()),
        file_name: described.file_name,
        rows: summary.rows,
        bytes,
        sha256,
        leaves_sha256,
    }
}

/// The bundle's entries of `batch`, as JSON (each after a comma but the very first).
async fn prove(
    store: &dyn Store,
    partner: &str,
    checkpoint: &Checkpoint,
    batch: &[(String, Vec<u8>)],
    first: bool,
) -> Result<Vec<u8>, ProvedFailure> {
    let size = checkpoint.size();
    let ids: Vec<String> = batch.iter().map(|(id, _)| id.clone()).collect();
    let indexes = store.log_indexes(partner, &ids).await?;
    let mut placed = Vec::with_capacity(batch.len());
    let mut nodes = Vec::new();
    for ((id, canonical), index) in batch.iter().zip(indexes) {
        let not_in_log = |detail: String| ProvedFailure::NotInLog {
            id: id.clone(),
            detail,
        };
        let index = index.ok_or_else(|| not_in_log(": it has no log index".into()))?;
        nodes.extend(merkle::inclusion_nodes(index, size).map_err(|e| {
            not_in_log(format!(
                ": its index {index} is beyond the signed tree ({e})"
            ))
        })?);
        placed.push((id, canonical, index));
    }
    let set = store.log_tiles(partner, &tiles::tiles_for(&nodes)).await?;
    let mut out = Vec::with_capacity(batch.len() * 1024);
    for (i, (id, canonical, index)) in placed.into_iter().enumerate() {
        let not_in_log = |detail: String| ProvedFailure::NotInLog {
            id: id.clone(),
            detail,
        };
        let proof: Vec<Hash> = merkle::inclusion_proof(&set, index, size)
            .map_err(|e| not_in_log(format!(": the stored tree is incomplete ({e:?})")))?;
        let leaf = merkle::leaf_hash(canonical);
        merkle::verify_inclusion(&leaf, index, size, &proof, checkpoint.root()).map_err(|_| {
            not_in_log(format!(
                " at index {index}: it does not hash to the leaf logged there"
            ))
        })?;
        if !(first && i == 0) {
            out.push(b',');
        }
        serde_json::to_writer(&mut out, &Entry::new(index, canonical, &proof))
            .map_err(io::Error::from)?;
    }
    Ok(out)
}

/// A writer that hashes (SHA-256) and counts what passes through it.
struct Hashing<W> {
    inner: W,
    sha: Sha256,
    bytes: u64,
}

impl<W: Write> Hashing<W> {
    fn new(inner: W) -> Self {
        Hashing {
            inner,
            sha: Sha256::new(),
            bytes: 0,
        }
    }

    /// The SHA-256 (lowercase hex) and length of everything written.
    fn finish(self) -> (String, u64) {
        (bundle::hex(&self.sha.finalize()), self.bytes)
    }
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(data)?;
        self.sha.update(&data[..n]);
        self.bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// The exported records' ids and canonical encodings, in export order, in a temporary file
/// (removed when dropped): each as the id's and the encoding's lengths (8 bytes big-endian)
/// and bytes.
struct Spool {
    writer: Option<BufWriter<std::fs::File>>,
    reader: Option<BufReader<std::fs::File>>,
}

impl Spool {
    fn new(dir: Option<&std::path::Path>) -> io::Result<Spool> {
        let file = match dir {
            Some(dir) => tempfile::tempfile_in(dir)?,
            None => tempfile::tempfile()?,
        };
        Ok(Spool {
            writer: Some(BufWriter::with_capacity(256 * 1024, file)),
            reader: None,
        })
    }

    fn push(&mut self, id: &str, canonical: &[u8]) -> io::Result<()> {
        let out = self.writer.as_mut().expect("pushed before rewinding");
        for part in [id.as_bytes(), canonical] {
            out.write_all(&(part.len() as u64).to_be_bytes())?;
            out.write_all(part)?;
        }
        Ok(())
    }

    /// Done writing: read from the start.
    fn rewind(mut self) -> io::Result<Spool> {
        use std::io::Seek;
        let mut file = self
            .writer
            .take()
            .expect("rewound once")
            .into_inner()
            .map_err(|e| e.into_error())?;
        file.rewind()?;
        self.reader = Some(BufReader::with_capacity(256 * 1024, file));
        Ok(self)
    }

    /// Up to `n` records more (none at the end).
    fn next_batch(&mut self, n: usize) -> io::Result<Vec<(String, Vec<u8>)>> {
        let input = self.reader.as_mut().expect("read after rewinding");
        let mut batch = Vec::with_capacity(n);
        while batch.len() < n && !input.fill_buf()?.is_empty() {
            let mut part = || -> io::Result<Vec<u8>> {
                let mut len = [0; 8];
                input.read_exact(&mut len)?;
                let mut bytes = vec![0; u64::from_be_bytes(len) as usize];
                input.read_exact(&mut bytes)?;
                Ok(bytes)
            };
            let id = String::from_utf8(part()?).map_err(io::Error::other)?;
            batch.push((id, part()?));
        }
        Ok(batch)
    }
}
