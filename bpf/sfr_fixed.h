/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * sfr_fixed.h - exact fixed-point decimal parsing and reduction.
 *
 * One header for both sides: BPF programs (clang -target bpf; no libc,
 * only <linux/types.h>; no float, no __int128, no division, no loops) and
 * user space (gcc/clang, gnu11), so the --no-offload fallback and the test
 * oracles run the very same arithmetic as the programs.
 *
 * VALUES. A value is a signed 64-bit integer scaled by 10^scale, where
 * scale (0..SFR_FX_SCALE_MAX = 18 decimal places) is chosen at run time in
 * struct sfr_fx_cfg: with scale 3, "-12.345" is -12345.
 *
 * NUMBER SYNTAX. [blanks] [+|-] digits [. [digits]] [blanks], or
 * [blanks] [+|-] . digits [blanks]: at least one digit; "7", "+7", "-7",
 * ".5", "5.", "-0.000001", "007" are numbers; blanks are space, tab and CR.
 * Everything else is not a number: "", " ", "-", ".", "--1", "- 1",
 * "1.2.3", "1 2", "0x10", "1,5", "inf", "nan", quoted fields, and
 * exponents: "1e3" is NOT a number (rejected rather than scaled, so a
 * value is never silently multiplied by a power of ten, and the parser
 * stays loop-free). Leading zeros are free ("0000001" is 1).
 *
 * ROUNDING. Fraction digits beyond scale are rounded half away from zero
 * (as SQL/PostgreSQL numeric ROUND does): only the first dropped digit
 * decides, >= 5 rounds the magnitude up. "0.125" at scale 2 is 13,
 * "-0.125" is -13, "2.5" at scale 0 is 3, "0.145" is 15 (not 14 as
 * half-even would give). The rounding is symmetric in the sign, so
 * parse("-x") == -parse("x"). "-0", "-0.000" and "-0.004" (scale 2) are 0:
 * there is no negative zero. sfr_fx_div() rounds the same way. Choose a
 * scale at least as large as the input's decimals to stay exact.
 *
 * RANGE. A number whose scaled value (after rounding) is outside
 * [INT64_MIN, INT64_MAX] is out of range: SFR_FX_RANGE, counted as invalid,
 * never wrapped or clamped. At scale 0 the limit is +-9223372036854775807
 * (-...808 is fine), at scale 18 it is about +-9.22. Rounding can cross
 * the limit: "9223372036854775807.5" at scale 0 is out of range.
 *
 * LINES AND FIELDS. Input is a stream of lines ending in LF; a final line
 * without LF is a line too (sfr_fx_finish()). CR is a blank, so CRLF files
 * work (a lone CR does not end a line). If cfg.delim is not 0 (nor LF),
 * each occurrence of that byte separates fields (cut(1) semantics: no
 * quoting, no merging of repeated delimiters; the delimiter test comes
 * before the blank test, so "-d ' '" or "-d '\t'" split on every such
 * byte) and field number cfg.field (0-based: "cut -f 3" is 2) is parsed;
 * with delim 0 the whole line is field 0. Per line the parser reports:
 *   SFR_FX_EMPTY    the line has only blanks (or nothing; a delimiter is
 *                   not a blank, even if it is a space or a tab):
 *                   skipped, not counted as a value nor as invalid;
 *   SFR_FX_VALUE    the selected field is a number (the rest of the line
 *                   is not looked at);
 *   SFR_FX_INVALID  anything else: not a number, the selected field is
 *                   empty or blank, or the line has too few fields;
 *   SFR_FX_RANGE    the selected field is a number out of range.
 * Invalid and out-of-range lines are counted in .invalid; the number of
 * the first one (1-based) is kept in .first_invalid, and its kind in
 * .first_err, so a --strict CLI can report "line N: not a number".
 *
 * STREAMING. sfr_fx_step() takes one byte at a time and keeps the line in
 * progress in struct sfr_fx_parse (16 bytes, fixed-size integer fields),
 * so a number split across chunk boundaries parses exactly as if it were
 * not split. A zero-filled struct is the state at the start of a line.
 *
 * REDUCE. struct sfr_fx_state holds a 128-bit sum, count, min, max, the
 * invalid count, line count, first invalid line and the parser; all zero is
 * the empty state, as sfr scratch is. Feed each byte with sfr_fx_feed(),
 * then sfr_fx_finish() at end of file.
 *
 * IN BPF, keep the state in scratch (or a map value) and feed it there, do
 * NOT copy it to the stack for the loop as sum.bpf.c does with its state.
 * The verifier tracks constants stored on the stack, and a branch on a
 * known constant makes it precise; the parser's state and flag constants
 * then split every loop iteration into distinct verifier states, and the
 * loop never converges (selftests/host/fixed_xdp.bpf.c with a stack copy:
 * "The sequence of 8193 jumps is too complex"; fed in place in its map
 * value: 1659 instructions processed). Scratch memory contents are not
 * tracked, so that does not happen there. Copying the cfg is fine. For
 * the same reason, when unrolling several steps per iteration (a word at
 * a time), put asm volatile("" ::: "memory") between the steps so each one
 * reloads the state: 8 unrolled steps verify in 11458 instructions with
 * it, and exceed the 1M limit without it -- on the host's newer kernel.
 * The 6.12 verifier of the sfr kernel still rejects 8 unrolled steps in
 * one sfr_for() loop body ("The sequence of 8193 jumps is too complex");
 * there, put the unrolled steps in a global (non-inline) function, which
 * the verifier checks once on its own, as bpf/avg.bpf.c does with
 * avg_feed16() (16 bytes per call, about 12k instructions in all).
 *
 * sfr_fx_combine(a, b) folds the state of the window after a into a; it is
 * associative and the zero state is its identity, provided a ends at a line
 * boundary (sfr windows are record-aligned; the last window, if it ends in
 * a line without LF, must be the last operand and must be finished).
 */
