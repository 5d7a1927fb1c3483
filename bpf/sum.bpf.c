// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Sum and count of decimal integers, one per line ('-' sign, CR ignored). */
#include <linux/bpf.h>
#include "sfr.h"
#include "sum.h"

char LICENSE[] SEC("license") = "GPL";

SEC("sfr")
int sum_lines(struct bpf_sfr_md *ctx)
{
	struct sum_state *st = (void *)bpf_sfr_scratch(ctx, 0, sizeof(*st));
	const __u8 *data = ctx->data, *end = ctx->data_end;
	__s64 cur, sum;
	__u64 count;
	__u32 in_num, neg;
	int i;

	if (!st)
		return SFR_STOP;
	cur = st->cur;
	sum = st->sum;
	count = st->count;
	in_num = st->in_num;
	neg = st->neg;

	if (ctx->flags & SFR_F_CHUNK) {
		sfr_for(i, 0, SFR_CHUNK_MAX) {
			__u8 c = 0;

			if (!sfr_byte(data, end, i, c))
				break;
			if (c >= '0' && c <= '9') {
				cur = cur * 10 + (c - '0');
				in_num = 1;
			} else if (c == '\n') {
				if (in_num) {
					sum += neg ? -cur : cur;
					count++;
				}
				cur = 0;
				in_num = 0;
				neg = 0;
			} else if (c == '-') {
				neg = 1;
			}
		}
	} else if ((ctx->flags & SFR_F_FINI) && in_num) {
		/* Last line without a newline. */
		sum += neg ? -cur : cur;
		count++;
		cur = 0;
		in_num = 0;
		neg = 0;
	}
	st->cur = cur;
	st->sum = sum;
	st->count = count;
	st->in_num = in_num;
	st->neg = neg;
	return SFR_CONTINUE;
}
