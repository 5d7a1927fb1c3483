// SPDX-License-Identifier: GPL-2.0
/*
 * Regression tests for the findings of the kernel series review
 * (../shared/reviews/kernel-series-review.md), one TEST per finding, in
 * kselftest_harness.h form.
 *
 * Frames are read from a result file (BPF_ITER_CREATE on the link). On a
 * kernel of the earlier design, where the attached data fd itself returned
 * frames, BPF_ITER_CREATE fails and the tests read the data fd instead, so
 * the same binary shows which findings that kernel has.
 *
 *   SFR_DIR=DIR sfr_review [harness options]
 *
 * DIR: a directory on a file system that takes sfr (default /tmp, tmpfs in
 * the VM).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <linux/bpf.h>
#include <linux/sfr.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>

#include "kselftest_harness.h"

#define INSN(c, d, s, o, i) \
	((struct bpf_insn){ .code = (c), .dst_reg = (d), .src_reg = (s), .off = (o), .imm = (i) })
#define LDX(sz, d, s, o)	INSN(BPF_LDX | BPF_MEM | (sz), d, s, o, 0)
#define STX(sz, d, s, o)	INSN(BPF_STX | BPF_MEM | (sz), d, s, o, 0)
#define MOVI(d, i)		INSN(BPF_ALU64 | BPF_MOV | BPF_K, d, 0, 0, i)
#define MOV(d, s)		INSN(BPF_ALU64 | BPF_MOV | BPF_X, d, s, 0, 0)
#define ADDI(d, i)		INSN(BPF_ALU64 | BPF_ADD | BPF_K, d, 0, 0, i)
#define JEQI(d, i, o)		INSN(BPF_JMP | BPF_JEQ | BPF_K, d, 0, o, i)
#define JSETI(d, i, o)		INSN(BPF_JMP | BPF_JSET | BPF_K, d, 0, o, i)
#define KCALL(id)		INSN(BPF_JMP | BPF_CALL, 0, BPF_PSEUDO_KFUNC_CALL, 0, id)
#define EXIT			INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)

#define OFF_POS		offsetof(struct bpf_sfr_md, pos)
#define OFF_FLAGS	offsetof(struct bpf_sfr_md, flags)
#define OFF_SCRATCH	offsetof(struct bpf_sfr_md, scratch_size)

#define HDR		((ssize_t)sizeof(struct sfr_frame))

static const struct bpf_insn prog_ret0[] = { MOVI(0, 0), EXIT };

static int load(const struct bpf_insn *insns, size_t n)
{
	static char log[16384];
	LIBBPF_OPTS(bpf_prog_load_opts, o, .expected_attach_type = BPF_SFR_READ,
		    .log_buf = log, .log_size = sizeof(log), .log_level = 1);
	int fd = bpf_prog_load(BPF_PROG_TYPE_SFR, "sfr_review", "GPL", insns,
			       n, &o);

	if (fd < 0)
		fprintf(stderr, "# load: %s\n# %.1500s\n", strerror(errno), log);
	return fd;
}

static int kfunc_id(const char *name)
{
	struct btf *btf = btf__load_vmlinux_btf();
	int id = btf ? btf__find_by_name_kind(btf, name, BTF_KIND_FUNC) : -1;

	btf__free(btf);
	return id;
}

static int attach(int prog, int fd, __u64 window, __u32 scratch, int delim)
{
	struct bpf_sfr_opts o = {
		.window = window,
		.scratch_size = scratch,
		.flags = delim >= 0 ? SFR_OPT_DELIM : 0,
		.delim = delim >= 0 ? delim : 0,
	};
	union bpf_attr a;

	memset(&a, 0, sizeof(a));
	a.link_create.prog_fd = prog;
	a.link_create.target_fd = fd;
	a.link_create.attach_type = BPF_SFR_READ;
	a.link_create.sfr.opts = (unsigned long)&o;
	a.link_create.sfr.opts_len = sizeof(o);
	return syscall(__NR_bpf, BPF_LINK_CREATE, &a, sizeof(a));
}

/* The fd frames are read from: a result file, or @data on the old design. */
static int result_fd(int link, int data)
{
	int fd = bpf_iter_create(link);

	return fd >= 0 ? fd : dup(data);
}

/* A file of @size bytes: "0\n1\n..." lines, or all @fill bytes if set. */
static int make_file(const char *name, size_t size, int fill, char *path,
		     size_t plen)
{
	const char *dir = getenv("SFR_DIR") ?: "/tmp";
	size_t n = 0;
	char line[32];
	FILE *f;
	int i = 0;

	snprintf(path, plen, "%s/%s", dir, name);
	f = fopen(path, "w");
	if (!f)
		return -1;
	while (n < size) {
		int k;

		if (fill) {
			fputc(fill, f);
			n++;
			continue;
		}
		k = snprintf(line, sizeof(line), "%d\n", i++ % 1000);
		fwrite(line, 1, k, f);
		n += k;
	}
	fclose(f);
	return truncate(path, size);
}

