#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Verifier rejections (exact messages), attach refusals (errnos), the result
# fd (frames against a C reduce, lseek, independent links, ENOLINK after
# detach, references), the data fd's own semantics after attach (raw bytes
# through read, pread, io_uring, mmap, splice, sendfile, copy_file_range,
# O_DIRECT, a forked child, a loop device, finit_module), SFR_STOP, link
# info/fdinfo/update, and detach/close races, on ext4 and tmpfs. The runner
# also fails the test on a kernel splat.
set -euo pipefail
fail=0
for dir in ${SFR_DIRS:-/mnt/data /tmp}; do
	echo "# $(findmnt -no FSTYPE -T $dir)"
	"$SFR_TEST_OUT/sfr_neg" $dir || fail=1
done
exit $fail
