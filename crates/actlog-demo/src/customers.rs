//! The customer account: the model's starting state, sign-ups (`add_customer`, including
//! failed attempts that never created a customer), billing profile and company information,
//! qualification, budget, agreements, partner-of-record associations, relationship removal.

use actlog_domain::KeyValue;

use crate::DemoCustomer;
use crate::json::{Obj, kv};
use crate::model::{CustomerState, User};
use crate::names;
use crate::rng::Rng;
use crate::schedule::{HOUR, WINDOW_DAYS};
use crate::world::{DAY, Draft, Follow, MINUTE, Subject, World};

const STREETS: &[&str] = &[
    "Via Roma",
    "Corso Italia",
    "Via Garibaldi",
    "Viale della Repubblica",
    "Piazza Duomo",
    "Via dell'Industria",
    "Via XX Settembre",
    "Largo Augusto",
];
const CITIES: &[(&str, &str, &str)] = &[
    ("Milano", "20121", "02"),
    ("Torino", "10121", "011"),
    ("Bologna", "40121", "051"),
    ("Verona", "37121", "045"),
    ("Firenze", "50122", "055"),
    ("Napoli", "80133", "081"),
    ("Bari", "70121", "080"),
    ("Padova", "35122", "049"),
];
const FAILURES: &[(&str, &str)] = &[
    (
        "600012",
        "The domain prefix is already in use by another organization.",
    ),
    (
        "400",
        "The request is invalid: the billing address could not be validated.",
    ),
    (
        "900110",
        "Microsoft Customer Agreement acceptance is required before this operation.",
    ),
    (
        "800002",
        "A transient error occurred; please retry the operation.",
    ),
    (
        "403",
        "The partner user lacks the Admin agent role for this operation.",
    ),
];

/// Every customer's starting state: size, domain, pre-existing users, whether and when it signs
/// up during the window (about one in seven; never the flagship customer).
pub(crate) fn initial_states(
    rng: &mut Rng,
    customers: &[DemoCustomer],
    now: i64,
) -> Vec<CustomerState> {
    let hostile = names::hostile().len();
    let start = now - WINDOW_DAYS * DAY;
    customers
        .iter()
        .enumerate()
        .map(|(c, customer)| {
            let seats = match rng.weighted(&[40, 35, 20, 5]) {
                0 => rng.range(1, 10),
                1 => rng.range(10, 50),
                2 => rng.range(50, 250),
                _ => rng.range(250, 2_000),
            } as u32;
            let slug = customer
                .domain
                .split('.')
                .next()
                .unwrap_or("tenant")
                .trim_end_matches(char::is_numeric);
            let tld = rng.pick(&["it", "com", "eu", "it"]);
            let mut state = CustomerState {
                seats,
                vanity_domain: format!("{slug}.{tld}"),
                protected: c == 0 || (c % 3 == 0 && c / 3 < hostile),
                ..CustomerState::default()
            };
            if c != 0 && rng.per_mille(140) {
                state.joins_at =
                    Some(start + rng.below((WINDOW_DAYS - 7) as u64 * DAY as u64) as i64);
            } else {
                for _ in 0..rng.range(1, u64::from(seats.min(8))) {
                    let (first, last) = names::person(rng);
                    state.users.push(User {
                        id: rng.guid(),
                        upn: format!("{}@{}", names::mailbox(first, last), customer.domain),
                        first,
                        last,
                        usage_location: "IT",
                        deleted: false,
                    });
                }
            }
            state
        })
        .collect()
}

/// A customer signs up: `add_customer`, then its admin, agreement, first order and GDAP
/// approval follow over the next minutes and days.
pub(crate) fn onboard(w: &mut World, c: usize) -> Draft {
    let customer = &w.customers[c];
    let new = customer_json(
        Some(&customer.id),
        &customer.name,
        &customer.domain,
        &profile(customer, 0),
    );
    let data = vec![
        kv("CustomerId", customer.id.as_str()),
        kv("CompanyName", customer.name.as_str()),
        kv("Domain", customer.domain.as_str()),
        kv("Country", "IT"),
    ];
    for (follow, lo, hi) in [
        (Follow::AdminUser, 2 * MINUTE, 20 * MINUTE),
        (Follow::Agreement, 5 * MINUTE, 40 * MINUTE),
        (Follow::FirstOrder, 20 * MINUTE, 3 * HOUR),
        (Follow::GdapApproval, DAY, 3 * DAY),
    ] {
        let delay = w.delay(lo, hi);
        w.follow(delay, c, follow);
    }
    Draft::new("add_customer", Subject::Customer(c))
        .new_value(new)
        .data(data)
}

