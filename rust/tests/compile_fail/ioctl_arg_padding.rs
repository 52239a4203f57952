// SPDX-License-Identifier: GPL-2.0

//! An ioctl argument is copied back to user space whole: a struct with padding (a `u32` before
//! a `u64`), whose padding bytes may hold stale kernel data, is not one.
//!
//! compile_fail: E0080
//! expect: the struct has padding

#[repr(C)]
pub struct Holey {
    pub flags: u32,
    pub value: u64,
}

kernel::drm_ioctl_arg! {
    pub struct Arg(Holey) { flags: u32, value: u64 }
}
