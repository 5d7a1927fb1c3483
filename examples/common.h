/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Plumbing shared by the sfr example CLIs (sfr-grep, sfr-avg): messages,
 * number parsing, timing and --stats, the offload-or-user-space decision
 * with its notices, opening input files with grep-style errors, user-space
 * reads that count the bytes copied, and progress on a terminal.
 *
 * Messages go to stderr as "PROG: ..." (PROG set by cli_init()); nothing
 * here writes to stdout.
 */
#ifndef __SFR_EXAMPLES_COMMON_H
#define __SFR_EXAMPLES_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <linux/types.h>

#include "sfr.h"

/* Set the program name used in messages; call first. */
void cli_init(const char *prog);
const char *cli_prog(void);

__attribute__((format(printf, 1, 2)))
void cli_error(const char *fmt, ...);	/* "PROG: <msg>\n" to stderr */
__attribute__((format(printf, 1, 2)))
void cli_notice(const char *fmt, ...);	/* same; for fallbacks and such */
__attribute__((format(printf, 1, 2)))
void cli_debug(const char *fmt, ...);	/* only with cli_set_debug(true) */

/*
 * --debug: print cli_debug() messages and libsfr's and libbpf's log to
 * stderr. Without it libsfr prints nothing and libbpf only warnings the
 * caller asked for (none: the CLIs report failures themselves).
 */
void cli_set_debug(bool on);
bool cli_debug_on(void);

/*
 * Parse an unsigned decimal number (strtoull with errno and end checks)
 * in [min, max]. On failure print "PROG: invalid NAME 'ARG' (...)" and
 * return -1; 0 on success.
 */
int cli_parse_u64(const char *name, const char *arg, __u64 min, __u64 max,
		  __u64 *out);
/* Like cli_parse_u64() for an unsigned int. */
int cli_parse_uint(const char *name, const char *arg, unsigned int min,
		   unsigned int max, unsigned int *out);
/* A byte count with an optional K, M or G suffix (powers of 1024). */
int cli_parse_size(const char *name, const char *arg, __u64 min, __u64 max,
		   __u64 *out);

/* Seconds on the monotonic clock. */
double cli_now(void);

/* How an input was processed. */
enum cli_method {
	CLI_METHOD_NONE = 0,
	CLI_METHOD_SFR = 1,	/* the BPF program ran in the kernel */
	CLI_METHOD_USER = 2,	/* read() and user-space code */
};

/* What --stats reports: totals over all inputs of a run. */
struct cli_stats {
	__u64 scanned;		/* input bytes the answer was computed over */
	__u64 copied;		/* bytes read() returned to user space */
	__u64 emitted;		/* of those, bytes the BPF program emitted */
	unsigned int files_sfr, files_user;
	unsigned int windows;	/* windows per file asked for (sfr) */
	bool uring;		/* --io-uring: issued through one io_uring */
	unsigned int user_threads; /* most threads a user-space scan used */
	unsigned int files_small; /* of files_user: below --offload-min */
	double load_secs;	/* loading (and verifying) the BPF program */
	double start;		/* cli_now() at start */
};

void cli_stats_init(struct cli_stats *s);
/* Add the kernel's counters of @link (bytes scanned and emitted). */
void cli_stats_add_link(struct cli_stats *s, const struct sfr_link *link);
/* Count one input as processed by @m. */
void cli_stats_method(struct cli_stats *s, enum cli_method m);
/* Print the --stats block to stderr. */
void cli_stats_print(const struct cli_stats *s);

/* --no-offload, or let the CLI decide. */
enum cli_mode {
	CLI_MODE_AUTO = 0,	/* sfr where possible, else user space */
	CLI_MODE_USER = 1,	/* --no-offload */
};

/*
 * Whether the kernel runs sfr programs: sfr_probe() once per run. When it
 * does not, prints once "PROG: <why>: computing in user space" (the notice
 * of the automatic fallback) and returns false.
 */
bool cli_sfr_available(void);

/*
 * --offload-min: regular files smaller than this are computed in user
 * space, where loading and verifying the BPF program would cost more than
 * it saves. cli_offload_min_init() takes the option's argument, or NULL for
 * the default: $SFR_OFFLOAD_MIN if set, else @dflt. Returns 0, or -1 after
 * a message.
 */
int cli_offload_min_init(const char *arg, __u64 dflt);
__u64 cli_offload_min(void);

/*
 * Whether to run the input @path (stat @st) through the BPF program: not
 * with --no-offload, not for standard input or other non-regular files,
 * not for files below --offload-min, not on a kernel without sfr. @load(@arg) loads the program if it is not yet
 * loaded and returns 0 or a negative errno. Once the probe or the load has
 * failed (with a notice), every later input is computed in user space.
 */
bool cli_want_sfr(enum cli_mode mode, const struct stat *st, const char *path,
		  int (*load)(const void *arg), const void *arg,
		  struct cli_stats *stats);

/*
 * Say why @file falls back to user space after sfr_attach() or loading
 * the program failed with @err (positive errno): one line on stderr.
 */
void cli_fallback_notice(const char *file, int err);

/* The name used in messages and output for @path ("-": standard input). */
const char *cli_input_name(const char *path);

/*
 * Open @path for reading ("-" is standard input, returned as is) and stat
 * it. On failure prints "PROG: NAME: reason" (directories give "Is a
 * directory", as grep says) and returns -1 with errno set to the reason.
 */
int cli_open_input(const char *path, struct stat *st);
/* Close what cli_open_input() returned (standard input stays open). */
void cli_close_input(int fd);

/*
 * read(2) until @len bytes, end of file or an error, retrying EINTR.
 * Adds what it read to s->copied. Returns the bytes read, or -errno.
 */
ssize_t cli_read(int fd, void *buf, size_t len, struct cli_stats *s);
/*
 * The same without the count: read(2) when @off < 0, else pread(2) at
 * @off (the file position does not move).
 */
ssize_t cli_read_full(int fd, void *buf, size_t len, off_t off);

/*
 * Progress of long work on stderr, only when stderr is a terminal (and,
 * unless @allow_tty_stdout, standard output is not the same terminal):
 * "PROG: NAME 42%" rewritten in place at most 4 times a second, shown
 * after the first second, and erased by cli_progress_end().
 */
struct cli_progress {
	bool on, shown;
	const char *name;
	double start, last;
};

void cli_progress_begin(struct cli_progress *p, const char *name,
			bool allow_tty_stdout);
void cli_progress_update(struct cli_progress *p, __u64 done, __u64 total);
void cli_progress_end(struct cli_progress *p);

#endif
