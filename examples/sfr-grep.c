// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * sfr-grep: print the lines of files that contain a fixed string, as
 * grep -F does, with the search run by a BPF program inside the kernel's
 * read path (bpf/fgrep.bpf.c): only the selected lines are copied to user
 * space. --no-offload computes the same answer with read() in user space;
 * that is also the automatic fallback where sfr is unavailable. --partial
 * writes the count or the lines of one shard as a blob (partial.h), and
 * --merge prints what grep would print for the shards' concatenation.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "common.h"
#include "partial.h"
#include "uscan.h"
#include "fgrep.h"
#include "kmp.h"
#include "fgrep.skel.h"

#define BUF_DEFAULT	(1U << 20)	/* output buffer per request */
#define BUF_COUNT	4096		/* -c: only the state comes back */
#define USER_BUF	(1U << 20)	/* user-space read size */
#define JOBS_MAX	1024
/*
 * --offload-min default: below it, loading and verifying the program costs
 * more than offload saves (tools/bench, "Small inputs"; README).
 */
#define OFFLOAD_MIN	(32ULL << 20)
#define SCAN_DEPTH	16		/* requests in flight (memory: 2 buffers each) */

/* The largest useful request buffer: the kernel returns at most this. */
#define BUF_MAX (sizeof(struct sfr_frame) + sizeof(struct fgrep_state) + \
		 FGREP_OUT_MAX)

struct options {
	const char *pat;
	size_t pat_len;
	bool count, number, invert, stats;
	int with_name;			/* -1: when more than one file */
	bool have_max;
	__u64 max_count;
	unsigned int jobs;
	__u64 buf_size;
	enum cli_mode mode;
	bool uring;		/* --io-uring: one ring, not threads */
	bool count_lines;		/* count all lines: -n, --partial */
	bool partial, merge;		/* --partial, --merge */
	const char *out;		/* --output=OUT of --partial */
	/* Given: --merge checks them against the blobs; others not taken. */
	bool have_pat, have_jobs, have_buf;
};

/* The search of one input. */
struct grep {
	const struct options *o;
	const char *name;
	bool with_name;
	__u64 lines;		/* lines before the current frame / block */
	__u64 frame_base;	/* line number base of the frame being output */
	__u64 nsel;		/* lines selected (printed or counted) */
	__u64 done_off;		/* input handled up to here (a line start) */
	bool done;		/* -m reached: stop */
	int halt;		/* enum fgrep_err of the frame that ended sfr */
	__u64 halt_off;		/* ... and the line it ended at */
	__u64 size;		/* file size, for progress */
	int last;		/* last byte read in user space, -1: none */
	struct part_out *part;	/* --partial: the blob, not stdout */
	struct grep_seg *seg;	/* a segment of grep_user_par(): not stdout */
	struct cli_stats *stats;
	struct cli_progress progress;
};

/* The lines a segment of grep_user_par() selected, until their turn. */
struct grep_seg {
	char *data;		/* the lines, one after the other */
	size_t len, cap;
	struct grep_seg_line {
		__u64 lineno;	/* in the segment, from 1 */
		size_t len;
	} *line;
	size_t nline, line_cap;	/* kept only with -n, -H or -m */
	bool keep_lines;
	__u64 lines, nsel;	/* lines (all with -n), lines selected */
	int last;		/* last byte of the segment, -1: none */
	int err;
};

static struct fgrep_bpf *skel;
static char outbuf[1 << 20];

