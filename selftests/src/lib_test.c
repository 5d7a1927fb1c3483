// SPDX-License-Identifier: GPL-2.0
/*
 * libsfr tests, written against the public header lib/sfr.h only.
 *
 *   lib_test host            error paths that need no sfr kernel (TAP)
 *   lib_test errors DIR      attach refusals, several links on one file, the
 *                            result fd, detach (ENOLINK) on a sfr kernel (TAP)
 *   lib_test sum [-c] FILE   for 1..64 windows: sfr_scan == sfr_read loop
 *                            == a plain read() reduce; prints "count=C sum=S"
 *                            (-c: drop the page cache before each scan)
 *   lib_test grep -w N -b BUF PAT FILE   sfr_scan output (matching lines)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include <bpf/bpf.h>
#include <linux/sfr.h>

#include "sfr.h"
#include "../../bpf/sum.h"
#include "../../bpf/grep.h"
#include "../../bpf/kmp.h"
#include "sum.skel.h"
#include "grep.skel.h"

static int ntest, nfail;

#define CHECK(cond, fmt, ...) do {					\
	ntest++;							\
	if (cond) {							\
		printf("ok %d - " fmt "\n", ntest, ##__VA_ARGS__);	\
	} else {							\
		nfail++;						\
		printf("not ok %d - " fmt " (errno %d %s)\n", ntest,	\
		       ##__VA_ARGS__, errno, strerror(errno));		\
	}								\
} while (0)

static char logbuf[4096];

static int log_cb(enum sfr_print_level level, const char *fmt, va_list ap)
{
	size_t n = strlen(logbuf);

	(void)level;
	if (n < sizeof(logbuf) - 1)
		vsnprintf(logbuf + n, sizeof(logbuf) - n, fmt, ap);
	return 0;
}

/* Attach must fail with @err: NULL link, errno == err. */
#define REFUSED(expr, err, what) do {					\
	struct sfr_link *___l;						\
	errno = 0;							\
	___l = (expr);							\
	CHECK(!___l && errno == (err), "%s -> %s", what, strerror(err)); \
	sfr_link__destroy(___l);					\
} while (0)

/* Big opts struct: the known fields plus a tail. */
struct big_opts {
	struct sfr_attach_opts o;
	char tail[16];
};

