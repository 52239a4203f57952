# SPDX-License-Identifier: GPL-2.0
#
# Guest checks of the Rust PCI stack with samples/rust/rust_driver_pci.rs, sourced by
# rust-checks.sh. QEMU gives the guest two edu devices (fork/guest/qemu-devices).

PCI_DRV=/sys/bus/pci/drivers/rust_driver_pci

# The PCI addresses of the edu devices (vendor 1234, device 11e8). (With the shell's builtins
# only: a fork takes a third of a second on the debug kernel under TCG.)
edu_devices() {
	for d in /sys/bus/pci/devices/*; do
		read -r v <"$d/vendor" && read -r id <"$d/device" || continue
		[ "$v" = 0x1234 ] && [ "$id" = 0x11e8 ] && echo "${d##*/}"
	done
}

# pci_hold_enabled DRIVERDIR ADDR...: unbinds the devices from the driver in DRIVERDIR and keeps
# them enabled through sysfs, so that in a loop of binds the driver's pci_enable_device() and
# pci_disable_device() only count references. A first enable or last disable of an edu device
# routes its legacy interrupt: ACPI evaluates the _PRT, 0.35 s each time on the debug kernel
# under TCG, four times a bind with driver-remove testing (probe, remove, probe; unbind). The
# driver's own probe and remove run in full. pci_release_enabled DRIVERDIR ADDR... ends the
# hold: the devices are left unbound and disabled.
pci_hold_enabled() {
	pci_enable_attr 1 "$@"
}
pci_release_enabled() {
	pci_enable_attr 0 "$@"
}
pci_enable_attr() {
	v=$1 drv=$2
	shift 2
	for a in "$@"; do
		# The PCI core takes the attribute only from a device without a driver.
		[ -e "$drv/$a" ] && echo "$a" >"$drv/unbind"
		echo "$v" >"/sys/bus/pci/devices/$a/enable" || { diag "$a: cannot write $v to enable"; return 1; }
	done
}

bound_count() {
	n=0
	for a in $(edu_devices); do
		[ -e "$PCI_DRV/$a" ] && n=$((n + 1))
	done
	echo $n
}

check_pci_sample_probes_both_edu() {
	[ "$(edu_devices | wc -l)" -eq 2 ] || { diag "expected 2 edu devices, found: $(edu_devices)"; return 1; }
	mark_log
	mp rust_driver_pci || return 1
	[ "$(bound_count)" -eq 2 ] || { diag "$(bound_count) of 2 edu devices bound"; return 1; }
	# One report per device (a kernel with driver-remove testing probes each twice, alike).
	n=$(new_log | grep 'edu 1\.0 (revision [0-9]*): liveness ok, 5! = 120 by interrupt, 2 interrupts' |
		sed 's/^\[[^]]*\] //' | sort -u | wc -l)
	[ "$n" -eq 2 ] || { diag "expected 2 probe reports, got $n:"; new_log | sed 's/^/# /' | tail -5; return 1; }
	# Each device's interrupt is requested under the driver's name and has fired twice.
	lines=$(grep -c 'rust_driver_pci' /proc/interrupts)
	[ "$lines" -eq 2 ] || { diag "expected 2 rust_driver_pci lines in /proc/interrupts, got $lines"; return 1; }
	grep 'rust_driver_pci' /proc/interrupts | while read -r _ c0 c1 _; do
		[ $((c0 + c1)) -ge 2 ] || { diag "an edu interrupt fired $((c0 + c1)) times, expected 2"; exit 1; }
	done
}

check_pci_io_bar_refused() {
	t=$(for d in /sys/bus/pci/devices/*; do
		[ "$(cat "$d/vendor")" = 0x1b36 ] && [ "$(cat "$d/device")" = 0x0005 ] && basename "$d"
	done)
	[ -n "$t" ] || { diag "no pci-testdev in the guest"; return 1; }
	grep -q '^rust_driver_pci ' /proc/modules || mp rust_driver_pci || return 1
	mark_log
	# The sample declined it at load; ask again through sysfs.
	echo "$t" >"$PCI_DRV/bind" 2>/dev/null && { diag "$t was bound"; return 1; }
	new_log | grep -q "$t: pci-testdev: memory BAR 0 mapped, I/O-port BAR 1 refused" ||
		{ diag "no refusal report:"; new_log | sed 's/^/# /' | tail -5; return 1; }
}

check_pci_unbind_bind_50_times() {
	grep -q '^rust_driver_pci ' /proc/modules || mp rust_driver_pci || return 1
	set -- $(edu_devices)
	pci_hold_enabled "$PCI_DRV" "$@" || return 1
	for a in "$@"; do
		echo "$a" >"$PCI_DRV/bind" || { diag "bind $a failed"; return 1; }
	done
	i=0
	while [ $i -lt 50 ]; do
		for a in "$@"; do
			echo "$a" >"$PCI_DRV/unbind" || { diag "unbind $a failed (cycle $i)"; return 1; }
			echo "$a" >"$PCI_DRV/bind" || { diag "bind $a failed (cycle $i)"; return 1; }
		done
		i=$((i + 1))
	done
	# Once more with the real enable and disable.
	pci_release_enabled "$PCI_DRV" "$@" || return 1
	for a in "$@"; do
		echo "$a" >"$PCI_DRV/bind" || { diag "bind $a after the cycles failed"; return 1; }
	done
	[ "$(bound_count)" -eq 2 ] || { diag "$(bound_count) of 2 edu devices bound after the cycles"; return 1; }
}

check_pci_sample_unload_unbinds() {
	grep -q '^rust_driver_pci ' /proc/modules || mp rust_driver_pci || return 1
	mark_log
	mp -r rust_driver_pci || return 1
	n=$(new_log | grep -c 'unbinding')
	[ "$n" -eq 2 ] || { diag "expected 2 unbind reports, got $n"; return 1; }
	[ ! -d "$PCI_DRV" ] || { diag "driver still registered after unload"; return 1; }
	! grep -q 'rust_driver_pci' /proc/interrupts || { diag "interrupts still requested after unload"; return 1; }
}

check_pci_sample_reload_cycles() {
	i=0
	while [ $i -lt 5 ]; do
		mp rust_driver_pci && [ "$(bound_count)" -eq 2 ] && mp -r rust_driver_pci ||
			{ diag "reload cycle $i failed"; return 1; }
		i=$((i + 1))
	done
}
