#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Guest side of fork/bench: measures each C-vs-Rust driver pair of fork/bench-pairs inside one
# boot, and prints one record per measurement on the console for the host to collect.
#
# Usage (in the guest, as root): bench.sh MODROOT PAIRS REPS RUNTIME [RAMP [MODE]]
#   MODROOT  the INSTALL_MOD_PATH the host installed the kernel's modules into
#   PAIRS    the pairs file (fork/bench-pairs)
#   REPS     repetitions of every measurement, per side
#   RUNTIME  seconds of measured I/O per run; RAMP (default 1) seconds of unmeasured I/O first
#   MODE     icount (QEMU counts instructions: guest time is executed instructions) or host
#            (guest time is the host's time); default host. It changes only the job balance
#            check (see run_block) and is recorded.
#
# For every pair, workload and repetition, both sides are measured back to back: load the
# module, wait for its device, run the workload, unload. The side that goes first alternates
# from one repetition to the next (rust,c then c,rust, ...), so that drift over the boot (page
# cache, memory fragmentation, the host's load) does not always favour the same side.
#
# Output on stdout, one line each:
#   BENCHENV {...}   first: guest CPUs, fio version, engine, the planned measurements
#   # ...            progress
#   BENCH {...}      one measurement: "ok":true with its metrics, or "ok":false with "error"
#   BENCHEND {...}   last: how many records and errors were printed
# A failed module load, device, fio run or unload is an error record; nothing is skipped.
# The exit code is 1 if any record is an error.

USAGE="usage: bench.sh MODROOT PAIRS REPS RUNTIME [RAMP [MODE]]"
MODROOT=${1:?$USAGE}
PAIRS=${2:?$USAGE}
REPS=${3:?$USAGE}
RUNTIME=${4:?$USAGE}
RAMP=${5:-1}
MODE=${6:-host}
export PATH=/usr/sbin:/usr/bin:/sbin:/bin:$PATH
# Module parameters and fio options are split on blanks, never globbed.
set -f

# Seconds to wait for a device to appear after the module is loaded (TCG is slow).
DEVICE_WAIT=30
# Seconds fio may take beyond its runtime and ramp (start-up, job set-up) before it is killed.
FIO_SLACK=60
# Instruction-counting mode: the lowest acceptable slowest/fastest job IOPS, and how many times
# a run is tried (see run_block).
BALANCE_MIN=0.95
BALANCE_TRIES=3

NRECORDS=0
NERRORS=0
# Set when something that every measurement needs is missing; every measurement then becomes
# an error record carrying this message.
FATAL=

progress() { echo "# $*"; }

# json_str TEXT: TEXT as a JSON string (quotes included), on one line.
json_str() {
	printf '"%s"' "$(printf '%s' "$1" | tr '\n\t\r' '   ' |
		sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/[[:cntrl:]]/ /g')"
}

