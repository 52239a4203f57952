// SPDX-License-Identifier: GPL-2.0

// A DRM driver's parts for the `ioctl_*` cases (`//! with: ioctl`): the driver type `Drv`, its
// file `DrvFile`, its `INFO`, a plain ioctl argument `Arg` and a handler `Drv::handle` for it,
// and `make`, which allocates a device (so that the driver's ioctl table is checked). The case
// implements `kernel::drm::Driver` for `Drv` with its own `IOCTLS`. Paths are spelled out: the
// case's own `use` lines come first in the file.

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

#[repr(C)]
pub struct RawArg {
    pub flags: u32,
    pub value: u32,
}

kernel::drm_ioctl_arg! {
    pub struct Arg(RawArg) { flags: u32, value: u32 }
}

impl Drv {
    pub fn handle(
        _dev: &kernel::drm::Device<Drv>,
        arg: &mut Arg,
        _file: &kernel::drm::File<DrvFile>,
    ) -> kernel::error::Result {
        arg.value = arg.flags;
        Ok(())
    }
}

pub fn make(
    parent: &kernel::device::Device<kernel::device::Bound>,
) -> kernel::error::Result<kernel::types::ARef<kernel::drm::Device<Drv>>> {
    kernel::drm::Device::<Drv>::new(parent, ())
}
