# SPDX-License-Identifier: GPL-2.0
#
# Guest checks of the Rust NVMe driver (rnvme, CONFIG_BLK_DEV_RUST_NVME) and of its C twin
# (nvme, CONFIG_BLK_DEV_NVME), sourced by rust-checks.sh. The word rnvme selects the Rust
# driver's checks, nvme the C twin's.
#
# QEMU gives the guest two alike NVMe controllers (fork/vng.sh, vng_nvme_devices): serial
# RUSTNVME0 behind the PCIe root port at 0000:00:18.0, for rnvme, and serial CNVME0 behind the
# one at 0000:00:19.0, for nvme; each has one namespace of 512 MiB (1048576 sectors of 512 B) on
# a raw image of the host's. Neither driver is loaded at boot (modprobe.blacklist): every check
# sets up what it needs itself (nv_ready_rust, nv_ready_c: each controller's driver_override
# names its driver, so that neither driver ever takes the other's controller), and cleans up
# after itself (nv_check: no fio left running, nothing left mounted), so that any of them runs
# alone. Every wait is bounded: a command that may wait for the device runs in the background
# (nv_bounded) and is killed, and the check failed, when it outlives its limit.
#
# The guest's environment may set:
#   NVME_FIO_SIZE       MiB each fio job writes and verifies (default 64; at most 255)
#   NVME_UNBIND_ROUNDS  unbinds under I/O in check_rnvme_unbind_under_io (default 20)
#   NVME_WAIT           seconds a disk may take to appear after a load or bind (default 60)
#   NVME_FIO_LIMIT      seconds a fio run may take before it counts as a hang (default 600)
# (fork/boot --exec 'NVME_FIO_SIZE=16 sh fork/guest/rust-checks.sh MODROOT rnvme').

NV_RUST_PORT=0000:00:18.0
NV_C_PORT=0000:00:19.0
NV_RUST_SERIAL=RUSTNVME0
NV_C_SERIAL=CNVME0
NV_SECTORS=1048576
RNVME_DRV=/sys/bus/pci/drivers/rnvme
CNVME_DRV=/sys/bus/pci/drivers/nvme

# The knobs must be whole numbers (a typo would otherwise end a loop early); NVME_FIO_SIZE may
# end in M.
NVME_FIO_SIZE=${NVME_FIO_SIZE%[Mm]}
for nv_v in NVME_FIO_SIZE NVME_UNBIND_ROUNDS NVME_WAIT NVME_FIO_LIMIT; do
	nv_x=
	eval "nv_x=\${$nv_v:-}"
	case $nv_x in
	'') ;;
	*[!0-9]* | 0) echo "# $nv_v=$nv_x is not a whole number above 0: using the default"; unset "$nv_v" ;;
	esac
done
NVME_FIO_SIZE=${NVME_FIO_SIZE:-64} NVME_UNBIND_ROUNDS=${NVME_UNBIND_ROUNDS:-20}
NVME_WAIT=${NVME_WAIT:-60} NVME_FIO_LIMIT=${NVME_FIO_LIMIT:-600}
# Two jobs of NVME_FIO_SIZE MiB each, after the first MiB, fit on the 512 MiB namespace.
if [ "$NVME_FIO_SIZE" -gt 255 ]; then
	echo "# NVME_FIO_SIZE=$NVME_FIO_SIZE does not fit twice on the 512 MiB namespace: using 255"
	NVME_FIO_SIZE=255
fi

# --- Helpers: time, bounded commands, clean-up ---------------------------------------------

# nv_now: NV_NOW is the seconds since boot (with the shell's builtins: no process).
nv_now() {
	read -r nv_up _ </proc/uptime
	NV_NOW=${nv_up%.*}
}

# nv_wait_pid PID SECONDS: waits until the background process PID has ended, at most SECONDS;
# fails if it still runs then.
nv_wait_pid() {
	nv_now
	nv_deadline=$((NV_NOW + $2))
	while kill -0 "$1" 2>/dev/null; do
		nv_now
		[ "$NV_NOW" -lt "$nv_deadline" ] || return 1
		sleep 0.2
	done
}

# nv_bounded SECONDS LOG CMD...: runs CMD (a command or a shell function) in the background with
# its output in LOG, and waits for it at most SECONDS. Returns CMD's exit status, or 124 when it
# was still running then: it is killed, and left behind if it does not die (a process waiting
# for an I/O that never completes does not). Its output goes to LOG, never to the check's
# output, which the runner reads to its end: a hung command fails its check and the run goes on
# (and the debug kernel's hung-task report fails check_kernel_log_clean).
nv_bounded() {
	nb_limit=$1 nb_log=$2
	shift 2
	"$@" >"$nb_log" 2>&1 </dev/null &
	nb_pid=$!
	if nv_wait_pid "$nb_pid" "$nb_limit"; then
		wait "$nb_pid"
		return
	fi
	kill -9 "$nb_pid" 2>/dev/null
	diag "still running after $nb_limit s, killed (a hang?): $*"
	return 124
}

# nv_run SECONDS WHAT CMD...: nv_bounded, and on failure a diagnostic line saying WHAT failed,
# with the end of CMD's output.
nv_run() {
	nr_limit=$1 nr_what=$2
	shift 2
	nv_bounded "$nr_limit" "$NV_TMP/run.log" "$@"
	nr_rc=$?
	[ $nr_rc -eq 0 ] && return 0
	diag "$nr_what failed (exit $nr_rc):"
	tail -5 "$NV_TMP/run.log" | sed 's/^/#   /'
	return 1
}

# nv_echo VALUE FILE: writes VALUE to FILE (a sysfs attribute).
nv_echo() { echo "$1" >"$2"; }

# nv_sysfs SECONDS FILE VALUE: writes VALUE to the sysfs attribute FILE, at most SECONDS (an
# unbind waits for the driver's remove, a bind for its probe).
nv_sysfs() {
	nv_bounded "$1" "$NV_TMP/sysfs.log" nv_echo "$3" "$2" && return 0
	diag "writing $3 to $2 failed: $(cat "$NV_TMP/sysfs.log")"
	return 1
}

