// SPDX-License-Identifier: GPL-2.0

//! KMS planes: what is scanned out, from which framebuffer.
//!
//! C header: [`include/drm/drm_plane.h`](srctree/include/drm/drm_plane.h)

use super::{with_device, DisplayMode, Rect, Setup};
use crate::{
    bindings, build_error,
    drm::{self, Driver},
    error::{from_result, to_result, Result, VTABLE_DEFAULT_ERROR},
    io::Io,
    prelude::*,
    types::Opaque,
};
use core::{
    ffi::{c_int, c_void},
    marker::PhantomData,
    mem, ptr,
};

/// `DRM_PLANE_NO_SCALING`: 1.0 in 16.16 fixed point.
const NO_SCALING: c_int = 1 << 16;

/// The callbacks of a plane, whose framebuffers are shadow-buffered (mapped into the kernel for
/// each commit).
///
/// The DRM core always checks that the plane covers its CRTC without scaling
/// (`drm_atomic_helper_check_plane_state`), and the abstraction that the source starts on a
/// whole pixel; `atomic_check` adds the driver's checks. The DRM core calls `atomic_update`
/// for every commit that keeps the plane on, and for one that turns it off if the driver has no
/// `atomic_disable` (the new state then has no framebuffer and no CRTC), so its C callback is
/// always there (doing nothing if the driver has none).
#[vtable]
pub trait PlaneFuncs: Sized + Send + Sync + 'static {
    /// The driver of the device the plane belongs to.
    type Driver: Driver;

    /// Checks a new, visible state of the plane; an error fails the commit (and the ioctl).
    fn atomic_check(_plane: &Plane<Self>, _state: &PlaneState<'_>) -> Result {
        build_error!(VTABLE_DEFAULT_ERROR)
    }

    /// Shows the new state: copies what changed to the scanout memory. Not called once the
    /// device was unplugged.
    fn atomic_update(_plane: &Plane<Self>, _update: &PlaneUpdate<'_>) {
        build_error!(VTABLE_DEFAULT_ERROR)
    }

    /// Turns the plane off. Not called once the device was unplugged.
    fn atomic_disable(_plane: &Plane<Self>) {
        build_error!(VTABLE_DEFAULT_ERROR)
    }
}

/// A plane of a device of `P::Driver`, with callbacks `P`.
///
/// # Invariants
///
/// `raw` is a `drm_plane` initialised by [`Setup::primary_plane`] on a device of `P::Driver`
/// with `Plane::<P>::FUNCS` and `HELPER_FUNCS`; it lives as long as that device.
#[repr(transparent)]
pub struct Plane<P: PlaneFuncs> {
    raw: Opaque<bindings::drm_plane>,
    _p: drm::Invariant<P>,
}

// SAFETY: The DRM core serialises changes to a plane with its modeset locks; `Plane` has no
// Rust state.
unsafe impl<P: PlaneFuncs> Send for Plane<P> {}
// SAFETY: As above.
unsafe impl<P: PlaneFuncs> Sync for Plane<P> {}

/// A primary plane not yet given to a CRTC: [`Setup::crtc`] takes it, so each primary plane
/// belongs to one CRTC.
pub struct PrimaryPlane<'a, P: PlaneFuncs>(&'a Plane<P>);

impl<'a, P: PlaneFuncs> PrimaryPlane<'a, P> {
    /// The plane.
    pub fn plane(&self) -> &'a Plane<P> {
        self.0
    }
}

impl<P: PlaneFuncs> Plane<P> {
    const FUNCS: bindings::drm_plane_funcs = bindings::drm_plane_funcs {
        update_plane: Some(bindings::drm_atomic_helper_update_plane),
        disable_plane: Some(bindings::drm_atomic_helper_disable_plane),
        reset: Some(bindings::drm_gem_reset_shadow_plane),
        atomic_duplicate_state: Some(bindings::drm_gem_duplicate_shadow_plane_state),
        atomic_destroy_state: Some(bindings::drm_gem_destroy_shadow_plane_state),
        // SAFETY: All-zero is a valid `drm_plane_funcs`. `destroy` must stay `NULL` for planes
        // allocated with `drmm`.
        ..unsafe { mem::zeroed() }
    };

