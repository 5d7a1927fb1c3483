/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Partial results of sfr-avg and sfr-grep: the wire format of
 * "sfr-avg --partial", "sfr-grep [-c] --partial" and their "--merge".
 *
 * A blob is the answer for one shard of an input (a record-aligned piece:
 * every shard but the last ends with LF) in the form the merge folds: the
 * reduce state of sfr-avg, the count of sfr-grep -c, or the lines sfr-grep
 * selected. Folding the blobs of the shards in shard order gives exactly
 * the answer for the concatenation of the shards. The fold is associative
 * but not commutative (line numbers continue from the shards before), so
 * the order matters.
 *
 * Every integer is little-endian, written and read byte by byte (never a
 * struct in memory), whatever the host. Version 1:
 *
 *   offset  size  field
 *   HEADER
 *        0     8  magic "SFRPART\0" (53 46 52 50 41 52 54 00)
 *        8     2  version: 1
 *       10     2  kind: 1 avg, 2 grep count (-c), 3 grep lines
 *       12     4  P: length of the parameters
 *   PARAMETERS (what the shard was reduced with; all blobs of a merge
 *   must agree)
 *       16     P  avg (P = 8):
 *                   +0 1 scale (--scale, 0..18)
 *                   +1 1 decimals of the mean (--decimals, 0..18)
 *                   +2 1 field delimiter (-d; 0: the whole line)
 *                   +3 1 0 (reserved)
 *                   +4 4 field, 0-based (-f N is N - 1; 0 without -d)
 *                 grep (P = 8 + L):
 *                   +0 4 flags: bit 0 -v, bit 1 -n (lines only);
 *                        other bits 0
 *                   +4 4 L: length of the pattern
 *                   +8 L the pattern
 *   DATA (grep lines only; the other kinds have just the end mark)
 *        .   4+n  chunks of the data: a 4-byte length n > 0 and n bytes,
 *                 any number of them (a chunk is a piece of the byte
 *                 stream, not a record: records may span chunks) ...
 *        .     4  ... ended by a length 0
 *                 The stream is the selected lines in file order, each
 *                 with its LF (a last line without one gets one, as grep
 *                 prints it); with -n each line is preceded by its 1-based
 *                 line number within the shard as 8 bytes.
 *   SUMMARY
 *        .     4  S: length of the summary
 *        .     S  avg (S = 76):
 *                   +0 8 count of numbers
 *                   +8 16 sum, scaled by 10^scale: a 16-byte two's
 *                        complement integer (low 8 bytes first)
 *                  +24 8 min, signed (0 if count is 0)
 *                  +32 8 max, signed (0 if count is 0)
 *                  +40 8 invalid lines
 *                  +48 8 lines of the shard
 *                  +56 8 first invalid line, 1-based (0: none)
 *                  +64 4 its error: 3 not a number, 4 out of range
 *                        (0: none)
 *                  +68 4 flags: bit 0 the shard does not end with LF
 *                  +72 4 0 (reserved)
 *                 grep (S = 32):
 *                   +0 8 selected lines
 *                   +8 8 lines of the shard (where -n numbers go on)
 *                  +16 8 bytes of data (0 for a count)
 *                  +24 4 flags: bit 0 the shard does not end with LF
 *                  +28 4 0 (reserved)
 *   TRAILER
 *        .     8  length of the whole blob, trailer included
 *        .     4  CRC-32 of every byte before it (IEEE 802.3, as zlib's
 *                 crc32() and Python's zlib.crc32() compute it)
 *
 * A reader checks, in this order: the magic, the version (a newer one may
 * lay out the rest differently), that the lengths stay inside the file
 * (else it is truncated) and that nothing follows the trailer, the CRC,
 * the length field, then the kind, and last the parameters and the summary
 * (values in range, reserved bytes 0, data that parses as the summary
 * says). Only a shard that does not end with LF may be the last: a line
 * split between two shards would otherwise be merged as two lines.
 *
 * Messages are printed with cli_error() as "PROG: BLOB: reason"; the
 * functions return 0 or -1 (the message printed).
 */
#ifndef __SFR_EXAMPLES_PARTIAL_H
#define __SFR_EXAMPLES_PARTIAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/stat.h>
#include <linux/types.h>

#include "sfr_fixed.h"

#define PART_VERSION 1

enum part_kind {
	PART_AVG = 1,
	PART_GREP_COUNT = 2,
	PART_GREP_LINES = 3,
};

/* Bits of the kinds a tool reads, for part_read(). */
#define PART_KIND_BIT(k) (1U << (k))

/* Grep parameter flags. */
#define PART_GREP_INVERT	0x1	/* -v */
#define PART_GREP_NUMBER	0x2	/* -n */

/* Summary flags. */
#define PART_NO_FINAL_LF	0x1	/* the shard ends inside a line */

/* Data chunk size of the writer. */
#define PART_CHUNK (64U << 10)

/* ---- writing ------------------------------------------------------------- */

/*
 * A blob being written to standard output, or to OUT by way of
 * "OUT.tmp.PID", renamed to OUT once the blob is complete (so OUT is never
 * a partial blob, and may even be the input).
 */
struct part_out {
	FILE *f;
	const char *path;	/* OUT, or NULL for standard output */
	char *tmp;		/* the temporary file */
	__u32 crc;		/* of the bytes written so far */
	__u64 len;		/* bytes written so far */
	__u64 data_len;		/* of the data (grep lines) */
	int err;		/* errno of the first failed write, or 0 */
	size_t used;		/* bytes in chunk */
	__u8 chunk[PART_CHUNK];
};

/*
 * Start writing a blob to @path (NULL or "-": standard output, which must
 * not be a terminal). Returns 0, or -1 after a message.
 */
int part_out_open(struct part_out *o, const char *path);

/*
 * part_out_open() on a new struct part_out (free() it once done). Returns
 * NULL after a message.
 */
struct part_out *part_out_new(const char *path);

/* The header and parameters of a grep blob (@kind PART_GREP_*). */
void part_out_grep(struct part_out *o, enum part_kind kind, bool invert,
		   bool number, const char *pat, size_t pat_len);

/* Append @len bytes to the data (grep lines). */
void part_out_data(struct part_out *o, const void *buf, size_t len);

/* Append the line number @lineno (8 bytes) to the data (grep -n). */
void part_out_lineno(struct part_out *o, __u64 lineno);

/* Finish a grep blob: the data's end, the summary, the trailer. */
int part_out_grep_end(struct part_out *o, __u64 nsel, __u64 lines,
		      bool no_final_lf);

/* The whole avg blob of @st (finished, at a line end). */
int part_out_avg(struct part_out *o, const struct sfr_fx_cfg *cfg,
		 unsigned int decimals, const struct sfr_fx_state *st,
		 bool no_final_lf);

/* Give up: remove the temporary file. Safe after a failed open. */
void part_out_abort(struct part_out *o);

/*
 * Whether an input ends inside a line (its last byte is not LF): read
 * from @fd (the input, after it was scanned) if it is a regular file,
 * else @last, the last byte the scan read (-1: none). Returns 1 or 0, or
 * -errno.
 */
int part_no_final_lf(int fd, const struct stat *st, int last);

/* ---- reading ------------------------------------------------------------- */

/* A blob read into memory and checked (the data's chunks joined). */
struct part_blob {
	const char *name;	/* as given, for messages */
	__u8 *buf;
	size_t size;
	enum part_kind kind;
	const __u8 *params;
	size_t params_len;
	const __u8 *data;
	size_t data_len;
	const __u8 *summary;
	size_t summary_len;
};

/*
 * Read @path ("-": standard input) and check its structure, CRC and that
 * its kind is one of @kinds (PART_KIND_BIT()s). Returns 0, or -1 after a
 * message naming the file and the reason.
 */
int part_read(struct part_blob *b, const char *path, unsigned int kinds);
void part_free(struct part_blob *b);

/* The content of an avg blob. */
struct part_avg {
	struct sfr_fx_cfg cfg;
	unsigned int decimals;
	struct sfr_fx_state st;	/* the parser idle */
	bool no_final_lf;
};

/* The content of a grep blob; pointers into the blob. */
struct part_grep {
	bool count, invert, number;
	const char *pat;
	size_t pat_len;
	__u64 nsel, lines;
	bool no_final_lf;
	const __u8 *data;
	size_t data_len;
};

/* Decode and check an avg or a grep blob. Returns 0, or -1 after a message. */
int part_get_avg(const struct part_blob *b, struct part_avg *a);
int part_get_grep(const struct part_blob *b, struct part_grep *g);

/*
 * The next line of the data of a grep lines blob, from byte *@off (0 at
 * first), which it advances: the line (with its LF) in *@line, its number
 * within the shard in *@lineno (-n blobs; else 0). Returns the line's
 * length, 0 at the end.
 */
size_t part_grep_next(const struct part_grep *g, size_t *off,
		      const char **line, __u64 *lineno);

/* part_read() and part_get_avg() of an avg blob, not kept in memory. */
int part_read_avg(const char *path, struct part_avg *a);

/*
 * Check that blob @name, with content @a or @g, was made with the options
 * of @want: those of the first blob of a merge, @first, or (@first NULL)
 * those the command line asks for. Returns 0, or -1 after a message that
 * names both sets of options ("-s 6 --decimals 6", "-c -e 'needle'").
 */
int part_avg_match(const struct part_avg *a, const struct part_avg *want,
		   const char *name, const char *first);
int part_grep_match(const struct part_grep *g, const struct part_grep *want,
		    const char *name, const char *first);

/*
 * The rules of --partial, --output (@out) and --merge with @nfiles FILEs
 * or BLOBs that both tools share: a message for a usage error, or NULL.
 * --merge --partial folds the BLOBs into one blob (of the shards'
 * concatenation), for a combine in steps (a tree of adjacent shards).
 */
const char *part_usage(bool partial, bool merge, const char *out, int nfiles);

/*
 * In a merge, blob @next, of a shard of @next_lines lines, follows blob
 * @prev, the last one before it of a shard that is not empty (NULL: none):
 * fine unless @prev's shard ends inside a line (@prev_nolf) and @next's
 * is not empty. Returns 0, or -1 after a message.
 */
int part_check_follow(const char *prev, bool prev_nolf, const char *next,
		      __u64 next_lines);

#endif