# json_obj KEY VALUE...: a JSON object of the KEY/VALUE pairs; each VALUE is JSON already (a
# number, or a string through json_str).
json_obj() {
	local members=
	while [ $# -ge 2 ]; do
		members="$members${members:+,}$(json_str "$1"):$2"
		shift 2
	done
	printf '{%s}' "$members"
}

# The pairs file without comments and blank lines.
pairs_decls() { sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$PAIRS"; }

mp() { modprobe -d "$MODROOT" "$@"; }

module_loaded() { grep -q "^$1 " /proc/modules; }

# fio_extract JSON DIR: prints "IOPS P50 P99 ERROR CPU_NS SYS_NS BALANCE NJOBS" for direction
# DIR (read or write) from fio's JSON output of a run without --group_reporting, or fails.
# IOPS is the sum over the jobs; P50/P99 (completion latency percentiles, ns) are the jobs'
# values weighted by their I/O counts; ERROR the first non-zero job error (else 0); CPU_NS and
# SYS_NS the jobs' CPU time (user + system, and system alone; fio takes them from getrusage after
# the ramp) per I/O in ns; BALANCE the lowest job's IOPS over the highest's (1 for one job).
# fio's JSON printer puts one key a line, so a small state machine that tracks the enclosing
# keys is enough; no JSON tool is needed in the guest.
fio_extract() {
	awk -v dir="$2" '
	{
		line = $0
		sub(/^[ \t]+/, "", line)
		sub(/[ \t\r]+$/, "", line)
	}
	line ~ /^"[^"]*" : [[{]$/ {
		k = line; sub(/^"/, "", k); sub(/" : [[{]$/, "", k)
		stack[++depth] = k
		if (path() == "/jobs/")
			nj++
		next
	}
	line ~ /^[[{]$/ {
		stack[++depth] = ""
		if (path() == "/jobs/")
			nj++
		next
	}
	line ~ /^[]}],?$/ { if (depth > 0) depth--; next }
	line ~ /^"[^"]*" : / {
		k = line; sub(/^"/, "", k); sub(/" : .*/, "", k)
		v = line; sub(/^"[^"]*" : /, "", v); sub(/,$/, "", v); gsub(/"/, "", v)
		p = path()
		if (p == "/jobs/" && k == "error")
			err[nj] = v
		else if (p == "/jobs/" && k == "job_runtime")
			jr[nj] = v
		else if (p == "/jobs/" && k == "usr_cpu")
			usr[nj] = v
		else if (p == "/jobs/" && k == "sys_cpu")
			sys[nj] = v
		else if (p == "/jobs//" dir && k == "iops")
			iops[nj] = v
		else if (p == "/jobs//" dir && k == "total_ios")
			ios[nj] = v
		else if (p == "/jobs//" dir "/clat_ns/percentile" && k == "50.000000")
			p50[nj] = v
		else if (p == "/jobs//" dir "/clat_ns/percentile" && k == "99.000000")
			p99[nj] = v
	}
	# The keys from the outermost object in, e.g. "/jobs//read" (array elements have no key).
	function path(  i, s) {
		s = ""
		for (i = 2; i <= depth; i++)
			s = s "/" stack[i]
		return s
	}
	END {
		if (nj < 1)
			exit 1
		e = 0
		for (j = 1; j <= nj; j++) {
			# A job that completed no I/O (starved) has no percentiles.
			if (iops[j] == "" || ios[j] == "" || err[j] == "" || jr[j] == "" ||
			    usr[j] == "" || sys[j] == "" || (ios[j] + 0 > 0 && (p50[j] == "" || p99[j] == "")))
				exit 1
			# The values are strings (cut out of the line): +0 makes them numbers, so that
			# the comparisons below are numeric.
			if (e == 0 && err[j] + 0 != 0)
				e = err[j]
			iops[j] += 0
			tiops += iops[j]
			tios += ios[j]
			w50 += p50[j] * ios[j]
			w99 += p99[j] * ios[j]
			# usr/sys are percentages of the job runtime (ms).
			cpu += (usr[j] + sys[j]) / 100 * jr[j] * 1e6
			scpu += sys[j] / 100 * jr[j] * 1e6
			if (j == 1 || iops[j] < lo) lo = iops[j]
			if (j == 1 || iops[j] > hi) hi = iops[j]
		}
		if (tios > 0)
			printf "%.3f %.1f %.1f %s %.2f %.2f %.5f %d\n", tiops, w50 / tios, w99 / tios, e,
				cpu / tios, scpu / tios, (hi > 0 ? lo / hi : 0), nj
		else
			printf "%.3f 0 0 %s 0 0 0 %d\n", tiops, e, nj
	}' "$1"
}

