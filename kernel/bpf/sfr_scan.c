// SPDX-License-Identifier: GPL-2.0
/*
 * sfr_scan.c - native scan primitives behind the sfr kfuncs
 *
 * Find a byte, count a byte, find a fixed string (and count the lines that
 * hold it), and fold the decimal numbers of whole lines into the
 * fixed-point reduce state of sfr_fixed.h. The interfaces are documented
 * in <linux/sfr_scan.h>. This file is also compiled, unchanged, as user
 * space code for the native tests and benchmark (tools/native/ provides
 * the few kernel headers it needs), with the kernel's code generation
 * flags (no SSE in C code).
 *
 * Bounds: no load reaches outside [p, p + len). Word loops run while a
 * whole word fits and finish with bytes or with a last word that overlaps
 * bytes already looked at. The decimal parser reads only bytes before a
 * line's '\n': up to 32 of them (from a line that ends at least 32 bytes
 * into the range), else 16, else it copies the line to a small buffer.
 *
 * Generic code works on 64-bit little-endian words (get_unaligned_le64(),
 * so it is right on any byte order). A zero-byte test on x = w ^ (c * 0x01..)
 * finds the bytes equal to c: (x - 0x01..) & ~x & 0x80.. flags the first
 * zero byte exactly (and may flag a 0x01 byte after it), which is enough
 * to find; ~(((x & 0x7f..) + 0x7f..) | x) & 0x80.. flags exactly the zero
 * bytes, which counting and the decimal parser need.
 *
 * x86-64 vector code is AVX2 in inline asm (C is built with -mno-sse and
 * -mno-avx). Each asm statement is self-contained: it sets up every vector
 * register it reads, touches no state the compiler knows about, and ends
 * with vzeroupper; the registers cannot be named as clobbers with
 * -mno-sse, and need not be: the compiler never uses them here, and they
 * are caller-saved in the user space ABI. Vector code runs only between
 * kernel_fpu_begin() and kernel_fpu_end(), after irq_fpu_usable(), over at
 * most SFR_SCAN_FPU_BYTES per section, so that preemption stays on for
 * all but about a microsecond at a time.
 *
 * Choice of variant, by native measurement (tools/bench-native, and the
 * per-call cost of short ranges): AVX2 for every primitive from
 * SFR_SCAN_VEC_MIN bytes on. In user space, where a section costs nothing,
 * AVX2 wins from about 128 bytes; in the kernel a section also costs a
 * preempt_disable()/enable() pair, a per-CPU flag and LDMXCSR, and the
 * first one of a system call saves the user FPU registers (about 150 ns).
 * The decimal fold uses AVX2 only to build its newline and digit masks
 * (2-10% faster than the SWAR masks); its speed, about 0.5 GB/s on the
 * benchmark's numbers, is bound by the scalar per-line parse (some 160
 * instructions a line), not by finding the lines.
 *
 * THE DECIMAL FOLD works on blocks of SFR_SCAN_BLOCK bytes in two stages.
 * Stage one makes a bitmask of the '\n' bytes and one of the digits. Stage
 * two walks the '\n' bits: each line [s, e) is parsed from its digit bits
 * and a few loads (fx_quick()), without a loop over its bytes, if it has
 * the usual shape; else by fx_fast() (masks of its own) and, for anything
 * unusual, sfr_fx_step() of sfr_fixed.h itself, so that every rule of that
 * header (blanks, fields, invalid lines, ranges) holds by construction.
 */
#include <linux/bitops.h>
#include <linux/compiler.h>
#include <linux/errno.h>
#include <linux/limits.h>
#include <linux/minmax.h>
#include <linux/sfr_scan.h>
#include <linux/string.h>
#include <linux/types.h>
#include <linux/unaligned.h>
#include <asm/byteorder.h>

#ifdef CONFIG_X86_64
#include <asm/cpufeature.h>
#include <asm/fpu/api.h>
#endif

/* Shortest range for which the vector code is worth an FPU section. */
#define SFR_SCAN_VEC_MIN	256

/* Bytes of newline masks built at a time by the decimal fold. */
#define SFR_SCAN_BLOCK		2048

#define REP8(c)		(0x0101010101010101ULL * (u8)(c))
#define LOW7		0x7f7f7f7f7f7f7f7fULL
#define HIGH1		0x8080808080808080ULL

static __always_inline u64 load64(const u8 *p)
{
	return get_unaligned_le64(p);
}

/* 0x80 in the first zero byte of @x, maybe in bytes after it; else 0. */
static __always_inline u64 zero_first(u64 x)
{
	return (x - REP8(1)) & ~x & HIGH1;
}

/* 0x80 in exactly the zero bytes of @x. */
static __always_inline u64 zero_bytes(u64 x)
{
	return ~(((x & LOW7) + LOW7) | x) & HIGH1;
}

/* 0x80 in exactly the ASCII digit bytes of @x. */
static __always_inline u64 digit_bytes(u64 x)
{
	u64 t = x & LOW7;

	return (t + REP8(0x80 - '0')) & ~(t + REP8(0x80 - '9' - 1)) & ~x &
	       HIGH1;
}

/* Bit i set iff byte i of @f (only 0x80 or 0 bytes) is 0x80. */
static __always_inline u32 gather8(u64 f)
{
	return (u32)((f * 0x0002040810204081ULL) >> 56);
}

/* Sum of the eight bytes of @x. */
static __always_inline u64 sum_bytes(u64 x)
{
	x = (x & 0x00ff00ff00ff00ffULL) + ((x >> 8) & 0x00ff00ff00ff00ffULL);
	return (x * 0x0001000100010001ULL) >> 48;
}

/* ---- find a byte ---- */

size_t sfr_scan_find_byte_generic(const u8 *p, size_t len, u8 c)
{
	u64 rep = REP8(c), f0, f1, f2, f3;
	size_t i = 0;

	for (; i + 32 <= len; i += 32) {
		f0 = zero_first(load64(p + i) ^ rep);
		f1 = zero_first(load64(p + i + 8) ^ rep);
		f2 = zero_first(load64(p + i + 16) ^ rep);
		f3 = zero_first(load64(p + i + 24) ^ rep);
		if (likely(!(f0 | f1 | f2 | f3)))
			continue;
		if (f0)
			return i + (__ffs64(f0) >> 3);
		if (f1)
			return i + 8 + (__ffs64(f1) >> 3);
		if (f2)
			return i + 16 + (__ffs64(f2) >> 3);
		return i + 24 + (__ffs64(f3) >> 3);
	}
	for (; i + 8 <= len; i += 8) {
		f0 = zero_first(load64(p + i) ^ rep);
		if (f0)
			return i + (__ffs64(f0) >> 3);
	}
	if (i == len)
		return len;
	if (len >= 8) {
		/* The last word; its bytes before i hold no @c. */
		f0 = zero_first(load64(p + len - 8) ^ rep);
		return f0 ? len - 8 + (__ffs64(f0) >> 3) : len;
	}
	for (; i < len; i++)
		if (p[i] == c)
			return i;
	return len;
}

