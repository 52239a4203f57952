// SPDX-License-Identifier: GPL-2.0

//! PCI devices and drivers.
//!
//! A PCI driver implements [`Driver`]: an id table, and a `probe` callback that gets the device
//! in the [`Core`] context and returns the driver's private data, which lives until the device
//! is unbound. [`module_pci_driver!`](crate::module_pci_driver) registers it for the lifetime of
//! the module.
//!
//! In `probe`, the driver enables the device, maps the BARs it needs with
//! [`Device::iomap_region_sized`] (a [`Devres`] that is revoked on unbind, so no access can
//! reach the device after `remove`) and reads its configuration space.
//!
//! A `Device<Ctx>` dereferences to the generic [`device::Device<Ctx>`] in the same state, so a
//! `&Device<Core>` given to `probe` can be passed wherever a bound device is required
//! (`Devres::new`, DMA allocations). Interrupts are requested through [`Device::irq_vector`],
//! which checks the vector once and hands out an [`irq::IrqRequest`].
//!
//! C header: [`include/linux/pci.h`](srctree/include/linux/pci.h)

use crate::{
    bindings,
    device::{self, BoundContext, DeviceContext},
    devres::Devres,
    driver,
    error::{from_result, to_result, Error, Result},
    io::{Io, IoRaw, ResourceSize},
    irq,
    prelude::*,
    str::CStr,
    types::{ARef, ForeignOwnable, Opaque},
    ThisModule,
};
use core::{marker::PhantomData, ops::Deref, ptr::NonNull};

pub use crate::device::{Bound, Core, Normal};

/// The number of standard BARs of a PCI device.
const NUM_BARS: u32 = 6;

/// The interrupt types [`Device::alloc_irq_vectors`] may use (`PCI_IRQ_*`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct IrqTypes(u32);

impl IrqTypes {
    /// Legacy INTx interrupts.
    pub const INTX: IrqTypes = IrqTypes(bindings::PCI_IRQ_INTX);
    /// Message-signalled interrupts.
    pub const MSI: IrqTypes = IrqTypes(bindings::PCI_IRQ_MSI);
    /// Extended message-signalled interrupts.
    pub const MSIX: IrqTypes = IrqTypes(bindings::PCI_IRQ_MSIX);
    /// Any of the above.
    pub const ALL: IrqTypes =
        IrqTypes(bindings::PCI_IRQ_INTX | bindings::PCI_IRQ_MSI | bindings::PCI_IRQ_MSIX);
}

impl core::ops::BitOr for IrqTypes {
    type Output = IrqTypes;

    fn bitor(self, rhs: IrqTypes) -> IrqTypes {
        IrqTypes(self.0 | rhs.0)
    }
}

/// The value matching any vendor, device or subsystem id in a [`DeviceId`].
pub const ANY_ID: u32 = !0;

/// An entry of a PCI driver's id table (`struct pci_device_id`).
#[repr(transparent)]
#[derive(Clone, Copy)]
pub struct DeviceId(bindings::pci_device_id);

impl DeviceId {
    /// Matches the device `device` of the vendor `vendor`, with any subsystem ids.
    pub const fn from_id(vendor: u32, device: u32) -> Self {
        Self(bindings::pci_device_id {
            vendor,
            device,
            subvendor: ANY_ID,
            subdevice: ANY_ID,
            class: 0,
            class_mask: 0,
            driver_data: 0,
            override_only: 0,
        })
    }

    /// Matches devices whose class code, masked with `class_mask`, is `class`.
    pub const fn from_class(class: u32, class_mask: u32) -> Self {
        Self(bindings::pci_device_id {
            vendor: ANY_ID,
            device: ANY_ID,
            subvendor: ANY_ID,
            subdevice: ANY_ID,
            class,
            class_mask,
            driver_data: 0,
            override_only: 0,
        })
    }
}

/// The id table of a PCI driver, with a driver-defined `T` for each entry.
pub trait IdTable<T> {
    /// Returns the NULL-terminated C table.
    fn as_ptr(&self) -> *const bindings::pci_device_id;

    /// Returns the data of the entry whose `driver_data` is `index`.
    fn info(&self, index: usize) -> Option<&T>;
}

/// An id table of `N` entries with their data, terminated as the PCI core expects.
///
/// # Invariants
///
/// `ids.ids[i].driver_data == i` for every entry, and `ids.sentinel` is all zeroes.
pub struct IdArray<T, const N: usize> {
    ids: RawIdArray<N>,
    infos: [T; N],
}

