// SPDX-License-Identifier: GPL-2.0
/*
 * User-space tests of a KMS display driver (rbochs, the Rust driver for QEMU's bochs-display,
 * and its C twin bochs), through the DRM uapi only:
 *
 *   rbochs_test pattern CARD WxH RELAYDIR DEVID
 *	sets mode WxH with an atomic commit of a dumb buffer holding a known pattern, then has
 *	QEMU dump the screen of device DEVID (through fork/qmp-relay in RELAYDIR) and compares
 *	every pixel; then changes a rectangle, reports it with DIRTYFB, and compares again.
 *   rbochs_test errors CARD
 *	bad arguments to the mode-setting ioctls get the right errno (and the device still works).
 *   rbochs_test unplug CARD SYSFS-UNBIND PCI-ADDRESS
 *	sets a mode, unbinds the device under the open file, then every ioctl fails with ENODEV;
 *	the mapping of the buffer stays usable and closing is clean. CARD must be rbochs's.
 *   rbochs_test info CARD
 *	rbochs's own ioctl, DRM_IOCTL_RBOCHS_INFO: the VRAM size and interface version, the mode
 *	an atomic commit set, as the registers report them; reserved flags; an older (shorter)
 *	and a newer (longer) struct; a write-only call; a driver ioctl rbochs does not have.
 *   rbochs_test noinfo CARD
 *	a driver without that ioctl (bochs) refuses it with EINVAL.
 *   rbochs_test nonblank RELAYDIR DEVID
 *	dumps the screen of DEVID and checks that it is not blank (the fbdev console).
 *   rbochs_test bench CARD WxH SECONDS
 *	full-screen updates for SECONDS (draw all of a back buffer, flip to it with an atomic
 *	commit): prints updates per second and the mean time of a commit in microseconds.
 *
 * Exit status 0 when everything checked holds; failures are printed on stderr.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <drm/drm.h>
#include <drm/drm_mode.h>
#include <drm/rbochs_drm.h>

static int failures;

static void report(const char *what, const char *fmt, va_list ap)
{
	fprintf(stderr, "%s: ", what);
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
}

static void fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	report("FAIL", fmt, ap);
	va_end(ap);
	failures++;
}

static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	report("ERROR", fmt, ap);
	va_end(ap);
	exit(2);
}

/* ioctl, restarted on EINTR/EAGAIN as libdrm does; -errno on failure. */
static int xioctl(int fd, unsigned long req, void *arg)
{
	int ret;

	do {
		ret = ioctl(fd, req, arg);
	} while (ret == -1 && (errno == EINTR || errno == EAGAIN));
	return ret == -1 ? -errno : 0;
}

struct pipe {
	uint32_t crtc, connector, plane;
	struct drm_mode_modeinfo mode;
};

struct buffer {
	uint32_t handle, pitch, fb, width, height;
	uint64_t size;
	uint32_t *map;
};

/* The first CRTC and connector, the primary plane, and the connector's mode WxH. */
static int find_pipe(int fd, uint32_t w, uint32_t h, struct pipe *p)
{
	struct drm_mode_card_res res = {0};
	uint32_t crtcs[8], conns[8], encs[8], planes[8];
	struct drm_mode_get_connector conn = {0};
	struct drm_mode_modeinfo modes[64];
	struct drm_mode_get_plane_res pres = {0};
	uint32_t i;
	int ret;

	ret = xioctl(fd, DRM_IOCTL_MODE_GETRESOURCES, &res);
	if (ret)
		return ret;
	if (!res.count_crtcs || !res.count_connectors || res.count_crtcs > 8 ||
	    res.count_connectors > 8 || res.count_encoders > 8)
		die("unexpected resources: %u CRTCs, %u connectors", res.count_crtcs,
		    res.count_connectors);
	res.crtc_id_ptr = (uintptr_t)crtcs;
	res.connector_id_ptr = (uintptr_t)conns;
	res.encoder_id_ptr = (uintptr_t)encs;
	res.count_fbs = 0;
	ret = xioctl(fd, DRM_IOCTL_MODE_GETRESOURCES, &res);
	if (ret)
		return ret;
	p->crtc = crtcs[0];
	p->connector = conns[0];

	conn.connector_id = p->connector;
	ret = xioctl(fd, DRM_IOCTL_MODE_GETCONNECTOR, &conn);
	if (ret)
		return ret;
	if (conn.count_modes > 64)
		conn.count_modes = 64;
	conn.modes_ptr = (uintptr_t)modes;
	conn.count_props = 0;
	conn.count_encoders = 0;
	ret = xioctl(fd, DRM_IOCTL_MODE_GETCONNECTOR, &conn);
	if (ret)
		return ret;
	for (i = 0; i < conn.count_modes && i < 64; i++)
		if (modes[i].hdisplay == w && modes[i].vdisplay == h)
			break;
	if (i == conn.count_modes || i == 64)
		die("the connector has no %ux%u mode", w, h);
	p->mode = modes[i];

	ret = xioctl(fd, DRM_IOCTL_MODE_GETPLANERESOURCES, &pres);
	if (ret)
		return ret;
	if (!pres.count_planes || pres.count_planes > 8)
		die("unexpected plane count %u", pres.count_planes);
	pres.plane_id_ptr = (uintptr_t)planes;
	ret = xioctl(fd, DRM_IOCTL_MODE_GETPLANERESOURCES, &pres);
	if (ret)
		return ret;
	p->plane = planes[0];
	return 0;
}

