//! The record stream: picks what happens next, builds it, and dresses it as an `AuditRecord`.
//!
//! Each step takes the next time from the [`Schedule`], then, in this order: an operation type
//! the demo must show at least once (spread over the middle of the stream, so every type is
//! present even in small demos), a follow-up that has come due, or a fresh draw from the mix.

use actlog_domain::record::Attributes;
use actlog_domain::{AuditRecord, OperationDate};

use crate::names::{APP_IDENTITY, PARTNER_USERS, STAFF_WEIGHTS};
use crate::ops::{self, Actor, Op, Outcomes, Scope, Status};
use crate::rng::Rng;
use crate::schedule::{HOUR, Schedule};
use crate::world::{Draft, Follow, Pending, Subject, Who, World};
use crate::{DemoSpec, admin, customers, orders, partner, services, spice, subscriptions, users};

/// The application id of Partner Center's own portal, the most common one.
pub(crate) const NATIVE_APP: &str = "Partner Center Native App";
/// The partner's billing integration.
const BILLING_SYNC: &str = "Contoso Billing Sync";
/// A professional-services tool registered by its GUID.
const PSA_APP: &str = "7c4a0e52-91b3-4f7e-9d0a-3e5f8b2c6a14";
/// .NET ticks at the Unix epoch: Partner Center's record ids carry .NET ticks.
const DOTNET_EPOCH_TICKS: i64 = 621_355_968_000_000_000;

/// The iterator [`crate::generate`] returns.
#[derive(Debug)]
pub(crate) struct Generator {
    world: World,
    schedule: Schedule,
    /// Draws for the schedule only, so that times do not depend on what was generated.
    time_rng: Rng,
    index: u64,
    total: u64,
    /// Cumulative activity weights of the customers.
    customer_weights: Vec<u64>,
    op_weights: Vec<u32>,
    partner_op_weights: Vec<u32>,
    /// Positions where each operation type of the mix is forced, ascending.
    forced: Vec<u64>,
    next_forced: usize,
    long_note_at: u64,
    /// Each partner user's current sign-in session and when it ends.
    sessions: Vec<Option<(String, i64)>>,
}

impl Generator {
    pub(crate) fn new(spec: &DemoSpec) -> Self {
        let customers = crate::customers(spec);
        let now = crate::now_ticks(spec.now);
        let mut model_rng = Rng::stream(spec.seed, "model");
        let states = customers::initial_states(&mut model_rng, &customers, now);
        let customer_weights = activity_weights(&mut model_rng, customers.len());
        let world = World::new(
            spec.partner_id.clone(),
            customers,
            states,
            Rng::stream(spec.seed, "activity"),
        );
        let total = spec.records as u64;
        Generator {
            world,
            schedule: Schedule::new(OperationDate::from_ticks(now), spec.records),
            time_rng: Rng::stream(spec.seed, "schedule"),
            index: 0,
            total,
            customer_weights,
            op_weights: ops::weights(false),
            partner_op_weights: ops::weights(true),
            forced: forced_positions(total, ops::OPS.len()),
            next_forced: 0,
            long_note_at: total / 3,
            sessions: vec![None; PARTNER_USERS.len()],
        }
    }

    fn draft(&mut self, index: u64) -> Draft {
        if self.forced.get(self.next_forced) == Some(&index) {
            let op = &ops::OPS[self.next_forced];
            self.next_forced += 1;
            return self.fresh(op, true);
        }
        if let Some(pending) = self.world.due()
            && let Some(draft) = follow_up(&mut self.world, pending)
        {
            return draft;
        }
        let op = &ops::OPS[self.world.rng.weighted(&self.op_weights)];
        self.fresh(op, false)
    }

    fn fresh(&mut self, op: &'static Op, forced: bool) -> Draft {
        self.world.who = self.choose_who(op.actor);
        if op.scope == Scope::Partner {
            return build_partner(&mut self.world, op.code);
        }
        match self.pick_customer(forced) {
            Some(c) if self.world.states[c].joins_at.is_some() => {
                self.world.states[c].joins_at = None;
                self.world.status = Status::Succeeded;
                customers::onboard(&mut self.world, c)
            }
            Some(c) => build_customer(&mut self.world, op.code, c),
            None => {
                let op = &ops::OPS[self.world.rng.weighted(&self.partner_op_weights)];
                build_partner(&mut self.world, op.code)
            }
        }
    }

