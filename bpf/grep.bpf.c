// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Emit the lines that contain a fixed string, as grep -F does. */
#include <linux/bpf.h>
#include "sfr.h"
#include "grep.h"

char LICENSE[] SEC("license") = "GPL";

const volatile __u32 pat_len = 1;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct grep_dfa);
} dfa_map SEC(".maps");

SEC("sfr")
int grep_lines(struct bpf_sfr_md *ctx)
{
	struct grep_state *st = (void *)bpf_sfr_scratch(ctx, 0, sizeof(*st));
	const __u8 *data = ctx->data, *end = ctx->data_end;
	__u64 pos = ctx->pos, line_start;
	struct grep_dfa *dfa;
	__u32 key = 0, state, matched;
	int i, ret = SFR_CONTINUE;

	if (!st)
		return SFR_STOP;
	if (ctx->flags & SFR_F_INIT) {
		st->line_start = ctx->window_start;
		st->matched = pat_len == 0;
		return SFR_CONTINUE;
	}
	if (ctx->flags & SFR_F_FINI) {
		/* A last line without a newline: grep prints one. */
		if (st->matched && st->line_start < pos) {
			char nl = '\n';

			if (bpf_sfr_emit_range(ctx, st->line_start,
					       st->line_start, pos) ||
			    bpf_sfr_emit(ctx, st->line_start, &nl, 1))
				return SFR_STOP;
			st->nmatch++;
		}
		return SFR_CONTINUE;
	}

	dfa = bpf_map_lookup_elem(&dfa_map, &key);
	if (!dfa)
		return SFR_STOP;
	line_start = st->line_start;
	state = st->state;
	matched = st->matched;
	sfr_for(i, 0, SFR_CHUNK_MAX) {
		__u8 c = 0;

		if (!sfr_byte(data, end, i, c))
			break;
		if (c == '\n') {
			__u64 next = pos + (__u32)i + 1;

			if (matched) {
				if (bpf_sfr_emit_range(ctx, line_start,
						       line_start, next)) {
					ret = SFR_STOP;
					break;
				}
				st->nmatch++;
			}
			line_start = next;
			state = 0;
			matched = pat_len == 0;
			continue;
		}
		state = dfa->next[state & GREP_PAT_MAX][c];
		if (state == pat_len)
			matched = 1;
	}
	st->line_start = line_start;
	st->state = state;
	st->matched = matched;
	return ret;
}
