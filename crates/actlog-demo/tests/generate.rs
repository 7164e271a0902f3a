//! The demo data as its users rely on it: deterministic, valid for ingest, complete (every
//! operation type and status), coherent (orders and subscriptions agree), hostile where it
//! should be, and streamed.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::LazyLock;

use actlog_demo::{DemoSpec, WINDOW_DAYS, customers, generate, partner_users};
use actlog_domain::catalog::{OPERATIONS, STATUSES};
use actlog_domain::ingest::parse_record;
use actlog_domain::{AuditRecord, OperationDate};
use jiff::Timestamp;
use serde_json::Value;

fn now() -> Timestamp {
    "2025-06-30T16:00:00Z".parse().unwrap()
}

fn spec() -> DemoSpec {
    DemoSpec::standard(now())
}

/// The standard demo, generated once for all tests.
static STANDARD: LazyLock<Vec<AuditRecord>> = LazyLock::new(|| generate(&spec()).collect());
/// The same, serialized as NDJSON (what `actlog import` and the API receive).
static STANDARD_NDJSON: LazyLock<String> = LazyLock::new(|| ndjson(STANDARD.iter().cloned()));

fn ndjson(records: impl Iterator<Item = AuditRecord>) -> String {
    records
        .map(|r| serde_json::to_string(&r).unwrap() + "\n")
        .collect()
}

#[test]
fn the_same_spec_gives_the_same_bytes_and_another_seed_does_not() {
    let second = ndjson(generate(&spec()));
    assert!(
        *STANDARD_NDJSON == second,
        "two runs of the standard spec differ"
    );
    assert_eq!(customers(&spec()), customers(&spec()));
    let other = DemoSpec {
        seed: 7,
        records: 1_000,
        ..spec()
    };
    let this = DemoSpec {
        records: 1_000,
        ..spec()
    };
    assert_ne!(ndjson(generate(&other)), ndjson(generate(&this)));
}

#[test]
fn the_standard_spec_has_the_promised_size() {
    let spec = spec();
    assert_eq!(spec.partner_id, "demo-partner");
    assert_eq!(STANDARD.len(), 40_000);
    assert_eq!(customers(&spec).len(), 300);
    assert_eq!(generate(&spec).len(), 40_000);
    let users = partner_users(&spec);
    assert!(users.contains(&"giulia.rossi@contoso-partner.example".to_owned()));
    assert_eq!(users.len(), 13);
}

#[test]
fn every_record_passes_ingest_validation_unchanged() {
    let partner = spec().partner_id;
    let lines = STANDARD_NDJSON.lines();
    for (record, json) in STANDARD.iter().zip(lines) {
        let mut no_new_ids = || panic!("record {} has an id", record.id);
        let parsed = parse_record(json, &partner, &mut no_new_ids)
            .unwrap_or_else(|e| panic!("{}: {e}", record.id));
        assert_eq!(&parsed, record);
    }
    assert_eq!(STANDARD_NDJSON.lines().count(), STANDARD.len());
}

#[test]
fn every_operation_type_and_status_appears_plus_unknown_types() {
    let seen: BTreeSet<&str> = STANDARD.iter().map(|r| r.operation_type.as_str()).collect();
    for entry in OPERATIONS.entries() {
        if entry.code != "undefined" {
            assert!(seen.contains(entry.code), "{} never appears", entry.code);
        }
    }
    let unknown: Vec<_> = seen
        .iter()
        .filter(|c| OPERATIONS.get(c).is_none())
        .collect();
    assert!(unknown.len() >= 2, "{unknown:?}");
    assert!(seen.contains("create_ai_agent_subscription"));
    let statuses: BTreeSet<_> = STANDARD
        .iter()
        .filter_map(|r| r.operation_status.as_deref())
        .collect();
    for entry in STATUSES.entries() {
        assert!(
            statuses.contains(entry.code),
            "{} never appears",
            entry.code
        );
    }
}

#[test]
fn a_small_demo_still_covers_every_operation_type() {
    let small = DemoSpec {
        records: 2_000,
        customers: 20,
        ..spec()
    };
    let seen: BTreeSet<String> = generate(&small).map(|r| r.operation_type).collect();
    for entry in OPERATIONS
        .entries()
        .iter()
        .filter(|e| e.code != "undefined")
    {
        assert!(seen.contains(entry.code), "{} never appears", entry.code);
    }
}

