//! The harness: the real `actlog demo` binary, and a real headless Chromium driven through
//! chromedriver (W3C WebDriver, through fantoccini).
//!
//! Every test gets its own demo server and its own browser (fresh profile, fresh download
//! folder), so tests share no cookies, throttles or records. Both processes are killed on drop,
//! also when a test panics.
//!
//! - [`demo`]: the server, and records sent to it through the API.
//! - [`browser`]: chromedriver, Chromium, waiting for pages, elements and downloads.
//! - [`oidc`]: a real OpenID provider, and `actlog serve` signing in through it.

mod browser;
mod demo;
pub mod oidc;

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

pub use browser::Browser;
pub use demo::Demo;

/// The password of every demo user.
pub const PASSWORD: &str = "demo-password";
/// May view the activity log.
pub const GLOBAL_ADMIN: &str = "global.admin@demo-partner.example";
/// Signs in, but may not view the activity log.
pub const ACCOUNT_ADMIN: &str = "account.admin@demo-partner.example";
/// Signs in with no role at all.
pub const NO_ROLE: &str = "no.role@demo-partner.example";

/// The browser's time zone: far from UTC, so that a page using UTC where it should use the
/// user's zone shows another day for 14 hours of every 24.
pub const BROWSER_TZ: &str = "Pacific/Kiritimati";

/// How long a page, an element or a download may take. Generous: two tests run at once on a
/// two-core machine, each with a server and a Chromium.
pub const WAIT: Duration = Duration::from_secs(30);
/// How often a wait looks again.
const POLL: Duration = Duration::from_millis(100);

/// A demo server and a browser in the given language (`en-US`, `it-IT`), or `None` when this
/// machine has no Chromium (the test then returns early; under `CI=true` it fails instead).
pub async fn start_in(lang: &str) -> Option<(Browser, Demo)> {
    let tools = tools()?;
    let demo = Demo::start();
    let browser = Browser::start(&tools, &demo.url, lang).await;
    Some((browser, demo))
}

/// An English browser on `base` (another server than the demo), or `None` as [`start_in`].
pub async fn browser_at(base: &str) -> Option<Browser> {
    let tools = tools()?;
    Some(Browser::start(&tools, base, "en-US").await)
}

/// [`start_in`] with an English browser.
pub async fn start() -> Option<(Browser, Demo)> {
    start_in("en-US").await
}

/// The chromedriver and Chromium executables.
struct Tools {
    chromedriver: PathBuf,
    chromium: PathBuf,
}

fn tools() -> Option<Tools> {
    let chromedriver = on_path("chromedriver");
    let chromium = on_path("chromium").or_else(|| on_path("chromium-browser"));
    if let (Some(chromedriver), Some(chromium)) = (chromedriver, chromium) {
        return Some(Tools {
            chromedriver,
            chromium,
        });
    }
    let message = "`chromium` and `chromedriver` are not both on PATH \
                   (Debian: apt-get install chromium chromium-driver; scripts/test does it)";
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("browser tests cannot run under CI=true: {message}");
    }
    // Straight to stderr, past the test harness's capture (which hides `eprintln!` of a
    // passing test), and once per run rather than once per test.
    static SAID: std::sync::Once = std::sync::Once::new();
    SAID.call_once(|| {
        let _ = writeln!(std::io::stderr(), "SKIPPED browser tests: {message}");
    });
    None
}

fn on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}
