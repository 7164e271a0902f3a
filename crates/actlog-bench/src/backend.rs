//! Where a benchmark's store lives: a SQLite file or a PostgreSQL database, made fresh for the
//! run and removed at its end, or kept at a place the user named.

use std::path::PathBuf;
use std::sync::Arc;

use actlog_sqlite::{SqliteOptions, SqliteStore};
use actlog_store::Store;
use tempfile::TempDir;

use crate::postgres;

/// The store backend a benchmark measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Backend {
    /// A SQLite file (`actlog_sqlite`), against the `sqlite3` shell.
    #[default]
    Sqlite,
    /// A PostgreSQL database (`actlog_postgres`), against `psql`.
    Postgres,
}

/// A database for one benchmark; a fresh one is removed when this is dropped.
#[derive(Debug)]
pub enum Database {
    Sqlite {
        path: PathBuf,
        /// The temporary directory of a fresh file.
        _dir: Option<TempDir>,
    },
    Postgres {
        url: String,
        /// The scratch database of a fresh one, dropped with it.
        _scratch: Option<actlog_postgres::scratch::ScratchDatabase>,
    },
}

impl Database {
    /// A new, empty database.
    pub async fn fresh(backend: Backend) -> anyhow::Result<Database> {
        Ok(match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir()?;
                Database::Sqlite {
                    path: dir.path().join("bench.db"),
                    _dir: Some(dir),
                }
            }
            Backend::Postgres => {
                let scratch = postgres::scratch().await?;
                Database::Postgres {
                    url: scratch.url().to_owned(),
                    _scratch: Some(scratch),
                }
            }
        })
    }

    /// The database at `location` (a file path, or a `postgres://` URL), never removed.
    pub fn kept(backend: Backend, location: &str) -> anyhow::Result<Database> {
        Ok(match backend {
            Backend::Sqlite => Database::Sqlite {
                path: PathBuf::from(location),
                _dir: None,
            },
            Backend::Postgres => {
                anyhow::ensure!(
                    location.starts_with("postgres://") || location.starts_with("postgresql://"),
                    "with --backend postgres, --database is a URL such as \
                     postgres://postgres@127.0.0.1:5432/actlog_q10m (create it with createdb)"
                );
                Database::Postgres {
                    url: location.to_owned(),
                    _scratch: None,
                }
            }
        })
    }

    /// Opens a store on the database (another one each call: two servers, two stores).
    pub async fn open(&self) -> anyhow::Result<Arc<dyn Store>> {
        Ok(match self {
            Database::Sqlite { path, .. } => {
                Arc::new(SqliteStore::open(path, SqliteOptions::default())?)
            }
            Database::Postgres { url, .. } => Arc::new(postgres::open(url).await?),
        })
    }

    /// The database as `actlog --database` takes it.
    pub fn url(&self) -> String {
        match self {
            Database::Sqlite { path, .. } => format!("sqlite://{}", path.display()),
            Database::Postgres { url, .. } => url.clone(),
        }
    }
}
