// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The lines of a file that contain a fixed string, as grep -F selects them,
 * for examples/sfr-grep. Settings are const volatile globals set before
 * load; the automaton of the pattern is in dfa_map (built in user space).
 *
 * The kernel's scan kfuncs do the scanning. Without -v the program jumps
 * from match to match: bpf_sfr_find_str() finds the next occurrence in the
 * rest of the chunk, bpf_sfr_rfind_byte() the start of its line and
 * bpf_sfr_count_byte() the lines skipped; bpf_sfr_find_byte() the end of
 * the line, which is selected. With -v it goes line by line, a search per
 * line. So the calls are per selected line, not per byte.
 *
 * A match can cross a chunk end, which bpf_sfr_find_str() does not see:
 * for that line, and only over the pattern's length, the program runs the
 * pattern's automaton (dfa_map) byte by byte, at the end of the chunk and
 * on at the start of the next one.
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
const volatile __u32 invert;		/* -v: select the lines that do not match */
const volatile __u32 count_only;	/* -c: count selected lines, emit nothing */
const volatile __u32 line_numbers;	/* -n: a struct fgrep_rec before each line */
const volatile __u64 max_count;		/* -m: stop after so many lines (0: all) */

/*
 * The pattern, for bpf_sfr_find_str(): writable memory, as kfunc memory
 * arguments must be (the kernel searches with its own copy).
 */
__u8 pat[FGREP_PAT_MAX];

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

/*
 * The carried automaton state of a line that goes on in the next chunk:
 * a match that crosses the chunk end starts in the last pat_len - 1 bytes,
 * so the automaton runs from its start state over those bytes of the line
 * [@ls, @len) (all of them, from the carried state, if the line began in
 * an earlier chunk and this one is shorter than that).
 */
static __always_inline void carry_tail(const __u8 *data, const __u8 *end,
				       struct fgrep_state *st,
				       const struct fgrep_dfa *dfa, __u32 carried,
				       __s64 ls, __s64 len)
{
	__s64 t = len - (__s64)(pat_len - 1);
	__u32 k, s = 0;

	if (t <= ls) {
		t = ls;
		if (ls == 0)
			s = carried;
	}
	sfr_for(k, 0, FGREP_PAT_MAX) {
		__u8 c = 0;

		if (t + k >= len || !sfr_byte(data, end, t + k, c))
			break;
		s = dfa->next[s & FGREP_PAT_MAX][c];
	}
	st->dfa = s;
}

/*
 * At the start of a chunk, a match that began in the previous one: run the
 * automaton from the carried state over at most pat_len - 1 bytes, up to
 * the end of the line.
 */
static __always_inline void carry_head(const __u8 *data, const __u8 *end,
				       struct fgrep_state *st,
				       const struct fgrep_dfa *dfa)
{
	__u32 k, s = st->dfa;

	sfr_for(k, 0, FGREP_PAT_MAX) {
		__u8 c = 0;

		if (k + 1 >= pat_len || !s || !sfr_byte(data, end, k, c) ||
		    c == '\n')
			break;
		s = dfa->next[s & FGREP_PAT_MAX][c];
		if (s == pat_len) {
			st->matched = 1;
			break;
		}
	}
}

SEC("sfr")
int fgrep(struct bpf_sfr_md *ctx)
{
	struct fgrep_state *st = (void *)bpf_sfr_scratch(ctx, 0, sizeof(*st));
	const __u8 *data = (const __u8 *)(long)ctx->data;
	const __u8 *end = (const __u8 *)(long)ctx->data_end;
	struct fgrep_dfa *dfa;
	__u32 key = 0, k, carried;
	__s64 len, i, r, tail = -1;
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
	carried = st->dfa;
	if (!st->matched && carried)
		carry_head(data, end, st, dfa);
	st->dfa = 0;
	st->i = 0;
	if (!invert) {
		/*
		 * From match to match: the lines before the next match are
		 * only counted, each pass selects one line.
		 */
		sfr_for(k, 0, SFR_CHUNK_MAX + 1) {
			i = st->i;
			if (i >= len)
				break;
			if (!st->matched) {
				__s64 m = bpf_sfr_find_str(ctx, (__u32)i,
							   (__u32)len, pat,
							   pat_len);

				/* The last '\n' before the match, or in the chunk. */
				r = bpf_sfr_rfind_byte(ctx, (__u32)i,
						       m < 0 ? (__u32)len : (__u32)m,
						       '\n');
				if (r >= 0) {
					st->nlines += bpf_sfr_count_byte(ctx, (__u32)i,
									 (__u32)r + 1,
									 '\n');
					st->line_start = pos + r + 1;
					i = r + 1;
				}
				if (m < 0) {
					tail = i;
					break;
				}
				st->matched = 1;
			}
			r = bpf_sfr_find_byte(ctx, (__u32)i, '\n');
			if (r < 0)
				break;	/* the matched line goes on */
			if (select_line(ctx, st, st->line_start, pos + r + 1, 0))
				return SFR_STOP;	/* at line_start */
			st->nlines++;
			st->line_start = pos + r + 1;
			st->matched = pat_len == 0;
			st->i = r + 1;
		}
	} else {
		/* -v: line by line, each searched for the pattern. */
		sfr_for(k, 0, SFR_CHUNK_MAX + 1) {
			i = st->i;
			if (i >= len)
				break;
			r = bpf_sfr_find_byte(ctx, (__u32)i, '\n');
			if (!st->matched &&
			    bpf_sfr_find_str(ctx, (__u32)i,
					     r < 0 ? (__u32)len : (__u32)r,
					     pat, pat_len) >= 0)
				st->matched = 1;
			if (r < 0) {
				if (!st->matched)
					tail = i;
				break;	/* the line goes on */
			}
			if (!st->matched &&
			    select_line(ctx, st, st->line_start, pos + r + 1, 0))
				return SFR_STOP;	/* at line_start */
			st->nlines++;
			st->line_start = pos + r + 1;
			st->matched = pat_len == 0;
			st->i = r + 1;
		}
	}
	/* Out of the loop, so that the verifier does not nest the loops. */
	if (tail >= 0)
		carry_tail(data, end, st, dfa, carried, tail, len);
	/* At end of file a last line without newline ends here. */
	if (pos + len >= ctx->file_size && st->line_start < pos + len &&
	    last_line(ctx, st, pos + len))
		return SFR_STOP;
	return SFR_CONTINUE;
}