/// The C id table of an [`IdArray`]: its ids and the zeroed entry that ends them.
///
/// [`pci_device_table!`](crate::pci_device_table) exports it from a module for modpost, as
/// `MODULE_DEVICE_TABLE(pci, ...)` does in C.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct RawIdArray<const N: usize> {
    ids: [bindings::pci_device_id; N],
    sentinel: bindings::pci_device_id,
}

impl<T, const N: usize> IdArray<T, N> {
    /// Builds a table from `(id, data)` pairs.
    pub const fn new(entries: [(DeviceId, T); N]) -> Self
    where
        T: Copy,
    {
        // SAFETY: `pci_device_id` is a plain C struct; every element is overwritten below.
        let mut ids: [bindings::pci_device_id; N] = unsafe { core::mem::zeroed() };
        // A table has at least one entry (see `pci_device_table!`); every element of `infos` is
        // overwritten below.
        let mut infos: [T; N] = [entries[0].1; N];
        let mut i = 0;
        while i < N {
            ids[i] = entries[i].0 .0;
            // CAST: `i < N`, a small array length, fits `kernel_ulong_t`.
            ids[i].driver_data = i as _;
            infos[i] = entries[i].1;
            i += 1;
        }
        // INVARIANT: `driver_data` is the index of each entry, and the sentinel is zeroed.
        Self {
            ids: RawIdArray {
                ids,
                // SAFETY: As above, all zeroes is valid.
                sentinel: unsafe { core::mem::zeroed() },
            },
            infos,
        }
    }
}

impl<T, const N: usize> IdArray<T, N> {
    /// Returns the C table.
    pub const fn raw_ids(&self) -> RawIdArray<N> {
        self.ids
    }
}

impl<T, const N: usize> IdTable<T> for IdArray<T, N> {
    fn as_ptr(&self) -> *const bindings::pci_device_id {
        self.ids.ids.as_ptr()
    }

    fn info(&self, index: usize) -> Option<&T> {
        self.infos.get(index)
    }
}

/// Declares a PCI id table named `$name` with entries `(DeviceId, data)`.
///
/// In a module, the table is also exported as `MODULE_DEVICE_TABLE(pci, ...)` does in C, so that
/// modpost writes its `pci:` aliases into the module and udev loads the module for a matching
/// device. A module may declare one PCI id table.
///
/// # Examples
///
/// ```
/// use kernel::pci;
///
/// kernel::pci_device_table!(TABLE, u32, [(pci::DeviceId::from_id(0x1234, 0x11e8), 1)]);
/// assert_eq!(pci::IdTable::info(&TABLE, 0), Some(&1));
/// assert!(pci::IdTable::info(&TABLE, 1).is_none());
/// ```
#[macro_export]
macro_rules! pci_device_table {
    ($name:ident, $data:ty, [$($entry:expr),+ $(,)?]) => {
        const $name: $crate::pci::IdArray<
            $data,
            { [$($crate::pci_device_table!(@one $entry)),+].len() },
        > = $crate::pci::IdArray::new([$($entry),+]);

        // modpost reads `__mod_<bus>__<name>_device_table` symbols.
        #[cfg(MODULE)]
        #[no_mangle]
        #[expect(non_upper_case_globals, reason = "the name modpost looks for")]
        static __mod_pci__rust_device_table: $crate::pci::RawIdArray<
            { [$($crate::pci_device_table!(@one $entry)),+].len() },
        > = $name.raw_ids();
    };
    (@one $entry:expr) => {
        ()
    };
}

/// A PCI device, in the context `Ctx` (see [`DeviceContext`]).
///
/// Only a `Device<Normal>` (plain `Device`) can be reference-counted (`ARef<Device>`); the PCI
/// core hands `&Device<Core>` to the driver's callbacks, valid for the callback only.
///
/// # Invariants
///
/// The inner `pci_dev` is a valid, registered PCI device; in the [`Bound`] and [`Core`]
/// contexts it is bound to the driver for the lifetime of the reference (in [`Core`], with the
/// device lock held).
#[repr(transparent)]
pub struct Device<Ctx: DeviceContext = Normal>(Opaque<bindings::pci_dev>, PhantomData<Ctx>);

impl<Ctx: DeviceContext> Device<Ctx> {
    pub(crate) fn as_raw(&self) -> *mut bindings::pci_dev {
        self.0.get()
    }

    /// Returns the device in the `Normal` context, e.g. to take a reference to it.
    pub fn as_normal(&self) -> &Device {
        // SAFETY: `Device` is a transparent wrapper whose context only restricts what may be
        // called; every valid device may be used in the `Normal` context.
        unsafe { &*core::ptr::from_ref(self).cast() }
    }

