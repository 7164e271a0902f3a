//! What the command-line tests share: running the binary, reading its output, the test's own
//! database (of the backend `ACTLOG_TEST_BACKEND` names), reading back what it stored, and
//! running `actlog serve`.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::Arc;

use actlog_domain::query::{PageRequest, Query, Window};
use actlog_domain::time::OperationDate;
use actlog_postgres::scratch::ScratchDatabase;
use actlog_postgres::{PgOptions, PgStore};
use actlog_sqlite::{SqliteOptions, SqliteStore};
use actlog_store::Store;

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

pub use actlog_postgres::scratch::Backend;

/// A test's own, fresh database: `a.db` in a temporary directory, or a scratch PostgreSQL
/// database, removed when this is dropped.
#[derive(Debug)]
pub struct TestDb {
    url: String,
    place: Place,
}

#[derive(Debug)]
enum Place {
    Sqlite {
        path: PathBuf,
        _dir: tempfile::TempDir,
    },
    Postgres(ScratchDatabase),
}

impl TestDb {
    /// A database of the backend under test.
    pub fn new() -> TestDb {
        match Backend::from_env() {
            Backend::Sqlite => TestDb::sqlite(),
            Backend::Postgres => TestDb::postgres(),
        }
    }

    /// A SQLite file, not created yet.
    pub fn sqlite() -> TestDb {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.db");
        TestDb {
            url: format!("sqlite://{}", path.display()),
            place: Place::Sqlite { path, _dir: dir },
        }
    }

    /// An empty scratch PostgreSQL database; an unreachable server fails the test.
    pub fn postgres() -> TestDb {
        // On a thread with a runtime of its own, so that sync and async tests alike can call it.
        let db = std::thread::spawn(|| {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap()
                .block_on(ScratchDatabase::create())
        })
        .join()
        .unwrap()
        .expect("a scratch PostgreSQL database");
        TestDb {
            url: db.url().to_owned(),
            place: Place::Postgres(db),
        }
    }

    /// The URL to pass as `--database`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Whether there is a database to read back: a SQLite file appears on first use, so a
    /// command that failed early may leave none; a scratch PostgreSQL database always exists.
    pub fn exists(&self) -> bool {
        match &self.place {
            Place::Sqlite { path, .. } => path.exists(),
            Place::Postgres(_) => true,
        }
    }

    /// The SQLite file, if that is the backend.
    pub fn sqlite_path(&self) -> Option<&Path> {
        match &self.place {
            Place::Sqlite { path, .. } => Some(path),
            Place::Postgres(_) => None,
        }
    }

    /// A new database holding a copy of this one as it is now (no process may have it open):
    /// an older state to roll back to.
    pub fn copy(&self) -> TestDb {
        match &self.place {
            Place::Sqlite { path, .. } => {
                let copy = TestDb::sqlite();
                let to = copy.sqlite_path().unwrap().to_owned();
                for suffix in ["", "-wal", "-shm"] {
                    let from = PathBuf::from(format!("{}{suffix}", path.display()));
                    if from.exists() {
                        std::fs::copy(&from, format!("{}{suffix}", to.display())).unwrap();
                    }
                }
                copy
            }
            Place::Postgres(db) => {
                let copied = std::thread::scope(|scope| {
                    scope
                        .spawn(|| {
                            tokio::runtime::Builder::new_current_thread()
                                .enable_all()
                                .build()
                                .unwrap()
                                .block_on(db.copy())
                        })
                        .join()
                        .unwrap()
                })
                .expect("a copy of the scratch database");
                TestDb {
                    url: copied.url().to_owned(),
                    place: Place::Postgres(copied),
                }
            }
        }
    }

