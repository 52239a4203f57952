// SPDX-License-Identifier: GPL-2.0

//! The pipeline is built before registration only: `Setup::finish` consumes the `Setup`, so
//! no object can be added afterwards, when user space may already see the device.
//!
//! compile_fail: E0382
//! expect: borrow of moved value: `setup`

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
impl PlaneFuncs for P {
    type Driver = Drv;
}

#[vtable]
impl ConnectorFuncs for K {
    type Driver = Drv;

    fn get_modes(_c: &Connector<Self>, probe: &mut ModeProbe<'_>) -> u32 {
        probe.add_modes_noedid(1024, 768)
    }
}

pub fn build(drm: &drm::Device<Drv>) -> Result {
    let setup = Setup::new(drm, &INFO)?;
    let plane = setup.primary_plane::<P>(&FORMATS)?;
    let _crtc = setup.crtc::<C, _>(plane)?;
    setup.finish()?;
    let _late = setup.primary_plane::<P>(&FORMATS)?;
    Ok(())
}
