// SPDX-License-Identifier: GPL-2.0

//! The DMA segments of a block request cannot outlive the driver's reference to it: ending the
//! request unmaps them and gives the memory back to the block layer.
//!
//! compile_fail: E0505
//! expect: cannot move out of `rq` because it is borrowed

use kernel::{
    block::mq::{Operations, Request},
    device::Device,
    prelude::*,
    types::ARef,
};

pub fn submit<T: Operations>(rq: ARef<Request<T>>, dev: &Device) -> Result {
    let segments = rq.dma_map(dev)?;
    let _ = Request::end_ok(rq);
    for (_addr, _len) in segments {}
    Ok(())
}
