/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/**
 * @file sfr.h
 * @brief libsfr: attach a filter/reduce BPF program to an open file and read
 * its results.
 *
 * Attaching a program to an open file makes a BPF link and a result file
 * descriptor for it. read(2), pread(2) and io_uring reads of the result
 * descriptor run the program over the file's page cache and return a frame
 * (struct sfr_frame, then the program's scratch state, then the bytes it
 * emitted); the data file descriptor itself keeps reading the file's
 * bytes. libsfr wraps the attach, checks frames, resumes requests whose
 * output did not fit, and scans a whole file as parallel windows.
 *
 * Conventions (those of libbpf 1.0): functions returning int return 0 or a
 * positive count on success and a negative errno on failure, and set errno
 * to the same (positive) value; functions returning a pointer return NULL
 * and set errno. The library prints nothing; see sfr_set_print().
 *
 * BPF programs use SEC("sfr"). Linking libsfr registers that section name
 * with libbpf (libbpf_register_prog_handler()), so skeletons and
 * bpf_object__open() give such programs BPF_PROG_TYPE_SFR before load.
 */
#ifndef __SFR_H
#define __SFR_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>
#include <sys/types.h>
#include <linux/types.h>
#include <linux/sfr.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SFR_API __attribute__((visibility("default")))

struct bpf_program;
struct sfr_link;

/** Levels of the library's log messages. */
enum sfr_print_level {
	SFR_WARN,	/**< something failed; the message says why */
	SFR_INFO,	/**< what the library decided (window size, fallbacks) */
	SFR_DEBUG,	/**< every request */
};

/** Log callback: like vfprintf(); the return value is ignored. */
typedef int (*sfr_print_fn_t)(enum sfr_print_level level, const char *fmt,
			      va_list args);

/**
 * @brief Set the log callback.
 * @param fn the new callback, or NULL to drop all messages (the default)
 * @return the previous callback
 */
SFR_API sfr_print_fn_t sfr_set_print(sfr_print_fn_t fn);

/**
 * @brief Zero an options struct and set its size, then the named fields.
 *
 * Example: SFR_OPTS(sfr_attach_opts, o, .delim = '\n', .windows = 4);
 */
#define SFR_OPTS(TYPE, NAME, ...)					\
	struct TYPE NAME = ({						\
		memset(&NAME, 0, sizeof(struct TYPE));			\
		(struct TYPE) {						\
			.sz = sizeof(struct TYPE),			\
			__VA_ARGS__					\
		};							\
	})

/**
 * @brief Does the running kernel support sfr?
 *
 * Loads a two-instruction BPF_PROG_TYPE_SFR program and closes it.
 * @return 0 if it does; -EOPNOTSUPP if the kernel does not know the
 * program type (boot the sfr kernel: tools/vm); -EPERM without CAP_BPF;
 * another negative errno if bpf(2) failed otherwise.
 */
SFR_API int sfr_probe(void);

/** Options of sfr_attach(). Zero fields take the documented default. */
struct sfr_attach_opts {
	size_t sz;		/**< sizeof(struct sfr_attach_opts) */
	/**
	 * Input bytes per request (a window): a read at offset off covers
	 * the window that contains off, from off on. 0: see @c windows.
	 */
	__u64 window;
	/**
	 * When @c window is 0: split the file's current size into this many
	 * equal windows (0 or 1: the whole file is one window).
	 */
	unsigned int windows;
	/**
	 * Record delimiter byte, e.g. '\n'; 0 for none. With a delimiter a
	 * request skips a record that started before it and finishes the
	 * record it is in at its end, so consecutive windows see every
	 * record exactly once.
	 */
	char delim;
	/** Bytes of per-request scratch state (<= SFR_SCRATCH_MAX). */
	__u32 scratch_size;
	/** Initial scratch state of @c init_len bytes, or NULL for zeroes. */
	const void *init_state;
	__u32 init_len;		/**< <= scratch_size */
	size_t :0;
};
#define sfr_attach_opts__last_field init_len

