//! Each partner's Merkle log: every stored record logged once, in commit order, with the leaf of
//! what a read returns; the head, tiles and proofs agree with an independent computation; a
//! refused batch leaves the log as it was; two handles append to one log in turn; checkpoints
//! are kept per partner and size.

use std::sync::Arc;

use actlog_domain::AuditRecord;
use actlog_store::log::leaf_of;
use actlog_store::{AppendError, Store, StoredCheckpoint};
use actlog_tlog::merkle::{self, Hash};
use actlog_tlog::tiles::{self, TileId};
use futures::TryStreamExt;

use crate::data::DataSet;
use crate::support::{bare, everything};

/// The partner's log as stored, checked against the records it holds: returns the logged
/// records in log order and their leaves.
async fn checked_log(store: &dyn Store, partner: &str) -> (Vec<AuditRecord>, Vec<Hash>) {
    let head = store.log_head(partner).await.expect("head");
    let logged: Vec<_> = store
        .logged_records(partner)
        .try_concat()
        .await
        .expect("logged records");
    let indexes: Vec<Option<u64>> = logged.iter().map(|l| l.index).collect();
    let want: Vec<Option<u64>> = (0..logged.len() as u64).map(Some).collect();
    assert_eq!(indexes, want, "log indexes follow the stored order, from 0");
    assert_eq!(
        head.size(),
        logged.len() as u64,
        "the head counts every record"
    );
    let count = store.count(partner, &everything()).await.expect("count");
    assert_eq!(count, head.size(), "every stored record is logged");

    let tiles: Vec<(TileId, Vec<u8>)> = store.all_tiles(partner).try_concat().await.expect("tiles");
    let stored_leaves: Vec<u8> = tiles
        .iter()
        .filter(|(t, _)| t.level == 0)
        .flat_map(|(_, h)| h.clone())
        .collect();
    let leaves: Vec<Hash> = logged.iter().map(|l| leaf_of(partner, &l.record)).collect();
    assert_eq!(
        stored_leaves,
        leaves.concat(),
        "the stored leaves are the hashes of what reads return"
    );
    assert_eq!(head.root(), merkle::root(&leaves), "the head's root");
    let records = logged.into_iter().map(|l| l.record).collect();
    (records, leaves)
}

/// An inclusion proof of `id` in the partner's tree of `size`, built from stored tiles.
async fn proof_of(store: &dyn Store, partner: &str, index: u64, size: u64) -> Vec<Hash> {
    let nodes = merkle::inclusion_nodes(index, size).expect("in range");
    let set = store
        .log_tiles(partner, &tiles::tiles_for(&nodes))
        .await
        .expect("tiles");
    merkle::inclusion_proof(&set, index, size).expect("every node stored")
}

