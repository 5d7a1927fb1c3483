// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * sfr-avg: count, exact sum, mean, min and max of a numeric field (one
 * number per line, or a column of a CSV/TSV file), with the parsing and
 * summing run by a BPF program inside the kernel's read path
 * (bpf/avg.bpf.c): only a frame header and a struct sfr_fx_state per
 * window are copied to user space. --no-offload computes the same answer
 * with read() and the same parser (bpf/sfr_fixed.h) in user space; that is
 * also the automatic fallback where sfr is unavailable. --partial writes
 * the state of one shard as a blob (partial.h) instead, and --merge folds
 * such blobs in order and prints the answer for the shards' concatenation.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/libbpf.h>

#include "common.h"
#include "partial.h"
#include "uscan.h"
#include "avg.h"
#include "avg.skel.h"

#define USER_BUF	(1U << 20)	/* user-space read size */
#define SCAN_BUF	4096		/* per request: only the state comes back */
#define JOBS_MAX	1024
/*
 * --offload-min default: below it, loading and verifying the program costs
 * more than offload saves (tools/bench, "Small inputs"; README).
 */
#define OFFLOAD_MIN	(8ULL << 20)
#define FIELD_MAX	(1U << 30)

struct options {
	struct sfr_fx_cfg cfg;	/* field (0-based), delim, scale */
	unsigned int decimals;	/* of the mean */
	bool strict, stats;
	unsigned int jobs;
	enum cli_mode mode;
	bool uring;		/* --io-uring: one ring, not threads */
	bool partial, merge;	/* --partial, --merge */
	const char *out;	/* -o OUT of --partial */
	/* Given on the command line: --merge checks them against the blobs. */
	bool have_scale, have_decimals, have_delim, have_field, have_jobs;
};

/* The reduce of one input. */
struct avg {
	const struct options *o;
	const char *name;
	struct sfr_fx_state st;
	__u64 frames;		/* sfr frames folded */
	int last;		/* last byte read in user space, -1: none */
	bool no_final_lf;	/* --partial: the input ends inside a line */
	struct cli_stats *stats;
	struct cli_progress progress;
};

static struct avg_bpf *skel;

