// SPDX-License-Identifier: GPL-2.0
/*
 * sfr reads under fault injection and I/O errors (kselftest harness).
 *
 * Fixture "fault" (SFR_DIR=DIR): result-file reads of bpf/sum.bpf.c links
 * (with and without the '\n' delimiter, several windows) through pread(),
 * read() and io_uring (IOSQE_ASYNC), warm and cold (POSIX_FADV_DONTNEED,
 * now and then /proc/sys/vm/drop_caches), while failslab, fail_page_alloc
 * or fail_usercopy fail allocations and user copies of the reading task
 * only (task-filter, /proc/thread-self/make-it-fail; for io_uring the
 * io-wq workers' make-it-fail). Every read must return exactly the frame a
 * C reduce of the file's bytes predicts, or fail with ENOMEM, EFAULT, EIO
 * or EINTR (io_uring: also ECANCELED) and then leave the read() position
 * where it was; the same read without faults right after a failure, and
 * the data file's bytes at the end, must be exact. A systematic pass fails
 * every fault site of a request once, through /proc/thread-self/fail-nth.
 * Injections are counted from each attribute's "times". The kernel log is
 * checked for splats by the runner. Without debugfs fault-injection
 * attributes (kernels without CONFIG_FAULT_INJECTION_DEBUG_FS) these tests
 * SKIP.
 *
 * Fixture "eio" (SFR_EIO_DATA, SFR_EIO_REF, SFR_EIO_LOWER, set up by
 * guest/sfr-fault.sh): the data file lives on a read-only ext4 on a loop
 * device whose backing file is on another ext4 (SFR_EIO_LOWER), itself on
 * a loop device over tmpfs. Part of the file is read into the page cache,
 * then the lower ext4 is shut down (EXT4_IOC_SHUTDOWN): from then on every
 * read of the upper loop device fails with EIO, so a request fails with
 * EIO exactly when it needs a page that was not cached (for example in the
 * middle of a read that started in cached pages) and returns the exact
 * frame otherwise.
 *
 *   SFR_DIR=DIR sfr_fault -f fault
 *   SFR_EIO_DATA=F SFR_EIO_REF=R SFR_EIO_LOWER=D sfr_fault -f eio
 *
 * SFR_FAULT_READS (default 300) and SFR_FAULT_SECS (default 10) bound each
 * random pass; SFR_FAULT_SEED (default 1) seeds the file and the choices.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>
#include <linux/bpf.h>
#include <linux/magic.h>
#include <linux/sfr.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "../../bpf/sum.h"
#include "sum.skel.h"
#include "kselftest_harness.h"

#define FRAME		(sizeof(struct sfr_frame) + sizeof(struct sum_state))
#define NLINK		3
#define DEBUGFS		"/sys/kernel/debug"
/* ext4's (and xfs's) shutdown ioctl; 2: do not flush the log. */
#define FS_SHUTDOWN	_IOR('X', 125, __u32)
#define SHUTDOWN_NOLOGFLUSH 2
#define TIMES		1000000
/*
 * A third of the reads use buffers larger than a page, whose output room
 * the kernel takes from kvmalloc(): when its vmalloc() fallback fails, the
 * read must fail with ENOMEM and no warning (before the series passed
 * __GFP_NOWARN, this dumped a stack, which the runner counts as a splat).
 * SFR_FAULT_BIG=0: page-sized buffers only.
 */
#define BIG_BUF		(65536 + 64)