static void usage(FILE *f)
{
	fprintf(f,
"Usage: %s [OPTION]... PATTERN [FILE]...\n"
"  or:  %s --partial [-c] [-n] [-v] [--output=OUT] PATTERN [FILE]\n"
"  or:  %s --merge [--partial [--output=OUT]] BLOB...\n"
"Print the lines of each FILE that contain the fixed string PATTERN, as\n"
"'grep -F' does. The search runs as a BPF program in the kernel's read path\n"
"(sfr): only the selected lines are copied to user space. Where the kernel\n"
"has no sfr, or a file system does not take sfr programs, the same answer\n"
"is computed in user space, with a notice on stderr. With no FILE, or when\n"
"FILE is -, read standard input (in user space).\n"
"\n"
"Options:\n"
"  -c, --count            print only a count of selected lines per FILE\n"
"  -n, --line-number      prefix each line with its 1-based line number\n"
"  -m, --max-count=NUM    stop reading a FILE after NUM selected lines\n"
"  -v, --invert-match     select the lines that do not contain PATTERN\n"
"  -H, --with-filename    prefix each line with the file name (the default\n"
"                         with more than one FILE)\n"
"  -h, --no-filename      no file name prefix\n"
"  -e, --regexp=PATTERN   use PATTERN (e.g. one that starts with '-')\n"
"  -F, --fixed-strings    accepted for compatibility: PATTERN is always a\n"
"                         fixed string\n"
"  -j, --jobs=N           scan each FILE as N windows in parallel (sfr;\n"
"                         default 1); in user space, read it with N\n"
"                         threads (at most %d)\n"
"      --no-offload       compute in user space with read()\n"
"      --io-uring         sfr: issue the -j windows through one io_uring\n"
"                         (io-wq runs them mostly one after another; the\n"
"                         default is one thread per CPU issuing pread())\n"
"      --offload-min=SIZE compute files smaller than SIZE bytes (K, M, G\n"
"                         suffixes) in user space, where loading the program\n"
"                         costs more than it saves (default 32M, or\n"
"                         $SFR_OFFLOAD_MIN; 0: offload every file)\n"
"      --buffer-size=SIZE output buffer per kernel request (default 1M;\n"
"                         grows by itself for long lines)\n"
"      --stats            print bytes scanned, bytes copied to user space,\n"
"                         wall time and method to stderr\n"
"      --partial          write the count (-c) or the selected lines of FILE,\n"
"                         one shard of a larger input, as a binary blob for\n"
"                         --merge (to stdout, or OUT) instead of printing them\n"
"      --output=OUT       --partial: write the blob to OUT (replaced only once\n"
"                         the blob is complete; -o is grep's --only-matching)\n"
"      --merge            print what grep prints for the concatenation of the\n"
"                         BLOBs' shards, in the order given; with --partial,\n"
"                         write them as one blob (a step of a tree combine)\n"
"      --debug            log what libsfr and libbpf do to stderr\n"
"      --help             this help\n"
"\n"
"Matching is byte by byte, as grep -F in the C locale; every file is text\n"
"(no 'binary file matches'). PATTERN may be up to %d bytes long for the\n"
"kernel program (longer ones are searched in user space) and must not\n"
"contain a newline; an empty PATTERN matches every line.\n"
"\n"
"Shards and blobs: split a large input at line ends into shards (every\n"
"shard but the last must end with a newline), run '%s --partial' on each\n"
"shard and '%s --merge' on the blobs in shard order: the output is that of\n"
"'grep -F' (with -c, -n, -v as given to --partial) on the concatenation.\n"
"A blob records PATTERN, -c, -n and -v, the shard's selected lines (or\n"
"their count) and its line count, so -n numbers go on across shards; it is\n"
"little-endian and checksummed (format: examples/partial.h). The BLOBs must\n"
"all have the same PATTERN and options; -c, -n, -v or -e given with --merge\n"
"must match them. -m and -H do not apply. --merge reads every BLOB into\n"
"memory and checks them all before it prints anything: a blob that is not\n"
"one (wrong magic), of another version or tool, truncated or corrupt\n"
"(CRC-32) is an error naming it.\n"
"\n"
"Exit status: 0 if a line was selected, 1 if none was, 2 on an error (also\n"
"with --partial, whose blob is written for 0 and 1).\n"
"\n"
"Examples:\n"
"  %s -c ERROR /var/log/big.log       count the lines that contain ERROR\n"
"  %s -n -m 5 needle a.txt b.txt      first 5 matches of each, numbered\n"
"  %s -j 4 --stats key data.csv       4 windows in parallel, with figures\n"
"  %s --no-offload -v '#' conf        lines without '#', in user space\n"
"  %s -n --partial --output=a.blob needle part-a.txt    (on its node)\n"
"  %s --merge a.blob b.blob           the lines of part-a.txt + part-b.txt\n"
"  %s --merge --partial --output=ab.blob a.blob b.blob   one blob for both\n",
		cli_prog(), cli_prog(), cli_prog(), USCAN_THREADS_MAX,
		FGREP_PAT_MAX, cli_prog(),
		cli_prog(), cli_prog(), cli_prog(), cli_prog(), cli_prog(),
		cli_prog(), cli_prog(), cli_prog());
}

/* ---- output ------------------------------------------------------------ */

static int seg_add(struct grep_seg *r, const char *line, size_t len,
		   __u64 lineno);

/*
 * Print one selected line (with its newline) numbered @lineno; in a
 * segment of grep_user_par(), keep it. Returns 1 when -m is reached (or a
 * segment is out of memory), else 0.
 */
static int put_line(struct grep *g, const char *line, size_t len,
		    __u64 lineno)
{
	if (g->seg) {
		if (!g->o->count && seg_add(g->seg, line, len, lineno))
			return 1;
	} else if (g->part && !g->o->count) {
		if (g->o->number)
			part_out_lineno(g->part, lineno);
		part_out_data(g->part, line, len);
	} else if (!g->o->count) {
		if (g->with_name) {
			fputs(g->name, stdout);
			putchar_unlocked(':');
		}
		if (g->o->number)
			printf("%llu:", (unsigned long long)lineno);
		fwrite_unlocked(line, 1, len, stdout);
	}
	g->nsel++;
	if (g->o->have_max && g->nsel >= g->o->max_count) {
		g->done = true;
		return 1;
	}
	return 0;
}

