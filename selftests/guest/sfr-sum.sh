#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# A reduce program (sum and count of decimal integers, one per line) on ext4
# and tmpfs returns exactly what awk computes, for sizes around page
# boundaries, LF and CRLF, with and without a trailing newline, as one
# request, as 2..64 record-aligned windows through pread, preadv (the
# frame split over two iovecs) and io_uring (all windows in flight, with
# IOSQE_ASYNC and without), as a read() loop, warm and cold cache. The
# frames come from the link's result fd (BPF_ITER_CREATE); the read() loop
# also checks that the data fd's position did not move.
set -euo pipefail
T=$SFR_TEST_OUT/sfr_test
fail=0

# Numbers of 1..9 digits, 30% negative: line ends fall on every offset.
gen() { # SEED SIZE CRLF FILE
	awk -v seed="$1" -v size="$2" -v crlf="$3" 'BEGIN {
		srand(seed); n = 0; eol = crlf ? "\r\n" : "\n";
		while (n <= size) {
			x = int(rand() * 10 ^ (1 + int(rand() * 9)));
			if (rand() < 0.3) x = -x;
			s = sprintf("%d%s", x, eol); printf "%s", s; n += length(s);
		}
	}' >"$4"
	truncate -s "$2" "$4"	# (not head -c: SIGPIPE under pipefail)
}

oracle() {
	awk '/[0-9]/ { s += $1; c++ } END { printf "count=%d sum=%d\n", c, s }' "$1"
}

check() { # FILE DESC ARGS...
	local f=$1 desc=$2 got
	shift 2
	got=$("$T" sum "$@" "$f" 2>&1) || true
	if [[ "$got" != "$want" ]]; then
		echo "FAIL $desc sum $*: got '$got', want '$want'"
		fail=1
	fi
}

for dir in ${SFR_DIRS:-/mnt/data /tmp}; do
	fs=$(findmnt -no FSTYPE -T $dir)
	for size in 0 1 4095 4096 4097 $((1024 * 1024 + 3)); do
		for crlf in 0 1; do
			f=$dir/sum-$size-$crlf.txt
			gen $((size + crlf)) $size $crlf "$f"
			want=$(oracle "$f")
			d="$fs size=$size crlf=$crlf"
			check "$f" "$d"
			check "$f" "$d" -r
			check "$f" "$d" -p
			for w in 2 3 7 64; do
				check "$f" "$d" -w $w
				check "$f" "$d" -w $w -u
			done
			check "$f" "$d" -r -w 7
			check "$f" "$d" -p -w 7
			check "$f" "$d" -U -w 7
			sync
			echo 3 >/proc/sys/vm/drop_caches
			check "$f" "$d cold" -u -w 7
			echo 3 >/proc/sys/vm/drop_caches
			check "$f" "$d cold" -w 3
			rm -f "$f"
		done
		echo "$fs size $size: ok ($want for the CRLF file)"
	done
done

# Windows that end exactly after a newline (16-byte lines, page-multiple
# windows): the record at a window's end belongs to the next window only.
f=/tmp/sum-aligned.txt
awk 'BEGIN { for (i = 0; i < 65536; i++) printf "%015d\n", (i * 7919) % 1000003 - 500000 }' >"$f"
want=$(oracle "$f")
for W in 4096 32768 65536 1048575 1048576; do
	check "$f" "aligned windows $W" -W $W
	check "$f" "aligned windows $W" -W $W -u
done
echo "page-multiple windows ending at a newline: ok ($want)"
rm -f "$f"

# 256 MiB: a ~1 MiB block of LF and CRLF lines (ending in a newline)
# repeated, then a partial block; the oracle is k times awk's answer for
# the block plus awk's answer for the partial block.
blk=/tmp/sum-block.txt
gen 256 $((1024 * 1024)) 0 $blk.lf
awk 'NR % 3 == 0 { $0 = $0 "\r" } { print }' $blk.lf >$blk
read -r bc bs < <(awk '/[0-9]/ { s += $1; c++ } END { printf "%d %d\n", c, s }' $blk)
f=/mnt/data/sum-256m.txt
total=$((256 * 1024 * 1024))
bsz=$(stat -c %s $blk)
k=$((total / bsz))
head -c $((total - k * bsz)) $blk >$blk.part
for i in $(seq $k); do cat $blk; done >"$f"
cat $blk.part >>"$f"
read -r fc fs < <(awk '/[0-9]/ { s += $1; c++ } END { printf "%d %d\n", c, s }' $blk.part)
[[ $(stat -c %s "$f") == "$total" ]] || { echo "FAIL: 256 MiB file has $(stat -c %s "$f") bytes"; exit 1; }
want="count=$((k * bc + fc)) sum=$((k * bs + fs))"
check "$f" "256MiB"
check "$f" "256MiB" -w 7 -u
check "$f" "256MiB" -w 64 -u
check "$f" "256MiB" -w 64 -U
sync
echo 3 >/proc/sys/vm/drop_caches
check "$f" "256MiB cold" -w 64 -u
echo "ext4 size 256 MiB: ok ($want)"
rm -f "$f" $blk $blk.lf $blk.part
exit $fail
