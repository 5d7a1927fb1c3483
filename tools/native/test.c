// SPDX-License-Identifier: GPL-2.0
/*
 * Correctness of kernel/bpf/sfr_scan.c built as user space code (TAP).
 *
 * Oracles, all written here or taken from the header the BPF programs use:
 * plain byte loops for find and count, a naive O(n * m) search for the
 * fixed string, a line-by-line naive grep -c, and for the decimal fold
 * sfr_fx_feed_buf() of bpf/sfr_fixed.h (the parser of --no-offload and of
 * the BPF programs), compared as whole struct sfr_fx_state values.
 *
 * Every primitive runs in each variant: generic, AVX2 (if the CPU has it),
 * the dispatcher, the dispatcher with irq_fpu_usable() false, and the
 * dispatcher on a CPU without AVX2 (as the shim plays it). Buffers sit
 * right before a PROT_NONE page, right after one, in an exact-size malloc()
 * block (for valgrind and ASan), and inside a larger buffer whose other
 * bytes are the byte searched for (so a read outside the range changes
 * the answer). After every call no FPU section may be open, and with
 * irq_fpu_usable() false none may have been opened.
 *
 * Usage: test [-q]   -q: quick (fewer alignments and rounds, for valgrind)
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/sfr_scan.h>

static int quick;
static unsigned long long n_checks;
static unsigned int n_fail_test, n_pass, n_fail, n_tap, n_diag;

#define CHECK(cond, ...)						\
	do {								\
		n_checks++;						\
		if (!(cond))						\
			check_failed(__LINE__, __VA_ARGS__);		\
	} while (0)

static void check_failed(int line, const char *fmt, ...)
{
	va_list ap;

	n_fail_test++;
	if (n_diag++ >= 20)
		return;
	printf("# line %d: ", line);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

static void tap(const char *name, unsigned long long checks0)
{
	n_tap++;
	if (!n_fail_test && n_checks > checks0) {
		n_pass++;
		printf("ok %u - %s (%llu checks)\n", n_tap, name,
		       n_checks - checks0);
	} else {
		n_fail++;
		printf("not ok %u - %s (%u of %llu checks failed)\n", n_tap,
		       name, n_fail_test, n_checks - checks0);
	}
	n_fail_test = 0;
	n_diag = 0;
	fflush(stdout);
}

static u64 rng = 0x9e3779b97f4a7c15ULL;

static u64 rnd(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 2685821657736338717ULL;
}

static size_t rnd_below(size_t n)
{
	return n ? rnd() % n : 0;
}

/* ---- buffers ---- */

#define AREA (1 << 20)
static long page;
static u8 *area;	/* AREA bytes between two PROT_NONE pages */

static void area_init(void)
{
	u8 *m;

	page = sysconf(_SC_PAGESIZE);
	m = mmap(NULL, AREA + 2 * page, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED || mprotect(m, page, PROT_NONE) ||
	    mprotect(m + page + AREA, page, PROT_NONE)) {
		perror("mmap");
		exit(1);
	}
	area = m + page;
}

enum { AT_END, AT_START, AT_MALLOC, AT_POISON, NMODES };
static const char *const mode_name[] = { "end", "start", "malloc", "poison" };

/*
 * A copy of @src[0, len) placed by @mode; @align only moves a poison copy
 * (the other places fix the address). @poison fills the poison margins.
 */
struct place {
	u8 *p, *heap;
};

static struct place place(int mode, const u8 *src, size_t len, size_t align,
			  u8 poison)
{
	struct place pl = { 0 };

	switch (mode) {
	case AT_END:
		pl.p = area + AREA - len;
		break;
	case AT_START:
		pl.p = area;
		break;
	case AT_MALLOC:
		pl.heap = malloc(len ? len : 1);
		if (!pl.heap)
			abort();
		pl.p = pl.heap;
		break;
	default:
		memset(area, poison, 2 * 64 + len + 64);
		pl.p = area + 64 + align;
		break;
	}
	if (len)
		memmove(pl.p, src, len);
	return pl;
}

static void unplace(struct place *pl)
{
	free(pl->heap);
}

/* A placed copy at a given alignment, end at a guard page when possible. */
static u8 *at_align(const u8 *src, size_t len, size_t align)
{
	u8 *p = area + AREA - len;

	p -= ((uintptr_t)p - align) & 63;
	memmove(p, src, len);
	return p;
}

/* ---- variants ---- */

enum { V_GENERIC, V_AVX2, V_DISPATCH, V_NOFPU, V_NOAVX2, NVARIANTS };
static const char *const variant_name[] = { "generic", "avx2", "dispatch",
					    "no-fpu", "no-avx2-cpu" };
static int have_avx2;

static bool variant_ok(int v)
{
	return v != V_AVX2 || have_avx2;
}

static unsigned long sections0;

static void enter(int v)
{
	sfr_shim_fpu_usable = v != V_NOFPU;
	sfr_shim_no_avx2 = v == V_NOAVX2;
	sections0 = sfr_shim_fpu_sections;
}