/* ---- user space ---------------------------------------------------------- */

static __u64 count_lines(const char *p, const char *end)
{
	__u64 n = 0;

	while (p < end && (p = memchr(p, '\n', end - p))) {
		n++;
		p++;
	}
	return n;
}

/*
 * Search the whole lines in [buf, buf + len) (each ends with a newline).
 * Returns 1 when -m is reached, else 0.
 */
static int search_block(struct grep *g, const char *buf, size_t len)
{
	const struct options *o = g->o;
	const char *p = buf, *end = buf + len;

	while (p < end) {
		const char *hit, *ls, *le;

		hit = o->pat_len ? memmem(p, end - p, o->pat, o->pat_len) : p;
		ls = end;
		if (hit) {
			ls = memrchr(p, '\n', hit - p);
			ls = ls ? ls + 1 : p;
		}
		if (o->invert) {
			/* The lines before the hit's line are selected. */
			while (p < ls) {
				le = memchr(p, '\n', ls - p);
				if (put_line(g, p, le + 1 - p, ++g->lines))
					return 1;
				p = le + 1;
			}
			if (!hit)
				break;
			p = (const char *)memchr(hit, '\n', end - hit) + 1;
			g->lines++;
			continue;
		}
		if (!hit) {
			if (o->count_lines)
				g->lines += count_lines(p, end);
			break;
		}
		if (o->count_lines)
			g->lines += count_lines(p, ls);
		le = memchr(hit, '\n', end - hit);
		if (put_line(g, ls, le + 1 - ls, ++g->lines))
			return 1;
		p = le + 1;
	}
	return 0;
}

/*
 * Search @fd from its current position (a line start) to end of file in
 * user space. Returns 0 or -errno.
 */
static int grep_user(struct grep *g, int fd, __u64 size)
{
	size_t cap = USER_BUF, have = 0;
	char *buf = malloc(cap + 1), *nbuf;
	__u64 done = g->done_off;
	int err = 0;

	if (!buf)
		return -ENOMEM;
	while (!g->done) {
		ssize_t n;
		char *last;

		if (have == cap) {	/* a line longer than the buffer */
			nbuf = realloc(buf, cap * 2 + 1);
			if (!nbuf) {
				err = -ENOMEM;
				break;
			}
			buf = nbuf;
			cap *= 2;
		}
		n = cli_read(fd, buf + have, cap - have, g->stats);
		if (n < 0) {
			err = n;
			break;
		}
		g->stats->scanned += n;
		done += n;
		cli_progress_update(&g->progress, done, size);
		if (n > 0)
			g->last = (unsigned char)buf[have + n - 1];
		if (n == 0) {
			if (have) {	/* a last line without newline */
				buf[have++] = '\n';
				search_block(g, buf, have);
			}
			break;
		}
		last = memrchr(buf + have, '\n', n);
		have += n;
		if (!last)
			continue;
		if (search_block(g, buf, last + 1 - buf))
			break;
		have -= last + 1 - buf;
		memmove(buf, last + 1, have);
	}
	free(buf);
	return err;
}

/* Keep a selected line of a segment. Returns 0, or 1 when out of memory. */
static int seg_add(struct grep_seg *r, const char *line, size_t len,
		   __u64 lineno)
{
	if (r->len + len > r->cap) {
		size_t cap = r->cap ? r->cap : 65536;
		char *p;

		while (cap < r->len + len)
			cap *= 2;
		p = realloc(r->data, cap);
		if (!p)
			goto nomem;
		r->data = p;
		r->cap = cap;
	}
	if (r->keep_lines && r->nline == r->line_cap) {
		size_t cap = r->line_cap ? r->line_cap * 2 : 1024;
		struct grep_seg_line *p = reallocarray(r->line, cap, sizeof(*p));

		if (!p)
			goto nomem;
		r->line = p;
		r->line_cap = cap;
	}
	memcpy(r->data + r->len, line, len);
	r->len += len;
	if (!r->keep_lines)
		return 0;
	r->line[r->nline].lineno = lineno;
	r->line[r->nline++].len = len;
	return 0;
nomem:
	r->err = -ENOMEM;
	return 1;
}

static int seg_reduce(void *ctx, void *res, char *buf, size_t len, bool nolf)
{
	const struct grep *g0 = ctx;
	struct grep_seg *r = res;
	struct grep g = { .o = g0->o, .seg = r };

	r->keep_lines = g0->o->number || g0->with_name || g0->o->have_max;
	r->last = len ? (unsigned char)buf[len - 1] : -1;
	if (nolf)		/* as grep_user(): a last line without newline */
		buf[len++] = '\n';
	search_block(&g, buf, len);
	r->lines = g.lines;
	r->nsel = g.nsel;
	return r->err;
}

