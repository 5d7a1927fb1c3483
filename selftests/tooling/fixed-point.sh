#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# bpf/sfr_fixed.h on the host: build selftests/host (gcc and clang, and the
# XDP program), run the TAP test natively, then quick runs under valgrind
# and of the clang build. Exit 0 only if every run passes.
set -euo pipefail

usage() {
	cat <<EOT
Usage: $0 [-h] [-v]

Build selftests/host into selftests/host/.output and run fixed_test: the
full run (gcc build), then -q runs under valgrind and of the clang build.
BPF sub-tests print SKIP where BPF cannot be loaded (not root, old kernel).

  -v   show the build commands (V=1)
EOT
}
verbose=
while getopts "hv" opt; do
	case "$opt" in
	h) usage; exit 0 ;;
	v) verbose=1 ;;
	*) usage >&2; exit 2 ;;
	esac
done

root=$(cd "$(dirname "$0")/../.." && pwd)
host=$root/selftests/host
out=$host/.output
make -s -C "$host" ${verbose:+V=1}

rc=0
echo "# fixed_test (gcc)"
"$out/fixed_test" || rc=1
echo "# fixed_test -q (gcc) under valgrind"
valgrind --error-exitcode=1 --leak-check=full -q \
	--suppressions="$host/valgrind.supp" "$out/fixed_test" -q || rc=1
echo "# fixed_test -q (clang)"
"$out/fixed_test.clang" -q || rc=1
exit $rc
