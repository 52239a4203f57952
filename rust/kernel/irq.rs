// SPDX-License-Identifier: GPL-2.0

//! Interrupt handlers.
//!
//! A [`Registration`] requests an interrupt line for a [`Handler`] and frees it when dropped;
//! a [`ThreadedRegistration`] does the same for a [`ThreadedHandler`], whose slow part runs in a
//! kernel thread. Freeing waits for running handlers to return.
//!
//! An interrupt can only be requested for a bound device, through an [`IrqRequest`] that the bus
//! hands out (for example `pci::Device::irq_vector`): there is no way to request an arbitrary
//! interrupt number from safe code. The interrupt is also freed when the device is unbound, by a
//! device-managed action, so a registration that a driver leaks or keeps too long (in an open
//! file, say) never has its handler called after the binding ended, and the bus can free the
//! interrupt vectors after every interrupt of the device is freed.
//!
//! C header: [`include/linux/interrupt.h`](srctree/include/linux/interrupt.h)

use crate::{
    alloc::flags::GFP_KERNEL,
    bindings, build_error,
    device::{Bound, Device},
    devres::Devres,
    error::{to_result, Error, Result, VTABLE_DEFAULT_ERROR},
    init::{self, PinInit},
    str::CStr,
};
use core::{ffi::c_void, marker::PhantomPinned, ptr::addr_of_mut};
use macros::{pin_data, vtable};

/// Runs `f` with interrupts disabled on this CPU (`local_irq_save()`/`local_irq_restore()`),
/// and returns its result.
///
/// A lock that an interrupt handler takes must be taken with interrupts disabled everywhere
/// else, or the handler could interrupt its holder on the same CPU and wait for ever (lockdep
/// reports such a lock as "inconsistent lock state"). `f` must not sleep; keep it short. Its
/// result must not borrow anything (`'static`), so that a lock guard cannot outlive the
/// section. (On `PREEMPT_RT` kernels a `SpinLock` sleeps, and may not be taken in here.)
///
/// # Examples
///
/// ```
/// use kernel::{irq, new_spinlock, stack_pin_init, sync::SpinLock};
///
/// // A lock the driver's interrupt handler takes as well.
/// stack_pin_init!(let counter = new_spinlock!(0u32));
/// let n = irq::with_local_irqs_disabled(|| {
///     let mut c = counter.lock();
///     *c += 1;
///     *c
/// });
/// assert_eq!(n, 1);
/// ```
pub fn with_local_irqs_disabled<R: 'static>(f: impl FnOnce() -> R) -> R {
    // SAFETY: Disabling interrupts on this CPU is always allowed; they are restored below, in
    // the order they were saved even if `f` nests another call.
    let flags = unsafe { bindings::local_irq_save() };
    let r = f();
    // SAFETY: `flags` was saved above on this CPU (the task cannot migrate with interrupts off).
    unsafe { bindings::local_irq_restore(flags) };
    r
}

/// Flags for requesting an interrupt (`IRQF_*`).
///
/// Combine them with `|`. Only the flags that make sense for a device driver's interrupt are
/// offered: per-CPU and timer interrupts have their own C interfaces, `IRQF_NO_AUTOEN` needs an
/// `enable_irq()` this module does not offer, and the suspend flags (`IRQF_NO_SUSPEND`,
/// `IRQF_FORCE_RESUME`, ...) make the kernel warn when the users of a shared line disagree on
/// them, which a Rust driver should not be able to cause. (A C driver that sets them on a line a
/// Rust driver then shares still gets that warning, as between two C drivers.)
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Flags(u32);

impl Flags {
    /// No flags: an exclusive interrupt line, with the trigger type the platform set up.
    pub const NONE: Flags = Flags(0);

    /// The line may be shared with other devices (`IRQF_SHARED`); the handler must return
    /// [`IrqReturn::None`] for interrupts its device did not raise.
    pub const SHARED: Flags = Flags(bindings::IRQF_SHARED);

