// SPDX-License-Identifier: GPL-2.0

//! A handler gets the device and file of its own driver: the table of one driver cannot list
//! entries made for another, whose handlers would take its device for theirs.
//!
//! compile_fail: E0308
//! expect: mismatched types
//! with: drm
//! with: ioctl

use kernel::drm::{self, ioctl::Flags};

impl drm::Driver for Drv {
    type Data = ();
    type File = DrvFile;
    const INFO: drm::DriverInfo = DRV_INFO;
    const OWNER: &'static kernel::ThisModule = &THIS_MODULE;
}

pub struct Other;

impl Other {
    const IOCTLS: &'static [drm::ioctl::Desc<Drv>] = kernel::drm_ioctls!(Drv;
        (CF_ARG, 0, ReadWrite, Arg, Drv::handle, Flags::NONE),
    );
}

pub struct OtherFile;

impl drm::DriverFile for OtherFile {
    type Driver = Other;

    fn open(_dev: &drm::Device<Other>) -> kernel::error::Result<core::pin::Pin<KBox<Self>>> {
        Ok(KBox::pin(OtherFile, GFP_KERNEL)?)
    }
}

impl drm::Driver for Other {
    type Data = ();
    type File = OtherFile;
    const INFO: drm::DriverInfo = DRV_INFO;
    const OWNER: &'static kernel::ThisModule = &THIS_MODULE;
    const IOCTLS: &'static [drm::ioctl::Desc<Self>] = Other::IOCTLS;
}

use kernel::prelude::*;
