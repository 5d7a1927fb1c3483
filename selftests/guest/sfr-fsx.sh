#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Randomized operations on a file (pwrite, append, truncate, fallocate,
# mmap and O_DIRECT writes, eviction) while result files of a sum program
# are read concurrently (sfr_fsx.c, kselftest harness), on every file
# system in SFR_DIRS (ext4, xfs, btrfs, tmpfs). Reads during mutation must
# be well-formed frames or documented errors; at quiescent points the file
# must equal the model and whole-file scans the model's reduce. The seed is
# printed: SFR_FSX_SEED=N repeats the operations. SFR_FSX_SECS sets the
# time per file system (default 25). The runner also fails the test on a
# kernel splat.
set -euo pipefail

usage() {
	cat <<EOT
Usage: SFR_TEST_OUT=DIR [SFR_DIRS="DIR..."] [SFR_FSX_SECS=S] [SFR_FSX_SEED=N] sfr-fsx.sh

Runs \$SFR_TEST_OUT/sfr_fsx on each directory of SFR_DIRS (default
"/mnt/data /tmp"); inside the VM: selftests/run-guest sfr-fsx.
EOT
}
while getopts "h" opt; do
	case "$opt" in
	h) usage; exit 0 ;;
	*) usage >&2; exit 2 ;;
	esac
done

bin=${SFR_TEST_OUT:-$(cd "$(dirname "$0")/.." && pwd)/.output}/sfr_fsx
[[ -x $bin ]] || { echo "missing $bin: make -C selftests KDIR=..."; exit 1; }
fail=0
for dir in ${SFR_DIRS:-/mnt/data /tmp}; do
	if [[ ! -d $dir ]]; then
		echo "# $dir: no such directory, skipped"
		continue
	fi
	echo "# $dir: $(findmnt -no FSTYPE -T "$dir")"
	SFR_DIR=$dir "$bin" || fail=1
done
exit $fail
