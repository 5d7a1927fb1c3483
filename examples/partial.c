// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Partial results of sfr-avg and sfr-grep; the format is in partial.h. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common.h"
#include "partial.h"

static const __u8 magic[8] = "SFRPART";	/* with its NUL */

#define HEADER_LEN	16
#define TRAILER_LEN	12
#define AVG_PARAMS_LEN	8
#define AVG_SUMMARY_LEN	76
#define GREP_PARAMS_LEN	8	/* and the pattern */
#define GREP_SUMMARY_LEN 32

/* ---- encoding ------------------------------------------------------------ */

/* Store the low @n bytes of @v at @p, least significant first. */
static void put_le(__u8 *p, __u64 v, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		p[i] = (__u8)(v >> (8 * i));
}

static __u64 get_le(const __u8 *p, unsigned int n)
{
	__u64 v = 0;
	unsigned int i;

	for (i = 0; i < n; i++)
		v |= (__u64)p[i] << (8 * i);
	return v;
}

/* CRC-32 of IEEE 802.3 (reflected, polynomial 0xedb88320), continued. */
static __u32 crc32_add(__u32 crc, const void *buf, size_t len)
{
	static __u32 table[256];
	const __u8 *p = buf;
	__u32 i, k, c;

	if (!table[1]) {
		for (i = 0; i < 256; i++) {
			c = i;
			for (k = 0; k < 8; k++)
				c = (c & 1) ? 0xedb88320U ^ (c >> 1) : c >> 1;
			table[i] = c;
		}
	}
	crc = ~crc;
	while (len--)
		crc = table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return ~crc;
}

static const char *kind_name(unsigned int kind)
{
	switch (kind) {
	case PART_AVG:
		return "sfr-avg";
	case PART_GREP_COUNT:
		return "sfr-grep -c";
	case PART_GREP_LINES:
		return "sfr-grep (lines)";
	default:
		return "?";
	}
}

/* ---- writing ------------------------------------------------------------- */

static void out_raw(struct part_out *o, const void *buf, size_t len)
{
	if (!len)
		return;
	o->crc = crc32_add(o->crc, buf, len);
	o->len += len;
	if (!o->err && fwrite(buf, 1, len, o->f) != len)
		o->err = errno ? errno : EIO;
}

static void out_u32(struct part_out *o, __u32 v)
{
	__u8 b[4];

	put_le(b, v, 4);
	out_raw(o, b, sizeof(b));
}

static void out_chunk(struct part_out *o)
{
	if (!o->used)
		return;
	out_u32(o, (__u32)o->used);
	out_raw(o, o->chunk, o->used);
	o->used = 0;
}

