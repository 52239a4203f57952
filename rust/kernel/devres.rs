// SPDX-License-Identifier: GPL-2.0

//! Device resources that are released when the device is unbound from its driver.
//!
//! A [`Devres<T>`] ties a resource (an I/O mapping, an interrupt, ...) to the binding of a device
//! to its driver: when the driver is unbound (its `remove` callback ran, or its probe failed),
//! the device's managed resources are released, and with them the `T`, which is dropped and can
//! no longer be accessed. A driver that kept a `Devres<T>` somewhere (in a work item, in an open
//! file) gets `None` from [`Devres::try_access`] instead of touching hardware that is gone.
//!
//! Code that holds the bound device (a bus callback, which gets a `&Device<Bound>` or
//! `&Device<Core>`) uses [`Devres::access`] instead: while the device is bound the resource
//! cannot go away, so no RCU read-side critical section is needed and the caller may sleep.
//!
//! Only the device's unbinding and the `Devres`'s own drop release the resource; drivers cannot
//! revoke it themselves. Both may race (the last user of a `Devres` drops it while the device is
//! being unbound): whichever comes second waits until the first has released the resource, so
//! unbinding goes on to the next managed resource (e.g. freeing interrupt vectors) only after
//! this one is gone.
//!
//! C header: [`include/linux/device.h`](srctree/include/linux/device.h)

use crate::{
    alloc::Flags,
    bindings,
    device::{Bound, Device},
    error::{code::*, to_result, Result},
    prelude::*,
    revocable::{Revocable, RevocableGuard},
    sync::{Arc, Completion},
    types::ARef,
};
use core::{
    ffi::c_void,
    sync::atomic::{AtomicBool, AtomicPtr, Ordering},
};

/// What a [`Devres`] and its devres action share.
#[pin_data]
struct Inner<T> {
    data: Revocable<T>,
    /// Set by the first of the two sides (the action, the drop) to release the data.
    claimed: AtomicBool,
    /// The task releasing the data, once `claimed` is set.
    revoker: AtomicPtr<bindings::task_struct>,
    /// Completed once `data` has been revoked and dropped, by whichever side did it.
    #[pin]
    revoked: Completion,
}

impl<T> Inner<T> {
    /// Revokes and drops the data, or, if another task is doing that, waits until it is done.
    ///
    /// On return, the data is dropped, unless this task is the one dropping it (the data owns,
    /// through a cycle, the `Devres` being dropped): then it returns at once, and the data is
    /// dropped when the outer release returns. `readers` says whether RCU readers of the data
    /// may exist (the action's side), whose grace period must then end before the data goes.
    fn revoke(&self, readers: bool) {
        // SAFETY: `get_current()` and `in_task()` may be called from any context.
        let (current, in_task) = unsafe { (bindings::get_current(), bindings::in_task()) };
        if !self.claimed.swap(true, Ordering::AcqRel) {
            self.revoker.store(current, Ordering::Release);
            // Only the claimer revokes, so this revokes (and drops) the data.
            if readers {
                // SAFETY: The action runs in the unbinding task, outside any RCU read-side
                // critical section.
                unsafe { self.data.revoke() };
            } else {
                // SAFETY: Without readers (see the callers), nothing refers to the data.
                unsafe { self.data.revoke_nosync() };
            }
            self.revoked.complete_all();
        } else if !in_task || self.revoker.load(Ordering::Acquire) != current {
            // In interrupt context, `current` is whichever task was interrupted: that it is the
            // revoker proves nothing, so wait (and let a debug kernel report the sleep).
            self.revoked.wait_for_completion();
        }
    }
}

