// SPDX-License-Identifier: GPL-2.0
/*
 * Host tests of bpf/sfr_fixed.h (TAP). Every check compares against an
 * oracle written here independently of the header: a reference parser that
 * works on exact rationals (all digits / 10^fraction digits, rounded by
 * division), strings built with snprintf() from integer parts, a
 * line-by-line reduce, and native __int128 arithmetic. The BPF part loads
 * fixed_xdp.bpf.c (the same parser as an XDP program) and compares its
 * state with the C one byte for byte, then times both.
 *
 * Usage: fixed_test [-q]   -q: quick (fewer iterations, for valgrind)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>

#include "../../bpf/sfr_fixed.h"
#include "fixed_xdp.skel.h"

typedef __int128 i128;
typedef unsigned __int128 u128;

static int quick;
static unsigned int n_pass, n_fail, n_skip, n_tap;
static unsigned int cur_fail;	/* failed checks in the current test */
static unsigned long long n_checks;

#define DIAG_MAX 12

static void diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void diag(const char *fmt, ...)
{
	va_list ap;

	if (cur_fail > DIAG_MAX)
		return;
	va_start(ap, fmt);
	printf("# ");
	vprintf(fmt, ap);
	printf("\n");
	va_end(ap);
}

/* CHECK(cond, fmt, ...): count a check; on failure print a diagnostic. */
#define CHECK(cond, ...)						\
	({								\
		int ___c = !!(cond);					\
		n_checks++;						\
		if (!___c) {						\
			cur_fail++;					\
			diag(__VA_ARGS__);				\
		}							\
		___c;							\
	})

static void tap_result(const char *name)
{
	n_tap++;
	if (cur_fail) {
		if (cur_fail > DIAG_MAX)
			printf("# ... %u failed checks in all\n", cur_fail);
		printf("not ok %u - %s\n", n_tap, name);
		n_fail++;
	} else {
		printf("ok %u - %s\n", n_tap, name);
		n_pass++;
	}
	cur_fail = 0;
	fflush(stdout);
}

static void tap_skip(const char *name, const char *why)
{
	n_tap++;
	n_skip++;
	printf("ok %u - %s # SKIP %s\n", n_tap, name, why);
	cur_fail = 0;
	fflush(stdout);
}

/* xorshift64*: deterministic, seeded per test. */
static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint64_t rnd(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dULL;
}

static uint64_t rnd_below(uint64_t n)
{
	return n ? rnd() % n : 0;
}

static const char *i128_str(i128 v, char *buf)
{
	char tmp[48];
	u128 m = v < 0 ? -(u128)v : (u128)v;
	int n = 0, k = 0;

	do {
		tmp[n++] = (char)('0' + (int)(m % 10));
		m /= 10;
	} while (m);
	if (v < 0)
		buf[k++] = '-';
	while (n)
		buf[k++] = tmp[--n];
	buf[k] = '\0';
	return buf;
}

/* 10^k by repeated multiplication (not the header's sfr_fx_pow10). */
static u128 ref_pow10(unsigned int k)
{
	u128 p = 1;

	while (k--)
		p *= 10;
	return p;
}

static int is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

/*
 * The reference parser: the number in [s, s + n) as an exact rational
 * N / 10^F (N all its digits, at most 36 of them), scaled and rounded half
 * away from zero by division. 0 and *out, -EINVAL or -ERANGE.
 */
static int ref_parse(const char *s, size_t n, unsigned int scale,
		     __s64 *out)
{
	size_t i = 0, e = n;
	u128 N = 0, v, lim;
	unsigned int F = 0, nd = 0;
	int neg = 0, dot = 0;

	while (i < e && is_blank(s[i]))
		i++;
	while (e > i && is_blank(s[e - 1]))
		e--;
	if (i < e && (s[i] == '+' || s[i] == '-'))
		neg = s[i++] == '-';
	for (; i < e; i++) {
		if (s[i] >= '0' && s[i] <= '9') {
			if (++nd > 36)
				return -E2BIG;	/* outside what we can check */
			N = N * 10 + (unsigned int)(s[i] - '0');
			F += dot;
		} else if (s[i] == '.' && !dot) {
			dot = 1;
		} else {
			return -EINVAL;
		}
	}
	if (!nd)
		return -EINVAL;
	if (F <= scale) {
		u128 p = ref_pow10(scale - F);

		if (N && N > ~(u128)0 / p)
			return -ERANGE;
		v = N * p;
	} else {
		u128 den = ref_pow10(F - scale), r;

		v = N / den;
		r = N % den;
		if (2 * r >= den)
			v++;
	}
	lim = (u128)INT64_MAX + (neg ? 1 : 0);
	if (v > lim)
		return -ERANGE;
	*out = neg ? (__s64)-(i128)v : (__s64)v;
	return 0;
}

static int ref_parse_str(const char *s, unsigned int scale, __s64 *out)
{
	return ref_parse(s, strlen(s), scale, out);
}

/* The reduce, line by line, on top of ref_parse(). */
struct ref_state {
	i128 sum;
	__s64 min, max;
	uint64_t count, invalid, lines, first_invalid;
	int first_err;
};

static void ref_line(struct ref_state *r, const char *s, size_t n,
		     const struct sfr_fx_cfg *cfg)
{
	int delim = cfg->delim && cfg->delim != '\n' ? cfg->delim : -1;
	size_t i, start = 0;
	unsigned int f = 0;
	__s64 v = 0;
	int blank = 1, rc = -EINVAL, found = 0;

	r->lines++;
	for (i = 0; i < n; i++)
		if (!is_blank(s[i]) || s[i] == delim)
			blank = 0;
	if (blank)
		return;
	for (i = 0; i <= n; i++) {
		if (i < n && s[i] != delim)
			continue;
		if (f == cfg->field) {
			rc = ref_parse(s + start, i - start,
				       cfg->scale, &v);
			found = 1;
			break;
		}
		f++;
		start = i + 1;
	}
	if (!found)
		rc = -EINVAL;
	if (rc == 0) {
		r->sum += v;
		if (!r->count || v < r->min)
			r->min = v;
		if (!r->count || v > r->max)
			r->max = v;
		r->count++;
		return;
	}
	if (!r->invalid) {
		r->first_invalid = r->lines;
		r->first_err = rc == -ERANGE ? SFR_FX_RANGE : SFR_FX_INVALID;
	}
	r->invalid++;
}

static void ref_reduce(struct ref_state *r, const char *buf, size_t len,
		       const struct sfr_fx_cfg *cfg)
{
	size_t i, start = 0;

	memset(r, 0, sizeof(*r));
	for (i = 0; i < len; i++) {
		if (buf[i] != '\n')
			continue;
		ref_line(r, buf + start, i - start, cfg);
		start = i + 1;
	}
	if (start < len)
		ref_line(r, buf + start, len - start, cfg);
}

static int same_as_ref(const struct sfr_fx_state *st,
		       const struct ref_state *r, const char *what)
{
	char a[48], b[48];
	int ok = 1;

	ok &= CHECK(sfr_fx_s128_get(st->sum) == r->sum, "%s: sum %s, want %s",
		    what, i128_str(sfr_fx_s128_get(st->sum), a),
		    i128_str(r->sum, b));
	ok &= CHECK(st->count == r->count, "%s: count %llu, want %llu", what,
		    (unsigned long long)st->count,
		    (unsigned long long)r->count);
	ok &= CHECK(st->invalid == r->invalid, "%s: invalid %llu, want %llu",
		    what, (unsigned long long)st->invalid,
		    (unsigned long long)r->invalid);
	ok &= CHECK(st->lines == r->lines, "%s: lines %llu, want %llu", what,
		    (unsigned long long)st->lines,
		    (unsigned long long)r->lines);
	ok &= CHECK(st->first_invalid == r->first_invalid &&
			    (!r->invalid || (int)st->first_err == r->first_err),
		    "%s: first invalid %llu (%u), want %llu (%d)", what,
		    (unsigned long long)st->first_invalid, st->first_err,
		    (unsigned long long)r->first_invalid, r->first_err);
	if (r->count)
		ok &= CHECK(st->min == r->min && st->max == r->max,
			    "%s: min/max %lld/%lld"
			    ", want %lld/%lld",
			    what, st->min, st->max, r->min, r->max);
	ok &= CHECK(!sfr_fx_pending(&st->p), "%s: parser not idle", what);
	return ok;
}

