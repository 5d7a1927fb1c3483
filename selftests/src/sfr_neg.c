// SPDX-License-Identifier: GPL-2.0
/*
 * sfr kernel interface: verifier rejections with their exact messages,
 * attach refusals with their errnos; the result file (BPF_ITER_CREATE on
 * the link): frames checked against a C reduce of the file's bytes, its
 * own position and lseek(), independent links on one file, BPF_LINK_DETACH
 * (ENOLINK), references (closing the link and data fds keeps it working);
 * the data fd keeps its normal semantics after attach (read, pread, mmap,
 * io_uring, splice, sendfile, copy_file_range, O_DIRECT, a forked child,
 * a loop device, finit_module see the file's bytes); SFR_STOP, link info
 * and update; and races (detach and closes during reads, fds closed with
 * io_uring reads in flight). bpf(2) and libbpf calls, no libsfr. TAP.
 *
 *   sfr_neg DIR      DIR: a directory on a file system that takes sfr
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/bpf.h>
#include <linux/capability.h>
#include <linux/loop.h>
#include <linux/sfr.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "../../bpf/sum.h"
#include "sum.skel.h"

static int ntest, nfail;

#define CHECK(cond, fmt, ...) do {					\
	ntest++;							\
	if (cond) {							\
		printf("ok %d - " fmt "\n", ntest, ##__VA_ARGS__);	\
	} else {							\
		nfail++;						\
		printf("not ok %d - " fmt " (errno %d)\n", ntest,	\
		       ##__VA_ARGS__, errno);				\
	}								\
} while (0)

#define SKIP(fmt, ...) do {						\
	ntest++;							\
	printf("ok %d - " fmt "\n", ntest, ##__VA_ARGS__);		\
} while (0)

#define INSN(c, d, s, o, i) \
	((struct bpf_insn){ .code = (c), .dst_reg = (d), .src_reg = (s), .off = (o), .imm = (i) })
#define LDX(sz, d, s, o)	INSN(BPF_LDX | BPF_MEM | (sz), d, s, o, 0)
#define STB(d, o, i)		INSN(BPF_ST | BPF_MEM | BPF_B, d, 0, o, i)
#define MOVI(d, i)		INSN(BPF_ALU64 | BPF_MOV | BPF_K, d, 0, 0, i)
#define MOV(d, s)		INSN(BPF_ALU64 | BPF_MOV | BPF_X, d, s, 0, 0)
#define ADDI(d, i)		INSN(BPF_ALU64 | BPF_ADD | BPF_K, d, 0, 0, i)
#define JGT(d, s, o)		INSN(BPF_JMP | BPF_JGT | BPF_X, d, s, o, 0)
#define JSETI(d, i, o)		INSN(BPF_JMP | BPF_JSET | BPF_K, d, 0, o, i)
#define KCALL(id)		INSN(BPF_JMP | BPF_CALL, 0, BPF_PSEUDO_KFUNC_CALL, 0, id)
#define EXIT			INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)

#define OFF_DATA	offsetof(struct bpf_sfr_md, data)
#define OFF_END		offsetof(struct bpf_sfr_md, data_end)
#define OFF_FLAGS	offsetof(struct bpf_sfr_md, flags)
#define OFF_POS		offsetof(struct bpf_sfr_md, pos)

static char vlog[65536];

static int load(const struct bpf_insn *insns, int n, enum bpf_prog_type type,
		enum bpf_attach_type at)
{
	LIBBPF_OPTS(bpf_prog_load_opts, o, .log_buf = vlog,
		    .log_size = sizeof(vlog), .log_level = 1,
		    .expected_attach_type = at);

	vlog[0] = 0;
	return bpf_prog_load(type, "sfr_neg", "GPL", insns, n, &o);
}

/* The program must be rejected with @msg in the verifier log. */
static void reject(const char *what, const struct bpf_insn *insns, int n,
		   const char *msg)
{
	int fd = load(insns, n, BPF_PROG_TYPE_SFR, BPF_SFR_READ);

	CHECK(fd < 0 && strstr(vlog, msg), "verifier rejects %s: \"%s\"", what, msg);
	if (fd >= 0)
		close(fd);
	else if (!strstr(vlog, msg))
		printf("# log: %.2000s\n", vlog);
}

static int bpf_sys(int cmd, union bpf_attr *a)
{
	return syscall(__NR_bpf, cmd, a, sizeof(*a));
}

static int link_create(int prog, int fd, const void *opts, __u32 len,
		       __u32 flags)
{
	union bpf_attr a;

	memset(&a, 0, sizeof(a));
	a.link_create.prog_fd = prog;
	a.link_create.target_fd = fd;
	a.link_create.attach_type = BPF_SFR_READ;
	a.link_create.flags = flags;
	a.link_create.sfr.opts = (unsigned long)opts;
	a.link_create.sfr.opts_len = len;
	return bpf_sys(BPF_LINK_CREATE, &a);
}

/* BPF_ITER_CREATE on a link: the link's result file. */
static int result_create(int lfd, __u32 flags)
{
	union bpf_attr a;

	memset(&a, 0, sizeof(a));
	a.iter_create.link_fd = lfd;
	a.iter_create.flags = flags;
	return bpf_sys(BPF_ITER_CREATE, &a);
}

static int link_cmd(int cmd, int lfd, int new_prog)
{
	union bpf_attr a;

	memset(&a, 0, sizeof(a));
	if (cmd == BPF_LINK_UPDATE) {
		a.link_update.link_fd = lfd;
		a.link_update.new_prog_fd = new_prog;
	} else {
		a.link_detach.link_fd = lfd;
	}
	return bpf_sys(cmd, &a);
}

#define REFUSE(call, err, what) do {					\
	int ___r;							\
	errno = 0;							\
	___r = (call);							\
	CHECK(___r < 0 && errno == (err), "%s -> %s", what, strerrorname_np(err)); \
	if (___r >= 0)							\
		close(___r);						\
} while (0)

/* A call returning a count, not an fd: must fail with @err. */
#define REFUSE_N(call, err, what) do {					\
	long ___r;							\
	errno = 0;							\
	___r = (call);							\
	CHECK(___r < 0 && errno == (err), "%s -> %s (got %ld)", what,	\
	      strerrorname_np(err), ___r);				\
} while (0)

static const struct bpf_insn prog_ret0[] = { MOVI(0, 0), EXIT };
/* Counts nothing, but stops at the first chunk. */
static const struct bpf_insn prog_stop[] = {
	LDX(BPF_W, 2, 1, OFF_FLAGS),
	MOVI(0, SFR_CONTINUE),
	JSETI(2, SFR_F_CHUNK, 1),
	EXIT,
	MOVI(0, SFR_STOP),
	EXIT,
};

#define STDW(d, o, i)		INSN(BPF_ST | BPF_MEM | BPF_DW, d, 0, o, i)

