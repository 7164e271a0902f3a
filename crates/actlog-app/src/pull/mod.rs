//! Mirroring a partner's audit records from a Partner Center–compatible API into the store
//! (`actlog pull`), so that their history outlives Partner Center's 90 days.
//!
//! A pass reads from where the last one stopped (less an overlap) up to now, in 30-day
//! windows, each followed page by page; every page is appended as it arrives (ids make
//! re-reads harmless), and after each whole window the store records how far the mirror has
//! read ([`actlog_store::Tenancy::set_pull_state`]), so an interrupted pull resumes there.
//! Following, passes repeat at an interval until stopped. Reading runs one page ahead of
//! storing, so the source and the store work at the same time.
//!
//! - [`plan`]: where a pass starts and its windows (the resume rule).
//! - [`source`]: the API, read a window at a time; `page`: what a page says (its records, and
//!   where the next page is, as Partner Center's clients follow it).
//! - [`retry`]: which failures are retried, how often, and how long to wait.
//! - [`signin`]: a static bearer, or OAuth 2.0 client credentials at an Entra authority: a
//!   client secret, or a certificate ([`certificate`]).
//! - [`error`]: why a pull stopped, and what the source said.

pub mod certificate;
pub mod error;
mod page;
pub mod plan;
pub mod retry;
pub mod signin;
pub mod source;

use std::sync::Arc;
use std::time::{Duration, Instant};

use actlog_domain::{AuditRecord, OperationDate};
use actlog_store::{AppendError, Store, StoreError};
use jiff::SignedDuration;
use tokio::sync::{mpsc, watch};

use crate::clock::Clock;

pub use certificate::ClientCertificate;
pub use error::{Fault, PullError, SetupError};
pub use plan::{Span, Start};
pub use retry::RetryPolicy;
pub use signin::{ClientSecret, Credentials, Secret};
pub use source::Source;

/// What a pull does, besides where it reads from.
#[derive(Debug, Clone)]
pub struct Options {
    /// The partner whose records are mirrored (it is created if new).
    pub partner: String,
    /// Where a first pull starts (default: 90 days ago); later pulls resume instead.
    pub since: Option<OperationDate>,
    /// Start again from `since`, ignoring where the last pull stopped.
    pub restart: bool,
    /// How far before the last pull's end a later pull starts reading again.
    pub overlap: SignedDuration,
    /// Keep pulling, a pass every so often (with ±10 % jitter), until stopped.
    pub follow: Option<Duration>,
}

/// Records read and stored.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Windows read to their end (and recorded as read).
    pub windows: u64,
    /// Records the source sent.
    pub fetched: u64,
    /// Of those, records the store did not hold yet.
    pub stored: u64,
    /// Of those, records it held already (read again).
    pub unchanged: u64,
}

impl Counts {
    fn add(&mut self, other: Counts) {
        self.windows += other.windows;
        self.fetched += other.fetched;
        self.stored += other.stored;
        self.unchanged += other.unchanged;
    }
}

/// What a whole pull did.
#[derive(Debug, Clone, Default)]
pub struct PullReport {
    pub totals: Counts,
    /// Passes begun (one unless following).
    pub passes: u64,
    /// Passes that failed and were given up until the next one (following only).
    pub failed_passes: u64,
    /// How far the mirror has read now (every record dated before it), if known.
    pub through: Option<OperationDate>,
    /// Whether it ended because it was asked to stop.
    pub stopped: bool,
    pub elapsed: Duration,
}

/// What a pull tells as it goes (the binary shows progress from it). Every method does
/// nothing unless implemented.
pub trait Observer: Send + Sync {
    /// A pass begins: where it starts, and its windows.
    fn pass_started(&self, _start: Start, _windows: &[Span]) {}
    /// A page was appended: its records, new and already stored.
    fn stored(&self, _page: Counts) {}
    /// A window was read to its end.
    fn window_done(&self, _span: Span) {}
    /// A request failed and is tried again after `delay`.
    fn retrying(&self, _url: &str, _why: &str, _delay: Duration) {}
    /// A pass ended; `counts` are its own.
    fn pass_done(&self, _counts: Counts) {}
    /// A following pull's pass failed for a reason the next pass may not meet.
    fn pass_failed(&self, _err: &PullError) {}
    /// A following pull waits `delay` for its next pass.
    fn idle(&self, _delay: Duration) {}
}

