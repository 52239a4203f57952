#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Guest-side checks of the linux-rust-lts kernel, run inside the QEMU guest by fork/boot.
# Loads and exercises the Rust samples and drivers (and their C twins) and reports in KTAP.
#
# Usage (in the guest): rust-checks.sh MODROOT [SELECTION...]
#   MODROOT is the INSTALL_MOD_PATH the host installed the kernel's modules into.
#   SELECTION: which checks run (default: all). A glob is matched against the check names
#   (edu_* is every functional check of the edu driver); a plain word W selects W itself and
#   every check whose name has W as a part: W_*, *_W_* and *_W (edu: the edu driver's
#   functional, fault-injection, fuzzing and removal checks). The leak and kernel-log checks
#   always run last.
#
# Each check is a shell function named check_*; a check passes when it returns 0, and prints
# its own diagnostics (KTAP "# " lines) otherwise; it is skipped when it returns 4 (and says
# why). More checks can be dropped into checks.d/*.sh next to this script: every check_*
# function they define is run too.

MODROOT=${1:?usage: rust-checks.sh MODROOT [SELECTION...]}
shift
SELECTION=$*
HERE=$(cd "$(dirname "$0")" && pwd)
export PATH=/usr/sbin:/usr/bin:/sbin:/bin:$PATH

diag() { echo "# $*"; }

mp() { modprobe -d "$MODROOT" "$@"; }

# The kernel log's reports of problems (splats): the lines of stdin that splat-patterns matches.
SPLAT_RE=$(grep -v -e '^[[:space:]]*#' -e '^[[:space:]]*$' "$HERE/splat-patterns" | paste -s -d '|')
splat_lines() { grep -E "$SPLAT_RE"; }

# Kernel log lines added since mark_log was called: those after a marker line it writes to the
# log (all of the log if the marker has been overwritten: a superset, never a line too few).
mark_log() {
	LOG_MARK="rust-checks: mark $$.$(date +%s%N)"
	echo "$LOG_MARK" >/dev/kmsg
}
new_log() {
	dmesg | awk -v m="$LOG_MARK" '{ l[NR] = $0 } m != "" && index($0, m) { s = NR } END { for (i = s + 1; i <= NR; i++) print l[i] }'
}
expect_log() {
	if ! new_log | grep -qF -- "$1"; then
		diag "expected in the kernel log: $1"
		return 1
	fi
}

check_kernel_is_the_fork() {
	uname -r | grep -q '^6\.12\.' || { diag "running $(uname -r), not 6.12"; return 1; }
	[ -d "$MODROOT/lib/modules/$(uname -r)" ] ||
		{ diag "no modules for $(uname -r) under $MODROOT"; return 1; }
}

check_rust_minimal_load_unload() {
	mark_log
	mp rust_minimal || return 1
	expect_log "Rust minimal sample (init)" || return 1
	expect_log "Am I built-in? false" || return 1
	mp -r rust_minimal || return 1
	expect_log "My numbers are [72, 108, 200]" || return 1
	expect_log "Rust minimal sample (exit)"
}

check_rust_print_formats() {
	mark_log
	mp rust_print || return 1
	mp -r rust_print || return 1
	expect_log "Rust printing macros sample (init)" || return 1
	expect_log "Info message (level 6) with args" || return 1
	expect_log "A line that is continued with args" || return 1
	expect_log "Rust printing macros sample (exit)"
}

check_module_reload_cycles() {
	i=0
	while [ $i -lt 20 ]; do
		mp rust_minimal && mp -r rust_minimal || { diag "cycle $i failed"; return 1; }
		i=$((i + 1))
	done
	! grep -q '^rust_minimal ' /proc/modules
}