static __u64 rnd(__u64 *s)
{
	__u64 z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static __u64 below(__u64 *s, __u64 n)
{
	return n ? rnd(s) % n : 0;
}

/* bpf/sum.bpf.c's reduce in C (see sfr_fsx.c); wraps like the program. */
struct answer {
	__u64 count, sum;
};

static void reduce(const unsigned char *c, __u64 from, __u64 to,
		   struct answer *a)
{
	__u64 cur = 0, p;
	int in = 0, neg = 0;

	for (p = from; p < to; p++) {
		if (c[p] >= '0' && c[p] <= '9') {
			cur = cur * 10 + (c[p] - '0');
			in = 1;
		} else if (c[p] == '-') {
			neg = 1;
		} else if (c[p] == '\n') {
			if (in) {
				a->sum += neg ? -cur : cur;
				a->count++;
			}
			cur = 0;
			in = neg = 0;
		}
	}
	if (in) {
		a->sum += neg ? -cur : cur;
		a->count++;
	}
}

/*
 * The frame of a request at @off < @size (Documentation/bpf/sfr.rst,
 * "Windows and records"); *@need_from is the first byte the request has
 * to read (the skip to a record start begins at @off - 1).
 */
struct want {
	__u64 in_len, need_from;
	struct answer a;
	int eof;
};

static void want_frame(const unsigned char *c, __u64 size, __u64 off,
		       __u64 window, int delim, struct want *w)
{
	__u64 wend = size, start = off, end, p;

	memset(w, 0, sizeof(*w));
	if (window && off - off % window + window < size)
		wend = off - off % window + window;
	w->need_from = off;
	if (!delim) {
		end = wend;
	} else {
		if (off > 0) {
			w->need_from = off - 1;
			for (p = off - 1; p < wend && c[p] != '\n'; p++)
				;
			start = p < wend ? p + 1 : wend;
		}
		if (start >= wend) {
			end = wend;
		} else {
			for (p = wend - 1; p < size && c[p] != '\n'; p++)
				;
			end = p < size ? p + 1 : size;
		}
	}
	if (start < end)
		reduce(c, start, end, &w->a);
	w->in_len = end - off;
	w->eof = end >= size;
}

struct link {
	int lfd, rfd;
	__u64 window;
	int delim;
};

static int link_open(int prog, int dfd, __u64 window, int delim,
		     struct link *l)
{
	struct bpf_sfr_opts o = {
		.window = window,
		.scratch_size = sizeof(struct sum_state),
		.flags = delim ? SFR_OPT_DELIM : 0,
		.delim = delim ? '\n' : 0,
	};
	union bpf_attr a;

	memset(&a, 0, sizeof(a));
	a.link_create.prog_fd = prog;
	a.link_create.target_fd = dfd;
	a.link_create.attach_type = BPF_SFR_READ;
	a.link_create.sfr.opts = (unsigned long)&o;
	a.link_create.sfr.opts_len = sizeof(o);
	l->window = window;
	l->delim = delim;
	l->rfd = -1;
	l->lfd = syscall(__NR_bpf, BPF_LINK_CREATE, &a, sizeof(a));
	if (l->lfd >= 0)
		l->rfd = bpf_iter_create(l->lfd);
	return l->rfd >= 0 ? 0 : -1;
}

static void link_close(struct link *l)
{
	if (l->rfd >= 0)
		close(l->rfd);
	if (l->lfd >= 0)
		close(l->lfd);
	l->rfd = l->lfd = -1;
}

/*
 * sum.bpf.c calls kfuncs, which the verifier accepts only for JIT-compiled
 * programs ("JIT is required for calling kernel function"). With the JIT
 * off (tools/test -D turns it off so that KASAN sees BPF code) switch it
 * on for this one load and back off: the kernel's sfr code, which these
 * tests are about, is instrumented either way.
 */
static int load_sum(struct sum_bpf **skel)
{
	static const char jit[] = "/proc/sys/net/core/bpf_jit_enable";
	static int said;
	char was = '1';
	int fd = open(jit, O_RDWR), err;

	if (fd >= 0 && pread(fd, &was, 1, 0) == 1 && was == '0') {
		if (pwrite(fd, "1", 1, 0) != 1)
			was = '1';
		else if (!said++)
			ksft_print_msg("loading sum.bpf.c with the JIT on for a moment: it calls kfuncs\n");
	}
	*skel = sum_bpf__open();
	err = *skel ? 0 : -1;
	if (!err) {
		bpf_program__set_type((*skel)->progs.sum_lines,
				      BPF_PROG_TYPE_SFR);
		bpf_program__set_expected_attach_type((*skel)->progs.sum_lines,
						      BPF_SFR_READ);
		err = sum_bpf__load(*skel);
	}
	if (fd >= 0) {
		if (was == '0' && pwrite(fd, "0", 1, 0) != 1)
			err = -1;
		close(fd);
	}
	return err ? -1 : bpf_program__fd((*skel)->progs.sum_lines);
}

/* Lines of signed decimal numbers, some CRLF, blank or overlong. */
static void gen_lines(__u64 *rng, unsigned char *p, size_t len)
{
	size_t n = 0;

	while (n < len) {
		char line[64];
		__u64 r = rnd(rng);
		int k = 0, d, digits;

		if (r % 17 == 0) {
			line[k++] = '\n';
		} else {
			if (r % 3 == 0)
				line[k++] = '-';
			digits = 1 + below(rng, r % 23 == 0 ? 22 : 9);
			for (d = 0; d < digits; d++)
				line[k++] = '0' + below(rng, 10);
			if (r % 11 == 0)
				line[k++] = '\r';
			line[k++] = '\n';
		}
		if ((size_t)k > len - n)
			k = len - n;
		memcpy(p + n, line, k);
		n += k;
	}
}

static long env_long(const char *name, long def)
{
	const char *v = getenv(name);
	char *end;
	long n;

	if (!v || !*v)
		return def;
	errno = 0;
	n = strtol(v, &end, 0);
	return errno || *end || n < 0 ? def : n;
}

static int put(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY);
	ssize_t n = -1;

	if (fd >= 0) {
		n = write(fd, val, strlen(val));
		close(fd);
	}
	return n == (ssize_t)strlen(val) ? 0 : -1;
}

static int attr_put(const char *attr, const char *file, const char *val)
{
	char path[256];

	snprintf(path, sizeof(path), DEBUGFS "/%s/%s", attr, file);
	return put(path, val);
}

static long attr_get(const char *attr, const char *file)
{
	char path[256], buf[32];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), DEBUGFS "/%s/%s", attr, file);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	return strtol(buf, NULL, 0);
}

static int attr_have(const char *attr)
{
	char path[256];

	snprintf(path, sizeof(path), DEBUGFS "/%s/probability", attr);
	return access(path, W_OK) == 0;
}

static const char *const all_attrs[] = {
	"failslab", "fail_page_alloc", "fail_usercopy",
};

/*
 * Arm @attr: fail @prob percent of the calls of tasks that have
 * make-it-fail set (0: only through fail-nth), silently (verbose 0: no
 * stack dumps in the log), at most TIMES times; allocations that may sleep
 * and order-0 pages included.
 */
