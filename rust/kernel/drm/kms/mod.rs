// SPDX-License-Identifier: GPL-2.0

//! Kernel mode setting (KMS): the display pipeline of a DRM device, set with atomic commits.
//!
//! A KMS driver (one with [`Driver::KMS`] set) builds its pipeline in probe, between
//! allocating its [`drm::Device`] and registering it: [`Setup::new`] initialises the mode
//! config, [`Setup::primary_plane`], [`Setup::crtc`], [`Setup::encoder`] and
//! [`Setup::connector`] create the objects, and [`Setup::finish`] resets their state. The objects
//! are allocated with the device (`drmm`) and live as long as it does; their callbacks are the
//! `#[vtable]` traits [`PlaneFuncs`], [`CrtcFuncs`] and [`ConnectorFuncs`], and callbacks a
//! driver does not implement stay `NULL` in the C tables.
//!
//! Everything else is the DRM core's atomic helpers: framebuffers are made from GEM handles
//! (`drm_gem_fb_create_with_dirty`, with `DIRTYFB`), commits are checked and committed by
//! `drm_atomic_helper_check`/`drm_atomic_helper_commit`, and without vblank interrupts the
//! helpers send the page-flip events of a commit themselves once it is done.
//!
//! Buffers are shmem GEM objects in system memory; the primary plane is *shadow-buffered*: for
//! a commit the DRM core maps the framebuffer into the kernel, and the driver copies the damaged
//! parts to the scanout memory with [`PlaneUpdate::copy_damage`].
//!
//! Hardware callbacks ([`PlaneFuncs::atomic_update`], [`PlaneFuncs::atomic_disable`],
//! [`CrtcFuncs::atomic_enable`], [`CrtcFuncs::atomic_disable`], [`ConnectorFuncs::get_modes`])
//! run inside `drm_dev_enter`: once the device was unplugged they are not called at all.
//!
//! C headers: [`include/drm/drm_mode_config.h`](srctree/include/drm/drm_mode_config.h),
//! [`include/drm/drm_atomic_helper.h`](srctree/include/drm/drm_atomic_helper.h),
//! [`include/drm/drm_modeset_helper_vtables.h`](srctree/include/drm/drm_modeset_helper_vtables.h)

use crate::{
    bindings,
    device::{self, Bound},
    drm::{self, Driver},
    error::{to_result, Result},
    prelude::*,
    types::Opaque,
};
use core::{cell::Cell, marker::PhantomData, mem};

pub mod connector;
pub mod crtc;
pub mod encoder;
pub mod plane;

pub use self::connector::{Connector, ConnectorFuncs, ConnectorType, Edid, ModeProbe};
pub use self::crtc::{Crtc, CrtcFuncs, CrtcState};
pub use self::encoder::{Encoder, EncoderType};
pub use self::plane::{FbInfo, Plane, PlaneFuncs, PlaneState, PlaneUpdate, PrimaryPlane};

use crate::drm::device::with_device;

/// Pixel formats (`DRM_FORMAT_*` fourcc codes).
///
/// # Examples
///
/// ```
/// use kernel::drm::kms::format;
///
/// // The code user space passes to `DRM_IOCTL_MODE_ADDFB2` for XRGB8888 ("XR24").
/// assert_eq!(format::XRGB8888, 0x3432_5258);
/// ```
pub mod format {
    /// 32 bits per pixel, `[31:0] x:R:G:B 8:8:8:8` little endian.
    pub const XRGB8888: u32 = u32::from_le_bytes(*b"XR24");
}

/// The limits of a device's mode config.
#[derive(Clone, Copy, Debug)]
pub struct ModeConfigInfo {
    /// The smallest framebuffer width.
    pub min_width: u32,
    /// The largest framebuffer width.
    pub max_width: u32,
    /// The smallest framebuffer height.
    pub min_height: u32,
    /// The largest framebuffer height.
    pub max_height: u32,
    /// The colour depth user space should prefer (24 for XRGB8888).
    pub preferred_depth: u32,
}

/// Whether a display mode can be used (`enum drm_mode_status`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ModeStatus {
    /// The mode can be set.
    Ok,
    /// It needs more video memory than there is.
    NoMemory,
    /// Its width is not supported.
    HorizontalIllegal,
    /// Its height is not supported.
    VerticalIllegal,
    /// Not supported for another reason.
    Bad,
}

impl ModeStatus {
    fn to_raw(self) -> bindings::drm_mode_status {
        match self {
            ModeStatus::Ok => bindings::drm_mode_status_MODE_OK,
            ModeStatus::NoMemory => bindings::drm_mode_status_MODE_MEM,
            ModeStatus::HorizontalIllegal => bindings::drm_mode_status_MODE_H_ILLEGAL,
            ModeStatus::VerticalIllegal => bindings::drm_mode_status_MODE_V_ILLEGAL,
            ModeStatus::Bad => bindings::drm_mode_status_MODE_BAD,
        }
    }
}

/// A display mode (`struct drm_display_mode`), read-only.
#[repr(transparent)]
pub struct DisplayMode(Opaque<bindings::drm_display_mode>);

