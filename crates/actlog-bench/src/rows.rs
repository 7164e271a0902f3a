//! The rows every benchmark feeds both sides, in three shapes (issue 11: a figure must hold on
//! every realistic row shape): PRODUCT §8's "realistic records with ≈300-byte details"
//! (compact), the demo's richer records (≈1.7 KB), and large records (≈2 KB of details, 30
//! more customizedData entries, customer names over 100 characters).
//!
//! Compact rows are made one at a time from their index alone (a splitmix64 stream per row),
//! so the same `RowSpec` always gives the same rows, byte for byte, and millions of them cost
//! no memory. Their customers and partner users are the demo's (including the names that break
//! naive CSV writers), their operations a CSP's usual mix, their dates ascending over the
//! demo's six-month window. The details (resourceOldValue + resourceNewValue +
//! customizedData) are filled with realistic fields up to the requested size.

use actlog_demo::{DemoCustomer, DemoSpec};
use actlog_domain::{AuditRecord, KeyValue, OperationDate};
use jiff::Timestamp;

/// What the rows look like.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Shape {
    /// Records with about `--details-bytes` of details (PRODUCT §8's benchmark rows).
    Compact,
    /// The demo generator's records (≈1.7 KB each, every operation type).
    Demo,
    /// Records with ≈2 KB of details, many customizedData entries and long customer names.
    Large,
}

impl Shape {
    /// Every shape, as `all` runs them.
    pub const ALL: [Shape; 3] = [Shape::Demo, Shape::Compact, Shape::Large];
}

/// Bytes of details per large record.
pub const LARGE_DETAILS_BYTES: usize = 2_048;
/// customizedData entries a large record has beyond its operation's own.
const LARGE_EXTRA_CUSTOMIZED: usize = 30;
/// What a large record's customer name has after the demo customer's name.
const LARGE_NAME_SUFFIX: &str = " — Divisione Servizi Cloud, Licenze e Sicurezza per \
    l'Italia Settentrionale, sede legale di Reggio nell'Emilia";

/// Which rows to make.
#[derive(Debug, Clone)]
pub struct RowSpec {
    pub partner: String,
    /// The newest record's time; the oldest is the demo window (183 days) before.
    pub now: Timestamp,
    pub records: usize,
    pub shape: Shape,
    /// Target bytes of details per compact record.
    pub details_bytes: usize,
}

impl RowSpec {
    pub fn new(records: usize, shape: Shape, details_bytes: usize) -> RowSpec {
        RowSpec {
            partner: actlog_demo::DEMO_PARTNER_ID.to_owned(),
            now: Timestamp::now(),
            records,
            shape,
            details_bytes,
        }
    }

    fn demo(&self) -> DemoSpec {
        let mut spec = DemoSpec::standard(self.now);
        spec.partner_id = self.partner.clone();
        spec.records = self.records;
        spec
    }

    /// The customer the filtered views ask for: the demo's busiest.
    pub fn customer(&self) -> String {
        actlog_demo::customers(&self.demo())[0].id.clone()
    }

    /// The rows, oldest first, made as they are consumed.
    pub fn rows(&self) -> Box<dyn Iterator<Item = AuditRecord> + Send> {
        match self.shape {
            Shape::Demo => Box::new(actlog_demo::generate(&self.demo())),
            Shape::Compact | Shape::Large => Box::new(Compact::new(self)),
        }
    }

    /// A line saying what the rows are.
    pub fn describe(&self) -> String {
        match self.shape {
            Shape::Demo => format!("{} demo records (≈1.7 KB each)", self.records),
            Shape::Compact => format!(
                "{} records with ≈{}-byte details",
                self.records, self.details_bytes
            ),
            Shape::Large => format!(
                "{} large records (≈{LARGE_DETAILS_BYTES}-byte details, \
                 {LARGE_EXTRA_CUSTOMIZED}+ customizedData entries, long names)",
                self.records
            ),
        }
    }
}

/// Bytes of details a record carries: old and new resource values and customizedData's JSON.
pub fn details_len(record: &AuditRecord) -> usize {
    let value = |v: &Option<String>| v.as_ref().map_or(0, String::len);
    value(&record.resource_old_value)
        + value(&record.resource_new_value)
        + record.customized_data_json().map_or(0, |j| j.len())
}

