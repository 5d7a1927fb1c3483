// SPDX-License-Identifier: GPL-2.0
/*
 * sfr kernel interface: verifier rejections with their exact messages,
 * attach refusals and closed bypasses with their errnos, SFR_STOP, link
 * info and update, and races (detach during a read, data fd closed with
 * io_uring reads in flight). Raw bpf(2) calls, no libsfr. TAP output.
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
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/bpf.h>
#include <linux/capability.h>
#include <linux/sfr.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>

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
	btf__free(btf);
}

static int make_file(const char *path, size_t size)
{
	char line[32];
	size_t n = 0;
	FILE *f = fopen(path, "w");
	int i = 0;

	if (!f)
		return -1;
	while (n < size) {
		int k = snprintf(line, sizeof(line), "%d\n", i++ % 1000);

		fwrite(line, 1, k, f);
		n += k;
	}
	fclose(f);
	return truncate(path, size) ? -1 : 0;
}

static void test_refusals(const char *dir, int prog)
{
	char path[4096], buf[64];
	struct bpf_sfr_opts o;
	char big[sizeof(o) + 8];
	int fd, lfd, sock, p[2], wfd;
	loff_t off = 0;

	snprintf(path, sizeof(path), "%s/neg.txt", dir);
	if (make_file(path, 1 << 20)) {
		CHECK(0, "create %s", path);
		return;
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
	pipe(p);
	REFUSE(link_create(prog, p[0], NULL, 0, 0), EINVAL, "pipe (not a regular file)");
	wfd = open(dir, O_RDONLY);
	REFUSE(link_create(prog, wfd, NULL, 0, 0), EISDIR, "directory");
	close(wfd);
	wfd = open("/proc/self/status", O_RDONLY);
	REFUSE(link_create(prog, wfd, NULL, 0, 0), EOPNOTSUPP, "procfs file (fs not opted in)");
	close(wfd);
	wfd = open("/etc/hostname", O_RDONLY);	/* 9p or overlay in the VM */
	REFUSE(link_create(prog, wfd, NULL, 0, 0), EOPNOTSUPP, "/etc/hostname (overlayfs)");
	close(wfd);
	wfd = open(path, O_RDONLY | O_DIRECT);
	REFUSE(link_create(prog, wfd, NULL, 0, 0), EINVAL, "O_DIRECT file");
	close(wfd);

	/* Without CAP_BPF and CAP_SYS_ADMIN: EPERM. */
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
		ntest++;
		if (WIFEXITED(st) && WEXITSTATUS(st) == 0) {
			printf("ok %d - no CAP_BPF -> EPERM\n", ntest);
		} else {
			nfail++;
			printf("not ok %d - no CAP_BPF -> EPERM\n", ntest);
		}
	}

	/* Bypasses of an attached file. */
	lfd = link_create(prog, fd, NULL, 0, 0);
	CHECK(lfd >= 0, "attach");
	REFUSE(link_create(prog, fd, NULL, 0, 0), EBUSY, "second attach");
	wfd = open(path, O_RDONLY);	/* another open file: independent */
	errno = 0;
	CHECK(pread(wfd, buf, 4, 0) == 4 && !memcmp(buf, "0\n1\n", 4),
	      "another open file of the same inode reads raw bytes");
	close(wfd);
	REFUSE_N(splice(fd, &off, p[1], NULL, 4096, 0), EBUSY, "splice");
	REFUSE_N(sendfile(p[1], fd, &off, 4096), EBUSY, "sendfile");
	wfd = open(dir, O_TMPFILE | O_RDWR, 0600);
	REFUSE_N(copy_file_range(fd, &off, wfd, NULL, 4096, 0), EBUSY,
		 "copy_file_range");
	REFUSE_N(fcntl(fd, F_SETFL, O_DIRECT), EBUSY, "F_SETFL O_DIRECT");
	close(lfd);
	errno = 0;
	CHECK(sendfile(p[1], fd, &off, 4) == 4, "sendfile works again after detach");
	CHECK(pread(fd, buf, 4, 0) == 4 && !memcmp(buf, "0\n1\n", 4),
	      "pread returns raw bytes after detach");
	close(wfd);
	close(p[0]);
	close(p[1]);
	close(fd);
}

