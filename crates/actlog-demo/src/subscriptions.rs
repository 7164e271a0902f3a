//! Changes to existing subscriptions: quantity, status, auto-renew and name changes
//! (`update_subscription`), trial conversions, upgrades, new-commerce migrations. Each record
//! carries the subscription before and after, so the customer's Subscriptions page can follow
//! every subscription from the order that created it.

use crate::json::{Obj, kv, kv_opt};
use crate::model::{SubStatus, Subscription};
use crate::ops::Status;
use crate::orders;
use crate::products::{self, Kind, PRODUCTS};
use crate::world::{Draft, Follow, MINUTE, Subject, World};

/// Names customers give their subscriptions, some of them hostile.
const FRIENDLY_NAMES: &[&str] = &[
    "Licenze sede di Milano",
    "Uffici amministrativi",
    "Magazzino; turno notte",
    "Reparto \"Vendite\", Nord",
    "=Ufficio+Magazzino",
    "Team 🚀 Growth",
    "営業部ライセンス",
    "-Scorte",
    "@Direzione",
    "Piano 2,Sala A",
    "Stagisti\testate",
];

pub(crate) fn build(w: &mut World, code: &'static str, c: usize) -> Draft {
    match code {
        "convert_trial_subscription" => {
            let trials =
                w.states[c].subs_where(|s| s.status == SubStatus::Active && s.product().is_trial());
            match trials.first().copied() {
                Some(i) => {
                    let id = w.states[c].subscriptions[i].id.clone();
                    convert(w, c, &id).expect("an active trial converts")
                }
                None => orders::create(w, c, true),
            }
        }
        "upgrade_subscription" => upgrade(w, c),
        "create_new_commerce_migration" => migration(w, c),
        _ => update(w, c),
    }
}

/// `update_subscription`: one change to one active or suspended subscription.
fn update(w: &mut World, c: usize) -> Draft {
    let live =
        w.states[c].subs_where(|s| matches!(s.status, SubStatus::Active | SubStatus::Suspended));
    if live.is_empty() {
        return orders::create(w, c, false);
    }
    let i = w.rng.pick(&live);
    let before = w.states[c].subscriptions[i].clone();
    let mut after = before.clone();
    let seats = w.states[c].seats;
    let rng = &mut w.rng;
    let mut data = vec![kv("SubscriptionId", before.id.as_str())];
    let azure = before.product().kind == Kind::Azure;
    let change = if before.status == SubStatus::Suspended {
        if rng.per_mille(700) { 1 } else { 5 }
    } else {
        match rng.weighted(&[700, 60, 80, 50, 25]) {
            0 if azure => 2,
            n => n,
        }
    };
    match change {
        0 => {
            let grow = after.quantity <= 1 || rng.per_mille(650);
            after.quantity = if grow {
                after.quantity + rng.range(1, u64::from(seats / 10).max(2)) as u32
            } else {
                after.quantity - rng.range(1, u64::from(after.quantity - 1).min(20)) as u32
            };
            data.push(kv("OldQuantity", before.quantity.to_string()));
            data.push(kv("NewQuantity", after.quantity.to_string()));
        }
        1 => {
            after.status = if before.status == SubStatus::Active {
                SubStatus::Suspended
            } else {
                SubStatus::Active
            }
        }
        2 => {
            after.auto_renew = !before.auto_renew;
            data.push(kv(
                "AutoRenewEnabled",
                if after.auto_renew { "True" } else { "False" },
            ));
        }
        3 => {
            after.friendly_name = (rng.pick(FRIENDLY_NAMES)).to_owned();
            data.push(kv("OldFriendlyName", before.friendly_name.as_str()));
            data.push(kv("NewFriendlyName", after.friendly_name.as_str()));
        }
        _ => after.status = SubStatus::Deleted,
    }
    if after.status != before.status {
        data.push(kv("OldStatus", before.status.code()));
        data.push(kv("NewStatus", after.status.code()));
    }
    changed(w, c, i, before, after, data)
}

/// Records a subscription change, applying it to the model when it succeeded.
fn changed(
    w: &mut World,
    c: usize,
    i: usize,
    before: Subscription,
    after: Subscription,
    data: Vec<actlog_domain::KeyValue>,
) -> Draft {
    let cid = w.customer_id(c).to_owned();
    let draft = Draft::new("update_subscription", Subject::Customer(c))
        .old(before.to_json(&cid))
        .new_value(after.to_json(&cid))
        .data(data);
    if w.succeeded() {
        w.states[c].subscriptions[i] = after;
    }
    draft
}

/// After an upgrade, the source subscription is suspended (its licenses moved to the target).
pub(crate) fn suspend_source(w: &mut World, c: usize, sub_id: &str) -> Option<Draft> {
    let i = w.states[c]
        .subscriptions
        .iter()
        .position(|s| s.id == sub_id)?;
    let before = w.states[c].subscriptions[i].clone();
    if before.status != SubStatus::Active {
        return None;
    }
    let mut after = before.clone();
    after.status = SubStatus::Suspended;
    let data = vec![
        kv("SubscriptionId", sub_id),
        kv("OldStatus", "active"),
        kv("NewStatus", "suspended"),
        kv("Reason", "Upgraded"),
    ];
    Some(changed(w, c, i, before, after, data))
}