static void usage(FILE *f)
{
	fprintf(f,
"Usage: %s [OPTION]... [FILE]...\n"
"  or:  %s --partial [OPTION]... [-o OUT] [FILE]\n"
"  or:  %s --merge [--strict] [--partial [-o OUT]] BLOB...\n"
"Print the count, exact sum, mean, minimum and maximum of the numbers in each\n"
"FILE: one number per line, or with -d, field N of each line (a column of a\n"
"CSV or TSV file). Numbers are exact fixed-point decimals, never floats. The\n"
"parsing and summing run as a BPF program in the kernel's read path (sfr):\n"
"only a small state per window is copied to user space, never the file's\n"
"bytes. Where the kernel has no sfr, or a file system does not take sfr\n"
"programs, the same answer is computed in user space, with a notice on\n"
"stderr. With no FILE, or when FILE is -, read standard input (in user\n"
"space).\n"
"\n"
"Options:\n"
"  -d, --delimiter=DELIM  fields are separated by the byte DELIM (',' or '\\t'\n"
"                         for a tab), as with cut -d: no quoting, every DELIM\n"
"                         separates (two in a row make an empty field)\n"
"  -f, --field=N          use field N (1-based; default 1; N > 1 needs -d)\n"
"  -s, --scale=S          decimal places kept of each number, 0..%d\n"
"                         (default 6); sum, min and max are exact at S places\n"
"      --decimals=D       decimal places of the mean, 0..%d (default: S)\n"
"      --strict           an invalid line is an error: name the file and the\n"
"                         line, print no block for that file, exit status 1\n"
"  -j, --jobs=N           scan each FILE as N windows in parallel (sfr;\n"
"                         default 1); in user space, read it with N\n"
"                         threads (at most %d)\n"
"      --no-offload       compute in user space with read()\n"
"      --io-uring         sfr: issue the -j windows through one io_uring\n"
"                         (io-wq runs them mostly one after another; the\n"
"                         default is one thread per CPU issuing pread())\n"
"      --offload-min=SIZE compute files smaller than SIZE bytes (K, M, G\n"
"                         suffixes) in user space, where loading the program\n"
"                         costs more than it saves (default 8M, or\n"
"                         $SFR_OFFLOAD_MIN; 0: offload every file)\n"
"      --stats            print the method, bytes scanned, bytes copied to\n"
"                         user space and wall time to stderr\n"
"      --partial          write the state of FILE, one shard of a larger\n"
"                         input, as a binary blob for --merge (to stdout,\n"
"                         or OUT), instead of printing its block\n"
"  -o, --output=OUT       --partial: write the blob to OUT (replaced only\n"
"                         once the blob is complete)\n"
"      --merge            fold the BLOBs in the order given and print the\n"
"                         block of the concatenation of their shards; with\n"
"                         --partial, write the fold as one blob (a step of\n"
"                         a tree combine)\n"
"  -v, --debug            log what sfr-avg, libsfr and libbpf do to stderr\n"
"  -h, --help             this help\n"
"\n"
"Output, on stdout, one 'key: value' per line:\n"
"  count: N       how many numbers\n"
"  sum: S         their exact sum, with S decimal places\n"
"  mean: M        sum / count with D decimal places, rounded half away from\n"
"                 zero; '-' when count is 0\n"
"  min: X         the smallest number ('-' when count is 0)\n"
"  max: Y         the largest number ('-' when count is 0)\n"
"  invalid: K     lines that are not blank and not a number\n"
"With more than one FILE: a block per FILE headed '==> FILE <==' (as tail\n"
"prints them), a blank line between blocks, and a last block '==> total <=='\n"
"over all the FILEs that were read.\n"
"\n"
"Numbers: [blanks] [+|-] digits [. [digits]] [blanks], or [blanks] [+|-]\n"
". digits [blanks]; blanks are space, tab and CR. '7', '-0.5', '+.5', '5.'\n"
"and '007' are numbers. Not numbers: '-', '.', '1.2.3', '1 2', '0x10',\n"
"'1,5', 'inf', 'nan', quoted fields, and exponents: '1e3' is rejected, never\n"
"scaled. Lines end with LF; CRLF files work (CR is a blank); a last line\n"
"without LF counts. Empty lines and lines of blanks are skipped: neither a\n"
"number nor invalid. With -d, a line with fewer than N fields, or whose\n"
"field N is empty, blank or not a number, is invalid (so is a CSV header).\n"
"\n"
"Rounding: digits beyond S decimal places are rounded half away from zero,\n"
"as SQL's ROUND does: with -s 2, '0.125' is 0.13 and '-0.125' is -0.13;\n"
"with -s 0, '2.5' is 3. The mean is rounded the same way, exactly. There is\n"
"no negative zero ('-0.001' with -s 2 is 0.00).\n"
"Range: a number must fit in a signed 64-bit integer once scaled by 10^S:\n"
"up to +-9223372036854.775807 with -s 6, +-9223372036854775807 with -s 0,\n"
"about +-9.22 with -s 18. A number outside the range counts as invalid\n"
"(with --strict: 'number out of range'); it is never wrapped or clamped.\n"
"Sums are 128-bit integers: exact (overflowing one takes over 10^19 numbers).\n"
"\n"
"Shards and blobs: split a large input at line ends into shards (every\n"
"shard but the last must end with a newline), run '%s --partial' on each\n"
"shard, wherever it is stored, and '%s --merge' on the blobs in shard\n"
"order: the output is the same as that of %s on the concatenation of the\n"
"shards. A blob records -s, --decimals, -d and -f, the count, sum, min,\n"
"max, invalid and line counts and the first invalid line; it is\n"
"little-endian and checksummed (format: examples/partial.h). --merge takes\n"
"the options from the blobs, which must all have the same; -s, -d, -f or\n"
"--decimals given with --merge must match them. --merge --strict names the\n"
"first invalid line by blob and by line of the concatenation. A blob that\n"
"is not one (wrong magic), of another version or tool, truncated or\n"
"corrupt (CRC-32) is an error naming it; --merge prints nothing then.\n"
"\n"
"Exit status: 0 on success; 1 if a FILE could not be read, with --strict\n"
"when a line is invalid, or when no number was found at all (every count\n"
"is 0, the mean is '-'); 1 for a BLOB that is bad or does not fit the\n"
"others; 2 on a usage error. --partial exits 0 once the blob is written,\n"
"even for a shard without numbers (--merge decides on the whole).\n"
"\n"
"Examples:\n"
"  %s latency.txt                one number per line\n"
"  %s -d , -f 3 -s 2 sales.csv   the 3rd column of a CSV, in cents\n"
"  %s -d '\\t' -f 2 data.tsv      the 2nd column of a TSV file\n"
"  %s -j 4 --stats big.txt       4 windows in parallel, with figures\n"
"  %s --strict a.txt b.txt       every line must be a number; 3 blocks\n"
"  seq 10 | %s                   standard input (user space)\n"
"  %s --partial -o a.blob part-a.txt   (on the node that has part a)\n"
"  %s --merge a.blob b.blob      the answer for part-a.txt + part-b.txt\n"
"  %s --merge --partial -o ab.blob a.blob b.blob   one blob for both\n",
		cli_prog(), cli_prog(), cli_prog(), SFR_FX_SCALE_MAX,
		SFR_FX_SCALE_MAX, USCAN_THREADS_MAX, cli_prog(), cli_prog(),
		cli_prog(), cli_prog(),
		cli_prog(), cli_prog(), cli_prog(), cli_prog(), cli_prog(),
		cli_prog(), cli_prog(), cli_prog());
}

