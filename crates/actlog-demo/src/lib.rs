//! Deterministic, realistic demo data for actlog: a partner, its customers and their activity.
//!
//! `actlog demo` seeds its database from here, the export and store tests use it as realistic
//! input, and the benchmarks stream millions of records from it. It is pure: no I/O, no clock,
//! no global randomness — the same [`DemoSpec`] always yields the same records, byte for byte.
//!
//! What it produces looks like a mid-sized Italian CSP's Partner Center log: a few hundred
//! customers (ordinary names mixed with names that break naive software), multi-product orders
//! whose subscriptions then change quantity, get suspended, converted from trial or upgraded;
//! customer users created, reset, licensed; GDAP relationships, referrals, devices, and every
//! other operation type of the catalog, plus a couple of types Partner Center has not published
//! yet. Records come in ascending `operationDate` order, weighted to office hours.
//!
//! Later records agree with earlier ones: every subscription id a record mentions (transfers
//! aside, which name the previous partner's) was born in a `create_order` line item of the same
//! customer, and its `Id`, `OfferId`, `FriendlyName`, `Quantity` and `Status` evolve from record
//! to record (`update_subscription`, `convert_trial_subscription`, `upgrade_subscription` carry
//! the Subscription before and after). Only `succeeded` records change that
//! state; `failed` and `decline` records carry what was attempted, and a `progress` order is
//! completed by a later `update_order`.
//!
//! Layout:
//! - `rng`: the hand-written PRNG (splitmix64), integers only.
//! - `names`, `products`: customer names, people, partner staff; the product catalog.
//! - `schedule`: record times, office-hours weighted.
//! - `ops`: the operation mix — weights, resource types, outcomes, actors.
//! - `model`, `world`: what is remembered between records, and follow-ups promised for later.
//! - `activity`: the iterator; `orders`, `subscriptions`, `users`, `customers`, `services`,
//!   `admin`, `partner`: one builder per family of operations; `json`, `spice`: value writing.

mod activity;
mod admin;
mod customers;
mod json;
mod model;
mod names;
mod ops;
mod orders;
mod partner;
mod products;
mod rng;
mod schedule;
mod services;
mod spice;
mod subscriptions;
mod users;
mod world;

use actlog_domain::AuditRecord;
use jiff::Timestamp;

use crate::rng::Rng;

/// The partner id of the standard demo.
pub const DEMO_PARTNER_ID: &str = "demo-partner";
/// The seed of the standard demo.
pub const STANDARD_SEED: u64 = 0x00AC_7106_DE30_2025;
/// How far back a demo reaches: records fall in `(now - 183 days, now]`.
pub const WINDOW_DAYS: i64 = schedule::WINDOW_DAYS;

/// What to generate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoSpec {
    /// The partner tenant every record belongs to.
    pub partner_id: String,
    /// The end of the period covered (inclusive); records fall in the [`WINDOW_DAYS`] before.
    pub now: Timestamp,
    /// How many records to generate.
    pub records: usize,
    /// How many customers the partner has.
    pub customers: usize,
    /// Same seed (and other fields), same output.
    pub seed: u64,
}

impl DemoSpec {
    /// The demo `actlog demo` shows: partner [`DEMO_PARTNER_ID`], 40,000 records from 300
    /// customers over the six months before `now`, with [`STANDARD_SEED`].
    pub fn standard(now: Timestamp) -> Self {
        DemoSpec {
            partner_id: DEMO_PARTNER_ID.to_owned(),
            now,
            records: 40_000,
            customers: 300,
            seed: STANDARD_SEED,
        }
    }
}

/// One of the partner's customers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoCustomer {
    /// A lowercase GUID, as Partner Center's customer ids.
    pub id: String,
    /// The company name; some are deliberately hostile (see the crate docs).
    pub name: String,
    /// The customer's `onmicrosoft.com` domain, on which its users' UPNs live.
    pub domain: String,
}

/// The customers of a spec, in a fixed order; the first is `Società Caffè "Il Moro", S.r.l.`,
/// the busiest. They depend only on `customers` and `seed`. A few sandbox customers that only
/// appear in `delete_customer` / `delete_tip_customer` records are not in this list.
pub fn customers(spec: &DemoSpec) -> Vec<DemoCustomer> {
    let mut rng = Rng::stream(spec.seed, "customers");
    let names = names::companies(&mut rng, spec.customers);
    names
        .into_iter()
        .enumerate()
        .map(|(i, name)| DemoCustomer {
            id: rng.guid(),
            domain: names::domain(&name, i),
            name,
        })
        .collect()
}

/// The UPNs of the partner staff who act in the records, most active first. The last one,
/// `svc-billing-sync@contoso-partner.example`, is the billing integration's own identity.
/// Records of events Microsoft raises by itself (a GDAP relationship expiring, an invoice
/// being ready) have no user.
pub fn partner_users(_spec: &DemoSpec) -> Vec<String> {
    names::PARTNER_USERS
        .iter()
        .map(|u| (*u).to_owned())
        .collect()
}

/// The spec's records, in ascending `operationDate` order, generated one at a time: memory
/// stays small however many are asked for. Ids are unique and stable:
/// `{customerId or "partner"}_{operationtype}_{.NET ticks}_{index}`.
pub fn generate(spec: &DemoSpec) -> impl ExactSizeIterator<Item = AuditRecord> + Send + use<> {
    activity::Generator::new(spec)
}

/// `now` as 100 ns ticks since the Unix epoch (finer precision is dropped).
fn now_ticks(now: Timestamp) -> i64 {
    now.as_nanosecond().div_euclid(100) as i64
}
