# SPDX-License-Identifier: GPL-2.0
#
# Guest checks of the Rust DRM/KMS abstractions and drivers/gpu/drm/rbochs, the Rust driver for
# QEMU's bochs-display, next to its C twin bochs; sourced by rust-checks.sh. QEMU gives the
# guest two bochs-display devices (fork/guest/qemu-devices): rbochs drives the one behind the
# root port at 00:1a.0 (QEMU id rbochs0), bochs the one at 00:1b.0 (cbochs0). What a display
# shows is read back from QEMU (screendump through fork/qmp-relay, hotplug() in
# reliability.sh).
#
# The user-space side is tools/testing/selftests/drivers/rbochs/rbochs_test.c.

DRM_TEST=$MODROOT/selftests/rbochs_test

# The PCI address of the bochs-display behind root port $1.
bochs_dev() {
	for d in /sys/bus/pci/devices/0000:00:$1/0000:*:00.0; do
		[ -e "$d" ] && echo "${d##*/}"
	done
}

# The DRM card node of the PCI device $1.
drm_card() {
	for c in /sys/bus/pci/devices/"$1"/drm/card*; do
		[ -e "$c" ] && echo "/dev/dri/${c##*/}"
	done
}

# Binds rbochs to the first display and bochs to the second (driver_override: both drivers
# match both devices).
drm_ready() {
	R=$(bochs_dev 1a.0) C=$(bochs_dev 1b.0)
	[ -n "$R" ] && [ -n "$C" ] || { diag "the two bochs-display devices are missing"; return 1; }
	echo rbochs >/sys/bus/pci/devices/"$R"/driver_override
	echo bochs-drm >/sys/bus/pci/devices/"$C"/driver_override
	grep -q '^rbochs ' /proc/modules || mp rbochs || return 1
	grep -q '^bochs ' /proc/modules || mp bochs || return 1
	# Bind again what an unbind check may have left unbound.
	[ -e /sys/bus/pci/drivers/rbochs/"$R" ] || echo "$R" >/sys/bus/pci/drivers/rbochs/bind 2>/dev/null
	[ -e /sys/bus/pci/drivers/bochs-drm/"$C" ] || echo "$C" >/sys/bus/pci/drivers/bochs-drm/bind 2>/dev/null
	[ -e /sys/bus/pci/drivers/rbochs/"$R" ] || { diag "$R is not bound to rbochs"; return 1; }
	[ -e /sys/bus/pci/drivers/bochs-drm/"$C" ] || { diag "$C is not bound to bochs"; return 1; }
	RCARD=$(drm_card "$R") CCARD=$(drm_card "$C")
	[ -c "$RCARD" ] && [ -c "$CCARD" ] || { diag "no card nodes ('$RCARD', '$CCARD')"; return 1; }
}

# Runs rbochs_test with the given arguments; shows its output on failure, its summary else.
drm_test() {
	[ -x "$DRM_TEST" ] || { diag "$DRM_TEST is missing"; return 1; }
	out=$("$DRM_TEST" "$@" 2>&1)
	rc=$?
	echo "$out" | sed 's/^/# /' | { [ $rc -eq 0 ] && tail -3 || cat; }
	return $rc
}

check_drm_rbochs_and_bochs_bind() {
	mark_log
	drm_ready || return 1
	expect_log "rbochs: 16384 KiB of VRAM" || return 1
	expect_log "Initialized rbochs 1.0.0" || return 1
	expect_log "Initialized bochs-drm" || return 1
	diag "rbochs: $R ($RCARD), bochs: $C ($CCARD)"
}

check_drm_modetest_lists_rbochs() {
	drm_ready || return 1
	# -a: as an atomic client, which sees the atomic-only properties (FB_DAMAGE_CLIPS).
	out=$(modetest -a -M rbochs -c -p 2>&1) || { echo "$out" | sed 's/^/# /' | tail; return 1; }
	echo "$out" | grep -qE '^[0-9]+[[:space:]]+[0-9]+[[:space:]]+connected[[:space:]]+Virtual-' ||
		{ diag "no connected Virtual connector"; echo "$out" | head -5 | sed 's/^/# /'; return 1; }
	echo "$out" | grep -q '1280x800.*preferred' ||
		{ diag "the EDID's 1280x800 is not the preferred mode"; return 1; }
	echo "$out" | grep -q '^CRTCs:' || { diag "no CRTC"; return 1; }
	echo "$out" | grep -q 'formats: XR24' || { diag "no XRGB8888 plane"; return 1; }
	echo "$out" | grep -q 'FB_DAMAGE_CLIPS' || { diag "the plane has no FB_DAMAGE_CLIPS"; return 1; }
	echo "$out" | grep -qE '^[[:space:]]+[0-9]+ EDID:' || { diag "no EDID property"; return 1; }
	diag "$(echo "$out" | grep -cE '^  #[0-9]+ ') modes listed"
}