static int seg_deliver(void *ctx, void *res)
{
	struct grep *g = ctx;
	const struct grep_seg *r = res;
	const struct options *o = g->o;
	const char *p = r->data;
	size_t i;

	if (o->count) {
		g->nsel += r->nsel;
		if (o->have_max && g->nsel >= o->max_count) {
			g->nsel = o->max_count;
			g->done = true;
			return 1;
		}
	}
	if (!o->count && !r->keep_lines && r->len) {
		/* No prefix, no -m: the lines as they are. */
		if (g->part)
			part_out_data(g->part, r->data, r->len);
		else
			fwrite_unlocked(r->data, 1, r->len, stdout);
		g->nsel += r->nsel;
	}
	for (i = 0; i < r->nline; p += r->line[i++].len) {
		if (put_line(g, p, r->line[i].len, g->lines + r->line[i].lineno)) {
			g->lines += r->line[i].lineno;
			return 1;
		}
	}
	g->lines += r->lines;
	if (r->last >= 0)
		g->last = r->last;
	return 0;
}

static void seg_release(void *ctx, void *res)
{
	struct grep_seg *r = res;

	(void)ctx;
	free(r->data);
	free(r->line);
}

/*
 * Search the regular file @fd (@size bytes) from offset 0 with -j threads
 * reading segments of lines with pread(): the same output as grep_user().
 * Returns 0 or -errno.
 */
static int grep_user_par(struct grep *g, int fd, __u64 size)
{
	static const struct uscan_ops ops = {
		.reduce = seg_reduce,
		.deliver = seg_deliver,
		.release = seg_release,
	};

	return uscan(fd, size, g->o->jobs, sizeof(struct grep_seg), &ops, g,
		     g->stats, &g->progress);
}

/* ---- sfr ----------------------------------------------------------------- */

/* A frame's state, in file order, before its output. */
static int on_state(const void *state, size_t len, void *ctx)
{
	const struct fgrep_state *st = state;
	struct grep *g = ctx;

	if (g->halt || g->done)
		return 1;
	if (len != sizeof(*st))
		return -EPROTO;
	g->stats->copied += sizeof(struct sfr_frame) + len;
	g->frame_base = g->lines;
	g->lines += st->nlines;
	if (st->err) {
		/* Take this frame's output, then continue elsewhere. */
		g->halt = st->err;
		g->halt_off = st->line_start;
	} else if (!st->stop) {
		g->done_off = st->line_start;
	}
	if (g->o->count) {
		g->nsel += st->nsel;
		if (g->o->have_max && g->nsel >= g->o->max_count) {
			g->nsel = g->o->max_count;
			g->done = true;
			return 1;
		}
	}
	return 0;
}

/* A frame's records, in file order. */
static int on_output(const void *out, size_t len, void *ctx)
{
	const char *p = out, *end = p + len;
	struct grep *g = ctx;

	g->stats->copied += len;
	if (!g->o->number && !g->with_name && !g->o->have_max && !g->part) {
		/* Plain lines: print as they are; count them for -m only. */
		fwrite_unlocked(out, 1, len, stdout);
		g->nsel++;	/* at least one line: the exit status */
		return 0;
	}
	while (p < end) {
		struct fgrep_rec rec = { 0 };
		const char *le;

		if (g->o->number) {
			if (end - p < (long)sizeof(rec))
				return -EPROTO;
			memcpy(&rec, p, sizeof(rec));
			p += sizeof(rec);
		}
		le = memchr(p, '\n', end - p);
		if (!le)
			return -EPROTO;
		if (put_line(g, p, le + 1 - p, g->frame_base + rec.line + 1))
			return 1;
		p = le + 1;
	}
	return 0;
}

static void on_progress(__u64 done, __u64 total, void *ctx)
{
	struct grep *g = ctx;

	cli_progress_update(&g->progress, done, total);
}

