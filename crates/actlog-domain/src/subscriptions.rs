//! A customer's subscriptions as the recorded transactions tell them: orders' line items create
//! them, subscription updates (quantity, status, conversions, upgrades) change them.
//!
//! [`SubscriptionBook::observe`] takes a customer's records newest first (the order every store
//! scans in), so the first record that states a fact is the latest word on it; memory holds one
//! entry per subscription, whatever the number of records. That fold is the reference; stores
//! keep its result up to date at ingest with [`state`], which gives exactly the same.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::details::{member, text_member};
use crate::record::AuditRecord;
use crate::time::OperationDate;

pub mod state;

/// What the records say about one subscription.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnownSubscription {
    /// As first written (Partner Center writes uppercase GUIDs in orders, lowercase elsewhere).
    pub id: String,
    /// The friendly name, else the offer name, else the offer id.
    pub product: Option<String>,
    pub offer_id: Option<String>,
    pub quantity: Option<String>,
    /// `active`, `suspended`, `deleted`, … (an order's line creates an active one).
    pub status: Option<String>,
    /// The newest record about it.
    pub last_change: OperationDate,
    /// The oldest record about it.
    pub first_seen: OperationDate,
    /// How many records speak of it.
    pub records: u64,
}

/// A fact one record states about one subscription.
#[derive(Debug, Default)]
struct Fact {
    id: String,
    product: Option<String>,
    offer_id: Option<String>,
    quantity: Option<String>,
    status: Option<String>,
}

/// The subscriptions of one customer, built from its records newest first.
#[derive(Debug, Default)]
pub struct SubscriptionBook {
    /// By id ASCII-lowercased.
    by_id: HashMap<String, KnownSubscription>,
}

impl SubscriptionBook {
    pub fn new() -> Self {
        Self::default()
    }

    /// Takes the next (older) record. Only succeeded operations change what is known.
    pub fn observe(&mut self, record: &AuditRecord) {
        let succeeded = record
            .operation_status
            .as_deref()
            .is_none_or(|s| s.eq_ignore_ascii_case("succeeded"));
        if !succeeded {
            return;
        }
        for fact in facts(record) {
            let entry = self
                .by_id
                .entry(fact.id.to_ascii_lowercase())
                .or_insert_with(|| KnownSubscription {
                    id: fact.id.clone(),
                    product: None,
                    offer_id: None,
                    quantity: None,
                    status: None,
                    last_change: record.operation_date,
                    first_seen: record.operation_date,
                    records: 0,
                });
            entry.records += 1;
            entry.last_change = entry.last_change.max(record.operation_date);
            entry.first_seen = entry.first_seen.min(record.operation_date);
            // Newest first: keep what a newer record already said.
            entry.product = entry.product.take().or(fact.product);
            entry.offer_id = entry.offer_id.take().or(fact.offer_id);
            entry.quantity = entry.quantity.take().or(fact.quantity);
            entry.status = entry.status.take().or(fact.status);
        }
    }

    /// The subscriptions, in the page's order.
    pub fn into_list(self) -> Vec<KnownSubscription> {
        let mut list: Vec<KnownSubscription> = self.by_id.into_values().collect();
        sort_for_page(&mut list);
        list
    }
}

/// The page's order: by product name (its lowercase, [`product_sort`]), then by the key the
/// subscription is kept under (its id ASCII-lowercased, unique per customer). Strings compare
/// as bytes, as SQLite's `BINARY` and PostgreSQL's `COLLATE "C"` compare them, so a store can
/// read a page of it from an index.
fn sort_for_page(list: &mut [KnownSubscription]) {
    list.sort_by_cached_key(KnownSubscription::position);
}

/// The first part of a subscription's place in the page's order: its product name lowercased
/// (Unicode), empty when none is known.
pub fn product_sort(product: Option<&str>) -> String {
    product.map(str::to_lowercase).unwrap_or_default()
}

/// A place in a Subscriptions page's order: the page after it begins with the next
/// subscription. What a link to the next page carries.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct SubscriptionsAfter {
    /// [`product_sort`] of the subscription's product.
    pub product: String,
    /// The subscription's id ASCII-lowercased.
    pub subscription: String,
}

