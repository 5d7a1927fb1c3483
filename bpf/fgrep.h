/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Shared between fgrep.bpf.c and examples/sfr-grep.c: the automaton, the
 * scratch state and the record layout of the fixed-string line filter.
 */
#ifndef __SFR_FGREP_H
#define __SFR_FGREP_H

/* Longest pattern: automaton states 0..FGREP_PAT_MAX fit in a byte. */
#define FGREP_PAT_MAX 255

/*
 * Most output one request can return: the kernel's SFR_OUT_MAX. A selected
 * line whose record (line, newline, -n header) is longer cannot be emitted;
 * the program then stops with FGREP_ERR_LONG.
 */
#define FGREP_OUT_MAX (4U << 20)

/* KMP automaton of the pattern, built in user space: next[state][byte]. */
struct fgrep_dfa {
	__u8 next[FGREP_PAT_MAX + 1][256];
};

/* With -n (line_numbers) every emitted line is preceded by this header. */
struct fgrep_rec {
	__u64 line;		/* 0-based line number within the frame */
};

/* fgrep_state.err: why the frame ended before its end of input. */
enum fgrep_err {
	FGREP_OK = 0,
	FGREP_ERR_LONG = 1,	/* selected line at line_start is too long */
	FGREP_ERR_FINI = 2,	/* the last line did not fit the output */
	FGREP_ERR_INTERNAL = 3,	/* an emit failed unexpectedly */
};

/*
 * Scratch state of one request (one frame). Each frame starts at a line
 * boundary with this zeroed, so the frames of a file can be handled one by
 * one in file order.
 */
struct fgrep_state {
	/*
	 * File offset of the current line. When the frame is done: where
	 * the next frame of the file starts (the end of this one), or with
	 * err set, the first line this frame did not handle.
	 */
	__u64 line_start;
	__u64 nlines;		/* lines that ended in this frame */
	__u64 nsel;		/* lines selected (emitted, or counted) */
	/*
	 * Automaton state at the end of the chunk, of a line that goes on
	 * in the next one: only a match across the chunk boundary needs it.
	 */
	__u32 dfa;
	__u32 matched;		/* the current line contains the pattern */
	__u32 err;		/* enum fgrep_err */
	__u32 stop;		/* max_count reached: the frame stopped early */
	/*
	 * The program's cursor within a chunk. Kept here rather than in
	 * registers so that the verifier sees unknown values at the top of
	 * the loop, and its states converge.
	 */
	__s64 i;	/* next byte to look at */
};

#endif