int part_out_open(struct part_out *o, const char *path)
{
	int fd;

	memset(o, 0, offsetof(struct part_out, chunk));
	if (!path || !strcmp(path, "-")) {
		if (isatty(STDOUT_FILENO)) {
			cli_error("will not write a binary blob to a terminal: redirect standard output or name an output file");
			return -1;
		}
		o->f = stdout;
		return 0;
	}
	o->path = path;
	if (asprintf(&o->tmp, "%s.tmp.%d", path, (int)getpid()) < 0) {
		o->tmp = NULL;
		cli_error("%s: %s", path, strerror(ENOMEM));
		return -1;
	}
	fd = open(o->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
	if (fd >= 0) {
		o->f = fdopen(fd, "w");
		if (!o->f)
			close(fd);
	}
	if (!o->f) {
		cli_error("%s: %s", o->tmp, strerror(errno));
		if (fd >= 0)
			unlink(o->tmp);
		free(o->tmp);
		o->tmp = NULL;
		return -1;
	}
	return 0;
}

struct part_out *part_out_new(const char *path)
{
	struct part_out *o = malloc(sizeof(*o));

	if (!o) {
		cli_error("%s", strerror(ENOMEM));
		return NULL;
	}
	if (part_out_open(o, path)) {
		free(o);
		return NULL;
	}
	return o;
}

/* The header of a blob whose parameters are @len bytes. */
static void out_header(struct part_out *o, enum part_kind kind, size_t len)
{
	__u8 h[HEADER_LEN];

	memcpy(h, magic, sizeof(magic));
	put_le(h + 8, PART_VERSION, 2);
	put_le(h + 10, kind, 2);
	put_le(h + 12, len, 4);
	out_raw(o, h, sizeof(h));
}

/* The end of the data, the summary and the trailer; then close. */
static int out_end(struct part_out *o, const __u8 *summary, size_t len)
{
	__u8 t[TRAILER_LEN];
	const char *name = o->tmp ? o->tmp : "standard output";

	out_chunk(o);
	out_u32(o, 0);
	out_u32(o, (__u32)len);
	out_raw(o, summary, len);
	put_le(t, o->len + TRAILER_LEN, 8);
	out_raw(o, t, 8);
	put_le(t + 8, o->crc, 4);
	if (!o->err && fwrite(t + 8, 1, 4, o->f) != 4)
		o->err = errno ? errno : EIO;
	if (fflush(o->f) && !o->err)
		o->err = errno;
	if (o->tmp) {
		if (fclose(o->f) && !o->err)
			o->err = errno;
		o->f = NULL;
		if (!o->err && rename(o->tmp, o->path))
			o->err = errno;
	}
	if (o->err) {
		cli_error("%s: %s", name, strerror(o->err));
		part_out_abort(o);
		return -1;
	}
	free(o->tmp);
	o->tmp = NULL;
	return 0;
}

void part_out_abort(struct part_out *o)
{
	if (!o->tmp)
		return;
	if (o->f)
		fclose(o->f);
	o->f = NULL;
	unlink(o->tmp);
	free(o->tmp);
	o->tmp = NULL;
}

void part_out_grep(struct part_out *o, enum part_kind kind, bool invert,
		   bool number, const char *pat, size_t pat_len)
{
	__u32 flags = invert ? PART_GREP_INVERT : 0;
	__u8 p[GREP_PARAMS_LEN];

	if (number && kind == PART_GREP_LINES)
		flags |= PART_GREP_NUMBER;
	put_le(p, flags, 4);
	put_le(p + 4, pat_len, 4);
	out_header(o, kind, sizeof(p) + pat_len);
	out_raw(o, p, sizeof(p));
	out_raw(o, pat, pat_len);
}

void part_out_data(struct part_out *o, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		size_t n = PART_CHUNK - o->used;

		if (n > len)
			n = len;
		memcpy(o->chunk + o->used, p, n);
		o->used += n;
		o->data_len += n;
		p += n;
		len -= n;
		if (o->used == PART_CHUNK)
			out_chunk(o);
	}
}

void part_out_lineno(struct part_out *o, __u64 lineno)
{
	__u8 b[8];

	put_le(b, lineno, 8);
	part_out_data(o, b, sizeof(b));
}

int part_out_grep_end(struct part_out *o, __u64 nsel, __u64 lines,
		      bool no_final_lf)
{
	__u8 s[GREP_SUMMARY_LEN] = { 0 };

	put_le(s, nsel, 8);
	put_le(s + 8, lines, 8);
	put_le(s + 16, o->data_len, 8);
	put_le(s + 24, no_final_lf ? PART_NO_FINAL_LF : 0, 4);
	return out_end(o, s, sizeof(s));
}

int part_out_avg(struct part_out *o, const struct sfr_fx_cfg *cfg,
		 unsigned int decimals, const struct sfr_fx_state *st,
		 bool no_final_lf)
{
	__u8 p[AVG_PARAMS_LEN] = { 0 }, s[AVG_SUMMARY_LEN] = { 0 };
	bool any = st->count > 0, inv = st->invalid > 0;

	p[0] = cfg->scale;
	p[1] = (__u8)decimals;
	p[2] = cfg->delim;
	put_le(p + 4, cfg->delim ? cfg->field : 0, 4);
	out_header(o, PART_AVG, sizeof(p));
	out_raw(o, p, sizeof(p));
	put_le(s, st->count, 8);
	put_le(s + 8, st->sum.lo, 8);
	put_le(s + 16, (__u64)st->sum.hi, 8);
	put_le(s + 24, any ? (__u64)st->min : 0, 8);
	put_le(s + 32, any ? (__u64)st->max : 0, 8);
	put_le(s + 40, st->invalid, 8);
	put_le(s + 48, st->lines, 8);
	put_le(s + 56, inv ? st->first_invalid : 0, 8);
	put_le(s + 64, inv ? st->first_err : 0, 4);
	put_le(s + 68, no_final_lf ? PART_NO_FINAL_LF : 0, 4);
	return out_end(o, s, sizeof(s));
}

