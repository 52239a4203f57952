// SPDX-License-Identifier: GPL-2.0

//! A `Devres` cannot hold borrowed data: even a leaked `Devres` has its data dropped on unbind,
//! after the borrow may have ended.
//!
//! compile_fail: E0597
//! expect: does not live long enough

use kernel::{
    device::{Bound, Device},
    devres::Devres,
    prelude::*,
};

struct Borrowing<'a>(&'a u32);

fn leak(dev: &Device<Bound>) -> Result {
    let local = 7u32;
    core::mem::forget(Devres::new(dev, Borrowing(&local), GFP_KERNEL)?);
    Ok(())
}
