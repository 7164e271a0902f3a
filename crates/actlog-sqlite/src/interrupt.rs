//! Stopping a read whose caller went away: the connection's interrupt handle, armed while the
//! read runs on its blocking thread and fired when the read's future (or scan's stream) is
//! dropped first.
//!
//! The handle is given up under the same lock the reading thread takes once its read is done
//! and before its connection goes back to the pool, so an interrupt never reaches the next
//! read on that connection.

use std::sync::{Arc, Mutex};

use rusqlite::InterruptHandle;

/// The running read's handle; `None` before it starts and once it is done.
#[derive(Clone, Default)]
pub(crate) struct Running(Arc<Mutex<Option<InterruptHandle>>>);

impl Running {
    /// The read on the connection of `handle` has started.
    pub(crate) fn start(&self, handle: InterruptHandle) {
        *self.lock() = Some(handle);
    }

    /// The read is done: a later interrupt must not reach the connection.
    pub(crate) fn finish(&self) {
        self.lock().take();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<InterruptHandle>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Interrupts the read when dropped before it is done.
pub(crate) struct OnDrop(pub(crate) Running);

impl Drop for OnDrop {
    fn drop(&mut self) {
        if let Some(handle) = self.0.lock().take() {
            handle.interrupt();
        }
    }
}
