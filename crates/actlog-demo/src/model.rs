//! What the generator remembers about each customer, so that later records agree with earlier
//! ones: subscriptions (born in orders, then resized, suspended, converted, upgraded) and users.
//!
//! Memory stays bounded however many records are generated: each customer keeps at most
//! [`MAX_SUBSCRIPTIONS`] subscriptions and [`MAX_USERS`] users, forgetting the oldest inactive
//! ones first. A forgotten subscription simply receives no further records.

use crate::json::{self, Obj};
use crate::products::{Kind, PRODUCTS, Product};

pub(crate) const MAX_SUBSCRIPTIONS: usize = 48;
pub(crate) const MAX_USERS: usize = 120;

/// Partner Center's subscription statuses (the ones a partner's actions produce).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SubStatus {
    /// Ordered, provisioning still in progress.
    Pending,
    Active,
    Suspended,
    /// Cancelled.
    Deleted,
}

impl SubStatus {
    pub(crate) fn code(self) -> &'static str {
        match self {
            SubStatus::Pending => "pending",
            SubStatus::Active => "active",
            SubStatus::Suspended => "suspended",
            SubStatus::Deleted => "deleted",
        }
    }
}

/// One subscription of a customer.
#[derive(Debug, Clone)]
pub(crate) struct Subscription {
    /// Uppercase GUID, as in Partner Center's order line items.
    pub id: String,
    /// Index into [`PRODUCTS`]; changes when a trial converts.
    pub product: usize,
    pub friendly_name: String,
    pub quantity: u32,
    pub status: SubStatus,
    pub auto_renew: bool,
    /// `monthly`, `annual` or `none` (trials).
    pub billing_cycle: &'static str,
    pub created: i64,
    pub order_id: String,
    pub parent: Option<String>,
}

impl Subscription {
    pub(crate) fn product(&self) -> &'static Product {
        &PRODUCTS[self.product]
    }

    /// Partner Center's `Subscription` resource, as `resourceOldValue`/`resourceNewValue` carry it.
    pub(crate) fn to_json(&self, customer_id: &str) -> String {
        let product = self.product();
        let (term, months) = match self.billing_cycle {
            "annual" => ("P1Y", 12),
            _ => ("P1M", 1),
        };
        let self_uri = format!("/customers/{customer_id}/subscriptions/{}", self.id);
        let links = Obj::new().raw("Self", &json::link(&self_uri)).done();
        Obj::new()
            .str("Id", &self.id)
            .str("OfferId", product.offer_id)
            .str("OfferName", product.name)
            .str("FriendlyName", &self.friendly_name)
            .num("Quantity", self.quantity)
            .str(
                "UnitType",
                if product.kind == Kind::Azure {
                    "Usage-based"
                } else {
                    "Licenses"
                },
            )
            .opt("ParentSubscriptionId", self.parent.as_deref())
            .str("CreationDate", &json::iso_ms(self.created))
            .str(
                "EffectiveStartDate",
                &json::day_plus_months(self.created, 0),
            )
            .str(
                "CommitmentEndDate",
                &json::day_plus_months(self.created, months),
            )
            .str("Status", self.status.code())
            .bool("AutoRenewEnabled", self.auto_renew)
            .bool("IsTrial", product.is_trial())
            .str(
                "BillingType",
                if product.kind == Kind::Azure {
                    "usage"
                } else {
                    "license"
                },
            )
            .str("BillingCycle", self.billing_cycle)
            .str("TermDuration", term)
            .str("OrderId", &self.order_id)
            .raw("Links", &links)
            .end("Subscription")
    }
}

/// One user in a customer's directory.
#[derive(Debug, Clone)]
pub(crate) struct User {
    pub id: String,
    pub upn: String,
    pub first: &'static str,
    pub last: &'static str,
    pub usage_location: &'static str,
    pub deleted: bool,
}

impl User {
    pub(crate) fn display_name(&self) -> String {
        format!("{} {}", self.first, self.last)
    }

    /// Partner Center's `CustomerUser` resource.
    pub(crate) fn to_json(&self) -> String {
        Obj::new()
            .str("Id", &self.id)
            .str("UserPrincipalName", &self.upn)
            .str("FirstName", self.first)
            .str("LastName", self.last)
            .str("DisplayName", &self.display_name())
            .str("UsageLocation", self.usage_location)
            .str("State", if self.deleted { "inactive" } else { "active" })
            .str("UserDomainType", "none")
            .end("CustomerUser")
    }
}

/// Everything the generator knows about one customer.
#[derive(Debug, Clone, Default)]
pub(crate) struct CustomerState {
    /// When the customer signs up during the window (`add_customer`); `None` once it has, or
    /// for customers that predate the window.
    pub joins_at: Option<i64>,
    /// The partner relationship was removed: no further activity.
    pub gone: bool,
    /// Never removed (the hostile-named and flagship customers must stay visible).
    pub protected: bool,
    /// Head count, which bounds order quantities.
    pub seats: u32,
    /// How many times the billing profile changed (each version has its own contact details).
    pub profile_version: u32,
    /// The customer's own verified domain, used for some users' UPNs.
    pub vanity_domain: String,
    pub subscriptions: Vec<Subscription>,
    pub users: Vec<User>,
    /// The current granular admin (GDAP) relationship id, created on first mention.
    pub gdap: Option<String>,
}

impl CustomerState {
    /// Whether records about this customer can be generated at `tick`.
    pub(crate) fn available(&self, tick: i64) -> bool {
        !self.gone && self.joins_at.is_none_or(|t| t <= tick)
    }

    /// Indices of subscriptions matching `keep`.
    pub(crate) fn subs_where(&self, keep: impl Fn(&Subscription) -> bool) -> Vec<usize> {
        (0..self.subscriptions.len())
            .filter(|&i| keep(&self.subscriptions[i]))
            .collect()
    }

    pub(crate) fn active_users(&self) -> Vec<usize> {
        (0..self.users.len())
            .filter(|&i| !self.users[i].deleted)
            .collect()
    }

    pub(crate) fn add_subscription(&mut self, sub: Subscription) {
        if self.subscriptions.len() >= MAX_SUBSCRIPTIONS {
            let oldest = self.oldest_where(|s| s.status == SubStatus::Deleted);
            let oldest = oldest.or_else(|| self.oldest_where(|s| s.status != SubStatus::Active));
            self.subscriptions.remove(oldest.unwrap_or(0));
        }
        self.subscriptions.push(sub);
    }

    fn oldest_where(&self, keep: impl Fn(&Subscription) -> bool) -> Option<usize> {
        self.subscriptions.iter().position(keep)
    }

    pub(crate) fn add_user(&mut self, user: User) {
        if self.users.len() >= MAX_USERS {
            let oldest = self.users.iter().position(|u| u.deleted);
            self.users.remove(oldest.unwrap_or(0));
        }
        self.users.push(user);
    }
}
