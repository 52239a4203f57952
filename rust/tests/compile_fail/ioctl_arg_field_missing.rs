// SPDX-License-Identifier: GPL-2.0

//! The field list must be the whole struct: one that leaves a field out (a `bool`, which not
//! every byte is a value of) does not build. (The sizes do not add up either; the exhaustive
//! pattern is what this case checks.)
//!
//! compile_fail: pattern
//! expect: pattern requires `..`

#[repr(C)]
pub struct WithBool {
    pub value: u32,
    pub on: bool,
    pub pad: [u8; 3],
}

kernel::drm_ioctl_arg! {
    pub struct Arg(WithBool) { value: u32, pad: [u8; 3] }
}
