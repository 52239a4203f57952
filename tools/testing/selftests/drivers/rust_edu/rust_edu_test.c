// SPDX-License-Identifier: GPL-2.0
/*
 * Tests of the Rust edu driver (drivers/misc/rust_edu) from user space.
 *
 * Usage:
 *   rust_edu_test DEVICE                  factorials, DMA round trips, bad input
 *   rust_edu_test DEVICE --cycles PCI N   unbind/bind the PCI device N times while DEVICE is
 *                                         held open (and used by a child), then check that the
 *                                         stale file fails with ENODEV and the new one works
 *   rust_edu_test DEVICE --until-gone STARTED OFFSET
 *                                         factorials and DMA round trips at OFFSET until a call
 *                                         fails; creates the file STARTED after the first round,
 *                                         prints "ENODEV" (or the error's text) and the rounds
 *                                         done, and succeeds if it was ENODEV (the device went)
 *
 * Prints one TAP line per test and exits non-zero if any failed.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <misc/rust_edu.h>

#include "../../kselftest.h"

static int tests, failures;

static void result(int ok, const char *fmt, ...)
{
	va_list ap;

	tests++;
	if (!ok)
		failures++;
	printf("%sok %d ", ok ? "" : "not ", tests);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

/* Checks that a call returned -1 with errno @want. */
static void expect_errno(long ret, int want, const char *what)
{
	int err = errno;

	result(ret == -1 && err == want, "%s -> %s (got %ld, %s)", what, strerror(want), ret,
	       ret == -1 ? strerror(err) : "no error");
}

static int open_dev(const char *dev)
{
	int fd = open(dev, O_RDWR);

	if (fd < 0) {
		printf("# cannot open %s: %s\n", dev, strerror(errno));
		exit(2);
	}
	return fd;
}

static uint32_t irqs(int fd)
{
	struct rust_edu_info info;

	if (ioctl(fd, RUST_EDU_IOC_INFO, &info))
		return UINT32_MAX;
	return info.irqs;
}

static uint32_t factorial_ref(uint32_t n)
{
	uint32_t r = 1;

	while (n > 1)
		r *= n--;
	return r;
}

static void test_info(int fd)
{
	struct rust_edu_info info = { 0 };
	int ret = ioctl(fd, RUST_EDU_IOC_INFO, &info);

	result(ret == 0 && (info.id & 0xffff) == 0xed && info.buf_size == RUST_EDU_BUF_SIZE &&
	       info.dma_bits == 28,
	       "info: id %#x, %u bytes, %u-bit DMA, %u interrupts", info.id, info.buf_size,
	       info.dma_bits, info.irqs);
}

static void test_factorials(int fd)
{
	static const uint32_t inputs[] = { 0, 1, 5, 10, 12, 13, 20, 33, 34, 1000, 65535 };
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(inputs); i++) {
		struct rust_edu_factorial f = { .n = inputs[i], .result = 0xdeadbeef };
		uint32_t before = irqs(fd);
		int ret = ioctl(fd, RUST_EDU_IOC_FACTORIAL, &f);
		uint32_t after = irqs(fd);

		result(ret == 0 && f.result == factorial_ref(f.n) && after == before + 1,
		       "factorial %u = %u (expected %u), by %u interrupt(s)", f.n, f.result,
		       factorial_ref(f.n), after - before);
	}
}

static void fill_random(unsigned char *buf, size_t len)
{
	if (getrandom(buf, len, 0) != (ssize_t)len) {
		printf("# getrandom failed: %s\n", strerror(errno));
		exit(2);
	}
}

/* The device buffer as it should be after our writes. */
static unsigned char model[RUST_EDU_BUF_SIZE];