impl DisplayMode {
    /// # Safety
    ///
    /// `ptr` must be a valid mode that does not change for `'a`.
    pub(crate) unsafe fn from_raw<'a>(ptr: *const bindings::drm_display_mode) -> &'a Self {
        // SAFETY: `DisplayMode` is a transparent wrapper; the caller guarantees validity.
        unsafe { &*ptr.cast() }
    }

    fn raw(&self) -> &bindings::drm_display_mode {
        // SAFETY: By the type invariants (`from_raw`), the mode does not change while borrowed.
        unsafe { &*self.0.get() }
    }

    /// The visible width in pixels.
    pub fn hdisplay(&self) -> u32 {
        u32::from(self.raw().hdisplay)
    }

    /// The visible height in lines.
    pub fn vdisplay(&self) -> u32 {
        u32::from(self.raw().vdisplay)
    }

    /// The pixel clock in kHz.
    pub fn clock(&self) -> u32 {
        self.raw().clock as u32
    }
}

/// A rectangle in whole pixels: `x1..x2` by `y1..y2`.
///
/// # Examples
///
/// ```
/// use kernel::drm::kms::Rect;
///
/// let r = Rect { x1: 100, y1: 50, x2: 356, y2: 250 };
/// assert_eq!((r.width(), r.height()), (256, 200));
/// // Empty and extreme rectangles do not overflow.
/// assert_eq!(Rect { x1: 5, y1: 5, x2: 1, y2: 1 }.width(), 0);
/// assert_eq!(Rect { x1: i32::MIN, y1: 0, x2: i32::MAX, y2: 1 }.width(), u32::MAX);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rect {
    /// Left edge (inclusive).
    pub x1: i32,
    /// Top edge (inclusive).
    pub y1: i32,
    /// Right edge (exclusive).
    pub x2: i32,
    /// Bottom edge (exclusive).
    pub y2: i32,
}

impl Rect {
    fn from_raw(r: &bindings::drm_rect) -> Self {
        Rect {
            x1: r.x1,
            y1: r.y1,
            x2: r.x2,
            y2: r.y2,
        }
    }

    /// The width (0 if empty).
    pub fn width(&self) -> u32 {
        (i64::from(self.x2) - i64::from(self.x1)).clamp(0, i64::from(u32::MAX)) as u32
    }

    /// The height (0 if empty).
    pub fn height(&self) -> u32 {
        (i64::from(self.y2) - i64::from(self.y1)).clamp(0, i64::from(u32::MAX)) as u32
    }
}

/// The mode config's callbacks: framebuffers from GEM handles, atomic check and commit.
const MODE_CONFIG_FUNCS: bindings::drm_mode_config_funcs = bindings::drm_mode_config_funcs {
    fb_create: Some(bindings::drm_gem_fb_create_with_dirty),
    atomic_check: Some(bindings::drm_atomic_helper_check),
    atomic_commit: Some(bindings::drm_atomic_helper_commit),
    // SAFETY: All-zero is a valid `drm_mode_config_funcs`: the other callbacks are absent.
    ..unsafe { mem::zeroed() }
};

/// Building the display pipeline of a device, in probe before it is registered.
///
/// Not `Send`: it is used in the probe that made it. Objects it creates live as long as the
/// device. If creating one fails, the device can no longer be registered.
///
/// # Examples
///
/// See `drivers/gpu/drm/rbochs/rbochs.rs`: one primary plane, CRTC, encoder and connector.
///
/// ```
/// use kernel::drm::kms::{ModeConfigInfo, Setup};
/// # use kernel::{drm, prelude::*};
///
/// fn pipeline<T: drm::Driver>(drm: &drm::Device<T>) -> Result {
///     let setup = Setup::new(drm, &ModeConfigInfo {
///         min_width: 64,
///         max_width: 4096,
///         min_height: 64,
///         max_height: 4096,
///         preferred_depth: 24,
///     })?;
///     // setup.primary_plane(...), setup.crtc(...), setup.encoder(...), setup.connector(...)
///     setup.finish()
/// }
/// ```
pub struct Setup<'a, T: Driver> {
    dev: &'a drm::Device<T>,
    /// Primary planes made and not yet given to a CRTC.
    pending_primaries: Cell<u32>,
    _not_send: PhantomData<*mut ()>,
}

/// The largest framebuffer width and height a mode config may allow: the damage copy's
/// offsets stay far from `i32` overflow.
pub const MAX_FB_SIZE: u32 = 16384;

/// How many planes, CRTCs and encoders a device may have (their masks are 32 bits).
const MAX_OBJECTS: u32 = 32;

