//! The accept loop: HTTP/1 connections on hyper, each bounded in time and in number.
//!
//! - At most [`Limits::max_connections`] are open. At the cap, the connection idle longest (no
//!   request in flight) is closed to make room, so idle sockets cannot lock newcomers out; when
//!   every one is busy, the newcomer is answered 503 and closed at once.
//! - At most [`Limits::max_connections_per_address`] are open from one TCP peer address (the
//!   address accepted, not a forwarded one; trusted proxies are exempt, since every client
//!   behind them shares their address): one address's newcomer past it is answered 503 and
//!   closed, and no idle connection of another address is closed for it.
//! - Headers must arrive within [`Limits::header_timeout`]. hyper starts that timer whenever a
//!   connection waits for a request, the first or the next on a kept-alive connection, so it is
//!   the idle timeout as well.
//! - Bodies must keep up with [`Limits::min_body_rate`] ([`crate::bodies`]).
//! - A client that takes none of a response for [`Limits::export_send_timeout`] (a stalled
//!   export, above all) is cut off: the socket is reset, which frees its slot here and the
//!   kernel's buffers, instead of holding both for as long as the client likes.
//! - With TLS ([`crate::tls`]), the handshake must be done within the header timeout too.
//! - A connection the server closes (a body refused before it was read, say) is closed
//!   lingering: its sending side first, then what the client still sends is read and discarded
//!   for a moment, so the client reads its answer instead of a reset.
//! - Accept errors (out of file descriptors, say) pause the loop briefly instead of spinning.
//! - On shutdown the listener is closed, idle connections end, requests in flight finish
//!   within [`Limits::shutdown_grace`]; connections still busy then are closed.

use std::collections::{BTreeMap, HashMap};
use std::convert::Infallible;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes, HttpBody};
use axum::extract::ConnectInfo;
use hyper::body::{Frame, Incoming, SizeHint};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore, watch};
use tokio::time::Instant;
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt;

use crate::bodies::{self, BodyRule};
use crate::client_addr::TrustedProxies;
use crate::metrics::Metrics;
use crate::state::Limits;
use crate::tls::Tls;

/// How long the loop pauses after an accept error that is not the client's doing.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);
/// How long a newcomer waits for the idle connection closed for it to be gone.
const EVICTION_WAIT: Duration = Duration::from_millis(200);
/// How long a connection asked to close may take to do so by itself, when no request of it is
/// in flight (time for the last response to be flushed).
const LINGER: Duration = Duration::from_millis(20);
/// How long a connection the server closes goes on reading (and discarding) what its client
/// still sends, at most, and how much of it: see [`SendTimed::poll_shutdown`].
const LINGERING_CLOSE: Duration = Duration::from_secs(2);
const LINGERING_CLOSE_BYTES: usize = 64 << 20;

/// What the accept loop holds connections to, and counts them in.
#[derive(Debug, Clone)]
pub struct Edge {
    pub limits: Limits,
    /// Not held to the per-address cap.
    pub proxies: TrustedProxies,
    pub metrics: Arc<Metrics>,
    /// TLS on this port, when configured.
    pub tls: Option<Arc<Tls>>,
}

