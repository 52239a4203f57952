// SPDX-License-Identifier: GPL-2.0

//! The proof of `drm_ioctl_arg!` does not go through `::core`, which a driver crate can rebind
//! at its root (`extern crate self as core`) to a `core` whose `size_of` is 0, so that a struct
//! with padding would pass as plain.
//!
//! compile_fail: E0080
//! expect: the struct has padding

extern crate core as real_core;
extern crate self as core;

pub use real_core::*;

pub mod mem {
    pub use real_core::mem::*;

    pub const fn size_of<T>() -> usize {
        0
    }
}

#[repr(C)]
pub struct Holey {
    pub flags: u32,
    pub value: u64,
}

kernel::drm_ioctl_arg! {
    pub struct Arg(Holey) { flags: u32, value: u64 }
}
