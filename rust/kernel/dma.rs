// SPDX-License-Identifier: GPL-2.0

//! Direct memory access (DMA): device address masks, coherent allocations and pools.
//!
//! A device that can master the bus implements [`Device`]. In `probe`, its driver tells the
//! kernel which addresses the device can reach with [`Device::dma_set_mask_and_coherent`] (for
//! example 28 bits for QEMU's `edu`), then allocates memory that the CPU and the device share
//! with [`CoherentAllocation::alloc_coherent`], which takes the bound device
//! (`&device::Device<Bound>`): DMA memory can only be allocated for a device that a driver
//! controls. The allocation knows both of its addresses: the CPU reads and writes it through its
//! methods, and the driver programs the device with [`CoherentAllocation::dma_handle`]. It is
//! freed when dropped.
//!
//! A [`CoherentAllocation`] can be sent to another thread but not shared between threads
//! (it is not `Sync`): two threads writing the same element would race, and volatile accesses do
//! not make that defined. Put it behind a lock to share it. A driver frees it by the time its
//! device is unbound (keep it in the driver's data, or behind a lock it empties on unbind), and
//! only once the device can no longer access it.
//!
//! C header: [`include/linux/dma-mapping.h`](srctree/include/linux/dma-mapping.h)

use crate::{
    alloc::Flags,
    bindings, build_assert,
    device::{self, Bound, BoundContext},
    devres::Devres,
    error::{to_result, Result},
    prelude::*,
    sync::Arc,
    types::{ARef, AsBytes, FromBytes},
};
use core::{
    marker::PhantomData,
    sync::atomic::{AtomicUsize, Ordering},
};

/// An address as the device sees it (`dma_addr_t`).
pub type DmaAddress = bindings::dma_addr_t;

/// Orders the CPU's earlier reads of coherent memory before its later ones (`dma_rmb()`).
///
/// For memory the device writes: read a descriptor's "done" flag, then this barrier, then the
/// rest of the descriptor, which the device wrote before the flag.
///
/// # Examples
///
/// ```
/// use kernel::dma::{dma_rmb, dma_wmb, mb};
///
/// // The barriers only order accesses; they take no arguments and cannot fail.
/// dma_wmb();
/// dma_rmb();
/// mb();
/// ```
#[inline]
pub fn dma_rmb() {
    // SAFETY: `dma_rmb()` only orders memory accesses.
    unsafe { bindings::dma_rmb() }
}

/// Orders the CPU's earlier writes to coherent memory before its later ones, as the device sees
/// them (`dma_wmb()`).
///
/// For memory the device reads: fill a descriptor, then this barrier, then the write that
/// hands it over (an index or a flag in coherent memory). Before a doorbell in MMIO space
/// nothing is needed: MMIO writes (`writel`) are ordered after earlier writes to memory.
#[inline]
pub fn dma_wmb() {
    // SAFETY: `dma_wmb()` only orders memory accesses.
    unsafe { bindings::dma_wmb() }
}

/// A full barrier (`mb()`): every earlier read and write of memory, coherent or not, before
/// every later one, as devices see them too.
///
/// Needed where a write must be visible before a later read, which the weaker barriers do not
/// order: for example a shadow doorbell written to memory, then the event index the device
/// wrote read back.
#[inline]
pub fn mb() {
    // SAFETY: `mb()` only orders memory accesses.
    unsafe { bindings::mb() }
}

/// The addresses a device can reach: a mask of the low `n` bits (`DMA_BIT_MASK(n)`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct DmaMask(u64);

impl DmaMask {
    /// Returns the mask of the low `N` bits, checked at compile time.
    ///
    /// # Examples
    ///
    /// ```
    /// use kernel::dma::DmaMask;
    ///
    /// assert_eq!(DmaMask::new::<28>().value(), 0x0fff_ffff);
    /// assert_eq!(DmaMask::new::<64>().value(), u64::MAX);
    /// ```
    #[inline(always)]
    pub const fn new<const N: u32>() -> Self {
        build_assert!(N <= 64, "a DMA mask has at most 64 bits");
        Self::mask(N)
    }

    /// Returns the mask of the low `bits` bits, or `EINVAL` if `bits` is more than 64.
    ///
    /// # Examples
    ///
    /// ```
    /// use kernel::dma::DmaMask;
    ///
    /// assert_eq!(DmaMask::try_new(32)?.value(), 0xffff_ffff);
    /// assert_eq!(DmaMask::try_new(0)?.value(), 0);
    /// assert_eq!(DmaMask::try_new(65), Err(EINVAL));
    /// # Ok::<(), Error>(())
    /// ```
    pub const fn try_new(bits: u32) -> Result<Self> {
        if bits > 64 {
            return Err(EINVAL);
        }
        Ok(Self::mask(bits))
    }

    const fn mask(bits: u32) -> Self {
        if bits == 64 {
            Self(u64::MAX)
        } else {
            Self((1u64 << bits) - 1)
        }
    }