static void test_dma(int fd)
{
	static const struct { off_t off; size_t len; } cases[] = {
		{ 0, RUST_EDU_BUF_SIZE }, { 0, 1 }, { 1, RUST_EDU_BUF_SIZE - 1 }, { 100, 1000 },
		{ 2047, 2 }, { 4000, RUST_EDU_BUF_SIZE - 4000 }, { RUST_EDU_BUF_SIZE - 1, 1 },
		{ 512, RUST_EDU_BUF_SIZE - 512 },
	};
	unsigned char in[RUST_EDU_BUF_SIZE], out[RUST_EDU_BUF_SIZE];
	unsigned int i;
	ssize_t r;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		off_t off = cases[i].off;
		size_t len = cases[i].len;
		uint32_t before = irqs(fd);
		ssize_t w;

		fill_random(in, len);
		w = pwrite(fd, in, len, off);
		memset(out, 0, sizeof(out));
		r = pread(fd, out, len, off);
		if (w == (ssize_t)len)
			memcpy(model + off, in, len);
		result(w == (ssize_t)len && r == (ssize_t)len && !memcmp(in, out, len) &&
		       irqs(fd) == before + 2,
		       "DMA round trip of %zu random bytes at %lld: wrote %zd, read %zd, %s, %u interrupts",
		       len, (long long)off, w, r, memcmp(in, out, len) ? "DIFFERENT" : "equal",
		       irqs(fd) - before);
	}

	/* The whole buffer holds exactly what the writes above left, read with read(). */
	lseek(fd, 0, SEEK_SET);
	r = read(fd, out, sizeof(out));
	result(r == RUST_EDU_BUF_SIZE && !memcmp(out, model, sizeof(out)) &&
	       lseek(fd, 0, SEEK_CUR) == RUST_EDU_BUF_SIZE,
	       "read() of the whole buffer matches all writes (%zd bytes)", r);

	/* write() advances the position like read(). */
	lseek(fd, 10, SEEK_SET);
	fill_random(in, 20);
	result(write(fd, in, 20) == 20 && lseek(fd, 0, SEEK_CUR) == 30 &&
	       pread(fd, out, 20, 10) == 20 && !memcmp(in, out, 20),
	       "write() at the file position advances it");
	memcpy(model + 10, in, 20);
}

static void test_bad_input(int fd)
{
	unsigned char buf[2 * RUST_EDU_BUF_SIZE];
	struct rust_edu_factorial f = { .n = 65536 };
	ssize_t r;

	expect_errno(ioctl(fd, _IO(RUST_EDU_IOC_MAGIC, 0x0f)), ENOTTY, "unknown ioctl number");
	expect_errno(ioctl(fd, _IO('T', 0x01)), ENOTTY, "ioctl of another driver");
	expect_errno(ioctl(fd, _IOWR(RUST_EDU_IOC_MAGIC, 0x01, uint32_t), &f), ENOTTY,
		     "factorial ioctl with a short argument size");
	expect_errno(ioctl(fd, _IOWR(RUST_EDU_IOC_MAGIC, 0x01, char[64]), buf), ENOTTY,
		     "factorial ioctl with an oversized argument size");
	{
		struct termios t;

		/* isatty() asks with TCGETS: refused quietly (rust_edu.sh checks the log). */
		expect_errno(ioctl(fd, TCGETS, &t), ENOTTY, "TCGETS (isatty)");
		result(!isatty(fd), "the device is not a terminal");
	}
	expect_errno(ioctl(fd, RUST_EDU_IOC_FACTORIAL, NULL), EFAULT, "factorial with NULL");
	expect_errno(ioctl(fd, RUST_EDU_IOC_INFO, NULL), EFAULT, "info with NULL");
	expect_errno(ioctl(fd, RUST_EDU_IOC_FACTORIAL, &f), EINVAL, "factorial of 65536");
	expect_errno(pread(fd, NULL, 16, 0), EFAULT, "read into NULL");
	expect_errno(pwrite(fd, NULL, 16, 0), EFAULT, "write from NULL");
	expect_errno(pread(fd, buf, 1, RUST_EDU_BUF_SIZE + 1), EINVAL, "read past the buffer");
	expect_errno(pwrite(fd, buf, 1, RUST_EDU_BUF_SIZE + 1), EINVAL, "write past the buffer");
	expect_errno(pwrite(fd, buf, 1, RUST_EDU_BUF_SIZE), ENOSPC, "write at the end");
	expect_errno(pread(fd, buf, 1, -1), EINVAL, "read at a negative offset");

	/* A write that does not fit is refused whole: the buffer keeps its old data. */
	memset(buf, 0xa5, sizeof(buf));
	expect_errno(pwrite(fd, buf, 200, RUST_EDU_BUF_SIZE - 100), ENOSPC,
		     "write overlapping the end");
	expect_errno(pwrite(fd, buf, sizeof(buf), 0), ENOSPC, "oversized write");
	r = pread(fd, buf, RUST_EDU_BUF_SIZE, 0);
	result(r == RUST_EDU_BUF_SIZE && !memcmp(buf, model, RUST_EDU_BUF_SIZE),
	       "refused writes left the buffer unchanged");

	r = pread(fd, buf, sizeof(buf), 0);
	result(r == RUST_EDU_BUF_SIZE, "oversized read is cut to the buffer (%zd)", r);
	r = pread(fd, buf, 100, RUST_EDU_BUF_SIZE - 50);
	result(r == 50, "read across the end is cut to the buffer (%zd)", r);
	r = pread(fd, buf, 1, RUST_EDU_BUF_SIZE);
	result(r == 0, "read at the end is end-of-file (%zd)", r);
	result(pread(fd, buf, 0, 0) == 0 && pwrite(fd, buf, 0, 0) == 0, "empty read and write");

	expect_errno(lseek(fd, RUST_EDU_BUF_SIZE + 1, SEEK_SET), EINVAL, "seek past the end");
	expect_errno(lseek(fd, -1, SEEK_SET), EINVAL, "seek before the start");
	expect_errno(lseek(fd, 0, 42), EINVAL, "seek with a bad whence");
	result(lseek(fd, -1, SEEK_END) == RUST_EDU_BUF_SIZE - 1, "seek from the end");

	f.n = 5;
	result(ioctl(fd, RUST_EDU_IOC_FACTORIAL, &f) == 0 && f.result == 120,
	       "the device still works after bad input");
}