/* The argument rules of the scan kfuncs (Documentation/bpf/sfr.rst). */
static void test_verifier_scan(struct btf *btf)
{
	int find_str = btf ? btf__find_by_name_kind(btf, "bpf_sfr_find_str", BTF_KIND_FUNC) : -1;
	int fold = btf ? btf__find_by_name_kind(btf, "bpf_sfr_fold", BTF_KIND_FUNC) : -1;

	int fd;

	CHECK(find_str > 0 && fold > 0, "vmlinux BTF has bpf_sfr_find_str and bpf_sfr_fold");
	if (find_str <= 0 || fold <= 0)
		return;
	{
		/* find_str(ctx, 0, 0, data, 1): the needle in file data. */
		const struct bpf_insn needle_data[] = {
			LDX(BPF_DW, 4, 1, OFF_DATA), LDX(BPF_DW, 3, 1, OFF_END),
			MOV(5, 4), ADDI(5, 1), JGT(5, 3, 4),
			MOVI(2, 0), MOVI(3, 0), MOVI(5, 1), KCALL(find_str),
			MOVI(0, 0), EXIT,
		};
		/* find_str(ctx, 0, 0, fp - 8, ctx->pos): a size not bounded. */
		const struct bpf_insn needle_unbounded[] = {
			STDW(10, -8, 0), LDX(BPF_DW, 5, 1, OFF_POS),
			MOV(4, 10), ADDI(4, -8), MOVI(2, 0), MOVI(3, 0),
			KCALL(find_str), MOVI(0, 0), EXIT,
		};
		/* find_str(ctx, 0, 0, fp - 8, 9): past the stack slot. */
		const struct bpf_insn needle_short[] = {
			STDW(10, -16, 0), STDW(10, -8, 0),
			MOV(4, 10), ADDI(4, -8), MOVI(2, 0), MOVI(3, 0), MOVI(5, 9),
			KCALL(find_str), MOVI(0, 0), EXIT,
		};
		/* fold(ctx, 0, 0, fp - 8, fp - 16): state in 16 bytes. */
		const struct bpf_insn fold_small[] = {
			STDW(10, -16, 0), STDW(10, -8, 0),
			MOV(4, 10), ADDI(4, -8), MOV(5, 10), ADDI(5, -16),
			MOVI(2, 0), MOVI(3, 0), KCALL(fold), MOVI(0, 0), EXIT,
		};
		/* fold(ctx, 0, 0, NULL, NULL) */
		const struct bpf_insn fold_null[] = {
			MOVI(4, 0), MOVI(5, 0), MOVI(2, 0), MOVI(3, 0),
			KCALL(fold), MOVI(0, 0), EXIT,
		};

		reject("file data as find_str's needle", needle_data, 11,
		       "R4 cannot pass file data to a function");
		reject("an unbounded needle size", needle_unbounded, 9,
		       "R5 min value is negative, either use unsigned or 'var &= const'");
		reject("a needle size past its memory", needle_short, 10,
		       "invalid indirect access to stack R4 off=-8 size=9");
		reject("a fold state smaller than struct sfr_fx_state", fold_small, 11,
		       "invalid indirect access to stack R5 off=-16 size=88");
		/*
		 * NULL passes the verifier (it allows NULL for memory
		 * arguments): bpf_sfr_fold() must refuse it at run time,
		 * which sfr_kfunc checks.
		 */
		fd = load(fold_null, 7, BPF_PROG_TYPE_SFR, BPF_SFR_READ);
		CHECK(fd >= 0, "fold with NULL cfg and state verifies (refused at run time)");
		if (fd >= 0)
			close(fd);
	}
}

static void test_verifier(void)
{
	const struct bpf_insn write_data[] = {
		LDX(BPF_DW, 2, 1, OFF_DATA), LDX(BPF_DW, 3, 1, OFF_END),
		MOV(4, 2), ADDI(4, 1), JGT(4, 3, 1),
		STB(2, 0, 'x'),
		MOVI(0, 0), EXIT,
	};
	const struct bpf_insn past_end[] = {
		LDX(BPF_DW, 2, 1, OFF_DATA), LDX(BPF_DW, 3, 1, OFF_END),
		MOV(4, 2), ADDI(4, 1), JGT(4, 3, 1),
		LDX(BPF_B, 0, 2, 1),
		MOVI(0, 0), EXIT,
	};
	const struct bpf_insn good_read[] = {
		LDX(BPF_DW, 2, 1, OFF_DATA), LDX(BPF_DW, 3, 1, OFF_END),
		MOV(4, 2), ADDI(4, 2), JGT(4, 3, 1),
		LDX(BPF_B, 0, 2, 1),
		MOVI(0, 0), EXIT,
	};
	const struct bpf_insn unchecked[] = {
		LDX(BPF_DW, 2, 1, OFF_DATA),
		LDX(BPF_B, 0, 2, 0),
		MOVI(0, 0), EXIT,
	};
	const struct bpf_insn ret2[] = { MOVI(0, 2), EXIT };
	const struct bpf_insn ctx_oob[] = {
		LDX(BPF_DW, 0, 1, sizeof(struct bpf_sfr_md)), MOVI(0, 0), EXIT,
	};
	const struct bpf_insn ctx_write[] = {
		INSN(BPF_ST | BPF_MEM | BPF_DW, 1,  0, 16, 0), MOVI(0, 0), EXIT,
	};
	const struct bpf_insn ctx_narrow[] = {
		LDX(BPF_W, 0, 1, OFF_DATA), MOVI(0, 0), EXIT,
	};
	struct btf *btf = btf__load_vmlinux_btf();
	int emit = btf ? btf__find_by_name_kind(btf, "bpf_sfr_emit", BTF_KIND_FUNC) : -1;
	int fd;

	fd = load(good_read, 8, BPF_PROG_TYPE_SFR, BPF_SFR_READ);
	CHECK(fd >= 0, "control: a bounds-checked read of page data verifies");
	if (fd >= 0)
		close(fd);
	reject("a write to page data", write_data, 8, "cannot write into packet");
	reject("a read past data_end", past_end, 8,
	       "invalid access to packet, off=1 size=1, R2(id=0,off=1,r=1)");
	reject("a read without a bounds check", unchecked, 4,
	       "invalid access to packet, off=0 size=1, R2(id=0,off=0,r=0)");
	reject("return value 2", ret2, 2,
	       "At program exit the register R0 has smin=2 smax=2 should have been in [0, 1]");
	reject("a context read past its end", ctx_oob, 3,
	       "invalid bpf_context access off=56 size=8");
	reject("a context write", ctx_write, 3, "invalid bpf_context access off=16 size=8");
	reject("a 4-byte read of ctx->data", ctx_narrow, 3,
	       "invalid bpf_context access off=0 size=4");
	CHECK(emit > 0, "vmlinux BTF has bpf_sfr_emit");
	if (emit > 0) {
		/* bpf_sfr_emit(ctx, 0, data, 1): page data as a kfunc argument. */
		const struct bpf_insn emit_data[] = {
			LDX(BPF_DW, 3, 1, OFF_DATA), LDX(BPF_DW, 4, 1, OFF_END),
			MOV(5, 3), ADDI(5, 1), JGT(5, 4, 3),
			MOVI(2, 0), MOVI(4, 1), KCALL(emit),
			MOVI(0, 0), EXIT,
		};
		reject("page data passed to a kfunc", emit_data, 10,
		       "R3 cannot pass file data to a function");
	}
	test_verifier_scan(btf);
	btf__free(btf);
}


