//! Settings: defaults, then a TOML file, then `ACTLOG_*` environment variables, then flags.

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use serde::Deserialize;

use std::time::Duration;

use actlog_domain::roles::{AccessPolicy, Role};
use actlog_postgres::PgOptions;
use actlog_server::identity::session::SessionSettings;
use actlog_server::{Cloud, Limits, ServerConfig};

/// Where the records live, from a URL such as `sqlite://actlog.db`.
#[derive(Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    Sqlite(PathBuf),
    Postgres(String),
}

impl DatabaseUrl {
    pub fn parse(url: &str) -> anyhow::Result<Self> {
        let url = url.trim();
        if let Some(path) = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
        {
            if path.is_empty() {
                bail!(
                    "the database URL `{url}` names no file: write sqlite://PATH, e.g. sqlite://actlog.db"
                );
            }
            return Ok(DatabaseUrl::Sqlite(PathBuf::from(path)));
        }
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(DatabaseUrl::Postgres(url.to_owned()));
        }
        bail!("the database URL `{url}` is neither sqlite://PATH nor postgres://…")
    }
}

impl fmt::Debug for DatabaseUrl {
    /// Never prints a password.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DatabaseUrl::Sqlite(path) => write!(f, "sqlite://{}", path.display()),
            DatabaseUrl::Postgres(url) => write!(f, "{}", redact_password(url)),
        }
    }
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

/// `postgres://user:secret@host/db` → `postgres://user:***@host/db`.
fn redact_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let Some((credentials, host)) = rest.rsplit_once('@') else {
        return url.to_owned();
    };
    match credentials.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_owned(),
    }
}