static int cmd_host(void)
{
	struct big_opts big;
	struct sum_bpf *skel;
	struct sfr_reply r;
	char buf[256];
	int fd, ret;

	sfr_set_print(log_cb);
	fd = open("/proc/self/exe", O_RDONLY);

	logbuf[0] = 0;
	ret = sfr_probe();
	if (ret == 0) {
		printf("# kernel has sfr: probe-failure checks skipped\n");
	} else {
		CHECK(ret == -EOPNOTSUPP && errno == EOPNOTSUPP,
		      "sfr_probe on a kernel without sfr -> -EOPNOTSUPP");
		CHECK(strstr(logbuf, "boot the sfr kernel") != NULL,
		      "the probe message says how to get an sfr kernel: %s",
		      strtok(logbuf, "\n"));
	}
	REFUSED(sfr_attach(fd, NULL, NULL), EINVAL, "NULL program");
	REFUSED(sfr_attach_fd(fd, -1, NULL), EBADF, "program fd -1");

	skel = sum_bpf__open();
	CHECK(skel != NULL, "skeleton opens (SEC(\"sfr\") known via libsfr)");
	if (skel) {
		CHECK(bpf_program__type(skel->progs.sum_lines) == BPF_PROG_TYPE_SFR,
		      "SEC(\"sfr\") program gets BPF_PROG_TYPE_SFR");
		REFUSED(sfr_attach(fd, skel->progs.sum_lines, NULL), EINVAL,
			"program not loaded");
		sum_bpf__destroy(skel);
	}

	memset(&big, 0, sizeof(big));
	big.o.sz = sizeof(big);
	big.tail[3] = 1;
	REFUSED(sfr_attach_fd(fd, 0, &big.o), E2BIG, "opts with a non-zero unknown tail");
	big.o.sz = 4;
	REFUSED(sfr_attach_fd(fd, 0, &big.o), EINVAL, "opts with sz 4");
	{
		SFR_OPTS(sfr_attach_opts, o, .scratch_size = SFR_SCRATCH_MAX + 1);
		REFUSED(sfr_attach_fd(fd, 0, &o), EINVAL, "scratch_size too big");
	}
	{
		SFR_OPTS(sfr_attach_opts, o, .scratch_size = 8, .init_len = 16,
			 .init_state = buf);
		REFUSED(sfr_attach_fd(fd, 0, &o), EINVAL, "init_len > scratch_size");
	}
	REFUSED(sfr_attach_fd(-1, 0, NULL), EBADF, "data fd -1");

	errno = 0;
	ret = sfr_read(NULL, 0, buf, sizeof(buf), &r);
	CHECK(ret == -EINVAL && errno == EINVAL, "sfr_read(NULL link) -> -EINVAL");
	errno = 0;
	ret = sfr_scan(NULL, NULL);
	CHECK(ret == -EINVAL && errno == EINVAL, "sfr_scan(NULL link) -> -EINVAL");
	CHECK(sfr_link__fd(NULL) == -EINVAL, "sfr_link__fd(NULL) -> -EINVAL");
	errno = 0;
	CHECK(sfr_link__result_fd(NULL) == -EINVAL && errno == EINVAL,
	      "sfr_link__result_fd(NULL) -> -EINVAL");
	errno = 0;
	CHECK(sfr_link__data_fd(NULL) == -EINVAL && errno == EINVAL,
	      "sfr_link__data_fd(NULL) -> -EINVAL");
	sfr_link__destroy(NULL);

	CHECK(sfr_window_size(100, 1) == 0 && sfr_window_size(100, 0) == 0,
	      "one window is the whole file");
	CHECK(sfr_window_size(100, 3) == 34 && sfr_window_size(99, 3) == 33 &&
	      sfr_window_size(2, 64) == 1 && sfr_window_size(0, 4) == 1,
	      "window sizes round up and are never 0");
	close(fd);
	printf("1..%d\n", ntest);
	return nfail ? 1 : 0;
}

static struct sum_bpf *load_sum(void)
{
	struct sum_bpf *skel = sum_bpf__open_and_load();

	if (!skel) {
		fprintf(stderr, "lib_test: loading sum.bpf.o: %s\n", strerror(errno));
		exit(1);
	}
	return skel;
}

struct sum_acc {
	long long sum;
	unsigned long long count, frames;
};

static int sum_combine(const void *state, size_t len, void *ctx)
{
	const struct sum_state *s = state;
	struct sum_acc *a = ctx;

	if (len != sizeof(*s))
		return -EPROTO;
	a->sum += s->sum;
	a->count += s->count;
	a->frames++;
	return 0;
}

/* The oracle: read() the file and add up the lines like the program. */
static void plain_sum(const char *path, struct sum_acc *a)
{
	long long cur = 0;
	int in = 0, neg = 0, fd = open(path, O_RDONLY);
	char buf[65536];
	ssize_t n, i;

	memset(a, 0, sizeof(*a));
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		for (i = 0; i < n; i++) {
			char c = buf[i];

			if (c >= '0' && c <= '9') {
				cur = cur * 10 + (c - '0');
				in = 1;
			} else if (c == '-') {
				neg = 1;
			} else if (c == '\n') {
				if (in) {
					a->sum += neg ? -cur : cur;
					a->count++;
				}
				cur = in = neg = 0;
			}
		}
	}
	if (in) {
		a->sum += neg ? -cur : cur;
		a->count++;
	}
	close(fd);
}