# fio_run OUTPUT FIO-OPTION...: runs fio with a time limit, JSON into OUTPUT. On failure prints
# fio's complaint (last lines of its output) and fails.
fio_run() {
	out=$1
	shift
	rm -f "$out"
	msg=$(timeout "$((RUNTIME + RAMP + FIO_SLACK))" fio --output-format=json --output="$out" "$@" 2>&1)
	rc=$?
	[ $rc -eq 0 ] && return 0
	[ $rc -eq 124 ] && msg="timed out after $((RUNTIME + RAMP + FIO_SLACK)) s; $msg"
	printf 'fio failed (exit %s): %s' "$rc" "$(printf '%s\n' "$msg" | tail -n 3)"
	return 1
}

# Picks the fio engine: io_uring if both fio and this kernel can do it (io_uring may be compiled
# out, or disabled with the kernel.io_uring_disabled sysctl), else libaio. A few writes to a file
# in $TMP show whether the engine works; the block runs use direct I/O on the device.
ENGINE=
ENGINE_NOTE=
probe_engine() {
	for e in io_uring libaio; do
		if msg=$(fio_run "$TMP/probe.json" --name=probe --filename="$TMP/probe" --size=1M \
			--bs=4k --rw=randwrite --iodepth=4 --ioengine=$e) &&
			fio_extract "$TMP/probe.json" write >/dev/null; then
			ENGINE=$e
			return 0
		fi
		[ -n "$msg" ] || msg="no usable result in fio's JSON output"
		ENGINE_NOTE="$ENGINE_NOTE$e unusable: $msg; "
	done
	return 1
}

# record PAIR SIDE MODULE WORKLOAD REP ITER ERROR [FIELDS]: prints a BENCH record. An empty
# ERROR makes it a measurement ("ok":true) and FIELDS its metrics, a JSON fragment that starts
# with a comma; otherwise it is an error record.
record() {
	r=$(printf '{"pair":%s,"side":%s,"module":%s,"workload":%s,"rep":%s,"iter":%s' \
		"$(json_str "$1")" "$(json_str "$2")" "$(json_str "$3")" "$(json_str "$4")" "$5" "$6")
	NRECORDS=$((NRECORDS + 1))
	if [ -z "$7" ]; then
		echo "BENCH $r,\"ok\":true$8}"
	else
		NERRORS=$((NERRORS + 1))
		echo "BENCH $r,\"ok\":false,\"error\":$(json_str "$7")$8}"
		progress "ERROR: $1 $4 $2 rep $5: $7"
	fi
}

# wait_for_device DEVICE: waits up to DEVICE_WAIT seconds for the node to appear (devtmpfs
# creates it when the driver registers the device; udev may not be running in the guest).
wait_for_device() {
	udevadm settle --timeout=5 2>/dev/null
	i=0
	while [ ! -e "$1" ]; do
		[ $i -ge $((DEVICE_WAIT * 10)) ] && return 1
		sleep 0.1
		i=$((i + 1))
	done
}

# load_side MODULE DEVICE PARAMS...: makes sure MODULE is not already loaded (a leftover would
# make modprobe a no-op and measure the wrong instance), loads it and waits for DEVICE. Prints
# what went wrong and fails otherwise.
load_side() {
	module=$1
	device=$2
	shift 2
	if module_loaded "$module" && ! msg=$(mp -r "$module" 2>&1); then
		printf '%s was already loaded and does not unload: %s' "$module" "$msg"
		return 1
	fi
	if ! msg=$(mp "$module" "$@" 2>&1); then
		printf 'modprobe %s failed: %s' "$module" "$msg"
		return 1
	fi
	if ! wait_for_device "$device"; then
		printf '%s loaded but %s did not appear within %s s' "$module" "$device" "$DEVICE_WAIT"
		if ! msg=$(mp -r "$module" 2>&1); then
			printf '; unloading it failed too: %s' "$msg"
		fi
		return 1
	fi
}

# unload_side MODULE: unloads MODULE, printing what went wrong on failure.
unload_side() {
	if ! msg=$(mp -r "$1" 2>&1); then
		printf 'unloading %s failed: %s' "$1" "$msg"
		return 1
	fi
}