size_t sfr_scan_rfind_byte(const u8 *p, size_t len, u8 c)
{
	u64 rep = REP8(c), f;
	size_t i = len;

	for (; i >= 8; i -= 8) {
		f = zero_bytes(load64(p + i - 8) ^ rep);
		if (f)
			return i - 8 + ((fls64(f) - 1) >> 3);
	}
	while (i--)
		if (p[i] == c)
			return i;
	return len;
}

/* ---- count a byte ---- */

size_t sfr_scan_count_byte_generic(const u8 *p, size_t len, u8 c)
{
	u64 rep = REP8(c), acc;
	size_t n = 0, i = 0, k;

	while (i + 32 <= len) {
		/* Byte lanes of acc count to at most 4 * 63 = 252. */
		acc = 0;
		for (k = 0; k < 63 && i + 32 <= len; k++, i += 32)
			acc += (zero_bytes(load64(p + i) ^ rep) >> 7) +
			       (zero_bytes(load64(p + i + 8) ^ rep) >> 7) +
			       (zero_bytes(load64(p + i + 16) ^ rep) >> 7) +
			       (zero_bytes(load64(p + i + 24) ^ rep) >> 7);
		n += sum_bytes(acc);
	}
	acc = 0;
	for (; i + 8 <= len; i += 8)
		acc += zero_bytes(load64(p + i) ^ rep) >> 7;
	if (i < len && len >= 8) {
		/* The last word, without its bytes before i. */
		acc += (zero_bytes(load64(p + len - 8) ^ rep) >> 7) &
		       (~0ULL << (8 * (i - (len - 8))));
		i = len;
	}
	n += sum_bytes(acc);
	for (; i < len; i++)
		n += p[i] == c;
	return n;
}

/* ---- find a fixed string ---- */

/* @a[0, n) == @b[0, n), n >= 1. */
static __always_inline bool str_eq(const u8 *a, const u8 *b, size_t n)
{
	size_t i;

	if (n >= 8) {
		for (i = 0; i + 8 < n; i += 8)
			if (get_unaligned((const u64 *)(a + i)) !=
			    get_unaligned((const u64 *)(b + i)))
				return false;
		return get_unaligned((const u64 *)(a + n - 8)) ==
		       get_unaligned((const u64 *)(b + n - 8));
	}
	if (n >= 4)
		return get_unaligned((const u32 *)a) ==
			       get_unaligned((const u32 *)b) &&
		       get_unaligned((const u32 *)(a + n - 4)) ==
			       get_unaligned((const u32 *)(b + n - 4));
	for (i = 0; i < n; i++)
		if (a[i] != b[i])
			return false;
	return true;
}

/*
 * How common byte @c is in text, to pick the filter bytes of a needle
 * (lower: rarer). A fixed guess, not a measurement of the data: the blank,
 * English letters by frequency, digits and line punctuation, capitals,
 * other punctuation, control and non-ASCII bytes.
 */
static u32 byte_rank(u8 c)
{
	static const char order[] = "etaoinsrhldcumfpgwybvkxjqz";
	u32 i, upper = c >= 'A' && c <= 'Z';

	if (c == ' ')
		return 255;
	if (upper)
		c += 'a' - 'A';
	if (c >= 'a' && c <= 'z') {
		for (i = 0; order[i] != c; i++)
			;
		/* Lower case 250..150, capitals 125..100. */
		return upper ? 125 - i : 250 - 4 * i;
	}
	if ((c >= '0' && c <= '9') || c == ',' || c == '.' || c == '\t')
		return 130;
	if (c < ' ' || c > '~')
		return 10;
	return 60;
}

/* Start of the maximal suffix of @x[0, m) (@rev: reversed order), *@per. */
static size_t max_suffix(const u8 *x, size_t m, bool rev, size_t *per)
{
	size_t i = 0, j = 1, k = 0, p = 1;

	while (j + k < m) {
		u8 a = x[i + k], b = x[j + k];

		if (a == b) {
			if (k + 1 == p) {
				j += p;
				k = 0;
			} else {
				k++;
			}
		} else if (rev ? b > a : b < a) {
			/* The suffix at j is smaller: next candidate. */
			j += k + 1;
			k = 0;
			p = j - i;
		} else {
			/* The suffix at j is larger: it is the new maximum. */
			i = j;
			j = i + 1;
			k = 0;
			p = 1;
		}
	}
	*per = p;
	return i;
}

int sfr_scan_str_init(struct sfr_scan_str *s, const u8 *needle, size_t nlen)
{
	size_t i, l1, l2, p1, p2, r0 = 0, r1 = 0;
	u32 best0, best1;

	if (nlen > SFR_SCAN_STR_MAX)
		return -EINVAL;
	memset(s, 0, sizeof(*s));
	s->len = nlen;
	if (!nlen)
		return 0;
	memcpy(s->s, needle, nlen);
	s->has_nl = !!memchr(needle, '\n', nlen);

	/* Filter bytes: the rarest, then the rarest other byte value. */
	best0 = ~0U;
	for (i = 0; i < nlen; i++) {
		if (byte_rank(needle[i]) < best0) {
			best0 = byte_rank(needle[i]);
			r0 = i;
		}
	}
	best1 = ~0U;
	r1 = r0;
	for (i = 0; i < nlen; i++) {
		u32 r = byte_rank(needle[i]) + (needle[i] == needle[r0] ? 256 : 0);

		if (i != r0 && r < best1) {
			best1 = r;
			r1 = i;
		}
	}
	s->rare[0] = r0;
	s->rare[1] = r1;

	/* Two-Way: the critical factorisation is the later maximal suffix. */
	l1 = max_suffix(needle, nlen, false, &p1);
	l2 = max_suffix(needle, nlen, true, &p2);
	if (l2 > l1) {
		l1 = l2;
		p1 = p2;
	}
	s->crit = l1;
	s->period = p1;
	s->periodic = l1 + p1 <= nlen && !memcmp(needle, needle + p1, l1);
	return 0;
}

size_t sfr_scan_find_str_twoway(const u8 *p, size_t len,
				const struct sfr_scan_str *s)
{
	size_t m = s->len, l = s->crit, j = 0, i, mem = 0, shift;
	const u8 *x = s->s;

	if (!m)
		return 0;
	if (m > len)
		return len;
	if (s->periodic) {
		shift = s->period;
		while (j <= len - m) {
			for (i = max(l, mem); i < m && x[i] == p[j + i]; i++)
				;
			if (i < m) {
				j += i - l + 1;
				mem = 0;
				continue;
			}
			for (i = l; i > mem && x[i - 1] == p[j + i - 1]; i--)
				;
			if (i <= mem)
				return j;
			j += shift;
			mem = m - shift;
		}
	} else {
		shift = max(l, m - l) + 1;
		while (j <= len - m) {
			for (i = l; i < m && x[i] == p[j + i]; i++)
				;
			if (i < m) {
				j += i - l + 1;
				continue;
			}
			for (i = l; i > 0 && x[i - 1] == p[j + i - 1]; i--)
				;
			if (!i)
				return j;
			j += shift;
		}
	}
	return len;
}

