// SPDX-License-Identifier: GPL-2.0

// A KMS driver for the `kms_*` cases (`//! with: kms`): the driver `Drv`, its file, the object
// types `P` (plane), `C` (CRTC) and `K` (connector), `C`'s callbacks, a format list and mode
// config limits. Paths are spelled out: the case's own `use` lines come first in the file.

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

impl kernel::drm::Driver for Drv {
    type Data = ();
    type File = DrvFile;
    const INFO: kernel::drm::DriverInfo = kernel::drm::DriverInfo {
        major: 1,
        minor: 0,
        patchlevel: 0,
        name: kernel::c_str!("cf"),
        desc: kernel::c_str!("compile-fail case"),
        date: kernel::c_str!("20261204"),
    };
    const KMS: bool = true;
    const OWNER: &'static kernel::ThisModule = &THIS_MODULE;
}

pub struct P;
pub struct C;
pub struct K;

#[kernel::prelude::vtable]
impl kernel::drm::kms::CrtcFuncs for C {
    type Driver = Drv;
}

static FORMATS: [u32; 1] = [kernel::drm::kms::format::XRGB8888];

const INFO: kernel::drm::kms::ModeConfigInfo = kernel::drm::kms::ModeConfigInfo {
    min_width: 64,
    max_width: 4096,
    min_height: 64,
    max_height: 4096,
    preferred_depth: 24,
};
