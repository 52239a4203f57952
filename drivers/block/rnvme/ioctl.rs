// SPDX-License-Identifier: GPL-2.0

//! The NVMe ioctls of the disks (`include/uapi/linux/nvme_ioctl.h`): the namespace identifier
//! and admin command passthrough, for nvme-cli.
//!
//! Admin commands go through the controller's admin buffer, never straight to user memory:
//! the data is copied in before a command that sends data and out after one that receives it.
//! Only commands whose data transfer the driver can bound are passed through (Identify, Get
//! Log Page, Get and Set Features, Device Self-test, Keep Alive): queue management, aborts,
//! asynchronous events, doorbell buffers, formats, namespace management, firmware and vendor
//! commands would act on memory or state the driver owns and fail with `EOPNOTSUPP`. Who may
//! send what follows the C driver: anyone with the disk open may identify the controller and
//! its namespaces; everything else needs `CAP_SYS_ADMIN` (`EACCES` otherwise); Set Features of
//! the features the driver manages is refused to everyone (`EACCES`).

use crate::{
    blk::Namespace,
    ctrl::ADMIN_BUF_SIZE,
    nvme::{admin, Command},
};
use kernel::{
    alloc::flags::__GFP_NOWARN,
    block::mq::ioctl::{capable_sys_admin, Ioctl},
    ioctl::{_IO, _IOWR},
    prelude::*,
    sync::ArcBorrow,
    uaccess::UserSlice,
};

/// The size of `struct nvme_passthru_cmd` (`struct nvme_admin_cmd`).
const PASSTHRU_SIZE: usize = 72;
/// The size of `struct nvme_passthru_cmd64`.
const PASSTHRU64_SIZE: usize = 80;

/// `NVME_IOCTL_ID`: returns the namespace identifier of the disk.
pub(crate) const NVME_IOCTL_ID: u32 = _IO(b'N' as u32, 0x40);
/// `NVME_IOCTL_ADMIN_CMD`: runs an admin command (32-bit result).
pub(crate) const NVME_IOCTL_ADMIN_CMD: u32 = _IOWR::<[u8; PASSTHRU_SIZE]>(b'N' as u32, 0x41);
/// `NVME_IOCTL_ADMIN64_CMD`: runs an admin command (64-bit result).
pub(crate) const NVME_IOCTL_ADMIN64_CMD: u32 = _IOWR::<[u8; PASSTHRU64_SIZE]>(b'N' as u32, 0x47);

/// More admin opcodes (those the driver sends itself are in [`admin`]).
mod op {
    pub(super) const GET_LOG_PAGE: u8 = 0x02;
    pub(super) const GET_FEATURES: u8 = 0x0a;
    pub(super) const DEVICE_SELF_TEST: u8 = 0x14;
    pub(super) const KEEP_ALIVE: u8 = 0x18;
}

/// Identify CNS values anyone with the disk open may ask for (the C driver's list): the
/// namespace, the controller, and their command-set specific and independent forms.
const CNS_UNPRIVILEGED: [u32; 5] = [0x00, 0x01, 0x05, 0x06, 0x08];

/// Features the driver manages (number of queues), that point the controller at host memory
/// (host memory buffer), or whose change the driver would not follow (autonomous power state
/// transitions, keep alive timer, host behaviour): Set Features of them is refused.
const FEATURES_REFUSED: [u32; 5] = [0x07, 0x0c, 0x0d, 0x0f, 0x16];

/// The admin command of a passthrough ioctl, decoded.
struct Passthru {
    opcode: u8,
    flags: u8,
    nsid: u32,
    cdw2: u32,
    cdw3: u32,
    addr: u64,
    data_len: u32,
    /// Command dwords 10 to 15.
    cdw: [u32; 6],
}

/// The native-endian `u32` at `off` of `b`.
fn u32_at(b: &[u8], off: usize) -> u32 {
    let mut v = [0u8; 4];
    v.copy_from_slice(&b[off..off + 4]);
    u32::from_ne_bytes(v)
}

/// The native-endian `u64` at `off` of `b`.
fn u64_at(b: &[u8], off: usize) -> u64 {
    let mut v = [0u8; 8];
    v.copy_from_slice(&b[off..off + 8]);
    u64::from_ne_bytes(v)
}

impl Passthru {
    /// Decodes the fields both structures share (the 64-bit one only adds to the end).
    fn decode(b: &[u8]) -> Self {
        let mut cdw = [0u32; 6];
        for (i, d) in cdw.iter_mut().enumerate() {
            *d = u32_at(b, 40 + 4 * i);
        }
        Self {
            opcode: b[0],
            flags: b[1],
            nsid: u32_at(b, 4),
            cdw2: u32_at(b, 8),
            cdw3: u32_at(b, 12),
            addr: u64_at(b, 24),
            data_len: u32_at(b, 36),
            cdw,
        }
    }

