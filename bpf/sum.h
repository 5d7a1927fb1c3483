/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
#ifndef __SFR_SUM_H
#define __SFR_SUM_H

/* Scratch state of sum.bpf.c, returned after each frame header. */
struct sum_state {
	__s64 sum;
	__u64 count;
	__s64 cur;	/* number in progress (record split across chunks) */
	__u32 in_num;
	__u32 neg;
};

#endif
