// SPDX-License-Identifier: GPL-2.0

//! The registers of the edu device and the facts the driver builds on.

/// The register block the driver uses, at the start of BAR 0.
pub(crate) const REGS_SIZE: usize = 0x100;
/// The part of the device's 4 KiB DMA buffer that transfers may reach.
///
/// QEMU's edu before 8.0 checks the end of a transfer with `end < 0x41000` instead of `<=`, and
/// stops the whole virtual machine when the check fails, so no transfer may reach the last
/// byte: it is left out, and `RUST_EDU_IOC_INFO` reports the size.
pub(crate) const BUF_SIZE: usize = 4095;
/// The address of the DMA buffer on the device side of a transfer.
pub(crate) const DEV_BUF_ADDR: u64 = 0x40000;
/// The device's DMA engine drops address bits above this.
pub(crate) const DMA_BITS: u32 = 28;
/// How long an operation may take until the device is declared broken.
pub(crate) const TIMEOUT_MS: u32 = 1000;
/// The largest factorial input: the device loops `n` times, and n! mod 2^32 is 0 from 34 on.
pub(crate) const FACTORIAL_MAX: u32 = 0xffff;

// Register offsets in BAR 0.

/// Identification: `0xRRrr00ed` for version RR.rr.
pub(crate) const ID: usize = 0x00;
/// Liveness check: reads back the inverse of what was written.
pub(crate) const LIVENESS: usize = 0x04;
/// Factorial: write `n`, read `n!` when done.
pub(crate) const FACTORIAL: usize = 0x08;
/// Status (`STATUS_*`).
pub(crate) const STATUS: usize = 0x20;
/// Interrupt status: what raised the pending interrupts (`IRQ_*`).
pub(crate) const IRQ_STATUS: usize = 0x24;
/// Interrupt acknowledge: clears the written status bits.
pub(crate) const IRQ_ACK: usize = 0x64;
/// DMA source address (64-bit).
pub(crate) const DMA_SRC: usize = 0x80;
/// DMA destination address (64-bit).
pub(crate) const DMA_DST: usize = 0x88;
/// DMA transfer size in bytes.
pub(crate) const DMA_COUNT: usize = 0x90;
/// DMA command (`DMA_*`).
pub(crate) const DMA_CMD: usize = 0x98;

/// `STATUS`: a factorial is being computed.
pub(crate) const STATUS_COMPUTING: u32 = 0x01;
/// `STATUS`: raise an interrupt when a factorial is done.
pub(crate) const STATUS_IRQ_FACTORIAL: u32 = 0x80;
/// Interrupt status of a finished factorial.
pub(crate) const IRQ_FACTORIAL: u32 = 0x001;
/// Interrupt status of a finished DMA transfer.
pub(crate) const IRQ_DMA: u32 = 0x100;
/// `DMA_CMD`: start (reads 1 while the transfer runs).
pub(crate) const DMA_START: u64 = 0x1;
/// `DMA_CMD`: from the device buffer to RAM.
pub(crate) const DMA_TO_RAM: u64 = 0x2;
/// `DMA_CMD`: raise an interrupt when done.
pub(crate) const DMA_IRQ: u64 = 0x4;