    /// Returns the mask as a number.
    pub const fn value(self) -> u64 {
        self.0
    }
}

/// A device that can do DMA.
///
/// # Safety
///
/// [`Device::as_dma_device`] must return the `struct device` of a device whose bus has set up
/// its DMA parameters (`dma_mask` points to storage that lives as long as the device), and which
/// is bound to the driver that holds `self` (it is probing or bound), so that DMA memory is only
/// allocated for a device a driver controls.
pub unsafe trait Device {
    /// Returns the generic device.
    fn as_dma_device(&self) -> &device::Device;

    /// Sets the mask of addresses the device can reach in streaming DMA.
    ///
    /// Fails if the platform cannot give the device memory within the mask (the DMA core says
    /// `EIO`), with the errno it gets.
    fn dma_set_mask(&self, mask: DmaMask) -> Result {
        // SAFETY: By the trait's safety requirements the device's `dma_mask` is set up.
        to_result(unsafe { bindings::ei_dma_set_mask(self.as_dma_device().as_raw(), mask.value()) })
    }

    /// Sets the mask of addresses the device can reach in coherent allocations.
    fn dma_set_coherent_mask(&self, mask: DmaMask) -> Result {
        // SAFETY: As above.
        to_result(unsafe {
            bindings::ei_dma_set_coherent_mask(self.as_dma_device().as_raw(), mask.value())
        })
    }

    /// Sets the largest segment the device takes in one entry of a streaming mapping
    /// (`dma_set_max_seg_size()`; 64 KiB until set). Fails with `EIO` if the bus keeps no DMA
    /// parameters for the device.
    fn dma_set_max_seg_size(&self, size: u32) -> Result {
        // SAFETY: By the trait's safety requirements the device is set up for DMA; the call only
        // writes its `dma_parms`.
        to_result(unsafe { bindings::dma_set_max_seg_size(self.as_dma_device().as_raw(), size) })
    }

    /// Sets both the streaming and the coherent mask (`dma_set_mask_and_coherent()`).
    fn dma_set_mask_and_coherent(&self, mask: DmaMask) -> Result {
        self.dma_set_mask(mask)?;
        self.dma_set_coherent_mask(mask)
    }
}

#[cfg(CONFIG_PCI)]
// SAFETY: The PCI core points `dma_mask` of every PCI device at the device's own `dma_mask`
// field; a `pci::Device` in the `Core` or `Bound` context is probing or bound to its driver.
unsafe impl<Ctx: BoundContext> Device for crate::pci::Device<Ctx> {
    fn as_dma_device(&self) -> &device::Device {
        self.as_normal()
    }
}

/// Attributes of a DMA allocation (`DMA_ATTR_*`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Attrs(u32);

impl Attrs {
    /// No attributes.
    pub const NONE: Attrs = Attrs(0);
    /// Do not warn when the allocation fails.
    pub const NO_WARN: Attrs = Attrs(bindings::DMA_ATTR_NO_WARN);
    /// The CPU may map the memory write-combined.
    pub const WRITE_COMBINE: Attrs = Attrs(bindings::DMA_ATTR_WRITE_COMBINE);
}

impl core::ops::BitOr for Attrs {
    type Output = Attrs;

    fn bitor(self, rhs: Attrs) -> Attrs {
        Attrs(self.0 | rhs.0)
    }
}

/// A coherent allocation as the C side knows it, freed when dropped.
///
/// # Invariants
///
/// `cpu_addr` is a `dma_alloc_attrs()` allocation of `size` bytes for `dev` with `attrs`, at
/// device address `dma_handle`, until `self` is dropped.
struct RawAllocation {
    dev: ARef<device::Device>,
    cpu_addr: *mut core::ffi::c_void,
    dma_handle: DmaAddress,
    size: usize,
    attrs: Attrs,
}

// SAFETY: `RawAllocation` only owns the allocation; `dma_free_attrs()` may be called from any
// thread that may sleep.
unsafe impl Send for RawAllocation {}

// SAFETY: `&RawAllocation` gives access to nothing: the memory is accessed by
// `CoherentAllocation` through its own pointer.
unsafe impl Sync for RawAllocation {}

impl Drop for RawAllocation {
    fn drop(&mut self) {
        // SAFETY: By the type invariant the memory was allocated with exactly these parameters
        // and is freed only here; the device is still bound (this runs on unbind at the latest),
        // so its DMA configuration (e.g. its IOMMU domain) is still the one it was allocated
        // with.
        unsafe {
            bindings::dma_free_attrs(
                self.dev.as_raw(),
                self.size,
                self.cpu_addr,
                self.dma_handle,
                // CAST: `DMA_ATTR_*` flags fit the C `unsigned long`.
                self.attrs.0 as _,
            )
        };
    }
}

