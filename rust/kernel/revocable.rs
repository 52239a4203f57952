// SPDX-License-Identifier: GPL-2.0

//! Revocable objects.
//!
//! A [`Revocable<T>`] holds a `T` that its owner can revoke at any time: the value is dropped,
//! and every later access attempt fails. Accesses are short, lock-free RCU read-side critical
//! sections, so many CPUs can access the value at once, while [`Revocable::revoke`] waits for
//! the accesses in flight to end before it drops the value.
//!
//! The driver model uses it to revoke the resources a driver got for a device (I/O mappings,
//! interrupt registrations) when the device is unbound, so that a driver cannot touch the
//! hardware after its `remove` callback even if it still holds a reference to the resource.
//!
//! C header: [`include/linux/rcupdate.h`](srctree/include/linux/rcupdate.h)

use crate::bindings;
use core::{
    cell::UnsafeCell,
    marker::PhantomData,
    mem::ManuallyDrop,
    ops::Deref,
    sync::atomic::{AtomicBool, Ordering},
};

/// A value that can be revoked, after which it is dropped and no longer accessible.
///
/// # Invariants
///
/// `data` is initialised while `is_available` is true. Once `is_available` is false it stays
/// false, and `data` is dropped exactly once, after an RCU grace period that starts after the
/// flag was cleared (so no [`RevocableGuard`] can still refer to it).
///
/// # Examples
///
/// ```
/// use kernel::revocable::Revocable;
///
/// struct Registers {
///     base: usize,
/// }
///
/// let regs = Revocable::new(Registers { base: 0x1000 });
/// assert_eq!(regs.try_access().map(|r| r.base), Some(0x1000));
/// assert!(regs.try_access_with(|r| r.base + 4) == Some(0x1004));
///
/// // SAFETY: This task holds no guard of `regs`.
/// assert!(unsafe { regs.revoke() });
/// assert!(regs.try_access().is_none());
/// // Revoking twice is harmless.
/// // SAFETY: As above.
/// assert!(!unsafe { regs.revoke() });
/// ```
pub struct Revocable<T> {
    is_available: AtomicBool,
    data: UnsafeCell<ManuallyDrop<T>>,
}

// SAFETY: `Revocable<T>` gives out `&T` to any thread (so `T: Sync`) and may drop `T` on any
// thread (so `T: Send`).
unsafe impl<T: Sync + Send> Sync for Revocable<T> {}

// SAFETY: Moving a `Revocable<T>` moves the `T` it owns.
unsafe impl<T: Send> Send for Revocable<T> {}

impl<T> Revocable<T> {
    /// Creates a new revocable holding `data`.
    pub const fn new(data: T) -> Self {
        // INVARIANT: `data` is initialised and available.
        Self {
            is_available: AtomicBool::new(true),
            data: UnsafeCell::new(ManuallyDrop::new(data)),
        }
    }

    /// Returns a guard that gives access to the value, or `None` if it was revoked.
    ///
    /// The guard is an RCU read-side critical section: the caller must not sleep while holding
    /// it, and should drop it soon, since [`Revocable::revoke`] waits for it.
    pub fn try_access(&self) -> Option<RevocableGuard<'_, T>> {
        // SAFETY: `rcu_read_lock()` may be called from any context; the guard (or the branch
        // below) calls `rcu_read_unlock()`.
        unsafe { bindings::rcu_read_lock() };
        if self.is_available.load(Ordering::Relaxed) {
            // SAFETY: By the type invariant the data is initialised while available, and it is
            // not dropped before the RCU read-side critical section, held by the guard, ends.
            let data = unsafe { &*self.data.get() };
            Some(RevocableGuard {
                data,
                _not_send: PhantomData,
            })
        } else {
            // SAFETY: Matches the `rcu_read_lock()` above.
            unsafe { bindings::rcu_read_unlock() };
            None
        }
    }

    /// Returns the value without an RCU read-side critical section, or `None` if it was revoked.
    ///
    /// # Safety
    ///
    /// The value must not be revoked while the returned reference lives, and a revocation that
    /// happened before must be ordered before this call (e.g. by a lock both sides took).
    pub unsafe fn try_access_unchecked(&self) -> Option<&T> {
        if self.is_available.load(Ordering::Relaxed) {
            // SAFETY: The data is initialised while available (type invariant), and by the
            // safety requirements it is not dropped while the reference lives.
            Some(unsafe { &*self.data.get() })
        } else {
            None
        }
    }

    /// Calls `f` with the value and returns its result, or returns `None` if it was revoked.
    ///
    /// `f` runs in an RCU read-side critical section and must not sleep.
    pub fn try_access_with<R>(&self, f: impl FnOnce(&T) -> R) -> Option<R> {
        self.try_access().map(|guard| f(&guard))
    }

    /// Revokes access to the value and drops it.
    ///
    /// Waits for an RCU grace period, so that accesses in flight end first; must therefore be
    /// called from a context that may sleep. Returns `true` if this call revoked the value and
    /// `false` if it had been revoked already.
    ///
    /// # Safety
    ///
    /// The calling task must not be in an RCU read-side critical section, in particular must not
    /// hold a guard of `self`: without preemptible RCU, the grace period could then end while the
    /// guard still refers to the value.
    pub unsafe fn revoke(&self) -> bool {
        // SAFETY: `might_sleep()` may be called from any context; it only checks and reports.
        unsafe { bindings::might_sleep() };
        if !self.is_available.swap(false, Ordering::Relaxed) {
            return false;
        }
        // SAFETY: `synchronize_rcu()` may be called from any sleepable context; by the safety
        // requirements this task is not in a read-side critical section.
        unsafe { bindings::synchronize_rcu() };
        // SAFETY: The flag was true and this call cleared it, so by the type invariant the data
        // is initialised and no other call drops it; the grace period above ended every
        // critical section that could have seen the flag set, and later ones see it cleared.
        unsafe { ManuallyDrop::drop(&mut *self.data.get()) };
        true
    }

    /// Revokes access to the value and drops it without waiting for readers.
    ///
    /// Returns `true` if this call revoked the value and `false` if it had been revoked already.
    ///
    /// # Safety
    ///
    /// No guard of `self`, nor reference from [`Revocable::try_access_unchecked`], may exist,
    /// on any CPU.
    pub unsafe fn revoke_nosync(&self) -> bool {
        if !self.is_available.swap(false, Ordering::Relaxed) {
            return false;
        }
        // SAFETY: The flag was true and this call cleared it, so by the type invariant the data
        // is initialised and no other call drops it; by the safety requirements nothing refers
        // to it, and later accesses see the flag cleared.
        unsafe { ManuallyDrop::drop(&mut *self.data.get()) };
        true
    }

    /// Returns whether the value has been revoked.
    pub fn is_revoked(&self) -> bool {
        !self.is_available.load(Ordering::Relaxed)
    }
}

