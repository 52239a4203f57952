// SPDX-License-Identifier: GPL-2.0

//! DRM: devices of the Direct Rendering Manager, their drivers and open files.
//!
//! A DRM driver is a bus driver (PCI, platform, ...) whose probe allocates a [`Device`] with the
//! driver's data, sets it up and registers it with [`Registration::new_foreign_owned`]: from
//! then on user space opens `/dev/dri/card*` and calls its ioctls, and the device stays
//! registered for as long as its parent is bound. Unbinding unplugs it (`drm_dev_unplug`): open
//! files stay open, but every ioctl fails with `ENODEV` and none reaches the driver. The
//! device's memory lives until its last reference (an open file, a buffer) is gone; the driver's
//! data is dropped then.
//!
//! Buffers are GEM objects backed by shmem (`drm_gem_shmem`): dumb buffers are created, mapped
//! and destroyed by the C helpers, so a driver that only scans them out needs no GEM code of its
//! own.
//!
//! C headers: [`include/drm/drm_drv.h`](srctree/include/drm/drm_drv.h),
//! [`include/drm/drm_file.h`](srctree/include/drm/drm_file.h),
//! [`include/drm/drm_gem_shmem_helper.h`](srctree/include/drm/drm_gem_shmem_helper.h)

pub mod device;
pub mod driver;
pub mod file;
pub mod ioctl;
#[cfg(CONFIG_RUST_DRM_KMS)]
pub mod kms;

pub use self::device::{Device, Registration};

/// A marker that makes a type invariant in `T`. The DRM types that stand for an object of a
/// driver or object type `T` (a file, a table entry, a plane, a CRTC, a connector) must be:
/// were they covariant, `&Thing<A>` would coerce to `&Thing<B>` whenever `A` is a subtype of
/// `B` (`L<for<'a> fn(&'a ())>` and `L<fn(&'static ())>`, which may implement the driver
/// traits differently), and `B`'s code would run on `A`'s objects.
pub(crate) type Invariant<T> = core::marker::PhantomData<fn(T) -> T>;
pub use self::driver::{Driver, DriverInfo};
pub use self::file::{DriverFile, File};