    const HELPER_FUNCS: bindings::drm_plane_helper_funcs = bindings::drm_plane_helper_funcs {
        begin_fb_access: Some(bindings::drm_gem_begin_shadow_fb_access),
        end_fb_access: Some(bindings::drm_gem_end_shadow_fb_access),
        atomic_check: Some(Self::atomic_check_callback),
        // Called without a NULL check by `drm_atomic_helper_commit_planes`.
        atomic_update: Some(Self::atomic_update_callback),
        atomic_disable: if P::HAS_ATOMIC_DISABLE {
            Some(Self::atomic_disable_callback)
        } else {
            None
        },
        // SAFETY: All-zero is a valid `drm_plane_helper_funcs`: the other callbacks are absent.
        ..unsafe { mem::zeroed() }
    };

    /// Returns the raw `struct drm_plane`.
    pub fn as_raw(&self) -> *mut bindings::drm_plane {
        self.raw.get()
    }

    /// # Safety
    ///
    /// `ptr` must be a plane made by [`Setup::primary_plane`] with callbacks `P`.
    unsafe fn from_raw<'a>(ptr: *mut bindings::drm_plane) -> &'a Self {
        // SAFETY: `Plane` is a transparent wrapper; the caller guarantees the rest.
        unsafe { &*ptr.cast() }
    }

    /// The device the plane belongs to.
    pub fn device(&self) -> &drm::Device<P::Driver> {
        // SAFETY: By the type invariants the plane's device is a live device of `P::Driver`.
        unsafe { drm::Device::from_raw((*self.as_raw()).dev) }
    }

    /// The C callback: see the trait method.
    ///
    /// # Safety
    ///
    /// Called by the DRM core with a plane made by [`Setup::primary_plane`] with these tables,
    /// and the atomic state of a check or commit that holds it.
    unsafe extern "C" fn atomic_check_callback(
        plane: *mut bindings::drm_plane,
        state: *mut bindings::drm_atomic_state,
    ) -> c_int {
        from_result(|| {
            // SAFETY: The DRM core calls this with a plane of ours in `state`, which holds the
            // plane's new state and, if it is on a CRTC, that CRTC's new state.
            let new = unsafe { bindings::drm_atomic_get_new_plane_state(state, plane) };
            // SAFETY: `new` is the plane's new state (see above).
            let crtc = unsafe { (*new).crtc };
            let crtc_state = if crtc.is_null() {
                ptr::null_mut()
            } else {
                // SAFETY: The CRTC is in `state` with the plane (the atomic core adds it).
                unsafe { bindings::drm_atomic_get_new_crtc_state(state, crtc) }
            };
            // SAFETY: `new` and `crtc_state` are the new states of the commit being checked.
            to_result(unsafe {
                bindings::drm_atomic_helper_check_plane_state(
                    new, crtc_state, NO_SCALING, NO_SCALING, false, false,
                )
            })?;
            // SAFETY: `new` is valid and not changed while the check runs.
            let (src, visible) = unsafe { ((*new).src, (*new).visible) };
            // Sub-pixel source positions: the damage of such a plane would reach a pixel
            // beyond what is shown.
            if (src.x1 | src.y1) & 0xffff != 0 {
                return Err(EINVAL);
            }
            if P::HAS_ATOMIC_CHECK && visible {
                // SAFETY: The states are valid and not changed while the check runs.
                let view = unsafe { PlaneState::new(new, crtc_state) };
                // SAFETY: `plane` is ours (type invariants of the tables).
                P::atomic_check(unsafe { Self::from_raw(plane) }, &view).map_err(|e| {
                    // `EDEADLK` asks the caller to back off and retry its locks, which the
                    // driver never took: the retry would loop for ever. Kernel-internal codes
                    // (`ERESTARTSYS` and the others from 512 on) must not reach user space.
                    let errno = -e.to_errno();
                    if errno == bindings::EDEADLK as i32 || errno >= 512 {
                        EINVAL
                    } else {
                        e
                    }
                })?;
            }
            Ok(0)
        })
    }

    /// The C callback: see the trait method.
    ///
    /// # Safety
    ///
    /// Called by the DRM core with a plane made by [`Setup::primary_plane`] with these tables,
    /// and the atomic state of a check or commit that holds it.
    unsafe extern "C" fn atomic_update_callback(
        plane: *mut bindings::drm_plane,
        state: *mut bindings::drm_atomic_state,
    ) {
        if !P::HAS_ATOMIC_UPDATE {
            return;
        }
        // SAFETY: The DRM core calls this with a plane of ours in `state`, which holds both of
        // its states; its device is live.
        unsafe {
            let new = bindings::drm_atomic_get_new_plane_state(state, plane);
            let old = bindings::drm_atomic_get_old_plane_state(state, plane);
            let crtc = (*new).crtc;
            let crtc_state = if crtc.is_null() {
                ptr::null_mut()
            } else {
                bindings::drm_atomic_get_new_crtc_state(state, crtc)
            };
            let update = PlaneUpdate {
                new: PlaneState::new(new, crtc_state),
                old,
            };
            with_device((*plane).dev, || {
                P::atomic_update(Self::from_raw(plane), &update)
            });
        }
    }

