//! `actlog pull --partner P`: mirrors P's audit records from Partner Center, or any API
//! compatible with it (another actlog), into the database, resuming where the last pull
//! stopped; `--follow` keeps it current until Ctrl-C or SIGTERM. What a pull does lives in
//! [`actlog_app::pull`]; this is the command: settings and flags, progress, the summary.

use std::io::Write;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use actlog_app::clock::SystemClock;
use actlog_app::pull::{
    self, ClientCertificate, ClientSecret, Counts, Credentials, Mirror, Observer, Options,
    PullError, PullReport, RetryPolicy, Secret, Source, Span, Start, Stop,
};
use actlog_domain::OperationDate;
use actlog_domain::time::QueryDate;
use indicatif::{ProgressBar, ProgressStyle};
use jiff::SignedDuration;
use jiff::tz::TimeZone;

use crate::UsageError;
use crate::config::{DatabaseUrl, PullSettings};
use crate::progress;
use crate::serve::open_store;

/// The flags of `actlog pull` (besides `--database`).
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The partner whose records are mirrored (created if new).
    #[arg(long, value_name = "PARTNER_ID")]
    partner: String,
    /// Where a first pull starts: yyyy-mm-dd (UTC) or RFC 3339 (default: 90 days ago, all that
    /// Partner Center keeps). Later pulls resume where the last one stopped.
    #[arg(long, value_name = "DATE")]
    since: Option<String>,
    /// Read from --since again, as if no pull had run before.
    #[arg(long)]
    restart: bool,
    /// The audit-records API to read (default from the settings: Partner Center's,
    /// https://api.partnercenter.microsoft.com/v1/auditrecords).
    #[arg(long, value_name = "URL")]
    source: Option<String>,
    /// A bearer token for the source instead of client credentials, e.g. another actlog's
    /// read key (ACTLOG_PULL_TOKEN keeps it out of the process list).
    #[arg(long, value_name = "TOKEN")]
    token: Option<String>,
    /// Keep pulling, a pass every pull.interval_seconds, until Ctrl-C or SIGTERM.
    #[arg(long)]
    follow: bool,
}

pub async fn run(settings: &PullSettings, url: &DatabaseUrl, args: &Args) -> anyhow::Result<()> {
    let options = options(settings, args)?;
    let source = source(settings, args)?;
    let store = open_store(url).await?;
    let shown = Arc::new(Shown::new(args.follow));
    let (handle, stop) = Stop::new();
    tokio::spawn(async move {
        signal().await;
        handle.stop();
        // A second signal does not wait for the page being stored.
        signal().await;
        std::process::exit(130);
    });
    let mirror = Mirror {
        store: store.as_ref(),
        source: &source,
        clock: &SystemClock,
    };
    let report = pull::pull(mirror, &options, shown.clone(), stop).await;
    shown.bar.finish_and_clear();
    let report = report?;
    print_summary(&options, &source, &report);
    Ok(())
}

/// What to pull, from the flags and settings; what cannot work is a usage error.
fn options(settings: &PullSettings, args: &Args) -> anyhow::Result<Options> {
    let partner = args.partner.trim();
    if partner.is_empty() {
        return Err(UsageError("--partner must name a partner".into()).into());
    }
    let since = args.since.as_deref().map(since).transpose()?;
    let overlap_hours = i64::try_from(settings.overlap_hours).unwrap_or(i64::MAX / 3600);
    Ok(Options {
        partner: partner.to_owned(),
        since,
        restart: args.restart,
        overlap: SignedDuration::from_hours(overlap_hours.min(24 * 365 * 100)),
        follow: args
            .follow
            .then(|| Duration::from_secs(settings.interval_seconds)),
    })
}

/// `--since`, a day (from its UTC midnight) or an instant, not in the future.
fn since(text: &str) -> Result<OperationDate, UsageError> {
    let date = QueryDate::parse(text).map_err(|e| UsageError(format!("--since: {e}")))?;
    let at = date.start(&TimeZone::UTC);
    if at.timestamp() > jiff::Timestamp::now() {
        return Err(UsageError(format!("--since {text} is in the future")));
    }
    Ok(at)
}

/// The source and its credentials: `--token` / `pull.token`, else the app's client
/// credentials, which must then be complete.
fn source(settings: &PullSettings, args: &Args) -> anyhow::Result<Source> {
    let url = args.source.as_deref().unwrap_or(&settings.source);
    let token = args.token.clone().map(Secret::new);
    let credentials = match token.or_else(|| settings.token.clone()) {
        Some(token) => Credentials::Bearer(token),
        None => client_credentials(settings)?,
    };
    Source::new(url, credentials, settings.page_size, RetryPolicy::default())
        .map_err(|e| UsageError(e.to_string()).into())
}

