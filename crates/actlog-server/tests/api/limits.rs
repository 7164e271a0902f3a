//! The HTTP edge's limits, on a real server over loopback sockets: the connection cap, the
//! header (and idle) timeout, the minimum body rate, the ingest slot taken after the body, the
//! byte budget, and field lengths (issue 12, items 2, 4 and 6).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::http::StatusCode;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::{Instant, timeout};

use actlog_domain::time::OperationDate;
use actlog_server::{AppState, Limits, ServerConfig};

use crate::support::{TestApp, TestClock, TestDatabase, fresh_store, record};

/// A server on a loopback port, stopped when dropped.
struct Server {
    addr: SocketAddr,
    store: Arc<dyn actlog_store::Store>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    served: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
    _db: TestDatabase,
}

impl Server {
    async fn start(limits: Limits) -> Server {
        Server::configured(ServerConfig {
            limits,
            ..ServerConfig::default()
        })
        .await
    }

    async fn configured(config: ServerConfig) -> Server {
        let (store, db) = fresh_store().await;
        let now = OperationDate::parse_rfc3339("2026-11-25T12:00:00Z").unwrap();
        let clock = Arc::new(TestClock(std::sync::Mutex::new(now)));
        let state = AppState::new(store.clone(), clock, config).await.unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let served = tokio::spawn(actlog_server::serve(listener, state, async {
            let _ = stopped.await;
        }));
        Server {
            addr,
            store,
            stop: Some(stop),
            served: Some(served),
            _db: db,
        }
    }

    /// Asks the server to stop, as SIGTERM does, and waits up to `bound` for it to have
    /// stopped: how long that took, or `None` if it still runs.
    async fn shut_down(&mut self, bound: Duration) -> Option<Duration> {
        let started = Instant::now();
        let _ = self.stop.take()?.send(());
        let served = self.served.take()?;
        timeout(bound, served).await.ok()?.unwrap().unwrap();
        Some(started.elapsed())
    }

    async fn key(&self, partner: &str) -> String {
        let scopes = actlog_app::keys::parse_scopes("read,write").unwrap();
        actlog_app::keys::create(self.store.as_ref(), partner, scopes, "test")
            .await
            .unwrap()
            .1
    }

    async fn connect(&self) -> TcpStream {
        TcpStream::connect(self.addr).await.unwrap()
    }

    /// A connection from the loopback address `from` (any of 127.0.0.0/8).
    async fn connect_from(&self, from: [u8; 4]) -> TcpStream {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket
            .bind(SocketAddr::from((from, 0)))
            .expect("a loopback address to connect from");
        socket.connect(self.addr).await.unwrap()
    }

    /// `GET /healthz` on a new connection from `from`.
    async fn healthz_from(&self, from: [u8; 4]) -> Option<Answer> {
        let mut stream = self.connect_from(from).await;
        stream
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
            .await
            .ok()?;
        read_answer(&mut stream).await
    }

    /// `GET /healthz` on a new connection.
    async fn healthz(&self) -> Option<Answer> {
        let mut stream = self.connect().await;
        stream
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
            .await
            .ok()?;
        read_answer(&mut stream).await
    }

    /// `GET path` on a new connection.
    async fn get(&self, path: &str) -> Option<Answer> {
        let mut stream = self.connect().await;
        let request = format!("GET {path} HTTP/1.1\r\nHost: t\r\n\r\n");
        stream.write_all(request.as_bytes()).await.ok()?;
        read_answer(&mut stream).await
    }

    /// A POST of `body` for `key` on a new connection.
    async fn post(&self, key: &str, body: &str) -> Option<Answer> {
        let mut stream = self.connect().await;
        stream
            .write_all(post_head(key, body.len()).as_bytes())
            .await
            .ok()?;
        stream.write_all(body.as_bytes()).await.ok()?;
        read_answer(&mut stream).await
    }