/* The id of property NAME of object ID (of TYPE). */
static uint32_t prop_id(int fd, uint32_t id, uint32_t type, const char *name)
{
	struct drm_mode_obj_get_properties op = { .obj_id = id, .obj_type = type };
	uint32_t ids[64];
	uint64_t vals[64];
	uint32_t i;

	if (xioctl(fd, DRM_IOCTL_MODE_OBJ_GETPROPERTIES, &op) || op.count_props > 64)
		die("cannot read the properties of object %u", id);
	op.props_ptr = (uintptr_t)ids;
	op.prop_values_ptr = (uintptr_t)vals;
	if (xioctl(fd, DRM_IOCTL_MODE_OBJ_GETPROPERTIES, &op))
		die("cannot read the properties of object %u", id);
	for (i = 0; i < op.count_props; i++) {
		struct drm_mode_get_property gp = { .prop_id = ids[i] };

		if (xioctl(fd, DRM_IOCTL_MODE_GETPROPERTY, &gp))
			continue;
		if (!strcmp(gp.name, name))
			return ids[i];
	}
	die("object %u has no property %s", id, name);
	return 0;
}

static int create_buffer(int fd, uint32_t w, uint32_t h, struct buffer *b)
{
	struct drm_mode_create_dumb cd = { .width = w, .height = h, .bpp = 32 };
	struct drm_mode_map_dumb md = {0};
	struct drm_mode_fb_cmd2 fb = {0};
	int ret;

	ret = xioctl(fd, DRM_IOCTL_MODE_CREATE_DUMB, &cd);
	if (ret)
		return ret;
	b->handle = cd.handle;
	b->pitch = cd.pitch;
	b->size = cd.size;
	b->width = w;
	b->height = h;
	md.handle = cd.handle;
	ret = xioctl(fd, DRM_IOCTL_MODE_MAP_DUMB, &md);
	if (ret)
		return ret;
	b->map = mmap(NULL, cd.size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, md.offset);
	if (b->map == MAP_FAILED)
		return -errno;
	fb.width = w;
	fb.height = h;
	fb.pixel_format = ('X' | 'R' << 8 | '2' << 16 | '4' << 24);
	fb.handles[0] = cd.handle;
	fb.pitches[0] = cd.pitch;
	ret = xioctl(fd, DRM_IOCTL_MODE_ADDFB2, &fb);
	if (ret)
		return ret;
	b->fb = fb.fb_id;
	return 0;
}

/* The test pattern: every pixel differs from its neighbours in some channel. */
static uint32_t pattern(uint32_t x, uint32_t y)
{
	return ((x ^ y) & 0xff) << 16 | ((x * 3) & 0xff) << 8 | ((y * 5 + x / 256) & 0xff);
}

/* The pattern of the rectangle changed for the DIRTYFB step. */
static uint32_t pattern2(uint32_t x, uint32_t y)
{
	return 0x00ff8000 | ((x + 2 * y) & 0xff);
}

#define RECT_X1 100
#define RECT_Y1 50
#define RECT_X2 356
#define RECT_Y2 250

