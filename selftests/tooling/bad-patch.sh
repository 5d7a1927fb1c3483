#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# A kernel patch that does not apply fails the build, naming the patch.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp "$root"/kernel-patches/* "$tmp"/
cat >"$tmp/9999-sfr-test-bogus-context.patch" <<'PATCH'
From 0000000000000000000000000000000000000000 Mon Sep 17 00:00:00 2001
From: sfr selftest <sfr@localhost>
Subject: [PATCH] selftest: a patch whose context is not in the tree

---
 Makefile | 2 +-
 1 file changed, 1 insertion(+), 1 deletion(-)

diff --git a/Makefile b/Makefile
--- a/Makefile
+++ b/Makefile
@@ -1,3 +1,3 @@
 # this context line is not in the kernel Makefile
-VERSION = 1
+VERSION = 2
 # neither is this one
PATCH
echo "9999-sfr-test-bogus-context.patch" >>"$tmp/series"
rc=0
"$root/tools/build-kernel" -c -p "$tmp" >"$tmp/out" 2>&1 || rc=$?
cat "$tmp/out"
[[ $rc != 0 ]] || { echo "build-kernel succeeded with a bad patch"; exit 1; }
grep -q 'kernel patch 9999-sfr-test-bogus-context.patch does not apply' "$tmp/out" ||
	{ echo "message does not name the patch"; exit 1; }