static int attr_arm(const char *attr, int prob)
{
	char v[16];
	int err = 0;

	err |= attr_put(attr, "probability", "0");
	err |= attr_put(attr, "task-filter", "Y");
	err |= attr_put(attr, "verbose", "0");
	err |= attr_put(attr, "space", "0");
	err |= attr_put(attr, "interval", "1");
	snprintf(v, sizeof(v), "%d", TIMES);
	err |= attr_put(attr, "times", v);
	if (strcmp(attr, "fail_usercopy"))
		err |= attr_put(attr, "ignore-gfp-wait", "N");
	if (!strcmp(attr, "fail_page_alloc")) {
		err |= attr_put(attr, "ignore-gfp-highmem", "N");
		err |= attr_put(attr, "min-order", "0");
	}
	snprintf(v, sizeof(v), "%d", prob);
	err |= attr_put(attr, "probability", v);
	return err ? -1 : 0;
}

/* Back to the kernel's defaults (FAULT_ATTR_INITIALIZER and the filters). */
static void attr_disarm(const char *attr)
{
	if (!attr_have(attr))
		return;
	attr_put(attr, "probability", "0");
	attr_put(attr, "task-filter", "N");
	attr_put(attr, "verbose", "2");
	attr_put(attr, "times", "1");
	if (strcmp(attr, "fail_usercopy"))
		attr_put(attr, "ignore-gfp-wait", "Y");
	if (!strcmp(attr, "fail_page_alloc")) {
		attr_put(attr, "ignore-gfp-highmem", "Y");
		attr_put(attr, "min-order", "1");
	}
}

/* Injections so far, from the attributes' remaining "times". */
static long injected(const char *const *attrs, int n)
{
	long sum = 0;
	int i;

	for (i = 0; i < n; i++)
		sum += TIMES - attr_get(attrs[i], "times");
	return sum;
}

/* Write "0"/"1" to a make-it-fail or fail-nth file, riding out EFAULT. */
static void set_flag(int fd, const char *v)
{
	int tries;

	for (tries = 0; tries < 100000; tries++)
		if (pwrite(fd, v, strlen(v), 0) == (ssize_t)strlen(v))
			return;
	abort();
}

/*
 * make-it-fail of this process's io-wq workers (threads named iou-wrk-*),
 * which run the io_uring reads; they are created without it, so that no
 * thread creation runs under fault injection. Returns how many were set.
 */
static int flag_workers(const char *v)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *e;
	int n = 0;

	if (!d)
		return 0;
	while ((e = readdir(d))) {
		char p[320], comm[32];
		ssize_t k;
		int fd;

		if (e->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "/proc/self/task/%s/comm", e->d_name);
		fd = open(p, O_RDONLY);
		if (fd < 0)
			continue;
		k = read(fd, comm, sizeof(comm) - 1);
		close(fd);
		if (k < 8 || strncmp(comm, "iou-wrk-", 8))
			continue;
		snprintf(p, sizeof(p), "/proc/self/task/%s/make-it-fail",
			 e->d_name);
		fd = open(p, O_WRONLY);
		if (fd < 0)
			continue;
		set_flag(fd, v);
		close(fd);
		n++;
	}
	closedir(d);
	return n;
}

enum how { BY_PREAD, BY_READ, BY_URING, NR_HOW };

static const char *const how_name[NR_HOW] = { "pread", "read", "io_uring" };

struct result {
	ssize_t n;
	int err;
	off_t pos;	/* read(): the position afterwards */
};

/* What the passes count. */
struct tally {
	long reads[NR_HOW], exact, failed, cold;
	long enomem, efault, eio, eintr, ecanceled;
	long wrong, moved, badno, recheck_bad, no_worker;
	char why[600];
};