static void draw(struct buffer *b, uint32_t (*pat)(uint32_t, uint32_t), uint32_t x1, uint32_t y1,
		 uint32_t x2, uint32_t y2)
{
	uint32_t x, y;

	for (y = y1; y < y2; y++)
		for (x = x1; x < x2; x++)
			b->map[y * (b->pitch / 4) + x] = pat(x, y);
}

/* Sets mode p->mode showing FB with one atomic commit; returns -errno. */
static int commit_mode(int fd, struct pipe *p, uint32_t fb, uint32_t fb_w, uint32_t fb_h,
		       uint32_t flags)
{
	struct drm_mode_create_blob blob = {
		.data = (uintptr_t)&p->mode, .length = sizeof(p->mode)
	};
	uint32_t objs[3], counts[3], props[16];
	uint64_t vals[16];
	struct drm_mode_atomic req = {0};
	struct drm_mode_destroy_blob db;
	int n = 0, ret;

	ret = xioctl(fd, DRM_IOCTL_MODE_CREATEPROPBLOB, &blob);
	if (ret)
		return ret;
	objs[0] = p->crtc;
	counts[0] = 2;
	props[n] = prop_id(fd, p->crtc, DRM_MODE_OBJECT_CRTC, "MODE_ID");
	vals[n++] = blob.blob_id;
	props[n] = prop_id(fd, p->crtc, DRM_MODE_OBJECT_CRTC, "ACTIVE");
	vals[n++] = 1;
	objs[1] = p->connector;
	counts[1] = 1;
	props[n] = prop_id(fd, p->connector, DRM_MODE_OBJECT_CONNECTOR, "CRTC_ID");
	vals[n++] = p->crtc;
	objs[2] = p->plane;
	counts[2] = 10;
	props[n] = prop_id(fd, p->plane, DRM_MODE_OBJECT_PLANE, "FB_ID");
	vals[n++] = fb;
	props[n] = prop_id(fd, p->plane, DRM_MODE_OBJECT_PLANE, "CRTC_ID");
	vals[n++] = p->crtc;
	props[n] = prop_id(fd, p->plane, DRM_MODE_OBJECT_PLANE, "SRC_X");
	vals[n++] = 0;
	props[n] = prop_id(fd, p->plane, DRM_MODE_OBJECT_PLANE, "SRC_Y");
	vals[n++] = 0;
	props[n] = prop_id(fd, p->plane, DRM_MODE_OBJECT_PLANE, "SRC_W");
	vals[n++] = (uint64_t)fb_w << 16;
	props[n] = prop_id(fd, p->plane, DRM_MODE_OBJECT_PLANE, "SRC_H");
	vals[n++] = (uint64_t)fb_h << 16;
	props[n] = prop_id(fd, p->plane, DRM_MODE_OBJECT_PLANE, "CRTC_X");
	vals[n++] = 0;
	props[n] = prop_id(fd, p->plane, DRM_MODE_OBJECT_PLANE, "CRTC_Y");
	vals[n++] = 0;
	props[n] = prop_id(fd, p->plane, DRM_MODE_OBJECT_PLANE, "CRTC_W");
	vals[n++] = fb_w;
	props[n] = prop_id(fd, p->plane, DRM_MODE_OBJECT_PLANE, "CRTC_H");
	vals[n++] = fb_h;

	req.flags = DRM_MODE_ATOMIC_ALLOW_MODESET | flags;
	req.count_objs = 3;
	req.objs_ptr = (uintptr_t)objs;
	req.count_props_ptr = (uintptr_t)counts;
	req.props_ptr = (uintptr_t)props;
	req.prop_values_ptr = (uintptr_t)vals;
	ret = xioctl(fd, DRM_IOCTL_MODE_ATOMIC, &req);
	db.blob_id = blob.blob_id;
	xioctl(fd, DRM_IOCTL_MODE_DESTROYPROPBLOB, &db);
	return ret;
}

static int open_card(const char *card)
{
	struct drm_set_client_cap cap = {
		.capability = DRM_CLIENT_CAP_UNIVERSAL_PLANES, .value = 1
	};
	int fd = open(card, O_RDWR | O_CLOEXEC);

	if (fd < 0)
		die("cannot open %s: %s", card, strerror(errno));
	if (xioctl(fd, DRM_IOCTL_SET_CLIENT_CAP, &cap))
		die("universal planes: %s", strerror(errno));
	cap.capability = DRM_CLIENT_CAP_ATOMIC;
	if (xioctl(fd, DRM_IOCTL_SET_CLIENT_CAP, &cap))
		die("atomic: %s", strerror(errno));
	return fd;
}

