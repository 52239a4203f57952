// SPDX-License-Identifier: GPL-2.0

//! KMS CRTCs: the scanout engines that drive a display mode.
//!
//! C header: [`include/drm/drm_crtc.h`](srctree/include/drm/drm_crtc.h)

use super::{with_device, DisplayMode, ModeStatus, PlaneFuncs, PrimaryPlane, Setup};
use crate::{
    bindings, build_error,
    drm::{self, Driver},
    error::{Result, VTABLE_DEFAULT_ERROR},
    prelude::*,
    types::Opaque,
};
use core::{marker::PhantomData, mem, ptr};

/// The callbacks of a CRTC. Its atomic check is the DRM core's
/// (`drm_crtc_helper_atomic_check`: an enabled CRTC needs its primary plane shown).
#[vtable]
pub trait CrtcFuncs: Sized + Send + Sync + 'static {
    /// The driver of the device the CRTC belongs to.
    type Driver: Driver;

    /// Whether the CRTC can drive `mode`; modes it cannot are not offered to user space and
    /// commits setting them fail with `EINVAL`.
    fn mode_valid(_crtc: &Crtc<Self>, _mode: &DisplayMode) -> ModeStatus {
        build_error!(VTABLE_DEFAULT_ERROR)
    }

    /// Turns the CRTC on with the mode of `state`. Not called once the device was unplugged.
    fn atomic_enable(_crtc: &Crtc<Self>, _state: &CrtcState<'_>) {
        build_error!(VTABLE_DEFAULT_ERROR)
    }

    /// Turns the CRTC off. Not called once the device was unplugged.
    fn atomic_disable(_crtc: &Crtc<Self>) {
        build_error!(VTABLE_DEFAULT_ERROR)
    }
}

/// A CRTC of a device of `C::Driver`, with callbacks `C`.
///
/// # Invariants
///
/// `raw` is a `drm_crtc` initialised by [`Setup::crtc`] on a device of `C::Driver` with
/// `Crtc::<C>::FUNCS` and `HELPER_FUNCS`; it lives as long as that device.
#[repr(transparent)]
pub struct Crtc<C: CrtcFuncs> {
    raw: Opaque<bindings::drm_crtc>,
    _p: drm::Invariant<C>,
}

// SAFETY: The DRM core serialises changes to a CRTC with its modeset locks; `Crtc` has no Rust
// state.
unsafe impl<C: CrtcFuncs> Send for Crtc<C> {}
// SAFETY: As above.
unsafe impl<C: CrtcFuncs> Sync for Crtc<C> {}

/// A new CRTC state being committed, read-only.
///
/// # Invariants
///
/// `state` is a valid `drm_crtc_state` that does not change for `'a`.
pub struct CrtcState<'a> {
    state: *const bindings::drm_crtc_state,
    _p: PhantomData<&'a ()>,
}

impl CrtcState<'_> {
    /// The display mode.
    pub fn mode(&self) -> &DisplayMode {
        // SAFETY: By the type invariants; the mode is part of the state.
        unsafe { DisplayMode::from_raw(&(*self.state).mode) }
    }

    /// Whether the CRTC is on (`active`).
    pub fn active(&self) -> bool {
        // SAFETY: By the type invariants.
        unsafe { (*self.state).active }
    }
}

impl<C: CrtcFuncs> Crtc<C> {
    const FUNCS: bindings::drm_crtc_funcs = bindings::drm_crtc_funcs {
        reset: Some(bindings::drm_atomic_helper_crtc_reset),
        set_config: Some(bindings::drm_atomic_helper_set_config),
        page_flip: Some(bindings::drm_atomic_helper_page_flip),
        atomic_duplicate_state: Some(bindings::drm_atomic_helper_crtc_duplicate_state),
        atomic_destroy_state: Some(bindings::drm_atomic_helper_crtc_destroy_state),
        // SAFETY: All-zero is a valid `drm_crtc_funcs`. `destroy` must stay `NULL` for CRTCs
        // allocated with `drmm`.
        ..unsafe { mem::zeroed() }
    };

    const HELPER_FUNCS: bindings::drm_crtc_helper_funcs = bindings::drm_crtc_helper_funcs {
        mode_valid: if C::HAS_MODE_VALID {
            Some(Self::mode_valid_callback)
        } else {
            None
        },
        atomic_check: Some(bindings::drm_crtc_helper_atomic_check),
        atomic_enable: if C::HAS_ATOMIC_ENABLE {
            Some(Self::atomic_enable_callback)
        } else {
            None
        },
        atomic_disable: if C::HAS_ATOMIC_DISABLE {
            Some(Self::atomic_disable_callback)
        } else {
            None
        },
        // SAFETY: All-zero is a valid `drm_crtc_helper_funcs`: the other callbacks are absent.
        ..unsafe { mem::zeroed() }
    };

