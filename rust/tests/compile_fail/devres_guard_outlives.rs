// SPDX-License-Identifier: GPL-2.0

//! A `try_access` guard cannot outlive its `Devres` either.
//!
//! compile_fail: E0505
//! expect: cannot move out of `res` because it is borrowed

use kernel::{devres::Devres, prelude::*};

fn keep_guard(res: Devres<u32>) -> Result<u32> {
    let guard = res.try_access().ok_or(ENXIO)?;
    drop(res);
    Ok(*guard)
}