/// A sign-up that failed before any customer existed: no customer id or name on the record.
pub(crate) fn failed_signup(w: &mut World) -> Draft {
    let name = names::ordinary(&mut w.rng);
    let domain = names::domain(&name, w.rng.below(10_000) as usize);
    let customer = DemoCustomer {
        id: name.clone(),
        name,
        domain,
    };
    let profile = profile(&customer, 0);
    let DemoCustomer { name, domain, .. } = customer;
    let data = vec![
        kv("CompanyName", name.as_str()),
        kv("Domain", domain.as_str()),
        kv("Country", "IT"),
    ];
    Draft::new("add_customer", Subject::Nobody)
        .new_value(customer_json(None, &name, &domain, &profile))
        .data(data)
}

/// Error details added to failed records.
pub(crate) fn failure(rng: &mut Rng) -> Vec<KeyValue> {
    let (code, message) = rng.pick(FAILURES);
    vec![kv("ErrorCode", code), kv("ErrorMessage", message)]
}

pub(crate) fn build(w: &mut World, code: &'static str, c: usize) -> Draft {
    let customer = w.customers[c].clone();
    let draft = Draft::new(code, Subject::Customer(c));
    match code {
        "update_customer_billing_profile" | "update_company_info" => {
            let version = w.states[c].profile_version;
            let (old, new) = (profile(&customer, version), profile(&customer, version + 1));
            if w.succeeded() {
                w.states[c].profile_version += 1;
            }
            let data = vec![
                kv("OldEmail", old.email.as_str()),
                kv("NewEmail", new.email.as_str()),
                kv("City", new.city.0),
            ];
            let shape = |p: &Profile| {
                if code == "update_company_info" {
                    company_json(&customer, p)
                } else {
                    billing_json(&customer, p)
                }
            };
            draft.old(shape(&old)).new_value(shape(&new)).data(data)
        }
        "update_customer_partner_contract_company_name" => {
            let old = customer.name.to_uppercase();
            let json = |name: &str| Obj::new().str("CompanyName", name).end("PartnerContract");
            let data = vec![
                kv("OldCompanyName", old.as_str()),
                kv("NewCompanyName", customer.name.as_str()),
            ];
            draft
                .old(json(&old))
                .new_value(json(&customer.name))
                .data(data)
        }
        "update_customer_qualification" => {
            let q = w.rng.pick(&[
                "Education",
                "GovernmentCommunityCloud",
                "StateOwnedEntity",
                "Nonprofit",
            ]);
            let json = |q: &str| {
                Obj::new()
                    .str("Qualification", q)
                    .end("CustomerQualification")
            };
            draft
                .old(json("None"))
                .new_value(json(q))
                .data(vec![kv("Qualification", q)])
        }
        "update_customer_spending_budget" => {
            let old = 500 * w.rng.range(1, 40);
            let new = old + 500 * w.rng.range(1, 10);
            let json = |a: u64| {
                Obj::new()
                    .num("Amount", a)
                    .str("Currency", "EUR")
                    .end("SpendingBudget")
            };
            let data = vec![
                kv("OldAmount", old.to_string()),
                kv("NewAmount", new.to_string()),
                kv("Currency", "EUR"),
            ];
            draft.old(json(old)).new_value(json(new)).data(data)
        }
        "remove_partner_customer_relationship" => {
            if w.succeeded() && !w.states[c].protected {
                w.states[c].gone = true;
            }
            let json = |s: &str| {
                Obj::new()
                    .str("CustomerId", &customer.id)
                    .str("State", s)
                    .end("PartnerCustomerRelationship")
            };
            draft
                .old(json("active"))
                .new_value(json("removed"))
                .data(vec![
                    kv("CustomerId", customer.id.as_str()),
                    kv("Reason", "Customer moved to another partner"),
                ])
        }
        "create_agreement" => {
            let p = profile(&customer, w.states[c].profile_version);
            let contact = Obj::new()
                .str("FirstName", p.contact.0)
                .str("LastName", p.contact.1)
                .str("Email", &p.email)
                .done();
            let new = Obj::new()
                .str("UserId", &w.rng.guid())
                .raw("PrimaryContact", &contact)
                .str("DateAgreed", &crate::json::iso_ms(w.tick))
                .str("Type", "MicrosoftCustomerAgreement")
                .str("TemplateId", "117a5de1-48bd-4f7d-a2fb-1f6b2c3a2d91")
                .end("Agreement");
            draft.new_value(new).data(vec![
                kv("AgreementType", "MicrosoftCustomerAgreement"),
                kv("ContactEmail", p.email.as_str()),
            ])
        }
        _ => {
            let mpn = format!("{}", 4_000_000 + w.rng.below(3_000_000));
            let new = Obj::new()
                .str("CustomerId", &customer.id)
                .str("MpnId", &mpn)
                .str("ProgramName", "Cloud Solution Provider")
                .end("MpnAssociation");
            draft.new_value(new).data(vec![kv("MpnId", mpn)])
        }
    }
}