static void reduce_buf(struct sfr_fx_state *st, const char *buf, size_t len,
		       const struct sfr_fx_cfg *cfg)
{
	memset(st, 0, sizeof(*st));
	sfr_fx_feed_buf(st, cfg, buf, len);
	sfr_fx_finish(st, cfg);
}

/* -------------------------------------------------------------------- */

static void test_pow10(void)
{
	unsigned int k;

	for (k = 0; k <= 19; k++)
		CHECK((u128)sfr_fx_pow10(k) == ref_pow10(k), "pow10(%u)", k);
	tap_result("pow10: 10^0..10^19");
}

struct pcase {
	const char *s;
	unsigned int scale;
	int rc;
	__s64 v;
};

static void run_cases(const struct pcase *c, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		__s64 v = 0x5a5a5a5a, rv = 0;
		int rc = sfr_fx_parse_str(c[i].s, c[i].scale, &v);
		int rrc = ref_parse_str(c[i].s, c[i].scale, &rv);

		if (c[i].rc == 0)
			CHECK(rc == 0 && v == c[i].v,
			      "\"%s\" scale %u: rc %d value %lld"
			      ", want %lld", c[i].s, c[i].scale, rc, v,
			      c[i].v);
		else
			CHECK(rc == c[i].rc && v == 0x5a5a5a5a,
			      "\"%s\" scale %u: rc %d, want %d (out touched: %d)",
			      c[i].s, c[i].scale, rc, c[i].rc,
			      v != 0x5a5a5a5a);
		/* The table also pins the reference parser. */
		if (rrc != -E2BIG)
			CHECK(rrc == c[i].rc && (rrc || rv == c[i].v),
			      "reference: \"%s\" scale %u: rc %d value %lld",
			      c[i].s, c[i].scale, rrc, rv);
	}
}

static void test_parse_valid(void)
{
	static const struct pcase c[] = {
		{ "-12.345", 3, 0, -12345 },
		{ "-12.345", 6, 0, -12345000 },
		{ "+7", 0, 0, 7 },
		{ "7", 0, 0, 7 },
		{ "7", 2, 0, 700 },
		{ ".5", 1, 0, 5 },
		{ "-.5", 1, 0, -5 },
		{ "+.5", 3, 0, 500 },
		{ "5.", 0, 0, 5 },
		{ "5.", 2, 0, 500 },
		{ "-0.000001", 6, 0, -1 },
		{ "-0.000001", 18, 0, -1000000000000 },
		{ "-0.000001", 5, 0, 0 },
		{ "0", 0, 0, 0 },
		{ "-0", 0, 0, 0 },
		{ "-0.000", 2, 0, 0 },
		{ "000000000000000000000000000007", 0, 0, 7 },
		{ "0.000000000000000000000000000009", 18, 0, 0 },
		{ "  42  ", 0, 0, 42 },
		{ "\t-1.5\t", 1, 0, -15 },
		{ " \t+3.25 \r", 2, 0, 325 },
		{ "1\r", 0, 0, 1 },
		{ "123456789012345678", 0, 0, 123456789012345678LL },
		{ "1234567890.12345678", 8, 0, 123456789012345678LL },
		{ "0.123456789012345678", 18, 0, 123456789012345678LL },
		{ "-0.123456789012345678", 18, 0, -123456789012345678LL },
	};

	run_cases(c, sizeof(c) / sizeof(c[0]));
	tap_result("parse: valid numbers (signs, leading/trailing dot, blanks)");
}

static void test_parse_invalid(void)
{
	static const char *const bad[] = {
		"abc", "1.2.3", "--1", "1e3", "1E3", "1.5e2", "e5", "",
		" ", "\t\r ", "-", "+", ".", "-.", "+.", "..", "1..2",
		"+-1", "-+1", "1-", "1+", "- 1", "1 2", "1 .5", "1. 5",
		"0x10", "1,5", "inf", "-inf", "nan", "1_000", "\"1\"",
		"1\n", "1\n2", "\n", "١", "1\v", "\f1", "½",
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		unsigned int scale;

		for (scale = 0; scale <= SFR_FX_SCALE_MAX; scale += 6) {
			__s64 v = 77;
			int rc;

			errno = 0;
			rc = sfr_fx_parse_str(bad[i], scale, &v);
			CHECK(rc == -EINVAL && errno == EINVAL && v == 77,
			      "\"%s\" scale %u: rc %d errno %d", bad[i],
			      scale, rc, errno);
		}
	}
	/* An embedded NUL is just another bad byte. */
	{
		__s64 v = 77;

		CHECK(sfr_fx_parse_buf("1\0", 2, 0, &v) == -EINVAL,
		      "\"1\\0\" accepted");
		CHECK(sfr_fx_parse_buf("12", 1, 0, &v) == 0 && v == 1,
		      "length not honoured");
		CHECK(sfr_fx_parse_str("1", SFR_FX_SCALE_MAX + 1, &v) ==
			      -EINVAL, "scale 19 accepted");
	}
	tap_result("parse: invalid inputs are -EINVAL, including 1e3, \"\", \" \", \"-\", \".\"");
}

static void test_rounding(void)
{
	static const struct pcase c[] = {
		{ "0.125", 2, 0, 13 },
		{ "-0.125", 2, 0, -13 },
		{ "0.135", 2, 0, 14 },
		{ "0.145", 2, 0, 15 },		/* half-even would say 14 */
		{ "-0.145", 2, 0, -15 },
		{ "2.5", 0, 0, 3 },
		{ "-2.5", 0, 0, -3 },
		{ "3.5", 0, 0, 4 },
		{ "0.5", 0, 0, 1 },
		{ "-0.5", 0, 0, -1 },
		{ "0.4999999999999999999999", 0, 0, 0 },
		{ "-0.4999999999999999999999", 0, 0, 0 },
		{ "0.5000000000000000000001", 0, 0, 1 },
		{ "1.0049", 2, 0, 100 },
		{ "1.005", 2, 0, 101 },
		{ "1.00500000000000000000000", 2, 0, 101 },
		{ "9.995", 2, 0, 1000 },
		{ "-9.995", 2, 0, -1000 },
		{ "-0.004", 2, 0, 0 },
		{ "-0.005", 2, 0, -1 },
		{ "0.0000000000000000005", 18, 0, 1 },
		{ "0.0000000000000000004", 18, 0, 0 },
		{ "-0.0000000000000000015", 18, 0, -2 },
		{ "99.5", 0, 0, 100 },
	};

	run_cases(c, sizeof(c) / sizeof(c[0]));
	tap_result("rounding: ties go half away from zero, symmetric in the sign");
}

static void test_overflow(void)
{
	static const struct pcase c[] = {
		{ "9223372036854775807", 0, 0, INT64_MAX },
		{ "9223372036854775808", 0, -ERANGE, 0 },
		{ "-9223372036854775808", 0, 0, INT64_MIN },
		{ "-9223372036854775809", 0, -ERANGE, 0 },
		{ "9223372036854775807.4", 0, 0, INT64_MAX },
		{ "9223372036854775807.5", 0, -ERANGE, 0 },
		{ "-9223372036854775807.5", 0, 0, INT64_MIN },
		{ "-9223372036854775808.4", 0, 0, INT64_MIN },
		{ "-9223372036854775808.5", 0, -ERANGE, 0 },
		{ "922337203685477580.7", 1, 0, INT64_MAX },
		{ "922337203685477580.8", 1, -ERANGE, 0 },
		{ "-922337203685477580.8", 1, 0, INT64_MIN },
		{ "9.223372036854775807", 18, 0, INT64_MAX },
		{ "9.2233720368547758074", 18, 0, INT64_MAX },
		{ "9.2233720368547758075", 18, -ERANGE, 0 },
		{ "9.3", 18, -ERANGE, 0 },
		{ "10", 18, -ERANGE, 0 },
		{ "-10", 18, -ERANGE, 0 },
		{ "9999999999999999999", 0, -ERANGE, 0 },
		{ "99999999999999999999", 0, -ERANGE, 0 },
		{ "18446744073709551616", 0, -ERANGE, 0 },
		{ "12345678901234567890123", 0, -ERANGE, 0 },
		{ "1000000000000000000000000000000000000000000000000", 0,
		  -ERANGE, 0 },
		{ "92233720368547758070", 0, -ERANGE, 0 },
		{ "1e999", 0, -EINVAL, 0 },	/* syntax before range */
		{ "99999999999999999999x", 0, -EINVAL, 0 },
	};
	unsigned int scale;

	run_cases(c, sizeof(c) / sizeof(c[0]));
	/* The limits at every scale, from integer parts, and one past. */
	for (scale = 0; scale <= SFR_FX_SCALE_MAX; scale++) {
		static const char *const lim[2] = { "9223372036854775807",
						    "9223372036854775808" };
		static const char *const past[2] = { "9223372036854775808",
						     "9223372036854775809" };
		int neg;

		for (neg = 0; neg <= 1; neg++) {
			char s[64], t[64];
			size_t L = strlen(lim[neg]);
			__s64 v = 0;
			int rc;

			snprintf(s, sizeof(s), "%s%.*s%s%s", neg ? "-" : "",
				 (int)(L - scale), lim[neg], scale ? "." : "",
				 lim[neg] + L - scale);
			rc = sfr_fx_parse_str(s, scale, &v);
			CHECK(rc == 0 && v == (neg ? INT64_MIN : INT64_MAX),
			      "\"%s\" scale %u: rc %d", s, scale, rc);
			/* one more unit in the last place */
			snprintf(t, sizeof(t), "%s%.*s%s%s", neg ? "-" : "",
				 (int)(L - scale), past[neg], scale ? "." : "",
				 past[neg] + L - scale);
			rc = sfr_fx_parse_str(t, scale, &v);
			CHECK(rc == -ERANGE && errno == ERANGE,
			      "\"%s\" scale %u: rc %d, want -ERANGE", t, scale,
			      rc);
		}
	}
	tap_result("overflow: out-of-range values are -ERANGE, never wrapped; limits exact at scales 0..18");
}

