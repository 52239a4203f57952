// SPDX-License-Identifier: GPL-2.0

//! DRM devices: allocation, reference counting, registration and unplugging.
//!
//! C header: [`include/drm/drm_drv.h`](srctree/include/drm/drm_drv.h)

use crate::{
    bindings,
    device::{self, Bound},
    drm::{self, file, Driver},
    error::{from_err_ptr, to_result, Result},
    prelude::*,
    types::{ARef, AlwaysRefCounted, Opaque},
};
use core::{
    ffi::c_void,
    marker::PhantomData,
    mem,
    ptr::{self, NonNull},
    sync::atomic::{AtomicBool, AtomicU8, Ordering},
};

/// A DRM device of driver `T`, with the driver's data.
///
/// Always reference counted ([`ARef<Device<T>>`]): open files and buffers hold references too,
/// so the device, and the driver's data in it, may outlive the binding of its parent. What the
/// driver must not touch after unbind (its hardware) belongs in [`Devres`](crate::devres::Devres)
/// resources, or behind [`Device::enter`].
///
/// # Invariants
///
/// `dev` is a `struct drm_device` allocated by [`Device::new`] inside a `Device<T>` (with
/// `__devm_drm_dev_alloc`, whose driver is `Device::<T>::VTABLE`), and `data` is initialised.
#[repr(C)]
pub struct Device<T: Driver> {
    dev: Opaque<bindings::drm_device>,
    /// Set once `data` is initialised; the release callback drops `data` only then.
    data_init: AtomicBool,
    /// The registration state (`REG_*`): a device is registered once.
    registered: AtomicU8,
    /// Set by the first `drm::kms::fbdev_setup`: the fbdev emulation is set up once.
    #[cfg(CONFIG_RUST_DRM_KMS)]
    fbdev: AtomicBool,
    /// The state of the mode config (`KMS_*`).
    kms: AtomicU8,
    data: T::Data,
    /// `Device<T>` is invariant in `T` (as its `T::Data` makes it anyway).
    _p: drm::Invariant<T>,
}

// SAFETY: The C side synchronises its use of `struct drm_device`; the driver's data is `Send`
// and `Sync`, and dropped on whichever thread puts the last reference.
unsafe impl<T: Driver> Send for Device<T> {}

// SAFETY: As above: `&Device<T>` only gives `&T::Data`, which is `Sync`, and C functions that
// take their own locks.
unsafe impl<T: Driver> Sync for Device<T> {}

/// The mode config's states (`Device::kms`): none yet; being built by `drm::kms::Setup`;
/// built and reset (the device may be registered); an object creation failed (it must not be).
#[cfg_attr(not(CONFIG_RUST_DRM_KMS), allow(dead_code))]
pub(crate) const KMS_NONE: u8 = 0;
#[cfg_attr(not(CONFIG_RUST_DRM_KMS), allow(dead_code))]
pub(crate) const KMS_SETUP: u8 = 1;
pub(crate) const KMS_READY: u8 = 2;
#[cfg_attr(not(CONFIG_RUST_DRM_KMS), allow(dead_code))]
pub(crate) const KMS_FAILED: u8 = 3;

/// Not registered.
const REG_NONE: u8 = 0;
/// `drm_dev_register` is running.
const REG_BUSY: u8 = 1;
/// Registered (it may be unplugged since).
const REG_DONE: u8 = 2;
/// `drm_dev_register` failed: the C side leaves the device half-registered (debugfs, flags), so
/// it is not registered again.
const REG_FAILED: u8 = 3;

impl<T: Driver> Device<T> {
    /// The file operations of the device nodes: the DRM core's, with GEM `mmap`.
    const FOPS: bindings::file_operations = bindings::file_operations {
        owner: T::OWNER.as_ptr(),
        open: Some(bindings::drm_open),
        release: Some(bindings::drm_release),
        unlocked_ioctl: Some(bindings::drm_ioctl),
        #[cfg(CONFIG_COMPAT)]
        compat_ioctl: Some(bindings::drm_compat_ioctl),
        poll: Some(bindings::drm_poll),
        read: Some(bindings::drm_read),
        llseek: Some(bindings::noop_llseek),
        mmap: Some(bindings::drm_gem_mmap),
        fop_flags: bindings::FOP_UNSIGNED_OFFSET,
        // SAFETY: All-zero is a valid `file_operations`: every other operation is absent.
        ..unsafe { mem::zeroed() }
    };