#ifndef __SFR_FIXED_H
#define __SFR_FIXED_H

#ifndef __VMLINUX_H__		/* vmlinux.h has the __u64 & co already */
#include <linux/types.h>
#endif

#ifdef __KERNEL__
#define __sfr_fx_inline __always_inline
#else
/* <linux/stddef.h>'s __always_inline lacks the attribute: use our own. */
#define __sfr_fx_inline inline __attribute__((__always_inline__))
#endif

/* Largest number of decimal places. */
#define SFR_FX_SCALE_MAX 18

/* Per-line results of sfr_fx_step(); SFR_FX_MORE (0): line not ended. */
enum {
	SFR_FX_MORE = 0,
	SFR_FX_EMPTY = 1,
	SFR_FX_VALUE = 2,
	SFR_FX_INVALID = 3,
	SFR_FX_RANGE = 4,
};

/* Parser states (struct sfr_fx_parse.state). */
enum {
	SFR_FX_S_PRE = 0,	/* blanks before the field's content */
	SFR_FX_S_SIGN = 1,	/* after '+' or '-' */
	SFR_FX_S_INT = 2,	/* in the integer digits */
	SFR_FX_S_DOT = 3,	/* after a '.' with no digit before it */
	SFR_FX_S_FRAC = 4,	/* after '.', at least one digit seen */
	SFR_FX_S_POST = 5,	/* blanks after the number */
	SFR_FX_S_SKIP = 6,	/* in a field before the selected one */
	SFR_FX_S_DONE = 7,	/* number ended by a delimiter; rest ignored */
	SFR_FX_S_BAD = 8,	/* the line is invalid; rest ignored */
};

/* Parser flags (struct sfr_fx_parse.flags). */
#define SFR_FX_F_NEG	0x01	/* '-' sign */
#define SFR_FX_F_OVF	0x02	/* more than 19 significant digits */
#define SFR_FX_F_DROP	0x04	/* a fraction digit beyond scale was seen */
#define SFR_FX_F_RUP	0x08	/* round the magnitude up by one */
#define SFR_FX_F_ANY	0x10	/* the line has a byte (blanks only so far) */

/* Signed 128-bit integer: hi * 2^64 + lo, two's complement. */
struct sfr_fx_s128 {
	__u64 lo;
	__s64 hi;
};

