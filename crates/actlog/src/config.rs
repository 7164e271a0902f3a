//! Settings: defaults, then a TOML file, then `ACTLOG_*` environment variables, then flags.
//!
//! Every scalar key has its variable: `ACTLOG_<SECTION>_<KEY>` in upper case (`[limits]
//! max_connections` → `ACTLOG_LIMITS_MAX_CONNECTIONS`, `[sign_in] trusted_proxies` →
//! `ACTLOG_SIGN_IN_TRUSTED_PROXIES`, lists comma-separated), `ACTLOG_<KEY>` for the top-level
//! ones (`ACTLOG_DATABASE`). A value that does not parse is an error naming the variable.

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use serde::Deserialize;

use std::time::Duration;

use actlog_app::pull::{self, Secret};
use actlog_domain::query::DEFAULT_PAGE_SIZE;
use actlog_domain::roles::{AccessPolicy, Role};
use actlog_postgres::PgOptions;
use actlog_server::client_addr::TrustedProxies;
use actlog_server::identity::session::SessionSettings;
use actlog_server::metrics::MetricsSettings;
use actlog_server::state::SignInSettings;
use actlog_server::{Cloud, Limits, ServerConfig};
use actlog_sqlite::SqliteOptions;

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

/// The environment variable of `[section] key`: `ACTLOG_<SECTION>_<KEY>`.
pub(crate) fn env_name(section: &str, key: &str) -> String {
    format!("ACTLOG_{section}_{key}").to_ascii_uppercase()
}

/// `[section] key` from its variable, parsed; an error naming the variable when it does not
/// parse as `what` says.
fn env_parsed<T: std::str::FromStr>(
    env: &impl Fn(&str) -> Option<String>,
    section: &str,
    key: &str,
    what: &str,
) -> anyhow::Result<Option<T>> {
    let var = env_name(section, key);
    match env(&var) {
        Some(value) => match value.trim().parse() {
            Ok(parsed) => Ok(Some(parsed)),
            Err(_) => bail!("{var} = `{value}` is not {what}"),
        },
        None => Ok(None),
    }
}

/// A whole number from `[section] key`'s variable.
fn env_number<T: std::str::FromStr>(
    env: &impl Fn(&str) -> Option<String>,
    section: &str,
    key: &str,
) -> anyhow::Result<Option<T>> {
    env_parsed(env, section, key, "a whole number")
}

/// `true`/`false` from `[section] key`'s variable.
pub(crate) fn env_bool(
    env: &impl Fn(&str) -> Option<String>,
    section: &str,
    key: &str,
) -> anyhow::Result<Option<bool>> {
    let var = env_name(section, key);
    match env(&var) {
        Some(value) => match parse_bool(&value) {
            Some(parsed) => Ok(Some(parsed)),
            None => bail!("{var} = `{value}`: write true or false"),
        },
        None => Ok(None),
    }
}

/// A comma-separated list from `[section] key`'s variable.
fn env_list(
    env: &impl Fn(&str) -> Option<String>,
    section: &str,
    key: &str,
) -> Option<Vec<String>> {
    env_list_named(env, &env_name(section, key))
}

/// A comma-separated list from the variable `var`.
fn env_list_named(env: &impl Fn(&str) -> Option<String>, var: &str) -> Option<Vec<String>> {
    env(var).map(|list| {
        list.split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(str::to_owned)
            .collect()
    })
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
    pull: Option<FilePull>,
    sign_in: Option<FileSignIn>,
    sso: Option<crate::sso_settings::FileSso>,
    checkpoints: Option<FileCheckpoints>,
    metrics: Option<FileMetrics>,
    log: Option<FileLog>,
    tls: Option<FileTls>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileTls {
    certificate: Option<PathBuf>,
    key: Option<PathBuf>,
}

/// `[tls]`: `actlog serve` speaks TLS itself, with these PEM files (read again on SIGHUP).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsSettings {
    /// The server's certificate, then the rest of its chain.
    pub certificate: PathBuf,
    /// Its private key (PKCS #8, PKCS #1 or SEC 1).
    pub key: PathBuf,
}

