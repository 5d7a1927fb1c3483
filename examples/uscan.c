// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Parallel user-space scan of a regular file by segments of lines (see
 * uscan.h). Threads take the next segment, read it with pread() and reduce
 * it outside the lock; the results of at most threads + 2 segments wait
 * for delivery, which happens under the lock, in file order, by whichever
 * thread completes the segment at the head.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "uscan.h"

/* Reads past a segment's end, to the end of its last line: 4 KiB, doubling. */
#define TAIL_MIN	4096U
#define TAIL_MAX	(1U << 20)

struct seg_buf {
	char *p;
	size_t cap;
};

struct uscan {
	int fd;
	__u64 size;
	unsigned int nseg, window;	/* window: results kept at most */
	size_t res_size;
	const struct uscan_ops *ops;
	void *ctx;
	struct cli_stats *stats;
	struct cli_progress *progress;
	char *res;			/* window slots of res_size bytes */
	int *rc;			/* per slot: reduce()'s result */
	bool *ready;			/* per slot: reduced, not delivered */
	pthread_mutex_t lock;		/* everything below, stats, progress */
	pthread_cond_t cond;		/* head moved, or the scan ends */
	unsigned int next, head;	/* next segment to take, to deliver */
	int err;
	bool stop;
};

/* Room for @need bytes and one more. */
static int grow(struct seg_buf *b, size_t need)
{
	size_t cap = b->cap ? b->cap : 4096;
	char *p;

	if (need < b->cap)
		return 0;
	while (cap <= need)
		cap *= 2;
	p = realloc(b->p, cap);
	if (!p)
		return -ENOMEM;
	b->p = p;
	b->cap = cap;
	return 0;
}

/*
 * Read the lines of segment [@s, @e) into @b: they are b->p[*begin,
 * *begin + *len). @to_eof (the last segment): go on to end of file, which
 * may lie past @e when the file grew since its size was taken (or was 0:
 * /proc files). Adds the bytes read to *copied. Returns 0 or -errno.
 */
static int read_seg(int fd, __u64 s, __u64 e, bool to_eof, struct seg_buf *b,
		    size_t *begin, size_t *len, bool *nolf, __u64 *copied)
{
	__u64 from = s ? s - 1 : 0;
	size_t want = e - from, have, end, chunk = TAIL_MIN;
	ssize_t n;
	char *nl;
	int err;

	*begin = *len = 0;
	*nolf = false;
	err = grow(b, want);
	if (err)
		return err;
	n = cli_read_full(fd, b->p, want, from);
	if (n < 0)
		return n;
	*copied += n;
	have = n;
	if (s) {
		/* A line starts at s' in [s, e) after a newline at s' - 1. */
		nl = memchr(b->p, '\n', have < want - 1 ? have : want - 1);
		if (!nl)
			return 0;	/* no line starts here */
		*begin = nl + 1 - b->p;
	}
	if (have < want) {
		end = have;		/* end of file inside the segment */
		goto eof;
	}
	if (!to_eof && want && b->p[want - 1] == '\n') {
		end = want;
		goto out;
	}
	/* The last line goes on past e: read up to its newline (or EOF). */
	for (;; chunk = chunk < TAIL_MAX ? chunk * 2 : chunk) {
		err = grow(b, have + chunk);
		if (err)
			return err;
		n = cli_read_full(fd, b->p + have, chunk, from + have);
		if (n < 0)
			return n;
		*copied += n;
		nl = to_eof ? NULL : memchr(b->p + have, '\n', n);
		if (nl) {
			end = nl + 1 - b->p;
			goto out;
		}
		have += n;
		if ((size_t)n < chunk) {
			end = have;
			goto eof;
		}
	}
eof:
	*nolf = end > *begin && b->p[end - 1] != '\n';
out:
	*len = end - *begin;
	return 0;
}

static void *slot(const struct uscan *u, unsigned int k)
{
	return u->res + (size_t)(k % u->window) * u->res_size;
}

