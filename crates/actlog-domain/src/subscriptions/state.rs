//! The Subscriptions page kept up to date at ingest: what a store keeps per subscription and
//! per customer so that the page is read, not folded from the customer's whole history.
//!
//! The reference is the fold of [`super::SubscriptionBook`] over a customer's records in the
//! order pages list them (newest first; among records of one date, the one stored later
//! first). A record stored after all others is first among those of its date or older, so it
//! merges into what is kept by one rule: each field it states replaces the kept one when its
//! date is not older than the date the kept one was stated at ([`SubscriptionState::absorb`]).
//! Records may arrive in any date order (an import of older records, `actlog pull`); merging
//! them in the order they are stored gives exactly the fold of them all.

use std::collections::HashMap;

use crate::filter::Field;
use crate::record::AuditRecord;
use crate::time::OperationDate;

use super::{KnownSubscription, SubscriptionBook, SubscriptionsAfter, sort_for_page};

/// A value with the date of the newest record that stated it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stated {
    pub value: String,
    pub at: OperationDate,
}

/// What is kept for one subscription of one customer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscriptionState {
    /// The subscription's id ASCII-lowercased: the key it is kept under.
    pub key: String,
    /// The id as the newest record about it writes it.
    pub id: String,
    pub product: Option<Stated>,
    pub offer_id: Option<Stated>,
    pub quantity: Option<Stated>,
    pub status: Option<Stated>,
    pub first_seen: OperationDate,
    pub last_change: OperationDate,
    pub records: u64,
}

/// Takes `later`'s value when it states one at least as new as `kept`'s.
fn merge_field(kept: &mut Option<Stated>, later: Option<Stated>) {
    if let Some(later) = later
        && kept.as_ref().is_none_or(|k| later.at >= k.at)
    {
        *kept = Some(later);
    }
}

impl SubscriptionState {
    /// Merges in what records stored after every record already merged say.
    pub fn absorb(&mut self, later: SubscriptionState) {
        if later.last_change >= self.last_change {
            self.id = later.id;
        }
        merge_field(&mut self.product, later.product);
        merge_field(&mut self.offer_id, later.offer_id);
        merge_field(&mut self.quantity, later.quantity);
        merge_field(&mut self.status, later.status);
        self.first_seen = self.first_seen.min(later.first_seen);
        self.last_change = self.last_change.max(later.last_change);
        self.records += later.records;
    }

    /// Its place in the page's order by product: [`super::product_sort`] of the product kept,
    /// which a store keeps beside it, merged with it.
    pub fn product_sort(&self) -> String {
        super::product_sort(self.product.as_ref().map(|p| p.value.as_str()))
    }

    /// The page's row.
    pub fn known(self) -> KnownSubscription {
        let value = |s: Option<Stated>| s.map(|s| s.value);
        KnownSubscription {
            id: self.id,
            product: value(self.product),
            offer_id: value(self.offer_id),
            quantity: value(self.quantity),
            status: value(self.status),
            last_change: self.last_change,
            first_seen: self.first_seen,
            records: self.records,
        }
    }

    /// What one record says, subscription by subscription (the fold of that record alone).
    fn of(record: &AuditRecord) -> Vec<SubscriptionState> {
        let mut book = SubscriptionBook::new();
        book.observe(record);
        let at = record.operation_date;
        let stated = |v: Option<String>| v.map(|value| Stated { value, at });
        book.by_id
            .into_iter()
            .map(|(key, s)| SubscriptionState {
                key,
                id: s.id,
                product: stated(s.product),
                offer_id: stated(s.offer_id),
                quantity: stated(s.quantity),
                status: stated(s.status),
                first_seen: s.first_seen,
                last_change: s.last_change,
                records: s.records,
            })
            .collect()
    }
}

/// What is kept for one customer: its name on the page and where its activity starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerState {
    /// The customer id as filters compare it (ASCII-lowercased).
    pub key: String,
    /// The newest non-empty name its records give.
    pub name: Option<Stated>,
    /// Its oldest record's date.
    pub oldest: OperationDate,
}

impl CustomerState {
    /// Merges in what records stored later say.
    pub fn absorb(&mut self, later: CustomerState) {
        merge_field(&mut self.name, later.name);
        self.oldest = self.oldest.min(later.oldest);
    }

    fn of(record: &AuditRecord) -> Option<CustomerState> {
        let customer = record.customer_id.as_deref()?;
        Some(CustomerState {
            key: customer_key(customer),
            name: record
                .customer_name
                .clone()
                .filter(|n| !n.is_empty())
                .map(|value| Stated {
                    value,
                    at: record.operation_date,
                }),
            oldest: record.operation_date,
        })
    }
}

