//! Partner Center's partner-user roles, and the policy saying which of them may see the
//! activity log.

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

/// A role a partner user can hold (Partner Center's set).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    GlobalAdmin,
    BillingAdmin,
    UserManagementAdmin,
    AdminAgent,
    SalesAgent,
    HelpdeskAgent,
    AccountAdmin,
    ReferralsAdmin,
    ReferralsUser,
    IncentivesAdmin,
    IncentivesUser,
    BusinessProfileAdmin,
    MpnPartnerAdmin,
    ExecutiveReportViewer,
    ReportViewer,
    ComplianceAdmin,
    MarketingContentAdmin,
}

impl Role {
    pub const ALL: [Role; 17] = [
        Role::GlobalAdmin,
        Role::BillingAdmin,
        Role::UserManagementAdmin,
        Role::AdminAgent,
        Role::SalesAgent,
        Role::HelpdeskAgent,
        Role::AccountAdmin,
        Role::ReferralsAdmin,
        Role::ReferralsUser,
        Role::IncentivesAdmin,
        Role::IncentivesUser,
        Role::BusinessProfileAdmin,
        Role::MpnPartnerAdmin,
        Role::ExecutiveReportViewer,
        Role::ReportViewer,
        Role::ComplianceAdmin,
        Role::MarketingContentAdmin,
    ];

    /// The role's name as Partner Center shows it, e.g. `Admin agent`.
    pub fn name(self) -> &'static str {
        match self {
            Role::GlobalAdmin => "Global admin",
            Role::BillingAdmin => "Billing admin",
            Role::UserManagementAdmin => "User management admin",
            Role::AdminAgent => "Admin agent",
            Role::SalesAgent => "Sales agent",
            Role::HelpdeskAgent => "Helpdesk agent",
            Role::AccountAdmin => "Account admin",
            Role::ReferralsAdmin => "Referrals admin",
            Role::ReferralsUser => "Referrals user",
            Role::IncentivesAdmin => "Incentives admin",
            Role::IncentivesUser => "Incentives user",
            Role::BusinessProfileAdmin => "Business profile admin",
            Role::MpnPartnerAdmin => "MPN partner admin",
            Role::ExecutiveReportViewer => "Executive report viewer",
            Role::ReportViewer => "Report viewer",
            Role::ComplianceAdmin => "Compliance admin",
            Role::MarketingContentAdmin => "Marketing content admin",
        }
    }

    /// A stable machine name, e.g. `admin_agent` (what the store keeps).
    pub fn code(self) -> String {
        self.name().to_ascii_lowercase().replace(' ', "_")
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why a role name was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown role `{0}`; roles are: {list}", list = Role::ALL.map(Role::name).join(", "))]
pub struct UnknownRole(pub String);

impl FromStr for Role {
    type Err = UnknownRole;

    /// Reads a role's name or code, ignoring case, spaces and underscores alike.
    fn from_str(text: &str) -> Result<Role, UnknownRole> {
        let wanted = normalize(text);
        Role::ALL
            .into_iter()
            .find(|r| normalize(r.name()) == wanted)
            .ok_or_else(|| UnknownRole(text.trim().to_owned()))
    }
}

fn normalize(text: &str) -> String {
    text.trim()
        .to_ascii_lowercase()
        .replace(['_', '-'], " ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// Which roles may view and export the activity log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessPolicy {
    allowed: BTreeSet<Role>,
}

impl Default for AccessPolicy {
    /// The roles the seed names: Global admin, Billing admin, User management admin, Admin agent,
    /// Sales agent and Helpdesk agent.
    fn default() -> Self {
        AccessPolicy::new([
            Role::GlobalAdmin,
            Role::BillingAdmin,
            Role::UserManagementAdmin,
            Role::AdminAgent,
            Role::SalesAgent,
            Role::HelpdeskAgent,
        ])
    }
}

impl AccessPolicy {
    pub fn new(allowed: impl IntoIterator<Item = Role>) -> Self {
        AccessPolicy {
            allowed: allowed.into_iter().collect(),
        }
    }

    /// Whether a user holding `roles` may view and export the activity log.
    pub fn may_view_log(&self, roles: &[Role]) -> bool {
        roles.iter().any(|r| self.allowed.contains(r))
    }

    pub fn allowed(&self) -> impl Iterator<Item = Role> + '_ {
        self.allowed.iter().copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_names_and_codes_read_back() {
        for role in Role::ALL {
            assert_eq!(role.name().parse::<Role>(), Ok(role));
            assert_eq!(role.code().parse::<Role>(), Ok(role));
        }
        assert_eq!("  admin AGENT ".parse::<Role>(), Ok(Role::AdminAgent));
        let err = "Owner".parse::<Role>().unwrap_err();
        assert!(err.to_string().contains("Admin agent"));
    }

    #[test]
    fn the_default_policy_is_the_seeds_six_roles() {
        let policy = AccessPolicy::default();
        let allowed: Vec<Role> = Role::ALL
            .into_iter()
            .filter(|r| policy.may_view_log(&[*r]))
            .collect();
        assert_eq!(
            allowed.iter().map(|r| r.name()).collect::<Vec<_>>(),
            [
                "Global admin",
                "Billing admin",
                "User management admin",
                "Admin agent",
                "Sales agent",
                "Helpdesk agent"
            ]
        );
        assert!(!policy.may_view_log(&[]));
        assert!(policy.may_view_log(&[Role::ReportViewer, Role::HelpdeskAgent]));
    }
}
