//! Shared by the integration tests (the unit tests include some of these files by path).

pub mod calc;
pub mod hostile;
pub mod xlsx;