/* What to parse. All zero: scale 0, no delimiter, whole line. */
struct sfr_fx_cfg {
	__u32 field;	/* 0-based field index ("cut -f N" is N - 1) */
	__u8 delim;	/* field delimiter; 0 or '\n': whole line is field 0 */
	__u8 scale;	/* decimal places, 0..SFR_FX_SCALE_MAX (larger: clamped) */
	__u16 __pad;
};

/* The line in progress. All zero: start of a line. */
struct sfr_fx_parse {
	__u64 mant;	/* magnitude of the digits kept, unscaled */
	__u32 field;	/* index of the current field (<= cfg.field) */
	__u8 state;	/* SFR_FX_S_* */
	__u8 flags;	/* SFR_FX_F_* */
	__u8 nsig;	/* significant digits in mant, 0..19 */
	__u8 nfrac;	/* fraction digits in mant, 0..scale */
};

/* Reduce state of a window (or a whole file). All zero: empty. */
struct sfr_fx_state {
	struct sfr_fx_s128 sum;	/* sum of the values, scaled */
	__s64 min;		/* smallest value; only if count > 0 */
	__s64 max;		/* largest value; only if count > 0 */
	__u64 count;		/* number of values */
	__u64 invalid;		/* invalid and out-of-range lines */
	__u64 lines;		/* lines ended (LF, or the final line) */
	__u64 first_invalid;	/* 1-based line of the first invalid; 0: none */
	__u32 first_err;	/* SFR_FX_INVALID or SFR_FX_RANGE, for that line */
	__u32 __pad;
	struct sfr_fx_parse p;	/* line in progress */
};

#ifdef __KERNEL__
#include <linux/build_bug.h>

static_assert(sizeof(struct sfr_fx_parse) == 16);
static_assert(sizeof(struct sfr_fx_state) == 88);
#else
_Static_assert(sizeof(struct sfr_fx_parse) == 16, "sfr_fx_parse layout");
_Static_assert(sizeof(struct sfr_fx_state) == 88, "sfr_fx_state layout");
#endif

/* 10^k for k <= 19, without a table, a loop or a division. */
static __sfr_fx_inline __u64 sfr_fx_pow10(__u32 k)
{
	__u64 p = 1;

	if (k & 1)
		p *= 10;
	if (k & 2)
		p *= 100;
	if (k & 4)
		p *= 10000;
	if (k & 8)
		p *= 100000000ULL;
	if (k & 16)
		p *= 10000000000000000ULL;
	return p;
}

static __sfr_fx_inline __u32 sfr_fx__scale(const struct sfr_fx_cfg *cfg)
{
	return cfg->scale < SFR_FX_SCALE_MAX ? cfg->scale : SFR_FX_SCALE_MAX;
}

/* Take digit @d of a number; p->state is already INT or FRAC. */
static __sfr_fx_inline void sfr_fx__digit(struct sfr_fx_parse *p,
					  const struct sfr_fx_cfg *cfg, __u32 d)
{
	if (p->state == SFR_FX_S_FRAC) {
		if (p->nfrac >= sfr_fx__scale(cfg)) {
			/* Beyond scale: the first dropped digit rounds. */
			if (!(p->flags & SFR_FX_F_DROP))
				p->flags |= SFR_FX_F_DROP |
					    (d >= 5 ? SFR_FX_F_RUP : 0);
			return;
		}
		p->nfrac++;
	}
	/* mant < 10^19 < 2^64 always; a 20th digit is out of range. */
	if (p->nsig >= 19) {
		p->flags |= SFR_FX_F_OVF;
		return;
	}
	p->mant = p->mant * 10 + d;
	if (p->mant)
		p->nsig++;
}