    /// The C driver: GEM with shmem-backed dumb buffers, the driver's file callbacks and the
    /// release of its data.
    const VTABLE: bindings::drm_driver = bindings::drm_driver {
        major: T::INFO.major,
        minor: T::INFO.minor,
        patchlevel: T::INFO.patchlevel,
        // The C side never writes through these (they are `char *` for history's sake).
        name: T::INFO.name.as_char_ptr().cast_mut(),
        desc: T::INFO.desc.as_char_ptr().cast_mut(),
        date: T::INFO.date.as_char_ptr().cast_mut(),
        driver_features: if T::KMS {
            bindings::drm_driver_feature_DRIVER_GEM
                | bindings::drm_driver_feature_DRIVER_MODESET
                | bindings::drm_driver_feature_DRIVER_ATOMIC
        } else {
            bindings::drm_driver_feature_DRIVER_GEM
        },
        open: Some(file::open_callback::<T::File>),
        postclose: Some(file::postclose_callback::<T::File>),
        release: Some(Self::release_callback),
        dumb_create: Some(bindings::drm_gem_shmem_dumb_create),
        gem_prime_import_sg_table: Some(bindings::drm_gem_shmem_prime_import_sg_table),
        fops: &Self::FOPS,
        // `Desc` is a transparent `drm_ioctl_desc`; `IOCTLS_OK` checks the table.
        ioctls: T::IOCTLS.as_ptr().cast(),
        num_ioctls: T::IOCTLS.len() as i32,
        // SAFETY: All-zero is a valid `drm_driver`: the other callbacks absent (the DRM core's
        // defaults).
        ..unsafe { mem::zeroed() }
    };

    /// `kzalloc` aligns the container to at least this.
    const ALIGN_OK: () = assert!(
        mem::align_of::<Self>() <= bindings::ARCH_KMALLOC_MINALIGN,
        "the driver's data needs more alignment than kmalloc gives"
    );

    /// The driver's ioctl table is in order and not too long.
    const IOCTLS_OK: () = drm::ioctl::check_table(T::IOCTLS);

    /// Allocates a device for the bound device `parent`, with the driver's data from `data`.
    ///
    /// The device is not registered yet (see [`Registration::new_foreign_owned`]). The
    /// allocation belongs to `parent`'s binding: unbinding drops the reference it holds, so a
    /// device that was never registered goes away then, once the returned reference is dropped
    /// as well.
    pub fn new(
        parent: &device::Device<Bound>,
        data: impl PinInit<T::Data, Error>,
    ) -> Result<ARef<Self>> {
        #[allow(clippy::let_unit_value)]
        let () = Self::ALIGN_OK;
        #[allow(clippy::let_unit_value)]
        let () = Self::IOCTLS_OK;
        // SAFETY: `parent` is bound, as `__devm_drm_dev_alloc` needs (it adds a managed action
        // that puts the initial reference when `parent` is unbound). The size and offset
        // describe `Self`, whose `dev` the C side initialises; the rest is zeroed. The vtable
        // is a constant, valid for as long as the module.
        let raw = unsafe {
            bindings::__devm_drm_dev_alloc(
                parent.as_raw(),
                &Self::VTABLE,
                mem::size_of::<Self>(),
                mem::offset_of!(Self, dev),
            )
        };
        let this = from_err_ptr(raw)?.cast::<Self>();
        // SAFETY: `this` points to the zeroed container, whose `data` nothing reads before
        // `data_init` is set. The container is never moved: it is pinned.
        unsafe { data.__pinned_init(ptr::addr_of_mut!((*this).data))? };
        // SAFETY: `this` is valid; `data` is initialised from now on.
        unsafe { (*this).data_init.store(true, Ordering::Release) };
        // SAFETY: Every field of `*this` is initialised now (the type invariants hold).
        let dev = unsafe { &*this };
        // The initial reference belongs to the managed action: take one of our own.
        Ok(dev.into())
    }

    /// Returns the raw `struct drm_device`.
    pub fn as_raw(&self) -> *mut bindings::drm_device {
        self.dev.get()
    }

    /// Returns the device for a raw `struct drm_device` of this driver.
    ///
    /// # Safety
    ///
    /// `ptr` must be the `drm_device` of a live `Device<T>` (one of this driver's devices, in a
    /// callback the DRM core makes with it), valid for `'a`.
    pub(crate) unsafe fn from_raw<'a>(ptr: *const bindings::drm_device) -> &'a Self {
        // SAFETY: By the safety requirements `ptr` is the `dev` field of a live `Device<T>`
        // (`Opaque` is transparent).
        unsafe { &*crate::container_of!(ptr.cast::<Opaque<bindings::drm_device>>(), Self, dev) }
    }

    /// Returns the driver's data.
    pub fn data(&self) -> &T::Data {
        &self.data
    }

