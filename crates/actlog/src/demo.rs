//! `actlog demo`: a fresh embedded database, seeded with a realistic demo partner, served.

use std::net::SocketAddr;

use actlog_app::password;
use actlog_demo::DemoSpec;
use actlog_domain::roles::Role;
use actlog_store::{AppendError, NewUser, Scopes, Store};

use crate::config::DatabaseUrl;
use crate::progress;
use crate::serve::{self, open_store};

pub async fn run(
    listen: SocketAddr,
    records: usize,
    database: Option<DatabaseUrl>,
) -> anyhow::Result<()> {
    // Bind first: a busy port should fail before a minute of seeding, not after.
    let listener = serve::bind(listen).await?;
    let shutdown = serve::shutdown_signal();
    let url = match database {
        Some(url) => url,
        None => {
            let dir = std::env::temp_dir().join(format!("actlog-demo-{}", std::process::id()));
            std::fs::create_dir_all(&dir)?;
            DatabaseUrl::Sqlite(dir.join("demo.db"))
        }
    };
    let store = open_store(&url).await?;
    let now = jiff::Timestamp::now();
    let mut spec = DemoSpec::standard(now);
    spec.records = records;
    let everything = actlog_domain::query::Query {
        window: actlog_domain::query::Window {
            start: actlog_domain::OperationDate::MIN,
            end: None,
        },
        filter: None,
    };
    let held = store
        .count_at_most(&spec.partner_id, &everything, 1)
        .await?;
    let reused = held > 0;
    if reused {
        println!("{url} already holds the demo partner: serving it as it is");
    } else {
        seed(store.as_ref(), &spec).await?;
    }
    let scopes = Scopes {
        read: true,
        write: true,
    };
    let (_, key) =
        actlog_app::keys::create(store.as_ref(), &spec.partner_id, scopes, "demo").await?;
    let users = add_users(store.as_ref(), &spec.partner_id, reused).await?;
    let addr = listener.local_addr()?;
    println!();
    println!("actlog demo is running at http://{addr}/");
    println!("  database:  {url}");
    if !reused {
        println!(
            "  partner:   {} ({} records over the last six months)",
            spec.partner_id, spec.records
        );
    }
    println!("  API key (read,write):");
    println!("    {key}");
    println!(
        "  try:       curl -H 'Authorization: Bearer {key}' 'http://{addr}/v1/auditrecords?size=5'"
    );
    println!("  API description: http://{addr}/v1/openapi.json");
    println!("  sign in at http://{addr}/sign-in with the password {DEMO_PASSWORD} as any of:");
    for (email, roles) in &users {
        println!("    {email:<44} {roles}");
    }
    println!("Press Ctrl-C to stop.");
    let config = actlog_server::ServerConfig {
        checkpoints: Some(serve::signing(&Default::default(), &url)?),
        ..Default::default()
    };
    serve::serve_on(listener, store, config, shutdown).await
}

/// The password of every demo user.
const DEMO_PASSWORD: &str = "demo-password";

/// One user per role, and one without any (unless `existing`: they were added before);
/// returns each email with what it may do.
async fn add_users(
    store: &dyn Store,
    partner: &str,
    existing: bool,
) -> anyhow::Result<Vec<(String, String)>> {
    let hash = password::hash(DEMO_PASSWORD.to_owned()).await;
    let policy = actlog_domain::roles::AccessPolicy::default();
    let mut users = Vec::new();
    let roles = Role::ALL.into_iter().map(Some).chain([None]);
    for role in roles {
        let local = role.map_or_else(|| "no.role".to_owned(), |r| r.code().replace('_', "."));
        let email = format!("{local}@demo-partner.example");
        let granted: Vec<Role> = role.into_iter().collect();
        let access = if policy.may_view_log(&granted) {
            "can view the activity log"
        } else {
            "no activity log"
        };
        let label = format!("{} ({access})", role.map_or("no role", Role::name));
        let user = NewUser {
            partner_id: partner.to_owned(),
            email: email.clone(),
            password_hash: hash.clone(),
            roles: granted,
        };
        if !existing {
            store.add_user(user).await?;
        }
        users.push((email, label));
    }
    Ok(users)
}

async fn seed(store: &dyn Store, spec: &DemoSpec) -> anyhow::Result<()> {
    store.ensure_partner(&spec.partner_id).await?;
    let bar = progress::bar(Some(spec.records as u64), "seeding demo records");
    let mut batch = Vec::with_capacity(1_000);
    let mut records = actlog_demo::generate(spec).peekable();
    while let Some(record) = records.next() {
        batch.push(record);
        if batch.len() == 1_000 || records.peek().is_none() {
            let n = batch.len() as u64;
            store
                .append(&spec.partner_id, std::mem::take(&mut batch))
                .await
                .map_err(|e| match e {
                    AppendError::Conflict(ids) => {
                        anyhow::anyhow!("demo data has duplicate ids: {ids:?}")
                    }
                    AppendError::Store(e) => e.into(),
                })?;
            bar.inc(n);
        }
    }
    bar.finish_and_clear();
    Ok(())
}