    /// A POST announcing `length` bytes that sends only `sent` of them, then stalls.
    async fn stalled_post(&self, key: &str, length: usize, sent: usize) -> TcpStream {
        let mut stream = self.connect().await;
        stream
            .write_all(post_head(key, length).as_bytes())
            .await
            .unwrap();
        stream.write_all(&vec![b' '; sent]).await.unwrap();
        stream
    }
}

fn post_head(key: &str, length: usize) -> String {
    format!(
        "POST /v1/auditrecords HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer {key}\r\nContent-Type: application/json\r\nContent-Length: {length}\r\n\r\n"
    )
}

/// A response as read off the socket.
#[derive(Debug)]
struct Answer {
    status: u16,
    head: String,
    body: serde_json::Value,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().find_map(|line| {
            let (n, v) = line.split_once(':')?;
            n.eq_ignore_ascii_case(name).then(|| v.trim())
        })
    }
}

/// One response (with a `Content-Length` body), or None if the connection closed first.
async fn read_answer(stream: &mut TcpStream) -> Option<Answer> {
    let mut bytes = Vec::new();
    let mut buf = [0; 8192];
    let end = loop {
        if let Some(end) = bytes.windows(4).position(|w| w == b"\r\n\r\n") {
            break end;
        }
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => bytes.extend_from_slice(&buf[..n]),
        }
    };
    let head = String::from_utf8_lossy(&bytes[..end]).into_owned();
    let status = head.split(' ').nth(1)?.parse().ok()?;
    let mut answer = Answer {
        status,
        head,
        body: serde_json::Value::Null,
    };
    let length: usize = answer.header("content-length")?.parse().ok()?;
    let mut body = bytes[end + 4..].to_vec();
    while body.len() < length {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => body.extend_from_slice(&buf[..n]),
        }
    }
    answer.body = serde_json::from_slice(&body).unwrap_or_default();
    Some(answer)
}

/// Whether the server closes `stream` within `bound` (whatever it says first).
async fn closed_within(stream: &mut TcpStream, bound: Duration) -> bool {
    let mut buf = [0; 1024];
    timeout(bound, async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    })
    .await
    .is_ok()
}

fn one_record(id: &str) -> String {
    json!([record(id, "2026-11-20T10:00:00Z", "Alpha")]).to_string()
}

/// 20,000 idle sockets exhausted the file limit and `/healthz` timed out: now at most
/// `max_connections` are open, the idle ones make room for newcomers, and `/healthz` answers.
#[tokio::test]
async fn idle_connections_beyond_the_cap_do_not_stop_healthz() {
    let server = Server::start(Limits {
        max_connections: 8,
        header_timeout: Duration::from_secs(60),
        ..Limits::default()
    })
    .await;
    let mut idle = Vec::new();
    for _ in 0..40 {
        idle.push(server.connect().await);
    }
    let started = Instant::now();
    let health = timeout(Duration::from_secs(5), server.healthz()).await;
    let health = health
        .expect("/healthz answered in time")
        .expect("an answer");
    assert_eq!(health.status, 200);
    assert!(started.elapsed() < Duration::from_secs(2));
    let mut closed = 0;
    for stream in &mut idle {
        if closed_within(stream, Duration::from_millis(200)).await {
            closed += 1;
        }
    }
    // The server kept at most 8 open, /healthz's among them.
    assert!(
        closed >= 40 - 7,
        "only {closed} of 40 idle connections were closed"
    );
}

