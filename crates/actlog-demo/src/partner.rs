//! Operations on the partner's own account, about no customer of the list: failed sign-ups,
//! sandbox customers deleted, indirect-reseller relationships, applications and their
//! credentials, partner users, referrals, invoices, the software attestation.

use crate::customers;
use crate::json::{self, Obj, kv, money, strings};
use crate::names;
use crate::ops::Status;
use crate::rng::guid_for;
use crate::world::{Draft, Subject, World};

const RESELLERS: &[(&str, &str)] = &[
    ("Rivenditore Nord S.r.l.", "5172209"),
    ("Sud Cloud Services S.p.A.", "6034718"),
    ("Alpine IT Solutions GmbH", "4851123"),
    ("Informatica & Servizi \"La Rete\", S.n.c.", "4420981"),
];
const APPS: &[&str] = &[
    "Contoso Billing Sync",
    "Contoso PSA Connector",
    "Script di provisioning (test)",
];
const PARTNER_ROLES: &[&str] = &[
    "AdminAgent",
    "SalesAgent",
    "HelpdeskAgent",
    "BillingAdmin",
    "GlobalAdmin",
    "ReferralsAdmin",
];

pub(crate) fn build(w: &mut World, code: &'static str) -> Draft {
    let draft = Draft::new(code, Subject::Nobody);
    match code {
        "add_customer" => customers::failed_signup(w),
        "delete_customer" | "delete_tip_customer" => {
            let id = w.rng.guid();
            let name = format!(
                "{} {:04}",
                if code == "delete_tip_customer" {
                    "TIP Integration Customer"
                } else {
                    "Sandbox Test Customer"
                },
                w.rng.below(10_000)
            );
            // Partner Center's Customer model: the name is in its company profile.
            let company = Obj::new()
                .str("TenantId", &id)
                .str("CompanyName", &name)
                .end("CustomerCompanyProfile");
            let old = Obj::new()
                .str("Id", &id)
                .raw("CompanyProfile", &company)
                .null("BillingProfile")
                .str("RelationshipToPartner", "reseller")
                .end("Customer");
            let draft = Draft::new(
                code,
                Subject::Other {
                    id: id.clone(),
                    name,
                },
            );
            draft.old(old).data(vec![kv("CustomerId", id)])
        }
        "create_partner_relationship" | "remove_partner_relationship" | "extend_relationship" => {
            let (name, mpn) = w.rng.pick(RESELLERS);
            let state = if code == "remove_partner_relationship" {
                "Inactive"
            } else {
                "Active"
            };
            let json = |state: &str| {
                Obj::new()
                    .str("Id", &guid_for(name))
                    .str("Name", name)
                    .str("MpnId", mpn)
                    .str("RelationshipType", "IsIndirectCloudSolutionProviderOf")
                    .str("State", state)
                    .str("Location", "IT")
                    .end("PartnerRelationship")
            };
            let draft = draft
                .data(vec![kv("ResellerName", name), kv("MpnId", mpn)])
                .new_value(json(state));
            if code == "create_partner_relationship" {
                draft
            } else {
                draft.old(json("Active"))
            }
        }
        "register_application" | "unregister_application" => {
            let name = w.rng.pick(APPS);
            let new = Obj::new()
                .str("ApplicationId", &guid_for(name))
                .str("DisplayName", name)
                .str("Type", "web")
                .str(
                    "State",
                    if code == "register_application" {
                        "enabled"
                    } else {
                        "disabled"
                    },
                )
                .end("Application");
            draft.new_value(new).data(vec![
                kv("ApplicationId", guid_for(name)),
                kv("DisplayName", name),
            ])
        }
        "add_application_credential" | "remove_application_credential" => {
            let name = w.rng.pick(APPS);
            let key_id = w.rng.guid();
            let json = Obj::new()
                .str("KeyId", &key_id)
                .str("ApplicationId", &guid_for(name))
                .str("StartDate", &json::day_plus_months(w.tick, 0))
                .str("EndDate", &json::day_plus_months(w.tick, 24))
                .str("Hint", &w.rng.code(3))
                .end("ApplicationCredential");
            let draft = draft.data(vec![
                kv("ApplicationId", guid_for(name)),
                kv("KeyId", key_id),
            ]);
            if code.starts_with("add") {
                draft.new_value(json)
            } else {
                draft.old(json)
            }
        }
        "create_partner_user" | "update_partner_user" | "remove_partner_user" => {
            partner_user(w, code)
        }
        "ready_invoice" => {
            let id = format!("D0{:08}", w.rng.below(100_000_000));
            let total = money(w.rng.range(500_000, 9_000_000));
            let new = Obj::new()
                .str("Id", &id)
                .str("InvoiceDate", &json::day_plus_months(w.tick, 0))
                .num("TotalCharges", &total)
                .num("PaidAmount", "0.00")
                .str("CurrencyCode", "EUR")
                .str("InvoiceType", "Recurring")
                .str("DocumentType", "invoice")
                .end("Invoice");
            draft.new_value(new).data(vec![
                kv("InvoiceId", id),
                kv("TotalCharges", total),
                kv("CurrencyCode", "EUR"),
            ])
        }
        "software_attestation" => {
            let new = Obj::new()
                .bool("Attested", true)
                .str("AttestedOn", &json::iso_ms(w.tick))
                .end("SoftwareAttestation");
            draft
                .new_value(new)
                .data(vec![kv("Attested", "True"), kv("Page", "Software")])
        }
        _ => referral(w, code),
    }
}

