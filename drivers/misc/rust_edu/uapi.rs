// SPDX-License-Identifier: GPL-2.0

//! The user interface, as in `include/uapi/misc/rust_edu.h`.

use kernel::{
    ioctl::{_IOR, _IOWR},
    types::{AsBytes, FromBytes},
};

/// `struct rust_edu_factorial` of the user interface.
#[repr(C)]
#[derive(Clone, Copy, Default)]
pub(crate) struct Factorial {
    /// Input.
    pub(crate) n: u32,
    /// Output: `n!` modulo 2^32.
    pub(crate) result: u32,
}

// SAFETY: Two `u32`s: no padding, and every bit pattern is valid.
unsafe impl AsBytes for Factorial {}
// SAFETY: As above.
unsafe impl FromBytes for Factorial {}

/// `struct rust_edu_info` of the user interface.
#[repr(C)]
#[derive(Clone, Copy, Default)]
pub(crate) struct Info {
    /// The identification register.
    pub(crate) id: u32,
    /// Interrupts handled since the device was bound.
    pub(crate) irqs: u32,
    /// Size of the buffer `read()` and `write()` reach.
    pub(crate) buf_size: u32,
    /// Width of the DMA mask in bits.
    pub(crate) dma_bits: u32,
}

// SAFETY: Four `u32`s: no padding, and every bit pattern is valid.
unsafe impl AsBytes for Info {}

/// The ioctl code of the driver (`RUST_EDU_IOC_MAGIC`).
pub(crate) const IOC_MAGIC: u32 = 0xED;
/// `RUST_EDU_IOC_FACTORIAL`: computes a factorial.
pub(crate) const IOC_FACTORIAL: u32 = _IOWR::<Factorial>(IOC_MAGIC, 0x01);
/// `RUST_EDU_IOC_INFO`: reads [`Info`].
pub(crate) const IOC_INFO: u32 = _IOR::<Info>(IOC_MAGIC, 0x02);
