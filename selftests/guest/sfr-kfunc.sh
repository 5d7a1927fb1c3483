#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The scan kfuncs (find, rfind and count a byte, find a string, the decimal
# fold) on every chunk of random text files, against plain C, on each file
# system in SFR_DIRS (sfr_kfunc.c, kselftest harness).
set -euo pipefail
bin=${SFR_TEST_OUT:-$(cd "$(dirname "$0")/.." && pwd)/.output}/sfr_kfunc
[[ -x $bin ]] || { echo "missing $bin: make -C selftests KDIR=..."; exit 1; }
fail=0
for dir in ${SFR_DIRS:-/mnt/data /tmp}; do
	echo "# $dir: $(findmnt -no FSTYPE -T "$dir")"
	SFR_DIR=$dir "$bin" || fail=1
done
exit $fail
