/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * BPF side of sfr: the program context, return codes, kfuncs and loop
 * helpers. Include after vmlinux.h or <linux/bpf.h> of the patched kernel.
 */
#ifndef __SFR_BPF_H
#define __SFR_BPF_H

#include <linux/sfr.h>
#include <bpf/bpf_helpers.h>

/* Largest chunk a program sees in one run (kernel: SFR_CHUNK_MAX). */
#define SFR_CHUNK_MAX (32 * 1024)

/* Scratch state of the request: @size constant bytes at @offset, or NULL. */
extern __u8 *bpf_sfr_scratch(struct bpf_sfr_md *ctx, __u32 offset,
			     const __u64 rdwr_buf_size) __ksym;
/* Append program bytes to the output, as part of the record at @rec. */
extern int bpf_sfr_emit(struct bpf_sfr_md *ctx, __u64 rec, const void *buf,
			__u32 buf__sz) __ksym;
/* Append file bytes [start, end) to the output, as part of record @rec. */
extern int bpf_sfr_emit_range(struct bpf_sfr_md *ctx, __u64 rec, __u64 start,
			      __u64 end) __ksym;
/*
 * Native scans of the current chunk (see Documentation/bpf/sfr.rst). All
 * offsets are from data; a range [start, end) must lie in the chunk, else
 * -EINVAL. Only the low 8 bits of @byte count.
 */
/* Offset of the first @byte at or after @off, or -ENOENT. */
extern __s64 bpf_sfr_find_byte(struct bpf_sfr_md *ctx, __u32 off,
			       __u32 byte) __ksym;
/* Offset of the last @byte in [start, end), or -ENOENT. */
extern __s64 bpf_sfr_rfind_byte(struct bpf_sfr_md *ctx, __u32 start,
				__u32 end, __u32 byte) __ksym;
/* Number of bytes equal to @byte in [start, end). */
extern __s64 bpf_sfr_count_byte(struct bpf_sfr_md *ctx, __u32 start,
				__u32 end, __u32 byte) __ksym;
/*
 * Offset of the first occurrence of @needle (at most 255 bytes, writable
 * program memory) wholly in [start, end), or -ENOENT; -E2BIG if too long.
 */
extern __s64 bpf_sfr_find_str(struct bpf_sfr_md *ctx, __u32 start, __u32 end,
			      const __u8 *needle, __u32 needle__sz) __ksym;

struct sfr_fx_cfg;
struct sfr_fx_state;
/*
 * sfr_fx_feed() (sfr_fixed.h) of every byte of [start, end) into @st:
 * lines may be cut anywhere between calls. Returns 0.
 */
extern int bpf_sfr_fold(struct bpf_sfr_md *ctx, __u32 start, __u32 end,
			const struct sfr_fx_cfg *cfg,
			struct sfr_fx_state *st) __ksym;

extern int bpf_iter_num_new(struct bpf_iter_num *it, int start,
			    int end) __ksym;
extern int *bpf_iter_num_next(struct bpf_iter_num *it) __ksym;
extern void bpf_iter_num_destroy(struct bpf_iter_num *it) __ksym;

/*
 * sfr_for(i, start, end): a loop the verifier accepts for any chunk size
 * (an open-coded numeric iterator). The verifier does not know i's range:
 * bound it before using it as an offset, e.g. with sfr_byte().
 */
#define sfr_for(i, start, end)						\
	for (struct bpf_iter_num ___it __attribute__((aligned(8),	\
		cleanup(bpf_iter_num_destroy))),			\
	     *___p __attribute__((unused)) =				\
		(bpf_iter_num_new(&___it, (start), (end)), &___it);	\
	     ({ int *___t = bpf_iter_num_next(&___it);			\
		___t && ((i) = *___t, 1); });)

/*
 * Load byte @i of the chunk into @c; evaluates to 0 when @i is outside
 * [0, data_end - data), so 'if (!sfr_byte(ctx, i, c)) break;' both bounds
 * the index for the verifier and ends the loop at the chunk's end.
 */
#define sfr_byte(data, data_end, i, c)					\
	({								\
		__u32 ___i = (__u32)(i);				\
		const __u8 *___q = (const __u8 *)(data) + (___i & (SFR_CHUNK_MAX - 1)); \
		int ___ok = ___i < SFR_CHUNK_MAX &&			\
			    (const void *)(___q + 1) <= (const void *)(data_end);	\
		if (___ok)						\
			(c) = *___q;					\
		___ok;							\
	})

#endif /* __SFR_BPF_H */
