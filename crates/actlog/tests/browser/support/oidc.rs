//! A real OpenID provider (`tests/oidc/provider.mjs`: oidc-provider on Node.js 22) serving
//! three Entra-style tenants, and `actlog serve` configured to sign in through two of them.
//!
//! The database is SQLite, or a scratch PostgreSQL database with `ACTLOG_TEST_BACKEND=postgres`.
//!
//! Node.js and the packages are where `scripts/test` installed them (`ACTLOG_TEST_NODE`,
//! `ACTLOG_TEST_NODE_MODULES`). Without them the tests say so and return, except under
//! `CI=true`, where they fail.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use actlog_postgres::scratch::{Backend, ScratchDatabase};
use serde_json::{Value, json};
use tempfile::TempDir;

/// The tenants: two configured in actlog (each its own partner), one not.
pub const TENANT_A: &str = "tenant-a";
pub const TENANT_B: &str = "tenant-b";
pub const TENANT_UNCONFIGURED: &str = "tenant-c";
pub const PARTNER_A: &str = "partner-a";
pub const PARTNER_B: &str = "partner-b";
/// The audience actlog's API tokens must carry.
pub const API_AUDIENCE: &str = "api://actlog";
/// The app role actlog maps to Admin agent (may view the log).
pub const READER_ROLE: &str = "ActivityLog.Reader";

/// Node.js 22 and the node_modules holding oidc-provider, or `None` (see the module docs).
fn node() -> Option<(PathBuf, PathBuf)> {
    let get = |name| {
        std::env::var_os(name)
            .map(PathBuf::from)
            .filter(|p| p.exists())
    };
    if let (Some(node), Some(modules)) = (get("ACTLOG_TEST_NODE"), get("ACTLOG_TEST_NODE_MODULES"))
    {
        return Some((node, modules));
    }
    let message = "ACTLOG_TEST_NODE and ACTLOG_TEST_NODE_MODULES do not name Node.js 22 and \
                   oidc-provider (scripts/test installs them)";
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("sign-in tests cannot run under CI=true: {message}");
    }
    let _ = writeln!(
        std::io::stderr(),
        "SKIPPED Microsoft sign-in tests: {message}"
    );
    None
}

/// A port free a moment ago, for a server whose address must be known before it starts.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Where the tool client's authorization codes are sent (a page of actlog's that exists).
pub const TOOL_REDIRECT_PATH: &str = "/healthz";

/// The provider process, killed on drop.
#[derive(Debug)]
pub struct Provider {
    node: PathBuf,
    modules: PathBuf,
    config: PathBuf,
    pub port: u16,
    child: Child,
}

impl Provider {
    fn spawn(node: &Path, modules: &Path, config: &Path, port: u16) -> (Child, u16) {
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/oidc/provider.mjs");
        let mut child = Command::new(node)
            .arg(script)
            .arg(port.to_string())
            .arg(config)
            .env("ACTLOG_TEST_NODE_MODULES", modules)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("node starts");
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let port = loop {
            let line = lines
                .next()
                .expect("the provider says where it listens")
                .unwrap();
            if let Some(port) = line.strip_prefix("listening ") {
                break port.trim().parse().unwrap();
            }
        };
        std::thread::spawn(move || lines.for_each(drop));
        (child, port)
    }

    /// The provider's configuration as the test last wrote it.
    fn read(&self) -> Value {
        serde_json::from_str(&std::fs::read_to_string(&self.config).unwrap()).unwrap()
    }

    fn write(&self, config: &Value) {
        std::fs::write(&self.config, config.to_string()).unwrap();
    }

    /// Gives `login` of `tenant` these app roles from its next sign-in on.
    pub fn set_roles(&self, tenant: &str, login: &str, roles: &[&str]) {
        let mut config = self.read();
        let tenants = config["tenants"].as_array_mut().unwrap();
        let tenant = tenants.iter_mut().find(|t| t["id"] == tenant).unwrap();
        tenant["accounts"][login]["roles"] = json!(roles);
        self.write(&config);
    }

