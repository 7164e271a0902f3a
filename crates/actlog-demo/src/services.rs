//! Everything else a partner does for a customer: Azure spending limits and overage, software
//! keys and downloads, subscription transfers from another partner, credits, self-serve
//! policies, Autopilot devices and profiles, fraud events, and two operation types Partner
//! Center has not published (yet), which actlog must keep as they come.

use crate::json::{self, Obj, kv, kv_opt, money, strings};
use crate::model::SubStatus;
use crate::ops::Status;
use crate::products::{Kind, SOFTWARE};
use crate::rng::guid_for;
use crate::world::{DAY, Draft, Follow, Subject, World};

const DEVICE_MODELS: &[(&str, &str)] = &[
    ("Microsoft Corporation", "Surface Laptop 6"),
    ("Microsoft Corporation", "Surface Pro 10"),
    ("LENOVO", "ThinkPad T14 Gen 5"),
    ("Dell Inc.", "Latitude 7450"),
    ("HP", "EliteBook 840 G11"),
];
const OTHER_PARTNERS: &[&str] = &[
    "Vecchio Fornitore IT S.p.A.",
    "CloudOne Distribution Ltd",
    "Rete Sistemi S.r.l.",
];

pub(crate) fn build(w: &mut World, code: &'static str, c: usize) -> Draft {
    let draft = Draft::new(code, Subject::Customer(c));
    let cid = w.customer_id(c).to_owned();
    match code {
        "increase_spending_limit" | "manage_overage" | "azure_fraud_event_detected" => {
            azure(w, code, c)
        }
        "get_software_key" | "get_software_download_link" => {
            let product = w.rng.pick(SOFTWARE);
            let product_id = guid_for(product);
            let new = if code == "get_software_key" {
                Obj::new()
                    .str("ProductId", &product_id)
                    .str("ProductName", product)
                    .str("KeyType", "MAK")
                    .str("Key", &format!("*****-*****-*****-*****-{}", w.rng.code(5)))
                    .end("SoftwareKey")
            } else {
                let uri = format!(
                    "https://download.contoso-software.example/{product_id}/it-IT.iso?sig={}",
                    w.rng.code(24)
                );
                Obj::new()
                    .str("ProductId", &product_id)
                    .str("ProductName", product)
                    .str("Language", "it-IT")
                    .str("Uri", &uri)
                    .end("SoftwareDownloadLink")
            };
            draft.new_value(new).data(vec![
                kv("ProductName", product),
                kv("ProductId", product_id),
            ])
        }
        "create_transfer" | "update_transfer" => transfer(w, code, c, None),
        "create_credit" | "update_credit" | "cancel_credit" => {
            let id = w.rng.guid();
            let amount = money(100 * w.rng.range(20, 2_500));
            let status = match (code, w.status) {
                ("cancel_credit", _) => "Cancelled",
                (_, Status::Decline) => "Rejected",
                ("create_credit", _) => "Pending",
                _ => "Approved",
            };
            let json = |s: &str| {
                Obj::new()
                    .str("Id", &id)
                    .num("Amount", &amount)
                    .str("Currency", "EUR")
                    .str("Reason", "Disservizio Exchange Online del 14/02, SLA 99,9%")
                    .str("Status", s)
                    .end("Credit")
            };
            let data = vec![
                kv("CreditId", id.as_str()),
                kv("Amount", amount.as_str()),
                kv("Currency", "EUR"),
                kv("Status", status),
            ];
            let draft = draft.new_value(json(status)).data(data);
            if code == "create_credit" {
                draft
            } else {
                draft.old(json("Pending"))
            }
        }
        "create_self_serve_policy" | "update_self_serve_policy" | "delete_self_serve_policy" => {
            let id = guid_for(&format!("policy {cid}"));
            let permissions = |actions: &[&str]| {
                json::array(actions.iter().map(|a| {
                    Obj::new()
                        .str("Action", a)
                        .str("Resource", "AzureReservedInstances")
                        .done()
                }))
            };
            let entity = Obj::new()
                .str("SelfServeEntityType", "customer")
                .str("TenantID", &cid)
                .done();
            let json = |actions: &[&str]| {
                Obj::new()
                    .str("Id", &id)
                    .str("DisplayName", "Acquisti self-service Azure")
                    .raw("SelfServeEntity", &entity)
                    .raw("Permissions", &permissions(actions))
                    .end("SelfServePolicy")
            };
            let draft = draft.data(vec![kv("PolicyId", id.as_str())]);
            match code {
                "create_self_serve_policy" => draft.new_value(json(&["Purchase"])),
                "update_self_serve_policy" => draft
                    .old(json(&["Purchase"]))
                    .new_value(json(&["Purchase", "Exchange"])),
                _ => draft.old(json(&["Purchase"])),
            }
        }
        "policy_created" | "policy_updated" | "policy_deleted" => {
            let id = guid_for(&format!("autopilot {cid}"));
            let json = |settings: &[&str]| {
                Obj::new()
                    .str("Id", &id)
                    .str("Name", "Autopilot – Postazioni ufficio")
                    .str("Category", "o_o_b_e")
                    .raw("PolicySettings", &strings(settings.iter().copied()))
                    .end("DevicePolicy")
            };
            let base: &[&str] = &["remove_oem_preinstalls", "oobe_user_not_local_admin"];
            let more: &[&str] = &[
                "remove_oem_preinstalls",
                "oobe_user_not_local_admin",
                "skip_express_settings",
            ];
            let draft = draft.data(vec![
                kv("PolicyId", id.as_str()),
                kv("PolicyName", "Autopilot – Postazioni ufficio"),
            ]);
            match code {
                "policy_created" => draft.new_value(json(base)),
                "policy_updated" => draft.old(json(base)).new_value(json(more)),
                _ => draft.old(json(more)),
            }
        }
        d if d.starts_with("device") => devices(w, code, c),
        "create_ai_agent_subscription" => {
            let id = w.rng.guid_upper();
            let agent = w.rng.pick(&[
                "Assistente Ordini",
                "HR Helpdesk Agent",
                "Agente 📦 Logistica",
            ]);
            let capacity = 25_000 * w.rng.range(1, 8);
            let new = Obj::new()
                .str("Id", &id)
                .str("AgentName", agent)
                .num("Capacity", capacity)
                .str("Unit", "Messages")
                .str("Status", "active")
                .end("AiAgentSubscription");
            draft.new_value(new).data(vec![
                kv("AgentSubscriptionId", id),
                kv("AgentName", agent),
                kv("Capacity", capacity.to_string()),
            ])
        }
        _ => {
            let old = 10_000 * w.rng.range(1, 10);
            let new = old + 10_000 * w.rng.range(1, 5);
            let json = |n: u64| {
                Obj::new()
                    .num("MaxMonthlyMessages", n)
                    .bool("AllowExternalData", false)
                    .end("AgentUsagePolicy")
            };
            draft.old(json(old)).new_value(json(new)).data(vec![
                kv("OldMaxMonthlyMessages", old.to_string()),
                kv("NewMaxMonthlyMessages", new.to_string()),
            ])
        }
    }
}

