//! The generator's state between records: customers and their models, the clock, the actor of
//! the record being built, and the follow-ups already promised (an order still provisioning
//! completes minutes later, a trial converts weeks later).

use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;

use actlog_domain::KeyValue;

use crate::DemoCustomer;
use crate::model::CustomerState;
use crate::ops::{Outcomes, Status};
use crate::rng::Rng;
use crate::schedule::HOUR;

/// Ticks per minute.
pub(crate) const MINUTE: i64 = HOUR / 60;
/// Ticks per day.
pub(crate) const DAY: i64 = HOUR * 24;

/// Whom a record is about.
#[derive(Debug, Clone)]
pub(crate) enum Subject {
    Customer(usize),
    /// A customer outside the demo's list (a sandbox customer being deleted).
    Other {
        id: String,
        name: String,
    },
    /// The partner's own account, or a customer that was never created.
    Nobody,
}

/// A record's content before the common fields (id, date, actor) are added.
#[derive(Debug)]
pub(crate) struct Draft {
    pub op: &'static str,
    pub subject: Subject,
    pub old: Option<String>,
    pub new: Option<String>,
    pub data: Vec<KeyValue>,
}

impl Draft {
    pub(crate) fn new(op: &'static str, subject: Subject) -> Self {
        Draft {
            op,
            subject,
            old: None,
            new: None,
            data: Vec::new(),
        }
    }

    pub(crate) fn old(mut self, json: String) -> Self {
        self.old = Some(json);
        self
    }

    pub(crate) fn new_value(mut self, json: String) -> Self {
        self.new = Some(json);
        self
    }

    pub(crate) fn data(mut self, data: Vec<KeyValue>) -> Self {
        self.data = data;
        self
    }
}

/// Who performs a record: a partner user (index into the partner users) and an application.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Who {
    pub user: Option<usize>,
    pub application: Option<&'static str>,
}

/// What a follow-up record will do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Follow {
    /// After `add_customer`: the customer's first admin, agreement, order, GDAP approval.
    AdminUser,
    Agreement,
    FirstOrder,
    GdapApproval,
    CompleteOrder {
        order_id: String,
    },
    SuspendSource {
        sub_id: String,
    },
    ConvertTrial {
        sub_id: String,
    },
    RestoreUser {
        user_id: String,
    },
    GdapActivated,
    GdapAssignment,
    GdapAssignmentActivated,
    GdapTerminated,
    TransferUpdate {
        transfer_id: String,
    },
}

/// A follow-up record promised for a later time.
#[derive(Debug)]
pub(crate) struct Pending {
    pub due: i64,
    seq: u64,
    pub customer: usize,
    pub follow: Follow,
    pub who: Who,
    pub correlation: String,
}

impl PartialEq for Pending {
    fn eq(&self, other: &Self) -> bool {
        (self.due, self.seq) == (other.due, other.seq)
    }
}
impl Eq for Pending {}
impl PartialOrd for Pending {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Pending {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.due, self.seq).cmp(&(other.due, other.seq))
    }
}

/// The generator's state.
#[derive(Debug)]
pub(crate) struct World {
    pub partner_id: String,
    pub customers: Vec<DemoCustomer>,
    pub states: Vec<CustomerState>,
    pub rng: Rng,
    /// The time of the record being built.
    pub tick: i64,
    /// The ending of the record being built.
    pub status: Status,
    /// The actor of the record being built.
    pub who: Who,
    /// The correlation id of the record being built, shared with its follow-ups.
    pub correlation: Option<String>,
    pending: BinaryHeap<Reverse<Pending>>,
    promised: u64,
}

impl World {
    pub(crate) fn new(
        partner_id: String,
        customers: Vec<DemoCustomer>,
        states: Vec<CustomerState>,
        rng: Rng,
    ) -> Self {
        World {
            partner_id,
            customers,
            states,
            rng,
            tick: 0,
            status: Status::Succeeded,
            who: Who {
                user: None,
                application: None,
            },
            correlation: None,
            pending: BinaryHeap::new(),
            promised: 0,
        }
    }

    /// Draws how the record being built ends.
    pub(crate) fn draw_status(&mut self, outcomes: Outcomes) -> Status {
        self.status = Status::ALL[self.rng.weighted(&outcomes.weights())];
        self.status
    }

    pub(crate) fn succeeded(&self) -> bool {
        self.status == Status::Succeeded
    }

    /// Promises a follow-up `delay` ticks from now, by the same actor, in the same correlation.
    pub(crate) fn follow(&mut self, delay: i64, customer: usize, follow: Follow) {
        let correlation = match &self.correlation {
            Some(id) => id.clone(),
            None => {
                let id = self.rng.guid();
                self.correlation = Some(id.clone());
                id
            }
        };
        self.promised += 1;
        self.pending.push(Reverse(Pending {
            due: self.tick + delay.max(1),
            seq: self.promised,
            customer,
            follow,
            who: self.who,
            correlation,
        }));
    }

    /// The earliest follow-up that is due at the current time, if any.
    pub(crate) fn due(&mut self) -> Option<Pending> {
        let due = self.pending.peek().is_some_and(|p| p.0.due <= self.tick);
        if due {
            self.pending.pop().map(|p| p.0)
        } else {
            None
        }
    }

    /// A random delay between `lo` and `hi` ticks.
    pub(crate) fn delay(&mut self, lo: i64, hi: i64) -> i64 {
        lo + self.rng.below((hi - lo).max(1) as u64) as i64
    }

    pub(crate) fn customer_id(&self, c: usize) -> &str {
        &self.customers[c].id
    }
}