static void try_help(void)
{
	fprintf(stderr, "Try '%s --help' for more information.\n", cli_prog());
}

/* ---- output ------------------------------------------------------------ */

static void put_value(const char *key, __s64 v, unsigned int scale)
{
	char buf[64];

	sfr_fx_format(buf, sizeof(buf), v, scale);
	printf("%s: %s\n", key, buf);
}

/* The block of one input (or the total). Returns 0 or -errno. */
static int put_block(const struct options *o, const struct sfr_fx_state *st)
{
	struct sfr_fx_s128 mean;
	char buf[64];
	int err = 0;

	printf("count: %llu\n", (unsigned long long)st->count);
	sfr_fx_format128(buf, sizeof(buf), st->sum, o->cfg.scale);
	printf("sum: %s\n", buf);
	if (st->count) {
		err = sfr_fx_div(st->sum, st->count, o->cfg.scale, o->decimals,
				 &mean);
		if (!err) {
			sfr_fx_format128(buf, sizeof(buf), mean, o->decimals);
			printf("mean: %s\n", buf);
		} else {
			printf("mean: -\n");
		}
		put_value("min", st->min, o->cfg.scale);
		put_value("max", st->max, o->cfg.scale);
	} else {
		printf("mean: -\nmin: -\nmax: -\n");
	}
	printf("invalid: %llu\n", (unsigned long long)st->invalid);
	return err;
}

/*
 * --strict: say what is wrong with the first invalid line of @st, line
 * @line of @name (@where: "" or more about the line).
 */
static void strict_error(const struct sfr_fx_cfg *cfg,
			 const struct sfr_fx_state *st, const char *name,
			 __u64 line, const char *where)
{
	char what[64] = "not a number";

	if (st->first_err == SFR_FX_RANGE)
		snprintf(what, sizeof(what), "number out of range for --scale %u",
			 cfg->scale);
	else if (cfg->delim)
		snprintf(what, sizeof(what), "field %u is not a number",
			 cfg->field + 1);
	cli_error("%s: line %llu%s: %s", name, (unsigned long long)line, where,
		  what);
}

/* Why @name has no numbers, on stderr. */
static void no_numbers(const char *name, const struct sfr_fx_state *st)
{
	cli_notice("%s: no numbers (%s)", name,
		   st->invalid ? "every line is invalid" :
		   st->lines ? "only blank lines" : "empty");
}

/* ---- user space ---------------------------------------------------------- */

/*
 * Reduce @fd from its current position to end of file with read().
 * Returns 0 or -errno. With --strict it stops at the first invalid line.
 */
static int avg_user(struct avg *a, int fd, __u64 size)
{
	const struct options *o = a->o;
	char *buf = malloc(USER_BUF);
	__u64 done = 0;
	int err = 0;

	if (!buf)
		return -ENOMEM;
	for (;;) {
		ssize_t n = cli_read(fd, buf, USER_BUF, a->stats);

		if (n < 0) {
			err = (int)n;
			break;
		}
		if (n == 0)
			break;
		a->stats->scanned += n;
		done += n;
		sfr_fx_feed_buf(&a->st, &o->cfg, buf, n);
		a->last = (unsigned char)buf[n - 1];
		cli_progress_update(&a->progress, done, size);
		if (o->strict && a->st.invalid)
			break;
	}
	if (!err)
		sfr_fx_finish(&a->st, &o->cfg);
	free(buf);
	return err;
}

