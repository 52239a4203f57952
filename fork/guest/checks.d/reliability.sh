# SPDX-License-Identifier: GPL-2.0
#
# Reliability checks, sourced by rust-checks.sh: fault injection, fuzzing and surprise removal
# for every Rust driver, on the debug kernel (fork/debug.config; on a kernel without fault
# injection they are skipped). Each check prints one record for fork/reliability_report:
#
#   RELIABILITY check=NAME driver=MODULE key=value...
#
# with the figures it measured (faults injected, cycles, calls that reached the driver,
# removals, splats). A splat is a kernel-log line of an oops, BUG, WARN, KASAN, UBSAN, lockdep
# or DMA-API report during the check; any splat fails it.
#
# Fault injection: failslab and fail_page_alloc, for the checking task only (task-filter,
# /proc/PID/make-it-fail) and only for allocations with the driver's code on the stack (the
# stack-trace filter on the module's memory), at FI_PERCENT percent. Injected failures are
# counted from the attributes' "times" counters, which the kernel decrements per failure. Then
# fail_function on each error-injection point of the Rust abstractions that the driver's probe
# (or module init) goes through, in turn (see ff_arm).
#
# Surprise removal: through sysfs (remove, then a rescan), and an orderly hot-unplug through QEMU's
# monitor (device_del, then device_add; fork/qmp-relay on the host runs the guest's requests).
#
# Fuzzing: misc_fuzz (tools/testing/selftests/drivers/misc_fuzz), seeded with $FUZZ_SEED (set by
# fork/boot --seed; random otherwise, and printed). Calls are counted at the driver: a kprobe on
# each file-operation entry point of the misc device abstraction in the driver's module, read
# from the kernel's kprobe_profile.

DEBUGFS=/sys/kernel/debug
TRACEFS=/sys/kernel/tracing
FUZZ=$MODROOT/selftests/misc_fuzz
FI_ATTRS="failslab fail_page_alloc"
FI_PERCENT=${FI_PERCENT:-3}
# Cycles per driver under injection: probe/unbind (BIND_CYCLES on each of the 2 devices, both at
# once: 1,000 in all) and open/ioctl/write/read/close (FILE_CYCLES).
BIND_CYCLES=${BIND_CYCLES:-500}
# Fuzzing: calls that must reach the driver on each node, and the fuzzer's calls a round (in each
# of its 2 processes); rounds run, seeded one after the other, until the driver has seen enough.
FUZZ_AT_DRIVER=${FUZZ_AT_DRIVER:-100000}
FUZZ_ROUND=${FUZZ_ROUND:-25000}
FILE_CYCLES=${FILE_CYCLES:-1000}
FI_TIMES=1000000
# The counts a developer may set must be whole numbers (a typo would otherwise end a loop early).
for v in BIND_CYCLES FUZZ_AT_DRIVER FUZZ_ROUND FILE_CYCLES FI_PERCENT; do
	eval "x=\$$v"
	case $x in
	'' | *[!0-9]*) echo "# $v=$x is not a whole number: using the default"; unset "$v" ;;
	esac
done
BIND_CYCLES=${BIND_CYCLES:-500} FUZZ_AT_DRIVER=${FUZZ_AT_DRIVER:-100000}
FUZZ_ROUND=${FUZZ_ROUND:-25000} FILE_CYCLES=${FILE_CYCLES:-1000} FI_PERCENT=${FI_PERCENT:-3}
[ "$FUZZ_ROUND" -ge 10 ] || FUZZ_ROUND=10
# Only allocations within FI_DEPTH frames of the driver's code fail: its own (and its Rust
# abstractions', inlined into it) and those of the calls it makes a level or two down. Deeper
# ones belong to other subsystems' internals: ACPICA's interpreter, which evaluates _PRT when a
# PCI device is enabled, does not survive failed allocations (a use-after-free in
# acpi_ut_update_object_reference() after AE_NO_MEMORY, seen here with a depth of 32), and
# vmalloc's allocator WARNs when the GFP_NOWAIT allocation of a vmap_area in va_clip() fails
# (under ioremap(), with the driver's probe 7 frames up the trace: seen once in 1,000 probe
# cycles with a depth of 10).
FI_DEPTH=6
# x86_64's module area (above the kernel image's 1 GiB, where KASLR may put the kernel): a
# stack filter on it fails only allocations made under module code.
MODULES_AREA="0xffffffffc0000000 0xfffffffffeffffff"

# The logged problems (as fork/vng.sh's vng_log_problems sees them) since mark_log.
splats() {
	new_log | splat_lines | grep -c .
}

# A record of the check's figures; fails the check (returns 1) if it saw splats.
record() {
	s=$(splats)
	echo "RELIABILITY $* splats=$s"
	if [ "$s" -ne 0 ]; then
		diag "the kernel log shows:"
		new_log | splat_lines | head -10 | sed 's/^/# /'
		return 1
	fi
}

fi_available() {
	mountpoint -q "$DEBUGFS" || mount -t debugfs none "$DEBUGFS" 2>/dev/null
	[ -d "$DEBUGFS/failslab" ] && [ -d "$DEBUGFS/fail_page_alloc" ] || {
		diag "this kernel has no fault injection (the debug kernel has: FORK_KERNEL=debug): SKIP"
		return 1
	}
	[ -x "$FUZZ" ] || { diag "$FUZZ is missing"; return 1; }
}