    /// The C callback: see the trait method.
    ///
    /// # Safety
    ///
    /// Called by the DRM core with a plane made by [`Setup::primary_plane`] with these tables,
    /// and the atomic state of a check or commit that holds it.
    unsafe extern "C" fn atomic_disable_callback(
        plane: *mut bindings::drm_plane,
        _state: *mut bindings::drm_atomic_state,
    ) {
        // SAFETY: The DRM core calls this with a plane of ours, whose device is live.
        unsafe { with_device((*plane).dev, || P::atomic_disable(Self::from_raw(plane))) };
    }
}

impl<'a, T: Driver> Setup<'a, T> {
    /// Creates the primary plane of a CRTC (give it to [`Setup::crtc`]: [`Setup::finish`]
    /// fails otherwise), which scans out framebuffers of the pixel formats `formats` (linear
    /// only), with the `FB_DAMAGE_CLIPS` property.
    ///
    /// Fails with `EINVAL` unless there are 1 to 64 formats, each a known single-plane format
    /// of whole bytes per pixel (no block or sub-byte formats), and with `ENOSPC` if the
    /// device has 32 planes already.
    pub fn primary_plane<P: PlaneFuncs<Driver = T>>(
        &self,
        formats: &'static [u32],
    ) -> Result<PrimaryPlane<'a, P>> {
        if formats.is_empty() || formats.len() > 64 {
            return self.check(Err(EINVAL));
        }
        if !formats.iter().all(|&f| scanout_format(f)) {
            return self.check(Err(EINVAL));
        }
        self.check_room(|mc| mc.num_total_plane)?;
        let count = formats.len() as u32;
        // SAFETY: The device is live and its mode config initialised (`Setup` exists); size and
        // offset describe `Plane<P>`; the tables and `formats` are static. `possible_crtcs` is
        // set by `Setup::crtc`. A NULL name makes the C side name it.
        let raw = unsafe {
            bindings::__drmm_universal_plane_alloc(
                self.device().as_raw(),
                mem::size_of::<Plane<P>>(),
                mem::offset_of!(Plane<P>, raw),
                0,
                &Plane::<P>::FUNCS,
                formats.as_ptr(),
                count,
                ptr::null(),
                bindings::drm_plane_type_DRM_PLANE_TYPE_PRIMARY,
                ptr::null(),
            )
        };
        let raw = self
            .check(crate::error::from_err_ptr(raw))?
            .cast::<bindings::drm_plane>();
        // SAFETY: `raw` is the new plane; the helper table is static.
        unsafe {
            (*raw).helper_private = &Plane::<P>::HELPER_FUNCS;
            bindings::drm_plane_enable_fb_damage_clips(raw);
        }
        self.pending_primaries.set(self.pending_primaries.get() + 1);
        // SAFETY: `raw` was made above with `P`'s tables; it lives as long as the device.
        Ok(PrimaryPlane(unsafe { Plane::from_raw(raw) }))
    }
}

/// Bytes per pixel of the first plane of `format`.
fn cpp(format: &bindings::drm_format_info) -> u8 {
    // SAFETY: Both members of the union (`cpp` and `char_per_block`) are `[u8; 4]`.
    unsafe { format.__bindgen_anon_1.cpp[0] }
}

/// Whether `format` is a known single-plane format of whole bytes per pixel.
///
/// Not generic and never inlined: `__drm_format_info` is not exported to modules.
#[inline(never)]
fn scanout_format(format: u32) -> bool {
    // SAFETY: `__drm_format_info` only looks the code up (without `drm_format_info`'s warning
    // for unknown codes); it returns NULL or a static table.
    let info = unsafe { bindings::__drm_format_info(format) };
    if info.is_null() {
        return false;
    }
    // SAFETY: `info` is a static table.
    let i = unsafe { &*info };
    i.num_planes == 1 && cpp(i) > 0 && i.block_w[0] <= 1 && i.block_h[0] <= 1
}

/// What a framebuffer is: size, layout and format.
#[derive(Clone, Copy, Debug)]
pub struct FbInfo {
    /// Width in pixels.
    pub width: u32,
    /// Height in lines.
    pub height: u32,
    /// Bytes per line of the first plane.
    pub pitch: u32,
    /// The fourcc code of its format ([`super::format`]).
    pub format: u32,
    /// Bytes per pixel of the first plane.
    pub cpp: u32,
}

