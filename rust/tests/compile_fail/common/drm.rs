// SPDX-License-Identifier: GPL-2.0

// A DRM driver's parts for the `kms_*` and `ioctl_*` cases (`//! with: drm`, before the
// `with:` lines that build on it): the driver type `Drv`, its file `DrvFile` and its `INFO`;
// the case or the next common file implements `kernel::drm::Driver` for `Drv`. Paths are
// spelled out: the case's own `use` lines come first in the file.

pub struct Drv;
pub struct DrvFile;

impl kernel::drm::DriverFile for DrvFile {
    type Driver = Drv;

    fn open(
        _dev: &kernel::drm::Device<Drv>,
    ) -> kernel::error::Result<core::pin::Pin<kernel::alloc::KBox<Self>>> {
        Ok(kernel::alloc::KBox::pin(
            DrvFile,
            kernel::alloc::flags::GFP_KERNEL,
        )?)
    }
}

pub const DRV_INFO: kernel::drm::DriverInfo = kernel::drm::DriverInfo {
    major: 1,
    minor: 0,
    patchlevel: 0,
    name: kernel::c_str!("cf"),
    desc: kernel::c_str!("compile-fail case"),
    date: kernel::c_str!("20261204"),
};