/// A resource of a bound device, released (dropped) when the device is unbound.
///
/// The resource is also released when the `Devres` itself is dropped. Unbinding waits for an
/// RCU grace period (for readers that used [`Devres::try_access`]), and each side waits for the
/// other, so both must happen in a context that may sleep. Two `Devres` of different devices
/// whose data own each other (through `Arc`s) deadlock if both devices are unbound at once,
/// each release waiting for the other: do not build such cycles.
///
/// Managed actions of a bound device run when it is unbound (or released); [`Devres::access`]
/// relies on that, so devres groups released while the device stays bound
/// (`devres_release_group()`) must not contain a `Devres`'s action. `flags` only applies to the
/// `Devres`'s own allocation: the driver core allocates its action with `GFP_KERNEL`.
///
/// # Invariants
///
/// `dev` is the device `inner` was registered on. Until it runs or is removed, a devres action
/// (`devres_callback::<T>`) is registered on `dev` with a reference to `inner`, which it
/// releases; the action is not removed before `inner.data` has been revoked.
///
/// # Examples
///
/// ```no_run
/// use kernel::{device::{Bound, Device}, devres::Devres};
///
/// fn probe(dev: &Device<Bound>) -> Result<Devres<u32>> {
///     // In a real driver, e.g. a mapped BAR.
///     let res = Devres::new(dev, 42u32, GFP_KERNEL)?;
///     // The device is bound here, so the resource is accessible without RCU.
///     assert_eq!(*res.access(dev)?, 42);
///     // Elsewhere (a work item, an open file), only as long as the device is bound.
///     assert_eq!(res.try_access_with(|v| *v), Some(42));
///     Ok(res)
/// }
/// ```
pub struct Devres<T> {
    dev: ARef<Device>,
    inner: Arc<Inner<T>>,
}

impl<T: Send + Sync + 'static> Devres<T> {
    /// Ties `data` to the current binding of `dev` to its driver.
    ///
    /// The data is dropped when that binding ends, or when the returned `Devres` is dropped,
    /// whichever comes first. On failure `data` is dropped at once. `T` borrows nothing: even a
    /// leaked `Devres` has its data dropped on unbind, which may be after any borrow ended.
    pub fn new(dev: &Device<Bound>, data: T, flags: Flags) -> Result<Self> {
        let inner = Arc::pin_init(
            pin_init!(Inner {
                data: Revocable::new(data),
                claimed: AtomicBool::new(false),
                revoker: AtomicPtr::new(core::ptr::null_mut()),
                revoked <- Completion::new(),
            }),
            flags,
        )?;
        let action_ref = Arc::into_raw(inner.clone());

        // SAFETY: `dev` is a valid, bound device. `devres_callback::<T>` matches the action
        // signature and gets back the reference leaked with `into_raw` above; the name is a
        // static string.
        let ret = unsafe {
            bindings::__devm_add_action(
                dev.as_raw(),
                Some(devres_callback::<T>),
                action_ref.cast_mut().cast::<c_void>(),
                c"rust:Devres".as_ptr().cast(),
            )
        };
        if let Err(e) = to_result(ret) {
            // SAFETY: The action was not registered, so the reference is still ours.
            drop(unsafe { Arc::from_raw(action_ref) });
            return Err(e);
        }
        // INVARIANT: The action is registered on `dev` with a reference to `inner`.
        Ok(Self {
            dev: dev.into(),
            inner,
        })
    }
}

impl<T> Devres<T> {
    /// Returns the resource, given proof that its device is bound.
    ///
    /// While `dev` (a `&Device<Bound>`, only handed to bus callbacks) lives, the device cannot
    /// be unbound, so the resource cannot be released: no RCU read-side critical section is
    /// needed, and the caller may sleep. Fails with `EINVAL` if `dev` is not the device the
    /// resource belongs to, and with `ENXIO` if the resource belongs to an earlier binding of it
    /// (and was released when that ended).
    pub fn access<'a>(&'a self, dev: &'a Device<Bound>) -> Result<&'a T> {
        if !self.dev.is_same(dev) {
            return Err(EINVAL);
        }
        // SAFETY: `dev` is bound for `'a`, so the devres action, which alone may revoke the data
        // while `self` lives (`drop` needs `self`, borrowed for `'a`), does not run during `'a`.
        // If the data belongs to an earlier binding of the device, its action ran, completely,
        // when that binding ended, before the current one began.
        unsafe { self.inner.data.try_access_unchecked() }.ok_or(ENXIO)
    }

    /// Returns a guard that gives access to the resource, or `None` once it was released.
    ///
    /// The guard holds an RCU read-side critical section: the holder must not sleep (in a debug
    /// kernel, `CONFIG_DEBUG_ATOMIC_SLEEP` and `CONFIG_PROVE_RCU` report a sleep under it), and
    /// unbinding waits for it to be dropped.
    pub fn try_access(&self) -> Option<RevocableGuard<'_, T>> {
        self.inner.data.try_access()
    }

    /// Calls `f` with the resource and returns its result, or `None` once it was released.
    ///
    /// `f` runs in an RCU read-side critical section and must not sleep.
    pub fn try_access_with<R>(&self, f: impl FnOnce(&T) -> R) -> Option<R> {
        self.inner.data.try_access_with(f)
    }

    /// Returns the device the resource belongs to.
    pub fn device(&self) -> &Device {
        &self.dev
    }
}