    /// Returns the parent device (the one the driver bound to).
    pub fn parent(&self) -> &device::Device {
        // SAFETY: `dev` is a live drm device, whose `dev` is its parent, held by a reference
        // for as long as the drm device lives.
        unsafe { device::Device::as_ref((*self.as_raw()).dev) }
    }

    /// Whether the device was registered with user space (it may be unplugged since).
    pub fn is_registered(&self) -> bool {
        self.registered.load(Ordering::Acquire) == REG_DONE
    }

    /// Claims the one fbdev emulation of the device; `false` if it was claimed before.
    #[cfg(CONFIG_RUST_DRM_KMS)]
    pub(crate) fn claim_fbdev(&self) -> bool {
        !self.fbdev.swap(true, Ordering::AcqRel)
    }

    /// Moves the mode config from state `from` to `to`; `EBUSY` if it is not in `from`.
    #[cfg(CONFIG_RUST_DRM_KMS)]
    pub(crate) fn kms_transition(&self, from: u8, to: u8) -> Result {
        self.kms
            .compare_exchange(from, to, Ordering::AcqRel, Ordering::Acquire)
            .map(|_| ())
            .map_err(|now| if now == KMS_FAILED { EINVAL } else { EBUSY })
    }

    /// Marks the mode config as failed: the device can no longer be registered.
    #[cfg(CONFIG_RUST_DRM_KMS)]
    pub(crate) fn kms_fail(&self) {
        self.kms.store(KMS_FAILED, Ordering::Release);
    }

    /// Runs `f` in a section in which the device is known not to be unplugged
    /// (`drm_dev_enter`/`drm_dev_exit`), and returns what it returns; `None`, without running
    /// it, once the device was unplugged (its parent unbound). Unplugging waits for every
    /// section to end, so hardware reached in `f` is still there. `f` may sleep; a section
    /// cannot be left open (there is no guard to forget or send to another thread).
    pub fn enter<R>(&self, f: impl FnOnce() -> R) -> Option<R> {
        // SAFETY: `dev` is a live drm device.
        unsafe { with_device(self.as_raw(), f) }
    }

    /// Drops the driver's data, once the last reference is gone (the DRM core then frees the
    /// container).
    ///
    /// # Safety
    ///
    /// Called by the DRM core with a device of this driver, whose last reference was put.
    unsafe extern "C" fn release_callback(dev: *mut bindings::drm_device) {
        let raw = dev.cast::<Opaque<bindings::drm_device>>();
        // SAFETY: By the safety requirements, `dev` (`raw`) is the `dev` field of a `Device<T>`
        // made by `new`, which nothing else uses any more.
        let this = unsafe { crate::container_of!(raw, Self, dev) }.cast_mut();
        // SAFETY: `this` is valid; `data` was initialised if `data_init` is set, and is dropped
        // here only, once.
        unsafe {
            if (*this).data_init.load(Ordering::Acquire) {
                ptr::drop_in_place(ptr::addr_of_mut!((*this).data));
            }
        }
    }
}

// SAFETY: `drm_dev_get`/`drm_dev_put` manage the reference count; the last put releases the
// device (`release_callback`, then the container is freed).
unsafe impl<T: Driver> AlwaysRefCounted for Device<T> {
    fn inc_ref(&self) {
        // SAFETY: `self` is a live drm device.
        unsafe { bindings::drm_dev_get(self.as_raw()) };
    }

    unsafe fn dec_ref(obj: NonNull<Self>) {
        // SAFETY: The caller gives up a reference it owns to a live device.
        unsafe { bindings::drm_dev_put(obj.as_ref().as_raw()) };
    }
}

/// The registration of a DRM device with user space, tied to the binding of its parent.
pub struct Registration<T: Driver>(PhantomData<T>);

