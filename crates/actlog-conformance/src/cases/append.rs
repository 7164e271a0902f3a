//! Appends are idempotent, atomic, and safe from many tasks at once.

use std::collections::BTreeSet;
use std::sync::Arc;

use actlog_domain::AuditRecord;
use actlog_store::{AppendError, AppendReport, Store};

use crate::data::{DataSet, MINUTE, base_date};
use crate::support::{append_all, bare, everything, expected, walk};

async fn total(store: &dyn Store, partner: &str) -> u64 {
    store.count(partner, &everything()).await.expect("count")
}

/// Sending the same batch again (a client's retry) stores nothing new.
pub async fn retried_batches_store_nothing_new(store: Arc<dyn Store>) {
    let partner = "partner-retry";
    let batch = DataSet::new(partner, "r", 51).take(50);
    let first = store.append(partner, batch.clone()).await.expect("append");
    assert_eq!(
        first,
        AppendReport {
            stored: 50,
            unchanged: 0
        }
    );
    let again = store.append(partner, batch.clone()).await.expect("retry");
    assert_eq!(
        again,
        AppendReport {
            stored: 0,
            unchanged: 50
        }
    );
    let mut mixed = batch[..10].to_vec();
    mixed.extend(DataSet::new(partner, "m", 52).take(5));
    let third = store.append(partner, mixed).await.expect("partly new");
    assert_eq!(
        third,
        AppendReport {
            stored: 5,
            unchanged: 10
        }
    );
    assert_eq!(total(&*store, partner).await, 55);
    let empty = store
        .append(partner, Vec::new())
        .await
        .expect("empty batch");
    assert_eq!(empty, AppendReport::default());
    let mut all = batch;
    all.extend(DataSet::new(partner, "m", 52).take(5));
    let got = walk(&*store, partner, &everything(), 100).await;
    assert_eq!(got, expected(&all, &everything()));
}

/// A batch reusing stored ids with other content stores nothing and names exactly those ids.
pub async fn conflicting_batches_store_nothing_and_name_the_ids(store: Arc<dyn Store>) {
    let partner = "partner-conflict";
    let stored = DataSet::new(partner, "c", 61).take(20);
    append_all(&*store, partner, &stored, 20).await;
    let fresh = DataSet::new(partner, "new", 62).take(6);
    let mut changed_3 = stored[3].clone();
    changed_3.customer_name = Some("another name".into());
    let mut changed_9 = stored[9].clone();
    changed_9.resource_new_value = Some("{\"changed\":true}".into());
    let mut batch = vec![
        fresh[0].clone(),
        changed_3,
        stored[5].clone(),
        fresh[1].clone(),
    ];
    batch.extend([changed_9, fresh[2].clone()]);
    let err = store.append(partner, batch).await.expect_err("a conflict");
    let AppendError::Conflict(ids) = err else {
        panic!("expected a conflict, got {err:?}")
    };
    let ids: BTreeSet<String> = ids.into_iter().collect();
    let want: BTreeSet<String> = [stored[3].id.clone(), stored[9].id.clone()].into();
    assert_eq!(
        ids, want,
        "the conflict must name exactly the conflicting ids"
    );
    for record in &fresh[..3] {
        let got = store.get(partner, &record.id).await.unwrap();
        assert_eq!(got, None, "nothing of a refused batch may be stored");
    }
    assert_eq!(total(&*store, partner).await, 20);
    assert_eq!(
        store.get(partner, &stored[3].id).await.unwrap().as_ref(),
        Some(&stored[3])
    );
    let mut only_date = stored[0].clone();
    only_date.operation_date = actlog_domain::OperationDate::from_ticks(1);
    let err = store
        .append(partner, vec![only_date])
        .await
        .expect_err("date differs");
    assert!(matches!(err, AppendError::Conflict(ids) if ids == [stored[0].id.clone()]));
    let other = "partner-conflict-other";
    let report = store
        .append(other, stored.clone())
        .await
        .expect("ids are per partner");
    assert_eq!(report.stored, stored.len());
}

/// One id twice in a batch: stored once when the content is the same, a conflict otherwise.
pub async fn duplicate_ids_inside_one_batch(store: Arc<dyn Store>) {
    let partner = "partner-dup";
    let at = base_date().ticks();
    let a = bare(partner, "dup", at);
    let report = store
        .append(
            partner,
            vec![a.clone(), bare(partner, "one", at), a.clone()],
        )
        .await
        .expect("same content twice");
    assert_eq!(report.stored, 2, "{report:?}");
    assert_eq!(report.stored + report.unchanged, 3, "{report:?}");
    assert_eq!(total(&*store, partner).await, 2);
    let b = bare(partner, "dup2", at);
    let mut b_changed = b.clone();
    b_changed.operation_date = actlog_domain::OperationDate::from_ticks(at + MINUTE);
    let other = bare(partner, "two", at);
    let err = store
        .append(partner, vec![b, other, b_changed])
        .await
        .expect_err("different content under one id");
    assert!(
        matches!(&err, AppendError::Conflict(ids) if ids == &["dup2".to_owned()]),
        "{err:?}"
    );
    assert_eq!(
        total(&*store, partner).await,
        2,
        "nothing of the batch stored"
    );
    assert_eq!(store.get(partner, "two").await.unwrap(), None);
}

/// 64 tasks appending one record each at the same moment: all succeed, all are stored.
pub async fn concurrent_single_record_appends_are_all_stored(store: Arc<dyn Store>) {
    let partner = "partner-concurrent";
    let records: Vec<AuditRecord> = DataSet::new(partner, "k", 71).take(64 * 4);
    let barrier = Arc::new(tokio::sync::Barrier::new(64));
    let tasks: Vec<_> = records
        .chunks(4)
        .map(|chunk| {
            let (store, barrier, chunk) =
                (Arc::clone(&store), Arc::clone(&barrier), chunk.to_vec());
            tokio::spawn(async move {
                barrier.wait().await;
                for record in chunk {
                    let report = store.append(partner, vec![record]).await.expect("append");
                    assert_eq!(report.stored, 1);
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("task");
    }
    assert_eq!(total(&*store, partner).await, records.len() as u64);
    let got: BTreeSet<String> = walk(&*store, partner, &everything(), 500)
        .await
        .into_iter()
        .map(|r| r.id)
        .collect();
    let want: BTreeSet<String> = records.into_iter().map(|r| r.id).collect();
    assert_eq!(got, want);
}
