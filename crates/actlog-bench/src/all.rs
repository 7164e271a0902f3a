//! `all`: the ingest and export benchmarks on every row shape (demo, compact, large), then the
//! query benchmark (API first pages and signed-in pages on compact rows), on SQLite and
//! optionally PostgreSQL, each figure beside its reference or its bound. It prints every figure
//! and ratio as it goes and as one table at the end, and writes them to a JSON file (rewritten
//! after each benchmark, so an interrupted run keeps what it measured).
//!
//! It installs nothing: the tools it needs are checked first, and a missing one is named with
//! the package that provides it.

use std::path::{Path, PathBuf};

use anyhow::bail;

use crate::backend::Backend;
use crate::report::{self, Measured};
use crate::rows::{RowSpec, Shape};
use crate::{export, ingest, query};

/// Sizes and backends of an `all` run.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Records per shape, ingest.
    pub records: usize,
    /// Records per shape, export.
    pub export_records: usize,
    /// Seconds of the single-record clients.
    pub seconds: u64,
    /// Export runs per side.
    pub runs: usize,
    /// Records of the query benchmark's partner.
    pub query_records: usize,
    /// Where the query benchmark's SQLite store is kept (and reused).
    pub query_database: Option<PathBuf>,
    /// Also on PostgreSQL.
    pub postgres: bool,
}

impl Plan {
    fn backends(&self) -> Vec<Backend> {
        let mut backends = vec![Backend::Sqlite];
        if self.postgres {
            backends.push(Backend::Postgres);
        }
        backends
    }
}

/// Requests per query view.
const QUERY_REQUESTS: usize = 300;

pub async fn run(plan: &Plan, out: &Path) -> anyhow::Result<()> {
    check_tools(plan)?;
    let command = std::env::args().collect::<Vec<_>>().join(" ");
    let mut all: Vec<Measured> = Vec::new();
    for backend in plan.backends() {
        for shape in Shape::ALL {
            let spec = RowSpec::new(plan.records, shape, 300);
            println!("\n== ingest, {backend:?}, {} ==", spec.describe());
            let figures = ingest::run(&spec, plan.seconds, backend).await?;
            keep(&mut all, &spec, backend, figures);
            write(out, &all, &command)?;

            let spec = RowSpec::new(plan.export_records, shape, 300);
            println!("\n== export, {backend:?}, {} ==", spec.describe());
            let options = export::Options {
                runs: plan.runs,
                xlsx: true,
                cli: None,
            };
            let figures = export::run(&spec, &options, backend).await?;
            keep(&mut all, &spec, backend, figures);
            write(out, &all, &command)?;
        }
        let spec = RowSpec::new(plan.query_records, Shape::Compact, 300);
        println!("\n== query, {backend:?}, {} ==", spec.describe());
        let kept = match backend {
            Backend::Sqlite => plan.query_database.as_deref().map(Path::to_string_lossy),
            Backend::Postgres => None,
        };
        let figures = query::run(&spec, QUERY_REQUESTS, backend, kept.as_deref()).await?;
        keep(&mut all, &spec, backend, figures);
        write(out, &all, &command)?;
    }
    report::print(&all);
    println!("figures written to {}", out.display());
    Ok(())
}

fn keep(all: &mut Vec<Measured>, spec: &RowSpec, backend: Backend, figures: Vec<report::Figure>) {
    all.extend(figures.into_iter().map(|figure| Measured {
        shape: spec.shape,
        backend,
        rows: spec.describe(),
        figure,
    }));
}

fn write(out: &Path, all: &[Measured], command: &str) -> anyhow::Result<()> {
    let text = serde_json::to_string_pretty(&report::document(all, command))?;
    std::fs::write(out, text + "\n")?;
    Ok(())
}

/// The shells the references run, each with the Debian package that has it.
fn check_tools(plan: &Plan) -> anyhow::Result<()> {
    let mut needed = vec![("sqlite3", "sqlite3")];
    if plan.postgres {
        needed.push(("psql", "postgresql-client"));
    }
    let missing: Vec<String> = needed
        .into_iter()
        .filter(|(tool, _)| on_path(tool).is_none())
        .map(|(tool, package)| format!("`{tool}` (Debian: apt-get install {package})"))
        .collect();
    if !missing.is_empty() {
        bail!(
            "the reference tools are not installed: {}; this benchmark installs nothing itself",
            missing.join(", ")
        );
    }
    if plan.postgres {
        println!(
            "PostgreSQL: scratch databases on {} (ACTLOG_TEST_POSTGRES); pg_test_fsync is used \
             when found (package postgresql)",
            std::env::var("ACTLOG_TEST_POSTGRES")
                .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
        );
    }
    Ok(())
}

fn on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}
