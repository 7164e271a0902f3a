//! A tiny HTTP/1.1 server of the tests' own, on loopback: it answers each request as a script
//! says (canned replies, a stall, or forwarding to a real actlog) and remembers what it saw.
//! It runs on a thread of its own, so that tests may block on the `actlog` they run.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

/// A request as the fake server received it.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    /// Path and query, as sent.
    pub target: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Seen {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// How to answer one request.
#[derive(Debug, Clone)]
pub enum Reply {
    /// Forward to the upstream actlog (GET, same path and query, the continuation header),
    /// with this bearer, or the request's own when `None`.
    Forward(Option<String>),
    /// A canned answer.
    Canned {
        status: u16,
        headers: Vec<(String, String)>,
        body: String,
    },
    /// Never answer.
    Stall,
}

impl Reply {
    pub fn json(status: u16, body: &str) -> Reply {
        Reply::Canned {
            status,
            headers: vec![("Content-Type".into(), "application/json".into())],
            body: body.to_owned(),
        }
    }
}

/// Decides the reply to a request, given it and how many came before it.
pub type Script = Arc<dyn Fn(&Seen, usize) -> Reply + Send + Sync>;

/// A running fake server (it stops with the test process).
#[derive(Clone)]
pub struct Fake {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Fake {
    /// Starts a server answering as `script` says; `upstream` is where `Reply::Forward` goes.
    pub fn start(upstream: Option<&str>, script: Script) -> Fake {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let seen = Arc::new(Mutex::new(Vec::new()));
        let upstream = upstream.map(str::to_owned);
        let kept = seen.clone();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(serve(listener, upstream, script, kept));
        });
        Fake { url, seen }
    }

    /// Every request received so far.
    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

async fn serve(
    listener: std::net::TcpListener,
    upstream: Option<String>,
    script: Script,
    seen: Arc<Mutex<Vec<Seen>>>,
) {
    let listener = TcpListener::from_std(listener).unwrap();
    let client = reqwest::Client::new();
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let (upstream, script, seen, client) = (
            upstream.clone(),
            script.clone(),
            seen.clone(),
            client.clone(),
        );
        tokio::spawn(async move {
            let _ = answer(stream, upstream, script, seen, client).await;
        });
    }
}

/// Answers one request, then closes the connection.
async fn answer(
    stream: TcpStream,
    upstream: Option<String>,
    script: Script,
    seen: Arc<Mutex<Vec<Seen>>>,
    client: reqwest::Client,
) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream);
    let Some(request) = read_request(&mut reader).await? else {
        return Ok(());
    };
    let n = {
        let mut seen = seen.lock().unwrap();
        seen.push(request.clone());
        seen.len() - 1
    };
    let (status, headers, body) = match script(&request, n) {
        Reply::Canned {
            status,
            headers,
            body,
        } => (status, headers, body.into_bytes()),
        Reply::Stall => {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            return Ok(());
        }
        Reply::Forward(bearer) => forward(&client, upstream.as_deref(), &request, bearer).await,
    };
    let mut head = format!("HTTP/1.1 {status} Fake\r\n");
    for (name, value) in &headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str(&format!(
        "Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    ));
    let stream = reader.get_mut();
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(&body).await?;
    stream.shutdown().await
}

async fn read_request(reader: &mut BufReader<TcpStream>) -> std::io::Result<Option<Seen>> {
    let mut line = String::new();
    if reader.read_line(&mut line).await? == 0 {
        return Ok(None);
    }
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or("").to_owned();
    let target = parts.next().unwrap_or("").to_owned();
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).await?;
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            headers.push((name.trim().to_owned(), value.trim().to_owned()));
        }
    }
    let length: usize = headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; length];
    reader.read_exact(&mut body).await?;
    Ok(Some(Seen {
        method,
        target,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    }))
}

async fn forward(
    client: &reqwest::Client,
    upstream: Option<&str>,
    request: &Seen,
    bearer: Option<String>,
) -> (u16, Vec<(String, String)>, Vec<u8>) {
    let upstream = upstream.expect("a fake server that forwards has an upstream");
    let mut sent = client.get(format!("{upstream}{}", request.target));
    let authorization = match bearer {
        Some(bearer) => Some(format!("Bearer {bearer}")),
        None => request.header("authorization").map(str::to_owned),
    };
    if let Some(authorization) = authorization {
        sent = sent.header("authorization", authorization);
    }
    if let Some(token) = request.header("ms-continuationtoken") {
        sent = sent.header("MS-ContinuationToken", token);
    }
    let reply = sent.send().await.expect("the upstream actlog answers");
    let status = reply.status().as_u16();
    let content_type = reply
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/json")
        .to_owned();
    let body = reply.bytes().await.unwrap().to_vec();
    (status, vec![("Content-Type".into(), content_type)], body)
}

/// `application/x-www-form-urlencoded` decoded into pairs.
pub fn form(body: &str) -> Vec<(String, String)> {
    let decode = |text: &str| {
        let bytes = text.replace('+', " ").into_bytes();
        let mut out = Vec::new();
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b'%' && i + 2 < bytes.len() {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap();
                out.push(u8::from_str_radix(hex, 16).unwrap());
                i += 3;
            } else {
                out.push(bytes[i]);
                i += 1;
            }
        }
        String::from_utf8(out).unwrap()
    };
    body.split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            (decode(name), decode(value))
        })
        .collect()
}
