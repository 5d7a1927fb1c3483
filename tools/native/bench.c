// SPDX-License-Identifier: GPL-2.0
/*
 * Native proxy benchmark of kernel/bpf/sfr_scan.c (the kernel's own file,
 * built as user space code with the kernel's flags) against glibc and the
 * user space parser, on data in memory. Prints markdown table rows:
 *
 *   | primitive | data | size | implementation | wall best | wall median |
 *   CPU best | vs | cpu share |
 *
 * in GB/s: "wall best" is the fastest of the runs by the clock, "wall
 * median" their median, "CPU best" the fastest by the thread's CPU time
 * (what the code does per second of a core it has, whatever else runs on
 * the machine); "vs" compares CPU best with the first (baseline) row of
 * the same primitive and size.
 * Every result is checked against the baseline's answer (and the decimal
 * fold against sfr_fx_feed_buf()); a mismatch is an error (exit 1).
 *
 * The last column is the thread's CPU time over wall time, averaged over
 * the runs: below 100% the core was shared with other work (time slicing;
 * a busy sibling hyperthread does not show there).
 *
 * Usage: bench [-r RUNS] [-m MIB] TEXT NUMBERS
 *   TEXT     a text file (tools/gen/sfr-gen text), NUMBERS a numbers file
 *   -r RUNS  timed runs per row (default 5)
 *   -m MIB   the small size, a prefix of each file (default 16); the
 *            whole files are the large size
 * Extra output on stderr, for the script: "count BYTES: N" for each size,
 * N the lines with "needle" in the first BYTES of TEXT (grep -c), and
 * "lines BYTES: GB/s", the best lines-with-needle row of that size (CPU).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <linux/sfr_scan.h>

static int runs = 5;
static int have_avx2;

static double clock_s(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static double now(void)
{
	return clock_s(CLOCK_MONOTONIC);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* A file into anonymous (huge page) memory, NUL-terminated. */
static u8 *load(const char *path, size_t *len)
{
	struct stat sb;
	size_t got = 0, cap;
	ssize_t n;
	u8 *p;
	int fd;

	fd = open(path, O_RDONLY);
	if (fd < 0 || fstat(fd, &sb)) {
		fprintf(stderr, "bench: %s: %s\n", path, strerror(errno));
		exit(1);
	}
	cap = ((size_t)sb.st_size + 1 + (2 << 20)) & ~(size_t)((2 << 20) - 1);
	p = mmap(NULL, cap, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		 -1, 0);
	if (p == MAP_FAILED) {
		perror("bench: mmap");
		exit(1);
	}
	madvise(p, cap, MADV_HUGEPAGE);
	while (got < (size_t)sb.st_size) {
		n = read(fd, p + got, sb.st_size - got);
		if (n <= 0) {
			fprintf(stderr, "bench: %s: short read\n", path);
			exit(1);
		}
		got += n;
	}
	close(fd);
	p[got] = 0;
	*len = got;
	return p;
}

/* ---- the implementations, each returning its answer as a u64 ---- */

struct job {
	const u8 *p;
	size_t len;
	struct sfr_scan_str str;
	const char *needle;
	struct sfr_fx_cfg cfg;
};

typedef u64 (*impl_fn)(const struct job *j);

static u64 find_sfr_generic(const struct job *j)
{
	return sfr_scan_find_byte_generic(j->p, j->len, '#');
}

static u64 find_sfr_avx2(const struct job *j)
{
	return sfr_scan_find_byte_avx2(j->p, j->len, '#');
}

static u64 find_memchr(const struct job *j)
{
	const u8 *q = memchr(j->p, '#', j->len);

	return q ? (u64)(q - j->p) : j->len;
}

static u64 count_sfr_generic(const struct job *j)
{
	return sfr_scan_count_byte_generic(j->p, j->len, '\n');
}

static u64 count_sfr_avx2(const struct job *j)
{
	return sfr_scan_count_byte_avx2(j->p, j->len, '\n');
}

