// SPDX-License-Identifier: GPL-2.0
/*
 * A randomized, time-bounded test of sfr result files in the spirit of
 * fstests' fsx (an independent implementation). One writer, the test's main
 * thread, applies random operations with a printed seed to a data file and
 * keeps an in-memory model of its bytes: pwrite of decimal-number lines (and
 * sometimes arbitrary bytes) at random offsets, appends, ftruncate (shrink
 * and grow), fallocate (punch hole, zero range, allocate), writes through a
 * shared mapping and through O_DIRECT, write-back and eviction of the page
 * cache. Meanwhile two scanner threads read result files of bpf/sum.bpf.c
 * links on the file with random windows (with and without a '\n'
 * delimiter) through pread(), read() and io_uring (mostly IOSQE_ASYNC):
 *
 * - during mutation every read must return 0 or a well-formed frame
 *   (hdr_len 32, state_len == scratch_size, no output, in_off the offset
 *   asked for, in_off + in_len within the largest size the file had, the
 *   count no larger than in_len, no STOP/FULL flag), a read() must move the
 *   position by exactly in_len (not at all after an error), and an error
 *   must be EIO, ENOMEM or EINTR (Documentation/bpf/sfr.rst); a read that
 *   no operation overlapped (a seqcount around each operation's system
 *   calls tells) must return exactly what the model predicts;
 * - at quiescent points (the writer paused every few dozen operations) the
 *   model must equal the file (fstat and a plain pread of the data fd), and
 *   both scanners scan the whole file through fresh links with new random
 *   windows (pread of every window, io_uring of every window, a read()
 *   loop, pread of every window without delimiter): every frame must be the
 *   one a C reduce of the model predicts for its offset, and the frames of
 *   the delimited scans must add up to the reduce of the whole model.
 *
 *   SFR_DIR=DIR sfr_fsx [harness options]
 *
 * DIR: a directory on a file system that takes sfr (default /tmp).
 * SFR_FSX_SECS: how long to run (default 25 s); SFR_FSX_SEED: the seed of
 * the writer's operations (default: from the clock, always printed);
 * SFR_FSX_OPS: stop after this many operations instead; SFR_FSX_MAXSIZE:
 * the largest file size (default 1 MiB).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <linux/bpf.h>
#include <linux/falloc.h>
#include <linux/sfr.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "../../bpf/sum.h"
#include "sum.skel.h"
#include "kselftest_harness.h"

#define FRAME		(sizeof(struct sfr_frame) + sizeof(struct sum_state))
#define NSCAN		2
#define NLINK		4
#define QDEPTH		32
#define MAX_WINDOWS	256
#define LOG_OPS		32

/* splitmix64: small, seedable, good enough to pick operations. */
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

/* A length up to @max, biased to small ones. */
static __u64 rnd_len(__u64 *s, __u64 max)
{
	static const __u64 scale[] = { 64, 4096, 32768, ~0ULL };
	__u64 lim = scale[below(s, 4)];

	if (lim > max)
		lim = max;
	return lim ? 1 + below(s, lim) : 0;
}

/*
 * The reduce of bpf/sum.bpf.c, in C: decimal digits accumulate, a '-'
 * anywhere in a line makes it negative, '\n' ends a line, every other byte
 * is ignored; a line with a digit counts. Arithmetic wraps like the
 * program's 64-bit registers (sum and cur are compared as unsigned).
 */
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
	/* The SFR_F_FINI call: a last line without its newline. */
	if (in) {
		a->sum += neg ? -cur : cur;
		a->count++;
	}
}

/*
 * The frame sum.bpf.c must return for a request at @off < @size of a file
 * holding @c, by the rules of Documentation/bpf/sfr.rst: the request covers
 * the rest of the window containing @off (the file without a window); with
 * the '\n' delimiter it first skips to the first record start at or after
 * @off (looking no further than the window end) and finishes the last
 * record past the window end.
 */
struct want {
	__u64 in_len;
	struct answer a;
	int eof;
};

static void want_frame(const unsigned char *c, __u64 size, __u64 off,
		       __u64 window, int delim, struct want *w)
{
	__u64 wend = size, start = off, end, p;

	if (window && off - off % window + window < size)
		wend = off - off % window + window;
	if (!delim) {
		end = wend;
	} else {
		if (off > 0) {
			for (p = off - 1; p < wend && c[p] != '\n'; p++)
				;
			start = p < wend ? p + 1 : wend;
		}
		if (start >= wend) {
			end = wend;	/* no record starts in the window */
		} else {
			for (p = wend - 1; p < size && c[p] != '\n'; p++)
				;
			end = p < size ? p + 1 : size;
		}
	}
	memset(w, 0, sizeof(*w));
	if (start < end)
		reduce(c, start, end, &w->a);
	w->in_len = end - off;
	w->eof = end >= size;
}

/* A link of sum.bpf.c on the data file, with a result file per scanner. */
struct link {
	int lfd;
	int rfd[NSCAN];
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
	int i;

	memset(&a, 0, sizeof(a));
	a.link_create.prog_fd = prog;
	a.link_create.target_fd = dfd;
	a.link_create.attach_type = BPF_SFR_READ;
	a.link_create.sfr.opts = (unsigned long)&o;
	a.link_create.sfr.opts_len = sizeof(o);
	l->window = window;
	l->delim = delim;
	for (i = 0; i < NSCAN; i++)
		l->rfd[i] = -1;
	l->lfd = syscall(__NR_bpf, BPF_LINK_CREATE, &a, sizeof(a));
	if (l->lfd < 0)
		return -1;
	for (i = 0; i < NSCAN; i++) {
		l->rfd[i] = bpf_iter_create(l->lfd);
		if (l->rfd[i] < 0)
			return -1;
	}
	return 0;
}

static void link_close(struct link *l)
{
	int i;

	for (i = 0; i < NSCAN; i++)
		if (l->rfd[i] >= 0)
			close(l->rfd[i]);
	if (l->lfd >= 0)
		close(l->lfd);
	memset(l, 0xff, sizeof(*l));
}