    /// A customer to act on, favouring the busy ones; `None` when none is available. A customer
    /// whose sign-up time has come is returned too (its first record is `add_customer`), unless
    /// the operation is forced.
    fn pick_customer(&mut self, forced: bool) -> Option<usize> {
        let total = *self.customer_weights.last()?;
        for _ in 0..16 {
            let target = self.world.rng.below(total);
            let c = self.customer_weights.partition_point(|&w| w <= target);
            let state = &self.world.states[c];
            if state.available(self.world.tick) && !(forced && state.joins_at.is_some()) {
                return Some(c);
            }
        }
        let tick = self.world.tick;
        let states = &self.world.states;
        (0..states.len()).find(|&c| states[c].available(tick) && states[c].joins_at.is_none())
    }

    fn choose_who(&mut self, actor: Actor) -> Who {
        let rng = &mut self.world.rng;
        let app_share = match actor {
            Actor::Microsoft => {
                return Who {
                    user: None,
                    application: None,
                };
            }
            Actor::Sync => 350,
            Actor::Staff => 30,
        };
        if rng.per_mille(app_share) {
            let app = if rng.per_mille(800) {
                BILLING_SYNC
            } else {
                PSA_APP
            };
            return Who {
                user: Some(APP_IDENTITY),
                application: Some(app),
            };
        }
        let user = rng.weighted(STAFF_WEIGHTS);
        let application = match rng.weighted(&[700, 150, 100, 50]) {
            0 => Some(NATIVE_APP),
            1 => None,
            2 => Some(PSA_APP),
            _ => Some("Partner Center PowerShell"),
        };
        Who {
            user: Some(user),
            application,
        }
    }

    fn finish(&mut self, index: u64, draft: Draft) -> AuditRecord {
        let op = ops::op(draft.op);
        let who = match op.actor {
            Actor::Microsoft => Who {
                user: None,
                application: None,
            },
            _ => self.world.who,
        };
        let (customer_id, customer_name) = match draft.subject {
            Subject::Customer(c) => {
                let customer = &self.world.customers[c];
                (Some(customer.id.clone()), Some(customer.name.clone()))
            }
            Subject::Other { id, name } => (Some(id), Some(name)),
            Subject::Nobody => (None, None),
        };
        let mut data = draft.data;
        if self.world.status == Status::Failed {
            data.extend(customers::failure(&mut self.world.rng));
        }
        if index == self.long_note_at {
            data.push(spice::long_note());
        } else if let Some(note) = spice::maybe_note(&mut self.world.rng) {
            data.push(note);
        }
        let tick = self.world.tick;
        let prefix = customer_id.as_deref().unwrap_or("partner");
        let id = format!(
            "{prefix}_{}_{}_{index}",
            draft.op.replace('_', ""),
            tick + DOTNET_EPOCH_TICKS
        );
        let correlation = self.world.correlation.take().or_else(|| {
            let rng = &mut self.world.rng;
            rng.per_mille(200).then(|| rng.guid())
        });
        AuditRecord {
            id,
            partner_id: self.world.partner_id.clone(),
            customer_id,
            customer_name,
            user_principal_name: who.user.map(|u| PARTNER_USERS[u].to_owned()),
            application_id: who.application.map(str::to_owned),
            resource_type: Some(op.resource.to_owned()),
            resource_old_value: draft.old,
            resource_new_value: draft.new,
            operation_type: draft.op.to_owned(),
            operation_date: OperationDate::from_ticks(tick),
            operation_status: Some(self.world.status.code().to_owned()),
            customized_data: (!data.is_empty()).then_some(data),
            session_id: self.session(who),
            original_correlation_id: correlation,
            attributes: Attributes::audit_record(),
            extensions: Default::default(),
        }
    }

    /// People working in Partner Center's portal carry a session id that lasts a few hours.
    fn session(&mut self, who: Who) -> Option<String> {
        let user = who.user.filter(|&u| u != APP_IDENTITY)?;
        if who.application != Some(NATIVE_APP) || !self.world.rng.per_mille(700) {
            return None;
        }
        let tick = self.world.tick;
        match &self.sessions[user] {
            Some((id, until)) if *until >= tick => Some(id.clone()),
            _ => {
                let id = self.world.rng.guid();
                let until = tick + self.world.delay(2 * HOUR, 8 * HOUR);
                self.sessions[user] = Some((id.clone(), until));
                Some(id)
            }
        }
    }
}

impl Iterator for Generator {
    type Item = AuditRecord;