/* The scaled value of a complete number: SFR_FX_VALUE or SFR_FX_RANGE. */
static __sfr_fx_inline int sfr_fx__value(const struct sfr_fx_parse *p,
					 const struct sfr_fx_cfg *cfg,
					 __s64 *val)
{
	__u32 k = sfr_fx__scale(cfg) - p->nfrac;
	__u64 u, lim;

	if (p->flags & SFR_FX_F_OVF)
		return SFR_FX_RANGE;
	/* nsig + k digits: up to 19 fit in a __u64 (< 10^19 < 2^64). */
	if (p->nsig + k > 19)
		return SFR_FX_RANGE;
	u = p->mant * sfr_fx_pow10(k) + ((p->flags & SFR_FX_F_RUP) ? 1 : 0);
	lim = 0x7fffffffffffffffULL + ((p->flags & SFR_FX_F_NEG) ? 1 : 0);
	if (u > lim)
		return SFR_FX_RANGE;
	*val = (p->flags & SFR_FX_F_NEG) ? (__s64)(0 - u) : (__s64)u;
	return SFR_FX_VALUE;
}

/* End of line: the line's result, and the parser reset for the next. */
static __sfr_fx_inline int sfr_fx_eol(struct sfr_fx_parse *p,
				      const struct sfr_fx_cfg *cfg, __s64 *val)
{
	__u32 s = p->state;
	int r;

	if (s == SFR_FX_S_PRE && p->field == 0)
		r = SFR_FX_EMPTY;
	else if (s == SFR_FX_S_INT || s == SFR_FX_S_FRAC ||
		 s == SFR_FX_S_POST || s == SFR_FX_S_DONE)
		r = sfr_fx__value(p, cfg, val);
	else
		r = SFR_FX_INVALID;
	p->mant = 0;
	p->field = 0;
	p->state = SFR_FX_S_PRE;
	p->flags = 0;
	p->nsig = 0;
	p->nfrac = 0;
	return r;
}

/* True if the parser holds part of a line (bytes after the last LF). */
static __sfr_fx_inline int sfr_fx_pending(const struct sfr_fx_parse *p)
{
	return p->state != SFR_FX_S_PRE || p->field != 0 ||
	       (p->flags & SFR_FX_F_ANY);
}

/*
 * Parse byte @c. Returns SFR_FX_MORE (0) inside a line; at LF the line's
 * result (SFR_FX_EMPTY, SFR_FX_VALUE with *@val set, SFR_FX_INVALID or
 * SFR_FX_RANGE) and @p is ready for the next line.
 */
static __sfr_fx_inline int sfr_fx_step(struct sfr_fx_parse *p,
				       const struct sfr_fx_cfg *cfg, __u8 c,
				       __s64 *val)
{
	__u32 d = (__u32)c - '0';
	__u32 s = p->state;

	/* Hot path: a digit inside a number. */
	if (d < 10 && (s == SFR_FX_S_INT || s == SFR_FX_S_FRAC)) {
		sfr_fx__digit(p, cfg, d);
		return SFR_FX_MORE;
	}
	if (c == '\n')
		return sfr_fx_eol(p, cfg, val);
	if (s >= SFR_FX_S_SKIP) {
		/* Not in the selected field: only delimiters matter. */
		if (s == SFR_FX_S_SKIP && c == cfg->delim && cfg->delim) {
			p->field++;
			if (p->field == cfg->field)
				p->state = SFR_FX_S_PRE;
		}
		return SFR_FX_MORE;
	}
	if (c == cfg->delim && cfg->delim) {
		if (p->field != cfg->field) {
			/* An empty field before the selected one. */
			p->field++;
			p->state = p->field == cfg->field ? SFR_FX_S_PRE :
							    SFR_FX_S_SKIP;
		} else if (s == SFR_FX_S_INT || s == SFR_FX_S_FRAC ||
			   s == SFR_FX_S_POST) {
			p->state = SFR_FX_S_DONE;
		} else {
			p->state = SFR_FX_S_BAD;
		}
		return SFR_FX_MORE;
	}
	if (c == ' ' || c == '\t' || c == '\r') {
		if (s == SFR_FX_S_PRE)
			p->flags |= SFR_FX_F_ANY;
		else if (s == SFR_FX_S_INT || s == SFR_FX_S_FRAC)
			p->state = SFR_FX_S_POST;
		else if (s != SFR_FX_S_POST)
			p->state = SFR_FX_S_BAD;
		return SFR_FX_MORE;
	}
	if (s == SFR_FX_S_PRE && p->field != cfg->field) {
		/* Content of a field before the selected one. */
		p->state = SFR_FX_S_SKIP;
		return SFR_FX_MORE;
	}
	if (d < 10) {
		if (s == SFR_FX_S_PRE || s == SFR_FX_S_SIGN) {
			p->state = SFR_FX_S_INT;
		} else if (s == SFR_FX_S_DOT) {
			p->state = SFR_FX_S_FRAC;
		} else {
			p->state = SFR_FX_S_BAD;
			return SFR_FX_MORE;
		}
		sfr_fx__digit(p, cfg, d);
		return SFR_FX_MORE;
	}
	if (c == '.') {
		if (s == SFR_FX_S_INT)
			p->state = SFR_FX_S_FRAC;
		else if (s == SFR_FX_S_PRE || s == SFR_FX_S_SIGN)
			p->state = SFR_FX_S_DOT;
		else
			p->state = SFR_FX_S_BAD;
		return SFR_FX_MORE;
	}
	if ((c == '-' || c == '+') && s == SFR_FX_S_PRE) {
		p->state = SFR_FX_S_SIGN;
		if (c == '-')
			p->flags |= SFR_FX_F_NEG;
		return SFR_FX_MORE;
	}
	p->state = SFR_FX_S_BAD;
	return SFR_FX_MORE;
}

