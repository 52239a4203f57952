// SPDX-License-Identifier: GPL-2.0

//! Memory-mapped I/O.
//!
//! An [`Io`] is a view of an I/O memory region that a bus driver mapped (for example a PCI BAR).
//! Its accessors read and write 8, 16, 32 and 64-bit values at an offset from the start of the
//! region, with the ordering guarantees of the C `readl()`/`writel()` family, or without them in
//! the `_relaxed` variants.
//!
//! Offsets are checked before every access, so no access can leave the region:
//!
//! - `read32(offset)` and friends take offsets known at compile time and check them at compile
//!   time against the minimum size `SIZE` the region is known to have; an offset that may be out
//!   of bounds fails the build.
//! - `try_read32(offset)` and friends take offsets known only at run time and check them against
//!   the actual size of the region, returning [`EINVAL`] when the access would not fit or is not
//!   naturally aligned.
//!
//! [`poll_timeout`] and [`poll_timeout_atomic`] wait for a condition on a register, like C's
//! `read_poll_timeout()` and `read_poll_timeout_atomic()`.
//!
//! C header: [`include/asm-generic/io.h`](srctree/include/asm-generic/io.h)

use crate::{
    bindings, build_assert,
    error::{code::*, Result},
    time::Ktime,
};

/// A physical or bus address, or the size of a resource (`resource_size_t`), whose width
/// depends on the architecture and configuration.
pub type ResourceSize = bindings::resource_size_t;

/// The raw address and size of an I/O memory region.
///
/// A bus abstraction that maps a region (e.g. a PCI BAR) keeps one of these and hands out
/// [`Io`] views of it.
///
/// # Invariants
///
/// `maxsize >= SIZE`.
#[derive(Clone, Copy, Debug)]
pub struct IoRaw<const SIZE: usize = 0> {
    addr: usize,
    maxsize: usize,
}

impl<const SIZE: usize> IoRaw<SIZE> {
    /// Describes the region of `maxsize` bytes that starts at `addr`.
    ///
    /// Fails with [`EINVAL`] if the region is smaller than `SIZE`, the size it is required to
    /// have at compile time.
    pub fn new(addr: usize, maxsize: usize) -> Result<Self> {
        if maxsize < SIZE {
            return Err(EINVAL);
        }
        // INVARIANT: `maxsize >= SIZE` was just checked.
        Ok(Self { addr, maxsize })
    }

    /// Returns the start address of the region.
    pub fn addr(&self) -> usize {
        self.addr
    }

    /// Returns the size of the region, in bytes.
    pub fn maxsize(&self) -> usize {
        self.maxsize
    }
}

/// A view of a mapped I/O memory region, with bounds-checked accessors.
///
/// `SIZE` is the size the region is known to have at compile time (e.g. the size of a device's
/// register block); the actual size, [`Io::maxsize`], may be larger.
///
/// # Invariants
///
/// The region described by the inner [`IoRaw`] is mapped I/O memory (or, for tests, memory that
/// the `readX`/`writeX` accessors may access), valid for as long as the [`Io`] is.
///
/// # Examples
///
/// On x86, the accessors work on ordinary memory too, which lets this example run without
/// hardware:
///
/// ```
/// use kernel::io::{Io, IoRaw};
///
/// let mut regs = KBox::new([0u32; 4], GFP_KERNEL)?;
/// let raw = IoRaw::<16>::new(regs.as_mut_ptr() as usize, 16)?;
/// // SAFETY: `regs` is valid memory for the lifetime of `io`, and only accessed through it.
/// let io = unsafe { Io::from_raw(&raw) };
///
/// io.write32(0xcafe_f00d, 4);
/// assert_eq!(io.read32(4), 0xcafe_f00d);
/// assert_eq!(io.read8(4), 0x0d);
///
/// // Offsets known only at run time are checked at run time.
/// let offset = 16;
/// assert_eq!(io.try_read32(offset), Err(EINVAL));
/// # Ok::<(), Error>(())
/// ```
#[repr(transparent)]
pub struct Io<const SIZE: usize = 0>(IoRaw<SIZE>);