/// The app's client credentials: tenant and client id, with a secret or a certificate.
fn client_credentials(settings: &PullSettings) -> anyhow::Result<Credentials> {
    let proof = settings.client_secret.is_some() || settings.client_certificate.is_some();
    let missing: Vec<&str> = [
        ("tenant_id", settings.tenant_id.is_none()),
        ("client_id", settings.client_id.is_none()),
        ("client_secret or client_certificate", !proof),
    ]
    .into_iter()
    .filter_map(|(name, absent)| absent.then_some(name))
    .collect();
    let (Some(tenant), Some(client), true) = (&settings.tenant_id, &settings.client_id, proof)
    else {
        return Err(UsageError(format!(
            "no credentials for the source: give --token (or ACTLOG_PULL_TOKEN), or set the \
             app's tenant_id, client_id and client_secret (or client_certificate) in [pull] or \
             as ACTLOG_PULL_TENANT_ID, ACTLOG_PULL_CLIENT_ID and ACTLOG_PULL_CLIENT_SECRET \
             (missing: {})",
            missing.join(", ")
        ))
        .into());
    };
    let authority = &settings.authority;
    let credentials = match (&settings.client_secret, &settings.client_certificate) {
        (Some(_), Some(_)) => {
            return Err(UsageError(
                "both pull.client_secret and pull.client_certificate are set: keep one".into(),
            )
            .into());
        }
        (Some(secret), None) => ClientSecret::new(authority, tenant, client, secret.clone())
            .map(Credentials::ClientSecret),
        (None, Some(certificate)) => {
            let key = settings.client_key.as_ref().unwrap_or(certificate);
            let (certificate, key) = (read_pem(certificate)?, read_pem(key)?);
            ClientCertificate::from_pem(authority, tenant, client, &certificate, &key)
                .map(Credentials::ClientCertificate)
        }
        (None, None) => unreachable!("checked above"),
    };
    credentials.map_err(|e| UsageError(format!("pull settings: {e}")).into())
}

fn read_pem(path: &Path) -> Result<Vec<u8>, UsageError> {
    std::fs::read(path).map_err(|e| UsageError(format!("cannot read {}: {e}", path.display())))
}

/// Ctrl-C or SIGTERM.
async fn signal() {
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut term) => {
                term.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        () = term => {}
    }
}

fn print_summary(options: &Options, source: &Source, report: &PullReport) {
    let Counts {
        windows,
        fetched,
        stored,
        unchanged,
    } = report.totals;
    let seconds = report.elapsed.as_secs_f64();
    let rate = if seconds > 0.0 {
        fetched as f64 / seconds
    } else {
        0.0
    };
    let windows = plural(windows, "window", "windows");
    let passes = match report.passes {
        1 => String::new(),
        n => format!(" in {n} passes"),
    };
    let mut out = std::io::stdout().lock();
    let _ = writeln!(
        out,
        "Pulled partner {} from {}{passes}: {windows}, {fetched} records fetched, \
         {stored} new, {unchanged} already present, in {seconds:.1} s ({rate:.0} records/s).",
        options.partner,
        source.key(),
    );
    if report.failed_passes > 0 {
        let _ = writeln!(
            out,
            "{} passes failed and were tried again at the next (see the warnings above).",
            report.failed_passes
        );
    }
    let resumes = report.through.map(|through| {
        let from = through.saturating_add(-options.overlap);
        format!(
            "read through {}; the next pull resumes from {}",
            day_time(through),
            day_time(from)
        )
    });
    let line = match (report.stopped, resumes) {
        (true, Some(resumes)) => format!("Stopped on request: {resumes}."),
        (true, None) => "Stopped on request before a window was complete.".to_owned(),
        (false, Some(resumes)) => format!("Up to date: {resumes}."),
        (false, None) => "Nothing to read: --since is not before now.".to_owned(),
    };
    let _ = writeln!(out, "{line}");
}

/// `1 window`, `2 windows`.
fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// `2026-05-31 12:00:00 UTC`.
fn day_time(at: OperationDate) -> String {
    at.timestamp().strftime("%Y-%m-%d %H:%M:%S UTC").to_string()
}

/// Progress on a terminal (windows, records, records/s), and the warnings of retries and
/// failed passes as log lines.
struct Shown {
    bar: ProgressBar,
    follow: bool,
    windows: AtomicU64,
    done: AtomicU64,
}

impl Shown {
    fn new(follow: bool) -> Shown {
        let bar = progress::bar(None, "pulling");
        bar.set_style(
            ProgressStyle::with_template(
                "{spinner} pulling: {msg}, {human_pos} records ({per_sec})",
            )
            .expect("the template is valid"),
        );
        bar.set_message("starting");
        Shown {
            bar,
            follow,
            windows: AtomicU64::new(0),
            done: AtomicU64::new(0),
        }
    }

    fn show_windows(&self) {
        let (done, of) = (
            self.done.load(Ordering::Relaxed),
            self.windows.load(Ordering::Relaxed),
        );
        self.bar.set_message(format!("window {done}/{of}"));
    }
}

impl Observer for Shown {
    fn pass_started(&self, start: Start, windows: &[Span]) {
        self.windows.store(windows.len() as u64, Ordering::Relaxed);
        self.done.store(0, Ordering::Relaxed);
        self.show_windows();
        if let Start::Resume { through, from } = start {
            tracing::debug!(
                "resuming from {} (read through {})",
                day_time(from),
                day_time(through)
            );
        }
    }

    fn stored(&self, page: Counts) {
        self.bar.inc(page.fetched);
    }

    fn window_done(&self, _span: Span) {
        self.done.fetch_add(1, Ordering::Relaxed);
        self.show_windows();
    }

    fn retrying(&self, url: &str, why: &str, delay: Duration) {
        self.bar.suspend(|| {
            tracing::warn!("{url}: {why}; trying again in {:.1} s", delay.as_secs_f64())
        });
    }

    fn pass_done(&self, counts: Counts) {
        if self.follow {
            self.bar.suspend(|| {
                tracing::info!(
                    "pass done: {} records fetched, {} new",
                    counts.fetched,
                    counts.stored
                )
            });
        }
    }

    fn pass_failed(&self, err: &PullError) {
        self.bar
            .suspend(|| tracing::warn!("this pass failed, the next will try again: {err}"));
    }

    fn idle(&self, delay: Duration) {
        self.bar
            .set_message(format!("up to date, next pass in {} s", delay.as_secs()));
    }
}