static void leave(int v)
{
	CHECK(sfr_shim_fpu_depth == 0, "%s: FPU section left open",
	      variant_name[v]);
	if (v == V_NOFPU || v == V_NOAVX2 || v == V_GENERIC)
		CHECK(sfr_shim_fpu_sections == sections0,
		      "%s: opened an FPU section", variant_name[v]);
	sfr_shim_fpu_usable = 1;
	sfr_shim_no_avx2 = 0;
}

static size_t v_find_byte(int v, const u8 *p, size_t len, u8 c)
{
	size_t r;

	enter(v);
	if (v == V_GENERIC)
		r = sfr_scan_find_byte_generic(p, len, c);
	else if (v == V_AVX2)
		r = sfr_scan_find_byte_avx2(p, len, c);
	else
		r = sfr_scan_find_byte(p, len, c);
	leave(v);
	return r;
}

static size_t v_count_byte(int v, const u8 *p, size_t len, u8 c)
{
	size_t r;

	enter(v);
	if (v == V_GENERIC)
		r = sfr_scan_count_byte_generic(p, len, c);
	else if (v == V_AVX2)
		r = sfr_scan_count_byte_avx2(p, len, c);
	else
		r = sfr_scan_count_byte(p, len, c);
	leave(v);
	return r;
}

static size_t v_find_str(int v, const u8 *p, size_t len,
			 const struct sfr_scan_str *s)
{
	size_t r;

	enter(v);
	if (v == V_GENERIC)
		r = sfr_scan_find_str_generic(p, len, s);
	else if (v == V_AVX2)
		r = sfr_scan_find_str_avx2(p, len, s);
	else
		r = sfr_scan_find_str(p, len, s);
	leave(v);
	return r;
}

static size_t v_str_lines(int v, const u8 *p, size_t len,
			  const struct sfr_scan_str *s, u64 *hits, u64 *lines)
{
	size_t r;

	enter(v);
	if (v == V_GENERIC)
		r = sfr_scan_str_lines_generic(p, len, s, hits, lines);
	else
		r = sfr_scan_str_lines(p, len, s, hits, lines);
	leave(v);
	return r;
}

static size_t v_fold_lines(int v, const u8 *p, size_t len,
			   const struct sfr_fx_cfg *cfg,
			   struct sfr_fx_state *st)
{
	size_t r;

	enter(v);
	if (v == V_GENERIC)
		r = sfr_scan_fold_lines_generic(p, len, cfg, st);
	else if (v == V_AVX2)
		r = sfr_scan_fold_lines_avx2(p, len, cfg, st);
	else
		r = sfr_scan_fold_lines(p, len, cfg, st);
	leave(v);
	return r;
}

/* fold() has no variants: generic is the no-AVX2 CPU, avx2 the dispatch. */
static void v_fold(int v, const u8 *p, size_t len,
		   const struct sfr_fx_cfg *cfg, struct sfr_fx_state *st)
{
	v = v == V_GENERIC ? V_NOAVX2 : v == V_AVX2 ? V_DISPATCH : v;
	enter(v);
	sfr_scan_fold(p, len, cfg, st);
	leave(v);
}

/* ---- oracles ---- */

static size_t o_find_byte(const u8 *p, size_t len, u8 c)
{
	size_t i;

	for (i = 0; i < len && p[i] != c; i++)
		;
	return i;
}

static size_t o_rfind_byte(const u8 *p, size_t len, u8 c)
{
	size_t i;

	for (i = len; i--;)
		if (p[i] == c)
			return i;
	return len;
}

static size_t o_count_byte(const u8 *p, size_t len, u8 c)
{
	size_t i, n = 0;

	for (i = 0; i < len; i++)
		n += p[i] == c;
	return n;
}

static size_t o_find_str(const u8 *p, size_t len, const u8 *x, size_t m)
{
	size_t j;

	if (m > len)
		return len;
	for (j = 0; j + m <= len; j++)
		if (!memcmp(p + j, x, m))
			return j;
	return len;
}

/* ---- find and count a byte ---- */

/* All variants and places of [src, len) for byte @c. */
static void check_byte(const u8 *src, size_t len, size_t align, u8 c,
		       bool count)
{
	size_t want_f = o_find_byte(src, len, c);
	size_t want_c = count ? o_count_byte(src, len, c) : 0;
	size_t want_r = o_rfind_byte(src, len, c);
	int mode, v;

	for (mode = 0; mode < NMODES; mode++) {
		struct place pl = place(mode, src, len, align, c);
		size_t r = sfr_scan_rfind_byte(pl.p, len, c);

		CHECK(r == want_r,
		      "rfind_byte %s len %zu align %zu c %#x: %zu, want %zu",
		      mode_name[mode], len, align, c, r, want_r);

		for (v = 0; v < NVARIANTS; v++) {
			size_t r;

			if (!variant_ok(v))
				continue;
			r = v_find_byte(v, pl.p, len, c);
			CHECK(r == want_f,
			      "find_byte %s %s len %zu align %zu c %#x: %zu, want %zu",
			      variant_name[v], mode_name[mode], len, align, c,
			      r, want_f);
			if (!count)
				continue;
			r = v_count_byte(v, pl.p, len, c);
			CHECK(r == want_c,
			      "count_byte %s %s len %zu align %zu c %#x: %zu, want %zu",
			      variant_name[v], mode_name[mode], len, align, c,
			      r, want_c);
		}
		unplace(&pl);
	}
}

