/* SPDX-License-Identifier: GPL-2.0 */
/*
 * sfr_scan.h - native scan primitives behind the sfr kfuncs
 *
 * Every primitive reads [p, p + len) and nothing else (no load crosses
 * either end, not even within the same page), never writes to it, and
 * may be called from any context in which the caller may read the bytes
 * (no sleeping, no allocation). Lengths are size_t; a result that is an
 * offset is len when nothing is found.
 *
 * The functions without a suffix pick the fastest variant: on x86-64 with
 * AVX2, when irq_fpu_usable() and the range is long enough, the vector
 * code inside kernel_fpu_begin()/kernel_fpu_end() sections of at most
 * SFR_SCAN_FPU_BYTES each; otherwise the portable word-at-a-time code.
 * The _generic and _avx2 variants are there for tests and benchmarks;
 * an _avx2 variant may only be called on a CPU with AVX2 and falls back
 * to the generic code when !irq_fpu_usable().
 */
#ifndef _LINUX_SFR_SCAN_H
#define _LINUX_SFR_SCAN_H

#include <linux/sfr_fixed.h>
#include <linux/types.h>

/* Longest needle of the fixed-string search. */
#define SFR_SCAN_STR_MAX	255

/* Most bytes scanned in one kernel FPU section. */
#define SFR_SCAN_FPU_BYTES	(16 * 1024)

/*
 * A prepared needle: sfr_scan_str_init() fills it in; it holds no pointer,
 * so it may live in a BPF map value or be copied. rare[] are the offsets of
 * the two bytes the filter looks for first (the same offset twice only for
 * a needle of one byte); crit, period and periodic are the critical
 * factorisation of the Two-Way algorithm, which takes over when the filter
 * finds too many false candidates.
 */
struct sfr_scan_str {
	u8 len;			/* 0..SFR_SCAN_STR_MAX */
	u8 rare[2];
	u8 crit;		/* critical position, 0..len - 1 */
	u8 period;		/* a period of the needle (see periodic) */
	u8 periodic;		/* 1: period is the needle's period */
	u8 has_nl;		/* the needle holds a '\n' (never in a line) */
	u8 __pad;
	u8 s[SFR_SCAN_STR_MAX];
};

/* Offset of the first @c in [p, p + len), or len. */
size_t sfr_scan_find_byte(const u8 *p, size_t len, u8 c);

/*
 * Offset of the last @c in [p, p + len), or len. Word-at-a-time only: it
 * is meant for short backward steps (the start of a line found by
 * sfr_scan_find_str()), not for long scans.
 */
size_t sfr_scan_rfind_byte(const u8 *p, size_t len, u8 c);

/* Number of bytes equal to @c in [p, p + len). */
size_t sfr_scan_count_byte(const u8 *p, size_t len, u8 c);

/*
 * Prepare @s for the @nlen bytes at @needle. Return: 0, or -EINVAL if
 * @nlen > SFR_SCAN_STR_MAX.
 */
int sfr_scan_str_init(struct sfr_scan_str *s, const u8 *needle, size_t nlen);

/*
 * Offset of the first occurrence of @s in [p, p + len) (the whole needle
 * inside the range), or len; an empty needle is found at 0. A two-byte
 * filter (the needle's two rarest bytes, by a fixed guess of byte
 * frequencies) finds candidates, which are verified; the verifications
 * have a budget (a word comparison per 4 bytes scanned, plus 8), past which
 * Two-Way does the rest: linear time in the worst case.
 */
size_t sfr_scan_find_str(const u8 *p, size_t len, const struct sfr_scan_str *s);

/*
 * grep -c over the complete lines of [p, p + len), i.e. up to and
 * including the last '\n' in the range: adds to *@hits the number of
 * those lines that contain @s (every line if @s is empty, none if @s
 * holds a '\n'), and to *@lines, if @lines is not NULL, their number.
 * Return: the bytes those lines take (0 if the range has no '\n'); the
 * rest is a partial line for the caller to carry to the next range.
 */
size_t sfr_scan_str_lines(const u8 *p, size_t len, const struct sfr_scan_str *s,
			  u64 *hits, u64 *lines);

/*
 * Decimal fold of complete lines: with the parser of @st idle (at a line
 * start, !sfr_fx_pending(&st->p)), accounts in @st every complete line of
 * [p, p + len), up to and including the last '\n', exactly as feeding
 * those bytes to sfr_fx_feed() would, and returns the bytes consumed;
 * 0 if the range has no '\n' or the parser of @st is not idle (nothing is
 * changed then). The caller feeds or keeps the partial line after it.
 */
size_t sfr_scan_fold_lines(const u8 *p, size_t len,
			   const struct sfr_fx_cfg *cfg, struct sfr_fx_state *st);

/*
 * Decimal fold of any range: the same as sfr_fx_feed() of every byte of
 * [p, p + len) into @st, including a line carried in the parser of @st
 * from an earlier range and the partial line left at the end, so ranges
 * can be cut anywhere. sfr_fx_finish() still ends the input.
 */
void sfr_scan_fold(const u8 *p, size_t len, const struct sfr_fx_cfg *cfg,
		   struct sfr_fx_state *st);

/* Variants (see the top of this file). */
size_t sfr_scan_find_byte_generic(const u8 *p, size_t len, u8 c);
size_t sfr_scan_count_byte_generic(const u8 *p, size_t len, u8 c);
size_t sfr_scan_find_str_generic(const u8 *p, size_t len,
				 const struct sfr_scan_str *s);
size_t sfr_scan_find_str_twoway(const u8 *p, size_t len,
				const struct sfr_scan_str *s);
size_t sfr_scan_str_lines_generic(const u8 *p, size_t len,
				  const struct sfr_scan_str *s, u64 *hits,
				  u64 *lines);
size_t sfr_scan_fold_lines_generic(const u8 *p, size_t len,
				   const struct sfr_fx_cfg *cfg,
				   struct sfr_fx_state *st);
#ifdef CONFIG_X86_64
size_t sfr_scan_find_byte_avx2(const u8 *p, size_t len, u8 c);
size_t sfr_scan_count_byte_avx2(const u8 *p, size_t len, u8 c);
size_t sfr_scan_find_str_avx2(const u8 *p, size_t len,
			      const struct sfr_scan_str *s);
size_t sfr_scan_fold_lines_avx2(const u8 *p, size_t len,
				const struct sfr_fx_cfg *cfg,
				struct sfr_fx_state *st);
#endif

#endif /* _LINUX_SFR_SCAN_H */