/// Serves `app` on `listener` under `edge`'s limits until `shutdown` resolves; then lets every
/// open connection finish its request in flight and returns.
pub async fn run(
    listener: TcpListener,
    app: Router,
    edge: Edge,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let limits = edge.limits;
    let metrics = edge.metrics.clone();
    let open = Arc::new(Open::new(&limits, edge.proxies));
    let mut tasks = tokio::task::JoinSet::new();
    let (stop, stopped) = watch::channel(false);
    tokio::pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => accepted,
        };
        let (stream, peer) = match accepted {
            Ok(accepted) => accepted,
            Err(e) if is_connection_error(&e) => continue,
            Err(e) => {
                tracing::warn!(error = %e, "accept failed; pausing before the next");
                tokio::select! {
                    () = &mut shutdown => break,
                    () = tokio::time::sleep(ACCEPT_BACKOFF) => continue,
                }
            }
        };
        let admitted = match open.admit(peer.ip()).await {
            Ok(admitted) => admitted,
            Err(refusal) => {
                Metrics::add(&metrics.connections_refused, 1);
                refuse(stream, refusal);
                continue;
            }
        };
        let open_now = OpenGauge::new(metrics.clone());
        let served = Served {
            app: app.clone(),
            peer,
            limits,
            admitted,
        };
        let tls = edge.tls.as_ref().map(|tls| tls.acceptor());
        let stopped = stopped.clone();
        // Connections that ended are forgotten as new ones come.
        while tasks.try_join_next().is_some() {}
        tasks.spawn(async move {
            served.run(stream, tls, stopped).await;
            drop(open_now);
        });
    }
    drop(listener);
    let _ = stop.send(true);
    let drained = async { while tasks.join_next().await.is_some() {} };
    if tokio::time::timeout(limits.shutdown_grace, drained)
        .await
        .is_err()
    {
        tracing::warn!(
            grace = ?limits.shutdown_grace,
            open = tasks.len(),
            "connections still busy after the shutdown grace: closing them"
        );
        tasks.abort_all();
        while tasks.join_next().await.is_some() {}
    }
    Ok(())
}

/// One connection counted open (`/metrics`) until dropped.
struct OpenGauge(Arc<Metrics>);

impl OpenGauge {
    fn new(metrics: Arc<Metrics>) -> Self {
        Metrics::add(&metrics.connections_open, 1);
        OpenGauge(metrics)
    }
}

