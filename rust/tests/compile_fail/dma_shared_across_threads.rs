// SPDX-License-Identifier: GPL-2.0

//! A `CoherentAllocation` is not `Sync`: an `Arc` of it cannot reach another thread, where two
//! writers would race on an element.
//!
//! compile_fail: E0277
//! expect: cannot be shared between threads safely

use kernel::{dma::CoherentAllocation, prelude::*, sync::Arc, workqueue};

fn race(buf: Arc<CoherentAllocation<u32>>) -> Result {
    let other = buf.clone();
    workqueue::system().try_spawn(GFP_KERNEL, move || {
        let _ = other.write(0, 1);
    })?;
    buf.write(0, 2)
}