# begin_run PAIR SIDE MODULE DEVICE WORKLOAD REP ITER ERROR FIELDS: starts a measurement:
# loads the side's module (with PARAMS) and waits for its device. Fails, after printing the
# error record, if ERROR (or FATAL) is set or the load fails: the runner then returns.
begin_run() {
	local err=${FATAL:-$8}
	# shellcheck disable=SC2086 # PARAMS is a list of module parameters
	[ -z "$err" ] && err=$(load_side "$3" "$4" $PARAMS) && return 0
	record "$1" "$2" "$3" "$5" "$6" "$7" "$err" "$9"
	return 1
}

# run_block PAIR SIDE MODULE DEVICE WORKLOAD REP ITER: one block measurement, one record.
# Uses kind (the pair's kind), PARAMS (module parameters), SCHED (I/O scheduler) and WLARGS (the
# workload's fio options, plus jobs=N: the number of fio jobs, default the guest's CPUs).
#
# Each job is pinned to a CPU of its own (cpus_allowed_policy=split), so that two jobs never
# share a CPU while another idles. Under instruction counting, where QEMU runs the vCPUs in
# turn on one thread, a job that the guest scheduler left waiting would otherwise do almost no
# I/O, and the sum over the jobs would be half of what the device does; so in that mode a run
# whose slowest job does less than BALANCE_MIN of the fastest one's IOPS is run again, up to
# BALANCE_TRIES times, and is an error after that.
run_block() {
	local pair=$1 side=$2 module=$3 device=$4 wl=$5 rep=$6 iter=$7
	local iodepth=1 jobs=$NPROC dir= a fields err uerr sched qsched m try fioargs cpus bs=4096
	fioargs=
	for a in $WLARGS; do
		case $a in
		jobs=*)
			jobs=${a#jobs=}
			continue
			;;
		iodepth=*) iodepth=${a#iodepth=} ;;
		bs=*[0-9]) bs=${a#bs=} ;;
		bs=*[0-9][kK]) bs=${a#bs=} bs=$((${bs%?} * 1024)) ;;
		bs=*[0-9][mM]) bs=${a#bs=} bs=$((${bs%?} * 1048576)) ;;
		rw=read | rw=randread) dir=read ;;
		rw=write | rw=randwrite) dir=write ;;
		rw=* | readwrite=*) dir=mixed ;;
		esac
		fioargs="$fioargs --$a"
	done
	err=
	case $dir in
	read | write) ;;
	*) err="workload $wl must set rw= to a read-only or write-only pattern, has: $WLARGS" ;;
	esac
	case $jobs in
	'' | *[!0-9]* | 0*)
		err="workload $wl: jobs=$jobs is not a number of at least 1"
		jobs=0
		;;
	*) [ "$jobs" -le "$NPROC" ] || err="workload $wl: jobs=$jobs, but the guest has $NPROC CPUs" ;;
	esac
	fields=$(json_obj kind "$(json_str "$kind")" engine "$(json_str "$ENGINE")" numjobs "$jobs" \
		iodepth "$iodepth" runtime_s "$RUNTIME" ramp_s "$RAMP")
	fields=",${fields#\{}"
	fields=${fields%\}}
	begin_run "$pair" "$side" "$module" "$device" "$wl" "$rep" "$iter" "$err" "$fields" || return

	# The active scheduler is the one in brackets: "mq-deadline kyber [none]".
	err=
	qsched=/sys/block/${device##*/}/queue/scheduler
	sched=$(sed -n 's/.*\[\(.*\)\].*/\1/p' "$qsched" 2>/dev/null)
	if [ -n "$SCHED" ] && [ "$sched" != "$SCHED" ]; then
		echo "$SCHED" 2>/dev/null >"$qsched"
		sched=$(sed -n 's/.*\[\(.*\)\].*/\1/p' "$qsched" 2>/dev/null)
		[ "$sched" = "$SCHED" ] ||
			err="could not switch $device to the $SCHED I/O scheduler (it has: ${sched:-none readable})"
	fi
	fields="$fields,\"sched\":$(json_str "$sched")"

	cpus=0
	[ "$jobs" -gt 1 ] && cpus="0-$((jobs - 1))"
	try=0
	while [ -z "$err" ]; do
		try=$((try + 1))
		# shellcheck disable=SC2086 # fioargs is a list of fio options
		set -- --name="$wl" --filename="$device" --ioengine="$ENGINE" --direct=1 \
			--numjobs="$jobs" --cpus_allowed="$cpus" --cpus_allowed_policy=split \
			--time_based --runtime="$RUNTIME" --ramp_time="$RAMP" --norandommap \
			--randrepeat=0 --percentile_list=50:99 $fioargs
		if ! err=$(fio_run "$TMP/fio.json" "$@"); then
			break
		elif ! m=$(fio_extract "$TMP/fio.json" "$dir"); then
			err="fio gave no $dir IOPS/latency percentiles/CPU usage in its JSON output"
			break
		fi
		# shellcheck disable=SC2086 # split "IOPS P50 P99 ERROR CPU_NS SYS_NS BALANCE NJOBS"
		set -- $m
		if [ "$4" != 0 ]; then
			err="fio reports error $4 ($(sed -n 's/.*"verror" : "\(.*\)",*$/\1/p' \
				"$TMP/fio.json" | head -1))"
		elif [ "$(printf '%s\n' "$1" | awk '{ print ($1 > 0) }')" != 1 ]; then
			err="fio completed no I/O ($dir IOPS $1)"
		elif [ "$8" != "$jobs" ]; then
			err="fio reported $8 job(s), not $jobs"
		elif [ "$MODE" = icount ] &&
			[ "$(echo "$7" | awk -v m="$BALANCE_MIN" '{ print ($1 < m) }')" = 1 ]; then
			if [ "$try" -lt "$BALANCE_TRIES" ]; then
				progress "$pair $wl $side rep $rep: unbalanced jobs (slowest/fastest $7), again"
				continue
			fi
			err="the jobs stayed unbalanced in $try runs (slowest/fastest IOPS $7)"
		else
			fields="$fields,\"iops\":$1,\"lat_p50_ns\":$2,\"lat_p99_ns\":$3"
			# The NVMe pairs' sequential workloads are about bandwidth: IOPS times the block size.
			[ "$kind" = nvme ] && fields="$fields,\"bw_mib_s\":$(echo "$1" |
				awk -v bs="$bs" '{ printf "%.3f", $1 * bs / 1048576 }')"
			fields="$fields,\"cpu_ns_per_io\":$5,\"sys_ns_per_io\":$6,\"job_balance\":$7"
			fields="$fields,\"tries\":$try"
		fi
		break
	done

	# Unload even after a failed run, and report a failed unload: the next load of this module
	# would otherwise find the old instance.
	if ! uerr=$(unload_side "$module"); then
		err="${err:+$err; }$uerr"
	fi
	record "$pair" "$side" "$module" "$wl" "$rep" "$iter" "$err" "$fields"
}