impl KnownSubscription {
    /// Where it stands in the page's order.
    pub fn position(&self) -> SubscriptionsAfter {
        SubscriptionsAfter {
            product: product_sort(self.product.as_deref()),
            subscription: self.id.to_ascii_lowercase(),
        }
    }
}

fn object(value: Option<&str>) -> Option<Map<String, Value>> {
    match serde_json::from_str::<Value>(value?).ok()? {
        Value::Object(o) => Some(o),
        _ => None,
    }
}

/// What `record` says about subscriptions.
fn facts(record: &AuditRecord) -> Vec<Fact> {
    let new = object(record.resource_new_value.as_deref());
    let old = object(record.resource_old_value.as_deref());
    let mut facts = Vec::new();
    if let Some(Value::Array(items)) = new.as_ref().and_then(|o| member(o, "LineItems")) {
        // An order: every line with a subscription created or added to it.
        for item in items.iter().filter_map(Value::as_object) {
            let Some(id) = text_member(item, "SubscriptionId") else {
                continue;
            };
            facts.push(Fact {
                id,
                product: text_member(item, "FriendlyName")
                    .or_else(|| text_member(item, "OfferName")),
                offer_id: text_member(item, "OfferId"),
                quantity: text_member(item, "Quantity"),
                status: Some("active".to_owned()),
            });
        }
        return facts;
    }
    let is_subscription = |o: &Map<String, Value>| {
        let typed = member(o, "Attributes")
            .and_then(Value::as_object)
            .and_then(|a| text_member(a, "ObjectType"))
            .is_some_and(|t| t.eq_ignore_ascii_case("Subscription"));
        let resource = record
            .resource_type
            .as_deref()
            .is_some_and(|r| r.eq_ignore_ascii_case("subscription"));
        (typed || resource) && text_member(o, "Id").is_some()
    };
    if let Some(value) = new.as_ref().filter(|o| is_subscription(o)) {
        facts.push(subscription_fact(value));
        // An upgrade or conversion names the subscription it came from.
        if let Some(old) = old.as_ref().filter(|o| is_subscription(o))
            && text_member(old, "Id") != text_member(value, "Id")
        {
            facts.push(subscription_fact(old));
        }
    } else if let Some(value) = old.as_ref().filter(|o| is_subscription(o)) {
        // Only a before: the subscription is gone.
        let mut fact = subscription_fact(value);
        fact.status = Some("deleted".to_owned());
        facts.push(fact);
    }
    facts
}