    /// Expect a mismatch of sharing flags with another user of the line (`IRQF_PROBE_SHARED`).
    pub const PROBE_SHARED: Flags = Flags(bindings::IRQF_PROBE_SHARED);

    /// Keep the line masked until the threaded handler has run (`IRQF_ONESHOT`), for
    /// level-triggered devices that can only be quietened from the thread.
    ///
    /// [`ThreadedRegistration`] adds it by itself when the handler has no hard-interrupt part.
    pub const ONESHOT: Flags = Flags(bindings::IRQF_ONESHOT);

    /// Trigger on the rising edge (`IRQF_TRIGGER_RISING`).
    pub const TRIGGER_RISING: Flags = Flags(bindings::IRQF_TRIGGER_RISING);

    /// Trigger on the falling edge (`IRQF_TRIGGER_FALLING`).
    pub const TRIGGER_FALLING: Flags = Flags(bindings::IRQF_TRIGGER_FALLING);

    /// Trigger while the line is high (`IRQF_TRIGGER_HIGH`).
    pub const TRIGGER_HIGH: Flags = Flags(bindings::IRQF_TRIGGER_HIGH);

    /// Trigger while the line is low (`IRQF_TRIGGER_LOW`).
    pub const TRIGGER_LOW: Flags = Flags(bindings::IRQF_TRIGGER_LOW);

    /// Exclude the interrupt from balancing across CPUs (`IRQF_NOBALANCING`).
    pub const NOBALANCING: Flags = Flags(bindings::IRQF_NOBALANCING);

    /// Never force-thread the handler (`IRQF_NO_THREAD`).
    pub const NO_THREAD: Flags = Flags(bindings::IRQF_NO_THREAD);

    /// Returns the C flags.
    pub const fn as_raw(self) -> u32 {
        self.0
    }

    /// Returns whether every flag of `other` is set in `self`.
    pub const fn contains(self, other: Flags) -> bool {
        self.0 & other.0 == other.0
    }
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

/// A threaded interrupt handler: an optional quick part in hard interrupt context, and a part
/// that runs in a kernel thread and may sleep.
///
/// Implement it with `#[vtable]`. Without [`ThreadedHandler::handle`], the line stays masked
/// (`IRQF_ONESHOT`) until the thread has run, as the C `request_threaded_irq()` requires when
/// there is no primary handler.
#[vtable]
pub trait ThreadedHandler: Sync {
    /// Handles the interrupt in hard interrupt context: checks and acknowledges the device, and
    /// says whether to wake the thread.
    fn handle(&self) -> ThreadedIrqReturn {
        build_error!(VTABLE_DEFAULT_ERROR)
    }

    /// Handles the interrupt in the interrupt's kernel thread.
    fn handle_threaded(&self) -> IrqReturn;
}

/// The right to request one interrupt of a bound device.
///
/// Bus abstractions create it for the interrupts a device really has (e.g. the vectors of a PCI
/// device), checked once; it lives no longer than the `&Device<Bound>` it came from.
///
/// # Invariants
///
/// `irq` is an interrupt of `dev` that its driver may request while `dev` is bound.
pub struct IrqRequest<'a> {
    dev: &'a Device<Bound>,
    irq: u32,
}

impl<'a> IrqRequest<'a> {
    /// Creates the right to request interrupt `irq` for `dev`.
    ///
    /// # Safety
    ///
    /// `irq` must be an interrupt of `dev` (for example one of its PCI vectors) that stays valid
    /// for as long as `dev` is bound, and that the bus frees (if it allocated it) only after
    /// every managed resource registered after this call is released.
    pub unsafe fn new(dev: &'a Device<Bound>, irq: u32) -> Self {
        // INVARIANT: By the safety requirements.
        Self { dev, irq }
    }

    /// Returns the interrupt number.
    pub fn irq(&self) -> u32 {
        self.irq
    }

    /// Returns the device.
    pub fn device(&self) -> &'a Device<Bound> {
        self.dev
    }
}

