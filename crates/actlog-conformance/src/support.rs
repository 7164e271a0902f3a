//! What the cases share: walking every page, the reference answer, and compact comparisons.

use actlog_domain::filter::{Condition, Field, Filter, Operator};
use actlog_domain::query::{PageRequest, Query, Window};
use actlog_domain::subscriptions::state::CustomerSubscriptions;
use actlog_domain::{AuditRecord, OperationDate};
use actlog_store::Store;

/// Every record a query covers, walked page by page as a client would (continuing from each
/// page's `next` with its `snapshot`), checking each page's promises on the way.
pub async fn walk(
    store: &dyn Store,
    partner: &str,
    query: &Query,
    size: usize,
) -> Vec<AuditRecord> {
    let mut request = PageRequest {
        query: query.clone(),
        size,
        after: None,
        snapshot: None,
    };
    let mut out = Vec::new();
    loop {
        let page = store.page(partner, &request).await.expect("page");
        assert!(
            page.records.len() <= size,
            "a page of size {size} held {} records",
            page.records.len()
        );
        if let Some(snapshot) = request.snapshot {
            assert_eq!(
                page.snapshot, snapshot,
                "a page must keep the walk's snapshot"
            );
        }
        if request.after.is_some() {
            assert!(
                !page.records.is_empty(),
                "a next position must lead to records"
            );
        }
        let full = page.records.len() == size;
        out.extend(page.records);
        match page.next {
            None => return out,
            Some(next) => {
                assert!(full, "a page with a next position must be full");
                assert_ne!(request.after, Some(next), "the walk did not move on");
                request.after = Some(next);
                request.snapshot = Some(page.snapshot);
            }
        }
    }
}

/// The reference answer: the records (given in the order they were appended) that `query`
/// covers, newest first by operationDate, later-appended first among equal dates.
pub fn expected(appended: &[AuditRecord], query: &Query) -> Vec<AuditRecord> {
    let mut out: Vec<AuditRecord> = appended
        .iter()
        .filter(|r| query.window.contains(r.operation_date))
        .filter(|r| query.filter.as_ref().is_none_or(|f| f.matches(r)))
        .rev()
        .cloned()
        .collect();
    out.sort_by_key(|r| std::cmp::Reverse(r.operation_date));
    out
}

/// A window covering every instant.
pub fn window_of_data() -> Window {
    Window {
        start: OperationDate::MIN,
        end: None,
    }
}

/// A query for every record.
pub(crate) fn everything() -> Query {
    Query {
        window: window_of_data(),
        filter: None,
    }
}

/// Panics with a readable message (ids first, then the first differing record) unless the two
/// lists are equal.
pub(crate) fn assert_records(actual: &[AuditRecord], expected: &[AuditRecord], what: &str) {
    let ids = |list: &[AuditRecord]| list.iter().map(|r| r.id.clone()).collect::<Vec<_>>();
    if actual.len() != expected.len() || ids(actual) != ids(expected) {
        let (a, e) = (ids(actual), ids(expected));
        let missing: Vec<_> = e.iter().filter(|id| !a.contains(id)).take(10).collect();
        let extra: Vec<_> = a.iter().filter(|id| !e.contains(id)).take(10).collect();
        let first = a.iter().zip(&e).position(|(x, y)| x != y);
        panic!(
            "{what}: got {} records, expected {}; missing {missing:?}, unexpected {extra:?}, \
             first difference in order at {first:?}",
            a.len(),
            e.len()
        );
    }
    for (a, e) in actual.iter().zip(expected) {
        assert_eq!(a, e, "{what}: record {} differs", e.id);
    }
}

/// Appends batches of `size`, panicking on failure.
pub(crate) async fn append_all(
    store: &dyn Store,
    partner: &str,
    records: &[AuditRecord],
    size: usize,
) {
    for batch in records.chunks(size) {
        let report = store.append(partner, batch.to_vec()).await.expect("append");
        assert_eq!(
            report.stored,
            batch.len(),
            "a new batch must be stored whole"
        );
    }
}

/// Everything `scan` streams, panicking on a failure.
pub(crate) async fn scan_all(store: &dyn Store, partner: &str, query: &Query) -> Vec<AuditRecord> {
    use futures::TryStreamExt;
    store
        .scan(partner, query)
        .try_collect()
        .await
        .expect("scan")
}

/// A record with only the required fields.
pub(crate) fn bare(partner: &str, id: &str, ticks: i64) -> AuditRecord {
    AuditRecord {
        id: id.to_owned(),
        partner_id: partner.to_owned(),
        customer_id: None,
        customer_name: None,
        user_principal_name: None,
        application_id: None,
        resource_type: None,
        resource_old_value: None,
        resource_new_value: None,
        operation_type: "create_order".to_owned(),
        operation_date: OperationDate::from_ticks(ticks),
        operation_status: None,
        customized_data: None,
        session_id: None,
        original_correlation_id: None,
        attributes: Default::default(),
        extensions: Default::default(),
    }
}

/// The reference: the fold of the customer's records as the store's pages list them.
pub async fn folded(
    store: &dyn Store,
    partner: &str,
    customer: &str,
) -> Option<CustomerSubscriptions> {
    let query = Query {
        window: Window {
            start: OperationDate::MIN,
            end: None,
        },
        filter: Some(Filter::Condition(Condition {
            field: Field::CustomerId,
            operator: Operator::Equals,
            value: customer.to_owned(),
        })),
    };
    let records = walk(store, partner, &query, 97).await;
    CustomerSubscriptions::fold(&records)
}