/// An observer that shows nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct Quiet;

impl Observer for Quiet {}

/// Asks a pull to stop after the page it is storing.
#[derive(Debug)]
pub struct StopHandle(watch::Sender<bool>);

impl StopHandle {
    pub fn stop(&self) {
        self.0.send_replace(true);
    }
}

/// Tells a pull whether it was asked to stop.
#[derive(Debug, Clone)]
pub struct Stop(watch::Receiver<bool>);

impl Stop {
    pub fn new() -> (StopHandle, Stop) {
        let (sender, receiver) = watch::channel(false);
        (StopHandle(sender), Stop(receiver))
    }

    fn is_set(&self) -> bool {
        *self.0.borrow()
    }

    /// Returns once stopping is asked (never, once every handle is gone without asking).
    async fn wait(&mut self) {
        if self.0.wait_for(|stop| *stop).await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

impl PullError {
    /// Whether a later pass may well succeed where this one failed: the source or the store
    /// was unavailable for longer than the retries waited.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            PullError::GaveUp { .. } | PullError::Store(StoreError::Busy)
        )
    }
}

/// Where a pull reads and writes.
#[derive(Debug, Clone, Copy)]
pub struct Mirror<'a> {
    pub store: &'a dyn Store,
    pub source: &'a Source,
    pub clock: &'a dyn Clock,
}

/// Pulls `options.partner`'s records from the source into the store: one pass, or passes
/// until `stop` when following. A following pull outlives transient failures (told to the
/// observer) and ends on any other.
pub async fn pull(
    mirror: Mirror<'_>,
    options: &Options,
    observer: Arc<dyn Observer>,
    mut stop: Stop,
) -> Result<PullReport, PullError> {
    let began = Instant::now();
    mirror.store.ensure_partner(&options.partner).await?;
    let mut report = PullReport {
        through: mirror
            .store
            .pull_state(&options.partner, mirror.source.key())
            .await?,
        ..PullReport::default()
    };
    loop {
        report.passes += 1;
        let first = report.passes == 1;
        match pass(mirror, options, first, &observer, &mut stop, &mut report).await {
            Ok(Ended::Stopped) => report.stopped = true,
            Ok(Ended::Done) => {}
            Err(err) if options.follow.is_some() && err.is_transient() => {
                report.failed_passes += 1;
                observer.pass_failed(&err);
            }
            Err(err) => return Err(err),
        }
        let Some(interval) = options.follow.filter(|_| !report.stopped) else {
            break;
        };
        let delay = interval.mul_f64(0.9 + 0.2 * retry::random_unit());
        observer.idle(delay);
        tokio::select! {
            () = stop.wait() => {
                report.stopped = true;
                break;
            }
            () = tokio::time::sleep(delay) => {}
        }
    }
    report.elapsed = began.elapsed();
    Ok(report)
}

/// How a pass ended.
enum Ended {
    Done,
    Stopped,
}

/// What the reading task hands to the storing one.
enum Fetched {
    Records(Vec<AuditRecord>),
    WindowDone(Span),
    Failed(PullError),
}