static u64 count_memchr(const struct job *j)
{
	const u8 *q = j->p, *end = j->p + j->len;
	u64 n = 0;

	while ((q = memchr(q, '\n', end - q))) {
		n++;
		q++;
	}
	return n;
}

static u64 count_loop(const struct job *j)
{
	u64 n = 0;
	size_t i;

	for (i = 0; i < j->len; i++)
		n += j->p[i] == '\n';
	return n;
}

static u64 str_sfr_generic(const struct job *j)
{
	return sfr_scan_find_str_generic(j->p, j->len, &j->str);
}

static u64 str_sfr_twoway(const struct job *j)
{
	return sfr_scan_find_str_twoway(j->p, j->len, &j->str);
}

static u64 str_sfr_avx2(const struct job *j)
{
	return sfr_scan_find_str_avx2(j->p, j->len, &j->str);
}

static u64 str_memmem(const struct job *j)
{
	const u8 *q = memmem(j->p, j->len, j->needle, strlen(j->needle));

	return q ? (u64)(q - j->p) : j->len;
}

static u64 lines_sfr_generic(const struct job *j)
{
	u64 hits = 0;

	sfr_scan_str_lines_generic(j->p, j->len, &j->str, &hits, NULL);
	return hits;
}

static u64 lines_sfr_best(const struct job *j)
{
	u64 hits = 0;

	sfr_scan_str_lines(j->p, j->len, &j->str, &hits, NULL);
	return hits;
}

/* grep's way with libc: memmem, then memchr to the line's end. */
static u64 lines_memmem(const struct job *j)
{
	const u8 *q = j->p, *end, *nl;
	size_t m = strlen(j->needle);
	u64 n = 0;

	/* Complete lines only, as sfr_scan_str_lines() counts. */
	end = memrchr(j->p, '\n', j->len);
	end = end ? end + 1 : j->p;
	while ((q = memmem(q, end - q, j->needle, m))) {
		n++;
		nl = memchr(q, '\n', end - q);
		q = nl + 1;
	}
	return n;
}

/* A decimal fold's answer: the sum's low word and the count, mixed. */
static u64 fx_answer(const struct sfr_fx_state *st)
{
	return st->sum.lo * 31 + st->count * 7 + st->invalid;
}

static u64 fold_feed_buf(const struct job *j)
{
	struct sfr_fx_state st = { 0 };

	sfr_fx_feed_buf(&st, &j->cfg, j->p, j->len);
	sfr_fx_finish(&st, &j->cfg);
	return fx_answer(&st);
}

static u64 fold_sfr(const struct job *j, bool avx2)
{
	struct sfr_fx_state st = { 0 };
	size_t n;

	n = avx2 ? sfr_scan_fold_lines_avx2(j->p, j->len, &j->cfg, &st) :
		   sfr_scan_fold_lines_generic(j->p, j->len, &j->cfg, &st);
	sfr_fx_feed_buf(&st, &j->cfg, j->p + n, j->len - n);
	sfr_fx_finish(&st, &j->cfg);
	return fx_answer(&st);
}

static u64 fold_sfr_generic(const struct job *j)
{
	return fold_sfr(j, false);
}

static u64 fold_sfr_avx2(const struct job *j)
{
	return fold_sfr(j, true);
}

/*
 * strtoll() per line, for the integer and the fraction digits, at scale 6,
 * for this data only (no blanks, at most 6 decimals, every line a number).
 */
static u64 fold_strtoll(const struct job *j)
{
	static const long long p10[7] = { 1000000, 100000, 10000, 1000, 100,
					  10, 1 };
	const char *q = (const char *)j->p, *end = q + j->len;
	struct sfr_fx_state st = { 0 };
	char *e, *f;
	long long v, fr;
	int neg;

	while (q < end) {
		neg = *q == '-';
		v = strtoll(q, &e, 10);
		if (e == q) {
			st.invalid++;
		} else {
			v *= 1000000;
			if (*e == '.') {
				fr = strtoll(e + 1, &f, 10);
				if (f - e - 1 <= 6)
					v += (neg ? -fr : fr) * p10[f - e - 1];
				e = f;
			}
			sfr_fx_account(&st, SFR_FX_VALUE, v);
		}
		while (e < end && *e != '\n')
			e++;
		q = e + 1;
	}
	return fx_answer(&st);
}

