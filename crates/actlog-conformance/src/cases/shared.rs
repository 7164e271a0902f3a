//! Two handles on one database, as two servers sharing it hold them: what one stores, the other
//! sees; overlapping retries through both store each record once; a walk through one keeps its
//! snapshot while both append.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use actlog_domain::AuditRecord;
use actlog_domain::query::{PageRequest, Query};
use actlog_domain::roles::Role;
use actlog_domain::time::OperationDate;
use actlog_store::{AddUserError, ApiKey, NewUser, Scopes, Store};
use tokio::sync::Mutex;

use crate::data::{DAY, DataSet};
use crate::support::{append_all, assert_records, everything, walk};

/// The same batches sent through both handles at once, each twice (a client retrying against
/// another server): every record is stored exactly once, and the reports add up.
pub async fn two_handles_store_each_record_of_overlapping_retries_once(
    first: Arc<dyn Store>,
    second: Arc<dyn Store>,
) {
    let partner = "partner-overlap";
    let records = DataSet::new(partner, "o", 91).take(800);
    let batches: Vec<Vec<AuditRecord>> = records.chunks(40).map(<[_]>::to_vec).collect();
    let mut tasks = Vec::new();
    for round in 0..2 {
        for (i, batch) in batches.iter().enumerate() {
            let store = if (i + round) % 2 == 0 {
                &first
            } else {
                &second
            };
            let (store, batch) = (Arc::clone(store), batch.clone());
            tasks.push(tokio::spawn(async move {
                store.append(partner, batch).await.expect("append")
            }));
        }
    }
    let (mut stored, mut unchanged) = (0, 0);
    for task in tasks {
        let report = task.await.expect("an append task");
        stored += report.stored;
        unchanged += report.unchanged;
    }
    assert_eq!(stored, records.len(), "each record stored once");
    assert_eq!(unchanged, records.len(), "each retry recognised");
    for store in [&first, &second] {
        let all = walk(&**store, partner, &everything(), 500).await;
        let newest_first = all
            .windows(2)
            .all(|w| w[0].operation_date >= w[1].operation_date);
        assert!(newest_first, "a walk must be newest first");
        // Ties in operationDate follow commit order, which concurrent handles decide: compare
        // as sets of whole records.
        assert_records(&by_id(&all), &by_id(&records), "both handles");
        assert_eq!(store.count(partner, &everything()).await.unwrap(), 800);
    }
    // One id with two dates, through the two handles: the second is a conflict, wherever the
    // records' months are stored.
    let mut moved = records[0].clone();
    moved.operation_date = OperationDate::from_ticks(moved.operation_date.ticks() - 400 * DAY);
    let refused = second.append(partner, vec![moved]).await;
    assert!(
        refused.is_err(),
        "the same id with another date must be refused"
    );
    assert_eq!(first.count(partner, &everything()).await.unwrap(), 800);
}

fn by_id(records: &[AuditRecord]) -> Vec<AuditRecord> {
    let mut sorted = records.to_vec();
    sorted.sort_by(|a, b| a.id.cmp(&b.id));
    sorted
}

/// What one handle creates — a partner, a key, a user, a session, a secret, a failed
/// sign-in — the other finds; created at once through both, each exists once and a secret keeps one value.
pub async fn two_handles_share_partners_keys_users_sessions_and_secrets(
    first: Arc<dyn Store>,
    second: Arc<dyn Store>,
) {
    let (a, b) = tokio::join!(
        first.ensure_partner("partner-both"),
        second.ensure_partner("partner-both")
    );
    let created = [a.unwrap(), b.unwrap()];
    assert_eq!(created.iter().filter(|c| **c).count(), 1, "{created:?}");

    let key = ApiKey {
        id: "key-shared".into(),
        partner_id: "partner-both".into(),
        scopes: Scopes {
            read: true,
            write: true,
        },
        label: "shared".into(),
    };
    first.add_api_key(&key, &[9; 32]).await.unwrap();
    assert_eq!(second.api_key(&[9; 32]).await.unwrap(), Some(key));

    let (x, y) = tokio::join!(
        first.secret("cursor-key", b"from-first".to_vec()),
        second.secret("cursor-key", b"from-second".to_vec())
    );
    let (x, y) = (x.unwrap(), y.unwrap());
    assert_eq!(x, y, "two servers starting at once must agree on a secret");
    assert!(x == b"from-first" || x == b"from-second");

    let user = |email: &str| NewUser {
        partner_id: "partner-both".into(),
        email: email.into(),
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
        roles: vec![Role::AdminAgent],
    };
    let (u1, u2) = tokio::join!(
        first.add_user(user("same@example.com")),
        second.add_user(user("SAME@example.com"))
    );
    let taken = [&u1, &u2]
        .iter()
        .filter(|r| matches!(r, Err(AddUserError::EmailTaken(_))))
        .count();
    assert_eq!(
        taken, 1,
        "one of two simultaneous sign-ups wins: {u1:?} {u2:?}"
    );
    let created = u1.or(u2).expect("one user created");
    let now = OperationDate::from_ticks(1_000);
    first
        .create_session(&[3; 32], created.id, "csrf", now)
        .await
        .unwrap();
    let session = second.session(&[3; 32]).await.unwrap().expect("a session");
    assert_eq!(session.user, created);
    let failed = OperationDate::from_ticks(2_000);
    first
        .add_sign_in_failure(&[4; 32], failed, now)
        .await
        .unwrap();
    second
        .add_sign_in_failure(&[4; 32], failed, now)
        .await
        .unwrap();
    let counted = first.sign_in_failures(&[4; 32], now, 10).await.unwrap();
    assert_eq!(
        counted.len(),
        2,
        "failures through either server count for both"
    );
    assert!(second.set_disabled("same@example.com", true).await.unwrap());
    assert_eq!(
        first.session(&[3; 32]).await.unwrap(),
        None,
        "ended everywhere"
    );
}

