// SPDX-License-Identifier: GPL-2.0

//! A plane update cannot outlive the commit: the framebuffer it maps is unmapped when the
//! update callback returns, so a kept `PlaneUpdate` would copy from freed mappings.
//!
//! compile_fail: E0521
//! expect: borrowed data escapes outside of associated function

use core::cell::Cell;
use kernel::{
    c_str,
    drm::{
        self,
        kms::{
            format, Connector, ConnectorFuncs, CrtcFuncs, ModeConfigInfo, ModeProbe, Plane,
            PlaneFuncs, PlaneUpdate, Setup,
        },
    },
    prelude::*,
    ThisModule,
};

pub struct Drv;
pub struct DrvFile;

impl drm::DriverFile for DrvFile {
    type Driver = Drv;

    fn open(_dev: &drm::Device<Drv>) -> Result<Pin<KBox<Self>>> {
        Ok(KBox::pin(DrvFile, GFP_KERNEL)?)
    }
}

impl drm::Driver for Drv {
    type Data = ();
    type File = DrvFile;
    const INFO: drm::DriverInfo = drm::DriverInfo {
        major: 1,
        minor: 0,
        patchlevel: 0,
        name: c_str!("cf"),
        desc: c_str!("compile-fail case"),
        date: c_str!("20261204"),
    };
    const KMS: bool = true;
    const OWNER: &'static ThisModule = &THIS_MODULE;
}

pub struct P;
pub struct C;
pub struct K;

#[vtable]
impl CrtcFuncs for C {
    type Driver = Drv;
}

static FORMATS: [u32; 1] = [format::XRGB8888];

const INFO: ModeConfigInfo = ModeConfigInfo {
    min_width: 64,
    max_width: 4096,
    min_height: 64,
    max_height: 4096,
    preferred_depth: 24,
};

#[vtable]
impl ConnectorFuncs for K {
    type Driver = Drv;

    fn get_modes(_c: &Connector<Self>, probe: &mut ModeProbe<'_>) -> u32 {
        probe.add_modes_noedid(1024, 768)
    }
}

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