# The memory range of a loaded module ("START END"), from /proc/modules.
module_range() {
	awk -v m="$1" '$1 == m { printf "%s %s\n", $6, $2 }' /proc/modules | {
		read -r start size || exit 1
		# Module addresses do not fit the shell's signed arithmetic: add to the low half.
		case $start in 0xffffffff????????) ;; *) exit 1 ;; esac
		low=0x${start#0xffffffff}
		printf '%s 0xffffffff%08x\n' "$start" "$((low + size))"
	}
}

# The IRQ core's register_irq_proc() ignores a failure to create an interrupt's /proc/irq
# entries, and unregister_irq_proc() then WARNs about the entries it does not find: a limit of
# the base kernel, not of the drivers, so allocations under register_irq_proc() are not failed.
# (Its range in kallsyms: the function's address up to the next text symbol's.)
irq_proc_range() {
	awk 'found && $2 ~ /^[tT]$/ { print $1; exit } $3 == "register_irq_proc" { print $1; found = 1 }' \
		/proc/kallsyms | tr '\n' ' '
}
IRQ_PROC_RANGE=

# fi_arm START END: failures at FI_PERCENT for make-it-fail tasks, under code in START..END.
fi_arm() {
	[ -n "$IRQ_PROC_RANGE" ] || IRQ_PROC_RANGE=$(irq_proc_range)
	set -- "$1" "$2" $IRQ_PROC_RANGE
	[ $# -eq 4 ] || { diag "register_irq_proc() is not in /proc/kallsyms"; return 1; }
	for a in $FI_ATTRS; do
		d=$DEBUGFS/$a
		echo 0 >"$d/probability"
		echo 1 >"$d/interval"
		echo "$FI_TIMES" >"$d/times"
		echo 0 >"$d/space"
		echo 0 >"$d/verbose"
		echo Y >"$d/task-filter"
		echo N >"$d/ignore-gfp-wait"
		echo "$1" >"$d/require-start"
		echo "$2" >"$d/require-end"
		echo "0x$3" >"$d/reject-start"
		echo "0x$4" >"$d/reject-end"
		echo "$FI_DEPTH" >"$d/stacktrace-depth"
	done
	echo N >"$DEBUGFS/fail_page_alloc/ignore-gfp-highmem"
	echo 0 >"$DEBUGFS/fail_page_alloc/min-order"
	for a in $FI_ATTRS; do
		echo "$FI_PERCENT" >"$DEBUGFS/$a/probability"
	done
}

# fi_disarm: stops injecting; prints the number of failures injected since fi_arm.
fi_disarm() {
	n=0
	for a in $FI_ATTRS; do
		echo 0 >"$DEBUGFS/$a/probability"
		left=$(cat "$DEBUGFS/$a/times")
		n=$((n + FI_TIMES - left))
		echo -1 >"$DEBUGFS/$a/times"
	done
	echo $n
}

# fail_function on the error-injection points of the Rust abstractions (rust/helpers/*.c,
# rust_helper_ei_* and rust_helper_request_irq): each point in turn fails at FF_PERCENT percent for
# make-it-fail tasks, returning FF_ERRNO where it returns an errno (EPROTO: no driver returns it of
# its own accord, so a probe that fails with it passed the injected error on) and NULL where it
# returns a pointer. Its kprobe sits on the function's ftrace call site and runs in the caller's
# task, so task-filter works (CONFIG_FUNCTION_TRACER in fork/debug.config).
FF=$DEBUGFS/fail_function
FF_PERCENT=50
FF_ERRNO=71

ff_available() {
	[ -w "$FF/inject" ] || { diag "this kernel has no fail_function"; return 1; }
	grep -q '^rust_helper_ei_' "$FF/injectable" ||
		{ diag "the Rust error-injection points are not in this kernel"; return 1; }
}

# The error-injection points each driver's probe goes through, with the errno a probe returns
# when the point fails (FF_ERRNO passed on; EBUSY for a BAR that cannot be requested, ENOMEM for
# a mapping or DMA buffer that cannot be had).
FF_EDU_POINTS="ei_pci_enable_device_mem:$FF_ERRNO ei_pci_request_region:16 ei_pci_iomap:12
	ei_dma_set_mask:$FF_ERRNO ei_dma_set_coherent_mask:$FF_ERRNO ei_dma_alloc_attrs:12
	ei_pci_alloc_irq_vectors:$FF_ERRNO ei_request_threaded_irq:$FF_ERRNO ei_misc_register:$FF_ERRNO"
FF_PCI_POINTS="ei_pci_enable_device_mem:$FF_ERRNO ei_pci_request_region:16 ei_pci_iomap:12
	ei_pci_alloc_irq_vectors:$FF_ERRNO request_irq:$FF_ERRNO"
# Probe/unbind cycles per device and point.
FF_CYCLES=10

# ff_arm POINT [PERCENT [INTERVAL]]: fail_function on rust_helper_POINT (and nothing else), at
# PERCENT (FF_PERCENT) of every INTERVAL-th call (1). (100 2: every second call fails.)
ff_arm() {
	f=rust_helper_$1
	echo 0 >"$FF/probability"
	echo >"$FF/inject"
	echo "$f" >"$FF/inject" || { diag "fail_function does not take $f"; return 1; }
	# An ftrace-based kprobe, or the task filter would never match (see above).
	grep -q "$f.*\[FTRACE\]" "$DEBUGFS/kprobes/list" ||
		{ diag "the kprobe on $f is not ftrace-based: $(grep "$f" "$DEBUGFS/kprobes/list")"; echo >"$FF/inject"; return 1; }
	case $(awk -v f="$f" '$1 == f { print $2 }' "$FF/injectable") in
	ERRNO) printf '%#x\n' "-$FF_ERRNO" >"$FF/$f/retval" ;;
	NULL) echo 0 >"$FF/$f/retval" ;;
	*) diag "$f is not an ERRNO or NULL error-injection point"; echo >"$FF/inject"; return 1 ;;
	esac
	echo 0 >"$FF/probability"
	echo "${3:-1}" >"$FF/interval"
	echo "$FI_TIMES" >"$FF/times"
	echo 0 >"$FF/space"
	echo 0 >"$FF/verbose"
	echo Y >"$FF/task-filter"
	echo "${2:-$FF_PERCENT}" >"$FF/probability"
}

