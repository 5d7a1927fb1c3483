#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Regression tests for the kernel review's findings (sfr_review.c,
# kselftest harness) on every file system in SFR_DIRS (ext4, xfs, btrfs,
# tmpfs). The runner also fails the test on a kernel splat.
set -euo pipefail
fail=0
for dir in ${SFR_DIRS:-/mnt/data /tmp}; do
	echo "# $dir: $(findmnt -no FSTYPE -T "$dir")"
	SFR_DIR=$dir "$SFR_TEST_OUT/sfr_review" || fail=1
done
exit $fail
