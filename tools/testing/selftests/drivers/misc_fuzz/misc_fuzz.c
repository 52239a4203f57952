// SPDX-License-Identifier: GPL-2.0
/*
 * misc_fuzz: a seeded, replayable fuzzer for a character device node, and a fault-injection
 * workload for one.
 *
 * Usage:
 *   misc_fuzz [options] NODE
 *     --seed S          seed of the run (default: from the clock; printed, so a run replays)
 *     --calls N         system calls on NODE per process (default 10000), split over threads
 *     --threads T       threads per process (default 2), sharing one open file and opening,
 *                       using and closing files of their own
 *     --procs P         processes (default 1), each with its own threads
 *     --size BYTES      the file size NODE offers, for boundary positions (default 4096)
 *     --ioctl CMD       an ioctl of the driver (number; repeatable): tried with valid and
 *                       broken argument buffers, alongside random and near-miss numbers
 *     --transfers PERMILLE  how many reads and writes, per thousand, the driver carries out
 *                       (in range, not empty; default 10): these may be slow (a device's DMA);
 *                       the others are out of range or empty
 *     --cycles N        instead of fuzzing: N cycles of open, ioctl (the first --ioctl, with
 *                       a zeroed buffer), pwrite of a pattern at 0, pread of it, close; every
 *                       call must either succeed with the right result or fail with ENOMEM
 *                       (the cycles run under fault injection)
 *
 * Fuzzing: every call's result is checked for what no driver may return (a count larger than
 * asked, a position outside the file, an errno outside the list of clean ones below); a file
 * that disappears (the device was unbound: ENODEV, ENOENT on open) is expected, since the
 * checks race unbind and bind against the fuzzer. The thread's sequence of calls depends only
 * on the seed, the process and the thread number.
 *
 * Prints "misc_fuzz: ..." with the counts last; exits 1 if anything unexpected happened.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_IOCTLS	16
#define PRIVATE_FDS	4
#define BUF_BYTES	(64 * 1024)

enum op { OP_OPEN, OP_CLOSE, OP_READ, OP_WRITE, OP_PREAD, OP_PWRITE, OP_READV, OP_WRITEV,
	  OP_LSEEK, OP_IOCTL, OP_MMAP, OP_POLL, OP_FSTAT, OP_FCNTL, OP_COUNT };

static const char *const op_names[OP_COUNT] = {
	"open", "close", "read", "write", "pread", "pwrite", "readv", "writev",
	"lseek", "ioctl", "mmap", "poll", "fstat", "fcntl",
};

/* Relative weights of the operations. */
static const unsigned int op_weights[OP_COUNT] = {
	[OP_OPEN] = 3, [OP_CLOSE] = 3, [OP_READ] = 8, [OP_WRITE] = 8, [OP_PREAD] = 6,
	[OP_PWRITE] = 6, [OP_READV] = 3, [OP_WRITEV] = 3, [OP_LSEEK] = 20, [OP_IOCTL] = 36,
	[OP_MMAP] = 1, [OP_POLL] = 1, [OP_FSTAT] = 1, [OP_FCNTL] = 1,
};

static const char *node;
static uint64_t seed;
static long calls = 10000, threads = 2, procs = 1, cycles;
static long long size = 4096;
static unsigned int transfers = 10;
static unsigned long ioctls[MAX_IOCTLS];
static int nr_ioctls;

/*
 * User buffers: a usable one and one page that both end at an inaccessible page (so that no
 * copy of any length reaches the fuzzer's own memory beyond them), and a read-only page.
 */
static unsigned char *buf, *ro_page, *guard_end;
static void *unmapped;

static int shared_fd = -1;

static atomic_long done[OP_COUNT], failed[OP_COUNT], unexpected;
static atomic_long errnos[256];

struct rng {
	uint64_t s;
};