# ff_disarm: stops injecting; prints the number of failures injected since ff_arm.
ff_disarm() {
	echo 0 >"$FF/probability"
	left=$(cat "$FF/times")
	echo >"$FF/inject"
	echo -1 >"$FF/times"
	echo $((FI_TIMES - left))
}

# ff_probe_points DRIVERDIR CYCLES "POINT:ERRNO..." ADDR...: for each error-injection point the
# driver's probe goes through, CYCLES probe/unbind cycles on every device ADDR at once with
# fail_function on that point. Each point must fail at least once, and every probe that failed
# must have returned ERRNO (the errno the driver makes of the injected failure), nothing else; a
# failed probe must leave the device unbound (bind_cycles). Sets ff_cycles, ff_refused,
# ff_injected, ff_points.
ff_probe_points() {
	drv=$1 n=$2 points=$3
	shift 3
	ff_cycles=0 ff_refused=0 ff_injected=0 ff_points=0
	for pe in $points; do
		p=${pe%%:*} want=${pe#*:}
		# This point's probe errnos: the log after a mark of its own (the check's mark is kept).
		mark=$LOG_MARK
		mark_log
		bind_cycles_parallel "$drv" "$n" "ff $p" "$@" || return 1
		got=$(new_log | sed -n "s/.* probe with driver ${drv##*/} failed with error -\([0-9]*\)\$/\1/p" |
			sort -un | tr '\n' ' ')
		LOG_MARK=$mark
		diag "fail_function on $p: $cycles cycles, $refused refused (errnos: ${got:-none}), $injected injected"
		[ "$injected" -gt 0 ] || { diag "$p: no failure was injected (does the probe reach it?)"; return 1; }
		[ "$got" = "$want " ] || { diag "$p: the failed probes returned ${got:-nothing}, not -$want only"; return 1; }
		ff_cycles=$((ff_cycles + cycles)) ff_refused=$((ff_refused + refused))
		ff_injected=$((ff_injected + injected)) ff_points=$((ff_points + 1))
		rebind_all "$drv" "$@" || return 1
	done
}

# faulty CMD...: runs CMD as a task that fault injection may fail (its children inherit it).
faulty() {
	sh -c 'echo 1 >/proc/self/make-it-fail && exec "$@"' faulty "$@"
}

# bind_cycles DRIVERDIR N ADDR...: N times, unbinds and binds each device ADDR under fault
# injection. Prints "cycles bound failed"; a failed bind must leave the device unbound. (The
# shell's echo says "I/O error" whatever the errno: the errnos come from the kernel log.)
# (No command substitution in the loop: a fork takes a third of a second on the debug kernel.)
bind_cycles() {
	faulty sh -c '
		drv=$1 n=$2
		shift 2
		i=0 ok=0 bad=0
		while [ $i -lt $n ]; do
			for a in "$@"; do
				[ -e "$drv/$a" ] && echo "$a" >"$drv/unbind"
				if echo "$a" 2>/dev/null >"$drv/bind"; then
					ok=$((ok + 1))
					continue
				fi
				bad=$((bad + 1))
				if [ -e "$drv/$a" ]; then
					echo "# $a is bound after a failed bind (cycle $i)"
					exit 1
				fi
			done
			i=$((i + 1))
		done
		echo "$((n * $#)) $ok $bad"
	' bind_cycles "$@"
}

# probe_errnos DRIVER: the errnos of the failed probes of DRIVER that the kernel logged since
# mark_log, by name, each once.
probe_errnos() {
	new_log | sed -n "s/.* probe with driver $1 failed with error -\([0-9]*\)\$/\1/p" | sort -un |
		while read -r e; do
			case $e in
			5) echo EIO ;; 12) echo ENOMEM ;; 16) echo EBUSY ;; 19) echo ENODEV ;;
			22) echo EINVAL ;; 28) echo ENOSPC ;; 110) echo ETIMEDOUT ;; *) echo "errno-$e" ;;
			esac
		done | tr '\n' ' '
}

