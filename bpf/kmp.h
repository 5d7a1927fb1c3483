/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * User-space side of the fixed-string BPF filters (grep.bpf.c,
 * fgrep.bpf.c): build the KMP automaton they walk one byte at a time.
 */
#ifndef __SFR_KMP_H
#define __SFR_KMP_H

#include <linux/types.h>

/*
 * Fill next[0..m][256] for the pattern @pat of @m bytes (m <= 255): from
 * state s (s bytes of @pat matched) byte c leads to next[s][c]; state m
 * means the pattern was seen.
 */
static inline void sfr_kmp_build(__u8 (*next)[256], const char *pat,
				 unsigned int m)
{
	unsigned int fail[256] = { 0 }, s, c, k = 0;

	for (s = 1; s < m; s++) {
		while (k && pat[s] != pat[k])
			k = fail[k - 1];
		if (pat[s] == pat[k])
			k++;
		fail[s] = k;
	}
	for (s = 0; s <= m; s++) {
		for (c = 0; c < 256; c++) {
			if (s < m && (unsigned char)pat[s] == c)
				next[s][c] = s + 1;
			else if (s == 0)
				next[s][c] = 0;
			else
				next[s][c] = next[fail[s - 1]][c];
		}
	}
}

#endif