# run_nvme: the block runner, on the disk of an NVMe controller (whose driver_override
# set_overrides set).
run_nvme() {
	run_block "$@"
}

# run_drm PAIR SIDE MODULE DEVICE WORKLOAD REP ITER: one display measurement, one record.
# WLARGS has mode=WxH. rbochs_test draws the whole of one of two dumb buffers and flips to it
# with an atomic commit, again and again for RUNTIME seconds, and reports the updates per
# second and the mean time of a commit ioctl.
run_drm() {
	local pair=$1 side=$2 module=$3 device=$4 wl=$5 rep=$6 iter=$7 mode= a err uerr out ups lat
	local fields
	for a in $WLARGS; do
		case $a in
		mode=*) mode=${a#mode=} ;;
		esac
	done
	fields=",\"kind\":$(json_str "$kind"),\"mode\":$(json_str "$mode"),\"runtime_s\":$RUNTIME"
	err=
	[ -n "$mode" ] || err="workload $wl needs mode=WxH"
	[ -x "$MODROOT/selftests/rbochs_test" ] || err="$MODROOT/selftests/rbochs_test is missing"
	begin_run "$pair" "$side" "$module" "$device" "$wl" "$rep" "$iter" "$err" "$fields" || return
	if ! out=$(timeout "$((RUNTIME + FIO_SLACK))" "$MODROOT/selftests/rbochs_test" bench \
		"$device" "$mode" "$RUNTIME" 2>&1); then
		err="rbochs_test bench failed: $(printf '%s\n' "$out" | tail -n 2)"
	else
		ups=$(printf '%s\n' "$out" | awk '$1 == "updates_per_s" { print $2 }')
		lat=$(printf '%s\n' "$out" | awk '$1 == "commit_latency_us" { print $2 }')
		if [ -z "$ups" ] || [ -z "$lat" ]; then
			err="rbochs_test bench printed no figures: $(printf '%s\n' "$out" | tail -n 2)"
		else
			fields="$fields,\"updates_per_s\":$ups,\"commit_latency_us\":$lat"
		fi
	fi
	if ! uerr=$(unload_side "$module"); then
		err="${err:+$err; }$uerr"
	fi
	record "$pair" "$side" "$module" "$wl" "$rep" "$iter" "$err" "$fields"
}

