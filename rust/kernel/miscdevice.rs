// SPDX-License-Identifier: GPL-2.0

//! Miscellaneous character devices.
//!
//! A misc device is a character device with the misc major number and a dynamic minor, which
//! appears as `/dev/<name>`. A driver implements [`MiscDevice`], a `#[vtable]` of file
//! operations, and registers it with [`MiscDeviceRegistration`], which deregisters it on drop.
//!
//! Every open file gets its own [`MiscDevice::Ptr`] from [`MiscDevice::open`] (for instance an
//! `Arc` of the device state, or a `KBox` of per-file state), which the other operations borrow
//! and [`MiscDevice::release`] gets back. Open files may outlive the registration: whatever they
//! hold must stay valid on its own, and hardware behind it must be revocable (see
//! [`crate::devres::Devres`]).
//!
//! C header: [`include/linux/miscdevice.h`](srctree/include/linux/miscdevice.h)

use crate::ffi::{c_int, c_long, c_uint, c_ulong};
use crate::{
    bindings, build_error, device,
    error::{from_result, to_result, Error, Result, VTABLE_DEFAULT_ERROR},
    prelude::*,
    str::{CStr, CString},
    types::{ForeignOwnable, Opaque},
    uaccess::{UserSlice, UserSliceReader, UserSliceWriter},
    ThisModule,
};
use core::{
    marker::{PhantomData, PhantomPinned},
    ptr::{addr_of, addr_of_mut},
};

/// Where an `lseek` offset counts from.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Whence {
    /// From the start of the file (`SEEK_SET`).
    Set,
    /// From the current position (`SEEK_CUR`).
    Cur,
    /// From the end of the file (`SEEK_END`).
    End,
    /// To the next data at or after the offset (`SEEK_DATA`).
    Data,
    /// To the next hole at or after the offset (`SEEK_HOLE`).
    Hole,
}

impl Whence {
    /// Converts the C `whence` value, or returns `EINVAL` for an unknown one.
    pub fn from_raw(whence: c_int) -> Result<Self> {
        match u32::try_from(whence).map_err(|_| EINVAL)? {
            bindings::SEEK_SET => Ok(Self::Set),
            bindings::SEEK_CUR => Ok(Self::Cur),
            bindings::SEEK_END => Ok(Self::End),
            bindings::SEEK_DATA => Ok(Self::Data),
            bindings::SEEK_HOLE => Ok(Self::Hole),
            _ => Err(EINVAL),
        }
    }
}

/// Computes the new position of an `lseek` in a file of `size` bytes, or `EINVAL` if it would
/// land before the start or after the end.
///
/// `SEEK_DATA` and `SEEK_HOLE` treat the whole file as data, like `fixed_size_llseek()`.
///
/// # Examples
///
/// ```
/// use kernel::miscdevice::{seek_in_size, Whence};
///
/// assert_eq!(seek_in_size(10, 5, Whence::Cur, 4096), Ok(15));
/// assert_eq!(seek_in_size(10, -4, Whence::End, 4096), Ok(4092));
/// assert_eq!(seek_in_size(0, 4097, Whence::Set, 4096), Err(EINVAL));
/// assert_eq!(seek_in_size(0, -1, Whence::Set, 4096), Err(EINVAL));
/// ```
pub fn seek_in_size(pos: i64, offset: i64, whence: Whence, size: i64) -> Result<i64> {
    let new = match whence {
        Whence::Set => offset,
        Whence::Cur => pos.checked_add(offset).ok_or(EINVAL)?,
        Whence::End => size.checked_add(offset).ok_or(EINVAL)?,
        Whence::Data if (0..size).contains(&offset) => offset,
        Whence::Hole if (0..size).contains(&offset) => size,
        Whence::Data | Whence::Hole => return Err(ENXIO),
    };
    if !(0..=size).contains(&new) {
        return Err(EINVAL);
    }
    Ok(new)
}

/// The file operations of a misc device.
///
/// Only [`open`](MiscDevice::open) is required; operations that are not implemented are left
/// `NULL` in the C `file_operations`, so the VFS answers them (`EINVAL` for `read` and `write`,
/// `ENOTTY` for `ioctl`, and no seeking).
#[vtable]
pub trait MiscDevice: Sized {
    /// What an open file holds, from `open` until `release`.
    type Ptr: ForeignOwnable + Send + Sync;

