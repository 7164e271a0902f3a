//! `create_order` and `update_order`: multi-product orders in Partner Center's `Order` shape,
//! with `customizedData` that mirrors the line items (`OfferId-N`, `SubscriptionId-N`, …).
//! Every subscription of the model is born here.

use actlog_domain::KeyValue;

use crate::json::{self, Obj, kv, kv_opt};
use crate::model::{SubStatus, Subscription};
use crate::ops::Status;
use crate::products::{self, Kind, PRODUCTS};
use crate::world::{DAY, Draft, Follow, MINUTE, Subject, World};

/// MPN ids of the indirect resellers that are sometimes partner of record.
const RESELLER_MPN_IDS: &[&str] = &["4851123", "6034718", "5172209"];

/// One line of an order.
#[derive(Debug, Clone)]
struct Line {
    product: usize,
    friendly_name: String,
    quantity: u32,
    subscription_id: Option<String>,
    parent: Option<String>,
    partner_on_record: Option<&'static str>,
}

pub(crate) fn build(w: &mut World, code: &'static str, c: usize) -> Draft {
    match code {
        "update_order" => match pending_order(w, c) {
            Some(order_id) => complete(w, c, &order_id).expect("the order has pending lines"),
            None => create(w, c, false),
        },
        _ => {
            let trial = w.rng.per_mille(90);
            create(w, c, trial)
        }
    }
}

/// A new order of 1–8 products (1–2 trials when `trial`).
pub(crate) fn create(w: &mut World, c: usize, trial: bool) -> Draft {
    let picks = choose_products(w, c, trial);
    let cycle = match (trial, w.rng.per_mille(400)) {
        (true, _) => "none",
        (false, true) => "annual",
        (false, false) => "monthly",
    };
    let provisioned = matches!(w.status, Status::Succeeded | Status::Progress);
    let seats = w.states[c].seats;
    let lines: Vec<Line> = picks
        .into_iter()
        .map(|(product, parent)| Line {
            product,
            friendly_name: PRODUCTS[product].name.to_owned(),
            quantity: PRODUCTS[product].quantity(&mut w.rng, seats),
            subscription_id: provisioned.then(|| w.rng.guid_upper()),
            parent,
            partner_on_record: w.rng.per_mille(100).then(|| w.rng.pick(RESELLER_MPN_IDS)),
        })
        .collect();
    let order_id = w.rng.guid();
    if provisioned {
        remember(w, c, &order_id, cycle, &lines);
    }
    if w.status == Status::Progress {
        let delay = w.delay(3 * MINUTE, 90 * MINUTE);
        w.follow(
            delay,
            c,
            Follow::CompleteOrder {
                order_id: order_id.clone(),
            },
        );
    }
    let status = order_status(w.status);
    let created = w.tick - w.delay(MINUTE / 60, 3 * MINUTE / 60);
    let order = order_json(w.customer_id(c), &order_id, cycle, &lines, status, created);
    Draft::new("create_order", Subject::Customer(c))
        .new_value(order)
        .data(order_data(&order_id, cycle, &lines))
}

/// Adds an order's subscriptions to the model and promises trial conversions.
fn remember(w: &mut World, c: usize, order_id: &str, cycle: &'static str, lines: &[Line]) {
    let status = if w.succeeded() {
        SubStatus::Active
    } else {
        SubStatus::Pending
    };
    for line in lines {
        let Some(id) = line.subscription_id.clone() else {
            continue;
        };
        if PRODUCTS[line.product].is_trial() && w.succeeded() && w.rng.per_mille(600) {
            let delay = w.delay(14 * DAY, 30 * DAY);
            w.follow(delay, c, Follow::ConvertTrial { sub_id: id.clone() });
        }
        let auto_renew = !PRODUCTS[line.product].is_trial() && !w.rng.per_mille(100);
        w.states[c].add_subscription(Subscription {
            id,
            product: line.product,
            friendly_name: line.friendly_name.clone(),
            quantity: line.quantity,
            status,
            auto_renew,
            billing_cycle: cycle,
            created: w.tick,
            order_id: order_id.to_owned(),
            parent: line.parent.clone(),
        });
    }
}

/// Distinct products for an order, each with the parent subscription an add-on attaches to.
fn choose_products(w: &mut World, c: usize, trial: bool) -> Vec<(usize, Option<String>)> {
    let wanted = if trial {
        1 + usize::from(w.rng.per_mille(200))
    } else {
        1 + w.rng.weighted(&[450, 200, 120, 80, 60, 40, 30, 20])
    };
    let popularity: Vec<u32> = PRODUCTS
        .iter()
        .map(|p| {
            if p.is_trial() == trial {
                p.popularity
            } else {
                0
            }
        })
        .collect();
    let mut picks: Vec<(usize, Option<String>)> = Vec::new();
    for _ in 0..wanted * 4 {
        if picks.len() == wanted {
            break;
        }
        let p = w.rng.weighted(&popularity);
        if picks.iter().any(|(q, _)| *q == p) {
            continue;
        }
        let state = &w.states[c];
        let live = |s: &Subscription| s.status != SubStatus::Deleted;
        match PRODUCTS[p].kind {
            Kind::Azure
                if state
                    .subscriptions
                    .iter()
                    .any(|s| live(s) && s.product == p) => {}
            Kind::AddOn { bases } => {
                let base = state
                    .subscriptions
                    .iter()
                    .find(|s| s.status == SubStatus::Active && bases.contains(&s.product().name));
                if let Some(base) = base {
                    picks.push((p, Some(base.id.clone())));
                }
            }
            _ => picks.push((p, None)),
        }
    }
    if picks.is_empty() {
        let fallback = if trial {
            "Microsoft 365 Business Premium Trial"
        } else {
            "Microsoft 365 Business Standard"
        };
        picks.push((products::index_of(fallback), None));
    }
    picks
}