/* Has QEMU dump the screen of DEVID into RELAYDIR/NAME (fork/qmp-relay); 0 or -1. */
static int dump_screen(const char *dir, const char *devid, const char *name)
{
	char req[4096], tmp[4096], reply[4096], line[256];
	FILE *f;
	int i;

	snprintf(req, sizeof(req), "%s/request", dir);
	snprintf(tmp, sizeof(tmp), "%s/request.tmp", dir);
	snprintf(reply, sizeof(reply), "%s/reply", dir);
	unlink(reply);
	f = fopen(tmp, "w");
	if (!f)
		die("cannot write %s: %s", tmp, strerror(errno));
	fprintf(f, "%s %s %s\n", "screendump", devid, name);
	fclose(f);
	if (rename(tmp, req))
		die("cannot rename %s: %s", tmp, strerror(errno));
	for (i = 0; i < 300 && access(reply, F_OK); i++)
		usleep(100000);
	f = fopen(reply, "r");
	if (!f) {
		fail("fork/qmp-relay did not answer the screendump");
		return -1;
	}
	if (!fgets(line, sizeof(line), f))
		line[0] = 0;
	fclose(f);
	if (strcmp(line, "ok\n")) {
		fail("QEMU could not dump the screen: %s", line);
		return -1;
	}
	return 0;
}

/* Reads a binary PPM (P6, maxval 255) into *w, *h and RGB bytes. */
static uint8_t *read_ppm(const char *path, uint32_t *w, uint32_t *h)
{
	FILE *f = fopen(path, "rb");
	unsigned int mv;
	uint8_t *px;
	size_t n;

	if (!f)
		die("cannot open %s: %s", path, strerror(errno));
	if (fscanf(f, "P6 %u %u %u", w, h, &mv) != 3 || mv != 255 || fgetc(f) == EOF)
		die("%s is not a P6 PPM", path);
	if (!*w || !*h || *w > 16384 || *h > 16384)
		die("%s: bad size %ux%u", path, *w, *h);
	n = (size_t)*w * *h * 3;
	px = malloc(n);
	if (!px || fread(px, 1, n, f) != n)
		die("%s: short image", path);
	fclose(f);
	return px;
}

/* Compares the dumped screen with what the buffer should show; the number of wrong pixels. */
static long compare(const char *path, struct buffer *b, int with_rect)
{
	uint32_t w, h, x, y, exp, got;
	uint8_t *px = read_ppm(path, &w, &h);
	long bad = 0;

	if (w != b->width || h != b->height) {
		fail("the screen is %ux%u, not %ux%u", w, h, b->width, b->height);
		free(px);
		return -1;
	}
	for (y = 0; y < h; y++) {
		for (x = 0; x < w; x++) {
			uint8_t *p = px + ((size_t)y * w + x) * 3;
			int in = with_rect && x >= RECT_X1 && x < RECT_X2 && y >= RECT_Y1 &&
				 y < RECT_Y2;

			exp = (in ? pattern2(x, y) : pattern(x, y)) & 0xffffff;
			got = (uint32_t)p[0] << 16 | p[1] << 8 | p[2];
			if (exp != got && bad++ < 5)
				fprintf(stderr, "pixel (%u,%u): %06x, expected %06x\n",
					x, y, got, exp);
		}
	}
	free(px);
	return bad;
}

/*
 * Has QEMU dump the screen of DEVID into RELAYDIR/NAME and compares it with B (with the DIRTYFB
 * rectangle if WITH_RECT): the number of wrong pixels, or -1 if there is no screen to compare.
 */
static long screen_mismatches(const char *dir, const char *devid, const char *name,
			      struct buffer *b, int with_rect)
{
	char path[4096];

	if (dump_screen(dir, devid, name))
		return -1;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return compare(path, b, with_rect);
}

/* Sets mode WxH on the first pipe with an atomic commit of a new buffer holding the pattern. */
static void show_pattern(int fd, uint32_t w, uint32_t h, struct pipe *p, struct buffer *b)
{
	int ret;

	if (find_pipe(fd, w, h, p))
		die("cannot read the display pipeline");
	ret = create_buffer(fd, w, h, b);
	if (ret)
		die("dumb buffer %ux%u: %s", w, h, strerror(-ret));
	draw(b, pattern, 0, 0, w, h);
	ret = commit_mode(fd, p, b->fb, w, h, 0);
	if (ret)
		die("atomic commit of %ux%u: %s", w, h, strerror(-ret));
}

