/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * The ioctls of rbochs, the Rust driver for QEMU's bochs-display
 * (drivers/gpu/drm/rbochs), after the DRM core's.
 */

#ifndef _UAPI_RBOCHS_DRM_H_
#define _UAPI_RBOCHS_DRM_H_

#include "drm.h"

#if defined(__cplusplus)
extern "C" {
#endif

#define DRM_RBOCHS_INFO		0x00

#define DRM_IOCTL_RBOCHS_INFO	DRM_IOWR(DRM_COMMAND_BASE + DRM_RBOCHS_INFO, struct drm_rbochs_info)

/**
 * struct drm_rbochs_info - the display's state, as the hardware reports it
 * @flags: in: must be 0 (reserved)
 * @dispi_id: out: the DISPI interface version, 0xb0c0 to 0xb0c5
 * @vram_size: out: the size of the video memory, in bytes
 * @width: out: the width of the mode the display scans out, 0 while it is off
 * @height: out: its height, 0 while it is off
 *
 * A caller that passes a shorter struct (an older version of this one) gets
 * the fields it passed; the fields it did not pass read as zero.
 */
struct drm_rbochs_info {
	__u32 flags;
	__u32 dispi_id;
	__u64 vram_size;
	__u32 width;
	__u32 height;
};

#if defined(__cplusplus)
}
#endif

#endif /* _UAPI_RBOCHS_DRM_H_ */
