//! Deterministic data sets: varied, realistic records from a seed, without a randomness crate.
//!
//! The values are chosen to break careless backends: customer ids that differ only in ASCII case
//! (`CUST-Alpha` / `cust-alpha`) or only in a non-ASCII letter's case (`ÀBC-001` / `àbc-001`,
//! which ASCII folding must keep apart), names that need Unicode folding (`SOCIETÀ` / `società`,
//! `İ`, a final `Σ`), absent and empty values, unknown operation and resource types, dates that
//! tie to the tick, and details of realistic size.

use actlog_domain::{AuditRecord, KeyValue, OperationDate};
use jiff::Timestamp;

/// splitmix64: tiny, fast and good enough to vary test data reproducibly.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n > 0`).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }

    /// True `percent` times in a hundred.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    pub fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len() as u64) as usize]
    }
}

/// Ticks per minute.
pub const MINUTE: i64 = 60 * 10_000_000;
/// Ticks per day.
pub const DAY: i64 = 24 * 60 * MINUTE;

/// The first instant of every data set: 2025-03-01T00:00:00Z.
pub fn base_date() -> OperationDate {
    let ts: Timestamp = "2025-03-01T00:00:00Z".parse().expect("a valid instant");
    OperationDate::from_timestamp(ts).expect("within range")
}

/// Customers as (customerId, customerName); see the module doc for why these.
const CUSTOMERS: [(Option<&str>, Option<&str>); 14] = [
    (
        Some("c0ffee00-0000-4000-8000-000000000001"),
        Some("Società Caffè \"Il Moro\", S.r.l."),
    ),
    (Some("CUST-Alpha"), Some("SOCIETÀ ALPINA S.P.A.")),
    (Some("cust-alpha"), Some("società alpina s.p.a.")),
    (Some("ÀBC-001"), Some("Àbc Ltd")),
    (Some("àbc-001"), Some("àbc ltd")),
    (
        Some("42f1e0b0-77c1-4c11-9a3e-5d0b9f1e2a10"),
        Some("Contoso Ltd."),
    ),
    (Some("fabrikam-01"), Some("Fabrikam, Inc.")),
    (Some("jp-01"), Some("株式会社テスト")),
    (Some("emoji-01"), Some("🍕 Pizza & Co 👩‍👩‍👧‍👦")),
    (Some("gr-01"), Some("ΟΔΟΣ ΣΟΦΙΑΣ")),
    (Some("tr-01"), Some("İSTANBUL Ticaret")),
    (Some("de-01"), Some("Straße GmbH")),
    (Some("blank-01"), Some("")),
    (None, None),
];

const OPERATIONS: [&str; 10] = [
    "create_order",
    "update_subscription",
    "add_customer",
    "reset_customer_user_password",
    "create_referral",
    "update_customer_user_licenses",
    "Create_Order",
    "future_operation_v9",
    "ünknown_öperation",
    "delete_customer_user",
];

const RESOURCES: [Option<&str>; 7] = [
    Some("order"),
    Some("subscription"),
    Some("customer_user"),
    Some("Customer"),
    Some("quantum_widget"),
    Some("referral"),
    None,
];

const STATUSES: [Option<&str>; 6] = [
    Some("succeeded"),
    Some("failed"),
    Some("progress"),
    Some("decline"),
    Some("SUCCEEDED"),
    None,
];

const USERS: [Option<&str>; 5] = [
    Some("admin@contoso.onmicrosoft.com"),
    Some("Agent.Smith@Fabrikam.com"),
    Some("mario.rossi@società.it"),
    Some("ÉLODIE@EXAMPLE.FR"),
    None,
];

const APPS: [Option<&str>; 4] = [
    Some("a1b2c3d4-0000-4000-8000-00000000000a"),
    Some("App-One"),
    Some("Ünïcode App"),
    None,
];

/// Words sprinkled in details so that free-text search has something to find.
const DETAIL_WORDS: [&str; 6] = [
    "Needle-XYZ",
    "ÑANDÚ",
    "Caffè",
    "漢字",
    "plain",
    "Quote \"inside\"",
];

/// A reproducible stream of varied records for one partner.
#[derive(Debug, Clone)]
pub struct DataSet {
    rng: Rng,
    partner: String,
    prefix: String,
    next: usize,
    last_date: OperationDate,
}

impl DataSet {
    /// Records for `partner`, ids `{prefix}-{n}`, dated within the 30 days from [`base_date`].
    pub fn new(partner: &str, prefix: &str, seed: u64) -> Self {
        DataSet {
            rng: Rng::new(seed),
            partner: partner.to_owned(),
            prefix: prefix.to_owned(),
            next: 0,
            last_date: base_date(),
        }
    }

    /// The next `n` records.
    pub fn take(&mut self, n: usize) -> Vec<AuditRecord> {
        (0..n).map(|_| self.record()).collect()
    }