/* 128-bit arithmetic, portable to BPF (no 128-bit multiply or divide). */

static __sfr_fx_inline struct sfr_fx_s128 sfr_fx_s128_from_s64(__s64 v)
{
	struct sfr_fx_s128 r = { .lo = (__u64)v, .hi = v < 0 ? -1 : 0 };

	return r;
}

/* *@a += @v, with carry; exact while the sum stays within +-2^127. */
static __sfr_fx_inline void sfr_fx_s128_add_s64(struct sfr_fx_s128 *a,
						__s64 v)
{
	__u64 lo = a->lo + (__u64)v;
	__u64 hi = (__u64)a->hi + (lo < a->lo ? 1 : 0) +
		   (v < 0 ? ~0ULL : 0);

	a->lo = lo;
	a->hi = (__s64)hi;
}

/* *@a += *@b. */
static __sfr_fx_inline void sfr_fx_s128_add(struct sfr_fx_s128 *a,
					    const struct sfr_fx_s128 *b)
{
	__u64 lo = a->lo + b->lo;
	__u64 hi = (__u64)a->hi + (__u64)b->hi + (lo < a->lo ? 1 : 0);

	a->lo = lo;
	a->hi = (__s64)hi;
}

/* -1, 0 or 1 as *@a is less than, equal to or greater than *@b. */
static __sfr_fx_inline int sfr_fx_s128_cmp(const struct sfr_fx_s128 *a,
					   const struct sfr_fx_s128 *b)
{
	if (a->hi != b->hi)
		return a->hi < b->hi ? -1 : 1;
	if (a->lo != b->lo)
		return a->lo < b->lo ? -1 : 1;
	return 0;
}

/* Reduce. */

/* Account one line result @r (with value @v if SFR_FX_VALUE) in @st. */
static __sfr_fx_inline void sfr_fx_account(struct sfr_fx_state *st, int r,
					   __s64 v)
{
	if (r == SFR_FX_MORE)
		return;
	st->lines++;
	if (r == SFR_FX_VALUE) {
		sfr_fx_s128_add_s64(&st->sum, v);
		if (!st->count || v < st->min)
			st->min = v;
		if (!st->count || v > st->max)
			st->max = v;
		st->count++;
	} else if (r != SFR_FX_EMPTY) {
		if (!st->invalid) {
			st->first_invalid = st->lines;
			st->first_err = (__u32)r;
		}
		st->invalid++;
	}
}

/* Feed byte @c of the input to @st. */
static __sfr_fx_inline void sfr_fx_feed(struct sfr_fx_state *st,
					const struct sfr_fx_cfg *cfg, __u8 c)
{
	__s64 v = 0;
	int r = sfr_fx_step(&st->p, cfg, c, &v);

	if (r != SFR_FX_MORE)
		sfr_fx_account(st, r, v);
}

