//! `actlog copy`: a deployment moved SQLite → PostgreSQL → SQLite arrives whole (records field
//! for field and in commit order, keys that still work, users with their passwords, roles and
//! preferences); an interrupted copy resumes; bad requests are refused with a clear error.

use std::process::{Command, Output, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use actlog_demo::DemoSpec;
use actlog_domain::AuditRecord;
use actlog_domain::roles::Role;
use actlog_postgres::scratch::ScratchDatabase;
use actlog_postgres::{PgOptions, PgStore};
use actlog_sqlite::{SqliteOptions, SqliteStore};
use actlog_store::{ApiKey, NewUser, RecordWriter, Scopes, Store, StoredApiKey};
use futures::StreamExt;

const BIN: &str = env!("CARGO_BIN_EXE_actlog");

fn actlog(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .env("ACTLOG_LOG", "warn")
        .output()
        .unwrap()
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn demo(partner: &str, records: usize, seed: u64) -> Vec<AuditRecord> {
    let mut spec = DemoSpec::standard(jiff::Timestamp::from_second(1_790_000_000).unwrap());
    spec.partner_id = partner.to_owned();
    spec.records = records;
    spec.customers = 40;
    spec.seed = seed;
    actlog_demo::generate(&spec).collect()
}

/// A partner's whole log, in commit order.
async fn log(store: &dyn Store, partner: &str) -> Vec<AuditRecord> {
    let mut batches = store.scan_log(partner, 0);
    let mut out = Vec::new();
    while let Some(batch) = batches.next().await {
        out.extend(batch.unwrap().into_records());
    }
    out
}

async fn pg(db: &ScratchDatabase) -> Arc<dyn Store> {
    let options = PgOptions {
        connections: 4,
        ..PgOptions::default()
    };
    Arc::new(PgStore::open(db.url(), options).await.unwrap())
}

/// A source deployment: two partners' records, a key, two users (one disabled, with
/// preferences).
async fn fill(store: &dyn Store) -> (Vec<AuditRecord>, Vec<AuditRecord>) {
    let (a, b) = (demo("partner-a", 2_500, 1), demo("partner-b", 700, 2));
    for chunk in a.chunks(600) {
        store.append("partner-a", chunk.to_vec()).await.unwrap();
    }
    store.append("partner-b", b.clone()).await.unwrap();
    let key = ApiKey {
        id: "k1".into(),
        partner_id: "partner-b".into(),
        scopes: Scopes {
            read: true,
            write: false,
        },
        label: "reader «Società»".into(),
    };
    store.add_api_key(&key, &[5; 32]).await.unwrap();
    let user = |email: &str, roles: Vec<Role>| NewUser {
        partner_id: "partner-a".into(),
        email: email.into(),
        password_hash: format!("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA${email}"),
        roles,
    };
    let kept = store
        .add_user(user(
            "ana@a.example",
            vec![Role::AdminAgent, Role::SalesAgent],
        ))
        .await
        .unwrap();
    store
        .set_preferences(kept.id, Some("it-IT"), Some("Europe/Rome"))
        .await
        .unwrap();
    store.add_user(user("off@a.example", vec![])).await.unwrap();
    store.set_disabled("off@a.example", true).await.unwrap();
    (a, b)
}

/// Everything of the deployment that a copy must carry, comparable across databases.
async fn contents(
    store: &dyn Store,
) -> (
    Vec<String>,
    Vec<StoredApiKey>,
    Vec<(
        String,
        String,
        String,
        Vec<Role>,
        bool,
        Option<String>,
        Option<String>,
    )>,
    Vec<Vec<AuditRecord>>,
) {
    let partners = store.partners().await.unwrap();
    let users = store
        .users(None)
        .await
        .unwrap()
        .into_iter()
        .map(|u| {
            (
                u.partner_id,
                u.email,
                u.password_hash,
                u.roles,
                u.disabled,
                u.lang,
                u.time_zone,
            )
        })
        .collect();
    let mut logs = Vec::new();
    for partner in &partners {
        logs.push(log(store, partner).await);
    }
    (partners, store.api_keys().await.unwrap(), users, logs)
}

#[tokio::test]
async fn a_deployment_moved_to_postgres_and_back_arrives_whole() {
    let dir = tempfile::tempdir().unwrap();
    let (first, back) = (dir.path().join("first.db"), dir.path().join("back.db"));
    let source = SqliteStore::open(&first, SqliteOptions::default()).unwrap();
    let (a, b) = fill(&source).await;
    let want = contents(&source).await;
    drop(source);
    assert_eq!(want.3, [a, b], "the source's logs are the appended records");

    let db = ScratchDatabase::create().await.unwrap();
    let from = format!("sqlite://{}", first.display());
    let out = actlog(&["copy", "--from", &from, "--to", db.url()]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out)
            .contains("partner-a: 2500 records in the source, 2500 in the target (2500 copied now"),
        "{}",
        text(&out)
    );
    assert!(
        text(&out).contains("every partner's count matches"),
        "{}",
        text(&out)
    );
    let moved = pg(&db).await;
    assert_eq!(contents(moved.as_ref()).await, want, "in PostgreSQL");
    let key = moved.api_key(&[5; 32]).await.unwrap();
    assert_eq!(
        key.map(|k| k.partner_id),
        Some("partner-b".to_owned()),
        "the key still works"
    );
    drop(moved);

    let to = format!("sqlite://{}", back.display());
    let out = actlog(&["copy", "--from", db.url(), "--to", &to]);
    assert!(out.status.success(), "{}", text(&out));
    let returned = SqliteStore::open(&back, SqliteOptions::default()).unwrap();
    assert_eq!(contents(&returned).await, want, "back in SQLite");

    // Copying again changes nothing and says so.
    let again = actlog(&["copy", "--from", db.url(), "--to", &to]);
    assert!(again.status.success(), "{}", text(&again));
    assert!(
        text(&again).contains("(0 copied now, 2500 already there)"),
        "{}",
        text(&again)
    );
    assert!(
        text(&again).contains("0 API keys new, 0 users new"),
        "{}",
        text(&again)
    );
    assert_eq!(contents(&returned).await, want);
}

/// Killed midway, then run again: the copy finishes, with every record once.
#[tokio::test]
async fn an_interrupted_copy_resumes_and_stores_each_record_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.db");
    let source = SqliteStore::open(&path, SqliteOptions::default()).unwrap();
    let records = demo("partner-big", 30_000, 3);
    for chunk in records.chunks(5_000) {
        source.append("partner-big", chunk.to_vec()).await.unwrap();
    }
    drop(source);
    let db = ScratchDatabase::create().await.unwrap();
    let from = format!("sqlite://{}", path.display());
    let target = pg(&db).await;
    let mut child = Command::new(BIN)
        .args(["copy", "--from", &from, "--to", db.url()])
        .env("ACTLOG_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let everything = actlog_domain::query::Query {
        window: actlog_domain::query::Window {
            start: actlog_domain::OperationDate::MIN,
            end: None,
        },
        filter: None,
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let held = target.count("partner-big", &everything).await.unwrap();
        if held >= 3_000 || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let partial = target.count("partner-big", &everything).await.unwrap();
    assert!(partial > 0, "the copy had started");

    let out = actlog(&["copy", "--from", &from, "--to", db.url()]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("every partner's count matches"),
        "{}",
        text(&out)
    );
    if partial < 30_000 {
        assert!(
            !text(&out).contains("(30000 copied now"),
            "it resumed: {}",
            text(&out)
        );
    }
    assert_eq!(log(target.as_ref(), "partner-big").await, records);
}

#[tokio::test]
async fn bad_copies_are_refused_and_name_the_problem() {
    let dir = tempfile::tempdir().unwrap();
    let a = format!("sqlite://{}", dir.path().join("a.db").display());
    let out = actlog(&["copy", "--from", &a, "--to", &a]);
    assert!(!out.status.success());
    assert!(text(&out).contains("the same database"), "{}", text(&out));

    let missing = dir.path().join("missing.db");
    let out = actlog(&[
        "copy",
        "--from",
        &format!("sqlite://{}", missing.display()),
        "--to",
        &a,
    ]);
    assert!(!out.status.success());
    assert!(
        text(&out).contains("there is no database at"),
        "{}",
        text(&out)
    );
    assert!(!missing.exists(), "a missing source is not created");

    // The target holds one of the ids with other content: refused, naming it.
    let source_path = dir.path().join("s.db");
    let target_path = dir.path().join("t.db");
    let records = demo("p", 10, 4);
    let source = SqliteStore::open(&source_path, SqliteOptions::default()).unwrap();
    source.append("p", records.clone()).await.unwrap();
    let target = SqliteStore::open(&target_path, SqliteOptions::default()).unwrap();
    let mut other = records[3].clone();
    other.customer_name = Some("someone else".into());
    target.append("p", vec![other]).await.unwrap();
    drop((source, target));
    let out = actlog(&[
        "copy",
        "--from",
        &format!("sqlite://{}", source_path.display()),
        "--to",
        &format!("sqlite://{}", target_path.display()),
    ]);
    assert!(!out.status.success(), "{}", text(&out));
    assert!(text(&out).contains(&records[3].id), "{}", text(&out));
    assert!(text(&out).contains("other content"), "{}", text(&out));
}
