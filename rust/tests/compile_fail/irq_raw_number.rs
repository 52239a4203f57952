// SPDX-License-Identifier: GPL-2.0

//! An interrupt cannot be requested by number, only through an `IrqRequest` that a bus hands
//! out for a bound device.
//!
//! compile_fail: E0308
//! expect: expected `IrqRequest<'_>`, found integer

use kernel::{c_str, irq, prelude::*};

struct Handler;

impl irq::Handler for Handler {
    fn handle(&self) -> irq::IrqReturn {
        irq::IrqReturn::Handled
    }
}

fn request_any() -> Result<Pin<KBox<irq::Registration<Handler>>>> {
    KBox::pin_init(
        irq::Registration::new(17, irq::Flags::SHARED, c_str!("any"), Handler),
        GFP_KERNEL,
    )
}