    /// Returns the vendor id.
    pub fn vendor_id(&self) -> u16 {
        // SAFETY: By the type invariant `self.as_raw()` is a valid `pci_dev`.
        unsafe { (*self.as_raw()).vendor }
    }

    /// Returns the device id.
    pub fn device_id(&self) -> u16 {
        // SAFETY: By the type invariant `self.as_raw()` is a valid `pci_dev`.
        unsafe { (*self.as_raw()).device }
    }

    /// Returns the revision id.
    pub fn revision_id(&self) -> u8 {
        // SAFETY: By the type invariant `self.as_raw()` is a valid `pci_dev`.
        unsafe { (*self.as_raw()).revision }
    }

    /// Returns the 24-bit class code (base class, sub-class, programming interface).
    pub fn class(&self) -> u32 {
        // SAFETY: By the type invariant `self.as_raw()` is a valid `pci_dev`.
        unsafe { (*self.as_raw()).class }
    }

    /// Returns the size of BAR `bar` in bytes (0 if the BAR is not implemented).
    pub fn resource_len(&self, bar: u32) -> Result<ResourceSize> {
        if bar >= NUM_BARS {
            return Err(EINVAL);
        }
        // SAFETY: `self.as_raw()` is a valid `pci_dev` and `bar` a valid BAR index.
        Ok(unsafe { bindings::pci_resource_len(self.as_raw(), bar as _) })
    }

    /// Returns the bus address of BAR `bar`.
    pub fn resource_start(&self, bar: u32) -> Result<ResourceSize> {
        if bar >= NUM_BARS {
            return Err(EINVAL);
        }
        // SAFETY: `self.as_raw()` is a valid `pci_dev` and `bar` a valid BAR index.
        Ok(unsafe { bindings::pci_resource_start(self.as_raw(), bar as _) })
    }

    /// Returns whether BAR `bar` is an I/O-port BAR (`IORESOURCE_IO`) rather than memory.
    pub fn resource_is_io(&self, bar: u32) -> Result<bool> {
        if bar >= NUM_BARS {
            return Err(EINVAL);
        }
        // CAST: `bar < NUM_BARS`, a valid index of `resource`.
        let bar = bar as usize;
        // SAFETY: `self.as_raw()` is a valid `pci_dev`; the resource flags are set up when the
        // device is enumerated and only read here.
        let flags = unsafe { (*self.as_raw()).resource[bar].flags };
        // CAST: `IORESOURCE_IO` is a single low bit of the C `unsigned long` flags.
        Ok(flags & bindings::IORESOURCE_IO as crate::ffi::c_ulong != 0)
    }
}

macro_rules! define_config_access {
    ($read:ident, $write:ident, $c_read:ident, $c_write:ident, $ty:ty) => {
        /// Reads the configuration space register at `offset`.
        pub fn $read(&self, offset: u16) -> Result<$ty> {
            let mut value: $ty = 0;
            // SAFETY: `self.as_raw()` is a valid `pci_dev` and `value` is valid for writes.
            let ret = unsafe { bindings::$c_read(self.as_raw(), offset.into(), &mut value) };
            config_result(ret)?;
            Ok(value)
        }

        /// Writes the configuration space register at `offset`.
        pub fn $write(&self, value: $ty, offset: u16) -> Result {
            // SAFETY: `self.as_raw()` is a valid `pci_dev`.
            let ret = unsafe { bindings::$c_write(self.as_raw(), offset.into(), value) };
            config_result(ret)
        }
    };
}

/// Turns a `PCIBIOS_*` code into a `Result`.
fn config_result(ret: i32) -> Result {
    // SAFETY: `pcibios_err_to_errno()` is a pure function of its argument.
    to_result(unsafe { bindings::pcibios_err_to_errno(ret) })
}

impl<Ctx: BoundContext> Device<Ctx> {
    define_config_access!(
        config_read8,
        config_write8,
        pci_read_config_byte,
        pci_write_config_byte,
        u8
    );
    define_config_access!(
        config_read16,
        config_write16,
        pci_read_config_word,
        pci_write_config_word,
        u16
    );
    define_config_access!(
        config_read32,
        config_write32,
        pci_read_config_dword,
        pci_write_config_dword,
        u32
    );

    /// Requests BAR `bar` for the driver and maps all of it, at least `SIZE` bytes.
    ///
    /// The mapping is revoked, unmapped and released when the device is unbound (or when the
    /// returned [`Devres`] is dropped, whichever comes first).
    pub fn iomap_region_sized<const SIZE: usize>(
        &self,
        bar: u32,
        name: &'static CStr,
    ) -> Result<Devres<Bar<SIZE>>> {
        let bar = Bar::<SIZE>::new(self.as_normal().into(), bar, name)?;
        Devres::new(self.as_bound(), bar, GFP_KERNEL)
    }

