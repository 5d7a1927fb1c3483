// SPDX-License-Identifier: GPL-2.0
/*
 * sfr-gen: deterministic test data, fast enough for GiB files.
 *
 *   sfr-gen numbers SIZE [SEED]   signed decimals, one per line, 0-6
 *                                 fraction digits, some CRLF lines
 *   sfr-gen text SIZE [SEED]      lines of words; a few contain "needle"
 *
 * SIZE takes K, M, G suffixes (powers of 1024). Output goes to stdout and
 * is exactly SIZE bytes: the last line is cut short if it must be.
 *
 *   sfr-gen --summary FILE [--scale S] numbers SIZE [SEED]
 *
 * also writes to FILE the exact answer examples/sfr-avg --scale S must
 * give for the output (default S 6, at most 18): "count: N", "sum: S",
 * "mean: M" (S decimals, half away from zero), "min: X", "max: Y",
 * "invalid: K", one per line. It is computed from the integers each line
 * was made of (sign, integer part, fraction digits), never by parsing the
 * text, so it is an oracle independent of any decimal parser. The data
 * written to stdout is the same with or without --summary. A last line cut
 * short counts with the digits it kept ("-12.3" of "-12.345"; a lone "-"
 * is invalid). Values that do not fit in a signed 64-bit integer at scale
 * S count as invalid, as sfr-avg counts them.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t rng;

static uint64_t next(void)	/* xorshift64* */
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 2685821657736338717ULL;
}

static int parse_size(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s)
		return -1;
	switch (*end) {
	case 'G': v <<= 10; /* fall through */
	case 'M': v <<= 10; /* fall through */
	case 'K': v <<= 10; end++; break;
	case 0: break;
	default: return -1;
	}
	if (*end)
		return -1;
	*out = v;
	return 0;
}

static const char *words[] = {
	"alpha", "beta", "gamma", "delta", "kernel", "folio", "page", "cache",
	"read", "filter", "reduce", "storage", "program", "verifier", "window",
	"record", "frame", "scratch", "ring", "queue", "batch", "offload",
};

/* What the last line_numbers() line was made of (for --summary). */
static struct {
	bool neg, cr;
	int ndig;		/* decimal digits of ival ("0": 1) */
	int frac;		/* fraction digits, 0..6 */
	uint64_t ival;		/* integer part */
	uint64_t fval;		/* the fraction digits as an integer */
} last;

/* One line into @p; returns its length. */
static size_t line_numbers(char *p)
{
	uint64_t r = next();
	int digits = 1 + r % 9, frac = (r >> 8) % 7, n = 0, i;
	uint64_t v = next() % 1000000000ULL;

	for (i = digits; i < 9; i++)
		v /= 10;
	last.neg = (r >> 16) % 10 < 3;
	if (last.neg)
		p[n++] = '-';
	n += sprintf(p + n, "%llu", (unsigned long long)v);
	last.ival = v;
	for (last.ndig = 1; v >= 10; v /= 10)
		last.ndig++;
	last.frac = frac;
	last.fval = 0;
	if (frac) {
		p[n++] = '.';
		for (i = 0; i < frac; i++) {
			int d = next() % 10;

			p[n++] = '0' + d;
			last.fval = last.fval * 10 + d;
		}
	}
	last.cr = (r >> 24) % 50 == 0;
	if (last.cr)
		p[n++] = '\r';
	p[n++] = '\n';
	return n;
}

/* ---- --summary: the exact answer, from the integers of each line ---- */

typedef __int128 i128;
typedef unsigned __int128 u128;

static struct {
	unsigned int scale;
	uint64_t count, invalid;
	i128 sum;
	int64_t min, max;
} sm;

static u128 pow10u(unsigned int k)
{
	u128 p = 1;

	while (k--)
		p *= 10;
	return p;
}

/*
 * Account the last line, of which only the first @keep bytes were written
 * (all of it, LF included, when @keep is its length).
 */
static void summary_line(size_t keep)
{
	size_t sign = last.neg ? 1 : 0, kint, kfrac = 0;
	uint64_t ival = last.ival, fval = 0;
	u128 m6, mag, lim;
	int64_t v;

	if (keep <= sign) {		/* nothing but "-" */
		sm.invalid++;
		return;
	}
	/* The integer digits kept, then '.' and the fraction digits kept. */
	kint = keep - sign < (size_t)last.ndig ? keep - sign : (size_t)last.ndig;
	ival /= (uint64_t)pow10u(last.ndig - kint);
	if (kint == (size_t)last.ndig && last.frac &&
	    keep - sign > (size_t)last.ndig + 1) {
		kfrac = keep - sign - last.ndig - 1;
		if (kfrac > (size_t)last.frac)
			kfrac = last.frac;
		fval = last.fval / (uint64_t)pow10u(last.frac - kfrac);
	}
	/* Magnitude at 6 decimals, exact (the generator makes at most 6). */
	m6 = (u128)ival * 1000000 + (u128)fval * pow10u(6 - kfrac);
	if (sm.scale >= 6) {
		mag = m6 * pow10u(sm.scale - 6);
	} else {
		/* Half away from zero: the first dropped digit decides. */
		mag = m6 / pow10u(6 - sm.scale);
		if ((m6 / pow10u(5 - sm.scale)) % 10 >= 5)
			mag++;
	}
	lim = (u128)INT64_MAX + (last.neg ? 1 : 0);
	if (mag > lim) {
		sm.invalid++;
		return;
	}
	v = last.neg ? (int64_t)(0 - (uint64_t)mag) : (int64_t)(uint64_t)mag;
	if (!sm.count || v < sm.min)
		sm.min = v;
	if (!sm.count || v > sm.max)
		sm.max = v;
	sm.sum += v;
	sm.count++;
}

