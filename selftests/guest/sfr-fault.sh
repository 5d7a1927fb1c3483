#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# sfr reads under fault injection and I/O errors (sfr_fault.c, kselftest
# harness). On every file system in SFR_DIRS: failslab, fail_page_alloc
# and fail_usercopy restricted to the reading task, at random and at every
# fault site once (fail-nth); each read must be exact or fail with a
# documented errno without moving the position. These parts SKIP on a
# kernel without fault injection (the debug kernel, tools/test -D, has
# it). Then an I/O error under a cold read: the data file on a read-only
# ext4 on loop1, whose backing file is on an ext4 on loop0 over tmpfs; the
# lower ext4 is shut down after part of the file was read, so the reads of
# the rest fail with EIO. The runner also fails the test on a kernel splat.
set -euo pipefail

usage() {
	cat <<EOT
Usage: SFR_TEST_OUT=DIR [SFR_DIRS="DIR..."] sfr-fault.sh

Runs \$SFR_TEST_OUT/sfr_fault -f fault on each directory of SFR_DIRS
(default "/mnt/data /tmp"), then -f eio on a stacked loop device set up
here; as root inside the VM: selftests/run-guest sfr-fault.
EOT
}
while getopts "h" opt; do
	case "$opt" in
	h) usage; exit 0 ;;
	*) usage >&2; exit 2 ;;
	esac
done

bin=${SFR_TEST_OUT:-$(cd "$(dirname "$0")/.." && pwd)/.output}/sfr_fault
[[ -x $bin ]] || { echo "missing $bin: make -C selftests KDIR=..."; exit 1; }

# The fault-injection attributes live in debugfs, which the guest does not
# mount by itself.
dbg=/sys/kernel/debug
if [[ -d $dbg ]] && ! mountpoint -q "$dbg"; then
	mount -t debugfs debugfs "$dbg" 2>/dev/null || true
fi
if [[ ! -e $dbg/failslab || ! -e $dbg/fail_page_alloc || ! -e $dbg/fail_usercopy ]]; then
	echo "# no failslab/fail_page_alloc/fail_usercopy in $dbg: the fault-injection tests skip"
fi

fail=0
for dir in ${SFR_DIRS:-/mnt/data /tmp}; do
	if [[ ! -d $dir ]]; then
		echo "# $dir: no such directory, skipped"
		continue
	fi
	echo "# $dir: $(findmnt -no FSTYPE -T "$dir")"
	SFR_DIR=$dir "$bin" -f fault || fail=1
done

# ---- an I/O error in the middle of a cold read -----------------------------
work='' lo0='' lo1=''
cleanup() {
	[[ -n $work ]] || return 0
	mountpoint -q "$work/upper" && umount "$work/upper"
	[[ -n $lo1 ]] && losetup -d "$lo1"
	mountpoint -q "$work/lower" && umount "$work/lower"
	[[ -n $lo0 ]] && losetup -d "$lo0"
	rm -rf "$work"
}
trap cleanup EXIT

# tmpfs file -> loop0 -> ext4 (lower) holding upper.img -> loop1 -> ext4
# (upper, read-only) holding data.txt; a copy of data.txt stays on tmpfs.
eio_setup() {
	local t
	for t in losetup mkfs.ext4 awk; do
		command -v $t >/dev/null || { echo "# no $t"; return 1; }
	done
	work=$(mktemp -d /tmp/sfr-eio.XXXXXX) || return 1
	mkdir "$work/src" "$work/lower" "$work/upper" || return 1
	awk 'BEGIN { srand(11); for (i = 0; i < 260000; i++)
		printf "%d\n", int(rand() * 2000001) - 1000000 }' \
		>"$work/src/data.txt" || return 1
	truncate -s 64M "$work/lower.img" &&
		mkfs.ext4 -q -F "$work/lower.img" || return 1
	lo0=$(losetup -f --show "$work/lower.img") || return 1
	mount "$lo0" "$work/lower" || return 1
	truncate -s 16M "$work/lower/upper.img" &&
		mkfs.ext4 -q -F -d "$work/src" "$work/lower/upper.img" || return 1
	sync
	lo1=$(losetup -f --show -r "$work/lower/upper.img") || return 1
	mount -o ro,noload "$lo1" "$work/upper" || return 1
	cmp -s "$work/src/data.txt" "$work/upper/data.txt" ||
		{ echo "# the stacked ext4 does not hold data.txt"; return 1; }
}

echo "# I/O errors: ext4 (ro) on loop over a file on ext4 on loop over tmpfs, lower ext4 shut down"
if eio_setup; then
	# A plain read leaves the pages cached; the test evicts them.
	SFR_EIO_DATA=$work/upper/data.txt SFR_EIO_REF=$work/src/data.txt \
		SFR_EIO_LOWER=$work/lower "$bin" -f eio || fail=1
else
	echo "not ok - cannot set up the stacked loop devices"
	fail=1
fi
exit $fail
