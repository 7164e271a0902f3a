//! The time source, injected so that "the most recent month" and expiry are testable.

use actlog_domain::time::OperationDate;

/// Where "now" comes from.
pub trait Clock: Send + Sync + std::fmt::Debug {
    fn now(&self) -> OperationDate;
}

/// The system's clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> OperationDate {
        let now = jiff::Timestamp::now();
        // Drop sub-100 ns precision, which OperationDate does not hold.
        OperationDate::from_ticks((now.as_nanosecond() / 100) as i64)
    }
}
