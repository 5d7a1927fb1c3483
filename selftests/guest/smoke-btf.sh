#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The guest kernel exposes its BTF, and it describes this very kernel.
set -euo pipefail
f=/sys/kernel/btf/vmlinux
[[ -s $f ]] || { echo "missing or empty $f"; exit 1; }
# BTF magic 0xeB9F (little endian: 9f eb).
magic=$(od -An -tx1 -N2 "$f" | tr -d ' ')
[[ $magic == 9feb ]] || { echo "bad BTF magic $magic"; exit 1; }
# The BTF must know a type only this kernel version has (bpftool dumps it).
# (No grep -q in the pipe: with pipefail, bpftool's SIGPIPE would fail it.)
n=$(bpftool btf dump file "$f" format raw | grep -c "STRUCT 'folio' size=")
[[ $n -ge 1 ]] ||
	{ echo "vmlinux BTF lacks struct folio"; exit 1; }
echo "BTF: $(stat -c %s "$f") bytes"