int part_no_final_lf(int fd, const struct stat *st, int last)
{
	char c;
	ssize_t n;

	if (!S_ISREG(st->st_mode))
		return last >= 0 && last != '\n';
	if (!st->st_size)
		return 0;
	n = pread(fd, &c, 1, st->st_size - 1);
	if (n < 0)
		return -errno;
	if (n == 0)
		return -EIO;	/* it shrank while we read it */
	return c != '\n';
}

/* ---- reading ------------------------------------------------------------- */

/* Read all of @fd into *@buf (malloc'd), its length in *@len. */
static int read_all(int fd, const struct stat *st, __u8 **buf, size_t *len)
{
	size_t cap = S_ISREG(st->st_mode) && st->st_size > 0 ?
			     (size_t)st->st_size + 1 : 4096;
	size_t have = 0;
	__u8 *b = NULL, *nb;
	ssize_t n;

	for (;;) {
		if (have == cap || !b) {
			cap = b ? cap * 2 : cap;
			nb = realloc(b, cap);
			if (!nb) {
				free(b);
				return -ENOMEM;
			}
			b = nb;
		}
		n = cli_read(fd, b + have, cap - have, NULL);
		if (n < 0) {
			free(b);
			return (int)n;
		}
		if (n == 0)
			break;
		have += n;
	}
	*buf = b;
	*len = have;
	return 0;
}

static int blob_truncated(const struct part_blob *b, const char *where)
{
	cli_error("%s: truncated: %zu bytes, cut off in its %s", b->name,
		  b->size, where);
	return -1;
}

static int blob_corrupt(const struct part_blob *b, const char *what)
{
	cli_error("%s: corrupt: %s", b->name, what);
	return -1;
}

/* Walk the structure, check the CRC, join the data's chunks in place. */
static int check_blob(struct part_blob *b, unsigned int kinds)
{
	__u8 *p = b->buf;
	size_t n = b->size, off, start, dst;
	__u32 crc, len;

	if (memcmp(p, magic, n < sizeof(magic) ? n : sizeof(magic))) {
		cli_error("%s: not a partial result of sfr-avg or sfr-grep (no SFRPART magic)",
			  b->name);
		return -1;
	}
	if (n < HEADER_LEN)
		return blob_truncated(b, "header");
	if (get_le(p + 8, 2) != PART_VERSION) {
		cli_error("%s: unsupported version %u (this %s reads version %u)",
			  b->name, (unsigned int)get_le(p + 8, 2), cli_prog(),
			  PART_VERSION);
		return -1;
	}
	b->kind = (enum part_kind)get_le(p + 10, 2);
	b->params_len = get_le(p + 12, 4);
	off = HEADER_LEN;
	if (b->params_len > n - off)
		return blob_truncated(b, "parameters");
	b->params = p + off;
	off += b->params_len;
	start = off;
	for (;;) {
		if (n - off < 4)
			return blob_truncated(b, "data");
		len = get_le(p + off, 4);
		off += 4;
		if (!len)
			break;
		if (len > n - off)
			return blob_truncated(b, "data");
		off += len;
	}
	if (n - off < 4)
		return blob_truncated(b, "summary");
	b->summary_len = get_le(p + off, 4);
	off += 4;
	if (b->summary_len > n - off)
		return blob_truncated(b, "summary");
	b->summary = p + off;
	off += b->summary_len;
	if (n - off < TRAILER_LEN)
		return blob_truncated(b, "trailer");
	if (n - off > TRAILER_LEN) {
		cli_error("%s: corrupt: %zu bytes after the end of the blob",
			  b->name, n - off - TRAILER_LEN);
		return -1;
	}
	crc = crc32_add(0, p, off + 8);
	if (crc != get_le(p + off + 8, 4)) {
		cli_error("%s: checksum mismatch (CRC-32 %08x, the blob says %08x): the blob is corrupt",
			  b->name, crc, (__u32)get_le(p + off + 8, 4));
		return -1;
	}
	if (get_le(p + off, 8) != n)
		return blob_corrupt(b, "its length field is wrong");
	if (b->kind < PART_AVG || b->kind > PART_GREP_LINES) {
		cli_error("%s: unknown kind of partial result %u", b->name,
			  b->kind);
		return -1;
	}
	if (!(kinds & PART_KIND_BIT(b->kind))) {
		cli_error("%s: a partial result of %s, not of %s", b->name,
			  kind_name(b->kind), cli_prog());
		return -1;
	}
	/* Join the chunks: the data as one run of bytes. */
	off = start;
	dst = start;
	while ((len = get_le(p + off, 4))) {
		memmove(p + dst, p + off + 4, len);
		dst += len;
		off += 4 + len;
	}
	b->data = p + start;
	b->data_len = dst - start;
	return 0;
}