/// Memory shared by the CPU and a device: `count` values of type `T`.
///
/// The CPU side is accessed through [`read`](Self::read) and [`write`](Self::write), which are
/// volatile (the device may change the memory at any time), or, when the driver knows that the
/// device leaves a range alone, through the unsafe [`with_slice`](Self::with_slice) and
/// [`with_slice_mut`](Self::with_slice_mut). The device side is
/// [`dma_handle`](Self::dma_handle).
///
/// The memory is freed when the allocation is dropped, or when its device is unbound, whichever
/// comes first: freeing it later would hand it back through a DMA configuration (an IOMMU
/// domain, say) that is gone. After unbind, accesses fail with `ENXIO`.
///
/// It is [`Send`] but not [`Sync`]: the element accessors take `&self`, so sharing one
/// allocation between threads would let them race on an element; wrap it in a lock instead.
///
/// # Invariants
///
/// While `raw` is accessible, `cpu_addr` points to `count` values of `T` (at least one) of the
/// allocation it owns, at device address `dma_handle`.
///
/// # Examples
///
/// ```no_run
/// use kernel::{dma::{self, CoherentAllocation, DmaMask}, pci, prelude::*};
///
/// fn setup(pdev: &pci::Device<pci::Core>) -> Result<CoherentAllocation<u32>> {
///     use dma::Device;
///
///     pdev.dma_set_mask_and_coherent(DmaMask::new::<32>())?;
///     // A `&pci::Device<Core>` dereferences to the bound generic device.
///     let ring = CoherentAllocation::<u32>::alloc_coherent(pdev, 256, GFP_KERNEL)?;
///     ring.write(0, 0xdead_beef)?;
///     pr_info!("ring at {:#x}\n", ring.dma_handle());
///     Ok(ring)
/// }
/// ```
pub struct CoherentAllocation<T: AsBytes + FromBytes> {
    raw: Devres<RawAllocation>,
    dma_handle: DmaAddress,
    count: usize,
    cpu_addr: *mut T,
}

// SAFETY: The allocation may be accessed and freed from any thread; moving it moves the only
// handle to the `T`s it holds.
unsafe impl<T: AsBytes + FromBytes + Send> Send for CoherentAllocation<T> {}

impl<T: AsBytes + FromBytes> CoherentAllocation<T> {
    /// Allocates `count` values of `T` for `dev`, with attributes `attrs`.
    ///
    /// The memory is zeroed. Fails with `EINVAL` for a zero `count` or one whose size overflows
    /// (or comes within a page of `isize::MAX` bytes),
    /// with `EIO` if the device has no coherent DMA mask (its bus does not do DMA), and with
    /// `ENOMEM` if no memory within the device's coherent mask is free (quietly: the size may
    /// come from user space).
    pub fn alloc_attrs(
        dev: &device::Device<Bound>,
        count: usize,
        flags: Flags,
        attrs: Attrs,
    ) -> Result<Self> {
        build_assert!(
            core::mem::size_of::<T>() > 0,
            "a coherent allocation of a zero-sized type is not supported"
        );
        if count == 0 {
            return Err(EINVAL);
        }
        let size = count.checked_mul(core::mem::size_of::<T>()).ok_or(EINVAL)?;
        // The C side rounds the size up to pages, and slices may not exceed `isize::MAX` bytes.
        // CAST: `isize::MAX` is positive.
        if size > isize::MAX as usize - crate::page::PAGE_SIZE {
            return Err(EINVAL);
        }
        // SAFETY: `dev` is a valid device; the mask is only read.
        if unsafe { (*dev.as_raw()).coherent_dma_mask } == 0 {
            return Err(EIO);
        }
        let mut dma_handle: DmaAddress = 0;
        // SAFETY: `dev` is bound to the caller's driver, which may allocate DMA memory for it,
        // and has a coherent mask; `dma_handle` is valid for writes.
        let cpu_addr = unsafe {
            bindings::ei_dma_alloc_attrs(
                dev.as_raw(),
                size,
                &mut dma_handle,
                flags.as_raw() | bindings::__GFP_ZERO | bindings::__GFP_NOWARN,
                // CAST: `DMA_ATTR_*` flags fit the C `unsigned long`.
                attrs.0 as _,
            )
        };
        if cpu_addr.is_null() {
            return Err(ENOMEM);
        }
        // INVARIANT: The memory was just allocated with these parameters.
        let raw = RawAllocation {
            dev: dev.into(),
            cpu_addr,
            dma_handle,
            size,
            attrs,
        };
        // INVARIANT: `raw` owns the allocation at `cpu_addr`; on failure it was freed.
        Ok(Self {
            raw: Devres::new(dev, raw, flags)?,
            dma_handle,
            count,
            cpu_addr: cpu_addr.cast(),
        })
    }

    /// Allocates `count` values of `T` for `dev` (`dma_alloc_coherent()`).
    pub fn alloc_coherent(dev: &device::Device<Bound>, count: usize, flags: Flags) -> Result<Self> {
        Self::alloc_attrs(dev, count, flags, Attrs::NONE)
    }

    /// Returns the number of values of `T` in the allocation.
    pub fn count(&self) -> usize {
        self.count
    }