static void test_stop_info_update(const char *dir, int prog)
{
	struct bpf_link_info info;
	__u32 ilen = sizeof(info);
	struct sfr_frame fr;
	char path[4096];
	struct stat st;
	int fd, lfd, stop;
	ssize_t n;

	snprintf(path, sizeof(path), "%s/neg.txt", dir);
	fd = open(path, O_RDONLY);
	fstat(fd, &st);
	stop = load(prog_stop, 6, BPF_PROG_TYPE_SFR, BPF_SFR_READ);
	CHECK(stop >= 0, "load the stopping program");
	lfd = link_create(stop, fd, NULL, 0, 0);
	n = read(fd, &fr, sizeof(fr));
	CHECK(n == sizeof(fr) && (fr.flags & SFR_FRAME_STOP) && !(fr.flags & SFR_FRAME_EOF) &&
	      fr.in_len > 0 && fr.in_len <= 32768 &&
	      lseek(fd, 0, SEEK_CUR) == (off_t)fr.in_len,
	      "SFR_STOP ends the request after one chunk (in_len %llu of %lld, flags %#x)",
	      (unsigned long long)fr.in_len, (long long)st.st_size, fr.flags);

	/* BPF_LINK_UPDATE to a program that never stops: one frame to EOF. */
	{
		union bpf_attr a;

		memset(&a, 0, sizeof(a));
		a.link_update.link_fd = lfd;
		a.link_update.new_prog_fd = prog;
		CHECK(bpf_sys(BPF_LINK_UPDATE, &a) == 0, "BPF_LINK_UPDATE");
	}
	n = pread(fd, &fr, sizeof(fr), 0);
	CHECK(n == sizeof(fr) && fr.in_len == (__u64)st.st_size &&
	      (fr.flags & SFR_FRAME_EOF) && !(fr.flags & SFR_FRAME_STOP),
	      "after update the request runs to EOF (in_len %llu)",
	      (unsigned long long)fr.in_len);
	n = pread(fd, &fr, sizeof(fr), st.st_size);
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
	close(lfd);
	close(stop);
	close(fd);
}

struct racer {
	int fd, lfd;
	volatile int stop;
	long frames, raw, errors;
};

static void *reader(void *arg)
{
	struct racer *r = arg;
	static char buf[1 << 16];

	while (!r->stop) {
		ssize_t n = pread(r->fd, buf, sizeof(buf), 0);
		const struct sfr_frame *fr = (const void *)buf;

		if (n < 0)
			r->errors++;
		else if (n >= (ssize_t)sizeof(*fr) && fr->hdr_len == sizeof(*fr) &&
			 fr->in_off == 0)
			r->frames++;
		else if (n > 0 && !memcmp(buf, "0\n1\n2\n", 6))
			r->raw++;
		else
			r->errors++;
	}
	return NULL;
}

static void test_races(const char *dir, int prog)
{
	char path[4096];
	struct racer r = { 0 };
	pthread_t t[2];
	int i, round;

	snprintf(path, sizeof(path), "%s/race.txt", dir);
	if (make_file(path, 16 << 20)) {
		CHECK(0, "create %s", path);
		return;
	}
	/* Detach (close the link) while two threads read. */
	for (round = 0; round < 20; round++) {
		r.fd = open(path, O_RDONLY);
		r.lfd = link_create(prog, r.fd, NULL, 0, 0);
		r.stop = 0;
		for (i = 0; i < 2; i++)
			pthread_create(&t[i], NULL, reader, &r);
		usleep(20000 + round * 5000);
		close(r.lfd);
		usleep(20000);
		r.stop = 1;
		for (i = 0; i < 2; i++)
			pthread_join(t[i], NULL);
		/* Once the readers are done, the file reads raw bytes. */
		{
			char raw[8];

			if (pread(r.fd, raw, 6, 0) != 6 || memcmp(raw, "0\n1\n2\n", 6))
				r.errors++;
		}
		close(r.fd);
	}
	/* Which reads saw the link (frames) or not (raw) depends on timing. */
	CHECK(r.errors == 0 && r.frames + r.raw > 0,
	      "link closed during reads x20: %ld frames, %ld raw reads, %ld errors",
	      r.frames, r.raw, r.errors);

	/* Close the data fd with io_uring reads in flight. */
	{
		struct io_uring ring;
		static char bufs[16][4096];
		int fd, lfd, ok = 0, bad = 0;

		io_uring_queue_init(16, &ring, 0);
		for (round = 0; round < 10; round++) {
			struct bpf_sfr_opts o = { .window = 1 << 20 };

			fd = open(path, O_RDONLY);
			lfd = link_create(prog, fd, &o, sizeof(o), 0);
			for (i = 0; i < 16; i++) {
				struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);

				io_uring_prep_read(sqe, fd, bufs[i], 4096, (__u64)i << 20);
			}
			io_uring_submit(&ring);
			close(fd);
			if (round & 1)
				close(lfd);	/* and the link too */
			for (i = 0; i < 16; i++) {
				struct io_uring_cqe *cqe;

				io_uring_wait_cqe(&ring, &cqe);
				if (cqe->res == sizeof(struct sfr_frame))
					ok++;
				else if (cqe->res < 0 || cqe->res == 4096)
					ok++;	/* closed before it ran: error or raw */
				else
					bad++;
				io_uring_cqe_seen(&ring, cqe);
			}
			if (!(round & 1))
				close(lfd);
		}
		io_uring_queue_exit(&ring);
		CHECK(bad == 0 && ok == 160,
		      "data fd closed with 16 io_uring reads in flight x10: %d completed, %d odd",
		      ok, bad);
	}
	unlink(path);
}

int main(int argc, char **argv)
{
	int prog;

	if (argc != 2) {
		fprintf(stderr, "usage: sfr_neg DIR\n");
		return 2;
	}
	test_verifier();
	prog = load(prog_ret0, 2, BPF_PROG_TYPE_SFR, BPF_SFR_READ);
	CHECK(prog >= 0, "load a minimal sfr program");
	if (prog >= 0) {
		test_refusals(argv[1], prog);
		test_stop_info_update(argv[1], prog);
		test_races(argv[1], prog);
	}
	printf("1..%d\n", ntest);
	return nfail ? 1 : 0;
}