static void test_byte_lengths(void)
{
	unsigned long long c0 = n_checks;
	static u8 buf[4096];
	size_t len, align, pos, i;

	for (len = 0; len <= 300; len++) {
		for (align = 0; align < 64; align += quick ? 7 : 1) {
			/* Absent, then at every position (short), first, last. */
			memset(buf, 'x', len);
			check_byte(buf, len, align, 'y', true);
			for (pos = 0; pos < len; pos++) {
				if (len > 80 && pos != 0 && pos != len - 1 &&
				    pos % 17 && pos != len / 2)
					continue;
				memset(buf, 'x', len);
				buf[pos] = 'y';
				if (pos + 5 < len)
					buf[pos + 5] = 'y';
				check_byte(buf, len, align, 'y', true);
			}
			/* Random bytes of a small alphabet; a few byte values. */
			for (i = 0; i < len; i++)
				buf[i] = "ab\n\0\xff"[rnd_below(5)];
			check_byte(buf, len, align, '\n', true);
			check_byte(buf, len, align, 0, true);
			check_byte(buf, len, align, 0xff, true);
			check_byte(buf, len, align, 'b', true);
		}
	}
	tap("find/rfind/count byte: lengths 0..300, alignments 0..63, every place", c0);
}

static void test_byte_values(void)
{
	unsigned long long c0 = n_checks;
	static u8 buf[70000];
	static const size_t lens[] = { 1, 31, 32, 33, 127, 128, 129, 255,
				       256, 257, 1000, 4096, 16383, 16384,
				       16385, 40000, 65536, 69999 };
	size_t k, i;
	int c, v;

	for (k = 0; k < sizeof(lens) / sizeof(lens[0]); k++) {
		size_t len = lens[k];

		if (quick && len > 20000)
			continue;
		for (i = 0; i < len; i++)
			buf[i] = rnd();
		for (c = 0; c < 256; c++) {
			u8 *p = at_align(buf, len, c & 63);
			size_t want_f = o_find_byte(buf, len, c);
			size_t want_c = o_count_byte(buf, len, c);

			for (v = 0; v < NVARIANTS; v++) {
				if (!variant_ok(v))
					continue;
				CHECK(v_find_byte(v, p, len, c) == want_f,
				      "find_byte %s len %zu c %d",
				      variant_name[v], len, c);
				CHECK(v_count_byte(v, p, len, c) == want_c,
				      "count_byte %s len %zu c %d",
				      variant_name[v], len, c);
			}
		}
	}
	/* Lane counters: runs of 255+ matches, all bytes equal. */
	for (k = 0; k < sizeof(lens) / sizeof(lens[0]); k++) {
		size_t len = lens[k];
		u8 *p;

		memset(buf, '\n', len);
		buf[len / 2] = 'a';
		p = at_align(buf, len, k);
		for (v = 0; v < NVARIANTS; v++) {
			if (!variant_ok(v))
				continue;
			CHECK(v_count_byte(v, p, len, '\n') == len - 1,
			      "count all %s len %zu", variant_name[v], len);
			CHECK(v_find_byte(v, p, len, 'a') == len / 2,
			      "find middle %s len %zu", variant_name[v], len);
		}
		CHECK(sfr_scan_rfind_byte(p, len, 'a') == len / 2,
		      "rfind middle len %zu", len);
	}
	tap("find/count byte: all 256 values, random data, long runs", c0);
}

/* ---- fixed string ---- */

static void check_str(const u8 *src, size_t len, size_t align, const u8 *x,
		      size_t m, const char *what)
{
	struct sfr_scan_str s;
	size_t want = o_find_str(src, len, x, m), r;
	int mode, v;

	CHECK(!sfr_scan_str_init(&s, x, m), "init %zu", m);
	for (mode = 0; mode < NMODES; mode++) {
		struct place pl = place(mode, src, len, align,
					m ? x[m - 1] : 0);

		for (v = 0; v < NVARIANTS; v++) {
			if (!variant_ok(v))
				continue;
			r = v_find_str(v, pl.p, len, &s);
			CHECK(r == want,
			      "find_str %s %s %s len %zu align %zu m %zu: %zu, want %zu",
			      what, variant_name[v], mode_name[mode], len, align,
			      m, r, want);
		}
		r = sfr_scan_find_str_twoway(pl.p, len, &s);
		CHECK(r == want, "twoway %s %s len %zu m %zu: %zu, want %zu",
		      what, mode_name[mode], len, m, r, want);
		unplace(&pl);
	}
}