    /// What the registration holds and gives to `open`.
    type RegistrationData: Send + Sync;

    /// The module whose code implements the operations, kept loaded while a file is open.
    ///
    /// A loadable module sets it to `&THIS_MODULE`, which [`module!`] defines.
    const OWNER: &'static ThisModule;

    /// Opens the device: returns the state of the new open file.
    fn open(data: &Self::RegistrationData) -> Result<Self::Ptr>;

    /// Closes the file: gets the state back from `open`. The default drops it.
    fn release(device: Self::Ptr) {
        drop(device);
    }

    /// Reads from the file at position `pos` into `writer`, advancing `pos`; returns the number
    /// of bytes read.
    fn read(
        _device: <Self::Ptr as ForeignOwnable>::Borrowed<'_>,
        _writer: UserSliceWriter,
        _pos: &mut i64,
    ) -> Result<usize> {
        build_error!(VTABLE_DEFAULT_ERROR)
    }

    /// Writes from `reader` to the file at position `pos`, advancing `pos`; returns the number
    /// of bytes written.
    fn write(
        _device: <Self::Ptr as ForeignOwnable>::Borrowed<'_>,
        _reader: UserSliceReader,
        _pos: &mut i64,
    ) -> Result<usize> {
        build_error!(VTABLE_DEFAULT_ERROR)
    }

    /// Handles the ioctl `cmd` with argument `arg` (often a user pointer).
    ///
    /// Unknown commands should fail with `ENOTTY`. With `CONFIG_COMPAT`, 32-bit processes reach
    /// the same function through `compat_ptr_ioctl()`.
    fn ioctl(
        _device: <Self::Ptr as ForeignOwnable>::Borrowed<'_>,
        _cmd: u32,
        _arg: usize,
    ) -> Result<isize> {
        build_error!(VTABLE_DEFAULT_ERROR)
    }

    /// Returns the new position for an `lseek` of `offset` from `whence`, the file being at
    /// `pos`; see [`seek_in_size`].
    fn llseek(
        _device: <Self::Ptr as ForeignOwnable>::Borrowed<'_>,
        _pos: i64,
        _offset: i64,
        _whence: Whence,
    ) -> Result<i64> {
        build_error!(VTABLE_DEFAULT_ERROR)
    }
}

/// A registered misc device, deregistered when dropped.
///
/// # Invariants
///
/// `inner` is a registered `miscdevice` whose `name` points into `name`, whose `fops` are
/// `VTable::<T>::FOPS`, and which is embedded in this registration, until it is dropped.
///
/// # Examples
///
/// ```
/// use kernel::{miscdevice::{MiscDevice, MiscDeviceRegistration}, prelude::*};
/// use kernel::{fmt, str::CString, sync::Arc, ThisModule};
///
/// struct Hello;
///
/// #[vtable]
/// impl MiscDevice for Hello {
///     type Ptr = Arc<u32>;
///     type RegistrationData = Arc<u32>;
///     const OWNER: &'static ThisModule = {
///         // SAFETY: Doctests are built into the kernel image, whose `THIS_MODULE` is NULL.
///         &unsafe { ThisModule::from_ptr(core::ptr::null_mut()) }
///     };
///
///     fn open(data: &Arc<u32>) -> Result<Arc<u32>> {
///         Ok(data.clone())
///     }
/// }
///
/// let data = Arc::new(42, GFP_KERNEL)?;
/// let name = CString::try_from_fmt(fmt!("rust-misc-doctest{}", 0))?;
/// let reg = KBox::pin_init(
///     MiscDeviceRegistration::<Hello>::register(name, None, data),
///     GFP_KERNEL,
/// )?;
/// assert!(reg.minor() >= 0 && reg.minor() != 255);
/// assert_eq!(reg.name().as_bytes(), b"rust-misc-doctest0");
/// assert_eq!(**reg.data(), 42);
/// drop(reg);
/// # Ok::<(), Error>(())
/// ```
#[pin_data(PinnedDrop)]
pub struct MiscDeviceRegistration<T: MiscDevice> {
    #[pin]
    inner: Opaque<bindings::miscdevice>,
    name: CString,
    data: T::RegistrationData,
    #[pin]
    _pin: PhantomPinned,
    _t: PhantomData<T>,
}