/// A walk through one handle while both keep appending: replaying its snapshot from the
/// start gives the same records, each once; it holds every record acknowledged before its
/// first page and none whose append began after that page was returned.
pub async fn walks_keep_their_snapshot_while_two_handles_append(
    first: Arc<dyn Store>,
    second: Arc<dyn Store>,
) {
    let partner = "partner-snapshot";
    let initial = DataSet::new(partner, "s", 93).take(200);
    append_all(&*first, partner, &initial, 50).await;
    let started: Arc<Mutex<BTreeSet<String>>> = Arc::default();
    let acked: Arc<Mutex<BTreeSet<String>>> = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let mut writers = Vec::new();
    for (n, store) in [&first, &second, &first, &second].into_iter().enumerate() {
        let (store, stop) = (Arc::clone(store), Arc::clone(&stop));
        let (started, acked) = (Arc::clone(&started), Arc::clone(&acked));
        writers.push(tokio::spawn(async move {
            let mut more = DataSet::new(partner, &format!("w{n}-"), 94 + n as u64);
            let mut rounds = 0;
            while !stop.load(Ordering::Relaxed) || rounds < 3 {
                let batch = more.take(3);
                started
                    .lock()
                    .await
                    .extend(batch.iter().map(|r| r.id.clone()));
                store.append(partner, batch.clone()).await.expect("append");
                acked
                    .lock()
                    .await
                    .extend(batch.iter().map(|r| r.id.clone()));
                rounds += 1;
            }
        }));
    }
    tokio::task::yield_now().await;
    let acked_before: BTreeSet<String> = acked.lock().await.clone();
    let request = PageRequest {
        query: everything(),
        size: 9,
        after: None,
        snapshot: None,
    };
    let first_page = first.page(partner, &request).await.expect("first page");
    let started_before: BTreeSet<String> = started.lock().await.clone();
    let snapshot = first_page.snapshot;
    let replay = |store: Arc<dyn Store>| async move {
        walk_from(&*store, partner, &everything(), 9, snapshot).await
    };
    let one = replay(Arc::clone(&first)).await;
    let two = replay(Arc::clone(&second)).await;
    stop.store(true, Ordering::Relaxed);
    for writer in writers {
        writer.await.expect("a writer");
    }
    let three = replay(Arc::clone(&second)).await;
    assert_records(&two, &one, "the snapshot replayed through the other handle");
    assert_records(&three, &one, "the snapshot replayed after the appends");
    assert_records(
        &one[..first_page.records.len().min(one.len())],
        &first_page.records,
        "the first page",
    );
    let ids: BTreeSet<&str> = one.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids.len(), one.len(), "a record returned twice");
    for r in &initial {
        assert!(
            ids.contains(r.id.as_str()),
            "{} acknowledged before the walk is missing",
            r.id
        );
    }
    for id in &acked_before {
        assert!(
            ids.contains(id.as_str()),
            "{id} acknowledged before the walk is missing"
        );
    }
    for id in &ids {
        let known = initial.iter().any(|r| r.id == *id) || started_before.contains(*id);
        assert!(
            known,
            "{id} was appended after the first page and still shown"
        );
    }
}

/// A walk from the start with a given snapshot (a replay of a walk's first page).
async fn walk_from(
    store: &dyn Store,
    partner: &str,
    query: &Query,
    size: usize,
    snapshot: i64,
) -> Vec<AuditRecord> {
    let mut request = PageRequest {
        query: query.clone(),
        size,
        after: None,
        snapshot: Some(snapshot),
    };
    let mut out = Vec::new();
    loop {
        let page = store.page(partner, &request).await.expect("page");
        assert_eq!(
            page.snapshot, snapshot,
            "a page must keep the walk's snapshot"
        );
        out.extend(page.records);
        match page.next {
            None => return out,
            Some(next) => request.after = Some(next),
        }
    }
}
