// SPDX-License-Identifier: GPL-2.0
/*
 * The scan kfuncs against plain C (memchr, memrchr, memmem, a byte count,
 * sfr_fx_feed() byte by byte): sfr_kfunc.bpf.o calls each of them on
 * every chunk of a file and emits the answers per chunk (struct kf_rec);
 * this recomputes every answer from the file, and the fold's state per
 * frame. Files of random text with the needles planted (also across page
 * ends), on the file system of SFR_DIR, in kselftest_harness.h form.
 *
 *   SFR_DIR=DIR sfr_kfunc [harness options]
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/bpf.h>
#include <linux/sfr.h>
#include <bpf/libbpf.h>

#include "kselftest_harness.h"
#include "sfr.h"
#include "sfr_fixed.h"
#include "sfr_kfunc.h"
#include "sfr_kfunc.skel.h"

static unsigned long long rng = 0x2545f4914f6cdd1dULL;

static unsigned int rnd(unsigned int n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (unsigned int)(rng >> 11) % n;
}

/*
 * Lines of words and numbers ("ab 12.5 x\n"), with @nd planted now and
 * then, some lines ending in CRLF, some numbers invalid.
 */
static char *gen(size_t size, const char *nd)
{
	static const char *const words[] = { "a", "ab", "ba", "aab", "x",
					     "-", "1e3", "+.5", "", " " };
	size_t n = 0, k = strlen(nd);
	char *c = malloc(size);

	if (!c)
		return NULL;
	while (n < size) {
		char tmp[64];
		int t;

		switch (rnd(8)) {
		case 0:
			t = snprintf(tmp, sizeof(tmp), "%s", words[rnd(10)]);
			break;
		case 1:
			t = snprintf(tmp, sizeof(tmp), "%s", nd);
			break;
		case 2:
			t = snprintf(tmp, sizeof(tmp), "%s\r\n", words[rnd(10)]);
			break;
		case 3:
		case 4:
			t = snprintf(tmp, sizeof(tmp), "%d.%02u", (int)rnd(20000) - 10000,
				     rnd(100));
			break;
		default:
			t = snprintf(tmp, sizeof(tmp), "%c", " \n\n\t"[rnd(4)]);
		}
		memcpy(c + n, tmp, n + t <= size ? (size_t)t : size - n);
		n += t;
	}
	/* Needles across page ends. */
	for (n = 4096; k && n + k < size; n += 4096 * (1 + rnd(3)))
		memcpy(c + n - rnd(k + 1), nd, k);
	return c;
}

/* The file: a hole of @base bytes, then @size bytes of @c. */
static int write_file(const char *name, const char *c, size_t size,
		      __u64 base, char *path)
{
	const char *dir = getenv("SFR_DIR") ?: "/tmp";
	int fd;

	snprintf(path, 4096, "%s/sfr_kfunc.%s.%d", dir, name, getpid());
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0)
		return -1;
	if (pwrite(fd, c, size, base) != (ssize_t)size) {
		close(fd);
		return -1;
	}
	return fd;
}

static struct sfr_kfunc_bpf *load(const char *n1, const char *n2, int delim,
				  unsigned int field, unsigned int scale)
{
	struct sfr_kfunc_bpf *skel = sfr_kfunc_bpf__open();

	if (!skel)
		return NULL;
	/* libbpf 1.1 does not know SEC("sfr"). */
	bpf_program__set_type(skel->progs.kfuncs, BPF_PROG_TYPE_SFR);
	bpf_program__set_expected_attach_type(skel->progs.kfuncs, BPF_SFR_READ);
	memcpy(skel->bss->needle, n1, strlen(n1));
	memcpy(skel->bss->needle2, n2, strlen(n2));
	skel->rodata->needle_len = strlen(n1);
	skel->rodata->needle2_len = strlen(n2);
	skel->rodata->fold_delim = delim;
	skel->rodata->fold_field = field;
	skel->rodata->fold_scale = scale;
	if (sfr_kfunc_bpf__load(skel)) {
		sfr_kfunc_bpf__destroy(skel);
		return NULL;
	}
	return skel;
}

static __s64 o_find(const char *p, size_t len, size_t from, int c)
{
	const char *q = from < len ? memchr(p + from, c, len - from) : NULL;

	return q ? q - p : -ENOENT;
}