    fn next(&mut self) -> Option<AuditRecord> {
        if self.index >= self.total {
            return None;
        }
        let index = self.index;
        self.index += 1;
        self.world.tick = self.schedule.at(index, &mut self.time_rng);
        self.world.correlation = None;
        let draft = self.draft(index);
        Some(self.finish(index, draft))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = (self.total - self.index) as usize;
        (left, Some(left))
    }
}

impl ExactSizeIterator for Generator {}

/// Builds one customer operation, first drawing how it ends.
pub(crate) fn build_customer(w: &mut World, code: &'static str, c: usize) -> Draft {
    w.draw_status(ops::op(code).outcomes);
    match code {
        "create_order" | "update_order" => orders::build(w, code, c),
        "update_subscription"
        | "convert_trial_subscription"
        | "upgrade_subscription"
        | "create_new_commerce_migration" => subscriptions::build(w, code, c),
        c_code if c_code.contains("customer_user") || c_code.contains("user_member") => {
            users::build(w, code, c)
        }
        g if g.starts_with("granular_admin") || g.starts_with("dap_admin") => {
            admin::build(w, code, c)
        }
        "update_customer_billing_profile"
        | "update_company_info"
        | "update_customer_partner_contract_company_name"
        | "update_customer_qualification"
        | "update_customer_spending_budget"
        | "remove_partner_customer_relationship"
        | "create_agreement"
        | "create_mpn_association"
        | "update_mpn_association" => customers::build(w, code, c),
        _ => services::build(w, code, c),
    }
}

/// Builds one operation on the partner's own account, first drawing how it ends.
fn build_partner(w: &mut World, code: &'static str) -> Draft {
    w.draw_status(ops::op(code).outcomes);
    partner::build(w, code)
}

/// Runs a promised follow-up, or `None` when it no longer makes sense (the subscription was
/// cancelled meanwhile, the customer left).
fn follow_up(w: &mut World, pending: Pending) -> Option<Draft> {
    let c = pending.customer;
    if w.states[c].gone {
        return None;
    }
    w.who = pending.who;
    w.correlation = Some(pending.correlation);
    w.status = Status::Succeeded;
    match pending.follow {
        Follow::AdminUser => Some(users::create_admin(w, c)),
        Follow::Agreement => Some(customers::build(w, "create_agreement", c)),
        Follow::FirstOrder => {
            w.draw_status(Outcomes::Order);
            Some(orders::create(w, c, false))
        }
        Follow::GdapApproval => Some(admin::build(w, "granular_admin_relationship_approved", c)),
        Follow::GdapActivated => Some(admin::build(w, "granular_admin_relationship_activated", c)),
        Follow::GdapTerminated => {
            Some(admin::build(w, "granular_admin_relationship_terminated", c))
        }
        Follow::GdapAssignment => Some(admin::build(
            w,
            "granular_admin_access_assignment_created",
            c,
        )),
        Follow::GdapAssignmentActivated => Some(admin::build(
            w,
            "granular_admin_access_assignment_activated",
            c,
        )),
        Follow::CompleteOrder { order_id } => orders::complete(w, c, &order_id),
        Follow::SuspendSource { sub_id } => subscriptions::suspend_source(w, c, &sub_id),
        Follow::ConvertTrial { sub_id } => {
            w.draw_status(Outcomes::Plain);
            subscriptions::convert(w, c, &sub_id)
        }
        Follow::RestoreUser { user_id } => users::restore(w, c, &user_id),
        Follow::TransferUpdate { transfer_id } => {
            w.draw_status(Outcomes::Async);
            Some(services::transfer(
                w,
                "update_transfer",
                c,
                Some(transfer_id),
            ))
        }
    }
}

/// Cumulative activity weights: a few customers are very busy, most are occasional. The
/// flagship customer (index 0) is the busiest, so the demo shows it well.
fn activity_weights(rng: &mut Rng, count: usize) -> Vec<u64> {
    let mut ranks: Vec<u64> = (0..count as u64).collect();
    for i in (2..count).rev() {
        let j = 1 + rng.index(i);
        ranks.swap(i, j);
    }
    let mut total = 0;
    ranks
        .iter()
        .map(|&rank| {
            total += 1_000_000 / (rank + 10);
            total
        })
        .collect()
}

/// Where each operation type of the mix is forced once: evenly over the middle half of the
/// stream, when the stream is long enough for it not to distort the mix.
fn forced_positions(total: u64, ops: usize) -> Vec<u64> {
    let ops = ops as u64;
    if total < ops * 8 {
        return Vec::new();
    }
    (0..ops)
        .map(|j| total / 4 + j * (total / 2) / ops)
        .collect()
}