/// Operations on the customer's Azure plan (its subscription id when it has one, `null` when
/// it has none: subscription ids are only ever those born in orders).
fn azure(w: &mut World, code: &'static str, c: usize) -> Draft {
    let state = &w.states[c];
    let azure = state
        .subscriptions
        .iter()
        .find(|s| s.product().kind == Kind::Azure && s.status != SubStatus::Deleted);
    let sub_id = azure.map(|s| s.id.clone());
    let draft = Draft::new(code, Subject::Customer(c));
    match code {
        "increase_spending_limit" => {
            let old = 1_000 * w.rng.range(1, 20);
            let new = old * 2;
            let json = |n: u64| {
                Obj::new()
                    .opt("SubscriptionId", sub_id.as_deref())
                    .num("SpendingLimit", n)
                    .str("Currency", "EUR")
                    .end("SpendingLimit")
            };
            let data = vec![
                kv_opt("SubscriptionId", sub_id.as_deref()),
                kv("OldLimit", old.to_string()),
                kv("NewLimit", new.to_string()),
                kv("Currency", "EUR"),
            ];
            draft.old(json(old)).new_value(json(new)).data(data)
        }
        "manage_overage" => {
            let enabled = w.rng.per_mille(700);
            let json = |on: bool| {
                Obj::new()
                    .str("Type", "PayAsYouGo")
                    .bool("OverageEnabled", on)
                    .end("Overage")
            };
            draft
                .old(json(!enabled))
                .new_value(json(enabled))
                .data(vec![kv(
                    "OverageEnabled",
                    if enabled { "True" } else { "False" },
                )])
        }
        _ => {
            let event_id = w.rng.guid();
            let new = Obj::new()
                .str("Id", &event_id)
                .opt("SubscriptionId", sub_id.as_deref())
                .str("EventName", "CryptoMining")
                .str("Severity", "High")
                .str("EventStatus", "Active")
                .str("FirstOccurrence", &json::iso_ms(w.tick - DAY / 3))
                .str("ResourceGroup", "rg-prod-westeurope")
                .end("AzureFraudEvent");
            draft.new_value(new).data(vec![
                kv_opt("SubscriptionId", sub_id.as_deref()),
                kv("EventName", "CryptoMining"),
                kv("Severity", "High"),
            ])
        }
    }
}

