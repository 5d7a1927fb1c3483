// SPDX-License-Identifier: GPL-2.0
/*
 * sfr selftest driver. Attaches bpf/sum.bpf.c or bpf/grep.bpf.c to a file,
 * reads the frames from the link's result file (BPF_ITER_CREATE on the
 * link) and prints what the kernel returns, so shell tests can compare it
 * with awk and grep:
 *
 *   sfr_test sum [-w N | -W BYTES] [-u | -U | -r | -p] FILE
 *                                  prints "count=C sum=S"; one pread() per
 *                                  window, or -u io_uring reads of all
 *                                  windows with IOSQE_ASYNC, -U the same
 *                                  without it, -r a read() loop, -p one
 *                                  preadv() per window into two iovecs
 *   sfr_test grep [-w N] [-b BUF] PAT FILE    prints the matching lines
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <liburing.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>
#include <linux/bpf.h>
#include <linux/sfr.h>
#include <bpf/libbpf.h>
#include <bpf/bpf.h>

#include "../../bpf/sum.h"
#include "../../bpf/grep.h"
#include "../../bpf/kmp.h"
#include "sum.skel.h"
#include "grep.skel.h"

static int sys_link_create(int prog_fd, int target_fd,
			   const struct bpf_sfr_opts *o, unsigned int olen)
{
	union bpf_attr attr;

	memset(&attr, 0, sizeof(attr));
	attr.link_create.prog_fd = prog_fd;
	attr.link_create.target_fd = target_fd;
	attr.link_create.attach_type = BPF_SFR_READ;
	attr.link_create.sfr.opts = (unsigned long)o;
	attr.link_create.sfr.opts_len = olen;
	return syscall(__NR_bpf, BPF_LINK_CREATE, &attr, sizeof(attr));
}

static void die(const char *what)
{
	fprintf(stderr, "sfr_test: %s: %s\n", what, strerror(errno));
	exit(1);
}

static int open_sum(struct sum_bpf **skel)
{
	*skel = sum_bpf__open();
	if (!*skel)
		die("open sum.bpf.o");
	bpf_program__set_type((*skel)->progs.sum_lines, BPF_PROG_TYPE_SFR);
	bpf_program__set_expected_attach_type((*skel)->progs.sum_lines,
					      BPF_SFR_READ);
	if (sum_bpf__load(*skel))
		die("load sum.bpf.o");
	return bpf_program__fd((*skel)->progs.sum_lines);
}

static unsigned long long file_size(int fd)
{
	struct stat st;

	if (fstat(fd, &st))
		die("fstat");
	return st.st_size;
}

/* sum -W BYTES: windows of exactly BYTES (instead of -w N equal ones). */
static unsigned long long fixed_win;

/*
 * Open @path and attach @prog_fd to it, with '\n' as the record delimiter
 * and @nwin equal windows (one request for the whole file when 1), then
 * make the link's result file. Returns the result file descriptor; *fd
 * gets the data file's, *lfd the link's, *win the window size, *size the
 * file's.
 */
static int attach_lines(int prog_fd, const char *path, int nwin,
			__u32 scratch_size, int *fd, int *lfd,
			unsigned long long *win, unsigned long long *size)
{
	struct bpf_sfr_opts o = { 0 };
	int rfd;

	*fd = open(path, O_RDONLY);
	if (*fd < 0)
		die(path);
	*size = file_size(*fd);
	*win = fixed_win ? fixed_win : *size / nwin + 1;
	o.window = nwin > 1 || fixed_win ? *win : 0;
	o.scratch_size = scratch_size;
	o.flags = SFR_OPT_DELIM;
	o.delim = '\n';
	*lfd = sys_link_create(prog_fd, *fd, &o, sizeof(o));
	if (*lfd < 0)
		die("attach");
	rfd = bpf_iter_create(*lfd);
	if (rfd < 0)
		die("BPF_ITER_CREATE on the link");
	return rfd;
}

