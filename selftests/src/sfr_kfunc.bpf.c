// SPDX-License-Identifier: GPL-2.0
/*
 * The BPF program of sfr_kfunc.c: every scan kfunc on every chunk, with
 * the answers emitted as one struct kf_rec per chunk (record: the chunk's
 * file offset), so that user space can recompute each from the file.
 */
#include <linux/bpf.h>
#include "sfr.h"
#include "sfr_fixed.h"
#include "sfr_kfunc.h"

char LICENSE[] SEC("license") = "GPL";

/* Needles: kfunc memory arguments must be writable, hence .bss. */
__u8 needle[KF_NEEDLE_MAX + 1];
__u8 needle2[KF_NEEDLE_MAX + 1];
const volatile __u32 needle_len;
const volatile __u32 needle2_len;
const volatile __u8 fold_delim;
const volatile __u32 fold_field;
const volatile __u8 fold_scale;

/* Per-CPU scratch for the record: too big for the stack. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct kf_rec);
} rec_map SEC(".maps");

SEC("sfr")
int kfuncs(struct bpf_sfr_md *ctx)
{
	struct sfr_fx_state *st = (void *)bpf_sfr_scratch(ctx, 0, sizeof(*st));
	struct sfr_fx_cfg c = {
		.field = fold_field,
		.delim = fold_delim,
		.scale = fold_scale,
	};
	struct kf_rec *r;
	__u32 key = 0, len, cut, k;
	__s64 j = 0, m;

	if (!st)
		return SFR_STOP;
	if (ctx->flags & SFR_F_FINI) {
		sfr_fx_finish(st, &c);
		return SFR_CONTINUE;
	}
	if (!(ctx->flags & SFR_F_CHUNK))
		return SFR_CONTINUE;
	r = bpf_map_lookup_elem(&rec_map, &key);
	if (!r)
		return SFR_STOP;
	len = (__u32)(ctx->data_end - ctx->data);
	r->pos = ctx->pos;
	r->len = len;
	r->first_nl = bpf_sfr_find_byte(ctx, 0, '\n');
	r->first_nl_hi = bpf_sfr_find_byte(ctx, 0, 0x100 | '\n');
	r->from_third = bpf_sfr_find_byte(ctx, len / 3, 'a');
	r->last_nl = bpf_sfr_rfind_byte(ctx, 0, len, '\n');
	r->last_nl_half = bpf_sfr_rfind_byte(ctx, 0, len / 2, '\n');
	r->count_nl = bpf_sfr_count_byte(ctx, 0, len, '\n');
	r->count_a_mid = bpf_sfr_count_byte(ctx, len / 3, 2 * len / 3, 'a');
	r->needle2_at = bpf_sfr_find_str(ctx, 0, len, needle2, needle2_len);

	r->bad[0] = bpf_sfr_count_byte(ctx, 0, len + 1, '\n');
	r->bad[1] = bpf_sfr_count_byte(ctx, 2, 1, '\n');
	r->bad[2] = bpf_sfr_find_str(ctx, 0, len + 1, needle, needle_len);
	r->bad[3] = bpf_sfr_find_str(ctx, 0, len, needle, KF_NEEDLE_MAX + 1);
	r->bad[4] = bpf_sfr_fold(ctx, 0, len + 1, &c, st);
	r->bad[5] = bpf_sfr_find_byte(ctx, len, '\n');
	r->bad[6] = bpf_sfr_rfind_byte(ctx, len, len, '\n');
	r->bad[7] = bpf_sfr_find_str(ctx, 3, 3, needle, 0);
	/* The verifier lets NULL through for memory arguments. */
	r->bad[8] = bpf_sfr_fold(ctx, 0, len, NULL, NULL);

	/* Every occurrence (overlapping ones too), the first KF_MATCH_MAX kept. */
	r->nmatch = 0;
	sfr_for(k, 0, SFR_CHUNK_MAX + 1) {
		m = bpf_sfr_find_str(ctx, (__u32)j, len, needle, needle_len);
		if (m < 0)
			break;
		if (r->nmatch < KF_MATCH_MAX)
			r->match[r->nmatch & (KF_MATCH_MAX - 1)] = m;
		r->nmatch++;
		j = m + 1;
	}

	/* The fold, cut at a point that moves with the chunk. */
	cut = len ? (__u32)((ctx->pos / 4096 * 977 + 13) % (len + 1)) : 0;
	r->fold_err = bpf_sfr_fold(ctx, 0, cut, &c, st);
	r->fold_err |= bpf_sfr_fold(ctx, cut, len, &c, st);

	if (bpf_sfr_emit(ctx, ctx->pos, r, sizeof(*r)))
		return SFR_STOP;
	return SFR_CONTINUE;
}