/// A requested interrupt, freed when dropped.
///
/// # Invariants
///
/// `irq` is requested with `cookie`, until `self` is dropped.
struct RequestedIrq {
    irq: u32,
    cookie: *mut c_void,
}

// SAFETY: `free_irq()` may be called from any thread; the cookie is only compared by the C side.
unsafe impl Send for RequestedIrq {}

// SAFETY: `&RequestedIrq` only allows reading the interrupt number.
unsafe impl Sync for RequestedIrq {}

impl Devres<RequestedIrq> {
    /// Waits for running handlers of the interrupt (see [`Registration::synchronize`]).
    fn synchronize(&self, dev: &Device<Bound>) -> Result {
        let irq = self.access(dev)?;
        // SAFETY: The interrupt is requested while `irq` is accessible; `synchronize_irq()` may
        // sleep, which is allowed here (no RCU read-side critical section is held).
        unsafe { bindings::synchronize_irq(irq.irq) };
        Ok(())
    }

    /// Returns the interrupt number, or `None` once it was freed.
    fn number(&self) -> Option<u32> {
        self.try_access_with(|irq| irq.irq)
    }
}

impl Drop for RequestedIrq {
    fn drop(&mut self) {
        // SAFETY: By the type invariant the interrupt is requested with this cookie;
        // `free_irq()` waits for running handlers (and the thread) to return.
        unsafe { bindings::free_irq(self.irq, self.cookie) };
    }
}

/// Writes `handler` into `handler_field`, requests the interrupt of `request` with `slot` as the
/// cookie through `request_fn`, and ties it to the device's binding in `irq_field`; on failure
/// frees what it did and drops the handler.
///
/// Shared by [`Registration::new`] and [`ThreadedRegistration::new`].
///
/// # Safety
///
/// `slot` must be valid for writes and pinned until the field written to `irq_field` is dropped,
/// which must happen before `handler_field` is dropped; the two fields must be inside `slot`, and
/// `request_fn` must request the interrupt with handlers that read `handler_field` through the
/// cookie.
unsafe fn init_registration<S, T>(
    slot: *mut S,
    irq_field: *mut Devres<RequestedIrq>,
    handler_field: *mut T,
    request: IrqRequest<'_>,
    handler: T,
    request_fn: impl FnOnce(u32, *mut c_void) -> core::ffi::c_int,
) -> Result {
    let cookie = slot.cast::<c_void>();
    // SAFETY: By the safety requirements the field is valid for writes.
    unsafe { handler_field.write(handler) };
    if let Err(e) = to_result(request_fn(request.irq, cookie)) {
        // SAFETY: The handler was written above, and no interrupt refers to it.
        unsafe { core::ptr::drop_in_place(handler_field) };
        return Err(e);
    }
    // INVARIANT: The interrupt was requested with `cookie` just above.
    let requested = RequestedIrq {
        irq: request.irq,
        cookie,
    };
    match Devres::new(request.dev, requested, GFP_KERNEL) {
        Ok(devres) => {
            // SAFETY: By the safety requirements the field is valid for writes.
            unsafe { irq_field.write(devres) };
            Ok(())
        }
        Err(e) => {
            // `Devres::new` dropped `requested`, which freed the interrupt: no handler runs.
            // SAFETY: The handler was written above and nothing refers to it any more.
            unsafe { core::ptr::drop_in_place(handler_field) };
            Err(e)
        }
    }
}

/// # Safety
///
/// `ptr` must be the address of a `Registration<T>` whose handler is initialised and not yet
/// dropped, as passed to `request_irq()`.
unsafe extern "C" fn handle_irq_callback<T: Handler>(
    _irq: core::ffi::c_int,
    ptr: *mut c_void,
) -> bindings::irqreturn_t {
    // SAFETY: By the safety requirements `ptr` points to a registration whose handler was
    // written before the interrupt was requested, and is dropped only after `free_irq()`
    // returned, which waits for running handlers. Only the handler is referenced: the other
    // fields may be written or dropped meanwhile.
    let handler = unsafe { &*core::ptr::addr_of!((*ptr.cast::<Registration<T>>()).handler) };
    handler.handle().into_raw()
}