static int load_prog(const struct options *o)
{
	struct fgrep_dfa *dfa;
	__u32 key = 0;
	int err;

	skel = fgrep_bpf__open();
	if (!skel)
		return -errno;
	skel->rodata->pat_len = o->pat_len;
	memcpy(skel->bss->pat, o->pat, o->pat_len);
	skel->rodata->invert = o->invert;
	skel->rodata->count_only = o->count;
	skel->rodata->line_numbers = o->number && !o->count;
	skel->rodata->max_count = o->have_max ? o->max_count : 0;
	err = fgrep_bpf__load(skel);
	if (err)
		goto fail;
	dfa = calloc(1, sizeof(*dfa));
	if (!dfa) {
		err = -ENOMEM;
		goto fail;
	}
	if (cli_debug_on()) {
		struct bpf_prog_info info = { 0 };
		__u32 len = sizeof(info);

		if (!bpf_obj_get_info_by_fd(bpf_program__fd(skel->progs.fgrep),
					    &info, &len))
			cli_debug("BPF program loaded: %u instructions, %u processed by the verifier",
				  info.xlated_prog_len / 8, info.verified_insns);
	}
	sfr_kmp_build(dfa->next, o->pat, o->pat_len);
	err = bpf_map_update_elem(bpf_map__fd(skel->maps.dfa_map), &key, dfa, 0);
	err = err ? -errno : 0;
	free(dfa);
	if (err)
		goto fail;
	return 0;
fail:
	fgrep_bpf__destroy(skel);
	skel = NULL;
	return err;
}

/*
 * Read frames one request at a time from @off (a line start) to end of
 * file, for what sfr_scan() could not do: a larger buffer after EMSGSIZE,
 * or going on after a frame that ended early. Returns 0 or -errno.
 */
static int grep_sfr_seq(struct grep *g, struct sfr_link *link, __u64 off,
			size_t buf_size)
{
	struct sfr_reply r;
	char *buf = malloc(buf_size);
	ssize_t n;
	int ret = 0;

	if (!buf)
		return -ENOMEM;
	g->halt = 0;
	g->done_off = off;
	cli_debug("%s: requests one by one from byte %llu, %zu-byte buffer",
		  g->name, (unsigned long long)off, buf_size);
	for (;;) {
		n = sfr_read(link, off, buf, buf_size, &r);
		if (n <= 0) {
			ret = n;
			break;
		}
		ret = on_state(r.state, r.state_len, g);
		if (!ret && r.out_len)
			ret = on_output(r.out, r.out_len, g);
		if (ret)
			break;
		if (g->halt)
			break;
		off = r.next_off;
		cli_progress_update(&g->progress, off, g->size);
		if ((r.flags & SFR_FRAME_EOF) && !r.more)
			break;
	}
	free(buf);
	return ret < 0 ? ret : 0;
}

/* Go on in user space from byte @off: @fd reads the file's bytes; drop the link. */
static int grep_rest_user(struct grep *g, struct sfr_link **link, int fd,
			  __u64 off, __u64 size)
{
	cli_stats_add_link(g->stats, *link);
	sfr_link__destroy(*link);
	*link = NULL;
	if (lseek(fd, off, SEEK_SET) < 0)
		return -errno;
	g->done_off = off;
	cli_stats_method(g->stats, CLI_METHOD_USER);
	return grep_user(g, fd, size);
}

/*
 * Search @fd with the BPF program. Returns 0, -errno, or 1 when the file
 * cannot be attached (nothing was read: search it in user space).
 */
static int grep_sfr(struct grep *g, int fd, const struct stat *st)
{
	const struct options *o = g->o;
	size_t buf_size = o->count ? BUF_COUNT : o->buf_size;
	SFR_OPTS(sfr_attach_opts, ao,
		 .windows = o->jobs,
		 .delim = '\n',
		 .scratch_size = sizeof(struct fgrep_state));
	SFR_OPTS(sfr_scan_opts, so,
		 .buf_size = buf_size,
		 .combine = on_state,
		 .output = on_output,
		 .progress = on_progress,
		 .ctx = g,
		 .depth = o->jobs < SCAN_DEPTH ? o->jobs : SCAN_DEPTH,
		 .threads = o->uring ? 1 : 0);
	struct sfr_link *link;
	int err;

	link = sfr_attach(fd, skel->progs.fgrep, &ao);
	if (!link) {
		err = errno;
		cli_fallback_notice(g->name, err);
		return 1;
	}
	cli_stats_method(g->stats, CLI_METHOD_SFR);
	err = sfr_scan(link, &so);
	for (;;) {
		if (err == -EMSGSIZE && buf_size < BUF_MAX) {
			/* A selected line larger than the buffer. */
			buf_size = buf_size * 4 < BUF_MAX ? buf_size * 4 : BUF_MAX;
			err = grep_sfr_seq(g, link, g->done_off, buf_size);
			continue;
		}
		if (err == -EMSGSIZE) {
			cli_notice("%s: a selected line after byte %llu is longer than sfr can return (%u MiB): going on in user space",
				   g->name, (unsigned long long)g->done_off,
				   FGREP_OUT_MAX >> 20);
			err = grep_rest_user(g, &link, fd, g->done_off,
					     st->st_size);
			break;
		}
		if (err || g->done || !g->halt)
			break;
		if (g->halt == FGREP_ERR_LONG) {
			cli_notice("%s: the selected line at byte %llu is longer than sfr can return (%u MiB): going on in user space",
				   g->name, (unsigned long long)g->halt_off,
				   FGREP_OUT_MAX >> 20);
			err = grep_rest_user(g, &link, fd, g->halt_off,
					     st->st_size);
			break;
		}
		if (g->halt == FGREP_ERR_FINI) {
			err = grep_sfr_seq(g, link, g->halt_off, buf_size);
			continue;
		}
		cli_error("%s: the BPF program failed at byte %llu",
			  g->name, (unsigned long long)g->halt_off);
		err = -EIO;
		break;
	}
	if (link) {
		cli_stats_add_link(g->stats, link);
		sfr_link__destroy(link);
	}
	return err;
}