/*
 * Verification budget of the two-byte filter, in word comparisons: a
 * quarter of the candidates scanned plus a few. Past it the filter is
 * not paying (a needle whose filter bytes are common in the data, or a
 * hostile input) and Two-Way takes over, so the search stays linear.
 */
static __always_inline bool over_budget(size_t work, size_t scanned)
{
	return work > 8 + scanned / 4;
}

/*
 * Verify the candidates flagged in @f (0x80 per byte; bits of the first
 * zero_first() flags may be false) at p + j. Returns the offset of a
 * match or SIZE_MAX; adds the words compared to *@work.
 */
static __always_inline size_t verify_flags(const u8 *p, size_t j, u64 f,
					   const struct sfr_scan_str *s,
					   size_t *work)
{
	size_t k;

	while (f) {
		k = j + (__ffs64(f) >> 3);
		f &= f - 1;
		*work += 1 + s->len / 8;
		if (str_eq(p + k, s->s, s->len))
			return k;
	}
	return SIZE_MAX;
}

/*
 * The filter on candidates [j, ncand) (ncand = len - m + 1), 16 at a
 * time, then one at a time; Two-Way when over budget.
 */
static size_t find_str_swar(const u8 *p, size_t len,
			    const struct sfr_scan_str *s, size_t j,
			    size_t work)
{
	size_t m = s->len, ncand = len - m + 1, r;
	const u8 *a = p + s->rare[0], *b = p + s->rare[1];
	u64 r0 = REP8(s->s[s->rare[0]]), r1 = REP8(s->s[s->rare[1]]), f0, f1;
	u8 c0 = s->s[s->rare[0]], c1 = s->s[s->rare[1]];

	for (; j + 16 <= ncand; j += 16) {
		f0 = zero_first((load64(a + j) ^ r0) | (load64(b + j) ^ r1));
		f1 = zero_first((load64(a + j + 8) ^ r0) |
				(load64(b + j + 8) ^ r1));
		if (likely(!(f0 | f1)))
			continue;
		r = verify_flags(p, j, f0, s, &work);
		if (r == SIZE_MAX)
			r = verify_flags(p, j + 8, f1, s, &work);
		if (r != SIZE_MAX)
			return r;
		if (unlikely(over_budget(work, j))) {
			j += 16;
			return j + sfr_scan_find_str_twoway(p + j, len - j, s);
		}
	}
	for (; j < ncand; j++)
		if (a[j] == c0 && b[j] == c1 && str_eq(p + j, s->s, m))
			return j;
	return len;
}

size_t sfr_scan_find_str_generic(const u8 *p, size_t len,
				 const struct sfr_scan_str *s)
{
	if (!s->len)
		return 0;
	if (s->len > len)
		return len;
	if (s->len == 1)
		return sfr_scan_find_byte_generic(p, len, s->s[0]);
	return find_str_swar(p, len, s, 0, 0);
}

/* ---- decimal fold ---- */

static const u64 pow10_u64[20] = {
	1ULL, 10ULL, 100ULL, 1000ULL, 10000ULL, 100000ULL, 1000000ULL,
	10000000ULL, 100000000ULL, 1000000000ULL, 10000000000ULL,
	100000000000ULL, 1000000000000ULL, 10000000000000ULL,
	100000000000000ULL, 1000000000000000ULL, 10000000000000000ULL,
	100000000000000000ULL, 1000000000000000000ULL,
	10000000000000000000ULL,
};

/* 5^-k modulo 2^64: (x * 5^k) * inv5[k] == x. */
static const u64 inv5[16] = {
	0x0000000000000001ULL, 0xcccccccccccccccdULL, 0x8f5c28f5c28f5c29ULL,
	0x1cac083126e978d5ULL, 0xd288ce703afb7e91ULL, 0x5d4e8fb00bcbe61dULL,
	0x790fb65668c26139ULL, 0xe5032477ae8d46a5ULL, 0xc767074b22e90e21ULL,
	0x8e47ce423a2e9c6dULL, 0x4fa7f60d3ed61f49ULL, 0x0fee64690c913975ULL,
	0x3662e0e1cf503eb1ULL, 0xa47a2cf9f6433fbdULL, 0x54186f653140a659ULL,
	0x7738164770402145ULL,
};

/* Bytes 0..k-1 of a 16-byte window (lo word, hi word), k = 0..16. */
static const u64 low_bytes[17][2] = {
	{ 0, 0 },
	{ 0xffULL, 0 },
	{ 0xffffULL, 0 },
	{ 0xffffffULL, 0 },
	{ 0xffffffffULL, 0 },
	{ 0xffffffffffULL, 0 },
	{ 0xffffffffffffULL, 0 },
	{ 0xffffffffffffffULL, 0 },
	{ ~0ULL, 0 },
	{ ~0ULL, 0xffULL },
	{ ~0ULL, 0xffffULL },
	{ ~0ULL, 0xffffffULL },
	{ ~0ULL, 0xffffffffULL },
	{ ~0ULL, 0xffffffffffULL },
	{ ~0ULL, 0xffffffffffffULL },
	{ ~0ULL, 0xffffffffffffffULL },
	{ ~0ULL, ~0ULL },
};

/*
 * The number of 8 digit values (0..9), most significant in the low byte:
 * each multiply adds a lane times 10^k to the lane above it (2561 is
 * 10 * 2^8 + 1, and so on), and the shift moves the pairs, quads, octet
 * down, with no carry out of a lane (99, 9999, 99999999 fit).
 */
static __always_inline u64 parse8(u64 w)
{
	w = ((w * 2561) >> 8) & 0x00ff00ff00ff00ffULL;
	w = ((w * 6553601) >> 16) & 0x0000ffff0000ffffULL;
	return (w * 42949672960001ULL) >> 32;
}

/*
 * The common shape of a number: [+|-] digits [. digits] [CR], 1 to 16
 * bytes, ending right before @q (its '\n' or delimiter), with the 16 bytes
 * before @q readable. @n is its length with the CR. Returns SFR_FX_VALUE
 * with *@v, SFR_FX_RANGE, or 0 for any other shape (blanks, junk, two
 * dots, too long, or more than 19 digits with the scale's), which the
 * byte parser of sfr_fixed.h then decides.
 *
 * The 16 bytes become digit values (everything else 0); the integer digits
 * move up a byte over the dot, and the fraction digits beyond the scale are
 * cleared; eight digits at a time make X = (kept digits) * 10^k where k is
 * the number of digits dropped, and the value is X / 10^k * 10^(scale -
 * kept fraction digits) + the rounding of the first dropped digit. Since X
 * is a multiple of 10^k, X / 10^k is (X >> k) * 5^-k modulo 2^64.
 */