macro_rules! define_read {
    ($(#[$attr:meta])* $name:ident, $try_name:ident, $c_fn:ident -> $type_name:ty) => {
        $(#[$attr])*
        /// Reads from an offset known at compile time; an offset that may not fit `SIZE` bytes
        /// fails the build.
        // Always inlined: the offset must be a constant where `build_assert!` checks it.
        #[inline(always)]
        pub fn $name(&self, offset: usize) -> $type_name {
            let addr = self.io_addr_assert::<$type_name>(offset);

            // SAFETY: By the type invariant `addr` is a valid address for MMIO operations.
            unsafe { bindings::$c_fn(addr as _) }
        }

        $(#[$attr])*
        /// Reads from an offset known at run time; fails with [`EINVAL`] if the access does not
        /// fit the region or is not naturally aligned.
        pub fn $try_name(&self, offset: usize) -> Result<$type_name> {
            let addr = self.io_addr::<$type_name>(offset)?;

            // SAFETY: By the type invariant `addr` is a valid address for MMIO operations.
            Ok(unsafe { bindings::$c_fn(addr as _) })
        }
    };
}

macro_rules! define_write {
    ($(#[$attr:meta])* $name:ident, $try_name:ident, $c_fn:ident <- $type_name:ty) => {
        $(#[$attr])*
        /// Writes to an offset known at compile time; an offset that may not fit `SIZE` bytes
        /// fails the build.
        // Always inlined: the offset must be a constant where `build_assert!` checks it.
        #[inline(always)]
        pub fn $name(&self, value: $type_name, offset: usize) {
            let addr = self.io_addr_assert::<$type_name>(offset);

            // SAFETY: By the type invariant `addr` is a valid address for MMIO operations.
            unsafe { bindings::$c_fn(value, addr as _) }
        }

        $(#[$attr])*
        /// Writes to an offset known at run time; fails with [`EINVAL`] if the access does not
        /// fit the region or is not naturally aligned.
        pub fn $try_name(&self, value: $type_name, offset: usize) -> Result {
            let addr = self.io_addr::<$type_name>(offset)?;

            // SAFETY: By the type invariant `addr` is a valid address for MMIO operations.
            unsafe { bindings::$c_fn(value, addr as _) }
            Ok(())
        }
    };
}

impl<const SIZE: usize> Io<SIZE> {
    /// Returns a view of the region described by `raw`.
    ///
    /// # Safety
    ///
    /// `raw` must describe a mapped I/O memory region that stays mapped for the lifetime `'a`,
    /// and that may be accessed with the C `readX()`/`writeX()` accessors.
    pub unsafe fn from_raw(raw: &IoRaw<SIZE>) -> &Self {
        // SAFETY: `Io` is a transparent wrapper around `IoRaw`; the caller guarantees the
        // region is valid for the returned lifetime, which establishes the type invariant.
        unsafe { &*core::ptr::from_ref(raw).cast::<Self>() }
    }

    /// Returns the start address of the region.
    #[inline]
    pub fn addr(&self) -> usize {
        self.0.addr()
    }

    /// Returns the size of the region, in bytes.
    #[inline]
    pub fn maxsize(&self) -> usize {
        self.0.maxsize()
    }

    /// Returns whether an access of type `U` at `offset` fits `size` bytes and is aligned.
    #[inline(always)]
    const fn offset_valid<U>(offset: usize, size: usize) -> bool {
        let type_size = core::mem::size_of::<U>();
        if let Some(end) = offset.checked_add(type_size) {
            end <= size && offset % type_size == 0
        } else {
            false
        }
    }

    #[inline]
    fn io_addr<U>(&self, offset: usize) -> Result<usize> {
        if !Self::offset_valid::<U>(offset, self.maxsize()) {
            return Err(EINVAL);
        }

        // Probably no need to check, since the safety requirements of `Self::new` guarantee that
        // this can't overflow.
        self.addr().checked_add(offset).ok_or(EINVAL)
    }

    #[inline(always)]
    fn io_addr_assert<U>(&self, offset: usize) -> usize {
        build_assert!(Self::offset_valid::<U>(offset, SIZE));

        self.addr() + offset
    }

    define_read!(read8, try_read8, readb -> u8);
    define_read!(read16, try_read16, readw -> u16);
    define_read!(read32, try_read32, readl -> u32);
    define_read!(
        #[cfg(CONFIG_64BIT)]
        read64,
        try_read64,
        readq -> u64
    );

    define_read!(read8_relaxed, try_read8_relaxed, readb_relaxed -> u8);
    define_read!(read16_relaxed, try_read16_relaxed, readw_relaxed -> u16);
    define_read!(read32_relaxed, try_read32_relaxed, readl_relaxed -> u32);
    define_read!(
        #[cfg(CONFIG_64BIT)]
        read64_relaxed,
        try_read64_relaxed,
        readq_relaxed -> u64
    );

    define_write!(write8, try_write8, writeb <- u8);
    define_write!(write16, try_write16, writew <- u16);
    define_write!(write32, try_write32, writel <- u32);
    define_write!(
        #[cfg(CONFIG_64BIT)]
        write64,
        try_write64,
        writeq <- u64
    );

    define_write!(write8_relaxed, try_write8_relaxed, writeb_relaxed <- u8);
    define_write!(write16_relaxed, try_write16_relaxed, writew_relaxed <- u16);
    define_write!(write32_relaxed, try_write32_relaxed, writel_relaxed <- u32);
    define_write!(
        #[cfg(CONFIG_64BIT)]
        write64_relaxed,
        try_write64_relaxed,
        writeq_relaxed <- u64
    );
}

/// Calls `op` until `cond` holds for its result, sleeping about `sleep_us` microseconds between
/// tries, for at most `timeout_us` microseconds: C's `read_poll_timeout()`.
///
/// Returns the first result that satisfies `cond`, the first error of `op`, or [`ETIMEDOUT`] if
/// the time runs out; `op` is tried once more after the deadline, as C does, so that a slow
/// wake-up does not cause a false timeout. As in C, a `timeout_us` of 0 means no timeout, and a
/// `sleep_us` of 0 polls without sleeping (this version still offers to reschedule between tries,
/// so that polling without a timeout cannot hog the CPU). The deadline is kept in nanoseconds.
///
/// It may sleep, and says so to the debug kernel (`might_sleep()`), whatever `sleep_us` is: call
/// [`poll_timeout_atomic`] in atomic context.
///
/// # Examples
///
/// ```
/// use kernel::io::poll_timeout;
///
/// let mut tries = 0;
/// let value = poll_timeout(
///     || {
///         tries += 1;
///         Ok(tries)
///     },
///     |&v| v == 3,
///     10,
///     1_000_000,
/// )?;
/// assert_eq!(value, 3);
///
/// // A condition that never holds times out.
/// assert_eq!(poll_timeout(|| Ok(0), |&v| v == 1, 100, 1_000), Err(ETIMEDOUT));
///
/// // No timeout: polls until the condition holds.
/// let mut tries = 0;
/// assert_eq!(poll_timeout(|| { tries += 1; Ok(tries) }, |&v| v == 50, 0, 0), Ok(50));
/// # Ok::<(), Error>(())
/// ```
pub fn poll_timeout<T>(
    op: impl FnMut() -> Result<T>,
    cond: impl Fn(&T) -> bool,
    sleep_us: u64,
    timeout_us: u64,
) -> Result<T> {
    might_sleep();
    poll_loop(op, cond, timeout_us, || {
        if sleep_us == 0 {
            // SAFETY: `cond_resched()` may be called from any sleepable context.
            unsafe { bindings::cond_resched() };
        } else {
            // CAST: the sleep is clamped to what `fsleep()` takes.
            let us = sleep_us.min(u64::from(u32::MAX)) as usize;
            // SAFETY: `fsleep()` may be called from any sleepable context.
            unsafe { bindings::fsleep(us) };
        }
    })
}

/// Calls `op` until `cond` holds for its result, busy-waiting `delay_us` microseconds between
/// tries, for at most `timeout_us` microseconds: C's `read_poll_timeout_atomic()`.
///
/// For atomic context (interrupt handlers, under a spinlock or an RCU read-side critical
/// section): it never sleeps. Results, errors and the meaning of 0 are as for [`poll_timeout`],
/// except that a `delay_us` of 0 spins without delay. Keep the timeout short.
///
/// # Examples
///
/// ```
/// use kernel::io::poll_timeout_atomic;
///
/// let mut tries = 0;
/// assert_eq!(poll_timeout_atomic(|| { tries += 1; Ok(tries) }, |&v| v == 4, 1, 1_000), Ok(4));
/// assert_eq!(poll_timeout_atomic(|| Ok(0), |&v| v == 1, 10, 100), Err(ETIMEDOUT));
/// ```
pub fn poll_timeout_atomic<T>(
    op: impl FnMut() -> Result<T>,
    cond: impl Fn(&T) -> bool,
    delay_us: u64,
    timeout_us: u64,
) -> Result<T> {
    poll_loop(op, cond, timeout_us, || {
        // `udelay()` is only accurate (and, on some architectures, only correct) for short
        // delays: a long one is made of milliseconds.
        let mut left = delay_us;
        while left > 0 {
            let step = left.min(1000);
            // CAST: `step` is at most 1000.
            // SAFETY: `udelay()` busy-waits and may be called from any context.
            unsafe { bindings::udelay(step as crate::ffi::c_ulong) };
            left -= step;
        }
    })
}

/// The loop of [`poll_timeout`] and [`poll_timeout_atomic`], which call `wait` between tries.
fn poll_loop<T>(
    mut op: impl FnMut() -> Result<T>,
    cond: impl Fn(&T) -> bool,
    timeout_us: u64,
    mut wait: impl FnMut(),
) -> Result<T> {
    let deadline = Deadline::after_us(timeout_us);
    loop {
        let value = op()?;
        if cond(&value) {
            return Ok(value);
        }
        if deadline.passed() {
            // One more try, so that a slow wake-up does not cause a false timeout.
            let value = op()?;
            return if cond(&value) {
                Ok(value)
            } else {
                Err(ETIMEDOUT)
            };
        }
        wait();
        core::hint::spin_loop();
    }
}

/// The end of a polling period in `ktime_get()` nanoseconds, or none (a timeout of 0).
struct Deadline(Option<i64>);

impl Deadline {
    fn after_us(timeout_us: u64) -> Self {
        if timeout_us == 0 {
            return Self(None);
        }
        let ns = i64::try_from(timeout_us.saturating_mul(1000)).unwrap_or(i64::MAX);
        let now = Ktime::ktime_get().to_ns();
        Self(Some(now.saturating_add(ns)))
    }

    fn passed(&self) -> bool {
        match self.0 {
            Some(end) => Ktime::ktime_get().to_ns() > end,
            None => false,
        }
    }
}

/// Tells the debug kernel that the caller may sleep (`might_sleep()`): with
/// `CONFIG_DEBUG_ATOMIC_SLEEP`, a call from atomic context is reported.
fn might_sleep() {
    // SAFETY: `might_sleep()` may be called from any context; it only checks and reports.
    unsafe { bindings::might_sleep() };
}

#[macros::kunit_tests(rust_kernel_io)]
mod tests {
    use super::*;
    use crate::prelude::*;

    /// A fake register block in ordinary memory, which the x86 accessors can access.
    fn regs() -> Result<KBox<[u64; 4]>> {
        Ok(KBox::new([0u64; 4], GFP_KERNEL)?)
    }

    #[test]
    fn compile_time_offsets() -> Result {
        let mut mem = regs()?;
        let raw = IoRaw::<32>::new(mem.as_mut_ptr() as usize, 32)?;
        // SAFETY: `mem` outlives `io` and is only accessed through it.
        let io = unsafe { Io::from_raw(&raw) };
        io.write8(0x12, 0);
        io.write16(0x3456, 2);
        io.write32(0x789a_bcde, 4);
        assert_eq!(io.read32(0), 0x3456_0012);
        assert_eq!(io.read16(6), 0x789a);
        io.write64(0x0102_0304_0506_0708, 24);
        assert_eq!(io.read64(24), 0x0102_0304_0506_0708);
        io.write32_relaxed(7, 28);
        assert_eq!(io.read32_relaxed(28), 7);
        assert_eq!(io.read8_relaxed(24), 8);
        Ok(())
    }

    #[test]
    fn run_time_offsets_are_checked() -> Result {
        let mut mem = regs()?;
        let raw = IoRaw::<0>::new(mem.as_mut_ptr() as usize, 32)?;
        // SAFETY: `mem` outlives `io` and is only accessed through it.
        let io = unsafe { Io::from_raw(&raw) };
        assert!(io.try_write32(1, 28).is_ok());
        assert_eq!(io.try_read32(28), Ok(1));
        // Past the end.
        assert_eq!(io.try_read32(32), Err(EINVAL));
        assert_eq!(io.try_read64(28), Err(EINVAL));
        assert_eq!(io.try_write8(0, 32), Err(EINVAL));
        // Misaligned.
        assert_eq!(io.try_read32(2), Err(EINVAL));
        assert_eq!(io.try_write16(0, 31), Err(EINVAL));
        // Overflowing offsets.
        assert_eq!(io.try_read8(usize::MAX), Err(EINVAL));
        assert_eq!(io.try_read64(usize::MAX - 7), Err(EINVAL));
        Ok(())
    }

    #[test]
    fn region_must_cover_size() {
        assert!(IoRaw::<64>::new(0x1000, 63).is_err());
        assert!(IoRaw::<64>::new(0x1000, 64).is_ok());
    }

    #[test]
    fn poll_errors_stop_polling() {
        let mut tries = 0;
        let r: Result<u32> = poll_timeout(
            || {
                tries += 1;
                if tries == 2 {
                    Err(EIO)
                } else {
                    Ok(0)
                }
            },
            |&v| v == 1,
            0,
            1_000_000,
        );
        assert_eq!(r, Err(EIO));
        assert_eq!(tries, 2);
    }
}
