// SPDX-License-Identifier: GPL-2.0

//! Revoking a `Revocable` is `unsafe`: a task holding a guard would wait for itself, or, without
//! preemptible RCU, let the value be dropped under the guard.
//!
//! compile_fail: E0133
//! expect: call to unsafe function

use kernel::{prelude::*, revocable::Revocable};

fn revoke_under_guard(r: &Revocable<u32>) -> Result<u32> {
    let guard = r.try_access().ok_or(ENXIO)?;
    r.revoke();
    Ok(*guard)
}