    /// Returns the generic device in the `Bound` context.
    fn as_bound(&self) -> &device::Device<Bound> {
        // SAFETY: `self.as_raw()` is a valid `pci_dev`, which embeds its `struct device`; with
        // `Ctx: BoundContext`, the device is bound for as long as `self` is borrowed.
        unsafe { device::Device::from_raw(core::ptr::addr_of_mut!((*self.as_raw()).dev)) }
    }

    /// Returns the right to request the interrupt of vector `index` (see
    /// [`Device::alloc_irq_vectors`]; without allocated MSI or MSI-X vectors, index 0 is the
    /// legacy INTx interrupt).
    ///
    /// Fails with `EINVAL` for a vector the device does not have, or if the device is not
    /// enabled (its INTx interrupt is only routed then), and with `ENODEV` if it has no
    /// interrupt at all.
    pub fn irq_vector(&self, index: u32) -> Result<irq::IrqRequest<'_>> {
        // SAFETY: `self.as_raw()` is a valid `pci_dev`.
        if !unsafe { bindings::pci_is_enabled(self.as_raw()) } {
            return Err(EINVAL);
        }
        // SAFETY: `self.as_raw()` is a valid `pci_dev`.
        let ret = unsafe { bindings::pci_irq_vector(self.as_raw(), index) };
        if ret < 0 {
            return Err(Error::from_errno(ret));
        }
        if ret == 0 {
            // No INTx pin: 0 is no interrupt of this device (on x86, it is the timer's).
            return Err(ENODEV);
        }
        // CAST: `ret` is a positive interrupt number.
        let irq = ret as u32;
        // SAFETY: `irq` is vector `index` of this bound, enabled device. The vectors were
        // allocated by `alloc_irq_vectors`, whose managed action frees them on unbind after
        // every resource registered later (such as an interrupt requested with this), or there
        // are none and `irq` is the legacy interrupt the PCI core routed when the device was
        // enabled; the device is disabled (and the routing undone) by a managed action that is
        // older than anything requested with this.
        Ok(unsafe { irq::IrqRequest::new(self.as_bound(), irq) })
    }

    /// Requests the interrupt of vector `index` for `handler`.
    ///
    /// The interrupt is freed when the returned registration is dropped, or when the device is
    /// unbound, whichever comes first. Pass [`irq::Flags::SHARED`] for INTx, whose line other
    /// devices may share.
    pub fn request_irq<T: irq::Handler + 'static>(
        &self,
        index: u32,
        flags: irq::Flags,
        name: &'static CStr,
        handler: T,
    ) -> Result<Pin<KBox<irq::Registration<T>>>> {
        let request = self.irq_vector(index)?;
        let irq = request.irq();
        KBox::pin_init(
            irq::Registration::new(request, flags, name, handler),
            GFP_KERNEL,
        )
        .inspect_err(|e| self.irq_failed(irq, e))
    }

    /// Requests the interrupt of vector `index` for the threaded `handler`.
    ///
    /// As [`Device::request_irq`], but the handler's [`irq::ThreadedHandler::handle_threaded`]
    /// runs in a kernel thread and may sleep.
    pub fn request_threaded_irq<T: irq::ThreadedHandler + 'static>(
        &self,
        index: u32,
        flags: irq::Flags,
        name: &'static CStr,
        handler: T,
    ) -> Result<Pin<KBox<irq::ThreadedRegistration<T>>>> {
        let request = self.irq_vector(index)?;
        let irq = request.irq();
        KBox::pin_init(
            irq::ThreadedRegistration::new(request, flags, name, handler),
            GFP_KERNEL,
        )
        .inspect_err(|e| self.irq_failed(irq, e))
    }

    fn irq_failed(&self, irq: u32, e: &Error) {
        dev_err!(
            self.as_normal(),
            "cannot request interrupt {}: {:?}\n",
            irq,
            e
        );
    }

    /// Requests BAR `bar` for the driver and maps all of it; offsets are checked at run time.
    pub fn iomap_region(&self, bar: u32, name: &'static CStr) -> Result<Devres<Bar>> {
        self.iomap_region_sized::<0>(bar, name)
    }
}