static void test_str_lengths(void)
{
	unsigned long long c0 = n_checks;
	static const size_t ms[] = { 1, 2, 3, 4, 7, 8, 9, 16, 17, 64, 255 };
	static u8 buf[4096], x[256];
	size_t len, align, k, i, pos;

	for (len = 0; len <= 300; len++) {
		for (align = 0; align < 64; align += quick ? 13 : 3) {
			for (k = 0; k < sizeof(ms) / sizeof(ms[0]); k++) {
				size_t m = ms[k];

				for (i = 0; i < m; i++)
					x[i] = "ab"[rnd_below(2)];
				/* Absent: a byte the data lacks. */
				memset(buf, 'a', len);
				x[rnd_below(m)] = 'z';
				check_str(buf, len, align, x, m, "absent");
				if (m > len)
					continue;
				x[0] = 'b';
				/* At the first byte, the last place, one inside. */
				for (i = 0; i < len; i++)
					buf[i] = "abc"[rnd_below(3)];
				memcpy(buf, x, m);
				check_str(buf, len, align, x, m, "first");
				for (i = 0; i < len; i++)
					buf[i] = "ac"[rnd_below(2)];
				memcpy(buf + len - m, x, m);
				check_str(buf, len, align, x, m, "last");
				pos = rnd_below(len - m + 1);
				memcpy(buf + pos, x, m);
				check_str(buf, len, align, x, m, "inside");
				/* Near misses: all but the last byte. */
				memset(buf, 'a', len);
				for (pos = 0; pos + m <= len; pos += m + 1) {
					memcpy(buf + pos, x, m);
					buf[pos + m - 1] ^= 0x40;
				}
				check_str(buf, len, align, x, m, "near");
			}
		}
	}
	tap("find string: lengths 0..300, needles 1..255, every place", c0);
}

static void test_str_random(void)
{
	unsigned long long c0 = n_checks;
	static u8 buf[1 << 17], x[256];
	size_t round, len, m, i, pos;

	for (round = 0; round < (quick ? 60 : 600); round++) {
		unsigned int alpha = 2 + rnd_below(4);

		len = rnd_below(sizeof(buf) >> rnd_below(12));
		m = 1 + rnd_below(rnd_below(2) ? 8 : 255);
		for (i = 0; i < len; i++)
			buf[i] = 'a' + rnd_below(alpha);
		if (len >= m && rnd_below(3)) {
			/* A needle taken from the data. */
			pos = rnd_below(len - m + 1);
			memcpy(x, buf + pos, m);
		} else {
			for (i = 0; i < m; i++)
				x[i] = 'a' + rnd_below(alpha);
		}
		check_str(buf, len, rnd_below(64), x, m, "random");
	}
	/* Periodic needles in periodic data. */
	for (round = 0; round < (quick ? 40 : 400); round++) {
		size_t per = 1 + rnd_below(6);

		m = 1 + rnd_below(40);
		for (i = 0; i < m; i++)
			x[i] = i % per ? 'a' : 'b';
		x[rnd_below(m)] = rnd_below(2) ? 'a' : 'b';
		len = rnd_below(3000);
		for (i = 0; i < len; i++)
			buf[i] = (i + round) % (per + rnd_below(2)) ? 'a' : 'b';
		check_str(buf, len, round & 63, x, m, "periodic");
	}
	tap("find string: random data and needles, periodic needles", c0);
}

/* Every needle over {a, b} up to 7 bytes, every text up to 11 bytes. */
static void test_str_exhaustive(void)
{
	unsigned long long c0 = n_checks;
	u8 x[8], y[12];
	unsigned int m, n, xi, yi, i;
	struct sfr_scan_str s;
	size_t want, r;

	for (m = 1; m <= 7; m++) {
		for (xi = 0; xi < 1U << m; xi++) {
			for (i = 0; i < m; i++)
				x[i] = "ab"[(xi >> i) & 1];
			sfr_scan_str_init(&s, x, m);
			for (n = 0; n <= (quick ? 8 : 11); n++) {
				for (yi = 0; yi < 1U << n; yi++) {
					for (i = 0; i < n; i++)
						y[i] = "ab"[(yi >> i) & 1];
					want = o_find_str(y, n, x, m);
					r = sfr_scan_find_str_twoway(y, n, &s);
					CHECK(r == want, "twoway m %u x %#x n %u y %#x",
					      m, xi, n, yi);
					r = sfr_scan_find_str_generic(y, n, &s);
					CHECK(r == want, "generic m %u x %#x n %u y %#x",
					      m, xi, n, yi);
				}
			}
		}
	}
	tap("find string: exhaustive over {a,b} (Two-Way, generic)", c0);
}

