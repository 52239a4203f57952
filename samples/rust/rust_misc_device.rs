// SPDX-License-Identifier: GPL-2.0

//! Rust misc device sample: `/dev/rust-misc-sample`, a 4 KiB scratch file in memory.
//!
//! Every open file shares the same buffer (the registration data) and counts its own reads and
//! writes (its per-file state). `read`, `write` and `lseek` work as on a regular file of fixed
//! size, and two ioctls act on the buffer:
//!
//! - `_IO('|', 0x80)` clears it;
//! - `_IOR('|', 0x81, u64)` returns how many bytes this file has moved, reads and writes
//!   together.
//!
//! From the shell: `echo hello > /dev/rust-misc-sample; head -c 5 /dev/rust-misc-sample`.

use core::sync::atomic::{AtomicU64, Ordering};
use kernel::{
    fmt,
    ioctl::{_IO, _IOR},
    miscdevice::{self, MiscDevice, MiscDeviceRegistration, Whence},
    new_mutex,
    prelude::*,
    str::CString,
    sync::{Arc, Mutex},
    uaccess::{UserSlice, UserSliceReader, UserSliceWriter},
    ThisModule,
};

module! {
    type: RustMiscDeviceModule,
    name: "rust_misc_device",
    author: "linux-rust-lts",
    description: "Rust misc device sample",
    license: "GPL",
}

const SIZE: usize = 4096;
const IOC_CLEAR: u32 = _IO('|' as u32, 0x80);
const IOC_MOVED: u32 = _IOR::<u64>('|' as u32, 0x81);

/// The buffer all open files share.
#[pin_data]
struct Shared {
    #[pin]
    data: Mutex<KVec<u8>>,
}

/// The state of one open file.
struct OpenFile {
    shared: Arc<Shared>,
    moved: AtomicU64,
}

impl OpenFile {
    /// Checks a file position against the buffer.
    fn start(pos: i64) -> Result<usize> {
        usize::try_from(pos)
            .ok()
            .filter(|&p| p <= SIZE)
            .ok_or_else(|| {
                pr_err_ratelimited!("position {} is outside the file\n", pos);
                EINVAL
            })
    }

    fn count(&self, n: usize) {
        // CAST: `n` is at most `SIZE`.
        self.moved.fetch_add(n as u64, Ordering::Relaxed);
    }
}

#[vtable]
impl MiscDevice for OpenFile {
    type Ptr = KBox<OpenFile>;
    type RegistrationData = Arc<Shared>;
    const OWNER: &'static ThisModule = &THIS_MODULE;

    fn open(shared: &Arc<Shared>) -> Result<KBox<OpenFile>> {
        Ok(KBox::new(
            OpenFile {
                shared: shared.clone(),
                moved: AtomicU64::new(0),
            },
            GFP_KERNEL,
        )?)
    }

    fn read(me: &OpenFile, mut writer: UserSliceWriter, pos: &mut i64) -> Result<usize> {
        let start = Self::start(*pos)?;
        let n = writer.len().min(SIZE - start);
        writer.write_slice(&me.shared.data.lock()[start..start + n])?;
        me.count(n);
        // CAST: `n` is at most `SIZE`.
        *pos += n as i64;
        Ok(n)
    }

    fn write(me: &OpenFile, mut reader: UserSliceReader, pos: &mut i64) -> Result<usize> {
        let start = Self::start(*pos)?;
        let n = reader.len().min(SIZE - start);
        if n == 0 && !reader.is_empty() {
            pr_err_ratelimited!("write at the end of the file\n");
            return Err(ENOSPC);
        }
        reader.read_slice(&mut me.shared.data.lock()[start..start + n])?;
        me.count(n);
        // CAST: `n` is at most `SIZE`.
        *pos += n as i64;
        Ok(n)
    }

    fn ioctl(me: &OpenFile, cmd: u32, arg: usize) -> Result<isize> {
        match cmd {
            IOC_CLEAR => me.shared.data.lock().fill(0),
            IOC_MOVED => {
                let moved = me.moved.load(Ordering::Relaxed);
                UserSlice::new(arg, core::mem::size_of::<u64>())
                    .writer()
                    .write(&moved)?;
            }
            // Not ours (e.g. `TCGETS` from `isatty()`): refused without a log line (`pr_debug!`
            // prints on every call where debug assertions are on: any user could flood the log).
            _ => return Err(ENOTTY),
        }
        Ok(0)
    }

    fn llseek(_me: &OpenFile, pos: i64, offset: i64, whence: Whence) -> Result<i64> {
        // CAST: `SIZE` is a small constant.
        miscdevice::seek_in_size(pos, offset, whence, SIZE as i64).inspect_err(|_| {
            pr_err_ratelimited!("seek to {} from {:?} is outside the file\n", offset, whence);
        })
    }
}

struct RustMiscDeviceModule {
    _misc: Pin<KBox<MiscDeviceRegistration<OpenFile>>>,
}

impl kernel::Module for RustMiscDeviceModule {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        let data = KVec::from_elem(0u8, SIZE, GFP_KERNEL)?;
        let shared = Arc::pin_init(
            pin_init!(Shared {
                data <- new_mutex!(data),
            }),
            GFP_KERNEL,
        )?;
        let name = CString::try_from_fmt(fmt!("rust-misc-sample"))?;
        let misc = KBox::pin_init(
            MiscDeviceRegistration::register(name, None, shared),
            GFP_KERNEL,
        )?;
        pr_info!("/dev/{} registered, minor {}\n", misc.name(), misc.minor());
        Ok(Self { _misc: misc })
    }
}