/// A requested interrupt line with its handler, freed when dropped or when the device is
/// unbound, whichever comes first.
///
/// # Invariants
///
/// The interrupt of `irq` is requested with the address of `self` as its cookie until `irq` is
/// released (on unbind, or when `self` is dropped, before `handler`).
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
/// // A bus hands out the `IrqRequest`, e.g. `pci::Device::irq_vector(0)` in `probe`.
/// fn setup(request: irq::IrqRequest<'_>) -> Result<Pin<KBox<irq::Registration<Counter>>>> {
///     let handler = Counter(AtomicU32::new(0));
///     let reg = irq::Registration::new(request, irq::Flags::SHARED, c_str!("my_irq"), handler);
///     KBox::pin_init(reg, GFP_KERNEL)
/// }
/// ```
#[pin_data]
pub struct Registration<T: Handler> {
    // Declared first: dropped (freeing the interrupt) before the handler.
    irq: Devres<RequestedIrq>,
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
    /// Requests the interrupt of `request` for `handler`, under the name `name` (shown in
    /// `/proc/interrupts`).
    pub fn new<'a>(
        request: IrqRequest<'a>,
        flags: Flags,
        name: &'static CStr,
        handler: T,
    ) -> impl PinInit<Self, Error> + 'a
    where
        T: 'a,
    {
        let init = move |slot: *mut Self| {
            // SAFETY: `slot` is valid for writes and pinned, and the fields are its own; `irq` is
            // dropped before `handler`. The callback reads the handler of the `Registration<T>`
            // at the cookie, and `name` is `'static`.
            // INVARIANT: On success the interrupt is requested with `slot` as the cookie.
            unsafe {
                init_registration(
                    slot,
                    addr_of_mut!((*slot).irq),
                    addr_of_mut!((*slot).handler),
                    request,
                    handler,
                    |irq, cookie| {
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
        // SAFETY: The closure initialises every field on success (`_pin` needs nothing) and
        // leaves nothing behind on failure.
        unsafe { init::pin_init_from_closure(init) }
    }

    /// Returns the handler.
    pub fn handler(&self) -> &T {
        &self.handler
    }

    /// Waits for running handlers of the interrupt to return (`synchronize_irq()`).
    ///
    /// Takes the bound device, which keeps the interrupt requested; fails with `EINVAL` for
    /// another device and `ENXIO` once the interrupt was freed by an earlier unbind.
    pub fn synchronize(&self, dev: &Device<Bound>) -> Result {
        self.irq.synchronize(dev)
    }

    /// Returns the interrupt number, or `None` once it was freed (on unbind).
    pub fn irq(&self) -> Option<u32> {
        self.irq.number()
    }
}

/// # Safety
///
/// `ptr` must be the address of a `ThreadedRegistration<T>` whose handler is initialised and not
/// yet dropped.
unsafe extern "C" fn handle_threaded_primary<T: ThreadedHandler>(
    _irq: core::ffi::c_int,
    ptr: *mut c_void,
) -> bindings::irqreturn_t {
    // SAFETY: As for `handle_irq_callback`.
    let handler =
        unsafe { &*core::ptr::addr_of!((*ptr.cast::<ThreadedRegistration<T>>()).handler) };
    match handler.handle() {
        ThreadedIrqReturn::None => bindings::irqreturn_IRQ_NONE,
        ThreadedIrqReturn::Handled => bindings::irqreturn_IRQ_HANDLED,
        ThreadedIrqReturn::WakeThread => bindings::irqreturn_IRQ_WAKE_THREAD,
    }
}

/// # Safety
///
/// `ptr` must be the address of a `ThreadedRegistration<T>` whose handler is initialised and not
/// yet dropped.
unsafe extern "C" fn handle_threaded_thread<T: ThreadedHandler>(
    _irq: core::ffi::c_int,
    ptr: *mut c_void,
) -> bindings::irqreturn_t {
    // SAFETY: As for `handle_irq_callback`; `free_irq()` also stops the thread.
    let handler =
        unsafe { &*core::ptr::addr_of!((*ptr.cast::<ThreadedRegistration<T>>()).handler) };
    handler.handle_threaded().into_raw()
}

/// A requested interrupt line with a threaded handler, freed when dropped or when the device is
/// unbound, whichever comes first.
///
/// # Invariants
///
/// As for [`Registration`].
///
/// # Examples
///
/// ```no_run
/// use kernel::{c_str, irq, prelude::*};
///
/// struct Slow;
///
/// // No `handle`: the line stays masked until the thread has run (`IRQF_ONESHOT`).
/// #[vtable]
/// impl irq::ThreadedHandler for Slow {
///     fn handle_threaded(&self) -> irq::IrqReturn {
///         irq::IrqReturn::Handled
///     }
/// }
///
/// fn setup(request: irq::IrqRequest<'_>) -> Result<Pin<KBox<irq::ThreadedRegistration<Slow>>>> {
///     let reg = irq::ThreadedRegistration::new(request, irq::Flags::NONE, c_str!("slow"), Slow);
///     KBox::pin_init(reg, GFP_KERNEL)
/// }
/// ```
#[pin_data]
pub struct ThreadedRegistration<T: ThreadedHandler> {
    // Declared first: dropped (freeing the interrupt) before the handler.
    irq: Devres<RequestedIrq>,
    handler: T,
    #[pin]
    _pin: PhantomPinned,
}

// SAFETY: As for `Registration`.
unsafe impl<T: ThreadedHandler + Send> Send for ThreadedRegistration<T> {}

// SAFETY: As for `Registration`.
unsafe impl<T: ThreadedHandler> Sync for ThreadedRegistration<T> {}

impl<T: ThreadedHandler + 'static> ThreadedRegistration<T> {
    /// The flags the interrupt is requested with, given the caller's `flags`: `IRQF_ONESHOT` is
    /// added when the handler has no hard-interrupt part.
    pub fn effective_flags(flags: Flags) -> Flags {
        if T::HAS_HANDLE {
            flags
        } else {
            flags | Flags::ONESHOT
        }
    }

    /// Requests the interrupt of `request` for the threaded `handler`, under the name `name`.
    ///
    /// `IRQF_ONESHOT` is set only if `flags` has it, or if the handler has no
    /// [`ThreadedHandler::handle`].
    pub fn new<'a>(
        request: IrqRequest<'a>,
        flags: Flags,
        name: &'static CStr,
        handler: T,
    ) -> impl PinInit<Self, Error> + 'a
    where
        T: 'a,
    {
        let flags = Self::effective_flags(flags);
        let primary: bindings::irq_handler_t = if T::HAS_HANDLE {
            Some(handle_threaded_primary::<T>)
        } else {
            None
        };
        let init = move |slot: *mut Self| {
            // SAFETY: As in `Registration::new`; both callbacks read the handler of the
            // `ThreadedRegistration<T>` at the cookie.
            // INVARIANT: On success the interrupt is requested with `slot` as the cookie.
            unsafe {
                init_registration(
                    slot,
                    addr_of_mut!((*slot).irq),
                    addr_of_mut!((*slot).handler),
                    request,
                    handler,
                    |irq, cookie| {
                        bindings::ei_request_threaded_irq(
                            irq,
                            primary,
                            Some(handle_threaded_thread::<T>),
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

    /// Waits for running handlers, and the thread, to finish (`synchronize_irq()`); see
    /// [`Registration::synchronize`].
    pub fn synchronize(&self, dev: &Device<Bound>) -> Result {
        self.irq.synchronize(dev)
    }

    /// Returns the interrupt number, or `None` once it was freed (on unbind).
    pub fn irq(&self) -> Option<u32> {
        self.irq.number()
    }
}
