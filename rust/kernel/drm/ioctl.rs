// SPDX-License-Identifier: GPL-2.0

//! DRM driver ioctls: a typed table of the ioctls a driver adds to the DRM core's.
//!
//! A driver's ioctls are numbered from `DRM_COMMAND_BASE` (0x40) on; user space calls them as
//! `DRM_IOWR(DRM_COMMAND_BASE + nr, struct ...)` (or `DRM_IOR`, `DRM_IOW`). The DRM core
//! (`drm_ioctl`) copies the argument in, calls the driver, and copies it back out; this module
//! builds the table it looks the driver up in ([`Driver::IOCTLS`]) from [`Handler`]s:
//!
//! - the ioctl number encodes the size of the handler's argument type, so the buffer the DRM
//!   core hands the handler always holds a whole argument: what user space did not pass is
//!   zeroes (an older, shorter struct), and what it passed beyond is ignored;
//! - the argument is a plain type ([`FromBytes`] and [`AsBytes`]: every bit pattern is a value,
//!   and no byte is padding, so nothing uninitialised goes back to user space); a uapi struct
//!   becomes one with [`drm_ioctl_arg!`](crate::drm_ioctl_arg), which proves both at compile
//!   time;
//! - the handler gets the device and the file of its own driver, and runs inside
//!   `drm_dev_enter`/`drm_dev_exit`: once the parent was unbound the ioctl fails with `ENODEV`
//!   and never reaches it, and an unbind waits for the handlers that are running.
//!
//! C header: [`include/drm/drm_ioctl.h`](srctree/include/drm/drm_ioctl.h)

use crate::{
    bindings,
    drm::{self, Device, Driver, File},
    error::Result,
    ioctl,
    prelude::*,
    str::CStr,
    types::{AsBytes, FromBytes},
};
use core::{
    ffi::{c_int, c_void},
    marker::PhantomData,
    mem,
};

/// Who may call an ioctl (`enum drm_ioctl_flags`); without any, every opener of the device
/// node may.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Flags(u32);

impl Flags {
    /// Anyone with the device open.
    pub const NONE: Flags = Flags(0);
    /// Only authenticated clients (`DRM_AUTH`).
    pub const AUTH: Flags = Flags(bindings::drm_ioctl_flags_DRM_AUTH);
    /// Only the DRM master, the client that owns the display (`DRM_MASTER`).
    pub const MASTER: Flags = Flags(bindings::drm_ioctl_flags_DRM_MASTER);
    /// Only `CAP_SYS_ADMIN` (`DRM_ROOT_ONLY`).
    pub const ROOT_ONLY: Flags = Flags(bindings::drm_ioctl_flags_DRM_ROOT_ONLY);
    /// Also through render nodes (`DRM_RENDER_ALLOW`); it changes nothing yet, since Rust DRM
    /// devices have no render nodes (`DRIVER_RENDER`).
    pub const RENDER_ALLOW: Flags = Flags(bindings::drm_ioctl_flags_DRM_RENDER_ALLOW);

    /// Both `self`'s and `other`'s restrictions.
    pub const fn with(self, other: Flags) -> Flags {
        Flags(self.0 | other.0)
    }
}

/// Which way an ioctl's argument is copied, named as in `_IOR`/`_IOW`: from user space's point
/// of view.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Dir {
    /// Copied out only (`_IOR`): the handler starts from zeroes.
    Read,
    /// Copied in only (`_IOW`): what the handler writes is not copied back.
    Write,
    /// Copied in and back out (`_IOWR`).
    ReadWrite,
}

/// An ioctl of driver `T`: its argument type and what it does.
///
/// [`drm_ioctls!`](crate::drm_ioctls) implements it for a function.
pub trait Handler<T: Driver> {
    /// The argument: a plain type that user space passes by pointer (usually a uapi struct
    /// wrapped by [`drm_ioctl_arg!`](crate::drm_ioctl_arg)).
    type Arg: FromBytes + AsBytes;