/* One segment's reduce in avg_user_par(). */
struct avg_seg {
	struct sfr_fx_state st;
	int last;		/* its last byte, -1: none */
};

static int seg_reduce(void *ctx, void *res, char *buf, size_t len, bool nolf)
{
	const struct avg *a = ctx;
	struct avg_seg *r = res;

	(void)nolf;		/* sfr_fx_finish() ends a last line */
	sfr_fx_feed_buf(&r->st, &a->o->cfg, buf, len);
	sfr_fx_finish(&r->st, &a->o->cfg);
	r->last = len ? (unsigned char)buf[len - 1] : -1;
	return 0;
}

static int seg_deliver(void *ctx, void *res)
{
	struct avg *a = ctx;
	const struct avg_seg *r = res;

	sfr_fx_combine(&a->st, &r->st);
	if (r->last >= 0)
		a->last = r->last;
	return a->o->strict && a->st.invalid ? 1 : 0;
}

/*
 * Reduce the regular file @fd (@size bytes) from offset 0 with -j threads
 * reading segments of lines with pread(): the same answer as avg_user().
 * Returns 0 or -errno.
 */
static int avg_user_par(struct avg *a, int fd, __u64 size)
{
	static const struct uscan_ops ops = {
		.reduce = seg_reduce,
		.deliver = seg_deliver,
	};

	return uscan(fd, size, a->o->jobs, sizeof(struct avg_seg), &ops, a,
		     a->stats, &a->progress);
}

/* ---- sfr ----------------------------------------------------------------- */

/* A frame's state, in file order: fold it into the file's. */
static int on_state(const void *state, size_t len, void *ctx)
{
	struct avg *a = ctx;
	struct sfr_fx_state b;

	if (len != sizeof(b)) {
		cli_debug("%s: frame with %zu bytes of state, want %zu",
			  a->name, len, sizeof(b));
		return -EPROTO;
	}
	memcpy(&b, state, sizeof(b));
	a->stats->copied += sizeof(struct sfr_frame) + len;
	/* Every frame ends at a line boundary (or at end of file, finished). */
	if (sfr_fx_pending(&b.p)) {
		cli_debug("%s: frame %llu ends inside a line", a->name,
			  (unsigned long long)a->frames);
		return -EPROTO;
	}
	sfr_fx_combine(&a->st, &b);
	a->frames++;
	if (a->o->strict && a->st.invalid)
		return 1;	/* the first invalid line is known: stop */
	return 0;
}

static void on_progress(__u64 done, __u64 total, void *ctx)
{
	struct avg *a = ctx;

	cli_progress_update(&a->progress, done, total);
}

static int load_prog(const struct options *o)
{
	int err;

	skel = avg_bpf__open();
	if (!skel)
		return -errno;
	skel->rodata->field = o->cfg.field;
	skel->rodata->delim = o->cfg.delim;
	skel->rodata->scale = o->cfg.scale;
	err = avg_bpf__load(skel);
	if (err) {
		avg_bpf__destroy(skel);
		skel = NULL;
		return err;
	}
	return 0;
}

/*
 * Reduce @fd with the BPF program. Returns 0, -errno, or 1 when the file
 * cannot be attached or the scan failed (reduce it in user space).
 */
