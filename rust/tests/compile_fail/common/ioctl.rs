// SPDX-License-Identifier: GPL-2.0

// For the `ioctl_*` cases (`//! with: ioctl`, after `with: drm`): a plain ioctl argument `Arg`,
// a handler `Drv::handle` for it, and `make`, which allocates a device (so that the driver's
// ioctl table is checked). The case implements `kernel::drm::Driver` for `Drv` with its own
// `IOCTLS`.

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