/// Runs when the device is unbound (or released): releases the resource, or waits until a
/// concurrent drop of the [`Devres`] has, and drops the reference the action held.
///
/// # Safety
///
/// `ptr` must come from `Arc::<Inner<T>>::into_raw` in [`Devres::new`], and this must be the only
/// call with it.
unsafe extern "C" fn devres_callback<T>(ptr: *mut c_void) {
    // SAFETY: By the safety requirements, `ptr` is a leaked `Arc<Inner<T>>` reference that is
    // given back exactly once.
    let inner = unsafe { Arc::from_raw(ptr.cast::<Inner<T>>()) };
    // Guards taken through the `Devres` may be live on other CPUs.
    inner.revoke(true);
}

impl<T> Drop for Devres<T> {
    fn drop(&mut self) {
        // Releasing waits for RCU readers and for a racing unbind: say so to a debug kernel
        // even when this drop does not happen to wait.
        // SAFETY: `might_sleep()` may be called from any context; it only checks and reports.
        unsafe { bindings::might_sleep() };
        // Release the resource first, and only then remove the action: if unbinding starts in
        // between, its action finds the resource being released and waits until it is gone,
        // before unbinding moves on to the resources registered before this one. No reader can
        // exist: guards and `access` borrow `self`, and the action does not read the data.
        self.inner.revoke(false);

        let action_ref = core::ptr::from_ref::<Inner<T>>(&self.inner);
        // SAFETY: `self.dev` is a valid device; the action and data identify the action that
        // `new` registered, if it has not run yet.
        let ret = unsafe {
            bindings::devm_remove_action_nowarn(
                self.dev.as_raw(),
                Some(devres_callback::<T>),
                action_ref.cast_mut().cast::<c_void>(),
            )
        };
        if ret == 0 {
            // SAFETY: The action was removed before it ran, so the reference it held is ours
            // to release.
            drop(unsafe { Arc::from_raw(action_ref) });
        }
        // Otherwise the action has been taken off the device's list by unbinding: it runs (or
        // ran) and releases its own reference.
    }
}

#[macros::kunit_tests(rust_kernel_devres)]
mod tests {
    use super::*;
    use crate::{sync::Completion, workqueue};
    use core::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

    struct DropCounter(Arc<AtomicUsize>);