    /// Returns the size of the allocation in bytes.
    pub fn size(&self) -> usize {
        // No overflow: the allocation succeeded with this size.
        self.count * core::mem::size_of::<T>()
    }

    /// Returns the device address of the first value.
    pub fn dma_handle(&self) -> DmaAddress {
        self.dma_handle
    }

    /// Returns the device address of value `index`, or `EINVAL` if it is out of bounds.
    pub fn dma_handle_at(&self, index: usize) -> Result<DmaAddress> {
        if index >= self.count {
            return Err(EINVAL);
        }
        // CAST: `index * size_of::<T>()` is less than the size of the allocation, which fits
        // the device's address space.
        Ok(self.dma_handle + (index * core::mem::size_of::<T>()) as DmaAddress)
    }

    /// Checks that `count` values starting at `index` lie inside the allocation.
    fn check_range(&self, index: usize, count: usize) -> Result {
        match index.checked_add(count) {
            Some(end) if end <= self.count => Ok(()),
            _ => Err(EINVAL),
        }
    }

    /// Calls `f` with a pointer to `count` values at `index`, while the memory is not freed.
    ///
    /// Fails with `EINVAL` if the range is out of bounds, and with `ENXIO` once the device was
    /// unbound (and the memory freed). `f` runs in an RCU read-side critical section.
    fn with_range<R>(&self, index: usize, count: usize, f: impl FnOnce(*mut T) -> R) -> Result<R> {
        self.check_range(index, count)?;
        let _guard = self.raw.try_access().ok_or(ENXIO)?;
        // SAFETY: The range is in bounds, so by the type invariant (`raw` is accessible while
        // the guard lives) the pointer is inside the allocation.
        Ok(f(unsafe { self.cpu_addr.add(index) }))
    }

    /// Reads value `index` (a volatile read).
    ///
    /// Fails with `EINVAL` if it is out of bounds and `ENXIO` after unbind.
    pub fn read(&self, index: usize) -> Result<T> {
        // SAFETY: The pointer is valid and aligned while `f` runs (see `with_range`); every bit
        // pattern is a valid `T` (`FromBytes`).
        self.with_range(index, 1, |p| unsafe { p.read_volatile() })
    }

    /// Writes `value` at `index` (a volatile write).
    ///
    /// Fails with `EINVAL` if it is out of bounds and `ENXIO` after unbind.
    pub fn write(&self, index: usize, value: T) -> Result {
        // SAFETY: The pointer is valid for writes and aligned while `f` runs (see
        // `with_range`); `self` is not shared with other threads (it is not `Sync`).
        self.with_range(index, 1, |p| unsafe { p.write_volatile(value) })
    }

    /// Writes `values` from `index` on (volatile writes). Fails with `EINVAL`, having written
    /// nothing, if they do not fit, and with `ENXIO` after unbind.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use kernel::{dma::CoherentAllocation, prelude::*, uaccess::UserSlice};
    ///
    /// /// Copies a command of up to 64 bytes from user space into the device's buffer, and
    /// /// reads back what the device answered.
    /// fn exchange(buf: &CoherentAllocation<u8>, addr: usize, len: usize) -> Result<[u8; 64]> {
    ///     let mut cmd = [0u8; 64];
    ///     let len = len.min(cmd.len());
    ///     UserSlice::new(addr, len).reader().read_slice(&mut cmd[..len])?;
    ///     buf.write_from(0, &cmd[..len])?;
    ///     // ... the device runs the command ...
    ///     buf.read_into(0, &mut cmd)?;
    ///     Ok(cmd)
    /// }
    /// ```
    pub fn write_from(&self, index: usize, values: &[T]) -> Result
    where
        T: Copy,
    {
        self.with_range(index, values.len(), |p| {
            for (i, v) in values.iter().enumerate() {
                // SAFETY: `p` points to `values.len()` values of the allocation while `f` runs
                // (see `with_range`); `self` is not shared with other threads (not `Sync`).
                unsafe { p.add(i).write_volatile(*v) };
            }
        })
    }

    /// Reads `out.len()` values from `index` on into `out` (volatile reads). Fails with
    /// `EINVAL`, having read nothing, if they are out of bounds, and with `ENXIO` after unbind.
    pub fn read_into(&self, index: usize, out: &mut [T]) -> Result
    where
        T: Copy,
    {
        self.with_range(index, out.len(), |p| {
            for (i, o) in out.iter_mut().enumerate() {
                // SAFETY: As in `write_from`; every bit pattern is a valid `T` (`FromBytes`).
                *o = unsafe { p.add(i).read_volatile() };
            }
        })
    }