static int frame_at(int rfd, void *buf, size_t len, off_t off,
		    struct sfr_frame *fr)
{
	ssize_t n = pread(rfd, buf, len, off);

	if (n < HDR)
		return n < 0 ? -errno : -EPROTO;
	memcpy(fr, buf, sizeof(*fr));
	return n;
}

/*
 * F2: bpf_sfr_scratch(ctx, scratch_size, 0) returned a pointer one past the
 * scratch allocation, and the verifier lets the program read a byte there.
 * The program emits that byte at INIT; a fixed kernel returns NULL, so no
 * frame may carry output.
 */
/* At INIT: p = bpf_sfr_scratch(ctx, ctx->scratch_size, 0); emit *p. */
static int load_scratch0_leak(int scratch, int emit)
{
	const struct bpf_insn insns[] = {
		MOV(6, 1),
		LDX(BPF_W, 2, 6, OFF_FLAGS),
		JSETI(2, SFR_F_INIT, 2),
		MOVI(0, 0),
		EXIT,
		MOV(1, 6),
		LDX(BPF_W, 2, 6, OFF_SCRATCH),
		MOVI(3, 0),
		KCALL(scratch),
		JEQI(0, 0, 8),
		/* b = *p; bpf_sfr_emit(ctx, ctx->pos, &b, 1) */
		LDX(BPF_B, 2, 0, 0),
		STX(BPF_B, 10, 2, -8),
		MOV(1, 6),
		LDX(BPF_DW, 2, 6, OFF_POS),
		MOV(3, 10),
		ADDI(3, -8),
		MOVI(4, 1),
		KCALL(emit),
		MOVI(0, 0),
		EXIT,
	};

	return load(insns, sizeof(insns) / sizeof(insns[0]));
}

TEST(f2_zero_size_scratch)
{
	int scratch = kfunc_id("bpf_sfr_scratch");
	int emit = kfunc_id("bpf_sfr_emit");
	char path[4096], buf[256];
	int prog, fd, lfd, rfd, i, leaked = 0;

	ASSERT_GT(scratch, 0);
	ASSERT_GT(emit, 0);
	prog = load_scratch0_leak(scratch, emit);
	ASSERT_GE(prog, 0);
	ASSERT_EQ(0, make_file("f2.txt", 4096, 0, path, sizeof(path)));
	fd = open(path, O_RDONLY);
	ASSERT_GE(fd, 0);
	lfd = attach(prog, fd, 0, 64, -1);
	ASSERT_GE(lfd, 0);
	rfd = result_fd(lfd, fd);
	for (i = 0; i < 2000; i++) {
		struct sfr_frame fr = { 0 };

		ASSERT_GE(frame_at(rfd, buf, sizeof(buf), 0, &fr), HDR + 64);
		if (fr.out_len)
			leaked++;
	}
	EXPECT_EQ(0, leaked) TH_LOG("%d of 2000 frames carried a byte past the scratch state",
				     leaked);
	close(rfd);
	close(lfd);
	close(fd);
	close(prog);
	unlink(path);
}

/*
 * F1, F3: the data file keeps its semantics. Its own descriptor reads the
 * file's bytes while a link uses it, and only the result file returns
 * frames.
 */
TEST(f1_f3_data_fd_reads_raw)
{
	char path[4096], buf[64];
	int prog, fd, lfd;

	prog = load(prog_ret0, 2);
	ASSERT_GE(prog, 0);
	ASSERT_EQ(0, make_file("f1.txt", 1 << 16, 0, path, sizeof(path)));
	fd = open(path, O_RDONLY);
	ASSERT_GE(fd, 0);
	lfd = attach(prog, fd, 0, 0, -1);
	ASSERT_GE(lfd, 0);
	ASSERT_EQ(8, pread(fd, buf, 8, 0));
	EXPECT_EQ(0, memcmp(buf, "0\n1\n2\n3\n", 8));
	close(lfd);
	close(fd);
	close(prog);
	unlink(path);
}

struct race {
	int rfd;
	volatile int done;
	long reads, bad;
	off_t off;
	size_t len;
	__u64 size;
};