/// Batches, a retry, a conflict and a record with unknown members: the log holds each stored
/// record once, in commit order, and proves each one against the head.
pub async fn the_log_holds_each_stored_record_once_and_proves_it(store: Arc<dyn Store>) {
    let partner = "partner-log";
    assert_eq!(store.log_head(partner).await.unwrap().size(), 0);
    let mut data = DataSet::new(partner, "l", 61);
    let first = data.take(37);
    store.append(partner, first.clone()).await.unwrap();
    store.append(partner, first[..5].to_vec()).await.unwrap();
    let json = r#"{"id":"odd","operationType":"create_order","operationDate":"2024-03-04T05:06:07.1234567Z",
        "newField": {"nested" : [1, 2.50]}, "customizedData":[{"key":"k","value":null}]}"#;
    let odd = actlog_domain::ingest::parse_record(json, partner, &mut || unreachable!()).unwrap();
    store
        .append(partner, vec![odd, bare(partner, "plain", 1)])
        .await
        .unwrap();
    let before = store.log_head(partner).await.unwrap();

    let mut conflicting = data.take(3);
    let mut changed = first[0].clone();
    changed.customer_name = Some("someone else".into());
    conflicting.push(changed);
    let refused = store.append(partner, conflicting).await;
    assert!(
        matches!(refused, Err(AppendError::Conflict(_))),
        "{refused:?}"
    );
    let after = store.log_head(partner).await.unwrap();
    assert_eq!(after.size(), before.size(), "a refused batch logs nothing");
    assert_eq!(after.root(), before.root());

    for chunk in data.take(250).chunks(17) {
        store.append(partner, chunk.to_vec()).await.unwrap();
    }
    let (records, leaves) = checked_log(&*store, partner).await;
    assert_eq!(records.len(), 37 + 2 + 250);
    let head = store.log_head(partner).await.unwrap();
    for index in [0u64, 1, 15, 16, 37, 38, 255, 288] {
        let id = &records[index as usize].id;
        assert_eq!(store.log_index(partner, id).await.unwrap(), Some(index));
        let proof = proof_of(&*store, partner, index, head.size()).await;
        merkle::verify_inclusion(
            &leaves[index as usize],
            index,
            head.size(),
            &proof,
            &head.root(),
        )
        .expect("the inclusion proof verifies");
        // And against the older, smaller tree.
        if index < before.size() {
            let proof = proof_of(&*store, partner, index, before.size()).await;
            merkle::verify_inclusion(
                &leaves[index as usize],
                index,
                before.size(),
                &proof,
                &before.root(),
            )
            .expect("a proof in an older tree verifies");
        }
    }
    assert_eq!(store.log_index(partner, "missing").await.unwrap(), None);
    // A batch of look-ups answers each in order, unknown ones with none.
    let asked: Vec<String> = [288usize, 0, 37]
        .iter()
        .map(|&i| records[i].id.clone())
        .chain(["missing".to_owned()])
        .collect();
    assert_eq!(
        store.log_indexes(partner, &asked).await.unwrap(),
        vec![Some(288), Some(0), Some(37), None]
    );
    assert_eq!(
        store.log_indexes("partner-other", &asked).await.unwrap(),
        vec![None; 4]
    );
    assert_eq!(
        store
            .log_index("partner-other", &records[0].id)
            .await
            .unwrap(),
        None
    );

    let nodes = merkle::consistency_nodes(before.size(), head.size()).unwrap();
    let set = store
        .log_tiles(partner, &tiles::tiles_for(&nodes))
        .await
        .unwrap();
    let proof = merkle::consistency_proof(&set, before.size(), head.size()).unwrap();
    merkle::verify_consistency(
        before.size(),
        head.size(),
        &proof,
        &before.root(),
        &head.root(),
    )
    .expect("the log only grew");
}

/// Single-record appends from many tasks through both handles (two servers): one log, each
/// record once, hashes and proofs intact on both.
pub async fn two_handles_append_to_one_log_in_turn(first: Arc<dyn Store>, second: Arc<dyn Store>) {
    let partner = "partner-log-shared";
    let records = DataSet::new(partner, "s", 62).take(300);
    let mut tasks = Vec::new();
    for (i, chunk) in records.chunks(3).enumerate() {
        let store = Arc::clone(if i % 2 == 0 { &first } else { &second });
        let chunk = chunk.to_vec();
        tasks.push(tokio::spawn(async move {
            store.append(partner, chunk).await.expect("append")
        }));
    }
    for task in tasks {
        task.await.expect("an append task");
    }
    let (one, _) = checked_log(&*first, partner).await;
    let (other, _) = checked_log(&*second, partner).await;
    assert_eq!(one.len(), 300);
    assert_eq!(one, other, "both handles read one log");
}

