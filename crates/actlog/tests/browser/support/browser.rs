//! Chromium through chromedriver: a session per test, and the waits that make it reliable.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{Value, json};
use tempfile::TempDir;

use super::{BROWSER_TZ, POLL, Tools, WAIT};

/// A headless Chromium with its own chromedriver, profile and download folder.
#[derive(Debug)]
pub struct Browser {
    pub client: Client,
    base: String,
    session: Option<String>,
    /// Dropped after the session has ended (fields drop after `Drop::drop`).
    driver: Driver,
    downloads: TempDir,
    _profile: TempDir,
}

impl Browser {
    pub(super) async fn start(tools: &Tools, base: &str, lang: &str) -> Browser {
        let profile = tempfile::tempdir().unwrap();
        let downloads = tempfile::tempdir().unwrap();
        let driver = Driver::start(&tools.chromedriver);
        let mut browser = Browser {
            client: connect(tools, driver.port, &profile, &downloads, lang).await,
            base: base.to_owned(),
            session: None,
            driver,
            downloads,
            _profile: profile,
        };
        browser.session = browser.client.session_id().await.unwrap();
        browser
    }

    /// Opens a path of the demo server.
    pub async fn goto(&self, path: &str) {
        self.client
            .goto(&format!("{}{path}", self.base))
            .await
            .unwrap();
    }

    /// The current page's path and query, such as `/sign-in?next=%2F`.
    pub async fn location(&self) -> String {
        let url = self.client.current_url().await.unwrap();
        match url.query() {
            Some(query) => format!("{}?{query}", url.path()),
            None => url.path().to_owned(),
        }
    }

    /// The current page's path alone.
    pub async fn path(&self) -> String {
        self.client.current_url().await.unwrap().path().to_owned()
    }

