// SPDX-License-Identifier: GPL-2.0

//! Completions: one thread waits until another says that something is done.
//!
//! C header: [`include/linux/completion.h`](srctree/include/linux/completion.h)

use crate::{bindings, init::PinInit, pin_init, types::Opaque};
use macros::pin_data;

/// A completion (`struct completion`): threads wait on it until it is completed.
///
/// Once [`Completion::complete_all`] has been called, every wait returns at once, now and later.
///
/// # Invariants
///
/// `inner` is an initialised `struct completion`.
///
/// # Examples
///
/// ```
/// use kernel::{prelude::*, sync::{Arc, Completion}, workqueue};
///
/// let done = Arc::pin_init(Completion::new(), GFP_KERNEL)?;
/// assert!(!done.is_done());
/// let signaller = done.clone();
/// workqueue::system().try_spawn(GFP_KERNEL, move || signaller.complete_all())?;
/// done.wait_for_completion();
/// assert!(done.is_done());
/// // Completed for good: waiting again returns at once.
/// done.wait_for_completion();
/// # Ok::<(), Error>(())
/// ```
#[pin_data]
pub struct Completion {
    #[pin]
    inner: Opaque<bindings::completion>,
}

// SAFETY: A `struct completion` may be completed and waited for from any thread; it synchronises
// itself with its wait queue's lock.
unsafe impl Send for Completion {}

// SAFETY: As above: every method takes `&self` and is safe to call concurrently.
unsafe impl Sync for Completion {}

impl Completion {
    /// Creates a completion that is not done yet.
    pub fn new() -> impl PinInit<Self> {
        // INVARIANT: `init_completion()` initialises `inner`.
        pin_init!(Self {
            // SAFETY: `slot` is valid for writes and pinned, as `init_completion()` expects.
            inner <- Opaque::ffi_init(|slot| unsafe { bindings::init_completion(slot) }),
        })
    }

    fn as_raw(&self) -> *mut bindings::completion {
        self.inner.get()
    }

    /// Marks the completion done and wakes every waiter, now and for good.
    pub fn complete_all(&self) {
        // SAFETY: By the type invariant `inner` is an initialised completion.
        unsafe { bindings::complete_all(self.as_raw()) };
    }

    /// Waits, uninterruptibly, until the completion is done; may sleep.
    pub fn wait_for_completion(&self) {
        // SAFETY: By the type invariant `inner` is an initialised completion; this may sleep,
        // which `wait_for_completion()` checks itself (`might_sleep()`).
        unsafe { bindings::wait_for_completion(self.as_raw()) };
    }

    /// Returns whether the completion is done, without waiting.
    pub fn is_done(&self) -> bool {
        // SAFETY: By the type invariant `inner` is an initialised completion.
        unsafe { bindings::completion_done(self.as_raw()) }
    }
}
