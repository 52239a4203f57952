// SPDX-License-Identifier: GPL-2.0

//! A plane update cannot outlive the commit: the framebuffer it maps is unmapped when the
//! update callback returns, so a kept `PlaneUpdate` would copy from freed mappings.
//!
//! compile_fail: E0521
//! expect: borrowed data escapes outside of associated function
//! with: drm
//! with: kms
//! with: kms_connector

use core::cell::Cell;

use kernel::{
    drm::kms::{Plane, PlaneFuncs, PlaneUpdate},
    prelude::*,
};

pub struct Kept(Cell<Option<&'static PlaneUpdate<'static>>>);
// SAFETY: Not used from several threads; only there to hold the escaping borrow.
unsafe impl Sync for Kept {}
pub static KEPT: Kept = Kept(Cell::new(None));

#[vtable]
impl PlaneFuncs for P {
    type Driver = Drv;

    fn atomic_update(_plane: &Plane<Self>, update: &PlaneUpdate<'_>) {
        KEPT.0.set(Some(update));
    }
}