#define NEG_SIZE	(1 << 20)

/* Bytes of the test files: "0\n1\n...999\n0\n..." cut at the size. */
static char *gen_bytes(size_t size)
{
	char *c = malloc(size + 16);
	size_t n = 0;
	int i = 0;

	if (!c)
		return NULL;
	while (n < size)
		n += sprintf(c + n, "%d\n", i++ % 1000);
	return c;
}

/* Write @size generated bytes to @path; *bytes (if set) keeps them. */
static int make_file(const char *path, size_t size, char **bytes)
{
	char *c = gen_bytes(size);
	int fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0644);
	int ok = c && fd >= 0 && write(fd, c, size) == (ssize_t)size;

	if (fd >= 0)
		close(fd);
	if (ok && bytes)
		*bytes = c;
	else
		free(c);
	return ok ? 0 : -1;
}

/* The bytes of neg.txt, the file most tests use. */
static char *neg;

/*
 * What bpf/sum.bpf.c must return for a request at @off of a file holding
 * @c[0..@size) with window @window (0: none) and '\n' records, by the
 * rules of Documentation/bpf/sfr.rst: skip to the first record start at or
 * after @off, handle the records that start before the window end, finish
 * the last one.
 */
struct expect {
	long long sum;
	unsigned long long count, in_len;
	int eof;
};

static void expect_sum(const char *c, size_t size, __u64 off, __u64 window,
		       struct expect *e)
{
	__u64 wend = window ? off - off % window + window : size;
	__u64 start = off, end, p;
	long long cur = 0;
	int in = 0, neg_sign = 0;

	if (wend > size)
		wend = size;
	if (off > 0) {
		for (p = off - 1; p < size && c[p] != '\n'; p++)
			;
		start = p < size ? p + 1 : size;
	}
	end = size;
	if (wend < size) {
		for (p = wend - 1; p < size && c[p] != '\n'; p++)
			;
		end = p < size ? p + 1 : size;
	}
	if (end < start)
		end = start;
	memset(e, 0, sizeof(*e));
	for (p = start; p < end; p++) {
		if (c[p] >= '0' && c[p] <= '9') {
			cur = cur * 10 + (c[p] - '0');
			in = 1;
		} else if (c[p] == '-') {
			neg_sign = 1;
		} else if (c[p] == '\n') {
			if (in) {
				e->sum += neg_sign ? -cur : cur;
				e->count++;
			}
			cur = in = neg_sign = 0;
		}
	}
	if (in) {
		e->sum += neg_sign ? -cur : cur;
		e->count++;
	}
	e->in_len = end - off;
	e->eof = end == size;
}

/*
 * Is @buf (@n bytes read at @off) the right frame of bpf/sum.bpf.c? Says
 * why not on a "# " line.
 */
static int sum_frame_ok(const void *buf, ssize_t n, __u64 off, __u64 window,
			const char *c, size_t size)
{
	const struct sfr_frame *fr = buf;
	struct sum_state st;
	struct expect e;

	if (n != (ssize_t)(sizeof(*fr) + sizeof(st))) {
		printf("# read at %llu returned %zd, want a %zu-byte frame\n",
		       (unsigned long long)off, n, sizeof(*fr) + sizeof(st));
		return 0;
	}
	memcpy(&st, (const char *)buf + sizeof(*fr), sizeof(st));
	expect_sum(c, size, off, window, &e);
	if (fr->hdr_len != sizeof(*fr) || fr->state_len != sizeof(st) ||
	    fr->out_len || fr->in_off != off || fr->in_len != e.in_len ||
	    !(fr->flags & SFR_FRAME_EOF) != !e.eof ||
	    (fr->flags & (SFR_FRAME_STOP | SFR_FRAME_FULL)) ||
	    st.sum != e.sum || st.count != e.count) {
		printf("# frame at %llu (window %llu): in_off %llu in_len %llu flags %#x count %llu sum %lld; want in_len %llu%s count %llu sum %lld\n",
		       (unsigned long long)off, (unsigned long long)window,
		       (unsigned long long)fr->in_off,
		       (unsigned long long)fr->in_len, fr->flags,
		       (unsigned long long)st.count, (long long)st.sum,
		       e.in_len, e.eof ? " EOF" : "", e.count, e.sum);
		return 0;
	}
	return 1;
}

/* The sum program, for frames with a checkable result. */
static struct sum_bpf *sum_skel;
static int sum_prog = -1;

static int load_sum(void)
{
	sum_skel = sum_bpf__open();
	if (!sum_skel)
		return -1;
	bpf_program__set_type(sum_skel->progs.sum_lines, BPF_PROG_TYPE_SFR);
	bpf_program__set_expected_attach_type(sum_skel->progs.sum_lines,
					      BPF_SFR_READ);
	if (sum_bpf__load(sum_skel)) {
		sum_bpf__destroy(sum_skel);
		sum_skel = NULL;
		return -1;
	}
	sum_prog = bpf_program__fd(sum_skel->progs.sum_lines);
	return 0;
}

/* Attach the sum program to @fd with '\n' records; *rfd: a result file. */
static int attach_sum(int fd, __u64 window, int *rfd)
{
	struct bpf_sfr_opts o = {
		.window = window,
		.scratch_size = sizeof(struct sum_state),
		.flags = SFR_OPT_DELIM,
		.delim = '\n',
	};
	int lfd = link_create(sum_prog, fd, &o, sizeof(o), 0);

	*rfd = lfd >= 0 ? result_create(lfd, 0) : -1;
	return lfd;
}

#define FRAME_MAX	(sizeof(struct sfr_frame) + sizeof(struct sum_state) + 64)

/* Read a frame with read(2) at @rfd's position and check it. */
static int read_sum_frame(int rfd, __u64 window, const char *c, size_t size,
			  __u64 *in_len)
{
	char buf[FRAME_MAX];
	off_t off = lseek(rfd, 0, SEEK_CUR);
	ssize_t n = read(rfd, buf, sizeof(buf));
	const struct sfr_frame *fr = (const void *)buf;

	*in_len = 0;
	if (off < 0 || !sum_frame_ok(buf, n, off, window, c, size))
		return 0;
	*in_len = fr->in_len;
	return lseek(rfd, 0, SEEK_CUR) == off + (off_t)fr->in_len;
}

/* pread(2) of a frame at @off, checked. */
static int pread_sum_frame(int rfd, __u64 off, __u64 window, const char *c,
			   size_t size)
{
	char buf[FRAME_MAX];

	return sum_frame_ok(buf, pread(rfd, buf, sizeof(buf), off), off, window,
			    c, size);
}

