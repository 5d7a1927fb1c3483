// SPDX-License-Identifier: GPL-2.0
/*
 * Smoke test: a BPF program loads, is JIT-compiled and runs. The program
 * reads skb->len from its context, computes len * 3 + 1, stores it in an
 * array map and returns it; both the return value and the map are checked
 * against the same arithmetic done here.
 */
#include <errno.h>
#include <linux/bpf.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define INSN(c, d, s, o, i) ((struct bpf_insn){ c, d, s, o, i })

static long sys_bpf(int cmd, union bpf_attr *attr)
{
	return syscall(__NR_bpf, cmd, attr, sizeof(*attr));
}

int main(void)
{
	union bpf_attr attr;
	unsigned char pkt[64];
	/* test_run pulls the 14-byte Ethernet header: skb->len = 64 - 14 */
	__u32 retval, key = 0, val = 0, want = (sizeof(pkt) - 14) * 3 + 1;
	char log[4096] = "";
	struct bpf_prog_info info;
	int map_fd, prog_fd, want_jit;

	memset(&attr, 0, sizeof(attr));
	attr.map_type = BPF_MAP_TYPE_ARRAY;
	attr.key_size = 4;
	attr.value_size = 4;
	attr.max_entries = 1;
	map_fd = sys_bpf(BPF_MAP_CREATE, &attr);
	if (map_fd < 0) {
		printf("map create: %s\n", strerror(errno));
		return 1;
	}

	struct bpf_insn prog[] = {
		/* r6 = skb->len; r6 = r6 * 3 + 1 */
		INSN(BPF_LDX | BPF_MEM | BPF_W, 6, 1, offsetof(struct __sk_buff, len), 0),
		INSN(BPF_ALU64 | BPF_MUL | BPF_K, 6, 0, 0, 3),
		INSN(BPF_ALU64 | BPF_ADD | BPF_K, 6, 0, 0, 1),
		/* *(u32 *)(fp - 4) = 0; r2 = fp - 4; r1 = map; lookup */
		INSN(BPF_ST | BPF_MEM | BPF_W, 10, 0, -4, 0),
		INSN(BPF_ALU64 | BPF_MOV | BPF_X, 2, 10, 0, 0),
		INSN(BPF_ALU64 | BPF_ADD | BPF_K, 2, 0, 0, -4),
		INSN(BPF_LD | BPF_DW | BPF_IMM, 1, BPF_PSEUDO_MAP_FD, 0, map_fd),
		INSN(0, 0, 0, 0, 0),
		INSN(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_map_lookup_elem),
		INSN(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 1, 0),
		INSN(BPF_STX | BPF_MEM | BPF_W, 0, 6, 0, 0),
		INSN(BPF_ALU64 | BPF_MOV | BPF_X, 0, 6, 0, 0),
		INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),
	};

	memset(&attr, 0, sizeof(attr));
	attr.prog_type = BPF_PROG_TYPE_SOCKET_FILTER;
	attr.insns = (unsigned long)prog;
	attr.insn_cnt = sizeof(prog) / sizeof(prog[0]);
	attr.license = (unsigned long)"GPL";
	attr.log_buf = (unsigned long)log;
	attr.log_size = sizeof(log);
	attr.log_level = 1;
	prog_fd = sys_bpf(BPF_PROG_LOAD, &attr);
	if (prog_fd < 0) {
		printf("prog load: %s\n%s\n", strerror(errno), log);
		return 1;
	}

	memset(pkt, 0xab, sizeof(pkt));
	memset(&attr, 0, sizeof(attr));
	attr.test.prog_fd = prog_fd;
	attr.test.data_in = (unsigned long)pkt;
	attr.test.data_size_in = sizeof(pkt);
	attr.test.repeat = 1;
	if (sys_bpf(BPF_PROG_TEST_RUN, &attr)) {
		printf("test run: %s\n", strerror(errno));
		return 1;
	}
	retval = attr.test.retval;
	if (retval != want) {
		printf("retval %u, want %u\n", retval, want);
		return 1;
	}

	memset(&attr, 0, sizeof(attr));
	attr.map_fd = map_fd;
	attr.key = (unsigned long)&key;
	attr.value = (unsigned long)&val;
	if (sys_bpf(BPF_MAP_LOOKUP_ELEM, &attr) || val != want) {
		printf("map value %u, want %u (%s)\n", val, want, strerror(errno));
		return 1;
	}

	memset(&info, 0, sizeof(info));
	memset(&attr, 0, sizeof(attr));
	attr.info.bpf_fd = prog_fd;
	attr.info.info_len = sizeof(info);
	attr.info.info = (unsigned long)&info;
	if (sys_bpf(BPF_OBJ_GET_INFO_BY_FD, &attr)) {
		printf("prog info: %s\n", strerror(errno));
		return 1;
	}
	/* The debug run (tools/test -D) turns the JIT off for KASAN. */
	want_jit = !getenv("SFR_BPF_JIT") || strcmp(getenv("SFR_BPF_JIT"), "0");
	if (!info.jited_prog_len != !want_jit) {
		printf("program was %sJIT-compiled, want %s\n",
		       info.jited_prog_len ? "" : "not ",
		       want_jit ? "JIT" : "interpreted");
		return 1;
	}
	printf("retval %u, map %u, jited %u bytes\n", retval, val,
	       info.jited_prog_len);
	return 0;
}