static __s64 o_rfind(const char *p, size_t len, int c)
{
	const char *q = memrchr(p, c, len);

	return q ? q - p : -ENOENT;
}

static __s64 o_count(const char *p, size_t from, size_t to, int c)
{
	__s64 n = 0;

	for (; from < to; from++)
		n += p[from] == c;
	return n;
}

static __s64 o_str(const char *p, size_t len, size_t from, const char *nd)
{
	const char *q;

	if (!*nd)
		return from <= len ? (__s64)from : -ENOENT;
	q = from <= len ? memmem(p + from, len - from, nd, strlen(nd)) : NULL;
	return q ? q - p : -ENOENT;
}

/* Differences between rec @r and the file bytes @c: a message, or NULL. */
static const char *rec_bad(const struct kf_rec *r, const char *c, size_t size,
			   __u64 base, const char *n1, const char *n2,
			   char *msg)
{
	const char *p = c + (r->pos - base);
	size_t len = r->len;
	static const __s64 want_bad[9] = { -EINVAL, -EINVAL, -EINVAL, -E2BIG,
					   -EINVAL, -ENOENT, -ENOENT, 3, -EINVAL };
	__s64 j = 0, m;
	__u32 n = 0;
	int i;

#define KF_WANT(field, v) do {						\
		__s64 ___w = (v);					\
		if ((__s64)r->field != ___w) {				\
			sprintf(msg, "chunk %llu+%zu: " #field " %lld, want %lld", \
				(unsigned long long)r->pos, len,	\
				(long long)r->field, (long long)___w);	\
			return msg;					\
		}							\
	} while (0)

	if (r->pos < base || r->pos - base + len > size || !len ||
	    len > KF_CHUNK_MAX)
		return sprintf(msg, "chunk %llu+%zu outside the file",
			       (unsigned long long)r->pos, len), msg;
	KF_WANT(first_nl, o_find(p, len, 0, '\n'));
	KF_WANT(first_nl_hi, o_find(p, len, 0, '\n'));
	KF_WANT(from_third, o_find(p, len, len / 3, 'a'));
	KF_WANT(last_nl, o_rfind(p, len, '\n'));
	KF_WANT(last_nl_half, o_rfind(p, len / 2, '\n'));
	KF_WANT(count_nl, o_count(p, 0, len, '\n'));
	KF_WANT(count_a_mid, o_count(p, len / 3, 2 * len / 3, 'a'));
	KF_WANT(needle2_at, o_str(p, len, 0, n2));
	KF_WANT(fold_err, 0);
	for (i = 0; i < 9; i++)
		KF_WANT(bad[i], want_bad[i]);
	for (;;) {
		m = o_str(p, len, j, n1);
		if (m < 0)
			break;
		if (n < KF_MATCH_MAX)
			KF_WANT(match[n], m);
		n++;
		j = m + 1;
	}
	KF_WANT(nmatch, n);
	return NULL;
#undef KF_WANT
}

struct kf_case {
	const char *name;
	size_t size;
	const char *n1, *n2;
	int delim;
	unsigned int field, scale;
	__u64 base;	/* the data starts here, after a hole; read from here */
};

/*
 * Read the file's frames (the whole file is one window; FULL frames end
 * at a chunk and are read on), check every chunk record and each frame's
 * fold state against sfr_fx_feed() of the frame's bytes.
 */