# bind_cycles_parallel DRIVERDIR N "KIND ARG..." ADDR...: bind_cycles on each device at once,
# under injection armed with KIND_arm ARG... (fi: failslab and fail_page_alloc for code in the
# range START END; ff: fail_function on a point) and stopped with KIND_disarm; sets cycles,
# bound, refused, errs and injected.
bind_cycles_parallel() {
	drv=$1 n=$2 arm=$3
	shift 3
	pci_hold_enabled "$drv" "$@" || return 1
	${arm%% *}_arm ${arm#* } || { pci_release_enabled "$drv" "$@"; return 1; }
	for a in "$@"; do
		bind_cycles "$drv" "$n" "$a" >"/tmp/bind_cycles.$a" &
	done
	wait
	injected=$(${arm%% *}_disarm)
	pci_release_enabled "$drv" "$@" || return 1
	cycles=0 bound=0 refused=0
	for a in "$@"; do
		out=$(cat "/tmp/bind_cycles.$a")
		echo "$out" | grep '^#' && return 1
		set -- $(echo "$out" | tail -1)
		[ $# -eq 3 ] || { diag "bind cycles on $a did not report"; return 1; }
		cycles=$((cycles + $1)) bound=$((bound + $2)) refused=$((refused + $3))
	done
	errs=$(echo $(probe_errnos "$(basename "$drv")"))
}

# rebind_all DRIVERDIR ADDR...: binds every device ADDR that is not bound (without injection).
rebind_all() {
	drv=$1
	shift
	for a in "$@"; do
		[ -e "$drv/$a" ] || echo "$a" >"$drv/bind" || { diag "rebinding $a failed"; return 1; }
	done
}

# probe_faults DRIVERDIR RANGE ADDR...: the probe-path fault injection of a PCI driver whose
# module is at RANGE: bind cycles on every device ADDR at once under failslab and
# fail_page_alloc. Sets fi_cycles, fi_refused and fi_injected (bind_cycles_parallel's figures,
# which the fail_function cycles after it overwrite).
probe_faults() {
	drv=$1 range=$2
	shift 2
	bind_cycles_parallel "$drv" "$BIND_CYCLES" "fi $range" "$@" || return 1
	diag "probe/unbind: $cycles cycles, $bound bound, $refused refused ($errs), $injected faults injected"
	fi_cycles=$cycles fi_refused=$refused fi_injected=$injected
	rebind_all "$drv" "$@"
}

check_faults_edu() {
	echo "RELIABILITY check=faults_edu driver=rust_edu"
	fi_available || return 4
	edu_ready || return 1
	set -- $(edu_devices)
	mark_log
	range=$(module_range rust_edu) || { diag "rust_edu is not in /proc/modules"; return 1; }
	probe_faults "$EDU_DRV" "$range" "$@" || return 1
	ff_available || return 1
	ff_probe_points "$EDU_DRV" "$FF_CYCLES" "$FF_EDU_POINTS" "$@" || return 1
	# Open/ioctl/write/read/close cycles, half on each device, both at once (each cycle's write
	# and read are DMA transfers, 100 ms each in QEMU's edu).
	fi_arm $range || return 1
	for a in "$@"; do
		faulty "$FUZZ" --cycles $((FILE_CYCLES / 2)) --ioctl 0x8010ed02 "$(edu_node "$a")" >/tmp/faults_edu.$a 2>&1 &
	done
	wait
	injected2=$(fi_disarm)
	fails=0
	for a in "$@"; do
		tail -1 "/tmp/faults_edu.$a" | sed 's/^/# /'
		grep -q "^misc_fuzz: $((FILE_CYCLES / 2)) cycles.* 0 unexpected" "/tmp/faults_edu.$a" ||
			{ grep '^#' "/tmp/faults_edu.$a" | head -5; fails=1; }
	done
	diag "file operations: $FILE_CYCLES cycles, $injected2 faults injected"
	[ $fails -eq 0 ] || return 1
	# After injection: the devices work normally.
	for a in "$@"; do
		edu_test "$(edu_node "$a")" >/dev/null || { diag "$a does not work after injection"; return 1; }
	done
	[ "$fi_injected" -gt 0 ] && [ "$injected2" -gt 0 ] || { diag "no fault was injected"; return 1; }
	record check=faults_edu driver=rust_edu faults_injected=$((fi_injected + injected2 + ff_injected)) \
		probe_cycles=$fi_cycles probes_refused=$fi_refused file_cycles=$FILE_CYCLES \
		ff_points=$ff_points ff_cycles=$ff_cycles ff_injected=$ff_injected
}

check_faults_pci() {
	echo "RELIABILITY check=faults_pci driver=rust_driver_pci"
	fi_available || return 4
	grep -q '^rust_edu ' /proc/modules && { mp -r rust_edu || return 1; }
	grep -q '^rust_driver_pci ' /proc/modules || mp rust_driver_pci || return 1
	set -- $(edu_devices)
	mark_log
	range=$(module_range rust_driver_pci) || { diag "rust_driver_pci is not in /proc/modules"; return 1; }
	probe_faults "$PCI_DRV" "$range" "$@" || return 1
	ff_available || return 1
	ff_probe_points "$PCI_DRV" "$FF_CYCLES" "$FF_PCI_POINTS" "$@" || return 1
	# (A marker in the log, not a line count: the ring buffer has wrapped by now.)
	echo "rust-checks: faults_pci rebind" >/dev/kmsg
	for a in "$@"; do
		echo "$a" >"$PCI_DRV/unbind" && echo "$a" >"$PCI_DRV/bind" || { diag "$a: rebind failed"; return 1; }
	done
	n=$(dmesg | sed '1,/rust-checks: faults_pci rebind/d' | grep -c 'liveness ok, 5! = 120 by interrupt')
	# Each bind probes twice on a kernel with driver-remove testing.
	[ "$n" -ge 2 ] || { diag "the devices do not work after injection ($n probe reports)"; return 1; }
	mp -r rust_driver_pci || return 1
	[ "$fi_injected" -gt 0 ] || { diag "no fault was injected"; return 1; }
	record check=faults_pci driver=rust_driver_pci faults_injected=$((fi_injected + ff_injected)) \
		probe_cycles=$fi_cycles probes_refused=$fi_refused \
		ff_points=$ff_points ff_cycles=$ff_cycles ff_injected=$ff_injected
}

check_faults_misc() {
	echo "RELIABILITY check=faults_misc driver=rust_misc_device"
	fi_available || return 4
	grep -q '^rust_misc_device ' /proc/modules && { mp -r rust_misc_device || return 1; }
	mark_log
	# Loads (the module's init registers the device) under injection: only allocations under
	# module code fail, which is the sample's init while it loads. (25: a load and unload takes
	# 2 to 4 s on the debug kernel under TCG.)
	loads=25
	fi_arm $MODULES_AREA || return 1
	i=0 loaded=0 refused=0
	while [ $i -lt $loads ]; do
		if faulty modprobe -q -d "$MODROOT" rust_misc_device 2>/dev/null; then
			loaded=$((loaded + 1))
			[ -c "$MISC_DEV" ] || { fi_disarm >/dev/null; diag "loaded without $MISC_DEV"; return 1; }
			mp -r rust_misc_device || { fi_disarm >/dev/null; return 1; }
		else
			refused=$((refused + 1))
			! grep -q '^rust_misc_device ' /proc/modules ||
				{ fi_disarm >/dev/null; diag "a failed load left the module loaded"; return 1; }
		fi
		i=$((i + 1))
	done
	injected=$(fi_disarm)
	diag "module load: $loads cycles, $loaded loaded, $refused refused, $injected faults injected"
	# Loads with fail_function on the registration, every second one failing: a failed one must
	# say EPROTO and leave neither the module nor the node behind.
	ff_available || return 1
	ff_arm ei_misc_register 100 2 || return 1
	i=0 ff_loaded=0 ff_refused=0 ff_loads=6
	while [ $i -lt $ff_loads ]; do
		if out=$(faulty modprobe -d "$MODROOT" rust_misc_device 2>&1); then
			ff_loaded=$((ff_loaded + 1))
			mp -r rust_misc_device || { ff_disarm >/dev/null; return 1; }
		else
			ff_refused=$((ff_refused + 1))
			case $out in
			*"Protocol error"*) ;;
			*) ff_disarm >/dev/null; diag "a load failed otherwise than with EPROTO: $out"; return 1 ;;
			esac
			! grep -q '^rust_misc_device ' /proc/modules && [ ! -e "$MISC_DEV" ] ||
				{ ff_disarm >/dev/null; diag "a failed load left the module or $MISC_DEV"; return 1; }
		fi
		i=$((i + 1))
	done
	ff_injected=$(ff_disarm)
	diag "fail_function on ei_misc_register: $ff_loads loads, $ff_loaded loaded, $ff_refused refused, $ff_injected injected"
	[ "$ff_injected" -gt 0 ] || { diag "ei_misc_register: no failure was injected"; return 1; }
	mp rust_misc_device || return 1
	range=$(module_range rust_misc_device) || { diag "rust_misc_device is not in /proc/modules"; return 1; }
	fi_arm $range || return 1
	faulty "$FUZZ" --cycles "$FILE_CYCLES" --ioctl 0x80087c81 "$MISC_DEV" >/tmp/faults_misc 2>&1
	rc=$?
	injected2=$(fi_disarm)
	tail -1 /tmp/faults_misc | sed 's/^/# /'
	[ $rc -eq 0 ] || { grep '^#' /tmp/faults_misc | head -5; return 1; }
	diag "file operations: $FILE_CYCLES cycles, $injected2 faults injected"
	mp -r rust_misc_device || return 1
	misc_sample_works || { diag "the device does not work after injection"; return 1; }
	[ "$injected" -gt 0 ] && [ "$injected2" -gt 0 ] || { diag "no fault was injected"; return 1; }
	record check=faults_misc driver=rust_misc_device \
		faults_injected=$((injected + injected2 + ff_injected)) \
		load_cycles=$loads loads_refused=$refused file_cycles=$FILE_CYCLES \
		ff_points=1 ff_cycles=$ff_loads ff_injected=$ff_injected
}