    /// Restarts the provider on the same port with new signing keys (key ids `kid-…`).
    pub fn rotate_keys(&mut self, kid: &str) {
        let mut config = self.read();
        config["kid"] = json!(kid);
        self.write(&config);
        let _ = self.child.kill();
        let _ = self.child.wait();
        let (child, _) = Self::spawn(&self.node, &self.modules, &self.config, self.port);
        self.child = child;
    }

    /// `http://127.0.0.1:PORT/{tenant}/v2.0`.
    pub fn issuer(&self, tenant: &str) -> String {
        format!("http://127.0.0.1:{}/{tenant}/v2.0", self.port)
    }

    /// An access token from the client credentials grant for `client` of `tenant`, for
    /// `resource` (the API's audience unless another is asked).
    pub async fn app_token(&self, tenant: &str, client: &str, resource: &str) -> String {
        let reply = reqwest::Client::new()
            .post(format!("{}/token", self.issuer(tenant)))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!(
                "grant_type=client_credentials&client_id={client}&client_secret={client}-secret&resource={resource}"
            ))
            .send()
            .await
            .unwrap();
        let status = reply.status();
        let body: Value = serde_json::from_str(&reply.text().await.unwrap()).unwrap();
        assert!(status.is_success(), "token for {client}: {status} {body}");
        body["access_token"].as_str().unwrap().to_owned()
    }
}

impl Drop for Provider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One tenant of the provider: actlog's web client, a tool users sign in to (it gets delegated
/// tokens for actlog's API; its redirect URI is actlog's `/healthz`, where the code is read
/// from the address), two applications (reading; reading and writing), and accounts.
fn tenant(id: &str, redirect: &str, accounts: Value) -> Value {
    let tool_redirect = redirect.replace("/auth/callback", TOOL_REDIRECT_PATH);
    json!({
        "id": id,
        "clients": [
            {"client_id": "actlog", "client_secret": "actlog-secret", "redirect_uris": [redirect]},
            {"client_id": format!("tool-{id}"), "client_secret": format!("tool-{id}-secret"),
             "redirect_uris": [tool_redirect]},
            {"client_id": format!("reader-{id}"), "client_secret": format!("reader-{id}-secret"),
             "oid": format!("sp-reader-{id}"), "roles": ["ActivityLog.Read"]},
            {"client_id": format!("writer-{id}"), "client_secret": format!("writer-{id}-secret"),
             "oid": format!("sp-writer-{id}"), "roles": ["ActivityLog.Read", "ActivityLog.Write"]},
        ],
        "accounts": accounts,
    })
}

/// The provider and an `actlog serve` signing in through it, on SQLite in a temporary folder.
#[derive(Debug)]
pub struct SsoServer {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    pub provider: Provider,
    server: Child,
    tmp: TempDir,
    /// PostgreSQL databases of the servers, dropped after them.
    databases: std::sync::Mutex<Vec<ScratchDatabase>>,
}

impl SsoServer {
    /// Everything started, or `None` when Node.js is missing (see the module docs). The
    /// accounts: `ada` (reader) and `nora` (no mapped role) at tenant A, `bob` (reader) at B,
    /// `cy` (reader) at the unconfigured tenant.
    pub fn start() -> Option<SsoServer> {
        let (node, modules) = node()?;
        let tmp = tempfile::tempdir().unwrap();
        let port = free_port();
        let url = format!("http://127.0.0.1:{port}");
        let redirect = format!("{url}/auth/callback");
        let account = |oid: &str, email: &str| json!({"oid": oid, "roles": [READER_ROLE], "preferred_username": email});
        let config = json!({
            "kid": "first",
            "api_audience": API_AUDIENCE,
            "tenants": [
                tenant(TENANT_A, &redirect, json!({
                    "ada": account("oid-ada", "ada@contoso.example"),
                    "nora": {"oid": "oid-nora", "roles": ["Org.Unmapped"],
                             "preferred_username": "nora@contoso.example"},
                })),
                tenant(TENANT_B, &redirect, json!({"bob": account("oid-bob", "bob@fabrikam.example")})),
                tenant(TENANT_UNCONFIGURED, &redirect, json!({"cy": account("oid-cy", "cy@elsewhere.example")})),
            ],
        });
        let config_path = tmp.path().join("provider.json");
        std::fs::write(&config_path, config.to_string()).unwrap();
        let (child, provider_port) = Provider::spawn(&node, &modules, &config_path, 0);
        let provider = Provider {
            node,
            modules,
            config: config_path,
            port: provider_port,
            child,
        };
        let authority = format!("http://127.0.0.1:{provider_port}");
        let databases = std::sync::Mutex::new(Vec::new());
        let database = database(tmp.path(), "actlog", &databases);
        let server = serve(tmp.path(), "actlog", &database, port, &authority);
        Some(SsoServer {
            url,
            provider,
            server,
            tmp,
            databases,
        })
    }

