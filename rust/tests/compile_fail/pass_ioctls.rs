// SPDX-License-Identifier: GPL-2.0

//! A driver with an ioctl table of two entries, one of them a uapi struct made an argument with
//! `drm_ioctl_arg!`, in order: builds (the positive control of the `ioctl_*` cases).
//!
//! compile_pass
//! with: drm
//! with: ioctl

use kernel::drm::{self, ioctl::Flags};

kernel::drm_ioctl_arg! {
    /// A uapi struct.
    pub struct Rect(kernel::uapi::drm_mode_rect) { x1: i32, y1: i32, x2: i32, y2: i32 }
}

fn rect(_: &drm::Device<Drv>, r: &mut Rect, _: &drm::File<DrvFile>) -> kernel::error::Result {
    r.x2 = r.x1;
    Ok(())
}

impl drm::Driver for Drv {
    type Data = ();
    type File = DrvFile;
    const INFO: drm::DriverInfo = DRV_INFO;
    const OWNER: &'static kernel::ThisModule = &THIS_MODULE;
    const IOCTLS: &'static [drm::ioctl::Desc<Self>] = kernel::drm_ioctls!(Drv;
        (CF_ARG, 0, ReadWrite, Arg, Drv::handle, Flags::NONE),
        (CF_RECT, 1, Read, Rect, rect, Flags::MASTER),
    );
}
