//! People: passwords, sessions, sign-in throttling.

pub mod password;
pub mod session;
pub mod throttle;
