// SPDX-License-Identifier: GPL-2.0

//! DRM files: the driver's data of each open file of a DRM device.
//!
//! C header: [`include/drm/drm_file.h`](srctree/include/drm/drm_file.h)

use crate::{
    bindings,
    drm::{self, Device, Driver},
    error::{from_result, Result},
    prelude::*,
    types::{ForeignOwnable, Opaque},
};
use core::{ffi::c_int, pin::Pin};

/// The driver's data of an open DRM file: made when the file is opened, dropped when it is
/// closed.
pub trait DriverFile: Send + Sync + Sized + 'static {
    /// The driver.
    type Driver: Driver<File = Self>;

    /// Makes the data of a file opened on `dev`.
    fn open(dev: &Device<Self::Driver>) -> Result<Pin<KBox<Self>>>;
}

/// An open DRM file (`struct drm_file`) with the driver's data `T`.
///
/// # Invariants
///
/// `inner` is an open `drm_file` of a device of `T::Driver`, whose `driver_priv` is a
/// `Pin<KBox<T>>` from [`DriverFile::open`].
#[repr(transparent)]
pub struct File<T: DriverFile> {
    inner: Opaque<bindings::drm_file>,
    _p: drm::Invariant<T>,
}

impl<T: DriverFile> File<T> {
    /// Returns the raw `struct drm_file`.
    pub fn as_raw(&self) -> *mut bindings::drm_file {
        self.inner.get()
    }

    /// Returns the file for a raw `struct drm_file`.
    ///
    /// # Safety
    ///
    /// `ptr` must be a `drm_file` open on a device of `T::Driver` (`open_callback` succeeded
    /// for it), which stays open for `'a`.
    pub(crate) unsafe fn from_raw<'a>(ptr: *const bindings::drm_file) -> &'a Self {
        // SAFETY: By the safety requirements `ptr` is such a file; `File<T>` is a transparent
        // `drm_file`.
        unsafe { &*ptr.cast::<Self>() }
    }

    /// Returns the driver's data of the file.
    pub fn inner(&self) -> Pin<&T> {
        // SAFETY: By the type invariants `driver_priv` is a `Pin<KBox<T>>` that lives until the
        // file is closed, which cannot happen while `self` is borrowed.
        unsafe { <Pin<KBox<T>> as ForeignOwnable>::borrow((*self.as_raw()).driver_priv) }
    }
}

/// `drm_driver.open`: makes the driver's data of a new file.
///
/// # Safety
///
/// Called by the DRM core with a device of `T::Driver` and a file being opened on it.
pub(crate) unsafe extern "C" fn open_callback<T: DriverFile>(
    dev: *mut bindings::drm_device,
    file: *mut bindings::drm_file,
) -> c_int {
    from_result(|| {
        // SAFETY: By the safety requirements `dev` is a live device of `T::Driver`.
        let dev = unsafe { Device::<T::Driver>::from_raw(dev) };
        let data = T::open(dev)?;
        // SAFETY: `file` is being opened: nothing else uses `driver_priv` yet.
        // INVARIANT: `driver_priv` holds the data until `postclose_callback`.
        unsafe { (*file).driver_priv = data.into_foreign().cast_mut() };
        Ok(0)
    })
}

/// `drm_driver.postclose`: drops the driver's data of a file being closed.
///
/// # Safety
///
/// Called by the DRM core once, for a file `open_callback` succeeded for, when nothing uses
/// it any more.
pub(crate) unsafe extern "C" fn postclose_callback<T: DriverFile>(
    _dev: *mut bindings::drm_device,
    file: *mut bindings::drm_file,
) {
    // SAFETY: By the safety requirements `driver_priv` holds what `open_callback` stored, and
    // is taken back once.
    drop(unsafe { <Pin<KBox<T>> as ForeignOwnable>::from_foreign((*file).driver_priv) });
}