/* A process killed while it waits for the device leaves the device working. */
static void test_kill(const char *dev)
{
	struct rust_edu_factorial f = { .n = 8 };
	int status, fd, i, ok = 1;

	for (i = 0; i < 3; i++) {
		pid_t child = fork();

		if (child == 0) {
			unsigned char buf[RUST_EDU_BUF_SIZE];

			fd = open_dev(dev);
			for (;;)
				pread(fd, buf, sizeof(buf), 0);
		}
		/* DMA transfers take about 100 ms: the kill lands in one of them. */
		usleep(250000 + i * 40000);
		kill(child, SIGKILL);
		waitpid(child, &status, 0);
		ok &= WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
	}
	fd = open_dev(dev);
	ok &= ioctl(fd, RUST_EDU_IOC_FACTORIAL, &f) == 0 && f.result == 40320;
	close(fd);
	result(ok, "processes killed while waiting for DMA leave the device working");
}

/* Writes @val to the sysfs file @path. */
static int sysfs_write(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = write(fd, val, strlen(val));
	close(fd);
	return n == (ssize_t)strlen(val) ? 0 : -1;
}

/* Uses @fd until it fails with ENODEV; exits 0 if every error was ENODEV. */
static void hammer(int fd)
{
	unsigned char buf[256];

	for (;;) {
		struct rust_edu_factorial f = { .n = 7 };

		if (ioctl(fd, RUST_EDU_IOC_FACTORIAL, &f) || f.result != 5040)
			break;
		if (pread(fd, buf, sizeof(buf), 0) != sizeof(buf))
			break;
	}
	_exit(errno == ENODEV ? 0 : 1);
}