    /// Handles the ioctl on `dev`, called by a client that opened `file`, with the argument
    /// copied in (or zeroes). On success the ioctl returns 0, otherwise the error's errno
    /// (kernel-internal codes become `EINVAL`, and `ERESTARTSYS` without a signal pending
    /// `EINTR`); the argument is copied
    /// back out either way (for [`Dir::Read`] and [`Dir::ReadWrite`]).
    ///
    /// Runs in process context, inside `drm_dev_enter`: it may sleep, and the hardware of a
    /// `Devres` resource is there, but it delays an unbind for as long as it runs.
    fn handle(dev: &Device<T>, arg: &mut Self::Arg, file: &File<T::File>) -> Result;
}

/// One entry of a driver's ioctl table (`struct drm_ioctl_desc`).
///
/// # Invariants
///
/// `desc.func` is `dispatch::<T, H>` for a `H: Handler<T>`, `desc.cmd` is the ioctl number of
/// `H::Arg` (its size is `size_of::<H::Arg>()`), and `desc.name` is a `'static` C string.
#[repr(transparent)]
pub struct Desc<T: Driver> {
    desc: bindings::drm_ioctl_desc,
    _p: drm::Invariant<T>,
}

// SAFETY: A `Desc` is immutable; its name is a `'static` C string.
unsafe impl<T: Driver> Sync for Desc<T> {}

/// The number of driver ioctls (`DRM_COMMAND_BASE..DRM_COMMAND_END`).
pub const MAX_IOCTLS: usize = (bindings::DRM_COMMAND_END - bindings::DRM_COMMAND_BASE) as usize;

impl<T: Driver> Desc<T> {
    /// The ioctl `NR` (counted from `DRM_COMMAND_BASE`) handled by `H`, called `name` in the
    /// DRM core's debug log, restricted by `flags`.
    ///
    /// `NR` must be below [`MAX_IOCTLS`], and `H::Arg` between 1 byte and 16 KiB - 1 (what an
    /// ioctl number can encode), aligned to at most 8 bytes: checked at compile time, so that a
    /// bad entry does not build (and `new` cannot panic).
    pub const fn new<H: Handler<T>, const NR: u32>(
        dir: Dir,
        flags: Flags,
        name: &'static CStr,
    ) -> Self {
        #[allow(clippy::let_unit_value)]
        let () = Limits::<H::Arg, NR>::OK;
        let ty = bindings::DRM_IOCTL_BASE as u32;
        let nr = bindings::DRM_COMMAND_BASE + NR;
        let cmd = match dir {
            Dir::Read => ioctl::_IOR::<H::Arg>(ty, nr),
            Dir::Write => ioctl::_IOW::<H::Arg>(ty, nr),
            Dir::ReadWrite => ioctl::_IOWR::<H::Arg>(ty, nr),
        };
        // INVARIANT: `cmd` encodes `size_of::<H::Arg>()`, `func` is `dispatch::<T, H>`.
        Desc {
            desc: bindings::drm_ioctl_desc {
                cmd,
                flags: flags.0,
                func: Some(dispatch::<T, H>),
                name: name.as_char_ptr(),
            },
            _p: PhantomData,
        }
    }

    /// The ioctl number user space calls it with (`DRM_IOCTL_*`).
    pub const fn cmd(&self) -> u32 {
        self.desc.cmd
    }
}

/// The size of a field type of [`drm_ioctl_arg!`](crate::drm_ioctl_arg), which must be plain.
#[doc(hidden)]
pub const fn __plain_size<F: FromBytes + AsBytes>() -> usize {
    mem::size_of::<F>()
}

/// Fails (at compile time, in [`drm_ioctl_arg!`](crate::drm_ioctl_arg)) unless the fields'
/// sizes add up to the struct's.
#[doc(hidden)]
pub const fn __assert_no_padding<S>(fields: usize) {
    assert!(
        fields == mem::size_of::<S>(),
        "the struct has padding: spell it out as fields"
    );
}

/// The compile-time limits of an entry: ioctl `NR` with an argument of type `A`.
struct Limits<A, const NR: u32>(PhantomData<A>);