# misc_sample_works: the misc sample's functional check, run after injection or fuzzing, keeping
# the calling check's log mark (the functional check sets one of its own).
misc_sample_works() {
	mark=$LOG_MARK
	check_misc_sample_file_operations
	rc=$?
	LOG_MARK=$mark
	return $rc
}

# kp_arm GROUP MODULE: a kprobe on each file-operation entry point of the misc device
# abstraction in MODULE (the *_callback functions of its miscdevice VTable), counting hits.
kp_arm() {
	mountpoint -q "$TRACEFS" || mount -t tracefs none "$TRACEFS" 2>/dev/null
	echo 0 >"$TRACEFS/tracing_on"
	n=0
	for sym in $(awk -v m="[$2]" '$4 == m && $3 ~ /miscdevice.*_callback/ && $3 !~ /^__pfx_/ { print $3 }' /proc/kallsyms); do
		op=$(echo "$sym" | sed 's/.*[0-9]\([a-z_]*\)_callback.*/\1/')
		echo "p:$1/$op $2:$sym" >>"$TRACEFS/kprobe_events" ||
			{ diag "kprobe on $sym:"; sed 's/^/# /' "$TRACEFS/error_log"; return 1; }
		n=$((n + 1))
	done
	[ $n -ge 4 ] || { diag "found $n file-operation entry points of $2"; return 1; }
	echo 1 >"$TRACEFS/events/$1/enable" ||
		{ diag "enabling the kprobes failed:"; sed 's/^/# /' "$TRACEFS/error_log"; return 1; }
}

# kp_hits GROUP: the calls that reached the driver since kp_arm (all its entry points).
kp_hits() {
	for e in "$TRACEFS/events/$1"/*/; do
		e=$(basename "$e")
		awk -v e="$e" '$1 == e { print $2 }' "$TRACEFS/kprobe_profile"
	done | awk '{ s += $1 } END { print s + 0 }'
}

kp_disarm() {
	echo 0 >"$TRACEFS/events/$1/enable"
	for e in "$TRACEFS/events/$1"/*/; do
		echo "-:$1/$(basename "$e")" >>"$TRACEFS/kprobe_events"
	done
}