    /// The bytes the command makes the controller transfer, if the driver passes it through.
    fn transfer(&self) -> Result<usize> {
        match self.opcode {
            admin::IDENTIFY => Ok(4096),
            op::GET_LOG_PAGE => {
                // NUMDL (CDW10 bits 31:16) and NUMDU (CDW11 bits 15:0), dwords, 0's based.
                let numd = (u64::from(self.cdw[1] & 0xffff) << 16) | u64::from(self.cdw[0] >> 16);
                let bytes = (numd + 1) * 4;
                if bytes > ADMIN_BUF_SIZE as u64 {
                    return Err(EINVAL);
                }
                Ok(bytes as usize)
            }
            // Feature data is at most 4 KiB, but for vendor specific features (C0h to FFh),
            // whose size the driver cannot know.
            op::GET_FEATURES | admin::SET_FEATURES if self.cdw[0] & 0xff >= 0xc0 => Err(EOPNOTSUPP),
            op::GET_FEATURES | admin::SET_FEATURES => Ok(4096),
            op::DEVICE_SELF_TEST | op::KEEP_ALIVE => Ok(0),
            _ => Err(EOPNOTSUPP),
        }
    }

    /// Whether the caller may send the command (as the C driver's `nvme_admin_cmd_allowed()`).
    fn allowed(&self) -> Result {
        if self.opcode == admin::SET_FEATURES && FEATURES_REFUSED.contains(&(self.cdw[0] & 0xff)) {
            return Err(EACCES);
        }
        if self.opcode == admin::IDENTIFY && CNS_UNPRIVILEGED.contains(&(self.cdw[0] & 0xff)) {
            return Ok(());
        }
        if capable_sys_admin() {
            Ok(())
        } else {
            Err(EACCES)
        }
    }
}

/// Handles an ioctl on a disk of namespace `ns`.
pub(crate) fn ioctl(ns: ArcBorrow<'_, Namespace>, ioctl: &Ioctl) -> Result<i32> {
    match ioctl.cmd() {
        NVME_IOCTL_ID => i32::try_from(ns.nsid).map_err(|_| ERANGE),
        NVME_IOCTL_ADMIN_CMD => admin_cmd(&ns, ioctl, false),
        NVME_IOCTL_ADMIN64_CMD => admin_cmd(&ns, ioctl, true),
        _ => Err(ENOTTY),
    }
}

/// Runs an admin command from user space; returns its NVMe status (0 for success), and
/// writes its result dword back.
fn admin_cmd(ns: &Namespace, ioctl: &Ioctl, wide: bool) -> Result<i32> {
    let size = if wide { PASSTHRU64_SIZE } else { PASSTHRU_SIZE };
    let mut raw = [0u8; PASSTHRU64_SIZE];
    ioctl
        .user_slice(size)
        .reader()
        .read_slice(&mut raw[..size])?;
    let p = Passthru::decode(&raw);
    // No flags are defined, and the data must fit the admin buffer. Metadata is ignored, as
    // the C driver does for admin commands.
    if p.flags != 0 {
        return Err(EINVAL);
    }
    let len = p.data_len as usize;
    if len > ADMIN_BUF_SIZE {
        return Err(EINVAL);
    }
    p.allowed()?;
    let xfer = p.transfer()?;

    let mut cmd = Command::new(p.opcode, p.nsid);
    cmd.set_cdw(2, p.cdw2).set_cdw(3, p.cdw3);
    for (i, d) in p.cdw.iter().enumerate() {
        cmd.set_cdw(10 + i, *d);
    }
    // CAST: User addresses fit `usize`; a truncated one fails the copy like any bad address.
    let data = UserSlice::new(p.addr as usize, len);
    // Bit 0 of the opcode: the host sends data; otherwise the controller may return some (at
    // most what it transfers: the rest of the caller's buffer is left alone).
    let sends = p.opcode & 1 != 0;
    let (mut reader, mut writer) = data.reader_writer();
    // What the caller sends, or room for what the controller returns (no warning when that
    // cannot be allocated: the size comes from user space).
    let gfp = GFP_KERNEL | __GFP_NOWARN;
    let (mut input, mut output) = (KVec::new(), KVec::new());
    if sends {
        input = KVec::from_elem(0u8, len, gfp)?;
        reader.read_slice(&mut input)?;
    } else {
        output = KVec::from_elem(0u8, len.min(xfer), gfp)?;
    }
    let c = ns.ctrl.admin().admin_passthru(
        cmd,
        xfer,
        |buf| {
            // What the controller or the caller does not write reads as zeroes, not as an
            // earlier command's data.
            let zero = [0u8; 512];
            let mut off = 0;
            while off < xfer.max(len) {
                buf.write_from(off, &zero)?;
                off += zero.len();
            }
            buf.write_from(0, &input)
        },
        |buf| buf.read_into(0, &mut output),
    )?;
    if !sends {
        writer.write_slice(&output)?;
    }
    // The result: a `__u32` at offset 68, or a `__u64` at 72.
    let wide_result = ((u64::from(c.result1) << 32) | u64::from(c.result)).to_ne_bytes();
    let result = c.result.to_ne_bytes();
    let (off, bytes): (usize, &[u8]) = if wide {
        (72, &wide_result)
    } else {
        (68, &result)
    };
    let at = ioctl.arg().checked_add(off).ok_or(EFAULT)?;
    UserSlice::new(at, bytes.len())
        .writer()
        .write_slice(bytes)?;
    Ok(i32::from(c.status))
}