static void note(struct tally *t, long *ctr, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void note(struct tally *t, long *ctr, const char *fmt, ...)
{
	va_list ap;

	if (!(*ctr)++) {
		va_start(ap, fmt);
		vsnprintf(t->why, sizeof(t->why), fmt, ap);
		va_end(ap);
	}
}

/* Is @r the frame @l must return at @off? 1 yes, 0 no (why in @msg). */
static int frame_exact(const unsigned char *c, __u64 size, struct link *l,
		       __u64 off, const struct result *r,
		       const unsigned char *buf, enum how how, char *msg,
		       size_t mlen)
{
	struct sfr_frame fr;
	struct sum_state st;
	struct want w;

	if (off >= size) {
		snprintf(msg, mlen, "%s at %llu of %llu bytes returned %zd, want 0",
			 how_name[how], (unsigned long long)off,
			 (unsigned long long)size, r->n);
		return r->n == 0 &&
		       (how != BY_READ || r->pos == (off_t)off);
	}
	want_frame(c, size, off, l->window, l->delim, &w);
	if (r->n != (ssize_t)FRAME) {
		snprintf(msg, mlen, "%s at %llu (window %llu%s) returned %zd, want %zu",
			 how_name[how], (unsigned long long)off,
			 (unsigned long long)l->window,
			 l->delim ? ", delim" : "", r->n, FRAME);
		return 0;
	}
	memcpy(&fr, buf, sizeof(fr));
	memcpy(&st, buf + sizeof(fr), sizeof(st));
	snprintf(msg, mlen,
		 "%s at %llu (window %llu%s): in_off %llu in_len %llu flags %#x count %llu sum %lld; want in_len %llu flags %#x count %llu sum %lld",
		 how_name[how], (unsigned long long)off,
		 (unsigned long long)l->window, l->delim ? ", delim" : "",
		 (unsigned long long)fr.in_off, (unsigned long long)fr.in_len,
		 fr.flags, (unsigned long long)st.count, (long long)st.sum,
		 (unsigned long long)w.in_len, w.eof ? SFR_FRAME_EOF : 0,
		 (unsigned long long)w.a.count, (long long)w.a.sum);
	if (fr.hdr_len != sizeof(fr) || fr.state_len != sizeof(st) ||
	    fr.out_len || fr.in_off != off || fr.in_len != w.in_len ||
	    fr.flags != (w.eof ? SFR_FRAME_EOF : 0) ||
	    st.count != w.a.count || (__u64)st.sum != w.a.sum)
		return 0;
	if (how == BY_READ && r->pos != (off_t)(off + w.in_len)) {
		snprintf(msg, mlen, "read at %llu: exact frame, but position %lld, want %llu",
			 (unsigned long long)off, (long long)r->pos,
			 (unsigned long long)(off + w.in_len));
		return 0;
	}
	return 1;
}

/* Sort a result into @t: exact, an allowed errno, or a failure. */
static void judge(struct tally *t, const unsigned char *c, __u64 size,
		  struct link *l, __u64 off, enum how how,
		  const struct result *r, const unsigned char *buf)
{
	char msg[512];

	t->reads[how]++;
	if (r->n >= 0) {
		if (frame_exact(c, size, l, off, r, buf, how, msg, sizeof(msg)))
			t->exact++;
		else
			note(t, &t->wrong, "wrong answer: %s", msg);
		return;
	}
	t->failed++;
	switch (r->err) {
	case ENOMEM:
		t->enomem++;
		break;
	case EFAULT:
		t->efault++;
		break;
	case EIO:
		t->eio++;
		break;
	case EINTR:
		t->eintr++;
		break;
	case ECANCELED:
		if (how == BY_URING) {
			t->ecanceled++;
			break;
		}
		/* fall through */
	default:
		note(t, &t->badno, "%s at %llu (window %llu%s) failed with %s, not a documented errno",
		     how_name[how], (unsigned long long)off,
		     (unsigned long long)l->window, l->delim ? ", delim" : "",
		     strerrorname_np(r->err) ?: "?");
		return;
	}
	if (how == BY_READ && r->pos != (off_t)off)
		note(t, &t->moved, "read at %llu failed with %s but moved the position to %lld",
		     (unsigned long long)off, strerrorname_np(r->err),
		     (long long)r->pos);
}

/* One read of @l at @off; @mif: make-it-fail fd to set around it, or -1. */
static void do_read(struct io_uring *ring, struct link *l, enum how how,
		    __u64 off, unsigned char *buf, size_t blen, int mif,
		    int workers, struct result *r)
{
	struct io_uring_cqe *cqe;
	struct io_uring_sqe *sqe;
	int ret;

	r->pos = -1;
	switch (how) {
	case BY_PREAD:
		if (mif >= 0)
			set_flag(mif, "1");
		r->n = pread(l->rfd, buf, blen, off);
		r->err = errno;
		if (mif >= 0)
			set_flag(mif, "0");
		break;
	case BY_READ:
		if (lseek(l->rfd, off, SEEK_SET) != (off_t)off) {
			r->n = -1;
			r->err = errno;
			break;
		}
		if (mif >= 0)
			set_flag(mif, "1");
		r->n = read(l->rfd, buf, blen);
		r->err = errno;
		if (mif >= 0)
			set_flag(mif, "0");
		r->pos = lseek(l->rfd, 0, SEEK_CUR);
		break;
	default:
		if (workers)
			flag_workers("1");
		sqe = io_uring_get_sqe(ring);
		io_uring_prep_read(sqe, l->rfd, buf, blen, off);
		io_uring_sqe_set_flags(sqe, IOSQE_ASYNC);
		ret = io_uring_submit(ring);
		if (ret == 1)
			ret = io_uring_wait_cqe(ring, &cqe);
		else
			ret = ret < 0 ? ret : -EIO;
		if (workers)
			flag_workers("0");
		if (ret) {
			r->n = -1;
			r->err = -ret;
			break;
		}
		r->n = cqe->res < 0 ? -1 : cqe->res;
		r->err = cqe->res < 0 ? -cqe->res : 0;
		io_uring_cqe_seen(ring, cqe);
		break;
	}
}

/* Make sure io-wq has workers to flag: a few asynchronous no-ops. */
static void spawn_workers(struct io_uring *ring)
{
	struct io_uring_cqe *cqe;
	int i;

	for (i = 0; i < 2; i++) {
		struct io_uring_sqe *sqe = io_uring_get_sqe(ring);

		io_uring_prep_nop(sqe);
		io_uring_sqe_set_flags(sqe, IOSQE_ASYNC);
	}
	if (io_uring_submit(ring) != 2)
		return;
	for (i = 0; i < 2; i++)
		if (!io_uring_wait_cqe(ring, &cqe))
			io_uring_cqe_seen(ring, cqe);
}

FIXTURE(fault) {
	struct sum_bpf *skel;
	int prog, dfd, mif, nth;
	char path[4096];
	unsigned char *c;
	size_t size;
	struct link l[NLINK];
	struct io_uring ring;
	__u64 rng;
};

FIXTURE_SETUP(fault)
{
	const char *dir = getenv("SFR_DIR") ?: "/tmp";
	__u64 seed = env_long("SFR_FAULT_SEED", 1);
	int fd, i;

	self->mif = self->nth = self->dfd = -1;
	for (i = 0; i < NLINK; i++)
		self->l[i].lfd = self->l[i].rfd = -1;
	self->rng = seed;
	self->size = 600000 + below(&self->rng, 4096);
	self->c = malloc(self->size);
	ASSERT_NE(NULL, self->c);
	gen_lines(&self->rng, self->c, self->size);
	snprintf(self->path, sizeof(self->path), "%s/sfr-fault.%d", dir,
		 getpid());
	fd = open(self->path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	ASSERT_GE(fd, 0);
	ASSERT_EQ((ssize_t)self->size, write(fd, self->c, self->size));
	ASSERT_EQ(0, fsync(fd));
	close(fd);
	/* O_NOATIME: no journal work for atime in the faulted reads. */
	self->dfd = open(self->path, O_RDONLY | O_NOATIME);
	ASSERT_GE(self->dfd, 0);
	self->prog = load_sum(&self->skel);
	ASSERT_GE(self->prog, 0);
	ASSERT_EQ(0, link_open(self->prog, self->dfd, 65536 + 123, 1, &self->l[0]));
	ASSERT_EQ(0, link_open(self->prog, self->dfd, 0, 1, &self->l[1]));
	ASSERT_EQ(0, link_open(self->prog, self->dfd, 20000, 0, &self->l[2]));
	ASSERT_EQ(0, io_uring_queue_init(8, &self->ring, 0));
	self->mif = open("/proc/thread-self/make-it-fail", O_WRONLY);
	self->nth = open("/proc/thread-self/fail-nth", O_RDWR);
	/* No page faults in user memory while faults are injected. */
	mlockall(MCL_CURRENT | MCL_FUTURE);
}

FIXTURE_TEARDOWN(fault)
{
	unsigned int i;

	if (self->nth >= 0)
		set_flag(self->nth, "0");
	if (self->mif >= 0)
		set_flag(self->mif, "0");
	for (i = 0; i < sizeof(all_attrs) / sizeof(all_attrs[0]); i++)
		attr_disarm(all_attrs[i]);
	for (i = 0; i < NLINK; i++)
		link_close(&self->l[i]);
	if (self->dfd >= 0)
		close(self->dfd);
	unlink(self->path);
	sum_bpf__destroy(self->skel);
	free(self->c);
}

/* Drop the file's pages: POSIX_FADV_DONTNEED, sometimes every clean page. */
static void evict(FIXTURE_DATA(fault) *self, struct tally *t)
{
	posix_fadvise(self->dfd, 0, 0, POSIX_FADV_DONTNEED);
	if (!below(&self->rng, 25))
		put("/proc/sys/vm/drop_caches", "1");
	t->cold++;
}

/* An offset: a window start, anywhere, or at/after the end. */
static __u64 pick_off(FIXTURE_DATA(fault) *self, struct link *l)
{
	switch (below(&self->rng, 6)) {
	case 0:
		return 0;
	case 1:
		return self->size + below(&self->rng, 3);
	case 2:
	case 3:
		if (l->window)
			return below(&self->rng, self->size / l->window + 1) *
			       l->window;
		return 0;
	default:
		return below(&self->rng, self->size);
	}
}

static int on_tmpfs(int fd)
{
	struct statfs sf;

	return !fstatfs(fd, &sf) && sf.f_type == TMPFS_MAGIC;
}

/* The data file still holds the bytes it was written with. */
static int data_intact(FIXTURE_DATA(fault) *self)
{
	unsigned char *buf = malloc(self->size + 1);
	int ok = buf && pread(self->dfd, buf, self->size + 1, 0) ==
				(ssize_t)self->size &&
		 !memcmp(buf, self->c, self->size);

	free(buf);
	return ok;
}

static void print_tally(const char *what, const struct tally *t, long inj)
{
	ksft_print_msg("%s: %ld reads (pread %ld, read %ld, io_uring %ld; %ld cold), %ld exact, %ld failed (ENOMEM %ld, EFAULT %ld, EIO %ld, EINTR %ld, ECANCELED %ld), %ld injections\n",
		       what, t->reads[BY_PREAD] + t->reads[BY_READ] +
		       t->reads[BY_URING], t->reads[BY_PREAD], t->reads[BY_READ],
		       t->reads[BY_URING], t->cold, t->exact, t->failed,
		       t->enomem, t->efault, t->eio, t->eintr, t->ecanceled, inj);
}

/*
 * Random faults from @attrs at @prob percent: many reads, every one exact
 * or an allowed error; a failed one is repeated without faults and must
 * then be exact.
 */
static void random_pass(struct __test_metadata *_metadata,
			FIXTURE_DATA(fault) *self, const char *const *attrs,
			int nattr, int prob, int pages_only, const char *what)
{
	long nreads = env_long("SFR_FAULT_READS", 300);
	long secs = env_long("SFR_FAULT_SECS", 10);
	long big = env_long("SFR_FAULT_BIG", 1);
	static unsigned char buf[BIG_BUF];
	struct tally t = { 0 };
	struct timespec t0, now;
	long i, inj;
	int a;

	for (a = 0; a < nattr; a++)
		if (!attr_have(attrs[a]))
			SKIP(return, "no %s/%s: this kernel has no fault injection (CONFIG_FAULT_INJECTION_DEBUG_FS)",
			     DEBUGFS, attrs[a]);
	if (self->mif < 0)
		SKIP(return, "no /proc/thread-self/make-it-fail");
	for (a = 0; a < nattr; a++)
		ASSERT_EQ(0, attr_arm(attrs[a], prob));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < nreads; i++) {
		struct link *l = &self->l[below(&self->rng, NLINK)];
		enum how how = below(&self->rng, NR_HOW);
		__u64 off = pick_off(self, l);
		size_t blen = big && !below(&self->rng, 3) ? BIG_BUF :
			      below(&self->rng, 3) ? FRAME : 4096;
		struct result r;
		int workers = 1;

		if (!below(&self->rng, 3))
			evict(self, &t);
		if (how == BY_URING && !flag_workers("0")) {
			spawn_workers(&self->ring);
			if (!flag_workers("0")) {
				t.no_worker++;
				workers = 0;
			}
		}
		do_read(&self->ring, l, how, off, buf, blen, self->mif,
			workers, &r);
		judge(&t, self->c, self->size, l, off, how, &r, buf);
		if (r.n < 0) {
			char msg[512];

			do_read(&self->ring, l, BY_PREAD, off, buf, FRAME, -1, 0,
				&r);
			if (!frame_exact(self->c, self->size, l, off, &r, buf,
					 BY_PREAD, msg, sizeof(msg)))
				note(&t, &t.recheck_bad, "after a failed read: %s (%s)",
				     msg, r.n < 0 ? strerrorname_np(r.err) : "ok");
		}
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec - t0.tv_sec >= secs)
			break;
	}
	inj = injected(attrs, nattr);
	for (a = 0; a < nattr; a++)
		attr_disarm(attrs[a]);
	print_tally(what, &t, inj);
	if (t.no_worker)
		ksft_print_msg("%ld io_uring reads found no io-wq worker to flag\n",
			       t.no_worker);
	if (t.wrong || t.badno || t.moved || t.recheck_bad)
		TH_LOG("%s", t.why);
	EXPECT_EQ(0, t.wrong);
	EXPECT_EQ(0, t.badno);
	EXPECT_EQ(0, t.moved);
	EXPECT_EQ(0, t.recheck_bad);
	EXPECT_GT(t.exact, 0);
	EXPECT_TRUE(data_intact(self));
	/*
	 * Page allocations only: tmpfs reads allocate no pages (no page
	 * cache misses, buffers of at most a page come from slab caches).
	 */
	if (pages_only && on_tmpfs(self->dfd)) {
		ksft_print_msg("tmpfs: sfr reads allocate no pages, so no failed read is required\n");
		return;
	}
	EXPECT_GT(inj, 0);
	EXPECT_GT(t.failed, 0);
}

