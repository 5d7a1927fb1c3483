// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* libsfr: attach sfr programs to files, read frames, scan in parallel. */
#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "sfr.h"

#define SCAN_BUF_DEFAULT	(64 * 1024)
#define SCAN_BUF_MIN		4096
#define SCAN_DEPTH_MAX		256

struct sfr_link {
	int link_fd;
	int result_fd;		/* BPF_ITER_CREATE on link_fd: the frames */
	int data_fd;		/* the caller's; for the file size */
	__u64 window;
	__u32 scratch_size;
};

static sfr_print_fn_t print_fn;

sfr_print_fn_t sfr_set_print(sfr_print_fn_t fn)
{
	sfr_print_fn_t old = print_fn;

	print_fn = fn;
	return old;
}

__attribute__((format(printf, 2, 3)))
static void pr(enum sfr_print_level level, const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	if (!print_fn)
		return;
	va_start(ap, fmt);
	print_fn(level, fmt, ap);
	va_end(ap);
	errno = saved;
}

#define pr_warn(fmt, ...)  pr(SFR_WARN, "libsfr: " fmt, ##__VA_ARGS__)
#define pr_info(fmt, ...)  pr(SFR_INFO, "libsfr: " fmt, ##__VA_ARGS__)
#define pr_debug(fmt, ...) pr(SFR_DEBUG, "libsfr: " fmt, ##__VA_ARGS__)

/* Return -err and set errno, libbpf 1.0 style. */
static int fail(int err)
{
	errno = err;
	return -err;
}

static void *fail_ptr(int err)
{
	errno = err;
	return NULL;
}

/*
 * Options structs: a caller built against a newer header may pass a bigger
 * struct; accept it when the bytes we do not know are zero.
 */
static bool opts_valid(const void *opts, size_t known, const char *name)
{
	const char *p = opts;
	size_t sz, i;

	if (!opts)
		return true;
	sz = *(const size_t *)opts;
	if (sz < sizeof(size_t)) {
		pr_warn("%s: sz %zu is too small\n", name, sz);
		errno = EINVAL;
		return false;
	}
	for (i = known; i < sz; i++) {
		if (p[i]) {
			pr_warn("%s: unknown non-zero field at offset %zu\n",
				name, i);
			errno = E2BIG;
			return false;
		}
	}
	return true;
}

/* Field f of opts, or 0 when the caller's struct is too old to have it. */
#define OPT(o, f) \
	((o) && (o)->sz >= offsetof(typeof(*(o)), f) + sizeof((o)->f) ? (o)->f : 0)