/// `convert_trial_subscription`: the trial becomes the paid product, same subscription id.
pub(crate) fn convert(w: &mut World, c: usize, sub_id: &str) -> Option<Draft> {
    let i = w.states[c]
        .subscriptions
        .iter()
        .position(|s| s.id == sub_id)?;
    let before = w.states[c].subscriptions[i].clone();
    let Kind::Trial { paid } = before.product().kind else {
        return None;
    };
    if before.status != SubStatus::Active {
        return None;
    }
    let mut after = before.clone();
    after.product = products::index_of(paid);
    if after.friendly_name == before.product().name {
        after.friendly_name = paid.to_owned();
    }
    after.billing_cycle = if w.rng.per_mille(400) {
        "annual"
    } else {
        "monthly"
    };
    after.quantity = PRODUCTS[after.product].quantity(&mut w.rng, w.states[c].seats);
    after.auto_renew = true;
    let cid = w.customer_id(c).to_owned();
    let data = vec![
        kv("SubscriptionId", sub_id),
        kv("OfferId", before.product().offer_id),
        kv("TargetOfferId", after.product().offer_id),
        kv("Quantity", after.quantity.to_string()),
        kv("BillingCycle", after.billing_cycle),
    ];
    let draft = Draft::new("convert_trial_subscription", Subject::Customer(c))
        .old(before.to_json(&cid))
        .new_value(after.to_json(&cid))
        .data(data);
    if w.succeeded() {
        w.states[c].subscriptions[i] = after;
    }
    Some(draft)
}

/// `upgrade_subscription`: a new subscription of the better product takes over the licenses;
/// the source is suspended by a follow-up minutes later.
fn upgrade(w: &mut World, c: usize) -> Draft {
    let candidates =
        w.states[c].subs_where(|s| s.status == SubStatus::Active && s.product().upgrade.is_some());
    if candidates.is_empty() {
        return orders::create(w, c, false);
    }
    let source = w.states[c].subscriptions[w.rng.pick(&candidates)].clone();
    let target_product = products::index_of(source.product().upgrade.expect("filtered"));
    let target = Subscription {
        id: w.rng.guid_upper(),
        product: target_product,
        friendly_name: PRODUCTS[target_product].name.to_owned(),
        quantity: source.quantity,
        status: SubStatus::Active,
        auto_renew: true,
        billing_cycle: source.billing_cycle,
        created: w.tick,
        order_id: w.rng.guid(),
        parent: None,
    };
    let cid = w.customer_id(c).to_owned();
    let succeeded = w.succeeded();
    let mut data = vec![
        kv("SourceSubscriptionId", source.id.as_str()),
        kv("SourceOfferId", source.product().offer_id),
        kv("TargetOfferId", target.product().offer_id),
        kv("TargetOfferName", target.product().name),
        kv("Quantity", source.quantity.to_string()),
        kv("UpgradeType", "subscription_and_licenses"),
    ];
    let target_id = succeeded.then_some(target.id.as_str());
    data.insert(1, kv_opt("TargetSubscriptionId", target_id));
    let mut draft = Draft::new("upgrade_subscription", Subject::Customer(c))
        .old(source.to_json(&cid))
        .data(data);
    if succeeded {
        draft = draft.new_value(target.to_json(&cid));
        w.states[c].add_subscription(target);
        let delay = w.delay(2 * MINUTE, 15 * MINUTE);
        w.follow(delay, c, Follow::SuspendSource { sub_id: source.id });
    }
    draft
}

/// `create_new_commerce_migration`: moving a subscription to new-commerce terms.
fn migration(w: &mut World, c: usize) -> Draft {
    let candidates = w.states[c]
        .subs_where(|s| s.status == SubStatus::Active && s.product().kind == Kind::Seats);
    let Some(i) = w.rng.pick_opt(&candidates) else {
        return orders::create(w, c, false);
    };
    let sub = w.states[c].subscriptions[i].clone();
    let migration_id = w.rng.guid();
    let status = match w.status {
        Status::Succeeded => "Completed",
        Status::Progress => "Processing",
        _ => "Failed",
    };
    let new = Obj::new()
        .str("Id", &migration_id)
        .str("CurrentSubscriptionId", &sub.id)
        .str("Status", status)
        .str("CustomerTenantId", w.customer_id(c))
        .str(
            "TermDuration",
            if sub.billing_cycle == "annual" {
                "P1Y"
            } else {
                "P1M"
            },
        )
        .str("BillingCycle", sub.billing_cycle)
        .bool("PurchaseFullTerm", false)
        .num("Quantity", sub.quantity)
        .end("NewCommerceMigration");
    let data = vec![
        kv("MigrationId", migration_id),
        kv("CurrentSubscriptionId", sub.id.as_str()),
        kv("OfferName", sub.product().name),
    ];
    Draft::new("create_new_commerce_migration", Subject::Customer(c))
        .new_value(new)
        .data(data)
}
