// SPDX-License-Identifier: GPL-2.0
/*
 * sfr_fixed.h's streaming parser as an XDP program, so the host kernel's
 * verifier and JIT can check and time it through BPF_PROG_TEST_RUN (XDP
 * packet pointers are the closest stock stand-in for sfr's chunk). Each run
 * parses the first in_len bytes of the packet (test_run packets are at
 * least 14 bytes long) into the global state, one byte per iteration of an
 * open-coded numeric iterator, as sum.bpf.c does with sfr_for/sfr_byte; a
 * run with fini set only ends the input (sfr_fx_finish()).
 * fixed_parse8 is the same with 8 bytes per iteration (one bounds check,
 * eight unrolled steps), for comparison.
 *
 * The state is fed in place in its map value, not copied to the stack:
 * see "IN BPF" in sfr_fixed.h for why.
 *
 * bpf/sfr.h needs the patched kernel's <linux/sfr.h>, so the loop helpers
 * are restated here against the distro's uapi headers.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "../../bpf/sfr_fixed.h"

char LICENSE[] SEC("license") = "GPL";

/* The iterator kfuncs (Linux 6.4+); the distro's 6.1 uapi lacks the type. */
struct bpf_iter_num {
	__u64 __opaque[1];
} __attribute__((aligned(8)));

extern int bpf_iter_num_new(struct bpf_iter_num *it, int start,
			    int end) __ksym;
extern int *bpf_iter_num_next(struct bpf_iter_num *it) __ksym;
extern void bpf_iter_num_destroy(struct bpf_iter_num *it) __ksym;

/* Largest offset + 1 the loop reads; above any test_run packet size. */
#define FX_MAX_LEN 8192

/* for (i = start; i < end; i++), verifiable for any end. */
#define fx_for(i, start, end)						\
	for (struct bpf_iter_num ___it __attribute__((aligned(8),	\
		cleanup(bpf_iter_num_destroy))),			\
	     *___p __attribute__((unused)) =				\
		(bpf_iter_num_new(&___it, (start), (end)), &___it);	\
	     ({ int *___t = bpf_iter_num_next(&___it);			\
		___t && ((i) = *___t, 1); });)

/* Byte @i of [data, end) into @c; 0 (and @c untouched) when out of range. */
#define fx_byte(data, end, i, c)					\
	({								\
		__u32 ___i = (__u32)(i);				\
		const __u8 *___q = (const __u8 *)(data) +		\
				   (___i & (FX_MAX_LEN - 1));		\
		int ___ok = ___i < FX_MAX_LEN &&			\
			    (const void *)(___q + 1) <= (const void *)(end); \
		if (___ok)						\
			(c) = *___q;					\
		___ok;							\
	})

struct sfr_fx_cfg cfg;		/* set by the test before a run */
struct sfr_fx_state state;	/* the reduce, carried across runs */
__u32 in_len;			/* bytes of the packet to parse */
__u32 fini;			/* this run ends the input */

SEC("xdp")
int fixed_parse(struct xdp_md *ctx)
{
	const __u8 *data = (const __u8 *)(long)ctx->data;
	const __u8 *end = (const __u8 *)(long)ctx->data_end;
	struct sfr_fx_cfg c = cfg;
	struct sfr_fx_state *st = &state;
	int n = in_len < FX_MAX_LEN ? (int)in_len : FX_MAX_LEN;
	int i;

	if (fini) {
		sfr_fx_finish(st, &c);
	} else {
		fx_for(i, 0, n) {
			__u8 b = 0;

			if (!fx_byte(data, end, i, b))
				break;
			sfr_fx_feed(st, &c, b);
		}
	}
	return XDP_PASS;
}

SEC("xdp")
int fixed_parse8(struct xdp_md *ctx)
{
	const __u8 *data = (const __u8 *)(long)ctx->data;
	const __u8 *end = (const __u8 *)(long)ctx->data_end;
	struct sfr_fx_cfg c = cfg;
	struct sfr_fx_state *st = &state;
	int n = in_len < FX_MAX_LEN ? (int)in_len : FX_MAX_LEN;
	int i, done = 0;

	if (fini) {
		sfr_fx_finish(st, &c);
		return XDP_PASS;
	}
	fx_for(i, 0, n / 8) {
		__u32 o = (__u32)i * 8;
		const __u8 *q;
		int k;

		if (o > FX_MAX_LEN - 8)
			break;
		/* Else clang drops the mask as redundant, and the verifier
		 * (which did not see that compare on this register) finds
		 * the offset unbounded. */
		barrier_var(o);
		q = data + (o & (FX_MAX_LEN - 8));
		if ((const void *)(q + 8) > (const void *)end)
			break;
		/*
		 * The barrier makes each step reload the state from the map
		 * value: kept in registers across steps, the state constants
		 * one step sets would be known to the verifier in the next,
		 * and 8 steps of paths multiply past 1M instructions.
		 */
#pragma unroll
		for (k = 0; k < 8; k++) {
			sfr_fx_feed(st, &c, q[k]);
			asm volatile("" ::: "memory");
		}
		done = (int)o + 8;
	}
	fx_for(i, done, n) {
		__u8 b = 0;

		if (!fx_byte(data, end, i, b))
			break;
		sfr_fx_feed(st, &c, b);
	}
	return XDP_PASS;
}
