// SPDX-License-Identifier: GPL-2.0

#include <drm/drm_atomic.h>

struct drm_plane_state *
rust_helper_drm_atomic_get_new_plane_state(const struct drm_atomic_state *state,
					   struct drm_plane *plane)
{
	return drm_atomic_get_new_plane_state(state, plane);
}

struct drm_plane_state *
rust_helper_drm_atomic_get_old_plane_state(const struct drm_atomic_state *state,
					   struct drm_plane *plane)
{
	return drm_atomic_get_old_plane_state(state, plane);
}

struct drm_crtc_state *
rust_helper_drm_atomic_get_new_crtc_state(const struct drm_atomic_state *state,
					  struct drm_crtc *crtc)
{
	return drm_atomic_get_new_crtc_state(state, crtc);
}