impl<A, const NR: u32> Limits<A, NR> {
    const OK: () = {
        assert!(
            (NR as usize) < MAX_IOCTLS,
            "a driver has at most 96 ioctls (0..=0x5f)"
        );
        assert!(
            mem::size_of::<A>() > 0,
            "an ioctl argument must have a size"
        );
        // `drm_ioctl`'s buffer is on its stack or from `kmalloc`: 8 bytes is what both give.
        assert!(
            mem::align_of::<A>() <= 8,
            "an ioctl argument must not need more than 8-byte alignment"
        );
        assert!(
            mem::size_of::<A>() <= uapi::_IOC_SIZEMASK as usize,
            "an ioctl argument must be smaller than 16 KiB"
        );
    };
}

/// Checks a driver's table: at most [`MAX_IOCTLS`] entries, entry `i` being ioctl `i` (the DRM
/// core looks ioctl `nr` up at index `nr`). Evaluated at compile time for every
/// [`Driver::IOCTLS`].
pub(crate) const fn check_table<T: Driver>(table: &[Desc<T>]) {
    assert!(table.len() <= MAX_IOCTLS, "a driver has at most 96 ioctls");
    let mut i = 0;
    while i < table.len() {
        assert!(
            ioctl::_IOC_NR(table[i].desc.cmd) - bindings::DRM_COMMAND_BASE == i as u32,
            "a driver's ioctl table must list ioctls 0, 1, 2, ... in that order"
        );
        i += 1;
    }
}

/// `drm_ioctl_desc.func` of the entries `Desc::new::<H>` makes.
///
/// # Safety
///
/// Called by `drm_ioctl` for an entry of `T::IOCTLS` with a device of `T`, a file open on it,
/// and `data` pointing to the argument buffer: at least `_IOC_SIZE` of the entry's `cmd` bytes,
/// all initialised (copied from user space or zeroed), used by nothing else until this returns.
unsafe extern "C" fn dispatch<T: Driver, H: Handler<T>>(
    dev: *mut bindings::drm_device,
    data: *mut c_void,
    file: *mut bindings::drm_file,
) -> c_int {
    // SAFETY: By the safety requirements `dev` is a live device of `T`; it lives at least as
    // long as the open file the ioctl is called on.
    let dev = unsafe { Device::<T>::from_raw(dev) };
    // SAFETY: By the safety requirements `file` is open on `dev`, so its `driver_priv` is the
    // `T::File` made when it was opened; it stays open while the ioctl runs.
    let file = unsafe { File::<T::File>::from_raw(file) };
    let arg = data.cast::<H::Arg>();
    if arg as usize % mem::align_of::<H::Arg>() != 0 {
        // `drm_ioctl` passes a buffer on its stack or from `kmalloc`, both aligned for the
        // plain integer types of uapi structs; refuse rather than misread one that is not.
        return EINVAL.to_errno();
    }
    // SAFETY: By the type invariants of `Desc`, the entry's `cmd` encodes the size of
    // `H::Arg`, so by the safety requirements `arg` points to that many initialised bytes that
    // nothing else uses while the reference lives; it is aligned (checked above), and every bit
    // pattern is a valid `H::Arg` (`FromBytes`).
    let arg = unsafe { &mut *arg };
    match dev.enter(|| H::handle(dev, arg, file)) {
        Some(Ok(())) => 0,
        // `ERESTARTSYS` restarts the call after a signal, so it stands only with one pending
        // (`EINTR` otherwise); the other kernel-internal codes (from 512 on: `EPROBE_DEFER`,
        // `ENOIOCTLCMD`, the other restarts) must not reach user space.
        Some(Err(e)) if e == ERESTARTSYS && !crate::current!().signal_pending() => EINTR.to_errno(),
        Some(Err(e)) if e.to_errno() <= -512 && e != ERESTARTSYS => EINVAL.to_errno(),
        Some(Err(e)) => e.to_errno(),
        None => ENODEV.to_errno(),
    }
}

