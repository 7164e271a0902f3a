//! Seeding a store straight through its API (no HTTP): faster than ingest over the network,
//! so that the read benchmarks can reach millions of records.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Instant;

use actlog_domain::AuditRecord;
use actlog_store::Store;

/// Batches appended at once: the store's writer commits what is queued together, as it does
/// for concurrent clients.
const IN_FLIGHT: usize = 4;

/// Appends `rows` for `partner` in batches of `batch`, a few batches in flight while the next
/// ones are made. Returns the records stored and the records per second.
pub async fn append_all(
    store: &Arc<dyn Store>,
    partner: &str,
    mut rows: impl Iterator<Item = AuditRecord>,
    batch: usize,
) -> anyhow::Result<(usize, f64)> {
    let started = Instant::now();
    let mut pending = VecDeque::new();
    let (mut stored, mut reported) = (0, 0);
    loop {
        let chunk: Vec<AuditRecord> = rows.by_ref().take(batch).collect();
        let last = chunk.is_empty();
        if !last {
            let (store, partner) = (Arc::clone(store), partner.to_owned());
            pending.push_back(tokio::spawn(async move {
                store.append(&partner, chunk).await.map(|r| r.stored)
            }));
        }
        while pending.len() >= IN_FLIGHT || (last && !pending.is_empty()) {
            let done = pending.pop_front().expect("not empty");
            stored += done.await??;
        }
        if stored >= reported + 1_000_000 {
            reported = stored;
            eprintln!(
                "  … {stored} records stored ({:.0}/s)",
                stored as f64 / started.elapsed().as_secs_f64()
            );
        }
        if last {
            break;
        }
    }
    Ok((stored, stored as f64 / started.elapsed().as_secs_f64()))
}
