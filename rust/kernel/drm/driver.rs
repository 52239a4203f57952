// SPDX-License-Identifier: GPL-2.0

//! DRM drivers: the [`Driver`] trait.
//!
//! C header: [`include/drm/drm_drv.h`](srctree/include/drm/drm_drv.h)

use crate::{drm, str::CStr, ThisModule};

/// What `DRM_IOCTL_VERSION` reports of a driver.
pub struct DriverInfo {
    /// Major version.
    pub major: i32,
    /// Minor version.
    pub minor: i32,
    /// Patch level.
    pub patchlevel: i32,
    /// The driver's name (user space matches drivers by it).
    pub name: &'static CStr,
    /// A one-line description.
    pub desc: &'static CStr,
    /// A date (`YYYYMMDD`); the DRM core of 6.12 still stores it, and reports "0".
    pub date: &'static CStr,
}

/// A DRM driver: the types of its device and file data, and what it tells user space.
///
/// Every Rust DRM driver has GEM memory management with shmem-backed buffer objects (dumb
/// buffers: `DRM_IOCTL_MODE_CREATE_DUMB`, `MAP_DUMB`, `DESTROY_DUMB`, and `mmap` of the DRM
/// file).
///
/// # Examples
///
/// ```
/// use kernel::{c_str, drm, prelude::*, ThisModule};
///
/// struct MyDriver;
///
/// /// Per open file.
/// struct MyFile;
///
/// impl drm::DriverFile for MyFile {
///     type Driver = MyDriver;
///
///     fn open(_dev: &drm::Device<MyDriver>) -> Result<Pin<KBox<Self>>> {
///         Ok(KBox::pin(MyFile, GFP_KERNEL)?)
///     }
/// }
///
/// impl drm::Driver for MyDriver {
///     type Data = u32;
///     type File = MyFile;
///     const INFO: drm::DriverInfo = drm::DriverInfo {
///         major: 1,
///         minor: 0,
///         patchlevel: 0,
///         name: c_str!("my-drm"),
///         desc: c_str!("an example"),
///         date: c_str!("20261204"),
///     };
///     const OWNER: &'static ThisModule = {
///         // SAFETY: Doctests are built into the kernel image, whose `THIS_MODULE` is NULL.
///         &unsafe { ThisModule::from_ptr(core::ptr::null_mut()) }
///     };
/// }
/// ```
pub trait Driver: Sized + Send + Sync + 'static {
    /// The driver's data of a device, reached with [`drm::Device::data`]; dropped when the
    /// device's last reference is gone, which may be after the parent was unbound.
    type Data: Send + Sync;

    /// The driver's data of an open file.
    type File: drm::DriverFile<Driver = Self>;

    /// Name, description and version.
    const INFO: DriverInfo;

    /// Whether the driver does kernel mode setting (`DRIVER_MODESET | DRIVER_ATOMIC`): its
    /// devices are registered only once `drm::kms::Setup::finish` built their display pipeline
    /// (with `CONFIG_RUST_DRM_KMS`).
    const KMS: bool = false;

    /// The module whose code implements the driver, kept loaded while a file is open. A
    /// loadable module sets it to `&THIS_MODULE`, which [`module!`](macros::module) defines.
    const OWNER: &'static ThisModule;

    /// The driver's own ioctls, after the DRM core's: ioctl `i` of the table is
    /// `DRM_COMMAND_BASE + i`. Build it with [`drm_ioctls!`](crate::drm_ioctls); entry `i` must
    /// be ioctl `i` (checked at compile time). None by default.
    const IOCTLS: &'static [drm::ioctl::Desc<Self>] = &[];
}
