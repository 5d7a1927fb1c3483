#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# sfr under load and at its limits (sfr_load.c, kselftest harness) on the
# file systems in SFR_DIRS: 256 concurrent io_uring windows, 200 links on
# 151 files and a sparse file past 4 GiB everywhere (read in full on
# tmpfs, around 4 GiB elsewhere); the no-leak loop on tmpfs and ext4 (the
# two page-cache paths, shmem and filemap; xfs and btrfs move the global
# slab counters by more than its bound); attach/detach races and the
# long-running program (latency, fatal and other signals) on tmpfs only,
# where they do not depend on the file system. After each test the fds,
# BPF links and programs must be back where they started and the data
# files released. The runner also fails the test on a kernel splat.
set -euo pipefail
bin=${SFR_TEST_OUT:-$(cd "$(dirname "$0")/.." && pwd)/.output}/sfr_load
[[ -x $bin && -f ${bin%/*}/sfr_load.bpf.o ]] ||
	{ echo "missing $bin or sfr_load.bpf.o: make -C selftests KDIR=..."; exit 1; }
# Interpreted BPF (tools/test -D, KASAN kernel) is several times slower:
# the sparse file around 4 GiB only, fewer cycles, shorter races.
if [[ $(cat /proc/sys/net/core/bpf_jit_enable 2>/dev/null) == 0 ]]; then
	export SFR_LOAD_SPARSE=${SFR_LOAD_SPARSE:-bounded}
	export SFR_LOAD_CYCLES=${SFR_LOAD_CYCLES:-300} SFR_LOAD_SECS=${SFR_LOAD_SECS:-5}
fi
# KASAN's quarantine holds freed objects: slab counts mean nothing there.
if dmesg 2>/dev/null | grep -q KernelAddressSanitizer; then
	export SFR_LOAD_MEM_CHECK=${SFR_LOAD_MEM_CHECK:-0}
fi
fail=0
for dir in ${SFR_DIRS:-/mnt/data /tmp}; do
	fs=$(findmnt -no FSTYPE -T "$dir")
	echo "# $dir: $fs"
	tests=(-t uring_256_windows -t many_files -t sparse_4g)
	[[ $fs == tmpfs || $fs == ext4 ]] && tests+=(-t no_leaks)
	[[ $fs == tmpfs ]] && tests+=(-t attach_detach_race -t long_program)
	SFR_DIR=$dir "$bin" "${tests[@]}" || fail=1
done
exit $fail