    /// The next record.
    pub fn record(&mut self) -> AuditRecord {
        let date = self.date();
        let r = &mut self.rng;
        let (customer_id, customer_name) = r.pick(&CUSTOMERS);
        let id = format!("{}-{}", self.prefix, self.next);
        self.next += 1;
        let old = r.chance(40).then(|| details(r, "old"));
        let new = r.chance(80).then(|| details(r, "new"));
        AuditRecord {
            id,
            partner_id: self.partner.clone(),
            customer_id: customer_id.map(str::to_owned),
            customer_name: customer_name.map(str::to_owned),
            user_principal_name: r.pick(&USERS).map(str::to_owned),
            application_id: r.pick(&APPS).map(str::to_owned),
            resource_type: r.pick(&RESOURCES).map(str::to_owned),
            resource_old_value: old,
            resource_new_value: new,
            operation_type: r.pick(&OPERATIONS).to_owned(),
            operation_date: date,
            operation_status: r.pick(&STATUSES).map(str::to_owned),
            customized_data: customized(r),
            session_id: r.chance(50).then(|| format!("session-{}", r.below(20))),
            original_correlation_id: r.chance(30).then(|| format!("corr-{}", r.below(1000))),
            attributes: Default::default(),
            extensions: Default::default(),
        }
    }

    /// Whole quarter-hours, sometimes with 7 fractional digits, often tied with the previous one.
    fn date(&mut self) -> OperationDate {
        let r = &mut self.rng;
        if r.chance(20) {
            return self.last_date;
        }
        let mut ticks = base_date().ticks() + r.below(30 * 24 * 4) as i64 * 15 * MINUTE;
        if r.chance(30) {
            ticks += r.below(10_000_000) as i64;
        }
        self.last_date = OperationDate::from_ticks(ticks);
        self.last_date
    }
}

fn details(r: &mut Rng, which: &str) -> String {
    let word = r.pick(&DETAIL_WORDS);
    let quantity = r.below(50) + 1;
    let order = r.below(100_000);
    serde_json::json!({
        "id": format!("o-{order}"),
        "state": which,
        "lineItems": [{
            "offerId": "CFQ7TTC0LH18:0001",
            "quantity": quantity,
            "friendlyName": "Microsoft 365 Business Basic",
        }],
        "note": word,
    })
    .to_string()
}

fn customized(r: &mut Rng) -> Option<Vec<KeyValue>> {
    match r.below(4) {
        0 => None,
        1 => Some(Vec::new()),
        _ => Some(vec![
            KeyValue {
                key: "SubscriptionId".into(),
                value: Some(format!("sub-{}", r.below(30))),
            },
            KeyValue {
                key: "Reason".into(),
                value: r.chance(50).then(|| r.pick(&DETAIL_WORDS).to_owned()),
            },
        ]),
    }
}

/// A realistic record of fixed shape (≈300-byte `resourceNewValue`), for throughput runs.
pub fn realistic(partner: &str, n: u64, date: OperationDate) -> AuditRecord {
    let new_value = format!(
        concat!(
            r#"{{"id":"o-{n:08}","referenceCustomerId":"42f1e0b0-77c1-4c11-9a3e-5d0b9f1e2a10","#,
            r#""billingCycle":"monthly","lineItems":[{{"lineItemNumber":0,"offerId":"#,
            r#""CFQ7TTC0LH18:0001","subscriptionId":"sub-{s:06}","friendlyName":"#,
            r#""Microsoft 365 Business Basic","quantity":{q},"termDuration":"P1M"}}],"#,
            r#""creationDate":"2025-03-01T10:00:00Z","status":"completed"}}"#
        ),
        n = n,
        s = n % 997,
        q = n % 50 + 1,
    );
    AuditRecord {
        id: format!("rec-{n:010}"),
        partner_id: partner.to_owned(),
        customer_id: Some(format!("cust-{:04}", n % 500)),
        customer_name: Some(format!("Società Caffè \"Il Moro\" n. {}", n % 500)),
        user_principal_name: Some("admin@contoso.onmicrosoft.com".into()),
        application_id: Some("a1b2c3d4-0000-4000-8000-00000000000a".into()),
        resource_type: Some("order".into()),
        resource_old_value: None,
        resource_new_value: Some(new_value),
        operation_type: "create_order".into(),
        operation_date: date,
        operation_status: Some("succeeded".into()),
        customized_data: Some(vec![KeyValue {
            key: "OrderId".into(),
            value: Some(format!("o-{n:08}")),
        }]),
        session_id: None,
        original_correlation_id: Some(format!("corr-{n}")),
        attributes: Default::default(),
        extensions: Default::default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_records() {
        let a = DataSet::new("p", "r", 7).take(50);
        let b = DataSet::new("p", "r", 7).take(50);
        assert_eq!(a, b);
        let c = DataSet::new("p", "r", 8).take(50);
        assert_ne!(a, c);
    }

    #[test]
    fn data_sets_have_ties_and_absent_fields() {
        let records = DataSet::new("p", "r", 1).take(300);
        let ties = records
            .windows(2)
            .filter(|w| w[0].operation_date == w[1].operation_date)
            .count();
        assert!(ties > 10, "{ties} ties");
        assert!(records.iter().any(|r| r.customer_id.is_none()));
        assert!(
            records
                .iter()
                .any(|r| r.customer_name.as_deref() == Some(""))
        );
    }

    #[test]
    fn realistic_details_are_about_300_bytes() {
        let r = realistic("p", 12, base_date());
        let len = r.resource_new_value.unwrap().len();
        assert!((280..=360).contains(&len), "{len}");
    }
}
