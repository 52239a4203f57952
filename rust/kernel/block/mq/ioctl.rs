// SPDX-License-Identifier: GPL-2.0

//! Ioctls on the disks of a blk-mq driver.
//!
//! The block layer handles the generic block ioctls itself (`BLKGETSIZE64`, `BLKDISCARD`, ...)
//! and passes every other command to [`Operations::ioctl`](super::Operations::ioctl) with an
//! [`Ioctl`] that says what was asked and how the file was opened.
//!
//! C header: [`include/linux/blkdev.h`](srctree/include/linux/blkdev.h)

use crate::{bindings, uaccess::UserSlice};

/// An ioctl on a disk (or one of its partitions) of the driver, as
/// [`Operations::ioctl`](super::Operations::ioctl) receives it.
///
/// # Examples
///
/// ```
/// use kernel::block::mq::ioctl::Ioctl;
/// use kernel::prelude::*;
///
/// /// `_IO('X', 1)`: returns the disk's identifier.
/// const GET_ID: u32 = kernel::ioctl::_IO(b'X' as u32, 1);
///
/// fn handle(ioctl: &Ioctl, id: u32) -> Result<i32> {
///     match ioctl.cmd() {
///         GET_ID if ioctl.on_partition() => Err(ENOTTY),
///         GET_ID => Ok(id as i32),
///         _ => Err(ENOTTY),
///     }
/// }
///
/// let ioctl = Ioctl::for_test(GET_ID, 0, true, false);
/// assert_eq!(handle(&ioctl, 7), Ok(7));
/// assert!(ioctl.opened_for_write());
/// let ioctl = Ioctl::for_test(GET_ID, 0, false, true);
/// assert_eq!(handle(&ioctl, 7), Err(ENOTTY));
/// assert!(!ioctl.opened_for_write());
/// ```
pub struct Ioctl {
    cmd: u32,
    arg: usize,
    mode: bindings::blk_mode_t,
    partition: bool,
}

impl Ioctl {
    /// Describes an ioctl the block layer passed on.
    pub(crate) fn new(cmd: u32, arg: usize, mode: bindings::blk_mode_t, partition: bool) -> Self {
        Self {
            cmd,
            arg,
            mode,
            partition,
        }
    }

    /// Describes an ioctl, for tests of a driver's ioctl handling.
    pub fn for_test(cmd: u32, arg: usize, write: bool, partition: bool) -> Self {
        let mode = bindings::BLK_OPEN_READ | if write { bindings::BLK_OPEN_WRITE } else { 0 };
        Self::new(cmd, arg, mode, partition)
    }

    /// The command number.
    pub fn cmd(&self) -> u32 {
        self.cmd
    }

    /// The argument, as the caller passed it (most commands take a user-space pointer; see
    /// [`Ioctl::user_slice`]).
    pub fn arg(&self) -> usize {
        self.arg
    }

    /// The `len` bytes of user space at the argument.
    pub fn user_slice(&self, len: usize) -> UserSlice {
        UserSlice::new(self.arg, len)
    }

    /// Whether the file the ioctl came through was opened for writing.
    pub fn opened_for_write(&self) -> bool {
        self.mode & bindings::BLK_OPEN_WRITE != 0
    }

    /// Whether the ioctl came through a partition of the disk rather than the whole disk (a
    /// command that addresses the device directly escapes the partition's bounds).
    pub fn on_partition(&self) -> bool {
        self.partition
    }
}

/// Whether the calling task may administer the system (`capable(CAP_SYS_ADMIN)`), as drivers
/// check before passing a command through to the device. The check is audited, like any
/// `capable()` call.
pub fn capable_sys_admin() -> bool {
    // SAFETY: `capable()` only reads the current task's credentials.
    unsafe { bindings::capable(bindings::CAP_SYS_ADMIN as i32) }
}