impl Device<Core> {
    /// Enables the device's memory space (and wakes it up if needed).
    ///
    /// The device is disabled again when it is unbound.
    pub fn enable_device_mem(&self) -> Result {
        // SAFETY: `self.as_raw()` is a valid `pci_dev`; in the `Core` context the device lock is
        // held, as `pci_enable_device_mem()` expects.
        to_result(unsafe { bindings::ei_pci_enable_device_mem(self.as_raw()) })?;
        // SAFETY: The device was enabled once above; the action disables it once.
        unsafe { self.undo_on_unbind(disable_device_action, c"rust:pci_disable_device") }
    }

    /// Allocates between `min` and `max` interrupt vectors of the given types, and returns how
    /// many it got.
    ///
    /// MSI-X is preferred over MSI, and MSI over INTx, among the allowed types. The vectors are
    /// freed when the device is unbound, after the interrupts requested on them. They can be
    /// allocated once per binding: a second call fails with `EBUSY`.
    pub fn alloc_irq_vectors(&self, min: u32, max: u32, types: IrqTypes) -> Result<u32> {
        self.alloc_vectors(min, max, types, None)
    }

    /// Like [`Device::alloc_irq_vectors`], but spreads the affinity of the vectors after the
    /// first `pre_vectors` over the CPUs (`PCI_IRQ_AFFINITY`): one vector per queue, each
    /// serving the CPUs that submit to it, as multi-queue devices (NVMe, network cards) want.
    /// The first `pre_vectors` (an admin queue's, say) keep the default affinity.
    ///
    /// Fails with `EINVAL` if `pre_vectors` is not below `min`.
    pub fn alloc_irq_vectors_affinity(
        &self,
        min: u32,
        max: u32,
        types: IrqTypes,
        pre_vectors: u32,
    ) -> Result<u32> {
        if pre_vectors >= min || min > max {
            return Err(EINVAL);
        }
        self.alloc_vectors(min, max, types, Some(pre_vectors))
    }

    fn alloc_vectors(&self, min: u32, max: u32, types: IrqTypes, pre: Option<u32>) -> Result<u32> {
        // Allocated twice, the vectors would be freed twice.
        // SAFETY: `self.as_raw()` is a valid `pci_dev`; the flags are read under the device lock.
        if unsafe { (*self.as_raw()).msi_enabled() != 0 || (*self.as_raw()).msix_enabled() != 0 } {
            return Err(EBUSY);
        }
        // SAFETY: All-zero is a valid `irq_affinity` (no sets, no callback).
        let mut affd: bindings::irq_affinity = unsafe { core::mem::zeroed() };
        let (flags, affd_ptr) = match pre {
            Some(pre) => {
                affd.pre_vectors = pre;
                (types.0 | bindings::PCI_IRQ_AFFINITY, &mut affd as *mut _)
            }
            None => (types.0, core::ptr::null_mut()),
        };
        // SAFETY: `self.as_raw()` is a valid `pci_dev` and the device lock is held; `affd_ptr`
        // is null or points to `affd`, which outlives the call (the C side copies it).
        let ret =
            unsafe { bindings::ei_pci_alloc_irq_vectors(self.as_raw(), min, max, flags, affd_ptr) };
        if ret < 0 {
            dev_err!(
                self,
                "cannot allocate {}..{} interrupt vectors: {}\n",
                min,
                max,
                ret
            );
            return Err(Error::from_errno(ret));
        }
        // SAFETY: The vectors were allocated above; the action frees them once.
        unsafe { self.undo_on_unbind(free_irq_vectors_action, c"rust:pci_free_irq_vectors")? };
        // CAST: `ret` is a non-negative vector count.
        Ok(ret as u32)
    }

    /// Enables bus mastering, i.e. lets the device do DMA.
    ///
    /// It is disabled again when the device is unbound (with the device, see
    /// [`Device::enable_device_mem`]).
    pub fn set_master(&self) {
        // SAFETY: `self.as_raw()` is a valid `pci_dev` and the device lock is held.
        unsafe { bindings::pci_set_master(self.as_raw()) };
    }

    /// Disables bus mastering: the device can no longer do DMA (nor send MSIs).
    ///
    /// A driver that gave up on a device in the middle of a DMA transfer calls this before it
    /// frees the memory the transfer targets.
    pub fn clear_master(&self) {
        // SAFETY: `self.as_raw()` is a valid `pci_dev` and the device lock is held.
        unsafe { bindings::pci_clear_master(self.as_raw()) };
    }
}