#[test]
fn the_mix_looks_like_a_csp_at_work() {
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for record in STANDARD.iter() {
        *counts.entry(&record.operation_type).or_default() += 1;
    }
    let mut ranked: Vec<_> = counts.into_iter().collect();
    ranked.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    eprintln!("operation types: {ranked:?}");
    let top: Vec<&str> = ranked.iter().take(6).map(|(op, _)| *op).collect();
    for common in [
        "create_order",
        "update_subscription",
        "reset_customer_user_password",
        "create_customer_user",
    ] {
        assert!(top.contains(&common), "{common} is not among {top:?}");
    }
    let succeeded = STANDARD
        .iter()
        .filter(|r| r.operation_status.as_deref() == Some("succeeded"))
        .count();
    assert!(succeeded * 100 > STANDARD.len() * 90, "{succeeded}");
}

#[test]
fn dates_ascend_within_the_window_and_ids_are_unique() {
    let end = OperationDate::from_timestamp(now()).unwrap();
    let start = end.saturating_add(jiff::SignedDuration::from_hours(-24 * WINDOW_DAYS));
    let mut last = start;
    let mut ids = BTreeSet::new();
    for record in STANDARD.iter() {
        assert!(
            record.operation_date > last,
            "{} goes back in time",
            record.id
        );
        assert!(record.operation_date <= end);
        last = record.operation_date;
        assert!(ids.insert(record.id.as_str()), "{} repeats", record.id);
    }
    // Spread over the whole window, not bunched.
    let first = STANDARD[0].operation_date;
    assert!(first < start.saturating_add(jiff::SignedDuration::from_hours(72)));
    // Office hours dominate: most records fall between 07:00 and 19:00 UTC on weekdays.
    let office = STANDARD
        .iter()
        .filter(|r| {
            let dt = r
                .operation_date
                .timestamp()
                .to_zoned(jiff::tz::TimeZone::UTC);
            (7..19).contains(&dt.hour()) && dt.weekday().to_monday_one_offset() <= 5
        })
        .count();
    assert!(office * 100 > STANDARD.len() * 70, "{office}");
}

fn data(record: &AuditRecord) -> BTreeMap<&str, Option<&str>> {
    record
        .customized_data
        .iter()
        .flatten()
        .map(|kv| (kv.key.as_str(), kv.value.as_deref()))
        .collect()
}

fn json(text: Option<&String>) -> Value {
    serde_json::from_str(text.expect("a resource value")).expect("resource values are JSON")
}

#[test]
fn orders_customized_data_mirrors_their_line_items() {
    let orders: Vec<_> = STANDARD
        .iter()
        .filter(|r| r.operation_type == "create_order")
        .collect();
    assert!(orders.len() > 1_000);
    let mut sizes = BTreeSet::new();
    for order in orders {
        let value = json(order.resource_new_value.as_ref());
        let data = data(order);
        assert_eq!(data["OrderId"], value["Id"].as_str());
        assert_eq!(
            value["ReferenceCustomerId"].as_str(),
            order.customer_id.as_deref()
        );
        assert_eq!(value["Attributes"]["ObjectType"], "Order");
        let cycle = value["BillingCycle"].as_str().unwrap();
        assert!(data["BillingCycle"].unwrap().eq_ignore_ascii_case(cycle));
        let items = value["LineItems"].as_array().unwrap();
        sizes.insert(items.len());
        let numbered = data
            .keys()
            .filter(|k| k.ends_with(|c: char| c.is_ascii_digit()));
        assert_eq!(numbered.count(), 5 * items.len(), "{}", order.id);
        for (n, item) in items.iter().enumerate() {
            assert_eq!(item["LineItemNumber"], n);
            assert_eq!(
                data[format!("OfferId-{n}").as_str()],
                item["OfferId"].as_str()
            );
            assert_eq!(
                data[format!("SubscriptionId-{n}").as_str()],
                item["SubscriptionId"].as_str()
            );
            assert_eq!(
                data[format!("SubscriptionName-{n}").as_str()],
                item["FriendlyName"].as_str()
            );
            let quantity = item["Quantity"].as_u64().unwrap().to_string();
            assert_eq!(
                data[format!("Quantity-{n}").as_str()],
                Some(quantity.as_str())
            );
            assert_eq!(
                data[format!("PartnerOnRecord-{n}").as_str()],
                item["PartnerIdOnRecord"].as_str()
            );
        }
    }
    assert_eq!(sizes, (1..=8).collect());
}