TEST_F_TIMEOUT(fault, failslab, 600)
{
	static const char *const a[] = { "failslab" };

	random_pass(_metadata, self, a, 1, 10, 0, "failslab 10%");
}

TEST_F_TIMEOUT(fault, fail_page_alloc, 600)
{
	static const char *const a[] = { "fail_page_alloc" };

	random_pass(_metadata, self, a, 1, 20, 1, "fail_page_alloc 20%");
}

TEST_F_TIMEOUT(fault, fail_usercopy, 600)
{
	static const char *const a[] = { "fail_usercopy" };

	random_pass(_metadata, self, a, 1, 25, 0, "fail_usercopy 25%");
}

TEST_F_TIMEOUT(fault, all_three, 600)
{
	random_pass(_metadata, self, all_attrs, 3, 4, 0,
		    "failslab + fail_page_alloc + fail_usercopy 4%");
}

/* The fail-nth value left after a call: > 0 means no fault was injected. */
static long nth_left(int fd)
{
	char buf[16];
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);

	/* The read's own copy to user space took the last count. */
	if (n < 0 && errno == EFAULT)
		return 1;
	if (n <= 0)
		return -1;
	buf[n] = 0;
	return strtol(buf, NULL, 10);
}

/*
 * Fail every fault site of one request once: for n = 1, 2, ... fail the
 * n-th call of failslab, fail_page_alloc or fail_usercopy in this task
 * (/proc/thread-self/fail-nth) until the request has fewer than n sites.
 */
