// SPDX-License-Identifier: GPL-2.0

//! A driver cannot revoke a `Devres` itself: revoking under its own guard would leave the guard
//! dangling (or deadlock in `synchronize_rcu()`).
//!
//! compile_fail: E0599
//! expect: no method named `revoke` found

use kernel::{devres::Devres, prelude::*};

fn revoke_under_guard(res: &Devres<u32>) -> Result<u32> {
    let guard = res.try_access().ok_or(ENXIO)?;
    res.revoke();
    Ok(*guard)
}