static void test_cycles(const char *dev, const char *pci, int cycles)
{
	char unbind[256], bind[256];
	unsigned char buf[64];
	int fd = open_dev(dev), i, ok = 1, status;
	pid_t child;

	snprintf(unbind, sizeof(unbind), "/sys/bus/pci/devices/%s/driver/unbind", pci);
	snprintf(bind, sizeof(bind), "/sys/bus/pci/drivers/rust_edu/bind");

	/* A child keeps the device busy through the first unbind. */
	child = fork();
	if (child == 0)
		hammer(fd);
	usleep(300000);

	for (i = 0; i < cycles && ok; i++) {
		int nfd;

		if (sysfs_write(unbind, pci) || sysfs_write(bind, pci)) {
			printf("# cycle %d: unbind/bind of %s failed: %s\n", i, pci,
			       strerror(errno));
			ok = 0;
			break;
		}
		/* The stale file fails every operation with ENODEV, empty ones included. */
		if (ioctl(fd, RUST_EDU_IOC_INFO, buf) != -1 || errno != ENODEV ||
		    ioctl(fd, TCGETS, buf) != -1 || errno != ENODEV ||
		    pread(fd, buf, 16, 0) != -1 || errno != ENODEV ||
		    pwrite(fd, buf, 16, 0) != -1 || errno != ENODEV ||
		    pread(fd, buf, 0, 0) != -1 || errno != ENODEV ||
		    pwrite(fd, buf, 0, 0) != -1 || errno != ENODEV) {
			printf("# cycle %d: stale file did not fail with ENODEV\n", i);
			ok = 0;
		}
		/* The device was bound again, under the same name (the lowest free number). */
		nfd = open(dev, O_RDWR);
		if (nfd < 0) {
			printf("# cycle %d: cannot reopen %s: %s\n", i, dev, strerror(errno));
			ok = 0;
		} else {
			struct rust_edu_factorial f = { .n = 6 };

			if (ioctl(nfd, RUST_EDU_IOC_FACTORIAL, &f) || f.result != 720) {
				printf("# cycle %d: factorial on the new file failed\n", i);
				ok = 0;
			}
			close(nfd);
		}
	}
	result(ok, "%d unbind/bind cycles of %s with %s held open", i, pci, dev);

	waitpid(child, &status, 0);
	result(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	       "a process using the file across unbind got ENODEV and no other error");
	expect_errno(ioctl(fd, RUST_EDU_IOC_FACTORIAL, buf), ENODEV, "factorial on the stale file");
	expect_errno(lseek(fd, 0, SEEK_SET), ENODEV, "seek on the stale file");
	result(close(fd) == 0, "the stale file closes");
}

/*
 * Runs until the device goes away under the file (for surprise-removal tests): every round
 * checks its factorial and its data, so a removal may fail a call but never corrupt one.
 */
static int until_gone(const char *dev, const char *started, const char *offset)
{
	unsigned char out[64], in[64];
	long off = strtol(offset, NULL, 0);
	unsigned long rounds = 0;
	int fd = open_dev(dev), err;

	if (off < 0 || off > RUST_EDU_BUF_SIZE - (long)sizeof(out)) {
		printf("# offset %ld is outside the buffer\n", off);
		return 2;
	}
	for (;;) {
		struct rust_edu_factorial f = { .n = 10 };

		fill_random(out, sizeof(out));
		if (ioctl(fd, RUST_EDU_IOC_FACTORIAL, &f) ||
		    pwrite(fd, out, sizeof(out), off) != (ssize_t)sizeof(out) ||
		    pread(fd, in, sizeof(in), off) != (ssize_t)sizeof(in))
			break;
		if (f.result != factorial_ref(10) || memcmp(in, out, sizeof(in))) {
			printf("wrong-data %lu\n", rounds);
			return 1;
		}
		if (++rounds == 1)
			close(open(started, O_WRONLY | O_CREAT | O_TRUNC, 0644));
	}
	err = errno;
	printf("%s %lu\n", err == ENODEV ? "ENODEV" : strerror(err), rounds);
	return err == ENODEV ? 0 : 1;
}

int main(int argc, char **argv)
{
	int fd;

	if (argc == 5 && !strcmp(argv[2], "--until-gone"))
		return until_gone(argv[1], argv[3], argv[4]);
	if (argc == 5 && !strcmp(argv[2], "--cycles")) {
		test_cycles(argv[1], argv[3], atoi(argv[4]));
	} else if (argc == 2) {
		fd = open_dev(argv[1]);
		test_info(fd);
		test_factorials(fd);
		test_dma(fd);
		test_bad_input(fd);
		close(fd);
		test_kill(argv[1]);
	} else {
		fprintf(stderr,
			"usage: %s DEVICE [--cycles PCI-ADDRESS N | --until-gone FILE OFFSET]\n",
			argv[0]);
		return 2;
	}
	printf("# %d tests, %d failed\n", tests, failures);
	return failures ? 1 : 0;
}
