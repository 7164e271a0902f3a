//! What a reader asks for: a time window, an optional filter, and a position to continue from.

use jiff::SignedDuration;

use crate::filter::Filter;
use crate::time::OperationDate;

/// Partner Center's default period when no start date is given: 30 days.
pub const DEFAULT_PERIOD: SignedDuration = SignedDuration::from_hours(30 * 24);
/// Partner Center's default page size.
pub const DEFAULT_PAGE_SIZE: usize = 500;
/// The largest page a reader may ask for.
pub const MAX_PAGE_SIZE: usize = 5_000;

/// A half-open period `[start, end)`; no end means "up to now and beyond".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub start: OperationDate,
    pub end: Option<OperationDate>,
}

impl Window {
    /// Whether an instant falls inside the window.
    pub fn contains(&self, at: OperationDate) -> bool {
        at >= self.start && self.end.is_none_or(|end| at < end)
    }
}

/// A window and a filter: which records a read covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    pub window: Window,
    pub filter: Option<Filter>,
}

/// Where a newest-first walk stands: the last record returned, by `(operationDate, seq)`, where
/// `seq` is the store's insertion order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Position {
    pub date: OperationDate,
    pub seq: i64,
}

/// One page of a walk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRequest {
    pub query: Query,
    pub size: usize,
    /// Continue after this position (exclusive); `None` starts at the newest record.
    pub after: Option<Position>,
    /// Only records stored at or before this sequence number, so that a walk sees one
    /// consistent set while new records arrive; `None` on the first page.
    pub snapshot: Option<i64>,
}
