//! The mix of operations: which ones, how often, about what, by whom, and how they end.
//!
//! Weights are per ten thousand records, shaped like a mid-sized CSP's log: orders,
//! subscription changes, password resets and new users dominate; relationship, device, policy
//! and partner-account operations are rare. Every operation type of Partner Center's catalog
//! has a weight, plus a few not yet in it (the catalog keeps growing, and actlog must keep
//! unknown types as they come).

/// How an operation ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Status {
    Succeeded,
    Failed,
    Progress,
    Decline,
}

impl Status {
    pub(crate) fn code(self) -> &'static str {
        match self {
            Status::Succeeded => "succeeded",
            Status::Failed => "failed",
            Status::Progress => "progress",
            Status::Decline => "decline",
        }
    }

    pub(crate) const ALL: [Status; 4] = [
        Status::Succeeded,
        Status::Failed,
        Status::Progress,
        Status::Decline,
    ];
}

/// How likely each ending is, per mille, in [`Status::ALL`] order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcomes {
    /// Synchronous changes: they work or they fail.
    Plain,
    /// Orders: provisioning can still be running, payment or fraud checks can decline.
    Order,
    /// Long-running operations (transfers, migrations, device uploads).
    Async,
    /// Requests someone else approves (referrals, credits, spending limits).
    Approval,
    /// Events Microsoft records on its own.
    Event,
    /// Only failures (attempts that never created their resource).
    Failure,
}

impl Outcomes {
    pub(crate) fn weights(self) -> [u32; 4] {
        match self {
            Outcomes::Plain => [972, 28, 0, 0],
            Outcomes::Order => [920, 35, 35, 10],
            Outcomes::Async => [780, 50, 170, 0],
            Outcomes::Approval => [840, 30, 20, 110],
            Outcomes::Event => [1000, 0, 0, 0],
            Outcomes::Failure => [0, 1000, 0, 0],
        }
    }
}

/// Who performs an operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Actor {
    /// Partner staff in Partner Center or a tool; rarely the billing integration.
    Staff,
    /// Often the billing integration acting on its own (quantity syncs, orders, licenses).
    Sync,
    /// Microsoft itself: no partner user.
    Microsoft,
}

/// Whether an operation concerns one customer or the partner's own account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scope {
    Customer,
    Partner,
}

/// One operation type of the mix.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Op {
    pub code: &'static str,
    pub resource: &'static str,
    pub weight: u32,
    pub scope: Scope,
    pub outcomes: Outcomes,
    pub actor: Actor,
}

macro_rules! ops {
    ($(($code:literal, $resource:literal, $weight:literal, $scope:ident, $outcomes:ident, $actor:ident)),* $(,)?) => {
        &[$(Op {
            code: $code,
            resource: $resource,
            weight: $weight,
            scope: Scope::$scope,
            outcomes: Outcomes::$outcomes,
            actor: Actor::$actor,
        }),*]
    };
}

