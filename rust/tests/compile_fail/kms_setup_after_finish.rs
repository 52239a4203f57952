// SPDX-License-Identifier: GPL-2.0

//! The pipeline is built before registration only: `Setup::finish` consumes the `Setup`, so
//! no object can be added afterwards, when user space may already see the device.
//!
//! compile_fail: E0382
//! expect: borrow of moved value: `setup`
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
    let _crtc = setup.crtc::<C, _>(plane)?;
    setup.finish()?;
    let _late = setup.primary_plane::<P>(&FORMATS)?;
    Ok(())
}
