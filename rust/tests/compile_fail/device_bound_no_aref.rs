// SPDX-License-Identifier: GPL-2.0

//! A bound device cannot be reference-counted: only `ARef<Device>` (the `Normal` state) exists,
//! so nothing can prove boundness after the binding ended.
//!
//! compile_fail: E0277
//! expect: AlwaysRefCounted

use kernel::{
    device::{Bound, Device},
    types::ARef,
};

fn keep(dev: &Device<Bound>) -> ARef<Device<Bound>> {
    dev.into()
}