/* Check one frame; add its state to the totals. */
static void fold_sum(const char *buf, ssize_t n, unsigned long long want_off,
		     long long *sum, unsigned long long *count)
{
	const struct sfr_frame *fr = (const void *)buf;
	const struct sum_state *s = (const void *)(buf + fr->hdr_len);

	if (n < (ssize_t)sizeof(*fr) || fr->hdr_len != sizeof(*fr) ||
	    fr->state_len != sizeof(*s) || fr->out_len ||
	    (ssize_t)(fr->hdr_len + fr->state_len) != n) {
		fprintf(stderr, "bad frame: n=%zd hdr=%u state=%u out=%u\n",
			n, fr->hdr_len, fr->state_len, fr->out_len);
		exit(1);
	}
	if (fr->in_off != want_off) {
		fprintf(stderr, "frame in_off %llu, want %llu\n",
			(unsigned long long)fr->in_off, want_off);
		exit(1);
	}
	*sum += s->sum;
	*count += s->count;
}

static int cmd_sum(int argc, char **argv)
{
	int opt, nwin = 1, use_uring = 0, use_read = 0, use_preadv = 0;
	int prog_fd, fd, lfd, rfd;
	unsigned long long size, win, w;
	long long sum = 0;
	unsigned long long count = 0;
	struct sum_bpf *skel;
	char buf[256];

	while ((opt = getopt(argc, argv, "w:W:uUrp")) != -1) {
		switch (opt) {
		case 'w': nwin = atoi(optarg); break;
		case 'W': fixed_win = strtoull(optarg, NULL, 0); break;
		case 'u': use_uring = 1; break;
		case 'U': use_uring = 2; break;
		case 'r': use_read = 1; break;
		case 'p': use_preadv = 1; break;
		default: return 2;
		}
	}
	if (optind + 1 != argc || nwin < 1)
		return 2;
	prog_fd = open_sum(&skel);
	rfd = attach_lines(prog_fd, argv[optind], nwin, sizeof(struct sum_state),
			   &fd, &lfd, &win, &size);
	if (fixed_win)
		nwin = size ? (size + win - 1) / win : 1;

	if (use_read) {
		unsigned long long off = 0;
		ssize_t n;

		while ((n = read(rfd, buf, sizeof(buf))) > 0) {
			const struct sfr_frame *fr = (const void *)buf;

			fold_sum(buf, n, off, &sum, &count);
			off += fr->in_len;
			if (lseek(rfd, 0, SEEK_CUR) != (off_t)off) {
				fprintf(stderr, "position not advanced by in_len\n");
				return 1;
			}
		}
		if (n < 0)
			die("read");
		if (off != size) {
			fprintf(stderr, "read loop consumed %llu of %llu\n", off, size);
			return 1;
		}
		if (lseek(fd, 0, SEEK_CUR) != 0) {
			fprintf(stderr, "reading the result fd moved the data fd\n");
			return 1;
		}
	} else if (use_uring) {
		struct io_uring ring;
		char (*bufs)[256] = calloc(nwin, 256);
		int i;

		if (!bufs || io_uring_queue_init(nwin < 4 ? 4 : nwin, &ring, 0))
			die("io_uring");
		for (i = 0, w = 0; i < nwin; i++, w += win) {
			struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);

			io_uring_prep_read(sqe, rfd, bufs[i], 256, w);
			/* -u: straight to io-wq, where result reads run. */
			if (use_uring == 1)
				io_uring_sqe_set_flags(sqe, IOSQE_ASYNC);
			sqe->user_data = i;
		}
		if (io_uring_submit(&ring) != nwin)
			die("io_uring_submit");
		for (i = 0; i < nwin; i++) {
			struct io_uring_cqe *cqe;
			int k;

			if (io_uring_wait_cqe(&ring, &cqe))
				die("io_uring_wait_cqe");
			k = cqe->user_data;
			if (cqe->res < 0) {
				errno = -cqe->res;
				die("io_uring read");
			}
			if (cqe->res > 0)
				fold_sum(bufs[k], cqe->res, (unsigned long long)k * win,
					 &sum, &count);
			io_uring_cqe_seen(&ring, cqe);
		}
		io_uring_queue_exit(&ring);
		free(bufs);
	} else {
		for (w = 0; w < size; w += win) {
			/* -p: the frame header straddles two iovecs. */
			struct iovec iov[2] = {
				{ buf, 10 }, { buf + 10, sizeof(buf) - 10 },
			};
			ssize_t n = use_preadv ? preadv(rfd, iov, 2, w) :
				    pread(rfd, buf, sizeof(buf), w);

			if (n < 0)
				die(use_preadv ? "preadv" : "pread");
			fold_sum(buf, n, w, &sum, &count);
		}
	}
	printf("count=%llu sum=%lld\n", count, sum);
	close(rfd);
	close(lfd);
	close(fd);
	sum_bpf__destroy(skel);
	return 0;
}

