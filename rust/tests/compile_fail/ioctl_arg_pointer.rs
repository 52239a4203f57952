// SPDX-License-Identifier: GPL-2.0

//! Every bit pattern from user space must be a valid argument: a field that is a reference,
//! listed as the `u64` it has the size of (which `&u64` would deref-coerce to), is caught.
//!
//! compile_fail: E0308
//! expect: mismatched types

#[repr(C)]
pub struct WithRef {
    pub value: &'static u64,
}

kernel::drm_ioctl_arg! {
    pub struct Arg(WithRef) { value: u64 }
}