/// Completes an order that was still provisioning: its subscriptions become active.
pub(crate) fn complete(w: &mut World, c: usize, order_id: &str) -> Option<Draft> {
    let subs = w.states[c].subs_where(|s| s.order_id == order_id && s.status == SubStatus::Pending);
    let first = *subs.first()?;
    w.status = Status::Succeeded;
    let state = &mut w.states[c];
    let cycle = state.subscriptions[first].billing_cycle;
    let created = state.subscriptions[first].created;
    let lines: Vec<Line> = subs
        .iter()
        .map(|&i| {
            let s = &mut state.subscriptions[i];
            s.status = SubStatus::Active;
            Line {
                product: s.product,
                friendly_name: s.friendly_name.clone(),
                quantity: s.quantity,
                subscription_id: Some(s.id.clone()),
                parent: s.parent.clone(),
                partner_on_record: None,
            }
        })
        .collect();
    let cid = w.customer_id(c);
    let old = order_json(cid, order_id, cycle, &lines, "pending", created);
    let new = order_json(cid, order_id, cycle, &lines, "completed", created);
    let data = vec![
        kv("OrderId", order_id),
        kv("OldStatus", "pending"),
        kv("NewStatus", "completed"),
    ];
    Some(
        Draft::new("update_order", Subject::Customer(c))
            .old(old)
            .new_value(new)
            .data(data),
    )
}

/// The id of an order of this customer that is still provisioning, if any.
fn pending_order(w: &World, c: usize) -> Option<String> {
    let state = &w.states[c];
    let i = *state
        .subs_where(|s| s.status == SubStatus::Pending)
        .first()?;
    Some(state.subscriptions[i].order_id.clone())
}

fn order_status(status: Status) -> &'static str {
    match status {
        Status::Succeeded => "completed",
        Status::Progress => "pending",
        Status::Failed => "failed",
        Status::Decline => "cancelled",
    }
}

fn order_json(
    cid: &str,
    order_id: &str,
    cycle: &str,
    lines: &[Line],
    status: &str,
    created: i64,
) -> String {
    let items = lines.iter().enumerate().map(|(n, line)| {
        let mut item = Obj::new()
            .num("LineItemNumber", n)
            .str("OfferId", PRODUCTS[line.product].offer_id)
            .opt("SubscriptionId", line.subscription_id.as_deref())
            .opt("ParentSubscriptionId", line.parent.as_deref())
            .str("FriendlyName", &line.friendly_name)
            .num("Quantity", line.quantity)
            .opt("PartnerIdOnRecord", line.partner_on_record);
        if let Some(id) = &line.subscription_id {
            let uri = format!("/customers/{cid}/subscriptions/{id}");
            item = item.raw(
                "Links",
                &Obj::new().raw("Subscription", &json::link(&uri)).done(),
            );
        }
        item.done()
    });
    let self_link = json::link(&format!("/customers/{cid}/orders/{order_id}"));
    let attributes = Obj::new()
        .str("Etag", &json::etag(order_id, 1))
        .str("ObjectType", "Order")
        .done();
    Obj::new()
        .str("Id", order_id)
        .str("ReferenceCustomerId", cid)
        .str("BillingCycle", cycle)
        .str("CurrencyCode", "EUR")
        .raw("LineItems", &json::array(items))
        .str("CreationDate", &json::iso_ms(created))
        .str("Status", status)
        .raw("Links", &Obj::new().raw("Self", &self_link).done())
        .raw("Attributes", &attributes)
        .done()
}

/// `customizedData` of an order, as Partner Center writes it (billing cycle capitalized).
fn order_data(order_id: &str, cycle: &str, lines: &[Line]) -> Vec<KeyValue> {
    let capitalized = format!("{}{}", cycle[..1].to_ascii_uppercase(), &cycle[1..]);
    let mut data = vec![kv("OrderId", order_id), kv("BillingCycle", capitalized)];
    for (n, line) in lines.iter().enumerate() {
        data.push(kv(&format!("OfferId-{n}"), PRODUCTS[line.product].offer_id));
        data.push(kv_opt(
            &format!("SubscriptionId-{n}"),
            line.subscription_id.as_deref(),
        ));
        data.push(kv(
            &format!("SubscriptionName-{n}"),
            line.friendly_name.as_str(),
        ));
        data.push(kv(&format!("Quantity-{n}"), line.quantity.to_string()));
        data.push(kv_opt(
            &format!("PartnerOnRecord-{n}"),
            line.partner_on_record,
        ));
    }
    data
}