/// The key a customer is kept under: its id as a `CustomerId equals` filter compares it.
pub fn customer_key(customer_id: &str) -> String {
    Field::CustomerId.folding().fold(customer_id)
}

/// What records stored together (a batch, a group of batches, a step of a rebuild) change,
/// merged in the order they are stored: one state per customer and per subscription, to be
/// merged into what is kept with the same rule.
#[derive(Debug, Clone, Default)]
pub struct Changes {
    pub customers: HashMap<String, CustomerState>,
    /// By (customer key, subscription key).
    pub subscriptions: HashMap<(String, String), SubscriptionState>,
}

impl Changes {
    pub fn new() -> Self {
        Self::default()
    }

    /// What one record changes (made before the writer takes it, off its thread).
    pub fn of(record: &AuditRecord) -> Changes {
        let mut changes = Changes::new();
        let Some(customer) = CustomerState::of(record) else {
            return changes;
        };
        for sub in SubscriptionState::of(record) {
            let key = (customer.key.clone(), sub.key.clone());
            changes.subscriptions.insert(key, sub);
        }
        changes.customers.insert(customer.key.clone(), customer);
        changes
    }

    /// Adds the record stored after every record added so far.
    pub fn add(&mut self, record: &AuditRecord) {
        self.absorb(Changes::of(record));
    }

    /// Merges in what records stored after those already merged change.
    pub fn absorb(&mut self, later: Changes) {
        for (key, sub) in later.subscriptions {
            match self.subscriptions.get_mut(&key) {
                Some(kept) => kept.absorb(sub),
                None => {
                    self.subscriptions.insert(key, sub);
                }
            }
        }
        for (key, customer) in later.customers {
            match self.customers.get_mut(&key) {
                Some(kept) => kept.absorb(customer),
                None => {
                    self.customers.insert(key, customer);
                }
            }
        }
    }

    /// How many states it holds (what a rebuild bounds).
    pub fn len(&self) -> usize {
        self.customers.len() + self.subscriptions.len()
    }

    pub fn is_empty(&self) -> bool {
        self.customers.is_empty()
    }
}

/// A customer's Subscriptions page: what the store keeps, or the fold of its records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerSubscriptions {
    /// The newest non-empty name its records give.
    pub name: Option<String>,
    /// Its oldest record's date.
    pub oldest: OperationDate,
    /// How many subscriptions its records speak of, on every page together.
    pub total: u64,
    /// This page's, in the page's order (by product name, then id).
    pub subscriptions: Vec<KnownSubscription>,
    /// Whether more follow this page's last.
    pub more: bool,
}

impl CustomerSubscriptions {
    /// A page from what is kept: `read`, in the page's order, holds the page's subscriptions
    /// and, when more follow, at least one more; `total` is how many the customer has.
    pub fn from_states(
        customer: CustomerState,
        total: u64,
        read: impl IntoIterator<Item = SubscriptionState>,
        size: usize,
    ) -> Self {
        let mut list: Vec<KnownSubscription> =
            read.into_iter().map(SubscriptionState::known).collect();
        sort_for_page(&mut list);
        let more = list.len() > size;
        list.truncate(size);
        CustomerSubscriptions {
            name: customer.name.map(|n| n.value),
            oldest: customer.oldest,
            total,
            subscriptions: list,
            more,
        }
    }