/* sfr_scan() of @link with sum_combine: the same as plain_sum(@path)? */
static int scan_is_plain(struct sfr_link *link, const char *path)
{
	SFR_OPTS(sfr_scan_opts, so, .buf_size = 4096);
	struct sum_acc want, got;
	int err;

	memset(&got, 0, sizeof(got));
	so.combine = sum_combine;
	so.ctx = &got;
	plain_sum(path, &want);
	err = sfr_scan(link, &so);
	if (err || got.sum != want.sum || got.count != want.count) {
		printf("# scan: err %d count %llu sum %lld, want %llu %lld\n", err,
		       got.count, got.sum, want.count, want.sum);
		return 0;
	}
	return 1;
}

static int cmd_errors(const char *dir)
{
	struct sum_bpf *skel = load_sum();
	int prog = bpf_program__fd(skel->progs.sum_lines);
	SFR_OPTS(sfr_attach_opts, lines, .delim = '\n',
		 .scratch_size = sizeof(struct sum_state));
	struct sfr_link *l1, *l2;
	struct sfr_frame fr;
	struct sum_state st;
	struct sfr_reply r;
	char path[4096], buf[256];
	int fd, wfd, dfd, rfd;
	ssize_t n;

	snprintf(path, sizeof(path), "%s/lib-errors.txt", dir);
	wfd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0644);
	if (wfd < 0 || write(wfd, "1\n2\n", 4) != 4)
		return 1;
	CHECK(sfr_probe() == 0, "sfr_probe on the sfr kernel -> 0");
	REFUSED(sfr_attach_fd(wfd, prog, NULL), EBADF, "write-only fd");
	close(wfd);
	fd = open(path, O_RDONLY);
	l1 = sfr_attach(fd, skel->progs.sum_lines, &lines);
	CHECK(l1 != NULL, "attach to a readable ext4/tmpfs file");
	if (!l1)
		return 1;
	rfd = sfr_link__result_fd(l1);
	CHECK(rfd >= 0 && rfd != fd && rfd != sfr_link__fd(l1) &&
	      sfr_link__data_fd(l1) == fd,
	      "the link has a result fd (%d) besides the link fd (%d) and the data fd (%d)",
	      rfd, sfr_link__fd(l1), fd);
	errno = 0;
	CHECK(pread(fd, buf, sizeof(buf), 0) == 4 && !memcmp(buf, "1\n2\n", 4),
	      "the data fd still reads the file's bytes");
	n = pread(rfd, buf, sizeof(buf), 0);
	memcpy(&fr, buf, sizeof(fr));
	memcpy(&st, buf + sizeof(fr), sizeof(st));
	CHECK(n == sizeof(fr) + sizeof(st) && fr.in_off == 0 && fr.in_len == 4 &&
	      (fr.flags & SFR_FRAME_EOF) && st.count == 2 && st.sum == 3,
	      "the result fd returns the frame: in_len 4, EOF, count 2, sum 3");
	errno = 0;
	l2 = sfr_attach(fd, skel->progs.sum_lines, &lines);
	CHECK(l2 != NULL && sfr_link__result_fd(l2) >= 0 &&
	      sfr_link__result_fd(l2) != rfd,
	      "a second attach to one open file makes an independent link");
	sfr_link__destroy(l2);
	sfr_link__destroy(l1);
	CHECK(fcntl(rfd, F_GETFD) < 0 && errno == EBADF,
	      "sfr_link__destroy closes the result fd");
	{
		SFR_OPTS(sfr_attach_opts, ao, .windows = 2, .delim = '\n',
			 .scratch_size = sizeof(struct sum_state));
		SFR_OPTS(sfr_scan_opts, so, .no_uring = true);

		l1 = sfr_attach(fd, skel->progs.sum_lines, &ao);
		l2 = sfr_attach(fd, skel->progs.sum_lines, &ao);
		CHECK(l1 && l2 && scan_is_plain(l1, path) && scan_is_plain(l2, path) &&
		      scan_is_plain(l1, path),
		      "two links on one fd scan to the plain reduce (count 2, sum 3)");
		if (l1) {
			errno = 0;
			CHECK(bpf_link_detach(sfr_link__fd(l1)) == 0 &&
			      sfr_read(l1, 0, buf, sizeof(buf), &r) == -ENOLINK &&
			      errno == ENOLINK,
			      "after bpf_link_detach sfr_read -> -ENOLINK");
			errno = 0;
			CHECK(sfr_scan(l1, &so) == -ENOLINK && errno == ENOLINK,
			      "and sfr_scan with pread -> -ENOLINK");
			so.no_uring = false;
			so.threads = 1;
			errno = 0;
			CHECK(sfr_scan(l1, &so) == -ENOLINK && errno == ENOLINK,
			      "and sfr_scan through io_uring -> -ENOLINK");
			so.threads = 2;
			errno = 0;
			CHECK(sfr_scan(l1, &so) == -ENOLINK && errno == ENOLINK,
			      "and sfr_scan from 2 threads -> -ENOLINK");
		}
		CHECK(l2 && scan_is_plain(l2, path),
		      "the other link of the same fd still scans right");
		sfr_link__destroy(l1);
		sfr_link__destroy(l2);
	}
	l1 = sfr_attach(fd, skel->progs.sum_lines, NULL);
	CHECK(l1 != NULL, "attach again after sfr_link__destroy");
	sfr_link__destroy(l1);
	close(fd);

	dfd = open(dir, O_RDONLY | O_DIRECTORY);
	REFUSED(sfr_attach(dfd, skel->progs.sum_lines, NULL), EISDIR, "directory");
	close(dfd);
	fd = open(path, O_RDONLY | O_DIRECT);
	if (fd >= 0) {
		l1 = sfr_attach(fd, skel->progs.sum_lines, &lines);
		CHECK(l1 && scan_is_plain(l1, path),
		      "attach to an O_DIRECT file and scan it");
		sfr_link__destroy(l1);
		close(fd);
	}
	fd = open("/proc/self/status", O_RDONLY);
	REFUSED(sfr_attach(fd, skel->progs.sum_lines, NULL), EOPNOTSUPP,
		"procfs file (file system not opted in)");
	close(fd);
	sum_bpf__destroy(skel);
	unlink(path);
	printf("1..%d\n", ntest);
	return nfail ? 1 : 0;
}

