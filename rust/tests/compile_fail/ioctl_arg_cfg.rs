// SPDX-License-Identifier: GPL-2.0

//! `drm_ioctl_arg!` takes doc comments only: a `cfg` that left its struct out would let the
//! `FromBytes`/`AsBytes` impls land on another type of that name (here one holding a pointer,
//! which user space would then choose).
//!
//! compile_fail: macro
//! expect: no rules expected

pub struct Evil(kernel::alloc::KBox<kernel::uapi::drm_mode_rect>);

kernel::drm_ioctl_arg! {
    #[cfg(any())]
    pub struct Evil(kernel::uapi::drm_mode_rect) { x1: i32, y1: i32, x2: i32, y2: i32 }
}