static __always_inline int fx_fast(const u8 *q, size_t n, u32 scale, s64 *v)
{
	u64 lo, hi, dlo, dhi, ilo, ihi, x, mag, t;
	u32 dig, dot, reg, neg, sg, hasdot, dw, nf, ni, k, b;
	u8 c0;

	if (n - 1 >= 16)
		return 0;
	lo = load64(q - 16);
	hi = load64(q - 8);
	if (unlikely(q[-1] == '\r')) {
		/* Drop the CR: the window moves down a byte. */
		hi = hi << 8 | lo >> 56;
		lo <<= 8;
		q--;
		if (!--n)
			return 0;
	}
	dlo = digit_bytes(lo);
	dhi = digit_bytes(hi);
	dig = gather8(dlo) | gather8(dhi) << 8;
	dot = gather8(zero_bytes(lo ^ REP8('.'))) |
	      gather8(zero_bytes(hi ^ REP8('.'))) << 8;
	c0 = q[-n];
	neg = c0 == '-';
	sg = neg | (c0 == '+');
	reg = (0xffff0000U >> (n - sg)) & 0xffff;
	dot &= reg;
	dig &= reg;
	if ((dig | dot) != reg || !dig || (dot & (dot - 1)))
		return 0;
	hasdot = dot != 0;
	dw = hasdot ? __ffs(dot) : 16;
	nf = 15 - dw + !hasdot;		/* 0 without a dot */
	ni = n - sg - nf - hasdot;
	if (ni + scale > 19)
		return 0;

	/* Digit values of the number, 0 elsewhere. */
	lo = (lo ^ REP8('0')) & ((dlo >> 7) * 0xff) & ~low_bytes[16 - n + sg][0];
	hi = (hi ^ REP8('0')) & ((dhi >> 7) * 0xff) & ~low_bytes[16 - n + sg][1];
	/* The integer digits up a byte, over the dot. */
	ilo = lo & low_bytes[dw][0];
	ihi = hi & low_bytes[dw][1];
	hi = (hi & ~low_bytes[dw][1]) | (ihi << (8 * hasdot)) |
	     ((ilo >> 56) & (0ULL - hasdot));
	lo = (lo & ~low_bytes[dw][0]) | (ilo << (8 * hasdot));
	/* Fraction digits beyond the scale: k of them dropped. */
	k = nf > scale ? nf - scale : 0;
	b = 16 - k;
	t = (b & 8 ? hi : lo) >> (8 * (b & 7));
	lo &= low_bytes[b][0];
	hi &= low_bytes[b][1];
	x = parse8(lo) * 100000000ULL + parse8(hi);
	mag = ((x >> k) * inv5[k]) * pow10_u64[scale - (nf - k)] +
	      (k && (t & 0xff) >= 5);
	if (mag > (u64)S64_MAX + neg)
		return SFR_FX_RANGE;
	*v = (s64)(neg ? 0 - mag : mag);
	return SFR_FX_VALUE;
}

/* fx_fast() of the @n bytes at @f, from a copy (fewer than 16 before). */
static int fx_fast_copy(const u8 *f, size_t n, u32 scale, s64 *v)
{
	u8 tmp[16] = { 0 };

	if (n - 1 >= 16)
		return 0;
	memcpy(tmp + 16 - n, f, n);
	return fx_fast(tmp + 16, n, scale, v);
}

/*
 * The line @q[0, n) (without its '\n') through the byte parser of
 * sfr_fixed.h; bytes after the parser is done with the line (a number
 * ended by a delimiter, or an invalid line) are not looked at.
 */
static noinline int fx_slow(const u8 *q, size_t n,
			    const struct sfr_fx_cfg *cfg, s64 *v)
{
	struct sfr_fx_parse ps = { 0 };
	size_t i;

	for (i = 0; i < n && ps.state < SFR_FX_S_DONE; i++)
		sfr_fx_step(&ps, cfg, q[i], v);
	return sfr_fx_eol(&ps, cfg, v);
}

/* The selected field of the line [s, e) of @p, with delimiters. */
static noinline int fx_field(const u8 *p, size_t s, size_t e,
			     const struct sfr_fx_cfg *cfg, u32 scale, s64 *v)
{
	size_t fs = s, fe;
	u32 f;
	int r;

	/*
	 * No delimiter but a field past the first, or a digit delimiter (a
	 * digit inside a number is a digit): the byte parser's rules.
	 */
	if (!cfg->delim || cfg->delim == '\n' ||
	    (u8)(cfg->delim - '0') < 10)
		return fx_slow(p + s, e - s, cfg, v);
	for (f = 0; f < cfg->field; f++) {
		fs += sfr_scan_find_byte_generic(p + fs, e - fs, cfg->delim);
		if (fs >= e)
			return fx_slow(p + s, e - s, cfg, v);
		fs++;
	}
	fe = fs + sfr_scan_find_byte_generic(p + fs, e - fs, cfg->delim);
	if (fe >= 16)
		r = fx_fast(p + fe, fe - fs, scale, v);
	else
		r = fx_fast_copy(p + fs, fe - fs, scale, v);
	return r ?: fx_slow(p + s, e - s, cfg, v);
}

/* The low nibbles of the top k bytes of a word, k = 0..8: digit values. */
static const u64 high_digits[9] = {
	0, 0x0f00000000000000ULL, 0x0f0f000000000000ULL,
	0x0f0f0f0000000000ULL, 0x0f0f0f0f00000000ULL, 0x0f0f0f0f0f000000ULL,
	0x0f0f0f0f0f0f0000ULL, 0x0f0f0f0f0f0f0f00ULL, 0x0f0f0f0f0f0f0f0fULL,
};

/*
 * fx_fast() for the usual lines, from the digit bitmask of the 16 bytes
 * before @q (bit i: q[i - 16] is a digit), with at most 8 fraction digits
 * kept, and the 32 bytes before @q readable: the integer digits are loaded
 * as the word that ends at the dot (and the word before it for more than 8
 * of them), the fraction digits kept as the word that ends after the last
 * one kept, both right-aligned as parse8() wants them. Same results as
 * fx_fast(); 0 for what it leaves to fx_fast() and the byte parser.
 */
static __always_inline int fx_quick(const u8 *q, size_t n, u32 dm, u32 scale,
				    s64 *v)
{
	u32 neg, sg, reg, nd, dw, nf, ni, kept, hasdot, rup = 0;
	const u8 *dot, *fe;
	u64 iv, mag;
	u8 c0;

	if (n - 1 >= 16)
		return 0;
	if (unlikely(q[-1] == '\r')) {
		q--;
		dm <<= 1;
		if (!--n)
			return 0;
	}
	c0 = q[-n];
	neg = c0 == '-';
	sg = neg | (c0 == '+');
	reg = (0xffff0000U >> (n - sg)) & 0xffff;
	nd = ~dm & reg;
	/* Digits, and at most one other byte, which must be the dot. */
	if ((nd & (nd - 1)) || !(dm & reg))
		return 0;
	hasdot = nd != 0;
	dw = __ffs(nd | 0x10000);	/* 16: no dot, dot is q */
	dot = q - 16 + dw;
	if (hasdot & (*dot != '.'))
		return 0;
	nf = 15 - dw + !hasdot;
	ni = n - sg - nf - hasdot;
	kept = min(nf, scale);
	if (ni + scale > 19 || kept > 8)
		return 0;
	iv = parse8(load64(dot - 8) & high_digits[min(ni, 8U)]);
	if (unlikely(ni > 8))
		iv += parse8(load64(dot - 16) & high_digits[ni - 8]) *
		      100000000ULL;
	fe = dot + hasdot + kept;
	if (unlikely(nf > kept))
		rup = *fe >= '5';
	mag = iv * pow10_u64[scale] +
	      parse8(load64(fe - 8) & high_digits[kept]) *
		      pow10_u64[scale - kept] + rup;
	/* Out of range: above S64_MAX, or above -S64_MIN if negative. */
	if (unlikely((s64)(mag - neg) < 0) && mag)
		return SFR_FX_RANGE;
	*v = (s64)((mag ^ (0 - (u64)neg)) + neg);
	return SFR_FX_VALUE;
}