    /// Calls `f` with `count` values starting at `index` as a slice, and returns its result.
    ///
    /// Fails with `EINVAL` if the range is out of bounds and `ENXIO` after unbind. `f` runs in
    /// an RCU read-side critical section: it must not sleep (copy to a kernel buffer, then to
    /// user space).
    ///
    /// # Safety
    ///
    /// The device may not write the range while `f` runs, nor may the CPU (`f` must not write
    /// it through `self`).
    pub unsafe fn with_slice<R>(
        &self,
        index: usize,
        count: usize,
        f: impl FnOnce(&[T]) -> R,
    ) -> Result<R> {
        self.with_range(index, count, |p| {
            // SAFETY: The range is valid while `f` runs (see `with_range`); by the safety
            // requirements neither the device nor this thread writes it, and no other thread
            // can (`self` is not `Sync`).
            f(unsafe { core::slice::from_raw_parts(p, count) })
        })
    }

    /// Calls `f` with `count` values starting at `index` as a mutable slice, and returns its
    /// result; see [`with_slice`](Self::with_slice).
    ///
    /// # Safety
    ///
    /// The device may not access the range while `f` runs, nor may the CPU other than through
    /// the slice (`f` must not access it through `self`, e.g. by a nested call).
    pub unsafe fn with_slice_mut<R>(
        &self,
        index: usize,
        count: usize,
        f: impl FnOnce(&mut [T]) -> R,
    ) -> Result<R> {
        self.with_range(index, count, |p| {
            // SAFETY: The range is valid while `f` runs (see `with_range`); by the safety
            // requirements neither the device nor this thread accesses it other than through
            // the slice, and no other thread can (`self` is not `Sync`).
            f(unsafe { core::slice::from_raw_parts_mut(p, count) })
        })
    }
}

/// A `dma_pool`, destroyed when dropped.
///
/// # Invariants
///
/// `pool` is a pool created by `dma_pool_create()` and not yet destroyed. `users` counts the
/// [`Pool::alloc`] calls that use `pool` outside an RCU read-side critical section (allocating
/// may sleep); the pool is destroyed only when there are none.
struct RawPool {
    pool: *mut bindings::dma_pool,
    users: Arc<AtomicUsize>,
}

// SAFETY: `dma_pool_destroy()` may be called from any thread that may sleep; the pool's
// allocation functions take its lock.
unsafe impl Send for RawPool {}

// SAFETY: See above: every operation on the pool is internally synchronised.
unsafe impl Sync for RawPool {}

impl Drop for RawPool {
    fn drop(&mut self) {
        // Unbind (or the last reference) revoked the pool: no new user can come, the ones in
        // `Pool::alloc` leave after one allocation.
        while self.users.load(Ordering::Acquire) != 0 {
            // SAFETY: Plain sleep; drop runs in process context (devres release or a driver's
            // drop, both may sleep, as `dma_pool_destroy()` does).
            unsafe { bindings::msleep(1) };
        }
        // SAFETY: By the type invariant the pool is live; it is destroyed once, here. Blocks
        // still allocated (their `PoolBuffer`s can no longer free them, see there) make the C
        // side keep the pages and report the pool busy.
        unsafe { bindings::dma_pool_destroy(self.pool) };
    }
}

/// A pool of small blocks of coherent DMA memory (`dma_pool`), each `count` values of `T`, for
/// descriptors that are allocated and freed often, such as NVMe PRP lists.
///
/// Like [`CoherentAllocation`], the pool is created for a bound device and destroyed when the
/// pool and all its buffers are dropped, or when the device is unbound, whichever comes first;
/// after unbind, buffer accesses fail with `ENXIO`. Buffers keep the pool alive, so they may be
/// dropped in any order. Drop every buffer by unbind: the C side keeps the pages of a pool
/// destroyed with blocks in use (and reports it), so those leak.
///
/// # Examples
///
/// ```no_run
/// use kernel::{c_str, dma::Pool, pci, prelude::*};
///
/// fn prp_list(pdev: &pci::Device<pci::Core>) -> Result {
///     // Blocks of 512 `u64`s (4 KiB), page aligned.
///     let pool = Pool::<u64>::new(pdev, c_str!("prp list"), 512, 4096)?;
///     let list = pool.alloc(GFP_KERNEL)?;
///     list.write(0, 0x1000)?;
///     pr_info!("list at {:#x}\n", list.dma_handle());
///     Ok(())
/// }
/// ```
pub struct Pool<T: AsBytes + FromBytes> {
    raw: Arc<Devres<RawPool>>,
    /// The `users` of the pool, outside the revocable part so that `alloc` may still leave
    /// while the revoked pool's drop waits for it.
    users: Arc<AtomicUsize>,
    count: usize,
    _p: PhantomData<T>,
}

