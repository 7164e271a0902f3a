//! Exports: the one engine (`actlog-export`) fed from the store's batched scan, for the API,
//! the page and the command line alike.
//!
//! The store's scan reads on its own (thread or connection) and the engine formats on a
//! blocking thread, so the two overlap; both hold a bounded amount of data, so memory does not
//! grow with the export.

pub mod proved;

use std::io::Write;

use futures::StreamExt;

use actlog_domain::query::Query;
use actlog_export::{ExportError, ExportOptions, ExportSummary, Exporter};
use actlog_store::{Store, StoreError};

/// Why an export stopped.
#[derive(Debug, thiserror::Error)]
pub enum ExportFailure {
    #[error("reading the records failed: {0}")]
    Store(#[from] StoreError),
    #[error(transparent)]
    Export(#[from] ExportError),
}

/// Exports every record `query` covers for `partner` into `writer`; `progress` is told the
/// number of rows written so far, now and then.
pub async fn run<W>(
    store: &dyn Store,
    partner: &str,
    query: &Query,
    options: ExportOptions,
    writer: W,
    progress: impl Fn(u64) + Send + 'static,
) -> Result<ExportSummary, ExportFailure>
where
    W: Write + Send + 'static,
{
    // A batch at a time: waking for each record would make this thread and the scan's wait on
    // each other row by row.
    let mut batches = store.scan_batches(partner, query);
    let runtime = tokio::runtime::Handle::current();
    tokio::task::spawn_blocking(move || {
        let mut exporter = Exporter::new(writer, &options)?;
        while let Some(batch) = runtime.block_on(batches.next()) {
            for record in batch?.iter() {
                exporter.write_record(record)?;
                if exporter.rows() % 4096 == 0 {
                    progress(exporter.rows());
                }
            }
        }
        progress(exporter.rows());
        Ok(exporter.finish()?)
    })
    .await
    .map_err(|e| {
        ExportFailure::Store(StoreError::Database(format!("the export task failed: {e}")))
    })?
}