impl<T: Driver> Registration<T> {
    /// Registers `drm` (`drm_dev_register`): its device nodes appear and user space may open
    /// them. It stays registered until `parent`, the bound device it was allocated for, is
    /// unbound: then it is unplugged (`drm_dev_unplug`), and the ioctls of files still open
    /// fail with `ENODEV` without reaching the driver.
    ///
    /// Fails with `EINVAL` if `parent` is not `drm`'s parent, and with `EBUSY` if `drm` was
    /// registered before (also if that registration failed).
    pub fn new_foreign_owned(drm: &Device<T>, parent: &device::Device<Bound>) -> Result {
        // SAFETY: `drm` is a live drm device; its `dev` does not change.
        if unsafe { (*drm.as_raw()).dev } != parent.as_raw() {
            return Err(EINVAL);
        }
        if T::KMS && drm.kms.load(Ordering::Acquire) != KMS_READY {
            // A KMS device is registered with a complete mode config only.
            return Err(EINVAL);
        }
        if drm
            .registered
            .compare_exchange(REG_NONE, REG_BUSY, Ordering::AcqRel, Ordering::Acquire)
            .is_err()
        {
            return Err(EBUSY);
        }
        // SAFETY: `drm` is a live, set-up device that was not registered; a KMS device's mode
        // config is complete (checked above), and `Setup` cannot change it any more.
        if let Err(e) = to_result(unsafe { bindings::drm_dev_register(drm.as_raw(), 0) }) {
            drm.registered.store(REG_FAILED, Ordering::Release);
            return Err(e);
        }
        drm.registered.store(REG_DONE, Ordering::Release);
        let action_ref = ARef::into_raw(ARef::<Device<T>>::from(drm));
        // SAFETY: `parent` is bound; the action gets back the reference leaked above, once.
        let ret = unsafe {
            bindings::__devm_add_action(
                parent.as_raw(),
                Some(Self::unplug_action),
                action_ref.as_ptr().cast::<c_void>(),
                c"rust:drm::Registration".as_ptr().cast(),
            )
        };
        if ret != 0 {
            // SAFETY: The action was not registered: the reference is still ours.
            unsafe { Self::unplug_action(action_ref.as_ptr().cast()) };
            return Err(Error::from_errno(ret));
        }
        Ok(())
    }

    /// Unplugs the device and drops the reference the action held.
    ///
    /// # Safety
    ///
    /// `ptr` must be a reference to a registered `Device<T>` leaked by `new_foreign_owned`,
    /// given back once.
    unsafe extern "C" fn unplug_action(ptr: *mut c_void) {
        // SAFETY: By the safety requirements we own this reference.
        let drm = unsafe { ARef::from_raw(NonNull::new_unchecked(ptr.cast::<Device<T>>())) };
        // SAFETY: `drm` is registered. Unplugging unregisters it and waits for every section
        // in `drm_dev_enter`.
        unsafe { bindings::drm_dev_unplug(drm.as_raw()) };
        #[cfg(CONFIG_RUST_DRM_KMS)]
        if T::KMS {
            // SAFETY: The mode config of a registered KMS device was built and reset by
            // `Setup::finish`. The commit that turns the outputs off releases the framebuffers
            // the state holds; its hardware callbacks are skipped (the device is unplugged), so
            // the display itself is left as it was.
            unsafe { bindings::drm_atomic_helper_shutdown(drm.as_raw()) };
        }
    }
}

#[cfg(CONFIG_PCI)]
impl<T: Driver> Device<T> {
    /// Removes the firmware framebuffers (efifb, vesafb, simpledrm and the like) that scan out
    /// of `pdev`'s memory, and the VGA console if `pdev` is the boot VGA device, so that the
    /// driver can take the display over. A PCI display driver calls it in probe, before it
    /// maps its BARs, as C drivers do (`drm_aperture_remove_conflicting_pci_framebuffers`).
    ///
    /// Fails with `EINVAL` for a device that is not a display controller (PCI base class
    /// 0x03): only a display's driver takes the display over.
    pub fn remove_firmware_framebuffers(pdev: &crate::pci::Device<device::Core>) -> Result {
        if pdev.class() >> 16 != bindings::PCI_BASE_CLASS_DISPLAY {
            return Err(EINVAL);
        }
        // SAFETY: `pdev` is a live PCI device, being probed; the driver table is a constant,
        // whose name the call reads.
        to_result(unsafe {
            bindings::drm_aperture_remove_conflicting_pci_framebuffers(pdev.as_raw(), &Self::VTABLE)
        })
    }
}

impl<T: Driver> drm::Device<T> {
    /// Whether the device was unplugged (its parent unbound).
    pub fn is_unplugged(&self) -> bool {
        self.enter(|| ()).is_none()
    }
}

/// Runs `f` inside `drm_dev_enter` of `dev`, or not at all once it was unplugged.
///
/// # Safety
///
/// `dev` must be a live DRM device.
pub(crate) unsafe fn with_device<R>(
    dev: *mut bindings::drm_device,
    f: impl FnOnce() -> R,
) -> Option<R> {
    let mut idx = 0;
    // SAFETY: By the safety requirements `dev` is a live device.
    if !unsafe { bindings::drm_dev_enter(dev, &mut idx) } {
        return None;
    }
    let r = f();
    // SAFETY: `idx` is from the `drm_dev_enter` above.
    unsafe { bindings::drm_dev_exit(idx) };
    Some(r)
}