static void run_case(struct __test_metadata *_metadata, const struct kf_case *k)
{
	struct sfr_attach_opts ao = { .sz = sizeof(ao),
				      .scratch_size = sizeof(struct sfr_fx_state) };
	struct sfr_fx_cfg cfg = { .field = k->field, .delim = k->delim,
				  .scale = k->scale };
	size_t bufsz = 1 << 20, chunks = 0, frames = 0;
	char path[4096], msg[256];
	struct sfr_kfunc_bpf *skel;
	struct sfr_link *l;
	char *c, *buf;
	__u64 off = k->base, covered = k->base, end = k->base + k->size;
	int fd;

	c = gen(k->size, k->n1);
	buf = malloc(bufsz);
	ASSERT_TRUE(c && buf);
	fd = write_file(k->name, c, k->size, k->base, path);
	ASSERT_GE(fd, 0);
	skel = load(k->n1, k->n2, k->delim, k->field, k->scale);
	ASSERT_NE(NULL, skel) TH_LOG("cannot load the program");
	l = sfr_attach(fd, skel->progs.kfuncs, &ao);
	ASSERT_NE(NULL, l) TH_LOG("attach: %s", strerror(errno));
	while (off < end) {
		struct sfr_reply rep;
		struct sfr_fx_state want = { 0 };
		const struct kf_rec *r;
		size_t i;

		ASSERT_GE(sfr_read(l, off, buf, bufsz, &rep), 0)
			TH_LOG("sfr_read at %llu: %s", (unsigned long long)off,
			       strerror(errno));
		ASSERT_EQ(off, rep.in_off);
		ASSERT_NE(0ULL, (unsigned long long)rep.in_len);
		ASSERT_EQ(0, (int)(rep.out_len % sizeof(*r)));
		ASSERT_EQ(sizeof(want), rep.state_len);
		for (i = 0; i < rep.out_len / sizeof(*r); i++) {
			const char *bad;

			r = (const struct kf_rec *)rep.out + i;
			ASSERT_EQ(covered, r->pos) TH_LOG("chunks not contiguous");
			bad = rec_bad(r, c, k->size, k->base, k->n1, k->n2,
				      msg);
			ASSERT_EQ(NULL, bad) TH_LOG("%s", bad);
			covered += r->len;
			chunks++;
		}
		ASSERT_EQ(rep.in_off + rep.in_len, covered);
		for (i = rep.in_off; i < rep.in_off + rep.in_len; i++)
			sfr_fx_feed(&want, &cfg, c[i - k->base]);
		sfr_fx_finish(&want, &cfg);
		ASSERT_EQ(0, memcmp(&want, rep.state, sizeof(want)))
			TH_LOG("frame %llu+%llu: fold count %llu sum %lld invalid %llu, want %llu %lld %llu",
			       (unsigned long long)rep.in_off,
			       (unsigned long long)rep.in_len,
			       (unsigned long long)((struct sfr_fx_state *)rep.state)->count,
			       (long long)((struct sfr_fx_state *)rep.state)->sum.lo,
			       (unsigned long long)((struct sfr_fx_state *)rep.state)->invalid,
			       (unsigned long long)want.count, (long long)want.sum.lo,
			       (unsigned long long)want.invalid);
		off = rep.next_off;
		frames++;
	}
	TH_LOG("%s: %zu bytes, %zu chunks, %zu frames checked", k->name,
	       k->size, chunks, frames);
	sfr_link__destroy(l);
	sfr_kfunc_bpf__destroy(skel);
	close(fd);
	unlink(path);
	free(buf);
	free(c);
}

TEST(short_needles)
{
	const struct kf_case k = { "short", 3 << 20, "ab", "aab", ' ', 1, 2, 0 };

	run_case(_metadata, &k);
}

TEST(one_byte_needle_whole_lines)
{
	const struct kf_case k = { "byte", 1 << 20, "x", "-", 0, 0, 0, 0 };

	run_case(_metadata, &k);
}

TEST(long_needles)
{
	static char n1[KF_NEEDLE_MAX + 1], n2[KF_NEEDLE_MAX + 1];
	struct kf_case k = { "long", 2 << 20, n1, n2, ',', 0, 3, 0 };
	int i;

	/* Periodic (Two-Way's periodic case) and an aperiodic one. */
	for (i = 0; i < KF_NEEDLE_MAX; i++)
		n1[i] = "ab"[i % 2];
	for (i = 0; i < 40; i++)
		n2[i] = 'a' + rnd(3);
	run_case(_metadata, &k);
}

TEST(empty_needle)
{
	const struct kf_case k = { "empty", 256 << 10, "", "ba", ' ', 0, 1, 0 };

	run_case(_metadata, &k);
}

/*
 * Offsets past 4 GiB: the data sits after a hole of 4 GiB + 4093 bytes
 * (not page aligned) in a sparse file, and is read from there.
 */
TEST(past_4g)
{
	const struct kf_case k = { "past4g", 1 << 20, "ab", "aab", ' ', 1, 2,
				   (4ULL << 30) + 4093 };

	run_case(_metadata, &k);
}

TEST_HARNESS_MAIN