impl<Ctx: BoundContext> Device<Ctx> {
    /// Runs `action` with the `pci_dev` pointer when the device is unbound; runs it right away
    /// (and fails) if that cannot be arranged.
    ///
    /// # Safety
    ///
    /// `action` must be safe to call once with this device's `pci_dev` pointer, while the device
    /// is being unbound; the device must be bound or being probed.
    unsafe fn undo_on_unbind(
        &self,
        action: unsafe extern "C" fn(*mut core::ffi::c_void),
        name: &'static core::ffi::CStr,
    ) -> Result {
        // SAFETY: The device is valid; `action` takes the `pci_dev` pointer, which stays valid
        // until the action runs on unbind.
        let ret = unsafe {
            bindings::__devm_add_action(
                core::ptr::addr_of_mut!((*self.as_raw()).dev),
                Some(action),
                self.as_raw().cast(),
                name.as_ptr().cast(),
            )
        };
        if let Err(e) = to_result(ret) {
            // SAFETY: By the safety requirements `action` may run once now.
            unsafe { action(self.as_raw().cast()) };
            return Err(e);
        }
        Ok(())
    }
}

/// Frees the interrupt vectors allocated by [`Device::alloc_irq_vectors`] on unbind.
///
/// # Safety
///
/// `pdev` must be a valid `pci_dev` with allocated vectors and no interrupt requested on them.
unsafe extern "C" fn free_irq_vectors_action(pdev: *mut core::ffi::c_void) {
    // SAFETY: By the safety requirements.
    unsafe { bindings::pci_free_irq_vectors(pdev.cast()) };
}

/// Disables a device enabled by [`Device::enable_device_mem`] when it is unbound.
///
/// # Safety
///
/// `pdev` must be a valid `pci_dev` that was enabled once for this action.
unsafe extern "C" fn disable_device_action(pdev: *mut core::ffi::c_void) {
    // SAFETY: By the safety requirements `pdev` is an enabled PCI device.
    unsafe { bindings::pci_disable_device(pdev.cast()) };
}

impl<Ctx: DeviceContext> Deref for Device<Ctx> {
    type Target = device::Device<Ctx>;

    fn deref(&self) -> &device::Device<Ctx> {
        // SAFETY: `self.as_raw()` is a valid `pci_dev`, which embeds its `struct device`; the
        // generic device is in the same state as the PCI device, for as long as `self` is
        // borrowed.
        unsafe { device::Device::from_raw(core::ptr::addr_of_mut!((*self.as_raw()).dev)) }
    }
}

impl From<&Device<Core>> for ARef<Device> {
    fn from(dev: &Device<Core>) -> Self {
        dev.as_normal().into()
    }
}

impl From<&Device<Bound>> for ARef<Device> {
    fn from(dev: &Device<Bound>) -> Self {
        dev.as_normal().into()
    }
}

// SAFETY: `pci_dev_get()`/`pci_dev_put()` manage the reference count of the device.
unsafe impl crate::types::AlwaysRefCounted for Device {
    fn inc_ref(&self) {
        // SAFETY: `self.as_raw()` is a valid `pci_dev`.
        unsafe { bindings::pci_dev_get(self.as_raw()) };
    }

    unsafe fn dec_ref(obj: NonNull<Self>) {
        // SAFETY: The caller gives up a reference it owns.
        unsafe { bindings::pci_dev_put(obj.cast().as_ptr()) }
    }
}

// SAFETY: A PCI device may be used from any thread; the C side synchronises itself.
unsafe impl Send for Device {}

// SAFETY: As above; `&Device` only allows thread-safe operations.
unsafe impl Sync for Device {}

/// A requested and mapped PCI BAR, unmapped and released on drop.
///
/// Dereferences to [`Io`], whose accessors check offsets against `SIZE` at compile time and
/// against the BAR's real size at run time.
///
/// # Invariants
///
/// `io` describes the mapping of BAR `num` of `pdev`, which was requested for the driver and
/// stays mapped until `self` is dropped.
pub struct Bar<const SIZE: usize = 0> {
    pdev: ARef<Device>,
    io: IoRaw<SIZE>,
    num: i32,
}

