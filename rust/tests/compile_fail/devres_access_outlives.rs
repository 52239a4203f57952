// SPDX-License-Identifier: GPL-2.0

//! What `Devres::access` returns cannot outlive the `Devres`: dropping it releases the
//! resource.
//!
//! compile_fail: E0505
//! expect: cannot move out of `res` because it is borrowed

use kernel::{
    device::{Bound, Device},
    devres::Devres,
    prelude::*,
};

fn keep_past_drop(dev: &Device<Bound>) -> Result<u32> {
    let res = Devres::new(dev, 1u32, GFP_KERNEL)?;
    let value = res.access(dev)?;
    drop(res);
    Ok(*value)
}
