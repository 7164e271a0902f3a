//! People: sessions and sign-in throttling (passwords are `actlog_app::password`).

pub mod session;
pub mod throttle;