# nv_mounted DIR: whether a file system is mounted on DIR.
nv_mounted() {
	while read -r _ nv_m _; do
		[ "$nv_m" = "$1" ] && return 0
	done </proc/mounts
	return 1
}

# nv_check BODY: runs the check body BODY (a function) with a temporary folder NV_TMP, then
# cleans up whatever it left: a background fio (NV_PIDS) is killed and must end, the mount point
# NV_MNT is unmounted and removed, NV_TMP is removed. A clean-up that fails fails the check.
nv_check() {
	for nv_tool in fio dd blkdiscard mkfs.ext4 fsck.ext4 sha256sum; do
		command -v "$nv_tool" >/dev/null ||
			{ diag "$nv_tool is not installed on the host (fork/setup installs it)"; return 1; }
	done
	NV_TMP=$(mktemp -d /tmp/nvme-check.XXXXXX) || { diag "mktemp failed"; return 1; }
	NV_PIDS='' NV_MNT=''
	"$@"
	nv_body_rc=$?
	for nv_p in $NV_PIDS; do
		kill -9 "$nv_p" 2>/dev/null
		nv_wait_pid "$nv_p" 30 ||
			{ diag "a fio still runs 30 s after SIGKILL (an I/O that never completes?)"; nv_body_rc=1; }
	done
	if [ -n "$NV_MNT" ]; then
		if nv_mounted "$NV_MNT"; then
			nv_bounded 60 "$NV_TMP/umount.log" umount "$NV_MNT" ||
				{ diag "cannot unmount $NV_MNT: $(cat "$NV_TMP/umount.log")"; nv_body_rc=1; }
		fi
		# (rmdir, not rm -r: never into a file system left mounted.)
		rmdir "$NV_MNT" 2>/dev/null
	fi
	rm -rf "$NV_TMP"
	return $nv_body_rc
}

# --- Helpers: controllers, drivers, disks --------------------------------------------------

