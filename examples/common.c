// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Plumbing shared by the sfr example CLIs; see common.h. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/libbpf.h>

#include "common.h"

static const char *prog_name = "sfr";
static __u64 offload_min;	/* --offload-min */
static bool debug;

void cli_init(const char *prog)
{
	const char *slash = strrchr(prog, '/');

	prog_name = slash ? slash + 1 : prog;
}

const char *cli_prog(void)
{
	return prog_name;
}

static void vmsg(const char *fmt, va_list ap)
{
	fprintf(stderr, "%s: ", prog_name);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void cli_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(fmt, ap);
	va_end(ap);
}

void cli_notice(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(fmt, ap);
	va_end(ap);
}

void cli_debug(const char *fmt, ...)
{
	va_list ap;

	if (!debug)
		return;
	va_start(ap, fmt);
	vmsg(fmt, ap);
	va_end(ap);
}

static int sfr_log(enum sfr_print_level level, const char *fmt, va_list ap)
{
	(void)level;
	return vfprintf(stderr, fmt, ap);
}

static int bpf_log(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (!debug)
		return 0;
	(void)level;
	return vfprintf(stderr, fmt, ap);
}

void cli_set_debug(bool on)
{
	debug = on;
	sfr_set_print(on ? sfr_log : NULL);
	libbpf_set_print(bpf_log);
}

bool cli_debug_on(void)
{
	return debug;
}

static int parse_num(const char *name, const char *arg, __u64 min, __u64 max,
		     __u64 *out, bool suffix)
{
	unsigned long long v;
	unsigned int shift = 0;
	char *end;

	errno = 0;
	/* strtoull accepts "-1" as a huge number: refuse signs outright. */
	if (!arg || !*arg || *arg == '-' || *arg == '+' || *arg == ' ')
		goto bad;
	v = strtoull(arg, &end, 10);
	if (errno || end == arg)
		goto bad;
	if (suffix && *end) {
		switch (*end) {
		case 'k':
		case 'K':
			shift = 10;
			break;
		case 'm':
		case 'M':
			shift = 20;
			break;
		case 'g':
		case 'G':
			shift = 30;
			break;
		default:
			goto bad;
		}
		end++;
		if (*end == 'i' && end[1] == 'B')
			end += 2;
		else if (*end == 'B')
			end++;
		if (v > (ULLONG_MAX >> shift)) {
			errno = ERANGE;
			goto bad;
		}
		v <<= shift;
	}
	if (*end)
		goto bad;
	if (v < min || v > max) {
		cli_error("invalid %s '%s' (want %llu to %llu)", name, arg,
			  (unsigned long long)min, (unsigned long long)max);
		return -1;
	}
	*out = v;
	return 0;
bad:
	cli_error("invalid %s '%s'%s%s", name, arg ? arg : "",
		  errno == ERANGE ? ": " : "",
		  errno == ERANGE ? strerror(ERANGE) : "");
	return -1;
}

int cli_parse_u64(const char *name, const char *arg, __u64 min, __u64 max,
		  __u64 *out)
{
	return parse_num(name, arg, min, max, out, false);
}

int cli_parse_uint(const char *name, const char *arg, unsigned int min,
		   unsigned int max, unsigned int *out)
{
	__u64 v;

	if (parse_num(name, arg, min, max, &v, false))
		return -1;
	*out = (unsigned int)v;
	return 0;
}

int cli_parse_size(const char *name, const char *arg, __u64 min, __u64 max,
		   __u64 *out)
{
	return parse_num(name, arg, min, max, out, true);
}

double cli_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

void cli_stats_init(struct cli_stats *s)
{
	memset(s, 0, sizeof(*s));
	s->start = cli_now();
}

void cli_stats_add_link(struct cli_stats *s, const struct sfr_link *link)
{
	struct sfr_link_stats ls = { .sz = sizeof(ls) };

	if (sfr_link__stats(link, &ls)) {
		cli_debug("reading the link's counters: %s", strerror(errno));
		return;
	}
	s->scanned += ls.bytes_scanned;
	s->emitted += ls.bytes_emitted;
}

void cli_stats_method(struct cli_stats *s, enum cli_method m)
{
	if (m == CLI_METHOD_SFR)
		s->files_sfr++;
	else if (m == CLI_METHOD_USER)
		s->files_user++;
}

void cli_stats_print(const struct cli_stats *s)
{
	double secs = cli_now() - s->start;
	const char *method;
	char how[128] = "", user[64];

	snprintf(user, sizeof(user), "user space (pread, %u threads)",
		 s->user_threads);
	if (s->files_sfr && s->files_user)
		method = "mixed: sfr and user space";
	else if (s->files_sfr)
		method = "sfr (BPF program in the kernel read path)";
	else if (s->files_user)
		method = s->user_threads > 1 ? user : "user space (read)";
	else
		method = "none (no input was read)";
	if (s->files_sfr)
		snprintf(how, sizeof(how), ", %u window%s per file%s",
			 s->windows, s->windows == 1 ? "" : "s",
			 s->uring && s->windows > 1 ? " through one io_uring" : "");
	if (s->files_sfr && s->files_user && s->user_threads > 1)
		snprintf(how + strlen(how), sizeof(how) - strlen(how),
			 ", %u threads in user space", s->user_threads);
	fprintf(stderr, "%s: stats: method: %s%s\n", prog_name, method, how);
	fprintf(stderr, "%s: stats: files: %u by sfr, %u in user space",
		prog_name, s->files_sfr, s->files_user);
	if (s->files_small)
		fprintf(stderr, " (%u below --offload-min %llu bytes)",
			s->files_small, (unsigned long long)offload_min);
	fputc('\n', stderr);
	if (s->load_secs > 0)
		fprintf(stderr, "%s: stats: program load: %.6f s\n", prog_name,
			s->load_secs);
	fprintf(stderr, "%s: stats: bytes scanned: %llu\n", prog_name,
		(unsigned long long)s->scanned);
	fprintf(stderr, "%s: stats: bytes copied to user space: %llu", prog_name,
		(unsigned long long)s->copied);
	if (s->files_sfr)
		fprintf(stderr, " (%llu emitted by the program)",
			(unsigned long long)s->emitted);
	fputc('\n', stderr);
	fprintf(stderr, "%s: stats: wall time: %.6f s\n", prog_name, secs);
	if (secs > 0 && s->scanned)
		fprintf(stderr, "%s: stats: throughput: %.1f MB/s\n", prog_name,
			s->scanned / secs / 1e6);
}