fuzz_seed() {
	[ -n "${FUZZ_SEED:-}" ] && { echo "$FUZZ_SEED"; return; }
	od -An -N6 -tx8 /dev/urandom | tr -d ' ' | sed 's/^/0x/'
}

# fuzz NAME NODE CALLS SEED ARGS...: runs misc_fuzz; fails on anything unexpected.
fuzz() {
	name=$1 node=$2 calls=$3 seed=$4
	shift 4
	"$FUZZ" --seed "$seed" --calls "$calls" "$@" "$node" >"/tmp/$name" 2>&1
	rc=$?
	grep '^misc_fuzz' "/tmp/$name" | sed 's/^misc_fuzz/# misc_fuzz/'
	[ $rc -eq 0 ] || { grep '^# misc_fuzz: unexpected\|died' "/tmp/$name" | head -10; return 1; }
}

# fuzz_node GROUP NODE ARGS...: fuzzes NODE (2 processes of 2 threads) in rounds, the first
# seeded with SEED and each next one with the seed plus one, until FUZZ_AT_DRIVER calls have
# reached the driver (counted by the kprobes of GROUP); a round in which fewer than a quarter of
# the calls reach it fails (the fuzzer would be testing the VFS, not the driver). Sets hits.
fuzz_node() {
	group=$1 node=$2
	shift 2
	hits=0 round=0
	while [ "$hits" -lt "$FUZZ_AT_DRIVER" ]; do
		[ $round -lt 20 ] || { diag "$node: $hits calls reached the driver in 20 rounds"; return 1; }
		before=$(kp_hits "$group")
		fuzz "$group" "$node" "$FUZZ_ROUND" "$((SEED + round))" --procs 2 --threads 2 "$@" || return 1
		got=$(($(kp_hits "$group") - before))
		[ "$got" -ge $((FUZZ_ROUND / 2)) ] ||
			{ diag "$node: only $got of $((FUZZ_ROUND * 2)) calls reached the driver"; return 1; }
		hits=$((hits + got)) round=$((round + 1))
	done
	diag "$node: $hits calls reached the driver in $round round(s)"
}

EDU_FUZZ_ARGS="--size 4095 --ioctl 0xc008ed01 --ioctl 0x8010ed02 --transfers 2"

check_fuzz_edu() {
	echo "RELIABILITY check=fuzz_edu driver=rust_edu"
	fi_available || return 4
	edu_ready || return 1
	set -- $(edu_devices)
	SEED=$(fuzz_seed)
	diag "seed $SEED (fork/boot --seed $SEED fuzz_edu replays it)"
	mark_log
	kp_arm fuzz_edu rust_edu || return 1
	# Each node on its own, so that the calls reaching the driver are counted per node.
	total=0 per_node=
	for a in "$@"; do
		fuzz_node fuzz_edu "$(edu_node "$a")" $EDU_FUZZ_ARGS || { kp_disarm fuzz_edu; return 1; }
		per_node="$per_node $hits"
		total=$((total + hits))
	done
	# Racing unbind and bind: open files see ENODEV, the path disappears and comes back.
	a=$1
	before=$(kp_hits fuzz_edu)
	(
		i=0
		while [ $i -lt 20 ]; do
			sleep 0.3
			echo "$a" >"$EDU_DRV/unbind"
			sleep 0.1
			echo "$a" >"$EDU_DRV/bind"
			i=$((i + 1))
		done
	) &
	racer=$!
	node=$(edu_node "$a")
	# Rounds of a tenth (seeded on from SEED + 100) until the unbinding and binding is over.
	ok=1 round=0
	while [ $ok -eq 1 ] && { [ $round -eq 0 ] || kill -0 $racer 2>/dev/null; }; do
		fuzz fuzz_edu_race "$node" $((FUZZ_ROUND / 10)) "$((SEED + 100 + round))" --procs 2 --threads 2 \
			$EDU_FUZZ_ARGS || ok=0
		round=$((round + 1))
	done
	wait $racer
	race_hits=$(($(kp_hits fuzz_edu) - before))
	kp_disarm fuzz_edu
	[ $ok -eq 1 ] || return 1
	diag "racing 20 unbind/bind cycles: $race_hits calls reached the driver ($round rounds)"
	rebind_all "$EDU_DRV" "$@" || return 1
	for a in "$@"; do
		edu_test "$(edu_node "$a")" >/dev/null || { diag "$a does not work after fuzzing"; return 1; }
	done
	record check=fuzz_edu driver=rust_edu seed=$SEED calls_at_driver=$((total + race_hits)) \
		per_node=$(echo $per_node | tr ' ' ,) race_calls=$race_hits unbinds_raced=20
}

check_fuzz_misc() {
	echo "RELIABILITY check=fuzz_misc driver=rust_misc_device"
	fi_available || return 4
	grep -q '^rust_misc_device ' /proc/modules || mp rust_misc_device || return 1
	SEED=$(fuzz_seed)
	diag "seed $SEED (fork/boot --seed $SEED fuzz_misc replays it)"
	mark_log
	kp_arm fuzz_misc rust_misc_device || return 1
	fuzz_node fuzz_misc "$MISC_DEV" --size 4096 --ioctl 0x7c80 --ioctl 0x80087c81 --transfers 300 ||
		{ kp_disarm fuzz_misc; return 1; }
	kp_disarm fuzz_misc
	mp -r rust_misc_device || return 1
	misc_sample_works || { diag "the device does not work after fuzzing"; return 1; }
	record check=fuzz_misc driver=rust_misc_device seed=$SEED calls_at_driver=$hits
}