static void *reader(void *arg)
{
	struct race *r = arg;
	char buf[4096];

	while (!r->done) {
		struct sfr_frame fr = { 0 };
		int n = frame_at(r->rfd, buf, r->len, r->off, &fr);

		__atomic_add_fetch(&r->reads, 1, __ATOMIC_RELAXED);
		if (n == 0 || n == -EINTR)
			continue;
		if (n < 0 || fr.hdr_len != HDR || fr.in_off != (__u64)r->off ||
		    fr.in_len > r->size)
			__atomic_add_fetch(&r->bad, 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

/*
 * F4: a read racing BPF_LINK_UPDATE, whose old program lost its last
 * reference, fell back to a plain read and returned raw bytes. Two readers
 * check every read is a frame while the link's program is replaced by
 * freshly loaded programs that are closed right away.
 */
TEST(f4_update_race)
{
	pthread_t th[2];
	struct race r = { .len = 4096, .off = 0, .size = 1 << 16 };
	char path[4096];
	int prog, fd, lfd, i, updates = 0;

	prog = load(prog_ret0, 2);
	ASSERT_GE(prog, 0);
	ASSERT_EQ(0, make_file("f4.txt", 1 << 16, 0, path, sizeof(path)));
	fd = open(path, O_RDONLY);
	ASSERT_GE(fd, 0);
	lfd = attach(prog, fd, 0, 0, -1);
	ASSERT_GE(lfd, 0);
	close(prog);
	r.rfd = result_fd(lfd, fd);
	for (i = 0; i < 2; i++)
		ASSERT_EQ(0, pthread_create(&th[i], NULL, reader, &r));
	for (i = 0; i < 400; i++) {
		int p = load(prog_ret0, 2);

		if (p < 0)
			break;
		if (!bpf_link_update(lfd, p, NULL))
			updates++;
		close(p);
	}
	r.done = 1;
	for (i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	EXPECT_EQ(400, updates);
	EXPECT_EQ(0, r.bad) TH_LOG("%ld of %ld reads were not frames", r.bad, r.reads);
	close(r.rfd);
	close(lfd);
	close(fd);
	unlink(path);
}

struct shrinker {
	char path[4096];
	volatile int done;
	long rounds;
	size_t size;
};

static void *truncate_loop(void *arg)
{
	struct shrinker *s = arg;
	static char data[1 << 20];
	int fd = open(s->path, O_WRONLY);
	size_t i;

	for (i = 0; i < sizeof(data); i++)
		data[i] = i % 8 == 7 ? '\n' : 'a' + i % 8;
	while (!s->done) {
		if (ftruncate(fd, 0) ||
		    pwrite(fd, data, s->size, 0) != (ssize_t)s->size)
			break;
		s->rounds++;
	}
	close(fd);
	return NULL;
}

/*
 * F5, F11: truncate and extend the file while delimiter-mode requests
 * start in its middle. A frame must never report a negative in_len, a
 * read() must never move the position backwards, no read may fail with
 * EIO (tmpfs used to hit a WARN_ON_ONCE and fail), and the kernel log
 * stays clean (checked by the runner).
 */
TEST(f5_f11_truncate_race)
{
	struct shrinker s = { .size = 1 << 20 };
	char buf[4096];
	pthread_t th;
	int prog, fd, lfd, rfd, bad = 0, eio = 0, back = 0;
	time_t end;
	long reads = 0;

	prog = load(prog_ret0, 2);
	ASSERT_GE(prog, 0);
	ASSERT_EQ(0, make_file("f5.txt", 1 << 20, 0, s.path, sizeof(s.path)));
	fd = open(s.path, O_RDONLY);
	ASSERT_GE(fd, 0);
	lfd = attach(prog, fd, 1 << 16, 0, '\n');
	ASSERT_GE(lfd, 0);
	rfd = result_fd(lfd, fd);
	ASSERT_EQ(0, pthread_create(&th, NULL, truncate_loop, &s));
	end = time(NULL) + 3;
	while (time(NULL) < end) {
		off_t off = (reads % 16 + 1) << 15, pos;
		struct sfr_frame fr = { 0 };
		ssize_t n;

		if (lseek(rfd, off, SEEK_SET) != off)
			break;
		n = read(rfd, buf, sizeof(buf));
		reads++;
		pos = lseek(rfd, 0, SEEK_CUR);
		if (n < 0 && errno == EIO)
			eio++;
		if (pos < off)
			back++;
		if (n >= HDR) {
			memcpy(&fr, buf, sizeof(fr));
			if ((__s64)fr.in_len < 0 || fr.in_len > s.size)
				bad++;
		}
	}
	s.done = 1;
	pthread_join(th, NULL);
	TH_LOG("%ld reads, %ld truncate+write rounds", reads, s.rounds);
	EXPECT_EQ(0, bad);
	EXPECT_EQ(0, back);
	EXPECT_EQ(0, eio);
	close(rfd);
	close(lfd);
	close(fd);
	close(prog);
	unlink(s.path);
}

/*
 * F9: in delimiter mode the skip to the first record scanned to the end of
 * the file, so a file without delimiters cost O(N^2 / W) over its windows.
 * Now it stops at the window end: every window of a file of 'x' bytes
 * consumes exactly the rest of its window.
 */
TEST(f9_skip_stops_at_window_end)
{
	const size_t size = 4 << 20, win = 1 << 16;
	char path[4096], buf[256];
	int prog, fd, lfd, rfd, wrong = 0;
	size_t off;

	prog = load(prog_ret0, 2);
	ASSERT_GE(prog, 0);
	ASSERT_EQ(0, make_file("f9.txt", size, 'x', path, sizeof(path)));
	fd = open(path, O_RDONLY);
	ASSERT_GE(fd, 0);
	lfd = attach(prog, fd, win, 0, '\n');
	ASSERT_GE(lfd, 0);
	rfd = result_fd(lfd, fd);
	for (off = win; off < size; off += win) {
		struct sfr_frame fr = { 0 };

		ASSERT_GE(frame_at(rfd, buf, sizeof(buf), off, &fr), HDR);
		if (fr.in_len != win) {
			if (!wrong)
				TH_LOG("window at %zu: in_len %llu, want %zu", off,
				       (unsigned long long)fr.in_len, win);
			wrong++;
		}
	}
	EXPECT_EQ(0, wrong);
	close(rfd);
	close(lfd);
	close(fd);
	close(prog);
	unlink(path);
}

/*
 * F10: sfr requests skipped file_accessed(), so the data file's atime
 * never moved. Set it to 2001 and read one frame: it must be updated
 * (relatime updates an atime older than a day).
 */
TEST(f10_atime)
{
	struct timespec ts[2] = { { 1000000000, 0 }, { 0, UTIME_OMIT } };
	char path[4096], buf[256];
	struct sfr_frame fr = { 0 };
	struct stat st;
	int prog, fd, lfd, rfd;

	prog = load(prog_ret0, 2);
	ASSERT_GE(prog, 0);
	ASSERT_EQ(0, make_file("f10.txt", 8192, 0, path, sizeof(path)));
	ASSERT_EQ(0, utimensat(AT_FDCWD, path, ts, 0));
	fd = open(path, O_RDONLY);
	ASSERT_GE(fd, 0);
	lfd = attach(prog, fd, 0, 0, -1);
	ASSERT_GE(lfd, 0);
	rfd = result_fd(lfd, fd);
	ASSERT_GE(frame_at(rfd, buf, sizeof(buf), 0, &fr), HDR);
	ASSERT_EQ(0, stat(path, &st));
	EXPECT_GT(st.st_atim.tv_sec, 1000000000);
	close(rfd);
	close(lfd);
	close(fd);
	close(prog);
	unlink(path);
}

/* F13: BPF_LINK_UPDATE of a detached link must fail with ENOLINK. */
TEST(f13_update_detached)
{
	char path[4096];
	int prog, fd, lfd;

	prog = load(prog_ret0, 2);
	ASSERT_GE(prog, 0);
	ASSERT_EQ(0, make_file("f13.txt", 4096, 0, path, sizeof(path)));
	fd = open(path, O_RDONLY);
	ASSERT_GE(fd, 0);
	lfd = attach(prog, fd, 0, 0, -1);
	ASSERT_GE(lfd, 0);
	ASSERT_EQ(0, bpf_link_detach(lfd));
	/* libbpf returns -errno */
	EXPECT_EQ(-ENOLINK, bpf_link_update(lfd, prog, NULL));
	close(lfd);
	close(fd);
	close(prog);
	unlink(path);
}

/* F17: a zero-length read returns 0 on every file system (tmpfs: EINVAL). */
TEST(f17_zero_length_read)
{
	char path[4096], buf[1];
	int prog, fd, lfd, rfd;

	prog = load(prog_ret0, 2);
	ASSERT_GE(prog, 0);
	ASSERT_EQ(0, make_file("f17.txt", 4096, 0, path, sizeof(path)));
	fd = open(path, O_RDONLY);
	ASSERT_GE(fd, 0);
	lfd = attach(prog, fd, 0, 0, -1);
	ASSERT_GE(lfd, 0);
	rfd = result_fd(lfd, fd);
	EXPECT_EQ(0, read(rfd, buf, 0));
	EXPECT_EQ(0, pread(rfd, buf, 0, 100));
	close(rfd);
	close(lfd);
	close(fd);
	close(prog);
	unlink(path);
}

TEST_HARNESS_MAIN