/* Data on which the filter's candidates all fail late: Two-Way takes over. */
static void test_str_hostile(void)
{
	unsigned long long c0 = n_checks;
	static u8 buf[1 << 18], x[256];
	size_t len = sizeof(buf), m, i, pos;
	int v;

	/* needle a^100 b a^100 c; data (a^100 b)*, the needle near the end */
	m = 202;
	memset(x, 'a', m);
	x[100] = 'b';
	x[201] = 'c';
	for (i = 0; i < len; i++)
		buf[i] = i % 101 == 100 ? 'b' : 'a';
	for (pos = 0; pos < 3; pos++) {
		struct sfr_scan_str s;
		size_t where = pos == 0 ? len : len - m - 7 * pos;

		if (where < len)
			memcpy(buf + where, x, m);
		sfr_scan_str_init(&s, x, m);
		for (v = 0; v < NVARIANTS; v++) {
			if (!variant_ok(v))
				continue;
			CHECK(v_find_str(v, buf, len, &s) ==
				      o_find_str(buf, len, x, m),
			      "hostile %s %zu", variant_name[v], pos);
		}
	}
	tap("find string: hostile data (budget, then Two-Way)", c0);
}

/* ---- lines holding a fixed string ---- */

static void o_str_lines(const u8 *p, size_t len, const u8 *x, size_t m,
			u64 *hits, u64 *lines, size_t *end)
{
	size_t s = 0, i;

	*hits = *lines = 0;
	*end = 0;
	for (i = 0; i < len; i++) {
		if (p[i] != '\n')
			continue;
		(*lines)++;
		if (!memchr(x, '\n', m) && o_find_str(p + s, i - s, x, m) < i - s)
			(*hits)++;
		else if (!m)
			(*hits)++;
		s = i + 1;
		*end = s;
	}
}

static void check_lines(const u8 *src, size_t len, size_t align, const u8 *x,
			size_t m)
{
	struct sfr_scan_str s;
	u64 wh, wl, h, l;
	size_t we, r;
	int mode, v;

	o_str_lines(src, len, x, m, &wh, &wl, &we);
	sfr_scan_str_init(&s, x, m);
	for (mode = 0; mode < NMODES; mode++) {
		struct place pl = place(mode, src, len, align, '\n');

		for (v = 0; v < NVARIANTS; v++) {
			if (!variant_ok(v) || v == V_AVX2)
				continue;
			h = 7;
			l = 9;
			r = v_str_lines(v, pl.p, len, &s, &h, &l);
			CHECK(r == we && h == wh + 7 && l == wl + 9,
			      "str_lines %s %s len %zu m %zu: end %zu hits %llu lines %llu, want %zu %llu %llu",
			      variant_name[v], mode_name[mode], len, m, r,
			      (unsigned long long)h - 7,
			      (unsigned long long)l - 9, we,
			      (unsigned long long)wh, (unsigned long long)wl);
			h = 0;
			r = v_str_lines(v, pl.p, len, &s, &h, NULL);
			CHECK(r == we && h == wh, "str_lines NULL lines");
		}
		unplace(&pl);
	}
}

static void test_str_lines(void)
{
	unsigned long long c0 = n_checks;
	static u8 buf[1 << 16], x[256];
	size_t round, len, m, i;

	for (len = 0; len <= 300; len += quick ? 7 : 1) {
		for (i = 0; i < len; i++)
			buf[i] = "aab\n"[rnd_below(4)];
		check_lines(buf, len, len & 63, (const u8 *)"ab", 2);
		check_lines(buf, len, len & 63, (const u8 *)"b", 1);
		check_lines(buf, len, len & 63, (const u8 *)"", 0);
		check_lines(buf, len, len & 63, (const u8 *)"b\na", 3);
		check_lines(buf, len, len & 63, (const u8 *)"aaab", 4);
	}
	for (round = 0; round < (quick ? 50 : 500); round++) {
		len = rnd_below(sizeof(buf) >> rnd_below(10));
		for (i = 0; i < len; i++)
			buf[i] = rnd_below(40) ? 'a' + rnd_below(3) : '\n';
		m = 1 + rnd_below(rnd_below(2) ? 6 : 80);
		for (i = 0; i < m; i++)
			x[i] = 'a' + rnd_below(3);
		if (len > m && rnd_below(2))
			memcpy(x, buf + rnd_below(len - m), m);
		check_lines(buf, len, rnd_below(64), x, m);
	}
	tap("lines holding a string (grep -c): vs a line-by-line oracle", c0);
}

/* ---- decimal fold ---- */

static bool state_eq(const struct sfr_fx_state *a, const struct sfr_fx_state *b)
{
	return !memcmp(a, b, sizeof(*a));
}

static void state_str(const struct sfr_fx_state *s, char *buf, size_t n)
{
	snprintf(buf, n,
		 "sum %016llx:%016llx n %llu min %lld max %lld inv %llu lines %llu first %llu/%u p{%llu %u %u %u %u %u}",
		 (unsigned long long)s->sum.hi, (unsigned long long)s->sum.lo,
		 (unsigned long long)s->count, (long long)s->min,
		 (long long)s->max, (unsigned long long)s->invalid,
		 (unsigned long long)s->lines,
		 (unsigned long long)s->first_invalid, s->first_err,
		 (unsigned long long)s->p.mant, s->p.field, s->p.state,
		 s->p.flags, s->p.nsig, s->p.nfrac);
}