// SAFETY: The `miscdevice` is only used by the misc core, under its own lock, and the
// registration data is `Send`.
unsafe impl<T: MiscDevice> Send for MiscDeviceRegistration<T> {}

// SAFETY: Shared references give out `&T::RegistrationData`, which is `Sync`, and read-only
// views of the `miscdevice`.
unsafe impl<T: MiscDevice> Sync for MiscDeviceRegistration<T> {}

impl<T: MiscDevice> MiscDeviceRegistration<T> {
    /// Registers a misc device `/dev/<name>` with a dynamic minor, whose `open` gets `data`.
    ///
    /// `parent`, if given, becomes the parent of the device in sysfs. Names must be unique: the
    /// registration of a second device by the same name fails (and sysfs logs the clash).
    pub fn register(
        name: CString,
        parent: Option<&device::Device>,
        data: T::RegistrationData,
    ) -> impl PinInit<Self, Error> {
        let parent = parent.map_or(core::ptr::null_mut(), |p| p.as_raw());
        let init = move |slot: *mut Self| {
            // SAFETY: `slot` is valid for writes; the fields are written once here.
            unsafe {
                addr_of_mut!((*slot).name).write(name);
                addr_of_mut!((*slot).data).write(data);
            }
            let misc = Opaque::raw_get(
                // SAFETY: `slot` is valid; no reference to the field is created.
                unsafe { addr_of!((*slot).inner) },
            );
            // SAFETY: `misc` is valid for writes; an all-zero `miscdevice` is a valid start. The
            // name lives in the registration, next to it, and the fops are static; `parent`,
            // if not NULL, is a live device, which the misc core takes a reference on. Until
            // `misc_register()` returns, nothing else sees `misc`.
            let ret = unsafe {
                misc.write(core::mem::zeroed());
                (*misc).minor = bindings::MISC_DYNAMIC_MINOR as c_int;
                (*misc).name = (*slot).name.as_char_ptr();
                (*misc).fops = &VTable::<T>::FOPS;
                (*misc).parent = parent;
                bindings::ei_misc_register(misc)
            };
            if let Err(e) = to_result(ret) {
                // SAFETY: The fields were written above and, with the registration failed,
                // nothing else refers to them.
                unsafe {
                    core::ptr::drop_in_place(addr_of_mut!((*slot).name));
                    core::ptr::drop_in_place(addr_of_mut!((*slot).data));
                }
                pr_err!("cannot register misc device: {:?}\n", e);
                return Err(e);
            }
            // INVARIANT: `misc` was registered with the name, fops and parent set above.
            Ok(())
        };
        // SAFETY: The closure initialises every field on success (the `PhantomData` and
        // `PhantomPinned` ones are zero-sized) and leaves nothing behind on failure.
        unsafe { init::pin_init_from_closure(init) }
    }

    /// Returns the minor number the device got.
    pub fn minor(&self) -> i32 {
        // SAFETY: By the type invariant `inner` is registered; its minor is not changed after
        // registration.
        unsafe { (*self.inner.get()).minor }
    }

    /// Returns the name of the device, as in `/dev`.
    pub fn name(&self) -> &CStr {
        &self.name
    }

    /// Returns the data given to `open`.
    pub fn data(&self) -> &T::RegistrationData {
        &self.data
    }
}

#[pinned_drop]
impl<T: MiscDevice> PinnedDrop for MiscDeviceRegistration<T> {
    fn drop(self: Pin<&mut Self>) {
        // SAFETY: By the type invariant `inner` is registered. After this no new `open` can
        // start, and running ones have finished, so `data` may be dropped.
        unsafe { bindings::misc_deregister(self.inner.get()) };
    }
}

/// What the operations of an open file of a `T` get.
type Borrowed<'a, T> = <<T as MiscDevice>::Ptr as ForeignOwnable>::Borrowed<'a>;