/// Two handles append to one partner strictly in turn, so each finds the log grown by the
/// other since its own last append (a server that remembers its last head must notice); a
/// batch retried and a batch conflicting through the other handle are told apart as on one.
pub async fn two_handles_append_in_alternation(first: Arc<dyn Store>, second: Arc<dyn Store>) {
    let partner = "partner-log-alternating";
    let records = DataSet::new(partner, "alt", 63).take(40);
    let handles = [&first, &second];
    for (i, chunk) in records.chunks(4).enumerate() {
        let report = handles[i % 2]
            .append(partner, chunk.to_vec())
            .await
            .expect("append");
        assert_eq!((report.stored, report.unchanged), (chunk.len(), 0));
    }
    // The last chunk went through `second`; `first` retries it and one of its own.
    let mut retried = records[36..].to_vec();
    retried.extend_from_slice(&records[..2]);
    let report = first.append(partner, retried).await.expect("retry");
    assert_eq!((report.stored, report.unchanged), (0, 6));
    let mut changed = records[37].clone();
    changed.customer_name = Some("Another name".into());
    let fresh = DataSet::new(partner, "alt-new", 64).take(2);
    let mut conflicting = fresh.clone();
    conflicting.push(changed);
    match second.append(partner, conflicting).await {
        Err(AppendError::Conflict(ids)) => assert_eq!(ids, vec![records[37].id.clone()]),
        other => panic!("a conflicting batch must be refused whole, got {other:?}"),
    }
    let report = first.append(partner, fresh).await.expect("append after");
    assert_eq!(report.stored, 2);
    let (one, _) = checked_log(&*first, partner).await;
    let (other, _) = checked_log(&*second, partner).await;
    assert_eq!(one.len(), 42);
    assert_eq!(one, other, "both handles read one log");
}

/// Checkpoints are kept per partner and size, the first kept for a size stays.
pub async fn checkpoints_are_kept_per_partner_and_size(store: Arc<dyn Store>) {
    let (partner, other) = ("partner-cp", "partner-cp-other");
    assert_eq!(store.latest_checkpoint(partner).await.unwrap(), None);
    let kept = |size: u64, note: &str| StoredCheckpoint {
        size,
        note: note.to_owned(),
        signed_at: 1_700_000_000 + size as i64,
    };
    for (size, note) in [(5, "five"), (0, "zero"), (12, "twelve"), (5, "five again")] {
        store
            .add_checkpoint(partner, &kept(size, note))
            .await
            .unwrap();
    }
    assert_eq!(
        store.latest_checkpoint(partner).await.unwrap(),
        Some(kept(12, "twelve"))
    );
    assert_eq!(
        store.checkpoint_at(partner, 5).await.unwrap(),
        Some(kept(5, "five")),
        "the first checkpoint of a size stays"
    );
    assert_eq!(store.checkpoint_at(partner, 6).await.unwrap(), None);
    assert_eq!(
        store.checkpoints(partner).await.unwrap(),
        [kept(0, "zero"), kept(5, "five"), kept(12, "twelve")]
    );
    assert_eq!(store.checkpoints(other).await.unwrap(), []);
    assert_eq!(store.latest_checkpoint(other).await.unwrap(), None);
}

/// The partners a signer must sign are those whose log grew past their largest checkpoint.
pub async fn partners_whose_log_grew_are_the_unsigned_ones(store: Arc<dyn Store>) {
    let (a, b) = ("partner-grown-a", "partner-grown-b");
    assert_eq!(
        store.unsigned_partners().await.unwrap(),
        Vec::<String>::new()
    );
    let mut data_a = DataSet::new(a, "ga", 31);
    let mut data_b = DataSet::new(b, "gb", 32);
    store.append(a, data_a.take(3)).await.unwrap();
    store.append(b, data_b.take(2)).await.unwrap();
    assert_eq!(store.unsigned_partners().await.unwrap(), [a, b]);
    let signed = |size: u64| StoredCheckpoint {
        size,
        note: format!("size {size}"),
        signed_at: 1_700_000_000,
    };
    store.add_checkpoint(a, &signed(3)).await.unwrap();
    assert_eq!(store.unsigned_partners().await.unwrap(), [b]);
    store.add_checkpoint(b, &signed(1)).await.unwrap();
    assert_eq!(
        store.unsigned_partners().await.unwrap(),
        [b],
        "a checkpoint of fewer records than the log leaves it unsigned"
    );
    store.append(a, data_a.take(1)).await.unwrap();
    store.add_checkpoint(b, &signed(2)).await.unwrap();
    assert_eq!(store.unsigned_partners().await.unwrap(), [a]);
}
