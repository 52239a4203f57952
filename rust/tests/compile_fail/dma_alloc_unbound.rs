// SPDX-License-Identifier: GPL-2.0

//! DMA memory can only be allocated for a bound device.
//!
//! compile_fail: E0308
//! expect: expected `&Device<Bound>`, found `&Device`

use kernel::{device::Device, dma::CoherentAllocation, prelude::*};

fn alloc(dev: &Device) -> Result<CoherentAllocation<u8>> {
    CoherentAllocation::alloc_coherent(dev, 16, GFP_KERNEL)
}