static void nth_scenario(struct __test_metadata *_metadata,
			 FIXTURE_DATA(fault) *self, struct tally *t,
			 struct link *l, enum how how, __u64 off, size_t blen,
			 int cold, const char *what)
{
	unsigned char buf[4096 + 64];
	char v[16], msg[512];
	long n, left = 0, sites = 0, failed = t->failed;
	struct result r;

	for (n = 1; n <= 5000; n++) {
		if (cold)
			evict(self, t);
		if (how == BY_READ)
			ASSERT_EQ((off_t)off, lseek(l->rfd, off, SEEK_SET));
		snprintf(v, sizeof(v), "%ld", n);
		set_flag(self->nth, v);
		if (how == BY_READ) {
			r.n = read(l->rfd, buf, blen);
			r.err = errno;
		} else {
			r.n = pread(l->rfd, buf, blen, off);
			r.err = errno;
		}
		left = nth_left(self->nth);
		set_flag(self->nth, "0");
		if (how == BY_READ)
			r.pos = lseek(l->rfd, 0, SEEK_CUR);
		judge(t, self->c, self->size, l, off, how, &r, buf);
		if (left > 0)
			break;		/* done: fewer than n sites */
		sites++;
		if (r.n < 0) {
			do_read(&self->ring, l, BY_PREAD, off, buf, FRAME, -1, 0,
				&r);
			if (!frame_exact(self->c, self->size, l, off, &r, buf,
					 BY_PREAD, msg, sizeof(msg)))
				note(t, &t->recheck_bad, "after the fault at site %ld: %s (%s)",
				     n, msg, r.n < 0 ? strerrorname_np(r.err) : "ok");
		}
	}
	ksft_print_msg("%s: %ld fault sites, %ld of them failed the read\n",
		       what, sites, t->failed - failed);
	EXPECT_GT(left, 0) TH_LOG("%s: still injecting after %ld sites", what,
				  n - 1);
	EXPECT_GT(sites, 0);
}