static int avg_sfr(struct avg *a, int fd)
{
	const struct options *o = a->o;
	SFR_OPTS(sfr_attach_opts, ao,
		 .windows = o->jobs,
		 .delim = '\n',
		 .scratch_size = sizeof(struct sfr_fx_state));
	SFR_OPTS(sfr_scan_opts, so,
		 .buf_size = SCAN_BUF,
		 .combine = on_state,
		 .progress = on_progress,
		 .ctx = a,
		 .threads = o->uring ? 1 : 0);
	struct sfr_link *link;
	int err;

	link = sfr_attach(fd, skel->progs.avg, &ao);
	if (!link) {
		cli_fallback_notice(a->name, errno);
		return 1;
	}
	cli_debug("%s: attached, %u window%s of %llu bytes", a->name, o->jobs,
		  o->jobs == 1 ? "" : "s",
		  (unsigned long long)sfr_link__window(link));
	err = sfr_scan(link, &so);
	cli_stats_add_link(a->stats, link);
	sfr_link__destroy(link);
	if (err) {
		/* Detached: reads give the file's bytes again. */
		cli_notice("%s: the sfr scan failed (%s): computing in user space",
			   a->name, strerror(-err));
		memset(&a->st, 0, sizeof(a->st));
		if (lseek(fd, 0, SEEK_SET) < 0)
			return -errno;
		return 1;
	}
	/* The last frame was finished by the program; this is a no-op. */
	sfr_fx_finish(&a->st, &o->cfg);
	cli_stats_method(a->stats, CLI_METHOD_SFR);
	cli_debug("%s: %llu frames, %llu lines", a->name,
		  (unsigned long long)a->frames,
		  (unsigned long long)a->st.lines);
	return 0;
}

/* ---- driver -------------------------------------------------------------- */

/* The rules of --partial, -o and --merge. Returns 0, or -1 after a message. */
static int usage_partial(const struct options *o, int nfiles)
{
	const char *err = part_usage(o->partial, o->merge, o->out, nfiles);

	if (!err && o->merge && (o->have_jobs || o->mode == CLI_MODE_USER ||
				 o->stats))
		err = "--merge reads no data file: -j, --no-offload and --stats do not apply";
	if (!err && o->merge && o->partial && o->strict)
		err = "--strict names a line of the whole input: give it to the last --merge, not with --partial";
	if (!err)
		return 0;
	cli_error("%s", err);
	try_help();
	return -1;
}

/* Load the program for cli_want_sfr(), once. */
static int load_once(const void *o)
{
	return skel ? 0 : load_prog(o);
}

/* -d: one byte, or "\t" for a tab. Returns 0, or -1 after a message. */
static int parse_delim(const char *arg, __u8 *out)
{
	if (!strcmp(arg, "\\t")) {
		*out = '\t';
		return 0;
	}
	if (strlen(arg) != 1) {
		cli_error("the delimiter must be a single byte (or '\\t'), not '%s'",
			  arg);
		return -1;
	}
	if (arg[0] == '\n') {
		cli_error("the delimiter cannot be a newline");
		return -1;
	}
	*out = (__u8)arg[0];
	return 0;
}

/*
 * Reduce one input into @a. Returns 0 with the answer in a->st, 1 if it
 * must be left out (could not be read, or --strict found an invalid line;
 * the message is printed).
 */
static int avg_file(struct avg *a, const char *path)
{
	const struct options *o = a->o;
	struct stat st;
	__u64 size;
	int fd, err = 1;
	bool sfr;

	fd = cli_open_input(path, &st);
	if (fd < 0)
		return 1;
	size = S_ISREG(st.st_mode) ? st.st_size : 0;
	/* May load the program: not timed. */
	sfr = cli_want_sfr(o->mode, &st, path, load_once, o, a->stats);
	cli_progress_begin(&a->progress, a->name, true);
	if (sfr)
		err = avg_sfr(a, fd);
	if (err == 1) {
		cli_stats_method(a->stats, CLI_METHOD_USER);
		if (uscan_fits(fd, &st, o->jobs))
			err = avg_user_par(a, fd, size);
		else
			err = avg_user(a, fd, size);
	}
	cli_progress_end(&a->progress);
	if (!err && o->partial) {
		err = part_no_final_lf(fd, &st, a->last);
		a->no_final_lf = err > 0;
		err = err < 0 ? err : 0;
	}
	cli_close_input(fd);
	if (err < 0) {
		cli_error("%s: %s", a->name, strerror(-err));
		return 1;
	}
	if (o->strict && a->st.invalid) {
		strict_error(&o->cfg, &a->st, a->name, a->st.first_invalid, "");
		return 1;
	}
	if (a->st.invalid)
		cli_debug("%s: %llu invalid lines, the first is line %llu",
			  a->name, (unsigned long long)a->st.invalid,
			  (unsigned long long)a->st.first_invalid);
	if (!a->st.count && !o->partial)
		no_numbers(a->name, &a->st);
	return 0;
}