static int cmd_grep(int argc, char **argv)
{
	int opt, nwin = 1, fd, lfd, rfd, prog_fd;
	size_t bufsz = 1 << 20;
	struct grep_dfa *dfa;
	struct grep_bpf *skel;
	unsigned long long size, win, off = 0;
	const char *pat;
	__u32 key = 0;
	char *buf;
	ssize_t n;

	while ((opt = getopt(argc, argv, "w:b:")) != -1) {
		switch (opt) {
		case 'w': nwin = atoi(optarg); break;
		case 'b': bufsz = strtoul(optarg, NULL, 0); break;
		default: return 2;
		}
	}
	if (optind + 2 != argc || nwin < 1)
		return 2;
	pat = argv[optind];
	if (strlen(pat) > GREP_PAT_MAX) {
		fprintf(stderr, "pattern longer than %d\n", GREP_PAT_MAX);
		return 2;
	}
	skel = grep_bpf__open();
	if (!skel)
		die("open grep.bpf.o");
	skel->rodata->pat_len = strlen(pat);
	bpf_program__set_type(skel->progs.grep_lines, BPF_PROG_TYPE_SFR);
	bpf_program__set_expected_attach_type(skel->progs.grep_lines, BPF_SFR_READ);
	if (grep_bpf__load(skel))
		die("load grep.bpf.o");
	dfa = calloc(1, sizeof(*dfa));
	sfr_kmp_build(dfa->next, pat, strlen(pat));
	if (bpf_map_update_elem(bpf_map__fd(skel->maps.dfa_map), &key, dfa, 0))
		die("dfa map");
	prog_fd = bpf_program__fd(skel->progs.grep_lines);

	rfd = attach_lines(prog_fd, argv[optind + 1], nwin,
			   sizeof(struct grep_state), &fd, &lfd, &win, &size);
	buf = malloc(bufsz);
	while ((n = read(rfd, buf, bufsz)) > 0) {
		const struct sfr_frame *fr = (const void *)buf;

		if (fr->in_off != off || n != (ssize_t)(fr->hdr_len + fr->state_len + fr->out_len)) {
			fprintf(stderr, "bad frame at %llu\n", off);
			return 1;
		}
		fwrite(buf + fr->hdr_len + fr->state_len, 1, fr->out_len, stdout);
		off += fr->in_len;
	}
	if (n < 0)
		die("read");
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: sfr_test sum|grep ...\n");
		return 2;
	}
	if (!getenv("SFR_TEST_VERBOSE"))
		libbpf_set_print(NULL);
	if (!strcmp(argv[1], "sum"))
		return cmd_sum(argc - 1, argv + 1);
	if (!strcmp(argv[1], "grep"))
		return cmd_grep(argc - 1, argv + 1);
	fprintf(stderr, "unknown command %s\n", argv[1]);
	return 2;
}
