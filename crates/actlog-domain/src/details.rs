//! What one record says, read for people: the line items of an order, the fields that changed
//! between the old and the new value, and nothing lost on the way (values that are not JSON
//! objects are kept as text).
//!
//! Partner Center sends `resourceOldValue` / `resourceNewValue` as JSON serialized in a string;
//! the shapes differ per resource type and keep growing, so this reads them generically: a
//! `LineItems` list wherever it is, and every scalar leaf by its path.

use serde_json::{Map, Value};

use crate::record::AuditRecord;

/// Past this many leaves a value is summarized by its first ones; the raw JSON stays one
/// click away on the page.
const MAX_LEAVES: usize = 200;
/// Subtrees that only repeat what the record already says (links, etags).
const NOISE: [&str; 2] = ["Links", "Attributes"];

/// One line of an order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LineItem {
    /// `FriendlyName`, else `OfferName`, else `OfferId`.
    pub product: Option<String>,
    pub offer_id: Option<String>,
    pub quantity: Option<String>,
    pub subscription_id: Option<String>,
}

/// One field of the resource, before and after.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// The field's path, such as `Quantity` or `BillingProfile.Address.City`.
    pub field: String,
    pub old: Option<String>,
    pub new: Option<String>,
}

impl Change {
    pub fn changed(&self) -> bool {
        self.old != self.new
    }
}

/// A record's details, ready to show.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Details {
    pub line_items: Vec<LineItem>,
    /// Every leaf of the old and new values (the line items excepted when shown above):
    /// the new value's fields by name, then those only the old value had.
    pub changes: Vec<Change>,
    /// Whether `changes` was cut at [`MAX_LEAVES`].
    pub changes_cut: bool,
    /// A value that is not a JSON object, as it was sent.
    pub old_text: Option<String>,
    pub new_text: Option<String>,
}

impl Details {
    pub fn of(record: &AuditRecord) -> Details {
        let old = parse_object(record.resource_old_value.as_deref());
        let new = parse_object(record.resource_new_value.as_deref());
        let mut details = Details::default();
        let (old_object, new_object) = match (old, new) {
            (Parsed::Text(t), other) => {
                details.old_text = Some(t);
                (None, other.into_object(&mut details.new_text))
            }
            (other, Parsed::Text(t)) => {
                details.new_text = Some(t);
                (other.into_object(&mut details.old_text), None)
            }
            (old, new) => (
                old.into_object(&mut details.old_text),
                new.into_object(&mut details.new_text),
            ),
        };
        details.line_items = new_object
            .as_ref()
            .or(old_object.as_ref())
            .map(line_items_of)
            .unwrap_or_default();
        if details.line_items.is_empty() {
            details.line_items = line_items_from_customized(record);
        }
        let skip_line_items = !details.line_items.is_empty();
        let mut old_leaves = Vec::new();
        let mut new_leaves = Vec::new();
        if let Some(object) = &old_object {
            leaves(object, "", skip_line_items, &mut old_leaves);
        }
        if let Some(object) = &new_object {
            leaves(object, "", skip_line_items, &mut new_leaves);
        }
        let (changes, cut) = pair(old_leaves, new_leaves);
        details.changes = changes;
        details.changes_cut = cut;
        details
    }
}

enum Parsed {
    Absent,
    Object(Map<String, Value>),
    Text(String),
}

impl Parsed {
    fn into_object(self, text: &mut Option<String>) -> Option<Map<String, Value>> {
        match self {
            Parsed::Absent => None,
            Parsed::Object(o) => Some(o),
            Parsed::Text(t) => {
                *text = Some(t);
                None
            }
        }
    }
}

fn parse_object(value: Option<&str>) -> Parsed {
    let Some(text) = value.filter(|t| !t.trim().is_empty()) else {
        return Parsed::Absent;
    };
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(object)) => Parsed::Object(object),
        Ok(Value::Null) => Parsed::Absent,
        _ => Parsed::Text(text.to_owned()),
    }
}

/// A member by name, ignoring case (Partner Center writes PascalCase, some tools camelCase).
pub(crate) fn member<'a>(object: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    object
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v)
}

