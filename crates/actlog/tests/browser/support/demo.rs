//! `actlog demo` as a child process: started, read, sent records, killed.

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::Value;
use tempfile::TempDir;

/// How long the demo may take to seed its records and start serving.
const DEMO_START: Duration = Duration::from_secs(180);

/// `actlog demo` on a free loopback port, with its database in a temporary folder.
#[derive(Debug)]
pub struct Demo {
    /// `http://127.0.0.1:PORT`, without a trailing slash.
    pub url: String,
    /// The demo partner's read/write API key.
    pub api_key: String,
    child: Child,
    _tmp: TempDir,
}

impl Demo {
    pub(super) fn start() -> Demo {
        let tmp = tempfile::tempdir().unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_actlog"))
            .args(["demo", "--listen", "127.0.0.1:0"])
            // The demo puts its database under the temporary folder: ours, removed on drop.
            .env("TMPDIR", tmp.path())
            .env("ACTLOG_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the actlog binary starts");
        let stdout = child.stdout.take().unwrap();
        let stderr = child.stderr.take().unwrap();
        let lines = drain_lines(stdout);
        let errors = drain_lines(stderr);
        let mut demo = Demo {
            url: String::new(),
            api_key: String::new(),
            child,
            _tmp: tmp,
        };
        demo.read_banner(&lines, &errors);
        demo
    }

    /// Reads the URL and the API key from what the demo prints, until it says it serves.
    fn read_banner(&mut self, lines: &mpsc::Receiver<String>, errors: &mpsc::Receiver<String>) {
        let deadline = Instant::now() + DEMO_START;
        let mut key_next = false;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = match lines.recv_timeout(left) {
                Ok(line) => line,
                Err(why) => {
                    // What it said before it stopped (or stalled), which may still be in transit.
                    let mut stderr = Vec::new();
                    while let Ok(line) = errors.recv_timeout(Duration::from_millis(500)) {
                        stderr.push(line);
                    }
                    panic!(
                        "actlog demo did not start ({why:?} within {DEMO_START:?}); stderr:\n{}",
                        stderr.join("\n")
                    );
                }
            };
            if key_next {
                self.api_key = line.trim().to_owned();
                key_next = false;
            } else if line.contains("API key (read,write):") {
                key_next = true;
            } else if let Some(rest) = line.split("running at ").nth(1) {
                self.url = rest.trim().trim_end_matches('/').to_owned();
            } else if line.starts_with("Press Ctrl-C") {
                break;
            }
        }
        assert!(
            self.url.starts_with("http://127.0.0.1:"),
            "url {}",
            self.url
        );
        assert!(!self.api_key.is_empty(), "the demo printed no API key");
    }

    /// Appends records through `POST /v1/auditrecords`, as an integration would.
    pub async fn post_records(&self, records: Value) {
        let reply = reqwest::Client::new()
            .post(format!("{}/v1/auditrecords", self.url))
            .header("authorization", format!("Bearer {}", self.api_key))
            .header("content-type", "application/json")
            .body(records.to_string())
            .send()
            .await
            .unwrap();
        let status = reply.status();
        let body = reply.text().await.unwrap();
        assert!(
            status.is_success(),
            "POST /v1/auditrecords: {status} {body}"
        );
    }

    /// The ids of every record from `start` to `end` (as `startDate` / `endDate` take them:
    /// RFC 3339 instants, or days read in UTC), newest first, read through
    /// `GET /v1/auditrecords` and its continuation tokens.
    pub async fn record_ids(&self, start: &str, end: &str) -> Vec<String> {
        let client = reqwest::Client::new();
        let mut ids = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let mut request = client
                .get(format!(
                    "{}/v1/auditrecords?startDate={start}&endDate={end}&size=5000",
                    self.url
                ))
                .header("authorization", format!("Bearer {}", self.api_key));
            if let Some(token) = &token {
                request = request.header("MS-ContinuationToken", token);
            }
            let body: Value =
                serde_json::from_str(&request.send().await.unwrap().text().await.unwrap()).unwrap();
            let items = body["items"].as_array().expect("items");
            ids.extend(items.iter().map(|r| r["id"].as_str().unwrap().to_owned()));
            match body["continuationToken"].as_str() {
                Some(next) => token = Some(next.to_owned()),
                None => return ids,
            }
        }
    }
}

impl Drop for Demo {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Reads a child's output on a thread of its own, so that the child never blocks on a full
/// pipe; lines go to the receiver for as long as anyone listens.
fn drain_lines(source: impl Read + Send + 'static) -> mpsc::Receiver<String> {
    let (sender, receiver) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(source).lines() {
            let Ok(line) = line else { break };
            let _ = sender.send(line);
        }
    });
    receiver
}