/// Makes a driver's ioctl table: a `&'static [Desc<Driver>]` for [`Driver::IOCTLS`].
///
/// Each entry is `(NAME, nr, Dir, Arg, handler, flags)`: the ioctl `nr` (0, 1, 2, ... in
/// order; user space adds `DRM_COMMAND_BASE`), called `DRM_IOCTL_NAME` in the DRM core's
/// debug log, copied in the direction [`Dir`] with an argument of type `Arg`, handled by
/// `handler` (a function `fn(&Device<Driver>, &mut Arg, &File<Driver::File>) -> Result`, named
/// by its path: `Self` does not name the driver inside the macro), and restricted by `flags`
/// ([`Flags`]).
///
/// # Examples
///
/// ```
/// use kernel::{c_str, drm, drm::ioctl::{Dir, Flags}, prelude::*, ThisModule};
///
/// kernel::drm_ioctl_arg! {
///     /// The argument of the example's ioctl 0: a rectangle to normalise.
///     pub struct Rect(kernel::uapi::drm_mode_rect) { x1: i32, y1: i32, x2: i32, y2: i32 }
/// }
///
/// struct MyDriver;
/// struct MyFile;
///
/// impl drm::DriverFile for MyFile {
///     type Driver = MyDriver;
///
///     fn open(_dev: &drm::Device<MyDriver>) -> Result<Pin<KBox<Self>>> {
///         Ok(KBox::pin(MyFile, GFP_KERNEL)?)
///     }
/// }
///
/// impl MyDriver {
///     fn normalise(_: &drm::Device<Self>, r: &mut Rect, _: &drm::File<MyFile>) -> Result {
///         (r.x1, r.x2) = (r.x1.min(r.x2), r.x1.max(r.x2));
///         (r.y1, r.y2) = (r.y1.min(r.y2), r.y1.max(r.y2));
///         Ok(())
///     }
///
///     fn check(_: &drm::Device<Self>, v: &mut u64, _: &drm::File<MyFile>) -> Result {
///         if *v > 100 { Err(EINVAL) } else { Ok(()) }
///     }
/// }
///
/// impl drm::Driver for MyDriver {
///     type Data = ();
///     type File = MyFile;
///     const INFO: drm::DriverInfo = drm::DriverInfo {
///         major: 1,
///         minor: 0,
///         patchlevel: 0,
///         name: c_str!("my-drm"),
///         desc: c_str!("an example"),
///         date: c_str!("20261204"),
///     };
///     const OWNER: &'static ThisModule = {
///         // SAFETY: Doctests are built into the kernel image, whose `THIS_MODULE` is NULL.
///         &unsafe { ThisModule::from_ptr(core::ptr::null_mut()) }
///     };
///     const IOCTLS: &'static [drm::ioctl::Desc<Self>] = kernel::drm_ioctls!(MyDriver;
///         (MY_NORMALISE, 0, ReadWrite, Rect, MyDriver::normalise, Flags::NONE),
///         (MY_CHECK, 1, Write, u64, MyDriver::check, Flags::AUTH.with(Flags::RENDER_ALLOW)),
///     );
/// }
///
/// // DRM_IOWR(DRM_COMMAND_BASE + 0, struct drm_mode_rect), DRM_IOW(DRM_COMMAND_BASE + 1, __u64)
/// let ioctls = <MyDriver as drm::Driver>::IOCTLS;
/// assert_eq!(ioctls.len(), 2);
/// assert_eq!(ioctls[0].cmd(), 0xc010_6440);
/// assert_eq!(ioctls[1].cmd(), 0x4008_6441);
/// ```
#[macro_export]
macro_rules! drm_ioctls {
    ($driver:ty; $(($name:ident, $nr:expr, $dir:ident, $arg:ty, $handler:expr, $flags:expr)),*
     $(,)?) => {
        &[$({
            struct Entry;

            impl $crate::drm::ioctl::Handler<$driver> for Entry {
                type Arg = $arg;

                fn handle(
                    dev: &$crate::drm::Device<$driver>,
                    arg: &mut $arg,
                    file: &$crate::drm::File<<$driver as $crate::drm::Driver>::File>,
                ) -> $crate::error::Result {
                    $handler(dev, arg, file)
                }
            }

            $crate::drm::ioctl::Desc::<$driver>::new::<Entry, { $nr }>(
                $crate::drm::ioctl::Dir::$dir,
                $flags,
                $crate::c_str!(concat!("DRM_IOCTL_", stringify!($name))),
            )
        }),*]
    };
}