/// Operation types by weight (per 100), with their resource type: a CSP's usual mix.
const OPERATIONS: &[(&str, &str, u64)] = &[
    ("update_subscription", "subscription", 24),
    ("create_order", "order", 18),
    ("reset_customer_user_password", "customer_user", 12),
    ("create_customer_user", "customer_user", 10),
    ("update_customer_user_licenses", "license", 10),
    ("update_order", "order", 6),
    ("upgrade_subscription", "subscription", 5),
    ("convert_trial_subscription", "subscription", 5),
    (
        "granular_admin_access_assignment_created",
        "granular_admin_access_assignment",
        5,
    ),
    ("add_customer", "customer", 3),
    ("update_customer_billing_profile", "customer", 2),
];

const OFFERS: &[(&str, &str)] = &[
    ("CFQ7TTC0LH18:0001", "Microsoft 365 Business Basic"),
    ("CFQ7TTC0LDPB:0001", "Microsoft 365 Business Standard"),
    ("CFQ7TTC0LFLZ:0002", "Microsoft 365 E3"),
    ("CFQ7TTC0LH16:0001", "Exchange Online (Plan 1)"),
    ("DZH318Z0BQ4B:0001", "Dynamics 365 Sales Professional"),
    ("DZH318Z0BXWC:0002", "Power BI Pro"),
    ("DZH318Z0BPS6:0001", "Teams Essentials"),
];

/// Applications that act in a Partner Center log: the portal, and two integrations.
const APPLICATIONS: &[&str] = &[
    "4990cffe-04e8-4e8b-808a-1175604b879f",
    "a0c73c16-a7e3-4564-9a95-2bdf47383716",
    "7f8e3b2a-91c4-4d5e-b6a7-0c1d2e3f4a5b",
];

const NOTES: &str = "Rinnovo annuale concordato con il referente IT del cliente; fatturazione \
    mensile su ordine d'acquisto, licenze aggiuntive per la nuova sede di Bologna, verifica \
    dei ruoli GDAP richiesta dall'amministratore prima dell'attivazione. ";

struct Compact {
    partner: String,
    customers: Vec<DemoCustomer>,
    users: Vec<String>,
    start: i128,
    span: i128,
    records: usize,
    details_bytes: usize,
    /// The large shape: long names, many customizedData entries.
    large: bool,
    next: usize,
}

impl Compact {
    fn new(spec: &RowSpec) -> Compact {
        let demo = spec.demo();
        let now = spec.now.as_nanosecond() / 100;
        let span = i128::from(actlog_demo::WINDOW_DAYS) * 86_400 * 10_000_000;
        Compact {
            partner: spec.partner.clone(),
            customers: actlog_demo::customers(&demo),
            users: actlog_demo::partner_users(&demo),
            start: now - span,
            span,
            records: spec.records,
            large: spec.shape == Shape::Large,
            details_bytes: if spec.shape == Shape::Large {
                LARGE_DETAILS_BYTES
            } else {
                spec.details_bytes
            },
            next: 0,
        }
    }

