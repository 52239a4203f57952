// SPDX-License-Identifier: GPL-2.0

//! A `ModeProbe` exists only while the DRM core holds the mode config's mutex (in
//! `get_modes`): kept, it would change the connector's modes and EDID without that lock.
//!
//! compile_fail: E0521
//! expect: borrowed data escapes outside of associated function
//! with: drm
//! with: kms
//! with: kms_plane

use core::cell::Cell;

use kernel::{
    drm::kms::{Connector, ConnectorFuncs, ModeProbe},
    prelude::*,
};

pub struct Kept(Cell<Option<&'static mut ModeProbe<'static>>>);
// SAFETY: Not used from several threads; only there to hold the escaping borrow.
unsafe impl Sync for Kept {}
pub static KEPT: Kept = Kept(Cell::new(None));

#[vtable]
impl ConnectorFuncs for K {
    type Driver = Drv;

    fn get_modes(_c: &Connector<Self>, probe: &mut ModeProbe<'_>) -> u32 {
        KEPT.0.set(Some(probe));
        0
    }
}
