/* SPDX-License-Identifier: GPL-2.0 */
/* Shared by sfr_kfunc.bpf.c and sfr_kfunc.c: what the program emits. */
#ifndef __SFR_KFUNC_H
#define __SFR_KFUNC_H

#define KF_NEEDLE_MAX	255
#define KF_MATCH_MAX	64	/* a power of two */
#define KF_CHUNK_MAX	(32 * 1024)	/* the kernel's SFR_CHUNK_MAX */

/* One per chunk, as the record at the chunk's file offset. */
struct kf_rec {
	__u64 pos;		/* chunk's file offset */
	__u32 len;		/* chunk's length */
	__u32 nmatch;		/* occurrences of needle in the chunk */
	__s64 first_nl;		/* find_byte(0, '\n') */
	__s64 first_nl_hi;	/* find_byte(0, 0x100 | '\n') */
	__s64 from_third;	/* find_byte(len / 3, 'a') */
	__s64 last_nl;		/* rfind_byte(0, len, '\n') */
	__s64 last_nl_half;	/* rfind_byte(0, len / 2, '\n') */
	__s64 count_nl;		/* count_byte(0, len, '\n') */
	__s64 count_a_mid;	/* count_byte(len / 3, 2 * len / 3, 'a') */
	__s64 needle2_at;	/* find_str(0, len, needle2) */
	__s64 bad[9];		/* the argument checks, see the program */
	__s64 fold_err;		/* the two folds' return values, or-ed */
	__s64 match[KF_MATCH_MAX];	/* first occurrences of needle */
};

#endif