/// A new plane state being checked or committed, read-only.
///
/// # Invariants
///
/// `state` is a valid `drm_plane_state` and `crtc_state` NULL or the new state of its CRTC;
/// neither changes for `'a`.
pub struct PlaneState<'a> {
    state: *const bindings::drm_plane_state,
    crtc_state: *const bindings::drm_crtc_state,
    _p: PhantomData<&'a ()>,
}

impl<'a> PlaneState<'a> {
    /// # Safety
    ///
    /// As the type invariants.
    unsafe fn new(
        state: *const bindings::drm_plane_state,
        crtc_state: *const bindings::drm_crtc_state,
    ) -> Self {
        PlaneState {
            state,
            crtc_state,
            _p: PhantomData,
        }
    }

    fn raw(&self) -> &bindings::drm_plane_state {
        // SAFETY: By the type invariants.
        unsafe { &*self.state }
    }

    /// Whether the plane is shown.
    pub fn visible(&self) -> bool {
        self.raw().visible
    }

    /// The framebuffer, if the plane has one.
    pub fn framebuffer(&self) -> Option<FbInfo> {
        let fb = self.raw().fb;
        if fb.is_null() {
            return None;
        }
        // SAFETY: The state holds a reference to `fb`, whose format does not change.
        let (fb, format) = unsafe { (&*fb, &*(*fb).format) };
        Some(FbInfo {
            width: fb.width,
            height: fb.height,
            pitch: fb.pitches[0],
            format: format.format,
            cpp: u32::from(cpp(format)),
        })
    }

    /// The part of the framebuffer that is shown, in whole pixels.
    pub fn src(&self) -> Rect {
        let s = &self.raw().src;
        Rect {
            x1: s.x1 >> 16,
            y1: s.y1 >> 16,
            x2: s.x2 >> 16,
            y2: s.y2 >> 16,
        }
    }

    /// The mode of the CRTC the plane is on, if it is on an enabled one.
    pub fn crtc_mode(&self) -> Option<&DisplayMode> {
        if self.crtc_state.is_null() {
            return None;
        }
        // SAFETY: By the type invariants the CRTC state is valid for `'a`.
        let cs = unsafe { &*self.crtc_state };
        if !cs.enable {
            return None;
        }
        // SAFETY: The mode is part of the CRTC state.
        Some(unsafe { DisplayMode::from_raw(&cs.mode) })
    }
}

/// A plane update being committed: the new state, and what changed since the old one.
pub struct PlaneUpdate<'a> {
    new: PlaneState<'a>,
    old: *const bindings::drm_plane_state,
}

