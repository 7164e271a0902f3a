//! Scratch databases for tests and benchmarks: a new, empty database on a PostgreSQL server,
//! dropped (with every connection still open to it) when the handle is dropped; and
//! [`Backend`], which store a test suite runs on.
//!
//! The server is `ACTLOG_TEST_POSTGRES` (a URL to an administrative database, default
//! `postgres://postgres@127.0.0.1:5432/postgres`, as `scripts/test` provides). An unreachable
//! server is an error that says so: tests fail rather than skip.

use std::str::FromStr;

/// The store backend a test suite runs on, from `ACTLOG_TEST_BACKEND`: `sqlite` (the default)
/// or `postgres` (`scripts/test` runs the storage-touching suites once with each).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// The backend `ACTLOG_TEST_BACKEND` names; panics on any other value.
    pub fn from_env() -> Backend {
        match std::env::var("ACTLOG_TEST_BACKEND") {
            Err(std::env::VarError::NotPresent) => Backend::Sqlite,
            Ok(name) if name.is_empty() || name == "sqlite" => Backend::Sqlite,
            Ok(name) if name == "postgres" => Backend::Postgres,
            Ok(name) => panic!("ACTLOG_TEST_BACKEND={name}: write sqlite or postgres"),
            Err(e) => panic!("ACTLOG_TEST_BACKEND: {e}"),
        }
    }
}

/// The environment variable naming the test server.
pub const SERVER_VAR: &str = "ACTLOG_TEST_POSTGRES";
const DEFAULT_SERVER: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// A fresh database; dropped from the server when this is dropped.
#[derive(Debug)]
pub struct ScratchDatabase {
    admin: String,
    name: String,
    url: String,
}

impl ScratchDatabase {
    /// Creates a database with a new random name on the test server.
    pub async fn create() -> Result<ScratchDatabase, String> {
        let admin = std::env::var(SERVER_VAR).unwrap_or_else(|_| DEFAULT_SERVER.to_owned());
        tokio_postgres::Config::from_str(&admin)
            .map_err(|e| format!("{SERVER_VAR}={admin} is not a PostgreSQL URL: {e}"))?;
        let name = format!("actlog_test_{}", uuid_like());
        let client = connect(&admin).await?;
        client
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .await
            .map_err(|e| format!("cannot create a test database on {admin}: {e}"))?;
        let url = url_of(&admin, &name);
        Ok(ScratchDatabase { admin, name, url })
    }

    /// A new scratch database holding a copy of this one as it is now (nothing may be
    /// connected to this one meanwhile): an older copy to roll back to, in tests.
    pub async fn copy(&self) -> Result<ScratchDatabase, String> {
        let name = format!("actlog_test_{}", uuid_like());
        let client = connect(&self.admin).await?;
        client
            .batch_execute(&format!("CREATE DATABASE {name} TEMPLATE {}", self.name))
            .await
            .map_err(|e| format!("cannot copy test database {}: {e}", self.name))?;
        let url = url_of(&self.admin, &name);
        Ok(ScratchDatabase {
            admin: self.admin.clone(),
            name,
            url,
        })
    }

    /// The database's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The administrative database's URL on the same server.
    pub fn admin_url(&self) -> &str {
        &self.admin
    }

    pub fn url(&self) -> &str {
        &self.url
    }
}

impl Drop for ScratchDatabase {
    fn drop(&mut self) {
        let (admin, name) = (self.admin.clone(), self.name.clone());
        // Dropped from async code too: on a thread of its own, with a runtime of its own.
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| e.to_string())?;
            runtime.block_on(async {
                let client = connect(&admin).await?;
                client
                    .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .await
                    .map_err(|e| e.to_string())
            })
        })
        .join();
        match dropped {
            Ok(Ok(())) => {}
            Ok(Err(e)) => eprintln!("could not drop test database {}: {e}", self.name),
            Err(_) => eprintln!(
                "could not drop test database {}: the thread panicked",
                self.name
            ),
        }
    }
}

/// A connection to the administrative database, its driver task spawned.
async fn connect(admin: &str) -> Result<tokio_postgres::Client, String> {
    let (client, connection) = tokio_postgres::connect(admin, tokio_postgres::NoTls)
        .await
        .map_err(|e| {
            format!(
                "cannot reach the test PostgreSQL server {admin} ({e}); start it \
                 (scripts/test does) or set {SERVER_VAR}"
            )
        })?;
    tokio::spawn(connection);
    Ok(client)
}

/// `admin` with its database name replaced by `name`.
fn url_of(admin: &str, name: &str) -> String {
    let (base, query) = match admin.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (admin, None),
    };
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let base = match base[scheme_end..].find('/') {
        Some(slash) => &base[..scheme_end + slash],
        None => base,
    };
    match query {
        Some(query) => format!("{base}/{name}?{query}"),
        None => format!("{base}/{name}"),
    }
}

/// 16 random hex digits (the name must be a plain identifier).
fn uuid_like() -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    hasher.write_u32(std::process::id());
    format!("{:016x}", hasher.finish())
}

#[cfg(test)]
mod tests {
    #[test]
    fn urls_name_the_scratch_database() {
        let url = super::url_of;
        assert_eq!(url("postgres://u@h:5/postgres", "x"), "postgres://u@h:5/x");
        assert_eq!(url("postgres://u@h", "x"), "postgres://u@h/x");
        assert_eq!(
            url("postgres://u@h/db?sslmode=disable", "x"),
            "postgres://u@h/x?sslmode=disable"
        );
    }
}