/* sign, integer part, '.', fraction part zero-padded: snprintf only. */
static void mk_decimal(char *s, size_t n, int neg, uint64_t mag,
		       unsigned int scale)
{
	uint64_t p = 1;
	unsigned int i;

	for (i = 0; i < scale; i++)
		p *= 10;
	if (scale)
		snprintf(s, n, "%s%" PRIu64 ".%0*" PRIu64, neg ? "-" : "",
			 mag / p, (int)scale, mag % p);
	else
		snprintf(s, n, "%s%" PRIu64, neg ? "-" : "", mag);
}

static void test_roundtrip(void)
{
	unsigned int iters = quick ? 5000 : 300000, it;

	rng_state = 1;
	for (it = 0; it < iters; it++) {
		unsigned int digits = 1 + (unsigned int)rnd_below(18);
		unsigned int scale = (unsigned int)rnd_below(19), s2;
		uint64_t mag = rnd() % (uint64_t)ref_pow10(digits);
		int neg = (int)(rnd() & 1) && mag;
		__s64 m = neg ? -(__s64)mag : (__s64)mag, v = 0, rv;
		char s[80], f[80], t[80];
		size_t L;
		int rc;

		mk_decimal(s, sizeof(s), neg, mag, scale);
		rc = sfr_fx_parse_str(s, scale, &v);
		if (!CHECK(rc == 0 && v == m, "\"%s\" scale %u: rc %d got %lld",
			   s, scale, rc, v))
			continue;
		sfr_fx_format(f, sizeof(f), m, scale);
		CHECK(!strcmp(f, s), "format(%lld, %u) \"%s\", want \"%s\"",
		      m, scale, f, s);

		/* Same number, other spellings. */
		strcpy(t, s);
		L = strlen(t);
		if (scale) {
			while (t[L - 1] == '0')
				t[--L] = '\0';		/* "1.50" -> "1.5", "2.00" -> "2." */
			if (rnd() & 1 && t[L - 1] == '.')
				t[--L] = '\0';		/* -> "2" */
		}
		if (!strncmp(t + neg, "0.", 2) && t[neg + 2] && (rnd() & 1))
			memmove(t + neg, t + neg + 1, L - neg);	/* ".5" */
		if (!neg && (rnd() & 1)) {
			memmove(t + 1, t, strlen(t) + 1);
			t[0] = '+';
		}
		snprintf(f, sizeof(f), "%s%s%s", rnd() & 1 ? " \t" : "", t,
			 rnd() & 1 ? "\r \t" : "");
		rc = sfr_fx_parse_str(f, scale, &v);
		CHECK(rc == 0 && v == m, "\"%s\" scale %u: rc %d got %lld"
		      ", want %lld", f, scale, rc, v, m);

		/* At another scale: exact, rounded or out of range. */
		s2 = (unsigned int)rnd_below(19);
		rc = sfr_fx_parse_str(s, s2, &v);
		{
			i128 want;
			int wrc = 0;

			if (s2 >= scale) {
				want = (i128)m * (i128)ref_pow10(s2 - scale);
				if (want > INT64_MAX || want < INT64_MIN)
					wrc = -ERANGE;
			} else {
				i128 d = (i128)ref_pow10(scale - s2);
				i128 q = (i128)mag / d, r = (i128)mag % d;

				q += 2 * r >= d;
				want = neg ? -q : q;
			}
			CHECK(rc == wrc && (wrc || v == (__s64)want),
			      "\"%s\" at scale %u: rc %d got %lld", s, s2,
			      rc, v);
		}
		/* format -> parse of any value */
		m = (__s64)rnd();
		sfr_fx_format(f, sizeof(f), m, scale);
		rc = sfr_fx_parse_str(f, scale, &v);
		CHECK(rc == 0 && v == m, "format/parse %lld scale %u: \"%s\"",
		      m, scale, f);
		rc = ref_parse_str(f, scale, &rv);
		CHECK(rc == 0 && rv == m, "reference parse of \"%s\"", f);
	}
	tap_result("round trip: snprintf-built decimals (<= 18 digits, scales 0..18) parse exactly and format back");
}

/* Random strings: the header against the reference, rc and value. */
static void test_reference_random(void)
{
	static const char alpha[] = "0123456789012345678901234567890123456789"
				    "..--+ \t\rex,";
	unsigned int iters = quick ? 20000 : 1000000, it, agree = 0;

	rng_state = 2;
	for (it = 0; it < iters; it++) {
		char s[64];
		unsigned int n = 0, scale = (unsigned int)rnd_below(19);
		__s64 v = 0, rv = 0;
		int rc, rrc;

		if (it & 1) {
			/* Free-form strings over a number-ish alphabet. */
			unsigned int len = (unsigned int)rnd_below(24), i;

			for (i = 0; i < len; i++)
				s[n++] = alpha[rnd_below(sizeof(alpha) - 1)];
		} else {
			/* Well-formed numbers of every size, some near the
			 * limits, some with too many fraction digits. */
			unsigned int ni = (unsigned int)rnd_below(21);
			unsigned int nf = (unsigned int)rnd_below(22), i;

			if (rnd() & 1)
				s[n++] = ' ';
			if (rnd() & 1)
				s[n++] = rnd() & 1 ? '-' : '+';
			if (ni >= 19 && (rnd() & 1)) {
				memcpy(s + n, "922337203685477580", 18);
				n += 18;
				ni -= 18;
			}
			for (i = 0; i < ni; i++)
				s[n++] = (char)('0' + rnd_below(10));
			if (nf || (rnd() & 1))
				s[n++] = '.';
			for (i = 0; i < nf && n < 36; i++)
				s[n++] = (char)('0' + (rnd() % 4 ? rnd_below(10) :
							       (rnd() & 1 ? 5 : 9)));
			if (rnd() & 1)
				s[n++] = '\t';
		}
		s[n] = '\0';
		rrc = ref_parse(s, n, scale, &rv);
		if (rrc == -E2BIG)
			continue;
		rc = sfr_fx_parse_buf(s, n, scale, &v);
		if (CHECK(rc == rrc && (rc || v == rv),
			  "\"%s\" scale %u: rc %d value %lld"
			  ", reference rc %d value %lld",
			  s, scale, rc, v, rrc, rv))
			agree++;
	}
	printf("# %u random strings agree with the reference parser\n", agree);
	tap_result("reference: random strings parse as the independent rational-arithmetic parser says");
}