/// What a customer's Subscriptions page would know of one subscription.
#[derive(Debug, Clone, PartialEq)]
struct Known {
    offer: Value,
    name: Value,
    quantity: Value,
    status: Value,
}

impl Known {
    fn of(sub: &Value) -> Self {
        Known {
            offer: sub["OfferId"].clone(),
            name: sub["FriendlyName"].clone(),
            quantity: sub["Quantity"].clone(),
            status: sub["Status"].clone(),
        }
    }
}

#[test]
fn subscriptions_evolve_from_the_orders_that_created_them() {
    let mut known: HashMap<(String, String), Known> = HashMap::new();
    let mut checked = 0;
    for record in STANDARD.iter() {
        let customer = record.customer_id.clone().unwrap_or_default();
        let key = |id: &Value| (customer.clone(), id.as_str().unwrap().to_owned());
        let status = record.operation_status.as_deref().unwrap();
        let applies = status == "succeeded";
        match record.operation_type.as_str() {
            "create_order" if matches!(status, "succeeded" | "progress") => {
                let order = json(record.resource_new_value.as_ref());
                for item in order["LineItems"].as_array().unwrap() {
                    let state = if applies { "active" } else { "pending" };
                    let sub = Known {
                        offer: item["OfferId"].clone(),
                        name: item["FriendlyName"].clone(),
                        quantity: item["Quantity"].clone(),
                        status: Value::from(state),
                    };
                    assert!(known.insert(key(&item["SubscriptionId"]), sub).is_none());
                }
            }
            "update_order" => {
                let order = json(record.resource_new_value.as_ref());
                for item in order["LineItems"].as_array().unwrap() {
                    let sub = known
                        .get_mut(&key(&item["SubscriptionId"]))
                        .expect("ordered before");
                    assert_eq!(sub.status, "pending");
                    sub.status = Value::from("active");
                }
            }
            "update_subscription" | "convert_trial_subscription" | "upgrade_subscription" => {
                let old = json(record.resource_old_value.as_ref());
                let sub = known
                    .get(&key(&old["Id"]))
                    .unwrap_or_else(|| panic!("{} names an unknown subscription", record.id));
                assert_eq!(sub, &Known::of(&old), "{}", record.id);
                checked += 1;
                if applies {
                    let new = json(record.resource_new_value.as_ref());
                    known.insert(key(&new["Id"]), Known::of(&new));
                }
            }
            _ => {}
        }
        for kv in record.customized_data.iter().flatten() {
            let names_subscription = kv.key == "SubscriptionId" || kv.key == "SourceSubscriptionId";
            if let (true, Some(id), false) = (
                names_subscription,
                &kv.value,
                record.resource_type.as_deref() == Some("transfer"),
            ) {
                let key = (customer.clone(), id.clone());
                assert!(
                    known.contains_key(&key),
                    "{} names {id}, never ordered",
                    record.id
                );
            }
        }
    }
    assert!(checked > 5_000, "{checked}");
    let statuses: BTreeSet<String> = known.values().map(|k| k.status.to_string()).collect();
    for status in ["\"active\"", "\"suspended\"", "\"deleted\""] {
        assert!(statuses.contains(status), "{statuses:?}");
    }
}

#[test]
fn some_sign_ups_failed_before_any_customer_existed() {
    let sign_ups: Vec<_> = STANDARD
        .iter()
        .filter(|r| r.operation_type == "add_customer")
        .collect();
    let failed: Vec<_> = sign_ups
        .iter()
        .filter(|r| r.operation_status.as_deref() == Some("failed"))
        .collect();
    assert!(!failed.is_empty() && failed.len() < 100, "{}", failed.len());
    assert!(
        failed
            .iter()
            .any(|r| r.customer_id.is_none() && r.customer_name.is_none())
    );
    assert!(sign_ups.iter().any(|r| r.customer_id.is_some()));
}