/*
 * Stage one of the fold: for bytes i < n of @p (n <= SFR_SCAN_BLOCK),
 * bit i % 64 of nl[i / 64] is set iff p[i] is '\n', and of dg[i / 64]
 * (if @dg) iff p[i] is a digit; the word after the last is 0 (the
 * arrays hold n / 64 + 2 words). @dg is little-endian, to be read as
 * bytes by bits16().
 */
static __always_inline void masks_generic(const u8 *p, size_t n, u64 *nl,
					  __le64 *dg)
{
	size_t g, i;
	u64 w, a, b;
	int k;

	for (g = 0; g * 64 + 64 <= n; g++) {
		a = 0;
		b = 0;
		for (k = 0; k < 8; k++) {
			w = load64(p + 64 * g + 8 * k);
			a |= (u64)gather8(zero_bytes(w ^ REP8('\n'))) << (8 * k);
			if (dg)
				b |= (u64)gather8(digit_bytes(w)) << (8 * k);
		}
		nl[g] = a;
		if (dg)
			dg[g] = cpu_to_le64(b);
	}
	a = 0;
	b = 0;
	for (i = 64 * g; i + 8 <= n; i += 8) {
		w = load64(p + i);
		a |= (u64)gather8(zero_bytes(w ^ REP8('\n'))) << (i - 64 * g);
		b |= (u64)gather8(digit_bytes(w)) << (i - 64 * g);
	}
	for (; i < n; i++) {
		a |= (u64)(p[i] == '\n') << (i - 64 * g);
		b |= (u64)(p[i] - '0' < 10U) << (i - 64 * g);
	}
	nl[g] = a;
	nl[g + 1] = 0;
	if (dg) {
		dg[g] = cpu_to_le64(b);
		dg[g + 1] = 0;
	}
}

#ifdef CONFIG_X86_64
static void masks_avx2(const u8 *p, size_t n, u64 *nl, __le64 *dg);
#else
static void masks_avx2(const u8 *p, size_t n, u64 *nl, __le64 *dg)
{
	masks_generic(p, n, nl, dg);
}
#endif

/* Bits [o, o + 16) of the bitmap @m (little-endian words, see masks_*()). */
static __always_inline u32 bits16(const __le64 *m, size_t o)
{
	return (get_unaligned_le32((const u8 *)m + o / 8) >> (o % 8)) & 0xffff;
}

/* The slow paths of a line of the fold: fx_fast(), then the byte parser. */
static noinline int fx_other(const u8 *p, size_t s, size_t e,
			     const struct sfr_fx_cfg *cfg, u32 scale, s64 *v)
{
	int r;

	if (e >= 16)
		r = fx_fast(p + e, e - s, scale, v);
	else
		r = fx_fast_copy(p + s, e - s, scale, v);
	return r ?: fx_slow(p + s, e - s, cfg, v);
}

/* Account a line that is not a value (the rare case) in @s. */
static noinline void fx_note(struct sfr_fx_state *s, u64 line, int r)
{
	if (r == SFR_FX_EMPTY)
		return;
	if (!s->invalid) {
		s->first_invalid = line;
		s->first_err = (u32)r;
	}
	s->invalid++;
}

/*
 * The fold of complete lines. The hot fields of the state stay in locals;
 * min and max start at the extremes and are stored only if a value came.
 */
static __always_inline size_t fold_lines(const u8 *p, size_t len,
					 const struct sfr_fx_cfg *cfg,
					 struct sfr_fx_state *st, bool avx2,
					 bool fields)
{
	__le64 dg[SFR_SCAN_BLOCK / 64 + 2];
	u64 nl[SFR_SCAN_BLOCK / 64 + 2];
	struct sfr_fx_cfg c = *cfg;
	u32 scale = min_t(u32, c.scale, SFR_FX_SCALE_MAX);
	size_t base, pos = 0, n, g, e, be;
	u64 m, lo, hi, count, lines, carry;
	s64 v, mn, mx;
	int r;

	if (sfr_fx_pending(&st->p))
		return 0;
	lo = st->sum.lo;
	hi = st->sum.hi;
	count = st->count;
	lines = st->lines;
	mn = count ? st->min : S64_MAX;
	mx = count ? st->max : S64_MIN;
	for (base = 0; base < len; base += SFR_SCAN_BLOCK) {
		n = min_t(size_t, len - base, SFR_SCAN_BLOCK);
		if (avx2)
			masks_avx2(p + base, n, nl, fields ? NULL : dg);
		else
			masks_generic(p + base, n, nl, fields ? NULL : dg);
		for (g = 0; g * 64 < n; g++) {
			for (m = nl[g]; m; m &= m - 1) {
				be = 64 * g + __ffs64(m);
				e = base + be;
				r = 0;
				if (!fields && likely(be >= 16 && e >= 32))
					r = fx_quick(p + e, e - pos,
						     bits16(dg, be - 16), scale,
						     &v);
				if (unlikely(!r)) {
					/* Not v: keep it out of memory. */
					s64 sv = 0;

					if (fields)
						r = fx_field(p, pos, e, &c, scale,
							     &sv);
					else
						r = fx_other(p, pos, e, &c, scale,
							     &sv);
					v = sv;
				}
				lines++;
				pos = e + 1;
				if (unlikely(r != SFR_FX_VALUE)) {
					fx_note(st, lines, r);
					continue;
				}
				carry = lo + (u64)v < lo;
				lo += (u64)v;
				hi += carry + (v < 0 ? ~0ULL : 0);
				mn = v < mn ? v : mn;
				mx = v > mx ? v : mx;
				count++;
			}
		}
	}
	st->sum.lo = lo;
	st->sum.hi = (s64)hi;
	if (count) {
		st->min = mn;
		st->max = mx;
	}
	st->count = count;
	st->lines = lines;
	return pos;
}

static bool fx_fields(const struct sfr_fx_cfg *cfg)
{
	return (cfg->delim && cfg->delim != '\n') || cfg->field;
}

size_t sfr_scan_fold_lines_generic(const u8 *p, size_t len,
				   const struct sfr_fx_cfg *cfg,
				   struct sfr_fx_state *st)
{
	if (fx_fields(cfg))
		return fold_lines(p, len, cfg, st, false, true);
	return fold_lines(p, len, cfg, st, false, false);
}

/* sfr_fx_feed() of @q[0, n), which holds no '\n'. */
static void fx_feed_part(struct sfr_fx_state *st, const struct sfr_fx_cfg *cfg,
			 const u8 *q, size_t n)
{
	size_t i;

	/* From DONE and BAD on only a '\n' changes the parser. */
	for (i = 0; i < n && st->p.state < SFR_FX_S_DONE; i++)
		sfr_fx_feed(st, cfg, q[i]);
}