    /// The first element matching `css`, once there is one.
    pub async fn wait_for(&self, css: &str) -> Element {
        let deadline = Instant::now() + WAIT;
        loop {
            if let Ok(element) = self.client.find(Locator::Css(css)).await {
                return element;
            }
            if Instant::now() > deadline {
                panic!("no `{css}` after {WAIT:?}\n{}", self.describe().await);
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Every element matching `css` now.
    pub async fn all(&self, css: &str) -> Vec<Element> {
        self.client.find_all(Locator::Css(css)).await.unwrap()
    }

    /// Whether anything matches `css` now.
    pub async fn exists(&self, css: &str) -> bool {
        !self.all(css).await.is_empty()
    }

    /// The visible text of the first element matching `css` (waiting for it), trimmed.
    pub async fn text(&self, css: &str) -> String {
        self.wait_for(css)
            .await
            .text()
            .await
            .unwrap()
            .trim()
            .to_owned()
    }

    /// Runs `script` in the page and returns its value.
    pub async fn script(&self, script: &str) -> Value {
        self.client.execute(script, vec![]).await.unwrap()
    }

    /// Waits until `element`'s attribute `name` reads `value`.
    pub async fn wait_attr(&self, element: &Element, name: &str, value: &str) {
        let deadline = Instant::now() + WAIT;
        loop {
            let now = element.attr(name).await.unwrap();
            if now.as_deref() == Some(value) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{name} stays {now:?}, not {value:?}"
            );
            tokio::time::sleep(POLL).await;
        }
    }

    /// Waits until `element` is shown (`true`) or hidden (`false`).
    pub async fn wait_shown(&self, element: &Element, shown: bool) {
        let deadline = Instant::now() + WAIT;
        while element.is_displayed().await.unwrap() != shown {
            assert!(Instant::now() < deadline, "still shown: {}", !shown);
            tokio::time::sleep(POLL).await;
        }
    }

    /// The input a `<label>` with exactly this text points at through its `for`.
    pub async fn field_labelled(&self, label: &str) -> Element {
        let xpath = format!("//label[normalize-space()='{label}']");
        let label_element = self.client.find(Locator::XPath(&xpath)).await;
        let label_element = label_element.unwrap_or_else(|_| panic!("no label {label:?}"));
        let id = label_element.attr("for").await.unwrap();
        let id = id.unwrap_or_else(|| panic!("label {label:?} has no `for`"));
        self.wait_for(&format!("#{id}")).await
    }

    /// The button whose text is exactly `text`.
    pub async fn button(&self, text: &str) -> Element {
        let xpath = format!("//button[normalize-space()='{text}']");
        self.client
            .find(Locator::XPath(&xpath))
            .await
            .unwrap_or_else(|_| panic!("no button {text:?}"))
    }

    /// Clicks `element` and waits until a new document has replaced this one and loaded.
    pub async fn click_and_wait(&self, element: &Element) {
        self.script("window.__actlogOldPage = true;").await;
        element.click().await.unwrap();
        self.wait_for_new_document().await;
    }

    /// Waits until the document marked by [`Self::click_and_wait`] is gone and the next
    /// one has loaded (script errors while the page is between documents count as "not yet").
    async fn wait_for_new_document(&self) {
        let check = "return document.readyState === 'complete' && !window.__actlogOldPage;";
        let deadline = Instant::now() + WAIT;
        loop {
            if let Ok(Value::Bool(true)) = self.client.execute(check, vec![]).await {
                return;
            }
            if Instant::now() > deadline {
                panic!("no new page after {WAIT:?}\n{}", self.describe().await);
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Fills and sends the sign-in form, and waits for the page that answers it.
    pub async fn sign_in(&self, email: &str, password: &str) {
        self.goto("/sign-in").await;
        self.wait_for("#email")
            .await
            .send_keys(email)
            .await
            .unwrap();
        self.wait_for("#password")
            .await
            .send_keys(password)
            .await
            .unwrap();
        let submit = self
            .wait_for("form[action='/sign-in'] button[type=submit]")
            .await;
        self.click_and_wait(&submit).await;
    }

    /// Fills the sign-in form by its field labels (**Email**, **Password**) and presses the
    /// button labelled `button`, as a person would.
    pub async fn sign_in_by_labels(&self, email: &str, password: &str, button: &str) {
        self.field_labelled("Email")
            .await
            .send_keys(email)
            .await
            .unwrap();
        self.field_labelled("Password")
            .await
            .send_keys(password)
            .await
            .unwrap();
        self.click_and_wait(&self.button(button).await).await;
    }

    /// Opens the Account settings menu (a `<details>`) when it is closed.
    pub async fn open_menu(&self) -> Element {
        let menu = self.wait_for("details.menu").await;
        if menu.attr("open").await.unwrap().is_none() {
            self.wait_for("details.menu > summary")
                .await
                .click()
                .await
                .unwrap();
        }
        menu
    }

    /// Signs out through the menu's button and waits for the page that follows.
    pub async fn sign_out(&self) {
        self.open_menu().await;
        let button = self
            .wait_for("details.menu form[action='/sign-out'] button")
            .await;
        self.click_and_wait(&button).await;
    }

    /// The folder Chromium saves downloads into.
    pub fn downloads(&self) -> &Path {
        self.downloads.path()
    }

    /// Waits until a download named `name` is complete: the file is there, no `.crdownload`
    /// is left, and its size has stopped changing.
    pub async fn wait_for_download(&self, name: &str) -> PathBuf {
        self.wait_for_download_matching(|file| file == name).await
    }

    /// [`Self::wait_for_download`] for the first file whose name satisfies `wanted`.
    pub async fn wait_for_download_matching(&self, wanted: impl Fn(&str) -> bool) -> PathBuf {
        let deadline = Instant::now() + WAIT;
        let mut last: Option<(PathBuf, u64)> = None;
        loop {
            let names = self.download_names();
            let partial = names.iter().any(|n| n.ends_with(".crdownload"));
            let done = names.iter().find(|n| wanted(n)).filter(|_| !partial);
            if let Some(name) = done {
                let path = self.downloads().join(name);
                let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
                if last.as_ref() == Some(&(path.clone(), size)) && size > 0 {
                    return path;
                }
                last = Some((path, size));
            }
            if Instant::now() > deadline {
                panic!("no complete download after {WAIT:?}; the folder holds {names:?}");
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    /// The names of the files in the download folder.
    pub fn download_names(&self) -> Vec<String> {
        let entries = std::fs::read_dir(self.downloads()).unwrap();
        let mut names: Vec<String> = entries
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .collect();
        names.sort();
        names
    }

    /// Where the browser is and what it shows, for failure messages.
    async fn describe(&self) -> String {
        let url = self.client.current_url().await.map(|u| u.to_string());
        let body = self
            .client
            .execute(
                "return document.body ? document.body.innerText : ''",
                vec![],
            )
            .await
            .ok()
            .and_then(|v| {
                v.as_str()
                    .map(|s| s.chars().take(2_000).collect::<String>())
            });
        format!("at {url:?}, showing:\n{}", body.unwrap_or_default())
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // Ending the session makes chromedriver quit Chromium; killing chromedriver alone
        // would leave Chromium running. Done synchronously: a panicking test's runtime will
        // not run fantoccini's own shutdown.
        if let Some(session) = &self.session {
            delete_session(self.driver.port, session);
        }
    }
}

/// A chromedriver process, killed on drop (also when a session could not be opened).
#[derive(Debug)]
struct Driver {
    child: Child,
    port: u16,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Driver {
    /// chromedriver on a free port, once it accepts connections.
    fn start(chromedriver: &Path) -> Driver {
        for _ in 0..3 {
            let port = free_port();
            let child = Command::new(chromedriver)
                .arg(format!("--port={port}"))
                // Inherited by Chromium: the zone its pages see.
                .env("TZ", BROWSER_TZ)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("chromedriver starts");
            let mut driver = Driver { child, port };
            let deadline = Instant::now() + WAIT;
            while Instant::now() < deadline {
                if driver.child.try_wait().unwrap().is_some() {
                    break; // the port was taken after all: try another
                }
                if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                    return driver;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        panic!("chromedriver did not start");
    }
}

fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// A new WebDriver session: headless, isolated, downloading without asking.
async fn connect(
    tools: &Tools,
    port: u16,
    profile: &TempDir,
    downloads: &TempDir,
    lang: &str,
) -> Client {
    let language = lang.split('-').next().unwrap_or(lang);
    let options = json!({
        "binary": tools.chromium,
        "args": [
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            // Pages only ever come from loopback (the test OpenID provider's login page
            // imports a web font from outside: it must fail at once, not wait for a network).
            "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
            format!("--user-data-dir={}", profile.path().display()),
            "--window-size=1280,900",
            format!("--lang={lang}"),
        ],
        "prefs": {
            "download.default_directory": downloads.path(),
            "download.prompt_for_download": false,
            "download.directory_upgrade": true,
            "safebrowsing.enabled": false,
            "intl.accept_languages": format!("{lang},{language}"),
        },
    });
    let mut capabilities = serde_json::Map::new();
    capabilities.insert("browserName".into(), json!("chrome"));
    capabilities.insert("goog:chromeOptions".into(), options);
    ClientBuilder::new(HttpConnector::new())
        .capabilities(capabilities)
        .connect(&format!("http://127.0.0.1:{port}"))
        .await
        .expect("chromedriver opens a Chromium session")
}

/// `DELETE /session/{id}` by hand, blocking, with a bounded wait.
fn delete_session(port: u16, session: &str) {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else {
        return;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let request = format!(
        "DELETE /session/{session} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\
         Content-Length: 0\r\nConnection: close\r\n\r\n"
    );
    if stream.write_all(request.as_bytes()).is_ok() {
        let mut reply = Vec::new();
        let _ = stream.read_to_end(&mut reply);
    }
}
