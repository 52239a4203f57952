// SPDX-License-Identifier: GPL-2.0

//! KMS connectors: the display at the end of the pipeline and the modes it takes.
//!
//! C headers: [`include/drm/drm_connector.h`](srctree/include/drm/drm_connector.h),
//! [`include/drm/drm_edid.h`](srctree/include/drm/drm_edid.h)

use super::{with_device, DisplayMode, Encoder, ModeStatus, Setup};
use crate::{
    bindings, build_error,
    drm::{self, Driver},
    error::{to_result, Result, VTABLE_DEFAULT_ERROR},
    prelude::*,
    types::Opaque,
};
use core::{
    ffi::{c_int, c_uint, c_void},
    marker::PhantomData,
    mem,
    ptr::{self, NonNull},
};

/// The kind of a connector (`DRM_MODE_CONNECTOR_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConnectorType {
    /// Unknown.
    Unknown,
    /// VGA.
    Vga,
    /// A virtual display.
    Virtual,
}

impl ConnectorType {
    fn to_raw(self) -> c_int {
        (match self {
            ConnectorType::Unknown => bindings::DRM_MODE_CONNECTOR_Unknown,
            ConnectorType::Vga => bindings::DRM_MODE_CONNECTOR_VGA,
            ConnectorType::Virtual => bindings::DRM_MODE_CONNECTOR_VIRTUAL,
        }) as c_int
    }
}

/// The callbacks of a connector, which is always connected (it has no `detect`).
#[vtable]
pub trait ConnectorFuncs: Sized + Send + Sync + 'static {
    /// The driver of the device the connector belongs to.
    type Driver: Driver;

    /// Adds the display's modes to `probe`; returns how many were added. Not called once the
    /// device was unplugged (the DRM core then offers its fallback modes up to 1024x768).
    fn get_modes(connector: &Connector<Self>, probe: &mut ModeProbe<'_>) -> u32;

    /// Whether the display takes `mode`.
    fn mode_valid(_connector: &Connector<Self>, _mode: &DisplayMode) -> ModeStatus {
        build_error!(VTABLE_DEFAULT_ERROR)
    }
}

/// A connector of a device of `K::Driver`, with callbacks `K`.
///
/// # Invariants
///
/// `raw` is a `drm_connector` initialised by [`Setup::connector`] on a device of `K::Driver`
/// with `Connector::<K>::FUNCS` and `HELPER_FUNCS`; it lives as long as that device.
#[repr(transparent)]
pub struct Connector<K: ConnectorFuncs> {
    raw: Opaque<bindings::drm_connector>,
    _p: drm::Invariant<K>,
}

// SAFETY: The DRM core serialises changes to a connector with its locks; `Connector` has no
// Rust state.
unsafe impl<K: ConnectorFuncs> Send for Connector<K> {}
// SAFETY: As above.
unsafe impl<K: ConnectorFuncs> Sync for Connector<K> {}

impl<K: ConnectorFuncs> Connector<K> {
    const FUNCS: bindings::drm_connector_funcs = bindings::drm_connector_funcs {
        reset: Some(bindings::drm_atomic_helper_connector_reset),
        fill_modes: Some(bindings::drm_helper_probe_single_connector_modes),
        atomic_duplicate_state: Some(bindings::drm_atomic_helper_connector_duplicate_state),
        atomic_destroy_state: Some(bindings::drm_atomic_helper_connector_destroy_state),
        // SAFETY: All-zero is a valid `drm_connector_funcs`. `destroy` must stay `NULL` for
        // connectors set up with `drmm_connector_init`.
        ..unsafe { mem::zeroed() }
    };

    const HELPER_FUNCS: bindings::drm_connector_helper_funcs =
        bindings::drm_connector_helper_funcs {
            get_modes: Some(Self::get_modes_callback),
            mode_valid: if K::HAS_MODE_VALID {
                Some(Self::mode_valid_callback)
            } else {
                None
            },
            // SAFETY: All-zero is a valid `drm_connector_helper_funcs`: the other callbacks
            // are absent.
            ..unsafe { mem::zeroed() }
        };

    /// Returns the raw `struct drm_connector`.
    pub fn as_raw(&self) -> *mut bindings::drm_connector {
        self.raw.get()
    }