impl<T: AsBytes + FromBytes> Pool<T> {
    /// Creates a pool for `dev` whose blocks hold `count` values of `T` and are aligned to
    /// `align` bytes (a power of two, at least the alignment of `T`).
    ///
    /// Fails with `EINVAL` for a zero `count`, a block size over a page (use
    /// [`CoherentAllocation`] for those) or a bad alignment, with `EIO` if the device has no
    /// coherent DMA mask, and with `ENOMEM` if memory is short.
    pub fn new(
        dev: &device::Device<Bound>,
        name: &CStr,
        count: usize,
        align: usize,
    ) -> Result<Self> {
        build_assert!(
            core::mem::size_of::<T>() > 0,
            "a DMA pool of a zero-sized type is not supported"
        );
        let size = count
            .checked_mul(core::mem::size_of::<T>())
            .filter(|&s| s > 0 && s <= crate::page::PAGE_SIZE)
            .ok_or(EINVAL)?;
        if !align.is_power_of_two()
            || align < core::mem::align_of::<T>()
            || align > crate::page::PAGE_SIZE
        {
            return Err(EINVAL);
        }
        // SAFETY: `dev` is a valid device; the mask is only read.
        if unsafe { (*dev.as_raw()).coherent_dma_mask } == 0 {
            return Err(EIO);
        }
        // SAFETY: `dev` is bound to the caller's driver; `name` is copied by the C side.
        let pool =
            unsafe { bindings::dma_pool_create(name.as_char_ptr(), dev.as_raw(), size, align, 0) };
        if pool.is_null() {
            return Err(ENOMEM);
        }
        let users = Arc::new(AtomicUsize::new(0), GFP_KERNEL).inspect_err(|_| {
            // SAFETY: The pool was just created and nothing else knows it.
            unsafe { bindings::dma_pool_destroy(pool) }
        })?;
        // INVARIANT: The pool was just created.
        let raw = RawPool {
            pool,
            users: users.clone(),
        };
        Ok(Self {
            raw: Arc::new(Devres::new(dev, raw, GFP_KERNEL)?, GFP_KERNEL)?,
            users,
            count,
            _p: PhantomData,
        })
    }

    /// Allocates a zeroed block. `flags` is `GFP_ATOMIC` in atomic context.
    ///
    /// Fails with `ENOMEM` if memory is short and with `ENXIO` after unbind.
    pub fn alloc(&self, flags: Flags) -> Result<PoolBuffer<T>> {
        // The allocation may sleep, so it cannot run under the RCU guard: register as a user
        // under it instead, which makes the revoked pool's drop wait for us.
        let pool = {
            let guard = self.raw.try_access().ok_or(ENXIO)?;
            self.users.fetch_add(1, Ordering::Acquire);
            guard.pool
        };
        let mut dma_handle: DmaAddress = 0;
        // SAFETY: We are a user, so the pool is not destroyed until we leave below;
        // `dma_handle` is valid for writes.
        let cpu = unsafe {
            bindings::ei_dma_pool_alloc(
                pool,
                flags.as_raw() | bindings::__GFP_ZERO | bindings::__GFP_NOWARN,
                &mut dma_handle,
            )
        };
        // If the pool was revoked meanwhile, its drop waits for this; nothing of the pool is
        // touched after it.
        self.users.fetch_sub(1, Ordering::Release);
        if cpu.is_null() {
            return Err(ENOMEM);
        }
        // INVARIANT: The block was just allocated from the pool `raw` holds.
        Ok(PoolBuffer {
            pool: self.raw.clone(),
            cpu: cpu.cast(),
            dma_handle,
            count: self.count,
        })
    }
}

/// A block of a [`Pool`]: `count` values of `T` at device address
/// [`dma_handle`](Self::dma_handle), freed when dropped.
///
/// It is [`Send`] but not [`Sync`], for the reason [`CoherentAllocation`] is not.
///
/// # Invariants
///
/// While `pool` is accessible, `cpu` points to a block of `count` values of `T` allocated from
/// it at device address `dma_handle`, owned by `self`.
pub struct PoolBuffer<T: AsBytes + FromBytes> {
    pool: Arc<Devres<RawPool>>,
    cpu: *mut T,
    dma_handle: DmaAddress,
    count: usize,
}

// SAFETY: The block may be accessed and freed from any thread; moving the buffer moves the only
// handle to it.
unsafe impl<T: AsBytes + FromBytes + Send> Send for PoolBuffer<T> {}

impl<T: AsBytes + FromBytes> PoolBuffer<T> {
    /// Returns the number of values of `T` in the block.
    pub fn count(&self) -> usize {
        self.count
    }

    /// Returns the device address of the first value.
    pub fn dma_handle(&self) -> DmaAddress {
        self.dma_handle
    }

    /// Reads value `index` (a volatile read). Fails with `EINVAL` if it is out of bounds and
    /// `ENXIO` after unbind.
    pub fn read(&self, index: usize) -> Result<T> {
        if index >= self.count {
            return Err(EINVAL);
        }
        let _guard = self.pool.try_access().ok_or(ENXIO)?;
        // SAFETY: In bounds, and the block is allocated while the pool is accessible; every bit
        // pattern is a valid `T`.
        Ok(unsafe { self.cpu.add(index).read_volatile() })
    }