/// A transfer of subscriptions from another partner; a created transfer completes days later.
pub(crate) fn transfer(w: &mut World, code: &'static str, c: usize, id: Option<String>) -> Draft {
    let id = id.unwrap_or_else(|| w.rng.guid());
    let source = w.rng.pick(OTHER_PARTNERS);
    let lines = json::array((0..w.rng.range(1, 3)).map(|_| {
        Obj::new()
            .str("SubscriptionId", &w.rng.guid_upper())
            .num("Quantity", w.rng.range(1, 40))
            .str("TransferType", "license")
            .done()
    }));
    let cid = w.customer_id(c).to_owned();
    let json = |status: &str| {
        Obj::new()
            .str("Id", &id)
            .str("SourcePartnerName", source)
            .str("TargetPartnerTenantId", &w.partner_id)
            .str("CustomerTenantId", &cid)
            .str("Status", status)
            .raw("LineItems", &lines)
            .end("Transfer")
    };
    let draft = Draft::new(code, Subject::Customer(c)).data(vec![
        kv("TransferId", id.as_str()),
        kv("SourcePartnerName", source),
    ]);
    if code == "create_transfer" {
        let draft = draft.new_value(json("Active"));
        if w.succeeded() {
            let delay = w.delay(DAY, 5 * DAY);
            w.follow(delay, c, Follow::TransferUpdate { transfer_id: id });
        }
        draft
    } else {
        let status = if w.status == Status::Progress {
            "InProgress"
        } else {
            "Complete"
        };
        draft.old(json("Active")).new_value(json(status))
    }
}

/// Autopilot devices: single updates and deletions, and batch uploads.
fn devices(w: &mut World, code: &'static str, c: usize) -> Draft {
    let draft = Draft::new(code, Subject::Customer(c));
    let (maker, model) = w.rng.pick(DEVICE_MODELS);
    if code.contains("batch") || code == "devices_update_attempted" {
        let count = w.rng.range(2, 60);
        let batch = format!("Lotto {} – {}", w.rng.range(1, 40), model);
        let new = Obj::new()
            .str("BatchId", &w.rng.guid())
            .str("BatchName", &batch)
            .num("DevicesCount", count)
            .str(
                "Status",
                match w.status {
                    Status::Progress => "InProgress",
                    Status::Failed => "Failed",
                    _ => "Finished",
                },
            )
            .end("DeviceBatch");
        return draft.new_value(new).data(vec![
            kv("BatchName", batch),
            kv("DevicesCount", count.to_string()),
        ]);
    }
    let serial = w.rng.code(12);
    let json = |policy: Option<&str>| {
        Obj::new()
            .str("Id", &guid_for(&serial))
            .str("SerialNumber", &serial)
            .str("OemManufacturerName", maker)
            .str("ModelName", model)
            .opt("PolicyId", policy)
            .end("Device")
    };
    let data = vec![kv("SerialNumber", serial.as_str()), kv("ModelName", model)];
    let policy = guid_for(&format!("autopilot {}", w.customer_id(c)));
    let draft = draft.data(data).old(json(None));
    if code == "device_deleted" {
        draft
    } else {
        draft.new_value(json(Some(&policy)))
    }
}
