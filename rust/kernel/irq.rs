// SPDX-License-Identifier: GPL-2.0

//! Interrupt handlers.
//!
//! A [`Registration`] requests an interrupt line for a [`Handler`] and frees it when dropped;
//! a [`ThreadedRegistration`] does the same for a [`ThreadedHandler`], whose slow part runs in a
//! kernel thread. Freeing waits for running handlers to return, so the handler may borrow
//! nothing shorter-lived than the registration.
//!
//! Bus abstractions hand out registrations as [`Devres`](crate::devres::Devres) values (see
//! `pci::Device::request_irq`), so that the interrupt is freed when the device is unbound.
//!
//! C header: [`include/linux/interrupt.h`](srctree/include/linux/interrupt.h)

use crate::{
    bindings,
    error::{to_result, Error, Result},
    init::{self, PinInit},
    str::CStr,
};
use core::{ffi::c_void, marker::PhantomPinned, pin::Pin};
use macros::{pin_data, pinned_drop};

/// Flags for requesting an interrupt (`IRQF_*`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Flags(u32);

impl Flags {
    /// No flags: an exclusive interrupt line.
    pub const NONE: Flags = Flags(0);

    /// The line may be shared with other devices (`IRQF_SHARED`); the handler must return
    /// [`IrqReturn::None`] for interrupts its device did not raise.
    pub const SHARED: Flags = Flags(bindings::IRQF_SHARED);
}

impl core::ops::BitOr for Flags {
    type Output = Flags;

    fn bitor(self, rhs: Flags) -> Flags {
        Flags(self.0 | rhs.0)
    }
}

/// What a handler did with an interrupt.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum IrqReturn {
    /// The interrupt was not raised by this device (`IRQ_NONE`).
    None,
    /// The interrupt was handled (`IRQ_HANDLED`).
    Handled,
}

impl IrqReturn {
    fn into_raw(self) -> bindings::irqreturn_t {
        match self {
            IrqReturn::None => bindings::irqreturn_IRQ_NONE,
            IrqReturn::Handled => bindings::irqreturn_IRQ_HANDLED,
        }
    }
}

/// What the primary (hard interrupt) part of a threaded handler did.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ThreadedIrqReturn {
    /// The interrupt was not raised by this device (`IRQ_NONE`).
    None,
    /// The interrupt was handled completely (`IRQ_HANDLED`).
    Handled,
    /// Run [`ThreadedHandler::handle_threaded`] (`IRQ_WAKE_THREAD`).
    WakeThread,
}

/// An interrupt handler, called in hard interrupt context.
///
/// It must not sleep; it should find out whether its device raised the interrupt, acknowledge
/// it, and return.
pub trait Handler: Sync {
    /// Handles an interrupt.
    fn handle(&self) -> IrqReturn;
}

/// A threaded interrupt handler: a quick part in hard interrupt context and a part that runs
/// in a kernel thread and may sleep.
pub trait ThreadedHandler: Sync {
    /// Handles the interrupt in hard interrupt context; by default, wakes the thread.
    fn handle(&self) -> ThreadedIrqReturn {
        ThreadedIrqReturn::WakeThread
    }

    /// Handles the interrupt in the interrupt's kernel thread.
    fn handle_threaded(&self) -> IrqReturn;
}

/// # Safety
///
/// `ptr` must be the address of a live `Registration<T>`, as passed to `request_irq()`.
unsafe extern "C" fn handle_irq_callback<T: Handler>(
    _irq: core::ffi::c_int,
    ptr: *mut c_void,
) -> bindings::irqreturn_t {
    // SAFETY: By the safety requirements `ptr` points to a live registration; it is freed only
    // after `free_irq()` returned, which waits for running handlers.
    let registration = unsafe { &*ptr.cast::<Registration<T>>() };
    registration.handler.handle().into_raw()
}