#define CHECK_STATE(got, want, ...)					\
	do {								\
		char __g[256], __w[256];				\
									\
		n_checks++;						\
		if (!state_eq(got, want)) {				\
			state_str(got, __g, sizeof(__g));		\
			state_str(want, __w, sizeof(__w));		\
			check_failed(__LINE__, __VA_ARGS__);		\
			if (n_diag <= 20)				\
				printf("#   got  %s\n#   want %s\n", __g, __w); \
		}							\
	} while (0)

static size_t put(u8 *b, const char *s)
{
	size_t n = strlen(s);

	memcpy(b, s, n);
	return n;
}

/* A number-ish field: mostly the common shape, some of everything else. */
static size_t gen_field(u8 *b, unsigned int scale)
{
	static const char *const odd[] = {
		"", " ", "-", "+", ".", "-.", "+.5", ".5", "5.", "--1", "- 1",
		"1.2.3", "1 2", "0x10", "1,5", "inf", "nan", "1e3", "\"1\"",
		" 7 ", "\t-3.25\t", "007", "-0", "-0.000", "0000000000000000000001",
		"9223372036854775807", "9223372036854775808",
		"-9223372036854775808", "-9223372036854775809",
		"9223372036854775807.5", "922337203685477580.7",
		"92233720368547758.07", "-92233720368547758.08",
		"9.223372036854775807", "9.223372036854775808",
		"-9.223372036854775808", "-9.2233720368547758085",
		"99999999999999999999", "0.125", "-0.125", "0.145", "2.5",
		"0.00000000000000000049", "0.0000000000000000005",
		"12345678901234567", "1234567890123456", "123456789012345",
		"1.000000000000000", "-1.00000000000000",
		"0.99999999999999999999", "-0.5", "0.05",
	};
	size_t n = 0, i, ni, nf;
	u64 r = rnd();

	switch (r % 16) {
	case 0:
		return put(b, odd[rnd_below(sizeof(odd) / sizeof(odd[0]))]);
	case 1:
		/* Any bytes but LF. */
		ni = rnd_below(20);
		for (i = 0; i < ni; i++) {
			b[n] = rnd();
			n += b[n] != '\n';
		}
		return n;
	case 2:
		ni = rnd_below(20);
		for (i = 0; i < ni; i++)
			b[n++] = "0123456789.-+ \t\r,x"[rnd_below(18)];
		return n;
	case 3:
		/* Near the limit at this scale. */
		n = snprintf((char *)b, 40, "%s%llu",
			     rnd_below(2) ? "-" : "",
			     (unsigned long long)(INT64_MAX - rnd_below(3) +
						  rnd_below(3)));
		if (scale && n > scale + 1) {
			memmove(b + n - scale + 1, b + n - scale, scale);
			b[n - scale] = '.';
			n++;
		}
		if (rnd_below(2))
			b[n++] = '0' + rnd_below(10);
		return n;
	default:
		if (r & (1 << 8))
			b[n++] = r & (1 << 9) ? '-' : '+';
		ni = rnd_below(r & (1 << 10) ? 21 : 10);
		for (i = 0; i < ni; i++)
			b[n++] = '0' + rnd_below(10);
		if (r & (1 << 11)) {
			b[n++] = '.';
			nf = rnd_below(r & (1 << 12) ? 21 : 8);
			for (i = 0; i < nf; i++)
				b[n++] = '0' + rnd_below(10);
		}
		if (!(r & (7 << 13)))
			b[n++] = '\r';
		return n;
	}
}

/* @nlines lines of numbers (or of @nf fields split by @delim). */
static size_t gen_lines(u8 *b, size_t cap, size_t nlines, unsigned int scale,
			u8 delim, unsigned int nfields)
{
	size_t n = 0, l;
	unsigned int f, k;

	for (l = 0; l < nlines && n + 200 < cap; l++) {
		k = delim ? rnd_below(nfields + 2) : 1;
		for (f = 0; f < k; f++) {
			if (f)
				b[n++] = delim;
			n += gen_field(b + n, scale);
		}
		if (!rnd_below(30))
			n += put(b + n, rnd_below(2) ? "" : " \r");
		b[n++] = '\n';
	}
	return n;
}

static const u8 delims[] = { 0, ',', ' ', '\t', '.', '-', '\r', '0', '5', '9', ':', '+' };

static struct sfr_fx_cfg rnd_cfg(void)
{
	struct sfr_fx_cfg c = { 0 };

	c.scale = rnd_below(4) ? rnd_below(19) : rnd_below(256);
	if (rnd_below(3) == 0) {
		c.delim = delims[rnd_below(sizeof(delims))];
		c.field = rnd_below(4);
	}
	return c;
}

static void feed(struct sfr_fx_state *st, const struct sfr_fx_cfg *c,
		 const u8 *p, size_t n)
{
	sfr_fx_feed_buf(st, c, p, n);
}