/// The mix. Weight 0 marks operations that only happen as follow-ups of others (a GDAP
/// relationship activates after its approval); they still appear once each in every demo long
/// enough. `add_customer` here is the failed sign-up with no customer; successful sign-ups
/// come from the customers who join during the window.
#[rustfmt::skip]
pub(crate) const OPS: &[Op] = ops![
    ("create_order",                                      "order",                            1300, Customer, Order,    Sync),
    ("update_order",                                      "order",                            10,   Customer, Plain,    Staff),
    ("update_subscription",                               "subscription",                     1500, Customer, Plain,    Sync),
    ("convert_trial_subscription",                        "subscription",                     140,  Customer, Plain,    Staff),
    ("upgrade_subscription",                              "subscription",                     110,  Customer, Plain,    Staff),
    ("reset_customer_user_password",                      "customer_user",                    1100, Customer, Plain,    Staff),
    ("create_customer_user",                              "customer_user",                    1000, Customer, Plain,    Staff),
    ("update_customer_user_licenses",                     "license",                          850,  Customer, Plain,    Sync),
    ("update_customer_user",                              "customer_user",                    450,  Customer, Plain,    Staff),
    ("delete_customer_user",                              "customer_user",                    260,  Customer, Plain,    Staff),
    ("update_customer_user_principal_name",               "customer_user",                    90,   Customer, Plain,    Staff),
    ("restore_customer_user",                             "customer_user",                    30,   Customer, Plain,    Staff),
    ("update_sfb_customer_user_licenses",                 "license",                          20,   Customer, Plain,    Staff),
    ("add_user_member",                                   "customer_directory_role",          140,  Customer, Plain,    Staff),
    ("remove_user_member",                                "customer_directory_role",          60,   Customer, Plain,    Staff),
    ("add_customer",                                      "customer",                         4,    Partner,  Failure,  Staff),
    ("update_customer_billing_profile",                   "customer",                         150,  Customer, Plain,    Staff),
    ("update_company_info",                               "customer",                         90,   Customer, Plain,    Staff),
    ("update_customer_partner_contract_company_name",     "customer",                         15,   Customer, Plain,    Staff),
    ("update_customer_qualification",                     "customer",                         12,   Customer, Approval, Staff),
    ("update_customer_spending_budget",                   "customer",                         40,   Customer, Plain,    Staff),
    ("delete_customer",                                   "customer",                         4,    Partner,  Plain,    Staff),
    ("delete_tip_customer",                               "customer",                         4,    Partner,  Plain,    Staff),
    ("remove_partner_customer_relationship",              "partner_customer_relationship",    3,    Customer, Plain,    Staff),
    ("create_agreement",                                  "agreement",                        60,   Customer, Plain,    Staff),
    ("increase_spending_limit",                           "spending_limit",                   20,   Customer, Approval, Staff),
    ("manage_overage",                                    "overage",                          15,   Customer, Plain,    Staff),
    ("create_new_commerce_migration",                     "new_commerce_migration",           40,   Customer, Async,    Staff),
    ("azure_fraud_event_detected",                        "azure_entitlement",                5,    Customer, Event,    Microsoft),
    ("get_software_key",                                  "software_key",                     20,   Customer, Plain,    Staff),
    ("get_software_download_link",                        "software_download_link",           30,   Customer, Plain,    Staff),
    ("create_transfer",                                   "transfer",                         15,   Customer, Async,    Staff),
    ("update_transfer",                                   "transfer",                         20,   Customer, Async,    Staff),
    ("create_mpn_association",                            "mpn_association",                  20,   Customer, Plain,    Staff),
    ("update_mpn_association",                            "mpn_association",                  10,   Customer, Plain,    Staff),
    ("create_self_serve_policy",                          "self_serve_policy",                8,    Customer, Plain,    Staff),
    ("update_self_serve_policy",                          "self_serve_policy",                5,    Customer, Plain,    Staff),
    ("delete_self_serve_policy",                          "self_serve_policy",                3,    Customer, Plain,    Staff),
    ("create_credit",                                     "credit",                           12,   Customer, Approval, Staff),
    ("update_credit",                                     "credit",                           8,    Customer, Approval, Staff),
    ("cancel_credit",                                     "credit",                           5,    Customer, Plain,    Staff),
    ("granular_admin_relationship_approved",              "granular_admin_relationship",      35,   Customer, Plain,    Staff),
    ("granular_admin_relationship_activated",             "granular_admin_relationship",      0,   Customer, Event,    Microsoft),
    ("granular_admin_relationship_termination_requested", "granular_admin_relationship",      15,   Customer, Plain,    Staff),
    ("granular_admin_relationship_terminated",            "granular_admin_relationship",      15,   Customer, Event,    Microsoft),
    ("granular_admin_relationship_expired",               "granular_admin_relationship",      12,   Customer, Event,    Microsoft),
    ("granular_admin_relationship_cleaned_up",            "granular_admin_relationship",      8,    Customer, Event,    Microsoft),
    ("granular_admin_access_assignment_created",          "granular_admin_access_assignment", 10,   Customer, Plain,    Staff),
    ("granular_admin_access_assignment_updated",          "granular_admin_access_assignment", 25,   Customer, Plain,    Staff),
    ("granular_admin_access_assignment_deleted",          "granular_admin_access_assignment", 15,   Customer, Plain,    Staff),
    ("granular_admin_access_assignment_activated",        "granular_admin_access_assignment", 0,   Customer, Event,    Microsoft),
    ("dap_admin_relationship_approved",                   "partner_customer_dap",             5,    Customer, Plain,    Staff),
    ("dap_admin_relationship_terminated",                 "partner_customer_dap",             20,   Customer, Plain,    Staff),
    ("dap_admin_relationship_terminated_by_microsoft",    "partner_customer_dap",             12,   Customer, Event,    Microsoft),
    ("policy_created",                                    "policy",                           15,   Customer, Plain,    Staff),
    ("policy_updated",                                    "policy",                           12,   Customer, Plain,    Staff),
    ("policy_deleted",                                    "policy",                           6,    Customer, Plain,    Staff),
    ("device_updated",                                    "device",                           25,   Customer, Plain,    Staff),
    ("device_deleted",                                    "device",                           12,   Customer, Plain,    Staff),
    ("devices_update_attempted",                          "device",                           15,   Customer, Async,    Staff),
    ("devices_upload_to_new_batch_attempted",             "device",                           15,   Customer, Async,    Staff),
    ("devices_upload_to_existing_batch_attempted",        "device",                           12,   Customer, Async,    Staff),
    ("create_partner_relationship",                       "partner_relationship",             8,    Partner,  Plain,    Staff),
    ("remove_partner_relationship",                       "partner_relationship",             4,    Partner,  Plain,    Staff),
    ("extend_relationship",                               "partner_relationship",             4,    Partner,  Plain,    Staff),
    ("register_application",                              "application",                      5,    Partner,  Plain,    Staff),
    ("unregister_application",                            "application",                      3,    Partner,  Plain,    Staff),
    ("add_application_credential",                        "application_credential",           8,    Partner,  Plain,    Staff),
    ("remove_application_credential",                     "application_credential",           6,    Partner,  Plain,    Staff),
    ("create_partner_user",                               "partner_user",                     10,   Partner,  Plain,    Staff),
    ("update_partner_user",                               "partner_user",                     25,   Partner,  Plain,    Staff),
    ("remove_partner_user",                               "partner_user",                     6,    Partner,  Plain,    Staff),
    ("create_referral",                                   "referral",                         60,   Partner,  Approval, Staff),
    ("update_referral",                                   "referral",                         90,   Partner,  Approval, Staff),
    ("create_related_referral",                           "referral",                         15,   Partner,  Approval, Staff),
    ("update_related_referral",                           "referral",                         15,   Partner,  Approval, Staff),
    ("ready_invoice",                                     "invoice",                          6,    Partner,  Event,    Microsoft),
    ("software_attestation",                              "software_page",                    5,    Partner,  Plain,    Staff),
    // Not (yet) in Partner Center's catalog: actlog keeps unknown types as they come.
    ("create_ai_agent_subscription",                      "ai_agent_subscription",            15,   Customer, Order,    Staff),
    ("update_agent_usage_policy",                         "agent_usage_policy",               8,    Customer, Plain,    Staff),
];

/// The entry for an operation code.
pub(crate) fn op(code: &str) -> &'static Op {
    OPS.iter()
        .find(|o| o.code == code)
        .unwrap_or_else(|| panic!("{code} is not in the mix"))
}

/// The weights of [`OPS`], for weighted draws; `partner_only` keeps only partner-scoped ones.
pub(crate) fn weights(partner_only: bool) -> Vec<u32> {
    OPS.iter()
        .map(|o| match (partner_only, o.scope) {
            (true, Scope::Customer) => 0,
            _ => o.weight,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use actlog_domain::catalog::{OPERATIONS, RESOURCES};

    use super::*;

    #[test]
    fn the_mix_covers_the_whole_catalog_and_a_few_unknown_types() {
        for entry in OPERATIONS.entries() {
            if entry.code != "undefined" {
                op(entry.code);
            }
        }
        let unknown: Vec<_> = OPS
            .iter()
            .filter(|o| OPERATIONS.get(o.code).is_none())
            .collect();
        assert_eq!(unknown.len(), 2);
        for o in OPS.iter().filter(|o| OPERATIONS.get(o.code).is_some()) {
            assert!(RESOURCES.get(o.resource).is_some(), "{}", o.resource);
        }
    }
}