# set_overrides: for every override line, the PCI function behind the root port gets the side's
# module as its driver_override. Fails (FATAL) if there is no such function.
set_overrides() {
	local p sd port m dev n drv
	for o in $(pairs_decls | awk '$1 == "override" { print $2 "/" $3 "/" $4 "/" $5 }'); do
		p=${o%%/*} sd=${o#*/} sd=${sd%%/*} port=${o#*/*/} port=${port%%/*} drv=${o##*/}
		# The PCI driver's name, if it is not the module's (bochs.ko registers "bochs-drm").
		m=${drv:-$(side_field "$p" "$sd" 1)}
		n=0
		# (The script runs with globbing off: on for this one.)
		set +f
		for dev in /sys/bus/pci/devices/"$port"/0000:*; do
			[ -w "$dev/driver_override" ] || continue
			echo "$m" >"$dev/driver_override" || { set -f; return 1; }
			n=$((n + 1))
		done
		set -f
		[ $n -gt 0 ] || { FATAL="no PCI function behind $port for the $sd side of $p"; return 1; }
		progress "$p $sd: $m for the device behind $port"
	done
}

# side_field PAIR SIDE N: field N (1 module, 2 device, 3 .ko, 4... objects) of the side line.
side_field() {
	pairs_decls | awk -v p="$1" -v s="$2" -v n="$3" \
		'$1 == "side" && $2 == p && $3 == s { print $(n + 3); exit }'
}

# rest_of PAIR KEYWORD [SIDE]: everything after the keyword, pair (and side) on its line.
rest_of() {
	pairs_decls | awk -v k="$2" -v p="$1" -v s="${3:-}" '
	$1 == k && $2 == p && (s == "" || $3 == s) {
		n = s == "" ? 3 : 4
		out = ""
		for (i = n; i <= NF; i++)
			out = out (i > n ? " " : "") $i
		print out
		exit
	}'
}

# ---------------------------------------------------------------------------------------------

[ -r "$PAIRS" ] || { echo "bench.sh: cannot read the pairs file $PAIRS" >&2; exit 2; }
case "$REPS$RUNTIME$RAMP" in
*[!0-9]*) echo "bench.sh: REPS, RUNTIME and RAMP must be whole numbers" >&2; exit 2 ;;
esac
case $MODE in
icount | host) ;;
*) echo "bench.sh: MODE is icount or host, not '$MODE'" >&2; exit 2 ;;
esac

NPROC=$(nproc)
FIO_VERSION=$(fio --version 2>/dev/null) || FIO_VERSION=
if [ -z "$FIO_VERSION" ]; then
	FATAL="fio is not installed in the guest (it runs the host's root file system: install fio"
	FATAL="$FATAL there)"