/// A scalar as text; `None` for null, objects and arrays.
pub(crate) fn scalar(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

pub(crate) fn text_member(object: &Map<String, Value>, name: &str) -> Option<String> {
    member(object, name).and_then(scalar)
}

fn line_items_of(object: &Map<String, Value>) -> Vec<LineItem> {
    let Some(Value::Array(items)) = member(object, "LineItems") else {
        return Vec::new();
    };
    items
        .iter()
        .filter_map(Value::as_object)
        .map(|item| LineItem {
            product: text_member(item, "FriendlyName")
                .or_else(|| text_member(item, "OfferName"))
                .or_else(|| text_member(item, "OfferId")),
            offer_id: text_member(item, "OfferId"),
            quantity: text_member(item, "Quantity"),
            subscription_id: text_member(item, "SubscriptionId"),
        })
        .collect()
}

/// Orders recorded without a resource value still list their lines in customizedData
/// (`OfferId-0`, `SubscriptionName-0`, `Quantity-0`, `SubscriptionId-0`, …).
fn line_items_from_customized(record: &AuditRecord) -> Vec<LineItem> {
    let Some(data) = &record.customized_data else {
        return Vec::new();
    };
    let mut items: Vec<LineItem> = Vec::new();
    for kv in data {
        let Some((name, n)) = kv.key.rsplit_once('-') else {
            continue;
        };
        let Ok(n) = n.parse::<usize>() else { continue };
        if n >= 1000 {
            continue;
        }
        let slot = match name {
            "OfferId" | "SubscriptionName" | "Quantity" | "SubscriptionId" => {
                if items.len() <= n {
                    items.resize(n + 1, LineItem::default());
                }
                &mut items[n]
            }
            _ => continue,
        };
        let value = kv.value.clone();
        match name {
            "OfferId" => slot.offer_id = value,
            "SubscriptionName" => slot.product = value,
            "Quantity" => slot.quantity = value,
            _ => slot.subscription_id = value,
        }
    }
    for item in &mut items {
        if item.product.is_none() {
            item.product = item.offer_id.clone();
        }
    }
    items.retain(|i| *i != LineItem::default());
    items
}

fn leaves(
    object: &Map<String, Value>,
    prefix: &str,
    skip_line_items: bool,
    out: &mut Vec<(String, Option<String>)>,
) {
    for (key, value) in object {
        if out.len() > MAX_LEAVES {
            return;
        }
        if NOISE.iter().any(|n| n.eq_ignore_ascii_case(key))
            || (skip_line_items && prefix.is_empty() && key.eq_ignore_ascii_case("LineItems"))
        {
            continue;
        }
        let path = if prefix.is_empty() {
            key.clone()
        } else {
            format!("{prefix}.{key}")
        };
        leaf(value, path, skip_line_items, out);
    }
}

fn leaf(value: &Value, path: String, skip: bool, out: &mut Vec<(String, Option<String>)>) {
    match value {
        Value::Object(object) => leaves(object, &path, skip, out),
        Value::Array(items) if items.is_empty() => out.push((path, Some("[]".to_owned()))),
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                leaf(item, format!("{path}[{i}]"), skip, out);
            }
        }
        Value::Null => out.push((path, None)),
        other => out.push((path, scalar(other))),
    }
}