static uint64_t next(struct rng *r)
{
	/* splitmix64: every state gives a well-mixed output. */
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint64_t below(struct rng *r, uint64_t n)
{
	return n ? next(r) % n : 0;
}

static void bad(const char *fmt, ...)
{
	va_list ap;

	atomic_fetch_add(&unexpected, 1);
	fputs("# misc_fuzz: unexpected: ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

/* The errnos a driver may give bad input, a vanished device or an injected fault. */
static int clean_errno(int e)
{
	switch (e) {
	case EINVAL: case EFAULT: case ENOTTY: case ENOSPC: case ENODEV: case ENOMEM:
	case EBADF: case ENXIO: case ESPIPE: case EOVERFLOW: case EAGAIN: case EINTR:
	case ENOENT: case EPERM: case EACCES: case E2BIG: case EMSGSIZE:
		return 1;
	}
	return 0;
}

static void count(enum op op, long ret, int err)
{
	atomic_fetch_add(&done[op], 1);
	if (ret >= 0)
		return;
	atomic_fetch_add(&failed[op], 1);
	atomic_fetch_add(&errnos[err & 255], 1);
	if (!clean_errno(err))
		bad("%s: errno %d (%s)", op_names[op], err, strerror(err));
}

/* A file position: mostly at and around the boundaries, sometimes anywhere. */
static long long position(struct rng *r)
{
	switch (below(r, 10)) {
	case 0:
		return 0;
	case 1:
		return size - 1;
	case 2:
		return size;
	case 3:
		return size + 1;
	case 4:
		return -(long long)below(r, 1 << 20) - 1;
	case 5:
		return (long long)(next(r) >> 1);
	case 6:
		return INT64_MIN + (long long)below(r, 8);
	case 7:
		return INT64_MAX - (long long)below(r, 8);
	default:
		return (long long)below(r, 4 * size);
	}
}

static size_t length(struct rng *r)
{
	switch (below(r, 8)) {
	case 0:
		return 0;
	case 1:
		return 1;
	case 2:
		return size - 1;
	case 3:
		return size;
	case 4:
		return size + 1;
	case 5:
		return (size_t)1 << below(r, 63);
	default:
		return below(r, BUF_BYTES);
	}
}

/* A user pointer for @len bytes: usable, NULL, unmapped, kernel, read-only or straddling. */
static void *pointer(struct rng *r, size_t len, int for_read)
{
	switch (below(r, 8)) {
	case 0:
		return NULL;
	case 1:
		return unmapped;
	case 2:
		return (void *)0xffff888000000000UL;
	case 3:
		return for_read ? ro_page : buf;
	case 4:
		return guard_end - (len < 4096 ? len / 2 + 1 : 4096);
	case 5:
		return (void *)(uintptr_t)below(r, 1 << 16);
	default:
		return len <= BUF_BYTES ? buf + below(r, BUF_BYTES - len + 1) : buf;
	}
}

/*
 * An ioctl number: the driver's, a near miss of one (other size, direction or number), or
 * anything.
 */
static unsigned long ioctl_cmd(struct rng *r)
{
	unsigned long cmd = nr_ioctls ? ioctls[below(r, nr_ioctls)] : 0;

	switch (below(r, 6)) {
	case 0: case 1:
		return cmd;
	case 2:
		return cmd ^ (1UL << below(r, 32));
	case 3:
		return (cmd & ~0xffUL) | below(r, 256);
	case 4: /* terminal ioctls, as isatty() and friends */
		return 0x5401 + below(r, 0x30);
	default:
		return (uint32_t)next(r);
	}
}

static int pick_fd(struct rng *r, int *fds)
{
	int i = below(r, PRIVATE_FDS + 2);

	/* The shared file, or one of the thread's own if it has that one open. */
	if (i >= PRIVATE_FDS || fds[i] < 0)
		return shared_fd;
	return fds[i];
}

/*
 * The position and length of a read or write. At the rate asked, one the driver carries out:
 * in range, of at least one byte (with a usable buffer if @usable is set); returns 1 then.
 * Otherwise one it must refuse or cut short: a position outside the file, or an empty transfer
 * at any position; returns 0.
 */
static int transfer(struct rng *r, long long *pos, size_t *len, int *usable)
{
	*usable = 0;
	if (below(r, 1000) < transfers) {
		*pos = below(r, 4) ? (long long)below(r, size) : (below(r, 2) ? 0 : size - 1);
		*len = below(r, 4) ? 1 + below(r, size - *pos) : length(r);
		*usable = below(r, 2);
		return 1;
	}
	do {
		*pos = position(r);
	} while (*pos >= 0 && *pos < size && below(r, 8));
	*len = *pos >= 0 && *pos < size ? 0 : length(r);
	return 0;
}

/*
 * Moves @fd to @pos for a read() or write() there; returns whether the call keeps its length. A
 * driver may refuse the position (one outside its file) or move elsewhere; the call would then
 * run at another position, which may be in range and carry out a transfer the rate did not ask
 * for: such a call is made empty instead. (The caller has drawn its random choices already, so
 * the sequence of calls does not depend on what the driver answers.)
 */
static int seek_for(int fd, long long pos, int xfer)
{
	return lseek(fd, pos, SEEK_SET) == pos || xfer;
}

static void check_count(enum op op, long ret, size_t asked)
{
	if (ret > 0 && (size_t)ret > asked)
		bad("%s returned %ld for %zu bytes", op_names[op], ret, asked);
}

static void one_call(struct rng *r, int *fds)
{
	unsigned int w = below(r, 100), acc = 0;
	enum op op = OP_IOCTL;
	long long pos;
	size_t len;
	struct iovec iov[3];
	long ret;
	int fd, i;

	for (i = 0; i < OP_COUNT; i++) {
		acc += op_weights[i];
		if (w < acc) {
			op = i;
			break;
		}
	}
	fd = pick_fd(r, fds);
	errno = 0;
	switch (op) {
	case OP_OPEN:
		i = below(r, PRIVATE_FDS);
		if (fds[i] >= 0)
			close(fds[i]);
		fds[i] = open(node, below(r, 4) ? O_RDWR : (below(r, 2) ? O_RDONLY : O_WRONLY));
		ret = fds[i];
		break;
	case OP_CLOSE:
		i = below(r, PRIVATE_FDS);
		ret = fds[i] >= 0 ? close(fds[i]) : 0;
		fds[i] = -1;
		break;
	case OP_READ:
	case OP_PREAD:
	case OP_WRITE:
	case OP_PWRITE: {
		int is_read = op == OP_READ || op == OP_PREAD;
		int positioned = op == OP_PREAD || op == OP_PWRITE;
		int usable, xfer;
		void *p;

		xfer = transfer(r, &pos, &len, &usable);
		p = usable && len <= BUF_BYTES ? buf : pointer(r, len, is_read);
		/* read() and write() at the position lseek() set, if the driver took it. */
		if (!positioned && !seek_for(fd, pos, xfer))
			len = 0;
		if (is_read)
			ret = positioned ? pread(fd, p, len, pos) : read(fd, p, len);
		else
			ret = positioned ? pwrite(fd, p, len, pos) : write(fd, p, len);
		check_count(op, ret, len);
		break;
	}
	case OP_READV:
	case OP_WRITEV: {
		int usable, xfer, n = 1 + below(r, 3);
		size_t left;

		/* The transfer cut into up to three pieces, each with its own buffer. */
		xfer = transfer(r, &pos, &len, &usable);
		left = len;
		for (i = 0; i < n; i++) {
			iov[i].iov_len = i == n - 1 ? left : below(r, left + 1);
			left -= iov[i].iov_len;
			iov[i].iov_base = usable && iov[i].iov_len <= BUF_BYTES ? buf :
					  pointer(r, iov[i].iov_len, op == OP_READV);
		}
		if (!seek_for(fd, pos, xfer)) {
			for (i = 0; i < n; i++)
				iov[i].iov_len = 0;
			len = 0;
		}
		ret = op == OP_READV ? readv(fd, iov, n) : writev(fd, iov, n);
		check_count(op, ret, len);
		break;
	}
	case OP_LSEEK: {
		int whence = below(r, 8) ? below(r, 3) : below(r, 16);

		pos = below(r, 2) ? position(r) : (long long)below(r, 2 * size) - size;
		ret = lseek(fd, pos, whence);
		if (ret > size && errno == 0)
			bad("lseek(%lld, %d) moved to %ld, past the %lld byte file",
			    pos, whence, ret, size);
		break;
	}
	case OP_IOCTL: {
		unsigned long cmd = ioctl_cmd(r);
		void *arg;

		if (below(r, 3)) {
			/* A buffer of the size the number says, with random content. */
			len = (cmd >> 16) & 0x3fff;
			for (i = 0; i < (int)len && i < 64; i++)
				buf[i] = next(r);
			arg = pointer(r, len, !!(cmd & (2UL << 30)));
		} else {
			arg = (void *)(uintptr_t)(below(r, 2) ? below(r, 1 << 20) : next(r));
		}
		ret = ioctl(fd, cmd, arg);
		break;
	}
	case OP_MMAP: {
		int prot = PROT_READ | (below(r, 2) ? PROT_WRITE : 0);
		off_t off = below(r, 2) ? 0 : 4096 * below(r, 4);
		void *m = mmap(NULL, 4096, prot, MAP_SHARED, fd, off);

		ret = m == MAP_FAILED ? -1 : 0;
		if (m != MAP_FAILED)
			munmap(m, 4096);
		break;
	}
	case OP_POLL: {
		struct pollfd pfd = { .fd = fd, .events = POLLIN | POLLOUT | POLLPRI };

		ret = poll(&pfd, 1, 0);
		break;
	}
	case OP_FSTAT: {
		struct stat st;

		ret = fstat(fd, &st);
		break;
	}
	case OP_FCNTL:
		ret = fcntl(fd, F_SETFL, below(r, 2) ? O_NONBLOCK : 0);
		break;
	default:
		return;
	}
	count(op, ret, errno);
}

struct worker {
	pthread_t thread;
	uint64_t seed;
	long calls;
};

static void *fuzz_thread(void *arg)
{
	struct worker *w = arg;
	struct rng r = { .s = w->seed };
	int fds[PRIVATE_FDS], i;
	long n;

	for (i = 0; i < PRIVATE_FDS; i++)
		fds[i] = -1;
	for (n = 0; n < w->calls; n++)
		one_call(&r, fds);
	for (i = 0; i < PRIVATE_FDS; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	return NULL;
}

static void map_buffers(void)
{
	unsigned char *m;

	/* Followed by an inaccessible page: a copy with a huge length stops there. */
	buf = mmap(NULL, BUF_BYTES + 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		   -1, 0);
	/* Two pages: the first usable, the second inaccessible. */
	m = mmap(NULL, 2 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ro_page = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	unmapped = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (buf == MAP_FAILED || m == MAP_FAILED || ro_page == MAP_FAILED ||
	    unmapped == MAP_FAILED) {
		perror("misc_fuzz: mmap");
		exit(2);
	}
	mprotect(buf + BUF_BYTES, 4096, PROT_NONE);
	mprotect(m + 4096, 4096, PROT_NONE);
	guard_end = m + 4096;
	munmap(unmapped, 4096);
}

static void fuzz_process(int proc)
{
	struct worker *w = calloc(threads, sizeof(*w));
	long t;

	map_buffers();
	shared_fd = open(node, O_RDWR);
	for (t = 0; t < threads; t++) {
		/* Each thread's calls depend only on the seed, the process and the thread. */
		w[t].seed = seed ^ ((uint64_t)proc << 40) ^ ((uint64_t)t << 20);
		w[t].calls = calls / threads + (t < calls % threads);
		pthread_create(&w[t].thread, NULL, fuzz_thread, &w[t]);
	}
	for (t = 0; t < threads; t++)
		pthread_join(w[t].thread, NULL);
}

/* The fault-injection workload: each call succeeds correctly or fails with ENOMEM. */
static int fault_cycles(void)
{
	unsigned char pattern[256], back[256];
	unsigned char arg[256];
	long n, ok_cycles = 0, failed_calls = 0;
	int fd, i;

	for (n = 0; n < cycles; n++) {
		long ret;
		int step_failed = 0;

		for (i = 0; i < (int)sizeof(pattern); i++)
			pattern[i] = (unsigned char)(n * 7 + i);
		fd = open(node, O_RDWR);
		if (fd < 0) {
			if (errno != ENOMEM)
				bad("cycle %ld: open: %s", n, strerror(errno));
			failed_calls++;
			continue;
		}
		if (nr_ioctls) {
			memset(arg, 0, sizeof(arg));
			if (ioctl(fd, ioctls[0], arg) < 0) {
				if (errno != ENOMEM)
					bad("cycle %ld: ioctl %#lx: %s", n, ioctls[0],
					    strerror(errno));
				failed_calls++;
				step_failed = 1;
			}
		}
		ret = pwrite(fd, pattern, sizeof(pattern), 0);
		if (ret < 0) {
			if (errno != ENOMEM)
				bad("cycle %ld: pwrite: %s", n, strerror(errno));
			failed_calls++;
			close(fd);
			continue;
		}
		if (ret != sizeof(pattern))
			bad("cycle %ld: pwrite of %zu bytes wrote %ld", n, sizeof(pattern), ret);
		/* Until the read succeeds: the pattern written must still be there. */
		for (i = 0; i < 100; i++) {
			memset(back, 0, sizeof(back));
			ret = pread(fd, back, sizeof(back), 0);
			if (ret >= 0 || errno != ENOMEM)
				break;
			failed_calls++;
			step_failed = 1;
		}
		if (ret < 0)
			bad("cycle %ld: pread: %s", n, strerror(errno));
		else if (ret != sizeof(back) || memcmp(back, pattern, sizeof(back)))
			bad("cycle %ld: read back %ld bytes unlike those written", n, ret);
		if (close(fd))
			bad("cycle %ld: close: %s", n, strerror(errno));
		ok_cycles += !step_failed;
	}
	printf("misc_fuzz: %ld cycles on %s: %ld without a failed call, ", cycles, node, ok_cycles);
	printf("%ld calls failed with ENOMEM, %ld unexpected\n", failed_calls,
	       atomic_load(&unexpected));
	return atomic_load(&unexpected) ? 1 : 0;
}

static void usage(void)
{
	fprintf(stderr, "Usage: %s [--seed S] [--calls N] [--threads T] [--procs P]\n"
			"       [--size BYTES] [--ioctl CMD]... [--transfers PERMILLE] [--cycles N] NODE\n",
			program_invocation_short_name);
	exit(2);
}

int main(int argc, char **argv)
{
	struct timespec start, end;
	long total = 0, total_failed = 0;
	int i, p, status, rc = 0;
	atomic_long *shared, *errs;

	seed = (uint64_t)time(NULL) * 1000003;
	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (a[0] != '-') {
			node = a;
			continue;
		}
		if (!v)
			usage();
		i++;
		if (!strcmp(a, "--seed"))
			seed = strtoull(v, NULL, 0);
		else if (!strcmp(a, "--calls"))
			calls = strtol(v, NULL, 0);
		else if (!strcmp(a, "--threads"))
			threads = strtol(v, NULL, 0);
		else if (!strcmp(a, "--procs"))
			procs = strtol(v, NULL, 0);
		else if (!strcmp(a, "--size"))
			size = strtoll(v, NULL, 0);
		else if (!strcmp(a, "--transfers"))
			transfers = strtoul(v, NULL, 0);
		else if (!strcmp(a, "--cycles"))
			cycles = strtol(v, NULL, 0);
		else if (!strcmp(a, "--ioctl") && nr_ioctls < MAX_IOCTLS)
			ioctls[nr_ioctls++] = strtoul(v, NULL, 0);
		else
			usage();
	}
	if (!node || threads < 1 || procs < 1 || calls < 0 || size < 1 || transfers > 1000)
		usage();
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (cycles)
		return fault_cycles();

	printf("# misc_fuzz: seed %#llx, %ld calls in %ld process(es) of %ld thread(s) on %s\n",
	       (unsigned long long)seed, calls * procs, procs, threads, node);
	/* The processes' counts come back through shared memory. */
	shared = mmap(NULL, sizeof(atomic_long) * (2 * OP_COUNT + 1 + 256), PROT_READ | PROT_WRITE,
		      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (shared == MAP_FAILED) {
		perror("misc_fuzz: mmap");
		return 2;
	}
	errs = shared + 2 * OP_COUNT + 1;
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (p = 0; p < procs; p++) {
		pid_t pid = fork();

		if (pid < 0) {
			perror("misc_fuzz: fork");
			return 2;
		}
		if (pid == 0) {
			fuzz_process(p);
			for (i = 0; i < OP_COUNT; i++) {
				atomic_fetch_add(&shared[i], atomic_load(&done[i]));
				atomic_fetch_add(&shared[OP_COUNT + i], atomic_load(&failed[i]));
			}
			atomic_fetch_add(&shared[2 * OP_COUNT], atomic_load(&unexpected));
			for (i = 0; i < 256; i++)
				atomic_fetch_add(&errs[i], atomic_load(&errnos[i]));
			_exit(0);
		}
	}
	for (p = 0; p < procs; p++) {
		if (wait(&status) < 0 || !WIFEXITED(status) || WEXITSTATUS(status)) {
			printf("# misc_fuzz: a fuzzing process died (status %#x)\n", status);
			rc = 1;
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &end);
	printf("# misc_fuzz: calls (failed):");
	for (i = 0; i < OP_COUNT; i++) {
		total += shared[i];
		total_failed += shared[OP_COUNT + i];
		printf(" %s %ld (%ld)", op_names[i], (long)shared[i], (long)shared[OP_COUNT + i]);
	}
	printf("\n# misc_fuzz: errnos:");
	for (i = 0; i < 256; i++)
		if (errs[i])
			printf(" %s %ld", strerrorname_np(i) ?: "?", (long)errs[i]);
	printf("\n");
	if (shared[2 * OP_COUNT])
		rc = 1;
	printf("misc_fuzz: seed %#llx: %ld calls, %ld failed with an errno, ",
	       (unsigned long long)seed, total, total_failed);
	printf("%ld unexpected, %.1f s\n", (long)shared[2 * OP_COUNT],
	       (end.tv_sec - start.tv_sec) + (end.tv_nsec - start.tv_nsec) / 1e9);
	return rc;
}
