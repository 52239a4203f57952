// SPDX-License-Identifier: GPL-2.0

//! Bus-independent driver registration.
//!
//! Every bus (PCI, platform, ...) has its own C driver structure (`struct pci_driver`, ...) and
//! its own register and unregister calls. A bus abstraction describes them once by implementing
//! [`RegistrationOps`]; a driver then registers with [`Registration`], which unregisters it when
//! dropped, so a module cannot leave a driver registered behind it.
//!
//! The device states a bus abstraction hands to drivers are described in
//! [`crate::device::DeviceContext`].
//!
//! C header: [`include/linux/device/driver.h`](srctree/include/linux/device/driver.h)

use crate::{
    error::Result,
    init::{self, PinInit},
    str::CStr,
    types::Opaque,
    ThisModule,
};
use core::{marker::PhantomData, pin::Pin};
use macros::{pin_data, pinned_drop};

/// How a bus registers and unregisters its C driver structure.
///
/// # Safety
///
/// `register` must leave the driver registered with the bus when it returns `Ok`, and nothing
/// registered when it returns an error; `unregister` must undo a successful `register`, after
/// which the bus no longer uses the structure.
pub unsafe trait RegistrationOps {
    /// The bus's C driver structure, e.g. `bindings::pci_driver`.
    type RegType;

    /// Fills in and registers the driver structure `reg`, which is zeroed.
    ///
    /// # Safety
    ///
    /// `reg` must be valid, pinned, and not registered; if this returns `Ok`, it must stay valid
    /// until [`RegistrationOps::unregister`] is called on it.
    unsafe fn register(
        reg: *mut Self::RegType,
        name: &'static CStr,
        module: &'static ThisModule,
    ) -> Result;

    /// Unregisters the driver structure `reg`.
    ///
    /// # Safety
    ///
    /// `reg` must have been registered successfully with [`RegistrationOps::register`].
    unsafe fn unregister(reg: *mut Self::RegType);
}

/// A driver registered with its bus, unregistered when this is dropped.
///
/// # Invariants
///
/// `reg` is registered with the bus for as long as the `Registration` exists.
///
/// # Examples
///
/// Bus abstractions provide `module_*_driver!` macros that keep a `Registration` in the module;
/// a driver does not create one itself. See `kernel::pci::module_pci_driver!`.
#[pin_data(PinnedDrop)]
pub struct Registration<T: RegistrationOps> {
    #[pin]
    reg: Opaque<T::RegType>,
    _ops: PhantomData<T>,
}

// SAFETY: The bus synchronises its own accesses to the registered structure; `Registration` only
// passes its address to `unregister`, which may happen on any thread.
unsafe impl<T: RegistrationOps> Send for Registration<T> {}

// SAFETY: `Registration` has no methods that take `&self`; sharing it is harmless.
unsafe impl<T: RegistrationOps> Sync for Registration<T> {}

impl<T: RegistrationOps> Registration<T> {
    /// Registers a driver named `name`, owned by `module`, with its bus.
    pub fn new(
        name: &'static CStr,
        module: &'static ThisModule,
    ) -> impl PinInit<Self, crate::error::Error> {
        let init = move |slot: *mut Self| {
            // SAFETY: `slot` is valid for writes; `reg` is zeroed, as `register` expects, before
            // anything reads it.
            let reg = unsafe { Opaque::raw_get(core::ptr::addr_of!((*slot).reg)) };
            // SAFETY: `reg` points into `slot`, which is valid for writes.
            unsafe { reg.write_bytes(0, 1) };
            // SAFETY: `reg` is valid, pinned (it is inside a pinned slot) and not registered; if
            // registering fails, nothing needs undoing and the slot is not considered
            // initialised.
            unsafe { T::register(reg, name, module) }
            // INVARIANT: On success, `reg` is registered.
        };
        // SAFETY: The closure initialises every field of `Self` (the `PhantomData` needs no
        // initialisation) on success, and leaves nothing to undo on failure.
        unsafe { init::pin_init_from_closure(init) }
    }
}

#[pinned_drop]
impl<T: RegistrationOps> PinnedDrop for Registration<T> {
    fn drop(self: Pin<&mut Self>) {
        // SAFETY: By the type invariant, `reg` is registered.
        unsafe { T::unregister(self.reg.get()) };
    }
}
