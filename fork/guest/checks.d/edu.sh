# SPDX-License-Identifier: GPL-2.0
#
# Guest checks of drivers/misc/rust_edu, the Rust driver for QEMU's edu device (with the PCI,
# IRQ, DMA and misc device abstractions under it), sourced by rust-checks.sh. QEMU gives the
# guest two edu devices (fork/guest/qemu-devices); edu_devices() is in pci.sh.
#
# The user-space side is tools/testing/selftests/drivers/rust_edu/rust_edu_test.c, which
# fork/boot builds into $MODROOT/selftests.

EDU_DRV=/sys/bus/pci/drivers/rust_edu
EDU_TEST=$MODROOT/selftests/rust_edu_test

# Binds rust_edu to both edu devices (the PCI sample, which drives the same devices, is
# unloaded first).
edu_ready() {
	if grep -q '^rust_driver_pci ' /proc/modules; then
		mp -r rust_driver_pci || return 1
	fi
	grep -q '^rust_edu ' /proc/modules || mp rust_edu || return 1
	for a in $(edu_devices); do
		[ -e "$EDU_DRV/$a" ] || { diag "$a is not bound to rust_edu"; return 1; }
	done
}

# The /dev node of the edu device at PCI address $1 (its misc device is the PCI device's child).
edu_node() {
	for m in /sys/bus/pci/devices/"$1"/misc/rust-edu*; do
		[ -e "$m" ] && echo "/dev/${m##*/}"
	done
}

# Runs the user-space test with the given arguments; shows its failures, or its summary.
edu_test() {
	[ -x "$EDU_TEST" ] || { diag "$EDU_TEST is missing"; return 1; }
	out=$("$EDU_TEST" "$@" 2>&1)
	rc=$?
	if [ $rc -ne 0 ]; then
		echo "$out" | grep -v '^ok ' | sed 's/^/# /'
		return 1
	fi
	echo "$out" | tail -1
}

# Sum of the interrupt counts of the rust_edu lines in /proc/interrupts.
edu_irqs() {
	grep 'rust_edu' /proc/interrupts | awk '{ s += $2 + $3 } END { print s + 0 }'
}

check_edu_probes_both_devices() {
	[ "$(edu_devices | wc -l)" -eq 2 ] || { diag "expected 2 edu devices"; return 1; }
	mark_log
	edu_ready || return 1
	# One report per device (a kernel with driver-remove testing probes each twice, alike).
	n=$(new_log | grep 'edu 1\.0 as /dev/rust-edu[01]: 28-bit DMA, 5! = 120 by interrupt' |
		sed 's/^\[[^]]*\] //' | sort -u | wc -l)
	[ "$n" -eq 2 ] || { diag "expected 2 probe reports, got $n"; new_log | sed 's/^/# /' | tail; return 1; }
	for a in $(edu_devices); do
		node=$(edu_node "$a")
		[ -c "$node" ] || { diag "no /dev node for $a (got '$node')"; return 1; }
	done
	lines=$(grep -c 'rust_edu' /proc/interrupts)
	[ "$lines" -eq 2 ] || { diag "expected 2 rust_edu lines in /proc/interrupts, got $lines"; return 1; }
}

check_edu_autoload_alias() {
	# The id table is exported like MODULE_DEVICE_TABLE(pci, ...): each device's modalias
	# resolves to the driver, as udev would load it (fork/vng.sh blacklists that at boot).
	for a in $(edu_devices); do
		alias=$(cat "/sys/bus/pci/devices/$a/modalias")
		mods=$(mp -R "$alias" 2>&1)
		echo "$mods" | grep -qx rust_edu || { diag "$alias resolves to: $mods"; return 1; }
	done
	diag "$alias: $(echo $mods)"
}