/**
 * @brief Attach @p prog to the open file @p fd.
 *
 * Creates the BPF link (BPF_LINK_CREATE) and a result file descriptor for
 * it (BPF_ITER_CREATE on the link), both owned by the returned link.
 * Reads of the result descriptor return frames (sfr_read(), sfr_scan(),
 * sfr_link__result_fd()); @p fd is not changed and still reads the file's
 * bytes. A file may have several links at once, also through one @p fd.
 *
 * @param fd a regular file opened for reading
 * @param prog a loaded SEC("sfr") program
 * @param opts options, or NULL for defaults (no delimiter, one window,
 *        no scratch state)
 * @return a link, or NULL with errno set:
 * EINVAL (NULL or unloaded @p prog, bad @p opts, not a regular file, or a
 * program that is not BPF_PROG_TYPE_SFR), E2BIG (@p opts has unknown
 * non-zero fields: a newer caller than this library), EBADF (@p fd is not
 * open or not readable), EISDIR (@p fd is a directory), EOPNOTSUPP (the
 * file system does not take sfr programs, a DAX file, a kernel without
 * sfr, or an sfr kernel whose links make no result files: boot the current
 * sfr kernel), EPERM (needs CAP_BPF), EMFILE/ENFILE (no free descriptor
 * for the link or its result file), ENOMEM.
 */
SFR_API struct sfr_link *sfr_attach(int fd, const struct bpf_program *prog,
				    const struct sfr_attach_opts *opts);

/**
 * @brief Like sfr_attach(), with a program file descriptor.
 * @return as sfr_attach(); EBADF also for a bad @p prog_fd.
 */
SFR_API struct sfr_link *sfr_attach_fd(int fd, int prog_fd,
				       const struct sfr_attach_opts *opts);

/**
 * @brief Close the result and link descriptors of @p link and free it.
 *
 * The kernel frees the link when no other reference is left (a duplicate
 * or pin of the link descriptor, another result descriptor made from it).
 * The data file descriptor stays open and is not affected. NULL is allowed.
 */
SFR_API void sfr_link__destroy(struct sfr_link *link);

/** @brief The BPF link's file descriptor (owned by @p link). */
SFR_API int sfr_link__fd(const struct sfr_link *link);

/**
 * @brief The data file descriptor @p link was attached to (the caller's;
 * it reads the file's bytes, not frames).
 * @return the descriptor, or -EINVAL for a NULL @p link.
 */
SFR_API int sfr_link__data_fd(const struct sfr_link *link);

/**
 * @brief The result file descriptor of @p link (owned by @p link; do not
 * close it).
 *
 * read(2), pread(2), preadv(2) and io_uring reads of it return frames, at
 * data file offsets; its file position advances by each frame's in_len,
 * and lseek(2) works, SEEK_END being the data file's size. Read it with
 * io_uring's IOSQE_ASYNC: such reads always run in io-wq. After
 * bpf_link_detach() on sfr_link__fd() its reads fail with ENOLINK.
 * @return the descriptor, or -EINVAL for a NULL @p link.
 */
SFR_API int sfr_link__result_fd(const struct sfr_link *link);

/** @brief The window size in bytes the link was attached with (0: whole file). */
SFR_API __u64 sfr_link__window(const struct sfr_link *link);

/** Counters the kernel keeps per link (link_info). */
struct sfr_link_stats {
	size_t sz;		/**< sizeof(struct sfr_link_stats) */
	__u64 bytes_scanned;	/**< file bytes the program ran over */
	__u64 bytes_emitted;	/**< bytes of records emitted */
	__u64 runs;		/**< program runs */
	size_t :0;
};

/**
 * @brief Read the kernel's counters of @p link.
 * @return 0, or -EINVAL (NULL or too small @p stats), -E2BIG (a bigger
 * @p stats with non-zero unknown fields), or the errno of
 * BPF_OBJ_GET_INFO_BY_FD.
 */
SFR_API int sfr_link__stats(const struct sfr_link *link,
			    struct sfr_link_stats *stats);

/** The result of one sfr_read(). Pointers point into the caller's buffer. */
struct sfr_reply {
	__u64 in_off;		/**< file offset the request started at */
	__u64 in_len;		/**< input bytes consumed */
	__u32 flags;		/**< SFR_FRAME_EOF, _STOP, _FULL */
	__u32 state_len;	/**< bytes at @c state */
	const void *state;	/**< the program's scratch state */
	const void *out;	/**< emitted bytes */
	size_t out_len;		/**< bytes at @c out */
	/** SFR_FRAME_FULL was set: call sfr_read() again at @c next_off. */
	bool more;
	__u64 next_off;		/**< in_off + in_len */
};

