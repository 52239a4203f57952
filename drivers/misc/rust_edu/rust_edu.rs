// SPDX-License-Identifier: GPL-2.0

//! Rust driver for QEMU's educational PCI device (`-device edu`, 1234:11e8).
//!
//! Each bound device becomes a misc device `/dev/rust-eduN`, whose interface is in
//! `include/uapi/misc/rust_edu.h`:
//!
//! - the `RUST_EDU_IOC_FACTORIAL` ioctl computes a factorial with the device's factorial unit;
//! - `read()` and `write()` move data between user memory and the device's 4 KiB buffer (less
//!   its last byte, see [`regs::BUF_SIZE`]) with the device's DMA engine, through a coherent bounce
//!   buffer, at the file position;
//! - `lseek()` moves within the buffer, and `RUST_EDU_IOC_INFO` reports the identification
//!   register and the number of interrupts handled.
//!
//! Factorials and DMA transfers complete by interrupt (MSI if available, else INTx). The hard
//! interrupt handler acknowledges the device and records the status; its thread wakes the
//! waiting operation. Operations are serialised per device, since the device has one factorial
//! unit and one DMA engine.
//!
//! Open files hold the device state, so they may outlive the binding: after unbind, every
//! operation on them fails with `ENODEV`. The registers and the interrupt are `Devres` and are
//! revoked on unbind, and unbind waits for a running operation, so no operation touches the
//! device or its DMA buffer afterwards.
//!
//! The crate: [`regs`] (the device), [`uapi`] (the user interface), [`edu`] (a bound device and
//! its operations), [`file`] (the misc device) and [`driver`] (probe and unbind).

mod driver;
mod edu;
mod file;
mod regs;
mod uapi;

kernel::module_pci_driver! {
    type: driver::EduDriver,
    name: "rust_edu",
    author: "linux-rust-lts",
    description: "Rust driver for QEMU's edu PCI device",
    license: "GPL",
}
