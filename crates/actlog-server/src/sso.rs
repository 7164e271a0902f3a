//! Signing in with Microsoft Entra ID (or another OpenID provider), as configured in `[sso]`:
//! which tenants belong to which partner, which app roles mean which Partner Center roles, and
//! which mean the API's read and write scopes. The protocol itself is `actlog_app::oidc`; the
//! pages are `web::sso`; bearer tokens on the API are `auth`.

use std::collections::BTreeMap;

use actlog_app::oidc::{Claims, Oidc};
use actlog_domain::roles::Role;
use actlog_store::Scopes;

/// A configured tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SsoTenant {
    /// The `tid` claim.
    pub tenant_id: String,
    /// The actlog partner this tenant's users and applications belong to.
    pub partner: String,
    /// Work-email domains (lowercase), to pick the tenant at sign-in when there are several.
    pub domains: Vec<String>,
}

/// `[sso]`, ready to use.
#[derive(Debug)]
pub struct Sso {
    pub oidc: Oidc,
    pub tenants: Vec<SsoTenant>,
    /// App-role value (the `roles` claim) → Partner Center roles.
    pub roles: BTreeMap<String, Vec<Role>>,
    /// App-role value of an app-only API token → the scopes it grants.
    pub api_roles: BTreeMap<String, Scopes>,
    /// Whether the email/password form is offered beside Microsoft sign-in.
    pub local_accounts: bool,
}

impl Sso {
    pub fn tenant(&self, tid: &str) -> Option<&SsoTenant> {
        self.tenants.iter().find(|t| t.tenant_id == tid)
    }

    /// The tenant whose domains include the work email's domain.
    pub fn tenant_for_email(&self, email: &str) -> Option<&SsoTenant> {
        let domain = email.trim().rsplit_once('@')?.1.to_lowercase();
        self.tenants.iter().find(|t| t.domains.contains(&domain))
    }

    /// The Partner Center roles the token's app roles map to (each once, in role order).
    pub fn user_roles(&self, claims: &Claims) -> Vec<Role> {
        let mut roles: Vec<Role> = claims
            .roles
            .iter()
            .filter_map(|value| self.roles.get(value))
            .flatten()
            .copied()
            .collect();
        roles.sort_by_key(|r| r.code());
        roles.dedup();
        roles
    }

    /// The scopes an app-only token's roles grant (the union of `[sso.api_roles]`).
    pub fn app_scopes(&self, claims: &Claims) -> Scopes {
        claims
            .roles
            .iter()
            .filter_map(|value| self.api_roles.get(value))
            .fold(
                Scopes {
                    read: false,
                    write: false,
                },
                |acc, s| Scopes {
                    read: acc.read || s.read,
                    write: acc.write || s.write,
                },
            )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actlog_app::oidc::OidcSettings;

    fn sso() -> Sso {
        Sso {
            oidc: Oidc::new(OidcSettings {
                authority: "https://login.microsoftonline.us".into(),
                client_id: "c".into(),
                client_secret: "s".into(),
                redirect_uri: "https://actlog.example/auth/callback".into(),
                tenants: vec!["t1".into(), "t2".into()],
                api_audience: None,
            }),
            tenants: vec![
                SsoTenant {
                    tenant_id: "t1".into(),
                    partner: "p1".into(),
                    domains: vec!["contoso.example".into()],
                },
                SsoTenant {
                    tenant_id: "t2".into(),
                    partner: "p2".into(),
                    domains: vec!["fabrikam.example".into()],
                },
            ],
            roles: BTreeMap::from([
                ("Reader".into(), vec![Role::AdminAgent]),
                ("Admin".into(), vec![Role::GlobalAdmin, Role::AdminAgent]),
            ]),
            api_roles: BTreeMap::from([(
                "Read".into(),
                Scopes {
                    read: true,
                    write: false,
                },
            )]),
            local_accounts: true,
        }
    }

    fn claims(roles: &[&str]) -> Claims {
        Claims {
            iss: "i".into(),
            tid: "t1".into(),
            oid: "o".into(),
            roles: roles.iter().map(|r| r.to_string()).collect(),
            preferred_username: None,
            nonce: None,
            scp: None,
            idtyp: Some("app".into()),
        }
    }

    #[test]
    fn the_tenant_is_picked_by_the_emails_domain() {
        let sso = sso();
        let pick = |e: &str| sso.tenant_for_email(e).map(|t| t.tenant_id.clone());
        assert_eq!(pick("Ada@Fabrikam.Example").as_deref(), Some("t2"));
        assert_eq!(pick("ada@contoso.example").as_deref(), Some("t1"));
        assert_eq!(pick("ada@other.example"), None);
        assert_eq!(pick("no-at-sign"), None);
    }

    #[test]
    fn app_roles_map_to_roles_and_scopes_and_unknown_ones_to_nothing() {
        let sso = sso();
        let roles = sso.user_roles(&claims(&["Reader", "Admin", "Unmapped"]));
        assert_eq!(roles.len(), 2, "{roles:?}");
        assert!(roles.contains(&Role::GlobalAdmin) && roles.contains(&Role::AdminAgent));
        assert!(sso.user_roles(&claims(&["Unmapped"])).is_empty());
        let read = sso.app_scopes(&claims(&["Read"]));
        assert!(read.read && !read.write);
        let none = sso.app_scopes(&claims(&["Reader"]));
        assert!(!none.read && !none.write);
    }
}
