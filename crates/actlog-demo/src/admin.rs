//! Delegated administration: granular (GDAP) relationships and their access assignments, and
//! the legacy DAP relationships being retired. GDAP resources use Microsoft Graph's shape
//! (camelCase), as Partner Center logs them. A relationship approval is followed by its
//! activation and a first access assignment; a termination request by the termination.

use crate::json::{self, Obj, kv};
use crate::users::DIRECTORY_ROLES;
use crate::world::{Draft, Follow, MINUTE, Subject, World};

/// Security groups of the partner that receive access.
const GROUPS: &[(&str, &str)] = &[
    ("AdminAgents", "3f1b4a6e-2c1d-4e8f-9a7b-5c6d7e8f9a01"),
    ("HelpdeskAgents", "8a2c5d7e-4b3f-4a1e-8c9d-0e1f2a3b4c5d"),
    ("Tecnici Livello 2", "c4d5e6f7-a8b9-4c0d-9e1f-2a3b4c5d6e7f"),
];

pub(crate) fn build(w: &mut World, code: &'static str, c: usize) -> Draft {
    if code.starts_with("dap_") {
        return dap(w, code, c);
    }
    if code.contains("access_assignment") {
        return assignment(w, code, c);
    }
    let fresh = code == "granular_admin_relationship_approved" || w.states[c].gdap.is_none();
    if fresh {
        w.states[c].gdap = Some(w.rng.guid());
    }
    let (before, after) = match code {
        "granular_admin_relationship_approved" => ("approvalPending", "approved"),
        "granular_admin_relationship_activated" => ("activating", "active"),
        "granular_admin_relationship_termination_requested" => ("active", "terminationRequested"),
        "granular_admin_relationship_terminated" => ("terminating", "terminated"),
        "granular_admin_relationship_expired" => ("expiring", "expired"),
        _ => ("terminated", "terminated"),
    };
    if w.succeeded() {
        let next = match code {
            "granular_admin_relationship_approved" => {
                Some((Follow::GdapActivated, MINUTE, 10 * MINUTE))
            }
            "granular_admin_relationship_activated" => {
                Some((Follow::GdapAssignment, 5 * MINUTE, 60 * MINUTE))
            }
            "granular_admin_relationship_termination_requested" => {
                Some((Follow::GdapTerminated, MINUTE, 5 * MINUTE))
            }
            _ => None,
        };
        if let Some((follow, lo, hi)) = next {
            let delay = w.delay(lo, hi);
            w.follow(delay, c, follow);
        }
    }
    let id = w.states[c].gdap.clone().expect("set above");
    let mut data = vec![kv("RelationshipId", id.as_str()), kv("Status", after)];
    let draft = Draft::new(code, Subject::Customer(c));
    if code == "granular_admin_relationship_cleaned_up" {
        data.push(kv(
            "RemovedAccessAssignments",
            w.rng.range(1, 4).to_string(),
        ));
        return draft.old(relationship(w, c, &id, before)).data(data);
    }
    draft
        .old(relationship(w, c, &id, before))
        .new_value(relationship(w, c, &id, after))
        .data(data)
}

fn relationship(w: &World, c: usize, id: &str, status: &str) -> String {
    let customer = &w.customers[c];
    let roles = json::array(
        DIRECTORY_ROLES
            .iter()
            .take(4)
            .map(|(_, role)| Obj::new().str("roleDefinitionId", role).done()),
    );
    let name = format!("Contoso-GDAP-{}", &customer.id[..8]);
    Obj::new()
        .str("id", id)
        .str("displayName", &name)
        .raw(
            "customer",
            &Obj::new()
                .str("tenantId", &customer.id)
                .str("displayName", &customer.name)
                .done(),
        )
        .str("duration", "P730D")
        .str("autoExtendDuration", "P180D")
        .str("status", status)
        .raw(
            "accessDetails",
            &Obj::new().raw("unifiedRoles", &roles).done(),
        )
        .str("lastModifiedDateTime", &json::iso_ms(w.tick))
        .done()
}

/// An access assignment: one of the partner's security groups gets roles in the relationship.
fn assignment(w: &mut World, code: &'static str, c: usize) -> Draft {
    let relationship = match &w.states[c].gdap {
        Some(id) => id.clone(),
        None => {
            let id = w.rng.guid();
            w.states[c].gdap = Some(id.clone());
            id
        }
    };
    let (group, group_id) = w.rng.pick(GROUPS);
    let id = crate::rng::guid_for(&format!("{relationship} {group}"));
    let roles = w.rng.range(1, 3) as usize;
    let (before, after) = match code {
        "granular_admin_access_assignment_created" => (None, "pending"),
        "granular_admin_access_assignment_activated" => (Some("pending"), "active"),
        "granular_admin_access_assignment_deleted" => (Some("active"), "deleted"),
        _ => (Some("active"), "active"),
    };
    if code == "granular_admin_access_assignment_created" && w.succeeded() {
        let delay = w.delay(MINUTE, 10 * MINUTE);
        w.follow(delay, c, Follow::GdapAssignmentActivated);
    }
    let json = |status: &str, roles: usize| {
        let unified = json::array(
            DIRECTORY_ROLES
                .iter()
                .skip(1)
                .take(roles)
                .map(|(_, r)| Obj::new().str("roleDefinitionId", r).done()),
        );
        let container = Obj::new()
            .str("accessContainerId", group_id)
            .str("accessContainerType", "securityGroup")
            .done();
        Obj::new()
            .str("id", &id)
            .raw("accessContainer", &container)
            .raw(
                "accessDetails",
                &Obj::new().raw("unifiedRoles", &unified).done(),
            )
            .str("status", status)
            .done()
    };
    let data = vec![
        kv("RelationshipId", relationship.as_str()),
        kv("AccessAssignmentId", id.as_str()),
        kv("SecurityGroup", group),
    ];
    let draft = Draft::new(code, Subject::Customer(c)).data(data);
    let draft = match before {
        Some(status) => draft.old(json(status, roles)),
        None => draft,
    };
    let new_roles = if code.ends_with("updated") {
        roles + 1
    } else {
        roles
    };
    draft.new_value(json(after, new_roles))
}

/// Legacy delegated admin privileges: approved, removed by the partner, or removed by Microsoft
/// after 90 days without use.
fn dap(w: &mut World, code: &'static str, c: usize) -> Draft {
    let customer = w.customers[c].clone();
    let (before, after, reason) = match code {
        "dap_admin_relationship_approved" => ("none", "active", "Customer accepted the invitation"),
        "dap_admin_relationship_terminated" => {
            ("active", "terminated", "Replaced by a GDAP relationship")
        }
        _ => (
            "active",
            "terminated",
            "No administrative activity for 90 days",
        ),
    };
    let json = |status: &str| {
        Obj::new()
            .str("CustomerTenantId", &customer.id)
            .str("PartnerTenantId", &w.partner_id)
            .str("Status", status)
            .end("PartnerCustomerDap")
    };
    let data = vec![
        kv("CustomerTenantId", customer.id.as_str()),
        kv("Reason", reason),
    ];
    Draft::new(code, Subject::Customer(c))
        .old(json(before))
        .new_value(json(after))
        .data(data)
}