#[test]
fn hostile_customer_names_are_present_and_active() {
    let names: BTreeSet<&str> = STANDARD
        .iter()
        .filter_map(|r| r.customer_name.as_deref())
        .collect();
    for hostile in [
        "Società Caffè \"Il Moro\", S.r.l.",
        "Müller & Söhne GmbH",
        "O'Brien; Partners",
        "株式会社テスト",
        "Ünïcödé Café 🚀 Ltd",
        "=HYPERLINK(\"http://x\")",
        "+39 Pizza",
        "-Minus Corp",
        "@Handle Inc",
        "Tab\tSeparated S.r.l.",
        "Line One\nLine Two S.p.A.",
        "<img src=x onerror=alert(1)>",
        "Robert'); DROP TABLE records;--",
        "Smith, Jones & Co.",
        "Alfa; Beta; Gamma S.n.c.",
    ] {
        assert!(names.contains(hostile), "{hostile:?} has no records");
    }
    assert!(names.iter().any(|n| n.chars().count() >= 280));
    let list = customers(&spec());
    let ids: BTreeSet<&str> = list.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(ids.len(), list.len());
    for id in &ids {
        assert_eq!(id.len(), 36);
        assert!(
            id.chars()
                .all(|c| c == '-' || c.is_ascii_digit() || ('a'..='f').contains(&c))
        );
    }
    for record in STANDARD.iter() {
        let sandbox = record.operation_type.starts_with("delete_");
        if let (Some(id), false) = (
            &record.customer_id,
            sandbox && record.operation_type.ends_with("customer"),
        ) {
            assert!(
                ids.contains(id.as_str()),
                "{} is about an unknown customer",
                record.id
            );
        }
    }
}

#[test]
fn details_carry_every_export_hazard() {
    let values: Vec<&str> = STANDARD
        .iter()
        .flat_map(|r| r.customized_data.iter().flatten())
        .filter_map(|kv| kv.value.as_deref())
        .collect();
    let longest = values.iter().map(|v| v.chars().count()).max().unwrap();
    assert!((40_000..45_000).contains(&longest), "{longest}");
    let has = |test: &dyn Fn(&str) -> bool, what: &str| {
        assert!(values.iter().any(|v| test(v)), "no detail value {what}");
    };
    for lead in ['=', '+', '-', '@', '\t'] {
        has(&|v| v.starts_with(lead), &format!("starting with {lead:?}"));
    }
    for inner in ['\n', '\r', '\t', '"', ',', ';', '🚀', '株'] {
        has(&|v| v.contains(inner), &format!("containing {inner:?}"));
    }
    let users: BTreeSet<String> = partner_users(&spec()).into_iter().collect();
    for record in STANDARD.iter() {
        if let Some(upn) = &record.user_principal_name {
            assert!(users.contains(upn), "{upn}");
        }
    }
}

#[test]
fn generation_streams_instead_of_building_everything_first() {
    let huge = DemoSpec {
        records: 10_000_000,
        ..spec()
    };
    let mut records = generate(&huge);
    assert_eq!(records.len(), 10_000_000);
    let first: Vec<_> = records.by_ref().take(10).collect();
    assert_eq!(first.len(), 10);
    assert_eq!(records.len(), 9_999_990);
    assert!(
        first
            .windows(2)
            .all(|w| w[0].operation_date < w[1].operation_date)
    );
}

#[test]
fn degenerate_specs_do_not_panic() {
    let empty = DemoSpec {
        records: 0,
        ..spec()
    };
    assert_eq!(generate(&empty).count(), 0);
    let no_customers = DemoSpec {
        records: 500,
        customers: 0,
        ..spec()
    };
    let records: Vec<_> = generate(&no_customers).collect();
    assert_eq!(records.len(), 500);
    assert!(
        records
            .iter()
            .all(|r| r.customer_id.is_none() || r.operation_type.starts_with("delete_"))
    );
}