# nv_behind PORT: NV_FOUND is the NVMe controller (1b36:0010) behind the root port PORT.
nv_behind() {
	NV_FOUND=
	for nv_d in /sys/bus/pci/devices/"$1"/0000:*; do
		[ -r "$nv_d/vendor" ] && read -r nv_ven <"$nv_d/vendor" && read -r nv_dev <"$nv_d/device" ||
			continue
		if [ "$nv_ven" = 0x1b36 ] && [ "$nv_dev" = 0x0010 ]; then
			NV_FOUND=${nv_d##*/}
			return 0
		fi
	done
	diag "no NVMe controller (1b36:0010) behind the root port $1 (fork/vng.sh gives the guest two)"
	return 1
}

# nv_controllers: finds both controllers (NV_RUST_ADDR, NV_C_ADDR) and sets their
# driver_override: only rnvme may bind RUSTNVME0's, only nvme CNVME0's. A controller bound to
# another driver is unbound.
nv_controllers() {
	nv_behind "$NV_RUST_PORT" || return 1
	NV_RUST_ADDR=$NV_FOUND
	nv_behind "$NV_C_PORT" || return 1
	NV_C_ADDR=$NV_FOUND
	nv_override "$NV_RUST_ADDR" rnvme && nv_override "$NV_C_ADDR" nvme
}
nv_override() {
	nv_dir=/sys/bus/pci/devices/$1
	echo "$2" >"$nv_dir/driver_override" || { diag "$1: cannot set driver_override to $2"; return 1; }
	if [ -e "$nv_dir/driver" ] && [ ! -e "/sys/bus/pci/drivers/$2/$1" ]; then
		nv_sysfs 60 "$nv_dir/driver/unbind" "$1" || return 1
	fi
}

# nv_have_rnvme: whether the build has the rnvme module; says why the check is skipped if not.
nv_have_rnvme() {
	mp -n rnvme >/dev/null 2>&1 && return 0
	diag "no rnvme module in $MODROOT (CONFIG_BLK_DEV_RUST_NVME=m): SKIP"
	return 1
}

# nv_load MODULE: loads MODULE (which binds the controller whose driver_override names it).
nv_load() {
	grep -q "^$1 " /proc/modules && return 0
	nv_run 120 "loading $1" mp "$1"
}

# nv_unload_rnvme: unloads rnvme, once udev is done with its disk (blkid, run for a disk that
# was written and closed, holds it open, and the module with it).
nv_unload_rnvme() {
	udevadm settle --timeout=30 >/dev/null 2>&1
	nv_run 120 "unloading rnvme" mp -r rnvme
}

# nv_find_rust_disk: NV_DISK is rnvme's disk, rnvme<C>n1 (rnvme is only ever given the RUSTNVME0
# controller, whatever index C it got); fails if there is none, or more than one.
nv_find_rust_disk() {
	NV_DISK='' nv_all=''
	for nv_d in /sys/block/rnvme*n1; do
		[ -e "$nv_d" ] || continue
		NV_DISK=${nv_d##*/}
		nv_all="$nv_all $NV_DISK"
	done
	[ "$nv_all" = " $NV_DISK" ] && [ -n "$NV_DISK" ] && return 0
	[ -z "$NV_DISK" ] || NV_WHY="more than one rnvme disk:$nv_all"
	return 1
}

# nv_find_c_disk: NV_DISK is the disk of namespace 1 of the controller nvme drives (the
# controller's child nvmeXnY; or, should the kernel have NVMe multipath on, the head disk
# whose path that child is).
nv_find_c_disk() {
	NV_DISK=
	for nv_d in /sys/bus/pci/devices/"$NV_C_ADDR"/nvme/nvme*/nvme*n1; do
		[ -e "$nv_d/size" ] || continue
		case ${nv_d##*/} in
		nvme*c*n*)
			for nv_h in /sys/block/nvme*n1; do
				[ -e "$nv_h/multipath/${nv_d##*/}" ] && NV_DISK=${nv_h##*/}
			done
			;;
		*) NV_DISK=${nv_d##*/} ;;
		esac
	done
	[ -n "$NV_DISK" ]
}

# nv_wait_disk FINDER WHAT: waits (NVME_WAIT s at most) until FINDER finds a disk (NV_DISK) that
# has a size and a /dev node.
nv_wait_disk() {
	NV_WHY=
	udevadm settle --timeout="$NVME_WAIT" >/dev/null 2>&1
	nv_now
	nv_until=$((NV_NOW + NVME_WAIT))
	while :; do
		if $1 && [ -b "/dev/$NV_DISK" ] && [ -r "/sys/block/$NV_DISK/size" ] &&
			read -r nv_size <"/sys/block/$NV_DISK/size" && [ "$nv_size" -gt 0 ]; then
			return 0
		fi
		nv_now
		[ "$NV_NOW" -lt "$nv_until" ] || break
		sleep 0.2
	done
	diag "$2 did not appear within $NVME_WAIT s${NV_WHY:+ ($NV_WHY)}"
	return 1
}

# nv_wait_gone DISK WHAT: waits (10 s at most) until DISK is gone, after an unbind or unload.
nv_wait_gone() {
	nv_now
	nv_until=$((NV_NOW + 10))
	while [ -e "/sys/block/$1" ]; do
		nv_now
		[ "$NV_NOW" -lt "$nv_until" ] || { diag "$1 is still there 10 s after $2"; return 1; }
		sleep 0.2
	done
}

# nv_ready_rust: rnvme drives the RUSTNVME0 controller, and its disk (NV_RUST_DISK) is there.
# Returns 4 (skip) when the build has no rnvme.
nv_ready_rust() {
	nv_have_rnvme || return 4
	nv_controllers && nv_load rnvme || return 1
	if [ ! -e "$RNVME_DRV/$NV_RUST_ADDR" ]; then
		nv_sysfs 60 "$RNVME_DRV/bind" "$NV_RUST_ADDR" || { diag "rnvme does not bind $NV_RUST_ADDR"; return 1; }
	fi
	nv_wait_disk nv_find_rust_disk "rnvme's disk (controller $NV_RUST_ADDR)" || return 1
	NV_RUST_DISK=$NV_DISK
}

# nv_ready_c: nvme, the C twin, drives the CNVME0 controller, and its disk (NV_C_DISK) is there.
nv_ready_c() {
	nv_controllers && nv_load nvme || return 1
	if [ ! -e "$CNVME_DRV/$NV_C_ADDR" ]; then
		nv_sysfs 60 "$CNVME_DRV/bind" "$NV_C_ADDR" || { diag "nvme does not bind $NV_C_ADDR"; return 1; }
	fi
	nv_wait_disk nv_find_c_disk "the C driver's disk (controller $NV_C_ADDR)" || return 1
	NV_C_DISK=$NV_DISK
	# The C driver logs as "nvme nvmeX: ...", the name of its controller device.
	for nv_c in /sys/bus/pci/devices/"$NV_C_ADDR"/nvme/nvme*; do
		NV_C_LOG="nvme ${nv_c##*/}:"
	done
}

# nv_log_clean DISK ADDR [TEXT]: no kernel log line since mark_log names the disk, its
# controller's PCI address (or has TEXT) with an error, a failure or a timeout.
nv_log_clean() {
	nv_bad=$(new_log | grep -i -e error -e fail -e timeout | grep -F -e "$1" -e "$2" -e "${3:-$1}" |
		head -5)
	[ -z "$nv_bad" ] && return 0
	diag "the kernel log reports about $1 ($2):"
	echo "$nv_bad" | sed 's/^/#   /'
	return 1
}

# --- Helpers: fio and data ---------------------------------------------------------------------

# nv_engine: NV_ENGINE is fio's engine: libaio (the queue depth from one thread), else io_uring,
# else psync (one I/O in flight a job, which is said).
nv_engine() {
	nv_engines=$(fio --enghelp 2>/dev/null)
	if [ -e /proc/sys/fs/aio-max-nr ] && echo "$nv_engines" | grep -qx '[[:space:]]*libaio'; then
		NV_ENGINE=libaio
	elif [ -e /proc/sys/kernel/io_uring_disabled ] && echo "$nv_engines" | grep -qx '[[:space:]]*io_uring'; then
		NV_ENGINE=io_uring
	else
		NV_ENGINE=psync
		diag "note: neither libaio nor io_uring for fio here: psync, one I/O in flight a job"
	fi
}

# nv_fio WHAT FIO-OPTION...: runs fio (NVME_FIO_LIMIT s at most); passes if it exits with 0 and
# reports no error and no verification failure; prints its IOPS and bandwidth lines.
nv_fio() {
	nf_what=$1
	shift
	nv_bounded "$NVME_FIO_LIMIT" "$NV_TMP/fio.log" fio --thread --eta=never "$@"
	nf_rc=$?
	if [ $nf_rc -ne 0 ] || grep -q -e 'err= *[1-9]' -e 'verify: bad' -e 'verify failed' "$NV_TMP/fio.log"; then
		diag "fio, $nf_what, failed (exit $nf_rc):"
		grep -v -e '^ *|' -e 'multiple writers may overwrite' "$NV_TMP/fio.log" |
			grep -i -e err -e verify -e 'fio:' | head -8 | sed 's/^/#   /'
		return 1
	fi
	grep -E '^ *(read|write): IOPS=' "$NV_TMP/fio.log" | sed "s|^ *|# fio, $nf_what: |"
}

# nv_fio_verify DISK: random writes of mixed sizes (512 B to 256 KiB; QEMU's namespace has 512 B
# logical blocks) at queue depth 32 from 2 jobs, each in its own NVME_FIO_SIZE MiB after the
# first MiB, every block checked by a CRC32C (with its offset in its header: a write that landed
# elsewhere is caught) while writing (verify_backlog) and after.
nv_fio_verify() {
	nv_engine
	nv_fio "crc32c verify on $1" --name=verify --filename="/dev/$1" --direct=1 \
		--ioengine="$NV_ENGINE" --rw=randwrite \
		--bssplit=512/15:4k/35:8k/15:16k/10:64k/10:128k/10:256k/5 --iodepth=32 --numjobs=2 \
		--offset=1M --size="${NVME_FIO_SIZE}M" --offset_increment="${NVME_FIO_SIZE}M" \
		--verify=crc32c --verify_backlog=256 --verify_fatal=1 --do_verify=1 --group_reporting
}

# nv_expect DISK OFFSET LENGTH zero|a5 WHAT: the LENGTH bytes at OFFSET of DISK (both multiples
# of 512), read past the page cache, are all zero, or all 0xa5.
nv_expect() {
	nv_run 120 "reading $3 bytes at $2 of $1" dd if="/dev/$1" of="$NV_TMP/range" bs=1M \
		skip="$2" count="$3" iflag=direct,skip_bytes,count_bytes || return 1
	nv_len=$(wc -c <"$NV_TMP/range")
	if [ "$4" = zero ]; then
		nv_other=$(tr -d '\000' <"$NV_TMP/range" | wc -c) nv_byte=0
	else
		nv_other=$(tr -d '\245' <"$NV_TMP/range" | wc -c) nv_byte=0xa5
	fi
	[ "$nv_len" -eq "$3" ] || { diag "$5: read $nv_len of $3 bytes at offset $2"; return 1; }
	[ "$nv_other" -eq 0 ] && return 0
	diag "$5: $nv_other of the $3 bytes at offset $2 of $1 are not $nv_byte"
	return 1
}

# nv_discard_zeroes DISK: deallocate (blkdiscard: DSM) and write zeroes (blkdiscard -z) each
# zero exactly their range. The namespace says (DLFEAT) that deallocated blocks read as zeroes,
# and QEMU keeps that promise with discard=unmap (fork/vng.sh): they become a hole in the image.
nv_discard_zeroes() {
	nv_q=/sys/block/$1/queue
	read -r nv_dmax <"$nv_q/discard_max_bytes" && read -r nv_zmax <"$nv_q/write_zeroes_max_bytes" ||
		{ diag "cannot read $nv_q"; return 1; }
	[ "$nv_dmax" -gt 0 ] || { diag "$1 does not offer discard (queue/discard_max_bytes is 0)"; return 1; }
	[ "$nv_zmax" -gt 0 ] ||
		{ diag "$1 does not offer write zeroes (queue/write_zeroes_max_bytes is 0)"; return 1; }
	nv_mib=1048576
	# 56 to 96 MiB: 0xa5.
	nv_fio "fill with 0xa5" --name=fill --filename="/dev/$1" --direct=1 --ioengine=psync --rw=write \
		--bs=1M --offset=56M --size=40M --buffer_pattern=0xa5 --scramble_buffers=0 || return 1
	nv_expect "$1" $((56 * nv_mib)) $((40 * nv_mib)) a5 "after the fill" || return 1
	# Deallocate 64 to 72 MiB.
	nv_run 120 "blkdiscard of 64 to 72 MiB of $1" \
		blkdiscard -f -o $((64 * nv_mib)) -l $((8 * nv_mib)) "/dev/$1" || return 1
	# Write zeroes from 80 MiB + 512 to 84 MiB - 512 (not aligned to 4 KiB: whole sectors only).
	nv_run 120 "blkdiscard -z (write zeroes) of 80 MiB + 512 to 84 MiB - 512 of $1" \
		blkdiscard -f -z -o $((80 * nv_mib + 512)) -l $((4 * nv_mib - 1024)) "/dev/$1" || return 1
	nv_expect "$1" $((64 * nv_mib)) $((8 * nv_mib)) zero \
		"deallocated blocks (QEMU reads them as zeroes only with discard=unmap, fork/vng.sh)" ||
		return 1
	nv_expect "$1" $((80 * nv_mib + 512)) $((4 * nv_mib - 1024)) zero "written zeroes" || return 1
	# Nothing beyond the ranges changed, to the sector.
	nv_expect "$1" $((56 * nv_mib)) $((8 * nv_mib)) a5 "before the deallocated range" &&
		nv_expect "$1" $((72 * nv_mib)) $((8 * nv_mib + 512)) a5 "between the two ranges" &&
		nv_expect "$1" $((84 * nv_mib - 512)) $((12 * nv_mib + 512)) a5 "after the written zeroes"
}

# --- The Rust driver's checks ------------------------------------------------------------------

check_rnvme_probe() {
	nv_check nv_rnvme_probe
}
nv_rnvme_probe() {
	nv_have_rnvme || return 4
	nv_controllers || return 1
	# A probe of its own, whatever ran before.
	if grep -q '^rnvme ' /proc/modules; then
		nv_unload_rnvme || return 1
	fi
	mark_log
	nv_ready_rust || return 1
	# The C twin drives the other controller in the same boot.
	nv_ready_c || return 1
	[ -e "$RNVME_DRV/$NV_RUST_ADDR" ] && [ -e "$CNVME_DRV/$NV_C_ADDR" ] ||
		{ diag "expected rnvme on $NV_RUST_ADDR and nvme on $NV_C_ADDR"; return 1; }
	for nv_disk in "$NV_RUST_DISK" "$NV_C_DISK"; do
		read -r nv_size <"/sys/block/$nv_disk/size"
		read -r nv_lbs <"/sys/block/$nv_disk/queue/logical_block_size"
		[ "$nv_size" = $NV_SECTORS ] ||
			{ diag "$nv_disk has $nv_size sectors, the image $NV_SECTORS (512 MiB)"; return 1; }
		[ "$nv_lbs" = 512 ] || { diag "$nv_disk has $nv_lbs-byte logical blocks, QEMU's namespace 512"; return 1; }
	done
	# The controllers are the ones fork/vng.sh put behind those root ports.
	nv_serial=
	for nv_c in /sys/bus/pci/devices/"$NV_C_ADDR"/nvme/nvme*; do
		[ -r "$nv_c/serial" ] && read -r nv_serial <"$nv_c/serial"
	done
	[ "$nv_serial" = $NV_C_SERIAL ] ||
		{ diag "the controller at $NV_C_ADDR has serial '$nv_serial', expected $NV_C_SERIAL"; return 1; }
	new_log | grep rnvme | grep -q $NV_RUST_SERIAL || {
		diag "no probe line with rnvme and $NV_RUST_SERIAL in the kernel log; rnvme's lines:"
		new_log | grep rnvme | tail -5 | sed 's/^/#   /'
		return 1
	}
	# Both read, one after the other.
	nv_run 60 "a read of $NV_RUST_DISK" dd if="/dev/$NV_RUST_DISK" of=/dev/null bs=64k count=16 iflag=direct &&
		nv_run 60 "a read of $NV_C_DISK" dd if="/dev/$NV_C_DISK" of=/dev/null bs=64k count=16 iflag=direct ||
		return 1
	diag "rnvme: $NV_RUST_DISK on $NV_RUST_ADDR; nvme: $NV_C_DISK on $NV_C_ADDR; $NV_SECTORS sectors each"
	nv_log_clean "$NV_RUST_DISK" "$NV_RUST_ADDR" && nv_log_clean "$NV_C_DISK" "$NV_C_ADDR" "$NV_C_LOG"
}

check_rnvme_fio_verify() {
	nv_check nv_rnvme_fio_verify
}
nv_rnvme_fio_verify() {
	nv_ready_rust || return
	mark_log
	nv_fio_verify "$NV_RUST_DISK" && nv_log_clean "$NV_RUST_DISK" "$NV_RUST_ADDR"
}

check_rnvme_fio_pattern() {
	nv_check nv_rnvme_fio_pattern
}
nv_rnvme_fio_pattern() {
	nv_ready_rust || return
	mark_log
	nv_engine
	# A 4-byte pattern and each I/O's offset (%o), so that a write that landed elsewhere is
	# caught; sequential writes of 64 KiB, then fio reads everything back and checks it.
	set -- --filename="/dev/$NV_RUST_DISK" --direct=1 --ioengine="$NV_ENGINE" --rw=write --bs=64k \
		--iodepth=8 --offset=1M --size="${NVME_FIO_SIZE}M" --verify=pattern \
		--verify_pattern=0x5aa5c33c%o --verify_fatal=1
	nv_fio "pattern write and verify" --name=pattern "$@" --do_verify=1 || return 1
	# Another process reads it all back once more.
	nv_fio "pattern re-read" --name=pattern "$@" --verify_only=1 || return 1
	nv_log_clean "$NV_RUST_DISK" "$NV_RUST_ADDR"
}

check_rnvme_discard_zeroes() {
	nv_check nv_rnvme_discard_zeroes
}
nv_rnvme_discard_zeroes() {
	nv_ready_rust || return
	mark_log
	nv_discard_zeroes "$NV_RUST_DISK" && nv_log_clean "$NV_RUST_DISK" "$NV_RUST_ADDR"
}

# nv_tree DIR: writes a tree of 309 files into DIR: 240 of 1 to 192 KiB (fio: 6 jobs, one a
# folder, 40 files each), 8 of random bytes (dd from /dev/urandom, 0.5 to 4 MiB, odd sizes),
# 60 small ones and an empty one (the shell's builtins: a process costs a third of a second on
# the debug kernel).
nv_tree() {
	mkdir -p "$1/a" "$1/b/c" "$1/d/e/f" "$1/g" "$1/h/i" "$1/j" "$1/random" "$1/small" || return 1
	nv_run 300 "fio writing 240 files" fio --thread --eta=never --name=tree \
		--directory="$1/a:$1/b/c:$1/d/e/f:$1/g:$1/h/i:$1/j" --numjobs=6 --nrfiles=40 \
		--filesize=1k-192k --rw=write --bs=1k --ioengine=psync --openfiles=4 --create_on_open=1 ||
		return 1
	nv_i=1
	while [ $nv_i -le 8 ]; do
		nv_run 60 "dd writing $1/random/$nv_i" dd if=/dev/urandom of="$1/random/$nv_i" \
			bs=$((nv_i * 257 * 1024 + nv_i)) count=2 iflag=fullblock || return 1
		nv_i=$((nv_i + 1))
	done
	nv_s=0123456789abcdefghijklmnopqrstuvwxyz nv_i=0
	while [ $nv_i -lt 60 ]; do
		printf '%s\n' "$nv_s" >"$1/small/$nv_i" || return 1
		nv_s="$nv_s$nv_i$nv_s"
		[ ${#nv_s} -lt 4096 ] || nv_s=${nv_i}x
		nv_i=$((nv_i + 1))
	done
	: >"$1/small/empty"
}

# nv_sums FILE [DIR]: the SHA-256 of every file under DIR (default NV_MNT), in name order,
# into FILE.
nv_sums() {
	(cd "${2:-$NV_MNT}" && find . -type f | LC_ALL=C sort | xargs -r sha256sum) >"$1"
}

# nv_compare WHEN: the files under NV_MNT are those nv_sums wrote into NV_TMP/sums.0.
nv_compare() {
	nv_run 300 "checksumming the files $1" nv_sums "$NV_TMP/sums.now" || return 1
	cmp -s "$NV_TMP/sums.0" "$NV_TMP/sums.now" && return 0
	diag "the files differ $1:"
	diff "$NV_TMP/sums.0" "$NV_TMP/sums.now" | head -8 | sed 's/^/#   /'
	return 1
}

nv_mount() {
	nv_run 120 "mounting /dev/$NV_RUST_DISK on $NV_MNT" mount -t ext4 "/dev/$NV_RUST_DISK" "$NV_MNT"
}
nv_umount() {
	nv_run 120 "unmounting $NV_MNT" umount "$NV_MNT"
}

check_rnvme_ext4() {
	nv_check nv_rnvme_ext4
}
nv_rnvme_ext4() {
	nv_ready_rust || return
	grep -qw ext4 /proc/filesystems || { diag "the kernel has no ext4 (CONFIG_EXT4_FS)"; return 1; }
	mark_log
	NV_MNT=$(mktemp -d /tmp/rnvme-ext4.XXXXXX) || { diag "mktemp failed"; return 1; }
	# mkfs.ext4 deallocates the whole namespace first, and ext4 zeroes its inode tables in the
	# background (write zeroes).
	nv_run 300 "mkfs.ext4 on $NV_RUST_DISK" mkfs.ext4 -F -q "/dev/$NV_RUST_DISK" || return 1
	nv_mount || return 1
	nv_tree "$NV_MNT/tree" || return 1
	nv_run 300 "sync" sync || return 1
	nv_run 300 "checksumming the files" nv_sums "$NV_TMP/sums.0" || return 1
	nv_files=$(wc -l <"$NV_TMP/sums.0")
	nv_kib=$(du -sk "$NV_MNT/tree" | cut -f1)
	nv_umount || return 1
	# What follows reads from the device, not from the page cache.
	echo 3 >/proc/sys/vm/drop_caches
	nv_run 300 "fsck.ext4 -f -n on $NV_RUST_DISK" fsck.ext4 -f -n "/dev/$NV_RUST_DISK" || return 1
	nv_mount && nv_compare "after a remount" && nv_umount || return 1
	# A new probe of the controller: rnvme unloaded and loaded again.
	nv_unload_rnvme || return 1
	nv_wait_gone "$NV_RUST_DISK" "unloading rnvme" || return 1
	nv_ready_rust || return 1
	nv_mount && nv_compare "after reloading rnvme" && nv_umount || return 1
	diag "$nv_files files, $nv_kib KiB: the same after a remount and after reloading rnvme; fsck clean"
	nv_log_clean "$NV_RUST_DISK" "$NV_RUST_ADDR"
}

# nv_ios DISK: NV_IOS is the number of reads and writes DISK has completed.
nv_ios() {
	NV_IOS=0
	[ -r "/sys/block/$1/stat" ] && read -r nv_r _ _ _ nv_w _ <"/sys/block/$1/stat" &&
		NV_IOS=$((nv_r + nv_w))
}

# nv_wait_io DISK BEFORE SECONDS: waits until DISK has completed 32 I/Os more than BEFORE, at
# most SECONDS, while the background fio (NV_PIDS) runs.
nv_wait_io() {
	nv_now
	nv_until=$((NV_NOW + $3))
	while :; do
		nv_ios "$1"
		[ "$NV_IOS" -ge $(($2 + 32)) ] && return 0
		kill -0 "$NV_PIDS" 2>/dev/null || return 1
		nv_now
		[ "$NV_NOW" -lt "$nv_until" ] || return 1
		sleep 0.2
	done
}

check_rnvme_unbind_under_io() {
	nv_check nv_rnvme_unbind_under_io
}
nv_rnvme_unbind_under_io() {
	nv_ready_rust || return
	nv_engine
	nu_round=0 nu_endings='' nu_slowest=0
	while [ $nu_round -lt "$NVME_UNBIND_ROUNDS" ]; do
		nu_disk=$NV_RUST_DISK
		nu_log=$NV_TMP/unbind.$nu_round.log
		nv_ios "$nu_disk"
		nu_before=$NV_IOS
		# Random reads and writes at queue depth 16 that would last 5 minutes; they end with the
		# first error (continue_on_error=none), which the unbind brings.
		fio --thread --eta=never --name=unbind --filename="/dev/$nu_disk" --direct=1 \
			--ioengine="$NV_ENGINE" --rw=randrw --bs=4k --iodepth=16 --offset=1M --size=64M \
			--time_based --runtime=300 --continue_on_error=none >"$nu_log" 2>&1 </dev/null &
		NV_PIDS=$!
		nv_wait_io "$nu_disk" "$nu_before" 30 || {
			diag "round $nu_round: fio did no I/O on $nu_disk within 30 s:"
			tail -5 "$nu_log" | sed 's/^/#   /'
			return 1
		}
		# Unbind at a different moment of the I/O each round.
		nu_pause=$((nu_round % 5))
		[ $nu_pause -eq 0 ] || sleep "0.$nu_pause"
		nv_now
		nu_t0=$NV_NOW
		nv_sysfs 60 "$RNVME_DRV/unbind" "$NV_RUST_ADDR" ||
			{ diag "round $nu_round: unbinding $NV_RUST_ADDR under I/O failed"; return 1; }
		nv_wait_pid "$NV_PIDS" 60 ||
			{ diag "round $nu_round: fio still runs 60 s after the unbind (an I/O never ended?)"; return 1; }
		wait "$NV_PIDS"
		NV_PIDS=
		nv_now
		[ $((NV_NOW - nu_t0)) -le "$nu_slowest" ] || nu_slowest=$((NV_NOW - nu_t0))
		nu_end=$(sed -n 's/.*err= *\([0-9]*\).*/\1/p' "$nu_log" | head -1)
		nu_endings="$nu_endings err=${nu_end:-?}"
		nv_wait_gone "$nu_disk" "the unbind of round $nu_round" || return 1
		nv_sysfs 60 "$RNVME_DRV/bind" "$NV_RUST_ADDR" ||
			{ diag "round $nu_round: binding $NV_RUST_ADDR again failed"; return 1; }
		nv_wait_disk nv_find_rust_disk "rnvme's disk after the bind of round $nu_round" || return 1
		NV_RUST_DISK=$NV_DISK
		nu_round=$((nu_round + 1))
	done
	diag "$NVME_UNBIND_ROUNDS unbinds under fio, which ended within $nu_slowest s of the unbind, with:" \
		"$(echo "$nu_endings" | tr ' ' '\n' | grep . | sort | uniq -c |
			awk '{ printf "%s%s x %s", (NR > 1 ? ", " : ""), $1, $2 }')"
	# The disk works after all that.
	mark_log
	nv_run 60 "a read of $NV_RUST_DISK after the unbinds" \
		dd if="/dev/$NV_RUST_DISK" of=/dev/null bs=64k count=16 iflag=direct || return 1
	nv_fio "a 4 MiB verify after the unbinds" --name=after --filename="/dev/$NV_RUST_DISK" \
		--direct=1 --ioengine="$NV_ENGINE" --rw=randwrite --bs=4k --iodepth=16 --offset=1M \
		--size=4M --verify=crc32c --verify_fatal=1 || return 1
	nv_log_clean "$NV_RUST_DISK" "$NV_RUST_ADDR"
}

# nv_cli DISK CMD WHAT: runs `nvme CMD /dev/DISK` (nvme-cli), its output into NV_TMP/CMD.DISK.
nv_cli() {
	nv_bounded 60 "$NV_TMP/$2.$1" nvme "$2" "/dev/$1" && [ -s "$NV_TMP/$2.$1" ] && return 0
	diag "nvme $2 /dev/$1 ($3) failed:"
	tail -5 "$NV_TMP/$2.$1" | sed 's/^/#   /'
	return 1
}

# nv_cli_same CMD FILTER: the outputs of `nvme CMD` for both disks are the same, but for the
# lines FILTER (an extended regular expression) picks out, when it starts with !, or only in
# those lines otherwise.
nv_cli_same() {
	case $2 in
	!*) nc_pick() { grep -Ev "${2#!}" "$1"; } ;;
	*) nc_pick() { grep -E "$2" "$1"; } ;;
	esac
	nc_pick "$NV_TMP/$1.$NV_RUST_DISK" "$2" >"$NV_TMP/$1.rust"
	nc_pick "$NV_TMP/$1.$NV_C_DISK" "$2" >"$NV_TMP/$1.c"
	[ -s "$NV_TMP/$1.rust" ] || { diag "nvme $1: nothing to compare"; return 1; }
	cmp -s "$NV_TMP/$1.rust" "$NV_TMP/$1.c" && return 0
	diag "nvme $1 answers differently for rnvme ($NV_RUST_DISK) and nvme ($NV_C_DISK):"
	diff "$NV_TMP/$1.c" "$NV_TMP/$1.rust" | head -8 | sed 's/^/#   /'
	return 1
}

# nv_smart DISK FIELD: NV_VALUE is FIELD of `nvme smart-log` for DISK (digits only).
nv_smart() {
	nv_cli "$1" smart-log "$2" || return 1
	NV_VALUE=$(sed -n "s/^$2[[:space:]]*: *//p" "$NV_TMP/smart-log.$1" | tr -dc 0-9)
	[ -n "$NV_VALUE" ] || { diag "no $2 in nvme smart-log /dev/$1"; return 1; }
}

check_rnvme_nvme_cli() {
	nv_check nv_rnvme_nvme_cli
}
# nvme-cli's id-ctrl, id-ns and smart-log through rnvme's disk answer as through the C driver's
# (QEMU's two controllers differ in their serial number, the NQN made of it, and the
# namespaces' generated identifiers); the SMART log counts rnvme's writes; the ioctls' refusals
# and errnos (nvme_ioctl.py check); and a file open across an unbind (nvme_ioctl.py unbind).
nv_rnvme_nvme_cli() {
	command -v nvme >/dev/null || { diag "nvme-cli is not installed on the host (fork/setup installs it)"; return 1; }
	command -v python3 >/dev/null || { diag "python3 is not installed on the host"; return 1; }
	nv_ready_rust || return
	nv_ready_c || return 1
	mark_log
	for nv_disk in "$NV_RUST_DISK" "$NV_C_DISK"; do
		nv_cli "$nv_disk" id-ctrl "Identify Controller" && nv_cli "$nv_disk" id-ns "Identify Namespace" &&
			nv_cli "$nv_disk" smart-log "SMART log" || return 1
	done
	nv_cli_same id-ctrl '!^(sn|subnqn) ' && nv_cli_same id-ns '!^(nguid|eui64|uuid) ' &&
		nv_cli_same smart-log '^(critical_warning|available_spare|available_spare_threshold|percentage_used|media_errors)[[:space:]]' ||
		return 1
	grep -q "^sn *: *$NV_RUST_SERIAL" "$NV_TMP/id-ctrl.$NV_RUST_DISK" ||
		{ diag "nvme id-ctrl /dev/$NV_RUST_DISK does not show the serial $NV_RUST_SERIAL"; return 1; }
	# The SMART log counts the write commands rnvme sends: 64 direct writes of 4 KiB (past
	# the first MiB) add at least 64.
	nv_smart "$NV_RUST_DISK" host_write_commands || return 1
	nv_before=$NV_VALUE
	nv_run 60 "64 writes to $NV_RUST_DISK" dd if=/dev/zero of="/dev/$NV_RUST_DISK" bs=4k count=64 \
		seek=256 oflag=direct || return 1
	nv_smart "$NV_RUST_DISK" host_write_commands || return 1
	[ $((NV_VALUE - nv_before)) -ge 64 ] ||
		{ diag "host_write_commands went from $nv_before to $NV_VALUE after 64 writes"; return 1; }
	# OACS (the optional admin commands: bit 8, the doorbell buffer config that the C driver
	# uses when offered) is recorded for the benchmark's notes.
	diag "nvme-cli: id-ctrl, id-ns and smart-log alike for both drivers; host_write_commands" \
		"$nv_before -> $NV_VALUE; oacs $(sed -n 's/^oacs *: *//p' "$NV_TMP/id-ctrl.$NV_RUST_DISK")"
	nv_run 120 "nvme_ioctl.py check" python3 "$HERE/nvme_ioctl.py" check "/dev/$NV_RUST_DISK" \
		"$NV_RUST_SERIAL" "$NV_SECTORS" || return 1
	grep '^#' "$NV_TMP/run.log"
	nv_run 120 "nvme_ioctl.py unbind" python3 "$HERE/nvme_ioctl.py" unbind "/dev/$NV_RUST_DISK" \
		"$NV_RUST_ADDR" || return 1
	grep '^#' "$NV_TMP/run.log"
	nv_wait_gone "$NV_RUST_DISK" "the unbind" && nv_ready_rust || return 1
	nv_log_clean "$NV_RUST_DISK" "$NV_RUST_ADDR"
}

# --- The C twin, held to the same checks -------------------------------------------------------

check_rnvme_timeout_recovery() {
	nv_check nv_rnvme_timeout_recovery
}
# A forced timeout: fail_io_timeout drops the completion of one read (the device did it, the
# driver never hears of it), the 2 s request timeout fires, and rnvme resets the controller:
# the read fails with EIO, the reset is logged, and I/O works again afterwards.
nv_rnvme_timeout_recovery() {
	nv_fi=/sys/kernel/debug/fail_io_timeout
	mountpoint -q /sys/kernel/debug 2>/dev/null || mount -t debugfs none /sys/kernel/debug 2>/dev/null
	[ -d "$nv_fi" ] || { diag "no $nv_fi (CONFIG_FAIL_IO_TIMEOUT): SKIP"; return 4; }
	nv_ready_rust || return
	nv_q=/sys/block/$NV_RUST_DISK
	read -r nv_old_timeout <"$nv_q/queue/io_timeout"
	mark_log
	nv_echo 2000 "$nv_q/queue/io_timeout" &&
		nv_echo 100 "$nv_fi/probability" && nv_echo 0 "$nv_fi/interval" &&
		nv_echo 1 "$nv_fi/times" && nv_echo 0 "$nv_fi/verbose" &&
		nv_echo 1 "$nv_q/io-timeout-fail" || { diag "cannot arm fail_io_timeout"; return 1; }
	nv_bounded 60 "$NV_TMP/dd.log" dd if="/dev/$NV_RUST_DISK" of=/dev/null bs=4k count=1 iflag=direct
	nv_rc=$?
	nv_echo 0 "$nv_q/io-timeout-fail"
	nv_echo "$nv_old_timeout" "$nv_q/queue/io_timeout"
	if [ $nv_rc -eq 0 ]; then
		diag "the read whose completion was dropped succeeded: no timeout was injected"
		return 1
	fi
	grep -q 'Input/output error' "$NV_TMP/dd.log" ||
		{ diag "the timed-out read did not fail with EIO:"; sed 's/^/#   /' "$NV_TMP/dd.log"; return 1; }
	expect_log "timed out: controller reset, pending I/O failed" || return 1
	# Working I/O afterwards, data checked.
	nv_run 60 "a read after the reset" dd if="/dev/$NV_RUST_DISK" of=/dev/null bs=64k count=16 iflag=direct ||
		return 1
	nv_size=$NVME_FIO_SIZE
	NVME_FIO_SIZE=16
	nv_fio_verify "$NV_RUST_DISK"
	nv_rc=$?
	NVME_FIO_SIZE=$nv_size
	[ $nv_rc -eq 0 ] || return 1
	# The reset's own log lines are expected; nothing else may show.
	nv_bad=$(new_log | splat_lines | head -5)
	[ -z "$nv_bad" ] || { diag "the kernel log shows:"; echo "$nv_bad" | sed 's/^/#   /'; return 1; }
}

check_nvme_c_twin_fio_verify() {
	nv_check nv_c_fio_verify
}
nv_c_fio_verify() {
	nv_ready_c || return 1
	mark_log
	nv_fio_verify "$NV_C_DISK" && nv_log_clean "$NV_C_DISK" "$NV_C_ADDR" "$NV_C_LOG"
}

# The control of check_rnvme_discard_zeroes: if the C driver's deallocated blocks do not read
# as zeroes either, QEMU's image is the cause (see nv_discard_zeroes), not rnvme.
check_nvme_c_twin_discard_zeroes() {
	nv_check nv_c_discard_zeroes
}
nv_c_discard_zeroes() {
	nv_ready_c || return 1
	mark_log
	nv_discard_zeroes "$NV_C_DISK" && nv_log_clean "$NV_C_DISK" "$NV_C_ADDR" "$NV_C_LOG"
}

check_rnvme_reboot() {
	nv_check nv_rnvme_reboot
}
# The data survives a reboot, in two boots (this is the last check that writes rnvme's disk:
# the others overwrite it). In a run of the guest checks (NVME_REBOOT unset) it writes ext4
# with the tree of nv_tree, and in .reboot/ at its root the SHA-256 of the tree's files and
# this boot's identifier, and unmounts it. fork/test then boots the guest again with
# NVME_REBOOT=verify, and there it checks: fsck -f clean, written by another boot, every file
# there with its sum.
nv_rnvme_reboot() {
	nv_ready_rust || return
	grep -qw ext4 /proc/filesystems || { diag "the kernel has no ext4 (CONFIG_EXT4_FS)"; return 1; }
	read -r nv_boot </proc/sys/kernel/random/boot_id || { diag "no boot_id"; return 1; }
	mark_log
	NV_MNT=$(mktemp -d /tmp/rnvme-reboot.XXXXXX) || { diag "mktemp failed"; return 1; }
	if [ "${NVME_REBOOT:-}" = verify ]; then
		nv_run 300 "fsck.ext4 -f -n on $NV_RUST_DISK after the reboot" \
			fsck.ext4 -f -n "/dev/$NV_RUST_DISK" || return 1
		nv_mount || return 1
		[ -r "$NV_MNT/.reboot/boot_id" ] && [ -r "$NV_MNT/.reboot/sums" ] || {
			diag "no .reboot/ on $NV_RUST_DISK: the boot before did not run check_rnvme_reboot"
			return 1
		}
		read -r nv_then <"$NV_MNT/.reboot/boot_id"
		[ "$nv_then" != "$nv_boot" ] || { diag "the data was written in this very boot"; return 1; }
		nv_run 300 "checksumming the files" nv_sums "$NV_TMP/sums.now" "$NV_MNT/tree" || return 1
		cmp -s "$NV_MNT/.reboot/sums" "$NV_TMP/sums.now" || {
			diag "the files differ after the reboot:"
			diff "$NV_MNT/.reboot/sums" "$NV_TMP/sums.now" | head -8 | sed 's/^/#   /'
			return 1
		}
		diag "$(wc -l <"$NV_TMP/sums.now") files written in boot $nv_then, the same in boot $nv_boot; fsck clean"
		nv_umount || return 1
	else
		nv_run 300 "mkfs.ext4 on $NV_RUST_DISK" mkfs.ext4 -F -q "/dev/$NV_RUST_DISK" || return 1
		nv_mount || return 1
		nv_tree "$NV_MNT/tree" && mkdir "$NV_MNT/.reboot" || return 1
		nv_run 300 "checksumming the files" nv_sums "$NV_TMP/sums.0" "$NV_MNT/tree" &&
			cp "$NV_TMP/sums.0" "$NV_MNT/.reboot/sums" || return 1
		echo "$nv_boot" >"$NV_MNT/.reboot/boot_id" || return 1
		nv_umount || return 1
		diag "ext4 with $(wc -l <"$NV_TMP/sums.0") files written in boot $nv_boot; a second boot (fork/test) checks them"
	fi
	nv_log_clean "$NV_RUST_DISK" "$NV_RUST_ADDR"
}