# trinity, the general system-call fuzzer, as a smoke test: an unprivileged user, the edu node
# among its files, a bounded number of calls.
check_fuzz_trinity_edu() {
	echo "RELIABILITY check=fuzz_trinity_edu driver=rust_edu"
	fi_available || return 4
	command -v trinity >/dev/null || { diag "trinity is not installed"; return 1; }
	edu_ready || return 1
	node=$(edu_node "$(edu_devices | head -1)")
	SEED=$(fuzz_seed)
	mark_log
	kp_arm trinity_edu rust_edu || return 1
	dir=$(mktemp -d)
	chown nobody "$dir"
	chmod 666 "$node"
	out=$(cd "$dir" && timeout 300 setpriv --reuid=nobody --regid=nogroup --clear-groups \
		trinity -q -l off -N 1000 -C 2 -s "$((SEED % 2147483647))" -g vfs -V "$node" \
		--disable-fds=sockets,pipes,perf,epoll,eventfd,pseudo,timerfd,testfile,memfd,drm 2>&1)
	rc=$?
	chmod 600 "$node"
	hits=$(kp_hits trinity_edu)
	kp_disarm trinity_edu
	rm -rf "$dir"
	calls=$(echo "$out" | sed -n 's/.*Ran \([0-9]*\) syscalls.*/\1/p' | tail -1)
	diag "trinity (seed $SEED): ${calls:-?} system calls, exit $rc; $hits reached rust_edu"
	[ $rc -eq 0 ] || { echo "$out" | tail -5 | sed 's/^/# /'; return 1; }
	for a in $(edu_devices); do
		edu_test "$(edu_node "$a")" >/dev/null || { diag "$a does not work after trinity"; return 1; }
	done
	record check=fuzz_trinity_edu driver=rust_edu seed=$SEED trinity_calls=${calls:-0} calls_at_driver=$hits
}

# removal_loops_start ADDR...: starts two loops of factorials and checked DMA round trips
# (rust_edu_test --until-gone) on each device's node, and waits until each has begun; sets pids.
removal_loops_start() {
	pids=
	for a in "$@"; do
		node=$(edu_node "$a")
		rm -f "/tmp/removal.$a.started"
		for k in 1 2; do
			"$EDU_TEST" "$node" --until-gone "/tmp/removal.$a.started" $((k * 64)) \
				>"/tmp/removal.$a.$k" 2>&1 &
			pids="$pids $!"
		done
	done
	for a in "$@"; do
		t=0
		while [ ! -e "/tmp/removal.$a.started" ] && [ $t -lt 100 ]; do sleep 0.1; t=$((t + 1)); done
	done
}

# removal_loops_wait: every loop of removal_loops_start must end with an errno within the
# driver's timeout (1 s), with margin: 10 s. Their endings are added to /tmp/removal.endings.
removal_loops_wait() {
	t=0
	for p in $pids; do
		while kill -0 "$p" 2>/dev/null && [ $t -lt 100 ]; do sleep 0.1; t=$((t + 1)); done
		if kill -0 "$p" 2>/dev/null; then
			diag "a process still runs 10 s after the removal"
			kill -9 $pids
			return 1
		fi
		wait "$p" || { diag "a loop failed:"; cat /tmp/removal.*.[12] | sed 's/^/# /'; return 1; }
	done
	cat /tmp/removal.*.[12] >>/tmp/removal.endings
	rm -f /tmp/removal.*.[12]
}

# removal_done CHECK WHAT: the end of an edu removal check: how the loops ended, the devices must
# work, and the record of $removed removals (WHAT: "removals", "hot-unplugs").
removal_done() {
	diag "$removed $2 under running factorial and DMA loops; loops ended with:" \
		"$(awk '{ print $1 }' /tmp/removal.endings | sort | uniq -c | tr -s ' \n' ' ')"
	for a in $(edu_devices); do
		edu_test "$(edu_node "$a")" >/dev/null || { diag "$a does not work after the $2"; return 1; }
	done
	record check="$1" driver=rust_edu removals=$removed
}

check_removal_edu() {
	echo "RELIABILITY check=removal_edu driver=rust_edu"
	fi_available || return 4
	edu_ready || return 1
	mark_log
	rounds=10 removed=0
	r=0
	rm -f /tmp/removal.endings
	while [ $r -lt $rounds ]; do
		set -- $(edu_devices)
		removal_loops_start "$@"
		# Remove the devices while both loops are running on them.
		for a in "$@"; do
			echo 1 >"/sys/bus/pci/devices/$a/remove" || { diag "removing $a failed"; return 1; }
			removed=$((removed + 1))
		done
		removal_loops_wait || return 1
		echo 1 >/sys/bus/pci/rescan
		udevadm settle 2>/dev/null
		[ "$(edu_devices | wc -l)" -eq 2 ] || { diag "rescan found $(edu_devices | wc -l) edu devices"; return 1; }
		for a in $(edu_devices); do
			[ -e "$EDU_DRV/$a" ] || { diag "$a is not bound to rust_edu after the rescan"; return 1; }
		done
		r=$((r + 1))
	done
	removal_done removal_edu removals
}

# The folder fork/qmp-relay serves on the host (fork/vng.sh), from the kernel command line.
HOTPLUG_DIR=$(sed -n 's/.*fork\.hotplug=\([^ ]*\).*/\1/p' /proc/cmdline)