static void drop_caches(void)
{
	int fd = open("/proc/sys/vm/drop_caches", O_WRONLY);

	sync();
	if (fd < 0 || write(fd, "3", 1) != 1) {
		fprintf(stderr, "lib_test: drop_caches: %s\n", strerror(errno));
		exit(1);
	}
	close(fd);
}

static int cmd_sum(int argc, char **argv)
{
	int cold = argc > 2 && !strcmp(argv[1], "-c");
	const char *path = argv[argc - 1];
	struct sum_bpf *skel = load_sum();
	struct sum_acc want, got, rd;
	unsigned int n;
	char buf[256];

	plain_sum(path, &want);
	for (n = 1; n <= 64; n++) {
		int fd = open(path, O_RDONLY);
		SFR_OPTS(sfr_attach_opts, ao, .windows = n, .delim = '\n',
			 .scratch_size = sizeof(struct sum_state));
		SFR_OPTS(sfr_scan_opts, so, .combine = sum_combine, .ctx = &got,
			 .buf_size = 4096);
		struct sfr_link *link;
		struct sfr_reply r;
		__u64 w, win, size;
		int err;

		if (cold)
			drop_caches();
		link = sfr_attach(fd, skel->progs.sum_lines, &ao);
		if (!link) {
			printf("not ok - attach with %u windows: %s\n", n, strerror(errno));
			return 1;
		}
		memset(&got, 0, sizeof(got));
		err = sfr_scan(link, &so);
		if (err || got.sum != want.sum || got.count != want.count) {
			printf("not ok - scan %u windows: err %d count %llu sum %lld, want %llu %lld\n",
			       n, err, got.count, got.sum, want.count, want.sum);
			nfail++;
		}
		/* The same windows one sfr_read() at a time. */
		memset(&rd, 0, sizeof(rd));
		size = lseek(fd, 0, SEEK_END);
		win = sfr_link__window(link) ? sfr_link__window(link) : size + 1;
		for (w = 0; w < size || (w == 0 && size == 0); w += win) {
			ssize_t len = sfr_read(link, w, buf, sizeof(buf), &r);

			if (len < 0 || r.more || r.in_off != w) {
				printf("not ok - sfr_read at %llu: %zd\n",
				       (unsigned long long)w, len);
				nfail++;
				break;
			}
			if (len)
				sum_combine(r.state, r.state_len, &rd);
			if (!size)
				break;
		}
		if (rd.sum != want.sum || rd.count != want.count) {
			printf("not ok - sfr_read %u windows: count %llu sum %lld\n",
			       n, rd.count, rd.sum);
			nfail++;
		}
		sfr_link__destroy(link);
		close(fd);
	}
	printf("count=%llu sum=%lld\n", want.count, want.sum);
	sum_bpf__destroy(skel);
	return nfail ? 1 : 0;
}

