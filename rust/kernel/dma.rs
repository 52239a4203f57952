// SPDX-License-Identifier: GPL-2.0

//! Direct memory access (DMA): device address masks and coherent allocations.
//!
//! A device that can master the bus implements [`Device`]. In `probe`, its driver tells the
//! kernel which addresses the device can reach with [`Device::dma_set_mask_and_coherent`] (for
//! example 28 bits for QEMU's `edu`), then allocates memory that the CPU and the device share
//! with [`CoherentAllocation::alloc_coherent`]. The allocation knows both of its addresses: the
//! CPU reads and writes it through its methods, and the driver programs the device with
//! [`CoherentAllocation::dma_handle`]. It is freed when dropped.
//!
//! C header: [`include/linux/dma-mapping.h`](srctree/include/linux/dma-mapping.h)

use crate::{
    alloc::Flags,
    bindings, build_assert, device,
    error::{to_result, Result},
    prelude::*,
    types::{ARef, AsBytes, FromBytes},
};

/// An address as the device sees it (`dma_addr_t`).
pub type DmaAddress = bindings::dma_addr_t;

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
    /// Fails with `EIO` if the platform cannot give the device memory within the mask.
    fn dma_set_mask(&self, mask: DmaMask) -> Result {
        // SAFETY: By the trait's safety requirements the device's `dma_mask` is set up.
        to_result(unsafe { bindings::dma_set_mask(self.as_dma_device().as_raw(), mask.value()) })
    }

    /// Sets the mask of addresses the device can reach in coherent allocations.
    fn dma_set_coherent_mask(&self, mask: DmaMask) -> Result {
        // SAFETY: As above.
        to_result(unsafe {
            bindings::dma_set_coherent_mask(self.as_dma_device().as_raw(), mask.value())
        })
    }

    /// Sets both the streaming and the coherent mask (`dma_set_mask_and_coherent()`).
    fn dma_set_mask_and_coherent(&self, mask: DmaMask) -> Result {
        self.dma_set_mask(mask)?;
        self.dma_set_coherent_mask(mask)
    }
}

// SAFETY: The PCI core points `dma_mask` of every PCI device at the device's own `dma_mask`
// field; a `pci::Device` in the `Core` or `Bound` context is probing or bound to its driver.
#[cfg(CONFIG_PCI)]
unsafe impl Device for crate::pci::Device<crate::pci::Core> {
    fn as_dma_device(&self) -> &device::Device {
        self
    }
}