static void test_format(void)
{
	static const char min_digits[] = "9223372036854775808";
	static const char max_digits[] = "9223372036854775807";
	unsigned int scale;
	char buf[64], want[64];
	int n;

	for (scale = 0; scale <= SFR_FX_SCALE_MAX; scale++) {
		size_t L = strlen(min_digits);

		snprintf(want, sizeof(want), "-%.*s%s%s", (int)(L - scale),
			 min_digits, scale ? "." : "", min_digits + L - scale);
		n = sfr_fx_format(buf, sizeof(buf), INT64_MIN, scale);
		CHECK(n == (int)strlen(want) && !strcmp(buf, want),
		      "INT64_MIN scale %u: \"%s\", want \"%s\"", scale, buf,
		      want);
		snprintf(want, sizeof(want), "%.*s%s%s", (int)(L - scale),
			 max_digits, scale ? "." : "", max_digits + L - scale);
		sfr_fx_format(buf, sizeof(buf), INT64_MAX, scale);
		CHECK(!strcmp(buf, want), "INT64_MAX scale %u: \"%s\"", scale,
		      buf);
	}
	{
		static const struct {
			__s64 v;
			unsigned int scale;
			const char *s;
		} c[] = {
			{ 0, 0, "0" },
			{ 0, 3, "0.000" },
			{ -5, 2, "-0.05" },
			{ 5, 2, "0.05" },
			{ -1, 18, "-0.000000000000000001" },
			{ 123, 0, "123" },
			{ -123, 1, "-12.3" },
			{ 12300, 3, "12.300" },
			{ -100, 2, "-1.00" },
		};
		size_t i;

		for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
			sfr_fx_format(buf, sizeof(buf), c[i].v, c[i].scale);
			CHECK(!strcmp(buf, c[i].s), "format(%lld, %u) \"%s\", want \"%s\"",
			      c[i].v, c[i].scale, buf, c[i].s);
		}
	}
	/* 128-bit values. */
	{
		i128 big = (i128)INT64_MAX * 1000000000;
		i128 min128 = (i128)(((u128)1) << 127);

		sfr_fx_format128(buf, sizeof(buf), sfr_fx_s128_set(big), 9);
		CHECK(!strcmp(buf, "9223372036854775807.000000000"),
		      "10^9 * INT64_MAX / 10^9: \"%s\"", buf);
		sfr_fx_format128(buf, sizeof(buf), sfr_fx_s128_set(-big), 0);
		CHECK(!strcmp(buf, "-9223372036854775807000000000"),
		      "-10^9 * INT64_MAX: \"%s\"", buf);
		n = sfr_fx_format128(buf, sizeof(buf), sfr_fx_s128_set(min128),
				     38);
		CHECK(n == 41 && !strcmp(buf, "-1.70141183460469231731687303715884105728"),
		      "INT128_MIN scale 38: \"%s\"", buf);
		sfr_fx_format128(buf, sizeof(buf), sfr_fx_s128_set(min128), 0);
		CHECK(!strcmp(buf, "-170141183460469231731687303715884105728"),
		      "INT128_MIN: \"%s\"", buf);
		sfr_fx_format128(buf, sizeof(buf), sfr_fx_s128_set(-min128 - 1),
				 5);
		CHECK(!strcmp(buf, "1701411834604692317316873037158841.05727"),
		      "INT128_MAX scale 5: \"%s\"", buf);
		CHECK(sfr_fx_format128(buf, sizeof(buf), sfr_fx_s128_set(1), 39) ==
			      -EINVAL, "scale 39 accepted");
	}
	/* snprintf-like truncation. */
	memset(buf, 'x', sizeof(buf));
	n = sfr_fx_format(buf, 4, -12345, 3);
	CHECK(n == 7 && !strcmp(buf, "-12") && buf[4] == 'x',
	      "truncated: %d \"%s\"", n, buf);
	n = sfr_fx_format(NULL, 0, -12345, 3);
	CHECK(n == 7, "size 0: %d", n);
	n = sfr_fx_format(buf, 1, 5, 0);
	CHECK(n == 1 && buf[0] == '\0', "size 1: %d", n);
	tap_result("format: exact, INT64_MIN/MAX at every scale, 128-bit extremes, -0.05, no negative zero, truncation");
}

struct lcase {
	const char *in;
	struct sfr_fx_cfg cfg;
	const char *sum;	/* formatted sum at cfg.scale */
	uint64_t count, invalid, lines, first_invalid;
	int first_err;
	__s64 min, max;
};

static void run_lcases(const struct lcase *c, size_t n, const char *tag)
{
	size_t i;

	for (i = 0; i < n; i++) {
		struct sfr_fx_state st;
		struct ref_state r;
		char sum[64], what[160];

		snprintf(what, sizeof(what), "%s case %zu", tag, i);
		reduce_buf(&st, c[i].in, strlen(c[i].in), &c[i].cfg);
		sfr_fx_format128(sum, sizeof(sum), st.sum, c[i].cfg.scale);
		CHECK(!strcmp(sum, c[i].sum), "%s: sum %s, want %s", what, sum,
		      c[i].sum);
		CHECK(st.count == c[i].count && st.invalid == c[i].invalid &&
			      st.lines == c[i].lines &&
			      st.first_invalid == c[i].first_invalid &&
			      (int)st.first_err == c[i].first_err,
		      "%s: count %llu invalid %llu lines %llu first %llu/%u",
		      what, (unsigned long long)st.count,
		      (unsigned long long)st.invalid,
		      (unsigned long long)st.lines,
		      (unsigned long long)st.first_invalid, st.first_err);
		if (c[i].count)
			CHECK(st.min == c[i].min && st.max == c[i].max,
			      "%s: min %lld max %lld", what, st.min,
			      st.max);
		ref_reduce(&r, c[i].in, strlen(c[i].in), &c[i].cfg);
		same_as_ref(&st, &r, what);
	}
}

#define NOCFG(s) { .scale = (s) }

static void test_lines(void)
{
	static const struct lcase c[] = {
		{ "1\r\n2\r\n", NOCFG(0), "3", 2, 0, 2, 0, 0, 1, 2 },
		{ "1\n2", NOCFG(0), "3", 2, 0, 2, 0, 0, 1, 2 },
		{ "1\n2\n", NOCFG(0), "3", 2, 0, 2, 0, 0, 1, 2 },
		{ "1.5\r\n-2.25", NOCFG(2), "-0.75", 2, 0, 2, 0, 0, -225, 150 },
		{ "\n\n1\n\n", NOCFG(0), "1", 1, 0, 4, 0, 0, 1, 1 },
		{ "  \t\n \r\n\r\n", NOCFG(0), "0", 0, 0, 3, 0, 0, 0, 0 },
		{ "", NOCFG(0), "0", 0, 0, 0, 0, 0, 0, 0 },
		{ "   ", NOCFG(0), "0", 0, 0, 1, 0, 0, 0, 0 },
		{ "5", NOCFG(0), "5", 1, 0, 1, 0, 0, 5, 5 },
		{ "-", NOCFG(0), "0", 0, 1, 1, 1, SFR_FX_INVALID, 0, 0 },
		{ "1\nx\n2\ny\n", NOCFG(0), "3", 2, 2, 4, 2, SFR_FX_INVALID, 1, 2 },
		{ "1\n\n99999999999999999999\nabc\n", NOCFG(0), "1", 1, 2, 4, 3,
		  SFR_FX_RANGE, 1, 1 },
		{ "1\r2\n", NOCFG(0), "0", 0, 1, 1, 1, SFR_FX_INVALID, 0, 0 },
		{ "3\n-7\n5\n", NOCFG(0), "1", 3, 0, 3, 0, 0, -7, 5 },
		{ "1.005\n-1.005\n", NOCFG(2), "0.00", 2, 0, 2, 0, 0, -101, 101 },
		{ "1e3\n2\n", NOCFG(0), "2", 1, 1, 2, 1, SFR_FX_INVALID, 2, 2 },
		{ "9223372036854775807\n9223372036854775807\n", NOCFG(0),
		  "18446744073709551614", 2, 0, 2, 0, 0, INT64_MAX, INT64_MAX },
		{ "-9223372036854775808\n-9223372036854775808\n-1\n", NOCFG(0),
		  "-18446744073709551617", 3, 0, 3, 0, 0, INT64_MIN, -1 },
		{ "x\n", NOCFG(0), "0", 0, 1, 1, 1, SFR_FX_INVALID, 0, 0 },
		{ "1\n2\n3\n.\n", NOCFG(0), "6", 3, 1, 4, 4, SFR_FX_INVALID, 1, 3 },
	};

	run_lcases(c, sizeof(c) / sizeof(c[0]), "lines");
	tap_result("lines: CRLF, no trailing newline, empty and blank lines skipped, first invalid line and kind");
}