check_edu_factorial_dma_and_bad_input() {
	edu_ready || return 1
	before=$(edu_irqs)
	for a in $(edu_devices); do
		edu_test "$(edu_node "$a")" || { diag "user-space test of $a failed"; return 1; }
	done
	# Each device: 11 factorials and at least 24 DMA transfers (8 round trips and the reads and
	# writes around them), every one completed by its own interrupt (the test checks each
	# against the driver's count; this checks the driver's count against the kernel's).
	after=$(edu_irqs)
	[ $((after - before)) -ge 70 ] ||
		{ diag "/proc/interrupts counted $((after - before)) rust_edu interrupts, expected >= 70"; return 1; }
	diag "$((after - before)) rust_edu interrupts in /proc/interrupts"
}

check_edu_isatty_leaves_the_log_silent() {
	edu_ready || return 1
	node=$(edu_node "$(edu_devices | head -1)")
	mark_log
	i=0
	while [ $i -lt 50 ]; do
		# test -t asks the driver with the TCGETS ioctl, as isatty() does.
		if [ -t 3 ] 3<"$node"; then
			diag "$node claims to be a terminal"
			return 1
		fi
		i=$((i + 1))
	done
	n=$(new_log | grep -c .)
	[ "$n" -eq 0 ] || { diag "50 isatty() calls logged $n lines"; new_log | head -5 | sed 's/^/# /'; return 1; }
}

check_edu_unbind_bind_50_times_held_open() {
	edu_ready || return 1
	a=$(edu_devices | head -1)
	# With the device held enabled (see pci_hold_enabled), then once more without.
	pci_hold_enabled "$EDU_DRV" "$a" && echo "$a" >"$EDU_DRV/bind" || { diag "rebinding $a failed"; return 1; }
	edu_test "$(edu_node "$a")" --cycles "$a" 50
	rc=$?
	pci_release_enabled "$EDU_DRV" "$a" && echo "$a" >"$EDU_DRV/bind" || { diag "rebinding $a failed"; return 1; }
	[ $rc -eq 0 ] || return 1
	[ -e "$EDU_DRV/$a" ] || { diag "$a is not bound after the cycles"; return 1; }
}

check_edu_irq_freed_on_unbind_while_file_open() {
	# An open file keeps the driver's state, interrupt registration included, past unbind: the
	# interrupt must still be freed at unbind (by its managed action), not at the last close.
	edu_ready || return 1
	a=$(edu_devices | head -1)
	node=$(edu_node "$a")
	[ "$(grep -c 'rust_edu' /proc/interrupts)" -eq 2 ] || { diag "expected 2 rust_edu interrupts"; return 1; }
	exec 3<"$node"
	echo "$a" >"$EDU_DRV/unbind" || { exec 3<&-; diag "unbind $a failed"; return 1; }
	n=$(grep -c 'rust_edu' /proc/interrupts)
	exec 3<&-
	echo "$a" >"$EDU_DRV/bind" || { diag "bind $a failed"; return 1; }
	[ "$n" -eq 1 ] || { diag "$n rust_edu interrupts requested after unbind with a file open, expected 1"; return 1; }
	[ "$(grep -c 'rust_edu' /proc/interrupts)" -eq 2 ] || { diag "rebind did not request the interrupt again"; return 1; }
}

check_edu_module_busy_while_open_then_reload() {
	edu_ready || return 1
	node=$(edu_node "$(edu_devices | head -1)")
	exec 3<"$node"
	if modprobe -d "$MODROOT" -r rust_edu 2>/dev/null; then
		exec 3<&-
		diag "rust_edu was unloaded while $node was open"
		return 1
	fi
	exec 3<&-
	i=0
	while [ $i -lt 5 ]; do
		mp -r rust_edu || { diag "unload $i failed"; return 1; }
		[ ! -e /dev/rust-edu0 ] || { diag "/dev/rust-edu0 still exists after unload"; return 1; }
		! grep -q 'rust_edu' /proc/interrupts || { diag "interrupts still requested"; return 1; }
		edu_ready || { diag "reload $i failed"; return 1; }
		i=$((i + 1))
	done
	# Leave the devices to the PCI sample's checks.
	mp -r rust_edu
}
