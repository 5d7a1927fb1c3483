#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# tools/vm passes the command's output through unchanged (no CR added) and
# exits with the command's exit status; arguments keep their spaces; the
# command runs in the caller's directory.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
rc=0
out=$("$root/tools/vm" -t 240 -- sh -c 'printf "%s|%s\n" "$1" "$(pwd)"; exit 7' sh 'a  b') || rc=$?
printf 'got: %q, status %s\n' "$out" "$rc"
[[ $rc == 7 ]] || { echo "status $rc, want 7"; exit 1; }
[[ $out == "a  b|$root" ]] || { echo "output differs"; exit 1; }
