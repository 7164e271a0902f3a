//! `actlog-bench`: measures actlog beside the reference tools of PRODUCT §8 on the same rows,
//! in the same run, and prints the ratios.
//!
//! ```text
//! cargo run --release -p actlog-bench -- ingest --records 200000
//! cargo run --release -p actlog-bench -- query
//! ```

mod ingest;
mod query;
mod server;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(about = "actlog benchmarks (ratios against reference tools)")]
struct Cli {
    #[command(subcommand)]
    command: Bench,
}

#[derive(Debug, Subcommand)]
enum Bench {
    /// HTTP ingest (batches of 1,000; 64 single-record clients) vs the sqlite3 shell's .import.
    Ingest {
        #[arg(long, default_value_t = 200_000)]
        records: usize,
        /// Seconds the single-record clients run.
        #[arg(long, default_value_t = 5)]
        seconds: u64,
    },
    /// First-page latency of the default one-month view, with and without filters.
    Query {
        /// Records of the demo partner to seed.
        #[arg(long, default_value_t = 40_000)]
        records: usize,
        /// Requests per measured view.
        #[arg(long, default_value_t = 300)]
        requests: usize,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Bench::Ingest { records, seconds } => ingest::run(records, seconds).await,
        Bench::Query { records, requests } => query::run(records, requests).await,
    }
}