#define CSV(d, f, s) { .delim = (d), .field = (f), .scale = (s) }

static void test_csv(void)
{
	static const struct lcase c[] = {
		{ "a,b,-1.5\n", CSV(',', 2, 1), "-1.5", 1, 0, 1, 0, 0, -15, -15 },
		{ "a,b\n", CSV(',', 2, 1), "0.0", 0, 1, 1, 1, SFR_FX_INVALID, 0, 0 },
		{ "a,b,\n", CSV(',', 2, 1), "0.0", 0, 1, 1, 1, SFR_FX_INVALID, 0, 0 },
		{ "a,b,  \n", CSV(',', 2, 1), "0.0", 0, 1, 1, 1, SFR_FX_INVALID, 0, 0 },
		{ "a,b, 3 ,x\n", CSV(',', 2, 0), "3", 1, 0, 1, 0, 0, 3, 3 },
		{ "a,b,3.5,\n", CSV(',', 2, 1), "3.5", 1, 0, 1, 0, 0, 35, 35 },
		{ ",,7\n", CSV(',', 2, 0), "7", 1, 0, 1, 0, 0, 7, 7 },
		{ "1,2,3,4\n5,6,7,8", CSV(',', 2, 0), "10", 2, 0, 2, 0, 0, 3, 7 },
		{ ",,\n", CSV(',', 2, 0), "0", 0, 1, 1, 1, SFR_FX_INVALID, 0, 0 },
		{ "   \n", CSV(',', 2, 0), "0", 0, 0, 1, 0, 0, 0, 0 },
		{ "a,b,1e3\n", CSV(',', 2, 0), "0", 0, 1, 1, 1, SFR_FX_INVALID, 0, 0 },
		{ "x,\"q\",4\r\n", CSV(',', 2, 0), "4", 1, 0, 1, 0, 0, 4, 4 },
		{ "x,y,\"4\"\r\n", CSV(',', 2, 0), "0", 0, 1, 1, 1, SFR_FX_INVALID, 0, 0 },
		{ "-2,abc\n -2 ,abc\nabc,1\n", CSV(',', 0, 0), "-4", 2, 1, 3, 3,
		  SFR_FX_INVALID, -2, -2 },
		{ "a\t5\na\t 5\na\t\t5\n", CSV('\t', 1, 0), "10", 2, 1, 3, 3,
		  SFR_FX_INVALID, 5, 5 },
		{ "\t\n", CSV('\t', 1, 0), "0", 0, 1, 1, 1, SFR_FX_INVALID, 0, 0 },
		{ "x 5\nx  5\n", CSV(' ', 1, 0), "5", 1, 1, 2, 2, SFR_FX_INVALID, 5, 5 },
		{ "1,2\n", CSV('\n', 0, 0), "0", 0, 1, 1, 1, SFR_FX_INVALID, 0, 0 },
		{ "7;x;y\n8;;\n", CSV(';', 0, 0), "15", 2, 0, 2, 0, 0, 7, 8 },
		{ "h1,h2,h3\n1,2,3.25\n4,5,6.75\n", CSV(',', 2, 2), "10.00", 2, 1, 3, 1,
		  SFR_FX_INVALID, 325, 675 },
		{ "a,b,99999999999999999999\n", CSV(',', 2, 0), "0", 0, 1, 1, 1,
		  SFR_FX_RANGE, 0, 0 },
	};

	run_lcases(c, sizeof(c) / sizeof(c[0]), "csv");
	tap_result("fields: -d , -f 3 style selection, missing/empty fields invalid, tab and space delimiters");
}

/* A random multi-line input: numbers, junk, blanks, CRLF, fields. */
static size_t gen_input(char *buf, size_t cap, unsigned int nlines,
			const struct sfr_fx_cfg *cfg)
{
	static const char *const junk[] = {
		"abc", "1.2.3", "--1", "1e3", "-", ".", "+", "x1", "1x",
		"99999999999999999999", "-9223372036854775809", "", "  ",
		"\t", "0x1f", "- 3",
	};
	size_t n = 0;
	unsigned int l;

	for (l = 0; l < nlines && n + 200 < cap; l++) {
		unsigned int f, nf;
		unsigned int kind = (unsigned int)rnd_below(16);

		if (kind == 0) {		/* empty or blank line */
			n += (size_t)snprintf(buf + n, cap - n, "%s",
					      rnd() & 1 ? "" : " \t ");
			goto eol;
		}
		if (cfg->delim && cfg->delim != '\n')
			nf = cfg->field + (unsigned int)rnd_below(3) +
			     (rnd_below(20) ? 1 : 0);
		else
			nf = 1;
		for (f = 0; f < nf; f++) {
			if (f)
				buf[n++] = (char)cfg->delim;
			if (kind == 1 || (f != cfg->field && (rnd() & 1))) {
				n += (size_t)snprintf(buf + n, cap - n, "%s",
						      junk[rnd_below(16)]);
			} else {
				char num[64];
				unsigned int ds = (unsigned int)rnd_below(20);
				uint64_t mag = rnd() % (uint64_t)ref_pow10(
						   1 + (unsigned int)rnd_below(18));

				mk_decimal(num, sizeof(num), (int)(rnd() & 1),
					   mag, ds);
				n += (size_t)snprintf(buf + n, cap - n,
						      "%s%s%s",
						      rnd_below(4) ? "" : " ",
						      num,
						      rnd_below(4) ? "" : "\t");
			}
		}
eol:
		if (rnd_below(5) == 0)
			buf[n++] = '\r';
		buf[n++] = '\n';
	}
	if (n && (rnd() & 1))
		n--;			/* no trailing newline */
	buf[n] = '\0';
	return n;
}

static void random_cfg(struct sfr_fx_cfg *cfg)
{
	static const char delims[] = { 0, ',', ';', '\t', ' ', '|' };

	memset(cfg, 0, sizeof(*cfg));
	cfg->delim = (__u8)delims[rnd_below(sizeof(delims))];
	cfg->field = cfg->delim ? (unsigned int)rnd_below(4) : 0;
	cfg->scale = (__u8)rnd_below(SFR_FX_SCALE_MAX + 1);
}

static void test_reduce_random(void)
{
	unsigned int iters = quick ? 50 : 2000, it;
	static char buf[1 << 16];

	rng_state = 3;
	for (it = 0; it < iters; it++) {
		struct sfr_fx_cfg cfg;
		struct sfr_fx_state st;
		struct ref_state r;
		char what[64];
		size_t n;

		random_cfg(&cfg);
		n = gen_input(buf, sizeof(buf), 1 + (unsigned int)rnd_below(300),
			      &cfg);
		reduce_buf(&st, buf, n, &cfg);
		ref_reduce(&r, buf, n, &cfg);
		snprintf(what, sizeof(what), "input %u (delim %d field %u scale %u)",
			 it, cfg.delim, cfg.field, cfg.scale);
		same_as_ref(&st, &r, what);
	}
	tap_result("reduce: random inputs (fields, junk, CRLF, blanks) equal a line-by-line reference reduce");
}

