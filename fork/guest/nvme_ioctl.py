#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""fork/guest/nvme_ioctl.py: the NVMe ioctls of a disk, checked answer by answer and errno by
errno (from fork/guest/checks.d/nvme.sh, in the guest).

Usage:
  nvme_ioctl.py check DEV SERIAL SECTORS   the ioctls nvme-cli uses, and the refusals
  nvme_ioctl.py unbind DEV PCI-ADDR        a file open across the driver's unbind gets ENXIO

Prints one line per finding ("# ..."); exits with 0 when everything was as expected.
"""
import ctypes
import errno
import fcntl
import os
import struct
import sys


def ioc(direction, nr, size):
    return (direction << 30) | (size << 16) | (ord("N") << 8) | nr


NVME_IOCTL_ID = ioc(0, 0x40, 0)
NVME_IOCTL_ADMIN_CMD = ioc(3, 0x41, 72)
NVME_IOCTL_ADMIN64_CMD = ioc(3, 0x47, 80)
PASSTHRU = "=BBHIIIQQII6III"
PASSTHRU64 = "=BBHIIIQQII6IIIQ"

failures = []


def fail(what):
    failures.append(what)
    print(f"# FAIL: {what}")


def admin(fd, opcode, nsid=0, cdw10=0, cdw11=0, data_len=0, flags=0, metadata_len=0,
          wide=False, addr=None, data=b""):
    """Runs an admin command; returns (ioctl value, result, data) or raises OSError."""
    buf = ctypes.create_string_buffer(max(data_len, len(data), 1))
    buf[:len(data)] = data
    if addr is None:
        addr = ctypes.addressof(buf) if data_len else 0
    fields = [opcode, flags, 0, nsid, 0, 0, 0, addr, metadata_len, data_len,
              cdw10, cdw11, 0, 0, 0, 0, 0]
    fmt = PASSTHRU64 if wide else PASSTHRU
    raw = bytearray(struct.pack(fmt, *fields, 0, 0) if wide else struct.pack(fmt, *fields, 0))
    ret = fcntl.ioctl(fd, NVME_IOCTL_ADMIN64_CMD if wide else NVME_IOCTL_ADMIN_CMD, raw, True)
    result = struct.unpack(fmt, raw)[-1]
    return ret, result, buf.raw[:data_len]


def expect_errno(what, code, fn, *args, **kw):
    try:
        ret = fn(*args, **kw)
    except OSError as e:
        if e.errno != code:
            fail(f"{what}: {errno.errorcode.get(e.errno, e.errno)}, expected {errno.errorcode[code]}")
        return
    fail(f"{what}: returned {ret!r}, expected {errno.errorcode[code]}")


def identify_ctrl(fd, wide=False):
    return admin(fd, 0x06, cdw10=0x01, data_len=4096, wide=wide)


def check(dev, serial, sectors):
    fd = os.open(dev, os.O_RDONLY)
    nsid = fcntl.ioctl(fd, NVME_IOCTL_ID)
    if nsid != 1:
        fail(f"NVME_IOCTL_ID: {nsid}, expected 1")
    ret, _, idc = identify_ctrl(fd)
    sn = idc[4:24].decode(errors="replace").strip()
    vid = struct.unpack_from("<H", idc, 0)[0]
    if ret != 0 or sn != serial or vid != 0x1b36:
        fail(f"Identify Controller: status {ret:#x}, serial {sn!r}, vendor {vid:#x}")
    ret64, _, idc64 = identify_ctrl(fd, wide=True)
    if ret64 != 0 or idc64 != idc:
        fail("Identify Controller through NVME_IOCTL_ADMIN64_CMD differs")
    ret, _, idn = admin(fd, 0x06, nsid=1, cdw10=0x00, data_len=4096)
    nsze = struct.unpack_from("<Q", idn, 0)[0]
    lbads = idn[128 + 4 * (idn[26] & 0xf) + 2]
    if ret != 0 or nsze << (lbads - 9) != sectors:
        fail(f"Identify Namespace 1: status {ret:#x}, {nsze} blocks of 2^{lbads}")
    # The SMART log (512 bytes, NUMDL 127) of the controller.
    ret, _, smart = admin(fd, 0x02, nsid=0xffffffff, cdw10=(127 << 16) | 0x02, data_len=512)
    if ret != 0 or smart == bytes(512):
        fail(f"Get Log Page (SMART): status {ret:#x}, {'all zero' if smart == bytes(512) else 'data'}")
    # Get Features, number of queues: the result dword, 0's based counts.
    ret, result, _ = admin(fd, 0x0a, cdw10=0x07)
    queues = len(os.listdir(f"/sys/block/{os.path.basename(dev)}/mq"))
    if ret != 0 or (result & 0xffff) + 1 < queues or (result >> 16) + 1 < queues:
        fail(f"Get Features (number of queues): status {ret:#x}, result {result:#x}, {queues} queues")
    ret64, result64, _ = admin(fd, 0x0a, cdw10=0x07, wide=True)
    if ret64 != 0 or result64 != result:
        fail(f"Get Features through NVME_IOCTL_ADMIN64_CMD: {result64:#x}, expected {result:#x}")
    # An error status of the controller comes back as the ioctl's value: Identify of a CNS
    # QEMU does not know is Invalid Field in Command (0x2), with Do Not Retry.
    ret, _, _ = admin(fd, 0x06, cdw10=0xff, data_len=4096)
    if ret <= 0 or ret & 0xff != 0x02:
        fail(f"Identify CNS 0xff: {ret:#x}, expected the status Invalid Field (0x2)")
    print(f"# nsid {nsid}, serial {sn}, {nsze} blocks, queues granted {(result & 0xffff) + 1}, "
          f"Identify CNS 0xff status {ret:#x}")

    # What the driver refuses.
    expect_errno("Create I/O Submission Queue", errno.EOPNOTSUPP, admin, fd, 0x01)
    expect_errno("Delete I/O Completion Queue", errno.EOPNOTSUPP, admin, fd, 0x04, cdw10=1)
    expect_errno("Asynchronous Event Request", errno.EOPNOTSUPP, admin, fd, 0x0c)
    expect_errno("Format NVM", errno.EOPNOTSUPP, admin, fd, 0x80, nsid=1)
    expect_errno("a vendor specific command", errno.EOPNOTSUPP, admin, fd, 0xc0)
    expect_errno("Set Features (number of queues)", errno.EACCES, admin, fd, 0x09, cdw10=0x07)
    expect_errno("Set Features (host memory buffer)", errno.EACCES, admin, fd, 0x09, cdw10=0x0d)
    expect_errno("flags set", errno.EINVAL, admin, fd, 0x06, cdw10=1, data_len=4096, flags=1)
    expect_errno("Get Features of a vendor specific feature", errno.EOPNOTSUPP, admin, fd, 0x0a,
                 cdw10=0xc1, data_len=4096)
    # Metadata is ignored for admin commands, as by the C driver.
    ret, _, data = admin(fd, 0x06, cdw10=1, data_len=4096, metadata_len=8)
    if ret != 0 or data != idc:
        fail(f"Identify Controller with metadata_len set: status {ret:#x}")
    # A command without data (Keep Alive; QEMU may answer Invalid Opcode) leaves the caller's
    # buffer alone.
    ret, _, data = admin(fd, 0x18, data_len=64, data=b"\xa5" * 64)
    if ret < 0 or data != b"\xa5" * 64:
        fail(f"Keep Alive (status {ret:#x}) changed the caller's buffer")
    expect_errno("1 MiB of data", errno.EINVAL, admin, fd, 0x06, cdw10=1, data_len=1 << 20)
    expect_errno("a 128 KiB log page", errno.EINVAL, admin, fd, 0x02, nsid=0xffffffff,
                 cdw10=(0x7fff << 16) | 0x02, data_len=4096)
    expect_errno("a bad data address", errno.EFAULT, admin, fd, 0x06, cdw10=1, data_len=4096,
                 addr=8)
    expect_errno("an unknown ioctl", errno.ENOTTY, fcntl.ioctl, fd, ioc(0, 0x99, 0))
    # The controller still answers after all that.
    ret, _, again = identify_ctrl(fd)
    if ret != 0 or again != idc:
        fail("Identify Controller after the refusals differs")

    # Without CAP_SYS_ADMIN: identify only.
    pid = os.fork()
    if pid == 0:
        failures.clear()
        os.setgroups([])
        os.setgid(65534)
        os.setuid(65534)
        ret, _, data = identify_ctrl(fd)
        if ret != 0 or data != idc:
            fail("Identify Controller without CAP_SYS_ADMIN")
        expect_errno("Get Log Page without CAP_SYS_ADMIN", errno.EACCES, admin, fd, 0x02,
                     nsid=0xffffffff, cdw10=(127 << 16) | 0x02, data_len=512)
        expect_errno("Get Features without CAP_SYS_ADMIN", errno.EACCES, admin, fd, 0x0a,
                     cdw10=0x07)
        expect_errno("Create I/O Submission Queue without CAP_SYS_ADMIN", errno.EACCES, admin,
                     fd, 0x01)
        os._exit(1 if failures else 0)
    _, status = os.waitpid(pid, 0)
    if status != 0:
        fail("the checks without CAP_SYS_ADMIN failed")
    os.close(fd)


def unbind(dev, addr):
    fd = os.open(dev, os.O_RDONLY)
    if fcntl.ioctl(fd, NVME_IOCTL_ID) != 1:
        fail("NVME_IOCTL_ID before the unbind")
    drv = os.path.realpath(f"/sys/bus/pci/devices/{addr}/driver")
    with open(f"{drv}/unbind", "w") as f:
        f.write(addr)
    expect_errno("NVME_IOCTL_ID after the unbind", errno.ENXIO, fcntl.ioctl, fd, NVME_IOCTL_ID)
    expect_errno("Identify after the unbind", errno.ENXIO, identify_ctrl, fd)
    os.close(fd)
    print("# a file open across the unbind: ENXIO for the ioctls, closed cleanly")


def main():
    if len(sys.argv) == 5 and sys.argv[1] == "check":
        check(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    elif len(sys.argv) == 4 and sys.argv[1] == "unbind":
        unbind(sys.argv[2], sys.argv[3])
    else:
        sys.exit(__doc__)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
