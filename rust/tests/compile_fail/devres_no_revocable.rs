// SPDX-License-Identifier: GPL-2.0

//! A `Devres` does not dereference to the `Revocable` inside it, whose `revoke` is public.
//!
//! compile_fail: E0308
//! expect: expected `&Revocable<u32>`, found `&Devres<u32>`

use kernel::{devres::Devres, revocable::Revocable};

fn inner(res: &Devres<u32>) -> &Revocable<u32> {
    res
}
