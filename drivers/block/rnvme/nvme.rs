// SPDX-License-Identifier: GPL-2.0

//! The parts of the NVMe specification (1.4, base) the driver uses: controller registers,
//! submission and completion queue entries, and the commands.
//!
//! Reference: `include/linux/nvme.h` of the base kernel.

/// The memory page size the driver programs (`CC.MPS` = 0): the unit of PRP entries.
pub(crate) const PAGE: usize = 4096;

/// The controller registers the driver maps: the properties (0x1000 bytes) and, after them, the
/// doorbells.
pub(crate) mod reg {
    /// Controller capabilities (64-bit).
    pub(crate) const CAP: usize = 0x00;
    /// Version.
    pub(crate) const VS: usize = 0x08;
    /// Controller configuration.
    pub(crate) const CC: usize = 0x14;
    /// Controller status.
    pub(crate) const CSTS: usize = 0x1c;
    /// Admin queue attributes.
    pub(crate) const AQA: usize = 0x24;
    /// Admin submission queue base address (64-bit).
    pub(crate) const ASQ: usize = 0x28;
    /// Admin completion queue base address (64-bit).
    pub(crate) const ACQ: usize = 0x30;
    /// The first doorbell.
    pub(crate) const DOORBELLS: usize = 0x1000;
    /// The size the driver maps: the properties and the doorbells of 64 queue pairs plus the
    /// admin queue at the smallest stride, which every controller has.
    pub(crate) const SIZE: usize = 0x2000;
}

/// `CAP` fields.
pub(crate) mod cap {
    /// Maximum queue entries supported, 0's based.
    pub(crate) fn mqes(cap: u64) -> u32 {
        (cap & 0xffff) as u32
    }
    /// Worst-case time to become ready, in 500 ms units.
    pub(crate) fn timeout_ms(cap: u64) -> u32 {
        (((cap >> 24) & 0xff) as u32).max(1) * 500
    }
    /// Doorbell stride: 4 << DSTRD bytes.
    pub(crate) fn dstrd(cap: u64) -> u32 {
        ((cap >> 32) & 0xf) as u32
    }
    /// Whether the NVM command set is supported.
    pub(crate) fn css_nvm(cap: u64) -> bool {
        (cap >> 37) & 1 != 0
    }
    /// Memory page size minimum: 4 KiB << MPSMIN.
    pub(crate) fn mpsmin(cap: u64) -> u32 {
        ((cap >> 48) & 0xf) as u32
    }
}

/// `CC` fields.
pub(crate) mod cc {
    /// Enable.
    pub(crate) const EN: u32 = 1 << 0;
    /// Shutdown notification: normal.
    pub(crate) const SHN_NORMAL: u32 = 1 << 14;
    /// Shutdown notification mask.
    pub(crate) const SHN_MASK: u32 = 3 << 14;
    /// I/O submission queue entry size: 2^6 = 64 bytes.
    pub(crate) const IOSQES: u32 = 6 << 16;
    /// I/O completion queue entry size: 2^4 = 16 bytes.
    pub(crate) const IOCQES: u32 = 4 << 20;
}

/// `CSTS` fields.
pub(crate) mod csts {
    /// Ready.
    pub(crate) const RDY: u32 = 1 << 0;
    /// Controller fatal status.
    pub(crate) const CFS: u32 = 1 << 1;
    /// Shutdown status mask.
    pub(crate) const SHST_MASK: u32 = 3 << 2;
    /// Shutdown status: complete.
    pub(crate) const SHST_CMPLT: u32 = 2 << 2;
}

/// Admin command opcodes.
pub(crate) mod admin {
    /// Delete I/O submission queue.
    pub(crate) const DELETE_SQ: u8 = 0x00;
    /// Create I/O submission queue.
    pub(crate) const CREATE_SQ: u8 = 0x01;
    /// Delete I/O completion queue.
    pub(crate) const DELETE_CQ: u8 = 0x04;
    /// Create I/O completion queue.
    pub(crate) const CREATE_CQ: u8 = 0x05;
    /// Identify.
    pub(crate) const IDENTIFY: u8 = 0x06;
    /// Set features.
    pub(crate) const SET_FEATURES: u8 = 0x09;
    /// Doorbell buffer config: PRP1 the shadow doorbells, PRP2 the event indexes.
    pub(crate) const DBBUF: u8 = 0x7c;

    /// Identify CNS: a namespace.
    pub(crate) const CNS_NS: u32 = 0x00;
    /// Identify CNS: the controller.
    pub(crate) const CNS_CTRL: u32 = 0x01;
    /// Identify CNS: the active namespace list.
    pub(crate) const CNS_NS_ACTIVE_LIST: u32 = 0x02;

    /// Feature: number of queues.
    pub(crate) const FEAT_NUM_QUEUES: u32 = 0x07;
}

/// I/O command opcodes.
pub(crate) mod io {
    /// Flush.
    pub(crate) const FLUSH: u8 = 0x00;
    /// Write.
    pub(crate) const WRITE: u8 = 0x01;
    /// Read.
    pub(crate) const READ: u8 = 0x02;
    /// Write zeroes.
    pub(crate) const WRITE_ZEROES: u8 = 0x08;
    /// Dataset management (discard).
    pub(crate) const DSM: u8 = 0x09;