/* --partial: the blob of the one input @path. Returns the exit status. */
static int avg_partial(const struct options *o, const char *path,
		       struct cli_stats *stats)
{
	struct avg a = {
		.o = o,
		.name = cli_input_name(path),
		.stats = stats,
		.last = -1,
	};
	/* Open the output first: no scan when it cannot be written. */
	struct part_out *po = part_out_new(o->out);
	int ret = 1;

	if (!po)
		return 1;
	if (avg_file(&a, path)) {
		part_out_abort(po);
		goto out;
	}
	if (!part_out_avg(po, &o->cfg, o->decimals, &a.st, a.no_final_lf))
		ret = 0;
out:
	free(po);
	return ret;
}

/* The options of blob @a as the command line asks: those given, else @a's. */
static struct part_avg avg_asked(const struct options *o,
				 const struct part_avg *a)
{
	struct part_avg want = *a;

	if (o->have_scale)
		want.cfg.scale = o->cfg.scale;
	if (o->have_decimals)
		want.decimals = o->decimals;
	if (o->have_delim)
		want.cfg.delim = o->cfg.delim;
	if (o->have_field)
		want.cfg.field = o->cfg.field;
	return want;
}

/*
 * --merge: fold the blobs in order and print the block; with --partial,
 * write the fold as one blob instead.
 */
static int avg_merge(struct options *o, const char *const *paths, int n)
{
	struct sfr_fx_state total = { 0 };
	struct part_avg first, a, want;
	struct part_out *po = NULL;
	const char *name, *prev = NULL, *bad_name = NULL;
	__u64 bad_line = 0;
	bool nolf = false;
	int i, ret = 1;

	/* Open the output first, as a scan does. */
	if (o->partial) {
		po = part_out_new(o->out);
		if (!po)
			return 1;
	}
	for (i = 0; i < n; i++) {
		name = cli_input_name(paths[i]);
		if (part_read_avg(paths[i], &a))
			goto out;
		if (!i)
			first = a;
		want = i ? first : avg_asked(o, &a);
		if (part_avg_match(&a, &want, name,
				   i ? cli_input_name(paths[0]) : NULL) ||
		    part_check_follow(prev, nolf, name, a.st.lines))
			goto out;
		if (!total.invalid && a.st.invalid) {
			bad_name = name;
			bad_line = a.st.first_invalid;
		}
		sfr_fx_combine(&total, &a.st);
		if (a.st.lines) {
			prev = name;
			nolf = a.no_final_lf;
		}
	}
	o->cfg = first.cfg;
	o->decimals = first.decimals;
	if (o->strict && total.invalid) {
		char where[64];

		snprintf(where, sizeof(where), " (line %llu of the merged input)",
			 (unsigned long long)total.first_invalid);
		strict_error(&o->cfg, &total, bad_name, bad_line, where);
		goto out;
	}
	if (po) {
		ret = part_out_avg(po, &o->cfg, o->decimals, &total, nolf) ? 1 : 0;
		free(po);
		return ret;
	}
	if (put_block(o, &total))
		goto out;
	if (fflush(stdout) || ferror(stdout)) {
		cli_error("write error: %s", strerror(errno));
		goto out;
	}
	if (!total.count) {
		no_numbers("the merged input", &total);
		goto out;
	}
	ret = 0;
out:
	if (po) {
		part_out_abort(po);
		free(po);
	}
	return ret;
}

