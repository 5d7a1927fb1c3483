#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# libsfr error paths on the host kernel (which has no sfr): probe message,
# NULL/unloaded/bad programs, bad fds, opts with an unknown tail, NULL
# links; then the same under valgrind (no leak, no invalid access).
set -euo pipefail
T=$(dirname "$0")/../.output/lib_test
"$T" host
valgrind -q --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite,indirect \
	"$T" host >/dev/null
echo "# valgrind clean"
