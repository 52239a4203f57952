// SPDX-License-Identifier: GPL-2.0

// A KMS driver for the `kms_*` cases (`//! with: kms`, after `with: drm`): `Drv` as a KMS
// driver, the object types `P` (plane), `C` (CRTC) and `K` (connector), `C`'s callbacks, a
// format list and mode config limits. Paths are spelled out: the case's own `use` lines come
// first in the file.

impl kernel::drm::Driver for Drv {
    type Data = ();
    type File = DrvFile;
    const INFO: kernel::drm::DriverInfo = DRV_INFO;
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