    /// Writes `value` at `index` (a volatile write). Fails with `EINVAL` if it is out of bounds
    /// and `ENXIO` after unbind.
    pub fn write(&self, index: usize, value: T) -> Result {
        if index >= self.count {
            return Err(EINVAL);
        }
        let _guard = self.pool.try_access().ok_or(ENXIO)?;
        // SAFETY: In bounds and allocated while the guard is held; `self` is not shared between
        // threads.
        unsafe { self.cpu.add(index).write_volatile(value) };
        Ok(())
    }

    /// Writes `values` from `index` on, under one access of the pool. Fails with `EINVAL`,
    /// having written nothing, if they do not fit, and with `ENXIO` after unbind.
    pub fn write_from(&self, index: usize, values: &[T]) -> Result
    where
        T: Copy,
    {
        match index.checked_add(values.len()) {
            Some(end) if end <= self.count => {}
            _ => return Err(EINVAL),
        }
        let _guard = self.pool.try_access().ok_or(ENXIO)?;
        for (i, v) in values.iter().enumerate() {
            // SAFETY: In bounds (`index + i < count`, checked above) and allocated while the
            // guard is held; `self` is not shared between threads.
            unsafe { self.cpu.add(index + i).write_volatile(*v) };
        }
        Ok(())
    }
}

impl<T: AsBytes + FromBytes> Drop for PoolBuffer<T> {
    fn drop(&mut self) {
        // After unbind the pool is gone, and with it (leaked and reported by the C side) the
        // block.
        if let Some(guard) = self.pool.try_access() {
            // SAFETY: By the type invariant the block came from this live pool and is freed
            // once, here.
            unsafe { bindings::dma_pool_free(guard.pool, self.cpu.cast(), self.dma_handle) };
        }
    }
}

#[macros::kunit_tests(rust_kernel_dma)]
mod tests {
    use super::*;
    use crate::{c_str, error::from_err_ptr};

    /// A platform device with a DMA mask, registered for the test and unregistered on drop.
    struct TestDevice(*mut bindings::platform_device);

    impl TestDevice {
        fn new(name: &'static CStr, mask: DmaMask) -> Result<Self> {
            // SAFETY: All-zero is a valid `platform_device_info` (no resources, no data).
            let mut info: bindings::platform_device_info = unsafe { core::mem::zeroed() };
            info.name = name.as_char_ptr();
            info.id = bindings::PLATFORM_DEVID_NONE;
            info.dma_mask = mask.value();
            // SAFETY: `info` is valid for the call, which copies what it needs.
            let pdev = unsafe { bindings::platform_device_register_full(&info) };
            Ok(Self(from_err_ptr(pdev)?))
        }
    }

    // SAFETY: The platform device sets up `dma_mask` to its own `platform_dma_mask`; it is not
    // bound to a driver, but the test owns it and nothing else uses it for DMA.
    unsafe impl Device for TestDevice {
        fn as_dma_device(&self) -> &device::Device {
            // SAFETY: `self.0` is a registered platform device until `self` is dropped.
            unsafe { device::Device::as_ref(core::ptr::addr_of_mut!((*self.0).dev)) }
        }
    }

    impl TestDevice {
        fn bound(&self) -> &device::Device<Bound> {
            // SAFETY: `self.0` is registered until `self` is dropped, and its managed resources
            // are released only then: for DMA, the test owns the device as a driver would.
            unsafe { device::Device::from_raw(core::ptr::addr_of_mut!((*self.0).dev)) }
        }
    }

    impl Drop for TestDevice {
        fn drop(&mut self) {
            // SAFETY: `self.0` was registered in `new` and is unregistered once.
            unsafe { bindings::platform_device_unregister(self.0) };
        }
    }

    #[test]
    fn alloc_read_write() -> Result {
        let dev = TestDevice::new(c_str!("rust_dma_test_a"), DmaMask::new::<32>())?;
        let buf = CoherentAllocation::<u32>::alloc_coherent(dev.bound(), 16, GFP_KERNEL)?;
        assert_eq!(buf.count(), 16);
        assert_eq!(buf.size(), 64);
        assert_eq!(buf.read(15)?, 0);
        buf.write(3, 0x1234_5678)?;
        assert_eq!(buf.read(3)?, 0x1234_5678);
        assert_eq!(buf.read(16), Err(EINVAL));
        assert_eq!(buf.write(16, 1), Err(EINVAL));
        assert_eq!(buf.dma_handle_at(2)?, buf.dma_handle() + 8);
        assert_eq!(buf.dma_handle_at(16), Err(EINVAL));
        assert!(buf.dma_handle() + buf.size() as u64 - 1 <= DmaMask::new::<32>().value());
        // SAFETY: Nothing else accesses the buffer; the device does no DMA.
        unsafe { buf.with_slice_mut(4, 2, |s| s.copy_from_slice(&[7, 8]))? };
        assert_eq!(buf.read(5)?, 8);
        // SAFETY: As above.
        assert_eq!(unsafe { buf.with_slice(4, 2, |s| s[0] + s[1]) }, Ok(15));
        // SAFETY: As above.
        assert_eq!(unsafe { buf.with_slice(15, 2, |_| ()) }, Err(EINVAL));
        // SAFETY: As above; the range is rejected before any slice exists.
        let overflow = unsafe { buf.with_slice(usize::MAX, 2, |_| ()) };
        assert_eq!(overflow, Err(EINVAL));
        Ok(())
    }