/*
 * A random window for a file of about @size bytes: none, page multiples,
 * odd sizes, one larger than the file; at most MAX_WINDOWS windows.
 */
static __u64 pick_window(__u64 *s, __u64 size)
{
	__u64 w;

	switch (below(s, 8)) {
	case 0:
		return 0;
	case 1:
		w = 4096 * (1 + below(s, 64));
		break;
	case 2:
		w = size / (1 + below(s, 64)) + below(s, 4096);
		break;
	case 3:
		w = 4096 * (1 + below(s, 16)) + (below(s, 2) ? 1 : -1);
		break;
	case 4:
		w = size + 1 + below(s, 100000);
		break;
	default:
		w = 1 + below(s, 200000);
		break;
	}
	if (!w)
		w = 1;
	if (size / w >= MAX_WINDOWS)
		w = size / MAX_WINDOWS + 1 + below(s, 1000);
	return w;
}

struct fsx;

enum qhow { Q_PREAD, Q_URING, Q_READ };

struct scanner {
	struct fsx *f;
	int id;
	pthread_t th;
	__u64 rng;
	struct io_uring ring;
	/* During mutation. */
	long reads, frames, zero, eio, enomem, eintr, bad, stable;
	int backoff;		/* a read found EOF: the file shrank; wait */
	long by_pread, by_read, by_uring;
	/* At quiescent points. */
	long qframes, qbad;
	char why[512];
	unsigned char bufs[QDEPTH][4096];
	__u64 offs[MAX_WINDOWS + 1];
};

enum op {
	OP_WRITE, OP_APPEND, OP_JUNK, OP_SHRINK, OP_GROW, OP_PUNCH, OP_ZERO,
	OP_FALLOC, OP_MAPWRITE, OP_DIRECT, OP_EVICT, OP_REWRITE, NR_OPS
};

static const char *const op_name[NR_OPS] = {
	"write", "append", "junk", "shrink", "grow", "punch", "zero",
	"falloc", "mapwrite", "direct", "evict", "rewrite",
};

/* Relative frequencies of the operations. */
static const int op_weight[NR_OPS] = {
	30, 12, 5, 8, 5, 8, 4, 4, 8, 5, 4, 3,
};

struct fsx {
	char path[4096];
	int prog;
	int dfd;		/* O_RDONLY: the links' data file */
	int wfd;		/* the writer's O_RDWR descriptor */
	int afd;		/* O_WRONLY | O_APPEND */
	int xfd;		/* O_RDWR | O_DIRECT, -1 if refused */
	unsigned char *m;	/* the model: the file's bytes, zero past msize */
	unsigned char *buf, *cmp;
	void *dbuf;		/* aligned buffer for O_DIRECT */
	__u64 msize, maxsize;
	__u64 hiwater;		/* the largest size the file may have had */
	__u64 cursize;		/* msize, for the scanners to aim at */
	__u64 gen;		/* odd while an operation runs (a seqcount) */
	__u64 qsize_min, qsize_max, qsize_sum;
	__u64 rng;
	struct link cl[NLINK];	/* read during mutation */
	struct link ql[4];	/* read at the quiescent point */
	struct answer whole;	/* reduce of the whole model */
	pthread_barrier_t bar;
	int pause, stop;
	int punch_ok, zero_ok;
	long ops, op_count[NR_OPS], skipped[NR_OPS], checks, evicted;
	char log[LOG_OPS][96];
	struct scanner sc[NSCAN];
};

