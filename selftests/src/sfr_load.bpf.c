// SPDX-License-Identifier: GPL-2.0
/*
 * The BPF programs of sfr_load.c (loaded from sfr_load.bpf.o with libbpf).
 *
 * lines: sum and count of decimal numbers, one per line, for sparse files.
 *   Bytes other than digits and '\n' are ignored, so holes (zero bytes)
 *   change nothing, and the chunk is read in 128-byte blocks of 8-byte
 *   loads: a block of zeros costs 16 loads and a branch. A byte loop, or
 *   bpf_sfr_find_byte() (memchr(), a byte loop on x86-64), makes a GiB of
 *   hole take 6 s or more under emulation; this takes about 0.7 s. Also
 *   sums the file offsets of the '\n' bytes, to check 64-bit positions.
 * spin: bpf_loop() of a number of iterations given in the initial scratch
 *   state on every chunk: a program that runs long per chunk, as long as
 *   the verifier allows (at most 1 << 23 iterations).
 *
 * The state layouts are repeated in sfr_load.c.
 */
#include <linux/bpf.h>
#include "sfr.h"

char LICENSE[] SEC("license") = "GPL";

struct lines_state {
	__u64 start;	/* window_start, set at INIT */
	__u64 end;	/* pos at FINI: where the input ended */
	__u64 lines;	/* '\n' bytes seen */
	__u64 sum;	/* of the numbers that end at them */
	__u64 nl_sum;	/* of the file offsets of the '\n' bytes */
	__u64 bytes;	/* chunk bytes seen */
	__u64 cur;	/* number in progress (split across chunks) */
	__u64 runs;	/* program calls */
};

/* Bytes per step over the chunk: a power of two. */
#define BLOCK 128

/* The reduce over one block that is not all zero (on the stack). */
struct lines_blk {
	__u64 w[BLOCK / 8];
	__u64 at;	/* file offset of w[0] */
	__u64 cur, sum, lines, nl_sum;
};

/* One byte @c at file offset @pos of @st (a lines_blk or lines_state). */
#define LINES_BYTE(st, c, pos) do {					\
	if ((c) >= '0' && (c) <= '9') {					\
		(st)->cur = (st)->cur * 10 + ((c) - '0');		\
	} else if ((c) == '\n') {					\
		(st)->sum += (st)->cur;					\
		(st)->lines++;						\
		(st)->nl_sum += (pos);					\
		(st)->cur = 0;						\
	}								\
} while (0)

/*
 * A global function, so that the verifier checks it once rather than at
 * each of the chunk loop's BLOCK-byte steps.
 */
__noinline int lines_block(struct lines_blk *k)
{
	int j;

	if (!k)
		return 0;
	sfr_for(j, 0, BLOCK / 8) {
		__u64 w = k->w[j & (BLOCK / 8 - 1)];
		__u64 at = k->at + (j & (BLOCK / 8 - 1)) * 8;
		int b;

		if (!w)
			continue;
#pragma unroll
		for (b = 0; b < 8; b++) {
			__u8 c = w >> (8 * b);	/* little-endian */

			LINES_BYTE(k, c, at + b);
		}
	}
	return 0;
}

SEC("sfr")
int lines(struct bpf_sfr_md *ctx)
{
	struct lines_state *st = (void *)bpf_sfr_scratch(ctx, 0, sizeof(*st));
	const __u8 *data = ctx->data, *end = ctx->data_end;
	__u32 len = end - data, o;
	struct lines_blk k;
	int i;

	if (!st)
		return SFR_STOP;
	st->runs++;
	if (ctx->flags & SFR_F_INIT) {
		st->start = ctx->window_start;
		return SFR_CONTINUE;
	}
	if (ctx->flags & SFR_F_FINI) {
		st->end = ctx->pos;
		return SFR_CONTINUE;
	}
	__builtin_memset(&k, 0, sizeof(k));
	k.cur = st->cur;
	k.sum = st->sum;
	k.lines = st->lines;
	k.nl_sum = st->nl_sum;
	/*
	 * BLOCK bytes per step of a plain bounded loop: for a block of zeros,
	 * BLOCK / 8 loads and a branch. (An open-coded iterator's next() is a
	 * call per step, and a variable offset from data loses the verifier's
	 * packet range.)
	 */
	for (o = 0; o + BLOCK <= SFR_CHUNK_MAX; o += BLOCK) {
		const __u64 *q = (const void *)(data + o);
		__u64 any = 0;
		int j;

		if ((const void *)(q + BLOCK / 8) > (const void *)end)
			break;
#pragma unroll
		for (j = 0; j < BLOCK / 8; j++)
			any |= q[j];
		if (!any)
			continue;
#pragma unroll
		for (j = 0; j < BLOCK / 8; j++)
			k.w[j] = q[j];
		k.at = ctx->pos + o;
		lines_block(&k);
	}
	/* The rest, fewer than BLOCK bytes. */
	sfr_for(i, 0, BLOCK) {
		__u32 n = o + i;
		__u8 c = 0;

		if (!sfr_byte(data, end, n, c))
			break;
		LINES_BYTE(&k, c, ctx->pos + n);
	}
	st->cur = k.cur;
	st->sum = k.sum;
	st->lines = k.lines;
	st->nl_sum = k.nl_sum;
	st->bytes += len;
	return SFR_CONTINUE;
}

struct spin_state {
	__u64 iters;	/* bpf_loop() iterations per chunk (initial state) */
	__u64 chunks;
	__u64 bytes;
	__u64 acc;	/* acc = (acc ^ i) * SPIN_MUL, every iteration */
};

#define SPIN_MUL 0x9e3779b97f4a7c15ULL

static long spin_step(__u64 i, void *arg)
{
	__u64 *acc = arg;

	*acc = (*acc ^ i) * SPIN_MUL;
	return 0;
}

SEC("sfr")
int spin(struct bpf_sfr_md *ctx)
{
	struct spin_state *st = (void *)bpf_sfr_scratch(ctx, 0, sizeof(*st));
	__u64 acc;
	__u32 n;

	if (!st)
		return SFR_STOP;
	if (!(ctx->flags & SFR_F_CHUNK))
		return SFR_CONTINUE;
	n = st->iters > (1 << 23) ? 1 << 23 : st->iters;
	acc = st->acc;
	bpf_loop(n, spin_step, &acc, 0);
	st->acc = acc;
	st->chunks++;
	st->bytes += (__u64)(ctx->data_end - ctx->data);
	return SFR_CONTINUE;
}

struct count_state {
	__u64 bytes;	/* chunk bytes seen */
	__u64 chunks;
	__u64 first;	/* pos of the first chunk */
	__u64 next;	/* pos + len of the last chunk */
	__u64 gaps;	/* chunks that did not start where the last one ended */
};

/* count: bytes and chunks, and that the chunks' positions follow on. */
SEC("sfr")
int count(struct bpf_sfr_md *ctx)
{
	struct count_state *st = (void *)bpf_sfr_scratch(ctx, 0, sizeof(*st));
	__u64 len = (__u64)(ctx->data_end - ctx->data);

	if (!st)
		return SFR_STOP;
	if (!(ctx->flags & SFR_F_CHUNK))
		return SFR_CONTINUE;
	if (!st->chunks)
		st->first = ctx->pos;
	else if (ctx->pos != st->next)
		st->gaps++;
	st->bytes += len;
	st->chunks++;
	st->next = ctx->pos + len;
	return SFR_CONTINUE;
}