static int cmd_pattern(const char *card, uint32_t w, uint32_t h, const char *dir,
		       const char *devid)
{
	struct drm_mode_fb_dirty_cmd dirty = {0};
	struct drm_clip_rect clip = { RECT_X1, RECT_Y1, RECT_X2, RECT_Y2 };
	char name[256];
	struct buffer b;
	struct pipe p;
	long bad;
	int fd = open_card(card), ret;

	show_pattern(fd, w, h, &p, &b);
	snprintf(name, sizeof(name), "%s-%ux%u.ppm", devid, w, h);
	bad = screen_mismatches(dir, devid, name, &b, 0);
	if (bad < 0)
		return 1;
	if (bad)
		fail("%ld pixels of %ux%u differ from the pattern", bad, w, h);
	else
		printf("%ux%u: all %u pixels match\n", w, h, w * h);

	/* A partial update, reported with DIRTYFB. */
	draw(&b, pattern2, RECT_X1, RECT_Y1, RECT_X2, RECT_Y2);
	dirty.fb_id = b.fb;
	dirty.num_clips = 1;
	dirty.clips_ptr = (uintptr_t)&clip;
	ret = xioctl(fd, DRM_IOCTL_MODE_DIRTYFB, &dirty);
	/*
	 * Drivers that scan the buffer out directly (bochs, from VRAM) need no DIRTYFB and may
	 * refuse it: the screen decides.
	 */
	if (ret)
		printf("DIRTYFB: %s; the screen must show the change without it\n", strerror(-ret));
	snprintf(name, sizeof(name), "%s-%ux%u-dirty.ppm", devid, w, h);
	bad = screen_mismatches(dir, devid, name, &b, 1);
	if (bad < 0)
		return 1;
	if (bad)
		fail("after DIRTYFB, %ld pixels differ", bad);
	else
		printf("%ux%u after DIRTYFB of %ux%u: all pixels match\n", w, h,
		       RECT_X2 - RECT_X1, RECT_Y2 - RECT_Y1);
	close(fd);
	return failures ? 1 : 0;
}

static void expect_err(int ret, int err, const char *what)
{
	if (ret != -err)
		fail("%s: got %s, expected %s", what, ret ? strerror(-ret) : "success",
		     strerror(err));
	else
		printf("%s: %s\n", what, strerror(err));
}