int part_read(struct part_blob *b, const char *path, unsigned int kinds)
{
	struct stat st;
	int fd, err;

	memset(b, 0, sizeof(*b));
	b->name = cli_input_name(path);
	fd = cli_open_input(path, &st);
	if (fd < 0)
		return -1;
	err = read_all(fd, &st, &b->buf, &b->size);
	cli_close_input(fd);
	if (err) {
		cli_error("%s: %s", b->name, strerror(-err));
		return -1;
	}
	if (check_blob(b, kinds)) {
		part_free(b);
		return -1;
	}
	return 0;
}

void part_free(struct part_blob *b)
{
	free(b->buf);
	b->buf = NULL;
}

int part_get_avg(const struct part_blob *b, struct part_avg *a)
{
	const __u8 *p = b->params, *s = b->summary;
	struct sfr_fx_state *st = &a->st;
	__u32 flags;

	memset(a, 0, sizeof(*a));
	if (b->kind != PART_AVG || b->params_len != AVG_PARAMS_LEN ||
	    b->summary_len != AVG_SUMMARY_LEN || b->data_len)
		return blob_corrupt(b, "its sections have the wrong sizes");
	a->cfg.scale = p[0];
	a->decimals = p[1];
	a->cfg.delim = p[2];
	a->cfg.field = get_le(p + 4, 4);
	if (a->cfg.scale > SFR_FX_SCALE_MAX || a->decimals > SFR_FX_SCALE_MAX ||
	    a->cfg.delim == '\n' || p[3] || (!a->cfg.delim && a->cfg.field))
		return blob_corrupt(b, "bad parameters");
	st->count = get_le(s, 8);
	st->sum.lo = get_le(s + 8, 8);
	st->sum.hi = (__s64)get_le(s + 16, 8);
	st->min = (__s64)get_le(s + 24, 8);
	st->max = (__s64)get_le(s + 32, 8);
	st->invalid = get_le(s + 40, 8);
	st->lines = get_le(s + 48, 8);
	st->first_invalid = get_le(s + 56, 8);
	st->first_err = get_le(s + 64, 4);
	flags = get_le(s + 68, 4);
	a->no_final_lf = flags & PART_NO_FINAL_LF;
	if ((flags & ~PART_NO_FINAL_LF) || get_le(s + 72, 4))
		return blob_corrupt(b, "unknown flags");
	if (st->count > st->lines || st->invalid > st->lines - st->count)
		return blob_corrupt(b, "more numbers and invalid lines than lines");
	if (st->invalid ? (st->first_err != SFR_FX_INVALID &&
			   st->first_err != SFR_FX_RANGE) ||
				  !st->first_invalid ||
				  st->first_invalid > st->lines :
			  st->first_invalid || st->first_err)
		return blob_corrupt(b, "bad first invalid line");
	if (st->count ?
		    st->min > st->max ||
			    sfr_fx_s128_get(st->sum) <
				    (sfr_fx_i128)st->min * st->count ||
			    sfr_fx_s128_get(st->sum) >
				    (sfr_fx_i128)st->max * st->count :
		    st->min || st->max || st->sum.lo || st->sum.hi)
		return blob_corrupt(b, "the sum is not within count times min and max");
	return 0;
}