impl Drop for OpenGauge {
    fn drop(&mut self) {
        self.0.connections_open.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Errors of one connection that the client caused: nothing to wait out.
fn is_connection_error(e: &std::io::Error) -> bool {
    use std::io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    matches!(
        e.kind(),
        ConnectionRefused | ConnectionAborted | ConnectionReset
    )
}

/// Why a connection was not admitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Refusal {
    /// At the connection cap, none idle.
    Full,
    /// Its address has as many open as one address may.
    AddressFull,
}

/// Answers a connection over a cap with 503 and closes it, without waiting on the client.
fn refuse(stream: TcpStream, refusal: Refusal) {
    let detail = match refusal {
        Refusal::Full => "the server has as many connections open as it may; retry after a second",
        Refusal::AddressFull => {
            "your address has as many connections open as one address may; close one, or retry after a second"
        }
    };
    let body = crate::error::ApiError::new(crate::error::Code::Overloaded, detail)
        .problem()
        .to_string();
    let response = format!(
        "HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\nContent-Type: application/problem+json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    // What the client sent already is read first: closing with unread data would reset the
    // connection, and the client might lose the answer.
    let mut sink = [0; 4096];
    let _ = stream.try_read(&mut sink);
    let _ = stream.try_write(response.as_bytes());
    match refusal {
        Refusal::Full => tracing::warn!("connection refused: at the connection cap, none idle"),
        Refusal::AddressFull => {
            tracing::warn!("connection refused: its address is at the per-address cap")
        }
    }
}

/// The open connections: a slot each, and what eviction needs to know of them.
#[derive(Debug)]
struct Open {
    slots: Arc<Semaphore>,
    conns: Mutex<BTreeMap<u64, Arc<Conn>>>,
    next_id: AtomicU64,
    epoch: Instant,
    /// Most connections from one address ([`Limits::max_connections_per_address`]).
    per_address: usize,
    /// Addresses not held to `per_address`.
    proxies: TrustedProxies,
    /// Connections open by address (absent: none; trusted proxies are not counted).
    by_address: Mutex<HashMap<IpAddr, usize>>,
}

/// One open connection, as eviction sees it.
#[derive(Debug, Default)]
struct Conn {
    /// Requests in flight (0 or 1 on HTTP/1).
    requests: AtomicUsize,
    /// When it last went idle, in milliseconds since [`Open::epoch`].
    idle_since: AtomicU64,
    evicted: AtomicBool,
    evict: Notify,
}

impl Open {
    fn new(limits: &Limits, proxies: TrustedProxies) -> Self {
        let cap = limits.max_connections.clamp(1, u32::MAX as usize) as u32;
        Open {
            slots: Arc::new(Semaphore::new(cap as usize)),
            conns: Mutex::default(),
            next_id: AtomicU64::new(0),
            epoch: Instant::now(),
            per_address: limits.max_connections_per_address.max(1),
            proxies,
            by_address: Mutex::default(),
        }
    }

    fn now_ms(&self) -> u64 {
        self.epoch.elapsed().as_millis() as u64
    }

    /// A slot for a new connection from `peer`: within its address's cap, a free one or one
    /// an idle connection gives up.
    async fn admit(self: &Arc<Self>, peer: IpAddr) -> Result<Admitted, Refusal> {
        let address = self.count_address(peer)?;
        let permit = match self.slots.clone().try_acquire_owned() {
            Ok(permit) => Some(permit),
            Err(_) if self.evict_idlest() => {
                let freed = self.slots.clone().acquire_owned();
                tokio::time::timeout(EVICTION_WAIT, freed)
                    .await
                    .ok()
                    .and_then(Result::ok)
            }
            Err(_) => None,
        };
        let Some(permit) = permit else {
            drop(address);
            return Err(Refusal::Full);
        };
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let conn = Arc::new(Conn::default());
        conn.idle_since.store(self.now_ms(), Ordering::Relaxed);
        self.conns.lock().unwrap().insert(id, conn.clone());
        Ok(Admitted {
            open: self.clone(),
            id,
            conn,
            _address: address,
            _slot: permit,
        })
    }

    /// Counts a connection from `peer` against its address's cap (none for a trusted proxy).
    fn count_address(self: &Arc<Self>, peer: IpAddr) -> Result<Option<AddressCount>, Refusal> {
        let address = peer.to_canonical();
        if self.proxies.trusts(address) {
            return Ok(None);
        }
        let mut by_address = self.by_address.lock().unwrap();
        let n = by_address.entry(address).or_default();
        if *n >= self.per_address {
            return Err(Refusal::AddressFull);
        }
        *n += 1;
        Ok(Some(AddressCount {
            open: self.clone(),
            address,
        }))
    }

    /// Tells the connection idle longest to close; false when every one is busy.
    fn evict_idlest(&self) -> bool {
        let conns = self.conns.lock().unwrap();
        let idlest = conns
            .values()
            .filter(|c| c.requests.load(Ordering::Relaxed) == 0)
            .filter(|c| !c.evicted.load(Ordering::Relaxed))
            .min_by_key(|c| c.idle_since.load(Ordering::Relaxed));
        let Some(conn) = idlest else { return false };
        conn.evicted.store(true, Ordering::Relaxed);
        conn.evict.notify_one();
        tracing::info!("at the connection cap: closing the connection idle longest");
        true
    }
}

/// A connection's slot, given back (and the connection forgotten) when it ends.
#[derive(Debug)]
struct Admitted {
    open: Arc<Open>,
    id: u64,
    conn: Arc<Conn>,
    _address: Option<AddressCount>,
    _slot: OwnedSemaphorePermit,
}

/// One connection counted against its address's cap, uncounted when dropped.
#[derive(Debug)]
struct AddressCount {
    open: Arc<Open>,
    address: IpAddr,
}

impl Drop for AddressCount {
    fn drop(&mut self) {
        let mut by_address = self.open.by_address.lock().unwrap();
        if let Some(n) = by_address.get_mut(&self.address) {
            *n -= 1;
            if *n == 0 {
                by_address.remove(&self.address);
            }
        }
    }
}

impl Drop for Admitted {
    fn drop(&mut self) {
        self.open.conns.lock().unwrap().remove(&self.id);
    }
}

/// One connection being served.
struct Served {
    app: Router,
    peer: SocketAddr,
    limits: Limits,
    admitted: Admitted,
}

impl Served {
    async fn run(
        self,
        stream: TcpStream,
        tls: Option<TlsAcceptor>,
        mut stopped: watch::Receiver<bool>,
    ) {
        let _ = stream.set_nodelay(true);
        let stream = SendTimed::new(stream, self.limits.export_send_timeout);
        let Some(tls) = tls else {
            return self.serve(stream, stopped).await;
        };
        // The handshake is held to the header timeout, and gives way to eviction and shutdown
        // like a connection waiting for its first request.
        let conn = self.admitted.conn.clone();
        let handshake = tokio::time::timeout(self.limits.header_timeout, tls.accept(stream));
        let done = tokio::select! {
            done = handshake => done,
            () = conn.evict.notified() => return,
            _ = stopped.changed() => return,
        };
        match done {
            Ok(Ok(stream)) => self.serve(stream, stopped).await,
            Ok(Err(e)) => tracing::debug!(error = %e, peer = %self.peer, "TLS handshake failed"),
            Err(_) => tracing::debug!(peer = %self.peer, "TLS handshake timed out"),
        }
    }

    /// Serves HTTP/1 on `stream` (plain or TLS) until the connection ends.
    async fn serve<S>(self, stream: S, mut stopped: watch::Receiver<bool>)
    where
        S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let Served {
            app,
            peer,
            limits,
            admitted,
        } = self;
        let rule = BodyRule::from(&limits);
        let (open, conn) = (admitted.open.clone(), admitted.conn.clone());
        let service = hyper::service::service_fn(move |request: hyper::Request<Incoming>| {
            let busy = Busy::start(open.clone(), conn.clone());
            let app = app.clone();
            async move {
                let mut request = bodies::timed(request, rule);
                request.extensions_mut().insert(ConnectInfo(peer));
                let Ok(response) = app.oneshot(request).await;
                Ok::<_, Infallible>(response.map(|body| Guarded { body, _busy: busy }))
            }
        });
        let mut builder = hyper::server::conn::http1::Builder::new();
        builder
            .timer(TokioTimer::new())
            .header_read_timeout(limits.header_timeout);
        let connection = builder.serve_connection(TokioIo::new(stream), service);
        tokio::pin!(connection);
        // hyper's graceful shutdown closes a connection idle between requests, but waits out
        // the header timeout on one that has not sent its first: so a connection still without
        // a request in flight a moment after being asked to close is dropped.
        let linger = tokio::time::sleep(Duration::from_secs(24 * 3600));
        tokio::pin!(linger);
        let mut closing = false;
        loop {
            tokio::select! {
                served = connection.as_mut() => {
                    if let Err(e) = served {
                        tracing::debug!(error = %e, %peer, "connection ended");
                    }
                    break;
                }
                () = admitted.conn.evict.notified(), if !closing => {
                    connection.as_mut().graceful_shutdown();
                    linger.as_mut().reset(Instant::now() + LINGER);
                    closing = true;
                }
                _ = stopped.changed(), if !closing => {
                    connection.as_mut().graceful_shutdown();
                    linger.as_mut().reset(Instant::now() + LINGER);
                    closing = true;
                }
                () = &mut linger, if closing => {
                    if admitted.conn.requests.load(Ordering::Relaxed) == 0 {
                        break;
                    }
                    // A request is in flight: hyper closes the connection once it is answered.
                    linger.as_mut().reset(Instant::now() + Duration::from_secs(24 * 3600));
                }
            }
        }
        drop(admitted);
    }
}

/// A request in flight on a connection, from its headers to the last byte of its response.
struct Busy {
    open: Arc<Open>,
    conn: Arc<Conn>,
}

impl Busy {
    fn start(open: Arc<Open>, conn: Arc<Conn>) -> Self {
        conn.requests.fetch_add(1, Ordering::Relaxed);
        Busy { open, conn }
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        self.conn
            .idle_since
            .store(self.open.now_ms(), Ordering::Relaxed);
        self.conn.requests.fetch_sub(1, Ordering::Relaxed);
    }
}

/// A response body that keeps its connection counted busy until it has been sent.
struct Guarded {
    body: Body,
    _busy: Busy,
}

impl HttpBody for Guarded {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

/// A socket whose writes fail once the client has taken nothing for `timeout`: hyper then ends
/// the connection. The socket is reset rather than closed, so the kernel does not keep the
/// unsent bytes for a client that does not read.
struct SendTimed {
    stream: TcpStream,
    timeout: Duration,
    /// When the write waiting now gives up; `None` while writes go through.
    deadline: Option<Pin<Box<tokio::time::Sleep>>>,
    /// The lingering close under way, once the server has shut its sending side.
    closing: Option<Closing>,
}

/// A lingering close: how long it may go on, and what it has discarded.
struct Closing {
    until: Pin<Box<tokio::time::Sleep>>,
    discarded: usize,
}

impl SendTimed {
    fn new(stream: TcpStream, timeout: Duration) -> Self {
        SendTimed {
            stream,
            timeout,
            deadline: None,
            closing: None,
        }
    }

