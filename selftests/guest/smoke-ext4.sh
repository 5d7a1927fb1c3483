#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The data disk is an ext4 file system mounted read-write at /mnt/data, and
# a file written there reads back identical after the page cache is dropped
# (so the bytes really came from the disk). tmpfs gets the same check.
set -euo pipefail
mnt=/mnt/data
mountpoint -q $mnt || { echo "$mnt is not mounted (no -d disk?)"; exit 1; }
fs=$(findmnt -no FSTYPE $mnt)
[[ $fs == ext4 ]] || { echo "$mnt is $fs, not ext4"; exit 1; }
findmnt -no OPTIONS $mnt | grep -qw rw || { echo "$mnt is not read-write"; exit 1; }

src=/tmp/smoke-src
head -c $((8 * 1024 * 1024 + 4097)) /dev/urandom >$src
want=$(sha256sum <$src)
for dir in $mnt /dev/shm; do
	cp $src $dir/smoke-copy
	sync
	echo 3 >/proc/sys/vm/drop_caches
	got=$(sha256sum <$dir/smoke-copy)
	[[ $got == "$want" ]] || { echo "$dir: read back differs"; exit 1; }
	cmp -s $src $dir/smoke-copy || { echo "$dir: cmp differs"; exit 1; }
	rm $dir/smoke-copy
	echo "$dir ($(findmnt -no FSTYPE -T $dir)): 8 MiB + 4097 bytes read back identical"
done
rm $src