/* fold_lines() and fold() of [src, len) in every variant and place. */
static void check_fold(const u8 *src, size_t len, size_t align,
		       const struct sfr_fx_cfg *cfg, const char *what)
{
	struct sfr_fx_state want = { 0 }, whole = { 0 }, st;
	size_t end, r;
	int mode, v;

	for (end = len; end && src[end - 1] != '\n'; end--)
		;
	feed(&want, cfg, src, end);
	feed(&whole, cfg, src, len);
	for (mode = 0; mode < NMODES; mode++) {
		struct place pl = place(mode, src, len, align, '7');

		for (v = 0; v < NVARIANTS; v++) {
			if (!variant_ok(v))
				continue;
			memset(&st, 0, sizeof(st));
			r = v_fold_lines(v, pl.p, len, cfg, &st);
			CHECK(r == end, "fold_lines %s %s %s len %zu: %zu, want %zu",
			      what, variant_name[v], mode_name[mode], len, r, end);
			CHECK_STATE(&st, &want,
				    "fold_lines %s %s %s len %zu scale %u delim %#x field %u",
				    what, variant_name[v], mode_name[mode], len,
				    cfg->scale, cfg->delim, cfg->field);
			memset(&st, 0, sizeof(st));
			v_fold(v, pl.p, len, cfg, &st);
			CHECK_STATE(&st, &whole, "fold %s %s %s len %zu", what,
				    variant_name[v], mode_name[mode], len);
		}
		unplace(&pl);
	}
}

static void test_fold_lengths(void)
{
	unsigned long long c0 = n_checks;
	static u8 buf[8192];
	struct sfr_fx_cfg cfg;
	size_t len, align, n;

	for (len = 0; len <= 300; len++) {
		for (align = 0; align < 64; align += quick ? 11 : 2) {
			cfg = rnd_cfg();
			n = gen_lines(buf, sizeof(buf), 40, cfg.scale, cfg.delim, 3);
			if (n < len)
				memset(buf + n, '\n', len - n);
			check_fold(buf, len, align, &cfg, "lengths");
		}
	}
	tap("decimal fold: lengths 0..300, alignments, every place", c0);
}

static void test_fold_random(void)
{
	unsigned long long c0 = n_checks;
	static u8 buf[1 << 17];
	struct sfr_fx_cfg cfg;
	size_t round, n;

	for (round = 0; round < (quick ? 100 : 1500); round++) {
		cfg = rnd_cfg();
		n = gen_lines(buf, sizeof(buf), rnd_below(3000), cfg.scale,
			      cfg.delim, 4);
		n -= rnd_below(n < 30 ? n + 1 : 30);	/* a partial last line */
		check_fold(buf, n, rnd_below(64), &cfg, "random");
	}
	tap("decimal fold: random lines, scales 0..255, fields, vs sfr_fx_feed_buf",
	    c0);
}

/* Every cut of a text: fold(a) then fold(b) == the whole fed at once. */
static void test_fold_splits(void)
{
	unsigned long long c0 = n_checks;
	static const char *const texts[] = {
		"-12.345\r\n9223372036854775807\n.5\n\n  \n-9223372036854775808\n0.125\n1e3\n",
		"1\n22\n333\n4444\n55555\n666666\n7777777\n88888888\n999999999\n1234567890\n12345678901\n123456789012\n1234567890123\n12345678901234\n123456789012345\n1234567890123456\n12345678901234567\n",
		"3.14159265358979323846\n-2.71828182845904523536\r\n+0.000000000000000000005\n-.5\n5.\n-0.0000000000000000004\n",
		"a,1.5,x\n,,-2\n1,2\n3,,4\n  ,7\n8\n,9\r\n",
	};
	static const struct sfr_fx_cfg cfgs[] = {
		{ .scale = 0 }, { .scale = 2 }, { .scale = 6 }, { .scale = 18 },
		{ .scale = 3, .delim = ',', .field = 1 },
		{ .scale = 1, .delim = ',', .field = 2 },
	};
	struct sfr_fx_state want, st;
	size_t t, c, k, k2, n;
	int v;

	for (t = 0; t < sizeof(texts) / sizeof(texts[0]); t++) {
		const u8 *p = (const u8 *)texts[t];

		n = strlen(texts[t]);
		for (c = 0; c < sizeof(cfgs) / sizeof(cfgs[0]); c++) {
			memset(&want, 0, sizeof(want));
			feed(&want, &cfgs[c], p, n);
			for (v = 0; v < NVARIANTS; v++) {
				if (!variant_ok(v))
					continue;
				for (k = 0; k <= n; k++) {
					for (k2 = k; k2 <= n; k2 += quick ? 5 : 1) {
						memset(&st, 0, sizeof(st));
						v_fold(v, at_align(p, k, k), k,
						       &cfgs[c], &st);
						v_fold(v, at_align(p + k, k2 - k, k2),
						       k2 - k, &cfgs[c], &st);
						v_fold(v, at_align(p + k2, n - k2, 0),
						       n - k2, &cfgs[c], &st);
						CHECK_STATE(&st, &want,
							    "splits text %zu cfg %zu %s at %zu,%zu",
							    t, c, variant_name[v],
							    k, k2);
					}
				}
			}
			/* And one byte at a time, then finish. */
			memset(&st, 0, sizeof(st));
			for (k = 0; k < n; k++)
				sfr_scan_fold(at_align(p + k, 1, 0), 1, &cfgs[c],
					      &st);
			sfr_fx_finish(&want, &cfgs[c]);
			sfr_fx_finish(&st, &cfgs[c]);
			CHECK_STATE(&st, &want, "bytes text %zu cfg %zu", t, c);
		}
	}
	tap("decimal fold: every split point (numbers cut anywhere)", c0);
}