static void test_chunks(void)
{
	static const char fixed[] =
		"-12.345\n+7\r\n\n  .5 \n5.\n-0.000001\nabc\n1e3\n"
		"9223372036854775807\n-9223372036854775808.4\n   \n"
		"99999999999999999999\n0.125\n-2.5\n1.2.3\n--1\n3.14159265358979323846\n"
		"-.\n42";
	static char buf[1 << 14];
	unsigned int it, iters = quick ? 20 : 400;
	struct sfr_fx_cfg cfg = { .scale = 3 };
	struct sfr_fx_state one, st;
	struct ref_state r;
	size_t n = sizeof(fixed) - 1, k, j;
	int bad = 0;

	/* Every split point of the fixed buffer, and every pair of them. */
	reduce_buf(&one, fixed, n, &cfg);
	ref_reduce(&r, fixed, n, &cfg);
	same_as_ref(&one, &r, "fixed buffer");
	for (k = 0; k <= n; k++) {
		for (j = k; j <= n; j++) {
			memset(&st, 0, sizeof(st));
			sfr_fx_feed_buf(&st, &cfg, fixed, k);
			sfr_fx_feed_buf(&st, &cfg, fixed + k, j - k);
			sfr_fx_feed_buf(&st, &cfg, fixed + j, n - j);
			sfr_fx_finish(&st, &cfg);
			if (!CHECK(!memcmp(&st, &one, sizeof(st)),
				   "chunks [0,%zu) [%zu,%zu) [%zu,%zu) differ",
				   k, k, j, j, n))
				bad = 1;
		}
		if (bad)
			break;
	}
	/* Random inputs in random chunkings, including 1-byte chunks. */
	rng_state = 4;
	for (it = 0; it < iters; it++) {
		struct sfr_fx_cfg c;
		size_t len, off = 0;
		unsigned int mode = it % 3;

		random_cfg(&c);
		len = gen_input(buf, sizeof(buf), 1 + (unsigned int)rnd_below(100), &c);
		reduce_buf(&one, buf, len, &c);
		memset(&st, 0, sizeof(st));
		while (off < len) {
			size_t ch = mode == 0 ? 1 : 1 + rnd_below(mode == 1 ? 8 : 3000);

			if (ch > len - off)
				ch = len - off;
			sfr_fx_feed_buf(&st, &c, buf + off, ch);
			off += ch;
		}
		sfr_fx_finish(&st, &c);
		CHECK(!memcmp(&st, &one, sizeof(st)), "random chunking %u differs", it);
	}
	tap_result("streaming: every split point (and pair) and random chunkings give the one-shot state");
}

/* -------------------------------------------------------------------- */

static void test_sum_1e9(void)
{
	uint64_t n = quick ? 1000000ULL : 1000000000ULL, i, s1023;
	struct sfr_fx_s128 acc = { 0 }, acc2 = { 0 }, acc3 = { 0 };
	struct timespec t0, t1;
	i128 want;
	char a[48], b[48];

	/* sum (i & 1023) for i < n, in closed form */
	s1023 = (n / 1024) * (1023 * 1024 / 2) + (n % 1024) * (n % 1024 - 1) / 2;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < n; i++)
		sfr_fx_s128_add_s64(&acc, INT64_MAX - (__s64)(i & 1023));
	for (i = 0; i < n; i++)
		sfr_fx_s128_add_s64(&acc2, INT64_MIN + (__s64)(i & 1023));
	for (i = 0; i < n; i++)		/* 10^9 values of 10^9 */
		sfr_fx_s128_add_s64(&acc3, 1000000000LL);
	clock_gettime(CLOCK_MONOTONIC, &t1);

	want = (i128)n * INT64_MAX - (i128)s1023;
	CHECK(sfr_fx_s128_get(acc) == want, "n * ~INT64_MAX: %s, want %s",
	      i128_str(sfr_fx_s128_get(acc), a), i128_str(want, b));
	want = (i128)n * INT64_MIN + (i128)s1023;
	CHECK(sfr_fx_s128_get(acc2) == want, "n * ~INT64_MIN: %s, want %s",
	      i128_str(sfr_fx_s128_get(acc2), a), i128_str(want, b));
	want = (i128)n * 1000000000;
	CHECK(sfr_fx_s128_get(acc3) == want, "n * 10^9: %s, want %s",
	      i128_str(sfr_fx_s128_get(acc3), a), i128_str(want, b));
	sfr_fx_s128_add(&acc, &acc2);		/* back across zero */
	want = -(i128)n;
	CHECK(sfr_fx_s128_get(acc) == want, "sum of both: %s, want %s",
	      i128_str(sfr_fx_s128_get(acc), a), i128_str(want, b));
	printf("# %llu x 3 additions in %.2f s\n", (unsigned long long)n,
	       (double)(t1.tv_sec - t0.tv_sec) +
		       (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	{
		char title[160];

		snprintf(title, sizeof(title),
			 "sum128: %llu values near INT64_MAX, near INT64_MIN and of 10^9, exact (closed form)",
			 (unsigned long long)n);
		tap_result(title);
	}
}

static void test_s128_cross(void)
{
	static const __s64 seq[] = {
		INT64_MAX, INT64_MAX, 2, INT64_MAX, 1, INT64_MIN, INT64_MIN,
		INT64_MIN, INT64_MIN, -1, -1, INT64_MIN, INT64_MIN, INT64_MAX,
		INT64_MAX, INT64_MAX, INT64_MAX, 1, 1, 1, -3, INT64_MIN, 5, 0,
	};
	struct sfr_fx_s128 acc = { 0 }, x, y;
	i128 ref = 0;
	unsigned int i, iters = quick ? 100000 : 3000000;
	char a[48], b[48];

	for (i = 0; i < sizeof(seq) / sizeof(seq[0]); i++) {
		sfr_fx_s128_add_s64(&acc, seq[i]);
		ref += seq[i];
		CHECK(sfr_fx_s128_get(acc) == ref, "step %u: %s, want %s", i,
		      i128_str(sfr_fx_s128_get(acc), a), i128_str(ref, b));
	}
	CHECK(ref == -1 && acc.hi == -1 && acc.lo == UINT64_MAX,
	      "sequence should end at -1");
	/* Random walk: s64 adds, s128 adds, compare, from_s64. */
	rng_state = 5;
	acc.lo = 0;
	acc.hi = 0;
	ref = 0;
	for (i = 0; i < iters; i++) {
		__s64 v = (__s64)(rnd() >> rnd_below(64));

		if (rnd() & 1)
			v = -v;
		if (rnd_below(100) == 0) {
			x = sfr_fx_s128_set((i128)(__s64)rnd() << 40);
			y = acc;
			sfr_fx_s128_add(&acc, &x);
			ref += sfr_fx_s128_get(x);
			CHECK(sfr_fx_s128_cmp(&acc, &y) ==
				      (sfr_fx_s128_get(x) > 0) - (sfr_fx_s128_get(x) < 0),
			      "cmp after add at %u", i);
		} else {
			sfr_fx_s128_add_s64(&acc, v);
			ref += v;
		}
		if (!CHECK(sfr_fx_s128_get(acc) == ref, "walk %u: %s, want %s", i,
			   i128_str(sfr_fx_s128_get(acc), a), i128_str(ref, b)))
			break;
		x = sfr_fx_s128_from_s64(v);
		if (!CHECK(sfr_fx_s128_get(x) == v, "from_s64(%lld)", v))
			break;
	}
	tap_result("sum128: crossing 2^63, 2^64 and back below zero, random walk against __int128");
}

static void test_combine(void)
{
	static char buf[1 << 16];
	unsigned int it, iters = quick ? 40 : 1500;

	rng_state = 6;
	for (it = 0; it < iters; it++) {
		struct sfr_fx_cfg cfg;
		struct sfr_fx_state one, w[8], acc, t, l, rr;
		size_t n, cut[9], starts[64], ns = 0, i;
		unsigned int k = 1 + (unsigned int)rnd_below(8), j;

		random_cfg(&cfg);
		n = gen_input(buf, sizeof(buf), (unsigned int)rnd_below(120), &cfg);
		reduce_buf(&one, buf, n, &cfg);
		/* candidate cut points: 0, after each LF (sampled), n */
		starts[ns++] = 0;
		for (i = 0; i < n && ns < 63; i++)
			if (buf[i] == '\n' && (rnd() % 3 == 0))
				starts[ns++] = i + 1;
		starts[ns++] = n;
		cut[0] = 0;
		for (j = 1; j < k; j++)
			cut[j] = starts[rnd_below(ns)];
		cut[k] = n;
		/* sort the cuts (windows may be empty) */
		for (j = 1; j < k; j++) {
			unsigned int m;

			for (m = j + 1; m < k; m++)
				if (cut[m] < cut[j]) {
					size_t x = cut[m];

					cut[m] = cut[j];
					cut[j] = x;
				}
		}
		for (j = 0; j < k; j++)
			reduce_buf(&w[j], buf + cut[j], cut[j + 1] - cut[j], &cfg);
		/* left fold */
		l = w[0];
		for (j = 1; j < k; j++)
			sfr_fx_combine(&l, &w[j]);
		/* right fold */
		rr = w[k - 1];
		for (j = k - 1; j-- > 0;) {
			t = w[j];
			sfr_fx_combine(&t, &rr);
			rr = t;
		}
		CHECK(!memcmp(&l, &one, sizeof(l)), "input %u, %u windows: left fold != one pass", it, k);
		CHECK(!memcmp(&rr, &one, sizeof(rr)), "input %u, %u windows: right fold != one pass", it, k);
		/* (a.b).c == a.(b.c) on three windows, identity */
		if (k >= 3) {
			struct sfr_fx_state ab = w[0], bc = w[1], abc1, abc2;

			sfr_fx_combine(&ab, &w[1]);
			abc1 = ab;
			sfr_fx_combine(&abc1, &w[2]);
			sfr_fx_combine(&bc, &w[2]);
			abc2 = w[0];
			sfr_fx_combine(&abc2, &bc);
			CHECK(!memcmp(&abc1, &abc2, sizeof(abc1)),
			      "input %u: (a.b).c != a.(b.c)", it);
		}
		memset(&acc, 0, sizeof(acc));
		sfr_fx_combine(&acc, &one);
		t = one;
		memset(&l, 0, sizeof(l));
		sfr_fx_combine(&t, &l);
		CHECK(!memcmp(&acc, &one, sizeof(acc)) && !memcmp(&t, &one, sizeof(t)),
		      "input %u: zero state is not the identity", it);
	}
	tap_result("combine: associative over random record-aligned windows, folds equal one pass, zero is identity");
}

static void test_div(void)
{
	static const struct {
		i128 sum;
		uint64_t count;
		unsigned int in, out;
		int rc;
		const char *s;
	} c[] = {
		{ 5, 2, 0, 0, 0, "3" },
		{ -5, 2, 0, 0, 0, "-3" },
		{ 1, 2, 0, 0, 0, "1" },
		{ -1, 2, 0, 0, 0, "-1" },
		{ 3, 2, 0, 0, 0, "2" },
		{ -3, 2, 0, 0, 0, "-2" },
		{ -1, 3, 0, 0, 0, "0" },
		{ -1, 3, 0, 2, 0, "-0.33" },
		{ -2, 3, 0, 2, 0, "-0.67" },
		{ 2, 3, 0, 2, 0, "0.67" },
		{ 1, 8, 0, 2, 0, "0.13" },
		{ -1, 8, 0, 2, 0, "-0.13" },
		{ 12345, 1, 3, 2, 0, "12.35" },
		{ -12345, 1, 3, 2, 0, "-12.35" },
		{ 12344, 1, 3, 2, 0, "12.34" },
		{ 12345, 1, 3, 5, 0, "12.34500" },
		{ -4, 1000, 0, 2, 0, "0.00" },
		{ -5, 1000, 0, 2, 0, "-0.01" },
		{ -249, 100, 2, 1, 0, "0.0" },	/* -0.0249: no "-0.0" */
		{ -250, 100, 2, 2, 0, "-0.03" },	/* -0.025 */
		{ 0, 7, 5, 3, 0, "0.000" },
		{ 10, 4, 0, 0, 0, "3" },		/* 2.5 */
		{ -10, 4, 0, 0, 0, "-3" },
		{ 1, 0, 0, 0, -EINVAL, NULL },
		{ 1, 1, 19, 0, -EINVAL, NULL },
		{ 1, 1, 0, 19, -EINVAL, NULL },
		{ (i128)INT64_MAX * 1000000000, 1000000000, 0, 0, 0,
		  "9223372036854775807" },
		{ (i128)INT64_MAX * 1000000000, 1000000000, 18, 18, 0,
		  "9.223372036854775807" },
		{ (i128)INT64_MIN * 1000000000 - 500000000, 1000000000, 0, 0, 0,
		  "-9223372036854775809" },
		{ (i128)(((u128)1) << 127), 1, 0, 0, 0,
		  "-170141183460469231731687303715884105728" },
		{ (i128)(((u128)1) << 127), 1, 0, 1, -ERANGE, NULL },
		{ (i128)(((u128)1 << 127) - 1), 2, 0, 0, 0,
		  "85070591730234615865843651857942052864" },
		{ (i128)(((u128)1 << 127) - 1), 1, 0, 1, -ERANGE, NULL },
		{ (i128)1 << 126, UINT64_MAX, 18, 18, 0,
		  "4.611686018427387904" },
	};
	size_t i;
	unsigned int it, iters = quick ? 20000 : 1000000;

	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		struct sfr_fx_s128 q = { 0x1234, 0x5678 };
		char buf[64];
		int rc = sfr_fx_div(sfr_fx_s128_set(c[i].sum), c[i].count,
				    c[i].in, c[i].out, &q);

		if (!CHECK(rc == c[i].rc, "case %zu: rc %d, want %d", i, rc, c[i].rc))
			continue;
		if (rc) {
			CHECK(q.lo == 0x1234 && q.hi == 0x5678, "case %zu: q touched", i);
			continue;
		}
		sfr_fx_format128(buf, sizeof(buf), q, c[i].out);
		CHECK(!strcmp(buf, c[i].s), "case %zu: \"%s\", want \"%s\"", i,
		      buf, c[i].s);
	}
	/* Random means against exact rationals in __int128. */
	rng_state = 7;
	for (it = 0; it < iters; it++) {
		i128 sum = (i128)((__s64)rnd() >> rnd_below(63)) *
			   (i128)(rnd_below(4) ? 1 : (__s64)rnd_below(16));
		uint64_t count = 1 + rnd_below(it & 1 ? 16 : ((uint64_t)1 << 40));
		unsigned int in = (unsigned int)rnd_below(19);
		unsigned int out = (unsigned int)rnd_below(19);
		u128 num, den, q, r;
		struct sfr_fx_s128 got = { 0 };
		i128 want;
		char a[48], b[48];
		int rc;

		if (sum < 0 && (rnd() & 1))
			sum = -sum;
		num = (u128)(sum < 0 ? -sum : sum) * ref_pow10(out);
		den = (u128)count * ref_pow10(in);
		q = num / den;
		r = num % den;
		if (r * 2 >= den)
			q++;
		want = sum < 0 ? -(i128)q : (i128)q;
		rc = sfr_fx_div(sfr_fx_s128_set(sum), count, in, out, &got);
		if (!CHECK(rc == 0 && sfr_fx_s128_get(got) == want,
			   "%s / %llu (in %u, out %u): rc %d got %s, want %s",
			   i128_str(sum, a), (unsigned long long)count, in, out, rc,
			   i128_str(sfr_fx_s128_get(got), b), i128_str(want, b)))
			break;
	}
	tap_result("mean: exact 128-bit division, ties half away from zero (also negative), no -0, range and arguments");
}