/**
 * @brief Run one request: pread() of the link's result descriptor for the
 * window containing @p off, from @p off on, and check the frame it returns.
 *
 * When the output did not fit in @p buf the kernel stops at a record
 * boundary: @c reply->more is then true and the rest of the window is read
 * by calling again at @c reply->next_off (with a fresh scratch state, so
 * fold states as for separate windows). At or past end of file the reply
 * is empty with SFR_FRAME_EOF set and 0 is returned.
 *
 * @param buf receives the frame; at least sizeof(struct sfr_frame) plus
 *        the scratch size, plus room for emitted records
 * @return bytes placed in @p buf, or a negative errno: EINVAL (NULL
 * argument, @p buf too small for the frame header and state), EMSGSIZE (one
 * record's output does not fit in @p buf: use a bigger buffer), ENOLINK
 * (the link was detached with bpf_link_detach()), EPROTO (the read did not
 * return a valid frame), or the errno of pread(2).
 */
SFR_API ssize_t sfr_read(struct sfr_link *link, __u64 off, void *buf,
			 size_t len, struct sfr_reply *reply);

/**
 * Called once per frame, in file order, with the frame's scratch state.
 * Return 0 to go on, a positive value to end the scan early (sfr_scan()
 * then returns 0), a negative errno to fail it.
 */
typedef int (*sfr_combine_fn)(const void *state, size_t state_len,
			      void *ctx);
/** Called with emitted bytes in file order; returns as sfr_combine_fn. */
typedef int (*sfr_output_fn)(const void *out, size_t len, void *ctx);
/** Progress: @p done of @p total input bytes are scanned. */
typedef void (*sfr_progress_fn)(__u64 done, __u64 total, void *ctx);

/** Options of sfr_scan(). */
struct sfr_scan_opts {
	size_t sz;		/**< sizeof(struct sfr_scan_opts) */
	/** Output buffer per request; default 64 KiB, at least 4 KiB. */
	size_t buf_size;
	/** Requests in flight at once; default: all windows, at most 256. */
	unsigned int depth;
	sfr_combine_fn combine;	/**< fold of the states, or NULL */
	sfr_output_fn output;	/**< emitted bytes, or NULL to drop them */
	sfr_progress_fn progress; /**< or NULL */
	void *ctx;		/**< passed to the callbacks */
	/**
	 * Use pread() one window at a time instead of io_uring (also what
	 * happens, with an SFR_INFO message, when io_uring cannot be set up).
	 */
	bool no_uring;
	/**
	 * Threads issuing requests; 0: one per online CPU (at most @c depth).
	 * With 1, all requests go through one io_uring, submitted with
	 * IOSQE_ASYNC (io-wq then runs them with one or two workers, mostly
	 * one after another: a scan never sleeps); with more, each
	 * thread issues pread() requests.
	 */
	unsigned int threads;
	size_t :0;
};
#define sfr_scan_opts__last_field threads

/**
 * @brief Scan the whole file of @p link: issue one request per window, up
 * to @c depth at once from @c threads threads (one per CPU by default), so
 * the kernel runs the program on several CPUs; resume windows whose output
 * filled the buffer; hand the states to @c combine and the emitted bytes to
 * @c output in file order, one callback at a time.
 *
 * Because the windows are independent, @c combine must be associative
 * (folding window states left to right must equal one pass). Windows that
 * finish early are held in memory until the windows before them are done.
 * A program returning SFR_STOP ends its own window only.
 *
 * A callback returning a positive value ends the scan: no callback runs
 * after it.
 *
 * The file size comes from fstat() of the data file descriptor, which must
 * therefore stay open; the requests read the result descriptor.
 *
 * @return 0, or a negative errno: EINVAL (NULL @p link, bad @p opts, more
 * than 2^20 windows), E2BIG (unknown non-zero @p opts fields), ENOMEM,
 * ENOLINK (the link was detached with bpf_link_detach()), EPROTO (a read
 * did not return a valid frame), EMSGSIZE (a record's output does not fit
 * in @c buf_size), EBADF (the data file descriptor is closed), the
 * negative value a callback returned, or the errno of fstat(),
 * io_uring_submit() or a read. Requests in flight are reaped
 * before returning; only if waiting for a completion itself fails are their
 * buffers leaked rather than reused.
 */
SFR_API int sfr_scan(struct sfr_link *link, const struct sfr_scan_opts *opts);

/**
 * @brief Split @p size bytes into @p n windows: the window size to pass as
 * sfr_attach_opts.window (ceil(size / n), at least 1; 0 when n <= 1).
 */
SFR_API __u64 sfr_window_size(__u64 size, unsigned int n);

#ifdef __cplusplus
}
#endif

#endif /* __SFR_H */