TEST_F_TIMEOUT(fault, every_site_once, 900)
{
	struct tally t = { 0 };
	unsigned int a;
	long inj;

	for (a = 0; a < sizeof(all_attrs) / sizeof(all_attrs[0]); a++)
		if (!attr_have(all_attrs[a]))
			SKIP(return, "no %s/%s: this kernel has no fault injection (CONFIG_FAULT_INJECTION_DEBUG_FS)",
			     DEBUGFS, all_attrs[a]);
	if (self->nth < 0)
		SKIP(return, "no /proc/thread-self/fail-nth");
	/* Probability 0: only fail-nth injects, in this task only. */
	for (a = 0; a < sizeof(all_attrs) / sizeof(all_attrs[0]); a++)
		ASSERT_EQ(0, attr_arm(all_attrs[a], 0));

	nth_scenario(_metadata, self, &t, &self->l[0], BY_PREAD, 65536 + 123,
		     FRAME, 0, "warm pread, delim, window 65659");
	nth_scenario(_metadata, self, &t, &self->l[2], BY_READ, 40000, 4096,
		     0, "warm read(), no delim, window 20000, 4 KiB buffer");
	nth_scenario(_metadata, self, &t, &self->l[0], BY_PREAD, 200000,
		     FRAME, 1, "cold pread, delim, window 65659, mid-window");
	nth_scenario(_metadata, self, &t, &self->l[0], BY_READ, 0, FRAME, 1,
		     "cold read(), delim, window 65659, from 0");
	inj = injected(all_attrs, 3);
	print_tally("fail-nth", &t, inj);
	if (t.wrong || t.badno || t.moved || t.recheck_bad)
		TH_LOG("%s", t.why);
	EXPECT_EQ(0, t.wrong);
	EXPECT_EQ(0, t.badno);
	EXPECT_EQ(0, t.moved);
	EXPECT_EQ(0, t.recheck_bad);
	EXPECT_GT(t.failed, 0);
	EXPECT_TRUE(data_intact(self));
}

/* ---- an I/O error under a cold read ---------------------------------- */

FIXTURE(eio) {
	struct sum_bpf *skel;
	int prog, dfd;
	unsigned char *c;
	size_t size;
	struct link l[NLINK];
	struct io_uring ring;
};

FIXTURE_SETUP(eio)
{
	int i;

	self->dfd = -1;
	for (i = 0; i < NLINK; i++)
		self->l[i].lfd = self->l[i].rfd = -1;
	self->prog = load_sum(&self->skel);
	ASSERT_GE(self->prog, 0);
	ASSERT_EQ(0, io_uring_queue_init(8, &self->ring, 0));
}

FIXTURE_TEARDOWN(eio)
{
	int i;

	for (i = 0; i < NLINK; i++)
		link_close(&self->l[i]);
	if (self->dfd >= 0)
		close(self->dfd);
	sum_bpf__destroy(self->skel);
	free(self->c);
}

static unsigned char *read_all(const char *path, size_t *size)
{
	struct stat st;
	unsigned char *c;
	int fd = open(path, O_RDONLY);

	if (fd < 0 || fstat(fd, &st))
		return NULL;
	c = malloc(st.st_size + 1);
	if (c && pread(fd, c, st.st_size, 0) != st.st_size) {
		free(c);
		c = NULL;
	}
	close(fd);
	*size = st.st_size;
	return c;
}

/* Are all pages of [from, to) of the data file in the page cache? */
static int resident(const unsigned char *vec, __u64 from, __u64 to)
{
	__u64 p;

	for (p = from / 4096; p <= (to - 1) / 4096; p++)
		if (!(vec[p] & 1))
			return 0;
	return 1;
}