/// The settings file, every field optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSettings {
    database: Option<String>,
    listen: Option<String>,
    cloud: Option<String>,
    limits: Option<FileLimits>,
    access: Option<FileAccess>,
    sessions: Option<FileSessions>,
    postgres: Option<FilePostgres>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileAccess {
    allowed_roles: Option<Vec<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSessions {
    idle_minutes: Option<u64>,
    max_hours: Option<u64>,
    secure_cookies: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FilePostgres {
    connections: Option<usize>,
    writers: Option<usize>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileLimits {
    max_batch_records: Option<usize>,
    max_body_bytes: Option<usize>,
    max_concurrent_ingest: Option<usize>,
}

/// The resolved settings.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The database every command uses unless given `--database`.
    pub database: DatabaseUrl,
    /// The address `actlog serve` listens on.
    pub listen: SocketAddr,
    /// Limits, access policy, sessions and cloud of the server.
    pub server: ServerConfig,
    /// How a PostgreSQL store is sized (connections, writer tasks).
    pub postgres: PgOptions,
}

/// The file read when `--config` / `ACTLOG_CONFIG` name none, if it exists.
pub const DEFAULT_FILE: &str = "actlog.toml";

impl Settings {
    /// Defaults, overlaid with the file (`path`, else `actlog.toml` when present) and the
    /// environment. Flags are applied by the caller.
    pub fn load(path: Option<&Path>) -> anyhow::Result<Settings> {
        let file = match path {
            Some(path) => read_file(path)?,
            None if Path::new(DEFAULT_FILE).exists() => read_file(Path::new(DEFAULT_FILE))?,
            None => FileSettings::default(),
        };
        let env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let database = env("ACTLOG_DATABASE")
            .or(file.database)
            .unwrap_or_else(|| "sqlite://actlog.db".into());
        let listen = env("ACTLOG_LISTEN")
            .or(file.listen)
            .unwrap_or_else(|| "127.0.0.1:8080".into());
        let mut limits = Limits::default();
        if let Some(l) = file.limits {
            limits.max_batch_records = l.max_batch_records.unwrap_or(limits.max_batch_records);
            limits.max_body_bytes = l.max_body_bytes.unwrap_or(limits.max_body_bytes);
            limits.max_concurrent_ingest = l
                .max_concurrent_ingest
                .unwrap_or(limits.max_concurrent_ingest);
        }
        if limits.max_batch_records == 0
            || limits.max_body_bytes == 0
            || limits.max_concurrent_ingest == 0
        {
            bail!("limits must be at least 1");
        }
        let cloud_text = env("ACTLOG_CLOUD")
            .or(file.cloud)
            .unwrap_or_else(|| "public".into());
        let cloud = Cloud::parse(&cloud_text)
            .with_context(|| format!("cloud = `{cloud_text}`: write \"public\" or \"usgov\""))?;
        let policy = match file.access.and_then(|a| a.allowed_roles) {
            Some(names) => AccessPolicy::new(
                names
                    .iter()
                    .map(|n| n.parse::<Role>())
                    .collect::<Result<Vec<_>, _>>()
                    .context("access.allowed_roles")?,
            ),
            None => AccessPolicy::default(),
        };
        let mut sessions = SessionSettings::default();
        if let Some(s) = file.sessions {
            if let Some(minutes) = s.idle_minutes {
                sessions.idle = Duration::from_secs(minutes.max(1) * 60);
            }
            if let Some(hours) = s.max_hours {
                sessions.absolute = Duration::from_secs(hours.max(1) * 3600);
            }
            sessions.secure = s.secure_cookies;
        }
        let mut postgres = PgOptions::default();
        if let Some(p) = file.postgres {
            postgres.connections = p.connections.unwrap_or(postgres.connections);
            postgres.writers = p.writers.unwrap_or(postgres.writers);
        }
        if postgres.connections < 2
            || postgres.writers == 0
            || postgres.writers >= postgres.connections
        {
            bail!(
                "postgres.connections must be at least 2 and more than postgres.writers (at least 1)"
            );
        }
        let server = ServerConfig {
            limits,
            policy,
            sessions,
            cloud,
        };
        Ok(Settings {
            database: DatabaseUrl::parse(&database)?,
            listen: parse_listen(&listen)?,
            server,
            postgres,
        })
    }
}

pub fn parse_listen(text: &str) -> anyhow::Result<SocketAddr> {
    text.parse().with_context(|| {
        format!("`{text}` is not an address to listen on: write ADDR:PORT, e.g. 127.0.0.1:8080")
    })
}

fn read_file(path: &Path) -> anyhow::Result<FileSettings> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the settings file {}", path.display()))?;
    toml::from_str(&text)
        .with_context(|| format!("the settings file {} is not valid", path.display()))
}

/// The commented example `actlog config example` prints.
pub const EXAMPLE: &str = r#"# actlog settings. Every entry is optional; the values shown are the defaults.
# Precedence: these defaults < this file < ACTLOG_* environment variables < command-line flags.
# actlog reads ./actlog.toml when present, or the file named by --config / ACTLOG_CONFIG.

# Where records, users and keys are kept (ACTLOG_DATABASE, --database).
#   sqlite://PATH       an embedded SQLite file (created if missing)
#   postgres://USER[:PASSWORD]@HOST[:PORT]/DB   PostgreSQL (any number of servers may share it)
database = "sqlite://actlog.db"

# The address `actlog serve` listens on (ACTLOG_LISTEN, --listen).
listen = "127.0.0.1:8080"

# Which cloud this deployment serves: "public" (commercial) or "usgov" (US Government).
# Each deployment is isolated: its own database, keys and users (ACTLOG_CLOUD).
cloud = "public"

[access]
# The roles that may view and export the activity log (page, API, export, subscriptions).
allowed_roles = ["Global admin", "Billing admin", "User management admin", "Admin agent", "Sales agent", "Helpdesk agent"]

[sessions]
# A browser session unused this long ends.
idle_minutes = 30
# A browser session ends this long after sign-in, however active.
max_hours = 12
# Mark cookies Secure. Leave unset to decide per request (X-Forwarded-Proto: https).
# secure_cookies = true

[postgres]
# Connections each server keeps to PostgreSQL, at most (opened as needed).
connections = 16
# Tasks committing ingested batches at once (each commits groups of batches, one partner at a
# time); fewer than connections.
writers = 4

[limits]
# Most records one POST /v1/auditrecords may carry; more is answered 413.
max_batch_records = 10000
# Most bytes one request body may have; more is answered 413.
max_body_bytes = 33554432
# Most ingest requests handled at once; more are answered 503 with Retry-After.
max_concurrent_ingest = 256
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_never_reach_debug_output() {
        let url = DatabaseUrl::parse("postgres://actlog:s3cret@db.internal/actlog").unwrap();
        let shown = format!("{url:?} {url}");
        assert!(!shown.contains("s3cret"), "{shown}");
        assert!(shown.contains("actlog:***@db.internal"), "{shown}");
    }

    #[test]
    fn the_example_is_valid_and_states_the_defaults() {
        let file: FileSettings = toml::from_str(EXAMPLE).unwrap();
        let limits = file.limits.unwrap();
        assert_eq!(
            limits.max_batch_records,
            Some(Limits::default().max_batch_records)
        );
        assert_eq!(
            limits.max_body_bytes,
            Some(Limits::default().max_body_bytes)
        );
        assert_eq!(
            limits.max_concurrent_ingest,
            Some(Limits::default().max_concurrent_ingest)
        );
        assert_eq!(file.database.as_deref(), Some("sqlite://actlog.db"));
        let roles: Vec<Role> = file
            .access
            .unwrap()
            .allowed_roles
            .unwrap()
            .iter()
            .map(|r| r.parse().unwrap())
            .collect();
        assert_eq!(AccessPolicy::new(roles), AccessPolicy::default());
        let sessions = file.sessions.unwrap();
        let defaults = SessionSettings::default();
        assert_eq!(
            sessions.idle_minutes.map(|m| m * 60),
            Some(defaults.idle.as_secs())
        );
        assert_eq!(
            sessions.max_hours.map(|h| h * 3600),
            Some(defaults.absolute.as_secs())
        );
    }

    #[test]
    fn bad_urls_and_addresses_are_explained() {
        assert!(
            DatabaseUrl::parse("mysql://x")
                .unwrap_err()
                .to_string()
                .contains("sqlite://PATH")
        );
        assert!(DatabaseUrl::parse("sqlite://").is_err());
        assert!(
            parse_listen("localhost")
                .unwrap_err()
                .to_string()
                .contains("ADDR:PORT")
        );
        let bad: Result<FileSettings, _> = toml::from_str("databse = \"x\"");
        assert!(bad.unwrap_err().to_string().contains("databse"));
    }
}