impl<'a, T: Driver> Setup<'a, T> {
    /// Initialises the mode config of `dev` (`drmm_mode_config_init`) with the limits in `info`.
    ///
    /// Fails with `EINVAL` if `T` is not a KMS driver, and with `EBUSY` if `dev` has a mode
    /// config already or was registered.
    pub fn new(dev: &'a drm::Device<T>, info: &ModeConfigInfo) -> Result<Self> {
        if !T::KMS {
            return Err(EINVAL);
        }
        if info.min_width > info.max_width
            || info.min_height > info.max_height
            || info.max_width > MAX_FB_SIZE
            || info.max_height > MAX_FB_SIZE
        {
            return Err(EINVAL);
        }
        if dev.is_registered() {
            return Err(EBUSY);
        }
        dev.kms_transition(drm::device::KMS_NONE, drm::device::KMS_SETUP)?;
        // SAFETY: `dev` is a live device that is not registered, whose mode config was not
        // initialised (the state was `NONE`).
        if let Err(e) = to_result(unsafe { bindings::drmm_mode_config_init(dev.as_raw()) }) {
            dev.kms_fail();
            return Err(e);
        }
        // SAFETY: The mode config was just initialised; nothing else uses it before the device
        // is registered.
        unsafe {
            let mc = &mut (*dev.as_raw()).mode_config;
            mc.min_width = info.min_width as i32;
            mc.max_width = info.max_width as i32;
            mc.min_height = info.min_height as i32;
            mc.max_height = info.max_height as i32;
            mc.preferred_depth = info.preferred_depth;
            mc.funcs = &MODE_CONFIG_FUNCS;
        }
        Ok(Setup {
            dev,
            pending_primaries: Cell::new(0),
            _not_send: PhantomData,
        })
    }

    /// The device.
    pub fn device(&self) -> &'a drm::Device<T> {
        self.dev
    }

    /// Makes a failure of one object creation final: the device stays unregistrable.
    fn check<R>(&self, r: Result<R>) -> Result<R> {
        if r.is_err() {
            self.dev.kms_fail();
        }
        r
    }

    /// Fails with `ENOSPC` if the mode config has `MAX_OBJECTS` objects of a kind (read by
    /// `count`) already: the DRM core would warn and refuse the next one.
    fn check_room(&self, count: impl FnOnce(&bindings::drm_mode_config) -> i32) -> Result {
        // SAFETY: The mode config is initialised; its object counts change only when objects
        // are added, which before registration only this `Setup` does (a device gets one:
        // `Setup::new` moves it out of `KMS_NONE` once), on this thread (`Setup` is not
        // `Send`).
        let n = count(unsafe { &(*self.dev.as_raw()).mode_config });
        if u32::try_from(n).map_or(true, |n| n >= MAX_OBJECTS) {
            return self.check(Err(ENOSPC));
        }
        Ok(())
    }

    /// Resets the state of every object (`drm_mode_config_reset`): the pipeline is complete and
    /// the device may be registered.
    ///
    /// Fails with `EINVAL` if creating an object failed before, or a primary plane was not
    /// given to a CRTC (the device is then not registrable either).
    pub fn finish(self) -> Result {
        if self.pending_primaries.get() != 0 {
            self.dev.kms_fail();
            return Err(EINVAL);
        }
        // SAFETY: The mode config is initialised and its objects are set up.
        unsafe { bindings::drm_mode_config_reset(self.dev.as_raw()) };
        self.dev
            .kms_transition(drm::device::KMS_SETUP, drm::device::KMS_READY)
    }
}

/// Sets up the fbdev emulation on a registered KMS device (`drm_fbdev_shmem_setup`): a
/// framebuffer device whose console (with `CONFIG_FRAMEBUFFER_CONSOLE`) appears on the display.
/// It goes away when the device is unplugged.
///
/// `parent` is `dev`'s parent, bound: it is called where the driver has one, in probe, never
/// from a KMS callback (its first mode probe takes the mode config's mutex, which callbacks
/// such as [`ConnectorFuncs::get_modes`] run under).
///
/// Fails with `EINVAL` unless `dev` is a registered KMS device whose parent is `parent`, with
/// `EBUSY` if it was called
/// for `dev` before, and with `ENODEV` if `dev` was unplugged. Without
/// `CONFIG_DRM_FBDEV_EMULATION` it does nothing.
pub fn fbdev_setup<T: Driver>(
    dev: &drm::Device<T>,
    parent: &device::Device<Bound>,
    preferred_bpp: u32,
) -> Result {
    if !T::KMS || !dev.is_registered() || dev.parent().as_raw() != parent.as_raw() {
        return Err(EINVAL);
    }
    if !dev.claim_fbdev() {
        return Err(EBUSY);
    }
    #[cfg(CONFIG_DRM_FBDEV_EMULATION)]
    {
        dev.enter(|| {
            // SAFETY: `dev` is a KMS device whose `drm_dev_register` succeeded and that is not
            // unplugged (we are inside `drm_dev_enter`), as `drm_fbdev_shmem_setup` needs; it
            // is set up once (claimed above). Its buffers are shmem GEM objects. The client it
            // registers is unregistered by `drm_dev_unregister` when the device is unplugged.
            unsafe { bindings::drm_fbdev_shmem_setup(dev.as_raw(), preferred_bpp) }
        })
        .ok_or(ENODEV)?;
    }
    #[cfg(not(CONFIG_DRM_FBDEV_EMULATION))]
    let _ = preferred_bpp;
    Ok(())
}