fn subscription_fact(value: &Map<String, Value>) -> Fact {
    Fact {
        id: text_member(value, "Id").unwrap_or_default(),
        product: text_member(value, "FriendlyName").or_else(|| text_member(value, "OfferName")),
        offer_id: text_member(value, "OfferId"),
        quantity: text_member(value, "Quantity"),
        status: text_member(value, "Status"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(
        id: &str,
        day: u8,
        op: &str,
        resource: &str,
        status: &str,
        old: Option<&str>,
        new: Option<&str>,
    ) -> AuditRecord {
        let mut r: AuditRecord = serde_json::from_value(serde_json::json!({
            "id": id, "partnerId": "p", "operationType": op, "resourceType": resource,
            "operationStatus": status,
            "operationDate": format!("2026-03-{day:02}T10:00:00Z"),
        }))
        .unwrap();
        r.resource_old_value = old.map(str::to_owned);
        r.resource_new_value = new.map(str::to_owned);
        r
    }

    fn book(mut records: Vec<AuditRecord>) -> Vec<KnownSubscription> {
        records.sort_by_key(|r| std::cmp::Reverse(r.operation_date));
        let mut book = SubscriptionBook::new();
        for r in &records {
            book.observe(r);
        }
        book.into_list()
    }

    const ORDER: &str = r#"{"Id":"o1","LineItems":[
        {"OfferId":"OFF-E3","SubscriptionId":"AAAA-1","FriendlyName":"Office 365 E3","Quantity":25},
        {"OfferId":"OFF-TEAMS","SubscriptionId":"BBBB-2","FriendlyName":"Teams Essentials","Quantity":5},
        {"OfferId":"OFF-X","FriendlyName":"pending line","Quantity":1}]}"#;

    #[test]
    fn an_order_creates_its_subscriptions_and_updates_change_them() {
        let update = r#"{"Id":"aaaa-1","OfferName":"Office 365 E3","FriendlyName":"Office 365 E3",
            "Quantity":30,"Status":"active","Attributes":{"ObjectType":"Subscription"}}"#;
        let before =
            r#"{"Id":"bbbb-2","FriendlyName":"Teams Essentials","Quantity":5,"Status":"active"}"#;
        let suspended = r#"{"Id":"bbbb-2","FriendlyName":"Teams Essentials","Quantity":5,"Status":"suspended"}"#;
        let failed = r#"{"Id":"aaaa-1","Quantity":999,"Status":"active"}"#;
        let list = book(vec![
            record(
                "1",
                1,
                "create_order",
                "order",
                "succeeded",
                None,
                Some(ORDER),
            ),
            record(
                "2",
                5,
                "update_subscription",
                "subscription",
                "succeeded",
                None,
                Some(update),
            ),
            record(
                "3",
                7,
                "update_subscription",
                "subscription",
                "succeeded",
                Some(before),
                Some(suspended),
            ),
            record(
                "4",
                9,
                "update_subscription",
                "subscription",
                "failed",
                None,
                Some(failed),
            ),
        ]);
        assert_eq!(list.len(), 2);
        let e3 = &list[0];
        assert_eq!(e3.id, "aaaa-1");
        assert_eq!(e3.product.as_deref(), Some("Office 365 E3"));
        assert_eq!(e3.offer_id.as_deref(), Some("OFF-E3"));
        assert_eq!(e3.quantity.as_deref(), Some("30"));
        assert_eq!(e3.status.as_deref(), Some("active"));
        assert_eq!(e3.records, 2);
        assert_eq!(e3.first_seen.to_string(), "2026-03-01T10:00:00.0000000Z");
        assert_eq!(e3.last_change.to_string(), "2026-03-05T10:00:00.0000000Z");
        let teams = &list[1];
        assert_eq!(teams.status.as_deref(), Some("suspended"));
        assert_eq!(teams.quantity.as_deref(), Some("5"));
        assert_eq!(teams.records, 2);
    }

    #[test]
    fn an_upgrade_names_both_and_a_removal_marks_deleted() {
        let from =
            r#"{"Id":"S-OLD","FriendlyName":"Business Basic","Quantity":3,"Status":"active"}"#;
        let to =
            r#"{"Id":"S-NEW","FriendlyName":"Business Standard","Quantity":3,"Status":"active"}"#;
        let gone =
            r#"{"Id":"S-NEW","FriendlyName":"Business Standard","Quantity":3,"Status":"active"}"#;
        let list = book(vec![
            record(
                "1",
                2,
                "upgrade_subscription",
                "subscription",
                "succeeded",
                Some(from),
                Some(to),
            ),
            record(
                "2",
                3,
                "delete_subscription",
                "subscription",
                "succeeded",
                Some(gone),
                None,
            ),
        ]);
        let by_id = |id: &str| list.iter().find(|s| s.id == id).unwrap();
        assert_eq!(by_id("S-NEW").status.as_deref(), Some("deleted"));
        assert_eq!(by_id("S-OLD").product.as_deref(), Some("Business Basic"));
    }

    #[test]
    fn records_about_other_things_add_nothing() {
        let list = book(vec![
            record(
                "1",
                1,
                "add_customer",
                "customer",
                "succeeded",
                None,
                Some(r#"{"Id":"c1"}"#),
            ),
            record(
                "2",
                2,
                "update_subscription",
                "subscription",
                "succeeded",
                None,
                Some("not json"),
            ),
        ]);
        assert!(list.is_empty());
    }
}
