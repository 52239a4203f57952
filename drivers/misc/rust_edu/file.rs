// SPDX-License-Identifier: GPL-2.0

//! The misc device `/dev/rust-eduN`.

use crate::{edu::Edu, regs::BUF_SIZE};
use kernel::{
    miscdevice::{self, MiscDevice, Whence},
    prelude::*,
    sync::{Arc, ArcBorrow},
    uaccess::{UserSliceReader, UserSliceWriter},
    ThisModule,
};

/// The file operations of `/dev/rust-eduN`.
pub(crate) struct EduFile;

#[vtable]
impl MiscDevice for EduFile {
    type Ptr = Arc<Edu>;
    type RegistrationData = Arc<Edu>;
    const OWNER: &'static ThisModule = &crate::THIS_MODULE;

    fn open(edu: &Arc<Edu>) -> Result<Arc<Edu>> {
        edu.check_alive()?;
        Ok(edu.clone())
    }

    fn read(edu: ArcBorrow<'_, Edu>, writer: UserSliceWriter, pos: &mut i64) -> Result<usize> {
        edu.read(writer, pos)
    }

    fn write(edu: ArcBorrow<'_, Edu>, reader: UserSliceReader, pos: &mut i64) -> Result<usize> {
        edu.write(reader, pos)
    }

    fn ioctl(edu: ArcBorrow<'_, Edu>, cmd: u32, arg: usize) -> Result<isize> {
        edu.ioctl(cmd, arg)
    }

    fn llseek(edu: ArcBorrow<'_, Edu>, pos: i64, offset: i64, whence: Whence) -> Result<i64> {
        edu.check_alive()?;
        // CAST: `BUF_SIZE` is a small constant.
        miscdevice::seek_in_size(pos, offset, whence, BUF_SIZE as i64).inspect_err(|_| {
            dev_err_ratelimited!(
                edu.pdev,
                "seek to {} from {:?} is outside the buffer\n",
                offset,
                whence
            );
        })
    }
}