static int cmd_errors(const char *card)
{
	struct drm_mode_fb_cmd2 fb;
	struct drm_mode_create_dumb cd;
	struct drm_mode_destroy_dumb dd;
	struct buffer b, small;
	struct pipe p;
	uint32_t fbid;
	int fd = open_card(card), ret;

	if (find_pipe(fd, 1024, 768, &p))
		die("cannot read the display pipeline");
	ret = create_buffer(fd, 1024, 768, &b);
	if (ret)
		die("dumb buffer: %s", strerror(-ret));

	/* Framebuffers. */
	memset(&fb, 0, sizeof(fb));
	fb.width = 1024;
	fb.height = 768;
	fb.pixel_format = 'X' | 'R' << 8 | '2' << 16 | '4' << 24;
	fb.handles[0] = 0xdead;
	fb.pitches[0] = 4096;
	expect_err(xioctl(fd, DRM_IOCTL_MODE_ADDFB2, &fb), ENOENT, "ADDFB2 with an invalid handle");
	fb.handles[0] = b.handle;
	fb.pitches[0] = 1024 * 4 - 4;
	expect_err(xioctl(fd, DRM_IOCTL_MODE_ADDFB2, &fb), EINVAL, "ADDFB2 with a pitch too small");
	fb.pitches[0] = 1024 * 4;
	fb.height = 1024;
	expect_err(xioctl(fd, DRM_IOCTL_MODE_ADDFB2, &fb), EINVAL,
		   "ADDFB2 larger than its buffer");
	fb.width = 100000;
	fb.height = 768;
	expect_err(xioctl(fd, DRM_IOCTL_MODE_ADDFB2, &fb), EINVAL,
		   "ADDFB2 wider than the maximum");
	fb.width = 1024;
	fb.pixel_format = ('Y' | 'U' << 8 | 'Y' << 16 | 'V' << 24);
	expect_err(xioctl(fd, DRM_IOCTL_MODE_ADDFB2, &fb), EINVAL,
		   "ADDFB2 in a format the plane lacks");
	fbid = 0x7fffffff;
	expect_err(xioctl(fd, DRM_IOCTL_MODE_RMFB, &fbid), ENOENT, "RMFB of an invalid id");

	/* Dumb buffers. */
	memset(&cd, 0, sizeof(cd));
	cd.width = 0xffffffff;
	cd.height = 0xffffffff;
	cd.bpp = 32;
	expect_err(xioctl(fd, DRM_IOCTL_MODE_CREATE_DUMB, &cd), EINVAL,
		   "CREATE_DUMB whose size overflows");
	memset(&cd, 0, sizeof(cd));
	cd.width = 64;
	cd.height = 64;
	cd.bpp = 0;
	expect_err(xioctl(fd, DRM_IOCTL_MODE_CREATE_DUMB, &cd), EINVAL, "CREATE_DUMB of 0 bpp");
	dd.handle = 0xdead;
	expect_err(xioctl(fd, DRM_IOCTL_MODE_DESTROY_DUMB, &dd), EINVAL,
		   "DESTROY_DUMB of an invalid handle");

	/* Modes. */
	ret = create_buffer(fd, 640, 480, &small);
	if (ret)
		die("dumb buffer: %s", strerror(-ret));
	expect_err(commit_mode(fd, &p, small.fb, 640, 480, 0), EINVAL,
		   "a plane that does not cover its CRTC");
	p.mode.hdisplay = 32;
	p.mode.vdisplay = 32;
	expect_err(commit_mode(fd, &p, b.fb, 32, 32, 0), EINVAL, "a 32x32 mode");
	p.mode.hdisplay = 4096;
	p.mode.vdisplay = 4096;
	p.mode.hsync_start = 4100;
	p.mode.hsync_end = 4200;
	p.mode.htotal = 4300;
	p.mode.vsync_start = 4100;
	p.mode.vsync_end = 4110;
	p.mode.vtotal = 4120;
	expect_err(commit_mode(fd, &p, b.fb, 1024, 768, 0), EINVAL,
		   "a 4096x4096 mode (more than the VRAM)");
	if (find_pipe(fd, 1024, 768, &p))
		die("cannot read the display pipeline");
	expect_err(commit_mode(fd, &p, b.fb, 1024, 768, DRM_MODE_ATOMIC_TEST_ONLY), 0,
		   "the 1024x768 mode, test only");
	ret = commit_mode(fd, &p, b.fb, 1024, 768, 0);
	if (ret)
		fail("setting 1024x768 after the errors: %s", strerror(-ret));
	close(fd);
	return failures ? 1 : 0;
}

/* DRM_IOCTL_RBOCHS_INFO with the size of TYPE and direction DIR (DRM_IOWR, DRM_IOR, DRM_IOW). */
#define RBOCHS_INFO_AS(dir, type) dir(DRM_COMMAND_BASE + DRM_RBOCHS_INFO, type)

