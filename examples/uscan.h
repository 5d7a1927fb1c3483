/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The user-space side of -j N: read a regular file with N threads
 * (pread()), reduce each segment of lines on its own, and hand the
 * results to the caller in file order, one at a time. It is what
 * libsfr's sfr_scan() does for the windows of a BPF program, done in user
 * space, so that --no-offload -j N is the best user-space version of the
 * same work, and the fair baseline for sfr -j N.
 *
 * The file is cut into segments of USCAN_SEG bytes; segment [s, e) holds
 * the lines that start in it: it begins after the first newline at or
 * after offset s - 1 (at 0 for the first segment) and ends after the
 * first newline at or after e - 1, or at end of file. So every line is in
 * exactly one segment, and a line longer than a segment is read whole by
 * the segment it starts in.
 */
#ifndef __SFR_EXAMPLES_USCAN_H
#define __SFR_EXAMPLES_USCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#include "common.h"

#define USCAN_SEG	(4U << 20)	/* bytes per segment */
#define USCAN_THREADS_MAX 64

struct uscan_ops {
	/*
	 * Reduce the whole lines in @buf[0, @len) into @res (res_size bytes,
	 * zeroed). @nolf: the file ends here inside a line (its last line
	 * has no newline); buf[len] may then be written (there is room for
	 * one byte). Runs in the worker threads, several at once. Returns
	 * 0 or a negative errno.
	 */
	int (*reduce)(void *ctx, void *res, char *buf, size_t len, bool nolf);
	/*
	 * Fold @res into the answer, in file order, one call at a time.
	 * Returns 0, 1 to stop the scan (the answer is complete), or a
	 * negative errno.
	 */
	int (*deliver)(void *ctx, void *res);
	/* Release what @res holds (delivered or not); may be NULL. */
	void (*release)(void *ctx, void *res);
};

/*
 * Scan @fd (a regular file of @size bytes when the scan starts) from
 * offset 0 to end of file with @threads threads (1..USCAN_THREADS_MAX).
 * Counts the bytes read in @stats (copied and scanned) and shows
 * @progress. The last segment goes on to end of file, also past @size.
 * Returns 0 (also when deliver() stopped it; errors in segments after
 * that are not reported) or a negative errno (of a read, of reduce() or
 * of deliver(); nothing after the failed segment is delivered; -EFBIG for
 * a file of 16 PiB or more).
 */
/*
 * Whether uscan() can take @fd (stat @st) with @threads: more than one
 * thread, a regular file, read from its start (not standard input part
 * way through, nor the rest after a failed sfr scan).
 */
bool uscan_fits(int fd, const struct stat *st, unsigned int threads);

int uscan(int fd, __u64 size, unsigned int threads, size_t res_size,
	  const struct uscan_ops *ops, void *ctx, struct cli_stats *stats,
	  struct cli_progress *progress);

#endif