    /// Runs `sql` (statements separated by `;`) on the database directly, past actlog: what
    /// someone with write access to the database could do.
    pub fn tamper(&self, sql: &str) {
        match &self.place {
            Place::Sqlite { path, .. } => {
                let out = Command::new("sqlite3").arg(path).arg(sql).output().unwrap();
                assert!(out.status.success(), "sqlite3: {}", text(&out));
            }
            Place::Postgres(db) => {
                let out = Command::new("psql")
                    .args(["-v", "ON_ERROR_STOP=1", "-q", db.url(), "-c", sql])
                    .output()
                    .unwrap();
                assert!(out.status.success(), "psql: {}", text(&out));
            }
        }
    }

    /// The store, opened (and migrated) as the binary opens it.
    pub async fn open(&self) -> Arc<dyn Store> {
        match &self.place {
            Place::Sqlite { path, .. } => {
                Arc::new(SqliteStore::open(path, SqliteOptions::default()).unwrap())
            }
            Place::Postgres(db) => {
                let options = PgOptions {
                    connections: 4,
                    ..Default::default()
                };
                let store = PgStore::open(db.url(), options)
                    .await
                    .unwrap_or_else(|e| panic!("cannot open {}: {e}", db.url()));
                Arc::new(store)
            }
        }
    }
}

/// Every record of `partner` in `db`, newest first, as the API returns them.
pub async fn all_records(db: &TestDb, partner: &str) -> Vec<serde_json::Value> {
    all_records_in(db.open().await.as_ref(), partner).await
}

/// Every record of `partner` in `store`, newest first, as the API returns them.
pub async fn all_records_in(store: &dyn Store, partner: &str) -> Vec<serde_json::Value> {
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

/// A new read+write API key of `partner`, made with `actlog apikey create`.
pub fn create_key(db: &str, partner: &str) -> String {
    let out = actlog(&[
        "apikey",
        "create",
        "--partner",
        partner,
        "--scopes",
        "read,write",
        "--database",
        db,
    ]);
    assert!(out.status.success(), "{}", text(&out));
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .last()
        .unwrap()
        .trim()
        .to_owned()
}

/// The keyring a test deployment on `db` signs with: beside a SQLite file (its default), in
/// the temporary directory for a PostgreSQL database.
pub fn keyring_for(db: &str) -> PathBuf {
    match db.strip_prefix("sqlite://") {
        Some(path) => PathBuf::from(format!("{path}.keyring")),
        None => {
            let name: String = db
                .chars()
                .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
                .collect();
            std::env::temp_dir().join(format!("actlog-test-{name}.keyring"))
        }
    }
}

/// A running `actlog serve`, killed (SIGKILL) when dropped.
#[derive(Debug)]
pub struct Server {
    pub child: Child,
    /// `http://127.0.0.1:PORT` (`https://` with `[tls]`).
    pub url: String,
}

impl Server {
    /// Starts `actlog [--config CONFIG] serve --database DB` on a free port, once it has said
    /// where it listens.
    pub fn start(db: &str, config: Option<&Path>) -> Server {
        Server::start_bin(BIN, db, config)
    }

    /// [`Server::start`] with the binary `bin` (a release build, say).
    pub fn start_bin(bin: &str, db: &str, config: Option<&Path>) -> Server {
        let mut command = Command::new(bin);
        if let Some(config) = config {
            command.arg("--config").arg(config);
        }
        // The deployment's keyring, in the test's temporary places rather than the user's
        // data directory.
        command.env("ACTLOG_CHECKPOINTS_KEYRING", keyring_for(db));
        let mut child = command
            .args(["serve", "--database", db, "--listen", "127.0.0.1:0"])
            .env("ACTLOG_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let line = lines
            .next()
            .expect("the server prints its address")
            .unwrap();
        let url = line
            .split_whitespace()
            .find(|w| w.starts_with("http://") || w.starts_with("https://"))
            .unwrap_or_else(|| panic!("an address in {line:?}"))
            .trim_end_matches('/')
            .to_owned();
        // Keeps reading, so that nothing the server prints later meets a closed pipe.
        std::thread::spawn(move || lines.for_each(drop));
        Server { child, url }
    }

    /// SIGKILL, and waits for the process to be gone.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}