# modetest -s sets a mode with its own pattern; it waits for a key, so it runs in the
# background on a FIFO while QEMU's screen is read back: it must have that size.
modetest_set() {
	fifo=$(mktemp -u /tmp/modetest.XXXXXX)
	mkfifo "$fifo" || return 1
	conn=$(modetest -M rbochs -c | awk '$3 == "connected" { print $1; exit }')
	# Line-buffered, so that its "setting mode" line is in the file while it waits.
	stdbuf -oL modetest -M rbochs -s "$conn:$1" <"$fifo" >/tmp/modetest.out 2>&1 &
	pid=$!
	exec 9>"$fifo"
	wait_for 60 grep -q "setting mode $1" /tmp/modetest.out
	rc=0
	hotplug "screendump rbochs0 modetest-$1.ppm" || rc=1
	echo >&9
	exec 9>&-
	wait $pid || { diag "modetest failed"; rc=1; }
	rm -f "$fifo"
	grep -q "setting mode $1" /tmp/modetest.out || { diag "modetest did not set $1"; rc=1; }
	sed 's/^/# /' /tmp/modetest.out | grep -v '^# $' | head -3
	[ $rc -eq 0 ] || return 1
	size=$(head -c 20 "$HOTPLUG_DIR/modetest-$1.ppm" | tr '\n' ' ' | awk '{ print $2 "x" $3 }')
	[ "$size" = "$1" ] || { diag "QEMU shows $size, not $1"; return 1; }
}

check_drm_modetest_sets_modes() {
	drm_ready || return 1
	modetest_set 1024x768 || return 1
	modetest_set 1280x800 || return 1
}

check_drm_rbochs_pattern_readback() {
	drm_ready || return 1
	drm_test pattern "$RCARD" 1024x768 "$HOTPLUG_DIR" rbochs0 || return 1
	drm_test pattern "$RCARD" 1280x800 "$HOTPLUG_DIR" rbochs0 || return 1
}

# The same test on the C driver: the test itself is right.
check_drm_bochs_pattern_readback() {
	drm_ready || return 1
	drm_test pattern "$CCARD" 1024x768 "$HOTPLUG_DIR" cbochs0 || return 1
}

check_drm_rbochs_bad_ioctls() {
	drm_ready || return 1
	mark_log
	drm_test errors "$RCARD" || return 1
	n=$(new_log | wc -l)
	[ "$n" -lt 50 ] || { diag "the bad ioctls logged $n lines"; return 1; }
}

# rbochs's own ioctl (kernel::drm::ioctl): what it reads from the registers, and the DRM core's
# rules for argument sizes and directions; bochs, which has no such ioctl, refuses it.
check_drm_rbochs_driver_ioctl() {
	drm_ready || return 1
	drm_test info "$RCARD" || return 1
	drm_test noinfo "$CCARD" || return 1
}

# The fbdev console on rbochs: the kernel log written to the console appears on its screen.
check_drm_fbdev_console() {
	drm_ready || return 1
	fb=
	for f in /sys/class/graphics/fb[0-9]*; do
		[ "$(basename "$(readlink -f "$f/device")")" = "$R" ] && fb=${f##*/}
	done
	[ -n "$fb" ] || { diag "rbochs has no fbdev device"; return 1; }
	grep -q rbochsdrmfb /sys/class/graphics/"$fb"/name || { diag "$fb is not rbochs's"; return 1; }
	[ -e /sys/class/graphics/fbcon ] || { diag "no fbcon"; return 1; }
	dmesg | tail -40 >/dev/tty1 2>/dev/null || { diag "cannot write to /dev/tty1"; return 1; }
	sleep 1
	drm_test nonblank "$HOTPLUG_DIR" rbochs0 || return 1
	# A PNG of it, which fork/boot keeps in $FORK_OUT/screens (fork/screenshot).
	hotplug "screendump rbochs0 rbochs-console.png" || return 1
}

# Unbind with a client holding the device and a mode set: its ioctls fail with ENODEV; a
# rebind gives a new, working display.
check_drm_rbochs_unplug_and_rebind() {
	drm_ready || return 1
	mark_log
	drm_test unplug "$RCARD" /sys/bus/pci/drivers/rbochs/unbind "$R" || return 1
	[ ! -e /sys/bus/pci/drivers/rbochs/"$R" ] || { diag "$R still bound"; return 1; }
	echo "$R" >/sys/bus/pci/drivers/rbochs/bind || { diag "rebinding $R failed"; return 1; }
	RCARD=$(drm_card "$R")
	[ -c "$RCARD" ] || { diag "no card node after the rebind"; return 1; }
	drm_test pattern "$RCARD" 1024x768 "$HOTPLUG_DIR" rbochs0 || return 1
}

check_drm_rbochs_module_reload() {
	drm_ready || return 1
	for i in 1 2; do
		mp -r rbochs || { diag "unloading rbochs failed"; return 1; }
		[ -z "$(drm_card "$R")" ] || { diag "card still there after unload"; return 1; }
		mp rbochs || return 1
		[ -e /sys/bus/pci/drivers/rbochs/"$R" ] || { diag "$R not bound after reload"; return 1; }
	done
	drm_ready || return 1
	drm_test pattern "$RCARD" 1024x768 "$HOTPLUG_DIR" rbochs0 || return 1
}