    /// What a write that returned `poll` amounts to: the same, or an error once the client
    /// has taken nothing for the timeout.
    fn timed<T>(
        &mut self,
        cx: &mut Context<'_>,
        poll: Poll<std::io::Result<T>>,
    ) -> Poll<std::io::Result<T>> {
        if poll.is_ready() {
            self.deadline = None;
            return poll;
        }
        let timeout = self.timeout;
        let deadline = self
            .deadline
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(timeout)));
        if deadline.as_mut().poll(cx).is_pending() {
            return Poll::Pending;
        }
        self.deadline = None;
        let _ = self.stream.set_zero_linger();
        tracing::info!(
            ?timeout,
            "a client took none of its response in time: connection reset"
        );
        Poll::Ready(Err(std::io::Error::new(
            std::io::ErrorKind::TimedOut,
            format!("the client took nothing for {timeout:?}"),
        )))
    }
}

impl AsyncRead for SendTimed {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for SendTimed {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let poll = Pin::new(&mut self.stream).poll_write(cx, data);
        self.timed(cx, poll)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let poll = Pin::new(&mut self.stream).poll_write_vectored(cx, data);
        self.timed(cx, poll)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        let poll = Pin::new(&mut self.stream).poll_flush(cx);
        self.timed(cx, poll)
    }