    /// The reference: the fold of a customer's records, newest first as pages list them,
    /// every subscription on one page. `None` when there are none.
    pub fn fold<'a>(newest_first: impl IntoIterator<Item = &'a AuditRecord>) -> Option<Self> {
        let mut book = SubscriptionBook::new();
        let mut name: Option<String> = None;
        let mut oldest: Option<OperationDate> = None;
        for record in newest_first {
            if name.is_none() {
                name = record.customer_name.clone().filter(|n| !n.is_empty());
            }
            oldest = Some(oldest.map_or(record.operation_date, |o| o.min(record.operation_date)));
            book.observe(record);
        }
        let subscriptions = book.into_list();
        Some(CustomerSubscriptions {
            name,
            oldest: oldest?,
            total: subscriptions.len() as u64,
            subscriptions,
            more: false,
        })
    }

    /// The page of at most `size` subscriptions that follows `after` (from the first when
    /// `None`), cut from this one.
    pub fn page(mut self, after: Option<&SubscriptionsAfter>, size: usize) -> Self {
        if let Some(after) = after {
            self.subscriptions.retain(|s| s.position() > *after);
        }
        self.more = self.more || self.subscriptions.len() > size;
        self.subscriptions.truncate(size);
        self
    }

    /// Where the next page begins, when one follows.
    pub fn next(&self) -> Option<SubscriptionsAfter> {
        self.subscriptions
            .last()
            .filter(|_| self.more)
            .map(KnownSubscription::position)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use proptest::sample::select;

    use super::*;

    /// One record of an awkward little world: few customers (ids differing in case), few
    /// subscriptions, few dates (ties), failed operations, empty names.
    fn record() -> impl Strategy<Value = AuditRecord> {
        (
            select(vec!["C-1", "c-1", "C-2"]),
            select(vec![None, Some(""), Some("Alpha"), Some("Beta")]),
            0u8..4,
            0u8..5,
            select(vec!["S-1", "s-1", "S-2"]),
            select(vec![None, Some(1u8), Some(7)]),
            select(vec![None, Some("active"), Some("suspended")]),
            any::<bool>(),
        )
            .prop_map(|(customer, name, day, kind, sub, qty, status, failed)| {
                let qty = qty.map_or(String::new(), |q| format!(r#","Quantity":{q}"#));
                let status_member = status.map_or(String::new(), |s| format!(r#","Status":"{s}""#));
                let body = format!(r#"{{"Id":"{sub}","FriendlyName":"P {sub}"{qty}{status_member}}}"#);
                let order = format!(
                    r#"{{"Id":"o","LineItems":[{{"SubscriptionId":"{sub}","OfferId":"O"{qty}}},{{"SubscriptionId":"S-2"}}]}}"#
                );
                let (op, resource, old, new) = match kind {
                    0 => ("create_order", "order", None, Some(order)),
                    1 => ("update_subscription", "subscription", None, Some(body)),
                    2 => ("upgrade_subscription", "subscription", Some(r#"{"Id":"S-2","Quantity":2}"#.to_owned()), Some(body)),
                    3 => ("delete_subscription", "subscription", Some(body), None),
                    _ => ("add_customer", "customer", None, Some(r#"{"Id":"x"}"#.to_owned())),
                };
                let mut r: AuditRecord = serde_json::from_value(serde_json::json!({
                    "id": "r", "partnerId": "p", "operationType": op, "resourceType": resource,
                    "customerId": customer, "customerName": name,
                    "operationStatus": if failed { "failed" } else { "succeeded" },
                    "operationDate": format!("2026-03-0{}T10:00:00Z", day + 1),
                }))
                .unwrap();
                r.resource_old_value = old;
                r.resource_new_value = new;
                r
            })
    }

    /// What a store keeps after storing `batches` in order, merging each batch's changes.
    fn kept(batches: &[&[AuditRecord]]) -> Changes {
        let mut kept = Changes::new();
        for batch in batches {
            let mut changes = Changes::new();
            for record in *batch {
                changes.add(record);
            }
            kept.absorb(changes);
        }
        kept
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 512, failure_persistence: None, ..ProptestConfig::default() })]

        #[test]
        fn kept_state_is_the_fold_of_every_record_in_any_order_and_batching(
            stored in proptest::collection::vec(record(), 0..24),
            cuts in proptest::collection::vec(0usize..24, 0..5),
        ) {
            let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c.min(stored.len())).collect();
            cuts.extend([0, stored.len()]);
            cuts.sort_unstable();
            let batches: Vec<&[AuditRecord]> =
                cuts.windows(2).map(|w| &stored[w[0]..w[1]]).collect();
            let Changes { customers, subscriptions: subs } = kept(&batches);
            // Pages: newest first, and among one date the record stored later first.
            let mut newest_first: Vec<(usize, &AuditRecord)> = stored.iter().enumerate().collect();
            newest_first.sort_by_key(|b| std::cmp::Reverse((b.1.operation_date, b.0)));
            for customer in ["c-1", "c-2"] {
                let of_customer = newest_first
                    .iter()
                    .map(|(_, r)| *r)
                    .filter(|r| r.customer_id.as_deref().map(customer_key).as_deref() == Some(customer));
                let fold = CustomerSubscriptions::fold(of_customer);
                let page = customers.get(customer).map(|c| {
                    let own = subs.iter().filter(|((k, _), _)| k == customer).map(|(_, s)| s.clone());
                    let own: Vec<SubscriptionState> = own.collect();
                    CustomerSubscriptions::from_states(c.clone(), own.len() as u64, own, usize::MAX)
                });
                prop_assert_eq!(page, fold);
            }
        }
    }
}