#define OPTS_KNOWN(type) \
	(offsetof(struct type, type##__last_field) + \
	 sizeof(((struct type *)0)->type##__last_field))

/* The section name SEC("sfr") for libbpf versions that do not know it. */
static int sec_handler = -1;

__attribute__((constructor))
static void sfr_register_sec(void)
{
	LIBBPF_OPTS(libbpf_prog_handler_opts, o);

	sec_handler = libbpf_register_prog_handler("sfr", BPF_PROG_TYPE_SFR,
						   BPF_SFR_READ, &o);
}

__attribute__((destructor))
static void sfr_unregister_sec(void)
{
	if (sec_handler >= 0)
		libbpf_unregister_prog_handler(sec_handler);
}

static int sys_bpf(int cmd, union bpf_attr *attr)
{
	return syscall(__NR_bpf, cmd, attr, sizeof(*attr));
}

int sfr_probe(void)
{
	struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	union bpf_attr attr;
	int fd, err;

	memset(&attr, 0, sizeof(attr));
	attr.prog_type = BPF_PROG_TYPE_SFR;
	attr.expected_attach_type = BPF_SFR_READ;
	attr.insns = (unsigned long)insns;
	attr.insn_cnt = 2;
	attr.license = (unsigned long)"GPL";
	fd = sys_bpf(BPF_PROG_LOAD, &attr);
	if (fd >= 0) {
		close(fd);
		return 0;
	}
	err = errno;
	if (err == EINVAL) {
		pr_warn("this kernel has no sfr (BPF_PROG_TYPE_SFR is unknown); boot the sfr kernel, e.g. tools/vm -- COMMAND\n");
		return fail(EOPNOTSUPP);
	}
	pr_warn("probing for sfr: bpf(BPF_PROG_LOAD): %s\n", strerror(err));
	return fail(err);
}

struct sfr_link *sfr_attach(int fd, const struct bpf_program *prog,
			    const struct sfr_attach_opts *opts)
{
	int prog_fd;

	if (!prog) {
		pr_warn("sfr_attach: NULL program\n");
		return fail_ptr(EINVAL);
	}
	prog_fd = bpf_program__fd(prog);
	if (prog_fd < 0) {
		pr_warn("sfr_attach: program '%s' is not loaded\n",
			bpf_program__name(prog));
		return fail_ptr(EINVAL);
	}
	return sfr_attach_fd(fd, prog_fd, opts);
}

struct sfr_link *sfr_attach_fd(int fd, int prog_fd,
			       const struct sfr_attach_opts *opts)
{
	struct bpf_sfr_opts ko;
	union bpf_attr attr;
	struct sfr_link *link;
	unsigned int nwin;
	struct stat st;
	int err;

	if (!opts_valid(opts, OPTS_KNOWN(sfr_attach_opts), "sfr_attach_opts"))
		return NULL;
	if (prog_fd < 0) {
		pr_warn("sfr_attach: bad program fd %d\n", prog_fd);
		return fail_ptr(EBADF);
	}
	if (fstat(fd, &st)) {
		err = errno;
		pr_warn("sfr_attach: data fd %d: %s\n", fd, strerror(err));
		return fail_ptr(err);
	}
	memset(&ko, 0, sizeof(ko));
	ko.window = OPT(opts, window);
	nwin = OPT(opts, windows);
	if (!ko.window && nwin > 1 && S_ISREG(st.st_mode) && st.st_size > 0)
		ko.window = sfr_window_size(st.st_size, nwin);
	ko.scratch_size = OPT(opts, scratch_size);
	ko.init_state = (unsigned long)OPT(opts, init_state);
	ko.init_len = OPT(opts, init_len);
	if (!ko.scratch_size)
		ko.scratch_size = ko.init_len;
	if (OPT(opts, delim)) {
		ko.flags |= SFR_OPT_DELIM;
		ko.delim = (unsigned char)OPT(opts, delim);
	}
	if (ko.scratch_size > SFR_SCRATCH_MAX || ko.init_len > ko.scratch_size ||
	    (ko.init_len && !ko.init_state)) {
		pr_warn("sfr_attach: scratch %u / init %u bytes: want init_len <= scratch_size <= %d and init_state set\n",
			ko.scratch_size, ko.init_len, SFR_SCRATCH_MAX);
		return fail_ptr(EINVAL);
	}

	link = calloc(1, sizeof(*link));
	if (!link)
		return fail_ptr(ENOMEM);
	memset(&attr, 0, sizeof(attr));
	attr.link_create.prog_fd = prog_fd;
	attr.link_create.target_fd = fd;
	attr.link_create.attach_type = BPF_SFR_READ;
	attr.link_create.sfr.opts = (unsigned long)&ko;
	attr.link_create.sfr.opts_len = sizeof(ko);
	link->link_fd = sys_bpf(BPF_LINK_CREATE, &attr);
	if (link->link_fd < 0) {
		err = errno;
		free(link);
		/* Unknown attach type: say so instead of a bare EINVAL. */
		if (err == EINVAL && sfr_probe() == -EOPNOTSUPP)
			return fail_ptr(EOPNOTSUPP);
		pr_warn("sfr_attach: BPF_LINK_CREATE on fd %d: %s\n", fd,
			strerror(err));
		return fail_ptr(err);
	}
	/*
	 * The frames come from a result file of the link; the data fd keeps
	 * reading the file's bytes. A kernel whose sfr links cannot make one
	 * (an sfr kernel from before result files) fails with EINVAL.
	 */
	link->result_fd = bpf_iter_create(link->link_fd);
	if (link->result_fd < 0) {
		err = errno;
		close(link->link_fd);
		free(link);
		if (err == EINVAL) {
			pr_warn("sfr_attach: BPF_ITER_CREATE on the sfr link: %s (an sfr kernel without result files?); boot the current sfr kernel\n",
				strerror(err));
			return fail_ptr(EOPNOTSUPP);
		}
		pr_warn("sfr_attach: BPF_ITER_CREATE on the sfr link: %s\n",
			strerror(err));
		return fail_ptr(err);
	}
	link->data_fd = fd;
	link->window = ko.window;
	link->scratch_size = ko.scratch_size;
	pr_info("attached to fd %d (results: fd %d): window %llu, scratch %u, delim %d\n",
		fd, link->result_fd, (unsigned long long)ko.window, ko.scratch_size,
		ko.flags & SFR_OPT_DELIM ? (int)ko.delim : -1);
	return link;
}

void sfr_link__destroy(struct sfr_link *link)
{
	if (!link)
		return;
	close(link->result_fd);
	close(link->link_fd);
	free(link);
}

int sfr_link__fd(const struct sfr_link *link)
{
	return link ? link->link_fd : fail(EINVAL);
}

int sfr_link__data_fd(const struct sfr_link *link)
{
	return link ? link->data_fd : fail(EINVAL);
}

int sfr_link__result_fd(const struct sfr_link *link)
{
	return link ? link->result_fd : fail(EINVAL);
}

__u64 sfr_link__window(const struct sfr_link *link)
{
	return link ? link->window : 0;
}

int sfr_link__stats(const struct sfr_link *link, struct sfr_link_stats *stats)
{
	struct bpf_link_info info;
	__u32 len = sizeof(info);
	size_t sz;

	if (!link || !stats || stats->sz < sizeof(size_t))
		return fail(EINVAL);
	if (!opts_valid(stats, sizeof(*stats), "sfr_link_stats"))
		return -errno;
	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(link->link_fd, &info, &len))
		return fail(errno);
	sz = stats->sz;
	memset(stats, 0, sz < sizeof(*stats) ? sz : sizeof(*stats));
	stats->sz = sz;
	if (sz >= offsetof(struct sfr_link_stats, runs) + sizeof(stats->runs)) {
		stats->bytes_scanned = info.sfr.bytes_scanned;
		stats->bytes_emitted = info.sfr.bytes_emitted;
		stats->runs = info.sfr.runs;
	}
	return 0;
}

__u64 sfr_window_size(__u64 size, unsigned int n)
{
	__u64 w;

	if (n <= 1)
		return 0;
	w = size / n + (size % n != 0);
	return w ? w : 1;
}

/*
 * Check the frame of a read at @off that returned @n bytes; fill @r.
 * Returns 0 or -EPROTO / -EMSGSIZE.
 */
static int parse_frame(const struct sfr_link *link, __u64 off, const void *buf,
		       ssize_t n, struct sfr_reply *r)
{
	const struct sfr_frame *fr = buf;

	memset(r, 0, sizeof(*r));
	r->in_off = off;
	r->next_off = off;
	if (n == 0) {		/* at or past end of file */
		r->flags = SFR_FRAME_EOF;
		return 0;
	}
	if ((size_t)n < sizeof(*fr) || fr->hdr_len < sizeof(*fr) ||
	    fr->state_len != link->scratch_size ||
	    (__u64)fr->hdr_len + fr->state_len + fr->out_len != (__u64)n ||
	    fr->in_off != off) {
		pr_warn("read at %llu of result fd %d returned %zd bytes that are not a valid sfr frame\n",
			(unsigned long long)off, link->result_fd, n);
		return -EPROTO;
	}
	r->in_len = fr->in_len;
	r->flags = fr->flags;
	r->state_len = fr->state_len;
	r->state = (const char *)buf + fr->hdr_len;
	r->out = (const char *)r->state + fr->state_len;
	r->out_len = fr->out_len;
	r->next_off = off + fr->in_len;
	r->more = fr->flags & SFR_FRAME_FULL;
	if (r->more && !fr->in_len) {
		pr_warn("read at %llu of result fd %d: a record's output does not fit in the buffer\n",
			(unsigned long long)off, link->result_fd);
		return -EMSGSIZE;
	}
	return 0;
}

ssize_t sfr_read(struct sfr_link *link, __u64 off, void *buf, size_t len,
		 struct sfr_reply *reply)
{
	ssize_t n;
	int err;

	if (!link || !buf || !reply)
		return fail(EINVAL);
	if (len < sizeof(struct sfr_frame) + link->scratch_size) {
		pr_warn("sfr_read: a %zu-byte buffer cannot hold the frame header and %u bytes of state\n",
			len, link->scratch_size);
		return fail(EINVAL);
	}
	do {
		n = pread(link->result_fd, buf, len, off);
	} while (n < 0 && errno == EINTR);
	if (n < 0) {
		err = errno;
		pr_warn("sfr_read: pread at %llu: %s%s\n", (unsigned long long)off,
			strerror(err),
			err == ENOLINK ? " (the link was detached)" : "");
		return fail(err);
	}
	err = parse_frame(link, off, buf, n, reply);
	if (err)
		return fail(-err);
	pr_debug("read at %llu: in %llu out %zu flags %#x\n",
		 (unsigned long long)off, (unsigned long long)reply->in_len,
		 reply->out_len, reply->flags);
	return n;
}

/*
 * Parallel scan. Each window has a slot with its own buffer; a request
 * reads from the slot's next offset. Frames of the window at the head of
 * file order are delivered straight from the buffer; frames of later
 * windows are copied and kept until every window before them is done.
 */
struct held {			/* a frame waiting for earlier windows */
	struct held *next;
	size_t state_len, out_len;
	char data[];
};

struct slot {
	__u64 next_off, end;	/* next request offset, window end */
	char *buf;
	bool done, busy;
	struct held *head, **tail;
};

struct scan {
	struct sfr_link *link;
	const struct sfr_scan_opts *o;
	struct slot *slots;
	char **pool;			/* free buffers */
	unsigned int nfree;
	unsigned int nwin, head;	/* head: first window not yet done */
	size_t buf_size;
	__u64 size, done_bytes;
	int stop;			/* a callback asked to stop (>0) */
	/* Threaded scans: */
	pthread_mutex_t lock;		/* everything above */
	unsigned int next;		/* next window not yet started */
	int err;			/* first error */
};

static int deliver(struct scan *s, const void *state, size_t state_len,
		   const void *out, size_t out_len)
{
	sfr_combine_fn combine = OPT(s->o, combine);
	sfr_output_fn output = OPT(s->o, output);
	void *ctx = OPT(s->o, ctx);
	int ret = 0;

	if (combine && state_len)
		ret = combine(state, state_len, ctx);
	if (!ret && output && out_len)
		ret = output(out, out_len, ctx);
	if (ret > 0)
		s->stop = ret;
	return ret < 0 ? ret : 0;
}

static int hold(struct slot *sl, const struct sfr_reply *r)
{
	struct held *h = malloc(sizeof(*h) + r->state_len + r->out_len);

	if (!h)
		return -ENOMEM;
	h->next = NULL;
	h->state_len = r->state_len;
	h->out_len = r->out_len;
	memcpy(h->data, r->state, r->state_len);
	memcpy(h->data + r->state_len, r->out, r->out_len);
	*sl->tail = h;
	sl->tail = &h->next;
	return 0;
}

/* Deliver held frames of windows that are now at the head of file order. */
static int flush(struct scan *s)
{
	int err = 0;

	while (s->head < s->nwin && !s->stop) {
		struct slot *sl = &s->slots[s->head];
		struct held *h;

		while ((h = sl->head) && !err && !s->stop) {
			sl->head = h->next;
			err = deliver(s, h->data, h->state_len,
				      h->data + h->state_len, h->out_len);
			free(h);
		}
		if (err)
			return err;
		if (!sl->head)
			sl->tail = &sl->head;
		if (!sl->done)
			break;
		s->head++;
	}
	return 0;
}

static void get_buf(struct scan *s, struct slot *sl)
{
	sl->buf = s->pool[--s->nfree];
}

static void put_buf(struct scan *s, struct slot *sl)
{
	s->pool[s->nfree++] = sl->buf;
	sl->buf = NULL;
}

/* A completed request of window @w read @n bytes (or -errno). */
static int complete(struct scan *s, unsigned int w, ssize_t n)
{
	struct slot *sl = &s->slots[w];
	struct sfr_reply r;
	int err;

	sl->busy = false;
	if (s->stop) {		/* a callback ended the scan: drop the rest */
		put_buf(s, sl);
		return 0;
	}
	if (n < 0) {
		put_buf(s, sl);
		pr_warn("scan: read of window %u at %llu: %s\n", w,
			(unsigned long long)sl->next_off, strerror((int)-n));
		return (int)n;
	}
	err = parse_frame(s->link, sl->next_off, sl->buf, n, &r);
	if (err) {
		put_buf(s, sl);
		return err;
	}
	s->done_bytes += r.in_len;
	if (OPT(s->o, progress))
		s->o->progress(s->done_bytes, s->size, OPT(s->o, ctx));
	sl->next_off = r.next_off;
	if (!r.more)
		sl->done = true;
	if (w == s->head && !sl->head)
		err = deliver(s, r.state, r.state_len, r.out, r.out_len);
	else
		err = hold(sl, &r);
	put_buf(s, sl);
	return err ? err : flush(s);
}

static int scan_sync(struct scan *s)
{
	unsigned int w;
	int err = 0;

	for (w = 0; w < s->nwin && !err && !s->stop; w++) {
		struct slot *sl = &s->slots[w];

		while (!sl->done && !err && !s->stop) {
			ssize_t n;

			get_buf(s, sl);
			do {
				n = pread(s->link->result_fd, sl->buf,
					  s->buf_size, sl->next_off);
			} while (n < 0 && errno == EINTR);
			err = complete(s, w, n < 0 ? -errno : n);
		}
	}
	return err;
}

/*
 * Threaded scan: each thread takes the next window that needs a request (a
 * window whose output filled the buffer first, then a new one), reads it
 * with pread() outside the lock, and completes it under the lock, so the
 * callbacks still run one at a time and in file order.
 */
static void *scan_thread(void *arg)
{
	struct scan *s = arg;

	pthread_mutex_lock(&s->lock);
	for (;;) {
		unsigned int w = s->nwin;
		struct slot *sl;
		ssize_t n;
		__u64 off;
		int err;

		if (s->err || s->stop)
			break;
		for (w = s->head; w < s->next; w++)
			if (!s->slots[w].done && !s->slots[w].busy)
				break;
		if (w == s->next) {
			if (s->next == s->nwin)
				break;	/* the rest is in other threads' hands */
			w = s->next++;
		}
		sl = &s->slots[w];
		sl->busy = true;
		get_buf(s, sl);
		off = sl->next_off;
		pthread_mutex_unlock(&s->lock);
		do {
			n = pread(s->link->result_fd, sl->buf, s->buf_size, off);
		} while (n < 0 && errno == EINTR);
		if (n < 0)
			n = -errno;
		pthread_mutex_lock(&s->lock);
		err = complete(s, w, n);
		if (err && !s->err)
			s->err = err;
	}
	pthread_mutex_unlock(&s->lock);
	return NULL;
}

static int scan_threads(struct scan *s, unsigned int nthreads)
{
	pthread_t *t = calloc(nthreads, sizeof(*t));
	unsigned int i, started = 0;
	int ret;

	if (!t)
		return -ENOMEM;
	pthread_mutex_init(&s->lock, NULL);
	for (i = 0; i < nthreads; i++) {
		ret = pthread_create(&t[i], NULL, scan_thread, s);
		if (ret) {
			pr_warn("scan: pthread_create: %s\n", strerror(ret));
			break;
		}
		started++;
	}
	if (!started) {
		free(t);
		pthread_mutex_destroy(&s->lock);
		return scan_sync(s);
	}
	for (i = 0; i < started; i++)
		pthread_join(t[i], NULL);
	free(t);
	pthread_mutex_destroy(&s->lock);
	return s->err;
}

static void prep(struct scan *s, struct io_uring *ring, unsigned int w)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(ring);
	struct slot *sl = &s->slots[w];

	get_buf(s, sl);
	io_uring_prep_read(sqe, s->link->result_fd, sl->buf, s->buf_size,
			   sl->next_off);
	/*
	 * Result reads always run in io-wq: skip the inline attempt, which
	 * would only return EAGAIN, and let io-wq run the windows at once.
	 */
	io_uring_sqe_set_flags(sqe, IOSQE_ASYNC);
	io_uring_sqe_set_data64(sqe, w);
	sl->busy = true;
}

static int scan_uring(struct scan *s, unsigned int depth)
{
	unsigned int next = 0, inflight = 0, queued = 0, w;
	struct io_uring ring;
	int err = 0, ret;

	ret = io_uring_queue_init(depth, &ring, 0);
	if (ret < 0) {
		pr_info("io_uring unavailable (%s): reading windows one by one\n",
			strerror(-ret));
		return scan_sync(s);
	}
	for (;;) {
		struct io_uring_cqe *cqe;

		/* Refill: resumed windows first, then new ones. */
		for (w = s->head; !err && !s->stop && w < next &&
		     inflight + queued < depth; w++) {
			if (!s->slots[w].done && !s->slots[w].busy) {
				prep(s, &ring, w);
				queued++;
			}
		}
		while (!err && !s->stop && next < s->nwin &&
		       inflight + queued < depth) {
			prep(s, &ring, next++);
			queued++;
		}
		if (queued) {
			ret = io_uring_submit(&ring);
			if (ret >= 0) {
				inflight += ret;
				queued -= ret;
			} else if (ret != -EINTR && ret != -EAGAIN && !err) {
				pr_warn("scan: io_uring_submit: %s\n", strerror(-ret));
				err = ret;
			}
		}
		if (!inflight) {
			if (queued && !err)
				continue;	/* could not submit yet: retry */
			break;
		}
		ret = io_uring_wait_cqe(&ring, &cqe);
		if (ret < 0) {
			if (ret == -EINTR)
				continue;
			err = err ? err : ret;
			break;		/* cannot reap: leak rather than reuse */
		}
		w = (unsigned int)io_uring_cqe_get_data64(cqe);
		ret = cqe->res;
		io_uring_cqe_seen(&ring, cqe);
		inflight--;
		if (ret == -EAGAIN || ret == -EINTR) {
			s->slots[w].busy = false;	/* resubmit */
			put_buf(s, &s->slots[w]);
			continue;
		}
		if (!err) {
			err = complete(s, w, ret);
		} else {
			s->slots[w].busy = false;
			put_buf(s, &s->slots[w]);
		}
	}
	if (inflight) {
		/* The buffers may still be written: do not free them. */
		pr_warn("scan: %u requests could not be reaped\n", inflight);
		return err ? err : -EIO;
	}
	io_uring_queue_exit(&ring);
	return err;
}

int sfr_scan(struct sfr_link *link, const struct sfr_scan_opts *opts)
{
	struct scan s = { .link = link, .o = opts };
	unsigned int depth, w;
	__u64 win, nwin;
	struct stat st;
	int err;

	if (!link)
		return fail(EINVAL);
	if (!opts_valid(opts, OPTS_KNOWN(sfr_scan_opts), "sfr_scan_opts"))
		return -errno;
	if (fstat(link->data_fd, &st))
		return fail(errno);
	s.size = st.st_size;
	s.buf_size = OPT(opts, buf_size) ? OPT(opts, buf_size) : SCAN_BUF_DEFAULT;
	if (s.buf_size < SCAN_BUF_MIN ||
	    s.buf_size < sizeof(struct sfr_frame) + link->scratch_size ||
	    s.buf_size > (1U << 30)) {
		pr_warn("sfr_scan: buf_size %zu outside [%d, 1 GiB]\n",
			s.buf_size, SCAN_BUF_MIN);
		return fail(EINVAL);
	}
	win = link->window ? link->window : (s.size ? s.size : 1);
	nwin = s.size ? (s.size + win - 1) / win : 1;
	if (nwin > 1U << 20) {
		pr_warn("sfr_scan: %llu windows are too many (window %llu bytes)\n",
			(unsigned long long)nwin, (unsigned long long)win);
		return fail(EINVAL);
	}
	s.nwin = nwin;
	depth = OPT(opts, depth) ? OPT(opts, depth) : s.nwin;
	if (depth > SCAN_DEPTH_MAX)
		depth = SCAN_DEPTH_MAX;
	if (depth > s.nwin)
		depth = s.nwin;

	s.slots = calloc(s.nwin, sizeof(*s.slots));
	if (!s.slots)
		return fail(ENOMEM);
	for (w = 0; w < s.nwin; w++) {
		s.slots[w].next_off = (__u64)w * win;
		s.slots[w].tail = &s.slots[w].head;
	}
	/* One buffer per request in flight, taken from a pool. */
	s.pool = calloc(depth, sizeof(*s.pool));
	err = s.pool ? 0 : -ENOMEM;
	for (w = 0; w < depth && !err; w++) {
		s.pool[w] = malloc(s.buf_size);
		if (!s.pool[w])
			err = -ENOMEM;
		else
			s.nfree++;
	}
	if (!err) {
		pr_info("scan of fd %d (results: fd %d): %llu bytes, %u windows, depth %u\n",
			link->data_fd, link->result_fd, (unsigned long long)s.size,
			s.nwin, depth);
		unsigned int nthreads = OPT(opts, threads);
		long ncpu = sysconf(_SC_NPROCESSORS_ONLN);

		if (!nthreads)
			nthreads = ncpu > 0 ? (unsigned int)ncpu : 1;
		if (nthreads > depth)
			nthreads = depth;
		if (OPT(opts, no_uring) || s.nwin == 1)
			err = scan_sync(&s);
		else if (nthreads > 1)
			err = scan_threads(&s, nthreads);
		else
			err = scan_uring(&s, depth);
	}

	for (w = 0; w < s.nwin; w++) {
		struct held *h;

		while ((h = s.slots[w].head)) {
			s.slots[w].head = h->next;
			free(h);
		}
	}
	/* Buffers still in flight after a failed reap (rare) are leaked. */
	for (w = 0; w < s.nfree; w++)
		free(s.pool[w]);
	free(s.pool);
	free(s.slots);
	return err < 0 ? fail(-err) : 0;
}