/// Writes `irq` and `handler` into the registration at `slot` and requests the interrupt with
/// `request`, which gets `slot` as the cookie; drops the handler again if the request fails.
///
/// Shared by [`Registration::new`] and [`ThreadedRegistration::new`].
///
/// # Safety
///
/// `slot` must be valid for writes and pinned, and `irq_field` and `handler_field` must point to
/// its `irq` and `handler` fields.
unsafe fn init_registration<S, T>(
    slot: *mut S,
    irq_field: *mut u32,
    handler_field: *mut T,
    irq: u32,
    handler: T,
    request: impl FnOnce(*mut c_void) -> core::ffi::c_int,
) -> Result {
    // SAFETY: By the safety requirements both fields are valid for writes.
    unsafe {
        irq_field.write(irq);
        handler_field.write(handler);
    }
    if let Err(e) = to_result(request(slot.cast())) {
        // SAFETY: The handler was written above and nothing else refers to it.
        unsafe { core::ptr::drop_in_place(handler_field) };
        return Err(e);
    }
    Ok(())
}

/// Frees interrupt `irq` requested with the registration at `cookie`.
///
/// # Safety
///
/// The interrupt must be requested with `cookie`; after this returns no handler runs with it.
unsafe fn free_registration<S>(irq: u32, cookie: &S) {
    // SAFETY: By the safety requirements; `free_irq()` waits for running handlers (and threads).
    unsafe { bindings::free_irq(irq, core::ptr::from_ref(cookie).cast_mut().cast()) };
}

/// A requested interrupt line with its handler, freed when dropped.
///
/// # Invariants
///
/// The interrupt `irq` is requested with the address of `self` as its cookie, until `self` is
/// dropped.
///
/// # Examples
///
/// ```no_run
/// use core::sync::atomic::{AtomicU32, Ordering};
/// use kernel::{c_str, irq};
///
/// struct Counter(AtomicU32);
///
/// impl irq::Handler for Counter {
///     fn handle(&self) -> irq::IrqReturn {
///         self.0.fetch_add(1, Ordering::Relaxed);
///         irq::IrqReturn::Handled
///     }
/// }
///
/// fn setup(irq: u32) -> Result<Pin<KBox<irq::Registration<Counter>>>> {
///     let handler = Counter(AtomicU32::new(0));
///     let reg = irq::Registration::new(irq, irq::Flags::SHARED, c_str!("my_irq"), handler);
///     KBox::pin_init(reg, GFP_KERNEL)
/// }
/// ```
#[pin_data(PinnedDrop)]
pub struct Registration<T: Handler> {
    irq: u32,
    handler: T,
    #[pin]
    _pin: PhantomPinned,
}

// SAFETY: Dropping the registration (freeing the interrupt) may happen on any thread; the
// handler is moved along with it.
unsafe impl<T: Handler + Send> Send for Registration<T> {}

// SAFETY: `&Registration` only gives out `&T`, and `T: Sync` (the handler runs concurrently).
unsafe impl<T: Handler> Sync for Registration<T> {}

impl<T: Handler + 'static> Registration<T> {
    /// Requests interrupt `irq` for `handler`, under the name `name` (shown in
    /// `/proc/interrupts`).
    pub fn new(
        irq: u32,
        flags: Flags,
        name: &'static CStr,
        handler: T,
    ) -> impl PinInit<Self, Error> {
        let init = move |slot: *mut Self| {
            // SAFETY: `slot` is valid for writes and pinned, and the fields are its own. The
            // callback matches `T`, the cookie stays valid until `free_irq()` in `drop`, and
            // `name` is `'static`.
            // INVARIANT: On success the interrupt is requested with `slot` as the cookie.
            unsafe {
                init_registration(
                    slot,
                    core::ptr::addr_of_mut!((*slot).irq),
                    core::ptr::addr_of_mut!((*slot).handler),
                    irq,
                    handler,
                    |cookie| {
                        bindings::request_irq(
                            irq,
                            Some(handle_irq_callback::<T>),
                            // CAST: `IRQF_*` flags fit the C `unsigned long`.
                            flags.0 as _,
                            name.as_char_ptr(),
                            cookie,
                        )
                    },
                )
            }
        };
        // SAFETY: The closure initialises every field on success and leaves nothing behind on
        // failure.
        unsafe { init::pin_init_from_closure(init) }
    }

    /// Returns the handler.
    pub fn handler(&self) -> &T {
        &self.handler
    }

    /// Returns the interrupt number.
    pub fn irq(&self) -> u32 {
        self.irq
    }
}

