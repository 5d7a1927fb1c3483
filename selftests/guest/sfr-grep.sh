#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# An emitting filter (lines containing a fixed string) returns exactly
# grep -F's lines, on ext4 and tmpfs, as one request and as record-aligned
# windows, with a large buffer and with small buffers that force resumable
# partial results (their concatenation must equal grep's output).
set -euo pipefail
T=$SFR_TEST_OUT/sfr_test
fail=0

gen() { # SEED LINES
	awk -v seed="$1" -v n="$2" 'BEGIN {
		srand(seed);
		split("alpha beta gamma delta needle haystack sfr kernel folio page", w, " ");
		for (i = 0; i < n; i++) {
			k = int(rand() * 12); line = "";
			for (j = 0; j < k; j++) line = line (j ? " " : "") w[1 + int(rand() * 10)];
			print line;
		}
	}'
}

for dir in ${SFR_DIRS:-/mnt/data /tmp}; do
	fs=$(findmnt -no FSTYPE -T $dir)
	f=$dir/grep.txt
	gen 7 60000 >"$f"
	printf 'last needle line without newline' >>"$f"
	for pat in needle "a b" "folio page" "kernel kernel" zzz; do
		grep -F -- "$pat" "$f" >/tmp/want || true
		for w in 1 3 7; do
			for b in 4096 65536 1048576; do
				"$T" grep -w $w -b $b -- "$pat" "$f" >/tmp/got || { echo "FAIL: exit status"; fail=1; }
				if ! cmp -s /tmp/want /tmp/got; then
					echo "FAIL $fs pattern '$pat' windows $w buffer $b: $(wc -l </tmp/got) lines, want $(wc -l </tmp/want)"
					fail=1
				fi
			done
		done
		echo "$fs '$pat': $(wc -l </tmp/want) lines ok"
	done
	rm -f "$f"
done
exit $fail
