//! The hostile loads that once stalled actlog for everyone, all at once, against a real
//! `actlog serve` with its default limits (the release build when ACTLOG_TEST_SERVER_BIN names
//! it, as scripts/test does). Each attack comes from loopback addresses of its own
//! (127.0.0.2 …), as strangers come from theirs; the partner under attack's neighbour comes
//! from 127.0.0.1. Throughout, the neighbour's one-record query and ingest are answered within
//! 2 s; the server's memory stays under 512 MB; `/readyz` reports the saturation; afterwards
//! nothing acknowledged is missing, nothing refused or cut off was half-written, and the
//! server is ready again.

mod common;

use std::collections::BTreeMap;
use std::io::Write;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio::task::JoinSet;

use common::{Server, TestDb, actlog, all_records, create_key, text};

/// How soon the neighbour must be answered (issue 12).
const BOUND: Duration = Duration::from_secs(2);
/// Most resident memory the server may reach, in KiB: issue 12's 512 MB (decimal). With all
/// the loads at once the release server peaks at 350–370 MiB here: the byte budget's share
/// held by one partner's stalled uploads (128 MiB), the page caches of the connections the
/// filters and exports use, two password-hashing work areas (19 MiB each).
const MEMORY_LIMIT_KIB: u64 = 512_000_000 / 1024;
/// How long the loads run once they are all under way.
const LOAD: Duration = Duration::from_secs(8);
/// Records of each hostile partner: enough that a free-text OR over them is expensive and an
/// export of them does not fit in the sockets' buffers.
const HOSTILE_RECORDS: usize = 30_000;

/// The gauge of the bytes of ingest bodies the server holds, in its /metrics.
const BYTES_IN_FLIGHT: &str = "actlog_ingest_bytes_in_flight";

/// The value of an unlabelled gauge in a Prometheus text exposition (0 when absent).
fn gauge(exposition: &str, name: &str) -> u64 {
    exposition
        .lines()
        .filter_map(|line| line.strip_prefix(name)?.strip_prefix(' '))
        .find_map(|value| value.trim().parse().ok())
        .unwrap_or(0)
}

/// The server binary: ACTLOG_TEST_SERVER_BIN, else (outside CI) the debug build.
fn server_bin() -> String {
    match std::env::var("ACTLOG_TEST_SERVER_BIN") {
        Ok(bin) if !bin.is_empty() => bin,
        _ => {
            assert_ne!(
                std::env::var("CI").as_deref(),
                Ok("true"),
                "under CI this test runs the release build: set ACTLOG_TEST_SERVER_BIN (scripts/test does)"
            );
            common::BIN.to_owned()
        }
    }
}

fn loopback(n: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(127, 0, 0, n))
}

/// A TCP connection to `to` from the loopback address `from`.
async fn connect_from(from: IpAddr, to: SocketAddr) -> std::io::Result<TcpStream> {
    let socket = TcpSocket::new_v4()?;
    socket.bind(SocketAddr::new(from, 0))?;
    socket.connect(to).await
}

/// An HTTP client whose connections come from `from`.
fn client_from(from: IpAddr, timeout: Duration) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(from)
        .timeout(timeout)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// `n` records of `partner` as NDJSON, dated in November 2026, with 600 bytes of details.
fn records_file(dir: &std::path::Path, partner: &str, n: usize) -> std::path::PathBuf {
    let path = dir.join(format!("{partner}.ndjson"));
    let mut file = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    let details = "d".repeat(600);
    for i in 0..n {
        writeln!(
            file,
            r#"{{"id":"{partner}-{i}","customerId":"c-{c}","customerName":"Customer {c}","operationType":"update_subscription","operationDate":"2026-11-{day:02}T10:{m:02}:00Z","resourceNewValue":"{details}"}}"#,
            c = i % 500,
            day = 1 + i % 25,
            m = i % 60,
        )
        .unwrap();
    }
    file.into_inner().unwrap().sync_all().unwrap();
    path
}

fn import(db: &str, file: &std::path::Path, partner: &str) {
    let out = actlog(&[
        "import",
        file.to_str().unwrap(),
        "--partner",
        partner,
        "--database",
        db,
    ]);
    assert!(out.status.success(), "{}", text(&out));
}

/// The server's peak resident memory (VmHWM), in KiB.
fn peak_memory_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

/// An OR of 32 free-text conditions that match nothing, over the whole month.
fn expensive_query() -> String {
    let conditions: Vec<String> = (0..32)
        .map(|i| format!(r#"{{"Field":"Text","Value":"absent-{i:02}","Operator":"substring"}}"#))
        .collect();
    let filter = format!(
        r#"{{"Operator":"or","Filters":[{}]}}"#,
        conditions.join(",")
    );
    let mut encoded = String::new();
    for b in filter.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            encoded.push(b as char);
        } else {
            encoded.push_str(&format!("%{b:02X}"));
        }
    }
    format!(
        "/v1/auditrecords?startDate=2026-11-01T00:00:00Z&endDate=2026-11-30T00:00:00Z&size=50&filter={encoded}"
    )
}

