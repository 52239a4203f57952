// SPDX-License-Identifier: GPL-2.0

//! `Devres::new` takes a bound device: a plain `&Device`, which anyone holding an
//! `ARef<Device>` (an open file, a work item) has, is refused, so no managed resource can be
//! added after unbind, to run at device release, possibly after the module is gone.
//!
//! compile_fail: E0308
//! expect: expected `&Device<Bound>`, found `&Device`

use kernel::{device::Device, devres::Devres, prelude::*};

fn add_after_unbind(dev: &Device) -> Result<Devres<u32>> {
    Devres::new(dev, 1, GFP_KERNEL)
}