    /// A second actlog on the same provider whose authority names it by another host name
    /// (`localhost`): every issuer the provider states is then not the one actlog expects.
    pub fn start_with_other_authority(&self) -> (Child, String) {
        let port = free_port();
        let authority = format!("http://localhost:{}", self.provider.port);
        let database = database(self.tmp.path(), "other", &self.databases);
        let child = serve(self.tmp.path(), "other", &database, port, &authority);
        (child, format!("http://127.0.0.1:{port}"))
    }
}

impl SsoServer {
    /// Stops the provider, then starts another actlog on it, which has never reached it.
    pub fn start_with_the_provider_down(&mut self) -> (Child, String) {
        let _ = self.provider.child.kill();
        let _ = self.provider.child.wait();
        let port = free_port();
        let authority = format!("http://127.0.0.1:{}", self.provider.port);
        let database = database(self.tmp.path(), "down", &self.databases);
        let child = serve(self.tmp.path(), "down", &database, port, &authority);
        (child, format!("http://127.0.0.1:{port}"))
    }
}

impl Drop for SsoServer {
    fn drop(&mut self) {
        let _ = self.server.kill();
        let _ = self.server.wait();
    }
}

/// A database URL for server `name`: a SQLite file under `dir`, or a scratch PostgreSQL
/// database (kept in `keep`) when `ACTLOG_TEST_BACKEND=postgres`.
fn database(dir: &Path, name: &str, keep: &std::sync::Mutex<Vec<ScratchDatabase>>) -> String {
    match Backend::from_env() {
        Backend::Sqlite => format!("sqlite://{}", dir.join(format!("{name}.db")).display()),
        Backend::Postgres => {
            // On a thread with a runtime of its own: the caller is on the test's runtime.
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
            let url = db.url().to_owned();
            keep.lock().unwrap().push(db);
            url
        }
    }
}

/// `actlog serve` on `port` with `[sso]` at `authority` and its config under `dir` named after
/// `name`; returns once it listens.
fn serve(dir: &Path, name: &str, database: &str, port: u16, authority: &str) -> Child {
    let config = format!(
        r#"
[sso]
client_id = "actlog"
client_secret = "actlog-secret"
public_url = "http://127.0.0.1:{port}"
authority = "{authority}"
api_audience = "{API_AUDIENCE}"

[[sso.tenants]]
tenant_id = "{TENANT_A}"
partner = "{PARTNER_A}"
domains = ["contoso.example"]

[[sso.tenants]]
tenant_id = "{TENANT_B}"
partner = "{PARTNER_B}"
domains = ["fabrikam.example"]

[sso.roles]
"{READER_ROLE}" = ["Admin agent"]

[sso.api_roles]
"ActivityLog.Read" = ["read"]
"ActivityLog.Write" = ["write"]
"#
    );
    let config_path = dir.join(format!("{name}.toml"));
    std::fs::write(&config_path, config).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_actlog"))
        .arg("--config")
        .arg(&config_path)
        .args(["serve", "--database", database, "--listen"])
        .arg(format!("127.0.0.1:{port}"))
        .env("ACTLOG_LOG", "warn")
        .env(
            "ACTLOG_CHECKPOINTS_KEYRING",
            dir.join(format!("{name}.keyring")),
        )
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("the actlog binary starts");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let line = lines.next().expect("actlog says where it listens").unwrap();
    assert!(line.contains(&format!(":{port}")), "{line}");
    std::thread::spawn(move || lines.for_each(drop));
    child
}
