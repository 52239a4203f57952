// SPDX-License-Identifier: GPL-2.0

//! A primary plane belongs to one CRTC: `Setup::crtc` takes the `PrimaryPlane`, so giving it
//! to a second CRTC (which the DRM core rejects with a WARN at registration) does not compile.
//!
//! compile_fail: E0382
//! expect: use of moved value: `plane`
//! with: drm
//! with: kms
//! with: kms_plane
//! with: kms_connector

use kernel::{
    drm::{self, kms::Setup},
    prelude::*,
};

pub fn build(drm: &drm::Device<Drv>) -> Result {
    let setup = Setup::new(drm, &INFO)?;
    let plane = setup.primary_plane::<P>(&FORMATS)?;
    let _first = setup.crtc::<C, _>(plane)?;
    let _second = setup.crtc::<C, _>(plane)?;
    setup.finish()
}