/* ---- timing ---- */

struct impl {
	const char *name;
	impl_fn fn;
	bool avx2;
};

/* Returns the best GB/s of all the rows. */
static double row(const char *prim, const char *data, const char *size,
		  size_t len,
		const struct impl *impls, size_t n, const struct job *j,
		size_t reps)
{
	double t[64], cpu[64], best_base = 0, top = 0;
	u64 want = 0, got;
	size_t i, r;
	int k;

	for (i = 0; i < n; i++) {
		if (impls[i].avx2 && !have_avx2)
			continue;
		for (k = 0; k < runs; k++) {
			double t0 = now(), c0 = clock_s(CLOCK_THREAD_CPUTIME_ID);

			got = 0;
			for (r = 0; r < reps; r++)
				got += impls[i].fn(j);
			t[k] = now() - t0;
			cpu[k] = clock_s(CLOCK_THREAD_CPUTIME_ID) - c0;
			if (!i && !k)
				want = got;
			if (got != want) {
				fprintf(stderr,
					"bench: %s %s: %s answered %llu, %s %llu\n",
					prim, data, impls[i].name,
					(unsigned long long)got, impls[0].name,
					(unsigned long long)want);
				exit(1);
			}
		}
		{
			double gb = (double)len * reps / 1e9, best, med, bcpu;
			double share = 0;

			/* CPU share of the run: below 100% the core was shared. */
			for (k = 0; k < runs; k++)
				share += cpu[k] / t[k] / runs;
			qsort(t, runs, sizeof(t[0]), cmp_double);
			qsort(cpu, runs, sizeof(cpu[0]), cmp_double);
			best = gb / t[0];
			med = gb / t[runs / 2];
			bcpu = gb / cpu[0];
			if (!i)
				best_base = bcpu;
			if (bcpu > top)
				top = bcpu;
			printf("| %s | %s | %s | %s | %.2f | %.2f | %.2f | %.2fx | %.0f%% |\n",
			       prim, data, size, impls[i].name, best, med, bcpu,
			       bcpu / best_base, 100 * share);
		}
		fflush(stdout);
	}
	return top;
}

static const char *size_name(size_t len)
{
	static char buf[2][32];
	static int k;
	char *b = buf[k++ & 1];

	if (len % (1 << 30) == 0)
		snprintf(b, 32, "%zu GiB", len >> 30);
	else if (len % (1 << 20) == 0)
		snprintf(b, 32, "%zu MiB", len >> 20);
	else
		snprintf(b, 32, "%.1f MiB", len / 1048576.0);
	return b;
}

/* Length of the complete lines of @p[0, len). */
static size_t rfind_nl(const u8 *p, size_t len)
{
	const u8 *nl = memrchr(p, '\n', len);

	return nl ? (size_t)(nl - p) + 1 : len;
}

/* grep -c needle of [p, p + len), a last line without '\n' included. */
static u64 grep_c(const u8 *p, size_t len)
{
	struct sfr_scan_str str;
	u64 hits = 0;
	size_t s;

	sfr_scan_str_init(&str, (const u8 *)"needle", 6);
	s = sfr_scan_str_lines(p, len, &str, &hits, NULL);
	if (s < len && memmem(p + s, len - s, "needle", 6))
		hits++;
	return hits;
}