void sfr_scan_fold(const u8 *p, size_t len, const struct sfr_fx_cfg *cfg,
		   struct sfr_fx_state *st)
{
	size_t i = 0;

	if (sfr_fx_pending(&st->p)) {
		/* End the line carried from the previous range. */
		i = sfr_scan_find_byte(p, len, '\n');
		fx_feed_part(st, cfg, p, i);
		if (i == len)
			return;
		sfr_fx_feed(st, cfg, '\n');
		i++;
	}
	i += sfr_scan_fold_lines(p + i, len - i, cfg, st);
	fx_feed_part(st, cfg, p + i, len - i);
}

/* ---- lines that hold a fixed string ---- */

/* @best: the dispatching primitives, else the generic ones. */
static __always_inline size_t str_lines(const u8 *p, size_t len,
					const struct sfr_scan_str *s,
					u64 *hits, u64 *lines, bool best)
{
	size_t end = sfr_scan_rfind_byte(p, len, '\n'), i = 0, k;
	u64 h = 0;

	if (end == len)
		return 0;
	end++;
	if (!s->len) {
		h = best ? sfr_scan_count_byte(p, end, '\n') :
			   sfr_scan_count_byte_generic(p, end, '\n');
		*hits += h;
		if (lines)
			*lines += h;
		return end;
	}
	while (!s->has_nl && i < end) {
		k = i + (best ? sfr_scan_find_str(p + i, end - i, s) :
				sfr_scan_find_str_generic(p + i, end - i, s));
		if (k >= end)
			break;
		h++;
		/* On to the next line: its '\n' is there (end is one). */
		k += s->len - 1;
		i = k + 1 + (best ? sfr_scan_find_byte(p + k, end - k, '\n') :
				    sfr_scan_find_byte_generic(p + k, end - k,
							       '\n'));
	}
	*hits += h;
	if (lines)
		*lines += best ? sfr_scan_count_byte(p, end, '\n') :
				 sfr_scan_count_byte_generic(p, end, '\n');
	return end;
}

size_t sfr_scan_str_lines_generic(const u8 *p, size_t len,
				  const struct sfr_scan_str *s, u64 *hits,
				  u64 *lines)
{
	return str_lines(p, len, s, hits, lines, false);
}

size_t sfr_scan_str_lines(const u8 *p, size_t len, const struct sfr_scan_str *s,
			  u64 *hits, u64 *lines)
{
	return str_lines(p, len, s, hits, lines, true);
}

/* ---- x86-64 AVX2 ---- */

#ifdef CONFIG_X86_64

/*
 * The asm statements below read memory the compiler does not see as an
 * operand: "memory" makes them ordered against the stores around them.
 */

/*
 * Offset of the first 32-byte block of [p, p + n) that holds @c, while a
 * whole block fits, and its mask in *@mask; or the offset of the first
 * byte not looked at (n rounded down to 32) and 0.
 */
static size_t avx2_find(const u8 *p, size_t n, u8 c, u32 *mask)
{
	size_t i = 0, t;
	u32 m;

	asm volatile("vmovd %k[c], %%xmm0\n\t"
		     "vpbroadcastb %%xmm0, %%ymm0\n\t"
		     /* 128 bytes a step */
		     "1:\n\t"
		     "leaq 128(%[i]), %[t]\n\t"
		     "cmpq %[n], %[t]\n\t"
		     "ja 3f\n\t"
		     "vpcmpeqb (%[p],%[i]), %%ymm0, %%ymm1\n\t"
		     "vpcmpeqb 32(%[p],%[i]), %%ymm0, %%ymm2\n\t"
		     "vpcmpeqb 64(%[p],%[i]), %%ymm0, %%ymm3\n\t"
		     "vpcmpeqb 96(%[p],%[i]), %%ymm0, %%ymm4\n\t"
		     "vpor %%ymm1, %%ymm2, %%ymm5\n\t"
		     "vpor %%ymm3, %%ymm4, %%ymm6\n\t"
		     "vpor %%ymm5, %%ymm6, %%ymm6\n\t"
		     "vptest %%ymm6, %%ymm6\n\t"
		     "jnz 2f\n\t"
		     "movq %[t], %[i]\n\t"
		     "jmp 1b\n\t"
		     /* a hit in these 128: which 32 */
		     "2:\n\t"
		     "vpmovmskb %%ymm1, %[m]\n\t"
		     "testl %[m], %[m]\n\t"
		     "jnz 5f\n\t"
		     "addq $32, %[i]\n\t"
		     "vpmovmskb %%ymm2, %[m]\n\t"
		     "testl %[m], %[m]\n\t"
		     "jnz 5f\n\t"
		     "addq $32, %[i]\n\t"
		     "vpmovmskb %%ymm3, %[m]\n\t"
		     "testl %[m], %[m]\n\t"
		     "jnz 5f\n\t"
		     "addq $32, %[i]\n\t"
		     "vpmovmskb %%ymm4, %[m]\n\t"
		     "jmp 5f\n\t"
		     /* then 32 bytes a step */
		     "3:\n\t"
		     "leaq 32(%[i]), %[t]\n\t"
		     "cmpq %[n], %[t]\n\t"
		     "ja 4f\n\t"
		     "vpcmpeqb (%[p],%[i]), %%ymm0, %%ymm1\n\t"
		     "vpmovmskb %%ymm1, %[m]\n\t"
		     "testl %[m], %[m]\n\t"
		     "jnz 5f\n\t"
		     "movq %[t], %[i]\n\t"
		     "jmp 3b\n\t"
		     "4:\n\t"
		     "xorl %[m], %[m]\n\t"
		     "5:\n\t"
		     "vzeroupper"
		     : [i] "+r"(i), [m] "=&r"(m), [t] "=&r"(t)
		     : [p] "r"(p), [n] "r"(n), [c] "r"((u32)c)
		     : "cc", "memory");
	*mask = m;
	return i;
}