/* End of input: account a final line that has no LF. */
static __sfr_fx_inline void sfr_fx_finish(struct sfr_fx_state *st,
					  const struct sfr_fx_cfg *cfg)
{
	__s64 v = 0;
	int r;

	if (!sfr_fx_pending(&st->p))
		return;
	r = sfr_fx_eol(&st->p, cfg, &v);
	sfr_fx_account(st, r, v);
}

/*
 * *@a = @a followed by @b (the state of the next window): sums, counts,
 * min/max; line numbers of @b are offset by @a's lines. Associative, with
 * the zero state as identity. @a must end at a line boundary (its parser
 * idle); the result takes @b's parser.
 */
static __sfr_fx_inline void sfr_fx_combine(struct sfr_fx_state *a,
					   const struct sfr_fx_state *b)
{
	if (!a->invalid && b->invalid) {
		a->first_invalid = a->lines + b->first_invalid;
		a->first_err = b->first_err;
	}
	if (b->count) {
		if (!a->count || b->min < a->min)
			a->min = b->min;
		if (!a->count || b->max > a->max)
			a->max = b->max;
	}
	sfr_fx_s128_add(&a->sum, &b->sum);
	a->count += b->count;
	a->invalid += b->invalid;
	a->lines += b->lines;
	a->p = b->p;
}

#if !defined(__bpf__) && !defined(__KERNEL__)
/*
 * User space only: one-shot parsing, exact division and formatting. These
 * use __int128 and libc; they return a negative errno and set errno. (The
 * kernel installs this file as <linux/sfr_fixed.h> for its scan
 * primitives, which need only the streaming parser above.)
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>

__extension__ typedef __int128 sfr_fx_i128;
__extension__ typedef unsigned __int128 sfr_fx_u128;

static inline sfr_fx_i128 sfr_fx_s128_get(struct sfr_fx_s128 v)
{
	return (sfr_fx_i128)(((sfr_fx_u128)(__u64)v.hi << 64) | v.lo);
}

static inline struct sfr_fx_s128 sfr_fx_s128_set(sfr_fx_i128 v)
{
	struct sfr_fx_s128 r = {
		.lo = (__u64)v,
		.hi = (__s64)(__u64)((sfr_fx_u128)v >> 64),
	};

	return r;
}

static inline int sfr_fx__err(int err)
{
	errno = err;
	return -err;
}

/*
 * Feed @len bytes at @buf to @st (sfr_fx_feed() in a loop). The state is
 * worked on in a local copy: the bytes are read through a char pointer,
 * which may alias *@st, and would force a store and reload per byte.
 */
static inline void sfr_fx_feed_buf(struct sfr_fx_state *st,
				   const struct sfr_fx_cfg *cfg,
				   const void *buf, size_t len)
{
	struct sfr_fx_state s = *st;
	struct sfr_fx_cfg c = *cfg;
	const __u8 *b = buf;
	size_t i;

	for (i = 0; i < len; i++)
		sfr_fx_feed(&s, &c, b[i]);
	*st = s;
}

/*
 * Parse the @len bytes at @s as one number (no LF inside; surrounding
 * blanks allowed) with @scale decimal places into *@out.
 * Return: 0; -EINVAL if it is not a number (including empty or blank) or
 * @scale > SFR_FX_SCALE_MAX; -ERANGE if the scaled value does not fit.
 */
static inline int sfr_fx_parse_buf(const char *s, size_t len,
				   unsigned int scale, __s64 *out)
{
	struct sfr_fx_cfg cfg = { .scale = (__u8)scale };
	struct sfr_fx_parse p = { 0 };
	__s64 v = 0;
	size_t i;
	int r;

	if (scale > SFR_FX_SCALE_MAX)
		return sfr_fx__err(EINVAL);
	for (i = 0; i < len; i++)
		if (sfr_fx_step(&p, &cfg, (__u8)s[i], &v) != SFR_FX_MORE)
			return sfr_fx__err(EINVAL);
	r = sfr_fx_eol(&p, &cfg, &v);
	if (r == SFR_FX_RANGE)
		return sfr_fx__err(ERANGE);
	if (r != SFR_FX_VALUE)
		return sfr_fx__err(EINVAL);
	*out = v;
	return 0;
}

