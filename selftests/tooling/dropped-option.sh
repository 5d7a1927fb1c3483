#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# A fragment option that olddefconfig drops (unmet dependency) is an error
# that names the option.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp "$root/Kconfig.fragment" "$tmp/frag"
# Depends on NFS_FS, which the fragment leaves off.
echo "CONFIG_NFS_V4=y" >>"$tmp/frag"
rc=0
"$root/tools/build-kernel" -c -f "$tmp/frag" >"$tmp/out" 2>&1 || rc=$?
cat "$tmp/out"
[[ $rc != 0 ]] || { echo "build-kernel accepted a dropped option"; exit 1; }
grep -q 'CONFIG_NFS_V4=y (got: unset)' "$tmp/out" ||
	{ echo "message does not name the dropped option"; exit 1; }
grep -q '1 option(s) of frag did not survive olddefconfig' "$tmp/out" ||
	{ echo "message does not say what happened"; exit 1; }