/* Are the @len bytes of @fd at @off those at @want? */
static int bytes_at(int fd, off_t off, const char *want, size_t len)
{
	char *buf = malloc(len);
	int ok = buf && pread(fd, buf, len, off) == (ssize_t)len &&
		 !memcmp(buf, want, len);

	free(buf);
	return ok;
}

/* Are the @len bytes of @fd at @off those of neg.txt? */
static int raw_at(int fd, off_t off, size_t len)
{
	return bytes_at(fd, off, neg + off, len);
}

/* Read @len bytes from the pipe @p and compare them with neg.txt at @off. */
static int pipe_is(int p, off_t off, size_t len)
{
	char buf[4096];
	size_t got = 0;

	while (got < len && got < sizeof(buf)) {
		ssize_t n = read(p, buf + got, len - got);

		if (n <= 0)
			return 0;
		got += n;
	}
	return got == len && !memcmp(buf, neg + off, len);
}

static void test_refusals(const char *dir, int prog)
{
	char path[4096];
	struct bpf_sfr_opts o;
	char big[sizeof(o) + 8];
	int fd, lfd, rfd, p[2], wfd, sock;
	struct sfr_frame fr;

	snprintf(path, sizeof(path), "%s/neg.txt", dir);
	if (make_file(path, NEG_SIZE, &neg)) {
		CHECK(0, "create %s", path);
		exit(1);
	}
	fd = open(path, O_RDONLY);
	memset(&o, 0, sizeof(o));
	o.flags = 1U << 7;
	REFUSE(link_create(prog, fd, &o, sizeof(o), 0), EINVAL, "unknown opts flag");
	memset(big, 0, sizeof(big));
	big[sizeof(o) + 3] = 1;
	REFUSE(link_create(prog, fd, big, sizeof(big), 0), E2BIG, "non-zero opts tail");
	REFUSE(link_create(prog, fd, big, 8192, 0), E2BIG, "opts_len 8192");
	REFUSE(link_create(prog, fd, NULL, 0, 1), EINVAL, "non-zero link_create.flags");
	memset(&o, 0, sizeof(o));
	o.scratch_size = SFR_SCRATCH_MAX + 1;
	REFUSE(link_create(prog, fd, &o, sizeof(o), 0), EINVAL, "scratch_size > SFR_SCRATCH_MAX");
	memset(&o, 0, sizeof(o));
	o.flags = SFR_OPT_DELIM;
	o.delim = 256;
	REFUSE(link_create(prog, fd, &o, sizeof(o), 0), EINVAL, "delimiter 256");

	sock = load(prog_ret0, 2, BPF_PROG_TYPE_SOCKET_FILTER, 0);
	REFUSE(link_create(sock, fd, NULL, 0, 0), EINVAL, "socket filter program");
	close(sock);
	wfd = open(path, O_WRONLY);
	REFUSE(link_create(prog, wfd, NULL, 0, 0), EBADF, "fd not open for reading");
	close(wfd);
	REFUSE(link_create(prog, 9999, NULL, 0, 0), EBADF, "closed fd");
	if (pipe(p) == 0) {
		REFUSE(link_create(prog, p[0], NULL, 0, 0), EINVAL, "pipe (not a regular file)");
		close(p[0]);
		close(p[1]);
	}
	wfd = open(dir, O_RDONLY);
	REFUSE(link_create(prog, wfd, NULL, 0, 0), EISDIR, "directory");
	close(wfd);
	wfd = open("/proc/self/status", O_RDONLY);
	REFUSE(link_create(prog, wfd, NULL, 0, 0), EOPNOTSUPP, "procfs file (fs not opted in)");
	close(wfd);
	wfd = open("/etc/hostname", O_RDONLY);	/* 9p or overlay in the VM */
	REFUSE(link_create(prog, wfd, NULL, 0, 0), EOPNOTSUPP, "/etc/hostname (overlayfs)");
	close(wfd);

	/* BPF_ITER_CREATE: only flags 0, only on a link. */
	lfd = link_create(prog, fd, NULL, 0, 0);
	CHECK(lfd >= 0, "attach");
	REFUSE(result_create(lfd, 1), EINVAL, "BPF_ITER_CREATE with flags 1");
	REFUSE(result_create(fd, 0), EINVAL, "BPF_ITER_CREATE on the data fd (not a link)");
	REFUSE(result_create(9999, 0), EBADF, "BPF_ITER_CREATE on a closed fd");
	close(lfd);

	/* O_DIRECT data fds may be attached: results come from the page cache. */
	wfd = open(path, O_RDONLY | O_DIRECT);
	errno = 0;
	lfd = link_create(prog, wfd, NULL, 0, 0);
	CHECK(lfd >= 0, "attach to an O_DIRECT data fd");
	rfd = lfd >= 0 ? result_create(lfd, 0) : -1;
	errno = 0;
	CHECK(rfd >= 0 && pread(rfd, &fr, sizeof(fr), 0) == sizeof(fr) &&
	      fr.in_off == 0 && fr.in_len == NEG_SIZE && (fr.flags & SFR_FRAME_EOF),
	      "its result fd returns a frame for the whole file (in_len %llu)",
	      rfd >= 0 ? (unsigned long long)fr.in_len : 0ULL);
	if (rfd >= 0)
		close(rfd);
	if (lfd >= 0)
		close(lfd);
	close(wfd);

	/* Without CAP_BPF and CAP_SYS_ADMIN: EPERM. */
	fflush(stdout);
	if (fork() == 0) {
		struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
		struct __user_cap_data_struct d[2] = { 0 };
		int r;

		syscall(SYS_capset, &h, d);
		r = link_create(prog, fd, NULL, 0, 0);
		_exit(r < 0 && errno == EPERM ? 0 : 1);
	} else {
		int st;

		wait(&st);
		CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "no CAP_BPF -> EPERM");
	}
	close(fd);
}

/*
 * After attach the data fd reads, splices, sends, copies and maps the
 * file's bytes, and takes O_DIRECT, while the result fd returns frames.
 */