// SAFETY: As above.
#[cfg(CONFIG_PCI)]
unsafe impl Device for crate::pci::Device<crate::pci::Bound> {
    fn as_dma_device(&self) -> &device::Device {
        self
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

/// Memory shared by the CPU and a device: `count` values of type `T`, freed on drop.
///
/// The CPU side is accessed through [`read`](Self::read) and [`write`](Self::write), which are
/// volatile (the device may change the memory at any time), or, when the driver knows that the
/// device leaves a range alone, through the unsafe [`as_slice`](Self::as_slice) and
/// [`as_slice_mut`](Self::as_slice_mut). The device side is [`dma_handle`](Self::dma_handle).
///
/// # Invariants
///
/// `cpu_addr` points to `count` values of `T` (at least one) allocated by `dma_alloc_attrs()`
/// for `dev` with `attrs`, at device address `dma_handle`, until `self` is dropped.
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
///     let ring = CoherentAllocation::<u32>::alloc_coherent(pdev, 256, GFP_KERNEL)?;
///     ring.write(0, 0xdead_beef)?;
///     pr_info!("ring at {:#x}\n", ring.dma_handle());
///     Ok(ring)
/// }
/// ```
pub struct CoherentAllocation<T: AsBytes + FromBytes> {
    dev: ARef<device::Device>,
    dma_handle: DmaAddress,
    count: usize,
    cpu_addr: *mut T,
    attrs: Attrs,
}

// SAFETY: The allocation may be freed from any thread, and the device reference is `Send`.
unsafe impl<T: AsBytes + FromBytes + Send> Send for CoherentAllocation<T> {}

// SAFETY: Shared references only allow volatile element accesses, or unsafe slice accesses
// whose callers rule out concurrent access.
unsafe impl<T: AsBytes + FromBytes + Sync> Sync for CoherentAllocation<T> {}

impl<T: AsBytes + FromBytes> CoherentAllocation<T> {
    /// Allocates `count` values of `T` for `dev`, with attributes `attrs`.
    ///
    /// The memory is zeroed. Fails with `EINVAL` for a zero `count` or one whose size overflows,
    /// and with `ENOMEM` if no memory within the device's coherent mask is free.
    pub fn alloc_attrs(
        dev: &(impl Device + ?Sized),
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
        let dev = dev.as_dma_device();
        let mut dma_handle: DmaAddress = 0;
        // SAFETY: By the safety requirements of `Device`, `dev` may allocate DMA memory;
        // `dma_handle` is valid for writes.
        let cpu_addr = unsafe {
            bindings::dma_alloc_attrs(
                dev.as_raw(),
                size,
                &mut dma_handle,
                flags.as_raw() | bindings::__GFP_ZERO,
                // CAST: `DMA_ATTR_*` flags fit the C `unsigned long`.
                attrs.0 as _,
            )
        };
        if cpu_addr.is_null() {
            return Err(ENOMEM);
        }
        // INVARIANT: The memory was just allocated with these parameters.
        Ok(Self {
            dev: dev.into(),
            dma_handle,
            count,
            cpu_addr: cpu_addr.cast(),
            attrs,
        })
    }

    /// Allocates `count` values of `T` for `dev` (`dma_alloc_coherent()`).
    pub fn alloc_coherent(
        dev: &(impl Device + ?Sized),
        count: usize,
        flags: Flags,
    ) -> Result<Self> {
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

    /// Reads value `index` (a volatile read), or fails with `EINVAL` if it is out of bounds.
    pub fn read(&self, index: usize) -> Result<T> {
        self.check_range(index, 1)?;
        // SAFETY: `index` is in bounds, so by the type invariant the address is valid and
        // aligned; every bit pattern is a valid `T` (`FromBytes`).
        Ok(unsafe { self.cpu_addr.add(index).read_volatile() })
    }

    /// Writes `value` at `index` (a volatile write), or fails with `EINVAL` if it is out of
    /// bounds.
    pub fn write(&self, index: usize, value: T) -> Result {
        self.check_range(index, 1)?;
        // SAFETY: `index` is in bounds, so by the type invariant the address is valid for
        // writes and aligned.
        unsafe { self.cpu_addr.add(index).write_volatile(value) };
        Ok(())
    }

    /// Returns `count` values starting at `index` as a slice, or `EINVAL` if the range is out
    /// of bounds.
    ///
    /// # Safety
    ///
    /// Neither the device nor the CPU (through `self`) may write the range while the slice
    /// lives.
    pub unsafe fn as_slice(&self, index: usize, count: usize) -> Result<&[T]> {
        self.check_range(index, count)?;
        // SAFETY: The range is in bounds of the allocation (type invariant), and by the safety
        // requirements nothing writes it while the slice lives.
        Ok(unsafe { core::slice::from_raw_parts(self.cpu_addr.add(index), count) })
    }

    /// Returns `count` values starting at `index` as a mutable slice, or `EINVAL` if the range
    /// is out of bounds.
    ///
    /// # Safety
    ///
    /// Neither the device nor the CPU (through `self`) may access the range while the slice
    /// lives.
    #[expect(clippy::mut_from_ref, reason = "exclusivity is a safety requirement")]
    pub unsafe fn as_slice_mut(&self, index: usize, count: usize) -> Result<&mut [T]> {
        self.check_range(index, count)?;
        // SAFETY: The range is in bounds of the allocation (type invariant), and by the safety
        // requirements nothing else accesses it while the slice lives.
        Ok(unsafe { core::slice::from_raw_parts_mut(self.cpu_addr.add(index), count) })
    }
}

impl<T: AsBytes + FromBytes> Drop for CoherentAllocation<T> {
    fn drop(&mut self) {
        // SAFETY: By the type invariant the memory was allocated with exactly these parameters
        // and is freed only here.
        unsafe {
            bindings::dma_free_attrs(
                self.dev.as_raw(),
                self.size(),
                self.cpu_addr.cast(),
                self.dma_handle,
                // CAST: As in `alloc_attrs`.
                self.attrs.0 as _,
            )
        };
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

    impl Drop for TestDevice {
        fn drop(&mut self) {
            // SAFETY: `self.0` was registered in `new` and is unregistered once.
            unsafe { bindings::platform_device_unregister(self.0) };
        }
    }

    #[test]
    fn alloc_read_write() -> Result {
        let dev = TestDevice::new(c_str!("rust_dma_test_a"), DmaMask::new::<32>())?;
        let buf = CoherentAllocation::<u32>::alloc_coherent(&dev, 16, GFP_KERNEL)?;
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
        let slice = unsafe { buf.as_slice_mut(4, 2)? };
        slice.copy_from_slice(&[7, 8]);
        assert_eq!(buf.read(5)?, 8);
        // SAFETY: As above.
        assert!(unsafe { buf.as_slice(15, 2) }.is_err());
        // SAFETY: As above; the range is rejected before any slice exists.
        assert!(unsafe { buf.as_slice(usize::MAX, 2) }.is_err());
        Ok(())
    }

    #[test]
    fn masks_and_bad_sizes() -> Result {
        let dev = TestDevice::new(c_str!("rust_dma_test_b"), DmaMask::new::<64>())?;
        dev.dma_set_mask_and_coherent(DmaMask::new::<28>())?;
        let buf = CoherentAllocation::<u8>::alloc_coherent(&dev, 4096, GFP_KERNEL)?;
        assert!(buf.dma_handle() + 4095 <= DmaMask::new::<28>().value());
        assert!(CoherentAllocation::<u8>::alloc_coherent(&dev, 0, GFP_KERNEL).is_err());
        assert!(
            CoherentAllocation::<u64>::alloc_coherent(&dev, usize::MAX / 4, GFP_KERNEL).is_err()
        );
        Ok(())
    }
}