/// The JSON kinds a Partner Center SDK model's members have, as its deserializer needs them.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Text,
    Number,
    Bool,
    Object,
    Array,
    /// A string or null (a nullable member).
    TextOrNull,
    /// An object or null (a nullable member).
    ObjectOrNull,
}

fn kind_of(value: &Value, want: Kind) -> bool {
    match want {
        Kind::Text => value.is_string(),
        Kind::Number => value.is_number(),
        Kind::Bool => value.is_boolean(),
        Kind::Object => value.is_object(),
        Kind::Array => value.is_array(),
        Kind::TextOrNull => value.is_string() || value.is_null(),
        Kind::ObjectOrNull => value.is_object() || value.is_null(),
    }
}

/// Members Partner Center's own models (Order, Subscription, Customer, CustomerBillingProfile)
/// carry, with their kinds: tools deserialize resourceNewValue into those models.
fn model(object_type: &str) -> Option<&'static [(&'static str, Kind)]> {
    use Kind::*;
    Some(match object_type {
        "Order" => &[
            ("Id", Text),
            ("ReferenceCustomerId", Text),
            ("BillingCycle", Text),
            ("LineItems", Array),
            ("CreationDate", Text),
            ("Attributes", Object),
        ],
        "Subscription" => &[
            ("Id", Text),
            ("OfferId", Text),
            ("OfferName", Text),
            ("FriendlyName", Text),
            ("Quantity", Number),
            ("UnitType", Text),
            ("CreationDate", Text),
            ("EffectiveStartDate", Text),
            ("CommitmentEndDate", Text),
            ("Status", Text),
            ("AutoRenewEnabled", Bool),
            ("BillingCycle", Text),
            ("OrderId", Text),
            ("Attributes", Object),
        ],
        "Customer" => &[
            ("CompanyProfile", Object),
            ("BillingProfile", ObjectOrNull),
            ("RelationshipToPartner", Text),
            ("Attributes", Object),
        ],
        "CustomerBillingProfile" => &[
            ("FirstName", Text),
            ("LastName", Text),
            ("Email", Text),
            ("Culture", Text),
            ("Language", Text),
            ("CompanyName", Text),
            ("DefaultAddress", Object),
            ("Attributes", Object),
        ],
        _ => return None,
    })
}

/// Partner Center's tools deserialize resourceNewValue / resourceOldValue into its own models:
/// the demo's orders, subscriptions, customers and billing profiles carry those models' members
/// with their kinds, an order's line items theirs, and every resource its ObjectType.
#[test]
fn resource_values_have_partner_centers_model_shapes() {
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for record in generate(&spec()).take(20_000) {
        for value in [&record.resource_new_value, &record.resource_old_value] {
            let parsed = value
                .as_deref()
                .and_then(|t| serde_json::from_str::<Value>(t).ok());
            let Some(object) = parsed.as_ref().and_then(Value::as_object) else {
                continue;
            };
            let Some(object_type) = object
                .get("Attributes")
                .and_then(|a| a.get("ObjectType"))
                .and_then(Value::as_str)
            else {
                continue;
            };
            let Some(members) = model(object_type) else {
                continue;
            };
            *seen.entry(object_type.to_owned()).or_default() += 1;
            for (name, want) in members {
                let got = object.get(*name);
                assert!(
                    got.is_some_and(|v| kind_of(v, *want)),
                    "{} ({object_type}): {name} should be {want:?}, is {got:?}",
                    record.id
                );
            }
            for line in object
                .get("LineItems")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                for (name, want) in [
                    ("LineItemNumber", Kind::Number),
                    ("OfferId", Kind::Text),
                    ("SubscriptionId", Kind::TextOrNull),
                    ("FriendlyName", Kind::Text),
                    ("Quantity", Kind::Number),
                ] {
                    let got = line.get(name);
                    assert!(
                        got.is_some_and(|v| kind_of(v, want)),
                        "{}: line item {name} should be {want:?}, is {got:?}",
                        record.id
                    );
                }
            }
        }
    }
    for object_type in [
        "Order",
        "Subscription",
        "Customer",
        "CustomerBillingProfile",
    ] {
        assert!(
            seen.get(object_type).copied().unwrap_or(0) > 0,
            "no {object_type} in {seen:?}"
        );
    }
}