/* ---- partial results ------------------------------------------------------ */

/* --partial: finish the blob of @g, input @fd. Returns 0, or -1 after a message. */
static int grep_partial_end(struct grep *g, int fd, const struct stat *st)
{
	int nolf = part_no_final_lf(fd, st, g->last);

	if (nolf < 0) {
		cli_error("%s: %s", g->name, strerror(-nolf));
		part_out_abort(g->part);
		return -1;
	}
	return part_out_grep_end(g->part, g->nsel, g->lines, nolf);
}

/* The options of blob @g as the command line asks: those given, else @g's. */
static struct part_grep grep_asked(const struct options *o,
				   const struct part_grep *g)
{
	struct part_grep want = *g;

	want.count |= o->count;
	want.invert |= o->invert;
	want.number = (want.number || o->number) && !want.count;
	if (o->have_pat) {
		want.pat = o->pat;
		want.pat_len = o->pat_len;
	}
	return want;
}

/* Print the lines of blob @g, numbered from line @base on with -n. */
static void put_blob_lines(const struct part_grep *g, __u64 base)
{
	const char *line;
	size_t off = 0, len;
	__u64 lineno;

	if (!g->number) {
		fwrite_unlocked(g->data, 1, g->data_len, stdout);
		return;
	}
	while ((len = part_grep_next(g, &off, &line, &lineno))) {
		printf("%llu:", (unsigned long long)(base + lineno));
		fwrite_unlocked(line, 1, len, stdout);
	}
}

/* Append the lines of blob @g to blob @po, numbered from line @base on with -n. */
static void part_blob_lines(struct part_out *po, const struct part_grep *g,
			    __u64 base)
{
	const char *line;
	size_t off = 0, len;
	__u64 lineno;

	if (!g->number) {
		part_out_data(po, g->data, g->data_len);
		return;
	}
	while ((len = part_grep_next(g, &off, &line, &lineno))) {
		part_out_lineno(po, base + lineno);
		part_out_data(po, line, len);
	}
}

/*
 * --merge: check all the blobs, then print what grep prints for their
 * shards' concatenation (--partial: write it as one blob to @po).
 * Returns the exit status.
 */
static int grep_merge(const struct options *o, const char *const *paths,
		      int n, struct part_out *po)
{
	const unsigned int kinds = PART_KIND_BIT(PART_GREP_COUNT) |
				   PART_KIND_BIT(PART_GREP_LINES);
	struct part_blob *b = calloc(n, sizeof(*b));
	struct part_grep *g = calloc(n, sizeof(*g)), want;
	__u64 nsel = 0, lines = 0, base = 0;
	const char *prev = NULL;
	bool nolf = false;
	int i, ret = 2;

	if (!b || !g) {
		cli_error("%s", strerror(ENOMEM));
		goto out;
	}
	for (i = 0; i < n; i++) {
		if (part_read(&b[i], paths[i], kinds) ||
		    part_get_grep(&b[i], &g[i]))
			goto out;
		want = i ? g[0] : grep_asked(o, &g[i]);
		if (part_grep_match(&g[i], &want, b[i].name,
				    i ? b[0].name : NULL) ||
		    part_check_follow(prev, nolf, b[i].name, g[i].lines))
			goto out;
		if (g[i].lines) {
			prev = b[i].name;
			nolf = g[i].no_final_lf;
		}
		nsel += g[i].nsel;
		lines += g[i].lines;
	}
	if (po)
		part_out_grep(po, g[0].count ? PART_GREP_COUNT : PART_GREP_LINES,
			      g[0].invert, g[0].number, g[0].pat, g[0].pat_len);
	for (i = 0; i < n && !g[0].count; i++) {
		if (po)
			part_blob_lines(po, &g[i], base);
		else
			put_blob_lines(&g[i], base);
		base += g[i].lines;
	}
	if (po) {
		if (part_out_grep_end(po, nsel, lines, nolf))
			goto out;
	} else if (g[0].count && !(g[0].invert && !g[0].pat_len)) {
		/* As grep: -c -v '' selects nothing and prints no count. */
		printf("%llu\n", (unsigned long long)nsel);
	}
	ret = nsel ? 0 : 1;
out:
	for (i = 0; b && i < n; i++)
		part_free(&b[i]);
	free(b);
	free(g);
	return ret;
}

