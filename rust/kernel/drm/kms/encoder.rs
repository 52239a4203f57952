// SPDX-License-Identifier: GPL-2.0

//! KMS encoders: what turns a CRTC's pixels into a connector's signal.
//!
//! C header: [`include/drm/drm_encoder.h`](srctree/include/drm/drm_encoder.h)

use super::{Crtc, CrtcFuncs, Setup};
use crate::{bindings, drm::Driver, error::Result, prelude::*, types::Opaque};
use core::{mem, ptr};

/// The kind of an encoder (`DRM_MODE_ENCODER_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EncoderType {
    /// No hardware encoder (`DRM_MODE_ENCODER_NONE`).
    None,
    /// A DAC, for analogue outputs (`DRM_MODE_ENCODER_DAC`).
    Dac,
    /// A virtual output (`DRM_MODE_ENCODER_VIRTUAL`).
    Virtual,
}

impl EncoderType {
    fn to_raw(self) -> i32 {
        (match self {
            EncoderType::None => bindings::DRM_MODE_ENCODER_NONE,
            EncoderType::Dac => bindings::DRM_MODE_ENCODER_DAC,
            EncoderType::Virtual => bindings::DRM_MODE_ENCODER_VIRTUAL,
        }) as i32
    }
}

/// An encoder; it has no callbacks.
///
/// # Invariants
///
/// `raw` is a `drm_encoder` initialised by [`Setup::encoder`]; it lives as long as its device.
#[repr(transparent)]
pub struct Encoder(Opaque<bindings::drm_encoder>);

// SAFETY: The DRM core serialises changes to an encoder; `Encoder` has no Rust state.
unsafe impl Send for Encoder {}
// SAFETY: As above.
unsafe impl Sync for Encoder {}

impl Encoder {
    /// Returns the raw `struct drm_encoder`.
    pub fn as_raw(&self) -> *mut bindings::drm_encoder {
        self.0.get()
    }
}

impl<'a, T: Driver> Setup<'a, T> {
    /// Creates an encoder of kind `kind` fed by `crtc`.
    pub fn encoder<C: CrtcFuncs<Driver = T>>(
        &self,
        kind: EncoderType,
        crtc: &Crtc<C>,
    ) -> Result<&'a Encoder> {
        if crtc.device().as_raw() != self.device().as_raw() {
            return self.check(Err(EINVAL));
        }
        self.check_room(|mc| mc.num_encoder)?;
        // SAFETY: The device is live and its mode config initialised; the size and offset
        // describe `Encoder` (a transparent `drm_encoder`). No callbacks; a NULL name makes the
        // C side name it.
        let raw = unsafe {
            bindings::__drmm_encoder_alloc(
                self.device().as_raw(),
                mem::size_of::<Encoder>(),
                0,
                ptr::null(),
                kind.to_raw(),
                ptr::null(),
            )
        };
        let raw = self
            .check(crate::error::from_err_ptr(raw))?
            .cast::<bindings::drm_encoder>();
        // SAFETY: The device is not registered: nothing else reads this yet.
        unsafe { (*raw).possible_crtcs = crtc.mask() };
        // SAFETY: `Encoder` is a transparent wrapper of the encoder made above, which lives as
        // long as the device.
        Ok(unsafe { &*raw.cast::<Encoder>() })
    }
}