/// `[tls]`, then `ACTLOG_TLS_CERTIFICATE` and `ACTLOG_TLS_KEY`: both or neither.
fn tls_settings(
    file: Option<FileTls>,
    env: &impl Fn(&str) -> Option<String>,
) -> anyhow::Result<Option<TlsSettings>> {
    let file = file.unwrap_or_default();
    let certificate = env("ACTLOG_TLS_CERTIFICATE")
        .map(PathBuf::from)
        .or(file.certificate);
    let key = env("ACTLOG_TLS_KEY").map(PathBuf::from).or(file.key);
    match (certificate, key) {
        (Some(certificate), Some(key)) => Ok(Some(TlsSettings { certificate, key })),
        (None, None) => Ok(None),
        (Some(_), None) => bail!(
            "tls.certificate is set but tls.key (ACTLOG_TLS_KEY) is not: TLS needs both files"
        ),
        (None, Some(_)) => bail!(
            "tls.key is set but tls.certificate (ACTLOG_TLS_CERTIFICATE) is not: TLS needs both files"
        ),
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileLog {
    format: Option<String>,
}

/// How log lines are written (`[log] format`, `ACTLOG_LOG_FORMAT`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogFormat {
    /// Lines for people.
    #[default]
    Text,
    /// One JSON object a line, with the request's span (its ids) in each, for log collectors.
    Json,
}

impl LogFormat {
    fn parse(text: &str) -> Option<LogFormat> {
        match text.trim().to_ascii_lowercase().as_str() {
            "text" => Some(LogFormat::Text),
            "json" => Some(LogFormat::Json),
            _ => None,
        }
    }
}

/// `[log] format`, then `ACTLOG_LOG_FORMAT`.
fn log_format(
    file: Option<FileLog>,
    env: &impl Fn(&str) -> Option<String>,
) -> anyhow::Result<LogFormat> {
    if let Some(value) = env("ACTLOG_LOG_FORMAT") {
        return LogFormat::parse(&value)
            .with_context(|| format!("ACTLOG_LOG_FORMAT = `{value}`: write \"text\" or \"json\""));
    }
    match file.and_then(|f| f.format) {
        Some(value) => LogFormat::parse(&value)
            .with_context(|| format!("log.format = `{value}`: write \"text\" or \"json\"")),
        None => Ok(LogFormat::Text),
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileMetrics {
    enabled: Option<bool>,
    token: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileCheckpoints {
    keyring: Option<PathBuf>,
    name: Option<String>,
    interval_seconds: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSignIn {
    trusted_proxies: Option<Vec<String>>,
    concurrent_password_checks: Option<usize>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FilePull {
    source: Option<String>,
    authority: Option<String>,
    tenant_id: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
    client_certificate: Option<PathBuf>,
    client_key: Option<PathBuf>,
    token: Option<String>,
    overlap_hours: Option<u64>,
    interval_seconds: Option<u64>,
    page_size: Option<usize>,
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
    max_batch_records: Option<u64>,
    max_body_bytes: Option<u64>,
    max_concurrent_ingest: Option<u64>,
    ingest_share_percent: Option<u64>,
    max_body_bytes_in_flight: Option<u64>,
    max_connections: Option<u64>,
    max_connections_per_address: Option<u64>,
    header_timeout_seconds: Option<u64>,
    body_timeout_seconds: Option<u64>,
    min_body_bytes_per_second: Option<u64>,
    statement_timeout_ms: Option<u64>,
    max_concurrent_queries: Option<u64>,
    max_concurrent_exports: Option<u64>,
    query_share_percent: Option<u64>,
    export_share_percent: Option<u64>,
    slot_wait_ms: Option<u64>,
    export_send_timeout_seconds: Option<u64>,
    auth_connections: Option<u64>,
    shutdown_grace_seconds: Option<u64>,
}

/// `[limits]` over the defaults, each then overridden by `ACTLOG_LIMITS_<NAME>`
/// (`ACTLOG_LIMITS_MAX_CONNECTIONS`, …).
fn limits_settings(
    file: Option<FileLimits>,
    env: &impl Fn(&str) -> Option<String>,
) -> anyhow::Result<Limits> {
    let file = file.unwrap_or_default();
    let number = |name: &str, file: Option<u64>, default: u64| -> anyhow::Result<u64> {
        let var = format!("ACTLOG_LIMITS_{}", name.to_ascii_uppercase());
        let value = match env(&var) {
            Some(value) => value
                .trim()
                .parse()
                .with_context(|| format!("{var} = `{value}` is not a whole number"))?,
            None => file.unwrap_or(default),
        };
        if value == 0 {
            bail!("limits.{name} must be at least 1");
        }
        Ok(value)
    };
    let size = |name: &str, file: Option<u64>, default: usize| -> anyhow::Result<usize> {
        let value = number(name, file, default as u64)?;
        usize::try_from(value).with_context(|| format!("limits.{name} is too large"))
    };
    let seconds = |name: &str, file: Option<u64>, default: Duration| {
        number(name, file, default.as_secs()).map(Duration::from_secs)
    };
    let millis = |name: &str, file: Option<u64>, default: Duration| {
        number(name, file, default.as_millis() as u64).map(Duration::from_millis)
    };
    let percent = |name: &str, file: Option<u64>, default: u64| {
        let value = number(name, file, default)?;
        if value > 100 {
            bail!("limits.{name} is a percentage: at most 100");
        }
        Ok::<_, anyhow::Error>(value)
    };
    let d = Limits::default();
    let limits = Limits {
        max_batch_records: size(
            "max_batch_records",
            file.max_batch_records,
            d.max_batch_records,
        )?,
        max_body_bytes: size("max_body_bytes", file.max_body_bytes, d.max_body_bytes)?,
        max_concurrent_ingest: size(
            "max_concurrent_ingest",
            file.max_concurrent_ingest,
            d.max_concurrent_ingest,
        )?,
        ingest_share_percent: percent(
            "ingest_share_percent",
            file.ingest_share_percent,
            d.ingest_share_percent,
        )?,
        max_body_bytes_in_flight: size(
            "max_body_bytes_in_flight",
            file.max_body_bytes_in_flight,
            d.max_body_bytes_in_flight,
        )?,
        max_connections: size("max_connections", file.max_connections, d.max_connections)?,
        max_connections_per_address: size(
            "max_connections_per_address",
            file.max_connections_per_address,
            d.max_connections_per_address,
        )?,
        header_timeout: seconds(
            "header_timeout_seconds",
            file.header_timeout_seconds,
            d.header_timeout,
        )?,
        body_timeout: seconds(
            "body_timeout_seconds",
            file.body_timeout_seconds,
            d.body_timeout,
        )?,
        min_body_rate: number(
            "min_body_bytes_per_second",
            file.min_body_bytes_per_second,
            d.min_body_rate,
        )?,
        statement_timeout: millis(
            "statement_timeout_ms",
            file.statement_timeout_ms,
            d.statement_timeout,
        )?,
        max_concurrent_queries: size(
            "max_concurrent_queries",
            file.max_concurrent_queries,
            d.max_concurrent_queries,
        )?,
        max_concurrent_exports: size(
            "max_concurrent_exports",
            file.max_concurrent_exports,
            d.max_concurrent_exports,
        )?,
        query_share_percent: percent(
            "query_share_percent",
            file.query_share_percent,
            d.query_share_percent,
        )?,
        export_share_percent: percent(
            "export_share_percent",
            file.export_share_percent,
            d.export_share_percent,
        )?,
        slot_wait: millis("slot_wait_ms", file.slot_wait_ms, d.slot_wait)?,
        export_send_timeout: seconds(
            "export_send_timeout_seconds",
            file.export_send_timeout_seconds,
            d.export_send_timeout,
        )?,
        auth_connections: size(
            "auth_connections",
            file.auth_connections,
            d.auth_connections,
        )?,
        shutdown_grace: seconds(
            "shutdown_grace_seconds",
            file.shutdown_grace_seconds,
            d.shutdown_grace,
        )?,
    };
    if limits.max_body_bytes_in_flight < limits.max_body_bytes {
        bail!("limits.max_body_bytes_in_flight must be at least limits.max_body_bytes");
    }
    Ok(limits)
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
    /// How a SQLite store is sized (its connections follow `[limits]`).
    pub sqlite: SqliteOptions,
    /// Where and how `actlog pull` reads.
    pub pull: PullSettings,
    /// The signing keyring and signing of checkpoints.
    pub checkpoints: CheckpointSettings,
    /// How log lines are written.
    pub log_format: LogFormat,
    /// TLS on `listen`, when configured.
    pub tls: Option<TlsSettings>,
}

/// `[checkpoints]`: the deployment's signing keyring (outside the database) and its name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckpointSettings {
    /// The keyring file; `None`: next to the SQLite file, or per PostgreSQL database in the
    /// user's data directory (see [`CheckpointSettings::keyring_for`]).
    pub keyring: Option<PathBuf>,
    /// The deployment's name, given to a key when the keyring is created.
    pub name: String,
    /// How often the server signs the logs that grew.
    pub interval: Duration,
}

impl Default for CheckpointSettings {
    fn default() -> Self {
        CheckpointSettings {
            keyring: None,
            name: "actlog".into(),
            interval: Duration::from_secs(10),
        }
    }
}

impl CheckpointSettings {
    /// The keyring of the deployment on `database`.
    pub fn keyring_for(&self, database: &DatabaseUrl) -> PathBuf {
        if let Some(path) = &self.keyring {
            return path.clone();
        }
        match database {
            DatabaseUrl::Sqlite(path) => {
                let mut name = path.as_os_str().to_owned();
                name.push(".keyring");
                PathBuf::from(name)
            }
            DatabaseUrl::Postgres(url) => {
                let data = std::env::var_os("XDG_DATA_HOME")
                    .filter(|d| !d.is_empty())
                    .map(PathBuf::from)
                    .or_else(|| {
                        std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share"))
                    })
                    .unwrap_or_else(|| PathBuf::from("."));
                data.join("actlog")
                    .join(format!("{}.keyring", postgres_place(url)))
            }
        }
    }
}

/// `host_port_db` of a PostgreSQL URL (no user or password), to name its keyring file.
fn postgres_place(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let rest = rest.rsplit_once('@').map_or(rest, |(_, r)| r);
    let rest = rest.split('?').next().unwrap_or(rest);
    rest.chars()
        .map(|c| match c {
            'A'..='Z' | 'a'..='z' | '0'..='9' | '-' | '.' => c,
            _ => '_',
        })
        .collect()
}

/// `[pull]`: the source `actlog pull` mirrors and how it signs in there. Secrets are
/// [`Secret`]s, so that `Debug` never shows them.
#[derive(Debug, Clone)]
pub struct PullSettings {
    /// The audit-records API to read (default: Partner Center's).
    pub source: String,
    /// The Entra authority to sign in at (default: the `cloud`'s).
    pub authority: String,
    /// The partner's Entra tenant, where the app is registered.
    pub tenant_id: Option<String>,
    /// The app (client) id.
    pub client_id: Option<String>,
    /// The app's client secret.
    pub client_secret: Option<Secret>,
    /// A PEM file with the app's certificate, instead of a secret (it may hold the key too).
    pub client_certificate: Option<PathBuf>,
    /// A PEM file with the certificate's RSA private key (default: `client_certificate`).
    pub client_key: Option<PathBuf>,
    /// A static bearer token instead of client credentials (e.g. another actlog's read key).
    pub token: Option<Secret>,
    /// How far before the last pull's end a later pull starts reading again.
    pub overlap_hours: u64,
    /// Seconds between the passes of `actlog pull --follow` (jittered by ±10 %).
    pub interval_seconds: u64,
    /// Records asked for per request.
    pub page_size: usize,
}

impl PullSettings {
    /// The defaults, for `cloud`.
    pub fn defaults(cloud: Cloud) -> PullSettings {
        PullSettings {
            source: pull::source::PARTNER_CENTER.to_owned(),
            authority: match cloud {
                Cloud::Public => pull::signin::PUBLIC_AUTHORITY,
                Cloud::UsGov => pull::signin::USGOV_AUTHORITY,
            }
            .to_owned(),
            tenant_id: None,
            client_id: None,
            client_secret: None,
            client_certificate: None,
            client_key: None,
            token: None,
            overlap_hours: 24,
            interval_seconds: 300,
            page_size: DEFAULT_PAGE_SIZE,
        }
    }

    /// The defaults overlaid with the file's `[pull]`, then with `ACTLOG_PULL_*`.
    fn load(
        cloud: Cloud,
        file: Option<FilePull>,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> anyhow::Result<PullSettings> {
        let file = file.unwrap_or_default();
        let mut pull = PullSettings::defaults(cloud);
        let text = |name: &str, file: Option<String>| env(&format!("ACTLOG_PULL_{name}")).or(file);
        let number = |name: &str, file: Option<u64>| -> anyhow::Result<Option<u64>> {
            let var = format!("ACTLOG_PULL_{name}");
            match env(&var) {
                Some(value) => value
                    .trim()
                    .parse()
                    .map(Some)
                    .with_context(|| format!("{var} = `{value}` is not a whole number")),
                None => Ok(file),
            }
        };
        pull.source = text("SOURCE", file.source).unwrap_or(pull.source);
        pull.authority = text("AUTHORITY", file.authority).unwrap_or(pull.authority);
        pull.tenant_id = text("TENANT_ID", file.tenant_id);
        pull.client_id = text("CLIENT_ID", file.client_id);
        pull.client_secret = text("CLIENT_SECRET", file.client_secret).map(Secret::new);
        pull.client_certificate = env("ACTLOG_PULL_CLIENT_CERTIFICATE")
            .map(PathBuf::from)
            .or(file.client_certificate);
        pull.client_key = env("ACTLOG_PULL_CLIENT_KEY")
            .map(PathBuf::from)
            .or(file.client_key);
        pull.token = text("TOKEN", file.token).map(Secret::new);
        let overlap = number("OVERLAP_HOURS", file.overlap_hours)?;
        pull.overlap_hours = overlap.unwrap_or(pull.overlap_hours);
        let interval = number("INTERVAL_SECONDS", file.interval_seconds)?;
        pull.interval_seconds = interval.unwrap_or(pull.interval_seconds);
        let size = number("PAGE_SIZE", file.page_size.map(|n| n as u64))?;
        pull.page_size = size.map_or(pull.page_size, |n| n as usize);
        if pull.interval_seconds == 0 || pull.page_size == 0 {
            bail!("pull.interval_seconds and pull.page_size must be at least 1");
        }
        Ok(pull)
    }
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
        Settings::resolve(file, &env)
    }

    /// The file's settings over the defaults, overridden by `env`.
    fn resolve(
        file: FileSettings,
        env: &impl Fn(&str) -> Option<String>,
    ) -> anyhow::Result<Settings> {
        let database = env("ACTLOG_DATABASE")
            .or(file.database)
            .unwrap_or_else(|| "sqlite://actlog.db".into());
        let listen = env("ACTLOG_LISTEN")
            .or(file.listen)
            .unwrap_or_else(|| "127.0.0.1:8080".into());
        let limits = limits_settings(file.limits, env)?;
        let cloud_text = env("ACTLOG_CLOUD")
            .or(file.cloud)
            .unwrap_or_else(|| "public".into());
        let cloud = Cloud::parse(&cloud_text).with_context(|| {
            format!("cloud (ACTLOG_CLOUD) = `{cloud_text}`: write \"public\" or \"usgov\"")
        })?;
        let allowed = env_list(env, "access", "allowed_roles");
        let policy = match allowed.or(file.access.and_then(|a| a.allowed_roles)) {
            Some(names) => AccessPolicy::new(
                names
                    .iter()
                    .map(|n| n.parse::<Role>())
                    .collect::<Result<Vec<_>, _>>()
                    .context("access.allowed_roles (ACTLOG_ACCESS_ALLOWED_ROLES)")?,
            ),
            None => AccessPolicy::default(),
        };
        let mut sessions = SessionSettings::default();
        let s = file.sessions.unwrap_or_default();
        let idle = env_number(env, "sessions", "idle_minutes")?.or(s.idle_minutes);
        if let Some(minutes) = idle {
            sessions.idle = Duration::from_secs(minutes.max(1) * 60);
        }
        let max = env_number(env, "sessions", "max_hours")?.or(s.max_hours);
        if let Some(hours) = max {
            sessions.absolute = Duration::from_secs(hours.max(1) * 3600);
        }
        sessions.secure = env_bool(env, "sessions", "secure_cookies")?.or(s.secure_cookies);
        let tls = tls_settings(file.tls, env)?;
        if tls.is_some() {
            // Served over TLS, every request is https: cookies are Secure unless told otherwise.
            sessions.secure.get_or_insert(true);
        }
        let mut postgres = PgOptions::default();
        let p = file.postgres.unwrap_or_default();
        postgres.connections = env_number(env, "postgres", "connections")?
            .or(p.connections)
            .unwrap_or(postgres.connections);
        postgres.writers = env_number(env, "postgres", "writers")?
            .or(p.writers)
            .unwrap_or(postgres.writers);
        if postgres.connections < 2
            || postgres.writers == 0
            || postgres.writers >= postgres.connections
        {
            bail!(
                "postgres.connections must be at least 2 and more than postgres.writers (at least 1)"
            );
        }
        // The store's connections follow the server's slots: a query or export holding a slot
        // never waits for a connection, and look-ups have theirs.
        postgres.auth_connections = limits.auth_connections;
        postgres.scan_connections = limits.max_concurrent_exports;
        // A backstop: the server's own limit stops the query first, with a clearer answer.
        postgres.statement_timeout = Some(limits.statement_timeout + Duration::from_secs(1));
        let sqlite = SqliteOptions {
            readers: limits.max_concurrent_queries,
            scans: limits.max_concurrent_exports,
            auth_readers: limits.auth_connections,
            ..SqliteOptions::default()
        };
        let pull = PullSettings::load(cloud, file.pull, env)?;
        let sign_in = sign_in_settings(file.sign_in.unwrap_or_default(), env)?;
        let checkpoints = checkpoint_settings(file.checkpoints.unwrap_or_default(), env)?;
        let sso = crate::sso_settings::load(cloud, file.sso, env)?;
        let log = log_format(file.log, env)?;
        let server = ServerConfig {
            limits,
            policy,
            sessions,
            cloud,
            sign_in,
            sso,
            checkpoints: None,
            metrics: metrics_settings(file.metrics.unwrap_or_default(), env)?,
        };
        Ok(Settings {
            database: DatabaseUrl::parse(&database).context("database (ACTLOG_DATABASE)")?,
            listen: parse_listen(&listen).context("listen (ACTLOG_LISTEN)")?,
            server,
            postgres,
            sqlite,
            pull,
            checkpoints,
            log_format: log,
            tls,
        })
    }
}

/// `[metrics]` over the defaults, then `ACTLOG_METRICS_ENABLED` and `ACTLOG_METRICS_TOKEN`.
fn metrics_settings(
    file: FileMetrics,
    env: &impl Fn(&str) -> Option<String>,
) -> anyhow::Result<MetricsSettings> {
    let mut settings = MetricsSettings::default();
    settings.enabled = match env("ACTLOG_METRICS_ENABLED") {
        Some(value) => parse_bool(&value)
            .with_context(|| format!("ACTLOG_METRICS_ENABLED = `{value}`: write true or false"))?,
        None => file.enabled.unwrap_or(settings.enabled),
    };
    settings.token = env("ACTLOG_METRICS_TOKEN").or(file.token);
    if settings
        .token
        .as_deref()
        .is_some_and(|t| t.trim().is_empty() || t.contains(char::is_whitespace))
    {
        bail!("metrics.token must be non-empty and without spaces");
    }
    Ok(settings)
}

/// `true`/`false` (also `1`/`0`, `yes`/`no`, `on`/`off`), as an environment variable says it.
fn parse_bool(text: &str) -> Option<bool> {
    match text.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Some(true),
        "false" | "0" | "no" | "off" => Some(false),
        _ => None,
    }
}

/// `[checkpoints]` over the defaults, then `ACTLOG_CHECKPOINTS_KEYRING` and `_NAME`.
fn checkpoint_settings(
    file: FileCheckpoints,
    env: &impl Fn(&str) -> Option<String>,
) -> anyhow::Result<CheckpointSettings> {
    let mut settings = CheckpointSettings {
        keyring: env("ACTLOG_CHECKPOINTS_KEYRING")
            .map(PathBuf::from)
            .or(file.keyring),
        ..Default::default()
    };
    if let Some(name) = env("ACTLOG_CHECKPOINTS_NAME").or(file.name) {
        actlog_tlog::checkpoint::origin(&name, "p").map_err(|_| {
            anyhow::anyhow!(
                "checkpoints.name = `{name}`: a deployment name must be non-empty, without spaces, `+` or control characters"
            )
        })?;
        settings.name = name;
    }
    let interval = env_number(env, "checkpoints", "interval_seconds")?.or(file.interval_seconds);
    if let Some(seconds) = interval {
        if seconds == 0 {
            bail!("checkpoints.interval_seconds must be at least 1");
        }
        settings.interval = Duration::from_secs(seconds);
    }
    Ok(settings)
}

/// `[sign_in]` over the defaults, then `ACTLOG_SIGN_IN_*` (`ACTLOG_SIGN_IN_TRUSTED_PROXIES`,
/// or `ACTLOG_TRUSTED_PROXIES`, comma-separated).
fn sign_in_settings(
    file: FileSignIn,
    env: &impl Fn(&str) -> Option<String>,
) -> anyhow::Result<SignInSettings> {
    let mut settings = SignInSettings::default();
    // ACTLOG_TRUSTED_PROXIES is the name it had before the general rule.
    let proxies: Vec<String> = env_list(env, "sign_in", "trusted_proxies")
        .or_else(|| env_list_named(env, "ACTLOG_TRUSTED_PROXIES"))
        .or(file.trusted_proxies)
        .unwrap_or_default();
    settings.trusted_proxies = TrustedProxies(
        proxies
            .iter()
            .map(|p| p.parse())
            .collect::<Result<_, _>>()
            .context("sign_in.trusted_proxies (ACTLOG_SIGN_IN_TRUSTED_PROXIES)")?,
    );
    let checks = env_number(env, "sign_in", "concurrent_password_checks")?
        .or(file.concurrent_password_checks);
    if let Some(checks) = checks {
        if checks == 0 {
            bail!("sign_in.concurrent_password_checks must be at least 1");
        }
        settings.concurrent_checks = checks;
    }
    Ok(settings)
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
# Every key has its variable: ACTLOG_<SECTION>_<KEY> in upper case, e.g. [limits]
# max_connections is ACTLOG_LIMITS_MAX_CONNECTIONS, [sign_in] trusted_proxies is
# ACTLOG_SIGN_IN_TRUSTED_PROXIES (lists comma-separated); top-level keys are ACTLOG_<KEY>, e.g.
# ACTLOG_DATABASE. A value that does not parse stops start-up, naming the variable.
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
# Connections each server keeps to PostgreSQL for reading, sign-in and keys, at most (opened
# as needed).
connections = 16
# Tasks committing ingested batches (each commits groups of batches, one partner at a time;
# a partner always goes to the same one), on a thread of their own with one connection each.
writers = 4

[sign_in]
# Proxies whose X-Forwarded-For header names the client (ACTLOG_TRUSTED_PROXIES, comma-
# separated): addresses or ranges such as "10.0.0.0/8" or "::1". Behind a reverse proxy, list
# it, or every user counts as the proxy's address. From anyone else the header is ignored.
trusted_proxies = []
# Password checks running at once; more attempts wait (up to 5 s, then 503). Each holds about
# 19 MiB while it runs. Failed sign-ins back off (1 s, 2 s, 4 s, … up to 15 minutes) after 5
# failures of one account from one address, 20 of one account, or 30 from one address.
concurrent_password_checks = 4

[checkpoints]
# The deployment's signing keyring: a file outside the database, created (mode 0600) on first
# use, holding the Ed25519 key that signs every partner's checkpoints and the public keys of
# rotated ones (ACTLOG_CHECKPOINTS_KEYRING). Default: the SQLite file's path + ".keyring"; for
# PostgreSQL, $XDG_DATA_HOME/actlog/HOST_PORT_DB.keyring (~/.local/share when unset). Servers
# sharing one PostgreSQL database need the same file: copy it to each. Back it up: without it
# no new checkpoint verifies under the old key (`actlog keys show` prints the verifier key).
# keyring = "/var/lib/actlog/actlog.keyring"
# The deployment's name, given to the key when the keyring is created and the first part of
# every log's origin, e.g. your host name (ACTLOG_CHECKPOINTS_NAME).
name = "actlog"
# Seconds between the server's signing of the logs that grew.
interval_seconds = 10

[pull]
# `actlog pull` mirrors a partner's audit records from this API (ACTLOG_PULL_SOURCE, --source):
# Partner Center's, or any compatible one, such as another actlog.
source = "https://api.partnercenter.microsoft.com/v1/auditrecords"
# Where the app signs in (ACTLOG_PULL_AUTHORITY): https://login.microsoftonline.com for
# cloud = "public", https://login.microsoftonline.us for cloud = "usgov".
# authority = "https://login.microsoftonline.com"
# The app registration's OAuth 2.0 client credentials, with Partner Center API permission
# (ACTLOG_PULL_TENANT_ID, ACTLOG_PULL_CLIENT_ID, ACTLOG_PULL_CLIENT_SECRET). Prefer the
# environment for the secret; it is never printed.
# tenant_id = "00000000-0000-0000-0000-000000000000"
# client_id = "00000000-0000-0000-0000-000000000000"
# client_secret = "…"
# Or, instead of the secret, the app's certificate: a PEM file with the certificate, and its
# RSA private key in the same file or in client_key (ACTLOG_PULL_CLIENT_CERTIFICATE,
# ACTLOG_PULL_CLIENT_KEY).
# client_certificate = "/etc/actlog/pull-app.pem"
# client_key = "/etc/actlog/pull-app.key"
# Or a static bearer token instead (ACTLOG_PULL_TOKEN, --token), e.g. another actlog's read key.
# token = "…"
# A later pull starts reading again this long before the last one ended, for late records.
overlap_hours = 24
# Seconds between passes of `actlog pull --follow`, jittered by ±10 %.
interval_seconds = 300
# Records asked for per request.
page_size = 500

[limits]
# Each also from the environment as ACTLOG_LIMITS_<NAME>, e.g. ACTLOG_LIMITS_MAX_CONNECTIONS.
# Most records one POST /v1/auditrecords may carry; more is answered 413.
max_batch_records = 10000
# Most bytes one request body may have; more is answered 413.
max_body_bytes = 33554432
# Most ingest requests handled at once, counted once their body has arrived; more are
# answered 503 with Retry-After.
max_concurrent_ingest = 256
# The share of the ingest slots, and of max_body_bytes_in_flight, one partner may hold, in
# percent (at least one slot); past it, 429 with Retry-After, so one partner's flood or
# stalled uploads cannot take the others' slots or bytes.
ingest_share_percent = 50
# Most bytes of ingest bodies held at once, all requests together, counted as they arrive;
# a request that would go past it is answered 503 with Retry-After (past its partner's share
# of it, 429). At least max_body_bytes.
max_body_bytes_in_flight = 268435456
# Most connections open at once. At the cap the connection idle longest is closed to make
# room; when none is idle, a new connection is answered 503 and closed.
max_connections = 512
# Most connections open at once from one TCP peer address; past it, that address's new
# connection is answered 503 and closed while other addresses are still served. Proxies in
# [sign_in] trusted_proxies are exempt (every client behind them shares their address).
max_connections_per_address = 256
# Seconds a client may take to send a request's headers; also how long a kept-alive
# connection may stay idle between requests.
header_timeout_seconds = 30
# A request body must arrive within body_timeout_seconds plus one second for each
# min_body_bytes_per_second bytes received; a slower one is answered 408.
body_timeout_seconds = 30
min_body_bytes_per_second = 16384
# Milliseconds a record query (a page, a look-up, a count) may run; it is then stopped in the
# database (PostgreSQL: also statement_timeout, a second later) and answered 503
# query_timeout. A query
# whose client goes away is stopped at once.
statement_timeout_ms = 10000
# Record queries running at once (SQLite: its reader connections; PostgreSQL: out of
# [postgres] connections, so keep it below that).
max_concurrent_queries = 8
# Exports streaming at once, each on a connection of its own.
max_concurrent_exports = 4
# The share of the query and export slots one partner may hold, in percent (at least one
# slot); past it, 429 with Retry-After, so one partner cannot starve the others.
query_share_percent = 50
export_share_percent = 50
# Milliseconds a query or export waits for a free slot before it is answered 503.
slot_wait_ms = 2000
# Seconds an export waits for its client to take the next chunk; a client that stops
# reading is then dropped and its slot freed. Any client that takes none of a response for
# this long is disconnected (its socket reset).
export_send_timeout_seconds = 30
# Connections of their own for API-key, session and user look-ups, so that sign-in and
# authentication never wait behind queries.
auth_connections = 2
# Seconds a stopping server (SIGTERM, Ctrl-C) lets requests in flight, exports too, finish;
# connections still busy then are closed. Acknowledged ingests are durable already.
shutdown_grace_seconds = 30

# TLS on the server's own port. Uncomment both to have `actlog serve` speak https itself
# rather than behind a TLS-terminating proxy (see the README, "Operating actlog"). PEM files:
# the certificate first, then its chain; the key as PKCS #8, PKCS #1 or SEC 1. Both are read
# again on SIGHUP (a renewal): new connections get the new certificate; if either file cannot
# be used, the old one stays in use and the error is logged. With TLS, session cookies are
# Secure (ACTLOG_TLS_CERTIFICATE, ACTLOG_TLS_KEY).
# [tls]
# certificate = "/etc/actlog/tls/fullchain.pem"
# key = "/etc/actlog/tls/privkey.pem"

[log]
# How log lines (on standard error) are written: "text" for people, or "json", one object a
# line with the request's ids, for a log collector (ACTLOG_LOG_FORMAT). Which lines: ACTLOG_LOG
# (e.g. "warn", "info", "actlog_server=debug"; default "info").
format = "text"

[metrics]
# Serve GET /metrics (Prometheus text format: requests by status class, records ingested,
# connections, slots, refusals, memory; no per-partner figures) (ACTLOG_METRICS_ENABLED).
enabled = true
# When set, a scrape must send Authorization: Bearer TOKEN (ACTLOG_METRICS_TOKEN; prefer the
# environment; it is never printed). Unset: anyone who reaches the port may read /metrics.
# token = "…"

# Sign in with Microsoft Entra ID (OpenID Connect), and Entra-issued API tokens. Uncomment
# [sso] to turn it on; see the README, "Signing in with Entra ID".
# [sso]
# The app registration (Application (client) ID) and one of its client secrets (prefer
# ACTLOG_SSO_CLIENT_SECRET; it is never printed).
# client_id = "00000000-0000-0000-0000-000000000000"
# client_secret = "…"
# Where people open actlog; the redirect URI to register is public_url + "/auth/callback".
# public_url = "https://actlog.example"
# Default from cloud: https://login.microsoftonline.com ("public"),
# https://login.microsoftonline.us ("usgov"). Each tenant's issuer is
# {authority}/{tenant_id}/v2.0, and tokens must name it exactly.
# authority = "https://login.microsoftonline.com"
# The aud of API access tokens (the app's Application ID URI or client id); unset: API tokens
# are refused.
# api_audience = "api://actlog"
# Offer the email/password form beside Sign in with Microsoft.
# local_accounts = true
# One table per tenant whose users and applications may come in.
# [[sso.tenants]]
# tenant_id = "00000000-0000-0000-0000-000000000000"   # the tid claim
# partner = "3b33e682-00c3-41ee-9dd2-a548adf56438"       # the actlog partner they belong to
# domains = ["contoso.example"]                          # work emails, to pick the tenant
# App roles (the roles claim) of users → Partner Center roles, taken at every sign-in.
# [sso.roles]
# "ActivityLog.Reader" = ["Admin agent"]
# App roles of applications (app-only tokens) → API scopes.
# [sso.api_roles]
# "ActivityLog.Read" = ["read"]
# "ActivityLog.ReadWrite" = ["read", "write"]
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
            Some(Limits::default().max_batch_records as u64)
        );
        assert_eq!(
            limits.max_body_bytes,
            Some(Limits::default().max_body_bytes as u64)
        );
        assert_eq!(
            limits.max_concurrent_ingest,
            Some(Limits::default().max_concurrent_ingest as u64)
        );
        let defaults = Limits::default();
        let stated = Limits {
            max_batch_records: defaults.max_batch_records,
            max_body_bytes: defaults.max_body_bytes,
            max_concurrent_ingest: defaults.max_concurrent_ingest,
            ingest_share_percent: limits.ingest_share_percent.unwrap(),
            max_body_bytes_in_flight: limits.max_body_bytes_in_flight.unwrap() as usize,
            max_connections: limits.max_connections.unwrap() as usize,
            max_connections_per_address: limits.max_connections_per_address.unwrap() as usize,
            header_timeout: Duration::from_secs(limits.header_timeout_seconds.unwrap()),
            body_timeout: Duration::from_secs(limits.body_timeout_seconds.unwrap()),
            min_body_rate: limits.min_body_bytes_per_second.unwrap(),
            statement_timeout: Duration::from_millis(limits.statement_timeout_ms.unwrap()),
            max_concurrent_queries: limits.max_concurrent_queries.unwrap() as usize,
            max_concurrent_exports: limits.max_concurrent_exports.unwrap() as usize,
            query_share_percent: limits.query_share_percent.unwrap(),
            export_share_percent: limits.export_share_percent.unwrap(),
            slot_wait: Duration::from_millis(limits.slot_wait_ms.unwrap()),
            export_send_timeout: Duration::from_secs(limits.export_send_timeout_seconds.unwrap()),
            auth_connections: limits.auth_connections.unwrap() as usize,
            shutdown_grace: Duration::from_secs(limits.shutdown_grace_seconds.unwrap()),
        };
        assert_eq!(stated, defaults);
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
    fn limits_come_from_the_environment_before_the_file_and_are_checked() {
        let file = || FileLimits {
            max_connections: Some(64),
            header_timeout_seconds: Some(5),
            ..FileLimits::default()
        };
        let env = |name: &str| (name == "ACTLOG_LIMITS_MAX_CONNECTIONS").then(|| "9".to_owned());
        let limits = limits_settings(Some(file()), &env).unwrap();
        assert_eq!(limits.max_connections, 9);
        assert_eq!(limits.header_timeout, Duration::from_secs(5));
        let bad =
            |name: &str| (name == "ACTLOG_LIMITS_BODY_TIMEOUT_SECONDS").then(|| "soon".to_owned());
        let err = limits_settings(None, &bad).unwrap_err();
        assert!(
            err.to_string()
                .contains("ACTLOG_LIMITS_BODY_TIMEOUT_SECONDS"),
            "{err}"
        );
        let zero = FileLimits {
            min_body_bytes_per_second: Some(0),
            ..FileLimits::default()
        };
        assert!(limits_settings(Some(zero), &|_| None).is_err());
        let small = FileLimits {
            max_body_bytes_in_flight: Some(1000),
            ..FileLimits::default()
        };
        assert!(limits_settings(Some(small), &|_| None).is_err());
    }

    #[test]
    fn the_example_states_the_pull_defaults() {
        let file: FileSettings = toml::from_str(EXAMPLE).unwrap();
        let none = |_: &str| None;
        let pull = PullSettings::load(Cloud::Public, file.pull, &none).unwrap();
        let defaults = PullSettings::defaults(Cloud::Public);
        assert_eq!(pull.source, defaults.source);
        assert_eq!(pull.overlap_hours, defaults.overlap_hours);
        assert_eq!(pull.interval_seconds, defaults.interval_seconds);
        assert_eq!(pull.page_size, defaults.page_size);
        assert_eq!(
            PullSettings::defaults(Cloud::UsGov).authority,
            "https://login.microsoftonline.us"
        );
    }

    #[test]
    fn pull_secrets_never_reach_debug_output_and_the_environment_wins() {
        let file: FileSettings = toml::from_str(
            "[pull]\nclient_id = \"app\"\nclient_secret = \"file-s3cret\"\npage_size = 50",
        )
        .unwrap();
        let env = |name: &str| match name {
            "ACTLOG_PULL_CLIENT_SECRET" => Some("env-s3cret".to_owned()),
            "ACTLOG_PULL_TOKEN" => Some("tok3n".to_owned()),
            "ACTLOG_PULL_PAGE_SIZE" => Some("70".to_owned()),
            _ => None,
        };
        let pull = PullSettings::load(Cloud::Public, file.pull, &env).unwrap();
        assert_eq!(pull.client_secret.as_ref().unwrap().expose(), "env-s3cret");
        assert_eq!(pull.client_id.as_deref(), Some("app"));
        assert_eq!(pull.page_size, 70);
        let shown = format!("{pull:?}");
        for secret in ["s3cret", "tok3n"] {
            assert!(!shown.contains(secret), "{shown}");
        }
        let bad = |name: &str| (name == "ACTLOG_PULL_PAGE_SIZE").then(|| "many".to_owned());
        let err = PullSettings::load(Cloud::Public, None, &bad).unwrap_err();
        assert!(err.to_string().contains("ACTLOG_PULL_PAGE_SIZE"), "{err}");
    }

    #[test]
    fn sign_in_settings_state_their_defaults_and_refuse_bad_proxies() {
        let file: FileSettings = toml::from_str(EXAMPLE).unwrap();
        let none = |_: &str| None;
        let example = sign_in_settings(file.sign_in.unwrap(), &none).unwrap();
        let defaults = SignInSettings::default();
        assert_eq!(example.trusted_proxies, defaults.trusted_proxies);
        assert_eq!(example.concurrent_checks, defaults.concurrent_checks);

        let file: FileSignIn =
            toml::from_str("trusted_proxies = [\"10.0.0.0/8\", \"::1\"]").unwrap();
        assert_eq!(
            sign_in_settings(file, &none)
                .unwrap()
                .trusted_proxies
                .0
                .len(),
            2
        );
        let env = |name: &str| (name == "ACTLOG_TRUSTED_PROXIES").then(|| "10.0.0.0/33".into());
        let err = sign_in_settings(FileSignIn::default(), &env).unwrap_err();
        assert!(format!("{err:#}").contains("10.0.0.0/33"), "{err:#}");
        let zero: FileSignIn = toml::from_str("concurrent_password_checks = 0").unwrap();
        assert!(sign_in_settings(zero, &none).is_err());
    }

    #[test]
    fn metrics_settings_state_their_defaults_hide_the_token_and_refuse_bad_values() {
        let file: FileSettings = toml::from_str(EXAMPLE).unwrap();
        let none = |_: &str| None;
        let example = metrics_settings(file.metrics.unwrap(), &none).unwrap();
        assert_eq!(example, MetricsSettings::default());
        assert!(example.enabled);
        let env = |name: &str| match name {
            "ACTLOG_METRICS_ENABLED" => Some("false".to_owned()),
            "ACTLOG_METRICS_TOKEN" => Some("scr4pe".to_owned()),
            _ => None,
        };
        let set = metrics_settings(FileMetrics::default(), &env).unwrap();
        assert!(!set.enabled);
        assert_eq!(set.token.as_deref(), Some("scr4pe"));
        assert!(!format!("{set:?}").contains("scr4pe"));
        let bad = |name: &str| (name == "ACTLOG_METRICS_ENABLED").then(|| "maybe".to_owned());
        let err = metrics_settings(FileMetrics::default(), &bad).unwrap_err();
        assert!(err.to_string().contains("ACTLOG_METRICS_ENABLED"), "{err}");
    }

    #[test]
    fn the_log_format_comes_from_the_environment_before_the_file_and_is_checked() {
        let file: FileSettings = toml::from_str(EXAMPLE).unwrap();
        assert_eq!(log_format(file.log, &|_| None).unwrap(), LogFormat::Text);
        let json = || {
            Some(FileLog {
                format: Some("json".into()),
            })
        };
        assert_eq!(log_format(json(), &|_| None).unwrap(), LogFormat::Json);
        let env = |name: &str| (name == "ACTLOG_LOG_FORMAT").then(|| "TEXT".to_owned());
        assert_eq!(log_format(json(), &env).unwrap(), LogFormat::Text);
        let bad = |name: &str| (name == "ACTLOG_LOG_FORMAT").then(|| "xml".to_owned());
        let err = log_format(None, &bad).unwrap_err();
        assert!(err.to_string().contains("ACTLOG_LOG_FORMAT"), "{err}");
        let bad = Some(FileLog {
            format: Some("yaml".into()),
        });
        assert!(
            log_format(bad, &|_| None)
                .unwrap_err()
                .to_string()
                .contains("log.format")
        );
    }

    /// Every scalar key of the example, as (section, key, value); "" for the top level.
    fn example_keys() -> Vec<(String, String, toml::Value)> {
        let example: toml::Table = toml::from_str(EXAMPLE).unwrap();
        let mut keys = Vec::new();
        for (name, value) in example {
            match value {
                toml::Value::Table(table) => {
                    for (key, value) in table {
                        keys.push((name.clone(), key, value));
                    }
                }
                value => keys.push((String::new(), name, value)),
            }
        }
        keys
    }

    fn variable(section: &str, key: &str) -> String {
        if section.is_empty() {
            format!("ACTLOG_{}", key.to_ascii_uppercase())
        } else {
            env_name(section, key)
        }
    }

    /// Every key of the example can be set from the environment: a value that cannot be one
    /// stops loading with an error naming the variable, and the example's own value, given
    /// through the variable, loads.
    #[test]
    fn every_key_of_the_example_has_an_environment_variable() {
        let keys = example_keys();
        assert!(keys.len() > 30, "{keys:?}");
        let mut failures = Vec::new();
        for (section, key, value) in &keys {
            let var = variable(section, key);
            let bad = |name: &str| (name == var).then(|| "nonsense!".to_owned());
            let file = || toml::from_str::<FileSettings>(EXAMPLE).unwrap();
            // Free text (a URL, a name) may be anything: those are checked by value below.
            let free = matches!(
                (section.as_str(), key.as_str()),
                ("pull", "source") | ("checkpoints", "name")
            );
            if !free {
                match Settings::resolve(file(), &bad) {
                    Ok(_) => failures.push(format!("{var} = nonsense! was accepted")),
                    Err(err) if !format!("{err:#}").contains(&var) => {
                        failures.push(format!("{var}: {err:#}"))
                    }
                    Err(_) => {}
                }
            }
            let text = match value {
                toml::Value::String(s) => s.clone(),
                toml::Value::Array(items) => items
                    .iter()
                    .map(|i| i.as_str().unwrap().to_owned())
                    .collect::<Vec<_>>()
                    .join(","),
                other => other.to_string(),
            };
            let good = |name: &str| (name == var).then(|| text.clone());
            if let Err(err) = Settings::resolve(FileSettings::default(), &good) {
                failures.push(format!("{var} = {text}: {err:#}"));
            }
        }
        assert!(failures.is_empty(), "{failures:#?}");
    }

    #[test]
    fn the_environment_wins_over_the_file_for_every_section() {
        let file: FileSettings = toml::from_str(
            "[sessions]\nidle_minutes = 5\n[postgres]\nwriters = 2\n[checkpoints]\ninterval_seconds = 3\n[sign_in]\nconcurrent_password_checks = 2",
        )
        .unwrap();
        let env = |name: &str| {
            let value = match name {
                "ACTLOG_SESSIONS_IDLE_MINUTES" => "7",
                "ACTLOG_SESSIONS_SECURE_COOKIES" => "true",
                "ACTLOG_POSTGRES_WRITERS" => "3",
                "ACTLOG_CHECKPOINTS_INTERVAL_SECONDS" => "9",
                "ACTLOG_SIGN_IN_CONCURRENT_PASSWORD_CHECKS" => "6",
                "ACTLOG_SIGN_IN_TRUSTED_PROXIES" => "10.0.0.0/8, ::1",
                "ACTLOG_ACCESS_ALLOWED_ROLES" => "Admin agent",
                "ACTLOG_LIMITS_INGEST_SHARE_PERCENT" => "20",
                _ => return None,
            };
            Some(value.to_owned())
        };
        let settings = Settings::resolve(file, &env).unwrap();
        assert_eq!(settings.server.sessions.idle, Duration::from_secs(7 * 60));
        assert_eq!(settings.server.sessions.secure, Some(true));
        assert_eq!(settings.postgres.writers, 3);
        assert_eq!(settings.checkpoints.interval, Duration::from_secs(9));
        assert_eq!(settings.server.sign_in.concurrent_checks, 6);
        assert_eq!(settings.server.sign_in.trusted_proxies.0.len(), 2);
        assert_eq!(
            settings.server.policy,
            AccessPolicy::new(vec![Role::AdminAgent])
        );
        assert_eq!(settings.server.limits.ingest_share_percent, 20);
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