    /// Shuts the sending side, then reads and discards what the client still sends until it
    /// closes its side too, for at most [`LINGERING_CLOSE`] and [`LINGERING_CLOSE_BYTES`].
    ///
    /// Closing a socket with unread data resets the connection: a client still sending a body
    /// the server answered early (413, 429) sees its writes fail, and clients that send the
    /// whole body before they read give up there, with the answer unread.
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        let this = &mut *self;
        if this.closing.is_none() {
            std::task::ready!(Pin::new(&mut this.stream).poll_shutdown(cx))?;
            this.closing = Some(Closing {
                until: Box::pin(tokio::time::sleep(LINGERING_CLOSE)),
                discarded: 0,
            });
        }
        let closing = this.closing.as_mut().expect("set above");
        let mut scratch = [0; 16 << 10];
        loop {
            let mut buf = tokio::io::ReadBuf::new(&mut scratch);
            match Pin::new(&mut this.stream).poll_read(cx, &mut buf) {
                Poll::Ready(Ok(())) if buf.filled().is_empty() => return Poll::Ready(Ok(())),
                Poll::Ready(Ok(())) => {
                    closing.discarded += buf.filled().len();
                    if closing.discarded > LINGERING_CLOSE_BYTES {
                        return Poll::Ready(Ok(()));
                    }
                }
                // The client is gone: nothing to wait for.
                Poll::Ready(Err(_)) => return Poll::Ready(Ok(())),
                Poll::Pending => {
                    return match closing.until.as_mut().poll(cx) {
                        Poll::Ready(()) => Poll::Ready(Ok(())),
                        Poll::Pending => Poll::Pending,
                    };
                }
            }
        }
    }
}