static void table(const u8 *text, size_t tlen, const u8 *num, size_t nlen,
		  const char *size)
{
	static const struct impl find[] = {
		{ "glibc memchr (absent byte)", find_memchr },
		{ "sfr generic (SWAR)", find_sfr_generic },
		{ "sfr AVX2", find_sfr_avx2, true },
	};
	static const struct impl count[] = {
		{ "memchr loop", count_memchr },
		{ "byte loop (gcc -O2)", count_loop },
		{ "sfr generic (SWAR)", count_sfr_generic },
		{ "sfr AVX2", count_sfr_avx2, true },
	};
	static const struct impl str[] = {
		{ "glibc memmem", str_memmem },
		{ "sfr Two-Way only", str_sfr_twoway },
		{ "sfr generic (SWAR filter)", str_sfr_generic },
		{ "sfr AVX2 filter", str_sfr_avx2, true },
	};
	static const struct impl lines[] = {
		{ "memmem + memchr", lines_memmem },
		{ "sfr generic", lines_sfr_generic },
		{ "sfr dispatch (AVX2)", lines_sfr_best, true },
	};
	static const struct impl fold[] = {
		{ "sfr_fx_feed_buf (--no-offload)", fold_feed_buf },
		{ "strtoll loop", fold_strtoll },
		{ "sfr generic (SWAR masks)", fold_sfr_generic },
		{ "sfr AVX2 masks", fold_sfr_avx2, true },
	};
	struct job j = { 0 };
	/* Repeat small sizes to about 1 GiB per run. */
	size_t rt = tlen < (256 << 20) ? ((size_t)1 << 30) / tlen : 1;
	size_t rn = nlen < (256 << 20) ? ((size_t)1 << 30) / nlen : 1;

#define N(a) (sizeof(a) / sizeof((a)[0]))
	j.p = text;
	j.len = tlen;
	row("find byte", "text", size, tlen, find, N(find), &j, rt);
	row("count '\\n'", "text", size, tlen, count, N(count), &j, rt);
	j.needle = "zebraxq";
	sfr_scan_str_init(&j.str, (const u8 *)j.needle, strlen(j.needle));
	row("find string (absent \"zebraxq\")", "text", size, tlen, str, N(str), &j,
	    rt);
	j.needle = "needle";
	sfr_scan_str_init(&j.str, (const u8 *)j.needle, strlen(j.needle));
	fprintf(stderr, "lines %zu: %.2f\n", tlen,
		row("lines with \"needle\" (grep -c)", "text", size, tlen, lines,
		    N(lines), &j, rt));
	j.p = num;
	j.len = nlen;
	j.cfg.scale = 6;
	row("decimal fold (scale 6)", "numbers", size, nlen, fold, N(fold), &j, rn);
}

int main(int argc, char **argv)
{
	size_t tlen, nlen, small = 16;
	u8 *text, *num;
	int opt;

	while ((opt = getopt(argc, argv, "r:m:h")) != -1) {
		switch (opt) {
		case 'r':
			runs = atoi(optarg);
			break;
		case 'm':
			small = strtoul(optarg, NULL, 10);
			break;
		case 'h':
		default:
			fprintf(stderr, "usage: bench [-r RUNS] [-m MIB] TEXT NUMBERS\n");
			return opt == 'h' ? 0 : 2;
		}
	}
	if (argc - optind != 2 || runs < 1 || runs > 64 || !small) {
		fprintf(stderr, "usage: bench [-r RUNS] [-m MIB] TEXT NUMBERS\n");
		return 2;
	}
	have_avx2 = __builtin_cpu_supports("avx2");
	text = load(argv[optind], &tlen);
	num = load(argv[optind + 1], &nlen);

	/* The text's answers for the grep tools (grep -c counts a last line). */
	if ((small << 20) < tlen && (small << 20) < nlen)
		fprintf(stderr, "count %zu: %llu\n", rfind_nl(text, small << 20),
			(unsigned long long)grep_c(text, rfind_nl(text, small << 20)));
	fprintf(stderr, "count %zu: %llu\n", tlen,
		(unsigned long long)grep_c(text, tlen));

	printf("| primitive | data | size | implementation | wall best GB/s | wall median GB/s | CPU best GB/s | vs first row (CPU) | cpu share |\n");
	printf("|---|---|---|---|---:|---:|---:|---:|---:|\n");
	if ((small << 20) < tlen && (small << 20) < nlen) {
		/* Prefixes cut after a '\n', so no parser runs past them. */
		size_t ts = rfind_nl(text, small << 20);
		size_t ns = rfind_nl(num, small << 20);

		table(text, ts, num, ns, size_name(small << 20));
	}
	table(text, tlen, num, nlen, size_name(tlen));
	return 0;
}
