// SPDX-License-Identifier: GPL-2.0

//! A slice of a coherent allocation cannot leave the closure it is lent to: the memory is freed
//! on unbind, which the closure's RCU read-side critical section holds off.
//!
//! compile_fail: lifetime
//! expect: lifetime may not live long enough

use kernel::{dma::CoherentAllocation, prelude::*};

fn escape(buf: &CoherentAllocation<u8>) -> Result<&[u8]> {
    // SAFETY: The device is idle in this example; what must fail is the borrow.
    unsafe { buf.with_slice(0, 4, |s| s) }
}
