// SPDX-License-Identifier: GPL-2.0

//! Device resources that are revoked when the device is unbound from its driver.
//!
//! A [`Devres<T>`] ties a resource (an I/O mapping, an interrupt registration, ...) to the
//! binding of a device to its driver: when the driver is unbound (its `remove` callback ran, or
//! its probe failed), the device's managed resources are released, and with them the `T`, which
//! is dropped and can no longer be accessed. A driver that kept a `Devres<T>` somewhere (in a
//! work item, in an open file) gets `None` from [`Revocable::try_access`] instead of touching
//! hardware that is gone.
//!
//! C header: [`include/linux/device.h`](srctree/include/linux/device.h)

use crate::{
    alloc::Flags,
    bindings,
    device::Device,
    error::{to_result, Result},
    revocable::Revocable,
    sync::Arc,
};
use core::{ffi::c_void, ops::Deref};

/// A resource of a bound device, revoked (and dropped) when the device is unbound.
///
/// The resource is also revoked when the `Devres` itself is dropped. Both revoking and dropping
/// wait for an RCU grace period, so they must happen in a context that may sleep.
///
/// # Invariants
///
/// A devres action (`devres_callback::<T>`) is registered on the device with a reference to the
/// same `Arc`, released when the action runs; until then the allocation stays alive.
///
/// # Examples
///
/// ```no_run
/// use kernel::{device::Device, devres::Devres};
///
/// fn probe(dev: &Device) -> Result<Devres<u32>> {
///     // In a real driver, e.g. a mapped BAR.
///     let res = Devres::new(dev, 42u32, GFP_KERNEL)?;
///     assert_eq!(res.try_access_with(|v| *v), Some(42));
///     Ok(res)
/// }
/// ```
pub struct Devres<T>(Arc<Revocable<T>>);

impl<T: Send + Sync> Devres<T> {
    /// Ties `data` to the current binding of `dev` to its driver.
    ///
    /// `dev` must be bound to a driver, or be in the middle of being probed: the data is revoked
    /// when that binding ends (or when the device is released).
    pub fn new(dev: &Device, data: T, flags: Flags) -> Result<Self> {
        let inner = Arc::new(Revocable::new(data), flags)?;
        let action_ref = Arc::into_raw(inner.clone());

        // SAFETY: `dev` is a valid device. `devres_callback::<T>` matches the action signature
        // and gets back the reference leaked with `into_raw` above; the name is a static string.
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
        // INVARIANT: The action is registered with a reference to `inner`.
        Ok(Self(inner))
    }
}

/// Runs when the device is unbound (or released): revokes the resource and drops the reference
/// the action held.
///
/// # Safety
///
/// `ptr` must come from `Arc::<Revocable<T>>::into_raw` in [`Devres::new`], and this must be
/// the only call with it.
unsafe extern "C" fn devres_callback<T>(ptr: *mut c_void) {
    // SAFETY: By the safety requirements, `ptr` is a leaked `Arc<Revocable<T>>` reference that
    // is given back exactly once.
    let inner = unsafe { Arc::from_raw(ptr.cast::<Revocable<T>>()) };
    inner.revoke();
}

impl<T> Deref for Devres<T> {
    type Target = Revocable<T>;

    fn deref(&self) -> &Revocable<T> {
        &self.0
    }
}

impl<T> Drop for Devres<T> {
    fn drop(&mut self) {
        // Release the resource now; the devres action still holds a reference to the (then
        // empty) `Revocable` and frees it when the device is unbound.
        self.0.revoke();
    }
}

#[macros::kunit_tests(rust_kernel_devres)]
mod tests {
    use super::*;
    use crate::prelude::*;
    use core::sync::atomic::{AtomicUsize, Ordering};

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

        fn device(&self) -> &Device {
            // SAFETY: The device is registered until `self` is dropped.
            unsafe { Device::as_ref(self.0) }
        }
    }

    impl Drop for RootDevice {
        fn drop(&mut self) {
            // SAFETY: The device was registered by `new` and is unregistered once.
            unsafe { bindings::root_device_unregister(self.0) };
        }
    }

    struct DropCounter(Arc<AtomicUsize>);

    impl Drop for DropCounter {
        fn drop(&mut self) {
            self.0.fetch_add(1, Ordering::Relaxed);
        }
    }

    #[test]
    fn revoked_when_device_goes_away() -> Result {
        let drops = Arc::new(AtomicUsize::new(0), GFP_KERNEL)?;
        let dev = RootDevice::new(crate::c_str!("rust_devres_test_a"))?;
        let res = Devres::new(dev.device(), DropCounter(drops.clone()), GFP_KERNEL)?;
        assert!(res.try_access().is_some());
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
        let res = Devres::new(dev.device(), DropCounter(drops.clone()), GFP_KERNEL)?;
        drop(res);
        assert_eq!(drops.load(Ordering::Relaxed), 1);
        drop(dev);
        assert_eq!(drops.load(Ordering::Relaxed), 1);
        Ok(())
    }
}
