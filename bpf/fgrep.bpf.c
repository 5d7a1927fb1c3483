// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The lines of a file that contain a fixed string, as grep -F selects them,
 * for examples/sfr-grep. Settings are const volatile globals set before
 * load; the automaton of the pattern is in dfa_map (built in user space).
 *
 * Per chunk the program lets native code do the scanning: it finds the
 * next newline and the next occurrence of the pattern's first byte with
 * bpf_sfr_find_byte() and runs the automaton byte by byte only from such a
 * candidate on, until it falls back to its start state. A line that has
 * matched is skipped to its newline in one call.
 *
 * Output: every selected line as one record (the line with its newline; a
 * last line without one gets one, as grep prints it), preceded by a
 * struct fgrep_rec with -n. With -c nothing is emitted: the count is in the
 * scratch state. Lines are counted in the state so that the reader can
 * number lines across frames.
 */
#include <linux/bpf.h>
#include "sfr.h"
#include "fgrep.h"

#ifndef ENOSPC
#define ENOSPC 28
#endif

char LICENSE[] SEC("license") = "GPL";

const volatile __u32 pat_len = 1;	/* 0: every line matches */
const volatile __u32 pat_first;		/* the pattern's first byte */
const volatile __u32 invert;		/* -v: select the lines that do not match */
const volatile __u32 count_only;	/* -c: count selected lines, emit nothing */
const volatile __u32 line_numbers;	/* -n: a struct fgrep_rec before each line */
const volatile __u64 max_count;		/* -m: stop after so many lines (0: all) */

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct fgrep_dfa);
} dfa_map SEC(".maps");

/*
 * Line [@ls, @end) is selected: count it, or emit it as the record at @ls
 * (with a newline added when @add_nl). Returns 0 to go on, or 1 when the
 * request must stop: max_count reached (st->stop), the output is full (the
 * kernel then ends the frame at @ls and the reader resumes there), or the
 * line cannot be returned (st->err).
 */
static __always_inline int select_line(struct bpf_sfr_md *ctx,
				       struct fgrep_state *st, __u64 ls,
				       __u64 end, __u32 add_nl)
{
	__u64 len = end - ls + add_nl;
	int err;

	if (!count_only) {
		if (line_numbers)
			len += sizeof(struct fgrep_rec);
		if (len > FGREP_OUT_MAX) {
			st->err = FGREP_ERR_LONG;
			return 1;
		}
		if (line_numbers) {
			struct fgrep_rec rec = { .line = st->nlines };

			err = bpf_sfr_emit(ctx, ls, &rec, sizeof(rec));
			if (err)
				goto fail;
		}
		err = bpf_sfr_emit_range(ctx, ls, ls, end);
		if (err)
			goto fail;
		if (add_nl) {
			char nl = '\n';

			err = bpf_sfr_emit(ctx, ls, &nl, 1);
			if (err)
				goto fail;
		}
	}
	st->nsel++;
	if (max_count && st->nsel >= max_count) {
		st->stop = 1;
		return 1;
	}
	return 0;
fail:
	/* -ENOSPC: the kernel drops this record and resumes at ls. */
	if (err != -ENOSPC)
		st->err = FGREP_ERR_INTERNAL;
	return 1;
}

/* The last line of the file has no newline: it ends at @end. */
static __always_inline int last_line(struct bpf_sfr_md *ctx,
				     struct fgrep_state *st, __u64 end)
{
	__u64 ls = st->line_start;
	int stop = 0;

	if ((st->matched ^ invert) & 1)
		stop = select_line(ctx, st, ls, end, 1);
	if (st->err || (stop && !st->stop))
		return 1;	/* st->line_start stays at the line */
	st->nlines++;
	st->line_start = end;
	st->dfa = 0;
	st->matched = pat_len == 0;
	return stop;
}

static int fini(struct bpf_sfr_md *ctx, struct fgrep_state *st)
{
	/*
	 * Normally a last line without newline was handled in its chunk
	 * (the one that ends at file_size); if the file was truncated since
	 * the request started, the walk ended early and it is handled here.
	 * Output that does not fit here is dropped by the kernel (the frame
	 * still consumes the input): tell the reader where to go on.
	 */
	if (st->err || st->stop)
		return SFR_CONTINUE;
	if (st->line_start < ctx->pos && last_line(ctx, st, ctx->pos) &&
	    !st->err && !st->stop)
		st->err = FGREP_ERR_FINI;
	if (!st->err && !st->stop)
		st->line_start = ctx->pos;
	return SFR_CONTINUE;
}

SEC("sfr")
int fgrep(struct bpf_sfr_md *ctx)
{
	struct fgrep_state *st = (void *)bpf_sfr_scratch(ctx, 0, sizeof(*st));
	const __u8 *data = (const __u8 *)(long)ctx->data;
	const __u8 *end = (const __u8 *)(long)ctx->data_end;
	struct fgrep_dfa *dfa;
	__u32 key = 0, k;
	__s64 len, i;
	__u64 pos;

	if (!st)
		return SFR_STOP;
	if (ctx->flags & SFR_F_INIT) {
		st->line_start = ctx->window_start;
		st->matched = pat_len == 0;
		return SFR_CONTINUE;
	}
	if (ctx->flags & SFR_F_FINI)
		return fini(ctx, st);
	if (st->err || st->stop)
		return SFR_STOP;

	dfa = bpf_map_lookup_elem(&dfa_map, &key);
	if (!dfa)
		return SFR_STOP;
	len = end - data;
	pos = ctx->pos;
	st->i = 0;
	st->nl = -1;		/* next newline at or after i (len: none) */
	st->cand = -1;		/* next first byte of the pattern (len: none) */

	/* Every pass consumes at least one byte or leaves the loop. */
	sfr_for(k, 0, SFR_CHUNK_MAX + 1) {
		i = st->i;
		if (i >= len)
			break;
		if (st->nl < i) {
			__s64 nl = bpf_sfr_find_byte(ctx, (__u32)i, '\n');

			st->nl = nl < 0 ? len : nl;
		}
		if (st->matched) {
			i = st->nl;	/* matched: on to the newline */
		} else {
			if (st->dfa == 0) {
				/* Nothing partly matched: next candidate. */
				if (st->cand < i) {
					__s64 c = bpf_sfr_find_byte(ctx, (__u32)i,
								    pat_first);

					st->cand = c < 0 ? len : c;
				}
				i = st->cand < st->nl ? st->cand : st->nl;
			}
			if (i < st->nl) {
				__u8 c = 0;
				__u32 s;

				if (!sfr_byte(data, end, i, c)) {
					st->err = FGREP_ERR_INTERNAL;
					return SFR_STOP;
				}
				s = dfa->next[st->dfa & FGREP_PAT_MAX][c];
				st->dfa = s;
				if (s == pat_len)
					st->matched = 1;
				st->i = i + 1;
				continue;
			}
		}
		if (i >= len) {
			st->i = i;
			break;
		}
		/* The line [line_start, pos + i] ends here. */
		if ((st->matched ^ invert) & 1) {
			if (select_line(ctx, st, st->line_start, pos + i + 1, 0))
				return SFR_STOP;	/* at line_start */
		}
		st->nlines++;
		st->line_start = pos + i + 1;
		st->dfa = 0;
		st->matched = pat_len == 0;
		st->i = i + 1;
	}
	/* At end of file a last line without newline ends here. */
	if (pos + len >= ctx->file_size && st->line_start < pos + len &&
	    last_line(ctx, st, pos + len))
		return SFR_STOP;
	return SFR_CONTINUE;
}