/* @v / 10^scale with exactly scale decimals; '-' only below zero. */
static void put_fixed(FILE *f, const char *key, i128 v, unsigned int scale)
{
	char d[64];
	u128 m = v < 0 ? -(u128)v : (u128)v;
	int n = 0;

	do {
		d[n++] = '0' + (int)(m % 10);
		m /= 10;
	} while (m || n <= (int)scale);
	fprintf(f, "%s: %s", key, v < 0 ? "-" : "");
	while (n > (int)scale)
		fputc(d[--n], f);
	if (scale)
		fputc('.', f);
	while (n)
		fputc(d[--n], f);
	fputc('\n', f);
}

static int summary_write(const char *path)
{
	FILE *f = fopen(path, "w");
	u128 m, q;

	if (!f) {
		fprintf(stderr, "sfr-gen: %s: %s\n", path, strerror(errno));
		return 1;
	}
	fprintf(f, "count: %llu\n", (unsigned long long)sm.count);
	put_fixed(f, "sum", sm.sum, sm.scale);
	if (sm.count) {
		/* mean = sum / count at the same scale, half away from zero */
		m = sm.sum < 0 ? -(u128)sm.sum : (u128)sm.sum;
		q = m / sm.count;
		if ((m % sm.count) * 2 >= sm.count)
			q++;
		put_fixed(f, "mean", sm.sum < 0 ? -(i128)q : (i128)q, sm.scale);
		put_fixed(f, "min", sm.min, sm.scale);
		put_fixed(f, "max", sm.max, sm.scale);
	} else {
		fputs("mean: -\nmin: -\nmax: -\n", f);
	}
	fprintf(f, "invalid: %llu\n", (unsigned long long)sm.invalid);
	if (fclose(f)) {
		fprintf(stderr, "sfr-gen: %s: %s\n", path, strerror(errno));
		return 1;
	}
	return 0;
}

static size_t line_text(char *p)
{
	uint64_t r = next();
	int k = r % 14, n = 0, i;

	for (i = 0; i < k; i++) {
		const char *w = words[next() % (sizeof(words) / sizeof(words[0]))];

		if (i)
			p[n++] = ' ';
		if ((next() % 2000) == 0)
			w = "needle";
		n += sprintf(p + n, "%s", w);
	}
	p[n++] = '\n';
	return n;
}

static int usage(void)
{
	fprintf(stderr, "usage: sfr-gen numbers|text SIZE[K|M|G] [SEED]\n"
		"       sfr-gen --summary FILE [--scale S] numbers SIZE[K|M|G] [SEED]\n");
	return 2;
}

int main(int argc, char **argv)
{
	static char buf[1 << 20];
	size_t (*gen)(char *);
	uint64_t size, done = 0;
	size_t fill = 0;
	const char *summary = NULL;

	sm.scale = 6;
	while (argc > 1 && !strncmp(argv[1], "--", 2)) {
		char *end;

		if (argc > 2 && !strcmp(argv[1], "--summary")) {
			summary = argv[2];
		} else if (argc > 2 && !strcmp(argv[1], "--scale")) {
			errno = 0;
			sm.scale = strtoul(argv[2], &end, 10);
			if (errno || end == argv[2] || *end || sm.scale > 18)
				return usage();
		} else {
			return usage();
		}
		argc -= 2;
		argv += 2;
	}
	if (argc < 3 || argc > 4 || parse_size(argv[2], &size) ||
	    (strcmp(argv[1], "numbers") && strcmp(argv[1], "text")) ||
	    (summary && strcmp(argv[1], "numbers")))
		return usage();
	gen = !strcmp(argv[1], "numbers") ? line_numbers : line_text;
	rng = argc == 4 ? strtoull(argv[3], NULL, 0) : 42;
	rng = rng * 0x9E3779B97F4A7C15ULL + 1;
	while (done < size) {
		size_t len = gen(buf + fill);

		if (summary)	/* the line starts at done + fill */
			summary_line(done + fill + len <= size ? len :
				     (size_t)(size - done - fill));
		fill += len;
		if (fill > sizeof(buf) - 256 || done + fill >= size) {
			size_t n = fill;

			if (done + n > size)
				n = size - done;
			if (fwrite(buf, 1, n, stdout) != n) {
				perror("sfr-gen: write");
				return 1;
			}
			done += n;
			fill = 0;
		}
	}
	if (fflush(stdout))
		return 1;
	return summary ? summary_write(summary) : 0;
}
