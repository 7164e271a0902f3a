//! The dashboard as a person uses it: the real `actlog demo` binary, a real headless Chromium
//! driven through chromedriver (fantoccini), real clicks, real downloads.
//!
//! Needs `chromium` and `chromedriver` on PATH (`scripts/test` installs them). Without them the
//! tests say so and return, except under `CI=true`, where they fail.
//!
//! - [`support`]: the demo server, the browser, waiting for elements and downloads.
//! - [`sign_in`]: signing in and out, wrong passwords, roles without the activity log.
//! - [`log_page`]: reading the Activity log page, and records made for it through the API.
//! - [`activity_log`]: the period, the table, row details, paging, the Subscriptions page.
//! - [`details`]: a row's details, loaded on expand: by keyboard, and hostile text in them.
//! - [`export`]: downloads into the browser's download folder.
//! - [`language`]: Italian from the browser and from the user's preference.
//! - [`sso`]: Sign in with Microsoft through a real OpenID provider, and its API tokens.

mod activity_log;
mod details;
mod export;
mod language;
mod log_page;
mod sign_in;
mod sso;
mod support;
