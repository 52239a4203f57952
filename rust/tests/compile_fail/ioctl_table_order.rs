// SPDX-License-Identifier: GPL-2.0

//! The DRM core looks driver ioctl `nr` up at index `nr` of the table: a table whose entry 0
//! is ioctl 1 does not build.
//!
//! compile_fail: E0080
//! expect: must list ioctls 0, 1, 2
//! with: drm
//! with: ioctl

use kernel::drm::{self, ioctl::Flags};

impl drm::Driver for Drv {
    type Data = ();
    type File = DrvFile;
    const INFO: drm::DriverInfo = DRV_INFO;
    const OWNER: &'static kernel::ThisModule = &THIS_MODULE;
    const IOCTLS: &'static [drm::ioctl::Desc<Self>] = kernel::drm_ioctls!(Drv;
        (CF_ARG, 1, ReadWrite, Arg, Drv::handle, Flags::NONE),
    );
}