    /// Read/write `CDW12`: forced unit access.
    pub(crate) const RW_FUA: u32 = 1 << 30;
    /// Dataset management `CDW11`: deallocate.
    pub(crate) const DSM_AD: u32 = 1 << 2;
}

/// Identify controller fields (byte offsets).
pub(crate) mod id_ctrl {
    /// Serial number (20 ASCII bytes).
    pub(crate) const SN: usize = 4;
    /// Model number (40 ASCII bytes).
    pub(crate) const MN: usize = 24;
    /// Maximum data transfer size: 2^MDTS minimum pages, 0 for no limit.
    pub(crate) const MDTS: usize = 77;
    /// Optional admin command support (16-bit).
    pub(crate) const OACS: usize = 256;
    /// Optional NVM command support (16-bit).
    pub(crate) const ONCS: usize = 520;
    /// Volatile write cache present (bit 0).
    pub(crate) const VWC: usize = 525;

    /// `ONCS`: dataset management.
    pub(crate) const ONCS_DSM: u16 = 1 << 2;
    /// `ONCS`: write zeroes.
    pub(crate) const ONCS_WRITE_ZEROES: u16 = 1 << 3;
    /// `OACS`: doorbell buffer config.
    pub(crate) const OACS_DBBUF: u16 = 1 << 8;
}

/// Identify namespace fields (byte offsets).
pub(crate) mod id_ns {
    /// Namespace size in logical blocks (64-bit).
    pub(crate) const NSZE: usize = 0;
    /// Formatted LBA size: bits 3:0 index the LBA formats.
    pub(crate) const FLBAS: usize = 26;
    /// The LBA formats, 4 bytes each: bits 23:16 are LBADS (log2 of the block size).
    pub(crate) const LBAF: usize = 128;
}

/// A submission queue entry: 16 little-endian dwords.
#[derive(Clone, Copy, Default)]
pub(crate) struct Command(pub(crate) [u32; 16]);

impl Command {
    /// A command with `opcode` for namespace `nsid`.
    pub(crate) fn new(opcode: u8, nsid: u32) -> Self {
        let mut c = Command([0; 16]);
        c.0[0] = opcode as u32;
        c.0[1] = nsid;
        c
    }

    /// Sets the command identifier.
    pub(crate) fn set_cid(&mut self, cid: u16) {
        self.0[0] = (self.0[0] & 0xffff) | (u32::from(cid) << 16);
    }

    /// Returns the opcode.
    pub(crate) fn opcode(&self) -> u8 {
        self.0[0] as u8
    }

    /// Sets the data pointer (PRP entries 1 and 2).
    pub(crate) fn set_prp(&mut self, prp1: u64, prp2: u64) {
        self.0[6] = prp1 as u32;
        self.0[7] = (prp1 >> 32) as u32;
        self.0[8] = prp2 as u32;
        self.0[9] = (prp2 >> 32) as u32;
    }

    /// Sets command dword `n` (2, 3 or 10 to 15).
    pub(crate) fn set_cdw(&mut self, n: usize, value: u32) -> &mut Self {
        self.0[n] = value;
        self
    }

    /// Returns the entry as the device reads it.
    pub(crate) fn to_le(self) -> [u32; 16] {
        self.0.map(u32::to_le)
    }
}

/// A completion queue entry.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Completion {
    /// Command specific result (dword 0).
    pub(crate) result: u32,
    /// Command specific result, continued (dword 1).
    pub(crate) result1: u32,
    /// Command identifier.
    pub(crate) cid: u16,
    /// Status field without the phase tag: 0 is success.
    pub(crate) status: u16,
}

impl Completion {
    /// Decodes an entry as the device wrote it.
    pub(crate) fn from_le(e: [u32; 4]) -> Self {
        let e = e.map(u32::from_le);
        Self {
            result: e[0],
            result1: e[1],
            cid: e[3] as u16,
            status: ((e[3] >> 17) & 0x7fff) as u16,
        }
    }
}

/// Status code type and code of a status field.
pub(crate) fn status_code(status: u16) -> (u16, u16) {
    ((status >> 8) & 0x7, status & 0xff)
}

/// Generic status: invalid opcode.
pub(crate) const SC_INVALID_OPCODE: u16 = 0x01;
/// Generic status: invalid field in command.
pub(crate) const SC_INVALID_FIELD: u16 = 0x02;
/// Generic status: LBA out of range.
pub(crate) const SC_LBA_RANGE: u16 = 0x80;
/// Generic status: capacity exceeded.
pub(crate) const SC_CAP_EXCEEDED: u16 = 0x81;
/// Generic status: namespace not ready.
pub(crate) const SC_NS_NOT_READY: u16 = 0x82;
/// Media errors status code type.
pub(crate) const SCT_MEDIA: u16 = 0x2;

/// The errno a block request gets for an NVMe status, as the C driver maps them
/// (`nvme_error_status()`).
pub(crate) fn status_to_errno(status: u16) -> kernel::error::Error {
    use kernel::error::code::*;
    match status_code(status) {
        (0, SC_INVALID_OPCODE) | (0, SC_INVALID_FIELD) => EOPNOTSUPP,
        (0, SC_LBA_RANGE) | (0, SC_CAP_EXCEEDED) => ENOSPC,
        (0, SC_NS_NOT_READY) => EAGAIN,
        (SCT_MEDIA, _) => ENODATA,
        _ => EIO,
    }
}