# hotplug REQUEST: has QEMU run REQUEST ("device_del ID" or "device_add DRIVER,OPTIONS")
# through fork/qmp-relay; fails with QEMU's error.
hotplug() {
	rm -f "$HOTPLUG_DIR/reply"
	echo "$1" >"$HOTPLUG_DIR/request.tmp" && mv "$HOTPLUG_DIR/request.tmp" "$HOTPLUG_DIR/request" ||
		{ diag "cannot write to $HOTPLUG_DIR"; return 1; }
	t=0
	while [ ! -e "$HOTPLUG_DIR/reply" ] && [ $t -lt 100 ]; do sleep 0.1; t=$((t + 1)); done
	[ -e "$HOTPLUG_DIR/reply" ] || { diag "fork/qmp-relay did not answer: $1"; return 1; }
	read -r reply <"$HOTPLUG_DIR/reply"
	[ "$reply" = ok ] || { diag "QEMU: $1: $reply"; return 1; }
}

# wait_for SECONDS CMD...: runs CMD every tenth of a second until it succeeds (or SECONDS pass).
wait_for() {
	n=$(($1 * 10))
	shift
	while ! "$@"; do
		[ $n -gt 0 ] || return 1
		sleep 0.1
		n=$((n - 1))
	done
}
no_edu_left() { [ -z "$(edu_devices)" ]; }
qemu_deleted_both() {
	grep -qx 'deleted edu1' "$HOTPLUG_DIR/events" 2>/dev/null &&
		grep -qx 'deleted edu2' "$HOTPLUG_DIR/events"
}
both_edu_bound() {
	set -- $(edu_devices)
	[ $# -eq 2 ] && [ -e "$EDU_DRV/$1" ] && [ -e "$EDU_DRV/$2" ] &&
		[ -n "$(edu_node "$1")" ] && [ -n "$(edu_node "$2")" ]
}

# unplug_restore: after a failed round, plugs the edu devices back in (an id still present is
# refused by QEMU, harmlessly), so that the checks after this one have their devices.
unplug_restore() {
	hotplug "device_add edu,id=edu1,bus=rp1" >/dev/null
	hotplug "device_add edu,id=edu2,bus=rp2" >/dev/null
	wait_for 30 both_edu_bound
	return 1
}

# Hot-unplug through QEMU's monitor: device_del takes each edu device away while the loops run
# on it, and device_add puts a new one in its root port. This is an orderly hot-unplug: q35 asks
# the guest through ACPI, whose acpiphp unbinds the driver and ejects the slot before QEMU
# deletes the device (QEMU 7.2 has no surprise removal for a PCIe slot).
check_removal_edu_unplug() {
	echo "RELIABILITY check=removal_edu_unplug driver=rust_edu"
	fi_available || return 4
	[ -n "$HOTPLUG_DIR" ] && [ -d "$HOTPLUG_DIR" ] ||
		{ diag "no hot-plug folder on the kernel command line (fork/vng.sh passes fork.hotplug=)"; return 1; }
	edu_ready || return 1
	mark_log
	rounds=5 removed=0 r=0
	rm -f /tmp/removal.endings
	while [ $r -lt $rounds ]; do
		set -- $(edu_devices)
		[ $# -eq 2 ] || { diag "expected 2 edu devices, found $#"; return 1; }
		: >"$HOTPLUG_DIR/events"
		removal_loops_start "$@"
		hotplug "device_del edu1" && hotplug "device_del edu2" || { kill -9 $pids; unplug_restore; return 1; }
		removal_loops_wait || { unplug_restore; return 1; }
		wait_for 30 no_edu_left ||
			{ diag "the edu devices are still there 30 s after device_del"; unplug_restore; return 1; }
		wait_for 10 qemu_deleted_both || {
			diag "QEMU did not delete both devices: $(tr '\n' ' ' <"$HOTPLUG_DIR/events")"
			unplug_restore
			return 1
		}
		removed=$((removed + 2))
		hotplug "device_add edu,id=edu1,bus=rp1" && hotplug "device_add edu,id=edu2,bus=rp2" ||
			{ unplug_restore; return 1; }
		wait_for 30 both_edu_bound || { diag "rust_edu did not bind both new devices within 30 s"; return 1; }
		r=$((r + 1))
	done
	removal_done removal_edu_unplug "hot-unplugs (device_del)"
}

check_removal_pci() {
	echo "RELIABILITY check=removal_pci driver=rust_driver_pci"
	fi_available || return 4
	grep -q '^rust_edu ' /proc/modules && { mp -r rust_edu || return 1; }
	grep -q '^rust_driver_pci ' /proc/modules || mp rust_driver_pci || return 1
	mark_log
	removed=0 r=0
	while [ $r -lt 10 ]; do
		for a in $(edu_devices); do
			echo 1 >"/sys/bus/pci/devices/$a/remove" || { diag "removing $a failed"; return 1; }
			removed=$((removed + 1))
		done
		echo 1 >/sys/bus/pci/rescan
		[ "$(bound_count)" -eq 2 ] || { diag "$(bound_count) of 2 edu devices bound after the rescan"; return 1; }
		r=$((r + 1))
	done
	n=$(new_log | grep -c 'liveness ok, 5! = 120 by interrupt')
	# (Twice as many on a kernel with driver-remove testing.)
	[ "$n" -ge $removed ] || { diag "$n probe reports after $removed removals and rescans"; return 1; }
	mp -r rust_driver_pci || return 1
	record check=removal_pci driver=rust_driver_pci removals=$removed
}