/// The C `file_operations` of a [`MiscDevice`].
struct VTable<T: MiscDevice>(PhantomData<T>);

impl<T: MiscDevice> VTable<T> {
    const FOPS: bindings::file_operations = bindings::file_operations {
        owner: T::OWNER.as_ptr(),
        open: Some(Self::open_callback),
        release: Some(Self::release_callback),
        read: if T::HAS_READ {
            Some(Self::read_callback)
        } else {
            None
        },
        write: if T::HAS_WRITE {
            Some(Self::write_callback)
        } else {
            None
        },
        unlocked_ioctl: if T::HAS_IOCTL {
            Some(Self::ioctl_callback)
        } else {
            None
        },
        #[cfg(CONFIG_COMPAT)]
        compat_ioctl: if T::HAS_IOCTL {
            Some(bindings::compat_ptr_ioctl)
        } else {
            None
        },
        llseek: if T::HAS_LLSEEK {
            Some(Self::llseek_callback)
        } else {
            None
        },
        // SAFETY: All-zero is a valid `file_operations`: every other operation is absent.
        ..unsafe { core::mem::zeroed() }
    };

    /// # Safety
    ///
    /// Called by the misc core with `file->private_data` pointing to the `miscdevice` of a live
    /// `MiscDeviceRegistration<T>`, under the misc lock that deregistration also takes.
    unsafe extern "C" fn open_callback(
        _inode: *mut bindings::inode,
        file: *mut bindings::file,
    ) -> c_int {
        from_result(|| {
            // SAFETY: By the safety requirements `private_data` is the `miscdevice` embedded in
            // a live registration, which cannot be dropped while this runs.
            let reg = unsafe {
                let misc = (*file).private_data.cast::<bindings::miscdevice>();
                &*crate::container_of!(misc, MiscDeviceRegistration<T>, inner)
            };
            let ptr = T::open(&reg.data)?;
            // SAFETY: `file` is valid; from now on `private_data` holds the file's state, which
            // `release_callback` takes back.
            unsafe { (*file).private_data = ptr.into_foreign().cast_mut() };
            Ok(0)
        })
    }

    /// # Safety
    ///
    /// `file` must be a file opened by `open_callback`, being released.
    unsafe extern "C" fn release_callback(
        _inode: *mut bindings::inode,
        file: *mut bindings::file,
    ) -> c_int {
        // SAFETY: By the safety requirements `private_data` came from `into_foreign()` in
        // `open_callback` and is given back once, here.
        let ptr = unsafe { T::Ptr::from_foreign((*file).private_data) };
        T::release(ptr);
        0
    }

    /// Borrows the state of an open file.
    ///
    /// # Safety
    ///
    /// `file` must be a file opened by `open_callback` and not yet released, and the returned
    /// borrow must end before it is released.
    unsafe fn borrow<'a>(file: *mut bindings::file) -> <T::Ptr as ForeignOwnable>::Borrowed<'a> {
        // SAFETY: By the safety requirements `private_data` came from `into_foreign()` and
        // `from_foreign()` is not called until the borrow ends.
        unsafe { T::Ptr::borrow((*file).private_data) }
    }