fn partner_user(w: &mut World, code: &'static str) -> Draft {
    let upn = if code == "update_partner_user" {
        (w.rng.pick(&names::PARTNER_USERS[..names::APP_IDENTITY])).to_owned()
    } else {
        let (first, last) = names::person(&mut w.rng);
        format!("{}@contoso-partner.example", names::mailbox(first, last))
    };
    let id = guid_for(&upn);
    let role = w.rng.pick(PARTNER_ROLES);
    let json = |roles: &[&str]| {
        Obj::new()
            .str("Id", &id)
            .str("UserPrincipalName", &upn)
            .raw("Roles", &strings(roles.iter().copied()))
            .end("PartnerUser")
    };
    let draft = Draft::new(code, Subject::Nobody).data(vec![
        kv("PartnerUserId", id.as_str()),
        kv("UserPrincipalName", upn.as_str()),
        kv("Roles", role),
    ]);
    match code {
        "create_partner_user" => draft.new_value(json(&[role])),
        "update_partner_user" => draft
            .old(json(&["AdminAgent"]))
            .new_value(json(&["AdminAgent", role])),
        _ => draft.old(json(&[role])),
    }
}

/// Referrals: opportunities shared with Microsoft or other partners, about prospects that are
/// not (yet) customers.
fn referral(w: &mut World, code: &'static str) -> Draft {
    let id = w.rng.guid();
    let prospect = if w.rng.per_mille(150) {
        names::hostile()[w.rng.index(6)].clone()
    } else {
        names::ordinary(&mut w.rng)
    };
    let value = 1_000 * w.rng.range(2, 120);
    let (status, substatus) = match (code.starts_with("create"), w.status) {
        (_, Status::Decline) => ("Closed", "Declined"),
        (true, _) => ("New", "Received"),
        (false, _) => w.rng.pick(&[
            ("Active", "Accepted"),
            ("Closed", "Won"),
            ("Closed", "Lost"),
        ]),
    };
    let (first, last) = names::person(&mut w.rng);
    let contact = Obj::new()
        .str("FirstName", first)
        .str("LastName", last)
        .str(
            "Email",
            &format!("{}@prospect.example", names::mailbox(first, last)),
        )
        .done();
    let profile = Obj::new()
        .str("Name", &prospect)
        .raw(
            "Address",
            &Obj::new().str("Country", "IT").str("City", "Milano").done(),
        )
        .raw("Team", &format!("[{contact}]"))
        .done();
    let details = Obj::new()
        .num("DealValue", value)
        .str("Currency", "EUR")
        .str(
            "Notes",
            "Interessati a Microsoft 365 Business Premium e Defender; budget Q3",
        )
        .done();
    let json = |status: &str, substatus: &str| {
        Obj::new()
            .str("Id", &id)
            .str("Name", &format!("Opportunità – {prospect}"))
            .str("Type", "Independent")
            .str("Qualification", "SalesQualified")
            .str("Status", status)
            .str("Substatus", substatus)
            .raw("CustomerProfile", &profile)
            .raw("Details", &details)
            .end(if code.contains("related") {
                "RelatedReferral"
            } else {
                "Referral"
            })
    };
    let data = vec![
        kv("ReferralId", id.as_str()),
        kv("ProspectName", prospect.as_str()),
        kv("Status", status),
        kv("Substatus", substatus),
        kv("DealValue", value.to_string()),
    ];
    let draft = Draft::new(code, Subject::Nobody)
        .data(data)
        .new_value(json(status, substatus));
    if code.starts_with("create") {
        draft
    } else {
        draft.old(json("New", "Received"))
    }
}
