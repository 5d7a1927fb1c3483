#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# A guest kernel panic makes tools/vm fail (255) and say so, promptly.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
out=$(mktemp)
trap 'rm -f "$out"' EXIT
rc=0
timeout 300 "$root/tools/vm" -t 240 -a "init=/nonexistent/sfr-init" -- true >"$out" 2>&1 || rc=$?
tail -5 "$out"
[[ $rc == 255 ]] || { echo "tools/vm exited $rc, want 255"; exit 1; }
grep -q 'guest kernel panicked: Kernel panic - not syncing: Requested init /nonexistent/sfr-init failed' "$out" ||
	{ echo "no panic message"; exit 1; }