impl<'a> PlaneUpdate<'a> {
    /// The new state.
    pub fn state(&self) -> &PlaneState<'a> {
        &self.new
    }

    /// The rectangles of the framebuffer that changed and are shown (`FB_DAMAGE_CLIPS` or
    /// `DIRTYFB`; all of the shown part after a change of framebuffer or position), clipped
    /// to [`PlaneState::src`].
    pub fn for_each_damage(&self, mut f: impl FnMut(Rect) -> Result) -> Result {
        // SAFETY: All-zero is a valid iterator, initialised below.
        let mut iter: bindings::drm_atomic_helper_damage_iter = unsafe { mem::zeroed() };
        // SAFETY: `old` and the new state are the plane's states in the commit (type
        // invariants of `PlaneState`, and `old` from the same commit).
        unsafe {
            bindings::drm_atomic_helper_damage_iter_init(&mut iter, self.old, self.new.state)
        };
        let mut clip = bindings::drm_rect::default();
        // SAFETY: `iter` was initialised above.
        while unsafe { bindings::drm_atomic_helper_damage_iter_next(&mut iter, &mut clip) } {
            f(Rect::from_raw(&clip))?;
        }
        Ok(())
    }

    /// Copies the damaged parts of the framebuffer ([`Self::for_each_damage`]) to `dst`, whose
    /// line `y`, pixel `x` at `y * dst_pitch + x * cpp` shows framebuffer pixel
    /// `(src.x1 + x, src.y1 + y)`.
    ///
    /// Fails with `EINVAL` if the plane has no framebuffer, its format has more than one plane,
    /// a line does not fit in `dst_pitch`, or a rectangle would not fit in `dst`; nothing is
    /// written out of `dst` whatever the arguments.
    pub fn copy_damage<const SIZE: usize>(&self, dst: &Io<SIZE>, dst_pitch: usize) -> Result {
        let fb = self.new.raw().fb;
        if fb.is_null() {
            return Err(EINVAL);
        }
        // SAFETY: The state holds a reference to `fb`, whose fields do not change.
        let (fbr, format) = unsafe { (&*fb, &*(*fb).format) };
        // Planes take single-plane formats of whole bytes per pixel only (`primary_plane`).
        if format.num_planes != 1 || format.block_w[0] > 1 || format.block_h[0] > 1 {
            return Err(EINVAL);
        }
        let cpp = usize::from(cpp(format));
        let fb_pitch = fbr.pitches[0] as usize;
        // The source side: every clip must lie in the framebuffer, and the framebuffer in its
        // buffer object (the GEM framebuffer helpers check that; it is checked again here,
        // as the copy relies on it).
        let obj = fbr.obj[0];
        if obj.is_null() || cpp == 0 {
            return Err(EINVAL);
        }
        // SAFETY: The framebuffer holds a reference to its object.
        let obj_size = unsafe { (*obj).size };
        let src = self.new.src();
        let dst_pitch_u32 = u32::try_from(dst_pitch).map_err(|_| EINVAL)?;
        // SAFETY: The plane's state is a `drm_shadow_plane_state` (its `reset`/`duplicate`
        // are the shadow-plane helpers) whose `base` is first; `data` maps the framebuffer
        // between `begin_fb_access` and `end_fb_access`, which enclose the update.
        let shadow = unsafe { &*self.new.state.cast::<bindings::drm_shadow_plane_state>() };
        self.for_each_damage(|clip| {
            let (w, h) = (clip.width() as usize, clip.height() as usize);
            if w == 0 || h == 0 {
                return Ok(());
            }
            let (x1, y1) = (
                usize::try_from(clip.x1).map_err(|_| EINVAL)?,
                usize::try_from(clip.y1).map_err(|_| EINVAL)?,
            );
            if x1 + w > fbr.width as usize || y1 + h > fbr.height as usize {
                return Err(EINVAL);
            }
            let src_end = (y1 + h - 1)
                .checked_mul(fb_pitch)
                .and_then(|o| o.checked_add((x1 + w).checked_mul(cpp)?))
                .and_then(|o| o.checked_add(fbr.offsets[0] as usize))
                .ok_or(EINVAL)?;
            if src_end > obj_size {
                return Err(EINVAL);
            }
            // The iterator clips to `src`, so these are not negative.
            let dx = usize::try_from(clip.x1 - src.x1).map_err(|_| EINVAL)?;
            let dy = usize::try_from(clip.y1 - src.y1).map_err(|_| EINVAL)?;
            let line = w.checked_mul(cpp).ok_or(EINVAL)?;
            let start = dy
                .checked_mul(dst_pitch)
                .and_then(|o| o.checked_add(dx.checked_mul(cpp)?))
                .ok_or(EINVAL)?;
            let end = (h - 1)
                .checked_mul(dst_pitch)
                .and_then(|o| o.checked_add(start)?.checked_add(line))
                .ok_or(EINVAL)?;
            if dx
                .checked_mul(cpp)
                .and_then(|o| o.checked_add(line))
                .ok_or(EINVAL)?
                > dst_pitch
                || end > dst.maxsize()
            {
                return Err(EINVAL);
            }
            // SAFETY: All-zero is a valid map; it is set to I/O memory below.
            let mut map: bindings::iosys_map = unsafe { mem::zeroed() };
            map.__bindgen_anon_1.vaddr_iomem = (dst.addr() + start) as *mut c_void;
            map.is_iomem = true;
            let raw_clip = bindings::drm_rect {
                x1: clip.x1,
                y1: clip.y1,
                x2: clip.x2,
                y2: clip.y2,
            };
            // SAFETY: `dst` is mapped I/O memory of `dst.maxsize()` bytes, and the copy writes
            // `h` lines of `line` bytes, `dst_pitch` apart, from `start`: below `end`, checked
            // to be in it. The source is the mapped framebuffer (above): the copy reads `h`
            // lines of `w * cpp` bytes from `offsets[0] + y1 * pitch + x1 * cpp` (the format
            // has whole bytes per pixel), ending below `src_end`, checked to be in the object
            // that is mapped. The format has one plane, so one map and one pitch are read.
            unsafe {
                bindings::drm_fb_memcpy(
                    &mut map,
                    &dst_pitch_u32,
                    shadow.data.as_ptr(),
                    fb,
                    &raw_clip,
                )
            };
            Ok(())
        })
    }
}