/* sfr_fx_parse_buf() of the NUL-terminated string @s. */
static inline int sfr_fx_parse_str(const char *s, unsigned int scale,
				   __s64 *out)
{
	return sfr_fx_parse_buf(s, strlen(s), scale, out);
}

/*
 * *@q = @sum / @count, where @sum has @in_scale decimals and *@q gets
 * @out_scale decimals, exactly, rounded half away from zero (-2.5 -> -3;
 * a result that rounds to zero is 0, never negative).
 * Return: 0; -EINVAL if @count is 0 or a scale > SFR_FX_SCALE_MAX;
 * -ERANGE if the result does not fit in 128 bits.
 */
static inline int sfr_fx_div(struct sfr_fx_s128 sum, __u64 count,
			     unsigned int in_scale, unsigned int out_scale,
			     struct sfr_fx_s128 *q)
{
	sfr_fx_i128 x = sfr_fx_s128_get(sum);
	int neg = x < 0;
	sfr_fx_u128 m = neg ? -(sfr_fx_u128)x : (sfr_fx_u128)x;
	sfr_fx_u128 lim = ((sfr_fx_u128)1 << 127) - (neg ? 0 : 1);
	sfr_fx_u128 d, quo, r, digit;
	unsigned int i;

	if (!count || in_scale > SFR_FX_SCALE_MAX ||
	    out_scale > SFR_FX_SCALE_MAX)
		return sfr_fx__err(EINVAL);
	/* d < 2^64 * 10^18 < 2^124, so r * 10 < 2^128 below. */
	d = (sfr_fx_u128)count * sfr_fx_pow10(in_scale);
	quo = m / d;
	r = m % d;
	for (i = 0; i < out_scale; i++) {
		r *= 10;
		digit = r / d;
		r %= d;
		if (quo > (lim - digit) / 10)
			return sfr_fx__err(ERANGE);
		quo = quo * 10 + digit;
	}
	if (r >= d - r) {		/* remainder >= half: away from zero */
		if (quo == lim)
			return sfr_fx__err(ERANGE);
		quo++;
	}
	*q = sfr_fx_s128_set((sfr_fx_i128)(neg ? -quo : quo));
	return 0;
}

/*
 * Format @v, scaled by 10^@scale (<= 38), as a decimal with exactly @scale
 * fraction digits ("-0.05", "12.300", "-9223372036854775808"); a '-' only
 * if @v < 0. Like snprintf(): writes at most @size bytes including the
 * NUL, returns the length of the whole string; -EINVAL for a bad @scale.
 */
static inline int sfr_fx_format128(char *buf, size_t size,
				   struct sfr_fx_s128 v, unsigned int scale)
{
	char tmp[48];
	sfr_fx_i128 x = sfr_fx_s128_get(v);
	sfr_fx_u128 m = x < 0 ? -(sfr_fx_u128)x : (sfr_fx_u128)x;
	unsigned int n = 0, len = 0;

	if (scale > 38)
		return sfr_fx__err(EINVAL);
	/* Digits, least significant first; at least scale + 1 of them. */
	do {
		tmp[n++] = (char)('0' + (int)(m % 10));
		m /= 10;
	} while (m || n <= scale);

#define SFR_FX__PUT(ch)					\
	do {						\
		char ___ch = (ch);			\
							\
		if (len + 1 < size)			\
			buf[len] = ___ch;		\
		len++;					\
	} while (0)
	if (x < 0)
		SFR_FX__PUT('-');
	while (n > scale)
		SFR_FX__PUT(tmp[--n]);
	if (scale)
		SFR_FX__PUT('.');
	while (n)
		SFR_FX__PUT(tmp[--n]);
#undef SFR_FX__PUT
	if (size)
		buf[len < size ? len : size - 1] = '\0';
	return (int)len;
}

/* sfr_fx_format128() of a 64-bit @v. */
static inline int sfr_fx_format(char *buf, size_t size, __s64 v,
				unsigned int scale)
{
	return sfr_fx_format128(buf, size, sfr_fx_s128_from_s64(v), scale);
}
#endif /* !__bpf__ && !__KERNEL__ */
#endif /* __SFR_FIXED_H */
