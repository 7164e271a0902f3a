//! Customer users: creation, changes, password resets, UPN changes, deletion and restore,
//! license assignments and directory-role memberships. Users live on the customer's domain and
//! are remembered, so a password reset names a user that exists.

use crate::json::{Obj, kv, strings};
use crate::model::{SubStatus, User};
use crate::names;
use crate::orders;
use crate::rng::guid_for;
use crate::world::{DAY, Draft, Follow, Subject, World};

/// Directory roles with their well-known role template ids.
pub(crate) const DIRECTORY_ROLES: &[(&str, &str)] = &[
    (
        "Global Administrator",
        "62e90394-69f5-4237-9190-012177145e10",
    ),
    ("User Administrator", "fe930be7-5e62-47db-91af-98c3a49a38b1"),
    (
        "Helpdesk Administrator",
        "729827e3-9c14-49f7-bb1b-9608f156bbb8",
    ),
    (
        "Billing Administrator",
        "b0f54661-2d74-4c50-afa3-1ec803f12efe",
    ),
    (
        "Exchange Administrator",
        "29232cdf-9323-42fd-ade2-1d097af3e4de",
    ),
    (
        "License Administrator",
        "4d6ac14f-3453-41d0-bef9-a3e0c569773a",
    ),
];
const USAGE_LOCATIONS: &[&str] = &["IT", "IT", "IT", "DE", "FR", "GB", "US", "ES", "CH"];

pub(crate) fn build(w: &mut World, code: &'static str, c: usize) -> Draft {
    if code == "create_customer_user" {
        return create(w, c, false);
    }
    if code == "restore_customer_user" {
        let deleted: Vec<usize> = (0..w.states[c].users.len())
            .filter(|&i| w.states[c].users[i].deleted)
            .collect();
        return match w.rng.pick_opt(&deleted) {
            Some(i) => {
                let id = w.states[c].users[i].id.clone();
                restore(w, c, &id).expect("a deleted user restores")
            }
            // Nobody to restore yet: a deletion now, undone later (the usual story).
            None => with_user(w, c, "delete_customer_user"),
        };
    }
    with_user(w, c, code)
}

/// An operation on an existing, active user; a new user when the customer has none.
fn with_user(w: &mut World, c: usize, code: &'static str) -> Draft {
    let Some(u) = w.rng.pick_opt(&w.states[c].active_users()) else {
        return create(w, c, false);
    };
    let before = w.states[c].users[u].clone();
    let mut after = before.clone();
    let mut data = vec![kv("CustomerUserId", before.id.as_str())];
    let mut draft = Draft::new(code, Subject::Customer(c));
    match code {
        "reset_customer_user_password" => {
            data.push(kv("UserPrincipalName", before.upn.as_str()));
            let profile = Obj::new()
                .bool("ForceChangePassword", true)
                .null("Password")
                .done();
            let new = Obj::new()
                .str("Id", &before.id)
                .str("UserPrincipalName", &before.upn)
                .raw("PasswordProfile", &profile)
                .end("CustomerUser");
            return draft.new_value(new).data(data);
        }
        "update_customer_user_licenses" | "update_sfb_customer_user_licenses" => {
            return licenses(w, c, code, data);
        }
        "add_user_member" | "remove_user_member" => {
            let (role, role_id) = w.rng.pick(DIRECTORY_ROLES);
            data.extend([kv("RoleId", role_id), kv("RoleName", role)]);
            let new = Obj::new()
                .str("Id", &before.id)
                .str("UserPrincipalName", &before.upn)
                .str("DisplayName", &before.display_name())
                .end("UserMember");
            return draft.new_value(new).data(data);
        }
        "delete_customer_user" => {
            after.deleted = true;
            data.push(kv("UserPrincipalName", before.upn.as_str()));
            if w.succeeded() && w.rng.per_mille(80) {
                let delay = w.delay(DAY / 24, 5 * DAY);
                w.follow(
                    delay,
                    c,
                    Follow::RestoreUser {
                        user_id: before.id.clone(),
                    },
                );
            }
        }
        "update_customer_user_principal_name" => {
            let domain = w.states[c].vanity_domain.clone();
            let local = names::mailbox(before.first, before.last);
            after.upn = format!("{local}@{domain}");
            if after.upn == before.upn {
                after.upn = format!("{}{}@{domain}", &local[..1], before.last.len());
            }
            data.push(kv("OldUserPrincipalName", before.upn.as_str()));
            data.push(kv("NewUserPrincipalName", after.upn.as_str()));
        }
        _ => {
            after.usage_location = w.rng.pick(USAGE_LOCATIONS);
            if after.usage_location == before.usage_location {
                after.first = names::person(&mut w.rng).0;
                data.push(kv("ChangedProperties", "FirstName,DisplayName"));
            } else {
                data.push(kv("ChangedProperties", "UsageLocation"));
            }
        }
    }
    draft = draft
        .old(before.to_json())
        .new_value(after.to_json())
        .data(data);
    if w.succeeded() {
        w.states[c].users[u] = after;
    }
    draft
}

