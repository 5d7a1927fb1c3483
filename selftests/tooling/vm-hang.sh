#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# A guest that hangs past the timeout is killed and reported (255).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
out=$(mktemp)
trap 'rm -f "$out"' EXIT
rc=0
timeout 300 "$root/tools/vm" -t 45 -- sleep 100000 >"$out" 2>&1 || rc=$?
tail -3 "$out"
[[ $rc == 255 ]] || { echo "tools/vm exited $rc, want 255"; exit 1; }
grep -q 'guest timed out after 45 s' "$out" || { echo "no timeout message"; exit 1; }
