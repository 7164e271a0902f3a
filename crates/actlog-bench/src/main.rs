//! `actlog-bench`: measures actlog beside the reference tools of PRODUCT §8 on the same rows,
//! in the same run, and prints the ratios.
//!
//! ```text
//! cargo run --release -p actlog-bench -- ingest --records 200000
//! cargo run --release -p actlog-bench -- query
//! cargo run --release -p actlog-bench -- export --records 1000000
//! cargo run --release -p actlog-bench -- ingest --backend postgres
//! cargo run --release -p actlog-bench -- servers
//! cargo run --release -p actlog-bench -- all --out bench-results.json
//! ```
//!
//! Layout: `rows` makes the rows both sides get and `table` writes them as the shells load
//! them; `seed` loads them into a store directly; `backend` opens a store of either kind,
//! `postgres` holds the PostgreSQL side's tools (`psql`, `pg_test_fsync`); `server` runs
//! actlog in this process and `clients` loads it over HTTP. One module per benchmark
//! (`ingest`, `query`, `export`, `servers`), with one submodule per backend where the
//! reference differs; `all` runs ingest and export on every row shape, then the query
//! benchmark, and `report` collects their figures. See the crate's README for what each compares.

mod all;
mod backend;
mod clients;
mod export;
mod ingest;
mod memory;
mod postgres;
mod query;
mod report;
mod rows;
mod seed;
mod server;
mod servers;
mod table;

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use backend::Backend;
use rows::{RowSpec, Shape};

#[derive(Debug, Parser)]
#[command(about = "actlog benchmarks (ratios against reference tools)")]
struct Cli {
    #[command(subcommand)]
    command: Bench,
}

/// Which rows a benchmark uses.
#[derive(Debug, Args)]
struct Rows {
    /// compact: ≈--details-bytes of details per record (PRODUCT §8); demo: the demo's records;
    /// large: ≈2 KB of details, many customizedData entries, long customer names.
    #[arg(long, value_enum)]
    shape: Option<Shape>,
    /// Bytes of details (resource values and customizedData) per compact record.
    #[arg(long, default_value_t = 300)]
    details_bytes: usize,
}

impl Rows {
    fn spec(&self, records: usize, default: Shape) -> RowSpec {
        RowSpec::new(records, self.shape.unwrap_or(default), self.details_bytes)
    }
}

#[derive(Debug, Subcommand)]
enum Bench {
    /// HTTP ingest (batches of 1,000; 64 single-record clients) vs sqlite3 .import / psql \copy.
    Ingest {
        #[arg(long, default_value_t = 200_000)]
        records: usize,
        #[arg(long, value_enum, default_value_t)]
        backend: Backend,
        /// Seconds the single-record clients run.
        #[arg(long, default_value_t = 5)]
        seconds: u64,
        #[command(flatten)]
        rows: Rows,
    },
    /// First-page latency of the default one-month view, with and without filters.
    Query {
        /// Records of the demo partner to seed (through the store API).
        #[arg(long, default_value_t = 40_000)]
        records: usize,
        /// Requests per measured view.
        #[arg(long, default_value_t = 300)]
        requests: usize,
        #[arg(long, value_enum, default_value_t)]
        backend: Backend,
        /// Keep the seeded store here (a file, or with --backend postgres an existing
        /// database's URL); if it already holds records, use it as it is (no seeding).
        #[arg(long, value_name = "PATH|URL")]
        database: Option<String>,
        /// Rows default to the demo's here.
        #[command(flatten)]
        rows: Rows,
    },
    /// CSV export of a seeded store, as `actlog export` does it, vs sqlite3 -csv / psql \copy.
    Export {
        #[arg(long, default_value_t = 1_000_000)]
        records: usize,
        #[arg(long, value_enum, default_value_t)]
        backend: Backend,
        /// Times each side runs, interleaved.
        #[arg(long, default_value_t = 2)]
        runs: usize,
        /// Skip the XLSX export.
        #[arg(long)]
        no_xlsx: bool,
        /// Also time this `actlog` binary's `export` as a separate process.
        #[arg(long, value_name = "PATH")]
        cli: Option<PathBuf>,
        #[command(flatten)]
        rows: Rows,
    },
    /// Ingest and export on every row shape (demo, compact, large), each beside its reference;
    /// prints every figure and ratio and writes them as JSON.
    All {
        /// Records per shape for the ingest benchmark.
        #[arg(long, default_value_t = 200_000)]
        records: usize,
        /// Records per shape for the export benchmark.
        #[arg(long, default_value_t = 200_000)]
        export_records: usize,
        /// Seconds the single-record clients run.
        #[arg(long, default_value_t = 5)]
        seconds: u64,
        /// Export runs per side.
        #[arg(long, default_value_t = 2)]
        runs: usize,
        /// Records of the partner the query benchmark's pages are measured on (compact rows).
        #[arg(long, default_value_t = 1_000_000)]
        query_records: usize,
        /// Keep the query benchmark's SQLite store here, and reuse it if it exists (a
        /// 10-million-record partner is seeded once).
        #[arg(long, value_name = "PATH")]
        query_database: Option<PathBuf>,
        /// Also measure on PostgreSQL (needs psql and a server at ACTLOG_TEST_POSTGRES).
        #[arg(long)]
        postgres: bool,
        /// Where the figures go, as JSON.
        #[arg(long, default_value = "bench-results.json")]
        out: PathBuf,
    },
    /// The HTTP clients of the ingest benchmarks, which run them in a process of their own.
    #[command(hide = true)]
    Load(clients::Load),
    /// Two actlog servers on one PostgreSQL database vs one, the same clients' batches.
    Servers {
        #[arg(long, default_value_t = 200_000)]
        records: usize,
        /// Clients sending batches of 1,000 (split between the servers).
        #[arg(long, default_value_t = 4)]
        clients: usize,
        #[command(flatten)]
        rows: Rows,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Bench::Ingest {
            records,
            backend,
            seconds,
            rows,
        } => ingest::run(&rows.spec(records, Shape::Compact), seconds, backend)
            .await
            .map(drop),
        Bench::Query {
            records,
            requests,
            backend,
            database,
            rows,
        } => {
            let spec = rows.spec(records, Shape::Demo);
            query::run(&spec, requests, backend, database.as_deref())
                .await
                .map(drop)
        }
        Bench::Load(load) => clients::load(load).await,
        Bench::Servers {
            records,
            clients,
            rows,
        } => servers::run(&rows.spec(records, Shape::Compact), clients).await,
        Bench::Export {
            records,
            backend,
            runs,
            no_xlsx,
            cli,
            rows,
        } => {
            let options = export::Options {
                runs,
                xlsx: !no_xlsx,
                cli,
            };
            export::run(&rows.spec(records, Shape::Compact), &options, backend)
                .await
                .map(drop)
        }
        Bench::All {
            records,
            export_records,
            seconds,
            runs,
            query_records,
            query_database,
            postgres,
            out,
        } => {
            let plan = all::Plan {
                records,
                export_records,
                seconds,
                runs,
                query_records,
                query_database,
                postgres,
            };
            all::run(&plan, &out).await
        }
    }
}