static void test_data_fd(const char *dir)
{
	char path[4096], *abuf = NULL;
	int fd, lfd, rfd, p[2], tfd, st;
	loff_t off, toff;
	struct io_uring ring;
	void *map;

	snprintf(path, sizeof(path), "%s/neg.txt", dir);
	fd = open(path, O_RDONLY);
	lfd = attach_sum(fd, 0, &rfd);
	CHECK(lfd >= 0 && rfd >= 0, "attach the sum program and make a result fd");
	if (lfd < 0 || rfd < 0)
		return;

	CHECK(pread_sum_frame(rfd, 0, 0, neg, NEG_SIZE),
	      "result fd pread: one frame with the whole file's count and sum");
	CHECK(raw_at(fd, 0, 4096) && raw_at(fd, (1 << 19) + 3, 10000) &&
	      raw_at(fd, NEG_SIZE - 100, 100),
	      "data fd pread returns the file's bytes (offsets 0, 512 KiB + 3, end - 100)");
	{
		char buf[4096];

		CHECK(read(fd, buf, sizeof(buf)) == sizeof(buf) &&
		      !memcmp(buf, neg, sizeof(buf)) &&
		      lseek(fd, 0, SEEK_CUR) == sizeof(buf) &&
		      lseek(rfd, 0, SEEK_CUR) == 0,
		      "data fd read() returns the file's bytes and moves only the data fd's position");
	}
	{
		struct io_uring_cqe *cqe;
		char buf[4096];
		int ok = 0;

		if (!io_uring_queue_init(4, &ring, 0)) {
			io_uring_prep_read(io_uring_get_sqe(&ring), fd, buf,
					   sizeof(buf), 20480);
			io_uring_submit(&ring);
			if (!io_uring_wait_cqe(&ring, &cqe)) {
				ok = cqe->res == sizeof(buf) &&
				     !memcmp(buf, neg + 20480, sizeof(buf));
				io_uring_cqe_seen(&ring, cqe);
			}
			io_uring_queue_exit(&ring);
		}
		CHECK(ok, "data fd io_uring read returns the file's bytes");
	}
	if (pipe(p) == 0) {
		off = 8192;
		errno = 0;
		CHECK(splice(fd, &off, p[1], NULL, 4096, 0) == 4096 &&
		      pipe_is(p[0], 8192, 4096),
		      "splice from the data fd moves the file's bytes");
		off = 12288;
		errno = 0;
		CHECK(sendfile(p[1], fd, &off, 4096) == 4096 &&
		      pipe_is(p[0], 12288, 4096),
		      "sendfile from the data fd sends the file's bytes");
		close(p[0]);
		close(p[1]);
	} else {
		CHECK(0, "pipe");
	}
	tfd = open(dir, O_TMPFILE | O_RDWR, 0600);
	off = 16384;
	toff = 0;
	errno = 0;
	CHECK(tfd >= 0 && copy_file_range(fd, &off, tfd, &toff, 4096, 0) == 4096 &&
	      lseek(tfd, 0, SEEK_END) == 4096 && bytes_at(tfd, 0, neg + 16384, 4096),
	      "copy_file_range from the data fd copies the file's bytes");
	if (tfd >= 0)
		close(tfd);
	map = mmap(NULL, NEG_SIZE, PROT_READ, MAP_SHARED, fd, 0);
	CHECK(map != MAP_FAILED && !memcmp(map, neg, NEG_SIZE),
	      "mmap of the data fd shows the file's bytes");
	if (map != MAP_FAILED)
		munmap(map, NEG_SIZE);

	errno = 0;
	CHECK(fcntl(fd, F_SETFL, O_DIRECT) == 0 && (fcntl(fd, F_GETFL) & O_DIRECT),
	      "F_SETFL O_DIRECT on the data fd");
	errno = 0;
	CHECK(!posix_memalign((void **)&abuf, 4096, 8192) &&
	      pread(fd, abuf, 8192, 8192) == 8192 && !memcmp(abuf, neg + 8192, 8192),
	      "O_DIRECT pread of the data fd returns the file's bytes");
	free(abuf);
	CHECK(pread_sum_frame(rfd, 0, 0, neg, NEG_SIZE),
	      "with O_DIRECT on the data fd, the result fd still returns the frame");
	fcntl(fd, F_SETFL, 0);

	/* A child shares the data fd's description, and the result fd. */
	fflush(stdout);
	if (fork() == 0) {
		int bad = 0;

		if (!raw_at(fd, 0, 4096) || !raw_at(fd, 777777, 3333))
			bad |= 1;
		if (!pread_sum_frame(rfd, 0, 0, neg, NEG_SIZE))
			bad |= 2;
		fflush(stdout);
		_exit(bad);
	}
	wait(&st);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0,
	      "a forked child reads the file's bytes through the data fd and a frame through the result fd (status %#x)",
	      st);
	close(rfd);
	close(lfd);
	close(fd);
}

/* Two links on one data fd and a third on another open: independent. */
static void test_two_links(const char *dir)
{
	char path[4096];
	int fd, fd2, l1, l2, l3, r1, r1b, r2, r3;
	__u64 len1 = 0, len2 = 0, len2b = 0, len1b = 0, w;
	struct expect e;
	int ok;

	snprintf(path, sizeof(path), "%s/neg.txt", dir);
	fd = open(path, O_RDONLY);
	fd2 = open(path, O_RDONLY);
	l1 = attach_sum(fd, 0, &r1);
	CHECK(l1 >= 0 && r1 >= 0, "first link on the data fd");
	errno = 0;
	l2 = attach_sum(fd, 65536, &r2);
	CHECK(l2 >= 0 && r2 >= 0, "a second link on the same data fd (window 64 KiB)");
	l3 = attach_sum(fd2, 100000, &r3);
	CHECK(l3 >= 0 && r3 >= 0, "a third link through another open of the file (window 100000)");
	r1b = l1 >= 0 ? result_create(l1, 0) : -1;
	CHECK(r1b >= 0 && r1b != r1, "a second result fd of the first link");
	if (l1 < 0 || l2 < 0 || l3 < 0 || r1 < 0 || r2 < 0 || r3 < 0 || r1b < 0)
		return;

	CHECK(read_sum_frame(r2, 65536, neg, NEG_SIZE, &len2),
	      "link 2: read() gives the first window's frame, position += in_len (%llu)",
	      (unsigned long long)len2);
	CHECK(read_sum_frame(r1, 0, neg, NEG_SIZE, &len1) && len1 == NEG_SIZE,
	      "link 1: read() gives the whole file's frame, position %llu",
	      (unsigned long long)len1);
	CHECK(read_sum_frame(r1b, 0, neg, NEG_SIZE, &len1b) && len1b == NEG_SIZE,
	      "link 1's second result fd starts at 0 on its own");
	CHECK(read_sum_frame(r2, 65536, neg, NEG_SIZE, &len2b) &&
	      lseek(r2, 0, SEEK_CUR) == (off_t)(len2 + len2b),
	      "link 2: the next read() continues at %llu",
	      (unsigned long long)len2);
	CHECK(pread_sum_frame(r3, 250000, 100000, neg, NEG_SIZE) &&
	      pread_sum_frame(r3, 0, 100000, neg, NEG_SIZE),
	      "link 3: pread frames at 250000 and 0 with its own window");
	/* Link 2's windows add up to the whole file. */
	ok = 1;
	for (w = 0; w < NEG_SIZE && ok; w += 65536)
		ok = pread_sum_frame(r2, w, 65536, neg, NEG_SIZE);
	expect_sum(neg, NEG_SIZE, 0, 0, &e);
	CHECK(ok, "link 2: all 16 windows' frames are right (together count %llu sum %lld)",
	      e.count, e.sum);
	CHECK(raw_at(fd, 0, 4096) && raw_at(fd2, 4096, 4096),
	      "both data fds still read the file's bytes");
	close(r1b);
	close(r1);
	close(r2);
	close(r3);
	close(l1);
	close(l2);
	close(l3);
	close(fd2);
	close(fd);
}