static void scan_bad(struct scanner *s, long *ctr, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void scan_bad(struct scanner *s, long *ctr, const char *fmt, ...)
{
	va_list ap;

	if (!(*ctr)++) {
		va_start(ap, fmt);
		vsnprintf(s->why, sizeof(s->why), fmt, ap);
		va_end(ap);
	}
}

/* ---- reads during mutation ------------------------------------------ */

static __u64 hiwater(struct fsx *f)
{
	return __atomic_load_n(&f->hiwater, __ATOMIC_ACQUIRE);
}

static __u64 gen_now(struct fsx *f)
{
	return __atomic_load_n(&f->gen, __ATOMIC_SEQ_CST);
}

/*
 * No operation ran since @g was sampled before the read: then the file
 * was the model all along, and the result must be exact. The model is
 * read optimistically, and the check dropped if an operation started.
 */
static void conc_exact(struct scanner *s, const char *how, struct link *l,
		       __u64 g, __u64 off, ssize_t n, const unsigned char *buf)
{
	struct fsx *f = s->f;
	struct sfr_frame fr = { 0 };
	struct sum_state st = { 0 };
	__u64 size;
	struct want w = { 0 };
	int eof;

	if ((g & 1) || gen_now(f) != g)
		return;
	size = __atomic_load_n(&f->cursize, __ATOMIC_SEQ_CST);
	eof = off >= size;
	if (!eof)
		want_frame(f->m, size, off, l->window, l->delim, &w);
	if (gen_now(f) != g)
		return;
	s->stable++;
	if (n > 0) {
		memcpy(&fr, buf, sizeof(fr));
		memcpy(&st, buf + sizeof(fr), sizeof(st));
	}
	if (eof ? n != 0 :
	    n != (ssize_t)FRAME || fr.in_len != w.in_len ||
	    fr.flags != (w.eof ? SFR_FRAME_EOF : 0) ||
	    st.count != w.a.count || (__u64)st.sum != w.a.sum)
		scan_bad(s, &s->bad,
			 "%s at %llu (window %llu%s) with no operation running, file size %llu: returned %zd, in_len %llu flags %#x count %llu sum %lld; want %s in_len %llu flags %#x count %llu sum %lld",
			 how, (unsigned long long)off,
			 (unsigned long long)l->window, l->delim ? ", delim" : "",
			 (unsigned long long)size, n,
			 (unsigned long long)fr.in_len, fr.flags,
			 (unsigned long long)st.count, (long long)st.sum,
			 eof ? "0 (EOF)," : "a frame,",
			 (unsigned long long)w.in_len, w.eof ? SFR_FRAME_EOF : 0,
			 (unsigned long long)w.a.count, (long long)w.a.sum);
}

static void conc_result(struct scanner *s, const char *how, struct link *l,
			__u64 g, __u64 off, ssize_t n, int err,
			const unsigned char *buf)
{
	__u64 hi = hiwater(s->f);
	struct sfr_frame fr;
	struct sum_state st;

	s->reads++;
	if (n < 0) {
		if (err == EIO)
			s->eio++;
		else if (err == ENOMEM)
			s->enomem++;
		else if (err == EINTR)
			s->eintr++;
		else
			scan_bad(s, &s->bad, "%s at %llu (window %llu%s): %s",
				 how, (unsigned long long)off,
				 (unsigned long long)l->window,
				 l->delim ? ", delim" : "", strerror(err));
		return;
	}
	if (n == 0) {
		s->zero++;
		s->backoff = 1;
		conc_exact(s, how, l, g, off, n, buf);
		return;
	}
	if (n != (ssize_t)FRAME) {
		scan_bad(s, &s->bad, "%s at %llu returned %zd, want %zu", how,
			 (unsigned long long)off, n, FRAME);
		return;
	}
	memcpy(&fr, buf, sizeof(fr));
	memcpy(&st, buf + sizeof(fr), sizeof(st));
	if (fr.hdr_len != sizeof(fr) || fr.state_len != sizeof(st) ||
	    fr.out_len || fr.in_off != off || (fr.flags & ~SFR_FRAME_EOF) ||
	    (__s64)fr.in_len < 0 || off + fr.in_len > hi ||
	    st.count > fr.in_len)
		scan_bad(s, &s->bad,
			 "%s at %llu (window %llu%s): hdr_len %u state_len %u out_len %u in_off %llu in_len %llu flags %#x count %llu; size at most %llu",
			 how, (unsigned long long)off,
			 (unsigned long long)l->window, l->delim ? ", delim" : "",
			 fr.hdr_len, fr.state_len, fr.out_len,
			 (unsigned long long)fr.in_off,
			 (unsigned long long)fr.in_len, fr.flags,
			 (unsigned long long)st.count, (unsigned long long)hi);
	else
		s->frames++;
	conc_exact(s, how, l, g, off, n, buf);
}

/* A read buffer: the exact frame size, or room for output too. */
static size_t pick_blen(__u64 *rng)
{
	switch (below(rng, 4)) {
	case 0:
		return 4096;
	case 1:
		return FRAME + below(rng, 200);
	default:
		return FRAME;
	}
}

/*
 * An offset to read at: 0, a window start, anywhere in the file, or just
 * past its end, from the size the writer last published.
 */
static __u64 pick_off(__u64 *rng, const struct link *l, struct fsx *f)
{
	__u64 size = __atomic_load_n(&f->cursize, __ATOMIC_RELAXED);

	switch (below(rng, 8)) {
	case 0:
		return 0;
	case 1:
	case 2:
	case 3:
		if (l->window)
			return below(rng, size / l->window + 1) * l->window;
		return 0;
	case 4:
		return size + below(rng, 8192);
	default:
		return below(rng, size + 1);
	}
}

static void conc_pread(struct scanner *s, struct link *l)
{
	__u64 off = pick_off(&s->rng, l, s->f);
	size_t blen = pick_blen(&s->rng);
	unsigned char buf[4096];
	__u64 g = gen_now(s->f);
	ssize_t n = pread(l->rfd[s->id], buf, blen, off);

	s->by_pread++;
	conc_result(s, "pread", l, g, off, n, errno, buf);
}

/* lseek() and a few read()s: the position moves by in_len, or not at all. */
static void conc_read(struct scanner *s, struct link *l)
{
	int rfd = l->rfd[s->id], i, k = 1 + below(&s->rng, 4);
	__u64 off = pick_off(&s->rng, l, s->f);
	unsigned char buf[4096];

	if (lseek(rfd, off, SEEK_SET) != (off_t)off) {
		scan_bad(s, &s->bad, "lseek to %llu: %s",
			 (unsigned long long)off, strerror(errno));
		return;
	}
	for (i = 0; i < k; i++) {
		size_t blen = pick_blen(&s->rng);
		__u64 g = gen_now(s->f);
		ssize_t n = read(rfd, buf, blen);
		int err = errno;
		off_t pos = lseek(rfd, 0, SEEK_CUR);
		__u64 want = off;

		s->by_read++;
		conc_result(s, "read", l, g, off, n, err, buf);
		if (n >= (ssize_t)sizeof(struct sfr_frame))
			want = off + ((struct sfr_frame *)buf)->in_len;
		if (pos < 0 || (__u64)pos != want) {
			scan_bad(s, &s->bad,
				 "read at %llu returned %zd (%s): position %lld, want %llu",
				 (unsigned long long)off, n,
				 n < 0 ? strerror(err) : "ok", (long long)pos,
				 (unsigned long long)want);
			return;
		}
		if (n <= 0)
			return;
		off = pos;
	}
}

/* Submit all prepared SQEs, riding out EINTR/EAGAIN. */
static int uring_submit_all(struct io_uring *ring, int k)
{
	int done = 0, tries = 0;

	while (done < k) {
		int r = io_uring_submit(ring);

		if (r < 0 && (r == -EINTR || r == -EAGAIN) && ++tries < 1000)
			continue;
		if (r <= 0)
			return r < 0 ? r : -EIO;
		done += r;
	}
	return done;
}

static void conc_uring(struct scanner *s, struct link *l)
{
	unsigned char (*bufs)[4096] = s->bufs;
	__u64 *offs = s->offs;
	int k = 1 + below(&s->rng, 12), i, r;
	__u64 g = gen_now(s->f);

	for (i = 0; i < k; i++) {
		struct io_uring_sqe *sqe = io_uring_get_sqe(&s->ring);

		offs[i] = pick_off(&s->rng, l, s->f);
		io_uring_prep_read(sqe, l->rfd[s->id], bufs[i],
				   pick_blen(&s->rng), offs[i]);
		if (below(&s->rng, 4))
			io_uring_sqe_set_flags(sqe, IOSQE_ASYNC);
		io_uring_sqe_set_data64(sqe, i);
	}
	r = uring_submit_all(&s->ring, k);
	if (r < 0) {
		scan_bad(s, &s->bad, "io_uring_submit: %s", strerror(-r));
		return;
	}
	for (i = 0; i < k; i++) {
		struct io_uring_cqe *cqe;
		__u64 j;

		r = io_uring_wait_cqe(&s->ring, &cqe);
		if (r) {
			scan_bad(s, &s->bad, "io_uring_wait_cqe: %s",
				 strerror(-r));
			return;
		}
		j = cqe->user_data;
		s->by_uring++;
		if (j < (__u64)k)
			conc_result(s, "io_uring read", l, g, offs[j],
				    cqe->res < 0 ? -1 : cqe->res,
				    cqe->res < 0 ? -cqe->res : 0, bufs[j]);
		io_uring_cqe_seen(&s->ring, cqe);
	}
}

static void conc_op(struct scanner *s)
{
	struct link *l = &s->f->cl[below(&s->rng, NLINK)];

	switch (below(&s->rng, 3)) {
	case 0:
		conc_pread(s, l);
		break;
	case 1:
		conc_read(s, l);
		break;
	default:
		conc_uring(s, l);
		break;
	}
	/*
	 * Reads at EOF are cheap: without a pause they would make up most
	 * reads while a long write refills a truncated file.
	 */
	if (s->backoff) {
		usleep(100 + below(&s->rng, 400));
		s->backoff = 0;
	}
}

/* ---- whole-file scans at quiescent points ------------------------------ */

/* Check one frame against the model; add its answer to @tot. */
static void q_frame(struct scanner *s, const char *how, struct link *l,
		    __u64 off, ssize_t n, int err, const unsigned char *buf,
		    struct answer *tot, __u64 *in_len)
{
	struct fsx *f = s->f;
	struct sfr_frame fr;
	struct sum_state st;
	struct want w;

	*in_len = 0;
	s->qframes++;
	if (off >= f->msize) {
		if (n != 0)
			scan_bad(s, &s->qbad,
				 "%s at %llu of a %llu-byte file returned %zd (%s), want 0",
				 how, (unsigned long long)off,
				 (unsigned long long)f->msize, n,
				 n < 0 ? strerror(err) : "ok");
		return;
	}
	want_frame(f->m, f->msize, off, l->window, l->delim, &w);
	if (n != (ssize_t)FRAME) {
		scan_bad(s, &s->qbad,
			 "%s at %llu (window %llu%s) of a %llu-byte file returned %zd (%s)",
			 how, (unsigned long long)off,
			 (unsigned long long)l->window, l->delim ? ", delim" : "",
			 (unsigned long long)f->msize, n,
			 n < 0 ? strerror(err) : "ok");
		return;
	}
	memcpy(&fr, buf, sizeof(fr));
	memcpy(&st, buf + sizeof(fr), sizeof(st));
	if (fr.hdr_len != sizeof(fr) || fr.state_len != sizeof(st) ||
	    fr.out_len || fr.in_off != off || fr.in_len != w.in_len ||
	    fr.flags != (w.eof ? SFR_FRAME_EOF : 0) ||
	    st.count != w.a.count || (__u64)st.sum != w.a.sum) {
		scan_bad(s, &s->qbad,
			 "%s at %llu (window %llu%s) of a %llu-byte file: in_off %llu in_len %llu flags %#x count %llu sum %lld; want in_len %llu flags %#x count %llu sum %lld",
			 how, (unsigned long long)off,
			 (unsigned long long)l->window, l->delim ? ", delim" : "",
			 (unsigned long long)f->msize,
			 (unsigned long long)fr.in_off,
			 (unsigned long long)fr.in_len, fr.flags,
			 (unsigned long long)st.count, (long long)st.sum,
			 (unsigned long long)w.in_len, w.eof ? SFR_FRAME_EOF : 0,
			 (unsigned long long)w.a.count, (long long)w.a.sum);
		return;
	}
	tot->count += st.count;
	tot->sum += st.sum;
	*in_len = fr.in_len;
}

/* Window starts of @l over the model: 0, W, 2W, ... */
static int q_offsets(struct fsx *f, struct link *l, __u64 *offs)
{
	int k = 0;
	__u64 off = 0;

	do {
		offs[k++] = off;
		off += l->window;
	} while (l->window && off < f->msize && k < MAX_WINDOWS + 1);
	return k;
}

static void q_scan(struct scanner *s, struct link *l, enum qhow how)
{
	unsigned char (*bufs)[4096] = s->bufs;
	__u64 *offs = s->offs;
	struct fsx *f = s->f;
	struct answer tot = { 0 };
	__u64 in_len, covered = 0;
	int k, i, j, r;

	if (how == Q_READ) {
		int rfd = l->rfd[s->id];
		__u64 pos = 0;

		if (lseek(rfd, 0, SEEK_SET)) {
			scan_bad(s, &s->qbad, "lseek: %s", strerror(errno));
			return;
		}
		for (i = 0; i <= MAX_WINDOWS + 2; i++) {
			ssize_t n = read(rfd, bufs[0], FRAME);
			int err = errno;
			off_t now = lseek(rfd, 0, SEEK_CUR);

			q_frame(s, "read", l, pos, n, err, bufs[0], &tot,
				&in_len);
			if (now < 0 || (__u64)now != pos + in_len) {
				scan_bad(s, &s->qbad,
					 "read at %llu: position %lld, want %llu",
					 (unsigned long long)pos, (long long)now,
					 (unsigned long long)(pos + in_len));
				return;
			}
			if (n <= 0 || !in_len)
				break;
			pos += in_len;
		}
		covered = pos;
		if (covered != f->msize)
			scan_bad(s, &s->qbad,
				 "read() loop (window %llu) ended at %llu of %llu",
				 (unsigned long long)l->window,
				 (unsigned long long)covered,
				 (unsigned long long)f->msize);
	} else {
		k = q_offsets(f, l, offs);
		for (i = 0; i < k; i += QDEPTH) {
			int batch = k - i < QDEPTH ? k - i : QDEPTH;

			if (how == Q_PREAD) {
				for (j = 0; j < batch; j++) {
					ssize_t n = pread(l->rfd[s->id], bufs[0],
							  FRAME, offs[i + j]);

					q_frame(s, "pread", l, offs[i + j], n,
						errno, bufs[0], &tot, &in_len);
					covered += in_len;
				}
				continue;
			}
			for (j = 0; j < batch; j++) {
				struct io_uring_sqe *sqe =
					io_uring_get_sqe(&s->ring);

				io_uring_prep_read(sqe, l->rfd[s->id], bufs[j],
						   FRAME, offs[i + j]);
				io_uring_sqe_set_flags(sqe, IOSQE_ASYNC);
				io_uring_sqe_set_data64(sqe, j);
			}
			r = uring_submit_all(&s->ring, batch);
			if (r < 0) {
				scan_bad(s, &s->qbad, "io_uring_submit: %s",
					 strerror(-r));
				return;
			}
			for (j = 0; j < batch; j++) {
				struct io_uring_cqe *cqe;
				__u64 x;

				if (io_uring_wait_cqe(&s->ring, &cqe)) {
					scan_bad(s, &s->qbad,
						 "io_uring_wait_cqe failed");
					return;
				}
				x = cqe->user_data;
				q_frame(s, "io_uring read", l, offs[i + x],
					cqe->res < 0 ? -1 : cqe->res,
					cqe->res < 0 ? -cqe->res : 0, bufs[x],
					&tot, &in_len);
				covered += in_len;
				io_uring_cqe_seen(&s->ring, cqe);
			}
		}
		/* Without a delimiter the windows tile the file exactly. */
		if (!l->delim && covered != f->msize)
			scan_bad(s, &s->qbad,
				 "windows of %llu cover %llu of %llu bytes",
				 (unsigned long long)l->window,
				 (unsigned long long)covered,
				 (unsigned long long)f->msize);
	}
	if (l->delim && (tot.count != f->whole.count ||
			 tot.sum != f->whole.sum))
		scan_bad(s, &s->qbad,
			 "%s scan, window %llu, delim: count %llu sum %lld; the model's reduce: count %llu sum %lld",
			 how == Q_PREAD ? "pread" : how == Q_URING ? "io_uring" : "read()",
			 (unsigned long long)l->window,
			 (unsigned long long)tot.count, (long long)tot.sum,
			 (unsigned long long)f->whole.count,
			 (long long)f->whole.sum);
}

static void quiet_scan(struct scanner *s)
{
	struct fsx *f = s->f;

	if (s->id == 0) {
		q_scan(s, &f->ql[0], Q_PREAD);
		q_scan(s, &f->ql[2], Q_READ);
	} else {
		q_scan(s, &f->ql[1], Q_URING);
		q_scan(s, &f->ql[3], Q_PREAD);
	}
}

static void *scanner_main(void *arg)
{
	struct scanner *s = arg;
	struct fsx *f = s->f;

	for (;;) {
		while (!__atomic_load_n(&f->pause, __ATOMIC_ACQUIRE))
			conc_op(s);
		pthread_barrier_wait(&f->bar);	/* 1: no read in flight */
		pthread_barrier_wait(&f->bar);	/* 2: links, model, oracle */
		quiet_scan(s);
		pthread_barrier_wait(&f->bar);	/* 3: scans done */
		pthread_barrier_wait(&f->bar);	/* 4: new links; go on */
		if (__atomic_load_n(&f->stop, __ATOMIC_ACQUIRE))
			break;
	}
	return NULL;
}

/* ---- the writer ---------------------------------------------------------- */

/* @len bytes of decimal-number lines, cut wherever @len ends. */
static void gen_lines(__u64 *rng, unsigned char *p, size_t len)
{
	size_t n = 0;

	while (n < len) {
		char line[64];
		__u64 r = rnd(rng);
		int k = 0, d, digits;

		if (r % 16 == 0) {
			line[k++] = '\n';
		} else {
			if (r % 3 == 0)
				line[k++] = '-';
			if (r % 29 == 0)
				line[k++] = ' ';
			/* Sometimes more digits than 64 bits hold: wraps. */
			digits = 1 + below(rng, r % 11 == 0 ? 24 : 7);
			for (d = 0; d < digits; d++)
				line[k++] = '0' + below(rng, 10);
			if (r % 13 == 0)
				line[k++] = '\r';
			if (r % 37 == 0) {
				memcpy(line + k, " x", 2);
				k += 2;
			}
			line[k++] = '\n';
		}
		if ((size_t)k > len - n)
			k = len - n;
		memcpy(p + n, line, k);
		n += k;
	}
}

/* Arbitrary bytes, half of them from the ones the reduce cares about. */
static void gen_junk(__u64 *rng, unsigned char *p, size_t len)
{
	static const char some[] = "0123456789-\n\r x";
	size_t i;

	for (i = 0; i < len; i++) {
		__u64 r = rnd(rng);

		p[i] = r & 1 ? (unsigned char)some[(r >> 8) % (sizeof(some) - 1)] :
			       (unsigned char)(r >> 16);
	}
}

static void raise_hi(struct fsx *f, __u64 size)
{
	if (size > f->hiwater)
		__atomic_store_n(&f->hiwater, size, __ATOMIC_RELEASE);
}

static void model_write(struct fsx *f, __u64 off, const void *p, __u64 len)
{
	memcpy(f->m + off, p, len);
	if (off + len > f->msize)
		f->msize = off + len;
}

static void model_size(struct fsx *f, __u64 size)
{
	if (size < f->msize)
		memset(f->m + size, 0, f->msize - size);
	f->msize = size;
}

static void model_zero(struct fsx *f, __u64 off, __u64 len)
{
	__u64 end = off + len < f->msize ? off + len : f->msize;

	if (off < end)
		memset(f->m + off, 0, end - off);
}

static void log_op(struct fsx *f, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void log_op(struct fsx *f, const char *fmt, ...)
{
	char *slot = f->log[f->ops % LOG_OPS];
	int k = snprintf(slot, sizeof(f->log[0]), "%ld ", f->ops);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(slot + k, sizeof(f->log[0]) - k, fmt, ap);
	va_end(ap);
}

static void dump_log(struct fsx *f)
{
	long i = f->ops > LOG_OPS ? f->ops - LOG_OPS : 0;

	fprintf(stderr, "# the last operations:\n");
	for (; i < f->ops; i++)
		fprintf(stderr, "#   %s\n", f->log[i % LOG_OPS]);
}

static int pwrite_all(int fd, const void *p, size_t len, __u64 off)
{
	return pwrite(fd, p, len, off) == (ssize_t)len ? 0 : -1;
}

/* An operation starts changing the file (the seqcount goes odd). */
static void op_begin(struct fsx *f)
{
	__atomic_add_fetch(&f->gen, 1, __ATOMIC_SEQ_CST);
}

/*
 * Apply one random operation to the file and the model. Returns 0, 1 if
 * the operation was skipped (not supported here), -1 on an error (errno).
 */
static int do_op(struct fsx *f)
{
	__u64 *rng = &f->rng, room = f->maxsize - f->msize, off, len;
	int total = 0, pick, i, mode, r;
	enum op op;
	void *map;
	size_t mlen;

	for (i = 0; i < NR_OPS; i++)
		total += op_weight[i];
	pick = below(rng, total);
	for (op = 0; pick >= op_weight[op]; op++)
		pick -= op_weight[op];

	switch (op) {
	case OP_WRITE:
	case OP_JUNK:
		off = below(rng, f->msize + 4096);
		if (off >= f->maxsize)
			off = f->maxsize - 1;
		len = rnd_len(rng, f->maxsize - off);
		if (op == OP_WRITE)
			gen_lines(rng, f->buf, len);
		else
			gen_junk(rng, f->buf, len);
		log_op(f, "%s %llu+%llu (size %llu)", op_name[op],
		       (unsigned long long)off, (unsigned long long)len,
		       (unsigned long long)f->msize);
		raise_hi(f, off + len);
		op_begin(f);
		if (pwrite_all(f->wfd, f->buf, len, off))
			return -1;
		model_write(f, off, f->buf, len);
		break;
	case OP_APPEND:
		if (!room)
			return 1;
		len = rnd_len(rng, room);
		gen_lines(rng, f->buf, len);
		log_op(f, "append %llu at %llu", (unsigned long long)len,
		       (unsigned long long)f->msize);
		raise_hi(f, f->msize + len);
		op_begin(f);
		if (write(f->afd, f->buf, len) != (ssize_t)len)
			return -1;
		model_write(f, f->msize, f->buf, len);
		break;
	case OP_SHRINK:
	case OP_GROW:
		if (op == OP_SHRINK)	/* mostly by a little, to a page now and then */
			len = below(rng, 8) ? f->msize - rnd_len(rng, f->msize / 4 + 1) + 1 :
				below(rng, f->msize / 4096 + 1) * 4096;
		else if (room)
			len = f->msize + rnd_len(rng, room);
		else
			return 1;
		log_op(f, "truncate %llu -> %llu", (unsigned long long)f->msize,
		       (unsigned long long)len);
		raise_hi(f, len);
		op_begin(f);
		if (ftruncate(f->wfd, len))
			return -1;
		model_size(f, len);
		break;
	case OP_PUNCH:
	case OP_ZERO:
		if ((op == OP_PUNCH && !f->punch_ok) ||
		    (op == OP_ZERO && !f->zero_ok) || !f->msize)
			return 1;
		off = below(rng, f->msize);
		len = rnd_len(rng, f->msize - off + 8192);
		mode = FALLOC_FL_KEEP_SIZE |
		       (op == OP_PUNCH ? FALLOC_FL_PUNCH_HOLE : FALLOC_FL_ZERO_RANGE);
		log_op(f, "%s %llu+%llu (size %llu)", op_name[op],
		       (unsigned long long)off, (unsigned long long)len,
		       (unsigned long long)f->msize);
		op_begin(f);
		if (fallocate(f->wfd, mode, off, len)) {
			if (errno != EOPNOTSUPP)
				return -1;
			if (op == OP_PUNCH)
				f->punch_ok = 0;
			else
				f->zero_ok = 0;
			return 1;
		}
		model_zero(f, off, len);
		break;
	case OP_FALLOC:
		off = below(rng, f->msize + 4096);
		if (off >= f->maxsize)
			return 1;
		len = rnd_len(rng, f->maxsize - off);
		log_op(f, "falloc %llu+%llu (size %llu)",
		       (unsigned long long)off, (unsigned long long)len,
		       (unsigned long long)f->msize);
		raise_hi(f, off + len);
		op_begin(f);
		if (fallocate(f->wfd, 0, off, len)) {
			if (errno == EOPNOTSUPP)
				return 1;
			return -1;
		}
		if (off + len > f->msize)
			f->msize = off + len;
		break;
	case OP_MAPWRITE:
		if (!f->msize)
			return 1;
		off = below(rng, f->msize);
		len = rnd_len(rng, f->msize - off);
		mlen = f->msize;
		map = mmap(NULL, mlen, PROT_READ | PROT_WRITE, MAP_SHARED,
			   f->wfd, 0);
		if (map == MAP_FAILED)
			return -1;
		gen_lines(rng, f->buf, len);
		log_op(f, "mapwrite %llu+%llu (size %llu)",
		       (unsigned long long)off, (unsigned long long)len,
		       (unsigned long long)f->msize);
		op_begin(f);
		memcpy((char *)map + off, f->buf, len);
		r = below(rng, 2) ? msync(map, mlen, MS_SYNC) : 0;
		munmap(map, mlen);
		if (r)
			return -1;
		model_write(f, off, f->buf, len);
		break;
	case OP_DIRECT:
		if (f->xfd < 0)
			return 1;
		off = 4096 * below(rng, f->msize / 4096 + 2);
		len = 4096 * (1 + below(rng, 8));
		if (off + len > f->maxsize)
			return 1;
		gen_lines(rng, f->dbuf, len);
		log_op(f, "direct %llu+%llu (size %llu)",
		       (unsigned long long)off, (unsigned long long)len,
		       (unsigned long long)f->msize);
		raise_hi(f, off + len);
		op_begin(f);
		if (pwrite_all(f->xfd, f->dbuf, len, off)) {
			if (errno != EINVAL)
				return -1;
			close(f->xfd);
			f->xfd = -1;
			return 1;
		}
		model_write(f, off, f->dbuf, len);
		break;
	case OP_EVICT:
		log_op(f, "evict");
		op_begin(f);
		if (fdatasync(f->wfd) ||
		    posix_fadvise(f->dfd, 0, 0, POSIX_FADV_DONTNEED))
			return -1;
		break;
	case OP_REWRITE:
		len = f->maxsize / 8 + below(rng, f->maxsize / 2);
		gen_lines(rng, f->buf, len);
		log_op(f, "rewrite %llu", (unsigned long long)len);
		raise_hi(f, len);
		op_begin(f);
		if (ftruncate(f->wfd, 0))
			return -1;
		model_size(f, 0);
		if (pwrite_all(f->wfd, f->buf, len, 0))
			return -1;
		model_write(f, 0, f->buf, len);
		break;
	default:
		return 1;
	}
	f->op_count[op]++;
	return 0;
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

FIXTURE(fsx) {
	struct sum_bpf *skel;
	struct fsx *f;
};

FIXTURE_SETUP(fsx)
{
	const char *dir = getenv("SFR_DIR") ?: "/tmp";
	struct fsx *f;

	f = self->f = calloc(1, sizeof(*f));
	ASSERT_NE(NULL, f);
	snprintf(f->path, sizeof(f->path), "%s/sfr-fsx.%d", dir, getpid());
	f->prog = load_sum(&self->skel);
	ASSERT_GE(f->prog, 0);
}

FIXTURE_TEARDOWN(fsx)
{
	if (self->f)
		unlink(self->f->path);
	sum_bpf__destroy(self->skel);
}

/* A new set of links read during mutation, with random windows. */
static int new_conc_links(struct fsx *f)
{
	int i;

	for (i = 0; i < NLINK; i++) {
		if (f->cl[i].lfd >= 0)
			link_close(&f->cl[i]);
		if (link_open(f->prog, f->dfd, pick_window(&f->rng, f->maxsize),
			      i != NLINK - 1, &f->cl[i]))
			return -1;
	}
	return 0;
}

TEST_F_TIMEOUT(fsx, random_ops, 900)
{
	struct fsx *f = self->f;
	long secs = env_long("SFR_FSX_SECS", 25);
	long max_ops = env_long("SFR_FSX_OPS", 0);
	__u64 seed = env_long("SFR_FSX_SEED", -1);
	long reads = 0, frames = 0, zero = 0, eio = 0, enomem = 0, eintr = 0;
	long stable = 0;
	long qframes = 0, by_pread = 0, by_read = 0, by_uring = 0;
	struct timespec t0, now;
	char ops_line[1024];
	struct stat st;
	int i, k, done = 0;

	if (seed == (__u64)-1) {
		clock_gettime(CLOCK_REALTIME, &now);
		seed = (now.tv_sec * 1000003ULL + now.tv_nsec / 1000) % 1000000007ULL;
	}
	f->maxsize = env_long("SFR_FSX_MAXSIZE", 1 << 20);
	ASSERT_GE(f->maxsize, 4096ULL);
	ksft_print_msg("%s: seed %llu (SFR_FSX_SEED=%llu repeats the operations), %lds, files up to %llu bytes\n",
		       f->path, (unsigned long long)seed,
		       (unsigned long long)seed, secs,
		       (unsigned long long)f->maxsize);
	f->rng = seed;
	f->m = calloc(1, f->maxsize);
	f->buf = malloc(f->maxsize);
	f->cmp = malloc(f->maxsize);
	ASSERT_NE(NULL, f->m);
	ASSERT_NE(NULL, f->buf);
	ASSERT_NE(NULL, f->cmp);
	ASSERT_EQ(0, posix_memalign(&f->dbuf, 4096, 8 * 4096));

	f->wfd = open(f->path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	ASSERT_GE(f->wfd, 0);
	f->afd = open(f->path, O_WRONLY | O_APPEND);
	ASSERT_GE(f->afd, 0);
	f->dfd = open(f->path, O_RDONLY);
	ASSERT_GE(f->dfd, 0);
	f->xfd = open(f->path, O_RDWR | O_DIRECT);	/* tmpfs: EINVAL */
	f->punch_ok = f->zero_ok = 1;
	memset(f->cl, 0xff, sizeof(f->cl));
	memset(f->ql, 0xff, sizeof(f->ql));

	/* Start with some lines. */
	k = f->maxsize / 2;
	gen_lines(&f->rng, f->buf, k);
	raise_hi(f, k);
	ASSERT_EQ(0, pwrite_all(f->wfd, f->buf, k, 0));
	model_write(f, 0, f->buf, k);
	f->cursize = f->msize;
	ASSERT_EQ(0, new_conc_links(f));

	ASSERT_EQ(0, pthread_barrier_init(&f->bar, NULL, NSCAN + 1));
	for (i = 0; i < NSCAN; i++) {
		struct scanner *s = &f->sc[i];

		s->f = f;
		s->id = i;
		s->rng = seed * 31 + i + 1;
		ASSERT_EQ(0, io_uring_queue_init(QDEPTH, &s->ring, 0));
		ASSERT_EQ(0, pthread_create(&s->th, NULL, scanner_main, s));
	}

	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (!done) {
		int n = 8 + below(&f->rng, 64), r;

		/* Mutate while the scanners read. */
		for (i = 0; i < n; i++) {
			r = do_op(f);
			if (r < 0) {
				TH_LOG("operation %s failed: %s", f->log[f->ops % LOG_OPS],
				       strerror(errno));
				dump_log(f);
			}
			ASSERT_LE(0, r);
			if (!r)
				f->ops++;
			__atomic_store_n(&f->cursize, f->msize, __ATOMIC_SEQ_CST);
			if (f->gen & 1)		/* the operation is over */
				__atomic_add_fetch(&f->gen, 1, __ATOMIC_SEQ_CST);
			if (!below(&f->rng, 4))
				usleep(below(&f->rng, 400));
		}
		clock_gettime(CLOCK_MONOTONIC, &now);
		done = now.tv_sec - t0.tv_sec >= secs ||
		       (max_ops && f->ops >= max_ops);

		/* Quiescent point: the file must be the model. */
		__atomic_store_n(&f->pause, 1, __ATOMIC_RELEASE);
		pthread_barrier_wait(&f->bar);				/* 1 */
		ASSERT_EQ(0, fstat(f->wfd, &st));
		if ((__u64)st.st_size != f->msize)
			dump_log(f);
		ASSERT_EQ(f->msize, (__u64)st.st_size);
		ASSERT_EQ((ssize_t)f->msize, pread(f->dfd, f->cmp, f->maxsize, 0));
		if (memcmp(f->cmp, f->m, f->msize)) {
			for (i = 0; f->cmp[i] == f->m[i]; i++)
				;
			TH_LOG("the file differs from the model at byte %d", i);
			dump_log(f);
			ASSERT_TRUE(0);
		}
		if (!f->checks || f->msize < f->qsize_min)
			f->qsize_min = f->msize;
		if (f->msize > f->qsize_max)
			f->qsize_max = f->msize;
		f->qsize_sum += f->msize;
		memset(&f->whole, 0, sizeof(f->whole));
		reduce(f->m, 0, f->msize, &f->whole);
		for (i = 0; i < 4; i++)
			ASSERT_EQ(0, link_open(f->prog, f->dfd,
					       pick_window(&f->rng, f->msize),
					       i != 3, &f->ql[i]));
		if (!below(&f->rng, 3)) {
			ASSERT_EQ(0, fdatasync(f->wfd));
			ASSERT_EQ(0, posix_fadvise(f->dfd, 0, 0, POSIX_FADV_DONTNEED));
			f->evicted++;
		}
		pthread_barrier_wait(&f->bar);				/* 2 */
		pthread_barrier_wait(&f->bar);				/* 3 */
		f->checks++;
		for (i = 0; i < NSCAN; i++) {
			struct scanner *s = &f->sc[i];

			if (s->qbad || s->bad) {
				TH_LOG("quiescent check %ld, scanner %d: %ld wrong frames, %ld bad reads during mutation: %s",
				       f->checks, i, s->qbad, s->bad, s->why);
				TH_LOG("file size %llu; windows %llu %llu %llu %llu(no delim)",
				       (unsigned long long)f->msize,
				       (unsigned long long)f->ql[0].window,
				       (unsigned long long)f->ql[1].window,
				       (unsigned long long)f->ql[2].window,
				       (unsigned long long)f->ql[3].window);
				dump_log(f);
			}
			ASSERT_EQ(0, s->bad);
			ASSERT_EQ(0, s->qbad);
		}
		for (i = 0; i < 4; i++)
			link_close(&f->ql[i]);
		ASSERT_EQ(0, new_conc_links(f));
		__atomic_store_n(&f->pause, 0, __ATOMIC_RELEASE);
		if (done)
			__atomic_store_n(&f->stop, 1, __ATOMIC_RELEASE);
		pthread_barrier_wait(&f->bar);				/* 4 */
	}
	for (i = 0; i < NSCAN; i++) {
		struct scanner *s = &f->sc[i];

		pthread_join(s->th, NULL);
		io_uring_queue_exit(&s->ring);
		reads += s->reads;
		frames += s->frames;
		zero += s->zero;
		eio += s->eio;
		enomem += s->enomem;
		eintr += s->eintr;
		qframes += s->qframes;
		stable += s->stable;
		by_pread += s->by_pread;
		by_read += s->by_read;
		by_uring += s->by_uring;
	}
	clock_gettime(CLOCK_MONOTONIC, &now);
	k = 0;
	for (i = 0; i < NR_OPS; i++)
		k += snprintf(ops_line + k, sizeof(ops_line) - k, " %s %ld",
			      op_name[i], f->op_count[i]);
	ksft_print_msg("seed %llu: %ld operations (%s), %ld quiescent checks (%ld cold), %lds\n",
		       (unsigned long long)seed, f->ops, ops_line + 1, f->checks,
		       f->evicted, (long)(now.tv_sec - t0.tv_sec));
	ksft_print_msg("file size at the quiescent points: min %llu, mean %llu, max %llu\n",
		       (unsigned long long)f->qsize_min,
		       (unsigned long long)(f->qsize_sum / (f->checks ?: 1)),
		       (unsigned long long)f->qsize_max);
	ksft_print_msg("reads during mutation: %ld (pread %ld, read %ld, io_uring %ld): %ld frames, %ld returned 0 (EOF), errors EIO %ld ENOMEM %ld EINTR %ld; %ld overlapped no operation and were checked exactly\n",
		       reads, by_pread, by_read, by_uring, frames, zero, eio,
		       enomem, eintr, stable);
	ksft_print_msg("%ld frames checked exactly at the quiescent points\n",
		       qframes);
	if (!f->punch_ok || !f->zero_ok || f->xfd < 0)
		ksft_print_msg("not supported here:%s%s%s\n",
			       f->punch_ok ? "" : " punch hole",
			       f->zero_ok ? "" : " zero range",
			       f->xfd < 0 ? " O_DIRECT" : "");
	EXPECT_GT(f->checks, 1);
	EXPECT_GT(frames, 0);
	for (i = 0; i < NLINK; i++)
		link_close(&f->cl[i]);
	close(f->xfd);
	close(f->dfd);
	close(f->afd);
	close(f->wfd);
}

TEST_HARNESS_MAIN
