// SPDX-License-Identifier: GPL-2.0

//! A field must be plain: a `bool` listed as such (user space may pass 2) does not build.
//!
//! compile_fail: E0277
//! expect: FromBytes

#[repr(C)]
pub struct WithBool {
    pub value: u32,
    pub on: bool,
    pub pad: [u8; 3],
}

kernel::drm_ioctl_arg! {
    pub struct Arg(WithBool) { value: u32, on: bool, pad: [u8; 3] }
}