/* The result fd: its flags, name, lseek(), zero-length reads. */
static void test_result_fd(const char *dir)
{
	char path[4096], fdpath[64], name[64], buf[FRAME_MAX];
	int fd, lfd, rfd, ok;
	__u64 len = 0;
	off_t pos;
	ssize_t n;

	snprintf(path, sizeof(path), "%s/neg.txt", dir);
	fd = open(path, O_RDONLY);
	lfd = attach_sum(fd, 65536, &rfd);
	CHECK(lfd >= 0 && rfd >= 0, "attach, result fd");
	if (lfd < 0 || rfd < 0)
		return;

	snprintf(fdpath, sizeof(fdpath), "/proc/self/fd/%d", rfd);
	n = readlink(fdpath, name, sizeof(name) - 1);
	name[n > 0 ? n : 0] = 0;
	CHECK((fcntl(rfd, F_GETFD) & FD_CLOEXEC) &&
	      (fcntl(rfd, F_GETFL) & O_ACCMODE) == O_RDONLY &&
	      !strcmp(name, "anon_inode:[sfr]"),
	      "result fd: O_RDONLY, close-on-exec, %s", name);
	REFUSE_N(write(rfd, "x", 1), EBADF, "write to the result fd");

	errno = 0;
	CHECK(read(rfd, buf, 0) == 0 && lseek(rfd, 0, SEEK_CUR) == 0 &&
	      pread(rfd, buf, 0, 100000) == 0,
	      "a zero-length read or pread of the result fd returns 0");
	CHECK(lseek(rfd, 100000, SEEK_SET) == 100000 &&
	      read_sum_frame(rfd, 65536, neg, NEG_SIZE, &len),
	      "lseek SEEK_SET 100000, then read(): the frame at 100000 (in_len %llu)",
	      (unsigned long long)len);
	pos = 100000 + len;
	CHECK(lseek(rfd, 0, SEEK_CUR) == pos &&
	      lseek(rfd, -1000, SEEK_CUR) == pos - 1000 &&
	      read_sum_frame(rfd, 65536, neg, NEG_SIZE, &len),
	      "lseek SEEK_CUR: at %lld, back 1000, read() the frame there",
	      (long long)pos);
	CHECK(lseek(rfd, 0, SEEK_END) == NEG_SIZE && read(rfd, buf, sizeof(buf)) == 0,
	      "lseek SEEK_END is the data file's size, and a read there returns 0");
	CHECK(lseek(rfd, -10, SEEK_END) == NEG_SIZE - 10 &&
	      read_sum_frame(rfd, 65536, neg, NEG_SIZE, &len) &&
	      lseek(rfd, 0, SEEK_CUR) == NEG_SIZE,
	      "lseek SEEK_END -10: the last frame runs to the end (in_len %llu)",
	      (unsigned long long)len);
	ok = pread(rfd, buf, sizeof(buf), NEG_SIZE) == 0 &&
	     pread(rfd, buf, sizeof(buf), NEG_SIZE + 12345) == 0;
	CHECK(ok, "pread of the result fd at and past the end returns 0");
	CHECK(lseek(fd, 0, SEEK_CUR) == 0, "the data fd's position did not move");
	close(rfd);
	close(lfd);
	close(fd);
}

/*
 * The result fd holds the link, and the link the data file: with the link
 * and data fds closed the result fd still works.
 */
static void test_close_refs(const char *dir)
{
	char path[4096];
	int fd, lfd, rfd, ok = 1, frames = 0;
	__u64 len, off = 0;
	struct expect e;

	snprintf(path, sizeof(path), "%s/neg.txt", dir);
	fd = open(path, O_RDONLY);
	lfd = attach_sum(fd, 262144, &rfd);
	CHECK(lfd >= 0 && rfd >= 0, "attach, result fd");
	if (lfd < 0 || rfd < 0)
		return;
	close(lfd);
	close(fd);
	while (ok && off < NEG_SIZE) {
		ok = read_sum_frame(rfd, 262144, neg, NEG_SIZE, &len);
		off += len;
		frames++;
	}
	expect_sum(neg, NEG_SIZE, 0, 0, &e);
	CHECK(ok && off == NEG_SIZE && frames == 4,
	      "link and data fds closed: the result fd reads 4 right frames to the end (count %llu sum %lld)",
	      e.count, e.sum);
	close(rfd);
}

/* BPF_LINK_DETACH: result reads and BPF_LINK_UPDATE fail with ENOLINK. */
static void test_detach(const char *dir, int prog)
{
	char path[4096], buf[FRAME_MAX];
	struct io_uring ring;
	struct io_uring_cqe *cqe;
	int fd, lfd, rfd, res = 0;

	snprintf(path, sizeof(path), "%s/neg.txt", dir);
	fd = open(path, O_RDONLY);
	lfd = attach_sum(fd, 0, &rfd);
	CHECK(lfd >= 0 && rfd >= 0 && pread_sum_frame(rfd, 0, 0, neg, NEG_SIZE),
	      "attach, result fd, a frame");
	if (lfd < 0 || rfd < 0)
		return;
	errno = 0;
	CHECK(link_cmd(BPF_LINK_DETACH, lfd, 0) == 0, "BPF_LINK_DETACH");
	REFUSE_N(pread(rfd, buf, sizeof(buf), 0), ENOLINK, "result fd pread after detach");
	REFUSE_N(read(rfd, buf, sizeof(buf)), ENOLINK, "result fd read after detach");
	if (!io_uring_queue_init(4, &ring, 0)) {
		struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);

		io_uring_prep_read(sqe, rfd, buf, sizeof(buf), 0);
		io_uring_sqe_set_flags(sqe, IOSQE_ASYNC);
		io_uring_submit(&ring);
		if (!io_uring_wait_cqe(&ring, &cqe)) {
			res = cqe->res;
			io_uring_cqe_seen(&ring, cqe);
		}
		io_uring_queue_exit(&ring);
	}
	CHECK(res == -ENOLINK, "result fd io_uring read after detach -> ENOLINK (res %d)", res);
	REFUSE_N(link_cmd(BPF_LINK_UPDATE, lfd, prog), ENOLINK,
		 "BPF_LINK_UPDATE after detach");
	CHECK(raw_at(fd, 0, 4096), "the data fd reads the file's bytes after detach");
	close(rfd);
	close(lfd);
	close(fd);
}

/*
 * In-kernel readers of an attached data fd see the file's bytes: a loop
 * device backed by it, and finit_module(), which reads the whole file and
 * fails with EIO if reads return less than the position moved (frames of
 * 16-byte windows) but ENOEXEC for raw non-ELF bytes.
 */
