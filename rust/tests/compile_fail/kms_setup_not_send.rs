// SPDX-License-Identifier: GPL-2.0

//! `Setup` is not `Send`: the pipeline is built in the probe that made it, not from a work
//! item that could run after the device was registered.
//!
//! compile_fail: E0277
//! expect: cannot be sent between threads safely
//! with: drm
//! with: kms
//! with: kms_plane
//! with: kms_connector

use kernel::{
    drm::{self, kms::Setup},
    prelude::*,
};

fn needs_send<T: Send>(_t: T) {}

pub fn build(drm: &drm::Device<Drv>) -> Result {
    let setup = Setup::new(drm, &INFO)?;
    needs_send(setup);
    Ok(())
}