/// One address could hold every connection the server allows, so that nobody else got in:
/// now one address holds at most its cap, its newcomer past it is answered 503 with
/// Retry-After, and another address is still served; a closed connection makes room again.
#[tokio::test]
async fn one_address_past_its_connection_cap_is_refused_while_others_are_served() {
    let server = Server::start(Limits {
        max_connections: 64,
        max_connections_per_address: 4,
        header_timeout: Duration::from_secs(60),
        ..Limits::default()
    })
    .await;
    let mut held = Vec::new();
    for _ in 0..4 {
        held.push(server.connect_from([127, 0, 0, 1]).await);
    }
    let refused = timeout(Duration::from_secs(3), server.healthz_from([127, 0, 0, 1])).await;
    let refused = refused.expect("answered at once").expect("an answer");
    assert_eq!(refused.status, 503, "{refused:?}");
    assert_eq!(refused.header("retry-after"), Some("1"));
    assert_eq!(refused.body["code"], "overloaded");
    assert!(
        refused.body["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("your address"),
        "{refused:?}"
    );
    let other = server.healthz_from([127, 0, 0, 2]).await;
    assert_eq!(
        other.map(|a| a.status),
        Some(200),
        "another address is served"
    );
    assert_eq!(held.len(), 4, "the address's own connections stay open");
    for stream in &mut held {
        assert!(!closed_within(stream, Duration::from_millis(50)).await);
    }
    drop(held.pop());
    tokio::time::sleep(Duration::from_millis(200)).await;
    let again = server.healthz_from([127, 0, 0, 1]).await;
    assert_eq!(
        again.map(|a| a.status),
        Some(200),
        "room again after one closed"
    );
}

/// Behind a proxy every client shares the proxy's address: a trusted proxy is not held to
/// the per-address cap.
#[tokio::test]
async fn a_trusted_proxy_is_not_held_to_the_per_address_cap() {
    let mut config = ServerConfig {
        limits: Limits {
            max_connections_per_address: 2,
            header_timeout: Duration::from_secs(60),
            ..Limits::default()
        },
        ..ServerConfig::default()
    };
    config.sign_in.trusted_proxies =
        actlog_server::client_addr::TrustedProxies(vec!["127.0.0.1".parse().unwrap()]);
    let server = Server::configured(config).await;
    let mut held = Vec::new();
    for _ in 0..6 {
        held.push(server.connect_from([127, 0, 0, 1]).await);
    }
    let answer = server.healthz_from([127, 0, 0, 1]).await;
    assert_eq!(answer.map(|a| a.status), Some(200));
    for _ in 0..2 {
        held.push(server.connect_from([127, 0, 0, 3]).await);
    }
    let refused = server.healthz_from([127, 0, 0, 3]).await;
    assert_eq!(
        refused.map(|a| a.status),
        Some(503),
        "an untrusted address is capped"
    );
}

/// Connections past the cap when every open one is busy (here: uploads in progress) are
/// answered 503 with Retry-After at once, not queued.
#[tokio::test]
async fn connections_past_the_cap_when_none_is_idle_get_503() {
    let server = Server::start(Limits {
        max_connections: 4,
        ..Limits::default()
    })
    .await;
    let key = server.key("p1").await;
    let mut busy = Vec::new();
    for _ in 0..4 {
        busy.push(server.stalled_post(&key, 1000, 10).await);
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let refused = timeout(Duration::from_secs(3), server.healthz()).await;
    let refused = refused.expect("answered at once");
    if let Some(answer) = refused {
        assert_eq!(answer.status, 503, "{answer:?}");
        assert_eq!(answer.header("retry-after"), Some("1"));
        assert_eq!(answer.body["code"], "overloaded");
    }
    drop(busy);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(server.healthz().await.map(|a| a.status), Some(200));
}

/// A request whose headers arrived a byte every 5 s stayed open indefinitely: it is now cut
/// off after the header timeout, however steadily it trickles.
#[tokio::test]
async fn a_header_trickled_a_byte_at_a_time_is_cut_off_after_the_header_timeout() {
    let server = Server::start(Limits {
        header_timeout: Duration::from_secs(1),
        ..Limits::default()
    })
    .await;
    let mut stream = server.connect().await;
    let started = Instant::now();
    let header = format!(
        "GET /healthz HTTP/1.1\r\nHost: t\r\nX-Pad: {}",
        "a".repeat(100)
    );
    let mut cut = false;
    for byte in header.bytes() {
        if stream.write_all(&[byte]).await.is_err() {
            cut = true;
            break;
        }
        if closed_within(&mut stream, Duration::from_millis(100)).await {
            cut = true;
            break;
        }
    }
    assert!(cut, "the trickle went on for {:?}", started.elapsed());
    let elapsed = started.elapsed();
    assert!(
        elapsed >= Duration::from_millis(900) && elapsed < Duration::from_secs(4),
        "cut after {elapsed:?}"
    );
}

/// hyper's header timer also runs while a kept-alive connection waits for its next request,
/// so idle connections end after it too.
#[tokio::test]
async fn an_idle_kept_alive_connection_is_closed_after_the_header_timeout() {
    let server = Server::start(Limits {
        header_timeout: Duration::from_secs(1),
        ..Limits::default()
    })
    .await;
    let mut stream = server.connect().await;
    for _ in 0..2 {
        stream
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
            .await
            .unwrap();
        assert_eq!(read_answer(&mut stream).await.map(|a| a.status), Some(200));
    }
    let started = Instant::now();
    assert!(closed_within(&mut stream, Duration::from_secs(4)).await);
    assert!(started.elapsed() >= Duration::from_millis(900));
}

/// A stalled body had no timeout and held its ingest slot: it is now answered 408 once it falls
/// behind the minimum rate, and meanwhile another partner's POST goes through.
#[tokio::test]
async fn a_stalled_body_gets_408_while_another_partners_post_succeeds() {
    let server = Server::start(Limits {
        max_concurrent_ingest: 1,
        body_timeout: Duration::from_secs(1),
        ..Limits::default()
    })
    .await;
    let (slow, other) = (server.key("p1").await, server.key("p2").await);
    let mut stalled = server.stalled_post(&slow, 5000, 100).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let posted = server.post(&other, &one_record("b-1")).await.unwrap();
    assert_eq!(posted.status, 201, "{posted:?}");
    let started = Instant::now();
    let answer = timeout(Duration::from_secs(5), read_answer(&mut stalled)).await;
    let answer = answer.expect("the stalled body is answered").unwrap();
    assert_eq!(answer.status, 408, "{answer:?}");
    assert_eq!(answer.body["code"], "body_timeout");
    assert_eq!(answer.body["status"], 408);
    assert!(started.elapsed() < Duration::from_secs(3));
    assert!(closed_within(&mut stalled, Duration::from_secs(1)).await);
    let again = server.post(&slow, &one_record("a-1")).await.unwrap();
    assert_eq!(again.status, 201, "{again:?}");
}

/// 256 stalled uploads from one partner made every other partner's POST get 503 until they
/// closed: the slot is now taken once the body is in.
#[tokio::test]
async fn stalled_uploads_from_one_partner_do_not_make_another_partners_post_get_503() {
    // Both partners connect from 127.0.0.1 here: the per-address cap (its own test) is
    // lifted so that this one is about the ingest slots.
    let server = Server::start(Limits {
        max_connections_per_address: Limits::default().max_connections,
        ..Limits::default()
    })
    .await;
    let (slow, other) = (server.key("p1").await, server.key("p2").await);
    let mut stalled = Vec::new();
    for _ in 0..Limits::default().max_concurrent_ingest {
        stalled.push(server.stalled_post(&slow, 100_000, 10).await);
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let started = Instant::now();
    let posted = server.post(&other, &one_record("b-1")).await.unwrap();
    assert_eq!(posted.status, 201, "{posted:?}");
    assert!(started.elapsed() < Duration::from_secs(2));
    drop(stalled);
}

/// Concurrent large bodies were bounded only by count: bodies in flight now share a byte
/// budget, and one that does not fit is answered 503 with Retry-After; the bytes of a body
/// that gave up are given back.
#[tokio::test]
async fn bodies_past_the_byte_budget_get_503_with_retry_after() {
    let server = Server::start(Limits {
        max_body_bytes: 4000,
        max_body_bytes_in_flight: 4000,
        // The whole budget, not a partner's share of it (its own test).
        ingest_share_percent: 100,
        body_timeout: Duration::from_secs(1),
        ..Limits::default()
    })
    .await;
    let (slow, other) = (server.key("p1").await, server.key("p2").await);
    let mut stalled = server.stalled_post(&slow, 4000, 3500).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let body = format!("{}{}", " ".repeat(1000), one_record("b-1"));
    let refused = server.post(&other, &body).await.unwrap();
    assert_eq!(refused.status, 503, "{refused:?}");
    assert_eq!(refused.header("retry-after"), Some("1"));
    assert_eq!(refused.body["code"], "overloaded");
    let late = timeout(Duration::from_secs(5), read_answer(&mut stalled)).await;
    assert_eq!(late.unwrap().map(|a| a.status), Some(408));
    let posted = server.post(&other, &body).await.unwrap();
    assert_eq!(posted.status, 201, "{posted:?}");
}

/// Stalled uploads of one partner could hold the whole byte budget, so that every other
/// partner's POST got 503: a partner's bodies now hold at most its share of the budget (past
/// it, 429), and the rest stays for everyone else.
#[tokio::test]
async fn stalled_uploads_of_one_partner_hold_at_most_its_share_of_the_byte_budget() {
    let server = Server::start(Limits {
        max_body_bytes: 4000,
        max_body_bytes_in_flight: 6000,
        ingest_share_percent: 50,
        body_timeout: Duration::from_secs(2),
        ..Limits::default()
    })
    .await;
    let (slow, other) = (server.key("p1").await, server.key("p2").await);
    let _first = server.stalled_post(&slow, 4000, 2900).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut second = server.stalled_post(&slow, 4000, 2900).await;
    let refused = timeout(Duration::from_secs(1), read_answer(&mut second)).await;
    let refused = refused.expect("answered at once").unwrap();
    assert_eq!(refused.status, 429, "{refused:?}");
    let body = format!("{}{}", " ".repeat(2000), one_record("b-1"));
    let posted = server.post(&other, &body).await.unwrap();
    assert_eq!(posted.status, 201, "{posted:?}");
}

/// A body refused before it was read (past the partner's share: 429) closed the connection with
/// the client still sending, and the reset that made failed the client's writes, so that
/// clients which send the whole body before reading (reqwest among them) lost the answer: the
/// server now closes lingering, and the client sends its body and reads the 429.
#[tokio::test]
async fn a_body_refused_while_it_still_arrives_reaches_its_client_as_an_answer() {
    let size = 8 << 20;
    let server = Server::start(Limits {
        max_body_bytes: size,
        max_body_bytes_in_flight: 2 * size,
        ingest_share_percent: 50,
        body_timeout: Duration::from_secs(10),
        ..Limits::default()
    })
    .await;
    let key = server.key("p1").await;
    // Bytes are held as they arrive: this upload holds all but 16 KiB of the partner's share.
    let _holding = server.stalled_post(&key, size, size - (16 << 10)).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut stream = server.connect().await;
    stream
        .write_all(post_head(&key, size).as_bytes())
        .await
        .unwrap();
    // The client sends its whole body before it reads, as many do; writing fails once a
    // reset arrives.
    let sent = stream.write_all(&vec![b' '; size]).await;
    let answer = timeout(Duration::from_secs(5), read_answer(&mut stream)).await;
    let answer = answer.expect("answered in time");
    assert!(sent.is_ok(), "the body could not be sent: {sent:?}");
    assert_eq!(answer.map(|a| a.status), Some(429));
    assert!(closed_within(&mut stream, Duration::from_secs(1)).await);
}

/// `/healthz` said 200 throughout while ingest was saturated; `/readyz` says what is wrong
/// (here: stalled uploads hold the byte budget) and is ready again once they are gone.
#[tokio::test]
async fn readyz_reports_a_saturated_body_budget_while_healthz_only_says_it_runs() {
    let server = Server::start(Limits {
        max_body_bytes: 4000,
        max_body_bytes_in_flight: 6000,
        body_timeout: Duration::from_secs(1),
        ..Limits::default()
    })
    .await;
    let ready = server.get("/readyz").await.unwrap();
    assert_eq!(ready.status, 200, "{ready:?}");
    let key = server.key("p1").await;
    let mut stalled = server.stalled_post(&key, 4000, 3000).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let busy = server.get("/readyz").await.unwrap();
    assert_eq!(busy.status, 503, "{busy:?}");
    assert_eq!(busy.header("retry-after"), Some("1"));
    let detail = busy.body["description"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
        + busy.body["detail"].as_str().unwrap_or_default();
    assert!(detail.contains("byte budget"), "{:?}", busy.body);
    assert_eq!(server.healthz().await.unwrap().status, 200);
    let late = timeout(Duration::from_secs(5), read_answer(&mut stalled)).await;
    assert_eq!(late.unwrap().map(|a| a.status), Some(408));
    let again = server.get("/readyz").await.unwrap();
    assert_eq!(again.status, 200, "{again:?}");
}

/// A record with a 31 MiB `customerName` was accepted, and that day's activity log page
/// became 102 MB of HTML.
#[tokio::test]
async fn a_31_mib_customer_name_is_refused_naming_the_field() {
    let app = TestApp::new().await;
    let key = app.key("p1", "write").await;
    let mut huge = record("a", "2026-11-20T10:00:00Z", "Alpha");
    huge["customerName"] = json!("n".repeat(31 * 1024 * 1024));
    let body = json!([record("ok", "2026-11-20T10:00:00Z", "Beta"), huge]).to_string();
    let reply = app.post(&key, body).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(reply.code(), "invalid_record");
    let error = &reply.body["errors"][0];
    assert_eq!(error["index"], 1);
    let message = error["message"].as_str().unwrap();
    assert!(
        message.starts_with("customerName is longer than 4096 characters"),
        "{message}"
    );
    let stored = app
        .get("/v1/auditrecords/ok", &app.key("p1", "read").await)
        .await;
    assert_eq!(
        stored.status,
        StatusCode::NOT_FOUND,
        "nothing of the batch is stored"
    );
}

/// The text of `GET /metrics` on a new connection.
async fn scrape(server: &Server) -> String {
    let mut stream = server.connect().await;
    stream
        .write_all(b"GET /metrics HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut raw = Vec::new();
    let _ = stream.read_to_end(&mut raw).await;
    String::from_utf8_lossy(&raw).into_owned()
}

/// A sample's value in an exposition, by its full name with labels.
fn sample(text: &str, name: &str) -> Option<u64> {
    text.lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
}

/// An operator could not see what the limits were doing: `/metrics` counts ingested records,
/// answers by status class, open and refused connections and share refusals, in Prometheus'
/// text format, and names no partner.
#[tokio::test]
async fn metrics_count_what_the_server_did_without_naming_partners() {
    let server = Server::start(Limits {
        max_connections_per_address: 3,
        header_timeout: Duration::from_secs(60),
        ..Limits::default()
    })
    .await;
    let key = server.key("partner-secret-name").await;
    let batch = json!([
        record("m-1", "2026-11-20T10:00:00Z", "Alpha"),
        record("m-2", "2026-11-20T10:00:00Z", "Alpha"),
        record("m-3", "2026-11-20T10:00:00Z", "Alpha"),
    ])
    .to_string();
    assert_eq!(server.post(&key, &batch).await.map(|a| a.status), Some(201));
    // The same batch again stores nothing new.
    assert_eq!(server.post(&key, &batch).await.map(|a| a.status), Some(200));
    assert_eq!(server.get("/nowhere").await.map(|a| a.status), Some(404));
    let held = [server.connect().await, server.connect().await];
    tokio::time::sleep(Duration::from_millis(100)).await;
    let text = scrape(&server).await;
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    assert!(text.contains("text/plain; version=0.0.4"), "{text}");
    assert_eq!(
        sample(&text, "actlog_records_ingested_total"),
        Some(3),
        "{text}"
    );
    assert!(
        sample(&text, "actlog_http_requests_total{class=\"2xx\"}") >= Some(2),
        "{text}"
    );
    assert!(
        sample(&text, "actlog_http_requests_total{class=\"4xx\"}") >= Some(1),
        "{text}"
    );
    // The two held and the scrape's own.
    assert_eq!(sample(&text, "actlog_connections_open"), Some(3), "{text}");
    assert_eq!(
        sample(&text, "actlog_connections_refused_total"),
        Some(0),
        "{text}"
    );
    assert!(
        sample(&text, "process_resident_memory_bytes") > Some(1_000_000),
        "{text}"
    );
    assert!(text.contains("# TYPE actlog_slots_in_use gauge"), "{text}");
    assert!(!text.contains("partner-secret-name"), "{text}");

    // A fourth connection from this address is refused, and counted.
    let mut extra = [server.connect().await, server.connect().await];
    let _ = closed_within(&mut extra[1], Duration::from_secs(1)).await;
    drop(extra);
    drop(held);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let text = scrape(&server).await;
    assert_eq!(
        sample(&text, "actlog_connections_refused_total"),
        Some(1),
        "{text}"
    );
    assert_eq!(sample(&text, "actlog_connections_open"), Some(1), "{text}");
}

/// With `[metrics] token` set, `/metrics` answers only the operator who brings it; with
/// `enabled = false` it is not there at all.
#[tokio::test]
async fn metrics_with_a_token_refuse_a_scrape_without_it() {
    let config = ServerConfig {
        metrics: actlog_server::metrics::MetricsSettings {
            enabled: true,
            token: Some("op-token".into()),
        },
        ..ServerConfig::default()
    };
    let app = TestApp::configured(config, "2026-11-25T12:00:00Z").await;
    let refused = app.get("/metrics", "wrong").await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    assert_eq!(refused.code(), "unauthenticated");
    let key = app.key("p1", "read").await;
    assert_eq!(
        app.get("/metrics", &key).await.status,
        StatusCode::UNAUTHORIZED
    );
    let scraped = app.get("/metrics", "op-token").await;
    assert_eq!(scraped.status, StatusCode::OK);
    assert!(crate::support::text(&scraped).contains("actlog_http_requests_total"));

    let off = ServerConfig {
        metrics: actlog_server::metrics::MetricsSettings {
            enabled: false,
            token: None,
        },
        ..ServerConfig::default()
    };
    let app = TestApp::configured(off, "2026-11-25T12:00:00Z").await;
    assert_eq!(app.get("/metrics", "").await.status, StatusCode::NOT_FOUND);
}

/// Shutdown waited for every request in flight however long it took, so one stalled client
/// could keep a stopping server up: now requests in flight get the shutdown grace, a request
/// that finishes within it is answered, and a connection still busy after it is closed.
#[tokio::test]
async fn shutdown_waits_for_requests_in_flight_only_up_to_the_grace() {
    let mut server = Server::start(Limits {
        body_timeout: Duration::from_secs(120),
        header_timeout: Duration::from_secs(120),
        shutdown_grace: Duration::from_secs(1),
        ..Limits::default()
    })
    .await;
    let key = server.key("p1").await;
    let body = one_record("a-1");
    // One upload that finishes during the grace, one that never does.
    let mut finishing = server.stalled_post(&key, body.len(), 0).await;
    let mut stalled = server.stalled_post(&key, 5000, 10).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let (took, answer) = tokio::join!(server.shut_down(Duration::from_secs(20)), async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        finishing.write_all(body.as_bytes()).await.unwrap();
        read_answer(&mut finishing).await
    });
    assert_eq!(
        answer.map(|a| a.status),
        Some(201),
        "answered during the grace"
    );
    let took = took.expect("the server stopped, not waiting out the stalled upload");
    assert!(
        took >= Duration::from_millis(800),
        "the grace was given: {took:?}"
    );
    assert!(closed_within(&mut stalled, Duration::from_secs(2)).await);
    let stored = server.store.get("p1", "a-1").await.unwrap();
    assert!(stored.is_some(), "the finished upload was stored");
}
