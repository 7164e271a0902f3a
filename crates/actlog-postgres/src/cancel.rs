//! Stopping a read whose caller went away: dropping a query's future leaves the statement
//! running on the server (the driver only stops waiting for its answer), so a connection taken
//! for a read is held in a [`Cancelling`], which sends the server a cancel request when it is
//! dropped before the read is done.
//!
//! The cancelled connection is then closed rather than pooled: its answer may still be on the
//! way, and the cancel request must not reach whatever statement the next user would send.

use std::ops::Deref;

use deadpool_postgres::{Client, Object};
use tokio_postgres::{CancelToken, NoTls};

/// A pooled connection that cancels its statement in flight when dropped before [`done`].
///
/// [`done`]: Cancelling::done
pub(crate) struct Cancelling {
    client: Option<Object>,
    token: CancelToken,
}

impl Cancelling {
    pub(crate) fn new(client: Object) -> Self {
        Cancelling {
            token: client.cancel_token(),
            client: Some(client),
        }
    }

    /// The read is done: the connection goes back to the pool.
    pub(crate) fn done(mut self) {
        self.client.take();
    }
}

impl Deref for Cancelling {
    type Target = Client;

    fn deref(&self) -> &Client {
        self.client
            .as_ref()
            .expect("a connection is held until done or dropped")
    }
}

impl Drop for Cancelling {
    fn drop(&mut self) {
        let Some(client) = self.client.take() else {
            return;
        };
        let token = self.token.clone();
        // Outside a runtime (a runtime shutting down) the statement ends with its connection.
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                if let Err(e) = token.cancel_query(NoTls).await {
                    tracing::warn!(error = %e, "a cancel request for an abandoned read failed");
                }
                drop(Object::take(client));
            });
        }
    }
}
