// SPDX-License-Identifier: GPL-2.0

//! Making an `IrqRequest` for an arbitrary number is `unsafe`.
//!
//! compile_fail: E0133
//! expect: call to unsafe function

use kernel::{
    device::{Bound, Device},
    irq::IrqRequest,
};

fn forge(dev: &Device<Bound>) -> IrqRequest<'_> {
    IrqRequest::new(dev, 17)
}