static int write_out(const void *out, size_t len, void *ctx)
{
	(void)ctx;
	return fwrite(out, 1, len, stdout) == len ? 0 : -EIO;
}

static int cmd_grep(int argc, char **argv)
{
	unsigned int nwin = 1;
	size_t bufsz = 65536;
	struct grep_bpf *skel;
	struct grep_dfa *dfa;
	struct sfr_link *link;
	const char *pat;
	__u32 key = 0;
	int opt, fd, err;

	while ((opt = getopt(argc, argv, "w:b:")) != -1) {
		if (opt == 'w')
			nwin = strtoul(optarg, NULL, 0);
		else if (opt == 'b')
			bufsz = strtoul(optarg, NULL, 0);
		else
			return 2;
	}
	if (optind + 2 != argc || strlen(argv[optind]) > GREP_PAT_MAX)
		return 2;
	pat = argv[optind];
	skel = grep_bpf__open();
	if (!skel)
		return 1;
	skel->rodata->pat_len = strlen(pat);
	if (grep_bpf__load(skel))
		return 1;
	dfa = calloc(1, sizeof(*dfa));
	sfr_kmp_build(dfa->next, pat, strlen(pat));
	if (bpf_map_update_elem(bpf_map__fd(skel->maps.dfa_map), &key, dfa, 0))
		return 1;
	fd = open(argv[optind + 1], O_RDONLY);
	{
		SFR_OPTS(sfr_attach_opts, ao, .windows = nwin, .delim = '\n',
			 .scratch_size = sizeof(struct grep_state));
		SFR_OPTS(sfr_scan_opts, so, .output = write_out, .buf_size = bufsz);

		link = sfr_attach(fd, skel->progs.grep_lines, &ao);
		if (!link) {
			fprintf(stderr, "lib_test: attach: %s\n", strerror(errno));
			return 1;
		}
		err = sfr_scan(link, &so);
	}
	if (err)
		fprintf(stderr, "lib_test: scan: %s\n", strerror(-err));
	sfr_link__destroy(link);
	close(fd);
	free(dfa);
	grep_bpf__destroy(skel);
	return err ? 1 : 0;
}

int main(int argc, char **argv)
{
	if (!getenv("SFR_TEST_VERBOSE"))
		libbpf_set_print(NULL);
	if (argc == 2 && !strcmp(argv[1], "host"))
		return cmd_host();
	if (argc == 3 && !strcmp(argv[1], "errors"))
		return cmd_errors(argv[2]);
	if (argc >= 3 && !strcmp(argv[1], "sum"))
		return cmd_sum(argc - 1, argv + 1);
	if (argc >= 4 && !strcmp(argv[1], "grep"))
		return cmd_grep(argc - 1, argv + 1);
	fprintf(stderr, "usage: lib_test host | errors DIR | sum [-c] FILE | grep [-w N] [-b BUF] PAT FILE\n");
	return 2;
}