/* -------------------------------------------------------------------- */
/* BPF: the same parser as an XDP program, through BPF_PROG_TEST_RUN. */

#define PKT_MIN 64	/* test_run wants at least an Ethernet header */
#define PKT_MAX 3072	/* below XDP's one-page linear limit */

static int libbpf_quiet(enum libbpf_print_level level, const char *fmt,
			va_list ap)
{
	if (level == LIBBPF_WARN && getenv("FIXED_TEST_VERBOSE"))
		return vfprintf(stderr, fmt, ap);
	return 0;
}

/* Why BPF cannot run here, or NULL if it can (then a failure is real). */
static const char *bpf_unavailable(char *why, size_t n)
{
	struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = XDP_PASS },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	struct btf *vmlinux;
	int fd;

	fd = bpf_prog_load(BPF_PROG_TYPE_XDP, "probe", "GPL", insns, 2, NULL);
	if (fd < 0) {
		snprintf(why, n, "cannot load an XDP program (%s; root?)",
			 strerror(errno));
		return why;
	}
	close(fd);
	vmlinux = btf__load_vmlinux_btf();
	if (!vmlinux) {
		snprintf(why, n, "no kernel BTF (%s)", strerror(errno));
		return why;
	}
	if (btf__find_by_name_kind(vmlinux, "bpf_iter_num_new", BTF_KIND_FUNC) < 0) {
		btf__free(vmlinux);
		snprintf(why, n, "kernel has no open-coded iterators (< 6.4)");
		return why;
	}
	btf__free(vmlinux);
	return NULL;
}

static int xdp_run(struct fixed_xdp *skel, struct bpf_program *prog,
		   const void *data, size_t len, int fini, unsigned int repeat,
		   __u32 *duration)
{
	static unsigned char pkt[PKT_MAX], pkt_out[PKT_MAX + 512];
	size_t plen = len < PKT_MIN ? PKT_MIN : len;
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = pkt,
		    .data_size_in = (__u32)plen, .data_out = pkt_out,
		    .data_size_out = sizeof(pkt_out), .repeat = repeat);
	int err;

	memset(pkt, 0, plen);
	memcpy(pkt, data, len);
	skel->bss->in_len = (__u32)len;
	skel->bss->fini = (__u32)fini;
	err = bpf_prog_test_run_opts(bpf_program__fd(prog), &o);
	if (err)
		return -errno;
	if (o.retval != XDP_PASS)
		return -EPROTO;
	if (duration)
		*duration = o.duration;
	return 0;
}

