// SPDX-License-Identifier: GPL-2.0

//! Rust driver for NVMe controllers on PCI (tested with QEMU's `-device nvme`).
//!
//! Each controller becomes `rnvmeN`, and each of its active namespaces a disk `rnvmeNnM`, so
//! that it coexists with the C driver's `nvmeNnM` in one boot.
//!
//! - Probe resets the controller, sets up the admin queue (polled: admin commands are rare)
//!   and enables it, identifies it and its namespaces, asks for one I/O queue pair per CPU
//!   (Set Features), creates them, each with an MSI-X vector whose affinity follows the CPUs
//!   blk-mq maps to the queue, and adds the disks. If the controller offers Doorbell Buffer
//!   Config (emulated controllers do), the I/O queues get shadow doorbells in memory, and the
//!   MMIO doorbells, each a trap to the hypervisor, are rung only when the controller's event
//!   indexes ask for it, as the C driver does.
//! - I/O: read, write (with FUA), flush, write zeroes and discard (dataset management), the data
//!   mapped for DMA by the blk-mq abstraction and described by PRP entries and a per-request
//!   PRP list. Completions are found by phase bit in each queue's interrupt, looked up by tag
//!   (the command identifier carries the tag and a generation count, so a stale or bogus
//!   identifier from the device is recognised) and completed through blk-mq.
//! - A request that times out resets the controller: submissions stop, the controller is
//!   disabled (it drops every command and stops all DMA), every pending request fails with
//!   `EIO`, and the controller is enabled again with its I/O queues recreated. If that fails,
//!   the controller stays disabled and every request fails with `EIO` until it is bound again.
//! - Unbind deletes the disks (which waits for their requests), shuts the controller down
//!   normally (`CC.SHN`) and disables it; the queues, interrupts and DMA memory go with the
//!   driver data.
//! - The disks take the NVMe ioctls `NVME_IOCTL_ID` and `NVME_IOCTL_ADMIN_CMD` (and its 64-bit
//!   form) for nvme-cli: identify, log pages and features, copied through the admin buffer;
//!   see [`ioctl`].
//!
//! The crate: [`nvme`] (the specification), [`queue`] (queue pairs), [`ctrl`] (the controller
//! and admin commands), [`blk`] (the blk-mq side), [`ioctl`] (the NVMe ioctls) and [`driver`]
//! (probe and unbind).

mod blk;
mod ctrl;
mod driver;
mod ioctl;
mod nvme;
mod queue;

kernel::module_pci_driver! {
    type: driver::RnvmeDriver,
    name: "rnvme",
    author: "linux-rust-lts",
    description: "Rust driver for NVMe controllers",
    license: "GPL",
}
