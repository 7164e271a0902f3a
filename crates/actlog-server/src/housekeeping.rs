//! What a running server tidies now and then: expired sessions and failed sign-ins older than
//! their window. Every server sharing a database does it; the deletes are idempotent.

use std::time::Duration;

use jiff::SignedDuration;

use crate::state::AppState;

/// How often.
const EVERY: Duration = Duration::from_secs(10 * 60);

/// Tidies once, now.
pub async fn tidy(state: &AppState) {
    let now = state.clock.now();
    let ago = |d: Duration| {
        now.saturating_add(-SignedDuration::try_from(d).unwrap_or(SignedDuration::MAX))
    };
    let sessions = &state.config.sessions;
    let purged = state
        .store
        .purge_sessions(ago(sessions.idle), ago(sessions.absolute))
        .await;
    let throttles = &state.sign_in_failures;
    let window = [
        throttles.account_from_address,
        throttles.account,
        throttles.address,
    ]
    .iter()
    .map(|t| t.window())
    .max()
    .unwrap_or_default();
    let failures = state.store.purge_sign_in_failures(ago(window)).await;
    match (purged, failures) {
        (Ok(sessions), Ok(failures)) => {
            tracing::debug!(
                sessions,
                failures,
                "purged expired sessions and sign-in failures"
            );
        }
        (Err(e), _) | (_, Err(e)) => tracing::warn!(%e, "housekeeping failed; retried later"),
    }
}

/// Tidies every [`EVERY`] until the returned task is dropped or aborted.
pub fn start(state: AppState) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(EVERY);
        loop {
            ticks.tick().await;
            tidy(&state).await;
        }
    })
}
