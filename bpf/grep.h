/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
#ifndef __SFR_GREP_H
#define __SFR_GREP_H

#define GREP_PAT_MAX 63

/* Matching automaton of the fixed string (built in user space). */
struct grep_dfa {
	__u8 next[GREP_PAT_MAX + 1][256];
};

/* Scratch state of grep.bpf.c. */
struct grep_state {
	__u64 line_start;	/* file offset of the current line */
	__u64 nmatch;		/* matching lines emitted */
	__u32 state;		/* automaton state */
	__u32 matched;		/* current line matched */
};

#endif