    /// Runs a read or write operation `op` on an open file with a user buffer of `count` bytes
    /// at `buf`, and the file position at `ppos`.
    ///
    /// # Safety
    ///
    /// `file` must be an open file of this device, `buf` a user pointer of `count` bytes and
    /// `ppos` valid for reads and writes, for the duration of the call.
    unsafe fn transfer(
        file: *mut bindings::file,
        buf: usize,
        count: usize,
        ppos: *mut bindings::loff_t,
        op: impl FnOnce(Borrowed<'_, T>, UserSlice, &mut i64) -> Result<usize>,
    ) -> isize {
        from_result(|| {
            // SAFETY: The VFS holds the file open during the call.
            let device = unsafe { Self::borrow(file) };
            // SAFETY: By the safety requirements `ppos` is valid.
            let pos = unsafe { &mut *ppos };
            let n = op(device, UserSlice::new(buf, count), pos)?;
            isize::try_from(n).map_err(|_| EINVAL)
        })
    }

    /// # Safety
    ///
    /// As for `transfer`.
    unsafe extern "C" fn read_callback(
        file: *mut bindings::file,
        buf: *mut crate::ffi::c_char,
        count: usize,
        ppos: *mut bindings::loff_t,
    ) -> isize {
        // SAFETY: By the safety requirements.
        unsafe {
            Self::transfer(file, buf as usize, count, ppos, |dev, user, pos| {
                T::read(dev, user.writer(), pos)
            })
        }
    }

    /// # Safety
    ///
    /// As for `transfer`.
    unsafe extern "C" fn write_callback(
        file: *mut bindings::file,
        buf: *const crate::ffi::c_char,
        count: usize,
        ppos: *mut bindings::loff_t,
    ) -> isize {
        // SAFETY: By the safety requirements.
        unsafe {
            Self::transfer(file, buf as usize, count, ppos, |dev, user, pos| {
                T::write(dev, user.reader(), pos)
            })
        }
    }

    /// # Safety
    ///
    /// `file` must be an open file of this device, for the duration of the call.
    unsafe extern "C" fn ioctl_callback(
        file: *mut bindings::file,
        cmd: c_uint,
        arg: c_ulong,
    ) -> c_long {
        from_result(|| {
            // SAFETY: The VFS holds the file open during the call.
            let device = unsafe { Self::borrow(file) };
            // CAST: `isize` and `c_long` have the same size in the kernel.
            T::ioctl(device, cmd, arg).map(|ret| ret as c_long)
        })
    }

    /// # Safety
    ///
    /// As for `ioctl_callback`.
    unsafe extern "C" fn llseek_callback(
        file: *mut bindings::file,
        offset: bindings::loff_t,
        whence: c_int,
    ) -> bindings::loff_t {
        from_result(|| {
            let whence = Whence::from_raw(whence)?;
            // SAFETY: The VFS holds the file open during the call.
            let device = unsafe { Self::borrow(file) };
            // SAFETY: `file` is valid. Like C drivers, this reads and sets `f_pos` without a
            // lock; the VFS serialises position updates of files that need it.
            let pos = unsafe { (*file).f_pos };
            let new = T::llseek(device, pos, offset, whence)?;
            if new < 0 {
                return Err(EINVAL);
            }
            // SAFETY: As above.
            unsafe { (*file).f_pos = new };
            Ok(new)
        })
    }
}

#[macros::kunit_tests(rust_kernel_miscdevice)]
mod tests {
    use super::*;

    #[test]
    fn seek_bounds() {
        assert_eq!(seek_in_size(0, 0, Whence::Set, 4096), Ok(0));
        assert_eq!(seek_in_size(0, 4096, Whence::Set, 4096), Ok(4096));
        assert_eq!(seek_in_size(100, -100, Whence::Cur, 4096), Ok(0));
        assert_eq!(seek_in_size(100, -101, Whence::Cur, 4096), Err(EINVAL));
        assert_eq!(seek_in_size(0, 1, Whence::End, 4096), Err(EINVAL));
        assert_eq!(seek_in_size(i64::MAX, 1, Whence::Cur, 4096), Err(EINVAL));
        assert_eq!(seek_in_size(0, i64::MIN, Whence::End, 4096), Err(EINVAL));
    }

    #[test]
    fn seek_data_and_holes() {
        assert_eq!(seek_in_size(0, 10, Whence::Data, 4096), Ok(10));
        assert_eq!(seek_in_size(0, 10, Whence::Hole, 4096), Ok(4096));
        assert_eq!(seek_in_size(0, 4096, Whence::Data, 4096), Err(ENXIO));
        assert_eq!(seek_in_size(0, -1, Whence::Hole, 4096), Err(ENXIO));
    }

    #[test]
    fn whence_values() {
        assert_eq!(Whence::from_raw(0), Ok(Whence::Set));
        assert_eq!(Whence::from_raw(2), Ok(Whence::End));
        assert_eq!(Whence::from_raw(4), Ok(Whence::Hole));
        assert_eq!(Whence::from_raw(5), Err(EINVAL));
        assert_eq!(Whence::from_raw(-1), Err(EINVAL));
    }
}