    impl Drop for DropCounter {
        fn drop(&mut self) {
            self.0.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// A root device (`/sys/devices/NAME`), unregistered on drop; its managed resources are
    /// released when it is.
    struct RootDevice(*mut bindings::device);

    impl RootDevice {
        fn new(name: &'static CStr) -> Result<Self> {
            // SAFETY: `name` is a valid C string that outlives the device.
            let ptr = unsafe {
                bindings::__root_device_register(name.as_char_ptr(), core::ptr::null_mut())
            };
            Ok(Self(crate::error::from_err_ptr(ptr)?))
        }

        fn bound(&self) -> &Device<Bound> {
            // SAFETY: The device is registered until `self` is dropped, and its managed
            // resources are released only then (by `device_del()`): for devres, that is what
            // being bound means. The test owns the device and no driver binds to it.
            unsafe { Device::from_raw(self.0) }
        }

        /// Counts the managed resources on the device's list.
        fn devres_count(&self) -> usize {
            let dev = self.bound();
            let mut n = 0;
            // SAFETY: The device is valid; the test is its only user, so nothing changes the
            // list while it is walked.
            unsafe {
                let head = core::ptr::addr_of_mut!((*dev.as_raw()).devres_head);
                let mut pos = (*head).next;
                while pos != head {
                    n += 1;
                    pos = (*pos).next;
                }
            }
            n
        }
    }

    impl Drop for RootDevice {
        fn drop(&mut self) {
            // SAFETY: The device was registered by `new` and is unregistered once.
            unsafe { bindings::root_device_unregister(self.0) };
        }
    }

    #[test]
    fn released_when_device_goes_away() -> Result {
        let drops = Arc::new(AtomicUsize::new(0), GFP_KERNEL)?;
        let dev = RootDevice::new(crate::c_str!("rust_devres_test_a"))?;
        let res = Devres::new(dev.bound(), DropCounter(drops.clone()), GFP_KERNEL)?;
        assert!(res.try_access().is_some());
        assert!(res.access(dev.bound()).is_ok());
        drop(dev);
        assert!(res.try_access().is_none());
        assert_eq!(drops.load(Ordering::Relaxed), 1);
        drop(res);
        assert_eq!(drops.load(Ordering::Relaxed), 1);
        Ok(())
    }

    #[test]
    fn dropped_before_device_goes_away() -> Result {
        let drops = Arc::new(AtomicUsize::new(0), GFP_KERNEL)?;
        let dev = RootDevice::new(crate::c_str!("rust_devres_test_b"))?;
        let res = Devres::new(dev.bound(), DropCounter(drops.clone()), GFP_KERNEL)?;
        drop(res);
        assert_eq!(drops.load(Ordering::Relaxed), 1);
        drop(dev);
        assert_eq!(drops.load(Ordering::Relaxed), 1);
        Ok(())
    }

    #[test]
    fn access_checks_the_device() -> Result {
        let a = RootDevice::new(crate::c_str!("rust_devres_test_c"))?;
        let b = RootDevice::new(crate::c_str!("rust_devres_test_d"))?;
        let res = Devres::new(a.bound(), 7u32, GFP_KERNEL)?;
        assert_eq!(res.access(a.bound()).copied(), Ok(7));
        assert_eq!(res.access(b.bound()).err(), Some(EINVAL));
        Ok(())
    }

    /// A dropped `Devres` takes its action off the device: creating and dropping many of them
    /// does not grow the device's list of managed resources.
    #[test]
    fn drop_removes_the_action() -> Result {
        let dev = RootDevice::new(crate::c_str!("rust_devres_test_e"))?;
        let before = dev.devres_count();
        for i in 0..1000u32 {
            drop(Devres::new(dev.bound(), i, GFP_KERNEL)?);
        }
        assert_eq!(dev.devres_count(), before);
        let kept = Devres::new(dev.bound(), 0u32, GFP_KERNEL)?;
        assert_eq!(dev.devres_count(), before + 1);
        drop(kept);
        assert_eq!(dev.devres_count(), before);
        Ok(())
    }

    /// A resource that owns, through a cycle, the `Devres` it is in.
    struct Cycle {
        _me: Arc<crate::sync::Mutex<Option<Devres<Cycle>>>>,
        dropped: Arc<AtomicBool>,
    }

    impl Drop for Cycle {
        fn drop(&mut self) {
            self.dropped.store(true, Ordering::Release);
        }
    }

    /// A `Devres` whose data owns the `Devres` itself is released on unbind, without waiting
    /// for its own release to finish.
    #[test]
    fn self_owning_devres_is_released() -> Result {
        let dropped = Arc::new(AtomicBool::new(false), GFP_KERNEL)?;
        let dev = RootDevice::new(crate::c_str!("rust_devres_test_g"))?;
        {
            let slot = Arc::pin_init(crate::new_mutex!(None), GFP_KERNEL)?;
            let data = Cycle {
                _me: slot.clone(),
                dropped: dropped.clone(),
            };
            *slot.lock() = Some(Devres::new(dev.bound(), data, GFP_KERNEL)?);
        }
        // Unbinding drops `Cycle`, which drops the last reference to the `Devres` being
        // released.
        drop(dev);
        assert!(dropped.load(Ordering::Acquire));
        Ok(())
    }

    /// Sets `started`, sleeps, then sets `done`: a resource whose release takes a while.
    struct SlowDrop {
        started: Arc<Completion>,
        done: Arc<AtomicBool>,
    }

    impl Drop for SlowDrop {
        fn drop(&mut self) {
            self.started.complete_all();
            // SAFETY: Dropped in a work item or in unbinding, both of which may sleep.
            unsafe { bindings::msleep(100) };
            self.done.store(true, Ordering::Release);
        }
    }

    /// Unbinding that races a drop of the `Devres` waits until the resource is released, so
    /// that nothing registered before it (e.g. interrupt vectors) goes first.
    #[test]
    fn unbind_waits_for_a_racing_drop() -> Result {
        let started = Arc::pin_init(Completion::new(), GFP_KERNEL)?;
        let done = Arc::new(AtomicBool::new(false), GFP_KERNEL)?;
        let dev = RootDevice::new(crate::c_str!("rust_devres_test_f"))?;
        let res = Devres::new(
            dev.bound(),
            SlowDrop {
                started: started.clone(),
                done: done.clone(),
            },
            GFP_KERNEL,
        )?;
        workqueue::system().try_spawn(GFP_KERNEL, move || drop(res))?;
        started.wait_for_completion();
        // The drop is releasing the resource: unregistering must not return before it is done.
        drop(dev);
        assert!(done.load(Ordering::Acquire));
        Ok(())
    }
}