elif ! TMP=$(mktemp -d 2>/dev/null); then
	FATAL="cannot create a temporary folder in the guest (mktemp -d failed)"
elif ! probe_engine; then
	FATAL="no fio engine works in the guest: $ENGINE_NOTE"
fi
[ -n "$ENGINE" ] && [ -n "$ENGINE_NOTE" ] && ENGINE_NOTE="${ENGINE_NOTE}using $ENGINE"
[ -n "$FATAL" ] || set_overrides || FATAL=${FATAL:-"cannot set a driver_override"}

# The plan: every pair/workload the host should expect REPS records per side for.
plan=
for p in $(pairs_decls | awk '$1 == "pair" { print $2 "/" $3 }'); do
	for w in $(pairs_decls | awk -v k="${p#*/}" '$1 == "workload" && $2 == k { print $3 }'); do
		plan="$plan${plan:+,}$(json_str "${p%/*}/$w")"
	done
done
echo "BENCHENV $(json_obj nproc "$NPROC" fio "$(json_str "$FIO_VERSION")" \
	engine "$(json_str "$ENGINE")" engine_note "$(json_str "$ENGINE_NOTE")" \
	kernel "$(json_str "$(uname -r)")" reps "$REPS" runtime_s "$RUNTIME" ramp_s "$RAMP" \
	mode "$(json_str "$MODE")" \
	fatal "$(json_str "$FATAL")" plan "[$plan]")"
[ -n "$FATAL" ] && progress "FATAL: $FATAL"

for p in $(pairs_decls | awk '$1 == "pair" { print $2 "/" $3 }'); do
	pair=${p%/*}
	kind=${p#*/}
	workloads=$(pairs_decls | awk -v k="$kind" '$1 == "workload" && $2 == k { print $3 }')
	SCHED=$(rest_of "$pair" sched)
	mod_rust=$(side_field "$pair" rust 1)
	mod_c=$(side_field "$pair" c 1)
	# shellcheck disable=SC2086 # counting the words
	nwl=$(echo $workloads | wc -w)
	progress "pair $pair ($kind): rust ${mod_rust:-?} vs c ${mod_c:-?}, $REPS reps of $nwl workload(s)"

	for wl in $workloads; do
		WLARGS=$(pairs_decls | awk -v k="$kind" -v w="$wl" '
			$1 == "workload" && $2 == k && $3 == w {
				for (i = 4; i <= NF; i++) printf "%s%s", (i > 4 ? " " : ""), $i
				print ""
				exit
			}')
		progress "$pair $wl: $WLARGS"
		iter=0
		rep=1
		while [ $rep -le "$REPS" ]; do
			if [ $((rep % 2)) -eq 1 ]; then order="rust c"; else order="c rust"; fi
			for side in $order; do
				iter=$((iter + 1))
				module=$(side_field "$pair" $side 1)
				device=$(side_field "$pair" $side 2)
				PARAMS=$(rest_of "$pair" params $side)
				if [ -z "$module" ] || [ -z "$device" ]; then
					record "$pair" $side "${module:-?}" "$wl" $rep $iter \
						"no complete 'side $pair $side MODULE DEVICE ...' line in $PAIRS"
				elif ! command -v "run_$kind" >/dev/null 2>&1; then
					record "$pair" $side "$module" "$wl" $rep $iter \
						"no runner for kind '$kind' (run_$kind in bench.sh)"
				else
					"run_$kind" "$pair" $side "$module" "$device" "$wl" $rep $iter
				fi
			done
			rep=$((rep + 1))
		done
		progress "$pair $wl: done, $NRECORDS records and $NERRORS errors so far"
	done
done

[ -n "${TMP:-}" ] && rm -rf "$TMP"
echo "BENCHEND $(json_obj records "$NRECORDS" errors "$NERRORS")"
progress "bench: $NRECORDS records, $NERRORS errors"
[ $NERRORS -eq 0 ]