# Writes 1 MiB to a block device and reads it back. The null devices discard data, so this
# checks that I/O completes, not its content.
block_io() {
	dev=$1
	[ -b "$dev" ] || { diag "$dev is not a block device"; return 1; }
	dd if=/dev/urandom of="$dev" bs=4096 count=256 oflag=direct 2>/dev/null ||
		{ diag "write to $dev failed"; return 1; }
	dd if="$dev" of=/dev/null bs=4096 count=256 iflag=direct 2>/dev/null ||
		{ diag "read from $dev failed"; return 1; }
	[ "$(cat /sys/block/"${dev#/dev/}"/size)" -gt 0 ] || { diag "$dev has no size"; return 1; }
}

check_rnull_block_io() {
	mp rnull_mod || return 1
	udevadm settle 2>/dev/null
	block_io /dev/rnullb0
	rc=$?
	mp -r rnull_mod || return 1
	[ ! -e /sys/block/rnullb0 ] || { diag "rnullb0 still there after unload"; return 1; }
	return $rc
}

# A disk open in user space pins the Rust driver's module: closing it afterwards must not call
# into an unloaded module (the block device operations are the kernel's, and their open takes a
# module reference).
check_rnull_pinned_while_open() {
	mp rnull_mod || return 1
	udevadm settle 2>/dev/null
	exec 3</dev/rnullb0 || { diag "cannot open /dev/rnullb0"; mp -r rnull_mod; return 1; }
	if rmmod rnull_mod 2>/dev/null; then
		exec 3<&-
		diag "rnull_mod was unloaded while /dev/rnullb0 was open"
		return 1
	fi
	exec 3<&-
	rmmod rnull_mod || { diag "rnull_mod cannot be unloaded after the close"; return 1; }
}

check_null_blk_block_io() {
	mp null_blk nr_devices=1 || return 1
	udevadm settle 2>/dev/null
	block_io /dev/nullb0
	rc=$?
	mp -r null_blk || return 1
	return $rc
}

for f in "$HERE"/checks.d/*.sh; do
	[ -f "$f" ] && . "$f"
done

# Leaks first: clear what boot left behind, so the scan at the end sees only our checks.
KMEMLEAK=/sys/kernel/debug/kmemleak
mountpoint -q /sys/kernel/debug 2>/dev/null || mount -t debugfs none /sys/kernel/debug 2>/dev/null
# The periodic scan is stopped: under TCG a scan of the guest's memory keeps a CPU busy for
# minutes (and doubles the time of a bind on the debug kernel); check_no_kmemleak scans itself.
[ -w "$KMEMLEAK" ] && echo scan=off >"$KMEMLEAK" && echo clear >"$KMEMLEAK"

check_no_kmemleak() {
	[ -w "$KMEMLEAK" ] || { diag "kmemleak not available: SKIP"; return 0; }
	# Objects become leak candidates only after they have been unreferenced for a while.
	sleep 6
	echo scan >"$KMEMLEAK"
	echo scan >"$KMEMLEAK"
	leaks=$(grep -c '^unreferenced object' "$KMEMLEAK")
	if [ "$leaks" -ne 0 ]; then
		diag "kmemleak reports $leaks unreferenced object(s):"
		sed 's/^/# /' "$KMEMLEAK" | head -60
		return 1
	fi
}

check_kernel_log_clean() {
	bad=$(dmesg | splat_lines | head -20)
	[ -z "$bad" ] && return 0
	diag "the kernel log shows:"
	echo "$bad" | sed 's/^/# /'
	return 1
}

echo "KTAP version 1"
checks=$(sed -n 's/^\(check_[a-z0-9_]*\)() {$/\1/p' "$0" "$HERE"/checks.d/*.sh 2>/dev/null |
	grep -v -e '^check_no_kmemleak$' -e '^check_kernel_log_clean$')

# selected NAME: whether the check NAME (without check_) is in $SELECTION.
selected() {
	[ -z "$SELECTION" ] && return 0
	for s in $SELECTION; do
		case $s in
		*[*?[]*) case $1 in $s) return 0 ;; esac ;;
		*) case $1 in "$s" | "$s"_* | *_"$s"_* | *_"$s") return 0 ;; esac ;;
		esac
	done
	return 1
}
picked=
for c in $checks; do
	selected "${c#check_}" && picked="$picked $c"
done
if [ -z "$picked" ]; then
	echo "# no check matches: $SELECTION"
	echo "# guest checks: 0 passed, 1 failed"
	exit 1
fi
checks="$picked check_no_kmemleak check_kernel_log_clean"
n=0
failed=0
skipped=0
for c in $checks; do
	n=$((n + 1))
	t0=$(date +%s)
	out=$($c 2>&1)
	rc=$?
	[ -n "$out" ] && echo "$out"
	echo "# ${c#check_}: $(($(date +%s) - t0)) s"
	if [ $rc -eq 0 ]; then
		echo "ok $n ${c#check_}"
	elif [ $rc -eq 4 ]; then
		echo "ok $n ${c#check_} # SKIP"
		skipped=$((skipped + 1))
	else
		echo "not ok $n ${c#check_}"
		failed=$((failed + 1))
	fi
done
echo "1..$n"
echo "# guest checks: $((n - failed - skipped)) passed, $failed failed, $skipped skipped"
[ $failed -eq 0 ]