impl<T> Drop for Revocable<T> {
    fn drop(&mut self) {
        // Nothing can access the value any more: `self` is borrowed mutably.
        if *self.is_available.get_mut() {
            // SAFETY: By the type invariant the data is initialised while available, and it was
            // not dropped since the flag is still set.
            unsafe { ManuallyDrop::drop(self.data.get_mut()) };
        }
    }
}

/// Access to the value of a [`Revocable`], valid until the guard is dropped.
///
/// Holds an RCU read-side critical section: it is not [`Send`], and the holder must not sleep.
pub struct RevocableGuard<'a, T> {
    data: &'a T,
    // `rcu_read_unlock()` must run on the CPU/task that called `rcu_read_lock()`.
    _not_send: PhantomData<*mut ()>,
}

impl<T> Deref for RevocableGuard<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        self.data
    }
}

impl<T> Drop for RevocableGuard<'_, T> {
    fn drop(&mut self) {
        // SAFETY: The guard was created under `rcu_read_lock()` (see `try_access`).
        unsafe { bindings::rcu_read_unlock() };
    }
}

#[macros::kunit_tests(rust_kernel_revocable)]
mod tests {
    use super::*;
    use crate::prelude::*;
    use crate::sync::Arc;
    use core::sync::atomic::AtomicUsize;

    /// Counts how often it is dropped.
    struct DropCounter(Arc<AtomicUsize>);

    impl Drop for DropCounter {
        fn drop(&mut self) {
            self.0.fetch_add(1, Ordering::Relaxed);
        }
    }

    #[test]
    fn revoke_drops_once() -> Result {
        let drops = Arc::new(AtomicUsize::new(0), GFP_KERNEL)?;
        let r = Revocable::new(DropCounter(drops.clone()));
        assert!(r.try_access().is_some());
        assert!(!r.is_revoked());
        // SAFETY: The test holds no guard.
        assert!(unsafe { r.revoke() });
        assert_eq!(drops.load(Ordering::Relaxed), 1);
        assert!(r.is_revoked());
        // SAFETY: As above.
        assert!(!unsafe { r.revoke() });
        drop(r);
        assert_eq!(drops.load(Ordering::Relaxed), 1);
        Ok(())
    }

    #[test]
    fn drop_without_revoke_drops_value() -> Result {
        let drops = Arc::new(AtomicUsize::new(0), GFP_KERNEL)?;
        drop(Revocable::new(DropCounter(drops.clone())));
        assert_eq!(drops.load(Ordering::Relaxed), 1);
        Ok(())
    }

    #[test]
    fn access_after_revoke_fails() {
        let r = Revocable::new(7u32);
        assert_eq!(r.try_access_with(|v| *v), Some(7));
        // SAFETY: The guard of `try_access_with` is gone.
        unsafe { r.revoke_nosync() };
        assert_eq!(r.try_access_with(|v| *v), None);
    }
}