TEST_F_TIMEOUT(eio, lower_fs_shut_down, 600)
{
	const char *data = getenv("SFR_EIO_DATA");
	const char *ref = getenv("SFR_EIO_REF");
	const char *lower = getenv("SFR_EIO_LOWER");
	long exact = 0, eio = 0, wrong = 0, reads = 0, cached = 0;
	unsigned char buf[FRAME], *vec, *raw;
	__u32 how_down = SHUTDOWN_NOLOGFLUSH;
	__u64 pages, off;
	struct result r;
	char msg[512];
	void *map;
	int i, fd, h;

	if (!data || !ref || !lower)
		SKIP(return, "SFR_EIO_DATA, SFR_EIO_REF, SFR_EIO_LOWER not set (guest/sfr-fault.sh sets them up)");
	self->c = read_all(ref, &self->size);
	ASSERT_NE(NULL, self->c);
	ASSERT_GT(self->size, (size_t)1 << 20);
	self->dfd = open(data, O_RDONLY);
	ASSERT_GE(self->dfd, 0);
	ASSERT_EQ(0, link_open(self->prog, self->dfd, 65536 + 123, 1, &self->l[0]));
	ASSERT_EQ(0, link_open(self->prog, self->dfd, 0, 1, &self->l[1]));
	ASSERT_EQ(0, link_open(self->prog, self->dfd, 20000, 0, &self->l[2]));

	/* Cold, then read two stretches of the file through sfr. */
	ASSERT_EQ(0, posix_fadvise(self->dfd, 0, 0, POSIX_FADV_DONTNEED));
	put("/proc/sys/vm/drop_caches", "1");
	do_read(&self->ring, &self->l[0], BY_PREAD, 0, buf, FRAME, -1, 0, &r);
	ASSERT_TRUE(frame_exact(self->c, self->size, &self->l[0], 0, &r, buf,
				BY_PREAD, msg, sizeof(msg))) TH_LOG("%s", msg);
	off = self->size / 2 / 20000 * 20000;
	do_read(&self->ring, &self->l[2], BY_PREAD, off, buf, FRAME, -1, 0, &r);
	ASSERT_TRUE(frame_exact(self->c, self->size, &self->l[2], off, &r, buf,
				BY_PREAD, msg, sizeof(msg))) TH_LOG("%s", msg);
	/* Let readahead finish, then note which pages are cached. */
	sleep(2);
	pages = (self->size + 4095) / 4096;
	vec = calloc(pages, 1);
	ASSERT_NE(NULL, vec);
	map = mmap(NULL, self->size, PROT_READ, MAP_SHARED, self->dfd, 0);
	ASSERT_NE(MAP_FAILED, map);
	ASSERT_EQ(0, mincore(map, self->size, vec));
	munmap(map, self->size);
	for (i = 0; i < (int)pages; i++)
		cached += vec[i] & 1;

	/* From now on every read of the upper loop device fails. */
	fd = open(lower, O_RDONLY | O_DIRECTORY);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(0, ioctl(fd, FS_SHUTDOWN, &how_down));
	close(fd);

	for (h = 0; h < NR_HOW; h++) {
		for (i = 0; i < NLINK; i++) {
			struct link *l = &self->l[i];

			for (off = 0; off < self->size; off += l->window) {
				struct want w;
				int need;

				want_frame(self->c, self->size, off, l->window,
					   l->delim, &w);
				need = !resident(vec, w.need_from, off + w.in_len);
				do_read(&self->ring, l, h, off, buf, FRAME, -1,
					0, &r);
				reads++;
				if (need && r.n < 0 && r.err == EIO &&
				    (h != BY_READ || r.pos == (off_t)off)) {
					eio++;
				} else if (!need &&
					   frame_exact(self->c, self->size, l,
						       off, &r, buf, h, msg,
						       sizeof(msg))) {
					exact++;
				} else {
					if (!wrong++)
						TH_LOG("%s at %llu (window %llu%s), %s: returned %zd (%s), position %lld; %s",
						       how_name[h],
						       (unsigned long long)off,
						       (unsigned long long)l->window,
						       l->delim ? ", delim" : "",
						       need ? "needs uncached pages: want EIO" : "all cached: want the frame",
						       r.n, r.n < 0 ? strerrorname_np(r.err) : "ok",
						       (long long)r.pos,
						       need ? "" : msg);
				}
				if (!l->window)
					break;
			}
		}
	}
	/* The data fd sees the same: cached bytes, or EIO. */
	raw = malloc(4096);
	ASSERT_NE(NULL, raw);
	EXPECT_EQ(4096, pread(self->dfd, raw, 4096, 0));
	EXPECT_EQ(0, memcmp(raw, self->c, 4096));
	for (i = pages - 1; i > 0 && (vec[i] & 1); i--)
		;
	EXPECT_EQ(-1, pread(self->dfd, raw, 4096, (off_t)i * 4096));
	EXPECT_EQ(EIO, errno);
	free(raw);
	free(vec);
	ksft_print_msg("%zu-byte file, %llu of %llu pages cached when the lower file system went down: %ld reads, %ld exact, %ld EIO, %ld wrong\n",
		       self->size, (unsigned long long)cached,
		       (unsigned long long)pages, reads, exact, eio, wrong);
	EXPECT_EQ(0, wrong);
	EXPECT_GT(exact, 0);
	EXPECT_GT(eio, 0);
}

TEST_HARNESS_MAIN