    fn record(&self, i: usize) -> AuditRecord {
        let mut rng = Rng(0xB3C4_5EED ^ (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
        let n = self.records.max(1) as i128;
        let step = self.span / n;
        let ticks = self.start + self.span * (i as i128 + 1) / n
            - rng.below(step.max(1) as u64 / 2) as i128;
        // Skewed towards the first customers, as the demo's activity is.
        let c = (rng.unit().powi(2) * self.customers.len() as f64) as usize;
        let customer = &self.customers[c.min(self.customers.len() - 1)];
        let (operation, resource) = pick_operation(&mut rng);
        let status = match rng.below(100) {
            0..=2 => "failed",
            3 if resource == "order" => "progress",
            _ => "succeeded",
        };
        let extra = if self.large {
            LARGE_EXTRA_CUSTOMIZED
        } else {
            0
        };
        let (customized, old_value, new_value) =
            details(&mut rng, operation, customer, self.details_bytes, extra);
        let mut customer_name = customer.name.clone();
        if self.large {
            customer_name.push_str(LARGE_NAME_SUFFIX);
        }
        AuditRecord {
            id: format!("{}_{operation}_{ticks}_{i}", customer.id),
            partner_id: self.partner.clone(),
            customer_id: Some(customer.id.clone()),
            customer_name: Some(customer_name),
            user_principal_name: Some(
                self.users[rng.below(self.users.len() as u64) as usize].clone(),
            ),
            application_id: Some(
                APPLICATIONS[rng.below(APPLICATIONS.len() as u64) as usize].to_owned(),
            ),
            resource_type: Some(resource.to_owned()),
            resource_old_value: old_value,
            resource_new_value: Some(new_value),
            operation_type: operation.to_owned(),
            operation_date: OperationDate::from_ticks(ticks as i64),
            operation_status: Some(status.to_owned()),
            customized_data: Some(customized),
            session_id: Some(rng.guid()),
            original_correlation_id: Some(rng.guid()),
            attributes: Default::default(),
            extensions: Default::default(),
        }
    }
}

impl Iterator for Compact {
    type Item = AuditRecord;

    fn next(&mut self) -> Option<AuditRecord> {
        if self.next == self.records {
            return None;
        }
        self.next += 1;
        Some(self.record(self.next - 1))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = self.records - self.next;
        (left, Some(left))
    }
}

fn pick_operation(rng: &mut Rng) -> (&'static str, &'static str) {
    let total: u64 = OPERATIONS.iter().map(|o| o.2).sum();
    let mut roll = rng.below(total);
    for &(operation, resource, weight) in OPERATIONS {
        if roll < weight {
            return (operation, resource);
        }
        roll -= weight;
    }
    unreachable!("the roll is below the total weight")
}

/// customizedData, resourceOldValue and resourceNewValue of one record, about `budget` bytes
/// in all: the resource's own fields, then its optional ones while they fit, then a note;
/// `extra` more customizedData entries (attributes an integration adds) come first.
fn details(
    rng: &mut Rng,
    operation: &str,
    customer: &DemoCustomer,
    budget: usize,
    extra: usize,
) -> (Vec<KeyValue>, Option<String>, String) {
    let kv = |key: &str, value: String| KeyValue {
        key: key.to_owned(),
        value: Some(value),
    };
    let (mut customized, fields, optional) = match operation {
        "update_subscription" | "upgrade_subscription" | "convert_trial_subscription" => {
            let (offer_id, offer) = OFFERS[rng.below(OFFERS.len() as u64) as usize];
            let (id, quantity) = (subscription_id(rng, customer), 1 + rng.below(120));
            (
                vec![
                    kv("SubscriptionId", id.clone()),
                    kv("Quantity", quantity.to_string()),
                ],
                vec![
                    ("id", json(&id)),
                    ("offerId", json(offer_id)),
                    ("friendlyName", json(offer)),
                    ("quantity", quantity.to_string()),
                    ("status", json("active")),
                ],
                vec![
                    ("billingCycle", json("monthly")),
                    ("termDuration", json("P1Y")),
                    ("autoRenewEnabled", "true".to_owned()),
                    ("isTrial", "false".to_owned()),
                    ("commitmentEndDate", json("2026-03-31T00:00:00Z")),
                ],
            )
        }
        "create_order" | "update_order" => {
            let (offer_id, offer) = OFFERS[rng.below(OFFERS.len() as u64) as usize];
            let quantity = 1 + rng.below(120);
            (
                vec![
                    kv("OfferName", offer.to_owned()),
                    kv("Quantity", quantity.to_string()),
                ],
                vec![
                    ("id", json(&rng.guid())),
                    ("referenceCustomerId", json(&customer.id)),
                    (
                        "lineItems",
                        format!(
                            r#"[{{"lineItemNumber":0,"offerId":{},"quantity":{quantity}}}]"#,
                            json(offer_id)
                        ),
                    ),
                    ("status", json("completed")),
                ],
                vec![
                    ("billingCycle", json("monthly")),
                    ("currencyCode", json("EUR")),
                    ("creationDate", json("2025-03-14T09:26:53.589Z")),
                    (
                        "purchaseOrderNumber",
                        json(&format!("PO-{:06}", rng.below(1_000_000))),
                    ),
                ],
            )
        }
        "reset_customer_user_password"
        | "create_customer_user"
        | "update_customer_user_licenses" => {
            let user = format!("user{}@{}", rng.below(400), customer.domain);
            (
                vec![kv("UserPrincipalName", user.clone())],
                vec![
                    ("id", json(&rng.guid())),
                    ("userPrincipalName", json(&user)),
                    ("usageLocation", json("IT")),
                ],
                vec![
                    ("userDomainType", json("none")),
                    ("state", json("active")),
                    ("softDeletionTime", "null".to_owned()),
                    ("lastDirectorySyncTime", "null".to_owned()),
                ],
            )
        }
        "granular_admin_access_assignment_created" => (
            vec![kv("AdminRelationshipId", rng.guid())],
            vec![
                ("id", json(&rng.guid())),
                (
                    "accessContainer",
                    format!(
                        r#"{{"accessContainerId":{},"accessContainerType":"securityGroup"}}"#,
                        json(&rng.guid())
                    ),
                ),
                (
                    "accessDetails",
                    r#"{"unifiedRoles":[{"roleDefinitionId":"729827e3-9c14-49f7-bb1b-9608f156bbb8"}]}"#
                        .to_owned(),
                ),
                ("status", json("active")),
            ],
            vec![("createdDateTime", json("2025-03-14T09:26:53.589Z"))],
        ),
        _ => (
            vec![kv("CustomerName", customer.name.clone())],
            vec![
                ("id", json(&customer.id)),
                ("companyName", json(&customer.name)),
                ("domain", json(&customer.domain)),
            ],
            vec![
                ("country", json("IT")),
                ("culture", json("it-IT")),
                ("language", json("it")),
                ("city", json("Milano")),
            ],
        ),
    };
    for k in 0..extra {
        let from = rng.below((NOTES.len() / 2) as u64) as usize;
        let from = NOTES[from..].find(' ').map_or(0, |space| from + space + 1);
        let words: String = NOTES[from..].chars().take(12).collect();
        customized.push(kv(&format!("Attribute{k:02}"), words.trim_end().to_owned()));
    }
    let customized_len = serde_json::to_string(&customized).map_or(0, |j| j.len());
    let budget = budget.saturating_sub(customized_len);
    let mut value = String::from("{");
    let push = |value: &mut String, key: &str, field: &str| {
        if value.len() > 1 {
            value.push(',');
        }
        value.push_str(&format!(r#""{key}":{field}"#));
    };
    for (key, field) in fields {
        push(&mut value, key, &field);
    }
    for (key, field) in optional {
        if value.len() + key.len() + field.len() + 5 <= budget {
            push(&mut value, key, &field);
        }
    }
    let room = budget.saturating_sub(value.len() + 1 + r#","notes":"""#.len());
    if room >= 8 {
        // From the start of a word, and as long as the budget allows.
        let from = rng.below((NOTES.len() / 2) as u64) as usize;
        let from = NOTES[from..].find(' ').map_or(0, |space| from + space + 1);
        let note: String = NOTES.chars().cycle().skip(from).take(room).collect();
        push(&mut value, "notes", &json(note.trim_end()));
    }
    value.push('}');
    (customized, None, value)
}

fn json(text: &str) -> String {
    serde_json::to_string(text).expect("strings serialize")
}

/// splitmix64: small, fast, and the same on every machine.
struct Rng(u64);

/// One of `customer`'s subscriptions: each customer has a pool of its own (1 to 400, fixed by
/// its id), and its subscription changes speak of them again and again, as a real customer's
/// do, so the busiest customers have several pages of them.
fn subscription_id(rng: &mut Rng, customer: &DemoCustomer) -> String {
    let seed = customer.id.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    });
    let pool = 1 + seed % 400;
    Rng(seed ^ rng.below(pool)).guid()
}

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn guid(&mut self) -> String {
        let (a, b) = (self.next(), self.next());
        format!(
            "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xffff,
            a & 0xfff,
            0x8000 | (b >> 48) & 0x3fff,
            b & 0xffff_ffff_ffff
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compact_rows_have_the_asked_details_and_are_deterministic() {
        let mut spec = RowSpec::new(2_000, Shape::Compact, 300);
        spec.now = "2025-06-01T00:00:00Z".parse().unwrap();
        let rows: Vec<_> = spec.rows().collect();
        assert_eq!(rows, spec.rows().collect::<Vec<_>>());
        let average = rows.iter().map(details_len).sum::<usize>() / rows.len();
        assert!((280..=320).contains(&average), "{average}");
        assert!(
            rows.windows(2)
                .all(|w| w[0].operation_date <= w[1].operation_date)
        );
        let ids: std::collections::HashSet<_> = rows.iter().map(|r| &r.id).collect();
        assert_eq!(ids.len(), rows.len());
    }

    #[test]
    fn large_rows_have_2_kb_of_details_many_entries_and_long_names() {
        let mut spec = RowSpec::new(500, Shape::Large, 300);
        spec.now = "2025-06-01T00:00:00Z".parse().unwrap();
        let rows: Vec<_> = spec.rows().collect();
        assert_eq!(rows.len(), 500);
        let average = rows.iter().map(details_len).sum::<usize>() / rows.len();
        assert!((1_900..=2_200).contains(&average), "{average}");
        for row in &rows {
            let entries = row.customized_data.as_ref().map_or(0, Vec::len);
            assert!(entries > LARGE_EXTRA_CUSTOMIZED, "{entries} entries");
            let name = row.customer_name.as_deref().unwrap_or("");
            assert!(name.chars().count() > 100, "{name}");
        }
    }
}