/// Makes a uapi struct an ioctl argument: declares `struct Name(pub Uapi)`, transparent, which
/// dereferences to the uapi struct and is [`FromBytes`] and [`AsBytes`].
///
/// The fields are listed with their types, and the macro proves at compile time what makes that
/// sound: the list names every field of the struct once (an exhaustive pattern), with its exact
/// type (a raw pointer to it, which does not coerce); each type is itself plain (integers and
/// arrays of them); and the sizes add up to the struct's, so it has no padding. A struct with a
/// hole (`__u32` before a `__u64`), a pointer, a `bool`, a union, a nested struct or a flexible
/// array fails to compile; spell out the hole as a field (`__u32 pad;`) in the uapi header.
/// Only doc comments may precede the struct.
///
/// # Examples
///
/// ```
/// kernel::drm_ioctl_arg! {
///     /// A rectangle.
///     pub struct Rect(kernel::uapi::drm_mode_rect) { x1: i32, y1: i32, x2: i32, y2: i32 }
/// }
///
/// let mut r = Rect(kernel::uapi::drm_mode_rect { x1: 1, y1: 2, x2: 3, y2: 4 });
/// r.x2 += 1;
/// assert_eq!((r.x1, r.x2), (1, 4));
/// ```
#[macro_export]
macro_rules! drm_ioctl_arg {
    ($(#[doc = $doc:expr])* $vis:vis struct $name:ident($uapi:path) {
        $($field:ident: $fty:ty),+ $(,)?
    }) => {
        $(#[doc = $doc])*
        #[repr(transparent)]
        $vis struct $name(pub $uapi);

        const _: () = {
            // `$name` is the struct above (only doc attributes are taken: a `cfg` could leave
            // it out and let the impls below land on another type of that name).
            let _: fn($uapi) -> $name = $name;
            // Every field of `$uapi` is listed, once: the pattern is exhaustive, a field cannot
            // appear twice in it, and a union's fields cannot be bound outside `unsafe`.
            #[allow(dead_code, clippy::let_unit_value)]
            fn fields(arg: &$uapi) {
                let $uapi { $($field),+ } = arg;
                let _ = ($($field,)+);
            }
            // With exactly the listed types: raw pointers do not coerce to another pointee.
            // (The proof names nothing through `::core`, which a driver crate could rebind
            // with `extern crate ... as core`: `&raw` is syntax, the rest is `$crate`'s.)
            #[allow(dead_code)]
            fn types(arg: &$uapi) {
                $(let _: *const $fty = &raw const arg.$field;)+
            }
            $crate::drm::ioctl::__assert_no_padding::<$uapi>(
                0 $(+ $crate::drm::ioctl::__plain_size::<$fty>())+
            );
        };

        // SAFETY: `$name` is a transparent `$uapi`, whose fields (checked above: all of them,
        // with these types) are plain integers or arrays of them, so every bit pattern is a
        // value and there is no interior mutability; their sizes add up to the struct's, so no
        // byte is padding.
        unsafe impl $crate::types::FromBytes for $name {}
        // SAFETY: As above.
        unsafe impl $crate::types::AsBytes for $name {}

        impl ::core::ops::Deref for $name {
            type Target = $uapi;

            fn deref(&self) -> &$uapi {
                &self.0
            }
        }

        impl ::core::ops::DerefMut for $name {
            fn deref_mut(&mut self) -> &mut $uapi {
                &mut self.0
            }
        }
    };
}