impl<const SIZE: usize> Bar<SIZE> {
    fn new(pdev: ARef<Device>, num: u32, name: &'static CStr) -> Result<Self> {
        let len = pdev.resource_len(num)?;
        if len == 0 {
            dev_err!(pdev, "BAR {} is not implemented\n", num);
            return Err(ENODEV);
        }
        if pdev.resource_is_io(num)? {
            // `pci_iomap()` would return a port cookie, which the MMIO accessors cannot use.
            dev_err!(
                pdev,
                "BAR {} is an I/O-port BAR, not memory: not mapped\n",
                num
            );
            return Err(EINVAL);
        }
        let len = usize::try_from(len).map_err(|_| EINVAL)?;
        // CAST: `num < NUM_BARS`, checked by `resource_len`.
        let num = num as i32;

        // SAFETY: `pdev` is a valid PCI device and `num` a valid BAR; `name` outlives the
        // request (it is `'static`).
        let ret =
            unsafe { bindings::ei_pci_request_region(pdev.as_raw(), num, name.as_char_ptr()) };
        if ret != 0 {
            dev_err!(pdev, "cannot request BAR {}\n", num);
            return Err(EBUSY);
        }

        // SAFETY: `pdev` is a valid PCI device and `num` a requested BAR; 0 maps all of it.
        let ioptr = unsafe { bindings::ei_pci_iomap(pdev.as_raw(), num, 0) } as usize;
        if ioptr == 0 {
            // SAFETY: The region was requested above.
            unsafe { bindings::pci_release_region(pdev.as_raw(), num) };
            return Err(ENOMEM);
        }

        let io = match IoRaw::new(ioptr, len) {
            Ok(io) => io,
            Err(e) => {
                dev_err!(pdev, "BAR {} has {} bytes, fewer than {}\n", num, len, SIZE);
                // SAFETY: `ioptr` was mapped and the region requested above.
                unsafe { Self::do_release(&pdev, ioptr, num) };
                return Err(e);
            }
        };
        // INVARIANT: The BAR is requested and mapped at `io`.
        Ok(Self { pdev, io, num })
    }

    /// # Safety
    ///
    /// `ioptr` must be the mapping of the requested BAR `num` of `pdev`, unused from now on.
    unsafe fn do_release(pdev: &Device, ioptr: usize, num: i32) {
        // SAFETY: By the safety requirements, the mapping and the request are ours to undo.
        unsafe {
            bindings::pci_iounmap(pdev.as_raw(), ioptr as _);
            bindings::pci_release_region(pdev.as_raw(), num);
        }
    }
}

impl<const SIZE: usize> Drop for Bar<SIZE> {
    fn drop(&mut self) {
        // SAFETY: By the type invariant the BAR is mapped at `self.io` and requested; `self` is
        // going away, so nothing uses the mapping any more.
        unsafe { Self::do_release(&self.pdev, self.io.addr(), self.num) };
    }
}

impl<const SIZE: usize> Deref for Bar<SIZE> {
    type Target = Io<SIZE>;

    fn deref(&self) -> &Io<SIZE> {
        // SAFETY: By the type invariant the region is mapped for as long as `self` exists.
        unsafe { Io::from_raw(&self.io) }
    }
}

/// A PCI driver.
///
/// # Examples
///
/// ```no_run
/// use kernel::{c_str, pci};
///
/// struct EduDriver {
///     bar: kernel::devres::Devres<pci::Bar<0x100>>,
/// }
///
/// kernel::pci_device_table!(EDU_IDS, (), [(pci::DeviceId::from_id(0x1234, 0x11e8), ())]);
///
/// impl pci::Driver for EduDriver {
///     type IdInfo = ();
///     const ID_TABLE: &'static dyn pci::IdTable<()> = &EDU_IDS;
///
///     fn probe(pdev: &pci::Device<pci::Core>, _info: &()) -> Result<Pin<KBox<Self>>> {
///         pdev.enable_device_mem()?;
///         let bar = pdev.iomap_region_sized::<0x100>(0, c_str!("edu"))?;
///         let id = bar.try_access().ok_or(ENXIO)?.read32(0);
///         dev_info!(pdev, "edu version {}.{}\n", id >> 24, (id >> 16) & 0xff);
///         Ok(KBox::pin(Self { bar }, GFP_KERNEL)?)
///     }
/// }
/// ```
pub trait Driver: Send + Sync + Sized + 'static {
    /// The data of an id table entry, handed to `probe`.
    type IdInfo: 'static;

    /// The devices this driver binds to.
    const ID_TABLE: &'static dyn IdTable<Self::IdInfo>;

    /// Called when a device of the id table is found; returns the driver's data for it.
    ///
    /// The device may be enabled, mapped and set up for DMA here; everything tied to the device
    /// with [`Devres`] is released when it is unbound.
    ///
    /// `dev` is valid for the call only: a driver that needs the device later keeps an
    /// `ARef<pci::Device>` (`dev.into()`), which has no bound-only operations.
    fn probe(dev: &Device<Core>, id_info: &Self::IdInfo) -> Result<Pin<KBox<Self>>>;

    /// Called when the device is unbound, before the driver's data is dropped.
    fn unbind(_dev: &Device<Core>, _this: Pin<&Self>) {}
}

