# SPDX-License-Identifier: GPL-2.0
#
# Guest checks of the misc device abstraction with samples/rust/rust_misc_device.rs, sourced by
# rust-checks.sh. The ioctls are issued with the host's python3 (the guest runs on its root).

MISC_DEV=/dev/rust-misc-sample

check_misc_sample_file_operations() {
	mark_log
	mp rust_misc_device || return 1
	[ -c "$MISC_DEV" ] || { diag "$MISC_DEV missing"; return 1; }
	new_log | grep -q "/dev/rust-misc-sample registered, minor [0-9]" ||
		{ diag "no registration report"; return 1; }
	printf 'hello, misc' >"$MISC_DEV" || { diag "write failed"; return 1; }
	got=$(head -c 11 "$MISC_DEV")
	[ "$got" = "hello, misc" ] || { diag "read back '$got'"; return 1; }
	# Writes at an offset land there; reads stop at the end of the 4 KiB file.
	printf 'XY' | dd of="$MISC_DEV" bs=1 seek=4094 conv=notrunc 2>/dev/null || { diag "dd at 4094 failed"; return 1; }
	got=$(dd if="$MISC_DEV" bs=1 skip=4094 count=10 2>/dev/null)
	[ "$got" = "XY" ] || { diag "tail read '$got'"; return 1; }
	size=$(wc -c <"$MISC_DEV")
	[ "$size" -eq 4096 ] || { diag "file reads as $size bytes"; return 1; }
	python3 - "$MISC_DEV" <<'PY' || return 1
import errno, fcntl, os, struct, sys
fd = os.open(sys.argv[1], os.O_RDWR)
def expect_errno(e, f, *a):
    try:
        f(*a)
    except OSError as x:
        if x.errno == e:
            return
        sys.exit(f"# {f.__name__}{a[1:]}: errno {x.errno}, expected {e}")
    sys.exit(f"# {f.__name__}{a[1:]}: succeeded, expected errno {e}")
os.pread(fd, 11, 0)
moved = struct.unpack("Q", fcntl.ioctl(fd, 0x80087C81, bytes(8)))[0]
if moved != 11:
    sys.exit(f"# moved {moved} bytes, expected 11")
fcntl.ioctl(fd, 0x7C80)
if os.pread(fd, 11, 0) != bytes(11):
    sys.exit("# the clear ioctl did not clear")
expect_errno(errno.ENOTTY, fcntl.ioctl, fd, 0x7C99)
expect_errno(errno.EINVAL, os.lseek, fd, 4097, os.SEEK_SET)
expect_errno(errno.EINVAL, os.pread, fd, 1, 5000)
expect_errno(errno.ENOSPC, os.pwrite, fd, b"x", 4096)
if os.lseek(fd, -1, os.SEEK_END) != 4095:
    sys.exit("# SEEK_END")
os.close(fd)
PY
	mp -r rust_misc_device || return 1
	[ ! -e "$MISC_DEV" ] || { diag "$MISC_DEV still exists after unload"; return 1; }
}

check_misc_user_errors_rate_limited() {
	mp rust_misc_device || return 1
	mark_log
	python3 - "$MISC_DEV" <<'PY' || return 1
import fcntl, os, sys
fd = os.open(sys.argv[1], os.O_RDWR)
for _ in range(200):
    for f, a in ((os.lseek, (fd, 5000, os.SEEK_SET)), (fcntl.ioctl, (fd, 0x5401, bytes(64)))):
        try:
            f(*a)
            sys.exit(f"# {f.__name__} succeeded")
        except OSError:
            pass
os.close(fd)
PY
	mp -r rust_misc_device || return 1
	seeks=$(new_log | grep -c 'outside the file')
	tty=$(new_log | grep -c 'unknown ioctl')
	# 200 bad seeks take a second or two: at most a burst of 10 per 5 s period gets through.
	[ "$seeks" -ge 1 ] && [ "$seeks" -le 20 ] && [ "$tty" -eq 0 ] ||
		{ diag "200 bad seeks logged $seeks lines, 200 TCGETS $tty"; return 1; }
	diag "200 bad seeks logged $seeks lines, 200 TCGETS none"
}