static int cmd_info(const char *card)
{
	struct drm_rbochs_info info = {0};
	struct { __u32 flags, dispi_id; } old = {0};
	struct { struct drm_rbochs_info info; __u64 next; } new = { .next = 0x1234 };
	struct buffer b;
	struct pipe p;
	int fd = open_card(card), ret;

	ret = xioctl(fd, DRM_IOCTL_RBOCHS_INFO, &info);
	if (ret)
		die("RBOCHS_INFO: %s", strerror(-ret));
	printf("DISPI 0x%x, %llu KiB of VRAM\n", info.dispi_id,
	       (unsigned long long)info.vram_size >> 10);
	if ((info.dispi_id & 0xfff0) != 0xb0c0 || info.dispi_id > 0xb0c5)
		fail("DISPI id 0x%x is not 0xb0c0 to 0xb0c5", info.dispi_id);
	/* QEMU's default vgamem. */
	if (info.vram_size != 16 << 20)
		fail("VRAM size %llu, not 16 MiB", (unsigned long long)info.vram_size);

	/* Not 1024x768, the mode the console may have set already. */
	show_pattern(fd, 800, 600, &p, &b);
	memset(&info, 0, sizeof(info));
	ret = xioctl(fd, DRM_IOCTL_RBOCHS_INFO, &info);
	if (ret || info.width != 800 || info.height != 600)
		fail("after a commit of 800x600: %s, %ux%u", ret ? strerror(-ret) : "ok",
		     info.width, info.height);
	else
		printf("the registers show the committed 800x600\n");

	info.flags = 1;
	expect_err(xioctl(fd, DRM_IOCTL_RBOCHS_INFO, &info), EINVAL, "reserved flags set");

	ret = xioctl(fd, RBOCHS_INFO_AS(DRM_IOWR, old), &old);
	if (ret || old.dispi_id != info.dispi_id)
		fail("an 8-byte struct: %s, id 0x%x", ret ? strerror(-ret) : "ok", old.dispi_id);
	else
		printf("an older 8-byte struct gets its fields\n");

	ret = xioctl(fd, RBOCHS_INFO_AS(DRM_IOWR, new), &new);
	if (ret || new.info.vram_size != info.vram_size || new.next != 0x1234)
		fail("a 32-byte struct: %s, VRAM %llu, next 0x%llx", ret ? strerror(-ret) : "ok",
		     (unsigned long long)new.info.vram_size, (unsigned long long)new.next);
	else
		printf("a newer 32-byte struct gets the fields, the rest untouched\n");

	memset(&info, 0, sizeof(info));
	info.vram_size = 7;
	ret = xioctl(fd, RBOCHS_INFO_AS(DRM_IOW, struct drm_rbochs_info), &info);
	if (ret || info.vram_size != 7)
		fail("write-only: %s, VRAM %llu", ret ? strerror(-ret) : "ok",
		     (unsigned long long)info.vram_size);
	else
		printf("a write-only call copies nothing back\n");

	/* Read-only: nothing is copied in, so the reserved flags read as zero. */
	memset(&info, 0, sizeof(info));
	info.flags = 1;
	ret = xioctl(fd, RBOCHS_INFO_AS(DRM_IOR, struct drm_rbochs_info), &info);
	if (ret || info.width != 800 || info.dispi_id != old.dispi_id)
		fail("read-only: %s, width %u", ret ? strerror(-ret) : "ok", info.width);
	else
		printf("a read-only call ignores what user space passed in\n");

	ret = xioctl(fd, DRM_IOWR(DRM_COMMAND_BASE + 1, struct drm_rbochs_info), &info);
	expect_err(ret, EINVAL, "driver ioctl 1 (none)");
	close(fd);
	return failures ? 1 : 0;
}

static int cmd_noinfo(const char *card)
{
	struct drm_rbochs_info info = {0};
	int fd = open_card(card);

	expect_err(xioctl(fd, DRM_IOCTL_RBOCHS_INFO, &info), EINVAL, "RBOCHS_INFO on another driver");
	close(fd);
	return failures ? 1 : 0;
}

static int cmd_unplug(const char *card, const char *unbind, const char *addr)
{
	struct drm_mode_card_res res = {0};
	struct drm_mode_create_dumb cd = { .width = 64, .height = 64, .bpp = 32 };
	struct drm_rbochs_info info = {0};
	struct buffer b;
	struct pipe p;
	int fd = open_card(card), u;

	show_pattern(fd, 1024, 768, &p, &b);
	u = open(unbind, O_WRONLY);
	if (u < 0 || write(u, addr, strlen(addr)) != (ssize_t)strlen(addr))
		die("unbinding %s: %s", addr, strerror(errno));
	close(u);
	expect_err(xioctl(fd, DRM_IOCTL_MODE_GETRESOURCES, &res), ENODEV,
		   "GETRESOURCES after unbind");
	expect_err(xioctl(fd, DRM_IOCTL_MODE_CREATE_DUMB, &cd), ENODEV, "CREATE_DUMB after unbind");
	expect_err(commit_mode(fd, &p, b.fb, 1024, 768, 0), ENODEV, "an atomic commit after unbind");
	expect_err(xioctl(fd, DRM_IOCTL_RBOCHS_INFO, &info), ENODEV, "RBOCHS_INFO after unbind");
	/* The buffer's pages are the file's: still mapped, still writable. */
	draw(&b, pattern2, 0, 0, 1024, 768);
	if (munmap(b.map, b.size))
		fail("munmap: %s", strerror(errno));
	if (close(fd))
		fail("close: %s", strerror(errno));
	return failures ? 1 : 0;
}

