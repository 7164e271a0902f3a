//! actlog's domain: the audit record and everything that can be said about it without I/O.
//!
//! - [`record`]: the `AuditRecord`, Partner Center's shape, field for field.
//! - [`extensions`]: what a record carries that this version does not model, kept byte for byte.
//! - [`ingest`]: reading and validating a batch a client sends.
//! - [`time`]: instants with Partner Center's 100 ns precision, and the date forms of queries.
//! - [`catalog`]: operation types, resource types and statuses with English and Italian labels.
//! - [`filter`]: the filter model and its reference evaluation.
//! - [`folded`]: the folded forms a backend stores beside a record for its filters.
//! - [`query`]: windows, pages and positions.
//! - [`cursor`]: signed, self-contained continuation tokens.
//! - [`details`]: one record read for people (order lines, old → new values).
//! - [`subscriptions`]: a customer's subscriptions as its records tell them.

pub mod catalog;
pub mod cursor;
pub mod details;
pub mod extensions;
pub mod filter;
pub mod folded;
pub mod ingest;
pub mod query;
pub mod record;
pub mod roles;
pub mod subscriptions;
pub mod time;

pub use record::{AuditRecord, KeyValue};
pub use time::OperationDate;
