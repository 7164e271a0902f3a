//! The Subscriptions page's projection: whatever the order records arrive in (an import of
//! older records after newer ones, retries, batches of every size), what the store keeps is
//! exactly the fold of the customer's records as pages list them, a page at a time.

use std::sync::Arc;

use actlog_domain::subscriptions::SubscriptionsAfter;
use actlog_domain::subscriptions::state::CustomerSubscriptions;
use actlog_domain::{AuditRecord, OperationDate};
use actlog_store::Store;

use crate::data::{DAY, Rng, base_date};
use crate::support::folded;

/// Customer ids differing only in case are one customer, as a `CustomerId equals` filter has it.
const CUSTOMERS: [&str; 4] = ["C-1", "c-1", "C-2", "Ç-3"];
const SUBSCRIPTIONS: [&str; 4] = ["S-1", "s-1", "S-2", "S-3"];

/// A record about subscriptions (or not), of a few dates so that many share one.
fn record(r: &mut Rng, partner: &str, n: usize) -> AuditRecord {
    let sub = r.pick(&SUBSCRIPTIONS);
    let qty = r.pick(&[None, Some(1), Some(30)]);
    let qty = qty.map_or(String::new(), |q| format!(r#","Quantity":{q}"#));
    let status = r.pick(&[None, Some("active"), Some("suspended")]);
    let status = status.map_or(String::new(), |s| format!(r#","Status":"{s}""#));
    // Names whose order needs Unicode's lowercase (É before é's neighbours, not after Z).
    let plan = r.pick(&["Plan", "ÉLAN", "élan", "Zeta"]);
    let body = format!(r#"{{"Id":"{sub}","FriendlyName":"{plan} {sub}"{qty}{status}}}"#);
    let order = format!(
        r#"{{"Id":"o{n}","LineItems":[{{"SubscriptionId":"{sub}","OfferId":"OFF-{n}","FriendlyName":"Line {n}"{qty}}}]}}"#
    );
    let (op, resource, old, new) = match r.below(5) {
        0 => ("create_order", "order", None, Some(order)),
        1 => ("update_subscription", "subscription", None, Some(body)),
        2 => (
            "upgrade_subscription",
            "subscription",
            Some(r#"{"Id":"S-3","Quantity":2,"Status":"active"}"#.to_owned()),
            Some(body),
        ),
        3 => ("delete_subscription", "subscription", Some(body), None),
        _ => ("add_customer", "customer", None, None),
    };
    let date = OperationDate::from_ticks(base_date().ticks() + r.below(6) as i64 * DAY);
    let mut record: AuditRecord = serde_json::from_value(serde_json::json!({
        "id": format!("sub-{n:05}"), "partnerId": partner, "operationType": op,
        "resourceType": resource,
        "customerId": r.chance(95).then(|| r.pick(&CUSTOMERS)),
        "customerName": r.pick(&[None, Some(""), Some("Alfa S.p.A."), Some("Beta <b>")]),
        "operationStatus": if r.chance(15) { "failed" } else { "succeeded" },
        "operationDate": date.to_string(),
    }))
    .expect("a valid record");
    record.resource_old_value = old;
    record.resource_new_value = new;
    record
}

/// Every customer's pages, walked from the first with `size` to a page, are the fold's, cut
/// where the previous page ended; the count is the fold's on every page.
async fn check(store: &dyn Store, partner: &str, round: u64, size: usize) {
    for customer in CUSTOMERS.iter().chain(&["nobody"]) {
        let fold = folded(store, partner, customer).await;
        let mut after: Option<SubscriptionsAfter> = None;
        let mut pages = 0;
        loop {
            let kept = store
                .subscriptions(partner, customer, after.as_ref(), size)
                .await
                .expect("subscriptions");
            let expected = fold.clone().map(|f| f.page(after.as_ref(), size));
            assert_eq!(
                kept, expected,
                "round {round}, partner {partner}, customer {customer}, page {pages} of {size}"
            );
            pages += 1;
            match kept.as_ref().and_then(CustomerSubscriptions::next) {
                Some(next) => after = Some(next),
                None => break,
            }
        }
        let total = fold.map_or(0, |f| f.total as usize);
        assert_eq!(
            pages,
            total.div_ceil(size).max(1),
            "{customer}: pages of {size}"
        );
    }
}

pub async fn subscriptions_kept_at_ingest_are_the_fold_in_any_arrival_order(store: Arc<dyn Store>) {
    for round in 0..4u64 {
        let mut r = Rng::new(0x5b5 + round);
        let partner = format!("p{round}");
        let mut records: Vec<AuditRecord> = (0..160).map(|n| record(&mut r, &partner, n)).collect();
        // Arrival in any order: shuffled, then appended in batches of random sizes.
        for i in (1..records.len()).rev() {
            records.swap(i, r.below(i as u64 + 1) as usize);
        }
        let mut at = 0;
        let mut batches: Vec<&[AuditRecord]> = Vec::new();
        while at < records.len() {
            let size = 1 + r.below(40) as usize;
            let end = (at + size).min(records.len());
            batches.push(&records[at..end]);
            at = end;
        }
        for (i, batch) in batches.iter().enumerate() {
            // Sometimes with the previous batch again in front: new records among retried ones.
            let sent = match i.checked_sub(1) {
                Some(before) if r.chance(30) => [batches[before], batch].concat(),
                _ => batch.to_vec(),
            };
            let report = store.append(&partner, sent).await.expect("append");
            assert_eq!(report.stored, batch.len());
            if r.chance(30) {
                // A retry changes nothing: the projection must not count it again.
                let again = store.append(&partner, batch.to_vec()).await.expect("retry");
                assert_eq!(again.stored, 0);
            }
            if i % 3 == 0 {
                check(store.as_ref(), &partner, round, 1 + r.below(3) as usize).await;
            }
        }
        check(store.as_ref(), &partner, round, usize::MAX).await;
        check(store.as_ref(), &partner, round, 2).await;
        // Another partner's customers of the same ids are not this one's.
        assert!(
            store
                .subscriptions("nobody", "C-1", None, 10)
                .await
                .expect("read")
                .is_none()
        );
    }
}
