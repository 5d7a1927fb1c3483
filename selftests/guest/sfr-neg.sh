#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Verifier rejections (exact messages), attach refusals and closed bypasses
# (errnos), SFR_STOP, link info/fdinfo/update, and detach/close races, on
# ext4 and tmpfs. The runner also fails the test on a kernel splat.
set -euo pipefail
fail=0
for dir in /mnt/data /tmp; do
	echo "# $(findmnt -no FSTYPE -T $dir)"
	"$SFR_TEST_OUT/sfr_neg" $dir || fail=1
done
exit $fail
