//! What the command-line tests share: running the binary, reading its output, and reading
//! back what it stored.

#![allow(dead_code)]

use std::process::{Command, Output};

use actlog_domain::query::{PageRequest, Query, Window};
use actlog_domain::time::OperationDate;
use actlog_sqlite::{SqliteOptions, SqliteStore};
use actlog_store::RecordReader;

pub const BIN: &str = env!("CARGO_BIN_EXE_actlog");

/// Runs `actlog` with `args`, logging only warnings.
pub fn actlog(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .env("ACTLOG_LOG", "warn")
        .output()
        .unwrap()
}

/// Standard output followed by standard error, as text.
pub fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Every record of `partner` in the database at `path`, newest first, as the API returns them.
pub async fn all_records(path: &std::path::Path, partner: &str) -> Vec<serde_json::Value> {
    let store = SqliteStore::open(path, SqliteOptions::default()).unwrap();
    let request = PageRequest {
        query: Query {
            window: Window {
                start: OperationDate::MIN,
                end: None,
            },
            filter: None,
        },
        size: 5_000,
        after: None,
        snapshot: None,
    };
    let page = store.page(partner, &request).await.unwrap();
    page.records
        .iter()
        .map(|r| serde_json::to_value(r).unwrap())
        .collect()
}