#[pinned_drop]
impl<T: Handler> PinnedDrop for Registration<T> {
    fn drop(self: Pin<&mut Self>) {
        // SAFETY: By the type invariant the interrupt is requested with this cookie.
        unsafe { free_registration(self.irq, &*self) };
    }
}

/// # Safety
///
/// `ptr` must be the address of a live `ThreadedRegistration<T>`.
unsafe extern "C" fn handle_threaded_primary<T: ThreadedHandler>(
    _irq: core::ffi::c_int,
    ptr: *mut c_void,
) -> bindings::irqreturn_t {
    // SAFETY: As for `handle_irq_callback`.
    let registration = unsafe { &*ptr.cast::<ThreadedRegistration<T>>() };
    match registration.handler.handle() {
        ThreadedIrqReturn::None => bindings::irqreturn_IRQ_NONE,
        ThreadedIrqReturn::Handled => bindings::irqreturn_IRQ_HANDLED,
        ThreadedIrqReturn::WakeThread => bindings::irqreturn_IRQ_WAKE_THREAD,
    }
}

/// # Safety
///
/// `ptr` must be the address of a live `ThreadedRegistration<T>`.
unsafe extern "C" fn handle_threaded_thread<T: ThreadedHandler>(
    _irq: core::ffi::c_int,
    ptr: *mut c_void,
) -> bindings::irqreturn_t {
    // SAFETY: As for `handle_irq_callback`; `free_irq()` also stops the thread.
    let registration = unsafe { &*ptr.cast::<ThreadedRegistration<T>>() };
    registration.handler.handle_threaded().into_raw()
}

/// A requested interrupt line with a threaded handler, freed when dropped.
///
/// # Invariants
///
/// The interrupt `irq` is requested with the address of `self` as its cookie, until `self` is
/// dropped.
#[pin_data(PinnedDrop)]
pub struct ThreadedRegistration<T: ThreadedHandler> {
    irq: u32,
    handler: T,
    #[pin]
    _pin: PhantomPinned,
}

// SAFETY: As for `Registration`.
unsafe impl<T: ThreadedHandler + Send> Send for ThreadedRegistration<T> {}

// SAFETY: As for `Registration`.
unsafe impl<T: ThreadedHandler> Sync for ThreadedRegistration<T> {}

impl<T: ThreadedHandler + 'static> ThreadedRegistration<T> {
    /// Requests interrupt `irq` for the threaded `handler`, under the name `name`.
    ///
    /// The line stays masked until the thread has run (`IRQF_ONESHOT`).
    pub fn new(
        irq: u32,
        flags: Flags,
        name: &'static CStr,
        handler: T,
    ) -> impl PinInit<Self, Error> {
        let init = move |slot: *mut Self| {
            // SAFETY: As in `Registration::new`; both callbacks match `T`.
            // INVARIANT: On success the interrupt is requested with `slot` as the cookie.
            unsafe {
                init_registration(
                    slot,
                    core::ptr::addr_of_mut!((*slot).irq),
                    core::ptr::addr_of_mut!((*slot).handler),
                    irq,
                    handler,
                    |cookie| {
                        bindings::request_threaded_irq(
                            irq,
                            Some(handle_threaded_primary::<T>),
                            Some(handle_threaded_thread::<T>),
                            // CAST: `IRQF_*` flags fit the C `unsigned long`.
                            (flags.0 | bindings::IRQF_ONESHOT) as _,
                            name.as_char_ptr(),
                            cookie,
                        )
                    },
                )
            }
        };
        // SAFETY: The closure initialises every field on success and leaves nothing behind on
        // failure.
        unsafe { init::pin_init_from_closure(init) }
    }

    /// Returns the handler.
    pub fn handler(&self) -> &T {
        &self.handler
    }
}

#[pinned_drop]
impl<T: ThreadedHandler> PinnedDrop for ThreadedRegistration<T> {
    fn drop(self: Pin<&mut Self>) {
        // SAFETY: By the type invariant the interrupt is requested with this cookie.
        unsafe { free_registration(self.irq, &*self) };
    }
}