/* Numbers on the fast path against the header's parser, value by value. */
static void test_fold_values(void)
{
	unsigned long long c0 = n_checks;
	char line[64];
	struct sfr_fx_cfg cfg = { 0 };
	struct sfr_fx_state want, st;
	unsigned int scale, round, ni, nf, i;
	size_t n;

	for (round = 0; round < (quick ? 20000 : 400000); round++) {
		scale = rnd_below(19);
		n = 0;
		if (rnd_below(2))
			line[n++] = rnd_below(3) ? '-' : '+';
		ni = rnd_below(20);
		nf = rnd_below(2) ? rnd_below(17) : 0;
		for (i = 0; i < ni; i++)
			line[n++] = '0' + (rnd_below(4) ? rnd_below(10) : 9);
		if (nf || rnd_below(4) == 0) {
			line[n++] = '.';
			for (i = 0; i < nf; i++)
				line[n++] = '0' + (rnd_below(4) ? rnd_below(10) : 9);
		}
		if (!rnd_below(8))
			line[n++] = '\r';
		line[n++] = '\n';
		cfg.scale = scale;
		memset(&want, 0, sizeof(want));
		memset(&st, 0, sizeof(st));
		feed(&want, &cfg, (u8 *)line, n);
		CHECK(sfr_scan_fold_lines(at_align((u8 *)line, n, round & 63), n,
					  &cfg, &st) == n, "consumed");
		CHECK_STATE(&st, &want, "value '%.*s' scale %u", (int)n - 1,
			    line, scale);
	}
	tap("decimal fold: single numbers (rounding, range, CR, sign) vs the header",
	    c0);
}

static void test_fold_api(void)
{
	unsigned long long c0 = n_checks;
	struct sfr_fx_cfg cfg = { .scale = 2 };
	struct sfr_fx_state st = { 0 }, want = { 0 };
	const u8 *t = (const u8 *)"12.5\n-3\nxx\n";
	struct sfr_scan_str s;
	u8 big[300];

	/* A parser in the middle of a line: fold_lines() does nothing. */
	sfr_fx_feed(&st, &cfg, '4');
	want = st;
	CHECK(sfr_scan_fold_lines(t, 11, &cfg, &st) == 0, "pending: consumed");
	CHECK_STATE(&st, &want, "pending: state changed");
	/* fold() ends the carried line first: "412.5" */
	sfr_scan_fold(t, 11, &cfg, &st);
	CHECK(st.count == 2 && st.sum.lo == 41250 - 300 && st.invalid == 1 &&
	      st.first_invalid == 3 && st.lines == 3,
	      "carried line: count %llu sum %lld", (unsigned long long)st.count,
	      (long long)st.sum.lo);
	/* Needle limits. */
	memset(big, 'a', sizeof(big));
	CHECK(sfr_scan_str_init(&s, big, 256) == -EINVAL, "256-byte needle");
	CHECK(sfr_scan_str_init(&s, big, 255) == 0, "255-byte needle");
	CHECK(sfr_scan_find_str(big, 300, &s) == 0, "255 a's in 300");
	CHECK(sfr_scan_find_str(big, 254, &s) == 254, "longer than the text");
	CHECK(sfr_scan_str_init(&s, big, 0) == 0 &&
	      sfr_scan_find_str(big, 10, &s) == 0 &&
	      sfr_scan_find_str(big, 0, &s) == 0, "empty needle");
	tap("interfaces: pending parser, carried line, needle limits", c0);
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "-q"))
		quick = 1;
	area_init();
	have_avx2 = __builtin_cpu_supports("avx2");
	printf("TAP version 13\n");
	if (!have_avx2)
		printf("# no AVX2 on this CPU: the avx2 variant is not run\n");
	test_byte_lengths();
	test_byte_values();
	test_str_lengths();
	test_str_random();
	test_str_exhaustive();
	test_str_hostile();
	test_str_lines();
	test_fold_values();
	test_fold_lengths();
	test_fold_random();
	test_fold_splits();
	test_fold_api();
	printf("1..%u\n# %u passed, %u failed, %llu checks\n", n_tap, n_pass,
	       n_fail, n_checks);
	return n_fail ? 1 : 0;
}