int main(int argc, char **argv)
{
	enum {
		OPT_NO_OFFLOAD = 256, OPT_OFFLOAD_MIN, OPT_URING, OPT_STATS, OPT_STRICT, OPT_DECIMALS,
		OPT_PARTIAL, OPT_MERGE,
	};
	static const struct option longopts[] = {
		{ "delimiter", required_argument, NULL, 'd' },
		{ "field", required_argument, NULL, 'f' },
		{ "scale", required_argument, NULL, 's' },
		{ "decimals", required_argument, NULL, OPT_DECIMALS },
		{ "strict", no_argument, NULL, OPT_STRICT },
		{ "jobs", required_argument, NULL, 'j' },
		{ "no-offload", no_argument, NULL, OPT_NO_OFFLOAD },
		{ "offload-min", required_argument, NULL, OPT_OFFLOAD_MIN },
		{ "io-uring", no_argument, NULL, OPT_URING },
		{ "stats", no_argument, NULL, OPT_STATS },
		{ "partial", no_argument, NULL, OPT_PARTIAL },
		{ "output", required_argument, NULL, 'o' },
		{ "merge", no_argument, NULL, OPT_MERGE },
		{ "debug", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	struct options o = { .cfg.scale = 6, .jobs = 1 };
	static const char * const stdin_only[] = { "-" };
	const char *offload_min = NULL;
	unsigned int field = 1, scale = 6, decimals = 0;
	bool error = false, any_value = false;
	struct sfr_fx_state total = { 0 };
	struct cli_stats stats;
	const char **files;
	int opt, nfiles, i, nblocks = 0;

	cli_init(argv[0]);
	cli_set_debug(false);
	while ((opt = getopt_long(argc, argv, "d:f:s:j:o:vh", longopts,
				  NULL)) != -1) {
		switch (opt) {
		case 'd':
			if (parse_delim(optarg, &o.cfg.delim))
				return 2;
			o.have_delim = true;
			break;
		case 'f':
			if (cli_parse_uint("field", optarg, 1, FIELD_MAX, &field))
				return 2;
			o.have_field = true;
			break;
		case 's':
			if (cli_parse_uint("scale", optarg, 0, SFR_FX_SCALE_MAX,
					   &scale))
				return 2;
			o.have_scale = true;
			break;
		case OPT_DECIMALS:
			if (cli_parse_uint("decimals", optarg, 0,
					   SFR_FX_SCALE_MAX, &decimals))
				return 2;
			o.have_decimals = true;
			break;
		case 'j':
			if (cli_parse_uint("number of jobs", optarg, 1, JOBS_MAX,
					   &o.jobs))
				return 2;
			o.have_jobs = true;
			break;
		case OPT_PARTIAL:
			o.partial = true;
			break;
		case OPT_MERGE:
			o.merge = true;
			break;
		case 'o':
			o.out = optarg;
			break;
		case OPT_STRICT:
			o.strict = true;
			break;
		case OPT_URING:
			o.uring = true;
			break;
		case OPT_OFFLOAD_MIN:
			offload_min = optarg;
			break;
		case OPT_NO_OFFLOAD:
			o.mode = CLI_MODE_USER;
			break;
		case OPT_STATS:
			o.stats = true;
			break;
		case 'v':
			cli_set_debug(true);
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			try_help();
			return 2;
		}
	}
	if (cli_offload_min_init(offload_min, OFFLOAD_MIN))
		return 2;
	if (field > 1 && !o.cfg.delim) {
		cli_error("-f %u needs -d DELIM (without -d the whole line is field 1)",
			  field);
		try_help();
		return 2;
	}
	o.cfg.field = field - 1;
	o.cfg.scale = (__u8)scale;
	o.decimals = o.have_decimals ? decimals : scale;

	files = (const char **)argv + optind;
	nfiles = argc - optind;
	if (usage_partial(&o, nfiles))
		return 2;
	if (o.merge)
		return avg_merge(&o, files, nfiles);
	if (!nfiles) {
		files = (const char **)stdin_only;
		nfiles = 1;
	}
	cli_stats_init(&stats);
	stats.windows = o.jobs;
	stats.uring = o.uring;

	if (o.partial) {
		int ret = avg_partial(&o, files[0], &stats);

		if (o.stats)
			cli_stats_print(&stats);
		if (skel)
			avg_bpf__destroy(skel);
		return ret;
	}
	for (i = 0; i < nfiles; i++) {
		struct avg a = {
			.o = &o,
			.name = cli_input_name(files[i]),
			.stats = &stats,
			.last = -1,
		};

		if (avg_file(&a, files[i])) {
			error = true;
			continue;
		}
		if (nfiles > 1)
			printf("%s==> %s <==\n", nblocks++ ? "\n" : "", a.name);
		if (put_block(&o, &a.st))
			error = true;
		sfr_fx_combine(&total, &a.st);
		if (a.st.count)
			any_value = true;
		/* Messages on stderr come after this block's lines. */
		fflush(stdout);
	}
	if (nfiles > 1) {
		printf("%s==> total <==\n", nblocks ? "\n" : "");
		if (put_block(&o, &total))
			error = true;
	}

	if (fflush(stdout) || ferror(stdout)) {
		cli_error("write error: %s", strerror(errno));
		error = true;
	}
	if (o.stats)
		cli_stats_print(&stats);
	if (skel)
		avg_bpf__destroy(skel);
	return error || !any_value ? 1 : 0;
}
