// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Count, exact sum, min and max of a numeric field, one record per line,
 * for examples/sfr-avg: sfr_fixed.h's streaming parser run over the page
 * cache. The settings (field, delimiter, scale) are const volatile globals
 * set before load; the state is a struct sfr_fx_state in the request's
 * scratch (zeroed by the kernel), fed in place, which the frame returns.
 * At SFR_F_FINI a last line without LF (end of file) is accounted by
 * sfr_fx_finish(); at other window ends the parser is idle, since windows
 * are attached with '\n' as the record delimiter and end after an LF.
 *
 * THE LOOP. sfr_fixed.h ("IN BPF") suggests 8 unrolled steps per
 * iteration of an sfr_for() loop, with a compiler memory barrier between
 * the steps. That verifies on recent kernels (6.18), but not on 6.12, the
 * sfr kernel: its verifier cannot prune the branches of one iteration
 * against states of a loop that has not converged yet, so the paths of 8
 * steps multiply ("The sequence of 8193 jumps is too complex" after 73657
 * instructions; 2 steps verify in 109407 instructions, 4 in 256641). So
 * the steps are in a global function, avg_feed16(): the verifier checks a
 * global function once, on its own, and the loop body only sees a call
 * whose result it does not track. The loop loads 16 bytes as two words
 * per iteration and passes them by value (a global function cannot take a
 * packet pointer). The whole program verifies in about 12k instructions.
 *
 * Measured natively (host 6.18, JIT, the same code as an XDP program
 * through BPF_PROG_TEST_RUN over 3 KB of numbers): 16 bytes per call
 * ~2.8 ns/byte, 8 unrolled steps inline ~2.7, 32 bytes per call ~3.2, 8
 * per call ~3.7, one byte per iteration ~12; sfr_fx_feed_buf() in C
 * ~0.9-1.5 ns/byte.
 */
#include <linux/bpf.h>
#include "sfr.h"
#include "avg.h"

char LICENSE[] SEC("license") = "GPL";

const volatile __u32 field;	/* 0-based field index */
const volatile __u8 delim;	/* field delimiter, 0: the whole line */
const volatile __u8 scale;	/* input decimals, 0..SFR_FX_SCALE_MAX */

/* Byte @k (0 = first in memory) of the word @w loaded from memory. */
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define AVG_BYTE(w, k) ((__u8)((w) >> (8 * (k))))
#else
#define AVG_BYTE(w, k) ((__u8)((w) >> (8 * (7 - (k)))))
#endif

/* One parser step; the barrier makes the next step reload the state. */
#define AVG_STEP(w, k)							\
	do {								\
		sfr_fx_feed(st, &c, AVG_BYTE(w, k));			\
		asm volatile("" ::: "memory");				\
	} while (0)

#define AVG_WORD(w)							\
	do {								\
		AVG_STEP(w, 0); AVG_STEP(w, 1); AVG_STEP(w, 2);		\
		AVG_STEP(w, 3); AVG_STEP(w, 4); AVG_STEP(w, 5);		\
		AVG_STEP(w, 6); AVG_STEP(w, 7);				\
	} while (0)

/*
 * Feed the 16 input bytes held in @w0 then @w1 (as loaded from memory) to
 * @st. Global, hence verified once and separately: see THE LOOP above.
 */
__noinline int avg_feed16(struct sfr_fx_state *st, __u64 w0, __u64 w1)
{
	struct sfr_fx_cfg c = {
		.field = field,
		.delim = delim,
		.scale = scale,
	};

	if (!st)
		return 0;
	AVG_WORD(w0);
	AVG_WORD(w1);
	return 0;
}

SEC("sfr")
int avg(struct bpf_sfr_md *ctx)
{
	struct sfr_fx_state *st =
		(void *)bpf_sfr_scratch(ctx, 0, sizeof(struct sfr_fx_state));
	const __u8 *data = (const __u8 *)(long)ctx->data;
	const __u8 *end = (const __u8 *)(long)ctx->data_end;
	struct sfr_fx_cfg c = {
		.field = field,
		.delim = delim,
		.scale = scale,
	};
	int i, n, done = 0;

	if (!st)
		return SFR_STOP;
	if (ctx->flags & SFR_F_FINI) {
		sfr_fx_finish(st, &c);
		return SFR_CONTINUE;
	}
	if (!(ctx->flags & SFR_F_CHUNK))
		return SFR_CONTINUE;

	n = (int)(end - data);
	sfr_for(i, 0, n >> 4) {
		__u32 o = (__u32)i * 16;
		const __u64 *q;

		if (o > SFR_CHUNK_MAX - 16)
			break;
		/*
		 * Keep the mask: clang would drop it as redundant after the
		 * compare, which the verifier did not see on this register.
		 */
		barrier_var(o);
		q = (const __u64 *)(data + (o & (SFR_CHUNK_MAX - 16)));
		if ((const void *)(q + 2) > (const void *)end)
			break;
		avg_feed16(st, q[0], q[1]);
		done = (int)o + 16;
	}
	/* The last 0..15 bytes of the chunk, one at a time. */
	sfr_for(i, done, n) {
		__u8 b = 0;

		if (!sfr_byte(data, end, i, b))
			break;
		sfr_fx_feed(st, &c, b);
	}
	return SFR_CONTINUE;
}