static void test_kernel_readers(const char *dir, int prog)
{
	char path[4096], dev[64], *buf;
	struct bpf_sfr_opts o = { .window = 16 };
	struct sfr_frame fr;
	int ctl, fd, lfd, rfd, lo, nr;
	size_t got = 0;
	long r;

	snprintf(path, sizeof(path), "%s/neg.txt", dir);
	ctl = open("/dev/loop-control", O_RDWR);
	if (ctl < 0) {
		SKIP("loop device on the attached data fd # SKIP /dev/loop-control: %s",
		     strerror(errno));
	} else {
		fd = open(path, O_RDONLY);
		lfd = link_create(prog, fd, NULL, 0, 0);
		rfd = lfd >= 0 ? result_create(lfd, 0) : -1;
		nr = ioctl(ctl, LOOP_CTL_GET_FREE);
		snprintf(dev, sizeof(dev), "/dev/loop%d", nr);
		lo = nr >= 0 ? open(dev, O_RDWR) : -1;
		CHECK(lfd >= 0 && rfd >= 0 && lo >= 0, "attach; free loop device %s", dev);
		if (lo >= 0) {
			struct loop_config cfg;

			memset(&cfg, 0, sizeof(cfg));
			cfg.fd = fd;
			cfg.info.lo_flags = LO_FLAGS_READ_ONLY;
			errno = 0;
			r = ioctl(lo, LOOP_CONFIGURE, &cfg);
			CHECK(r == 0, "LOOP_CONFIGURE %s with the attached data fd", dev);
			buf = malloc(NEG_SIZE);
			while (r == 0 && buf && got < NEG_SIZE) {
				ssize_t n = pread(lo, buf + got, NEG_SIZE - got, got);

				if (n <= 0)
					break;
				got += n;
			}
			CHECK(r == 0 && got == NEG_SIZE && !memcmp(buf, neg, NEG_SIZE),
			      "the loop device reads the file's bytes (%zu of %d)",
			      got, NEG_SIZE);
			free(buf);
			if (r == 0)
				ioctl(lo, LOOP_CLR_FD, 0);
			close(lo);
		}
		errno = 0;
		CHECK(rfd >= 0 && pread(rfd, &fr, sizeof(fr), 0) == sizeof(fr) &&
		      fr.in_len == NEG_SIZE,
		      "meanwhile the result fd returns the frame");
		if (rfd >= 0)
			close(rfd);
		if (lfd >= 0)
			close(lfd);
		close(fd);
		close(ctl);
	}

	snprintf(path, sizeof(path), "%s/neg-module.bin", dir);
	if (make_file(path, 8192, NULL)) {
		CHECK(0, "create %s", path);
		return;
	}
	fd = open(path, O_RDONLY);
	lfd = link_create(prog, fd, &o, sizeof(o), 0);
	rfd = lfd >= 0 ? result_create(lfd, 0) : -1;
	CHECK(lfd >= 0 && rfd >= 0, "attach with 16-byte windows to an 8 KiB non-ELF file");
	errno = 0;
	r = syscall(SYS_finit_module, fd, "", 0);
	if (r < 0 && errno == ENOSYS) {
		SKIP("finit_module of the attached data fd # SKIP no CONFIG_MODULES");
	} else {
		CHECK(r < 0 && errno == ENOEXEC,
		      "finit_module of the attached data fd -> ENOEXEC: the loader read the raw bytes");
	}
	if (rfd >= 0)
		close(rfd);
	if (lfd >= 0)
		close(lfd);
	close(fd);
	unlink(path);
}

static void test_stop_info_update(const char *dir, int prog)
{
	struct bpf_link_info info;
	__u32 ilen = sizeof(info);
	struct sfr_frame fr;
	char path[4096];
	struct stat st;
	int fd, lfd, rfd, stop;
	ssize_t n;

	snprintf(path, sizeof(path), "%s/neg.txt", dir);
	fd = open(path, O_RDONLY);
	fstat(fd, &st);
	stop = load(prog_stop, 6, BPF_PROG_TYPE_SFR, BPF_SFR_READ);
	CHECK(stop >= 0, "load the stopping program");
	lfd = link_create(stop, fd, NULL, 0, 0);
	rfd = result_create(lfd, 0);
	n = read(rfd, &fr, sizeof(fr));
	CHECK(n == sizeof(fr) && (fr.flags & SFR_FRAME_STOP) && !(fr.flags & SFR_FRAME_EOF) &&
	      fr.in_len > 0 && fr.in_len <= 32768 &&
	      lseek(rfd, 0, SEEK_CUR) == (off_t)fr.in_len,
	      "SFR_STOP ends the request after one chunk (in_len %llu of %lld, flags %#x)",
	      (unsigned long long)fr.in_len, (long long)st.st_size, fr.flags);

	/* BPF_LINK_UPDATE to a program that never stops: one frame to EOF. */
	CHECK(link_cmd(BPF_LINK_UPDATE, lfd, prog) == 0, "BPF_LINK_UPDATE");
	n = pread(rfd, &fr, sizeof(fr), 0);
	CHECK(n == sizeof(fr) && fr.in_len == (__u64)st.st_size &&
	      (fr.flags & SFR_FRAME_EOF) && !(fr.flags & SFR_FRAME_STOP),
	      "after update the request runs to EOF (in_len %llu)",
	      (unsigned long long)fr.in_len);
	n = pread(rfd, &fr, sizeof(fr), st.st_size);
	CHECK(n == 0, "pread at EOF returns 0");

	memset(&info, 0, sizeof(info));
	CHECK(bpf_obj_get_info_by_fd(lfd, &info, &ilen) == 0 &&
	      info.type == BPF_LINK_TYPE_SFR && info.sfr.ino == st.st_ino &&
	      info.sfr.runs >= 3,
	      "link info: type, inode, runs %llu, scanned %llu",
	      (unsigned long long)info.sfr.runs,
	      (unsigned long long)info.sfr.bytes_scanned);
	/* Scanned: one chunk (STOP run) plus the whole file (after update). */
	CHECK(info.sfr.bytes_scanned > (__u64)st.st_size &&
	      info.sfr.bytes_scanned <= (__u64)st.st_size + 32768 &&
	      info.sfr.bytes_emitted == 0,
	      "bytes_scanned counts both requests, nothing emitted");
	{
		char fdinfo[256], text[2048];
		int ifd;

		snprintf(fdinfo, sizeof(fdinfo), "/proc/self/fdinfo/%d", lfd);
		ifd = open(fdinfo, O_RDONLY);
		n = read(ifd, text, sizeof(text) - 1);
		text[n > 0 ? n : 0] = 0;
		close(ifd);
		CHECK(strstr(text, "link_type:\tsfr") || strstr(text, "bytes_scanned"),
		      "fdinfo shows the sfr link");
		if (!strstr(text, "bytes_scanned"))
			printf("# %s\n", text);
	}
	close(rfd);
	close(lfd);
	close(stop);
	close(fd);
}

struct racer {
	int rfd;
	volatile int stop;
	long frames, enolink, ebadf, errors;
};