    /// Returns the raw `struct drm_crtc`.
    pub fn as_raw(&self) -> *mut bindings::drm_crtc {
        self.raw.get()
    }

    /// # Safety
    ///
    /// `ptr` must be a CRTC made by [`Setup::crtc`] with callbacks `C`.
    unsafe fn from_raw<'a>(ptr: *mut bindings::drm_crtc) -> &'a Self {
        // SAFETY: `Crtc` is a transparent wrapper; the caller guarantees the rest.
        unsafe { &*ptr.cast() }
    }

    /// The device the CRTC belongs to.
    pub fn device(&self) -> &drm::Device<C::Driver> {
        // SAFETY: By the type invariants the CRTC's device is a live device of `C::Driver`.
        unsafe { drm::Device::from_raw((*self.as_raw()).dev) }
    }

    /// The CRTC's bit in `possible_crtcs` masks (`drm_crtc_mask`).
    pub fn mask(&self) -> u32 {
        // SAFETY: `index` is set when the CRTC is initialised and never changes.
        1 << unsafe { (*self.as_raw()).index }
    }

    /// The C callback: see the trait method.
    ///
    /// # Safety
    ///
    /// Called by the DRM core with a CRTC made by [`Setup::crtc`] with these tables, and a mode
    /// or the atomic state of a commit that holds it.
    unsafe extern "C" fn mode_valid_callback(
        crtc: *mut bindings::drm_crtc,
        mode: *const bindings::drm_display_mode,
    ) -> bindings::drm_mode_status {
        // SAFETY: The DRM core calls this with a CRTC of ours and a mode it does not change
        // during the call.
        unsafe { C::mode_valid(Self::from_raw(crtc), DisplayMode::from_raw(mode)) }.to_raw()
    }

    /// The C callback: see the trait method.
    ///
    /// # Safety
    ///
    /// Called by the DRM core with a CRTC made by [`Setup::crtc`] with these tables, and a mode
    /// or the atomic state of a commit that holds it.
    unsafe extern "C" fn atomic_enable_callback(
        crtc: *mut bindings::drm_crtc,
        state: *mut bindings::drm_atomic_state,
    ) {
        // SAFETY: The DRM core calls this with a CRTC of ours in `state`, whose device is live.
        unsafe {
            let cs = CrtcState {
                state: bindings::drm_atomic_get_new_crtc_state(state, crtc),
                _p: PhantomData,
            };
            with_device((*crtc).dev, || C::atomic_enable(Self::from_raw(crtc), &cs));
        }
    }

    /// The C callback: see the trait method.
    ///
    /// # Safety
    ///
    /// Called by the DRM core with a CRTC made by [`Setup::crtc`] with these tables, and a mode
    /// or the atomic state of a commit that holds it.
    unsafe extern "C" fn atomic_disable_callback(
        crtc: *mut bindings::drm_crtc,
        _state: *mut bindings::drm_atomic_state,
    ) {
        // SAFETY: The DRM core calls this with a CRTC of ours, whose device is live.
        unsafe { with_device((*crtc).dev, || C::atomic_disable(Self::from_raw(crtc))) };
    }
}

impl<'a, T: Driver> Setup<'a, T> {
    /// Creates a CRTC that scans out `primary` (the primary plane then belongs to it).
    pub fn crtc<C: CrtcFuncs<Driver = T>, P: PlaneFuncs<Driver = T>>(
        &self,
        primary: PrimaryPlane<'a, P>,
    ) -> Result<&'a Crtc<C>> {
        let plane = primary.plane().as_raw();
        if primary.plane().device().as_raw() != self.device().as_raw() {
            return self.check(Err(EINVAL));
        }
        self.check_room(|mc| mc.num_crtc)?;
        // SAFETY: The device is live and its mode config initialised; size and offset describe
        // `Crtc<C>`; `plane` is a primary plane of this device (checked above) that no other
        // CRTC has (it was consumed); the table is static. A NULL name makes the C side name it.
        let raw = unsafe {
            bindings::__drmm_crtc_alloc_with_planes(
                self.device().as_raw(),
                mem::size_of::<Crtc<C>>(),
                mem::offset_of!(Crtc<C>, raw),
                plane,
                ptr::null_mut(),
                &Crtc::<C>::FUNCS,
                ptr::null(),
            )
        };
        let raw = self
            .check(crate::error::from_err_ptr(raw))?
            .cast::<bindings::drm_crtc>();
        // The primary plane has its CRTC now.
        self.pending_primaries
            .set(self.pending_primaries.get().saturating_sub(1));
        // SAFETY: `raw` was made above with `C`'s tables; it lives as long as the device.
        let crtc = unsafe { Crtc::<C>::from_raw(raw) };
        // SAFETY: The device is not registered: nothing else reads these yet.
        unsafe {
            (*raw).helper_private = &Crtc::<C>::HELPER_FUNCS;
            (*plane).possible_crtcs = crtc.mask();
        }
        Ok(crtc)
    }
}