/*
 * The record at @p (before @end) of lines data, with line numbers if
 * @number: the line (with its LF) in *@line and *@len, its number in
 * *@lineno (0 without). Returns the next record, or NULL if the data is
 * malformed.
 */
static const __u8 *next_line(const __u8 *p, const __u8 *end, bool number,
			     const char **line, size_t *len, __u64 *lineno)
{
	const __u8 *le;

	*lineno = 0;
	if (number) {
		if (end - p < 8)
			return NULL;
		*lineno = get_le(p, 8);
		p += 8;
	}
	le = memchr(p, '\n', end - p);
	if (!le)
		return NULL;
	*line = (const char *)p;
	*len = le + 1 - p;
	return le + 1;
}

size_t part_grep_next(const struct part_grep *g, size_t *off,
		      const char **line, __u64 *lineno)
{
	const __u8 *end = g->data + g->data_len, *next;
	size_t len;

	if (*off >= g->data_len)
		return 0;
	next = next_line(g->data + *off, end, g->number, line, &len, lineno);
	if (!next)
		return 0;	/* part_get_grep() checked it */
	*off = next - g->data;
	return len;
}

/* Check the records of a lines blob against its summary. */
static int check_lines(const struct part_blob *b, const struct part_grep *g)
{
	const __u8 *p = g->data, *end = p + g->data_len;
	__u64 n = 0, prev = 0, lineno;
	const char *line;
	size_t len;

	while (p < end) {
		p = next_line(p, end, g->number, &line, &len, &lineno);
		if (!p)
			return blob_corrupt(b, "a line is cut off");
		if (g->number && (lineno <= prev || lineno > g->lines))
			return blob_corrupt(b, "line numbers out of order");
		prev = lineno;
		n++;
	}
	if (n != g->nsel)
		return blob_corrupt(b, "its data and summary differ in lines");
	return 0;
}

int part_get_grep(const struct part_blob *b, struct part_grep *g)
{
	const __u8 *p = b->params, *s = b->summary;
	__u32 flags, sflags;

	memset(g, 0, sizeof(*g));
	if ((b->kind != PART_GREP_COUNT && b->kind != PART_GREP_LINES) ||
	    b->params_len < GREP_PARAMS_LEN ||
	    b->params_len - GREP_PARAMS_LEN != get_le(p + 4, 4) ||
	    b->summary_len != GREP_SUMMARY_LEN)
		return blob_corrupt(b, "its sections have the wrong sizes");
	flags = get_le(p, 4);
	g->count = b->kind == PART_GREP_COUNT;
	g->invert = flags & PART_GREP_INVERT;
	g->number = flags & PART_GREP_NUMBER;
	g->pat = (const char *)p + GREP_PARAMS_LEN;
	g->pat_len = b->params_len - GREP_PARAMS_LEN;
	if ((flags & ~(PART_GREP_INVERT | PART_GREP_NUMBER)) ||
	    (g->count && g->number) || memchr(g->pat, '\n', g->pat_len))
		return blob_corrupt(b, "bad parameters");
	g->nsel = get_le(s, 8);
	g->lines = get_le(s + 8, 8);
	sflags = get_le(s + 24, 4);
	g->no_final_lf = sflags & PART_NO_FINAL_LF;
	if ((sflags & ~PART_NO_FINAL_LF) || get_le(s + 28, 4))
		return blob_corrupt(b, "unknown flags");
	g->data = b->data;
	g->data_len = b->data_len;
	if (get_le(s + 16, 8) != b->data_len || (g->count && b->data_len))
		return blob_corrupt(b, "its data and summary differ in length");
	if (g->nsel > g->lines)
		return blob_corrupt(b, "more selected lines than lines");
	return g->count ? 0 : check_lines(b, g);
}