    /// The memory is freed when the device goes away, before the allocation is dropped;
    /// accesses fail from then on.
    #[test]
    fn freed_when_device_goes_away() -> Result {
        let dev = TestDevice::new(c_str!("rust_dma_test_c"), DmaMask::new::<32>())?;
        let buf = CoherentAllocation::<u32>::alloc_coherent(dev.bound(), 16, GFP_KERNEL)?;
        buf.write(0, 1)?;
        drop(dev);
        assert_eq!(buf.read(0), Err(ENXIO));
        assert_eq!(buf.write(0, 2), Err(ENXIO));
        // SAFETY: The memory is gone; the range is refused before any slice exists.
        assert_eq!(unsafe { buf.with_slice(0, 1, |_| ()) }, Err(ENXIO));
        Ok(())
    }

    #[test]
    fn masks_and_bad_sizes() -> Result {
        let dev = TestDevice::new(c_str!("rust_dma_test_b"), DmaMask::new::<64>())?;
        dev.dma_set_mask_and_coherent(DmaMask::new::<28>())?;
        let buf = CoherentAllocation::<u8>::alloc_coherent(dev.bound(), 4096, GFP_KERNEL)?;
        assert!(buf.dma_handle() + 4095 <= DmaMask::new::<28>().value());
        assert!(CoherentAllocation::<u8>::alloc_coherent(dev.bound(), 0, GFP_KERNEL).is_err());
        assert!(
            CoherentAllocation::<u64>::alloc_coherent(dev.bound(), usize::MAX / 4, GFP_KERNEL)
                .is_err()
        );
        Ok(())
    }

    #[test]
    fn pool() -> Result {
        let dev = TestDevice::new(c_str!("rust_dma_test_p"), DmaMask::new::<32>())?;
        let pool = Pool::<u64>::new(dev.bound(), c_str!("rust_dma_test"), 64, 512)?;
        let a = pool.alloc(GFP_KERNEL)?;
        let b = pool.alloc(GFP_ATOMIC)?;
        assert_eq!(a.count(), 64);
        assert_eq!(a.dma_handle() % 512, 0);
        assert_ne!(a.dma_handle(), b.dma_handle());
        assert_eq!(a.read(63)?, 0);
        a.write(63, u64::MAX)?;
        assert_eq!(a.read(63)?, u64::MAX);
        assert_eq!(a.read(64), Err(EINVAL));
        assert_eq!(a.write(64, 0), Err(EINVAL));
        b.write_from(60, &[1u64, 2, 3, 4])?;
        assert_eq!(b.read(61)?, 2);
        assert_eq!(b.write_from(61, &[1u64, 2, 3, 4]), Err(EINVAL));
        assert_eq!(b.read(63)?, 4);
        assert_eq!(b.write_from(usize::MAX, &[1u64]), Err(EINVAL));
        // A freed block is reused, zeroed again.
        let handle = a.dma_handle();
        drop(a);
        let c = pool.alloc(GFP_KERNEL)?;
        assert_eq!(c.dma_handle(), handle);
        assert_eq!(c.read(63)?, 0);
        // The pool may go before its buffers.
        drop(pool);
        assert_eq!(c.read(0)?, 0);
        drop(b);
        drop(c);
        // Bad geometries.
        assert_eq!(
            Pool::<u64>::new(dev.bound(), c_str!("t"), 0, 8).err(),
            Some(EINVAL)
        );
        assert_eq!(
            Pool::<u64>::new(dev.bound(), c_str!("t"), 513, 8).err(),
            Some(EINVAL)
        );
        assert_eq!(
            Pool::<u64>::new(dev.bound(), c_str!("t"), 8, 4).err(),
            Some(EINVAL)
        );
        assert_eq!(
            Pool::<u64>::new(dev.bound(), c_str!("t"), 8, 24).err(),
            Some(EINVAL)
        );
        Ok(())
    }

    /// Buffers outliving the device fail with `ENXIO`, and their drop does not touch the
    /// destroyed pool.
    #[test]
    fn pool_device_goes_away() -> Result {
        let dev = TestDevice::new(c_str!("rust_dma_test_q"), DmaMask::new::<32>())?;
        let pool = Pool::<u32>::new(dev.bound(), c_str!("rust_dma_test"), 16, 64)?;
        let a = pool.alloc(GFP_KERNEL)?;
        a.write(0, 7)?;
        drop(a);
        let b = pool.alloc(GFP_KERNEL)?;
        drop(dev);
        assert_eq!(pool.alloc(GFP_KERNEL).err(), Some(ENXIO));
        assert_eq!(b.read(0), Err(ENXIO));
        assert_eq!(b.write(0, 1), Err(ENXIO));
        drop(pool);
        drop(b);
        Ok(())
    }
}