/* Bytes equal to @c in the @steps * 128 bytes at @p, steps <= 255. */
static u64 avx2_count(const u8 *p, size_t steps, u8 c)
{
	u64 n;

	asm volatile("vmovd %k[c], %%xmm0\n\t"
		     "vpbroadcastb %%xmm0, %%ymm0\n\t"
		     "vpxor %%ymm1, %%ymm1, %%ymm1\n\t"
		     "vpxor %%ymm2, %%ymm2, %%ymm2\n\t"
		     "vpxor %%ymm3, %%ymm3, %%ymm3\n\t"
		     "vpxor %%ymm4, %%ymm4, %%ymm4\n\t"
		     "testq %[s], %[s]\n\t"
		     "jz 2f\n\t"
		     /* a byte lane of ymm1..4 counts one match per step */
		     "1:\n\t"
		     "vpcmpeqb (%[p]), %%ymm0, %%ymm5\n\t"
		     "vpcmpeqb 32(%[p]), %%ymm0, %%ymm6\n\t"
		     "vpcmpeqb 64(%[p]), %%ymm0, %%ymm7\n\t"
		     "vpcmpeqb 96(%[p]), %%ymm0, %%ymm8\n\t"
		     "vpsubb %%ymm5, %%ymm1, %%ymm1\n\t"
		     "vpsubb %%ymm6, %%ymm2, %%ymm2\n\t"
		     "vpsubb %%ymm7, %%ymm3, %%ymm3\n\t"
		     "vpsubb %%ymm8, %%ymm4, %%ymm4\n\t"
		     "addq $128, %[p]\n\t"
		     "decq %[s]\n\t"
		     "jnz 1b\n\t"
		     "2:\n\t"
		     /* sums of 8 lanes, then of everything */
		     "vpxor %%ymm0, %%ymm0, %%ymm0\n\t"
		     "vpsadbw %%ymm0, %%ymm1, %%ymm1\n\t"
		     "vpsadbw %%ymm0, %%ymm2, %%ymm2\n\t"
		     "vpsadbw %%ymm0, %%ymm3, %%ymm3\n\t"
		     "vpsadbw %%ymm0, %%ymm4, %%ymm4\n\t"
		     "vpaddq %%ymm1, %%ymm2, %%ymm1\n\t"
		     "vpaddq %%ymm3, %%ymm4, %%ymm3\n\t"
		     "vpaddq %%ymm1, %%ymm3, %%ymm1\n\t"
		     "vextracti128 $1, %%ymm1, %%xmm2\n\t"
		     "vpaddq %%xmm1, %%xmm2, %%xmm1\n\t"
		     "vpshufd $0x4e, %%xmm1, %%xmm2\n\t"
		     "vpaddq %%xmm1, %%xmm2, %%xmm1\n\t"
		     "vmovq %%xmm1, %[n]\n\t"
		     "vzeroupper"
		     : [n] "=r"(n), [p] "+r"(p), [s] "+r"(steps)
		     : [c] "r"((u32)c)
		     : "cc", "memory");
	return n;
}

/*
 * The two-byte filter over candidates [j, n), 64 a step while a whole step
 * fits: a candidate i has @a[i] == @c0 and @b[i] == @c1. Returns the first
 * step with a candidate and its mask in *@mask, or the first candidate not
 * looked at and 0.
 */
static size_t avx2_pair(const u8 *a, const u8 *b, size_t j, size_t n, u8 c0,
			u8 c1, u64 *mask)
{
	size_t t;
	u64 m;

	asm volatile("vmovd %k[c0], %%xmm0\n\t"
		     "vpbroadcastb %%xmm0, %%ymm0\n\t"
		     "vmovd %k[c1], %%xmm1\n\t"
		     "vpbroadcastb %%xmm1, %%ymm1\n\t"
		     "1:\n\t"
		     "leaq 64(%[j]), %[t]\n\t"
		     "cmpq %[n], %[t]\n\t"
		     "ja 3f\n\t"
		     "vpcmpeqb (%[a],%[j]), %%ymm0, %%ymm2\n\t"
		     "vpcmpeqb (%[b],%[j]), %%ymm1, %%ymm3\n\t"
		     "vpcmpeqb 32(%[a],%[j]), %%ymm0, %%ymm4\n\t"
		     "vpcmpeqb 32(%[b],%[j]), %%ymm1, %%ymm5\n\t"
		     "vpand %%ymm2, %%ymm3, %%ymm2\n\t"
		     "vpand %%ymm4, %%ymm5, %%ymm4\n\t"
		     "vpor %%ymm2, %%ymm4, %%ymm5\n\t"
		     "vptest %%ymm5, %%ymm5\n\t"
		     "jnz 2f\n\t"
		     "movq %[t], %[j]\n\t"
		     "jmp 1b\n\t"
		     "2:\n\t"
		     "vpmovmskb %%ymm2, %k[m]\n\t"
		     "vpmovmskb %%ymm4, %k[t]\n\t"
		     "shlq $32, %[t]\n\t"
		     "orq %[t], %[m]\n\t"
		     "jmp 4f\n\t"
		     "3:\n\t"
		     "xorl %k[m], %k[m]\n\t"
		     "4:\n\t"
		     "vzeroupper"
		     : [j] "+r"(j), [m] "=&r"(m), [t] "=&r"(t)
		     : [a] "r"(a), [b] "r"(b), [n] "r"(n), [c0] "r"((u32)c0),
		       [c1] "r"((u32)c1)
		     : "cc", "memory");
	*mask = m;
	return j;
}

/*
 * The '\n' and digit masks of the @groups * 64 bytes at @p into @nl and
 * @dg: a digit is a byte b with (u8)(b - '0') <= 9, min(b - '0', 9) == b - '0'.
 */
static void avx2_masks(const u8 *p, size_t groups, u64 *nl, __le64 *dg)
{
	u64 t0, t1;

	asm volatile("movl $0x0a0a0a0a, %k[t0]\n\t"
		     "vmovd %k[t0], %%xmm0\n\t"
		     "vpbroadcastd %%xmm0, %%ymm0\n\t"		/* '\n' */
		     "movl $0x30303030, %k[t0]\n\t"
		     "vmovd %k[t0], %%xmm1\n\t"
		     "vpbroadcastd %%xmm1, %%ymm1\n\t"		/* '0' */
		     "movl $0x09090909, %k[t0]\n\t"
		     "vmovd %k[t0], %%xmm2\n\t"
		     "vpbroadcastd %%xmm2, %%ymm2\n\t"		/* 9 */
		     "testq %[g], %[g]\n\t"
		     "jz 2f\n\t"
		     "1:\n\t"
		     "vmovdqu (%[p]), %%ymm3\n\t"
		     "vmovdqu 32(%[p]), %%ymm4\n\t"
		     "vpcmpeqb %%ymm0, %%ymm3, %%ymm5\n\t"
		     "vpcmpeqb %%ymm0, %%ymm4, %%ymm6\n\t"
		     "vpmovmskb %%ymm5, %k[t0]\n\t"
		     "vpmovmskb %%ymm6, %k[t1]\n\t"
		     "shlq $32, %[t1]\n\t"
		     "orq %[t1], %[t0]\n\t"
		     "movq %[t0], (%[nl])\n\t"
		     "vpsubb %%ymm1, %%ymm3, %%ymm3\n\t"
		     "vpsubb %%ymm1, %%ymm4, %%ymm4\n\t"
		     "vpminub %%ymm2, %%ymm3, %%ymm5\n\t"
		     "vpminub %%ymm2, %%ymm4, %%ymm6\n\t"
		     "vpcmpeqb %%ymm5, %%ymm3, %%ymm3\n\t"
		     "vpcmpeqb %%ymm6, %%ymm4, %%ymm4\n\t"
		     "vpmovmskb %%ymm3, %k[t0]\n\t"
		     "vpmovmskb %%ymm4, %k[t1]\n\t"
		     "shlq $32, %[t1]\n\t"
		     "orq %[t1], %[t0]\n\t"
		     "movq %[t0], (%[dg])\n\t"
		     "addq $64, %[p]\n\t"
		     "addq $8, %[nl]\n\t"
		     "addq $8, %[dg]\n\t"
		     "decq %[g]\n\t"
		     "jnz 1b\n\t"
		     "2:\n\t"
		     "vzeroupper"
		     : [p] "+r"(p), [nl] "+r"(nl), [dg] "+r"(dg),
		       [g] "+r"(groups), [t0] "=&r"(t0), [t1] "=&r"(t1)
		     :
		     : "cc", "memory");
}