/// `create_customer_user`; `admin` for the first user of a new customer.
fn create(w: &mut World, c: usize, admin: bool) -> Draft {
    let (first, last) = names::person(&mut w.rng);
    let state = &w.states[c];
    let domain = if admin || !w.rng.per_mille(300) {
        w.customers[c].domain.clone()
    } else {
        state.vanity_domain.clone()
    };
    let local = if admin {
        "admin".to_owned()
    } else {
        names::mailbox(first, last)
    };
    let mut upn = format!("{local}@{domain}");
    if state.users.iter().any(|u| u.upn == upn) {
        upn = format!("{local}{}@{domain}", state.users.len());
    }
    let user = User {
        id: w.rng.guid(),
        upn,
        first,
        last,
        usage_location: if w.rng.per_mille(800) {
            "IT"
        } else {
            w.rng.pick(USAGE_LOCATIONS)
        },
        deleted: false,
    };
    let data = vec![
        kv("CustomerUserId", user.id.as_str()),
        kv("UserPrincipalName", user.upn.as_str()),
        kv("DisplayName", user.display_name()),
    ];
    let draft = Draft::new("create_customer_user", Subject::Customer(c))
        .new_value(user.to_json())
        .data(data);
    if w.succeeded() {
        w.states[c].add_user(user);
    }
    draft
}

/// The first administrator of a customer that just signed up.
pub(crate) fn create_admin(w: &mut World, c: usize) -> Draft {
    create(w, c, true)
}

/// `restore_customer_user`: a deleted user comes back.
pub(crate) fn restore(w: &mut World, c: usize, user_id: &str) -> Option<Draft> {
    let u = w.states[c]
        .users
        .iter()
        .position(|u| u.id == user_id && u.deleted)?;
    let before = w.states[c].users[u].clone();
    let mut after = before.clone();
    after.deleted = false;
    let data = vec![
        kv("CustomerUserId", user_id),
        kv("UserPrincipalName", before.upn.as_str()),
    ];
    let draft = Draft::new("restore_customer_user", Subject::Customer(c))
        .old(before.to_json())
        .new_value(after.to_json())
        .data(data);
    if w.succeeded() {
        w.states[c].users[u] = after;
    }
    Some(draft)
}

/// A license assignment from one of the customer's active subscriptions (Skype for Business
/// plans for the `sfb` variant); an order first when the customer has nothing to assign.
fn licenses(
    w: &mut World,
    c: usize,
    code: &'static str,
    mut data: Vec<actlog_domain::KeyValue>,
) -> Draft {
    let (sku, name) = if code == "update_sfb_customer_user_licenses" {
        let name = "Skype for Business Online (Plan 2)";
        (guid_for(name), name)
    } else {
        let subs = w.states[c]
            .subs_where(|s| s.status == SubStatus::Active && s.product().is_licensable());
        let Some(i) = w.rng.pick_opt(&subs) else {
            return orders::create(w, c, false);
        };
        let product = w.states[c].subscriptions[i].product();
        (product.sku_id(), product.name)
    };
    let assign = Obj::new().null("ExcludedPlans").str("SkuId", &sku).done();
    let removed = w
        .rng
        .per_mille(120)
        .then(|| guid_for("Microsoft 365 Business Basic"));
    let to_remove = match &removed {
        Some(id) => strings([id.as_str()]),
        None => "null".to_owned(),
    };
    data.push(kv("AddedLicenseSkuId", sku.as_str()));
    data.push(kv("AddedLicenseName", name));
    if let Some(id) = &removed {
        data.push(kv("RemovedLicenseSkuId", id.as_str()));
    }
    let new = Obj::new()
        .raw("LicensesToAssign", &format!("[{assign}]"))
        .raw("LicensesToRemove", &to_remove)
        .raw("LicenseWarnings", "[]")
        .end("LicenseUpdate");
    Draft::new(code, Subject::Customer(c))
        .new_value(new)
        .data(data)
}