static int cmd_nonblank(const char *dir, const char *devid)
{
	char name[256], path[4096];
	uint32_t w, h;
	size_t i, lit = 0;
	uint8_t *px;

	snprintf(name, sizeof(name), "%s-console.ppm", devid);
	if (dump_screen(dir, devid, name))
		return 1;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	px = read_ppm(path, &w, &h);
	for (i = 0; i < (size_t)w * h; i++)
		lit += px[3 * i] || px[3 * i + 1] || px[3 * i + 2];
	free(px);
	printf("%ux%u, %zu pixels not black\n", w, h, lit);
	/* A few lines of text light a few thousand pixels. */
	if (lit < 2000)
		fail("the screen is blank (%zu pixels lit)", lit);
	return failures ? 1 : 0;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Flips the plane to FB with an atomic commit (no mode change); returns -errno. */
static int commit_fb(int fd, struct pipe *p, uint32_t prop_fb, uint32_t fb)
{
	uint32_t count = 1;
	uint64_t val = fb;
	struct drm_mode_atomic req = {
		.count_objs = 1,
		.objs_ptr = (uintptr_t)&p->plane,
		.count_props_ptr = (uintptr_t)&count,
		.props_ptr = (uintptr_t)&prop_fb,
		.prop_values_ptr = (uintptr_t)&val,
	};

	return xioctl(fd, DRM_IOCTL_MODE_ATOMIC, &req);
}

/*
 * Full-screen updates as a double-buffering client makes them: draw all of the back buffer,
 * flip to it with an atomic commit (which waits until the update is done), swap.
 */
static int cmd_bench(const char *card, uint32_t w, uint32_t h, double secs)
{
	double start, t, in_ioctl = 0;
	unsigned long n = 0;
	struct buffer b[2];
	struct pipe p;
	uint32_t prop_fb;
	int fd = open_card(card), ret, i;

	if (find_pipe(fd, w, h, &p))
		die("cannot read the display pipeline");
	for (i = 0; i < 2; i++) {
		ret = create_buffer(fd, w, h, &b[i]);
		if (ret)
			die("dumb buffer: %s", strerror(-ret));
	}
	ret = commit_mode(fd, &p, b[0].fb, w, h, 0);
	if (ret)
		die("atomic commit: %s", strerror(-ret));
	prop_fb = prop_id(fd, p.plane, DRM_MODE_OBJECT_PLANE, "FB_ID");
	start = now();
	do {
		struct buffer *back = &b[(n + 1) % 2];
		uint32_t v = (uint32_t)n * 0x010101, k;

		for (k = 0; k < back->size / 4; k++)
			back->map[k] = v;
		t = now();
		ret = commit_fb(fd, &p, prop_fb, back->fb);
		if (ret)
			die("atomic flip: %s", strerror(-ret));
		in_ioctl += now() - t;
		n++;
	} while (now() - start < secs);
	t = now() - start;
	printf("updates_per_s %.2f\ncommit_latency_us %.1f\n", n / t, in_ioctl / n * 1e6);
	close(fd);
	return 0;
}

static uint32_t parse_size(const char *s, uint32_t *h)
{
	unsigned int w;

	if (sscanf(s, "%ux%u", &w, h) != 2)
		die("not WxH: %s", s);
	return w;
}

int main(int argc, char **argv)
{
	uint32_t w, h;

	if (argc == 6 && !strcmp(argv[1], "pattern")) {
		w = parse_size(argv[3], &h);
		return cmd_pattern(argv[2], w, h, argv[4], argv[5]);
	}
	if (argc == 3 && !strcmp(argv[1], "errors"))
		return cmd_errors(argv[2]);
	if (argc == 3 && !strcmp(argv[1], "info"))
		return cmd_info(argv[2]);
	if (argc == 3 && !strcmp(argv[1], "noinfo"))
		return cmd_noinfo(argv[2]);
	if (argc == 5 && !strcmp(argv[1], "unplug"))
		return cmd_unplug(argv[2], argv[3], argv[4]);
	if (argc == 4 && !strcmp(argv[1], "nonblank"))
		return cmd_nonblank(argv[2], argv[3]);
	if (argc == 5 && !strcmp(argv[1], "bench")) {
		w = parse_size(argv[3], &h);
		return cmd_bench(argv[2], w, h, atof(argv[4]));
	}
	fprintf(stderr, "usage: see the comment at the top of %s\n", __FILE__);
	return 2;
}