/* pread frames of window 0 of the result fd until told to stop. */
static void *reader(void *arg)
{
	struct racer *r = arg;
	static __thread char buf[4096];

	while (!r->stop) {
		ssize_t n = pread(r->rfd, buf, sizeof(buf), 0);
		const struct sfr_frame *fr = (const void *)buf;

		if (n == (ssize_t)sizeof(*fr) && fr->hdr_len == sizeof(*fr) &&
		    fr->in_off == 0 && fr->in_len == 1 << 20)
			__atomic_fetch_add(&r->frames, 1, __ATOMIC_RELAXED);
		else if (n < 0 && errno == ENOLINK)
			__atomic_fetch_add(&r->enolink, 1, __ATOMIC_RELAXED);
		else if (n < 0 && errno == EBADF)
			__atomic_fetch_add(&r->ebadf, 1, __ATOMIC_RELAXED);
		else
			__atomic_fetch_add(&r->errors, 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

static void test_races(const char *dir, int prog)
{
	static const char *const what[] = {
		"BPF_LINK_DETACH", "close link and data fds", "close result and link fds",
	};
	char path[4096], *race;
	struct racer r[3];
	struct bpf_sfr_opts o = { .window = 1 << 20 };
	pthread_t t[2];
	int i, round, fd, lfd;

	snprintf(path, sizeof(path), "%s/race.txt", dir);
	if (make_file(path, 16 << 20, &race)) {
		CHECK(0, "create %s", path);
		return;
	}
	/*
	 * While two threads pread the result fd: detach the link (reads give
	 * frames, then ENOLINK), close the link and data fds (frames only), or
	 * close the result fd and the link fd (frames, then EBADF).
	 */
	memset(r, 0, sizeof(r));
	for (round = 0; round < 30; round++) {
		int mode = round % 3, bad_after = 0;
		struct racer *rc = &r[mode];
		char raw[8];

		fd = open(path, O_RDONLY);
		lfd = link_create(prog, fd, &o, sizeof(o), 0);
		rc->rfd = result_create(lfd, 0);
		rc->stop = 0;
		for (i = 0; i < 2; i++)
			pthread_create(&t[i], NULL, reader, rc);
		usleep(20000 + round * 3000);
		if (mode == 0) {
			link_cmd(BPF_LINK_DETACH, lfd, 0);
		} else if (mode == 1) {
			close(lfd);
			close(fd);
		} else {
			close(rc->rfd);
			close(lfd);
		}
		usleep(20000);
		rc->stop = 1;
		for (i = 0; i < 2; i++)
			pthread_join(t[i], NULL);
		/* After the readers are done: the outcome is settled. */
		if (mode == 0) {
			errno = 0;
			bad_after = pread(rc->rfd, raw, 6, 0) != -1 || errno != ENOLINK;
			bad_after |= pread(fd, raw, 6, 0) != 6 || memcmp(raw, race, 6);
			close(rc->rfd);
			close(lfd);
			close(fd);
		} else if (mode == 1) {
			struct sfr_frame fr;

			bad_after = pread(rc->rfd, &fr, sizeof(fr), 0) != sizeof(fr) ||
				    fr.in_len != 1 << 20;
			close(rc->rfd);
		} else {
			bad_after = pread(fd, raw, 6, 0) != 6 || memcmp(raw, race, 6);
			close(fd);
		}
		rc->errors += bad_after;
	}
	CHECK(!r[0].errors && !r[0].ebadf && r[0].frames > 0 && r[0].enolink > 0,
	      "%s during reads x10: %ld frames, %ld ENOLINK, %ld other",
	      what[0], r[0].frames, r[0].enolink, r[0].errors + r[0].ebadf);
	CHECK(!r[1].errors && !r[1].ebadf && !r[1].enolink && r[1].frames > 0,
	      "%s during reads x10: %ld frames, %ld other",
	      what[1], r[1].frames, r[1].errors + r[1].ebadf + r[1].enolink);
	CHECK(!r[2].errors && !r[2].enolink && r[2].frames > 0 && r[2].ebadf > 0,
	      "%s during reads x10: %ld frames, %ld EBADF, %ld other",
	      what[2], r[2].frames, r[2].ebadf, r[2].errors + r[2].enolink);

	/*
	 * Close the data fd and the result fd with 16 io_uring reads of the
	 * result fd in flight (odd rounds: the link fd too; every third:
	 * detach first). Each read gives its window's frame, or EBADF when
	 * io-wq looked the fd up after the close, or ENOLINK after detach.
	 */
	{
		struct io_uring ring;
		static char bufs[16][4096];
		int rfd, ok = 0, bad = 0, frames = 0;

		io_uring_queue_init(16, &ring, 0);
		for (round = 0; round < 10; round++) {
			fd = open(path, O_RDONLY);
			lfd = link_create(prog, fd, &o, sizeof(o), 0);
			rfd = result_create(lfd, 0);
			for (i = 0; i < 16; i++) {
				struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);

				io_uring_prep_read(sqe, rfd, bufs[i], 4096, (__u64)i << 20);
				io_uring_sqe_set_flags(sqe, IOSQE_ASYNC);
				sqe->user_data = i;
			}
			if (round % 3 == 2)
				link_cmd(BPF_LINK_DETACH, lfd, 0);
			io_uring_submit(&ring);
			close(fd);
			close(rfd);
			if (round & 1)
				close(lfd);
			for (i = 0; i < 16; i++) {
				struct io_uring_cqe *cqe;
				const struct sfr_frame *fr;
				int k;

				io_uring_wait_cqe(&ring, &cqe);
				k = cqe->user_data;
				fr = (const void *)bufs[k];
				if (cqe->res == sizeof(*fr) &&
				    fr->in_off == (__u64)k << 20 && fr->in_len == 1 << 20) {
					ok++;
					frames++;
				} else if (cqe->res == -EBADF ||
					   (cqe->res == -ENOLINK && round % 3 == 2)) {
					ok++;
				} else {
					bad++;
				}
				io_uring_cqe_seen(&ring, cqe);
			}
			if (!(round & 1))
				close(lfd);
		}
		io_uring_queue_exit(&ring);
		CHECK(bad == 0 && ok == 160,
		      "data and result fds closed with 16 io_uring reads in flight x10: %d frames, %d EBADF/ENOLINK, %d odd",
		      frames, ok - frames, bad);
	}
	free(race);
	unlink(path);
}

int main(int argc, char **argv)
{
	int prog;

	if (argc != 2) {
		fprintf(stderr, "usage: sfr_neg DIR\n");
		return 2;
	}
	if (!getenv("SFR_TEST_VERBOSE"))
		libbpf_set_print(NULL);
	test_verifier();
	prog = load(prog_ret0, 2, BPF_PROG_TYPE_SFR, BPF_SFR_READ);
	CHECK(prog >= 0, "load a minimal sfr program");
	CHECK(load_sum() == 0, "load bpf/sum.bpf.c");
	if (prog >= 0 && sum_prog >= 0) {
		test_refusals(argv[1], prog);
		test_data_fd(argv[1]);
		test_two_links(argv[1]);
		test_result_fd(argv[1]);
		test_close_refs(argv[1]);
		test_detach(argv[1], prog);
		test_kernel_readers(argv[1], prog);
		test_stop_info_update(argv[1], prog);
		test_races(argv[1], prog);
	}
	sum_bpf__destroy(sum_skel);
	free(neg);
	printf("1..%d\n", ntest);
	return nfail ? 1 : 0;
}