/* @c of an option argument, for messages: "','", "'\t'" or "'\x01'". */
static void put_byte_arg(char *buf, size_t size, unsigned char c)
{
	if (c == '\t')
		snprintf(buf, size, "'\\t'");
	else if (c > ' ' && c < 0x7f && c != '\'')
		snprintf(buf, size, "'%c'", c);
	else
		snprintf(buf, size, "'\\x%02x'", c);
}

static void avg_opts(char *buf, size_t size, const struct part_avg *a)
{
	char d[8];
	int n;

	n = snprintf(buf, size, "-s %u --decimals %u", a->cfg.scale,
		     a->decimals);
	if (a->cfg.delim && n >= 0 && (size_t)n < size) {
		put_byte_arg(d, sizeof(d), a->cfg.delim);
		snprintf(buf + n, size - n, " -d %s -f %u", d,
			 a->cfg.field + 1);
	}
}

static void grep_opts(char *buf, size_t size, const struct part_grep *g)
{
	size_t i, n, len = g->pat_len > 40 ? 40 : g->pat_len;

	n = snprintf(buf, size, "%s%s%s-e '", g->count ? "-c " : "",
		     g->number ? "-n " : "", g->invert ? "-v " : "");
	for (i = 0; i < len && n + 8 < size; i++) {
		unsigned char c = g->pat[i];

		if (c >= ' ' && c < 0x7f && c != '\'' && c != '\\')
			buf[n++] = c;
		else
			n += snprintf(buf + n, size - n, "\\x%02x", c);
	}
	snprintf(buf + n, size - n, "%s'", len < g->pat_len ? "..." : "");
}

const char *part_usage(bool partial, bool merge, const char *out, int nfiles)
{
	if (out && !partial)
		return "--output needs --partial";
	if (partial && !merge && nfiles > 1)
		return "--partial takes one FILE (one shard)";
	if (merge && !nfiles)
		return "--merge needs at least one BLOB";
	return NULL;
}

/* Blob @name was made with options @got, not @want (of @first, or asked). */
static int opts_differ(const char *name, const char *got, const char *want,
		       const char *first)
{
	if (first)
		cli_error("%s: made with %s, but %s with %s", name, got, first,
			  want);
	else
		cli_error("%s: made with %s, not with %s as asked", name, got,
			  want);
	return -1;
}

int part_read_avg(const char *path, struct part_avg *a)
{
	struct part_blob b;
	int err;

	if (part_read(&b, path, PART_KIND_BIT(PART_AVG)))
		return -1;
	err = part_get_avg(&b, a);
	part_free(&b);
	return err;
}

int part_avg_match(const struct part_avg *a, const struct part_avg *want,
		   const char *name, const char *first)
{
	char got[96], asked[96];

	if (a->cfg.scale == want->cfg.scale && a->decimals == want->decimals &&
	    a->cfg.delim == want->cfg.delim && a->cfg.field == want->cfg.field)
		return 0;
	avg_opts(got, sizeof(got), a);
	avg_opts(asked, sizeof(asked), want);
	return opts_differ(name, got, asked, first);
}

int part_grep_match(const struct part_grep *g, const struct part_grep *want,
		    const char *name, const char *first)
{
	char got[128], asked[128];

	if (g->count == want->count && g->invert == want->invert &&
	    g->number == want->number && g->pat_len == want->pat_len &&
	    !memcmp(g->pat, want->pat, g->pat_len))
		return 0;
	grep_opts(got, sizeof(got), g);
	grep_opts(asked, sizeof(asked), want);
	return opts_differ(name, got, asked, first);
}

int part_check_follow(const char *prev, bool prev_nolf, const char *next,
		      __u64 next_lines)
{
	if (!prev_nolf || !next_lines)
		return 0;
	cli_error("%s: its shard does not end with a newline, but %s follows it: only the last shard may (a line split between two shards would count as two lines)",
		  prev, next);
	return -1;
}
