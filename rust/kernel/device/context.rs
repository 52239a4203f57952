// SPDX-License-Identifier: GPL-2.0

//! The states a device is in, as seen by its driver.
//!
//! Bus abstractions give drivers device references tagged with a context type, so that the
//! compiler refuses an operation in a state where it is not allowed:
//!
//! - [`Normal`]: any reference to the device. Allows what is always safe (reading ids, taking a
//!   reference, logging).
//! - [`Bound`]: the device is bound to the driver for the duration of the reference. Allows
//!   operations that need a bound device and release their resources on unbind (mapping I/O
//!   memory, requesting interrupts, allocating DMA memory).
//! - [`Core`]: the reference was given to a bus callback (`probe`, `remove`) that runs with the
//!   device lock held. Allows everything [`Bound`] does plus operations that need the lock
//!   (enabling the device, bus mastering).
//!
//! A `Core` or `Bound` device dereferences to the less privileged contexts, never the other way.
//! Only a [`Normal`] device can be reference-counted (`ARef<Device>`), so a `Bound` or `Core`
//! reference lives no longer than the bus callback that was given it: nothing can keep one past
//! the binding.
//!
//! Operations that need a bound device but not the lock take `&Device<Bound>` (a `&Device<Core>`
//! dereferences to it); bus devices that are generic over the context use [`BoundContext`].

mod private {
    pub trait Sealed {}

    impl Sealed for super::Normal {}
    impl Sealed for super::Bound {}
    impl Sealed for super::Core {}
}

/// A device context: [`Normal`], [`Bound`] or [`Core`].
pub trait DeviceContext: private::Sealed {}

/// Any reference to a device.
pub struct Normal;

/// A reference to a device that is bound to the driver for as long as the reference lives.
pub struct Bound;

/// A reference given to a bus callback that runs with the device lock held.
pub struct Core;

impl DeviceContext for Normal {}
impl DeviceContext for Bound {}
impl DeviceContext for Core {}

/// The contexts in which the device is bound to the driver: [`Bound`] and [`Core`].
///
/// Bus abstractions implement operations that need a bound device once, for
/// `Device<Ctx: BoundContext>`.
pub trait BoundContext: DeviceContext {}

impl BoundContext for Bound {}
impl BoundContext for Core {}