/// A customer's contact details, version `v` (each billing-profile change moves to the next).
#[derive(Debug, Clone)]
struct Profile {
    contact: (&'static str, &'static str),
    city: (&'static str, &'static str, &'static str),
    street: &'static str,
    number: u64,
    email: String,
}

fn profile(customer: &DemoCustomer, version: u32) -> Profile {
    let mut rng = Rng::stream(u64::from(version), &customer.id);
    let contact = names::person(&mut rng);
    let mailbox = rng.pick(&["amministrazione", "fatture", "billing", "it"]);
    Profile {
        contact,
        city: rng.pick(CITIES),
        street: rng.pick(STREETS),
        number: rng.range(1, 180),
        email: format!("{mailbox}@{}", customer.domain),
    }
}

fn address_json(name: &str, p: &Profile) -> String {
    Obj::new()
        .str("Country", "IT")
        .str("City", p.city.0)
        .str("PostalCode", p.city.1)
        .str("AddressLine1", &format!("{} {}", p.street, p.number))
        .str("FirstName", p.contact.0)
        .str("LastName", p.contact.1)
        .str(
            "PhoneNumber",
            &format!("+39 {} {}", p.city.2, 1_000_000 + p.number * 4_021),
        )
        .str("CompanyName", name)
        .done()
}

fn billing_json(customer: &DemoCustomer, p: &Profile) -> String {
    Obj::new()
        .str("Id", &customer.id)
        .str("FirstName", p.contact.0)
        .str("LastName", p.contact.1)
        .str("Email", &p.email)
        .str("Culture", "it-IT")
        .str("Language", "it")
        .str("CompanyName", &customer.name)
        .raw("DefaultAddress", &address_json(&customer.name, p))
        .end("CustomerBillingProfile")
}

fn company_json(customer: &DemoCustomer, p: &Profile) -> String {
    Obj::new()
        .str("TenantId", &customer.id)
        .str("Domain", &customer.domain)
        .str("CompanyName", &customer.name)
        .raw("Address", &address_json(&customer.name, p))
        .str("Email", &p.email)
        .end("CustomerCompanyProfile")
}

fn customer_json(id: Option<&str>, name: &str, domain: &str, p: &Profile) -> String {
    let company = Obj::new()
        .opt("TenantId", id)
        .str("Domain", domain)
        .str("CompanyName", name)
        .end("CustomerCompanyProfile");
    let billing = Obj::new()
        .str("Email", &p.email)
        .str("Culture", "it-IT")
        .str("Language", "it")
        .str("CompanyName", name)
        .raw("DefaultAddress", &address_json(name, p))
        .end("CustomerBillingProfile");
    Obj::new()
        .opt("Id", id)
        .raw("CompanyProfile", &company)
        .raw("BillingProfile", &billing)
        .str("RelationshipToPartner", "reseller")
        .end("Customer")
}