/* ---- driver -------------------------------------------------------------- */

/* Load the program for cli_want_sfr(), once. */
static int load_once(const void *o)
{
	return skel ? 0 : load_prog(o);
}

/* The rules of --partial, --output and --merge. Returns 0, or -1 after a message. */
static int usage_partial(const struct options *o, int nfiles)
{
	const char *err = part_usage(o->partial, o->merge, o->out, nfiles);
	bool shards = o->partial || o->merge;

	if (!err && shards && o->have_max)
		err = "-m does not add up over shards: not with --partial or --merge";
	if (!err && shards && o->with_name == 1)
		err = "-H: the merged output has no file names: not with --partial or --merge";
	if (!err && o->merge && (o->have_jobs || o->mode == CLI_MODE_USER ||
				 o->have_buf || o->stats))
		err = "--merge reads no data file: -j, --no-offload, --buffer-size and --stats do not apply";
	if (!err)
		return 0;
	cli_error("%s", err);
	fprintf(stderr, "Try '%s --help' for more information.\n", cli_prog());
	return -1;
}

int main(int argc, char **argv)
{
	enum {
		OPT_NO_OFFLOAD = 256, OPT_OFFLOAD_MIN, OPT_URING, OPT_STATS, OPT_DEBUG, OPT_HELP, OPT_BUF,
		OPT_PARTIAL, OPT_MERGE, OPT_OUTPUT,
	};
	static const struct option longopts[] = {
		{ "count", no_argument, NULL, 'c' },
		{ "line-number", no_argument, NULL, 'n' },
		{ "max-count", required_argument, NULL, 'm' },
		{ "invert-match", no_argument, NULL, 'v' },
		{ "with-filename", no_argument, NULL, 'H' },
		{ "no-filename", no_argument, NULL, 'h' },
		{ "regexp", required_argument, NULL, 'e' },
		{ "fixed-strings", no_argument, NULL, 'F' },
		{ "jobs", required_argument, NULL, 'j' },
		{ "no-offload", no_argument, NULL, OPT_NO_OFFLOAD },
		{ "offload-min", required_argument, NULL, OPT_OFFLOAD_MIN },
		{ "io-uring", no_argument, NULL, OPT_URING },
		{ "buffer-size", required_argument, NULL, OPT_BUF },
		{ "stats", no_argument, NULL, OPT_STATS },
		{ "partial", no_argument, NULL, OPT_PARTIAL },
		{ "output", required_argument, NULL, OPT_OUTPUT },
		{ "merge", no_argument, NULL, OPT_MERGE },
		{ "debug", no_argument, NULL, OPT_DEBUG },
		{ "help", no_argument, NULL, OPT_HELP },
		{ 0 }
	};
	struct options o = {
		.with_name = -1, .jobs = 1, .buf_size = BUF_DEFAULT,
	};
	static const char *const stdin_only[] = { "-" };
	const char *offload_min = NULL;
	const char *const *files;
	struct cli_stats stats;
	struct part_out *po = NULL;
	bool selected = false, error = false;
	int opt, nfiles, i;

	cli_init(argv[0]);
	cli_set_debug(false);
	while ((opt = getopt_long(argc, argv, "cnm:vHhe:Fj:", longopts,
				  NULL)) != -1) {
		switch (opt) {
		case 'c':
			o.count = true;
			break;
		case 'n':
			o.number = true;
			break;
		case 'v':
			o.invert = true;
			break;
		case 'H':
			o.with_name = 1;
			break;
		case 'h':
			o.with_name = 0;
			break;
		case 'F':
			break;
		case 'm':
			if (cli_parse_u64("max count", optarg, 0, UINT64_MAX,
					  &o.max_count))
				return 2;
			o.have_max = true;
			break;
		case 'e':
			if (o.pat) {
				cli_error("only one PATTERN is supported");
				return 2;
			}
			o.pat = optarg;
			o.have_pat = true;
			break;
		case 'j':
			if (cli_parse_uint("number of jobs", optarg, 1, JOBS_MAX,
					   &o.jobs))
				return 2;
			o.have_jobs = true;
			break;
		case OPT_BUF:
			if (cli_parse_size("buffer size", optarg, 4096,
					   BUF_MAX, &o.buf_size))
				return 2;
			o.have_buf = true;
			break;
		case OPT_PARTIAL:
			o.partial = true;
			break;
		case OPT_MERGE:
			o.merge = true;
			break;
		case OPT_OUTPUT:
			o.out = optarg;
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
		case OPT_DEBUG:
			cli_set_debug(true);
			break;
		case OPT_HELP:
			usage(stdout);
			return 0;
		default:
			fprintf(stderr, "Try '%s --help' for more information.\n",
				cli_prog());
			return 2;
		}
	}
	if (cli_offload_min_init(offload_min, OFFLOAD_MIN))
		return 2;
	if (!o.pat && !o.merge) {
		if (optind >= argc) {
			fprintf(stderr, "Usage: %s [OPTION]... PATTERN [FILE]...\n"
				"Try '%s --help' for more information.\n",
				cli_prog(), cli_prog());
			return 2;
		}
		o.pat = argv[optind++];
	}
	o.pat_len = o.pat ? strlen(o.pat) : 0;
	if (o.pat_len && memchr(o.pat, '\n', o.pat_len)) {
		cli_error("PATTERN contains a newline: several patterns are not supported");
		return 2;
	}
	files = (const char *const *)argv + optind;
	nfiles = argc - optind;
	if (usage_partial(&o, nfiles))
		return 2;
	o.count_lines = o.number || o.partial;
	if (o.merge) {
		setvbuf(stdout, outbuf, _IOFBF, sizeof(outbuf));
		/* --partial: open the output first, as a scan does. */
		if (o.partial) {
			po = part_out_new(o.out);
			if (!po)
				return 2;
		}
		i = grep_merge(&o, files, nfiles, po);
		if (po) {
			if (i == 2)
				part_out_abort(po);	/* no-op once complete */
			free(po);
		}
		if (fflush(stdout) || ferror(stdout)) {
			cli_error("write error: %s", strerror(errno));
			i = 2;
		}
		return i;
	}
	if (!nfiles) {
		files = stdin_only;
		nfiles = 1;
	}
	if (o.with_name < 0)
		o.with_name = nfiles > 1;
	/*
	 * As grep: nothing can be selected, so nothing is read (but a blob
	 * has the shard's line count).
	 */
	if (!o.partial &&
	    ((o.have_max && !o.max_count) || (!o.pat_len && o.invert)))
		nfiles = 0;
	if (nfiles && o.pat_len > FGREP_PAT_MAX && o.mode != CLI_MODE_USER) {
		cli_notice("PATTERN is longer than %d bytes, the most the BPF program takes: computing in user space",
			   FGREP_PAT_MAX);
		o.mode = CLI_MODE_USER;
	}

	setvbuf(stdout, outbuf, _IOFBF, sizeof(outbuf));
	cli_stats_init(&stats);
	stats.windows = o.jobs;
	stats.uring = o.uring;
	if (o.partial) {
		/* Open the output first: no scan when it cannot be written. */
		po = part_out_new(o.out);
		if (!po)
			return 2;
		part_out_grep(po, o.count ? PART_GREP_COUNT : PART_GREP_LINES,
			      o.invert, o.number, o.pat, o.pat_len);
	}

	for (i = 0; i < nfiles; i++) {
		struct grep g = {
			.o = &o,
			.name = cli_input_name(files[i]),
			.with_name = o.with_name,
			.last = -1,
			.part = po,
			.stats = &stats,
		};
		struct stat st;
		int fd, err = 1;

		fd = cli_open_input(files[i], &st);
		if (fd < 0) {
			/* grep counts a directory it could not read as 0. */
			if (o.count && errno == EISDIR && !o.partial)
				printf("%s%s0\n", o.with_name ? g.name : "",
				       o.with_name ? ":" : "");
			error = true;
			continue;
		}
		g.size = S_ISREG(st.st_mode) ? st.st_size : 0;
		cli_progress_begin(&g.progress, g.name, o.count);
		if (cli_want_sfr(o.mode, &st, files[i], load_once, &o, &stats))
			err = grep_sfr(&g, fd, &st);
		if (err == 1) {
			cli_stats_method(&stats, CLI_METHOD_USER);
			if (uscan_fits(fd, &st, o.jobs))
				err = grep_user_par(&g, fd, g.size);
			else
				err = grep_user(&g, fd, g.size);
		}
		cli_progress_end(&g.progress);
		if (err < 0) {
			fflush(stdout);
			cli_error("%s: %s", g.name, strerror(-err));
			error = true;
		}
		if (o.partial && err >= 0) {
			if (grep_partial_end(&g, fd, &st))
				error = true;
		} else if (o.count && !o.partial) {
			if (o.with_name)
				printf("%s:", g.name);
			printf("%llu\n", (unsigned long long)g.nsel);
		}
		if (g.nsel)
			selected = true;
		cli_close_input(fd);
	}

	if (fflush(stdout) || ferror(stdout)) {
		cli_error("write error: %s", strerror(errno));
		error = true;
	}
	if (po) {
		if (error)
			part_out_abort(po);	/* no-op once it is complete */
		free(po);
	}
	if (o.stats)
		cli_stats_print(&stats);
	if (skel)
		fgrep_bpf__destroy(skel);
	return error ? 2 : selected ? 0 : 1;
}