/* The '\n' masks of the @groups * 64 bytes at @p into @nl. */
static void avx2_nl_masks(const u8 *p, size_t groups, u64 *nl)
{
	u64 t0, t1;

	asm volatile("movl $10, %k[t0]\n\t"
		     "vmovd %k[t0], %%xmm0\n\t"
		     "vpbroadcastb %%xmm0, %%ymm0\n\t"
		     "testq %[g], %[g]\n\t"
		     "jz 2f\n\t"
		     "1:\n\t"
		     "vpcmpeqb (%[p]), %%ymm0, %%ymm1\n\t"
		     "vpcmpeqb 32(%[p]), %%ymm0, %%ymm2\n\t"
		     "vpmovmskb %%ymm1, %k[t0]\n\t"
		     "vpmovmskb %%ymm2, %k[t1]\n\t"
		     "shlq $32, %[t1]\n\t"
		     "orq %[t1], %[t0]\n\t"
		     "movq %[t0], (%[o])\n\t"
		     "addq $64, %[p]\n\t"
		     "addq $8, %[o]\n\t"
		     "decq %[g]\n\t"
		     "jnz 1b\n\t"
		     "2:\n\t"
		     "vzeroupper"
		     : [p] "+r"(p), [o] "+r"(nl), [g] "+r"(groups),
		       [t0] "=&r"(t0), [t1] "=&r"(t1)
		     :
		     : "cc", "memory");
}

static void masks_avx2(const u8 *p, size_t n, u64 *nl, __le64 *dg)
{
	size_t g = n / 64;

	kernel_fpu_begin();
	if (dg)
		avx2_masks(p, g, nl, dg);
	else
		avx2_nl_masks(p, g, nl);
	kernel_fpu_end();
	masks_generic(p + 64 * g, n - 64 * g, nl + g, dg ? dg + g : NULL);
}

static __always_inline bool use_avx2(size_t len)
{
	return len >= SFR_SCAN_VEC_MIN && static_cpu_has(X86_FEATURE_AVX2) &&
	       irq_fpu_usable();
}

size_t sfr_scan_find_byte_avx2(const u8 *p, size_t len, u8 c)
{
	size_t i = 0, n, k;
	u32 m;

	if (!irq_fpu_usable())
		return sfr_scan_find_byte_generic(p, len, c);
	while (len - i >= 32) {
		n = min_t(size_t, len - i, SFR_SCAN_FPU_BYTES);
		kernel_fpu_begin();
		k = avx2_find(p + i, n, c, &m);
		kernel_fpu_end();
		if (m)
			return i + k + __ffs(m);
		i += k;
	}
	return i + sfr_scan_find_byte_generic(p + i, len - i, c);
}

size_t sfr_scan_count_byte_avx2(const u8 *p, size_t len, u8 c)
{
	size_t i = 0, n = 0, steps;

	if (!irq_fpu_usable())
		return sfr_scan_count_byte_generic(p, len, c);
	while (len - i >= 128) {
		steps = min_t(size_t, (len - i) / 128, SFR_SCAN_FPU_BYTES / 128);
		kernel_fpu_begin();
		n += avx2_count(p + i, steps, c);
		kernel_fpu_end();
		i += steps * 128;
	}
	return n + sfr_scan_count_byte_generic(p + i, len - i, c);
}

size_t sfr_scan_find_str_avx2(const u8 *p, size_t len,
			      const struct sfr_scan_str *s)
{
	size_t m = s->len, ncand, j = 0, lim, work = 0, k, r = SIZE_MAX;
	const u8 *a, *b;
	u64 f;

	if (!m)
		return 0;
	if (m > len)
		return len;
	if (m == 1)
		return sfr_scan_find_byte_avx2(p, len, s->s[0]);
	if (!irq_fpu_usable())
		return find_str_swar(p, len, s, 0, 0);
	ncand = len - m + 1;
	a = p + s->rare[0];
	b = p + s->rare[1];
	while (ncand - j >= 64) {
		lim = j + min_t(size_t, ncand - j, SFR_SCAN_FPU_BYTES);
		kernel_fpu_begin();
		for (;;) {
			j = avx2_pair(a, b, j, lim, s->s[s->rare[0]],
				      s->s[s->rare[1]], &f);
			if (!f)
				break;
			/* Verify the candidates; the filter bytes match. */
			for (; f; f &= f - 1) {
				k = j + __ffs64(f);
				work += 1 + m / 8;
				if (str_eq(p + k, s->s, m)) {
					r = k;
					break;
				}
			}
			j += 64;
			if (r != SIZE_MAX || over_budget(work, j))
				break;
		}
		kernel_fpu_end();
		if (r != SIZE_MAX)
			return r;
		if (over_budget(work, j))
			return j + sfr_scan_find_str_twoway(p + j, len - j, s);
	}
	return find_str_swar(p, len, s, j, work);
}

size_t sfr_scan_fold_lines_avx2(const u8 *p, size_t len,
				const struct sfr_fx_cfg *cfg,
				struct sfr_fx_state *st)
{
	if (!irq_fpu_usable())
		return sfr_scan_fold_lines_generic(p, len, cfg, st);
	if (fx_fields(cfg))
		return fold_lines(p, len, cfg, st, true, true);
	return fold_lines(p, len, cfg, st, true, false);
}

#else /* !CONFIG_X86_64 */

static __always_inline bool use_avx2(size_t len)
{
	return false;
}

#define sfr_scan_find_byte_avx2 sfr_scan_find_byte_generic
#define sfr_scan_count_byte_avx2 sfr_scan_count_byte_generic
#define sfr_scan_find_str_avx2 sfr_scan_find_str_generic
#define sfr_scan_fold_lines_avx2 sfr_scan_fold_lines_generic

#endif /* CONFIG_X86_64 */

/* ---- the dispatchers ---- */

size_t sfr_scan_find_byte(const u8 *p, size_t len, u8 c)
{
	if (use_avx2(len))
		return sfr_scan_find_byte_avx2(p, len, c);
	return sfr_scan_find_byte_generic(p, len, c);
}

size_t sfr_scan_count_byte(const u8 *p, size_t len, u8 c)
{
	if (use_avx2(len))
		return sfr_scan_count_byte_avx2(p, len, c);
	return sfr_scan_count_byte_generic(p, len, c);
}

size_t sfr_scan_find_str(const u8 *p, size_t len, const struct sfr_scan_str *s)
{
	if (use_avx2(len))
		return sfr_scan_find_str_avx2(p, len, s);
	return sfr_scan_find_str_generic(p, len, s);
}

size_t sfr_scan_fold_lines(const u8 *p, size_t len,
			   const struct sfr_fx_cfg *cfg, struct sfr_fx_state *st)
{
	if (use_avx2(len))
		return sfr_scan_fold_lines_avx2(p, len, cfg, st);
	return sfr_scan_fold_lines_generic(p, len, cfg, st);
}