/// What the attacks were answered, by attack and status (0: no answer).
#[derive(Debug, Default)]
struct Tally(Mutex<BTreeMap<(&'static str, u16), usize>>);

impl Tally {
    fn count(&self, attack: &'static str, status: u16) {
        *self.0.lock().unwrap().entry((attack, status)).or_default() += 1;
    }

    fn of(&self, attack: &'static str, status: u16) -> usize {
        self.0
            .lock()
            .unwrap()
            .get(&(attack, status))
            .copied()
            .unwrap_or(0)
    }
}

/// The status of the first answer on `stream`, if one comes within `within`.
async fn status_within(stream: &mut TcpStream, within: Duration) -> u16 {
    let mut head = [0; 12];
    match tokio::time::timeout(within, stream.read_exact(&mut head)).await {
        Ok(Ok(_)) => std::str::from_utf8(&head[9..12])
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(0),
        _ => 0,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn under_every_hostile_load_at_once_another_partner_is_answered_within_two_seconds() {
    let db = TestDb::new();
    let dir = tempfile::tempdir().unwrap();
    for partner in ["hostile", "hostile-2", "hostile-3"] {
        import(
            db.url(),
            &records_file(dir.path(), partner, HOSTILE_RECORDS),
            partner,
        );
    }
    import(
        db.url(),
        &records_file(dir.path(), "neighbour", 1),
        "neighbour",
    );
    let (hostile, hostile_2, hostile_3, neighbour) = (
        create_key(db.url(), "hostile"),
        create_key(db.url(), "hostile-2"),
        create_key(db.url(), "hostile-3"),
        create_key(db.url(), "neighbour"),
    );
    let mut add = Command::new(common::BIN)
        .args([
            "user",
            "add",
            "--partner",
            "hostile",
            "--email",
            "admin@hostile.example",
        ])
        .args(["--role", "Admin agent", "--database", db.url()])
        .env("ACTLOG_LOG", "warn")
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    add.stdin
        .take()
        .unwrap()
        .write_all(b"the right password\n")
        .unwrap();
    assert!(add.wait().unwrap().success());

    let server = Server::start_bin(&server_bin(), db.url(), None);
    let url = server.url.clone();
    let addr: SocketAddr = url.trim_start_matches("http://").parse().unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let tally = Arc::new(Tally::default());
    let mut attacks = JoinSet::new();

    // 1. 120 wrong-password sign-ins at once for one account, over and over.
    for _ in 0..120 {
        let (url, stop, tally) = (url.clone(), stop.clone(), tally.clone());
        attacks.spawn(async move {
            let client = client_from(loopback(2), Duration::from_secs(30));
            while !stop.load(Ordering::Relaxed) {
                let Ok(form) = client.get(format!("{url}/sign-in")).send().await else {
                    tally.count("sign-in", 0);
                    continue;
                };
                let csrf = form
                    .headers()
                    .get_all("set-cookie")
                    .iter()
                    .filter_map(|v| v.to_str().ok())
                    .find_map(|v| v.strip_prefix("actlog_csrf="))
                    .and_then(|v| v.split(';').next())
                    .unwrap_or_default()
                    .to_owned();
                let answer = client
                    .post(format!("{url}/sign-in"))
                    .header("cookie", format!("actlog_csrf={csrf}"))
                    .header("content-type", "application/x-www-form-urlencoded")
                    .body(format!(
                        "email=admin%40hostile.example&password=wrong&csrf={csrf}&next=%2F"
                    ))
                    .send()
                    .await;
                tally.count("sign-in", answer.map_or(0, |a| a.status().as_u16()));
            }
        });
    }
    // 2. 600 idle connections (over the cap of 512) from three addresses, and 20 whose
    //    headers arrive a byte every half second.
    for n in 0..600 {
        let (stop, tally) = (stop.clone(), tally.clone());
        attacks.spawn(async move {
            let Ok(mut idle) = connect_from(loopback(3 + (n % 3) as u8), addr).await else {
                return tally.count("idle", 0);
            };
            while !stop.load(Ordering::Relaxed) {
                let mut byte = [0; 1];
                let read = tokio::time::timeout(Duration::from_millis(200), idle.read(&mut byte));
                if let Ok(Ok(0) | Err(_)) = read.await {
                    return tally.count("idle closed", 0);
                }
            }
        });
    }
    for _ in 0..20 {
        let stop = stop.clone();
        attacks.spawn(async move {
            let Ok(mut slow) = connect_from(loopback(6), addr).await else { return };
            let request = b"GET /healthz HTTP/1.1\r\nHost: actlog\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
            for byte in request {
                if stop.load(Ordering::Relaxed) || slow.write_all(&[*byte]).await.is_err() {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        });
    }
    // 3. Six 32-term free-text ORs at once (past the partner's share of four of the eight
    //    query slots), their clients gone after 2 s, over and over.
    for _ in 0..6 {
        let (url, key, stop, tally) = (url.clone(), hostile.clone(), stop.clone(), tally.clone());
        attacks.spawn(async move {
            let client = client_from(loopback(7), Duration::from_secs(2));
            let query = expensive_query();
            while !stop.load(Ordering::Relaxed) {
                let answer = client
                    .get(format!("{url}{query}"))
                    .bearer_auth(&key)
                    .send()
                    .await;
                tally.count("filter", answer.map_or(0, |a| a.status().as_u16()));
            }
        });
    }
    // 4. 256 uploads of 2 MiB from one partner, stalled after 1 MiB.
    let mut uploads = Vec::new();
    for n in 0..256 {
        let (key, tally) = (hostile.clone(), tally.clone());
        uploads.push(tokio::spawn(async move {
            let mut upload = connect_from(loopback(8 + (n % 2) as u8), addr).await.ok()?;
            let head = format!(
                "POST /v1/auditrecords HTTP/1.1\r\nHost: actlog\r\nAuthorization: Bearer {key}\r\nContent-Type: application/x-ndjson\r\nContent-Length: {}\r\n\r\n",
                2 << 20
            );
            upload.write_all(head.as_bytes()).await.ok()?;
            let chunk = vec![b' '; 64 << 10];
            for _ in 0..16 {
                if upload.write_all(&chunk).await.is_err() {
                    tally.count("upload", 429);
                    return None;
                }
            }
            // Held (no answer), or refused past the partner's share of the byte budget. The
            // wait leaves a busy server time to have read what was sent: an upload it has not
            // read yet is not held either.
            let status = status_within(&mut upload, Duration::from_secs(5)).await;
            tally.count("upload", status);
            Some(upload)
        }));
    }
    // 5. Two stalled exports from each of two more partners: every export slot taken; a third
    //    from one of them is past its share.
    let mut exports = Vec::new();
    for key in [&hostile_2, &hostile_2, &hostile_3, &hostile_3, &hostile_2] {
        let (key, tally) = (key.clone(), tally.clone());
        exports.push(tokio::spawn(async move {
            let mut export = connect_from(loopback(10), addr).await.ok()?;
            let request = format!(
                "GET /v1/exports/auditrecords?format=csv&startDate=2026-11-01T00:00:00Z&endDate=2026-11-30T00:00:00Z HTTP/1.1\r\nHost: actlog\r\nAuthorization: Bearer {key}\r\n\r\n"
            );
            export.write_all(request.as_bytes()).await.ok()?;
            let status = status_within(&mut export, Duration::from_secs(5)).await;
            tally.count("export", status);
            Some(export) // never read further
        }));
    }
    // 6. A record with a 31 MiB customer name.
    {
        let (url, key, tally) = (url.clone(), hostile.clone(), tally.clone());
        attacks.spawn(async move {
            let name = "n".repeat(31 << 20);
            let body = format!(
                r#"{{"id":"giant","customerName":"{name}","operationType":"create_order","operationDate":"2026-11-20T10:00:00Z"}}"#
            );
            let answer = client_from(loopback(11), Duration::from_secs(60))
                .post(format!("{url}/v1/auditrecords"))
                .bearer_auth(&key)
                .header("content-type", "application/json")
                .body(body)
                .send()
                .await;
            tally.count("giant", answer.map_or(0, |a| a.status().as_u16()));
        });
    }
    let uploads: Vec<TcpStream> = futures::future::join_all(uploads)
        .await
        .into_iter()
        .filter_map(|u| u.unwrap())
        .collect();
    let exports: Vec<TcpStream> = futures::future::join_all(exports)
        .await
        .into_iter()
        .filter_map(|e| e.unwrap())
        .collect();

    // The neighbour, from 127.0.0.1, while all of that goes on.
    let client = client_from(loopback(1), Duration::from_secs(30));
    let mut slowest = Duration::ZERO;
    let mut acknowledged = Vec::new();
    let mut not_ready = Vec::new();
    // The most bytes of ingest bodies the server held at once, as its /metrics says.
    let mut most_held = 0;
    let until = Instant::now() + LOAD;
    for n in 0.. {
        if Instant::now() > until {
            break;
        }
        let started = Instant::now();
        let one = client
            .get(format!("{url}/v1/auditrecords/neighbour-0"))
            .bearer_auth(&neighbour)
            .send()
            .await
            .unwrap();
        assert_eq!(one.status(), 200, "the neighbour's one-record query");
        slowest = slowest.max(started.elapsed());
        let id = format!("neighbour-new-{n}");
        let started = Instant::now();
        let posted = client
            .post(format!("{url}/v1/auditrecords"))
            .bearer_auth(&neighbour)
            .header("content-type", "application/json")
            .body(format!(
                r#"{{"id":"{id}","customerName":"Fabrikam","operationType":"create_order","operationDate":"2026-11-20T10:00:00Z"}}"#
            ))
            .send()
            .await
            .unwrap();
        assert_eq!(posted.status(), 201, "the neighbour's ingest");
        slowest = slowest.max(started.elapsed());
        acknowledged.push(id);
        let ready = client.get(format!("{url}/readyz")).send().await.unwrap();
        if ready.status() == 503 {
            not_ready.push(ready.text().await.unwrap());
        }
        let metrics = client.get(format!("{url}/metrics")).send().await.unwrap();
        assert_eq!(metrics.status(), 200, "/metrics while under load");
        most_held = most_held.max(gauge(&metrics.text().await.unwrap(), BYTES_IN_FLIGHT));
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let peak = peak_memory_kib(server.child.id());
    eprintln!(
        "the server's memory peaked at {} MiB; it held {} MiB of ingest bodies at most",
        peak / 1024,
        most_held >> 20
    );
    stop.store(true, Ordering::Relaxed);
    drop(uploads);
    drop(exports);
    while attacks.join_next().await.is_some() {}

    assert!(
        slowest < BOUND,
        "the neighbour waited {slowest:?} for an answer"
    );
    assert!(acknowledged.len() >= 10, "{acknowledged:?}");
    assert!(
        peak < MEMORY_LIMIT_KIB,
        "the server's memory peaked at {} MiB",
        peak / 1024
    );
    // Two partners together hold every export slot: the server says it is saturated (each
    // partner alone, within its share, cannot).
    assert!(
        not_ready
            .iter()
            .any(|why| why.contains("every export slot")),
        "/readyz while under load: {not_ready:?}; the attacks were answered {tally:?}"
    );
    // The attacks met the limits, not an idle server.
    let t = &tally;
    assert!(t.of("sign-in", 429) + t.of("sign-in", 503) > 0, "{t:?}");
    assert!(t.of("filter", 429) > 0, "{t:?}");
    // One partner's stalled uploads hold at most its share (half) of the 256 MiB budget (the
    // neighbour's small bodies aside), and past it they are refused. How many uploads that is
    // depends on how much of each the server has read: what is still in the sockets' buffers
    // is held by nobody.
    assert!(t.of("upload", 0) > 0, "no upload was held: {t:?}");
    assert!(t.of("upload", 429) > 0, "no upload was refused: {t:?}");
    assert!(
        most_held > 64 << 20 && most_held <= (128 << 20) + (1 << 20),
        "the server held {most_held} bytes of ingest bodies at most: {t:?}"
    );
    assert!(
        t.of("export", 200) == 4 && t.of("export", 429) == 1,
        "{t:?}"
    );
    // Refused whole, and the client told why although its body was still arriving: too large
    // a field (400), too large a body (413), or past the partner's share of the byte budget
    // its stalled uploads hold (429).
    assert_eq!(
        t.of("giant", 400) + t.of("giant", 413) + t.of("giant", 429),
        1,
        "{t:?}"
    );
    assert_eq!(t.of("sign-in", 500) + t.of("filter", 500), 0, "{t:?}");

    // Ready again once the attackers are gone; nothing lost, nothing half-written.
    let mut ready_again = false;
    for _ in 0..50 {
        let ready = client.get(format!("{url}/readyz")).send().await.unwrap();
        if ready.status() == 200 {
            ready_again = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(
        ready_again,
        "the server was not ready again after the attacks"
    );
    let stored: std::collections::HashSet<String> = all_records(&db, "neighbour")
        .await
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_owned())
        .collect();
    assert!(acknowledged.iter().all(|id| stored.contains(id)));
    assert_eq!(stored.len(), acknowledged.len() + 1);
    let giant = client
        .get(format!("{url}/v1/auditrecords/giant"))
        .bearer_auth(&hostile)
        .send()
        .await
        .unwrap();
    assert_eq!(giant.status(), 404);
    let export = actlog(&[
        "export",
        "--partner",
        "hostile",
        "--from",
        "2026-10-01",
        "--to",
        "2026-12-31",
        "--format",
        "ndjson",
        "--database",
        db.url(),
    ]);
    assert!(export.status.success(), "{}", text(&export));
    let lines = export
        .stdout
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .count();
    assert_eq!(
        lines, HOSTILE_RECORDS,
        "the hostile partner's records, no more, no fewer"
    );
}
