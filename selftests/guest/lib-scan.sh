#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# libsfr on the sfr kernel: attach refusals with their errnos, the result
# fd beside the untouched data fd, two links on one fd, O_DIRECT data fds,
# ENOLINK from sfr_read/sfr_scan after bpf_link_detach; sfr_scan
# (io_uring, all windows in flight) and an sfr_read() loop give the sum and
# count of a plain read() reduce for 1..64 windows, warm and cold cache, and
# that equals awk; sfr_scan of a filter with 4 KiB buffers (forcing
# resumed requests) concatenates to exactly grep -F's output.
set -euo pipefail
T=$SFR_TEST_OUT/lib_test
fail=0

for dir in ${SFR_DIRS:-/mnt/data /tmp}; do
	fs=$(findmnt -no FSTYPE -T $dir)
	"$T" errors $dir || fail=1

	f=$dir/lib-sum.txt
	awk 'BEGIN { srand(11); n = 0;
		while (n < 3 * 1048576) {
			x = int(rand() * 10 ^ (1 + int(rand() * 9)));
			if (rand() < 0.4) x = -x;
			s = sprintf("%d%s", x, rand() < 0.1 ? "\r\n" : "\n");
			printf "%s", s; n += length(s);
		}
		printf "-4242" }' >"$f"
	want=$(awk '/[0-9]/ { s += $1; c++ } END { printf "count=%d sum=%d\n", c, s }' "$f")
	for mode in warm cold; do
		[[ $mode == cold && $fs == tmpfs ]] && continue
		args=()
		[[ $mode == cold ]] && args=(-c)
		if ! got=$("$T" sum "${args[@]}" "$f"); then
			echo "$got"
			echo "FAIL: $fs $mode: scan/read/plain disagree"
			fail=1
		elif [[ $got != "$want" ]]; then
			echo "FAIL: $fs $mode: libsfr '$got', awk '$want'"
			fail=1
		else
			echo "$fs $mode: 1..64 windows scan == sfr_read == plain == awk ($got)"
		fi
	done

	g=$dir/lib-grep.txt
	awk 'BEGIN { srand(5); for (i = 0; i < 40000; i++) {
		k = int(rand() * 9); l = "";
		for (j = 0; j < k; j++) l = l " " substr("needle hay stack sfr folio", 1 + int(rand() * 20), 1 + int(rand() * 8));
		print l } }' >"$g"
	for pat in needle "e s" a; do
		grep -F -- "$pat" "$g" >/tmp/lib-want || true
		for w in 1 2 7 64; do
			"$T" grep -w $w -b 4096 -- "$pat" "$g" >/tmp/lib-got || fail=1
			if ! cmp -s /tmp/lib-want /tmp/lib-got; then
				echo "FAIL: $fs grep '$pat' $w windows: $(wc -l </tmp/lib-got) lines, want $(wc -l </tmp/lib-want)"
				fail=1
			fi
		done
		echo "$fs grep '$pat': $(wc -l </tmp/lib-want) lines, 1/2/7/64 windows ok"
	done
	rm -f "$f" "$g"
done
exit $fail