/// The glue between a [`Driver`] and the PCI core: its C callbacks and registration.
pub struct Adapter<T: Driver>(PhantomData<T>);

// SAFETY: `register` registers a `pci_driver` with the PCI core, and `unregister` unregisters
// it, after which the PCI core no longer uses it.
unsafe impl<T: Driver> driver::RegistrationOps for Adapter<T> {
    type RegType = bindings::pci_driver;

    unsafe fn register(
        reg: *mut bindings::pci_driver,
        name: &'static CStr,
        module: &'static ThisModule,
    ) -> Result {
        // SAFETY: The caller guarantees `reg` is valid and zeroed.
        unsafe {
            (*reg).name = name.as_char_ptr();
            (*reg).probe = Some(Self::probe_callback);
            (*reg).remove = Some(Self::remove_callback);
            (*reg).id_table = T::ID_TABLE.as_ptr();
        }
        // SAFETY: `reg` is valid and filled in; the id table and name are `'static`.
        to_result(unsafe {
            bindings::__pci_register_driver(reg, module.as_ptr(), name.as_char_ptr())
        })
    }

    unsafe fn unregister(reg: *mut bindings::pci_driver) {
        // SAFETY: The caller guarantees `reg` was registered.
        unsafe { bindings::pci_unregister_driver(reg) }
    }
}

impl<T: Driver> Adapter<T> {
    /// # Safety
    ///
    /// Called by the PCI core with a valid device and the matching entry of the id table, with
    /// the device lock held.
    unsafe extern "C" fn probe_callback(
        pdev: *mut bindings::pci_dev,
        id: *const bindings::pci_device_id,
    ) -> core::ffi::c_int {
        // SAFETY: `pdev` is valid, being probed (so bound for the callback) and locked, which is
        // what the `Core` context stands for.
        let dev = unsafe { &*pdev.cast::<Device<Core>>() };
        from_result(|| {
            // SAFETY: The PCI core passes an entry of our id table, whose `driver_data` is the
            // entry's index (see `IdArray`).
            let index = unsafe { (*id).driver_data };
            let info = T::ID_TABLE.info(index).ok_or(EINVAL)?;
            let data = T::probe(dev, info)?;
            // SAFETY: `pdev` is valid; the pointer is taken back in `remove_callback`.
            unsafe { (*pdev).dev.driver_data = data.into_foreign().cast_mut() };
            Ok(0)
        })
    }

    /// # Safety
    ///
    /// Called by the PCI core with a device that `probe_callback` bound, with the device lock
    /// held.
    unsafe extern "C" fn remove_callback(pdev: *mut bindings::pci_dev) {
        // SAFETY: As in `probe_callback`.
        let dev = unsafe { &*pdev.cast::<Device<Core>>() };
        // SAFETY: `probe_callback` stored the driver data there, and it is taken back once.
        let data = unsafe { Pin::<KBox<T>>::from_foreign((*pdev).dev.driver_data) };
        T::unbind(dev, data.as_ref());
        drop(data);
    }
}

/// Declares a kernel module that registers the PCI driver `type` while it is loaded.
///
/// Takes the fields of [`module!`](crate::prelude::module), whose `name` is also the driver's.
///
/// # Examples
///
/// ```ignore
/// kernel::module_pci_driver! {
///     type: MyDriver,
///     name: "my_driver",
///     author: "...",
///     description: "My PCI driver",
///     license: "GPL",
/// }
/// ```
#[macro_export]
macro_rules! module_pci_driver {
    (type: $type:ty, name: $name:tt, $($rest:tt)*) => {
        struct __ModulePciDriver {
            _reg: ::core::pin::Pin<
                $crate::alloc::KBox<$crate::driver::Registration<$crate::pci::Adapter<$type>>>,
            >,
        }

        impl $crate::Module for __ModulePciDriver {
            fn init(module: &'static $crate::ThisModule) -> $crate::error::Result<Self> {
                // Named through the trait, so that the macro works without the prelude.
                let reg = <$crate::alloc::KBox<_> as $crate::init::InPlaceInit<_>>::pin_init(
                    $crate::driver::Registration::new($crate::c_str!($name), module),
                    $crate::alloc::flags::GFP_KERNEL,
                )?;
                Ok(Self { _reg: reg })
            }
        }

        // `$name` is matched as a token tree, not a literal: `module!` needs to see the string
        // literal itself, not a macro fragment wrapping it.
        $crate::prelude::module! {
            type: __ModulePciDriver,
            name: $name,
            $($rest)*
        }
    };
}