/* Deliver the reduced segments at the head, in order. Under the lock. */
static void deliver_ready(struct uscan *u)
{
	while (u->head < u->next && u->ready[u->head % u->window]) {
		unsigned int i = u->head % u->window;
		void *res = slot(u, u->head);
		int ret = u->rc[i];
		__u64 done;

		if (!ret && !u->err && !u->stop) {
			ret = u->ops->deliver(u->ctx, res);
			if (ret > 0) {
				u->stop = true;
				ret = 0;
			}
		}
		if (ret < 0 && !u->err && !u->stop)	/* not past the answer */
			u->err = ret;
		if (u->ops->release)
			u->ops->release(u->ctx, res);
		u->ready[i] = false;
		u->head++;
		done = (__u64)u->head * USCAN_SEG;
		cli_progress_update(u->progress, done < u->size ? done : u->size,
				    u->size);
		pthread_cond_broadcast(&u->cond);
	}
}

static void *worker(void *arg)
{
	struct uscan *u = arg;
	struct seg_buf b = { 0 };

	pthread_mutex_lock(&u->lock);
	for (;;) {
		size_t begin, len;
		__u64 s, e, copied = 0;
		unsigned int k;
		bool nolf;
		void *res;
		int rc;

		while (!u->err && !u->stop && u->next < u->nseg &&
		       u->next >= u->head + u->window)
			pthread_cond_wait(&u->cond, &u->lock);
		if (u->err || u->stop || u->next >= u->nseg)
			break;
		k = u->next++;
		res = slot(u, k);
		pthread_mutex_unlock(&u->lock);

		memset(res, 0, u->res_size);
		s = (__u64)k * USCAN_SEG;
		e = k + 1 == u->nseg ? u->size : s + USCAN_SEG;
		rc = read_seg(u->fd, s, e, k + 1 == u->nseg, &b, &begin, &len,
			      &nolf, &copied);
		if (!rc)
			rc = u->ops->reduce(u->ctx, res, b.p + begin, len, nolf);

		pthread_mutex_lock(&u->lock);
		u->stats->copied += copied;
		if (!rc)
			u->stats->scanned += len;
		u->rc[k % u->window] = rc;
		u->ready[k % u->window] = true;
		deliver_ready(u);
	}
	pthread_cond_broadcast(&u->cond);
	pthread_mutex_unlock(&u->lock);
	free(b.p);
	return NULL;
}

bool uscan_fits(int fd, const struct stat *st, unsigned int threads)
{
	return threads > 1 && S_ISREG(st->st_mode) && lseek(fd, 0, SEEK_CUR) == 0;
}

int uscan(int fd, __u64 size, unsigned int threads, size_t res_size,
	  const struct uscan_ops *ops, void *ctx, struct cli_stats *stats,
	  struct cli_progress *progress)
{
	struct uscan u = {
		.fd = fd,
		.size = size,
		.res_size = res_size,
		.ops = ops,
		.ctx = ctx,
		.stats = stats,
		.progress = progress,
	};
	pthread_t t[USCAN_THREADS_MAX];
	unsigned int i, started = 0;
	int err = 0;

	if (size / USCAN_SEG >= UINT_MAX)
		return -EFBIG;
	u.nseg = size ? (size + USCAN_SEG - 1) / USCAN_SEG : 1;
	if (threads > USCAN_THREADS_MAX)
		threads = USCAN_THREADS_MAX;
	if (threads > u.nseg)
		threads = u.nseg;
	if (!threads)
		threads = 1;
	u.window = threads + 2;	/* one being delivered, one waiting */
	u.res = calloc(u.window, res_size);
	u.rc = calloc(u.window, sizeof(*u.rc));
	u.ready = calloc(u.window, sizeof(*u.ready));
	if (!u.res || !u.rc || !u.ready) {
		err = -ENOMEM;
		goto out;
	}
	pthread_mutex_init(&u.lock, NULL);
	pthread_cond_init(&u.cond, NULL);
	for (i = 0; i < threads; i++) {
		err = pthread_create(&t[i], NULL, worker, &u);
		if (err)
			break;
		started++;
	}
	if (!started) {
		err = -err;
	} else {
		err = 0;	/* fewer threads than asked still scan it all */
		if (stats->user_threads < started)
			stats->user_threads = started;
		for (i = 0; i < started; i++)
			pthread_join(t[i], NULL);
		err = u.err;
	}
	pthread_cond_destroy(&u.cond);
	pthread_mutex_destroy(&u.lock);
out:
	free(u.res);
	free(u.rc);
	free(u.ready);
	return err;
}