/// Aborts the reading task when the pass ends, however it ends.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl AbortOnDrop {
    /// Waits for the task, which has ended or is about to.
    async fn join(mut self) -> Result<(), tokio::task::JoinError> {
        (&mut self.0).await
    }
}

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// One pass: from the resume point (or `since`) to now.
async fn pass(
    mirror: Mirror<'_>,
    options: &Options,
    first: bool,
    observer: &Arc<dyn Observer>,
    stop: &mut Stop,
    report: &mut PullReport,
) -> Result<Ended, PullError> {
    let (partner, key) = (options.partner.as_str(), mirror.source.key());
    let now = plan::whole_second(mirror.clock.now());
    let state = mirror.store.pull_state(partner, key).await?;
    let start = plan::start(
        state,
        options.since,
        options.restart && first,
        options.overlap,
        now,
    );
    let windows = plan::windows(start.at(), now);
    observer.pass_started(start, &windows);
    // Two pages may wait while one is stored: memory stays bounded, and reading goes on.
    let (sender, mut pages) = mpsc::channel(2);
    let reading = AbortOnDrop(tokio::spawn(read(
        mirror.source.clone(),
        windows,
        partner.to_owned(),
        observer.clone(),
        sender,
    )));
    let mut counts = Counts::default();
    let ended = loop {
        let fetched = tokio::select! {
            biased;
            () = stop.wait() => break Ended::Stopped,
            fetched = pages.recv() => fetched,
        };
        let Some(fetched) = fetched else {
            break Ended::Done;
        };
        let taken = take(mirror, partner, fetched, observer.as_ref()).await;
        match taken {
            Ok(Taken::Page(page)) => counts.add(page),
            Ok(Taken::Window(span)) => {
                counts.windows += 1;
                report.through = Some(span.end);
            }
            Err(err) => {
                report.totals.add(counts);
                return Err(err);
            }
        }
        if stop.is_set() {
            break Ended::Stopped;
        }
    };
    report.totals.add(counts);
    if matches!(ended, Ended::Done) {
        // The reading task ends by closing its channel; a panic there is not success.
        if let Err(err) = reading.join().await
            && err.is_panic()
        {
            std::panic::resume_unwind(err.into_panic());
        }
    }
    observer.pass_done(counts);
    Ok(ended)
}

/// What storing one message of the reading task did.
enum Taken {
    /// A page was appended.
    Page(Counts),
    /// A window was read to its end, and recorded as read.
    Window(Span),
}

/// Stores a page, or records a window as read, or hands on the reading task's failure.
async fn take(
    mirror: Mirror<'_>,
    partner: &str,
    fetched: Fetched,
    observer: &dyn Observer,
) -> Result<Taken, PullError> {
    match fetched {
        Fetched::Failed(err) => Err(err),
        Fetched::Records(records) => {
            let page = store(mirror.store, partner, records).await?;
            observer.stored(page);
            Ok(Taken::Page(page))
        }
        Fetched::WindowDone(span) => {
            let key = mirror.source.key();
            mirror.store.set_pull_state(partner, key, span.end).await?;
            observer.window_done(span);
            Ok(Taken::Window(span))
        }
    }
}

/// Reads every window in turn, handing pages over; ends after the last window, or at the
/// first failure (handed over too), or when the pass stops listening.
async fn read(
    source: Source,
    windows: Vec<Span>,
    partner: String,
    observer: Arc<dyn Observer>,
    pages: mpsc::Sender<Fetched>,
) {
    let correlation = random_guid();
    for span in windows {
        let mut walk = source.walk(span, &partner, &correlation);
        let next = loop {
            match walk.page(observer.as_ref()).await {
                Ok(Some(records)) => {
                    if pages.send(Fetched::Records(records)).await.is_err() {
                        return;
                    }
                }
                Ok(None) => break Fetched::WindowDone(span),
                Err(err) => break Fetched::Failed(err),
            }
        };
        let failed = matches!(next, Fetched::Failed(_));
        if pages.send(next).await.is_err() || failed {
            return;
        }
    }
}

/// Appends one page.
async fn store(
    store: &dyn Store,
    partner: &str,
    records: Vec<AuditRecord>,
) -> Result<Counts, PullError> {
    let fetched = records.len() as u64;
    if records.is_empty() {
        return Ok(Counts::default());
    }
    match store.append(partner, records).await {
        Ok(done) => Ok(Counts {
            windows: 0,
            fetched,
            stored: done.stored as u64,
            unchanged: done.unchanged as u64,
        }),
        Err(AppendError::Conflict(ids)) => Err(PullError::Changed(ids)),
        Err(AppendError::Store(err)) => Err(err.into()),
    }
}

/// A random GUID (version 4), for `MS-RequestId` and `MS-CorrelationId`.
pub(crate) fn random_guid() -> String {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).expect("the operating system provides randomness");
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}