/// Old and new leaves side by side: the new value's order, then fields only the old one had.
fn pair(
    old: Vec<(String, Option<String>)>,
    new: Vec<(String, Option<String>)>,
) -> (Vec<Change>, bool) {
    let mut old: Vec<Option<(String, Option<String>)>> = old.into_iter().map(Some).collect();
    let mut changes = Vec::with_capacity(new.len());
    for (field, value) in new {
        let before = old
            .iter_mut()
            .find(|o| o.as_ref().is_some_and(|(f, _)| *f == field))
            .and_then(Option::take)
            .and_then(|(_, v)| v);
        changes.push(Change {
            field,
            old: before,
            new: value,
        });
    }
    changes.extend(old.into_iter().flatten().map(|(field, value)| Change {
        field,
        old: value,
        new: None,
    }));
    let cut = changes.len() > MAX_LEAVES;
    changes.truncate(MAX_LEAVES);
    (changes, cut)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::KeyValue;

    fn record(old: Option<&str>, new: Option<&str>) -> AuditRecord {
        let mut r: AuditRecord = serde_json::from_value(serde_json::json!({
            "id": "r1", "partnerId": "p", "operationType": "create_order",
            "operationDate": "2026-01-02T03:04:05Z",
        }))
        .unwrap();
        r.resource_old_value = old.map(str::to_owned);
        r.resource_new_value = new.map(str::to_owned);
        r
    }

    #[test]
    fn an_order_lists_its_line_items_and_not_them_again_as_changes() {
        let new = r#"{"Id":"o1","LineItems":[
            {"LineItemNumber":0,"OfferId":"OFF-A","SubscriptionId":"S-A","FriendlyName":"Office 365 E3","Quantity":25,
             "Links":{"Subscription":{"Uri":"/x"}}},
            {"LineItemNumber":1,"OfferId":"OFF-B","OfferName":"Azure plan","Quantity":1}],
            "Status":"completed","Attributes":{"ObjectType":"Order"}}"#;
        let d = Details::of(&record(None, Some(new)));
        assert_eq!(d.line_items.len(), 2);
        assert_eq!(d.line_items[0].product.as_deref(), Some("Office 365 E3"));
        assert_eq!(d.line_items[0].quantity.as_deref(), Some("25"));
        assert_eq!(d.line_items[0].subscription_id.as_deref(), Some("S-A"));
        assert_eq!(d.line_items[1].product.as_deref(), Some("Azure plan"));
        assert_eq!(d.line_items[1].subscription_id, None);
        let fields: Vec<&str> = d.changes.iter().map(|c| c.field.as_str()).collect();
        assert_eq!(fields, ["Id", "Status"]);
        assert!(d.changes.iter().all(|c| c.old.is_none()));
    }

    #[test]
    fn old_and_new_values_pair_by_field_and_keep_removed_ones() {
        let old = r#"{"Id":"s1","Quantity":10,"Status":"active","Gone":"x","Nested":{"A":1}}"#;
        let new = r#"{"Id":"s1","Quantity":12,"Status":"active","Nested":{"A":2},"Tags":[]}"#;
        let d = Details::of(&record(Some(old), Some(new)));
        let shown: Vec<(&str, Option<&str>, Option<&str>, bool)> = d
            .changes
            .iter()
            .map(|c| {
                (
                    c.field.as_str(),
                    c.old.as_deref(),
                    c.new.as_deref(),
                    c.changed(),
                )
            })
            .collect();
        assert_eq!(
            shown,
            [
                ("Id", Some("s1"), Some("s1"), false),
                ("Nested.A", Some("1"), Some("2"), true),
                ("Quantity", Some("10"), Some("12"), true),
                ("Status", Some("active"), Some("active"), false),
                ("Tags", None, Some("[]"), true),
                ("Gone", Some("x"), None, true),
            ]
        );
    }

    #[test]
    fn values_that_are_not_objects_are_kept_as_text() {
        let d = Details::of(&record(Some("plain old"), Some("[1,2]")));
        assert_eq!(d.old_text.as_deref(), Some("plain old"));
        assert_eq!(d.new_text.as_deref(), Some("[1,2]"));
        assert!(d.changes.is_empty());
        let d = Details::of(&record(None, Some("{broken")));
        assert_eq!(d.new_text.as_deref(), Some("{broken"));
    }

    #[test]
    fn an_order_without_values_takes_its_lines_from_customized_data() {
        let mut r = record(None, None);
        let kv = |k: &str, v: Option<&str>| KeyValue {
            key: k.to_owned(),
            value: v.map(str::to_owned),
        };
        r.customized_data = Some(vec![
            kv("OrderId", Some("o1")),
            kv("OfferId-0", Some("OFF-A")),
            kv("SubscriptionName-0", Some("Teams Essentials")),
            kv("Quantity-0", Some("3")),
            kv("OfferId-1", Some("OFF-B")),
            kv("SubscriptionId-1", None),
            kv("Quantity-1", Some("1")),
        ]);
        let d = Details::of(&r);
        assert_eq!(d.line_items.len(), 2);
        assert_eq!(d.line_items[0].product.as_deref(), Some("Teams Essentials"));
        assert_eq!(d.line_items[1].product.as_deref(), Some("OFF-B"));
        assert_eq!(d.line_items[1].quantity.as_deref(), Some("1"));
    }

    #[test]
    fn huge_values_are_cut_and_say_so() {
        let items: Vec<String> = (0..500).map(|i| format!("\"k{i}\":{i}")).collect();
        let new = format!("{{{}}}", items.join(","));
        let d = Details::of(&record(None, Some(&new)));
        assert_eq!(d.changes.len(), MAX_LEAVES);
        assert!(d.changes_cut);
    }
}