    /// # Safety
    ///
    /// `ptr` must be a connector made by [`Setup::connector`] with callbacks `K`.
    unsafe fn from_raw<'a>(ptr: *mut bindings::drm_connector) -> &'a Self {
        // SAFETY: `Connector` is a transparent wrapper; the caller guarantees the rest.
        unsafe { &*ptr.cast() }
    }

    /// The device the connector belongs to.
    pub fn device(&self) -> &drm::Device<K::Driver> {
        // SAFETY: By the type invariants the connector's device is a live device of
        // `K::Driver`.
        unsafe { drm::Device::from_raw((*self.as_raw()).dev) }
    }

    /// The C callback: see the trait method.
    ///
    /// # Safety
    ///
    /// Called by the DRM core with a connector made by [`Setup::connector`] with these tables,
    /// holding the mode config's mutex (for `get_modes`), or with a mode (for `mode_valid`).
    unsafe extern "C" fn get_modes_callback(connector: *mut bindings::drm_connector) -> c_int {
        // SAFETY: The DRM core calls this with a connector of ours, holding the mode config's
        // mutex, as `ModeProbe` requires; the device is live.
        unsafe {
            let mut probe = ModeProbe {
                connector,
                _p: PhantomData,
            };
            let n = with_device((*connector).dev, || {
                K::get_modes(Self::from_raw(connector), &mut probe)
            });
            n.unwrap_or(0).min(i32::MAX as u32) as c_int
        }
    }

    /// The C callback: see the trait method.
    ///
    /// # Safety
    ///
    /// Called by the DRM core with a connector made by [`Setup::connector`] with these tables,
    /// holding the mode config's mutex (for `get_modes`), or with a mode (for `mode_valid`).
    unsafe extern "C" fn mode_valid_callback(
        connector: *mut bindings::drm_connector,
        mode: *mut bindings::drm_display_mode,
    ) -> c_int {
        // SAFETY: The DRM core calls this with a connector of ours and a mode it does not
        // change during the call.
        unsafe { K::mode_valid(Self::from_raw(connector), DisplayMode::from_raw(mode)) }.to_raw()
            as c_int
    }
}

/// Reading a display's modes, in [`ConnectorFuncs::get_modes`] (with the mode config's mutex
/// held).
///
/// # Invariants
///
/// `connector` is the connector being probed, and the caller holds its device's
/// `mode_config.mutex` for `'a`.
pub struct ModeProbe<'a> {
    connector: *mut bindings::drm_connector,
    _p: PhantomData<&'a mut ()>,
}

/// An EDID read from a display (`struct drm_edid`), freed when dropped.
pub struct Edid(NonNull<bindings::drm_edid>);

impl Drop for Edid {
    fn drop(&mut self) {
        // SAFETY: The EDID was allocated by `drm_edid_read_custom` and is freed once.
        unsafe { bindings::drm_edid_free(self.0.as_ptr()) };
    }
}

/// The EDID header, the first 8 bytes of block 0.
pub const EDID_HEADER: [u8; 8] = [0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00];