/* Run @buf through @prog in chunks (sizes from @mode) and finish. */
static int xdp_reduce(struct fixed_xdp *skel, struct bpf_program *prog,
		      const struct sfr_fx_cfg *cfg, const char *buf,
		      size_t len, unsigned int mode)
{
	size_t off = 0;
	int err;

	memset(&skel->bss->state, 0, sizeof(skel->bss->state));
	skel->bss->cfg = *cfg;
	while (off < len) {
		size_t ch = mode == 0 ? PKT_MAX :
			    1 + rnd_below(mode == 1 ? 16 : PKT_MAX);

		if (ch > len - off)
			ch = len - off;
		err = xdp_run(skel, prog, buf + off, ch, 0, 1, NULL);
		if (err)
			return err;
		off += ch;
	}
	return xdp_run(skel, prog, "", 0, 1, 1, NULL);
}

#define T_LOAD "bpf: the parser as XDP programs (1 and 8 bytes per iteration) loads and verifies"
#define T_SAME "bpf: XDP results equal the C results (random inputs and chunkings, chunk-crossing numbers)"
#define T_TIME "bpf: throughput measured, timed states agree"

static void test_bpf(void)
{
	static char buf[1 << 15];
	struct fixed_xdp *skel;
	struct bpf_program *progs[2];
	const char *names[2] = { "1 byte/iteration", "8 bytes/iteration" };
	char why[160];
	unsigned int it, iters = quick ? 30 : 600, p;
	int err;

	if (bpf_unavailable(why, sizeof(why))) {
		tap_skip(T_LOAD, why);
		tap_skip(T_SAME, why);
		tap_skip(T_TIME, why);
		return;
	}
	libbpf_set_print(libbpf_quiet);
	skel = fixed_xdp__open_and_load();
	if (!CHECK(skel, "fixed_xdp__open_and_load: %s (FIXED_TEST_VERBOSE=1 shows the log)",
		   strerror(errno))) {
		tap_result(T_LOAD);
		tap_skip(T_SAME, "did not load");
		tap_skip(T_TIME, "did not load");
		return;
	}
	progs[0] = skel->progs.fixed_parse;
	progs[1] = skel->progs.fixed_parse8;
	for (p = 0; p < 2; p++) {
		struct bpf_prog_info info;
		__u32 ilen = sizeof(info);

		memset(&info, 0, sizeof(info));
		if (CHECK(!bpf_obj_get_info_by_fd(bpf_program__fd(progs[p]),
						  &info, &ilen),
			  "prog info: %s", strerror(errno)))
			printf("# verifier, %s: %u instructions processed for %u instructions\n",
			       names[p], info.verified_insns,
			       info.xlated_prog_len / 8);
	}
	tap_result(T_LOAD);

	/* Same state, byte for byte, over tables and random inputs. */
	rng_state = 8;
	for (it = 0; it < iters; it++) {
		struct sfr_fx_cfg cfg;
		struct sfr_fx_state want;
		size_t n;

		random_cfg(&cfg);
		if (it == 0) {
			static const char t[] =
				"-12.345\n+7\r\n\n.5\n5.\n-0.000001\nabc\n1e3\n"
				"9223372036854775807\n99999999999999999999\n"
				"0.125\n-2.5\n-9223372036854775808\n,x\n7";

			cfg.delim = 0;
			cfg.scale = 3;
			n = sizeof(t) - 1;
			memcpy(buf, t, n + 1);
		} else {
			n = gen_input(buf, sizeof(buf),
				      1 + (unsigned int)rnd_below(it % 7 ? 60 : 600),
				      &cfg);
		}
		reduce_buf(&want, buf, n, &cfg);
		for (p = 0; p < 2; p++) {
			err = xdp_reduce(skel, progs[p], &cfg, buf, n, it % 3);
			if (!CHECK(!err, "input %u, %s: test_run: %s", it,
				   names[p], strerror(-err)))
				goto out_same;
			if (!CHECK(!memcmp(&skel->bss->state, &want, sizeof(want)),
				   "input %u, %s (delim %d field %u scale %u, %zu bytes): BPF count %llu invalid %llu lines %llu, C %llu %llu %llu",
				   it, names[p], cfg.delim, cfg.field, cfg.scale, n,
				   (unsigned long long)skel->bss->state.count,
				   (unsigned long long)skel->bss->state.invalid,
				   (unsigned long long)skel->bss->state.lines,
				   (unsigned long long)want.count,
				   (unsigned long long)want.invalid,
				   (unsigned long long)want.lines))
				goto out_same;
		}
	}
out_same:
	tap_result(T_SAME);

	/* Throughput over one packet of typical numeric lines. */
	{
		struct sfr_fx_cfg cfg = { .scale = 6 };
		struct sfr_fx_state st;
		unsigned int repeat = quick ? 20 : 20000, r;
		size_t n = 0;
		struct timespec t0, t1;
		double mbs[2], c_mbs, ns;
		__u32 dur = 0;

		rng_state = 9;
		while (n + 32 < PKT_MAX) {
			char num[48];

			mk_decimal(num, sizeof(num), (int)(rnd() & 1),
				   rnd_below(100000000), 3 + (unsigned int)rnd_below(4));
			n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s\n", num);
		}
		memset(&st, 0, sizeof(st));
		clock_gettime(CLOCK_MONOTONIC, &t0);
		for (r = 0; r < repeat; r++)
			sfr_fx_feed_buf(&st, &cfg, buf, n);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		ns = (double)(t1.tv_sec - t0.tv_sec) * 1e9 +
		     (double)(t1.tv_nsec - t0.tv_nsec);
		c_mbs = (double)n * repeat / ns * 1000.0;
		for (p = 0; p < 2; p++) {
			memset(&skel->bss->state, 0, sizeof(skel->bss->state));
			skel->bss->cfg = cfg;
			err = xdp_run(skel, progs[p], buf, n, 0, repeat, &dur);
			if (!CHECK(!err && dur, "timed test_run: %s", strerror(-err)))
				break;
			mbs[p] = (double)n / dur * 1000.0;
			CHECK(st.count == skel->bss->state.count &&
				      sfr_fx_s128_get(st.sum) ==
					      sfr_fx_s128_get(skel->bss->state.sum),
			      "%s: timed runs disagree with C", names[p]);
		}
		if (!cur_fail) {
			printf("# throughput%s, %zu-byte buffer x %u: C (gcc/clang -O2, sfr_fx_feed_buf) %.0f MB/s (%.2f ns/byte)\n",
			       quick ? " [quick run: not representative]" : "",
			       n, repeat, c_mbs, 1000.0 / c_mbs);
			for (p = 0; p < 2; p++)
				printf("# throughput: BPF XDP test_run (JIT), %s: %.0f MB/s (%.2f ns/byte), C/BPF %.1fx\n",
				       names[p], mbs[p], 1000.0 / mbs[p],
				       c_mbs / mbs[p]);
		}
		tap_result(T_TIME);
	}
	fixed_xdp__destroy(skel);
}

int main(int argc, char **argv)
{
	int opt;

	while ((opt = getopt(argc, argv, "qh")) != -1) {
		switch (opt) {
		case 'q':
			quick = 1;
			break;
		default:
			fprintf(stderr, "usage: %s [-q]\n", argv[0]);
			return opt == 'h' ? 0 : 2;
		}
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("TAP version 13\n");
	test_pow10();
	test_parse_valid();
	test_parse_invalid();
	test_rounding();
	test_overflow();
	test_roundtrip();
	test_reference_random();
	test_format();
	test_lines();
	test_csv();
	test_reduce_random();
	test_chunks();
	test_sum_1e9();
	test_s128_cross();
	test_combine();
	test_div();
	test_bpf();
	printf("1..%u\n", n_tap);
	printf("# %llu checks\n", n_checks);
	printf("# %u passed, %u failed, %u skipped\n", n_pass, n_fail, n_skip);
	return n_fail ? 1 : 0;
}