bool cli_sfr_available(void)
{
	static int known = -1;
	int err;

	if (known >= 0)
		return known;
	err = sfr_probe();
	known = !err;
	if (err == -EOPNOTSUPP)
		cli_notice("this kernel has no sfr: computing in user space");
	else if (err == -EPERM)
		cli_notice("loading BPF programs needs CAP_BPF: computing in user space");
	else if (err)
		cli_notice("probing for sfr failed (%s): computing in user space",
			   strerror(-err));
	return known;
}

int cli_offload_min_init(const char *arg, __u64 dflt)
{
	const char *name = "--offload-min";

	if (!arg) {
		arg = getenv("SFR_OFFLOAD_MIN");
		name = "SFR_OFFLOAD_MIN";
	}
	if (!arg) {
		offload_min = dflt;
		return 0;
	}
	return cli_parse_size(name, arg, 0, 1ULL << 50, &offload_min);
}

__u64 cli_offload_min(void)
{
	return offload_min;
}

bool cli_want_sfr(enum cli_mode mode, const struct stat *st, const char *path,
		  int (*load)(const void *arg), const void *arg,
		  struct cli_stats *stats)
{
	static bool broken;	/* no sfr, or the program does not load */
	double t0;
	int err;

	if (mode == CLI_MODE_USER || broken)
		return false;
	if (!S_ISREG(st->st_mode) || !strcmp(path, "-"))
		return false;
	if (!cli_sfr_available()) {
		broken = true;
		return false;
	}
	if ((__u64)st->st_size < offload_min) {
		cli_debug("%s: %lld bytes, below --offload-min %llu: user space",
			  path, (long long)st->st_size,
			  (unsigned long long)offload_min);
		stats->files_small++;
		return false;
	}
	t0 = cli_now();
	err = load(arg);
	stats->load_secs += cli_now() - t0;
	if (err) {
		cli_notice("cannot load the BPF program (%s): computing in user space%s",
			   strerror(-err),
			   cli_debug_on() ? "" : " (--debug says more)");
		broken = true;
		return false;
	}
	return true;
}

void cli_fallback_notice(const char *file, int err)
{
	const char *why;

	switch (err) {
	case EOPNOTSUPP:
		why = "the file system does not take sfr programs";
		break;
	case EPERM:
		why = "attaching needs CAP_BPF";
		break;
	default:
		why = strerror(err);
		break;
	}
	cli_notice("%s: %s: computing in user space", file, why);
}

const char *cli_input_name(const char *path)
{
	return strcmp(path, "-") ? path : "(standard input)";
}

int cli_open_input(const char *path, struct stat *st)
{
	const char *name = cli_input_name(path);
	int fd, err;

	if (!strcmp(path, "-"))
		fd = STDIN_FILENO;
	else
		fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		err = errno;
		goto fail;
	}
	if (fstat(fd, st)) {
		err = errno;
		cli_close_input(fd);
		goto fail;
	}
	if (S_ISDIR(st->st_mode)) {
		err = EISDIR;
		cli_close_input(fd);
		goto fail;
	}
	return fd;
fail:
	cli_error("%s: %s", name, strerror(err));
	errno = err;
	return -1;
}

void cli_close_input(int fd)
{
	if (fd > STDIN_FILENO)
		close(fd);
}

ssize_t cli_read_full(int fd, void *buf, size_t len, off_t off)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = off < 0 ? read(fd, (char *)buf + got, len - got) :
			    pread(fd, (char *)buf + got, len - got, off + got);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			break;
		got += n;
	}
	return got;
}

ssize_t cli_read(int fd, void *buf, size_t len, struct cli_stats *s)
{
	ssize_t n = cli_read_full(fd, buf, len, -1);

	if (n > 0 && s)
		s->copied += n;
	return n;
}

void cli_progress_begin(struct cli_progress *p, const char *name,
			bool allow_tty_stdout)
{
	memset(p, 0, sizeof(*p));
	p->on = isatty(STDERR_FILENO) && !debug &&
		(allow_tty_stdout || !isatty(STDOUT_FILENO));
	p->name = name;
	p->start = p->on ? cli_now() : 0;
}

void cli_progress_update(struct cli_progress *p, __u64 done, __u64 total)
{
	double now;

	if (!p->on || !total)
		return;
	now = cli_now();
	if (now - p->start < 1.0 || now - p->last < 0.25)
		return;
	p->last = now;
	p->shown = true;
	fprintf(stderr, "\r%s: %s %3u%%\033[K", prog_name, p->name,
		(unsigned int)(done >= total ? 100 : done * 100 / total));
}

void cli_progress_end(struct cli_progress *p)
{
	if (p->shown)
		fputs("\r\033[K", stderr);
	p->shown = false;
}