impl ModeProbe<'_> {
    /// Reads the display's EDID with `read_block(block, buf)`, which fills `buf` with (part of)
    /// 128-byte block `block`; `None` if it fails or the EDID is invalid
    /// (`drm_edid_read_custom`). It sleeps (it takes the connector's EDID override mutex), and
    /// so may `read_block`: read the display's blob into memory first if reaching it needs a
    /// guard that must not sleep, such as a `Devres` access.
    pub fn read_edid<F: FnMut(u32, &mut [u8]) -> Result>(
        &mut self,
        mut read_block: F,
    ) -> Option<Edid> {
        /// Reads a block through the closure `context` points to.
        ///
        /// # Safety
        ///
        /// `context` is the `F` passed to `drm_edid_read_custom` below, `buf` is `len` bytes
        /// the caller gives for the call.
        unsafe extern "C" fn trampoline<F: FnMut(u32, &mut [u8]) -> Result>(
            context: *mut c_void,
            buf: *mut u8,
            block: c_uint,
            len: usize,
        ) -> c_int {
            // SAFETY: `context` is the closure passed below, borrowed for the read; the C side
            // gives a buffer of `len` bytes that is ours during the call.
            let (f, buf) = unsafe {
                (
                    &mut *context.cast::<F>(),
                    core::slice::from_raw_parts_mut(buf, len),
                )
            };
            match f(block, buf) {
                Ok(()) => 0,
                Err(e) => e.to_errno(),
            }
        }
        // SAFETY: The connector is valid (type invariants); the closure outlives the call,
        // which is the only user of the context.
        let edid = unsafe {
            bindings::drm_edid_read_custom(
                self.connector,
                Some(trampoline::<F>),
                ptr::addr_of_mut!(read_block).cast(),
            )
        };
        NonNull::new(edid.cast_mut()).map(Edid)
    }

    /// Sets the connector's EDID property and display info from `edid`, or clears them
    /// (`drm_edid_connector_update`).
    pub fn update_edid(&mut self, edid: Option<&Edid>) -> Result {
        let raw = edid.map_or(ptr::null(), |e| e.0.as_ptr().cast_const());
        // SAFETY: The connector is valid and its mode config's mutex held (type invariants);
        // `raw` is NULL or a live EDID.
        to_result(unsafe { bindings::drm_edid_connector_update(self.connector, raw) })
    }

    /// Adds the modes of the EDID set by [`Self::update_edid`]; returns how many
    /// (`drm_edid_connector_add_modes`).
    pub fn add_edid_modes(&mut self) -> u32 {
        // SAFETY: As in `update_edid`.
        unsafe { bindings::drm_edid_connector_add_modes(self.connector) }.max(0) as u32
    }

    /// Adds the standard modes up to `max_width` x `max_height`, for displays without an EDID;
    /// returns how many (`drm_add_modes_noedid`).
    pub fn add_modes_noedid(&mut self, max_width: u32, max_height: u32) -> u32 {
        let w = max_width.min(i32::MAX as u32) as c_int;
        let h = max_height.min(i32::MAX as u32) as c_int;
        // SAFETY: As in `update_edid`.
        unsafe { bindings::drm_add_modes_noedid(self.connector, w, h) }.max(0) as u32
    }

    /// Marks the added mode of `width` x `height` as preferred (`drm_set_preferred_mode`).
    pub fn set_preferred(&mut self, width: u32, height: u32) {
        let w = width.min(i32::MAX as u32) as c_int;
        let h = height.min(i32::MAX as u32) as c_int;
        // SAFETY: As in `update_edid`.
        unsafe { bindings::drm_set_preferred_mode(self.connector, w, h) };
    }
}

impl<'a, T: Driver> Setup<'a, T> {
    /// Creates a connector of kind `kind` fed by `encoder`, with an EDID property.
    pub fn connector<K: ConnectorFuncs<Driver = T>>(
        &self,
        kind: ConnectorType,
        encoder: &Encoder,
    ) -> Result<&'a Connector<K>> {
        let dev = self.device().as_raw();
        // SAFETY: An encoder's device never changes.
        if unsafe { (*encoder.as_raw()).dev } != dev {
            return self.check(Err(EINVAL));
        }
        // SAFETY: `dev` is live; the memory is freed with the device.
        let raw = unsafe {
            bindings::drmm_kmalloc(
                dev,
                mem::size_of::<Connector<K>>(),
                bindings::GFP_KERNEL | bindings::__GFP_ZERO,
            )
        }
        .cast::<bindings::drm_connector>();
        if raw.is_null() {
            return self.check(Err(ENOMEM));
        }
        // SAFETY: `raw` is zeroed `drmm` memory for a connector of the live device `dev`, whose
        // mode config is initialised; the table is static and has no `destroy`. No DDC bus.
        self.check(to_result(unsafe {
            bindings::drmm_connector_init(
                dev,
                raw,
                &Connector::<K>::FUNCS,
                kind.to_raw(),
                ptr::null_mut(),
            )
        }))?;
        // SAFETY: `raw` is initialised, `encoder` is an encoder of the same device; the device
        // is not registered, so nothing else uses them yet.
        unsafe {
            (*raw).helper_private = &Connector::<K>::HELPER_FUNCS;
            // `drm_connector_init` attaches it to every other kind.
            if kind == ConnectorType::Virtual {
                bindings::drm_connector_attach_edid_property(raw);
            }
            self.check(to_result(bindings::drm_connector_attach_encoder(
                raw,
                encoder.as_raw(),
            )))?;
        }
        // SAFETY: `raw` was made above with `K`'s tables; it lives as long as the device.
        Ok(unsafe { Connector::from_raw(raw) })
    }
}
